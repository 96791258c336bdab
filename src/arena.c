/* A bump allocator over a list of blocks.  Blocks double in size up to a step, and a request
 * larger than the step gets a block of its own, so a huge allocation wastes nothing. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16
#define ARENA_MAX_STEP (64 * 1024)

struct block {
    struct block *next;
    size_t size, used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct cleanup {
    struct cleanup *next;
    arena_cleanup_fn fn;
    void *p;
};

struct arena {
    struct block *head;
    struct cleanup *cleanups;
    size_t next_size;
};

static void oom(size_t n)
{
    /* Logging may itself need memory; write(2) a fixed line instead. */
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory\",\"bytes\":%zu}\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

void *xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (p == NULL)
        oom(count * n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

static struct block *block_new(size_t size)
{
    struct block *b = xmalloc(sizeof *b + size);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

struct arena *arena_new(size_t initial)
{
    struct arena *a = xcalloc(1, sizeof *a);
    a->next_size = initial < 256 ? 256 : initial;
    a->head = block_new(a->next_size);
    return a;
}

void arena_free(struct arena *a)
{
    if (a == NULL)
        return;
    for (struct cleanup *c = a->cleanups; c != NULL; c = c->next)
        c->fn(c->p);
    struct block *b = a->head;
    while (b != NULL) {
        struct block *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < n)
        oom(n);
    struct block *b = a->head;
    if (b->size - b->used < need) {
        if (need > ARENA_MAX_STEP) {
            /* Give the oversized request its own block behind the current one, so the
             * current block's free space stays usable. */
            struct block *big = block_new(need);
            big->used = need;
            big->next = b->next;
            b->next = big;
            return big->data;
        }
        if (a->next_size < ARENA_MAX_STEP)
            a->next_size *= 2;
        b = block_new(a->next_size > need ? a->next_size : need);
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += need;
    return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
    return memset(arena_alloc(a, n), 0, n);
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = arena_alloc(a, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, SIZE_MAX);
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return arena_strdup(a, "");
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void arena_defer(struct arena *a, arena_cleanup_fn fn, void *p)
{
    struct cleanup *c = arena_alloc(a, sizeof *c);
    c->fn = fn;
    c->p = p;
    c->next = a->cleanups;
    a->cleanups = c;
}

void *arena_grow(struct arena *a, void *items, size_t count, size_t *cap, size_t size)
{
    if (items != NULL && count < *cap)
        return items;
    size_t ncap = *cap < 4 ? 8 : *cap * 2;
    void *grown = arena_alloc(a, ncap * size);
    if (count > 0)
        memcpy(grown, items, count * size);
    *cap = ncap;
    return grown;
}
