/* Recurrence (RFC 5545 section 3.8.5) through libical: parsing the recurrence lines an event
 * carries (RRULE, EXDATE, RDATE) and expanding them into occurrence start instants.
 *
 * Rules are expanded in the event's local time (its IANA zone) and each local occurrence is
 * turned into UTC by core_tz_to_utc, so DST gaps and overlaps follow RFC 5545 (a time in a gap
 * is read with the offset before it, an ambiguous one as its first occurrence).  All-day
 * events recur on dates; their occurrences start at local midnight. */
#ifndef PLANNER_CORE_RECUR_H
#define PLANNER_CORE_RECUR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct arena;

#define CORE_RECUR_LINES_MAX 64            /* recurrence lines per event */
#define CORE_RECUR_LINE_MAX 4096           /* bytes per line */
#define CORE_RECUR_MAX_PER_SERIES 5000     /* occurrences one expansion may produce */

struct recur_series {
    const char *lines;     /* normalised lines, '\n'-separated (core_recur_parse's output) */
    int64_t dtstart_us;    /* the first occurrence's start, UTC */
    const char *time_zone; /* IANA name the rule is expanded in */
    bool all_day;
};

/* Check and normalise the recurrence lines of an API request (`lines[i]` is e.g.
 * "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20270101T000000Z", "EXDATE:20261201T070000Z",
 * "EXDATE;TZID=Europe/Berlin:20261201T080000,20261208T080000", "RDATE;VALUE=DATE:20261224").
 * At most one RRULE; EXDATE and RDATE may repeat.  Values are checked by libical, the RRULE's
 * FREQ must be present, COUNT and UNTIL are exclusive, a TZID parameter must name a known zone,
 * DATE values only for all-day events and DATE-TIME values only for others.  On success
 * *normalized (from `a`) holds the lines in a canonical form, '\n'-separated: the RRULE as
 * libical prints it, then every EXDATE and RDATE value as one line each in UTC
 * ("EXDATE:20261201T070000Z") or as a date for all-day events ("EXDATE;VALUE=DATE:20261224").
 * An empty list gives *normalized = NULL.  PL_EINVAL names "recurrence[i]". */
PL_MUST_CHECK int core_recur_parse(const char *const *lines, size_t n, const char *time_zone,
                                   bool all_day, struct arena *a, char **normalized,
                                   struct pl_error *err);

/* The start instants (UTC) of the occurrences of `s` that start in [from_us, to_us), in
 * ascending order without duplicates: the RRULE's (DTSTART itself included, as RFC 5545 says),
 * plus RDATEs, minus EXDATEs.  At most `max` (<= CORE_RECUR_MAX_PER_SERIES): PL_ETOOBIG when
 * the window holds more.  *starts is allocated from `a`.  PL_EINVAL when the lines do not
 * parse (they were normalised by core_recur_parse, so that means a bug or a tampered row). */
PL_MUST_CHECK int core_recur_expand(const struct recur_series *s, int64_t from_us, int64_t to_us,
                                    size_t max, struct arena *a, int64_t **starts, size_t *n,
                                    struct pl_error *err);

/* The last start instant the rule can produce (from UNTIL or COUNT), or INT64_MAX when it
 * recurs forever.  RDATEs are included. */
PL_MUST_CHECK int core_recur_last(const struct recur_series *s, int64_t *last_us,
                                  struct pl_error *err);

/* Split a series at its occurrence `at_us` ("this and following"): *before (from `a`) gets the
 * lines of the occurrences before it (the RRULE ends with UNTIL just before `at_us`, COUNT
 * dropped; EXDATEs and RDATEs before it), *after the lines of the series restarted at
 * `at_us + shift_us` (the rest moved by `shift_us`, as when "this and following" also moves
 * the time: the same rule, ending where the original ended, moved (UNTIL its last start plus
 * the shift, when it had COUNT or UNTIL); EXDATEs and RDATEs from `at_us` on, moved too).
 * *before is NULL when `at_us` is the first occurrence (the whole series changes).  PL_EINVAL
 * when the lines do not parse. */
PL_MUST_CHECK int core_recur_split(const struct recur_series *s, int64_t at_us, int64_t shift_us,
                                   struct arena *a, char **before, char **after,
                                   struct pl_error *err);

/* Whether `start_us` is an occurrence of `s` (used to keep overrides that still apply after
 * the series changes). */
bool core_recur_has(const struct recur_series *s, int64_t start_us);

#endif
