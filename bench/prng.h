/* The bench tools' deterministic generator: xoshiro256** seeded through splitmix64
 * (https://prng.di.unimi.it/).  Not libc's rand(): the same seed must give the same data set
 * and the same request sequence on every machine.  `stream` gives independent sequences for
 * one seed (planner-load: one per connection); stream 0 is the plain seed. */
#ifndef PLANNER_BENCH_PRNG_H
#define PLANNER_BENCH_PRNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct prng {
    uint64_t s[4];
};

static inline uint64_t prng_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline void prng_init(struct prng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * UINT64_C(0xd1342543de82ef95));
    for (int i = 0; i < 4; i++)
        r->s[i] = prng_splitmix64(&x);
}

static inline uint64_t prng_rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t prng_next(struct prng *r)
{
    uint64_t *s = r->s;
    uint64_t result = prng_rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = prng_rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, n) for n > 0 (multiply-shift; its bias of n / 2^32 does not matter here). */
static inline uint32_t prng_below(struct prng *r, uint32_t n)
{
    return (uint32_t)(((prng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static inline int prng_range(struct prng *r, int lo, int hi)
{
    return lo + (int)prng_below(r, (uint32_t)(hi - lo + 1));
}

static inline bool prng_percent(struct prng *r, unsigned percent)
{
    return prng_below(r, 100) < percent;
}

#endif
