/* The versioned blob cache (cache.h).
 *
 * Direct-mapped: id i lives in slot i mod the slot count, the only place a lookup looks.  Row
 * ids here come from AUTOINCREMENT, so the rows a workload touches at once (this year's
 * events, say) have ids close together and rarely share a slot; a row that does simply
 * replaces the other.  Past the budget, a clock hand walks the slots and drops every entry not
 * read since the hand last passed it.  All of it under one mutex: a lookup is a few dozen
 * instructions and a copy of a few hundred bytes, far shorter than the queries it saves. */
#include "store/cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    int64_t id, version; /* id 0: empty */
    unsigned char *blob;
    size_t len;
    bool used; /* read since the clock hand last passed */
};

struct store_cache {
    pthread_mutex_t lock;
    size_t budget, bytes, entries;
    size_t mask, hand;
    uint64_t hits, misses;
    struct entry slot[];
};

enum { MIN_SLOTS = 64 };

struct store_cache *store_cache_new(size_t budget, size_t entry_bytes)
{
    size_t slots = MIN_SLOTS, want = budget / (entry_bytes ? entry_bytes : 1);
    while (slots < want && slots < ((size_t)1 << 30))
        slots *= 2;
    struct store_cache *c = calloc(1, sizeof *c + slots * sizeof c->slot[0]);
    if (c == NULL)
        return NULL;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    c->budget = budget;
    c->mask = slots - 1;
    return c;
}

static void drop(struct store_cache *c, struct entry *e)
{
    if (e->id == 0)
        return;
    c->bytes -= e->len;
    c->entries--;
    free(e->blob);
    *e = (struct entry){0};
}

void store_cache_free(struct store_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i <= c->mask; i++)
        free(c->slot[i].blob);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* The mutex cannot fail on a valid, unlocked-by-us mutex; if it ever did, the cache answers
 * "not kept" rather than touch the slots unlocked. */
static bool lock(struct store_cache *c)
{
    return pthread_mutex_lock(&c->lock) == 0;
}

static void unlock(struct store_cache *c)
{
    (void)pthread_mutex_unlock(&c->lock);
}

void *store_cache_get(struct store_cache *c, int64_t id, int64_t version, struct arena *a,
                      size_t *len)
{
    if (id == 0 || !lock(c))
        return NULL;
    struct entry *e = &c->slot[(uint64_t)id & c->mask];
    void *copy = NULL;
    if (e->id == id && e->version == version) {
        copy = arena_alloc(a, e->len ? e->len : 1);
        memcpy(copy, e->blob, e->len);
        *len = e->len;
        e->used = true;
        c->hits++;
    } else {
        c->misses++;
    }
    unlock(c);
    return copy;
}

bool store_cache_put(struct store_cache *c, int64_t id, int64_t version, const void *blob,
                     size_t len)
{
    if (id == 0 || len > c->budget / 8)
        return false;
    unsigned char *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return false;
    memcpy(copy, blob, len);
    if (!lock(c)) {
        free(copy);
        return false;
    }
    struct entry *e = &c->slot[(uint64_t)id & c->mask];
    drop(c, e);
    /* The clock: clear what was read since the last pass, drop what was not. */
    while (c->bytes + len > c->budget) {
        struct entry *v = &c->slot[c->hand];
        c->hand = (c->hand + 1) & c->mask;
        if (v->used)
            v->used = false;
        else
            drop(c, v);
    }
    *e = (struct entry){.id = id, .version = version, .blob = copy, .len = len};
    c->bytes += len;
    c->entries++;
    unlock(c);
    return true;
}

void store_cache_stats(struct store_cache *c, struct store_cache_stats *out)
{
    *out = (struct store_cache_stats){0};
    if (!lock(c))
        return;
    *out = (struct store_cache_stats){.hits = c->hits, .misses = c->misses,
                                      .entries = c->entries, .bytes = c->bytes};
    unlock(c);
}
