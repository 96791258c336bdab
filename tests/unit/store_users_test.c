/* store/users: create with the default calendar, get, login lookup, search, update. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "arena.h"
#include "store/internal.h"
#include "store/sessions.h"
#include "store/store.h"
#include "store/users.h"
#include "store_fixture.h"

#include <stdio.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define T0 INT64_C(1795417200000000)

static struct store *db;
static struct arena *ar;

static void setup(void)
{
    db = fixture_store_open();
    ar = arena_new(0);
}

static void teardown(void)
{
    arena_free(ar);
    store_close(db);
}

TestSuite(store_users, .init = setup, .fini = teardown);

/* One integer from a query with at most one parameter. */
static int64_t scalar(const char *sql, int64_t param)
{
    struct pl_error err = {0};
    struct store_stmt *st;
    cr_assert(eq(int, store_stmt(db, sql, &st, &err), PL_OK), "%s", err.detail);
    if (strstr(sql, "$1"))
        store_bind_int64(st, 1, param);
    cr_assert(eq(int, store_step(st, &err), STORE_ROW), "%s", err.detail);
    int64_t v = store_col_int64(st, 0);
    cr_assert(eq(int, store_step(st, &err), STORE_DONE));
    return v;
}

static const char count_users[] = "SELECT COUNT(*) FROM users";
static const char count_calendars[] = "SELECT COUNT(*) FROM calendars";
static const char count_sessions[] = "SELECT COUNT(*) FROM sessions WHERE user_id = $1";

static int64_t create(const char *email, const char *name, int role)
{
    struct pl_error err = {0};
    struct user u = {.email = email, .name = name, .time_zone = "Europe/Moscow", .role = role};
    cr_assert(eq(int, store_users_create(db, &u, "$argon2id$stub", T0, &err), PL_OK),
              "%s: %s", email, err.detail);
    return u.id;
}

Test(store_users, create_and_get)
{
    struct pl_error err = {0};
    struct user u = {.email = "alice@example.org", .name = "Alice", .time_zone = "Europe/Moscow",
                     .role = USER_ROLE_ADMIN};
    cr_assert(eq(int, store_users_create(db, &u, "$argon2id$stub", T0, &err), PL_OK), "%s",
              err.detail);
    cr_expect(gt(i64, u.id, 0));
    cr_expect(eq(i64, u.version, 1));
    cr_expect(u.is_active);
    cr_expect(eq(i64, u.created_us, T0));
    cr_expect(eq(i64, u.updated_us, T0));

    struct user got;
    cr_assert(eq(int, store_users_get(db, u.id, ar, &got, &err), PL_OK), "%s", err.detail);
    cr_expect(eq(i64, got.id, u.id));
    cr_expect(eq(str, (char *)got.email, "alice@example.org"));
    cr_expect(eq(str, (char *)got.name, "Alice"));
    cr_expect(eq(str, (char *)got.time_zone, "Europe/Moscow"));
    cr_expect(eq(int, got.role, USER_ROLE_ADMIN));
    cr_expect(got.is_active);
    cr_expect(eq(i64, got.version, 1));
    cr_expect(eq(i64, got.created_us, T0));
    cr_expect(eq(i64, got.updated_us, T0));
}

Test(store_users, create_makes_default_calendar)
{
    static const char sql[] = "SELECT COUNT(*) FROM calendars WHERE owner_id = $1"
                              " AND is_default = 1 AND name = 'Bob'"
                              " AND time_zone = 'Europe/Moscow'";
    int64_t id = create("bob@example.org", "Bob", USER_ROLE_MEMBER);
    cr_expect(eq(i64, scalar(sql, id), 1));
    cr_expect(eq(i64, scalar(count_calendars, 0), 1));
}

/* A taken e-mail is a conflict on "email" and leaves no user or calendar behind. */
Test(store_users, duplicate_email_conflicts_atomically)
{
    create("carol@example.org", "Carol", USER_ROLE_MEMBER);
    struct pl_error err = {0};
    struct user dup = {.email = "carol@example.org", .name = "Other Carol", .time_zone = "UTC"};
    cr_expect(eq(int, store_users_create(db, &dup, "$argon2id$stub", T0 + 1, &err), PL_ECONFLICT));
    cr_expect(eq(int, err.status, PL_ECONFLICT));
    cr_expect(eq(str, err.field, "email"));
    cr_expect(eq(str, (char *)err.type, "conflict"));
    cr_expect(eq(i64, scalar(count_users, 0), 1));
    cr_expect(eq(i64, scalar(count_calendars, 0), 1));
    /* The connection is not left inside a transaction: the next create works. */
    create("dave@example.org", "Dave", USER_ROLE_MEMBER);
    cr_expect(eq(i64, scalar(count_users, 0), 2));
    cr_expect(eq(i64, scalar(count_calendars, 0), 2));
}

Test(store_users, get_missing)
{
    struct pl_error err = {0};
    struct user got;
    cr_expect(eq(int, store_users_get(db, 12345, ar, &got, &err), PL_ENOTFOUND));
    cr_expect(eq(int, err.status, PL_ENOTFOUND));
}

Test(store_users, get_login)
{
    int64_t id = create("erin@example.org", "Erin", USER_ROLE_MEMBER);
    struct pl_error err = {0};
    struct user got;
    const char *hash = NULL;
    cr_assert(eq(int, store_users_get_login(db, "erin@example.org", ar, &got, &hash, &err), PL_OK),
              "%s", err.detail);
    cr_expect(eq(i64, got.id, id));
    cr_expect(eq(str, (char *)hash, "$argon2id$stub"));
    cr_expect(eq(int, store_users_get_login(db, "nobody@example.org", ar, &got, &hash, &err),
                 PL_ENOTFOUND));

    struct store_user_patch off = {.role = -1, .active = 0};
    cr_assert(eq(int, store_users_update(db, id, &off, -1, T0 + 1, ar, &got, &err), PL_OK), "%s",
              err.detail);
    cr_expect(eq(int, store_users_get_login(db, "erin@example.org", ar, &got, &hash, &err),
                 PL_ENOTFOUND), "an inactive user can log in");
}

/* ---- search ---------------------------------------------------------------------------- */

static const struct {
    const char *email, *name;
} people[] = {
    {"alice@example.org", "Alice Smith"},
    {"bob@example.org", "Bob Jones"},
    {"carol@example.org", "Carol 100%"},
    {"dan@example.org", "Dan_Under"},
    {"erin@example.net", "Erin Back\\slash"},
    {"frank@example.org", "Frank Smith"},
};

static void create_people(int64_t ids[])
{
    for (size_t i = 0; i < ARRAY_LEN(people); i++)
        ids[i] = create(people[i].email, people[i].name, USER_ROLE_MEMBER);
}

static const struct {
    const char *q;
    const char *want; /* first letters of the names found, in id order */
} searches[] = {
    {NULL, "ABCDEF"},
    {"", "ABCDEF"},
    {"smith", "AF"},
    {"Smith", "AF"},
    {"bob@", "B"},
    {"example.net", "E"},
    {"%", "C"},          /* a literal percent sign, not "anything" */
    {"100%", "C"},
    {"_", "D"},          /* a literal underscore, not "any character" */
    {"b_b", ""},         /* would match "bob" if _ were a wildcard */
    {"\\", "E"},         /* a literal backslash */
    {"Back\\s", "E"},
    {"%%", ""},
    {"zzz", ""},
};

Test(store_users, search_escapes_like_wildcards)
{
    int64_t ids[ARRAY_LEN(people)];
    create_people(ids);
    for (size_t i = 0; i < ARRAY_LEN(searches); i++) {
        struct pl_error err = {0};
        struct user *found = NULL;
        size_t n = 99;
        int rc = store_users_search(db, searches[i].q, 0, 50, ar, &found, &n, &err);
        cr_assert(eq(int, rc, PL_OK), "case %zu: %s", i, err.detail);
        char got[16] = "";
        for (size_t k = 0; k < n && k < sizeof got - 1; k++)
            got[k] = found[k].name[0];
        got[n < sizeof got - 1 ? n : sizeof got - 1] = '\0';
        cr_expect(eq(str, got, (char *)searches[i].want), "case %zu: q=\"%s\"", i,
                  searches[i].q ? searches[i].q : "(null)");
    }
}

Test(store_users, search_pages_by_id)
{
    int64_t ids[ARRAY_LEN(people)];
    create_people(ids);
    struct pl_error err = {0};
    struct user *page;
    size_t n;
    int64_t after = 0;
    size_t seen = 0;
    for (int round = 0; round < 10; round++) {
        cr_assert(eq(int, store_users_search(db, NULL, after, 4, ar, &page, &n, &err), PL_OK),
                  "%s", err.detail);
        for (size_t k = 0; k < n; k++) {
            cr_assert(lt(sz, seen, ARRAY_LEN(people)));
            cr_expect(eq(i64, page[k].id, ids[seen]), "user %zu", seen);
            seen++;
        }
        if (n < 4)
            break;
        after = page[n - 1].id;
    }
    cr_expect(eq(sz, seen, ARRAY_LEN(people)));

    /* after_id is exclusive; limit is honoured exactly. */
    cr_assert(eq(int, store_users_search(db, "example", ids[1], 2, ar, &page, &n, &err), PL_OK));
    cr_assert(eq(sz, n, 2));
    cr_expect(eq(i64, page[0].id, ids[2]));
    cr_expect(eq(i64, page[1].id, ids[3]));
    cr_assert(eq(int, store_users_search(db, NULL, ids[5], 10, ar, &page, &n, &err), PL_OK));
    cr_expect(eq(sz, n, 0));
    cr_assert(eq(int, store_users_search(db, NULL, 0, 1, ar, &page, &n, &err), PL_OK));
    cr_expect(eq(sz, n, 1));
}

Test(store_users, search_skips_inactive_and_costs_one_query)
{
    int64_t ids[ARRAY_LEN(people)];
    create_people(ids);
    struct pl_error err = {0};
    struct user got, *found;
    size_t n;
    struct store_user_patch off = {.role = -1, .active = 0};
    cr_assert(eq(int, store_users_update(db, ids[0], &off, -1, T0 + 1, ar, &got, &err), PL_OK));
    unsigned queries;
    int64_t elapsed;
    store_stats_reset(db);
    cr_assert(eq(int, store_users_search(db, "smith", 0, 50, ar, &found, &n, &err), PL_OK));
    store_stats_get(db, &queries, &elapsed);
    cr_assert(eq(sz, n, 1));
    cr_expect(eq(str, (char *)found[0].name, "Frank Smith"));
    cr_expect(eq(uint, queries, 1));
}

/* ---- update ---------------------------------------------------------------------------- */

Test(store_users, update_applies_fields_and_bumps_version)
{
    int64_t id = create("gina@example.org", "Gina", USER_ROLE_MEMBER);
    struct pl_error err = {0};
    struct user got;
    struct store_user_patch p = {.name = "Gina Ray", .role = -1, .active = -1};
    cr_assert(eq(int, store_users_update(db, id, &p, 1, T0 + 10, ar, &got, &err), PL_OK), "%s",
              err.detail);
    cr_expect(eq(str, (char *)got.name, "Gina Ray"));
    cr_expect(eq(str, (char *)got.time_zone, "Europe/Moscow"), "unset field changed");
    cr_expect(eq(int, got.role, USER_ROLE_MEMBER));
    cr_expect(eq(i64, got.version, 2));
    cr_expect(eq(i64, got.updated_us, T0 + 10));
    cr_expect(eq(i64, got.created_us, T0));

    struct store_user_patch q = {.time_zone = "UTC", .role = USER_ROLE_ADMIN, .active = -1};
    cr_assert(eq(int, store_users_update(db, id, &q, -1, T0 + 20, ar, &got, &err), PL_OK), "%s",
              err.detail);
    cr_expect(eq(str, (char *)got.name, "Gina Ray"));
    cr_expect(eq(str, (char *)got.time_zone, "UTC"));
    cr_expect(eq(int, got.role, USER_ROLE_ADMIN));
    cr_expect(eq(i64, got.version, 3));
    int64_t admins = -1;
    cr_assert(eq(int, store_users_count_admins(db, &admins, &err), PL_OK));
    cr_expect(eq(i64, admins, 1));
}

Test(store_users, update_with_stale_version_changes_nothing)
{
    int64_t id = create("hal@example.org", "Hal", USER_ROLE_MEMBER);
    struct pl_error err = {0};
    struct user got;
    cr_assert(eq(int, store_sessions_create(db, id, "hal-token", T0, T0 + 1000000, &err), PL_OK));
    struct store_user_patch p = {.name = "Hal 2", .role = USER_ROLE_ADMIN, .active = 0};
    cr_expect(eq(int, store_users_update(db, id, &p, 7, T0 + 10, ar, &got, &err), PL_EPRECOND));
    cr_expect(eq(int, err.status, PL_EPRECOND));
    cr_assert(eq(int, store_users_get(db, id, ar, &got, &err), PL_OK));
    cr_expect(eq(str, (char *)got.name, "Hal"));
    cr_expect(eq(int, got.role, USER_ROLE_MEMBER));
    cr_expect(got.is_active);
    cr_expect(eq(i64, got.version, 1));
    cr_expect(eq(i64, got.updated_us, T0));
    cr_expect(eq(i64, scalar(count_sessions, id), 1), "sessions ended by a refused update");
}

Test(store_users, update_missing_user)
{
    struct pl_error err = {0};
    struct user got;
    struct store_user_patch p = {.name = "Nobody", .role = -1, .active = -1};
    cr_expect(eq(int, store_users_update(db, 999, &p, -1, T0, ar, &got, &err), PL_ENOTFOUND));
    cr_expect(eq(int, err.status, PL_ENOTFOUND));
    cr_expect(eq(int, store_users_update(db, 999, &p, 1, T0, ar, &got, &err), PL_ENOTFOUND));
    /* No transaction left open. */
    create("ivy@example.org", "Ivy", USER_ROLE_MEMBER);
}

/* Deactivating, or changing the password, ends the user's sessions and only theirs. */
Test(store_users, deactivate_and_password_change_end_sessions)
{
    static const struct {
        struct store_user_patch patch;
        int64_t sessions_left;
    } cases[] = {
        {{.name = "Renamed", .role = -1, .active = -1}, 2},
        {{.role = USER_ROLE_ADMIN, .active = -1}, 2},
        {{.role = -1, .active = 1}, 2},
        {{.password_hash = "$argon2id$new", .role = -1, .active = -1}, 0},
        {{.role = -1, .active = 0}, 0},
    };
    int64_t other = create("other@example.org", "Other", USER_ROLE_MEMBER);
    struct pl_error err = {0};
    cr_assert(eq(int, store_sessions_create(db, other, "other-token", T0, T0 + 1000000, &err),
                 PL_OK));
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char email[64], t1[32], t2[32];
        snprintf(email, sizeof email, "user%zu@example.org", i);
        snprintf(t1, sizeof t1, "token-%zu-a", i);
        snprintf(t2, sizeof t2, "token-%zu-b", i);
        int64_t id = create(email, "User", USER_ROLE_MEMBER);
        cr_assert(eq(int, store_sessions_create(db, id, t1, T0, T0 + 1000000, &err), PL_OK));
        cr_assert(eq(int, store_sessions_create(db, id, t2, T0, T0 + 1000000, &err), PL_OK));
        struct user got;
        cr_assert(eq(int, store_users_update(db, id, &cases[i].patch, -1, T0 + 1, ar, &got, &err),
                     PL_OK), "case %zu: %s", i, err.detail);
        cr_expect(eq(i64, scalar(count_sessions, id), cases[i].sessions_left), "case %zu", i);
        cr_expect(eq(i64, scalar(count_sessions, other), 1), "case %zu", i);
        if (cases[i].patch.active == 0)
            cr_expect(not(got.is_active), "case %zu", i);
    }
}

Test(store_users, count_admins)
{
    struct pl_error err = {0};
    int64_t n = -1;
    cr_assert(eq(int, store_users_count_admins(db, &n, &err), PL_OK));
    cr_expect(eq(i64, n, 0));
    int64_t a1 = create("a1@example.org", "A1", USER_ROLE_ADMIN);
    create("a2@example.org", "A2", USER_ROLE_ADMIN);
    create("m1@example.org", "M1", USER_ROLE_MEMBER);
    cr_assert(eq(int, store_users_count_admins(db, &n, &err), PL_OK));
    cr_expect(eq(i64, n, 2));
    struct user got;
    struct store_user_patch off = {.role = -1, .active = 0};
    cr_assert(eq(int, store_users_update(db, a1, &off, -1, T0 + 1, ar, &got, &err), PL_OK));
    cr_assert(eq(int, store_users_count_admins(db, &n, &err), PL_OK));
    cr_expect(eq(i64, n, 1), "inactive admins are counted");
}
