/* The command line: parse the subcommand and its flags, build the configuration, hand over.
 * Usage errors exit 2 with a one-line reason. */
#include "api/ical.h"
#include "api/internal.h"
#include "arena.h"
#include "clock.h"
#include "config.h"
#include "core/tz.h"
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
#include <strings.h>
#include <sys/stat.h>
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

/* The progress line of `planner import`, drawn on stderr only when it is a terminal: the phase
 * ("reading", "parsing N VEVENTs", "writing i/N" with a bar) and the seconds so far.  The
 * parser reports nothing while it runs, so parsing shows as one step rather than a fake
 * percentage. */
struct progress {
    bool is_on;
    int shown;          /* the last percentage drawn in the writing phase; -1 before */
    int64_t started_us; /* monotonic */
    size_t vevents;     /* BEGIN:VEVENT lines counted in the file */
};

static void progress_draw(void *ctx, const char *phase, size_t done, size_t total)
{
    struct progress *p = ctx;
    if (!p->is_on)
        return;
    double s = (double)(clock_mono_us() - p->started_us) / 1e6;
    if (strcmp(phase, "writing") == 0) {
        enum { WIDTH = 30 };
        static const char bar[WIDTH + 1] = "##############################";
        int pct = total ? (int)(done * 100 / total) : 100;
        if (pct == p->shown && done != total)
            return; /* redraw once per percent, not once per event */
        p->shown = pct;
        int fill = total ? (int)(done * WIDTH / total) : WIDTH;
        fprintf(stderr, "\r\033[Kwriting [%.*s%*s] %zu/%zu %3d%%  %.1f s", fill, bar,
                WIDTH - fill, "", done, total, pct, s);
    } else if (strcmp(phase, "parsing") == 0) {
        fprintf(stderr, "\r\033[Kparsing %zu VEVENTs (%.1f MiB)  %.1f s", p->vevents,
                (double)total / (1 << 20), s);
    } else {
        fprintf(stderr, "\r\033[K%s %.1f MiB  %.1f s", phase, (double)done / (1 << 20), s);
    }
    fflush(stderr);
}

/* The lines of `text` that begin a VEVENT: what the progress line announces before parsing. */
static size_t count_vevents(const char *text, size_t len)
{
    static const char tag[] = "BEGIN:VEVENT";
    size_t n = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        if ((size_t)(end - p) >= sizeof tag - 1 && strncasecmp(p, tag, sizeof tag - 1) == 0)
            n++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    return n;
}

/* Read all of `path` ("-": stdin) into *text (NUL-terminated, xmalloc'd, *len bytes).  Files
 * over IMPORT_FILE_MAX_BYTES are refused before they are read when their size is known, else
 * as soon as the cap is passed.  Returns 0, or -1 after saying why on stderr. */
static int read_file(const char *path, struct progress *p, char **text, size_t *len)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    struct stat st;
    size_t cap = 1 << 20, n = 0;
    char *buf = NULL;
    if (f == NULL) {
        fprintf(stderr, "planner: import: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        if (st.st_size > IMPORT_FILE_MAX_BYTES)
            goto too_big;
        cap = (size_t)st.st_size + 1; /* one read and no realloc for a regular file */
    }
    buf = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap > IMPORT_FILE_MAX_BYTES)
                goto too_big;
            /* Past the cap by one byte at most: enough to tell that the input is too big. */
            cap = cap > IMPORT_FILE_MAX_BYTES / 2 ? IMPORT_FILE_MAX_BYTES + 1 : cap * 2;
            buf = xrealloc(buf, cap + 1);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        progress_draw(p, "reading", n, 0);
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "planner: import: %s: read error\n", path);
        goto fail;
    }
    if (n > IMPORT_FILE_MAX_BYTES)
        goto too_big;
    if (!is_stdin)
        fclose(f);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
too_big:
    fprintf(stderr, "planner: import: %s is larger than 1 GiB; split it\n", path);
fail:
    free(buf);
    if (!is_stdin)
        fclose(f);
    return -1;
}

/* A JSON value on stdout, one line. */
static int print_json(json_t *v)
{
    int rc = json_dumpf(v, stdout, JSON_COMPACT) == 0 && fputc('\n', stdout) != EOF &&
                     fflush(stdout) == 0 ? 0 : -1;
    if (rc < 0)
        fprintf(stderr, "planner: import: cannot write to stdout\n");
    return rc;
}

/* Import a file into a calendar as its owner would over HTTP (POST .../import): the import is
 * the API's own code, so files behave the same whichever way they come in.  Prints the result
 * as JSON on stdout; exits 0 when every VEVENT was imported, updated or skipped, 1 when any
 * could not be (or nothing was, with --atomic) or the import failed, 2 on usage errors. */
static int cmd_import(const struct config *cfg, const struct cli *cli)
{
    struct pl_error err = {0};
    struct import_result res = {0};
    struct calendar cal;
    struct progress prog = {.is_on = isatty(STDERR_FILENO) == 1, .shown = -1,
                            .started_us = clock_mono_us()};
    char *end, *text = NULL;
    size_t len = 0;
    int rc = 1;
    if (cli->file == NULL || cli->calendar == NULL)
        return die_usage("%s", "usage: planner import FILE.ics --calendar ID [--atomic]");
    errno = 0;
    long long id = strtoll(cli->calendar, &end, 10);
    if (errno != 0 || end == cli->calendar || *end != '\0' || id <= 0)
        return die_usage("--calendar must be a calendar id, not '%s'", cli->calendar);
    struct store *db = store_open(cfg->database, &err);
    struct arena *a = arena_new(1 << 20);
    if (db == NULL || store_migrate(db, NULL, &err) < 0 ||
        store_calendars_get(db, id, 0, a, &cal, &err) < 0) {
        fprintf(stderr, "planner: import: %s\n",
                err.status == PL_ENOTFOUND ? "no such calendar" : err.detail);
        goto done;
    }
    if (read_file(cli->file, &prog, &text, &len) < 0)
        goto done;
    if (prog.is_on)
        prog.vevents = count_vevents(text, len);
    /* api_import_ics is the HTTP handler's logic and reads only these fields of the request:
     * the connection, the settings (the recurrence horizon), the arena everything is
     * allocated from, "now" and the importing user.  The rest stays zero; no HTTP is
     * involved.  The calendar's owner imports, as if they had posted the file. */
    struct http_request rq = {
        .db = db, .cfg = cfg, .arena = a, .now_us = clock_now_us(), .user_id = cal.owner_id};
    int irc = api_import_ics(&rq, id, text, len, cli->atomic, progress_draw, &prog, &res, &err);
    if (prog.is_on)
        fprintf(stderr, "\r\033[K");
    if (irc < 0) {
        /* --atomic refused the file: the errors say why, and nothing was written. */
        if (err.status == PL_EINVAL && res.errors && json_array_size(res.errors) > 0) {
            json_t *out = json_pack("{s:i, s:i, s:i, s:O}", "imported", 0, "updated", 0,
                                    "skipped", 0, "errors", res.errors);
            (void)print_json(out);
            json_decref(out);
        }
        fprintf(stderr, "planner: import: %s\n",
                err.status == PL_ENOTFOUND ? "no such calendar" : err.detail);
        goto done;
    }
    json_t *out = json_pack("{s:I, s:I, s:I, s:O}", "imported", (json_int_t)res.imported,
                            "updated", (json_int_t)res.updated, "skipped",
                            (json_int_t)res.skipped, "errors", res.errors);
    if (print_json(out) == 0)
        rc = json_array_size(res.errors) > 0 ? 1 : 0;
    json_decref(out);
    if (prog.is_on)
        fprintf(stderr, "imported %zu, updated %zu, skipped %zu, %zu errors in %.1f s\n",
                res.imported, res.updated, res.skipped, json_array_size(res.errors),
                (double)(clock_mono_us() - prog.started_us) / 1e6);
done:
    json_decref(res.errors);
    free(text);
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
    /* libical's table of zones, built now rather than at the first lookups of two threads
     * (core/tz.c: its own lookups are locked, libical's internal uses of UTC are not). */
    (void)core_tz_utc();

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
    if (strcmp(cmd, "import") == 0) {
        static const char *const own[] = {"calendar", "atomic", NULL};
        cli.takes_file = true;
        if ((rc = parse_flags(argc, argv, 2, own, &flags, &cli)) != 0)
            return rc;
        if (cli.help) {
            printf("usage: planner import FILE.ics --calendar ID [--atomic] [settings]\n"
                   "(FILE '-' is stdin; the calendar's owner imports; the result is JSON on"
                   " stdout;\n exit 1 when any VEVENT could not be imported, with --atomic"
                   " then nothing is)\n\n");
            config_print_help();
            return 0;
        }
        if ((rc = build(&cfg, &flags)) != 0)
            return rc;
        return cmd_import(&cfg, &cli);
    }
    return die_usage("unknown command '%s' (see planner --help)", cmd);
}
