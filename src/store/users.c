/* User queries. */
#include "store/users.h"

#include "arena.h"
#include "store/internal.h"

#include <string.h>

#define USER_COLUMNS                                                                          \
    "users.id, users.email, users.name, users.role, users.time_zone, users.is_active,"        \
    " users.version, users.created_at, users.updated_at"

static void read_user(struct store_stmt *st, struct arena *a, void *item)
{
    struct user *u = item;
    u->id = store_col_int64(st, 0);
    u->email = arena_strdup(a, store_col_text(st, 1));
    u->name = arena_strdup(a, store_col_text(st, 2));
    u->role = strcmp(store_col_text(st, 3), "admin") == 0 ? USER_ROLE_ADMIN : USER_ROLE_MEMBER;
    u->time_zone = arena_strdup(a, store_col_text(st, 4));
    u->is_active = store_col_int64(st, 5) != 0;
    u->version = store_col_int64(st, 6);
    u->created_us = store_col_int64(st, 7);
    u->updated_us = store_col_int64(st, 8);
}

int store_users_create(struct store *db, struct user *u, const char *password_hash,
                       int64_t now_us, struct pl_error *err)
{
    static const char insert_user[] =
        "INSERT INTO users (email, name, password_hash, role, time_zone, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id";
    static const char insert_calendar[] =
        "INSERT INTO calendars (owner_id, name, time_zone, is_default, created_at, updated_at)"
        " VALUES ($1, $2, $3, 1, $4, $4)";
    struct store_stmt *st;
    int rc;
    if ((rc = store_begin(db, err)) < 0)
        return rc;
    if ((rc = store_stmt(db, insert_user, &st, err)) < 0)
        goto fail;
    store_bind_text(st, 1, u->email);
    store_bind_text(st, 2, u->name);
    store_bind_text(st, 3, password_hash);
    store_bind_text(st, 4, core_user_role_name(u->role));
    store_bind_text(st, 5, u->time_zone);
    store_bind_int64(st, 6, now_us);
    if ((rc = store_step(st, err)) != STORE_ROW) {
        if (rc == PL_ECONFLICT)
            rc = pl_error_set(err, PL_ECONFLICT, "email", "a user with this e-mail already exists");
        else if (rc >= 0)
            rc = pl_error_set(err, PL_EDB, NULL, "database error");
        goto fail;
    }
    u->id = store_col_int64(st, 0);
    if ((rc = store_run(st, err)) < 0)
        goto fail;
    if ((rc = store_stmt(db, insert_calendar, &st, err)) < 0)
        goto fail;
    store_bind_int64(st, 1, u->id);
    store_bind_text(st, 2, u->name);
    store_bind_text(st, 3, u->time_zone);
    store_bind_int64(st, 4, now_us);
    if ((rc = store_run(st, err)) < 0)
        goto fail;
    if ((rc = store_commit(db, err)) < 0)
        return rc;
    u->is_active = true;
    u->version = 1;
    u->created_us = u->updated_us = now_us;
    return PL_OK;
fail:
    store_rollback(db);
    return rc;
}

int store_users_get(struct store *db, int64_t id, struct arena *a, struct user *out,
                    struct pl_error *err)
{
    static const char sql[] = "SELECT " USER_COLUMNS " FROM users WHERE id = $1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, id);
    if ((rc = store_step_one(st, err, "no user with id %lld", (long long)id)) < 0)
        return rc;
    read_user(st, a, out);
    store_done(st);
    return PL_OK;
}

int store_users_get_login(struct store *db, const char *email, struct arena *a, struct user *out,
                          const char **password_hash, struct pl_error *err)
{
    static const char sql[] =
        "SELECT " USER_COLUMNS ", password_hash FROM users WHERE email = $1 AND is_active = 1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_text(st, 1, email);
    if ((rc = store_step_one(st, err, "no such user")) < 0)
        return rc;
    read_user(st, a, out);
    *password_hash = arena_strdup(a, store_col_text(st, 9));
    store_done(st);
    return PL_OK;
}

/* `q` as a LIKE pattern matching it anywhere, with LIKE's own wildcards escaped. */
static char *like_pattern(struct arena *a, const char *q)
{
    size_t n = strlen(q);
    char *p = arena_alloc(a, 2 * n + 3), *w = p;
    *w++ = '%';
    for (size_t i = 0; i < n; i++) {
        if (q[i] == '%' || q[i] == '_' || q[i] == '\\')
            *w++ = '\\';
        *w++ = q[i];
    }
    *w++ = '%';
    *w = '\0';
    return p;
}

int store_users_search(struct store *db, const char *q, int64_t after_id, int limit,
                       struct arena *a, struct user **out, size_t *n, struct pl_error *err)
{
    static const char sql[] =
        "SELECT " USER_COLUMNS " FROM users"
        " WHERE is_active = 1 AND id > $1"
        "   AND (email LIKE $2 ESCAPE '\\' OR name LIKE $2 ESCAPE '\\')"
        " ORDER BY id LIMIT $3";
    struct store_stmt *st;
    if (limit <= 0) { /* SQLite reads LIMIT -1 as no limit; the array below has room for limit */
        *n = 0;
        return PL_OK;
    }
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, after_id);
    store_bind_text(st, 2, like_pattern(a, q ? q : ""));
    store_bind_int64(st, 3, limit);
    struct user *items = arena_alloc(a, sizeof *items * (size_t)(limit > 0 ? limit : 1));
    size_t count = 0;
    while ((rc = store_step(st, err)) == STORE_ROW && count < (size_t)limit)
        read_user(st, a, &items[count++]);
    store_done(st);
    if (rc < 0)
        return rc;
    *out = items;
    *n = count;
    return PL_OK;
}

int store_users_update(struct store *db, int64_t id, const struct store_user_patch *p,
                       int64_t if_version, int64_t now_us, struct arena *a, struct user *out,
                       struct pl_error *err)
{
    /* One statement: COALESCE keeps a column when its parameter is NULL, and the version
     * test makes the If-Match check and the write a single atomic step. */
    static const char update[] =
        "UPDATE users SET name = COALESCE($2, name), time_zone = COALESCE($3, time_zone),"
        " password_hash = COALESCE($4, password_hash), role = COALESCE($5, role),"
        " is_active = COALESCE($6, is_active), version = version + 1, updated_at = $7"
        " WHERE id = $1 AND ($8 < 0 OR version = $8)";
    static const char end_sessions[] = "DELETE FROM sessions WHERE user_id = $1";
    /* Events show their participants by name: a new name is a change of every event the
     * user takes part in, whose versions (ETags) move with it.  They are found through the
     * occurrences the user takes part in, and among the few events with no occurrence
     * (migration 016), not by reading every participant row. */
    static const char renamed[] =
        "UPDATE events SET version = version + 1, updated_at = $3"
        " WHERE id IN (SELECT i.event_id FROM user_instances ui"
        "   JOIN event_instances i ON i.id = ui.instance_id"
        "   WHERE ui.user_id = $1 AND ui.participant = 1"
        "  UNION ALL SELECT e.id FROM events e WHERE e.bare = 1 AND EXISTS (SELECT 1"
        "   FROM event_participants p WHERE p.event_id = e.id AND p.user_id = $1))"
        " AND EXISTS (SELECT 1 FROM users WHERE id = $1 AND name IS NOT $2)";
    struct store_stmt *st;
    int rc;
    if ((rc = store_begin(db, err)) < 0)
        return rc;
    if (p->name) {
        if ((rc = store_stmt(db, renamed, &st, err)) < 0)
            goto fail;
        store_bind_int64(st, 1, id);
        store_bind_text(st, 2, p->name);
        store_bind_int64(st, 3, now_us);
        if ((rc = store_run(st, err)) < 0)
            goto fail;
    }
    if ((rc = store_stmt(db, update, &st, err)) < 0)
        goto fail;
    store_bind_int64(st, 1, id);
    if (p->name)
        store_bind_text(st, 2, p->name);
    if (p->time_zone)
        store_bind_text(st, 3, p->time_zone);
    if (p->password_hash)
        store_bind_text(st, 4, p->password_hash);
    if (p->role >= 0)
        store_bind_text(st, 5, core_user_role_name(p->role));
    if (p->active >= 0)
        store_bind_int64(st, 6, p->active);
    store_bind_int64(st, 7, now_us);
    store_bind_int64(st, 8, if_version);
    if ((rc = store_run(st, err)) < 0)
        goto fail;
    if (store_changes(db) == 0) {
        /* Either the user is missing or its version moved on: tell which. */
        if ((rc = store_users_get(db, id, a, out, err)) == PL_OK)
            rc = pl_error_set(err, PL_EPRECOND, NULL, "the user has changed; fetch it again");
        goto fail;
    }
    if (p->active == 0 || p->password_hash) {
        if ((rc = store_stmt(db, end_sessions, &st, err)) < 0)
            goto fail;
        store_bind_int64(st, 1, id);
        if ((rc = store_run(st, err)) < 0)
            goto fail;
    }
    if ((rc = store_users_get(db, id, a, out, err)) < 0)
        goto fail;
    return store_commit(db, err);
fail:
    store_rollback(db);
    return rc;
}

int store_users_count_admins(struct store *db, int64_t *n, struct pl_error *err)
{
    static const char sql[] = "SELECT COUNT(*) FROM users WHERE role = 'admin' AND is_active = 1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc == PL_OK && (rc = store_step(st, err)) == STORE_ROW) {
        *n = store_col_int64(st, 0);
        store_done(st);
        rc = PL_OK;
    }
    return rc;
}

int store_users_lookup(struct store *db, const int64_t *ids, size_t n, struct arena *a,
                       struct user **out, struct pl_error *err)
{
    static const char sql[] = "SELECT " USER_COLUMNS " FROM json_each($1) j"
                              " CROSS JOIN users ON users.id = j.value WHERE users.is_active = 1";
    void *items;
    int rc = store_read_by_ids(db, sql, ids, n, a, sizeof **out, read_user, &items, err);
    *out = items;
    return rc;
}

int store_users_lookup_emails(struct store *db, const char *const *emails, size_t n,
                              struct arena *a, struct user **out, struct pl_error *err)
{
    static const char sql[] = "SELECT " USER_COLUMNS " FROM json_each($1) j"
                              " CROSS JOIN users ON users.email = j.value WHERE users.is_active = 1";
    struct user *users = arena_zalloc(a, (n ? n : 1) * sizeof *users);
    *out = users;
    if (n == 0)
        return PL_OK;
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_texts(st, 1, emails, n, a);
    while ((rc = store_step(st, err)) == STORE_ROW) {
        struct user u;
        read_user(st, a, &u);
        for (size_t i = 0; i < n; i++)
            if (strcmp(emails[i], u.email) == 0)
                users[i] = u;
    }
    return rc < 0 ? rc : PL_OK;
}
