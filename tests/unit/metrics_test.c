/* metrics: the shared counters and their Prometheus text. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "metrics.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const route_names[] = {"unmatched", "GET /healthz", "POST /api/v1/users"};

/* Each Criterion test runs in its own process, so each maps fresh zeroed counters. */
Test(metrics, render_before_init_is_empty)
{
    metrics_record_request(1, 200, 10, 0, 0); /* ignored, no crash */
    metrics_count_restart();
    metrics_set_process(0, getpid());
    char *text = metrics_render(NULL);
    cr_expect(eq(str, text, ""));
    free(text);
}

Test(metrics, init_rejects_too_many_routes)
{
    cr_expect(eq(int, metrics_init(route_names, METRICS_MAX_ROUTES + 1), -1));
}

static const char *const want_lines[] = {
    "planner_http_requests_total{route=\"GET /healthz\",status=\"200\"} 3\n",
    "planner_http_requests_total{route=\"GET /healthz\",status=\"503\"} 1\n",
    "planner_http_requests_total{route=\"POST /api/v1/users\",status=\"other\"} 1\n",
    /* Buckets are cumulative; 250 us falls in le=0.00025, 251 us in the next. */
    "planner_http_request_duration_seconds_bucket{route=\"GET /healthz\",le=\"0.00025\"} 2\n",
    "planner_http_request_duration_seconds_bucket{route=\"GET /healthz\",le=\"0.0005\"} 3\n",
    "planner_http_request_duration_seconds_bucket{route=\"GET /healthz\",le=\"2.5\"} 3\n",
    "planner_http_request_duration_seconds_bucket{route=\"GET /healthz\",le=\"+Inf\"} 4\n",
    "planner_http_request_duration_seconds_sum{route=\"GET /healthz\"} 3.000601\n",
    "planner_http_request_duration_seconds_count{route=\"GET /healthz\"} 4\n",
    "planner_http_request_duration_seconds_count{route=\"POST /api/v1/users\"} 1\n",
    "planner_db_queries_total 12\n",
    "planner_db_seconds_total 0.001500\n",
    "planner_worker_restarts_total 2\n",
    "planner_participant_lists_found_total 7\n",
    "planner_participant_lists_read_total 2\n",
    "planner_page_cache_found_total 40\n",
    "planner_page_cache_read_total 6\n",
    "planner_page_cache_passed_total 1\n",
    "planner_page_cache_emptied_total 2\n",
    "planner_page_cache_checkpoints_total 7\n",
    "# TYPE planner_page_cache_found_total counter\n",
    "planner_processes 1\n",
    "# TYPE planner_http_requests_total counter\n",
    "# TYPE planner_http_request_duration_seconds histogram\n",
};

static const char *const unwanted[] = {
    "route=\"unmatched\"",          /* no traffic, no series */
    "status=\"418\"",               /* unknown statuses go to "other" */
};

Test(metrics, counts_and_renders)
{
    cr_assert(eq(int, metrics_init(route_names, ARRAY_LEN(route_names)), 0));
    metrics_record_request(1, 200, 100, 500, 3);
    metrics_record_request(1, 200, 250, 500, 3);
    metrics_record_request(1, 200, 251, 500, 3);
    metrics_record_request(1, 503, 3000000, 0, 0);
    metrics_record_request(2, 418, 10, 0, 3);
    metrics_record_request(3, 200, 10, 1000000, 1000); /* route out of range: ignored */
    metrics_count_restart();
    metrics_count_restart();
    metrics_count_lists(5, 2);
    metrics_count_pages(&(struct metrics_pages){30, 5, 1, 2, 3});
    metrics_count_pages(&(struct metrics_pages){10, 1, 0, 0, 4});
    metrics_count_lists(2, 0);
    metrics_set_process(0, getpid());
    metrics_set_process(METRICS_MAX_PROCS, getpid()); /* out of range: ignored */
    char *text = metrics_render(NULL);
    for (size_t i = 0; i < ARRAY_LEN(want_lines); i++)
        cr_expect(strstr(text, want_lines[i]) != NULL, "missing: %s", want_lines[i]);
    for (size_t i = 0; i < ARRAY_LEN(unwanted); i++)
        cr_expect(strstr(text, unwanted[i]) == NULL, "unexpected: %s", unwanted[i]);
    cr_expect(strstr(text, "planner_process_resident_memory_bytes{role=\"master\"") != NULL);
    free(text);

    /* A slot cleared with pid 0 is no longer reported. */
    metrics_set_process(0, 0);
    text = metrics_render(NULL);
    cr_expect(strstr(text, "planner_processes 0\n") != NULL);
    free(text);
}

/* Counters live in a shared mapping: a child's increments are seen by the parent. */

Test(metrics, shared_across_fork)
{
    cr_assert(eq(int, metrics_init(route_names, ARRAY_LEN(route_names)), 0));
    pid_t pid = fork();
    cr_assert(ge(int, pid, 0));
    if (pid == 0) {
        metrics_record_request(1, 204, 10, 0, 7);
        _exit(0);
    }
    int status;
    cr_assert(eq(int, waitpid(pid, &status, 0), pid));
    char *text = metrics_render(NULL);
    cr_expect(strstr(text, "planner_http_requests_total{route=\"GET /healthz\",status=\"204\"} 1\n")
              != NULL);
    cr_expect(strstr(text, "planner_db_queries_total 7\n") != NULL);
    free(text);
}

Test(metrics, writer_lock_series_only_when_given)
{
    cr_assert(eq(int, metrics_init(route_names, ARRAY_LEN(route_names)), 0));
    char *text = metrics_render(NULL);
    cr_expect(strstr(text, "planner_writer_lock") == NULL);
    free(text);
    struct metrics_writes w = {.taken = 12, .wait_us = 1500, .held_us = 2250001, .waiting = 3};
    text = metrics_render(&w);
    cr_expect(strstr(text, "\nplanner_writer_lock_taken_total 12\n") != NULL);
    cr_expect(strstr(text, "\nplanner_writer_lock_wait_seconds_total 0.001500\n") != NULL);
    cr_expect(strstr(text, "\nplanner_writer_lock_held_seconds_total 2.250001\n") != NULL);
    cr_expect(strstr(text, "\n# TYPE planner_writer_lock_waiting gauge\nplanner_writer_lock_waiting 3\n") !=
              NULL);
    free(text);
}
