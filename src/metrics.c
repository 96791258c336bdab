/* Shared-memory metrics and their Prometheus rendering.  RSS and CPU are read from /proc for
 * each registered process at scrape time rather than counted. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "metrics.h"

#include "arena.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Statuses get their own series; anything else is counted under "other". */
static const int statuses[] = {200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 412,
                               413, 414, 415, 422, 429, 431, 500, 503};
#define NSTATUS (sizeof statuses / sizeof statuses[0] + 1)

/* Latency bucket upper bounds in microseconds, the last one +Inf. */
static const int64_t bucket_us[] = {250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
                                    100000, 250000, 500000, 1000000, 2500000};
#define NBUCKET (sizeof bucket_us / sizeof bucket_us[0] + 1)

struct shared {
    _Atomic uint64_t requests[METRICS_MAX_ROUTES][NSTATUS];
    _Atomic uint64_t latency[METRICS_MAX_ROUTES][NBUCKET];
    _Atomic uint64_t latency_sum_us[METRICS_MAX_ROUTES];
    _Atomic uint64_t db_queries, db_us, restarts;
    _Atomic uint64_t lists_found, lists_read;
    _Atomic uint64_t pages_found, pages_read, pages_passed, pages_emptied, pages_followed;
    _Atomic pid_t procs[METRICS_MAX_PROCS];
};

static struct shared *shm;
static const char *const *names;
static size_t nnames;

int metrics_init(const char *const *route_names, size_t nroutes)
{
    if (nroutes > METRICS_MAX_ROUTES)
        return -1;
    void *p = mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    shm = p; /* zero-filled by the kernel */
    names = route_names;
    nnames = nroutes;
    return 0;
}

void metrics_record_request(size_t route, int status, int64_t duration_us, int64_t db_us,
                            unsigned db_queries)
{
    if (shm == NULL || route >= nnames)
        return;
    size_t s = NSTATUS - 1;
    for (size_t i = 0; i < NSTATUS - 1; i++)
        if (statuses[i] == status)
            s = i;
    size_t b = NBUCKET - 1;
    for (size_t i = 0; i < NBUCKET - 1; i++)
        if (duration_us <= bucket_us[i]) {
            b = i;
            break;
        }
    atomic_fetch_add_explicit(&shm->requests[route][s], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&shm->latency[route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&shm->latency_sum_us[route], (uint64_t)duration_us,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&shm->db_queries, db_queries, memory_order_relaxed);
    atomic_fetch_add_explicit(&shm->db_us, (uint64_t)db_us, memory_order_relaxed);
}

void metrics_set_process(size_t slot, pid_t pid)
{
    if (shm != NULL && slot < METRICS_MAX_PROCS)
        atomic_store(&shm->procs[slot], pid);
}

void metrics_count_lists(uint64_t found, uint64_t read)
{
    if (shm == NULL)
        return;
    atomic_fetch_add(&shm->lists_found, found);
    atomic_fetch_add(&shm->lists_read, read);
}

void metrics_count_pages(const struct metrics_pages *d)
{
    if (shm == NULL)
        return;
    atomic_fetch_add(&shm->pages_found, d->found);
    atomic_fetch_add(&shm->pages_read, d->read);
    atomic_fetch_add(&shm->pages_passed, d->passed);
    atomic_fetch_add(&shm->pages_emptied, d->emptied);
    atomic_fetch_add(&shm->pages_followed, d->checkpoints);
}

void metrics_count_restart(void)
{
    if (shm != NULL)
        atomic_fetch_add(&shm->restarts, 1);
}

/* A growable text buffer; metrics output is bounded by the fixed tables above. */
struct text {
    char *p;
    size_t len, cap;
};

static void __attribute__((format(printf, 2, 3))) put(struct text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = t->cap * 2 + (size_t)n;
        t->p = xrealloc(t->p, t->cap);
    }
}

/* A counter with its HELP and TYPE lines. */
static void put_counter(struct text *t, const char *name, const char *help,
                        _Atomic uint64_t *value)
{
    put(t, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
        (unsigned long long)atomic_load(value));
}

/* utime+stime in clock ticks and RSS in pages from /proc/PID/stat; -1 if the process is gone. */
static int read_proc(pid_t pid, unsigned long long *ticks, long long *rss_pages)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields start after the last ')'. */
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    unsigned long long ut, st;
    long long rss;
    /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
     * cutime cstime priority nice threads itrealvalue starttime vsize rss */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
                      "%*d %*d %*u %*u %lld",
               &ut, &st, &rss) != 3)
        return -1;
    *ticks = ut + st;
    *rss_pages = rss;
    return 0;
}

char *metrics_render(const struct metrics_writes *w)
{
    struct text t = {xmalloc(16384), 0, 16384};
    t.p[0] = '\0';
    if (shm == NULL)
        return t.p;

    put(&t, "# HELP planner_http_requests_total Requests answered, by route and status.\n"
            "# TYPE planner_http_requests_total counter\n");
    for (size_t r = 0; r < nnames; r++)
        for (size_t s = 0; s < NSTATUS; s++) {
            uint64_t v = atomic_load_explicit(&shm->requests[r][s], memory_order_relaxed);
            if (v == 0)
                continue;
            if (s < NSTATUS - 1)
                put(&t, "planner_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                    names[r], statuses[s], (unsigned long long)v);
            else
                put(&t, "planner_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                    names[r], (unsigned long long)v);
        }

    put(&t, "# HELP planner_http_request_duration_seconds Time from request to response.\n"
            "# TYPE planner_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r < nnames; r++) {
        uint64_t cum = 0;
        for (size_t b = 0; b < NBUCKET; b++)
            cum += atomic_load_explicit(&shm->latency[r][b], memory_order_relaxed);
        if (cum == 0)
            continue;
        cum = 0;
        for (size_t b = 0; b < NBUCKET; b++) {
            cum += atomic_load_explicit(&shm->latency[r][b], memory_order_relaxed);
            if (b < NBUCKET - 1)
                put(&t, "planner_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                    names[r], (double)bucket_us[b] / 1e6, (unsigned long long)cum);
            else
                put(&t, "planner_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                    names[r], (unsigned long long)cum);
        }
        put(&t, "planner_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", names[r],
            (double)atomic_load(&shm->latency_sum_us[r]) / 1e6);
        put(&t, "planner_http_request_duration_seconds_count{route=\"%s\"} %llu\n", names[r],
            (unsigned long long)cum);
    }

    put(&t, "# HELP planner_db_queries_total Database statements run by requests.\n"
            "# TYPE planner_db_queries_total counter\nplanner_db_queries_total %llu\n",
        (unsigned long long)atomic_load(&shm->db_queries));
    put(&t, "# HELP planner_db_seconds_total Time requests spent in the database.\n"
            "# TYPE planner_db_seconds_total counter\nplanner_db_seconds_total %.6f\n",
        (double)atomic_load(&shm->db_us) / 1e6);
    put_counter(&t, "planner_participant_lists_found_total",
                "Events' participant lists found in a worker's cache.", &shm->lists_found);
    put_counter(&t, "planner_participant_lists_read_total",
                "Events' participant lists read from the database while the cache was on.",
                &shm->lists_read);
    put_counter(&t, "planner_page_cache_found_total",
                "Database pages found in a worker's page cache.", &shm->pages_found);
    put_counter(&t, "planner_page_cache_read_total",
                "Database pages read into a worker's page cache.", &shm->pages_read);
    put_counter(&t, "planner_page_cache_passed_total",
                "Database pages read past the page cache (every slot held, or no WAL index).",
                &shm->pages_passed);
    put_counter(&t, "planner_page_cache_emptied_total",
                "Times a worker's page cache dropped every page (a new WAL, or a checkpoint it"
                " could not follow page by page).", &shm->pages_emptied);
    put_counter(&t, "planner_page_cache_checkpoints_total",
                "Checkpoints a worker's page cache followed by dropping the pages they wrote.",
                &shm->pages_followed);
    if (w != NULL) {
        put(&t, "# HELP planner_writer_lock_taken_total Times the one writer lock was taken: each"
                " write transaction, and each checkpoint that starts the WAL over.\n"
                "# TYPE planner_writer_lock_taken_total counter\n"
                "planner_writer_lock_taken_total %llu\n",
            (unsigned long long)w->taken);
        put(&t, "# HELP planner_writer_lock_wait_seconds_total Time writers waited for the"
                " writer lock.\n# TYPE planner_writer_lock_wait_seconds_total counter\n"
                "planner_writer_lock_wait_seconds_total %.6f\n",
            (double)w->wait_us / 1e6);
        put(&t, "# HELP planner_writer_lock_held_seconds_total Time the writer lock was held; its"
                " rate near 1 means writes are the bottleneck.\n"
                "# TYPE planner_writer_lock_held_seconds_total counter\n"
                "planner_writer_lock_held_seconds_total %.6f\n",
            (double)w->held_us / 1e6);
        put(&t, "# HELP planner_writer_lock_waiting Writers waiting for the writer lock now.\n"
                "# TYPE planner_writer_lock_waiting gauge\nplanner_writer_lock_waiting %d\n",
            w->waiting);
    }
    put(&t, "# HELP planner_worker_restarts_total Workers restarted after an unexpected exit.\n"
            "# TYPE planner_worker_restarts_total counter\nplanner_worker_restarts_total %llu\n",
        (unsigned long long)atomic_load(&shm->restarts));

    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    unsigned long long all_ticks = 0;
    long long all_rss = 0;
    int nproc = 0;
    put(&t, "# HELP planner_process_resident_memory_bytes Resident memory of each planner process.\n"
            "# TYPE planner_process_resident_memory_bytes gauge\n");
    for (size_t i = 0; i < METRICS_MAX_PROCS; i++) {
        pid_t pid = atomic_load(&shm->procs[i]);
        unsigned long long ticks;
        long long rss;
        if (pid <= 0 || read_proc(pid, &ticks, &rss) < 0)
            continue;
        put(&t, "planner_process_resident_memory_bytes{role=\"%s\",pid=\"%d\"} %lld\n",
            i == 0 ? "master" : "worker", (int)pid, rss * page);
        all_ticks += ticks;
        all_rss += rss;
        nproc++;
    }
    put(&t, "# HELP process_resident_memory_bytes Resident memory of all planner processes.\n"
            "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %lld\n",
        all_rss * page);
    put(&t, "# HELP process_cpu_seconds_total CPU time of all live planner processes.\n"
            "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n",
        (double)all_ticks / (double)(tick > 0 ? tick : 100));
    put(&t, "# HELP planner_processes Live planner processes (master and workers).\n"
            "# TYPE planner_processes gauge\nplanner_processes %d\n", nproc);
    return t.p;
}
