/* iCalendar (RFC 5545) text <-> events: the parser behind import and the writer behind export
 * and subscription feeds.  Pure conversion through libical: no I/O, no database, no clock.
 *
 * What the model keeps of a VEVENT: UID, SUMMARY, DESCRIPTION, LOCATION, DTSTART, DTEND or
 * DURATION, STATUS, CLASS, SEQUENCE, RRULE/EXDATE/RDATE (as core/recur.h's normalised lines),
 * RECURRENCE-ID, ORGANIZER, ATTENDEE and VALARMs that are reminders.  Every other property
 * (X-*, ATTACH, CATEGORIES, URL, GEO, TRANSP, ...) and every nested component that is not such
 * a VALARM is kept verbatim, as unfolded content lines, in ev.ical_extra, and written back on
 * export, so that a round trip keeps them.  DTSTAMP, CREATED and LAST-MODIFIED are not kept:
 * the writer derives them from the event's own times. */
#ifndef PLANNER_CORE_ICAL_H
#define PLANNER_CORE_ICAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "error.h"

struct arena;

#define CORE_ICAL_ERRORS_MAX 1000   /* errors one parse lists; the last says more were cut */
#define CORE_ICAL_UID_MAX 1000      /* characters of a UID */
#define CORE_ICAL_MESSAGE_MAX 200   /* bytes of an error message, NUL included */
#define CORE_ICAL_UNTITLED "(no title)" /* the title of a VEVENT without SUMMARY */

/* One VEVENT as the domain sees it: the event row, its people and its reminders. */
struct ical_event {
    struct event ev;
    /* Participants: the parser gives every mailto: ATTENDEE (user_id 0, name from CN or "",
     * role PARTICIPANT_ORGANIZER for the one whose address is the ORGANIZER's, rsvp from
     * PARTSTAT); the writer takes the event's participants as the store returns them. */
    struct participant *attendees;
    size_t nattendees;
    /* The ORGANIZER's address (lower-cased) and CN ("" without one); NULL when there is no
     * mailto: ORGANIZER.  The writer falls back on them when no participant is the organizer. */
    const char *organizer_email, *organizer_name;
    int reminders[CORE_EVENT_REMINDERS_MAX]; /* minutes before the start, distinct */
    size_t nreminders;
    bool busy_only; /* writer: show only when the time is taken (see core_ical_write) */
    int line;       /* parser: the line of its BEGIN:VEVENT (1-based) */
};

/* A VEVENT the parser could not use: the line at fault (the property's line where one
 * property is to blame, else the BEGIN:VEVENT line) and why, in English. */
struct ical_error {
    int line;
    char message[CORE_ICAL_MESSAGE_MAX];
};

/* Parse iCalendar `text` (`len` bytes, UTF-8; folded lines, CRLF or LF endings, a leading BOM
 * and several concatenated VCALENDARs are accepted) into the VEVENTs it holds.
 *
 * Each usable VEVENT becomes one `struct ical_event`, in file order:
 * - ev.uid is the UID as given; an occurrence override (RECURRENCE-ID) has ev.recurrence_id
 *   set to the UTC instant of the occurrence it replaces and the series' UID as ev.uid (the
 *   caller links it to its series); everything the store assigns (ids, versions, creation
 *   times, calendar, organizer user) is 0.
 * - Times: DTSTART with a TZID that names an IANA zone (also behind a "/prefix/" such as
 *   libical's or Mozilla's, or through a VTIMEZONE's X-LIC-LOCATION) is read in that zone, which
 *   becomes ev.time_zone; UTC and floating times, DATE values and TZIDs defined only by a
 *   VTIMEZONE of the file (Outlook's "W. Europe Standard Time") give ev.time_zone =
 *   `default_tz`, floating times and dates being read in it and VTIMEZONE-only times converted
 *   with that VTIMEZONE's rules.  DATE values make an all-day event.  Without DTEND or
 *   DURATION an all-day event lasts one day.  Local times follow RFC 5545 in DST gaps and
 *   overlaps (core/tz.h).
 * - STATUS CONFIRMED/TENTATIVE/CANCELLED (absent: confirmed); CLASS other than PUBLIC makes
 *   the event private (CONFIDENTIAL and unknown classes too, as RFC 5545 asks of unknown ones);
 *   SEQUENCE; SUMMARY (CORE_ICAL_UNTITLED when absent or empty; line breaks and other control
 *   characters in it and in LOCATION become spaces), DESCRIPTION and LOCATION unescaped.
 * - ev.recurrence: "RRULE:<rule as libical prints it>" then one line per EXDATE and RDATE value,
 *   in UTC ("EXDATE:20261201T070000Z") or, for all-day events, as dates
 *   ("EXDATE;VALUE=DATE:20261224"), '\n'-separated (core/recur.h's normalised form); NULL
 *   without RRULE/RDATE/EXDATE.  A DATE exception of a timed series means that day at the
 *   series' time of day; a DATE-TIME one of an all-day series means its local date.
 * - A VALARM whose ACTION is DISPLAY or AUDIO and whose TRIGGER is a whole number of minutes
 *   (0 .. CORE_EVENT_REMINDER_MAX_MIN) before the start becomes a reminder (its other
 *   properties are dropped); other VALARMs, and those past CORE_EVENT_REMINDERS_MAX, stay
 *   verbatim in ical_extra.
 * - An ATTENDEE that is not a valid mailto: address, or whose CUTYPE is ROOM or RESOURCE, stays
 *   verbatim in ical_extra.  A non-mailto ORGANIZER is dropped.
 * - ical_extra: the unknown properties, then the nested components kept, '\n'-separated; NULL
 *   when there are none.
 *
 * A VEVENT that cannot be used produces one `struct ical_error` instead and the parse goes
 * on: no UID, no DTSTART, a value libical rejects (it marks them with X-LIC-ERROR), also in
 * a line that would be kept unless its value is text (the property's, or an unknown or X-
 * name's); in a kept line, parameters off RFC 5545's grammar, an INTEGER not in digits or
 * spaces around a value that is not text, which libical would take; a date out of range, an
 * unknown TZID, DTEND not after DTSTART (or no length at all), DTEND and DURATION
 * together, a property that may appear once appearing twice, EXRULE, RANGE=THISANDFUTURE, a
 * recurring override, an RRULE the JSON API would refuse (core_recur_parse: one that never
 * occurs, one libical cannot start), more than CORE_RECUR_LINES_MAX recurrence lines or
 * CORE_EVENT_PARTICIPANTS_MAX attendees, a field core_event_check rejects (too long, an
 * event over 31 days), a line that is not a content line or not UTF-8, a VEVENT without
 * END:VEVENT.  At most CORE_ICAL_ERRORS_MAX errors are listed; the last one then says that
 * more were left out.  Components other than VEVENT (VTODO, VJOURNAL, ...) are skipped.
 *
 * Everything returned (*events, *errors and all strings) is allocated from `a`.  libical's
 * per-thread state is used but nothing of it is kept.  Returns PL_OK (also when every VEVENT
 * failed), or PL_EINVAL when `default_tz` is not a known zone or the text is not iCalendar at
 * all (it does not begin with BEGIN:VCALENDAR); the caller bounds `len`. */
PL_MUST_CHECK int core_ical_parse(const char *text, size_t len, const char *default_tz,
                                  struct arena *a, struct ical_event **events, size_t *n,
                                  struct ical_error **errors, size_t *nerrors,
                                  struct pl_error *err);

/* What the writer puts around the events. */
struct ical_calendar {
    const char *name;      /* X-WR-CALNAME, or NULL for none */
    const char *time_zone; /* X-WR-TIMEZONE (the calendar's IANA zone), or NULL for none */
    int64_t now_us;        /* DTSTAMP of events that carry no update time */
};

/* Write `n` events as one VCALENDAR (VERSION:2.0, PRODID, CALSCALE:GREGORIAN, X-WR-CALNAME and
 * X-WR-TIMEZONE when given) into *out (NUL-terminated, *len bytes without the NUL, from `a`).
 *
 * - One VTIMEZONE (libical's, from the system tz database, with the IANA name as TZID) per zone
 *   a timed event uses; an event in "UTC", or in a zone libical cannot describe, is written in
 *   UTC.  All-day events are written as DATE values of their zone.
 * - Each event: UID, DTSTAMP (its update time, as RFC 5545 asks of a published calendar, which
 *   keeps the output of an unchanged calendar byte-identical), DTSTART/DTEND, CREATED and
 *   LAST-MODIFIED, SUMMARY, DESCRIPTION and LOCATION when not empty, STATUS, CLASS, SEQUENCE,
 *   ORGANIZER (the participant whose role is organizer, else organizer_email), one ATTENDEE per
 *   participant (CN, ROLE CHAIR or REQ-PARTICIPANT, PARTSTAT), the recurrence lines, the
 *   ical_extra lines and one VALARM (ACTION:DISPLAY) per reminder.
 * - An override (ev.parent_id != 0) is a VEVENT of its own with the series' UID (that of the
 *   event in `events` whose id is its parent_id; failing that its own uid without the
 *   "/<recurrence id>" the store appends) and RECURRENCE-ID in the series' form.
 * - A busy_only event shows only when the time is taken: UID, DTSTAMP, DTSTART/DTEND,
 *   RECURRENCE-ID, recurrence lines, STATUS, SEQUENCE, SUMMARY "Busy" and CLASS:PRIVATE; no
 *   description, location, people, alarms or extra properties.
 *
 * TEXT values are escaped, lines end in CRLF and are folded at 75 octets without splitting a
 * UTF-8 sequence.  Returns PL_OK; the output size grows with the events and is bounded by the
 * caller's choice of events. */
PL_MUST_CHECK int core_ical_write(const struct ical_calendar *cal, const struct ical_event *events,
                                  size_t n, struct arena *a, char **out, size_t *len,
                                  struct pl_error *err);

#endif
