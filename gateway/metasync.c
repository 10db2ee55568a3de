/*
 * Design notes: a change is two steps on two threads. The committing thread (HTTP handler,
 * join, tracker) installs the new version in memory under g->change_mu and bumps queued_seq;
 * the sender thread reads queued_seq, then the *current* metadata, so the pair it pushes is
 * at least as new as every change numbered up to that seq (install happens-before the seq
 * bump, and both are ordered by ms->mu): one push covers every queued change (coalescing).
 * After the push it sets done_seq and wakes the waiters, which judge success from the
 * per-node ack table, not from the push results, so acks that came from keepalives or joins
 * count too.
 *
 * The ack table is the only shared state besides the two sequence numbers, all under ms->mu,
 * which is never held across the network or disk. Persisting (fsync) is done by the sender
 * before each push, outside every lock. The table has one row per node id (bounded by
 * AIS_NODES_MAX; rows of nodes no longer in the Smap are reclaimed when it fills up).
 *
 * The sender runs only while this gateway is the primary: gw_msync_resume starts it (a new
 * term: the ack table starts empty), gw_msync_stop ends it when the role moves on; the object
 * itself lives as long as the gateway, so no reader ever sees it freed.
 *
 * A node whose push failed is re-pushed after AIS_METASYNC_RETRY_MS, at most
 * AIS_METASYNC_RETRIES_MAX times in a row; fresh changes always push to every node. A dead
 * node costs each round at most the RPC timeout, in parallel with the others.
 */
#include "gateway/metasync.h"

#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "gateway/fanout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ms_node {
    char id[AIS_DAEMON_ID_BYTES_MAX];
    int64_t smap_acked, bmd_acked; /* highest versions the node reported */
    int64_t ack_unix_ns;           /* wall time of the last report (0 = never) */
    int64_t ack_mono_ns;
    int retries; /* failed pushes since the last success */
    int last_rc;
    char last_err[sizeof(((struct rpc_err *)0)->msg)];
    const char *via; /* static: "push", "keepalive", "join" */
};

struct gw_msync {
    struct gw *g;
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* sender: a change was queued, or stop */
    pthread_cond_t done_cv; /* waiters: a round finished, or stop */
    uint64_t queued_seq, done_seq;
    int stopping;
    pthread_t th;
    int started;
    uint64_t rounds, pushes, push_errs;
    size_t n;
    struct ms_node nodes[AIS_NODES_MAX];
};

struct push_slot {
    const struct ais_smap *smap;
    const struct ais_bmd *bmd;
    int rc;
    struct rpc_meta_ack ack;
    struct rpc_err err;
};

static void
deadline_after(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    int64_t ns = ts->tv_nsec + (ms % 1000) * 1000000;
    ts->tv_sec += ms / 1000 + ns / 1000000000;
    ts->tv_nsec = ns % 1000000000;
}

/* Row of id; with create, a new zeroed row (reclaiming rows of departed nodes when full).
 * NULL when absent (or the table is full of current nodes). Caller holds ms->mu. */
static struct ms_node *
node_row(struct gw_msync *ms, const char *id, int create)
{
    for (size_t i = 0; i < ms->n; i++) {
        if (strcmp(ms->nodes[i].id, id) == 0) {
            return &ms->nodes[i];
        }
    }
    if (!create) {
        return NULL;
    }
    if (ms->n == AIS_NODES_MAX) {
        struct ais_smap *s = ais_meta_smap(&ms->g->meta);
        size_t k = 0;
        for (size_t i = 0; i < ms->n; i++) {
            if (ais_smap_find(s, ms->nodes[i].id) != NULL) {
                ms->nodes[k++] = ms->nodes[i];
            }
        }
        ms->n = k;
        ais_smap_unref(s);
    }
    if (ms->n == AIS_NODES_MAX) {
        return NULL;
    }
    struct ms_node *r = &ms->nodes[ms->n++];
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", id);
    r->via = "";
    return r;
}

static void
row_ack(struct ms_node *r, int64_t smap_v, int64_t bmd_v, const char *via)
{
    r->smap_acked = smap_v > r->smap_acked ? smap_v : r->smap_acked;
    r->bmd_acked = bmd_v > r->bmd_acked ? bmd_v : r->bmd_acked;
    r->ack_unix_ns = ais_now_ns();
    r->ack_mono_ns = ais_mono_ns();
    r->via = via;
}

static int
row_behind(const struct ms_node *r, const struct ais_meta_vers *v)
{
    return r->smap_acked < v->smap || r->bmd_acked < v->bmd;
}

static void
push_node(struct gw *g, const struct ais_snode *node, void *slot)
{
    struct push_slot *p = slot;
    char url[128];
    ais_snode_ctrl_url(node, url, sizeof(url));
    p->rc = rpc_metasync(url, (int)g->cfg->rpc_timeout_ms, p->smap, p->bmd, &p->ack, &p->err);
}

/* Nodes to push to: every node but the primary, or (retry) the failed ones still behind. */
static size_t
round_pick(struct gw_msync *ms, const struct ais_smap *s, const struct ais_meta_vers *v, int retry,
           struct ais_snode *out)
{
    size_t k = 0;
    pthread_mutex_lock(&ms->mu);
    for (size_t i = 0; i < s->nnodes; i++) {
        const struct ais_snode *n = &s->nodes[i];
        if (strcmp(n->id, ms->g->self.id) == 0) {
            continue;
        }
        const struct ms_node *r = node_row(ms, n->id, 0);
        if (retry && (r == NULL || r->retries == 0 || r->retries >= AIS_METASYNC_RETRIES_MAX ||
                      !row_behind(r, v))) {
            continue;
        }
        out[k++] = *n;
    }
    pthread_mutex_unlock(&ms->mu);
    return k;
}

static void
round_record(struct gw_msync *ms, const struct ais_snode *nodes, const struct push_slot *slots,
             size_t k)
{
    pthread_mutex_lock(&ms->mu);
    for (size_t i = 0; i < k; i++) {
        struct ms_node *r = node_row(ms, nodes[i].id, 1);
        const struct push_slot *p = &slots[i];
        ms->pushes++;
        if (p->rc != 0) {
            ms->push_errs++;
        }
        if (r == NULL) {
            continue;
        }
        if (p->rc == 0) {
            row_ack(r, p->ack.smap_version, p->ack.bmd_version, "push");
            r->retries = 0;
            r->last_rc = 0;
            r->last_err[0] = '\0';
            continue;
        }
        r->retries++;
        r->last_rc = p->rc;
        snprintf(r->last_err, sizeof(r->last_err), "%s",
                 p->err.msg[0] ? p->err.msg : ais_strerror(p->rc));
        AIS_LOG_WARN("req=metasync node=%s smap_version=%lld bmd_version=%lld retries=%d "
                     "err=\"%s\"",
                     r->id, (long long)p->smap->version, (long long)p->bmd->version, r->retries,
                     r->last_err);
    }
    pthread_mutex_unlock(&ms->mu);
}

/* One push of the current metadata (persisted first) to the picked nodes, in parallel. */
static void
ms_round(struct gw_msync *ms, int retry)
{
    struct gw *g = ms->g;
    (void)ais_meta_persist(&g->meta);
    struct ais_smap *s = ais_meta_smap(&g->meta);
    struct ais_bmd *b = ais_meta_bmd(&g->meta);
    struct ais_meta_vers v = {.smap = s->version, .bmd = b->version};
    struct ais_snode *picked = calloc(s->nnodes ? s->nnodes : 1, sizeof(*picked));
    struct push_slot *slots = calloc(s->nnodes ? s->nnodes : 1, sizeof(*slots));
    size_t k = (picked && slots) ? round_pick(ms, s, &v, retry, picked) : 0;
    for (size_t i = 0; i < k; i++) {
        slots[i] = (struct push_slot){.smap = s, .bmd = b};
    }
    if (k > 0) {
        /* A view of the picked nodes only (never a struct copy of a published map). */
        struct ais_smap view;
        memset(&view, 0, sizeof(view));
        view.nnodes = k;
        view.nodes = picked;
        size_t called = gw_fanout(g, &view, 0, push_node, slots, sizeof(*slots));
        round_record(ms, picked, slots, called);
    }
    free(picked);
    free(slots);
    ais_smap_unref(s);
    ais_bmd_unref(b);
}

/* Some node failed a push, is still behind and has retries left. Caller holds ms->mu. */
static int
laggards_pending(struct gw_msync *ms)
{
    struct ais_meta_vers v;
    ais_meta_vers(&ms->g->meta, &v);
    for (size_t i = 0; i < ms->n; i++) {
        const struct ms_node *r = &ms->nodes[i];
        if (r->retries > 0 && r->retries < AIS_METASYNC_RETRIES_MAX && row_behind(r, &v)) {
            return 1;
        }
    }
    return 0;
}

static void *
ms_main(void *arg)
{
    struct gw_msync *ms = arg;
    pthread_mutex_lock(&ms->mu);
    while (!ms->stopping) {
        if (ms->queued_seq > ms->done_seq) {
            uint64_t seq = ms->queued_seq;
            pthread_mutex_unlock(&ms->mu);
            ms_round(ms, 0);
            pthread_mutex_lock(&ms->mu);
            ms->done_seq = seq;
            ms->rounds++;
            pthread_cond_broadcast(&ms->done_cv);
            continue;
        }
        if (!laggards_pending(ms)) {
            pthread_cond_wait(&ms->work_cv, &ms->mu);
            continue;
        }
        struct timespec ts;
        deadline_after(&ts, AIS_METASYNC_RETRY_MS);
        while (!ms->stopping && ms->queued_seq == ms->done_seq &&
               pthread_cond_timedwait(&ms->work_cv, &ms->mu, &ts) == 0) {
        }
        if (!ms->stopping && ms->queued_seq == ms->done_seq) {
            pthread_mutex_unlock(&ms->mu);
            ms_round(ms, 1);
            pthread_mutex_lock(&ms->mu);
        }
    }
    pthread_mutex_unlock(&ms->mu);
    return NULL;
}

int
gw_msync_new(struct gw *g, struct gw_msync **out)
{
    struct gw_msync *ms = calloc(1, sizeof(*ms));
    if (ms == NULL) {
        return -ENOMEM;
    }
    ms->g = g;
    ms->stopping = 1; /* until gw_msync_resume: this gateway is not the primary yet */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&ms->mu, NULL);
    pthread_cond_init(&ms->work_cv, &ca);
    pthread_cond_init(&ms->done_cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = ms;
    return 0;
}

int
gw_msync_resume(struct gw_msync *ms)
{
    if (ms->started) {
        return 0;
    }
    pthread_mutex_lock(&ms->mu);
    /* A new term: acks recorded under another primary say nothing about this one's pushes. */
    ms->n = 0;
    ms->done_seq = ms->queued_seq;
    ms->stopping = 0;
    pthread_mutex_unlock(&ms->mu);
    if (pthread_create(&ms->th, NULL, ms_main, ms) != 0) {
        AIS_LOG_ERR("req=start msg=\"cannot start the metasync sender\"");
        pthread_mutex_lock(&ms->mu);
        ms->stopping = 1;
        pthread_mutex_unlock(&ms->mu);
        return -EAGAIN;
    }
    ms->started = 1;
    return 0;
}

void
gw_msync_stop(struct gw_msync *ms)
{
    if (ms == NULL) {
        return;
    }
    pthread_mutex_lock(&ms->mu);
    ms->stopping = 1;
    pthread_cond_broadcast(&ms->work_cv);
    pthread_cond_broadcast(&ms->done_cv);
    pthread_mutex_unlock(&ms->mu);
    if (ms->started) {
        pthread_join(ms->th, NULL);
        ms->started = 0;
    }
}

void
gw_msync_free(struct gw_msync *ms)
{
    if (ms == NULL) {
        return;
    }
    gw_msync_stop(ms);
    pthread_cond_destroy(&ms->work_cv);
    pthread_cond_destroy(&ms->done_cv);
    pthread_mutex_destroy(&ms->mu);
    free(ms);
}

int
gw_msync_commit(struct gw_msync *ms, struct ais_smap *smap, struct ais_bmd *bmd, unsigned flags,
                struct gw_msync_ticket *t)
{
    int rc = 0;
    pthread_mutex_lock(&ms->mu);
    if (ms->stopping) {
        rc = -ECANCELED;
    } else if (!(flags & GW_MSYNC_FORCE) &&
               ms->queued_seq - ms->done_seq >= AIS_METASYNC_QUEUE_MAX) {
        rc = -EAGAIN;
    }
    pthread_mutex_unlock(&ms->mu);
    if (rc != 0) {
        ais_smap_unref(smap);
        ais_bmd_unref(bmd);
        return rc;
    }
    struct ais_meta_vers v;
    (void)ais_meta_install(&ms->g->meta, smap, bmd, &v);
    pthread_mutex_lock(&ms->mu);
    uint64_t seq = ++ms->queued_seq;
    pthread_cond_signal(&ms->work_cv);
    pthread_mutex_unlock(&ms->mu);
    t->seq = seq;
    t->smap_version = v.smap;
    t->bmd_version = v.bmd;
    return 0;
}

/* Appends "id (why)" of every node of s that holds less than t. Caller holds ms->mu.
 * Returns how many. */
static size_t
not_acked(struct gw_msync *ms, const struct ais_smap *s, const struct gw_msync_ticket *t, char *msg,
          size_t cap, size_t off)
{
    size_t bad = 0;
    struct ais_meta_vers want = {.smap = t->smap_version, .bmd = t->bmd_version};
    for (size_t i = 0; i < s->nnodes; i++) {
        const struct ais_snode *n = &s->nodes[i];
        if (strcmp(n->id, ms->g->self.id) == 0) {
            continue;
        }
        const struct ms_node *r = node_row(ms, n->id, 0);
        if (r != NULL && !row_behind(r, &want)) {
            continue;
        }
        const char *why = (r && r->last_err[0]) ? r->last_err : "no ack yet";
        if (off < cap) {
            int w = snprintf(msg + off, cap - off, "%s%s (%s)", bad ? ", " : "", n->id, why);
            off += w > 0 ? (size_t)w : 0;
        }
        bad++;
    }
    return bad;
}

int64_t
gw_msync_wait_ms(const struct gw *g)
{
    /* The round in flight plus the one covering the change, each bounded by the RPC timeout
     * (pushes run in parallel), plus slack for persisting and scheduling. */
    return 2 * g->cfg->rpc_timeout_ms + 1000;
}

int
gw_msync_wait(struct gw_msync *ms, const struct gw_msync_ticket *t, char *msg, size_t cap)
{
    struct timespec ts;
    deadline_after(&ts, gw_msync_wait_ms(ms->g));
    pthread_mutex_lock(&ms->mu);
    while (!ms->stopping && ms->done_seq < t->seq &&
           pthread_cond_timedwait(&ms->done_cv, &ms->mu, &ts) == 0) {
    }
    int rc = ms->stopping ? -ECANCELED : (ms->done_seq < t->seq ? -ETIMEDOUT : 0);
    struct ais_smap *s = ais_meta_smap(&ms->g->meta);
    int off = snprintf(msg, cap,
                       "metasync of Smap v%lld / BMD v%lld %s (the change is committed "
                       "on the primary; nodes catch up via keepalive); not acked by: ",
                       (long long)t->smap_version, (long long)t->bmd_version,
                       rc == -ETIMEDOUT ? "still in flight" : "incomplete");
    size_t bad = not_acked(ms, s, t, msg, cap, off > 0 ? (size_t)off : 0);
    pthread_mutex_unlock(&ms->mu);
    ais_smap_unref(s);
    if (bad == 0 && rc != -ECANCELED) {
        rc = 0; /* every node holds it (acks may come from keepalives before the push ends) */
    } else if (rc == 0) {
        rc = -EAGAIN;
    }
    if (rc == 0 && cap > 0) {
        msg[0] = '\0';
    }
    return rc;
}

void
gw_msync_node_vers(struct gw_msync *ms, const char *id, int64_t smap_version, int64_t bmd_version,
                   const char *via)
{
    if (ms == NULL) {
        return;
    }
    int join = strcmp(via, "join") == 0;
    pthread_mutex_lock(&ms->mu);
    struct ms_node *r = node_row(ms, id, 1);
    if (r != NULL) {
        if (join) {
            /* A (re)joined node starts over: older acks belong to its previous life. */
            memset(r, 0, sizeof(*r));
            snprintf(r->id, sizeof(r->id), "%s", id);
        }
        row_ack(r, smap_version, bmd_version, via);
    }
    pthread_mutex_unlock(&ms->mu);
}

static json_t *
row_json(const struct ms_node *r, const struct ais_meta_vers *v, int64_t now_mono)
{
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:s, s:i, s:s, s:b}", "smap_version", (json_int_t)r->smap_acked,
        "bmd_version", (json_int_t)r->bmd_acked, "acked_unix_ns", (json_int_t)r->ack_unix_ns,
        "age_ms", (json_int_t)(r->ack_mono_ns ? (now_mono - r->ack_mono_ns) / 1000000 : -1), "via",
        r->via, "retries", r->retries, "last_error", r->last_err, "in_sync", !row_behind(r, v));
}

json_t *
gw_msync_json(struct gw_msync *ms)
{
    int stopped = 1;
    if (ms != NULL) {
        pthread_mutex_lock(&ms->mu);
        stopped = ms->stopping;
        pthread_mutex_unlock(&ms->mu);
    }
    if (stopped) {
        return json_pack("{s:b}", "primary", 0);
    }
    struct ais_smap *s = ais_meta_smap(&ms->g->meta);
    struct ais_meta_vers v;
    ais_meta_vers(&ms->g->meta, &v);
    json_t *nodes = json_object();
    int64_t now = ais_mono_ns();
    pthread_mutex_lock(&ms->mu);
    for (size_t i = 0; i < s->nnodes; i++) {
        const struct ms_node *r = node_row(ms, s->nodes[i].id, 0);
        if (r != NULL) {
            json_object_set_new(nodes, r->id, row_json(r, &v, now));
        } else if (strcmp(s->nodes[i].id, ms->g->self.id) != 0) {
            json_object_set_new(nodes, s->nodes[i].id, json_pack("{s:b}", "in_sync", 0));
        }
    }
    json_t *j = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "primary", 1,
                          "smap_version", (json_int_t)v.smap, "bmd_version", (json_int_t)v.bmd,
                          "queued", (json_int_t)ms->queued_seq, "pushed", (json_int_t)ms->done_seq,
                          "rounds", (json_int_t)ms->rounds, "pushes", (json_int_t)ms->pushes,
                          "push_errors", (json_int_t)ms->push_errs, "nodes", nodes);
    pthread_mutex_unlock(&ms->mu);
    ais_smap_unref(s);
    return j;
}
