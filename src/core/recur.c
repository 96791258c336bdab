/* Recurrence lines (RRULE, EXDATE, RDATE) checked, normalised and expanded through libical.
 *
 * libical 3.0.16 parses the rule and iterates it in floating local time; everything it gets
 * wrong or leaves unchecked is handled here, each at the place it matters:
 *   - values: icaltime_from_string and icalrecurrencetype_from_string accept month 13,
 *     February 30, hour 25, "INTERVAL=70000" (wrapped into a short), "COUNT=1x" and
 *     "BYMONTH=5L", so every value is checked lexically and by range first;
 *   - icalproperty_new_from_string keeps only the first value of "EXDATE:a,b", drops a VALUE
 *     parameter that contradicts the value and accepts any TZID, so content lines are split and
 *     their parameters read here, and only the values go to libical;
 *   - limiting rule parts (BYMONTH, BYMONTHDAY, BYDAY... under FREQ=DAILY and finer) are
 *     searched for inside one icalrecur_iterator_next call, step by step up to the year 2582
 *     when nothing matches (15 s for FREQ=HOURLY;BYYEARDAY=366;BYMONTHDAY=1).  They are taken
 *     out of the rule libical sees and checked here, where every step counts against
 *     RECUR_STEPS_MAX; negative BYMONTHDAY, which libical never matches there, works too;
 *   - BYSETPOS is ignored below FREQ=MONTHLY, ignores BYHOUR/BYMINUTE/BYSECOND sets and counts
 *     a day named twice (BYMONTHDAY=28,-2 in a leap February) twice, so those combinations are
 *     refused;
 *   - BYWEEKNO misses and invents occurrences around the turn of the year, so a YEARLY
 *     BYWEEKNO rule is iterated as WEEKLY and its week numbers are checked here;
 *   - WEEKLY with INTERVAL > 1 picks the wrong weeks when WKST is not Monday, and skips
 *     DTSTART's week when DTSTART's weekday is not in BYDAY: libical walks every week, from
 *     Monday, with that weekday added, and the weeks and days of the series are picked here;
 *   - YEARLY with BYMONTHDAY but no BYMONTH only looks at DTSTART's month (RFC 5545 expands to
 *     every month), so BYMONTH=1..12 is added;
 *   - BYHOUR/BYMINUTE/BYSECOND come out in the order written, so they are sorted;
 *   - icalrecur_iterator_new fails (after a search up to the year 20000) when no occurrence
 *     follows DTSTART, which is taken as "none";
 *   - DTSTART that the rule does not produce is not returned, so it is added here, and COUNT is
 *     counted here (DTSTART first); UNTIL is compared here as an instant, not as the floating
 *     field values libical would compare. */
#include "core/recur.h"

#include "arena.h"
#include "core/time.h"
#include "core/tz.h"
#include "core/user.h"

#include <libical/ical.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define US_PER_S CORE_TIME_US_PER_S
#define DAY_S INT64_C(86400)
/* A local reading and its instant are never further apart than this (UTC offsets stay within
 * -12..+14 hours, and a time in a gap is read with an offset in force that day), so a local
 * time more than MARGIN_S past a bound is past it as an instant too. */
#define MARGIN_S (2 * DAY_S)
/* libical steps (calls of icalrecur_iterator_next, about 3 us each) one walk may take. */
#define RECUR_STEPS_MAX 500000
/* EXDATE and RDATE values per series, over all lines. */
#define RECUR_VALUES_MAX 1000
#define FIELD_MAX 32

/* ---- the parsed form of a series' lines ------------------------------------------------ */

/* EXDATE and RDATE values are kept as keys: UTC microseconds (whole seconds) for timed events,
 * days since 1970-01-01 (the local date) for all-day ones. */
struct recur_parsed {
    bool has_rule;
    struct icalrecurrencetype rule; /* as written, except UNTIL (normalised) */
    bool has_until;
    int64_t until_us;  /* timed events: UNTIL as an instant */
    int64_t until_day; /* all-day events: UNTIL as a local date */
    int64_t *ex, *rd;
    size_t n_ex, n_rd, cap_ex, cap_rd;
};

/* What loading one line needs. */
struct loader {
    const char *tz;
    bool all_day;
    bool from_client; /* core_recur_parse: also try the rule in libical */
    struct arena *a;
    struct recur_parsed *p;
    size_t values;
    char field[FIELD_MAX];
};

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t days_of(int year, int month, int day)
{
    return core_time_days_from_civil(year, (unsigned)month, (unsigned)day);
}

/* Seconds since 1970-01-01T00:00 of a floating (wall-clock) time. */
static int64_t local_seconds(const struct icaltimetype *t)
{
    int64_t s = days_of(t->year, t->month, t->day) * DAY_S;
    return t->is_date ? s : s + t->hour * 3600 + t->minute * 60 + t->second;
}

static struct icaltimetype floating_at(int64_t ls, bool is_date)
{
    struct icaltimetype t = icaltime_null_time();
    int64_t days = floor_div(ls, DAY_S), rem = ls - days * DAY_S, y;
    unsigned m, d;
    core_time_civil_from_days(days, &y, &m, &d);
    t.year = (int)y;
    t.month = (int)m;
    t.day = (int)d;
    t.is_date = is_date;
    if (!is_date) {
        t.hour = (int)(rem / 3600);
        t.minute = (int)(rem / 60 % 60);
        t.second = (int)(rem % 60);
    }
    return t;
}

static struct core_civil civil_of(const struct icaltimetype *t)
{
    struct core_civil c = {t->year, t->month, t->day, 0, 0, 0, 0};
    if (!t->is_date) {
        c.hour = t->hour;
        c.minute = t->minute;
        c.second = t->second;
    }
    return c;
}

/* The instant of the floating time `t` read in `tz` (a date: its local midnight). */
static int64_t utc_of(const char *tz, const struct icaltimetype *t)
{
    struct core_civil c = civil_of(t);
    int64_t us = 0;
    /* The zone was checked when the series was loaded, so this cannot fail. */
    if (core_tz_to_utc(tz, &c, &us, NULL, NULL) != PL_OK)
        us = local_seconds(t) * US_PER_S;
    return us;
}

/* The weekday of a day count in libical's numbering: 1 = Sunday .. 7 = Saturday. */
static int ical_weekday_of_days(int64_t days)
{
    return (int)(((days % 7) + 7 + 4) % 7) + 1; /* 1970-01-01 was a Thursday */
}

/* Whether the ICAL_RECURRENCE_ARRAY_MAX-terminated (or full) list holds values. */
static bool has_by(const short *list)
{
    return list[0] != ICAL_RECURRENCE_ARRAY_MAX;
}

static size_t by_len(const short *list, size_t size)
{
    size_t n = 0;
    while (n < size && list[n] != ICAL_RECURRENCE_ARRAY_MAX)
        n++;
    return n;
}

#define BY_LEN(list) by_len((list), ARRAY_LEN(list))

/* ---- values ---------------------------------------------------------------------------- */

/* Parse "YYYYMMDD", "YYYYMMDDTHHMMSS" or "YYYYMMDDTHHMMSSZ" (`len` bytes at `v`), refusing
 * what icaltime_from_string lets through ("2026-12-01", "20261301", "T246000"). */
static int parse_time_text(const char *v, size_t len, struct icaltimetype *out)
{
    char buf[17];
    if (len != 8 && len != 15 && len != 16)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (i == 8 || i == 15) {
            char want = i == 8 ? 'T' : 'Z';
            if (c != want && c != want + ('a' - 'A'))
                return -1;
            buf[i] = want;
        } else if (c >= '0' && c <= '9') {
            buf[i] = c;
        } else {
            return -1;
        }
    }
    buf[len] = '\0';
    icalerror_clear_errno();
    struct icaltimetype t = icaltime_from_string(buf);
    bool failed = icalerrno != ICAL_NO_ERROR || icaltime_is_null_time(t);
    icalerror_clear_errno();
    if (failed || t.year < 1 || t.month < 1 || t.month > 12 || t.day < 1 ||
        t.day > icaltime_days_in_month(t.month, t.year) || t.hour > 23 || t.minute > 59 ||
        t.second > 59)
        return -1;
    *out = t;
    return 0;
}

/* "YYYYMMDDTHHMMSSZ" of `us` (or "YYYYMMDD" of day `days`) into `out` (>= 17 bytes). */
static void format_utc(int64_t us, char *out, size_t len)
{
    int64_t s = floor_div(us, US_PER_S), days = floor_div(s, DAY_S), rem = s - days * DAY_S, y;
    unsigned m, d;
    core_time_civil_from_days(days, &y, &m, &d);
    snprintf(out, len, "%04d%02u%02uT%02d%02d%02dZ", (int)y, m, d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60));
}

static void format_date(int64_t days, char *out, size_t len)
{
    int64_t y;
    unsigned m, d;
    core_time_civil_from_days(days, &y, &m, &d);
    snprintf(out, len, "%04d%02u%02u", (int)y, m, d);
}

/* The key of a parsed EXDATE/RDATE/UNTIL value: see struct recur_parsed.  A floating time is
 * read in `tzid` when given, else in the event's zone. */
static int64_t key_of(const struct loader *ld, const struct icaltimetype *t, const char *tzid)
{
    if (ld->all_day)
        return days_of(t->year, t->month, t->day);
    if (icaltime_is_utc(*t))
        return local_seconds(t) * US_PER_S;
    return utc_of(tzid ? tzid : ld->tz, t);
}

static int64_t *push_key(struct arena *a, int64_t *v, size_t *n, size_t *cap, int64_t key)
{
    v = arena_grow(a, v, *n, cap, sizeof *v);
    v[(*n)++] = key;
    return v;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static size_t sort_unique(int64_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_i64);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[k - 1])
            v[k++] = v[i];
    return k;
}

static bool contains(const int64_t *v, size_t n, int64_t key)
{
    return n > 0 && bsearch(&key, v, n, sizeof *v, cmp_i64) != NULL;
}

/* ---- RRULE ----------------------------------------------------------------------------- */

/* Rule parts RFC 5545 defines, minus RSCALE and SKIP (RFC 7529), which need ICU. */
static const char *const rule_parts[] = {
    "FREQ",       "UNTIL",     "COUNT",    "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR",
    "BYDAY",      "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST",
};

/* Indexes into rule_parts. */
enum rule_part { P_FREQ, P_UNTIL, P_COUNT, P_INTERVAL, P_BYDAY = 7, P_WKST = 13 };

/* Whether `s` (`n` bytes) is 1..max_digits decimal digits. */
static bool all_digits(const char *s, size_t n, size_t max_digits)
{
    if (n == 0 || n > max_digits)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* The lexical checks libical skips, and the parts that were given (bit per rule_parts). */
static int rule_lex(const struct loader *ld, const char *v, unsigned *seen, struct pl_error *err)
{
    *seen = 0;
    while (*v) {
        size_t len = strcspn(v, ";");
        const char *eq = memchr(v, '=', len);
        if (len == 0) { /* "FREQ=DAILY;" is tolerated, as libical does */
            v++;
            continue;
        }
        if (eq == NULL)
            return pl_error_set(err, PL_EINVAL, ld->field, "RRULE part \"%.*s\" has no value",
                                (int)(len > 32 ? 32 : len), v);
        size_t name_len = (size_t)(eq - v), vlen = len - name_len - 1;
        const char *val = eq + 1;
        size_t k = 0;
        while (k < ARRAY_LEN(rule_parts) &&
               !(strlen(rule_parts[k]) == name_len && strncasecmp(rule_parts[k], v, name_len) == 0))
            k++;
        if (k == ARRAY_LEN(rule_parts))
            return pl_error_set(err, PL_EINVAL, ld->field, "unsupported RRULE part \"%.*s\"",
                                (int)(name_len > 32 ? 32 : name_len), v);
        if (*seen & (1u << k))
            return pl_error_set(err, PL_EINVAL, ld->field, "RRULE part %s given twice",
                                rule_parts[k]);
        *seen |= 1u << k;
        struct icaltimetype t;
        if (k == P_COUNT && (!all_digits(val, vlen, 9) || strtol(val, NULL, 10) < 1))
            return pl_error_set(err, PL_EINVAL, ld->field, "COUNT must be 1 to 999999999");
        if (k == P_INTERVAL && (!all_digits(val, vlen, 5) || strtol(val, NULL, 10) < 1 ||
                                strtol(val, NULL, 10) > 32767))
            return pl_error_set(err, PL_EINVAL, ld->field, "INTERVAL must be 1 to 32767");
        if (k == P_UNTIL && parse_time_text(val, vlen, &t) < 0)
            return pl_error_set(err, PL_EINVAL, ld->field,
                                "UNTIL must be a date (20261231) or a date-time "
                                "(20261231T235959Z)");
        if (k > P_INTERVAL && k != P_WKST) {
            /* Number lists; BYDAY also has weekday letters.  No "L" leap months (RFC 7529). */
            const char *ok = k == P_BYDAY ? "0123456789+-,AEFHMORSTUWaefhmorstuw"
                                          : "0123456789+-,";
            if (vlen == 0 || strspn(val, ok) < vlen)
                return pl_error_set(err, PL_EINVAL, ld->field, "bad %s value", rule_parts[k]);
        }
        v += len;
        if (*v == ';')
            v++;
    }
    return PL_OK;
}

static bool has_ordinal_day(const struct icalrecurrencetype *r)
{
    for (size_t i = 0; i < BY_LEN(r->by_day); i++)
        if (icalrecurrencetype_day_position(r->by_day[i]) != 0)
            return true;
    return false;
}

static bool mixed_signs(const short *list, size_t size)
{
    bool pos = false, neg = false;
    for (size_t i = 0; i < size && list[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
        pos |= list[i] > 0;
        neg |= list[i] < 0;
    }
    return pos && neg;
}

/* Rule parts checked here rather than by libical (see lib_rule). */
enum {
    F_MONTH = 1 << 0,
    F_MONTHDAY = 1 << 1,
    F_YEARDAY = 1 << 2,
    F_WEEKDAY = 1 << 3,
    F_HOUR = 1 << 4,
    F_MINUTE = 1 << 5,
    F_SECOND = 1 << 6,
    F_WEEKNO = 1 << 7,
    F_WEEKPHASE = 1 << 8,
};

/* Sort a BY list of `size` slots and drop repeated values. */
static void sort_by_list(short *list, size_t size)
{
    size_t n = by_len(list, size), k = 0;
    for (size_t i = 1; i < n; i++) {
        short x = list[i];
        size_t j = i;
        for (; j > 0 && list[j - 1] > x; j--)
            list[j] = list[j - 1];
        list[j] = x;
    }
    for (size_t i = 0; i < n; i++)
        if (k == 0 || list[i] != list[k - 1])
            list[k++] = list[i];
    if (k < size)
        list[k] = ICAL_RECURRENCE_ARRAY_MAX;
}

/* The rule libical should iterate for `r` from a DTSTART on local weekday `dtstart_wday`
 * (1 = Sunday), and which parts (F_*) the caller must check itself.  See the file comment. */
static struct icalrecurrencetype lib_rule(const struct icalrecurrencetype *r, int dtstart_wday,
                                          unsigned *filters)
{
    struct icalrecurrencetype lib = *r;
    unsigned f = 0;
    lib.count = 0;
    lib.until = icaltime_null_time();
    if (r->freq <= ICAL_DAILY_RECURRENCE) {
        /* Limits only: libical would search for them inside one uncounted call. */
        f |= (has_by(r->by_month) ? F_MONTH : 0) | (has_by(r->by_month_day) ? F_MONTHDAY : 0) |
             (has_by(r->by_year_day) ? F_YEARDAY : 0) | (has_by(r->by_day) ? F_WEEKDAY : 0);
        lib.by_month[0] = lib.by_month_day[0] = lib.by_year_day[0] = lib.by_day[0] =
            ICAL_RECURRENCE_ARRAY_MAX;
        if (r->freq <= ICAL_HOURLY_RECURRENCE && has_by(r->by_hour)) {
            f |= F_HOUR;
            lib.by_hour[0] = ICAL_RECURRENCE_ARRAY_MAX;
        }
        if (r->freq <= ICAL_MINUTELY_RECURRENCE && has_by(r->by_minute)) {
            f |= F_MINUTE;
            lib.by_minute[0] = ICAL_RECURRENCE_ARRAY_MAX;
        }
        if (r->freq == ICAL_SECONDLY_RECURRENCE && has_by(r->by_second)) {
            f |= F_SECOND;
            lib.by_second[0] = ICAL_RECURRENCE_ARRAY_MAX;
        }
    }
    if (r->freq == ICAL_YEARLY_RECURRENCE && has_by(r->by_week_no)) {
        /* Every week, then the week numbers (and INTERVAL, in calendar years) here. */
        f |= F_WEEKNO;
        lib.freq = ICAL_WEEKLY_RECURRENCE;
        lib.interval = 1;
        lib.by_week_no[0] = ICAL_RECURRENCE_ARRAY_MAX;
    }
    if (lib.freq == ICAL_WEEKLY_RECURRENCE) {
        /* libical gets weeks wrong when WKST is not Monday and INTERVAL > 1, so it walks every
         * week from Monday and the weeks of the series are picked here.  BYDAY holds each
         * weekday once, Monday first (libical emits them in list order), DTSTART's included:
         * without it libical skips the first week. */
        if (r->freq == ICAL_WEEKLY_RECURRENCE && r->interval > 1)
            f |= F_WEEKPHASE;
        lib.interval = 1;
        lib.week_start = ICAL_MONDAY_WEEKDAY;
        if (has_by(lib.by_day)) {
            bool want[8] = {false};
            for (size_t i = 0; i < BY_LEN(lib.by_day); i++)
                want[icalrecurrencetype_day_day_of_week(lib.by_day[i])] = true;
            if (!want[dtstart_wday]) {
                want[dtstart_wday] = true;
                f |= F_WEEKDAY;
            }
            size_t n = 0;
            for (int i = 0; i < 7; i++) {
                int wday = (ICAL_MONDAY_WEEKDAY - 1 + i) % 7 + 1;
                if (want[wday])
                    lib.by_day[n++] = (short)wday;
            }
            lib.by_day[n] = ICAL_RECURRENCE_ARRAY_MAX;
        }
    }
    if (r->freq == ICAL_YEARLY_RECURRENCE && has_by(r->by_month_day) && !has_by(r->by_month) &&
        !has_by(r->by_week_no) && !has_by(r->by_year_day) && !has_ordinal_day(r)) {
        for (short m = 1; m <= 12; m++)
            lib.by_month[m - 1] = m;
        lib.by_month[12] = ICAL_RECURRENCE_ARRAY_MAX;
    }
    sort_by_list(lib.by_hour, ARRAY_LEN(lib.by_hour));
    sort_by_list(lib.by_minute, ARRAY_LEN(lib.by_minute));
    sort_by_list(lib.by_second, ARRAY_LEN(lib.by_second));
    *filters = f;
    return lib;
}

/* Whether a month of `len` days can have a day the rule's BYMONTHDAY and numbered BYDAY
 * (2SU: the 8th to the 14th; -1SU: the last seven days) both pick.  Each day of a month
 * falls on every weekday in some year, so only the day numbers matter. */
static bool month_can_match(const struct icalrecurrencetype *r, int len, bool numbered_days)
{
    for (size_t j = 0; j < BY_LEN(r->by_month_day); j++) {
        int d = r->by_month_day[j], day = d > 0 ? d : len + 1 + d;
        if (day < 1 || day > len)
            continue;
        if (!numbered_days)
            return true;
        for (size_t k = 0; k < BY_LEN(r->by_day); k++) {
            int n = icalrecurrencetype_day_position(r->by_day[k]);
            int first = n > 0 ? (n - 1) * 7 + 1 : len + 1 + n * 7;
            if (day >= first && day < first + 7)
                return true;
        }
    }
    return false;
}

/* Whether BYMONTHDAY excludes what BYMONTH (BYMONTH=2;BYMONTHDAY=30) or a numbered BYDAY
 * within the month (BYDAY=2SU;BYMONTHDAY=-1) allows, which would have libical search up to
 * the year 20000 on every expansion (0.12 s; found by test_fuzz_ical.py).  A BYDAY numbers
 * days within the month in a MONTHLY rule and in a YEARLY one with BYMONTH (RFC 5545
 * 3.3.10), and only when BYWEEKNO and BYYEARDAY do not change the set. */
static bool never_matches(const struct icalrecurrencetype *r)
{
    static const int longest[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!has_by(r->by_month_day))
        return false;
    bool numbered = has_by(r->by_day) && !has_by(r->by_week_no) && !has_by(r->by_year_day) &&
                    (r->freq == ICAL_MONTHLY_RECURRENCE ||
                     (r->freq == ICAL_YEARLY_RECURRENCE && has_by(r->by_month)));
    for (size_t k = 0; numbered && k < BY_LEN(r->by_day); k++)
        numbered = icalrecurrencetype_day_position(r->by_day[k]) != 0;
    if (!numbered && !has_by(r->by_month))
        return false;
    for (int m = 1; m <= 12; m++) {
        bool in = !has_by(r->by_month);
        for (size_t i = 0; i < BY_LEN(r->by_month) && !in; i++)
            in = r->by_month[i] == m;
        for (int len = m == 2 ? 28 : longest[m - 1]; in && len <= longest[m - 1]; len++)
            if (month_can_match(r, len, numbered))
                return false;
    }
    return true;
}

/* The most days one period (a month, a year) of a MONTHLY or YEARLY rule can pick, from its
 * limiting parts (BYSETPOS counts days here: it takes at most one BYHOUR, BYMINUTE and
 * BYSECOND value, rule_check).  A BYSETPOS past it picks nothing, ever, and libical searches
 * up to the year 20000 before it says so: FREQ=MONTHLY;BYSETPOS=10;BYDAY=MO took 3.7 s of a
 * request, and as long in each VEVENT of an import (found by test_fuzz_ical.py). */
static int period_days_max(const struct icalrecurrencetype *r)
{
    bool monthly = r->freq == ICAL_MONTHLY_RECURRENCE;
    int months = monthly ? 1 : has_by(r->by_month) ? (int)BY_LEN(r->by_month) : 12;
    int max = monthly ? 31 : 366;
    if (has_by(r->by_month_day) && (int)BY_LEN(r->by_month_day) * months < max)
        max = (int)BY_LEN(r->by_month_day) * months;
    if (!monthly && has_by(r->by_year_day) && (int)BY_LEN(r->by_year_day) < max)
        max = (int)BY_LEN(r->by_year_day);
    if (has_by(r->by_day)) {
        /* A weekday comes 5 times a month at most, 53 a year; a numbered one (2MO) once in
         * its month, or its year when YEARLY has no BYMONTH. */
        bool in_year = !monthly && !has_by(r->by_month);
        int days = 0;
        for (size_t i = 0; i < BY_LEN(r->by_day); i++)
            days += icalrecurrencetype_day_position(r->by_day[i]) != 0 ? (in_year ? 1 : months)
                                                                       : (in_year ? 53 : 5 * months);
        if (days < max)
            max = days;
    }
    return max;
}

static int set_pos_max(const struct icalrecurrencetype *r)
{
    int most = 0;
    for (size_t i = 0; i < BY_LEN(r->by_set_pos); i++)
        if (abs(r->by_set_pos[i]) > most)
            most = abs(r->by_set_pos[i]);
    return most;
}

/* RFC 5545's restrictions on combining rule parts (section 3.3.10), those of this server, and
 * whether libical can iterate the rule at all. */
static int rule_check(const struct loader *ld, const struct icalrecurrencetype *r,
                      struct pl_error *err)
{
    const char *why = NULL;
    int freq = r->freq;
    bool sub_monthly = freq != ICAL_MONTHLY_RECURRENCE && freq != ICAL_YEARLY_RECURRENCE;
    if (has_ordinal_day(r) && (sub_monthly || has_by(r->by_week_no)))
        why = "BYDAY with a number (2MO, -1FR) needs FREQ=MONTHLY or YEARLY without BYWEEKNO";
    else if (has_by(r->by_month_day) && freq == ICAL_WEEKLY_RECURRENCE)
        why = "BYMONTHDAY does not go with FREQ=WEEKLY";
    else if (has_by(r->by_year_day) && freq >= ICAL_DAILY_RECURRENCE &&
             freq <= ICAL_MONTHLY_RECURRENCE)
        why = "BYYEARDAY does not go with FREQ=DAILY, WEEKLY or MONTHLY";
    else if (has_by(r->by_week_no) && freq != ICAL_YEARLY_RECURRENCE)
        why = "BYWEEKNO needs FREQ=YEARLY";
    else if (has_by(r->by_week_no) && (has_by(r->by_month_day) || has_by(r->by_year_day)))
        why = "BYWEEKNO does not go with BYMONTHDAY or BYYEARDAY";
    else if (has_by(r->by_set_pos) && sub_monthly)
        why = "BYSETPOS needs FREQ=MONTHLY or YEARLY";
    else if (has_by(r->by_set_pos) && has_by(r->by_week_no))
        why = "BYSETPOS does not go with BYWEEKNO";
    else if (has_by(r->by_set_pos) && (mixed_signs(r->by_month_day, ARRAY_LEN(r->by_month_day)) ||
                                       mixed_signs(r->by_year_day, ARRAY_LEN(r->by_year_day))))
        /* libical counts a day named twice (28 and -2 in a leap February) twice. */
        why = "BYSETPOS with both positive and negative BYMONTHDAY or BYYEARDAY values is not "
              "supported";
    else if (freq == ICAL_YEARLY_RECURRENCE && has_by(r->by_month_day) && has_ordinal_day(r) &&
             !has_by(r->by_month))
        why = "FREQ=YEARLY with BYMONTHDAY and a numbered BYDAY needs BYMONTH";
    else if (has_by(r->by_set_pos) && !has_by(r->by_day) && !has_by(r->by_month_day) &&
             !has_by(r->by_year_day) && !has_by(r->by_month) && !has_by(r->by_hour) &&
             !has_by(r->by_minute) && !has_by(r->by_second))
        why = "BYSETPOS needs another BY rule part";
    else if (has_by(r->by_set_pos) &&
             (BY_LEN(r->by_hour) > 1 || BY_LEN(r->by_minute) > 1 || BY_LEN(r->by_second) > 1))
        why = "BYSETPOS with several BYHOUR, BYMINUTE or BYSECOND values is not supported";
    else if (ld->all_day && freq < ICAL_DAILY_RECURRENCE)
        why = "an all-day event recurs DAILY at most";
    else if (ld->all_day && (has_by(r->by_hour) || has_by(r->by_minute) || has_by(r->by_second)))
        why = "BYHOUR, BYMINUTE and BYSECOND do not go with an all-day event";
    if (why == NULL && never_matches(r))
        why = "no month has a day that BYMONTHDAY and BYMONTH or BYDAY all allow";
    if (why)
        return pl_error_set(err, PL_EINVAL, ld->field, "%s", why);
    if (has_by(r->by_set_pos) && set_pos_max(r) > period_days_max(r))
        return pl_error_set(err, PL_EINVAL, ld->field,
                            "BYSETPOS=%d asks for more days than a %s of this rule has (%d)",
                            set_pos_max(r), freq == ICAL_MONTHLY_RECURRENCE ? "month" : "year",
                            period_days_max(r));
    if (!ld->from_client)
        return PL_OK; /* checked when it was stored */

    /* libical refuses some combinations only when asked to iterate them, and also fails to
     * start a rule that never occurs after DTSTART, which depends on DTSTART: the rule passes
     * when it starts from any of a few sample days (a Monday, a leap day, a Sunday). */
    static const int samples[][3] = {{2026, 1, 5}, {2028, 2, 29}, {2027, 8, 1}};
    bool ok = false;
    for (size_t i = 0; i < ARRAY_LEN(samples) && !ok; i++) {
        int64_t day = days_of(samples[i][0], samples[i][1], samples[i][2]);
        unsigned filters;
        struct icalrecurrencetype lib = lib_rule(r, ical_weekday_of_days(day), &filters);
        icalerror_clear_errno();
        icalrecur_iterator *it =
            icalrecur_iterator_new(lib, floating_at(day * DAY_S + 9 * 3600, ld->all_day));
        ok = it != NULL && icalerrno == ICAL_NO_ERROR;
        if (it)
            icalrecur_iterator_free(it);
        icalerror_clear_errno();
    }
    if (!ok)
        return pl_error_set(err, PL_EINVAL, ld->field,
                            "this combination of RRULE parts is not supported");
    return PL_OK;
}

static int load_rrule(struct loader *ld, const char *value, struct pl_error *err)
{
    struct recur_parsed *p = ld->p;
    unsigned seen;
    int rc;
    if (p->has_rule)
        return pl_error_set(err, PL_EINVAL, ld->field, "only one RRULE is allowed");
    if ((rc = rule_lex(ld, value, &seen, err)) < 0)
        return rc;
    if (!(seen & (1u << P_FREQ)))
        return pl_error_set(err, PL_EINVAL, ld->field, "RRULE needs FREQ");
    if ((seen & (1u << P_COUNT)) && (seen & (1u << P_UNTIL)))
        return pl_error_set(err, PL_EINVAL, ld->field, "RRULE takes COUNT or UNTIL, not both");
    icalerror_clear_errno();
    struct icalrecurrencetype r = icalrecurrencetype_from_string(value);
    bool failed = r.freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR || r.rscale;
    icalerror_clear_errno();
    if (failed)
        return pl_error_set(err, PL_EINVAL, ld->field, "not a valid RRULE");
    if ((rc = rule_check(ld, &r, err)) < 0)
        return rc;

    if (!icaltime_is_null_time(r.until)) {
        /* UNTIL should have DTSTART's value type; both kinds are taken and normalised. */
        struct icaltimetype u = r.until;
        p->has_until = true;
        if (ld->all_day) {
            if (icaltime_is_utc(u)) { /* the local date of that instant */
                struct core_civil c;
                if ((rc = core_tz_from_utc(ld->tz, local_seconds(&u) * US_PER_S, &c, "time_zone",
                                           err)) < 0)
                    return rc;
                p->until_day = days_of(c.year, c.month, c.day);
            } else {
                p->until_day = days_of(u.year, u.month, u.day);
            }
            r.until = floating_at(p->until_day * DAY_S, true);
        } else {
            if (u.is_date) { /* through the end of that local day */
                struct icaltimetype next = floating_at(local_seconds(&u) + DAY_S, true);
                p->until_us = utc_of(ld->tz, &next) - US_PER_S;
            } else {
                p->until_us = key_of(ld, &u, NULL);
            }
            r.until = icaltime_from_timet_with_zone((time_t)floor_div(p->until_us, US_PER_S), 0,
                                                    core_tz_utc());
        }
    }
    p->rule = r;
    p->has_rule = true;
    return PL_OK;
}

/* ---- content lines --------------------------------------------------------------------- */

/* One EXDATE or RDATE line: "NAME *(;VALUE=..|;TZID=..):v1,v2,...".  `params` runs from the
 * first ';' (or ':') after the name. */
static int load_dates(struct loader *ld, bool is_ex, const char *params, struct pl_error *err)
{
    const char *name = is_ex ? "EXDATE" : "RDATE";
    char tzid[CORE_TZ_NAME_MAX + 1] = "";
    int value_type = 0; /* 0 none, 1 DATE, 2 DATE-TIME */
    const char *s = params;
    int rc;
    while (*s == ';') {
        s++;
        size_t nlen = strcspn(s, "=;:");
        if (s[nlen] != '=')
            return pl_error_set(err, PL_EINVAL, ld->field, "%s parameter without a value", name);
        const char *v = s + nlen + 1, *end;
        size_t vlen;
        if (*v == '"') {
            end = strchr(v + 1, '"');
            if (end == NULL)
                return pl_error_set(err, PL_EINVAL, ld->field, "unterminated quote");
            v++;
            vlen = (size_t)(end - v);
            end++;
        } else {
            vlen = strcspn(v, ";:");
            end = v + vlen;
        }
        bool is_tzid = nlen == 4 && strncasecmp(s, "TZID", 4) == 0,
             is_value = nlen == 5 && strncasecmp(s, "VALUE", 5) == 0;
        if ((is_tzid && tzid[0]) || (is_value && value_type))
            return pl_error_set(err, PL_EINVAL, ld->field, "%s parameter given twice", name);
        if (is_tzid) {
            if (vlen == 0 || vlen > CORE_TZ_NAME_MAX)
                return pl_error_set(err, PL_EINVAL, ld->field, "bad TZID");
            memcpy(tzid, v, vlen);
            tzid[vlen] = '\0';
            if ((rc = core_tz_check(tzid, ld->field, err)) < 0)
                return rc;
        } else if (is_value) {
            if (vlen == 4 && strncasecmp(v, "DATE", 4) == 0)
                value_type = 1;
            else if (vlen == 9 && strncasecmp(v, "DATE-TIME", 9) == 0)
                value_type = 2;
            else
                return pl_error_set(err, PL_EINVAL, ld->field,
                                    "%s takes VALUE=DATE or VALUE=DATE-TIME (periods are not "
                                    "supported)",
                                    name);
        } else {
            return pl_error_set(err, PL_EINVAL, ld->field, "unsupported %s parameter \"%.*s\"",
                                name, (int)(nlen > 32 ? 32 : nlen), s);
        }
        s = end;
    }
    if (*s != ':')
        return pl_error_set(err, PL_EINVAL, ld->field, "malformed %s line", name);
    s++;
    do {
        size_t len = strcspn(s, ",");
        struct icaltimetype t;
        if (parse_time_text(s, len, &t) < 0)
            return pl_error_set(err, PL_EINVAL, ld->field,
                                "%s values are dates (20261224) or date-times (20261201T080000 "
                                "or 20261201T070000Z)",
                                name);
        if ((value_type == 1 && !t.is_date) || (value_type == 2 && t.is_date))
            return pl_error_set(err, PL_EINVAL, ld->field, "%s value does not match its VALUE",
                                name);
        if (ld->all_day && !t.is_date)
            return pl_error_set(err, PL_EINVAL, ld->field,
                                "an all-day event takes %s;VALUE=DATE values", name);
        if (!ld->all_day && t.is_date)
            return pl_error_set(err, PL_EINVAL, ld->field,
                                "a timed event takes %s date-times, not dates", name);
        if (tzid[0] && (t.is_date || icaltime_is_utc(t)))
            return pl_error_set(err, PL_EINVAL, ld->field,
                                "TZID does not go with a date or a UTC time");
        if (++ld->values > RECUR_VALUES_MAX)
            return pl_error_set(err, PL_EINVAL, "recurrence",
                                "at most %d EXDATE and RDATE values", RECUR_VALUES_MAX);
        int64_t key = key_of(ld, &t, tzid[0] ? tzid : NULL);
        struct recur_parsed *p = ld->p;
        if (is_ex)
            p->ex = push_key(ld->a, p->ex, &p->n_ex, &p->cap_ex, key);
        else
            p->rd = push_key(ld->a, p->rd, &p->n_rd, &p->cap_rd, key);
        s += len;
    } while (*s++ == ',');
    return PL_OK;
}

static int load_line(struct loader *ld, const char *line, struct pl_error *err)
{
    size_t len = strlen(line);
    if (len == 0)
        return pl_error_set(err, PL_EINVAL, ld->field, "must not be empty");
    if (len > CORE_RECUR_LINE_MAX)
        return pl_error_set(err, PL_EINVAL, ld->field, "at most %d bytes", CORE_RECUR_LINE_MAX);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
            return pl_error_set(err, PL_EINVAL, ld->field,
                                "must be printable ASCII on one line");
    size_t nlen = strcspn(line, ";:");
    if (nlen == 5 && strncasecmp(line, "RRULE", 5) == 0) {
        if (line[5] != ':')
            return pl_error_set(err, PL_EINVAL, ld->field, "RRULE takes no parameters");
        return load_rrule(ld, line + 6, err);
    }
    if (nlen == 6 && strncasecmp(line, "EXDATE", 6) == 0)
        return load_dates(ld, true, line + 6, err);
    if (nlen == 5 && strncasecmp(line, "RDATE", 5) == 0)
        return load_dates(ld, false, line + 5, err);
    return pl_error_set(err, PL_EINVAL, ld->field,
                        "\"%.*s\" is not RRULE, EXDATE or RDATE", (int)(nlen > 32 ? 32 : nlen),
                        line);
}

/* Parse `n` lines into *p (keys and arrays from `a`), sorted and without duplicate keys. */
static int load(const char *const *lines, size_t n, const char *tz, bool all_day,
                bool from_client, struct arena *a, struct recur_parsed *p, struct pl_error *err)
{
    struct loader ld = {.tz = tz, .all_day = all_day, .from_client = from_client, .a = a, .p = p};
    int rc;
    memset(p, 0, sizeof *p);
    p->until_us = p->until_day = INT64_MAX;
    if ((rc = (from_client ? core_tz_check : core_tz_known)(tz, "time_zone", err)) < 0)
        return rc;
    if (n > CORE_RECUR_LINES_MAX)
        return pl_error_set(err, PL_EINVAL, "recurrence", "at most %d lines",
                            CORE_RECUR_LINES_MAX);
    for (size_t i = 0; i < n; i++) {
        snprintf(ld.field, sizeof ld.field, "recurrence[%zu]", i);
        if (lines[i] == NULL)
            return pl_error_set(err, PL_EINVAL, ld.field, "must be a string");
        if ((rc = load_line(&ld, lines[i], err)) < 0)
            return rc;
    }
    p->n_ex = sort_unique(p->ex, p->n_ex);
    p->n_rd = sort_unique(p->rd, p->n_rd);
    return PL_OK;
}

/* Split the '\n'-separated normalised lines of `s` and load them. */
static int load_series(const struct recur_series *s, struct arena *a, struct recur_parsed *p,
                       struct pl_error *err)
{
    const char **lines = NULL;
    size_t n = 0, cap = 0;
    for (const char *l = s->lines; l && *l;) {
        size_t len = strcspn(l, "\n");
        if (n == CORE_RECUR_LINES_MAX + 1)
            break; /* load() refuses it */
        lines = arena_grow(a, lines, n, &cap, sizeof *lines);
        lines[n++] = arena_strndup(a, l, len);
        l += len;
        if (*l == '\n')
            l++;
    }
    return load(lines, n, s->time_zone, s->all_day, false, a, p, err);
}

int core_recur_parse(const char *const *lines, size_t n, const char *time_zone, bool all_day,
                     struct arena *a, char **normalized, struct pl_error *err)
{
    struct recur_parsed p;
    int rc = load(lines, n, time_zone, all_day, true, a, &p, err);
    if (rc < 0)
        return rc;
    if (n == 0) {
        *normalized = NULL;
        return PL_OK;
    }
    /* The RRULE as libical prints it, then one line per EXDATE and RDATE value. */
    char *rule = p.has_rule ? icalrecurrencetype_as_string_r(&p.rule) : NULL;
    size_t rule_len = rule ? strlen(rule) : 0;
    size_t cap = 8 + rule_len + (p.n_ex + p.n_rd) * 40, used = 0;
    char *out = arena_alloc(a, cap);
    out[0] = '\0';
    if (p.has_rule)
        used = (size_t)snprintf(out, cap, "RRULE:%s", rule ? rule : "");
    icalmemory_free_buffer(rule);
    for (int pass = 0; pass < 2; pass++) {
        const int64_t *v = pass == 0 ? p.ex : p.rd;
        size_t m = pass == 0 ? p.n_ex : p.n_rd;
        for (size_t i = 0; i < m; i++) {
            char when[24];
            if (all_day)
                format_date(v[i], when, sizeof when);
            else
                format_utc(v[i], when, sizeof when);
            used += (size_t)snprintf(out + used, cap - used, "%s%s%s:%s", used ? "\n" : "",
                                     pass == 0 ? "EXDATE" : "RDATE",
                                     all_day ? ";VALUE=DATE" : "", when);
        }
    }
    *normalized = out;
    return PL_OK;
}

/* ---- walking the rule ------------------------------------------------------------------ */

/* One series ready to walk: DTSTART read in local time, and the rule libical iterates. */
struct walk {
    const struct recur_parsed *p;
    const char *tz;
    bool all_day;
    int64_t dtstart_us;   /* DTSTART (all-day: its local midnight) */
    int64_t dtstart_ls;   /* DTSTART's local reading, local_seconds() */
    int64_t frac_us;      /* DTSTART's sub-second part, kept by every occurrence */
    struct icalrecurrencetype lib;
    unsigned filters;     /* F_* parts checked here */
};

/* How a walk ended. */
struct walk_end {
    bool has_last;             /* an occurrence (of the part walked) was seen */
    struct icaltimetype last;  /* the last one, local */
    int64_t last_us;           /* its instant, when has_last_us */
    bool has_last_us;
};

static int walk_init(struct walk *w, const struct recur_parsed *p, const struct recur_series *s,
                     struct pl_error *err)
{
    struct core_civil c;
    int rc = core_tz_from_utc(s->time_zone, s->dtstart_us, &c, "time_zone", err);
    if (rc < 0)
        return rc;
    memset(w, 0, sizeof *w);
    w->p = p;
    w->tz = s->time_zone;
    w->all_day = s->all_day;
    struct icaltimetype t = icaltime_null_time();
    t.year = c.year;
    t.month = c.month;
    t.day = c.day;
    t.is_date = s->all_day;
    if (!s->all_day) {
        t.hour = c.hour;
        t.minute = c.minute;
        t.second = c.second;
    }
    w->dtstart_ls = local_seconds(&t);
    if (s->all_day) {
        w->dtstart_us = utc_of(s->time_zone, &t);
    } else {
        w->dtstart_us = s->dtstart_us;
        w->frac_us = s->dtstart_us - floor_div(s->dtstart_us, US_PER_S) * US_PER_S;
    }
    if (p->has_rule)
        w->lib = lib_rule(&p->rule, ical_weekday_of_days(floor_div(w->dtstart_ls, DAY_S)),
                          &w->filters);
    return PL_OK;
}

static bool list_has(const short *list, size_t size, int v)
{
    for (size_t i = 0; i < size && list[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        if (list[i] == v)
            return true;
    return false;
}

#define LIST_HAS(list, v) list_has((list), ARRAY_LEN(list), (v))

/* Whether `list` names `v` of `n` (days of a month, say): counted from 1, or from the end by
 * a negative value (-1 is the n-th). */
static bool list_has_signed(const short *list, size_t size, int v, int n)
{
    return list_has(list, size, v) || list_has(list, size, v - n - 1);
}

/* The start (days) of the week holding day `days`, weeks starting on `wkst` (1 = Sunday). */
static int64_t week_start(int64_t days, int wkst)
{
    return days - (ical_weekday_of_days(days) - wkst + 7) % 7;
}

/* RFC 5545 week number of day `days` (week 1 is the first with at least four days in the
 * year; a week belongs to the year of its fourth day), and the weeks in that year. */
static void week_number(int64_t days, int wkst, int *weekno, int *weeks)
{
    int64_t ws = week_start(days, wkst), y;
    unsigned m, d;
    core_time_civil_from_days(ws + 3, &y, &m, &d);
    int64_t w1 = week_start(days_of((int)y, 1, 4), wkst);
    int64_t w1_next = week_start(days_of((int)y + 1, 1, 4), wkst);
    *weekno = (int)((ws - w1) / 7) + 1;
    *weeks = (int)((w1_next - w1) / 7);
}

/* Whether the occurrence `t` passes the rule parts libical was not given. */
static bool passes(const struct walk *w, const struct icaltimetype *t)
{
    const struct icalrecurrencetype *r = &w->p->rule;
    unsigned f = w->filters;
    if (f == 0)
        return true;
    int64_t days = days_of(t->year, t->month, t->day);
    if ((f & F_MONTH) && !LIST_HAS(r->by_month, t->month))
        return false;
    if ((f & F_MONTHDAY) &&
        !list_has_signed(r->by_month_day, ARRAY_LEN(r->by_month_day), t->day,
                         icaltime_days_in_month(t->month, t->year)))
        return false;
    if ((f & F_YEARDAY) &&
        !list_has_signed(r->by_year_day, ARRAY_LEN(r->by_year_day),
                         (int)(days - days_of(t->year, 1, 1)) + 1,
                         (int)(days_of(t->year + 1, 1, 1) - days_of(t->year, 1, 1))))
        return false;
    if (f & F_WEEKDAY) {
        int wday = ical_weekday_of_days(days);
        bool found = false;
        for (size_t i = 0; i < BY_LEN(r->by_day); i++)
            found |= (int)icalrecurrencetype_day_day_of_week(r->by_day[i]) == wday;
        if (!found)
            return false;
    }
    if ((f & F_HOUR) && !LIST_HAS(r->by_hour, t->hour))
        return false;
    if ((f & F_MINUTE) && !LIST_HAS(r->by_minute, t->minute))
        return false;
    if ((f & F_SECOND) && !LIST_HAS(r->by_second, t->second))
        return false;
    if (f & F_WEEKPHASE) {
        int64_t weeks = (week_start(days, r->week_start) -
                         week_start(floor_div(w->dtstart_ls, DAY_S), r->week_start)) / 7;
        if (weeks % r->interval != 0)
            return false;
    }
    if (f & F_WEEKNO) {
        int weekno, weeks;
        week_number(days, r->week_start, &weekno, &weeks);
        if (!list_has_signed(r->by_week_no, ARRAY_LEN(r->by_week_no), weekno, weeks))
            return false;
        /* INTERVAL counts calendar years, as python-dateutil does. */
        int dtstart_year = floating_at(w->dtstart_ls, true).year;
        if ((t->year - dtstart_year) % r->interval != 0)
            return false;
    }
    return true;
}

typedef int (*emit_fn)(void *ctx, int64_t us, int64_t key, struct pl_error *err);

/* Run the RRULE, DTSTART first, and hand each occurrence whose start is in [lo_us, hi_us) to
 * `emit` (key: see struct recur_parsed), in increasing order of local time.  Stops past hi_us;
 * hi_us == INT64_MAX runs to the end of the series (COUNT, UNTIL, or libical's year 2582), and
 * then skipping ahead is off.  PL_ETOOBIG after RECUR_STEPS_MAX libical steps. */
static int walk_rule(const struct walk *w, int64_t lo_us, int64_t hi_us, emit_fn emit, void *ctx,
                     struct walk_end *end, struct pl_error *err)
{
    const struct recur_parsed *p = w->p;
    const struct icalrecurrencetype *r = &p->rule;
    int64_t lo_s = floor_div(lo_us, US_PER_S), hi_s = floor_div(hi_us, US_PER_S) + 1;
    int64_t until_s = floor_div(p->until_us, US_PER_S) + 1;
    bool bounded = hi_us != INT64_MAX, timed_until = p->has_until && !w->all_day;
    int rc = PL_OK;
    memset(end, 0, sizeof *end);

    /* Without COUNT nothing before the window matters: start libical a whole number of
     * periods after DTSTART, which keeps the rule's phase.  Only for frequencies of fixed
     * length in local time (a week at most). */
    int64_t start_ls = w->dtstart_ls;
    static const int64_t unit_s[] = {1, 60, 3600, DAY_S, 7 * DAY_S};
    if (bounded && r->count == 0 && w->lib.freq <= ICAL_WEEKLY_RECURRENCE) {
        int64_t period = unit_s[w->lib.freq] * w->lib.interval;
        int64_t k = floor_div(lo_s - MARGIN_S - w->dtstart_ls, period);
        if (k > 0)
            start_ls += k * period;
    }

    icalerror_clear_errno();
    icalrecur_iterator *it = icalrecur_iterator_new(w->lib, floating_at(start_ls, w->all_day));
    if (it == NULL) {
        /* The rule was checked when it was stored, so libical found no occurrence from here
         * on (INTERVAL=2;BYYEARDAY=366 from an odd year, say). */
        icalerror_clear_errno();
        return PL_OK;
    }
    int64_t prev_ls = INT64_MIN, used = 1; /* DTSTART is the first of COUNT */
    for (long steps = 0;; steps++) {
        if (steps == RECUR_STEPS_MAX) {
            rc = pl_error_set(err, PL_ETOOBIG, "recurrence",
                              "the RRULE takes more than %d steps to expand over this range",
                              RECUR_STEPS_MAX);
            goto done;
        }
        struct icaltimetype t = icalrecur_iterator_next(it);
        if (icaltime_is_null_time(t))
            break;
        int64_t ls = local_seconds(&t);
        if (ls <= prev_ls) {
            if (ls == prev_ls) /* a value listed twice */
                continue;
            rc = pl_error_set(err, PL_EINTERNAL, "recurrence",
                              "libical returned occurrences out of order");
            goto done;
        }
        prev_ls = ls;
        /* Local time only grows, so these end the walk whether or not `t` passes. */
        if ((bounded && ls - MARGIN_S > hi_s) || (timed_until && ls - MARGIN_S > until_s) ||
            (w->all_day && p->has_until && floor_div(ls, DAY_S) > p->until_day))
            break;
        if (ls < w->dtstart_ls || !passes(w, &t))
            continue;
        bool is_dtstart = ls == w->dtstart_ls;
        if (r->count > 0 && !is_dtstart && ++used > r->count)
            break;
        bool near = ls + MARGIN_S >= lo_s && ls - MARGIN_S <= hi_s;
        int64_t us = 0;
        if (near || (timed_until && ls + MARGIN_S >= until_s)) {
            /* DTSTART keeps its own instant (the second of an ambiguous hour, say). */
            us = is_dtstart ? w->dtstart_us : utc_of(w->tz, &t) + w->frac_us;
            if (timed_until && us > p->until_us)
                continue;
        }
        end->has_last = true;
        end->last = t;
        end->has_last_us = near;
        end->last_us = us;
        if (near && us >= lo_us && us < hi_us && emit) {
            int64_t key = w->all_day ? floor_div(ls, DAY_S) : floor_div(us, US_PER_S) * US_PER_S;
            if ((rc = emit(ctx, us, key, err)) < 0)
                goto done;
        }
    }
    if (icalerrno != ICAL_NO_ERROR)
        rc = pl_error_set(err, PL_EINVAL, "recurrence", "libical could not expand the RRULE");
done:
    icalrecur_iterator_free(it);
    icalerror_clear_errno();
    return rc;
}

/* ---- expansion ------------------------------------------------------------------------- */

struct collect {
    struct arena *a;
    const struct recur_parsed *p;
    int64_t *v;
    size_t n, cap, max;
};

static int too_many(size_t max, struct pl_error *err)
{
    return pl_error_set(err, PL_ETOOBIG, "recurrence",
                        "more than %zu occurrences in the requested range", max);
}

static int collect_add(void *ctx, int64_t us, int64_t key, struct pl_error *err)
{
    struct collect *c = ctx;
    if (contains(c->p->ex, c->p->n_ex, key))
        return PL_OK;
    /* Two local times can name one instant (02:30 in a DST gap is 03:30), so the count is
     * only final after removing duplicates: do that now and then, not for every start. */
    if (c->n >= 2 * c->max + 8) {
        c->n = sort_unique(c->v, c->n);
        if (c->n > c->max)
            return too_many(c->max, err);
    }
    c->v = push_key(c->a, c->v, &c->n, &c->cap, us);
    return PL_OK;
}

int core_recur_expand(const struct recur_series *s, int64_t from_us, int64_t to_us, size_t max,
                      struct arena *a, int64_t **starts, size_t *n, struct pl_error *err)
{
    struct recur_parsed p;
    struct walk w;
    struct walk_end end;
    int rc;
    *starts = NULL;
    *n = 0;
    if (max > CORE_RECUR_MAX_PER_SERIES)
        max = CORE_RECUR_MAX_PER_SERIES;
    if ((rc = load_series(s, a, &p, err)) < 0 || (rc = walk_init(&w, &p, s, err)) < 0)
        return rc;
    if (from_us >= to_us)
        return PL_OK;
    struct collect c = {.a = a, .p = &p, .max = max};
    if (p.has_rule && (rc = walk_rule(&w, from_us, to_us, collect_add, &c, &end, err)) < 0)
        return rc;
    /* DTSTART is an occurrence whether or not the rule produces it. */
    int64_t dtstart_key = s->all_day ? floor_div(w.dtstart_ls, DAY_S)
                                     : floor_div(w.dtstart_us, US_PER_S) * US_PER_S;
    if (w.dtstart_us >= from_us && w.dtstart_us < to_us &&
        (rc = collect_add(&c, w.dtstart_us, dtstart_key, err)) < 0)
        return rc;
    for (size_t i = 0; i < p.n_rd; i++) {
        int64_t us = p.rd[i];
        if (s->all_day) {
            struct icaltimetype d = floating_at(p.rd[i] * DAY_S, true);
            us = utc_of(s->time_zone, &d);
        }
        if (us >= from_us && us < to_us && (rc = collect_add(&c, us, p.rd[i], err)) < 0)
            return rc;
    }
    c.n = sort_unique(c.v, c.n);
    if (c.n > max)
        return too_many(max, err);
    *starts = c.n ? c.v : NULL;
    *n = c.n;
    return PL_OK;
}

int core_recur_last(const struct recur_series *s, int64_t *last_us, struct pl_error *err)
{
    struct arena *a = arena_new(4096);
    struct recur_parsed p;
    struct walk w;
    struct walk_end end;
    int rc;
    if ((rc = load_series(s, a, &p, err)) < 0 || (rc = walk_init(&w, &p, s, err)) < 0)
        goto done;
    int64_t last = w.dtstart_us;
    if (p.has_rule && p.rule.count == 0 && !p.has_until) {
        last = INT64_MAX;
    } else if (p.has_rule) {
        rc = walk_rule(&w, INT64_MAX, INT64_MAX, NULL, NULL, &end, err);
        if (rc == PL_ETOOBIG) {
            /* Too long to walk: an upper bound will do. */
            rc = PL_OK;
            if (p.rule.count > 0) {
                last = INT64_MAX;
            } else if (s->all_day) {
                struct icaltimetype d = floating_at(p.until_day * DAY_S, true);
                last = utc_of(s->time_zone, &d);
            } else {
                last = p.until_us;
            }
        } else if (rc < 0) {
            goto done;
        } else if (end.has_last) {
            int64_t us =
                end.has_last_us ? end.last_us : utc_of(s->time_zone, &end.last) + w.frac_us;
            if (us > last)
                last = us;
        }
    }
    for (size_t i = 0; i < p.n_rd && last != INT64_MAX; i++) {
        int64_t us = p.rd[i];
        if (s->all_day) {
            struct icaltimetype d = floating_at(p.rd[i] * DAY_S, true);
            us = utc_of(s->time_zone, &d);
        }
        if (us > last)
            last = us;
    }
    *last_us = last;
done:
    arena_free(a);
    return rc;
}

bool core_recur_has(const struct recur_series *s, int64_t start_us)
{
    struct arena *a = arena_new(4096);
    int64_t *starts;
    size_t n = 0;
    bool has = start_us < INT64_MAX &&
               core_recur_expand(s, start_us, start_us + 1, 1, a, &starts, &n, NULL) == PL_OK &&
               n == 1;
    arena_free(a);
    return has;
}

/* ---- splitting a series ("this and following") ------------------------------------------- */

/* "20261201T070000Z" for an instant, or "20261201" (the local date in `tz`) for all-day. */
static void split_stamp(int64_t us, bool all_day, const char *tz, char *out, size_t len)
{
    struct core_civil c;
    if (all_day && core_tz_from_utc(tz, us, &c, NULL, NULL) == PL_OK) {
        snprintf(out, len, "%04d%02d%02d", c.year, c.month, c.day);
        return;
    }
    if (core_tz_from_utc("UTC", us, &c, NULL, NULL) != PL_OK)
        c = (struct core_civil){1970, 1, 1, 0, 0, 0, 4};
    snprintf(out, len, "%04d%02d%02dT%02d%02d%02dZ", c.year, c.month, c.day, c.hour, c.minute,
             c.second);
}

/* The rule text without its COUNT and UNTIL parts, with ";UNTIL=<until>" when until != NULL. */
static char *split_rule(struct arena *a, const char *rule, const char *until)
{
    size_t n = strlen(rule);
    char *out = arena_alloc(a, n + 32), *w = out;
    for (const char *p = rule; *p;) {
        size_t len = strcspn(p, ";");
        if (!(len > 6 && strncmp(p, "COUNT=", 6) == 0) && !(len > 6 && strncmp(p, "UNTIL=", 6) == 0)) {
            if (w != out)
                *w++ = ';';
            memcpy(w, p, len);
            w += len;
        }
        p += len + (p[len] == ';');
    }
    *w = '\0';
    if (until != NULL) {
        size_t used = (size_t)(w - out);
        snprintf(w, n + 32 - used, ";UNTIL=%s", until);
    }
    return out;
}

/* The instant an EXDATE/RDATE line's value stands for (normalised lines hold one value each). */
static int64_t split_value_us(const char *line, bool all_day, const char *tz)
{
    const char *v = strrchr(line, ':');
    struct core_civil c = {0};
    int64_t us = 0;
    if (v == NULL || sscanf(v + 1, "%4d%2d%2d", &c.year, &c.month, &c.day) != 3)
        return 0;
    if (strlen(v + 1) >= 15)
        sscanf(v + 10, "%2d%2d%2d", &c.hour, &c.minute, &c.second);
    if (core_tz_to_utc(all_day || strlen(v + 1) < 15 ? tz : "UTC", &c, &us, NULL, NULL) != PL_OK)
        return 0;
    return us;
}

/* Append to `buf` (capacity `cap`, `*len` used) with printf rules; false when it would not
 * fit, leaving `buf` as it was, so that a wrong size estimate truncates nothing silently and
 * never lets `cap - *len` wrap around. */
static bool __attribute__((format(printf, 4, 5)))
split_append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap - *len) {
        buf[*len] = '\0';
        return false;
    }
    *len += (size_t)n;
    return true;
}

int core_recur_split(const struct recur_series *s, int64_t at_us, int64_t shift_us,
                     struct arena *a, char **before, char **after, struct pl_error *err)
{
    int64_t last;
    int rc = core_recur_last(s, &last, err);
    if (rc < 0)
        return rc;
    size_t cap = strlen(s->lines) + 128;
    char *b = arena_alloc(a, cap), *f = arena_alloc(a, cap);
    size_t bl = 0, fl = 0;
    b[0] = f[0] = '\0';
    char until_before[32], until_after[32];
    split_stamp(s->all_day ? at_us - 86400 * CORE_TIME_US_PER_S : at_us - CORE_TIME_US_PER_S,
                s->all_day, s->time_zone, until_before, sizeof until_before);
    split_stamp(last == INT64_MAX ? last : last + shift_us, s->all_day, s->time_zone, until_after,
                sizeof until_after);
    bool ok = true;
    for (const char *p = s->lines; *p && ok;) {
        size_t len = strcspn(p, "\n");
        char *line = arena_strndup(a, p, len);
        p += len + (p[len] == '\n');
        if (strncmp(line, "RRULE:", 6) == 0) {
            ok = split_append(b, cap, &bl, "%sRRULE:%s", bl ? "\n" : "",
                              split_rule(a, line + 6, until_before)) &&
                 split_append(f, cap, &fl, "%sRRULE:%s", fl ? "\n" : "",
                              split_rule(a, line + 6, last == INT64_MAX ? NULL : until_after));
        } else if (split_value_us(line, s->all_day, s->time_zone) < at_us) {
            ok = split_append(b, cap, &bl, "%s%s", bl ? "\n" : "", line);
        } else if (shift_us == 0) {
            ok = split_append(f, cap, &fl, "%s%s", fl ? "\n" : "", line);
        } else { /* moved with the rest: re-written in the normalised form */
            char stamp[32];
            bool rdate = strncmp(line, "RDATE", 5) == 0;
            split_stamp(split_value_us(line, s->all_day, s->time_zone) + shift_us, s->all_day,
                        s->time_zone, stamp, sizeof stamp);
            ok = split_append(f, cap, &fl, "%s%s%s:%s", fl ? "\n" : "",
                              rdate ? "RDATE" : "EXDATE", s->all_day ? ";VALUE=DATE" : "", stamp);
        }
    }
    if (!ok)
        return pl_error_set(err, PL_EINTERNAL, "recurrence", "the split series does not fit");
    *before = at_us <= s->dtstart_us ? NULL : b;
    *after = f;
    return PL_OK;
}

/* How many windows of `window_us` from `from_us` it takes to reach `to_us` (at least one). */
static uint64_t windows_to(int64_t from_us, int64_t to_us, int64_t window_us)
{
    if (to_us <= from_us || window_us <= 0)
        return 1;
    uint64_t span = (uint64_t)to_us - (uint64_t)from_us, w = (uint64_t)window_us;
    return span / w + (span % w != 0);
}

static bool estimate_exceeds(size_t in_window, uint64_t windows)
{
    return in_window != 0 && windows > CORE_RECUR_MAX_INDEXED / in_window;
}

bool core_recur_too_many(const struct recur_series *s, size_t in_window, int64_t window_us,
                         int64_t to_us)
{
    if (!estimate_exceeds(in_window, windows_to(s->dtstart_us, to_us, window_us)))
        return false;
    /* Only then is the series' end worth finding (a COUNT walks to it). */
    int64_t last;
    struct pl_error why = {0};
    if (core_recur_last(s, &last, &why) == PL_OK && last < to_us)
        to_us = last + 1;
    return estimate_exceeds(in_window, windows_to(s->dtstart_us, to_us, window_us));
}
