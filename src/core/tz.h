/* Local civil time in IANA time zones, on libical's reading of the system tz database.
 * Local -> UTC follows RFC 5545 section 3.3.5 where libical does not: a local time in a DST gap
 * is read with the offset in force before the gap (02:30 on a spring-forward night becomes
 * 03:30), and an ambiguous local time in a fall-back overlap is its first occurrence. */
#ifndef PLANNER_CORE_TZ_H
#define PLANNER_CORE_TZ_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct core_civil {
    int year, month, day;    /* 1-based month and day */
    int hour, minute, second;
    int weekday;             /* ISO: 1 = Monday .. 7 = Sunday (output only) */
};

/* libical's zone (icaltimezone) named `tz`, loaded whole, or NULL for a name that is not an
 * IANA zone of the system's tz database: "UTC" is libical's UTC zone.  Safe from any thread at
 * any time, as libical's own lookups are not (tz.c says why): the only way into libical's
 * table of builtin zones. */
struct _icaltimezone *core_tz_zone(const char *tz);
/* libical's UTC zone, for conversions. */
struct _icaltimezone *core_tz_utc(void);
/* Whether `tz` could name a zone: 1-CORE_TZ_NAME_MAX characters of letters, digits and
 * "/_+-", not absolute, no "..": libical turns a name into a file path. */
bool core_tz_name_ok(const char *tz);
/* Whether `tz` is also a zone's own name rather than another path to its file
 * (posix/Europe/Berlin, Europe//Berlin), which calendar apps cannot match to the zone: what
 * input is held to (core_tz_check); stored rows only to core_tz_known. */
bool core_tz_name_canonical(const char *tz);

/* The UTC instant of `local` in `tz` (a name core_tz_check accepts).  PL_EINVAL naming
 * `field` for an unknown zone. */
PL_MUST_CHECK int core_tz_to_utc(const char *tz, const struct core_civil *local, int64_t *utc_us,
                                 const char *field, struct pl_error *err);

/* The local civil time of `utc_us` in `tz`, seconds precision. */
PL_MUST_CHECK int core_tz_from_utc(const char *tz, int64_t utc_us, struct core_civil *out,
                                   const char *field, struct pl_error *err);

/* Parse "YYYY-MM-DD" into the date fields of `out` (time fields zeroed).  PL_EINVAL naming
 * `field`. */
PL_MUST_CHECK int core_tz_parse_date(const char *text, struct core_civil *out, const char *field,
                                     struct pl_error *err);

/* Parse "HH:MM" into minutes after midnight (0..1440; "24:00" allowed).  PL_EINVAL. */
PL_MUST_CHECK int core_tz_parse_hhmm(const char *text, int *minutes, const char *field,
                                     struct pl_error *err);

#endif
