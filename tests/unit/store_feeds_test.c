/* store/feeds and the export reads of store/events: a calendar's feed token is replaced,
 * revoked and gone with its calendar or its owner's activity; a calendar's or a series' event
 * rows come with their own participants and reminders, in three statements that search
 * indexes instead of scanning tables. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "arena.h"
#include "store/calendars.h"
#include "store/events.h"
#include "store/feeds.h"
#include "store/internal.h"
#include "store/store.h"
#include "store/users.h"
#include "store_fixture.h"

#include <stdio.h>
#include <string.h>

#define S INT64_C(1000000)
#define T0 (INT64_C(1795417200) * S)

static struct store *db;
static struct arena *a;
static int64_t owner, guest, cal;

static int64_t create_user(const char *email)
{
    struct pl_error err = {0};
    struct user u = {.email = email, .name = "User", .time_zone = "UTC"};
    cr_assert(eq(int, store_users_create(db, &u, "hash", T0, &err), PL_OK), "%s", err.detail);
    return u.id;
}

static void setup(void)
{
    struct pl_error err = {0};
    db = fixture_store_open();
    a = arena_new(0);
    owner = create_user("owner@example.org");
    guest = create_user("guest@example.org");
    struct calendar c = {.owner_id = owner, .name = "Work", .color = "#123456",
                         .time_zone = "UTC"};
    cr_assert(eq(int, store_calendars_create(db, &c, T0, &err), PL_OK), "%s", err.detail);
    cal = c.id;
}

static void teardown(void)
{
    arena_free(a);
    store_close(db);
}

TestSuite(store_feeds, .init = setup, .fini = teardown);

static int lookup(const char *hash, struct calendar_feed *f)
{
    struct pl_error err = {0};
    return store_feeds_lookup(db, hash, f, &err);
}

Test(store_feeds, a_new_token_replaces_the_old_and_revoking_ends_it)
{
    struct pl_error err = {0};
    struct calendar_feed f;
    cr_assert(eq(int, lookup("h1", &f), PL_ENOTFOUND));
    cr_assert(eq(int, store_feeds_set(db, cal, "h1", owner, T0, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, lookup("h1", &f), PL_OK));
    cr_expect(eq(i64, f.calendar_id, cal));
    cr_expect(eq(i64, f.created_by, owner));
    cr_expect(eq(i64, f.created_us, T0));
    cr_assert(eq(int, store_feeds_set(db, cal, "h2", owner, T0 + S, &err), PL_OK));
    cr_expect(eq(int, lookup("h1", &f), PL_ENOTFOUND));
    cr_assert(eq(int, lookup("h2", &f), PL_OK));
    cr_expect(eq(i64, f.created_us, T0 + S));
    cr_assert(eq(int, store_feeds_delete(db, cal, &err), PL_OK));
    cr_expect(eq(int, lookup("h2", &f), PL_ENOTFOUND));
    cr_expect(eq(int, store_feeds_delete(db, cal, &err), PL_ENOTFOUND));
}

Test(store_feeds, a_feed_goes_with_its_calendar_and_its_owners_activity)
{
    struct pl_error err = {0};
    struct calendar_feed f;
    cr_assert(eq(int, store_feeds_set(db, cal, "h1", owner, T0, &err), PL_OK));
    cr_assert(eq(int, store_exec(db, "UPDATE users SET is_active = 0 WHERE email = 'owner@example.org'",
                                 &err), PL_OK));
    cr_expect(eq(int, lookup("h1", &f), PL_ENOTFOUND));
    cr_assert(eq(int, store_exec(db, "UPDATE users SET is_active = 1", &err), PL_OK));
    cr_expect(eq(int, lookup("h1", &f), PL_OK));
    cr_assert(eq(int, store_calendars_delete(db, cal, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(int, lookup("h1", &f), PL_ENOTFOUND));
}

/* An event of `cal` with `people` user participants and reminders. */
static int64_t add_event(const char *uid, int64_t parent, int64_t rid, const int64_t *people,
                         size_t n, const int *reminders, size_t nrem)
{
    struct pl_error err = {0};
    struct event ev = {.calendar_id = cal, .organizer_id = owner, .uid = uid, .title = uid,
                       .description = "", .location = "", .time_zone = "UTC",
                       .start_us = T0, .end_us = T0 + 3600 * S, .parent_id = parent,
                       .recurrence_id = rid,
                       .recurrence = parent ? NULL : "RRULE:FREQ=DAILY;COUNT=3"};
    cr_assert(eq(int, store_events_insert(db, &ev, T0, &err), PL_OK), "%s", err.detail);
    struct participant p[4];
    for (size_t i = 0; i < n; i++)
        p[i] = (struct participant){.user_id = people[i],
                                    .role = i ? PARTICIPANT_ATTENDEE : PARTICIPANT_ORGANIZER,
                                    .rsvp = i ? RSVP_TENTATIVE : RSVP_ACCEPTED};
    cr_assert(eq(int, store_events_set_participants(db, ev.id, p, n, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_events_set_reminders(db, ev.id, reminders, nrem, &err), PL_OK));
    return ev.id;
}

Test(store_feeds, calendar_rows_come_with_their_own_people_and_reminders)
{
    struct pl_error err = {0};
    const int64_t both[] = {owner, guest}, alone[] = {owner};
    const int rem_a[] = {30, 10}, rem_c[] = {5};
    int64_t ida = add_event("a", 0, 0, both, 2, rem_a, 2);
    int64_t idb = add_event("b", 0, 0, alone, 1, NULL, 0);
    int64_t idc = add_event("a/1", ida, T0 + 86400 * S, alone, 1, rem_c, 1);
    struct event_row *rows;
    size_t n;
    store_plan_capture(db, true);
    cr_assert(eq(int, store_events_of_calendar(db, cal, guest, a, &rows, &n, &err), PL_OK),
              "%s", err.detail);
    const char *plans = store_plan_get(db);
    cr_assert(eq(sz, n, 3));
    /* Each series followed by its overrides. */
    cr_expect(eq(i64, rows[0].ev.id, ida));
    cr_expect(eq(i64, rows[1].ev.id, idc));
    cr_expect(eq(i64, rows[1].ev.parent_id, ida));
    cr_expect(eq(i64, rows[2].ev.id, idb));
    cr_expect(rows[0].is_participant);
    cr_expect(not(rows[1].is_participant));
    cr_assert(eq(sz, rows[0].nparticipants, 2));
    cr_expect(eq(str, (char *)rows[0].participants[1].email, "guest@example.org"));
    cr_expect(eq(int, rows[0].participants[1].rsvp, RSVP_TENTATIVE));
    cr_expect(eq(sz, rows[1].nparticipants, 1));
    cr_expect(eq(sz, rows[2].nparticipants, 1));
    cr_assert(eq(sz, rows[0].nreminders, 2));
    cr_expect(eq(int, rows[0].reminders[0], 10));
    cr_expect(eq(int, rows[0].reminders[1], 30));
    cr_expect(eq(sz, rows[1].nreminders, 1));
    cr_expect(eq(sz, rows[2].nreminders, 0));
    cr_expect(eq(str, (char *)rows[0].ev.recurrence, "RRULE:FREQ=DAILY;COUNT=3"));
    /* Three statements, none scanning a table. */
    size_t statements = 0;
    for (const char *p = plans; *p; p++)
        statements += *p == '\n';
    cr_expect(eq(sz, statements, 3), "%s", plans);
    cr_expect(strstr(plans, "SCAN e") == NULL && strstr(plans, "SCAN p") == NULL &&
                  strstr(plans, "SCAN event") == NULL,
              "a table scan:\n%s", plans);

    cr_assert(eq(int, store_events_of_series(db, ida, owner, a, &rows, &n, &err), PL_OK));
    cr_assert(eq(sz, n, 2));
    cr_expect(eq(i64, rows[0].ev.id, ida));
    cr_expect(eq(i64, rows[1].ev.id, idc));
    cr_expect(eq(sz, rows[0].nparticipants, 2));
    cr_expect(eq(sz, rows[1].nreminders, 1));
    cr_assert(eq(int, store_events_of_series(db, 999, owner, a, &rows, &n, &err), PL_OK));
    cr_expect(eq(sz, n, 0));
}
