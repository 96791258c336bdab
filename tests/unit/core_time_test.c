/* core/time: RFC 3339 parsing and formatting, and the civil-date arithmetic under them. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "core/time.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Every accepted form; `want_us` is UTC microseconds (computed independently with Python's
 * datetime), `canon` what core_time_format gives back for it. */
static const struct {
    const char *in;
    int64_t want_us;
    const char *canon;
} parse_ok[] = {
    {"1970-01-01T00:00:00Z", 0, "1970-01-01T00:00:00Z"},
    {"2026-11-23T10:00:00+03:00", INT64_C(1795417200000000), "2026-11-23T07:00:00Z"},
    {"2026-11-23T10:00:00-05:30", INT64_C(1795447800000000), "2026-11-23T15:30:00Z"},
    {"2026-11-23T07:00:00+00:00", INT64_C(1795417200000000), "2026-11-23T07:00:00Z"},
    {"2026-11-23T07:00:00-00:00", INT64_C(1795417200000000), "2026-11-23T07:00:00Z"},
    /* An offset that moves the instant across midnight, month and year ends. */
    {"2027-01-01T01:00:00+03:00", INT64_C(1798754400000000), "2026-12-31T22:00:00Z"},
    {"2026-12-31T22:00:00-05:30", INT64_C(1798774200000000), "2027-01-01T03:30:00Z"},
    /* Lower-case separators are allowed by RFC 3339 section 5.6. */
    {"2026-11-23t07:00:00z", INT64_C(1795417200000000), "2026-11-23T07:00:00Z"},
    /* Fractions: shorter than microseconds are scaled, longer are truncated. */
    {"1970-01-01T00:00:00.5Z", 500000, "1970-01-01T00:00:00.500000Z"},
    {"1970-01-01T00:00:00.000001Z", 1, "1970-01-01T00:00:00.000001Z"},
    {"1970-01-01T00:00:00.123456789Z", 123456, "1970-01-01T00:00:00.123456Z"},
    {"1970-01-01T00:00:00.000Z", 0, "1970-01-01T00:00:00Z"},
    {"1969-12-31T23:59:59.5Z", -500000, "1969-12-31T23:59:59.500000Z"},
    {"1969-12-31T23:59:59Z", -1000000, "1969-12-31T23:59:59Z"},
    /* Feb 29: leap by 4, by 400, and the last second of one. */
    {"2024-02-29T23:59:59Z", INT64_C(1709251199000000), "2024-02-29T23:59:59Z"},
    {"2000-02-29T12:00:00Z", INT64_C(951825600000000), "2000-02-29T12:00:00Z"},
    /* Past 32-bit time_t, and the ends of the four-digit range. */
    {"2038-01-19T03:14:08Z", INT64_C(2147483648000000), "2038-01-19T03:14:08Z"},
    {"9999-12-31T23:59:59Z", INT64_C(253402300799000000), "9999-12-31T23:59:59Z"},
    {"0001-01-01T00:00:00Z", INT64_C(-62135596800000000), "0001-01-01T00:00:00Z"},
    /* A leap second is held at :59. */
    {"2016-12-31T23:59:60Z", INT64_C(1483228799000000), "2016-12-31T23:59:59Z"},
};

Test(core_time, parse_accepts_and_formats_canonically)
{
    for (size_t i = 0; i < sizeof parse_ok / sizeof parse_ok[0]; i++) {
        struct pl_error err = {0};
        int64_t us = -42;
        int rc = core_time_parse(parse_ok[i].in, "starts_at", &us, &err);
        cr_assert(eq(int, rc, PL_OK), "case %zu: %s: %s", i, parse_ok[i].in, err.detail);
        cr_expect(eq(i64, us, parse_ok[i].want_us), "case %zu: %s", i, parse_ok[i].in);
        char text[CORE_TIME_TEXT_MAX];
        core_time_format(us, text);
        cr_expect(eq(str, text, (char *)parse_ok[i].canon), "case %zu: %s", i, parse_ok[i].in);
    }
}

/* Every rejected form fails with PL_EINVAL naming the caller's field. */
static const char *const parse_bad[] = {
    "",
    "2026-11-23T10:00:00",           /* no offset */
    "2026-11-23",                    /* a date alone */
    "2026-11-23T10:00Z",             /* no seconds */
    "2026-11-23T10:00:00+0300",      /* offset without a colon */
    "2026-11-23T10:00:00+03",        /* offset without minutes */
    "2026-11-23T10:00:00+24:00",     /* offset hour out of range */
    "2026-11-23T10:00:00+03:60",     /* offset minute out of range */
    "2026-11-23T10:00:00ZZ",         /* trailing garbage */
    "2026-11-23T10:00:00Z ",         /* trailing space */
    "2026-11-23T10:00:00.Z",         /* a dot without digits */
    "2026-11-23X10:00:00Z",          /* wrong separator */
    "2026-1-23T10:00:00Z",           /* one-digit month */
    "26-11-23T10:00:00Z",            /* two-digit year */
    "2026/11/23T10:00:00Z",          /* wrong date separator */
    "2026-00-10T10:00:00Z",          /* month 0 */
    "2026-13-10T10:00:00Z",          /* month 13 */
    "2026-01-00T10:00:00Z",          /* day 0 */
    "2026-01-32T10:00:00Z",          /* day 32 */
    "2026-04-31T10:00:00Z",          /* April has 30 days */
    "2023-02-29T10:00:00Z",          /* not a leap year */
    "1900-02-29T10:00:00Z",          /* divisible by 100, not by 400 */
    "2100-02-29T10:00:00Z",          /* same */
    "2024-02-30T10:00:00Z",          /* even a leap February stops at 29 */
    "2026-11-23T24:00:00Z",          /* hour 24 */
    "2026-11-23T10:60:00Z",          /* minute 60 */
    "2026-11-23T10:00:61Z",          /* second 61 */
    "2026-11-23T1a:00:00Z",          /* not a digit */
    "-026-11-23T10:00:00Z",          /* sign where the year is */
};

Test(core_time, parse_rejects_with_field)
{
    for (size_t i = 0; i < sizeof parse_bad / sizeof parse_bad[0]; i++) {
        struct pl_error err = {0};
        int64_t us = 12345;
        int rc = core_time_parse(parse_bad[i], "ends_at", &us, &err);
        cr_expect(eq(int, rc, PL_EINVAL), "case %zu: \"%s\"", i, parse_bad[i]);
        cr_expect(eq(int, err.status, PL_EINVAL), "case %zu", i);
        cr_expect(eq(str, err.field, "ends_at"), "case %zu", i);
        cr_expect(eq(str, (char *)err.type, "validation"), "case %zu", i);
        cr_expect(ne(str, err.detail, ""), "case %zu", i);
    }
}

Test(core_time, parse_without_err_still_fails)
{
    int64_t us;
    cr_assert(eq(int, core_time_parse("2026-11-23T10:00:00", "x", &us, NULL), PL_EINVAL));
}

/* format then parse returns the same instant, including negative and fractional ones. */
static const int64_t round_trip[] = {
    0,
    1,
    -1,
    999999,
    -999999,
    INT64_C(1795417200123456),
    INT64_C(-62135596800000000),
    INT64_C(253402300799999999),
    INT64_C(951782400000000), /* 2000-02-29T00:00:00Z */
    INT64_C(951868799999999), /* 2000-02-29T23:59:59.999999Z */
};

Test(core_time, format_parse_round_trip)
{
    for (size_t i = 0; i < sizeof round_trip / sizeof round_trip[0]; i++) {
        char text[CORE_TIME_TEXT_MAX];
        core_time_format(round_trip[i], text);
        int64_t back = 0;
        struct pl_error err = {0};
        cr_assert(eq(int, core_time_parse(text, "t", &back, &err), PL_OK), "case %zu: %s", i,
                  text);
        cr_expect(eq(i64, back, round_trip[i]), "case %zu: %s", i, text);
    }
}

Test(core_time, format_negative_fraction_borrows_a_second)
{
    char text[CORE_TIME_TEXT_MAX];
    core_time_format(-1, text);
    cr_assert(eq(str, text, "1969-12-31T23:59:59.999999Z"));
}

static const struct {
    int64_t y;
    unsigned m, d;
    int64_t days;
} civil[] = {
    {1970, 1, 1, 0},
    {1969, 12, 31, -1},
    {2000, 1, 1, 10957},
    {2000, 3, 1, 11017},
    {2024, 2, 29, 19782},
    {1600, 1, 1, -135140},
    {1, 1, 1, -719162},
    {0, 3, 1, -719468},
};

Test(core_time, days_from_civil_known_values)
{
    for (size_t i = 0; i < sizeof civil / sizeof civil[0]; i++)
        cr_expect(eq(i64, core_time_days_from_civil(civil[i].y, civil[i].m, civil[i].d),
                     civil[i].days),
                  "case %zu: %04lld-%02u-%02u", i, (long long)civil[i].y, civil[i].m,
                  civil[i].d);
}

/* Consecutive days differ by one across every month end of a leap and a common year. */
Test(core_time, days_from_civil_is_continuous)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int64_t y = 2023; y <= 2024; y++) {
        for (unsigned m = 1; m <= 12; m++) {
            unsigned last = mdays[m - 1] + (m == 2 && y == 2024);
            int64_t end = core_time_days_from_civil(y, m, last);
            int64_t next = m == 12 ? core_time_days_from_civil(y + 1, 1, 1)
                                   : core_time_days_from_civil(y, m + 1, 1);
            cr_expect(eq(i64, next - end, 1), "%lld-%02u", (long long)y, m);
        }
    }
}

/* The hand-written digits against the C library's formatting of the same instants. */
Test(core_time, format_matches_gmtime_for_many_instants)
{
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
        int64_t us = (int64_t)(x % UINT64_C(253402300800000000)); /* year 1970 .. 9999 */
        if (i % 2)
            us -= us % CORE_TIME_US_PER_S; /* whole seconds: no fraction written */
        time_t t = (time_t)(us / CORE_TIME_US_PER_S);
        struct tm tm;
        cr_assert(not(eq(ptr, gmtime_r(&t, &tm), NULL)));
        char want[CORE_TIME_TEXT_MAX], got[CORE_TIME_TEXT_MAX];
        size_t n = strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
        if (us % CORE_TIME_US_PER_S)
            n += (size_t)snprintf(want + n, sizeof want - n, ".%06d",
                                  (int)(us % CORE_TIME_US_PER_S));
        snprintf(want + n, sizeof want - n, "Z");
        core_time_format(us, got);
        cr_assert(eq(str, got, want), "us %lld", (long long)us);
    }
}
