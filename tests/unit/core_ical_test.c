/* core/ical: parsing a representative iCalendar file (time zones, all-day, recurrence with
 * EXDATE, an override, attendees, alarms, X- properties, folded lines, escaped text), line-
 * numbered errors for broken VEVENTs next to good ones, and the writer: folding, escaping,
 * busy-only events, and write -> parse round trips that keep every field and the properties
 * the model does not know.  Expected instants were computed with Python's zoneinfo. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "arena.h"
#include "core/ical.h"

#include <libical/ical.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define US INT64_C(1000000)
#define MIN_US (INT64_C(60) * US)
#define HOUR_US (INT64_C(3600) * US)

static struct arena *a;

static void setup(void)
{
    icalerror_set_errors_are_fatal(0);
    a = arena_new(64 * 1024);
}

static void teardown(void)
{
    arena_free(a);
}

TestSuite(core_ical, .init = setup, .fini = teardown);

/* The text as CRLF lines: the fixtures below are written with \n for legibility. */
static char *crlf(const char *text, size_t *len)
{
    size_t n = strlen(text), w = 0;
    char *out = arena_alloc(a, 2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\n')
            out[w++] = '\r';
        out[w++] = text[i];
    }
    out[w] = '\0';
    *len = w;
    return out;
}

struct parsed {
    struct ical_event *ev;
    size_t n;
    struct ical_error *errors;
    size_t nerrors;
};

static struct parsed parse_ok(const char *text, size_t len, const char *tz)
{
    struct parsed p;
    struct pl_error err = {0};
    int rc = core_ical_parse(text, len, tz, a, &p.ev, &p.n, &p.errors, &p.nerrors, &err);
    cr_assert(eq(int, rc, PL_OK), "parse failed: %s", err.detail);
    return p;
}

static const struct ical_event *by_uid(const struct parsed *p, const char *uid, bool override)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->ev[i].ev.uid, uid) == 0 && (p->ev[i].ev.recurrence_id != 0) == override)
            return &p->ev[i];
    cr_fatal("no event %s", uid);
    return NULL;
}

/* ---- a representative file ---------------------------------------------------------------- */

static const char representative[] =
    "BEGIN:VCALENDAR\n"                                                   /* 1 */
    "VERSION:2.0\n"
    "PRODID:-//Example//Exporter 1.0//EN\n"
    "X-WR-CALNAME:Team\n"
    "BEGIN:VTIMEZONE\n"                                                   /* 5 */
    "TZID:W. Europe Standard Time\n"
    "BEGIN:STANDARD\n"
    "DTSTART:16010101T030000\n"
    "TZOFFSETFROM:+0200\n"
    "TZOFFSETTO:+0100\n"                                                  /* 10 */
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\n"
    "END:STANDARD\n"
    "BEGIN:DAYLIGHT\n"
    "DTSTART:16010101T020000\n"
    "TZOFFSETFROM:+0100\n"                                                /* 15 */
    "TZOFFSETTO:+0200\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\n"
    "END:DAYLIGHT\n"
    "END:VTIMEZONE\n"
    "BEGIN:VEVENT\n"                                                      /* 20 */
    "UID:weekly-1@example.org\n"
    "DTSTAMP:20260101T000000Z\n"
    "DTSTART;TZID=Europe/Berlin:20261201T090000\n"
    "DTEND;TZID=Europe/Berlin:20261201T100000\n"
    "SUMMARY:Weekly sync\\, team A\\; room 1\n"                           /* 25 */
    "DESCRIPTION:Agenda:\\n1. news\\n2. plans\\, with a line long enough to be fo\n"
    " lded across two physical lines \\\\ backslash\n"
    "LOCATION:Room 1\n"
    "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=10\n"
    "EXDATE;TZID=Europe/Berlin:20261208T090000,20261215T090000\n"        /* 30 */
    "ORGANIZER;CN=Ann Organizer:mailto:ann@example.org\n"
    "ATTENDEE;CN=Ann Organizer;PARTSTAT=ACCEPTED:mailto:ann@example.org\n"
    "ATTENDEE;CN=\"Bob, Jr.\";PARTSTAT=TENTATIVE;RSVP=TRUE:MAILTO:Bob@Example.org\n"
    "ATTENDEE;CUTYPE=ROOM;CN=Room 1:mailto:room1@example.org\n"
    "ATTENDEE;PARTSTAT=DECLINED:mailto:carol@example.org\n"               /* 35 */
    "X-CUSTOM;X-PARAM=1:kept value\n"
    "CATEGORIES:work,weekly\n"
    "SEQUENCE:3\n"
    "CLASS:PRIVATE\n"
    "BEGIN:VALARM\n"                                                      /* 40 */
    "ACTION:DISPLAY\n"
    "DESCRIPTION:Reminder\n"
    "TRIGGER:-PT15M\n"
    "END:VALARM\n"
    "BEGIN:VALARM\n"                                                      /* 45 */
    "ACTION:AUDIO\n"
    "TRIGGER;RELATED=START:-P1D\n"
    "END:VALARM\n"
    "BEGIN:VALARM\n"
    "ACTION:DISPLAY\n"                                                    /* 50 */
    "DESCRIPTION:At the end\n"
    "TRIGGER;RELATED=END:-PT5M\n"
    "END:VALARM\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"                                                      /* 55 */
    "UID:weekly-1@example.org\n"
    "RECURRENCE-ID;TZID=Europe/Berlin:20261222T090000\n"
    "DTSTART;TZID=Europe/Berlin:20261222T110000\n"
    "DTEND;TZID=Europe/Berlin:20261222T120000\n"
    "SUMMARY:Weekly sync (moved)\n"                                       /* 60 */
    "SEQUENCE:4\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"
    "UID:holiday@example.org\n"
    "DTSTART;VALUE=DATE:20261224\n"                                       /* 65 */
    "DTEND;VALUE=DATE:20261227\n"
    "SUMMARY:Holidays\n"
    "STATUS:TENTATIVE\n"
    "RRULE:FREQ=YEARLY\n"
    "EXDATE;VALUE=DATE:20271224\n"                                        /* 70 */
    "TRANSP:TRANSPARENT\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"
    "UID:outlook@example.org\n"
    "DTSTART;TZID=W. Europe Standard Time:20260701T100000\n"             /* 75 */
    "DURATION:PT1H30M\n"
    "SUMMARY:Outlook meeting\n"
    "END:VEVENT\n"
    "BEGIN:VTODO\n"
    "UID:todo@example.org\n"                                              /* 80 */
    "SUMMARY:Not an event\n"
    "END:VTODO\n"
    "BEGIN:VEVENT\n"
    "UID:utc@example.org\n"
    "DTSTART:20261103T150000Z\n"                                          /* 85 */
    "DTEND:20261103T153000Z\n"
    "SUMMARY:UTC call\n"
    "CLASS:PUBLIC\n"
    "STATUS:CANCELLED\n"
    "END:VEVENT\n"                                                        /* 90 */
    "BEGIN:VEVENT\n"
    "UID:floating@example.org\n"
    "DTSTART:20261103T150000\n"
    "DTEND:20261103T153000\n"
    "END:VEVENT\n"                                                        /* 95 */
    "BEGIN:VEVENT\n"
    "UID:prefixed@example.org\n"
    "DTSTART;TZID=/freeassociation.sourceforge.net/America/New_York:20260307T090000\n"
    "DURATION:P1D\n"
    "SUMMARY:Across the spring-forward night\n"                           /* 100 */
    "END:VEVENT\n"
    "END:VCALENDAR\n";

Test(core_ical, parses_a_representative_file)
{
    size_t len;
    char *text = crlf(representative, &len);
    struct parsed p = parse_ok(text, len, "Europe/Moscow");
    cr_assert(eq(sz, p.nerrors, 0), "unexpected error at line %d: %s",
              p.nerrors ? p.errors[0].line : 0, p.nerrors ? p.errors[0].message : "");
    cr_assert(eq(sz, p.n, 7));

    const struct ical_event *w = by_uid(&p, "weekly-1@example.org", false);
    cr_expect(eq(int, w->line, 20));
    cr_expect(eq(str, (char *)w->ev.time_zone, "Europe/Berlin"));
    cr_expect(eq(i64, w->ev.start_us, INT64_C(1796112000) * US));
    cr_expect(eq(i64, w->ev.end_us, INT64_C(1796112000) * US + HOUR_US));
    cr_expect(not(w->ev.all_day));
    cr_expect(eq(str, (char *)w->ev.title, "Weekly sync, team A; room 1"));
    cr_expect(eq(str, (char *)w->ev.description,
                 "Agenda:\n1. news\n2. plans, with a line long enough to be folded across two"
                 " physical lines \\ backslash"));
    cr_expect(eq(str, (char *)w->ev.location, "Room 1"));
    cr_expect(eq(str, (char *)w->ev.recurrence,
                 "RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=TU\n"
                 "EXDATE:20261208T080000Z\n"
                 "EXDATE:20261215T080000Z"));
    cr_expect(eq(i64, w->ev.sequence, 3));
    cr_expect(eq(int, w->ev.visibility, EVENT_VISIBILITY_PRIVATE));
    cr_expect(eq(int, w->ev.status, EVENT_STATUS_CONFIRMED));
    cr_expect(eq(i64, w->ev.recurrence_id, 0));
    cr_expect(eq(str, (char *)w->organizer_email, "ann@example.org"));
    cr_expect(eq(str, (char *)w->organizer_name, "Ann Organizer"));
    cr_assert(eq(sz, w->nattendees, 3));
    cr_expect(eq(str, (char *)w->attendees[0].email, "ann@example.org"));
    cr_expect(eq(int, w->attendees[0].role, PARTICIPANT_ORGANIZER));
    cr_expect(eq(int, w->attendees[0].rsvp, RSVP_ACCEPTED));
    cr_expect(eq(str, (char *)w->attendees[1].email, "bob@example.org"));
    cr_expect(eq(str, (char *)w->attendees[1].name, "Bob, Jr."));
    cr_expect(eq(int, w->attendees[1].role, PARTICIPANT_ATTENDEE));
    cr_expect(eq(int, w->attendees[1].rsvp, RSVP_TENTATIVE));
    cr_expect(eq(str, (char *)w->attendees[2].email, "carol@example.org"));
    cr_expect(eq(str, (char *)w->attendees[2].name, ""));
    cr_expect(eq(int, w->attendees[2].rsvp, RSVP_DECLINED));
    cr_assert(eq(sz, w->nreminders, 2));
    cr_expect(eq(int, w->reminders[0], 15));
    cr_expect(eq(int, w->reminders[1], 1440));
    /* The room attendee, unknown properties and the alarm that is no reminder, verbatim. */
    cr_expect(eq(str, (char *)w->ev.ical_extra,
                 "ATTENDEE;CUTYPE=ROOM;CN=Room 1:mailto:room1@example.org\n"
                 "X-CUSTOM;X-PARAM=1:kept value\n"
                 "CATEGORIES:work,weekly\n"
                 "BEGIN:VALARM\n"
                 "ACTION:DISPLAY\n"
                 "DESCRIPTION:At the end\n"
                 "TRIGGER;RELATED=END:-PT5M\n"
                 "END:VALARM"));

    const struct ical_event *o = by_uid(&p, "weekly-1@example.org", true);
    cr_expect(eq(int, o->line, 55));
    cr_expect(eq(i64, o->ev.recurrence_id, INT64_C(1797926400) * US));
    cr_expect(eq(i64, o->ev.start_us, INT64_C(1797933600) * US));
    cr_expect(eq(i64, o->ev.end_us, INT64_C(1797933600) * US + HOUR_US));
    cr_expect(eq(ptr, (void *)o->ev.recurrence, NULL));
    cr_expect(eq(str, (char *)o->ev.title, "Weekly sync (moved)"));
    cr_expect(eq(i64, o->ev.sequence, 4));
    cr_expect(eq(ptr, (void *)o->ev.ical_extra, NULL));

    const struct ical_event *h = by_uid(&p, "holiday@example.org", false);
    cr_expect(h->ev.all_day);
    cr_expect(eq(str, (char *)h->ev.time_zone, "Europe/Moscow"));
    cr_expect(eq(i64, h->ev.start_us, INT64_C(1798059600) * US));
    cr_expect(eq(i64, h->ev.end_us, INT64_C(1798318800) * US));
    cr_expect(eq(int, h->ev.status, EVENT_STATUS_TENTATIVE));
    cr_expect(eq(str, (char *)h->ev.recurrence, "RRULE:FREQ=YEARLY\nEXDATE;VALUE=DATE:20271224"));
    cr_expect(eq(str, (char *)h->ev.ical_extra, "TRANSP:TRANSPARENT"));

    /* A zone only the file's VTIMEZONE defines: converted with it (CEST in July), kept in
     * the default zone. */
    const struct ical_event *x = by_uid(&p, "outlook@example.org", false);
    cr_expect(eq(str, (char *)x->ev.time_zone, "Europe/Moscow"));
    cr_expect(eq(i64, x->ev.start_us, INT64_C(1782892800) * US));
    cr_expect(eq(i64, x->ev.end_us, INT64_C(1782892800) * US + 90 * MIN_US));

    const struct ical_event *u = by_uid(&p, "utc@example.org", false);
    cr_expect(eq(str, (char *)u->ev.time_zone, "Europe/Moscow"));
    cr_expect(eq(i64, u->ev.start_us, INT64_C(1793718000) * US));
    cr_expect(eq(int, u->ev.status, EVENT_STATUS_CANCELLED));
    cr_expect(eq(int, u->ev.visibility, EVENT_VISIBILITY_DEFAULT));

    /* Floating: read in the default zone.  No SUMMARY: the placeholder title. */
    const struct ical_event *fl = by_uid(&p, "floating@example.org", false);
    cr_expect(eq(i64, fl->ev.start_us, INT64_C(1793707200) * US));
    cr_expect(eq(i64, fl->ev.end_us, INT64_C(1793707200) * US + 30 * MIN_US));
    cr_expect(eq(str, (char *)fl->ev.title, CORE_ICAL_UNTITLED));

    /* libical's TZID prefix is seen through; P1D is a nominal day (23 h across the DST gap). */
    const struct ical_event *ny = by_uid(&p, "prefixed@example.org", false);
    cr_expect(eq(str, (char *)ny->ev.time_zone, "America/New_York"));
    cr_expect(eq(i64, ny->ev.start_us, INT64_C(1772892000) * US));
    cr_expect(eq(i64, ny->ev.end_us, INT64_C(1772974800) * US));
}

Test(core_ical, accepts_lf_endings_a_bom_and_several_calendars)
{
    static const char text[] = "\xEF\xBB\xBF"
                               "BEGIN:VCALENDAR\n"
                               "BEGIN:VEVENT\nUID:a\nDTSTART:20261103T150000Z\nDURATION:PT1H\n"
                               "SUMMARY:Caf\xC3\xA9\nEND:VEVENT\n"
                               "END:VCALENDAR\n"
                               "BEGIN:VCALENDAR\n"
                               "BEGIN:VEVENT\nUID:b\nDTSTART:20261103T150000Z\nDURATION:PT1H\n"
                               "END:VEVENT\n"
                               "END:VCALENDAR";
    struct parsed p = parse_ok(text, sizeof text - 1, "UTC");
    cr_expect(eq(sz, p.nerrors, 0));
    cr_assert(eq(sz, p.n, 2));
    cr_expect(eq(str, (char *)p.ev[0].ev.title, "Caf\xC3\xA9"));
    cr_expect(eq(str, (char *)p.ev[1].ev.uid, "b"));
}

Test(core_ical, refuses_what_is_not_icalendar)
{
    static const char *const texts[] = {"", "hello", "BEGIN:VEVENT\nEND:VEVENT\n",
                                        "{\"title\": \"x\"}"};
    for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
        struct ical_event *ev;
        struct ical_error *errors;
        size_t n, nerrors;
        struct pl_error err = {0};
        int rc = core_ical_parse(texts[i], strlen(texts[i]), "UTC", a, &ev, &n, &errors,
                                 &nerrors, &err);
        cr_expect(eq(int, rc, PL_EINVAL), "text %zu", i);
        cr_expect(ne(str, err.detail, ""));
    }
    struct ical_event *ev;
    struct ical_error *errors;
    size_t n, nerrors;
    struct pl_error err = {0};
    static const char ok[] = "BEGIN:VCALENDAR\nEND:VCALENDAR\n";
    cr_expect(eq(int, core_ical_parse(ok, strlen(ok), "Mars/Olympus", a, &ev, &n, &errors,
                                      &nerrors, &err), PL_EINVAL));
    cr_expect(eq(str, err.field, "time_zone"));
    cr_expect(eq(int, core_ical_parse(ok, strlen(ok), "UTC", a, &ev, &n, &errors, &nerrors, &err),
                 PL_OK));
    cr_expect(eq(sz, n, 0));
    cr_expect(eq(sz, nerrors, 0));
}

/* ---- errors ---------------------------------------------------------------------------------- */

static const char broken[] =
    "BEGIN:VCALENDAR\n"                                            /* 1 */
    "BEGIN:VEVENT\n"
    "DTSTART:20261103T150000Z\n"
    "DTEND:20261103T160000Z\n"
    "SUMMARY:no uid\n"                                             /* 5 */
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"
    "UID:good-1\n"
    "DTSTART:20261103T150000Z\n"
    "DTEND:20261103T160000Z\n"                                     /* 10 */
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"
    "UID:bad-value\n"
    "DTSTART:2026x\n"
    "END:VEVENT\n"                                                 /* 15 */
    "BEGIN:VEVENT\n"
    "UID:backwards\n"
    "DTSTART:20261103T150000Z\n"
    "DTEND:20261103T140000Z\n"
    "END:VEVENT\n"                                                 /* 20 */
    "BEGIN:VEVENT\n"
    "UID:no-start\n"
    "SUMMARY:x\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"                                               /* 25 */
    "UID:unknown-zone\n"
    "DTSTART;TZID=Mars/Olympus:20261103T150000\n"
    "DURATION:PT1H\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"                                               /* 30 */
    "UID:no-such-date\n"
    "DTSTART:20261301T250000Z\n"
    "DURATION:PT1H\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"                                               /* 35 */
    "UID:twice\n"
    "DTSTART:20261103T150000Z\n"
    "DTSTART:20261103T160000Z\n"
    "DURATION:PT1H\n"
    "END:VEVENT\n"                                                 /* 40 */
    "BEGIN:VEVENT\n"
    "UID:good-2\n"
    "DTSTART;VALUE=DATE:20261103\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"                                               /* 45 */
    "UID:bad-rule\n"
    "DTSTART:20261103T150000Z\n"
    "DURATION:PT1H\n"
    "RRULE:FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z\n"
    "END:VEVENT\n"                                                 /* 50 */
    "BEGIN:VEVENT\n"
    "UID:too-long\n"
    "DTSTART:20261103T150000Z\n"
    "DTEND:20261210T150000Z\n"
    "END:VEVENT\n"                                                 /* 55 */
    "BEGIN:VEVENT\n"
    "UID:mixed\n"
    "DTSTART;VALUE=DATE:20261103\n"
    "DTEND:20261104T000000Z\n"
    "END:VEVENT\n"                                                 /* 60 */
    "BEGIN:VEVENT\n"
    "UID:no-length\n"
    "DTSTART:20261103T150000Z\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"                                               /* 65 */
    "UID:garbage-line\n"
    "DTSTART:20261103T150000Z\n"
    "DURATION:PT1H\n"
    "this is not a content line\n"
    "END:VEVENT\n"                                                 /* 70 */
    "BEGIN:VEVENT\n"
    "UID:bad-status\n"
    "DTSTART:20261103T150000Z\n"
    "DURATION:PT1H\n"
    "STATUS:NEEDS-ACTION\n"                                        /* 75 */
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"
    "UID:bad-sequence\n"
    "DTSTART:20261103T150000Z\n"
    "DURATION:PT1H\n"                                              /* 80 */
    "SEQUENCE:-1\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"
    "UID:not-utf8\n"
    "DTSTART:20261103T150000Z\n"                                   /* 85 */
    "DURATION:PT1H\n"
    "SUMMARY:\xC3\x28\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"
    "UID:recurring-override\n"                                     /* 90 */
    "RECURRENCE-ID:20261103T150000Z\n"
    "DTSTART:20261103T150000Z\n"
    "DURATION:PT1H\n"
    "RRULE:FREQ=DAILY\n"
    "END:VEVENT\n"                                                 /* 95 */
    "BEGIN:VEVENT\n"                                               /* 96 */
    "UID:bad-alarm\n"
    "DTSTART:20261103T150000Z\n"
    "DURATION:PT1H\n"
    "BEGIN:VALARM\n"                                               /* 100 */
    "ACTION:EMAIL\n"
    "X-BROKEN\n"
    "END:VALARM\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"                                               /* 105 */
    "UID:unclosed\n"
    "DTSTART:20261103T150000Z\n"
    "END:VCALENDAR\n";

Test(core_ical, reports_broken_vevents_by_line_and_keeps_the_good_ones)
{
    static const struct {
        int line;
        const char *word; /* a word the message must contain */
    } want[] = {
        {2, "UID"},       {14, "DTSTART"}, {19, "DTEND"},    {21, "DTSTART"}, {27, "TZID"},
        {32, "valid"},    {38, "more than one DTSTART"},     {49, "RRULE"},   {54, "31 days"},
        {59, "DTEND must be a DATE"},      {63, "no length"}, {69, "content line"},
        {75, "STATUS"},   {81, "SEQUENCE"}, {87, "UTF-8"},   {94, "cannot recur"},
        {102, "content line"}, {105, "END:VEVENT"},
    };
    size_t len;
    char *text = crlf(broken, &len);
    struct parsed p = parse_ok(text, len, "UTC");
    cr_assert(eq(sz, p.n, 2));
    cr_expect(eq(str, (char *)p.ev[0].ev.uid, "good-1"));
    cr_expect(eq(str, (char *)p.ev[1].ev.uid, "good-2"));
    cr_expect(p.ev[1].ev.all_day, "a DATE without DTEND lasts one day");
    cr_expect(eq(i64, p.ev[1].ev.end_us - p.ev[1].ev.start_us, INT64_C(86400) * US));
    cr_assert(eq(sz, p.nerrors, ARRAY_LEN(want)));
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        cr_expect(eq(int, p.errors[i].line, want[i].line), "error %zu: %s", i, p.errors[i].message);
        cr_expect(strstr(p.errors[i].message, want[i].word) != NULL, "error %zu (line %d): \"%s\""
                  " lacks \"%s\"", i, p.errors[i].line, p.errors[i].message, want[i].word);
    }
}

Test(core_ical, lists_at_most_the_error_cap)
{
    size_t cap = 64 * (CORE_ICAL_ERRORS_MAX + 10) + 64, len = 0;
    char *text = arena_alloc(a, cap);
    len += (size_t)snprintf(text + len, cap - len, "BEGIN:VCALENDAR\r\n");
    for (int i = 0; i < CORE_ICAL_ERRORS_MAX + 5; i++)
        len += (size_t)snprintf(text + len, cap - len, "BEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n");
    len += (size_t)snprintf(text + len, cap - len, "END:VCALENDAR\r\n");
    struct parsed p = parse_ok(text, len, "UTC");
    cr_expect(eq(sz, p.n, 0));
    cr_assert(eq(sz, p.nerrors, CORE_ICAL_ERRORS_MAX));
    cr_expect(eq(int, p.errors[0].line, 2));
    cr_expect(strstr(p.errors[CORE_ICAL_ERRORS_MAX - 1].message, "not listed") != NULL);
}

/* ---- the writer ------------------------------------------------------------------------------- */

#define T0 (INT64_C(1796112000) * US) /* 2026-12-01T08:00:00Z = 09:00 in Berlin */

static struct participant people[] = {
    {.user_id = 7, .email = "ann@example.org", .name = "Ann Organizer",
     .role = PARTICIPANT_ORGANIZER, .rsvp = RSVP_ACCEPTED},
    {.user_id = 8, .email = "bob@example.org", .name = "Bob, Jr.; \"the second\"",
     .role = PARTICIPANT_ATTENDEE, .rsvp = RSVP_TENTATIVE},
    {.user_id = 0, .email = "guest@example.net", .name = "", .role = PARTICIPANT_ATTENDEE,
     .rsvp = RSVP_NEEDS_ACTION},
};

/* A series with an override, an all-day event and a private one with extras. */
static void sample(struct ical_event ev[4])
{
    memset(ev, 0, 4 * sizeof *ev);
    ev[0].ev = (struct event){
        .id = 10, .uid = "series@planner", .title = "Planning, weekly; with \\ and more",
        .description = "Line one\nLine two: caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\x85, and a very"
                       " long tail that has to be folded somewhere in the middle of it all",
        .location = "Room 1", .time_zone = "Europe/Berlin", .start_us = T0,
        .end_us = T0 + HOUR_US, .status = EVENT_STATUS_CONFIRMED, .sequence = 2,
        .created_us = T0 - 86400 * US, .updated_us = T0 - 3600 * US,
        .recurrence = "RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=TU\nEXDATE:20261208T080000Z"};
    ev[0].attendees = people;
    ev[0].nattendees = 3;
    ev[0].reminders[0] = 15;
    ev[0].reminders[1] = 0;
    ev[0].nreminders = 2;
    ev[1].ev = (struct event){
        .id = 11, .uid = "series@planner/1797926400000000", .parent_id = 10,
        .recurrence_id = INT64_C(1797926400) * US, .title = "Planning (moved)", .description = "",
        .location = "", .time_zone = "Europe/Berlin", .start_us = INT64_C(1797933600) * US,
        .end_us = INT64_C(1797933600) * US + HOUR_US, .status = EVENT_STATUS_TENTATIVE,
        .sequence = 3, .updated_us = T0};
    ev[1].attendees = people;
    ev[1].nattendees = 2;
    ev[2].ev = (struct event){
        .id = 12, .uid = "holiday@planner", .title = "Holidays", .description = "",
        .location = "", .time_zone = "Europe/Berlin", .all_day = true,
        .start_us = INT64_C(1798066800) * US, /* 2026-12-24 in Berlin */
        .end_us = INT64_C(1798326000) * US,   /* 2026-12-27 */
        .status = EVENT_STATUS_CONFIRMED, .updated_us = T0,
        .recurrence = "RRULE:FREQ=YEARLY\nEXDATE;VALUE=DATE:20271224"};
    ev[3].ev = (struct event){
        .id = 13, .uid = "private@planner", .title = "Doctor", .description = "Secret details",
        .location = "Clinic", .time_zone = "America/New_York", .start_us = T0 + 5 * HOUR_US,
        .end_us = T0 + 6 * HOUR_US, .visibility = EVENT_VISIBILITY_PRIVATE,
        .status = EVENT_STATUS_CANCELLED, .updated_us = T0,
        .ical_extra = "X-CUSTOM;X-PARAM=1:kept value\nCATEGORIES:health,private\n"
                      "URL:https://example.org/a?b=c\nGEO:52.5;13.4\n"
                      "ATTACH;FMTTYPE=text/plain:https://example.org/very/long/attachment/path/"
                      "that/goes/on/and/on/for/more/than/seventy-five/octets.txt\n"
                      "BEGIN:VALARM\nACTION:EMAIL\nSUMMARY:x\nDESCRIPTION:y\n"
                      "ATTENDEE:mailto:z@example.org\nTRIGGER;VALUE=DATE-TIME:20261201T000000Z\n"
                      "END:VALARM"};
}

static char *write_ok(const struct ical_event *ev, size_t n, size_t *len)
{
    struct ical_calendar cal = {.name = "Team, A", .time_zone = "Europe/Berlin", .now_us = T0};
    struct pl_error err = {0};
    char *out;
    cr_assert(eq(int, core_ical_write(&cal, ev, n, a, &out, len, &err), PL_OK));
    cr_assert(eq(sz, strlen(out), *len));
    return out;
}

/* Every line ends in CRLF, holds at most 75 octets, and folding never splits a UTF-8 sequence
 * (a continuation line never starts with a continuation byte). */
static void expect_well_formed(const char *out, size_t len)
{
    cr_assert(len >= 2 && out[len - 2] == '\r' && out[len - 1] == '\n');
    const char *p = out;
    while (*p) {
        const char *crlf_at = strstr(p, "\r\n");
        cr_assert(crlf_at != NULL);
        size_t n = (size_t)(crlf_at - p);
        cr_expect(le(sz, n, 75), "line of %zu octets: %.*s", n, (int)n, p);
        cr_expect(memchr(p, '\n', n) == NULL && memchr(p, '\r', n) == NULL);
        if (p[0] == ' ')
            cr_expect(0x80 != ((unsigned char)p[1] & 0xC0), "split UTF-8 at \"%.*s\"", (int)n, p);
        p = crlf_at + 2;
    }
}

Test(core_ical, writes_folded_escaped_crlf_text)
{
    struct ical_event ev[4];
    sample(ev);
    size_t len;
    char *out = write_ok(ev, 4, &len);
    expect_well_formed(out, len);
    cr_expect(strncmp(out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:", 37) == 0);
    cr_expect(strstr(out, "\r\nCALSCALE:GREGORIAN\r\n") != NULL);
    cr_expect(strstr(out, "\r\nX-WR-CALNAME:Team\\, A\r\n") != NULL);
    cr_expect(strstr(out, "\r\nEND:VCALENDAR\r\n") == out + len - 17);
    /* One VTIMEZONE per zone of a timed event, named by its IANA name. */
    cr_expect(strstr(out, "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n") != NULL);
    cr_expect(strstr(out, "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n") != NULL);
    cr_expect(strstr(strstr(out, "TZID:Europe/Berlin\r\n") + 1, "TZID:Europe/Berlin\r\n") == NULL);
    cr_expect(strstr(out, "\r\nDTSTART;TZID=Europe/Berlin:20261201T090000\r\n") != NULL);
    cr_expect(strstr(out, "\r\nDTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261227\r\n") != NULL);
    cr_expect(strstr(out, "\r\nSUMMARY:Planning\\, weekly\\; with \\\\ and more\r\n") != NULL);
    cr_expect(strstr(out, "\r\nDTSTAMP:20261201T070000Z\r\n") != NULL);
    cr_expect(strstr(out, "\r\nORGANIZER;CN=Ann Organizer:mailto:ann@example.org\r\n") != NULL);
    cr_expect(strstr(out, "\r\nATTENDEE;CN=\"Bob, Jr.; 'the second'\";ROLE=REQ-PARTICIPANT;PARTSTAT=TENTATIV\r\n"
                          " E:mailto:bob@example.org\r\n") != NULL, "%s", out);
    /* The override: the series' UID and its RECURRENCE-ID in the series' zone. */
    cr_expect(strstr(out, "UID:series@planner\r\nDTSTAMP:20261201T080000Z\r\n"
                          "RECURRENCE-ID;TZID=Europe/Berlin:20261222T090000\r\n") != NULL, "%s", out);
    cr_expect(strstr(out, "series@planner/") == NULL);
    cr_expect(strstr(out, "\r\nTRIGGER:-PT15M\r\n") != NULL);
    cr_expect(strstr(out, "\r\nTRIGGER:PT0M\r\n") != NULL);
    cr_expect(strstr(out, "\r\nCLASS:PRIVATE\r\n") != NULL);
    cr_expect(strstr(out, "\r\nSTATUS:CANCELLED\r\n") != NULL);
    cr_expect(strstr(out, "\r\nX-CUSTOM;X-PARAM=1:kept value\r\n") != NULL);
    cr_expect(strstr(out, "\r\nATTACH;FMTTYPE=text/plain:https://example.org/very/long/attachment/path/tha\r\n"
                          " t/goes/") != NULL, "%s", out);
}

Test(core_ical, busy_only_events_tell_nothing_but_the_time)
{
    struct ical_event ev[4];
    sample(ev);
    for (size_t i = 0; i < 4; i++)
        ev[i].busy_only = true;
    size_t len;
    char *out = write_ok(ev, 4, &len);
    expect_well_formed(out, len);
    static const char *const absent[] = {"Planning", "Line one", "Room 1", "Holidays", "Doctor",
                                         "Secret", "Clinic", "ATTENDEE", "ORGANIZER", "mailto",
                                         "VALARM", "X-CUSTOM", "CATEGORIES", "ATTACH", "GEO",
                                         "DESCRIPTION", "\nLOCATION", "CLASS:PUBLIC"};
    for (size_t i = 0; i < ARRAY_LEN(absent); i++)
        cr_expect(strstr(out, absent[i]) == NULL, "\"%s\" leaked", absent[i]);
    size_t busy = 0, private_ = 0;
    for (const char *p = out; (p = strstr(p, "\r\nSUMMARY:Busy\r\n")) != NULL; p++)
        busy++;
    for (const char *p = out; (p = strstr(p, "\r\nCLASS:PRIVATE\r\n")) != NULL; p++)
        private_++;
    cr_expect(eq(sz, busy, 4));
    cr_expect(eq(sz, private_, 4));
    /* When the time is taken still shows, recurrence and overrides included. */
    cr_expect(strstr(out, "\r\nRRULE:FREQ=WEEKLY;COUNT=10;BYDAY=TU\r\n") != NULL);
    cr_expect(strstr(out, "\r\nRECURRENCE-ID;TZID=Europe/Berlin:20261222T090000\r\n") != NULL);

    /* Parsed back, nothing but times and the placeholder title are there. */
    struct parsed p = parse_ok(out, len, "Europe/Berlin");
    cr_assert(eq(sz, p.n, 4));
    for (size_t i = 0; i < p.n; i++) {
        cr_expect(eq(str, (char *)p.ev[i].ev.title, "Busy"));
        cr_expect(eq(sz, p.ev[i].nattendees, 0));
        cr_expect(eq(ptr, (void *)p.ev[i].ev.ical_extra, NULL));
        cr_expect(eq(int, p.ev[i].ev.visibility, EVENT_VISIBILITY_PRIVATE));
    }
}

static void expect_same_people(const struct participant *x, size_t nx, const struct participant *y,
                               size_t ny, const char *uid)
{
    cr_assert(eq(sz, nx, ny), "%s", uid);
    for (size_t i = 0; i < nx; i++) {
        cr_expect(eq(str, (char *)x[i].email, (char *)y[i].email), "%s", uid);
        /* A parameter value cannot hold a DQUOTE: it comes back as '. */
        char want[128];
        snprintf(want, sizeof want, "%s", x[i].name);
        for (char *c = want; *c; c++)
            if (*c == '"')
                *c = '\'';
        cr_expect(eq(str, want, (char *)y[i].name), "%s", uid);
        cr_expect(eq(int, x[i].role, y[i].role), "%s", uid);
        cr_expect(eq(int, x[i].rsvp, y[i].rsvp), "%s", uid);
    }
}

Test(core_ical, write_then_parse_gives_the_same_events)
{
    struct ical_event ev[4];
    sample(ev);
    size_t len;
    char *out = write_ok(ev, 4, &len);
    struct parsed p = parse_ok(out, len, "Europe/Berlin");
    cr_assert(eq(sz, p.nerrors, 0), "%d: %s", p.nerrors ? p.errors[0].line : 0,
              p.nerrors ? p.errors[0].message : "");
    cr_assert(eq(sz, p.n, 4));
    for (size_t i = 0; i < 4; i++) {
        const struct event *x = &ev[i].ev, *y = &p.ev[i].ev;
        const char *uid = x->parent_id ? "series@planner" : x->uid;
        cr_expect(eq(str, (char *)y->uid, (char *)uid));
        cr_expect(eq(str, (char *)y->title, (char *)x->title), "%s", uid);
        cr_expect(eq(str, (char *)y->description, (char *)x->description), "%s", uid);
        cr_expect(eq(str, (char *)y->location, (char *)x->location), "%s", uid);
        cr_expect(eq(str, (char *)y->time_zone, (char *)x->time_zone), "%s", uid);
        cr_expect(eq(i64, y->start_us, x->start_us), "%s", uid);
        cr_expect(eq(i64, y->end_us, x->end_us), "%s", uid);
        cr_expect(eq(int, y->all_day, x->all_day), "%s", uid);
        cr_expect(eq(int, y->visibility, x->visibility), "%s", uid);
        cr_expect(eq(int, y->status, x->status), "%s", uid);
        cr_expect(eq(i64, y->sequence, x->sequence), "%s", uid);
        cr_expect(eq(i64, y->recurrence_id, x->recurrence_id), "%s", uid);
        cr_expect(eq(str, (char *)(y->recurrence ? y->recurrence : "-"),
                     (char *)(x->parent_id || !x->recurrence ? "-" : x->recurrence)), "%s", uid);
        cr_expect(eq(str, (char *)(y->ical_extra ? y->ical_extra : "-"),
                     (char *)(x->ical_extra ? x->ical_extra : "-")), "%s", uid);
        expect_same_people(ev[i].attendees, ev[i].nattendees, p.ev[i].attendees,
                           p.ev[i].nattendees, uid);
        cr_expect(eq(sz, p.ev[i].nreminders, ev[i].nreminders), "%s", uid);
        for (size_t k = 0; k < ev[i].nreminders; k++)
            cr_expect(eq(int, p.ev[i].reminders[k], ev[i].reminders[k]), "%s", uid);
        if (ev[i].nattendees)
            cr_expect(eq(str, (char *)p.ev[i].organizer_email, "ann@example.org"), "%s", uid);
    }
}

Test(core_ical, properties_the_model_does_not_know_survive_a_round_trip)
{
    size_t len;
    char *text = crlf(representative, &len);
    struct parsed first = parse_ok(text, len, "Europe/Moscow");
    cr_assert(eq(sz, first.n, 7));
    char *out = write_ok(first.ev, first.n, &len);
    expect_well_formed(out, len);
    cr_expect(strstr(out, "\r\nX-CUSTOM;X-PARAM=1:kept value\r\n") != NULL);
    cr_expect(strstr(out, "\r\nCATEGORIES:work,weekly\r\n") != NULL);
    cr_expect(strstr(out, "\r\nTRANSP:TRANSPARENT\r\n") != NULL);
    cr_expect(strstr(out, "\r\nATTENDEE;CUTYPE=ROOM;CN=Room 1:mailto:room1@example.org\r\n") != NULL);
    cr_expect(strstr(out, "TRIGGER;RELATED=END:-PT5M") != NULL);
    struct parsed second = parse_ok(out, len, "Europe/Moscow");
    cr_assert(eq(sz, second.nerrors, 0), "%s", second.nerrors ? second.errors[0].message : "");
    cr_assert(eq(sz, second.n, first.n));
    for (size_t i = 0; i < first.n; i++) {
        const struct event *x = &first.ev[i].ev, *y = &second.ev[i].ev;
        cr_expect(eq(str, (char *)y->uid, (char *)x->uid));
        cr_expect(eq(str, (char *)(y->ical_extra ? y->ical_extra : "-"),
                     (char *)(x->ical_extra ? x->ical_extra : "-")), "%s", x->uid);
        cr_expect(eq(str, (char *)(y->recurrence ? y->recurrence : "-"),
                     (char *)(x->recurrence ? x->recurrence : "-")), "%s", x->uid);
        cr_expect(eq(i64, y->start_us, x->start_us), "%s", x->uid);
        cr_expect(eq(i64, y->end_us, x->end_us), "%s", x->uid);
        cr_expect(eq(sz, second.ev[i].nreminders, first.ev[i].nreminders), "%s", x->uid);
        cr_expect(eq(sz, second.ev[i].nattendees, first.ev[i].nattendees), "%s", x->uid);
    }
}

Test(core_ical, an_empty_calendar_is_a_valid_document)
{
    struct ical_calendar cal = {.name = NULL, .time_zone = NULL, .now_us = T0};
    struct pl_error err = {0};
    char *out;
    size_t len;
    cr_assert(eq(int, core_ical_write(&cal, NULL, 0, a, &out, &len, &err), PL_OK));
    cr_expect(eq(str, out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Planner//Planner Calendar//EN"
                           "\r\nCALSCALE:GREGORIAN\r\nEND:VCALENDAR\r\n"));
}

Test(core_ical, utc_events_are_written_in_utc)
{
    struct ical_event ev = {0};
    ev.ev = (struct event){.id = 1, .uid = "u", .title = "t", .description = "", .location = "",
                           .time_zone = "UTC", .start_us = T0, .end_us = T0 + HOUR_US};
    size_t len;
    char *out = write_ok(&ev, 1, &len);
    cr_expect(strstr(out, "\r\nDTSTART:20261201T080000Z\r\nDTEND:20261201T090000Z\r\n") != NULL);
    cr_expect(strstr(out, "VTIMEZONE") == NULL);
}
