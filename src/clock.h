/* Reading the clocks, kept out of core/ so that domain code takes `now` as an argument. */
#ifndef PLANNER_CLOCK_H
#define PLANNER_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Wall-clock time, microseconds since the Unix epoch. */
static inline int64_t clock_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Monotonic time in microseconds, for durations. */
static inline int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
