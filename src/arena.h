/* Region allocation for request-scoped memory (STYLE.md R6) and the aborting allocators
 * used for everything else (R8).  Nothing allocated from an arena is freed on its own: the
 * whole arena goes at once, running registered cleanups in reverse order first. */
#ifndef PLANNER_ARENA_H
#define PLANNER_ARENA_H

#include <stddef.h>

struct arena;
typedef void (*arena_cleanup_fn)(void *);

/* Allocators that abort the process with a log line when memory runs out. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* A new arena whose first block holds `initial` bytes.  Caller owns; free with arena_free. */
struct arena *arena_new(size_t initial);
/* Run the cleanups (last registered first) and release every block.  NULL is a no-op. */
void arena_free(struct arena *a);

/* `n` bytes aligned for any type, uninitialised / zeroed, owned by `a`. Aborts on OOM. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_zalloc(struct arena *a, size_t n);
/* Copies owned by `a`. arena_strndup copies at most n bytes and always terminates. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* printf into arena memory. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Grow an array allocated from `a` holding `count` items of `size` bytes when it is full:
 * returns `items` itself while count < *cap, else a copy with twice the room (at least 8
 * items) and updates *cap.  The old array is simply abandoned to the arena. */
void *arena_grow(struct arena *a, void *items, size_t count, size_t *cap, size_t size);
/* Call fn(p) when the arena is freed (for foreign objects such as jansson values). */
void arena_defer(struct arena *a, arena_cleanup_fn fn, void *p);

#endif
