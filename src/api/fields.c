/* Shared request-reading and representation helpers for the handlers. */
#include "api/internal.h"
#include "http/json.h"

#include "arena.h"
#include "core/event.h"
#include "core/time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_only_fields(json_t *obj, const char *const *allowed, struct pl_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        (void)v;
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known)
            return pl_error_set(err, PL_EINVAL, key, "unknown field \"%.64s\"", key);
    }
    return PL_OK;
}

int api_string(json_t *obj, const char *key, bool required, const char **out, struct pl_error *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || (json_is_null(v) && !required))
        return required ? pl_error_set(err, PL_EINVAL, key, "is required") : PL_OK;
    if (!json_is_string(v))
        return pl_error_set(err, PL_EINVAL, key, "must be a string");
    if (strlen(json_string_value(v)) != json_string_length(v))
        return pl_error_set(err, PL_EINVAL, key, "must not contain NUL characters");
    *out = json_string_value(v);
    return PL_OK;
}

int api_bool(json_t *obj, const char *key, int *out, struct pl_error *err)
{
    json_t *v = json_object_get(obj, key);
    *out = -1;
    if (v == NULL)
        return PL_OK;
    if (!json_is_boolean(v))
        return pl_error_set(err, PL_EINVAL, key, "must be true or false");
    *out = json_is_true(v);
    return PL_OK;
}

int api_int(json_t *obj, const char *key, bool required, int64_t min, int64_t max, int64_t *out,
            bool *present, struct pl_error *err)
{
    json_t *v = json_object_get(obj, key);
    *present = false;
    if (v == NULL)
        return required ? pl_error_set(err, PL_EINVAL, key, "is required") : PL_OK;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return pl_error_set(err, PL_EINVAL, key, "must be an integer from %lld to %lld",
                            (long long)min, (long long)max);
    *out = json_integer_value(v);
    *present = true;
    return PL_OK;
}

/* 1-18 decimal digits without a leading zero, or -1. */
static int64_t parse_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 18 || strspn(s, "0123456789") != n || s[0] == '0')
        return -1;
    return strtoll(s, NULL, 10);
}

int api_id_value(json_t *v, const char *field, int64_t *out, struct pl_error *err)
{
    int64_t id = json_is_string(v) ? parse_id(json_string_value(v)) : -1;
    if (id < 0)
        return pl_error_set(err, PL_EINVAL, field, "must be an id string like \"42\"");
    *out = id;
    return PL_OK;
}

int api_id_member(json_t *obj, const char *key, bool required, int64_t *out, struct pl_error *err)
{
    json_t *v = json_object_get(obj, key);
    *out = 0;
    if (v == NULL || json_is_null(v))
        return required ? pl_error_set(err, PL_EINVAL, key, "is required") : PL_OK;
    return api_id_value(v, key, out, err);
}

int api_range(struct http_request *rq, int64_t *from_us, int64_t *to_us, struct pl_error *err)
{
    const char *from = http_query(rq, "from"), *to = http_query(rq, "to");
    if (from == NULL)
        return pl_error_set(err, PL_EINVAL, "from", "is required (RFC 3339)");
    if (to == NULL)
        return pl_error_set(err, PL_EINVAL, "to", "is required (RFC 3339)");
    int rc;
    if ((rc = core_time_parse(from, "from", from_us, err)) < 0 ||
        (rc = core_time_parse(to, "to", to_us, err)) < 0)
        return rc;
    return core_event_check_range(*from_us, *to_us, err);
}

json_t *api_id_json(int64_t id)
{
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)id);
    return json_string(text);
}

int api_id(const char *text, int64_t *out, struct pl_error *err)
{
    size_t n = text ? strlen(text) : 0;
    if (n == 0 || n > 18 || strspn(text, "0123456789") != n || text[0] == '0')
        return pl_error_set(err, PL_ENOTFOUND, NULL, "no such resource");
    *out = strtoll(text, NULL, 10);
    return PL_OK;
}

/* A decimal number of 1-18 digits, or -1. */
static int64_t parse_count(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
        return -1;
    return strtoll(s, NULL, 10);
}

int api_page_limit(struct http_request *rq, int *limit, struct pl_error *err)
{
    const char *l = http_query(rq, "limit");
    *limit = API_PAGE_DEFAULT;
    if (l != NULL) {
        int64_t v = parse_count(l);
        if (v < 1 || v > API_PAGE_MAX)
            return pl_error_set(err, PL_EINVAL, "limit", "must be an integer from 1 to %d",
                                API_PAGE_MAX);
        *limit = (int)v;
    }
    return PL_OK;
}

int api_page(struct http_request *rq, int *limit, int64_t *after_id, struct pl_error *err)
{
    const char *c = http_query(rq, "cursor");
    *after_id = 0;
    int rc = api_page_limit(rq, limit, err);
    if (rc < 0)
        return rc;
    if (c != NULL && *c != '\0') {
        int64_t v = parse_count(c);
        if (v < 0)
            return pl_error_set(err, PL_EINVAL, "cursor", "is not a cursor this server issued");
        *after_id = v;
    }
    return PL_OK;
}

json_t *api_page_json(json_t *items, bool more, int64_t last_id)
{
    char cursor[24];
    snprintf(cursor, sizeof cursor, "%lld", (long long)last_id);
    return json_pack("{s:o, s:o}", "items", items, "next_cursor",
                     more ? json_string(cursor) : json_null());
}

json_t *api_time_json(int64_t us)
{
    char text[CORE_TIME_TEXT_MAX];
    core_time_format(us, text);
    return json_string(text);
}

void api_time_write(struct http_json *w, int64_t us)
{
    char text[CORE_TIME_TEXT_MAX];
    core_time_format(us, text);
    http_json_plain(w, text);
}

char *api_time_raw(char *p, int64_t us)
{
    *p++ = '"';
    core_time_format(us, p);
    p += strlen(p);
    *p++ = '"';
    return p;
}

const char *api_user_etag(struct http_request *rq, const struct user *u)
{
    return arena_printf(rq->arena, "\"u%lld-%lld\"", (long long)u->id, (long long)u->version);
}

json_t *api_user_json(const struct user *u, const char *etag)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)u->id);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:s}", "id", id, "email", u->email,
                     "name", u->name, "role", core_user_role_name(u->role), "time_zone",
                     u->time_zone, "active", u->is_active, "created_at",
                     api_time_json(u->created_us), "updated_at", api_time_json(u->updated_us),
                     "etag", etag);
}

bool api_need_db(struct http_request *rq)
{
    if (rq->db != NULL)
        return true;
    http_fail(rq, 503, NULL, "the database is unavailable");
    return false;
}
