/* RFC 3339 parsing and formatting.  Written by hand because it is a few dozen lines of
 * calendar arithmetic that must not depend on the process time zone (timegm is not POSIX). */
#include "core/time.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Howard Hinnant's days_from_civil: exact for every proleptic Gregorian date. */
int64_t core_time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void core_time_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Two decimal digits of v < 100 at out (no NUL), from a table of the hundred pairs. */
static void put2(char *out, unsigned v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
                                "31323334353637383940414243444546474849505152535455565758596061"
                                "62636465666768697071727374757677787980818283848586878889909192"
                                "93949596979899";
    memcpy(out, pairs + 2 * v, 2);
}

void core_time_format(int64_t us, char out[CORE_TIME_TEXT_MAX])
{
    int64_t secs = us / CORE_TIME_US_PER_S, frac = us % CORE_TIME_US_PER_S;
    if (frac < 0) {
        frac += CORE_TIME_US_PER_S;
        secs -= 1;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    core_time_civil_from_days(days, &y, &m, &d);
    if (y < 0)
        y = 0;
    if (y > 9999)
        y = 9999;
    /* Digits by hand, two at a time from a table: listings format several instants per
     * item, and snprintf cost ~4,000 instructions each (measured with callgrind on free/busy);
     * a digit at a time, ~220. */
    unsigned yy = (unsigned)y, hh = (unsigned)(rem / 3600), mi = (unsigned)(rem / 60 % 60),
             ss = (unsigned)(rem % 60);
    put2(out, yy / 100);
    put2(out + 2, yy % 100);
    out[4] = '-';
    put2(out + 5, m);
    out[7] = '-';
    put2(out + 8, d);
    out[10] = 'T';
    put2(out + 11, hh);
    out[13] = ':';
    put2(out + 14, mi);
    out[16] = ':';
    put2(out + 17, ss);
    size_t n = 19;
    if (frac != 0) {
        unsigned f = (unsigned)frac;
        out[n++] = '.';
        put2(out + n, f / 10000);
        put2(out + n + 2, f / 100 % 100);
        put2(out + n + 4, f % 100);
        n += 6;
    }
    out[n++] = 'Z';
    out[n] = '\0';
}

/* Read exactly `n` digits at *p. */
static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int core_time_parse(const char *text, const char *field, int64_t *out_us, struct pl_error *err)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = text;
    int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0;
    int64_t frac_us = 0;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
        goto bad;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &s))
        goto bad;
    if (*p == '.') {
        p++;
        int n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n < 6) {
                frac_us = frac_us * 10 + (*p - '0');
                n++;
            }
            p++;
        }
        if (n == 0)
            goto bad;
        while (n++ < 6)
            frac_us *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
            goto bad;
    } else {
        goto bad;
    }
    if (*p != '\0')
        goto bad;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && is_leap(y)) || h > 23 ||
        mi > 59 || s > 60)
        goto bad;
    if (s == 60)
        s = 59; /* a leap second is held at :59, as POSIX time does */
    int64_t days = core_time_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - sign * (oh * 3600 + om * 60);
    *out_us = secs * CORE_TIME_US_PER_S + frac_us;
    return PL_OK;
bad:
    return pl_error_set(err, PL_EINVAL, field,
                        "must be an RFC 3339 date-time with an offset, e.g. 2026-11-23T10:00:00+03:00");
}
