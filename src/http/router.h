/* The route table type and the matcher.  Patterns are literal segments and {name}
 * placeholders ("/api/v1/users/{id}"); a placeholder matches one non-empty segment. */
#ifndef PLANNER_HTTP_ROUTER_H
#define PLANNER_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "http/request.h"

enum http_access {
    HTTP_PUBLIC, /* no token needed */
    HTTP_USER,   /* a valid bearer token */
    HTTP_ADMIN,  /* a valid bearer token of an admin */
};

/* Where a route runs: on the lane that read it, or on one of the worker's side threads
 * (http/server.c), one for each kind of long request, so that one kind never waits behind
 * the other (a login behind a large import). */
enum http_side {
    HTTP_SIDE_NONE,     /* on its lane */
    HTTP_SIDE_PASSWORD, /* argon2id hashes: one thread bounds their memory per worker */
    HTTP_SIDE_IMPORT,   /* iCalendar imports, up to max_body_bytes each, and the requests
                         * that find the recurring series to extend first (api_materialize) */
    HTTP_SIDES
};

struct http_route {
    const char *method; /* "GET", "POST", ... (HEAD is served by GET routes) */
    const char *pattern;
    void (*handler)(struct http_request *rq);
    enum http_access access;
    const char *name; /* "GET /api/v1/users/{id}": the metrics label */
    enum http_side side;
};

enum http_match { HTTP_MATCH_OK, HTTP_MATCH_NO_PATH, HTTP_MATCH_NO_METHOD };

/* Find the route for `method` and `path` in `routes`.  On HTTP_MATCH_OK sets *out and fills
 * params with borrowed-then-copied segments (from `a`).  On HTTP_MATCH_NO_METHOD, `allow`
 * (from `a`) lists the methods the path accepts, for the Allow header. */
enum http_match http_route_match(const struct http_route *routes, size_t n, const char *method,
                                 const char *path, struct arena *a, const struct http_route **out,
                                 const char *params[HTTP_PATH_PARAMS_MAX], const char **allow);

#endif
