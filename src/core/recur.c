/* TEMPORARY STUB: replaced by the real implementation. */
#include "core/recur.h"
#include "arena.h"
int core_recur_parse(const char *const *lines, size_t n, const char *time_zone, bool all_day,
                     struct arena *a, char **normalized, struct pl_error *err)
{
    (void)lines, (void)time_zone, (void)all_day, (void)a, (void)err;
    *normalized = NULL;
    return n ? PL_EINVAL : PL_OK;
}
int core_recur_expand(const struct recur_series *s, int64_t from_us, int64_t to_us, size_t max,
                      struct arena *a, int64_t **starts, size_t *n, struct pl_error *err)
{
    (void)max, (void)err;
    *starts = arena_alloc(a, sizeof **starts);
    *n = 0;
    if (s->dtstart_us >= from_us && s->dtstart_us < to_us)
        (*starts)[(*n)++] = s->dtstart_us;
    return PL_OK;
}
int core_recur_last(const struct recur_series *s, int64_t *last_us, struct pl_error *err)
{
    (void)err;
    *last_us = s->dtstart_us;
    return PL_OK;
}
bool core_recur_has(const struct recur_series *s, int64_t start_us)
{
    return s->dtstart_us == start_us;
}
