/* core/recur: parsing and normalising RRULE/EXDATE/RDATE lines, expanding them into start
 * instants across DST changes, and the limits.  Expected instants were computed independently:
 * the RFC 5545 section 3.8.5.3 examples by hand from the RFC's own listings, the rest with
 * python-dateutil's rrule in naive local time mapped to UTC by zoneinfo (fold=0: a time in a
 * gap takes the offset before it, an ambiguous one its first occurrence, as RFC 5545 says), and
 * BYWEEKNO by brute force over the RFC's week definition.  Where dateutil departs from RFC 5545
 * the RFC won: DTSTART is always the first occurrence and counts towards COUNT, BYWEEKNO
 * without BYDAY takes DTSTART's weekday, and week -53 can lie in the previous calendar year. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "arena.h"
#include "core/recur.h"
#include "core/time.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define WANT_MAX 14

/* ---- expansion ------------------------------------------------------------------------- */

struct expand_case {
    const char *name;
    const char *tz;
    bool all_day;
    const char *dtstart;   /* RFC 3339; all-day events start at local midnight */
    const char *lines[4];  /* as the API receives them */
    const char *from, *to; /* the window; NULL: 1990 .. 2100 */
    size_t max;            /* 0: CORE_RECUR_MAX_PER_SERIES */
    int rc;
    size_t n;                   /* occurrences in the window */
    const char *want[WANT_MAX]; /* the first of them (all when n <= WANT_MAX) */
    const char *last;           /* the last, when n > WANT_MAX */
};

#define NY "America/New_York"
#define BER "Europe/Berlin"

static const struct expand_case expand_cases[] = {
    /* ---- RFC 5545 section 3.8.5.3 (DTSTART;TZID=America/New_York:19970902T090000) ---- */
    {"rfc daily for 10 occurrences", NY, false, "1997-09-02T09:00:00-04:00",
     {"RRULE:FREQ=DAILY;COUNT=10"}, NULL, NULL, 0, PL_OK, 10,
     {"1997-09-02T13:00:00Z", "1997-09-03T13:00:00Z", "1997-09-04T13:00:00Z",
      "1997-09-05T13:00:00Z", "1997-09-06T13:00:00Z", "1997-09-07T13:00:00Z",
      "1997-09-08T13:00:00Z", "1997-09-09T13:00:00Z", "1997-09-10T13:00:00Z",
      "1997-09-11T13:00:00Z"}, NULL},
    /* "September 2-30; October 1-25 (EDT); October 26-31; November; December 1-23 (EST)":
     * 09:00 local throughout, so UTC moves from 13:00 to 14:00. */
    {"rfc daily until December 24", NY, false, "1997-09-02T09:00:00-04:00",
     {"RRULE:FREQ=DAILY;UNTIL=19971224T000000Z"}, NULL, NULL, 0, PL_OK, 113,
     {"1997-09-02T13:00:00Z", "1997-09-03T13:00:00Z"}, "1997-12-23T14:00:00Z"},
    {"rfc weekly for 10 occurrences", NY, false, "1997-09-02T09:00:00-04:00",
     {"RRULE:FREQ=WEEKLY;COUNT=10"}, NULL, NULL, 0, PL_OK, 10,
     {"1997-09-02T13:00:00Z", "1997-09-09T13:00:00Z", "1997-09-16T13:00:00Z",
      "1997-09-23T13:00:00Z", "1997-09-30T13:00:00Z", "1997-10-07T13:00:00Z",
      "1997-10-14T13:00:00Z", "1997-10-21T13:00:00Z", "1997-10-28T14:00:00Z",
      "1997-11-04T14:00:00Z"}, NULL},
    {"rfc weekly on Tuesday and Thursday for five weeks", NY, false, "1997-09-02T09:00:00-04:00",
     {"RRULE:FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH"}, NULL, NULL, 0, PL_OK, 10,
     {"1997-09-02T13:00:00Z", "1997-09-04T13:00:00Z", "1997-09-09T13:00:00Z",
      "1997-09-11T13:00:00Z", "1997-09-16T13:00:00Z", "1997-09-18T13:00:00Z",
      "1997-09-23T13:00:00Z", "1997-09-25T13:00:00Z", "1997-09-30T13:00:00Z",
      "1997-10-02T13:00:00Z"}, NULL},
    {"rfc every other week on Tuesday and Thursday", NY, false, "1997-09-02T09:00:00-04:00",
     {"RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH"}, NULL, NULL, 0, PL_OK, 8,
     {"1997-09-02T13:00:00Z", "1997-09-04T13:00:00Z", "1997-09-16T13:00:00Z",
      "1997-09-18T13:00:00Z", "1997-09-30T13:00:00Z", "1997-10-02T13:00:00Z",
      "1997-10-14T13:00:00Z", "1997-10-16T13:00:00Z"}, NULL},
    /* The RFC's WKST example: the same rule with WKST=MO and WKST=SU. */
    {"rfc WKST=MO, INTERVAL=2", NY, false, "1997-08-05T09:00:00-04:00",
     {"RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO"}, NULL, NULL, 0, PL_OK, 4,
     {"1997-08-05T13:00:00Z", "1997-08-10T13:00:00Z", "1997-08-19T13:00:00Z",
      "1997-08-24T13:00:00Z"}, NULL},
    {"rfc WKST=SU, INTERVAL=2", NY, false, "1997-08-05T09:00:00-04:00",
     {"RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU"}, NULL, NULL, 0, PL_OK, 4,
     {"1997-08-05T13:00:00Z", "1997-08-17T13:00:00Z", "1997-08-19T13:00:00Z",
      "1997-08-31T13:00:00Z"}, NULL},
    {"rfc monthly on the first Friday", NY, false, "1997-09-05T09:00:00-04:00",
     {"RRULE:FREQ=MONTHLY;COUNT=10;BYDAY=1FR"}, NULL, NULL, 0, PL_OK, 10,
     {"1997-09-05T13:00:00Z", "1997-10-03T13:00:00Z", "1997-11-07T14:00:00Z",
      "1997-12-05T14:00:00Z", "1998-01-02T14:00:00Z", "1998-02-06T14:00:00Z",
      "1998-03-06T14:00:00Z", "1998-04-03T14:00:00Z", "1998-05-01T13:00:00Z",
      "1998-06-05T13:00:00Z"}, NULL},
    {"rfc monthly on the second-to-last Monday", NY, false, "1997-09-22T09:00:00-04:00",
     {"RRULE:FREQ=MONTHLY;COUNT=6;BYDAY=-2MO"}, NULL, NULL, 0, PL_OK, 6,
     {"1997-09-22T13:00:00Z", "1997-10-20T13:00:00Z", "1997-11-17T14:00:00Z",
      "1997-12-22T14:00:00Z", "1998-01-19T14:00:00Z", "1998-02-16T14:00:00Z"}, NULL},
    {"rfc monthly on the third-to-last day", NY, false, "1997-09-28T09:00:00-04:00",
     {"RRULE:FREQ=MONTHLY;BYMONTHDAY=-3;COUNT=6"}, NULL, NULL, 0, PL_OK, 6,
     {"1997-09-28T13:00:00Z", "1997-10-29T14:00:00Z", "1997-11-28T14:00:00Z",
      "1997-12-29T14:00:00Z", "1998-01-29T14:00:00Z", "1998-02-26T14:00:00Z"}, NULL},
    {"rfc third Tuesday, Wednesday or Thursday (BYSETPOS=3)", NY, false,
     "1997-09-04T09:00:00-04:00", {"RRULE:FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3"}, NULL,
     NULL, 0, PL_OK, 3, {"1997-09-04T13:00:00Z", "1997-10-07T13:00:00Z", "1997-11-06T14:00:00Z"},
     NULL},
    {"rfc yearly in June and July", NY, false, "1997-06-10T09:00:00-04:00",
     {"RRULE:FREQ=YEARLY;COUNT=10;BYMONTH=6,7"}, NULL, NULL, 0, PL_OK, 10,
     {"1997-06-10T13:00:00Z", "1997-07-10T13:00:00Z", "1998-06-10T13:00:00Z",
      "1998-07-10T13:00:00Z", "1999-06-10T13:00:00Z", "1999-07-10T13:00:00Z",
      "2000-06-10T13:00:00Z", "2000-07-10T13:00:00Z", "2001-06-10T13:00:00Z",
      "2001-07-10T13:00:00Z"}, NULL},
    {"rfc every third year on days 1, 100 and 200", NY, false, "1997-01-01T09:00:00-05:00",
     {"RRULE:FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200"}, NULL, NULL, 0, PL_OK, 10,
     {"1997-01-01T14:00:00Z", "1997-04-10T13:00:00Z", "1997-07-19T13:00:00Z",
      "2000-01-01T14:00:00Z", "2000-04-09T13:00:00Z", "2000-07-18T13:00:00Z",
      "2003-01-01T14:00:00Z", "2003-04-10T13:00:00Z", "2003-07-19T13:00:00Z",
      "2006-01-01T14:00:00Z"}, NULL},
    {"rfc every 20th Monday of the year", NY, false, "1997-05-19T09:00:00-04:00",
     {"RRULE:FREQ=YEARLY;BYDAY=20MO;COUNT=3"}, NULL, NULL, 0, PL_OK, 3,
     {"1997-05-19T13:00:00Z", "1998-05-18T13:00:00Z", "1999-05-17T13:00:00Z"}, NULL},
    {"rfc Monday of week number 20", NY, false, "1997-05-12T09:00:00-04:00",
     {"RRULE:FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO;COUNT=3"}, NULL, NULL, 0, PL_OK, 3,
     {"1997-05-12T13:00:00Z", "1998-05-11T13:00:00Z", "1999-05-17T13:00:00Z"}, NULL},
    /* The RFC's Friday 13th example excludes DTSTART with an EXDATE carrying a TZID. */
    {"rfc every Friday the 13th, EXDATE with TZID", NY, false, "1997-09-02T09:00:00-04:00",
     {"RRULE:FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", "EXDATE;TZID=America/New_York:19970902T090000"},
     NULL, "2001-01-01T00:00:00Z", 0, PL_OK, 5,
     {"1998-02-13T14:00:00Z", "1998-03-13T14:00:00Z", "1998-11-13T14:00:00Z",
      "1999-08-13T13:00:00Z", "2000-10-13T13:00:00Z"}, NULL},

    /* ---- BYDAY, BYMONTHDAY, BYSETPOS, BYWEEKNO, leap days ---- */
    {"last weekday of the month (BYSETPOS=-1)", BER, false, "2026-01-30T09:00:00+01:00",
     {"RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=6"}, NULL, NULL, 0, PL_OK, 6,
     {"2026-01-30T08:00:00Z", "2026-02-27T08:00:00Z", "2026-03-31T07:00:00Z",
      "2026-04-30T07:00:00Z", "2026-05-29T07:00:00Z", "2026-06-30T07:00:00Z"}, NULL},
    {"last Friday of the month until May", BER, false, "2026-01-30T09:00:00+01:00",
     {"RRULE:FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20260501T000000Z"}, NULL, NULL, 0, PL_OK, 4,
     {"2026-01-30T08:00:00Z", "2026-02-27T08:00:00Z", "2026-03-27T08:00:00Z",
      "2026-04-24T07:00:00Z"}, NULL},
    {"every weekday as DAILY with BYDAY", BER, false, "2026-01-02T09:00:00+01:00",
     {"RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=4"}, NULL, NULL, 0, PL_OK, 4,
     {"2026-01-02T08:00:00Z", "2026-01-05T08:00:00Z", "2026-01-06T08:00:00Z",
      "2026-01-07T08:00:00Z"}, NULL},
    /* libical never matches a negative BYMONTHDAY under FREQ=DAILY. */
    {"last day of the month as DAILY with BYMONTHDAY=-1", BER, false, "2026-01-31T09:00:00+01:00",
     {"RRULE:FREQ=DAILY;BYMONTHDAY=-1;COUNT=5"}, NULL, NULL, 0, PL_OK, 5,
     {"2026-01-31T08:00:00Z", "2026-02-28T08:00:00Z", "2026-03-31T07:00:00Z",
      "2026-04-30T07:00:00Z", "2026-05-31T07:00:00Z"}, NULL},
    {"monthly on the 31st skips shorter months", BER, false, "2026-01-31T09:00:00+01:00",
     {"RRULE:FREQ=MONTHLY;COUNT=4"}, NULL, NULL, 0, PL_OK, 4,
     {"2026-01-31T08:00:00Z", "2026-03-31T07:00:00Z", "2026-05-31T07:00:00Z",
      "2026-07-31T07:00:00Z"}, NULL},
    {"yearly on February 29", BER, false, "2024-02-29T09:00:00+01:00", {"RRULE:FREQ=YEARLY"},
     NULL, "2037-01-01T00:00:00Z", 0, PL_OK, 4,
     {"2024-02-29T08:00:00Z", "2028-02-29T08:00:00Z", "2032-02-29T08:00:00Z",
      "2036-02-29T08:00:00Z"}, NULL},
    /* RFC 5545 expands BYMONTHDAY to every month under FREQ=YEARLY; libical used DTSTART's. */
    {"yearly BYMONTHDAY=1 means every month", BER, false, "2026-01-01T09:00:00+01:00",
     {"RRULE:FREQ=YEARLY;BYMONTHDAY=1;COUNT=14"}, NULL, NULL, 0, PL_OK, 14,
     {"2026-01-01T08:00:00Z", "2026-02-01T08:00:00Z", "2026-03-01T08:00:00Z",
      "2026-04-01T07:00:00Z", "2026-05-01T07:00:00Z", "2026-06-01T07:00:00Z",
      "2026-07-01T07:00:00Z", "2026-08-01T07:00:00Z", "2026-09-01T07:00:00Z",
      "2026-10-01T07:00:00Z", "2026-11-01T08:00:00Z", "2026-12-01T08:00:00Z",
      "2027-01-01T08:00:00Z", "2027-02-01T08:00:00Z"}, NULL},
    /* Week 1 of 2026 starts on Monday 2025-12-29 (before DTSTART) with WKST=MO, on Sunday
     * 2026-01-04 with WKST=SU; libical 3.0.16 gets both wrong around New Year. */
    {"BYWEEKNO=1 with WKST=MO", "UTC", false, "2026-01-01T09:00:00Z",
     {"RRULE:FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO;COUNT=4"}, NULL, NULL, 0, PL_OK, 4,
     {"2026-01-01T09:00:00Z", "2027-01-04T09:00:00Z", "2028-01-03T09:00:00Z",
      "2029-01-01T09:00:00Z"}, NULL},
    {"BYWEEKNO=1 with WKST=SU", "UTC", false, "2026-01-01T09:00:00Z",
     {"RRULE:FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO;WKST=SU;COUNT=4"}, NULL, NULL, 0, PL_OK, 4,
     {"2026-01-01T09:00:00Z", "2026-01-05T09:00:00Z", "2027-01-04T09:00:00Z",
      "2028-01-03T09:00:00Z"}, NULL},
    {"BYWEEKNO=53 only in years that have it", "UTC", false, "2020-12-31T09:00:00Z",
     {"RRULE:FREQ=YEARLY;BYWEEKNO=53;BYDAY=TH;COUNT=3"}, NULL, NULL, 0, PL_OK, 3,
     {"2020-12-31T09:00:00Z", "2026-12-31T09:00:00Z", "2032-12-30T09:00:00Z"}, NULL},
    /* libical started this series a week late (DTSTART's weekday not in BYDAY, WKST=FR). */
    {"INTERVAL=2 weekly from a day outside BYDAY, WKST=FR", BER, false,
     "2029-02-23T09:00:00+01:00", {"RRULE:FREQ=WEEKLY;INTERVAL=2;WKST=FR;BYDAY=MO;COUNT=4"},
     NULL, NULL, 0, PL_OK, 4,
     {"2029-02-23T08:00:00Z", "2029-02-26T08:00:00Z", "2029-03-12T08:00:00Z",
      "2029-03-26T07:00:00Z"}, NULL},
    /* DTSTART is the first occurrence and the first of COUNT even off the rule. */
    {"COUNT counts an unsynchronised DTSTART", BER, false, "2026-01-01T09:00:00+01:00",
     {"RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3"}, NULL, NULL, 0, PL_OK, 3,
     {"2026-01-01T08:00:00Z", "2026-01-05T08:00:00Z", "2026-01-12T08:00:00Z"}, NULL},

    /* ---- EXDATE and RDATE ---- */
    {"EXDATE in UTC (COUNT still counts it)", BER, false, "2026-01-05T09:00:00+01:00",
     {"RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=5", "EXDATE:20260112T080000Z"}, NULL, NULL, 0, PL_OK, 4,
     {"2026-01-05T08:00:00Z", "2026-01-19T08:00:00Z", "2026-01-26T08:00:00Z",
      "2026-02-02T08:00:00Z"}, NULL},
    {"EXDATE with TZID, two values", BER, false, "2026-01-05T09:00:00+01:00",
     {"RRULE:FREQ=WEEKLY;BYDAY=MO", "EXDATE;TZID=Europe/Berlin:20260119T090000,20260126T090000"},
     "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", 0, PL_OK, 2,
     {"2026-01-05T08:00:00Z", "2026-01-12T08:00:00Z"}, NULL},
    {"EXDATE of DTSTART", BER, false, "2026-01-05T09:00:00+01:00",
     {"RRULE:FREQ=DAILY;COUNT=3", "EXDATE:20260105T080000Z"}, NULL, NULL, 0, PL_OK, 2,
     {"2026-01-06T08:00:00Z", "2026-01-07T08:00:00Z"}, NULL},
    {"RDATE in UTC and with TZID, no RRULE", BER, false, "2026-01-05T09:00:00+01:00",
     {"RDATE:20260201T120000Z", "RDATE;TZID=America/New_York:20260301T090000"}, NULL, NULL, 0,
     PL_OK, 3, {"2026-01-05T08:00:00Z", "2026-02-01T12:00:00Z", "2026-03-01T14:00:00Z"}, NULL},
    {"RDATE on an occurrence is not doubled; EXDATE removes an RDATE", BER, false,
     "2026-01-05T09:00:00+01:00",
     {"RRULE:FREQ=DAILY;COUNT=2", "RDATE:20260106T080000Z,20260110T080000Z",
      "EXDATE:20260110T080000Z"},
     NULL, NULL, 0, PL_OK, 2, {"2026-01-05T08:00:00Z", "2026-01-06T08:00:00Z"}, NULL},
    /* Odd years only, and only their day 366: never, so DTSTART stands alone (libical will
     * not even start such a rule). */
    {"a rule that never occurs after DTSTART", "UTC", false, "2025-03-01T09:00:00Z",
     {"RRULE:FREQ=YEARLY;INTERVAL=2;BYYEARDAY=366"}, NULL, NULL, 0, PL_OK, 1,
     {"2025-03-01T09:00:00Z"}, NULL},
    {"no recurrence lines: DTSTART alone", BER, false, "2026-01-05T09:00:00+01:00", {NULL}, NULL,
     NULL, 0, PL_OK, 1, {"2026-01-05T08:00:00Z"}, NULL},

    /* ---- all-day events: local midnights ---- */
    {"all-day yearly", BER, true, "2026-03-15T00:00:00+01:00", {"RRULE:FREQ=YEARLY"}, NULL,
     "2029-01-01T00:00:00Z", 0, PL_OK, 3,
     {"2026-03-14T23:00:00Z", "2027-03-14T23:00:00Z", "2028-03-14T23:00:00Z"}, NULL},
    {"all-day yearly until a date, which is included", BER, true, "2026-03-15T00:00:00+01:00",
     {"RRULE:FREQ=YEARLY;UNTIL=20290315"}, NULL, NULL, 0, PL_OK, 4,
     {"2026-03-14T23:00:00Z", "2027-03-14T23:00:00Z", "2028-03-14T23:00:00Z",
      "2029-03-14T23:00:00Z"}, NULL},
    {"all-day weekly across the March change", BER, true, "2026-03-23T00:00:00+01:00",
     {"RRULE:FREQ=WEEKLY;COUNT=3"}, NULL, NULL, 0, PL_OK, 3,
     {"2026-03-22T23:00:00Z", "2026-03-29T22:00:00Z", "2026-04-05T22:00:00Z"}, NULL},
    {"all-day UNTIL as DATE, EXDATE and RDATE as DATE", BER, true, "2026-12-22T00:00:00+01:00",
     {"RRULE:FREQ=DAILY;UNTIL=20261226", "EXDATE;VALUE=DATE:20261224", "RDATE;VALUE=DATE:20261231"},
     NULL, NULL, 0, PL_OK, 5,
     {"2026-12-21T23:00:00Z", "2026-12-22T23:00:00Z", "2026-12-24T23:00:00Z",
      "2026-12-25T23:00:00Z", "2026-12-30T23:00:00Z"}, NULL},
    /* 23:00Z on January 4 is midnight of January 5 in Berlin, so January 5 is in. */
    {"all-day UNTIL in UTC is read as its local date", BER, true, "2026-01-01T00:00:00+01:00",
     {"RRULE:FREQ=DAILY;UNTIL=20260104T230000Z"}, NULL, NULL, 0, PL_OK, 5,
     {"2025-12-31T23:00:00Z", "2026-01-01T23:00:00Z", "2026-01-02T23:00:00Z",
      "2026-01-03T23:00:00Z", "2026-01-04T23:00:00Z"}, NULL},

    /* ---- DST ---- */
    {"weekly 09:00 Berlin across the March change", BER, false, "2026-03-16T09:00:00+01:00",
     {"RRULE:FREQ=WEEKLY"}, "2026-03-01T00:00:00Z", "2026-04-10T00:00:00Z", 0, PL_OK, 4,
     {"2026-03-16T08:00:00Z", "2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z",
      "2026-04-06T07:00:00Z"}, NULL},
    {"weekly 09:00 Berlin across the October change", BER, false, "2026-03-16T09:00:00+01:00",
     {"RRULE:FREQ=WEEKLY"}, "2026-10-10T00:00:00Z", "2026-11-05T00:00:00Z", 0, PL_OK, 4,
     {"2026-10-12T07:00:00Z", "2026-10-19T07:00:00Z", "2026-10-26T08:00:00Z",
      "2026-11-02T08:00:00Z"}, NULL},
    /* 02:30 does not exist on 2025-03-30: read with the offset before the gap, 03:30 CEST. */
    {"daily 02:30 Berlin on the spring-forward day", BER, false, "2025-03-28T02:30:00+01:00",
     {"RRULE:FREQ=DAILY;COUNT=4"}, NULL, NULL, 0, PL_OK, 4,
     {"2025-03-28T01:30:00Z", "2025-03-29T01:30:00Z", "2025-03-30T01:30:00Z",
      "2025-03-31T00:30:00Z"}, NULL},
    /* Hourly from 00:30: 02:30 (in the gap) and 03:30 are the same instant, counted twice. */
    {"hourly through the Berlin gap", BER, false, "2025-03-30T00:30:00+01:00",
     {"RRULE:FREQ=HOURLY;COUNT=5"}, NULL, NULL, 0, PL_OK, 4,
     {"2025-03-29T23:30:00Z", "2025-03-30T00:30:00Z", "2025-03-30T01:30:00Z",
      "2025-03-30T02:30:00Z"}, NULL},
    /* 01:30 happens twice on 2026-11-01: the first (EDT, 05:30Z) is meant. */
    {"daily 01:30 New York on the fall-back day", NY, false, "2026-10-30T01:30:00-04:00",
     {"RRULE:FREQ=DAILY;COUNT=4"}, NULL, NULL, 0, PL_OK, 4,
     {"2026-10-30T05:30:00Z", "2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z",
      "2026-11-02T06:30:00Z"}, NULL},
    /* A DTSTART on the second 01:30 keeps its own instant. */
    {"DTSTART on the second 01:30 of New York's fall-back", NY, false,
     "2026-11-01T01:30:00-05:00", {"RRULE:FREQ=DAILY;COUNT=2"}, NULL, NULL, 0, PL_OK, 2,
     {"2026-11-01T06:30:00Z", "2026-11-02T06:30:00Z"}, NULL},
    /* UNTIL is an instant: 08:00Z is 09:00 in Berlin, so January 5 is the last. */
    {"UNTIL in UTC equal to the last start", BER, false, "2026-01-01T09:00:00+01:00",
     {"RRULE:FREQ=DAILY;UNTIL=20260105T080000Z"}, NULL, NULL, 0, PL_OK, 5,
     {"2026-01-01T08:00:00Z", "2026-01-02T08:00:00Z", "2026-01-03T08:00:00Z",
      "2026-01-04T08:00:00Z", "2026-01-05T08:00:00Z"}, NULL},
    {"UNTIL in UTC one second before", BER, false, "2026-01-01T09:00:00+01:00",
     {"RRULE:FREQ=DAILY;UNTIL=20260105T075959Z"}, NULL, NULL, 0, PL_OK, 4,
     {"2026-01-01T08:00:00Z", "2026-01-02T08:00:00Z", "2026-01-03T08:00:00Z",
      "2026-01-04T08:00:00Z"}, NULL},
    {"UNTIL as floating local time", BER, false, "2026-01-01T09:00:00+01:00",
     {"RRULE:FREQ=DAILY;UNTIL=20260105T090000"}, NULL, NULL, 0, PL_OK, 5,
     {"2026-01-01T08:00:00Z", "2026-01-02T08:00:00Z", "2026-01-03T08:00:00Z",
      "2026-01-04T08:00:00Z", "2026-01-05T08:00:00Z"}, NULL},

    /* ---- windows and limits ---- */
    /* [from, to): a start at `from` is in, one at `to` is out. */
    {"window clipping, half-open", BER, false, "2020-01-06T09:00:00+01:00",
     {"RRULE:FREQ=WEEKLY;BYDAY=MO"}, "2026-01-12T08:00:00Z", "2026-02-02T08:00:00Z", 0, PL_OK, 3,
     {"2026-01-12T08:00:00Z", "2026-01-19T08:00:00Z", "2026-01-26T08:00:00Z"}, NULL},
    {"window before DTSTART is empty", BER, false, "2026-01-06T09:00:00+01:00",
     {"RRULE:FREQ=DAILY"}, "2025-01-01T00:00:00Z", "2026-01-06T08:00:00Z", 0, PL_OK, 0, {NULL},
     NULL},
    {"exactly max occurrences", "UTC", false, "2026-01-01T09:00:00Z", {"RRULE:FREQ=DAILY"},
     "2026-01-01T00:00:00Z", "2026-01-11T00:00:00Z", 10, PL_OK, 10, {"2026-01-01T09:00:00Z"},
     "2026-01-10T09:00:00Z"},
    {"more than max occurrences", "UTC", false, "2026-01-01T09:00:00Z", {"RRULE:FREQ=DAILY"},
     "2026-01-01T00:00:00Z", "2026-01-11T00:00:00Z", 5, PL_ETOOBIG, 0, {NULL}, NULL},
    /* Six years of seconds are skipped, not iterated. */
    {"FREQ=SECONDLY far after DTSTART", "UTC", false, "2020-01-01T00:00:00Z",
     {"RRULE:FREQ=SECONDLY"}, "2026-01-01T00:00:00Z", "2026-01-01T00:00:10Z", 0, PL_OK, 10,
     {"2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"},
     "2026-01-01T00:00:09Z"},
    /* With COUNT nothing can be skipped; the steps run out first. */
    {"FREQ=SECONDLY with COUNT too far away", "UTC", false, "2020-01-01T00:00:00Z",
     {"RRULE:FREQ=SECONDLY;COUNT=999999999"}, "2026-01-01T00:00:00Z", "2026-01-01T00:00:10Z",
     0, PL_ETOOBIG, 0, {NULL}, NULL},
    /* Never matches (day 366 is a December 31): libical alone would look up to the year 2582
     * inside one call. */
    {"FREQ=HOURLY that never matches ends quickly", "UTC", false, "2026-01-01T00:00:00Z",
     {"RRULE:FREQ=HOURLY;BYYEARDAY=366;BYMONTHDAY=1"}, "2026-01-02T00:00:00Z",
     "2027-01-01T00:00:00Z", 0, PL_OK, 0, {NULL}, NULL},
};

static int64_t at(const char *text)
{
    int64_t us = 0;
    struct pl_error err = {0};
    cr_assert(eq(int, core_time_parse(text, "t", &us, &err), PL_OK), "%s: %s", text, err.detail);
    return us;
}

static size_t count_lines(const char *const *lines, size_t cap)
{
    size_t n = 0;
    while (n < cap && lines[n])
        n++;
    return n;
}

/* core_recur_parse over the non-NULL head of a table's fixed array of lines. */
#define PARSE_TABLE(lines, tz, all_day, a, norm, err)                                         \
    core_recur_parse((lines), count_lines((lines), ARRAY_LEN(lines)), (tz), (all_day), (a),   \
                     (norm), (err))

/* Parse `c`'s lines into a series allocated from `a`. */
static struct recur_series series_of(const struct expand_case *c, struct arena *a)
{
    char *norm = NULL;
    struct pl_error err = {0};
    int rc = PARSE_TABLE(c->lines, c->tz, c->all_day, a, &norm, &err);
    cr_assert(eq(int, rc, PL_OK), "%s: parse: %s %s", c->name, err.field, err.detail);
    return (struct recur_series){norm, at(c->dtstart), c->tz, c->all_day};
}

Test(core_recur, expand_table)
{
    for (size_t i = 0; i < ARRAY_LEN(expand_cases); i++) {
        const struct expand_case *c = &expand_cases[i];
        struct arena *a = arena_new(1024);
        struct recur_series s = series_of(c, a);
        int64_t from = c->from ? at(c->from) : at("1990-01-01T00:00:00Z");
        int64_t to = c->to ? at(c->to) : at("2100-01-01T00:00:00Z");
        int64_t *starts = NULL;
        size_t n = 42;
        struct pl_error err = {0};
        int rc = core_recur_expand(&s, from, to, c->max ? c->max : CORE_RECUR_MAX_PER_SERIES, a,
                                   &starts, &n, &err);
        cr_expect(eq(int, rc, c->rc), "%s: %s", c->name, err.detail);
        if (rc != PL_OK || c->rc != PL_OK) {
            cr_expect(eq(str, err.field, "recurrence"), "%s", c->name);
            arena_free(a);
            continue;
        }
        cr_expect(eq(sz, n, c->n), "%s", c->name);
        for (size_t k = 0; k < n && k < WANT_MAX && c->want[k]; k++) {
            char got[CORE_TIME_TEXT_MAX];
            core_time_format(starts[k], got);
            cr_expect(eq(str, got, (char *)c->want[k]), "%s: occurrence %zu", c->name, k);
        }
        if (c->last && n > 0) {
            char got[CORE_TIME_TEXT_MAX];
            core_time_format(starts[n - 1], got);
            cr_expect(eq(str, got, (char *)c->last), "%s: last", c->name);
        }
        for (size_t k = 1; k < n; k++)
            cr_expect(lt(i64, starts[k - 1], starts[k]), "%s: ascending at %zu", c->name, k);
        arena_free(a);
    }
}

/* Every window agrees with the whole: each 9-day slice of a year of a DST-crossing series
 * holds exactly the starts of the full expansion that fall in it. */
Test(core_recur, windows_agree_with_the_whole)
{
    static const char *const rules[] = {
        "RRULE:FREQ=DAILY;BYDAY=MO,WE,FR", "RRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=SU,TU;WKST=SA",
        "RRULE:FREQ=HOURLY;INTERVAL=5;BYMONTH=3,10,11",
        "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "RRULE:FREQ=YEARLY;BYWEEKNO=1,13,-1;BYDAY=SU,MO",
    };
    for (size_t r = 0; r < ARRAY_LEN(rules); r++) {
        struct arena *a = arena_new(1024);
        const char *lines[] = {rules[r]};
        char *norm;
        cr_assert(eq(int, core_recur_parse(lines, 1, BER, false, a, &norm, NULL), PL_OK), "%s",
                  rules[r]);
        struct recur_series s = {norm, at("2025-01-01T02:30:00+01:00"), BER, false};
        int64_t from = at("2025-01-01T00:00:00Z"), to = at("2026-01-01T00:00:00Z");
        int64_t *all, *part;
        size_t n_all, n_part, k = 0;
        cr_assert(eq(int, core_recur_expand(&s, from, to, 5000, a, &all, &n_all, NULL), PL_OK));
        cr_assert(gt(sz, n_all, 5), "%s", rules[r]);
        for (int64_t lo = from; lo < to; lo += 9 * 86400 * INT64_C(1000000)) {
            int64_t hi = lo + 9 * 86400 * INT64_C(1000000) < to ? lo + 9 * 86400 * INT64_C(1000000)
                                                                 : to;
            cr_assert(eq(int, core_recur_expand(&s, lo, hi, 5000, a, &part, &n_part, NULL), PL_OK));
            for (size_t j = 0; j < n_part; j++, k++) {
                cr_assert(lt(sz, k, n_all), "%s", rules[r]);
                cr_assert(eq(i64, part[j], all[k]), "%s: start %zu", rules[r], k);
            }
        }
        cr_expect(eq(sz, k, n_all), "%s", rules[r]);
        arena_free(a);
    }
}

/* ---- core_recur_last ------------------------------------------------------------------- */

static const struct {
    const char *tz;
    bool all_day;
    const char *dtstart;
    const char *lines[3];
    const char *want; /* NULL: recurs forever */
} last_cases[] = {
    {NY, false, "1997-09-02T09:00:00-04:00", {"RRULE:FREQ=DAILY;COUNT=10"}, "1997-09-11T13:00:00Z"},
    {NY, false, "1997-09-02T09:00:00-04:00", {"RRULE:FREQ=DAILY;UNTIL=19971224T000000Z"},
     "1997-12-23T14:00:00Z"},
    {BER, false, "2026-01-01T09:00:00+01:00", {"RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3"},
     "2026-01-12T08:00:00Z"},
    {BER, false, "2026-01-01T09:00:00+01:00", {"RRULE:FREQ=WEEKLY"}, NULL},
    {BER, false, "2026-01-01T09:00:00+01:00", {NULL}, "2026-01-01T08:00:00Z"},
    {BER, false, "2026-01-01T09:00:00+01:00", {"RDATE:20260301T100000Z", "RDATE:20260201T100000Z"},
     "2026-03-01T10:00:00Z"},
    {BER, false, "2026-01-01T09:00:00+01:00",
     {"RRULE:FREQ=DAILY;COUNT=2", "RDATE:20270101T000000Z"}, "2027-01-01T00:00:00Z"},
    {BER, true, "2026-12-22T00:00:00+01:00", {"RRULE:FREQ=DAILY;UNTIL=20261226"},
     "2026-12-25T23:00:00Z"},
    /* A DTSTART after UNTIL is still the (only) occurrence. */
    {BER, false, "2026-01-01T09:00:00+01:00", {"RRULE:FREQ=DAILY;UNTIL=20251201T000000Z"},
     "2026-01-01T08:00:00Z"},
};

Test(core_recur, last_table)
{
    for (size_t i = 0; i < ARRAY_LEN(last_cases); i++) {
        struct arena *a = arena_new(1024);
        char *norm;
        struct pl_error err = {0};
        int rc = PARSE_TABLE(last_cases[i].lines, last_cases[i].tz, last_cases[i].all_day, a,
                             &norm, &err);
        cr_assert(eq(int, rc, PL_OK), "case %zu: %s", i, err.detail);
        struct recur_series s = {norm, at(last_cases[i].dtstart), last_cases[i].tz,
                                 last_cases[i].all_day};
        int64_t last = 0;
        cr_assert(eq(int, core_recur_last(&s, &last, &err), PL_OK), "case %zu: %s", i, err.detail);
        if (last_cases[i].want == NULL) {
            cr_expect(eq(i64, last, INT64_MAX), "case %zu", i);
        } else {
            char got[CORE_TIME_TEXT_MAX];
            core_time_format(last, got);
            cr_expect(eq(str, got, (char *)last_cases[i].want), "case %zu", i);
        }
        arena_free(a);
    }
}

/* A series too long to walk within the step limit gets an upper bound, not an error. */
Test(core_recur, last_of_a_long_walk_is_an_upper_bound)
{
    struct arena *a = arena_new(1024);
    const char *lines[] = {"RRULE:FREQ=MINUTELY;UNTIL=20280101T000000Z"};
    char *norm;
    cr_assert(eq(int, core_recur_parse(lines, 1, "UTC", false, a, &norm, NULL), PL_OK));
    struct recur_series s = {norm, at("2026-01-01T00:00:30Z"), "UTC", false};
    int64_t last = 0;
    cr_assert(eq(int, core_recur_last(&s, &last, NULL), PL_OK));
    cr_expect(eq(i64, last, at("2028-01-01T00:00:00Z"))); /* the last start is 23:59:30 */
    arena_free(a);
}

/* ---- core_recur_has -------------------------------------------------------------------- */

Test(core_recur, has)
{
    struct arena *a = arena_new(1024);
    const char *lines[] = {"RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4", "EXDATE:20260112T080000Z",
                           "RDATE:20260301T100000Z"};
    char *norm;
    cr_assert(eq(int, core_recur_parse(lines, 3, BER, false, a, &norm, NULL), PL_OK));
    struct recur_series s = {norm, at("2026-01-01T09:00:00+01:00"), BER, false};
    static const struct {
        const char *at;
        bool want;
    } probes[] = {
        {"2026-01-01T08:00:00Z", true},  /* DTSTART, a Thursday */
        {"2026-01-05T08:00:00Z", true},  /* Monday */
        {"2026-01-05T08:00:01Z", false}, /* a second later */
        {"2026-01-12T08:00:00Z", false}, /* excluded */
        {"2026-01-19T08:00:00Z", true},  /* the fourth of COUNT=4 */
        {"2026-01-26T08:00:00Z", false}, /* past COUNT */
        {"2026-03-01T10:00:00Z", true},  /* RDATE */
        {"2025-12-29T08:00:00Z", false}, /* before DTSTART */
    };
    for (size_t i = 0; i < ARRAY_LEN(probes); i++)
        cr_expect(eq(int, core_recur_has(&s, at(probes[i].at)), probes[i].want), "%s",
                  probes[i].at);
    /* A series whose lines do not parse has no occurrences. */
    struct recur_series bad = {"RRULE:FREQ=NEVER", s.dtstart_us, BER, false};
    cr_expect(not(core_recur_has(&bad, s.dtstart_us)));
    arena_free(a);
}

/* A stored series whose lines were tampered with is refused, not expanded. */
Test(core_recur, expand_refuses_bad_stored_lines)
{
    struct arena *a = arena_new(1024);
    struct recur_series s = {"RRULE:FREQ=DAILY\nFOO:bar", at("2026-01-01T09:00:00Z"), "UTC", false};
    int64_t *starts;
    size_t n;
    struct pl_error err = {0};
    cr_expect(eq(int, core_recur_expand(&s, 0, INT64_MAX, 10, a, &starts, &n, &err), PL_EINVAL));
    cr_expect(eq(str, err.field, "recurrence[1]"));
    int64_t last;
    cr_expect(eq(int, core_recur_last(&s, &last, NULL), PL_EINVAL));
    arena_free(a);
}

/* A series stored under another path to its zone's file (taken before core_tz_check held
 * input to a zone's own name) still expands, in that zone; a client cannot give it now. */
Test(core_recur, stored_series_in_another_name_of_its_zone_still_expands)
{
    struct arena *a = arena_new(1024);
    struct recur_series s = {"RRULE:FREQ=WEEKLY;COUNT=2", at("2026-03-23T08:00:00Z"),
                             "posix/Europe/Berlin", false};
    int64_t *starts;
    size_t n;
    struct pl_error err = {0};
    cr_assert(eq(int, core_recur_expand(&s, 0, INT64_MAX, 10, a, &starts, &n, &err), PL_OK),
              "%s", err.detail);
    char second[CORE_TIME_TEXT_MAX];
    core_time_format(starts[1], second);
    cr_expect(eq(sz, n, 2));
    cr_expect(eq(str, second, "2026-03-30T07:00:00Z")); /* 09:00 Berlin, summer time */
    char *normalized;
    const char *lines[] = {"RRULE:FREQ=WEEKLY;COUNT=2"};
    cr_expect(eq(int, core_recur_parse(lines, 1, "posix/Europe/Berlin", false, a, &normalized,
                                       &err),
                 PL_EINVAL));
    cr_expect(eq(str, err.field, "time_zone"));
    arena_free(a);
}

/* A numbered BYDAY within the month and a BYMONTHDAY that never meet: refused from the rule
 * alone, stored or not (libical searched to the year 20000 first, 0.12 s an expansion, and
 * the import stored such a series: test_fuzz_ical.py).  Rules where they can meet, some
 * years only, still expand. */
Test(core_recur, numbered_weekdays_that_never_fall_on_the_month_days)
{
    static const char *never[] = {
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU;BYMONTHDAY=-1",
        "RRULE:FREQ=MONTHLY;BYDAY=2SU,3SU;BYMONTHDAY=1,-1",
        "RRULE:FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=8",
        "RRULE:FREQ=MONTHLY;BYDAY=-1FR;BYMONTHDAY=1,2,3",
        "RRULE:FREQ=YEARLY;BYMONTH=4,6;BYDAY=1TU;BYMONTHDAY=-1,31",
    };
    static const char *sometimes[] = {
        "RRULE:FREQ=MONTHLY;BYDAY=-1SU;BYMONTHDAY=25,26,27,28,29,30,31",
        "RRULE:FREQ=YEARLY;BYMONTH=2;BYDAY=-1MO;BYMONTHDAY=22",
        "RRULE:FREQ=YEARLY;BYMONTH=2;BYDAY=5MO;BYMONTHDAY=-1", /* 29 February, a Monday */
        "RRULE:FREQ=MONTHLY;BYDAY=5FR;BYMONTHDAY=29",
        "RRULE:FREQ=MONTHLY;BYDAY=MO;BYMONTHDAY=-1",           /* unnumbered: any day */
        "RRULE:FREQ=YEARLY;BYMONTH=4,6;BYDAY=5TU;BYMONTHDAY=-1,31", /* 30 April or June */
    };
    struct arena *a = arena_new(1024);
    for (size_t i = 0; i < ARRAY_LEN(never) + ARRAY_LEN(sometimes); i++) {
        bool refused = i < ARRAY_LEN(never);
        const char *rule = refused ? never[i] : sometimes[i - ARRAY_LEN(never)];
        struct recur_series s = {rule, at("2026-01-01T09:00:00Z"), "UTC", false};
        int64_t *starts;
        size_t n = 0;
        struct pl_error err = {0};
        int rc = core_recur_expand(&s, 0, at("2100-01-01T00:00:00Z"), 5000, a, &starts, &n, &err);
        if (refused) {
            cr_expect(eq(int, rc, PL_EINVAL), "%s", rule);
            cr_expect(ne(ptr, strstr(err.detail, "BYMONTHDAY"), NULL), "%s: %s", rule, err.detail);
        } else {
            cr_expect(eq(int, rc, PL_OK), "%s: %s", rule, err.detail);
            cr_expect(gt(sz, n, 1), "%s", rule); /* more than DTSTART */
        }
    }
    arena_free(a);
}

/* ---- core_recur_parse: normalisation --------------------------------------------------- */

static const struct {
    const char *tz;
    bool all_day;
    const char *lines[4];
    const char *want;
} normal_cases[] = {
    /* BYSETPOS at the most days a period can have is taken (rule_check's bound is not
     * tighter than the calendar): a fifth Monday, a year's 53rd Monday. */
    {BER, false, {"RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-5"},
     "RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-5"},
    {BER, false, {"RRULE:FREQ=YEARLY;BYDAY=MO;BYSETPOS=53"},
     "RRULE:FREQ=YEARLY;BYDAY=MO;BYSETPOS=53"},
    /* Lower case, both EXDATE forms of one instant merged, values sorted, one per line. */
    {BER, false,
     {"rrule:freq=weekly;byday=mo,we;until=20270101T000000Z",
      "EXDATE;TZID=Europe/Berlin:20261208T090000,20261201T090000", "RDATE:20261224T100000Z",
      "EXDATE:20261201T080000Z"},
     "RRULE:FREQ=WEEKLY;UNTIL=20270101T000000Z;BYDAY=MO,WE\n"
     "EXDATE:20261201T080000Z\nEXDATE:20261208T080000Z\nRDATE:20261224T100000Z"},
    /* All-day: UNTIL in UTC becomes the local date (23:00Z is midnight in Berlin). */
    {BER, true, {"RRULE:FREQ=YEARLY;UNTIL=20301231T230000Z", "EXDATE;VALUE=DATE:20271224",
                 "RDATE:20261225"},
     "RRULE:FREQ=YEARLY;UNTIL=20310101\nEXDATE;VALUE=DATE:20271224\nRDATE;VALUE=DATE:20261225"},
    /* Timed: UNTIL as a date runs to the end of that local day; floating values are local. */
    {BER, false, {"RRULE:FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20261231", "EXDATE:20260101T090000"},
     "RRULE:FREQ=MONTHLY;UNTIL=20261231T225959Z;BYDAY=-1FR\nEXDATE:20260101T080000Z"},
    {NY, false, {"RRULE:FREQ=DAILY;UNTIL=20260601T120000"},
     "RRULE:FREQ=DAILY;UNTIL=20260601T160000Z"},
    {BER, false, {"RRULE:FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=TU,TH;COUNT=8"},
     "RRULE:FREQ=WEEKLY;COUNT=8;INTERVAL=2;BYDAY=TU,TH;WKST=SU"},
};

Test(core_recur, parse_normalizes)
{
    for (size_t i = 0; i < ARRAY_LEN(normal_cases); i++) {
        struct arena *a = arena_new(1024);
        char *norm = NULL;
        struct pl_error err = {0};
        int rc = PARSE_TABLE(normal_cases[i].lines, normal_cases[i].tz, normal_cases[i].all_day,
                             a, &norm, &err);
        cr_assert(eq(int, rc, PL_OK), "case %zu: %s %s", i, err.field, err.detail);
        cr_expect(eq(str, norm, (char *)normal_cases[i].want), "case %zu", i);
        /* Normal form is a fixed point. */
        const char *again[8];
        size_t n = 0;
        char *copy = arena_strdup(a, norm);
        for (char *l = copy; l && n < ARRAY_LEN(again);) {
            again[n++] = l;
            l = strchr(l, '\n');
            if (l)
                *l++ = '\0';
        }
        char *norm2 = NULL;
        cr_assert(eq(int, core_recur_parse(again, n, normal_cases[i].tz, normal_cases[i].all_day,
                                           a, &norm2, &err),
                     PL_OK),
                  "case %zu again: %s", i, err.detail);
        cr_expect(eq(str, norm2, norm), "case %zu again", i);
        arena_free(a);
    }
}

Test(core_recur, parse_empty_list_is_null)
{
    struct arena *a = arena_new(256);
    char *norm = (char *)"untouched";
    cr_expect(eq(int, core_recur_parse(NULL, 0, BER, false, a, &norm, NULL), PL_OK));
    cr_expect(eq(ptr, norm, NULL));
    arena_free(a);
}

/* ---- core_recur_parse: rejections ------------------------------------------------------ */

static const struct {
    const char *lines[3];
    bool all_day;
    const char *field;
    const char *note;
} bad_cases[] = {
    {{"RRULE:FREQ=DAILY", "RRULE:FREQ=WEEKLY"}, false, "recurrence[1]", "two RRULEs"},
    {{"RRULE:COUNT=3"}, false, "recurrence[0]", "no FREQ"},
    {{"RRULE:FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z"}, false, "recurrence[0]", "COUNT+UNTIL"},
    {{"EXDATE;TZID=Mars/Olympus_Mons:20261201T080000"}, false, "recurrence[0]", "unknown TZID"},
    {{"RRULE:FREQ=DAILY", "EXDATE;TZID=../../etc/passwd:20261201T080000"}, false,
     "recurrence[1]", "path in TZID"},
    {{"garbage"}, false, "recurrence[0]", "garbage"},
    {{"EXDATE:20261224"}, false, "recurrence[0]", "DATE value on a timed event"},
    {{"RDATE;VALUE=DATE:20261224"}, false, "recurrence[0]", "VALUE=DATE on a timed event"},
    {{"EXDATE:20261201T070000Z"}, true, "recurrence[0]", "DATE-TIME on an all-day event"},
    {{"RRULE:FREQ=DAILY", "FOO:bar"}, false, "recurrence[1]", "unknown property"},
    {{"RRULE:FREQ=DAILY;INTERVAL=70000"}, false, "recurrence[0]", "INTERVAL wraps in libical"},
    {{"RRULE:FREQ=DAILY;COUNT=1x"}, false, "recurrence[0]", "libical reads COUNT=1x as 1"},
    {{"RRULE:FREQ=DAILY;COUNT=0"}, false, "recurrence[0]", "COUNT=0"},
    {{"EXDATE:20261301T070000Z"}, false, "recurrence[0]", "month 13"},
    {{"EXDATE:20260230T070000Z"}, false, "recurrence[0]", "February 30"},
    {{"EXDATE:20261201T246000Z"}, false, "recurrence[0]", "24:60"},
    {{"EXDATE:2026-12-01"}, false, "recurrence[0]", "extended format"},
    {{"EXDATE:20261201T070000Z,"}, false, "recurrence[0]", "empty value"},
    {{"RRULE:FREQ=DAILY;UNTIL=20261301"}, false, "recurrence[0]", "UNTIL month 13"},
    {{"RRULE:FREQ=SOMETIMES"}, false, "recurrence[0]", "bad FREQ"},
    {{"RRULE:FREQ=MONTHLY;BYMONTHDAY=0"}, false, "recurrence[0]", "BYMONTHDAY=0"},
    {{"RRULE:FREQ=YEARLY;BYMONTH=13"}, false, "recurrence[0]", "BYMONTH=13"},
    {{"RRULE:FREQ=YEARLY;BYMONTH=5L"}, false, "recurrence[0]", "RFC 7529 leap month"},
    {{"RRULE:FREQ=DAILY;RSCALE=GREGORIAN"}, false, "recurrence[0]", "RSCALE"},
    {{"RRULE:FREQ=DAILY;X-NAME=1"}, false, "recurrence[0]", "unknown rule part"},
    {{"RRULE:FREQ=WEEKLY;BYDAY=1MO"}, false, "recurrence[0]", "numbered BYDAY in WEEKLY"},
    {{"RRULE:FREQ=WEEKLY;BYDAY=MO;BYSETPOS=1"}, false, "recurrence[0]", "BYSETPOS in WEEKLY"},
    {{"RRULE:FREQ=MONTHLY;BYDAY=MO;BYHOUR=9,17;BYSETPOS=1"}, false, "recurrence[0]",
     "BYSETPOS over several hours"},
    {{"RRULE:FREQ=MONTHLY;BYMONTHDAY=2,28,-2;BYSETPOS=-1"}, false, "recurrence[0]",
     "BYSETPOS over days named twice"},
    /* A BYSETPOS past the days a period can have: refused at once (libical searched to the
     * year 20000 first: 3.7 s). */
    {{"RRULE:FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=100"}, false, "recurrence[0]",
     "BYSETPOS past a month's days"},
    {{"RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-6"}, false, "recurrence[0]",
     "BYSETPOS past a month's Mondays"},
    {{"RRULE:FREQ=YEARLY;BYMONTH=1,2;BYMONTHDAY=1;BYSETPOS=3"}, false, "recurrence[0]",
     "BYSETPOS past the days BYMONTHDAY picks"},
    {{"RRULE:FREQ=YEARLY;BYDAY=1MO,-1FR;BYSETPOS=3"}, false, "recurrence[0]",
     "BYSETPOS past a year's numbered days"},
    {{"RRULE:FREQ=WEEKLY;BYMONTHDAY=1"}, false, "recurrence[0]", "BYMONTHDAY in WEEKLY"},
    {{"RRULE:FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30,-31"}, false, "recurrence[0]",
     "no such day in those months"},
    {{"RRULE:FREQ=MONTHLY;BYWEEKNO=1"}, false, "recurrence[0]", "BYWEEKNO in MONTHLY"},
    {{"RRULE:FREQ=HOURLY"}, true, "recurrence[0]", "HOURLY on an all-day event"},
    {{"RRULE:FREQ=DAILY;BYHOUR=9"}, true, "recurrence[0]", "BYHOUR on an all-day event"},
    {{"RDATE;VALUE=PERIOD:20261201T070000Z/PT1H"}, false, "recurrence[0]", "RDATE period"},
    {{"RRULE;X-FOO=1:FREQ=DAILY"}, false, "recurrence[0]", "RRULE parameter"},
    {{"EXDATE;X-FOO=1:20261201T070000Z"}, false, "recurrence[0]", "unknown parameter"},
    {{"EXDATE;TZID=Europe/Berlin:20261201T070000Z"}, false, "recurrence[0]", "TZID with UTC"},
    {{"EXDATE;VALUE=DATE:20261224T100000"}, false, "recurrence[0]", "VALUE=DATE, date-time"},
    {{"EXDATE:20261201T070000Z\nRRULE:FREQ=DAILY"}, false, "recurrence[0]", "newline inside"},
    {{""}, false, "recurrence[0]", "empty line"},
    {{"RRULE"}, false, "recurrence[0]", "name only"},
};

Test(core_recur, parse_rejects)
{
    for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++) {
        struct arena *a = arena_new(256);
        char *norm = (char *)"untouched";
        struct pl_error err = {0};
        int rc = PARSE_TABLE(bad_cases[i].lines, BER, bad_cases[i].all_day, a, &norm, &err);
        cr_expect(eq(int, rc, PL_EINVAL), "%s", bad_cases[i].note);
        cr_expect(eq(int, err.status, PL_EINVAL), "%s", bad_cases[i].note);
        cr_expect(eq(str, err.field, (char *)bad_cases[i].field), "%s", bad_cases[i].note);
        cr_expect(ne(str, err.detail, ""), "%s", bad_cases[i].note);
        arena_free(a);
    }
}

Test(core_recur, parse_limits)
{
    struct arena *a = arena_new(1024);
    char *norm;
    struct pl_error err = {0};
    /* A NULL entry. */
    const char *with_null[] = {"RRULE:FREQ=DAILY", NULL};
    cr_expect(eq(int, core_recur_parse(with_null, 2, BER, false, a, &norm, &err), PL_EINVAL));
    cr_expect(eq(str, err.field, "recurrence[1]"));
    /* CORE_RECUR_LINES_MAX lines pass, one more does not. */
    const char *many[CORE_RECUR_LINES_MAX + 1];
    for (size_t i = 0; i < ARRAY_LEN(many); i++)
        many[i] = arena_printf(a, "EXDATE:202601%02zuT080000Z", i % 28 + 1);
    cr_expect(eq(int, core_recur_parse(many, CORE_RECUR_LINES_MAX, BER, false, a, &norm, &err),
                 PL_OK), "%s", err.detail);
    cr_expect(eq(int, core_recur_parse(many, CORE_RECUR_LINES_MAX + 1, BER, false, a, &norm, &err),
                 PL_EINVAL));
    cr_expect(eq(str, err.field, "recurrence"));
    /* A line of more than CORE_RECUR_LINE_MAX bytes. */
    char *longline = arena_alloc(a, CORE_RECUR_LINE_MAX + 2);
    memset(longline, 'X', CORE_RECUR_LINE_MAX + 1);
    memcpy(longline, "EXDATE:", 7);
    longline[CORE_RECUR_LINE_MAX + 1] = '\0';
    const char *one[] = {longline};
    cr_expect(eq(int, core_recur_parse(one, 1, BER, false, a, &norm, &err), PL_EINVAL));
    cr_expect(eq(str, err.field, "recurrence[0]"));
    /* At most 1000 EXDATE and RDATE values in all (here 250 per line). */
    const char *values[5];
    for (size_t l = 0; l < ARRAY_LEN(values); l++) {
        char *line = arena_alloc(a, 8 + 250 * 9);
        size_t used = (size_t)snprintf(line, 8, "RDATE:");
        for (int v = 0; v < 250; v++)
            used += (size_t)snprintf(line + used, 10, "%s%04d0101", v ? "," : "", 2100 + v);
        values[l] = line;
    }
    cr_expect(eq(int, core_recur_parse(values, 4, BER, true, a, &norm, &err), PL_OK), "%s",
              err.detail);
    cr_expect(eq(int, core_recur_parse(values, 5, BER, true, a, &norm, &err), PL_EINVAL));
    cr_expect(eq(str, err.field, "recurrence"));
    /* The event's zone must be known. */
    const char *rule[] = {"RRULE:FREQ=DAILY"};
    cr_expect(eq(int, core_recur_parse(rule, 1, "Mars/Base", false, a, &norm, &err), PL_EINVAL));
    cr_expect(eq(str, err.field, "time_zone"));
    arena_free(a);
}

/* A BYSETPOS no period can reach is refused by its bound, before libical is asked (which
 * searched to the year 20000 first: 3.7 s a rule), and the answer says why. */
Test(core_recur, set_pos_past_the_period_is_refused_by_its_bound)
{
    static const struct {
        const char *line, *want;
    } cases[] = {
        {"RRULE:FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=100", "more days than a month of this rule has (10)"},
        {"RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-6", "more days than a month of this rule has (5)"},
        {"RRULE:FREQ=YEARLY;BYMONTH=1,2;BYMONTHDAY=1;BYSETPOS=3",
         "more days than a year of this rule has (2)"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct arena *a = arena_new(256);
        char *norm = NULL;
        struct pl_error err = {0};
        const char *lines[] = {cases[i].line};
        cr_expect(eq(int, core_recur_parse(lines, 1, BER, false, a, &norm, &err), PL_EINVAL));
        cr_expect(strstr(err.detail, cases[i].want) != NULL, "%s: %s", cases[i].line, err.detail);
        arena_free(a);
    }
}
