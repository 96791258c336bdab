/* Bearer-token sessions, found by the hash of the token (the token itself is never stored),
 * and the failed-login records behind throttling. */
#ifndef PLANNER_STORE_SESSIONS_H
#define PLANNER_STORE_SESSIONS_H

#include <stdint.h>

#include "error.h"

struct store;

/* Who a valid token belongs to. */
struct store_identity {
    int64_t session_id, user_id;
    int role; /* enum user_role */
};

/* Record a session for `user_id` whose token hashes to `token_hash`, expiring at `expires_us`,
 * and drop sessions that have already expired. */
PL_MUST_CHECK int store_sessions_create(struct store *db, int64_t user_id, const char *token_hash,
                                        int64_t now_us, int64_t expires_us, struct pl_error *err);

/* The identity behind an unexpired session of an active user, or PL_ENOTFOUND.  One query. */
PL_MUST_CHECK int store_sessions_lookup(struct store *db, const char *token_hash, int64_t now_us,
                                        struct store_identity *out, struct pl_error *err);

/* End one session. */
PL_MUST_CHECK int store_sessions_delete(struct store *db, int64_t session_id, struct pl_error *err);

/* The time of the n-th most recent failure of `key` after `since_us`, or 0 when it has fewer
 * (what core_throttle_retry_after takes). */
PL_MUST_CHECK int store_login_failures_nth(struct store *db, const char *key, int64_t since_us,
                                           int n, int64_t *at_us, struct pl_error *err);

/* Record a failure of each of the two keys at `now_us` and prune rows older than `since_us`,
 * in one transaction. */
PL_MUST_CHECK int store_login_failures_add(struct store *db, const char *key1, const char *key2,
                                           int64_t now_us, int64_t since_us, struct pl_error *err);

/* Forget the failures of `key` (after a successful login). */
PL_MUST_CHECK int store_login_failures_clear(struct store *db, const char *key,
                                             struct pl_error *err);

#endif
