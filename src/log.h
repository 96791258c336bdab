/* Levelled, structured logging: one JSON object per line on stderr, written with a single
 * write(2) so lines from threads and processes never interleave.  Also the access-log policy. */
#ifndef PLANNER_LOG_H
#define PLANNER_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Set the lowest level written and the process role ("master", "worker", "cli") that every
 * line carries.  Called before threads start; `role` must be a static string. */
void log_init(int min_level, const char *role);

/* Write `msg` (printf-formatted) at `level`. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct json_t;
/* Write `msg` with the members of `fields` (a jansson object, or NULL) added to the line.
 * Takes the caller's reference to `fields`. */
void log_fields(int level, const char *msg, struct json_t *fields);

/* The access-log policy (DESIGN.md): in production only 4xx/5xx answers and requests slower
 * than `slow_us`; in development every request. */
bool log_access_wanted(bool production, int status, int64_t duration_us, int64_t slow_us);

#endif
