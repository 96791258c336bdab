/* SQLite's unix VFS with three changes: a memory-mapped database file stays mapped from one
 * read transaction to the next (sqlite_mmap_mb; see engine_sqlite_vfs.h); a process can keep
 * one cache of a database file's pages for all its connections, which their commits do not
 * empty (page_cache_mb; below, "A page cache for the process"); and a transaction's WAL frames
 * are written with one system call rather than two a frame (below, "One write per WAL
 * transaction").
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
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "store/engine_sqlite_vfs.h"
#include "store/store.h" /* STORE_WAL_AUTOCHECKPOINT_PAGES */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

static sqlite3_vfs *unix_vfs;
static sqlite3_vfs kept_vfs;
/* The unix VFS's methods for a database file on this system, and the same with our xFetch and
 * xUnfetch; set by the first main database file opened (under `methods_lock`).  A file given
 * other methods (the unix VFS chooses them by file system) is left as the unix VFS made it. */
static const sqlite3_io_methods *unix_methods;
static sqlite3_io_methods kept_methods;
static pthread_mutex_t methods_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong unmaps;
static atomic_ulong restarts_refused;

struct page_cache;
struct wal_owner;

/* The WAL index (the -shm file) in regions of 32 KB (wal.c's WALINDEX_PGSZ), of which a cache
 * reads the first SHM_REGIONS: the page numbers of 266,270 frames (1 GB of WAL at 4 KB pages).
 * Its layout is part of SQLite's file format. */
#define SHM_REGIONS 64
#define SHM_REGION_BYTES 32768

/* What this VFS adds to the unix VFS's file, after it (szOsFile is the sum). */
struct kept {
    sqlite3_int64 size; /* the file's size when its mapping was last let go, -1 unknown */
    bool mapped;        /* xFetch has handed out a page since then */
    dev_t dev;          /* the file's identity, for its page cache */
    ino_t ino;
    struct page_cache *cache;       /* the process's page cache of the file, or NULL */
    sqlite3_int64 mmap_size;        /* with a cache: what PRAGMA mmap_size set (it maps nothing) */
    volatile const uint32_t *shm[SHM_REGIONS]; /* the WAL index's regions mapped, or NULL */
    struct wal_owner *owner;                   /* the database's, for its WAL (below) */
    bool write_locked;                         /* this connection holds the WAL write lock */
    bool checkpoint_locked;                    /* ... and the checkpoint lock */
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

/* ---- A page cache for the process ----------------------------------------------------------
 * In WAL mode a connection drops its whole page cache whenever another connection has
 * committed since its last transaction, and under the W200 mix one has, nearly always: every
 * request read its pages again with pread, ~32 of them, ~22 from the database file (the
 * kernel's copy and the system calls were a fifth of the server's CPU time, perf), and SQLite
 * allocated and freed a buffer for each.  store_page_cache has a connection read the database
 * file's pages from a cache the process keeps for that file instead, which its connections
 * share and which outlives their commits.  SQLite asks for most pages through xFetch, its
 * interface for a memory-mapped file (hence `PRAGMA mmap_size` turns it on): here xFetch hands
 * out a pointer into the cache, read on a miss with one pread, and xUnfetch gives it back.  No
 * copy into the connection's own cache, no allocation, and the memory is bounded
 * (store_page_cache's size; a mapping of the file puts every page read into each process's
 * RSS).  Page 1, and the pages a write transaction may change, SQLite reads with xRead into a
 * buffer of its own: those are copied out of the same cache (kept_read).  Pages that are in the
 * WAL are read as before: kept here too, they were found again too rarely to pay for the
 * pages they pushed out (each commit writes new frames).
 *
 * Why the pages stay right: in WAL mode only a checkpoint writes the database file, and SQLite
 * reads a page from the file (by xFetch or xRead) only when the page has no frame in the part
 * of the WAL its transaction sees.  A checkpoint copies only frames that every reader sees
 * (wal.c's mxSafeFrame; a reader of the file alone holds read lock 0, which no checkpoint
 * copies past), so none that it writes while a transaction runs is a page that transaction
 * reads from the file: the pages a transaction reads from the file do not change under it,
 * and a copy read at any moment of the transaction is right for all of it.
 * Between transactions the WAL index (the -shm file, shared by every process; its layout is
 * part of SQLite's file format) tells what changed: a finished checkpoint moves nBackfill on,
 * and the page numbers of the frames it copied are in the index; starting the WAL over
 * changes the header's salts.  The cache follows (salt-1, salt-2, nBackfill): past a
 * checkpoint it drops the pages of the frames copied, and on a new WAL every page
 * (cache_follow).  So it is right against checkpoints of any process, ours or not.  It holds
 * while the file stays in WAL mode (planner sets it, and SQLite keeps it across opens):
 * without a WAL index the cache is passed by, the page then read as SQLite would without it.
 * tests/unit/store_engine_test.c has readers checking whole states while a writer (through
 * the cache too) and a checkpointer (PASSIVE and RESTART) run beside them. */
#define SHM_HEADER_WORDS 12 /* the WAL index header (48 bytes), twice over */
#define SHM_MXFRAME 4       /* u32 index: bytes 16-19 of the header: the last frame */
#define SHM_SALT1 8         /* bytes 32-35 */
#define SHM_SALT2 9         /* bytes 36-39 */
#define SHM_BACKFILL 24     /* bytes 96-99: nBackfill */
#define SHM_HEADER 34       /* the headers' 136 bytes, then region 0's frame page numbers */
#define SHM_FRAMES 4096     /* the page numbers of frames in a region after the first */

struct cache_slot {
    uint32_t pgno;
    uint32_t gen;     /* the cache's generation it was read in */
    uint32_t next;    /* the next slot of its hash chain + 1; 0 ends the chain */
    atomic_uint refs; /* handed out and not yet given back (taken under the lock) */
    bool linked;      /* in its generation's hash chain */
    bool used;        /* the clock's second chance */
};

struct page_cache {
    struct page_cache *next; /* the process's caches, under caches_lock */
    dev_t dev;
    ino_t ino;
    int users;    /* files open with it, under caches_lock */
    size_t bytes; /* its size */

    pthread_mutex_t lock; /* all below */
    int page_size;        /* 0 until the first fetch; -1 if the memory could not be had */
    atomic_int read_size; /* page_size once the memory is had, for xRead to look at unlocked */
    uint32_t nslots, nbuckets, hand, gen;
    uint32_t key[3]; /* salt-1, salt-2, nBackfill of generation `gen` */
    struct cache_slot *slots;
    uint32_t *buckets;    /* the first slot of each chain + 1, 0 for none */
    unsigned char *pages; /* nslots pages, anonymous memory resident only once used */
};

static pthread_mutex_t caches_lock = PTHREAD_MUTEX_INITIALIZER;
static struct page_cache *caches;
static atomic_ulong cache_hits, cache_reads, cache_passes, cache_drops, cache_checkpoints;

/* The process's cache of the file (dev, ino), made with `bytes` if it has none. */
static struct page_cache *cache_acquire(dev_t dev, ino_t ino, size_t bytes)
{
    if (pthread_mutex_lock(&caches_lock) != 0)
        return NULL;
    struct page_cache *c = caches;
    while (c != NULL && !(c->dev == dev && c->ino == ino))
        c = c->next;
    if (c == NULL && (c = calloc(1, sizeof *c)) != NULL) {
        if (pthread_mutex_init(&c->lock, NULL) != 0) {
            free(c);
            c = NULL;
        } else {
            c->dev = dev;
            c->ino = ino;
            c->bytes = bytes;
            c->next = caches;
            caches = c;
        }
    }
    if (c != NULL)
        c->users++;
    (void)pthread_mutex_unlock(&caches_lock);
    return c;
}

static void cache_release(struct page_cache *c)
{
    if (pthread_mutex_lock(&caches_lock) != 0)
        return; /* cannot happen (a default mutex); the cache then stays */
    bool last = --c->users == 0;
    if (last) {
        struct page_cache **p = &caches;
        while (*p != c)
            p = &(*p)->next;
        *p = c->next;
    }
    (void)pthread_mutex_unlock(&caches_lock);
    if (!last)
        return;
    if (c->pages != NULL)
        (void)munmap(c->pages, (size_t)c->nslots * (size_t)c->page_size);
    free(c->slots);
    free(c->buckets);
    (void)pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Under c->lock: the memory for pages of `page_size` bytes, at the first fetch. */
static bool cache_setup(struct page_cache *c, int page_size)
{
    if (c->page_size != 0)
        return c->page_size == page_size;
    c->page_size = -1;
    size_t n = c->bytes / (size_t)page_size;
    if (n < 16 || n > (1u << 24))
        n = n < 16 ? 16 : 1u << 24;
    uint32_t nb = 1;
    while (nb < n)
        nb <<= 1;
    c->slots = calloc(n, sizeof *c->slots);
    c->buckets = calloc(nb, sizeof *c->buckets);
    void *pages = mmap(NULL, n * (size_t)page_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c->slots == NULL || c->buckets == NULL || pages == MAP_FAILED) {
        if (pages != MAP_FAILED)
            (void)munmap(pages, n * (size_t)page_size);
        free(c->slots);
        free(c->buckets);
        c->slots = NULL;
        c->buckets = NULL;
        return false;
    }
    c->pages = pages;
    c->nslots = (uint32_t)n;
    c->nbuckets = nb;
    c->page_size = page_size;
    atomic_store_explicit(&c->read_size, page_size, memory_order_release);
    return true;
}

static uint32_t bucket_of(const struct page_cache *c, uint32_t pgno)
{
    return (pgno * 2654435761u) & (c->nbuckets - 1);
}

/* Under c->lock: the slot holding `pgno` in this generation, or NULL. */
static struct cache_slot *cache_find(struct page_cache *c, uint32_t pgno)
{
    for (uint32_t i = c->buckets[bucket_of(c, pgno)]; i != 0; i = c->slots[i - 1].next)
        if (c->slots[i - 1].pgno == pgno)
            return &c->slots[i - 1];
    return NULL;
}

/* Under c->lock: take slot `s`, linked in this generation, out of its hash chain. */
static void cache_unlink(struct page_cache *c, struct cache_slot *s)
{
    uint32_t *p = &c->buckets[bucket_of(c, s->pgno)];
    uint32_t self = (uint32_t)(s - c->slots) + 1;
    while (*p != self)
        p = &c->slots[*p - 1].next;
    *p = s->next;
    s->linked = false;
}

/* Under c->lock: a slot no one holds, by the clock (a used slot of this generation gets a
 * second chance), taken out of its chain; NULL if every slot is held. */
static struct cache_slot *cache_victim(struct page_cache *c)
{
    for (uint32_t n = 0; n < 2 * c->nslots; n++) {
        struct cache_slot *s = &c->slots[c->hand];
        c->hand = c->hand + 1 == c->nslots ? 0 : c->hand + 1;
        if (atomic_load_explicit(&s->refs, memory_order_acquire) != 0)
            continue;
        bool current = s->linked && s->gen == c->gen;
        if (current && s->used) {
            s->used = false;
            continue;
        }
        if (current)
            cache_unlink(c, s);
        s->linked = false;
        return s;
    }
    return NULL;
}

/* The WAL index's salts and nBackfill as they were at one moment (`key`); false if a writer or
 * checkpointer was changing them at every try.  Without that care a reader could take the
 * salts of a WAL just started over together with the nBackfill of the one before (SQLite
 * writes the header, then zeroes nBackfill), and later miss pages a checkpoint wrote.  The
 * header is read as wal.c's walIndexTryHdr reads it (its first copy, then the second, which
 * writers write in the other order: equal, they are whole), between two reads of nBackfill,
 * which must agree and be no greater than the header's last frame (set in *last, if asked). */
static bool wal_key(volatile const uint32_t *shm, uint32_t key[3], uint32_t *last)
{
    for (int tries = 0; tries < 4; tries++) {
        uint32_t h[2][SHM_HEADER_WORDS];
        uint32_t n = __atomic_load_n(&shm[SHM_BACKFILL], __ATOMIC_ACQUIRE);
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < SHM_HEADER_WORDS; i++)
                h[c][i] = __atomic_load_n(&shm[c * SHM_HEADER_WORDS + i], __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&shm[SHM_BACKFILL], __ATOMIC_ACQUIRE) == n &&
            memcmp(h[0], h[1], sizeof h[0]) == 0 && n <= h[0][SHM_MXFRAME]) {
            key[0] = h[0][SHM_SALT1];
            key[1] = h[0][SHM_SALT2];
            key[2] = n;
            if (last != NULL)
                *last = h[0][SHM_MXFRAME];
            return true;
        }
    }
    return false;
}

/* The page number of WAL frame `frame` (1-based), from the WAL index (wal.c's walFramePgno),
 * mapping its region if this file has not: 0 if it has no such region.  An acquire load, so
 * that the loads after it (cache_drop_frames' second look at the salts) are not made before
 * it: free on x86, and unlike a fence, ThreadSanitizer understands it. */
static uint32_t frame_pgno(sqlite3_file *f, struct kept *k, uint32_t frame)
{
    uint32_t region = 0, i = SHM_HEADER + frame - 1;
    if (frame > SHM_FRAMES - SHM_HEADER) {
        region = (frame - 1 - (SHM_FRAMES - SHM_HEADER)) / SHM_FRAMES + 1;
        i = (frame - 1 - (SHM_FRAMES - SHM_HEADER)) % SHM_FRAMES;
    }
    if (region >= SHM_REGIONS)
        return 0;
    if (k->shm[region] == NULL) {
        void volatile *p = NULL;
        if (unix_methods->xShmMap(f, (int)region, SHM_REGION_BYTES, 0, &p) != SQLITE_OK)
            return 0;
        k->shm[region] = p;
    }
    return k->shm[region] == NULL ? 0 : __atomic_load_n(&k->shm[region][i], __ATOMIC_ACQUIRE);
}

/* Under c->lock: drop the pages of frames (c->key[2], key[2]], which a checkpoint has just
 * copied into the file (the WAL keeps its salts).  False if they could not all be read: the
 * caller drops every page. */
static bool cache_drop_frames(struct page_cache *c, sqlite3_file *f, struct kept *k,
                              const uint32_t key[3])
{
    for (uint32_t frame = c->key[2] + 1; frame <= key[2]; frame++) {
        uint32_t pgno = frame_pgno(f, k, frame);
        if (pgno == 0)
            return false;
        struct cache_slot *s = cache_find(c, pgno);
        if (s != NULL)
            cache_unlink(c, s);
    }
    /* The page numbers were of this WAL only if it was not started over meanwhile (read
     * after them: frame_pgno's loads are acquire loads). */
    uint32_t now[3];
    return wal_key(k->shm[0], now, NULL) && now[0] == key[0] && now[1] == key[1];
}

static int cache_pass(void **page)
{
    *page = NULL; /* SQLite reads the page itself */
    atomic_fetch_add_explicit(&cache_passes, 1, memory_order_relaxed);
    return SQLITE_OK;
}

/* Under c->lock: bring the cache up to the WAL index as it is now, so that it holds no page
 * older than the file's (false: the index could not be read whole; pass the cache by).
 *
 * Usually nothing has changed, and a glance at nBackfill and the salts shows it.  A glance
 * is not a whole read, but one that matches the cache's key is still safe: the reader
 * asking is in a read transaction, so a checkpoint that completes after the glance writes
 * only pages in that reader's part of the WAL, which it never fetches from the file; and
 * only a reader that reads no WAL at all can see the WAL start over, while no checkpoint can
 * run (SQLite's read lock 0), so the file is as the cache has it.  What is recorded as the
 * key is always read whole (wal_key).  The key only moves forward: past a checkpoint the
 * pages it wrote are dropped; anything else (a new WAL, a reader that saw the index before a
 * checkpoint another thread has already taken in) drops every page, which is never wrong. */
static bool cache_follow(struct page_cache *c, sqlite3_file *f, struct kept *k)
{
    volatile const uint32_t *shm = k->shm[0];
    if (c->gen != 0 && __atomic_load_n(&shm[SHM_BACKFILL], __ATOMIC_ACQUIRE) == c->key[2] &&
        __atomic_load_n(&shm[SHM_SALT1], __ATOMIC_ACQUIRE) == c->key[0] &&
        __atomic_load_n(&shm[SHM_SALT2], __ATOMIC_ACQUIRE) == c->key[1])
        return true;
    uint32_t key[3];
    if (!wal_key(shm, key, NULL))
        return false;
    bool same_wal = c->gen != 0 && key[0] == c->key[0] && key[1] == c->key[1];
    if (same_wal && key[2] > c->key[2] && cache_drop_frames(c, f, k, key)) {
        c->key[2] = key[2];
        atomic_fetch_add_explicit(&cache_checkpoints, 1, memory_order_relaxed);
    } else if (!same_wal || key[2] != c->key[2]) {
        c->gen++; /* held pages stay with their users until given back */
        memcpy(c->key, key, sizeof key);
        memset(c->buckets, 0, (size_t)c->nbuckets * sizeof *c->buckets);
        atomic_fetch_add_explicit(&cache_drops, 1, memory_order_relaxed);
    }
    return true;
}

/* The page at `off` from the cache, held until cache_unfetch, in *page (NULL: read it
 * yourself).  xFetch asks for whole pages only, and its first fetch sets the page size;
 * xRead (`copying`) also reads other amounts, such as the 100-byte header at open, which pass
 * by uncounted, as everything does before the page size is known. */
static int cache_fetch(sqlite3_file *f, struct kept *k, sqlite3_int64 off, int amount,
                       bool copying, void **page)
{
    struct page_cache *c = k->cache;
    *page = NULL;
    if (copying && atomic_load_explicit(&c->read_size, memory_order_acquire) != amount)
        return SQLITE_OK;
    if (k->shm[0] == NULL || amount <= 0 || off % amount != 0 || off / amount >= UINT32_MAX)
        return cache_pass(page);
    uint32_t pgno = (uint32_t)(off / amount) + 1;
    if (pthread_mutex_lock(&c->lock) != 0)
        return cache_pass(page);
    if (!cache_setup(c, amount) || !cache_follow(c, f, k)) {
        (void)pthread_mutex_unlock(&c->lock);
        return cache_pass(page);
    }
    struct cache_slot *s = cache_find(c, pgno);
    if (s != NULL) {
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
        s->used = true;
        (void)pthread_mutex_unlock(&c->lock);
        *page = c->pages + (size_t)(s - c->slots) * (size_t)amount;
        atomic_fetch_add_explicit(&cache_hits, 1, memory_order_relaxed);
        return SQLITE_OK;
    }
    s = cache_victim(c);
    if (s == NULL) {
        (void)pthread_mutex_unlock(&c->lock);
        return cache_pass(page);
    }
    atomic_store_explicit(&s->refs, 1, memory_order_relaxed);
    s->pgno = pgno;
    s->gen = c->gen;
    s->used = true;
    uint32_t gen = c->gen;
    (void)pthread_mutex_unlock(&c->lock);

    /* Read outside the lock; the slot is this caller's alone until it is linked. */
    unsigned char *p = c->pages + (size_t)(s - c->slots) * (size_t)amount;
    int rc = unix_methods->xRead(f, p, amount, off);
    if (pthread_mutex_lock(&c->lock) != 0) {
        atomic_store_explicit(&s->refs, 0, memory_order_release);
        return cache_pass(page);
    }
    if (rc != SQLITE_OK) {
        atomic_store_explicit(&s->refs, 0, memory_order_release);
        (void)pthread_mutex_unlock(&c->lock);
        return cache_pass(page); /* past the end, or an I/O error: SQLite's own read says */
    }
    /* Others may look it up now, unless the generation moved on meanwhile or another thread
     * read the same page first (this copy then goes when its user gives it back). */
    if (c->gen == gen && cache_find(c, pgno) == NULL) {
        uint32_t *head = &c->buckets[bucket_of(c, pgno)];
        s->next = *head;
        *head = (uint32_t)(s - c->slots) + 1;
        s->linked = true;
    }
    (void)pthread_mutex_unlock(&c->lock);
    *page = p;
    atomic_fetch_add_explicit(&cache_reads, 1, memory_order_relaxed);
    return SQLITE_OK;
}

static void cache_unfetch(struct page_cache *c, void *page)
{
    size_t i = (size_t)((unsigned char *)page - c->pages) / (size_t)c->page_size;
    atomic_fetch_sub_explicit(&c->slots[i].refs, 1, memory_order_release);
}

static int kept_fetch(sqlite3_file *f, sqlite3_int64 off, int amount, void **page)
{
    struct kept *k = kept_of(f);
    if (k->cache != NULL)
        return cache_fetch(f, k, off, amount, false, page);
    int rc = unix_methods->xFetch(f, off, amount, page);
    if (rc == SQLITE_OK && *page != NULL)
        k->mapped = true;
    return rc;
}

/* SQLite reads a page with xRead where it will not take a pointer into a mapping: page 1,
 * and the pages a write transaction may change.  They come from the cache too, copied: the
 * same pages of the file, right for the same reason.  Under the W200 mix this took the read
 * calls of a request from 19 to 16. */
static int kept_read(sqlite3_file *f, void *buf, int amount, sqlite3_int64 off)
{
    struct kept *k = kept_of(f);
    void *page = NULL;
    if (k->cache != NULL && cache_fetch(f, k, off, amount, true, &page) == SQLITE_OK &&
        page != NULL) {
        memcpy(buf, page, (size_t)amount);
        cache_unfetch(k->cache, page);
        return SQLITE_OK;
    }
    return unix_methods->xRead(f, buf, amount, off);
}

static int kept_unfetch(sqlite3_file *f, sqlite3_int64 off, void *page)
{
    struct kept *k = kept_of(f);
    if (k->cache != NULL) {
        if (page != NULL)
            cache_unfetch(k->cache, page);
        return SQLITE_OK; /* "let every page go": nothing is mapped */
    }
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

/* ---- One write per WAL transaction --------------------------------------------------------
 * SQLite appends a frame to the WAL with two writes, the frame's 24-byte header and then the
 * page right after it (walWriteOneFrame in wal.c), one frame after the other, all under the
 * one writer lock: a W200 write transaction appends ~20 frames, ~40 pwrite calls.  Here the
 * frames wait in the file's buffer (`pend`) and go out in one write when the commit frame's
 * page arrives (a commit frame's header says the database's size after the commit, bytes
 * 4-7; every other frame's says 0), or when WAL_PEND_BYTES wait (a large transaction).  20
 * frames in one write take ~14 us on the bench machine, against ~31 us in 20 (a loop of
 * pwrite against one of pwritev, 2,000 transactions each, on ext4).
 *
 * The file is the same byte for byte, but for the frames of a transaction that rolled back,
 * which are dropped (below), and no one sees it without what was written to it: anything
 * else done to it (a write that neither follows nor falls inside what waits, a read,
 * a sync, its size, a truncation, a file control, closing it) writes what waits first.  Other
 * connections read only frames of committed transactions, which reached the file before
 * SQLite put the commit into the WAL index (it does after the last frame's write returns).
 * A failed write reports its error to the write that set it off; for the commit frame's, that
 * fails the commit, whose frames then never count (SQLite rolls the transaction back).
 *
 * A commit frame's header never waits alone: SQLite writes one with no page after it when it
 * rewrites the checksums of a transaction that went to the WAL in parts (walRewriteChecksums:
 * each frame read, then its header written again, the commit frame's last).  That last
 * header, had it waited, would have stayed in this process after the commit was in the WAL
 * index, and recovery after the process died would have dropped the transaction. */
#define WAL_FRAME_HEADER 24

/* Frames may wait only while their transaction holds the WAL write lock, and must never be
 * written once it has let the lock go: a transaction that rolls back writes nothing to the
 * WAL to undo its frames (SQLite only forgets them), and the next writer, of any connection,
 * writes its own frames in the same place.  Frames of a rolled-back transaction written after
 * that would overwrite committed ones (a test saw "file is not a database").  So each time a
 * connection of the process takes the write lock of a database (SQLite's WAL_WRITE_LOCK, the
 * WAL index's lock 0, through xShmLock on the database file), the database's `wal_owner`
 * gets a new tenure, and 0 again just before the lock is let go.  Frames start to wait only
 * under a tenure, which they keep; waiting frames whose tenure is no longer the database's
 * are dropped, never written. */
struct wal_owner {
    struct wal_owner *next; /* the process's owners, under owners_lock */
    int users;              /* database and WAL files open with it, under owners_lock */
    atomic_ulong tenure;    /* while a connection of the process holds the write lock, else 0 */
    char name[];            /* the database file's path, as SQLite opens it */
};

static pthread_mutex_t owners_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wal_owner *owners;
static atomic_ulong tenures;

/* The owner of the database whose path is the first `len` bytes of `name`; NULL if there is no
 * memory for one (its WAL's frames then never wait). */
static struct wal_owner *owner_acquire(const char *name, size_t len)
{
    if (pthread_mutex_lock(&owners_lock) != 0)
        return NULL;
    struct wal_owner *o = owners;
    while (o != NULL && !(strlen(o->name) == len && memcmp(o->name, name, len) == 0))
        o = o->next;
    if (o == NULL && (o = calloc(1, sizeof *o + len + 1)) != NULL) {
        memcpy(o->name, name, len);
        o->next = owners;
        owners = o;
    }
    if (o != NULL)
        o->users++;
    (void)pthread_mutex_unlock(&owners_lock);
    return o;
}

static void owner_release(struct wal_owner *o)
{
    if (o == NULL || pthread_mutex_lock(&owners_lock) != 0)
        return;
    bool last = --o->users == 0;
    if (last) {
        struct wal_owner **p = &owners;
        while (*p != o)
            p = &(*p)->next;
        *p = o->next;
    }
    (void)pthread_mutex_unlock(&owners_lock);
    if (last)
        free(o);
}

static unsigned long owner_tenure(const struct wal_owner *o)
{
    return o != NULL ? atomic_load_explicit(&o->tenure, memory_order_acquire) : 0;
}

/* What waits goes out in one call of the unix VFS's xWrite, which writes at most 128 KiB less
 * one byte a call (seekAndWrite in os_unix.c masks the length with 0x1ffff). */
#define WAL_PEND_BYTES (120 * 1024)

struct wal_file {
    unsigned char *pend; /* bytes not yet written: sqlite3_malloc'd */
    int pend_len, pend_cap;
    sqlite3_int64 pend_at;     /* where they go */
    bool commit_waits;         /* the last header in pend is a commit frame's */
    unsigned long pend_tenure; /* the write lock's tenure they were written under */
    struct wal_owner *owner;   /* the database's */
};

static const sqlite3_io_methods *unix_wal_methods;
static sqlite3_io_methods wal_methods;
static atomic_ulong wal_batched_frames, wal_dropped_writes;

static struct wal_file *wal_of(sqlite3_file *f)
{
    return (struct wal_file *)((char *)f + unix_file_size());
}

/* Write what waits, if anything does: unless its transaction has let the write lock go,
 * which means it rolled back (a commit writes its frames before), and then drop it. */
static int wal_flush(sqlite3_file *f)
{
    struct wal_file *w = wal_of(f);
    if (w->pend_len == 0)
        return SQLITE_OK;
    int n = w->pend_len;
    w->pend_len = 0;
    w->commit_waits = false;
    if (w->pend_tenure != owner_tenure(w->owner)) {
        atomic_fetch_add_explicit(&wal_dropped_writes, 1, memory_order_relaxed);
        return SQLITE_OK;
    }
    return unix_wal_methods->xWrite(f, w->pend, n, w->pend_at);
}

static bool is_commit_header(const unsigned char *h)
{
    return (h[4] | h[5] | h[6] | h[7]) != 0;
}

/* Room for `more` bytes after what waits, within WAL_PEND_BYTES: false when there is none. */
static bool pend_room(struct wal_file *w, int more)
{
    if (more > WAL_PEND_BYTES - w->pend_len)
        return false;
    if (w->pend_len + more <= w->pend_cap)
        return true;
    int cap = w->pend_cap ? w->pend_cap : WAL_PEND_BYTES / 4;
    while (cap < w->pend_len + more)
        cap *= 2;
    unsigned char *p = sqlite3_realloc(w->pend, cap);
    if (p == NULL)
        return false; /* the writes go out one by one */
    w->pend = p;
    w->pend_cap = cap;
    return true;
}

/* `amount` bytes at the end of what waits (at `off` if nothing does). */
static void pend_append(struct wal_file *w, const unsigned char *b, int amount, sqlite3_int64 off,
                        unsigned long tenure)
{
    if (w->pend_len == 0) {
        w->pend_at = off;
        w->pend_tenure = tenure;
    }
    memcpy(w->pend + w->pend_len, b, (size_t)amount);
    w->pend_len += amount;
    if (amount == WAL_FRAME_HEADER) {
        w->commit_waits = is_commit_header(b);
        atomic_fetch_add_explicit(&wal_batched_frames, 1, memory_order_relaxed);
    }
}

static int wal_write(sqlite3_file *f, const void *buf, int amount, sqlite3_int64 off)
{
    struct wal_file *w = wal_of(f);
    const unsigned char *b = buf;
    bool header = amount == WAL_FRAME_HEADER;
    unsigned long tenure = owner_tenure(w->owner);
    if (w->pend_len > 0 && w->pend_tenure != tenure) {
        int rc = wal_flush(f); /* drops them: a transaction that rolled back */
        if (rc != SQLITE_OK)
            return rc;
    }
    if (!header && w->pend_len > 0 && off >= w->pend_at &&
        off + amount <= w->pend_at + w->pend_len) {
        /* A page of this transaction changed again before it went out (walFrames).  A header
         * never lands here, so that every commit frame's is seen: SQLite writes none inside
         * its own transaction's frames, and another's waiting frames were dropped above. */
        memcpy(w->pend + (off - w->pend_at), b, (size_t)amount);
        return SQLITE_OK;
    }
    /* A frame's header may start what waits, under a tenure, unless it is a commit frame's. */
    bool starts = header && tenure != 0 && !is_commit_header(b);
    if (w->pend_len > 0 && off == w->pend_at + w->pend_len && pend_room(w, amount)) {
        pend_append(w, b, amount, off, tenure);
        /* The commit frame's page: the transaction is whole. */
        return w->commit_waits && !header ? wal_flush(f) : SQLITE_OK;
    }
    int rc = wal_flush(f);
    if (rc != SQLITE_OK)
        return rc;
    if (starts && pend_room(w, amount)) {
        pend_append(w, b, amount, off, tenure);
        return SQLITE_OK;
    }
    return unix_wal_methods->xWrite(f, buf, amount, off);
}

static int wal_close(sqlite3_file *f)
{
    int flushed = wal_flush(f);
    sqlite3_free(wal_of(f)->pend);
    wal_of(f)->pend = NULL;
    owner_release(wal_of(f)->owner);
    wal_of(f)->owner = NULL;
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

static int kept_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **p)
{
    int rc = unix_methods->xShmMap(f, region, size, extend, p);
    if (rc == SQLITE_OK && region >= 0 && region < SHM_REGIONS && size == SHM_REGION_BYTES &&
        *p != NULL)
        kept_of(f)->shm[region] = (volatile const uint32_t *)*p;
    return rc;
}

/* The connection no longer holds the WAL write lock: its tenure ends (the lock is still held
 * while this runs, so no other connection of the process has taken it). */
static void write_lock_gone(struct kept *k)
{
    if (k->write_locked) {
        k->write_locked = false;
        atomic_store_explicit(&k->owner->tenure, 0, memory_order_release);
    }
}

static int kept_shm_unmap(sqlite3_file *f, int delete_flag)
{
    memset(kept_of(f)->shm, 0, sizeof kept_of(f)->shm);
    kept_of(f)->checkpoint_locked = false;
    write_lock_gone(kept_of(f)); /* the unix VFS lets go the locks of the unmapped index */
    return unix_methods->xShmUnmap(f, delete_flag);
}

static int kept_file_control(sqlite3_file *f, int op, void *arg)
{
    struct kept *k = kept_of(f);
    if (op == STORE_SQLITE_FCNTL_PAGE_CACHE) {
        sqlite3_int64 bytes = *(sqlite3_int64 *)arg;
        if (k->ino == 0 || k->mapped || bytes <= 0)
            return SQLITE_MISUSE; /* no file to name it by, or mapped already */
        if (k->cache == NULL && (k->cache = cache_acquire(k->dev, k->ino, (size_t)bytes)) == NULL)
            return SQLITE_NOMEM;
        return SQLITE_OK;
    }
    if (op == STORE_SQLITE_FCNTL_WAL_BACKLOG) {
        uint32_t key[3], last;
        if (k->shm[0] == NULL || !wal_key(k->shm[0], key, &last))
            return SQLITE_NOTFOUND; /* no WAL index mapped, or one changing at every look */
        *(sqlite3_int64 *)arg = (sqlite3_int64)last - key[2];
        return SQLITE_OK;
    }
    if (op == SQLITE_FCNTL_MMAP_SIZE && k->cache != NULL) {
        /* Remembered for the pragma, kept from the unix VFS: with a cache it maps nothing. */
        sqlite3_int64 *size = arg;
        if (*size >= 0)
            k->mmap_size = *size;
        *size = k->mmap_size;
        return SQLITE_OK;
    }
    return unix_methods->xFileControl(f, op, arg);
}

/* ---- A WAL started over only when it is large ---------------------------------------------
 * A writer that finds every frame of the WAL copied into the database file, and no reader
 * using the WAL, starts it over (walRestartLog in wal.c): new salts, frames from the start of
 * the file.  That empties the page cache above (cache_follow: the page numbers of the last
 * frames copied are lost with the old WAL index).  A worker's checkpointer copies every frame
 * once a second, and at a low rate no reader is in the WAL most of the time, so the WAL
 * started over about once a second per worker and every page cache of the database was read
 * again (at 100 W200 requests/s: emptied 1.9 times a second, 15 preads a request).  So while
 * a connection holds the write lock but not the checkpoint lock, and the WAL holds fewer
 * than STORE_WAL_AUTOCHECKPOINT_PAGES frames, it is refused the lock that a restart takes,
 * read locks 1-4 exclusively (the lock numbers are part of the WAL index's format): SQLite
 * takes that for a reader still in the WAL and appends to it instead, as it is built to.
 * Past that size the WAL starts over as before (store_checkpoint's RESTART sees to it under
 * steady writes), and a checkpoint that starts it over itself (TRUNCATE, holding the
 * checkpoint lock) is let through. */
enum { SHM_WRITE_LOCK = 0, SHM_CHECKPOINT_LOCK = 1, SHM_READ_LOCK_1 = 4, SHM_READ_LOCKS_1_4 = 4 };

static bool restart_refused(struct kept *k, int ofst, int n, int flags)
{
    uint32_t key[3], last;
    return ofst == SHM_READ_LOCK_1 && n == SHM_READ_LOCKS_1_4 &&
           flags == (SQLITE_SHM_LOCK | SQLITE_SHM_EXCLUSIVE) && k->write_locked &&
           !k->checkpoint_locked && k->shm[0] != NULL &&
           wal_key(k->shm[0], key, &last) && last < STORE_WAL_AUTOCHECKPOINT_PAGES;
}

/* Besides the refusal above, the WAL write lock's tenures (above, "One write per WAL
 * transaction": SQLite's WAL_WRITE_LOCK is the WAL index's lock 0, taken and let go
 * exclusively) and whether the connection holds the checkpoint lock. */
static int kept_shm_lock(sqlite3_file *f, int ofst, int n, int flags)
{
    struct kept *k = kept_of(f);
    if (restart_refused(k, ofst, n, flags)) {
        atomic_fetch_add_explicit(&restarts_refused, 1, memory_order_relaxed);
        return SQLITE_BUSY;
    }
    bool exclusive = flags & SQLITE_SHM_EXCLUSIVE;
    bool checkpoint_lock = ofst == SHM_CHECKPOINT_LOCK && n == 1 && exclusive;
    bool write_lock = ofst == SHM_WRITE_LOCK && n > 0 && exclusive && k->owner != NULL;
    if (checkpoint_lock && (flags & SQLITE_SHM_UNLOCK))
        k->checkpoint_locked = false;
    if (write_lock && (flags & SQLITE_SHM_UNLOCK))
        write_lock_gone(k);
    int rc = unix_methods->xShmLock(f, ofst, n, flags);
    if (checkpoint_lock && (flags & SQLITE_SHM_LOCK) && rc == SQLITE_OK)
        k->checkpoint_locked = true;
    if (write_lock && (flags & SQLITE_SHM_LOCK) && rc == SQLITE_OK) {
        k->write_locked = true;
        unsigned long t = atomic_fetch_add_explicit(&tenures, 1, memory_order_relaxed) + 1;
        atomic_store_explicit(&k->owner->tenure, t, memory_order_release);
    }
    return rc;
}

static int kept_close(sqlite3_file *f)
{
    struct kept *k = kept_of(f);
    struct page_cache *c = k->cache;
    k->cache = NULL;
    memset(k->shm, 0, sizeof k->shm);
    k->checkpoint_locked = false;
    write_lock_gone(k);
    owner_release(k->owner);
    k->owner = NULL;
    int rc = unix_methods->xClose(f);
    if (c != NULL)
        cache_release(c);
    return rc;
}

static void fill_kept_methods(sqlite3_io_methods *m)
{
    m->xClose = kept_close;
    m->xFileControl = kept_file_control;
    m->xShmMap = kept_shm_map;
    m->xShmUnmap = kept_shm_unmap;
    m->xShmLock = kept_shm_lock;
    m->xRead = kept_read;
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
        size_t len = name != NULL ? strlen(name) : 0;
        bool wal_name = len > 4 && strcmp(name + len - 4, "-wal") == 0;
        *wal_of(f) = (struct wal_file){.owner = wal_name ? owner_acquire(name, len - 4) : NULL};
        f->pMethods = &wal_methods;
    } else if ((flags & SQLITE_OPEN_MAIN_DB) &&
               ours_for(f->pMethods, 3, &unix_methods, &kept_methods, fill_kept_methods)) {
        struct stat st;
        bool named = name != NULL && stat(name, &st) == 0;
        *kept_of(f) = (struct kept){.size = -1, .dev = named ? st.st_dev : 0,
                                    .ino = named ? st.st_ino : 0,
                                    .owner = name != NULL ? owner_acquire(name, strlen(name))
                                                          : NULL};
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

void store_sqlite_vfs_page_cache_stats(struct store_sqlite_page_cache_stats *out)
{
    out->hits = atomic_load_explicit(&cache_hits, memory_order_relaxed);
    out->reads = atomic_load_explicit(&cache_reads, memory_order_relaxed);
    out->passes = atomic_load_explicit(&cache_passes, memory_order_relaxed);
    out->drops = atomic_load_explicit(&cache_drops, memory_order_relaxed);
    out->checkpoints = atomic_load_explicit(&cache_checkpoints, memory_order_relaxed);
}

bool store_sqlite_vfs_memstatus_off(void)
{
    (void)store_sqlite_vfs_register();
    return memstatus_off;
}

unsigned long store_sqlite_vfs_wal_dropped_writes(void)
{
    return atomic_load_explicit(&wal_dropped_writes, memory_order_relaxed);
}

unsigned long store_sqlite_vfs_wal_restarts_refused(void)
{
    return atomic_load_explicit(&restarts_refused, memory_order_relaxed);
}

unsigned long store_sqlite_vfs_wal_batched_frames(void)
{
    return atomic_load_explicit(&wal_batched_frames, memory_order_relaxed);
}
