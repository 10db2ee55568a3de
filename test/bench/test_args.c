/*
 * Goal: aisloader's command line accepts what it documents and refuses everything else with a
 * reason: sizes and their units, percentages, durations, counts, URLs and flag combinations.
 * Method: al_args_parse on argv tables (valid, invalid, boundary max and max+1), plus direct
 * calls of the size and integer parsers.
 */
/* cmocka needs these system headers first; keep the order. */
/* clang-format off */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
/* clang-format on */

#include "bench/args.h"

#define ARGV_MAX 32

/* Parses "aisloader" followed by the given NULL-terminated flags. */
static int
parse_v(struct al_args *out, char *why, size_t whylen, const char *first, va_list ap)
{
    char *argv[ARGV_MAX + 1];
    int argc = 0;
    argv[argc++] = (char *)"aisloader";
    for (const char *s = first; s != NULL; s = va_arg(ap, const char *)) {
        assert_true(argc < ARGV_MAX);
        argv[argc++] = (char *)s;
    }
    argv[argc] = NULL;
    return al_args_parse(argc, argv, out, why, whylen);
}

static int
parse(struct al_args *out, const char *first, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, first);
    int rc = parse_v(out, why, sizeof(why), first, ap);
    va_end(ap);
    if (rc != 0) {
        assert_int_equal(rc, -EINVAL);
        assert_true(strlen(why) > 0);
    }
    return rc;
}

static void
test_size_units(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(al_size_parse("4KiB", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(al_size_parse("4k", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(al_size_parse("1MiB", &v), 0);
    assert_int_equal(v, 1u << 20);
    assert_int_equal(al_size_parse("1mib", &v), 0);
    assert_int_equal(v, 1u << 20);
    assert_int_equal(al_size_parse("16M", &v), 0);
    assert_int_equal(v, 16u << 20);
    assert_int_equal(al_size_parse("1GB", &v), 0);
    assert_int_equal(v, 1000000000ull);
    assert_int_equal(al_size_parse("1GiB", &v), 0);
    assert_int_equal(v, 1ull << 30);
    assert_int_equal(al_size_parse("10KB", &v), 0);
    assert_int_equal(v, 10000);
    assert_int_equal(al_size_parse("123", &v), 0);
    assert_int_equal(v, 123);
    assert_int_equal(al_size_parse("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(al_size_parse("7B", &v), 0);
    assert_int_equal(v, 7);
}

static void
test_size_invalid_and_bounds(void **state)
{
    (void)state;
    uint64_t v = 42;
    const char *bad[] = {"",
                         "KiB",
                         "-1",
                         "1.5MiB",
                         "1 MiB",
                         "1XB",
                         "1MiBs",
                         "+5",
                         "0x10",
                         "99999999999999999999",
                         "18446744073709551615KiB"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(al_size_parse(bad[i], &v), -EINVAL);
    }
    assert_int_equal(v, 42); /* out-param untouched on error */
    assert_int_equal(al_size_parse(NULL, &v), -EINVAL);
    /* AL_OBJ_BYTES_MAX is 64 GiB: max passes, max+1 does not. */
    assert_int_equal(al_size_parse("64GiB", &v), 0);
    assert_int_equal(v, AL_OBJ_BYTES_MAX);
    char buf[32];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)AL_OBJ_BYTES_MAX + 1);
    assert_int_equal(al_size_parse(buf, &v), -EINVAL);
    assert_int_equal(al_size_parse("65GiB", &v), -EINVAL);
    assert_int_equal(al_size_parse("1TiB", &v), -EINVAL);
}

static void
test_uint(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(al_uint_parse("0", 0, 100, &v), 0);
    assert_int_equal(al_uint_parse("100", 0, 100, &v), 0);
    assert_int_equal(v, 100);
    assert_int_equal(al_uint_parse("101", 0, 100, &v), -EINVAL);
    assert_int_equal(al_uint_parse("-1", 0, 100, &v), -EINVAL);
    assert_int_equal(al_uint_parse("5x", 0, 100, &v), -EINVAL);
    assert_int_equal(al_uint_parse("", 0, 100, &v), -EINVAL);
}

static void
test_defaults(void **state)
{
    (void)state;
    struct al_args a;
    assert_int_equal(parse(&a, NULL), 0);
    assert_string_equal(a.endpoint, "http://127.0.0.1:8080");
    assert_string_equal(a.bucket, "aisloader");
    assert_int_equal(a.mode, AL_MODE_GATEWAY);
    assert_int_equal(a.duration_ms, 60000);
    assert_int_equal(a.max_ops, 0);
    assert_int_equal(a.workers, 4);
    assert_int_equal(a.pct_put, 50);
    assert_int_equal(a.size_min, 1u << 20);
    assert_int_equal(a.size_max, 1u << 20);
    assert_int_equal(a.num_objects, 1000);
    assert_int_equal(a.stats_interval_ms, 5000);
    assert_true(a.create_bucket);
    assert_false(a.json);
    assert_false(a.help);
}

static void
test_full_valid(void **state)
{
    (void)state;
    struct al_args a;
    assert_int_equal(parse(&a, "--endpoint", "http://10.0.0.1:51080/", "--bucket", "b-1.x",
                           "--duration", "30s", "--workers", "8", "--pctput", "100", "--minsize",
                           "4KiB", "--maxsize", "1MiB", "--seq", "--cleanup", "--json",
                           "--stats-interval", "500ms", NULL),
                     0);
    assert_string_equal(a.endpoint, "http://10.0.0.1:51080");
    assert_string_equal(a.bucket, "b-1.x");
    assert_int_equal(a.duration_ms, 30000);
    assert_int_equal(a.workers, 8);
    assert_int_equal(a.pct_put, 100);
    assert_int_equal(a.size_min, 4096);
    assert_int_equal(a.size_max, 1u << 20);
    assert_true(a.seq && a.cleanup && a.json);
    assert_int_equal(a.stats_interval_ms, 500);
    /* parsing again in the same process starts from scratch (getopt state is reset) */
    assert_int_equal(parse(&a, "--ip", "127.0.0.2", "--port", "9000", "--direct", NULL), 0);
    assert_string_equal(a.endpoint, "http://127.0.0.2:9000");
    assert_int_equal(a.mode, AL_MODE_DIRECT);
    assert_false(a.json);
    assert_false(a.expect_continue);
    assert_int_equal(parse(&a, "--expect-continue", NULL), 0);
    assert_true(a.expect_continue);
    assert_int_equal(parse(&a, "--port", "65535", NULL), 0);
    assert_string_equal(a.endpoint, "http://127.0.0.1:65535");
}

static void
test_bounds(void **state)
{
    (void)state;
    struct al_args a;
    assert_int_equal(parse(&a, "--pctput", "0", "--fill", NULL), 0);
    assert_int_equal(a.pct_put, 0);
    assert_int_equal(parse(&a, "--pctput", "100", NULL), 0);
    assert_int_equal(parse(&a, "--pctput", "101", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--pctput", "-1", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--workers", "256", NULL), 0);
    assert_int_equal(a.workers, AL_WORKERS_MAX);
    assert_int_equal(parse(&a, "--workers", "257", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--workers", "0", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--num-objects", "16777216", NULL), 0);
    assert_int_equal(parse(&a, "--num-objects", "16777217", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--num-objects", "0", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--port", "0", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--port", "65536", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--size", "64GiB", NULL), 0);
    assert_int_equal(parse(&a, "--size", "65GiB", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--size", "0", NULL), 0);
    assert_int_equal(a.size_max, 0);
}

static void
test_durations(void **state)
{
    (void)state;
    struct al_args a;
    assert_int_equal(parse(&a, "--duration", "2m", NULL), 0);
    assert_int_equal(a.duration_ms, 120000);
    assert_int_equal(parse(&a, "--duration", "1m30s", NULL), 0);
    assert_int_equal(a.duration_ms, 90000);
    assert_int_equal(parse(&a, "--duration", "5", NULL), 0);
    assert_int_equal(a.duration_ms, 5000);
    assert_int_equal(parse(&a, "--duration", "24h", NULL), 0);
    assert_int_equal(parse(&a, "--duration", "25h", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--duration", "10x", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--duration", "-1s", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--duration", "0", NULL), -EINVAL); /* unbounded */
    assert_int_equal(parse(&a, "--stats-interval", "0", NULL), 0);
    assert_int_equal(a.stats_interval_ms, 0);
    assert_int_equal(parse(&a, "--timeout", "0", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--timeout", "250ms", NULL), 0);
    assert_int_equal(a.timeout_ms, 250);
}

static void
test_count_bound(void **state)
{
    (void)state;
    struct al_args a;
    /* --max-ops alone bounds by count only */
    assert_int_equal(parse(&a, "--max-ops", "500", NULL), 0);
    assert_int_equal(a.max_ops, 500);
    assert_int_equal(a.duration_ms, 0);
    /* both bounds: whichever comes first */
    assert_int_equal(parse(&a, "--max-ops", "500", "--duration", "3s", NULL), 0);
    assert_int_equal(a.duration_ms, 3000);
    assert_int_equal(parse(&a, "--max-ops", "0", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--max-ops", "abc", NULL), -EINVAL);
}

static void
test_combinations(void **state)
{
    (void)state;
    struct al_args a;
    assert_int_equal(parse(&a, "--baseline-url", "http://127.0.0.1:8099/dav", NULL), 0);
    assert_int_equal(a.mode, AL_MODE_BASELINE);
    assert_string_equal(a.endpoint, "http://127.0.0.1:8099/dav");
    assert_int_equal(parse(&a, "--baseline-url", "http://h/", "--direct", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--baseline-url", "http://h", "--port", "1", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--endpoint", "http://h:1", "--ip", "1.2.3.4", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--size", "1MiB", "--minsize", "1KiB", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--minsize", "2MiB", "--maxsize", "1MiB", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--minsize", "2MiB", NULL), 0);
    assert_int_equal(a.size_max, 2u << 20);
    assert_int_equal(parse(&a, "--pctput", "0", NULL), -EINVAL); /* nothing to read */
    assert_int_equal(parse(&a, "--pctput", "0", "--existing", NULL), 0);
    assert_true(a.existing);
}

static void
test_invalid_values(void **state)
{
    (void)state;
    struct al_args a;
    assert_int_equal(parse(&a, "--endpoint", "ftp://h", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--endpoint", "http://", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--endpoint", "http://a b", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--bucket", "a/b", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--bucket", "..", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--bucket", "", NULL), -EINVAL);
    char big[AIS_BCKNAME_BYTES_MAX + 2];
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(parse(&a, "--bucket", big, NULL), -EINVAL); /* max+1 */
    big[sizeof(big) - 2] = '\0';
    assert_int_equal(parse(&a, "--bucket", big, NULL), 0); /* max */
    assert_int_equal(parse(&a, "--prefix", "/abs", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--prefix", "a/../b", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--prefix", "a b", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--prefix", "dir/obj-", NULL), 0);
    assert_int_equal(parse(&a, "--no-such-flag", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--workers", NULL), -EINVAL); /* missing value */
    assert_int_equal(parse(&a, "stray", NULL), -EINVAL);
    assert_int_equal(parse(&a, "--help", NULL), 0);
    assert_true(a.help);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_units),   cmocka_unit_test(test_size_invalid_and_bounds),
        cmocka_unit_test(test_uint),         cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full_valid),   cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_durations),    cmocka_unit_test(test_count_bound),
        cmocka_unit_test(test_combinations), cmocka_unit_test(test_invalid_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
