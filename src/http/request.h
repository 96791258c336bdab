/* One HTTP request and its response, as handlers in api/ see them, with the helpers that read
 * the request (headers, query, JSON body) and write the answer (JSON, problem+json, empty).
 * Everything hanging off a request is allocated from its arena and lives until the response
 * has been sent. */
#ifndef PLANNER_HTTP_REQUEST_H
#define PLANNER_HTTP_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct arena;
struct config;
struct store;
struct http_route;
struct http_json;
struct MHD_Connection;

#define HTTP_PATH_PARAMS_MAX 4
#define HTTP_JSON_DEPTH_MAX 32
#define HTTP_QUERY_PARAMS_MAX 100 /* query parameters a request may have (400 above) */

struct http_request {
    struct MHD_Connection *conn;
    struct http_request **pending; /* its connection's slot (http/server.c), or NULL */
    struct arena *arena;
    const struct config *cfg;
    struct store *db; /* this thread's connection; NULL if it could not be opened */

    const char *method, *path; /* path is decoded and excludes the query string */
    bool uri_too_long;
    bool query_cut; /* had more than HTTP_QUERY_PARAMS_MAX parameters (on_uri) */
    const struct http_route *route;
    const char *params[HTTP_PATH_PARAMS_MAX]; /* the {placeholders} of the route, in order */

    char *body; /* NUL-terminated, capped at cfg->max_body_bytes */
    size_t body_len;
    size_t body_seen; /* bytes of body received, kept or not */
    bool received;    /* all of it has arrived, or it is answered before (http/server.c) */

    char request_id[65];
    char client_addr[64];
    int64_t started_us; /* monotonic */
    int64_t now_us;     /* wall clock at arrival: one "now" for the whole request */

    /* Filled by api_authenticate for routes that need a user. */
    int64_t user_id, session_id;
    int role;

    /* The response, written by the http_reply_* helpers. */
    int status;
    char *resp_body; /* malloc'd, handed to libmicrohttpd */
    size_t resp_len;
    const char *resp_type;
    const char *etag, *location, *allow;
    int retry_after_s;
    bool idempotency_claimed; /* an Idempotency-Key is held for this request */
    /* Set by serve_route, which runs the handler once more after extending the recurring
     * series when it has found them expanded less far than it needs (api_materialize then
     * sets extend_to, and the handler gives up, a write its transaction).  The extension
     * runs on a side thread: a lane hands the request over (extend_here is set there). */
    bool may_extend_first, extend_here;
    int64_t extend_to;
    const int64_t *extend_ids; /* the series to extend (NULL: every one), in `arena` */
    size_t extend_nids;
    bool replayed;            /* the answer is a stored one (Idempotent-Replayed) */

    struct http_request *side_next; /* in the side thread's queue (http/server.c) */
    /* The database statistics of a request the side thread answered: taken before it hands
     * the request back, since its connection goes on to the next one (and ends with it). */
    unsigned side_queries;
    int64_t side_db_us;
};

/* A request header by name (case-insensitive), or NULL.  Borrowed from the connection. */
const char *http_header(struct http_request *rq, const char *name);
/* A decoded query-string argument, or NULL. Borrowed. */
const char *http_query(struct http_request *rq, const char *name);

/* The body as a JSON object: checks Content-Type (415), nesting depth (400), syntax and
 * duplicate keys (400), and that the top level is an object (422).  The value is released
 * with the arena.  Returns NULL with `err` set. */
json_t *http_body_object(struct http_request *rq, struct pl_error *err);

/* Answer with `body` (reference stolen) as JSON. */
void http_reply_json(struct http_request *rq, int status, json_t *body);
/* The same with a body written by an http_json writer, which this finishes (a writer that
 * failed becomes a 500). */
void http_reply_json_text(struct http_request *rq, int status, struct http_json *w);
/* Answer with no body (204, 304). */
void http_reply_empty(struct http_request *rq, int status);
/* Answer with `len` bytes of `text` (copied) and `content_type`. */
void http_reply_text(struct http_request *rq, int status, const char *content_type,
                     const char *text, size_t len);
/* Answer with the RFC 9457 problem+json for `err`. */
void http_reply_error(struct http_request *rq, const struct pl_error *err);
/* Forget the answer set so far, for a handler run again (serve_route). */
void http_reply_reset(struct http_request *rq);
/* Shorthand: set an error and answer it. */
void http_fail(struct http_request *rq, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Text from the client (a path, a method, a detail that quotes them) fit for a JSON string:
 * at most `max` bytes of s, cut between characters, with each byte that is not part of a
 * UTF-8 character written as %XX (what it was in the request target).  s itself when it is
 * all that already; otherwise a copy in `a` (NULL only if `a` has no memory). */
const char *http_printable(struct arena *a, const char *s, size_t max);

/* The HTTP status for a PL_E* status. */
int http_status_of(int pl_status);

/* Conditional requests.  http_not_modified answers 304 and returns true when If-None-Match
 * names `etag`; http_precondition returns PL_EPRECOND (412) when If-Match is present and does
 * not name `etag`. */
bool http_not_modified(struct http_request *rq, const char *etag);
PL_MUST_CHECK int http_precondition(struct http_request *rq, const char *etag,
                                    struct pl_error *err);

/* Whether `id` is an acceptable client X-Request-Id: 1-64 of [A-Za-z0-9._:-]. */
bool http_request_id_is_valid(const char *id);

/* The depth of the deepest array/object nesting in JSON text, stopping early once it passes
 * `limit` (strings and escapes are skipped). */
int http_json_depth(const char *text, size_t len, int limit);

#endif
