/* core/tz: local civil time <-> UTC in IANA zones, across DST gaps and overlaps (RFC 5545
 * section 3.3.5), and the date and HH:MM parsers.  Expected instants were computed
 * independently with Python's zoneinfo (fold=0, which reads a gap with the offset before it
 * and an overlap as its first occurrence, as RFC 5545 does). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "core/time.h"
#include "core/tz.h"
#include "core/user.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define US INT64_C(1000000)

/* Assert that `rc`/`err` is a PL_EINVAL naming `field`. */
#define EXPECT_INVALID(rc, err, fieldname, ...)                                                \
    do {                                                                                       \
        cr_expect(eq(int, (rc), PL_EINVAL), __VA_ARGS__);                                      \
        cr_expect(eq(int, (err).status, PL_EINVAL), __VA_ARGS__);                              \
        cr_expect(eq(str, (err).field, fieldname), __VA_ARGS__);                               \
        cr_expect(ne(str, (err).detail, ""), __VA_ARGS__);                                     \
    } while (0)

/* ---- local -> UTC ---------------------------------------------------------------------- */

static const struct {
    const char *tz;
    struct core_civil local;
    int64_t want_s;
    const char *note;
} to_utc_cases[] = {
    /* Europe/Moscow: +03 all year, no DST. */
    {"Europe/Moscow", {2026, 11, 23, 10, 0, 0, 0}, INT64_C(1795417200), "07:00Z"},
    {"Europe/Moscow", {2026, 11, 23, 0, 0, 0, 0}, INT64_C(1795381200), "previous UTC day"},
    {"Europe/Moscow", {2026, 7, 1, 12, 34, 56, 0}, INT64_C(1782898496), "summer, same offset"},
    {"Europe/Moscow", {2026, 1, 1, 2, 0, 0, 0}, INT64_C(1767222000), "previous UTC year"},
    {"UTC", {2026, 11, 23, 10, 0, 0, 0}, INT64_C(1795428000), "UTC"},
    {"Asia/Kolkata", {2026, 11, 23, 9, 0, 0, 0}, INT64_C(1795404600), "+05:30"},
    /* Europe/Berlin spring forward, 2025-03-30: 02:00 CET -> 03:00 CEST at 01:00Z.  Times in
     * the gap are read with the offset before it (+01). */
    {"Europe/Berlin", {2025, 3, 30, 1, 59, 59, 0}, INT64_C(1743296399), "last second before"},
    {"Europe/Berlin", {2025, 3, 30, 2, 0, 0, 0}, INT64_C(1743296400), "gap start -> 01:00Z"},
    {"Europe/Berlin", {2025, 3, 30, 2, 30, 0, 0}, INT64_C(1743298200), "gap -> 01:30Z"},
    {"Europe/Berlin", {2025, 3, 30, 2, 59, 59, 0}, INT64_C(1743299999), "gap end -> 01:59:59Z"},
    {"Europe/Berlin", {2025, 3, 30, 3, 0, 0, 0}, INT64_C(1743296400), "first CEST second"},
    /* Europe/Berlin fall back, 2025-10-26: 03:00 CEST -> 02:00 CET at 01:00Z.  02:00-02:59
     * happen twice; the first (CEST) is meant. */
    {"Europe/Berlin", {2025, 10, 26, 1, 59, 59, 0}, INT64_C(1761436799), "before the overlap"},
    {"Europe/Berlin", {2025, 10, 26, 2, 0, 0, 0}, INT64_C(1761436800), "overlap start, first"},
    {"Europe/Berlin", {2025, 10, 26, 2, 30, 0, 0}, INT64_C(1761438600), "overlap -> 00:30Z"},
    {"Europe/Berlin", {2025, 10, 26, 2, 59, 59, 0}, INT64_C(1761440399), "overlap end, first"},
    {"Europe/Berlin", {2025, 10, 26, 3, 0, 0, 0}, INT64_C(1761444000), "after the overlap"},
    {"Europe/Berlin", {2025, 1, 15, 9, 0, 0, 0}, INT64_C(1736928000), "winter +01"},
    {"Europe/Berlin", {2025, 7, 15, 9, 0, 0, 0}, INT64_C(1752562800), "summer +02"},
    {"Europe/Berlin", {2025, 12, 31, 23, 30, 0, 0}, INT64_C(1767220200), "year end"},
    /* America/New_York, 2026-03-08 (gap 02:00-03:00) and 2026-11-01 (01:00-02:00 twice). */
    {"America/New_York", {2026, 3, 8, 1, 59, 0, 0}, INT64_C(1772953140), "before the gap"},
    {"America/New_York", {2026, 3, 8, 2, 30, 0, 0}, INT64_C(1772955000), "gap -> 07:30Z"},
    {"America/New_York", {2026, 3, 8, 3, 0, 0, 0}, INT64_C(1772953200), "first EDT second"},
    {"America/New_York", {2026, 11, 1, 0, 30, 0, 0}, INT64_C(1793507400), "before the overlap"},
    {"America/New_York", {2026, 11, 1, 1, 0, 0, 0}, INT64_C(1793509200), "overlap start, EDT"},
    {"America/New_York", {2026, 11, 1, 1, 30, 0, 0}, INT64_C(1793511000), "overlap, EDT"},
    {"America/New_York", {2026, 11, 1, 2, 0, 0, 0}, INT64_C(1793516400), "after, EST"},
    {"America/New_York", {2026, 11, 23, 9, 0, 0, 0}, INT64_C(1795442400), "winter -05"},
    {"America/New_York", {2026, 7, 4, 20, 0, 0, 0}, INT64_C(1783209600), "next UTC day"},
    {"America/New_York", {2026, 12, 31, 21, 0, 0, 0}, INT64_C(1798768800), "next UTC year"},
    /* Southern hemisphere and a half-hour DST shift. */
    {"Australia/Sydney", {2025, 10, 5, 2, 30, 0, 0}, INT64_C(1759595400), "gap, +10 before"},
    {"Australia/Sydney", {2025, 4, 6, 2, 30, 0, 0}, INT64_C(1743867000), "overlap, +11 first"},
    {"Australia/Lord_Howe", {2025, 10, 5, 2, 15, 0, 0}, INT64_C(1759592700), "30-minute gap"},
    {"Australia/Lord_Howe", {2025, 4, 6, 1, 45, 0, 0}, INT64_C(1743864300), "30-minute overlap"},
    /* Samoa skipped 2011-12-30 altogether (-10 -> +14): a whole-day gap. */
    {"Pacific/Apia", {2011, 12, 30, 12, 0, 0, 0}, INT64_C(1325282400), "skipped day"},
    /* Before the epoch and past 2038. */
    {"America/New_York", {1969, 12, 30, 19, 0, 0, 0}, INT64_C(-86400), "1969"},
    {"America/New_York", {2040, 7, 1, 12, 0, 0, 0}, INT64_C(2224771200), "2040, EDT"},
};

Test(core_tz, to_utc_table)
{
    for (size_t i = 0; i < ARRAY_LEN(to_utc_cases); i++) {
        struct pl_error err = {0};
        int64_t us = -42;
        int rc = core_tz_to_utc(to_utc_cases[i].tz, &to_utc_cases[i].local, &us, "start", &err);
        cr_assert(eq(int, rc, PL_OK), "case %zu: %s", i, err.detail);
        cr_expect(eq(i64, us, to_utc_cases[i].want_s * US), "case %zu: %s %s", i,
                  to_utc_cases[i].tz, to_utc_cases[i].note);
    }
}

/* The named cases of the brief, as regressions in their own right. */
Test(core_tz, berlin_spring_forward_gap_reads_offset_before)
{
    struct core_civil local = {2025, 3, 30, 2, 30, 0, 0};
    int64_t us = 0;
    cr_assert(eq(int, core_tz_to_utc("Europe/Berlin", &local, &us, "start", NULL), PL_OK));
    cr_expect(eq(i64, us, INT64_C(1743298200) * US)); /* 2025-03-30T01:30:00Z */
    struct core_civil back;
    cr_assert(eq(int, core_tz_from_utc("Europe/Berlin", us, &back, "start", NULL), PL_OK));
    cr_expect(eq(int, back.hour, 3)); /* it is 03:30 CEST */
    cr_expect(eq(int, back.minute, 30));
}

Test(core_tz, berlin_fall_back_overlap_is_first_occurrence)
{
    struct core_civil local = {2025, 10, 26, 2, 30, 0, 0};
    int64_t us = 0;
    cr_assert(eq(int, core_tz_to_utc("Europe/Berlin", &local, &us, "start", NULL), PL_OK));
    cr_expect(eq(i64, us, INT64_C(1761438600) * US)); /* 2025-10-26T00:30:00Z */
}

/* ---- UTC -> local ---------------------------------------------------------------------- */

static const struct {
    const char *tz;
    int64_t us;
    struct core_civil want;
} from_utc_cases[] = {
    {"Europe/Moscow", INT64_C(1795381200000000), {2026, 11, 23, 0, 0, 0, 1}},
    {"Europe/Moscow", INT64_C(1795380000000000), {2026, 11, 22, 23, 40, 0, 7}},
    {"UTC", INT64_C(0), {1970, 1, 1, 0, 0, 0, 4}},
    {"UTC", INT64_C(-1000000), {1969, 12, 31, 23, 59, 59, 3}},
    {"UTC", INT64_C(-500000), {1969, 12, 31, 23, 59, 59, 3}}, /* floored, not rounded to 0 */
    {"UTC", INT64_C(1999999), {1970, 1, 1, 0, 0, 1, 4}},
    /* Both 02:00s and a 02:30 of the Berlin overlap. */
    {"Europe/Berlin", INT64_C(1761436800000000), {2025, 10, 26, 2, 0, 0, 7}},
    {"Europe/Berlin", INT64_C(1761440400000000), {2025, 10, 26, 2, 0, 0, 7}},
    {"Europe/Berlin", INT64_C(1761442200000000), {2025, 10, 26, 2, 30, 0, 7}},
    /* Across the Berlin gap: 01:59:59 is followed by 03:00:00. */
    {"Europe/Berlin", INT64_C(1743296399000000), {2025, 3, 30, 1, 59, 59, 7}},
    {"Europe/Berlin", INT64_C(1743296400000000), {2025, 3, 30, 3, 0, 0, 7}},
    {"Europe/Berlin", INT64_C(951825600000000), {2000, 2, 29, 13, 0, 0, 2}},
    {"America/New_York", INT64_C(1793511000000000), {2026, 11, 1, 1, 30, 0, 7}},
    {"America/New_York", INT64_C(1793514600000000), {2026, 11, 1, 1, 30, 0, 7}},
    {"America/New_York", INT64_C(1798768800000000), {2026, 12, 31, 21, 0, 0, 4}},
    {"Asia/Kolkata", INT64_C(1795404600000000), {2026, 11, 23, 9, 0, 0, 1}},
};

static void expect_civil(const struct core_civil *got, const struct core_civil *want, size_t i)
{
    cr_expect(eq(int, got->year, want->year), "case %zu", i);
    cr_expect(eq(int, got->month, want->month), "case %zu", i);
    cr_expect(eq(int, got->day, want->day), "case %zu", i);
    cr_expect(eq(int, got->hour, want->hour), "case %zu", i);
    cr_expect(eq(int, got->minute, want->minute), "case %zu", i);
    cr_expect(eq(int, got->second, want->second), "case %zu", i);
    cr_expect(eq(int, got->weekday, want->weekday), "case %zu", i);
}

Test(core_tz, from_utc_table)
{
    for (size_t i = 0; i < ARRAY_LEN(from_utc_cases); i++) {
        struct pl_error err = {0};
        struct core_civil got;
        memset(&got, 0x5a, sizeof got);
        int rc = core_tz_from_utc(from_utc_cases[i].tz, from_utc_cases[i].us, &got, "at", &err);
        cr_assert(eq(int, rc, PL_OK), "case %zu: %s", i, err.detail);
        expect_civil(&got, &from_utc_cases[i].want, i);
    }
}

/* ISO weekday of a proleptic Gregorian date by Sakamoto's method: an oracle independent of
 * the day count core_tz uses. */
static int iso_weekday(int y, int m, int d)
{
    static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    if (m < 3)
        y -= 1;
    int dow = (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7; /* 0 = Sunday */
    return dow == 0 ? 7 : dow;
}

static const struct {
    int y, m, d, want;
} weekdays[] = {
    {1970, 1, 1, 4}, {1969, 12, 31, 3}, {2000, 2, 29, 2}, {2000, 3, 1, 3},  {2024, 12, 31, 2},
    {2025, 1, 1, 3}, {2025, 3, 30, 7},  {2026, 11, 23, 1}, {2026, 11, 29, 7}, {1900, 3, 1, 4},
    {2100, 2, 28, 7}, {1601, 1, 1, 1},
};

Test(core_tz, weekday_matches_calendar)
{
    for (size_t i = 0; i < ARRAY_LEN(weekdays); i++) {
        cr_assert(eq(int, iso_weekday(weekdays[i].y, weekdays[i].m, weekdays[i].d),
                     weekdays[i].want),
                  "oracle case %zu", i);
        /* Noon UTC of that date. */
        int64_t days = core_time_days_from_civil(weekdays[i].y, (unsigned)weekdays[i].m,
                                                 (unsigned)weekdays[i].d);
        struct core_civil c;
        cr_assert(eq(int, core_tz_from_utc("UTC", (days * 86400 + 43200) * US, &c, "at", NULL),
                     PL_OK));
        cr_expect(eq(int, c.weekday, weekdays[i].want), "case %zu: %04d-%02d-%02d", i,
                  weekdays[i].y, weekdays[i].m, weekdays[i].d);
        cr_expect(eq(int, c.day, weekdays[i].d), "case %zu", i);
    }
    /* Every day of 2024-2026 at 00:30 local in a zone east of UTC (the UTC date is the day
     * before) and at 23:30 local in one west of it (the UTC date is the day after). */
    int64_t first = core_time_days_from_civil(2024, 1, 1),
            last = core_time_days_from_civil(2027, 1, 1);
    for (int64_t day = first; day < last; day++) {
        int64_t y;
        unsigned m, d;
        core_time_civil_from_days(day, &y, &m, &d);
        static const struct {
            const char *tz;
            int hour;
        } probes[] = {{"Europe/Moscow", 0}, {"America/New_York", 23}};
        for (size_t p = 0; p < ARRAY_LEN(probes); p++) {
            struct core_civil local = {(int)y, (int)m, (int)d, probes[p].hour, 30, 0, 0}, back;
            int64_t us;
            cr_assert(eq(int, core_tz_to_utc(probes[p].tz, &local, &us, "at", NULL), PL_OK));
            cr_assert(eq(int, core_tz_from_utc(probes[p].tz, us, &back, "at", NULL), PL_OK));
            cr_assert(eq(int, back.day, (int)d), "%s %lld-%u-%u", probes[p].tz, (long long)y, m,
                      d);
            cr_assert(eq(int, back.weekday, iso_weekday((int)y, (int)m, (int)d)),
                      "%s %lld-%02u-%02u", probes[p].tz, (long long)y, m, d);
        }
    }
}

/* ---- round trips over a year ----------------------------------------------------------- */

static const struct {
    const char *tz;
    struct core_civil gap_hour;     /* the local hour that does not exist in 2025 */
    int64_t second_occurrence_s;    /* the UTC hour whose local reading happens twice, second */
} zones_2025[] = {
    {"Europe/Moscow", {0, 0, 0, 0, 0, 0, 0}, 0},
    {"UTC", {0, 0, 0, 0, 0, 0, 0}, 0},
    {"Europe/Berlin", {2025, 3, 30, 2, 0, 0, 0}, INT64_C(1761440400)},   /* 2025-10-26T01:00Z */
    {"America/New_York", {2025, 3, 9, 2, 0, 0, 0}, INT64_C(1762063200)}, /* 2025-11-02T06:00Z */
};

static bool same_civil(const struct core_civil *a, const struct core_civil *b)
{
    return a->year == b->year && a->month == b->month && a->day == b->day && a->hour == b->hour &&
           a->minute == b->minute && a->second == b->second;
}

/* from_utc(to_utc(x)) == x for every local hour of 2025, except the gap hour, which comes
 * back an hour later (it is read with the offset from before the gap). */
Test(core_tz, local_round_trip_hourly_over_a_year)
{
    int64_t first = core_time_days_from_civil(2025, 1, 1),
            last = core_time_days_from_civil(2026, 1, 1);
    for (size_t z = 0; z < ARRAY_LEN(zones_2025); z++) {
        int gaps = 0;
        int64_t prev_us = INT64_MIN;
        for (int64_t day = first; day < last; day++) {
            int64_t y;
            unsigned m, d;
            core_time_civil_from_days(day, &y, &m, &d);
            for (int h = 0; h < 24; h++) {
                struct core_civil x = {(int)y, (int)m, (int)d, h, 0, 0, 0}, back;
                int64_t us;
                cr_assert(eq(int, core_tz_to_utc(zones_2025[z].tz, &x, &us, "at", NULL), PL_OK));
                cr_assert(eq(int, core_tz_from_utc(zones_2025[z].tz, us, &back, "at", NULL),
                             PL_OK));
                cr_assert(eq(int, back.weekday, iso_weekday((int)y, (int)m, (int)d)));
                if (same_civil(&back, &x)) {
                    /* Local time moves forward, so its instants do too. */
                    cr_assert(gt(i64, us, prev_us), "%s %lld-%02u-%02u %02d:00",
                              zones_2025[z].tz, (long long)y, m, d, h);
                    prev_us = us;
                    continue;
                }
                gaps++;
                cr_assert(same_civil(&x, &zones_2025[z].gap_hour),
                          "%s %lld-%02u-%02u %02d:00 came back as %02d:%02d", zones_2025[z].tz,
                          (long long)y, m, d, h, back.hour, back.minute);
                cr_expect(eq(int, back.hour, h + 1), "%s gap", zones_2025[z].tz);
                cr_expect(eq(int, back.day, (int)d));
            }
        }
        cr_expect(eq(int, gaps, zones_2025[z].gap_hour.year ? 1 : 0), "%s", zones_2025[z].tz);
    }
}

/* to_utc(from_utc(u)) == u for every UTC hour of 2025, except the second occurrence of the
 * fall-back hour, which reads as the first, an hour earlier. */
Test(core_tz, utc_round_trip_hourly_over_a_year)
{
    int64_t first = core_time_days_from_civil(2025, 1, 1) * 86400,
            last = core_time_days_from_civil(2026, 1, 1) * 86400;
    for (size_t z = 0; z < ARRAY_LEN(zones_2025); z++) {
        int seconds = 0;
        for (int64_t s = first; s < last; s += 3600) {
            struct core_civil local;
            int64_t us;
            cr_assert(eq(int, core_tz_from_utc(zones_2025[z].tz, s * US, &local, "at", NULL),
                         PL_OK));
            cr_assert(eq(int, core_tz_to_utc(zones_2025[z].tz, &local, &us, "at", NULL), PL_OK));
            if (us == s * US)
                continue;
            seconds++;
            cr_assert(eq(i64, s, zones_2025[z].second_occurrence_s), "%s at %lld",
                      zones_2025[z].tz, (long long)s);
            cr_expect(eq(i64, us, (s - 3600) * US), "%s", zones_2025[z].tz);
        }
        cr_expect(eq(int, seconds, zones_2025[z].second_occurrence_s ? 1 : 0), "%s",
                  zones_2025[z].tz);
    }
}

/* Moscow is +03:00 at every hour of the year. */
Test(core_tz, moscow_is_plus_three_all_year)
{
    int64_t first = core_time_days_from_civil(2025, 1, 1) * 86400;
    for (int64_t s = first; s < first + 366 * 86400; s += 3600) {
        struct core_civil m, u;
        cr_assert(eq(int, core_tz_from_utc("Europe/Moscow", s * US, &m, "at", NULL), PL_OK));
        cr_assert(eq(int, core_tz_from_utc("UTC", (s + 3 * 3600) * US, &u, "at", NULL), PL_OK));
        cr_assert(same_civil(&m, &u), "at %lld", (long long)s);
    }
}

/* ---- unknown zones --------------------------------------------------------------------- */

/* Well-formed names (core_tz_check's syntax, which callers apply first) that name no zone. */
static const char *const bad_zones[] = {
    "Mars/Olympus_Mons",
    "Europe/Atlantis",
    "europe/berlin", /* names are case-sensitive */
    "Europe",        /* a directory of the tz database, not a zone */
};

Test(core_tz, unknown_zone_names_the_field)
{
    for (size_t i = 0; i < ARRAY_LEN(bad_zones); i++) {
        struct core_civil local = {2026, 11, 23, 9, 0, 0, 0}, out;
        int64_t us = -42;
        struct pl_error err = {0};
        int rc = core_tz_to_utc(bad_zones[i], &local, &us, "time_zone", &err);
        EXPECT_INVALID(rc, err, "time_zone", "to_utc case %zu: \"%s\"", i, bad_zones[i]);
        cr_expect(eq(i64, us, -42), "case %zu: output untouched", i);
        struct pl_error err2 = {0};
        rc = core_tz_from_utc(bad_zones[i], 0, &out, "working_hours.time_zone", &err2);
        EXPECT_INVALID(rc, err2, "working_hours.time_zone", "from_utc case %zu", i);
        /* A NULL err is allowed. */
        cr_expect(eq(int, core_tz_to_utc(bad_zones[i], &local, &us, "time_zone", NULL), PL_EINVAL));
        cr_expect(eq(int, core_tz_from_utc(bad_zones[i], 0, &out, "time_zone", NULL), PL_EINVAL));
    }
}

/* ---- parsers --------------------------------------------------------------------------- */

static const struct {
    const char *in;
    int y, m, d;
} date_ok[] = {
    {"2026-11-23", 2026, 11, 23}, {"2024-02-29", 2024, 2, 29}, {"2000-02-29", 2000, 2, 29},
    {"0001-01-01", 1, 1, 1},       {"9999-12-31", 9999, 12, 31}, {"2026-04-30", 2026, 4, 30},
    {"2026-12-31", 2026, 12, 31},  {"2026-01-31", 2026, 1, 31},
};

Test(core_tz, parse_date_accepts)
{
    for (size_t i = 0; i < ARRAY_LEN(date_ok); i++) {
        struct core_civil c;
        memset(&c, 0x5a, sizeof c); /* the time fields must come back zeroed */
        struct pl_error err = {0};
        int rc = core_tz_parse_date(date_ok[i].in, &c, "date", &err);
        cr_assert(eq(int, rc, PL_OK), "case %zu: %s: %s", i, date_ok[i].in, err.detail);
        cr_expect(eq(int, c.year, date_ok[i].y), "case %zu", i);
        cr_expect(eq(int, c.month, date_ok[i].m), "case %zu", i);
        cr_expect(eq(int, c.day, date_ok[i].d), "case %zu", i);
        cr_expect(eq(int, c.hour, 0), "case %zu", i);
        cr_expect(eq(int, c.minute, 0), "case %zu", i);
        cr_expect(eq(int, c.second, 0), "case %zu", i);
    }
}

static const char *const date_bad[] = {
    "",
    "2026-02-29",  /* not a leap year */
    "1900-02-29",  /* divisible by 100, not by 400 */
    "2026-02-30",
    "2026-04-31",  /* April has 30 days */
    "2026-13-01",
    "2026-00-10",
    "2026-01-00",
    "2026-01-32",
    "2026-1-01",
    "2026-01-1",
    "26-11-23",
    "2026/11/23",
    "2026-11-23T",
    "2026-11-23 ",
    " 2026-11-23",
    "2026-11-2a",
    "+026-11-23",
    "-026-11-23",
    "2026-+1-23",
    "abcd-ef-gh",
    "20261123",
    "2026-11-23T10:00:00Z",
};

Test(core_tz, parse_date_rejects)
{
    for (size_t i = 0; i < ARRAY_LEN(date_bad); i++) {
        struct core_civil c = {0};
        struct pl_error err = {0};
        int rc = core_tz_parse_date(date_bad[i], &c, "date", &err);
        EXPECT_INVALID(rc, err, "date", "case %zu: \"%s\"", i, date_bad[i]);
        cr_expect(eq(int, core_tz_parse_date(date_bad[i], &c, "date", NULL), PL_EINVAL));
    }
}

static const struct {
    const char *in;
    int want;
} hhmm_ok[] = {
    {"00:00", 0}, {"00:01", 1}, {"09:00", 540}, {"12:30", 750}, {"17:45", 1065},
    {"23:59", 1439}, {"24:00", 1440},
};

Test(core_tz, parse_hhmm_accepts)
{
    for (size_t i = 0; i < ARRAY_LEN(hhmm_ok); i++) {
        int minutes = -1;
        struct pl_error err = {0};
        int rc = core_tz_parse_hhmm(hhmm_ok[i].in, &minutes, "working_hours.start", &err);
        cr_assert(eq(int, rc, PL_OK), "case %zu: %s: %s", i, hhmm_ok[i].in, err.detail);
        cr_expect(eq(int, minutes, hhmm_ok[i].want), "case %zu: %s", i, hhmm_ok[i].in);
    }
}

static const char *const hhmm_bad[] = {
    "",       "9:00",  "09:0",  "09:60", "24:01",  "25:00",    "99:00", "09-00",
    "0900",   "09:00 ", " 09:00", "-1:00", "ab:cd", "09:00:00", "09:",   ":00",
    "0",      "09",    "9",     "+9:00", "09:+5", "24:30",
};

Test(core_tz, parse_hhmm_rejects)
{
    for (size_t i = 0; i < ARRAY_LEN(hhmm_bad); i++) {
        int minutes = -7;
        struct pl_error err = {0};
        int rc = core_tz_parse_hhmm(hhmm_bad[i], &minutes, "working_hours.end", &err);
        EXPECT_INVALID(rc, err, "working_hours.end", "case %zu: \"%s\"", i, hhmm_bad[i]);
        cr_expect(eq(int, minutes, -7), "case %zu: output untouched", i);
        cr_expect(eq(int, core_tz_parse_hhmm(hhmm_bad[i], &minutes, "x", NULL), PL_EINVAL));
    }
}

/* ---- first lookups from many threads at once --------------------------------------------- */

/* libical builds its table of zones at the first lookup in a process, visible before it is
 * full (tz.c).  A worker crashed when its lanes met their first requests together; here fresh
 * processes start threads that all make their first lookups at the same moment: zones of
 * zone.tab, names it lacks (which libical appends to the table as it finds them) and UTC. */
#define RACE_PROCESSES 64
#define RACE_THREADS 8
static pthread_barrier_t race_start;
static const char *const race_zones[RACE_THREADS] = {
    "Europe/Moscow", "America/New_York", "Asia/Kolkata", "US/Pacific",
    "Australia/Lord_Howe", "Etc/GMT+5", "UTC", "Africa/Cairo",
};

struct racer {
    const char *tz;
    long delay_us; /* after the start: the first lookup reads zone.tab for about a millisecond */
};

static void *first_lookup(void *arg)
{
    const struct racer *r = arg;
    const char *tz = r->tz;
    (void)pthread_barrier_wait(&race_start);
    struct timespec delay = {0, r->delay_us * 1000};
    (void)nanosleep(&delay, NULL);
    struct core_civil local = {2026, 11, 23, 10, 0, 0, 0}, back;
    int64_t us = 0;
    struct pl_error err = {0};
    bool ok = core_tz_check(tz, "time_zone", &err) == PL_OK &&
              core_tz_to_utc(tz, &local, &us, "start", &err) == PL_OK &&
              core_tz_from_utc(tz, us, &back, "start", &err) == PL_OK && back.hour == 10;
    return ok ? (void *)tz : NULL;
}

/* One fresh process's race: exits 0 when every thread got its zone right. */
static void race_in_child(void)
{
    pthread_t t[RACE_THREADS];
    struct racer racers[RACE_THREADS];
    if (pthread_barrier_init(&race_start, NULL, RACE_THREADS) != 0)
        _exit(2);
    for (int i = 0; i < RACE_THREADS; i++) {
        racers[i] = (struct racer){race_zones[i], 150L * i};
        if (pthread_create(&t[i], NULL, first_lookup, &racers[i]) != 0)
            _exit(2);
    }
    int failed = 0;
    for (int i = 0; i < RACE_THREADS; i++) {
        void *got = NULL;
        if (pthread_join(t[i], &got) != 0 || got == NULL)
            failed++;
    }
    _exit(failed ? 1 : 0);
}

Test(core_tz, first_lookups_from_many_threads_at_once)
{
    /* This process has looked nothing up: its children start with libical's table unbuilt. */
    for (int p = 0; p < RACE_PROCESSES; p++) {
        pid_t pid = fork();
        cr_assert(ne(int, pid, -1));
        if (pid == 0)
            race_in_child();
        int status = 0;
        cr_assert(eq(int, waitpid(pid, &status, 0), pid));
        int signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        cr_assert(eq(int, signal, 0), "process %d: killed by signal %d", p, signal);
        cr_assert(eq(int, code, 0), "process %d: a lookup went wrong", p);
    }
}
