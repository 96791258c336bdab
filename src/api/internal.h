/* Helpers the handlers of api/ share: field-by-field JSON validation that names the offending
 * field (jansson's own type errors do not), ids, pagination and the user representation. */
#ifndef PLANNER_API_INTERNAL_H
#define PLANNER_API_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/time.h"
#include "core/user.h"
#include "error.h"
#include "http/request.h"

#define API_PAGE_DEFAULT 100
#define API_PAGE_MAX 1000

/* PL_EINVAL naming the first member of `obj` not in the NULL-terminated `allowed`. */
PL_MUST_CHECK int api_only_fields(json_t *obj, const char *const *allowed, struct pl_error *err);

/* Member `key` as a string: *out = NULL when absent (PL_EINVAL if `required`), PL_EINVAL
 * when present but not a string or when it holds a NUL. */
PL_MUST_CHECK int api_string(json_t *obj, const char *key, bool required, const char **out,
                             struct pl_error *err);
/* Member `key` as a boolean: *out = -1 when absent, else 0 or 1. */
PL_MUST_CHECK int api_bool(json_t *obj, const char *key, int *out, struct pl_error *err);

/* Member `key` as an integer in [min, max]: *present = false when absent (PL_EINVAL if
 * `required`). */
PL_MUST_CHECK int api_int(json_t *obj, const char *key, bool required, int64_t min, int64_t max,
                          int64_t *out, bool *present, struct pl_error *err);

/* Member `key` as an id ("42"): *out = 0 when absent or null (PL_EINVAL if `required`),
 * PL_EINVAL naming `key` when not an id string. */
PL_MUST_CHECK int api_id_member(json_t *obj, const char *key, bool required, int64_t *out,
                                struct pl_error *err);

/* An id given as a JSON value (an element of an id array): PL_EINVAL naming `field`. */
PL_MUST_CHECK int api_id_value(json_t *v, const char *field, int64_t *out, struct pl_error *err);

/* The required ?from=&to= (RFC 3339) of a range query, checked by core_event_check_range. */
PL_MUST_CHECK int api_range(struct http_request *rq, int64_t *from_us, int64_t *to_us,
                            struct pl_error *err);

/* A JSON string of an id. */
json_t *api_id_json(int64_t id);

/* Parse a resource id from the path ("42"): PL_ENOTFOUND unless 1-18 decimal digits. */
PL_MUST_CHECK int api_id(const char *text, int64_t *out, struct pl_error *err);

/* ?limit= alone (1..API_PAGE_MAX, default API_PAGE_DEFAULT).  PL_EINVAL naming it. */
PL_MUST_CHECK int api_page_limit(struct http_request *rq, int *limit, struct pl_error *err);

/* ?limit= (1..API_PAGE_MAX, default API_PAGE_DEFAULT) and ?cursor= (opaque to clients; the
 * last id of the previous page).  PL_EINVAL naming the parameter. */
PL_MUST_CHECK int api_page(struct http_request *rq, int *limit, int64_t *after_id,
                           struct pl_error *err);
/* {"items": items, "next_cursor": cursor or null}; takes the reference to `items`. */
json_t *api_page_json(json_t *items, bool more, int64_t last_id);

/* RFC 3339 text of an instant, as a new JSON string. */
json_t *api_time_json(int64_t us);
/* The same, written by a JSON writer; and written raw (http_json_raw), at most
 * API_TIME_RAW_MAX bytes. */
void api_time_write(struct http_json *w, int64_t us);
#define API_TIME_RAW_MAX (CORE_TIME_TEXT_MAX + 2)
char *api_time_raw(char *p, int64_t us);

/* A user as the API shows it, and its strong ETag (from rq's arena). */
json_t *api_user_json(const struct user *u, const char *etag);
const char *api_user_etag(struct http_request *rq, const struct user *u);

/* Fail the request with `err` unless the database is there; returns false after answering. */
bool api_need_db(struct http_request *rq);

/* Occurrence and event representations (api/events.c), shared by calendars, rooms and the
 * agenda.  `viewer` decides how much of a private event shows. */
struct occurrence;
struct store_page;
/* ?limit= and ?cursor= of an occurrence listing (the cursor is "<start_us>.<instance id>" of
 * the last item of the previous page).  page->limit is one more than asked for, so that the
 * answer tells whether a next page exists. */
PL_MUST_CHECK int api_occurrence_page(struct http_request *rq, struct store_page *page,
                                      struct pl_error *err);
/* Answer 200 {items, next_cursor} with `n` occurrences read with `page`. */
void api_reply_occurrences(struct http_request *rq, const struct occurrence *occ, size_t n,
                           const struct store_page *page);

/* Make the recurring series' occurrences exist up to at least `until` (range queries call it
 * with their `to` before reading, writes with how far their room check reaches): every
 * series up to meta.materialized_until, and past it those of `scope` (NULL: every series), the
 * ones the request can meet.  A write inside its transaction (`in_tx`) also needs every series
 * up to the configured horizon ahead of now.  A read extends in short transactions of its
 * own.  Inside serve_route a request that needs an extension gives up (a write its
 * transaction): PL_EUNAVAIL, with rq->extend_to and rq->extend_ids set for
 * api_extend_pending, which extends the same way and runs it again; outside serve_route (the
 * CLI's import) a write extends inside the transaction.  `horizon` receives how far the
 * series the request can meet are expanded.  PL_EINVAL (field "to") past 20 years ahead. */
struct store_scope;
PL_MUST_CHECK int api_materialize(struct http_request *rq, int64_t until,
                                  const struct store_scope *scope, bool in_tx,
                                  int64_t *horizon, struct pl_error *err);

/* Rebuild an event's occurrences (a series expanded up to `horizon`, from `starts` when the
 * caller has them), and drop the overrides of a changed series that no longer apply.  Both
 * run inside the caller's transaction (api/events.c). */
struct event;
PL_MUST_CHECK int api_events_index(struct http_request *rq, const struct event *ev,
                                   int64_t horizon, const int64_t *starts, size_t n,
                                   struct pl_error *err);
PL_MUST_CHECK int api_events_drop_stale_overrides(struct http_request *rq, const struct event *ev,
                                                  struct pl_error *err);

/* iCalendar import into calendar `calendar_id` for rq->user_id (api/import.c): idempotent by
 * UID, a higher SEQUENCE updates, `atomic` imports nothing when any VEVENT is unusable.  Runs
 * its own transactions: one for an atomic import, else a new one whenever the last has held
 * the writers' lock 50 ms (IMPORT_TX_MAX_US).  The counts and a JSON array of {line,
 * message} come back in `out` (out->errors is the caller's to release, also on failure).  Uses only rq's db, cfg, arena,
 * now_us and user_id, so that `planner import` can call it without a connection.
 * `progress`, when not NULL, is called with `progress_ctx` as the work goes: once with phase
 * "parsing" (done 0, total = len) before the text is parsed, then with "writing" for
 * done = 0 .. total, total being the usable VEVENTs the parse gave. */
struct import_result {
    size_t imported, updated, skipped;
    json_t *errors;
};
typedef void (*api_import_progress_fn)(void *ctx, const char *phase, size_t done, size_t total);
PL_MUST_CHECK int api_import_ics(struct http_request *rq, int64_t calendar_id, const char *text,
                                 size_t len, bool atomic, api_import_progress_fn progress,
                                 void *progress_ctx, struct import_result *out,
                                 struct pl_error *err);

/* Handlers, by file. */
void api_auth_login(struct http_request *rq);
void api_auth_logout(struct http_request *rq);
void api_auth_me(struct http_request *rq);
void api_users_create(struct http_request *rq);
void api_users_list(struct http_request *rq);
void api_users_get(struct http_request *rq);
void api_users_patch(struct http_request *rq);
void api_users_delete(struct http_request *rq);
void api_calendars_list(struct http_request *rq);
void api_calendars_create(struct http_request *rq);
void api_calendars_get(struct http_request *rq);
void api_calendars_patch(struct http_request *rq);
void api_calendars_delete(struct http_request *rq);
void api_calendars_share(struct http_request *rq);
void api_calendars_unshare(struct http_request *rq);
void api_events_list(struct http_request *rq);
void api_events_create(struct http_request *rq);
void api_events_get(struct http_request *rq);
void api_events_patch(struct http_request *rq);
void api_events_delete(struct http_request *rq);
void api_events_rsvp(struct http_request *rq);
void api_events_agenda(struct http_request *rq);
void api_events_instances(struct http_request *rq);
void api_events_instance_patch(struct http_request *rq);
void api_events_instance_delete(struct http_request *rq);
void api_import(struct http_request *rq);
void api_ical_calendar_export(struct http_request *rq);
void api_ical_event_export(struct http_request *rq);
void api_ical_feed_create(struct http_request *rq);
void api_ical_feed_delete(struct http_request *rq);
void api_ical_feed_get(struct http_request *rq);
void api_rooms_list(struct http_request *rq);
void api_rooms_available(struct http_request *rq);
void api_rooms_create(struct http_request *rq);
void api_rooms_get(struct http_request *rq);
void api_rooms_patch(struct http_request *rq);
void api_rooms_delete(struct http_request *rq);
void api_rooms_bookings(struct http_request *rq);
void api_schedule_freebusy(struct http_request *rq);
void api_schedule_find_time(struct http_request *rq);
void api_notifications_list(struct http_request *rq);
void api_notifications_read(struct http_request *rq);
void api_notifications_read_all(struct http_request *rq);
void api_ops_healthz(struct http_request *rq);
void api_ops_readyz(struct http_request *rq);
void api_ops_metrics(struct http_request *rq);
void api_ops_openapi(struct http_request *rq);

#endif
