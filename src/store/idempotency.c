/* Idempotency-key queries. */
#include "store/idempotency.h"

#include "arena.h"
#include "store/internal.h"

#include <string.h>

int store_idempotency_claim(struct store *db, int64_t user_id, const char *key,
                            const char *request_hash, int64_t now_us, struct arena *a,
                            struct idempotent_answer *out, struct pl_error *err)
{
    static const char expire[] = "DELETE FROM idempotency_keys WHERE created_at < $1";
    static const char claim[] =
        "INSERT INTO idempotency_keys (user_id, key, request_hash, status, created_at)"
        " VALUES ($1, $2, $3, 0, $4) ON CONFLICT (user_id, key) DO NOTHING";
    static const char find[] = "SELECT request_hash, status, COALESCE(body, ''),"
                               " COALESCE(location, '') FROM idempotency_keys"
                               " WHERE user_id = $1 AND key = $2";
    struct store_stmt *st;
    int rc;
    out->status = 0;
    out->body = out->location = NULL;
    if ((rc = store_begin(db, err)) < 0)
        return rc;
    if ((rc = store_stmt(db, expire, &st, err)) < 0)
        goto fail;
    store_bind_int64(st, 1, now_us - STORE_IDEMPOTENCY_TTL_US);
    if ((rc = store_run(st, err)) < 0 || (rc = store_stmt(db, claim, &st, err)) < 0)
        goto fail;
    store_bind_int64(st, 1, user_id);
    store_bind_text(st, 2, key);
    store_bind_text(st, 3, request_hash);
    store_bind_int64(st, 4, now_us);
    if ((rc = store_run(st, err)) < 0)
        goto fail;
    if (store_changes(db) == 0) {
        if ((rc = store_stmt(db, find, &st, err)) < 0)
            goto fail;
        store_bind_int64(st, 1, user_id);
        store_bind_text(st, 2, key);
        if ((rc = store_step(st, err)) != STORE_ROW) {
            rc = rc < 0 ? rc : pl_error_set(err, PL_EDB, NULL, "database error");
            goto fail;
        }
        if (strcmp(store_col_text(st, 0), request_hash) != 0) {
            rc = pl_error_set(err, PL_EINVAL, "Idempotency-Key",
                              "was already used for a different request");
            goto fail;
        }
        out->status = (int)store_col_int64(st, 1);
        if (out->status == 0) {
            rc = pl_error_set(err, PL_ECONFLICT, "Idempotency-Key",
                              "a request with this key is still being processed; retry later");
            goto fail;
        }
        out->body = arena_strdup(a, store_col_text(st, 2));
        out->location = arena_strdup(a, store_col_text(st, 3));
        if ((rc = store_run(st, err)) < 0)
            goto fail;
    }
    return store_commit(db, err);
fail:
    store_release(db); /* the lookup may stop at its row */
    store_rollback(db);
    return rc;
}

int store_idempotency_finish(struct store *db, int64_t user_id, const char *key, int status,
                             const char *body, const char *location, struct pl_error *err)
{
    static const char done[] = "UPDATE idempotency_keys SET status = $3, body = $4, location = $5"
                               " WHERE user_id = $1 AND key = $2";
    static const char release[] = "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2";
    struct store_stmt *st;
    int rc = store_stmt(db, status ? done : release, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, user_id);
    store_bind_text(st, 2, key);
    if (status) {
        store_bind_int64(st, 3, status);
        store_bind_text(st, 4, body ? body : "");
        if (location)
            store_bind_text(st, 5, location);
    }
    return store_run(st, err);
}
