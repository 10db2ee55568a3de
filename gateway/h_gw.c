/*
 * Design notes: the gateway's HTTP surface. Object requests are answered with 307 to the HRW
 * owner. A PUT body is never buffered: with `Expect: 100-continue` the 307 goes out before the
 * body; a body already on its way is discarded by the edge as it arrives (up to a bound) so the
 * client can read the 307 and follow it, else the connection is closed. Cluster-wide queries
 * fan out over RPC. Dispatch is two tables: gw_routes (path pattern, methods) and, for
 * PUT /v1/cluster, cluster_actions (ActMsg action). Cluster setconfig checks every pair against
 * the config table here first (400 naming the bad keys, nothing applied anywhere), then applies
 * on every node in the Smap, this one included, over the same RPC.
 */
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/names.h"
#include "common/objref.h"
#include "common/util.h"
#include "gateway/election.h"
#include "gateway/fanout.h"
#include "gateway/gw_int.h"
#include "gateway/metasync.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
h_objects(struct gw *g, struct ais_req *r)
{
    struct ais_objref ref;
    char msg[512];
    int status = ais_objref_parse(r, "/v1/objects/", 1, &ref, msg, sizeof(msg));
    if (status != 0) {
        ais_resp_err(r, status, "%s", msg);
        return;
    }
    status = gw_bck_resolve(g, &ref, msg, sizeof(msg)); /* a remote bucket: added on first use */
    if (status != 0) {
        ais_resp_err(r, status, "%s", msg);
        return;
    }
    uint64_t need = ais_req_is(r, "GET")    ? AIS_ACCESS_GET
                    : ais_req_is(r, "HEAD") ? AIS_ACCESS_HEAD_OBJ
                    : ais_req_is(r, "PUT")  ? AIS_ACCESS_PUT
                                            : AIS_ACCESS_DELETE_OBJ;
    if (gw_bck_access(g, r, &ref, need)) {
        return;
    }
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    const struct ais_snode *t = ais_smap_hrw_target(smap, ref.digest);
    if (t == NULL) {
        ais_smap_unref(smap);
        ais_resp_err(r, 503, "no storage targets in the cluster map");
        return;
    }
    char base[128], loc[AIS_URI_BYTES_MAX + 256];
    const char *q = ais_req_raw_query(r);
    ais_snode_url(t, base, sizeof(base));
    ais_smap_unref(smap);
    snprintf(loc, sizeof(loc), "%s%s?%s%spid=%s&utm=%lld", base, ais_req_raw_path(r), q,
             q[0] ? "&" : "", g->self.id, (long long)ais_now_ns());
    /* Body-first clients (python requests) must read the 307 before they can follow it. */
    ais_req_discard_body(r, AIS_REDIRECT_DRAIN_BYTES_MAX);
    ais_resp_redirect(r, loc);
    ais_stats_add(&g->stats, AIS_STAT_REDIRECT_N, 1);
}

json_t *
gw_query_json(struct gw *g, const char *what)
{
    if (what != NULL && (strcmp(what, "stats") == 0 || strcmp(what, "node_status") == 0)) {
        return json_pack("{s:o, s:o}", "snode", ais_snode_to_json(&g->self), "tracker",
                         ais_stats_tracker_json(&g->stats));
    }
    if (what != NULL && strcmp(what, "metasync") == 0) {
        return gw_msync_json(g->msync);
    }
    return ais_meta_query_json(&g->meta, g->cfg, &g->self, what ? what : "smap");
}

struct query_slot {
    const char *what;
    const struct ais_snode *node; /* set by query_node */
    char *json;
    int rc;
    struct rpc_err err;
};

static void
query_node(struct gw *g, const struct ais_snode *n, void *slot)
{
    struct query_slot *s = slot;
    char url[128];
    s->node = n;
    ais_snode_ctrl_url(n, url, sizeof(url));
    s->rc = rpc_query(url, (int)g->cfg->rpc_timeout_ms, s->what, &s->json, &s->err);
}

/* Appends `"id":<json>` to one of the two maps; node replies are spliced in raw because
 * they carry uint64 numbers that jansson cannot read back. */
static int
splice_node(struct ais_buf *b, const struct ais_snode *n, const struct query_slot *s, int first)
{
    int err = ais_buf_printf(b, "%s\"%s\":", first ? "" : ",", n->id);
    if (err == 0 && s->rc == 0 && s->json != NULL) {
        err = ais_buf_append(b, s->json, strlen(s->json));
    } else if (err == 0) {
        json_t *e = json_pack("{s:s}", "error", s->err.msg);
        char *t = e ? json_dumps(e, JSON_COMPACT) : NULL;
        err = t ? ais_buf_append(b, t, strlen(t)) : -ENOMEM;
        free(t);
        json_decref(e);
    }
    return err;
}

/* {"proxy":{id:..},"target":{id:..}} of one what= across the cluster, as JSON text. Gateways
 * have no mountpaths: for what=mountpaths only targets are asked ("proxy" stays empty). */
static void
cluster_query(struct gw *g, struct ais_req *r, const char *what)
{
    int targets_only = strcmp(what, "mountpaths") == 0;
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    struct query_slot *slots = calloc(smap->nnodes ? smap->nnodes : 1, sizeof(*slots));
    struct ais_buf b;
    int err = slots ? 0 : -ENOMEM;
    ais_buf_init(&b, AIS_RPC_MSG_BYTES_MAX);
    for (size_t i = 0; slots && i < smap->nnodes; i++) {
        slots[i].what = what;
    }
    size_t n = slots ? gw_fanout(g, smap, targets_only, query_node, slots, sizeof(*slots)) : 0;
    for (int tgt = 0; tgt <= 1 && err == 0; tgt++) {
        int first = 1;
        err = ais_buf_printf(&b, "%s\"%s\":{", tgt ? "," : "{", tgt ? "target" : "proxy");
        for (size_t i = 0; i < n && err == 0; i++) {
            if (slots[i].node->is_target == tgt) {
                err = splice_node(&b, slots[i].node, &slots[i], first);
                first = 0;
            }
        }
        err = err ? err : ais_buf_append(&b, "}", 1);
    }
    err = err ? err : ais_buf_append(&b, "}", 1);
    if (err == 0) {
        ais_resp_buf(r, 200, "application/json", b.data, b.len);
    } else {
        ais_resp_err(r, 500, "cluster %s: %s", what, ais_strerror(err));
    }
    for (size_t i = 0; i < n; i++) {
        free(slots[i].json);
    }
    ais_buf_fini(&b);
    free(slots);
    ais_smap_unref(smap);
}

static void
reply_query(struct ais_req *r, json_t *j, const char *what)
{
    if (j == NULL) {
        ais_resp_err(r, 400, "invalid what=%s", what ? what : "");
        return;
    }
    ais_resp_json(r, 200, j);
    json_decref(j);
}

static void
cluster_get_done(struct ais_req *r, void *arg)
{
    struct gw *g = arg;
    const char *what = ais_req_query(r, "what");
    json_t *body = NULL;
    (void)ais_req_body_json(r, &body);
    if (what != NULL && (strcmp(what, "stats") == 0 || strcmp(what, "mountpaths") == 0 ||
                         strcmp(what, "sysinfo") == 0)) {
        cluster_query(g, r, strcmp(what, "sysinfo") == 0 ? "stats" : what);
    } else if (what != NULL && (strcmp(what, "status") == 0 || strcmp(what, "qryxstats") == 0 ||
                                strcmp(what, "status_all") == 0)) {
        const char *id = ais_json_str(body, "ID", "");
        json_t *j = gw_job_query(g, what, body);
        if (j == NULL) {
            ais_resp_err(r, 404, "job \"%s\" not found", id);
        } else {
            reply_query(r, j, what);
        }
    } else {
        reply_query(r, gw_query_json(g, what), what);
    }
    json_decref(body);
}

struct cfg_slot {
    const struct ais_cfg_pairs *p;
    int rc;
    struct rpc_err err;
};

static void
config_node(struct gw *g, const struct ais_snode *node, void *slot)
{
    struct cfg_slot *s = slot;
    char url[128];
    ais_snode_ctrl_url(node, url, sizeof(url));
    s->rc = rpc_config_set(url, (int)g->cfg->rpc_timeout_ms, s->p->names, s->p->values, s->p->n,
                           &s->err);
}

/* The request's setconfig pairs, checked against the config table. NULL after a 400/500. */
static struct ais_cfg_pairs *
config_pairs_checked(struct ais_req *r)
{
    char msg[1024];
    struct ais_cfg_pairs *p = ais_req_alloc(r, sizeof(*p));
    if (p == NULL) {
        ais_resp_err(r, 500, "setconfig: out of request memory");
        return NULL;
    }
    if (ais_req_config_pairs(r, p, msg, sizeof(msg)) == 0) {
        ais_resp_err(r, 400, "%s", msg);
    } else if (ais_config_check_many(p->names, p->values, p->n, msg, sizeof(msg)) != 0) {
        ais_resp_err(r, 400, "setconfig: %s", msg);
    } else {
        return p;
    }
    ais_cfg_pairs_fini(p);
    return NULL;
}

/* Cluster setconfig (query or set-config body): check here, then apply on every node. */
static void
cluster_setconfig(struct gw *g, struct ais_req *r)
{
    struct ais_cfg_pairs *p = config_pairs_checked(r);
    if (p == NULL) {
        return;
    }
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    struct cfg_slot *slots = calloc(smap->nnodes ? smap->nnodes : 1, sizeof(*slots));
    for (size_t i = 0; slots && i < smap->nnodes; i++) {
        slots[i].p = p;
    }
    size_t cnt = slots ? gw_fanout(g, smap, 0, config_node, slots, sizeof(*slots)) : 0;
    int failed = slots ? -1 : 0;
    for (size_t i = 0; i < cnt && failed < 0; i++) {
        failed = slots[i].rc ? (int)i : -1;
    }
    if (slots == NULL) {
        ais_resp_err(r, 500, "setconfig: out of memory");
    } else if (failed >= 0) {
        ais_resp_err(r, ais_http_status(slots[failed].rc), "setconfig: node %s: %s",
                     smap->nodes[failed].id, slots[failed].err.msg);
    } else {
        ais_resp_empty(r, 200);
    }
    free(slots);
    ais_smap_unref(smap);
    ais_cfg_pairs_fini(p);
}

/* PUT /v1/cluster ActMsg actions (api.md §5); adding one = one row. */
struct xstop_slot {
    const char *id, *kind;
    const char *provider, *ns, *bck; /* start of a per-bucket job, else NULL */
    int start;                       /* xact_start instead of xact_stop (targets only) */
    int rc;
    struct rpc_err err;
};

static void
xstop_node(struct gw *g, const struct ais_snode *n, void *slot)
{
    struct xstop_slot *s = slot;
    char url[128];
    if (strcmp(n->id, g->self.id) == 0) {
        return;
    }
    ais_snode_ctrl_url(n, url, sizeof(url));
    struct rpc_xact_args a = {
        .id = s->id, .kind = s->kind, .provider = s->provider, .ns = s->ns, .bck = s->bck};
    s->rc = s->start ? rpc_xact_start(url, (int)g->cfg->rpc_timeout_ms, &a, &s->err)
                     : rpc_xact_stop(url, (int)g->cfg->rpc_timeout_ms, s->id, s->kind, &s->err);
}

/*
 * Tells every node (targets only: start) to start or stop jobs id/kind in parallel, then
 * answers: 200 with body (may be "") when all did, else the first node's error.
 */
static void
xact_fanout_reply(struct gw *g, struct ais_req *r, const struct xstop_slot *tmpl, const char *body)
{
    int start = tmpl->start;
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    struct xstop_slot *slots = calloc(smap->nnodes ? smap->nnodes : 1, sizeof(*slots));
    int rc = slots ? 0 : -ENOMEM;
    char msg[512] = "";
    for (size_t i = 0; slots && i < smap->nnodes; i++) {
        slots[i] = *tmpl;
    }
    size_t n = slots ? gw_fanout(g, smap, start, xstop_node, slots, sizeof(*slots)) : 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (slots[i].rc != 0) {
            rc = slots[i].rc;
            snprintf(msg, sizeof(msg), "%s: %s", start ? "start" : "stop", slots[i].err.msg);
        }
    }
    free(slots);
    ais_smap_unref(smap);
    if (rc != 0) {
        ais_resp_err(r, ais_http_status(rc), "%s", msg[0] ? msg : ais_strerror(rc));
        return;
    }
    ais_resp_buf(r, 200, "text/plain", body, strlen(body));
}

/*
 * A per-bucket job's bucket from ArgsMsg.Bck {"name","provider","namespace"}: 0 and the bucket
 * in *ref when it exists in this gateway's BMD, else an error answered (1).
 */
static int
start_bck(struct gw *g, struct ais_req *r, const json_t *value, const char *kind,
          struct ais_bck_md *out)
{
    const json_t *b = ais_json_get_ci(value, "Bck");
    const char *name = ais_json_str(b, "name", "");
    const char *prov = ais_provider_norm(ais_json_str(b, "provider", "ais"));
    const char *ns = ais_json_str(b, "namespace", "");
    if (name[0] == '\0' || prov == NULL) {
        ais_resp_err(r, 400, "start: job kind \"%s\" needs a bucket (value.Bck.name, provider)",
                     kind);
        return 1;
    }
    struct ais_bmd *bmd = ais_meta_bmd(&g->meta);
    const struct ais_bck_md *k = ais_bmd_find(bmd, prov, ns, name);
    if (k != NULL) {
        snprintf(out->name, sizeof(out->name), "%s", k->name);
        snprintf(out->provider, sizeof(out->provider), "%s", k->provider);
        snprintf(out->ns, sizeof(out->ns), "%s", k->ns);
    }
    ais_bmd_unref(bmd);
    if (k == NULL) {
        ais_resp_err(r, 404, "start %s: bucket \"%s://%s\" does not exist", kind, prov, name);
        return 1;
    }
    return 0;
}

/*
 * PUT /v1/cluster {"action":"start","value":{"Kind":"rebalance"}} (api.md §5.7): every target
 * starts a rebalance of the current Smap under one new cluster-wide id, answered as the body
 * ("g<smap version>.<rand>"). Kinds "scrub" and "make-n-copies" take value.Bck and run on every
 * target for that bucket (id "s<rand>" / "m<rand>"). Other kinds start on their own triggers:
 * 400 naming the kind.
 */
static void
cluster_xact_start(struct gw *g, struct ais_req *r)
{
    json_t *body = NULL;
    (void)ais_req_body_json(r, &body);
    const json_t *value = ais_json_get_ci(body, "value");
    struct xa_filter f;
    xa_filter_from_json(value, &f);
    char id[XA_ID_BYTES], rnd[9];
    struct xstop_slot tmpl = {.id = id, .kind = f.kind, .start = 1};
    struct ais_bck_md k;
    ais_rand_id(rnd, 8);
    if (strcmp(f.kind, "rebalance") == 0) {
        struct ais_smap *smap = ais_meta_smap(&g->meta);
        snprintf(id, sizeof(id), "g%lld.%.4s", (long long)smap->version, rnd);
        ais_smap_unref(smap);
        xact_fanout_reply(g, r, &tmpl, id);
    } else if (strcmp(f.kind, "lru") == 0) {
        snprintf(id, sizeof(id), "l%s", rnd); /* targets evict down to space.lowwm */
        xact_fanout_reply(g, r, &tmpl, id);
    } else if (strcmp(f.kind, "scrub") == 0 || strcmp(f.kind, "make-n-copies") == 0) {
        if (start_bck(g, r, value, f.kind, &k) == 0) {
            snprintf(id, sizeof(id), "%c%s", f.kind[0] == 's' ? 's' : 'm', rnd);
            tmpl.provider = k.provider;
            tmpl.ns = k.ns;
            tmpl.bck = k.name;
            xact_fanout_reply(g, r, &tmpl, id);
        }
    } else {
        ais_resp_err(r, 400,
                     "start: job kind \"%s\" cannot be started on request (supported: "
                     "rebalance, lru, scrub, make-n-copies)",
                     f.kind);
    }
    json_decref(body);
}

/*
 * PUT /v1/cluster {"action":"stop","value":JobArgs}: aborts the running jobs matching ID
 * and/or Kind on every node (api.md §5.7). One of the two is required; 200 even when nothing
 * was running (AIS does the same), an error only when a node could not be told.
 */
static void
cluster_xact_stop(struct gw *g, struct ais_req *r)
{
    json_t *body = NULL;
    (void)ais_req_body_json(r, &body);
    struct xa_filter f;
    xa_filter_from_json(ais_json_get_ci(body, "value"), &f);
    if (f.id[0] == '\0' && f.kind[0] == '\0') {
        ais_resp_err(r, 400, "stop: value must name the job: {\"ID\":..} or {\"Kind\":..}");
    } else {
        (void)xa_abort(g->xreg, &f);
        xact_fanout_reply(g, r, &(struct xstop_slot){.id = f.id, .kind = f.kind}, "");
    }
    json_decref(body);
}

static const struct {
    const char *action;
    void (*fn)(struct gw *g, struct ais_req *r);
} cluster_actions[] = {
    {"stop", cluster_xact_stop},
    {"start", cluster_xact_start},
    {"set-config", cluster_setconfig},
    {"setconfig", cluster_setconfig},
    {"start-maintenance", gw_h_node_action},
    {"stop-maintenance", gw_h_node_action},
    {"decommission-node", gw_h_node_action},
    {"shutdown-node", gw_h_node_action},
};

static void
cluster_setconfig_done(struct ais_req *r, void *arg)
{
    cluster_setconfig(arg, r);
}

static void
cluster_put_done(struct ais_req *r, void *arg)
{
    struct gw *g = arg;
    json_t *body = NULL;
    const char *what = ais_req_query(r, "what");
    if (what != NULL && strcmp(what, "setconfig") == 0) {
        cluster_setconfig(g, r);
        return;
    }
    if (ais_req_body_json(r, &body) != 0 || !json_is_object(body)) {
        json_decref(body);
        ais_resp_err(r, 400, "malformed JSON in request body (expected an ActMsg object)");
        return;
    }
    const char *action = ais_json_str(body, "action", "");
    size_t i = 0;
    while (i < sizeof(cluster_actions) / sizeof(cluster_actions[0]) &&
           strcmp(cluster_actions[i].action, action) != 0) {
        i++;
    }
    if (i < sizeof(cluster_actions) / sizeof(cluster_actions[0])) {
        cluster_actions[i].fn(g, r);
    } else {
        ais_resp_err(r, 400, "action \"%s\" is not supported on /v1/cluster", action);
    }
    json_decref(body);
}

static void
daemon_put_done(struct ais_req *r, void *arg)
{
    struct gw *g = arg;
    ais_resp_setconfig(r, g->cfg);
}

/* /v1/reverse/daemon?what=X with Ais-Node-Id: the named node's answer, fetched over RPC; a PUT
 * (setconfig) is checked here and applied on that node. */
static void
reverse_done(struct ais_req *r, void *arg)
{
    struct gw *g = arg;
    const char *id = ais_req_header(r, "Ais-Node-Id");
    const char *what = ais_req_query(r, "what");
    struct ais_cfg_pairs *p = NULL;
    if (ais_req_is(r, "PUT") && (p = config_pairs_checked(r)) == NULL) {
        return;
    }
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    const struct ais_snode *n = id ? ais_smap_find(smap, id) : NULL;
    char log_what[96];
    struct query_slot s = {.what = what ? what : "snode"};
    if (what != NULL && strcmp(what, "log") == 0) {
        ais_log_query_what(r, log_what, sizeof(log_what)); /* the node reads offset/all */
        s.what = log_what;
    }
    struct cfg_slot c = {.p = p};
    if (n == NULL) {
        ais_resp_err(r, 404, "node \"%s\" is not in the cluster map (header Ais-Node-Id)",
                     id ? id : "");
    } else if (p != NULL) {
        config_node(g, n, &c);
        if (c.rc != 0) {
            ais_resp_err(r, ais_http_status(c.rc), "setconfig: node %s: %s", id, c.err.msg);
        } else {
            ais_resp_empty(r, 200);
        }
    } else {
        query_node(g, n, &s);
        if (s.rc != 0) {
            ais_resp_err(r, ais_http_status(s.rc), "%s", s.err.msg);
        } else if (ais_log_is_query(s.what)) {
            ais_log_resp_from_json(r, s.json);
        } else {
            ais_resp_buf(r, 200, "application/json", s.json, strlen(s.json));
        }
    }
    ais_smap_unref(smap);
    free(s.json);
    ais_cfg_pairs_fini(p);
}

/* ---- route handlers (ctx = struct gw) ---- */

static void
r_health(struct ais_req *r, void *ctx)
{
    struct gw *g = ctx;
    if (__atomic_load_n(&g->ready, __ATOMIC_ACQUIRE)) {
        ais_resp_empty(r, 200);
    } else {
        ais_resp_err(r, 503, "gateway %s is starting", g->self.id);
    }
}

static void
r_objects(struct ais_req *r, void *ctx)
{
    if (ais_req_is(r, "POST")) {
        gw_h_objects_post(ctx, r); /* promote (h_promote.c) */
        return;
    }
    h_objects(ctx, r);
}

static void
r_buckets(struct ais_req *r, void *ctx)
{
    gw_h_buckets(ctx, r);
}

static void
r_cluster(struct ais_req *r, void *ctx)
{
    ais_req_body_buffer(r, AIS_CTRL_BODY_BYTES_MAX,
                        ais_req_is(r, "GET") ? cluster_get_done : cluster_put_done, ctx);
}

static void
r_cluster_setconfig(struct ais_req *r, void *ctx)
{
    ais_req_body_buffer(r, AIS_CTRL_BODY_BYTES_MAX, cluster_setconfig_done, ctx);
}

static void
r_daemon(struct ais_req *r, void *ctx)
{
    struct gw *g = ctx;
    if (ais_req_is(r, "PUT")) {
        ais_req_body_buffer(r, AIS_CTRL_BODY_BYTES_MAX, daemon_put_done, g);
        return;
    }
    const char *what = ais_req_query(r, "what");
    if (what != NULL && strcmp(what, "log") == 0) {
        ais_log_serve(r); /* text/plain, not a query JSON */
        return;
    }
    reply_query(r, gw_query_json(g, what ? what : "smap"), what);
}

static void
r_reverse(struct ais_req *r, void *ctx)
{
    ais_req_body_buffer(r, AIS_CTRL_BODY_BYTES_MAX, reverse_done, ctx);
}

/* Mountpath changes for the target named by Ais-Node-Id: 307 to its /v1/daemon/mountpaths
 * (the body is re-sent by the client; the target does the work and answers). */
static void
r_mountpaths(struct ais_req *r, void *ctx)
{
    struct gw *g = ctx;
    const char *id = ais_req_header(r, "Ais-Node-Id");
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    const struct ais_snode *n = id ? ais_smap_find(smap, id) : NULL;
    char base[128], loc[256];
    if (n == NULL || !n->is_target) {
        ais_smap_unref(smap);
        ais_resp_err(r, 404, "target \"%s\" is not in the cluster map (header Ais-Node-Id)",
                     id ? id : "");
        return;
    }
    ais_snode_url(n, base, sizeof(base));
    ais_smap_unref(smap);
    snprintf(loc, sizeof(loc), "%s/v1/daemon/mountpaths", base);
    ais_req_discard_body(r, AIS_REDIRECT_DRAIN_BYTES_MAX);
    ais_resp_redirect(r, loc);
}

/* /s3 (S3-compatible API, s3/): every method the room serves. */
static void
r_s3(struct ais_req *r, void *ctx)
{
    struct gw *g = ctx;
    s3_http_handler(r, g->s3);
}

#define S3_METHODS (AIS_M_GET | AIS_M_HEAD | AIS_M_PUT | AIS_M_POST | AIS_M_DELETE)

/* Rows are tried in order; the first whose pattern and method match serves the request. */
static const struct ais_route gw_routes[] = {
    {AIS_M_GET | AIS_M_HEAD, "/v1/health", r_health},
    {AIS_M_GET | AIS_M_HEAD | AIS_M_PUT | AIS_M_POST | AIS_M_DELETE, "/v1/objects/*", r_objects},
    {AIS_M_GET, "/v1/buckets", r_buckets},
    {AIS_M_GET | AIS_M_HEAD | AIS_M_PUT | AIS_M_POST | AIS_M_DELETE | AIS_M_PATCH, "/v1/buckets/*",
     r_buckets},
    {AIS_M_GET | AIS_M_PUT, "/v1/cluster", r_cluster},
    {AIS_M_PUT, "/v1/cluster/setconfig", r_cluster_setconfig},
    {AIS_M_PUT, "/v1/cluster/proxy/*", gw_h_set_primary},
    {AIS_M_GET | AIS_M_PUT, "/v1/daemon", r_daemon},
    {AIS_M_PUT, "/v1/daemon/setconfig", r_daemon},
    {AIS_M_GET | AIS_M_PUT, "/v1/reverse/daemon", r_reverse},
    {AIS_M_PUT, "/v1/reverse/daemon/setconfig", r_reverse},
    {AIS_M_PUT | AIS_M_POST | AIS_M_DELETE, "/v1/reverse/daemon/mountpaths", r_mountpaths},
    {AIS_M_PUT | AIS_M_POST | AIS_M_DELETE, "/v1/daemon/mountpaths", r_mountpaths},
    {AIS_M_GET | AIS_M_POST, "/v1/download", gw_r_download},
    {AIS_M_DELETE, "/v1/download/*", gw_r_download},
    {AIS_M_GET, "/metrics", gw_r_metrics},
    {AIS_M_GET | AIS_M_HEAD, "/v1/openapi.yaml", gw_r_openapi},
    {AIS_M_GET | AIS_M_POST | AIS_M_DELETE, "/v1/sort", gw_r_sort}, /* dSort (h_sort.c) */
    {AIS_M_GET | AIS_M_DELETE, "/v1/sort/*", gw_r_sort},
    {AIS_M_GET, "/v1/ml/moss", gw_r_moss},   /* batch GET (h_moss.c) */
    {AIS_M_GET, "/v1/ml/moss/*", gw_r_moss},
    {S3_METHODS, "/s3", r_s3},
    {S3_METHODS, "/s3/*", r_s3},
};

void
gw_http_handler(struct ais_req *r, void *ctx)
{
    struct gw *g = ctx;
    const char *p = ais_req_path(r);
    char vb[AIS_BCKNAME_BYTES_MAX + 1];
    if (p[0] != '/' && gw_rproxy(g, r)) {
        return; /* http_proxy client: absolute URI */
    }
    /* S3 virtual-host style: Host "BUCKET.<anything>" naming a bucket, path outside /v1, /s3. */
    if (strncmp(p, "/v1", 3) != 0 && strncmp(p, "/s3", 3) != 0 &&
        s3_vhost_bucket(g->s3, r, vb, sizeof(vb))) {
        s3_http_handler_vhost(r, g->s3, vb);
        return;
    }
    ais_route_dispatch(r, gw_routes, sizeof(gw_routes) / sizeof(gw_routes[0]), ctx);
}
