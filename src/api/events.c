/* Events: create, read, change, delete, RSVP, the calendar and agenda listings, and the
 * occurrence representation the room and agenda listings share.  Every write runs in one
 * transaction with its room check and the notifications it causes. */
#include "api/api.h"
#include "api/internal.h"

#include "arena.h"
#include "config.h"
#include "http/json.h"
#include "core/event.h"
#include "core/recur.h"
#include "core/time.h"
#include "core/tz.h"
#include "secret.h"
#include "store/calendars.h"
#include "store/events.h"
#include "store/notifications.h"
#include "store/rooms.h"
#include "store/store.h"
#include "store/users.h"

#include <stdio.h>
#include <string.h>

/* Most conflicts a 409 lists. */
#define CONFLICTS_MAX 20

/* An instant as the API shows it: RFC 3339 in UTC, or the local date for all-day events. */
static json_t *when_json(int64_t us, bool all_day, const char *tz)
{
    struct core_civil c;
    if (all_day && core_tz_from_utc(tz, us, &c, NULL, NULL) == PL_OK) {
        char d[16];
        snprintf(d, sizeof d, "%04d-%02d-%02d", c.year, c.month, c.day);
        return json_string(d);
    }
    return api_time_json(us);
}

/* The single-event forms of a participant list and a room (event_json); listings write the
 * same shapes with write_participants and write_occurrence below (tests/api/test_events.py
 * checks that the two agree). */
static json_t *participants_json(const struct participant *p, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:o, s:s, s:s, s:s, s:s}", "user_id",
                                           p[i].user_id ? api_id_json(p[i].user_id) : json_null(),
                                           "email", p[i].email, "name", p[i].name, "role",
                                           core_participant_role_name(p[i].role), "rsvp",
                                           core_rsvp_name(p[i].rsvp)));
    return a;
}

static json_t *room_json(int64_t id, const char *name)
{
    return id ? json_pack("{s:o, s:s}", "id", api_id_json(id), "name", name ? name : "")
              : json_null();
}

/* The raw writer form of when_json (listings write their occurrences straight into the
 * response: http/json.h says why): at most WHEN_MAX bytes. */
enum { WHEN_MAX = API_TIME_RAW_MAX };
static char *raw_when(char *q, int64_t us, bool all_day, const char *tz)
{
    struct core_civil c;
    if (!all_day || core_tz_from_utc(tz, us, &c, NULL, NULL) != PL_OK)
        return api_time_raw(q, us);
    *q++ = '"';
    int n = snprintf(q, CORE_TIME_TEXT_MAX, "%04d-%02d-%02d", c.year, c.month, c.day);
    q += n < 0 ? 0 : n < CORE_TIME_TEXT_MAX ? n : CORE_TIME_TEXT_MAX - 1;
    *q++ = '"';
    return q;
}

/* A listing's participants (an agenda shows about a hundred): each object is written raw,
 * in room checked once for its longest form, since per key and value the writer's checks
 * cost more than the copying (callgrind). */
static void write_participants(struct http_json *w, const struct participant *p, size_t n)
{
    http_json_array(w);
    for (size_t i = 0; i < n; i++) {
        const char *role = core_participant_role_name(p[i].role), *rsvp = core_rsvp_name(p[i].rsvp);
        size_t le = p[i].email ? strlen(p[i].email) : 0, ln = p[i].name ? strlen(p[i].name) : 0;
        static const char keys[] = "{\"user_id\":,\"email\":,\"name\":,\"role\":\"\",\"rsvp\":\"\"}";
        char *q = http_json_raw(w, sizeof keys + HTTP_JSON_RAW_ID_MAX + 6 * (le + ln) + 8 +
                                       strlen(role) + strlen(rsvp));
        if (q == NULL)
            break;
        q = HTTP_JSON_RAW_LIT(q, "{\"user_id\":");
        q = http_json_raw_id(q, p[i].user_id);
        q = HTTP_JSON_RAW_LIT(q, ",\"email\":");
        q = http_json_raw_string(q, p[i].email, le);
        q = HTTP_JSON_RAW_LIT(q, ",\"name\":");
        q = http_json_raw_string(q, p[i].name, ln);
        q = HTTP_JSON_RAW_LIT(q, ",\"role\":\"");
        q = stpcpy(q, role);
        q = HTTP_JSON_RAW_LIT(q, "\",\"rsvp\":\"");
        q = stpcpy(q, rsvp);
        q = HTTP_JSON_RAW_LIT(q, "\"}");
        http_json_raw_end(w, q);
    }
    http_json_array_end(w);
}

/* One occurrence as the listings show it; others' private events only as busy time.  Written
 * raw, like its participants, up to the participant list. */
static void write_occurrence(struct http_json *w, const struct occurrence *o)
{
    static const char keys[] =
        "{\"event_id\":,\"recurrence_id\":,\"calendar_id\":,\"start\":,\"end\":,"
        "\"all_day\":false,\"status\":\"\",\"visibility\":\"private\",\"busy\":true}"
        ",\"title\":,\"location\":,\"visibility\":\"\",\"organizer_id\":,\"room\":{\"id\":,"
        "\"name\":}";
    int view = core_event_view(o->access, o->visibility == EVENT_VISIBILITY_PRIVATE,
                               o->is_participant);
    bool full = view == EVENT_VIEW_FULL;
    const char *status = core_event_status_name(o->status),
               *visibility = core_event_visibility_name(o->visibility),
               *room = o->room_name ? o->room_name : "";
    size_t lt = full && o->title ? strlen(o->title) : 0,
           ll = full && o->location ? strlen(o->location) : 0,
           lr = full && o->room_id ? strlen(room) : 0;
    /* Every key, three instants, four ids, the names, and each string at its worst (escaped,
     * or null); one "null" per string beyond its quotes. */
    char *q = http_json_raw(w, sizeof keys + 3 * WHEN_MAX + 4 * HTTP_JSON_RAW_ID_MAX +
                                   strlen(status) + strlen(visibility) + 6 * (lt + ll + lr) + 16);
    if (q == NULL)
        return;
    q = HTTP_JSON_RAW_LIT(q, "{\"event_id\":");
    q = http_json_raw_int_string(q, o->series_id);
    q = HTTP_JSON_RAW_LIT(q, ",\"recurrence_id\":");
    q = o->recurrence_id ? raw_when(q, o->recurrence_id, false, NULL) : HTTP_JSON_RAW_LIT(q, "null");
    q = HTTP_JSON_RAW_LIT(q, ",\"calendar_id\":");
    q = http_json_raw_int_string(q, o->calendar_id);
    q = HTTP_JSON_RAW_LIT(q, ",\"start\":");
    q = raw_when(q, o->start_us, o->all_day, o->time_zone);
    q = HTTP_JSON_RAW_LIT(q, ",\"end\":");
    q = raw_when(q, o->end_us, o->all_day, o->time_zone);
    q = o->all_day ? HTTP_JSON_RAW_LIT(q, ",\"all_day\":true") : HTTP_JSON_RAW_LIT(q, ",\"all_day\":false");
    q = HTTP_JSON_RAW_LIT(q, ",\"status\":\"");
    q = stpcpy(q, status);
    if (!full) {
        /* Busy only: nothing that says what the time is for. */
        q = HTTP_JSON_RAW_LIT(q, "\",\"visibility\":\"private\",\"busy\":true}");
        http_json_raw_end(w, q);
        return;
    }
    q = HTTP_JSON_RAW_LIT(q, "\",\"title\":");
    q = http_json_raw_string(q, o->title, lt);
    q = HTTP_JSON_RAW_LIT(q, ",\"location\":");
    q = http_json_raw_string(q, o->location, ll);
    q = HTTP_JSON_RAW_LIT(q, ",\"visibility\":\"");
    q = stpcpy(q, visibility);
    q = HTTP_JSON_RAW_LIT(q, "\",\"organizer_id\":");
    q = http_json_raw_int_string(q, o->organizer_id);
    if (o->room_id) {
        q = HTTP_JSON_RAW_LIT(q, ",\"room\":{\"id\":");
        q = http_json_raw_int_string(q, o->room_id);
        q = HTTP_JSON_RAW_LIT(q, ",\"name\":");
        q = http_json_raw_string(q, room, lr);
        q = HTTP_JSON_RAW_LIT(q, "}");
    } else {
        q = HTTP_JSON_RAW_LIT(q, ",\"room\":null");
    }
    /* Still inside the object: the participants are the next member, then its '}'. */
    http_json_raw_end(w, q);
    http_json_key(w, "participants");
    write_participants(w, o->participants, o->nparticipants);
    http_json_object_end(w);
}

int api_occurrence_page(struct http_request *rq, struct store_page *page, struct pl_error *err)
{
    int limit;
    const char *cursor = http_query(rq, "cursor");
    page->after_start_us = page->after_id = 0;
    int rc = api_page_limit(rq, &limit, err); /* the cursor has a form of its own here */
    if (rc < 0)
        return rc;
    if (cursor != NULL && *cursor != '\0') {
        long long s, id;
        char tail;
        if (sscanf(cursor, "%lld.%lld%c", &s, &id, &tail) != 2 || id <= 0)
            return pl_error_set(err, PL_EINVAL, "cursor", "is not a cursor this server issued");
        page->after_start_us = s;
        page->after_id = id;
    }
    page->limit = limit + 1;
    return PL_OK;
}

void api_reply_occurrences(struct http_request *rq, const struct occurrence *occ, size_t n,
                           const struct store_page *page)
{
    bool more = n >= (size_t)page->limit;
    if (more)
        n = (size_t)page->limit - 1;
    struct http_json w;
    http_json_init(&w);
    http_json_object(&w);
    http_json_key(&w, "items");
    http_json_array(&w);
    for (size_t i = 0; i < n; i++)
        write_occurrence(&w, &occ[i]);
    http_json_array_end(&w);
    http_json_key(&w, "next_cursor");
    if (more) {
        char cursor[48];
        snprintf(cursor, sizeof cursor, "%lld.%lld", (long long)occ[n - 1].start_us,
                 (long long)occ[n - 1].instance_id);
        http_json_string(&w, cursor);
    } else {
        http_json_null(&w);
    }
    http_json_object_end(&w);
    http_reply_json_text(rq, 200, &w);
}

static const char *event_etag(struct http_request *rq, const struct event *ev)
{
    return arena_printf(rq->arena, "\"e%lld-%lld\"", (long long)ev->id, (long long)ev->version);
}

/* The busy-only form is another representation of the event: it has its own tag, so a viewer
 * whose access grows (or shrinks) never keeps the other form through a 304. */
static const char *event_busy_etag(struct http_request *rq, const struct event *ev)
{
    return arena_printf(rq->arena, "\"e%lld-%lld-busy\"", (long long)ev->id,
                        (long long)ev->version);
}

/* The full representation, for those who may see everything. */
/* The recurrence lines of an event as a JSON array (empty for a single event). */
static json_t *recurrence_json(const char *lines)
{
    json_t *a = json_array();
    for (const char *p = lines; p && *p;) {
        size_t n = strcspn(p, "\n");
        json_array_append_new(a, json_stringn(p, n));
        p += n + (p[n] == '\n');
    }
    return a;
}

static json_t *event_json(struct http_request *rq, const struct event *ev, const char *room_name,
                          const struct participant *p, size_t np, const int *reminders,
                          size_t nrem)
{
    json_t *rem = json_array();
    for (size_t i = 0; i < nrem; i++)
        json_array_append_new(rem, json_pack("{s:i}", "minutes_before", reminders[i]));
    json_t *j = json_pack(
        "{s:o, s:s, s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:s, s:b, s:o, s:o, s:o, s:s, s:s, s:o,"
        " s:o, s:I, s:o, s:o, s:s}",
        "id", api_id_json(core_event_public_id(ev)), "uid", ev->uid,
        "calendar_id", api_id_json(ev->calendar_id),
        "organizer_id", api_id_json(ev->organizer_id), "title", ev->title, "description",
        ev->description, "location", ev->location, "start",
        when_json(ev->start_us, ev->all_day, ev->time_zone), "end",
        when_json(ev->end_us, ev->all_day, ev->time_zone), "time_zone", ev->time_zone, "all_day",
        ev->all_day, "room_id", ev->room_id ? api_id_json(ev->room_id) : json_null(), "room",
        room_json(ev->room_id, room_name), "participants", participants_json(p, np),
        "visibility", core_event_visibility_name(ev->visibility), "status",
        core_event_status_name(ev->status), "reminders", rem, "recurrence",
        recurrence_json(ev->recurrence), "sequence",
        (json_int_t)ev->sequence, "created_at", api_time_json(ev->created_us), "updated_at",
        api_time_json(ev->updated_us), "etag", event_etag(rq, ev));
    if (ev->parent_id) {
        /* An override answers as the occurrence of its series it is. */
        const char *slash = strrchr(ev->uid, '/');
        json_object_set_new(j, "uid", json_stringn(ev->uid, slash ? (size_t)(slash - ev->uid)
                                                                   : strlen(ev->uid)));
        json_object_set_new(j, "recurrence_id", api_time_json(ev->recurrence_id));
    }
    return j;
}

/* The busy-only representation of an event the viewer may not read. */
static json_t *event_busy_json(struct http_request *rq, const struct event *ev)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:b, s:s, s:s, s:b, s:s}", "id", api_id_json(ev->id),
                     "calendar_id", api_id_json(ev->calendar_id), "start",
                     when_json(ev->start_us, ev->all_day, ev->time_zone), "end",
                     when_json(ev->end_us, ev->all_day, ev->time_zone), "all_day", ev->all_day,
                     "status", core_event_status_name(ev->status), "visibility", "private",
                     "busy", 1, "etag", event_busy_etag(rq, ev));
}

/* ---- reading the request body ------------------------------------------------------------ */

/* What a create or patch body says, parsed and checked field by field. */
struct event_body {
    bool has_participants, has_reminders, has_room, has_recurrence;
    bool skip_conflicts; /* book a series without the occurrences whose room is taken */
    json_t *participants; /* the array, when present */
    int reminders[CORE_EVENT_REMINDERS_MAX];
    size_t nreminders;
};

/* Parse start/end (dates when all_day, else RFC 3339) into `ev`.  A patch may give only one
 * of them: a new start keeps the duration, a new end keeps the start. */
static int parse_times(json_t *body, struct event *ev, bool create, bool all_day_changed,
                       struct pl_error *err)
{
    const char *start, *end;
    int rc;
    if ((rc = api_string(body, "start", create || all_day_changed, &start, err)) < 0 ||
        (rc = api_string(body, "end", create && !ev->all_day, &end, err)) < 0)
        return rc;
    if (start == NULL && end == NULL)
        return PL_OK;
    int64_t duration = ev->end_us - ev->start_us;
    if (ev->all_day) {
        struct core_civil d;
        if (start) {
            if ((rc = core_tz_parse_date(start, &d, "start", err)) < 0 ||
                (rc = core_tz_to_utc(ev->time_zone, &d, &ev->start_us, "time_zone", err)) < 0)
                return rc;
        }
        if (end) {
            if ((rc = core_tz_parse_date(end, &d, "end", err)) < 0 ||
                (rc = core_tz_to_utc(ev->time_zone, &d, &ev->end_us, "time_zone", err)) < 0)
                return rc;
        } else {
            /* One day, or the old length in days: the next local midnight(s), DST-safe. */
            int64_t days = create || all_day_changed ? 1 : (duration + 43200000000) / 86400000000;
            struct core_civil s;
            if ((rc = core_tz_from_utc(ev->time_zone, ev->start_us, &s, "time_zone", err)) < 0)
                return rc;
            int64_t z = core_time_days_from_civil(s.year, (unsigned)s.month, (unsigned)s.day) +
                        (days > 0 ? days : 1);
            int64_t y;
            unsigned m, dd;
            core_time_civil_from_days(z, &y, &m, &dd);
            struct core_civil e = {.year = (int)y, .month = (int)m, .day = (int)dd};
            if ((rc = core_tz_to_utc(ev->time_zone, &e, &ev->end_us, "time_zone", err)) < 0)
                return rc;
        }
        return PL_OK;
    }
    if (start && (rc = core_time_parse(start, "start", &ev->start_us, err)) < 0)
        return rc;
    if (end)
        rc = core_time_parse(end, "end", &ev->end_us, err);
    else
        ev->end_us = ev->start_us + duration;
    return rc;
}

static int parse_reminders(json_t *body, struct event_body *b, struct pl_error *err)
{
    json_t *r = json_object_get(body, "reminders");
    if (r == NULL)
        return PL_OK;
    if (!json_is_array(r))
        return pl_error_set(err, PL_EINVAL, "reminders", "must be an array");
    if (json_array_size(r) > CORE_EVENT_REMINDERS_MAX)
        return pl_error_set(err, PL_EINVAL, "reminders", "at most %d reminders",
                            CORE_EVENT_REMINDERS_MAX);
    size_t i;
    json_t *x;
    json_array_foreach(r, i, x) {
        static const char *const allowed[] = {"minutes_before", NULL};
        char field[64];
        int64_t m;
        bool present;
        snprintf(field, sizeof field, "reminders[%zu].minutes_before", i);
        if (!json_is_object(x))
            return pl_error_set(err, PL_EINVAL, "reminders", "items must be objects");
        int rc = api_only_fields(x, allowed, err);
        if (rc == PL_OK)
            rc = api_int(x, "minutes_before", true, 0, CORE_EVENT_REMINDER_MAX_MIN, &m, &present,
                         err);
        if (rc < 0) {
            snprintf(err->field, sizeof err->field, "%s", field);
            return rc;
        }
        b->reminders[b->nreminders++] = (int)m;
    }
    b->has_reminders = true;
    return PL_OK;
}

/* Apply the fields of `body` to `ev` (defaults already in it for a create). */
static int parse_event(struct http_request *rq, json_t *body, bool create, struct event *ev,
                       struct event_body *b, struct pl_error *err)
{
    static const char *const allowed[] = {"title",     "description", "location",   "start",
                                          "end",       "time_zone",   "all_day",    "room_id",
                                          "participants", "visibility", "status",   "reminders",
                                          "recurrence", "skip_conflicts", NULL};
    const char *title, *description, *location, *tz, *visibility, *status;
    int all_day, rc;
    if ((rc = api_only_fields(body, allowed, err)) < 0 ||
        (rc = api_string(body, "title", create, &title, err)) < 0 ||
        (rc = api_string(body, "description", false, &description, err)) < 0 ||
        (rc = api_string(body, "location", false, &location, err)) < 0 ||
        (rc = api_string(body, "time_zone", false, &tz, err)) < 0 ||
        (rc = api_bool(body, "all_day", &all_day, err)) < 0 ||
        (rc = api_string(body, "visibility", false, &visibility, err)) < 0 ||
        (rc = api_string(body, "status", false, &status, err)) < 0)
        return rc;
    if (title)
        ev->title = title;
    if (description)
        ev->description = description;
    if (location)
        ev->location = location;
    if (tz) {
        if ((rc = core_tz_check(tz, "time_zone", err)) < 0)
            return rc;
        ev->time_zone = tz;
    }
    if (visibility && (rc = core_event_visibility_parse(visibility, "visibility", &ev->visibility,
                                                        err)) < 0)
        return rc;
    if (status && (rc = core_event_status_parse(status, "status", &ev->status, err)) < 0)
        return rc;
    if (create && ev->status == EVENT_STATUS_CANCELLED)
        return pl_error_set(err, PL_EINVAL, "status", "a new event cannot be cancelled");
    bool all_day_changed = all_day >= 0 && (all_day != 0) != ev->all_day;
    if (all_day >= 0)
        ev->all_day = all_day != 0;
    if ((rc = parse_times(body, ev, create, all_day_changed && !create, err)) < 0)
        return rc;

    json_t *rec = json_object_get(body, "recurrence");
    if (rec != NULL && !json_is_null(rec)) {
        if (!json_is_array(rec) || json_array_size(rec) > CORE_RECUR_LINES_MAX)
            return pl_error_set(err, PL_EINVAL, "recurrence", "must be an array of at most %d lines",
                                CORE_RECUR_LINES_MAX);
        const char **lines = arena_alloc(rq->arena, (json_array_size(rec) + 1) * sizeof *lines);
        for (size_t i = 0; i < json_array_size(rec); i++) {
            json_t *x = json_array_get(rec, i);
            if (!json_is_string(x) || json_string_length(x) > CORE_RECUR_LINE_MAX ||
                strlen(json_string_value(x)) != json_string_length(x))
                return pl_error_set(err, PL_EINVAL, "recurrence", "recurrence[%zu] must be a line like"
                                    " \"RRULE:FREQ=WEEKLY\"", i);
            lines[i] = json_string_value(x);
        }
        char *normalized;
        if ((rc = core_recur_parse(lines, json_array_size(rec), ev->time_zone, ev->all_day,
                                   rq->arena, &normalized, err)) < 0)
            return rc;
        ev->recurrence = normalized;
        b->has_recurrence = true;
    } else if (rec != NULL) {
        ev->recurrence = NULL; /* null: no longer recurring */
        b->has_recurrence = true;
    }
    int skip;
    if ((rc = api_bool(body, "skip_conflicts", &skip, err)) < 0)
        return rc;
    b->skip_conflicts = skip == 1;

    json_t *room = json_object_get(body, "room_id");
    if (room != NULL) {
        if ((rc = api_id_member(body, "room_id", false, &ev->room_id, err)) < 0)
            return rc;
        b->has_room = true;
    }
    json_t *p = json_object_get(body, "participants");
    if (p != NULL) {
        if (!json_is_array(p))
            return pl_error_set(err, PL_EINVAL, "participants", "must be an array");
        if (json_array_size(p) > CORE_EVENT_PARTICIPANTS_MAX)
            return pl_error_set(err, PL_EINVAL, "participants", "at most %d participants",
                                CORE_EVENT_PARTICIPANTS_MAX);
        b->participants = p;
        b->has_participants = true;
    }
    if ((rc = parse_reminders(body, b, err)) < 0)
        return rc;
    return core_event_check(ev, err);
}

/* Build the participant list from the request's array: the organizer first (accepted), then
 * each {user_id} (checked to exist, in one query) or {email}; RSVPs of people already on the
 * event (`old`) are kept. */
static int build_participants(struct http_request *rq, json_t *arr, int64_t organizer_id,
                              const struct participant *old, size_t nold,
                              struct participant **out, size_t *n, struct pl_error *err)
{
    size_t count = arr ? json_array_size(arr) : 0;
    struct participant *list = arena_zalloc(rq->arena, (count + 1) * sizeof *list);
    int64_t *ids = arena_alloc(rq->arena, (count + 1) * sizeof *ids);
    size_t nids = 0;
    int rc;
    ids[nids++] = organizer_id;
    for (size_t i = 0; i < count; i++) {
        static const char *const allowed[] = {"user_id", "email", NULL};
        json_t *x = json_array_get(arr, i);
        char field[48];
        snprintf(field, sizeof field, "participants[%zu]", i);
        if (!json_is_object(x))
            return pl_error_set(err, PL_EINVAL, field, "must be {\"user_id\": ...} or {\"email\": ...}");
        int64_t uid;
        const char *email;
        if ((rc = api_only_fields(x, allowed, err)) < 0 ||
            (rc = api_id_member(x, "user_id", false, &uid, err)) < 0 ||
            (rc = api_string(x, "email", false, &email, err)) < 0) {
            char inner[sizeof err->field];
            memcpy(inner, err->field, sizeof inner);
            snprintf(err->field, sizeof err->field, "%.20s.%.40s", field, inner);
            return rc;
        }
        if ((uid == 0) == (email == NULL))
            return pl_error_set(err, PL_EINVAL, field, "needs exactly one of user_id and email");
        if (uid) {
            ids[nids++] = uid;
        } else {
            char *norm = arena_alloc(rq->arena, CORE_USER_EMAIL_MAX + 1);
            if ((rc = core_user_email_normalize(email, "email", norm, CORE_USER_EMAIL_MAX + 1,
                                                err)) < 0) {
                snprintf(err->field, sizeof err->field, "%s.email", field);
                return rc;
            }
            list[i + 1].email = norm;
            list[i + 1].name = "";
        }
        list[i + 1].user_id = uid;
        list[i + 1].role = PARTICIPANT_ATTENDEE;
        list[i + 1].rsvp = RSVP_NEEDS_ACTION;
    }
    /* An address that belongs to a user makes that user the participant, so that they see
     * the event and are notified like anyone invited by id. */
    const char **emails = arena_alloc(rq->arena, (count + 1) * sizeof *emails);
    size_t nemails = 0;
    for (size_t i = 0; i < count; i++)
        if (list[i + 1].user_id == 0)
            emails[nemails++] = list[i + 1].email;
    struct user *users, *by_email;
    if ((rc = store_users_lookup(rq->db, ids, nids, rq->arena, &users, err)) < 0 ||
        (rc = store_users_lookup_emails(rq->db, emails, nemails, rq->arena, &by_email, err)) < 0)
        return rc;
    if (users[0].id == 0)
        return pl_error_set(err, PL_EINVAL, "organizer_id", "the organizer is not an active user");
    list[0] = (struct participant){organizer_id, users[0].email, users[0].name,
                                   PARTICIPANT_ORGANIZER, RSVP_ACCEPTED};
    size_t k = 1, e = 0, out_n = 1;
    for (size_t i = 0; i < count; i++) {
        struct participant p = list[i + 1];
        if (p.user_id) {
            struct user *u = &users[k++];
            if (u->id == 0)
                return pl_error_set(err, PL_EINVAL, "participants",
                                    "participants[%zu].user_id: no active user %lld", i,
                                    (long long)p.user_id);
            p.email = u->email;
            p.name = u->name;
        } else if (by_email[e++].id != 0) {
            p.user_id = by_email[e - 1].id;
            p.email = by_email[e - 1].email;
            p.name = by_email[e - 1].name;
        }
        /* The organizer listed again, or anyone listed twice: keep the first. */
        bool dup = false;
        for (size_t j = 0; j < out_n && !dup; j++)
            dup = p.user_id ? list[j].user_id == p.user_id
                            : list[j].user_id == 0 && strcmp(list[j].email, p.email) == 0;
        if (dup)
            continue;
        for (size_t j = 0; j < nold; j++)
            if (p.user_id ? old[j].user_id == p.user_id
                          : old[j].user_id == 0 && strcmp(old[j].email, p.email) == 0)
                p.rsvp = old[j].rsvp;
        list[out_n++] = p;
    }
    *out = list;
    *n = out_n;
    return PL_OK;
}

/* The room must exist, hold everyone and, when newly chosen, be active (an event keeps a room
 * that was retired after it was booked). */
static int check_room(struct http_request *rq, int64_t room_id, size_t people, bool newly_chosen,
                      const char **room_name, struct pl_error *err)
{
    struct room r;
    int rc = store_rooms_get(rq->db, room_id, rq->arena, &r, err);
    if (rc == PL_ENOTFOUND || (rc == PL_OK && newly_chosen && !r.is_active))
        return pl_error_set(err, PL_EINVAL, "room_id", "no active room %lld", (long long)room_id);
    if (rc < 0)
        return rc;
    if (people > (size_t)r.capacity)
        return pl_error_set(err, PL_EINVAL, "room_id",
                            "room \"%.100s\" holds %d people; the event has %zu participants",
                            r.name, r.capacity, people);
    *room_name = r.name;
    return PL_OK;
}

/* A cancelled event frees its room, so neither the room's size nor its state binds it; but a
 * room newly named must still be one (an active one), as for any event: the row would
 * otherwise name nothing (the foreign key refused it, a 500). */
static int check_cancelled_room(struct http_request *rq, const struct event *ev,
                                int64_t room_before, const char **room_name, struct pl_error *err)
{
    if (ev->status != EVENT_STATUS_CANCELLED || ev->room_id == 0 || ev->room_id == room_before)
        return PL_OK;
    return check_room(rq, ev->room_id, 0, true, room_name, err);
}

#define DAY_US (INT64_C(86400) * 1000000)
/* How far ahead of now recurring events are ever expanded: a query past it is refused. */
#define EXPAND_LIMIT_US (INT64_C(20) * 366 * DAY_US)

/* An EXDATE line (core/recur.h's normalised form) excluding the occurrence at `start`. */
static const char *exdate_line(struct http_request *rq, const struct event *ev, int64_t start)
{
    if (ev->all_day) {
        struct core_civil d;
        if (core_tz_from_utc(ev->time_zone, start, &d, NULL, NULL) == PL_OK)
            return arena_printf(rq->arena, "EXDATE;VALUE=DATE:%04d%02d%02d", d.year, d.month, d.day);
    }
    char t[CORE_TIME_TEXT_MAX], compact[CORE_TIME_TEXT_MAX];
    size_t k = 0;
    core_time_format(start - start % CORE_TIME_US_PER_S, t);
    for (const char *c = t; *c; c++) /* 2026-12-01T07:00:00Z -> 20261201T070000Z */
        if (*c != '-' && *c != ':')
            compact[k++] = *c;
    compact[k] = '\0';
    return arena_printf(rq->arena, "EXDATE:%s", compact);
}

static struct recur_series series_of(const struct event *ev)
{
    return (struct recur_series){ev->recurrence, ev->start_us, ev->time_zone, ev->all_day};
}

/* The starts of ev's occurrences in [from, to).  Too many is the client's rule: 422. */
/* The start every expansion begins from: RDATEs may come before DTSTART. */
#define EXPAND_FROM_US (INT64_C(-62135596800) * 1000000) /* 0001-01-01 */

/* Every start of ev's occurrences in [from, to), however many: expanded window by window,
 * each small enough for the expansion cap. */
static int expand_all(struct arena *a, const struct event *ev, int64_t from, int64_t to,
                      int64_t **starts, size_t *n, struct pl_error *err)
{
    struct recur_series s = series_of(ev);
    int64_t *all = NULL;
    size_t count = 0, cap = 0;
    for (int64_t lo = from; lo < to;) {
        int64_t hi = to, *part;
        size_t np;
        int rc;
        while ((rc = core_recur_expand(&s, lo, hi, CORE_RECUR_MAX_PER_SERIES, a, &part, &np,
                                       err)) == PL_ETOOBIG && hi - lo > CORE_TIME_US_PER_S)
            hi = lo + (hi - lo) / 2;
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < np; i++) {
            all = arena_grow(a, all, count, &cap, sizeof *all);
            all[count++] = part[i];
        }
        lo = hi;
    }
    *starts = all;
    *n = count;
    return PL_OK;
}

/* The starts of ev's occurrences up to `to` (the server-wide horizon).  A rule is refused (422)
 * when it makes more than CORE_RECUR_MAX_PER_SERIES occurrences within the configured horizon
 * after its first start; past that the horizon may reach further (a query asked for a far
 * range) and the series is expanded as far, however many occurrences that takes. */
static int series_starts(struct http_request *rq, const struct event *ev, int64_t to,
                         int64_t **starts, size_t *n, struct pl_error *err)
{
    struct recur_series s = series_of(ev);
    int64_t *probe;
    size_t np;
    int rc = core_recur_expand(&s, ev->start_us,
                               ev->start_us + (int64_t)rq->cfg->recurrence_horizon_days * DAY_US,
                               CORE_RECUR_MAX_PER_SERIES, rq->arena, &probe, &np, err);
    if (rc == PL_ETOOBIG)
        return pl_error_set(err, PL_EINVAL, "recurrence",
                            "the rule makes more than %d occurrences within %d days;"
                            " recur less often or end it (COUNT, UNTIL)",
                            CORE_RECUR_MAX_PER_SERIES, rq->cfg->recurrence_horizon_days);
    if (rc < 0)
        return rc;
    if (core_recur_too_many(&s, np, (int64_t)rq->cfg->recurrence_horizon_days * DAY_US, to))
        return pl_error_set(err, PL_EINVAL, "recurrence",
                            "the series would have more than %d occurrences from its first start"
                            " on; start it later, recur less often or end it (COUNT, UNTIL)",
                            CORE_RECUR_MAX_INDEXED);
    return expand_all(rq->arena, ev, EXPAND_FROM_US, to, starts, n, err);
}

/* The ends of the occurrences at `starts`: the start plus the event's length, except for
 * all-day events, which end at local midnight as many days later (a day across a DST change
 * is 23 or 25 hours).  NULL when every end is start + length. */
static int64_t *occurrence_ends(struct arena *a, const struct event *ev, const int64_t *starts,
                                size_t n)
{
    if (!ev->all_day)
        return NULL;
    int64_t days = (ev->end_us - ev->start_us + DAY_US / 2) / DAY_US;
    int64_t *ends = arena_alloc(a, (n ? n : 1) * sizeof *ends);
    for (size_t i = 0; i < n; i++) {
        struct core_civil d;
        ends[i] = starts[i] + (ev->end_us - ev->start_us);
        if (core_tz_from_utc(ev->time_zone, starts[i], &d, NULL, NULL) == PL_OK) {
            int64_t y, z = core_time_days_from_civil(d.year, (unsigned)d.month, (unsigned)d.day) + days;
            unsigned m, dd;
            core_time_civil_from_days(z, &y, &m, &dd);
            struct core_civil e = {.year = (int)y, .month = (int)m, .day = (int)dd};
            int64_t end;
            if (core_tz_to_utc(ev->time_zone, &e, &end, NULL, NULL) == PL_OK)
                ends[i] = end;
        }
    }
    return ends;
}

/* Extend one series' occurrences from its own horizon to `until`, adding their number to
 * *added.  The new occurrences get their reminders too (only they: the others have theirs),
 * when the series has any (a third of W200's: the look is cheaper than the statement). */
static int extend_series(struct store *db, struct arena *a, const struct event *s,
                         int64_t until, int64_t now_us, size_t *added, struct pl_error *err)
{
    int64_t *starts;
    size_t n, nrem;
    int *rem;
    int rc = expand_all(a, s, s->updated_us, until, &starts, &n, err);
    if (rc < 0 || (rc = store_events_extend(db, s->id, starts, occurrence_ends(a, s, starts, n),
                                            n, until, a, err)) < 0)
        return rc;
    *added += n;
    if (n == 0 || (rc = store_events_reminders(db, s->id, a, &rem, &nrem, err)) < 0 || nrem == 0)
        return rc;
    int64_t first = starts[0];
    for (size_t i = 1; i < n; i++)
        first = starts[i] < first ? starts[i] : first;
    return store_notifications_remind_from(db, s->id, first, now_us, err);
}

/* A batch's work: up to 100 series, and no more series once EXTEND_BATCH_OCCURRENCES new
 * occurrences are made (~27 us each with their people and reminders), so that a transaction
 * stays short however far the extension goes: a batch of 100 weekly series to 19 years ahead
 * made 99,000 and held writers for ~2.5 s. */
enum { EXTEND_BATCH_SERIES = 100, EXTEND_BATCH_OCCURRENCES = 2000 };

/* Extend a batch of the series that reach less far than `want`, among `ids` (NULL: every
 * series); *n says how many it extended, *all whether that was each one it found (0 found:
 * none left). */
static int extend_batch(struct store *db, int64_t want, const int64_t *ids, size_t nids,
                        int64_t now_us, size_t *n, bool *all, struct pl_error *err)
{
    struct arena *a = arena_new(64 * 1024);
    struct event *batch;
    size_t found = 0, added = 0;
    *n = 0;
    int rc = store_events_series_to_extend(db, want, ids, nids, EXTEND_BATCH_SERIES, a, &batch,
                                           &found, err);
    for (; rc == PL_OK && *n < found && added < EXTEND_BATCH_OCCURRENCES; (*n)++)
        rc = extend_series(db, a, &batch[*n], want, now_us, &added, err);
    *all = *n == found;
    arena_free(a);
    return rc;
}

enum { EXTEND_SLACK_DAYS = 30, AHEAD_BATCHES = 10 };

/* How far an extension for `need` goes: EXTEND_SLACK_DAYS further, in whole days, so that the
 * work (every series' new occurrences: about 3 s for W200 x10's 20,000 series) comes once a
 * month rather than with every day. */
static int64_t extend_to(int64_t need)
{
    return (need / DAY_US + 1 + EXTEND_SLACK_DAYS) * DAY_US;
}

/* Extend the series `ids` (NULL: every series) to `want` in one short transaction per batch
 * of series (`own_tx`; else in the caller's), `batches` of them at most (0: as many as it
 * takes): each batch records how far its series reach, so a batch that commits is never
 * redone, and writers wait for one batch at most.  When every series was extended, the
 * last, empty batch moves the server-wide mark, never backwards. */
static int extend_batches(struct store *db, int64_t want, const int64_t *ids, size_t nids,
                          int64_t now_us, int batches, bool own_tx, struct pl_error *err)
{
    size_t done = 0; /* of ids, those that reach `want` */
    for (int b = 0; (batches == 0 || b < batches) && !(ids && done == nids); b++) {
        /* The writers' lock is not fair: taken again at once, it would go to the next batch
         * before a writer that queued meanwhile had woken, batch after batch (a request
         * beside a long extension waited its 5 s and was answered 503). */
        if (b > 0 && own_tx)
            store_let_writers_in();
        size_t n, chunk = ids && nids - done < EXTEND_BATCH_SERIES ? nids - done
                                                                   : EXTEND_BATCH_SERIES;
        bool all;
        int64_t meta;
        int rc = own_tx ? store_begin(db, err) : PL_OK;
        if (rc < 0)
            return rc;
        rc = extend_batch(db, want, ids ? ids + done : NULL, chunk, now_us, &n, &all, err);
        if (rc == PL_OK && !ids && n == 0 &&
            (rc = store_meta_get(db, "materialized_until", &meta, err)) == PL_OK && meta < want)
            rc = store_meta_set(db, "materialized_until", want, err);
        if (own_tx)
            rc = rc < 0 ? (store_rollback(db), rc) : store_commit(db, err);
        if (rc < 0)
            return rc;
        if (ids)
            done += all ? chunk : 0;
        else if (n == 0)
            break;
    }
    return PL_OK;
}

/* The same, each batch with a cache that holds what it changes (store_bulk): with a
 * connection's own, SQLite spilled a batch's pages to the WAL and read them back. */
static int extend_in_batches(struct store *db, int64_t want, const int64_t *ids, size_t nids,
                             int64_t now_us, int batches, bool own_tx, struct pl_error *err)
{
    if (!own_tx) /* the caller's transaction: its cache is the caller's to size */
        return extend_batches(db, want, ids, nids, now_us, batches, false, err);
    int rc = store_bulk(db, true, err);
    if (rc < 0)
        return rc;
    rc = extend_batches(db, want, ids, nids, now_us, batches, true, err);
    struct pl_error ignored = {0};
    int back = store_bulk(db, false, rc < 0 ? &ignored : err);
    return rc < 0 ? rc : back;
}

/* Have the series `ids` (NULL: every series) reach `want`. */
static int extend(struct http_request *rq, int64_t want, const int64_t *ids, size_t nids,
                  bool in_tx, struct pl_error *err)
{
    if (rq->may_extend_first) {
        /* The request gives up (a write its transaction: its caller rolls back on any error;
         * in it, the extension held every other writer up for as long, a week 19 years ahead
         * 54 s at W200), and serve_route has it extended in short transactions on a side
         * thread (api_extend_pending), then run again.  `ids` live in the request's arena. */
        rq->extend_to = want;
        rq->extend_ids = ids;
        rq->extend_nids = nids;
        pl_error_set(err, PL_EUNAVAIL, NULL, "recurring events are being expanded; try again");
        err->retry_after_s = 1;
        return PL_EUNAVAIL;
    }
    /* A read outside serve_route in short transactions all the same; a write (the CLI's
     * import, a rerun that finds more to do) inside its transaction. */
    return extend_in_batches(rq->db, want, ids, nids, rq->now_us, 0, !in_tx, err);
}

/* How far a write needs the series expanded for an event: a series' occurrences are indexed
 * (and their room checked) up to the horizon past its first start, a single event's is its
 * own. */
static int64_t reach_of(const struct http_request *rq, const struct event *ev)
{
    return ev->recurrence ? ev->start_us + (int64_t)rq->cfg->recurrence_horizon_days * DAY_US
                          : ev->end_us;
}

/* What a write's room check meets: the series of the event's room (none without one). */
#define ROOM_SCOPE(ev) (&(struct store_scope){.rooms = &(ev).room_id, .nrooms = (ev).room_id != 0})

int api_materialize(struct http_request *rq, int64_t until, const struct store_scope *scope,
                    bool in_tx, int64_t *horizon, struct pl_error *err)
{
    int64_t meta, ahead = rq->now_us + (int64_t)rq->cfg->recurrence_horizon_days * DAY_US;
    int rc = store_meta_get(rq->db, "materialized_until", &meta, err);
    if (rc < 0)
        return rc;
    /* Every series reaches `meta`.  A write needs that to be the horizon ahead of now: its
     * room checks cover a new series' every occurrence that far.  The idle thread keeps it
     * so (api_materialize_ahead); a write that finds it short extends every series. */
    if (in_tx && meta < ahead) {
        int64_t want = extend_to(ahead);
        if ((rc = extend(rq, want, NULL, 0, true, err)) < 0)
            return rc;
        meta = want;
    }
    *horizon = meta;
    if (until <= meta)
        return PL_OK;
    if (until > rq->now_us + EXPAND_LIMIT_US)
        return pl_error_set(err, PL_EINVAL, "to", "recurring events are expanded at most 20 years"
                            " ahead; ask for an earlier range");
    /* Further out, only the series the request can meet need to reach `until` (a read's
     * range, a write's room check): the far agenda of one user extends that user's series,
     * not everyone's (every series of W200 to 19 years ahead took 70 s of a core and left
     * the database 570 MB larger).  A write's `horizon` is as far as the series it changes
     * are re-indexed and their room checked: the room's series must reach it. */
    *horizon = extend_to(until);
    if (scope == NULL)
        return extend(rq, *horizon, NULL, 0, in_tx, err);
    int64_t *ids;
    size_t n;
    if ((rc = store_events_series_short(rq->db, in_tx ? *horizon : until, scope, rq->arena, &ids,
                                        &n, err)) < 0)
        return rc;
    return n == 0 ? PL_OK : extend(rq, *horizon, ids, n, in_tx, err);
}

bool api_extend_pending(struct http_request *rq)
{
    if (rq->extend_to == 0)
        return false;
    int64_t want = rq->extend_to;
    const int64_t *ids = rq->extend_ids;
    size_t n = rq->extend_nids;
    rq->extend_to = 0;
    rq->extend_ids = NULL;
    rq->extend_nids = 0;
    rq->may_extend_first = false; /* once: run again, it extends in its transaction if it must */
    struct pl_error err = {0};
    if (extend_in_batches(rq->db, want, ids, n, rq->now_us, 0, true, &err) < 0 ||
        store_snapshot(rq->db, &err) < 0) {
        http_reply_error(rq, &err);
        return false;
    }
    http_reply_reset(rq);
    return true;
}

int api_materialize_ahead(struct store *db, const struct config *cfg, int64_t now_us,
                          struct pl_error *err)
{
    int64_t meta, ahead = now_us + (int64_t)cfg->recurrence_horizon_days * DAY_US;
    int rc = store_meta_get(db, "materialized_until", &meta, err);
    if (rc < 0 || meta >= ahead + EXTEND_SLACK_DAYS / 2 * DAY_US)
        return rc;
    /* At most AHEAD_BATCHES per call, so that the caller's loop (checkpoints, SIGTERM) goes
     * on; the next call carries on where this one stopped. */
    return extend_in_batches(db, extend_to(ahead), NULL, 0, now_us, AHEAD_BATCHES, true, err);
}

/* Rebuild the occurrences of `ev` (a series up to `horizon`, from `starts` when the caller
 * has them already). */
int api_events_index(struct http_request *rq, const struct event *ev, int64_t horizon,
                     const int64_t *starts, size_t n, struct pl_error *err)
{
    static const int64_t none[1];
    int64_t *own;
    int rc;
    if (ev->recurrence == NULL)
        return store_events_reindex(rq->db, ev->id, NULL, NULL, 0, 0, rq->arena, err);
    if (starts == NULL) {
        if ((rc = series_starts(rq, ev, horizon, &own, &n, err)) < 0)
            return rc;
        starts = own;
    }
    /* A series with no occurrence (every one excluded) has none: NULL starts would index it
     * as a single event, at its excluded first start. */
    if (starts == NULL)
        starts = none;
    return store_events_reindex(rq->db, ev->id, starts, occurrence_ends(rq->arena, ev, starts, n),
                                n, horizon, rq->arena, err);
}

/* Answer 409 listing the bookings that block the room for any of the `n` occurrences at
 * `starts` (each lasting ev's duration), or return PL_OK when it is free for all of them.  With
 * `skip`, a series is booked without the blocked occurrences instead: each becomes an EXDATE
 * of ev->recurrence and leaves `starts`.  Runs inside the write transaction. */
static int check_room_free(struct http_request *rq, struct event *ev, int64_t *starts, size_t *n,
                           bool skip, json_t **conflicts, struct pl_error *err)
{
    int64_t duration = ev->end_us - ev->start_us;
    int64_t *ranges = arena_alloc(rq->arena, (2 * *n + 2) * sizeof *ranges);
    for (size_t i = 0; i < *n; i++) {
        ranges[2 * i] = starts[i];
        ranges[2 * i + 1] = starts[i] + duration;
    }
    struct conflict *c;
    size_t nc;
    int rc = store_events_room_conflicts(rq->db, ev->room_id, ranges, *n, ev->id,
                                         skip ? CORE_RECUR_MAX_PER_SERIES : CONFLICTS_MAX,
                                         rq->arena, &c, &nc, err);
    if (rc < 0 || nc == 0)
        return rc;
    if (skip && ev->recurrence) {
        size_t kept = 0;
        for (size_t i = 0; i < *n; i++) {
            bool blocked = false;
            for (size_t k = 0; k < nc && !blocked; k++)
                blocked = c[k].blocked_start_us == starts[i];
            if (blocked)
                ev->recurrence = arena_printf(rq->arena, "%s\n%s", ev->recurrence,
                                              exdate_line(rq, ev, starts[i]));
            else
                starts[kept++] = starts[i];
        }
        *n = kept;
        return PL_OK;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < nc && i < CONFLICTS_MAX; i++)
        json_array_append_new(list, json_pack("{s:o, s:o, s:o}", "event_id",
                                              api_id_json(c[i].event_id), "start",
                                              api_time_json(c[i].start_us), "end",
                                              api_time_json(c[i].end_us)));
    *conflicts = list;
    return pl_error_set(err, PL_ECONFLICT, "room_id", "the room is already booked at that time");
}

static void reply_conflict(struct http_request *rq, struct pl_error *err, json_t *conflicts)
{
    http_reply_error(rq, err);
    if (conflicts == NULL)
        return;
    /* Re-render with the conflicts list added to the problem document. */
    json_error_t jerr;
    json_t *p = json_loadb(rq->resp_body, rq->resp_len, 0, &jerr);
    if (p != NULL) {
        json_object_set_new(p, "conflicts", conflicts);
        http_reply_json(rq, 409, p);
        rq->resp_type = "application/problem+json";
    } else {
        json_decref(conflicts);
    }
}

static bool listed(const struct participant *p, size_t n, const struct participant *x)
{
    for (size_t i = 0; i < n; i++)
        if (x->user_id ? p[i].user_id == x->user_id
                       : p[i].user_id == 0 && strcmp(p[i].email, x->email) == 0)
            return true;
    return false;
}

/* Notify of `ev` the participants p[i] with an account, other than `skip`, whose types[i]
 * is `type` (all of them when types is NULL): one statement for all. */
static int notify_typed(struct http_request *rq, const struct event *ev,
                        const struct participant *p, size_t n, const int *types, int type,
                        int64_t skip, struct pl_error *err)
{
    int64_t *users = arena_alloc(rq->arena, (n ? n : 1) * sizeof *users);
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].user_id != 0 && p[i].user_id != skip && (types == NULL || types[i] == type))
            users[count++] = p[i].user_id;
    struct notification x = {.event_id = core_event_public_id(ev), .type = type,
                             .actor_id = rq->user_id, .title = ev->title,
                             .start_us = ev->start_us, .end_us = ev->end_us,
                             .created_us = rq->now_us, .scheduled_us = rq->now_us};
    return store_notifications_add_each(rq->db, &x, users, count, rq->arena, err);
}

/* Notify each participating user but `skip` (the actor) of `type`. */
static int notify_all(struct http_request *rq, const struct event *ev,
                      const struct participant *p, size_t n, int type, int64_t skip,
                      struct pl_error *err)
{
    return notify_typed(rq, ev, p, n, NULL, type, skip, err);
}

/* After a change of `ev` whose participants were before[] and are people[]: the added get an
 * invitation, those who stay an update (a cancellation when the change cancelled the event). */
static int notify_kept(struct http_request *rq, const struct event *ev,
                       const struct participant *before, size_t nbefore,
                       const struct participant *people, size_t npeople, bool cancelled,
                       struct pl_error *err)
{
    int *types = arena_alloc(rq->arena, (npeople ? npeople : 1) * sizeof *types);
    for (size_t i = 0; i < npeople; i++)
        types[i] = !listed(before, nbefore, &people[i]) ? NOTIFY_INVITATION
                   : cancelled                          ? NOTIFY_CANCELLATION
                                                        : NOTIFY_UPDATE;
    static const int kinds[] = {NOTIFY_INVITATION, NOTIFY_UPDATE, NOTIFY_CANCELLATION};
    int rc = PL_OK;
    for (size_t k = 0; rc == PL_OK && k < sizeof kinds / sizeof kinds[0]; k++)
        rc = notify_typed(rq, ev, people, npeople, types, kinds[k], rq->user_id, err);
    return rc;
}

/* ... and those no longer among them hear of a cancellation of the event as it was (`old`). */
static int notify_removed(struct http_request *rq, const struct event *old,
                          const struct participant *before, size_t nbefore,
                          const struct participant *people, size_t npeople, struct pl_error *err)
{
    int *gone = arena_alloc(rq->arena, (nbefore ? nbefore : 1) * sizeof *gone);
    for (size_t i = 0; i < nbefore; i++)
        gone[i] = listed(people, npeople, &before[i]) ? -1 : NOTIFY_CANCELLATION;
    return notify_typed(rq, old, before, nbefore, gone, NOTIFY_CANCELLATION, rq->user_id, err);
}

/* ---- handlers ----------------------------------------------------------------------------- */

/* After a change of a series, drop the overrides that no longer replace one of its
 * occurrences (all of them when it stopped recurring); those that still apply are kept. */
int api_events_drop_stale_overrides(struct http_request *rq, const struct event *ev,
                                    struct pl_error *err)
{
    struct event *ov;
    size_t n;
    int rc = store_events_overrides(rq->db, ev->id, rq->arena, &ov, &n, err);
    struct recur_series s = series_of(ev);
    for (size_t i = 0; rc == PL_OK && i < n; i++)
        if (ev->recurrence == NULL || !core_recur_has(&s, ov[i].recurrence_id))
            if ((rc = store_notifications_drop_reminders(rq->db, ov[i].id, false, err)) == PL_OK)
                rc = store_events_delete(rq->db, ov[i].id, err);
    return rc;
}

void api_events_create(struct http_request *rq)
{
    struct pl_error err = {0};
    struct calendar cal;
    struct event ev = {0};
    struct event_body b = {0};
    struct participant *people;
    size_t npeople;
    const char *room_name = NULL;
    json_t *conflicts = NULL, *body;
    int64_t cal_id;
    char uid[64];
    int rc;
    if ((rc = api_id(rq->params[0], &cal_id, &err)) < 0 ||
        (rc = store_calendars_get(rq->db, cal_id, rq->user_id, rq->arena, &cal, &err)) < 0)
        goto fail;
    if (cal.access == CAL_NONE) {
        rc = pl_error_set(&err, PL_ENOTFOUND, NULL, "no calendar with id %lld", (long long)cal_id);
        goto fail;
    }
    if (!core_event_may_write(cal.access)) {
        rc = pl_error_set(&err, PL_EFORBIDDEN, NULL, "you may not add events to this calendar");
        goto fail;
    }
    if ((body = http_body_object(rq, &err)) == NULL)
        goto fail;
    secret_random_hex(uid, 16);
    ev.uid = arena_printf(rq->arena, "%s@planner", uid);
    ev.calendar_id = cal_id;
    ev.organizer_id = rq->user_id;
    ev.time_zone = cal.time_zone;
    ev.description = ev.location = "";
    if ((rc = parse_event(rq, body, true, &ev, &b, &err)) < 0 ||
        (rc = build_participants(rq, b.participants, rq->user_id, NULL, 0, &people, &npeople,
                                 &err)) < 0 ||
        (ev.room_id && (rc = check_room(rq, ev.room_id, npeople, true, &room_name, &err)) < 0))
        goto fail;

    /* Under the write lock: the series of its room expanded at least as far as this event
     * reaches (its end, or a horizon past its first occurrence), then the room check, then
     * the writes. */
    int64_t horizon, *starts = &ev.start_us;
    size_t nstarts = 1;
    int64_t reach = reach_of(rq, &ev);
    if ((rc = store_begin(rq->db, &err)) < 0)
        goto fail;
    if ((rc = api_materialize(rq, reach, ROOM_SCOPE(ev), true, &horizon, &err)) < 0 ||
        (ev.recurrence &&
         (rc = series_starts(rq, &ev, horizon, &starts, &nstarts, &err)) < 0) ||
        (ev.room_id && ev.status != EVENT_STATUS_CANCELLED &&
         (rc = check_room_free(rq, &ev, starts, &nstarts, b.skip_conflicts, &conflicts, &err)) < 0) ||
        (rc = store_events_insert(rq->db, &ev, rq->now_us, &err)) < 0 ||
        (rc = store_events_set_participants(rq->db, ev.id, people, npeople, &err)) < 0 ||
        (b.nreminders > 0 &&
         (rc = store_events_set_reminders(rq->db, ev.id, b.reminders, b.nreminders, &err)) < 0) ||
        (rc = api_events_index(rq, &ev, horizon, ev.recurrence ? starts : NULL, nstarts, &err)) < 0 ||
        (rc = notify_all(rq, &ev, people, npeople, NOTIFY_INVITATION, rq->user_id, &err)) < 0 ||
        /* A new event has no reminders to reconcile: only to add, if it has any. */
        (b.nreminders > 0 &&
         (rc = store_notifications_remind_from(rq->db, ev.id, 0, rq->now_us, &err)) < 0)) {
        store_rollback(rq->db);
        goto fail;
    }
    if ((rc = store_commit(rq->db, &err)) < 0)
        goto fail;
    rq->etag = event_etag(rq, &ev);
    rq->location = arena_printf(rq->arena, "/api/v1/events/%lld", (long long)ev.id);
    http_reply_json(rq, 201, event_json(rq, &ev, room_name, people, npeople, b.reminders,
                                        b.nreminders));
    return;
fail:
    reply_conflict(rq, &err, conflicts);
}

/* Read event `id` for the caller; answers 404 itself when the caller may not see it. */
static bool load(struct http_request *rq, struct event *ev, int *access, bool *participant,
                 int *view, struct pl_error *err)
{
    int64_t id;
    if (api_id(rq->params[0], &id, err) < 0 ||
        store_events_get(rq->db, id, rq->user_id, rq->arena, ev, access, participant, err) < 0)
        return false;
    *view = core_event_view(*access, ev->visibility == EVENT_VISIBILITY_PRIVATE, *participant);
    /* An override is reached through its series' /instances, never by its own row id. */
    if (*view == EVENT_VIEW_NONE || ev->parent_id != 0) {
        pl_error_set(err, PL_ENOTFOUND, NULL, "no event with id %lld", (long long)id);
        return false;
    }
    return true;
}

void api_events_get(struct http_request *rq)
{
    struct pl_error err = {0};
    struct event ev;
    int access, view;
    bool participant;
    struct participant *people;
    size_t npeople, nrem;
    int *rem;
    struct room room;
    if (!load(rq, &ev, &access, &participant, &view, &err))
        goto fail;
    const char *etag = view == EVENT_VIEW_BUSY ? event_busy_etag(rq, &ev) : event_etag(rq, &ev);
    if (http_not_modified(rq, etag))
        return;
    rq->etag = etag;
    if (view == EVENT_VIEW_BUSY) {
        http_reply_json(rq, 200, event_busy_json(rq, &ev));
        return;
    }
    room.name = NULL;
    if (store_events_participants(rq->db, ev.id, rq->arena, &people, &npeople, &err) < 0 ||
        store_events_reminders(rq->db, ev.id, rq->arena, &rem, &nrem, &err) < 0 ||
        (ev.room_id && store_rooms_get(rq->db, ev.room_id, rq->arena, &room, &err) < 0))
        goto fail;
    http_reply_json(rq, 200, event_json(rq, &ev, room.name, people, npeople, rem, nrem));
    return;
fail:
    http_reply_error(rq, &err);
}

/* A series' reminders are its overrides' too (PATCH of an occurrence cannot change them):
 * set and scheduled there as well. */
static int reminders_to_overrides(struct http_request *rq, int64_t series_id, const int *rem,
                                  size_t nrem, struct pl_error *err)
{
    struct event *ov;
    size_t nov;
    int rc = store_events_overrides(rq->db, series_id, rq->arena, &ov, &nov, err);
    for (size_t i = 0; rc == PL_OK && i < nov; i++)
        if ((rc = store_events_set_reminders(rq->db, ov[i].id, rem, nrem, err)) == PL_OK)
            rc = store_notifications_schedule_reminders(rq->db, ov[i].id, rq->now_us, err);
    return rc;
}

/* A series cancelled takes its moved occurrences with it (they stayed confirmed: busy, and
 * reminded); its participants hear of it once, from the series.  Restoring the series leaves
 * them cancelled: each is restored on its own. */
static int cancel_overrides(struct http_request *rq, int64_t series_id, struct pl_error *err)
{
    struct event *ov;
    size_t nov;
    int rc = store_events_overrides(rq->db, series_id, rq->arena, &ov, &nov, err);
    for (size_t i = 0; rc == PL_OK && i < nov; i++) {
        if (ov[i].status == EVENT_STATUS_CANCELLED)
            continue;
        ov[i].status = EVENT_STATUS_CANCELLED;
        /* Their reminders went with the series' (api_events_patch). */
        if ((rc = store_events_update(rq->db, &ov[i], -1, rq->now_us, err)) == PL_OK)
            rc = store_events_reindex(rq->db, ov[i].id, NULL, NULL, 0, 0, rq->arena, err);
    }
    return rc;
}

void api_events_patch(struct http_request *rq)
{
    struct pl_error err = {0};
    struct event old, ev;
    struct event_body b = {0};
    int access, view, rc, *rem;
    bool participant;
    struct participant *before, *people;
    size_t nbefore, npeople, nrem;
    const char *room_name = NULL;
    json_t *conflicts = NULL, *body;
    if ((body = http_body_object(rq, &err)) == NULL)
        goto fail;
    /* Everything from the first read on happens under the write lock: what is checked (the
     * version, the room) cannot change before the commit. */
    if ((rc = store_begin(rq->db, &err)) < 0)
        goto fail;
    if (!load(rq, &old, &access, &participant, &view, &err))
        goto rollback;
    if (!core_event_may_write(access)) {
        pl_error_set(&err, PL_EFORBIDDEN, NULL, "you may not change events of this calendar");
        goto rollback;
    }
    if (http_precondition(rq, event_etag(rq, &old), &err) < 0 ||
        store_events_participants(rq->db, old.id, rq->arena, &before, &nbefore, &err) < 0 ||
        store_events_reminders(rq->db, old.id, rq->arena, &rem, &nrem, &err) < 0)
        goto rollback;
    ev = old;
    if (parse_event(rq, body, false, &ev, &b, &err) < 0)
        goto rollback;
    people = before;
    npeople = nbefore;
    if (b.has_participants &&
        build_participants(rq, b.participants, old.organizer_id, before, nbefore, &people,
                           &npeople, &err) < 0)
        goto rollback;
    /* An edit that leaves the occurrences and their people as they were (a new title,
     * description, location or visibility, which the store copies to the occurrences) needs
     * no expansion, room check or re-index: three quarters of such a PATCH's work. */
    bool same = core_event_same_occurrences(&old, &ev) && !b.has_participants;
    int64_t horizon = 0, *starts = &ev.start_us;
    size_t nstarts = 1;
    int64_t reach = reach_of(rq, &ev);
    if (!same &&
        (api_materialize(rq, reach, ROOM_SCOPE(ev), true, &horizon, &err) < 0 ||
         (ev.recurrence && series_starts(rq, &ev, horizon, &starts, &nstarts, &err) < 0) ||
         api_events_drop_stale_overrides(rq, &ev, &err) < 0))
        goto rollback;
    /* Room rules bind a booking that is kept or made: a cancelled event frees its room, so it
     * may be cancelled whatever became of the room.  Capacity is checked when the room or the
     * people change, the room being free whenever anything could make it clash. */
    if (check_cancelled_room(rq, &ev, old.room_id, &room_name, &err) < 0)
        goto rollback;
    if (!same && ev.room_id && ev.status != EVENT_STATUS_CANCELLED) {
        bool room_changed = ev.room_id != old.room_id;
        if ((room_changed || b.has_participants) &&
            check_room(rq, ev.room_id, npeople, room_changed, &room_name, &err) < 0)
            goto rollback;
        if (check_room_free(rq, &ev, starts, &nstarts, b.skip_conflicts, &conflicts, &err) < 0)
            goto rollback;
    }
    if (store_events_update(rq->db, &ev, old.version, rq->now_us, &err) < 0 ||
        (b.has_participants &&
         store_events_set_participants(rq->db, ev.id, people, npeople, &err) < 0) ||
        (b.has_reminders &&
         store_events_set_reminders(rq->db, ev.id, b.reminders, b.nreminders, &err) < 0) ||
        (!same &&
         api_events_index(rq, &ev, horizon, ev.recurrence ? starts : NULL, nstarts, &err) < 0))
        goto rollback;
    bool cancelled = ev.status == EVENT_STATUS_CANCELLED && old.status != EVENT_STATUS_CANCELLED;
    if (notify_removed(rq, &old, before, nbefore, people, npeople, &err) < 0 ||
        notify_kept(rq, &ev, before, nbefore, people, npeople, cancelled, &err) < 0)
        goto rollback;
    if (ev.status == EVENT_STATUS_CANCELLED) /* its overrides' too when it is cancelled now */
        rc = store_notifications_drop_reminders(rq->db, ev.id, cancelled, &err);
    else if (!same || b.has_reminders)
        rc = store_notifications_schedule_reminders(rq->db, ev.id, rq->now_us, &err);
    else if (strcmp(old.title, ev.title) != 0)
        rc = store_notifications_retitle_reminders(rq->db, ev.id, rq->now_us, &err);
    else
        rc = PL_OK;
    if (rc < 0 || (b.has_reminders && ev.recurrence &&
                   reminders_to_overrides(rq, ev.id, b.reminders, b.nreminders, &err) < 0) ||
        (cancelled && ev.recurrence && cancel_overrides(rq, ev.id, &err) < 0))
        goto rollback;
    if (store_commit(rq->db, &err) < 0)
        goto fail;
    struct room kept;
    if (ev.room_id && room_name == NULL)
        room_name = store_rooms_get(rq->db, ev.room_id, rq->arena, &kept, &err) == PL_OK ? kept.name : "";
    rq->etag = event_etag(rq, &ev);
    http_reply_json(rq, 200, event_json(rq, &ev, room_name, people, npeople,
                                        b.has_reminders ? b.reminders : rem,
                                        b.has_reminders ? b.nreminders : nrem));
    return;
rollback:
    store_rollback(rq->db);
fail:
    reply_conflict(rq, &err, conflicts);
}

void api_events_delete(struct http_request *rq)
{
    struct pl_error err = {0};
    struct event ev;
    int access, view;
    bool participant;
    struct participant *people;
    size_t npeople;
    if (store_begin(rq->db, &err) < 0)
        goto fail;
    if (!load(rq, &ev, &access, &participant, &view, &err))
        goto rollback;
    if (!core_event_may_write(access)) {
        pl_error_set(&err, PL_EFORBIDDEN, NULL, "you may not delete events of this calendar");
        goto rollback;
    }
    if (http_precondition(rq, event_etag(rq, &ev), &err) < 0 ||
        store_events_participants(rq->db, ev.id, rq->arena, &people, &npeople, &err) < 0 ||
        (ev.status != EVENT_STATUS_CANCELLED &&
         notify_all(rq, &ev, people, npeople, NOTIFY_CANCELLATION, rq->user_id, &err) < 0) ||
        /* Its overrides' reminders too: they go with it (ON DELETE CASCADE), and notifications
         * keep no key to their event (a cancellation outlives it). */
        store_notifications_drop_reminders(rq->db, ev.id, true, &err) < 0 ||
        store_events_delete(rq->db, ev.id, &err) < 0)
        goto rollback;
    if (store_commit(rq->db, &err) < 0)
        goto fail;
    http_reply_empty(rq, 204);
    return;
rollback:
    store_rollback(rq->db);
fail:
    http_reply_error(rq, &err);
}

void api_events_rsvp(struct http_request *rq)
{
    static const char *const allowed[] = {"status", NULL};
    struct pl_error err = {0};
    struct event ev;
    int access, view, rsvp;
    bool participant;
    const char *status;
    json_t *body = http_body_object(rq, &err);
    if (body == NULL || api_only_fields(body, allowed, &err) < 0 ||
        api_string(body, "status", true, &status, &err) < 0)
        goto fail;
    if (strcmp(status, "needs-action") == 0 || core_rsvp_parse(status, "status", &rsvp, &err) < 0) {
        pl_error_set(&err, PL_EINVAL, "status", "must be accepted, declined or tentative");
        goto fail;
    }
    if (store_begin(rq->db, &err) < 0)
        goto fail;
    if (!load(rq, &ev, &access, &participant, &view, &err))
        goto rollback;
    /* The answer holds for the whole series: its overrides too (where the user takes part).
     * An answer changes only this user's claim on the occurrences, not the occurrences; the
     * answer already given changes nothing at all (no new version, no notification).  The
     * user's reminders follow whether the occurrences keep them busy: only declining or
     * taking a refusal back changes that (reconciling them was 40 % of an answer's
     * instructions, callgrind). */
    struct event *ov;
    size_t nov;
    int was;
    if (store_events_set_rsvp(rq->db, ev.id, rq->user_id, rsvp, rq->now_us, &was, &err) < 0 ||
        (was != rsvp && store_events_reindex_user(rq->db, ev.id, rq->user_id, &err) < 0) ||
        store_events_overrides(rq->db, ev.id, rq->arena, &ov, &nov, &err) < 0)
        goto rollback;
    bool changed = was != rsvp;
    bool busy_changed = changed && (was == RSVP_DECLINED || rsvp == RSVP_DECLINED);
    for (size_t i = 0; i < nov; i++) {
        int ov_was;
        int rc = store_events_set_rsvp(rq->db, ov[i].id, rq->user_id, rsvp, rq->now_us, &ov_was,
                                       &err);
        if (rc == PL_EFORBIDDEN)
            continue;
        if (rc < 0 || (ov_was != rsvp &&
                       store_events_reindex_user(rq->db, ov[i].id, rq->user_id, &err) < 0) ||
            (ov_was != rsvp && (ov_was == RSVP_DECLINED || rsvp == RSVP_DECLINED) &&
             store_notifications_schedule_reminders_of(rq->db, ov[i].id, rq->user_id, rq->now_us,
                                                       &err) < 0))
            goto rollback;
        changed = changed || ov_was != rsvp;
    }
    if (!changed) {
        store_rollback(rq->db); /* nothing was written */
        goto answer;
    }
    if (ev.organizer_id != rq->user_id) {
        struct notification x = {.user_id = ev.organizer_id, .event_id = ev.id, .type = NOTIFY_RSVP,
                                 .actor_id = rq->user_id, .title = ev.title,
                                 .start_us = ev.start_us, .end_us = ev.end_us,
                                 .detail = core_rsvp_name(rsvp), .created_us = rq->now_us,
                                 .scheduled_us = rq->now_us};
        if (store_notifications_add(rq->db, &x, &err) < 0)
            goto rollback;
    }
    if (busy_changed &&
        store_notifications_schedule_reminders_of(rq->db, ev.id, rq->user_id, rq->now_us, &err) < 0)
        goto rollback;
    if (store_commit(rq->db, &err) < 0)
        goto fail;
answer:
    http_reply_json(rq, 200, json_pack("{s:o, s:o, s:s}", "event_id", api_id_json(ev.id),
                                       "user_id", api_id_json(rq->user_id), "status",
                                       core_rsvp_name(rsvp)));
    return;
rollback:
    store_rollback(rq->db);
fail:
    http_reply_error(rq, &err);
}

void api_events_list(struct http_request *rq)
{
    struct pl_error err = {0};
    struct calendar cal;
    int64_t cal_id, from, to;
    struct occurrence *occ;
    struct store_page page;
    size_t n;
    int64_t horizon;
    if (api_id(rq->params[0], &cal_id, &err) < 0 || api_range(rq, &from, &to, &err) < 0 ||
        api_occurrence_page(rq, &page, &err) < 0 ||
        api_materialize(rq, to, &(struct store_scope){.calendar_id = cal_id}, false, &horizon,
                        &err) < 0 ||
        store_calendars_get(rq->db, cal_id, rq->user_id, rq->arena, &cal, &err) < 0)
        goto fail;
    if (cal.access == CAL_NONE) {
        pl_error_set(&err, PL_ENOTFOUND, NULL, "no calendar with id %lld", (long long)cal_id);
        goto fail;
    }
    if (store_events_in_calendar(rq->db, cal_id, rq->user_id, from, to, &page, rq->arena, &occ,
                                 &n, &err) < 0 ||
        store_events_attach_participants(rq->db, occ, n, rq->arena, &err) < 0)
        goto fail;
    api_reply_occurrences(rq, occ, n, &page);
    return;
fail:
    http_reply_error(rq, &err);
}

void api_events_agenda(struct http_request *rq)
{
    struct pl_error err = {0};
    int64_t from, to;
    struct occurrence *occ;
    struct store_page page;
    size_t n;
    int64_t horizon;
    if (api_range(rq, &from, &to, &err) < 0 || api_occurrence_page(rq, &page, &err) < 0 ||
        api_materialize(rq, to, &(struct store_scope){.users = &rq->user_id, .nusers = 1}, false,
                        &horizon, &err) < 0 ||
        store_events_agenda(rq->db, rq->user_id, from, to, &page, rq->arena, &occ, &n, &err) < 0 ||
        store_events_attach_participants(rq->db, occ, n, rq->arena, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    api_reply_occurrences(rq, occ, n, &page);
}

/* ---- one occurrence of a series ------------------------------------------------------------ */

/* The series params[0] for a writer, and the occurrence params[1] ("2026-12-01T07:00:00Z", as
 * listings give it) that it really has: an override's, or one the rule produces. */
static bool load_occurrence(struct http_request *rq, struct event *series, int64_t *rid,
                            struct event *override, bool *has_override, struct pl_error *err)
{
    int access, view;
    bool participant;
    if (!load(rq, series, &access, &participant, &view, err))
        return false;
    if (!core_event_may_write(access)) {
        pl_error_set(err, PL_EFORBIDDEN, NULL, "you may not change events of this calendar");
        return false;
    }
    if (series->recurrence == NULL) {
        pl_error_set(err, PL_ENOTFOUND, NULL, "event %lld does not recur", (long long)series->id);
        return false;
    }
    if (core_time_parse(rq->params[1], "recurrence_id", rid, err) < 0) {
        pl_error_set(err, PL_ENOTFOUND, NULL, "no occurrence %.64s", rq->params[1]);
        return false;
    }
    int rc = store_events_override_get(rq->db, series->id, *rid, rq->arena, override, err);
    if (rc < 0 && rc != PL_ENOTFOUND)
        return false;
    *has_override = rc == PL_OK;
    struct recur_series s = series_of(series);
    if (!*has_override && !core_recur_has(&s, *rid)) {
        pl_error_set(err, PL_ENOTFOUND, NULL, "no occurrence %.64s", rq->params[1]);
        return false;
    }
    return true;
}

void api_events_instances(struct http_request *rq)
{
    struct pl_error err = {0};
    struct event ev;
    int access, view;
    bool participant;
    int64_t from, to, horizon;
    struct occurrence *occ;
    struct store_page page;
    size_t n;
    if (!load(rq, &ev, &access, &participant, &view, &err) || api_range(rq, &from, &to, &err) < 0 ||
        api_occurrence_page(rq, &page, &err) < 0 ||
        api_materialize(rq, to, &(struct store_scope){.series_id = ev.id}, false, &horizon,
                        &err) < 0 ||
        store_events_in_series(rq->db, ev.id, rq->user_id, from, to, &page, rq->arena, &occ, &n,
                               &err) < 0 ||
        store_events_attach_participants(rq->db, occ, n, rq->arena, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    api_reply_occurrences(rq, occ, n, &page);
}

/* "This and following": the series ends just before the occurrence, and a new series made
 * from the rest, with the changes asked for, starts there.  Overrides from the occurrence on
 * move to the new series (and go if the change makes them stale).  The new series has a UID of
 * its own (RFC 5545 has no way to say "the rest of that UID" that clients understand). */
static void patch_following(struct http_request *rq)
{
    struct pl_error err = {0};
    struct event series, ov, ev;
    struct event_body b = {0};
    struct participant *people;
    size_t npeople, nrem, nstarts;
    int64_t rid, horizon, *starts;
    int *rem;
    bool has_override;
    char *before, *after, uid[33];
    const char *room_name = NULL;
    json_t *conflicts = NULL, *body;
    if ((body = http_body_object(rq, &err)) == NULL)
        goto fail;
    if (store_begin(rq->db, &err) < 0)
        goto fail;
    if (!load_occurrence(rq, &series, &rid, &ov, &has_override, &err))
        goto rollback;
    if (http_precondition(rq, event_etag(rq, &series), &err) < 0)
        goto rollback;
    if (rid <= series.start_us) { /* from the first occurrence on: the whole series changes */
        store_rollback(rq->db);
        api_events_patch(rq);
        return;
    }
    ev = series;
    ev.id = 0;
    secret_random_hex(uid, 16);
    ev.uid = arena_printf(rq->arena, "%s@planner", uid);
    ev.start_us = rid;
    ev.end_us = rid + (series.end_us - series.start_us);
    ev.sequence = 0;
    if (parse_event(rq, body, false, &ev, &b, &err) < 0 ||
        check_cancelled_room(rq, &ev, series.room_id, &room_name, &err) < 0)
        goto rollback;
    /* The rest of the series, moved as far as the change moved this occurrence. */
    struct recur_series s = series_of(&series);
    if (core_recur_split(&s, rid, ev.start_us - rid, rq->arena, &before, &after, &err) < 0)
        goto rollback;
    if (!b.has_recurrence)
        ev.recurrence = after;
    if (store_events_participants(rq->db, series.id, rq->arena, &people, &npeople, &err) < 0 ||
        store_events_reminders(rq->db, series.id, rq->arena, &rem, &nrem, &err) < 0 ||
        (b.has_participants &&
         build_participants(rq, b.participants, series.organizer_id, people, npeople, &people,
                            &npeople, &err) < 0))
        goto rollback;
    /* The old series first, so that its occurrences from `rid` on no longer hold the room. */
    series.recurrence = before;
    if (store_events_update(rq->db, &series, series.version, rq->now_us, &err) < 0 ||
        api_materialize(rq, reach_of(rq, &ev), ROOM_SCOPE(ev), true, &horizon, &err) < 0 ||
        store_events_insert(rq->db, &ev, rq->now_us, &err) < 0 ||
        store_events_move_overrides(rq->db, series.id, ev.id, ev.uid, rid, &err) < 0 ||
        api_events_drop_stale_overrides(rq, &series, &err) < 0 ||
        api_events_drop_stale_overrides(rq, &ev, &err) < 0 ||
        api_events_index(rq, &series, horizon, NULL, 0, &err) < 0 ||
        series_starts(rq, &ev, horizon, &starts, &nstarts, &err) < 0)
        goto rollback;
    if (ev.room_id && ev.status != EVENT_STATUS_CANCELLED &&
        (check_room(rq, ev.room_id, npeople, ev.room_id != series.room_id, &room_name, &err) < 0 ||
         check_room_free(rq, &ev, starts, &nstarts, b.skip_conflicts, &conflicts, &err) < 0))
        goto rollback;
    if (store_events_set_participants(rq->db, ev.id, people, npeople, &err) < 0 ||
        store_events_set_reminders(rq->db, ev.id, b.has_reminders ? b.reminders : rem,
                                   b.has_reminders ? b.nreminders : nrem, &err) < 0 ||
        (b.skip_conflicts && store_events_update(rq->db, &ev, -1, rq->now_us, &err) < 0) ||
        api_events_index(rq, &ev, horizon, starts, nstarts, &err) < 0 ||
        notify_all(rq, &ev, people, npeople, NOTIFY_UPDATE, rq->user_id, &err) < 0 ||
        store_notifications_schedule_reminders(rq->db, series.id, rq->now_us, &err) < 0 ||
        store_notifications_schedule_reminders(rq->db, ev.id, rq->now_us, &err) < 0)
        goto rollback;
    if (store_commit(rq->db, &err) < 0)
        goto fail;
    if (ev.room_id && room_name == NULL) {
        struct room kept;
        room_name = store_rooms_get(rq->db, ev.room_id, rq->arena, &kept, &err) == PL_OK ? kept.name : "";
    }
    rq->etag = event_etag(rq, &ev);
    rq->location = arena_printf(rq->arena, "/api/v1/events/%lld", (long long)ev.id);
    http_reply_json(rq, 200, event_json(rq, &ev, room_name, people, npeople,
                                        b.has_reminders ? b.reminders : rem,
                                        b.has_reminders ? b.nreminders : nrem));
    return;
rollback:
    store_rollback(rq->db);
fail:
    reply_conflict(rq, &err, conflicts);
}

void api_events_instance_patch(struct http_request *rq)
{
    const char *scope = http_query(rq, "scope");
    if (scope && strcmp(scope, "following") == 0) {
        patch_following(rq);
        return;
    }
    if (scope && strcmp(scope, "this") != 0) {
        http_fail(rq, 422, "scope", "must be \"this\" (the default) or \"following\"");
        return;
    }
    struct pl_error err = {0};
    struct event series, ov, ev;
    struct event_body b = {0};
    struct participant *before, *people;
    size_t nbefore, npeople;
    int64_t rid, horizon;
    bool has_override;
    const char *room_name = NULL;
    json_t *conflicts = NULL, *body;
    if ((body = http_body_object(rq, &err)) == NULL)
        goto fail;
    if (json_object_get(body, "recurrence") || json_object_get(body, "reminders")) {
        pl_error_set(&err, PL_EINVAL, json_object_get(body, "recurrence") ? "recurrence" : "reminders",
                     "belongs to the series: change it with PATCH /api/v1/events/{id}");
        goto fail;
    }
    if (store_begin(rq->db, &err) < 0)
        goto fail;
    if (!load_occurrence(rq, &series, &rid, &ov, &has_override, &err))
        goto rollback;
    if (has_override) {
        ev = ov;
        if (store_events_participants(rq->db, ov.id, rq->arena, &before, &nbefore, &err) < 0)
            goto rollback;
    } else {
        /* A new override starts as a copy of the occurrence it replaces. */
        ev = series;
        ev.id = 0;
        ev.recurrence = NULL;
        ev.parent_id = series.id;
        ev.recurrence_id = rid;
        ev.start_us = rid;
        ev.end_us = rid + (series.end_us - series.start_us);
        ev.uid = arena_printf(rq->arena, "%s/%lld", series.uid, (long long)rid);
        ev.sequence = series.sequence;
        if (store_events_participants(rq->db, series.id, rq->arena, &before, &nbefore, &err) < 0)
            goto rollback;
    }
    if (http_precondition(rq, event_etag(rq, has_override ? &ov : &series), &err) < 0 ||
        parse_event(rq, body, false, &ev, &b, &err) < 0)
        goto rollback;
    people = before;
    npeople = nbefore;
    if (b.has_participants &&
        build_participants(rq, b.participants, series.organizer_id, before, nbefore, &people,
                           &npeople, &err) < 0)
        goto rollback;
    int64_t *starts = &ev.start_us;
    size_t nstarts = 1;
    /* The occurrence, and the series, indexed again as far as it was made to reach. */
    int64_t reach = reach_of(rq, &series);
    if (ev.end_us > reach)
        reach = ev.end_us;
    if (api_materialize(rq, reach, ROOM_SCOPE(ev), true, &horizon, &err) < 0 ||
        check_cancelled_room(rq, &ev, series.room_id, &room_name, &err) < 0)
        goto rollback;
    if (ev.room_id && ev.status != EVENT_STATUS_CANCELLED) {
        if (check_room(rq, ev.room_id, npeople, ev.room_id != series.room_id, &room_name, &err) < 0)
            goto rollback;
        /* Checked against every other booking; the series' own occurrences are excluded. */
        struct event probe = ev;
        probe.id = series.id;
        if (check_room_free(rq, &probe, starts, &nstarts, false, &conflicts, &err) < 0)
            goto rollback;
    }
    /* A new override takes the series' reminders (they belong to the series: its PATCH
     * changes the overrides' too); the series' reminder of the occurrence replaced goes, the
     * override's come at its time. */
    int *rem = NULL;
    size_t nrem = 0;
    if ((has_override ? store_events_update(rq->db, &ev, ov.version, rq->now_us, &err)
                      : store_events_insert(rq->db, &ev, rq->now_us, &err)) < 0 ||
        ((b.has_participants || !has_override) &&
         store_events_set_participants(rq->db, ev.id, people, npeople, &err) < 0) ||
        (!has_override &&
         (store_events_reminders(rq->db, series.id, rq->arena, &rem, &nrem, &err) < 0 ||
          store_events_set_reminders(rq->db, ev.id, rem, nrem, &err) < 0)) ||
        store_events_reindex(rq->db, ev.id, NULL, NULL, 0, 0, rq->arena, &err) < 0 ||
        api_events_index(rq, &series, horizon, NULL, 0, &err) < 0 ||
        store_notifications_schedule_reminders(rq->db, series.id, rq->now_us, &err) < 0 ||
        store_notifications_schedule_reminders(rq->db, ev.id, rq->now_us, &err) < 0)
        goto rollback;
    if (notify_kept(rq, &ev, before, nbefore, people, npeople,
                    ev.status == EVENT_STATUS_CANCELLED, &err) < 0)
        goto rollback;
    if (store_commit(rq->db, &err) < 0)
        goto fail;
    rq->etag = event_etag(rq, &ev);
    http_reply_json(rq, 200, event_json(rq, &ev, room_name, people, npeople, NULL, 0));
    return;
rollback:
    store_rollback(rq->db);
fail:
    reply_conflict(rq, &err, conflicts);
}

void api_events_instance_delete(struct http_request *rq)
{
    struct pl_error err = {0};
    struct event series, ov;
    struct participant *people;
    size_t npeople;
    int64_t rid, horizon;
    bool has_override;
    if (store_begin(rq->db, &err) < 0)
        goto fail;
    if (!load_occurrence(rq, &series, &rid, &ov, &has_override, &err))
        goto rollback;
    /* The occurrence leaves the series as an EXDATE; an override of it goes too. */
    struct event updated = series;
    updated.recurrence = arena_printf(rq->arena, "%s\n%s", series.recurrence,
                                      exdate_line(rq, &series, rid));
    struct event at = has_override ? ov : series;
    if (!has_override) {
        at.start_us = rid;
        at.end_us = rid + (series.end_us - series.start_us);
    }
    if (http_precondition(rq, event_etag(rq, has_override ? &ov : &series), &err) < 0 ||
        store_events_participants(rq->db, at.id, rq->arena, &people, &npeople, &err) < 0 ||
        notify_all(rq, &at, people, npeople, NOTIFY_CANCELLATION, rq->user_id, &err) < 0 ||
        (has_override && (store_notifications_drop_reminders(rq->db, ov.id, false, &err) < 0 ||
                          store_events_delete(rq->db, ov.id, &err) < 0)) ||
        store_events_update(rq->db, &updated, series.version, rq->now_us, &err) < 0 ||
        api_materialize(rq, reach_of(rq, &updated), &(struct store_scope){0}, true, &horizon,
                        &err) < 0 ||
        api_events_index(rq, &updated, horizon, NULL, 0, &err) < 0 ||
        store_notifications_schedule_reminders(rq->db, series.id, rq->now_us, &err) < 0)
        goto rollback;
    if (store_commit(rq->db, &err) < 0)
        goto fail;
    http_reply_empty(rq, 204);
    return;
rollback:
    store_rollback(rq->db);
fail:
    http_reply_error(rq, &err);
}
