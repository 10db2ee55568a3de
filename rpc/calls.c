/*
 * Design notes: one function per message type on the client side; each builds a Msg on the
 * stack, calls rpc_call and converts the reply to domain types. A reply of the wrong kind is
 * a malformed message, never trusted. Each call states whether it is idempotent (may be
 * re-sent after a connection reset): keepalive, metasync (versions only move forward), list,
 * query and config_set are; join, bck_action and delete_objs are not.
 */
#include "common/assert.h"
#include "common/err.h"
#include "rpc/rpc_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int
expect(Aisproto__Msg *r, Aisproto__Msg__BodyCase want, struct rpc_err *err)
{
    if (r->body_case != want) {
        aisproto__msg__free_unpacked(r, NULL);
        snprintf(err->msg, sizeof(err->msg), "unexpected reply kind %d", (int)r->body_case);
        return err->code = AIS_EBADMSG;
    }
    return 0;
}

/* rpc_call that also checks the reply kind; *r is set only on success. */
static int
call_kind(const char *url, int timeout_ms, unsigned flags, const Aisproto__Msg *q,
          Aisproto__Msg__BodyCase want, Aisproto__Msg **r, struct rpc_err *err)
{
    int rc = rpc_call(url, timeout_ms, flags, q, r, err);
    return rc ? rc : expect(*r, want, err);
}

/* A call answered by Ack. */
static int
call_ack(const char *url, int timeout_ms, unsigned flags, const Aisproto__Msg *q,
         struct rpc_err *err)
{
    Aisproto__Msg *r = NULL;
    int rc = call_kind(url, timeout_ms, flags, q, AISPROTO__MSG__BODY_ACK, &r, err);
    if (rc == 0) {
        aisproto__msg__free_unpacked(r, NULL);
    }
    return rc;
}

static int
meta_out(const Aisproto__ClusterMeta *m, struct ais_smap **smap, struct ais_bmd **bmd)
{
    struct ais_smap *s = NULL;
    struct ais_bmd *b = NULL;
    int rc = 0;
    if (m->smap != NULL) {
        rc = rpc_smap_from_pb(m->smap, &s);
    }
    if (rc == 0 && m->bmd != NULL) {
        rc = rpc_bmd_from_pb(m->bmd, &b);
    }
    if (rc != 0) {
        ais_smap_unref(s);
        ais_bmd_unref(b);
        return rc;
    }
    *smap = s;
    *bmd = b;
    return 0;
}

/* A call answered by ClusterMeta, converted to domain objects. */
static int
call_meta(const char *url, int timeout_ms, unsigned flags, const Aisproto__Msg *q,
          struct ais_smap **smap, struct ais_bmd **bmd, struct rpc_err *err)
{
    Aisproto__Msg *r = NULL;
    int rc = call_kind(url, timeout_ms, flags, q, AISPROTO__MSG__BODY_META, &r, err);
    if (rc != 0) {
        return rc;
    }
    rc = meta_out(r->meta, smap, bmd);
    aisproto__msg__free_unpacked(r, NULL);
    return rc;
}

/* The Bck of a request (borrowed strings; protobuf-c wants them non-const). */
static void
pb_bck(Aisproto__Bck *b, const char *provider, const char *ns, const char *name)
{
    b->provider = (char *)provider;
    b->ns = (char *)ns;
    b->name = (char *)name;
}

int
rpc_join(const char *url, int timeout_ms, const struct ais_snode *self, struct ais_smap **smap,
         struct ais_bmd **bmd, struct rpc_err *err)
{
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__JoinReq jr = AISPROTO__JOIN_REQ__INIT;
    Aisproto__Snode n = AISPROTO__SNODE__INIT;
    n.id = (char *)self->id;
    n.is_target = self->is_target;
    n.host = (char *)self->host;
    n.ctrl_host = (char *)self->ctrl_host;
    n.port = self->port;
    n.ctrl_port = self->ctrl_port;
    n.flags = self->flags;
    jr.node = &n;
    q.body_case = AISPROTO__MSG__BODY_JOIN_REQ;
    q.join_req = &jr;
    return call_meta(url, timeout_ms, 0, &q, smap, bmd, err);
}

int
rpc_keepalive(const char *url, int timeout_ms, const char *id, int64_t smap_ver, int64_t bmd_ver,
              struct ais_smap **smap, struct ais_bmd **bmd, struct rpc_err *err)
{
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__KeepaliveReq ka = AISPROTO__KEEPALIVE_REQ__INIT;
    ka.id = (char *)id;
    ka.smap_version = smap_ver;
    ka.bmd_version = bmd_ver;
    q.body_case = AISPROTO__MSG__BODY_KEEPALIVE;
    q.keepalive = &ka;
    return call_meta(url, timeout_ms, RPC_CALL_IDEMPOTENT, &q, smap, bmd, err);
}

int
rpc_metasync(const char *url, int timeout_ms, const struct ais_smap *smap,
             const struct ais_bmd *bmd, struct rpc_meta_ack *ack, struct rpc_err *err)
{
    Aisproto__Msg *r = NULL;
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__ClusterMeta m = AISPROTO__CLUSTER_META__INIT;
    m.smap = smap ? rpc_smap_to_pb(smap) : NULL;
    m.bmd = bmd ? rpc_bmd_to_pb(bmd) : NULL;
    int rc = ((smap && !m.smap) || (bmd && !m.bmd)) ? -ENOMEM : 0;
    q.body_case = AISPROTO__MSG__BODY_METASYNC;
    q.metasync = &m;
    rc = rc ? rc
            : call_kind(url, timeout_ms, RPC_CALL_IDEMPOTENT, &q, AISPROTO__MSG__BODY_META_ACK, &r,
                        err);
    if (rc == 0 && ack != NULL) {
        ack->smap_version = r->meta_ack->smap_version;
        ack->bmd_version = r->meta_ack->bmd_version;
    }
    if (r != NULL) {
        aisproto__msg__free_unpacked(r, NULL);
    }
    rpc_smap_pb_free(m.smap);
    rpc_bmd_pb_free(m.bmd);
    return rc;
}

void
rpc_list_page_fini(struct rpc_list_page *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->n; i++) {
        struct rpc_list_entry *e = &p->entries[i];
        free(e->name);
        free(e->cksum_type);
        free(e->cksum_value);
        free(e->version);
        free(e->custom);
    }
    free(p->entries);
    p->entries = NULL;
    p->n = 0;
}

static char *
dup_or_null(const char *s)
{
    return (s != NULL && s[0] != '\0') ? strdup(s) : NULL;
}

int
rpc_list_page_add(struct rpc_list_page *p, const struct rpc_list_entry *e)
{
    if ((p->n & (p->n - 1)) == 0) { /* grow at powers of two */
        size_t cap = p->n ? p->n * 2 : 16;
        struct rpc_list_entry *v = realloc(p->entries, cap * sizeof(*v));
        if (v == NULL) {
            return -ENOMEM;
        }
        p->entries = v;
    }
    struct rpc_list_entry *d = &p->entries[p->n];
    memset(d, 0, sizeof(*d));
    d->name = strdup(e->name);
    d->size = e->size;
    d->atime_ns = e->atime_ns;
    d->flags = e->flags;
    d->cksum_type = dup_or_null(e->cksum_type);
    d->cksum_value = dup_or_null(e->cksum_value);
    d->version = dup_or_null(e->version);
    d->custom = dup_or_null(e->custom);
    p->n++;
    return d->name ? 0 : -ENOMEM;
}

int
rpc_list(const char *url, int timeout_ms, const struct rpc_list_req *req,
         struct rpc_list_page *page, struct rpc_err *err)
{
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__ListReq lr = AISPROTO__LIST_REQ__INIT;
    Aisproto__Bck b = AISPROTO__BCK__INIT;
    Aisproto__Msg *r = NULL;
    pb_bck(&b, req->provider, req->ns, req->bck);
    lr.bck = &b;
    lr.prefix = (char *)req->prefix;
    lr.after = (char *)req->after;
    lr.limit = req->limit;
    lr.with_md = req->with_md;
    lr.arch = req->arch;
    q.body_case = AISPROTO__MSG__BODY_LIST_REQ;
    q.list_req = &lr;
    int rc =
        call_kind(url, timeout_ms, RPC_CALL_IDEMPOTENT, &q, AISPROTO__MSG__BODY_LIST_RESP, &r, err);
    if (rc != 0) {
        return rc;
    }
    memset(page, 0, sizeof(*page));
    for (size_t i = 0; rc == 0 && i < r->list_resp->n_entries; i++) {
        const Aisproto__ListEntry *p = r->list_resp->entries[i];
        struct rpc_list_entry e = {
            .name = p->name,
            .size = p->size,
            .cksum_type = p->cksum_type,
            .cksum_value = p->cksum_value,
            .version = p->version,
            .custom = p->custom,
            .atime_ns = p->atime_ns,
            .flags = p->flags,
        };
        rc = rpc_list_page_add(page, &e);
    }
    page->more = r->list_resp->more;
    aisproto__msg__free_unpacked(r, NULL);
    if (rc != 0) {
        rpc_list_page_fini(page);
    }
    return rc;
}

int
rpc_bck_action(const char *url, int timeout_ms, const char *action, const char *provider,
               const char *ns, const char *bck, const char *value_json, struct rpc_err *err)
{
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__BckAction a = AISPROTO__BCK_ACTION__INIT;
    Aisproto__Bck b = AISPROTO__BCK__INIT;
    pb_bck(&b, provider, ns, bck);
    a.action = (char *)action;
    a.bck = &b;
    a.value_json = (char *)(value_json ? value_json : "");
    q.body_case = AISPROTO__MSG__BODY_BCK_ACTION;
    q.bck_action = &a;
    return call_ack(url, timeout_ms, 0, &q, err);
}

int
rpc_delete_objs(const char *url, int timeout_ms, const char *provider, const char *ns,
                const char *bck, const char *const *names, size_t n, uint64_t *deleted,
                uint64_t *missing, struct rpc_err *err)
{
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__DeleteObjs d = AISPROTO__DELETE_OBJS__INIT;
    Aisproto__Bck b = AISPROTO__BCK__INIT;
    Aisproto__Msg *r = NULL;
    pb_bck(&b, provider, ns, bck);
    d.bck = &b;
    d.n_names = n;
    d.names = (char **)names;
    q.body_case = AISPROTO__MSG__BODY_DELETE_OBJS;
    q.delete_objs = &d;
    int rc = call_kind(url, timeout_ms, 0, &q, AISPROTO__MSG__BODY_DELETE_RESP, &r, err);
    if (rc != 0) {
        return rc;
    }
    *deleted = r->delete_resp->deleted;
    *missing = r->delete_resp->missing;
    aisproto__msg__free_unpacked(r, NULL);
    return 0;
}

int
rpc_objs_res_add(struct rpc_objs_res *res, const char *name, const char *why)
{
    size_t n = res->nnames;
    if (n == 0 || (n >= 8 && (n & (n - 1)) == 0)) { /* capacity: 8, then powers of two */
        size_t cap = n ? n * 2 : 8;
        char **v = realloc(res->names, cap * sizeof(*v));
        if (v == NULL) {
            return -ENOMEM;
        }
        res->names = v;
        char **e = realloc(res->errs, cap * sizeof(*e));
        if (e == NULL) {
            return -ENOMEM;
        }
        res->errs = e;
    }
    char *nm = strdup(name);
    char *wy = strdup(why ? why : "");
    if (nm == NULL || wy == NULL) {
        free(nm);
        free(wy);
        return -ENOMEM;
    }
    res->names[res->nnames] = nm;
    res->errs[res->nnames] = wy;
    res->nnames++;
    return 0;
}

void
rpc_objs_res_fini(struct rpc_objs_res *res)
{
    if (res == NULL) {
        return;
    }
    for (size_t i = 0; i < res->nnames; i++) {
        free(res->names[i]);
        if (res->errs != NULL) {
            free(res->errs[i]);
        }
    }
    free(res->names);
    free(res->errs);
    memset(res, 0, sizeof(*res));
}

int
rpc_objs_op(const char *url, int timeout_ms, const struct rpc_objs_args *a,
            struct rpc_objs_res *res, struct rpc_err *err)
{
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__DeleteObjs d = AISPROTO__DELETE_OBJS__INIT;
    Aisproto__Bck b = AISPROTO__BCK__INIT;
    Aisproto__Msg *r = NULL;
    pb_bck(&b, a->provider, a->ns, a->bck);
    d.bck = &b;
    d.n_names = a->n;
    d.names = (char **)a->names;
    d.op = (char *)a->op;
    d.latest = a->latest;
    Aisproto__Bck db = AISPROTO__BCK__INIT;
    if (a->dst_bck != NULL) {
        pb_bck(&db, a->dst_provider, a->dst_ns, a->dst_bck);
        d.dst = &db;
        d.prepend = (char *)(a->prepend ? a->prepend : "");
    }
    if (a->links != NULL) {
        d.n_links = a->n;
        d.links = (char **)a->links;
        d.timeout_ms = a->timeout_ms;
    }
    d.job_id = (char *)(a->job_id ? a->job_id : "");
    d.flags = a->flags;
    if (a->prepend != NULL) {
        d.prepend = (char *)a->prepend;
    }
    q.body_case = AISPROTO__MSG__BODY_DELETE_OBJS;
    q.delete_objs = &d;
    int rc = call_kind(url, timeout_ms, 0, &q, AISPROTO__MSG__BODY_DELETE_RESP, &r, err);
    if (rc != 0) {
        return rc;
    }
    struct rpc_objs_res out = {0};
    const Aisproto__DeleteResp *dr = r->delete_resp;
    out.done = dr->deleted;
    out.skipped = dr->missing;
    out.bytes = dr->bytes;
    for (size_t i = 0; rc == 0 && i < dr->n_names; i++) {
        rc = rpc_objs_res_add(&out, dr->names[i], i < dr->n_errs ? dr->errs[i] : NULL);
    }
    aisproto__msg__free_unpacked(r, NULL);
    if (rc != 0) {
        rpc_objs_res_fini(&out);
        return rc;
    }
    *res = out;
    return 0;
}

int
rpc_obj_pull(const char *url, int timeout_ms, const char *provider, const char *ns, const char *bck,
             const char *obj, const char *dest_url, struct rpc_err *err)
{
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__ObjPull p = AISPROTO__OBJ_PULL__INIT;
    Aisproto__Bck b = AISPROTO__BCK__INIT;
    pb_bck(&b, provider, ns, bck);
    p.bck = &b;
    p.name = (char *)obj;
    p.dest_url = (char *)dest_url;
    q.body_case = AISPROTO__MSG__BODY_OBJ_PULL;
    q.obj_pull = &p;
    return call_ack(url, timeout_ms, 0, &q, err);
}

int
rpc_ec_delete(const char *url, int timeout_ms, const char *provider, const char *ns,
              const char *bck, const char *const *names, size_t n, struct rpc_err *err)
{
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__DeleteObjs d = AISPROTO__DELETE_OBJS__INIT;
    Aisproto__Bck b = AISPROTO__BCK__INIT;
    pb_bck(&b, provider, ns, bck);
    d.bck = &b;
    d.n_names = n;
    d.names = (char **)names;
    d.ec_records_only = 1;
    q.body_case = AISPROTO__MSG__BODY_DELETE_OBJS;
    q.delete_objs = &d;
    return call_ack(url, timeout_ms, RPC_CALL_IDEMPOTENT, &q, err);
}

int
rpc_slice_read(const char *url, int timeout_ms, const struct rpc_slice_req *sq,
               struct rpc_slice *out, struct rpc_err *err)
{
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__SliceReq p = AISPROTO__SLICE_REQ__INIT;
    Aisproto__Bck b = AISPROTO__BCK__INIT;
    Aisproto__Msg *r = NULL;
    pb_bck(&b, sq->provider, sq->ns, sq->bck);
    p.bck = &b;
    p.name = (char *)sq->name;
    p.offset = sq->off;
    p.len = sq->len;
    q.body_case = AISPROTO__MSG__BODY_SLICE_REQ;
    q.slice_req = &p;
    int rc = call_kind(url, timeout_ms, RPC_CALL_IDEMPOTENT, &q, AISPROTO__MSG__BODY_SLICE_RESP, &r,
                       err);
    if (rc != 0) {
        return rc;
    }
    const Aisproto__SliceResp *sr = r->slice_resp;
    if (sr->meta.len > sizeof(out->meta) || sr->data.len > sq->len) {
        aisproto__msg__free_unpacked(r, NULL);
        snprintf(err->msg, sizeof(err->msg), "slice reply too large");
        return err->code = AIS_EBADMSG;
    }
    memcpy(out->meta, sr->meta.data, sr->meta.len);
    out->meta_len = sr->meta.len;
    if (sr->data.len > 0) {
        memcpy(out->buf, sr->data.data, sr->data.len);
    }
    out->n = sr->data.len;
    out->size = sr->size;
    aisproto__msg__free_unpacked(r, NULL);
    return 0;
}

int
rpc_xact_start(const char *url, int timeout_ms, const struct rpc_xact_args *a, struct rpc_err *err)
{
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__XactStop x = AISPROTO__XACT_STOP__INIT;
    x.id = (char *)(a->id ? a->id : "");
    x.kind = (char *)(a->kind ? a->kind : "");
    x.provider = (char *)(a->provider ? a->provider : "");
    x.ns = (char *)(a->ns ? a->ns : "");
    x.bck = (char *)(a->bck ? a->bck : "");
    q.body_case = AISPROTO__MSG__BODY_XACT_START;
    q.xact_start = &x;
    return call_ack(url, timeout_ms, 0, &q, err);
}

int
rpc_xact_stop(const char *url, int timeout_ms, const char *id, const char *kind,
              struct rpc_err *err)
{
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__XactStop x = AISPROTO__XACT_STOP__INIT;
    x.id = (char *)(id ? id : "");
    x.kind = (char *)(kind ? kind : "");
    q.body_case = AISPROTO__MSG__BODY_XACT_STOP;
    q.xact_stop = &x;
    return call_ack(url, timeout_ms, RPC_CALL_IDEMPOTENT, &q, err);
}

int
rpc_vote(const char *url, int timeout_ms, const struct rpc_vote_req *q, struct rpc_vote *out,
         struct rpc_err *err)
{
    Aisproto__Msg m = AISPROTO__MSG__INIT;
    Aisproto__VoteReq v = AISPROTO__VOTE_REQ__INIT;
    Aisproto__Msg *r = NULL;
    v.candidate_id = (char *)q->candidate_id;
    v.primary_id = (char *)q->primary_id;
    v.smap_version = q->smap_version;
    m.body_case = AISPROTO__MSG__BODY_VOTE_REQ;
    m.vote_req = &v;
    int rc =
        call_kind(url, timeout_ms, RPC_CALL_IDEMPOTENT, &m, AISPROTO__MSG__BODY_VOTE_RESP, &r, err);
    if (rc != 0) {
        return rc;
    }
    struct ais_smap *smap = NULL;
    if (r->vote_resp->smap != NULL && (rc = rpc_smap_from_pb(r->vote_resp->smap, &smap)) != 0) {
        aisproto__msg__free_unpacked(r, NULL);
        return rc;
    }
    memset(out, 0, sizeof(*out));
    out->smap = smap;
    out->yes = r->vote_resp->yes;
    out->is_primary = r->vote_resp->is_primary;
    out->smap_version = r->vote_resp->smap_version;
    out->bmd_version = r->vote_resp->bmd_version;
    snprintf(out->reason, sizeof(out->reason), "%s",
             r->vote_resp->reason ? r->vote_resp->reason : "");
    aisproto__msg__free_unpacked(r, NULL);
    return 0;
}

int
rpc_node_shutdown(const char *url, int timeout_ms, const char *sid, int decommission,
                  struct rpc_err *err)
{
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__NodeShutdown n = AISPROTO__NODE_SHUTDOWN__INIT;
    n.sid = (char *)(sid ? sid : "");
    n.decommission = decommission != 0;
    q.body_case = AISPROTO__MSG__BODY_NODE_SHUTDOWN;
    q.node_shutdown = &n;
    return call_ack(url, timeout_ms, 0, &q, err);
}

int
rpc_query(const char *url, int timeout_ms, const char *what, char **json, struct rpc_err *err)
{
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__StatsReq s = AISPROTO__STATS_REQ__INIT;
    Aisproto__Msg *r = NULL;
    s.what = (char *)what;
    q.body_case = AISPROTO__MSG__BODY_STATS_REQ;
    q.stats_req = &s;
    int rc = call_kind(url, timeout_ms, RPC_CALL_IDEMPOTENT, &q, AISPROTO__MSG__BODY_JSON, &r, err);
    if (rc != 0) {
        return rc;
    }
    *json = strdup(r->json->json);
    aisproto__msg__free_unpacked(r, NULL);
    return *json ? 0 : -ENOMEM;
}

int
rpc_config_set(const char *url, int timeout_ms, const char *const *names, const char *const *values,
               size_t n, struct rpc_err *err)
{
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__ConfigSet c = AISPROTO__CONFIG_SET__INIT;
    c.n_names = c.n_values = n;
    c.names = (char **)names;
    c.values = (char **)values;
    q.body_case = AISPROTO__MSG__BODY_CONFIG_SET;
    q.config_set = &c;
    return call_ack(url, timeout_ms, RPC_CALL_IDEMPOTENT, &q, err);
}

int
rpc_obj_read(const char *url, int timeout_ms, const struct rpc_obj_ref *refs, size_t n,
             struct rpc_obj_piece *out, struct rpc_err *err)
{
    AIS_ASSERT(n > 0 && n <= AIS_RPC_OBJ_READ_REFS_MAX);
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__ObjReadReq p = AISPROTO__OBJ_READ_REQ__INIT;
    Aisproto__ObjRef *fs = calloc(n, sizeof(*fs));
    Aisproto__ObjRef **fv = calloc(n, sizeof(*fv));
    Aisproto__Bck *bs = calloc(n, sizeof(*bs));
    Aisproto__Msg *r = NULL;
    int rc = fs == NULL || fv == NULL || bs == NULL ? -ENOMEM : 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        aisproto__obj_ref__init(&fs[i]);
        aisproto__bck__init(&bs[i]);
        pb_bck(&bs[i], refs[i].provider, refs[i].ns, refs[i].bck);
        fs[i].bck = &bs[i];
        fs[i].name = (char *)refs[i].name;
        fs[i].archpath = (char *)(refs[i].archpath ? refs[i].archpath : "");
        fs[i].offset = refs[i].off;
        fs[i].len = refs[i].len;
        fv[i] = &fs[i];
    }
    if (rc == 0) {
        p.n_refs = n;
        p.refs = fv;
        q.body_case = AISPROTO__MSG__BODY_OBJ_READ_REQ;
        q.obj_read_req = &p;
        rc = call_kind(url, timeout_ms, RPC_CALL_IDEMPOTENT, &q, AISPROTO__MSG__BODY_OBJ_READ_RESP,
                       &r, err);
    }
    free(fv);
    free(fs);
    free(bs);
    if (rc != 0) {
        return rc;
    }
    const Aisproto__ObjReadResp *rr = r->obj_read_resp;
    if (rr->n_pieces != n) {
        aisproto__msg__free_unpacked(r, NULL);
        snprintf(err->msg, sizeof(err->msg), "obj_read: %zu pieces for %zu refs", rr->n_pieces, n);
        return err->code = AIS_EBADMSG;
    }
    for (size_t i = 0; i < n; i++) {
        if (rr->pieces[i]->data.len > refs[i].len) {
            aisproto__msg__free_unpacked(r, NULL);
            snprintf(err->msg, sizeof(err->msg), "obj_read: piece %zu over its length", i);
            return err->code = AIS_EBADMSG;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const Aisproto__ObjPiece *pc = rr->pieces[i];
        out[i].code = pc->code;
        out[i].size = pc->size;
        out[i].mtime_ns = pc->mtime_ns;
        out[i].n = pc->data.len;
        if (pc->data.len > 0) {
            memcpy(out[i].buf, pc->data.data, pc->data.len);
        }
    }
    aisproto__msg__free_unpacked(r, NULL);
    return 0;
}

int
rpc_dsort(const char *url, int timeout_ms, const char *op, const char *uuid, const void *body,
          size_t len, char **out, size_t *out_len, struct rpc_err *err)
{
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__DsortMsg d = AISPROTO__DSORT_MSG__INIT;
    Aisproto__Msg *r = NULL;
    d.op = (char *)op;
    d.uuid = (char *)(uuid ? uuid : "");
    d.body.data = (uint8_t *)body;
    d.body.len = len;
    q.body_case = AISPROTO__MSG__BODY_DSORT_REQ;
    q.dsort_req = &d;
    int rc = call_kind(url, timeout_ms, 0, &q, AISPROTO__MSG__BODY_DSORT_RESP, &r, err);
    if (rc != 0) {
        return rc;
    }
    size_t n = r->dsort_resp->body.len;
    char *b = malloc(n + 1);
    if (b == NULL) {
        aisproto__msg__free_unpacked(r, NULL);
        return -ENOMEM;
    }
    if (n > 0) {
        memcpy(b, r->dsort_resp->body.data, n);
    }
    b[n] = '\0';
    aisproto__msg__free_unpacked(r, NULL);
    *out = b;
    *out_len = n;
    return 0;
}
