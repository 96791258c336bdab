/* store/sessions: bearer-token sessions and the failed-login records behind throttling. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "arena.h"
#include "core/throttle.h"
#include "log.h"
#include "store/internal.h"
#include "store/sessions.h"
#include "store/store.h"
#include "store/users.h"
#include "store_fixture.h"

#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define S INT64_C(1000000)
#define T0 (INT64_C(1795417200) * S)

static struct store *db;

static void setup(void)
{
    db = fixture_store_open();
}

static void teardown(void)
{
    store_close(db);
}

TestSuite(store_sessions, .init = setup, .fini = teardown);

static int64_t create_user(const char *email, int role)
{
    struct pl_error err = {0};
    struct user u = {.email = email, .name = "User", .time_zone = "UTC", .role = role};
    cr_assert(eq(int, store_users_create(db, &u, "$argon2id$stub", T0, &err), PL_OK), "%s",
              err.detail);
    return u.id;
}

static int64_t count_sessions(void)
{
    static const char sql[] = "SELECT COUNT(*) FROM sessions";
    struct pl_error err = {0};
    struct store_stmt *st;
    cr_assert(eq(int, store_stmt(db, sql, &st, &err), PL_OK));
    cr_assert(eq(int, store_step(st, &err), STORE_ROW));
    int64_t n = store_col_int64(st, 0);
    cr_assert(eq(int, store_step(st, &err), STORE_DONE));
    return n;
}

Test(store_sessions, create_and_lookup)
{
    int64_t member = create_user("m@example.org", USER_ROLE_MEMBER);
    int64_t admin = create_user("a@example.org", USER_ROLE_ADMIN);
    struct pl_error err = {0};
    cr_assert(eq(int, store_sessions_create(db, member, "hash-m", T0, T0 + 60 * S, &err), PL_OK),
              "%s", err.detail);
    cr_assert(eq(int, store_sessions_create(db, admin, "hash-a", T0, T0 + 60 * S, &err), PL_OK),
              "%s", err.detail);

    struct store_identity id = {0};
    cr_assert(eq(int, store_sessions_lookup(db, "hash-m", T0 + S, &id, &err), PL_OK), "%s",
              err.detail);
    cr_expect(eq(i64, id.user_id, member));
    cr_expect(gt(i64, id.session_id, 0));
    cr_expect(eq(int, id.role, USER_ROLE_MEMBER));
    int64_t member_session = id.session_id;

    cr_assert(eq(int, store_sessions_lookup(db, "hash-a", T0 + S, &id, &err), PL_OK));
    cr_expect(eq(i64, id.user_id, admin));
    cr_expect(eq(int, id.role, USER_ROLE_ADMIN));
    cr_expect(ne(i64, id.session_id, member_session));

    cr_expect(eq(int, store_sessions_lookup(db, "hash-x", T0 + S, &id, &err), PL_ENOTFOUND));
    cr_expect(eq(int, store_sessions_lookup(db, "", T0 + S, &id, &err), PL_ENOTFOUND));
}

/* A session is valid while now < expires_at. */
Test(store_sessions, expiry_boundary)
{
    static const struct {
        int64_t now;
        int rc;
    } cases[] = {
        {T0, PL_OK},
        {T0 + 60 * S - 1, PL_OK},
        {T0 + 60 * S, PL_ENOTFOUND},
        {T0 + 61 * S, PL_ENOTFOUND},
    };
    int64_t uid = create_user("e@example.org", USER_ROLE_MEMBER);
    struct pl_error err = {0};
    cr_assert(eq(int, store_sessions_create(db, uid, "hash-e", T0, T0 + 60 * S, &err), PL_OK));
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct store_identity id;
        cr_expect(eq(int, store_sessions_lookup(db, "hash-e", cases[i].now, &id, &err),
                     cases[i].rc), "case %zu", i);
    }
}

/* Creating a session drops the ones that have expired, and no others. */
Test(store_sessions, create_prunes_expired)
{
    int64_t uid = create_user("p@example.org", USER_ROLE_MEMBER);
    struct pl_error err = {0};
    cr_assert(eq(int, store_sessions_create(db, uid, "old", T0, T0 + 10 * S, &err), PL_OK));
    cr_assert(eq(int, store_sessions_create(db, uid, "mid", T0, T0 + 100 * S, &err), PL_OK));
    cr_expect(eq(i64, count_sessions(), 2));
    cr_assert(eq(int, store_sessions_create(db, uid, "new", T0 + 50 * S, T0 + 150 * S, &err),
                 PL_OK));
    cr_expect(eq(i64, count_sessions(), 2));
    struct store_identity id;
    cr_expect(eq(int, store_sessions_lookup(db, "mid", T0 + 50 * S, &id, &err), PL_OK));
    cr_expect(eq(int, store_sessions_lookup(db, "new", T0 + 50 * S, &id, &err), PL_OK));
}

Test(store_sessions, delete_ends_one_session)
{
    int64_t uid = create_user("d@example.org", USER_ROLE_MEMBER);
    struct pl_error err = {0};
    cr_assert(eq(int, store_sessions_create(db, uid, "one", T0, T0 + 60 * S, &err), PL_OK));
    cr_assert(eq(int, store_sessions_create(db, uid, "two", T0, T0 + 60 * S, &err), PL_OK));
    struct store_identity id;
    cr_assert(eq(int, store_sessions_lookup(db, "one", T0, &id, &err), PL_OK));
    cr_expect(eq(int, store_sessions_delete(db, id.session_id, &err), STORE_DONE), "%s",
              err.detail);
    cr_expect(eq(int, store_sessions_lookup(db, "one", T0, &id, &err), PL_ENOTFOUND));
    cr_expect(eq(int, store_sessions_lookup(db, "two", T0, &id, &err), PL_OK));
    cr_expect(eq(int, store_sessions_delete(db, 424242, &err), STORE_DONE), "missing id");
}

Test(store_sessions, inactive_user_has_no_session)
{
    int64_t uid = create_user("i@example.org", USER_ROLE_MEMBER);
    struct pl_error err = {0};
    /* Deactivate directly, without the update path that also deletes sessions, so that the
     * lookup's own is_active test is what is checked. */
    static const char off[] = "UPDATE users SET is_active = 0 WHERE id = $1";
    cr_assert(eq(int, store_sessions_create(db, uid, "tok", T0, T0 + 60 * S, &err), PL_OK));
    struct store_stmt *st;
    cr_assert(eq(int, store_stmt(db, off, &st, &err), PL_OK));
    store_bind_int64(st, 1, uid);
    cr_assert(eq(int, store_run(st, &err), STORE_DONE));
    struct store_identity id;
    cr_expect(eq(int, store_sessions_lookup(db, "tok", T0, &id, &err), PL_ENOTFOUND));
}

Test(store_sessions, constraint_failures)
{
    log_init(LOG_ERROR + 1, "test"); /* the foreign-key failure is logged as a database error */
    int64_t uid = create_user("c@example.org", USER_ROLE_MEMBER);
    struct pl_error err = {0};
    cr_assert(eq(int, store_sessions_create(db, uid, "same", T0, T0 + 60 * S, &err), PL_OK));
    cr_expect(eq(int, store_sessions_create(db, uid, "same", T0, T0 + 60 * S, &err), PL_ECONFLICT));
    /* Foreign keys are on: no session for a user that does not exist. */
    cr_expect(eq(int, store_sessions_create(db, uid + 100, "orphan", T0, T0 + 60 * S, &err),
                 PL_EDB));
    cr_expect(eq(i64, count_sessions(), 1), "a failed create left a row");
    /* And no transaction is left open. */
    cr_expect(eq(int, store_sessions_create(db, uid, "after", T0, T0 + 60 * S, &err), PL_OK), "%s",
              err.detail);
}

/* ---- failed logins ---------------------------------------------------------------------- */

static void fail_at(const char *k1, const char *k2, int64_t at, int64_t since)
{
    struct pl_error err = {0};
    cr_assert(eq(int, store_login_failures_add(db, k1, k2, at, since, &err), PL_OK), "%s",
              err.detail);
}

static int64_t nth(const char *key, int64_t since, int n)
{
    struct pl_error err = {0};
    int64_t at = -1;
    cr_assert(eq(int, store_login_failures_nth(db, key, since, n, &at, &err), PL_OK), "%s",
              err.detail);
    return at;
}

Test(store_sessions, login_failures_nth)
{
    static const struct {
        const char *key;
        int64_t since;
        int n;
        int64_t want;
    } cases[] = {
        {"account:x", 0, 1, T0 + 400},   /* the most recent */
        {"account:x", 0, 2, T0 + 300},
        {"account:x", 0, 4, T0 + 100},   /* the oldest */
        {"account:x", 0, 5, 0},          /* fewer than 5 */
        {"account:x", T0 + 100, 4, 0},   /* `after since` is strict: 100 is out */
        {"account:x", T0 + 100, 3, T0 + 200},
        {"account:x", T0 + 150, 3, T0 + 200},
        {"account:x", T0 + 400, 1, 0},
        {"address:10.0.0.1", 0, 4, T0 + 100}, /* the second key got the same failures */
        {"account:y", 0, 1, 0},          /* a key never seen */
        {"account:X", 0, 1, 0},          /* keys are exact */
    };
    for (int64_t t = 100; t <= 400; t += 100)
        fail_at("account:x", "address:10.0.0.1", T0 + t, 0);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        cr_expect(eq(i64, nth(cases[i].key, cases[i].since, cases[i].n), cases[i].want),
                  "case %zu: %s since +%lld n=%d", i, cases[i].key,
                  (long long)(cases[i].since ? cases[i].since - T0 : 0), cases[i].n);
}

Test(store_sessions, login_failures_prune_and_clear)
{
    fail_at("account:x", "address:a", T0 + 100, 0);
    fail_at("account:y", "address:b", T0 + 100, 0);
    fail_at("account:x", "address:a", T0 + 200, 0);
    fail_at("account:x", "address:a", T0 + 300, 0);
    /* This add prunes rows of its own two keys at or before +250, and no other key's. */
    fail_at("account:x", "address:a", T0 + 500, T0 + 250);
    cr_expect(eq(i64, nth("account:x", 0, 2), T0 + 300));
    cr_expect(eq(i64, nth("account:x", 0, 3), 0), "old rows were not pruned");
    cr_expect(eq(i64, nth("address:a", 0, 3), 0));
    cr_expect(eq(i64, nth("account:y", 0, 1), T0 + 100), "another key was pruned");

    struct pl_error err = {0};
    cr_assert(eq(int, store_login_failures_clear(db, "account:x", &err), STORE_DONE));
    cr_expect(eq(i64, nth("account:x", 0, 1), 0));
    cr_expect(eq(i64, nth("address:a", 0, 1), T0 + 500), "clear touched another key");
}

/* The store and the throttle rule together, as the login handler uses them: 5 failures per
 * 15 minutes, then wait until the oldest of the 5 leaves the window. */
Test(store_sessions, throttle_from_stored_failures)
{
    const int64_t window = 900 * S;
    const int max = 5;
    int64_t now = T0;
    for (int i = 0; i < max; i++, now += 10 * S)
        fail_at("account:z", "address:z", now, now - window);
    /* Failures at T0, +10, +20, +30, +40 s; now = T0 + 50 s. */
    int64_t oldest = nth("account:z", now - window, max);
    cr_expect(eq(i64, oldest, T0));
    cr_expect(eq(int, core_throttle_retry_after(oldest, window, now), 850));
    now = T0 + window; /* the failure at T0 has left the window */
    oldest = nth("account:z", now - window, max);
    cr_expect(eq(i64, oldest, 0));
    cr_expect(eq(int, core_throttle_retry_after(oldest, window, now), 0));
}
