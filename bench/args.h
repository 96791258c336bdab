/* Command-line number parsing shared by the bench tools (planner-seed, planner-load). */
#ifndef PLANNER_BENCH_ARGS_H
#define PLANNER_BENCH_ARGS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* The integer `text` of option `flag` within [lo, hi] into *out; 0, or -1 after saying why
 * on stderr (prefixed with `tool`). */
static inline int bench_parse_integer(const char *tool, const char *flag, const char *text,
                                      long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "%s: %s must be an integer from %lld to %lld\n", tool, flag, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

#endif
