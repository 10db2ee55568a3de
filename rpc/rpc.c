/*
 * Design notes: the server is one rep0 socket with a fixed pool of contexts, each driven by
 * its own thread with a synchronous aio (recv, handle, send), so a slow handler only ties up
 * its own context. Clients open a req0 socket per call: control traffic is rare and this keeps
 * no shared state between callers. Dials are non-blocking and every send/recv has a deadline,
 * so a dead peer costs at most the timeout (callers retry: joins until the startup deadline,
 * keepalives every interval, metasync via keepalive catch-up). nng errors become negative errno
 * here and nowhere else.
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
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rpc_worker {
    struct rpc_server *srv;
    pthread_t th;
    nng_ctx ctx;
    nng_aio *aio;
    int started;
};

struct rpc_server {
    nng_socket sock;
    const struct rpc_ops *ops;
    void *ctx;
    unsigned n;
    struct rpc_worker w[AIS_RPC_WORKERS_MAX];
};

static int
nng_to_errno(int rv)
{
    switch (rv) {
    case 0:
        return 0;
    case NNG_ETIMEDOUT:
        return -ETIMEDOUT;
    case NNG_ECONNREFUSED:
        return -ECONNREFUSED;
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

/* Collects what a reply points at, freed after packing. */
struct reply {
    Aisproto__Msg msg;
    Aisproto__ClusterMeta meta;
    Aisproto__ListResp list;
    Aisproto__DeleteResp del;
    Aisproto__JsonResp json;
    Aisproto__Ack ack;
    Aisproto__Err err;
    Aisproto__Smap *smap_pb;
    Aisproto__Bmd *bmd_pb;
    struct ais_smap *smap;
    struct ais_bmd *bmd;
    struct rpc_list_page page;
    Aisproto__ListEntry *entries;
    Aisproto__ListEntry **entry_ptrs;
    char *json_str;
    struct rpc_err rerr;
};

static void
reply_fini(struct reply *r)
{
    rpc_smap_pb_free(r->smap_pb);
    rpc_bmd_pb_free(r->bmd_pb);
    ais_smap_unref(r->smap);
    ais_bmd_unref(r->bmd);
    rpc_list_page_fini(&r->page);
    free(r->entries);
    free(r->entry_ptrs);
    free(r->json_str);
}

static int
reply_meta(struct reply *r)
{
    aisproto__cluster_meta__init(&r->meta);
    if (r->smap != NULL) {
        r->smap_pb = rpc_smap_to_pb(r->smap);
        if (r->smap_pb == NULL) {
            return -ENOMEM;
        }
        r->meta.smap = r->smap_pb;
    }
    if (r->bmd != NULL) {
        r->bmd_pb = rpc_bmd_to_pb(r->bmd);
        if (r->bmd_pb == NULL) {
            return -ENOMEM;
        }
        r->meta.bmd = r->bmd_pb;
    }
    r->msg.body_case = AISPROTO__MSG__BODY_META;
    r->msg.meta = &r->meta;
    return 0;
}

static int
reply_list(struct reply *r)
{
    size_t n = r->page.n;
    r->entries = calloc(n ? n : 1, sizeof(*r->entries));
    r->entry_ptrs = calloc(n ? n : 1, sizeof(*r->entry_ptrs));
    if (r->entries == NULL || r->entry_ptrs == NULL) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct rpc_list_entry *e = &r->page.entries[i];
        Aisproto__ListEntry *p = &r->entries[i];
        aisproto__list_entry__init(p);
        p->name = e->name;
        p->size = e->size;
        p->cksum_type = e->cksum_type ? e->cksum_type : (char *)"";
        p->cksum_value = e->cksum_value ? e->cksum_value : (char *)"";
        p->version = e->version ? e->version : (char *)"";
        p->custom = e->custom ? e->custom : (char *)"";
        p->atime_ns = e->atime_ns;
        r->entry_ptrs[i] = p;
    }
    aisproto__list_resp__init(&r->list);
    r->list.n_entries = n;
    r->list.entries = r->entry_ptrs;
    r->list.more = r->page.more;
    r->msg.body_case = AISPROTO__MSG__BODY_LIST_RESP;
    r->msg.list_resp = &r->list;
    return 0;
}

static void
reply_ack(struct reply *r)
{
    aisproto__ack__init(&r->ack);
    r->msg.body_case = AISPROTO__MSG__BODY_ACK;
    r->msg.ack = &r->ack;
}

static int
h_join(struct rpc_server *s, const Aisproto__Msg *q, struct reply *r)
{
    struct ais_smap *tmp = NULL;
    if (s->ops->join == NULL || q->join_req->node == NULL) {
        return q->join_req->node == NULL ? AIS_EBADMSG : -ENOTSUP;
    }
    /* Reuse the Smap decoder for one node. */
    Aisproto__Smap one = AISPROTO__SMAP__INIT;
    Aisproto__Snode *np = q->join_req->node;
    one.n_nodes = 1;
    one.nodes = &np;
    int err = rpc_smap_from_pb(&one, &tmp);
    if (err == 0) {
        err = s->ops->join(s->ctx, &tmp->nodes[0], &r->smap, &r->bmd, &r->rerr);
    }
    ais_smap_unref(tmp);
    return err == 0 ? reply_meta(r) : err;
}

static int
h_metasync(struct rpc_server *s, const Aisproto__ClusterMeta *m, struct reply *r)
{
    struct ais_smap *smap = NULL;
    struct ais_bmd *bmd = NULL;
    int err = s->ops->metasync ? 0 : -ENOTSUP;
    if (err == 0 && m->smap != NULL) {
        err = rpc_smap_from_pb(m->smap, &smap);
    }
    if (err == 0 && m->bmd != NULL) {
        err = rpc_bmd_from_pb(m->bmd, &bmd);
    }
    if (err == 0) {
        err = s->ops->metasync(s->ctx, smap, bmd, &r->rerr);
        smap = NULL;
        bmd = NULL;
    }
    ais_smap_unref(smap);
    ais_bmd_unref(bmd);
    if (err == 0) {
        reply_ack(r);
    }
    return err;
}

static int
h_list(struct rpc_server *s, const Aisproto__ListReq *q, struct reply *r)
{
    if (s->ops->list == NULL || q->bck == NULL) {
        return q->bck == NULL ? AIS_EBADMSG : -ENOTSUP;
    }
    struct rpc_list_req lr = {
        .provider = q->bck->provider,
        .ns = q->bck->ns,
        .bck = q->bck->name,
        .prefix = q->prefix,
        .after = q->after,
        .limit = q->limit,
        .with_md = q->with_md,
    };
    if (lr.limit == 0 || lr.limit > AIS_LIST_PAGE_MAX) {
        lr.limit = AIS_LIST_PAGE_MAX;
    }
    int err = s->ops->list(s->ctx, &lr, &r->page, &r->rerr);
    return err == 0 ? reply_list(r) : err;
}

static int
h_delete(struct rpc_server *s, const Aisproto__DeleteObjs *q, struct reply *r)
{
    if (s->ops->delete_objs == NULL || q->bck == NULL) {
        return q->bck == NULL ? AIS_EBADMSG : -ENOTSUP;
    }
    uint64_t deleted = 0, missing = 0;
    int err = s->ops->delete_objs(s->ctx, q->bck->provider, q->bck->ns, q->bck->name,
                                  (const char *const *)q->names, q->n_names, &deleted, &missing,
                                  &r->rerr);
    if (err == 0) {
        aisproto__delete_resp__init(&r->del);
        r->del.deleted = deleted;
        r->del.missing = missing;
        r->msg.body_case = AISPROTO__MSG__BODY_DELETE_RESP;
        r->msg.delete_resp = &r->del;
    }
    return err;
}

static int
h_query(struct rpc_server *s, const Aisproto__StatsReq *q, struct reply *r)
{
    if (s->ops->query == NULL) {
        return -ENOTSUP;
    }
    json_t *j = s->ops->query(s->ctx, q->what);
    int err = j ? 0 : -EINVAL;
    if (j == NULL) {
        snprintf(r->rerr.msg, sizeof(r->rerr.msg), "unknown what=%s", q->what);
    } else if ((r->json_str = ais_json_dumps(j)) == NULL) {
        err = -ENOMEM;
    }
    json_decref(j);
    if (err == 0) {
        aisproto__json_resp__init(&r->json);
        r->json.json = r->json_str;
        r->msg.body_case = AISPROTO__MSG__BODY_JSON;
        r->msg.json = &r->json;
    }
    return err;
}

static int
dispatch(struct rpc_server *s, const Aisproto__Msg *q, struct reply *r)
{
    int err;
    switch (q->body_case) {
    case AISPROTO__MSG__BODY_JOIN_REQ:
        return h_join(s, q, r);
    case AISPROTO__MSG__BODY_KEEPALIVE:
        if (s->ops->keepalive == NULL) {
            return -ENOTSUP;
        }
        err = s->ops->keepalive(s->ctx, q->keepalive->id, q->keepalive->smap_version,
                                q->keepalive->bmd_version, &r->smap, &r->bmd, &r->rerr);
        return err == 0 ? reply_meta(r) : err;
    case AISPROTO__MSG__BODY_METASYNC:
        return h_metasync(s, q->metasync, r);
    case AISPROTO__MSG__BODY_LIST_REQ:
        return h_list(s, q->list_req, r);
    case AISPROTO__MSG__BODY_BCK_ACTION:
        if (s->ops->bck_action == NULL || q->bck_action->bck == NULL) {
            return -ENOTSUP;
        }
        err = s->ops->bck_action(s->ctx, q->bck_action->action, q->bck_action->bck->provider,
                                 q->bck_action->bck->ns, q->bck_action->bck->name,
                                 q->bck_action->value_json, &r->rerr);
        if (err == 0) {
            reply_ack(r);
        }
        return err;
    case AISPROTO__MSG__BODY_DELETE_OBJS:
        return h_delete(s, q->delete_objs, r);
    case AISPROTO__MSG__BODY_STATS_REQ:
        return h_query(s, q->stats_req, r);
    case AISPROTO__MSG__BODY_CONFIG_SET:
        if (s->ops->config_set == NULL || q->config_set->n_names != q->config_set->n_values) {
            return -ENOTSUP;
        }
        err = s->ops->config_set(s->ctx, (const char *const *)q->config_set->names,
                                 (const char *const *)q->config_set->values, q->config_set->n_names,
                                 &r->rerr);
        if (err == 0) {
            reply_ack(r);
        }
        return err;
    default:
        return AIS_EBADMSG;
    }
}

static nng_msg *
handle(struct rpc_server *s, nng_msg *m)
{
    Aisproto__Msg *q = aisproto__msg__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
    nng_msg_free(m);
    struct reply r;
    memset(&r, 0, sizeof(r));
    aisproto__msg__init(&r.msg);
    int err = q ? dispatch(s, q, &r) : AIS_EBADMSG;
    if (err != 0) {
        aisproto__err__init(&r.err);
        r.err.code = err;
        r.err.message = r.rerr.msg[0] ? r.rerr.msg : (char *)ais_strerror(err);
        r.msg.body_case = AISPROTO__MSG__BODY_ERR;
        r.msg.err = &r.err;
    }
    nng_msg *out = NULL;
    size_t n = aisproto__msg__get_packed_size(&r.msg);
    if (nng_msg_alloc(&out, n) == 0) {
        aisproto__msg__pack(&r.msg, nng_msg_body(out));
    }
    reply_fini(&r);
    if (q != NULL) {
        aisproto__msg__free_unpacked(q, NULL);
    }
    return out;
}

static void *
worker_main(void *arg)
{
    struct rpc_worker *w = arg;
    for (;;) {
        nng_aio_set_timeout(w->aio, NNG_DURATION_INFINITE);
        nng_ctx_recv(w->ctx, w->aio);
        nng_aio_wait(w->aio);
        int rv = nng_aio_result(w->aio);
        if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
            break;
        }
        if (rv != 0) {
            continue;
        }
        nng_msg *reply = handle(w->srv, nng_aio_get_msg(w->aio));
        if (reply == NULL) {
            continue;
        }
        nng_aio_set_timeout(w->aio, AIS_RPC_TIMEOUT_MS);
        nng_aio_set_msg(w->aio, reply);
        nng_ctx_send(w->ctx, w->aio);
        nng_aio_wait(w->aio);
        if (nng_aio_result(w->aio) != 0) {
            nng_msg_free(reply);
        }
    }
    return NULL;
}

int
rpc_server_start(const char *url, unsigned workers, const struct rpc_ops *ops, void *ctx,
                 struct rpc_server **out)
{
    struct rpc_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return -ENOMEM;
    }
    s->ops = ops;
    s->ctx = ctx;
    s->n = workers < 1 ? 1 : (workers > AIS_RPC_WORKERS_MAX ? AIS_RPC_WORKERS_MAX : workers);
    int rv = nng_rep0_open(&s->sock);
    if (rv == 0) {
        nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, AIS_RPC_MSG_BYTES_MAX);
        rv = nng_listen(s->sock, url, NULL, 0);
    }
    for (unsigned i = 0; rv == 0 && i < s->n; i++) {
        struct rpc_worker *w = &s->w[i];
        w->srv = s;
        rv = nng_ctx_open(&w->ctx, s->sock);
        rv = rv ? rv : nng_aio_alloc(&w->aio, NULL, NULL);
        if (rv == 0 && pthread_create(&w->th, NULL, worker_main, w) != 0) {
            rv = NNG_ENOMEM;
        }
        w->started = rv == 0;
    }
    if (rv != 0) {
        AIS_LOG_ERR("req=rpc-listen url=%s err=\"%s\"", url, nng_strerror(rv));
        rpc_server_stop(s);
        return nng_to_errno(rv);
    }
    *out = s;
    return 0;
}

void
rpc_server_stop(struct rpc_server *s)
{
    if (s == NULL) {
        return;
    }
    nng_close(s->sock);
    for (unsigned i = 0; i < s->n; i++) {
        if (s->w[i].started) {
            pthread_join(s->w[i].th, NULL);
        }
        if (s->w[i].aio != NULL) {
            nng_aio_free(s->w[i].aio);
        }
    }
    free(s);
}

static int
call_once(const char *url, int timeout_ms, const void *buf, size_t len, nng_msg **resp)
{
    nng_socket s;
    int rv = nng_req0_open(&s);
    if (rv != 0) {
        return nng_to_errno(rv);
    }
    nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, timeout_ms);
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms);
    nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 20);
    nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 200);
    nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, AIS_RPC_MSG_BYTES_MAX);
    /* Non-blocking dial: the send deadline bounds the wait for a connection. */
    rv = nng_dial(s, url, NULL, NNG_FLAG_NONBLOCK);
    if (rv == 0) {
        rv = nng_send(s, (void *)buf, len, 0);
    }
    if (rv == 0) {
        rv = nng_recvmsg(s, resp, 0);
    }
    nng_close(s);
    return nng_to_errno(rv);
}

int
rpc_call(const char *url, int timeout_ms, const Aisproto__Msg *req, Aisproto__Msg **resp,
         struct rpc_err *err)
{
    size_t len = aisproto__msg__get_packed_size(req);
    uint8_t *buf = malloc(len ? len : 1);
    nng_msg *m = NULL;
    int rc = buf ? 0 : -ENOMEM;
    if (rc == 0) {
        aisproto__msg__pack(req, buf);
    }
    if (rc == 0) {
        rc = call_once(url, timeout_ms, buf, len, &m);
    }
    free(buf);
    if (rc != 0) {
        snprintf(err->msg, sizeof(err->msg), "rpc to %s: %s", url, ais_strerror(rc));
        err->code = rc;
        return rc;
    }
    Aisproto__Msg *r = aisproto__msg__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
    nng_msg_free(m);
    if (r == NULL) {
        snprintf(err->msg, sizeof(err->msg), "rpc to %s: malformed reply", url);
        return err->code = AIS_EBADMSG;
    }
    if (r->body_case == AISPROTO__MSG__BODY_ERR) {
        rc = r->err->code < 0 ? r->err->code : -EIO;
        snprintf(err->msg, sizeof(err->msg), "%s", r->err->message);
        err->code = rc;
        aisproto__msg__free_unpacked(r, NULL);
        return rc;
    }
    *resp = r;
    return 0;
}
