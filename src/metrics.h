/* Process-wide counters for /metrics, kept in one shared anonymous mapping that the master
 * creates before forking, so every worker adds to the same numbers and a scrape answered by
 * any worker sees the whole server.  Counters are _Atomic (STYLE.md R9's allowed exception). */
#ifndef PLANNER_METRICS_H
#define PLANNER_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define METRICS_MAX_ROUTES 96
#define METRICS_MAX_PROCS 72 /* the master plus up to 64 workers, with room for restarts */

/* Map the shared counters; `route_names` (static strings, index = route id, 0 = unmatched)
 * label the per-route series.  Call once, in the master, before fork.  Returns 0 or -1. */
int metrics_init(const char *const *route_names, size_t nroutes);

/* Count one answered request. Safe from any thread of any process. */
void metrics_record_request(size_t route, int status, int64_t duration_us, int64_t db_us,
                            unsigned db_queries);

/* Register `pid` in process slot `slot` (0 = master, 1.. = workers); 0 clears the slot.
 * The master calls this as it forks and reaps. */
void metrics_set_process(size_t slot, pid_t pid);

/* Add a worker's participant lists found in its cache and read from the database since it
 * last counted (the cache is per worker; each publishes its own). */
void metrics_count_lists(uint64_t found, uint64_t read);

/* Add a worker's database pages found in its page cache, read into it, and read past it, and
 * the times it was emptied and followed a checkpoint (store_page_cache_stats), since it last
 * counted. */
struct metrics_pages {
    uint64_t found, read, passed, emptied, checkpoints;
};
void metrics_count_pages(const struct metrics_pages *d);

/* Count a worker restart after an unexpected exit. */
void metrics_count_restart(void);

/* What the one writer lock has cost: the store keeps these (store_writer_lock_stats). */
struct metrics_writes {
    uint64_t taken, wait_us, held_us;
    int waiting;
};

/* The Prometheus text exposition, with the writer lock's series when `w` is not NULL;
 * malloc'd, NUL-terminated; caller frees. */
char *metrics_render(const struct metrics_writes *w);

#endif
