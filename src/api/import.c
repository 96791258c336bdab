/* iCalendar import: every VEVENT of a file becomes an event of the calendar, idempotently by
 * UID.  A VEVENT already imported is skipped unless its SEQUENCE is higher, which updates it; an
 * override (RECURRENCE-ID) is matched to its series by UID.  The whole file is one transaction.
 * Imports notify nobody: a bulk load is not a stream of invitations.  The events' reminders
 * (the file's alarms that are plain reminders) are scheduled as any event's. */
#include "api/internal.h"

#include "arena.h"
#include "clock.h"
#include "config.h"
#include "core/ical.h"
#include "core/recur.h"
#include "log.h"
#include "store/calendars.h"
#include "store/events.h"
#include "store/notifications.h"
#include "store/store.h"
#include "store/users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The people of an imported event: attendees whose address belongs to a user become that user;
 * the importing user organises the event, and the ORGANIZER attendee (if any) keeps its role
 * only as an attendee row. */
static int people_of(struct http_request *rq, const struct ical_event *x, struct participant **out,
                     size_t *n, struct pl_error *err)
{
    const char **emails = arena_alloc(rq->arena, (x->nattendees + 1) * sizeof *emails);
    for (size_t i = 0; i < x->nattendees; i++)
        emails[i] = x->attendees[i].email;
    struct user *users;
    int rc = store_users_lookup_emails(rq->db, emails, x->nattendees, rq->arena, &users, err);
    if (rc < 0)
        return rc;
    struct participant *list = arena_alloc(rq->arena, (x->nattendees + 1) * sizeof *list);
    size_t k = 0;
    for (size_t i = 0; i < x->nattendees; i++) {
        struct participant p = x->attendees[i];
        if (users[i].id) {
            p.user_id = users[i].id;
            p.email = users[i].email;
            p.name = users[i].name;
        }
        bool dup = false; /* an address listed twice, or two addresses of one user */
        for (size_t j = 0; j < k && !dup; j++)
            dup = p.user_id ? list[j].user_id == p.user_id : strcmp(list[j].email, p.email) == 0;
        if (!dup)
            list[k++] = p;
    }
    *out = list;
    *n = k;
    return PL_OK;
}

#define DAY_US (INT64_C(86400) * 1000000)
/* Where api/events.c begins every expansion: RDATEs may come before DTSTART. */
#define EXPAND_FROM_US (INT64_C(-62135596800) * 1000000) /* 0001-01-01 */

/* The starts of series `ev` to index (all before `horizon`, RDATEs before DTSTART included),
 * checked as the API checks a new series: PL_ETOOBIG when it makes more than
 * CORE_RECUR_MAX_PER_SERIES occurrences within the configured horizon after its first start.
 * One expansion over both windows usually answers both questions; when that one holds too
 * many, the check runs on its own window and *starts is NULL, which api_events_index takes as
 * "expand it yourself" (window by window).  *starts is never NULL otherwise, even when empty,
 * so that the series is not expanded a second time. */
static int series_starts(struct http_request *rq, const struct event *ev, int64_t horizon,
                         int64_t **starts, size_t *n)
{
    static int64_t none;
    struct pl_error why = {0};
    struct recur_series s = {ev->recurrence, ev->start_us, ev->time_zone, ev->all_day};
    int64_t cap_to = ev->start_us + (int64_t)rq->cfg->recurrence_horizon_days * DAY_US;
    int64_t *all;
    size_t count, k = 0;
    int rc = core_recur_expand(&s, EXPAND_FROM_US, horizon > cap_to ? horizon : cap_to,
                               CORE_RECUR_MAX_PER_SERIES, rq->arena, &all, &count, &why);
    *starts = NULL;
    *n = 0;
    if (rc == PL_ETOOBIG) {
        rc = core_recur_expand(&s, ev->start_us, cap_to, CORE_RECUR_MAX_PER_SERIES, rq->arena,
                               &all, &count, &why);
        if (rc == PL_OK && core_recur_too_many(&s, count, cap_to - ev->start_us,
                                               horizon > cap_to ? horizon : cap_to))
            rc = PL_ETOOBIG;
        return rc;
    }
    if (rc < 0)
        return rc;
    while (k < count && all[k] < horizon) /* ascending: those before the horizon lead */
        k++;
    *starts = k ? all : &none;
    *n = k;
    return PL_OK;
}

static void add_error(struct import_result *out, int line, const char *message)
{
    json_array_append_new(out->errors, json_pack("{s:i, s:s}", "line", line, "message", message));
}

/* Write one parsed VEVENT (insert, update or skip).  Overrides come after their series. */
static int import_one(struct http_request *rq, int64_t calendar_id, const char *tz,
                      struct ical_event *x, int64_t horizon, struct import_result *out,
                      struct pl_error *err)
{
    struct event *ev = &x->ev, old, series;
    ev->calendar_id = calendar_id;
    ev->organizer_id = rq->user_id;
    if (ev->time_zone == NULL || *ev->time_zone == '\0')
        ev->time_zone = tz;
    if (ev->recurrence_id) {
        int rc = store_events_find_uid(rq->db, calendar_id, ev->uid, rq->arena, &series, err);
        if (rc == PL_ENOTFOUND || (rc == PL_OK && series.recurrence == NULL)) {
            add_error(out, x->line, "RECURRENCE-ID for a UID with no recurring event in the calendar");
            return PL_OK;
        }
        if (rc < 0)
            return rc;
        ev->parent_id = series.id;
        ev->uid = arena_printf(rq->arena, "%s/%lld", series.uid, (long long)ev->recurrence_id);
    }
    int rc = store_events_find_uid(rq->db, calendar_id, ev->uid, rq->arena, &old, err);
    if (rc < 0 && rc != PL_ENOTFOUND)
        return rc;
    bool exists = rc == PL_OK;
    /* The store keeps an override under "<series UID>/<occurrence>", a form a VEVENT's own UID
     * may have too: then the row found is not this VEVENT's, and neither takes the other's. */
    if (exists && (old.parent_id != 0) != (ev->parent_id != 0)) {
        add_error(out, x->line, ev->parent_id != 0
                                    ? "an event of the calendar has the UID this occurrence is"
                                      " kept under (the series' UID, '/', its start)"
                                    : "the UID is the one an occurrence of another event of the"
                                      " calendar is kept under");
        return PL_OK;
    }
    if (exists && ev->sequence <= old.sequence) {
        out->skipped++;
        return PL_OK;
    }
    struct participant *people;
    size_t npeople;
    int64_t *starts = NULL;
    size_t nstarts = 0;
    if ((rc = people_of(rq, x, &people, &npeople, err)) < 0)
        return rc;
    if (ev->recurrence && (rc = series_starts(rq, ev, horizon, &starts, &nstarts)) < 0) {
        add_error(out, x->line, rc == PL_ETOOBIG ? "the rule makes too many occurrences"
                                                 : "the recurrence rule cannot be expanded");
        return PL_OK;
    }
    if (exists) {
        ev->id = old.id;
        if ((rc = store_events_update(rq->db, ev, old.version, rq->now_us, err)) < 0)
            return rc;
        out->updated++;
    } else {
        if ((rc = store_events_insert(rq->db, ev, rq->now_us, err)) < 0)
            return rc;
        out->imported++;
    }
    /* A new event has no people or reminders to replace: skip the statements that would
     * clear them (most imported events have neither). */
    if (((exists || npeople > 0) &&
         (rc = store_events_set_participants(rq->db, ev->id, people, npeople, err)) < 0) ||
        ((exists || x->nreminders > 0) &&
         (rc = store_events_set_reminders(rq->db, ev->id, x->reminders, x->nreminders, err)) < 0) ||
        (exists && ev->recurrence && (rc = api_events_drop_stale_overrides(rq, ev, err)) < 0) ||
        (rc = api_events_index(rq, ev, horizon, starts, nstarts, err)) < 0 ||
        ((exists || x->nreminders > 0) &&
         (rc = store_notifications_schedule_reminders(rq->db, ev->id, rq->now_us, err)) < 0))
        return rc;
    /* An override changes which occurrences its series has (and so its reminders).  The series
     * was checked when it came in; should its expansion fail now, api_events_index says why. */
    if (ev->parent_id) {
        if (series_starts(rq, &series, horizon, &starts, &nstarts) < 0)
            starts = NULL;
        if ((rc = api_events_index(rq, &series, horizon, starts, nstarts, err)) < 0 ||
            (rc = store_notifications_schedule_reminders(rq->db, series.id, rq->now_us, err)) < 0)
            return rc;
    }
    return PL_OK;
}

/* Pass 1 writes the series and single events in the order of their starts rather than the
 * file's: the occurrence indexes are ordered by time, and inserting near the last insert keeps
 * the pages being written in SQLite's cache instead of spilling and re-reading them (measured:
 * a third less time for 100,000 events in random order).  VEVENTs that share a UID keep their
 * file order, at the place of the first of them, so that which one wins is the file's say. */
struct slot {
    const char *uid;
    size_t index, first; /* in the file; the first VEVENT with this UID */
    int64_t start_us;    /* of that first one */
};

static int by_uid(const void *l, const void *r)
{
    const struct slot *a = l, *b = r;
    int c = strcmp(a->uid, b->uid);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

static int by_start(const void *l, const void *r)
{
    const struct slot *a = l, *b = r;
    if (a->start_us != b->start_us)
        return a->start_us < b->start_us ? -1 : 1;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* The indexes into `events` of the VEVENTs that are not overrides, in writing order (from
 * `a`); *count of them. */
static size_t *write_order(const struct ical_event *events, size_t n, struct arena *a,
                           size_t *count)
{
    struct slot *s = arena_alloc(a, (n ? n : 1) * sizeof *s);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (events[i].ev.recurrence_id == 0)
            s[k++] = (struct slot){events[i].ev.uid, i, i, events[i].ev.start_us};
    qsort(s, k, sizeof *s, by_uid);
    for (size_t i = 1; i < k; i++)
        if (strcmp(s[i].uid, s[i - 1].uid) == 0) {
            s[i].first = s[i - 1].first;
            s[i].start_us = s[i - 1].start_us;
        }
    qsort(s, k, sizeof *s, by_start);
    size_t *order = arena_alloc(a, (k ? k : 1) * sizeof *order);
    for (size_t i = 0; i < k; i++)
        order[i] = s[i].index;
    *count = k;
    return order;
}

static int by_line(const void *l, const void *r)
{
    json_int_t a = json_integer_value(json_object_get(*(json_t *const *)l, "line"));
    json_int_t b = json_integer_value(json_object_get(*(json_t *const *)r, "line"));
    return (a > b) - (a < b);
}

/* Put errors[from..] in line order: the file's, whatever order they were found in. */
static void sort_errors(json_t *errors, size_t from, struct arena *a)
{
    size_t n = json_array_size(errors) - from;
    if (n < 2)
        return;
    json_t **e = arena_alloc(a, n * sizeof *e);
    for (size_t i = 0; i < n; i++)
        e[i] = json_incref(json_array_get(errors, from + i));
    qsort(e, n, sizeof *e, by_line);
    for (size_t i = 0; i < n; i++)
        json_array_set_new(errors, from + i, e[i]);
}

/* A non-atomic import commits whenever it has held the writers' lock this long, and lets the
 * writers that queued meanwhile in before it goes on: a file of series that are costly to
 * expand (FREQ=YEARLY;INTERVAL=4;BYYEARDAY=366 from a year after a leap year, 10 ms each in
 * libical) held it for the whole file, 4.7 s for 455 of them, and another user's create
 * beside it waited its 5 s and got a 503.  Each VEVENT's write stays whole, and a re-import
 * of the file after a failure half-way redoes only what is missing (UIDs). */
#define IMPORT_TX_MAX_US 50000

/* Between two VEVENTs: end the transaction and start the next when this one is old enough
 * (not for an atomic import, which is one transaction).  The next may find the server-wide
 * horizon moved (api_materialize_ahead): *horizon follows it. */
static int maybe_next_tx(struct http_request *rq, bool atomic, int64_t *tx_start,
                         int64_t *horizon, struct pl_error *err)
{
    if (atomic || clock_mono_us() - *tx_start < IMPORT_TX_MAX_US)
        return PL_OK;
    int rc = store_commit(rq->db, err);
    if (rc < 0)
        return rc;
    store_let_writers_in();
    if ((rc = store_begin(rq->db, err)) < 0)
        return rc;
    *tx_start = clock_mono_us();
    return api_materialize(rq, 0, NULL, true, horizon, err);
}

int api_import_ics(struct http_request *rq, int64_t calendar_id, const char *text, size_t len,
                   bool atomic, api_import_progress_fn progress, void *progress_ctx,
                   struct import_result *out, struct pl_error *err)
{
    struct calendar cal;
    struct ical_event *events;
    struct ical_error *errors;
    size_t n, nerrors;
    int64_t horizon;
    int rc;
    out->imported = out->updated = out->skipped = 0;
    out->errors = json_array();
    if ((rc = store_calendars_get(rq->db, calendar_id, rq->user_id, rq->arena, &cal, err)) < 0)
        return rc;
    if (progress)
        progress(progress_ctx, "parsing", 0, len);
    if ((rc = core_ical_parse(text, len, cal.time_zone, rq->arena, &events, &n, &errors, &nerrors,
                              err)) < 0)
        return rc;
    for (size_t i = 0; i < nerrors; i++)
        add_error(out, errors[i].line, errors[i].message);
    if (atomic && nerrors > 0)
        return pl_error_set(err, PL_EINVAL, "body", "the file has %zu unusable VEVENTs; nothing"
                            " was imported (atomic)", nerrors);
    if ((rc = store_bulk(rq->db, true, err)) < 0)
        return rc;
    if ((rc = store_begin(rq->db, err)) < 0)
        goto done;
    int64_t tx_start = clock_mono_us();
    if ((rc = api_materialize(rq, 0, NULL, true, &horizon, err)) < 0)
        goto fail;
    /* Series and single events first, then the overrides that point at them (in file order:
     * there are few). */
    size_t done = 0, nfirst, *first = write_order(events, n, rq->arena, &nfirst);
    size_t errors_before = json_array_size(out->errors);
    for (size_t k = 0; k < nfirst; k++, done++) {
        if (progress)
            progress(progress_ctx, "writing", done, n);
        if ((rc = maybe_next_tx(rq, atomic, &tx_start, &horizon, err)) < 0 ||
            (rc = import_one(rq, calendar_id, cal.time_zone, &events[first[k]], horizon, out,
                             err)) < 0)
            goto fail;
    }
    sort_errors(out->errors, errors_before, rq->arena);
    for (size_t i = 0; i < n; i++) {
        if (events[i].ev.recurrence_id == 0)
            continue;
        if (progress)
            progress(progress_ctx, "writing", done, n);
        if ((rc = maybe_next_tx(rq, atomic, &tx_start, &horizon, err)) < 0 ||
            (rc = import_one(rq, calendar_id, cal.time_zone, &events[i], horizon, out, err)) < 0)
            goto fail;
        done++;
    }
    if (progress)
        progress(progress_ctx, "writing", done, n);
    if (atomic && json_array_size(out->errors) > 0) {
        rc = pl_error_set(err, PL_EINVAL, "body", "some VEVENTs could not be imported; nothing"
                          " was imported (atomic)");
        goto fail;
    }
    rc = store_commit(rq->db, err);
    goto done;
fail:
    store_rollback(rq->db);
done:;
    /* Back to the small cache whatever happened: the connection serves requests next. */
    struct pl_error ignored = {0};
    if (store_bulk(rq->db, false, &ignored) < 0)
        log_msg(LOG_WARN, "import: could not shrink the page cache: %s", ignored.detail);
    return rc;
}

void api_import(struct http_request *rq)
{
    struct pl_error err = {0};
    struct calendar cal;
    struct import_result res = {0};
    int64_t id;
    const char *ct = http_header(rq, "Content-Type");
    const char *atomic = http_query(rq, "atomic");
    if (api_id(rq->params[0], &id, &err) < 0 ||
        store_calendars_get(rq->db, id, rq->user_id, rq->arena, &cal, &err) < 0)
        goto fail;
    if (cal.access == CAL_NONE) {
        pl_error_set(&err, PL_ENOTFOUND, NULL, "no calendar with id %lld", (long long)id);
        goto fail;
    }
    if (!core_event_may_write(cal.access)) {
        pl_error_set(&err, PL_EFORBIDDEN, NULL, "you may not add events to this calendar");
        goto fail;
    }
    if (ct == NULL || strncasecmp(ct, "text/calendar", 13) != 0) {
        pl_error_set(&err, PL_EMEDIA, NULL, "the body must be sent as text/calendar");
        goto fail;
    }
    if (atomic && strcmp(atomic, "true") != 0 && strcmp(atomic, "false") != 0) {
        pl_error_set(&err, PL_EINVAL, "atomic", "must be true or false");
        goto fail;
    }
    if (api_import_ics(rq, id, rq->body ? rq->body : "", rq->body_len,
                       atomic && strcmp(atomic, "true") == 0, NULL, NULL, &res, &err) < 0) {
        if (err.status == PL_EINVAL && res.errors && json_array_size(res.errors) > 0) {
            /* Atomic: the problem document lists every unusable VEVENT. */
            http_reply_error(rq, &err);
            json_t *p = json_loadb(rq->resp_body, rq->resp_len, 0, NULL);
            if (p) {
                json_object_set(p, "import_errors", res.errors);
                http_reply_json(rq, 422, p);
                rq->resp_type = "application/problem+json";
            }
            json_decref(res.errors);
            return;
        }
        json_decref(res.errors);
        goto fail;
    }
    http_reply_json(rq, 200, json_pack("{s:I, s:I, s:I, s:o}", "imported", (json_int_t)res.imported,
                                       "updated", (json_int_t)res.updated, "skipped",
                                       (json_int_t)res.skipped, "errors", res.errors));
    return;
fail:
    http_reply_error(rq, &err);
}
