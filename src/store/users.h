/* Users and their default calendar. Strings of returned users are allocated from `a`. */
#ifndef PLANNER_STORE_USERS_H
#define PLANNER_STORE_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/user.h"
#include "error.h"

struct arena;
struct store;

/* Insert `u` (email, name, role, time_zone) with `password_hash`, and its default calendar,
 * in one transaction.  Fills u->id, version and times.  PL_ECONFLICT when the e-mail is taken. */
PL_MUST_CHECK int store_users_create(struct store *db, struct user *u, const char *password_hash,
                                     int64_t now_us, struct pl_error *err);

/* The user `id` (active or not), or PL_ENOTFOUND. */
PL_MUST_CHECK int store_users_get(struct store *db, int64_t id, struct arena *a, struct user *out,
                                  struct pl_error *err);

/* The active user with `email` (normalised) and its password hash (from `a`), or PL_ENOTFOUND. */
PL_MUST_CHECK int store_users_get_login(struct store *db, const char *email, struct arena *a,
                                        struct user *out, const char **password_hash,
                                        struct pl_error *err);

/* Active users whose name or e-mail contains `q` (NULL or "" for all), with id > `after_id`,
 * in id order, at most `limit` (the caller caps it).  `out` receives an array from `a`. */
PL_MUST_CHECK int store_users_search(struct store *db, const char *q, int64_t after_id,
                                     int limit, struct arena *a, struct user **out, size_t *n,
                                     struct pl_error *err);

/* Apply the non-NULL fields of `patch` (name, time_zone, role via role >= 0, is_active via
 * active >= 0, password_hash) to user `id` if its version equals `if_version` (-1: any),
 * bumping the version.  Deactivating also ends the user's sessions.  Returns PL_ENOTFOUND or
 * PL_EPRECOND, else the updated user in `out`. */
struct store_user_patch {
    const char *name, *time_zone, *password_hash;
    int role;   /* -1: unchanged */
    int active; /* -1: unchanged */
};
PL_MUST_CHECK int store_users_update(struct store *db, int64_t id,
                                     const struct store_user_patch *patch, int64_t if_version,
                                     int64_t now_us, struct arena *a, struct user *out,
                                     struct pl_error *err);

/* Look up `n` user ids at once: out[i] is the active user ids[i], or has id 0 when there is
 * none.  One query.  `out` is an array from `a`. */
PL_MUST_CHECK int store_users_lookup(struct store *db, const int64_t *ids, size_t n,
                                     struct arena *a, struct user **out, struct pl_error *err);

/* The same by e-mail (normalised): out[i].id is 0 when no active user has emails[i]. */
PL_MUST_CHECK int store_users_lookup_emails(struct store *db, const char *const *emails, size_t n,
                                            struct arena *a, struct user **out,
                                            struct pl_error *err);

/* How many active admins exist. */
PL_MUST_CHECK int store_users_count_admins(struct store *db, int64_t *n, struct pl_error *err);

#endif
