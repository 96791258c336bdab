/* store/engine_sqlite + store/migrate: $N binding, the statement cache, error mapping,
 * transactions, migrations and the query statistics, on SQLite :memory:. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "arena.h"
#include "clock.h"
#include "log.h"
#include "store/engine_sqlite_vfs.h"
#include "store/internal.h"
#include "store/migrations.h"
#include "store/sessions.h"
#include "store/store.h"
#include "store/users.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct store *db;

static void open_memory(void)
{
    log_init(LOG_WARN, "test");
    struct pl_error err = {0};
    db = store_open("sqlite::memory:", &err);
    cr_assert(ne(ptr, db, NULL), "store_open: %s", err.detail);
}

static void close_db(void)
{
    store_close(db);
    db = NULL;
}

TestSuite(store_engine, .init = open_memory, .fini = close_db);

/* SQLite numbers "$N" by first appearance; the engine must bind by N (DESIGN.md). */
Test(store_engine, binds_dollar_n_by_number_not_by_order)
{
    static const char sql[] = "SELECT $2, $1";
    struct pl_error err = {0};
    struct store_stmt *st;
    cr_assert(eq(int, store_stmt(db, sql, &st, &err), PL_OK), "%s", err.detail);
    store_bind_int64(st, 1, 10);
    store_bind_int64(st, 2, 20);
    cr_assert(eq(int, store_step(st, &err), STORE_ROW), "%s", err.detail);
    cr_expect(eq(i64, store_col_int64(st, 0), 20));
    cr_expect(eq(i64, store_col_int64(st, 1), 10));
    cr_expect(eq(int, store_step(st, &err), STORE_DONE));
}

/* Reuse of a number, numbers out of order, text and NULL. */
Test(store_engine, binds_repeated_and_mixed_parameters)
{
    static const char sql[] = "SELECT $3, $1 || '-' || $3, $2, $1, $4 IS NULL";
    struct pl_error err = {0};
    struct store_stmt *st;
    cr_assert(eq(int, store_stmt(db, sql, &st, &err), PL_OK), "%s", err.detail);
    store_bind_text(st, 1, "one");
    store_bind_int64(st, 2, -7);
    store_bind_text(st, 3, "three");
    store_bind_null(st, 4);
    cr_assert(eq(int, store_step(st, &err), STORE_ROW), "%s", err.detail);
    cr_expect(eq(str, (char *)store_col_text(st, 0), "three"));
    cr_expect(eq(str, (char *)store_col_text(st, 1), "one-three"));
    cr_expect(eq(i64, store_col_int64(st, 2), -7));
    cr_expect(eq(str, (char *)store_col_text(st, 3), "one"));
    cr_expect(eq(i64, store_col_int64(st, 4), 1));
}

/* Text is copied at bind time: the caller's buffer may change before the step. */
Test(store_engine, bind_text_copies)
{
    static const char sql[] = "SELECT $1";
    char buf[] = "original";
    struct pl_error err = {0};
    struct store_stmt *st;
    cr_assert(eq(int, store_stmt(db, sql, &st, &err), PL_OK));
    store_bind_text(st, 1, buf);
    memcpy(buf, "XXXXXXXX", 8);
    cr_assert(eq(int, store_step(st, &err), STORE_ROW));
    cr_expect(eq(str, (char *)store_col_text(st, 0), "original"));
}

Test(store_engine, null_columns)
{
    static const char sql[] = "SELECT NULL, '', 0";
    struct pl_error err = {0};
    struct store_stmt *st;
    cr_assert(eq(int, store_stmt(db, sql, &st, &err), PL_OK));
    cr_assert(eq(int, store_step(st, &err), STORE_ROW));
    cr_expect(store_col_is_null(st, 0));
    cr_expect(eq(str, (char *)store_col_text(st, 0), ""));
    cr_expect(not(store_col_is_null(st, 1)));
    cr_expect(not(store_col_is_null(st, 2)));
}

/* The cache hands back the same statement for the same SQL address, reset and unbound. */
Test(store_engine, statement_cache_resets_and_clears)
{
    static const char sql[] =
        "SELECT $1 IS NULL, value FROM (SELECT 1 AS value UNION ALL SELECT 2)";
    struct pl_error err = {0};
    struct store_stmt *st1, *st2;
    cr_assert(eq(int, store_stmt(db, sql, &st1, &err), PL_OK));
    store_bind_int64(st1, 1, 5);
    cr_assert(eq(int, store_step(st1, &err), STORE_ROW)); /* left mid-way */
    cr_expect(eq(i64, store_col_int64(st1, 0), 0));
    cr_assert(eq(int, store_stmt(db, sql, &st2, &err), PL_OK));
    cr_expect(eq(ptr, st1, st2));
    cr_assert(eq(int, store_step(st2, &err), STORE_ROW));
    cr_expect(eq(i64, store_col_int64(st2, 0), 1), "binding survived the reset");
    cr_expect(eq(i64, store_col_int64(st2, 1), 1), "not restarted from the first row");
}

Test(store_engine, exec_and_changes)
{
    static const char insert[] = "INSERT INTO t (v) VALUES ($1), ($2), ($3)";
    static const char update[] = "UPDATE t SET v = v + 1 WHERE v > $1";
    struct pl_error err = {0};
    struct store_stmt *st;
    cr_assert(eq(int, store_exec(db, "CREATE TABLE t (v INTEGER NOT NULL UNIQUE);"
                                     "CREATE INDEX t_v ON t (v);", &err),
                 PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_stmt(db, insert, &st, &err), PL_OK));
    store_bind_int64(st, 1, 10);
    store_bind_int64(st, 2, 20);
    store_bind_int64(st, 3, 30);
    cr_assert(eq(int, store_run(st, &err), STORE_DONE), "%s", err.detail);
    cr_expect(eq(i64, store_changes(db), 3));
    cr_assert(eq(int, store_stmt(db, update, &st, &err), PL_OK));
    store_bind_int64(st, 1, 15);
    cr_assert(eq(int, store_run(st, &err), STORE_DONE), "%s", err.detail);
    cr_expect(eq(i64, store_changes(db), 2));
}

/* Errors map onto the status vocabulary. */
Test(store_engine, error_mapping)
{
    static const char dup[] = "INSERT INTO t (v) VALUES ($1)";
    static const char null[] = "INSERT INTO t (v) VALUES (NULL)";
    static const char bad[] = "SELEC 1";
    log_init(LOG_ERROR + 1, "test"); /* the PL_EDB cases log; keep the output clean */
    struct pl_error err = {0};
    struct store_stmt *st;
    cr_assert(eq(int, store_exec(db, "CREATE TABLE t (v INTEGER NOT NULL UNIQUE)", &err), PL_OK));
    cr_assert(eq(int, store_stmt(db, dup, &st, &err), PL_OK));
    store_bind_int64(st, 1, 1);
    cr_assert(eq(int, store_run(st, &err), STORE_DONE));
    cr_assert(eq(int, store_stmt(db, dup, &st, &err), PL_OK));
    store_bind_int64(st, 1, 1);
    cr_expect(eq(int, store_run(st, &err), PL_ECONFLICT));
    cr_expect(eq(int, err.status, PL_ECONFLICT));

    cr_assert(eq(int, store_stmt(db, null, &st, &err), PL_OK));
    cr_expect(eq(int, store_run(st, &err), PL_EDB));
    cr_expect(eq(int, err.status, PL_EDB));

    cr_expect(eq(int, store_stmt(db, bad, &st, &err), PL_EDB));
    cr_expect(eq(int, store_exec(db, "CREATE TABLE;", &err), PL_EDB));

    /* The statement that failed is usable again. */
    cr_assert(eq(int, store_stmt(db, dup, &st, &err), PL_OK));
    store_bind_int64(st, 1, 2);
    cr_expect(eq(int, store_run(st, &err), STORE_DONE), "%s", err.detail);
}

static int64_t count_rows(const char *table)
{
    static const char sql_t[] = "SELECT COUNT(*) FROM t";
    static const char sql_users[] = "SELECT COUNT(*) FROM users";
    const char *sql = strcmp(table, "t") == 0 ? sql_t : sql_users;
    struct pl_error err = {0};
    struct store_stmt *st;
    cr_assert(eq(int, store_stmt(db, sql, &st, &err), PL_OK));
    cr_assert(eq(int, store_step(st, &err), STORE_ROW));
    int64_t n = store_col_int64(st, 0);
    cr_assert(eq(int, store_step(st, &err), STORE_DONE));
    return n;
}

Test(store_engine, transactions)
{
    static const char insert[] = "INSERT INTO t (v) VALUES ($1)";
    struct pl_error err = {0};
    struct store_stmt *st;
    cr_assert(eq(int, store_exec(db, "CREATE TABLE t (v INTEGER)", &err), PL_OK));

    store_rollback(db); /* no transaction open: harmless */

    cr_assert(eq(int, store_begin(db, &err), STORE_DONE), "%s", err.detail);
    cr_assert(eq(int, store_stmt(db, insert, &st, &err), PL_OK));
    store_bind_int64(st, 1, 1);
    cr_assert(eq(int, store_run(st, &err), STORE_DONE));
    store_rollback(db);
    cr_expect(eq(i64, count_rows("t"), 0));

    cr_assert(eq(int, store_begin(db, &err), STORE_DONE), "%s", err.detail);
    cr_assert(eq(int, store_stmt(db, insert, &st, &err), PL_OK));
    store_bind_int64(st, 1, 2);
    cr_assert(eq(int, store_run(st, &err), STORE_DONE));
    cr_assert(eq(int, store_commit(db, &err), STORE_DONE), "%s", err.detail);
    cr_expect(eq(i64, count_rows("t"), 1));
}

Test(store_engine, migrate_once)
{
    struct pl_error err = {0};
    int version = -1, applied = -1;
    cr_assert(eq(int, store_schema_version(db, &version, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(int, version, 0));

    cr_assert(gt(sz, store_migrations_sqlite_count, 0));
    cr_expect(eq(int, store_schema_latest(),
                 store_migrations_sqlite[store_migrations_sqlite_count - 1].version));
    for (size_t i = 1; i < store_migrations_sqlite_count; i++)
        cr_expect(gt(int, store_migrations_sqlite[i].version,
                     store_migrations_sqlite[i - 1].version),
                  "migration %zu", i);

    cr_assert(eq(int, store_migrate(db, &applied, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(int, applied, (int)store_migrations_sqlite_count));
    cr_assert(eq(int, store_schema_version(db, &version, &err), PL_OK));
    cr_expect(eq(int, version, store_schema_latest()));

    applied = -1;
    cr_assert(eq(int, store_migrate(db, &applied, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(int, applied, 0));
    cr_assert(eq(int, store_migrate(db, NULL, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_schema_version(db, &version, &err), PL_OK));
    cr_expect(eq(int, version, store_schema_latest()));
    cr_expect(eq(i64, count_rows("users"), 0));
}

Test(store_engine, ping_and_name)
{
    struct pl_error err = {0};
    cr_expect(eq(int, store_ping(db, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(str, (char *)store_engine_name_get(db), "sqlite"));
}

/* A statement counts once however many rows it returns: N+1 shows, big answers do not. */
static void read_one_int(struct store_stmt *st, struct arena *a, void *out)
{
    (void)a;
    *(int64_t *)out = store_col_int64(st, 0);
}

Test(store_engine, stats_count_statements)
{
    static const char many[] =
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)"
        " SELECT i FROM n";
    struct pl_error err = {0};
    struct store_stmt *st;
    unsigned queries = 99;
    int64_t elapsed = -1;
    store_stats_reset(db);
    store_stats_get(db, &queries, &elapsed);
    cr_expect(eq(uint, queries, 0));
    cr_expect(eq(i64, elapsed, 0));

    for (int i = 0; i < 3; i++)
        cr_assert(eq(int, store_ping(db, &err), PL_OK));
    store_stats_get(db, &queries, &elapsed);
    cr_expect(eq(uint, queries, 3));
    cr_expect(ge(i64, elapsed, 0));

    cr_assert(eq(int, store_stmt(db, many, &st, &err), PL_OK));
    store_bind_int64(st, 1, 500);
    int rows = 0, rc;
    while ((rc = store_step(st, &err)) == STORE_ROW)
        rows++;
    cr_expect(eq(int, rc, STORE_DONE));
    cr_expect(eq(int, rows, 500));
    store_stats_get(db, &queries, &elapsed);
    cr_expect(eq(uint, queries, 4));

    cr_assert(eq(int, store_exec(db, "CREATE TABLE t (v INTEGER); CREATE TABLE u (v INTEGER)",
                                 &err),
                 PL_OK));
    store_stats_get(db, &queries, &elapsed);
    cr_expect(eq(uint, queries, 5));

    /* The loops that time their whole run rather than each row count their time too. */
    struct arena *a = arena_new(0);
    void *items;
    size_t n = 0;
    store_stats_reset(db);
    cr_assert(eq(int, store_stmt(db, many, &st, &err), PL_OK));
    store_bind_int64(st, 1, 100000);
    cr_assert(eq(int, store_read_all(st, a, sizeof(int64_t), read_one_int, &items, &n, &err),
                 PL_OK), "%s", err.detail);
    cr_expect(eq(sz, n, (size_t)100000));
    store_stats_get(db, &queries, &elapsed);
    cr_expect(eq(uint, queries, 1));
    cr_expect(gt(i64, elapsed, 0), "store_read_all's time was not counted");
    store_stats_reset(db);
    cr_assert(eq(int, store_stmt(db, many, &st, &err), PL_OK));
    store_bind_int64(st, 1, 100000);
    cr_assert(eq(int, store_run(st, &err), STORE_DONE), "%s", err.detail);
    store_stats_get(db, &queries, &elapsed);
    cr_expect(eq(uint, queries, 1));
    cr_expect(gt(i64, elapsed, 0), "store_run's time was not counted");
    arena_free(a);

    store_stats_reset(db);
    store_stats_get(db, &queries, &elapsed);
    cr_expect(eq(uint, queries, 0));
}

Test(store_engine, open_failures)
{
    static const struct {
        const char *url;
        int status;
    } cases[] = {
        {"postgres://localhost/planner", PL_EINVAL},
        {"planner.db", PL_EINVAL},
        {"", PL_EINVAL},
        {"sqlite:/nonexistent-dir-for-planner-tests/x/planner.db", PL_EUNAVAIL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct pl_error err = {0};
        struct store *other = store_open(cases[i].url, &err);
        cr_expect(eq(ptr, other, NULL), "case %zu: %s", i, cases[i].url);
        store_close(other);
        cr_expect(eq(int, err.status, cases[i].status), "case %zu: %s", i, err.detail);
        cr_expect(eq(str, err.field, "database"), "case %zu", i);
    }
    store_close(NULL);
}

/* ---- two connections to one file ---------------------------------------------------------
 * Every thread of `planner serve` owns a connection to the same database file.  A read whose
 * statement was left after its one row (store_users_get, store_sessions_lookup, ...) must
 * not keep that connection's read transaction open: it would keep reading the snapshot of
 * that moment, and its next write would fail with SQLITE_BUSY_SNAPSHOT, i.e. a 503. */

static char dir[64];
static char url[128];

static void open_file_pair(struct store **a, struct store **b)
{
    log_init(LOG_WARN, "test");
    snprintf(dir, sizeof dir, "/tmp/planner-store-test-XXXXXX");
    cr_assert(ne(ptr, mkdtemp(dir), NULL));
    snprintf(url, sizeof url, "sqlite:%s/planner.db", dir);
    struct pl_error err = {0};
    *a = store_open(url, &err);
    cr_assert(ne(ptr, *a, NULL), "%s", err.detail);
    *b = store_open(url, &err);
    cr_assert(ne(ptr, *b, NULL), "%s", err.detail);
    cr_assert(eq(int, store_migrate(*a, NULL, &err), PL_OK), "%s", err.detail);
}

static void remove_file_pair(void)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char path[160];
    for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
        snprintf(path, sizeof path, "%s/planner.db%s", dir, suffixes[i]);
        unlink(path);
    }
    rmdir(dir);
}

Test(store_engine, finished_read_does_not_pin_snapshot)
{
    struct store *a, *b;
    open_file_pair(&a, &b);
    struct pl_error err = {0};
    struct arena *ar = arena_new(0);
    struct user u = {.email = "pin@example.org", .name = "Before", .time_zone = "UTC"};
    cr_assert(eq(int, store_users_create(a, &u, "hash", 1, &err), PL_OK), "%s", err.detail);

    /* Connection a reads the user; connection b then renames it. */
    struct user got;
    cr_assert(eq(int, store_users_get(a, u.id, ar, &got, &err), PL_OK), "%s", err.detail);
    struct store_user_patch rename = {.name = "After", .role = -1, .active = -1};
    cr_assert(eq(int, store_users_update(b, u.id, &rename, -1, 2, ar, &got, &err), PL_OK), "%s",
              err.detail);

    /* A later read on a (through another statement) sees b's committed change... */
    const char *hash;
    int rc = store_users_get_login(a, "pin@example.org", ar, &got, &hash, &err);
    cr_expect(eq(int, rc, PL_OK), "%s", err.detail);
    if (rc == PL_OK)
        cr_expect(eq(str, (char *)got.name, "After"), "connection a reads a stale snapshot");

    /* ...and a write on a succeeds. */
    struct store_user_patch again = {.name = "Again", .role = -1, .active = -1};
    rc = store_users_update(a, u.id, &again, -1, 3, ar, &got, &err);
    cr_expect(eq(int, rc, PL_OK), "write on connection a: %s", err.detail);

    arena_free(ar);
    store_close(a);
    store_close(b);
    remove_file_pair();
}

/* The same with the session lookup every authenticated request makes: after b deactivates
 * the user (which ends its sessions), a must no longer accept the token. */
Test(store_engine, deactivation_seen_by_other_connection)
{
    struct store *a, *b;
    open_file_pair(&a, &b);
    struct pl_error err = {0};
    struct arena *ar = arena_new(0);
    struct user u = {.email = "s@example.org", .name = "S", .time_zone = "UTC"};
    cr_assert(eq(int, store_users_create(a, &u, "hash", 1, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_sessions_create(a, u.id, "tokenhash", 1, 1000, &err), PL_OK), "%s",
              err.detail);
    struct store_identity id;
    cr_assert(eq(int, store_sessions_lookup(a, "tokenhash", 2, &id, &err), PL_OK), "%s",
              err.detail);

    struct user got;
    struct store_user_patch off = {.role = -1, .active = 0};
    cr_assert(eq(int, store_users_update(b, u.id, &off, -1, 3, ar, &got, &err), PL_OK), "%s",
              err.detail);

    /* Any other statement on a, then the lookup again. */
    int64_t admins = -1;
    cr_assert(eq(int, store_users_count_admins(a, &admins, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(int, store_sessions_lookup(a, "tokenhash", 4, &id, &err), PL_ENOTFOUND),
              "a deactivated user's token still works on another connection");

    arena_free(ar);
    store_close(a);
    store_close(b);
    remove_file_pair();
}

/* store_snapshot: every read until store_release sees one state of the database, whatever
 * another connection commits meanwhile; a write (store_begin) ends the snapshot and sees the
 * latest state, and after store_release reads see it too. */
Test(store_engine, snapshot_holds_until_release_or_write)
{
    struct store *a, *b;
    open_file_pair(&a, &b);
    struct pl_error err = {0};
    struct arena *ar = arena_new(0);
    struct user u = {.email = "snap@example.org", .name = "Before", .time_zone = "UTC"};
    cr_assert(eq(int, store_users_create(a, &u, "hash", 1, &err), PL_OK), "%s", err.detail);

    struct user got;
    struct store_user_patch rename = {.name = "After", .role = -1, .active = -1};
    cr_assert(eq(int, store_snapshot(a, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_users_get(a, u.id, ar, &got, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_users_update(b, u.id, &rename, -1, 2, ar, &got, &err), PL_OK), "%s",
              err.detail);
    cr_assert(eq(int, store_users_get(a, u.id, ar, &got, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(str, (char *)got.name, "Before"), "a read inside the snapshot saw a later commit");
    store_release(a);
    cr_assert(eq(int, store_users_get(a, u.id, ar, &got, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(str, (char *)got.name, "After"), "the snapshot outlived store_release");

    /* A write inside a snapshot: store_begin ends it (a stale snapshot could not take the
     * write lock) and the write applies to the latest state. */
    cr_assert(eq(int, store_snapshot(a, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_users_get(a, u.id, ar, &got, &err), PL_OK), "%s", err.detail);
    struct store_user_patch third = {.name = "Third", .role = -1, .active = -1};
    cr_assert(eq(int, store_users_update(b, u.id, &third, -1, 3, ar, &got, &err), PL_OK), "%s",
              err.detail);
    struct store_user_patch fourth = {.name = "Fourth", .role = -1, .active = -1};
    int rc = store_users_update(a, u.id, &fourth, 3, 4, ar, &got, &err);
    cr_expect(eq(int, rc, PL_OK), "write inside a snapshot: %s", err.detail);
    store_release(a);
    cr_assert(eq(int, store_users_get(b, u.id, ar, &got, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(str, (char *)got.name, "Fourth"));

    arena_free(ar);
    store_close(a);
    store_close(b);
    remove_file_pair();
}

/* A one-statement write inside a snapshot (no store_begin) ends the snapshot first: run as
 * an upgrade of the read transaction it failed at once, SQLITE_BUSY_SNAPSHOT, whenever
 * another connection had committed since the snapshot began. */
Test(store_engine, single_statement_write_leaves_the_snapshot)
{
    struct store *a, *b;
    open_file_pair(&a, &b);
    struct pl_error err = {0};
    struct arena *ar = arena_new(0);
    struct user u = {.email = "one@example.org", .name = "One", .time_zone = "UTC"}, got;
    cr_assert(eq(int, store_users_create(a, &u, "hash", 1, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_snapshot(a, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_users_get(a, u.id, ar, &got, &err), PL_OK), "%s", err.detail);
    struct store_user_patch rename = {.name = "Renamed", .role = -1, .active = -1};
    cr_assert(eq(int, store_users_update(b, u.id, &rename, -1, 2, ar, &got, &err), PL_OK), "%s",
              err.detail);
    struct store_stmt *st;
    cr_assert(eq(int, store_stmt(a, "UPDATE users SET time_zone = 'Europe/Moscow' WHERE id = $1",
                                 &st, &err), PL_OK), "%s", err.detail);
    store_bind_int64(st, 1, u.id);
    cr_expect(eq(int, store_run(st, &err), PL_OK), "%s", err.detail);
    store_release(a);
    cr_assert(eq(int, store_users_get(b, u.id, ar, &got, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(str, (char *)got.name, "Renamed"));
    cr_expect(eq(str, (char *)got.time_zone, "Europe/Moscow"));
    arena_free(ar);
    store_close(a);
    store_close(b);
    remove_file_pair();
}

/* store_bind_ids writes the ids as a JSON array by hand: every sign and length, and the
 * extremes, come back from json_each as they went in. */
Test(store_engine, bind_ids_round_trips_every_int64)
{
    static const int64_t ids[] = {0, 7, -3, 10, -10, 1234567890123, INT64_MAX, INT64_MIN, 99};
    static const char sql[] = "SELECT value, type FROM json_each($1) ORDER BY key";
    struct pl_error err = {0};
    struct arena *a = arena_new(0);
    struct store_stmt *st;
    cr_assert(eq(int, store_stmt(db, sql, &st, &err), PL_OK), "%s", err.detail);
    store_bind_ids(st, 1, ids, ARRAY_LEN(ids), a);
    for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
        cr_assert(eq(int, store_step(st, &err), STORE_ROW), "id %zu: %s", i, err.detail);
        cr_expect(eq(i64, store_col_int64(st, 0), ids[i]));
        cr_expect(eq(str, (char *)store_col_text(st, 1), "integer"));
    }
    cr_expect(eq(int, store_step(st, &err), STORE_DONE));
    cr_assert(eq(int, store_stmt(db, sql, &st, &err), PL_OK), "%s", err.detail);
    store_bind_ids(st, 1, ids, 0, a); /* an empty list */
    cr_expect(eq(int, store_step(st, &err), STORE_DONE));
    arena_free(a);
}

/* The frames in the WAL after a passive checkpoint that copies nothing: (busy, log, copied)
 * of SQLite's pragma, log read. */
static int64_t wal_frames(struct store *s)
{
    struct pl_error err = {0};
    struct store_stmt *st;
    cr_assert(eq(int, store_stmt(s, "PRAGMA wal_checkpoint(PASSIVE)", &st, &err), PL_OK), "%s",
              err.detail);
    cr_assert(eq(int, store_step(st, &err), STORE_ROW), "%s", err.detail);
    int64_t log = store_col_int64(st, 1);
    store_done(st);
    return log;
}

/* Past STORE_WAL_AUTOCHECKPOINT_PAGES, store_checkpoint makes the next write start the WAL
 * over.  A passive checkpoint copies the frames but, while a reader still uses them, the
 * next writer cannot start the WAL over and appends: under steady load there always is such
 * a reader, and the WAL grew without end (and every commit past the limit checkpointed).
 * The RESTART that does it holds writers back while it waits for such readers, so behind a
 * long read it gives up after STORE_RESTART_WAIT_MS and leaves the WAL to the next call. */
Test(store_engine, checkpoint_past_the_limit_starts_the_wal_over)
{
    struct store *a, *b, *c;
    open_file_pair(&a, &b);
    struct pl_error err = {0};
    cr_assert(ne(ptr, c = store_open(url, &err), NULL), "%s", err.detail);
    /* With a checkpointer in the process, the big commit checkpoints nothing itself. */
    cr_assert(eq(int, store_checkpoint(b, &err), PL_OK), "%s", err.detail);
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE TABLE big (b BLOB); INSERT INTO big VALUES (zeroblob(%d))",
             (STORE_WAL_AUTOCHECKPOINT_PAGES + 500) * 4096);
    cr_assert(eq(int, store_exec(a, sql, &err), PL_OK), "%s", err.detail);
    /* c reads the WAL's frames and holds on to them. */
    int64_t admins;
    cr_assert(eq(int, store_snapshot(c, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_users_count_admins(c, &admins, &err), PL_OK), "%s", err.detail);
    /* The checkpoint copies every frame, and does not wait out the read: requests' busy
     * timeout is 5 s, the bound here is a fifth of that (a stall bound, not a speed). */
    int64_t t0 = clock_mono_us();
    cr_assert(eq(int, store_checkpoint(b, &err), PL_OK), "%s", err.detail);
    cr_expect(lt(i64, clock_mono_us() - t0, 1000000), "the RESTART waited for the long read");
    cr_assert(eq(int, store_exec(a, "CREATE TABLE small (x INTEGER)", &err), PL_OK), "%s",
              err.detail);
    cr_expect(gt(i64, wal_frames(b), STORE_WAL_AUTOCHECKPOINT_PAGES),
              "the WAL started over under a reader of its frames");
    /* Once the read is over, the next checkpoint restarts it, queued with the writers on
     * their lock (taken once: for the RESTART). */
    store_release(c);
    struct store_writer_stats before, after;
    store_writer_lock_stats(&before);
    cr_assert(eq(int, store_checkpoint(b, &err), PL_OK), "%s", err.detail);
    store_writer_lock_stats(&after);
    cr_expect(eq(u64, after.taken - before.taken, 1));
    cr_assert(eq(int, store_exec(a, "CREATE TABLE smaller (x INTEGER)", &err), PL_OK), "%s",
              err.detail);
    cr_expect(lt(i64, wal_frames(b), 100), "the WAL did not start over");
    store_close(a);
    store_close(b);
    store_close(c);
    remove_file_pair();
}

static void count_progress(void *arg, const char *name)
{
    cr_expect(eq(str, (char *)name, "counting"));
    (*(int *)arg)++;
}

/* store_progress calls back while a long statement runs, and stops when told. */
Test(store_engine, progress_is_called_during_a_long_statement)
{
    static const char sql[] = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                              " WHERE i < 1000000) SELECT count(*) FROM n";
    struct pl_error err = {0};
    int calls = 0;
    store_progress(db, count_progress, &calls, "counting");
    cr_assert(eq(int, store_exec(db, sql, &err), PL_OK), "%s", err.detail);
    cr_expect(gt(int, calls, 0));
    int seen = calls;
    store_progress(db, NULL, NULL, NULL);
    cr_assert(eq(int, store_exec(db, sql, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(int, calls, seen));
}

/* Migrations sort on disk; requests keep temporary tables in memory afterwards. */
Test(store_engine, temp_store_is_memory_again_after_migrating)
{
    struct pl_error err = {0};
    struct store_stmt *st;
    int applied;
    cr_assert(eq(int, store_migrate(db, &applied, &err), PL_OK), "%s", err.detail);
    cr_assert(gt(int, applied, 0));
    cr_assert(eq(int, store_stmt(db, "PRAGMA temp_store", &st, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_step(st, &err), STORE_ROW), "%s", err.detail);
    cr_expect(eq(i64, store_col_int64(st, 0), 2), "2 is MEMORY");
    store_done(st);
}

/* One integer from `sql` on s, in a read transaction of its own. */
static int64_t read_int(struct store *s, const char *sql)
{
    struct pl_error err = {0};
    struct store_stmt *st;
    cr_assert(eq(int, store_stmt(s, sql, &st, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_step(st, &err), STORE_ROW), "%s", err.detail);
    int64_t v = store_col_int64(st, 0);
    store_done(st);
    return v;
}

static void exec_ok(struct store *s, const char *sql)
{
    struct pl_error err = {0};
    cr_assert(eq(int, store_exec(s, sql, &err), PL_OK), "%s: %s", sql, err.detail);
}

/* store_mmap: a reader's mapping outlives other connections' commits while the file keeps its
 * size, shows their changes once checkpointed into the file, and is let go when the file grows
 * or shrinks (a read past the end of a mapped file would be SIGBUS). */
Test(store_engine, mapping_is_kept_across_commits_and_follows_the_file_size)
{
    static const char sum_sql[] = "SELECT sum(v) FROM t";
    static const char big_sql[] = "SELECT count(*) FROM big";
    struct store *a, *b;
    open_file_pair(&a, &b);
    struct pl_error err = {0};
    cr_assert(eq(int, store_mmap(a, 64, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_mmap(b, 64, &err), PL_OK), "%s", err.detail);
    /* 20,000 rows over some 100 pages, copied into the file. */
    exec_ok(b, "CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER, pad TEXT);"
               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)"
               " INSERT INTO t SELECT i, 1, 'padding-padding' FROM n");
    cr_assert(eq(int, store_checkpoint(b, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(i64, read_int(a, sum_sql), 20000));

    /* The first change after the mapping was made lets it go once (its size was unknown)... */
    unsigned long before = store_sqlite_vfs_unmaps();
    exec_ok(b, "UPDATE t SET v = 2 WHERE k = 1");
    cr_assert(eq(int, store_checkpoint(b, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(i64, read_int(a, sum_sql), 20001));
    cr_expect(eq(u64, store_sqlite_vfs_unmaps(), before + 1), "a read through no mapping");

    /* ...and later ones keep it: the read sees the change, through the same mapping. */
    for (int i = 0; i < 3; i++) {
        exec_ok(b, "UPDATE t SET v = v + 1 WHERE k = 20000");
        cr_assert(eq(int, store_checkpoint(b, &err), PL_OK), "%s", err.detail);
        cr_expect(eq(i64, read_int(a, sum_sql), 20002 + i));
    }
    cr_expect(eq(u64, store_sqlite_vfs_unmaps(), before + 1), "the mapping was let go");

    /* The file grows past its 8 MB step: mapped again, and the new pages read. */
    exec_ok(b, "CREATE TABLE big (b BLOB);"
               "INSERT INTO big SELECT zeroblob(1048576) FROM t WHERE k <= 12");
    cr_assert(eq(int, store_checkpoint(b, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(i64, read_int(a, big_sql), 12));
    cr_expect(eq(u64, store_sqlite_vfs_unmaps(), before + 2), "kept a mapping of a grown file");

    /* The file shrinks (VACUUM, then the checkpoint truncates it): let go before any read. */
    exec_ok(b, "DROP TABLE big; VACUUM");
    cr_assert(eq(int, store_checkpoint(b, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(i64, read_int(a, sum_sql), 20004));
    cr_expect(eq(u64, store_sqlite_vfs_unmaps(), before + 3), "kept a mapping of a shrunk file");
    cr_expect(eq(i64, read_int(a, "SELECT count(*) FROM sqlite_schema WHERE name = 'big'"), 0));

    store_close(a);
    store_close(b);
    remove_file_pair();
}

/* The value of `sql` (one integer) read by `s` and by `t`, which must agree. */
static int64_t read_same(struct store *s, struct store *t, const char *sql)
{
    int64_t v = read_int(t, sql);
    cr_assert(eq(i64, read_int(s, sql), v), "%s", sql);
    return v;
}

/* store_page_cache: a connection that reads the file's pages through the process's cache sees
 * every change another connection copies into the file, whether the checkpoint keeps the WAL
 * (only the pages it wrote are dropped), starts it over (all are), or VACUUM moves every row;
 * through a cache of 1 MB (256 pages of 4 KB) over ~300 pages, read again and again. */
Test(store_engine, page_cache_shows_every_checkpointed_change)
{
    static const char sum_sql[] = "SELECT sum(v) FROM t";
    static const char one_sql[] = "SELECT v FROM t WHERE k = 4321";
    static const char idx_sql[] = "SELECT count(*) FROM t WHERE w BETWEEN 1000 AND 1999";
    struct store *a, *b;
    open_file_pair(&a, &b);
    struct pl_error err = {0};
    cr_assert(eq(int, store_page_cache(a, 1, &err), PL_OK), "%s", err.detail);
    struct store_page_cache_stats s0;
    store_page_cache_stats(&s0);
    exec_ok(b, "CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER, w INTEGER, pad TEXT);"
               "CREATE INDEX t_w ON t (w);"
               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)"
               " INSERT INTO t SELECT i, 1, i, printf('%040d', i) FROM n;"
               "PRAGMA wal_checkpoint(TRUNCATE)");
    int64_t sum = read_same(a, b, sum_sql);
    cr_assert(eq(i64, sum, 20000));

    for (int i = 1; i <= 60; i++) {
        /* A few rows here and there, and one row and the index every time. */
        char sql[256];
        snprintf(sql, sizeof sql,
                 "UPDATE t SET v = v + %d, w = w + 1 WHERE k %% 997 = %d OR k = 4321", i, i);
        exec_ok(b, sql);
        if (i % 3 == 0)
            exec_ok(b, "PRAGMA wal_checkpoint(PASSIVE)");
        if (i % 20 == 0)
            exec_ok(b, "PRAGMA wal_checkpoint(TRUNCATE)");
        cr_assert(gt(i64, read_same(a, b, sum_sql), sum), "round %d", i);
        sum = read_int(b, sum_sql);
        (void)read_same(a, b, one_sql);
        (void)read_same(a, b, idx_sql);
    }
    exec_ok(b, "DELETE FROM t WHERE k % 2 = 0; VACUUM; PRAGMA wal_checkpoint(TRUNCATE)");
    cr_expect(eq(i64, read_same(a, b, "SELECT count(*) FROM t"), 10000));
    (void)read_same(a, b, sum_sql);
    (void)read_same(a, b, idx_sql);

    struct store_page_cache_stats s1;
    store_page_cache_stats(&s1);
    cr_expect(gt(u64, s1.found, s0.found), "pages were found in the cache");
    cr_expect(gt(u64, s1.read, s0.read + 4096), "pages were read again and again");
    cr_expect(gt(u64, s1.checkpoints, s0.checkpoints), "a checkpoint dropped only its pages");
    cr_expect(gt(u64, s1.emptied, s0.emptied), "a new WAL dropped every page");
    store_close(a);
    store_close(b);
    remove_file_pair();
}

/* A file pair where `a` reads through a 4 MB page cache and `b` made table t: 5,000 rows
 * (k, v = 1, 100 bytes of pad), all checkpointed into the file. */
static void open_cached_pair(struct store **a, struct store **b)
{
    open_file_pair(a, b);
    struct pl_error err = {0};
    cr_assert(eq(int, store_page_cache(*a, 4, &err), PL_OK), "%s", err.detail);
    exec_ok(*b, "CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER, pad TEXT);"
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)"
                " INSERT INTO t SELECT i, 1, printf('%0100d', i) FROM n;"
                "PRAGMA wal_checkpoint(TRUNCATE)");
}

/* A read transaction through the cache keeps its snapshot while another connection commits
 * and checkpoints the change into the file; the next one sees it. */
Test(store_engine, page_cache_keeps_a_snapshot_across_a_checkpoint)
{
    static const char sum_sql[] = "SELECT sum(v) FROM t";
    struct store *a, *b;
    struct pl_error err = {0};
    open_cached_pair(&a, &b);
    cr_assert(eq(int, store_snapshot(a, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(i64, read_int(a, sum_sql), 5000));
    exec_ok(b, "UPDATE t SET v = 2");
    exec_ok(b, "PRAGMA wal_checkpoint(PASSIVE)"); /* copies nothing a reader still sees */
    cr_expect(eq(i64, read_int(a, sum_sql), 5000), "the snapshot held");
    store_release(a);
    cr_expect(eq(i64, read_int(a, sum_sql), 10000));
    exec_ok(b, "PRAGMA wal_checkpoint(TRUNCATE)");
    cr_expect(eq(i64, read_int(a, sum_sql), 10000));
    store_close(a);
    store_close(b);
    remove_file_pair();
}

/* A write transaction through the cache reads the pages it changes from the cache too
 * (SQLite asks for them with xRead, copied, not xFetch), and they are as fresh as a reader's:
 * each round the other connection changes the same rows and checkpoints them into the file
 * first, and a write that started from a stale page would lose that change. */
Test(store_engine, page_cache_serves_a_writers_pages_fresh)
{
    static const char sum_sql[] = "SELECT sum(v) FROM t";
    struct store *a, *b;
    open_cached_pair(&a, &b);
    cr_assert(eq(i64, read_int(a, sum_sql), 5000)); /* the pages are in the cache now */
    int64_t changed = 0;
    for (int i = 1; i <= 30; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "UPDATE t SET v = v + 1 WHERE k %% 50 = %d", i);
        exec_ok(b, sql);
        exec_ok(b, i % 10 == 0 ? "PRAGMA wal_checkpoint(TRUNCATE)"
                               : "PRAGMA wal_checkpoint(PASSIVE)");
        struct store_page_cache_stats s0, s1;
        store_page_cache_stats(&s0);
        exec_ok(a, sql); /* every leaf page is read to find the rows: a full scan */
        store_page_cache_stats(&s1);
        cr_expect(ge(u64, s1.found + s1.read - s0.found - s0.read, 50),
                  "round %d: the write read %llu pages through the cache", i,
                  (unsigned long long)(s1.found + s1.read - s0.found - s0.read));
        changed += 2 * (5000 / 50);
        cr_assert(eq(i64, read_int(b, sum_sql), 5000 + changed), "round %d lost a change", i);
    }
    cr_expect(eq(i64, read_int(a, sum_sql), 5000 + changed));
    store_close(a);
    store_close(b);
    remove_file_pair();
}

/* A connection with the page cache keeps a small cache of its own, store_bulk raises it for a
 * large write and puts it back to that size, not SQLite's default; a connection without the
 * page cache goes back to SQLite's 2 MB. */
Test(store_engine, a_cached_connection_keeps_a_small_cache_and_bulk_puts_it_back)
{
    struct store *a, *b;
    open_cached_pair(&a, &b);
    struct pl_error err = {0};
    cr_expect(eq(i64, read_int(a, "PRAGMA cache_size"), -STORE_CACHED_CONNECTION_KIB));
    cr_expect(eq(i64, read_int(b, "PRAGMA cache_size"), -2000));
    cr_assert(eq(int, store_bulk(a, true, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(i64, read_int(a, "PRAGMA cache_size"), -STORE_BULK_CACHE_KIB));
    cr_assert(eq(int, store_bulk(a, false, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(i64, read_int(a, "PRAGMA cache_size"), -STORE_CACHED_CONNECTION_KIB));
    cr_assert(eq(int, store_bulk(b, true, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, store_bulk(b, false, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(i64, read_int(b, "PRAGMA cache_size"), -2000));
    store_close(a);
    store_close(b);
    remove_file_pair();
}

/* A writer that finds every frame of a small WAL copied appends to it rather than start it
 * over, which would empty the page caches: the cache keeps its pages, and reads stay right.
 * A TRUNCATE checkpoint still starts it over, and so does a writer once the WAL is past
 * STORE_WAL_AUTOCHECKPOINT_PAGES (checkpoint_past_the_limit_starts_the_wal_over). */
Test(store_engine, a_small_wal_is_not_started_over_and_the_page_cache_stays)
{
    static const char sum_sql[] = "SELECT sum(v) FROM t";
    struct store *a, *b;
    open_cached_pair(&a, &b);
    exec_ok(a, "UPDATE t SET v = 2 WHERE k = 1");
    cr_assert(eq(i64, read_int(a, sum_sql), 5001)); /* the pages are in the cache now */
    int64_t frames = wal_frames(b); /* copies every frame: nothing reads the WAL */
    cr_assert(gt(i64, frames, 0));
    unsigned long refused = store_sqlite_vfs_wal_restarts_refused();
    struct store_page_cache_stats s0, s1;
    store_page_cache_stats(&s0);
    for (int i = 2; i <= 4; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "UPDATE t SET v = 2 WHERE k = %d", i);
        exec_ok(i % 2 ? a : b, sql);
        int64_t now = wal_frames(b);
        cr_expect(gt(i64, now, frames), "write %d started the WAL over (%lld frames)", i,
                  (long long)now);
        frames = now;
    }
    cr_expect(eq(u64, store_sqlite_vfs_wal_restarts_refused() - refused, 3));
    cr_expect(eq(i64, read_int(a, sum_sql), 5004));
    cr_expect(eq(i64, read_int(b, sum_sql), 5004));
    store_page_cache_stats(&s1);
    cr_expect(eq(u64, s1.emptied, s0.emptied), "the page cache was emptied");
    cr_expect(gt(u64, s1.checkpoints, s0.checkpoints), "the cache followed no checkpoint");
    exec_ok(a, "PRAGMA wal_checkpoint(TRUNCATE)");
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", url + strlen("sqlite:"));
    struct stat st;
    cr_assert(eq(int, stat(wal, &st), 0));
    cr_expect(eq(i64, (int64_t)st.st_size, 0), "TRUNCATE left the WAL at %lld bytes",
              (long long)st.st_size);
    exec_ok(b, "UPDATE t SET v = 3 WHERE k = 5");
    cr_expect(eq(i64, read_int(a, sum_sql), 5006));
    store_close(a);
    store_close(b);
    remove_file_pair();
}

/* A commit asks the checkpointer to come soon by the frames no checkpoint has copied, not by
 * the WAL's length: a small WAL is no longer started over, and a WAL of copied frames would
 * have called it every 100 ms after every commit. */
Test(store_engine, a_commit_asks_for_a_checkpoint_by_the_frames_not_yet_copied)
{
    struct store *a, *b;
    open_cached_pair(&a, &b);
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE TABLE big (b BLOB); INSERT INTO big VALUES (zeroblob(%d))",
             (STORE_WAL_CHECKPOINT_SOON_PAGES + 200) * 4096);
    exec_ok(a, sql);
    cr_expect(store_checkpoint_due(), "a commit left 1,200 frames and asked for nothing");
    int64_t frames = wal_frames(b); /* copies every frame */
    cr_assert(gt(i64, frames, STORE_WAL_CHECKPOINT_SOON_PAGES));
    exec_ok(a, "UPDATE t SET v = 2 WHERE k = 1");
    cr_assert(gt(i64, wal_frames(b), frames), "the WAL started over");
    cr_expect(not(store_checkpoint_due()), "a commit of one frame asked for a checkpoint");
    store_close(a);
    store_close(b);
    remove_file_pair();
}

/* The commit that asks for a checkpoint wakes the checkpointer, once: the commits after it
 * find the request standing and call nobody until store_checkpoint_due has taken it. */
static atomic_int wakes;
static void count_wake(void)
{
    atomic_fetch_add(&wakes, 1);
}

Test(store_engine, the_commit_that_asks_for_a_checkpoint_wakes_the_checkpointer_once)
{
    struct store *a, *b;
    open_cached_pair(&a, &b);
    (void)store_checkpoint_due(); /* a request left by an earlier test */
    atomic_store(&wakes, 0);
    store_checkpoint_wake(count_wake);
    exec_ok(a, "UPDATE t SET v = 2 WHERE k = 1");
    cr_expect(eq(int, atomic_load(&wakes), 0), "a commit of one frame woke the checkpointer");
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE TABLE big (b BLOB); INSERT INTO big VALUES (zeroblob(%d))",
             (STORE_WAL_CHECKPOINT_SOON_PAGES + 200) * 4096);
    exec_ok(a, sql);
    cr_expect(eq(int, atomic_load(&wakes), 1));
    snprintf(sql, sizeof sql, "INSERT INTO big VALUES (zeroblob(%d))",
             (STORE_WAL_CHECKPOINT_SOON_PAGES + 200) * 4096);
    exec_ok(a, sql);
    cr_expect(eq(int, atomic_load(&wakes), 1), "woken again with the request standing");
    cr_expect(store_checkpoint_due());
    exec_ok(a, sql);
    cr_expect(eq(int, atomic_load(&wakes), 2), "not woken once the request was taken");
    cr_expect(store_checkpoint_due());
    store_checkpoint_wake(NULL);
    exec_ok(a, sql);
    cr_expect(eq(int, atomic_load(&wakes), 2), "woken with no waker set");
    cr_expect(store_checkpoint_due(), "no waker, and no request either");
    store_close(a);
    store_close(b);
    remove_file_pair();
}

/* Threads that read through one page cache while a writer moves amounts between rows and a
 * checkpointer copies and restarts the WAL under them: every read must see a whole state (the
 * total and the rows' count through the index on the amount), which a page kept past the
 * checkpoint that rewrote it would break. */
enum { STRESS_ROWS = 2000, STRESS_WRITES = 1500, STRESS_READERS = 2 };
static atomic_int stress_done, stress_wrong, stress_reads, stress_failed;

static struct store *stress_open(bool cached)
{
    struct pl_error err = {0};
    struct store *s = store_open(url, &err);
    if (s == NULL || (cached && store_page_cache(s, 1, &err) < 0)) {
        atomic_fetch_add(&stress_failed, 1);
        store_close(s);
        return NULL;
    }
    return s;
}

static int64_t stress_int(struct store *s, const char *sql)
{
    struct pl_error err = {0};
    struct store_stmt *st;
    if (store_stmt(s, sql, &st, &err) != PL_OK) {
        atomic_fetch_add(&stress_failed, 1);
        return -1;
    }
    int64_t v = -1;
    if (store_step(st, &err) == STORE_ROW)
        v = store_col_int64(st, 0);
    else
        atomic_fetch_add(&stress_failed, 1);
    store_done(st);
    return v;
}

static void *stress_reader(void *arg)
{
    (void)arg;
    struct store *s = stress_open(true);
    while (s != NULL && !atomic_load(&stress_done)) {
        if (stress_int(s, "SELECT sum(v) FROM t") != 100 * STRESS_ROWS ||
            stress_int(s, "SELECT count(*) FROM t INDEXED BY t_v WHERE v >= 0") != STRESS_ROWS)
            atomic_fetch_add(&stress_wrong, 1);
        atomic_fetch_add(&stress_reads, 1);
    }
    store_close(s);
    return NULL;
}

static void *stress_checkpointer(void *arg)
{
    (void)arg;
    struct store *s = stress_open(false);
    struct pl_error err = {0};
    /* A RESTART holds the writer back while it waits for the readers: not for long. */
    if (s != NULL && store_exec(s, "PRAGMA busy_timeout=10", &err) < 0)
        atomic_fetch_add(&stress_failed, 1);
    for (int i = 0; s != NULL && !atomic_load(&stress_done); i++) {
        /* A small WAL starts over only at a TRUNCATE (the writers append to it). */
        const char *sql = i % 10 == 9   ? "PRAGMA wal_checkpoint(TRUNCATE)"
                          : i % 10 == 4 ? "PRAGMA wal_checkpoint(RESTART)"
                                        : "PRAGMA wal_checkpoint(PASSIVE)";
        if (store_exec(s, sql, &err) < 0)
            atomic_fetch_add(&stress_failed, 1);
        nanosleep(&(struct timespec){0, 200 * 1000}, NULL);
    }
    store_close(s);
    return NULL;
}

Test(store_engine, page_cache_readers_see_whole_states_under_checkpoints)
{
    struct store *a, *b;
    open_file_pair(&a, &b);
    store_close(b);
    struct pl_error err = {0};
    /* The writer reads through the cache too: a stale page it changed would break the total. */
    cr_assert(eq(int, store_page_cache(a, 1, &err), PL_OK), "%s", err.detail);
    exec_ok(a, "CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER, pad TEXT);"
               "CREATE INDEX t_v ON t (v);"
               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)"
               " INSERT INTO t SELECT i, 100, printf('%0200d', i) FROM n;"
               "PRAGMA wal_checkpoint(TRUNCATE)");
    atomic_store(&stress_done, 0);
    pthread_t readers[STRESS_READERS], checkpointer;
    for (int i = 0; i < STRESS_READERS; i++)
        cr_assert(eq(int, pthread_create(&readers[i], NULL, stress_reader, NULL), 0));
    cr_assert(eq(int, pthread_create(&checkpointer, NULL, stress_checkpointer, NULL), 0));
    uint32_t seed = 12345;
    for (int i = 0; i < STRESS_WRITES; i++) {
        char sql[200];
        seed = seed * 1103515245u + 12345u;
        int from = (int)(seed >> 8) % STRESS_ROWS + 1, to = (int)(seed >> 4) % STRESS_ROWS + 1;
        snprintf(sql, sizeof sql,
                 "BEGIN IMMEDIATE; UPDATE t SET v = v - 7 WHERE k = %d;"
                 " UPDATE t SET v = v + 7 WHERE k = %d; COMMIT", from, to);
        cr_assert(eq(int, store_exec(a, sql, &err), PL_OK), "%s", err.detail);
    }
    atomic_store(&stress_done, 1);
    for (int i = 0; i < STRESS_READERS; i++)
        pthread_join(readers[i], NULL);
    pthread_join(checkpointer, NULL);
    cr_expect(eq(int, atomic_load(&stress_failed), 0), "a connection or statement failed");
    cr_expect(gt(int, atomic_load(&stress_reads), 50), "the readers ran");
    cr_expect(eq(int, atomic_load(&stress_wrong), 0), "a read saw a torn state");
    store_close(a);
    remove_file_pair();
}

/* store_share_writer_lock: the writers of forked processes queue on one lock, and a process
 * that dies in the middle of a write transaction passes it on; its uncommitted rows are gone
 * with it. */
Test(store_engine, a_writer_that_dies_holding_the_shared_lock_passes_it_on)
{
    struct store *a, *b;
    open_file_pair(&a, &b);
    store_close(b);
    exec_ok(a, "CREATE TABLE t (v INTEGER)");
    cr_assert(eq(int, store_share_writer_lock(), 0));
    pid_t child = fork();
    cr_assert(ge(int, child, 0));
    if (child == 0) {
        /* A connection of its own (SQLite's must not cross a fork), left mid-transaction. */
        struct pl_error err = {0};
        struct store *c = store_open(url, &err);
        if (c == NULL || store_begin(c, &err) != PL_OK ||
            store_exec(c, "INSERT INTO t VALUES (1)", &err) != PL_OK)
            _exit(1);
        _exit(0);
    }
    int status;
    cr_assert(eq(int, waitpid(child, &status, 0), child));
    bool wrote = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    cr_assert(wrote, "the child did not write");
    struct pl_error err = {0};
    int64_t t0 = clock_mono_us();
    cr_assert(eq(int, store_begin(a, &err), PL_OK), "%s", err.detail);
    cr_expect(lt(i64, clock_mono_us() - t0, INT64_C(1000000)), "waited for a dead writer");
    exec_ok(a, "INSERT INTO t VALUES (2)");
    cr_assert(eq(int, store_commit(a, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(i64, read_int(a, "SELECT count(*) FROM t"), 1), "the dead writer's row");
    cr_expect(eq(i64, read_int(a, "SELECT v FROM t"), 2));
    /* Taken again: the lock was made consistent, not left unusable. */
    cr_assert(eq(int, store_begin(a, &err), PL_OK), "%s", err.detail);
    store_rollback(a);
    store_close(a);
    remove_file_pair();
}

/* The writer lock's costs are counted in the shared memory: a forked writer's hold, and the
 * parent's wait for it, are both seen by the parent. */
Test(store_engine, the_shared_writer_lock_counts_waits_and_holds)
{
    struct store *a, *b;
    open_file_pair(&a, &b);
    store_close(b);
    exec_ok(a, "CREATE TABLE t (v INTEGER)");
    cr_assert(eq(int, store_share_writer_lock(), 0));
    struct store_writer_stats before, after;
    store_writer_lock_stats(&before);
    cr_expect(eq(u64, before.taken, 0));
    int ready[2];
    cr_assert(eq(int, pipe(ready), 0));
    pid_t child = fork();
    cr_assert(ge(int, child, 0));
    if (child == 0) {
        struct pl_error err = {0};
        struct store *c = store_open(url, &err);
        if (c == NULL || store_begin(c, &err) != PL_OK || write(ready[1], "x", 1) != 1) {
            fprintf(stderr, "child: %s\n", err.detail);
            _exit(1);
        }
        struct timespec ms200 = {0, 200 * 1000 * 1000};
        nanosleep(&ms200, NULL);
        _exit(store_exec(c, "INSERT INTO t VALUES (1)", &err) == PL_OK &&
              store_commit(c, &err) == PL_OK ? 0 : 1);
    }
    close(ready[1]); /* a child that fails before it writes ends the read */
    char x;
    cr_assert(eq(long, (long)read(ready[0], &x, 1), 1L), "the child did not take the lock");
    struct pl_error err = {0};
    cr_assert(eq(int, store_begin(a, &err), PL_OK), "%s", err.detail); /* waits for the child */
    exec_ok(a, "INSERT INTO t VALUES (2)");
    cr_assert(eq(int, store_commit(a, &err), PL_OK), "%s", err.detail);
    int status;
    cr_assert(eq(int, waitpid(child, &status, 0), child));
    bool committed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    cr_expect(committed, "the child's transaction failed");
    store_writer_lock_stats(&after);
    cr_expect(eq(u64, after.taken, 2));
    cr_expect(ge(u64, after.held_us, UINT64_C(200000)), "held %llu us",
              (unsigned long long)after.held_us);
    cr_expect(ge(u64, after.wait_us, UINT64_C(100000)), "waited %llu us",
              (unsigned long long)after.wait_us);
    cr_expect(eq(i64, read_int(a, "SELECT count(*) FROM t"), 2));
    close(ready[0]);
    store_close(a);
    remove_file_pair();
}

struct checkpoint_run {
    struct store *db;
    int rc;
    struct pl_error err;
};

static void *run_checkpoint(void *arg)
{
    struct checkpoint_run *r = arg;
    r->rc = store_checkpoint(r->db, &r->err);
    return NULL;
}

/* A RESTART copies with every writer held back, so it is meant to find little left to copy.
 * When a long write transaction commits while the checkpointer waits for the writers' lock
 * (at W200 x100 the extension of every series: 90 s, the file 460 MB larger), more than
 * STORE_RESTART_BACKLOG_PAGES are uncopied once it has the lock: it leaves them to the next
 * call's PASSIVE, writers running.  It copied them under the lock, and the next writer's
 * request waited 5 s and was answered 503 (the W200 x100 bench, after its first write). */
Test(store_engine, a_restart_leaves_a_commit_that_came_while_it_waited)
{
    struct store *a, *b;
    open_file_pair(&a, &b);
    struct pl_error err = {0};
    cr_assert(eq(int, store_checkpoint(b, &err), PL_OK), "%s", err.detail);
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE TABLE big (b BLOB); INSERT INTO big VALUES (zeroblob(%d))",
             (STORE_WAL_AUTOCHECKPOINT_PAGES + 500) * 4096);
    exec_ok(a, sql);
    /* a writes a large transaction; the checkpointer copies what is committed, then waits. */
    cr_assert(eq(int, store_begin(a, &err), PL_OK), "%s", err.detail);
    snprintf(sql, sizeof sql, "INSERT INTO big VALUES (zeroblob(%d))",
             (STORE_RESTART_BACKLOG_PAGES + 1000) * 4096);
    exec_ok(a, sql);
    struct checkpoint_run run = {.db = b};
    pthread_t t;
    cr_assert(eq(int, pthread_create(&t, NULL, run_checkpoint, &run), 0));
    struct store_writer_stats ws;
    int64_t until = clock_mono_us() + INT64_C(60000000);
    do {
        struct timespec ms = {0, 1000 * 1000};
        nanosleep(&ms, NULL);
        store_writer_lock_stats(&ws);
    } while (ws.waiting == 0 && clock_mono_us() < until);
    cr_assert(eq(int, ws.waiting, 1), "the checkpointer never waited for the writers' lock");
    cr_assert(eq(int, store_commit(a, &err), PL_OK), "%s", err.detail);
    cr_assert(eq(int, pthread_join(t, NULL), 0));
    cr_assert(eq(int, run.rc, PL_OK), "%s", run.err.detail);
    /* Not copied, so the WAL did not start over: the next write appends to it. */
    exec_ok(a, "CREATE TABLE small (x INTEGER)");
    cr_expect(gt(i64, wal_frames(b), STORE_WAL_AUTOCHECKPOINT_PAGES + STORE_RESTART_BACKLOG_PAGES),
              "the RESTART copied the commit that came while it waited");
    /* The next call copies it, writers running, and then starts the WAL over. */
    cr_assert(eq(int, store_checkpoint(b, &err), PL_OK), "%s", err.detail);
    exec_ok(a, "CREATE TABLE smaller (x INTEGER)");
    cr_expect(lt(i64, wal_frames(b), 100), "the WAL did not start over");
    store_close(a);
    store_close(b);
    remove_file_pair();
}

/* SQLite's memory statistics are off (engine_sqlite_vfs.c says why): with them on, the
 * allocations of the statements below would add up in sqlite3_memory_used. */
Test(store_engine, memory_statistics_are_off)
{
    cr_assert(store_sqlite_vfs_memstatus_off());
    exec_ok(db, "CREATE TABLE m (k INTEGER PRIMARY KEY, v TEXT);"
                "INSERT INTO m VALUES (1, 'one'), (2, 'two')");
    cr_expect(eq(i64, read_int(db, "SELECT count(*) FROM m"), 2));
    cr_expect(eq(i64, sqlite3_memory_used(), 0), "statistics kept: %lld bytes",
              (long long)sqlite3_memory_used());
}

static int64_t file_size(const char *path)
{
    struct stat sb;
    cr_assert(eq(int, stat(path, &sb), 0), "stat %s", path);
    return (int64_t)sb.st_size;
}

/* Write system calls of this process so far (Linux). */
static int64_t write_calls(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    cr_assert(ne(ptr, f, NULL));
    char line[128];
    long long n = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "syscw: %lld", &n) == 1)
            break;
    fclose(f);
    cr_assert(ge(i64, n, 0), "no syscw in /proc/self/io");
    return n;
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    cr_assert(ne(ptr, in, NULL), "%s", from);
    cr_assert(ne(ptr, out, NULL), "%s", to);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        cr_assert(eq(sz, fwrite(buf, 1, n, out), n));
    fclose(in);
    cr_assert(eq(int, fclose(out), 0));
}

/* A transaction's WAL frames go out together (engine_sqlite_vfs.c), and the WAL is the same
 * for it: a copy of the database and its WAL taken before any checkpoint, opened elsewhere,
 * recovers every committed row from the frames. */
Test(store_engine, a_transactions_wal_frames_are_few_writes_and_the_wal_recovers)
{
    struct store *a, *b;
    open_file_pair(&a, &b);
    store_close(b);
    char wal[160], copy[160], copy_wal[160], copy_url[180];
    snprintf(wal, sizeof wal, "%s/planner.db-wal", dir);
    snprintf(copy, sizeof copy, "%s/copy.db", dir);
    snprintf(copy_wal, sizeof copy_wal, "%s/copy.db-wal", dir);
    snprintf(copy_url, sizeof copy_url, "sqlite:%s", copy);

    int64_t size_before = file_size(wal), calls_before = write_calls();
    unsigned long batched_before = store_sqlite_vfs_wal_batched_frames();
    exec_ok(a, "CREATE TABLE w (k INTEGER PRIMARY KEY, v TEXT);"
               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)"
               " INSERT INTO w SELECT i, printf('row %d', i) FROM n");
    int64_t calls = write_calls() - calls_before;
    int64_t frames = (file_size(wal) - size_before) / (24 + 4096);
    unsigned long batched = store_sqlite_vfs_wal_batched_frames() - batched_before;
    cr_assert(gt(i64, frames, 20), "the insert appended %lld frames", (long long)frames);
    cr_expect(eq(u64, batched, (unsigned long)frames), "frames that waited for the others");
    /* Two statements, two transactions: each in writes of 120 KiB (29 frames) at most. */
    cr_expect(le(i64, calls, frames / 29 + 4), "%lld write calls for %lld frames",
              (long long)calls, (long long)frames);

    copy_file(wal, copy_wal);
    {
        char db_path[160];
        snprintf(db_path, sizeof db_path, "%s/planner.db", dir);
        copy_file(db_path, copy);
    }
    struct pl_error err = {0};
    struct store *c = store_open(copy_url, &err);
    cr_assert(ne(ptr, c, NULL), "%s", err.detail);
    cr_expect(eq(i64, read_int(c, "SELECT count(*) FROM w"), 5000));
    cr_expect(eq(i64, read_int(c, "SELECT sum(length(v)) FROM w"),
                 read_int(a, "SELECT sum(length(v)) FROM w")));
    store_close(c);
    store_close(a);
    unlink(copy);
    unlink(copy_wal);
    {
        char copy_shm[160];
        snprintf(copy_shm, sizeof copy_shm, "%s/copy.db-shm", dir);
        unlink(copy_shm);
    }
    remove_file_pair();
}

/* A database file and its WAL opened through planner's VFS alone, without SQLite above them,
 * in a directory of their own; the database file's WAL index mapped, so that the WAL write
 * lock (lock 0) can be taken and let go as SQLite does. */
struct raw_wal {
    char dir[32], path[64], db_path[64];
    sqlite3_file *f, *db;
};

static sqlite3_file *raw_open(sqlite3_vfs *vfs, const char *path, int kind)
{
    sqlite3_file *f = calloc(1, (size_t)vfs->szOsFile);
    cr_assert(ne(ptr, f, NULL));
    int flags = kind | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, out = 0;
    /* xOpen wants the name as SQLite passes it: a file name is followed by two NULs. */
    char name[80] = {0};
    memcpy(name, path, strlen(path));
    cr_assert(eq(int, vfs->xOpen(vfs, name, f, flags, &out), SQLITE_OK), "%s", path);
    return f;
}

static struct raw_wal raw_wal_open(void)
{
    struct raw_wal r = {.dir = "/tmp/planner-wal-test-XXXXXX"};
    cr_assert(eq(int, store_sqlite_vfs_register(), SQLITE_OK));
    sqlite3_vfs *vfs = sqlite3_vfs_find(STORE_SQLITE_VFS);
    cr_assert(ne(ptr, vfs, NULL));
    cr_assert(ne(ptr, mkdtemp(r.dir), NULL));
    snprintf(r.path, sizeof r.path, "%s/x.db-wal", r.dir);
    snprintf(r.db_path, sizeof r.db_path, "%s/x.db", r.dir);
    r.db = raw_open(vfs, r.db_path, SQLITE_OPEN_MAIN_DB);
    void volatile *region = NULL;
    cr_assert(eq(int, r.db->pMethods->xShmMap(r.db, 0, 32768, 1, &region), SQLITE_OK));
    r.f = raw_open(vfs, r.path, SQLITE_OPEN_WAL);
    return r;
}

/* Take (true) or let go (false) the WAL write lock, as a write transaction does. */
static void raw_wal_lock(struct raw_wal *r, bool take)
{
    int flags = (take ? SQLITE_SHM_LOCK : SQLITE_SHM_UNLOCK) | SQLITE_SHM_EXCLUSIVE;
    cr_assert(eq(int, r->db->pMethods->xShmLock(r->db, 0, 1, flags), SQLITE_OK));
}

/* After the WAL file was closed (xClose). */
static void raw_wal_remove(struct raw_wal *r)
{
    cr_expect(eq(int, r->db->pMethods->xShmUnmap(r->db, 1), SQLITE_OK));
    cr_expect(eq(int, r->db->pMethods->xClose(r->db), SQLITE_OK));
    free(r->f);
    free(r->db);
    unlink(r->path);
    unlink(r->db_path);
    rmdir(r->dir);
}

/* A WAL frame's header, a frame header with its commit field (bytes 4-7) set or not. */
static void frame_header(unsigned char h[24], unsigned commit_pages)
{
    memset(h, 'h', 24);
    h[4] = (unsigned char)(commit_pages >> 24);
    h[5] = (unsigned char)(commit_pages >> 16);
    h[6] = (unsigned char)(commit_pages >> 8);
    h[7] = (unsigned char)commit_pages;
}

/* Under the write lock, frames wait until their commit frame's page, and are written before
 * anything else looks at the file or writes elsewhere in it: a read, the file's size, a write
 * that neither follows nor falls inside them, closing.  A commit frame's header written alone
 * (SQLite rewriting checksums) is written at once. */
Test(store_engine, waiting_wal_frames_are_written_before_anything_else)
{
    struct raw_wal r = raw_wal_open();
    sqlite3_file *f = r.f;
    const char *path = r.path;
    const sqlite3_io_methods *m = f->pMethods;
    raw_wal_lock(&r, true);

    unsigned char header[24], commit[24], page[4096], other[4096], back[4096];
    frame_header(header, 0);
    frame_header(commit, 7);
    memset(page, 'p', sizeof page);
    memset(other, 'o', sizeof other);
    sqlite3_int64 size = -1;
    /* Two frames wait; the size is told after they are written. */
    cr_assert(eq(int, m->xWrite(f, header, 24, 32), SQLITE_OK));
    cr_assert(eq(int, m->xWrite(f, page, 4096, 56), SQLITE_OK));
    cr_assert(eq(int, m->xWrite(f, header, 24, 4152), SQLITE_OK));
    cr_expect(eq(i64, file_size(path), 0), "nothing written before the commit");
    cr_expect(eq(int, m->xFileSize(f, &size), SQLITE_OK));
    cr_expect(eq(i64, size, 4176), "written before the size is told");
    /* A page changed again while it waits is written changed; a read sees it. */
    cr_assert(eq(int, m->xWrite(f, page, 4096, 4176), SQLITE_OK));
    cr_assert(eq(int, m->xWrite(f, other, 4096, 4176), SQLITE_OK));
    cr_expect(eq(int, m->xRead(f, back, 4096, 4176), SQLITE_OK));
    cr_expect(eq(int, memcmp(back, other, 4096), 0), "read back as last written");
    /* Frames then a commit frame: one write, when the commit frame's page comes. */
    int64_t calls = write_calls();
    cr_assert(eq(int, m->xWrite(f, header, 24, 8272), SQLITE_OK));
    cr_assert(eq(int, m->xWrite(f, page, 4096, 8296), SQLITE_OK));
    cr_assert(eq(int, m->xWrite(f, commit, 24, 12392), SQLITE_OK));
    cr_expect(eq(i64, write_calls(), calls), "the commit frame's page has not come");
    cr_assert(eq(int, m->xWrite(f, page, 4096, 12416), SQLITE_OK));
    cr_expect(eq(i64, write_calls(), calls + 1), "one write for two frames");
    cr_expect(eq(i64, file_size(path), 16512), "the commit is in the file");
    /* A commit frame's header alone, over a frame in the file: written at once. */
    cr_assert(eq(int, m->xWrite(f, commit, 24, 8272), SQLITE_OK));
    cr_expect(eq(i64, write_calls(), calls + 2), "a commit header never waits alone");
    /* A header, then a write elsewhere: both land where they were written. */
    cr_assert(eq(int, m->xWrite(f, header, 24, 16512), SQLITE_OK));
    cr_assert(eq(int, m->xWrite(f, other, 4096, 24576), SQLITE_OK));
    cr_expect(eq(i64, file_size(path), 28672));
    FILE *raw = fopen(path, "rb");
    cr_assert(ne(ptr, raw, NULL));
    cr_assert(eq(int, fseek(raw, 16512, SEEK_SET), 0));
    cr_assert(eq(sz, fread(back, 1, 24, raw), 24));
    cr_expect(eq(int, memcmp(back, header, 24), 0), "the header went out before the page");
    cr_assert(eq(int, fseek(raw, 8272, SEEK_SET), 0));
    cr_assert(eq(sz, fread(back, 1, 24, raw), 24));
    cr_expect(eq(int, memcmp(back, commit, 24), 0), "the rewritten header is in the file");
    fclose(raw);
    /* What waits when the file is closed, under the lock, is written then. */
    cr_assert(eq(int, m->xWrite(f, header, 24, 28672), SQLITE_OK));
    cr_expect(eq(int, m->xClose(f), SQLITE_OK));
    cr_expect(eq(i64, file_size(path), 28696));
    raw_wal_lock(&r, false);
    raw_wal_remove(&r);
}

/* Frames wait only under the WAL write lock, and those of a transaction that let it go (it
 * rolled back: a commit writes its frames first) are dropped, never written: the next writer
 * writes its own frames in the same place, and SQLite writes nothing to undo a rollback.
 * Without the lock, a frame goes out as written. */
Test(store_engine, frames_waiting_when_the_write_lock_goes_are_dropped)
{
    struct raw_wal r = raw_wal_open();
    sqlite3_file *f = r.f;
    const char *path = r.path;
    const sqlite3_io_methods *m = f->pMethods;

    unsigned char header[24], commit[24], old[4096], page[4096], back[4096];
    frame_header(header, 0);
    frame_header(commit, 9);
    memset(old, 'r', sizeof old);
    memset(page, 'n', sizeof page);
    /* Two frames of a transaction that then rolls back: they wait, then the lock goes. */
    raw_wal_lock(&r, true);
    cr_assert(eq(int, m->xWrite(f, header, 24, 32), SQLITE_OK));
    cr_assert(eq(int, m->xWrite(f, old, 4096, 56), SQLITE_OK));
    cr_assert(eq(int, m->xWrite(f, header, 24, 4152), SQLITE_OK));
    cr_assert(eq(int, m->xWrite(f, old, 4096, 4176), SQLITE_OK));
    raw_wal_lock(&r, false);
    unsigned long dropped = store_sqlite_vfs_wal_dropped_writes();
    cr_expect(eq(int, m->xRead(f, back, 24, 32), SQLITE_IOERR_SHORT_READ), "not written");
    cr_expect(eq(u64, store_sqlite_vfs_wal_dropped_writes(), dropped + 1));
    cr_expect(eq(i64, file_size(path), 0));
    /* The same again, and the next transaction writes at the same place. */
    raw_wal_lock(&r, true);
    cr_assert(eq(int, m->xWrite(f, header, 24, 32), SQLITE_OK));
    cr_assert(eq(int, m->xWrite(f, old, 4096, 56), SQLITE_OK));
    raw_wal_lock(&r, false);
    raw_wal_lock(&r, true);
    cr_assert(eq(int, m->xWrite(f, header, 24, 32), SQLITE_OK));
    cr_assert(eq(int, m->xWrite(f, page, 4096, 56), SQLITE_OK));
    cr_assert(eq(int, m->xWrite(f, commit, 24, 4152), SQLITE_OK));
    cr_assert(eq(int, m->xWrite(f, page, 4096, 4176), SQLITE_OK));
    cr_expect(eq(u64, store_sqlite_vfs_wal_dropped_writes(), dropped + 2));
    cr_expect(eq(i64, file_size(path), 8272), "the commit went out with its page");
    FILE *raw = fopen(path, "rb");
    cr_assert(ne(ptr, raw, NULL));
    cr_assert(eq(sz, fread(back, 1, 32, raw), 32));
    for (int k = 0; k < 2; k++) {
        cr_assert(eq(sz, fread(back, 1, 24, raw), 24));
        cr_expect(eq(int, memcmp(back, k ? commit : header, 24), 0), "frame %d's header", k);
        cr_assert(eq(sz, fread(back, 1, 4096, raw), 4096));
        cr_expect(eq(int, memcmp(back, page, 4096), 0), "frame %d's page", k);
    }
    fclose(raw);
    raw_wal_lock(&r, false);
    /* Without the lock: written as it comes. */
    int64_t calls = write_calls();
    cr_assert(eq(int, m->xWrite(f, header, 24, 8272), SQLITE_OK));
    cr_expect(eq(i64, write_calls(), calls + 1), "no frame waits without the write lock");
    cr_expect(eq(int, m->xClose(f), SQLITE_OK));
    raw_wal_remove(&r);
}

/* Instructions of `sql` (EXPLAIN) that open a temporary b-tree. */
static int temporary_tables(const char *sql)
{
    struct pl_error err = {0};
    struct store_stmt *st;
    char explain[1024];
    snprintf(explain, sizeof explain, "EXPLAIN %s", sql);
    cr_assert(eq(int, store_stmt(db, explain, &st, &err), PL_OK), "%s: %s", sql, err.detail);
    int n = 0, rc;
    while ((rc = store_step(st, &err)) == STORE_ROW)
        n += strcmp(store_col_text(st, 1), "OpenEphemeral") == 0;
    cr_assert(eq(int, rc, STORE_DONE), "%s", err.detail);
    return n;
}

/* Migration 017: the constraints on a participant's answer, an event's status, a
 * notification's type and a share's role are checked without building a temporary b-tree of
 * their values on every insert (SQLite does for "IN" lists of more than two), and they still
 * let in every value they name and nothing else. */
Test(store_engine, constraints_on_values_build_no_temporary_table)
{
    struct pl_error err = {0};
    cr_assert(eq(int, store_migrate(db, NULL, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(int, temporary_tables("INSERT INTO event_participants (event_id, user_id, role,"
                                       " rsvp) VALUES (1, 1, 'attendee', 'accepted')"), 0));
    cr_expect(eq(int, temporary_tables("INSERT INTO notifications (user_id, type, title,"
                                       " starts_at, ends_at, created_at, scheduled_for)"
                                       " VALUES (1, 'rsvp', 't', 0, 0, 0, 0)"), 0));
    cr_expect(eq(int, temporary_tables("UPDATE events SET status = 'tentative'"), 0));
    cr_expect(eq(int, temporary_tables("INSERT INTO calendar_shares VALUES (1, 1, 'read', 0)"),
                 0));

    exec_ok(db, "INSERT INTO users (id, email, name, password_hash, created_at, updated_at)"
                " VALUES (1, 'c@example.org', 'C', 'h', 0, 0);"
                "INSERT INTO calendars (id, owner_id, name, time_zone, created_at, updated_at)"
                " VALUES (1, 1, 'c', 'UTC', 0, 0)");
    static const char *const good[] = {
        "INSERT INTO events (uid, calendar_id, organizer_id, title, starts_at, ends_at,"
        " time_zone, status, created_at, updated_at) VALUES"
        " ('a', 1, 1, 't', 0, 1, 'UTC', 'confirmed', 0, 0),"
        " ('b', 1, 1, 't', 0, 1, 'UTC', 'tentative', 0, 0),"
        " ('c', 1, 1, 't', 0, 1, 'UTC', 'cancelled', 0, 0)",
        "INSERT INTO event_participants (event_id, email, rsvp) VALUES"
        " (1, 'a@x', 'needs-action'), (1, 'b@x', 'accepted'), (1, 'c@x', 'declined'),"
        " (1, 'd@x', 'tentative')",
        "INSERT INTO notifications (user_id, type, title, starts_at, ends_at, created_at,"
        " scheduled_for) VALUES (1, 'invitation', 't', 0, 0, 0, 0), (1, 'update', 't', 0, 0,"
        " 0, 0), (1, 'cancellation', 't', 0, 0, 0, 0), (1, 'rsvp', 't', 0, 0, 0, 0),"
        " (1, 'reminder', 't', 0, 0, 0, 0)",
        "INSERT INTO calendar_shares VALUES (1, 1, 'freebusy', 0)",
        "UPDATE calendar_shares SET role = 'read'",
        "UPDATE calendar_shares SET role = 'write'",
    };
    for (size_t i = 0; i < ARRAY_LEN(good); i++)
        cr_expect(eq(int, store_exec(db, good[i], &err), PL_OK), "%s: %s", good[i], err.detail);
    log_init(LOG_ERROR + 1, "test"); /* the refusals log; keep the output clean */
    static const char *const bad[] = {
        "UPDATE events SET status = 'postponed' WHERE uid = 'a'",
        "UPDATE events SET status = NULL WHERE uid = 'a'",
        "UPDATE event_participants SET rsvp = 'maybe' WHERE email = 'a@x'",
        "UPDATE notifications SET type = 'invite' WHERE type = 'invitation'",
        "UPDATE calendar_shares SET role = 'owner'",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        cr_expect(lt(int, store_exec(db, bad[i], &err), 0), "let in: %s", bad[i]);
    cr_expect(eq(i64, read_int(db, "SELECT count(*) FROM events WHERE status = 'confirmed'"), 1));
    cr_expect(eq(i64, read_int(db, "SELECT count(*) FROM calendar_shares WHERE role = 'write'"),
                 1));
    cr_expect(eq(i64, read_int(db, "SELECT count(*) FROM pragma_quick_check"
                                   " WHERE quick_check <> 'ok'"), 0));
}

/* A transaction too large for the connection's cache goes to the WAL in parts, and a page it
 * changes again after its part went out is rewritten in place; SQLite then writes the frame
 * headers again from there to the commit frame (walRewriteChecksums in wal.c), the commit
 * frame's last.  Once the commit is in the WAL index, other connections read it: the process
 * dying right after (no further use of its WAL) must not take it back, which it would if that
 * last header still waited in the process (recovery stops at a frame whose checksum fails). */
Test(store_engine, a_commit_that_rewrote_its_frames_outlives_the_process)
{
    struct store *a, *b;
    open_file_pair(&a, &b);
    store_close(a);
    store_close(b);
    pid_t pid = fork();
    cr_assert(ge(int, pid, 0));
    if (pid == 0) {
        struct pl_error err = {0};
        struct store *c = store_open(url, &err);
        if (c == NULL ||
            store_exec(c, "CREATE TABLE big (k INTEGER PRIMARY KEY, v TEXT)", &err) != PL_OK ||
            store_exec(c, "PRAGMA cache_size = 8", &err) != PL_OK ||
            store_exec(c, "BEGIN;"
                          "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                          " WHERE i < 3000) INSERT INTO big SELECT i, printf('%0200d', i) FROM n;"
                          "UPDATE big SET v = 'changed' WHERE k = 1;"
                          "COMMIT", &err) != PL_OK)
            _exit(1);
        _exit(0); /* no close, no checkpoint: as if killed */
    }
    int status = 0;
    cr_assert(eq(int, waitpid(pid, &status, 0), pid));
    cr_assert(eq(int, status, 0), "the child's transaction failed: status %d", status);
    struct pl_error err = {0};
    struct store *c = store_open(url, &err);
    cr_assert(ne(ptr, c, NULL), "%s", err.detail);
    cr_expect(eq(i64, read_int(c, "SELECT count(*) FROM big"), 3000));
    cr_expect(eq(i64, read_int(c, "SELECT count(*) FROM big WHERE k = 1 AND v = 'changed'"), 1));
    store_close(c);
    remove_file_pair();
}

/* A transaction that went to the WAL in part and rolled back leaves frames that no one must
 * write later: another connection commits over the same part of the WAL, and the first one's
 * next read must not put the rolled-back frames back over the committed ones. */
Test(store_engine, frames_of_a_rolled_back_transaction_never_reach_the_wal)
{
    struct store *a, *b;
    open_file_pair(&a, &b);
    exec_ok(a, "CREATE TABLE r (k INTEGER PRIMARY KEY, v TEXT)");
    exec_ok(b, "SELECT count(*) FROM r"); /* b knows the table */
    exec_ok(a, "PRAGMA cache_size = 10");
    for (int round = 1; round <= 5; round++) {
        char sql[512];
        /* An empty WAL: the rollback below then reads nothing back from it. */
        exec_ok(b, "PRAGMA wal_checkpoint(TRUNCATE)");
        /* a: more rows than its cache holds, so some frames go out before the end. */
        snprintf(sql, sizeof sql,
                 "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                 " WHERE i < %d) INSERT INTO r SELECT 1000000 + i, printf('%%0400d', i) FROM n;"
                 " ROLLBACK", 40 * round);
        exec_ok(a, sql);
        /* b commits over the same part of the WAL. */
        snprintf(sql, sizeof sql,
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)"
                 " INSERT INTO r SELECT %d * 1000 + i, printf('%%0300d', i) FROM n", round);
        exec_ok(b, sql);
        /* a reads (through the WAL) and writes again; then a third connection checks. */
        cr_expect(eq(i64, read_int(a, "SELECT count(*) FROM r WHERE k > 0"), 50 * round),
                  "round %d", round);
        exec_ok(a, "INSERT INTO r VALUES (-1, 'a') ON CONFLICT (k) DO UPDATE SET v = v || 'a'");
        struct pl_error err = {0};
        struct store *c = store_open(url, &err);
        cr_assert(ne(ptr, c, NULL), "%s", err.detail);
        cr_expect(eq(i64, read_int(c, "SELECT count(*) FROM r"), 50 * round + 1), "round %d",
                  round);
        cr_expect(eq(i64, read_int(c, "SELECT sum(length(v)) FROM r WHERE k > 0"),
                     300 * 50 * round), "round %d", round);
        store_close(c);
    }
    store_close(a);
    store_close(b);
    remove_file_pair();
}

/* Processes whose writers go to the WAL in parts (a small cache), commit or roll back at
 * random, while their readers check every state and checkpoints copy and start the WAL over,
 * and others are killed in the middle of the same work: no read sees a torn state, and the
 * database is whole at the end.  Frames of a rolled-back
 * transaction written after their time (a4d0cd4) broke it. */
enum { PROC_WRITERS = 2, PROC_ROUNDS = 120 };

static int stress_process(int who)
{
    struct pl_error err = {0};
    struct store *w = store_open(url, &err), *r = stress_open(true);
    if (w == NULL || r == NULL || store_exec(w, "PRAGMA cache_size = 10", &err) < 0)
        return 10;
    int wrong = 0;
    uint32_t seed = 777u + (uint32_t)who;
    for (int i = 0; i < PROC_ROUNDS; i++) {
        seed = seed * 1103515245u + 12345u;
        int from = (int)(seed >> 8) % STRESS_ROWS + 1, to = (int)(seed >> 4) % STRESS_ROWS + 1;
        int first = (int)(seed >> 12) % (STRESS_ROWS - 400) + 1;
        char sql[600];
        /* A few hundred rows rewritten: more pages than the cache holds. */
        snprintf(sql, sizeof sql,
                 "BEGIN IMMEDIATE;"
                 " UPDATE t SET pad = printf('%%0200d', k + %d) WHERE k BETWEEN %d AND %d;"
                 " UPDATE t SET v = v - 3 WHERE k = %d; UPDATE t SET v = v + 3 WHERE k = %d;"
                 " %s",
                 i, first, first + 300, from, to, seed % 3 == 0 ? "ROLLBACK" : "COMMIT");
        if (store_exec(w, sql, &err) < 0) {
            store_rollback(w);
            wrong += 100;
        }
        if (stress_int(r, "SELECT sum(v) FROM t") != 100 * STRESS_ROWS ||
            stress_int(r, "SELECT count(*) FROM t INDEXED BY t_v WHERE v >= 0") != STRESS_ROWS)
            wrong++;
        /* A checkpoint may find the other process in its way (busy): not an error here. */
        if (i % 7 == who) {
            int rc = store_exec(r, i % 2 ? "PRAGMA wal_checkpoint(TRUNCATE)"
                                         : "PRAGMA wal_checkpoint(PASSIVE)", &err);
            if (rc < 0 && rc != PL_EUNAVAIL)
                wrong += 100;
        }
    }
    store_close(w);
    store_close(r);
    return wrong > 99 ? 99 : wrong;
}

Test(store_engine, writers_of_two_processes_that_roll_back_leave_the_database_whole)
{
    struct store *a, *b;
    open_file_pair(&a, &b);
    store_close(b);
    exec_ok(a, "CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER, pad TEXT);"
               "CREATE INDEX t_v ON t (v);"
               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)"
               " INSERT INTO t SELECT i, 100, printf('%0200d', i) FROM n;"
               "PRAGMA wal_checkpoint(TRUNCATE)");
    store_close(a);
    pid_t pids[PROC_WRITERS], doomed[3];
    for (int i = 0; i < PROC_WRITERS; i++) {
        pids[i] = fork();
        cr_assert(ge(int, pids[i], 0));
        if (pids[i] == 0)
            _exit(stress_process(i));
    }
    /* Writers killed at some moment of their work, frames half written or waiting. */
    for (int i = 0; i < 3; i++) {
        doomed[i] = fork();
        cr_assert(ge(int, doomed[i], 0));
        if (doomed[i] == 0)
            _exit(stress_process(PROC_WRITERS + i));
        nanosleep(&(struct timespec){0, (10 + 15 * i) * 1000 * 1000}, NULL);
        kill(doomed[i], SIGKILL);
        int status = 0;
        cr_assert(eq(int, waitpid(doomed[i], &status, 0), doomed[i]));
        bool killed = WIFSIGNALED(status);
        cr_expect(killed, "writer %d ended before it was killed", i);
    }
    for (int i = 0; i < PROC_WRITERS; i++) {
        int status = -1;
        cr_assert(eq(int, waitpid(pids[i], &status, 0), pids[i]));
        cr_expect(eq(int, status, 0), "process %d: exit status %d (wrong reads, or 100s of"
                  " failed transactions)", i, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    struct pl_error err = {0};
    struct store *c = store_open(url, &err);
    cr_assert(ne(ptr, c, NULL), "%s", err.detail);
    struct store_stmt *st;
    cr_assert(eq(int, store_stmt(c, "PRAGMA integrity_check", &st, &err), PL_OK));
    cr_assert(eq(int, store_step(st, &err), STORE_ROW), "%s", err.detail);
    cr_expect(eq(str, (char *)store_col_text(st, 0), "ok"));
    store_done(st);
    cr_expect(eq(i64, read_int(c, "SELECT sum(v) FROM t"), 100 * STRESS_ROWS));
    store_close(c);
    remove_file_pair();
}

/* A write statement on its own (outside store_begin) queues for the writers' lock as a write
 * transaction does, and lets it go once it has run; a read takes no lock. */
Test(store_engine, a_lone_write_takes_the_writers_lock)
{
    struct store *a, *b;
    open_file_pair(&a, &b);
    store_close(b);
    exec_ok(a, "CREATE TABLE t (v INTEGER)");
    struct store_writer_stats before, after;
    store_writer_lock_stats(&before);
    struct pl_error err = {0};
    struct store_stmt *st;
    cr_assert(eq(int, store_stmt(a, "INSERT INTO t VALUES (1)", &st, &err), PL_OK));
    cr_assert(eq(int, store_run(st, &err), STORE_DONE), "%s", err.detail);
    store_writer_lock_stats(&after);
    cr_expect(eq(u64, after.taken, before.taken + 1), "the write took the lock once");
    cr_expect(eq(i64, read_int(a, "SELECT count(*) FROM t"), 1));
    struct store_writer_stats read;
    store_writer_lock_stats(&read);
    cr_expect(eq(u64, read.taken, after.taken), "a read takes none");
    /* Let go: a transaction takes it next without waiting. */
    cr_assert(eq(int, store_begin(a, &err), PL_OK), "%s", err.detail);
    exec_ok(a, "INSERT INTO t VALUES (2)");
    cr_assert(eq(int, store_commit(a, &err), PL_OK), "%s", err.detail);
    store_writer_lock_stats(&after);
    cr_expect(eq(u64, after.taken, read.taken + 1));
    cr_expect(eq(i32, after.waiting, 0));
    store_close(a);
    remove_file_pair();
}
