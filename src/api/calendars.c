/* Calendars and their shares. */
#include "api/internal.h"

#include "arena.h"
#include "core/event.h"
#include "store/calendars.h"
#include "store/store.h"
#include "store/users.h"

#include <string.h>

static const char *calendar_etag(struct http_request *rq, const struct calendar *c)
{
    return arena_printf(rq->arena, "\"c%lld-%lld\"", (long long)c->id, (long long)c->version);
}

static json_t *calendar_json(struct http_request *rq, const struct calendar *c)
{
    return json_pack("{s:o, s:o, s:s, s:s, s:s, s:b, s:s, s:o, s:o, s:s}", "id", api_id_json(c->id),
                     "owner_id", api_id_json(c->owner_id), "name", c->name, "color", c->color,
                     "time_zone", c->time_zone, "is_default", c->is_default, "access",
                     core_calendar_access_name(c->access), "created_at",
                     api_time_json(c->created_us), "updated_at", api_time_json(c->updated_us),
                     "etag", calendar_etag(rq, c));
}

/* Calendar params[0] as the caller sees it; 404 when the caller has no access at all, so
 * that other people's calendars are not even confirmed to exist. */
static int load(struct http_request *rq, struct calendar *c, struct pl_error *err)
{
    int64_t id;
    int rc = api_id(rq->params[0], &id, err);
    if (rc == PL_OK)
        rc = store_calendars_get(rq->db, id, rq->user_id, rq->arena, c, err);
    if (rc == PL_OK && c->access == CAL_NONE)
        rc = pl_error_set(err, PL_ENOTFOUND, NULL, "no calendar with id %lld", (long long)id);
    return rc;
}

static int need_owner(const struct calendar *c, struct pl_error *err)
{
    return c->access == CAL_OWNER
               ? PL_OK
               : pl_error_set(err, PL_EFORBIDDEN, NULL, "only the calendar's owner may do this");
}

void api_calendars_list(struct http_request *rq)
{
    struct pl_error err = {0};
    struct calendar *cals;
    size_t n;
    if (store_calendars_list(rq->db, rq->user_id, rq->arena, &cals, &n, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, calendar_json(rq, &cals[i]));
    http_reply_json(rq, 200, json_pack("{s:o, s:n}", "items", items, "next_cursor"));
}

void api_calendars_create(struct http_request *rq)
{
    static const char *const allowed[] = {"name", "color", "time_zone", NULL};
    struct pl_error err = {0};
    struct calendar c = {.owner_id = rq->user_id, .color = "#3b82f6"};
    struct user me;
    const char *name, *color, *tz;
    json_t *body = http_body_object(rq, &err);
    if (body == NULL || api_only_fields(body, allowed, &err) < 0 ||
        api_string(body, "name", true, &name, &err) < 0 ||
        api_string(body, "color", false, &color, &err) < 0 ||
        api_string(body, "time_zone", false, &tz, &err) < 0 ||
        core_text_check(name, "name", CORE_CALENDAR_NAME_MAX, false, false, &err) < 0 ||
        (color && core_color_check(color, "color", &err) < 0) ||
        (tz && core_tz_check(tz, "time_zone", &err) < 0))
        goto fail;
    if (tz == NULL) { /* the owner's zone by default */
        if (store_users_get(rq->db, rq->user_id, rq->arena, &me, &err) < 0)
            goto fail;
        tz = me.time_zone;
    }
    c.name = name;
    c.time_zone = tz;
    if (color)
        c.color = color;
    if (store_calendars_create(rq->db, &c, rq->now_us, &err) < 0)
        goto fail;
    rq->etag = calendar_etag(rq, &c);
    rq->location = arena_printf(rq->arena, "/api/v1/calendars/%lld", (long long)c.id);
    http_reply_json(rq, 201, calendar_json(rq, &c));
    return;
fail:
    http_reply_error(rq, &err);
}

void api_calendars_get(struct http_request *rq)
{
    struct pl_error err = {0};
    struct calendar c;
    if (load(rq, &c, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    const char *etag = calendar_etag(rq, &c);
    if (http_not_modified(rq, etag))
        return;
    json_t *j = calendar_json(rq, &c);
    if (c.access == CAL_OWNER) {
        struct calendar_share *s;
        size_t n;
        if (store_calendars_shares(rq->db, c.id, rq->arena, &s, &n, &err) < 0) {
            json_decref(j);
            http_reply_error(rq, &err);
            return;
        }
        json_t *shares = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(shares, json_pack("{s:o, s:s, s:s, s:s}", "user_id",
                                                    api_id_json(s[i].user_id), "role",
                                                    core_calendar_access_name(s[i].role), "email",
                                                    s[i].email, "name", s[i].name));
        json_object_set_new(j, "shares", shares);
    }
    rq->etag = etag;
    http_reply_json(rq, 200, j);
}

void api_calendars_patch(struct http_request *rq)
{
    static const char *const allowed[] = {"name", "color", "time_zone", NULL};
    struct pl_error err = {0};
    struct calendar c;
    const char *name, *color, *tz;
    json_t *body = http_body_object(rq, &err);
    if (body == NULL || api_only_fields(body, allowed, &err) < 0 ||
        api_string(body, "name", false, &name, &err) < 0 ||
        api_string(body, "color", false, &color, &err) < 0 ||
        api_string(body, "time_zone", false, &tz, &err) < 0 ||
        (name && core_text_check(name, "name", CORE_CALENDAR_NAME_MAX, false, false, &err) < 0) ||
        (color && core_color_check(color, "color", &err) < 0) ||
        (tz && core_tz_check(tz, "time_zone", &err) < 0) || load(rq, &c, &err) < 0 ||
        need_owner(&c, &err) < 0 || http_precondition(rq, calendar_etag(rq, &c), &err) < 0 ||
        store_calendars_update(rq->db, c.id, name, color, tz, c.version, rq->now_us, &err) < 0 ||
        store_calendars_get(rq->db, c.id, rq->user_id, rq->arena, &c, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    rq->etag = calendar_etag(rq, &c);
    http_reply_json(rq, 200, calendar_json(rq, &c));
}

void api_calendars_delete(struct http_request *rq)
{
    struct pl_error err = {0};
    struct calendar c;
    if (load(rq, &c, &err) < 0 || need_owner(&c, &err) < 0 ||
        http_precondition(rq, calendar_etag(rq, &c), &err) < 0 ||
        store_calendars_delete(rq->db, c.id, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    http_reply_empty(rq, 204);
}

void api_calendars_share(struct http_request *rq)
{
    static const char *const allowed[] = {"role", NULL};
    struct pl_error err = {0};
    struct calendar c;
    struct user u;
    const char *role_name;
    int role;
    int64_t user_id;
    json_t *body = http_body_object(rq, &err);
    if (body == NULL || api_only_fields(body, allowed, &err) < 0 ||
        api_string(body, "role", true, &role_name, &err) < 0 ||
        core_share_role_parse(role_name, "role", &role, &err) < 0 || load(rq, &c, &err) < 0 ||
        need_owner(&c, &err) < 0 || api_id(rq->params[1], &user_id, &err) < 0 ||
        store_users_get(rq->db, user_id, rq->arena, &u, &err) < 0)
        goto fail;
    if (!u.is_active || user_id == c.owner_id) {
        pl_error_set(&err, PL_EINVAL, "user_id",
                     user_id == c.owner_id ? "the owner already has the calendar"
                                           : "the user is deactivated");
        goto fail;
    }
    if (store_calendars_share(rq->db, c.id, user_id, role, rq->now_us, &err) < 0)
        goto fail;
    http_reply_json(rq, 200, json_pack("{s:o, s:o, s:s}", "calendar_id", api_id_json(c.id),
                                       "user_id", api_id_json(user_id), "role",
                                       core_calendar_access_name(role)));
    return;
fail:
    http_reply_error(rq, &err);
}

void api_calendars_unshare(struct http_request *rq)
{
    struct pl_error err = {0};
    struct calendar c;
    int64_t user_id;
    if (load(rq, &c, &err) < 0 || need_owner(&c, &err) < 0 ||
        api_id(rq->params[1], &user_id, &err) < 0 ||
        store_calendars_unshare(rq->db, c.id, user_id, rq->now_us, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    http_reply_empty(rq, 204);
}
