/* The libmicrohttpd wrapper: connection set-up, limits, body reading, dispatch to api/,
 * response headers, the access log, metrics and the graceful drain.
 *
 * libmicrohttpd calls the access handler several times per request: first with the headers,
 * then once per piece of body, then with *upload_data_size == 0.  The response is queued on
 * that last call (queuing on the first one loses keep-alive), except for errors found in the
 * headers, which answer at once and close the connection. */
#define _GNU_SOURCE /* accept4 */
#include "http/server.h"

#include "api/api.h"
#include "arena.h"
#include "clock.h"
#include "config.h"
#include "core/user.h"
#include "http/request.h"
#include "http/router.h"
#include "log.h"
#include "metrics.h"
#include "secret.h"
#include "store/events.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* Per-process state the signal-driven drain and the pool threads share (STYLE.md R9's
 * allowed exceptions: the shutdown flag and counters). */
/* How long a draining worker keeps connections that have no request yet. */
#define DRAIN_GRACE_US 2000000
/* How long, past the drain, the lanes have to send what the side thread answered last. */
#define DRAIN_RESUMED_US 500000

/* A chunked body is read and dropped up to this many times the body cap before the
 * connection is closed without an answer. */
#define BODY_DISCARD_FACTOR 4

static atomic_bool draining;
static atomic_int in_flight;
/* Requests begun (on_uri) and not all received yet (their head, or their body), and when a
 * request last began or a body last grew.  A drain waits for these only while they arrive: a
 * client that went away mid-request (libmicrohttpd 0.9.75 in epoll mode can miss the end of
 * a connection whose FIN came with its last bytes, and then waits for the rest until the
 * connection's idle timeout) held every drain for its whole timeout.  in_flight counts the
 * requests received whole, or answered early. */
static atomic_int arriving;
static _Atomic int64_t last_arrival_us;

/* A byte of a request arrived.  Only the drain reads the time, and only arrivals after it
 * began (its grace outlasts any earlier one), so the requests of a server at work do not all
 * write the one shared value. */
static void note_arrival(void)
{
    if (atomic_load_explicit(&draining, memory_order_relaxed))
        atomic_store_explicit(&last_arrival_us, clock_mono_us(), memory_order_relaxed);
}

/* rq has all arrived (or is answered before it has): from `arriving` to in_flight. */
static void received(struct http_request *rq)
{
    if (rq->received)
        return;
    rq->received = true;
    atomic_fetch_add(&in_flight, 1);
    atomic_fetch_sub(&arriving, 1);
}

static pthread_key_t db_key;
static pthread_once_t db_key_once = PTHREAD_ONCE_INIT;

static void close_thread_db(void *db)
{
    store_close(db);
}

static void make_db_key(void)
{
    if (pthread_key_create(&db_key, close_thread_db) != 0)
        abort();
}

/* This pool thread's database connection, opened on its first request. */
static struct store *thread_db(const struct config *cfg)
{
    struct store *db = pthread_getspecific(db_key);
    if (db == NULL) {
        struct pl_error err = {0};
        db = store_open(cfg->database, &err);
        if (db == NULL) {
            log_msg(LOG_ERROR, "database: %s", err.detail);
            return NULL;
        }
        /* A mapping, or else the worker's page cache (docs/operations.md has both). */
        int rc = cfg->sqlite_mmap_mb > 0  ? store_mmap(db, cfg->sqlite_mmap_mb, &err)
                 : cfg->page_cache_mb > 0 ? store_page_cache(db, cfg->page_cache_mb, &err)
                                          : PL_OK;
        if (rc < 0) {
            log_msg(LOG_ERROR, "database: %s", err.detail);
            store_close(db);
            return NULL;
        }
        if (pthread_setspecific(db_key, db) != 0) {
            store_close(db);
            return NULL;
        }
    }
    return db;
}

static const char **route_names;
static size_t nroute_names;

const char *const *http_server_route_names(size_t *n)
{
    if (route_names == NULL) {
        nroute_names = api_nroutes + 1;
        route_names = xcalloc(nroute_names, sizeof *route_names);
        route_names[0] = "unmatched";
        for (size_t i = 0; i < api_nroutes; i++)
            route_names[i + 1] = api_routes[i].name;
    }
    *n = nroute_names;
    return route_names;
}

static void client_address(struct http_request *rq)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(rq->client_addr, sizeof rq->client_addr, "unknown");
    if (ci != NULL && ci->client_addr != NULL) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                      rq->client_addr, sizeof rq->client_addr);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                      rq->client_addr, sizeof rq->client_addr);
    }
    if (!rq->cfg->trust_proxy)
        return;
    /* Behind nginx ($proxy_add_x_forwarded_for) the last entry is the peer nginx saw. */
    const char *xff = http_header(rq, "X-Forwarded-For");
    if (xff == NULL)
        return;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ')
        last++;
    unsigned char buf[sizeof(struct in6_addr)];
    char addr[64];
    snprintf(addr, sizeof addr, "%s", last);
    addr[strcspn(addr, " ")] = '\0';
    if (inet_pton(AF_INET, addr, buf) == 1 || inet_pton(AF_INET6, addr, buf) == 1)
        snprintf(rq->client_addr, sizeof rq->client_addr, "%s", addr);
}

/* Right after on_uri, libmicrohttpd 0.9.75 makes a record for each query parameter in the
 * connection's memory (whose size start_lane sets).  When they do not fit, it queues its
 * own 431 and then overwrites the state that would send it
 * (parse_initial_message_line sets MHD_CONNECTION_URL_RECEIVED after a failed
 * connection_add_header): the connection hangs unanswered until its timeout and the request
 * counts in flight, so a drain waits for it.  400 parameters in a 1.6 KB target did that.  A
 * query with more parameters than any route takes, or in a target too long to serve, is cut
 * here, in the buffer libmicrohttpd hands this callback (its own, writable: `uri` is const
 * only in the callback's type), so that it parses none; check_headers answers.  The pool has
 * room for HTTP_QUERY_PARAMS_MAX records (start_lane). */
static void cut_query(struct http_request *rq, const char *uri)
{
    char *q = strchr(uri, '?');
    if (q == NULL)
        return;
    size_t params = 1;
    for (const char *p = q + 1; *p != '\0'; p++)
        params += *p == '&';
    if (params > HTTP_QUERY_PARAMS_MAX) {
        rq->query_cut = true;
        q[1] = '\0';
    } else if (rq->uri_too_long) {
        q[1] = '\0';
    }
}

/* Called by libmicrohttpd as soon as the request line is read: the request starts here. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    const struct config *cfg = cls;
    struct arena *a = arena_new(4096);
    struct http_request *rq = arena_zalloc(a, sizeof *rq);
    rq->arena = a;
    rq->conn = conn;
    rq->cfg = cfg;
    rq->started_us = clock_mono_us();
    rq->now_us = clock_now_us();
    rq->uri_too_long = strlen(uri) > (size_t)cfg->max_url_bytes;
    cut_query(rq, uri);
    atomic_fetch_add(&arriving, 1);
    note_arrival();
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    rq->pending = ci != NULL ? ci->socket_context : NULL;
    if (rq->pending != NULL)
        *rq->pending = rq;
    return rq;
}

struct header_sum {
    size_t bytes;
};

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    (void)kind;
    struct header_sum *s = cls;
    s->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

static enum MHD_Result find_nul_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    char *bad = cls;
    if ((value != NULL && strlen(value) != value_size) || strlen(key) != key_size) {
        snprintf(bad, 64, "%.63s", key_size ? key : "?");
        return MHD_NO;
    }
    return MHD_YES;
}

/* Checks that need only the request line and headers.  Answers and returns false on a
 * violation. */
static bool check_headers(struct http_request *rq)
{
    if (rq->uri_too_long) {
        http_fail(rq, 414, NULL, "the request target is longer than %d bytes",
                  rq->cfg->max_url_bytes);
        return false;
    }
    if (rq->query_cut) {
        http_fail(rq, 400, NULL, "the query has more than %d parameters", HTTP_QUERY_PARAMS_MAX);
        return false;
    }
    struct header_sum sum = {0};
    MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, add_header_size, &sum);
    if (sum.bytes > (size_t)rq->cfg->max_header_bytes) {
        http_fail(rq, 431, NULL, "the request headers exceed %d bytes", rq->cfg->max_header_bytes);
        return false;
    }
    char bad_arg[64] = "";
    MHD_get_connection_values_n(rq->conn, MHD_GET_ARGUMENT_KIND, find_nul_arg, bad_arg);
    if (bad_arg[0] != '\0') {
        /* The handlers read arguments as C strings: a %00 would silently cut the value. */
        http_fail(rq, 422, bad_arg, "must not contain NUL characters");
        return false;
    }
    const char *cl = http_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno == 0 && *end == '\0' && n > (unsigned long long)rq->cfg->max_body_bytes) {
            http_fail(rq, 413, NULL, "the body is larger than %ld bytes", rq->cfg->max_body_bytes);
            return false;
        }
    }
    return true;
}

/* Find the request's route (rq->route); false, with the answer (404 or 405) set, if none. */
static bool match_route(struct http_request *rq)
{
    const char *allow = NULL;
    switch (http_route_match(api_routes, api_nroutes, rq->method, rq->path, rq->arena,
                             &rq->route, rq->params, &allow)) {
    case HTTP_MATCH_NO_PATH:
        http_fail(rq, 404, NULL, "no resource at %s", http_printable(rq->arena, rq->path, 200));
        return false;
    case HTTP_MATCH_NO_METHOD:
        rq->allow = allow;
        http_fail(rq, 405, NULL, "%s is not allowed here; allowed: %s",
                  http_printable(rq->arena, rq->method, 16), allow);
        return false;
    case HTTP_MATCH_OK:
        break;
    }
    return true;
}

static void serve_route(struct http_request *rq);

/* Answer a request whose route is found; whatever path it took, no statement of this
 * thread's connection stays open after it (an open read would pin an old snapshot of the
 * database for the thread's next requests). */
static void serve(struct http_request *rq)
{
    serve_route(rq);
    if (rq->db != NULL)
        store_release(rq->db);
}

static void serve_route(struct http_request *rq)
{
    rq->db = thread_db(rq->cfg);
    if (rq->db != NULL)
        store_stats_reset(rq->db);
    if (rq->route->access != HTTP_PUBLIC) {
        struct pl_error err = {0};
        if (rq->db == NULL) {
            http_fail(rq, 503, NULL, "the database is unavailable");
            return;
        }
        /* One snapshot for the request's reads, until it writes (store_begin) or ends. */
        if (store_snapshot(rq->db, &err) < 0) {
            http_reply_error(rq, &err);
            return;
        }
        if (api_authenticate(rq, &err) < 0) {
            http_reply_error(rq, &err);
            return;
        }
        if (rq->route->access == HTTP_ADMIN && rq->role != USER_ROLE_ADMIN) {
            http_fail(rq, 403, NULL, "this needs an administrator");
            return;
        }
    }
    if (rq->route->access != HTTP_PUBLIC && api_idempotency_begin(rq))
        return;
    if (rq->extend_to == 0) {
        rq->may_extend_first = true;
        rq->route->handler(rq);
    }
    /* The recurring series must be extended first, which can take seconds (minutes at W200
     * x100): not on a lane, whose other connections would wait as long.  Left unanswered,
     * on_request hands it to the side thread for such work, which comes back here. */
    if (rq->extend_to != 0 && !rq->extend_here) {
        http_reply_reset(rq);
        /* Claimed again where it runs, so that a refusal there (a full queue, the end of a
         * drain) leaves no key held. */
        api_idempotency_release(rq);
        return;
    }
    if (api_extend_pending(rq))
        rq->route->handler(rq);
    if (rq->route->access != HTTP_PUBLIC)
        api_idempotency_end(rq);
    if (rq->status == 0) {
        log_msg(LOG_ERROR, "handler for %s gave no answer", rq->route->name);
        http_fail(rq, 500, NULL, "internal error");
    }
}

/* The request's statements and their time: from its thread's connection, or as the side
 * thread left them. */
static void db_stats(const struct http_request *rq, unsigned *queries, int64_t *db_us)
{
    *queries = rq->side_queries;
    *db_us = rq->side_db_us;
    if (rq->db != NULL)
        store_stats_get(rq->db, queries, db_us);
}

static enum MHD_Result queue(struct http_request *rq)
{
    struct MHD_Response *r;
    if (rq->resp_body != NULL) {
        r = MHD_create_response_from_buffer(rq->resp_len, rq->resp_body, MHD_RESPMEM_MUST_FREE);
        if (r != NULL)
            rq->resp_body = NULL; /* libmicrohttpd frees it now */
    } else {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    if (r == NULL)
        return MHD_NO;
    if (rq->resp_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rq->resp_type);
    MHD_add_response_header(r, "X-Request-Id", rq->request_id);
    if (rq->etag)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, rq->etag);
    if (rq->location)
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, rq->location);
    if (rq->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rq->allow);
    if (rq->replayed)
        MHD_add_response_header(r, "Idempotent-Replayed", "true");
    if (rq->status == 401)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"planner\"");
    char buf[160];
    if (rq->retry_after_s > 0) {
        snprintf(buf, sizeof buf, "%d", rq->retry_after_s);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, buf);
    }
    unsigned queries;
    int64_t db_us;
    db_stats(rq, &queries, &db_us);
    /* Milliseconds with three decimals, from whole microseconds: no floating-point printf
     * (0.8 % of the server's CPU at 100 requests/s, perf). */
    int64_t total_us = clock_mono_us() - rq->started_us;
    db_us = db_us > 0 ? db_us : 0;
    total_us = total_us > 0 ? total_us : 0;
    snprintf(buf, sizeof buf, "db;dur=%lld.%03lld;desc=\"%u queries\", total;dur=%lld.%03lld",
             (long long)(db_us / 1000), (long long)(db_us % 1000), queries,
             (long long)(total_us / 1000), (long long)(total_us % 1000));
    MHD_add_response_header(r, "Server-Timing", buf);
    if (rq->resp_type && strncmp(rq->path ? rq->path : "", "/api/", 5) == 0)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (atomic_load(&draining))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(rq->conn, (unsigned)rq->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* ---- the side threads ---------------------------------------------------------------------
 * A few requests take far longer than the rest: a login checks an argon2id hash (~110 ms of
 * CPU at the default cost, with 64 MB), setting a password makes one, an import parses and
 * writes up to max_body_bytes of iCalendar.  A lane answers its connections one request at a
 * time, so on a lane such a request held up every other connection of the lane for as long.
 * Routes marked `slow` (api/routes.c) run on a thread of the worker's own instead, one for
 * each kind (enum http_side), so that a login never waits behind a large import: the lane
 * suspends the connection (libmicrohttpd's MHD_suspend_connection) and queues the request;
 * the side thread answers it on a database connection of its own (opened at its first
 * request) and resumes the connection, and libmicrohttpd calls on_request again on the lane,
 * which sends the answer.  One thread for the hashes also bounds what they take at once:
 * 64 MB per worker, not per thread.  Past a quarter of the worker's connections waiting for
 * one side thread (256 by default), a slow request of its kind is turned away with a 503
 * rather than queued for minutes. */
#define SIDE_RETRY_AFTER_S 1

struct side {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct http_request *head, *tail; /* waiting, oldest first, linked by side_next */
    int waiting, max_waiting;
    bool stop;    /* set once, at the end of the drain: refuse what waits, then end */
    bool running; /* the thread runs: set before the lanes start, cleared after they stop */
    pthread_t thread;
};

/* The queue's lock is a default mutex, taken by its owner's threads only: locking it cannot
 * fail, so its results are not looked at here. */
static void *side_loop(void *arg)
{
    struct side *s = arg;
    (void)pthread_mutex_lock(&s->lock);
    for (;;) {
        while (s->head == NULL && !s->stop)
            (void)pthread_cond_wait(&s->wake, &s->lock);
        struct http_request *rq = s->head;
        if (rq == NULL)
            break; /* stopping, nothing left */
        s->head = rq->side_next;
        if (s->head == NULL)
            s->tail = NULL;
        s->waiting--;
        bool refuse = s->stop;
        (void)pthread_mutex_unlock(&s->lock);
        struct MHD_Connection *conn = rq->conn;
        rq->extend_here = true; /* a request that needs the series extended is extended here */
        /* Anything still waiting once the drain is over is past its timeout: answered at
         * once, not run (a drain that ends in time has nothing here: in_flight counts it). */
        if (refuse)
            http_fail(rq, 503, NULL, "the server is stopping");
        else
            serve(rq);
        /* The connection is this thread's: the lane must not look at it (the next request
         * resets it, and it is closed when this thread ends). */
        if (rq->db != NULL) {
            store_stats_get(rq->db, &rq->side_queries, &rq->side_db_us);
            rq->db = NULL;
        }
        /* From here the lane owns rq again (it may answer and free it at once). */
        MHD_resume_connection(conn);
        (void)pthread_mutex_lock(&s->lock);
    }
    (void)pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Hand a slow request to the side thread, suspending its connection (called on its lane,
 * from on_request); false if it must be answered on the lane: no side thread, or one that is
 * stopping, or a full queue (then the answer, a 503, is set). */
static bool side_take(struct side *s, struct http_request *rq)
{
    if (!s->running || pthread_mutex_lock(&s->lock) != 0)
        return false;
    bool full = !s->stop && s->waiting >= s->max_waiting, taken = !s->stop && !full;
    if (taken) {
        MHD_suspend_connection(rq->conn);
        rq->side_next = NULL;
        if (s->tail != NULL)
            s->tail->side_next = rq;
        else
            s->head = rq;
        s->tail = rq;
        s->waiting++;
        (void)pthread_cond_signal(&s->wake);
    }
    (void)pthread_mutex_unlock(&s->lock);
    if (full) {
        rq->retry_after_s = SIDE_RETRY_AFTER_S;
        http_fail(rq, 503, NULL, "too many slow requests are waiting; try again shortly");
    }
    return taken;
}

/* Before the lanes start; false (slow requests then run on their lanes) if it cannot. */
static bool side_start(struct side *s, const struct config *cfg)
{
    *s = (struct side){.max_waiting = cfg->max_connections / 4 > 0 ? cfg->max_connections / 4 : 1};
    if (pthread_mutex_init(&s->lock, NULL) != 0)
        return false;
    if (pthread_cond_init(&s->wake, NULL) != 0) {
        (void)pthread_mutex_destroy(&s->lock);
        return false;
    }
    s->running = pthread_create(&s->thread, NULL, side_loop, s) == 0;
    if (!s->running) {
        (void)pthread_cond_destroy(&s->wake);
        (void)pthread_mutex_destroy(&s->lock);
    }
    return s->running;
}

/* End the thread, once what it runs is answered and what waits refused; the lanes, still
 * running, serve any slow request that comes after on their own.  False if it could not be
 * joined. */
static bool side_stop(struct side *s)
{
    if (!s->running)
        return true;
    if (pthread_mutex_lock(&s->lock) != 0)
        return false;
    s->stop = true;
    (void)pthread_cond_signal(&s->wake);
    (void)pthread_mutex_unlock(&s->lock);
    return pthread_join(s->thread, NULL) == 0;
}

/* After the lanes have stopped (nothing looks at it any more). */
static void side_free(struct side *s)
{
    if (!s->running)
        return;
    s->running = false;
    (void)pthread_cond_destroy(&s->wake);
    (void)pthread_mutex_destroy(&s->lock);
}

/* The worker's side threads, one for each kind of slow route; sides[HTTP_SIDE_NONE] is never
 * started, so that a route of that kind stays on its lane.  A kind whose thread cannot start
 * runs on the lanes too (logged). */
static void sides_start(struct side sides[HTTP_SIDES], const struct config *cfg)
{
    sides[HTTP_SIDE_NONE] = (struct side){0};
    for (int k = HTTP_SIDE_NONE + 1; k < HTTP_SIDES; k++)
        if (!side_start(&sides[k], cfg))
            log_msg(LOG_WARN, "no side thread for kind %d: its requests run on the lanes", k);
}

/* Stop every side thread (each as side_stop); false if one could not be joined. */
static bool sides_stop(struct side sides[HTTP_SIDES])
{
    bool all = true;
    for (int k = HTTP_SIDE_NONE + 1; k < HTTP_SIDES; k++)
        all = side_stop(&sides[k]) && all;
    return all;
}

static void sides_free(struct side sides[HTTP_SIDES])
{
    for (int k = HTTP_SIDE_NONE + 1; k < HTTP_SIDES; k++)
        side_free(&sides[k]);
}

/* Whether the request asks for a 100 Continue (HTTP/1.1 only) but its framing says it has no
 * body, which RFC 9110 (10.1.1) forbids a client to send, and for which a server may skip the
 * 100.  libmicrohttpd 0.9.75 sends it, and then, if the client's next request is already in
 * its buffer, calls the handler again as if for more body and refuses the answer queued
 * there: the connection closed with nothing but the 100.  Answered at the first call instead,
 * no 100 is sent. */
static bool continue_without_body(struct http_request *rq, const char *version)
{
    const char *expect = http_header(rq, MHD_HTTP_HEADER_EXPECT),
               *length = http_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return expect != NULL && strcasecmp(expect, "100-continue") == 0 &&
           strncmp(version, "HTTP/1.", 7) == 0 && strcmp(version, "HTTP/1.0") != 0 &&
           http_header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING) == NULL &&
           (length == NULL || strcmp(length, "0") == 0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct side *sides = cls; /* the worker's, HTTP_SIDES of them */
    struct http_request *rq = *con_cls;
    if (rq == NULL)
        return MHD_NO; /* on_uri always runs first; never here */
    if (rq->method == NULL) {
        rq->method = arena_strdup(rq->arena, method);
        rq->path = arena_strndup(rq->arena, url, (size_t)rq->cfg->max_url_bytes);
        rq->conn = conn;
        const char *rid = http_header(rq, "X-Request-Id");
        if (rid != NULL && http_request_id_is_valid(rid))
            snprintf(rq->request_id, sizeof rq->request_id, "%s", rid);
        else
            secret_unique_id(rq->request_id);
        client_address(rq);
        if (!check_headers(rq)) {
            received(rq);
            return queue(rq);
        }
        if (!continue_without_body(rq, version))
            return MHD_YES; /* the body, if any, comes in the calls that follow */
        /* else answered now, as the call after an empty body would */
    }
    if (*upload_size > 0) {
        note_arrival();
        size_t cap = (size_t)rq->cfg->max_body_bytes;
        rq->body_seen += *upload_size;
        /* A body without Content-Length (chunked) that grows past the cap.  libmicrohttpd
         * 0.9.75 will not queue a response in the middle of an upload, so the rest is read and
         * dropped and the 413 goes out at the end; a client that keeps streaming far past the
         * cap is cut off without an answer. */
        if (rq->body_seen > cap * BODY_DISCARD_FACTOR)
            return MHD_NO;
        if (rq->status == 0 && rq->body_len + *upload_size > cap)
            http_fail(rq, 413, NULL, "the body is larger than %ld bytes", rq->cfg->max_body_bytes);
        if (rq->status == 0) {
            if (rq->body == NULL)
                rq->body = arena_alloc(rq->arena, cap + 1);
            memcpy(rq->body + rq->body_len, upload, *upload_size);
            rq->body_len += *upload_size;
            rq->body[rq->body_len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    received(rq);
    /* Called again once the side thread resumes the connection: route and answer are set. */
    if (rq->status == 0 && rq->route == NULL && match_route(rq) &&
        side_take(&sides[rq->route->side], rq))
        return MHD_YES;
    if (rq->status == 0)
        serve(rq);
    /* serve_route left it unanswered for the recurring series to be extended first: on the
     * side thread for imports, or here if there is none (or it is stopping). */
    if (rq->status == 0 && rq->extend_to != 0) {
        if (side_take(&sides[HTTP_SIDE_IMPORT], rq))
            return MHD_YES;
        if (rq->status == 0) {
            rq->extend_here = true;
            serve(rq);
        }
    }
    return queue(rq);
}

/* The end of a request that on_uri began: its memory, its count in flight, and its place in
 * its connection's slot (on_connection). */
static void request_free(struct http_request *rq)
{
    if (rq->pending != NULL)
        *rq->pending = NULL;
    atomic_fetch_sub(rq->received ? &in_flight : &arriving, 1);
    free(rq->resp_body);
    arena_free(rq->arena);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    const struct config *cfg = cls;
    struct http_request *rq = *con_cls;
    if (rq == NULL)
        return;
    *con_cls = NULL;
    int64_t dur = clock_mono_us() - rq->started_us;
    unsigned queries;
    int64_t db_us;
    db_stats(rq, &queries, &db_us);
    if (rq->method != NULL) {
        size_t route = rq->route ? (size_t)(rq->route - api_routes) + 1 : 0;
        metrics_record_request(route, rq->status, dur, db_us, queries);
        if (log_access_wanted(cfg->env == CONFIG_ENV_PRODUCTION, rq->status, dur,
                              (int64_t)cfg->slow_request_ms * 1000)) {
            /* The client's bytes, made fit for JSON (else the line lost every field). */
            const char *method = http_printable(rq->arena, rq->method, SIZE_MAX),
                       *path = rq->path ? http_printable(rq->arena, rq->path, SIZE_MAX)
                                        : "(too long)";
            json_t *f = json_pack("{s:s, s:s, s:i, s:f, s:f, s:i, s:s, s:s}", "method",
                                  method ? method : "?", "path", path ? path : "?",
                                  "status", rq->status, "duration_ms", dur / 1000.0, "db_ms",
                                  db_us / 1000.0, "db_queries", (int)queries, "request_id",
                                  rq->request_id, "client", rq->client_addr);
            if (f != NULL && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
                json_object_set_new(f, "aborted", json_true());
            log_fields(rq->status >= 500 ? LOG_ERROR : rq->status >= 400 ? LOG_WARN : LOG_INFO,
                       "request", f);
        }
    }
    request_free(rq);
}

/* ---- giving memory back -------------------------------------------------------------------
 * glibc keeps the freed memory of its per-thread arenas: what a burst of load took (a pool
 * per connection, page caches filling, big answers) stayed in the worker's RSS for good.
 * Measured, the three processes' anonymous memory after the bench's 256-connection phase:
 * 30-32 MB, still 30 MB at 100 req/s afterwards; 17 MB within a second of a malloc_trim.
 * Trimming costs, though (every second at 100 req/s: 4.36 / 4.49 -> 4.99 / 4.76 % of a core,
 * the pages it gives back are faulted in again), so the worker trims only when its heap has
 * grown by TRIM_GROWTH_BYTES since it last did and no request is running: once after a
 * burst, not at a steady rate and not in the middle of load. */
#define TRIM_GROWTH_BYTES (2LL << 20) /* 4 MB let a burst of 400 connections leave 3.6 MB */

/* This process's anonymous resident memory in bytes (resident less file-backed and shared
 * pages, /proc/self/statm), or -1. */
static long long anon_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return -1;
    long long size, resident, shared;
    int got = fscanf(f, "%lld %lld %lld", &size, &resident, &shared);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return got == 3 && page > 0 && resident >= shared ? (resident - shared) * page : -1;
}

/* The last trim: the anonymous memory after it (-1 before the first) and the connections
 * open then. */
struct trim {
    long long anon;
    unsigned connections;
};

/* Called once a second by the worker's main thread with the connections open now.  Besides
 * growth, it trims once more when the connections open at the last trim have all closed: a
 * trim that fell while a burst's connections were closing left what the rest freed (RssAnon
 * 5.3 MB instead of 1.7 after test_process.py's 400 connections, now and then). */
static void give_memory_back(struct trim *last, unsigned connections)
{
    if (atomic_load(&in_flight) != 0 || atomic_load(&arriving) != 0)
        return;
    long long anon = anon_bytes();
    bool grown = last->anon < 0 || anon > last->anon + TRIM_GROWTH_BYTES;
    bool emptied = connections == 0 && last->connections > 0;
    if (anon < 0 || !(grown || emptied))
        return;
    (void)malloc_trim(0); /* says only whether anything was released */
    *last = (struct trim){anon_bytes(), connections};
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    buf[strcspn(buf, "\n")] = '\0';
    log_msg(LOG_WARN, "libmicrohttpd: %s", buf);
}

/* ---- connections, spread over the threads -----------------------------------------------
 * Each thread runs a libmicrohttpd daemon of its own (a lane) with no listening socket, and
 * one more thread accepts for all of them and hands each new connection to the lane that has
 * the fewest.  libmicrohttpd's own thread pool lets every thread accept from the socket, and
 * whichever is awake takes up to ten at a time: when the bench opened its 64 connections at
 * once, one thread of a worker got 30 and another none, and a connection's latency follows
 * how many share its thread (2.5 ms for the 8 on one thread, 13.6 ms for the 30 on another,
 * in the same run).  Across the workers the kernel spreads them: each accepts from a socket
 * of its own (SO_REUSEPORT, worker/supervisor.c says why). */
#define ACCEPT_FULL_PAUSE_NS (10 * 1000 * 1000) /* out of descriptors: try again after this */

struct lane {
    struct MHD_Daemon *d;
    atomic_int connections; /* handed to it and not closed yet */
};

struct acceptor {
    int listen_fd, stop_fd; /* stop_fd: an eventfd written to stop */
    struct lane *lanes;
    int nlanes, lane_limit;
};

/* Each connection has a slot (its socket context) naming the request on_uri began on it and
 * on_completed has not ended.  libmicrohttpd 0.9.75 calls on_completed only for a request it
 * has handed to on_request: when the request line fits its memory but the headers after it
 * do not, it answers by itself (its own 431, in HTML), closes the connection unanswered, or
 * waits for more until the connection times out (request lines of 24,060-24,557 bytes at the
 * default limits: tests/api/test_fuzz.py found them), and the request was never freed nor
 * counted out of in_flight, so every drain after waited its whole timeout.  A request still
 * in the slot when its connection closes is one of those (on_request never saw it, so no
 * side thread has it either): it ends here. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)conn;
    struct lane *l = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(struct http_request *)); /* NULL: no slot kept */
        return;
    }
    struct http_request **slot = *socket_context;
    if (slot != NULL) {
        if (*slot != NULL && (*slot)->method == NULL)
            request_free(*slot);
        else if (*slot != NULL)
            (*slot)->pending = NULL; /* on_completed's to end: it must not reach the slot */
        free(slot);
        *socket_context = NULL;
    }
    atomic_fetch_sub(&l->connections, 1);
}

static struct lane *least_loaded(const struct acceptor *ac)
{
    struct lane *best = &ac->lanes[0];
    for (int i = 1; i < ac->nlanes; i++)
        if (atomic_load(&ac->lanes[i].connections) < atomic_load(&best->connections))
            best = &ac->lanes[i];
    return best;
}

/* One connection from the socket to the lane with the fewest; false when none is waiting
 * (or the descriptors ran out: then after a pause). */
static bool accept_one(struct acceptor *ac)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    int fd = accept4(ac->listen_fd, (struct sockaddr *)&addr, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
            log_msg(LOG_WARN, "accept: %s", strerror(e));
            struct timespec pause = {0, ACCEPT_FULL_PAUSE_NS};
            nanosleep(&pause, NULL);
        }
        return e == EINTR || e == ECONNABORTED;
    }
    struct lane *l = least_loaded(ac);
    if (atomic_load(&l->connections) >= ac->lane_limit) {
        close(fd); /* every lane is full: as libmicrohttpd refuses past its limit */
        return true;
    }
    atomic_fetch_add(&l->connections, 1);
    /* Once added, the lane counts it down when it closes; refused, libmicrohttpd closed it.
     * (One it drops before it starts, with no memory for its pool, stays counted: it only
     * tilts the choice.) */
    if (MHD_add_connection(l->d, fd, (const struct sockaddr *)&addr, len) != MHD_YES)
        atomic_fetch_sub(&l->connections, 1);
    return true;
}

static void *accept_loop(void *arg)
{
    struct acceptor *ac = arg;
    struct pollfd p[2] = {{.fd = ac->listen_fd, .events = POLLIN},
                          {.fd = ac->stop_fd, .events = POLLIN}};
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_msg(LOG_ERROR, "poll on the listening socket: %s", strerror(errno));
            return NULL;
        }
        if (p[1].revents != 0)
            return NULL;
        if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
            /* Not seen: the master keeps the socket open.  Rather than spin, stop taking
             * connections; the drain at SIGTERM is unchanged. */
            log_msg(LOG_ERROR, "the listening socket failed (poll events %#x)", p[0].revents);
            return NULL;
        }
        while ((p[0].revents & POLLIN) && accept_one(ac))
            continue; /* all that are waiting */
    }
}

static struct MHD_Daemon *start_lane(const struct config *cfg, struct lane *l, int limit,
                                     struct side *sides)
{
    /* The request's head, what libmicrohttpd needs beside it, and a record for each query
     * parameter (cut_query): 64 bytes each in 0.9.75 (struct MHD_HTTP_Header, aligned). */
    size_t mem = (size_t)cfg->max_header_bytes + (size_t)cfg->max_url_bytes + 4096 +
                 (size_t)HTTP_QUERY_PARAMS_MAX * 64;
    /* Options go in one typed array (STYLE.md: no varargs option lists elsewhere).  The
     * daemon's own limit has room above the lane's, which the acceptor keeps. */
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL}, /* first, to catch all */
        {MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, limit + 16, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)mem, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, (void *)cfg},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, (void *)cfg},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, l},
        {MHD_OPTION_END, 0, NULL},
    };
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, sides, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
}

/* The connections open in all lanes, counting those handed over that their lane has not
 * taken in yet (libmicrohttpd's own count misses them, and a drain that trusted it closed
 * them unanswered: test_sighup_loses_no_requests). */
static unsigned open_connections(const struct acceptor *ac)
{
    int n = 0;
    for (int i = 0; i < ac->nlanes; i++)
        n += atomic_load(&ac->lanes[i].connections);
    return n > 0 ? (unsigned)n : 0;
}

static void stop_lanes(struct acceptor *ac)
{
    for (int i = 0; i < ac->nlanes; i++)
        if (ac->lanes[i].d != NULL)
            MHD_stop_daemon(ac->lanes[i].d);
    free(ac->lanes);
    ac->lanes = NULL;
    if (ac->stop_fd >= 0)
        close(ac->stop_fd);
    ac->stop_fd = -1;
}

/* The lanes and the acceptor's state (its thread is started by the caller); false, with
 * nothing left running, if any part could not be had. */
static bool start_lanes(const struct config *cfg, int listen_fd, struct acceptor *ac,
                        struct side *sides)
{
    *ac = (struct acceptor){.listen_fd = listen_fd, .stop_fd = -1, .nlanes = cfg->threads};
    ac->lane_limit = (cfg->max_connections + cfg->threads - 1) / cfg->threads;
    ac->lanes = calloc((size_t)cfg->threads, sizeof *ac->lanes);
    int flags = fcntl(listen_fd, F_GETFL);
    /* Non-blocking (the master makes it so; made sure here): while a worker being replaced
     * drains, its successor accepts from the same socket, and an accept after poll must not
     * wait for the next connection when the other took this one. */
    if (ac->lanes == NULL || flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        (ac->stop_fd = eventfd(0, EFD_CLOEXEC)) < 0) {
        stop_lanes(ac);
        return false;
    }
    for (int i = 0; i < ac->nlanes; i++)
        if ((ac->lanes[i].d = start_lane(cfg, &ac->lanes[i], ac->lane_limit, sides)) == NULL) {
            stop_lanes(ac);
            return false;
        }
    return true;
}

static void publish_lists(struct store_cache_stats *counted, struct store_page_cache_stats *pages)
{
    struct store_cache_stats now;
    store_events_cache_stats(&now);
    metrics_count_lists(now.hits - counted->hits, now.misses - counted->misses);
    *counted = now;
    struct store_page_cache_stats p;
    store_page_cache_stats(&p);
    metrics_count_pages(&(struct metrics_pages){p.found - pages->found, p.read - pages->read,
                                                p.passed - pages->passed, p.emptied - pages->emptied,
                                                p.checkpoints - pages->checkpoints});
    *pages = p;
}

/* The worker's main thread, which checkpoints: a commit that asks for a checkpoint wakes it
 * from its wait with CHECKPOINT_SIGNAL, blocked in the thread (store_checkpoint_wake). */
#define CHECKPOINT_SIGNAL SIGUSR2
static pthread_t checkpointing_thread;

static void wake_checkpointer(void)
{
    (void)pthread_kill(checkpointing_thread, CHECKPOINT_SIGNAL); /* a live thread: cannot fail */
}

int http_server_run(const struct config *cfg, int listen_fd)
{
    if (pthread_once(&db_key_once, make_db_key) != 0)
        return 1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, CHECKPOINT_SIGNAL);
    /* Blocked before any thread starts (they inherit the mask), so that only sigtimedwait
     * below takes it; SIGTERM and SIGINT are blocked already (the master's mask). */
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return 1;
    checkpointing_thread = pthread_self();
    atomic_store(&draining, false);
    if (!store_events_cache_start((size_t)cfg->cache_mb * 1024 * 1024)) {
        log_msg(LOG_ERROR, "no memory for a cache of %d MB", cfg->cache_mb);
        return 1;
    }
    struct acceptor ac;
    pthread_t acceptor;
    struct side sides[HTTP_SIDES];
    store_checkpoint_wake(wake_checkpointer);
    sides_start(sides, cfg);
    if (!start_lanes(cfg, listen_fd, &ac, sides)) {
        log_msg(LOG_ERROR, "cannot start the HTTP server");
        if (sides_stop(sides))
            sides_free(sides);
        store_checkpoint_wake(NULL);
        store_events_cache_end();
        return 1;
    }
    if (pthread_create(&acceptor, NULL, accept_loop, &ac) != 0) {
        log_msg(LOG_ERROR, "cannot start the HTTP server's accepting thread");
        stop_lanes(&ac);
        if (sides_stop(sides))
            sides_free(sides);
        store_checkpoint_wake(NULL);
        store_events_cache_end();
        return 1;
    }
    log_msg(LOG_INFO, "worker serving with %d threads", cfg->threads);

    pid_t parent = getppid();
    /* This thread is otherwise idle: on a connection of its own it checkpoints the WAL once a
     * second, or at once when a commit asks for it (store_checkpoint says why; it woke every
     * 100 ms to look before, which was half the idle server's CPU), and
     * once a second keeps recurring series expanded ahead of the horizon
     * (api_materialize_ahead), a cheap look at one row unless they need it, adds the
     * worker's participant-list counts to /metrics, and gives memory back after a burst
     * (give_memory_back). */
    struct pl_error err = {0};
    struct store *checkpointer = store_open(cfg->database, &err);
    /* It grows the file: in the mapping's steps when the file is mapped (store_mmap). */
    if (checkpointer && cfg->sqlite_mmap_mb > 0 &&
        store_mmap(checkpointer, cfg->sqlite_mmap_mb, &err) < 0) {
        store_close(checkpointer);
        checkpointer = NULL;
    }
    if (checkpointer == NULL)
        log_msg(LOG_WARN, "no WAL checkpointer: %s", err.detail);
    int64_t next_second = clock_mono_us();
    struct store_cache_stats counted = {0};
    struct store_page_cache_stats pages = {0};
    struct trim trimmed = {-1, 0};
    for (;;) {
        int64_t left = next_second - clock_mono_us();
        left = left < 1000 ? 1000 : left; /* woken early: sleep out the second */
        struct timespec tick = {(time_t)(left / 1000000), (long)(left % 1000000) * 1000};
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT)
            break;
        if (getppid() != parent) {
            log_msg(LOG_WARN, "the master went away; stopping");
            break;
        }
        bool second = clock_mono_us() >= next_second;
        if (second) {
            next_second = clock_mono_us() + 1000 * 1000;
            publish_lists(&counted, &pages);
            give_memory_back(&trimmed, open_connections(&ac));
        }
        if (checkpointer == NULL)
            continue;
        if (second && api_materialize_ahead(checkpointer, cfg, clock_now_us(), &err) < 0)
            log_msg(LOG_WARN, "extending recurring events: %s", err.detail);
        if ((store_checkpoint_due() || second) && store_checkpoint(checkpointer, &err) < 0)
            log_msg(LOG_DEBUG, "checkpoint: %s", err.detail);
    }
    store_close(checkpointer);

    /* Drain: stop accepting (the other workers and the master keep the socket open), then
     * wait for requests already read to be answered.  A connection may also hold a request
     * still arriving (`arriving`), or one whose first line has not (which no count sees):
     * give open connections a short grace to become requests or close (answers now carry
     * Connection: close), and past it wait only for requests that are still arriving (a byte
     * of them came within the grace's length), not for stalled ones nor idle keep-alive
     * connections. */
    atomic_store(&draining, true);
    uint64_t one = 1;
    bool stopped = write(ac.stop_fd, &one, sizeof one) == (ssize_t)sizeof one &&
                   pthread_join(acceptor, NULL) == 0;
    if (!stopped)
        log_msg(LOG_ERROR, "cannot stop the accepting thread");
    int64_t start = clock_mono_us();
    int64_t deadline = start + (int64_t)cfg->drain_timeout_s * 1000000;
    int64_t grace = start + (DRAIN_GRACE_US < deadline - start ? DRAIN_GRACE_US : deadline - start);
    for (;;) {
        int64_t now = clock_mono_us();
        unsigned open_conns = open_connections(&ac);
        bool stalled = atomic_load(&arriving) == 0 ||
                       now - atomic_load_explicit(&last_arrival_us, memory_order_relaxed) >=
                           DRAIN_GRACE_US;
        if (now >= deadline || (atomic_load(&in_flight) == 0 &&
                                ((open_conns == 0 && atomic_load(&arriving) == 0) ||
                                 (now >= grace && stalled))))
            break;
        struct timespec ms10 = {0, 10 * 1000 * 1000};
        nanosleep(&ms10, NULL);
    }
    int left = atomic_load(&in_flight);
    if (left > 0)
        log_msg(LOG_WARN, "drain timeout with %d requests in flight", left);
    /* An accepting thread still running may hand a connection to a lane at any moment, and a
     * side thread still running may resume one: then the lanes and what they use are left to
     * the process's exit, not freed under them.  The lanes run while the side thread stops,
     * and a little longer: the connections it resumed last (answered, or refused with a 503)
     * are sent their answers by their lane's thread, which a stop_lanes at once could beat to
     * it (libmicrohttpd closes what is open when its daemon stops). */
    if (!sides_stop(sides)) {
        log_msg(LOG_ERROR, "cannot stop a side thread");
        stopped = false;
    }
    if (!stopped)
        return 1;
    for (int64_t until = clock_mono_us() + DRAIN_RESUMED_US;
         atomic_load(&in_flight) > 0 && clock_mono_us() < until;) {
        struct timespec ms10 = {0, 10 * 1000 * 1000};
        nanosleep(&ms10, NULL);
    }
    stop_lanes(&ac);
    sides_free(sides);
    store_checkpoint_wake(NULL);
    publish_lists(&counted, &pages);
    struct store_cache_stats cs;
    store_events_cache_stats(&cs);
    if (cfg->cache_mb > 0)
        log_msg(LOG_INFO,
                "participant lists: %llu found in the cache, %llu read; %zu kept in %zu bytes",
                (unsigned long long)cs.hits, (unsigned long long)cs.misses, cs.entries, cs.bytes);
    store_events_cache_end();
    log_msg(LOG_INFO, "worker stopped");
    return left > 0 ? 1 : 0;
}
