/*
 * Goal: util helpers behave at their edges: durations, booleans, capped buffers, atomic files.
 * Method: direct calls with valid, invalid and boundary input; files in a mkdtemp dir.
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
#include <unistd.h>

#include <cmocka.h>
// clang-format on

#include "common/err.h"
#include "common/util.h"

static void
test_duration(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(ais_duration_parse_ms("10s", &ms), 0);
    assert_int_equal(ms, 10000);
    assert_int_equal(ais_duration_parse_ms("1m30s", &ms), 0);
    assert_int_equal(ms, 90000);
    assert_int_equal(ais_duration_parse_ms("250ms", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(ais_duration_parse_ms("2", &ms), 0);
    assert_int_equal(ms, 2000);
    assert_int_equal(ais_duration_parse_ms("", &ms), -EINVAL);
    assert_int_equal(ais_duration_parse_ms("5x", &ms), -EINVAL);
    assert_int_equal(ais_duration_parse_ms("-1s", &ms), -EINVAL);
}

static void
test_bool(void **state)
{
    (void)state;
    assert_int_equal(ais_parse_bool("True"), 1);
    assert_int_equal(ais_parse_bool("1"), 1);
    assert_int_equal(ais_parse_bool("False"), 0);
    assert_int_equal(ais_parse_bool("maybe"), -EINVAL);
}

static void
test_buf_cap(void **state)
{
    (void)state;
    struct ais_buf b;
    ais_buf_init(&b, 16);
    assert_int_equal(ais_buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(ais_buf_append(&b, "abcde", 5), 0);
    assert_int_equal(ais_buf_append(&b, "X", 1), -EMSGSIZE);
    assert_string_equal(b.data, "0123456789abcde");
    ais_buf_fini(&b);
    ais_buf_fini(NULL);
}

static void
test_atomic_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/ais-util-XXXXXX";
    char path[128];
    char *data = NULL;
    size_t len = 0;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/a/b/c", dir);
    assert_int_equal(ais_mkdir_p(path), 0);
    snprintf(path, sizeof(path), "%s/a/f", dir);
    assert_int_equal(ais_file_write_atomic(path, "hello", 5), 0);
    assert_int_equal(ais_file_read_all(path, 100, &data, &len), 0);
    assert_int_equal(len, 5);
    assert_string_equal(data, "hello");
    free(data);
    assert_int_equal(ais_file_read_all(path, 4, &data, &len), -EFBIG);
    snprintf(path, sizeof(path), "%s/none", dir);
    assert_int_equal(ais_file_read_all(path, 4, &data, &len), -ENOENT);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void
test_errors(void **state)
{
    (void)state;
    assert_int_equal(ais_http_status(-ENOENT), 404);
    assert_int_equal(ais_http_status(AIS_EBADCKSUM), 400);
    assert_int_equal(ais_http_status(AIS_EBADRANGE), 416);
    assert_int_equal(ais_http_status(-EEXIST), 409);
    assert_int_equal(ais_http_status(-EMSGSIZE), 413);
    assert_string_equal(ais_strerror(AIS_EBADCKSUM), "checksum mismatch");
    assert_string_equal(ais_strerror(-12345), "unknown error");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration), cmocka_unit_test(test_bool),
        cmocka_unit_test(test_buf_cap),  cmocka_unit_test(test_atomic_file),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
