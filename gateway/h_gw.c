/*
 * Design notes: the gateway's HTTP surface. Object requests are answered with 307 to the HRW
 * owner. A PUT body is never buffered: with `Expect: 100-continue` the 307 goes out before the
 * body; a body already on its way is discarded by the edge as it arrives (up to a bound) so the
 * client can read the 307 and follow it, else the connection is closed. Cluster-wide queries
 * fan out over RPC.
 */
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/objref.h"
#include "common/util.h"
#include "gateway/fanout.h"
#include "gateway/gw_int.h"

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
    if (!ais_req_is(r, "GET") && !ais_req_is(r, "PUT") && !ais_req_is(r, "HEAD") &&
        !ais_req_is(r, "DELETE")) {
        ais_resp_err(r, 405, "method %s not allowed on %s", ais_req_method(r), ais_req_path(r));
        ais_resp_header(r, "Allow", "GET, PUT, HEAD, DELETE");
        return;
    }
    struct ais_bmd *bmd = ais_meta_bmd(&g->meta);
    int exists = ais_bmd_find(bmd, ref.provider, ref.ns, ref.bck) != NULL;
    ais_bmd_unref(bmd);
    if (!exists) {
        ais_resp_err(r, 404, "bucket \"%s\" does not exist", ref.display);
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
    return ais_meta_query_json(&g->meta, g->cfg, &g->self, what ? what : "smap");
}

struct query_slot {
    const char *what;
    char *json;
    int rc;
    struct rpc_err err;
};

static void
query_node(struct gw *g, const struct ais_snode *n, void *slot)
{
    struct query_slot *s = slot;
    char url[128];
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

/* {"proxy":{id:..},"target":{id:..}} of one what= across the cluster, as JSON text. */
static void
cluster_query(struct gw *g, struct ais_req *r, const char *what)
{
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    struct query_slot *slots = calloc(smap->nnodes ? smap->nnodes : 1, sizeof(*slots));
    struct ais_buf b;
    int err = slots ? 0 : -ENOMEM;
    ais_buf_init(&b, AIS_RPC_MSG_BYTES_MAX);
    for (size_t i = 0; slots && i < smap->nnodes; i++) {
        slots[i].what = what;
    }
    size_t n = slots ? gw_fanout(g, smap, 0, query_node, slots, sizeof(*slots)) : 0;
    for (int tgt = 0; tgt <= 1 && err == 0; tgt++) {
        int first = 1;
        err = ais_buf_printf(&b, "%s\"%s\":{", tgt ? "," : "{", tgt ? "target" : "proxy");
        for (size_t i = 0; i < n && err == 0; i++) {
            if (smap->nodes[i].is_target == tgt) {
                err = splice_node(&b, &smap->nodes[i], &slots[i], first);
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

struct cfg_slot {
    const char *const *names;
    const char *const *values;
    size_t n;
    int rc;
    struct rpc_err err;
};

static void
config_node(struct gw *g, const struct ais_snode *node, void *slot)
{
    struct cfg_slot *s = slot;
    char url[128];
    ais_snode_ctrl_url(node, url, sizeof(url));
    s->rc = rpc_config_set(url, (int)g->cfg->rpc_timeout_ms, s->names, s->values, s->n, &s->err);
}

/* PUT /v1/cluster/setconfig?name=value...: validate locally, then apply on every node. */
static void
cluster_setconfig(struct gw *g, struct ais_req *r)
{
    const char *names[AIS_CONFIG_RT_COUNT], *values[AIS_CONFIG_RT_COUNT];
    size_t n = ais_req_config_query(r, names, values);
    if (n == 0) {
        ais_resp_err(r, 400,
                     "setconfig: no settable name given (settable: log.level, "
                     "checksum.validate_warm_get, disk.fsync, dry_run)");
        return;
    }
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    struct cfg_slot *slots = calloc(smap->nnodes ? smap->nnodes : 1, sizeof(*slots));
    for (size_t i = 0; slots && i < smap->nnodes; i++) {
        slots[i].names = names;
        slots[i].values = values;
        slots[i].n = n;
    }
    size_t cnt = slots ? gw_fanout(g, smap, 0, config_node, slots, sizeof(*slots)) : 0;
    int failed = slots ? -1 : 0;
    for (size_t i = 0; i < cnt && failed < 0; i++) {
        failed = slots[i].rc ? (int)i : -1;
    }
    if (failed >= 0) {
        ais_resp_err(r, slots ? ais_http_status(slots[failed].rc) : 500, "setconfig: %s",
                     slots ? slots[failed].err.msg : "out of memory");
    } else {
        ais_resp_empty(r, 200);
    }
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
        json_t *j = gw_job_query(g, what, id);
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

static void
h_cluster(struct gw *g, struct ais_req *r)
{
    const char *p = ais_req_path(r);
    if (ais_req_is(r, "PUT") && strcmp(p, "/v1/cluster/setconfig") == 0) {
        cluster_setconfig(g, r);
    } else if (ais_req_is(r, "GET") && strcmp(p, "/v1/cluster") == 0) {
        ais_req_body_buffer(r, AIS_CTRL_BODY_BYTES_MAX, cluster_get_done, g);
    } else {
        ais_resp_err(r, 405, "method %s not allowed on %s", ais_req_method(r), p);
    }
}

static void
h_daemon(struct gw *g, struct ais_req *r)
{
    const char *p = ais_req_path(r);
    if (ais_req_is(r, "PUT") && strcmp(p, "/v1/daemon/setconfig") == 0) {
        ais_resp_setconfig(r, g->cfg);
        return;
    }
    if (!ais_req_is(r, "GET") || strcmp(p, "/v1/daemon") != 0) {
        ais_resp_err(r, 405, "method %s not allowed on %s", ais_req_method(r), p);
        return;
    }
    const char *what = ais_req_query(r, "what");
    reply_query(r, gw_query_json(g, what ? what : "smap"), what);
}

/* /v1/reverse/daemon?what=X with Ais-Node-Id: the named node's answer, fetched over RPC. */
static void
h_reverse(struct gw *g, struct ais_req *r)
{
    const char *id = ais_req_header(r, "Ais-Node-Id");
    const char *what = ais_req_query(r, "what");
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    const struct ais_snode *n = id ? ais_smap_find(smap, id) : NULL;
    struct query_slot s = {.what = what ? what : "snode"};
    if (n == NULL) {
        ais_smap_unref(smap);
        ais_resp_err(r, 404, "node \"%s\" is not in the cluster map (header Ais-Node-Id)",
                     id ? id : "");
        return;
    }
    query_node(g, n, &s);
    ais_smap_unref(smap);
    if (s.rc != 0) {
        ais_resp_err(r, ais_http_status(s.rc), "%s", s.err.msg);
    } else {
        ais_resp_buf(r, 200, "application/json", s.json, strlen(s.json));
    }
    free(s.json);
}

void
gw_http_handler(struct ais_req *r, void *ctx)
{
    struct gw *g = ctx;
    const char *p = ais_req_path(r);
    if (strcmp(p, "/v1/health") == 0) {
        if (__atomic_load_n(&g->ready, __ATOMIC_ACQUIRE)) {
            ais_resp_empty(r, 200);
        } else {
            ais_resp_err(r, 503, "gateway %s is starting", g->self.id);
        }
    } else if (strncmp(p, "/v1/objects/", 12) == 0) {
        h_objects(g, r);
    } else if (strncmp(p, "/v1/buckets", 11) == 0 && (p[11] == '\0' || p[11] == '/')) {
        gw_h_buckets(g, r);
    } else if (strncmp(p, "/v1/cluster", 11) == 0) {
        h_cluster(g, r);
    } else if (strncmp(p, "/v1/daemon", 10) == 0) {
        h_daemon(g, r);
    } else if (strncmp(p, "/v1/reverse/daemon", 18) == 0) {
        h_reverse(g, r);
    } else {
        ais_resp_err(r, 404, "unknown path %s", p);
    }
}
