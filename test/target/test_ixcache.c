/*
 * The in-memory TAR member index (target/ixcache.h): lookups by name, first member of a name
 * wins, a different shard version is never answered, replacement, LRU eviction by count.
 */
#include "common/limits.h"
#include "target/ixcache.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static struct tgt_tarix_key
key(uint64_t size, const char *cksum)
{
    struct tgt_tarix_key k = {.size = size, .mtime_ns = 1700000000000000000LL, .ino = 42};
    snprintf(k.cksum, sizeof(k.cksum), "%s", cksum);
    return k;
}

static struct tgt_ixc_build *
build(int n, uint64_t base)
{
    struct tgt_ixc_build *b = tgt_ixc_build_new();
    assert_non_null(b);
    char name[32];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "m/%05d.jpg", i);
        assert_int_equal(tgt_ixc_build_add(b, name, base + (uint64_t)i * 1024, 100 + i), 0);
    }
    return b;
}

static void
test_lookup(void **state)
{
    (void)state;
    struct tgt_ixc *c = NULL;
    assert_int_equal(tgt_ixc_new(&c), 0);
    struct tgt_tarix_key k = key(1 << 20, "xxhash:1");
    uint64_t off = 0, size = 0;
    assert_int_equal(tgt_ixc_find(c, "ais\n\nb\ns.tar", &k, "m/00001.jpg", &off, &size), -ENOENT);
    struct tgt_ixc_build *b = build(5000, 512);
    assert_int_equal(tgt_ixc_build_add(b, "m/00007.jpg", 1, 1), 0); /* a later duplicate */
    tgt_ixc_insert(c, "ais\n\nb\ns.tar", &k, b);
    for (int i = 0; i < 5000; i += 7) {
        char name[32];
        snprintf(name, sizeof(name), "m/%05d.jpg", i);
        assert_int_equal(tgt_ixc_find(c, "ais\n\nb\ns.tar", &k, name, &off, &size), 1);
        assert_int_equal(off, 512 + (uint64_t)i * 1024);
        assert_int_equal(size, 100 + (uint64_t)i);
    }
    assert_int_equal(tgt_ixc_find(c, "ais\n\nb\ns.tar", &k, "m/00007.jpg", &off, &size), 1);
    assert_int_equal(off, 512 + 7 * 1024); /* the first of the name, as a walk finds it */
    assert_int_equal(tgt_ixc_find(c, "ais\n\nb\ns.tar", &k, "nope", &off, &size), 0);
    /* another version of the shard (overwritten): not answered */
    struct tgt_tarix_key k2 = key(1 << 20, "xxhash:2");
    assert_int_equal(tgt_ixc_find(c, "ais\n\nb\ns.tar", &k2, "m/00001.jpg", &off, &size), -ENOENT);
    assert_int_equal(tgt_ixc_find(c, "ais\n\nb\nt.tar", &k, "m/00001.jpg", &off, &size), -ENOENT);
    /* the new version replaces the old */
    tgt_ixc_insert(c, "ais\n\nb\ns.tar", &k2, build(3, 9000));
    assert_int_equal(tgt_ixc_find(c, "ais\n\nb\ns.tar", &k2, "m/00001.jpg", &off, &size), 1);
    assert_int_equal(off, 9000 + 1024);
    assert_int_equal(tgt_ixc_find(c, "ais\n\nb\ns.tar", &k, "m/00001.jpg", &off, &size), -ENOENT);
    assert_true(tgt_ixc_hits(c) > 700);
    tgt_ixc_free(c);
}

static void
test_lru_by_count(void **state)
{
    (void)state;
    struct tgt_ixc *c = NULL;
    assert_int_equal(tgt_ixc_new(&c), 0);
    struct tgt_tarix_key k = key(1, "x:1");
    char shard[32];
    uint64_t off, size;
    for (int i = 0; i < AIS_ARCH_IXC_N_MAX; i++) {
        snprintf(shard, sizeof(shard), "s%d", i);
        tgt_ixc_insert(c, shard, &k, build(2, 0));
    }
    assert_int_equal(tgt_ixc_find(c, "s0", &k, "m/00000.jpg", &off, &size), 1); /* s0 now recent */
    tgt_ixc_insert(c, "new", &k, build(2, 0));                                 /* evicts s1 */
    assert_int_equal(tgt_ixc_find(c, "s1", &k, "m/00000.jpg", &off, &size), -ENOENT);
    assert_int_equal(tgt_ixc_find(c, "s0", &k, "m/00000.jpg", &off, &size), 1);
    assert_int_equal(tgt_ixc_find(c, "new", &k, "m/00001.jpg", &off, &size), 1);
    tgt_ixc_free(c);
}

static void
test_shard_bound(void **state)
{
    (void)state;
    struct tgt_ixc_build *b = tgt_ixc_build_new();
    char name[200];
    int rc = 0;
    for (int i = 0; rc == 0 && i < 10000000; i++) {
        snprintf(name, sizeof(name), "%0150d", i);
        rc = tgt_ixc_build_add(b, name, 0, 1);
    }
    assert_int_equal(rc, -E2BIG); /* a shard whose index passes the bound is not cached */
    tgt_ixc_build_free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_lru_by_count),
        cmocka_unit_test(test_shard_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
