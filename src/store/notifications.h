/* In-app notifications.  Written inside the transaction of the change that causes them. */
#ifndef PLANNER_STORE_NOTIFICATIONS_H
#define PLANNER_STORE_NOTIFICATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct arena;
struct store;

enum notification_type {
    NOTIFY_INVITATION, NOTIFY_UPDATE, NOTIFY_CANCELLATION, NOTIFY_RSVP, NOTIFY_REMINDER
};

struct notification {
    int64_t id, user_id, event_id, actor_id;
    int type;
    const char *title, *detail;
    int64_t start_us, end_us, created_us, scheduled_us;
    int64_t read_us; /* 0 = unread */
};

const char *store_notification_type_name(int type);

/* Add one notification (n->id is filled). */
PL_MUST_CHECK int store_notifications_add(struct store *db, struct notification *n,
                                          struct pl_error *err);
/* The same notification (n->user_id aside) to each of `users`, in that order, in one
 * statement: an event's participants hear of a change at once. */
PL_MUST_CHECK int store_notifications_add_each(struct store *db, const struct notification *n,
                                               const int64_t *users, size_t count,
                                               struct arena *a, struct pl_error *err);

/* Schedule reminders for event `event_id`: for every minutes_before of the event and every
 * user whose time an occurrence still ahead takes (owner and participants who did not
 * decline), one 'reminder' due at start - minutes.  Calling it again after a change
 * reconciles: reminders that still apply keep their id and read state, unread ones that no
 * longer apply go, missing ones are added.  Three statements whatever the event's size. */
PL_MUST_CHECK int store_notifications_schedule_reminders(struct store *db, int64_t event_id,
                                                         int64_t now_us, struct pl_error *err);
/* Only the title of the event's unread reminders still ahead, when nothing else that decides
 * them changed (a new title: the same occurrences, people and reminders). */
PL_MUST_CHECK int store_notifications_retitle_reminders(struct store *db, int64_t event_id,
                                                        int64_t now_us, struct pl_error *err);
/* The same for one user's reminders only, when nothing but that user's claim on the event
 * changed (an RSVP): the event's other reminders, titles included, still hold. */
PL_MUST_CHECK int store_notifications_schedule_reminders_of(struct store *db, int64_t event_id,
                                                            int64_t user_id, int64_t now_us,
                                                            struct pl_error *err);
/* Add the reminders of the event's occurrences from `from_us` on, which have none yet (a new
 * event, or a series just extended past its horizon): cheaper than a reconcile. */
PL_MUST_CHECK int store_notifications_remind_from(struct store *db, int64_t event_id,
                                                  int64_t from_us, int64_t now_us,
                                                  struct pl_error *err);

/* Drop the unread reminders of an event (it was cancelled or deleted), and with_overrides
 * those of its overrides too (a series deleted, or cancelled with them). */
PL_MUST_CHECK int store_notifications_drop_reminders(struct store *db, int64_t event_id,
                                                     bool with_overrides, struct pl_error *err);

/* Due notifications of `user_id` (scheduled_for <= now), most recently due first (then by id),
 * after the page position (before_us, before_id) in that order (before_id 0: from the start),
 * at most `limit`; unread ones only when `unread_only`. */
PL_MUST_CHECK int store_notifications_list(struct store *db, int64_t user_id, bool unread_only,
                                           int64_t now_us, int64_t before_us, int64_t before_id,
                                           int limit, struct arena *a, struct notification **out,
                                           size_t *n, struct pl_error *err);

/* Mark one (PL_ENOTFOUND unless it is the user's and due) or all due notifications read. */
PL_MUST_CHECK int store_notifications_read(struct store *db, int64_t user_id, int64_t id,
                                           int64_t now_us, struct pl_error *err);
PL_MUST_CHECK int store_notifications_read_all(struct store *db, int64_t user_id, int64_t now_us,
                                               struct pl_error *err);

#endif
