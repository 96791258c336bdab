/* Half-open time intervals [start, end) in UTC microseconds, and the algebra free/busy and
 * find-a-time are built from. */
#ifndef PLANNER_CORE_INTERVAL_H
#define PLANNER_CORE_INTERVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct interval {
    int64_t start_us, end_us;
};

/* Sort `iv` by start and merge overlapping or touching intervals in place; empty intervals
 * are dropped.  Returns the new count. */
size_t core_interval_merge(struct interval *iv, size_t n);

/* Whether `x` overlaps any interval of `merged` (sorted, disjoint: the output of merge).
 * An empty `x` overlaps nothing.  O(log n). */
bool core_interval_overlaps(const struct interval *merged, size_t n, struct interval x);

/* `a` minus `b` (both merged) into `out`, which has room for na + nb intervals; the result is
 * merged too.  Returns its count. */
size_t core_interval_subtract(const struct interval *a, size_t na, const struct interval *b,
                              size_t nb, struct interval *out);

/* Clip each interval of `iv` to `window`, dropping those outside it.  Returns the new count. */
size_t core_interval_clip(struct interval *iv, size_t n, struct interval window);

#endif
