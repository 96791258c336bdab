/* Room queries.  Features are read back with the room in one statement (group_concat over
 * names restricted to [a-z0-9-], so the comma separator is unambiguous). */
#include "store/rooms.h"

#include "arena.h"
#include "store/internal.h"

#include <stdlib.h>
#include <string.h>

#define ROOM_COLUMNS                                                                          \
    "r.id, r.name, r.location, r.capacity, r.is_active, r.version, r.created_at, r.updated_at," \
    " (SELECT group_concat(feature, ',') FROM (SELECT feature FROM room_features f"           \
    "  WHERE f.room_id = r.id ORDER BY feature))"

static void read_room(struct store_stmt *st, struct arena *a, void *item)
{
    struct room *r = item;
    r->id = store_col_int64(st, 0);
    r->name = arena_strdup(a, store_col_text(st, 1));
    r->location = arena_strdup(a, store_col_text(st, 2));
    r->capacity = (int)store_col_int64(st, 3);
    r->is_active = store_col_int64(st, 4) != 0;
    r->version = store_col_int64(st, 5);
    r->created_us = store_col_int64(st, 6);
    r->updated_us = store_col_int64(st, 7);
    char *list = arena_strdup(a, store_col_text(st, 8));
    size_t n = *list ? 1 : 0;
    for (char *c = list; *c; c++)
        n += *c == ',';
    r->features = arena_alloc(a, (n ? n : 1) * sizeof *r->features);
    r->nfeatures = 0;
    for (char *p = list; n > 0 && p != NULL;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        r->features[r->nfeatures++] = p;
        p = comma ? comma + 1 : NULL;
    }
}

int store_rooms_list(struct store *db, const struct store_room_filter *f, struct arena *a,
                     struct room **out, size_t *n, struct pl_error *err)
{
    static const char sql[] =
        "SELECT " ROOM_COLUMNS " FROM rooms r"
        " WHERE r.is_active = 1 AND r.capacity >= $1 AND r.id > $2"
        "   AND ($3 IS NULL OR EXISTS (SELECT 1 FROM room_features f"
        "        WHERE f.room_id = r.id AND f.feature = $3))"
        "   AND ($4 >= $5 OR NOT EXISTS (SELECT 1 FROM event_instances i"
        "        WHERE i.room_id = r.id AND i.starts_at < $5 AND i.starts_at > $4 - " STORE_LONGEST_SQL
        "          AND i.ends_at > $4 AND i.status <> 'cancelled'))"
        " ORDER BY r.id LIMIT $6";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, f->capacity_min);
    store_bind_int64(st, 2, f->after_id);
    if (f->feature)
        store_bind_text(st, 3, f->feature);
    store_bind_int64(st, 4, f->from_us);
    store_bind_int64(st, 5, f->to_us);
    store_bind_int64(st, 6, f->limit);
    void *items;
    if ((rc = store_read_all(st, a, sizeof **out, read_room, &items, n, err)) == PL_OK)
        *out = items;
    return rc;
}

struct seat {
    int64_t capacity, id;
};

static void read_seat(struct store_stmt *st, struct arena *a, void *item)
{
    (void)a;
    struct seat *r = item;
    r->id = store_col_int64(st, 0);
    r->capacity = store_col_int64(st, 1);
}

static int by_capacity_then_id(const void *x, const void *y)
{
    const struct seat *a = x, *b = y;
    if (a->capacity != b->capacity)
        return (a->capacity > b->capacity) - (a->capacity < b->capacity);
    return (a->id > b->id) - (a->id < b->id);
}

int store_rooms_seating(struct store *db, int capacity_min, const char *feature, int limit,
                        struct arena *a, int64_t **ids, size_t *n, struct pl_error *err)
{
    /* Smallest first is sorted here: SQLite's sorter for ORDER BY capacity cost more than
     * the rest of the statement (~50 k instructions of a find-a-time at 32 rooms). */
    static const char sql[] =
        "SELECT r.id, r.capacity FROM rooms r"
        " WHERE r.is_active = 1 AND r.capacity >= $1"
        "   AND ($2 IS NULL OR EXISTS (SELECT 1 FROM room_features f"
        "        WHERE f.room_id = r.id AND f.feature = $2))"
        " ORDER BY r.id LIMIT $3";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, capacity_min);
    if (feature)
        store_bind_text(st, 2, feature);
    store_bind_int64(st, 3, limit);
    void *items;
    if ((rc = store_read_all(st, a, sizeof(struct seat), read_seat, &items, n, err)) != PL_OK)
        return rc;
    struct seat *rooms = items;
    if (*n > 1)
        qsort(rooms, *n, sizeof *rooms, by_capacity_then_id);
    *ids = arena_alloc(a, (*n ? *n : 1) * sizeof **ids);
    for (size_t i = 0; i < *n; i++)
        (*ids)[i] = rooms[i].id;
    return PL_OK;
}

int store_rooms_get(struct store *db, int64_t id, struct arena *a, struct room *out,
                    struct pl_error *err)
{
    static const char sql[] = "SELECT " ROOM_COLUMNS " FROM rooms r WHERE r.id = $1";
    struct store_stmt *st;
    int rc = store_stmt(db, sql, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, id);
    if ((rc = store_step_one(st, err, "no room with id %lld", (long long)id)) < 0)
        return rc;
    read_room(st, a, out);
    store_done(st);
    return PL_OK;
}

int store_rooms_lookup(struct store *db, const int64_t *ids, size_t n, struct arena *a,
                       struct room **out, struct pl_error *err)
{
    static const char sql[] = "SELECT " ROOM_COLUMNS " FROM json_each($1) j"
                              " CROSS JOIN rooms r ON r.id = j.value WHERE r.is_active = 1";
    void *items;
    int rc = store_read_by_ids(db, sql, ids, n, a, sizeof **out, read_room, &items, err);
    *out = items;
    return rc;
}

static int set_features(struct store *db, int64_t id, const char **features, size_t n,
                        struct pl_error *err)
{
    static const char clear[] = "DELETE FROM room_features WHERE room_id = $1";
    static const char add[] = "INSERT OR IGNORE INTO room_features (room_id, feature) VALUES ($1, $2)";
    struct store_stmt *st;
    int rc = store_stmt(db, clear, &st, err);
    if (rc < 0)
        return rc;
    store_bind_int64(st, 1, id);
    if ((rc = store_run(st, err)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if ((rc = store_stmt(db, add, &st, err)) < 0)
            return rc;
        store_bind_int64(st, 1, id);
        store_bind_text(st, 2, features[i]);
        if ((rc = store_run(st, err)) < 0)
            return rc;
    }
    return PL_OK;
}

int store_rooms_create(struct store *db, struct room *r, int64_t now_us, struct pl_error *err)
{
    static const char sql[] =
        "INSERT INTO rooms (name, capacity, location, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $4) RETURNING id";
    struct store_stmt *st;
    int rc;
    if ((rc = store_begin(db, err)) < 0)
        return rc;
    if ((rc = store_stmt(db, sql, &st, err)) < 0)
        goto fail;
    store_bind_text(st, 1, r->name);
    store_bind_int64(st, 2, r->capacity);
    store_bind_text(st, 3, r->location);
    store_bind_int64(st, 4, now_us);
    if ((rc = store_step(st, err)) != STORE_ROW) {
        if (rc == PL_ECONFLICT)
            rc = pl_error_set(err, PL_ECONFLICT, "name", "a room with this name already exists");
        else if (rc >= 0)
            rc = pl_error_set(err, PL_EDB, NULL, "database error");
        goto fail;
    }
    r->id = store_col_int64(st, 0);
    if ((rc = store_run(st, err)) < 0 ||
        (rc = set_features(db, r->id, r->features, r->nfeatures, err)) < 0)
        goto fail;
    if ((rc = store_commit(db, err)) < 0)
        return rc;
    r->is_active = true;
    r->version = 1;
    r->created_us = r->updated_us = now_us;
    return PL_OK;
fail:
    store_rollback(db);
    return rc;
}

int store_rooms_update(struct store *db, int64_t id, const char *name, const char *location,
                       int capacity, const char **features, size_t nfeatures, int active,
                       int64_t if_version, int64_t now_us, struct pl_error *err)
{
    static const char sql[] =
        "UPDATE rooms SET name = COALESCE($2, name), location = COALESCE($3, location),"
        " capacity = COALESCE($4, capacity), is_active = COALESCE($5, is_active),"
        " version = version + 1, updated_at = $6 WHERE id = $1 AND ($7 < 0 OR version = $7)";
    /* Events show their room by name: a new name is a change of every event booked in it
     * (found through its occurrences' room index), whose versions (ETags) move with it. */
    static const char renamed[] =
        "UPDATE events SET version = version + 1, updated_at = $3"
        " WHERE id IN (SELECT event_id FROM event_instances WHERE room_id = $1)"
        " AND EXISTS (SELECT 1 FROM rooms WHERE id = $1 AND name IS NOT $2)";
    struct store_stmt *st;
    int rc;
    if ((rc = store_begin(db, err)) < 0)
        return rc;
    if (name) {
        if ((rc = store_stmt(db, renamed, &st, err)) < 0)
            goto fail;
        store_bind_int64(st, 1, id);
        store_bind_text(st, 2, name);
        store_bind_int64(st, 3, now_us);
        if ((rc = store_run(st, err)) < 0)
            goto fail;
    }
    if ((rc = store_stmt(db, sql, &st, err)) < 0)
        goto fail;
    store_bind_int64(st, 1, id);
    if (name)
        store_bind_text(st, 2, name);
    if (location)
        store_bind_text(st, 3, location);
    if (capacity > 0)
        store_bind_int64(st, 4, capacity);
    if (active >= 0)
        store_bind_int64(st, 5, active);
    store_bind_int64(st, 6, now_us);
    store_bind_int64(st, 7, if_version);
    if ((rc = store_run(st, err)) < 0) {
        if (rc == PL_ECONFLICT)
            rc = pl_error_set(err, PL_ECONFLICT, "name", "a room with this name already exists");
        goto fail;
    }
    if (store_changes(db) == 0) {
        rc = pl_error_set(err, PL_EPRECOND, NULL, "the room has changed; fetch it again");
        goto fail;
    }
    if (features && (rc = set_features(db, id, features, nfeatures, err)) < 0)
        goto fail;
    return store_commit(db, err);
fail:
    store_rollback(db);
    return rc;
}
