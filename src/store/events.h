/* Events, their occurrences, participants and reminders.  Writes are meant to be composed
 * inside one transaction (store_begin .. store_commit) by the caller, so that an event, its
 * occurrences, its room check and the notifications it causes commit or vanish together.
 * Everything returned is allocated from `a`. */
#ifndef PLANNER_STORE_EVENTS_H
#define PLANNER_STORE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "error.h"
#include "store/cache.h"

struct arena;
struct store;

/* One occurrence as range queries return it, with what the viewer's view depends on. */
struct occurrence {
    int64_t instance_id;
    int64_t event_id;  /* the row the occurrence comes from (an override's own id) */
    int64_t series_id; /* the id clients know it by (the series' for an override) */
    int64_t calendar_id, organizer_id;
    int64_t recurrence_id; /* 0 for a single event */
    int64_t version;       /* of the row event_id: what its participant list is kept under */
    int64_t start_us, end_us;
    const char *title, *location, *time_zone;
    bool all_day;
    int visibility, status;
    int64_t room_id; /* 0 = none */
    const char *room_name;
    int access;          /* the viewer's enum calendar_access to the event's calendar; an
                          * agenda leaves CAL_NONE where the viewer takes part (unread: taking
                          * part decides the view alone) */
    bool is_participant; /* the viewer takes part */
    struct participant *participants; /* filled by store_events_attach_participants */
    size_t nparticipants;
};

/* A room booking that blocks a new one. */
struct conflict {
    int64_t event_id, start_us, end_us; /* the booking in the way (series id for overrides) */
    int64_t blocked_start_us;           /* the start of the new occurrence it blocks */
};

/* A busy interval of one user or room: free/busy and find-a-time. */
struct busy_row {
    int64_t owner_id; /* the user or room */
    int64_t start_us, end_us;
    bool tentative;
};

/* Event `id` with the viewer's access to its calendar and whether it takes part.
 * PL_ENOTFOUND when there is no such event. */
PL_MUST_CHECK int store_events_get(struct store *db, int64_t id, int64_t viewer_id,
                                   struct arena *a, struct event *out, int *access,
                                   bool *is_participant, struct pl_error *err);
PL_MUST_CHECK int store_events_participants(struct store *db, int64_t event_id, struct arena *a,
                                            struct participant **out, size_t *n,
                                            struct pl_error *err);
PL_MUST_CHECK int store_events_reminders(struct store *db, int64_t event_id, struct arena *a,
                                         int **minutes, size_t *n, struct pl_error *err);

/* The event of calendar `calendar_id` with UID `uid` (an override's stored uid is
 * "<series uid>/<recurrence id>"), or PL_ENOTFOUND. */
PL_MUST_CHECK int store_events_find_uid(struct store *db, int64_t calendar_id, const char *uid,
                                        struct arena *a, struct event *out, struct pl_error *err);

/* Insert the event row; ev->uid must be set.  Fills id, version 1, sequence 0, times.
 * PL_ECONFLICT when the calendar already holds that UID. */
PL_MUST_CHECK int store_events_insert(struct store *db, struct event *ev, int64_t now_us,
                                      struct pl_error *err);
/* Rewrite the event row from `ev` if its version is `if_version` (-1: any); bumps version and
 * sequence.  PL_EPRECOND on a version mismatch. */
PL_MUST_CHECK int store_events_update(struct store *db, struct event *ev, int64_t if_version,
                                      int64_t now_us, struct pl_error *err);
/* Replace the participants / reminders of an event. */
PL_MUST_CHECK int store_events_set_participants(struct store *db, int64_t event_id,
                                                const struct participant *p, size_t n,
                                                struct pl_error *err);
PL_MUST_CHECK int store_events_set_reminders(struct store *db, int64_t event_id,
                                             const int *minutes, size_t n, struct pl_error *err);
/* Rebuild the event's occurrences and whose time they take from the event row and its
 * participants.  Call after any write that changes them.  A single event (or an override)
 * passes starts = NULL; a series passes the starts of its occurrences up to
 * `materialized_until` (core_recur_expand), those replaced by overrides being skipped, and
 * their ends (NULL: start + the event's length). */
PL_MUST_CHECK int store_events_reindex(struct store *db, int64_t event_id, const int64_t *starts,
                                       const int64_t *ends, size_t n,
                                       int64_t materialized_until, struct arena *a,
                                       struct pl_error *err);
/* Only `user_id`'s claim on the event's occurrences, after a change that touches no one
 * else's (an RSVP): the event's occurrences themselves stay as they are. */
PL_MUST_CHECK int store_events_reindex_user(struct store *db, int64_t event_id, int64_t user_id,
                                            struct pl_error *err);
/* Add a series' occurrences at `starts` (all later than its materialized_until) and record the
 * new horizon.  `ends` (NULL: start + the event's length) gives each occurrence's end. */
PL_MUST_CHECK int store_events_extend(struct store *db, int64_t series_id, const int64_t *starts,
                                      const int64_t *ends, size_t n, int64_t materialized_until,
                                      struct arena *a, struct pl_error *err);
/* The recurring series a request can meet: those of a series, of a calendar, of some users
 * (in their calendars or with them as participants: what user_instances holds for them), of
 * some rooms, or of any room.  Past meta.materialized_until only these need their occurrences
 * (docs/architecture.md, "Recurring events"). */
struct store_scope {
    int64_t series_id, calendar_id; /* 0: none */
    const int64_t *users, *rooms;
    size_t nusers, nrooms;
    bool any_room;
};
/* The ids of the series of `scope` materialised less far than `until_us`, through indexes;
 * any room's through a pass over every series short of `until_us` (200,000 at W200 x100),
 * which only rooms available asks for, never a write under the writers' lock. */
PL_MUST_CHECK int store_events_series_short(struct store *db, int64_t until_us,
                                            const struct store_scope *scope, struct arena *a,
                                            int64_t **ids, size_t *n, struct pl_error *err);
/* Up to `limit` series materialised less far than `until_us`, least first, among `ids` (NULL:
 * every series); each one's current horizon is returned in its `updated_us`. */
PL_MUST_CHECK int store_events_series_to_extend(struct store *db, int64_t until_us,
                                                const int64_t *ids, size_t nids, int limit,
                                                struct arena *a, struct event **out, size_t *n,
                                                struct pl_error *err);
/* The overrides of a series, by recurrence id; one of them. */
PL_MUST_CHECK int store_events_overrides(struct store *db, int64_t series_id, struct arena *a,
                                         struct event **out, size_t *n, struct pl_error *err);
PL_MUST_CHECK int store_events_override_get(struct store *db, int64_t series_id,
                                            int64_t recurrence_id, struct arena *a,
                                            struct event *out, struct pl_error *err);
/* Move the overrides of series `from_id` with recurrence_id >= `from_rid` to series `to_id`
 * (whose UID is `to_uid`). */
PL_MUST_CHECK int store_events_move_overrides(struct store *db, int64_t from_id, int64_t to_id,
                                              const char *to_uid, int64_t from_rid,
                                              struct pl_error *err);

/* Server-wide integers in the meta table (0 when absent). */
PL_MUST_CHECK int store_meta_get(struct store *db, const char *key, int64_t *value,
                                 struct pl_error *err);
PL_MUST_CHECK int store_meta_set(struct store *db, const char *key, int64_t value,
                                 struct pl_error *err);
/* Delete the event with everything hanging off it. */
PL_MUST_CHECK int store_events_delete(struct store *db, int64_t id, struct pl_error *err);
/* Set `user_id`'s RSVP and move the event's version (and so its ETag) and updated_at, unless
 * it is the answer already given (*was, the one before, tells): then nothing changes.
 * PL_EFORBIDDEN when the user does not take part.  The caller reindexes. */
PL_MUST_CHECK int store_events_set_rsvp(struct store *db, int64_t event_id, int64_t user_id,
                                        int rsvp, int64_t now_us, int *was,
                                        struct pl_error *err);

/* Bookings of `room_id` overlapping any of the `nranges` ranges [ranges[2k], ranges[2k+1])
 * other than those of `exclude_event_id` (and its overrides), at most `max`, earliest first.
 * One statement.  Run inside the writing transaction: with the write lock held, what it finds
 * cannot change before the commit, which is what makes double-booking impossible. */
PL_MUST_CHECK int store_events_room_conflicts(struct store *db, int64_t room_id,
                                              const int64_t *ranges, size_t nranges,
                                              int64_t exclude_event_id, size_t max,
                                              struct arena *a, struct conflict **out, size_t *n,
                                              struct pl_error *err);

/* A page of an occurrence listing: occurrences after (start, instance id) = (after_start_us,
 * after_id) in (start, instance id) order, at most `limit`.  The first page has after_id 0. */
struct store_page {
    int64_t after_start_us, after_id;
    int limit;
};

/* Occurrences overlapping [from, to), by start: of one calendar, of one user's agenda (own
 * calendars and participation), or of one room; each read for `viewer_id`. */
PL_MUST_CHECK int store_events_in_calendar(struct store *db, int64_t calendar_id,
                                           int64_t viewer_id, int64_t from_us, int64_t to_us,
                                           const struct store_page *page, struct arena *a,
                                           struct occurrence **out, size_t *n,
                                           struct pl_error *err);
PL_MUST_CHECK int store_events_agenda(struct store *db, int64_t user_id, int64_t from_us,
                                      int64_t to_us, const struct store_page *page,
                                      struct arena *a, struct occurrence **out, size_t *n,
                                      struct pl_error *err);
PL_MUST_CHECK int store_events_in_room(struct store *db, int64_t room_id, int64_t viewer_id,
                                       int64_t from_us, int64_t to_us,
                                       const struct store_page *page, struct arena *a,
                                       struct occurrence **out, size_t *n, struct pl_error *err);

/* The occurrences of one series (its overrides included) overlapping [from, to). */
PL_MUST_CHECK int store_events_in_series(struct store *db, int64_t series_id, int64_t viewer_id,
                                         int64_t from_us, int64_t to_us,
                                         const struct store_page *page, struct arena *a,
                                         struct occurrence **out, size_t *n,
                                         struct pl_error *err);

/* Fill the participants of every occurrence in one query, however many there are; with the
 * process's cache (store_events_cache_start), only those of the events whose lists it does not
 * have under their `version` (0: unknown, always read). */
PL_MUST_CHECK int store_events_attach_participants(struct store *db, struct occurrence *occ,
                                                   size_t n, struct arena *a,
                                                   struct pl_error *err);

/* Keep events' participant lists in this process between requests, up to `bytes` (0: none),
 * found again only under the version they were read with.  Call before the process's threads
 * serve, and store_events_cache_end after they stop; false when out of memory. */
PL_MUST_CHECK bool store_events_cache_start(size_t bytes);
void store_events_cache_end(void);
/* hits: lists found whole in the cache; misses: lists read from the tables while it was on;
 * entries and bytes: what it keeps now (lists, and the users' e-mails and names). */
void store_events_cache_stats(struct store_cache_stats *out);

/* An event row with its people and reminders: what iCalendar export writes. */
struct event_row {
    struct event ev;
    bool is_participant; /* the viewer takes part */
    struct participant *participants;
    size_t nparticipants;
    int *reminders; /* minutes before the start, ascending */
    size_t nreminders;
};

/* Every event row of calendar `calendar_id` (single events, series and overrides, each series
 * followed by its overrides in recurrence-id order), with participants and reminders, read for
 * `viewer_id` (0 for nobody).  Three queries however many events the calendar holds. */
PL_MUST_CHECK int store_events_of_calendar(struct store *db, int64_t calendar_id,
                                           int64_t viewer_id, struct arena *a,
                                           struct event_row **out, size_t *n,
                                           struct pl_error *err);
/* The same for event `series_id` and its overrides (the event first; none when it does not
 * exist). */
PL_MUST_CHECK int store_events_of_series(struct store *db, int64_t series_id, int64_t viewer_id,
                                         struct arena *a, struct event_row **out, size_t *n,
                                         struct pl_error *err);

/* Busy intervals of the given users (their own calendars and participation, not declined,
 * not cancelled) or rooms over [from, to), in one query each, ordered by owner then start. */
PL_MUST_CHECK int store_events_busy_users(struct store *db, const int64_t *ids, size_t nids,
                                          int64_t from_us, int64_t to_us, struct arena *a,
                                          struct busy_row **out, size_t *n, struct pl_error *err);
PL_MUST_CHECK int store_events_busy_rooms(struct store *db, const int64_t *ids, size_t nids,
                                          int64_t from_us, int64_t to_us, struct arena *a,
                                          struct busy_row **out, size_t *n, struct pl_error *err);

#endif
