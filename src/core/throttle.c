/* Sliding-window login throttling. */
#include "core/throttle.h"

int core_throttle_retry_after(int64_t nth_recent_us, int64_t window_us, int64_t now_us)
{
    if (nth_recent_us <= 0)
        return 0;
    int64_t free_at = nth_recent_us + window_us;
    if (free_at <= now_us)
        return 0;
    int64_t wait_s = (free_at - now_us + 999999) / 1000000;
    return wait_s > 0x7fffffff ? 0x7fffffff : (int)wait_s;
}
