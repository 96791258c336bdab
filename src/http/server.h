/* One worker process's HTTP server: cfg->threads libmicrohttpd daemons in epoll mode, one
 * thread each with its own database connection, fed by one thread that accepts from the
 * worker's listening socket and hands each connection to the daemon with the fewest. */
#ifndef PLANNER_HTTP_SERVER_H
#define PLANNER_HTTP_SERVER_H

#include <stddef.h>

struct config;

/* Serve on `listen_fd` until SIGTERM or SIGINT (or the parent process going away), then
 * drain: stop accepting, let in-flight requests finish for up to cfg->drain_timeout_s, and
 * stop.  The caller has blocked SIGTERM, SIGINT and SIGHUP in every thread.  Returns the
 * process exit status (0 after a clean drain). */
int http_server_run(const struct config *cfg, int listen_fd);

/* The route names for metrics, index 0 = "unmatched", then the API routes in table order. */
const char *const *http_server_route_names(size_t *n);

#endif
