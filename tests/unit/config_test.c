/* config: defaults < file < PLANNER_* environment < flags, validation, and the `why` line. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "config.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

extern char **environ;

static char conf_path[64];

/* Start every test without PLANNER_* variables from the caller's environment. */
static void clear_planner_env(void)
{
    char names[64][64];
    size_t n = 0;
    for (char **e = environ; *e != NULL && n < ARRAY_LEN(names); e++) {
        if (strncmp(*e, "PLANNER_", 8) != 0)
            continue;
        size_t len = strcspn(*e, "=");
        if (len < sizeof names[0]) {
            memcpy(names[n], *e, len);
            names[n++][len] = '\0';
        }
    }
    for (size_t i = 0; i < n; i++)
        unsetenv(names[i]);
}

static void setup(void)
{
    clear_planner_env();
    conf_path[0] = '\0';
}

static void teardown(void)
{
    clear_planner_env();
    if (conf_path[0] != '\0')
        unlink(conf_path);
}

TestSuite(config, .init = setup, .fini = teardown);

/* Write `text` to a new temporary file whose path is left in conf_path. */
static const char *write_conf(const char *text)
{
    snprintf(conf_path, sizeof conf_path, "/tmp/planner-config-test-XXXXXX");
    int fd = mkstemp(conf_path);
    cr_assert(ge(int, fd, 0));
    FILE *f = fdopen(fd, "w");
    cr_assert(not(eq(ptr, f, NULL)));
    cr_assert(eq(int, fputs(text, f) >= 0, 1));
    cr_assert(eq(int, fclose(f), 0));
    return conf_path;
}

static void add_flag(struct config_flags *fl, const char *key, const char *value)
{
    fl->key[fl->n] = key;
    fl->value[fl->n] = value;
    fl->n++;
}

Test(config, defaults)
{
    struct config cfg;
    char why[256] = "";
    cr_assert(eq(int, config_build(&cfg, NULL, why, sizeof why), 0), "%s", why);
    cr_expect(eq(str, cfg.listen, "127.0.0.1:8080"));
    cr_expect(eq(str, cfg.database, "sqlite:./var/planner.db"));
    cr_expect(eq(str, cfg.config_file, ""));
    cr_expect(eq(int, cfg.workers, 0));
    cr_expect(eq(int, cfg.threads, 2));
    cr_expect(eq(int, cfg.env, CONFIG_ENV_DEVELOPMENT));
    cr_expect(eq(int, cfg.log_level, LOG_INFO));
    cr_expect(eq(int, cfg.slow_request_ms, 500));
    cr_expect(eq(long, cfg.max_body_bytes, 1048576L));
    cr_expect(eq(int, cfg.max_url_bytes, 4096));
    cr_expect(eq(int, cfg.max_header_bytes, 16384));
    cr_expect(eq(int, cfg.session_ttl_s, 2592000));
    cr_expect(eq(int, cfg.login_window_s, 900));
    cr_expect(eq(int, cfg.login_max_per_account, 5));
    cr_expect(eq(int, cfg.login_max_per_address, 20));
    cr_expect(eq(int, cfg.trust_proxy, false));
    cr_expect(eq(int, cfg.pwhash, CONFIG_PWHASH_INTERACTIVE));
}

Test(config, env_overrides_default_and_flag_overrides_env)
{
    struct config cfg;
    char why[256] = "";
    setenv("PLANNER_THREADS", "8", 1);
    cr_assert(eq(int, config_build(&cfg, NULL, why, sizeof why), 0), "%s", why);
    cr_expect(eq(int, cfg.threads, 8));

    struct config_flags fl = {0};
    add_flag(&fl, "threads", "16");
    add_flag(&fl, "max-body-bytes", "2048"); /* dashes */
    add_flag(&fl, "login_window_s", "60");   /* or underscores */
    cr_assert(eq(int, config_build(&cfg, &fl, why, sizeof why), 0), "%s", why);
    cr_expect(eq(int, cfg.threads, 16));
    cr_expect(eq(long, cfg.max_body_bytes, 2048L));
    cr_expect(eq(int, cfg.login_window_s, 60));
}

Test(config, file_overrides_default_and_env_overrides_file)
{
    const char *path = write_conf("# Planner\n"
                                  "\n"
                                  "threads = 6\n"
                                  "  workers=2  \n"
                                  "listen = 0.0.0.0:9000\n"
                                  "env = production\n"
                                  "trust_proxy = yes\n");
    struct config_flags fl = {0};
    add_flag(&fl, "config", path);
    struct config cfg;
    char why[256] = "";
    cr_assert(eq(int, config_build(&cfg, &fl, why, sizeof why), 0), "%s", why);
    cr_expect(eq(str, cfg.config_file, (char *)path));
    cr_expect(eq(int, cfg.threads, 6));
    cr_expect(eq(int, cfg.workers, 2));
    cr_expect(eq(str, cfg.listen, "0.0.0.0:9000"));
    cr_expect(eq(int, cfg.env, CONFIG_ENV_PRODUCTION));
    cr_expect(eq(int, cfg.trust_proxy, true));

    setenv("PLANNER_THREADS", "8", 1);
    cr_assert(eq(int, config_build(&cfg, &fl, why, sizeof why), 0), "%s", why);
    cr_expect(eq(int, cfg.threads, 8));
    cr_expect(eq(int, cfg.workers, 2)); /* still from the file */

    add_flag(&fl, "threads", "12");
    cr_assert(eq(int, config_build(&cfg, &fl, why, sizeof why), 0), "%s", why);
    cr_expect(eq(int, cfg.threads, 12));
}

Test(config, file_named_by_env_and_flag_wins)
{
    const char *path = write_conf("threads = 3\n");
    setenv("PLANNER_CONFIG", path, 1);
    struct config cfg;
    char why[256] = "";
    cr_assert(eq(int, config_build(&cfg, NULL, why, sizeof why), 0), "%s", why);
    cr_expect(eq(int, cfg.threads, 3));

    struct config_flags fl = {0};
    add_flag(&fl, "config", "/nonexistent/planner.conf");
    cr_expect(eq(int, config_build(&cfg, &fl, why, sizeof why), -1));
    cr_expect(strstr(why, "/nonexistent/planner.conf") != NULL, "why: %s", why);
}

/* Every bad value fails, names the setting and where the value came from, and leaves `out`
 * alone. */
enum source { FROM_ENV, FROM_FLAG, FROM_FILE };

static const struct {
    enum source from;
    const char *key, *value; /* key: env name, flag name, or file key */
    const char *setting, *source;
} bad_values[] = {
    {FROM_ENV, "PLANNER_THREADS", "0", "threads", "PLANNER_THREADS"},
    {FROM_ENV, "PLANNER_THREADS", "257", "threads", "PLANNER_THREADS"},
    {FROM_ENV, "PLANNER_THREADS", "four", "threads", "PLANNER_THREADS"},
    {FROM_ENV, "PLANNER_THREADS", "4x", "threads", "PLANNER_THREADS"},
    {FROM_ENV, "PLANNER_THREADS", "", "threads", "PLANNER_THREADS"},
    {FROM_ENV, "PLANNER_WORKERS", "-1", "workers", "PLANNER_WORKERS"},
    {FROM_ENV, "PLANNER_WORKERS", "65", "workers", "PLANNER_WORKERS"},
    {FROM_ENV, "PLANNER_ENV", "prod", "env", "PLANNER_ENV"},
    {FROM_ENV, "PLANNER_LOG_LEVEL", "verbose", "log_level", "PLANNER_LOG_LEVEL"},
    {FROM_ENV, "PLANNER_TRUST_PROXY", "maybe", "trust_proxy", "PLANNER_TRUST_PROXY"},
    {FROM_ENV, "PLANNER_PWHASH", "max", "pwhash", "PLANNER_PWHASH"},
    {FROM_ENV, "PLANNER_LISTEN", "", "listen", "PLANNER_LISTEN"},
    {FROM_FLAG, "threads", "-1", "threads", "--threads"},
    {FROM_FLAG, "max-body-bytes", "99999999999999999999", "max_body_bytes", "--max-body-bytes"},
    {FROM_FLAG, "max-body-bytes", "0", "max_body_bytes", "--max-body-bytes"},
    {FROM_FLAG, "session-ttl-s", "59", "session_ttl_s", "--session-ttl-s"},
    {FROM_FILE, "threads", "0", "threads", ":3"},
    {FROM_FILE, "env", "staging", "env", ":3"},
    {FROM_FILE, "max_url_bytes", "63", "max_url_bytes", ":3"},
};

Test(config, bad_values_name_setting_and_source)
{
    for (size_t i = 0; i < ARRAY_LEN(bad_values); i++) {
        clear_planner_env();
        struct config_flags fl = {0};
        char text[256], source[128];
        snprintf(source, sizeof source, "%s", bad_values[i].source);
        if (bad_values[i].from == FROM_ENV) {
            setenv(bad_values[i].key, bad_values[i].value, 1);
        } else if (bad_values[i].from == FROM_FLAG) {
            add_flag(&fl, bad_values[i].key, bad_values[i].value);
        } else {
            snprintf(text, sizeof text, "# line 1\nworkers = 1\n%s = %s\n", bad_values[i].key,
                     bad_values[i].value);
            add_flag(&fl, "config", write_conf(text));
            snprintf(source, sizeof source, "%s%s", conf_path, bad_values[i].source);
        }
        struct config cfg;
        memset(&cfg, 0x7b, sizeof cfg);
        char why[256] = "";
        cr_expect(eq(int, config_build(&cfg, &fl, why, sizeof why), -1), "case %zu", i);
        cr_expect(strstr(why, bad_values[i].setting) != NULL, "case %zu: why: %s",
                  i, why);
        cr_expect(strstr(why, source) != NULL, "case %zu: want %s in why: %s", i,
                  source, why);
        cr_expect(eq(int, cfg.threads, 0x7b7b7b7b), "case %zu: out was written", i);
        if (conf_path[0] != '\0') {
            unlink(conf_path);
            conf_path[0] = '\0';
        }
    }
}

static const struct {
    const char *text, *want; /* want: a substring of why */
} bad_files[] = {
    {"threads = 4\nbogus = 1\n", "bogus"},
    {"threads = 4\nbogus = 1\n", ":2"},
    {"config = /etc/other.conf\n", "config"}, /* not a setting inside a file */
    {"threads 4\n", ":1"},                     /* no '=' */
};

Test(config, bad_file_lines)
{
    for (size_t i = 0; i < ARRAY_LEN(bad_files); i++) {
        struct config_flags fl = {0};
        add_flag(&fl, "config", write_conf(bad_files[i].text));
        struct config cfg;
        char why[256] = "";
        cr_expect(eq(int, config_build(&cfg, &fl, why, sizeof why), -1), "case %zu", i);
        cr_expect(strstr(why, bad_files[i].want) != NULL, "case %zu: why: %s", i,
                  why);
        unlink(conf_path);
        conf_path[0] = '\0';
    }
}

Test(config, unknown_flag)
{
    struct config_flags fl = {0};
    add_flag(&fl, "thread", "4");
    struct config cfg;
    char why[256] = "";
    cr_expect(eq(int, config_build(&cfg, &fl, why, sizeof why), -1));
    cr_expect(strstr(why, "--thread") != NULL, "why: %s", why);
}

static const struct {
    const char *env, *value;
    size_t offset;
    int want;
} enums[] = {
    {"PLANNER_ENV", "development", offsetof(struct config, env), CONFIG_ENV_DEVELOPMENT},
    {"PLANNER_ENV", "production", offsetof(struct config, env), CONFIG_ENV_PRODUCTION},
    {"PLANNER_LOG_LEVEL", "debug", offsetof(struct config, log_level), LOG_DEBUG},
    {"PLANNER_LOG_LEVEL", "info", offsetof(struct config, log_level), LOG_INFO},
    {"PLANNER_LOG_LEVEL", "warn", offsetof(struct config, log_level), LOG_WARN},
    {"PLANNER_LOG_LEVEL", "error", offsetof(struct config, log_level), LOG_ERROR},
    {"PLANNER_PWHASH", "interactive", offsetof(struct config, pwhash), CONFIG_PWHASH_INTERACTIVE},
    {"PLANNER_PWHASH", "moderate", offsetof(struct config, pwhash), CONFIG_PWHASH_MODERATE},
    {"PLANNER_PWHASH", "min", offsetof(struct config, pwhash), CONFIG_PWHASH_MIN},
};

Test(config, enum_values)
{
    for (size_t i = 0; i < ARRAY_LEN(enums); i++) {
        clear_planner_env();
        setenv(enums[i].env, enums[i].value, 1);
        struct config cfg;
        char why[256] = "";
        cr_assert(eq(int, config_build(&cfg, NULL, why, sizeof why), 0), "case %zu: %s", i, why);
        int got;
        memcpy(&got, (const char *)&cfg + enums[i].offset, sizeof got);
        cr_expect(eq(int, got, enums[i].want), "case %zu: %s=%s", i, enums[i].env,
                  enums[i].value);
    }
}

static const struct {
    const char *value;
    bool want;
} bools[] = {
    {"true", true}, {"1", true}, {"yes", true}, {"false", false}, {"0", false}, {"no", false},
};

Test(config, bool_values)
{
    for (size_t i = 0; i < ARRAY_LEN(bools); i++) {
        setenv("PLANNER_TRUST_PROXY", bools[i].value, 1);
        struct config cfg;
        char why[256] = "";
        cr_assert(eq(int, config_build(&cfg, NULL, why, sizeof why), 0), "case %zu: %s", i, why);
        cr_expect(eq(int, cfg.trust_proxy, bools[i].want), "case %zu: %s", i, bools[i].value);
    }
}

static const struct {
    const char *listen;
    int rc;
} listens[] = {
    {"127.0.0.1:8080", 0},
    {"0.0.0.0:0", 0},
    {"[::1]:8080", 0},
    {"localhost:65535", 0},
    {"localhost", -1},     /* no port */
    {"localhost:", -1},    /* empty port */
    {":8080", -1},         /* no host */
    {"localhost:65536", -1},
    {"localhost:80x", -1},
    {"[::1]", -1},         /* IPv6 without a port */
};

Test(config, listen_needs_host_and_port)
{
    for (size_t i = 0; i < ARRAY_LEN(listens); i++) {
        struct config_flags fl = {0};
        add_flag(&fl, "listen", listens[i].listen);
        struct config cfg;
        char why[256] = "";
        int rc = config_build(&cfg, &fl, why, sizeof why);
        cr_expect(eq(int, rc, listens[i].rc), "case %zu: %s: %s", i, listens[i].listen, why);
        if (rc == 0)
            cr_expect(eq(str, cfg.listen, (char *)listens[i].listen), "case %zu", i);
        else
            cr_expect(strstr(why, "listen") != NULL, "case %zu: why: %s", i, why);
    }
}

/* The header promises that `why` names where the bad value came from; that holds for the
 * checks done after all sources are merged (listen, database) too. */
Test(config, late_validation_names_source)
{
    static const struct {
        const char *env, *value, *setting;
    } cases[] = {
        {"PLANNER_LISTEN", "localhost", "listen"},
        {"PLANNER_DATABASE", "mysql://db/planner", "database"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        clear_planner_env();
        setenv(cases[i].env, cases[i].value, 1);
        struct config cfg;
        char why[256] = "";
        cr_expect(eq(int, config_build(&cfg, NULL, why, sizeof why), -1), "case %zu", i);
        cr_expect(strstr(why, cases[i].setting) != NULL, "case %zu: why: %s", i,
                  why);
        cr_expect(strstr(why, cases[i].env) != NULL, "case %zu: want %s in why: %s",
                  i, cases[i].env, why);
    }
}

static const struct {
    const char *url;
    int rc;
    const char *want; /* substring of why */
} databases[] = {
    {"sqlite:/var/lib/planner/planner.db", 0, ""},
    {"sqlite::memory:", 0, ""},
    {"sqlite:", -1, "needs a path"},
    {"postgres://planner@localhost/planner", -1, "PostgreSQL"},
    {"postgresql://planner@localhost/planner", -1, "PostgreSQL"},
    {"mysql://localhost/planner", -1, "sqlite:PATH"},
    {"/var/lib/planner.db", -1, "sqlite:PATH"},
};

Test(config, database_urls)
{
    for (size_t i = 0; i < ARRAY_LEN(databases); i++) {
        struct config_flags fl = {0};
        add_flag(&fl, "database", databases[i].url);
        struct config cfg;
        char why[256] = "";
        int rc = config_build(&cfg, &fl, why, sizeof why);
        cr_expect(eq(int, rc, databases[i].rc), "case %zu: %s: %s", i, databases[i].url, why);
        if (rc == 0)
            cr_expect(eq(str, cfg.database, (char *)databases[i].url), "case %zu", i);
        else {
            cr_expect(strstr(why, "database") != NULL, "case %zu: why: %s", i, why);
            cr_expect(strstr(why, databases[i].want) != NULL, "case %zu: why: %s", i,
                      why);
        }
    }
}

Test(config, string_too_long)
{
    char url[600];
    memset(url, 'x', sizeof url - 1);
    memcpy(url, "sqlite:", 7);
    url[sizeof url - 1] = '\0';
    struct config_flags fl = {0};
    add_flag(&fl, "database", url);
    struct config cfg;
    char why[256] = "";
    cr_expect(eq(int, config_build(&cfg, &fl, why, sizeof why), -1));
    cr_expect(strstr(why, "--database") != NULL, "why: %s", why);
}

static const struct {
    const char *flag;
    bool want;
} is_setting[] = {
    {"threads", true},         {"max-body-bytes", true}, {"max_body_bytes", true},
    {"config", true},          {"trust-proxy", true},    {"thread", false},
    {"threadsx", false},       {"", false},              {"max-body_bytes", true},
    {"--threads", false},
};

Test(config, is_setting)
{
    for (size_t i = 0; i < ARRAY_LEN(is_setting); i++)
        cr_expect(eq(int, config_is_setting(is_setting[i].flag), is_setting[i].want),
                  "case %zu: \"%s\"", i, is_setting[i].flag);
}

Test(config, worker_count)
{
    struct config cfg = {0};
    cfg.workers = 3;
    cr_expect(eq(int, config_worker_count(&cfg), 3));
    cfg.workers = 0;
    cr_expect(eq(int, config_worker_count(&cfg), config_cpu_count()));
    cr_expect(ge(int, config_cpu_count(), 1));
}
