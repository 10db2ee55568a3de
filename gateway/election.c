/*
 * Design notes: every gateway computes the same candidate from the same Smap (max id_digest
 * among the electable gateways, the dead primary skipped, api.md §8), so no coordination is
 * needed to pick one. The k-th gateway in that order steps in only after (k+1) keepalive
 * timeouts without a primary, so a dead candidate delays the election instead of stalling it.
 *
 * At most one new primary acts: the candidate needs "yes" votes from a majority of the Smap's
 * nodes other than the dead primary (itself included), and every node votes for at most one
 * candidate per Smap version (rpc/member.c). The winner publishes a Smap and a BMD newer than
 * any voter reported, so every node installs them (versions only move forward) and a change
 * that a dead primary pushed to only some nodes (never acknowledged to its client) cannot
 * shadow the winner's maps.
 *
 * Role changes (promote, demote) are serialised by role_mu and happen under change_mu for the
 * flag itself: a change is committed only by a gateway that is the primary while it holds
 * change_mu (gw_change_lock), so a former primary never commits after handing over. The
 * metasync object and the member live as long as the gateway (stopped/idle, never freed on a
 * role change), so handlers never see them freed.
 */
#include "gateway/election.h"

#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "gateway/fanout.h"
#include "gateway/metasync.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ELECT_UNFIT (AIS_SNODE_NONELECTABLE | AIS_SNODE_MAINTENANCE | AIS_SNODE_DECOMMISSION)

struct gw_elect {
    pthread_mutex_t role_mu; /* serialises promote/demote and the metasync start/stop */
    pthread_mutex_t mu;      /* stop, kick */
    pthread_cond_t cv;
    int stop, kick;
    pthread_t th;
    int started;
};

/* ---- candidate choice (pure) ---- */

static int
electable(const struct ais_snode *n)
{
    return !n->is_target && (n->flags & ELECT_UNFIT) == 0;
}

/* a ranks before b in the candidate order. */
static int
ranks_before(const struct ais_snode *a, const struct ais_snode *b)
{
    if (a->id_digest != b->id_digest) {
        return a->id_digest > b->id_digest;
    }
    return strcmp(a->id, b->id) > 0;
}

static int
skipped(const char *id, const char *const *skip, size_t nskip)
{
    for (size_t i = 0; i < nskip; i++) {
        if (skip[i] != NULL && strcmp(skip[i], id) == 0) {
            return 1;
        }
    }
    return 0;
}

const struct ais_snode *
gw_elect_candidate(const struct ais_smap *s, const char *const *skip, size_t nskip)
{
    const struct ais_snode *best = NULL;
    for (size_t i = 0; i < s->nnodes; i++) {
        const struct ais_snode *n = &s->nodes[i];
        if (electable(n) && !skipped(n->id, skip, nskip) &&
            (best == NULL || ranks_before(n, best))) {
            best = n;
        }
    }
    return best;
}

int
gw_elect_rank(const struct ais_smap *s, const char *skip_id, const char *self_id)
{
    const struct ais_snode *me = ais_smap_find(s, self_id);
    if (me == NULL || !electable(me) || (skip_id != NULL && strcmp(skip_id, self_id) == 0)) {
        return -1;
    }
    int rank = 0;
    for (size_t i = 0; i < s->nnodes; i++) {
        const struct ais_snode *n = &s->nodes[i];
        if (electable(n) && (skip_id == NULL || strcmp(n->id, skip_id) != 0) &&
            ranks_before(n, me)) {
            rank++;
        }
    }
    return rank;
}

/* ---- role changes ---- */

/* The member is stored once at startup by gw_run while RPC handlers may already run. */
static struct rpc_member *
member_of(struct gw *g)
{
    return __atomic_load_n(&g->member, __ATOMIC_ACQUIRE);
}

/* The Smap (and BMD) a new primary publishes, or both NULL when the current ones will do. */
static int
promote_maps(struct gw *g, int64_t min_smap, int64_t min_bmd, const char *drop_id,
             struct ais_smap **smap, struct ais_bmd **bmd)
{
    struct ais_smap *cur = ais_meta_smap(&g->meta);
    struct ais_bmd *curb = ais_meta_bmd(&g->meta);
    int drop = drop_id != NULL && ais_smap_find(cur, drop_id) != NULL;
    const struct ais_snode *me = ais_smap_find(cur, g->self.id);
    int moved = me == NULL || memcmp(me, &g->self, sizeof(g->self)) != 0;
    int rc = 0;
    if (drop || moved || strcmp(cur->primary_id, g->self.id) != 0 || min_smap > cur->version) {
        *smap = ais_smap_clone(cur);
        rc = *smap ? ais_smap_put_node(*smap, &g->self) : -ENOMEM;
        if (rc == 0) {
            if (drop) {
                (void)ais_smap_del_node(*smap, drop_id);
            }
            snprintf((*smap)->primary_id, sizeof((*smap)->primary_id), "%s", g->self.id);
            (*smap)->version = (min_smap > cur->version ? min_smap : cur->version) + 1;
        }
    }
    if (rc == 0 && min_bmd > curb->version) {
        *bmd = ais_bmd_clone(curb);
        rc = *bmd ? 0 : -ENOMEM;
        if (rc == 0) {
            (*bmd)->version = min_bmd + 1;
        }
    }
    ais_smap_unref(cur);
    ais_bmd_unref(curb);
    return rc;
}

int
gw_role_promote(struct gw *g, int64_t min_smap, int64_t min_bmd, const char *drop_id)
{
    struct gw_msync_ticket t;
    struct ais_smap *smap = NULL;
    struct ais_bmd *bmd = NULL;
    pthread_mutex_lock(&g->elect->role_mu);
    int rc = gw_is_primary(g) ? 0 : gw_msync_resume(g->msync);
    if (rc != 0 || gw_is_primary(g)) {
        pthread_mutex_unlock(&g->elect->role_mu);
        return rc;
    }
    rpc_member_set_idle(member_of(g), 1);
    gw_seen_reset(g);
    pthread_mutex_lock(&g->change_mu);
    rc = promote_maps(g, min_smap, min_bmd, drop_id, &smap, &bmd);
    if (rc == 0) {
        __atomic_store_n(&g->is_primary, 1, __ATOMIC_RELEASE);
    }
    if (rc == 0 && (smap != NULL || bmd != NULL)) {
        rc = gw_msync_commit(g->msync, smap, bmd, GW_MSYNC_FORCE, &t);
        smap = NULL;
        bmd = NULL;
    }
    pthread_mutex_unlock(&g->change_mu);
    ais_smap_unref(smap);
    ais_bmd_unref(bmd);
    if (rc != 0) {
        __atomic_store_n(&g->is_primary, 0, __ATOMIC_RELEASE);
        gw_msync_stop(g->msync);
        rpc_member_set_idle(member_of(g), 0);
    }
    pthread_mutex_unlock(&g->elect->role_mu);
    struct ais_meta_vers v;
    ais_meta_vers(&g->meta, &v);
    AIS_LOG_INFO("req=elect id=%s msg=\"%s\" smap_version=%lld bmd_version=%lld err=\"%s\"",
                 g->self.id, rc ? "promotion failed" : "acting as the primary", (long long)v.smap,
                 (long long)v.bmd, rc ? ais_strerror(rc) : "");
    return rc;
}

/* Stops acting as the primary: no more commits, metasync stopped, heartbeats resume. The
 * caller holds role_mu. */
static void
demote_locked(struct gw *g)
{
    pthread_mutex_lock(&g->change_mu);
    int was = gw_is_primary(g);
    __atomic_store_n(&g->is_primary, 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&g->change_mu);
    gw_msync_stop(g->msync);
    rpc_member_set_idle(member_of(g), 0);
    if (was) {
        struct ais_smap *s = ais_meta_smap(&g->meta);
        AIS_LOG_INFO("req=elect id=%s msg=\"no longer the primary\" primary=%s smap_version=%lld",
                     g->self.id, s->primary_id, (long long)s->version);
        ais_smap_unref(s);
    }
}

static void
elect_kick(struct gw *g)
{
    pthread_mutex_lock(&g->elect->mu);
    g->elect->kick = 1;
    pthread_cond_broadcast(&g->elect->cv);
    pthread_mutex_unlock(&g->elect->mu);
}

void
gw_elect_on_metasync(struct gw *g)
{
    struct ais_smap *s = ais_meta_smap(&g->meta);
    int named = strcmp(s->primary_id, g->self.id) == 0;
    ais_smap_unref(s);
    if (member_of(g) == NULL) {
        return; /* still joining: the role is settled once gw_run stored the member */
    }
    if (named && !gw_is_primary(g)) {
        (void)gw_role_promote(g, 0, 0, NULL); /* the primary handed over (set-primary) */
    } else if (!named && gw_is_primary(g)) {
        elect_kick(g);
    }
}

int
gw_elect_op_vote(void *ctx, const struct rpc_vote_req *q, struct rpc_vote *out, struct rpc_err *err)
{
    struct gw *g = ctx;
    (void)err;
    out->is_primary = gw_is_primary(g);
    if (out->is_primary && q->candidate_id != NULL && q->candidate_id[0] != '\0') {
        struct ais_meta_vers v;
        ais_meta_vers(&g->meta, &v);
        out->yes = 0;
        out->smap_version = v.smap;
        out->bmd_version = v.bmd;
        snprintf(out->reason, sizeof(out->reason), "%s is the acting primary", g->self.id);
        return 0;
    }
    rpc_member_vote(member_of(g), &g->meta, q, out);
    return 0;
}

/* ---- the election ---- */

struct vote_slot {
    const struct rpc_vote_req *q;
    int rc;
    struct rpc_vote v;
};

static void
vote_node(struct gw *g, const struct ais_snode *n, void *slot)
{
    struct vote_slot *s = slot;
    char url[128];
    struct rpc_err err = {0};
    ais_snode_ctrl_url(n, url, sizeof(url));
    s->rc = rpc_vote(url, (int)g->cfg->rpc_timeout_ms, s->q, &s->v, &err);
    ais_smap_unref(s->v.smap);
    s->v.smap = NULL;
}

/* Asks every node but self and the dead primary; counts yes votes (self's included). */
static size_t
collect_votes(struct gw *g, const struct ais_smap *s, const struct rpc_vote_req *q,
              int64_t *max_smap, int64_t *max_bmd)
{
    struct ais_snode *nodes = calloc(s->nnodes ? s->nnodes : 1, sizeof(*nodes));
    struct vote_slot *slots = calloc(s->nnodes ? s->nnodes : 1, sizeof(*slots));
    size_t k = 0, yes = 1;
    for (size_t i = 0; nodes && slots && i < s->nnodes; i++) {
        if (strcmp(s->nodes[i].id, g->self.id) != 0 && strcmp(s->nodes[i].id, q->primary_id) != 0) {
            slots[k].q = q;
            nodes[k++] = s->nodes[i];
        }
    }
    struct ais_smap view;
    memset(&view, 0, sizeof(view));
    view.nnodes = k;
    view.nodes = nodes;
    size_t called = k ? gw_fanout(g, &view, 0, vote_node, slots, sizeof(*slots)) : 0;
    for (size_t i = 0; i < called; i++) {
        if (slots[i].rc != 0) {
            AIS_LOG_WARN("req=elect node=%s err=\"%s\"", nodes[i].id, ais_strerror(slots[i].rc));
            continue;
        }
        yes += slots[i].v.yes ? 1 : 0;
        *max_smap = slots[i].v.smap_version > *max_smap ? slots[i].v.smap_version : *max_smap;
        *max_bmd = slots[i].v.bmd_version > *max_bmd ? slots[i].v.bmd_version : *max_bmd;
        if (!slots[i].v.yes) {
            AIS_LOG_INFO("req=elect node=%s vote=no reason=\"%s\"", nodes[i].id, slots[i].v.reason);
        }
    }
    free(nodes);
    free(slots);
    return yes;
}

static void
elect_run(struct gw *g, const struct ais_smap *s)
{
    struct rpc_vote_req q = {
        .candidate_id = g->self.id, .primary_id = s->primary_id, .smap_version = s->version};
    struct rpc_vote mine;
    memset(&mine, 0, sizeof(mine));
    rpc_member_vote(member_of(g), &g->meta, &q, &mine);
    if (!mine.yes) {
        AIS_LOG_INFO("req=elect msg=\"not standing\" reason=\"%s\"", mine.reason);
        return;
    }
    int64_t max_smap = mine.smap_version, max_bmd = mine.bmd_version;
    size_t electorate = s->nnodes - (ais_smap_find(s, s->primary_id) != NULL ? 1 : 0);
    size_t need = electorate / 2 + 1;
    AIS_LOG_INFO("req=elect candidate=%s primary=%s smap_version=%lld need=%zu", g->self.id,
                 s->primary_id, (long long)s->version, need);
    size_t yes = collect_votes(g, s, &q, &max_smap, &max_bmd);
    if (yes < need) {
        AIS_LOG_WARN("req=elect candidate=%s msg=\"no majority\" yes=%zu need=%zu", g->self.id, yes,
                     need);
        return;
    }
    (void)gw_role_promote(g, max_smap, max_bmd, s->primary_id);
}

/* One pass of the role thread: demote when a newer map names another primary; stand for
 * election when the primary has been silent long enough for our rank. */
static void
role_pass(struct gw *g)
{
    struct ais_smap *s = ais_meta_smap(&g->meta);
    if (gw_is_primary(g)) {
        if (strcmp(s->primary_id, g->self.id) != 0) {
            pthread_mutex_lock(&g->elect->role_mu);
            demote_locked(g);
            pthread_mutex_unlock(&g->elect->role_mu);
        }
        ais_smap_unref(s);
        return;
    }
    int64_t down = s->primary_id[0] ? rpc_member_primary_down_ms(member_of(g), s->primary_id) : 0;
    int rank = gw_elect_rank(s, s->primary_id, g->self.id);
    if (rank >= 0 && down > 0 && down >= g->cfg->keepalive_timeout_ms * (1 + rank)) {
        elect_run(g, s);
    }
    ais_smap_unref(s);
}

/* Waits one keepalive interval (or a kick); 1 when stopping. */
static int
role_wait(struct gw_elect *e, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = ts.tv_nsec + (ms % 1000) * 1000000;
    ts.tv_sec += ms / 1000 + ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    pthread_mutex_lock(&e->mu);
    while (!e->stop && !e->kick && pthread_cond_timedwait(&e->cv, &e->mu, &ts) == 0) {
    }
    e->kick = 0;
    int stop = e->stop;
    pthread_mutex_unlock(&e->mu);
    return stop;
}

static void *
role_main(void *arg)
{
    struct gw *g = arg;
    while (!role_wait(g->elect, g->cfg->keepalive_interval_ms)) {
        role_pass(g);
    }
    return NULL;
}

int
gw_elect_new(struct gw *g)
{
    struct gw_elect *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        return -ENOMEM;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&e->role_mu, NULL);
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, &ca);
    pthread_condattr_destroy(&ca);
    g->elect = e;
    return 0;
}

int
gw_elect_start(struct gw *g)
{
    if (pthread_create(&g->elect->th, NULL, role_main, g) != 0) {
        AIS_LOG_ERR("req=start msg=\"cannot start the role thread\"");
        return -EAGAIN;
    }
    g->elect->started = 1;
    return 0;
}

void
gw_elect_stop(struct gw *g)
{
    struct gw_elect *e = g->elect;
    if (e == NULL) {
        gw_msync_stop(g->msync);
        return;
    }
    pthread_mutex_lock(&e->mu);
    e->stop = 1;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    if (e->started) {
        pthread_join(e->th, NULL);
    }
    pthread_mutex_lock(&e->role_mu); /* a set-primary in flight finishes its hand-over */
    gw_msync_stop(g->msync);
    pthread_mutex_unlock(&e->role_mu);
}

void
gw_elect_free(struct gw *g)
{
    struct gw_elect *e = g->elect;
    if (e == NULL) {
        return;
    }
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    pthread_mutex_destroy(&e->role_mu);
    free(e);
    g->elect = NULL;
}

int
gw_elect_startup(struct gw *g, int64_t *min_smap, int64_t *min_bmd)
{
    struct ais_smap *s = ais_meta_smap(&g->meta);
    size_t n = s->nnodes;
    ais_smap_unref(s);
    if (n <= 1) {
        *min_smap = 0;
        *min_bmd = -1;
        return 1; /* a fresh cluster */
    }
    /* A wrong "nobody is primary" here makes two primaries: give the probes time. */
    int found = rpc_member_discover(g->cfg, &g->self, &g->meta, 2 * g->cfg->rpc_timeout_ms,
                                    min_smap, min_bmd);
    if (found) {
        s = ais_meta_smap(&g->meta);
        AIS_LOG_INFO("req=start msg=\"another gateway is the primary, joining it\" primary=%s "
                     "smap_version=%lld",
                     s->primary_id, (long long)s->version);
        ais_smap_unref(s);
        return 0;
    }
    return 1;
}

/* ---- set-primary and forwarding to the primary ---- */

/* Checks that id names an electable gateway of the current Smap that answers a probe. */
static int
handover_check(struct gw *g, const char *id, struct ais_snode *out, char *msg, size_t cap)
{
    struct ais_smap *s = ais_meta_smap(&g->meta);
    const struct ais_snode *n = ais_smap_find(s, id);
    int rc = 0;
    if (n == NULL) {
        rc = -ENOENT;
        snprintf(msg, cap, "node \"%s\" is not in the cluster map", id);
    } else if (!electable(n)) {
        rc = -EINVAL;
        snprintf(msg, cap, "node \"%s\" cannot be the primary (%s)", id,
                 n->is_target ? "a target" : "non-electable, in maintenance or decommissioned");
    } else {
        *out = *n;
    }
    ais_smap_unref(s);
    if (rc != 0) {
        return rc;
    }
    char url[128];
    struct rpc_err err = {0};
    struct rpc_vote pr;
    struct rpc_vote_req q = {.candidate_id = "", .primary_id = "", .smap_version = 0};
    memset(&pr, 0, sizeof(pr));
    ais_snode_ctrl_url(out, url, sizeof(url));
    rc = rpc_vote(url, AIS_ELECT_PROBE_MS, &q, &pr, &err);
    ais_smap_unref(pr.smap);
    if (rc != 0) {
        snprintf(msg, cap, "gateway \"%s\" does not answer: %s", id, ais_strerror(rc));
        return -EHOSTUNREACH;
    }
    return 0;
}

/* On the primary: pushes a Smap naming id, waits for the acks, then demotes itself. */
static int
handover(struct gw *g, const char *id, char *msg, size_t cap)
{
    struct gw_msync_ticket t;
    struct ais_snode to;
    int rc = handover_check(g, id, &to, msg, cap);
    if (rc != 0) {
        return rc;
    }
    pthread_mutex_lock(&g->elect->role_mu);
    rc = gw_change_lock(g);
    if (rc != 0) {
        pthread_mutex_unlock(&g->elect->role_mu);
        return rc;
    }
    struct ais_smap *cur = ais_meta_smap(&g->meta);
    struct ais_smap *next = ais_smap_clone(cur);
    rc = next ? 0 : -ENOMEM;
    if (rc == 0) {
        snprintf(next->primary_id, sizeof(next->primary_id), "%s", id);
        next->version = cur->version + 1;
        __atomic_store_n(&g->is_primary, 0, __ATOMIC_RELEASE); /* no commits after this one */
        rc = gw_msync_commit(g->msync, next, NULL, GW_MSYNC_FORCE, &t);
    }
    ais_smap_unref(cur);
    pthread_mutex_unlock(&g->change_mu);
    if (rc == 0 && gw_msync_wait(g->msync, &t, msg, cap) != 0) {
        AIS_LOG_WARN("req=set-primary primary=%s msg=\"%s\"", id, msg); /* keepalives catch up */
    }
    if (rc != 0) {
        __atomic_store_n(&g->is_primary, 1, __ATOMIC_RELEASE);
        snprintf(msg, cap, "set-primary %s: %s", id, ais_strerror(rc));
    } else {
        AIS_LOG_INFO("req=set-primary from=%s to=%s smap_version=%lld", g->self.id, id,
                     (long long)t.smap_version);
        demote_locked(g);
        msg[0] = '\0';
    }
    pthread_mutex_unlock(&g->elect->role_mu);
    return rc;
}

int
gw_set_primary(struct gw *g, const char *id, char *msg, size_t cap)
{
    if (strcmp(id, g->self.id) == 0 && gw_is_primary(g)) {
        return 0;
    }
    if (gw_is_primary(g)) {
        int rc = handover(g, id, msg, cap);
        if (rc != AIS_ENOTPRIMARY) {
            return rc;
        }
    }
    int64_t to_ms = gw_msync_wait_ms(g) + 2 * g->cfg->rpc_timeout_ms;
    return gw_primary_forward(g, "set-primary", "", "", id, "", to_ms, msg, cap);
}

static void
set_primary_done(struct ais_req *r, void *arg)
{
    struct gw *g = arg;
    char msg[1024] = "";
    const char *id = ais_req_path(r) + strlen("/v1/cluster/proxy/");
    if (id[0] == '\0' || strchr(id, '/') != NULL) {
        ais_resp_err(r, 400, "set-primary: expected /v1/cluster/proxy/<daemon id>");
        return;
    }
    int rc = gw_set_primary(g, id, msg, sizeof(msg));
    if (rc != 0) {
        ais_resp_err(r, rc == -EHOSTUNREACH ? 503 : ais_http_status(rc), "%s",
                     msg[0] ? msg : ais_strerror(rc));
        return;
    }
    ais_resp_empty(r, 200);
}

void
gw_h_set_primary(struct ais_req *r, void *ctx)
{
    ais_req_body_buffer(r, AIS_CTRL_BODY_BYTES_MAX, set_primary_done, ctx);
}

/* The primary of the current Smap if it answers a probe as the acting primary: 1 and url. */
static int
primary_acting(struct gw *g, char *url, size_t cap)
{
    struct ais_smap *s = ais_meta_smap(&g->meta);
    const struct ais_snode *p = ais_smap_find(s, s->primary_id);
    int ok = p != NULL;
    if (ok) {
        ais_snode_ctrl_url(p, url, cap);
    }
    ais_smap_unref(s);
    if (!ok) {
        return 0;
    }
    struct rpc_err err = {0};
    struct rpc_vote pr;
    struct rpc_vote_req q = {.candidate_id = "", .primary_id = "", .smap_version = 0};
    memset(&pr, 0, sizeof(pr));
    int rc = rpc_vote(url, AIS_ELECT_PROBE_MS, &q, &pr, &err);
    ais_smap_unref(pr.smap);
    return rc == 0 && pr.is_primary;
}

int
gw_primary_forward(struct gw *g, const char *action, const char *provider, const char *ns,
                   const char *bck, const char *value_json, int64_t timeout_ms, char *msg,
                   size_t cap)
{
    /* Room for an election: detection, one candidate after another, the vote. */
    int64_t wait_ms = 3 * g->cfg->keepalive_timeout_ms + 2 * g->cfg->rpc_timeout_ms;
    int64_t deadline = ais_mono_ns() + wait_ms * 1000000;
    char url[256];
    int rc = AIS_ENOTPRIMARY;
    snprintf(msg, cap, "no acting primary within %lld ms", (long long)wait_ms);
    for (unsigned i = 0; i < AIS_ELECT_FORWARD_TRIES_MAX && ais_mono_ns() < deadline; i++) {
        if (!primary_acting(g, url, sizeof(url))) {
            struct timespec ts = {0, AIS_ELECT_FORWARD_POLL_MS * 1000000L};
            nanosleep(&ts, NULL); /* the election runs on other threads and nodes */
            continue;
        }
        struct rpc_err err = {0};
        rc = rpc_bck_action(url, (int)timeout_ms, action, provider, ns, bck, value_json, &err);
        snprintf(msg, cap, "%s", err.msg);
        if (rc != AIS_ENOTPRIMARY) {
            break; /* done, or failed in a way that may have run it: never re-sent */
        }
    }
    return rc;
}
