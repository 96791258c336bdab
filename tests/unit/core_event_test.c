/* core/event: field rules, ranges, who sees and changes what, names and colours. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "core/event.h"

#include <stdint.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define US INT64_C(1000000)
#define HOUR_US (INT64_C(3600) * US)
#define DAY_US (INT64_C(86400) * US)
#define T0 (INT64_C(1795417200) * US) /* 2026-11-23T07:00:00Z */

/* Assert that `rc`/`err` is a PL_EINVAL naming `field`. */
#define EXPECT_INVALID(rc, err, fieldname, ...)                                                \
    do {                                                                                       \
        cr_expect(eq(int, (rc), PL_EINVAL), __VA_ARGS__);                                      \
        cr_expect(eq(int, (err).status, PL_EINVAL), __VA_ARGS__);                              \
        cr_expect(eq(str, (err).field, fieldname), __VA_ARGS__);                               \
        cr_expect(ne(str, (err).detail, ""), __VA_ARGS__);                                     \
    } while (0)

/* `n` copies of `unit` into `buf` (which holds them), NUL-terminated. */
static char *repeat(char *buf, const char *unit, size_t n)
{
    size_t len = strlen(unit);
    for (size_t i = 0; i < n; i++)
        memcpy(buf + i * len, unit, len);
    buf[n * len] = '\0';
    return buf;
}

static struct event valid_event(void)
{
    return (struct event){
        .id = 1,
        .calendar_id = 1,
        .organizer_id = 1,
        .uid = "uid-1@planner",
        .title = "Standup",
        .description = "",
        .location = "",
        .time_zone = "Europe/Moscow",
        .start_us = T0,
        .end_us = T0 + HOUR_US,
    };
}

/* ---- core_event_check ------------------------------------------------------------------ */

/* Text buffers big enough for the longest cases: 10001 three-byte characters. */
static char big_a[3 * (CORE_EVENT_DESCRIPTION_MAX + 1) + 1];

enum which { TITLE, DESCRIPTION, LOCATION };

static const struct {
    const char *name;
    enum which field;
    const char *unit; /* repeated `count` times */
    size_t count;
    const char *want_field; /* NULL = valid */
} text_cases[] = {
    {"title of one character", TITLE, "x", 1, NULL},
    {"title at the limit", TITLE, "x", CORE_EVENT_TITLE_MAX, NULL},
    {"title at the limit in 2-byte characters", TITLE, "\xc3\xa9", CORE_EVENT_TITLE_MAX, NULL},
    {"title at the limit in 3-byte characters", TITLE, "\xe2\x82\xac", CORE_EVENT_TITLE_MAX, NULL},
    {"title over the limit", TITLE, "x", CORE_EVENT_TITLE_MAX + 1, "title"},
    {"title over the limit in 2-byte characters", TITLE, "\xc3\xa9", CORE_EVENT_TITLE_MAX + 1,
     "title"},
    {"empty title", TITLE, "", 0, "title"},
    {"title with a newline", TITLE, "a\n", 1, "title"},
    {"title with a tab", TITLE, "a\t", 1, "title"},
    {"title with DEL", TITLE, "a\x7f", 1, "title"},
    {"title with a C1 control", TITLE, "a\xc2\x85", 1, "title"},
    {"title with bad UTF-8", TITLE, "a\xff", 1, "title"},
    {"title with a lone continuation byte", TITLE, "\x80", 1, "title"},
    {"empty description", DESCRIPTION, "", 0, NULL},
    {"description with newlines and tabs", DESCRIPTION, "line\r\n\tmore\n", 3, NULL},
    {"description at the limit", DESCRIPTION, "x", CORE_EVENT_DESCRIPTION_MAX, NULL},
    {"description at the limit in 3-byte characters", DESCRIPTION, "\xe2\x82\xac",
     CORE_EVENT_DESCRIPTION_MAX, NULL},
    {"description over the limit", DESCRIPTION, "x", CORE_EVENT_DESCRIPTION_MAX + 1,
     "description"},
    {"description with a control character", DESCRIPTION, "\x01", 1, "description"},
    {"description with bad UTF-8", DESCRIPTION, "\xc0\xaf", 1, "description"},
    {"empty location", LOCATION, "", 0, NULL},
    {"location at the limit", LOCATION, "x", CORE_EVENT_LOCATION_MAX, NULL},
    {"location over the limit", LOCATION, "x", CORE_EVENT_LOCATION_MAX + 1, "location"},
    {"location with a newline", LOCATION, "Room 1\n", 1, "location"},
    {"location with an escape", LOCATION, "\x1b[31m", 1, "location"},
};

Test(core_event, check_text_fields)
{
    for (size_t i = 0; i < ARRAY_LEN(text_cases); i++) {
        struct event ev = valid_event();
        const char *text = repeat(big_a, text_cases[i].unit, text_cases[i].count);
        switch (text_cases[i].field) {
        case TITLE:
            ev.title = text;
            break;
        case DESCRIPTION:
            ev.description = text;
            break;
        case LOCATION:
            ev.location = text;
            break;
        }
        struct pl_error err = {0};
        int rc = core_event_check(&ev, &err);
        if (text_cases[i].want_field == NULL)
            cr_expect(eq(int, rc, PL_OK), "%s: %s", text_cases[i].name, err.detail);
        else
            EXPECT_INVALID(rc, err, (char *)text_cases[i].want_field, "%s", text_cases[i].name);
    }
}

static const struct {
    const char *name;
    int64_t start_us, end_us;
    int want; /* PL_OK or PL_EINVAL naming "end" */
} time_cases[] = {
    {"one hour", T0, T0 + HOUR_US, PL_OK},
    {"one microsecond", T0, T0 + 1, PL_OK},
    {"end equals start", T0, T0, PL_EINVAL},
    {"end before start", T0, T0 - 1, PL_EINVAL},
    {"end a day before start", T0, T0 - DAY_US, PL_EINVAL},
    {"exactly 31 days", T0, T0 + 31 * DAY_US, PL_OK},
    {"31 days and a microsecond", T0, T0 + 31 * DAY_US + 1, PL_EINVAL},
    {"a year", T0, T0 + 365 * DAY_US, PL_EINVAL},
    {"before the epoch", -HOUR_US, 0, PL_OK},
    {"all day", T0, T0 + DAY_US, PL_OK},
};

Test(core_event, check_time_range)
{
    for (size_t i = 0; i < ARRAY_LEN(time_cases); i++) {
        struct event ev = valid_event();
        ev.start_us = time_cases[i].start_us;
        ev.end_us = time_cases[i].end_us;
        struct pl_error err = {0};
        int rc = core_event_check(&ev, &err);
        if (time_cases[i].want == PL_OK)
            cr_expect(eq(int, rc, PL_OK), "%s: %s", time_cases[i].name, err.detail);
        else
            EXPECT_INVALID(rc, err, "end", "%s", time_cases[i].name);
    }
}

Test(core_event, check_accepts_null_err)
{
    struct event ev = valid_event();
    cr_expect(eq(int, core_event_check(&ev, NULL), PL_OK));
    ev.end_us = ev.start_us;
    cr_expect(eq(int, core_event_check(&ev, NULL), PL_EINVAL));
    ev = valid_event();
    ev.title = "";
    cr_expect(eq(int, core_event_check(&ev, NULL), PL_EINVAL));
}

/* Text is checked before time: a bad title and a bad range report the title. */
Test(core_event, check_reports_text_before_time)
{
    struct event ev = valid_event();
    ev.title = "";
    ev.end_us = ev.start_us - 1;
    struct pl_error err = {0};
    EXPECT_INVALID(core_event_check(&ev, &err), err, "title", "title first");
}

/* ---- core_event_check_range ------------------------------------------------------------ */

static const struct {
    const char *name;
    int64_t from_us, to_us;
    int want;
} range_cases[] = {
    {"a day", T0, T0 + DAY_US, PL_OK},
    {"one microsecond", T0, T0 + 1, PL_OK},
    {"exactly 366 days", T0, T0 + 366 * DAY_US, PL_OK},
    {"366 days and a microsecond", T0, T0 + 366 * DAY_US + 1, PL_EINVAL},
    {"two years", T0, T0 + 730 * DAY_US, PL_EINVAL},
    {"empty", T0, T0, PL_EINVAL},
    {"backwards", T0, T0 - DAY_US, PL_EINVAL},
    {"across the epoch", -DAY_US, DAY_US, PL_OK},
};

Test(core_event, check_range)
{
    for (size_t i = 0; i < ARRAY_LEN(range_cases); i++) {
        struct pl_error err = {0};
        int rc = core_event_check_range(range_cases[i].from_us, range_cases[i].to_us, &err);
        if (range_cases[i].want == PL_OK)
            cr_expect(eq(int, rc, PL_OK), "%s: %s", range_cases[i].name, err.detail);
        else
            EXPECT_INVALID(rc, err, "to", "%s", range_cases[i].name);
        cr_expect(eq(int, core_event_check_range(range_cases[i].from_us, range_cases[i].to_us,
                                                 NULL),
                     range_cases[i].want),
                  "%s with NULL err", range_cases[i].name);
    }
}

/* ---- who sees and changes what --------------------------------------------------------- */

/* The whole matrix: access level x private x participant. */
static const struct {
    int access;
    bool is_private, is_participant;
    int want;
} view_cases[] = {
    {CAL_NONE, false, false, EVENT_VIEW_NONE},
    {CAL_NONE, true, false, EVENT_VIEW_NONE},
    {CAL_NONE, false, true, EVENT_VIEW_FULL},
    {CAL_NONE, true, true, EVENT_VIEW_FULL},
    {CAL_FREEBUSY, false, false, EVENT_VIEW_BUSY},
    {CAL_FREEBUSY, true, false, EVENT_VIEW_BUSY},
    {CAL_FREEBUSY, false, true, EVENT_VIEW_FULL},
    {CAL_FREEBUSY, true, true, EVENT_VIEW_FULL},
    {CAL_READ, false, false, EVENT_VIEW_FULL},
    {CAL_READ, true, false, EVENT_VIEW_BUSY},
    {CAL_READ, false, true, EVENT_VIEW_FULL},
    {CAL_READ, true, true, EVENT_VIEW_FULL},
    {CAL_WRITE, false, false, EVENT_VIEW_FULL},
    {CAL_WRITE, true, false, EVENT_VIEW_FULL},
    {CAL_WRITE, false, true, EVENT_VIEW_FULL},
    {CAL_WRITE, true, true, EVENT_VIEW_FULL},
    {CAL_OWNER, false, false, EVENT_VIEW_FULL},
    {CAL_OWNER, true, false, EVENT_VIEW_FULL},
    {CAL_OWNER, false, true, EVENT_VIEW_FULL},
    {CAL_OWNER, true, true, EVENT_VIEW_FULL},
};

Test(core_event, view_matrix)
{
    cr_assert(eq(sz, ARRAY_LEN(view_cases), 5 * 2 * 2));
    for (size_t i = 0; i < ARRAY_LEN(view_cases); i++)
        cr_expect(eq(int,
                     core_event_view(view_cases[i].access, view_cases[i].is_private,
                                     view_cases[i].is_participant),
                     view_cases[i].want),
                  "access %s, private %d, participant %d",
                  core_calendar_access_name(view_cases[i].access), view_cases[i].is_private,
                  view_cases[i].is_participant);
}

Test(core_event, may_write)
{
    static const struct {
        int access;
        bool want;
    } cases[] = {
        {CAL_NONE, false}, {CAL_FREEBUSY, false}, {CAL_READ, false},
        {CAL_WRITE, true}, {CAL_OWNER, true},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        cr_expect(eq(int, core_event_may_write(cases[i].access), cases[i].want), "access %d",
                  cases[i].access);
}

/* Access levels are ordered weakest first, which the rules above rely on. */
/* Every field an occurrence is made from counts; what it only shows does not. */
Test(core_event, same_occurrences)
{
    char zone[] = "Europe/Berlin", rule[] = "RRULE:FREQ=WEEKLY";
    const struct event base = {.id = 7, .calendar_id = 1, .room_id = 2, .title = "a",
                               .description = "d", .location = "l", .time_zone = "Europe/Berlin",
                               .start_us = 1000, .end_us = 2000, .status = EVENT_STATUS_CONFIRMED,
                               .visibility = EVENT_VISIBILITY_DEFAULT,
                               .recurrence = "RRULE:FREQ=WEEKLY", .version = 3};
    struct event e = base;
    e.title = "b";
    e.description = "e";
    e.location = "m";
    e.visibility = EVENT_VISIBILITY_PRIVATE;
    e.version = 4;
    e.time_zone = zone; /* equal text at another address */
    e.recurrence = rule;
    cr_expect(core_event_same_occurrences(&base, &e));
    struct event changed[9];
    for (size_t i = 0; i < ARRAY_LEN(changed); i++)
        changed[i] = base;
    changed[0].calendar_id = 9;
    changed[1].room_id = 0;
    changed[2].status = EVENT_STATUS_CANCELLED;
    changed[3].start_us = 1001;
    changed[4].end_us = 2001;
    changed[5].all_day = true;
    changed[6].time_zone = "UTC";
    changed[7].recurrence = NULL;
    changed[8].recurrence = "RRULE:FREQ=DAILY";
    for (size_t i = 0; i < ARRAY_LEN(changed); i++) {
        cr_expect(not(core_event_same_occurrences(&base, &changed[i])), "change %zu", i);
        cr_expect(not(core_event_same_occurrences(&changed[i], &base)), "change %zu back", i);
    }
    struct event single = base, also = base;
    single.recurrence = also.recurrence = NULL;
    cr_expect(core_event_same_occurrences(&single, &also));
}

Test(core_event, access_levels_are_ordered)
{
    cr_expect(lt(int, CAL_NONE, CAL_FREEBUSY));
    cr_expect(lt(int, CAL_FREEBUSY, CAL_READ));
    cr_expect(lt(int, CAL_READ, CAL_WRITE));
    cr_expect(lt(int, CAL_WRITE, CAL_OWNER));
    cr_expect(lt(int, EVENT_VIEW_NONE, EVENT_VIEW_BUSY));
    cr_expect(lt(int, EVENT_VIEW_BUSY, EVENT_VIEW_FULL));
}

/* ---- names ----------------------------------------------------------------------------- */

typedef int (*parse_fn)(const char *, const char *, int *, struct pl_error *);
typedef const char *(*name_fn)(int);

static const struct {
    const char *what;
    parse_fn parse;
    name_fn name;
    const char *const names[5];
    int values[5];
    size_t n;
    const char *fallback; /* name of an out-of-range value */
} enums[] = {
    {"status",
     core_event_status_parse,
     core_event_status_name,
     {"confirmed", "tentative", "cancelled"},
     {EVENT_STATUS_CONFIRMED, EVENT_STATUS_TENTATIVE, EVENT_STATUS_CANCELLED},
     3,
     "confirmed"},
    {"visibility",
     core_event_visibility_parse,
     core_event_visibility_name,
     {"default", "private"},
     {EVENT_VISIBILITY_DEFAULT, EVENT_VISIBILITY_PRIVATE},
     2,
     "default"},
    {"rsvp",
     core_rsvp_parse,
     core_rsvp_name,
     {"needs-action", "accepted", "declined", "tentative"},
     {RSVP_NEEDS_ACTION, RSVP_ACCEPTED, RSVP_DECLINED, RSVP_TENTATIVE},
     4,
     "needs-action"},
};

Test(core_event, names_round_trip)
{
    for (size_t e = 0; e < ARRAY_LEN(enums); e++) {
        for (size_t i = 0; i < enums[e].n; i++) {
            int v = -1;
            struct pl_error err = {0};
            cr_assert(eq(int, enums[e].parse(enums[e].names[i], enums[e].what, &v, &err), PL_OK),
                      "%s %s: %s", enums[e].what, enums[e].names[i], err.detail);
            cr_expect(eq(int, v, enums[e].values[i]), "%s %s", enums[e].what, enums[e].names[i]);
            cr_expect(eq(str, (char *)enums[e].name(enums[e].values[i]),
                         (char *)enums[e].names[i]),
                      "%s %d", enums[e].what, enums[e].values[i]);
        }
        cr_expect(eq(str, (char *)enums[e].name(-1), (char *)enums[e].fallback), "%s -1",
                  enums[e].what);
        cr_expect(eq(str, (char *)enums[e].name(99), (char *)enums[e].fallback), "%s 99",
                  enums[e].what);
    }
}

static const char *const bad_names[] = {
    "", "CONFIRMED", "Confirmed", "confirmed ", " private", "canceled", "needs_action",
    "accept", "none", "owner", "public", "x",
};

Test(core_event, names_reject)
{
    for (size_t e = 0; e < ARRAY_LEN(enums); e++)
        for (size_t i = 0; i < ARRAY_LEN(bad_names); i++) {
            int v = -7;
            struct pl_error err = {0};
            int rc = enums[e].parse(bad_names[i], enums[e].what, &v, &err);
            EXPECT_INVALID(rc, err, (char *)enums[e].what, "%s \"%s\"", enums[e].what,
                           bad_names[i]);
            cr_expect(eq(int, v, -7), "%s \"%s\": output untouched", enums[e].what, bad_names[i]);
            cr_expect(eq(int, enums[e].parse(bad_names[i], "f", &v, NULL), PL_EINVAL));
        }
}

Test(core_event, participant_role_names)
{
    cr_expect(eq(str, (char *)core_participant_role_name(PARTICIPANT_ORGANIZER), "organizer"));
    cr_expect(eq(str, (char *)core_participant_role_name(PARTICIPANT_ATTENDEE), "attendee"));
    cr_expect(eq(str, (char *)core_participant_role_name(42), "attendee"));
}

Test(core_event, share_roles_and_access_names)
{
    static const struct {
        const char *in;
        int want;
    } ok[] = {{"freebusy", CAL_FREEBUSY}, {"read", CAL_READ}, {"write", CAL_WRITE}};
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        int v = -1;
        struct pl_error err = {0};
        cr_assert(eq(int, core_share_role_parse(ok[i].in, "role", &v, &err), PL_OK), "%s: %s",
                  ok[i].in, err.detail);
        cr_expect(eq(int, v, ok[i].want), "%s", ok[i].in);
        cr_expect(eq(str, (char *)core_calendar_access_name(v), (char *)ok[i].in));
    }
    /* Owner and none are not roles one can share. */
    static const char *const bad[] = {"none", "owner", "", "Read", "write ", "freebusy\n"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        int v = -7;
        struct pl_error err = {0};
        EXPECT_INVALID(core_share_role_parse(bad[i], "role", &v, &err), err, "role", "\"%s\"",
                       bad[i]);
        cr_expect(eq(int, v, -7), "\"%s\": output untouched", bad[i]);
    }
    static const struct {
        int access;
        const char *want;
    } names[] = {
        {CAL_NONE, "none"},   {CAL_FREEBUSY, "freebusy"}, {CAL_READ, "read"},
        {CAL_WRITE, "write"}, {CAL_OWNER, "owner"},       {-1, "none"},
        {5, "none"},
    };
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        cr_expect(eq(str, (char *)core_calendar_access_name(names[i].access),
                     (char *)names[i].want),
                  "access %d", names[i].access);
}

/* ---- colours --------------------------------------------------------------------------- */

static const char *const color_ok[] = {"#3b82f6", "#000000", "#FFFFFF", "#ffffff", "#AbCdEf",
                                       "#0a0B0c"};

static const char *const color_bad[] = {
    "",         "#",        "3b82f6",   "#3b82f",    "#3b82f6a", "#3b82g6", "#3b 2f6",
    "##b82f6",  "#3b82f6\n", " #3b82f6", "#-b82f6",  "#+b82f6",  "rgb(1,2,3)", "blue",
    "#3B82F",   "#xyzxyz",  "#3b82f6 ",
};

Test(core_event, color_check)
{
    for (size_t i = 0; i < ARRAY_LEN(color_ok); i++) {
        struct pl_error err = {0};
        cr_expect(eq(int, core_color_check(color_ok[i], "color", &err), PL_OK), "%s: %s",
                  color_ok[i], err.detail);
    }
    for (size_t i = 0; i < ARRAY_LEN(color_bad); i++) {
        struct pl_error err = {0};
        EXPECT_INVALID(core_color_check(color_bad[i], "color", &err), err, "color", "\"%s\"",
                       color_bad[i]);
        cr_expect(eq(int, core_color_check(color_bad[i], "color", NULL), PL_EINVAL));
    }
}
