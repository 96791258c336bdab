/* Notification queries. */
#include "store/notifications.h"

#include "arena.h"
#include "store/internal.h"

#include <string.h>

static const char *const type_names[] = {"invitation", "update", "cancellation", "rsvp",
                                         "reminder"};

const char *store_notification_type_name(int type)
{
    return type >= 0 && type < 5 ? type_names[type] : "update";
}

#define WRITTEN_COLUMNS                                                                        \
    "user_id, event_id, type, actor_id, title, starts_at, ends_at, detail, created_at,"        \
    " scheduled_for"

/* $2 .. $10: everything of n but its user. */
static void bind_notification(struct store_stmt *st, const struct notification *n)
{
    store_bind_int64(st, 2, n->event_id);
    store_bind_text(st, 3, store_notification_type_name(n->type));
    if (n->actor_id > 0)
        store_bind_int64(st, 4, n->actor_id);
    store_bind_text(st, 5, n->title);
    store_bind_int64(st, 6, n->start_us);
    store_bind_int64(st, 7, n->end_us);
    store_bind_text(st, 8, n->detail ? n->detail : "");
    store_bind_int64(st, 9, n->created_us);
    store_bind_int64(st, 10, n->scheduled_us);
}

int store_notifications_add(struct store *db, struct notification *n, struct pl_error *err)
{
    static const char sql[] = "INSERT INTO notifications (" WRITTEN_COLUMNS ") VALUES ($1,"
                              " $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, n->user_id);
    bind_notification(st, n);
    if ((rc = store_run(st, err)) == PL_OK)
        n->id = store_last_insert_id(db);
    return rc;
}

int store_notifications_add_each(struct store *db, const struct notification *n,
                                 const int64_t *users, size_t count, struct arena *a,
                                 struct pl_error *err)
{
    static const char sql[] = "INSERT INTO notifications (" WRITTEN_COLUMNS ") SELECT"
                              " u.value, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM json_each($1) u"
                              " ORDER BY u.key";
    if (count == 0)
        return PL_OK;
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_ids(st, 1, users, count, a);
    bind_notification(st, n);
    return store_run(st, err);
}

int store_notifications_drop_reminders(struct store *db, int64_t event_id, bool with_overrides,
                                       struct pl_error *err)
{
    static const char one[] = "DELETE FROM notifications WHERE event_id = $1 AND type = 'reminder'"
                              " AND read_at IS NULL";
    static const char series[] =
        "DELETE FROM notifications WHERE event_id IN (SELECT id FROM events WHERE id = $1"
        " UNION ALL SELECT id FROM events WHERE parent_id = $1)"
        " AND type = 'reminder' AND read_at IS NULL";
    struct store_stmt *st;
    int rc = store_stmt(db, with_overrides ? series : one, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, event_id);
    return store_run(st, err);
}

/* The reminders an event should have: one per occurrence still ahead (recurring events get
 * one per occurrence within the materialised horizon), per minutes_before, per user the
 * occurrence keeps busy (`filter` may narrow them to one user, $3).  Columns: user_id,
 * starts_at, ends_at, minutes (text, as stored). */
#define WANTED_SQL(filter)                                                                    \
    " SELECT ui.user_id, i.starts_at, i.ends_at, CAST(r.minutes_before AS TEXT) AS minutes"   \
    " FROM event_reminders r JOIN event_instances i ON i.event_id = r.event_id"               \
    " JOIN user_instances ui ON ui.instance_id = i.id"                                         \
    " WHERE r.event_id = $1 AND ui.busy > 0 AND i.starts_at > $2" filter

/* Reconcile rather than replace: a reminder that still applies keeps its id and its read
 * state (a client may hold either); one that no longer applies goes if unread; a missing one
 * is added.  Reminders of occurrences already begun are left alone.  The DROP test is
 * WANTED_SQL written out around the notification's own occurrence, so that it is one index
 * lookup (event, start) rather than a scan of the series per row; the unary + keeps SQLite
 * from scanning all of the user's occurrences instead (measured: 3 ms against 520 ms for a
 * 113-occurrence series; tests/unit/store_plan_test.c). */
#define DROP_SQL(filter)                                                                      \
    "DELETE FROM notifications WHERE event_id = $1 AND type = 'reminder'" filter               \
    " AND read_at IS NULL AND starts_at > $2 AND NOT EXISTS (SELECT 1 FROM event_reminders r"  \
    "  JOIN event_instances i ON i.event_id = r.event_id"                                     \
    "  JOIN user_instances ui ON ui.instance_id = i.id"                                        \
    "  WHERE r.event_id = $1 AND ui.busy > 0 AND i.starts_at = notifications.starts_at"        \
    "  AND +ui.user_id = notifications.user_id"                                                \
    "  AND CAST(r.minutes_before AS TEXT) = notifications.detail)"
#define ADD_SQL(filter)                                                                       \
    "INSERT INTO notifications (user_id, event_id, type, title, starts_at, ends_at, detail,"  \
    " created_at, scheduled_for)"                                                             \
    " SELECT w.user_id, $1, 'reminder', e.title, w.starts_at, w.ends_at, w.minutes, $2,"      \
    "  w.starts_at - CAST(w.minutes AS INTEGER) * 60000000"                                   \
    " FROM (" WANTED_SQL(filter) ") w JOIN events e ON e.id = $1"                             \
    " WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.event_id = $1"                  \
    "  AND n.type = 'reminder' AND n.user_id = w.user_id AND n.starts_at = w.starts_at"       \
    "  AND n.detail = w.minutes)"

static int run_steps(struct store *db, const char *const *steps, size_t n, int64_t event_id,
                     int64_t now_us, int64_t user_id, struct pl_error *err)
{
    for (size_t k = 0; k < n; k++) {
        struct store_stmt *st;
        int rc = store_stmt(db, steps[k], &st, err);
        if (rc < 0)
            return rc;
        store_bind_int64(st, 1, event_id);
        store_bind_int64(st, 2, now_us);
        if (user_id)
            store_bind_int64(st, 3, user_id);
        if ((rc = store_run(st, err)) < 0)
            return rc;
    }
    return PL_OK;
}

/* Unread reminders of occurrences still ahead show the event's title as it is now. */
static const char retitle[] =
    "UPDATE notifications SET title = (SELECT title FROM events WHERE id = $1)"
    " WHERE event_id = $1 AND type = 'reminder' AND read_at IS NULL AND starts_at > $2";

int store_notifications_schedule_reminders(struct store *db, int64_t event_id, int64_t now_us,
                                           struct pl_error *err)
{
    static const char drop[] = DROP_SQL("");
    static const char add[] = ADD_SQL("");
    static const char *const steps[] = {drop, retitle, add};
    return run_steps(db, steps, 3, event_id, now_us, 0, err);
}

int store_notifications_retitle_reminders(struct store *db, int64_t event_id, int64_t now_us,
                                          struct pl_error *err)
{
    static const char *const steps[] = {retitle};
    return run_steps(db, steps, 1, event_id, now_us, 0, err);
}

int store_notifications_schedule_reminders_of(struct store *db, int64_t event_id,
                                              int64_t user_id, int64_t now_us,
                                              struct pl_error *err)
{
    static const char drop[] = DROP_SQL(" AND user_id = $3");
    static const char add[] = ADD_SQL(" AND ui.user_id = $3");
    static const char *const steps[] = {drop, add};
    return run_steps(db, steps, 2, event_id, now_us, user_id, err);
}

int store_notifications_remind_from(struct store *db, int64_t event_id, int64_t from_us,
                                    int64_t now_us, struct pl_error *err)
{
    static const char sql[] = ADD_SQL(" AND i.starts_at >= $3");
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, event_id);
    store_bind_int64(st, 2, now_us);
    store_bind_int64(st, 3, from_us);
    return store_run(st, err);
}

static void read_notification(struct store_stmt *st, struct arena *a, void *item)
{
    struct notification *x = item;
    x->id = store_col_int64(st, 0);
    x->user_id = store_col_int64(st, 1);
    x->event_id = store_col_int64(st, 2);
    const char *t = store_col_text(st, 3);
    x->type = NOTIFY_UPDATE;
    for (int k = 0; k < 5; k++)
        if (strcmp(t, type_names[k]) == 0)
            x->type = k;
    x->actor_id = store_col_int64(st, 4);
    x->title = arena_strdup(a, store_col_text(st, 5));
    x->start_us = store_col_int64(st, 6);
    x->end_us = store_col_int64(st, 7);
    x->detail = arena_strdup(a, store_col_text(st, 8));
    x->created_us = store_col_int64(st, 9);
    x->scheduled_us = store_col_int64(st, 10);
    x->read_us = store_col_int64(st, 11);
}

int store_notifications_list(struct store *db, int64_t user_id, bool unread_only, int64_t now_us,
                             int64_t before_us, int64_t before_id, int limit, struct arena *a,
                             struct notification **out, size_t *n, struct pl_error *err)
{
#define NOTIFICATION_COLUMNS                                                                  \
    "SELECT id, user_id, COALESCE(event_id, 0), type, COALESCE(actor_id, 0), title, starts_at,"  \
    " ends_at, detail, created_at, scheduled_for, COALESCE(read_at, 0) FROM notifications"
    /* A row is in one of two partial indexes, of the unread rows and of the read ones
     * (migration 015): the bell walks the first, and the full listing merges walks of both,
     * newest first (SQLite's MERGE of a compound ORDER BY: no sort, stopping at the limit). */
    /* $2 is the newer of "now" and the page position: nothing due later is listed. */
#define PAGE_WHERE " AND scheduled_for <= $2 AND (scheduled_for < $2 OR id < $4)"
#define PAGE_ORDER " ORDER BY scheduled_for DESC, id DESC LIMIT $5"
    static const char all[] =
        NOTIFICATION_COLUMNS " WHERE user_id = $1 AND read_at IS NULL" PAGE_WHERE
        " UNION ALL " NOTIFICATION_COLUMNS " WHERE user_id = $1 AND read_at IS NOT NULL" PAGE_WHERE
        PAGE_ORDER;
    static const char unread[] =
        NOTIFICATION_COLUMNS " WHERE user_id = $1 AND read_at IS NULL" PAGE_WHERE PAGE_ORDER;
    struct store_stmt *st;
    int rc = store_stmt(db, unread_only ? unread : all, &st, err);
    if (rc < 0)
        return rc;
    bool paged = before_id > 0 && before_us <= now_us;
    store_bind_int64(st, 1, user_id);
    store_bind_int64(st, 2, paged ? before_us : now_us);
    store_bind_int64(st, 4, paged ? before_id : INT64_MAX);
    store_bind_int64(st, 5, limit);
    void *items;
    if ((rc = store_read_all(st, a, sizeof **out, read_notification, &items, n, err)) == PL_OK)
        *out = items;
    return rc;
}

int store_notifications_read(struct store *db, int64_t user_id, int64_t id, int64_t now_us,
                             struct pl_error *err)
{
    static const char sql[] =
        "UPDATE notifications SET read_at = COALESCE(read_at, $3)"
        " WHERE id = $1 AND user_id = $2 AND scheduled_for <= $3";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, id);
    store_bind_int64(st, 2, user_id);
    store_bind_int64(st, 3, now_us);
    if ((rc = store_run(st, err)) < 0)
        return rc;
    if (store_changes(db) == 0)
        return pl_error_set(err, PL_ENOTFOUND, NULL, "no notification with id %lld", (long long)id);
    return PL_OK;
}

int store_notifications_read_all(struct store *db, int64_t user_id, int64_t now_us,
                                 struct pl_error *err)
{
    static const char sql[] = "UPDATE notifications SET read_at = $2"
                              " WHERE user_id = $1 AND read_at IS NULL AND scheduled_for <= $2";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, user_id);
    store_bind_int64(st, 2, now_us);
    return store_run(st, err);
}
