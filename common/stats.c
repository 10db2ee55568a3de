#include "common/stats.h"

#include "common/util.h"

#include <stdio.h>
#include <string.h>

static const char *const names[AIS_STAT_COUNT] = {
    [AIS_STAT_GET_N] = "get.n",
    [AIS_STAT_PUT_N] = "put.n",
    [AIS_STAT_HEAD_N] = "head.n",
    [AIS_STAT_DEL_N] = "del.n",
    [AIS_STAT_LST_N] = "lst.n",
    [AIS_STAT_GET_SIZE] = "get.size",
    [AIS_STAT_PUT_SIZE] = "put.size",
    [AIS_STAT_GET_NS] = "get.ns.total",
    [AIS_STAT_PUT_NS] = "put.ns.total",
    [AIS_STAT_ERR_GET_N] = "err.get.n",
    [AIS_STAT_ERR_PUT_N] = "err.put.n",
    [AIS_STAT_ERR_HEAD_N] = "err.head.n",
    [AIS_STAT_ERR_DEL_N] = "err.del.n",
    [AIS_STAT_ERR_LST_N] = "err.lst.n",
    [AIS_STAT_ERR_CKSUM_N] = "err.cksum.n",
    [AIS_STAT_REDIRECT_N] = "redirect.n",
    [AIS_STAT_KEEPALIVE_N] = "keepalive.n",
    [AIS_STAT_GFN_N] = "gfn.n",
    [AIS_STAT_COLD_N] = "get.cold.n",
    [AIS_STAT_COLD_SIZE] = "get.cold.size",
};

void
ais_stats_init(struct ais_stats *s)
{
    memset(s, 0, sizeof(*s));
    s->start_ns = ais_now_ns();
}

json_t *
ais_stats_tracker_json(const struct ais_stats *s)
{
    json_t *t = json_object();
    char v[24];
    for (int i = 0; i < AIS_STAT_COUNT; i++) {
        snprintf(v, sizeof(v), "%lld", (long long)__atomic_load_n(&s->v[i], __ATOMIC_RELAXED));
        json_object_set_new(t, names[i], json_pack("{s:s}", "v", v));
    }
    snprintf(v, sizeof(v), "%lld", (long long)(ais_now_ns() - s->start_ns));
    json_object_set_new(t, "up.ns.time", json_pack("{s:s}", "v", v));
    return t;
}

int64_t
ais_stats_get(const struct ais_stats *s, enum ais_stat k)
{
    return __atomic_load_n(&s->v[k], __ATOMIC_RELAXED);
}

const char *
ais_stats_name(enum ais_stat k)
{
    return (unsigned)k < AIS_STAT_COUNT ? names[k] : "";
}

/* One labelled sample per row of a family; rows with stat < 0 end the list. */
struct prom_row {
    int stat;
    const char *labels;
};

static int
prom_family(struct ais_buf *b, const struct ais_stats *s, const char *name, const char *type,
            const char *help, const struct prom_row *rows)
{
    int rc = ais_prom_head(b, name, type, help);
    for (; rc == 0 && rows->stat >= 0; rows++) {
        rc = ais_prom_i64(b, name, rows->labels, ais_stats_get(s, (enum ais_stat)rows->stat));
    }
    return rc;
}

static const struct prom_row ops_rows[] = {
    {AIS_STAT_GET_N, "op=\"get\""},   {AIS_STAT_PUT_N, "op=\"put\""},
    {AIS_STAT_HEAD_N, "op=\"head\""}, {AIS_STAT_DEL_N, "op=\"delete\""},
    {AIS_STAT_LST_N, "op=\"list\""},  {-1, NULL},
};
static const struct prom_row bytes_rows[] = {
    {AIS_STAT_GET_SIZE, "op=\"get\""},
    {AIS_STAT_PUT_SIZE, "op=\"put\""},
    {-1, NULL},
};
static const struct prom_row err_rows[] = {
    {AIS_STAT_ERR_GET_N, "kind=\"get\""},
    {AIS_STAT_ERR_PUT_N, "kind=\"put\""},
    {AIS_STAT_ERR_HEAD_N, "kind=\"head\""},
    {AIS_STAT_ERR_DEL_N, "kind=\"delete\""},
    {AIS_STAT_ERR_LST_N, "kind=\"list\""},
    {AIS_STAT_ERR_CKSUM_N, "kind=\"checksum\""},
    {-1, NULL},
};
static const struct prom_row redir_rows[] = {{AIS_STAT_REDIRECT_N, NULL}, {-1, NULL}};
static const struct prom_row ka_rows[] = {{AIS_STAT_KEEPALIVE_N, NULL}, {-1, NULL}};
static const struct prom_row gfn_rows[] = {{AIS_STAT_GFN_N, NULL}, {-1, NULL}};
static const struct prom_row cold_rows[] = {{AIS_STAT_COLD_N, NULL}, {-1, NULL}};
static const struct prom_row cold_bytes_rows[] = {{AIS_STAT_COLD_SIZE, NULL}, {-1, NULL}};

int
ais_stats_prom(struct ais_buf *b, const struct ais_stats *s, int lat)
{
    int rc = prom_family(b, s, "ais_ops_total", "counter",
                         "Object and list requests served, by operation.", ops_rows);
    if (rc == 0) {
        rc = prom_family(b, s, "ais_bytes_total", "counter",
                         "Object payload bytes served (get) and stored (put).", bytes_rows);
    }
    if (rc == 0) {
        rc = prom_family(b, s, "ais_errors_total", "counter",
                         "Failed requests by operation, and checksum mismatches found.", err_rows);
    }
    if (rc == 0) {
        rc = prom_family(b, s, "ais_redirects_total", "counter",
                         "Object requests redirected (307) to a target.", redir_rows);
    }
    if (rc == 0) {
        rc = prom_family(b, s, "ais_keepalives_total", "counter",
                         "Keepalives received by the primary.", ka_rows);
    }
    if (rc == 0) {
        rc = prom_family(b, s, "ais_gfn_total", "counter",
                         "Objects found on a neighbor target after a local miss.", gfn_rows);
    }
    if (rc == 0) {
        rc = prom_family(b, s, "ais_cold_get_total", "counter",
                         "Remote objects fetched from their backend (cold GET, prefetch).",
                         cold_rows);
    }
    if (rc == 0) {
        rc = prom_family(b, s, "ais_cold_get_bytes_total", "counter",
                         "Bytes of remote objects fetched from their backend.", cold_bytes_rows);
    }
    if (rc == 0 && lat) {
        rc = ais_prom_head(b, "ais_latency_seconds", "histogram",
                           "Object request latency on the target, from headers in to last byte "
                           "out (get) or object durable (put).");
    }
    if (rc == 0 && lat) {
        rc = ais_prom_hist(b, "ais_latency_seconds", "op=\"get\",tier=\"warm\"",
                           &s->lat[AIS_LAT_GET]);
    }
    if (rc == 0 && lat) {
        rc = ais_prom_hist(b, "ais_latency_seconds", "op=\"get\",tier=\"cold\"",
                           &s->lat[AIS_LAT_GET_COLD]);
    }
    if (rc == 0 && lat) {
        rc = ais_prom_hist(b, "ais_latency_seconds", "op=\"put\"", &s->lat[AIS_LAT_PUT]);
    }
    if (rc == 0 && lat) {
        rc = ais_prom_head(b, "ais_ttfb_seconds", "histogram",
                           "Object GET time to first byte on the target: warm = the response "
                           "with the open copy handed to the edge, cold = the first backend "
                           "bytes handed to it.");
    }
    if (rc == 0 && lat) {
        rc = ais_prom_hist(b, "ais_ttfb_seconds", "tier=\"warm\"", &s->lat[AIS_LAT_TTFB]);
    }
    if (rc == 0 && lat) {
        rc = ais_prom_hist(b, "ais_ttfb_seconds", "tier=\"cold\"", &s->lat[AIS_LAT_TTFB_COLD]);
    }
    if (rc == 0) {
        char up[40];
        rc = ais_prom_head(b, "ais_uptime_seconds", "gauge", "Seconds since the node started.");
        if (rc == 0) {
            ais_prom_seconds(ais_now_ns() - s->start_ns, up, sizeof(up));
            rc = ais_buf_printf(b, "ais_uptime_seconds %s\n", up);
        }
    }
    return rc;
}
