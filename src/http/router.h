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

struct http_route {
    const char *method; /* "GET", "POST", ... (HEAD is served by GET routes) */
    const char *pattern;
    void (*handler)(struct http_request *rq);
    enum http_access access;
    const char *name; /* "GET /api/v1/users/{id}": the metrics label */
    bool slow;        /* runs on the worker's side thread, not its lane (http/server.c) */
};

enum http_match { HTTP_MATCH_OK, HTTP_MATCH_NO_PATH, HTTP_MATCH_NO_METHOD };

/* Find the route for `method` and `path` in `routes`.  On HTTP_MATCH_OK sets *out and fills
 * params with borrowed-then-copied segments (from `a`).  On HTTP_MATCH_NO_METHOD, `allow`
 * (from `a`) lists the methods the path accepts, for the Allow header. */
enum http_match http_route_match(const struct http_route *routes, size_t n, const char *method,
                                 const char *path, struct arena *a, const struct http_route **out,
                                 const char *params[HTTP_PATH_PARAMS_MAX], const char **allow);

#endif
