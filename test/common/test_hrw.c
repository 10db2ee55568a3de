/*
 * Goal: HRW placement is AIS-compatible, uniform and stable under membership change.
 * Method: known-answer checks of the mix and digest against values computed by the
 * reference formula, 100k names over 10 nodes for uniformity, and 10 -> 11 nodes moving
 * about 1/11 of the names.
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

static void
test_mix_known_values(void **state)
{
    (void)state;
    /* Reference: the formula in spec/api.md §8.2 evaluated independently (Python). */
    assert_true(ais_hrw_mix(0) == 0x1a70a846bd9cc2a9ull);
    assert_true(ais_hrw_mix(1) == 0xc5883e370b0926c3ull);
    assert_true(ais_hrw_mix(0xdeadbeefcafebabeull) == 0x922d3b105868f677ull);
}

static void
node_digests(uint64_t *d, size_t n)
{
    char id[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "t%zu", i);
        d[i] = ais_hrw_digest(id, strlen(id));
    }
}

static void
test_uniform(void **state)
{
    (void)state;
    enum { N = 10, OBJS = 100000 };
    uint64_t d[N];
    unsigned cnt[N] = {0};
    char uname[128];
    node_digests(d, N);
    for (int i = 0; i < OBJS; i++) {
        int n = ais_uname(uname, sizeof(uname), "ais", "", "bck", "obj");
        assert_true(n > 0);
        snprintf(uname, sizeof(uname), "ais/@#/bck/train/img-%06d.jpg", i);
        cnt[ais_hrw_pick(d, N, ais_hrw_digest(uname, strlen(uname)))]++;
    }
    for (int i = 0; i < N; i++) {
        /* within 5% of the even share */
        assert_in_range(cnt[i], OBJS / N * 95 / 100, OBJS / N * 105 / 100);
    }
}

static void
test_add_node_moves_one_nth(void **state)
{
    (void)state;
    enum { N = 10, OBJS = 100000 };
    uint64_t d[N + 1];
    char uname[128];
    unsigned moved = 0;
    node_digests(d, N + 1);
    for (int i = 0; i < OBJS; i++) {
        snprintf(uname, sizeof(uname), "ais/@#/bck/o-%d", i);
        uint64_t dg = ais_hrw_digest(uname, strlen(uname));
        size_t before = ais_hrw_pick(d, N, dg);
        size_t after = ais_hrw_pick(d, N + 1, dg);
        if (before != after) {
            assert_int_equal(after, N); /* names only move to the new node */
            moved++;
        }
    }
    /* expect OBJS/11 = 9090 +- 10% */
    assert_in_range(moved, OBJS / (N + 1) * 90 / 100, OBJS / (N + 1) * 110 / 100);
}

static void
test_uname(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(ais_uname(out, sizeof(out), "ais", "", "images", "train/a.jpg"),
                     (int)strlen("ais/@#/images/train/a.jpg"));
    assert_string_equal(out, "ais/@#/images/train/a.jpg");
    assert_true(ais_uname(out, sizeof(out), "ais", "@u#ns", "b", "o") > 0);
    assert_string_equal(out, "ais/@u#ns/b/o");
    char tiny[8];
    assert_true(ais_uname(tiny, sizeof(tiny), "ais", "", "images", "x") < 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mix_known_values),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_add_node_moves_one_nth),
        cmocka_unit_test(test_uname),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
