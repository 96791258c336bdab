/* Session and login-failure queries. */
#include "store/sessions.h"

#include "core/user.h"
#include "store/internal.h"

#include <string.h>

int store_sessions_create(struct store *db, int64_t user_id, const char *token_hash,
                          int64_t now_us, int64_t expires_us, struct pl_error *err)
{
    static const char insert[] = "INSERT INTO sessions (user_id, token_hash, created_at, expires_at)"
                                 " VALUES ($1, $2, $3, $4)";
    static const char expire[] = "DELETE FROM sessions WHERE expires_at <= $1";
    struct store_stmt *st;
    int rc;
    if ((rc = store_begin(db, err)) < 0)
        return rc;
    if ((rc = store_stmt(db, insert, &st, err)) < 0)
        goto fail;
    store_bind_int64(st, 1, user_id);
    store_bind_text(st, 2, token_hash);
    store_bind_int64(st, 3, now_us);
    store_bind_int64(st, 4, expires_us);
    if ((rc = store_run(st, err)) < 0)
        goto fail;
    if ((rc = store_stmt(db, expire, &st, err)) < 0)
        goto fail;
    store_bind_int64(st, 1, now_us);
    if ((rc = store_run(st, err)) < 0)
        goto fail;
    return store_commit(db, err);
fail:
    store_rollback(db);
    return rc;
}

int store_sessions_lookup(struct store *db, const char *token_hash, int64_t now_us,
                          struct store_identity *out, struct pl_error *err)
{
    static const char sql[] = "SELECT s.id, u.id, u.role FROM sessions s JOIN users u ON u.id = s.user_id"
                              " WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.is_active = 1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_text(st, 1, token_hash);
    store_bind_int64(st, 2, now_us);
    if ((rc = store_step_one(st, err, "no such session")) < 0)
        return rc;
    out->session_id = store_col_int64(st, 0);
    out->user_id = store_col_int64(st, 1);
    out->role = strcmp(store_col_text(st, 2), "admin") == 0 ? USER_ROLE_ADMIN : USER_ROLE_MEMBER;
    store_done(st);
    return PL_OK;
}

int store_sessions_delete(struct store *db, int64_t session_id, struct pl_error *err)
{
    static const char sql[] = "DELETE FROM sessions WHERE id = $1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, session_id);
    return store_run(st, err);
}

int store_login_failures_nth(struct store *db, const char *key, int64_t since_us, int n,
                             int64_t *at_us, struct pl_error *err)
{
    static const char sql[] = "SELECT at FROM login_failures WHERE key = $1 AND at > $2"
                              " ORDER BY at DESC LIMIT 1 OFFSET $3";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_text(st, 1, key);
    store_bind_int64(st, 2, since_us);
    store_bind_int64(st, 3, n - 1);
    if ((rc = store_step(st, err)) < 0)
        return rc;
    *at_us = rc == STORE_ROW ? store_col_int64(st, 0) : 0;
    store_done(st);
    return PL_OK;
}

int store_login_failures_add(struct store *db, const char *key1, const char *key2, int64_t now_us,
                             int64_t since_us, struct pl_error *err)
{
    static const char insert[] = "INSERT INTO login_failures (key, at) VALUES ($1, $3), ($2, $3)";
    static const char prune[] = "DELETE FROM login_failures WHERE key IN ($1, $2) AND at <= $3";
    struct store_stmt *st;
    int rc;
    if ((rc = store_begin(db, err)) < 0)
        return rc;
    if ((rc = store_stmt(db, prune, &st, err)) < 0)
        goto fail;
    store_bind_text(st, 1, key1);
    store_bind_text(st, 2, key2);
    store_bind_int64(st, 3, since_us);
    if ((rc = store_run(st, err)) < 0)
        goto fail;
    if ((rc = store_stmt(db, insert, &st, err)) < 0)
        goto fail;
    store_bind_text(st, 1, key1);
    store_bind_text(st, 2, key2);
    store_bind_int64(st, 3, now_us);
    if ((rc = store_run(st, err)) < 0)
        goto fail;
    return store_commit(db, err);
fail:
    store_rollback(db);
    return rc;
}

int store_login_failures_clear(struct store *db, const char *key, struct pl_error *err)
{
    static const char sql[] = "DELETE FROM login_failures WHERE key = $1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_text(st, 1, key);
    return store_run(st, err);
}
