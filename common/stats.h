/*
 * Per-node runtime counters (api.md §5.4c): lock-free atomics, reported as
 * {"tracker": {"get.n": {"v": "12"}, ...}}.
 */
#ifndef AIS_COMMON_STATS_H
#define AIS_COMMON_STATS_H

#include <jansson.h>
#include <stdint.h>

enum ais_stat {
    AIS_STAT_GET_N,
    AIS_STAT_PUT_N,
    AIS_STAT_HEAD_N,
    AIS_STAT_DEL_N,
    AIS_STAT_LST_N,
    AIS_STAT_GET_SIZE,
    AIS_STAT_PUT_SIZE,
    AIS_STAT_GET_NS,
    AIS_STAT_PUT_NS,
    AIS_STAT_ERR_GET_N,
    AIS_STAT_ERR_PUT_N,
    AIS_STAT_ERR_HEAD_N,
    AIS_STAT_ERR_DEL_N,
    AIS_STAT_ERR_LST_N,
    AIS_STAT_ERR_CKSUM_N,
    AIS_STAT_REDIRECT_N,
    AIS_STAT_KEEPALIVE_N,
    AIS_STAT_GFN_N, /* objects pulled from a neighbor on a miss (get from neighbor) */
    AIS_STAT_COUNT
};

struct ais_stats {
    int64_t v[AIS_STAT_COUNT];
    int64_t start_ns;
};

void ais_stats_init(struct ais_stats *s);
static inline void
ais_stats_add(struct ais_stats *s, enum ais_stat k, int64_t d)
{
    __atomic_add_fetch(&s->v[k], d, __ATOMIC_RELAXED);
}
/* {"get.n":{"v":"1"},...} (new reference). */
json_t *ais_stats_tracker_json(const struct ais_stats *s);

#endif
