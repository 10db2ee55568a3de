/*
 * Design notes: a single thread per node does joins and heartbeats, so there is never more
 * than one outstanding call to the primary. When the primary answers a heartbeat with
 * -ENOENT it has dropped us (we were presumed dead): we join again with the same identity.
 * Shutdown is a flag plus a condition variable, so stop never waits a whole interval.
 */
#include "rpc/member.h"

#include "common/assert.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "rpc/rpc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rpc_member {
    const struct ais_config *cfg;
    struct ais_snode self;
    struct ais_meta *meta;
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

void
rpc_member_primary_url(struct rpc_member *m, char *out, size_t cap)
{
    struct ais_smap *s = ais_meta_smap(m->meta);
    const struct ais_snode *p = ais_smap_find(s, s->primary_id);
    if (p != NULL && strcmp(p->id, m->self.id) != 0) {
        ais_snode_ctrl_url(p, out, cap);
    } else {
        snprintf(out, cap, "%s", m->cfg->primary_url);
    }
    ais_smap_unref(s);
}

static int
join_once(struct rpc_member *m)
{
    char url[256];
    struct ais_smap *smap = NULL;
    struct ais_bmd *bmd = NULL;
    struct rpc_err err = {0};
    rpc_member_primary_url(m, url, sizeof(url));
    int rc = rpc_join(url, (int)m->cfg->rpc_timeout_ms, &m->self, &smap, &bmd, &err);
    if (rc != 0) {
        AIS_LOG_DBG("req=join primary=%s err=\"%s\"", url, err.msg);
        return rc;
    }
    AIS_LOG_INFO("req=join primary=%s smap_version=%lld", url, (long long)smap->version);
    (void)ais_meta_apply(m->meta, smap, bmd, NULL);
    return 0;
}

/* Sleeps up to ms unless stopped; returns 1 when stopping. */
static int
wait_ms(struct rpc_member *m, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + (ms % 1000) * 1000000;
    ts.tv_sec += ms / 1000 + ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    pthread_mutex_lock(&m->mu);
    while (!m->stop && pthread_cond_timedwait(&m->cv, &m->mu, &ts) == 0) {
    }
    int stop = m->stop;
    pthread_mutex_unlock(&m->mu);
    return stop;
}

static void
heartbeat(struct rpc_member *m)
{
    char url[256];
    struct ais_smap *cur = ais_meta_smap(m->meta), *smap = NULL;
    struct ais_bmd *curb = ais_meta_bmd(m->meta), *bmd = NULL;
    struct rpc_err err = {0};
    rpc_member_primary_url(m, url, sizeof(url));
    int rc = rpc_keepalive(url, (int)m->cfg->rpc_timeout_ms, m->self.id, cur->version,
                           curb->version, &smap, &bmd, &err);
    ais_smap_unref(cur);
    ais_bmd_unref(curb);
    if (rc == 0) {
        (void)ais_meta_apply(m->meta, smap, bmd, NULL);
    } else if (rc == -ENOENT) {
        AIS_LOG_WARN("req=keepalive primary=%s msg=\"dropped from the cluster, rejoining\"", url);
        (void)join_once(m);
    } else {
        AIS_LOG_WARN("req=keepalive primary=%s err=\"%s\"", url, err.msg);
    }
}

static void *
member_main(void *arg)
{
    struct rpc_member *m = arg;
    while (!wait_ms(m, m->cfg->keepalive_interval_ms)) {
        heartbeat(m);
    }
    return NULL;
}

int
rpc_member_start(const struct ais_config *cfg, const struct ais_snode *self, struct ais_meta *meta,
                 struct rpc_member **out)
{
    struct rpc_member *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return -ENOMEM;
    }
    m->cfg = cfg;
    m->self = *self;
    m->meta = meta;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    int64_t deadline = ais_mono_ns() + cfg->startup_timeout_ms * 1000000;
    int rc;
    /* Bounded: one attempt per ~200 ms until the startup deadline. */
    while ((rc = join_once(m)) != 0 && ais_mono_ns() < deadline) {
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (rc == 0 && pthread_create(&m->th, NULL, member_main, m) != 0) {
        rc = -ENOMEM;
    }
    if (rc != 0) {
        rpc_member_stop(m);
        return rc;
    }
    m->started = 1;
    *out = m;
    return 0;
}

int
rpc_node_listen(const struct ais_config *cfg, const struct ais_snode *self,
                const struct rpc_ops *ops, ais_http_handler_fn handler, void *ctx,
                struct rpc_server **rpc, struct ais_http **http)
{
    char url[128];
    ais_snode_ctrl_url(self, url, sizeof(url));
    struct rpc_server_opts so;
    static_assert(RPC_CLASS_COUNT == sizeof(cfg->rpc_workers) / sizeof(cfg->rpc_workers[0]),
                  "one rpc.workers knob per class");
    for (int i = 0; i < RPC_CLASS_COUNT; i++) {
        so.workers[i] = (unsigned)cfg->rpc_workers[i];
    }
    int rc = rpc_server_start(url, &so, ops, ctx, rpc);
    if (rc != 0) {
        AIS_LOG_ERR("req=start msg=\"cannot listen\" url=%s err=\"%s\"", url, ais_strerror(rc));
        return rc;
    }
    struct ais_http_opts ho = {
        .host = self->host,
        .port = self->port,
        .node_id = self->id,
        .handler = handler,
        .ctx = ctx,
    };
    rc = ais_http_start(&ho, http);
    if (rc != 0) {
        AIS_LOG_ERR("req=start msg=\"cannot listen\" port=%u err=\"%s\"", (unsigned)self->port,
                    ais_strerror(rc));
        rpc_server_stop(*rpc);
        *rpc = NULL;
    }
    return rc;
}

void
rpc_member_stop(struct rpc_member *m)
{
    if (m == NULL) {
        return;
    }
    pthread_mutex_lock(&m->mu);
    m->stop = 1;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    if (m->started) {
        pthread_join(m->th, NULL);
    }
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    free(m);
}
