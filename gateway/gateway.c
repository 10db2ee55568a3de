/*
 * Design notes: the primary owns the cluster map. Every change (join, eviction, bucket
 * action) is built under change_mu (clone, modify, bump the version) and committed through
 * gateway/metasync.c, which installs it in memory and queues the push: change_mu is never
 * held across the network or a disk write. Bucket actions wait for every node's ack before
 * answering; joins do not (the joiner gets the current maps in its reply, everyone else gets
 * the next push), so a join storm costs no RPC worker more than a clone.
 *
 * Keepalives only read the current snapshots (lock-free) and touch the seen table, so they
 * never wait behind a change or a push. The tracker evicts a node silent for longer than the
 * keepalive timeout or AIS_KEEPALIVE_MISSES_MAX intervals, whichever is longer; if the tracker
 * itself ran late by that much (the primary stalled), it restarts every node's clock instead
 * of blaming the nodes.
 */
#include "gateway/gateway.h"

#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "gateway/election.h"
#include "gateway/gw_int.h"
#include "gateway/lsess.h"
#include "gateway/metasync.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Drops seen rows of nodes no longer in the Smap. Caller holds seen_mu. */
static void
seen_compact(struct gw *g)
{
    struct ais_smap *s = ais_meta_smap(&g->meta);
    size_t k = 0;
    for (size_t i = 0; i < g->nseen; i++) {
        if (ais_smap_find(s, g->seen[i].id) != NULL) {
            g->seen[k++] = g->seen[i];
        }
    }
    g->nseen = k;
    ais_smap_unref(s);
}

static void
seen_touch(struct gw *g, const char *id)
{
    pthread_mutex_lock(&g->seen_mu);
    size_t i = 0;
    while (i < g->nseen && strcmp(g->seen[i].id, id) != 0) {
        i++;
    }
    if (i == g->nseen && g->nseen == AIS_NODES_MAX) {
        seen_compact(g);
        i = g->nseen;
    }
    if (i == g->nseen && g->nseen < AIS_NODES_MAX) {
        snprintf(g->seen[g->nseen++].id, sizeof(g->seen[0].id), "%s", id);
    }
    if (i < g->nseen) {
        g->seen[i].mono_ns = ais_mono_ns();
    }
    pthread_mutex_unlock(&g->seen_mu);
}

void
gw_seen_reset(struct gw *g)
{
    pthread_mutex_lock(&g->seen_mu);
    g->nseen = 0;
    pthread_mutex_unlock(&g->seen_mu);
}

int
gw_change_lock(struct gw *g)
{
    pthread_mutex_lock(&g->change_mu);
    if (!gw_is_primary(g)) {
        pthread_mutex_unlock(&g->change_mu);
        return AIS_ENOTPRIMARY;
    }
    return 0;
}

/* Monotonic time of the node's last sign of life; 0 = never seen. */
static int64_t
seen_last(struct gw *g, const char *id)
{
    int64_t last = 0;
    pthread_mutex_lock(&g->seen_mu);
    for (size_t k = 0; k < g->nseen; k++) {
        if (strcmp(g->seen[k].id, id) == 0) {
            last = g->seen[k].mono_ns;
            break;
        }
    }
    pthread_mutex_unlock(&g->seen_mu);
    return last;
}

/* Keeps the maintenance flags of a node being evicted, for its rejoin. Caller holds change_mu. */
static void
flag_memo(struct gw *g, const struct ais_snode *n)
{
    uint64_t f = n ? n->flags & (AIS_SNODE_MAINTENANCE | AIS_SNODE_DECOMMISSION) : 0;
    if (f == 0) {
        return;
    }
    size_t i = 0;
    while (i < g->nflag_memo && strcmp(g->flag_memo[i].id, n->id) != 0) {
        i++;
    }
    if (i == g->nflag_memo) {
        i = g->nflag_memo < AIS_JOIN_REFUSED_MAX ? g->nflag_memo++ : 0; /* full: oldest slot */
    }
    snprintf(g->flag_memo[i].id, sizeof(g->flag_memo[i].id), "%s", n->id);
    g->flag_memo[i].flags = f;
}

/* Flags a (re)joining node keeps: from its Smap entry, else from an eviction memo. */
static uint64_t
flag_recall(struct gw *g, const struct ais_snode *old, const char *id)
{
    const uint64_t keep = AIS_SNODE_MAINTENANCE | AIS_SNODE_DECOMMISSION;
    if (old != NULL) {
        return old->flags & keep;
    }
    for (size_t i = 0; i < g->nflag_memo; i++) {
        if (strcmp(g->flag_memo[i].id, id) == 0) {
            uint64_t f = g->flag_memo[i].flags;
            g->flag_memo[i] = g->flag_memo[--g->nflag_memo];
            return f & keep;
        }
    }
    return 0;
}

static int
op_join(void *ctx, const struct ais_snode *node, struct ais_smap **smap, struct ais_bmd **bmd,
        struct rpc_err *err)
{
    struct gw *g = ctx;
    struct gw_msync_ticket t;
    if (gw_memb_join_refused(g, node->id, err->msg, sizeof(err->msg))) {
        return -EPERM;
    }
    if (gw_change_lock(g) != 0) {
        snprintf(err->msg, sizeof(err->msg), "%s is not the primary", g->self.id);
        return AIS_ENOTPRIMARY;
    }
    seen_touch(g, node->id);
    struct ais_smap *cur = ais_meta_smap(&g->meta);
    const struct ais_snode *old = ais_smap_find(cur, node->id);
    /* A node restarted in maintenance (or being decommissioned) stays so: the primary owns
     * those flags, not the joiner. */
    struct ais_snode joined = *node;
    joined.flags |= flag_recall(g, old, node->id);
    int rc = 0;
    if (old == NULL || memcmp(old, &joined, sizeof(joined)) != 0) {
        struct ais_smap *next = ais_smap_clone(cur);
        rc = next ? ais_smap_put_node(next, &joined) : -ENOMEM;
        if (rc == 0) {
            next->version = cur->version + 1;
            AIS_LOG_INFO("req=join node=%s role=%s smap_version=%lld", node->id,
                         node->is_target ? "target" : "proxy", (long long)next->version);
            rc = gw_msync_commit(g->msync, next, NULL, 0, &t);
            next = NULL;
        }
        ais_smap_unref(next);
    }
    ais_smap_unref(cur);
    struct ais_smap *s = ais_meta_smap(&g->meta);
    struct ais_bmd *b = ais_meta_bmd(&g->meta);
    pthread_mutex_unlock(&g->change_mu);
    if (rc != 0) {
        ais_smap_unref(s);
        ais_bmd_unref(b);
        snprintf(err->msg, sizeof(err->msg), "cannot add %s: %s", node->id, ais_strerror(rc));
        return rc;
    }
    gw_msync_node_vers(g->msync, node->id, s->version, b->version, "join");
    *smap = s;
    *bmd = b;
    return 0;
}

static int
op_keepalive(void *ctx, const char *id, int64_t smap_ver, int64_t bmd_ver, struct ais_smap **smap,
             struct ais_bmd **bmd, struct rpc_err *err)
{
    struct gw *g = ctx;
    if (!gw_is_primary(g)) {
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
    gw_msync_node_vers(g->msync, id, smap_ver, bmd_ver, "keepalive");
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

/* Non-primary gateways: install what the primary pushed and ack the versions now held. A
 * push naming this gateway the primary promotes it before the ack (set-primary). */
static int
op_metasync(void *ctx, struct ais_smap *smap, struct ais_bmd *bmd, struct rpc_meta_ack *ack,
            struct rpc_err *err)
{
    struct gw *g = ctx;
    struct ais_meta_vers v;
    if (ais_meta_apply(&g->meta, smap, bmd, &v) & 1) {
        gw_elect_on_metasync(g);
    }
    ack->smap_version = v.smap;
    ack->bmd_version = v.bmd;
    return 0;
}

static int
op_bck_action(void *ctx, const char *action, const char *provider, const char *ns, const char *bck,
              const char *value_json, struct rpc_err *err)
{
    struct gw *g = ctx;
    if (strcmp(action, "set-primary") == 0) { /* forwarded by another gateway */
        return gw_set_primary(g, bck, err->msg, sizeof(err->msg));
    }
    json_t *v = (value_json && value_json[0]) ? json_loads(value_json, 0, NULL) : NULL;
    int rc = gw_bck_change(g, action, provider, ns, bck, v, err->msg, sizeof(err->msg));
    json_decref(v);
    return rc;
}

static json_t *
op_query(void *ctx, const char *what)
{
    if (ais_log_is_query(what)) {
        return ais_log_query_json(what); /* /v1/reverse/daemon?what=log via a gateway */
    }
    return gw_query_json(ctx, what);
}

static int
op_config_set(void *ctx, const char *const *names, const char *const *values, size_t n,
              struct rpc_err *err)
{
    struct gw *g = ctx;
    return ais_config_set_many(g->cfg, names, values, n, err->msg, sizeof(err->msg));
}

static int
op_xact_stop(void *ctx, const char *id, const char *kind, struct rpc_err *err)
{
    struct gw *g = ctx;
    (void)xa_abort(g->xreg, &(struct xa_filter){.id = id, .kind = kind});
    return 0;
}

static const struct rpc_ops gw_rpc_ops = {
    .node_shutdown = gw_memb_op_shutdown,
    .vote = gw_elect_op_vote,
    .xact_stop = op_xact_stop,
    .join = op_join,
    .keepalive = op_keepalive,
    .metasync = op_metasync,
    .bck_action = op_bck_action,
    .query = op_query,
    .config_set = op_config_set,
};

/* Silence after which a node is evicted: the configured keepalive timeout, but never fewer
 * than AIS_KEEPALIVE_MISSES_MAX missed intervals. */
static int64_t
evict_after_ns(const struct gw *g)
{
    int64_t t = g->cfg->keepalive_timeout_ms;
    int64_t misses = AIS_KEEPALIVE_MISSES_MAX * g->cfg->keepalive_interval_ms;
    return (t > misses ? t : misses) * 1000000;
}

/* Removes the given nodes that are still silent (a heartbeat may have come in meanwhile). */
static void
evict(struct gw *g, char (*ids)[AIS_DAEMON_ID_BYTES_MAX], size_t n)
{
    int64_t limit = evict_after_ns(g);
    struct gw_msync_ticket t;
    if (gw_change_lock(g) != 0) {
        return; /* no longer the primary */
    }
    struct ais_smap *cur = ais_meta_smap(&g->meta);
    struct ais_smap *next = ais_smap_clone(cur);
    size_t removed = 0;
    for (size_t i = 0; next != NULL && i < n; i++) {
        int64_t silent = ais_mono_ns() - seen_last(g, ids[i]);
        if (silent > limit) {
            flag_memo(g, ais_smap_find(cur, ids[i]));
        }
        if (silent > limit && ais_smap_del_node(next, ids[i]) == 0) {
            AIS_LOG_WARN("req=keepalive node=%s msg=\"no heartbeat for %lldms, removing\"", ids[i],
                         (long long)(silent / 1000000));
            removed++;
        }
    }
    if (removed > 0) {
        next->version = cur->version + 1;
        if (gw_msync_commit(g->msync, next, NULL, GW_MSYNC_FORCE, &t) != 0) {
            AIS_LOG_WARN("req=keepalive msg=\"eviction not committed (stopping)\"");
        }
        next = NULL;
    }
    ais_smap_unref(next);
    ais_smap_unref(cur);
    pthread_mutex_unlock(&g->change_mu);
}

/*
 * One tracker pass: finds silent nodes without any lock but seen_mu, then evicts them.
 * *last_run is the previous pass; a pass that comes later than the eviction limit means the
 * primary itself stalled, so every node's clock restarts instead.
 */
static void
track_once(struct gw *g, int64_t *last_run)
{
    int64_t now = ais_mono_ns(), limit = evict_after_ns(g);
    int stalled = *last_run != 0 && now - *last_run > limit;
    *last_run = now;
    struct ais_smap *cur = ais_meta_smap(&g->meta);
    char(*ids)[AIS_DAEMON_ID_BYTES_MAX] = calloc(cur->nnodes ? cur->nnodes : 1, sizeof(*ids));
    size_t n = 0;
    for (size_t i = 0; ids != NULL && i < cur->nnodes; i++) {
        const struct ais_snode *node = &cur->nodes[i];
        if (strcmp(node->id, g->self.id) == 0) {
            continue;
        }
        int64_t last = seen_last(g, node->id);
        if (last == 0 || stalled) {
            seen_touch(g, node->id); /* known from a persisted Smap, or we stalled */
        } else if (now - last > limit) {
            snprintf(ids[n++], sizeof(ids[0]), "%s", node->id);
        }
    }
    ais_smap_unref(cur);
    if (n > 0) {
        evict(g, ids, n);
    }
    free(ids);
}

static void *
tracker_main(void *arg)
{
    struct gw *g = arg;
    int64_t last_run = 0;
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
        if (!gw_is_primary(g)) {
            last_run = 0; /* idle until this gateway is the primary (gateway/election.c) */
            continue;
        }
        track_once(g, &last_run);
    }
}

static int
tracker_start(struct gw *g)
{
    if (pthread_create(&g->tracker, NULL, tracker_main, g) != 0) {
        AIS_LOG_ERR("req=start msg=\"cannot start the keepalive tracker\"");
        return -EAGAIN;
    }
    g->tracker_started = 1;
    return 0;
}

/*
 * Settles the initial role before the servers start: a gateway that config names the primary
 * first asks the nodes of its persisted Smap whether another one acts as the primary (an old
 * primary restarted after an election joins the new one as a non-primary). The primary's
 * member thread stays idle. *primary: 1 when this gateway starts as the primary. 0 or errno.
 */
static int
gw_start_role(struct gw *g, int *primary)
{
    char me[128];
    int64_t min_smap = 0, min_bmd = -1;
    ais_snode_ctrl_url(&g->self, me, sizeof(me));
    *primary = strcmp(me, g->cfg->primary_url) == 0 && gw_elect_startup(g, &min_smap, &min_bmd);
    if (!*primary) {
        return 0;
    }
    struct rpc_member *m = NULL;
    int rc = rpc_member_start_idle(g->cfg, &g->self, &g->meta, &m);
    __atomic_store_n(&g->member, m, __ATOMIC_RELEASE);
    rc = rc ? rc : gw_role_promote(g, min_smap, min_bmd, NULL);
    if (rc != 0) {
        AIS_LOG_ERR("req=start msg=\"cannot act as the primary\" err=\"%s\"", ais_strerror(rc));
    }
    return rc;
}

static void
gw_free(struct gw *g)
{
    gw_elect_stop(g); /* no role changes from now on; wakes HTTP handlers waiting for acks */
    ais_http_stop(g->http);
    ais_statsd_stop(g->statsd);
    pthread_mutex_lock(&g->stop_mu);
    g->stopping = 1;
    pthread_cond_broadcast(&g->stop_cv);
    pthread_mutex_unlock(&g->stop_mu);
    if (g->tracker_started) {
        pthread_join(g->tracker, NULL);
    }
    rpc_server_stop(g->rpc);
    rpc_member_stop(__atomic_exchange_n(&g->member, NULL, __ATOMIC_ACQ_REL));
    xa_reg_free(g->xreg); /* after the servers: no request can start a job now */
    gw_lsess_tab_free(g->lsess);
    gw_dl_free(g->dl); /* after the jobs (xa_reg_free): none updates a record now */
    bk_free(g->bk);
    /* After the HTTP server: no /s3 request runs now. */
    s3_srv_free(g->s3);
    gw_msync_free(g->msync); /* after the jobs and servers: nothing can commit or wait now */
    gw_elect_free(g);
    ais_meta_fini(&g->meta);
    pthread_mutex_destroy(&g->change_mu);
    pthread_mutex_destroy(&g->seen_mu);
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
    pthread_mutex_init(&g->stop_mu, NULL);
    pthread_cond_init(&g->stop_cv, NULL);
    ais_stats_init(&g->stats);
    int rc = ais_node_self_init(cfg, &g->self);
    if (rc == 0) {
        ais_log_node_set(g->self.id); /* every later line names this node */
    }
    rc = rc ? rc : xa_reg_new(g->self.id, &g->xreg);
    rc = rc ? rc : ais_statsd_start(cfg, &g->stats, g->self.id, 0, &g->statsd);
    rc = rc ? rc : gw_lsess_tab_new(&g->lsess);
    rc = rc ? rc : gw_dl_new(&g->dl);
    if (rc == 0) {
        struct bk_conf bc;
        bk_conf_load(&bc); /* start-up: the environment the AWS SDKs read */
        bc.meta = &g->meta;
        rc = bk_new(&bc, &g->bk);
    }
    gw_s3_ops_init(g, &g->s3_ops);
    rc = rc ? rc : s3_srv_new(cfg, &g->s3_ops, g->self.id, &g->s3);
    rc = rc ? rc : ais_meta_init(&g->meta, cfg->confdir);
    rc = rc ? rc : gw_msync_new(g, &g->msync);
    rc = rc ? rc : gw_elect_new(g);
    int primary = 0;
    rc = rc ? rc : gw_start_role(g, &primary);
    rc = rc ? rc
            : rpc_node_listen(g->cfg, &g->self, &gw_rpc_ops, gw_http_handler, g, &g->rpc, &g->http);
    if (rc == 0 && !primary) {
        struct rpc_member *m = NULL;
        rc = rpc_member_start(cfg, &g->self, &g->meta, &m);
        __atomic_store_n(&g->member, m, __ATOMIC_RELEASE);
    }
    rc = rc ? rc : tracker_start(g);
    rc = rc ? rc : gw_elect_start(g);
    if (rc == 0) {
        AIS_LOG_INFO("req=start role=gateway id=%s primary=%d port=%u", g->self.id,
                     gw_is_primary(g), (unsigned)cfg->port);
        __atomic_store_n(&g->ready, 1, __ATOMIC_RELEASE);
        while (!*stop && !__atomic_load_n(&g->leaving, __ATOMIC_ACQUIRE)) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
        AIS_LOG_INFO("req=stop id=%s", g->self.id);
    }
    gw_free(g);
    return rc;
}
