/* Free/busy and finding a time: the busy intervals of people and rooms, and the earliest
 * slots where a set of people and a room are free together. */
#include "api/internal.h"

#include "arena.h"
#include "core/event.h"
#include "core/findtime.h"
#include "core/interval.h"
#include "core/time.h"
#include "core/tz.h"
#include "http/json.h"
#include "store/events.h"
#include "store/rooms.h"
#include "store/users.h"

#include <stdio.h>
#include <string.h>

#define IDS_MAX 100 /* users or rooms in one free/busy or find-a-time request */
#define FIND_TIME_ROOMS_MAX 1000 /* the qualifying rooms a find-a-time considers, by id */

/* The array member `key` of ids (at most IDS_MAX) into an arena array.  Absent: n = 0 (an
 * error when `required`). */
static int parse_ids(struct http_request *rq, json_t *body, const char *key, bool required,
                     int64_t **out, size_t *n, struct pl_error *err)
{
    json_t *arr = json_object_get(body, key);
    *n = 0;
    *out = NULL;
    if (arr == NULL)
        return required ? pl_error_set(err, PL_EINVAL, key, "is required") : PL_OK;
    if (!json_is_array(arr) || json_array_size(arr) > IDS_MAX ||
        (required && json_array_size(arr) == 0))
        return pl_error_set(err, PL_EINVAL, key, "must be an array of 1 to %d ids", IDS_MAX);
    int64_t *ids = arena_alloc(rq->arena, (json_array_size(arr) + 1) * sizeof *ids);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        char field[48];
        snprintf(field, sizeof field, "%.16s[%zu]", key, i);
        int rc = api_id_value(v, field, &ids[i], err);
        if (rc < 0)
            return rc;
        for (size_t k = 0; k < i; k++)
            if (ids[k] == ids[i])
                return pl_error_set(err, PL_EINVAL, field, "lists id %lld twice", (long long)ids[i]);
    }
    *out = ids;
    *n = json_array_size(arr);
    return PL_OK;
}

/* Every user id must be an active user, every room id an active room. */
static int check_exist(struct http_request *rq, const int64_t *users, size_t nu,
                       const int64_t *rooms, size_t nr, const char *user_key,
                       struct pl_error *err)
{
    struct user *u;
    struct room *r;
    int rc = store_users_lookup(rq->db, users, nu, rq->arena, &u, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < nu; i++)
        if (u[i].id == 0)
            return pl_error_set(err, PL_EINVAL, user_key, "%s[%zu]: no active user %lld", user_key,
                                i, (long long)users[i]);
    if ((rc = store_rooms_lookup(rq->db, rooms, nr, rq->arena, &r, err)) < 0)
        return rc;
    for (size_t i = 0; i < nr; i++)
        if (r[i].id == 0)
            return pl_error_set(err, PL_EINVAL, "rooms", "rooms[%zu]: no active room %lld", i,
                                (long long)rooms[i]);
    return PL_OK;
}

/* How many rows of `owner` `rows` holds (ordered by owner, then start), from *first on. */
static size_t rows_of(const struct busy_row *rows, size_t nrows, int64_t owner, size_t *first)
{
    size_t lo = 0, hi = nrows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rows[mid].owner_id < owner)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < nrows && rows[end].owner_id == owner)
        end++;
    *first = lo;
    return end - lo;
}

/* [{start, end, status}] for one owner: busy time merged, tentative time merged and minus the
 * busy time, both clipped to [from, to), in time order. */
static void write_busy(struct http_json *w, struct arena *a, const struct busy_row *rows,
                       size_t nrows, int64_t owner, int64_t from, int64_t to)
{
    size_t first, n = rows_of(rows, nrows, owner, &first), nb = 0, nt = 0;
    struct interval window = {from, to};
    /* Merging and subtracting never make more intervals than there are rows. */
    struct interval *busy = arena_alloc(a, (3 * n + 1) * sizeof *busy), *tent = busy + n,
                    *only_tent = tent + n;
    for (size_t i = first; i < first + n; i++) {
        struct interval x = {rows[i].start_us, rows[i].end_us};
        if (rows[i].tentative)
            tent[nt++] = x;
        else
            busy[nb++] = x;
    }
    nb = core_interval_clip(busy, core_interval_merge(busy, nb), window);
    nt = core_interval_clip(tent, core_interval_merge(tent, nt), window);
    nt = core_interval_subtract(tent, nt, busy, nb, only_tent);
    http_json_array(w);
    size_t i = 0, j = 0;
    while (i < nb || j < nt) {
        bool take_busy = j == nt || (i < nb && busy[i].start_us <= only_tent[j].start_us);
        struct interval x = take_busy ? busy[i++] : only_tent[j++];
        /* Raw, like the listings' items (http/json.h): room for the longest form, once. */
        char *q = http_json_raw(w, sizeof "{\"start\":,\"end\":,\"status\":\"tentative\"}" +
                                       2 * API_TIME_RAW_MAX);
        if (q == NULL)
            break;
        q = HTTP_JSON_RAW_LIT(q, "{\"start\":");
        q = api_time_raw(q, x.start_us);
        q = HTTP_JSON_RAW_LIT(q, ",\"end\":");
        q = api_time_raw(q, x.end_us);
        q = take_busy ? HTTP_JSON_RAW_LIT(q, ",\"status\":\"busy\"}")
                      : HTTP_JSON_RAW_LIT(q, ",\"status\":\"tentative\"}");
        http_json_raw_end(w, q);
    }
    http_json_array_end(w);
}

/* {"id": [{start, end, status}], ...} for each owner in ids (parse_ids refuses repeats). */
static void write_owners(struct http_json *w, struct arena *a, const int64_t *ids, size_t n,
                         const struct busy_row *rows, size_t nrows, int64_t from, int64_t to)
{
    http_json_object(w);
    for (size_t i = 0; i < n; i++) {
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)ids[i]);
        http_json_member(w, key);
        write_busy(w, a, rows, nrows, ids[i], from, to);
    }
    http_json_object_end(w);
}

static int parse_window(json_t *body, int64_t *from, int64_t *to, struct pl_error *err)
{
    const char *f, *t;
    int rc;
    if ((rc = api_string(body, "from", true, &f, err)) < 0 ||
        (rc = api_string(body, "to", true, &t, err)) < 0 ||
        (rc = core_time_parse(f, "from", from, err)) < 0 ||
        (rc = core_time_parse(t, "to", to, err)) < 0)
        return rc;
    return core_event_check_range(*from, *to, err);
}

void api_schedule_freebusy(struct http_request *rq)
{
    static const char *const allowed[] = {"from", "to", "users", "rooms", NULL};
    struct pl_error err = {0};
    int64_t from, to, horizon, *users, *rooms;
    size_t nu, nr, nurows, nrrows;
    struct busy_row *urows, *rrows;
    json_t *body = http_body_object(rq, &err);
    if (body == NULL || api_only_fields(body, allowed, &err) < 0 ||
        parse_window(body, &from, &to, &err) < 0 ||
        parse_ids(rq, body, "users", false, &users, &nu, &err) < 0 ||
        parse_ids(rq, body, "rooms", false, &rooms, &nr, &err) < 0 ||
        check_exist(rq, users, nu, rooms, nr, "users", &err) < 0 ||
        api_materialize(rq, to,
                        &(struct store_scope){.users = users, .nusers = nu, .rooms = rooms,
                                              .nrooms = nr},
                        false, &horizon, &err) < 0 ||
        store_events_busy_users(rq->db, users, nu, from, to, rq->arena, &urows, &nurows, &err) < 0 ||
        store_events_busy_rooms(rq->db, rooms, nr, from, to, rq->arena, &rrows, &nrrows, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    struct http_json w;
    http_json_init(&w);
    http_json_object(&w);
    http_json_key(&w, "from");
    api_time_write(&w, from);
    http_json_key(&w, "to");
    api_time_write(&w, to);
    http_json_key(&w, "users");
    write_owners(&w, rq->arena, users, nu, urows, nurows, from, to);
    http_json_key(&w, "rooms");
    write_owners(&w, rq->arena, rooms, nr, rrows, nrrows, from, to);
    http_json_object_end(&w);
    http_reply_json_text(rq, 200, &w);
}

/* The ids of people[] whose available[] is `which`, as a JSON array. */
static void write_people(struct http_json *w, const int64_t *people, size_t n,
                         const bool *available, bool which)
{
    http_json_array(w);
    for (size_t p = 0; p < n; p++)
        if (available[p] == which)
            http_json_int_string(w, people[p]);
    http_json_array_end(w);
}

/* working_hours: {start, end, time_zone, days}; defaults 09:00-18:00, Monday-Friday, in the
 * time zone of the one asking. */
static int parse_working_hours(struct http_request *rq, json_t *body, struct findtime_request *f,
                               struct pl_error *err)
{
    static const char *const allowed[] = {"start", "end", "time_zone", "days", NULL};
    json_t *wh = json_object_get(body, "working_hours");
    const char *start = NULL, *end = NULL, *tz = NULL;
    int rc;
    f->work_start_min = 9 * 60;
    f->work_end_min = 18 * 60;
    f->days_mask = 0x3e; /* ISO 1..5 */
    if (wh != NULL && !json_is_null(wh)) {
        if (!json_is_object(wh))
            return pl_error_set(err, PL_EINVAL, "working_hours", "must be an object");
        if ((rc = api_only_fields(wh, allowed, err)) < 0 ||
            (rc = api_string(wh, "start", false, &start, err)) < 0 ||
            (rc = api_string(wh, "end", false, &end, err)) < 0 ||
            (rc = api_string(wh, "time_zone", false, &tz, err)) < 0) {
            char inner[sizeof err->field];
            memcpy(inner, err->field, sizeof inner);
            snprintf(err->field, sizeof err->field, "working_hours.%.40s", inner);
            return rc;
        }
        if ((start && (rc = core_tz_parse_hhmm(start, &f->work_start_min, "working_hours.start",
                                               err)) < 0) ||
            (end && (rc = core_tz_parse_hhmm(end, &f->work_end_min, "working_hours.end", err)) < 0) ||
            (tz && (rc = core_tz_check(tz, "working_hours.time_zone", err)) < 0))
            return rc;
        json_t *days = json_object_get(wh, "days");
        if (days != NULL) {
            if (!json_is_array(days) || json_array_size(days) == 0 || json_array_size(days) > 7)
                return pl_error_set(err, PL_EINVAL, "working_hours.days",
                                    "must be 1 to 7 ISO weekdays (1 = Monday .. 7 = Sunday)");
            f->days_mask = 0;
            size_t i;
            json_t *d;
            json_array_foreach(days, i, d) {
                if (!json_is_integer(d) || json_integer_value(d) < 1 || json_integer_value(d) > 7)
                    return pl_error_set(err, PL_EINVAL, "working_hours.days",
                                        "must be 1 to 7 ISO weekdays (1 = Monday .. 7 = Sunday)");
                f->days_mask |= 1u << json_integer_value(d);
            }
        }
        if (f->work_end_min <= f->work_start_min)
            return pl_error_set(err, PL_EINVAL, "working_hours.end", "must be after start");
    }
    if (tz == NULL) {
        struct user me;
        if ((rc = store_users_get(rq->db, rq->user_id, rq->arena, &me, err)) < 0)
            return rc;
        tz = me.time_zone;
    }
    f->time_zone = tz;
    return PL_OK;
}

/* Every busy row of `ids` as merged per-owner interval lists. */
static struct findtime_busy *busy_lists(struct arena *a, const int64_t *ids, size_t n,
                                        const struct busy_row *rows, size_t nrows)
{
    struct findtime_busy *b = arena_alloc(a, (n ? n : 1) * sizeof *b);
    for (size_t i = 0; i < n; i++) {
        size_t first, k = rows_of(rows, nrows, ids[i], &first);
        struct interval *iv = arena_alloc(a, (k ? k : 1) * sizeof *iv);
        for (size_t r = 0; r < k; r++) /* tentative time counts as taken here */
            iv[r] = (struct interval){rows[first + r].start_us, rows[first + r].end_us};
        b[i] = (struct findtime_busy){ids[i], iv, core_interval_merge(iv, k)};
    }
    return b;
}

void api_schedule_find_time(struct http_request *rq)
{
    static const char *const allowed[] = {"participants", "duration_minutes", "from", "to",
                                          "working_hours", "room", "max_results", NULL};
    struct pl_error err = {0};
    struct findtime_request f = {0};
    int64_t *people, duration, max_results = 10, *room_ids = NULL, horizon;
    size_t np, nrooms = 0, nurows, nrrows, nslots;
    bool present;
    struct busy_row *urows, *rrows = NULL;
    struct findtime_slot *slots;
    json_t *body = http_body_object(rq, &err);
    if (body == NULL || api_only_fields(body, allowed, &err) < 0 ||
        parse_ids(rq, body, "participants", true, &people, &np, &err) < 0 ||
        api_int(body, "duration_minutes", true, 5, 24 * 60, &duration, &present, &err) < 0 ||
        api_int(body, "max_results", false, 1, CORE_FINDTIME_RESULTS_MAX, &max_results, &present,
                &err) < 0 ||
        parse_window(body, &f.from_us, &f.to_us, &err) < 0 ||
        parse_working_hours(rq, body, &f, &err) < 0 ||
        check_exist(rq, people, np, NULL, 0, "participants", &err) < 0)
        goto fail;
    json_t *room = json_object_get(body, "room");
    if (room != NULL && !json_is_null(room)) {
        static const char *const room_allowed[] = {"capacity_min", "feature", NULL};
        int64_t cap = 1;
        const char *feature;
        if (!json_is_object(room)) {
            pl_error_set(&err, PL_EINVAL, "room", "must be an object like {\"capacity_min\": 4}");
            goto fail;
        }
        if (api_only_fields(room, room_allowed, &err) < 0 ||
            api_int(room, "capacity_min", false, 1, CORE_ROOM_CAPACITY_MAX, &cap, &present, &err) < 0 ||
            api_string(room, "feature", false, &feature, &err) < 0) {
            char inner[sizeof err.field];
            memcpy(inner, err.field, sizeof inner);
            snprintf(err.field, sizeof err.field, "room.%.50s", inner);
            goto fail;
        }
        if (store_rooms_seating(rq->db, (int)cap, feature, FIND_TIME_ROOMS_MAX, rq->arena,
                                &room_ids, &nrooms, &err) < 0)
            goto fail;
        f.need_room = true;
    }
    if (api_materialize(rq, f.to_us,
                        &(struct store_scope){.users = people, .nusers = np, .rooms = room_ids,
                                              .nrooms = nrooms},
                        false, &horizon, &err) < 0 ||
        (f.need_room && store_events_busy_rooms(rq->db, room_ids, nrooms, f.from_us, f.to_us,
                                                rq->arena, &rrows, &nrrows, &err) < 0))
        goto fail;
    f.duration_us = duration * 60 * CORE_TIME_US_PER_S;
    f.max_results = (size_t)max_results;
    if (store_events_busy_users(rq->db, people, np, f.from_us, f.to_us, rq->arena, &urows, &nurows,
                                &err) < 0 ||
        core_findtime(&f, busy_lists(rq->arena, people, np, urows, nurows), np,
                      busy_lists(rq->arena, room_ids, nrooms, rrows, rrows ? nrrows : 0), nrooms,
                      rq->arena, &slots, &nslots, &err) < 0)
        goto fail;
    struct http_json w;
    http_json_init(&w);
    http_json_object(&w);
    http_json_key(&w, "slots");
    http_json_array(&w);
    for (size_t i = 0; i < nslots; i++) {
        http_json_object(&w);
        http_json_key(&w, "start");
        api_time_write(&w, slots[i].start_us);
        http_json_key(&w, "end");
        api_time_write(&w, slots[i].end_us);
        http_json_key(&w, "room_id");
        http_json_id(&w, slots[i].room_id);
        http_json_key(&w, "available");
        write_people(&w, people, np, slots[i].available, true);
        http_json_key(&w, "unavailable");
        write_people(&w, people, np, slots[i].available, false);
        http_json_object_end(&w);
    }
    http_json_array_end(&w);
    http_json_object_end(&w);
    http_reply_json_text(rq, 200, &w);
    return;
fail:
    http_reply_error(rq, &err);
}
