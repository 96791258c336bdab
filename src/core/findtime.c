/* Find-a-time.  The search space is small (a few hundred candidate starts over a working
 * week), so every candidate is scored exactly instead of sweeping cleverly. */
#include "core/findtime.h"

#include "arena.h"
#include "core/time.h"
#include "core/tz.h"

#include <stdlib.h>
#include <string.h>

struct candidate {
    int64_t start_us;
    int64_t room_id;
    size_t free_count;
    size_t index; /* position in the candidate array, for the availability flags */
};

static int by_start_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int by_rank(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    if (x->free_count != y->free_count)
        return x->free_count > y->free_count ? -1 : 1;
    return (x->start_us > y->start_us) - (x->start_us < y->start_us);
}

/* The working windows of every local day touching [from, to), clipped to it.  Dates and
 * weekdays are calendar arithmetic; the zone is asked only where working hours start and end,
 * two conversions a day. */
static int working_windows(const struct findtime_request *rq, struct arena *a,
                           struct interval **out, size_t *n, struct pl_error *err)
{
    struct core_civil first;
    int rc = core_tz_from_utc(rq->time_zone, rq->from_us, &first, "working_hours.time_zone", err);
    if (rc < 0)
        return rc;
    size_t cap = (size_t)(CORE_FINDTIME_WINDOW_MAX_US / (86400 * INT64_C(1000000))) + 3, count = 0;
    struct interval *w = arena_alloc(a, cap * sizeof *w);
    /* Walk local dates from the day `from` falls on until a day starts after `to`. */
    int64_t day = core_time_days_from_civil(first.year, (unsigned)first.month, (unsigned)first.day);
    int64_t prev_start = INT64_MIN;
    bool prev_added = false;
    for (size_t i = 0; i < cap; i++, day++) {
        int64_t y;
        unsigned m, d;
        core_time_civil_from_days(day, &y, &m, &d);
        struct core_civil start = {(int)y, (int)m, (int)d, rq->work_start_min / 60,
                                   rq->work_start_min % 60, 0, 0};
        struct core_civil end = {(int)y, (int)m, (int)d, rq->work_end_min / 60,
                                 rq->work_end_min % 60, 0, 0};
        int64_t s, e;
        if ((rc = core_tz_to_utc(rq->time_zone, &start, &s, "working_hours", err)) < 0 ||
            (rc = core_tz_to_utc(rq->time_zone, &end, &e, "working_hours", err)) < 0)
            return rc;
        if (s >= rq->to_us)
            break;
        /* A date the zone skips (Pacific/Apia 2011-12-30) reads as the next one: that date's
         * weekday decides, not the skipped one's. */
        if (s == prev_start && prev_added)
            count--;
        unsigned weekday = (unsigned)(((day % 7) + 7 + 3) % 7) + 1; /* 1970-01-01: Thursday */
        prev_start = s;
        prev_added = false;
        if (rq->days_mask & (1u << weekday)) {
            struct interval x = {s > rq->from_us ? s : rq->from_us, e < rq->to_us ? e : rq->to_us};
            if (x.end_us > x.start_us) {
                w[count++] = x;
                prev_added = true;
            }
        }
    }
    *out = w;
    *n = count;
    return PL_OK;
}

/* Append `v` to the growable array of starts. */
static void push(struct arena *a, int64_t **v, size_t *n, size_t *cap, int64_t x)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        int64_t *nv = arena_alloc(a, ncap * sizeof *nv);
        if (*n)
            memcpy(nv, *v, *n * sizeof *nv);
        *v = nv;
        *cap = ncap;
    }
    (*v)[(*n)++] = x;
}

static void add_busy_ends(struct arena *a, int64_t **v, size_t *n, size_t *cap, struct interval w,
                          int64_t dur, const struct findtime_busy *b, size_t nb)
{
    for (size_t i = 0; i < nb; i++)
        for (size_t k = 0; k < b[i].nbusy; k++) {
            int64_t t = b[i].busy[k].end_us;
            if (t > w.start_us && t + dur <= w.end_us)
                push(a, v, n, cap, t);
        }
}

int core_findtime(const struct findtime_request *rq, const struct findtime_busy *people,
                  size_t npeople, const struct findtime_busy *rooms, size_t nrooms,
                  struct arena *a, struct findtime_slot **out, size_t *nout, struct pl_error *err)
{
    if (rq->to_us <= rq->from_us)
        return pl_error_set(err, PL_EINVAL, "to", "must be after from");
    if (rq->to_us - rq->from_us > CORE_FINDTIME_WINDOW_MAX_US)
        return pl_error_set(err, PL_EINVAL, "to", "the window may span at most 62 days");
    struct interval *windows;
    size_t nwin;
    int rc = working_windows(rq, a, &windows, &nwin, err);
    if (rc < 0)
        return rc;

    int64_t *starts = NULL;
    size_t nstarts = 0, cap = 0;
    for (size_t w = 0; w < nwin; w++) {
        struct interval win = windows[w];
        /* Grid points are whole steps from the top of the hour in UTC, which is the top of
         * the local hour in every zone whose offset is whole quarter hours. */
        int64_t g = (win.start_us + CORE_FINDTIME_STEP_US - 1) / CORE_FINDTIME_STEP_US *
                    CORE_FINDTIME_STEP_US;
        push(a, &starts, &nstarts, &cap, win.start_us);
        for (; g + rq->duration_us <= win.end_us; g += CORE_FINDTIME_STEP_US)
            push(a, &starts, &nstarts, &cap, g);
        add_busy_ends(a, &starts, &nstarts, &cap, win, rq->duration_us, people, npeople);
        if (rq->need_room)
            add_busy_ends(a, &starts, &nstarts, &cap, win, rq->duration_us, rooms, nrooms);
    }
    if (nstarts > 1)
        qsort(starts, nstarts, sizeof *starts, by_start_value);

    struct candidate *cands = arena_alloc(a, (nstarts ? nstarts : 1) * sizeof *cands);
    bool *flags = arena_alloc(a, (nstarts ? nstarts : 1) * (npeople ? npeople : 1));
    size_t ncand = 0;
    for (size_t i = 0; i < nstarts; i++) {
        if (i > 0 && starts[i] == starts[i - 1])
            continue;
        struct interval slot = {starts[i], starts[i] + rq->duration_us};
        /* The slot must lie inside one working window. */
        bool inside = false;
        for (size_t w = 0; w < nwin && !inside; w++)
            inside = windows[w].start_us <= slot.start_us && slot.end_us <= windows[w].end_us;
        if (!inside)
            continue;
        int64_t room = 0;
        if (rq->need_room) {
            for (size_t r = 0; r < nrooms && room == 0; r++)
                if (!core_interval_overlaps(rooms[r].busy, rooms[r].nbusy, slot))
                    room = rooms[r].id;
            if (room == 0)
                continue;
        }
        bool *avail = flags + ncand * (npeople ? npeople : 1);
        size_t free_count = 0;
        for (size_t p = 0; p < npeople; p++) {
            avail[p] = !core_interval_overlaps(people[p].busy, people[p].nbusy, slot);
            free_count += avail[p];
        }
        cands[ncand] = (struct candidate){slot.start_us, room, free_count, ncand};
        ncand++;
    }
    qsort(cands, ncand, sizeof *cands, by_rank);
    size_t n = ncand < rq->max_results ? ncand : rq->max_results;
    struct findtime_slot *slots = arena_alloc(a, (n ? n : 1) * sizeof *slots);
    for (size_t i = 0; i < n; i++) {
        slots[i] = (struct findtime_slot){
            .start_us = cands[i].start_us,
            .end_us = cands[i].start_us + rq->duration_us,
            .room_id = cands[i].room_id,
            .available = flags + cands[i].index * (npeople ? npeople : 1),
            .nfree = cands[i].free_count,
        };
    }
    *out = slots;
    *nout = n;
    return PL_OK;
}
