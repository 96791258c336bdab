/* Feed queries. */
#include "store/feeds.h"

#include "store/internal.h"

int store_feeds_set(struct store *db, int64_t calendar_id, const char *token_hash,
                    int64_t user_id, int64_t now_us, struct pl_error *err)
{
    static const char sql[] =
        "INSERT INTO calendar_feeds (calendar_id, token_hash, created_by, created_at)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (calendar_id) DO UPDATE SET"
        " token_hash = excluded.token_hash, created_by = excluded.created_by,"
        " created_at = excluded.created_at";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, calendar_id);
    store_bind_text(st, 2, token_hash);
    store_bind_int64(st, 3, user_id);
    store_bind_int64(st, 4, now_us);
    return store_run(st, err);
}

int store_feeds_delete(struct store *db, int64_t calendar_id, struct pl_error *err)
{
    static const char sql[] = "DELETE FROM calendar_feeds WHERE calendar_id = $1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, calendar_id);
    if ((rc = store_run(st, err)) < 0)
        return rc;
    if (store_changes(db) == 0)
        return pl_error_set(err, PL_ENOTFOUND, NULL, "the calendar has no feed");
    return PL_OK;
}

int store_feeds_lookup(struct store *db, const char *token_hash, struct calendar_feed *out,
                       struct pl_error *err)
{
    static const char sql[] =
        "SELECT f.calendar_id, f.created_by, f.created_at FROM calendar_feeds f"
        " JOIN calendars c ON c.id = f.calendar_id JOIN users u ON u.id = c.owner_id"
        " WHERE f.token_hash = $1 AND u.is_active = 1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_text(st, 1, token_hash);
    if ((rc = store_step_one(st, err, "no feed at this address")) < 0)
        return rc;
    out->calendar_id = store_col_int64(st, 0);
    out->created_by = store_col_int64(st, 1);
    out->created_us = store_col_int64(st, 2);
    store_done(st);
    return PL_OK;
}
