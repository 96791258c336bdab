/* JSON-lines logger. */
#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int min_level = LOG_INFO;
static const char *proc_role = "cli";
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(int level, const char *role)
{
    min_level = level;
    proc_role = role;
}

bool log_access_wanted(bool production, int status, int64_t duration_us, int64_t slow_us)
{
    if (!production)
        return true;
    return status >= 400 || duration_us >= slow_us;
}

static void write_all(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0)
            return; /* stderr is gone: nothing sensible left to do */
        s += w;
        n -= (size_t)w;
    }
}

void log_fields(int level, const char *msg, json_t *fields)
{
    if (level < min_level) {
        json_decref(fields);
        return;
    }
    struct timespec ts;
    struct tm tm;
    char when[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);

    json_t *line = json_object();
    json_object_set_new(line, "ts", json_string(when));
    json_object_set_new(line, "level", json_string(level_names[level]));
    json_object_set_new(line, "role", json_string(proc_role));
    json_object_set_new(line, "pid", json_integer(getpid()));
    json_object_set_new(line, "msg", json_string(msg));
    if (fields != NULL) {
        json_object_update(line, fields);
        json_decref(fields);
    }
    char *text = json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
    json_decref(line);
    if (text == NULL)
        return;
    size_t len = strlen(text);
    text[len] = '\n'; /* replaces the NUL: one write for the whole line */
    write_all(text, len + 1);
    free(text);
}

void log_msg(int level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_fields(level, buf, NULL);
}
