/* Linear route matching.  Under a hundred routes, compared segment by segment without
 * allocation until a match: a trie would be faster only in theory. */
#include "http/router.h"

#include "arena.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Match `path` against `pattern`, recording the placeholder segments. */
static bool match(const char *pattern, const char *path, const char *seg[HTTP_PATH_PARAMS_MAX],
                  size_t seg_len[HTTP_PATH_PARAMS_MAX])
{
    size_t np = 0;
    const char *p = pattern, *u = path;
    while (*p && *u) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t len = strcspn(u, "/");
            /* A placeholder may end in a literal suffix within its segment: "{id}.ics". */
            const char *suffix = close + 1;
            size_t suffix_len = strcspn(suffix, "/");
            if (len <= suffix_len || np == HTTP_PATH_PARAMS_MAX ||
                strncmp(u + len - suffix_len, suffix, suffix_len) != 0)
                return false;
            seg[np] = u;
            seg_len[np++] = len - suffix_len;
            p = suffix + suffix_len;
            u += len;
            continue;
        }
        if (*p != *u)
            return false;
        p++, u++;
    }
    return *p == '\0' && *u == '\0';
}

enum http_match http_route_match(const struct http_route *routes, size_t n, const char *method,
                                 const char *path, struct arena *a, const struct http_route **out,
                                 const char *params[HTTP_PATH_PARAMS_MAX], const char **allow)
{
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    char methods[128] = "";
    size_t mlen = 0;
    bool path_found = false;
    for (size_t i = 0; i < n; i++) {
        const char *seg[HTTP_PATH_PARAMS_MAX];
        size_t seg_len[HTTP_PATH_PARAMS_MAX];
        if (!match(routes[i].pattern, path, seg, seg_len))
            continue;
        if (strcmp(routes[i].method, want) == 0) {
            for (size_t k = 0; k < HTTP_PATH_PARAMS_MAX; k++)
                params[k] = NULL;
            size_t np = 0;
            for (const char *c = routes[i].pattern; *c; c++)
                if (*c == '{') {
                    params[np] = arena_strndup(a, seg[np], seg_len[np]);
                    np++;
                }
            *out = &routes[i];
            return HTTP_MATCH_OK;
        }
        path_found = true;
        if (!strstr(methods, routes[i].method) && mlen < sizeof methods)
            mlen += (size_t)snprintf(methods + mlen, sizeof methods - mlen, "%s%s",
                                     mlen ? ", " : "", routes[i].method);
    }
    if (!path_found)
        return HTTP_MATCH_NO_PATH;
    if (strstr(methods, "GET") && mlen < sizeof methods)
        snprintf(methods + mlen, sizeof methods - mlen, ", HEAD");
    *allow = arena_strdup(a, methods);
    return HTTP_MATCH_NO_METHOD;
}
