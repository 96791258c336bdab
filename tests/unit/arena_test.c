/* arena: the request-scoped region allocator. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

Test(arena, many_small_allocations_are_aligned_and_distinct)
{
    static const size_t sizes[] = {1, 3, 7, 15, 16, 17, 31, 100, 255, 1000, 4095};
    struct arena *a = arena_new(64);
    unsigned char *prev[11] = {0};
    for (int round = 0; round < 500; round++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            unsigned char *p = arena_alloc(a, sizes[i]);
            cr_assert(not(eq(ptr, p, NULL)));
            cr_assert(eq(u64, (uintptr_t)p % 16, 0), "size %zu, round %d", sizes[i], round);
            /* Fill it, then check that the previous allocation of this size still holds its
             * fill: a later allocation overlapping an earlier one would overwrite it. */
            memset(p, (int)(i + 1), sizes[i]);
            if (prev[i] != NULL)
                cr_assert(eq(int, prev[i][sizes[i] - 1], (int)(i + 1)), "size %zu overwritten",
                          sizes[i]);
            prev[i] = p;
        }
    }
    arena_free(a);
}

Test(arena, zalloc_zeroes)
{
    struct arena *a = arena_new(0);
    for (size_t n = 1; n < 5000; n = n * 3 + 1) {
        unsigned char *p = arena_alloc(a, n);
        memset(p, 0xAB, n); /* dirty the memory a later zalloc might reuse */
        unsigned char *z = arena_zalloc(a, n);
        for (size_t i = 0; i < n; i++)
            cr_assert(eq(int, z[i], 0), "n %zu, byte %zu", n, i);
    }
    arena_free(a);
}

/* An oversized request gets a block of its own, and the current block stays usable. */
Test(arena, big_allocations)
{
    static const size_t big[] = {64 * 1024 + 1, 100 * 1000, 1 << 20, 3 << 20};
    struct arena *a = arena_new(256);
    char *small1 = arena_strdup(a, "before");
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        unsigned char *p = arena_alloc(a, big[i]);
        cr_assert(eq(u64, (uintptr_t)p % 16, 0));
        memset(p, 0x5A, big[i]); /* ASan: the whole range must be addressable */
        cr_assert(eq(int, p[big[i] - 1], 0x5A));
    }
    char *small2 = arena_strdup(a, "after");
    cr_expect(eq(str, small1, "before"));
    cr_expect(eq(str, small2, "after"));
    arena_free(a);
}

Test(arena, strdup_strndup)
{
    static const struct {
        const char *in;
        size_t n;
        const char *want;
    } cases[] = {
        {"hello", 5, "hello"}, {"hello", 3, "hel"}, {"hello", 100, "hello"},
        {"", 10, ""},          {"hello", 0, ""},
    };
    struct arena *a = arena_new(0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = arena_strndup(a, cases[i].in, cases[i].n);
        cr_expect(eq(str, s, (char *)cases[i].want), "case %zu", i);
    }
    const char *orig = "copy me";
    char *copy = arena_strdup(a, orig);
    cr_expect(eq(str, copy, "copy me"));
    cr_expect(ne(ptr, copy, (void *)orig));
    arena_free(a);
}

Test(arena, printf_formats_any_length)
{
    struct arena *a = arena_new(0);
    cr_expect(eq(str, arena_printf(a, "%s-%d-%05.1f", "x", 42, 3.14159), "x-42-003.1"));
    cr_expect(eq(str, arena_printf(a, "%s", ""), ""));
    /* Longer than the first block, and than the block-size step. */
    char *big = arena_printf(a, "%100000d|", 7);
    cr_expect(eq(sz, strlen(big), 100001));
    cr_expect(eq(int, big[99999], '7'));
    cr_expect(eq(int, big[100000], '|'));
    arena_free(a);
}

static char order[16];
static size_t norder;

static void record(void *p)
{
    order[norder++] = *(const char *)p;
}

Test(arena, cleanups_run_in_reverse_order)
{
    static const char tags[] = "abcdef";
    norder = 0;
    struct arena *a = arena_new(0);
    for (size_t i = 0; i < 6; i++) {
        arena_defer(a, record, (void *)&tags[i]);
        /* Allocate between registrations so they span blocks. */
        (void)arena_alloc(a, 40000);
    }
    cr_assert(eq(sz, norder, 0));
    arena_free(a);
    order[norder] = '\0';
    cr_expect(eq(str, order, "fedcba"));
}

/* A cleanup frees foreign memory: with LSan on, a cleanup that did not run is a leak. */
Test(arena, cleanup_releases_foreign_memory)
{
    struct arena *a = arena_new(0);
    for (int i = 0; i < 10; i++)
        arena_defer(a, free, xmalloc(100));
    arena_free(a);
}

Test(arena, free_null_is_a_noop)
{
    arena_free(NULL);
}

Test(arena, x_allocators)
{
    char *s = xstrdup("planner");
    cr_expect(eq(str, s, "planner"));
    s = xrealloc(s, 4096);
    cr_expect(eq(str, s, "planner"));
    free(s);
    int *z = xcalloc(16, sizeof *z);
    for (int i = 0; i < 16; i++)
        cr_expect(eq(int, z[i], 0));
    free(z);
    free(xmalloc(0)); /* never NULL, even for 0 */
}
