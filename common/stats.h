/*
 * Per-node runtime counters (api.md §5.4c): lock-free atomics, reported as
 * {"tracker": {"get.n": {"v": "12"}, ...}}.
 */
#ifndef AIS_COMMON_STATS_H
#define AIS_COMMON_STATS_H

#include "common/metrics.h"

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
    AIS_STAT_GFN_N,     /* objects pulled from a neighbor on a miss (get from neighbor) */
    AIS_STAT_COLD_N,    /* remote objects fetched from their backend (cold GET, prefetch) */
    AIS_STAT_COLD_SIZE, /* bytes of them */
    AIS_STAT_COUNT
};

/* Latency histograms (common/metrics.h), on targets: object GET served from a local copy
 * (warm) or while fetched from the backend (cold), until the last byte was handed to the
 * kernel; PUT until the object is durable and answered; time to first byte of warm GETs (the
 * response with its open file handed to the edge) and cold ones (the first backend bytes
 * handed to the edge). */
enum ais_lat {
    AIS_LAT_GET,
    AIS_LAT_PUT,
    AIS_LAT_GET_COLD,
    AIS_LAT_TTFB,
    AIS_LAT_TTFB_COLD,
    AIS_LAT_COUNT
};

struct ais_stats {
    int64_t v[AIS_STAT_COUNT];
    int64_t start_ns;
    struct ais_hist lat[AIS_LAT_COUNT];
};

void ais_stats_init(struct ais_stats *s);
static inline void
ais_stats_add(struct ais_stats *s, enum ais_stat k, int64_t d)
{
    __atomic_add_fetch(&s->v[k], d, __ATOMIC_RELAXED);
}
static inline void
ais_stats_observe(struct ais_stats *s, enum ais_lat k, int64_t ns)
{
    ais_hist_observe(&s->lat[k], ns);
}
/* Relaxed read of one counter. */
int64_t ais_stats_get(const struct ais_stats *s, enum ais_stat k);
/* StatsD name of a counter ("get.n", as in the tracker JSON). */
const char *ais_stats_name(enum ais_stat k);
/*
 * Appends the node's counters as Prometheus families (ais_ops_total{op}, ais_bytes_total{op},
 * ais_errors_total{kind}, ais_redirects_total, ...) and, with lat != 0, the latency histograms
 * (ais_latency_seconds{op="get"|"put"}) and ais_uptime_seconds. 0 or the buffer's error.
 */
int ais_stats_prom(struct ais_buf *b, const struct ais_stats *s, int lat);
/* {"get.n":{"v":"1"},...} (new reference). */
json_t *ais_stats_tracker_json(const struct ais_stats *s);

#endif
