/*
 * Goal: cluster metadata survives the wire and versions only move forward.
 * Method: protobuf round trips of Smap and BMD (fields, digests, props), malformed bytes,
 * ais_meta_apply with newer/older/equal versions and persistence across a reload, and a real
 * nng call to a local server (metasync + query + an error reply).
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
#include "rpc/rpc.h"

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
srv_metasync(void *ctx, struct ais_smap *smap, struct ais_bmd *bmd, struct rpc_err *err)
{
    g_synced = smap ? smap->version : -1;
    ais_smap_unref(smap);
    ais_bmd_unref(bmd);
    return 0;
}

static json_t *
srv_query(void *ctx, const char *what)
{
    return strcmp(what, "stats") == 0 ? json_pack("{s:b}", "ok", 1) : NULL;
}

static void
test_rpc_call(void **state)
{
    (void)state;
    static const struct rpc_ops ops = {.metasync = srv_metasync, .query = srv_query};
    struct rpc_server *s = NULL;
    char url[64];
    int port = 0, rc = -1;
    for (int i = 0; i < 20 && rc != 0; i++) {
        port = 30000 + (int)((unsigned)getpid() * 7 + (unsigned)i * 131) % 20000;
        snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
        rc = rpc_server_start(url, 2, &ops, NULL, &s);
    }
    assert_int_equal(rc, 0);
    struct rpc_err err = {0};
    struct ais_smap *m = sample_smap(11);
    assert_int_equal(rpc_metasync(url, 2000, m, NULL, &err), 0);
    assert_int_equal(g_synced, 11);
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smap_roundtrip),
        cmocka_unit_test(test_bmd_roundtrip),
        cmocka_unit_test(test_meta_versions_only_move_forward),
        cmocka_unit_test(test_rpc_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
