/* Meeting rooms and their features.  Strings are allocated from `a`. */
#ifndef PLANNER_STORE_ROOMS_H
#define PLANNER_STORE_ROOMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct arena;
struct store;

struct room {
    int64_t id;
    const char *name, *location;
    int capacity;
    const char **features; /* sorted */
    size_t nfeatures;
    bool is_active;
    int64_t version, created_us, updated_us;
};

/* Active rooms with capacity >= capacity_min (0: any) having `feature` (NULL: any), id > after,
 * id order, at most `limit`.  With from < to, only rooms free for the whole of [from, to). */
struct store_room_filter {
    int capacity_min;
    const char *feature;
    int64_t from_us, to_us; /* both 0: no availability filter */
    int64_t after_id;
    int limit;
};
PL_MUST_CHECK int store_rooms_list(struct store *db, const struct store_room_filter *f,
                                   struct arena *a, struct room **out, size_t *n,
                                   struct pl_error *err);

/* The ids of the rooms a find-a-time may book: active, seating capacity_min, with `feature`
 * (NULL: any); the first `limit` by id, then smallest first (capacity, then id).  It reads
 * no names or features, which were most of store_rooms_list's cost for this (callgrind). */
PL_MUST_CHECK int store_rooms_seating(struct store *db, int capacity_min, const char *feature,
                                      int limit, struct arena *a, int64_t **ids, size_t *n,
                                      struct pl_error *err);

/* Room `id` (active or not), or PL_ENOTFOUND. */
PL_MUST_CHECK int store_rooms_get(struct store *db, int64_t id, struct arena *a, struct room *out,
                                  struct pl_error *err);

/* Look up `n` room ids at once: out[i] is the active room ids[i], or has id 0.  One query. */
PL_MUST_CHECK int store_rooms_lookup(struct store *db, const int64_t *ids, size_t n,
                                     struct arena *a, struct room **out, struct pl_error *err);

/* Insert `r` with its features; PL_ECONFLICT (field name) when the name is taken. */
PL_MUST_CHECK int store_rooms_create(struct store *db, struct room *r, int64_t now_us,
                                     struct pl_error *err);

/* Replace name/location/capacity (non-NULL / >0) and, when `features` is non-NULL, the feature
 * set; deactivate with active == 0.  Checks `if_version` (-1: any): PL_EPRECOND. */
PL_MUST_CHECK int store_rooms_update(struct store *db, int64_t id, const char *name,
                                     const char *location, int capacity, const char **features,
                                     size_t nfeatures, int active, int64_t if_version,
                                     int64_t now_us, struct pl_error *err);

#endif
