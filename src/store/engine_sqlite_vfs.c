/* SQLite's unix VFS with two changes: a memory-mapped database file stays mapped from one
 * read transaction to the next (sqlite_mmap_mb; see engine_sqlite_vfs.h), and a WAL frame is
 * written with one system call rather than two (below, "One write per WAL frame").
 *
 * Why: in WAL mode, a connection that begins a read transaction after another connection
 * committed drops its whole page cache and, when it reads through a mapping, unmaps the file
 * too (pagerBeginReadTransaction in SQLite's pager.c: `sqlite3OsUnfetch(fd, 0, 0)`).  Under
 * the W200 mix some connection commits between almost any two transactions of another, so
 * every request mapped the file again and faulted its pages back in; the munmap also makes the
 * kernel flush the TLBs of the process's other threads.  That is why a mapping ran the mix
 * ~20 % slower than reading pages with pread.  Kept, the mapping serves the pages again at no
 * cost, and SQLite's own page cache reset stays as it is (it only drops pointers into the map).
 *
 * Why keeping it is safe on Linux: a shared mapping shows the file's pages as they are now,
 * the same bytes pread would return, so it never goes stale.  SQLite unmaps for two other
 * reasons, and this file keeps both: the mapping must cover a file that grew (SQLite maps the
 * file's size at the time), and it must never reach past the end of a file that shrank (a
 * read there is SIGBUS).  So the unmap is let through whenever the file's size differs from
 * the size last seen: one fstat per read transaction, and only on a connection that maps.
 *
 * The only other file that calls sqlite3_*, beside engine_sqlite.c. */
#include "store/engine_sqlite_vfs.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static sqlite3_vfs *unix_vfs;
static sqlite3_vfs kept_vfs;
/* The unix VFS's methods for a database file on this system, and the same with our xFetch and
 * xUnfetch; set by the first main database file opened (under `methods_lock`).  A file given
 * other methods (the unix VFS chooses them by file system) is left as the unix VFS made it. */
static const sqlite3_io_methods *unix_methods;
static sqlite3_io_methods kept_methods;
static pthread_mutex_t methods_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong unmaps;

/* What this VFS adds to the unix VFS's file, after it (szOsFile is the sum). */
struct kept {
    sqlite3_int64 size; /* the file's size when its mapping was last let go, -1 unknown */
    bool mapped;        /* xFetch has handed out a page since then */
};

static size_t unix_file_size(void)
{
    size_t align = _Alignof(max_align_t);
    return ((size_t)unix_vfs->szOsFile + align - 1) / align * align;
}

static struct kept *kept_of(sqlite3_file *f)
{
    return (struct kept *)((char *)f + unix_file_size());
}

static int kept_fetch(sqlite3_file *f, sqlite3_int64 off, int amount, void **page)
{
    int rc = unix_methods->xFetch(f, off, amount, page);
    if (rc == SQLITE_OK && *page != NULL)
        kept_of(f)->mapped = true;
    return rc;
}

static int kept_unfetch(sqlite3_file *f, sqlite3_int64 off, void *page)
{
    struct kept *k = kept_of(f);
    if (page != NULL || !k->mapped)
        return unix_methods->xUnfetch(f, off, page);
    /* SQLite lets go of the whole mapping.  Keep it while the file has the size it had. */
    sqlite3_int64 size;
    if (unix_methods->xFileSize(f, &size) != SQLITE_OK)
        size = -1; /* unknown: let it go */
    else if (size == k->size)
        return SQLITE_OK;
    k->size = size;
    k->mapped = false;
    atomic_fetch_add_explicit(&unmaps, 1, memory_order_relaxed);
    return unix_methods->xUnfetch(f, off, page);
}

/* ---- One write per WAL frame ----------------------------------------------------------------
 * SQLite appends a frame to the WAL with two writes: the frame's 24-byte header, then the page
 * right after it (walWriteOneFrame in wal.c).  A W200 write transaction appends ~28 frames,
 * so it made ~56 pwrite calls, all under the one writer lock: 11.5 write calls per request of
 * the mix, against 7.0 with this (create alone: 34 against 20).  Here the header waits in the
 * file's buffer and goes out with the page that follows it, in one write of both.  The file
 * is the same byte for byte: anything else done to it (a write elsewhere, a read, a sync, its
 * size, a truncation, a file control, closing it) writes a waiting header first, so no one
 * ever sees the file without it, and a failed write reports its error to the write of the
 * page, whose frame then never counts (SQLite rolls the transaction back). */
#define WAL_FRAME_HEADER 24

struct wal_file {
    sqlite3_int64 header_at; /* where the waiting header goes */
    bool header_waits;
    unsigned char header[WAL_FRAME_HEADER];
    unsigned char *joined; /* header + page, for the one write: sqlite3_malloc'd */
    int joined_size;
};

static const sqlite3_io_methods *unix_wal_methods;
static sqlite3_io_methods wal_methods;
static atomic_ulong wal_joined_writes;

static struct wal_file *wal_of(sqlite3_file *f)
{
    return (struct wal_file *)((char *)f + unix_file_size());
}

/* Write the waiting header, if one waits. */
static int wal_flush(sqlite3_file *f)
{
    struct wal_file *w = wal_of(f);
    if (!w->header_waits)
        return SQLITE_OK;
    w->header_waits = false;
    return unix_wal_methods->xWrite(f, w->header, WAL_FRAME_HEADER, w->header_at);
}

static int wal_write(sqlite3_file *f, const void *buf, int amount, sqlite3_int64 off)
{
    struct wal_file *w = wal_of(f);
    if (w->header_waits && off == w->header_at + WAL_FRAME_HEADER && amount > 0) {
        if (w->joined_size < WAL_FRAME_HEADER + amount) {
            unsigned char *j = sqlite3_realloc(w->joined, WAL_FRAME_HEADER + amount);
            if (j == NULL)
                return SQLITE_IOERR_NOMEM;
            w->joined = j;
            w->joined_size = WAL_FRAME_HEADER + amount;
        }
        memcpy(w->joined, w->header, WAL_FRAME_HEADER);
        memcpy(w->joined + WAL_FRAME_HEADER, buf, (size_t)amount);
        w->header_waits = false;
        atomic_fetch_add_explicit(&wal_joined_writes, 1, memory_order_relaxed);
        return unix_wal_methods->xWrite(f, w->joined, WAL_FRAME_HEADER + amount, w->header_at);
    }
    int rc = wal_flush(f);
    if (rc != SQLITE_OK)
        return rc;
    if (amount == WAL_FRAME_HEADER) {
        memcpy(w->header, buf, WAL_FRAME_HEADER);
        w->header_at = off;
        w->header_waits = true;
        return SQLITE_OK;
    }
    return unix_wal_methods->xWrite(f, buf, amount, off);
}

static int wal_close(sqlite3_file *f)
{
    int flushed = wal_flush(f);
    sqlite3_free(wal_of(f)->joined);
    wal_of(f)->joined = NULL;
    int rc = unix_wal_methods->xClose(f);
    return flushed != SQLITE_OK ? flushed : rc;
}

static int wal_read(sqlite3_file *f, void *buf, int amount, sqlite3_int64 off)
{
    int rc = wal_flush(f);
    return rc != SQLITE_OK ? rc : unix_wal_methods->xRead(f, buf, amount, off);
}

static int wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    int rc = wal_flush(f);
    return rc != SQLITE_OK ? rc : unix_wal_methods->xTruncate(f, size);
}

static int wal_sync(sqlite3_file *f, int flags)
{
    int rc = wal_flush(f);
    return rc != SQLITE_OK ? rc : unix_wal_methods->xSync(f, flags);
}

static int wal_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    int rc = wal_flush(f);
    return rc != SQLITE_OK ? rc : unix_wal_methods->xFileSize(f, size);
}

static int wal_file_control(sqlite3_file *f, int op, void *arg)
{
    int rc = wal_flush(f);
    return rc != SQLITE_OK ? rc : unix_wal_methods->xFileControl(f, op, arg);
}

static void fill_wal_methods(sqlite3_io_methods *m)
{
    m->xClose = wal_close;
    m->xRead = wal_read;
    m->xWrite = wal_write;
    m->xTruncate = wal_truncate;
    m->xSync = wal_sync;
    m->xFileSize = wal_file_size;
    m->xFileControl = wal_file_control;
}

static void fill_kept_methods(sqlite3_io_methods *m)
{
    m->xFetch = kept_fetch;
    m->xUnfetch = kept_unfetch;
}

/* Whether a file the unix VFS gave methods `m` gets ours: the first such file of its kind
 * (under methods_lock) sets *unix_m, the unix VFS's methods for it on this system, and ours,
 * a copy with `fill`'s changes; a file given other methods (the unix VFS chooses them by file
 * system) stays as the unix VFS made it, which is correct, only without our changes. */
static bool ours_for(const sqlite3_io_methods *m, int min_version,
                     const sqlite3_io_methods **unix_m, sqlite3_io_methods *ours,
                     void (*fill)(sqlite3_io_methods *))
{
    if (pthread_mutex_lock(&methods_lock) != 0)
        return false;
    if (*unix_m == NULL && m->iVersion >= min_version) {
        *unix_m = m;
        *ours = *m;
        fill(ours);
    }
    bool same = m == *unix_m;
    (void)pthread_mutex_unlock(&methods_lock); /* held by this thread: cannot fail */
    return same;
}

static int kept_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
                     int *out_flags)
{
    (void)vfs;
    int rc = unix_vfs->xOpen(unix_vfs, name, f, flags, out_flags);
    if (rc != SQLITE_OK || f->pMethods == NULL)
        return rc;
    if ((flags & SQLITE_OPEN_WAL) &&
        ours_for(f->pMethods, 1, &unix_wal_methods, &wal_methods, fill_wal_methods)) {
        *wal_of(f) = (struct wal_file){.header_waits = false};
        f->pMethods = &wal_methods;
    } else if ((flags & SQLITE_OPEN_MAIN_DB) &&
               ours_for(f->pMethods, 3, &unix_methods, &kept_methods, fill_kept_methods)) {
        *kept_of(f) = (struct kept){.size = -1, .mapped = false};
        f->pMethods = &kept_methods;
    }
    return rc;
}

static pthread_once_t registered = PTHREAD_ONCE_INIT;
static int register_rc = SQLITE_ERROR;
static bool memstatus_off;

static void register_vfs(void)
{
    /* Before anything initialises SQLite (sqlite3_vfs_find does): no memory statistics.  With
     * them, every sqlite3_malloc and sqlite3_free in the process takes one global mutex, for
     * which the threads of a worker contend: ~90 allocations per request under the W200 mix,
     * 1.5 % of the machine's time in pthread_mutex_lock and _unlock (perf).  Nothing here reads
     * them.  SQLITE_MISUSE means something else in the process initialised SQLite first: the
     * statistics stay on, which costs time, not correctness. */
    memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
    unix_vfs = sqlite3_vfs_find("unix");
    if (unix_vfs == NULL || unix_vfs->iVersion < 1)
        return;
    kept_vfs = *unix_vfs;
    size_t extra = sizeof(struct kept) > sizeof(struct wal_file) ? sizeof(struct kept)
                                                                  : sizeof(struct wal_file);
    kept_vfs.szOsFile = (int)(unix_file_size() + extra);
    kept_vfs.zName = STORE_SQLITE_VFS;
    kept_vfs.pNext = NULL;
    kept_vfs.xOpen = kept_open;
    register_rc = sqlite3_vfs_register(&kept_vfs, 0);
}

int store_sqlite_vfs_register(void)
{
    if (pthread_once(&registered, register_vfs) != 0)
        return SQLITE_ERROR;
    return register_rc;
}

unsigned long store_sqlite_vfs_unmaps(void)
{
    return atomic_load_explicit(&unmaps, memory_order_relaxed);
}

bool store_sqlite_vfs_memstatus_off(void)
{
    (void)store_sqlite_vfs_register();
    return memstatus_off;
}

unsigned long store_sqlite_vfs_wal_joined_writes(void)
{
    return atomic_load_explicit(&wal_joined_writes, memory_order_relaxed);
}
