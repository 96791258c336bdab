/* core/throttle: the Retry-After of the sliding-window login throttle. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "core/throttle.h"

#define S INT64_C(1000000)
#define NOW (INT64_C(1795417200) * S)
#define WINDOW (900 * S)

static const struct {
    const char *what;
    int64_t nth_recent_us, window_us, now_us;
    int want;
} cases[] = {
    {"fewer than max failures", 0, WINDOW, NOW, 0},
    {"the n-th failure left the window long ago", NOW - 2 * WINDOW, WINDOW, NOW, 0},
    {"it leaves the window exactly now", NOW - WINDOW, WINDOW, NOW, 0},
    {"one microsecond still to go rounds up to 1 s", NOW - WINDOW + 1, WINDOW, NOW, 1},
    {"just failed: the whole window", NOW, WINDOW, NOW, 900},
    {"half a second in: round up", NOW - S / 2, WINDOW, NOW, 900},
    {"one second in", NOW - S, WINDOW, NOW, 899},
    {"1.000001 s in", NOW - S - 1, WINDOW, NOW, 899},
    {"a sub-second window still waits 1 s", NOW, S / 10, NOW, 1},
    {"failure stamped after now (clock step back)", NOW + S, WINDOW, NOW, 901},
    {"a huge window is capped to int", NOW, INT64_C(1) << 62, NOW, 0x7fffffff},
};

Test(core_throttle, retry_after)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = core_throttle_retry_after(cases[i].nth_recent_us, cases[i].window_us,
                                            cases[i].now_us);
        cr_expect(eq(int, got, cases[i].want), "case %zu: %s", i, cases[i].what);
    }
}

/* Whenever it says "wait", it says at least 1 s, and waiting that long is enough. */
Test(core_throttle, wait_is_positive_and_sufficient)
{
    for (int64_t age = 0; age < WINDOW; age += 123457) {
        int wait = core_throttle_retry_after(NOW - age, WINDOW, NOW);
        cr_assert(ge(int, wait, 1), "age %lld us", (long long)age);
        cr_assert(eq(int, core_throttle_retry_after(NOW - age, WINDOW, NOW + wait * S), 0),
                  "age %lld us, wait %d s", (long long)age, wait);
        cr_assert(gt(int, core_throttle_retry_after(NOW - age, WINDOW, NOW + wait * S - S), 0),
                  "age %lld us: %d s is more than needed", (long long)age, wait);
    }
}
