/* Recurrence (RFC 5545 section 3.8.5) through libical: parsing the recurrence lines an event
 * carries (RRULE, EXDATE, RDATE) and expanding them into occurrence start instants.
 *
 * Rules are expanded in the event's local time (its IANA zone) and each local occurrence is
 * turned into UTC by core_tz_to_utc, so DST gaps and overlaps follow RFC 5545 (a time in a gap
 * is read with the offset before it, an ambiguous one as its first occurrence).  A weekly
 * 09:00 event stays at 09:00 local across DST changes; a rule that yields both a time in a gap
 * and the same time an hour later (FREQ=HOURLY, say) names one instant twice, which occurs
 * once.  All-day events recur on dates; their occurrences start at local midnight.
 *
 * Where RFC 5545 leaves room, these readings hold: DTSTART is always the first occurrence and
 * the first counted by COUNT, even when the rule would not produce it (so COUNT=n gives n
 * starts before EXDATEs); FREQ=YEARLY with BYMONTHDAY and no BYMONTH means every month;
 * BYWEEKNO without BYDAY takes DTSTART's weekday, and its INTERVAL counts calendar years. */
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
#define CORE_RECUR_MAX_INDEXED 20000       /* occurrences a series may have indexed */

struct recur_series {
    const char *lines;     /* normalised lines, '\n'-separated (core_recur_parse's output) */
    int64_t dtstart_us;    /* the first occurrence's start, UTC */
    const char *time_zone; /* IANA name the rule is expanded in */
    bool all_day;
};

/* Check and normalise the recurrence lines of an API request (`lines[i]` is e.g.
 * "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20270101T000000Z", "EXDATE:20261201T070000Z",
 * "EXDATE;TZID=Europe/Berlin:20261201T080000,20261208T080000", "RDATE;VALUE=DATE:20261224").
 * `lines` and `time_zone` are borrowed.
 *
 * At most one RRULE, which takes no parameters; EXDATE and RDATE may repeat and list several
 * values, with only the parameters TZID (a known zone; not with dates or UTC times) and VALUE
 * (DATE or DATE-TIME; PERIOD is refused).  Values are checked by range as well as by libical
 * (no month 13, no February 30).  The RRULE's FREQ must be present, COUNT (1..999999999) and
 * UNTIL are exclusive, INTERVAL is 1..32767, RSCALE/SKIP are refused, and the parts must
 * combine as RFC 5545 section 3.3.10 allows.  Refused besides, because libical 3.0 gets them
 * wrong: BYSETPOS except under FREQ=MONTHLY or YEARLY, BYSETPOS with several BYHOUR/BYMINUTE/
 * BYSECOND values or with positive and negative BYMONTHDAY/BYYEARDAY values, and YEARLY with
 * BYMONTHDAY and a numbered BYDAY but no BYMONTH; and BYMONTH/BYMONTHDAY pairs that never
 * occur.  All-day events take DATE values, recur DAILY at most and take no BYHOUR/BYMINUTE/
 * BYSECOND; timed events take DATE-TIME values.
 *
 * On success *normalized (from `a`) holds the lines in a canonical form, '\n'-separated: the
 * RRULE as libical prints it, then every EXDATE and then every RDATE value, sorted, without
 * repeats, one line each, in UTC ("EXDATE:20261201T070000Z") or for all-day events as a date
 * ("EXDATE;VALUE=DATE:20261224").  Floating times (no TZID, no "Z") are read in `time_zone`.
 * UNTIL becomes UTC for timed events (a date meaning the end of that local day) and a date for
 * all-day events (a UTC time meaning its local date).  The normal form pins values to instants
 * and dates of this zone and kind of event: when time_zone or all_day changes, parse the lines
 * again from what the client means.  An empty list gives *normalized = NULL.
 *
 * PL_EINVAL names "recurrence[i]" for a bad line, "recurrence" for more than
 * CORE_RECUR_LINES_MAX lines or 1000 EXDATE/RDATE values in all, "time_zone" for an unknown
 * zone.  Lines hold at most CORE_RECUR_LINE_MAX bytes of printable ASCII.  DTSTART is not
 * known here, so a rule that never occurs after it (INTERVAL=2;BYYEARDAY=366 from an odd year)
 * is taken, and its series is DTSTART alone. */
PL_MUST_CHECK int core_recur_parse(const char *const *lines, size_t n, const char *time_zone,
                                   bool all_day, struct arena *a, char **normalized,
                                   struct pl_error *err);

/* The start instants (UTC) of the occurrences of `s` that start in [from_us, to_us), in
 * ascending order without duplicates: the RRULE's (DTSTART itself included, as RFC 5545 says),
 * plus RDATEs, minus EXDATEs (an EXDATE also removes an RDATE; timed values match to the
 * second, all-day ones by local date).  DTSTART is s->dtstart_us itself for timed events; for
 * all-day events its local date counts and every start is a local midnight.  `s` is borrowed;
 * *starts is allocated from `a` (NULL when *n is 0).
 *
 * Limits: at most `max` starts (clamped to CORE_RECUR_MAX_PER_SERIES), else PL_ETOOBIG; and
 * at most 500000 libical steps, else PL_ETOOBIG (a rule such as FREQ=SECONDLY;COUNT=... far
 * before the window; without COUNT, FREQ=WEEKLY and finer skip ahead to the window, so only
 * COUNT rules and MONTHLY/YEARLY rules walk from DTSTART).  Both name "recurrence": the caller
 * narrows the range.  PL_EINVAL when the lines do not parse (they were normalised by
 * core_recur_parse, so that means a bug or a tampered row). */
PL_MUST_CHECK int core_recur_expand(const struct recur_series *s, int64_t from_us, int64_t to_us,
                                    size_t max, struct arena *a, int64_t **starts, size_t *n,
                                    struct pl_error *err);

/* The last start instant of `s` (from UNTIL or COUNT), or INT64_MAX when it recurs forever;
 * DTSTART and RDATEs included, EXDATEs not subtracted, so the value bounds the series for
 * range queries.  When the walk to the end would exceed the step limit the answer is an upper
 * bound instead: UNTIL (all-day: its local midnight), or INT64_MAX for COUNT.  PL_EINVAL when
 * the lines do not parse. */
PL_MUST_CHECK int core_recur_last(const struct recur_series *s, int64_t *last_us,
                                  struct pl_error *err);

/* Whether `s`, indexed from its first start up to `to_us`, would hold more than
 * CORE_RECUR_MAX_INDEXED occurrences, judged from the `in_window` it has in the `window_us`
 * after its first start (the rule repeats the same way after, until its end: core_recur_last).
 * A series is indexed from its first start on, so one started long ago costs in proportion
 * (a daily one from 1900 with six hours a day: ~280,000 occurrences, 13 s of the writer lock
 * here); the bound keeps any one write to a fraction of a second. */
bool core_recur_too_many(const struct recur_series *s, size_t in_window, int64_t window_us,
                         int64_t to_us);

/* Whether `start_us` is exactly an occurrence start of `s` (used to keep overrides that still
 * apply after the series changes).  False, too, when `s` cannot be expanded up to it (bad
 * lines, or a COUNT rule beyond the step limit). */
bool core_recur_has(const struct recur_series *s, int64_t start_us);

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

#endif
