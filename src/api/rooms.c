/* Meeting rooms: the directory, availability, bookings, and administration. */
#include "api/internal.h"

#include "arena.h"
#include "core/event.h"
#include "core/time.h"
#include "store/events.h"
#include "store/rooms.h"

#include <stdlib.h>
#include <string.h>

static const char *room_etag(struct http_request *rq, const struct room *r)
{
    return arena_printf(rq->arena, "\"r%lld-%lld\"", (long long)r->id, (long long)r->version);
}

static json_t *room_json(struct http_request *rq, const struct room *r)
{
    json_t *features = json_array();
    for (size_t i = 0; i < r->nfeatures; i++)
        json_array_append_new(features, json_string(r->features[i]));
    return json_pack("{s:o, s:s, s:i, s:s, s:o, s:b, s:o, s:o, s:s}", "id", api_id_json(r->id),
                     "name", r->name, "capacity", r->capacity, "location", r->location,
                     "features", features, "active", r->is_active, "created_at",
                     api_time_json(r->created_us), "updated_at", api_time_json(r->updated_us),
                     "etag", room_etag(rq, r));
}

/* A feature name: 1-64 of [a-z0-9-] (so that lists of them need no escaping). */
static int feature_check(const char *f, const char *field, struct pl_error *err)
{
    size_t n = strlen(f);
    if (n == 0 || n > CORE_ROOM_FEATURE_MAX || strspn(f, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
        return pl_error_set(err, PL_EINVAL, field, "features are 1-64 of a-z, 0-9 and -");
    return PL_OK;
}

static int parse_features(struct http_request *rq, json_t *body, const char ***out, size_t *n,
                          bool *present, struct pl_error *err)
{
    json_t *f = json_object_get(body, "features");
    *present = f != NULL;
    *n = 0;
    *out = NULL;
    if (f == NULL)
        return PL_OK;
    if (!json_is_array(f) || json_array_size(f) > CORE_ROOM_FEATURES_MAX)
        return pl_error_set(err, PL_EINVAL, "features", "must be an array of at most %d names",
                            CORE_ROOM_FEATURES_MAX);
    const char **list = arena_alloc(rq->arena, (json_array_size(f) + 1) * sizeof *list);
    size_t i;
    json_t *x;
    json_array_foreach(f, i, x) {
        if (!json_is_string(x))
            return pl_error_set(err, PL_EINVAL, "features", "must be an array of strings");
        int rc = feature_check(json_string_value(x), "features", err);
        if (rc < 0)
            return rc;
        list[(*n)++] = json_string_value(x);
    }
    *out = list;
    return PL_OK;
}

/* The capacity_min query parameter (0 when absent). */
static int capacity_param(struct http_request *rq, int *out, struct pl_error *err)
{
    const char *c = http_query(rq, "capacity_min");
    *out = 0;
    if (c == NULL)
        return PL_OK;
    char *end;
    long v = strtol(c, &end, 10);
    if (*c == '\0' || *end != '\0' || v < 0 || v > CORE_ROOM_CAPACITY_MAX)
        return pl_error_set(err, PL_EINVAL, "capacity_min", "must be an integer from 0 to %d",
                            CORE_ROOM_CAPACITY_MAX);
    *out = (int)v;
    return PL_OK;
}

static void reply_rooms(struct http_request *rq, const struct store_room_filter *f)
{
    struct pl_error err = {0};
    struct room *rooms;
    size_t n;
    struct store_room_filter q = *f;
    q.limit = f->limit + 1; /* one more tells whether a next page exists */
    if (store_rooms_list(rq->db, &q, rq->arena, &rooms, &n, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    bool more = n > (size_t)f->limit;
    if (more)
        n = (size_t)f->limit;
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, room_json(rq, &rooms[i]));
    http_reply_json(rq, 200, api_page_json(items, more, n ? rooms[n - 1].id : 0));
}

void api_rooms_list(struct http_request *rq)
{
    struct pl_error err = {0};
    struct store_room_filter f = {0};
    f.feature = http_query(rq, "feature");
    if (capacity_param(rq, &f.capacity_min, &err) < 0 ||
        api_page(rq, &f.limit, &f.after_id, &err) < 0 ||
        (f.feature && feature_check(f.feature, "feature", &err) < 0)) {
        http_reply_error(rq, &err);
        return;
    }
    reply_rooms(rq, &f);
}

void api_rooms_available(struct http_request *rq)
{
    struct pl_error err = {0};
    struct store_room_filter f = {0};
    f.feature = http_query(rq, "feature");
    int64_t horizon;
    if (api_range(rq, &f.from_us, &f.to_us, &err) < 0 ||
        api_materialize(rq, f.to_us, &(struct store_scope){.any_room = true}, false, &horizon,
                        &err) < 0 ||
        capacity_param(rq, &f.capacity_min, &err) < 0 ||
        api_page(rq, &f.limit, &f.after_id, &err) < 0 ||
        (f.feature && feature_check(f.feature, "feature", &err) < 0)) {
        http_reply_error(rq, &err);
        return;
    }
    reply_rooms(rq, &f);
}

void api_rooms_create(struct http_request *rq)
{
    static const char *const allowed[] = {"name", "capacity", "location", "features", NULL};
    struct pl_error err = {0};
    struct room r = {.location = ""};
    const char *name, *location;
    int64_t capacity;
    bool present, has_features;
    json_t *body = http_body_object(rq, &err);
    if (body == NULL || api_only_fields(body, allowed, &err) < 0 ||
        api_string(body, "name", true, &name, &err) < 0 ||
        api_string(body, "location", false, &location, &err) < 0 ||
        api_int(body, "capacity", true, 1, CORE_ROOM_CAPACITY_MAX, &capacity, &present, &err) < 0 ||
        core_text_check(name, "name", CORE_ROOM_NAME_MAX, false, false, &err) < 0 ||
        (location &&
         core_text_check(location, "location", CORE_EVENT_LOCATION_MAX, true, false, &err) < 0) ||
        parse_features(rq, body, &r.features, &r.nfeatures, &has_features, &err) < 0)
        goto fail;
    r.name = name;
    r.capacity = (int)capacity;
    if (location)
        r.location = location;
    if (store_rooms_create(rq->db, &r, rq->now_us, &err) < 0 ||
        store_rooms_get(rq->db, r.id, rq->arena, &r, &err) < 0)
        goto fail;
    rq->etag = room_etag(rq, &r);
    rq->location = arena_printf(rq->arena, "/api/v1/rooms/%lld", (long long)r.id);
    http_reply_json(rq, 201, room_json(rq, &r));
    return;
fail:
    http_reply_error(rq, &err);
}

static int load(struct http_request *rq, struct room *r, struct pl_error *err)
{
    int64_t id;
    int rc = api_id(rq->params[0], &id, err);
    return rc < 0 ? rc : store_rooms_get(rq->db, id, rq->arena, r, err);
}

void api_rooms_get(struct http_request *rq)
{
    struct pl_error err = {0};
    struct room r;
    if (load(rq, &r, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    const char *etag = room_etag(rq, &r);
    if (http_not_modified(rq, etag))
        return;
    rq->etag = etag;
    http_reply_json(rq, 200, room_json(rq, &r));
}

void api_rooms_patch(struct http_request *rq)
{
    static const char *const allowed[] = {"name", "capacity", "location", "features", "active",
                                          NULL};
    struct pl_error err = {0};
    struct room r;
    const char *name, *location, **features;
    size_t nfeatures;
    int64_t capacity = 0;
    bool present, has_features;
    int active;
    json_t *body = http_body_object(rq, &err);
    if (body == NULL || api_only_fields(body, allowed, &err) < 0 ||
        api_string(body, "name", false, &name, &err) < 0 ||
        api_string(body, "location", false, &location, &err) < 0 ||
        api_int(body, "capacity", false, 1, CORE_ROOM_CAPACITY_MAX, &capacity, &present, &err) < 0 ||
        api_bool(body, "active", &active, &err) < 0 ||
        (name && core_text_check(name, "name", CORE_ROOM_NAME_MAX, false, false, &err) < 0) ||
        (location &&
         core_text_check(location, "location", CORE_EVENT_LOCATION_MAX, true, false, &err) < 0) ||
        parse_features(rq, body, &features, &nfeatures, &has_features, &err) < 0 ||
        load(rq, &r, &err) < 0 || http_precondition(rq, room_etag(rq, &r), &err) < 0 ||
        store_rooms_update(rq->db, r.id, name, location, (int)capacity,
                           has_features ? features : NULL, nfeatures, active, r.version,
                           rq->now_us, &err) < 0 ||
        store_rooms_get(rq->db, r.id, rq->arena, &r, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    rq->etag = room_etag(rq, &r);
    http_reply_json(rq, 200, room_json(rq, &r));
}

void api_rooms_delete(struct http_request *rq)
{
    struct pl_error err = {0};
    struct room r;
    /* Rooms are retired, not erased: past and future bookings keep naming them. */
    if (load(rq, &r, &err) < 0 || http_precondition(rq, room_etag(rq, &r), &err) < 0 ||
        store_rooms_update(rq->db, r.id, NULL, NULL, 0, NULL, 0, 0, r.version, rq->now_us,
                           &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    http_reply_empty(rq, 204);
}

void api_rooms_bookings(struct http_request *rq)
{
    struct pl_error err = {0};
    struct room r;
    int64_t from, to;
    struct occurrence *occ;
    struct store_page page;
    size_t n;
    int64_t horizon;
    if (load(rq, &r, &err) < 0 || api_range(rq, &from, &to, &err) < 0 ||
        api_occurrence_page(rq, &page, &err) < 0 ||
        api_materialize(rq, to, &(struct store_scope){.rooms = &r.id, .nrooms = 1}, false,
                        &horizon, &err) < 0 ||
        store_events_in_room(rq->db, r.id, rq->user_id, from, to, &page, rq->arena, &occ, &n,
                             &err) < 0 ||
        store_events_attach_participants(rq->db, occ, n, rq->arena, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    api_reply_occurrences(rq, occ, n, &page);
}
