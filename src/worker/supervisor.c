/* The master process.  It never serves a request and never holds a database connection once
 * the workers run, so a worker crash costs only that worker's in-flight requests. */
#define _DEFAULT_SOURCE /* SO_REUSEPORT */
#include "worker/supervisor.h"

#include "clock.h"
#include "core/user.h"
#include "http/router.h"
#include "http/server.h"
#include "log.h"
#include "metrics.h"
#include "secret.h"
#include "store/store.h"
#include "store/users.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

/* A worker that dies younger than this is replaced only after this long: a worker that
 * crashes at start-up (bad database, bug on the first request) must not fork-loop. */
#define RESTART_BACKOFF_US 1000000

struct child {
    pid_t pid;     /* 0 = free slot */
    bool retiring; /* sent SIGTERM on reload or stop: its exit is expected */
    size_t position; /* which of the listening sockets it accepts on */
    int64_t started_us;
};

/* Slot i is metrics process slot i + 1 (slot 0 is the master). */
static struct child children[METRICS_MAX_PROCS - 1];
#define NSLOTS (sizeof children / sizeof children[0])

/* The listening sockets, one per worker position, all bound to one address with
 * SO_REUSEPORT: the kernel spreads new connections evenly over them by a hash of the
 * connection's addresses.  With one socket shared by all, whichever worker woke first took
 * a burst of connections, and keep-alive kept the split for their lives (bench, 64
 * connections: 64 / 0, 49 / 15, 53 / 11 in five runs).  The master owns them, so a
 * connection that arrives while a worker restarts waits in its socket's queue for the
 * replacement rather than being refused.  -1 = closed. */
static int listeners[NSLOTS];
static size_t nlisteners; /* positions 0 .. nlisteners - 1 may be open */
static struct sockaddr_storage bound_addr; /* the first socket's, with the port it got */
static socklen_t bound_len;

static int bind_one(const struct sockaddr *sa, socklen_t len)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1, flags;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        bind(fd, sa, len) < 0 || listen(fd, 1024) < 0 || (flags = fcntl(fd, F_GETFL)) < 0 ||
        fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Bind the first socket to `addr` ("host:port", port 0 = any free one) and write the
 * address it got to `bound`. */
static int listen_first(const char *addr, char *bound, size_t bound_size)
{
    char host[128];
    const char *colon = strrchr(addr, ':');
    size_t hlen = (size_t)(colon - addr);
    if (hlen >= sizeof host)
        return -1;
    memcpy(host, addr, hlen);
    host[hlen] = '\0';
    if (host[0] == '[' && hlen >= 2 && host[hlen - 1] == ']') {
        memmove(host, host + 1, hlen - 2);
        host[hlen - 2] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int gai = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
    if (gai != 0) {
        log_msg(LOG_ERROR, "listen %s: %s", addr, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = bind_one(ai->ai_addr, ai->ai_addrlen);
        if (fd < 0)
            log_msg(LOG_ERROR, "listen %s: %s", addr, strerror(errno));
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    char h[64], p[16];
    bound_len = sizeof bound_addr;
    if (getsockname(fd, (struct sockaddr *)&bound_addr, &bound_len) < 0 ||
        getnameinfo((struct sockaddr *)&bound_addr, bound_len, h, sizeof h, p, sizeof p,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        log_msg(LOG_ERROR, "listen %s: cannot read the bound address", addr);
        close(fd);
        return -1;
    }
    snprintf(bound, bound_size, "%s:%s", h, p);
    listeners[0] = fd;
    nlisteners = 1;
    return 0;
}

/* Open position `pos`'s socket if it is closed. */
static int listen_open(size_t pos)
{
    if (listeners[pos] >= 0)
        return 0;
    int fd = bind_one((struct sockaddr *)&bound_addr, bound_len);
    if (fd < 0) {
        log_msg(LOG_ERROR, "cannot open listening socket %zu: %s", pos + 1, strerror(errno));
        return -1;
    }
    listeners[pos] = fd;
    return 0;
}

/* Close position `pos`'s socket.  The connections still queued in it are refused, unless
 * the kernel moves them to the other sockets (net.ipv4.tcp_migrate_req: docs/architecture.md). */
static void listen_shut(size_t pos)
{
    if (listeners[pos] >= 0)
        close(listeners[pos]);
    listeners[pos] = -1;
}

static void listen_close(void)
{
    for (size_t pos = 0; pos < nlisteners; pos++)
        listen_shut(pos);
    nlisteners = 0;
}

/* Migrations run before READY=1, and systemd stops a service that takes longer than its
 * start-up timeout (90 s by default) to get there; the restarted server would begin the
 * migration again, each time.  Migration 011 took 339 s on W200 x100.  So each migration, and
 * every 10 s within one, extends that timeout by a minute (a no-op outside systemd). */
#define MIGRATION_EXTEND_US (60 * 1000000)
#define MIGRATION_NOTIFY_EVERY_US (10 * 1000000)
struct migration_notify {
    const char *name;
    int64_t sent_us;
};

static void extend_start_timeout(void *arg, const char *name)
{
    struct migration_notify *n = arg;
    int64_t now = clock_mono_us();
    if (name == n->name && now - n->sent_us < MIGRATION_NOTIFY_EVERY_US)
        return;
    n->name = name;
    n->sent_us = now;
    /* Its result says only whether anything listens. */
    (void)sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%d\nSTATUS=applying migration %s",
                     MIGRATION_EXTEND_US, name);
}

/* Migrate, and on a database with no administrator create one with a random password,
 * printed once on stdout. */
static int prepare_database(const struct config *cfg)
{
    struct pl_error err = {0};
    struct store *db = store_open(cfg->database, &err);
    int applied = 0, rc = -1;
    int64_t admins = 0;
    if (db == NULL) {
        log_msg(LOG_ERROR, "database: %s", err.detail);
        return -1;
    }
    struct migration_notify notify = {0};
    if (store_migrate_progress(db, extend_start_timeout, &notify, &applied, &err) < 0 ||
        store_users_count_admins(db, &admins, &err) < 0) {
        log_msg(LOG_ERROR, "database: %s", err.detail);
        goto out;
    }
    if (admins == 0) {
        char password[25], hash[SECRET_PWHASH_MAX];
        struct user u = {.email = "admin@planner.local", .name = "Administrator",
                         .role = USER_ROLE_ADMIN, .time_zone = "UTC"};
        secret_password_new(password);
        if (secret_password_hash(password, cfg->pwhash, hash) < 0 ||
            store_users_create(db, &u, hash, clock_now_us(), &err) < 0) {
            log_msg(LOG_ERROR, "cannot create the first administrator: %s", err.detail);
            goto out;
        }
        printf("planner: created the first administrator %s with password %s"
               " (shown once: change it)\n", u.email, password);
        fflush(stdout);
    }
    rc = 0;
out:
    store_close(db);
    return rc;
}

static void spawn(const struct config *cfg, size_t slot, size_t position)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_msg(LOG_ERROR, "fork: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        log_init(cfg->log_level, "worker");
        int fd = listeners[position];
        for (size_t i = 0; i < nlisteners; i++)
            if (i != position && listeners[i] >= 0)
                close(listeners[i]);
        exit(http_server_run(cfg, fd));
    }
    children[slot] = (struct child){.pid = pid, .position = position,
                                    .started_us = clock_mono_us()};
    metrics_set_process(slot + 1, pid);
}

/* No replacement starts before this (monotonic us); see RESTART_BACKOFF_US. */
static int64_t restart_not_before;

static bool position_served(size_t pos)
{
    for (size_t i = 0; i < NSLOTS; i++)
        if (children[i].pid != 0 && !children[i].retiring && children[i].position == pos)
            return true;
    return false;
}

/* Keep one live, non-retiring worker on each of `want` sockets, in the lowest free slots,
 * unless a recent early death holds replacements back: meanwhile the connections hashed to
 * the dead worker's socket wait in its queue.  Sockets past `want` (a reload lowered the
 * count) are closed. */
static void fill(const struct config *cfg, size_t want)
{
    if (want > NSLOTS)
        want = NSLOTS;
    for (size_t pos = want; pos < nlisteners; pos++)
        listen_shut(pos);
    for (size_t pos = nlisteners; pos < want; pos++)
        listeners[pos] = -1;
    nlisteners = want;
    if (clock_mono_us() < restart_not_before)
        return;
    for (size_t pos = 0; pos < want; pos++) {
        size_t slot = 0;
        while (slot < NSLOTS && children[slot].pid != 0)
            slot++;
        if (!position_served(pos) && slot < NSLOTS && listen_open(pos) == 0)
            spawn(cfg, slot, pos);
    }
}

static void reap(bool stopping)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < NSLOTS; i++) {
            if (children[i].pid != pid)
                continue;
            bool expected = stopping || children[i].retiring;
            if (!expected) {
                if (WIFSIGNALED(status))
                    log_msg(LOG_ERROR, "worker %d killed by signal %d; restarting", (int)pid,
                            WTERMSIG(status));
                else
                    log_msg(LOG_ERROR, "worker %d exited with status %d; restarting", (int)pid,
                            WEXITSTATUS(status));
                metrics_count_restart();
                if (clock_mono_us() - children[i].started_us < RESTART_BACKOFF_US)
                    restart_not_before = clock_mono_us() + RESTART_BACKOFF_US;
            }
            children[i] = (struct child){0};
            metrics_set_process(i + 1, 0);
        }
    }
}

static int live_children(void)
{
    int n = 0;
    for (size_t i = 0; i < NSLOTS; i++)
        n += children[i].pid != 0;
    return n;
}

static void signal_all(int sig, bool mark_retiring)
{
    for (size_t i = 0; i < NSLOTS; i++) {
        if (children[i].pid == 0)
            continue;
        if (mark_retiring)
            children[i].retiring = true;
        kill(children[i].pid, sig);
    }
}

static void reload(struct config *cfg, const struct config_flags *flags)
{
    char why[512];
    struct config next;
    sd_notify(0, "RELOADING=1");
    if (config_build(&next, flags, why, sizeof why) < 0) {
        log_msg(LOG_ERROR, "reload refused, keeping the running configuration: %s", why);
    } else {
        if (strcmp(next.listen, cfg->listen) != 0 || strcmp(next.database, cfg->database) != 0) {
            log_msg(LOG_WARN, "listen and database changes need a restart; keeping %s and %s",
                    cfg->listen, cfg->database);
            memcpy(next.listen, cfg->listen, sizeof next.listen);
            memcpy(next.database, cfg->database, sizeof next.database);
        }
        *cfg = next;
        log_init(cfg->log_level, "master");
        /* Replace every worker: the old ones drain while the new ones, which share the
         * socket, already accept. */
        signal_all(SIGTERM, true);
        log_msg(LOG_INFO, "configuration reloaded; replacing workers");
    }
    sd_notify(0, "READY=1");
}

static void stop(const struct config *cfg)
{
    sd_notify(0, "STOPPING=1");
    log_msg(LOG_INFO, "stopping: draining workers");
    signal_all(SIGTERM, true);
    int64_t deadline = clock_mono_us() + ((int64_t)cfg->drain_timeout_s + 5) * 1000000;
    while (live_children() > 0 && clock_mono_us() < deadline) {
        struct timespec ms20 = {0, 20 * 1000 * 1000};
        nanosleep(&ms20, NULL);
        reap(true);
    }
    if (live_children() > 0) {
        log_msg(LOG_WARN, "workers still running after the drain deadline; killing them");
        signal_all(SIGKILL, true);
        while (live_children() > 0 && waitpid(-1, NULL, 0) > 0)
            reap(true);
    }
}

int worker_supervisor_serve(struct config *cfg, const struct config_flags *flags)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL); /* workers inherit the mask: they sigwait too */
    signal(SIGPIPE, SIG_IGN);

    char bound[96] = "";
    if (listen_first(cfg->listen, bound, sizeof bound) < 0)
        return 1;
    if (prepare_database(cfg) < 0 || secret_prepare_dummy(cfg->pwhash) < 0) {
        listen_close();
        return 1;
    }
    /* Migrations and the argon2id dummy hash leave freed heap behind; give it back before the
     * workers are forked, or every worker starts with a copy of it in its RSS. */
    (void)malloc_trim(0); /* says only whether anything was released */
    size_t nroutes;
    const char *const *routes = http_server_route_names(&nroutes);
    if (metrics_init(routes, nroutes) < 0) {
        log_msg(LOG_ERROR, "cannot map the metrics segment");
        listen_close();
        return 1;
    }
    if (store_share_writer_lock() < 0) {
        log_msg(LOG_ERROR, "cannot make the writers' shared lock");
        listen_close();
        return 1;
    }
    metrics_set_process(0, getpid());

    int nworkers = config_worker_count(cfg);
    /* Each lane and each side thread (http/server.c) owns one connection at most: the total is
     * known before the first request. */
    log_msg(LOG_INFO,
            "listening on %s with %d workers x (%d threads + %d side threads) = %d database"
            " connections",
            bound, nworkers, cfg->threads, HTTP_SIDES - 1,
            nworkers * (cfg->threads + HTTP_SIDES - 1));
    fill(cfg, (size_t)nworkers);
    sd_notifyf(0, "READY=1\nSTATUS=serving on %s\nMAINPID=%d", bound, (int)getpid());

    uint64_t wd_usec = 0;
    int64_t wd_every = sd_watchdog_enabled(0, &wd_usec) > 0 ? (int64_t)wd_usec / 2 : 0;
    int64_t wd_next = clock_mono_us();
    for (;;) {
        int64_t wait_us = 1000000, held = restart_not_before - clock_mono_us();
        if (held > 0 && held < wait_us) /* a held-back restart is due before the tick */
            wait_us = held > 1000 ? held : 1000;
        if (wd_every > 0) {
            int64_t now = clock_mono_us();
            if (now >= wd_next) {
                sd_notify(0, "WATCHDOG=1");
                wd_next = now + wd_every;
            }
            if (wd_next - now < wait_us)
                wait_us = wd_next - now > 1000 ? wd_next - now : 1000;
        }
        struct timespec ts = {wait_us / 1000000, (wait_us % 1000000) * 1000};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT)
            break;
        if (sig == SIGHUP)
            reload(cfg, flags);
        reap(false);
        fill(cfg, (size_t)config_worker_count(cfg));
    }
    stop(cfg);
    listen_close();
    log_msg(LOG_INFO, "stopped");
    return 0;
}
