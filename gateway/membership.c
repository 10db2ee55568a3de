/*
 * Design notes: node maintenance, decommission and shutdown on the primary (api.md §5.3).
 * Every change is a Smap flag change or removal built under change_mu and published with
 * gw_msync_commit + gw_msync_wait, the path bucket changes take. Flagging a target
 * MAINTENANCE or DECOMMISSION takes it out of HRW (ais_smap_hrw_target, reb_dest), so every
 * target starts rebalance "g<version>" and the flagged node streams all its objects to their
 * new owners while it keeps serving reads and heartbeats; the answer body is that id.
 *
 * decommission-node answers at once and runs the rest as a gateway job (kind "decommission"):
 * it polls the leaving node's own rebalance (what=xactions on that node: it is the one that
 * must have sent everything) until the newest g<N>, N >= the flagging version, finished
 * without error, then removes the node for good and tells it to exit. shutdown-node removes
 * the node at once (the others rebalance as for a dead node) and tells it to exit.
 *
 * A removed node that still heartbeats would be told "not in the Smap" and rejoin, so the id
 * goes into a refused-joins table before the removal; the node stops heartbeating before it
 * answers the shutdown RPC. A shut-down id is released right after that answer (it may come
 * back with a restart); a decommissioned one stays refused for AIS_DECOMMISSION_HOLD_MS so it
 * never rejoins by itself. The table lives in memory only: a restarted primary forgets it.
 *
 * Only the primary changes the Smap: another gateway answers 307 to the primary's URL.
 */
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "gateway/fanout.h"
#include "gateway/gw_int.h"
#include "gateway/metasync.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MEMB_KIND "decommission"

/* One parsed request: ActMsg action and the ActValRmNode fields we use. */
struct memb_req {
    const char *action;
    char sid[AIS_DAEMON_ID_BYTES_MAX];
    int skip_reb;
};

/* ---- refused joins (under change_mu) ---- */

static void
refused_set(struct gw *g, const char *id, int64_t hold_ms)
{
    int64_t until = ais_mono_ns() + hold_ms * 1000000;
    size_t i = 0, oldest = 0;
    while (i < g->nrefused && strcmp(g->refused[i].id, id) != 0) {
        oldest = g->refused[i].until_ns < g->refused[oldest].until_ns ? i : oldest;
        i++;
    }
    if (i == g->nrefused && g->nrefused < AIS_JOIN_REFUSED_MAX) {
        g->nrefused++;
    } else if (i == g->nrefused) {
        i = oldest;
    }
    snprintf(g->refused[i].id, sizeof(g->refused[i].id), "%s", id);
    g->refused[i].until_ns = until;
}

static void
refused_clear(struct gw *g, const char *id)
{
    for (size_t i = 0; i < g->nrefused; i++) {
        if (strcmp(g->refused[i].id, id) == 0) {
            g->refused[i] = g->refused[--g->nrefused];
            return;
        }
    }
}

int
gw_memb_join_refused(struct gw *g, const char *id, char *msg, size_t cap)
{
    int64_t now = ais_mono_ns(), left_ms = 0;
    pthread_mutex_lock(&g->change_mu);
    for (size_t i = 0; i < g->nrefused; i++) {
        if (strcmp(g->refused[i].id, id) == 0 && g->refused[i].until_ns > now) {
            left_ms = (g->refused[i].until_ns - now) / 1000000 + 1;
        }
    }
    pthread_mutex_unlock(&g->change_mu);
    if (left_ms > 0) {
        snprintf(msg, cap,
                 "node %s was removed from the cluster (decommissioned or shutting down);"
                 " joins refused for another %llds",
                 id, (long long)(left_ms + 999) / 1000);
        AIS_LOG_DBG("req=join node=%s msg=\"refused: removed\"", id);
    }
    return left_ms > 0;
}

/* ---- Smap changes ---- */

/*
 * Sets/clears flags of node sid (set_flags/clear_flags), or removes it (rm), in a new Smap
 * version, and waits for every node's ack. refuse_ms > 0: the id's joins are refused from the
 * same critical section on. *ver = the version committed (0 when nothing changed).
 */
static int
smap_change(struct gw *g, const char *sid, uint64_t set_flags, uint64_t clear_flags, int rm,
            int64_t refuse_ms, int64_t *ver, char *msg, size_t cap)
{
    struct gw_msync_ticket t;
    if (gw_change_lock(g) != 0) {
        snprintf(msg, cap, "%s is no longer the primary", g->self.id);
        return AIS_ENOTPRIMARY;
    }
    struct ais_smap *cur = ais_meta_smap(&g->meta);
    const struct ais_snode *n = ais_smap_find(cur, sid);
    struct ais_smap *next = n ? ais_smap_clone(cur) : NULL;
    int rc = n == NULL ? -ENOENT : next == NULL ? -ENOMEM : 0;
    if (rc == 0 && rm) {
        rc = ais_smap_del_node(next, sid);
    } else if (rc == 0) {
        struct ais_snode copy = *n;
        copy.flags = (copy.flags | set_flags) & ~clear_flags;
        rc = ais_smap_put_node(next, &copy);
    }
    if (rc == 0 && refuse_ms > 0) {
        refused_set(g, sid, refuse_ms);
    }
    if (rc == 0) {
        next->version = cur->version + 1;
        rc = gw_msync_commit(g->msync, next, NULL, 0, &t);
        next = NULL;
    }
    ais_smap_unref(next);
    ais_smap_unref(cur);
    pthread_mutex_unlock(&g->change_mu);
    if (rc != 0) {
        snprintf(msg, cap, "node %s: cannot change the cluster map: %s", sid, ais_strerror(rc));
        return rc;
    }
    *ver = t.smap_version;
    AIS_LOG_INFO("req=membership node=%s set=%llu clear=%llu rm=%d smap_version=%lld", sid,
                 (unsigned long long)set_flags, (unsigned long long)clear_flags, rm,
                 (long long)t.smap_version);
    return gw_msync_wait(g->msync, &t, msg, cap);
}

/* Removes sid (refusing its joins meanwhile) and tells it to exit. */
static int
node_remove(struct gw *g, const struct ais_snode *node, int decommission, int64_t *ver, char *msg,
            size_t cap)
{
    char url[128];
    struct rpc_err err = {0};
    int64_t hold = decommission ? AIS_DECOMMISSION_HOLD_MS : AIS_SHUTDOWN_HOLD_MS;
    int rc = smap_change(g, node->id, 0, 0, 1, hold, ver, msg, cap);
    if (rc != 0 && rc != -EAGAIN && rc != -ETIMEDOUT) {
        return rc; /* not removed (a slow ack is not a reason to keep the node running) */
    }
    ais_snode_ctrl_url(node, url, sizeof(url));
    rc = rpc_node_shutdown(url, (int)g->cfg->rpc_timeout_ms, node->id, decommission, &err);
    if (rc != 0) {
        snprintf(msg, cap,
                 "node %s removed from the cluster map but did not confirm the shutdown: %s",
                 node->id, err.msg[0] ? err.msg : ais_strerror(rc));
        AIS_LOG_WARN("req=membership node=%s msg=\"%s\"", node->id, msg);
        return rc;
    }
    if (!decommission) {
        pthread_mutex_lock(&g->change_mu);
        refused_clear(g, node->id); /* it stopped heartbeating: a restart may rejoin */
        pthread_mutex_unlock(&g->change_mu);
    }
    return 0;
}

/* ---- the decommission job ---- */

struct decomm {
    struct gw *g;
    struct ais_snode node;
    int64_t min_ver; /* wait for the node's rebalance g<N>, N >= min_ver; 0 = none started */
    int wait_reb;
};

enum reb_seen { REB_NONE, REB_RUNNING, REB_DONE, REB_FAILED };

/* The node's newest rebalance with version >= min_ver, from its job registry. */
static enum reb_seen
node_reb_state(struct decomm *d, char *why, size_t cap)
{
    char url[128], *text = NULL;
    struct rpc_err err = {0};
    ais_snode_ctrl_url(&d->node, url, sizeof(url));
    if (rpc_query(url, (int)d->g->cfg->rpc_timeout_ms, "xactions", &text, &err) != 0) {
        return REB_RUNNING; /* unreachable for now: keep polling (eviction ends the wait) */
    }
    json_t *arr = json_loads(text, 0, NULL);
    free(text);
    struct xa_snap best = {0}, s;
    long long best_ver = -1;
    size_t k;
    json_t *e;
    json_array_foreach(arr, k, e)
    {
        long long v = -1;
        if (xa_snap_from_json(e, &s) == 0 && strcmp(s.kind, "rebalance") == 0 &&
            sscanf(s.id, "g%lld", &v) == 1 && v >= d->min_ver && v > best_ver) {
            best = s;
            best_ver = v;
        }
    }
    json_decref(arr);
    if (best_ver < 0) {
        return REB_NONE;
    }
    snprintf(why, cap, "rebalance %s on %s: %s%s%.300s", best.id, d->node.id,
             xa_state_name(best.state), best.err[0] ? ": " : "", best.err);
    if (best.state == XA_RUNNING) {
        return REB_RUNNING;
    }
    return best.state == XA_FINISHED && best.err[0] == '\0' ? REB_DONE : REB_FAILED;
}

static int
node_in_smap(struct gw *g, const char *id)
{
    struct ais_smap *s = ais_meta_smap(&g->meta);
    int in = ais_smap_find(s, id) != NULL;
    ais_smap_unref(s);
    return in;
}

/*
 * Polls until the node's rebalance finished. A failed or aborted one is retried a few polls
 * (a newer Smap supersedes a rebalance: its successor shows up right after the abort).
 */
static int
wait_node_reb(struct decomm *d, struct xa_job *job, char *why, size_t cap)
{
    int64_t start = ais_mono_ns();
    int failed = 0;
    for (;;) {
        int64_t waited_ms = (ais_mono_ns() - start) / 1000000;
        if (xa_job_aborted(job)) {
            return -ECANCELED;
        }
        if (!node_in_smap(d->g, d->node.id)) {
            snprintf(why, cap, "node %s left the cluster map during the rebalance", d->node.id);
            return -ENOENT;
        }
        enum reb_seen st = node_reb_state(d, why, cap);
        failed = st == REB_FAILED ? failed + 1 : 0;
        if (st == REB_DONE || (st == REB_NONE && d->min_ver == 0)) {
            return 0;
        }
        if (failed >= 3) {
            return -EIO;
        }
        if (st == REB_NONE && waited_ms > AIS_MEMB_REB_START_MS) {
            snprintf(why, cap, "no rebalance g%lld started on %s (rebalance.enabled=false?)",
                     (long long)d->min_ver, d->node.id);
            return -ETIMEDOUT;
        }
        if (waited_ms > AIS_MEMB_REB_WAIT_MS) {
            return -ETIMEDOUT;
        }
        struct timespec ts = {0, AIS_MEMB_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static int
decomm_run(struct xa_job *job, void *arg)
{
    struct decomm *d = arg;
    char why[512] = "";
    int64_t ver = 0;
    int rc = d->wait_reb ? wait_node_reb(d, job, why, sizeof(why)) : 0;
    if (rc == 0 && !xa_job_aborted(job)) {
        rc = node_remove(d->g, &d->node, 1, &ver, why, sizeof(why));
    }
    if (rc != 0) {
        AIS_LOG_WARN("req=decommission node=%s err=\"%s\" msg=\"%s\"", d->node.id, ais_strerror(rc),
                     why);
        xa_job_set_err(job, why[0] ? why : ais_strerror(rc));
    } else {
        AIS_LOG_INFO("req=decommission node=%s msg=\"removed for good\" smap_version=%lld",
                     d->node.id, (long long)ver);
    }
    return rc;
}

/* ---- request handling ---- */

struct xstop_slot {
    char id[XA_ID_BYTES];
};

static void
xstop_node(struct gw *g, const struct ais_snode *n, void *slot)
{
    struct xstop_slot *s = slot;
    char url[128];
    struct rpc_err err = {0};
    ais_snode_ctrl_url(n, url, sizeof(url));
    if (rpc_xact_stop(url, (int)g->cfg->rpc_timeout_ms, s->id, "rebalance", &err) != 0) {
        AIS_LOG_WARN("req=membership node=%s msg=\"cannot stop %s: %s\"", n->id, s->id, err.msg);
    }
}

/* skip_rebalance: the targets started g<ver> on the flag change; stop it everywhere. */
static void
reb_skip(struct gw *g, int64_t ver)
{
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    size_t nt = ais_smap_count(smap, 1);
    struct xstop_slot *slots = calloc(nt ? nt : 1, sizeof(*slots));
    for (size_t i = 0; slots != NULL && i < nt; i++) {
        snprintf(slots[i].id, sizeof(slots[i].id), "g%lld", (long long)ver);
    }
    if (slots != NULL) {
        gw_fanout(g, smap, 1, xstop_node, slots, sizeof(*slots));
    }
    free(slots);
    ais_smap_unref(smap);
}

static int
active_target(const struct ais_snode *n)
{
    return n->is_target && !(n->flags & (AIS_SNODE_MAINTENANCE | AIS_SNODE_DECOMMISSION));
}

/* 1 when n is the only active target left (its objects would have nowhere to go). */
static int
last_active_target(const struct ais_smap *s, const struct ais_snode *n)
{
    for (size_t i = 0; i < s->nnodes; i++) {
        if (active_target(&s->nodes[i]) && strcmp(s->nodes[i].id, n->id) != 0) {
            return 0;
        }
    }
    return active_target(n);
}

/* Answers the rebalance id a change of n's activity started ("" when none did). */
static void
reply_ver(struct ais_req *r, int moved, int64_t ver)
{
    char id[32] = "";
    if (moved && ver > 0) {
        snprintf(id, sizeof(id), "g%lld", (long long)ver);
    }
    ais_resp_buf(r, 200, "text/plain", id, strlen(id));
}

/* start-maintenance / stop-maintenance: one flag, set or cleared. */
static void
do_maintenance(struct gw *g, struct ais_req *r, const struct memb_req *q, const struct ais_snode *n)
{
    char msg[512] = "";
    int64_t ver = 0;
    int start = strcmp(q->action, "start-maintenance") == 0;
    int in_maint = (n->flags & AIS_SNODE_MAINTENANCE) != 0;
    if (!start && (n->flags & AIS_SNODE_DECOMMISSION)) {
        ais_resp_err(r, 409, "node %s is being decommissioned", n->id);
        return;
    }
    if (start == in_maint) {
        reply_ver(r, 0, 0); /* already so: idempotent, no rebalance */
        return;
    }
    int moves = n->is_target && (start ? active_target(n) : !(n->flags & AIS_SNODE_DECOMMISSION));
    int rc = smap_change(g, n->id, start ? AIS_SNODE_MAINTENANCE : 0,
                         start ? 0 : AIS_SNODE_MAINTENANCE, 0, 0, &ver, msg, sizeof(msg));
    if (rc == 0 && moves && q->skip_reb) {
        reb_skip(g, ver);
        moves = 0;
    }
    if (rc != 0) {
        ais_resp_err(r, ais_http_status(rc), "%s: %s", q->action, msg);
        return;
    }
    reply_ver(r, moves, ver);
}

static void
do_decommission(struct gw *g, struct ais_req *r, const struct memb_req *q,
                const struct ais_snode *n)
{
    char msg[512] = "", jid[XA_ID_BYTES];
    int64_t ver = 0;
    int moves = active_target(n) && !q->skip_reb;
    struct decomm *d = calloc(1, sizeof(*d));
    int rc = d ? 0 : -ENOMEM;
    if (rc == 0 && !(n->flags & AIS_SNODE_DECOMMISSION)) {
        rc = smap_change(g, n->id, AIS_SNODE_DECOMMISSION, 0, 0, 0, &ver, msg, sizeof(msg));
    }
    if (rc == 0) {
        *d = (struct decomm){.g = g, .node = *n, .min_ver = moves ? ver : 0};
        d->wait_reb = n->is_target && !q->skip_reb;
        rc = xa_job_start(g->xreg, MEMB_KIND, NULL, decomm_run, d, free, jid);
        d = NULL;
        snprintf(msg, sizeof(msg), "cannot start the decommission job");
    }
    free(d);
    if (rc != 0) {
        ais_resp_err(r, ais_http_status(rc), "%s: %s", q->action, msg);
        return;
    }
    AIS_LOG_INFO("req=decommission node=%s job=%s smap_version=%lld", n->id, jid, (long long)ver);
    reply_ver(r, moves, ver);
}

static void
do_shutdown(struct gw *g, struct ais_req *r, const struct memb_req *q, const struct ais_snode *n)
{
    char msg[512] = "";
    int64_t ver = 0;
    int rc = node_remove(g, n, 0, &ver, msg, sizeof(msg));
    if (rc != 0) {
        ais_resp_err(r, ais_http_status(rc), "%s: %s", q->action, msg);
        return;
    }
    reply_ver(r, active_target(n), ver);
}

/* Parses the ActMsg: 0, or responds 400 and returns -EINVAL. */
static int
memb_parse(struct ais_req *r, json_t *body, struct memb_req *q)
{
    q->action = ais_json_str(body, "action", "");
    const json_t *v = ais_json_get_ci(body, "value");
    const char *sid = ais_json_str(v, "sid", "");
    if (sid[0] == '\0' || strlen(sid) >= sizeof(q->sid)) {
        ais_resp_err(r, 400, "%s: value must name the node: {\"sid\":\"<daemon id>\"}", q->action);
        return -EINVAL;
    }
    snprintf(q->sid, sizeof(q->sid), "%s", sid);
    q->skip_reb = json_is_true(ais_json_get_ci(v, "skip_rebalance"));
    return 0;
}

/* A non-primary gateway sends the client to the primary (the only Smap writer). */
static void
redirect_primary(struct gw *g, struct ais_req *r, const struct ais_smap *s)
{
    const struct ais_snode *p = ais_smap_find(s, s->primary_id);
    char base[128], loc[256];
    if (p == NULL) {
        ais_resp_err(r, 503, "no primary gateway in the cluster map of %s", g->self.id);
        return;
    }
    ais_snode_url(p, base, sizeof(base));
    snprintf(loc, sizeof(loc), "%s/v1/cluster", base);
    ais_resp_redirect(r, loc);
}

static void
memb_dispatch(struct gw *g, struct ais_req *r, const struct memb_req *q, const struct ais_smap *s)
{
    const struct ais_snode *n = ais_smap_find(s, q->sid);
    int maint = strstr(q->action, "maintenance") != NULL;
    int decomm = strcmp(q->action, "decommission-node") == 0;
    if (n == NULL) {
        ais_resp_err(r, 404, "node \"%s\" does not exist (not in the cluster map)", q->sid);
    } else if (strcmp(n->id, s->primary_id) == 0 || strcmp(n->id, g->self.id) == 0) {
        ais_resp_err(r, 400,
                     "%s: %s is the primary gateway; move the primary first "
                     "(PUT /v1/cluster/proxy/<new primary id>)",
                     q->action, n->id);
    } else if (!q->skip_reb && (strcmp(q->action, "start-maintenance") == 0 || decomm) &&
               last_active_target(s, n)) {
        ais_resp_err(r, 409, "%s: %s is the last active target; its objects have nowhere to go",
                     q->action, n->id);
    } else if (maint) {
        do_maintenance(g, r, q, n);
    } else if (decomm) {
        do_decommission(g, r, q, n);
    } else {
        do_shutdown(g, r, q, n);
    }
}

void
gw_h_node_action(struct gw *g, struct ais_req *r)
{
    json_t *body = NULL;
    struct memb_req q;
    (void)ais_req_body_json(r, &body);
    if (memb_parse(r, body, &q) == 0) {
        struct ais_smap *s = ais_meta_smap(&g->meta);
        if (!gw_is_primary(g)) {
            redirect_primary(g, r, s);
        } else {
            memb_dispatch(g, r, &q, s);
        }
        ais_smap_unref(s);
    }
    json_decref(body);
}

/* A non-primary gateway told to leave: stop heartbeating, then let gw_run return. */
int
gw_memb_op_shutdown(void *ctx, const char *sid, int decommission, struct rpc_err *err)
{
    struct gw *g = ctx;
    if (gw_is_primary(g) || strcmp(sid, g->self.id) != 0) {
        snprintf(err->msg, sizeof(err->msg), "shutdown of %s refused by %s%s", sid, g->self.id,
                 gw_is_primary(g) ? " (the primary)" : "");
        return -EINVAL;
    }
    AIS_LOG_INFO("req=node-shutdown id=%s decommission=%d", g->self.id, decommission);
    rpc_member_stop(__atomic_exchange_n(&g->member, NULL, __ATOMIC_ACQ_REL));
    __atomic_store_n(&g->leaving, 1, __ATOMIC_RELEASE);
    return 0;
}
