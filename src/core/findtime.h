/* Finding a time: the earliest slots of a given length inside working hours at which the
 * participants are free and (when asked) a room large enough is free too.  Pure: the busy
 * intervals come in, the slots go out. */
#ifndef PLANNER_CORE_FINDTIME_H
#define PLANNER_CORE_FINDTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/interval.h"
#include "error.h"

struct arena;

#define CORE_FINDTIME_WINDOW_MAX_US (INT64_C(62) * 86400 * 1000000) /* two months */
#define CORE_FINDTIME_RESULTS_MAX 50
#define CORE_FINDTIME_STEP_US (INT64_C(15) * 60 * 1000000)          /* the slot grid */

struct findtime_busy {
    int64_t id;
    const struct interval *busy; /* merged: sorted and disjoint */
    size_t nbusy;
};

struct findtime_request {
    int64_t from_us, to_us, duration_us;
    const char *time_zone;        /* working hours are local to it */
    int work_start_min, work_end_min; /* minutes after local midnight, start < end */
    unsigned days_mask;           /* bit d set = ISO weekday d (1 = Monday .. 7 = Sunday) works */
    size_t max_results;
    bool need_room;
};

struct findtime_slot {
    int64_t start_us, end_us;
    int64_t room_id;  /* 0 when no room was asked for */
    bool *available;  /* per participant, in input order */
    size_t nfree;     /* how many of them are available */
};

/* Fill `out` (allocated from `a`) with at most max_results slots, best first: slots where more
 * participants are free come first, then earlier ones.  Candidate starts are the 15-minute
 * grid of each working day and every moment a participant or room becomes free, so the
 * earliest slot where everyone is free is never missed.  `rooms` must be the candidate rooms
 * (already filtered by capacity), smallest first: the first free one is chosen.  PL_EINVAL
 * for a window longer than CORE_FINDTIME_WINDOW_MAX_US or an unknown time zone. */
PL_MUST_CHECK int core_findtime(const struct findtime_request *rq,
                                const struct findtime_busy *people, size_t npeople,
                                const struct findtime_busy *rooms, size_t nrooms,
                                struct arena *a, struct findtime_slot **out, size_t *nout,
                                struct pl_error *err);

#endif
