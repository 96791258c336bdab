/* The set-up the store tests share: a new in-memory database with every migration applied. */
#ifndef PLANNER_TESTS_STORE_FIXTURE_H
#define PLANNER_TESTS_STORE_FIXTURE_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "log.h"
#include "store/store.h"

/* Logs warnings and errors only (the migrations' info lines would bury a failure). */
static inline struct store *fixture_store_open(void)
{
    log_init(LOG_WARN, "test");
    struct pl_error err = {0};
    struct store *db = store_open("sqlite::memory:", &err);
    cr_assert(ne(ptr, db, NULL), "store_open: %s", err.detail);
    cr_assert(eq(int, store_migrate(db, NULL, &err), PL_OK), "%s", err.detail);
    return db;
}

#endif
