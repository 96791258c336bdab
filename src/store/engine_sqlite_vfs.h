/* The VFS every SQLite connection of the store opens its file with: the unix VFS, except that
 * a memory-mapped database file stays mapped between read transactions while its size does
 * not change, and that a transaction's WAL frames go out in one write
 * (engine_sqlite_vfs.c says why).  Without `PRAGMA mmap_size` it maps nothing. */
#ifndef PLANNER_STORE_ENGINE_SQLITE_VFS_H
#define PLANNER_STORE_ENGINE_SQLITE_VFS_H

#include <sqlite3.h>
#include <stdbool.h>

#define STORE_SQLITE_VFS "planner-unix"

/* Registers the VFS once per process (safe to call from any thread, any number of times).
 * Returns SQLITE_OK, or an SQLite error code if it could not be registered. */
int store_sqlite_vfs_register(void);

/* How many times a connection let its mapping go (the file's size had changed), over the
 * process: for tests. */
unsigned long store_sqlite_vfs_unmaps(void);

/* How many WAL frames waited to go out with the rest of their transaction, over the process:
 * for tests. */
unsigned long store_sqlite_vfs_wal_batched_frames(void);

/* How many times frames that waited were dropped, their transaction having rolled back, over
 * the process: for tests. */
unsigned long store_sqlite_vfs_wal_dropped_writes(void);

/* How many times a writer was kept from starting a small WAL over (engine_sqlite_vfs.c, "A
 * WAL started over only when it is large"), over the process: for tests. */
unsigned long store_sqlite_vfs_wal_restarts_refused(void);

/* The file control that gives a connection's database file the process's page cache of that
 * file (engine_sqlite_vfs.c, "A page cache for the process"); its argument is the cache's size
 * in bytes (an sqlite3_int64), which the first connection to ask sets.  SQLite then reads the
 * file's pages through it once `PRAGMA mmap_size` is above 0 (store_page_cache does both). */
#define STORE_SQLITE_FCNTL_PAGE_CACHE 0x706c0001

/* The file control that tells how many frames of the WAL no checkpoint has copied yet into
 * the database file (the WAL index's last frame less its nBackfill), as an sqlite3_int64 set
 * in its argument: SQLITE_NOTFOUND if the file has no WAL index mapped (store_checkpoint). */
#define STORE_SQLITE_FCNTL_WAL_BACKLOG 0x706c0002

/* What the page caches of the process did: pages found, pages read into them, fetches passed
 * by (no WAL index, every slot in use), times every page was dropped (a new WAL, or pages
 * that could not be told) and times only a checkpoint's pages were.  For tests and
 * /metrics. */
struct store_sqlite_page_cache_stats {
    unsigned long hits, reads, passes, drops, checkpoints;
};
void store_sqlite_vfs_page_cache_stats(struct store_sqlite_page_cache_stats *out);

/* Whether registering turned SQLite's memory statistics off (engine_sqlite_vfs.c says why):
 * for tests. */
bool store_sqlite_vfs_memstatus_off(void);

#endif
