/* The VFS every SQLite connection of the store opens its file with: the unix VFS, except that
 * a memory-mapped database file stays mapped between read transactions while its size does
 * not change, and that a WAL frame's header and page go out in one write
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

/* How many WAL frames went out as one write of header and page, over the process: for tests. */
unsigned long store_sqlite_vfs_wal_joined_writes(void);

/* Whether registering turned SQLite's memory statistics off (engine_sqlite_vfs.c says why):
 * for tests. */
bool store_sqlite_vfs_memstatus_off(void);

#endif
