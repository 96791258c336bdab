/* The range queries behind agendas, calendar listings, room bookings, room conflicts and
 * free/busy use the composite (x, starts_at) indexes with both bounds of the range, and never
 * scan a table: their cost follows the size of the answer, not of the database. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "core/event.h"
#include "store/calendars.h"
#include "store/events.h"
#include "store/notifications.h"
#include "store/rooms.h"
#include "store/store.h"
#include "store/users.h"
#include "store_fixture.h"

static struct store *db;
static struct arena *a;
static int64_t user_id, cal_id, room_id;
static const struct store_page page = {.limit = 100};

static void setup(void)
{
    struct pl_error err = {0};
    db = fixture_store_open();
    a = arena_new(0);
    struct user u = {.email = "plan@example.org", .name = "Plan", .time_zone = "UTC"};
    cr_assert(eq(int, store_users_create(db, &u, "hash", 1, &err), PL_OK), "%s", err.detail);
    user_id = u.id;
    cr_assert(eq(int, store_calendars_default(db, user_id, &cal_id, &err), PL_OK));
    const char *features[] = {"projector"};
    struct room r = {.name = "Plan room", .capacity = 8, .location = "", .features = features,
                     .nfeatures = 1};
    cr_assert(eq(int, store_rooms_create(db, &r, 1, &err), PL_OK), "%s", err.detail);
    room_id = r.id;
    /* A few events, so that the tables are not empty. */
    for (int i = 0; i < 20; i++) {
        struct event ev = {.calendar_id = cal_id, .organizer_id = user_id,
                           .uid = arena_printf(a, "plan-%d", i), .title = "t", .description = "",
                           .location = "", .time_zone = "UTC", .room_id = i % 2 ? room_id : 0,
                           .start_us = (int64_t)i * 7200000000, .end_us = (int64_t)i * 7200000000 + 3600000000};
        cr_assert(eq(int, store_events_insert(db, &ev, 1, &err), PL_OK), "%s", err.detail);
        cr_assert(eq(int, store_events_reindex(db, ev.id, NULL, NULL, 0, 0, a, &err), PL_OK), "%s", err.detail);
    }
}

static void teardown(void)
{
    arena_free(a);
    store_close(db);
}

/* The captured plan line of the statement whose SQL contains `marker`. */
static const char *plan_of(const char *plans, const char *marker)
{
    const char *p = strstr(plans, marker);
    cr_assert(p != NULL, "no statement with %s in:\n%s", marker, plans);
    while (p > plans && p[-1] != '\n')
        p--;
    return p;
}

/* The first line of `plan`, into line[4096]. */
static const char *first_line(const char *plan, char line[4096])
{
    const char *end = strchr(plan, '\n');
    size_t n = end ? (size_t)(end - plan) : strlen(plan);
    snprintf(line, 4096, "%.*s", (int)(n < 4095 ? n : 4095), plan);
    return line;
}

static void assert_uses(const char *plan, const char *index_use)
{
    char line[4096];
    first_line(plan, line);
    cr_assert(strstr(line, index_use) != NULL, "expected \"%s\" in the plan:\n%s", index_use, line);
    cr_assert(strstr(line, "SCAN i ") == NULL && strstr(line, "SCAN ui") == NULL &&
                  strstr(line, "SCAN i;") == NULL,
              "a range query scans a table:\n%s", line);
}

TestSuite(store_plan, .init = setup, .fini = teardown);

Test(store_plan, agenda_reads_one_users_range)
{
    struct pl_error err = {0};
    struct occurrence *occ;
    size_t n;
    store_plan_capture(db, true);
    cr_assert(eq(int, store_events_agenda(db, user_id, 0, 86400000000, &page, a, &occ, &n, &err), PL_OK));
    cr_assert(eq(int, store_events_attach_participants(db, occ, n, a, &err), PL_OK));
    const char *plans = store_plan_get(db);
    assert_uses(plan_of(plans, "FROM user_instances ui"),
                "USING PRIMARY KEY (user_id=? AND starts_at>? AND starts_at<?)");
    cr_assert(gt(sz, n, 0));
}

Test(store_plan, calendar_listing_uses_calendar_index)
{
    struct pl_error err = {0};
    struct occurrence *occ;
    size_t n;
    store_plan_capture(db, true);
    cr_assert(eq(int, store_events_in_calendar(db, cal_id, user_id, 0, 86400000000, &page, a, &occ,
                                              &n, &err), PL_OK));
    assert_uses(plan_of(store_plan_get(db), "WHERE i.calendar_id"),
                "USING INDEX event_instances_calendar (calendar_id=? AND starts_at>? AND starts_at<?)");
}

Test(store_plan, room_bookings_and_conflicts_use_room_index)
{
    struct pl_error err = {0};
    struct occurrence *occ;
    struct conflict *c;
    size_t n;
    store_plan_capture(db, true);
    cr_assert(eq(int, store_events_in_room(db, room_id, user_id, 0, 86400000000, &page, a, &occ, &n,
                                          &err), PL_OK));
    const int64_t ranges[] = {0, 3600000000, 86400000000, 90000000000};
    cr_assert(eq(int, store_events_room_conflicts(db, room_id, ranges, 2, 0, 10, a, &c, &n, &err),
                 PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_events_room_conflicts(db, room_id, ranges, 1, 0, 10, a, &c, &n, &err),
                 PL_OK), "%s", err.detail);
    const char *plans = store_plan_get(db);
    assert_uses(plan_of(plans, "ORDER BY i.starts_at, i.id"),
                "USING INDEX event_instances_room (room_id=? AND starts_at>? AND starts_at<?)");
    assert_uses(plan_of(plans, "json_each($2) e"),
                "USING INDEX event_instances_room (room_id=? AND starts_at>? AND starts_at<?)");
    assert_uses(plan_of(plans, "$4 AS end_us"),
                "USING INDEX event_instances_room (room_id=? AND starts_at>? AND starts_at<?)");
}

Test(store_plan, freebusy_uses_user_and_room_ranges)
{
    struct pl_error err = {0};
    struct busy_row *rows;
    size_t n;
    int64_t users[] = {user_id}, rooms[] = {room_id};
    store_plan_capture(db, true);
    cr_assert(eq(int, store_events_busy_users(db, users, 1, 0, 86400000000, a, &rows, &n, &err), PL_OK));
    cr_assert(eq(int, store_events_busy_rooms(db, rooms, 1, 0, 86400000000, a, &rows, &n, &err), PL_OK));
    const char *plans = store_plan_get(db);
    assert_uses(plan_of(plans, "ui.busy = 2"),
                "USING PRIMARY KEY (user_id=? AND starts_at>? AND starts_at<?)");
    /* Covering (migration 006): the busy rows come from the index alone. */
    assert_uses(plan_of(plans, "i.status = 'tentative'"),
                "USING COVERING INDEX event_instances_room (room_id=? AND starts_at>? AND starts_at<?)");
    /* The owners are joined, not looked up in a temporary b-tree built from an IN list, and
     * the rows come in the index's order, not through a sort (busy_query says why). */
    const char *markers[] = {"ui.busy = 2", "i.status = 'tentative'"};
    for (size_t i = 0; i < 2; i++) {
        char line[4096];
        first_line(plan_of(plans, markers[i]), line);
        cr_assert(strstr(line, "LIST SUBQUERY") == NULL && strstr(line, "TEMP B-TREE") == NULL,
                  "a temporary b-tree for the owners or the order:\n%s", line);
    }
}

/* Reconciling a series' reminders looks each (user, occurrence) up by index: scans here were
 * quadratic in a series' occurrences x people (migration 008), and reading an event's other
 * notifications to find its reminders grew with every change to it (migration 009). */
Test(store_plan, reminder_reconciliation_looks_up_by_index)
{
    struct pl_error err = {0};
    store_plan_capture(db, true);
    cr_assert(eq(int, store_notifications_schedule_reminders(db, 1, 0, &err), PL_OK), "%s",
              err.detail);
    const char *plans = store_plan_get(db);
    assert_uses(plan_of(plans, "DELETE FROM notifications"),
                "USING COVERING INDEX event_instances_event (event_id=? AND starts_at=?)");
    assert_uses(plan_of(plans, "DELETE FROM notifications"),
                "USING INDEX user_instances_instance (instance_id=?)");
    assert_uses(plan_of(plans, "INSERT INTO notifications"),
                "USING INDEX notifications_event (event_id=? AND type=? AND user_id=? AND starts_at=?)");
    assert_uses(plan_of(plans, "DELETE FROM notifications"),
                "USING INDEX notifications_event (event_id=? AND type=?)");
}

/* An RSVP reconciles only its user's reminders: one user's rows of the index, not the event's. */
Test(store_plan, one_users_reminders_are_reconciled_by_index)
{
    struct pl_error err = {0};
    store_plan_capture(db, true);
    cr_assert(eq(int, store_notifications_schedule_reminders_of(db, 1, 1, 0, &err), PL_OK),
              "%s", err.detail);
    const char *plans = store_plan_get(db);
    assert_uses(plan_of(plans, "DELETE FROM notifications"),
                "USING INDEX notifications_event (event_id=? AND type=? AND user_id=? AND starts_at>?)");
    assert_uses(plan_of(plans, "INSERT INTO notifications"),
                "USING INDEX notifications_event (event_id=? AND type=? AND user_id=? AND starts_at=?)");
}

/* An extended series' reminders are added for its new occurrences alone: a range of the
 * event's occurrences from the first new start, not its every occurrence. */
Test(store_plan, reminders_of_new_occurrences_are_a_range)
{
    struct pl_error err = {0};
    store_plan_capture(db, true);
    cr_assert(eq(int, store_notifications_remind_from(db, 1, 86400000000, 0, &err), PL_OK), "%s",
              err.detail);
    const char *plans = store_plan_get(db);
    assert_uses(plan_of(plans, "INSERT INTO notifications"),
                "USING INDEX event_instances_event (event_id=? AND starts_at>?)");
    assert_uses(plan_of(plans, "INSERT INTO notifications"),
                "USING INDEX notifications_event (event_id=? AND type=? AND user_id=? AND starts_at=?)");
}

/* The unread listing reads its page from the unread index alone: one user's unread rows lie
 * together there, while in the table they are scattered among everyone's. */
Test(store_plan, unread_notifications_read_the_unread_index_alone)
{
    struct pl_error err = {0};
    struct notification *items;
    size_t n;
    store_plan_capture(db, true);
    cr_assert(eq(int, store_notifications_list(db, user_id, true, 1, 0, 0, 100, a, &items, &n,
                                               &err), PL_OK), "%s", err.detail);
    assert_uses(plan_of(store_plan_get(db), "read_at IS NULL"),
                "USING COVERING INDEX notifications_unread (user_id=? AND scheduled_for<?)");
}

/* The full listing merges walks of the two partial indexes, of unread and of read rows, each
 * in order: no sort of the user's rows, no scan (migration 015). */
Test(store_plan, all_notifications_merge_the_unread_and_read_indexes)
{
    struct pl_error err = {0};
    struct notification *items;
    size_t n;
    store_plan_capture(db, true);
    cr_assert(eq(int, store_notifications_list(db, user_id, false, 1, 0, 0, 100, a, &items, &n,
                                               &err), PL_OK), "%s", err.detail);
    char line[4096];
    first_line(plan_of(store_plan_get(db), "read_at IS NOT NULL"), line);
    cr_assert(strstr(line, "MERGE (UNION ALL)") != NULL, "expected a merge:\n%s", line);
    cr_assert(strstr(line, "USING COVERING INDEX notifications_unread (user_id=? AND "
                           "scheduled_for<?)") != NULL, "no walk of the unread rows:\n%s", line);
    cr_assert(strstr(line, "USING INDEX notifications_read (user_id=? AND scheduled_for<?)") !=
                  NULL, "no walk of the read rows:\n%s", line);
    cr_assert(strstr(line, "TEMP B-TREE") == NULL && strstr(line, "SCAN") == NULL,
              "the listing sorts or scans:\n%s", line);
}

/* A rename moves the versions of the user's events, found through the occurrences the user
 * takes part in and the events with none (migration 016): scanning every participant row
 * took 0.4-6 s at W200 x100, with every other write of the server waiting behind it. */
Test(store_plan, a_rename_finds_the_users_events_by_index)
{
    struct pl_error err = {0};
    struct user got;
    const struct store_user_patch rename = {.name = "Plan Renamed", .role = -1, .active = -1};
    store_plan_capture(db, true);
    cr_assert(eq(int, store_users_update(db, user_id, &rename, -1, 1, a, &got, &err), PL_OK), "%s",
              err.detail);
    char line[4096];
    first_line(plan_of(store_plan_get(db), "UPDATE events SET version"), line);
    cr_assert(strstr(line, "SEARCH ui USING PRIMARY KEY (user_id=?)") != NULL &&
                  strstr(line, "SCAN e USING INDEX events_bare") != NULL,
              "expected the user's occurrences and the bare events in the plan:\n%s", line);
    cr_assert(strstr(line, "SCAN event_participants") == NULL &&
                  strstr(line, "SCAN e;") == NULL && strstr(line, "SCAN ui") == NULL,
              "the rename scans:\n%s", line);
}

/* A series of calendar `cal` (room `room`, participant `guest`: 0 for none), expanded once,
 * reaching 1000 us. */
static int64_t add_series(int64_t cal, int64_t room, int64_t guest, const char *uid)
{
    struct pl_error err = {0};
    struct event ev = {.calendar_id = cal, .organizer_id = user_id, .uid = uid, .title = "s",
                       .description = "", .location = "", .time_zone = "UTC", .room_id = room,
                       .start_us = 0, .end_us = 100, .recurrence = "RRULE:FREQ=WEEKLY"};
    const int64_t starts[] = {0};
    struct participant p = {.user_id = guest, .role = PARTICIPANT_ATTENDEE,
                            .rsvp = RSVP_NEEDS_ACTION};
    cr_assert(eq(int, store_events_insert(db, &ev, 1, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_events_set_participants(db, ev.id, &p, guest ? 1 : 0, &err), PL_OK));
    cr_assert(eq(int, store_events_reindex(db, ev.id, starts, NULL, 1, 1000, a, &err), PL_OK),
              "%s", err.detail);
    return ev.id;
}

/* The series of `scope` short of `until`, as a bit set of `all`'s indexes. */
static unsigned short_of(const struct store_scope *scope, int64_t until, const int64_t *all,
                         size_t nall)
{
    struct pl_error err = {0};
    int64_t *ids;
    size_t n;
    cr_assert(eq(int, store_events_series_short(db, until, scope, a, &ids, &n, &err), PL_OK),
              "%s", err.detail);
    unsigned set = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < nall; k++)
            set |= ids[i] == all[k] ? 1u << k : 0;
    return set;
}

/* The default calendar of a second user. */
static int64_t other_calendar(void)
{
    struct pl_error err = {0};
    struct user u = {.email = "other@example.org", .name = "Other", .time_zone = "UTC"};
    int64_t cal;
    cr_assert(eq(int, store_users_create(db, &u, "hash", 1, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_calendars_default(db, u.id, &cal, &err), PL_OK));
    return cal;
}

/* Past what every series reaches, a request extends the series of its scope alone (the
 * architecture's "Recurring events"); a write's, its room's, is found through the series'
 * room index, under the writers' lock, never through a pass over every series. */
Test(store_plan, the_series_of_a_scope_short_of_a_range)
{
    int64_t other_cal = other_calendar();
    const int64_t all[] = {
        add_series(cal_id, room_id, 0, "mine-in-room"),  /* bit 0 */
        add_series(other_cal, 0, user_id, "invited"),    /* bit 1 */
        add_series(other_cal, 0, 0, "theirs"),           /* bit 2 */
        add_series(other_cal, room_id, 0, "theirs-in-room"), /* bit 3 */
    };
    const int64_t me[] = {user_id}, rooms[] = {room_id};
    cr_assert(eq(u32, short_of(&(struct store_scope){.series_id = all[2]}, 2000, all, 4), 4));
    cr_assert(eq(u32, short_of(&(struct store_scope){.calendar_id = cal_id}, 2000, all, 4), 1));
    cr_assert(eq(u32, short_of(&(struct store_scope){.users = me, .nusers = 1}, 2000, all, 4), 3));
    cr_assert(eq(u32, short_of(&(struct store_scope){.any_room = true}, 2000, all, 4), 9));
    cr_assert(eq(u32, short_of(&(struct store_scope){0}, 2000, all, 4), 0));
    cr_assert(eq(u32, short_of(&(struct store_scope){.users = me, .nusers = 1}, 1000, all, 4), 0));
    store_plan_capture(db, true);
    cr_assert(eq(u32, short_of(&(struct store_scope){.rooms = rooms, .nrooms = 1}, 2000, all, 4),
                 9));
    char line[4096];
    first_line(plan_of(store_plan_get(db), "json_each($6) r"), line);
    cr_assert(strstr(line, "USING INDEX events_series_room (room_id=?)") != NULL, "%s", line);
    cr_assert(strstr(line, "event_participants_series (user_id=?)") != NULL, "%s", line);
    cr_assert(strstr(line, "materialized_until<") == NULL, "a pass over the series:\n%s", line);
}

/* The series a user takes part in are found through the index of series' participants
 * (migration 020), which must follow an event that becomes a series. */
Test(store_plan, a_single_event_made_a_series_is_found_for_its_participants)
{
    struct pl_error err = {0};
    int64_t other_cal = other_calendar();
    struct event ev = {.calendar_id = other_cal, .organizer_id = user_id, .uid = "once",
                       .title = "s", .description = "", .location = "", .time_zone = "UTC",
                       .start_us = 0, .end_us = 100};
    struct participant p = {.user_id = user_id, .role = PARTICIPANT_ATTENDEE,
                            .rsvp = RSVP_NEEDS_ACTION};
    cr_assert(eq(int, store_events_insert(db, &ev, 1, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_events_set_participants(db, ev.id, &p, 1, &err), PL_OK));
    const int64_t me[] = {user_id}, all[] = {ev.id};
    const struct store_scope mine = {.users = me, .nusers = 1};
    cr_assert(eq(int, store_events_update(db, &ev, -1, 2, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(u32, short_of(&mine, 2000, all, 1), 0));
    ev.recurrence = "RRULE:FREQ=WEEKLY";
    cr_assert(eq(int, store_events_update(db, &ev, -1, 3, &err), PL_OK), "%s", err.detail);
    const int64_t starts[] = {0};
    cr_assert(eq(int, store_events_reindex(db, ev.id, starts, NULL, 1, 1000, a, &err), PL_OK));
    cr_assert(eq(u32, short_of(&mine, 2000, all, 1), 1));
    ev.recurrence = NULL;
    cr_assert(eq(int, store_events_update(db, &ev, -1, 4, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(u32, short_of(&mine, 2000, all, 1), 0));
}
