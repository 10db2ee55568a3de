/*
 * Design notes: a job's state lives on the nodes that run it (xact/ registries): this gateway
 * for the multi-object operations it coordinates, targets for rebalance, resilver and the
 * like. A query gathers snapshots from this gateway and from every target (what=xactions,
 * their whole bounded registry), filters them by the JobArgs, and answers in the three shapes
 * clients poll (api.md §5.7): qryxstats = {node: [JobSnap]}, status = one Status aggregated
 * over nodes (ended when every node's part ended), status_all = one Status per job id.
 */
#include "common/json.h"
#include "common/limits.h"
#include "gateway/fanout.h"
#include "gateway/gw_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct xq_slot {
    char *json;
    int rc;
    struct rpc_err err;
};

static void
xq_node(struct gw *g, const struct ais_snode *n, void *slot)
{
    struct xq_slot *s = slot;
    char url[128];
    ais_snode_ctrl_url(n, url, sizeof(url));
    s->rc = rpc_query(url, (int)g->cfg->rpc_timeout_ms, "xactions", &s->json, &s->err);
}

/* All snapshots matching f: local ones, then each target's. Caller frees *out. */
static size_t
collect(struct gw *g, const struct xa_filter *f, struct xa_snap **out)
{
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    size_t nt = ais_smap_count(smap, 1), cap = AIS_XACT_RECORDS_MAX * (nt + 1), n = 0;
    struct xa_snap *v = calloc(cap, sizeof(*v));
    struct xq_slot *slots = calloc(nt ? nt : 1, sizeof(*slots));
    if (v != NULL && slots != NULL) {
        n = xa_snaps(g->xreg, f, v, AIS_XACT_RECORDS_MAX);
        n = n < AIS_XACT_RECORDS_MAX ? n : AIS_XACT_RECORDS_MAX;
        gw_fanout(g, smap, 1, xq_node, slots, sizeof(*slots));
    }
    for (size_t i = 0; slots != NULL && i < nt; i++) {
        json_t *arr = (v && slots[i].rc == 0) ? json_loads(slots[i].json, 0, NULL) : NULL;
        size_t k;
        json_t *e;
        json_array_foreach(arr, k, e)
        {
            struct xa_snap s;
            if (n < cap && xa_snap_from_json(e, &s) == 0 &&
                (!f->id[0] || strcmp(f->id, s.id) == 0) &&
                (!f->kind[0] || strcmp(f->kind, s.kind) == 0) &&
                (!f->only_running || s.state == XA_RUNNING)) {
                v[n++] = s;
            }
        }
        json_decref(arr);
        free(slots[i].json);
    }
    free(slots);
    ais_smap_unref(smap);
    *out = v;
    return v ? n : 0;
}

/* Status of job id aggregated over the nodes that run a part of it. */
static json_t *
status_of(const struct xa_snap *v, size_t n, const char *id)
{
    struct xa_snap agg;
    int found = 0, running = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].id, id) != 0) {
            continue;
        }
        if (!found) {
            agg = v[i];
            found = 1;
        }
        running |= v[i].state == XA_RUNNING;
        agg.end_ns = v[i].end_ns > agg.end_ns ? v[i].end_ns : agg.end_ns;
        if (v[i].state == XA_ABORTED || v[i].state == XA_ERROR) {
            agg.state = agg.state == XA_ABORTED ? XA_ABORTED : v[i].state;
            if (agg.err[0] == '\0') {
                snprintf(agg.err, sizeof(agg.err), "%s", v[i].err);
            }
        }
    }
    if (!found) {
        return NULL;
    }
    if (running) {
        agg.end_ns = 0;
        agg.state = XA_RUNNING;
    }
    return xa_status_to_json(&agg);
}

static json_t *
snaps_by_node(const struct xa_snap *v, size_t n)
{
    json_t *out = json_object();
    for (size_t i = 0; i < n; i++) {
        json_t *arr = json_object_get(out, v[i].node_id);
        if (arr == NULL) {
            arr = json_array();
            json_object_set_new(out, v[i].node_id, arr);
        }
        json_array_append_new(arr, xa_snap_to_json(&v[i]));
    }
    return out;
}

json_t *
gw_job_query(struct gw *g, const char *what, const json_t *args)
{
    struct xa_filter f;
    struct xa_snap *v = NULL;
    xa_filter_from_json(args, &f);
    int all = strcmp(what, "status_all") == 0;
    size_t n = collect(g, &f, &v);
    json_t *out = NULL;
    if (all) {
        out = json_array();
        for (size_t i = 0; i < n; i++) {
            int seen = 0;
            for (size_t k = 0; k < i && !seen; k++) {
                seen = strcmp(v[k].id, v[i].id) == 0;
            }
            if (!seen) {
                json_array_append_new(out, status_of(v, n, v[i].id));
            }
        }
    } else if (n > 0 && strcmp(what, "status") == 0) {
        out = status_of(v, n, f.id[0] ? f.id : v[0].id); /* no id: the newest match */
    } else if (n > 0) {
        out = snaps_by_node(v, n);
    }
    free(v);
    return out;
}
