/* Event rules and names. */
#include "core/event.h"

#include "core/user.h"

#include <string.h>

int core_event_check(const struct event *ev, struct pl_error *err)
{
    int rc;
    if ((rc = core_text_check(ev->title, "title", CORE_EVENT_TITLE_MAX, false, false, err)) < 0 ||
        (rc = core_text_check(ev->description, "description", CORE_EVENT_DESCRIPTION_MAX, true,
                              true, err)) < 0 ||
        (rc = core_text_check(ev->location, "location", CORE_EVENT_LOCATION_MAX, true, false,
                              err)) < 0)
        return rc;
    if (ev->start_us < CORE_EVENT_START_MIN_US)
        return pl_error_set(err, PL_EINVAL, "start", "must be in 1900 or later");
    if (ev->end_us <= ev->start_us)
        return pl_error_set(err, PL_EINVAL, "end", "must be after start");
    if (ev->end_us - ev->start_us > CORE_EVENT_DURATION_MAX_US)
        return pl_error_set(err, PL_EINVAL, "end", "an event may last at most 31 days");
    return PL_OK;
}

int core_event_check_range(int64_t from_us, int64_t to_us, struct pl_error *err)
{
    if (to_us <= from_us)
        return pl_error_set(err, PL_EINVAL, "to", "must be after from");
    if (to_us - from_us > CORE_RANGE_MAX_US)
        return pl_error_set(err, PL_EINVAL, "to", "the range may span at most 366 days");
    return PL_OK;
}

int core_event_view(int access, bool is_private, bool is_participant)
{
    if (is_participant || access >= CAL_WRITE)
        return EVENT_VIEW_FULL;
    if (access == CAL_READ)
        return is_private ? EVENT_VIEW_BUSY : EVENT_VIEW_FULL;
    if (access == CAL_FREEBUSY)
        return EVENT_VIEW_BUSY;
    return EVENT_VIEW_NONE;
}

bool core_event_may_write(int access)
{
    return access >= CAL_WRITE;
}

static bool same_text(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool core_event_same_occurrences(const struct event *before, const struct event *after)
{
    return before->calendar_id == after->calendar_id && before->room_id == after->room_id &&
           before->status == after->status && before->start_us == after->start_us &&
           before->end_us == after->end_us && before->all_day == after->all_day &&
           same_text(before->time_zone, after->time_zone) &&
           same_text(before->recurrence, after->recurrence);
}

static int parse(const char *const *names, int n, const char *s, const char *field, int *out,
                 const char *expected, struct pl_error *err)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return PL_OK;
        }
    return pl_error_set(err, PL_EINVAL, field, "must be one of %s", expected);
}

static const char *const status_names[] = {"confirmed", "tentative", "cancelled"};
static const char *const visibility_names[] = {"default", "private"};
static const char *const rsvp_names[] = {"needs-action", "accepted", "declined", "tentative"};
static const char *const access_names[] = {"none", "freebusy", "read", "write", "owner"};

int core_event_status_parse(const char *s, const char *field, int *out, struct pl_error *err)
{
    return parse(status_names, 3, s, field, out, "confirmed, tentative, cancelled", err);
}

const char *core_event_status_name(int status)
{
    return status >= 0 && status < 3 ? status_names[status] : "confirmed";
}

int core_event_visibility_parse(const char *s, const char *field, int *out, struct pl_error *err)
{
    return parse(visibility_names, 2, s, field, out, "default, private", err);
}

const char *core_event_visibility_name(int visibility)
{
    return visibility == EVENT_VISIBILITY_PRIVATE ? "private" : "default";
}

int core_rsvp_parse(const char *s, const char *field, int *out, struct pl_error *err)
{
    return parse(rsvp_names, 4, s, field, out, "needs-action, accepted, declined, tentative", err);
}

const char *core_rsvp_name(int rsvp)
{
    return rsvp >= 0 && rsvp < 4 ? rsvp_names[rsvp] : "needs-action";
}

const char *core_participant_role_name(int role)
{
    return role == PARTICIPANT_ORGANIZER ? "organizer" : "attendee";
}

int core_share_role_parse(const char *s, const char *field, int *out, struct pl_error *err)
{
    int rc = parse(access_names + 1, 3, s, field, out, "freebusy, read, write", err);
    if (rc == PL_OK)
        *out += 1; /* skip CAL_NONE */
    return rc;
}

const char *core_calendar_access_name(int access)
{
    return access >= 0 && access < 5 ? access_names[access] : "none";
}

int core_color_check(const char *s, const char *field, struct pl_error *err)
{
    if (strlen(s) != 7 || s[0] != '#' || strspn(s + 1, "0123456789abcdefABCDEF") != 6)
        return pl_error_set(err, PL_EINVAL, field, "must be a colour like #3b82f6");
    return PL_OK;
}
