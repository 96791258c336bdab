/* The command line: parse the subcommand and its flags, build the configuration, hand over.
 * Usage errors exit 2 with a one-line reason. */
#include "api/ical.h"
#include "api/internal.h"
#include "arena.h"
#include "clock.h"
#include "config.h"
#include "core/user.h"
#include "log.h"
#include "secret.h"
#include "store/calendars.h"
#include "store/store.h"
#include "store/users.h"
#include "worker/supervisor.h"

#include <errno.h>
#include <libical/ical.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLANNER_VERSION "0.1.0"
#define IMPORT_FILE_MAX_BYTES (1L << 30) /* planner import refuses larger files */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: planner COMMAND [options]\n\n"
            "commands:\n"
            "  serve                     run the HTTP API (master + worker processes)\n"
            "  migrate                   apply database migrations and exit\n"
            "  user add --email E --name N [--admin] [--time-zone TZ]\n"
            "                            create a user; the password is read from stdin\n"
            "  export --calendar ID      write a calendar as iCalendar (RFC 5545) to stdout\n"
            "  import FILE.ics --calendar ID [--atomic]\n"
            "                            import an iCalendar file into a calendar, as its owner\n"
            "  version                   print the version\n\n"
            "'planner COMMAND --help' lists the settings every command accepts.\n");
}

/* Subcommand-specific flags besides the settings. */
struct cli {
    const char *email, *name, *time_zone, *calendar;
    const char *file;    /* the one positional argument, for commands that set takes_file */
    bool admin, atomic, help;
    bool takes_file;
};

static int __attribute__((format(printf, 1, 2))) die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "planner: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return 2;
}

/* Split argv[first..] into settings (into `flags`) and the command's own flags. */
static int parse_flags(int argc, char **argv, int first, const char *const *own,
                       struct config_flags *flags, struct cli *cli)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli->help = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (!cli->takes_file || cli->file != NULL)
                return die_usage("unexpected argument '%s'", a);
            cli->file = a;
            continue;
        }
        char name[64];
        const char *eq = strchr(a + 2, '='), *value = NULL;
        size_t nlen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (nlen == 0 || nlen >= sizeof name)
            return die_usage("bad option '%s'", a);
        memcpy(name, a + 2, nlen);
        name[nlen] = '\0';
        bool is_own = false;
        for (size_t k = 0; own && own[k]; k++)
            is_own |= strcmp(own[k], name) == 0;
        if (!is_own && !config_is_setting(name))
            return die_usage("unknown option --%s", name);
        if (is_own && (strcmp(name, "admin") == 0 || strcmp(name, "atomic") == 0)) {
            *(strcmp(name, "admin") == 0 ? &cli->admin : &cli->atomic) = true;
            continue;
        }
        if (eq)
            value = eq + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        else
            return die_usage("option --%s needs a value", name);
        if (is_own) {
            if (strcmp(name, "email") == 0)
                cli->email = value;
            else if (strcmp(name, "name") == 0)
                cli->name = value;
            else if (strcmp(name, "time-zone") == 0)
                cli->time_zone = value;
            else if (strcmp(name, "calendar") == 0)
                cli->calendar = value;
            continue;
        }
        if (flags->n == sizeof flags->key / sizeof flags->key[0])
            return die_usage("too many options at '%s'", a);
        /* Keep the name: argv outlives the program, our buffer does not. */
        flags->key[flags->n] = a + 2;
        flags->value[flags->n] = value;
        if (eq) {
            /* "--name=value": the key would run into "=value"; point at a copy. */
            static char keys[64][64];
            memcpy(keys[flags->n], name, nlen + 1);
            flags->key[flags->n] = keys[flags->n];
        }
        flags->n++;
    }
    return 0;
}

static int build(struct config *cfg, const struct config_flags *flags)
{
    char why[512];
    if (config_build(cfg, flags, why, sizeof why) < 0) {
        fprintf(stderr, "planner: %s\n", why);
        return 2;
    }
    log_init(cfg->log_level, "cli");
    return 0;
}

static int cmd_migrate(const struct config *cfg)
{
    struct pl_error err = {0};
    int applied = 0, version = 0;
    struct store *db = store_open(cfg->database, &err);
    if (db == NULL || store_migrate(db, &applied, &err) < 0 ||
        store_schema_version(db, &version, &err) < 0) {
        fprintf(stderr, "planner: migrate: %s\n", err.detail);
        store_close(db);
        return 1;
    }
    printf("applied %d migrations; schema version %d\n", applied, version);
    store_close(db);
    return 0;
}

static int cmd_user_add(const struct config *cfg, const struct cli *cli)
{
    struct pl_error err = {0};
    char email[CORE_USER_EMAIL_MAX + 1], password[CORE_USER_PASSWORD_MAX + 2];
    char hash[SECRET_PWHASH_MAX];
    if (cli->email == NULL || cli->name == NULL)
        return die_usage("%s", "user add needs --email and --name");
    const char *tz = cli->time_zone ? cli->time_zone : "UTC";
    if (core_user_email_normalize(cli->email, "--email", email, sizeof email, &err) < 0 ||
        core_user_name_check(cli->name, "--name", &err) < 0 ||
        core_tz_check(tz, "--time-zone", &err) < 0) {
        fprintf(stderr, "planner: %s %s\n", err.field, err.detail);
        return 2;
    }
    if (fgets(password, sizeof password, stdin) == NULL) {
        fprintf(stderr, "planner: expected the password on stdin\n");
        return 2;
    }
    password[strcspn(password, "\r\n")] = '\0';
    if (core_user_password_check(password, "password", &err) < 0) {
        fprintf(stderr, "planner: password %s\n", err.detail);
        return 2;
    }
    if (secret_password_hash(password, cfg->pwhash, hash) < 0) {
        fprintf(stderr, "planner: cannot hash the password (out of memory?)\n");
        return 1;
    }
    struct user u = {.email = email, .name = cli->name, .time_zone = tz,
                     .role = cli->admin ? USER_ROLE_ADMIN : USER_ROLE_MEMBER};
    int rc = 1;
    struct store *db = store_open(cfg->database, &err);
    if (db == NULL || store_migrate(db, NULL, &err) < 0 ||
        store_users_create(db, &u, hash, clock_now_us(), &err) < 0) {
        fprintf(stderr, "planner: user add: %s\n", err.detail);
    } else {
        printf("created %s %lld %s\n", core_user_role_name(u.role), (long long)u.id, u.email);
        rc = 0;
    }
    store_close(db);
    return rc;
}

/* The calendar as its owner would export it over HTTP, byte for byte. */
static int cmd_export(const struct config *cfg, const struct cli *cli)
{
    struct pl_error err = {0};
    char *end, *text;
    size_t len;
    int version = 0, rc = 1;
    if (cli->calendar == NULL)
        return die_usage("%s", "export needs --calendar ID");
    errno = 0;
    long long id = strtoll(cli->calendar, &end, 10);
    if (errno != 0 || end == cli->calendar || *end != '\0' || id <= 0)
        return die_usage("--calendar must be a calendar id, not '%s'", cli->calendar);
    struct store *db = store_open(cfg->database, &err);
    struct arena *a = arena_new(64 * 1024);
    if (db == NULL || store_schema_version(db, &version, &err) < 0) {
        fprintf(stderr, "planner: export: %s\n", err.detail);
    } else if (version != store_schema_latest()) {
        /* Exporting only reads: it does not migrate behind the operator's back. */
        fprintf(stderr, "planner: export: the database schema is at version %d, this binary"
                        " needs %d (run planner migrate)\n", version, store_schema_latest());
    } else if (api_ical_calendar_text(db, id, clock_now_us(), a, &text, &len, &err) < 0) {
        fprintf(stderr, "planner: export: %s\n",
                err.status == PL_ENOTFOUND ? "no such calendar" : err.detail);
    } else if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
        fprintf(stderr, "planner: export: cannot write to stdout\n");
    } else {
        rc = 0;
    }
    arena_free(a);
    store_close(db);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("planner %s\n", PLANNER_VERSION);
        return 0;
    }
    /* Library set-up that must happen once, before any thread starts. */
    if (secret_init() < 0) {
        fprintf(stderr, "planner: libsodium failed to initialise\n");
        return 1;
    }
    icalerror_set_errors_are_fatal(0);

    struct config_flags flags = {0};
    struct cli cli = {0};
    struct config cfg;
    int rc;
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0 || strcmp(cmd, "migrate") == 0) {
        if ((rc = parse_flags(argc, argv, 2, NULL, &flags, &cli)) != 0)
            return rc;
        if (cli.help) {
            printf("usage: planner %s [settings]\n\n", cmd);
            config_print_help();
            return 0;
        }
        if ((rc = build(&cfg, &flags)) != 0)
            return rc;
        if (strcmp(cmd, "migrate") == 0)
            return cmd_migrate(&cfg);
        log_init(cfg.log_level, "master");
        return worker_supervisor_serve(&cfg, &flags);
    }
    if (strcmp(cmd, "user") == 0) {
        static const char *const own[] = {"email", "name", "admin", "time-zone", NULL};
        if (argc < 3 || strcmp(argv[2], "add") != 0)
            return die_usage("%s", "usage: planner user add --email E --name N [--admin]");
        if ((rc = parse_flags(argc, argv, 3, own, &flags, &cli)) != 0)
            return rc;
        if (cli.help) {
            printf("usage: planner user add --email E --name N [--admin] [--time-zone TZ]"
                   " [settings]\n(the password is read from stdin)\n\n");
            config_print_help();
            return 0;
        }
        if ((rc = build(&cfg, &flags)) != 0)
            return rc;
        return cmd_user_add(&cfg, &cli);
    }
    if (strcmp(cmd, "export") == 0) {
        static const char *const own[] = {"calendar", NULL};
        if ((rc = parse_flags(argc, argv, 2, own, &flags, &cli)) != 0)
            return rc;
        if (cli.help) {
            printf("usage: planner export --calendar ID [settings]\n(the calendar as its owner"
                   " sees it, as iCalendar on stdout)\n\n");
            config_print_help();
            return 0;
        }
        if ((rc = build(&cfg, &flags)) != 0)
            return rc;
        return cmd_export(&cfg, &cli);
    }
    return die_usage("unknown command '%s' (see planner --help)", cmd);
}
