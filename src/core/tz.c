/* Time zone conversion.  Only UTC -> offset is asked of libical, because that direction has
 * one answer; the ambiguous local -> UTC direction is resolved here by the RFC 5545 rules. */
#include "core/tz.h"

#include "core/time.h"
#include "core/user.h"

#include <ctype.h>
#include <libical/ical.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

/* libical keeps one table of its builtin zones for the process and builds it, and extends
 * it, with no lock against its readers: the first lookup reads zone.tab into a table that is
 * already visible, and a name zone.tab lacks is appended as it is found.  Two threads at
 * their first lookups crashed a worker (a lane's binary search ran over the table another
 * lane was filling: SIGSEGV in strcmp under icaltimezone_get_builtin_timezone, in one of a
 * dozen fresh servers given 64 connections at once).  So every use of that table here goes
 * through zone_lock: the lookups, the first use of libical's UTC zone (which builds the
 * table), and the load of a zone's rules, so that a zone is whole before any other thread
 * is handed it.  Nothing else in planner looks zones up in libical: core_tz_check (user.c),
 * the VTIMEZONE writer (ical.c) and the recurrence expander (recur.c) come through here.
 * main calls core_tz_utc before any thread starts, so that the table is built before
 * libical's own uses of its UTC zone (converting a time of a zone an import defines) could
 * race to build it; the lock does not depend on that.
 * tests/unit/core_tz_test.c starts fresh processes whose threads all look zones up at once. */
static pthread_mutex_t zone_lock = PTHREAD_MUTEX_INITIALIZER;
static icaltimezone *_Atomic utc_zone;

/* Zones this thread looked up last, by name.  libical finds a builtin zone by name with
 * linear scans of its list of ~600 (measured: ~38,000 instructions a lookup, and expanding a
 * series or finding a time converts hundreds of instants in one or two zones).  The zones
 * themselves live as long as the process, so a pointer stays valid. */
#define ZONE_CACHE 4
struct zone_entry {
    char name[CORE_TZ_NAME_MAX + 1];
    icaltimezone *zone;
};
static _Thread_local struct zone_entry zone_cache[ZONE_CACHE];
static _Thread_local unsigned zone_cache_next;

bool core_tz_name_ok(const char *tz)
{
    size_t n = strlen(tz);
    return n > 0 && n <= CORE_TZ_NAME_MAX && !strstr(tz, "..") && tz[0] != '/' &&
           strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") == n;
}

/* Files of the zoneinfo tree that are not zone names, though libical reads them as such.
 * posix/ and right/ hold second copies of every zone (right/ counting leap seconds), whose
 * VTIMEZONEs calendar apps cannot match to a zone; localtime follows the host's setting;
 * posixrules is a template for POSIX TZ strings. */
static const char *const not_zones[] = {"posix", "right", "localtime", "posixrules"};

bool core_tz_name_canonical(const char *tz)
{
    size_t n = strlen(tz), first = strcspn(tz, "/");
    if (!core_tz_name_ok(tz) || tz[n - 1] == '/' || strstr(tz, "//"))
        return false;
    for (size_t i = 0; i < sizeof not_zones / sizeof not_zones[0]; i++)
        if (strlen(not_zones[i]) == first && memcmp(tz, not_zones[i], first) == 0)
            return false;
    return true;
}

icaltimezone *core_tz_utc(void)
{
    icaltimezone *zone = atomic_load_explicit(&utc_zone, memory_order_acquire);
    if (zone == NULL && pthread_mutex_lock(&zone_lock) == 0) {
        zone = icaltimezone_get_utc_timezone();
        atomic_store_explicit(&utc_zone, zone, memory_order_release);
        (void)pthread_mutex_unlock(&zone_lock);
    }
    return zone;
}

icaltimezone *core_tz_zone(const char *tz)
{
    if (strcmp(tz, "UTC") == 0)
        return core_tz_utc();
    for (unsigned i = 0; i < ZONE_CACHE; i++)
        if (zone_cache[i].zone != NULL && strcmp(zone_cache[i].name, tz) == 0)
            return zone_cache[i].zone;
    /* The name is checked first because libical turns it into a file path. */
    if (!core_tz_name_ok(tz) || pthread_mutex_lock(&zone_lock) != 0)
        return NULL;
    icaltimezone *zone = icaltimezone_get_builtin_timezone(tz);
    if (zone != NULL)
        (void)icaltimezone_get_component(zone); /* loads its rules from the zoneinfo file */
    (void)pthread_mutex_unlock(&zone_lock);
    if (zone != NULL) {
        struct zone_entry *e = &zone_cache[zone_cache_next++ % ZONE_CACHE];
        memcpy(e->name, tz, strlen(tz) + 1);
        e->zone = zone;
    }
    return zone;
}

/* The zone's UTC offset, in seconds, at the UTC instant `utc_s`. */
static int offset_at(icaltimezone *zone, int64_t utc_s)
{
    struct icaltimetype tt = icaltime_from_timet_with_zone((time_t)utc_s, 0, core_tz_utc());
    int is_dst = 0;
    return icaltimezone_get_utc_offset_of_utc_time(zone, &tt, &is_dst);
}

static int64_t civil_seconds(const struct core_civil *c)
{
    return core_time_days_from_civil(c->year, (unsigned)c->month, (unsigned)c->day) * 86400 +
           c->hour * 3600 + c->minute * 60 + c->second;
}

int core_tz_to_utc(const char *tz, const struct core_civil *local, int64_t *utc_us,
                   const char *field, struct pl_error *err)
{
    icaltimezone *zone = core_tz_zone(tz);
    if (zone == NULL)
        return pl_error_set(err, PL_EINVAL, field, "unknown time zone \"%.64s\"", tz);
    int64_t l = civil_seconds(local);
    /* The offsets in force a day before, at, and a day after the wall-clock reading: a local
     * time maps to UTC through one of them (no zone changes offset twice within a day). */
    int candidates[3] = {offset_at(zone, l - 86400), offset_at(zone, l), offset_at(zone, l + 86400)};
    int64_t best = 0;
    int found = 0;
    for (int i = 0; i < 3; i++) {
        int64_t u = l - candidates[i];
        if (offset_at(zone, u) == candidates[i] && (!found || u < best)) {
            best = u; /* the earliest valid reading: the first of an overlap's two */
            found = 1;
        }
    }
    if (!found)
        best = l - candidates[0]; /* in a gap: the offset from before the gap */
    *utc_us = best * CORE_TIME_US_PER_S;
    return PL_OK;
}

int core_tz_from_utc(const char *tz, int64_t utc_us, struct core_civil *out, const char *field,
                     struct pl_error *err)
{
    icaltimezone *zone = core_tz_zone(tz);
    if (zone == NULL)
        return pl_error_set(err, PL_EINVAL, field, "unknown time zone \"%.64s\"", tz);
    int64_t s = utc_us / CORE_TIME_US_PER_S - (utc_us % CORE_TIME_US_PER_S < 0);
    int64_t l = s + offset_at(zone, s);
    int64_t days = l / 86400 - (l % 86400 < 0), rem = l - days * 86400;
    int64_t y;
    unsigned m, d;
    core_time_civil_from_days(days, &y, &m, &d);
    out->year = (int)y;
    out->month = (int)m;
    out->day = (int)d;
    out->hour = (int)(rem / 3600);
    out->minute = (int)(rem / 60 % 60);
    out->second = (int)(rem % 60);
    /* 1970-01-01 was a Thursday (ISO 4). */
    out->weekday = (int)(((days % 7) + 7 + 3) % 7) + 1;
    return PL_OK;
}

static int two(const char *p)
{
    return isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) ? (p[0] - '0') * 10 + (p[1] - '0')
                                                                         : -1;
}

int core_tz_parse_date(const char *t, struct core_civil *out, const char *field,
                       struct pl_error *err)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(t) != 10 || t[4] != '-' || t[7] != '-' || two(t) < 0 || two(t + 2) < 0)
        goto bad;
    int y = two(t) * 100 + two(t + 2), m = two(t + 5), d = two(t + 8);
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        goto bad;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        goto bad;
    *out = (struct core_civil){.year = y, .month = m, .day = d};
    return PL_OK;
bad:
    return pl_error_set(err, PL_EINVAL, field, "must be a date like 2026-11-23");
}

int core_tz_parse_hhmm(const char *t, int *minutes, const char *field, struct pl_error *err)
{
    int h = two(t), m = strlen(t) == 5 && t[2] == ':' ? two(t + 3) : -1;
    if (h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0))
        return pl_error_set(err, PL_EINVAL, field, "must be a time like 09:00");
    *minutes = h * 60 + m;
    return PL_OK;
}
