/*
 * Goal: LRU selection evicts only what it may (remote buckets with lru.enabled, never ais://,
 * never objects read within dont_evict_time, only on the mountpaths that need it), oldest
 * access first, and stops once usage is at lowwm, also when its bounded batch forces several
 * passes; the space/lru knobs and bucket props parse and validate.
 * Method: sp_lru_run over a fake ops table: an in-memory object list whose capacity is
 * computed from the objects still present (a fake statvfs), evictions recorded in order. One
 * test runs the real "lru" job on real mountpaths under /tmp (watermarks lowered below the
 * disk's usage) to check the storage side: eviction of every copy, ais:// and recently read
 * objects kept, the out-of-space check and the atime touch of GETs.
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

#include <cmocka.h>
// clang-format on

#include "common/bmd.h"
#include "common/config.h"
#include "common/err.h"
#include "common/meta.h"
#include "common/util.h"
#include "space/space.h"
#include "test/storage/st_test.h"

#include <sys/statvfs.h>
#include <time.h>

#define F_OBJS_MAX 512
#define F_SLOTS 4
#define SEC 1000000000LL
#define NOW (1000000 * SEC)

struct f_obj {
    size_t bck;
    char name[32];
    int64_t atime_ns;
    uint64_t size;
    uint32_t slot;
    int present;
};

struct fake {
    struct ais_bmd *bmd;
    struct f_obj o[F_OBJS_MAX];
    size_t n;
    uint64_t total[F_SLOTS];
    size_t order[F_OBJS_MAX]; /* indexes of evicted objects, in eviction order */
    size_t nev;
    long stale; /* index answering -ESTALE, or -1 */
    long fail;  /* index answering -EIO, or -1 */
    int abort_at_evictions;
    int cap_err;
};

static int
f_capacity(void *ctx, size_t slot, uint64_t *total, uint64_t *avail)
{
    struct fake *f = ctx;
    if (f->cap_err) {
        return f->cap_err;
    }
    if (slot >= F_SLOTS) {
        return -ENOENT;
    }
    uint64_t used = 0;
    for (size_t i = 0; i < f->n; i++) {
        used += f->o[i].present && f->o[i].slot == slot ? f->o[i].size : 0;
    }
    *total = f->total[slot];
    *avail = f->total[slot] > used ? f->total[slot] - used : 0;
    return 0;
}

static long
f_find(struct fake *f, const struct st_bck *b, const char *name)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct ais_bck_md *k = &f->bmd->bcks[f->o[i].bck];
        if (strcmp(k->provider, b->provider) == 0 && strcmp(k->name, b->name) == 0 &&
            strcmp(f->o[i].name, name) == 0) {
            return (long)i;
        }
    }
    return -1;
}

static int
f_walk(void *ctx, const struct st_bck *b, st_list_fn fn, void *fctx)
{
    struct fake *f = ctx;
    for (size_t i = 0; i < f->n; i++) {
        const struct ais_bck_md *k = &f->bmd->bcks[f->o[i].bck];
        if (!f->o[i].present || strcmp(k->provider, b->provider) != 0 ||
            strcmp(k->name, b->name) != 0) {
            continue;
        }
        struct st_obj_md md;
        memset(&md, 0, sizeof(md));
        md.size = f->o[i].size;
        md.atime_ns = f->o[i].atime_ns;
        md.mtime_ns = 7;
        md.ino = i + 1;
        md.mpath_idx = f->o[i].slot;
        int rc = fn(fctx, f->o[i].name, &md);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int
f_evict(void *ctx, const struct st_bck *b, const char *name, const struct st_obj_md *md)
{
    struct fake *f = ctx;
    long i = f_find(f, b, name);
    assert_true(i >= 0);
    assert_int_equal(md->ino, (uint64_t)i + 1); /* the walked file is the one asked for */
    assert_int_equal(md->mtime_ns, 7);
    assert_int_equal(md->mpath_idx, f->o[i].slot);
    if (i == f->stale) {
        return -ESTALE;
    }
    if (i == f->fail) {
        return -EIO;
    }
    assert_true(f->o[i].present);
    f->o[i].present = 0;
    f->order[f->nev++] = (size_t)i;
    return 0;
}

static int
f_aborted(void *ctx)
{
    struct fake *f = ctx;
    return f->abort_at_evictions > 0 && f->nev >= (size_t)f->abort_at_evictions;
}

static const struct sp_lru_ops f_ops = {
    .capacity = f_capacity, .walk = f_walk, .evict = f_evict, .aborted = f_aborted};

/* provider:name buckets with an optional props patch (JSON text or NULL). */
static size_t
f_bck(struct fake *f, const char *provider, const char *name, const char *patch)
{
    const char *why = NULL;
    json_t *p = patch ? json_loads(patch, 0, NULL) : NULL;
    assert_true(patch == NULL || p != NULL);
    assert_int_equal(ais_bmd_add(f->bmd, provider, "", name, "xxhash", p, &why), 0);
    json_decref(p);
    return f->bmd->n - 1;
}

static void
f_obj(struct fake *f, size_t bck, int64_t atime_ns, uint64_t size, uint32_t slot)
{
    assert_true(f->n < F_OBJS_MAX);
    struct f_obj *o = &f->o[f->n];
    o->bck = bck;
    snprintf(o->name, sizeof(o->name), "o%04zu", f->n);
    o->atime_ns = atime_ns;
    o->size = size;
    o->slot = slot;
    o->present = 1;
    f->n++;
}

static struct fake *
f_new(void)
{
    struct fake *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->bmd = ais_bmd_new();
    assert_non_null(f->bmd);
    f->stale = f->fail = -1;
    for (size_t i = 0; i < F_SLOTS; i++) {
        f->total[i] = 10000;
    }
    return f;
}

static void
f_free(struct fake *f)
{
    ais_bmd_unref(f->bmd);
    free(f);
}

static struct sp_lru_args
f_args(struct fake *f, uint64_t slots, size_t batch)
{
    return (struct sp_lru_args){.bmd = f->bmd,
                                .slots = slots,
                                .lowwm = 75,
                                .now_ns = NOW,
                                .dont_evict_ms = 3600 * 1000,
                                .batch = batch,
                                .passes = SP_LRU_PASSES_MAX};
}

/* 100 objects of 100 bytes on slot 0 (100% of 10000), atimes a permutation of 1..100 days ago:
 * walk order is not age order. */
static size_t
f_fill_aws(struct fake *f)
{
    size_t b = f_bck(f, "aws", "cached", NULL);
    for (int i = 0; i < 100; i++) {
        int age_days = 1 + (i * 37) % 100;
        f_obj(f, b, NOW - (int64_t)age_days * 86400 * SEC, 100, 0);
    }
    return b;
}

/* The evicted objects are exactly the n oldest, oldest first. */
static void
assert_oldest_first(struct fake *f, size_t n)
{
    assert_int_equal(f->nev, n);
    for (size_t k = 1; k < f->nev; k++) {
        assert_true(f->o[f->order[k - 1]].atime_ns <= f->o[f->order[k]].atime_ns);
    }
    for (size_t i = 0; i < f->n; i++) {
        if (f->o[i].present && f->nev > 0) {
            assert_true(f->o[i].atime_ns >= f->o[f->order[f->nev - 1]].atime_ns);
        }
    }
}

static void
test_evictable(void **state)
{
    (void)state;
    struct fake *f = f_new();
    size_t ais = f_bck(f, "ais", "local", NULL);
    size_t aws = f_bck(f, "aws", "cached", NULL);
    size_t off = f_bck(f, "gcp", "nolru", "{\"lru\":{\"enabled\":false}}");
    size_t ec = f_bck(f, "ht", "ec",
                      "{\"ec\":{\"enabled\":true},"
                      "\"extra\":{\"http\":{\"original_url\":\"http://127.0.0.1:1/\"}}}");
    size_t ais_off = f_bck(f, "ais", "local2", "{\"lru\":{\"enabled\":true}}");
    assert_int_equal(sp_bck_evictable(&f->bmd->bcks[ais]), 0);
    assert_int_equal(sp_bck_evictable(&f->bmd->bcks[aws]), 1);
    assert_int_equal(sp_bck_evictable(&f->bmd->bcks[off]), 0);
    assert_int_equal(sp_bck_evictable(&f->bmd->bcks[ec]), 0);
    assert_int_equal(sp_bck_evictable(&f->bmd->bcks[ais_off]), 0); /* ais: never, whatever lru */
    f_free(f);
}

static void
test_oldest_first_to_lowwm(void **state)
{
    (void)state;
    struct fake *f = f_new();
    f_fill_aws(f);
    struct sp_lru_args a = f_args(f, 1, SP_LRU_BATCH_MAX);
    struct sp_lru_res res;
    assert_int_equal(sp_lru_run(&a, &f_ops, f, &res), 0);
    /* 10000 used, lowwm 75%: 2500 bytes = the 25 oldest objects, not one more. */
    assert_oldest_first(f, 25);
    assert_int_equal(res.objs, 25);
    assert_int_equal(res.bytes, 2500);
    assert_int_equal(res.passes, 1);
    assert_int_equal(res.reached, 1);
    assert_int_equal(res.failed, 0);
    f_free(f);
}

static void
test_small_batch_many_passes(void **state)
{
    (void)state;
    struct fake *f = f_new();
    f_fill_aws(f);
    struct sp_lru_args a = f_args(f, 1, 4);
    struct sp_lru_res res;
    assert_int_equal(sp_lru_run(&a, &f_ops, f, &res), 0);
    assert_oldest_first(f, 25); /* 4 per pass, still globally oldest first */
    assert_int_equal(res.passes, 7);
    assert_int_equal(res.reached, 1);
    /* The pass bound holds: 2 passes of 4 evict 8 and stop short of lowwm. */
    struct fake *g = f_new();
    f_fill_aws(g);
    a = f_args(g, 1, 4);
    a.passes = 2;
    assert_int_equal(sp_lru_run(&a, &f_ops, g, &res), 0);
    assert_oldest_first(g, 8);
    assert_int_equal(res.reached, 0);
    f_free(g);
    f_free(f);
}

static void
test_below_lowwm_nothing(void **state)
{
    (void)state;
    struct fake *f = f_new();
    size_t b = f_bck(f, "aws", "cached", NULL);
    for (int i = 0; i < 75; i++) {
        f_obj(f, b, NOW - 86400 * SEC, 100, 0); /* exactly 75% */
    }
    struct sp_lru_args a = f_args(f, 1, 16);
    struct sp_lru_res res;
    assert_int_equal(sp_lru_run(&a, &f_ops, f, &res), 0);
    assert_int_equal(f->nev, 0);
    assert_int_equal(res.passes, 0);
    assert_int_equal(res.reached, 1);
    f_obj(f, b, NOW - 86400 * SEC, 1, 0); /* one byte over: one object goes */
    assert_int_equal(sp_lru_run(&a, &f_ops, f, &res), 0);
    assert_int_equal(f->nev, 1);
    f_free(f);
}

static void
test_never_ais(void **state)
{
    (void)state;
    struct fake *f = f_new();
    size_t ais = f_bck(f, "ais", "local", "{\"lru\":{\"enabled\":true}}");
    size_t aws = f_bck(f, "aws", "cached", NULL);
    for (int i = 0; i < 90; i++) {
        f_obj(f, ais, NOW - 365 * 86400 * SEC, 100, 0); /* older than anything: still kept */
    }
    for (int i = 0; i < 8; i++) {
        f_obj(f, aws, NOW - (8 - i) * 86400 * SEC, 100, 0);
    }
    struct sp_lru_args a = f_args(f, 1, 16);
    struct sp_lru_res res;
    assert_int_equal(sp_lru_run(&a, &f_ops, f, &res), 0);
    assert_int_equal(f->nev, 8); /* every aws object, then nothing more is evictable */
    for (size_t k = 0; k < f->nev; k++) {
        assert_int_equal(f->o[f->order[k]].bck, aws);
    }
    assert_int_equal(res.reached, 0);
    /* Only ais buckets: the run walks nothing and evicts nothing. */
    struct fake *g = f_new();
    ais = f_bck(g, "ais", "only", NULL);
    for (int i = 0; i < 100; i++) {
        f_obj(g, ais, NOW - 365 * 86400 * SEC, 100, 0);
    }
    a = f_args(g, 1, 16);
    assert_int_equal(sp_lru_run(&a, &f_ops, g, &res), 0);
    assert_int_equal(g->nev, 0);
    assert_int_equal(res.objs, 0);
    assert_int_equal(res.reached, 0);
    f_free(g);
    f_free(f);
}

static void
test_dont_evict_time(void **state)
{
    (void)state;
    struct fake *f = f_new();
    size_t b = f_bck(f, "aws", "cached", "{\"lru\":{\"dont_evict_time\":\"10m\"}}");
    assert_int_equal(f->bmd->bcks[b].props.lru_dont_evict_ms, 600000);
    for (int i = 0; i < 100; i++) {
        /* 5 minutes (kept) or 20 minutes (evictable) ago */
        f_obj(f, b, NOW - (i % 2 ? 20 : 5) * 60 * SEC, 100, 0);
    }
    struct sp_lru_args a = f_args(f, 1, 16);
    struct sp_lru_res res;
    assert_int_equal(sp_lru_run(&a, &f_ops, f, &res), 0);
    assert_int_equal(f->nev, 25);
    for (size_t k = 0; k < f->nev; k++) {
        assert_true(f->o[f->order[k]].atime_ns <= NOW - 20 * 60 * SEC);
    }
    assert_int_equal(res.recent, 50);
    /* A bucket without its own setting takes the cluster's (args): 1h keeps all of them. */
    struct fake *g = f_new();
    b = f_bck(g, "aws", "cached", NULL);
    g->bmd->bcks[b].props.lru_dont_evict_ms = -1;
    for (int i = 0; i < 100; i++) {
        f_obj(g, b, NOW - 30 * 60 * SEC, 100, 0);
    }
    a = f_args(g, 1, 16);
    assert_int_equal(sp_lru_run(&a, &f_ops, g, &res), 0);
    assert_int_equal(g->nev, 0);
    assert_int_equal(res.recent, 100);
    assert_int_equal(res.reached, 0);
    a.dont_evict_ms = 10 * 60 * 1000;
    assert_int_equal(sp_lru_run(&a, &f_ops, g, &res), 0);
    assert_int_equal(g->nev, 25);
    f_free(g);
    f_free(f);
}

static void
test_only_needy_slots(void **state)
{
    (void)state;
    struct fake *f = f_new();
    size_t b = f_bck(f, "gcp", "cached", NULL);
    for (int i = 0; i < 100; i++) {
        f_obj(f, b, NOW - (1000 - i) * 86400 * SEC, 100, 1); /* slot 1: 100%, oldest */
        f_obj(f, b, NOW - (100 - i) * 86400 * SEC, 100, 0);  /* slot 0: 100% */
        f_obj(f, b, NOW - (2000 - i) * 86400 * SEC, 10, 2);  /* slot 2: 10%, oldest of all */
    }
    /* Relieve slot 0 only: slot 1's and 2's objects stay although they are older. */
    struct sp_lru_args a = f_args(f, 1u << 0, 8);
    struct sp_lru_res res;
    assert_int_equal(sp_lru_run(&a, &f_ops, f, &res), 0);
    assert_int_equal(f->nev, 25);
    for (size_t k = 0; k < f->nev; k++) {
        assert_int_equal(f->o[f->order[k]].slot, 0);
    }
    /* Slots 1 and 2: only 1 needs anything. */
    a.slots = (1u << 1) | (1u << 2);
    assert_int_equal(sp_lru_run(&a, &f_ops, f, &res), 0);
    assert_int_equal(f->nev, 50);
    for (size_t k = 25; k < f->nev; k++) {
        assert_int_equal(f->o[f->order[k]].slot, 1);
    }
    assert_int_equal(res.reached, 1);
    f_free(f);
}

static void
test_stale_and_errors(void **state)
{
    (void)state;
    struct fake *f = f_new();
    f_fill_aws(f);
    /* The oldest object was replaced by a PUT meanwhile; the second oldest cannot be removed. */
    for (size_t i = 0; i < f->n; i++) {
        f->stale = f->o[i].atime_ns == NOW - 100 * 86400 * SEC ? (long)i : f->stale;
        f->fail = f->o[i].atime_ns == NOW - 99 * 86400 * SEC ? (long)i : f->fail;
    }
    assert_true(f->stale >= 0 && f->fail >= 0);
    struct sp_lru_args a = f_args(f, 1, SP_LRU_BATCH_MAX); /* one pass: each is tried once */
    struct sp_lru_res res;
    assert_int_equal(sp_lru_run(&a, &f_ops, f, &res), 0);
    assert_int_equal(res.skipped, 1);
    assert_int_equal(res.failed, 1);
    assert_int_equal(f->nev, 25); /* the next oldest make up for them */
    assert_true(f->o[f->stale].present && f->o[f->fail].present);
    assert_int_equal(res.reached, 1);
    f_free(f);
}

static void
test_abort_and_capacity_error(void **state)
{
    (void)state;
    struct fake *f = f_new();
    f_fill_aws(f);
    f->abort_at_evictions = 5;
    struct sp_lru_args a = f_args(f, 1, 16);
    struct sp_lru_res res;
    assert_int_equal(sp_lru_run(&a, &f_ops, f, &res), -ECANCELED);
    assert_int_equal(f->nev, 5);
    assert_int_equal(res.reached, 0);
    f->abort_at_evictions = 0;
    f->cap_err = -EIO;
    assert_int_equal(sp_lru_run(&a, &f_ops, f, &res), -EIO);
    assert_int_equal(f->nev, 5);
    f_free(f);
}

static void
test_bprops_lru(void **state)
{
    (void)state;
    struct ais_bmd *b = ais_bmd_new();
    const char *why = NULL;
    assert_int_equal(ais_bmd_add(b, "aws", "", "x", "xxhash", NULL, &why), 0);
    const struct ais_bprops *p = &ais_bmd_find(b, "aws", "", "x")->props;
    assert_int_equal(p->lru_enabled, 1);
    assert_int_equal(p->lru_dont_evict_ms, 2 * 3600 * 1000); /* default "2h" */
    json_t *patch = json_loads("{\"lru\":{\"enabled\":false,\"dont_evict_time\":\"90s\"}}", 0, 0);
    assert_int_equal(ais_bmd_set_props(b, "aws", "", "x", patch, 0, "xxhash", &why), 0);
    json_decref(patch);
    p = &ais_bmd_find(b, "aws", "", "x")->props;
    assert_int_equal(p->lru_enabled, 0);
    assert_int_equal(p->lru_dont_evict_ms, 90000);
    patch = json_loads("{\"lru\":{\"dont_evict_time\":\"soon\"}}", 0, NULL);
    assert_int_equal(ais_bmd_set_props(b, "aws", "", "x", patch, 0, "xxhash", &why), -EINVAL);
    assert_non_null(strstr(why, "lru.dont_evict_time"));
    json_decref(patch);
    patch = json_loads("{\"lru\":{\"enabled\":\"yes\"}}", 0, NULL);
    assert_int_equal(ais_bmd_set_props(b, "aws", "", "x", patch, 0, "xxhash", &why), -EINVAL);
    json_decref(patch);
    assert_int_equal(ais_bmd_find(b, "aws", "", "x")->props.lru_dont_evict_ms, 90000);
    ais_bmd_unref(b);
}

static struct ais_config cfg;

static int
set1(const char *name, const char *value, char *msg, size_t cap)
{
    const char *n[] = {name};
    const char *v[] = {value};
    return ais_config_set_many(&cfg, n, v, 1, msg, cap);
}

static void
test_config_knobs(void **state)
{
    (void)state;
    char why[256], msg[512], text[32];
    assert_int_equal(ais_config_load(&cfg, NULL, why, sizeof(why)), 0);
    assert_int_equal(cfg.rt.space_cleanupwm, 65);
    assert_int_equal(cfg.rt.space_lowwm, 75);
    assert_int_equal(cfg.rt.space_highwm, 90);
    assert_int_equal(cfg.rt.space_oos, 95);
    assert_int_equal(cfg.rt.lru_enabled, 1);
    assert_int_equal(cfg.rt.lru_dont_evict_ms, 120 * 60000);
    assert_int_equal(cfg.rt.lru_capacity_upd_ms, 10 * 60000);
    assert_int_equal(ais_config_get_text(&cfg, "lru.dont_evict_time", text, sizeof(text)), 0);
    assert_string_equal(text, "2h");
    json_t *j = ais_config_to_json(&cfg);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "space"), "highwm")),
                     90);
    assert_true(json_is_true(json_object_get(json_object_get(j, "lru"), "enabled")));
    json_decref(j);
    assert_int_equal(set1("space.highwm", "80", msg, sizeof(msg)), 0);
    assert_int_equal(cfg.rt.space_highwm, 80);
    assert_int_equal(set1("space.highwm", "75", msg, sizeof(msg)), -EINVAL); /* == lowwm */
    assert_non_null(strstr(msg, "lowwm < highwm"));
    assert_int_equal(set1("space.out_of_space", "80", msg, sizeof(msg)), -EINVAL);
    assert_int_equal(set1("space.out_of_space", "101", msg, sizeof(msg)), -ERANGE);
    assert_int_equal(set1("space.out_of_space", "100", msg, sizeof(msg)), 0);
    assert_int_equal(set1("space.cleanupwm", "76", msg, sizeof(msg)), -EINVAL);
    assert_int_equal(cfg.rt.space_highwm, 80);
    /* Together in one request: valid as a whole though not one by one. */
    const char *n[] = {"space.lowwm", "space.highwm"};
    const char *v[] = {"85", "88"};
    assert_int_equal(ais_config_set_many(&cfg, n, v, 2, msg, sizeof(msg)), 0);
    assert_int_equal(cfg.rt.space_lowwm, 85);
    assert_int_equal(cfg.rt.space_highwm, 88);
    const char *bad[] = {"90", "88"};
    assert_int_equal(ais_config_set_many(&cfg, n, bad, 2, msg, sizeof(msg)), -EINVAL);
    assert_int_equal(cfg.rt.space_lowwm, 85); /* nothing applied */
    assert_int_equal(set1("lru.capacity_upd_time", "1s", msg, sizeof(msg)), 0);
    assert_int_equal(cfg.rt.lru_capacity_upd_ms, 1000);
    assert_int_equal(set1("lru.capacity_upd_time", "500ms", msg, sizeof(msg)), -ERANGE);
    assert_int_equal(set1("lru.dont_evict_time", "0s", msg, sizeof(msg)), 0);
    assert_int_equal(set1("lru.enabled", "false", msg, sizeof(msg)), 0);
    assert_int_equal(cfg.rt.lru_enabled, 0);
    /* A file with crossed watermarks fails the startup validation. */
    json_t *file = json_loads("{\"fspaths\":{\"/tmp/m\":\"\"},\"space\":{\"lowwm\":92}}", 0, NULL);
    assert_int_equal(ais_config_load_json(&cfg, file, why, sizeof(why)), 0);
    assert_int_equal(ais_config_validate(&cfg, why, sizeof(why)), AIS_ECONFIG);
    assert_non_null(strstr(why, "space"));
    json_decref(file);
}

/* A remote bucket's objects written 'age_s' ago (mtime and atime), copies each. */
static void
put_aged(struct t_env *e, const struct st_bck *b, const char *prefix, int n, int64_t age_s,
         unsigned copies)
{
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%s-%d", prefix, i);
        struct st_put_opts o = {
            .cksum_type = "none", .mtime_ns = ais_now_ns() - age_s * SEC, .copies = copies};
        assert_int_equal(t_put(e, b, name, name, strlen(name), &o, NULL), 0);
    }
}

/* Copies of prefix-0..n-1 that remain, summed. */
static int
copies_left(struct t_env *e, const struct st_bck *b, const char *prefix, int n)
{
    int left = 0;
    for (int i = 0; i < n; i++) {
        char name[64];
        uint32_t slots[T_MPATHS_MAX];
        snprintf(name, sizeof(name), "%s-%d", prefix, i);
        int rc = st_obj_copies(e->mp, b, name, t_digest(b, name), slots, T_MPATHS_MAX);
        assert_true(rc >= 0);
        left += rc;
    }
    return left;
}

static void
test_storage_job(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    struct statvfs vfs;
    assert_int_equal(statvfs(e->root, &vfs), 0);
    if ((vfs.f_blocks - vfs.f_bavail) * 100 / vfs.f_blocks < 2) {
        t_env_free(e);
        skip(); /* a nearly empty disk: lowwm cannot be set below its usage */
    }
    static const struct st_bck aws = {"aws", "", "cached"}, gcp = {"gcp", "", "mirrored"},
                               ais = {"ais", "", "local"};
    struct ais_bmd *bmd = ais_bmd_new();
    const char *why = NULL;
    json_t *mirror = json_loads("{\"mirror\":{\"enabled\":true,\"copies\":2}}", 0, NULL);
    assert_int_equal(ais_bmd_add(bmd, "aws", "", "cached", "none", NULL, &why), 0);
    assert_int_equal(ais_bmd_add(bmd, "gcp", "", "mirrored", "none", mirror, &why), 0);
    assert_int_equal(ais_bmd_add(bmd, "ais", "", "local", "none", NULL, &why), 0);
    json_decref(mirror);
    bmd->version = 1;
    const struct st_bck *all[] = {&aws, &gcp, &ais};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(st_bck_create(e->mp, all[i]), 0);
        put_aged(e, all[i], "old", 10, 86400, i == 1 ? 2 : 1);
        put_aged(e, all[i], "new", 3, 0, i == 1 ? 2 : 1); /* within the default 2h */
    }
    assert_int_equal(copies_left(e, &gcp, "old", 10), 20);
    char confdir[128];
    snprintf(confdir, sizeof(confdir), "%s/conf", e->root);
    assert_int_equal(mkdir(confdir, 0700), 0);
    static struct ais_meta meta;
    struct xa_reg *xreg = NULL;
    char msg[512];
    assert_int_equal(ais_meta_init(&meta, confdir), 0);
    assert_int_equal(ais_meta_install(&meta, NULL, bmd, NULL), 2); /* takes bmd */
    assert_int_equal(xa_reg_new("t1", &xreg), 0);
    assert_int_equal(ais_config_load(&cfg, NULL, msg, sizeof(msg)), 0);
    cfg.rt.space_cleanupwm = cfg.rt.space_lowwm = 1; /* below the disk's usage: evict all */
    cfg.rt.space_highwm = 2;
    cfg.rt.space_oos = 3;
    cfg.rt.lru_enabled = 0; /* the monitor starts nothing itself: the test does */
    struct sp *s = NULL;
    struct sp_env env = {.cfg = &cfg, .meta = &meta, .mp = e->mp, .xreg = xreg};
    assert_int_equal(sp_start(&env, &s), 0);
    char id[XA_ID_BYTES];
    assert_int_equal(sp_lru_start(s, "lru1", id), 0);
    assert_string_equal(id, "lru1");
    assert_int_equal(xa_wait(xreg, &(struct xa_filter){.id = "lru1"}, 30000), 0);
    struct xa_snap snap;
    assert_int_equal(xa_snap_get(xreg, "lru1", &snap), 0);
    assert_string_equal(snap.kind, "lru");
    assert_int_equal(snap.state, XA_FINISHED);
    assert_int_equal(snap.objs[XA_CTR_LOC], 20); /* aws old-* and gcp old-* (both copies) */
    assert_int_equal(copies_left(e, &aws, "old", 10), 0);
    assert_int_equal(copies_left(e, &gcp, "old", 10), 0);
    assert_int_equal(copies_left(e, &aws, "new", 3), 3);
    assert_int_equal(copies_left(e, &gcp, "new", 3), 6);
    assert_int_equal(copies_left(e, &ais, "old", 10), 10); /* never */
    assert_int_equal(copies_left(e, &ais, "new", 3), 3);
    /* PUT check: the disk is above out_of_space 3% */
    assert_int_equal(sp_put_check(s, t_digest(&ais, "x"), msg, sizeof(msg)), -ENOSPC);
    assert_non_null(strstr(msg, "% full (out_of_space 3%)"));
    assert_non_null(strstr(msg, e->root));
    __atomic_store_n(&cfg.rt.space_oos, 100, __ATOMIC_RELAXED); /* the monitor runs */
    assert_int_equal(sp_put_check(s, t_digest(&ais, "x"), msg, sizeof(msg)), 0);
    sp_stop(s);
    xa_reg_free(xreg);
    ais_meta_fini(&meta);
    t_env_free(e);
}

static void
test_touch(void **state)
{
    (void)state;
    char path[] = "/tmp/ais-sp-touch-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const struct timespec old[2] = {{1000, 0}, {2000, 0}};
    assert_int_equal(futimens(fd, old), 0);
    close(fd);
    fd = open(path, O_RDONLY | O_CLOEXEC); /* as a GET holds it */
    assert_true(fd >= 0);
    sp_obj_touch(fd);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(st.st_atim.tv_sec >= time(NULL) - 60);
    assert_int_equal(st.st_mtim.tv_sec, 2000); /* mtime (object identity) kept */
    close(fd);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evictable),
        cmocka_unit_test(test_oldest_first_to_lowwm),
        cmocka_unit_test(test_small_batch_many_passes),
        cmocka_unit_test(test_below_lowwm_nothing),
        cmocka_unit_test(test_never_ais),
        cmocka_unit_test(test_dont_evict_time),
        cmocka_unit_test(test_only_needy_slots),
        cmocka_unit_test(test_stale_and_errors),
        cmocka_unit_test(test_abort_and_capacity_error),
        cmocka_unit_test(test_bprops_lru),
        cmocka_unit_test(test_config_knobs),
        cmocka_unit_test(test_storage_job),
        cmocka_unit_test(test_touch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
