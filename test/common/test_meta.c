/*
 * Goal: the metadata holder is race-free: versions only move forward, the listener sees the
 * exact (old, new) pairs in version order even when many threads apply at once, readers can
 * take references while writers swap, clones never read a source's changing refcount, and
 * persisting is separate from installing.
 * Method: direct calls, then thread storms (8 appliers, 4 readers, clone vs ref/unref); the
 * threads only count violations (cmocka asserts are not thread-safe) and the main thread
 * checks the counts. Meant to run under ASan and TSan (see the h4 notes in common/meta.c).
 */
// clang-format off
#include <errno.h>
#include <pthread.h>
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

#include "common/meta.h"

#define APPLIERS 8
#define VERSIONS_PER_APPLIER 200
#define READERS 4

static struct ais_smap *
smap_v(int64_t v)
{
    struct ais_smap *m = ais_smap_new();
    struct ais_snode n;
    memset(&n, 0, sizeof(n));
    snprintf(n.id, sizeof(n.id), "t%lld", (long long)(v % 7));
    snprintf(n.host, sizeof(n.host), "127.0.0.1");
    n.is_target = 1;
    n.port = 9000;
    n.ctrl_port = 10000;
    ais_snode_init_digest(&n);
    assert_int_equal(ais_smap_put_node(m, &n), 0);
    m->version = v;
    return m;
}

static struct ais_bmd *
bmd_v(int64_t v)
{
    struct ais_bmd *b = ais_bmd_new();
    b->version = v;
    return b;
}

static void
tmpdir(char *dir)
{
    strcpy(dir, "/tmp/ais-meta-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void
rmdir_rf(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void
test_forward_only(void **state)
{
    (void)state;
    char dir[32];
    tmpdir(dir);
    struct ais_meta m;
    struct ais_meta_vers v = {0};
    assert_int_equal(ais_meta_init(&m, dir), 0);
    assert_int_equal(ais_meta_apply(&m, smap_v(5), bmd_v(2), &v), 3);
    assert_int_equal(v.smap, 5);
    assert_int_equal(v.bmd, 2);
    /* older and equal versions are dropped, and installed still reports the current ones */
    assert_int_equal(ais_meta_apply(&m, smap_v(4), bmd_v(2), &v), 0);
    assert_int_equal(v.smap, 5);
    assert_int_equal(ais_meta_apply(&m, smap_v(5), NULL, NULL), 0);
    assert_int_equal(ais_meta_apply(&m, NULL, bmd_v(3), &v), 2);
    assert_int_equal(v.bmd, 3);
    assert_int_equal(ais_meta_apply(&m, NULL, NULL, NULL), 0);
    ais_meta_vers(&m, &v);
    assert_int_equal(v.smap, 5);
    assert_int_equal(v.bmd, 3);
    ais_meta_fini(&m);
    /* persisted: a restart sees the newest versions */
    assert_int_equal(ais_meta_init(&m, dir), 0);
    ais_meta_vers(&m, &v);
    assert_int_equal(v.smap, 5);
    assert_int_equal(v.bmd, 3);
    ais_meta_fini(&m);
    ais_meta_fini(&m); /* idempotent */
    rmdir_rf(dir);
}

static void
test_install_then_persist(void **state)
{
    (void)state;
    char dir[32];
    tmpdir(dir);
    struct ais_meta m;
    struct ais_meta_vers v = {0};
    assert_int_equal(ais_meta_init(&m, dir), 0);
    /* install is memory only: a restart before persist sees nothing */
    assert_int_equal(ais_meta_install(&m, smap_v(7), bmd_v(4), NULL), 3);
    ais_meta_fini(&m);
    assert_int_equal(ais_meta_init(&m, dir), 0);
    ais_meta_vers(&m, &v);
    assert_int_equal(v.smap, 0);
    assert_int_equal(ais_meta_install(&m, smap_v(7), bmd_v(4), NULL), 3);
    assert_int_equal(ais_meta_persist(&m), 0);
    assert_int_equal(ais_meta_persist(&m), 0); /* nothing new: no write */
    ais_meta_fini(&m);
    assert_int_equal(ais_meta_init(&m, dir), 0);
    ais_meta_vers(&m, &v);
    assert_int_equal(v.smap, 7);
    assert_int_equal(v.bmd, 4);
    ais_meta_fini(&m);
    rmdir_rf(dir);
}

static void
test_fini_zeroed(void **state)
{
    (void)state;
    struct ais_meta m;
    memset(&m, 0, sizeof(m));
    ais_meta_fini(&m);
    ais_meta_fini(NULL);
}

/* ---- concurrent appliers: the listener's pairs form one increasing chain ---- */

struct chain {
    struct ais_meta m;
    pthread_mutex_t mu; /* only for the recorded arrays (the listener is already serialised) */
    int64_t smap_last, bmd_last;
    int calls, bad;
    int64_t in_listener; /* atomic: > 1 would mean concurrent listener calls */
};

static void
chain_listener(void *ctx, const struct ais_meta_change *c)
{
    struct chain *ch = ctx;
    if (__atomic_add_fetch(&ch->in_listener, 1, __ATOMIC_ACQ_REL) != 1) {
        __atomic_add_fetch(&ch->bad, 1, __ATOMIC_RELAXED);
    }
    pthread_mutex_lock(&ch->mu);
    ch->calls++;
    if ((c->new_smap == NULL) != (c->old_smap == NULL) ||
        (c->new_bmd == NULL) != (c->old_bmd == NULL) ||
        (c->new_smap == NULL && c->new_bmd == NULL)) {
        ch->bad++;
    }
    if (c->new_smap != NULL) {
        /* old is exactly the previous new; versions strictly increase */
        ch->bad += c->old_smap->version != ch->smap_last;
        ch->bad += c->new_smap->version <= c->old_smap->version;
        ch->smap_last = c->new_smap->version;
    }
    if (c->new_bmd != NULL) {
        ch->bad += c->old_bmd->version != ch->bmd_last;
        ch->bad += c->new_bmd->version <= c->old_bmd->version;
        ch->bmd_last = c->new_bmd->version;
    }
    /* the current snapshot is what was just installed (readers are fine inside) */
    if (c->new_smap != NULL) {
        struct ais_smap *s = ais_meta_smap(&ch->m);
        ch->bad += s != c->new_smap;
        ais_smap_unref(s);
    }
    pthread_mutex_unlock(&ch->mu);
    __atomic_sub_fetch(&ch->in_listener, 1, __ATOMIC_ACQ_REL);
}

struct applier_arg {
    struct chain *ch;
    int idx;
};

static void *
applier_main(void *a)
{
    struct applier_arg *arg = a;
    for (int i = 0; i < VERSIONS_PER_APPLIER; i++) {
        /* Interleaved versions: thread k applies k+1, k+1+N, ...; bmd runs backwards in
         * half the threads so many arrive out of order and must be dropped. */
        int64_t v = 1 + arg->idx + (int64_t)i * APPLIERS;
        int64_t bv = (arg->idx % 2) ? v : (int64_t)VERSIONS_PER_APPLIER * APPLIERS - v + 1;
        (void)ais_meta_install(&arg->ch->m, smap_v(v), bmd_v(bv), NULL);
    }
    return NULL;
}

static void
test_listener_order_concurrent(void **state)
{
    (void)state;
    char dir[32];
    tmpdir(dir);
    struct chain ch;
    memset(&ch, 0, sizeof(ch));
    pthread_mutex_init(&ch.mu, NULL);
    assert_int_equal(ais_meta_init(&ch.m, dir), 0);
    ais_meta_listen(&ch.m, chain_listener, &ch);
    pthread_t th[APPLIERS];
    struct applier_arg args[APPLIERS];
    for (int i = 0; i < APPLIERS; i++) {
        args[i] = (struct applier_arg){.ch = &ch, .idx = i};
        assert_int_equal(pthread_create(&th[i], NULL, applier_main, &args[i]), 0);
    }
    for (int i = 0; i < APPLIERS; i++) {
        pthread_join(th[i], NULL);
    }
    assert_int_equal(ch.bad, 0);
    assert_true(ch.calls > 0);
    struct ais_meta_vers v;
    ais_meta_vers(&ch.m, &v);
    assert_int_equal(v.smap, (int64_t)APPLIERS * VERSIONS_PER_APPLIER);
    assert_int_equal(v.smap, ch.smap_last);
    assert_int_equal(v.bmd, ch.bmd_last);
    assert_int_equal(v.bmd, (int64_t)APPLIERS * VERSIONS_PER_APPLIER);
    ais_meta_fini(&ch.m);
    pthread_mutex_destroy(&ch.mu);
    rmdir_rf(dir);
}

/* ---- readers take references while writers swap ---- */

struct swap_arg {
    struct ais_meta *m;
    int stop; /* atomic */
    int bad;  /* atomic */
    int64_t reads;
};

static void *
reader_main(void *a)
{
    struct swap_arg *s = a;
    int64_t last_s = 0, last_b = 0, reads = 0;
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        struct ais_smap *m = ais_meta_smap(s->m);
        struct ais_bmd *b = ais_meta_bmd(s->m);
        /* touch the snapshot's contents: a freed one would trip ASan, a torn one the checks */
        if (m->version < last_s || b->version < last_b ||
            (m->version > 0 && (m->nnodes != 1 || m->nodes[0].port != 9000))) {
            __atomic_add_fetch(&s->bad, 1, __ATOMIC_RELAXED);
        }
        last_s = m->version;
        last_b = b->version;
        struct ais_smap *c = ais_smap_clone(m); /* clone while others ref/unref m */
        if (c == NULL || c->version != m->version || c->nnodes != m->nnodes) {
            __atomic_add_fetch(&s->bad, 1, __ATOMIC_RELAXED);
        }
        ais_smap_unref(c);
        struct ais_bmd *bc = ais_bmd_clone(b);
        ais_bmd_unref(bc);
        ais_smap_unref(m);
        ais_bmd_unref(b);
        reads++;
    }
    __atomic_add_fetch(&s->reads, reads, __ATOMIC_RELAXED);
    return NULL;
}

static void
test_readers_while_swapping(void **state)
{
    (void)state;
    char dir[32];
    tmpdir(dir);
    struct ais_meta m;
    assert_int_equal(ais_meta_init(&m, dir), 0);
    struct swap_arg s = {.m = &m};
    pthread_t th[READERS];
    for (int i = 0; i < READERS; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &s), 0);
    }
    for (int64_t v = 1; v <= 2000; v++) {
        (void)ais_meta_install(&m, smap_v(v), bmd_v(v), NULL);
        if (v % 500 == 0) {
            assert_int_equal(ais_meta_persist(&m), 0); /* readers keep going during I/O */
        }
    }
    __atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < READERS; i++) {
        pthread_join(th[i], NULL);
    }
    assert_int_equal(s.bad, 0);
    assert_true(s.reads > 0);
    ais_meta_fini(&m);
    rmdir_rf(dir);
}

/* ---- clone copies fields, never the source's (changing) refcount ---- */

static void *
refcount_churn(void *a)
{
    struct ais_smap *m = a;
    for (int i = 0; i < 20000; i++) {
        ais_smap_unref(ais_smap_ref(m));
    }
    return NULL;
}

static void
test_clone_vs_refcount(void **state)
{
    (void)state;
    struct ais_smap *m = smap_v(3);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, refcount_churn, m), 0);
    for (int i = 0; i < 2000; i++) {
        struct ais_smap *c = ais_smap_clone(m);
        assert_non_null(c);
        assert_int_equal(c->refs, 1);
        assert_int_equal(c->version, 3);
        assert_int_equal(c->nnodes, 1);
        assert_string_equal(c->uuid, m->uuid);
        ais_smap_unref(c);
    }
    pthread_join(th, NULL);
    assert_int_equal(m->refs, 1);
    ais_smap_unref(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_only),
        cmocka_unit_test(test_install_then_persist),
        cmocka_unit_test(test_fini_zeroed),
        cmocka_unit_test(test_listener_order_concurrent),
        cmocka_unit_test(test_readers_while_swapping),
        cmocka_unit_test(test_clone_vs_refcount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
