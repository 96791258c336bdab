/* The settings table and the four sources it is filled from, in increasing precedence. */
#include "config.h"

#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum kind { K_STR, K_INT, K_LONG, K_BOOL, K_ENUM };

struct setting {
    const char *name; /* file key; the flag is the same with '-', the env PLANNER_ + upper */
    enum kind kind;
    size_t offset, size;
    long min, max;
    const char *const *choices; /* K_ENUM: NULL-terminated, index = stored value */
    const char *def;
    const char *help;
};

static const char *const env_names[] = {"development", "production", NULL};
static const char *const level_names[] = {"debug", "info", "warn", "error", NULL};
static const char *const pwhash_names[] = {"interactive", "moderate", "min", NULL};

#define S(field, kind, min, max, choices, def, help)                                           \
    { #field, kind, offsetof(struct config, field), sizeof(((struct config *)0)->field), min,  \
      max, choices, def, help }

static const struct setting settings[] = {
    S(listen, K_STR, 0, 0, NULL, "127.0.0.1:8080", "address to listen on, HOST:PORT"),
    S(database, K_STR, 0, 0, NULL, "sqlite:./var/planner.db", "database URL (sqlite:PATH)"),
    S(workers, K_INT, 0, 64, NULL, "0", "worker processes (0 = one per core)"),
    S(threads, K_INT, 1, 256, NULL, "2", "HTTP threads per worker, each with a DB connection"),
    S(env, K_ENUM, 0, 0, env_names, "development", "development or production (log policy)"),
    S(log_level, K_ENUM, 0, 0, level_names, "info", "debug, info, warn or error"),
    S(slow_request_ms, K_INT, 0, 3600000, NULL, "500", "production: log requests slower than this"),
    S(max_body_bytes, K_LONG, 1, 1L << 30, NULL, "1048576", "largest request body (413 above)"),
    S(max_url_bytes, K_INT, 64, 65536, NULL, "4096", "longest request target (414 above)"),
    S(max_header_bytes, K_INT, 256, 262144, NULL, "16384", "all request headers (431 above)"),
    S(connection_timeout_s, K_INT, 1, 3600, NULL, "75", "close connections idle this long"),
    S(max_connections, K_INT, 1, 100000, NULL, "1024", "open connections per worker"),
    S(drain_timeout_s, K_INT, 0, 3600, NULL, "10", "SIGTERM: longest wait for in-flight requests"),
    S(session_ttl_s, K_INT, 60, 31536000, NULL, "2592000", "bearer token lifetime"),
    S(login_window_s, K_INT, 1, 86400, NULL, "900", "failed-login counting window"),
    S(login_max_per_account, K_INT, 1, 100000, NULL, "5", "failed logins per account per window"),
    S(login_max_per_address, K_INT, 1, 100000, NULL, "20", "failed logins per address per window"),
    S(trust_proxy, K_BOOL, 0, 0, NULL, "false", "client address from X-Forwarded-For (behind nginx)"),
    S(pwhash, K_ENUM, 0, 0, pwhash_names, "interactive", "argon2id cost: interactive, moderate, min"),
    S(recurrence_horizon_days, K_INT, 30, 3650, NULL, "730",
      "recurring events are expanded into occurrences this many days ahead"),
    S(sqlite_mmap_mb, K_INT, 0, 2047, NULL, "0",
      "SQLite: read the database file through a mapping of this many MB (0 = pread)"),
    S(page_cache_mb, K_INT, 0, 65536, NULL, "6",
      "per worker: database file pages kept for all its connections, in MB (0 = none)"),
    S(cache_mb, K_INT, 0, 65536, NULL, "4",
      "per worker: events' participant lists kept between requests, in MB (0 = none)"),
};
#define NSETTINGS (sizeof settings / sizeof settings[0])
#define NSETTINGS_MAX 64
_Static_assert(NSETTINGS <= NSETTINGS_MAX, "raise NSETTINGS_MAX");

int config_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)(n > 64 ? 64 : n);
}

int config_worker_count(const struct config *cfg)
{
    return cfg->workers > 0 ? cfg->workers : config_cpu_count();
}

/* "max-body-bytes" and "max_body_bytes" both name max_body_bytes. */
static const struct setting *find(const char *name)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *a = settings[i].name, *b = name;
        while (*a && (*a == *b || (*a == '_' && *b == '-')))
            a++, b++;
        if (*a == '\0' && *b == '\0')
            return &settings[i];
    }
    return NULL;
}

bool config_is_setting(const char *flag)
{
    return find(flag) != NULL || strcmp(flag, "config") == 0;
}

/* Where each setting's value came from, for messages ("default", "PLANNER_X", "--x",
 * "file:line"); filled as config_build goes. */
struct sources {
    char of[NSETTINGS_MAX][320];
};

static int set_value(struct config *cfg, const struct setting *s, const char *value,
                     const char *source, char *why, size_t why_len);

static int set(struct config *cfg, struct sources *src, const struct setting *s, const char *value,
               const char *source, char *why, size_t why_len)
{
    int rc = set_value(cfg, s, value, source, why, why_len);
    if (rc == 0 && src != NULL)
        snprintf(src->of[s - settings], sizeof src->of[0], "%s", source);
    return rc;
}

static int set_value(struct config *cfg, const struct setting *s, const char *value,
                     const char *source, char *why, size_t why_len)
{
    char *dst = (char *)cfg + s->offset;
    char *end;
    long v;
    switch (s->kind) {
    case K_STR:
        if (strlen(value) >= s->size || value[0] == '\0') {
            snprintf(why, why_len, "invalid setting %s (from %s): must be 1 to %zu characters",
                     s->name, source, s->size - 1);
            return -1;
        }
        memcpy(dst, value, strlen(value) + 1);
        return 0;
    case K_INT:
    case K_LONG:
        errno = 0;
        v = strtol(value, &end, 10);
        if (errno || end == value || *end != '\0' || v < s->min || v > s->max) {
            snprintf(why, why_len, "invalid setting %s=%.64s (from %s): must be an integer from %ld to %ld",
                     s->name, value, source, s->min, s->max);
            return -1;
        }
        if (s->kind == K_INT)
            *(int *)dst = (int)v;
        else
            *(long *)dst = v;
        return 0;
    case K_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes"))
            *(bool *)dst = true;
        else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "no"))
            *(bool *)dst = false;
        else {
            snprintf(why, why_len, "invalid setting %s=%.64s (from %s): must be true or false",
                     s->name, value, source);
            return -1;
        }
        return 0;
    case K_ENUM:
        for (int i = 0; s->choices[i]; i++) {
            if (!strcmp(value, s->choices[i])) {
                *(int *)dst = i;
                return 0;
            }
        }
        {
            char list[128] = "";
            size_t off = 0;
            for (int i = 0; s->choices[i] && off < sizeof list; i++)
                off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "",
                                        s->choices[i]);
            snprintf(why, why_len, "invalid setting %s=%.64s (from %s): must be one of %s", s->name,
                     value, source, list);
        }
        return -1;
    }
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* The file holds `key = value` lines; '#' starts a comment line. */
static int load_file(struct config *cfg, struct sources *src, const char *path, char *why,
                     size_t why_len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(why, why_len, "invalid setting config=%.200s: %s", path, strerror(errno));
        return -1;
    }
    char line[1024], source[300];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char *p = trim(line);
        if (*p == '\0' || *p == '#')
            continue;
        char *eq = strchr(p, '=');
        snprintf(source, sizeof source, "%.200s:%d", path, lineno);
        if (eq == NULL) {
            snprintf(why, why_len, "invalid config line at %s: expected key = value", source);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(p), *value = trim(eq + 1);
        const struct setting *s = find(key);
        if (s == NULL) {
            snprintf(why, why_len, "unknown setting %.64s at %s", key, source);
            rc = -1;
            break;
        }
        rc = set(cfg, src, s, value, source, why, why_len);
    }
    fclose(f);
    return rc;
}

static int validate(const struct config *cfg, const struct sources *src, char *why,
                    size_t why_len)
{
    const char *listen_from = src->of[find("listen") - settings];
    const char *db_from = src->of[find("database") - settings];
    const char *colon = strrchr(cfg->listen, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (colon == NULL || colon == cfg->listen || colon[1] == '\0' || *end != '\0' || port < 0 ||
        port > 65535) {
        snprintf(why, why_len, "invalid setting listen=%s (from %s): must be HOST:PORT",
                 cfg->listen, listen_from);
        return -1;
    }
    if (strncmp(cfg->database, "sqlite:", 7) == 0) {
        if (cfg->database[7] == '\0') {
            snprintf(why, why_len, "invalid setting database=%s (from %s): sqlite: needs a path",
                     cfg->database, db_from);
            return -1;
        }
    } else if (strncmp(cfg->database, "postgres://", 11) == 0 ||
               strncmp(cfg->database, "postgresql://", 13) == 0) {
        snprintf(why, why_len,
                 "invalid setting database (from %s): the PostgreSQL engine is not built yet;"
                 " use sqlite:PATH", db_from);
        return -1;
    } else {
        snprintf(why, why_len, "invalid setting database=%.200s (from %s): must be sqlite:PATH",
                 cfg->database, db_from);
        return -1;
    }
    return 0;
}

int config_build(struct config *out, const struct config_flags *flags, char *why, size_t why_len)
{
    struct config cfg = {0};
    struct sources src;
    for (size_t i = 0; i < NSETTINGS; i++)
        if (set(&cfg, &src, &settings[i], settings[i].def, "default", why, why_len) < 0)
            return -1;

    const char *file = getenv("PLANNER_CONFIG");
    for (size_t i = 0; flags && i < flags->n; i++)
        if (strcmp(flags->key[i], "config") == 0)
            file = flags->value[i];
    if (file && *file) {
        snprintf(cfg.config_file, sizeof cfg.config_file, "%s", file);
        if (load_file(&cfg, &src, file, why, why_len) < 0)
            return -1;
    }

    for (size_t i = 0; i < NSETTINGS; i++) {
        char env[64] = "PLANNER_";
        size_t j = strlen(env);
        for (const char *c = settings[i].name; *c && j + 1 < sizeof env; c++)
            env[j++] = (char)toupper((unsigned char)*c);
        env[j] = '\0';
        const char *v = getenv(env);
        if (v != NULL && set(&cfg, &src, &settings[i], v, env, why, why_len) < 0)
            return -1;
    }

    for (size_t i = 0; flags && i < flags->n; i++) {
        if (strcmp(flags->key[i], "config") == 0)
            continue;
        const struct setting *s = find(flags->key[i]);
        char source[80];
        snprintf(source, sizeof source, "--%.64s", flags->key[i]);
        if (s == NULL) {
            snprintf(why, why_len, "unknown option --%.64s", flags->key[i]);
            return -1;
        }
        if (set(&cfg, &src, s, flags->value[i], source, why, why_len) < 0)
            return -1;
    }
    if (validate(&cfg, &src, why, why_len) < 0)
        return -1;
    *out = cfg;
    return 0;
}

void config_print_help(void)
{
    printf("Settings (flag / PLANNER_NAME environment / config file key), default in brackets:\n");
    printf("  --config FILE                    read settings from FILE (key = value lines)\n");
    for (size_t i = 0; i < NSETTINGS; i++) {
        char flag[64];
        size_t j = 0;
        for (const char *c = settings[i].name; *c && j + 1 < sizeof flag; c++)
            flag[j++] = *c == '_' ? '-' : *c;
        flag[j] = '\0';
        printf("  --%-30s %s [%s]\n", flag, settings[i].help, settings[i].def);
    }
}
