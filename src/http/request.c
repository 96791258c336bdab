/* Reading requests and writing responses.  problem+json is built here and only here. */
#include "http/request.h"

#include "arena.h"
#include "core/user.h"
#include "http/json.h"

#include <ctype.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *http_header(struct http_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *http_query(struct http_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

int http_json_depth(const char *text, size_t len, int limit)
{
    int depth = 0, max = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max && (max = depth) > limit)
                return max;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return max;
}

/* "application/json" with optional parameters ("; charset=utf-8"), case-insensitive. */
static bool is_json_type(const char *ct)
{
    if (ct == NULL)
        return false;
    while (*ct == ' ')
        ct++;
    static const char want[] = "application/json";
    if (strncasecmp(ct, want, sizeof want - 1) != 0)
        return false;
    ct += sizeof want - 1;
    while (*ct == ' ')
        ct++;
    if (*ct == '\0')
        return true;
    if (*ct != ';')
        return false;
    /* The only parameter that matters is charset, and JSON is UTF-8 (RFC 8259). */
    char lower[128];
    size_t n = 0;
    for (; ct[n] && n + 1 < sizeof lower; n++)
        lower[n] = (char)tolower((unsigned char)ct[n]);
    lower[n] = '\0';
    const char *cs = strstr(lower, "charset=");
    return cs == NULL || strncmp(cs + 8, "utf-8", 5) == 0 || strncmp(cs + 8, "\"utf-8\"", 7) == 0;
}

json_t *http_body_object(struct http_request *rq, struct pl_error *err)
{
    if (!is_json_type(http_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE))) {
        pl_error_set(err, PL_EMEDIA, NULL, "the body must be sent as application/json");
        return NULL;
    }
    if (rq->body_len == 0) {
        pl_error_set(err, PL_EMALFORMED, NULL, "the body is empty; a JSON object is expected");
        return NULL;
    }
    /* jansson's own depth cap is 2048 and compiled in; refuse deep nesting before parsing. */
    if (http_json_depth(rq->body, rq->body_len, HTTP_JSON_DEPTH_MAX) > HTTP_JSON_DEPTH_MAX) {
        pl_error_set(err, PL_EMALFORMED, NULL, "JSON nested deeper than %d levels",
                           HTTP_JSON_DEPTH_MAX);
        return NULL;
    }
    json_error_t jerr;
    /* DECODE_ANY: a well-formed scalar body is valid JSON of the wrong type (422), not a
     * syntax error (400). */
    json_t *v = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (v == NULL) {
        pl_error_set(err, PL_EMALFORMED, NULL, "malformed JSON at line %d column %d: %s",
                           jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    arena_defer(rq->arena, (arena_cleanup_fn)json_decref, v);
    if (!json_is_object(v)) {
        pl_error_set(err, PL_EINVAL, NULL, "the body must be a JSON object");
        return NULL;
    }
    return v;
}

void http_reply_reset(struct http_request *rq)
{
    free(rq->resp_body);
    rq->resp_body = NULL;
    rq->resp_len = 0;
    rq->status = 0;
    rq->resp_type = NULL;
    rq->etag = rq->location = rq->allow = NULL;
    rq->retry_after_s = 0;
}

static void set_body(struct http_request *rq, int status, char *body, size_t len, const char *type)
{
    free(rq->resp_body);
    rq->status = status;
    rq->resp_body = body;
    rq->resp_len = len;
    rq->resp_type = type;
}

void http_reply_json(struct http_request *rq, int status, json_t *body)
{
    struct http_json w;
    http_json_init(&w);
    http_json_value(&w, body);
    json_decref(body);
    http_reply_json_text(rq, status, &w);
}

void http_reply_json_text(struct http_request *rq, int status, struct http_json *w)
{
    size_t len;
    char *text = http_json_finish(w, &len);
    if (text == NULL) {
        http_fail(rq, 500, NULL, "the response could not be encoded");
        return;
    }
    set_body(rq, status, text, len, "application/json");
}

void http_reply_empty(struct http_request *rq, int status)
{
    set_body(rq, status, NULL, 0, NULL);
}

void http_reply_text(struct http_request *rq, int status, const char *content_type,
                     const char *text, size_t len)
{
    char *copy = xmalloc(len + 1);
    memcpy(copy, text, len);
    copy[len] = '\0';
    set_body(rq, status, copy, len, content_type);
}

int http_status_of(int pl_status)
{
    switch (pl_status) {
    case PL_EINVAL: return 422;
    case PL_ENOTFOUND: return 404;
    case PL_ECONFLICT: return 409;
    case PL_EPRECOND: return 412;
    case PL_ETOOBIG: return 413;
    case PL_EAUTH: return 401;
    case PL_EFORBIDDEN: return 403;
    case PL_ETHROTTLED: return 429;
    case PL_EMALFORMED: return 400;
    case PL_EMEDIA: return 415;
    case PL_EMETHOD: return 405;
    case PL_EUNAVAIL: return 503;
    default: return 500;
    }
}

static const char *title_of(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

const char *http_printable(struct arena *a, const char *s, size_t max)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0, len;
    while (s[n] != '\0' && (len = core_utf8_char_len(s + n)) != 0 && n + len <= max)
        n += len;
    if (s[n] == '\0')
        return s;
    size_t cap = n + 3 * strlen(s + n); /* every byte left as %XX at worst */
    if (cap > max)
        cap = max;
    char *out = arena_alloc(a, cap + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, s, n);
    size_t o = n;
    for (; s[n] != '\0'; n += len) {
        if ((len = core_utf8_char_len(s + n)) == 0) {
            if (o + 3 > cap)
                break;
            unsigned char c = (unsigned char)s[n];
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
            len = 1;
        } else {
            if (o + len > cap)
                break;
            memcpy(out + o, s + n, len);
            o += len;
        }
    }
    out[o] = '\0';
    return out;
}

/* Build the problem document; `status` overrides the mapping for statuses PL_E* lacks
 * (414, 431). */
static void reply_problem(struct http_request *rq, int status, const struct pl_error *err)
{
    const char *slug = err->type ? err->type : pl_error_slug(err->status);
    /* The detail may quote the client's bytes (a path, a query value), and so may the
     * field's name. */
    const char *detail = http_printable(rq->arena, err->detail, SIZE_MAX),
               *field = http_printable(rq->arena, err->field, SIZE_MAX);
    json_t *p = json_pack("{s:s+, s:s, s:i, s:s}", "type", "/problems/", slug, "title",
                          title_of(status), "status", status, "detail", detail ? detail : "");
    if (p == NULL) /* out of memory: the answer says less */
        p = json_pack("{s:s+, s:s, s:i}", "type", "/problems/", slug, "title", title_of(status),
                      "status", status);
    if (field != NULL && field[0] != '\0' && detail != NULL)
        json_object_set_new(p, "errors", json_pack("[{s:s, s:s}]", "field", field,
                                                   "message", detail));
    if (status == 500)
        json_object_set_new(p, "request_id", json_string(rq->request_id));
    http_reply_json(rq, status, p);
    rq->resp_type = "application/problem+json";
    if (err->retry_after_s > 0)
        rq->retry_after_s = err->retry_after_s;
    rq->etag = NULL;
}

void http_reply_error(struct http_request *rq, const struct pl_error *err)
{
    reply_problem(rq, http_status_of(err->status), err);
}

void http_fail(struct http_request *rq, int status, const char *field, const char *fmt, ...)
{
    struct pl_error err = {0};
    switch (status) {
    case 400: err.status = PL_EMALFORMED; err.type = "bad-request"; break;
    case 401: err.status = PL_EAUTH; break;
    case 403: err.status = PL_EFORBIDDEN; break;
    case 404: err.status = PL_ENOTFOUND; break;
    case 405: err.status = PL_EMETHOD; break;
    case 413: err.status = PL_ETOOBIG; break;
    case 414: err.status = PL_ETOOBIG; err.type = "uri-too-long"; break;
    case 415: err.status = PL_EMEDIA; break;
    case 422: err.status = PL_EINVAL; break;
    case 431: err.status = PL_ETOOBIG; err.type = "header-too-large"; break;
    case 503: err.status = PL_EUNAVAIL; break;
    default: err.status = PL_EINTERNAL; break;
    }
    if (err.type == NULL)
        err.type = pl_error_slug(err.status);
    snprintf(err.field, sizeof err.field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.detail, sizeof err.detail, fmt, ap);
    va_end(ap);
    reply_problem(rq, status, &err);
}

/* Whether the comma-separated entity-tag list `list` names `etag` (or is "*").  Weak and
 * strong forms compare equal, as RFC 9110 asks of If-None-Match. */
static bool etag_listed(const char *list, const char *etag)
{
    const char *p = list;
    size_t n = strlen(etag);
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t len = strcspn(p, ",");
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == n && memcmp(p, etag, n) == 0)
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

bool http_not_modified(struct http_request *rq, const char *etag)
{
    const char *inm = http_header(rq, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm == NULL || !etag_listed(inm, etag))
        return false;
    http_reply_empty(rq, 304);
    rq->etag = etag;
    return true;
}

int http_precondition(struct http_request *rq, const char *etag, struct pl_error *err)
{
    const char *im = http_header(rq, MHD_HTTP_HEADER_IF_MATCH);
    if (im == NULL || etag_listed(im, etag))
        return PL_OK;
    return pl_error_set(err, PL_EPRECOND, NULL, "If-Match does not match the current ETag %s", etag);
}

bool http_request_id_is_valid(const char *id)
{
    size_t n = strlen(id);
    return n >= 1 && n <= 64 &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == n;
}
