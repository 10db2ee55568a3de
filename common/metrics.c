/*
 * Design notes: the bounds are a const table, so a scrape and a writer never share anything
 * but the bucket counters. Ten bounds per decade (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8) keep
 * the widest bucket at 1.33x its lower edge: histogram_quantile's linear interpolation inside
 * one bucket is then off by at most a third of the bucket, typically much less. Seconds are
 * printed from integer nanoseconds (no float rounding in `le`), so the labels are identical on
 * every node and every scrape.
 */
#include "common/metrics.h"

#include "common/http.h"
#include "common/limits.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define DECADE(d)                                                                                  \
    (d), (d)*125 / 100, (d)*150 / 100, (d)*2, (d)*250 / 100, (d)*3, (d)*4, (d)*5, (d)*6, (d)*8

static const int64_t bounds[AIS_HIST_BOUNDS] = {
    DECADE(1000LL),     DECADE(10000LL),     DECADE(100000LL),     DECADE(1000000LL),
    DECADE(10000000LL), DECADE(100000000LL), DECADE(1000000000LL), 10000000000LL, /* 10 s */
};

_Static_assert(sizeof(bounds) / sizeof(bounds[0]) == AIS_HIST_BOUNDS, "one bound per bucket");

int64_t
ais_hist_bound_ns(size_t i)
{
    return i < AIS_HIST_BOUNDS ? bounds[i] : INT64_MAX;
}

size_t
ais_hist_bucket(int64_t ns)
{
    /* First bound >= ns (Prometheus buckets are "less than or equal"). */
    size_t lo = 0, hi = AIS_HIST_BOUNDS;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (bounds[mid] < ns) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

int64_t
ais_hist_count(const struct ais_hist *h)
{
    int64_t n = 0;
    for (size_t i = 0; i <= AIS_HIST_BOUNDS; i++) {
        n += __atomic_load_n(&h->n[i], __ATOMIC_RELAXED);
    }
    return n;
}

int64_t
ais_hist_sum_ns(const struct ais_hist *h)
{
    return __atomic_load_n(&h->sum_ns, __ATOMIC_RELAXED);
}

const char *
ais_prom_seconds(int64_t ns, char *out, size_t cap)
{
    int neg = ns < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    char frac[16];
    snprintf(frac, sizeof(frac), "%09" PRIu64, u % 1000000000u);
    size_t n = strlen(frac);
    while (n > 0 && frac[n - 1] == '0') {
        frac[--n] = '\0';
    }
    snprintf(out, cap, "%s%" PRIu64 "%s%s", neg ? "-" : "", u / 1000000000u, n ? "." : "", frac);
    return out;
}

int
ais_prom_label_esc(const char *v, char *out, size_t cap)
{
    size_t o = 0;
    for (; *v != '\0'; v++) {
        const char *rep = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : *v == '\n' ? "\\n" : NULL;
        size_t n = rep ? 2 : 1;
        if (o + n >= cap) {
            if (cap > 0) {
                out[0] = '\0';
            }
            return -ENAMETOOLONG;
        }
        memcpy(out + o, rep ? rep : v, n);
        o += n;
    }
    if (cap == 0) {
        return -ENAMETOOLONG;
    }
    out[o] = '\0';
    return 0;
}

int
ais_prom_head(struct ais_buf *b, const char *name, const char *type, const char *help)
{
    return ais_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int
ais_prom_i64(struct ais_buf *b, const char *name, const char *labels, int64_t v)
{
    int has = labels != NULL && labels[0] != '\0';
    return ais_buf_printf(b, "%s%s%s%s %" PRId64 "\n", name, has ? "{" : "", has ? labels : "",
                          has ? "}" : "", v);
}

int
ais_prom_f64(struct ais_buf *b, const char *name, const char *labels, double v)
{
    int has = labels != NULL && labels[0] != '\0';
    return ais_buf_printf(b, "%s%s%s%s %.17g\n", name, has ? "{" : "", has ? labels : "",
                          has ? "}" : "", v);
}

int
ais_prom_hist(struct ais_buf *b, const char *name, const char *labels, const struct ais_hist *h)
{
    int has = labels != NULL && labels[0] != '\0';
    const char *sep = has ? "," : "";
    char le[32];
    int64_t cum = 0;
    int rc = 0;
    for (size_t i = 0; i <= AIS_HIST_BOUNDS && rc == 0; i++) {
        cum += __atomic_load_n(&h->n[i], __ATOMIC_RELAXED);
        if (i < AIS_HIST_BOUNDS) {
            ais_prom_seconds(bounds[i], le, sizeof(le));
        } else {
            snprintf(le, sizeof(le), "+Inf");
        }
        rc = ais_buf_printf(b, "%s_bucket{%s%sle=\"%s\"} %" PRId64 "\n", name, has ? labels : "",
                            sep, le, cum);
    }
    if (rc == 0) {
        char sum[40];
        ais_prom_seconds(ais_hist_sum_ns(h), sum, sizeof(sum));
        rc = ais_buf_printf(b, "%s_sum%s%s%s %s\n%s_count%s%s%s %" PRId64 "\n", name,
                            has ? "{" : "", has ? labels : "", has ? "}" : "", sum, name,
                            has ? "{" : "", has ? labels : "", has ? "}" : "", cum);
    }
    return rc;
}

int
ais_prom_node_write(struct ais_buf *b, const struct ais_prom_node *n)
{
    char id[2 * AIS_DAEMON_ID_BYTES_MAX + 2], lb[sizeof(id) + 48];
    if (ais_prom_label_esc(n->node_id, id, sizeof(id)) != 0) {
        snprintf(id, sizeof(id), "?");
    }
    snprintf(lb, sizeof(lb), "node_id=\"%s\",role=\"%s\"", id, n->role);
    int rc = ais_prom_head(b, "ais_node_info", "gauge", "This node's id and role (always 1).");
    if (rc == 0) {
        rc = ais_prom_i64(b, "ais_node_info", lb, 1);
    }
    if (rc == 0) {
        rc = ais_prom_head(b, "ais_node_ready", "gauge",
                           "1 once the node has joined the cluster, 0 while it starts.");
    }
    if (rc == 0) {
        rc = ais_prom_i64(b, "ais_node_ready", NULL, n->ready ? 1 : 0);
    }
    if (rc == 0 && n->primary >= 0) {
        rc = ais_prom_head(b, "ais_node_primary", "gauge", "1 on the primary gateway.");
        if (rc == 0) {
            rc = ais_prom_i64(b, "ais_node_primary", NULL, n->primary ? 1 : 0);
        }
    }
    if (rc == 0) {
        rc = ais_prom_head(b, "ais_smap_version", "gauge", "Version of the cluster map installed.");
    }
    if (rc == 0) {
        rc = ais_prom_i64(b, "ais_smap_version", NULL, n->smap_version);
    }
    if (rc == 0) {
        rc = ais_prom_head(b, "ais_bmd_version", "gauge",
                           "Version of the bucket metadata installed.");
    }
    if (rc == 0) {
        rc = ais_prom_i64(b, "ais_bmd_version", NULL, n->bmd_version);
    }
    return rc;
}

void
ais_prom_respond(struct ais_req *r, ais_prom_write_fn fn, void *ctx)
{
    struct ais_buf b;
    ais_buf_init(&b, AIS_METRICS_BYTES_MAX);
    int rc = fn(ctx, &b);
    if (rc != 0) {
        ais_resp_err(r, 500, "metrics: %s", rc == -EMSGSIZE ? "answer too large" : "out of memory");
    } else {
        ais_resp_buf(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    }
    ais_buf_fini(&b);
}
