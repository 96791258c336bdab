/* planner-seed: the W200 data set of shared/workload/W200.md, written straight through the
 * store layer (never over HTTP), deterministically from --seed and --now, with one JSON summary
 * line on stdout.  bench/README.md says what it makes and how long it takes. */
#include "arena.h"
#include "clock.h"
#include "config.h"
#include "core/event.h"
#include "core/recur.h"
#include "core/time.h"
#include "core/tz.h"
#include "core/user.h"
#include "error.h"
#include "log.h"
#include "secret.h"
#include "store/calendars.h"
#include "store/events.h"
#include "store/notifications.h"
#include "store/rooms.h"
#include "store/store.h"
#include "store/users.h"

#include "args.h"
#include "prng.h"

#include <errno.h>
#include <libical/ical.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_TZ "Europe/Moscow"
#define SEED_DOMAIN "w200.example"
#define SEED_USERS_PER_SCALE 200
#define SEED_ROOMS_PER_SCALE 40
#define SEED_EVENTS_PER_USER 100
#define SEED_SCALE_MAX 1000
#define SEED_HALF_WINDOW_DAYS 182 /* today +- 182 days: one year centred on now */
#define SEED_DAY_START_H 8        /* meetings lie within 08:00-18:00 local */
#define SEED_SLOT_MIN 15          /* every start and duration is a multiple of this */
#define SEED_SLOTS_PER_DAY (10 * 60 / SEED_SLOT_MIN)
#define SEED_BATCH_EVENTS 500     /* events per transaction */
#define SEED_MAX_PARTICIPANTS 8   /* organiser included */
#define SEED_ROOM_TRIES 8         /* free-room attempts before an event goes without */
#define SEED_SHARE_PERCENT 10
#define SEED_ROOM_PERCENT 60
#define SEED_REMINDER_PERCENT 30
#define SEED_REMINDER_MIN 15
#define MINUTE_US (INT64_C(60) * 1000000)
#define HOUR_US (60 * MINUTE_US)
#define DAY_US (24 * HOUR_US)

/* ---- drawing from the generator (bench/prng.h) ----------------------------------------- */

/* An index into `weights` (which sum to 100), drawn with those weights. */
static size_t prng_weighted(struct prng *r, const unsigned *weights, size_t n)
{
    unsigned x = prng_below(r, 100);
    for (size_t i = 0; i + 1 < n; i++) {
        if (x < weights[i])
            return i;
        x -= weights[i];
    }
    return n - 1;
}

/* ---- options --------------------------------------------------------------------------- */

struct options {
    const char *database;
    int scale;
    uint64_t seed;
    int64_t now_us;
    const char *password;
    int recurring_percent; /* of events that are weekly series (W200: 10) */
};

static void usage(FILE *f)
{
    fputs("usage: planner-seed --database sqlite:PATH [--scale N] [--seed S] [--now RFC3339]\n"
          "                    [--password P] [--recurring-percent P]\n"
          "Creates the W200 data set (x N) in an empty database through the store layer and\n"
          "prints one JSON summary line.  Defaults: --scale 1, --seed 1, --now the current time,\n"
          "--password bench-password (every user's), --recurring-percent 10 (weekly series).\n",
          f);
}

/* Fill `o` from argv.  Returns 0, 1 after --help, or -1 after printing why. */
static int parse_options(int argc, char **argv, struct options *o)
{
    struct pl_error err = {0};
    bool now_given = false;
    *o = (struct options){.scale = 1, .seed = 1, .password = "bench-password",
                          .recurring_percent = 10};
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i], *value;
        long long v;
        if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "planner-seed: %s needs a value\n", flag);
            return -1;
        }
        value = argv[++i];
        if (strcmp(flag, "--database") == 0) {
            o->database = value;
        } else if (strcmp(flag, "--scale") == 0) {
            if (bench_parse_integer("planner-seed", flag, value, 1, SEED_SCALE_MAX, &v) < 0)
                return -1;
            o->scale = (int)v;
        } else if (strcmp(flag, "--recurring-percent") == 0) {
            if (bench_parse_integer("planner-seed", flag, value, 0, 100, &v) < 0)
                return -1;
            o->recurring_percent = (int)v;
        } else if (strcmp(flag, "--seed") == 0) {
            if (bench_parse_integer("planner-seed", flag, value, 0, INT64_MAX, &v) < 0)
                return -1;
            o->seed = (uint64_t)v;
        } else if (strcmp(flag, "--now") == 0) {
            if (core_time_parse(value, "now", &o->now_us, &err) < 0) {
                fprintf(stderr, "planner-seed: --now: %s\n", err.detail);
                return -1;
            }
            now_given = true;
        } else if (strcmp(flag, "--password") == 0) {
            if (core_user_password_check(value, "password", &err) < 0) {
                fprintf(stderr, "planner-seed: --password: %s\n", err.detail);
                return -1;
            }
            o->password = value;
        } else {
            fprintf(stderr, "planner-seed: unknown option %s\n", flag);
            return -1;
        }
    }
    if (o->database == NULL) {
        fprintf(stderr, "planner-seed: --database is required\n");
        return -1;
    }
    /* Whole seconds, so that every instant derived from now prints the same way. */
    if (!now_given)
        o->now_us = clock_now_us() / 1000000 * 1000000;
    return 0;
}

/* ---- the generator's state ------------------------------------------------------------- */

struct seed_user {
    int64_t id, calendar_id;
    size_t team; /* index into seed.teams */
};

/* Users are cut into consecutive teams; most meetings stay within one. */
struct seed_team {
    size_t first, n;
};

struct seed_room {
    int64_t id;
    int capacity;
    unsigned char *busy; /* one bit per 15-minute working slot of every day of the window */
};

struct seed_counts {
    size_t users, calendars, shares, rooms, events, past, future, participants, instances;
    size_t with_room, room_misses, with_reminder, invitations, invitations_read, reminders;
    size_t recurring, moved;
    size_t room_overlaps;
};

struct seed {
    struct options opt;
    struct store *db;
    struct pl_error err;
    struct prng rng;
    int email_width;
    struct seed_user *users;
    size_t nusers;
    struct seed_team *teams;
    size_t nteams;
    struct seed_room *rooms;
    size_t nrooms;
    size_t *by_capacity; /* room indexes, smallest capacity first */
    /* The window: day d (0 .. ndays-1) is local date first_day + d; day_start_us[d] is its
     * 08:00 in UTC.  past/future list the weekdays of each half (today is in both). */
    int64_t first_day;
    size_t ndays;
    int64_t *day_start_us;
    size_t *past, npast, *future, nfuture;
    struct seed_counts c;
    double phase_s[4]; /* users, rooms, events, check */
    int64_t horizon_us;  /* series are expanded this far, as the server does */
    struct arena *arena; /* the current batch's */
};

static const char *const first_names[] = {
    "Anna",  "Boris", "Daria",  "Egor",   "Elena",  "Fedor",  "Galina", "Igor",
    "Irina", "Kirill", "Ksenia", "Lev",   "Maria",  "Maxim",  "Natalia", "Oleg",
    "Olga",  "Pavel", "Polina", "Roman",  "Sofia",  "Stepan", "Tatiana", "Timur",
    "Ulyana", "Vadim", "Vera",  "Viktor", "Yana",   "Yuri",   "Zoya",   "Artem"};
static const char *const last_names[] = {
    "Ivanov",  "Smirnov", "Kuznetsov", "Popov",   "Vasiliev", "Petrov",  "Sokolov",
    "Mikhailov", "Novikov", "Fedorov",  "Morozov", "Volkov",   "Alekseev", "Lebedev",
    "Semenov", "Egorov",  "Pavlov",    "Kozlov",  "Stepanov", "Nikolaev", "Orlov",
    "Andreev", "Makarov", "Nikitin",   "Zakharov", "Zaitsev", "Soloviev", "Borisov"};
static const char *const titles[] = {
    "Weekly sync",      "1:1",               "Design review",    "Sprint planning",
    "Retrospective",    "Standup",           "Customer call",    "Budget review",
    "Hiring interview", "Architecture forum", "Incident review",  "Roadmap discussion",
    "Demo",             "Onboarding",        "Quarterly review", "Brainstorm",
    "Vendor meeting",   "Release readiness", "Training",         "Lunch and learn"};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static double seconds_since(int64_t t0_us)
{
    return (double)(clock_mono_us() - t0_us) / 1e6;
}

/* Local calendar day number (days since 1970-01-01) of `utc_us` in SEED_TZ. */
static int seed_local_day(int64_t utc_us, int64_t *day, struct pl_error *err)
{
    struct core_civil c;
    int rc = core_tz_from_utc(SEED_TZ, utc_us, &c, "now", err);
    if (rc == PL_OK)
        *day = core_time_days_from_civil(c.year, (unsigned)c.month, (unsigned)c.day);
    return rc;
}

/* The window's days, their 08:00 in UTC and the weekdays of each half. */
static int seed_days(struct seed *s)
{
    int64_t today = 0;
    int rc = seed_local_day(s->opt.now_us, &today, &s->err);
    if (rc < 0)
        return rc;
    s->first_day = today - SEED_HALF_WINDOW_DAYS;
    s->ndays = 2 * SEED_HALF_WINDOW_DAYS + 1;
    s->day_start_us = xcalloc(s->ndays, sizeof *s->day_start_us);
    s->past = xcalloc(s->ndays, sizeof *s->past);
    s->future = xcalloc(s->ndays, sizeof *s->future);
    for (size_t d = 0; d < s->ndays; d++) {
        int64_t day = s->first_day + (int64_t)d, y;
        unsigned m, md;
        core_time_civil_from_days(day, &y, &m, &md);
        struct core_civil c = {.year = (int)y, .month = (int)m, .day = (int)md,
                               .hour = SEED_DAY_START_H};
        /* No zone changes its offset between 08:00 and 18:00, so one conversion a day is
         * enough and every slot is day_start + k * 15 min. */
        if ((rc = core_tz_to_utc(SEED_TZ, &c, &s->day_start_us[d], "day", &s->err)) < 0)
            return rc;
        int iso_weekday = (int)(((day % 7) + 7 + 3) % 7) + 1; /* 1970-01-01 was a Thursday */
        if (iso_weekday > 5)
            continue;
        if (day <= today)
            s->past[s->npast++] = d;
        if (day >= today)
            s->future[s->nfuture++] = d;
    }
    return PL_OK;
}

/* ---- users, teams, shares -------------------------------------------------------------- */

static void seed_email(const struct seed *s, size_t i, char *out, size_t len)
{
    snprintf(out, len, "user%0*zu@" SEED_DOMAIN, s->email_width, i + 1);
}

static int seed_users(struct seed *s)
{
    char hash[SECRET_PWHASH_MAX], email[CORE_USER_EMAIL_MAX + 1], name[CORE_USER_NAME_MAX];
    int64_t created_us = s->opt.now_us - 400 * DAY_US;
    int rc;
    /* One hash for everybody: argon2 is built to be slow, and W200 x100 has 20,000 users. */
    if (secret_password_hash(s->opt.password, CONFIG_PWHASH_MIN, hash) < 0)
        return pl_error_set(&s->err, PL_ENOMEM, NULL, "cannot hash the password");
    s->nusers = (size_t)s->opt.scale * SEED_USERS_PER_SCALE;
    s->users = xcalloc(s->nusers, sizeof *s->users);
    s->teams = xcalloc(s->nusers, sizeof *s->teams);
    for (size_t first = 0; first < s->nusers; s->nteams++) {
        size_t n = (size_t)prng_range(&s->rng, 5, 12);
        if (first + n > s->nusers || s->nusers - (first + n) < 5)
            n = s->nusers - first; /* the last team takes the remainder */
        s->teams[s->nteams] = (struct seed_team){.first = first, .n = n};
        for (size_t k = first; k < first + n; k++)
            s->users[k].team = s->nteams;
        first += n;
    }
    for (size_t i = 0; i < s->nusers; i++) {
        seed_email(s, i, email, sizeof email);
        snprintf(name, sizeof name, "%s %s",
                 first_names[prng_below(&s->rng, COUNT_OF(first_names))],
                 last_names[prng_below(&s->rng, COUNT_OF(last_names))]);
        struct user u = {.email = email, .name = name, .role = USER_ROLE_MEMBER,
                         .time_zone = SEED_TZ};
        /* store_users_create opens its own transaction (user and default calendar), so users
         * cannot share the event batches' transactions. */
        if ((rc = store_users_create(s->db, &u, hash, created_us, &s->err)) < 0 ||
            (rc = store_calendars_default(s->db, u.id, &s->users[i].calendar_id, &s->err)) < 0)
            return rc;
        s->users[i].id = u.id;
        s->c.users++;
        s->c.calendars++;
    }
    return PL_OK;
}

static bool seed_listed(const size_t *list, size_t n, size_t x)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == x)
            return true;
    return false;
}

/* A user other than `owner` and not in `taken`: a team-mate with `team_percent` chance (when
 * the team has one left), else anyone. */
static size_t seed_pick_other(struct seed *s, size_t owner, const size_t *taken, size_t ntaken,
                              unsigned team_percent)
{
    const struct seed_team *t = &s->teams[s->users[owner].team];
    if (t->n > ntaken && prng_percent(&s->rng, team_percent)) {
        for (int tries = 0; tries < 16; tries++) {
            size_t x = t->first + prng_below(&s->rng, (uint32_t)t->n);
            if (x != owner && !seed_listed(taken, ntaken, x))
                return x;
        }
    }
    for (;;) {
        size_t x = prng_below(&s->rng, (uint32_t)s->nusers);
        if (x != owner && !seed_listed(taken, ntaken, x))
            return x;
    }
}

/* 10 % of calendars shared read-only with a team of 5-10 others.  store_calendars_share opens
 * its own transaction (it bumps the calendar's version), so each share commits alone. */
static int seed_shares(struct seed *s)
{
    int64_t at_us = s->opt.now_us - 300 * DAY_US;
    int rc;
    for (size_t i = 0; i < s->nusers; i++) {
        if (!prng_percent(&s->rng, SEED_SHARE_PERCENT))
            continue;
        size_t with[10], n = (size_t)prng_range(&s->rng, 5, 10);
        for (size_t k = 0; k < n; k++) {
            with[k] = seed_pick_other(s, i, with, k, 80);
            if ((rc = store_calendars_share(s->db, s->users[i].calendar_id, s->users[with[k]].id,
                                            CAL_READ, at_us, &s->err)) < 0)
                return rc;
            s->c.shares++;
        }
    }
    return PL_OK;
}

/* ---- rooms ----------------------------------------------------------------------------- */

/* Whether room x sorts after room y: by capacity, then by index. */
static bool seed_room_after(const struct seed_room *rooms, size_t x, size_t y)
{
    return rooms[x].capacity != rooms[y].capacity ? rooms[x].capacity > rooms[y].capacity : x > y;
}

static int seed_rooms(struct seed *s)
{
    /* Size classes 2-3, 4-8, 10-16 and 20-30 seats, dealt in blocks of ten rooms (one small,
     * six medium, two large, one hall) shuffled within the block, so that every scale has
     * the same mix: mostly 4-8. */
    static const size_t block[10] = {0, 1, 1, 1, 1, 1, 1, 2, 2, 3};
    static const int size_lo[] = {2, 4, 10, 20}, size_hi[] = {3, 8, 16, 30};
    size_t deal[10];
    int64_t created_us = s->opt.now_us - 400 * DAY_US;
    size_t bitmap_bytes = (s->ndays * SEED_SLOTS_PER_DAY + 7) / 8;
    int rc;
    s->nrooms = (size_t)s->opt.scale * SEED_ROOMS_PER_SCALE;
    s->rooms = xcalloc(s->nrooms, sizeof *s->rooms);
    s->by_capacity = xcalloc(s->nrooms, sizeof *s->by_capacity);
    for (size_t i = 0; i < s->nrooms; i++) {
        char name[64], location[32];
        const char *features[2];
        if (i % 10 == 0) { /* Fisher-Yates over the next block */
            memcpy(deal, block, sizeof deal);
            for (size_t k = 9; k > 0; k--) {
                size_t j = prng_below(&s->rng, (uint32_t)(k + 1)), t = deal[k];
                deal[k] = deal[j];
                deal[j] = t;
            }
        }
        size_t nfeatures = 0, size = deal[i % 10];
        int capacity = prng_range(&s->rng, size_lo[size], size_hi[size]);
        unsigned projector = size >= 2 ? 70 : size == 1 ? 15 : 0;
        unsigned video = size >= 2 ? 50 : size == 1 ? 30 : 5;
        /* Sorted, as store_rooms_create and read_room expect. */
        if (prng_percent(&s->rng, projector))
            features[nfeatures++] = "projector";
        if (prng_percent(&s->rng, video))
            features[nfeatures++] = "video";
        snprintf(name, sizeof name, "Room %zu.%02zu", i / 10 + 1, i % 10 + 1);
        snprintf(location, sizeof location, "Floor %zu", i / 10 + 1);
        struct room r = {.name = name, .location = location, .capacity = capacity,
                         .features = features, .nfeatures = nfeatures};
        if ((rc = store_rooms_create(s->db, &r, created_us, &s->err)) < 0)
            return rc;
        s->rooms[i] = (struct seed_room){.id = r.id, .capacity = capacity,
                                         .busy = xcalloc(bitmap_bytes, 1)};
        s->by_capacity[i] = i;
        s->c.rooms++;
    }
    /* Insertion sort: 40 x scale rooms, and qsort has no context argument in C17. */
    for (size_t i = 1; i < s->nrooms; i++)
        for (size_t k = i;
             k > 0 && seed_room_after(s->rooms, s->by_capacity[k - 1], s->by_capacity[k]); k--) {
            size_t t = s->by_capacity[k];
            s->by_capacity[k] = s->by_capacity[k - 1];
            s->by_capacity[k - 1] = t;
        }
    return PL_OK;
}

static bool seed_room_free(const struct seed_room *r, size_t first, size_t n)
{
    for (size_t b = first; b < first + n; b++)
        if (r->busy[b / 8] & (1u << (b % 8)))
            return false;
    return true;
}

static void seed_room_take(struct seed_room *r, size_t first, size_t n)
{
    for (size_t b = first; b < first + n; b++)
        r->busy[b / 8] |= (unsigned char)(1u << (b % 8));
}

/* A room for `people` free over slots [first, first + n), booked in the occupancy map, or
 * -1.  Small rooms are favoured (the minimum of two uniform draws over the rooms that fit). */
static long seed_book_room(struct seed *s, size_t people, size_t first, size_t n)
{
    size_t lo = 0;
    while (lo < s->nrooms && (size_t)s->rooms[s->by_capacity[lo]].capacity < people)
        lo++;
    if (lo == s->nrooms)
        return -1;
    uint32_t fit = (uint32_t)(s->nrooms - lo);
    for (int tries = 0; tries < SEED_ROOM_TRIES; tries++) {
        uint32_t a = prng_below(&s->rng, fit), b = prng_below(&s->rng, fit);
        size_t k = s->by_capacity[lo + (a < b ? a : b)];
        if (seed_room_free(&s->rooms[k], first, n)) {
            seed_room_take(&s->rooms[k], first, n);
            return (long)k;
        }
    }
    return -1;
}

/* ---- events ---------------------------------------------------------------------------- */

/* One event as planned, before it is written. */
struct seed_plan {
    struct event ev;
    struct participant p[SEED_MAX_PARTICIPANTS];
    size_t who[SEED_MAX_PARTICIPANTS]; /* user indexes; who[0] is the organiser */
    size_t np;
    bool has_reminder;
    char uid[64];
    char rule[160]; /* recurrence lines of a weekly series, "" for a single event */
    bool move_one;  /* a series with its second occurrence moved by an hour (an override) */
    char override_uid[96];
};

static void seed_plan_event(struct seed *s, size_t e, struct seed_plan *pl)
{
    static const unsigned duration_weights[] = {35, 10, 40, 15};
    static const int duration_min[] = {30, 45, 60, 90};
    static const unsigned people_weights[] = {26, 20, 18, 12, 10, 8, 6}; /* 2 .. 8 */
    static const unsigned past_rsvp[] = {70, 10, 10, 10};   /* accepted, declined, tent., n-a */
    static const unsigned future_rsvp[] = {45, 10, 10, 35};
    static const int rsvp_of[] = {RSVP_ACCEPTED, RSVP_DECLINED, RSVP_TENTATIVE, RSVP_NEEDS_ACTION};
    bool past = e % 2 == 0; /* alternate halves: exactly half are drawn from each */
    size_t day = past ? s->past[prng_below(&s->rng, (uint32_t)s->npast)]
                      : s->future[prng_below(&s->rng, (uint32_t)s->nfuture)];
    int minutes = duration_min[prng_weighted(&s->rng, duration_weights, 4)];
    size_t nslots = (size_t)minutes / SEED_SLOT_MIN;
    size_t slot = prng_below(&s->rng, (uint32_t)(SEED_SLOTS_PER_DAY - nslots + 1));
    if (prng_percent(&s->rng, 75))
        slot &= ~(size_t)1; /* most meetings start on the hour or the half hour */
    size_t organizer = prng_below(&s->rng, (uint32_t)s->nusers);

    memset(pl, 0, sizeof *pl);
    pl->np = 2 + prng_weighted(&s->rng, people_weights, 7);
    pl->who[0] = organizer;
    pl->p[0] = (struct participant){.user_id = s->users[organizer].id,
                                    .role = PARTICIPANT_ORGANIZER, .rsvp = RSVP_ACCEPTED};
    for (size_t k = 1; k < pl->np; k++) {
        pl->who[k] = seed_pick_other(s, organizer, pl->who, k, 70);
        pl->p[k] = (struct participant){
            .user_id = s->users[pl->who[k]].id, .role = PARTICIPANT_ATTENDEE,
            .rsvp = rsvp_of[prng_weighted(&s->rng, past ? past_rsvp : future_rsvp, 4)]};
    }

    struct event *ev = &pl->ev;
    snprintf(pl->uid, sizeof pl->uid, "w200-%llu-%zu@planner", (unsigned long long)s->opt.seed,
             e + 1);
    ev->uid = pl->uid;
    ev->calendar_id = s->users[organizer].calendar_id;
    ev->organizer_id = s->users[organizer].id;
    ev->title = titles[prng_below(&s->rng, COUNT_OF(titles))];
    ev->description = "";
    ev->location = "";
    ev->time_zone = SEED_TZ;
    ev->start_us = s->day_start_us[day] + (int64_t)slot * SEED_SLOT_MIN * MINUTE_US;
    ev->end_us = ev->start_us + (int64_t)minutes * MINUTE_US;
    ev->visibility = prng_percent(&s->rng, 5) ? EVENT_VISIBILITY_PRIVATE : EVENT_VISIBILITY_DEFAULT;
    ev->status = prng_percent(&s->rng, 5) ? EVENT_STATUS_TENTATIVE : EVENT_STATUS_CONFIRMED;
    /* Created between an hour and two weeks before the earlier of its start and now. */
    int64_t before = ev->start_us < s->opt.now_us ? ev->start_us : s->opt.now_us;
    ev->created_us = before - HOUR_US - (int64_t)prng_below(&s->rng, 14 * 24 * 60) * MINUTE_US;

    /* W200: 10 % weekly series, about half with an end date, a few with EXDATEs.  They book no
     * room here: the generator's room plan is per day, and a series would need every week. */
    if (prng_percent(&s->rng, (unsigned)s->opt.recurring_percent)) {
        char until[32] = "", stamp[CORE_TIME_TEXT_MAX];
        if (prng_percent(&s->rng, 50)) {
            core_time_format(ev->start_us + (int64_t)prng_range(&s->rng, 8, 40) * 7 * 24 * HOUR_US, stamp);
            snprintf(until, sizeof until, ";UNTIL=%.4s%.2s%.2sT%.2s%.2s%.2sZ", stamp, stamp + 5,
                     stamp + 8, stamp + 11, stamp + 14, stamp + 17);
        }
        size_t n = (size_t)snprintf(pl->rule, sizeof pl->rule, "RRULE:FREQ=WEEKLY%s", until);
        if (prng_percent(&s->rng, 10)) { /* skip the third week */
            core_time_format(ev->start_us + 14 * 24 * HOUR_US, stamp);
            snprintf(pl->rule + n, sizeof pl->rule - n, "\nEXDATE:%.4s%.2s%.2sT%.2s%.2s%.2sZ",
                     stamp, stamp + 5, stamp + 8, stamp + 11, stamp + 14, stamp + 17);
        }
        ev->recurrence = pl->rule;
        pl->has_reminder = prng_percent(&s->rng, SEED_REMINDER_PERCENT);
        pl->move_one = prng_percent(&s->rng, 10);
        return;
    }
    if (prng_percent(&s->rng, SEED_ROOM_PERCENT)) {
        long k = seed_book_room(s, pl->np, day * SEED_SLOTS_PER_DAY + slot, nslots);
        if (k >= 0)
            ev->room_id = s->rooms[k].id;
        else
            s->c.room_misses++;
    } else if (prng_percent(&s->rng, 30)) {
        ev->location = "Video call";
    }
    pl->has_reminder = prng_percent(&s->rng, SEED_REMINDER_PERCENT);
}

/* The second occurrence of a series moved by an hour, as PATCH /events/{id}/instances/{rid}
 * does it: an override row (parent_id, recurrence_id) indexed as a single event, and the series
 * re-indexed without the occurrence it replaces. */
static int seed_move_second(struct seed *s, struct seed_plan *pl, const int64_t *starts,
                            size_t nstarts)
{
    struct event o = pl->ev;
    int rc;
    o.id = 0;
    o.parent_id = pl->ev.id;
    o.recurrence_id = starts[1];
    o.recurrence = NULL;
    /* An hour later, or earlier where later would end after 18:00 (day_start_us is 08:00). */
    int64_t end_min = (pl->ev.end_us - s->day_start_us[0]) / MINUTE_US % (24 * 60);
    o.start_us = starts[1] + (end_min + 60 > 10 * 60 ? -HOUR_US : HOUR_US);
    o.end_us = o.start_us + (pl->ev.end_us - pl->ev.start_us);
    snprintf(pl->override_uid, sizeof pl->override_uid, "%s/%lld", pl->uid,
             (long long)starts[1]);
    o.uid = pl->override_uid;
    if ((rc = store_events_insert(s->db, &o, o.created_us, &s->err)) < 0 ||
        (rc = store_events_set_participants(s->db, o.id, pl->p, pl->np, &s->err)) < 0 ||
        (rc = store_events_reindex(s->db, o.id, NULL, NULL, 0, 0, s->arena, &s->err)) < 0 ||
        (rc = store_events_reindex(s->db, pl->ev.id, starts, NULL, nstarts, s->horizon_us,
                                   s->arena, &s->err)) < 0)
        return rc;
    s->c.moved++;
    return PL_OK;
}

/* Write one planned event as the API's create does, inside the caller's transaction. */
static int seed_write_event(struct seed *s, struct seed_plan *pl)
{
    static const int reminder[] = {SEED_REMINDER_MIN};
    struct event *ev = &pl->ev;
    bool past = ev->start_us < s->opt.now_us;
    int rc;
    int64_t *starts = NULL;
    size_t nstarts = 0;
    if (ev->recurrence) {
        /* Expanded up to the server-wide horizon, as the API does (api/events.c). */
        struct recur_series r = {ev->recurrence, ev->start_us, ev->time_zone, ev->all_day};
        if ((rc = core_recur_expand(&r, ev->start_us, s->horizon_us, CORE_RECUR_MAX_PER_SERIES,
                                    s->arena, &starts, &nstarts, &s->err)) < 0)
            return rc;
    }
    if ((rc = store_events_insert(s->db, ev, ev->created_us, &s->err)) < 0 ||
        (rc = store_events_set_participants(s->db, ev->id, pl->p, pl->np, &s->err)) < 0 ||
        (pl->has_reminder &&
         (rc = store_events_set_reminders(s->db, ev->id, reminder, 1, &s->err)) < 0) ||
        (rc = store_events_reindex(s->db, ev->id, starts, NULL, nstarts,
                                   ev->recurrence ? s->horizon_us : 0, s->arena, &s->err)) < 0)
        return rc;
    if (ev->recurrence && pl->move_one && nstarts >= 2 &&
        (rc = seed_move_second(s, pl, starts, nstarts)) < 0)
        return rc;
    for (size_t k = 1; k < pl->np; k++) {
        struct notification n = {.user_id = pl->p[k].user_id, .event_id = ev->id,
                                 .type = NOTIFY_INVITATION, .actor_id = ev->organizer_id,
                                 .title = ev->title, .start_us = ev->start_us,
                                 .end_us = ev->end_us, .created_us = ev->created_us,
                                 .scheduled_us = ev->created_us};
        if ((rc = store_notifications_add(s->db, &n, &s->err)) < 0)
            return rc;
        s->c.invitations++;
        /* Invitations to past meetings were mostly seen; those to coming ones less so. */
        if (prng_percent(&s->rng, past ? 80 : 30)) {
            int64_t read_us = n.created_us + MINUTE_US * prng_range(&s->rng, 5, 3 * 24 * 60);
            if (read_us > s->opt.now_us)
                read_us = s->opt.now_us;
            if ((rc = store_notifications_read(s->db, n.user_id, n.id, read_us, &s->err)) < 0)
                return rc;
            s->c.invitations_read++;
        }
    }
    if (pl->has_reminder) {
        if ((rc = store_notifications_schedule_reminders(s->db, ev->id, s->opt.now_us,
                                                         &s->err)) < 0)
            return rc;
        /* What that statement inserts: one per user the event keeps busy (the organiser and
         * every participant who did not decline) when it starts after now. */
        if (ev->start_us > s->opt.now_us)
            for (size_t k = 0; k < pl->np; k++)
                s->c.reminders += pl->p[k].rsvp != RSVP_DECLINED;
        s->c.with_reminder++;
    }
    s->c.events++;
    s->c.instances += ev->recurrence ? nstarts : 1;
    s->c.recurring += ev->recurrence != NULL;
    s->c.participants += pl->np;
    s->c.with_room += ev->room_id != 0;
    if (past)
        s->c.past++;
    else
        s->c.future++;
    return PL_OK;
}

static int seed_events(struct seed *s)
{
    size_t total = s->nusers * SEED_EVENTS_PER_USER;
    struct seed_plan pl;
    int rc = PL_OK;
    if (s->npast == 0 || s->nfuture == 0)
        return pl_error_set(&s->err, PL_EINTERNAL, NULL, "the window has no weekdays");
    /* The server's horizon rule (api_materialize): 730 days ahead, in whole days. */
    const int64_t day = 24 * HOUR_US;
    s->horizon_us = ((s->opt.now_us + 730 * day) / day + 1) * day;
    if ((rc = store_meta_set(s->db, "materialized_until", s->horizon_us, &s->err)) < 0)
        return rc;
    for (size_t e = 0; e < total;) {
        if ((rc = store_begin(s->db, &s->err)) < 0)
            return rc;
        s->arena = arena_new(1 << 16);
        for (size_t end = e + SEED_BATCH_EVENTS; e < end && e < total; e++) {
            seed_plan_event(s, e, &pl);
            if ((rc = seed_write_event(s, &pl)) < 0)
                goto fail;
        }
        arena_free(s->arena);
        s->arena = NULL;
        if ((rc = store_commit(s->db, &s->err)) < 0)
            return rc;
    }
    return PL_OK;
fail:
    arena_free(s->arena);
    s->arena = NULL;
    store_rollback(s->db);
    return rc;
}

/* ---- checks ---------------------------------------------------------------------------- */

/* Refuse a database that already holds users (active or not): the generator only fills an
 * empty one, so that ids, e-mails and counts are those of the seed. */
static int seed_check_empty(struct seed *s, bool *empty)
{
    struct arena *a = arena_new(4096);
    struct user *found, one;
    size_t n = 0;
    int rc = store_users_search(s->db, NULL, 0, 1, a, &found, &n, &s->err);
    if (rc == PL_OK) {
        *empty = n == 0;
        /* The search sees active users only; the first id catches a deactivated one. */
        rc = store_users_get(s->db, 1, a, &one, &s->err);
        if (rc == PL_OK)
            *empty = false;
        else if (rc == PL_ENOTFOUND)
            rc = PL_OK;
    }
    store_release(s->db);
    arena_free(a);
    return rc;
}

/* Read every room's bookings back through the store (one query) and count overlaps between
 * non-cancelled occurrences of the same room: the occupancy map must have kept it at zero. */
static int seed_check_rooms(struct seed *s, size_t *bookings)
{
    struct arena *a = arena_new(1 << 20);
    int64_t *ids = arena_alloc(a, (s->nrooms ? s->nrooms : 1) * sizeof *ids);
    struct busy_row *rows;
    size_t n = 0;
    for (size_t i = 0; i < s->nrooms; i++)
        ids[i] = s->rooms[i].id;
    int64_t from = s->day_start_us[0] - DAY_US, to = s->day_start_us[s->ndays - 1] + DAY_US;
    int rc = store_events_busy_rooms(s->db, ids, s->nrooms, from, to, a, &rows, &n, &s->err);
    if (rc == PL_OK) {
        int64_t owner = 0, end_us = 0;
        for (size_t i = 0; i < n; i++) {
            if (rows[i].owner_id == owner && rows[i].start_us < end_us)
                s->c.room_overlaps++;
            if (rows[i].owner_id != owner || rows[i].end_us > end_us)
                end_us = rows[i].end_us;
            owner = rows[i].owner_id;
        }
        *bookings = n;
    }
    store_release(s->db);
    arena_free(a);
    return rc;
}

/* ---- main ------------------------------------------------------------------------------ */

static void seed_print_summary(const struct seed *s, size_t bookings, double elapsed_s)
{
    char now[CORE_TIME_TEXT_MAX], first[CORE_USER_EMAIL_MAX + 1], last[CORE_USER_EMAIL_MAX + 1];
    const struct seed_counts *c = &s->c;
    core_time_format(s->opt.now_us, now);
    seed_email(s, 0, first, sizeof first);
    seed_email(s, s->nusers - 1, last, sizeof last);
    printf("{\"workload\":\"W200\",\"scale\":%d,\"seed\":%llu,\"now\":\"%s\","
           "\"time_zone\":\"" SEED_TZ "\",\"users\":%zu,\"calendars\":%zu,\"shares\":%zu,"
           "\"rooms\":%zu,\"events\":%zu,\"recurring\":%zu,\"moved_occurrences\":%zu,\"past\":%zu,\"future\":%zu,"
           "\"participants\":%zu,\"instances\":%zu,\"with_room\":%zu,\"room_misses\":%zu,"
           "\"with_reminder\":%zu,\"notifications\":%zu,\"invitations\":%zu,"
           "\"invitations_read\":%zu,\"reminders\":%zu,\"room_bookings_read_back\":%zu,"
           "\"room_overlaps\":%zu,\"email_pattern\":\"user%%0%dd@" SEED_DOMAIN "\","
           "\"email_first\":\"%s\",\"email_last\":\"%s\","
           "\"phase_s\":{\"users\":%.3f,\"rooms\":%.3f,\"events\":%.3f,\"check\":%.3f},"
           "\"elapsed_s\":%.3f}\n",
           s->opt.scale, (unsigned long long)s->opt.seed, now, c->users, c->calendars, c->shares,
           c->rooms, c->events, c->recurring, c->moved, c->past, c->future, c->participants, c->instances, c->with_room,
           c->room_misses, c->with_reminder, c->invitations + c->reminders, c->invitations,
           c->invitations_read, c->reminders, bookings, c->room_overlaps, s->email_width, first,
           last, s->phase_s[0], s->phase_s[1], s->phase_s[2], s->phase_s[3], elapsed_s);
}

int main(int argc, char **argv)
{
    struct seed s = {0};
    int64_t t0 = clock_mono_us(), t;
    size_t bookings = 0;
    bool empty = false;
    int rc = parse_options(argc, argv, &s.opt), status = 1;
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    log_init(LOG_WARN, "seed");
    if (secret_init() < 0) {
        fprintf(stderr, "planner-seed: libsodium failed to initialise\n");
        return 1;
    }
    icalerror_set_errors_are_fatal(0);
    prng_init(&s.rng, s.opt.seed, 0);
    s.email_width = 4;
    for (size_t n = (size_t)s.opt.scale * SEED_USERS_PER_SCALE; n >= 10000; n /= 10)
        s.email_width++;

    if ((s.db = store_open(s.opt.database, &s.err)) == NULL ||
        store_migrate(s.db, NULL, &s.err) < 0 || seed_check_empty(&s, &empty) < 0)
        goto fail;
    if (!empty) {
        fprintf(stderr, "planner-seed: %s already has users; give an empty or new database\n",
                s.opt.database);
        status = 2;
        goto out;
    }
    if (seed_days(&s) < 0)
        goto fail;
    t = clock_mono_us();
    if (seed_users(&s) < 0 || seed_shares(&s) < 0)
        goto fail;
    s.phase_s[0] = seconds_since(t);
    t = clock_mono_us();
    if (seed_rooms(&s) < 0)
        goto fail;
    s.phase_s[1] = seconds_since(t);
    t = clock_mono_us();
    if (seed_events(&s) < 0)
        goto fail;
    s.phase_s[2] = seconds_since(t);
    t = clock_mono_us();
    if (seed_check_rooms(&s, &bookings) < 0)
        goto fail;
    s.phase_s[3] = seconds_since(t);
    seed_print_summary(&s, bookings, seconds_since(t0));
    status = s.c.room_overlaps == 0 && bookings == s.c.with_room ? 0 : 1;
    if (status != 0)
        fprintf(stderr, "planner-seed: room check failed: %zu overlaps, %zu bookings read back"
                        " for %zu written\n", s.c.room_overlaps, bookings, s.c.with_room);
    goto out;
fail:
    fprintf(stderr, "planner-seed: %s\n", s.err.detail[0] ? s.err.detail : "failed");
out:
    store_close(s.db);
    for (size_t i = 0; i < s.nrooms; i++)
        free(s.rooms[i].busy);
    free(s.rooms);
    free(s.by_capacity);
    free(s.users);
    free(s.teams);
    free(s.day_start_us);
    free(s.past);
    free(s.future);
    icaltimezone_free_builtin_timezones();
    return status;
}
