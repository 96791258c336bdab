/* The prefork master of `planner serve`: binds the listening socket, prepares the database,
 * forks the worker processes that share the socket, restarts a worker that dies, reloads on
 * SIGHUP, drains on SIGTERM, and speaks sd_notify (READY, RELOADING, STOPPING, WATCHDOG). */
#ifndef PLANNER_WORKER_SUPERVISOR_H
#define PLANNER_WORKER_SUPERVISOR_H

#include "config.h"

/* Run the server with `cfg` until SIGTERM/SIGINT.  `flags` are the command-line settings,
 * kept to rebuild the configuration on SIGHUP.  Returns the exit status: 0 after a clean
 * stop, 1 when the socket or database cannot be set up. */
int worker_supervisor_serve(struct config *cfg, const struct config_flags *flags);

#endif
