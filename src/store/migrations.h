/* Numbered migrations compiled into the binary (scripts/embed-sql.sh), one array per engine. */
#ifndef PLANNER_STORE_MIGRATIONS_H
#define PLANNER_STORE_MIGRATIONS_H

#include <stddef.h>

struct store_migration {
    int version;      /* NNN of NNN_name.sql; strictly increasing */
    const char *name; /* NNN_name */
    const char *sql;
};

extern const struct store_migration store_migrations_sqlite[];
extern const size_t store_migrations_sqlite_count;

#endif
