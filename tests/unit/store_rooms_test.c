/* store/rooms: the rooms a find-a-time may book (store_rooms_seating). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "arena.h"
#include "store/rooms.h"
#include "store/store.h"
#include "store_fixture.h"

#include <stdio.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct store *db;
static struct arena *ar;
static int64_t ids[6];

/* Six rooms, created in this order (so ids ascend): capacity, projector or not, active. */
static const struct {
    int capacity;
    bool projector, active;
} spec[] = {{8, true, true}, {4, false, true}, {6, true, true},
            {4, true, false}, {2, true, true}, {4, true, true}};

static void setup(void)
{
    struct pl_error err = {0};
    db = fixture_store_open();
    ar = arena_new(0);
    static const char *projector[] = {"projector"};
    for (size_t i = 0; i < ARRAY_LEN(spec); i++) {
        struct room r = {.name = arena_printf(ar, "Room %zu", i), .location = "",
                         .capacity = spec[i].capacity,
                         .features = spec[i].projector ? projector : NULL,
                         .nfeatures = spec[i].projector ? 1 : 0};
        cr_assert(eq(int, store_rooms_create(db, &r, 1, &err), PL_OK), "%s", err.detail);
        ids[i] = r.id;
        if (!spec[i].active)
            cr_assert(eq(int, store_rooms_update(db, r.id, NULL, NULL, 0, NULL, 0, 0, -1, 2, &err),
                         PL_OK), "%s", err.detail);
    }
}

static void teardown(void)
{
    arena_free(ar);
    store_close(db);
}

TestSuite(store_rooms, .init = setup, .fini = teardown);

static void expect_seating(int capacity, const char *feature, int limit, const size_t *want,
                           size_t nwant)
{
    struct pl_error err = {0};
    int64_t *got;
    size_t n;
    cr_assert(eq(int, store_rooms_seating(db, capacity, feature, limit, ar, &got, &n, &err), PL_OK),
              "%s", err.detail);
    cr_assert(eq(sz, n, nwant), "capacity %d, feature %s, limit %d", capacity,
              feature ? feature : "-", limit);
    for (size_t i = 0; i < n; i++)
        cr_expect(eq(i64, got[i], ids[want[i]]), "room %zu of capacity %d, feature %s, limit %d",
                  i, capacity, feature ? feature : "-", limit);
}

/* Active rooms that seat enough people and have the feature, smallest first, ties by id;
 * the limit keeps the first by id, as before the ordering. */
Test(store_rooms, seating_is_filtered_and_smallest_first)
{
    expect_seating(1, NULL, 100, (const size_t[]){4, 1, 5, 2, 0}, 5);
    expect_seating(4, NULL, 100, (const size_t[]){1, 5, 2, 0}, 4);
    expect_seating(4, "projector", 100, (const size_t[]){5, 2, 0}, 3);
    expect_seating(4, NULL, 2, (const size_t[]){1, 0}, 2);
    expect_seating(9, NULL, 100, NULL, 0);
    expect_seating(1, "video", 100, NULL, 0);
}

/* A lookup finds its one row, or answers PL_ENOTFOUND with the id in its detail
 * (store_step_one). */
Test(store_rooms, get_reads_the_row_or_names_the_missing_id)
{
    struct pl_error err = {0};
    struct room r;
    cr_assert(eq(int, store_rooms_get(db, ids[2], ar, &r, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(i64, r.id, ids[2]));
    cr_expect(eq(int, r.capacity, 6));
    cr_expect(eq(str, (char *)r.name, "Room 2"));
    int64_t missing = ids[5] + 1000;
    cr_expect(eq(int, store_rooms_get(db, missing, ar, &r, &err), PL_ENOTFOUND));
    char want[64];
    snprintf(want, sizeof want, "no room with id %lld", (long long)missing);
    cr_expect(eq(str, err.detail, want));
}
