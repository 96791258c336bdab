/* Idempotency keys: a POST retried with the same Idempotency-Key gets the first answer again
 * and changes nothing.  A key is claimed before the request runs (so two concurrent retries
 * cannot both run), completed with the answer, or released when the request failed. */
#ifndef PLANNER_STORE_IDEMPOTENCY_H
#define PLANNER_STORE_IDEMPOTENCY_H

#include <stdint.h>

#include "error.h"

struct arena;
struct store;

#define STORE_IDEMPOTENCY_TTL_US (INT64_C(24) * 3600 * 1000000)

struct idempotent_answer {
    int status;           /* 0: the key was free and is now claimed: run the request */
    const char *body;     /* the stored answer, from `a` */
    const char *location;
};

/* Claim (`user_id`, `key`) for the request whose hash is `request_hash`, or find its answer.
 * PL_ECONFLICT when the first request with the key is still running; PL_EINVAL (field
 * Idempotency-Key) when the key was used for a different request.  Keys older than
 * STORE_IDEMPOTENCY_TTL_US are forgotten. */
PL_MUST_CHECK int store_idempotency_claim(struct store *db, int64_t user_id, const char *key,
                                          const char *request_hash, int64_t now_us,
                                          struct arena *a, struct idempotent_answer *out,
                                          struct pl_error *err);
/* Record the answer of a claimed key, or release the claim (status 0). */
PL_MUST_CHECK int store_idempotency_finish(struct store *db, int64_t user_id, const char *key,
                                           int status, const char *body, const char *location,
                                           struct pl_error *err);

#endif
