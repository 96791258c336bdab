/* Subscription feeds of calendars: the secret URL token of a calendar's feed, found by its
 * hash (the token itself is never stored, as with sessions). */
#ifndef PLANNER_STORE_FEEDS_H
#define PLANNER_STORE_FEEDS_H

#include <stdint.h>

#include "error.h"

struct store;

struct calendar_feed {
    int64_t calendar_id, created_by, created_us;
};

/* Give calendar `calendar_id` the feed whose token hashes to `token_hash` (secret.h),
 * created by `user_id` at `now_us`, replacing the one it had: the old token stops working when
 * this commits.  One statement. */
PL_MUST_CHECK int store_feeds_set(struct store *db, int64_t calendar_id, const char *token_hash,
                                  int64_t user_id, int64_t now_us, struct pl_error *err);

/* Revoke the calendar's feed.  PL_ENOTFOUND when it has none. */
PL_MUST_CHECK int store_feeds_delete(struct store *db, int64_t calendar_id,
                                     struct pl_error *err);

/* The feed whose token hashes to `token_hash`, provided the calendar's owner is still active
 * (a deactivated user's feeds stop working with their sessions).  PL_ENOTFOUND otherwise.
 * One query. */
PL_MUST_CHECK int store_feeds_lookup(struct store *db, const char *token_hash,
                                     struct calendar_feed *out, struct pl_error *err);

#endif
