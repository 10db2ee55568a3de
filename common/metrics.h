/*
 * Latency histograms and the Prometheus text exposition format (version 0.0.4).
 *
 * A histogram has fixed bucket boundaries (AIS_HIST_BOUNDS, 10 per decade from 1us to 10s,
 * the same on every node so Prometheus can sum them across nodes); recording one value is a
 * binary search over a const table and two relaxed atomic adds: no lock, no allocation.
 * Buckets are stored non-cumulative and summed when written, so `_count` always equals the
 * `+Inf` bucket even while writers run.
 *
 * The writers append to an ais_buf; each returns 0 or the buffer's error (-EMSGSIZE, -ENOMEM).
 * Label strings are preformatted `k="v",k2="v2"` fragments (NULL or "" for none); build values
 * that come from outside with ais_prom_label_esc.
 */
#ifndef AIS_COMMON_METRICS_H
#define AIS_COMMON_METRICS_H

#include "common/util.h"

#include <stddef.h>
#include <stdint.h>

/* Finite upper bounds; bucket AIS_HIST_BOUNDS is +Inf. */
#define AIS_HIST_BOUNDS 71

struct ais_hist {
    int64_t n[AIS_HIST_BOUNDS + 1]; /* per bucket, not cumulative */
    int64_t sum_ns;
};

/* Upper bound of bucket i (< AIS_HIST_BOUNDS) in nanoseconds. */
int64_t ais_hist_bound_ns(size_t i);
/* Index of the bucket that counts a value of ns (AIS_HIST_BOUNDS for larger than every bound). */
size_t ais_hist_bucket(int64_t ns);
/* Records one latency; negative values count as 0. Any thread, lock-free. */
static inline void
ais_hist_observe(struct ais_hist *h, int64_t ns)
{
    if (ns < 0) {
        ns = 0;
    }
    __atomic_add_fetch(&h->n[ais_hist_bucket(ns)], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&h->sum_ns, ns, __ATOMIC_RELAXED);
}
/* Relaxed reads: total count (sum of buckets) and sum of values. */
int64_t ais_hist_count(const struct ais_hist *h);
int64_t ais_hist_sum_ns(const struct ais_hist *h);

/* Nanoseconds as exact decimal seconds ("0.0000125", "10", "1.5"); returns out. */
const char *ais_prom_seconds(int64_t ns, char *out, size_t cap);
/* Escapes a label value (backslash, double quote, newline) into out; -ENAMETOOLONG if it does
 * not fit (out is then ""). */
int ais_prom_label_esc(const char *v, char *out, size_t cap);

/* `# HELP name help` and `# TYPE name type` (type: counter, gauge, histogram). */
int ais_prom_head(struct ais_buf *b, const char *name, const char *type, const char *help);
/* One sample: `name{labels} v`. */
int ais_prom_i64(struct ais_buf *b, const char *name, const char *labels, int64_t v);
int ais_prom_f64(struct ais_buf *b, const char *name, const char *labels, double v);
/* A histogram in seconds: name_bucket{labels,le=".."} (cumulative, ends with +Inf), name_sum,
 * name_count. The caller writes the head once per family. */
int ais_prom_hist(struct ais_buf *b, const char *name, const char *labels,
                  const struct ais_hist *h);

/* What every node says about itself. */
struct ais_prom_node {
    const char *node_id;
    const char *role; /* "proxy" or "target", as AIS names them */
    int ready;        /* joined the cluster */
    int primary;      /* gateways: 1 when primary; targets: -1 (not written) */
    int64_t smap_version, bmd_version;
};
/* ais_node_info{node_id,role} 1, ais_node_ready, ais_node_primary, ais_smap_version,
 * ais_bmd_version. */
int ais_prom_node_write(struct ais_buf *b, const struct ais_prom_node *n);

/*
 * GET /metrics on any node: fn(ctx, b) writes the families into a buffer bounded by
 * AIS_METRICS_BYTES_MAX, answered as text format 0.0.4 (500 naming the reason on failure).
 */
struct ais_req;
typedef int (*ais_prom_write_fn)(void *ctx, struct ais_buf *b);
void ais_prom_respond(struct ais_req *r, ais_prom_write_fn fn, void *ctx);

#endif
