/* The engine layer that the aggregate files of store/ are written against.  No file outside
 * store/ sees it, and only the engine files call the database library.  SQL is written once
 * with $1, $2 ... placeholders; statements are prepared once per connection and cached by the
 * address of their (static) SQL text. */
#ifndef PLANNER_STORE_INTERNAL_H
#define PLANNER_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store/store.h"

struct store_stmt;

enum { STORE_DONE = 0, STORE_ROW = 1 };

/* The longest occurrence stored, as SQL (migration 010 keeps it, raised by a trigger on every
 * insert into event_instances).  Overlap queries bound the index scan with it: an occurrence
 * overlapping [from, to) starts after from - STORE_LONGEST_SQL, so "starts_at > from -
 * longest" turns a half-open scan of the (x, starts_at) index into a range as narrow as the
 * data allows (SQLite evaluates the subquery once per statement, in its snapshot).  Were the
 * row ever missing, the API's limit (core/event.h CORE_EVENT_DURATION_MAX_US, 31 days) still
 * bounds every occurrence: a wider scan, never a missed one. */
#define STORE_LONGEST_SQL                                                                     \
    "COALESCE((SELECT value FROM meta WHERE key = 'max_duration_us'), 2678400000000)"

/* The cached statement for `sql`, reset and with its bindings cleared.  `sql` must be a
 * string literal (its address is the cache key).  Returns PL_OK or PL_EDB. */
PL_MUST_CHECK int store_stmt(struct store *db, const char *sql, struct store_stmt **out,
                             struct pl_error *err);

/* Bind parameter $n (1-based).  Text is copied by the engine. */
void store_bind_int64(struct store_stmt *st, int n, int64_t v);
void store_bind_text(struct store_stmt *st, int n, const char *v);
void store_bind_null(struct store_stmt *st, int n);

/* Bind parameter $n to a list of ids, for SQL written as `x IN (SELECT value FROM
 * json_each($n))`: one statement whatever the list's length (SQLite's JSON1 table function;
 * the PostgreSQL engine will bind an array).  The text is built in `a`.  Where duplicates do
 * not matter, `FROM json_each($n) j CROSS JOIN t ON t.id = j.value` saves the temporary
 * b-tree SQLite builds for the IN's list on every run. */
struct arena;
void store_bind_ids(struct store_stmt *st, int n, const int64_t *ids, size_t count,
                    struct arena *a);

/* The same for a list of strings (`x IN (SELECT value FROM json_each($n))`), escaped as JSON
 * strings. */
void store_bind_texts(struct store_stmt *st, int n, const char *const *v, size_t count,
                      struct arena *a);

/* Run one step: STORE_ROW with a row to read, STORE_DONE, or a negative status:
 * PL_ECONFLICT for a unique constraint, PL_EUNAVAIL when the database stays locked,
 * PL_EDB otherwise (logged). */
PL_MUST_CHECK int store_step(struct store_stmt *st, struct pl_error *err);
/* Step `st` to the one row a lookup reads: PL_OK with the row to read (then store_done), a
 * PL_ENOTFOUND whose detail is `fmt` formatted when there is none, or store_step's error. */
PL_MUST_CHECK int store_step_one(struct store_stmt *st, struct pl_error *err, const char *fmt,
                                 ...) __attribute__((format(printf, 3, 4)));
/* Reads the current row of `st` into `item` (an element of the array store_read_all grows),
 * copying text into `a`. */
typedef void store_row_fn(struct store_stmt *st, struct arena *a, void *item);
/* Step `st` to its end, reading each row with `read` into an array of `size`-byte items
 * grown in `a`: *items (NULL when there are none) and *n. */
PL_MUST_CHECK int store_read_all(struct store_stmt *st, struct arena *a, size_t size,
                                 store_row_fn *read, void **items, size_t *n,
                                 struct pl_error *err);
/* Rows of `sql` for a list of ids ($1; column 0 of a row is its id), read with `read` into a
 * zeroed array of `n` items of `size` bytes in `a`, item i for ids[i]: an id with no row
 * leaves its item zeroed, and a repeated id gets a copy. */
PL_MUST_CHECK int store_read_by_ids(struct store *db, const char *sql, const int64_t *ids,
                                    size_t n, struct arena *a, size_t size, store_row_fn *read,
                                    void **items, struct pl_error *err);
/* Step a statement that returns no rows (or whose rows are not wanted) to completion. */
PL_MUST_CHECK int store_run(struct store_stmt *st, struct pl_error *err);

/* Finish with a statement before its last row: resets it so that it no longer holds the
 * connection's read snapshot.  Single-row readers call it once they have copied the row. */
void store_done(struct store_stmt *st);

/* Columns of the current row, 0-based.  Text lives until the next step or reset. */
int64_t store_col_int64(struct store_stmt *st, int col);
const char *store_col_text(struct store_stmt *st, int col); /* "" for NULL */
bool store_col_is_null(struct store_stmt *st, int col);

/* Rows changed by the last completed INSERT/UPDATE/DELETE on this connection. */
int64_t store_changes(struct store *db);
/* The rowid of the last row inserted on this connection: a single-row insert's id without
 * "RETURNING", which SQLite answers through a temporary b-tree built for the statement. */
int64_t store_last_insert_id(struct store *db);

/* Run SQL text with no parameters, possibly several statements (migrations). */
PL_MUST_CHECK int store_exec(struct store *db, const char *sql, struct pl_error *err);

/* Call fn(arg, name) about every STORE_PROGRESS_STEPS virtual-machine steps of the
 * connection's statements; fn NULL: stop. */
void store_progress(struct store *db, store_progress_fn *fn, void *arg, const char *name);
/* Temporary tables and sorts in files (on) or in memory (off, the default for requests). */
PL_MUST_CHECK int store_temp_on_disk(struct store *db, bool on, struct pl_error *err);

#endif
