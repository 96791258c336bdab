/* One validated configuration, built from defaults < config file < PLANNER_* environment <
 * command-line flags.  Every setting is declared once, in the table in config.c, which gives
 * its flag (--max-body-bytes), its environment name (PLANNER_MAX_BODY_BYTES), its file key
 * (max_body_bytes), its bounds and its help line. */
#ifndef PLANNER_CONFIG_H
#define PLANNER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum config_env { CONFIG_ENV_DEVELOPMENT, CONFIG_ENV_PRODUCTION };

struct config {
    char config_file[256];     /* the file read, or "" */
    char listen[128];          /* host:port, IPv4 or [IPv6] */
    char database[512];        /* sqlite:PATH */
    int workers;               /* worker processes; 0 = one per core */
    int threads;               /* libmicrohttpd threads per worker, each with a DB connection */
    int env;                   /* enum config_env */
    int log_level;             /* enum log_level */
    int slow_request_ms;       /* production access log threshold */
    long max_body_bytes;       /* request body cap -> 413 */
    int max_url_bytes;         /* -> 414 */
    int max_header_bytes;      /* all request headers together -> 431 */
    int connection_timeout_s;  /* idle connection timeout */
    int max_connections;       /* per worker process */
    int drain_timeout_s;       /* SIGTERM: longest wait for in-flight requests */
    int session_ttl_s;         /* bearer token lifetime */
    int login_window_s;        /* failed-login throttling window */
    int login_max_per_account; /* failures per account per window before 429 */
    int login_max_per_address; /* failures per client address per window before 429 */
    bool trust_proxy;          /* take the client address from X-Forwarded-For */
    int pwhash;                /* enum config_pwhash: argon2id cost */
    int recurrence_horizon_days; /* recurring events are materialised this far ahead */
    int sqlite_mmap_mb;          /* request connections map this much of the file (store_mmap) */
    int page_cache_mb;           /* database pages a worker keeps for its connections */
    int cache_mb;                /* participant lists kept per worker (store_events_cache_start) */
};

enum config_pwhash { CONFIG_PWHASH_INTERACTIVE, CONFIG_PWHASH_MODERATE, CONFIG_PWHASH_MIN };

/* Command-line overrides: the settings given as flags, kept so SIGHUP can rebuild the same
 * configuration from a re-read file and environment. Strings are borrowed from argv. */
struct config_flags {
    const char *key[64];
    const char *value[64];
    size_t n;
};

/* Whether `flag` (without the leading dashes, dashes or underscores) names a setting. */
bool config_is_setting(const char *flag);

/* Build `out` from defaults, the file named by a --config flag or PLANNER_CONFIG, the
 * environment, then `flags`, and validate it.  On failure returns -1 and writes one line to
 * `why` naming the setting and where its value came from. */
int config_build(struct config *out, const struct config_flags *flags, char *why, size_t why_len);

/* Print every setting with its default and help, for --help. */
void config_print_help(void);

/* The number of online CPUs, at least 1. */
int config_cpu_count(void);

/* The resolved worker count (workers, or the CPU count when workers is 0). */
int config_worker_count(const struct config *cfg);

#endif
