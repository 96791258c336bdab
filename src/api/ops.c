/* Operations endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document. */
#include "api/internal.h"

#include "metrics.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char api_openapi_json[];
extern const size_t api_openapi_json_len;

void api_ops_healthz(struct http_request *rq)
{
    http_reply_json(rq, 200, json_pack("{s:s}", "status", "ok"));
}

/* The version of the system tz database libical reads zones from ("2025b"), from the first
 * line of tzdata.zi ("# version 2025b"), or "unknown". */
static void tzdata_version(char *out, size_t len)
{
    char line[64] = "";
    FILE *f = fopen("/usr/share/zoneinfo/tzdata.zi", "r");
    snprintf(out, len, "unknown");
    if (f == NULL)
        return;
    if (fgets(line, sizeof line, f) != NULL && strncmp(line, "# version ", 10) == 0) {
        line[strcspn(line, "\r\n")] = '\0';
        snprintf(out, len, "%.20s", line + 10);
    }
    fclose(f);
}

void api_ops_readyz(struct http_request *rq)
{
    struct pl_error err = {0};
    int version = 0;
    if (!api_need_db(rq))
        return;
    if (store_ping(rq->db, &err) < 0 || store_schema_version(rq->db, &version, &err) < 0) {
        http_fail(rq, 503, NULL, "the database is unreachable: %s", err.detail);
        return;
    }
    if (version != store_schema_latest()) {
        http_fail(rq, 503, NULL, "the database schema is at version %d, this binary needs %d",
                  version, store_schema_latest());
        return;
    }
    char tz[32];
    tzdata_version(tz, sizeof tz);
    http_reply_json(rq, 200, json_pack("{s:s, s:s, s:i, s:s}", "status", "ready", "database",
                                       store_engine_name_get(rq->db), "schema_version", version,
                                       "tzdata", tz));
}

void api_ops_metrics(struct http_request *rq)
{
    struct store_writer_stats ws;
    store_writer_lock_stats(&ws);
    struct metrics_writes w = {ws.taken, ws.wait_us, ws.held_us, ws.waiting};
    char *text = metrics_render(&w);
    http_reply_text(rq, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
}

void api_ops_openapi(struct http_request *rq)
{
    http_reply_text(rq, 200, "application/json", api_openapi_json, api_openapi_json_len);
}
