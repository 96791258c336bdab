/* Idempotency-Key on POST: the first answer of a key is kept for a day and replayed to
 * retries of the same request; a retry of a request still running gets 409, the same key on a
 * different request 422.  Only successful answers are kept: a failed request releases its key
 * so that the client may retry it. */
#include "api/api.h"
#include "api/internal.h"

#include "arena.h"
#include "log.h"
#include "secret.h"
#include "store/idempotency.h"

#include <string.h>

#define KEY_MAX 255

/* The key of this request, or NULL when it has none (or is not a POST). */
static const char *key_of(struct http_request *rq)
{
    if (strcmp(rq->method, "POST") != 0 || rq->user_id == 0)
        return NULL;
    return http_header(rq, "Idempotency-Key");
}

bool api_idempotency_begin(struct http_request *rq)
{
    const char *key = key_of(rq);
    if (key == NULL)
        return false;
    struct pl_error err = {0};
    size_t n = strlen(key);
    if (n == 0 || n > KEY_MAX || strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789-_.:") != n) {
        pl_error_set(&err, PL_EINVAL, "Idempotency-Key", "must be 1-255 of A-Z a-z 0-9 - _ . :");
        http_reply_error(rq, &err);
        return true;
    }
    /* The request is the method, the path and the body: the same key with any of them
     * different is a client bug worth reporting. */
    char *text = arena_printf(rq->arena, "%s %s\n", rq->method, rq->path);
    size_t tlen = strlen(text);
    char *all = arena_alloc(rq->arena, tlen + rq->body_len + 1);
    memcpy(all, text, tlen);
    if (rq->body_len)
        memcpy(all + tlen, rq->body, rq->body_len);
    all[tlen + rq->body_len] = '\0';
    char hash[SECRET_TOKEN_HASH_LEN + 1];
    secret_hash_hex(all, tlen + rq->body_len, hash);
    struct idempotent_answer ans;
    if (store_idempotency_claim(rq->db, rq->user_id, key, hash, rq->now_us, rq->arena, &ans,
                                &err) < 0) {
        http_reply_error(rq, &err);
        return true;
    }
    if (ans.status == 0) {
        rq->idempotency_claimed = true;
        return false; /* run the request */
    }
    http_reply_text(rq, ans.status, "application/json", ans.body, strlen(ans.body));
    if (ans.location && *ans.location)
        rq->location = ans.location;
    /* The stored answer is the representation: its "etag" member is the ETag to send. */
    json_t *doc = json_loads(ans.body, 0, NULL);
    json_t *etag = doc ? json_object_get(doc, "etag") : NULL;
    if (json_is_string(etag))
        rq->etag = arena_strdup(rq->arena, json_string_value(etag));
    json_decref(doc);
    rq->replayed = true;
    return true;
}

void api_idempotency_end(struct http_request *rq)
{
    if (!rq->idempotency_claimed)
        return;
    struct pl_error err = {0};
    bool ok = rq->status >= 200 && rq->status < 300;
    char *body = NULL;
    if (ok) {
        body = arena_alloc(rq->arena, rq->resp_len + 1);
        if (rq->resp_len)
            memcpy(body, rq->resp_body, rq->resp_len);
        body[rq->resp_len] = '\0';
    }
    if (store_idempotency_finish(rq->db, rq->user_id, key_of(rq), ok ? rq->status : 0, body,
                                 rq->location, &err) < 0)
        log_msg(LOG_ERROR, "idempotency key of request %s not recorded: %s", rq->request_id,
                err.detail);
}

void api_idempotency_release(struct http_request *rq)
{
    if (!rq->idempotency_claimed)
        return;
    struct pl_error err = {0};
    rq->idempotency_claimed = false;
    if (store_idempotency_finish(rq->db, rq->user_id, key_of(rq), 0, NULL, NULL, &err) < 0)
        log_msg(LOG_ERROR, "idempotency key of request %s not released: %s", rq->request_id,
                err.detail);
}
