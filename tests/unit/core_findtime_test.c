/* core/findtime: hand-picked cases, and randomized calendars checked against a brute-force
 * oracle that walks every minute of the window. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "arena.h"
#include "core/findtime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define US INT64_C(1000000)
#define MIN_US (INT64_C(60) * US)
#define DAY_US (INT64_C(86400) * US)
#define WEEKDAYS 0x3eu /* ISO 1..5 */
#define ALL_DAYS 0xfeu /* ISO 1..7 */

/* 2026-11-23, a Monday, 00:00 in Europe/Moscow (+03:00). */
#define MON_MSK (INT64_C(1795381200) * US)

/* Moscow local time `day` days after Monday 2026-11-23, at hh:mm. */
static int64_t msk(int day, int hh, int mm)
{
    return MON_MSK + day * DAY_US + (hh * 60 + mm) * MIN_US;
}

/* A request over Moscow working hours 09:00-18:00, Monday to Friday. */
static struct findtime_request msk_request(int64_t from_us, int64_t to_us, int duration_min,
                                           size_t max_results)
{
    return (struct findtime_request){
        .from_us = from_us,
        .to_us = to_us,
        .duration_us = duration_min * MIN_US,
        .time_zone = "Europe/Moscow",
        .work_start_min = 9 * 60,
        .work_end_min = 18 * 60,
        .days_mask = WEEKDAYS,
        .max_results = max_results,
    };
}

struct result {
    struct arena *a;
    struct findtime_slot *slots;
    size_t n;
    int rc;
    struct pl_error err;
};

static struct result find(const struct findtime_request *rq, const struct findtime_busy *people,
                          size_t npeople, const struct findtime_busy *rooms, size_t nrooms)
{
    struct result r = {.a = arena_new(4096), .n = 12345};
    r.rc = core_findtime(rq, people, npeople, rooms, nrooms, r.a, &r.slots, &r.n, &r.err);
    return r;
}

static size_t free_count(const struct findtime_slot *s, size_t npeople)
{
    size_t n = 0;
    for (size_t p = 0; p < npeople; p++)
        n += s->available[p];
    return n;
}

/* ---- hand-picked cases ----------------------------------------------------------------- */

Test(core_findtime, empty_calendars_start_at_working_day_start)
{
    struct findtime_busy people[] = {{1, NULL, 0}, {2, NULL, 0}};
    struct findtime_request rq = msk_request(msk(0, 0, 0), msk(5, 0, 0), 30, 5);
    struct result r = find(&rq, people, 2, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK), "%s", r.err.detail);
    cr_assert(eq(sz, r.n, 5));
    for (size_t i = 0; i < r.n; i++) {
        cr_expect(eq(i64, r.slots[i].start_us, msk(0, 9, 15 * (int)i)), "slot %zu", i);
        cr_expect(eq(i64, r.slots[i].end_us, r.slots[i].start_us + 30 * MIN_US), "slot %zu", i);
        cr_expect(eq(i64, r.slots[i].room_id, 0), "slot %zu", i);
        cr_expect(r.slots[i].available[0] && r.slots[i].available[1], "slot %zu", i);
    }
    arena_free(r.a);

    /* No participants at all: still the working-day start. */
    r = find(&rq, NULL, 0, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_assert(eq(sz, r.n, 5));
    cr_expect(eq(i64, r.slots[0].start_us, msk(0, 9, 0)));
    arena_free(r.a);
}

Test(core_findtime, busy_blocks_push_to_the_end_of_busy_time)
{
    /* 09:00-09:40 and 09:30-10:10: everyone is free from 10:10, which is not a grid point. */
    const struct interval b0[] = {{msk(0, 9, 0), msk(0, 9, 40)}};
    const struct interval b1[] = {{msk(0, 9, 30), msk(0, 10, 10)}};
    struct findtime_busy people[] = {{1, b0, 1}, {2, b1, 1}};
    struct findtime_request rq = msk_request(msk(0, 0, 0), msk(5, 0, 0), 30, 3);
    struct result r = find(&rq, people, 2, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK), "%s", r.err.detail);
    cr_assert(eq(sz, r.n, 3));
    static const int want[][2] = {{10, 10}, {10, 15}, {10, 30}};
    for (size_t i = 0; i < r.n; i++) {
        cr_expect(eq(i64, r.slots[i].start_us, msk(0, want[i][0], want[i][1])), "slot %zu", i);
        cr_expect(eq(sz, free_count(&r.slots[i], 2), 2), "slot %zu", i);
    }
    arena_free(r.a);
}

Test(core_findtime, a_block_straddling_the_working_day_start)
{
    /* Busy 08:00-09:50 local: the first slot is 09:50, the end of the block, not 10:00. */
    const struct interval b0[] = {{msk(0, 8, 0), msk(0, 9, 50)}};
    struct findtime_busy people[] = {{1, b0, 1}};
    struct findtime_request rq = msk_request(msk(0, 0, 0), msk(1, 0, 0), 60, 1);
    struct result r = find(&rq, people, 1, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_assert(eq(sz, r.n, 1));
    cr_expect(eq(i64, r.slots[0].start_us, msk(0, 9, 50)));
    cr_expect(r.slots[0].available[0]);
    arena_free(r.a);
}

Test(core_findtime, working_days_mask_skips_weekends)
{
    /* From Saturday 2026-11-21 00:00 local. */
    static const struct {
        unsigned mask;
        int first_day; /* days after Monday 2026-11-23 */
    } cases[] = {
        {WEEKDAYS, 0},              /* Saturday and Sunday skipped */
        {1u << 6 | 1u << 7, -2},    /* weekend only: Saturday */
        {1u << 7, -1},              /* Sunday only */
        {1u << 3, 2},               /* Wednesday only */
        {ALL_DAYS, -2},
    };
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        struct findtime_request rq = msk_request(msk(-2, 0, 0), msk(5, 0, 0), 30, 50);
        rq.days_mask = cases[c].mask;
        struct result r = find(&rq, NULL, 0, NULL, 0);
        cr_assert(eq(int, r.rc, PL_OK));
        cr_assert(gt(sz, r.n, 0), "case %zu", c);
        cr_expect(eq(i64, r.slots[0].start_us, msk(cases[c].first_day, 9, 0)), "case %zu", c);
        for (size_t i = 0; i < r.n; i++) {
            int64_t day = (r.slots[i].start_us - msk(0, 0, 0) + 7 * DAY_US) / DAY_US - 7;
            int iso = (int)((day % 7 + 7) % 7) + 1;
            bool works = (cases[c].mask & (1u << iso)) != 0;
            cr_expect(works, "case %zu slot %zu on ISO day %d", c, i, iso);
        }
        arena_free(r.a);
    }
    /* A mask with no working day finds nothing. */
    struct findtime_request rq = msk_request(msk(0, 0, 0), msk(5, 0, 0), 30, 50);
    rq.days_mask = 1u << 6 | 1u << 7;
    struct result r = find(&rq, NULL, 0, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_expect(eq(sz, r.n, 0));
    arena_free(r.a);
}

Test(core_findtime, window_clips_the_working_day)
{
    /* From 11:07 to 12:00: the window start itself, then the grid; a 30-minute slot must end
     * by 12:00. */
    struct findtime_request rq = msk_request(msk(0, 11, 7), msk(0, 12, 0), 30, 10);
    struct result r = find(&rq, NULL, 0, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_assert(eq(sz, r.n, 3));
    cr_expect(eq(i64, r.slots[0].start_us, msk(0, 11, 7)));
    cr_expect(eq(i64, r.slots[1].start_us, msk(0, 11, 15)));
    cr_expect(eq(i64, r.slots[2].start_us, msk(0, 11, 30)));
    arena_free(r.a);

    /* From 17:50: too late for an hour today, so tomorrow at 09:00. */
    rq = msk_request(msk(0, 17, 50), msk(3, 0, 0), 60, 1);
    r = find(&rq, NULL, 0, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_assert(eq(sz, r.n, 1));
    cr_expect(eq(i64, r.slots[0].start_us, msk(1, 9, 0)));
    arena_free(r.a);

    /* A window shorter than the meeting finds nothing. */
    rq = msk_request(msk(0, 11, 0), msk(0, 11, 45), 60, 10);
    r = find(&rq, NULL, 0, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_expect(eq(sz, r.n, 0));
    arena_free(r.a);

    /* A window outside working hours finds nothing. */
    rq = msk_request(msk(0, 18, 0), msk(1, 9, 0), 15, 10);
    r = find(&rq, NULL, 0, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_expect(eq(sz, r.n, 0));
    arena_free(r.a);
}

Test(core_findtime, smallest_free_room_is_chosen)
{
    /* Rooms smallest first: 11 is busy 09:00-10:00, 12 and 13 are free. */
    const struct interval r11[] = {{msk(0, 9, 0), msk(0, 10, 0)}};
    struct findtime_busy rooms[] = {{11, r11, 1}, {12, NULL, 0}, {13, NULL, 0}};
    struct findtime_busy people[] = {{1, NULL, 0}};
    struct findtime_request rq = msk_request(msk(0, 0, 0), msk(1, 0, 0), 60, 6);
    rq.need_room = true;
    struct result r = find(&rq, people, 1, rooms, 3);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_assert(eq(sz, r.n, 6));
    static const struct {
        int hh, mm;
        int64_t room;
    } want[] = {{9, 0, 12}, {9, 15, 12}, {9, 30, 12}, {9, 45, 12}, {10, 0, 11}, {10, 15, 11}};
    for (size_t i = 0; i < r.n; i++) {
        cr_expect(eq(i64, r.slots[i].start_us, msk(0, want[i].hh, want[i].mm)), "slot %zu", i);
        cr_expect(eq(i64, r.slots[i].room_id, want[i].room), "slot %zu", i);
    }
    arena_free(r.a);

    /* Without need_room the rooms are ignored and no room is named. */
    rq.need_room = false;
    r = find(&rq, people, 1, rooms, 3);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_assert(eq(sz, r.n, 6));
    cr_expect(eq(i64, r.slots[0].start_us, msk(0, 9, 0)));
    cr_expect(eq(i64, r.slots[0].room_id, 0));
    arena_free(r.a);
}

Test(core_findtime, a_room_becoming_free_is_a_candidate)
{
    /* Every room is busy until 12:20 or later; 12 frees first, off the grid. */
    const struct interval r11[] = {{msk(0, 8, 0), msk(0, 13, 0)}};
    const struct interval r12[] = {{msk(0, 8, 0), msk(0, 12, 20)}};
    struct findtime_busy rooms[] = {{11, r11, 1}, {12, r12, 1}};
    struct findtime_request rq = msk_request(msk(0, 0, 0), msk(1, 0, 0), 30, 1);
    rq.need_room = true;
    struct result r = find(&rq, NULL, 0, rooms, 2);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_assert(eq(sz, r.n, 1));
    cr_expect(eq(i64, r.slots[0].start_us, msk(0, 12, 20)));
    cr_expect(eq(i64, r.slots[0].room_id, 12));
    arena_free(r.a);
}

Test(core_findtime, no_slot_when_every_room_is_busy)
{
    const struct interval all[] = {{msk(-1, 0, 0), msk(6, 0, 0)}};
    struct findtime_busy rooms[] = {{11, all, 1}, {12, all, 1}};
    struct findtime_busy people[] = {{1, NULL, 0}, {2, NULL, 0}};
    struct findtime_request rq = msk_request(msk(0, 0, 0), msk(5, 0, 0), 30, 10);
    rq.need_room = true;
    struct result r = find(&rq, people, 2, rooms, 2);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_expect(eq(sz, r.n, 0));
    arena_free(r.a);

    /* A room asked for but none qualifies. */
    r = find(&rq, people, 2, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_expect(eq(sz, r.n, 0));
    arena_free(r.a);
}

Test(core_findtime, everyone_free_ranks_before_fewer)
{
    /* Participant 1 is busy all Monday; Tuesday has 35 half-hour starts (09:00..17:30) with
     * both free, and those come before Monday's starts with only participant 2. */
    const struct interval b0[] = {{msk(0, 9, 0), msk(0, 18, 0)}};
    struct findtime_busy people[] = {{1, b0, 1}, {2, NULL, 0}};
    struct findtime_request rq = msk_request(msk(0, 0, 0), msk(2, 0, 0), 30, 50);
    struct result r = find(&rq, people, 2, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_assert(eq(sz, r.n, 50));
    for (size_t i = 0; i < 35; i++) {
        cr_expect(eq(i64, r.slots[i].start_us, msk(1, 9, 15 * (int)i)), "slot %zu", i);
        cr_expect(r.slots[i].available[0] && r.slots[i].available[1], "slot %zu", i);
    }
    for (size_t i = 35; i < 50; i++) {
        cr_expect(eq(i64, r.slots[i].start_us, msk(0, 9, 15 * (int)(i - 35))), "slot %zu", i);
        cr_expect(not(r.slots[i].available[0]), "slot %zu", i);
        cr_expect(r.slots[i].available[1], "slot %zu", i);
    }
    arena_free(r.a);
}

Test(core_findtime, availability_flags_follow_input_order)
{
    /* Three people; at 09:00 only the third is busy, at 10:00 the first and third are. */
    const struct interval b0[] = {{msk(0, 10, 0), msk(0, 10, 30)}};
    const struct interval b2[] = {{msk(0, 9, 0), msk(0, 18, 0)}};
    struct findtime_busy people[] = {{7, b0, 1}, {8, NULL, 0}, {9, b2, 1}};
    struct findtime_request rq = msk_request(msk(0, 0, 0), msk(1, 0, 0), 30, 50);
    struct result r = find(&rq, people, 3, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_assert(gt(sz, r.n, 0));
    size_t prev = 3;
    bool seen_10 = false;
    for (size_t i = 0; i < r.n; i++) {
        size_t fc = free_count(&r.slots[i], 3);
        cr_expect(le(sz, fc, prev), "slot %zu ranks after fewer free", i);
        prev = fc;
        cr_expect(not(r.slots[i].available[2]), "slot %zu", i);
        cr_expect(r.slots[i].available[1], "slot %zu", i);
        if (r.slots[i].start_us == msk(0, 10, 0)) {
            seen_10 = true;
            cr_expect(not(r.slots[i].available[0]));
        }
        if (r.slots[i].start_us == msk(0, 9, 0))
            cr_expect(r.slots[i].available[0]);
    }
    cr_expect(eq(i64, r.slots[0].start_us, msk(0, 9, 0)));
    cr_expect(seen_10);
    arena_free(r.a);
}

Test(core_findtime, max_results_is_honoured)
{
    static const size_t limits[] = {0, 1, 3, 17, CORE_FINDTIME_RESULTS_MAX};
    for (size_t c = 0; c < ARRAY_LEN(limits); c++) {
        struct findtime_request rq = msk_request(msk(0, 0, 0), msk(5, 0, 0), 30, limits[c]);
        struct result r = find(&rq, NULL, 0, NULL, 0);
        cr_assert(eq(int, r.rc, PL_OK));
        cr_expect(eq(sz, r.n, limits[c]), "limit %zu", limits[c]);
        for (size_t i = 1; i < r.n; i++)
            cr_expect(gt(i64, r.slots[i].start_us, r.slots[i - 1].start_us));
        arena_free(r.a);
    }
    /* Fewer candidates than the limit: all of them.  One day of 09:00-10:00 and a
     * 30-minute meeting: 09:00, 09:15, 09:30. */
    struct findtime_request rq = msk_request(msk(0, 0, 0), msk(1, 0, 0), 30, 50);
    rq.work_end_min = 10 * 60;
    struct result r = find(&rq, NULL, 0, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_expect(eq(sz, r.n, 3));
    arena_free(r.a);
}

/* America/New_York: 09:00-17:00 local holds on both sides of a DST change, so the UTC start
 * moves by an hour.  An 8-hour meeting fits once a day, at 09:00 local. */
Test(core_findtime, new_york_fall_back_keeps_local_hours)
{
    struct findtime_request rq = {
        .from_us = INT64_C(1793332800) * US, /* Fri 2026-10-30 00:00 EDT */
        .to_us = INT64_C(1793682000) * US,   /* Tue 2026-11-03 00:00 EST */
        .duration_us = 8 * 60 * MIN_US,
        .time_zone = "America/New_York",
        .work_start_min = 9 * 60,
        .work_end_min = 17 * 60,
        .days_mask = ALL_DAYS,
        .max_results = 50,
    };
    struct findtime_busy people[] = {{1, NULL, 0}};
    struct result r = find(&rq, people, 1, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK), "%s", r.err.detail);
    static const int64_t want[] = {
        INT64_C(1793365200), /* Fri 09:00 EDT = 13:00Z */
        INT64_C(1793451600), /* Sat 09:00 EDT = 13:00Z */
        INT64_C(1793541600), /* Sun 2026-11-01 09:00 EST = 14:00Z */
        INT64_C(1793628000), /* Mon 09:00 EST = 14:00Z */
    };
    cr_assert(eq(sz, r.n, ARRAY_LEN(want)));
    for (size_t i = 0; i < r.n; i++) {
        cr_expect(eq(i64, r.slots[i].start_us, want[i] * US), "slot %zu", i);
        cr_expect(eq(i64, r.slots[i].end_us, want[i] * US + 8 * 60 * MIN_US), "slot %zu", i);
    }
    arena_free(r.a);

    /* Weekdays only: Friday and Monday. */
    rq.days_mask = WEEKDAYS;
    r = find(&rq, people, 1, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK));
    cr_assert(eq(sz, r.n, 2));
    cr_expect(eq(i64, r.slots[0].start_us, want[0] * US));
    cr_expect(eq(i64, r.slots[1].start_us, want[3] * US));
    arena_free(r.a);
}

Test(core_findtime, new_york_spring_forward_keeps_local_hours)
{
    struct findtime_request rq = {
        .from_us = INT64_C(1772859600) * US, /* Sat 2026-03-07 00:00 EST */
        .to_us = INT64_C(1773115200) * US,   /* Tue 2026-03-10 00:00 EDT */
        .duration_us = 8 * 60 * MIN_US,
        .time_zone = "America/New_York",
        .work_start_min = 9 * 60,
        .work_end_min = 17 * 60,
        .days_mask = ALL_DAYS,
        .max_results = 50,
    };
    struct result r = find(&rq, NULL, 0, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK), "%s", r.err.detail);
    static const int64_t want[] = {
        INT64_C(1772892000), /* Sat 09:00 EST = 14:00Z */
        INT64_C(1772974800), /* Sun 2026-03-08 09:00 EDT = 13:00Z */
        INT64_C(1773061200), /* Mon 09:00 EDT = 13:00Z */
    };
    cr_assert(eq(sz, r.n, ARRAY_LEN(want)));
    for (size_t i = 0; i < r.n; i++)
        cr_expect(eq(i64, r.slots[i].start_us, want[i] * US), "slot %zu", i);
    arena_free(r.a);
}

/* A busy block given in UTC on the fall-back Sunday: 09:00-10:00 EST is 14:00-15:00Z, so
 * the first free hour that day is 10:00 local = 15:00Z. */
Test(core_findtime, new_york_busy_on_the_change_day)
{
    const struct interval b0[] = {{INT64_C(1793541600) * US, INT64_C(1793545200) * US}};
    struct findtime_busy people[] = {{1, b0, 1}};
    struct findtime_request rq = {
        .from_us = INT64_C(1793509200) * US, /* Sun 2026-11-01 01:00 EDT */
        .to_us = INT64_C(1793595600) * US,   /* Mon 2026-11-02 00:00 EST */
        .duration_us = 60 * MIN_US,
        .time_zone = "America/New_York",
        .work_start_min = 9 * 60,
        .work_end_min = 17 * 60,
        .days_mask = ALL_DAYS,
        .max_results = 1,
    };
    struct result r = find(&rq, people, 1, NULL, 0);
    cr_assert(eq(int, r.rc, PL_OK), "%s", r.err.detail);
    cr_assert(eq(sz, r.n, 1));
    cr_expect(eq(i64, r.slots[0].start_us, INT64_C(1793545200) * US));
    cr_expect(r.slots[0].available[0]);
    arena_free(r.a);
}

/* Samoa skipped Friday 2011-12-30 (from -10:00 to +14:00): Thursday is followed by Saturday,
 * and a Friday-only mask finds nothing. */
Test(core_findtime, apia_skipped_friday)
{
    static const struct {
        unsigned mask;
        size_t n;
        int64_t want[3];
    } cases[] = {
        {1u << 5, 0, {0}},
        {1u << 6, 1, {INT64_C(1325271600)}}, /* Sat 2011-12-31 09:00 +14:00 */
        {ALL_DAYS, 3, {INT64_C(1325185200), INT64_C(1325271600), INT64_C(1325358000)}},
    };
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        struct findtime_request rq = {
            .from_us = INT64_C(1325152800) * US, /* Thu 2011-12-29 00:00 -10:00 */
            .to_us = INT64_C(1325412000) * US,   /* Mon 2012-01-02 00:00 +14:00 */
            .duration_us = 8 * 60 * MIN_US,
            .time_zone = "Pacific/Apia",
            .work_start_min = 9 * 60,
            .work_end_min = 17 * 60,
            .days_mask = cases[c].mask,
            .max_results = 50,
        };
        struct result r = find(&rq, NULL, 0, NULL, 0);
        cr_assert(eq(int, r.rc, PL_OK), "%s", r.err.detail);
        cr_assert(eq(sz, r.n, cases[c].n), "case %zu", c);
        for (size_t i = 0; i < r.n; i++)
            cr_expect(eq(i64, r.slots[i].start_us, cases[c].want[i] * US), "case %zu slot %zu", c,
                      i);
        arena_free(r.a);
    }
}

Test(core_findtime, bad_windows_and_zones)
{
    struct findtime_request rq =
        msk_request(MON_MSK, MON_MSK + CORE_FINDTIME_WINDOW_MAX_US, 30, 1);
    struct result r = find(&rq, NULL, 0, NULL, 0);
    cr_expect(eq(int, r.rc, PL_OK), "exactly 62 days is allowed: %s", r.err.detail);
    cr_expect(eq(sz, r.n, 1));
    arena_free(r.a);

    static const struct {
        int64_t from_us, to_us;
        const char *tz;
        const char *field;
    } bad[] = {
        {MON_MSK, MON_MSK + CORE_FINDTIME_WINDOW_MAX_US + 1, "Europe/Moscow", "to"},
        {MON_MSK, MON_MSK + 63 * DAY_US, "Europe/Moscow", "to"},
        {MON_MSK, MON_MSK, "Europe/Moscow", "to"},
        {MON_MSK, MON_MSK - DAY_US, "Europe/Moscow", "to"},
        {MON_MSK, MON_MSK + DAY_US, "Mars/Olympus_Mons", "working_hours.time_zone"},
    };
    for (size_t c = 0; c < ARRAY_LEN(bad); c++) {
        rq = msk_request(bad[c].from_us, bad[c].to_us, 30, 10);
        rq.time_zone = bad[c].tz;
        r = find(&rq, NULL, 0, NULL, 0);
        cr_expect(eq(int, r.rc, PL_EINVAL), "case %zu", c);
        cr_expect(eq(int, r.err.status, PL_EINVAL), "case %zu", c);
        cr_expect(eq(str, r.err.field, (char *)bad[c].field), "case %zu", c);
        arena_free(r.a);
    }
}

/* ---- randomized calendars against a brute-force oracle -----------------------------------
 * The oracle works in whole minutes from a local midnight in the week of Monday 2026-11-23,
 * in a zone with a fixed offset, so local time is plain arithmetic: minute m is local day
 * m / 1440 after it at m % 1440 minutes after midnight.  Busy times are 5-minute blocks;
 * working hours, the window and the duration are whole minutes. */

#define P_DAYS 6
#define P_MINUTES (P_DAYS * 1440)
#define P_PEOPLE_MAX 5
#define P_ROOMS_MAX 3
#define P_ROUNDS 300 /* per zone */

static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D013049BB133EB);
    return z ^ (z >> 31);
}

static int below(uint64_t *state, int n)
{
    return (int)(next_random(state) % (uint64_t)n);
}

struct calendar {
    bool busy[P_MINUTES];
    int prefix[P_MINUTES + 1]; /* busy minutes before m */
    struct interval iv[P_MINUTES / 2 + 1];
};

struct world {
    int64_t base_us; /* minute 0, local midnight */
    int base_iso;    /* its ISO weekday */
    int np, nr, dur;
    struct calendar people[P_PEOPLE_MAX], rooms[P_ROOMS_MAX];
    int window_id[P_MINUTES]; /* local day + 1 inside a working window, else 0 */
    int window_end[P_MINUTES]; /* first minute after m's window (for window_id[m] != 0) */
    struct findtime_busy bpeople[P_PEOPLE_MAX], brooms[P_ROOMS_MAX];
    struct findtime_request rq;
};

/* Random busy blocks into `c`, then its merged interval list from the runs. */
static size_t random_calendar(uint64_t *rng, struct world *w, struct calendar *c)
{
    memset(c->busy, 0, sizeof c->busy);
    int blocks = below(rng, 4) == 0 ? 0 : below(rng, 20);
    for (int b = 0; b < blocks; b++) {
        int start = 5 * below(rng, P_MINUTES / 5 + 24) - 60;
        int len = 5 * (1 + below(rng, below(rng, 3) == 0 ? 96 : 24));
        for (int m = start; m < start + len; m++)
            if (m >= 0 && m < P_MINUTES)
                c->busy[m] = true;
    }
    c->prefix[0] = 0;
    size_t n = 0;
    for (int m = 0; m < P_MINUTES; m++) {
        c->prefix[m + 1] = c->prefix[m] + c->busy[m];
        if (c->busy[m] && (m == 0 || !c->busy[m - 1])) {
            int e = m;
            while (e < P_MINUTES && c->busy[e])
                e++;
            c->iv[n++] = (struct interval){w->base_us + m * MIN_US, w->base_us + e * MIN_US};
        }
    }
    return n;
}

static bool cal_free(const struct calendar *c, int t, int dur)
{
    return c->prefix[t + dur] == c->prefix[t];
}

/* Whether a busy block of `c` ends at minute t. */
static bool cal_ends_at(const struct calendar *c, int t)
{
    return t > 0 && c->busy[t - 1] && (t == P_MINUTES || !c->busy[t]);
}

static bool slot_inside_window(const struct world *w, int t)
{
    return t >= 0 && t + w->dur <= P_MINUTES && w->window_id[t] != 0 &&
           t + w->dur <= w->window_end[t];
}

/* The first room (smallest first) free for [t, t + dur), as an index; -1 for none. */
static int first_free_room(const struct world *w, int t)
{
    for (int r = 0; r < w->nr; r++)
        if (cal_free(&w->rooms[r], t, w->dur))
            return r;
    return -1;
}

/* The candidate starts of the contract: the 15-minute grid, each working window's start,
 * and every moment a participant (or, when a room is needed, a room) becomes free. */
static bool is_candidate(const struct world *w, int t)
{
    if ((w->base_us + t * MIN_US) % CORE_FINDTIME_STEP_US == 0)
        return true;
    if (t == 0 || w->window_id[t - 1] != w->window_id[t])
        return true;
    for (int p = 0; p < w->np; p++)
        if (cal_ends_at(&w->people[p], t))
            return true;
    if (w->rq.need_room)
        for (int r = 0; r < w->nr; r++)
            if (cal_ends_at(&w->rooms[r], t))
                return true;
    return false;
}

static void random_world(uint64_t *rng, struct world *w, const char *tz, int offset_min)
{
    /* Local midnight at the start of Monday 2026-11-23 (00:00Z is 1795392000), or of one of
     * the six days after it. */
    int shift = below(rng, 7);
    w->base_iso = 1 + shift;
    w->base_us = (INT64_C(1795392000) + shift * 86400 - offset_min * 60) * US;
    int from_m = below(rng, 4) == 0 ? 0 : below(rng, 1440);
    int to_m = from_m + 5 * 1440 - (below(rng, 3) == 0 ? 0 : below(rng, 720));
    int ws, we;
    if (below(rng, 2) == 0) { /* office-like hours on 5-minute marks */
        ws = 6 * 60 + 5 * below(rng, 60);
        we = ws + 4 * 60 + 5 * below(rng, 120);
    } else { /* anything, to the minute */
        ws = below(rng, 1440 - 15);
        we = ws + 15 + below(rng, 1440 - ws - 15 + 1);
    }
    if (we > 1440)
        we = 1440;
    unsigned mask = ((unsigned)below(rng, 128) << 1) | (1u << (1 + below(rng, 7)));
    w->dur = 15 + below(rng, 106);
    w->np = 3 + below(rng, 3);
    w->nr = below(rng, 4);
    bool need_room = w->nr > 0 ? below(rng, 4) != 0 : below(rng, 8) == 0;
    for (int p = 0; p < w->np; p++) {
        size_t n = random_calendar(rng, w, &w->people[p]);
        w->bpeople[p] = (struct findtime_busy){100 + p, w->people[p].iv, n};
    }
    for (int r = 0; r < w->nr; r++) {
        size_t n = random_calendar(rng, w, &w->rooms[r]);
        w->brooms[r] = (struct findtime_busy){200 + r, w->rooms[r].iv, n};
    }
    for (int m = 0; m < P_MINUTES; m++) {
        int day = m / 1440, local = m % 1440, iso = 1 + (w->base_iso - 1 + day) % 7;
        bool works = m >= from_m && m < to_m && (mask & (1u << iso)) && local >= ws && local < we;
        w->window_id[m] = works ? day + 1 : 0;
    }
    for (int m = P_MINUTES - 1; m >= 0; m--)
        w->window_end[m] = m + 1 < P_MINUTES && w->window_id[m + 1] == w->window_id[m]
                               ? w->window_end[m + 1]
                               : m + 1;
    w->rq = (struct findtime_request){
        .from_us = w->base_us + from_m * MIN_US,
        .to_us = w->base_us + to_m * MIN_US,
        .duration_us = w->dur * MIN_US,
        .time_zone = tz,
        .work_start_min = ws,
        .work_end_min = we,
        .days_mask = mask,
        .max_results = 1 + (size_t)below(rng, CORE_FINDTIME_RESULTS_MAX),
        .need_room = need_room,
    };
}

struct expected {
    int t, room, nfree;
};

static int by_rank(const void *a, const void *b)
{
    const struct expected *x = a, *y = b;
    if (x->nfree != y->nfree)
        return y->nfree - x->nfree;
    return x->t - y->t;
}

static void check_world(const struct world *w, const char *tz, int round)
{
    struct arena *a = arena_new(4096);
    struct findtime_slot *slots = NULL;
    size_t n = 0;
    struct pl_error err = {0};
    int rc = core_findtime(&w->rq, w->bpeople, (size_t)w->np, w->brooms, (size_t)w->nr, a, &slots,
                           &n, &err);
    cr_assert(eq(int, rc, PL_OK), "%s round %d: %s", tz, round, err.detail);
    cr_assert(le(sz, n, w->rq.max_results), "%s round %d", tz, round);

    /* (a) Every slot lies inside one working window, its flags tell the truth about each
     * participant, and its room (the first free one) is free. */
    for (size_t i = 0; i < n; i++) {
        const struct findtime_slot *s = &slots[i];
        cr_assert(eq(i64, (s->start_us - w->base_us) % MIN_US, 0), "%s round %d slot %zu", tz,
                  round, i);
        cr_assert(eq(i64, s->end_us - s->start_us, w->rq.duration_us));
        int t = (int)((s->start_us - w->base_us) / MIN_US);
        cr_assert(slot_inside_window(w, t), "%s round %d slot %zu at minute %d: outside working "
                  "hours", tz, round, i, t);
        for (int p = 0; p < w->np; p++)
            cr_assert(eq(int, s->available[p], cal_free(&w->people[p], t, w->dur)),
                      "%s round %d slot %zu participant %d", tz, round, i, p);
        if (w->rq.need_room) {
            int r = first_free_room(w, t);
            cr_assert(ge(int, r, 0), "%s round %d slot %zu: no room is free", tz, round, i);
            cr_assert(eq(i64, s->room_id, w->brooms[r].id), "%s round %d slot %zu", tz, round,
                      i);
        } else {
            cr_assert(eq(i64, s->room_id, 0));
        }
    }

    /* (b) The earliest minute at which everyone (and a room) is free for the whole meeting
     * inside one working window is the first slot. */
    int earliest = -1;
    for (int t = 0; t < P_MINUTES && earliest < 0; t++) {
        if (!slot_inside_window(w, t) || (w->rq.need_room && first_free_room(w, t) < 0))
            continue;
        bool all = true;
        for (int p = 0; p < w->np && all; p++)
            all = cal_free(&w->people[p], t, w->dur);
        if (all)
            earliest = t;
    }
    if (earliest >= 0) {
        cr_assert(ge(sz, n, 1), "%s round %d: a free slot at minute %d was missed", tz, round,
                  earliest);
        int t0 = (int)((slots[0].start_us - w->base_us) / MIN_US);
        cr_assert(eq(int, t0, earliest), "%s round %d: first slot at minute %d, not %d", tz,
                  round, t0, earliest);
        cr_assert(eq(sz, free_count(&slots[0], (size_t)w->np), (size_t)w->np));
    } else {
        for (size_t i = 0; i < n; i++)
            cr_assert(lt(sz, free_count(&slots[i], (size_t)w->np), (size_t)w->np),
                      "%s round %d slot %zu: all free, but the oracle found no such time", tz,
                      round, i);
    }

    /* (c) The whole answer: every candidate start ranked by (more free, earlier), cut at
     * max_results. */
    struct expected *want = calloc(P_MINUTES, sizeof *want);
    cr_assert(not(eq(ptr, want, NULL)));
    size_t nwant = 0;
    for (int t = 0; t < P_MINUTES; t++) {
        if (!slot_inside_window(w, t) || !is_candidate(w, t))
            continue;
        int room = w->rq.need_room ? first_free_room(w, t) : -1;
        if (w->rq.need_room && room < 0)
            continue;
        int nfree = 0;
        for (int p = 0; p < w->np; p++)
            nfree += cal_free(&w->people[p], t, w->dur);
        want[nwant++] = (struct expected){t, room, nfree};
    }
    qsort(want, nwant, sizeof *want, by_rank);
    size_t cut = nwant < w->rq.max_results ? nwant : w->rq.max_results;
    cr_expect(eq(sz, n, cut), "%s round %d: %zu slots, want %zu", tz, round, n, cut);
    for (size_t i = 0; i < n && i < cut; i++) {
        int t = (int)((slots[i].start_us - w->base_us) / MIN_US);
        if (t != want[i].t) {
            cr_expect(eq(int, t, want[i].t), "%s round %d slot %zu (%d free, want %d free)", tz,
                      round, i, (int)free_count(&slots[i], (size_t)w->np), want[i].nfree);
            break;
        }
    }
    free(want);
    arena_free(a);
}

static void property_rounds(const char *tz, int offset_min, uint64_t seed)
{
    struct world *w = calloc(1, sizeof *w);
    cr_assert(not(eq(ptr, w, NULL)));
    uint64_t rng = seed;
    for (int round = 0; round < P_ROUNDS; round++) {
        random_world(&rng, w, tz, offset_min);
        check_world(w, tz, round);
    }
    free(w);
}

Test(core_findtime, property_moscow, .timeout = 120)
{
    property_rounds("Europe/Moscow", 180, 20261123);
}

Test(core_findtime, property_utc, .timeout = 120)
{
    property_rounds("UTC", 0, 42);
}

/* +05:30: the UTC quarter-hour grid is still the local one. */
Test(core_findtime, property_kolkata, .timeout = 120)
{
    property_rounds("Asia/Kolkata", 330, 7);
}
