/*
 * Goal: the slice holders of an object are deterministic, distinct, in HRW order (the first is
 * ais_hrw_pick's owner), spread evenly, and stable: removing a target that holds nothing
 * changes nothing, removing a holder replaces just it by the next-ranked target, and after
 * ec_place_repair only the slices of the removed target move.
 * Method: targets "t0".."tN" with ais_hrw_digest ids, thousands of object unames; results are
 * compared with a brute-force full sort of the HRW scores and mapped back to target ids across
 * membership changes.
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

#include "common/hrw.h"
#include "ec/ec.h"

#define NT 24
#define NOBJ 3000

static void
digests(uint64_t *d, size_t n, size_t skip)
{
    char id[32];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == skip) {
            continue;
        }
        snprintf(id, sizeof(id), "t%zu", i);
        d[k++] = ais_hrw_digest(id, strlen(id));
    }
}

static uint64_t
obj_digest(int i)
{
    char uname[128];
    snprintf(uname, sizeof(uname), "ais/@#/bck/shard-%06d.tar", i);
    return ais_hrw_digest(uname, strlen(uname));
}

/* Picks n holders and returns their node digests. */
static void
pick_digests(const uint64_t *nodes, size_t count, uint64_t dg, size_t n, uint64_t *out)
{
    size_t idx[EC_SLICES_MAX + 1];
    assert_int_equal(ec_place_pick(nodes, count, dg, n, idx), 0);
    for (size_t i = 0; i < n; i++) {
        assert_true(idx[i] < count);
        out[i] = nodes[idx[i]];
    }
}

static int
has(const uint64_t *set, size_t n, uint64_t v)
{
    for (size_t i = 0; i < n; i++) {
        if (set[i] == v) {
            return 1;
        }
    }
    return 0;
}

static void
test_order_matches_full_sort(void **state)
{
    (void)state;
    uint64_t nodes[NT];
    digests(nodes, NT, SIZE_MAX);
    for (int o = 0; o < NOBJ; o++) {
        uint64_t dg = obj_digest(o);
        size_t n = (size_t)(1 + o % 12);
        size_t idx[EC_SLICES_MAX + 1], again[EC_SLICES_MAX + 1];
        assert_int_equal(ec_place_pick(nodes, NT, dg, n, idx), 0);
        assert_int_equal(ec_place_pick(nodes, NT, dg, n, again), 0);
        assert_memory_equal(idx, again, n * sizeof(idx[0]));
        assert_int_equal(idx[0], ais_hrw_pick(nodes, NT, dg));
        /* Strictly descending scores, distinct, and nothing outside beats the last one. */
        for (size_t i = 1; i < n; i++) {
            assert_true(ais_hrw_mix(nodes[idx[i - 1]] ^ dg) > ais_hrw_mix(nodes[idx[i]] ^ dg));
        }
        uint64_t last = ais_hrw_mix(nodes[idx[n - 1]] ^ dg);
        for (size_t t = 0; t < NT; t++) {
            int in = 0;
            for (size_t i = 0; i < n; i++) {
                in |= idx[i] == t;
            }
            if (!in) {
                assert_true(ais_hrw_mix(nodes[t] ^ dg) < last);
            }
        }
    }
}

static void
test_bounds_and_ties(void **state)
{
    (void)state;
    uint64_t nodes[EC_SLICES_MAX + 2];
    size_t idx[EC_SLICES_MAX + 2];
    digests(nodes, EC_SLICES_MAX + 2, SIZE_MAX);
    assert_int_equal(ec_place_pick(nodes, 4, 7, 0, idx), -EINVAL);
    assert_int_equal(ec_place_pick(nodes, EC_SLICES_MAX + 2, 7, EC_SLICES_MAX + 2, idx), -EINVAL);
    assert_int_equal(ec_place_pick(nodes, EC_SLICES_MAX + 2, 7, EC_SLICES_MAX + 1, idx), 0);
    assert_int_equal(ec_place_pick(nodes, 5, 7, 6, idx), -ENOSPC);
    assert_int_equal(ec_place_pick(NULL, 0, 7, 1, idx), -ENOSPC);
    assert_int_equal(ec_place_pick(nodes, 6, 7, 6, idx), 0); /* exactly enough: all of them */
    uint64_t seen = 0;
    for (size_t i = 0; i < 6; i++) {
        seen |= 1ull << idx[i];
    }
    assert_int_equal(seen, 0x3f);
    /* Equal digests score equal: the later index wins, as in ais_hrw_pick. */
    uint64_t same[3] = {nodes[0], nodes[0], nodes[0]};
    assert_int_equal(ec_place_pick(same, 3, 99, 3, idx), 0);
    assert_int_equal(idx[0], 2);
    assert_int_equal(idx[1], 1);
    assert_int_equal(idx[2], 0);
    assert_int_equal(ais_hrw_pick(same, 3, 99), 2);
}

static void
test_spread(void **state)
{
    (void)state;
    enum { N = 6, OBJS = 20000 };
    uint64_t nodes[NT];
    unsigned cnt[NT] = {0};
    size_t idx[N];
    digests(nodes, NT, SIZE_MAX);
    for (int o = 0; o < OBJS; o++) {
        assert_int_equal(ec_place_pick(nodes, NT, obj_digest(o), N, idx), 0);
        for (size_t i = 0; i < N; i++) {
            cnt[idx[i]]++;
        }
    }
    for (size_t t = 0; t < NT; t++) {
        /* within 10% of the even share of OBJS * N / NT = 5000 */
        assert_in_range(cnt[t], 4500, 5500);
    }
}

static void
test_remove_target(void **state)
{
    (void)state;
    enum { N = 6 };
    uint64_t all[NT], less[NT];
    digests(all, NT, SIZE_MAX);
    unsigned unrelated = 0, holders = 0;
    for (int o = 0; o < NOBJ; o++) {
        uint64_t dg = obj_digest(o);
        size_t gone = (size_t)(o % NT);
        uint64_t before[N], after[N], next[N];
        uint64_t full[N + 1];
        pick_digests(all, NT, dg, N, before);
        pick_digests(all, NT, dg, N + 1, full);
        digests(less, NT, gone);
        pick_digests(less, NT - 1, dg, N, after);
        size_t changed = ec_place_repair(before, after, N, next);
        if (!has(before, N, all[gone])) {
            /* Not a holder: the same holders in the same order, nothing moves. */
            assert_memory_equal(before, after, sizeof(before));
            assert_int_equal(changed, 0);
            assert_memory_equal(next, before, sizeof(before));
            unrelated++;
            continue;
        }
        holders++;
        /* A holder: the others stay holders, the next-ranked target joins. */
        for (size_t i = 0; i < N; i++) {
            if (before[i] != all[gone]) {
                assert_true(has(after, N, before[i]));
            }
        }
        assert_true(has(after, N, full[N]));
        assert_false(has(after, N, all[gone]));
        /* Repaired: exactly the removed target's slice moves, to the newcomer. */
        assert_int_equal(changed, 1);
        for (size_t i = 0; i < N; i++) {
            assert_int_equal(next[i], before[i] == all[gone] ? full[N] : before[i]);
        }
    }
    assert_true(unrelated > 0);
    assert_true(holders > 0);
}

static void
test_add_target(void **state)
{
    (void)state;
    enum { N = 10 };
    uint64_t nodes[NT + 1];
    digests(nodes, NT + 1, SIZE_MAX);
    unsigned moved = 0;
    for (int o = 0; o < NOBJ; o++) {
        uint64_t dg = obj_digest(o);
        uint64_t before[N], after[N], next[N];
        pick_digests(nodes, NT, dg, N, before);
        pick_digests(nodes, NT + 1, dg, N, after);
        size_t changed = ec_place_repair(before, after, N, next);
        assert_true(changed <= 1);
        if (changed == 1) {
            assert_true(has(next, N, nodes[NT])); /* only ever to the new target */
            moved++;
        }
        for (size_t i = 0; i < N; i++) {
            assert_true(has(after, N, next[i]));
        }
    }
    /* The new target holds a slice of about N / (NT + 1) of the objects: 1200 +- 20%. */
    assert_in_range(moved, 960, 1440);
}

static void
test_repair_edges(void **state)
{
    (void)state;
    uint64_t pick[4] = {10, 20, 30, 40};
    uint64_t next[4];
    /* Nothing in common: slots take pick order. */
    uint64_t cur[4] = {1, 2, 3, 4};
    assert_int_equal(ec_place_repair(cur, pick, 4, next), 4);
    assert_memory_equal(next, pick, sizeof(pick));
    /* Same set, other order: nothing moves. */
    uint64_t perm[4] = {40, 10, 30, 20};
    assert_int_equal(ec_place_repair(perm, pick, 4, next), 0);
    assert_memory_equal(next, perm, sizeof(perm));
    /* A duplicate holder keeps its first slot only; two vacated slots fill in pick order. */
    uint64_t dup[4] = {30, 30, 99, 10};
    assert_int_equal(ec_place_repair(dup, pick, 4, next), 2);
    assert_int_equal(next[0], 30);
    assert_int_equal(next[1], 20);
    assert_int_equal(next[2], 40);
    assert_int_equal(next[3], 10);
    assert_int_equal(ec_place_repair(cur, pick, 0, next), 0);
}

int
main(void)
{
    // clang-format off
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_matches_full_sort),
        cmocka_unit_test(test_bounds_and_ties),
        cmocka_unit_test(test_spread),
        cmocka_unit_test(test_remove_target),
        cmocka_unit_test(test_add_target),
        cmocka_unit_test(test_repair_edges),
    };
    // clang-format on
    return cmocka_run_group_tests(tests, NULL, NULL);
}
