/* Applying the embedded migrations, and reading the schema version. */
#include "store/internal.h"
#include "store/migrations.h"

#include "clock.h"
#include "log.h"

static const char create_table[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)";

int store_schema_version(struct store *db, int *version, struct pl_error *err)
{
    static const char sql[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
    struct store_stmt *st;
    int rc = store_exec(db, create_table, err);
    if (rc == PL_OK)
        rc = store_stmt(db, sql, &st, err);
    if (rc == PL_OK && (rc = store_step(st, err)) == STORE_ROW) {
        *version = (int)store_col_int64(st, 0);
        store_done(st);
        rc = PL_OK;
    }
    return rc;
}

int store_ping(struct store *db, struct pl_error *err)
{
    static const char sql[] = "SELECT 1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc == PL_OK && (rc = store_step(st, err)) == STORE_ROW) {
        store_done(st);
        rc = PL_OK;
    }
    return rc;
}

int store_migrate(struct store *db, int *applied, struct pl_error *err)
{
    static const char record[] =
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)";
    int current = 0, count = 0, rc;
    if ((rc = store_schema_version(db, &current, err)) < 0)
        return rc;
    for (size_t i = 0; i < store_migrations_sqlite_count; i++) {
        const struct store_migration *m = &store_migrations_sqlite[i];
        if (m->version <= current)
            continue;
        struct store_stmt *st;
        if ((rc = store_begin(db, err)) < 0)
            return rc;
        if ((rc = store_exec(db, m->sql, err)) < 0)
            goto fail;
        if ((rc = store_stmt(db, record, &st, err)) < 0)
            goto fail;
        store_bind_int64(st, 1, m->version);
        store_bind_text(st, 2, m->name);
        store_bind_int64(st, 3, clock_now_us());
        if ((rc = store_run(st, err)) < 0)
            goto fail;
        if ((rc = store_commit(db, err)) < 0)
            return rc;
        log_msg(LOG_INFO, "applied migration %s", m->name);
        count++;
    }
    if (applied)
        *applied = count;
    return PL_OK;
fail:
    store_rollback(db);
    return rc;
}
