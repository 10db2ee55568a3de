/*
 * Design notes: a single thread per node does joins and heartbeats, so there is never more
 * than one outstanding call to the primary. When the primary answers a heartbeat with
 * -ENOENT it has dropped us (we were presumed dead): we join again with the same identity.
 * Shutdown is a flag plus a condition variable, so stop never waits a whole interval.
 *
 * The primary is whoever the current Smap names (primary_id); config's primary_url is only
 * the first guess of a node that has no map yet. The member also holds this node's election
 * state: since when keepalives to the current primary fail (the start of the first failed
 * call, so a dead peer's RPC timeout is not added to the detection time) and which candidate
 * it voted for at which Smap version (one vote per version: two candidates of the same map
 * can never both gather a majority). A node that cannot find its primary (a join that fails,
 * a "not the primary" answer) probes the nodes of its map and follows the acting primary.
 * A gateway that acts as the primary keeps its member thread, idle, so the vote state and the
 * pointer stay valid across role changes.
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
    int idle;                               /* the gateway is the primary: no heartbeats */
    int kick;                               /* heartbeat now (just resumed) */
    char fail_pid[AIS_DAEMON_ID_BYTES_MAX]; /* the primary whose keepalives fail */
    int64_t fail_since_ns;                  /* start of the first failed keepalive; 0 = ok */
    char voted_for[AIS_DAEMON_ID_BYTES_MAX];
    int64_t voted_ver;
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

/* Sleeps up to ms unless stopped or kicked; returns 1 when stopping. */
static int
wait_ms(struct rpc_member *m, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + (ms % 1000) * 1000000;
    ts.tv_sec += ms / 1000 + ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    pthread_mutex_lock(&m->mu);
    while (!m->stop && !m->kick && pthread_cond_timedwait(&m->cv, &m->mu, &ts) == 0) {
    }
    m->kick = 0;
    int stop = m->stop;
    pthread_mutex_unlock(&m->mu);
    return stop;
}

static void
note_keepalive(struct rpc_member *m, const char *pid, int ok, int64_t started_ns)
{
    pthread_mutex_lock(&m->mu);
    if (ok) {
        m->fail_since_ns = 0;
    } else if (m->fail_since_ns == 0 || strcmp(m->fail_pid, pid) != 0) {
        snprintf(m->fail_pid, sizeof(m->fail_pid), "%s", pid);
        m->fail_since_ns = started_ns;
    }
    pthread_mutex_unlock(&m->mu);
}

static void
heartbeat(struct rpc_member *m)
{
    char url[256], pid[AIS_DAEMON_ID_BYTES_MAX];
    struct ais_smap *cur = ais_meta_smap(m->meta), *smap = NULL;
    struct ais_bmd *curb = ais_meta_bmd(m->meta), *bmd = NULL;
    struct rpc_err err = {0};
    snprintf(pid, sizeof(pid), "%s", cur->primary_id);
    rpc_member_primary_url(m, url, sizeof(url));
    int64_t started = ais_mono_ns();
    int rc = rpc_keepalive(url, (int)m->cfg->rpc_timeout_ms, m->self.id, cur->version,
                           curb->version, &smap, &bmd, &err);
    ais_smap_unref(cur);
    ais_bmd_unref(curb);
    note_keepalive(m, pid, rc == 0 || rc == -ENOENT, started);
    if (rc == 0) {
        (void)ais_meta_apply(m->meta, smap, bmd, NULL);
    } else if (rc == -ENOENT) {
        AIS_LOG_WARN("req=keepalive primary=%s msg=\"dropped from the cluster, rejoining\"", url);
        (void)join_once(m);
    } else if (rc == AIS_ENOTPRIMARY) {
        /* Alive but not (or no longer) the primary: follow whoever is. */
        AIS_LOG_INFO("req=keepalive primary=%s msg=\"not the primary, looking for it\"", url);
        (void)rpc_member_discover(m->cfg, &m->self, m->meta, m->cfg->keepalive_interval_ms, NULL,
                                  NULL);
    } else {
        AIS_LOG_WARN("req=keepalive primary=%s err=\"%s\"", url, err.msg);
    }
}

static void *
member_main(void *arg)
{
    struct rpc_member *m = arg;
    while (!wait_ms(m, m->cfg->keepalive_interval_ms)) {
        pthread_mutex_lock(&m->mu);
        int idle = m->idle;
        pthread_mutex_unlock(&m->mu);
        if (!idle) {
            heartbeat(m);
        }
    }
    return NULL;
}

static struct rpc_member *
member_new(const struct ais_config *cfg, const struct ais_snode *self, struct ais_meta *meta)
{
    struct rpc_member *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return NULL;
    }
    m->cfg = cfg;
    m->self = *self;
    m->meta = meta;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    return m;
}

/* Joins, bounded by the startup deadline: one attempt per ~200 ms; after every few failed
 * ones, looks for the acting primary among the nodes of the map (it may have moved). */
static int
join_until_deadline(struct rpc_member *m)
{
    int64_t deadline = ais_mono_ns() + m->cfg->startup_timeout_ms * 1000000;
    int rc;
    for (unsigned attempt = 1; (rc = join_once(m)) != 0 && ais_mono_ns() < deadline; attempt++) {
        if (attempt % 5 == 0) {
            (void)rpc_member_discover(m->cfg, &m->self, m->meta, m->cfg->rpc_timeout_ms, NULL,
                                      NULL);
            continue;
        }
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return rc;
}

static int
member_start(const struct ais_config *cfg, const struct ais_snode *self, struct ais_meta *meta,
             int idle, struct rpc_member **out)
{
    struct rpc_member *m = member_new(cfg, self, meta);
    if (m == NULL) {
        return -ENOMEM;
    }
    m->idle = idle;
    int rc = idle ? 0 : join_until_deadline(m);
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
rpc_member_start(const struct ais_config *cfg, const struct ais_snode *self, struct ais_meta *meta,
                 struct rpc_member **out)
{
    return member_start(cfg, self, meta, 0, out);
}

int
rpc_member_start_idle(const struct ais_config *cfg, const struct ais_snode *self,
                      struct ais_meta *meta, struct rpc_member **out)
{
    return member_start(cfg, self, meta, 1, out);
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
        .max_conns = (unsigned)cfg->http_max_conns,
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

void
rpc_member_set_idle(struct rpc_member *m, int idle)
{
    if (m == NULL) {
        return;
    }
    pthread_mutex_lock(&m->mu);
    m->idle = idle;
    m->fail_since_ns = 0;
    m->kick = !idle;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

int64_t
rpc_member_primary_down_ms(struct rpc_member *m, const char *primary_id)
{
    if (m == NULL) {
        return 0;
    }
    int64_t down = 0;
    pthread_mutex_lock(&m->mu);
    if (!m->idle && m->fail_since_ns != 0 && strcmp(m->fail_pid, primary_id) == 0) {
        down = (ais_mono_ns() - m->fail_since_ns) / 1000000;
        down = down > 0 ? down : 1;
    }
    pthread_mutex_unlock(&m->mu);
    return down;
}

/* One probe of a node: 0 and *out filled (out->smap: a reference the caller drops). */
static int
probe_node(const struct ais_snode *n, int64_t timeout_ms, struct rpc_vote *out)
{
    char url[128];
    struct rpc_err err = {0};
    struct rpc_vote_req q = {.candidate_id = "", .primary_id = "", .smap_version = 0};
    ais_snode_ctrl_url(n, url, sizeof(url));
    return rpc_vote(url, (int)timeout_ms, &q, out, &err);
}

/* Whether primary_id is dead for this node: its own keepalives fail, or it does not answer a
 * short probe as the acting primary. */
static int
primary_dead_here(struct rpc_member *m, const char *primary_id)
{
    if (rpc_member_primary_down_ms(m, primary_id) > 0) {
        return 1;
    }
    struct ais_smap *s = ais_meta_smap(m->meta);
    const struct ais_snode *p = ais_smap_find(s, primary_id);
    struct ais_snode copy;
    int known = p != NULL;
    if (known) {
        copy = *p;
    }
    ais_smap_unref(s);
    if (!known) {
        return 1;
    }
    struct rpc_vote pr;
    memset(&pr, 0, sizeof(pr));
    int rc = probe_node(&copy, AIS_ELECT_PROBE_MS, &pr);
    ais_smap_unref(pr.smap);
    return !(rc == 0 && pr.is_primary);
}

/* Why this node refuses the candidate (why[0] == 0: it does not). With record, the vote is
 * remembered. */
static void
vote_check(struct rpc_member *m, const struct rpc_vote_req *q, int record, char *why, size_t cap)
{
    why[0] = '\0';
    struct ais_smap *s = ais_meta_smap(m->meta);
    if (s->version > q->smap_version && strcmp(s->primary_id, q->primary_id) != 0) {
        snprintf(why, cap, "Smap v%lld already names primary %s", (long long)s->version,
                 s->primary_id);
    }
    ais_smap_unref(s);
    pthread_mutex_lock(&m->mu);
    if (why[0] == '\0' && m->voted_for[0] != '\0' && strcmp(m->voted_for, q->candidate_id) != 0 &&
        m->voted_ver >= q->smap_version) {
        snprintf(why, cap, "voted for %s at Smap v%lld", m->voted_for, (long long)m->voted_ver);
    }
    if (why[0] == '\0' && record) {
        snprintf(m->voted_for, sizeof(m->voted_for), "%s", q->candidate_id);
        m->voted_ver = q->smap_version;
    }
    pthread_mutex_unlock(&m->mu);
}

void
rpc_member_vote(struct rpc_member *m, struct ais_meta *meta, const struct rpc_vote_req *q,
                struct rpc_vote *out)
{
    struct ais_meta_vers v;
    ais_meta_vers(meta, &v);
    out->yes = 0;
    out->smap_version = v.smap;
    out->bmd_version = v.bmd;
    out->reason[0] = '\0';
    if (q->candidate_id == NULL || q->candidate_id[0] == '\0') {
        out->smap = ais_meta_smap(meta);
        return;
    }
    if (m == NULL) {
        snprintf(out->reason, sizeof(out->reason), "not a cluster member yet");
        return;
    }
    vote_check(m, q, 0, out->reason, sizeof(out->reason));
    if (out->reason[0] == '\0' && !primary_dead_here(m, q->primary_id)) {
        snprintf(out->reason, sizeof(out->reason), "primary %s answers", q->primary_id);
    }
    if (out->reason[0] == '\0') {
        vote_check(m, q, 1, out->reason, sizeof(out->reason)); /* a vote may have raced */
    }
    out->yes = out->reason[0] == '\0';
    AIS_LOG_INFO("req=vote candidate=%s primary=%s smap_version=%lld yes=%d reason=\"%s\"",
                 q->candidate_id, q->primary_id, (long long)q->smap_version, out->yes, out->reason);
}

int
rpc_member_discover(const struct ais_config *cfg, const struct ais_snode *self,
                    struct ais_meta *meta, int64_t budget_ms, int64_t *max_smap, int64_t *max_bmd)
{
    (void)cfg;
    struct ais_meta_vers v;
    ais_meta_vers(meta, &v);
    struct ais_smap *s = ais_meta_smap(meta), *best = NULL;
    int64_t deadline = ais_mono_ns() + budget_ms * 1000000;
    /* Gateways first (pass 0): only a gateway can be the primary, so a slow or dead target
     * never uses up the budget before the primary was asked. */
    for (size_t k = 0; k < 2 * s->nnodes; k++) {
        size_t i = k % s->nnodes;
        int64_t left_ms = (deadline - ais_mono_ns()) / 1000000;
        if (left_ms <= 0) {
            break;
        }
        if (strcmp(s->nodes[i].id, self->id) == 0 || s->nodes[i].is_target != (k >= s->nnodes)) {
            continue;
        }
        struct rpc_vote pr;
        memset(&pr, 0, sizeof(pr));
        if (probe_node(&s->nodes[i], left_ms < AIS_ELECT_PROBE_MS ? left_ms : AIS_ELECT_PROBE_MS,
                       &pr) != 0) {
            continue;
        }
        v.smap = pr.smap_version > v.smap ? pr.smap_version : v.smap;
        v.bmd = pr.bmd_version > v.bmd ? pr.bmd_version : v.bmd;
        if (pr.is_primary && pr.smap != NULL && strcmp(pr.smap->primary_id, self->id) != 0 &&
            (best == NULL || pr.smap->version > best->version)) {
            ais_smap_unref(best);
            best = pr.smap;
            pr.smap = NULL;
        }
        ais_smap_unref(pr.smap);
    }
    ais_smap_unref(s);
    int found = best != NULL;
    if (found) {
        AIS_LOG_INFO("req=discover primary=%s smap_version=%lld", best->primary_id,
                     (long long)best->version);
        (void)ais_meta_apply(meta, best, NULL, NULL);
    }
    if (max_smap != NULL) {
        *max_smap = v.smap;
    }
    if (max_bmd != NULL) {
        *max_bmd = v.bmd;
    }
    return found;
}
