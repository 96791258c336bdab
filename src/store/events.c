/* Event queries.  Occurrence reads are one statement each, bounded on both sides of the
 * composite (x, starts_at) indexes (see STORE_LONGEST_SQL), and participants for any
 * number of occurrences come in one more: a list costs the same number of queries whatever
 * its length. */
#include "store/events.h"

#include "arena.h"
#include "store/cache.h"
#include "store/internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACCESS_SQL                                                                            \
    "CASE WHEN c.owner_id = $9 THEN 4 ELSE COALESCE((SELECT CASE s.role WHEN 'write' THEN 3"  \
    " WHEN 'read' THEN 2 ELSE 1 END FROM calendar_shares s WHERE s.calendar_id = c.id"        \
    " AND s.user_id = $9), 0) END"
/* Whether the viewer $9 takes part in the event whose id is `ev`. */
#define PARTICIPANT_OF(ev)                                                                    \
    "EXISTS (SELECT 1 FROM event_participants p WHERE p.event_id = " ev " AND p.user_id = $9)"
#define PARTICIPANT_SQL PARTICIPANT_OF("e.id")

/* $9 is the viewer in every occurrence query.  An occurrence carries what listings show of
 * its event (migration 011), so that a listing reads no events row; whether the viewer takes
 * part is `participant`, an expression (an agenda has it in user_instances). */
#define OCCURRENCE_COLUMNS_AS(access, participant)                                            \
    "i.id, i.event_id, i.calendar_id, i.organizer_id, i.recurrence_id, i.starts_at,"          \
    " i.ends_at, i.title, i.location, i.time_zone, i.all_day, i.visibility, i.status,"        \
    " i.room_id, r.name, " access ", " participant ", i.series_id, i.event_version"
#define OCCURRENCE_COLUMNS OCCURRENCE_COLUMNS_AS(ACCESS_SQL, PARTICIPANT_OF("i.event_id"))
#define ROOM_JOIN " LEFT JOIN rooms r ON r.id = i.room_id"
#define OCCURRENCE_JOINS " JOIN calendars c ON c.id = i.calendar_id" ROOM_JOIN
/* An agenda's rows are the viewer's own calendars' events and the events it takes part in.
 * Taking part decides the view alone (core_event_view), so the calendar's access is read
 * (one more b-tree seek a row) only for a row the viewer does not take part in; the others
 * carry CAL_NONE, unread (struct occurrence). */
#define AGENDA_ACCESS_SQL                                                                     \
    "CASE WHEN ui.participant THEN 0 ELSE (SELECT " ACCESS_SQL " FROM calendars c"           \
    " WHERE c.id = i.calendar_id) END"
/* STORE_LONGEST_SQL's fallback, written out in its text, is the API's limit. */
_Static_assert(CORE_EVENT_DURATION_MAX_US == INT64_C(2678400000000),
               "STORE_LONGEST_SQL falls back to CORE_EVENT_DURATION_MAX_US");

/* i overlaps [$2, $3). */
#define OVERLAPS_SQL(alias)                                                                   \
    alias ".starts_at < $3 AND " alias ".starts_at > $2 - " STORE_LONGEST_SQL " AND " alias   \
    ".ends_at > $2"
/* Past the page position ($5, $6) in (start, id) order. */
#define AFTER_SQL(start, id) \
    " AND " start " >= $5 AND (" start " > $5 OR " id " > $6)"

/* Text columns the schema's CHECK constraints keep to known names. */
static int status_of(const char *s)
{
    int v = EVENT_STATUS_CONFIRMED;
    return core_event_status_parse(s, NULL, &v, NULL) == PL_OK ? v : EVENT_STATUS_CONFIRMED;
}

static int rsvp_of(const char *s)
{
    int v = RSVP_NEEDS_ACTION;
    return core_rsvp_parse(s, NULL, &v, NULL) == PL_OK ? v : RSVP_NEEDS_ACTION;
}

static void read_occurrence(struct store_stmt *st, struct arena *a, void *item)
{
    struct occurrence *o = item;
    o->instance_id = store_col_int64(st, 0);
    o->event_id = store_col_int64(st, 1);
    o->calendar_id = store_col_int64(st, 2);
    o->organizer_id = store_col_int64(st, 3);
    o->recurrence_id = store_col_int64(st, 4);
    o->start_us = store_col_int64(st, 5);
    o->end_us = store_col_int64(st, 6);
    o->title = arena_strdup(a, store_col_text(st, 7));
    o->location = arena_strdup(a, store_col_text(st, 8));
    o->time_zone = arena_strdup(a, store_col_text(st, 9));
    o->all_day = store_col_int64(st, 10) != 0;
    o->visibility = strcmp(store_col_text(st, 11), "private") == 0 ? EVENT_VISIBILITY_PRIVATE
                                                                    : EVENT_VISIBILITY_DEFAULT;
    o->status = status_of(store_col_text(st, 12));
    o->room_id = store_col_int64(st, 13);
    o->room_name = store_col_is_null(st, 14) ? NULL : arena_strdup(a, store_col_text(st, 14));
    o->access = (int)store_col_int64(st, 15);
    o->is_participant = store_col_int64(st, 16) != 0;
    o->series_id = store_col_int64(st, 17);
    o->version = store_col_int64(st, 18);
    o->participants = NULL;
    o->nparticipants = 0;
}

static int read_occurrences(struct store_stmt *st, struct arena *a, struct occurrence **out,
                            size_t *n, struct pl_error *err)
{
    void *items;
    int rc = store_read_all(st, a, sizeof **out, read_occurrence, &items, n, err);
    if (rc == PL_OK)
        *out = items;
    return rc;
}

/* $2 $3 the range, $5 $6 the page position, $7 the limit, $9 the viewer. */
static void bind_range(struct store_stmt *st, int64_t from_us, int64_t to_us,
                       const struct store_page *page, int64_t viewer)
{
    store_bind_int64(st, 2, from_us);
    store_bind_int64(st, 3, to_us);
    store_bind_int64(st, 5, page->after_id ? page->after_start_us : INT64_MIN);
    store_bind_int64(st, 6, page->after_id);
    store_bind_int64(st, 7, page->limit);
    store_bind_int64(st, 9, viewer);
}

int store_events_in_calendar(struct store *db, int64_t calendar_id, int64_t viewer_id,
                             int64_t from_us, int64_t to_us, const struct store_page *page,
                             struct arena *a, struct occurrence **out, size_t *n,
                             struct pl_error *err)
{
    static const char sql[] = "SELECT " OCCURRENCE_COLUMNS " FROM event_instances i" OCCURRENCE_JOINS
                              " WHERE i.calendar_id = $1 AND " OVERLAPS_SQL("i")
                              AFTER_SQL("i.starts_at", "i.id") " ORDER BY i.starts_at, i.id LIMIT $7";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, calendar_id);
    bind_range(st, from_us, to_us, page, viewer_id);
    return read_occurrences(st, a, out, n, err);
}

int store_events_agenda(struct store *db, int64_t user_id, int64_t from_us, int64_t to_us,
                        const struct store_page *page, struct arena *a, struct occurrence **out,
                        size_t *n, struct pl_error *err)
{
    static const char sql[] = "SELECT " OCCURRENCE_COLUMNS_AS(AGENDA_ACCESS_SQL, "ui.participant")
                              " FROM user_instances ui"
                              " JOIN event_instances i ON i.id = ui.instance_id" ROOM_JOIN
                              " WHERE ui.user_id = $1 AND " OVERLAPS_SQL("ui")
                              AFTER_SQL("ui.starts_at", "ui.instance_id")
                              " ORDER BY ui.starts_at, ui.instance_id LIMIT $7";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, user_id);
    bind_range(st, from_us, to_us, page, user_id);
    return read_occurrences(st, a, out, n, err);
}

int store_events_in_room(struct store *db, int64_t room_id, int64_t viewer_id, int64_t from_us,
                         int64_t to_us, const struct store_page *page, struct arena *a,
                         struct occurrence **out, size_t *n, struct pl_error *err)
{
    static const char sql[] = "SELECT " OCCURRENCE_COLUMNS " FROM event_instances i" OCCURRENCE_JOINS
                              " WHERE i.room_id = $1 AND i.status <> 'cancelled' AND "
                              OVERLAPS_SQL("i") AFTER_SQL("i.starts_at", "i.id")
                              " ORDER BY i.starts_at, i.id LIMIT $7";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, room_id);
    bind_range(st, from_us, to_us, page, viewer_id);
    return read_occurrences(st, a, out, n, err);
}

#define PARTICIPANT_COLUMNS                                                                   \
    "p.event_id, COALESCE(p.user_id, 0), COALESCE(u.email, p.email), COALESCE(u.name, ''),"   \
    " p.role, p.rsvp"

static void read_participant(struct store_stmt *st, struct arena *a, void *item)
{
    struct participant *p = item;
    p->user_id = store_col_int64(st, 1);
    p->email = arena_strdup(a, store_col_text(st, 2));
    p->name = arena_strdup(a, store_col_text(st, 3));
    p->role = strcmp(store_col_text(st, 4), "organizer") == 0 ? PARTICIPANT_ORGANIZER
                                                               : PARTICIPANT_ATTENDEE;
    p->rsvp = rsvp_of(store_col_text(st, 5));
}

/* ---- participant lists, kept between requests ------------------------------------------- */

/* The process's lists, under (event id, event version): every change to an event's people,
 * their answers (store_events_set_rsvp) or their names (store_users_update) moves the version,
 * so a list found under the version a reader has just read is the list (cache.h says why no
 * invalidation is needed).  A list keeps each user by id and by the version of the users row
 * it was read with; `names` keeps a user's e-mail and name under (user id, that version), once
 * for all the lists the user is in, which makes a list a third of the size.  A list whose
 * people are not all in `names` under those versions counts as not found.  Both are set
 * before the process's threads serve and freed after. */
static struct store_cache *lists, *names;
/* Lists found whole in the cache, and lists read from the tables while it was on. */
static _Atomic uint64_t lists_found, lists_read;

enum { LIST_BYTES = 128, NAME_BYTES = 64 }; /* typical sizes: four people; e-mail and name */

bool store_events_cache_start(size_t bytes)
{
    store_events_cache_end();
    lists_found = lists_read = 0;
    if (bytes == 0)
        return true;
    lists = store_cache_new(bytes - bytes / 4, LIST_BYTES);
    names = store_cache_new(bytes / 4, NAME_BYTES);
    if (lists == NULL || names == NULL) {
        store_events_cache_end();
        return false;
    }
    return true;
}

void store_events_cache_end(void)
{
    store_cache_free(lists);
    store_cache_free(names);
    lists = names = NULL;
}

void store_events_cache_stats(struct store_cache_stats *out)
{
    *out = (struct store_cache_stats){0};
    if (lists == NULL)
        return;
    struct store_cache_stats l, n;
    store_cache_stats(lists, &l);
    store_cache_stats(names, &n);
    *out = (struct store_cache_stats){.hits = lists_found, .misses = lists_read,
                                      .entries = l.entries + n.entries,
                                      .bytes = l.bytes + n.bytes};
}

/* A list as one blob: a count, then fixed records, then the e-mail addresses of the external
 * participants (offsets from the blob's start, each ended by a NUL). */
struct packed_participant {
    int64_t user_id;
    int64_t user_version; /* users.version the e-mail and name were read with */
    uint32_t email;       /* external participants: where the address is; users: 0 */
    uint8_t role, rsvp;
};

/* A user's e-mail and name as `names` keeps them: "email\0name\0". */
static void keep_name(const struct participant *p, int64_t user_version, struct arena *a)
{
    size_t le = strlen(p->email) + 1, ln = strlen(p->name) + 1;
    char *text = arena_alloc(a, le + ln);
    memcpy(text, p->email, le);
    memcpy(text + le, p->name, ln);
    (void)store_cache_put(names, p->user_id, user_version, text, le + ln);
}

static void *pack_list(const struct participant *p, const int64_t *user_version, size_t n,
                       struct arena *a, size_t *len)
{
    size_t size = 8 + n * sizeof(struct packed_participant);
    for (size_t i = 0; i < n; i++)
        if (p[i].user_id == 0)
            size += strlen(p[i].email) + 1;
    if (size > UINT32_MAX)
        return NULL;
    unsigned char *blob = arena_alloc(a, size);
    uint64_t count = n;
    memcpy(blob, &count, 8);
    size_t at = 8 + n * sizeof(struct packed_participant);
    for (size_t i = 0; i < n; i++) {
        struct packed_participant r = {.user_id = p[i].user_id, .user_version = user_version[i],
                                       .role = (uint8_t)p[i].role, .rsvp = (uint8_t)p[i].rsvp};
        if (p[i].user_id == 0) {
            size_t le = strlen(p[i].email) + 1;
            r.email = (uint32_t)at;
            memcpy(blob + at, p[i].email, le);
            at += le;
        } else {
            keep_name(&p[i], user_version[i], a);
        }
        memcpy(blob + 8 + i * sizeof r, &r, sizeof r);
    }
    *len = size;
    return blob;
}

/* The list in a blob that pack_list made (a copy owned by `a`), with its users' e-mails and
 * names from `names`; NULL when one of them is not there under its version. */
static struct participant *unpack_list(unsigned char *blob, struct arena *a, size_t *n)
{
    uint64_t count;
    memcpy(&count, blob, 8);
    struct participant *p = arena_alloc(a, (count ? count : 1) * sizeof *p);
    for (size_t i = 0; i < count; i++) {
        struct packed_participant r;
        memcpy(&r, blob + 8 + i * sizeof r, sizeof r);
        p[i] = (struct participant){.user_id = r.user_id, .role = r.role, .rsvp = r.rsvp};
        if (r.user_id == 0) {
            p[i].email = (char *)blob + r.email;
            p[i].name = "";
            continue;
        }
        size_t len;
        char *text = store_cache_get(names, r.user_id, r.user_version, a, &len);
        if (text == NULL || memchr(text, '\0', len) == NULL)
            return NULL;
        p[i].email = text;
        p[i].name = text + strlen(text) + 1;
    }
    *n = count;
    return p;
}

/* One event's list while an attach is in progress. */
struct people {
    int64_t event_id, version; /* version 0: unknown, not to be kept */
    struct participant *p;
    size_t n;
    bool found;
};

static int by_event(const void *x, const void *y)
{
    int64_t a = ((const struct people *)x)->event_id, b = ((const struct people *)y)->event_id;
    return (a > b) - (a < b);
}

static struct people *people_of_event(struct people *ev, size_t m, int64_t id)
{
    struct people key = {.event_id = id};
    return bsearch(&key, ev, m, sizeof *ev, by_event);
}

/* The lists the cache has under the events' versions. */
static void lists_from_cache(struct people *ev, size_t m, struct arena *a)
{
    for (size_t i = 0; i < m; i++) {
        size_t len;
        unsigned char *blob = ev[i].version
                                  ? store_cache_get(lists, ev[i].event_id, ev[i].version, a, &len)
                                  : NULL;
        if (blob != NULL && (ev[i].p = unpack_list(blob, a, &ev[i].n)) != NULL) {
            ev[i].found = true;
            lists_found++;
        }
    }
}

/* The lists the cache did not have, in one query; kept for the next reader. */
static int lists_from_database(struct store *db, struct people *ev, size_t m, bool keep,
                               struct arena *a, struct pl_error *err)
{
    static const char sql[] =
        "SELECT " PARTICIPANT_COLUMNS ", COALESCE(u.version, 0) FROM event_participants p"
        " LEFT JOIN users u ON u.id = p.user_id"
        " WHERE p.event_id IN (SELECT value FROM json_each($1)) ORDER BY p.event_id, p.id";
    int64_t *ids = arena_alloc(a, m * sizeof *ids);
    size_t nids = 0;
    for (size_t i = 0; i < m; i++)
        if (!ev[i].found)
            ids[nids++] = ev[i].event_id;
    if (nids == 0)
        return PL_OK;
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_ids(st, 1, ids, nids, a);
    /* Rows come grouped by event, in the order of `ev`. */
    size_t cap = 0, count = 0;
    struct participant *all = NULL;
    int64_t *owner = NULL, *user_version = NULL;
    size_t owner_cap = 0, version_cap = 0;
    while ((rc = store_step(st, err)) == STORE_ROW) {
        all = arena_grow(a, all, count, &cap, sizeof *all);
        owner = arena_grow(a, owner, count, &owner_cap, sizeof *owner);
        user_version = arena_grow(a, user_version, count, &version_cap, sizeof *user_version);
        owner[count] = store_col_int64(st, 0);
        user_version[count] = store_col_int64(st, 6);
        read_participant(st, a, &all[count++]);
    }
    if (rc < 0)
        return rc;
    size_t row = 0;
    for (size_t i = 0; i < m; i++) {
        if (ev[i].found)
            continue;
        while (row < count && owner[row] < ev[i].event_id)
            row++;
        size_t first = row;
        while (row < count && owner[row] == ev[i].event_id)
            row++;
        ev[i].p = all ? all + first : NULL;
        ev[i].n = row - first;
        ev[i].found = true;
        size_t len;
        void *blob;
        lists_read += keep;
        if (keep && ev[i].version &&
            (blob = pack_list(ev[i].p, user_version ? user_version + first : NULL, ev[i].n, a,
                              &len)) != NULL)
            (void)store_cache_put(lists, ev[i].event_id, ev[i].version, blob, len);
    }
    return PL_OK;
}

int store_events_attach_participants(struct store *db, struct occurrence *occ, size_t n,
                                     struct arena *a, struct pl_error *err)
{
    if (n == 0)
        return PL_OK;
    /* The distinct events, sorted: a recurring event's occurrences share one list (and, read
     * in one snapshot, one version). */
    struct people *ev = arena_alloc(a, n * sizeof *ev);
    for (size_t i = 0; i < n; i++)
        ev[i] = (struct people){.event_id = occ[i].event_id, .version = occ[i].version};
    qsort(ev, n, sizeof *ev, by_event);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || ev[m - 1].event_id != ev[i].event_id)
            ev[m++] = ev[i];
    /* Only a snapshot's reads belong together (cache.h): elsewhere, straight from the tables. */
    bool cached = lists != NULL && store_in_snapshot(db);
    if (cached)
        lists_from_cache(ev, m, a);
    int rc = lists_from_database(db, ev, m, cached, a, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const struct people *e = people_of_event(ev, m, occ[i].event_id); /* never NULL */
        occ[i].participants = e ? e->p : NULL;
        occ[i].nparticipants = e ? e->n : 0;
    }
    return PL_OK;
}

int store_events_participants(struct store *db, int64_t event_id, struct arena *a,
                              struct participant **out, size_t *n, struct pl_error *err)
{
    static const char sql[] =
        "SELECT " PARTICIPANT_COLUMNS " FROM event_participants p LEFT JOIN users u ON u.id = p.user_id"
        " WHERE p.event_id = $1 ORDER BY p.id";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, event_id);
    void *items;
    if ((rc = store_read_all(st, a, sizeof **out, read_participant, &items, n, err)) == PL_OK)
        *out = items;
    return rc;
}

static void read_minutes(struct store_stmt *st, struct arena *a, void *item)
{
    (void)a;
    *(int *)item = (int)store_col_int64(st, 0);
}

int store_events_reminders(struct store *db, int64_t event_id, struct arena *a, int **minutes,
                           size_t *n, struct pl_error *err)
{
    static const char sql[] =
        "SELECT minutes_before FROM event_reminders WHERE event_id = $1 ORDER BY minutes_before";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, event_id);
    void *items;
    if ((rc = store_read_all(st, a, sizeof **minutes, read_minutes, &items, n, err)) == PL_OK)
        *minutes = items;
    return rc;
}

#define EVENT_COLUMNS                                                                         \
    "e.id, e.uid, e.calendar_id, e.organizer_id, e.title, e.description, e.location,"         \
    " COALESCE(e.room_id, 0), e.starts_at, e.ends_at, e.time_zone, e.all_day, e.visibility,"  \
    " e.status, e.sequence, e.version, e.created_at, e.updated_at, e.rrule,"                  \
    " COALESCE(e.parent_id, 0), COALESCE(e.recurrence_id, 0), e.ical_extra"

static void read_event(struct store_stmt *st, struct arena *a, void *item)
{
    struct event *ev = item;
    ev->id = store_col_int64(st, 0);
    ev->uid = arena_strdup(a, store_col_text(st, 1));
    ev->calendar_id = store_col_int64(st, 2);
    ev->organizer_id = store_col_int64(st, 3);
    ev->title = arena_strdup(a, store_col_text(st, 4));
    ev->description = arena_strdup(a, store_col_text(st, 5));
    ev->location = arena_strdup(a, store_col_text(st, 6));
    ev->room_id = store_col_int64(st, 7);
    ev->start_us = store_col_int64(st, 8);
    ev->end_us = store_col_int64(st, 9);
    ev->time_zone = arena_strdup(a, store_col_text(st, 10));
    ev->all_day = store_col_int64(st, 11) != 0;
    ev->visibility = strcmp(store_col_text(st, 12), "private") == 0 ? EVENT_VISIBILITY_PRIVATE
                                                                     : EVENT_VISIBILITY_DEFAULT;
    ev->status = status_of(store_col_text(st, 13));
    ev->sequence = store_col_int64(st, 14);
    ev->version = store_col_int64(st, 15);
    ev->created_us = store_col_int64(st, 16);
    ev->updated_us = store_col_int64(st, 17);
    ev->recurrence = store_col_is_null(st, 18) ? NULL : arena_strdup(a, store_col_text(st, 18));
    ev->parent_id = store_col_int64(st, 19);
    ev->recurrence_id = store_col_int64(st, 20);
    ev->ical_extra = store_col_is_null(st, 21) ? NULL : arena_strdup(a, store_col_text(st, 21));
}

int store_events_get(struct store *db, int64_t id, int64_t viewer_id, struct arena *a,
                     struct event *ev, int *access, bool *is_participant, struct pl_error *err)
{
    static const char sql[] = "SELECT " EVENT_COLUMNS ", " ACCESS_SQL ", " PARTICIPANT_SQL
                              " FROM events e JOIN calendars c ON c.id = e.calendar_id"
                              " WHERE e.id = $1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, id);
    store_bind_int64(st, 9, viewer_id);
    if ((rc = store_step_one(st, err, "no event with id %lld", (long long)id)) < 0)
        return rc;
    read_event(st, a, ev);
    *access = (int)store_col_int64(st, 22);
    *is_participant = store_col_int64(st, 23) != 0;
    store_done(st);
    return PL_OK;
}

static void bind_event(struct store_stmt *st, const struct event *ev)
{
    store_bind_int64(st, 2, ev->calendar_id);
    store_bind_text(st, 3, ev->title);
    store_bind_text(st, 4, ev->description);
    store_bind_text(st, 5, ev->location);
    if (ev->room_id > 0)
        store_bind_int64(st, 6, ev->room_id);
    store_bind_int64(st, 7, ev->start_us);
    store_bind_int64(st, 8, ev->end_us);
    store_bind_text(st, 9, ev->time_zone);
    store_bind_int64(st, 10, ev->all_day);
    store_bind_text(st, 11, core_event_visibility_name(ev->visibility));
    store_bind_text(st, 12, core_event_status_name(ev->status));
    if (ev->recurrence)
        store_bind_text(st, 15, ev->recurrence);
    if (ev->ical_extra)
        store_bind_text(st, 16, ev->ical_extra);
}

int store_events_insert(struct store *db, struct event *ev, int64_t now_us, struct pl_error *err)
{
    static const char sql[] =
        "INSERT INTO events (uid, calendar_id, title, description, location, room_id, starts_at,"
        " ends_at, time_zone, all_day, visibility, status, organizer_id, created_at, updated_at,"
        " rrule, ical_extra, parent_id, recurrence_id, sequence)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16,"
        " $17, $18, $19)";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_text(st, 1, ev->uid);
    bind_event(st, ev);
    store_bind_int64(st, 13, ev->organizer_id);
    store_bind_int64(st, 14, now_us);
    if (ev->parent_id) {
        store_bind_int64(st, 17, ev->parent_id);
        store_bind_int64(st, 18, ev->recurrence_id);
    }
    store_bind_int64(st, 19, ev->sequence); /* imports keep their SEQUENCE */
    if ((rc = store_run(st, err)) < 0)
        return rc;
    ev->id = store_last_insert_id(db);
    ev->version = 1;
    ev->created_us = ev->updated_us = now_us;
    return PL_OK;
}

int store_events_update(struct store *db, struct event *ev, int64_t if_version, int64_t now_us,
                        struct pl_error *err)
{
    static const char sql[] =
        "UPDATE events SET calendar_id = $2, title = $3, description = $4, location = $5,"
        " room_id = $6, starts_at = $7, ends_at = $8, time_zone = $9, all_day = $10,"
        " visibility = $11, status = $12, rrule = $15, ical_extra = $16,"
        " sequence = MAX(sequence + 1, $17), version = version + 1,"
        " updated_at = $13 WHERE id = $1 AND ($14 < 0 OR version = $14)";
    /* Read back rather than RETURNING, which SQLite answers through a temporary b-tree. */
    static const char numbers[] = "SELECT version, sequence FROM events WHERE id = $1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, ev->id);
    bind_event(st, ev);
    store_bind_int64(st, 13, now_us);
    store_bind_int64(st, 14, if_version);
    store_bind_int64(st, 17, ev->sequence); /* an import may carry a higher SEQUENCE */
    if ((rc = store_run(st, err)) < 0)
        return rc;
    if (store_changes(db) == 0)
        return pl_error_set(err, PL_EPRECOND, NULL, "the event has changed; fetch it again");
    if ((rc = store_stmt(db, numbers, &st, err)) < 0)
        return rc;
    store_bind_int64(st, 1, ev->id);
    if ((rc = store_step(st, err)) != STORE_ROW)
        return rc < 0 ? rc : pl_error_set(err, PL_EINTERNAL, NULL, "the event went missing");
    ev->version = store_col_int64(st, 0);
    ev->sequence = store_col_int64(st, 1);
    ev->updated_us = now_us;
    store_done(st);
    return PL_OK;
}

int store_events_set_participants(struct store *db, int64_t event_id, const struct participant *p,
                                  size_t n, struct pl_error *err)
{
    static const char clear[] = "DELETE FROM event_participants WHERE event_id = $1";
    /* of_series: migration 020. */
    static const char add[] =
        "INSERT INTO event_participants (event_id, user_id, email, role, rsvp, of_series)"
        " VALUES ($1, $2, $3, $4, $5, (SELECT rrule IS NOT NULL FROM events WHERE id = $1))";
    struct store_stmt *st;
    int rc = store_stmt(db, clear, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, event_id);
    if ((rc = store_run(st, err)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if ((rc = store_stmt(db, add, &st, err)) < 0)
            return rc;
        store_bind_int64(st, 1, event_id);
        if (p[i].user_id > 0)
            store_bind_int64(st, 2, p[i].user_id);
        else
            store_bind_text(st, 3, p[i].email);
        store_bind_text(st, 4, core_participant_role_name(p[i].role));
        store_bind_text(st, 5, core_rsvp_name(p[i].rsvp));
        if ((rc = store_run(st, err)) < 0) {
            if (rc == PL_ECONFLICT)
                rc = pl_error_set(err, PL_EINVAL, "participants", "lists the same person twice");
            return rc;
        }
    }
    return PL_OK;
}

int store_events_set_reminders(struct store *db, int64_t event_id, const int *minutes, size_t n,
                               struct pl_error *err)
{
    static const char clear[] = "DELETE FROM event_reminders WHERE event_id = $1";
    static const char add[] =
        "INSERT OR IGNORE INTO event_reminders (event_id, minutes_before) VALUES ($1, $2)";
    struct store_stmt *st;
    int rc = store_stmt(db, clear, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, event_id);
    if ((rc = store_run(st, err)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if ((rc = store_stmt(db, add, &st, err)) < 0)
            return rc;
        store_bind_int64(st, 1, event_id);
        store_bind_int64(st, 2, minutes[i]);
        if ((rc = store_run(st, err)) < 0)
            return rc;
    }
    return PL_OK;
}

/* Whose time each occurrence of $1 takes: the calendar owner (as if accepted) and every user
 * participant, each once, with the strongest claim winning (accepted over tentative over
 * declined).  OR IGNORE: a row may be there already.  INDEX_USERS_SQL(filter, instances)
 * limits the people to those `filter` (on user_id) keeps, and the occurrences to those
 * `instances` (on i) keeps. */
/* A participant's claim from the answer: 1 accepted (or not yet answered; the calendar's
 * owner claims 1 too), 2 tentative, 3 declined; the smallest of a user's claims wins. */
#define CLAIM_OF_RSVP_SQL "CASE rsvp WHEN 'declined' THEN 3 WHEN 'tentative' THEN 2 ELSE 1 END"
/* user_instances.busy of occurrence `i` under `claim`: 0 free, 1 busy, 2 tentative. */
#define BUSY_SQL(claim)                                                                       \
    "CASE WHEN i.status = 'cancelled' OR " claim " = 3 THEN 0"                                \
    " WHEN i.status = 'tentative' OR " claim " = 2 THEN 2 ELSE 1 END"
#define INDEX_USERS_SQL(filter, instances)                                                    \
    "INSERT OR IGNORE INTO user_instances (user_id, starts_at, instance_id, ends_at, busy,"  \
    " participant) SELECT w.user_id, i.starts_at, i.id, i.ends_at, " BUSY_SQL("w.claim") ","  \
    " w.participant FROM event_instances i, (SELECT user_id, MIN(claim) AS claim,"            \
    "    MAX(participant) AS participant FROM ("                                              \
    "    SELECT c.owner_id AS user_id, 1 AS claim, 0 AS participant FROM events e"            \
    "    JOIN calendars c ON c.id = e.calendar_id WHERE e.id = $1"                            \
    "    UNION ALL SELECT user_id, " CLAIM_OF_RSVP_SQL ", 1 FROM event_participants"          \
    "    WHERE event_id = $1 AND user_id IS NOT NULL)"                                        \
    "  WHERE " filter " GROUP BY user_id) w"                                                  \
    " WHERE i.event_id = $1" instances
static const char index_users[] = INDEX_USERS_SQL("1", "");

/* A series' occurrences from a list of starts ($2) and optional ends ($3, by position),
 * skipping those an override replaces. */
#define INSTANCE_COLUMNS                                                                      \
    "event_id, calendar_id, room_id, recurrence_id, starts_at, ends_at, status, series_id,"   \
    " organizer_id, title, location, time_zone, all_day, visibility, event_version"
/* What an occurrence copies of its event `e` (migrations 011 and 013), after status. */
#define INSTANCE_SHOWN_SQL                                                                    \
    " COALESCE(e.parent_id, e.id), e.organizer_id, e.title, e.location, e.time_zone,"         \
    " e.all_day, e.visibility, e.version"
static const char index_series[] =
    "INSERT INTO event_instances (" INSTANCE_COLUMNS ") SELECT e.id, e.calendar_id,"
    " e.room_id, s.value, s.value, COALESCE(t.value, s.value + (e.ends_at - e.starts_at)),"
    " e.status," INSTANCE_SHOWN_SQL
    " FROM events e, json_each($2) s LEFT JOIN json_each($3) t ON t.key = s.key"
    " WHERE e.id = $1 AND NOT EXISTS (SELECT 1 FROM events o WHERE o.parent_id = e.id"
    "  AND o.recurrence_id = s.value)";

static void bind_series(struct store_stmt *st, int64_t event_id, const int64_t *starts,
                        const int64_t *ends, size_t n, struct arena *a)
{
    store_bind_int64(st, 1, event_id);
    store_bind_ids(st, 2, starts, n, a);
    store_bind_ids(st, 3, ends, ends ? n : 0, a);
}

static int run_with_event(struct store *db, const char *sql, int64_t event_id,
                          struct pl_error *err)
{
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, event_id);
    return store_run(st, err);
}

static int set_materialized(struct store *db, int64_t event_id, int64_t until_us,
                            struct pl_error *err)
{
    static const char sql[] = "UPDATE events SET materialized_until = $2 WHERE id = $1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, event_id);
    store_bind_int64(st, 2, until_us);
    return store_run(st, err);
}

/* Raise the bound on how long an occurrence lasts (STORE_LONGEST_SQL) to cover the
 * occurrences of `event_id` just written: its event's length, or the longest of `ends` -
 * `starts` where each has its own end (all-day ones across a DST change).  Called after every
 * insert into event_instances (migration 018 has it in place of a trigger). */
static int raise_longest(struct store *db, int64_t event_id, const int64_t *starts,
                         const int64_t *ends, size_t n, struct pl_error *err)
{
    /* The length is read twice rather than through UPDATE ... FROM, which SQLite runs
     * through a temporary b-tree; the row is written only when the bound grows. */
#define LONGEST_OF_EVENT "(SELECT MAX(ends_at - starts_at, $2) FROM events WHERE id = $1)"
    static const char sql[] = "UPDATE meta SET value = " LONGEST_OF_EVENT
                              " WHERE key = 'max_duration_us' AND value < " LONGEST_OF_EVENT;
#undef LONGEST_OF_EVENT
    int64_t longest = 0;
    for (size_t i = 0; ends != NULL && i < n; i++)
        if (ends[i] - starts[i] > longest)
            longest = ends[i] - starts[i];
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, event_id);
    store_bind_int64(st, 2, longest);
    return store_run(st, err);
}

int store_events_reindex(struct store *db, int64_t event_id, const int64_t *starts,
                         const int64_t *ends, size_t n, int64_t materialized_until,
                         struct arena *a, struct pl_error *err)
{
    /* Deleting the occurrences cascades to user_instances. */
    static const char clear[] = "DELETE FROM event_instances WHERE event_id = $1";
    static const char single[] =
        "INSERT INTO event_instances (" INSTANCE_COLUMNS ") SELECT e.id, e.calendar_id,"
        " e.room_id, e.recurrence_id, e.starts_at, e.ends_at, e.status," INSTANCE_SHOWN_SQL
        " FROM events e WHERE e.id = $1";
    /* Whether a series has no occurrence at all (every one excluded or moved), for a
     * rename (migration 016); written only where the mark is wrong.  A single event always
     * has its one occurrence: a mark it kept from a series only costs a rename a look. */
    static const char mark_bare[] =
        "UPDATE events SET bare = NOT bare WHERE id = $1"
        " AND bare = EXISTS (SELECT 1 FROM event_instances WHERE event_id = $1)";
    int rc = run_with_event(db, clear, event_id, err);
    if (rc < 0)
        return rc;
    if (starts == NULL) {
        rc = run_with_event(db, single, event_id, err);
    } else {
        struct store_stmt *st;
        if ((rc = store_stmt(db, index_series, &st, err)) < 0)
            return rc;
        bind_series(st, event_id, starts, ends, n, a);
        if ((rc = store_run(st, err)) == PL_OK &&
            (rc = set_materialized(db, event_id, materialized_until, err)) == PL_OK)
            rc = run_with_event(db, mark_bare, event_id, err);
    }
    if (rc == PL_OK)
        rc = raise_longest(db, event_id, starts, ends, n, err);
    return rc < 0 ? rc : run_with_event(db, index_users, event_id, err);
}

/* An answer changes only how busy the user's rows are (INDEX_USERS_SQL's `busy`), not which
 * rows there are: a participant has one for every occurrence whatever the answer.  So they
 * are updated in place, each found through user_instances_instance; deleting and inserting
 * them again (through INDEX_USERS_SQL) was 36 % of an RSVP's instructions (callgrind).  A
 * user with no claim on the event (neither its calendar's owner nor a participant) keeps
 * what it has. */
int store_events_reindex_user(struct store *db, int64_t event_id, int64_t user_id,
                              struct pl_error *err)
{
    /* The user's claim is the same for every occurrence: read once, not per row (a weekly
     * series answered was 52 evaluations of it). */
    static const char claim_sql[] =
        "SELECT MIN(claim) FROM ("
        " SELECT 1 AS claim FROM events e JOIN calendars c ON c.id = e.calendar_id"
        " WHERE e.id = $1 AND c.owner_id = $2"
        " UNION ALL SELECT " CLAIM_OF_RSVP_SQL
        " FROM event_participants WHERE event_id = $1 AND user_id = $2)";
    static const char sql[] =
        "UPDATE user_instances SET busy = (SELECT " BUSY_SQL("$3")
        " FROM event_instances i WHERE i.id = user_instances.instance_id)"
        " WHERE user_id = $2 AND (starts_at, instance_id) IN"
        " (SELECT starts_at, id FROM event_instances WHERE event_id = $1)";
    struct store_stmt *st;
    int rc = store_stmt(db, claim_sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, event_id);
    store_bind_int64(st, 2, user_id);
    if ((rc = store_step(st, err)) != STORE_ROW)
        return rc < 0 ? rc : pl_error_set(err, PL_EINTERNAL, NULL, "no claim row");
    bool none = store_col_is_null(st, 0);
    int64_t claim = store_col_int64(st, 0);
    store_done(st);
    if (none) /* neither the calendar's owner nor a participant: keeps what it has */
        return PL_OK;
    if ((rc = store_stmt(db, sql, &st, err)) < 0)
        return rc;
    store_bind_int64(st, 1, event_id);
    store_bind_int64(st, 2, user_id);
    store_bind_int64(st, 3, claim);
    return store_run(st, err);
}

int store_events_extend(struct store *db, int64_t series_id, const int64_t *starts,
                        const int64_t *ends, size_t n, int64_t materialized_until,
                        struct arena *a, struct pl_error *err)
{
    /* Only the new occurrences get their users: re-running the index over the whole series
     * made each extension cost every occurrence of every series (the first request of a day
     * on W200 x10: 7.9 s, 2.2 s with this). */
    static const char index_new[] = INDEX_USERS_SQL("1", " AND i.starts_at >= $2");
    struct store_stmt *st;
    int rc = store_stmt(db, index_series, &st, err);
    if (rc < 0)
        return rc;
    bind_series(st, series_id, starts, ends, n, a);
    if ((rc = store_run(st, err)) < 0 ||
        (rc = set_materialized(db, series_id, materialized_until, err)) < 0 || n == 0 ||
        (rc = raise_longest(db, series_id, starts, ends, n, err)) < 0)
        return rc;
    int64_t first = starts[0];
    for (size_t i = 1; i < n; i++)
        first = starts[i] < first ? starts[i] : first;
    if ((rc = store_stmt(db, index_new, &st, err)) < 0)
        return rc;
    store_bind_int64(st, 1, series_id);
    store_bind_int64(st, 2, first);
    return store_run(st, err);
}

/* A series with its own horizon (the last column) in `updated_us`'s place for the caller. */
static void read_series_to_extend(struct store_stmt *st, struct arena *a, void *item)
{
    struct event *ev = item;
    read_event(st, a, ev);
    ev->updated_us = store_col_int64(st, 22);
}

int store_events_series_to_extend(struct store *db, int64_t until_us, const int64_t *ids,
                                  size_t nids, int limit, struct arena *a, struct event **out,
                                  size_t *n, struct pl_error *err)
{
    static const char every[] = "SELECT " EVENT_COLUMNS ", e.materialized_until FROM events e"
                                " WHERE e.rrule IS NOT NULL AND e.materialized_until < $1"
                                " ORDER BY e.materialized_until LIMIT $2";
    static const char among[] = "SELECT " EVENT_COLUMNS ", e.materialized_until FROM events e"
                                " WHERE e.id IN (SELECT value FROM json_each($3))"
                                " AND e.rrule IS NOT NULL AND e.materialized_until < $1"
                                " ORDER BY e.materialized_until LIMIT $2";
    struct store_stmt *st;
    int rc = store_stmt(db, ids ? among : every, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, until_us);
    store_bind_int64(st, 2, limit);
    if (ids)
        store_bind_ids(st, 3, ids, nids, a);
    void *items;
    if ((rc = store_read_all(st, a, sizeof **out, read_series_to_extend, &items, n, err)) == PL_OK)
        *out = items;
    return rc;
}

static void read_id(struct store_stmt *st, struct arena *a, void *item)
{
    (void)a;
    *(int64_t *)item = store_col_int64(st, 0);
}

int store_events_series_short(struct store *db, int64_t until_us, const struct store_scope *scope,
                              struct arena *a, int64_t **ids, size_t *n, struct pl_error *err)
{
    /* One arm a kind of scope, each through its index; an arm whose kind the scope lacks
     * finds nothing at once.  Any room's has none that narrows it: a pass over the series
     * short of the range, in a statement of its own, for rooms available alone. */
#define SHORT_SQL " e.rrule IS NOT NULL AND e.materialized_until < $1"
#define INDEXED_ARMS                                                                          \
    "SELECT e.id FROM events e WHERE e.id = $3 AND" SHORT_SQL                                 \
    " UNION SELECT e.id FROM events e WHERE e.calendar_id = $4 AND" SHORT_SQL                 \
    " UNION SELECT e.id FROM json_each($5) u JOIN calendars c ON c.owner_id = u.value"        \
    "  JOIN events e ON e.calendar_id = c.id WHERE" SHORT_SQL                                 \
    " UNION SELECT e.id FROM json_each($5) u JOIN event_participants p"                       \
    "  ON p.user_id = u.value AND p.of_series = 1 JOIN events e ON e.id = p.event_id"         \
    "  WHERE" SHORT_SQL                                                                       \
    " UNION SELECT e.id FROM json_each($6) r JOIN events e ON e.room_id = r.value"            \
    "  WHERE e.room_id IS NOT NULL AND" SHORT_SQL
    static const char indexed[] = INDEXED_ARMS;
    static const char any_room[] =
        INDEXED_ARMS " UNION SELECT e.id FROM events e WHERE e.room_id IS NOT NULL AND" SHORT_SQL;
#undef INDEXED_ARMS
#undef SHORT_SQL
    struct store_stmt *st;
    int rc = store_stmt(db, scope->any_room ? any_room : indexed, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, until_us);
    store_bind_int64(st, 3, scope->series_id);
    store_bind_int64(st, 4, scope->calendar_id);
    store_bind_ids(st, 5, scope->users, scope->nusers, a);
    store_bind_ids(st, 6, scope->rooms, scope->nrooms, a);
    void *items;
    if ((rc = store_read_all(st, a, sizeof **ids, read_id, &items, n, err)) == PL_OK)
        *ids = items;
    return rc;
}

int store_meta_get(struct store *db, const char *key, int64_t *value, struct pl_error *err)
{
    static const char sql[] = "SELECT value FROM meta WHERE key = $1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_text(st, 1, key);
    if ((rc = store_step(st, err)) < 0)
        return rc;
    *value = rc == STORE_ROW ? store_col_int64(st, 0) : 0;
    store_done(st);
    return PL_OK;
}

int store_meta_set(struct store *db, const char *key, int64_t value, struct pl_error *err)
{
    static const char sql[] = "INSERT INTO meta (key, value) VALUES ($1, $2)"
                              " ON CONFLICT (key) DO UPDATE SET value = excluded.value";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_text(st, 1, key);
    store_bind_int64(st, 2, value);
    return store_run(st, err);
}

int store_events_overrides(struct store *db, int64_t series_id, struct arena *a,
                           struct event **out, size_t *n, struct pl_error *err)
{
    static const char sql[] = "SELECT " EVENT_COLUMNS " FROM events e WHERE e.parent_id = $1"
                              " ORDER BY e.recurrence_id";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, series_id);
    void *items;
    if ((rc = store_read_all(st, a, sizeof **out, read_event, &items, n, err)) == PL_OK)
        *out = items;
    return rc;
}

int store_events_override_get(struct store *db, int64_t series_id, int64_t recurrence_id,
                              struct arena *a, struct event *out, struct pl_error *err)
{
    static const char sql[] = "SELECT " EVENT_COLUMNS " FROM events e"
                              " WHERE e.parent_id = $1 AND e.recurrence_id = $2";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, series_id);
    store_bind_int64(st, 2, recurrence_id);
    if ((rc = store_step_one(st, err, "no such override")) < 0)
        return rc;
    read_event(st, a, out);
    store_done(st);
    return PL_OK;
}

/* The rows that iCalendar export reads: of one calendar, or of one series with its overrides.
 * $1 is the calendar or the series, $9 the viewer. */
#define CALENDAR_ROWS "SELECT id FROM events WHERE calendar_id = $1"
#define SERIES_ROWS \
    "SELECT id FROM events WHERE id = $1 UNION ALL SELECT id FROM events WHERE parent_id = $1"

/* [*lo, *lo + *count) of `owner` (sorted) that equal `id`. */
static void group_of(const int64_t *owner, size_t n, int64_t id, size_t *lo_out, size_t *count)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (owner[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < n && owner[end] == id)
        end++;
    *lo_out = lo;
    *count = end - lo;
}

/* Read the event rows, their participants and their reminders with the three statements
 * given, which select by the same $1, and hand each row its own. */
static int read_rows(struct store *db, const char *events_sql, const char *people_sql,
                     const char *reminders_sql, int64_t scope, int64_t viewer_id,
                     struct arena *a, struct event_row **out, size_t *n, struct pl_error *err)
{
    struct store_stmt *st;
    size_t count = 0, cap = 0, np = 0, pcap = 0, pocap = 0, nr = 0, rcap = 0, rocap = 0;
    struct event_row *rows = NULL;
    struct participant *people = NULL;
    int64_t *people_owner = NULL, *rem_owner = NULL;
    int *rem = NULL;
    int rc = store_stmt(db, events_sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, scope);
    store_bind_int64(st, 9, viewer_id);
    while ((rc = store_step(st, err)) == STORE_ROW) {
        rows = arena_grow(a, rows, count, &cap, sizeof *rows);
        memset(&rows[count], 0, sizeof rows[count]);
        read_event(st, a, &rows[count].ev);
        rows[count++].is_participant = store_col_int64(st, 22) != 0;
    }
    if (rc < 0 || (rc = store_stmt(db, people_sql, &st, err)) < 0)
        return rc;
    store_bind_int64(st, 1, scope);
    while ((rc = store_step(st, err)) == STORE_ROW) {
        people = arena_grow(a, people, np, &pcap, sizeof *people);
        people_owner = arena_grow(a, people_owner, np, &pocap, sizeof *people_owner);
        people_owner[np] = store_col_int64(st, 0);
        read_participant(st, a, &people[np++]);
    }
    if (rc < 0 || (rc = store_stmt(db, reminders_sql, &st, err)) < 0)
        return rc;
    store_bind_int64(st, 1, scope);
    while ((rc = store_step(st, err)) == STORE_ROW) {
        rem = arena_grow(a, rem, nr, &rcap, sizeof *rem);
        rem_owner = arena_grow(a, rem_owner, nr, &rocap, sizeof *rem_owner);
        rem_owner[nr] = store_col_int64(st, 0);
        rem[nr++] = (int)store_col_int64(st, 1);
    }
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < count; i++) {
        size_t lo, k;
        group_of(people_owner, np, rows[i].ev.id, &lo, &k);
        rows[i].participants = k ? people + lo : NULL;
        rows[i].nparticipants = k;
        group_of(rem_owner, nr, rows[i].ev.id, &lo, &k);
        rows[i].reminders = k ? rem + lo : NULL;
        rows[i].nreminders = k;
    }
    *out = rows;
    *n = count;
    return PL_OK;
}

int store_events_of_calendar(struct store *db, int64_t calendar_id, int64_t viewer_id,
                             struct arena *a, struct event_row **out, size_t *n,
                             struct pl_error *err)
{
    static const char events_sql[] =
        "SELECT " EVENT_COLUMNS ", " PARTICIPANT_SQL " FROM events e WHERE e.calendar_id = $1"
        " ORDER BY COALESCE(e.parent_id, e.id), e.parent_id IS NOT NULL, e.recurrence_id";
    static const char people_sql[] =
        "SELECT " PARTICIPANT_COLUMNS " FROM event_participants p"
        " LEFT JOIN users u ON u.id = p.user_id"
        " WHERE p.event_id IN (" CALENDAR_ROWS ") ORDER BY p.event_id, p.id";
    static const char reminders_sql[] =
        "SELECT event_id, minutes_before FROM event_reminders"
        " WHERE event_id IN (" CALENDAR_ROWS ") ORDER BY event_id, minutes_before";
    return read_rows(db, events_sql, people_sql, reminders_sql, calendar_id, viewer_id, a, out,
                     n, err);
}

int store_events_of_series(struct store *db, int64_t series_id, int64_t viewer_id,
                           struct arena *a, struct event_row **out, size_t *n,
                           struct pl_error *err)
{
    static const char events_sql[] =
        "SELECT " EVENT_COLUMNS ", " PARTICIPANT_SQL " FROM events e"
        " WHERE e.id IN (" SERIES_ROWS ") ORDER BY e.parent_id IS NOT NULL, e.recurrence_id";
    static const char people_sql[] =
        "SELECT " PARTICIPANT_COLUMNS " FROM event_participants p"
        " LEFT JOIN users u ON u.id = p.user_id"
        " WHERE p.event_id IN (" SERIES_ROWS ") ORDER BY p.event_id, p.id";
    static const char reminders_sql[] =
        "SELECT event_id, minutes_before FROM event_reminders"
        " WHERE event_id IN (" SERIES_ROWS ") ORDER BY event_id, minutes_before";
    return read_rows(db, events_sql, people_sql, reminders_sql, series_id, viewer_id, a, out, n,
                     err);
}

int store_events_in_series(struct store *db, int64_t series_id, int64_t viewer_id,
                           int64_t from_us, int64_t to_us, const struct store_page *page,
                           struct arena *a, struct occurrence **out, size_t *n,
                           struct pl_error *err)
{
    static const char sql[] = "SELECT " OCCURRENCE_COLUMNS " FROM event_instances i" OCCURRENCE_JOINS
                              " WHERE i.event_id IN (SELECT id FROM events WHERE id = $1"
                              "   UNION ALL SELECT id FROM events WHERE parent_id = $1)"
                              " AND " OVERLAPS_SQL("i") AFTER_SQL("i.starts_at", "i.id")
                              " ORDER BY i.starts_at, i.id LIMIT $7";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, series_id);
    bind_range(st, from_us, to_us, page, viewer_id);
    return read_occurrences(st, a, out, n, err);
}

int store_events_delete(struct store *db, int64_t id, struct pl_error *err)
{
    static const char sql[] = "DELETE FROM events WHERE id = $1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, id);
    if ((rc = store_run(st, err)) < 0)
        return rc;
    if (store_changes(db) == 0)
        return pl_error_set(err, PL_ENOTFOUND, NULL, "no event with id %lld", (long long)id);
    return PL_OK;
}

int store_events_set_rsvp(struct store *db, int64_t event_id, int64_t user_id, int rsvp,
                          int64_t now_us, int *was, struct pl_error *err)
{
    static const char get[] = "SELECT rsvp FROM event_participants WHERE event_id = $1 AND user_id = $2";
    static const char set[] =
        "UPDATE event_participants SET rsvp = $3 WHERE event_id = $1 AND user_id = $2";
    /* The answers are part of the event as everyone sees it: its version (its ETag) moves. */
    static const char bump[] =
        "UPDATE events SET version = version + 1, updated_at = $2 WHERE id = $1";
    struct store_stmt *st;
    int rc = store_stmt(db, get, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, event_id);
    store_bind_int64(st, 2, user_id);
    if ((rc = store_step(st, err)) != STORE_ROW)
        return rc < 0 ? rc
                      : pl_error_set(err, PL_EFORBIDDEN, NULL,
                                     "only participants can answer an invitation");
    *was = rsvp_of(store_col_text(st, 0));
    store_done(st);
    if (*was == rsvp)
        return PL_OK; /* the same answer again: nothing changes */
    if ((rc = store_stmt(db, set, &st, err)) < 0)
        return rc;
    store_bind_int64(st, 1, event_id);
    store_bind_int64(st, 2, user_id);
    store_bind_text(st, 3, core_rsvp_name(rsvp));
    if ((rc = store_run(st, err)) < 0 || (rc = store_stmt(db, bump, &st, err)) < 0)
        return rc;
    store_bind_int64(st, 1, event_id);
    store_bind_int64(st, 2, now_us);
    return store_run(st, err);
}

static void read_conflict(struct store_stmt *st, struct arena *a, void *item)
{
    struct conflict *c = item;
    (void)a;
    c->event_id = store_col_int64(st, 0);
    c->start_us = store_col_int64(st, 1);
    c->end_us = store_col_int64(st, 2);
    c->blocked_start_us = store_col_int64(st, 3);
}

/* Drop rows equal to an earlier one (they share its start: rows come by start), as the
 * several-range statement's DISTINCT does: an override moved onto another occurrence of its
 * series would be listed twice. */
static size_t distinct_conflicts(struct conflict *c, size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t k = kept; k-- > 0 && c[k].start_us == c[i].start_us && !seen;)
            seen = c[k].event_id == c[i].event_id && c[k].end_us == c[i].end_us &&
                   c[k].blocked_start_us == c[i].blocked_start_us;
        if (!seen)
            c[kept++] = c[i];
    }
    return kept;
}

int store_events_room_conflicts(struct store *db, int64_t room_id, const int64_t *ranges,
                                size_t nranges, int64_t exclude_event_id, size_t max,
                                struct arena *a, struct conflict **out, size_t *n,
                                struct pl_error *err)
{
    /* The booking itself is left out by its own id and its series' (an override's occurrences
     * carry their series' id), which reads no `events` row.  One range (a single event) is
     * one bounded search of the (room_id, starts_at) index. */
#define CONFLICT_WHERE                                                                        \
    " WHERE i.room_id = $1 AND i.starts_at < r.end_us"                                        \
    "   AND i.starts_at > r.start_us - " STORE_LONGEST_SQL                                    \
    "   AND i.ends_at > r.start_us AND i.status <> 'cancelled'"                               \
    "   AND i.event_id <> $5 AND i.series_id <> $5"
    static const char one[] =
        "SELECT i.series_id, i.starts_at, i.ends_at, r.start_us"
        " FROM (SELECT $3 AS start_us, $4 AS end_us) r CROSS JOIN event_instances i"
        CONFLICT_WHERE " ORDER BY i.starts_at LIMIT $6";
    /* $2 is [start0, end0, start1, end1, ...]: json_each yields them in order (key = index),
     * paired by key/2.  One statement however many occurrences a series books.  CROSS JOIN
     * keeps the ranges outermost (SQLite's planner does not reorder it), so that each range
     * is one bounded search of the (room_id, starts_at) index. */
    static const char several[] =
        "WITH r AS (SELECT s.value AS start_us, e.value AS end_us FROM json_each($2) s"
        "  JOIN json_each($2) e ON e.key = s.key + 1 WHERE s.key % 2 = 0)"
        " SELECT DISTINCT i.series_id, i.starts_at, i.ends_at, r.start_us"
        " FROM r CROSS JOIN event_instances i" CONFLICT_WHERE
        " ORDER BY i.starts_at LIMIT $6";
#undef CONFLICT_WHERE
    struct store_stmt *st;
    int rc = store_stmt(db, nranges == 1 ? one : several, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, room_id);
    if (nranges == 1) {
        store_bind_int64(st, 3, ranges[0]);
        store_bind_int64(st, 4, ranges[1]);
    } else {
        store_bind_ids(st, 2, ranges, 2 * nranges, a);
    }
    store_bind_int64(st, 5, exclude_event_id);
    store_bind_int64(st, 6, (int64_t)max);
    void *items;
    if ((rc = store_read_all(st, a, sizeof **out, read_conflict, &items, n, err)) == PL_OK) {
        *out = items;
        if (nranges == 1)
            *n = distinct_conflicts(*out, *n);
    }
    return rc;
}

static void read_busy(struct store_stmt *st, struct arena *a, void *item)
{
    struct busy_row *b = item;
    (void)a;
    b->owner_id = store_col_int64(st, 0);
    b->start_us = store_col_int64(st, 1);
    b->end_us = store_col_int64(st, 2);
    b->tentative = store_col_int64(st, 3) != 0;
}

static int by_value(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static int by_owner_then_start(const void *x, const void *y)
{
    const struct busy_row *a = x, *b = y;
    if (a->owner_id != b->owner_id)
        return (a->owner_id > b->owner_id) - (a->owner_id < b->owner_id);
    return (a->start_us > b->start_us) - (a->start_us < b->start_us);
}

/* Run a busy-interval statement: $1 the owners, [$2, $3) the range.
 * No owners, no statement (free/busy of people only still asks for its rooms).
 *
 * The statements join json_each to the index, the owners the outer loop (CROSS JOIN fixes
 * the order), with no ORDER BY: `owner IN (SELECT value FROM json_each(...))` built a
 * temporary b-tree of the owners for every statement, and ORDER BY would sort the rows,
 * together ~90 k of find-a-time's 1.25 M instructions (callgrind).  Given the owners sorted
 * and once each, the join yields the rows by owner, then start (the index's order); that is
 * checked here, and the rows sorted if SQLite ever chose otherwise. */
static int busy_query(struct store *db, const char *sql, const int64_t *ids, size_t nids,
                      int64_t from_us, int64_t to_us, struct arena *a, struct busy_row **out,
                      size_t *n, struct pl_error *err)
{
    *out = NULL;
    *n = 0;
    if (nids == 0)
        return PL_OK;
    int64_t *owners = arena_alloc(a, nids * sizeof *owners);
    memcpy(owners, ids, nids * sizeof *owners);
    qsort(owners, nids, sizeof *owners, by_value);
    size_t nowners = 1;
    for (size_t i = 1; i < nids; i++)
        if (owners[i] != owners[nowners - 1])
            owners[nowners++] = owners[i];
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_ids(st, 1, owners, nowners, a);
    store_bind_int64(st, 2, from_us);
    store_bind_int64(st, 3, to_us);
    void *items;
    if ((rc = store_read_all(st, a, sizeof **out, read_busy, &items, n, err)) != PL_OK)
        return rc;
    struct busy_row *rows = items;
    for (size_t i = 1; i < *n; i++)
        if (by_owner_then_start(&rows[i - 1], &rows[i]) > 0) {
            qsort(rows, *n, sizeof *rows, by_owner_then_start);
            break;
        }
    *out = rows;
    return PL_OK;
}

int store_events_busy_users(struct store *db, const int64_t *ids, size_t nids, int64_t from_us,
                            int64_t to_us, struct arena *a, struct busy_row **out, size_t *n,
                            struct pl_error *err)
{
    static const char sql[] =
        "SELECT ui.user_id, ui.starts_at, ui.ends_at, ui.busy = 2"
        " FROM json_each($1) o CROSS JOIN user_instances ui"
        " WHERE ui.user_id = o.value AND ui.busy > 0 AND " OVERLAPS_SQL("ui");
    return busy_query(db, sql, ids, nids, from_us, to_us, a, out, n, err);
}

int store_events_busy_rooms(struct store *db, const int64_t *ids, size_t nids, int64_t from_us,
                            int64_t to_us, struct arena *a, struct busy_row **out, size_t *n,
                            struct pl_error *err)
{
    static const char sql[] =
        "SELECT i.room_id, i.starts_at, i.ends_at, i.status = 'tentative'"
        " FROM json_each($1) o CROSS JOIN event_instances i"
        " WHERE i.room_id = o.value AND i.status <> 'cancelled' AND " OVERLAPS_SQL("i");
    return busy_query(db, sql, ids, nids, from_us, to_us, a, out, n, err);
}

int store_events_find_uid(struct store *db, int64_t calendar_id, const char *uid, struct arena *a,
                          struct event *out, struct pl_error *err)
{
    static const char sql[] =
        "SELECT " EVENT_COLUMNS " FROM events e WHERE e.calendar_id = $1 AND e.uid = $2";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, calendar_id);
    store_bind_text(st, 2, uid);
    if ((rc = store_step_one(st, err, "no event with that UID")) < 0)
        return rc;
    read_event(st, a, out);
    store_done(st);
    return PL_OK;
}

int store_events_move_overrides(struct store *db, int64_t from_id, int64_t to_id,
                                const char *to_uid, int64_t from_rid, struct pl_error *err)
{
    static const char sql[] = "UPDATE events SET parent_id = $2, uid = $3 || '/' || recurrence_id"
                              " WHERE parent_id = $1 AND recurrence_id >= $4";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, from_id);
    store_bind_int64(st, 2, to_id);
    store_bind_text(st, 3, to_uid);
    store_bind_int64(st, 4, from_rid);
    return store_run(st, err);
}
