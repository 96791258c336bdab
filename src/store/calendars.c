/* Calendar and share queries.  Access is computed in SQL in the same statement that reads the
 * calendar, so checking permission never costs a query of its own. */
#include "store/calendars.h"

#include "arena.h"
#include "core/event.h"
#include "store/internal.h"

#include <stdlib.h>

/* The access of user $2 to calendar c, as an enum calendar_access number. */
#define ACCESS_SQL                                                                            \
    "CASE WHEN c.owner_id = $2 THEN 4 ELSE COALESCE((SELECT CASE s.role WHEN 'write' THEN 3"  \
    " WHEN 'read' THEN 2 ELSE 1 END FROM calendar_shares s WHERE s.calendar_id = c.id"        \
    " AND s.user_id = $2), 0) END"
#define CALENDAR_COLUMNS                                                                      \
    "c.id, c.owner_id, c.name, c.color, c.time_zone, c.is_default, c.version, c.created_at,"  \
    " c.updated_at, " ACCESS_SQL

static void read_calendar(struct store_stmt *st, struct arena *a, void *item)
{
    struct calendar *c = item;
    c->id = store_col_int64(st, 0);
    c->owner_id = store_col_int64(st, 1);
    c->name = arena_strdup(a, store_col_text(st, 2));
    c->color = arena_strdup(a, store_col_text(st, 3));
    c->time_zone = arena_strdup(a, store_col_text(st, 4));
    c->is_default = store_col_int64(st, 5) != 0;
    c->version = store_col_int64(st, 6);
    c->created_us = store_col_int64(st, 7);
    c->updated_us = store_col_int64(st, 8);
    c->access = (int)store_col_int64(st, 9);
}

int store_calendars_list(struct store *db, int64_t user_id, struct arena *a, struct calendar **out,
                         size_t *n, struct pl_error *err)
{
    static const char sql[] =
        "SELECT " CALENDAR_COLUMNS " FROM calendars c WHERE c.owner_id = $1"
        " UNION ALL SELECT " CALENDAR_COLUMNS " FROM calendar_shares sh"
        " JOIN calendars c ON c.id = sh.calendar_id WHERE sh.user_id = $1"
        " ORDER BY 10 DESC, 1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, user_id);
    store_bind_int64(st, 2, user_id);
    void *items;
    if ((rc = store_read_all(st, a, sizeof **out, read_calendar, &items, n, err)) == PL_OK)
        *out = items;
    return rc;
}

int store_calendars_get(struct store *db, int64_t id, int64_t user_id, struct arena *a,
                        struct calendar *out, struct pl_error *err)
{
    static const char sql[] = "SELECT " CALENDAR_COLUMNS " FROM calendars c WHERE c.id = $1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, id);
    store_bind_int64(st, 2, user_id);
    if ((rc = store_step_one(st, err, "no calendar with id %lld", (long long)id)) < 0)
        return rc;
    read_calendar(st, a, out);
    store_done(st);
    return PL_OK;
}

int store_calendars_default(struct store *db, int64_t user_id, int64_t *id, struct pl_error *err)
{
    static const char sql[] =
        "SELECT id FROM calendars WHERE owner_id = $1 AND is_default = 1 ORDER BY id LIMIT 1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, user_id);
    if ((rc = store_step_one(st, err, "the user has no default calendar")) < 0)
        return rc;
    *id = store_col_int64(st, 0);
    store_done(st);
    return PL_OK;
}

int store_calendars_create(struct store *db, struct calendar *c, int64_t now_us,
                           struct pl_error *err)
{
    static const char sql[] =
        "INSERT INTO calendars (owner_id, name, color, time_zone, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $5) RETURNING id";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, c->owner_id);
    store_bind_text(st, 2, c->name);
    store_bind_text(st, 3, c->color);
    store_bind_text(st, 4, c->time_zone);
    store_bind_int64(st, 5, now_us);
    if ((rc = store_step(st, err)) < 0)
        return rc;
    c->id = store_col_int64(st, 0);
    if ((rc = store_run(st, err)) < 0)
        return rc;
    c->version = 1;
    c->created_us = c->updated_us = now_us;
    c->is_default = false;
    c->access = CAL_OWNER;
    return PL_OK;
}

int store_calendars_update(struct store *db, int64_t id, const char *name, const char *color,
                           const char *time_zone, int64_t if_version, int64_t now_us,
                           struct pl_error *err)
{
    static const char sql[] =
        "UPDATE calendars SET name = COALESCE($2, name), color = COALESCE($3, color),"
        " time_zone = COALESCE($4, time_zone), version = version + 1, updated_at = $5"
        " WHERE id = $1 AND ($6 < 0 OR version = $6)";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, id);
    if (name)
        store_bind_text(st, 2, name);
    if (color)
        store_bind_text(st, 3, color);
    if (time_zone)
        store_bind_text(st, 4, time_zone);
    store_bind_int64(st, 5, now_us);
    store_bind_int64(st, 6, if_version);
    if ((rc = store_run(st, err)) < 0)
        return rc;
    if (store_changes(db) == 0)
        return pl_error_set(err, PL_EPRECOND, NULL, "the calendar has changed; fetch it again");
    return PL_OK;
}

int store_calendars_delete(struct store *db, int64_t id, struct pl_error *err)
{
    static const char sql[] = "DELETE FROM calendars WHERE id = $1 AND is_default = 0";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, id);
    if ((rc = store_run(st, err)) < 0)
        return rc;
    if (store_changes(db) == 0)
        return pl_error_set(err, PL_ECONFLICT, NULL, "a user's default calendar cannot be deleted");
    return PL_OK;
}

static const char *share_role_name(int role)
{
    return role == CAL_WRITE ? "write" : role == CAL_READ ? "read" : "freebusy";
}

/* Shares are part of what GET /calendars/{id} shows (and decide what others see), so a change
 * of shares is a change of the calendar: its version, and so its ETag, moves. */
static int bump_version(struct store *db, int64_t id, int64_t now_us, struct pl_error *err)
{
    static const char sql[] =
        "UPDATE calendars SET version = version + 1, updated_at = $2 WHERE id = $1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, id);
    store_bind_int64(st, 2, now_us);
    return store_run(st, err);
}

int store_calendars_share(struct store *db, int64_t id, int64_t user_id, int role, int64_t now_us,
                          struct pl_error *err)
{
    static const char sql[] =
        "INSERT INTO calendar_shares (calendar_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (calendar_id, user_id) DO UPDATE SET role = excluded.role";
    struct store_stmt *st;
    int rc;
    if ((rc = store_begin(db, err)) < 0)
        return rc;
    if ((rc = store_stmt(db, sql, &st, err)) < 0)
        goto fail;
    store_bind_int64(st, 1, id);
    store_bind_int64(st, 2, user_id);
    store_bind_text(st, 3, share_role_name(role));
    store_bind_int64(st, 4, now_us);
    if ((rc = store_run(st, err)) < 0 || (rc = bump_version(db, id, now_us, err)) < 0)
        goto fail;
    return store_commit(db, err);
fail:
    store_rollback(db);
    return rc;
}

int store_calendars_unshare(struct store *db, int64_t id, int64_t user_id, int64_t now_us,
                            struct pl_error *err)
{
    static const char sql[] = "DELETE FROM calendar_shares WHERE calendar_id = $1 AND user_id = $2";
    struct store_stmt *st;
    int rc;
    if ((rc = store_begin(db, err)) < 0)
        return rc;
    if ((rc = store_stmt(db, sql, &st, err)) < 0)
        goto fail;
    store_bind_int64(st, 1, id);
    store_bind_int64(st, 2, user_id);
    if ((rc = store_run(st, err)) < 0)
        goto fail;
    if (store_changes(db) == 0) {
        rc = pl_error_set(err, PL_ENOTFOUND, NULL, "the calendar is not shared with that user");
        goto fail;
    }
    if ((rc = bump_version(db, id, now_us, err)) < 0)
        goto fail;
    return store_commit(db, err);
fail:
    store_rollback(db);
    return rc;
}

static void read_share(struct store_stmt *st, struct arena *a, void *item)
{
    struct calendar_share *sh = item;
    sh->user_id = store_col_int64(st, 0);
    sh->role = (int)store_col_int64(st, 1);
    sh->email = arena_strdup(a, store_col_text(st, 2));
    sh->name = arena_strdup(a, store_col_text(st, 3));
}

int store_calendars_shares(struct store *db, int64_t id, struct arena *a,
                           struct calendar_share **out, size_t *n, struct pl_error *err)
{
    static const char sql[] =
        "SELECT s.user_id, CASE s.role WHEN 'write' THEN 3 WHEN 'read' THEN 2 ELSE 1 END,"
        " u.email, u.name FROM calendar_shares s JOIN users u ON u.id = s.user_id"
        " WHERE s.calendar_id = $1 ORDER BY s.user_id";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, id);
    void *items;
    if ((rc = store_read_all(st, a, sizeof **out, read_share, &items, n, err)) == PL_OK)
        *out = items;
    return rc;
}
