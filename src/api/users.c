/* The user directory and user administration. */
#include "api/internal.h"

#include "arena.h"
#include "config.h"
#include "secret.h"
#include "store/users.h"

#include <stdio.h>
#include <string.h>

/* Self or an admin may read and change a user; anyone else gets 403. */
static int may_manage(struct http_request *rq, int64_t id, struct pl_error *err)
{
    if (rq->user_id == id || rq->role == USER_ROLE_ADMIN)
        return PL_OK;
    return pl_error_set(err, PL_EFORBIDDEN, NULL, "only the user or an administrator may do this");
}

static void reply_user(struct http_request *rq, int status, const struct user *u)
{
    const char *etag = api_user_etag(rq, u);
    rq->etag = etag;
    if (status == 201)
        rq->location = arena_printf(rq->arena, "/api/v1/users/%lld", (long long)u->id);
    http_reply_json(rq, status, api_user_json(u, etag));
}

void api_users_create(struct http_request *rq)
{
    static const char *const allowed[] = {"email", "name", "password", "role", "time_zone", NULL};
    struct pl_error err = {0};
    const char *email_in, *name, *password, *role = NULL, *tz = NULL;
    char email[CORE_USER_EMAIL_MAX + 1], hash[SECRET_PWHASH_MAX];
    struct user u = {0};
    json_t *body = http_body_object(rq, &err);
    if (body == NULL || api_only_fields(body, allowed, &err) < 0 ||
        api_string(body, "email", true, &email_in, &err) < 0 ||
        api_string(body, "name", true, &name, &err) < 0 ||
        api_string(body, "password", true, &password, &err) < 0 ||
        api_string(body, "role", false, &role, &err) < 0 ||
        api_string(body, "time_zone", false, &tz, &err) < 0 ||
        core_user_email_normalize(email_in, "email", email, sizeof email, &err) < 0 ||
        core_user_name_check(name, "name", &err) < 0 ||
        core_user_password_check(password, "password", &err) < 0 ||
        (role && core_user_role_parse(role, "role", &u.role, &err) < 0) ||
        (tz && core_tz_check(tz, "time_zone", &err) < 0))
        goto fail;
    if (secret_password_hash(password, rq->cfg->pwhash, hash) < 0) {
        pl_error_set(&err, PL_EUNAVAIL, NULL, "the password could not be hashed; try again");
        goto fail;
    }
    u.email = email;
    u.name = name;
    u.time_zone = tz ? tz : "UTC";
    if (store_users_create(rq->db, &u, hash, rq->now_us, &err) < 0)
        goto fail;
    reply_user(rq, 201, &u);
    return;
fail:
    http_reply_error(rq, &err);
}

void api_users_list(struct http_request *rq)
{
    struct pl_error err = {0};
    int limit;
    int64_t after;
    struct user *users;
    size_t n;
    const char *q = http_query(rq, "q");
    if (api_page(rq, &limit, &after, &err) < 0 ||
        (q && core_text_check(q, "q", CORE_USER_NAME_MAX, true, false, &err) < 0))
        goto fail;
    /* One row more than the page tells whether another page follows. */
    if (store_users_search(rq->db, q, after, limit + 1, rq->arena, &users, &n, &err) < 0)
        goto fail;
    bool more = n > (size_t)limit;
    if (more)
        n = (size_t)limit;
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, api_user_json(&users[i], api_user_etag(rq, &users[i])));
    http_reply_json(rq, 200, api_page_json(items, more, n ? users[n - 1].id : 0));
    return;
fail:
    http_reply_error(rq, &err);
}

void api_users_get(struct http_request *rq)
{
    struct pl_error err = {0};
    int64_t id;
    struct user u;
    if (api_id(rq->params[0], &id, &err) < 0 || may_manage(rq, id, &err) < 0 ||
        store_users_get(rq->db, id, rq->arena, &u, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    if (http_not_modified(rq, api_user_etag(rq, &u)))
        return;
    reply_user(rq, 200, &u);
}

void api_users_patch(struct http_request *rq)
{
    static const char *const allowed[] = {"name",   "time_zone", "password", "current_password",
                                          "role",   "active",    NULL};
    struct pl_error err = {0};
    int64_t id, if_version = -1;
    struct user cur, u;
    const char *name, *tz, *password, *current, *role, *hash = NULL;
    struct store_user_patch p = {.role = -1, .active = -1};
    json_t *body;
    if (api_id(rq->params[0], &id, &err) < 0 || may_manage(rq, id, &err) < 0)
        goto fail;
    if ((body = http_body_object(rq, &err)) == NULL || api_only_fields(body, allowed, &err) < 0 ||
        api_string(body, "name", false, &name, &err) < 0 ||
        api_string(body, "time_zone", false, &tz, &err) < 0 ||
        api_string(body, "password", false, &password, &err) < 0 ||
        api_string(body, "current_password", false, &current, &err) < 0 ||
        api_string(body, "role", false, &role, &err) < 0 ||
        api_bool(body, "active", &p.active, &err) < 0 ||
        (name && core_user_name_check(name, "name", &err) < 0) ||
        (tz && core_tz_check(tz, "time_zone", &err) < 0) ||
        (password && core_user_password_check(password, "password", &err) < 0) ||
        (role && core_user_role_parse(role, "role", &p.role, &err) < 0))
        goto fail;
    if ((role || p.active >= 0) && rq->role != USER_ROLE_ADMIN) {
        pl_error_set(&err, PL_EFORBIDDEN, role ? "role" : "active",
                           "only an administrator may change this");
        goto fail;
    }
    if ((role || p.active == 0) && id == rq->user_id) {
        pl_error_set(&err, PL_ECONFLICT, role ? "role" : "active",
                           "administrators cannot demote or deactivate themselves");
        goto fail;
    }
    if (store_users_get(rq->db, id, rq->arena, &cur, &err) < 0 ||
        http_precondition(rq, api_user_etag(rq, &cur), &err) < 0)
        goto fail;
    if (http_header(rq, "If-Match") != NULL)
        if_version = cur.version;
    if (password != NULL) {
        /* Changing one's own password takes the current one, so a stolen token is not enough
         * to lock the owner out; an administrator resets without it. */
        if (id == rq->user_id) {
            const char *stored;
            struct user me;
            if (current == NULL) {
                pl_error_set(&err, PL_EINVAL, "current_password", "is required to change the password");
                goto fail;
            }
            if (store_users_get_login(rq->db, cur.email, rq->arena, &me, &stored, &err) < 0)
                goto fail;
            if (!secret_password_verify(stored, current)) {
                pl_error_set(&err, PL_EINVAL, "current_password", "is wrong");
                goto fail;
            }
        }
        char *h = arena_alloc(rq->arena, SECRET_PWHASH_MAX);
        if (secret_password_hash(password, rq->cfg->pwhash, h) < 0) {
            pl_error_set(&err, PL_EUNAVAIL, NULL, "the password could not be hashed; try again");
            goto fail;
        }
        hash = h;
    }
    p.name = name;
    p.time_zone = tz;
    p.password_hash = hash;
    if (store_users_update(rq->db, id, &p, if_version, rq->now_us, rq->arena, &u, &err) < 0)
        goto fail;
    reply_user(rq, 200, &u);
    return;
fail:
    http_reply_error(rq, &err);
}

void api_users_delete(struct http_request *rq)
{
    struct pl_error err = {0};
    int64_t id;
    struct user cur, u;
    struct store_user_patch p = {.role = -1, .active = 0};
    if (api_id(rq->params[0], &id, &err) < 0)
        goto fail;
    if (id == rq->user_id) {
        pl_error_set(&err, PL_ECONFLICT, NULL, "administrators cannot deactivate themselves");
        goto fail;
    }
    if (store_users_get(rq->db, id, rq->arena, &cur, &err) < 0 ||
        http_precondition(rq, api_user_etag(rq, &cur), &err) < 0 ||
        store_users_update(rq->db, id, &p, cur.version, rq->now_us, rq->arena, &u, &err) < 0)
        goto fail;
    http_reply_empty(rq, 204);
    return;
fail:
    http_reply_error(rq, &err);
}
