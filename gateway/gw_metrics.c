/*
 * Design notes: GET /metrics on a gateway (Prometheus text format 0.0.4): node state, map
 * versions, the gateway's counters (redirects, list requests, keepalives) and the jobs it
 * coordinates. No latency histograms: a gateway only redirects, the targets time the data.
 */
#include "common/http.h"
#include "common/metrics.h"
#include "common/stats.h"
#include "gateway/gw_int.h"
#include "xact/xact.h"

#include <errno.h>

static int
write_all(void *ctx, struct ais_buf *b)
{
    struct gw *g = ctx;
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    struct ais_bmd *bmd = ais_meta_bmd(&g->meta);
    struct ais_prom_node node = {
        .node_id = g->self.id,
        .role = "proxy",
        .ready = __atomic_load_n(&g->ready, __ATOMIC_ACQUIRE),
        .primary = gw_is_primary(g) ? 1 : 0,
        .smap_version = smap ? smap->version : 0,
        .bmd_version = bmd ? bmd->version : 0,
    };
    ais_smap_unref(smap);
    ais_bmd_unref(bmd);
    int rc = ais_prom_node_write(b, &node);
    if (rc == 0) {
        rc = ais_stats_prom(b, &g->stats, 0);
    }
    if (rc == 0 && g->xreg != NULL) {
        rc = xa_prom_write(g->xreg, b);
    }
    return rc;
}

void
gw_r_metrics(struct ais_req *r, void *ctx)
{
    ais_prom_respond(r, write_all, ctx);
}
