/*
 * Goal: every gateway picks the same election candidate from the same Smap: the electable
 * gateway with the highest id_digest (api.md §8), never a target, the dead primary, or a node
 * flagged non-electable / in maintenance / decommissioned; the rank order lets the next
 * gateway stand when the first candidate is gone too.
 * Method: real Smaps built with ais_smap_put_node; the expected answer is computed by brute
 * force over the digests, independently of the node order.
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
// clang-format on

#include "gateway/election.h"

static void
add_node(struct ais_smap *m, const char *id, int is_target, uint64_t flags)
{
    struct ais_snode n;
    memset(&n, 0, sizeof(n));
    snprintf(n.id, sizeof(n.id), "%s", id);
    n.is_target = is_target;
    n.flags = flags;
    snprintf(n.host, sizeof(n.host), "127.0.0.1");
    n.port = 9000;
    ais_snode_init_digest(&n);
    assert_int_equal(ais_smap_put_node(m, &n), 0);
}

/* 5 gateways p0..p4 and 3 targets t0..t2. */
static struct ais_smap *
cluster(void)
{
    struct ais_smap *m = ais_smap_new();
    assert_non_null(m);
    char id[16];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "p%d", i);
        add_node(m, id, 0, 0);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(id, sizeof(id), "t%d", i);
        add_node(m, id, 1, 0);
    }
    return m;
}

/* Brute force: the gateway with the highest digest, skipping skip (may be NULL). */
static const struct ais_snode *
expected(const struct ais_smap *m, const char *skip)
{
    const struct ais_snode *best = NULL;
    for (size_t i = 0; i < m->nnodes; i++) {
        const struct ais_snode *n = &m->nodes[i];
        if (n->is_target || n->flags != 0 || (skip && strcmp(n->id, skip) == 0)) {
            continue;
        }
        if (best == NULL || n->id_digest > best->id_digest) {
            best = n;
        }
    }
    return best;
}

static void
test_candidate_is_max_digest(void **state)
{
    (void)state;
    struct ais_smap *m = cluster();
    const struct ais_snode *c = gw_elect_candidate(m, NULL, 0);
    assert_non_null(c);
    assert_ptr_equal(c, expected(m, NULL));
    assert_false(c->is_target);
    assert_int_equal(gw_elect_rank(m, NULL, c->id), 0);
    ais_smap_unref(m);
}

static void
test_dead_primary_excluded(void **state)
{
    (void)state;
    struct ais_smap *m = cluster();
    const struct ais_snode *first = gw_elect_candidate(m, NULL, 0);
    const char *skip[] = {first->id};
    const struct ais_snode *c = gw_elect_candidate(m, skip, 1);
    assert_non_null(c);
    assert_string_not_equal(c->id, first->id);
    assert_ptr_equal(c, expected(m, first->id));
    /* the rank without the dead one agrees with the candidate; the dead one has no rank */
    assert_int_equal(gw_elect_rank(m, first->id, c->id), 0);
    assert_int_equal(gw_elect_rank(m, first->id, first->id), -1);
    ais_smap_unref(m);
}

static void
test_ranks_are_a_permutation(void **state)
{
    (void)state;
    struct ais_smap *m = cluster();
    const char *dead = "p2";
    int seen[8] = {0};
    for (size_t i = 0; i < m->nnodes; i++) {
        int r = gw_elect_rank(m, dead, m->nodes[i].id);
        if (m->nodes[i].is_target || strcmp(m->nodes[i].id, dead) == 0) {
            assert_int_equal(r, -1);
            continue;
        }
        assert_in_range(r, 0, 3);
        seen[r]++;
    }
    for (int r = 0; r < 4; r++) {
        assert_int_equal(seen[r], 1);
    }
    /* skipping the candidates in rank order walks the same order */
    const char *skip[5] = {dead};
    for (int r = 0; r < 4; r++) {
        const struct ais_snode *c = gw_elect_candidate(m, skip, (size_t)r + 1);
        assert_non_null(c);
        assert_int_equal(gw_elect_rank(m, dead, c->id), r);
        skip[r + 1] = c->id;
    }
    assert_null(gw_elect_candidate(m, skip, 5));
    ais_smap_unref(m);
}

static void
test_flags_and_targets_excluded(void **state)
{
    (void)state;
    struct ais_smap *m = ais_smap_new();
    add_node(m, "pa", 0, AIS_SNODE_NONELECTABLE);
    add_node(m, "pb", 0, AIS_SNODE_MAINTENANCE);
    add_node(m, "pc", 0, AIS_SNODE_DECOMMISSION);
    add_node(m, "ta", 1, 0);
    assert_null(gw_elect_candidate(m, NULL, 0));
    assert_int_equal(gw_elect_rank(m, NULL, "pa"), -1);
    assert_int_equal(gw_elect_rank(m, NULL, "ta"), -1);
    assert_int_equal(gw_elect_rank(m, NULL, "nosuch"), -1);
    add_node(m, "pd", 0, 0);
    const struct ais_snode *c = gw_elect_candidate(m, NULL, 0);
    assert_non_null(c);
    assert_string_equal(c->id, "pd");
    const char *skip[] = {"pd"};
    assert_null(gw_elect_candidate(m, skip, 1));
    ais_smap_unref(m);
}

static void
test_same_answer_in_any_order(void **state)
{
    (void)state;
    /* Built in the opposite order: the Smap sorts by id, the choice depends on digests only. */
    struct ais_smap *a = cluster();
    struct ais_smap *b = ais_smap_new();
    char id[16];
    for (int i = 2; i >= 0; i--) {
        snprintf(id, sizeof(id), "t%d", i);
        add_node(b, id, 1, 0);
    }
    for (int i = 4; i >= 0; i--) {
        snprintf(id, sizeof(id), "p%d", i);
        add_node(b, id, 0, 0);
    }
    assert_string_equal(gw_elect_candidate(a, NULL, 0)->id, gw_elect_candidate(b, NULL, 0)->id);
    ais_smap_unref(a);
    ais_smap_unref(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_candidate_is_max_digest),
        cmocka_unit_test(test_dead_primary_excluded),
        cmocka_unit_test(test_ranks_are_a_permutation),
        cmocka_unit_test(test_flags_and_targets_excluded),
        cmocka_unit_test(test_same_answer_in_any_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
