/*
 * Goal: the numbers aisloader prints are right: histogram bucketing (exact below 256,
 * relative error <= 1/128 above, contiguous, monotonic), percentiles of known distributions,
 * merging, the error table's bound, the rate maths, and the payload pattern's offsets.
 * Method: record synthetic distributions whose percentiles are known in closed form and
 * compare, exactly where buckets are exact and within the documented error elsewhere.
 */
/* cmocka needs these system headers first; keep the order. */
/* clang-format off */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
/* clang-format on */

#include "bench/bench_limits.h"
#include "bench/hist.h"
#include "bench/pattern.h"
#include "bench/stats.h"

static struct al_hist *
hist(void)
{
    struct al_hist *h = NULL;
    assert_int_equal(al_hist_new(&h), 0);
    return h;
}

static void
assert_near(uint64_t got, uint64_t want)
{
    double rel = (double)(got > want ? got - want : want - got) / (double)want;
    if (rel > 1.0 / (1 << AL_HIST_SUB_BITS)) {
        fail_msg("got %llu want %llu (rel err %.4f)", (unsigned long long)got,
                 (unsigned long long)want, rel);
    }
}

static void
test_buckets(void **state)
{
    (void)state;
    for (uint64_t v = 0; v < 256; v++) {
        assert_int_equal(al_hist_bucket(v), v);
    }
    uint64_t prev_hi = 0;
    unsigned last = al_hist_bucket(UINT64_MAX);
    for (unsigned i = 0; i <= last; i++) {
        uint64_t lo, hi;
        al_hist_bucket_range(i, &lo, &hi);
        if (i > 0) {
            assert_int_equal(lo, prev_hi + 1); /* contiguous */
        }
        assert_int_equal(al_hist_bucket(lo), i);
        assert_int_equal(al_hist_bucket(hi), i);
        if (lo >= 256) {
            assert_true((double)(hi - lo + 1) / (double)lo <= 1.0 / (1 << AL_HIST_SUB_BITS));
        }
        prev_hi = hi;
    }
    assert_int_equal(prev_hi, (1ull << AL_HIST_MAX_BITS) - 1);
    /* monotonic over a sweep of magnitudes */
    unsigned b = 0;
    for (uint64_t v = 1; v < (1ull << 40); v = v * 3 / 2 + 1) {
        unsigned nb = al_hist_bucket(v);
        assert_true(nb >= b);
        b = nb;
    }
}

static void
test_empty_and_single(void **state)
{
    (void)state;
    struct al_hist *h = hist();
    assert_int_equal(al_hist_count(h), 0);
    assert_int_equal(al_hist_percentile(h, 50), 0);
    assert_int_equal(al_hist_min(h), 0);
    assert_int_equal(al_hist_max(h), 0);
    assert_true(al_hist_mean(h) == 0.0);
    al_hist_record(h, 123456789);
    assert_int_equal(al_hist_percentile(h, 0), 123456789);
    assert_int_equal(al_hist_percentile(h, 50), 123456789); /* clamped to [min,max] */
    assert_int_equal(al_hist_percentile(h, 99.9), 123456789);
    assert_int_equal(al_hist_percentile(h, 100), 123456789);
    al_hist_free(h);
    al_hist_free(NULL);
}

static void
test_exact_small(void **state)
{
    (void)state;
    struct al_hist *h = hist();
    for (uint64_t v = 100; v >= 1; v--) { /* order must not matter */
        al_hist_record(h, v);
    }
    assert_int_equal(al_hist_count(h), 100);
    assert_int_equal(al_hist_percentile(h, 0), 1);
    assert_int_equal(al_hist_percentile(h, 0.5), 1);
    assert_int_equal(al_hist_percentile(h, 1), 1);
    assert_int_equal(al_hist_percentile(h, 50), 50);
    assert_int_equal(al_hist_percentile(h, 50.5), 51);
    assert_int_equal(al_hist_percentile(h, 90), 90);
    assert_int_equal(al_hist_percentile(h, 99), 99);
    assert_int_equal(al_hist_percentile(h, 100), 100);
    assert_int_equal(al_hist_percentile(h, 150), 100);
    assert_int_equal(al_hist_percentile(h, -1), 1);
    assert_true(al_hist_mean(h) == 50.5);
    al_hist_free(h);
}

static void
test_uniform(void **state)
{
    (void)state;
    struct al_hist *h = hist();
    /* 1..1,000,000 in steps of 7: percentile p is ~p * 10,000 */
    for (uint64_t v = 1; v <= 1000000; v += 7) {
        al_hist_record(h, v);
    }
    assert_near(al_hist_percentile(h, 50), 500000);
    assert_near(al_hist_percentile(h, 90), 900000);
    assert_near(al_hist_percentile(h, 99), 990000);
    assert_near(al_hist_percentile(h, 10), 100000);
    assert_int_equal(al_hist_min(h), 1);
    assert_int_equal(al_hist_max(h), 1000000); /* 1 + 7 * 142857 */
    al_hist_free(h);
}

static void
test_bimodal(void **state)
{
    (void)state;
    struct al_hist *h = hist();
    const uint64_t fast = 1000000, slow = 100000000; /* 1 ms and 100 ms */
    for (int i = 0; i < 990; i++) {
        al_hist_record(h, fast);
    }
    for (int i = 0; i < 10; i++) {
        al_hist_record(h, slow);
    }
    assert_near(al_hist_percentile(h, 50), fast);
    assert_near(al_hist_percentile(h, 99), fast); /* rank 990 is the last fast one */
    assert_near(al_hist_percentile(h, 99.1), slow);
    assert_int_equal(al_hist_max(h), slow);
    assert_int_equal(al_hist_min(h), fast);
    assert_true(al_hist_mean(h) > 1.98e6 && al_hist_mean(h) < 1.99e6 + 1);
    al_hist_free(h);
}

static void
test_merge_and_clamp(void **state)
{
    (void)state;
    struct al_hist *a = hist(), *b = hist(), *all = hist();
    for (uint64_t v = 1; v <= 5000; v++) {
        al_hist_record(v % 2 ? a : b, v * 1000);
        al_hist_record(all, v * 1000);
    }
    al_hist_merge(a, b);
    assert_int_equal(al_hist_count(a), 5000);
    for (double p = 0; p <= 100; p += 12.5) {
        assert_int_equal(al_hist_percentile(a, p), al_hist_percentile(all, p));
    }
    assert_int_equal(al_hist_min(a), 1000);
    assert_int_equal(al_hist_max(a), 5000000);
    al_hist_reset(b);
    al_hist_merge(a, b); /* empty merge changes nothing */
    assert_int_equal(al_hist_count(a), 5000);
    /* a value beyond the top bucket: counted, max exact, percentiles within [min,max] */
    al_hist_record(b, 1ull << 50);
    assert_int_equal(al_hist_max(b), 1ull << 50);
    assert_true(al_hist_percentile(b, 50) <= 1ull << 50);
    al_hist_free(a);
    al_hist_free(b);
    al_hist_free(all);
}

static void
test_stats_errors_bounded(void **state)
{
    (void)state;
    struct al_stats s, m;
    assert_int_equal(al_stats_init(&s), 0);
    assert_int_equal(al_stats_init(&m), 0);
    al_stats_ok(&s, AL_OP_GET, 4096, 1000);
    al_stats_ok(&s, AL_OP_GET, 4096, 3000);
    for (long code = 400; code < 400 + AL_ERRKINDS_MAX + 8; code++) {
        al_stats_err(&s, AL_OP_PUT, AL_ERR_HTTP, code);
    }
    al_stats_err(&s, AL_OP_GET, AL_ERR_VERIFY, 0);
    assert_int_equal(s.op[AL_OP_GET].ops, 2);
    assert_int_equal(s.op[AL_OP_GET].bytes, 8192);
    assert_int_equal(s.op[AL_OP_GET].errors, 1);
    assert_int_equal(s.op[AL_OP_PUT].errors, AL_ERRKINDS_MAX + 8);
    assert_int_equal(s.errs.n, AL_ERRKINDS_MAX);
    assert_int_equal(s.errs.other, 9); /* 8 PUT codes and the verify row did not fit */
    /* merged twice: same rows doubled, nothing lost */
    al_stats_merge(&m, &s);
    al_stats_merge(&m, &s);
    assert_int_equal(m.op[AL_OP_PUT].errors, 2 * (AL_ERRKINDS_MAX + 8));
    assert_int_equal(m.errs.n, AL_ERRKINDS_MAX);
    assert_int_equal(m.errs.rows[0].count, 2);
    assert_int_equal(m.errs.other, 18);
    assert_int_equal(al_hist_count(m.op[AL_OP_GET].lat), 4);
    al_stats_reset(&m);
    assert_int_equal(m.op[AL_OP_PUT].errors, 0);
    assert_int_equal(m.errs.n, 0);
    assert_int_equal(al_hist_count(m.op[AL_OP_GET].lat), 0);
    al_stats_fini(&s);
    al_stats_fini(&m);
    al_stats_fini(&m); /* idempotent */
}

static void
test_rates(void **state)
{
    (void)state;
    assert_true(al_rate_per_s(1000, 2000000000) == 500.0);
    assert_true(al_mib_per_s(10u << 20, 4000000000) == 2.5);
    assert_true(al_rate_per_s(5, 0) == 0.0);
    assert_true(al_mib_per_s(5, -1) == 0.0);
    assert_string_equal(al_op_name(AL_OP_DEL), "DELETE");
    assert_string_equal(al_errkind_name(AL_ERR_CURL), "transport");
}

static void
test_pattern(void **state)
{
    (void)state;
    struct al_pattern *p = NULL, *q = NULL;
    assert_int_equal(al_pattern_new(7, &p), 0);
    assert_int_equal(al_pattern_new(7, &q), 0);
    uint32_t ns = al_pattern_name_seed("al-0000000042");
    assert_int_equal(ns, al_pattern_name_seed("al-0000000042"));
    assert_true(ns != al_pattern_name_seed("al-0000000043"));
    assert_true(ns < AL_PATTERN_BYTES);
    /* an object of 2.5 pattern laps, copied in odd pieces, checks out in other pieces */
    size_t size = AL_PATTERN_BYTES * 5 / 2;
    unsigned char *obj = malloc(size);
    assert_non_null(obj);
    for (size_t off = 0; off < size;) {
        size_t n = off % 3 ? 65537 : 12345;
        n = n > size - off ? size - off : n;
        al_pattern_copy(p, ns, off, obj + off, n);
        off += n;
    }
    assert_true(al_pattern_check(q, ns, 0, obj, size)); /* same seed, same bytes */
    assert_true(al_pattern_check(p, ns, 1000, obj + 1000, size - 1000));
    assert_false(al_pattern_check(p, ns + 1, 0, obj, 4096));
    obj[size - 1] ^= 1;
    assert_false(al_pattern_check(p, ns, 0, obj, size));
    assert_true(al_pattern_check(p, ns, 0, obj, size - 1));
    free(obj);
    al_pattern_free(p);
    al_pattern_free(q);
    al_pattern_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_empty_and_single),
        cmocka_unit_test(test_exact_small),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_bimodal),
        cmocka_unit_test(test_merge_and_clamp),
        cmocka_unit_test(test_stats_errors_bounded),
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_pattern),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
