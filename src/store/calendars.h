/* Calendars and their shares.  Strings of returned calendars are allocated from `a`. */
#ifndef PLANNER_STORE_CALENDARS_H
#define PLANNER_STORE_CALENDARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct arena;
struct store;

struct calendar {
    int64_t id, owner_id;
    const char *name, *color, *time_zone;
    bool is_default;
    int access; /* enum calendar_access of the user it was read for */
    int64_t version, created_us, updated_us;
};

struct calendar_share {
    int64_t user_id;
    int role; /* CAL_FREEBUSY, CAL_READ or CAL_WRITE */
    const char *email, *name;
};

/* Calendars `user_id` owns or that are shared with it, owned first, each with its access. */
PL_MUST_CHECK int store_calendars_list(struct store *db, int64_t user_id, struct arena *a,
                                       struct calendar **out, size_t *n, struct pl_error *err);

/* Calendar `id` with `user_id`'s access to it (CAL_NONE included: the caller decides).
 * PL_ENOTFOUND when it does not exist. */
PL_MUST_CHECK int store_calendars_get(struct store *db, int64_t id, int64_t user_id,
                                      struct arena *a, struct calendar *out, struct pl_error *err);

/* `user_id`'s default calendar id. */
PL_MUST_CHECK int store_calendars_default(struct store *db, int64_t user_id, int64_t *id,
                                          struct pl_error *err);

/* Insert `c` (owner_id, name, color, time_zone); fills id, version, times. */
PL_MUST_CHECK int store_calendars_create(struct store *db, struct calendar *c, int64_t now_us,
                                         struct pl_error *err);

/* Change the non-NULL fields if the version is `if_version` (-1: any).  PL_EPRECOND. */
PL_MUST_CHECK int store_calendars_update(struct store *db, int64_t id, const char *name,
                                         const char *color, const char *time_zone,
                                         int64_t if_version, int64_t now_us,
                                         struct pl_error *err);

/* Delete a calendar with its events.  PL_ECONFLICT for a default calendar. */
PL_MUST_CHECK int store_calendars_delete(struct store *db, int64_t id, struct pl_error *err);

/* Share `id` with `user_id` as `role` (insert or replace), or end the share.  Either bumps the
 * calendar's version. */
PL_MUST_CHECK int store_calendars_share(struct store *db, int64_t id, int64_t user_id, int role,
                                        int64_t now_us, struct pl_error *err);
PL_MUST_CHECK int store_calendars_unshare(struct store *db, int64_t id, int64_t user_id,
                                          int64_t now_us, struct pl_error *err);
PL_MUST_CHECK int store_calendars_shares(struct store *db, int64_t id, struct arena *a,
                                         struct calendar_share **out, size_t *n,
                                         struct pl_error *err);

#endif
