/*
 * Design notes: GET /metrics on a target, Prometheus text format 0.0.4. Everything is read
 * with relaxed atomics or from immutable snapshots (Smap, BMD, the mountpath set) at scrape
 * time; the datapath only bumps counters (common/stats.h). The answer is built in a buffer
 * capped at AIS_METRICS_BYTES_MAX: labels are bounded (op, kind, mountpath), never object
 * names or job ids.
 */
#include "common/http.h"
#include "common/metrics.h"
#include "common/stats.h"
#include "target/target_int.h"
#include "xact/xact.h"

#include <errno.h>
#include <stdio.h>

static int
write_mpaths(struct tgt *t, struct ais_buf *b)
{
    static const char *const fam[2] = {"ais_mountpath_capacity_bytes",
                                       "ais_mountpath_available_bytes"};
    static const char *const help[2] = {"Size of the mountpath's filesystem.",
                                        "Bytes available to the target on the mountpath."};
    size_t n = st_mpaths_count(t->mp);
    int rc = 0;
    for (int f = 0; f < 2 && rc == 0; f++) {
        rc = ais_prom_head(b, fam[f], "gauge", help[f]);
        for (size_t i = 0; i < n && rc == 0; i++) {
            const char *p = st_mpaths_path(t->mp, i);
            uint64_t total = 0, avail = 0;
            char esc[2 * AIS_PATH_BYTES_MAX], lb[sizeof(esc) + 16];
            if (p == NULL || st_mpaths_capacity(t->mp, i, &total, &avail) != 0 ||
                ais_prom_label_esc(p, esc, sizeof(esc)) != 0) {
                continue;
            }
            snprintf(lb, sizeof(lb), "mountpath=\"%s\"", esc);
            rc = ais_prom_i64(b, fam[f], lb, (int64_t)(f == 0 ? total : avail));
        }
    }
    return rc;
}

static int
write_all(void *ctx, struct ais_buf *b)
{
    struct tgt *t = ctx;
    struct ais_smap *smap = ais_meta_smap(&t->meta);
    struct ais_bmd *bmd = ais_meta_bmd(&t->meta);
    struct ais_prom_node node = {
        .node_id = t->self.id,
        .role = "target",
        .ready = __atomic_load_n(&t->ready, __ATOMIC_ACQUIRE),
        .primary = -1,
        .smap_version = smap ? smap->version : 0,
        .bmd_version = bmd ? bmd->version : 0,
    };
    ais_smap_unref(smap);
    ais_bmd_unref(bmd);
    int rc = ais_prom_node_write(b, &node);
    if (rc == 0) {
        rc = ais_stats_prom(b, &t->stats, 1);
    }
    if (rc == 0) {
        rc = write_mpaths(t, b);
    }
    if (rc == 0) {
        rc = xa_prom_write(t->xreg, b);
    }
    return rc;
}

void
tgt_r_metrics(struct ais_req *r, void *ctx)
{
    ais_prom_respond(r, write_all, ctx);
}
