/* The SQLite engine: connection set-up, the statement cache, $N binding, error mapping and
 * the query statistics.  The only file that calls sqlite3_*, with engine_sqlite_vfs.c (the
 * file access under it).
 *
 * SQLite reads "$1" as a *named* parameter whose index is its order of first appearance,
 * so "SELECT $2, $1" would swap values bound by position.  Each statement therefore maps
 * $N to SQLite's own index once, at prepare time, through sqlite3_bind_parameter_index. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "store/engine_sqlite_vfs.h"
#include "store/internal.h"
#include "store/migrations.h"

#include "arena.h"
#include "clock.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <time.h>

#define STMT_CACHE_MAX 128
#define STMT_PARAMS_MAX 32

struct store_stmt {
    struct store *db;
    sqlite3_stmt *st;
    int index_of[STMT_PARAMS_MAX + 1]; /* $N -> SQLite parameter index, 0 = absent */
    bool started;                      /* counted as a query since the last reset */
};

struct store {
    sqlite3 *db;
    struct {
        const char *sql;
        struct store_stmt *st;
    } cache[STMT_CACHE_MAX];
    size_t ncache;
    unsigned queries;
    int64_t elapsed_us;
    bool plan_capture;
    char *plan;
    size_t plan_len, plan_cap;
    struct {
        store_progress_fn *fn;
        void *arg;
        const char *name;
    } progress;
    bool holds_writer_lock; /* between store_begin and store_commit / store_rollback */
    int64_t writer_since_us; /* when it took the writer lock */
    bool in_snapshot;       /* between store_snapshot and store_release / store_begin */
    int cache_kib;          /* its own page cache's size outside store_bulk */
};

/* Writers queue on a mutex before BEGIN IMMEDIATE, so that a thread waiting to write is woken
 * the moment the previous writer finishes instead of polling SQLite's lock (SQLite's default
 * busy handler sleeps 1, 2, 5, 10 ... ms between tries, long beside write transactions of
 * well under a millisecond).  The mutex is this process's own, or, after
 * store_share_writer_lock, one in memory shared with the processes forked since: then the
 * writers of every worker queue in one line.  With a lock per process, the workers' writers
 * raced for SQLite's lock through busy_wait below: under the W200 mix, ~0.8 sleeps per write,
 * while the lock stood free, and a worker's writer could lose the race to the other worker's
 * next writer again and again.  The shared mutex is robust: a worker that dies holding it
 * (its transaction, uncommitted, is gone with it, and so is its hold on SQLite's lock) passes
 * it on to the next writer.  The checkpointer's RESTART queues here too (store_checkpoint).
 * busy_wait still covers what does not: a CLI process (an import).  Beside the mutex, what
 * it has cost, for /metrics: every write transaction of a process, or of every worker,
 * takes it. */
struct writer_lock {
    pthread_mutex_t mutex;
    _Atomic uint64_t taken, wait_us, held_us;
    atomic_int waiting; /* writers waiting for it now */
};
static struct writer_lock own_writer_lock = {.mutex = PTHREAD_MUTEX_INITIALIZER};
static struct writer_lock *writer_lock = &own_writer_lock;

/* Waits for another process's write transaction: 20 us doubling to 1 ms per try (writes here
 * take well under a millisecond), giving up after about *arg milliseconds: STORE_BUSY_TIMEOUT_MS
 * for requests, STORE_RESTART_WAIT_MS for a RESTART checkpoint (store_checkpoint). */
#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_RESTART_WAIT_MS 20
static const int busy_timeout_ms = STORE_BUSY_TIMEOUT_MS;
static const int restart_wait_ms = STORE_RESTART_WAIT_MS;
static int busy_wait(void *arg, int tries)
{
    const int *limit_ms = arg;
    enum { RAMP = 6 }; /* 20, 40, ... 640 us: 1.26 ms in all */
    if (tries >= RAMP + *limit_ms)
        return 0;
    long us = tries < RAMP ? 20L << tries : 1000;
    struct timespec ts = {0, us * 1000};
    (void)nanosleep(&ts, NULL); /* woken early by a signal: just try again sooner */
    return 1;
}

/* Set by a commit that leaves STORE_WAL_CHECKPOINT_SOON_PAGES or more frames in the WAL that
 * no checkpoint has copied yet, taken by store_checkpoint_due (the worker's checkpointer). */
static atomic_bool checkpoint_soon;
/* store_checkpoint_wake's; atomic, since a worker that fails to start may clear it while a
 * side thread it could not stop still commits. */
static void (*_Atomic checkpoint_waker)(void);
/* Whether this process has a checkpointer (store_checkpoint has run): then it alone
 * checkpoints.  The CLI's processes (import, migrate) have none. */
static atomic_bool has_checkpointer;

/* After every commit of a connection (SQLite's WAL hook, in place of its autocheckpoint):
 * ask the checkpointer to come soon or, in a process without one, checkpoint as SQLite's
 * autocheckpoint would. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)arg;
    if (frames >= STORE_WAL_CHECKPOINT_SOON_PAGES) {
        /* The WAL starts over only past STORE_WAL_AUTOCHECKPOINT_PAGES (engine_sqlite_vfs.c
         * says why), so most of its frames may be copied already: what counts is the rest.
         * Without a WAL index to tell, all of them. */
        sqlite3_int64 backlog = frames;
        if (sqlite3_file_control(db, name, STORE_SQLITE_FCNTL_WAL_BACKLOG, &backlog) !=
            SQLITE_OK)
            backlog = frames;
        void (*wake)(void);
        if (backlog >= STORE_WAL_CHECKPOINT_SOON_PAGES &&
            !atomic_exchange_explicit(&checkpoint_soon, true, memory_order_relaxed) &&
            (wake = atomic_load_explicit(&checkpoint_waker, memory_order_acquire)) != NULL)
            wake();
    }
    if (frames >= STORE_WAL_AUTOCHECKPOINT_PAGES &&
        !atomic_load_explicit(&has_checkpointer, memory_order_relaxed))
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

bool store_checkpoint_due(void)
{
    return atomic_exchange_explicit(&checkpoint_soon, false, memory_order_relaxed);
}

void store_checkpoint_wake(void (*wake)(void))
{
    atomic_store_explicit(&checkpoint_waker, wake, memory_order_release);
}

const char *store_engine_name_get(const struct store *db)
{
    (void)db;
    return "sqlite";
}

static int db_error(struct store *db, int rc, const char *what, struct pl_error *err)
{
    int base = rc & 0xff;
    if (base == SQLITE_BUSY || base == SQLITE_LOCKED)
        return pl_error_set(err, PL_EUNAVAIL, NULL, "the database is busy; try again");
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return pl_error_set(err, PL_ECONFLICT, NULL, "already exists");
    log_msg(LOG_ERROR, "sqlite %s: %s (%d)", what, sqlite3_errmsg(db->db), rc);
    return pl_error_set(err, PL_EDB, NULL, "database error");
}

struct store *store_open(const char *url, struct pl_error *err)
{
    if (strncmp(url, "sqlite:", 7) != 0) {
        pl_error_set(err, PL_EINVAL, "database", "unsupported database URL");
        return NULL;
    }
    const char *path = url + 7;
    int rc = store_sqlite_vfs_register();
    if (rc != SQLITE_OK) {
        pl_error_set(err, PL_EUNAVAIL, "database", "cannot register the SQLite VFS: %s",
                     sqlite3_errstr(rc));
        return NULL;
    }
    struct store *db = xcalloc(1, sizeof *db);
    db->cache_kib = 2000; /* SQLite's default (-2000: in KiB) */
    rc = sqlite3_open_v2(path, &db->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                         STORE_SQLITE_VFS);
    if (rc != SQLITE_OK) {
        pl_error_set(err, PL_EUNAVAIL, "database", "cannot open %s: %s", path,
                           db->db ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc));
        store_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db->db, 1);
    /* WAL lets readers run beside the one writer; NORMAL sync is durable across process
     * crashes and loses at most the last commits on power loss, the usual WAL trade.
     * No mmap by default (SQLite's default too): pages come through pread into each
     * connection's 2 MB cache.  store_mmap maps the file instead (see store.h). */
    static const char setup[] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                                "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;";
    sqlite3_busy_handler(db->db, busy_wait, (void *)&busy_timeout_ms);
    if (store_exec(db, setup, err) < 0) {
        store_close(db);
        return NULL;
    }
    (void)sqlite3_wal_hook(db->db, on_wal_commit, NULL); /* after WAL mode: it replaces the
                                                            autocheckpoint's hook */
    return db;
}

static int cache_size(struct store *db, int kib, struct pl_error *err)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d", kib); /* negative: in KiB */
    return store_exec(db, sql, err);
}

int store_bulk(struct store *db, bool on, struct pl_error *err)
{
    return cache_size(db, on ? STORE_BULK_CACHE_KIB : db->cache_kib, err);
}

int store_mmap(struct store *db, int mb, struct pl_error *err)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA mmap_size=%lld", (long long)mb * 1024 * 1024);
    /* The file grows (at checkpoints) in steps of STORE_MMAP_CHUNK_BYTES rather than page by
     * page: a connection maps the file again only when its size has changed. */
    int chunk = STORE_MMAP_CHUNK_BYTES;
    int rc = sqlite3_file_control(db->db, "main", SQLITE_FCNTL_CHUNK_SIZE, &chunk);
    if (rc != SQLITE_OK && rc != SQLITE_NOTFOUND) /* not found: no file (":memory:") */
        return db_error(db, rc, "chunk size", err);
    return store_exec(db, sql, err);
}

int store_page_cache(struct store *db, int mb, struct pl_error *err)
{
    sqlite3_int64 bytes = (sqlite3_int64)mb * 1024 * 1024;
    int rc = sqlite3_file_control(db->db, "main", STORE_SQLITE_FCNTL_PAGE_CACHE, &bytes);
    if (rc == SQLITE_NOTFOUND) /* no file (":memory:"): nothing to keep */
        return PL_OK;
    if (rc != SQLITE_OK)
        return pl_error_set(err, PL_EUNAVAIL, "database", "no page cache for the file: %s",
                            sqlite3_errstr(rc));
    /* Any size above 0 has SQLite ask the VFS for pages (xFetch); the VFS maps nothing. */
    int done = store_exec(db, "PRAGMA mmap_size=2147418112", err);
    if (done < 0)
        return done;
    db->cache_kib = STORE_CACHED_CONNECTION_KIB;
    return cache_size(db, db->cache_kib, err);
}

void store_page_cache_stats(struct store_page_cache_stats *out)
{
    struct store_sqlite_page_cache_stats s;
    store_sqlite_vfs_page_cache_stats(&s);
    *out = (struct store_page_cache_stats){s.hits, s.reads, s.passes, s.drops, s.checkpoints};
}

static int on_progress(void *arg)
{
    struct store *db = arg;
    db->progress.fn(db->progress.arg, db->progress.name);
    return 0; /* never interrupts */
}

void store_progress(struct store *db, store_progress_fn *fn, void *arg, const char *name)
{
    db->progress.fn = fn;
    db->progress.arg = arg;
    db->progress.name = name;
    sqlite3_progress_handler(db->db, fn ? STORE_PROGRESS_STEPS : 0, fn ? on_progress : NULL, db);
}

int store_temp_on_disk(struct store *db, bool on, struct pl_error *err)
{
    return store_exec(db, on ? "PRAGMA temp_store=FILE" : "PRAGMA temp_store=MEMORY", err);
}

void store_close(struct store *db)
{
    if (db == NULL)
        return;
    for (size_t i = 0; i < db->ncache; i++) {
        sqlite3_finalize(db->cache[i].st->st);
        free(db->cache[i].st);
    }
    sqlite3_close(db->db);
    free(db->plan);
    free(db);
}

int store_exec(struct store *db, const char *sql, struct pl_error *err)
{
    char *msg = NULL;
    int64_t t0 = clock_mono_us();
    int rc = sqlite3_exec(db->db, sql, NULL, NULL, &msg);
    db->elapsed_us += clock_mono_us() - t0;
    db->queries++;
    if (rc != SQLITE_OK) {
        log_msg(LOG_ERROR, "sqlite exec: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return db_error(db, rc, "exec", err);
    }
    return PL_OK;
}

int store_stmt(struct store *db, const char *sql, struct store_stmt **out, struct pl_error *err)
{
    for (size_t i = 0; i < db->ncache; i++) {
        if (db->cache[i].sql == sql) {
            struct store_stmt *st = db->cache[i].st;
            sqlite3_reset(st->st);
            sqlite3_clear_bindings(st->st);
            st->started = false;
            *out = st;
            return PL_OK;
        }
    }
    if (db->ncache == STMT_CACHE_MAX) {
        log_msg(LOG_ERROR, "statement cache full; raise STMT_CACHE_MAX");
        return pl_error_set(err, PL_EDB, NULL, "database error");
    }
    sqlite3_stmt *raw;
    int rc = sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, NULL);
    if (rc != SQLITE_OK)
        return db_error(db, rc, "prepare", err);
    struct store_stmt *st = xcalloc(1, sizeof *st);
    st->db = db;
    st->st = raw;
    for (int n = 1; n <= STMT_PARAMS_MAX; n++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", n);
        st->index_of[n] = sqlite3_bind_parameter_index(raw, name);
    }
    db->cache[db->ncache].sql = sql;
    db->cache[db->ncache].st = st;
    db->ncache++;
    *out = st;
    return PL_OK;
}

static int index_of(struct store_stmt *st, int n)
{
    return n >= 1 && n <= STMT_PARAMS_MAX ? st->index_of[n] : 0;
}

/* Binding a parameter the SQL does not use is a programming error that SQLite reports as
 * SQLITE_RANGE; with index 0 the call is simply refused, and the step then fails loudly
 * on the NULL where the value was meant to go. */
void store_bind_int64(struct store_stmt *st, int n, int64_t v)
{
    (void)sqlite3_bind_int64(st->st, index_of(st, n), v);
}

void store_bind_text(struct store_stmt *st, int n, const char *v)
{
    (void)sqlite3_bind_text(st->st, index_of(st, n), v, -1, SQLITE_TRANSIENT);
}

void store_bind_null(struct store_stmt *st, int n)
{
    (void)sqlite3_bind_null(st->st, index_of(st, n));
}

void store_bind_ids(struct store_stmt *st, int n, const int64_t *ids, size_t count,
                    struct arena *a)
{
    /* "[" + a sign, up to 19 digits and a comma per id + "]".  Written by hand: snprintf
     * cost ~670 instructions an id, 2 % of an agenda (callgrind). */
    char *text = arena_alloc(a, count * 21 + 3), *w = text;
    *w++ = '[';
    for (size_t i = 0; i < count; i++) {
        char digits[20];
        size_t nd = 0;
        uint64_t v = ids[i] < 0 ? -(uint64_t)ids[i] : (uint64_t)ids[i];
        if (i)
            *w++ = ',';
        if (ids[i] < 0)
            *w++ = '-';
        do
            digits[nd++] = (char)('0' + v % 10);
        while ((v /= 10) != 0);
        while (nd)
            *w++ = digits[--nd];
    }
    *w++ = ']';
    *w = '\0';
    store_bind_text(st, n, text);
}

static void plan_append(struct store *db, const char *text)
{
    size_t n = strlen(text);
    if (db->plan_len + n + 1 > db->plan_cap) {
        db->plan_cap = (db->plan_len + n + 1) * 2;
        db->plan = xrealloc(db->plan, db->plan_cap);
    }
    memcpy(db->plan + db->plan_len, text, n + 1);
    db->plan_len += n;
}

/* Append the plan of `st`'s statement: "SQL => step; step; ...\n". */
static void plan_record(struct store *db, sqlite3_stmt *st)
{
    const char *sql = sqlite3_sql(st);
    size_t n = strlen(sql) + 32;
    char *eqp = xmalloc(n);
    snprintf(eqp, n, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db->db, eqp, -1, &q, NULL) == SQLITE_OK) {
        plan_append(db, sql);
        plan_append(db, " =>");
        while (sqlite3_step(q) == SQLITE_ROW) {
            const unsigned char *detail = sqlite3_column_text(q, 3);
            plan_append(db, " ");
            plan_append(db, detail ? (const char *)detail : "");
            plan_append(db, ";");
        }
        plan_append(db, "\n");
        sqlite3_finalize(q);
    }
    free(eqp);
}

void store_plan_capture(struct store *db, bool on)
{
    db->plan_capture = on;
    db->plan_len = 0;
    if (db->plan)
        db->plan[0] = '\0';
}

const char *store_plan_get(struct store *db)
{
    return db->plan ? db->plan : "";
}

void store_bind_texts(struct store_stmt *st, int n, const char *const *v, size_t count,
                      struct arena *a)
{
    size_t cap = 3;
    for (size_t i = 0; i < count; i++)
        cap += 6 * strlen(v[i]) + 3; /* worst case: every byte as \u00XX, quotes, comma */
    char *text = arena_alloc(a, cap), *w = text;
    *w++ = '[';
    for (size_t i = 0; i < count; i++) {
        if (i)
            *w++ = ',';
        *w++ = '"';
        for (const unsigned char *c = (const unsigned char *)v[i]; *c; c++) {
            if (*c == '"' || *c == '\\') {
                *w++ = '\\';
                *w++ = (char)*c;
            } else if (*c < 0x20) {
                w += snprintf(w, 7, "\\u%04x", *c);
            } else {
                *w++ = (char)*c;
            }
        }
        *w++ = '"';
    }
    *w++ = ']';
    *w = '\0';
    store_bind_text(st, n, text);
}

/* A write outside store_begin (one statement: a logout, marking notifications read, an
 * Idempotency-Key claimed or let go) must not run inside the request's snapshot: upgrading a
 * read transaction to a write one fails at once, SQLITE_BUSY_SNAPSHOT, if anything committed
 * since the snapshot began (beside three writers, 1,755 of 15,176 "mark all read" requests
 * answered 503).  Like store_begin, it ends the snapshot (and then queues for the writers'
 * lock: step).  Not while another statement of the connection is between rows: ending the
 * snapshot would reset it. */
static void end_snapshot_before_write(struct store_stmt *st)
{
    struct store *db = st->db;
    if (!db->in_snapshot || sqlite3_stmt_readonly(st->st))
        return;
    for (size_t i = 0; i < db->ncache; i++)
        if (sqlite3_stmt_busy(db->cache[i].st->st))
            return;
    store_release(db);
}

static int writer_lock_take(struct store *db, struct pl_error *err);
static void writer_unlock(struct store *db);

/* store_step without the clock: the loops below time their whole run once, rather than
 * every row (two clock reads a row were 5 % of a find-a-time's CPU at W200 x10, perf). */
static int step(struct store_stmt *st, struct pl_error *err)
{
    struct store *db = st->db;
    bool lone_write = false;
    if (!st->started) {
        end_snapshot_before_write(st);
        /* A write on its own queues for the writers' lock as a transaction does.  Left to
         * SQLite's busy handler, it lost SQLite's lock, poll after poll, to writers who take
         * it again at once: a lane's Idempotency-Key, let go beside a far agenda's extension
         * (batches that make way only for those queued here), waited the extension's whole
         * 2 s, and every other connection of the lane with it. */
        if (!db->holds_writer_lock && sqlite3_get_autocommit(db->db) &&
            !sqlite3_stmt_readonly(st->st)) {
            int rc = writer_lock_take(db, err);
            if (rc < 0)
                return rc;
            lone_write = true;
        }
    }
    if (db->plan_capture && !st->started)
        plan_record(db, st->st);
    int rc = sqlite3_step(st->st);
    /* Done with the lock once the statement has run (none of these returns rows; one that did
     * would keep SQLite's lock until reset, and a writer woken here waits for it there). */
    if (lone_write)
        writer_unlock(db);
    if (!st->started) {
        st->started = true;
        db->queries++;
    }
    if (rc == SQLITE_ROW)
        return STORE_ROW;
    if (rc == SQLITE_DONE)
        return STORE_DONE;
    int status = db_error(db, sqlite3_extended_errcode(db->db), "step", err);
    sqlite3_reset(st->st);
    return status;
}

int store_step(struct store_stmt *st, struct pl_error *err)
{
    int64_t t0 = clock_mono_us();
    int rc = step(st, err);
    st->db->elapsed_us += clock_mono_us() - t0;
    return rc;
}

int store_step_one(struct store_stmt *st, struct pl_error *err, const char *fmt, ...)
{
    int rc = store_step(st, err);
    if (rc != STORE_DONE)
        return rc == STORE_ROW ? PL_OK : rc;
    va_list ap;
    va_start(ap, fmt);
    rc = pl_error_vset(err, PL_ENOTFOUND, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int store_read_all(struct store_stmt *st, struct arena *a, size_t size, store_row_fn *read,
                   void **items, size_t *n, struct pl_error *err)
{
    size_t cap = 0, count = 0;
    char *all = NULL;
    int rc;
    int64_t t0 = clock_mono_us();
    while ((rc = step(st, err)) == STORE_ROW) {
        all = arena_grow(a, all, count, &cap, size);
        read(st, a, all + count++ * size);
    }
    st->db->elapsed_us += clock_mono_us() - t0;
    if (rc < 0)
        return rc;
    *items = all;
    *n = count;
    return PL_OK;
}

int store_read_by_ids(struct store *db, const char *sql, const int64_t *ids, size_t n,
                      struct arena *a, size_t size, store_row_fn *read, void **items,
                      struct pl_error *err)
{
    char *all = arena_zalloc(a, (n ? n : 1) * size);
    *items = all;
    if (n == 0)
        return PL_OK;
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_ids(st, 1, ids, n, a);
    int64_t t0 = clock_mono_us();
    while ((rc = step(st, err)) == STORE_ROW) {
        int64_t id = store_col_int64(st, 0);
        char *first = NULL;
        for (size_t i = 0; i < n; i++) { /* n is capped by the callers (participants <= 200) */
            if (ids[i] != id)
                continue;
            if (first == NULL)
                read(st, a, first = all + i * size);
            else
                memcpy(all + i * size, first, size);
        }
    }
    db->elapsed_us += clock_mono_us() - t0;
    return rc < 0 ? rc : PL_OK;
}

int store_run(struct store_stmt *st, struct pl_error *err)
{
    int rc;
    int64_t t0 = clock_mono_us();
    while ((rc = step(st, err)) == STORE_ROW)
        ;
    st->db->elapsed_us += clock_mono_us() - t0;
    return rc;
}

void store_done(struct store_stmt *st)
{
    sqlite3_reset(st->st);
}

int64_t store_col_int64(struct store_stmt *st, int col)
{
    return sqlite3_column_int64(st->st, col);
}

const char *store_col_text(struct store_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st->st, col);
    return t ? (const char *)t : "";
}

bool store_col_is_null(struct store_stmt *st, int col)
{
    return sqlite3_column_type(st->st, col) == SQLITE_NULL;
}

int64_t store_changes(struct store *db)
{
    return sqlite3_changes64(db->db);
}

int64_t store_last_insert_id(struct store *db)
{
    return sqlite3_last_insert_rowid(db->db);
}

/* BEGIN or COMMIT of a request's snapshot: statements of the engine's own, not counted in the
 * request's queries. */
static int run_bare(struct store *db, const char *sql, struct pl_error *err)
{
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    rc = sqlite3_step(st->st);
    sqlite3_reset(st->st);
    return rc == SQLITE_DONE ? PL_OK : db_error(db, rc, "snapshot", err);
}

int store_snapshot(struct store *db, struct pl_error *err)
{
    static const char sql[] = "BEGIN";
    if (db->in_snapshot || !sqlite3_get_autocommit(db->db))
        return PL_OK;
    int rc = run_bare(db, sql, err);
    db->in_snapshot = rc == PL_OK;
    return rc;
}

bool store_in_snapshot(const struct store *db)
{
    return db->in_snapshot && !db->holds_writer_lock;
}

void store_release(struct store *db)
{
    static const char sql[] = "COMMIT";
    for (size_t i = 0; i < db->ncache; i++)
        if (sqlite3_stmt_busy(db->cache[i].st->st))
            sqlite3_reset(db->cache[i].st->st);
    if (db->in_snapshot) {
        db->in_snapshot = false;
        struct pl_error ignored = {0};
        /* Ending a read transaction takes no lock; should COMMIT fail all the same, roll
         * back, so that the connection never keeps an old snapshot. */
        if (!sqlite3_get_autocommit(db->db) && run_bare(db, sql, &ignored) < 0)
            store_rollback(db);
    }
}

int store_share_writer_lock(void)
{
    struct writer_lock *m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1; /* the mapping is zeroed: so are the counters */
    pthread_mutexattr_t at;
    int rc = pthread_mutexattr_init(&at);
    if (rc == 0) {
        if ((rc = pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED)) == 0 &&
            (rc = pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST)) == 0)
            rc = pthread_mutex_init(&m->mutex, &at);
        (void)pthread_mutexattr_destroy(&at);
    }
    if (rc != 0) {
        (void)munmap(m, sizeof *m);
        return -1;
    }
    writer_lock = m; /* kept for the life of the process and of those forked after */
    return 0;
}

/* Wait for the writer lock, STORE_BUSY_TIMEOUT_MS at most, as for SQLite's lock. */
static int writer_lock_take(struct store *db, struct pl_error *err)
{
    struct timespec deadline;
    if (clock_gettime(CLOCK_REALTIME, &deadline) != 0)
        return pl_error_set(err, PL_EINTERNAL, NULL, "cannot read the clock");
    deadline.tv_sec += STORE_BUSY_TIMEOUT_MS / 1000;
    int64_t asked = clock_mono_us();
    atomic_fetch_add_explicit(&writer_lock->waiting, 1, memory_order_relaxed);
    int rc = pthread_mutex_timedlock(&writer_lock->mutex, &deadline);
    atomic_fetch_sub_explicit(&writer_lock->waiting, 1, memory_order_relaxed);
    if (rc == EOWNERDEAD) /* its holder died: what it protected is SQLite's, and consistent */
        rc = pthread_mutex_consistent(&writer_lock->mutex);
    if (rc == ETIMEDOUT)
        return pl_error_set(err, PL_EUNAVAIL, NULL, "the database is busy; try again");
    if (rc != 0)
        return pl_error_set(err, PL_EINTERNAL, NULL, "cannot take the writer lock");
    db->holds_writer_lock = true;
    db->writer_since_us = clock_mono_us();
    atomic_fetch_add_explicit(&writer_lock->taken, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&writer_lock->wait_us, (uint64_t)(db->writer_since_us - asked),
                              memory_order_relaxed);
    return PL_OK;
}

static void writer_unlock(struct store *db)
{
    if (db->holds_writer_lock) {
        db->holds_writer_lock = false;
        atomic_fetch_add_explicit(&writer_lock->held_us,
                                  (uint64_t)(clock_mono_us() - db->writer_since_us),
                                  memory_order_relaxed);
        (void)pthread_mutex_unlock(&writer_lock->mutex); /* held by this thread: cannot fail */
    }
}

void store_let_writers_in(void)
{
    /* Until those waiting now have had it, or 5 ms: they are woken at the unlock, and take
     * the lock within microseconds of running. */
    for (int i = 0; i < 50 && atomic_load_explicit(&writer_lock->waiting, memory_order_relaxed) > 0;
         i++) {
        struct timespec us100 = {0, 100 * 1000};
        (void)nanosleep(&us100, NULL);
    }
}

void store_writer_lock_stats(struct store_writer_stats *out)
{
    out->taken = atomic_load_explicit(&writer_lock->taken, memory_order_relaxed);
    out->wait_us = atomic_load_explicit(&writer_lock->wait_us, memory_order_relaxed);
    out->held_us = atomic_load_explicit(&writer_lock->held_us, memory_order_relaxed);
    out->waiting = atomic_load_explicit(&writer_lock->waiting, memory_order_relaxed);
}

int store_begin(struct store *db, struct pl_error *err)
{
    static const char sql[] = "BEGIN IMMEDIATE";
    struct store_stmt *st;
    /* A read left open would pin an old snapshot, and BEGIN IMMEDIATE on a stale snapshot
     * fails with SQLITE_BUSY_SNAPSHOT however long it waits. */
    store_release(db);
    if (!db->holds_writer_lock) {
        int rc = writer_lock_take(db, err);
        if (rc < 0)
            return rc;
    }
    int rc = store_stmt(db, sql, &st, err);
    if (rc == PL_OK)
        rc = store_run(st, err);
    if (rc < 0)
        writer_unlock(db);
    return rc;
}

int store_commit(struct store *db, struct pl_error *err)
{
    static const char sql[] = "COMMIT";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc == PL_OK)
        rc = store_run(st, err);
    if (rc < 0)
        store_rollback(db);
    else
        writer_unlock(db);
    return rc;
}

void store_rollback(struct store *db)
{
    if (!sqlite3_get_autocommit(db->db))
        (void)sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
    writer_unlock(db);
}

/* fsync the database file through the connection's own handle. */
static int sync_main(struct store *db)
{
    sqlite3_file *f = NULL;
    int rc = sqlite3_file_control(db->db, "main", SQLITE_FCNTL_FILE_POINTER, &f);
    if (rc != SQLITE_OK || f == NULL || f->pMethods == NULL)
        return rc == SQLITE_OK ? SQLITE_MISUSE : rc;
    return f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
}

int store_checkpoint(struct store *db, struct pl_error *err)
{
    int log = 0, done = 0;
    atomic_store_explicit(&has_checkpointer, true, memory_order_relaxed);
    int rc = sqlite3_wal_checkpoint_v2(db->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    /* A PASSIVE checkpoint copies frames but never moves the WAL back to its start: only a
     * writer that begins while every frame is copied does that, and under a steady stream of
     * writes there is always a newer frame.  Past the limit, once all is copied, RESTART
     * waits for the readers of old frames, so that the next writer starts the WAL over.  It
     * holds new writers back while it waits, so it waits STORE_RESTART_WAIT_MS at most (W200's
     * reads take a few ms): behind a long read (an export, say) it gives up, and the next
     * tick tries again, rather than stall every writer for the read's whole length.
     *
     * It also holds them back while it fsyncs the database file, and a PASSIVE checkpoint
     * under steady writes never does (SQLite syncs the file only when no frame arrived during
     * the copy): the RESTART synced every page copied since the last one, ~10,000 under the
     * W200 mix, and writers stood still 25-40 ms every ~0.7 s, the p99 of every operation.
     * So the file is synced first, a second PASSIVE copies what came meanwhile, the file is
     * synced again, and only then does the RESTART queue with the writers (on their lock, not
     * by polling SQLite's) to copy and sync what little is left: 6-18 ms. */
    if (rc == SQLITE_OK && log >= STORE_WAL_AUTOCHECKPOINT_PAGES && done == log &&
        (rc = sync_main(db)) == SQLITE_OK &&
        (rc = sqlite3_wal_checkpoint_v2(db->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
                                        &done)) == SQLITE_OK &&
        (rc = sync_main(db)) == SQLITE_OK) {
        int taken = writer_lock_take(db, err);
        if (taken < 0)
            return taken; /* writers kept it 5 s: logged, and the next tick tries again */
        /* While this waited for the lock, a writer may have committed far more than the
         * little the RESTART is meant to copy: one that held the lock meanwhile for a long
         * transaction (the extension of every series at W200 x100: 90 s, and the file 460 MB
         * larger).  Copied here, it held every writer back for as long (5 s and more: their
         * requests timed out with a 503), so it is left to the next PASSIVE, writers running. */
        sqlite3_int64 backlog = 0;
        if (sqlite3_file_control(db->db, "main", STORE_SQLITE_FCNTL_WAL_BACKLOG, &backlog) ==
                SQLITE_OK &&
            backlog > STORE_RESTART_BACKLOG_PAGES) {
            writer_unlock(db);
            return PL_OK;
        }
        sqlite3_busy_handler(db->db, busy_wait, (void *)&restart_wait_ms);
        rc = sqlite3_wal_checkpoint_v2(db->db, NULL, SQLITE_CHECKPOINT_RESTART, &log, &done);
        sqlite3_busy_handler(db->db, busy_wait, (void *)&busy_timeout_ms);
        writer_unlock(db);
    }
    if (rc == SQLITE_OK || rc == SQLITE_BUSY) /* busy: the next one carries on */
        return PL_OK;
    return db_error(db, rc, "checkpoint", err);
}

void store_stats_reset(struct store *db)
{
    db->queries = 0;
    db->elapsed_us = 0;
}

void store_stats_get(const struct store *db, unsigned *queries, int64_t *elapsed_us)
{
    *queries = db->queries;
    *elapsed_us = db->elapsed_us;
}

int store_schema_latest(void)
{
    return store_migrations_sqlite_count
               ? store_migrations_sqlite[store_migrations_sqlite_count - 1].version
               : 0;
}
