/* A process's memory of rows that a version number names.
 *
 * An entry is a blob kept under (id, version).  A reader asks for the version it has just read
 * from the database, in the same snapshot as the rest of its request: an entry kept under any
 * other version is simply not found.  So the cache needs no invalidation, across threads or
 * across the worker processes that share one database: a writer moves the version, and the
 * next reader of the row misses and keeps the new blob.  The rule that makes it true belongs
 * to the caller: everything in the blob must move the version when it changes, and a blob is
 * put only from a read snapshot (never from inside a write transaction, whose version number
 * a rollback could hand out again for other contents).
 *
 * Bounded by `budget` bytes of blobs; past it the least recently used are dropped (a clock).
 * Thread-safe: one mutex, held for a lookup or a copy, never across a query. */
#ifndef PLANNER_STORE_CACHE_H
#define PLANNER_STORE_CACHE_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store_cache;

struct store_cache_stats {
    uint64_t hits, misses;
    size_t entries, bytes;
};

/* NULL when out of memory.  `entry_bytes` is the expected size of a blob: the cache has a
 * slot (a power of two of them) for every budget / entry_bytes. */
struct store_cache *store_cache_new(size_t budget, size_t entry_bytes);
void store_cache_free(struct store_cache *c);

/* A copy in `a` of the blob kept under exactly (id, version), its size in *len; NULL when
 * there is none. */
void *store_cache_get(struct store_cache *c, int64_t id, int64_t version, struct arena *a,
                      size_t *len);

/* Keep a copy of `blob` under (id, version), in place of whatever `id` had.  False when it
 * was not kept (larger than an eighth of the budget, or no memory): the next reader misses. */
bool store_cache_put(struct store_cache *c, int64_t id, int64_t version, const void *blob,
                     size_t len);

void store_cache_stats(struct store_cache *c, struct store_cache_stats *out);

#endif
