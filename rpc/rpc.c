/*
 * Design notes: the server is one rep0 socket with many contexts ("slots"), each driven by an
 * async aio callback. A callback never blocks: it decodes the request, looks its body case up
 * in the one registry below (rpc_msgs: body case -> handler class -> typed handler) and queues
 * the slot on its class. Each class (keepalive, control, data) has its own worker threads and
 * a bounded queue, so a join that waits seconds on a dead peer never delays a keepalive; a
 * full queue is answered -EAGAIN at once (the client may retry: the request did not run).
 * There are enough slots for every class to fill its workers and queue at the same time plus
 * spares, so a keepalive always finds a context to be received on.
 *
 * A worker runs the handler, which packs its own reply (typed locals, freed by the handler),
 * and starts the async send on the slot's context; the send's completion re-arms the recv.
 * Adding a message: one proto field, one rpc_ops member, one typed handler, one row, and a
 * client function in calls.c.
 *
 * Stop: set `stopping`, join the workers, stop every slot's aio (pending ops complete with
 * NNG_ECANCELED and are not re-armed), free the aios, close the socket last (nng 1.5's expiry
 * thread may still unlock the socket's mutex until the aio is freed), then drop whatever was
 * still queued.
 */
#include "common/assert.h"
#include "common/err.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/log.h"
#include "rpc/rpc_int.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Contexts beyond what the classes can hold, for requests being answered -EAGAIN/errors. */
#define RPC_SPARE_SLOTS 8

static const unsigned rpc_default_workers[RPC_CLASS_COUNT] = {2, 4, 8};

/* What a handler produces: the packed reply, or an error (with optional text). */
struct rpc_reply {
    nng_msg *out;
    struct rpc_err rerr;
};

typedef int (*rpc_handler_fn)(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r);

struct rpc_msg_desc {
    Aisproto__Msg__BodyCase body;
    enum rpc_class cls;
    const char *name;
    rpc_handler_fn handle;
};

struct rpc_slot {
    struct rpc_server *srv;
    nng_ctx ctx;
    nng_aio *aio;
    int ctx_open;
    int sending;      /* the pending aio op is a send (else a recv) */
    Aisproto__Msg *q; /* decoded request while queued or running */
    const struct rpc_msg_desc *desc;
    struct rpc_slot *next; /* class queue link */
};

struct rpc_class_pool {
    struct rpc_server *srv;
    pthread_t th[AIS_RPC_WORKERS_MAX];
    unsigned nthreads, started;
    struct rpc_slot *head, *tail;
    unsigned depth, cap;
    pthread_cond_t cv;
};

struct rpc_server {
    nng_socket sock;
    int sock_open;
    const struct rpc_ops *ops;
    void *ctx;
    pthread_mutex_t mu; /* queues and stopping */
    int stopping;
    struct rpc_class_pool cls[RPC_CLASS_COUNT];
    unsigned nslots;
    struct rpc_slot *slots;
};

int
rpc_nng_err(int rv)
{
    switch (rv) {
    case 0:
        return 0;
    case NNG_ETIMEDOUT:
        return -ETIMEDOUT;
    case NNG_ECONNREFUSED:
        return -ECONNREFUSED;
    case NNG_ECONNRESET:
    case NNG_ECONNSHUT:
    case NNG_ECONNABORTED:
        return -ECONNRESET;
    case NNG_EAGAIN:
        return -EAGAIN;
    case NNG_ENOMEM:
        return -ENOMEM;
    case NNG_EADDRINUSE:
        return -EADDRINUSE;
    case NNG_EADDRINVAL:
    case NNG_EINVAL:
        return -EINVAL;
    case NNG_ECLOSED:
    case NNG_ECANCELED:
        return -ECANCELED;
    case NNG_EMSGSIZE:
        return -EMSGSIZE;
    default:
        return -EIO;
    }
}

/* ---- replies ---- */

static int
reply_pack(struct rpc_reply *r, const Aisproto__Msg *m)
{
    nng_msg *out = NULL;
    size_t n = aisproto__msg__get_packed_size(m);
    if (n > AIS_RPC_MSG_BYTES_MAX) {
        return -EMSGSIZE;
    }
    if (nng_msg_alloc(&out, n) != 0) {
        return -ENOMEM;
    }
    aisproto__msg__pack(m, nng_msg_body(out));
    AIS_ASSERT(r->out == NULL);
    r->out = out;
    return 0;
}

static int
reply_ack(struct rpc_reply *r)
{
    Aisproto__Msg m = AISPROTO__MSG__INIT;
    Aisproto__Ack a = AISPROTO__ACK__INIT;
    m.body_case = AISPROTO__MSG__BODY_ACK;
    m.ack = &a;
    return reply_pack(r, &m);
}

/* Packs smap/bmd (either may be NULL) as ClusterMeta; takes the references. */
static int
reply_meta(struct rpc_reply *r, struct ais_smap *smap, struct ais_bmd *bmd)
{
    Aisproto__Msg m = AISPROTO__MSG__INIT;
    Aisproto__ClusterMeta meta = AISPROTO__CLUSTER_META__INIT;
    meta.smap = smap ? rpc_smap_to_pb(smap) : NULL;
    meta.bmd = bmd ? rpc_bmd_to_pb(bmd) : NULL;
    int err = ((smap && !meta.smap) || (bmd && !meta.bmd)) ? -ENOMEM : 0;
    m.body_case = AISPROTO__MSG__BODY_META;
    m.meta = &meta;
    err = err ? err : reply_pack(r, &m);
    rpc_smap_pb_free(meta.smap);
    rpc_bmd_pb_free(meta.bmd);
    ais_smap_unref(smap);
    ais_bmd_unref(bmd);
    return err;
}

static int
reply_list(struct rpc_reply *r, const struct rpc_list_page *page)
{
    size_t n = page->n;
    Aisproto__ListEntry *entries = calloc(n ? n : 1, sizeof(*entries));
    Aisproto__ListEntry **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
    int err = (entries == NULL || ptrs == NULL) ? -ENOMEM : 0;
    for (size_t i = 0; err == 0 && i < n; i++) {
        const struct rpc_list_entry *e = &page->entries[i];
        Aisproto__ListEntry *p = &entries[i];
        aisproto__list_entry__init(p);
        p->name = e->name;
        p->size = e->size;
        p->cksum_type = e->cksum_type ? e->cksum_type : (char *)"";
        p->cksum_value = e->cksum_value ? e->cksum_value : (char *)"";
        p->version = e->version ? e->version : (char *)"";
        p->custom = e->custom ? e->custom : (char *)"";
        p->atime_ns = e->atime_ns;
        p->flags = e->flags;
        ptrs[i] = p;
    }
    Aisproto__Msg m = AISPROTO__MSG__INIT;
    Aisproto__ListResp lr = AISPROTO__LIST_RESP__INIT;
    lr.n_entries = n;
    lr.entries = ptrs;
    lr.more = page->more;
    m.body_case = AISPROTO__MSG__BODY_LIST_RESP;
    m.list_resp = &lr;
    err = err ? err : reply_pack(r, &m);
    free(entries);
    free(ptrs);
    return err;
}

static int
reply_err(struct rpc_reply *r, int code)
{
    Aisproto__Msg m = AISPROTO__MSG__INIT;
    Aisproto__Err e = AISPROTO__ERR__INIT;
    e.code = code;
    e.message = r->rerr.msg[0] ? r->rerr.msg : (char *)ais_strerror(code);
    m.body_case = AISPROTO__MSG__BODY_ERR;
    m.err = &e;
    return reply_pack(r, &m);
}

/* ---- typed handlers: decode, call the domain op, pack the reply ---- */

static int
h_join(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    struct ais_smap *tmp = NULL, *smap = NULL;
    struct ais_bmd *bmd = NULL;
    if (q->join_req->node == NULL) {
        return AIS_EBADMSG;
    }
    if (s->ops->join == NULL) {
        return -ENOTSUP;
    }
    /* Reuse the Smap decoder for one node. */
    Aisproto__Smap one = AISPROTO__SMAP__INIT;
    Aisproto__Snode *np = q->join_req->node;
    one.n_nodes = 1;
    one.nodes = &np;
    int err = rpc_smap_from_pb(&one, &tmp);
    if (err == 0) {
        err = s->ops->join(s->ctx, &tmp->nodes[0], &smap, &bmd, &r->rerr);
    }
    ais_smap_unref(tmp);
    return err == 0 ? reply_meta(r, smap, bmd) : err;
}

static int
h_keepalive(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    const Aisproto__KeepaliveReq *k = q->keepalive;
    struct ais_smap *smap = NULL;
    struct ais_bmd *bmd = NULL;
    if (s->ops->keepalive == NULL) {
        return -ENOTSUP;
    }
    int err =
        s->ops->keepalive(s->ctx, k->id, k->smap_version, k->bmd_version, &smap, &bmd, &r->rerr);
    return err == 0 ? reply_meta(r, smap, bmd) : err;
}

static int
h_metasync(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    const Aisproto__ClusterMeta *m = q->metasync;
    struct ais_smap *smap = NULL;
    struct ais_bmd *bmd = NULL;
    int err = s->ops->metasync ? 0 : -ENOTSUP;
    if (err == 0 && m->smap != NULL) {
        err = rpc_smap_from_pb(m->smap, &smap);
    }
    if (err == 0 && m->bmd != NULL) {
        err = rpc_bmd_from_pb(m->bmd, &bmd);
    }
    struct rpc_meta_ack ack = {0};
    if (err == 0) {
        err = s->ops->metasync(s->ctx, smap, bmd, &ack, &r->rerr);
        smap = NULL;
        bmd = NULL;
    }
    ais_smap_unref(smap);
    ais_bmd_unref(bmd);
    if (err != 0) {
        return err;
    }
    Aisproto__Msg out = AISPROTO__MSG__INIT;
    Aisproto__MetaAck ma = AISPROTO__META_ACK__INIT;
    ma.smap_version = ack.smap_version;
    ma.bmd_version = ack.bmd_version;
    out.body_case = AISPROTO__MSG__BODY_META_ACK;
    out.meta_ack = &ma;
    return reply_pack(r, &out);
}

static int
h_list(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    const Aisproto__ListReq *l = q->list_req;
    if (l->bck == NULL) {
        return AIS_EBADMSG;
    }
    if (s->ops->list == NULL) {
        return -ENOTSUP;
    }
    struct rpc_list_req lr = {
        .provider = l->bck->provider,
        .ns = l->bck->ns,
        .bck = l->bck->name,
        .prefix = l->prefix,
        .after = l->after,
        .limit = l->limit,
        .with_md = l->with_md,
        .arch = l->arch,
    };
    if (lr.limit == 0 || lr.limit > AIS_LIST_PAGE_MAX) {
        lr.limit = AIS_LIST_PAGE_MAX;
    }
    struct rpc_list_page page;
    memset(&page, 0, sizeof(page));
    int err = s->ops->list(s->ctx, &lr, &page, &r->rerr);
    err = err ? err : reply_list(r, &page);
    rpc_list_page_fini(&page);
    return err;
}

static int
h_bck_action(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    const Aisproto__BckAction *a = q->bck_action;
    if (a->bck == NULL) {
        return AIS_EBADMSG;
    }
    if (s->ops->bck_action == NULL) {
        return -ENOTSUP;
    }
    int err = s->ops->bck_action(s->ctx, a->action, a->bck->provider, a->bck->ns, a->bck->name,
                                 a->value_json, &r->rerr);
    return err == 0 ? reply_ack(r) : err;
}

static int
objs_op(struct rpc_server *s, const Aisproto__DeleteObjs *d, struct rpc_reply *r)
{
    if (s->ops->objs_op == NULL) {
        return -ENOTSUP;
    }
    struct rpc_objs_args a = {.op = d->op,
                              .provider = d->bck->provider,
                              .ns = d->bck->ns,
                              .bck = d->bck->name,
                              .names = (const char *const *)d->names,
                              .n = d->n_names,
                              .latest = d->latest,
                              .job_id = d->job_id,
                              .flags = d->flags,
                              .prepend = d->prepend};
    if (d->dst != NULL) {
        a.dst_provider = d->dst->provider;
        a.dst_ns = d->dst->ns;
        a.dst_bck = d->dst->name;
        a.prepend = d->prepend;
    }
    if (d->n_links > 0) {
        if (d->n_links != d->n_names) {
            return AIS_EBADMSG;
        }
        a.links = (const char *const *)d->links;
        a.timeout_ms = d->timeout_ms;
    }
    struct rpc_objs_res res = {0};
    int err = s->ops->objs_op(s->ctx, &a, &res, &r->rerr);
    if (err == 0) {
        Aisproto__Msg m = AISPROTO__MSG__INIT;
        Aisproto__DeleteResp dr = AISPROTO__DELETE_RESP__INIT;
        dr.deleted = res.done;
        dr.missing = res.skipped;
        dr.bytes = res.bytes;
        dr.n_names = res.nnames;
        dr.names = res.names;
        dr.n_errs = res.errs ? res.nnames : 0;
        dr.errs = res.errs;
        m.body_case = AISPROTO__MSG__BODY_DELETE_RESP;
        m.delete_resp = &dr;
        err = reply_pack(r, &m);
    }
    rpc_objs_res_fini(&res);
    return err;
}

static int
h_delete_objs(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    const Aisproto__DeleteObjs *d = q->delete_objs;
    if (d->bck == NULL) {
        return AIS_EBADMSG;
    }
    if (d->ec_records_only) {
        int err = s->ops->ec_delete == NULL
                      ? -ENOTSUP
                      : s->ops->ec_delete(s->ctx, d->bck->provider, d->bck->ns, d->bck->name,
                                          (const char *const *)d->names, d->n_names, &r->rerr);
        return err == 0 ? reply_ack(r) : err;
    }
    if (d->op != NULL && d->op[0] != '\0') {
        return objs_op(s, d, r);
    }
    if (s->ops->delete_objs == NULL) {
        return -ENOTSUP;
    }
    uint64_t deleted = 0, missing = 0;
    int err = s->ops->delete_objs(s->ctx, d->bck->provider, d->bck->ns, d->bck->name,
                                  (const char *const *)d->names, d->n_names, &deleted, &missing,
                                  &r->rerr);
    if (err != 0) {
        return err;
    }
    Aisproto__Msg m = AISPROTO__MSG__INIT;
    Aisproto__DeleteResp dr = AISPROTO__DELETE_RESP__INIT;
    dr.deleted = deleted;
    dr.missing = missing;
    m.body_case = AISPROTO__MSG__BODY_DELETE_RESP;
    m.delete_resp = &dr;
    return reply_pack(r, &m);
}

static int
h_query(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    if (s->ops->query == NULL) {
        return -ENOTSUP;
    }
    json_t *j = s->ops->query(s->ctx, q->stats_req->what);
    if (j == NULL) {
        snprintf(r->rerr.msg, sizeof(r->rerr.msg), "unknown what=%s", q->stats_req->what);
        return -EINVAL;
    }
    char *str = ais_json_dumps(j);
    json_decref(j);
    if (str == NULL) {
        return -ENOMEM;
    }
    Aisproto__Msg m = AISPROTO__MSG__INIT;
    Aisproto__JsonResp jr = AISPROTO__JSON_RESP__INIT;
    jr.json = str;
    m.body_case = AISPROTO__MSG__BODY_JSON;
    m.json = &jr;
    int err = reply_pack(r, &m);
    free(str);
    return err;
}

static int
h_config_set(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    const Aisproto__ConfigSet *c = q->config_set;
    if (c->n_names != c->n_values) {
        return AIS_EBADMSG;
    }
    if (s->ops->config_set == NULL) {
        return -ENOTSUP;
    }
    int err = s->ops->config_set(s->ctx, (const char *const *)c->names,
                                 (const char *const *)c->values, c->n_names, &r->rerr);
    return err == 0 ? reply_ack(r) : err;
}

static int
h_obj_pull(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    const Aisproto__ObjPull *p = q->obj_pull;
    if (p->bck == NULL) {
        return AIS_EBADMSG;
    }
    if (s->ops->obj_pull == NULL) {
        return -ENOTSUP;
    }
    int err = s->ops->obj_pull(s->ctx, p->bck->provider, p->bck->ns, p->bck->name, p->name,
                               p->dest_url, &r->rerr);
    return err == 0 ? reply_ack(r) : err;
}

static int
h_xact_stop(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    if (s->ops->xact_stop == NULL) {
        return -ENOTSUP;
    }
    int err = s->ops->xact_stop(s->ctx, q->xact_stop->id, q->xact_stop->kind, &r->rerr);
    return err == 0 ? reply_ack(r) : err;
}

static int
h_node_shutdown(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    if (s->ops->node_shutdown == NULL) {
        return -ENOTSUP;
    }
    int err = s->ops->node_shutdown(s->ctx, q->node_shutdown->sid, q->node_shutdown->decommission,
                                    &r->rerr);
    return err == 0 ? reply_ack(r) : err;
}

static int
h_vote(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    const Aisproto__VoteReq *v = q->vote_req;
    if (s->ops->vote == NULL) {
        return -ENOTSUP;
    }
    struct rpc_vote_req vq = {
        .candidate_id = v->candidate_id,
        .primary_id = v->primary_id,
        .smap_version = v->smap_version,
    };
    struct rpc_vote out;
    memset(&out, 0, sizeof(out));
    int err = s->ops->vote(s->ctx, &vq, &out, &r->rerr);
    Aisproto__Msg m = AISPROTO__MSG__INIT;
    Aisproto__VoteResp vr = AISPROTO__VOTE_RESP__INIT;
    vr.yes = out.yes != 0;
    vr.is_primary = out.is_primary != 0;
    vr.smap_version = out.smap_version;
    vr.bmd_version = out.bmd_version;
    vr.reason = out.reason;
    vr.smap = (err == 0 && out.smap) ? rpc_smap_to_pb(out.smap) : NULL;
    err = (err == 0 && out.smap && !vr.smap) ? -ENOMEM : err;
    m.body_case = AISPROTO__MSG__BODY_VOTE_RESP;
    m.vote_resp = &vr;
    err = err ? err : reply_pack(r, &m);
    rpc_smap_pb_free(vr.smap);
    ais_smap_unref(out.smap);
    return err;
}

static int
h_xact_start(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    if (s->ops->xact_start == NULL) {
        return -ENOTSUP;
    }
    const Aisproto__XactStop *x = q->xact_start;
    struct rpc_xact_args a = {
        .id = x->id, .kind = x->kind, .provider = x->provider, .ns = x->ns, .bck = x->bck};
    int err = s->ops->xact_start(s->ctx, &a, &r->rerr);
    return err == 0 ? reply_ack(r) : err;
}

static int
h_slice_read(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    const Aisproto__SliceReq *p = q->slice_req;
    if (p->bck == NULL || p->len > AIS_STREAM_CHUNK_BYTES_MAX) {
        return AIS_EBADMSG;
    }
    if (s->ops->slice_read == NULL) {
        return -ENOTSUP;
    }
    struct rpc_slice_req sq = {.provider = p->bck->provider,
                               .ns = p->bck->ns,
                               .bck = p->bck->name,
                               .name = p->name,
                               .off = p->offset,
                               .len = p->len};
    struct rpc_slice *out = calloc(1, sizeof(*out));
    void *buf = p->len ? malloc(p->len) : NULL;
    int err = out == NULL || (p->len && buf == NULL) ? -ENOMEM : 0;
    if (err == 0) {
        out->buf = buf;
        err = s->ops->slice_read(s->ctx, &sq, out, &r->rerr);
    }
    if (err == 0) {
        Aisproto__Msg m = AISPROTO__MSG__INIT;
        Aisproto__SliceResp sr = AISPROTO__SLICE_RESP__INIT;
        sr.meta.data = out->meta;
        sr.meta.len = out->meta_len < sizeof(out->meta) ? out->meta_len : sizeof(out->meta);
        sr.data.data = buf;
        sr.data.len = out->n < p->len ? out->n : p->len;
        sr.size = out->size;
        m.body_case = AISPROTO__MSG__BODY_SLICE_RESP;
        m.slice_resp = &sr;
        err = reply_pack(r, &m);
    }
    free(buf);
    free(out);
    return err;
}

static int
h_dsort(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    if (s->ops->dsort == NULL) {
        return -ENOTSUP;
    }
    const Aisproto__DsortMsg *d = q->dsort_req;
    void *out = NULL;
    size_t n = 0;
    int err = s->ops->dsort(s->ctx, d->op, d->uuid, d->body.data, d->body.len, &out, &n, &r->rerr);
    if (err == 0) {
        Aisproto__Msg m = AISPROTO__MSG__INIT;
        Aisproto__DsortMsg dr = AISPROTO__DSORT_MSG__INIT;
        dr.op = d->op;
        dr.uuid = d->uuid;
        dr.body.data = out;
        dr.body.len = out ? n : 0;
        m.body_case = AISPROTO__MSG__BODY_DSORT_RESP;
        m.dsort_resp = &dr;
        err = reply_pack(r, &m);
    }
    free(out);
    return err;
}

static int
h_obj_read(struct rpc_server *s, const Aisproto__Msg *q, struct rpc_reply *r)
{
    const Aisproto__ObjReadReq *p = q->obj_read_req;
    size_t n = p->n_refs, total = 0;
    if (n == 0 || n > AIS_RPC_OBJ_READ_REFS_MAX) {
        return AIS_EBADMSG;
    }
    for (size_t i = 0; i < n; i++) {
        if (p->refs[i]->bck == NULL || p->refs[i]->len > AIS_RPC_OBJ_READ_BYTES_MAX) {
            return AIS_EBADMSG;
        }
        total += p->refs[i]->len;
    }
    if (total > AIS_RPC_OBJ_READ_BYTES_MAX) {
        return AIS_EBADMSG;
    }
    if (s->ops->obj_read == NULL) {
        return -ENOTSUP;
    }
    uint8_t *buf = malloc(total ? total : 1);
    Aisproto__ObjPiece *pc = calloc(n, sizeof(*pc));
    Aisproto__ObjPiece **pv = calloc(n, sizeof(*pv));
    int err = buf == NULL || pc == NULL || pv == NULL ? -ENOMEM : 0;
    for (size_t i = 0, at = 0; err == 0 && i < n; i++) {
        const Aisproto__ObjRef *f = p->refs[i];
        struct rpc_obj_ref ref = {.provider = f->bck->provider,
                                  .ns = f->bck->ns,
                                  .bck = f->bck->name,
                                  .name = f->name,
                                  .archpath = f->archpath,
                                  .off = f->offset,
                                  .len = f->len};
        struct rpc_obj_piece out = {.buf = buf + at};
        s->ops->obj_read(s->ctx, &ref, &out);
        aisproto__obj_piece__init(&pc[i]);
        pc[i].code = out.code;
        pc[i].size = out.size;
        pc[i].mtime_ns = out.mtime_ns;
        pc[i].data.data = buf + at;
        pc[i].data.len = out.code == 0 && out.n <= f->len ? out.n : 0;
        pv[i] = &pc[i];
        at += f->len;
    }
    if (err == 0) {
        Aisproto__Msg m = AISPROTO__MSG__INIT;
        Aisproto__ObjReadResp rr = AISPROTO__OBJ_READ_RESP__INIT;
        rr.n_pieces = n;
        rr.pieces = pv;
        m.body_case = AISPROTO__MSG__BODY_OBJ_READ_RESP;
        m.obj_read_resp = &rr;
        err = reply_pack(r, &m);
    }
    free(pv);
    free(pc);
    free(buf);
    return err;
}

/* The registry: one row per request message. */
static const struct rpc_msg_desc rpc_msgs[] = {
    {AISPROTO__MSG__BODY_KEEPALIVE, RPC_CLASS_KEEPALIVE, "keepalive", h_keepalive},
    {AISPROTO__MSG__BODY_JOIN_REQ, RPC_CLASS_CONTROL, "join", h_join},
    {AISPROTO__MSG__BODY_METASYNC, RPC_CLASS_CONTROL, "metasync", h_metasync},
    {AISPROTO__MSG__BODY_BCK_ACTION, RPC_CLASS_CONTROL, "bck_action", h_bck_action},
    {AISPROTO__MSG__BODY_CONFIG_SET, RPC_CLASS_CONTROL, "config_set", h_config_set},
    {AISPROTO__MSG__BODY_STATS_REQ, RPC_CLASS_CONTROL, "query", h_query},
    {AISPROTO__MSG__BODY_LIST_REQ, RPC_CLASS_DATA, "list", h_list},
    {AISPROTO__MSG__BODY_DELETE_OBJS, RPC_CLASS_DATA, "delete_objs", h_delete_objs},
    {AISPROTO__MSG__BODY_OBJ_PULL, RPC_CLASS_DATA, "obj_pull", h_obj_pull},
    {AISPROTO__MSG__BODY_SLICE_REQ, RPC_CLASS_DATA, "slice_read", h_slice_read},
    {AISPROTO__MSG__BODY_DSORT_REQ, RPC_CLASS_DATA, "dsort", h_dsort},
    {AISPROTO__MSG__BODY_OBJ_READ_REQ, RPC_CLASS_DATA, "obj_read", h_obj_read},
    {AISPROTO__MSG__BODY_XACT_STOP, RPC_CLASS_CONTROL, "xact_stop", h_xact_stop},
    {AISPROTO__MSG__BODY_XACT_START, RPC_CLASS_CONTROL, "xact_start", h_xact_start},
    {AISPROTO__MSG__BODY_VOTE_REQ, RPC_CLASS_CONTROL, "vote", h_vote},
    {AISPROTO__MSG__BODY_NODE_SHUTDOWN, RPC_CLASS_CONTROL, "node_shutdown", h_node_shutdown},
};

static const struct rpc_msg_desc *
msg_desc(Aisproto__Msg__BodyCase body)
{
    for (size_t i = 0; i < sizeof(rpc_msgs) / sizeof(rpc_msgs[0]); i++) {
        if (rpc_msgs[i].body == body) {
            return &rpc_msgs[i];
        }
    }
    return NULL;
}

/* ---- slots: async recv -> queue -> worker -> async send -> recv ---- */

static void
slot_recv(struct rpc_slot *sl)
{
    sl->sending = 0;
    nng_aio_set_timeout(sl->aio, NNG_DURATION_INFINITE);
    nng_ctx_recv(sl->ctx, sl->aio);
}

/* Sends out (or re-arms the recv when there is nothing to send). */
static void
slot_send(struct rpc_slot *sl, nng_msg *out)
{
    if (out == NULL) {
        slot_recv(sl);
        return;
    }
    sl->sending = 1;
    nng_aio_set_msg(sl->aio, out);
    nng_aio_set_timeout(sl->aio, AIS_RPC_TIMEOUT_MS);
    nng_ctx_send(sl->ctx, sl->aio);
}

/* An immediate error answer from the callback (malformed, unknown, queue full). */
static void
slot_answer_err(struct rpc_slot *sl, int code, const char *why)
{
    struct rpc_reply r;
    memset(&r, 0, sizeof(r));
    snprintf(r.rerr.msg, sizeof(r.rerr.msg), "%s", why);
    (void)reply_err(&r, code);
    slot_send(sl, r.out);
}

/* Decodes and queues the request on its class; never blocks. */
static void
slot_accept(struct rpc_slot *sl, nng_msg *m)
{
    struct rpc_server *s = sl->srv;
    Aisproto__Msg *q = aisproto__msg__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
    nng_msg_free(m);
    const struct rpc_msg_desc *d = q ? msg_desc(q->body_case) : NULL;
    if (d == NULL) {
        AIS_LOG_DBG("req=rpc msg=\"%s\"", q ? "unknown message kind" : "malformed message");
        if (q != NULL) {
            aisproto__msg__free_unpacked(q, NULL);
        }
        slot_answer_err(sl, AIS_EBADMSG, "malformed or unknown message");
        return;
    }
    struct rpc_class_pool *c = &s->cls[d->cls];
    pthread_mutex_lock(&s->mu);
    int stopping = s->stopping, full = c->depth >= c->cap;
    if (!stopping && !full) {
        sl->q = q;
        sl->desc = d;
        sl->next = NULL;
        if (c->tail != NULL) {
            c->tail->next = sl;
        } else {
            c->head = sl;
        }
        c->tail = sl;
        c->depth++;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&s->mu);
    if (stopping || full) {
        aisproto__msg__free_unpacked(q, NULL);
        if (full && !stopping) {
            AIS_LOG_WARN("req=%s msg=\"rpc class queue full\" depth=%u", d->name, c->cap);
            slot_answer_err(sl, -EAGAIN, "server busy");
        }
    }
}

static void
slot_cb(void *arg)
{
    struct rpc_slot *sl = arg;
    int rv = nng_aio_result(sl->aio);
    if (sl->sending) {
        if (rv != 0) {
            nng_msg_free(nng_aio_get_msg(sl->aio));
            nng_aio_set_msg(sl->aio, NULL);
        }
        if (rv != NNG_ECLOSED && rv != NNG_ECANCELED) {
            slot_recv(sl);
        }
        return;
    }
    if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
        return;
    }
    if (rv != 0) {
        slot_recv(sl);
        return;
    }
    slot_accept(sl, nng_aio_get_msg(sl->aio));
}

/* Runs the handler of a dequeued request; returns the packed reply (or NULL on OOM). */
static nng_msg *
slot_handle(struct rpc_server *s, struct rpc_slot *sl)
{
    struct rpc_reply r;
    memset(&r, 0, sizeof(r));
    int err = sl->desc->handle(s, sl->q, &r);
    if (err != 0) {
        if (r.out != NULL) {
            nng_msg_free(r.out);
            r.out = NULL;
        }
        AIS_LOG_DBG("req=%s err=\"%s\"", sl->desc->name, ais_strerror(err));
        (void)reply_err(&r, err);
    }
    aisproto__msg__free_unpacked(sl->q, NULL);
    sl->q = NULL;
    return r.out;
}

static void *
class_main(void *arg)
{
    struct rpc_class_pool *c = arg;
    struct rpc_server *s = c->srv;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->stopping && c->head == NULL) {
            pthread_cond_wait(&c->cv, &s->mu);
        }
        if (s->stopping) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        struct rpc_slot *sl = c->head;
        c->head = sl->next;
        if (c->head == NULL) {
            c->tail = NULL;
        }
        c->depth--;
        pthread_mutex_unlock(&s->mu);
        /* After close, the send fails with NNG_ECLOSED and the callback frees the reply. */
        slot_send(sl, slot_handle(s, sl));
    }
    return NULL;
}

static int
server_slots(struct rpc_server *s)
{
    for (int i = 0; i < RPC_CLASS_COUNT; i++) {
        s->nslots += s->cls[i].nthreads + s->cls[i].cap;
    }
    s->nslots += RPC_SPARE_SLOTS;
    s->slots = calloc(s->nslots, sizeof(*s->slots));
    if (s->slots == NULL) {
        return NNG_ENOMEM;
    }
    for (unsigned i = 0; i < s->nslots; i++) {
        struct rpc_slot *sl = &s->slots[i];
        sl->srv = s;
        int rv = nng_aio_alloc(&sl->aio, slot_cb, sl);
        rv = rv ? rv : nng_ctx_open(&sl->ctx, s->sock);
        if (rv != 0) {
            return rv;
        }
        sl->ctx_open = 1;
    }
    return 0;
}

static int
server_threads(struct rpc_server *s)
{
    for (int i = 0; i < RPC_CLASS_COUNT; i++) {
        struct rpc_class_pool *c = &s->cls[i];
        for (; c->started < c->nthreads; c->started++) {
            if (pthread_create(&c->th[c->started], NULL, class_main, c) != 0) {
                return NNG_ENOMEM;
            }
        }
    }
    return 0;
}

static struct rpc_server *
server_new(const struct rpc_server_opts *opts, const struct rpc_ops *ops, void *ctx)
{
    struct rpc_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    s->ops = ops;
    s->ctx = ctx;
    pthread_mutex_init(&s->mu, NULL);
    for (int i = 0; i < RPC_CLASS_COUNT; i++) {
        struct rpc_class_pool *c = &s->cls[i];
        unsigned n = opts && opts->workers[i] ? opts->workers[i] : rpc_default_workers[i];
        c->srv = s;
        c->nthreads = n > AIS_RPC_WORKERS_MAX ? AIS_RPC_WORKERS_MAX : n;
        c->cap = c->nthreads * AIS_RPC_QUEUE_PER_WORKER;
        pthread_cond_init(&c->cv, NULL);
    }
    return s;
}

int
rpc_server_start(const char *url, const struct rpc_server_opts *opts, const struct rpc_ops *ops,
                 void *ctx, struct rpc_server **out)
{
    AIS_ASSERT(url != NULL);
    AIS_ASSERT(ops != NULL);
    struct rpc_server *s = server_new(opts, ops, ctx);
    if (s == NULL) {
        return -ENOMEM;
    }
    int rv = nng_rep0_open(&s->sock);
    s->sock_open = rv == 0;
    if (rv == 0) {
        nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, AIS_RPC_MSG_BYTES_MAX);
        rv = server_slots(s);
    }
    rv = rv ? rv : server_threads(s);
    rv = rv ? rv : nng_listen(s->sock, url, NULL, 0);
    if (rv != 0) {
        AIS_LOG_ERR("req=rpc-listen url=%s err=\"%s\"", url, nng_strerror(rv));
        rpc_server_stop(s);
        return rpc_nng_err(rv);
    }
    for (unsigned i = 0; i < s->nslots; i++) {
        slot_recv(&s->slots[i]);
    }
    *out = s;
    return 0;
}

unsigned
rpc_server_queued(struct rpc_server *s, enum rpc_class c)
{
    AIS_ASSERT(c < RPC_CLASS_COUNT);
    pthread_mutex_lock(&s->mu);
    unsigned n = s->cls[c].depth;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void
rpc_server_stop(struct rpc_server *s)
{
    if (s == NULL) {
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    for (int i = 0; i < RPC_CLASS_COUNT; i++) {
        pthread_cond_broadcast(&s->cls[i].cv);
    }
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < RPC_CLASS_COUNT; i++) {
        for (unsigned t = 0; t < s->cls[i].started; t++) {
            pthread_join(s->cls[i].th[t], NULL); /* each ends with its request answered */
        }
    }
    /* Stop (cancel and wait for the callback), free (waits for nng's expiry thread), and only
     * then close the socket whose mutex a timeout cancel still unlocks (nng 1.5). */
    for (unsigned i = 0; s->slots != NULL && i < s->nslots; i++) {
        nng_aio_stop(s->slots[i].aio);
    }
    for (unsigned i = 0; s->slots != NULL && i < s->nslots; i++) {
        nng_aio_free(s->slots[i].aio);
    }
    if (s->sock_open) {
        nng_close(s->sock);
    }
    for (int i = 0; i < RPC_CLASS_COUNT; i++) {
        for (struct rpc_slot *sl = s->cls[i].head; sl != NULL; sl = sl->next) {
            aisproto__msg__free_unpacked(sl->q, NULL);
        }
        pthread_cond_destroy(&s->cls[i].cv);
    }
    pthread_mutex_destroy(&s->mu);
    free(s->slots);
    free(s);
}
