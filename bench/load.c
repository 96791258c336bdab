/* planner-load: the HTTP/1.1 load generator of the W200 benchmark (shared/workload/W200.md).
 * One thread drives keep-alive connections to 127.0.0.1 through epoll, either in a closed loop
 * or in an open loop at a fixed rate (latency counted from each request's scheduled time), and
 * writes per-operation latency percentiles and status counts as JSON.  --help has the usage. */
#include "args.h"
#include "prng.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)
#define DAY_S INT64_C(86400)
#define LOAD_MAX_CONNECTIONS 4096
#define LOAD_REQUEST_BYTES 8192            /* one whole request; ours are under 2 KB */
#define LOAD_READ_START_BYTES 16384
#define LOAD_READ_MAX_BYTES (8u << 20)     /* a bigger response is an error */
#define LOAD_HEADER_MAX_BYTES 65536
#define LOAD_TOKEN_MAX_BYTES 512
#define LOAD_POOL_MAX 4096                 /* own events remembered per connection */
#define LOAD_SAMPLES_MAX 10
#define LOAD_SAMPLE_BODY_BYTES 200
#define LOAD_DRAIN_NS (2 * NS_PER_S)       /* the wait for answers after the end */
#define LOAD_BACKOFF_NS (100 * NS_PER_MS)  /* between attempts to reconnect */
#define LOAD_EVENTS_PER_WAIT 256
#define LOAD_TIMER_TAG UINT64_MAX          /* epoll data of the timerfd */
#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        fprintf(stderr, "planner-load: out of memory (%zu bytes)\n", n);
        abort();
    }
    return q;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "planner-load: out of memory (%zu x %zu bytes)\n", n, size);
        abort();
    }
    return p;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("planner-load: clock_gettime");
        abort();
    }
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* ---- latency histogram ------------------------------------------------------------------
 * Log-linear like HdrHistogram: values below 256 us have a bucket each; above, every power of
 * two [2^k, 2^k+1) is cut into 128 equal buckets, so a bucket's midpoint is within 0.4 % of
 * any value in it.  Values are microseconds up to 2^27 (134 s), far above any wait here. */

#define HIST_SUB 128
#define HIST_MAX_US ((INT64_C(1) << 27) - 1)
#define HIST_BUCKETS (HIST_SUB * 21) /* the bucket of HIST_MAX_US is the last */

struct histogram {
    uint64_t counts[HIST_BUCKETS];
    uint64_t total;
    int64_t max_us;
};

static size_t hist_index(int64_t us)
{
    uint64_t v = (uint64_t)(us < 0 ? 0 : us > HIST_MAX_US ? HIST_MAX_US : us);
    unsigned shift = 0;
    while ((v >> shift) >= 2 * HIST_SUB)
        shift++;
    return (size_t)HIST_SUB * shift + (size_t)(v >> shift);
}

static double hist_bucket_mid_us(size_t i)
{
    if (i < 2 * HIST_SUB)
        return (double)i;
    unsigned shift = (unsigned)(i / HIST_SUB) - 1;
    uint64_t lo = (uint64_t)(i - (size_t)HIST_SUB * shift) << shift;
    return (double)lo + (double)((UINT64_C(1) << shift) - 1) / 2.0;
}

static void hist_add(struct histogram *h, int64_t us)
{
    h->counts[hist_index(us)]++;
    h->total++;
    if (us > h->max_us)
        h->max_us = us;
}

/* The p-th percentile in milliseconds (0 for an empty histogram), never above the maximum. */
static double hist_percentile_ms(const struct histogram *h, double p)
{
    if (h->total == 0)
        return 0.0;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->total), seen = 0;
    if (rank < 1)
        rank = 1;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            double us = hist_bucket_mid_us(i);
            return (us > (double)h->max_us ? (double)h->max_us : us) / 1000.0;
        }
    }
    return (double)h->max_us / 1000.0;
}

/* ---- operations ------------------------------------------------------------------------- */

enum op {
    OP_AGENDA,
    OP_ROOM_BOOKINGS,
    OP_FREEBUSY,
    OP_FIND_TIME,
    OP_NOTIFICATIONS,
    OP_CREATE,
    OP_RSVP,
    OP_UPDATE,
    OP_DELETE,
    OP_STATIC,
    OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    "agenda", "room_bookings", "freebusy", "find_time", "notifications",
    "create", "rsvp",          "update",   "delete",    "static"};

/* The W200 mix, in percent, for the operations before OP_STATIC. */
static const unsigned op_weights[OP_STATIC] = {45, 10, 10, 5, 10, 8, 5, 4, 3};

/* The parts of the mix that --only also names, each in the mix's proportions: its reads (the
 * operations before OP_CREATE) and its writes.  A run of the reads alone against the reads
 * one by one tells what mixing them costs, and against the whole mix what the writes cost. */
static const struct part {
    const char *name;
    enum op first, end; /* the operations [first, end) */
} mix_parts[] = {{"mix", OP_AGENDA, OP_STATIC},
                 {"reads", OP_AGENDA, OP_CREATE},
                 {"writes", OP_CREATE, OP_STATIC}};

static bool op_status_expected(enum op op, int status)
{
    if (op == OP_CREATE)
        return status == 201 || status == 409;
    if (op == OP_DELETE)
        return status == 204;
    return status == 200;
}

#define STATUS_SLOTS 600 /* [0] counts requests that got no HTTP answer */

struct op_stats {
    struct histogram hist;
    uint64_t count;      /* recorded HTTP answers */
    uint64_t in_window;  /* answers that arrived inside the recording window (for rps) */
    uint64_t unexpected; /* recorded answers or failures that the mix does not expect */
    uint64_t status[STATUS_SLOTS];
    double server_ms_sum; /* Server-Timing "total" of recorded answers that had one */
    uint64_t server_n;
};

/* ---- options and the plan ---------------------------------------------------------------- */

struct options {
    const char *plan_path, *static_path, *out_path;
    int only; /* --only: every request is this operation; -1 for a part of the mix */
    const struct part *part; /* which part, in its proportions: the whole mix by default */
    long connections;
    double duration_s, warmup_s, rate; /* rate 0: closed loop */
    long port;                         /* 0: the plan's */
    uint64_t seed;
};

struct plan_user {
    int64_t id, calendar_id;
    const char *token; /* borrowed from plan.root */
    int64_t *invitations;
    size_t n_invitations;
};

struct plan_room {
    int64_t id, capacity;
};

struct plan {
    json_t *root;
    long port;
    int64_t now_s;
    struct plan_user *users;
    size_t n_users;
    int64_t *user_ids;
    size_t n_user_ids;
    struct plan_room *rooms;
    size_t n_rooms;
    const char *time_zone; /* borrowed from plan.root */
};

/* An id written as a JSON integer or as a string of digits (the API's ids are strings). */
static int json_id(const json_t *v, int64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
        return -1;
    *out = strtoll(s, NULL, 10);
    return *out > 0 ? 0 : -1;
}

static int json_id_member(const json_t *obj, const char *key, int64_t *out)
{
    return json_id(json_object_get(obj, key), out);
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DDTHH:MM:SSZ" (the plan's "now"; UTC only) to seconds since the epoch. */
static int parse_utc(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec, end = -1;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &end) != 6 ||
        end != (int)strlen(s) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60 || h < 0 || mi < 0 || sec < 0)
        return -1;
    *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * DAY_S + h * 3600 + mi * 60 + sec;
    return 0;
}

/* RFC 3339 UTC ("2026-11-24T00:00:00Z") into out; years are 0000-9999 here. */
#define UTC_TEXT_BYTES 48 /* 21 used; the rest keeps -Wformat-truncation's worst case quiet */
static void format_utc(int64_t t_s, char out[static UTC_TEXT_BYTES])
{
    int64_t day = t_s >= 0 ? t_s / DAY_S : -((-t_s + DAY_S - 1) / DAY_S), y;
    unsigned sec = (unsigned)(t_s - day * DAY_S), m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(out, UTC_TEXT_BYTES, "%04u-%02u-%02uT%02u:%02u:%02uZ",
             (unsigned)(y < 0 ? 0 : y > 9999 ? 9999 : y), m, d, sec / 3600, sec / 60 % 60,
             sec % 60);
}

/* Token and time zone go into requests verbatim: visible ASCII without quotes or backslashes. */
static bool is_safe_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~' || s[i] == '"' || s[i] == '\\')
            return false;
    return true;
}

static void plan_free(struct plan *p)
{
    for (size_t i = 0; p->users && i < p->n_users; i++)
        free(p->users[i].invitations);
    free(p->users);
    free(p->user_ids);
    free(p->rooms);
    json_decref(p->root);
    *p = (struct plan){0};
}

static int plan_fail(const char *path, const char *what)
{
    fprintf(stderr, "planner-load: %s: %s\n", path, what);
    return -1;
}

static int plan_users(struct plan *p, const char *path)
{
    json_t *users = json_object_get(p->root, "users");
    if (!json_is_array(users) || json_array_size(users) == 0)
        return plan_fail(path, "\"users\" must be a non-empty array");
    p->n_users = json_array_size(users);
    p->users = xcalloc(p->n_users, sizeof *p->users);
    for (size_t i = 0; i < p->n_users; i++) {
        json_t *u = json_array_get(users, i), *inv = json_object_get(u, "invitations");
        struct plan_user *pu = &p->users[i];
        const char *token = json_string_value(json_object_get(u, "token"));
        if (json_id_member(u, "id", &pu->id) < 0 ||
            json_id_member(u, "calendar_id", &pu->calendar_id) < 0 || token == NULL ||
            !is_safe_text(token, LOAD_TOKEN_MAX_BYTES))
            return plan_fail(path, "each user needs an id, a calendar_id and a token");
        pu->token = token;
        if (inv != NULL && !json_is_array(inv))
            return plan_fail(path, "a user's \"invitations\" must be an array");
        pu->invitations = xcalloc(json_array_size(inv), sizeof *pu->invitations);
        for (size_t k = 0; k < json_array_size(inv); k++)
            if (json_id(json_array_get(inv, k), &pu->invitations[pu->n_invitations++]) < 0)
                return plan_fail(path, "invitations must be event ids");
    }
    return 0;
}

static int plan_lists(struct plan *p, const char *path)
{
    json_t *ids = json_object_get(p->root, "user_ids"), *rooms = json_object_get(p->root, "rooms");
    if (!json_is_array(ids) || json_array_size(ids) < 6)
        return plan_fail(path, "\"user_ids\" must be an array of at least 6 ids");
    p->n_user_ids = json_array_size(ids);
    p->user_ids = xcalloc(p->n_user_ids, sizeof *p->user_ids);
    for (size_t i = 0; i < p->n_user_ids; i++)
        if (json_id(json_array_get(ids, i), &p->user_ids[i]) < 0)
            return plan_fail(path, "\"user_ids\" must hold ids");
    if (!json_is_array(rooms) || json_array_size(rooms) == 0)
        return plan_fail(path, "\"rooms\" must be a non-empty array");
    p->n_rooms = json_array_size(rooms);
    p->rooms = xcalloc(p->n_rooms, sizeof *p->rooms);
    for (size_t i = 0; i < p->n_rooms; i++) {
        json_t *r = json_array_get(rooms, i), *cap = json_object_get(r, "capacity");
        if (json_id_member(r, "id", &p->rooms[i].id) < 0 || !json_is_integer(cap))
            return plan_fail(path, "each room needs an id and an integer capacity");
        p->rooms[i].capacity = json_integer_value(cap);
    }
    return 0;
}

/* Read and check the plan.  With `static_only` only host and port are needed. */
static int plan_load(const char *path, bool static_only, struct plan *p)
{
    json_error_t jerr;
    *p = (struct plan){0};
    if ((p->root = json_load_file(path, 0, &jerr)) == NULL) {
        fprintf(stderr, "planner-load: %s:%d: %s\n", path, jerr.line, jerr.text);
        return -1;
    }
    const char *host = json_string_value(json_object_get(p->root, "host"));
    const char *now = json_string_value(json_object_get(p->root, "now"));
    json_t *port = json_object_get(p->root, "port");
    if (host == NULL || strcmp(host, "127.0.0.1") != 0)
        return plan_fail(path, "\"host\" must be \"127.0.0.1\"");
    if (!json_is_integer(port) || json_integer_value(port) < 1 || json_integer_value(port) > 65535)
        return plan_fail(path, "\"port\" must be an integer from 1 to 65535");
    p->port = (long)json_integer_value(port);
    if (static_only)
        return 0;
    if (now == NULL || parse_utc(now, &p->now_s) < 0)
        return plan_fail(path, "\"now\" must look like 2026-11-24T09:00:00Z");
    p->time_zone = json_string_value(json_object_get(p->root, "time_zone"));
    if (p->time_zone == NULL)
        p->time_zone = "Europe/Moscow";
    if (!is_safe_text(p->time_zone, 64))
        return plan_fail(path, "\"time_zone\" must be an IANA name");
    if (plan_users(p, path) < 0 || plan_lists(p, path) < 0)
        return -1;
    return 0;
}

/* ---- HTTP responses ------------------------------------------------------------------------ */

struct response {
    int status;
    size_t total_bytes; /* of the read buffer that the response takes */
    const char *body;   /* inside the read buffer, de-chunked */
    size_t body_len;
    bool close;
    char etag[128]; /* empty when absent or too long */
    double server_ms; /* Server-Timing "total", or -1 */
};

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* A chunked body at p[0, n): 1 when complete (its encoded and decoded sizes set; with `decode`
 * the data is moved to the front of p, which is safe because the output never overtakes the
 * input), 0 when more is needed, -1 when malformed. */
static int dechunk(char *p, size_t n, bool decode, size_t *consumed, size_t *decoded)
{
    size_t i = 0, o = 0;
    for (;;) {
        size_t size = 0, digits = 0;
        for (int v; i < n && (v = hex_value(p[i])) >= 0; i++, digits++) {
            size = size * 16 + (size_t)v;
            if (size > LOAD_READ_MAX_BYTES)
                return -1;
        }
        while (i < n && p[i] != '\r' && p[i] != '\n') /* chunk extensions */
            i++;
        if (i + 1 >= n)
            return 0;
        if (digits == 0 || p[i] != '\r' || p[i + 1] != '\n')
            return -1;
        i += 2;
        if (size == 0)
            break;
        if (n - i < size + 2)
            return 0;
        if (p[i + size] != '\r' || p[i + size + 1] != '\n')
            return -1;
        if (decode)
            memmove(p + o, p + i, size);
        o += size;
        i += size + 2;
    }
    for (;;) { /* trailer fields up to an empty line */
        size_t start = i;
        while (i + 1 < n && !(p[i] == '\r' && p[i + 1] == '\n'))
            i++;
        if (i + 1 >= n)
            return 0;
        i += 2;
        if (i - start == 2)
            break;
    }
    *consumed = i;
    *decoded = o;
    return 1;
}

static bool header_is(const char *name, size_t len, const char *want)
{
    return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

/* Whether the comma-separated value v[0, len) lists `token` (case-insensitive). */
static bool value_has_token(const char *v, size_t len, const char *token)
{
    size_t tl = strlen(token);
    for (size_t i = 0; i < len;) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < len && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end - start == tl && strncasecmp(v + start, token, tl) == 0)
            return true;
    }
    return false;
}

/* Parse one response at buf[0, len): 1 when complete, 0 when more bytes are needed, -1 when
 * malformed (with *why set).  A complete chunked body is de-chunked in place. */
static int parse_response(char *buf, size_t len, struct response *r, const char **why)
{
    size_t head = 0;
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            head = i + 4;
            break;
        }
    if (head == 0) {
        *why = "response headers too large";
        return len > LOAD_HEADER_MAX_BYTES ? -1 : 0;
    }
    *r = (struct response){.server_ms = -1};
    *why = "malformed status line";
    if (head < 16 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' || buf[12] != ' ' ||
        buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' || buf[11] < '0' ||
        buf[11] > '9')
        return -1;
    r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    bool chunked = false, has_length = false;
    size_t length = 0;
    r->close = buf[7] == '0'; /* HTTP/1.0 closes unless told otherwise; we never ask */
    for (size_t i = 0; i < head - 2;) {
        const char *line = buf + i;
        size_t n = 0;
        while (line[n] != '\r')
            n++;
        i += n + 2;
        if (line == buf) /* the status line */
            continue;
        const char *colon = memchr(line, ':', n);
        if (colon == NULL) {
            *why = "malformed header line";
            return -1;
        }
        size_t name_len = (size_t)(colon - line), vlen = n - name_len - 1;
        const char *v = colon + 1;
        while (vlen > 0 && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        if (header_is(line, name_len, "content-length")) {
            *why = "bad Content-Length";
            if (vlen == 0 || vlen > 9)
                return -1;
            length = 0;
            for (size_t k = 0; k < vlen; k++) {
                if (v[k] < '0' || v[k] > '9')
                    return -1;
                length = length * 10 + (size_t)(v[k] - '0');
            }
            has_length = true;
        } else if (header_is(line, name_len, "transfer-encoding")) {
            *why = "unsupported Transfer-Encoding";
            if (!(vlen == 7 && strncasecmp(v, "chunked", 7) == 0))
                return -1;
            chunked = true;
        } else if (header_is(line, name_len, "connection")) {
            if (value_has_token(v, vlen, "close"))
                r->close = true;
            else if (value_has_token(v, vlen, "keep-alive"))
                r->close = false;
        } else if (header_is(line, name_len, "etag")) {
            if (vlen < sizeof r->etag) {
                memcpy(r->etag, v, vlen);
                r->etag[vlen] = '\0';
            }
        } else if (header_is(line, name_len, "server-timing")) {
            /* "db;dur=0.123;desc=...", total;dur=0.456": the total is the handler's time */
            for (size_t k = 0; k + 10 <= vlen; k++)
                if (strncmp(v + k, "total;dur=", 10) == 0) {
                    char num[32];
                    size_t m = 0;
                    for (k += 10; k < vlen && m + 1 < sizeof num && strchr("0123456789.", v[k]);)
                        num[m++] = v[k++];
                    num[m] = '\0';
                    char *end;
                    double ms = strtod(num, &end);
                    if (m > 0 && *end == '\0')
                        r->server_ms = ms;
                    break;
                }
        }
    }
    r->body = buf + head;
    if (r->status < 200) {
        *why = "1xx answers are not expected";
        return -1;
    }
    if (r->status == 204 || r->status == 304) { /* never a body */
        r->total_bytes = head;
        return 1;
    }
    if (chunked) {
        size_t consumed, decoded;
        int rc = dechunk(buf + head, len - head, false, &consumed, &decoded);
        *why = "malformed chunked body";
        if (rc == 1)
            rc = dechunk(buf + head, len - head, true, &consumed, &decoded);
        if (rc == 1) {
            r->total_bytes = head + consumed;
            r->body_len = decoded;
        }
        return rc;
    }
    if (!has_length) {
        *why = "response without Content-Length or chunked encoding";
        return -1;
    }
    if (length > LOAD_READ_MAX_BYTES) {
        *why = "response larger than 8 MiB";
        return -1;
    }
    if (len - head < length)
        return 0;
    r->total_bytes = head + length;
    r->body_len = length;
    return 1;
}

/* ---- connections and the run ---------------------------------------------------------------- */

enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_IDLE, CONN_BUSY };

/* An event this connection created, for its later PATCH and DELETE. */
struct pool_event {
    char id[24];
    char etag[128];
};

struct conn {
    size_t index;
    int fd;
    uint32_t generation; /* bumped on every new socket, so stale epoll events are ignored */
    enum conn_state state;
    bool idle_queued, opened_before;
    int64_t retry_at_ns; /* CONN_DOWN: when to connect again */
    const struct plan_user *user; /* NULL with --static */
    struct prng rng;
    struct pool_event *pool;
    size_t n_pool;
    /* the request in flight */
    enum op op;
    size_t pool_slot;
    int64_t issued_ns; /* latency origin: when sent (closed loop) or scheduled (open loop) */
    bool recorded;
    uint64_t answered;   /* answers recorded on this connection, and their latency in all */
    int64_t latency_us;
    char method[8];
    char path[256];
    char out[LOAD_REQUEST_BYTES];
    size_t out_len, out_off;
    char *in;
    size_t in_len, in_cap;
};

struct runner {
    struct options opt;
    struct plan plan;
    int epfd, timerfd;
    struct conn *conns;
    size_t n_conns;
    size_t *idle; /* FIFO ring of idle connections, so an open loop rotates through users */
    size_t idle_head, idle_len;
    size_t n_busy, n_down;
    int64_t t_start, t_rec, t_end, t_drain;
    bool stopping;
    uint64_t k_next, k_sent; /* open loop: requests scheduled so far, and sent so far */
    uint64_t max_queue, unsent;
    struct op_stats ops[OP_COUNT];
    struct histogram overall;
    uint64_t requests, in_window, unexpected, reconnects, connect_failures, timeouts;
    char *samples[LOAD_SAMPLES_MAX];
    size_t n_samples;
};

/* Bounded string building: the first overflow sticks and is checked once at the end. */
struct sbuf {
    char *p;
    size_t cap, len;
    bool overflow;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    if (b->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len)
        b->overflow = true;
    else
        b->len += (size_t)n;
}

static void idle_push(struct runner *rn, struct conn *c)
{
    if (c->idle_queued)
        return;
    c->idle_queued = true;
    rn->idle[(rn->idle_head + rn->idle_len++) % rn->n_conns] = c->index;
}

/* The longest-idle connection, or NULL.  Entries of connections that were closed while queued
 * are dropped here rather than searched for at close time. */
static struct conn *idle_pop(struct runner *rn)
{
    while (rn->idle_len > 0) {
        struct conn *c = &rn->conns[rn->idle[rn->idle_head]];
        rn->idle_head = (rn->idle_head + 1) % rn->n_conns;
        rn->idle_len--;
        c->idle_queued = false;
        if (c->state == CONN_IDLE)
            return c;
    }
    return NULL;
}

static void add_sample(struct runner *rn, const struct conn *c, int status, const char *detail,
                       size_t detail_len)
{
    if (rn->n_samples >= LOAD_SAMPLES_MAX)
        return;
    char text[LOAD_SAMPLE_BODY_BYTES + 1];
    size_t n = detail_len < LOAD_SAMPLE_BODY_BYTES ? detail_len : LOAD_SAMPLE_BODY_BYTES;
    for (size_t i = 0; i < n; i++) /* keep the JSON output valid whatever the body holds */
        text[i] = detail[i] >= ' ' && detail[i] <= '~' ? detail[i] : ' ';
    text[n] = '\0';
    char line[LOAD_SAMPLE_BODY_BYTES + 400];
    if (status > 0)
        snprintf(line, sizeof line, "%s %s -> %d %s", c->method, c->path, status, text);
    else
        snprintf(line, sizeof line, "%s %s -> error: %s", c->method, c->path, text);
    rn->samples[rn->n_samples] = xcalloc(strlen(line) + 1, 1);
    memcpy(rn->samples[rn->n_samples++], line, strlen(line) + 1);
}

/* Account for the end of the request in flight on `c`: `status` 0 means no HTTP answer, with
 * `detail` saying why; otherwise `detail` is the body. */
static void record(struct runner *rn, struct conn *c, int status, const char *detail,
                   size_t detail_len, double server_ms, int64_t now)
{
    struct op_stats *s = &rn->ops[c->op];
    if (status > 0 && now >= rn->t_rec && now <= rn->t_end) {
        s->in_window++;
        rn->in_window++;
    }
    if (!c->recorded)
        return;
    s->status[status]++;
    if (status > 0) {
        int64_t us = (now - c->issued_ns) / 1000;
        hist_add(&s->hist, us);
        hist_add(&rn->overall, us);
        c->answered++;
        c->latency_us += us;
        s->count++;
        rn->requests++;
        if (server_ms >= 0) {
            s->server_ms_sum += server_ms;
            s->server_n++;
        }
    }
    if (status == 0 || !op_status_expected(c->op, status)) {
        s->unexpected++;
        rn->unexpected++;
        add_sample(rn, c, status, detail, detail_len);
    }
}

static void conn_close(struct runner *rn, struct conn *c)
{
    if (c->fd >= 0 && close(c->fd) != 0 && errno != EINTR)
        perror("planner-load: close");
    c->fd = -1;
    c->in_len = 0;
    if (c->state == CONN_BUSY)
        rn->n_busy--;
    c->state = CONN_DOWN;
    c->retry_at_ns = 0;
    rn->n_down++;
}

static void conn_fail_connect(struct runner *rn, struct conn *c, int64_t now)
{
    conn_close(rn, c);
    c->retry_at_ns = now + LOAD_BACKOFF_NS;
    rn->connect_failures++;
}

/* Start connecting a DOWN connection; it becomes IDLE (queued) once connected. */
static void conn_open(struct runner *rn, struct conn *c, int64_t now)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)rn->opt.port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    rn->n_down--;
    if (c->opened_before)
        rn->reconnects++;
    c->opened_before = true;
    c->generation++;
    c->state = CONN_CONNECTING;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("planner-load: socket");
        conn_fail_connect(rn, c, now);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                             .data.u64 = (uint64_t)c->generation << 32 | c->index};
    if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        epoll_ctl(rn->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        perror("planner-load: setsockopt/epoll_ctl");
        conn_fail_connect(rn, c, now);
        return;
    }
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        c->state = CONN_IDLE;
        idle_push(rn, c);
    } else if (errno != EINPROGRESS) {
        conn_fail_connect(rn, c, now);
    }
}

/* After an error or "Connection: close": a new socket, unless the run is ending. */
static void conn_reset(struct runner *rn, struct conn *c, int64_t now)
{
    conn_close(rn, c);
    if (!rn->stopping)
        conn_open(rn, c, now);
}

static void conn_connected(struct runner *rn, struct conn *c, int64_t now)
{
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
        conn_fail_connect(rn, c, now);
        return;
    }
    c->state = CONN_IDLE;
    idle_push(rn, c);
}

/* The request of `c` failed without an HTTP answer: count it and reconnect. */
static void conn_fail(struct runner *rn, struct conn *c, const char *why, int64_t now)
{
    record(rn, c, 0, why, strlen(why), -1, now);
    conn_reset(rn, c, now);
}

/* ---- building requests ------------------------------------------------------------------ */

/* Up to k distinct ids from the plan's user_ids other than `me`. */
static size_t pick_users(const struct plan *p, struct prng *r, int64_t me, size_t k, int64_t *out)
{
    size_t n = 0;
    for (size_t tries = 0; n < k && tries < 64 * k; tries++) {
        int64_t id = p->user_ids[prng_below(r, p->n_user_ids)];
        bool taken = id == me;
        for (size_t i = 0; i < n && !taken; i++)
            taken = out[i] == id;
        if (!taken)
            out[n++] = id;
    }
    return n;
}

static void sb_ids(struct sbuf *b, const int64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sb_printf(b, "%s\"%lld\"", i ? "," : "", (long long)ids[i]);
}

/* A random room seating at least `people`, or NULL. */
static const struct plan_room *pick_room(const struct plan *p, struct prng *r, int64_t people)
{
    size_t fit = 0;
    for (size_t i = 0; i < p->n_rooms; i++)
        fit += p->rooms[i].capacity >= people;
    if (fit == 0)
        return NULL;
    size_t want = prng_below(r, fit);
    for (size_t i = 0; i < p->n_rooms; i++)
        if (p->rooms[i].capacity >= people && want-- == 0)
            return &p->rooms[i];
    return NULL;
}

static void build_create(struct runner *rn, struct conn *c, struct sbuf *body)
{
    const struct plan *p = &rn->plan;
    int64_t others[5], today = p->now_s / DAY_S, day;
    size_t n = pick_users(p, &c->rng, c->user->id, (size_t)prng_range(&c->rng, 1, 5), others);
    do /* a weekday: 1970-01-01 was a Thursday, so day % 7 is 2 on Saturdays, 3 on Sundays */
        day = today + prng_range(&c->rng, 1, 120);
    while (day % 7 == 2 || day % 7 == 3);
    int64_t start = day * DAY_S + 6 * 3600 + (int64_t)prng_range(&c->rng, 0, 32) * 15 * 60;
    int64_t end = start + (prng_below(&c->rng, 2) ? 60 : 30) * 60;
    const struct plan_room *room = pick_room(p, &c->rng, (int64_t)n + 1);
    char s[UTC_TEXT_BYTES], e[UTC_TEXT_BYTES];
    format_utc(start, s);
    format_utc(end, e);
    snprintf(c->path, sizeof c->path, "/api/v1/calendars/%lld/events",
             (long long)c->user->calendar_id);
    sb_printf(body, "{\"title\":\"Load test meeting\",\"start\":\"%s\",\"end\":\"%s\","
                    "\"time_zone\":\"%s\",", s, e, p->time_zone);
    if (room != NULL)
        sb_printf(body, "\"room_id\":\"%lld\",", (long long)room->id);
    sb_printf(body, "\"participants\":[");
    for (size_t i = 0; i < n; i++)
        sb_printf(body, "%s{\"user_id\":\"%lld\"}", i ? "," : "", (long long)others[i]);
    sb_printf(body, "]}");
}

/* Choose the next operation of `c` and write its request into c->out. */
static void build_request(struct runner *rn, struct conn *c)
{
    const struct plan *p = &rn->plan;
    char body_text[2048], a[UTC_TEXT_BYTES], b[UTC_TEXT_BYTES];
    struct sbuf body = {.p = body_text, .cap = sizeof body_text};
    const char *if_match = NULL;
    int64_t ids[5];
    body_text[0] = '\0';
    if (rn->opt.static_path != NULL) {
        c->op = OP_STATIC;
    } else if (rn->opt.only >= 0) {
        c->op = (enum op)rn->opt.only;
    } else {
        const struct part *part = rn->opt.part;
        unsigned total = 0;
        for (int k = part->first; k < (int)part->end; k++)
            total += op_weights[k];
        unsigned x = (unsigned)prng_below(&c->rng, total);
        c->op = part->first;
        while (x >= op_weights[c->op])
            x -= op_weights[c->op++];
    }
    if (c->op != OP_STATIC) {
        if (c->op == OP_RSVP && c->user->n_invitations == 0)
            c->op = OP_NOTIFICATIONS;
        if ((c->op == OP_UPDATE || c->op == OP_DELETE) && c->n_pool == 0)
            c->op = OP_CREATE;
    }
    int64_t today = p->now_s / DAY_S;
    snprintf(c->method, sizeof c->method, "GET");
    switch (c->op) {
    case OP_AGENDA:
    case OP_FREEBUSY: {
        int64_t from = (today + prng_range(&c->rng, -150, 150)) * DAY_S;
        format_utc(from, a);
        format_utc(from + 7 * DAY_S, b);
        if (c->op == OP_AGENDA) {
            snprintf(c->path, sizeof c->path, "/api/v1/me/agenda?from=%s&to=%s", a, b);
            break;
        }
        snprintf(c->method, sizeof c->method, "POST");
        snprintf(c->path, sizeof c->path, "/api/v1/freebusy");
        size_t n = pick_users(p, &c->rng, 0, 5, ids);
        sb_printf(&body, "{\"from\":\"%s\",\"to\":\"%s\",\"users\":[", a, b);
        sb_ids(&body, ids, n);
        sb_printf(&body, "]}");
        break;
    }
    case OP_ROOM_BOOKINGS: {
        int64_t from = (today + prng_range(&c->rng, -150, 150)) * DAY_S;
        format_utc(from, a);
        format_utc(from + DAY_S, b);
        snprintf(c->path, sizeof c->path, "/api/v1/rooms/%lld/bookings?from=%s&to=%s",
                 (long long)p->rooms[prng_below(&c->rng, p->n_rooms)].id, a, b);
        break;
    }
    case OP_FIND_TIME: {
        int64_t from = (today + prng_range(&c->rng, 1, 60)) * DAY_S;
        format_utc(from, a);
        format_utc(from + 5 * DAY_S, b);
        snprintf(c->method, sizeof c->method, "POST");
        snprintf(c->path, sizeof c->path, "/api/v1/find-time");
        size_t n = pick_users(p, &c->rng, c->user->id, 3, ids + 1);
        ids[0] = c->user->id;
        sb_printf(&body, "{\"participants\":[");
        sb_ids(&body, ids, n + 1);
        sb_printf(&body, "],\"duration_minutes\":60,\"from\":\"%s\",\"to\":\"%s\","
                         "\"working_hours\":{\"start\":\"09:00\",\"end\":\"18:00\","
                         "\"time_zone\":\"%s\",\"days\":[1,2,3,4,5]},"
                         "\"room\":{\"capacity_min\":4},\"max_results\":5}", a, b, p->time_zone);
        break;
    }
    case OP_NOTIFICATIONS:
        snprintf(c->path, sizeof c->path, "/api/v1/notifications?unread=true");
        break;
    case OP_CREATE:
        snprintf(c->method, sizeof c->method, "POST");
        build_create(rn, c, &body);
        break;
    case OP_RSVP: {
        static const char *const answers[] = {"accepted", "declined", "tentative"};
        snprintf(c->method, sizeof c->method, "POST");
        snprintf(c->path, sizeof c->path, "/api/v1/events/%lld/rsvp",
                 (long long)c->user->invitations[prng_below(&c->rng, c->user->n_invitations)]);
        sb_printf(&body, "{\"status\":\"%s\"}", answers[prng_below(&c->rng, COUNT_OF(answers))]);
        break;
    }
    case OP_UPDATE:
    case OP_DELETE:
        c->pool_slot = prng_below(&c->rng, c->n_pool);
        if_match = c->pool[c->pool_slot].etag;
        snprintf(c->method, sizeof c->method, c->op == OP_UPDATE ? "PATCH" : "DELETE");
        snprintf(c->path, sizeof c->path, "/api/v1/events/%s", c->pool[c->pool_slot].id);
        if (c->op == OP_UPDATE)
            sb_printf(&body, "{\"title\":\"Load test meeting (moved agenda)\","
                             "\"description\":\"updated by planner-load\"}");
        break;
    case OP_STATIC:
    case OP_COUNT:
        snprintf(c->path, sizeof c->path, "%s", rn->opt.static_path);
        break;
    }
    struct sbuf out = {.p = c->out, .cap = sizeof c->out};
    sb_printf(&out, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n", c->method, c->path);
    if (c->user != NULL)
        sb_printf(&out, "Authorization: Bearer %s\r\n", c->user->token);
    if (if_match != NULL && if_match[0] != '\0')
        sb_printf(&out, "If-Match: %s\r\n", if_match);
    if (body.len > 0)
        sb_printf(&out, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                  body.len, body_text);
    else
        sb_printf(&out, "\r\n");
    if (body.overflow || out.overflow) { /* the sizes above make this unreachable */
        fprintf(stderr, "planner-load: request for %s does not fit in %d bytes\n", c->path,
                LOAD_REQUEST_BYTES);
        abort();
    }
    c->out_len = out.len;
    c->out_off = 0;
}

/* ---- the event loop ------------------------------------------------------------------------- */

static void conn_write(struct runner *rn, struct conn *c, int64_t now)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return; /* EPOLLOUT (edge-triggered) says when to go on */
        } else {
            conn_fail(rn, c, n < 0 ? strerror(errno) : "send wrote nothing", now);
            return;
        }
    }
}

static void issue(struct runner *rn, struct conn *c, int64_t issued_ns, int64_t now)
{
    build_request(rn, c);
    c->issued_ns = issued_ns;
    c->recorded = issued_ns >= rn->t_rec && issued_ns < rn->t_end;
    c->state = CONN_BUSY;
    rn->n_busy++;
    conn_write(rn, c, now);
}

/* Keep this connection's own events current after its create, update or delete. */
static void update_pool(struct conn *c, const struct response *r)
{
    if (c->op == OP_CREATE && r->status == 201 && c->n_pool < LOAD_POOL_MAX) {
        json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
        int64_t id;
        const char *etag = r->etag[0] ? r->etag : json_string_value(json_object_get(j, "etag"));
        if (json_id_member(j, "id", &id) == 0 && etag != NULL && strlen(etag) < 128) {
            if (c->n_pool % 64 == 0)
                c->pool = xrealloc(c->pool, (c->n_pool + 64) * sizeof *c->pool);
            struct pool_event *e = &c->pool[c->n_pool++];
            snprintf(e->id, sizeof e->id, "%lld", (long long)id);
            snprintf(e->etag, sizeof e->etag, "%s", etag);
        }
        json_decref(j);
    } else if (c->op == OP_UPDATE && r->status == 200 && r->etag[0] != '\0') {
        snprintf(c->pool[c->pool_slot].etag, sizeof c->pool[0].etag, "%s", r->etag);
    } else if (c->op == OP_UPDATE || c->op == OP_DELETE) {
        /* Deleted, or in an unknown state after an unexpected answer: forget it. */
        c->pool[c->pool_slot] = c->pool[--c->n_pool];
    }
}

static void conn_readable(struct runner *rn, struct conn *c, int64_t now)
{
    const char *why = NULL;
    bool eof = false;
    for (;;) {
        if (c->in_len == c->in_cap) {
            if (c->in_cap >= LOAD_READ_MAX_BYTES) {
                why = "response larger than 8 MiB";
                break;
            }
            c->in_cap = c->in_cap ? c->in_cap * 2 : LOAD_READ_START_BYTES;
            c->in = xrealloc(c->in, c->in_cap);
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
        } else if (n == 0) {
            eof = true;
            break;
        } else if (errno != EINTR) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                why = strerror(errno);
            break;
        }
    }
    if (c->state != CONN_BUSY) { /* the server closed an idle connection, or said too much */
        if (eof || why != NULL || c->in_len > 0)
            conn_reset(rn, c, now);
        return;
    }
    struct response r;
    const char *bad = NULL;
    int rc = c->in_len > 0 ? parse_response(c->in, c->in_len, &r, &bad) : 0;
    if (rc < 0 || (rc == 0 && (why != NULL || eof))) {
        conn_fail(rn, c, rc < 0 ? bad : why ? why : "connection closed by the server", now);
        return;
    }
    if (rc == 0)
        return;
    now = mono_ns();
    record(rn, c, r.status, r.body, r.body_len, r.server_ms, now);
    update_pool(c, &r);
    /* Anything after the answer, or an answer before the request was sent in full, means the
     * two sides disagree about the stream: start over on a new connection. */
    if (r.close || eof || why != NULL || r.total_bytes != c->in_len || c->out_off < c->out_len) {
        conn_reset(rn, c, now);
        return;
    }
    c->in_len = 0;
    c->state = CONN_IDLE;
    rn->n_busy--;
    idle_push(rn, c);
}

static void handle_event(struct runner *rn, const struct epoll_event *ev, int64_t now)
{
    if (ev->data.u64 == LOAD_TIMER_TAG) {
        uint64_t ticks;
        if (read(rn->timerfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
            perror("planner-load: read timerfd");
        return;
    }
    struct conn *c = &rn->conns[ev->data.u64 & UINT32_MAX];
    if ((uint32_t)(ev->data.u64 >> 32) != c->generation || c->fd < 0)
        return; /* about a socket closed earlier in this batch */
    if (c->state == CONN_CONNECTING) {
        if (ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            conn_connected(rn, c, now);
        return;
    }
    if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        conn_readable(rn, c, now);
    if (c->state == CONN_BUSY && c->fd >= 0 && (ev->events & EPOLLOUT))
        conn_write(rn, c, now);
}

static int64_t scheduled_ns(const struct runner *rn, uint64_t k)
{
    return rn->t_start + (int64_t)((double)k * 1e9 / rn->opt.rate);
}

/* New arrivals, reconnections and sends due at `now`; returns the next instant to wake at. */
static int64_t dispatch(struct runner *rn, int64_t now)
{
    int64_t wake = rn->stopping ? rn->t_drain : rn->t_end;
    if (rn->stopping)
        return wake;
    if (rn->n_down > 0) {
        for (size_t i = 0; i < rn->n_conns; i++) {
            struct conn *c = &rn->conns[i];
            if (c->state == CONN_DOWN && c->retry_at_ns <= now)
                conn_open(rn, c, now);
            if (c->state == CONN_DOWN && c->retry_at_ns < wake)
                wake = c->retry_at_ns;
        }
    }
    struct conn *c;
    if (rn->opt.rate <= 0) {
        while ((c = idle_pop(rn)) != NULL)
            issue(rn, c, now, now);
        return wake;
    }
    while (scheduled_ns(rn, rn->k_next) <= now)
        rn->k_next++;
    while (rn->k_sent < rn->k_next && (c = idle_pop(rn)) != NULL) {
        int64_t at = scheduled_ns(rn, rn->k_sent++);
        issue(rn, c, at, now);
    }
    /* What is left waits for a connection to come free. */
    if (now >= rn->t_rec && rn->k_next - rn->k_sent > rn->max_queue)
        rn->max_queue = rn->k_next - rn->k_sent;
    int64_t next = scheduled_ns(rn, rn->k_next);
    return next < wake ? next : wake;
}

static int run(struct runner *rn)
{
    struct epoll_event events[LOAD_EVENTS_PER_WAIT];
    rn->t_start = mono_ns();
    rn->t_rec = rn->t_start + (int64_t)(rn->opt.warmup_s * 1e9);
    rn->t_end = rn->t_rec + (int64_t)(rn->opt.duration_s * 1e9);
    for (size_t i = 0; i < rn->n_conns; i++)
        conn_open(rn, &rn->conns[i], rn->t_start);
    for (;;) {
        int64_t now = mono_ns();
        if (!rn->stopping && now >= rn->t_end) {
            rn->stopping = true;
            rn->t_drain = now + LOAD_DRAIN_NS;
            if (rn->opt.rate > 0)
                rn->unsent = rn->k_next - rn->k_sent;
        }
        if (rn->stopping && (rn->n_busy == 0 || now >= rn->t_drain))
            break;
        int64_t wake = dispatch(rn, now);
        struct itimerspec its = {.it_value = {.tv_sec = wake / NS_PER_S,
                                              .tv_nsec = wake % NS_PER_S}};
        if (timerfd_settime(rn->timerfd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
            perror("planner-load: timerfd_settime");
            return -1;
        }
        int n = epoll_wait(rn->epfd, events, LOAD_EVENTS_PER_WAIT, -1);
        if (n < 0 && errno != EINTR) {
            perror("planner-load: epoll_wait");
            return -1;
        }
        now = mono_ns();
        for (int i = 0; i < n; i++)
            handle_event(rn, &events[i], now);
    }
    int64_t now = mono_ns();
    for (size_t i = 0; i < rn->n_conns; i++) {
        struct conn *c = &rn->conns[i];
        if (c->state == CONN_BUSY) {
            if (c->recorded)
                rn->timeouts++;
            record(rn, c, 0, "no answer 2 s after the end", 27, -1, now);
        }
        if (c->fd >= 0)
            conn_close(rn, c);
    }
    return 0;
}

/* ---- output ---------------------------------------------------------------------------------- */

static json_t *ms(double v)
{
    return json_real(round(v * 1000.0) / 1000.0);
}

static void set_percentiles(json_t *o, const struct histogram *h)
{
    json_object_set_new(o, "p50_ms", ms(hist_percentile_ms(h, 50)));
    json_object_set_new(o, "p95_ms", ms(hist_percentile_ms(h, 95)));
    json_object_set_new(o, "p99_ms", ms(hist_percentile_ms(h, 99)));
    json_object_set_new(o, "max_ms", ms((double)h->max_us / 1000.0));
}

static int by_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The spread of the connections' mean latencies, {min, median, max} in ms, or null: in a
 * closed loop, connections that the server serves more slowly than others (a busier thread)
 * show here, while the percentiles mix them together. */
static json_t *per_connection_json(const struct runner *rn)
{
    double *mean = calloc(rn->n_conns ? rn->n_conns : 1, sizeof *mean);
    size_t n = 0;
    for (size_t i = 0; mean != NULL && i < rn->n_conns; i++)
        if (rn->conns[i].answered > 0)
            mean[n++] = (double)rn->conns[i].latency_us / 1000.0 / (double)rn->conns[i].answered;
    json_t *j = json_null();
    if (n > 0) {
        qsort(mean, n, sizeof *mean, by_double);
        j = json_object();
        json_object_set_new(j, "mean_ms_min", ms(mean[0]));
        json_object_set_new(j, "mean_ms_median", ms(mean[n / 2]));
        json_object_set_new(j, "mean_ms_max", ms(mean[n - 1]));
    }
    free(mean);
    return j;
}

static json_t *result_json(const struct runner *rn)
{
    const struct options *o = &rn->opt;
    json_t *root = json_object(), *overall = json_object(), *ops = json_object();
    json_t *samples = json_array();
    for (size_t i = 0; i < rn->n_samples; i++)
        json_array_append_new(samples, json_string(rn->samples[i]));
    json_object_set_new(root, "mode", json_string(o->rate > 0 ? "open" : "closed"));
    json_object_set_new(root, "connections", json_integer(o->connections));
    json_object_set_new(root, "rate", o->rate > 0 ? json_real(o->rate) : json_null());
    json_object_set_new(root, "duration_s", json_real(o->duration_s));
    json_object_set_new(root, "warmup_s", json_real(o->warmup_s));
    json_object_set_new(root, "requests", json_integer((json_int_t)rn->requests));
    json_object_set_new(root, "rps", ms((double)rn->in_window / o->duration_s));
    json_object_set_new(root, "unexpected", json_integer((json_int_t)rn->unexpected));
    json_object_set_new(root, "unexpected_samples", samples);
    json_object_set_new(root, "reconnects", json_integer((json_int_t)rn->reconnects));
    json_object_set_new(root, "connect_failures", json_integer((json_int_t)rn->connect_failures));
    json_object_set_new(root, "timeouts", json_integer((json_int_t)rn->timeouts));
    json_object_set_new(root, "max_queue", json_integer((json_int_t)rn->max_queue));
    json_object_set_new(root, "unsent", json_integer((json_int_t)rn->unsent));
    set_percentiles(overall, &rn->overall);
    json_object_set_new(root, "overall", overall);
    json_object_set_new(root, "per_connection", per_connection_json(rn));
    for (int op = 0; op < OP_COUNT; op++) {
        const struct op_stats *s = &rn->ops[op];
        if (s->count == 0 && s->unexpected == 0)
            continue;
        json_t *j = json_object(), *status = json_object();
        json_object_set_new(j, "count", json_integer((json_int_t)s->count));
        json_object_set_new(j, "rps", ms((double)s->in_window / o->duration_s));
        set_percentiles(j, &s->hist);
        json_object_set_new(j, "unexpected", json_integer((json_int_t)s->unexpected));
        json_object_set_new(j, "server_total_ms_mean",
                            s->server_n ? ms(s->server_ms_sum / (double)s->server_n)
                                        : json_null());
        for (int st = 0; st < STATUS_SLOTS; st++) {
            char key[16];
            if (s->status[st] == 0)
                continue;
            snprintf(key, sizeof key, "%d", st);
            json_object_set_new(status, st ? key : "error",
                                json_integer((json_int_t)s->status[st]));
        }
        json_object_set_new(j, "status", status);
        json_object_set_new(ops, op_names[op], j);
    }
    json_object_set_new(root, "ops", ops);
    return root;
}

static void print_summary(const struct runner *rn)
{
    const struct options *o = &rn->opt;
    fprintf(stderr, "planner-load: %s loop", o->rate > 0 ? "open" : "closed");
    if (o->rate > 0)
        fprintf(stderr, " at %.1f req/s", o->rate);
    fprintf(stderr, ", %ld connections, %g s: %llu requests, %.1f req/s, %llu unexpected, "
                    "%llu reconnects, max queue %llu\n",
            o->connections, o->duration_s, (unsigned long long)rn->requests,
            (double)rn->in_window / o->duration_s, (unsigned long long)rn->unexpected,
            (unsigned long long)rn->reconnects, (unsigned long long)rn->max_queue);
    fprintf(stderr, "  %-14s %8s %9s %8s %8s %8s %8s %6s\n", "op", "count", "req/s", "p50 ms",
            "p95 ms", "p99 ms", "max ms", "unexp");
    for (int op = 0; op <= OP_COUNT; op++) {
        const struct histogram *h = op < OP_COUNT ? &rn->ops[op].hist : &rn->overall;
        uint64_t count = op < OP_COUNT ? rn->ops[op].count : rn->requests;
        uint64_t win = op < OP_COUNT ? rn->ops[op].in_window : rn->in_window;
        uint64_t unexpected = op < OP_COUNT ? rn->ops[op].unexpected : rn->unexpected;
        if (count == 0 && unexpected == 0)
            continue;
        fprintf(stderr, "  %-14s %8llu %9.1f %8.2f %8.2f %8.2f %8.2f %6llu\n",
                op < OP_COUNT ? op_names[op] : "overall", (unsigned long long)count,
                (double)win / o->duration_s, hist_percentile_ms(h, 50),
                hist_percentile_ms(h, 95), hist_percentile_ms(h, 99),
                (double)h->max_us / 1000.0, (unsigned long long)unexpected);
    }
    for (size_t i = 0; i < rn->n_samples; i++)
        fprintf(stderr, "  unexpected: %s\n", rn->samples[i]);
}

/* ---- options ------------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fputs("usage: planner-load --plan PLAN.json --connections N --duration SECONDS\n"
          "                    [--warmup SECONDS] [--rate R] [--static PATH] [--port P]\n"
          "                    [--seed S] [--only OPERATION] --out RESULT.json\n"
          "Drives the W200 request mix (or GET PATH with --static) against 127.0.0.1 over\n"
          "keep-alive connections: closed loop, or open loop at R requests/s in total with\n"
          "latency counted from each request's scheduled time.  Writes per-operation\n"
          "percentiles as JSON to --out and a summary to stderr.  --plan may be left out\n"
          "with --static and --port.  --only runs one operation of the mix (agenda,\n"
          "room_bookings, freebusy, find_time, notifications, create, rsvp, update,\n"
          "delete; rsvp falls back to notifications without invitations, update and\n"
          "delete to create while the connection has no event of its own), or one part\n"
          "of it in the mix's proportions: reads (agenda to notifications) or writes.\n"
          "Exit status: 0 run completed, 1 setup failure, 2 usage.\n",
          f);
}

static int parse_number(const char *flag, const char *text, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr, "planner-load: %s must be a number from %g to %g\n", flag, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* Fill `o` from argv.  Returns 0, 1 after --help, or -1 after printing why. */
static int parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){.seed = 1, .only = -1, .part = &mix_parts[0]};
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i], *value;
        long long v;
        if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "planner-load: %s needs a value\n", flag);
            return -1;
        }
        value = argv[++i];
        if (strcmp(flag, "--plan") == 0) {
            o->plan_path = value;
        } else if (strcmp(flag, "--only") == 0) {
            bool found = false; /* an operation, or a part of the mix; the last --only wins */
            o->only = -1;
            o->part = &mix_parts[0];
            for (int k = 0; k < OP_STATIC && !found; k++)
                if ((found = strcmp(value, op_names[k]) == 0))
                    o->only = k;
            for (size_t k = 0; k < COUNT_OF(mix_parts) && !found; k++)
                if ((found = strcmp(value, mix_parts[k].name) == 0))
                    o->part = &mix_parts[k];
            if (!found) {
                fprintf(stderr, "planner-load: --only takes an operation of the mix, like agenda,"
                                " or reads or writes\n");
                return -1;
            }
        } else if (strcmp(flag, "--out") == 0) {
            o->out_path = value;
        } else if (strcmp(flag, "--static") == 0) {
            if (value[0] != '/' || !is_safe_text(value, 200)) {
                fprintf(stderr, "planner-load: --static must be a path like /healthz\n");
                return -1;
            }
            o->static_path = value;
        } else if (strcmp(flag, "--connections") == 0) {
            if (bench_parse_integer("planner-load", flag, value, 1, LOAD_MAX_CONNECTIONS, &v) < 0)
                return -1;
            o->connections = (long)v;
        } else if (strcmp(flag, "--port") == 0) {
            if (bench_parse_integer("planner-load", flag, value, 1, 65535, &v) < 0)
                return -1;
            o->port = (long)v;
        } else if (strcmp(flag, "--seed") == 0) {
            if (bench_parse_integer("planner-load", flag, value, 0, INT64_MAX, &v) < 0)
                return -1;
            o->seed = (uint64_t)v;
        } else if (strcmp(flag, "--duration") == 0) {
            if (parse_number(flag, value, 0.001, 86400, &o->duration_s) < 0)
                return -1;
        } else if (strcmp(flag, "--warmup") == 0) {
            if (parse_number(flag, value, 0, 86400, &o->warmup_s) < 0)
                return -1;
        } else if (strcmp(flag, "--rate") == 0) {
            if (parse_number(flag, value, 0.001, 1e7, &o->rate) < 0)
                return -1;
        } else {
            fprintf(stderr, "planner-load: unknown option %s\n", flag);
            return -1;
        }
    }
    const char *missing = o->out_path == NULL      ? "--out"
                          : o->connections == 0    ? "--connections"
                          : o->duration_s == 0     ? "--duration"
                          : o->plan_path == NULL && (o->static_path == NULL || o->port == 0)
                              ? "--plan (or --static with --port)"
                              : NULL;
    if (missing != NULL) {
        fprintf(stderr, "planner-load: %s is required\n", missing);
        return -1;
    }
    return 0;
}

/* One blocking connection attempt, so that a server that is not there is a setup failure. */
static int probe(long port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = -1;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
        rc = 0;
    else
        fprintf(stderr, "planner-load: cannot connect to 127.0.0.1:%ld: %s\n", port,
                strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

static int write_result(const struct runner *rn)
{
    json_t *result = result_json(rn);
    int rc = json_dump_file(result, rn->opt.out_path, JSON_INDENT(1) | JSON_REAL_PRECISION(12));
    if (rc != 0)
        fprintf(stderr, "planner-load: cannot write %s\n", rn->opt.out_path);
    json_decref(result);
    return rc;
}

int main(int argc, char **argv)
{
    struct runner *rn = xcalloc(1, sizeof *rn);
    int status = 1, rc = parse_options(argc, argv, &rn->opt);
    rn->epfd = rn->timerfd = -1;
    if (rc != 0) {
        if (rc < 0)
            usage(stderr);
        status = rc < 0 ? 2 : 0;
        goto done;
    }
    if (rn->opt.plan_path != NULL &&
        plan_load(rn->opt.plan_path, rn->opt.static_path != NULL, &rn->plan) < 0)
        goto done;
    if (rn->opt.port == 0)
        rn->opt.port = rn->plan.port;
    if (probe(rn->opt.port) < 0)
        goto done;
    rn->epfd = epoll_create1(EPOLL_CLOEXEC);
    rn->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event tev = {.events = EPOLLIN, .data.u64 = LOAD_TIMER_TAG};
    if (rn->epfd < 0 || rn->timerfd < 0 ||
        epoll_ctl(rn->epfd, EPOLL_CTL_ADD, rn->timerfd, &tev) != 0) {
        perror("planner-load: epoll/timerfd");
        goto done;
    }
    rn->n_conns = (size_t)rn->opt.connections;
    rn->conns = xcalloc(rn->n_conns, sizeof *rn->conns);
    rn->idle = xcalloc(rn->n_conns, sizeof *rn->idle);
    for (size_t i = 0; i < rn->n_conns; i++) {
        struct conn *c = &rn->conns[i];
        c->index = i;
        c->fd = -1;
        c->state = CONN_DOWN;
        rn->n_down++;
        if (rn->opt.static_path == NULL)
            c->user = &rn->plan.users[i % rn->plan.n_users];
        prng_init(&c->rng, rn->opt.seed, i + 1);
    }
    if (run(rn) < 0)
        goto done;
    print_summary(rn);
    if (write_result(rn) == 0)
        status = 0;
done:
    for (size_t i = 0; rn->conns && i < rn->n_conns; i++) {
        free(rn->conns[i].in);
        free(rn->conns[i].pool);
        if (rn->conns[i].fd >= 0)
            close(rn->conns[i].fd);
    }
    for (size_t i = 0; i < rn->n_samples; i++)
        free(rn->samples[i]);
    if (rn->timerfd >= 0)
        close(rn->timerfd);
    if (rn->epfd >= 0)
        close(rn->epfd);
    free(rn->conns);
    free(rn->idle);
    plan_free(&rn->plan);
    free(rn);
    return status;
}
