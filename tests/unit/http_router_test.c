/* http/router: matching paths and methods against a route table. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "arena.h"
#include "http/router.h"

#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void handler(struct http_request *rq)
{
    (void)rq;
}

static const struct http_route routes[] = {
    {"GET", "/healthz", handler, HTTP_PUBLIC, "GET /healthz", false},
    {"GET", "/api/v1/users", handler, HTTP_USER, "GET /api/v1/users", false},
    {"POST", "/api/v1/users", handler, HTTP_ADMIN, "POST /api/v1/users", false},
    {"GET", "/api/v1/users/me", handler, HTTP_USER, "GET /api/v1/users/me", false},
    {"GET", "/api/v1/users/{id}", handler, HTTP_USER, "GET /api/v1/users/{id}", false},
    {"PATCH", "/api/v1/users/{id}", handler, HTTP_USER, "PATCH /api/v1/users/{id}", false},
    {"DELETE", "/api/v1/users/{id}", handler, HTTP_ADMIN, "DELETE /api/v1/users/{id}", false},
    {"GET", "/api/v1/calendars/{cal}/events/{ev}", handler, HTTP_USER, "GET event", false},
    {"GET", "/feeds/{token}.ics", handler, HTTP_PUBLIC, "GET /feeds/{token}.ics", false},
    {"POST", "/api/v1/auth/login", handler, HTTP_PUBLIC, "POST /api/v1/auth/login", false},
    {"DELETE", "/api/v1/auth/session", handler, HTTP_USER, "DELETE /api/v1/auth/session", false},
};

static const struct {
    const char *method, *path;
    enum http_match want;
    const char *route;              /* name of the matched route */
    const char *p0, *p1;            /* captured params, or NULL */
    const char *allow;              /* on NO_METHOD */
} cases[] = {
    /* Literal routes. */
    {"GET", "/healthz", HTTP_MATCH_OK, "GET /healthz", NULL, NULL, NULL},
    {"GET", "/api/v1/users", HTTP_MATCH_OK, "GET /api/v1/users", NULL, NULL, NULL},
    {"POST", "/api/v1/users", HTTP_MATCH_OK, "POST /api/v1/users", NULL, NULL, NULL},
    /* The first route listed wins: "me" is not taken as an {id}. */
    {"GET", "/api/v1/users/me", HTTP_MATCH_OK, "GET /api/v1/users/me", NULL, NULL, NULL},
    /* Placeholders capture one segment each. */
    {"GET", "/api/v1/users/42", HTTP_MATCH_OK, "GET /api/v1/users/{id}", "42", NULL, NULL},
    {"PATCH", "/api/v1/users/42", HTTP_MATCH_OK, "PATCH /api/v1/users/{id}", "42", NULL, NULL},
    {"GET", "/api/v1/calendars/7/events/abc-def", HTTP_MATCH_OK, "GET event", "7", "abc-def",
     NULL},
    /* A placeholder with a literal suffix in its segment. */
    {"GET", "/feeds/s3cr3t.ics", HTTP_MATCH_OK, "GET /feeds/{token}.ics", "s3cr3t", NULL, NULL},
    {"GET", "/feeds/a.b.ics", HTTP_MATCH_OK, "GET /feeds/{token}.ics", "a.b", NULL, NULL},
    {"GET", "/feeds/.ics", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL}, /* empty token */
    {"GET", "/feeds/s3cr3t", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    {"GET", "/feeds/s3cr3t.ical", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    {"GET", "/feeds/s3cr3t.ics/x", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    /* HEAD is served by the GET route. */
    {"HEAD", "/healthz", HTTP_MATCH_OK, "GET /healthz", NULL, NULL, NULL},
    {"HEAD", "/api/v1/users/9", HTTP_MATCH_OK, "GET /api/v1/users/{id}", "9", NULL, NULL},
    /* No such path. */
    {"GET", "/", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    {"GET", "", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    {"GET", "/healthzz", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    {"GET", "/health", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    {"GET", "/HEALTHZ", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    {"GET", "/api/v1/users/42/extra", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    {"GET", "/api/v1/calendars/7/events", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    /* A trailing slash is a different path. */
    {"GET", "/healthz/", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    {"GET", "/api/v1/users/", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    {"GET", "/api/v1/users/42/", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    /* An empty segment does not fill a placeholder. */
    {"GET", "/api/v1/calendars//events/1", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    {"GET", "/api/v1/calendars/7/events/", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    {"GET", "/api/v1/users//", HTTP_MATCH_NO_PATH, NULL, NULL, NULL, NULL},
    /* Known path, wrong method: Allow lists what it accepts, with HEAD beside GET. */
    {"PUT", "/api/v1/users/42", HTTP_MATCH_NO_METHOD, NULL, NULL, NULL,
     "GET, PATCH, DELETE, HEAD"},
    {"DELETE", "/api/v1/users", HTTP_MATCH_NO_METHOD, NULL, NULL, NULL, "GET, POST, HEAD"},
    {"GET", "/api/v1/auth/login", HTTP_MATCH_NO_METHOD, NULL, NULL, NULL, "POST"},
    {"HEAD", "/api/v1/auth/login", HTTP_MATCH_NO_METHOD, NULL, NULL, NULL, "POST"},
    {"POST", "/healthz", HTTP_MATCH_NO_METHOD, NULL, NULL, NULL, "GET, HEAD"},
    {"get", "/healthz", HTTP_MATCH_NO_METHOD, NULL, NULL, NULL, "GET, HEAD"},
};

Test(http_router, match_table)
{
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct arena *a = arena_new(0);
        const struct http_route *route = NULL;
        const char *params[HTTP_PATH_PARAMS_MAX] = {"junk", "junk", "junk", "junk"};
        const char *allow = NULL;
        enum http_match m = http_route_match(routes, ARRAY_LEN(routes), cases[i].method,
                                             cases[i].path, a, &route, params, &allow);
        cr_expect(eq(int, (int)m, (int)cases[i].want), "case %zu: %s %s", i, cases[i].method,
                  cases[i].path);
        if (m == HTTP_MATCH_OK && cases[i].want == HTTP_MATCH_OK) {
            cr_expect(eq(str, (char *)route->name, (char *)cases[i].route), "case %zu", i);
            const char *want[2] = {cases[i].p0, cases[i].p1};
            for (size_t k = 0; k < 2; k++) {
                if (want[k] == NULL)
                    cr_expect(eq(ptr, (void *)params[k], NULL), "case %zu, param %zu", i, k);
                else
                    cr_expect(eq(str, (char *)params[k], (char *)want[k]), "case %zu, param %zu",
                              i, k);
            }
            cr_expect(eq(ptr, (void *)params[2], NULL), "case %zu", i);
        }
        if (m == HTTP_MATCH_NO_METHOD && cases[i].want == HTTP_MATCH_NO_METHOD) {
            cr_assert(ne(ptr, (void *)allow, NULL), "case %zu", i);
            cr_expect(eq(str, (char *)allow, (char *)cases[i].allow), "case %zu", i);
        }
        arena_free(a);
    }
}

/* The captured params are copies that live in the arena, not pointers into the path. */
Test(http_router, params_are_copied)
{
    char path[] = "/api/v1/users/123";
    struct arena *a = arena_new(0);
    const struct http_route *route = NULL;
    const char *params[HTTP_PATH_PARAMS_MAX];
    const char *allow = NULL;
    cr_assert(eq(int, (int)http_route_match(routes, ARRAY_LEN(routes), "GET", path, a, &route,
                                            params, &allow),
                 (int)HTTP_MATCH_OK));
    memset(path, 'x', sizeof path - 1);
    cr_expect(eq(str, (char *)params[0], "123"));
    arena_free(a);
}

/* As many placeholders as HTTP_PATH_PARAMS_MAX allows, all captured in order. */
Test(http_router, max_placeholders)
{
    static const struct http_route deep[] = {
        {"GET", "/{a}/{b}/{c}/{d}", handler, HTTP_PUBLIC, "deep", false},
    };
    struct arena *a = arena_new(0);
    const struct http_route *route = NULL;
    const char *params[HTTP_PATH_PARAMS_MAX];
    const char *allow = NULL;
    cr_assert(eq(int, (int)http_route_match(deep, 1, "GET", "/1/22/333/4444", a, &route, params,
                                            &allow),
                 (int)HTTP_MATCH_OK));
    cr_expect(eq(str, (char *)params[0], "1"));
    cr_expect(eq(str, (char *)params[1], "22"));
    cr_expect(eq(str, (char *)params[2], "333"));
    cr_expect(eq(str, (char *)params[3], "4444"));
    arena_free(a);
}
