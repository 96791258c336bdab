/* Every route the server answers.  The OpenAPI document (docs/openapi.json) lists the same
 * set; tests/api/test_openapi.py holds the two together. */
#include "api/api.h"
#include "api/internal.h"

#define R(method, pattern, handler, access) {method, pattern, handler, access, method " " pattern}

const struct http_route api_routes[] = {
    R("GET", "/healthz", api_ops_healthz, HTTP_PUBLIC),
    R("GET", "/readyz", api_ops_readyz, HTTP_PUBLIC),
    R("GET", "/metrics", api_ops_metrics, HTTP_PUBLIC),
    R("GET", "/api/v1/openapi.json", api_ops_openapi, HTTP_PUBLIC),
    R("POST", "/api/v1/auth/login", api_auth_login, HTTP_PUBLIC),
    R("POST", "/api/v1/auth/logout", api_auth_logout, HTTP_USER),
    R("GET", "/api/v1/me", api_auth_me, HTTP_USER),
    R("POST", "/api/v1/users", api_users_create, HTTP_ADMIN),
    R("GET", "/api/v1/users", api_users_list, HTTP_USER),
    R("GET", "/api/v1/users/{id}", api_users_get, HTTP_USER),
    R("PATCH", "/api/v1/users/{id}", api_users_patch, HTTP_USER),
    R("DELETE", "/api/v1/users/{id}", api_users_delete, HTTP_ADMIN),
};

const size_t api_nroutes = sizeof api_routes / sizeof api_routes[0];
