/* store/cache and the participant lists of store/events kept in it: an entry is found only
 * under the version it was kept with, the budget holds and the clock drops what was not read;
 * and, through two connections on one file, a list read again after an answer or a new name
 * is the new one (the occurrences carry their event's version, migration 013), while a write
 * transaction neither reads nor fills the cache. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "arena.h"
#include "log.h"
#include "store/cache.h"
#include "store/calendars.h"
#include "store/events.h"
#include "store/internal.h"
#include "store/store.h"
#include "store/users.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- the cache alone ---------------------------------------------------------------------- */

static void fill(unsigned char *blob, size_t len, int64_t id, int64_t version)
{
    for (size_t i = 0; i < len; i++)
        blob[i] = (unsigned char)(id * 31 + version * 7 + (int64_t)i);
}

static bool holds(struct store_cache *c, int64_t id, int64_t version, size_t len,
                  struct arena *a)
{
    unsigned char want[512];
    size_t got_len = 0;
    unsigned char *got = store_cache_get(c, id, version, a, &got_len);
    if (got == NULL)
        return false;
    fill(want, len, id, version);
    cr_assert(eq(sz, got_len, len));
    cr_assert(eq(int, memcmp(got, want, len), 0), "entry %lld/%lld holds other bytes",
              (long long)id, (long long)version);
    return true;
}

static void put(struct store_cache *c, int64_t id, int64_t version, size_t len)
{
    unsigned char blob[512];
    fill(blob, len, id, version);
    cr_assert(store_cache_put(c, id, version, blob, len));
}

Test(store_cache, an_entry_is_found_only_under_its_version)
{
    struct arena *a = arena_new(0);
    struct store_cache *c = store_cache_new(64 * 1024, 256);
    cr_assert(ne(ptr, c, NULL));
    cr_expect(not(holds(c, 7, 1, 100, a)));
    put(c, 7, 1, 100);
    cr_expect(holds(c, 7, 1, 100, a));
    cr_expect(not(holds(c, 7, 2, 100, a)), "another version of the row");
    cr_expect(not(holds(c, 8, 1, 100, a)), "another row");
    put(c, 7, 2, 50); /* a new version replaces the old */
    cr_expect(holds(c, 7, 2, 50, a));
    cr_expect(not(holds(c, 7, 1, 100, a)));
    put(c, 7 + 256, 1, 10); /* the same slot (ids 256 apart): replaces, never confuses */
    cr_expect(holds(c, 7 + 256, 1, 10, a));
    cr_expect(not(holds(c, 7, 2, 50, a)));
    struct store_cache_stats s;
    store_cache_stats(c, &s);
    cr_expect(eq(sz, s.entries, 1));
    cr_expect(eq(sz, s.bytes, 10));
    cr_expect(eq(u64, s.hits, 3));
    cr_expect(eq(u64, s.misses, 5));
    store_cache_free(c);
    arena_free(a);
}

Test(store_cache, the_budget_holds_and_the_clock_keeps_what_is_read)
{
    enum { BUDGET = 64 * 1024, LEN = 400 };
    struct arena *a = arena_new(0);
    struct store_cache *c = store_cache_new(BUDGET, 256);
    cr_assert(ne(ptr, c, NULL));
    unsigned char big[BUDGET / 8 + 1] = {0};
    cr_expect(not(store_cache_put(c, 1, 1, big, sizeof big)), "larger than an eighth");
    /* 256 entries of 400 bytes, in 256 slots (no two share one) and a budget for 163: ids
     * 1-10 are read after every put, the rest are put once and never read. */
    for (int64_t id = 1; id <= 256; id++) {
        put(c, id, 1, LEN);
        for (int64_t hot = 1; hot <= 10 && hot < id; hot++)
            cr_assert(holds(c, hot, 1, LEN, a), "entry %lld, read all along, was dropped at %lld",
                      (long long)hot, (long long)id);
        struct store_cache_stats s;
        store_cache_stats(c, &s);
        cr_assert(le(sz, s.bytes, (size_t)BUDGET), "%zu bytes kept after %lld", s.bytes,
                  (long long)id);
    }
    struct store_cache_stats s;
    store_cache_stats(c, &s);
    cr_expect(ge(sz, s.bytes, (size_t)BUDGET - 2 * LEN), "the budget is used: %zu", s.bytes);
    cr_expect(holds(c, 256, 1, LEN, a), "the newest entry is kept");
    cr_expect(not(holds(c, 11, 1, LEN, a)), "an old entry never read is dropped");
    store_cache_free(c);
    arena_free(a);
}

/* Threads putting and reading the same few rows: whatever a reader finds is the blob of the
 * version it asked for (ASan and the checks here would see a torn or freed copy). */
struct hammer {
    struct store_cache *c;
    int seed;
};

static void *hammer(void *arg)
{
    struct hammer *h = arg;
    struct arena *a = arena_new(0);
    unsigned x = (unsigned)h->seed;
    for (int i = 0; i < 20000; i++) {
        x = x * 1103515245u + 12345u;
        int64_t id = 1 + (x >> 16) % 50, version = 1 + (x >> 8) % 3;
        if (i % 3 == 0) {
            unsigned char blob[512];
            fill(blob, 300, id, version);
            (void)store_cache_put(h->c, id, version, blob, 300);
        } else {
            (void)holds(h->c, id, version, 300, a);
        }
        if (i % 1000 == 0) {
            arena_free(a);
            a = arena_new(0);
        }
    }
    arena_free(a);
    return NULL;
}

Test(store_cache, threads_only_ever_find_the_version_they_ask_for)
{
    struct store_cache *c = store_cache_new(8 * 1024, 256);
    cr_assert(ne(ptr, c, NULL));
    pthread_t t[4];
    struct hammer h[4];
    for (int i = 0; i < 4; i++) {
        h[i] = (struct hammer){.c = c, .seed = i + 1};
        cr_assert(eq(int, pthread_create(&t[i], NULL, hammer, &h[i]), 0));
    }
    for (int i = 0; i < 4; i++)
        cr_assert(eq(int, pthread_join(t[i], NULL), 0));
    struct store_cache_stats s;
    store_cache_stats(c, &s);
    cr_expect(gt(u64, s.hits, 0));
    cr_expect(le(sz, s.bytes, (size_t)8 * 1024));
    store_cache_free(c);
}

/* ---- participant lists, through two connections ------------------------------------------- */

#define S INT64_C(1000000)
#define T0 (INT64_C(1795417200) * S)
#define DAY (86400 * S)

static char dir[64], url[128];
static struct store *reader, *writer;
static struct arena *ar;
static int64_t owner, guest, calendar, event_id;

static int64_t create_user(const char *email, const char *name)
{
    struct pl_error err = {0};
    struct user u = {.email = email, .name = name, .time_zone = "UTC"};
    cr_assert(eq(int, store_users_create(writer, &u, "hash", T0, &err), PL_OK), "%s", err.detail);
    return u.id;
}

static void setup(void)
{
    log_init(LOG_WARN, "test");
    snprintf(dir, sizeof dir, "/tmp/planner-cache-test-XXXXXX");
    cr_assert(ne(ptr, mkdtemp(dir), NULL));
    snprintf(url, sizeof url, "sqlite:%s/planner.db", dir);
    struct pl_error err = {0};
    writer = store_open(url, &err);
    cr_assert(ne(ptr, writer, NULL), "%s", err.detail);
    cr_assert(eq(int, store_migrate(writer, NULL, &err), PL_OK), "%s", err.detail);
    reader = store_open(url, &err);
    cr_assert(ne(ptr, reader, NULL), "%s", err.detail);
    ar = arena_new(0);
    owner = create_user("owner@example.org", "Owner");
    guest = create_user("guest@example.org", "Guest");
    struct calendar c = {.owner_id = owner, .name = "Work", .color = "#123456",
                         .time_zone = "UTC"};
    cr_assert(eq(int, store_calendars_create(writer, &c, T0, &err), PL_OK), "%s", err.detail);
    calendar = c.id;
    struct event ev = {.calendar_id = c.id, .organizer_id = owner, .uid = "u1", .title = "Plan",
                       .description = "", .location = "", .time_zone = "UTC",
                       .start_us = T0, .end_us = T0 + 3600 * S,
                       .recurrence = "RRULE:FREQ=DAILY;COUNT=2"};
    const int64_t starts[] = {T0, T0 + DAY};
    struct participant p[] = {{.user_id = owner, .role = PARTICIPANT_ORGANIZER,
                               .rsvp = RSVP_ACCEPTED},
                              {.user_id = guest, .role = PARTICIPANT_ATTENDEE,
                               .rsvp = RSVP_NEEDS_ACTION},
                              {.email = "outside@elsewhere.org", .role = PARTICIPANT_ATTENDEE,
                               .rsvp = RSVP_TENTATIVE}};
    cr_assert(eq(int, store_begin(writer, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_events_insert(writer, &ev, T0, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_events_set_participants(writer, ev.id, p, 3, &err), PL_OK), "%s",
              err.detail);
    cr_assert(eq(int, store_events_reindex(writer, ev.id, starts, NULL, 2, T0 + 2 * DAY, ar, &err),
                 PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_commit(writer, &err), PL_OK), "%s", err.detail);
    event_id = ev.id;
    cr_assert(store_events_cache_start(1024 * 1024));
}

static void teardown(void)
{
    store_events_cache_end();
    arena_free(ar);
    store_close(reader);
    store_close(writer);
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char path[160];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/planner.db%s", dir, suffixes[i]);
        unlink(path);
    }
    rmdir(dir);
}

TestSuite(store_cache_lists, .init = setup, .fini = teardown);

/* The list of the event as `reader` reads it in the owner's agenda, which has its two
 * occurrences, in a snapshot or not; "name:rsvp:role,..." in list order. */
static const char *read_list(bool snapshot)
{
    struct pl_error err = {0};
    struct occurrence *occ;
    size_t n;
    struct store_page page = {.limit = 10};
    if (snapshot)
        cr_assert(eq(int, store_snapshot(reader, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_events_agenda(reader, owner, T0 - DAY, T0 + 3 * DAY, &page, ar, &occ,
                                          &n, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(sz, n, 2));
    cr_assert(eq(i64, occ[0].event_id, event_id));
    cr_assert(eq(i64, occ[1].event_id, event_id));
    cr_assert(eq(int, store_events_attach_participants(reader, occ, 2, ar, &err), PL_OK), "%s",
              err.detail);
    store_release(reader);
    cr_assert(eq(ptr, occ[0].participants, occ[1].participants), "occurrences share a list");
    char *out = arena_strdup(ar, "");
    for (size_t i = 0; i < occ[0].nparticipants; i++) {
        const struct participant *p = &occ[0].participants[i];
        out = arena_printf(ar, "%s%s%s:%s:%d", out, i ? "," : "", p->name[0] ? p->name : p->email,
                           core_rsvp_name(p->rsvp), p->role);
    }
    return out;
}

#define FIRST "Owner:accepted:0,Guest:needs-action:1,outside@elsewhere.org:tentative:1"

static struct store_cache_stats stats(void)
{
    struct store_cache_stats s;
    store_events_cache_stats(&s);
    return s;
}

Test(store_cache_lists, a_list_is_read_again_after_every_change_that_moves_the_version)
{
    struct pl_error err = {0};
    cr_expect(eq(str, (char *)read_list(true), (char *)FIRST));
    cr_expect(eq(u64, stats().misses, 1));
    cr_expect(eq(str, (char *)read_list(true), (char *)FIRST));
    cr_expect(eq(u64, stats().hits, 1), "the second read comes from the cache");

    /* Another connection (another worker) answers: the version moves, the list is new. */
    cr_assert(eq(int, store_begin(writer, &err), PL_OK), "%s", err.detail);
    int was;
    cr_assert(eq(int, store_events_set_rsvp(writer, event_id, guest, RSVP_ACCEPTED, T0 + S, &was,
                                            &err),
                 PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_commit(writer, &err), PL_OK), "%s", err.detail);
    const char *answered = "Owner:accepted:0,Guest:accepted:1,outside@elsewhere.org:tentative:1";
    cr_expect(eq(str, (char *)read_list(true), (char *)answered));

    /* A new name of a participant moves it too. */
    struct store_user_patch rename = {.name = "Guesta", .role = -1, .active = -1};
    struct user u;
    cr_assert(eq(int, store_users_update(writer, guest, &rename, -1, T0 + 2 * S, ar, &u, &err),
                 PL_OK), "%s", err.detail);
    const char *renamed = "Owner:accepted:0,Guesta:accepted:1,outside@elsewhere.org:tentative:1";
    cr_expect(eq(str, (char *)read_list(true), (char *)renamed));
    cr_expect(eq(str, (char *)read_list(true), (char *)renamed));

    /* Another change of a user (a time zone) moves only the users row's version: the list
     * keeps the user under the one it was read with, whose e-mail and name still hold. */
    struct store_user_patch tz = {.time_zone = "Europe/Moscow", .role = -1, .active = -1};
    cr_assert(eq(int, store_users_update(writer, guest, &tz, -1, T0 + 3 * S, ar, &u, &err),
                 PL_OK), "%s", err.detail);
    uint64_t hits = stats().hits, misses = stats().misses;
    cr_expect(eq(str, (char *)read_list(true), (char *)renamed));
    cr_expect(eq(u64, stats().hits, hits + 1));
    /* Another list read with the user's new version replaces its e-mail and name in the
     * cache: the first list no longer finds them under its version, and is read again. */
    struct event other = {.calendar_id = calendar, .organizer_id = owner, .uid = "u2",
                          .title = "Other", .description = "", .location = "",
                          .time_zone = "UTC", .start_us = T0, .end_us = T0 + 3600 * S};
    struct participant one = {.user_id = guest, .role = PARTICIPANT_ATTENDEE};
    cr_assert(eq(int, store_begin(writer, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_events_insert(writer, &other, T0, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_events_set_participants(writer, other.id, &one, 1, &err), PL_OK));
    cr_assert(eq(int, store_commit(writer, &err), PL_OK), "%s", err.detail);
    struct occurrence occ = {.event_id = other.id, .version = other.version};
    cr_assert(eq(int, store_snapshot(reader, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_events_attach_participants(reader, &occ, 1, ar, &err), PL_OK));
    store_release(reader);
    cr_assert(eq(sz, occ.nparticipants, 1));
    cr_expect(eq(str, (char *)occ.participants[0].name, "Guesta"));
    cr_expect(eq(u64, stats().misses, misses + 1));
    cr_expect(eq(str, (char *)read_list(true), (char *)renamed));
    cr_expect(eq(u64, stats().misses, misses + 2), "the first list was read again");
    cr_expect(eq(str, (char *)read_list(true), (char *)renamed));
    cr_expect(eq(u64, stats().misses, misses + 2), "and kept");
    cr_expect(eq(u64, stats().hits, hits + 2));

    /* A write that does not move the version is not seen: what the cache relies on. */
    cr_assert(eq(int, store_exec(writer, "UPDATE event_participants SET rsvp = 'declined'", &err),
                 PL_OK), "%s", err.detail);
    cr_expect(eq(str, (char *)read_list(true), (char *)renamed));
    cr_expect(eq(str, (char *)read_list(false), (char *)
                 "Owner:declined:0,Guesta:declined:1,outside@elsewhere.org:declined:1"),
              "outside a snapshot, straight from the tables");
}

Test(store_cache_lists, a_write_transaction_neither_reads_nor_fills_the_cache)
{
    struct pl_error err = {0};
    struct occurrence occ = {.event_id = event_id, .version = 1};
    cr_assert(eq(int, store_begin(reader, &err), PL_OK), "%s", err.detail);
    struct participant none[1];
    cr_assert(eq(int, store_events_set_participants(reader, event_id, none, 0, &err), PL_OK));
    cr_assert(eq(int, store_events_attach_participants(reader, &occ, 1, ar, &err), PL_OK));
    cr_expect(eq(sz, occ.nparticipants, 0));
    store_rollback(reader);
    struct store_cache_stats s = stats();
    cr_expect(eq(u64, s.hits + s.misses, 0));
    cr_expect(eq(sz, s.entries, 0));
    cr_expect(eq(str, (char *)read_list(true), (char *)FIRST), "the rolled-back list was kept");
}
