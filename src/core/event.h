/* Events as the domain sees them: their fields, the rules those obey, and who may see and
 * change what. */
#ifndef PLANNER_CORE_EVENT_H
#define PLANNER_CORE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CORE_EVENT_TITLE_MAX 500        /* characters */
#define CORE_EVENT_DESCRIPTION_MAX 10000
#define CORE_EVENT_LOCATION_MAX 500
#define CORE_EVENT_PARTICIPANTS_MAX 200
#define CORE_EVENT_REMINDERS_MAX 10
#define CORE_EVENT_REMINDER_MAX_MIN (4 * 7 * 24 * 60) /* four weeks ahead */
#define CORE_EVENT_DURATION_MAX_US (INT64_C(31) * 86400 * 1000000)
/* The earliest start an event may have: 1900-01-01T00:00:00Z.  A series is indexed from its
 * first start on, so its cost grows with its age (a daily one from 1900 has ~46,000
 * occurrences to the horizon, ~1 s to write); and libical walks rules across the switch to
 * the Gregorian calendar (1582) out of order. */
#define CORE_EVENT_START_MIN_US (INT64_C(-2208988800) * 1000000)
#define CORE_CALENDAR_NAME_MAX 200
#define CORE_ROOM_NAME_MAX 200
#define CORE_ROOM_FEATURES_MAX 32
#define CORE_ROOM_FEATURE_MAX 64
#define CORE_ROOM_CAPACITY_MAX 10000
#define CORE_RANGE_MAX_US (INT64_C(366) * 86400 * 1000000) /* longest ?from=&to= window */

enum event_status { EVENT_STATUS_CONFIRMED, EVENT_STATUS_TENTATIVE, EVENT_STATUS_CANCELLED };
enum event_visibility { EVENT_VISIBILITY_DEFAULT, EVENT_VISIBILITY_PRIVATE };
enum rsvp { RSVP_NEEDS_ACTION, RSVP_ACCEPTED, RSVP_DECLINED, RSVP_TENTATIVE };
enum participant_role { PARTICIPANT_ORGANIZER, PARTICIPANT_ATTENDEE };

/* What a user may do with a calendar, weakest first. */
enum calendar_access { CAL_NONE, CAL_FREEBUSY, CAL_READ, CAL_WRITE, CAL_OWNER };
/* How much of an event a user may see. */
enum event_view { EVENT_VIEW_NONE, EVENT_VIEW_BUSY, EVENT_VIEW_FULL };

struct event {
    int64_t id, calendar_id, organizer_id;
    int64_t room_id; /* 0 = none */
    const char *uid, *title, *description, *location, *time_zone;
    int64_t start_us, end_us; /* UTC; all-day events run from local midnight to midnight */
    bool all_day;
    int visibility; /* enum event_visibility */
    int status;     /* enum event_status */
    int64_t sequence, version, created_us, updated_us;
    const char *recurrence; /* normalised RRULE/EXDATE/RDATE lines (core/recur.h), NULL if single */
    int64_t parent_id;      /* for an override: the series it belongs to, else 0 */
    int64_t recurrence_id;  /* for an override: the original start it replaces */
    const char *ical_extra; /* iCalendar properties the model does not know, or NULL */
};

/* The id clients know an event row by: a series' own id for its overrides. */
static inline int64_t core_event_public_id(const struct event *ev)
{
    return ev->parent_id ? ev->parent_id : ev->id;
}

struct participant {
    int64_t user_id;   /* 0 for an external e-mail participant */
    const char *email; /* the user's e-mail, or the external address */
    const char *name;  /* the user's name, "" for external */
    int role;          /* enum participant_role */
    int rsvp;          /* enum rsvp */
};

/* Check title, description, location (lengths, control characters) and the time range (start
 * from CORE_EVENT_START_MIN_US, end after start, at most CORE_EVENT_DURATION_MAX_US).
 * PL_EINVAL naming the field. */
PL_MUST_CHECK int core_event_check(const struct event *ev, struct pl_error *err);

/* Check ?from=&to= style ranges: to after from, at most CORE_RANGE_MAX_US. */
PL_MUST_CHECK int core_event_check_range(int64_t from_us, int64_t to_us, struct pl_error *err);

/* The event-view rule: participants and those who may write the calendar see everything;
 * readers see everything but private events, which they see as busy; free/busy sharing
 * shows only busy time; anyone else sees nothing. */
int core_event_view(int access, bool is_private, bool is_participant);
/* Whether `access` allows creating, changing and deleting the calendar's events. */
bool core_event_may_write(int access);

/* Whether an edit of `before` into `after` leaves its occurrences as they were: the same
 * calendar, room, status, times, zone, all-day and recurrence.  (What an occurrence shows
 * besides, its title or location, is the store's to copy; who it claims is the caller's to
 * compare.)  Such an edit needs no re-index and no room check. */
bool core_event_same_occurrences(const struct event *before, const struct event *after);

/* Enum <-> name.  Parsers return PL_EINVAL naming `field`. */
PL_MUST_CHECK int core_event_status_parse(const char *s, const char *field, int *out,
                                          struct pl_error *err);
const char *core_event_status_name(int status);
PL_MUST_CHECK int core_event_visibility_parse(const char *s, const char *field, int *out,
                                              struct pl_error *err);
const char *core_event_visibility_name(int visibility);
PL_MUST_CHECK int core_rsvp_parse(const char *s, const char *field, int *out, struct pl_error *err);
const char *core_rsvp_name(int rsvp);
const char *core_participant_role_name(int role);
PL_MUST_CHECK int core_share_role_parse(const char *s, const char *field, int *out,
                                        struct pl_error *err); /* freebusy, read, write */
const char *core_calendar_access_name(int access);

/* A display colour "#rrggbb". */
PL_MUST_CHECK int core_color_check(const char *s, const char *field, struct pl_error *err);

#endif
