/* core/interval: merge, overlap search, subtraction and clipping of half-open intervals, by
 * hand-picked tables and by a randomized comparison against a cell-bitmap oracle. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "core/interval.h"

#include <stdint.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAXN 16

/* A deterministic generator (splitmix64): the same cases on every run and machine. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D013049BB133EB);
    return z ^ (z >> 31);
}

static int64_t below(uint64_t *state, int64_t n)
{
    return (int64_t)(next_random(state) % (uint64_t)n);
}

/* Whether `iv` is sorted, every interval non-empty, and neighbours neither overlap nor touch:
 * the shape merge promises. */
static bool is_merged(const struct interval *iv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (iv[i].end_us <= iv[i].start_us)
            return false;
        if (i > 0 && iv[i].start_us <= iv[i - 1].end_us)
            return false;
    }
    return true;
}

/* ---- hand-picked tables ---------------------------------------------------------------- */

static const struct {
    const char *name;
    struct interval in[6];
    size_t n;
    struct interval want[6];
    size_t nwant;
} merge_cases[] = {
    {"nothing", {{0, 0}}, 0, {{0, 0}}, 0},
    {"one", {{1, 5}}, 1, {{1, 5}}, 1},
    {"unsorted disjoint", {{20, 30}, {0, 5}, {10, 15}}, 3, {{0, 5}, {10, 15}, {20, 30}}, 3},
    {"overlapping", {{0, 10}, {5, 15}}, 2, {{0, 15}}, 1},
    {"touching [a,b)+[b,c)", {{10, 20}, {0, 10}}, 2, {{0, 20}}, 1},
    {"contained", {{0, 100}, {10, 20}, {30, 40}}, 3, {{0, 100}}, 1},
    {"same start, shorter later", {{0, 50}, {0, 10}}, 2, {{0, 50}}, 1},
    {"duplicates", {{3, 7}, {3, 7}, {3, 7}}, 3, {{3, 7}}, 1},
    {"empty dropped", {{5, 5}, {1, 2}, {9, 9}}, 3, {{1, 2}}, 1},
    {"only empties", {{5, 5}, {9, 9}}, 2, {{0, 0}}, 0},
    {"empty inside a gap does not bridge",
     {{0, 10}, {15, 15}, {20, 30}},
     3,
     {{0, 10}, {20, 30}},
     2},
    {"empty at a boundary does not extend", {{0, 10}, {10, 10}}, 2, {{0, 10}}, 1},
    {"chain", {{4, 6}, {0, 2}, {2, 4}, {8, 9}, {6, 8}}, 5, {{0, 9}}, 1},
    {"gap of one", {{0, 10}, {11, 20}}, 2, {{0, 10}, {11, 20}}, 2},
    {"negative coordinates", {{-10, -5}, {-5, 0}, {-20, -15}}, 3, {{-20, -15}, {-10, 0}}, 2},
    {"large values",
     {{INT64_C(1795413600000000), INT64_C(1795417200000000)},
      {INT64_C(1795417200000000), INT64_C(1795420800000000)}},
     2,
     {{INT64_C(1795413600000000), INT64_C(1795420800000000)}},
     1},
};

Test(core_interval, merge_table)
{
    for (size_t c = 0; c < ARRAY_LEN(merge_cases); c++) {
        struct interval iv[6];
        memcpy(iv, merge_cases[c].in, sizeof iv);
        size_t n = core_interval_merge(iv, merge_cases[c].n);
        cr_assert(eq(sz, n, merge_cases[c].nwant), "case %s", merge_cases[c].name);
        for (size_t i = 0; i < n; i++) {
            cr_expect(eq(i64, iv[i].start_us, merge_cases[c].want[i].start_us), "case %s [%zu]",
                      merge_cases[c].name, i);
            cr_expect(eq(i64, iv[i].end_us, merge_cases[c].want[i].end_us), "case %s [%zu]",
                      merge_cases[c].name, i);
        }
    }
}

static const struct interval busy[] = {{10, 20}, {30, 40}, {50, 60}};

static const struct {
    struct interval x;
    bool want;
} overlap_cases[] = {
    {{0, 10}, false},  /* ends where the first starts: touching is not overlapping */
    {{0, 11}, true},
    {{20, 30}, false}, /* exactly the gap */
    {{19, 30}, true},
    {{20, 31}, true},
    {{21, 29}, false},
    {{12, 18}, true},  /* inside */
    {{5, 65}, true},   /* around everything */
    {{60, 70}, false}, /* after the last */
    {{59, 70}, true},
    {{-5, 0}, false},
    {{40, 50}, false},
    {{39, 41}, true},
    {{49, 50}, false},
    {{49, 51}, true},
};

Test(core_interval, overlaps_edges)
{
    for (size_t c = 0; c < ARRAY_LEN(overlap_cases); c++) {
        bool got = core_interval_overlaps(busy, ARRAY_LEN(busy), overlap_cases[c].x);
        cr_expect(eq(int, got, overlap_cases[c].want), "case %zu: [%lld, %lld)", c,
                  (long long)overlap_cases[c].x.start_us, (long long)overlap_cases[c].x.end_us);
    }
    /* Every prefix length, so the binary search meets every size of list. */
    for (size_t n = 0; n <= ARRAY_LEN(busy); n++) {
        cr_expect(eq(int, core_interval_overlaps(busy, n, (struct interval){55, 56}), n == 3));
        cr_expect(eq(int, core_interval_overlaps(busy, n, (struct interval){15, 16}), n >= 1));
        cr_expect(not(core_interval_overlaps(busy, n, (struct interval){60, 61})));
    }
}

static const struct {
    const char *name;
    struct interval a[4];
    size_t na;
    struct interval b[4];
    size_t nb;
    struct interval want[8];
    size_t nwant;
} subtract_cases[] = {
    {"nothing from nothing", {{0, 0}}, 0, {{0, 0}}, 0, {{0, 0}}, 0},
    {"nothing removed", {{0, 10}}, 1, {{0, 0}}, 0, {{0, 10}}, 1},
    {"disjoint", {{0, 10}}, 1, {{20, 30}}, 1, {{0, 10}}, 1},
    {"touching on the right", {{0, 10}}, 1, {{10, 20}}, 1, {{0, 10}}, 1},
    {"touching on the left", {{10, 20}}, 1, {{0, 10}}, 1, {{10, 20}}, 1},
    {"hole in the middle", {{0, 10}}, 1, {{3, 5}}, 1, {{0, 3}, {5, 10}}, 2},
    {"head cut", {{0, 10}}, 1, {{-5, 4}}, 1, {{4, 10}}, 1},
    {"tail cut", {{0, 10}}, 1, {{6, 15}}, 1, {{0, 6}}, 1},
    {"all removed", {{0, 10}}, 1, {{0, 10}}, 1, {{0, 0}}, 0},
    {"swallowed", {{2, 8}}, 1, {{0, 10}}, 1, {{0, 0}}, 0},
    {"several holes", {{0, 20}}, 1, {{2, 4}, {6, 8}, {18, 25}}, 3, {{0, 2}, {4, 6}, {8, 18}}, 3},
    {"one b across two a",
     {{0, 10}, {20, 30}},
     2,
     {{5, 25}},
     1,
     {{0, 5}, {25, 30}},
     2},
    {"b spans the gap exactly", {{0, 10}, {20, 30}}, 2, {{10, 20}}, 1, {{0, 10}, {20, 30}}, 2},
    {"b before and after",
     {{10, 20}, {30, 40}},
     2,
     {{0, 5}, {12, 14}, {38, 50}},
     3,
     {{10, 12}, {14, 20}, {30, 38}},
     3},
};

Test(core_interval, subtract_table)
{
    for (size_t c = 0; c < ARRAY_LEN(subtract_cases); c++) {
        struct interval out[8];
        size_t n = core_interval_subtract(subtract_cases[c].a, subtract_cases[c].na,
                                          subtract_cases[c].b, subtract_cases[c].nb, out);
        cr_assert(eq(sz, n, subtract_cases[c].nwant), "case %s", subtract_cases[c].name);
        for (size_t i = 0; i < n; i++) {
            cr_expect(eq(i64, out[i].start_us, subtract_cases[c].want[i].start_us),
                      "case %s [%zu]", subtract_cases[c].name, i);
            cr_expect(eq(i64, out[i].end_us, subtract_cases[c].want[i].end_us), "case %s [%zu]",
                      subtract_cases[c].name, i);
        }
    }
}

static const struct {
    const char *name;
    struct interval in[4];
    size_t n;
    struct interval window;
    struct interval want[4];
    size_t nwant;
} clip_cases[] = {
    {"nothing", {{0, 0}}, 0, {0, 10}, {{0, 0}}, 0},
    {"inside kept", {{2, 5}}, 1, {0, 10}, {{2, 5}}, 1},
    {"straddling both ends", {{-5, 15}}, 1, {0, 10}, {{0, 10}}, 1},
    {"before and after dropped", {{-5, 0}, {10, 15}}, 2, {0, 10}, {{0, 0}}, 0},
    {"one unit in at each end", {{-5, 1}, {9, 15}}, 2, {0, 10}, {{0, 1}, {9, 10}}, 2},
    {"order kept, outsiders removed",
     {{20, 30}, {-3, 3}, {50, 60}, {8, 12}},
     4,
     {0, 10},
     {{0, 3}, {8, 10}},
     2},
    {"empty input dropped", {{5, 5}}, 1, {0, 10}, {{0, 0}}, 0},
    {"empty window", {{0, 10}}, 1, {5, 5}, {{0, 0}}, 0},
};

Test(core_interval, clip_table)
{
    for (size_t c = 0; c < ARRAY_LEN(clip_cases); c++) {
        struct interval iv[4];
        memcpy(iv, clip_cases[c].in, sizeof iv);
        size_t n = core_interval_clip(iv, clip_cases[c].n, clip_cases[c].window);
        cr_assert(eq(sz, n, clip_cases[c].nwant), "case %s", clip_cases[c].name);
        for (size_t i = 0; i < n; i++) {
            cr_expect(eq(i64, iv[i].start_us, clip_cases[c].want[i].start_us), "case %s [%zu]",
                      clip_cases[c].name, i);
            cr_expect(eq(i64, iv[i].end_us, clip_cases[c].want[i].end_us), "case %s [%zu]",
                      clip_cases[c].name, i);
        }
    }
}

/* ---- randomized comparison against a bitmap ---------------------------------------------
 * Coordinates are small integers 0..CELLS; the interval [s, e) covers the cells s..e-1, so
 * every operation has an obvious cell-by-cell answer. */

#define CELLS 48
#define ROUNDS 2000

struct bitmap {
    bool cell[CELLS];
};

static void paint(struct bitmap *m, const struct interval *iv, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int64_t c = iv[i].start_us; c < iv[i].end_us; c++)
            m->cell[c] = true;
}

/* `n` random intervals inside 0..CELLS, about one in six of them empty. */
static size_t random_intervals(uint64_t *rng, struct interval *iv, size_t max)
{
    size_t n = (size_t)below(rng, (int64_t)max + 1);
    for (size_t i = 0; i < n; i++) {
        int64_t s = below(rng, CELLS + 1);
        int64_t len = below(rng, 6) == 0 ? 0 : 1 + below(rng, 12);
        iv[i] = (struct interval){s, s + len > CELLS ? CELLS : s + len};
    }
    return n;
}

/* A merged list, built from a random bitmap's runs so it does not lean on merge itself. */
static size_t random_merged(uint64_t *rng, struct interval *iv, struct bitmap *m)
{
    memset(m, 0, sizeof *m);
    /* Runs of random length: each cell flips its neighbour's state with chance 1/flip. */
    int64_t flip = 1 + below(rng, 6);
    bool on = below(rng, 2) == 0;
    for (int c = 0; c < CELLS; c++) {
        if (below(rng, flip) == 0)
            on = !on;
        m->cell[c] = on;
    }
    size_t n = 0;
    for (int c = 0; c < CELLS; c++)
        if (m->cell[c] && (c == 0 || !m->cell[c - 1])) {
            int e = c;
            while (e < CELLS && m->cell[e])
                e++;
            iv[n++] = (struct interval){c, e};
        }
    return n;
}

Test(core_interval, merge_matches_bitmap)
{
    uint64_t rng = 1;
    for (int round = 0; round < ROUNDS; round++) {
        struct interval iv[MAXN];
        size_t n = random_intervals(&rng, iv, MAXN);
        struct bitmap want = {0}, got = {0};
        paint(&want, iv, n);
        size_t m = core_interval_merge(iv, n);
        cr_assert(le(sz, m, n), "round %d", round);
        cr_assert(is_merged(iv, m), "round %d: not sorted, disjoint and non-touching", round);
        paint(&got, iv, m);
        cr_assert(eq(int, memcmp(&got, &want, sizeof got), 0), "round %d: cells differ", round);
    }
}

Test(core_interval, overlaps_matches_bitmap)
{
    uint64_t rng = 2;
    for (int round = 0; round < ROUNDS; round++) {
        struct interval iv[CELLS];
        struct bitmap m;
        size_t n = random_merged(&rng, iv, &m);
        int64_t s = below(&rng, CELLS), e = s + 1 + below(&rng, CELLS - s);
        bool want = false;
        for (int64_t c = s; c < e; c++)
            want = want || m.cell[c];
        bool got = core_interval_overlaps(iv, n, (struct interval){s, e});
        cr_assert(eq(int, got, want), "round %d: [%lld, %lld) against %zu intervals", round,
                  (long long)s, (long long)e, n);
    }
}

Test(core_interval, subtract_matches_bitmap)
{
    uint64_t rng = 3;
    for (int round = 0; round < ROUNDS; round++) {
        struct interval a[CELLS], b[CELLS], out[2 * CELLS];
        struct bitmap ma, mb, got = {0};
        size_t na = random_merged(&rng, a, &ma), nb = random_merged(&rng, b, &mb);
        size_t n = core_interval_subtract(a, na, b, nb, out);
        cr_assert(le(sz, n, na + nb), "round %d", round);
        cr_assert(is_merged(out, n), "round %d: result not merged", round);
        paint(&got, out, n);
        for (int c = 0; c < CELLS; c++)
            cr_assert(eq(int, got.cell[c], ma.cell[c] && !mb.cell[c]), "round %d cell %d", round,
                      c);
    }
}

Test(core_interval, clip_matches_bitmap)
{
    uint64_t rng = 4;
    for (int round = 0; round < ROUNDS; round++) {
        struct interval iv[MAXN], want[MAXN];
        size_t n = random_intervals(&rng, iv, MAXN), nwant = 0;
        int64_t ws = below(&rng, CELLS), we = ws + below(&rng, CELLS - ws + 1);
        /* Each input's cells inside the window, as one interval when there are any. */
        for (size_t i = 0; i < n; i++) {
            int64_t lo = -1, hi = -1;
            for (int64_t c = iv[i].start_us; c < iv[i].end_us; c++)
                if (c >= ws && c < we) {
                    if (lo < 0)
                        lo = c;
                    hi = c + 1;
                }
            if (lo >= 0)
                want[nwant++] = (struct interval){lo, hi};
        }
        size_t got = core_interval_clip(iv, n, (struct interval){ws, we});
        cr_assert(eq(sz, got, nwant), "round %d", round);
        for (size_t i = 0; i < got; i++) {
            cr_assert(eq(i64, iv[i].start_us, want[i].start_us), "round %d [%zu]", round, i);
            cr_assert(eq(i64, iv[i].end_us, want[i].end_us), "round %d [%zu]", round, i);
        }
    }
}
