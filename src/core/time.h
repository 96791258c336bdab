/* Instants as integer microseconds since the Unix epoch, UTC, and their RFC 3339 text form.
 * Pure arithmetic: the clock is read by callers (src/clock.h) and passed in. */
#ifndef PLANNER_CORE_TIME_H
#define PLANNER_CORE_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CORE_TIME_US_PER_S INT64_C(1000000)
#define CORE_TIME_TEXT_MAX 40

/* Format `us` as "YYYY-MM-DDTHH:MM:SSZ" (fractional seconds only when non-zero) into `out`,
 * which holds CORE_TIME_TEXT_MAX bytes. Years outside 0..9999 are clamped. */
void core_time_format(int64_t us, char out[CORE_TIME_TEXT_MAX]);

/* Parse an RFC 3339 date-time with a mandatory offset ("Z" or "+03:00") into UTC
 * microseconds.  Returns PL_OK, or PL_EINVAL naming `field` in `err`. */
PL_MUST_CHECK int core_time_parse(const char *text, const char *field, int64_t *out_us,
                                  struct pl_error *err);

/* Days since 1970-01-01 of a proleptic Gregorian date (no range checks), and back. */
int64_t core_time_days_from_civil(int64_t y, unsigned m, unsigned d);
void core_time_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
