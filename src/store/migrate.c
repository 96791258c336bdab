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

static int apply(struct store *db, const struct store_migration *m, struct pl_error *err)
{
    static const char record[] =
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)";
    struct store_stmt *st;
    int rc;
    if ((rc = store_begin(db, err)) < 0)
        return rc;
    if ((rc = store_exec(db, m->sql, err)) < 0 || (rc = store_stmt(db, record, &st, err)) < 0)
        goto fail;
    store_bind_int64(st, 1, m->version);
    store_bind_text(st, 2, m->name);
    store_bind_int64(st, 3, clock_now_us());
    if ((rc = store_run(st, err)) < 0)
        goto fail;
    return store_commit(db, err);
fail:
    store_rollback(db);
    return rc;
}

int store_migrate_progress(struct store *db, store_progress_fn *progress, void *arg,
                           int *applied, struct pl_error *err)
{
    int current = 0, count = 0, rc;
    if ((rc = store_schema_version(db, &current, err)) < 0)
        return rc;
    if (applied)
        *applied = 0;
    if (current >= store_schema_latest())
        return PL_OK;
    if ((rc = store_temp_on_disk(db, true, err)) < 0)
        return rc;
    for (size_t i = 0; i < store_migrations_sqlite_count && rc == PL_OK; i++) {
        const struct store_migration *m = &store_migrations_sqlite[i];
        if (m->version <= current)
            continue;
        if (progress) {
            progress(arg, m->name);
            store_progress(db, progress, arg, m->name);
        }
        if ((rc = apply(db, m, err)) == PL_OK) {
            log_msg(LOG_INFO, "applied migration %s", m->name);
            count++;
        }
        if (progress)
            store_progress(db, NULL, NULL, NULL);
    }
    struct pl_error ignored = {0};
    int restored = store_temp_on_disk(db, false, rc == PL_OK ? err : &ignored);
    if (rc == PL_OK)
        rc = restored;
    if (applied)
        *applied = count;
    return rc;
}

int store_migrate(struct store *db, int *applied, struct pl_error *err)
{
    return store_migrate_progress(db, NULL, NULL, applied, err);
}
