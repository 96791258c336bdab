/* Helpers the handlers of api/ share: field-by-field JSON validation that names the offending
 * field (jansson's own type errors do not), ids, pagination and the user representation. */
#ifndef PLANNER_API_INTERNAL_H
#define PLANNER_API_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/user.h"
#include "error.h"
#include "http/request.h"

#define API_PAGE_DEFAULT 100
#define API_PAGE_MAX 1000

/* PL_EINVAL naming the first member of `obj` not in the NULL-terminated `allowed`. */
PL_MUST_CHECK int api_only_fields(json_t *obj, const char *const *allowed, struct pl_error *err);

/* Member `key` as a string: *out = NULL when absent (PL_EINVAL if `required`), PL_EINVAL
 * when present but not a string or when it holds a NUL. */
PL_MUST_CHECK int api_string(json_t *obj, const char *key, bool required, const char **out,
                             struct pl_error *err);
/* Member `key` as a boolean: *out = -1 when absent, else 0 or 1. */
PL_MUST_CHECK int api_bool(json_t *obj, const char *key, int *out, struct pl_error *err);

/* Parse a resource id from the path ("42"): PL_ENOTFOUND unless 1-18 decimal digits. */
PL_MUST_CHECK int api_id(const char *text, int64_t *out, struct pl_error *err);

/* ?limit= (1..API_PAGE_MAX, default API_PAGE_DEFAULT) and ?cursor= (opaque to clients; the
 * last id of the previous page).  PL_EINVAL naming the parameter. */
PL_MUST_CHECK int api_page(struct http_request *rq, int *limit, int64_t *after_id,
                           struct pl_error *err);
/* {"items": items, "next_cursor": cursor or null}; takes the reference to `items`. */
json_t *api_page_json(json_t *items, bool more, int64_t last_id);

/* RFC 3339 text of an instant, as a new JSON string. */
json_t *api_time_json(int64_t us);

/* A user as the API shows it, and its strong ETag (from rq's arena). */
json_t *api_user_json(const struct user *u, const char *etag);
const char *api_user_etag(struct http_request *rq, const struct user *u);

/* Fail the request with `err` unless the database is there; returns false after answering. */
bool api_need_db(struct http_request *rq);

/* Handlers, by file. */
void api_auth_login(struct http_request *rq);
void api_auth_logout(struct http_request *rq);
void api_auth_me(struct http_request *rq);
void api_users_create(struct http_request *rq);
void api_users_list(struct http_request *rq);
void api_users_get(struct http_request *rq);
void api_users_patch(struct http_request *rq);
void api_users_delete(struct http_request *rq);
void api_ops_healthz(struct http_request *rq);
void api_ops_readyz(struct http_request *rq);
void api_ops_metrics(struct http_request *rq);
void api_ops_openapi(struct http_request *rq);

#endif
