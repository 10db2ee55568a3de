/*
 * Goal: the rebalance plan moves exactly the objects whose HRW owner changed, about 1/N of
 * them when a target joins, none when only gateways change, and all of a target's objects
 * away from it when it enters maintenance.
 * Method: real Smaps built with ais_smap_put_node; 20000 synthetic object digests.
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

#include "common/hrw.h"
#include "reb/reb.h"

#define NOBJ 20000

static struct ais_smap *
smap_of(int ntargets, int nproxies)
{
    struct ais_smap *m = ais_smap_new();
    assert_non_null(m);
    for (int i = 0; i < ntargets + nproxies; i++) {
        struct ais_snode n;
        memset(&n, 0, sizeof(n));
        snprintf(n.id, sizeof(n.id), "%c%d", i < ntargets ? 't' : 'p', i);
        n.is_target = i < ntargets;
        snprintf(n.host, sizeof(n.host), "127.0.0.1");
        n.port = (uint16_t)(9000 + i);
        ais_snode_init_digest(&n);
        assert_int_equal(ais_smap_put_node(m, &n), 0);
    }
    return m;
}

static uint64_t
digest_of(int i)
{
    char name[64];
    snprintf(name, sizeof(name), "ais/@#/b/obj-%d", i);
    return ais_hrw_digest(name, strlen(name));
}

/* Objects that move from their owner in old to another target in cur. */
static int
moved(const struct ais_smap *old, const struct ais_smap *cur)
{
    int n = 0;
    for (int i = 0; i < NOBJ; i++) {
        uint64_t d = digest_of(i);
        const struct ais_snode *holder = ais_smap_hrw_target(old, d);
        const struct ais_snode *dest = reb_dest(cur, holder->id, d);
        n += dest != NULL;
        /* The destination is always the new owner, never the holder itself. */
        if (dest != NULL) {
            assert_string_equal(dest->id, ais_smap_hrw_target(cur, d)->id);
            assert_string_not_equal(dest->id, holder->id);
        }
    }
    return n;
}

static void
test_join_moves_one_nth(void **state)
{
    (void)state;
    struct ais_smap *m3 = smap_of(3, 1), *m4 = smap_of(4, 1), *m5 = smap_of(5, 1);
    assert_true(reb_smap_moves(m3, m4));
    int n4 = moved(m3, m4), n5 = moved(m4, m5);
    /* Optimal is 1/N of all objects; allow 10% either way. */
    assert_in_range(n4, NOBJ / 4 * 9 / 10, NOBJ / 4 * 11 / 10);
    assert_in_range(n5, NOBJ / 5 * 9 / 10, NOBJ / 5 * 11 / 10);
    /* Leave is the mirror image of join. */
    assert_int_equal(moved(m4, m3), n4);
    ais_smap_unref(m3);
    ais_smap_unref(m4);
    ais_smap_unref(m5);
}

static void
test_gateway_change_moves_nothing(void **state)
{
    (void)state;
    struct ais_smap *a = smap_of(3, 1), *b = smap_of(3, 3);
    assert_false(reb_smap_moves(a, b));
    assert_int_equal(moved(a, b), 0);
    assert_false(reb_smap_moves(a, a));
    assert_true(reb_smap_moves(NULL, a));
    struct ais_smap *empty = ais_smap_new();
    assert_false(reb_smap_moves(NULL, empty));
    ais_smap_unref(empty);
    ais_smap_unref(a);
    ais_smap_unref(b);
}

static void
test_maintenance_empties_node(void **state)
{
    (void)state;
    struct ais_smap *a = smap_of(3, 1), *b = smap_of(3, 1);
    struct ais_snode *t0 = (struct ais_snode *)ais_smap_find(b, "t0");
    assert_non_null(t0);
    t0->flags |= AIS_SNODE_MAINTENANCE; /* unpublished copy: safe to edit */
    assert_true(reb_smap_moves(a, b));
    int held = 0, leaving = 0;
    for (int i = 0; i < NOBJ; i++) {
        uint64_t d = digest_of(i);
        if (strcmp(ais_smap_hrw_target(a, d)->id, t0->id) == 0) {
            held++;
            leaving += reb_dest(b, t0->id, d) != NULL;
        }
        /* Nothing ever moves onto the node in maintenance. */
        const struct ais_snode *dest = reb_dest(b, ais_smap_hrw_target(a, d)->id, d);
        assert_true(dest == NULL || strcmp(dest->id, t0->id) != 0);
    }
    assert_true(held > 0);
    assert_int_equal(leaving, held);
    /* Back from maintenance: ownership moves again. */
    assert_true(reb_smap_moves(b, a));
    ais_smap_unref(a);
    ais_smap_unref(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_moves_one_nth),
        cmocka_unit_test(test_gateway_change_moves_nothing),
        cmocka_unit_test(test_maintenance_empties_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
