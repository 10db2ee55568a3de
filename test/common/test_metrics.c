/*
 * Goal: the latency histogram puts every value in the right fixed bucket, the Prometheus
 * writers produce text exposition 0.0.4 exactly (cumulative buckets ending in +Inf, _sum,
 * _count, escaped labels, exact decimal seconds), the StatsD formatter sends deltas only, and
 * recording one value stays cheap (no lock, no allocation).
 * Method: direct calls on values at, just below and just above each bound; the output of the
 * writers compared line by line; a timed loop of observations (reported, loosely bounded).
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
#include <time.h>

#include <cmocka.h>
// clang-format on

#include "common/metrics.h"
#include "common/stats.h"
#include "common/statsd.h"
#include "common/util.h"

static void
test_bounds_monotonic(void **state)
{
    (void)state;
    assert_int_equal(ais_hist_bound_ns(0), 1000);
    assert_int_equal(ais_hist_bound_ns(AIS_HIST_BOUNDS - 1), 10000000000LL);
    assert_true(ais_hist_bound_ns(AIS_HIST_BOUNDS) == INT64_MAX);
    for (size_t i = 1; i < AIS_HIST_BOUNDS; i++) {
        int64_t lo = ais_hist_bound_ns(i - 1), hi = ais_hist_bound_ns(i);
        assert_true(hi > lo);
        /* at most 1.34x between neighbours: the interpolation error stays bounded */
        assert_true(hi * 100 <= lo * 134);
    }
}

static void
test_bucket_edges(void **state)
{
    (void)state;
    assert_int_equal(ais_hist_bucket(0), 0);
    for (size_t i = 0; i < AIS_HIST_BOUNDS; i++) {
        int64_t b = ais_hist_bound_ns(i);
        assert_int_equal(ais_hist_bucket(b), i); /* le: the bound itself belongs to i */
        assert_int_equal(ais_hist_bucket(b + 1), i + 1);
        if (i > 0) {
            assert_int_equal(ais_hist_bucket(b - 1), i);
        }
    }
    assert_int_equal(ais_hist_bucket(INT64_MAX), AIS_HIST_BOUNDS); /* +Inf */
}

static void
test_observe_count_sum(void **state)
{
    (void)state;
    struct ais_hist h;
    memset(&h, 0, sizeof(h));
    ais_hist_observe(&h, 500);         /* bucket 0 */
    ais_hist_observe(&h, 1000);        /* bucket 0 (le) */
    ais_hist_observe(&h, 1001);        /* bucket 1 */
    ais_hist_observe(&h, -7);          /* clamped to 0 */
    ais_hist_observe(&h, 20000000000); /* +Inf */
    assert_int_equal(ais_hist_count(&h), 5);
    assert_int_equal(ais_hist_sum_ns(&h), 500 + 1000 + 1001 + 20000000000LL);
    assert_int_equal(h.n[0], 3);
    assert_int_equal(h.n[1], 1);
    assert_int_equal(h.n[AIS_HIST_BOUNDS], 1);
}

static void
test_seconds(void **state)
{
    (void)state;
    char s[40];
    assert_string_equal(ais_prom_seconds(0, s, sizeof(s)), "0");
    assert_string_equal(ais_prom_seconds(12500, s, sizeof(s)), "0.0000125");
    assert_string_equal(ais_prom_seconds(1500000000, s, sizeof(s)), "1.5");
    assert_string_equal(ais_prom_seconds(10000000000LL, s, sizeof(s)), "10");
    assert_string_equal(ais_prom_seconds(1, s, sizeof(s)), "0.000000001");
    assert_string_equal(ais_prom_seconds(-2500000000LL, s, sizeof(s)), "-2.5");
}

static void
test_label_escape(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(ais_prom_label_esc("/mnt/a", out, sizeof(out)), 0);
    assert_string_equal(out, "/mnt/a");
    assert_int_equal(ais_prom_label_esc("a\"b\\c\nd", out, sizeof(out)), 0);
    assert_string_equal(out, "a\\\"b\\\\c\\nd");
    /* boundary: 3 bytes fit in 4 (NUL), 4 do not */
    assert_int_equal(ais_prom_label_esc("abc", out, 4), 0);
    assert_int_equal(ais_prom_label_esc("abcd", out, 4), -ENAMETOOLONG);
    assert_string_equal(out, "");
    assert_int_equal(ais_prom_label_esc("ab\"", out, 4), -ENAMETOOLONG); /* escape needs 2 */
}

static void
test_hist_exposition(void **state)
{
    (void)state;
    struct ais_hist h;
    memset(&h, 0, sizeof(h));
    ais_hist_observe(&h, 1000);
    ais_hist_observe(&h, 1200);
    ais_hist_observe(&h, 20000000000);
    struct ais_buf b;
    ais_buf_init(&b, 1 << 20);
    assert_int_equal(ais_prom_head(&b, "x_seconds", "histogram", "help"), 0);
    assert_int_equal(ais_prom_hist(&b, "x_seconds", "op=\"get\"", &h), 0);
    assert_non_null(strstr(b.data, "# HELP x_seconds help\n# TYPE x_seconds histogram\n"));
    assert_non_null(strstr(b.data, "x_seconds_bucket{op=\"get\",le=\"0.000001\"} 1\n"));
    assert_non_null(strstr(b.data, "x_seconds_bucket{op=\"get\",le=\"0.00000125\"} 2\n"));
    assert_non_null(strstr(b.data, "x_seconds_bucket{op=\"get\",le=\"10\"} 2\n"));
    assert_non_null(strstr(b.data, "x_seconds_bucket{op=\"get\",le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(b.data, "x_seconds_sum{op=\"get\"} 20.0000022\n"));
    assert_non_null(strstr(b.data, "x_seconds_count{op=\"get\"} 3\n"));
    /* one line per bucket, cumulative counts never decrease */
    size_t lines = 0;
    long last = -1;
    for (const char *p = strstr(b.data, "_bucket"); p; p = strstr(p + 1, "_bucket")) {
        const char *sp = strchr(p, ' ');
        long v = strtol(sp + 1, NULL, 10);
        assert_true(v >= last);
        last = v;
        lines++;
    }
    assert_int_equal(lines, AIS_HIST_BOUNDS + 1);
    ais_buf_fini(&b);
    /* no labels: name_bucket{le=..}, name_sum, name_count */
    ais_buf_init(&b, 1 << 20);
    assert_int_equal(ais_prom_hist(&b, "y", NULL, &h), 0);
    assert_non_null(strstr(b.data, "y_bucket{le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(b.data, "\ny_count 3\n"));
    ais_buf_fini(&b);
    /* a capped buffer reports the overflow */
    ais_buf_init(&b, 64);
    assert_int_equal(ais_prom_hist(&b, "y", NULL, &h), -EMSGSIZE);
    ais_buf_fini(&b);
}

static void
test_samples(void **state)
{
    (void)state;
    struct ais_buf b;
    ais_buf_init(&b, 4096);
    assert_int_equal(ais_prom_i64(&b, "a_total", NULL, 7), 0);
    assert_int_equal(ais_prom_i64(&b, "a_total", "", -1), 0);
    assert_int_equal(ais_prom_i64(&b, "b", "k=\"v\"", INT64_MAX), 0);
    assert_int_equal(ais_prom_f64(&b, "c", NULL, 0.5), 0);
    assert_string_equal(b.data, "a_total 7\na_total -1\nb{k=\"v\"} 9223372036854775807\nc 0.5\n");
    ais_buf_fini(&b);
}

static void
test_stats_prom(void **state)
{
    (void)state;
    struct ais_stats s;
    ais_stats_init(&s);
    ais_stats_add(&s, AIS_STAT_GET_N, 3);
    ais_stats_add(&s, AIS_STAT_ERR_CKSUM_N, 1);
    ais_stats_observe(&s, AIS_LAT_PUT, 2000000);
    struct ais_buf b;
    ais_buf_init(&b, 1 << 20);
    assert_int_equal(ais_stats_prom(&b, &s, 1), 0);
    assert_non_null(strstr(b.data, "# TYPE ais_ops_total counter\n"));
    assert_non_null(strstr(b.data, "ais_ops_total{op=\"get\"} 3\n"));
    assert_non_null(strstr(b.data, "ais_errors_total{kind=\"checksum\"} 1\n"));
    assert_non_null(strstr(b.data, "ais_latency_seconds_count{op=\"put\"} 1\n"));
    assert_non_null(strstr(b.data, "ais_latency_seconds_sum{op=\"put\"} 0.002\n"));
    ais_buf_fini(&b);
    ais_buf_init(&b, 1 << 20);
    assert_int_equal(ais_stats_prom(&b, &s, 0), 0); /* gateways: no histograms */
    assert_null(strstr(b.data, "ais_latency_seconds"));
    ais_buf_fini(&b);
}

static void
test_node(void **state)
{
    (void)state;
    struct ais_buf b;
    ais_buf_init(&b, 4096);
    struct ais_prom_node n = {.node_id = "t\"1",
                              .role = "target",
                              .ready = 1,
                              .primary = -1,
                              .smap_version = 5,
                              .bmd_version = 2};
    assert_int_equal(ais_prom_node_write(&b, &n), 0);
    assert_non_null(strstr(b.data, "ais_node_info{node_id=\"t\\\"1\",role=\"target\"} 1\n"));
    assert_non_null(strstr(b.data, "ais_smap_version 5\n"));
    assert_null(strstr(b.data, "ais_node_primary"));
    ais_buf_fini(&b);
}

static void
test_statsd_format(void **state)
{
    (void)state;
    struct ais_statsd_snap prev, cur;
    memset(&prev, 0, sizeof(prev));
    cur = prev;
    char lines[1024];
    assert_int_equal(ais_statsd_format("aistarget.t1", &prev, &cur, lines, sizeof(lines)), 0);
    assert_string_equal(lines, "");
    cur.v[AIS_STAT_GET_N] = 4;
    cur.v[AIS_STAT_GET_SIZE] = 4096;
    cur.v[AIS_STAT_GET_NS] = 999; /* cumulative ns totals are not counters */
    cur.lat_n[AIS_LAT_GET] = 4;
    cur.lat_sum_ns[AIS_LAT_GET] = 4000000;
    assert_int_equal(ais_statsd_format("aistarget.t1", &prev, &cur, lines, sizeof(lines)), 3);
    assert_string_equal(lines, "aistarget.t1.get.n:4|c\naistarget.t1.get.size:4096|c\n"
                               "aistarget.t1.get.ns:1.000|ms");
    /* a line that does not fit is left out whole */
    assert_int_equal(ais_statsd_format("aistarget.t1", &prev, &cur, lines, 30), 1);
    assert_string_equal(lines, "aistarget.t1.get.n:4|c");
    prev = cur;
    assert_int_equal(ais_statsd_format("p", &prev, &cur, lines, sizeof(lines)), 0);
}

/* Cost of one observation: a binary search and two relaxed adds. Bounded loosely (shared CI
 * machines, sanitizers); the figure is printed. */
static void
test_observe_cost(void **state)
{
    (void)state;
    static struct ais_hist h;
    enum { N = 2000000 };
    int64_t t0 = ais_mono_ns();
    for (int i = 0; i < N; i++) {
        ais_hist_observe(&h, (int64_t)(i % 4096) * 4099);
    }
    int64_t dt = ais_mono_ns() - t0;
    printf("ais_hist_observe: %.1f ns per value\n", (double)dt / N);
    assert_int_equal(ais_hist_count(&h), N);
    assert_true(dt / N < 1000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds_monotonic),
        cmocka_unit_test(test_bucket_edges),
        cmocka_unit_test(test_observe_count_sum),
        cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_label_escape),
        cmocka_unit_test(test_hist_exposition),
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_stats_prom),
        cmocka_unit_test(test_node),
        cmocka_unit_test(test_statsd_format),
        cmocka_unit_test(test_observe_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
