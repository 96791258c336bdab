/* The database, as the rest of the program sees it: open a connection, migrate, run a
 * transaction, and read the per-connection query statistics behind Server-Timing.  One
 * `struct store` is one connection and is used by one thread at a time.  The aggregate files
 * (users.h, sessions.h, ...) hold the queries. */
#ifndef PLANNER_STORE_STORE_H
#define PLANNER_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct store;

/* Open a connection to `url` ("sqlite:PATH" or "sqlite::memory:").  SQLite connections run
 * in WAL mode with a busy timeout and foreign keys on.  Returns NULL with `err` set. */
struct store *store_open(const char *url, struct pl_error *err);
/* Close the connection and its cached statements.  NULL is a no-op. */
void store_close(struct store *db);
/* "sqlite" (static string). */
const char *store_engine_name_get(const struct store *db);

/* Apply every migration newer than the database's version, each in its own transaction.
 * `applied` (may be NULL) receives how many ran.  Meanwhile sorts too large for the page cache
 * (an index built over millions of rows) spill to temporary files, not to memory: with
 * SQLite's temp_store=MEMORY, migration 012 on W200 x100 peaked at 2.2 GB. */
PL_MUST_CHECK int store_migrate(struct store *db, int *applied, struct pl_error *err);
/* store_migrate, calling progress(arg, name) before each migration it applies and then about
 * once every STORE_PROGRESS_STEPS steps of SQLite's virtual machine while it runs, so that a
 * caller can show it is alive (the supervisor extends systemd's start-up timeout). */
typedef void store_progress_fn(void *arg, const char *name);
#define STORE_PROGRESS_STEPS 1000000
PL_MUST_CHECK int store_migrate_progress(struct store *db, store_progress_fn *progress,
                                         void *arg, int *applied, struct pl_error *err);
/* The newest migration applied to the database (0 for an empty one), and the newest this
 * binary knows. */
PL_MUST_CHECK int store_schema_version(struct store *db, int *version, struct pl_error *err);
int store_schema_latest(void);
/* A round trip to the database. */
PL_MUST_CHECK int store_ping(struct store *db, struct pl_error *err);

/* Write transactions.  store_begin takes the write lock at once (BEGIN IMMEDIATE on SQLite)
 * so that two writers never deadlock upgrading.  store_rollback is safe to call when no
 * transaction is open. */
PL_MUST_CHECK int store_begin(struct store *db, struct pl_error *err);
PL_MUST_CHECK int store_commit(struct store *db, struct pl_error *err);
void store_rollback(struct store *db);

/* Copy committed WAL frames into the database file (SQLite's PASSIVE checkpoint: it blocks
 * neither readers nor the writer, and does what it can), and past
 * STORE_WAL_AUTOCHECKPOINT_PAGES (40 MB) a RESTART one, which makes the next writer start
 * the WAL over (it waits at most 20 ms for the readers of old frames, holding writers back
 * meanwhile, queued with them on the writers' lock; behind a longer read it leaves the WAL
 * to the next call, and so it does when more than STORE_RESTART_BACKLOG_PAGES arrived while
 * it waited for the lock; the database file is synced before, with writers running, so that
 * the RESTART's own sync is short).  Each worker's main thread calls it on a connection of
 * its own, so that the fsyncs of checkpointing stay off the request path (with
 * synchronous=NORMAL a commit in WAL mode only writes): once a second, and as soon as a
 * commit has left STORE_WAL_CHECKPOINT_SOON_PAGES (4 MB) in the WAL that no checkpoint has
 * copied (store_checkpoint_due, store_checkpoint_wake).  A process that has called it
 * checkpoints nowhere else; the CLI's checkpoint after the commit that takes the WAL past
 * STORE_WAL_AUTOCHECKPOINT_PAGES, as SQLite's autocheckpoint does.
 *
 * Before, request connections kept SQLite's autocheckpoint at 40 MB, and passive checkpoints
 * never restarted the WAL under steady writes: past 40 MB every commit checkpointed, with
 * two fdatasyncs, on the request path (W200 creates alone: ~40 a second in each worker). */
#define STORE_WAL_CHECKPOINT_SOON_PAGES 1000
#define STORE_WAL_AUTOCHECKPOINT_PAGES 10000
/* The most frames a RESTART copies with writers held back: if more arrived while it waited
 * for the writers' lock, it leaves them to the next PASSIVE (8 MB; W200's commits leave a few
 * hundred in that time). */
#define STORE_RESTART_BACKLOG_PAGES 2000
PL_MUST_CHECK int store_checkpoint(struct store *db, struct pl_error *err);
/* Whether a commit has asked for a checkpoint since the last call (any connection of the
 * process; the request is taken by the call). */
bool store_checkpoint_due(void);
/* Have `wake` called by the commit that asks for a checkpoint (in the committing thread, once
 * until store_checkpoint_due takes the request), so that the checkpointer can sleep between
 * its seconds instead of looking every few milliseconds; NULL: no call.  Set it before the
 * process's threads commit and unset it after. */
void store_checkpoint_wake(void (*wake)(void));

/* A large write transaction ahead (an import, the extension of recurring series): give the
 * connection a page cache big enough to hold what it changes (STORE_BULK_CACHE_KIB at most,
 * allocated only as used), or, with on = false, return it to its size before (SQLite's 2 MB,
 * or STORE_CACHED_CONNECTION_KIB with store_page_cache).  With a 2 MB cache SQLite spills changed
 * pages to the WAL in the middle of the transaction and reads them back; for 100,000
 * imported events that was a third of the time. */
#define STORE_BULK_CACHE_KIB 262144
PL_MUST_CHECK int store_bulk(struct store *db, bool on, struct pl_error *err);

/* Read the first `mb` MB of the database file through a shared memory mapping instead of
 * pread and the connection's page cache (0: no mapping, the default; SQLite caps the size at
 * 2 GB).  The file's pages are then read in place, with no system call and no copy, and stay
 * mapped from one transaction to the next (engine_sqlite_vfs.c).  The cost is in the numbers
 * operators watch: every page a process has read counts in its RSS (they are the kernel's page
 * cache, which pread fills too, but there they count in no process).  docs/operations.md has
 * the measurements. */
#define STORE_MMAP_CHUNK_BYTES (8 * 1024 * 1024)
PL_MUST_CHECK int store_mmap(struct store *db, int mb, struct pl_error *err);

/* Read the database file's pages through the process's page cache of that file, `mb` MB
 * shared by every connection of the process that asks (the first sets the size), instead of
 * pread into the connection's own cache, which SQLite empties whenever another connection has
 * committed.  Not with store_mmap.  engine_sqlite_vfs.c says why it stays right across
 * checkpoints by any process.  The connection's own cache then holds only the pages it reads
 * from the WAL and those its writes change: it shrinks to STORE_CACHED_CONNECTION_KIB (the
 * 2 MB that SQLite gives every connection, filled and emptied over and over, cost as much
 * memory as 2 MB more of the shared cache, which saves reads; docs/operations.md). */
#define STORE_CACHED_CONNECTION_KIB 512
PL_MUST_CHECK int store_page_cache(struct store *db, int mb, struct pl_error *err);

/* What the process's page caches did: pages found, pages read into them, pages read past
 * them (no WAL index, or every slot in use), times a cache was emptied (a new WAL) and times
 * it dropped only the pages a checkpoint wrote. */
struct store_page_cache_stats {
    uint64_t found, read, passed, emptied, checkpoints;
};
void store_page_cache_stats(struct store_page_cache_stats *out);

/* Reset every statement of the connection that is still between steps.  A statement that
 * returned a row and was not stepped to its end keeps SQLite's read transaction, and so an
 * old snapshot of the database, open: callers release at the end of each unit of work (http/
 * does it after every request) and store_begin does it before taking the write lock. */
void store_release(struct store *db);

/* Open a read transaction that lasts until store_release or store_begin: every read of the
 * request between them sees one state of the database, and pays SQLite's per-transaction
 * work (the shared-memory read lock, the WAL header check) once, not once per statement. */
PL_MUST_CHECK int store_snapshot(struct store *db, struct pl_error *err);

/* Have the writers of this process and of every process it forks from now on queue on one
 * lock before a write transaction (the master calls it before forking its workers; without
 * it, each process queues its own writers and the processes race for the database's lock).
 * 0, or -1 when the shared memory or the mutex cannot be made. */
PL_MUST_CHECK int store_share_writer_lock(void);
/* What the writer lock has cost since it was made (of every process sharing it): write
 * transactions, time spent waiting for it and time it was held.  Held time over wall time
 * is how busy the one writer is: 1 means writes are the server's bottleneck. */
struct store_writer_stats {
    uint64_t taken, wait_us, held_us;
    int waiting; /* writers waiting for it at this moment */
};
void store_writer_lock_stats(struct store_writer_stats *out);
/* For a thread that writes in a series of transactions (api_materialize): between two, let
 * the writers that queued during the last take the lock first, waiting 5 ms at most. */
void store_let_writers_in(void);
/* Whether the connection's reads now share one snapshot (store_snapshot, not yet released
 * or ended by a write): what it reads belongs together, and is committed. */
bool store_in_snapshot(const struct store *db);

/* Diagnostics: while capture is on, the query plan of every statement the connection runs
 * (SQLite's EXPLAIN QUERY PLAN, "; "-separated steps, one line per statement) is appended to a
 * buffer that store_plan_get returns (owned by the connection, valid until the next call).
 * Tests use it to check that real queries use the indexes meant for them. */
void store_plan_capture(struct store *db, bool on);
const char *store_plan_get(struct store *db);

/* Statements run and time spent in the database since the last reset: Server-Timing. */
void store_stats_reset(struct store *db);
void store_stats_get(const struct store *db, unsigned *queries, int64_t *elapsed_us);

#endif
