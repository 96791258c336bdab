/* The failed-login throttling rule, kept free of storage so it can be tested on its own.
 * A key (an account or a client address) may fail `max` times within a sliding `window`;
 * then it must wait until the oldest of those `max` failures leaves the window. */
#ifndef PLANNER_CORE_THROTTLE_H
#define PLANNER_CORE_THROTTLE_H

#include <stdint.h>

/* `nth_recent_us` is the time of the max-th most recent failure of the key (0 when the key
 * has fewer than `max` failures in the window).  Returns 0 when an attempt may proceed,
 * otherwise the whole seconds to wait (at least 1), suitable for Retry-After. */
int core_throttle_retry_after(int64_t nth_recent_us, int64_t window_us, int64_t now_us);

#endif
