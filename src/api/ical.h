/* iCalendar export as the command line uses it (`planner export`): the same text the HTTP
 * export gives a calendar's owner. */
#ifndef PLANNER_API_ICAL_H
#define PLANNER_API_ICAL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct arena;
struct store;

/* The whole of calendar `calendar_id` as iCalendar text, as its owner sees it (every event in
 * full), into *text (*len bytes, NUL-terminated, from `a`).  A fixed number of queries.
 * PL_ENOTFOUND when there is no such calendar; store errors as they come.  `now_us` only
 * stands in for events without an update time, which the store never returns: the text of an
 * unchanged calendar is the same whenever it is asked for. */
PL_MUST_CHECK int api_ical_calendar_text(struct store *db, int64_t calendar_id, int64_t now_us,
                                         struct arena *a, char **text, size_t *len,
                                         struct pl_error *err);

#endif
