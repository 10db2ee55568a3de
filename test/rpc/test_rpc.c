/*
 * Goal: cluster metadata survives the wire and versions only move forward; the RPC server
 * dispatches every message through its registry, keeps handler classes apart, and the client
 * reuses one socket per peer and retries only within its budget.
 * Method: protobuf round trips of Smap and BMD (fields, digests, props), malformed bytes,
 * ais_meta_apply with newer/older/equal versions and persistence across a reload, and real
 * nng calls to local servers on 127.0.0.1: every message type against fake handlers and
 * against NULL handlers, an unknown message, slow control handlers blocking every control
 * worker while keepalive and list calls are timed, a full class queue (-EAGAIN, retried),
 * pool counters across sequential and concurrent calls, a listener that appears late and a
 * dead port.
 */
// clang-format off
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
// clang-format on

#include "common/err.h"
#include "common/meta.h"
#include "common/util.h"
#include "rpc/rpc.h"
#include "rpc/rpc_int.h"

#include <pthread.h>
#include <time.h>

static struct ais_smap *
sample_smap(int64_t ver)
{
    struct ais_smap *m = ais_smap_new();
    for (int i = 0; i < 3; i++) {
        struct ais_snode n;
        memset(&n, 0, sizeof(n));
        snprintf(n.id, sizeof(n.id), "t%d", i);
        snprintf(n.host, sizeof(n.host), "127.0.0.1");
        n.is_target = i > 0;
        n.port = (uint16_t)(8080 + i);
        n.ctrl_port = (uint16_t)(9080 + i);
        ais_snode_init_digest(&n);
        assert_int_equal(ais_smap_put_node(m, &n), 0);
    }
    snprintf(m->primary_id, sizeof(m->primary_id), "t0");
    m->version = ver;
    return m;
}

static struct ais_bmd *
sample_bmd(int64_t ver)
{
    const char *why = NULL;
    struct ais_bmd *b = ais_bmd_new();
    assert_int_equal(ais_bmd_add(b, "ais", "", "images", "xxhash", NULL, &why), 0);
    assert_int_equal(ais_bmd_add(b, "ais", "", "images", "xxhash", NULL, &why), -EEXIST);
    b->version = ver;
    return b;
}

static void
test_smap_roundtrip(void **state)
{
    (void)state;
    struct ais_smap *m = sample_smap(7), *out = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(rpc_smap_pack(m, &buf, &len), 0);
    assert_int_equal(rpc_smap_unpack(buf, len, &out), 0);
    assert_int_equal(out->version, 7);
    assert_string_equal(out->uuid, m->uuid);
    assert_string_equal(out->primary_id, "t0");
    assert_int_equal(out->nnodes, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_memory_equal(&out->nodes[i], &m->nodes[i], sizeof(m->nodes[i]));
    }
    assert_int_equal(ais_smap_count(out, 1), 2);
    /* truncated bytes are a malformed message, not a crash */
    struct ais_smap *bad = NULL;
    assert_int_equal(rpc_smap_unpack(buf, len / 2, &bad), AIS_EBADMSG);
    assert_null(bad);
    free(buf);
    ais_smap_unref(m);
    ais_smap_unref(out);
}

static void
test_bmd_roundtrip(void **state)
{
    (void)state;
    const char *why = NULL;
    struct ais_bmd *b = sample_bmd(3), *out = NULL;
    json_t *patch = json_loads("{\"versioning\":{\"enabled\":false}}", 0, NULL);
    assert_int_equal(ais_bmd_set_props(b, "ais", "", "images", patch, 0, "xxhash", &why), 0);
    json_decref(patch);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(rpc_bmd_pack(b, &buf, &len), 0);
    assert_int_equal(rpc_bmd_unpack(buf, len, &out), 0);
    const struct ais_bck_md *k = ais_bmd_find(out, "ais", "", "images");
    assert_non_null(k);
    assert_int_equal(out->version, 3);
    assert_int_equal(k->bid, b->bcks[0].bid);
    assert_string_equal(k->props_json, b->bcks[0].props_json);
    assert_int_equal(k->props.versioning, 0);
    assert_string_equal(k->props.cksum_type, "xxhash");
    free(buf);
    ais_bmd_unref(b);
    ais_bmd_unref(out);
}

static void
test_meta_versions_only_move_forward(void **state)
{
    (void)state;
    char dir[] = "/tmp/ais-meta-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct ais_meta m;
    assert_int_equal(ais_meta_init(&m, dir), 0);
    assert_int_equal(ais_meta_apply(&m, sample_smap(5), sample_bmd(2), NULL), 3);
    assert_int_equal(ais_meta_apply(&m, sample_smap(4), sample_bmd(2), NULL), 0);
    assert_int_equal(ais_meta_apply(&m, sample_smap(6), NULL, NULL), 1);
    ais_meta_fini(&m);
    /* persisted: a restart sees the newest versions */
    assert_int_equal(ais_meta_init(&m, dir), 0);
    struct ais_smap *s = ais_meta_smap(&m);
    struct ais_bmd *b = ais_meta_bmd(&m);
    assert_int_equal(s->version, 6);
    assert_int_equal(b->version, 2);
    assert_non_null(ais_bmd_find(b, "ais", "", "images"));
    assert_non_null(ais_smap_find(s, "t2"));
    ais_smap_unref(s);
    ais_bmd_unref(b);
    ais_meta_fini(&m);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static int64_t g_synced;

static int
srv_metasync(void *ctx, struct ais_smap *smap, struct ais_bmd *bmd, struct rpc_meta_ack *ack,
             struct rpc_err *err)
{
    g_synced = smap ? smap->version : -1;
    ack->smap_version = g_synced;
    ais_smap_unref(smap);
    ais_bmd_unref(bmd);
    return 0;
}

static json_t *
srv_query(void *ctx, const char *what)
{
    return strcmp(what, "stats") == 0 ? json_pack("{s:b}", "ok", 1) : NULL;
}

/* A fresh port per call: each test gets its own URL (and its own pooled socket). */
static void
start_server(const struct rpc_server_opts *o, const struct rpc_ops *ops, char *url, size_t cap,
             struct rpc_server **s)
{
    static unsigned seq;
    int rc = -1;
    for (int i = 0; i < 50 && rc != 0; i++) {
        int port = 30000 + (int)(((unsigned)getpid() * 7 + seq++ * 131) % 20000);
        snprintf(url, cap, "tcp://127.0.0.1:%d", port);
        rc = rpc_server_start(url, o, ops, NULL, s);
    }
    assert_int_equal(rc, 0);
}

static void
test_rpc_call(void **state)
{
    (void)state;
    static const struct rpc_ops ops = {.metasync = srv_metasync, .query = srv_query};
    struct rpc_server *s = NULL;
    char url[64];
    start_server(NULL, &ops, url, sizeof(url), &s);
    struct rpc_err err = {0};
    struct ais_smap *m = sample_smap(11);
    struct rpc_meta_ack ack = {0};
    assert_int_equal(rpc_metasync(url, 2000, m, NULL, &ack, &err), 0);
    assert_int_equal(g_synced, 11);
    assert_int_equal(ack.smap_version, 11);
    char *json = NULL;
    assert_int_equal(rpc_query(url, 2000, "stats", &json, &err), 0);
    assert_string_equal(json, "{\"ok\":true}");
    free(json);
    assert_int_equal(rpc_query(url, 2000, "nope", &json, &err), -EINVAL);
    assert_string_equal(err.msg, "unknown what=nope");
    /* a handler that is not implemented answers -ENOTSUP, not a hang */
    struct rpc_list_page page;
    struct rpc_list_req lr = {.provider = "ais", .ns = "", .bck = "b", .prefix = "", .after = ""};
    assert_int_equal(rpc_list(url, 2000, &lr, &page, &err), -ENOTSUP);
    rpc_server_stop(s);
    /* nobody listening: bounded by the deadline */
    assert_int_equal(rpc_query(url, 300, "stats", &json, &err), -ETIMEDOUT);
    ais_smap_unref(m);
}

/* ---- registry: every message type reaches its typed handler ---- */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int hits[16];
    int block;   /* slow handlers wait while set */
    int entered; /* slow handlers currently waiting */
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

enum { H_JOIN, H_KA, H_SYNC, H_LIST, H_BCK, H_DEL, H_QUERY, H_CFG };

static void
hit(int h)
{
    pthread_mutex_lock(&g.mu);
    g.hits[h]++;
    pthread_mutex_unlock(&g.mu);
}

static int
f_join(void *ctx, const struct ais_snode *node, struct ais_smap **smap, struct ais_bmd **bmd,
       struct rpc_err *err)
{
    hit(H_JOIN);
    if (strcmp(node->id, "t9") != 0) {
        return -EINVAL;
    }
    *smap = sample_smap(21);
    *bmd = sample_bmd(4);
    return 0;
}

static int
f_keepalive(void *ctx, const char *id, int64_t smap_ver, int64_t bmd_ver, struct ais_smap **smap,
            struct ais_bmd **bmd, struct rpc_err *err)
{
    hit(H_KA);
    if (strcmp(id, "gone") == 0) {
        snprintf(err->msg, sizeof(err->msg), "not in smap");
        return -ENOENT;
    }
    *smap = smap_ver < 5 ? sample_smap(5) : NULL;
    *bmd = NULL;
    return 0;
}

static int
f_metasync(void *ctx, struct ais_smap *smap, struct ais_bmd *bmd, struct rpc_meta_ack *ack,
           struct rpc_err *err)
{
    hit(H_SYNC);
    int ok = smap != NULL && smap->version == 8 && bmd != NULL && bmd->version == 2;
    ack->smap_version = smap ? smap->version : 0;
    ack->bmd_version = bmd ? bmd->version : 0;
    ais_smap_unref(smap);
    ais_bmd_unref(bmd);
    return ok ? 0 : -EINVAL;
}

static int
f_list(void *ctx, const struct rpc_list_req *req, struct rpc_list_page *page, struct rpc_err *err)
{
    hit(H_LIST);
    struct rpc_list_entry e = {.name = "a/1", .size = 10, .cksum_type = "xxhash"};
    int rc = rpc_list_page_add(page, &e);
    e.name = "a/2";
    e.size = 20;
    rc = rc ? rc : rpc_list_page_add(page, &e);
    page->more = strcmp(req->prefix, "a/") == 0;
    return rc;
}

static int
f_bck_action(void *ctx, const char *action, const char *provider, const char *ns, const char *bck,
             const char *value_json, struct rpc_err *err)
{
    hit(H_BCK);
    pthread_mutex_lock(&g.mu);
    g.entered++;
    pthread_cond_broadcast(&g.cv);
    while (g.block) {
        pthread_cond_wait(&g.cv, &g.mu);
    }
    g.entered--;
    pthread_mutex_unlock(&g.mu);
    return strcmp(action, "create") == 0 && strcmp(bck, "b1") == 0 ? 0 : -EINVAL;
}

static int
f_delete_objs(void *ctx, const char *provider, const char *ns, const char *bck,
              const char *const *names, size_t n, uint64_t *deleted, uint64_t *missing,
              struct rpc_err *err)
{
    hit(H_DEL);
    *deleted = n;
    *missing = 1;
    return 0;
}

static json_t *
f_query(void *ctx, const char *what)
{
    hit(H_QUERY);
    return json_pack("{s:s}", "what", what);
}

static int
f_config_set(void *ctx, const char *const *names, const char *const *values, size_t n,
             struct rpc_err *err)
{
    hit(H_CFG);
    return n == 2 && strcmp(names[1], "log.level") == 0 && strcmp(values[1], "3") == 0 ? 0
                                                                                       : -EINVAL;
}

static const struct rpc_ops fake_ops = {
    .join = f_join,
    .keepalive = f_keepalive,
    .metasync = f_metasync,
    .list = f_list,
    .bck_action = f_bck_action,
    .delete_objs = f_delete_objs,
    .query = f_query,
    .config_set = f_config_set,
};

static void
test_registry_dispatch(void **state)
{
    (void)state;
    struct rpc_server *s = NULL;
    struct rpc_err err = {0};
    char url[64];
    start_server(NULL, &fake_ops, url, sizeof(url), &s);
    memset(g.hits, 0, sizeof(g.hits));

    struct ais_smap *sm = NULL, *self_map = sample_smap(1);
    struct ais_bmd *bm = NULL;
    struct ais_snode self = self_map->nodes[0];
    snprintf(self.id, sizeof(self.id), "t9");
    assert_int_equal(rpc_join(url, 2000, &self, &sm, &bm, &err), 0);
    assert_int_equal(sm->version, 21);
    assert_int_equal(bm->version, 4);
    ais_smap_unref(sm);
    ais_bmd_unref(bm);

    sm = NULL;
    bm = NULL;
    assert_int_equal(rpc_keepalive(url, 2000, "t1", 3, 1, &sm, &bm, &err), 0);
    assert_non_null(sm);
    assert_null(bm);
    ais_smap_unref(sm);
    assert_int_equal(rpc_keepalive(url, 2000, "gone", 3, 1, &sm, &bm, &err), -ENOENT);
    assert_string_equal(err.msg, "not in smap");

    struct ais_smap *m8 = sample_smap(8);
    struct ais_bmd *b2 = sample_bmd(2);
    struct rpc_meta_ack ack = {0};
    assert_int_equal(rpc_metasync(url, 2000, m8, b2, &ack, &err), 0);
    assert_int_equal(ack.smap_version, 8);
    assert_int_equal(ack.bmd_version, 2);
    ais_smap_unref(m8);
    ais_bmd_unref(b2);

    struct rpc_list_page page;
    struct rpc_list_req lr = {.provider = "ais", .ns = "", .bck = "b", .prefix = "a/", .after = ""};
    assert_int_equal(rpc_list(url, 2000, &lr, &page, &err), 0);
    assert_int_equal(page.n, 2);
    assert_string_equal(page.entries[1].name, "a/2");
    assert_int_equal(page.entries[1].size, 20);
    assert_int_equal(page.more, 1);
    rpc_list_page_fini(&page);

    assert_int_equal(rpc_bck_action(url, 2000, "create", "ais", "", "b1", "{}", &err), 0);
    assert_int_equal(rpc_bck_action(url, 2000, "destroy", "ais", "", "b1", NULL, &err), -EINVAL);

    const char *names[] = {"x", "y", "z"};
    uint64_t deleted = 0, missing = 0;
    assert_int_equal(
        rpc_delete_objs(url, 2000, "ais", "", "b1", names, 3, &deleted, &missing, &err), 0);
    assert_int_equal(deleted, 3);
    assert_int_equal(missing, 1);

    char *json = NULL;
    assert_int_equal(rpc_query(url, 2000, "mountpaths", &json, &err), 0);
    assert_string_equal(json, "{\"what\":\"mountpaths\"}");
    free(json);

    const char *kn[] = {"a.b", "log.level"}, *kv[] = {"1", "3"};
    assert_int_equal(rpc_config_set(url, 2000, kn, kv, 2, &err), 0);

    int want[] = {[H_JOIN] = 1, [H_KA] = 2,  [H_SYNC] = 1,  [H_LIST] = 1,
                  [H_BCK] = 2,  [H_DEL] = 1, [H_QUERY] = 1, [H_CFG] = 1};
    for (int i = 0; i <= H_CFG; i++) {
        assert_int_equal(g.hits[i], want[i]);
    }
    ais_smap_unref(self_map);
    rpc_server_stop(s);
}

static void
test_registry_null_and_unknown(void **state)
{
    (void)state;
    static const struct rpc_ops none = {0};
    struct rpc_server *s = NULL;
    struct rpc_err err = {0};
    char url[64];
    start_server(NULL, &none, url, sizeof(url), &s);
    struct ais_smap *sm = NULL, *one = sample_smap(1);
    struct ais_bmd *bm = NULL;
    assert_int_equal(rpc_join(url, 2000, &one->nodes[0], &sm, &bm, &err), -ENOTSUP);
    assert_int_equal(rpc_keepalive(url, 2000, "t1", 1, 1, &sm, &bm, &err), -ENOTSUP);
    assert_int_equal(rpc_metasync(url, 2000, one, NULL, NULL, &err), -ENOTSUP);
    struct rpc_list_page page;
    struct rpc_list_req lr = {.provider = "ais", .ns = "", .bck = "b", .prefix = "", .after = ""};
    assert_int_equal(rpc_list(url, 2000, &lr, &page, &err), -ENOTSUP);
    assert_int_equal(rpc_bck_action(url, 2000, "create", "ais", "", "b", NULL, &err), -ENOTSUP);
    uint64_t d = 0, mi = 0;
    const char *names[] = {"x"};
    assert_int_equal(rpc_delete_objs(url, 2000, "ais", "", "b", names, 1, &d, &mi, &err), -ENOTSUP);
    char *json = NULL;
    assert_int_equal(rpc_query(url, 2000, "stats", &json, &err), -ENOTSUP);
    assert_int_equal(rpc_config_set(url, 2000, names, names, 1, &err), -ENOTSUP);
    assert_int_equal(rpc_obj_pull(url, 2000, "ais", "", "b", "x", "tcp://127.0.0.1:1", &err),
                     -ENOTSUP);
    assert_int_equal(rpc_xact_stop(url, 2000, "g1", "rebalance", &err), -ENOTSUP);
    assert_int_equal(rpc_node_shutdown(url, 2000, "t1", 1, &err), -ENOTSUP);
    /* a reply-only body is not a request: malformed, answered (not dropped) */
    Aisproto__Msg q = AISPROTO__MSG__INIT;
    Aisproto__Ack ack = AISPROTO__ACK__INIT;
    Aisproto__Msg *r = NULL;
    q.body_case = AISPROTO__MSG__BODY_ACK;
    q.ack = &ack;
    assert_int_equal(rpc_call(url, 2000, 0, &q, &r, &err), AIS_EBADMSG);
    assert_null(r);
    /* an empty message (no body) likewise */
    Aisproto__Msg empty = AISPROTO__MSG__INIT;
    assert_int_equal(rpc_call(url, 2000, 0, &empty, &r, &err), AIS_EBADMSG);
    ais_smap_unref(one);
    rpc_server_stop(s);
}

/* node_shutdown: sid and the decommission bit arrive intact; the handler's refusal comes back
 * with its code and text. */
static int shut_calls, shut_decomm;

static int
f_node_shutdown(void *ctx, const char *sid, int decommission, struct rpc_err *err)
{
    (void)ctx;
    if (strcmp(sid, "t7") != 0) {
        snprintf(err->msg, sizeof(err->msg), "not me: %s", sid);
        return -EINVAL;
    }
    shut_calls++;
    shut_decomm = decommission;
    return 0;
}

static void
test_node_shutdown(void **state)
{
    (void)state;
    static const struct rpc_ops ops = {.node_shutdown = f_node_shutdown};
    struct rpc_server *s = NULL;
    struct rpc_err err = {0};
    char url[64];
    start_server(NULL, &ops, url, sizeof(url), &s);
    assert_int_equal(rpc_node_shutdown(url, 2000, "t7", 1, &err), 0);
    assert_int_equal(shut_calls, 1);
    assert_int_equal(shut_decomm, 1);
    assert_int_equal(rpc_node_shutdown(url, 2000, "t7", 0, &err), 0);
    assert_int_equal(shut_decomm, 0);
    assert_int_equal(rpc_node_shutdown(url, 2000, "t8", 0, &err), -EINVAL);
    assert_string_equal(err.msg, "not me: t8");
    assert_int_equal(rpc_node_shutdown(url, 2000, NULL, 0, &err), -EINVAL);
    assert_int_equal(shut_calls, 2);
    rpc_server_stop(s);
}

/* slice_read (SliceReq) and ec_delete (DeleteObjs with ec_records_only): fields arrive intact,
 * data comes back exactly, len 0 is metadata only, an oversized len is refused before the
 * handler, the handler's -ENOENT comes back; ec_delete never reaches delete_objs. */
static int ecdel_calls, delobj_calls;

static int
f_slice_read(void *ctx, const struct rpc_slice_req *q, struct rpc_slice *out, struct rpc_err *err)
{
    (void)ctx;
    if (strcmp(q->name, "obj") != 0 || strcmp(q->bck, "b") != 0) {
        snprintf(err->msg, sizeof(err->msg), "no record of %s", q->name);
        return -ENOENT;
    }
    memcpy(out->meta, "META", 4);
    out->meta_len = 4;
    out->size = 1000;
    for (uint32_t i = 0; i < q->len; i++) {
        ((uint8_t *)out->buf)[i] = (uint8_t)(q->off + i);
    }
    out->n = q->len;
    return 0;
}

static int
f_ec_delete(void *ctx, const char *provider, const char *ns, const char *bck,
            const char *const *names, size_t n, struct rpc_err *err)
{
    (void)ctx;
    (void)err;
    ecdel_calls += n == 2 && strcmp(names[1], "y") == 0 && strcmp(bck, "b") == 0;
    return 0;
}

static int
f_delete_objs_ec(void *ctx, const char *provider, const char *ns, const char *bck,
                 const char *const *names, size_t n, uint64_t *deleted, uint64_t *missing,
                 struct rpc_err *err)
{
    (void)ctx;
    delobj_calls++;
    return 0;
}

static void
test_slice_read_and_ec_delete(void **state)
{
    (void)state;
    static const struct rpc_ops ops = {
        .slice_read = f_slice_read, .ec_delete = f_ec_delete, .delete_objs = f_delete_objs_ec};
    struct rpc_server *s = NULL;
    struct rpc_err err = {0};
    char url[64];
    start_server(NULL, &ops, url, sizeof(url), &s);
    uint8_t buf[300];
    struct rpc_slice out;
    memset(&out, 0, sizeof(out));
    out.buf = buf;
    struct rpc_slice_req q = {
        .provider = "ais", .ns = "", .bck = "b", .name = "obj", .off = 7, .len = sizeof(buf)};
    assert_int_equal(rpc_slice_read(url, 2000, &q, &out, &err), 0);
    assert_int_equal(out.n, sizeof(buf));
    assert_int_equal(out.size, 1000);
    assert_int_equal(out.meta_len, 4);
    assert_memory_equal(out.meta, "META", 4);
    assert_int_equal(buf[0], 7);
    assert_int_equal(buf[299], (uint8_t)(7 + 299));
    q.len = 0; /* metadata only */
    assert_int_equal(rpc_slice_read(url, 2000, &q, &out, &err), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(out.meta_len, 4);
    q.name = "other";
    assert_int_equal(rpc_slice_read(url, 2000, &q, &out, &err), -ENOENT);
    assert_string_equal(err.msg, "no record of other");
    q.name = "obj";
    q.len = AIS_STREAM_CHUNK_BYTES_MAX + 1; /* max + 1: refused by the RPC layer */
    assert_int_equal(rpc_slice_read(url, 2000, &q, &out, &err), AIS_EBADMSG);
    const char *names[] = {"x", "y"};
    assert_int_equal(rpc_ec_delete(url, 2000, "ais", "", "b", names, 2, &err), 0);
    assert_int_equal(ecdel_calls, 1);
    assert_int_equal(delobj_calls, 0);
    rpc_server_stop(s);
}

/* objs_op (DeleteObjs with op): a promote call's source, prefix, flags and job id arrive
 * intact (no links, no dst needed), counters and names come back, an error's text too. */
static int
f_objs_op(void *ctx, const struct rpc_objs_args *a, struct rpc_objs_res *res, struct rpc_err *err)
{
    (void)ctx;
    if (strcmp(a->op, "promote-scan") != 0 || a->n != 1 || strcmp(a->names[0], "/src/d") != 0 ||
        strcmp(a->prepend, "pre/") != 0 || strcmp(a->job_id, "p123") != 0 || a->links != NULL ||
        a->dst_bck != NULL) {
        snprintf(err->msg, sizeof(err->msg), "bad args: %s flags=%u", a->op, a->flags);
        return -EINVAL;
    }
    res->done = a->flags;
    res->bytes = 4096;
    res->skipped = 2;
    return rpc_objs_res_add(res, "00ff", NULL);
}

static void
test_objs_op_promote_fields(void **state)
{
    (void)state;
    static const struct rpc_ops ops = {.objs_op = f_objs_op};
    struct rpc_server *s = NULL;
    struct rpc_err err = {0};
    char url[64];
    start_server(NULL, &ops, url, sizeof(url), &s);
    const char *names[] = {"/src/d"};
    struct rpc_objs_args a = {.op = "promote-scan",
                              .provider = "ais",
                              .ns = "",
                              .bck = "b",
                              .names = names,
                              .n = 1,
                              .prepend = "pre/",
                              .job_id = "p123",
                              .flags = RPC_PROMOTE_RECURSIVE | RPC_PROMOTE_FSHARE};
    struct rpc_objs_res res = {0};
    assert_int_equal(rpc_objs_op(url, 2000, &a, &res, &err), 0);
    assert_int_equal(res.done, RPC_PROMOTE_RECURSIVE | RPC_PROMOTE_FSHARE);
    assert_int_equal(res.bytes, 4096);
    assert_int_equal(res.skipped, 2);
    assert_int_equal(res.nnames, 1);
    assert_string_equal(res.names[0], "00ff");
    rpc_objs_res_fini(&res);
    a.op = "promote";
    assert_int_equal(rpc_objs_op(url, 2000, &a, &res, &err), -EINVAL);
    assert_string_equal(err.msg, "bad args: promote flags=9");
    rpc_server_stop(s);
}

/* ---- handler classes ---- */

struct bck_call {
    pthread_t th;
    const char *url;
    int rc;
};

static void *
bck_call_main(void *arg)
{
    struct bck_call *c = arg;
    struct rpc_err err = {0};
    c->rc = rpc_bck_action(c->url, 20000, "create", "ais", "", "b1", NULL, &err);
    return NULL;
}

/* Polls until `entered` slow handlers wait and `queued` requests are queued on control. */
static void
wait_blocked(struct rpc_server *s, int entered, unsigned queued)
{
    int64_t deadline = ais_mono_ns() + 10 * 1000000000LL;
    for (;;) {
        pthread_mutex_lock(&g.mu);
        int e = g.entered;
        pthread_mutex_unlock(&g.mu);
        if (e == entered && rpc_server_queued(s, RPC_CLASS_CONTROL) == queued) {
            return;
        }
        assert_true(ais_mono_ns() < deadline);
        struct timespec ts = {0, 2 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void
release_blocked(struct bck_call *calls, int n)
{
    pthread_mutex_lock(&g.mu);
    g.block = 0;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    for (int i = 0; i < n; i++) {
        pthread_join(calls[i].th, NULL);
        assert_int_equal(calls[i].rc, 0);
    }
}

static void
test_class_isolation(void **state)
{
    (void)state;
    struct rpc_server_opts o = {.workers = {[RPC_CLASS_CONTROL] = 2}};
    struct rpc_server *s = NULL;
    struct rpc_err err = {0};
    char url[64];
    start_server(&o, &fake_ops, url, sizeof(url), &s);
    g.block = 1;
    /* both control workers stuck in a slow handler, two more requests queued behind them */
    struct bck_call calls[4];
    for (int i = 0; i < 4; i++) {
        calls[i].url = url;
        assert_int_equal(pthread_create(&calls[i].th, NULL, bck_call_main, &calls[i]), 0);
    }
    wait_blocked(s, 2, 2);
    for (int i = 0; i < 20; i++) {
        struct ais_smap *sm = NULL;
        struct ais_bmd *bm = NULL;
        int64_t t0 = ais_mono_ns();
        assert_int_equal(rpc_keepalive(url, 2000, "t1", 9, 1, &sm, &bm, &err), 0);
        assert_true(ais_mono_ns() - t0 < 500 * 1000000LL);
        struct rpc_list_page page;
        struct rpc_list_req lr = {
            .provider = "ais", .ns = "", .bck = "b", .prefix = "", .after = ""};
        assert_int_equal(rpc_list(url, 2000, &lr, &page, &err), 0);
        rpc_list_page_fini(&page);
    }
    release_blocked(calls, 4);
    rpc_server_stop(s);
}

static void
test_queue_full_retries(void **state)
{
    (void)state;
    struct rpc_server_opts o = {.workers = {[RPC_CLASS_CONTROL] = 1}};
    struct rpc_server *s = NULL;
    struct rpc_err err = {0};
    struct rpc_client_stats before, after;
    char url[64];
    start_server(&o, &fake_ops, url, sizeof(url), &s);
    g.block = 1;
    /* one running + AIS_RPC_QUEUE_PER_WORKER queued: the control queue is full */
    struct bck_call calls[1 + AIS_RPC_QUEUE_PER_WORKER];
    int n = 1 + AIS_RPC_QUEUE_PER_WORKER;
    for (int i = 0; i < n; i++) {
        calls[i].url = url;
        assert_int_equal(pthread_create(&calls[i].th, NULL, bck_call_main, &calls[i]), 0);
    }
    wait_blocked(s, 1, AIS_RPC_QUEUE_PER_WORKER);
    rpc_client_stats(&before);
    char *json = NULL;
    int64_t t0 = ais_mono_ns();
    assert_int_equal(rpc_query(url, 3000, "stats", &json, &err), -EAGAIN);
    assert_true(ais_mono_ns() - t0 < 2000 * 1000000LL);
    rpc_client_stats(&after);
    assert_int_equal(after.retries - before.retries, AIS_RPC_RETRIES_MAX);
    /* a tight budget leaves no room for backoff: no retry at all */
    assert_int_equal(rpc_query(url, 5, "stats", &json, &err) < 0, 1);
    release_blocked(calls, n);
    assert_int_equal(rpc_query(url, 3000, "stats", &json, &err), 0);
    free(json);
    rpc_server_stop(s);
}

/* ---- client pool ---- */

struct query_call {
    pthread_t th;
    const char *url;
    int fails;
};

static void *
query_main(void *arg)
{
    struct query_call *c = arg;
    for (int i = 0; i < 25; i++) {
        struct rpc_err err = {0};
        char *json = NULL;
        if (rpc_query(c->url, 5000, "stats", &json, &err) != 0) {
            c->fails++;
        }
        free(json);
    }
    return NULL;
}

static void
test_connection_reuse(void **state)
{
    (void)state;
    struct rpc_server *s = NULL;
    struct rpc_client_stats before, after;
    char url[64];
    start_server(NULL, &fake_ops, url, sizeof(url), &s);
    rpc_client_stats(&before);
    for (int i = 0; i < 50; i++) {
        struct rpc_err err = {0};
        char *json = NULL;
        assert_int_equal(rpc_query(url, 2000, "stats", &json, &err), 0);
        free(json);
    }
    struct query_call qc[8];
    memset(qc, 0, sizeof(qc));
    for (int i = 0; i < 8; i++) {
        qc[i].url = url;
        assert_int_equal(pthread_create(&qc[i].th, NULL, query_main, &qc[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(qc[i].th, NULL);
        assert_int_equal(qc[i].fails, 0);
    }
    rpc_client_stats(&after);
    assert_int_equal(after.sockets_opened - before.sockets_opened, 1);
    assert_int_equal(after.calls - before.calls, 50 + 8 * 25);
    rpc_server_stop(s);
    /* the pool is rebuilt after a shutdown */
    rpc_client_shutdown();
    rpc_client_stats(&after);
    assert_int_equal(after.peers, 0);
}

struct late_listener {
    pthread_t th;
    char url[64];
    struct rpc_server *s;
    int rc;
};

static void *
late_main(void *arg)
{
    struct late_listener *l = arg;
    struct timespec ts = {0, 300 * 1000000L}; /* the delay under test, not synchronisation */
    nanosleep(&ts, NULL);
    l->rc = rpc_server_start(l->url, NULL, &fake_ops, NULL, &l->s);
    return NULL;
}

static void
test_retry_late_listener(void **state)
{
    (void)state;
    struct late_listener l = {0};
    struct rpc_server *probe = NULL;
    struct rpc_err err = {0};
    /* find a free port, then free it again for the late listener */
    start_server(NULL, &fake_ops, l.url, sizeof(l.url), &probe);
    rpc_server_stop(probe);
    assert_int_equal(pthread_create(&l.th, NULL, late_main, &l), 0);
    char *json = NULL;
    int64_t t0 = ais_mono_ns();
    assert_int_equal(rpc_query(l.url, 3000, "stats", &json, &err), 0);
    assert_true(ais_mono_ns() - t0 >= 250 * 1000000LL);
    free(json);
    pthread_join(l.th, NULL);
    assert_int_equal(l.rc, 0);
    rpc_server_stop(l.s);
}

static void
test_dead_port_budget(void **state)
{
    (void)state;
    struct rpc_server *probe = NULL;
    struct rpc_err err = {0};
    char url[64], *json = NULL;
    start_server(NULL, &fake_ops, url, sizeof(url), &probe);
    rpc_server_stop(probe);
    int64_t t0 = ais_mono_ns();
    assert_int_equal(rpc_query(url, 400, "stats", &json, &err), -ETIMEDOUT);
    int64_t took = ais_mono_ns() - t0;
    assert_true(took >= 350 * 1000000LL && took < 700 * 1000000LL);
    /* a non-idempotent call is bounded the same way */
    t0 = ais_mono_ns();
    assert_int_equal(rpc_bck_action(url, 300, "create", "ais", "", "b", NULL, &err), -ETIMEDOUT);
    assert_true(ais_mono_ns() - t0 < 600 * 1000000LL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smap_roundtrip),
        cmocka_unit_test(test_bmd_roundtrip),
        cmocka_unit_test(test_meta_versions_only_move_forward),
        cmocka_unit_test(test_rpc_call),
        cmocka_unit_test(test_registry_dispatch),
        cmocka_unit_test(test_registry_null_and_unknown),
        cmocka_unit_test(test_node_shutdown),
        cmocka_unit_test(test_slice_read_and_ec_delete),
        cmocka_unit_test(test_objs_op_promote_fields),
        cmocka_unit_test(test_class_isolation),
        cmocka_unit_test(test_queue_full_retries),
        cmocka_unit_test(test_connection_reuse),
        cmocka_unit_test(test_retry_late_listener),
        cmocka_unit_test(test_dead_port_budget),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rpc_client_shutdown();
    return rc;
}
