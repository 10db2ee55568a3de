/*
 * Design notes: on the primary every metadata change runs under change_mu: clone the current
 * Smap/BMD, modify, bump the version, install locally (persisted), then push to all other nodes
 * in parallel and wait (each push bounded by the RPC timeout). Waiting makes a bucket create
 * visible on every target before the client hears 200. Nodes that missed a push catch up via
 * keepalive replies. A tracker thread drops nodes whose heartbeats stopped.
 */
#include "gateway/gateway.h"

#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "gateway/fanout.h"
#include "gateway/gw_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct push_slot {
    const struct ais_smap *smap;
    const struct ais_bmd *bmd;
    int rc;
    struct rpc_err err;
};

static void
push_node(struct gw *g, const struct ais_snode *node, void *slot)
{
    struct push_slot *p = slot;
    char url[128];
    if (strcmp(node->id, g->self.id) == 0) {
        return;
    }
    ais_snode_ctrl_url(node, url, sizeof(url));
    p->rc = rpc_metasync(url, (int)g->cfg->rpc_timeout_ms, p->smap, p->bmd, &p->err);
    if (p->rc != 0) {
        AIS_LOG_WARN("req=metasync node=%s err=\"%s\"", node->id, p->err.msg);
    }
}

void
gw_push_all(struct gw *g, const struct ais_smap *smap, const struct ais_bmd *bmd)
{
    struct push_slot *slots = calloc(smap->nnodes ? smap->nnodes : 1, sizeof(*slots));
    for (size_t i = 0; slots && i < smap->nnodes; i++) {
        slots[i] = (struct push_slot){.smap = smap, .bmd = bmd};
    }
    if (slots != NULL) {
        gw_fanout(g, smap, 0, push_node, slots, sizeof(*slots));
    }
    free(slots);
}

/* Installs new metadata on the primary (takes refs) and pushes it. Caller holds change_mu. */
static void
publish(struct gw *g, struct ais_smap *smap, struct ais_bmd *bmd)
{
    (void)ais_meta_apply(&g->meta, smap, bmd, NULL);
    struct ais_smap *s = ais_meta_smap(&g->meta);
    struct ais_bmd *b = ais_meta_bmd(&g->meta);
    gw_push_all(g, s, b);
    ais_smap_unref(s);
    ais_bmd_unref(b);
}

static void
seen_touch(struct gw *g, const char *id)
{
    pthread_mutex_lock(&g->seen_mu);
    size_t i = 0;
    while (i < g->nseen && strcmp(g->seen[i].id, id) != 0) {
        i++;
    }
    if (i == g->nseen && g->nseen < AIS_NODES_MAX) {
        snprintf(g->seen[g->nseen++].id, sizeof(g->seen[0].id), "%s", id);
    }
    if (i < g->nseen) {
        g->seen[i].mono_ns = ais_mono_ns();
    }
    pthread_mutex_unlock(&g->seen_mu);
}

static int
op_join(void *ctx, const struct ais_snode *node, struct ais_smap **smap, struct ais_bmd **bmd,
        struct rpc_err *err)
{
    struct gw *g = ctx;
    if (!g->is_primary) {
        snprintf(err->msg, sizeof(err->msg), "%s is not the primary", g->self.id);
        return AIS_ENOTPRIMARY;
    }
    pthread_mutex_lock(&g->change_mu);
    struct ais_smap *cur = ais_meta_smap(&g->meta);
    const struct ais_snode *old = ais_smap_find(cur, node->id);
    int rc = 0;
    if (old == NULL || memcmp(old, node, sizeof(*node)) != 0) {
        struct ais_smap *next = ais_smap_clone(cur);
        rc = next ? ais_smap_put_node(next, node) : -ENOMEM;
        if (rc == 0) {
            next->version = cur->version + 1;
            AIS_LOG_INFO("req=join node=%s role=%s smap_version=%lld", node->id,
                         node->is_target ? "target" : "proxy", (long long)next->version);
            seen_touch(g, node->id);
            publish(g, next, NULL);
        } else {
            ais_smap_unref(next);
        }
    } else {
        seen_touch(g, node->id);
    }
    ais_smap_unref(cur);
    pthread_mutex_unlock(&g->change_mu);
    if (rc != 0) {
        snprintf(err->msg, sizeof(err->msg), "cannot add %s: %s", node->id, ais_strerror(rc));
        return rc;
    }
    *smap = ais_meta_smap(&g->meta);
    *bmd = ais_meta_bmd(&g->meta);
    return 0;
}

static int
op_keepalive(void *ctx, const char *id, int64_t smap_ver, int64_t bmd_ver, struct ais_smap **smap,
             struct ais_bmd **bmd, struct rpc_err *err)
{
    struct gw *g = ctx;
    if (!g->is_primary) {
        return AIS_ENOTPRIMARY;
    }
    struct ais_smap *s = ais_meta_smap(&g->meta);
    struct ais_bmd *b = ais_meta_bmd(&g->meta);
    ais_stats_add(&g->stats, AIS_STAT_KEEPALIVE_N, 1);
    if (ais_smap_find(s, id) == NULL) {
        ais_smap_unref(s);
        ais_bmd_unref(b);
        snprintf(err->msg, sizeof(err->msg), "node %s is not in the cluster map", id);
        return -ENOENT;
    }
    seen_touch(g, id);
    *smap = NULL;
    *bmd = NULL;
    if (s->version > smap_ver) {
        *smap = s;
        s = NULL;
    }
    if (b->version > bmd_ver) {
        *bmd = b;
        b = NULL;
    }
    ais_smap_unref(s);
    ais_bmd_unref(b);
    return 0;
}

static int
op_metasync(void *ctx, struct ais_smap *smap, struct ais_bmd *bmd, struct rpc_err *err)
{
    struct gw *g = ctx;
    struct rpc_member *m = __atomic_load_n(&g->member, __ATOMIC_ACQUIRE);
    if (m != NULL) {
        rpc_member_apply(m, smap, bmd);
    } else {
        (void)ais_meta_apply(&g->meta, smap, bmd, NULL);
    }
    return 0;
}

static int
op_bck_action(void *ctx, const char *action, const char *provider, const char *ns, const char *bck,
              const char *value_json, struct rpc_err *err)
{
    struct gw *g = ctx;
    json_t *v = (value_json && value_json[0]) ? json_loads(value_json, 0, NULL) : NULL;
    int rc = gw_bck_change(g, action, provider, ns, bck, v, err->msg, sizeof(err->msg));
    json_decref(v);
    return rc;
}

static json_t *
op_query(void *ctx, const char *what)
{
    return gw_query_json(ctx, what);
}

static int
op_config_set(void *ctx, const char *const *names, const char *const *values, size_t n,
              struct rpc_err *err)
{
    struct gw *g = ctx;
    return ais_config_set_many(g->cfg, names, values, n, err->msg, sizeof(err->msg));
}

static const struct rpc_ops gw_rpc_ops = {
    .join = op_join,
    .keepalive = op_keepalive,
    .metasync = op_metasync,
    .bck_action = op_bck_action,
    .query = op_query,
    .config_set = op_config_set,
};

/* Removes nodes silent for longer than the keepalive timeout. */
static void
track_once(struct gw *g)
{
    int64_t now = ais_mono_ns(), limit = g->cfg->keepalive_timeout_ms * 1000000;
    pthread_mutex_lock(&g->change_mu);
    struct ais_smap *cur = ais_meta_smap(&g->meta);
    struct ais_smap *next = NULL;
    for (size_t i = 0; i < cur->nnodes; i++) {
        const struct ais_snode *n = &cur->nodes[i];
        if (strcmp(n->id, g->self.id) == 0) {
            continue;
        }
        int64_t last = 0;
        pthread_mutex_lock(&g->seen_mu);
        for (size_t k = 0; k < g->nseen; k++) {
            if (strcmp(g->seen[k].id, n->id) == 0) {
                last = g->seen[k].mono_ns;
            }
        }
        pthread_mutex_unlock(&g->seen_mu);
        if (last == 0) {
            seen_touch(g, n->id); /* known from persisted Smap: start its clock now */
            continue;
        }
        if (now - last > limit && (next != NULL || (next = ais_smap_clone(cur)) != NULL)) {
            AIS_LOG_WARN("req=keepalive node=%s msg=\"no heartbeat for %lldms, removing\"", n->id,
                         (long long)((now - last) / 1000000));
            (void)ais_smap_del_node(next, n->id);
        }
    }
    if (next != NULL) {
        next->version = cur->version + 1;
        publish(g, next, NULL);
    }
    ais_smap_unref(cur);
    pthread_mutex_unlock(&g->change_mu);
}

static void *
tracker_main(void *arg)
{
    struct gw *g = arg;
    for (;;) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + g->cfg->keepalive_interval_ms * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_mutex_lock(&g->stop_mu);
        while (!g->stopping && pthread_cond_timedwait(&g->stop_cv, &g->stop_mu, &ts) == 0) {
        }
        int stop = g->stopping;
        pthread_mutex_unlock(&g->stop_mu);
        if (stop) {
            return NULL;
        }
        track_once(g);
    }
}

/* The primary puts itself into the Smap (first start or changed address). */
static int
primary_init(struct gw *g)
{
    struct ais_smap *cur = ais_meta_smap(&g->meta);
    const struct ais_snode *me = ais_smap_find(cur, g->self.id);
    int rc = 0;
    if (me == NULL || memcmp(me, &g->self, sizeof(g->self)) != 0 ||
        strcmp(cur->primary_id, g->self.id) != 0) {
        struct ais_smap *next = ais_smap_clone(cur);
        rc = next ? ais_smap_put_node(next, &g->self) : -ENOMEM;
        if (rc == 0) {
            snprintf(next->primary_id, sizeof(next->primary_id), "%s", g->self.id);
            next->version = cur->version + 1;
            (void)ais_meta_apply(&g->meta, next, NULL, NULL);
        } else {
            ais_smap_unref(next);
        }
    }
    ais_smap_unref(cur);
    if (rc == 0 && pthread_create(&g->tracker, NULL, tracker_main, g) == 0) {
        g->tracker_started = 1;
    }
    return rc;
}

static void
gw_free(struct gw *g)
{
    ais_http_stop(g->http);
    pthread_mutex_lock(&g->stop_mu);
    g->stopping = 1;
    pthread_cond_broadcast(&g->stop_cv);
    pthread_mutex_unlock(&g->stop_mu);
    if (g->tracker_started) {
        pthread_join(g->tracker, NULL);
    }
    rpc_server_stop(g->rpc);
    rpc_member_stop(g->member);
    if (g->meta.smap != NULL) {
        ais_meta_fini(&g->meta);
    }
    pthread_mutex_destroy(&g->change_mu);
    pthread_mutex_destroy(&g->seen_mu);
    pthread_mutex_destroy(&g->jobs_mu);
    pthread_mutex_destroy(&g->stop_mu);
    pthread_cond_destroy(&g->stop_cv);
    free(g);
}

int
gw_run(const struct ais_config *cfg, const volatile int *stop)
{
    struct gw *g = calloc(1, sizeof(*g));
    if (g == NULL) {
        return -ENOMEM;
    }
    g->cfg = cfg;
    pthread_mutex_init(&g->change_mu, NULL);
    pthread_mutex_init(&g->seen_mu, NULL);
    pthread_mutex_init(&g->jobs_mu, NULL);
    pthread_mutex_init(&g->stop_mu, NULL);
    pthread_cond_init(&g->stop_cv, NULL);
    ais_stats_init(&g->stats);
    int rc = ais_node_self_init(cfg, &g->self);
    rc = rc ? rc : ais_meta_init(&g->meta, cfg->confdir);
    if (rc == 0) {
        char me[128];
        ais_snode_ctrl_url(&g->self, me, sizeof(me));
        g->is_primary = strcmp(me, cfg->primary_url) == 0;
    }
    rc = rc ? rc : rpc_node_listen(&g->self, &gw_rpc_ops, gw_http_handler, g, &g->rpc, &g->http);
    if (rc == 0 && g->is_primary) {
        rc = primary_init(g);
    } else if (rc == 0) {
        struct rpc_member *m = NULL;
        rc = rpc_member_start(cfg, &g->self, &g->meta, NULL, NULL, &m);
        __atomic_store_n(&g->member, m, __ATOMIC_RELEASE);
    }
    if (rc == 0) {
        AIS_LOG_INFO("req=start role=gateway id=%s primary=%d port=%u", g->self.id, g->is_primary,
                     (unsigned)cfg->port);
        __atomic_store_n(&g->ready, 1, __ATOMIC_RELEASE);
        while (!*stop) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
        AIS_LOG_INFO("req=stop id=%s", g->self.id);
    }
    gw_free(g);
    return rc;
}
