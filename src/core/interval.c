/* Interval merging and overlap search. */
#include "core/interval.h"

#include <stdlib.h>

static int by_start(const void *a, const void *b)
{
    const struct interval *x = a, *y = b;
    if (x->start_us != y->start_us)
        return x->start_us < y->start_us ? -1 : 1;
    return (x->end_us > y->end_us) - (x->end_us < y->end_us);
}

size_t core_interval_merge(struct interval *iv, size_t n)
{
    if (n == 0)
        return 0;
    /* Busy rows come from the store already in start order: skip the sort then.  Start order
     * is all the merge below needs; equal starts may come in any order of end. */
    size_t sorted = 1;
    while (sorted < n && iv[sorted - 1].start_us <= iv[sorted].start_us)
        sorted++;
    if (sorted < n)
        qsort(iv, n, sizeof *iv, by_start);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (iv[i].end_us <= iv[i].start_us)
            continue;
        if (out > 0 && iv[i].start_us <= iv[out - 1].end_us) {
            if (iv[i].end_us > iv[out - 1].end_us)
                iv[out - 1].end_us = iv[i].end_us;
        } else {
            iv[out++] = iv[i];
        }
    }
    return out;
}

bool core_interval_overlaps(const struct interval *merged, size_t n, struct interval x)
{
    /* The first interval ending after x starts is the only candidate: those before it end
     * too early and, being disjoint and sorted, those after it start later still. */
    if (x.end_us <= x.start_us)
        return false;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (merged[mid].end_us <= x.start_us)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && merged[lo].start_us < x.end_us;
}

size_t core_interval_clip(struct interval *iv, size_t n, struct interval w)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        struct interval c = iv[i];
        if (c.start_us < w.start_us)
            c.start_us = w.start_us;
        if (c.end_us > w.end_us)
            c.end_us = w.end_us;
        if (c.end_us > c.start_us)
            iv[out++] = c;
    }
    return out;
}

size_t core_interval_subtract(const struct interval *a, size_t na, const struct interval *b,
                              size_t nb, struct interval *out)
{
    size_t n = 0, j = 0;
    for (size_t i = 0; i < na; i++) {
        int64_t s = a[i].start_us;
        /* Skip the parts of b that end before this piece starts; b is sorted, so j only moves
         * forward across all of a. */
        while (j < nb && b[j].end_us <= s)
            j++;
        size_t k = j;
        while (k < nb && b[k].start_us < a[i].end_us) {
            if (b[k].start_us > s)
                out[n++] = (struct interval){s, b[k].start_us};
            if (b[k].end_us > s)
                s = b[k].end_us;
            k++;
        }
        if (s < a[i].end_us)
            out[n++] = (struct interval){s, a[i].end_us};
    }
    return n;
}
