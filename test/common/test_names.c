/*
 * Goal: every bad bucket/object name is refused with a reason; good ones pass.
 * Method: table of valid, invalid and boundary (max, max+1) names.
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
// clang-format on

#include "common/err.h"
#include "common/limits.h"
#include "common/names.h"

static int
obj_check(const char *s)
{
    const char *why = NULL;
    int err = ais_obj_name_check(s, strlen(s), &why);
    if (err != 0) {
        assert_non_null(why);
    }
    return err;
}

static void
test_bucket_names(void **state)
{
    (void)state;
    const char *why = NULL;
    char big[AIS_BCKNAME_BYTES_MAX + 2];
    assert_int_equal(ais_bck_name_check("images-1.v2_x", &why), 0);
    assert_int_equal(ais_bck_name_check("", &why), AIS_EBADNAME);
    assert_int_equal(ais_bck_name_check("..", &why), AIS_EBADNAME);
    assert_int_equal(ais_bck_name_check(".", &why), AIS_EBADNAME);
    assert_int_equal(ais_bck_name_check("a..b", &why), AIS_EBADNAME); /* AIS refuses '..' */
    assert_string_equal(why, "bucket name may not be '.' or contain '..'");
    assert_int_equal(ais_bck_name_check("x..", &why), AIS_EBADNAME);
    assert_int_equal(ais_bck_name_check("a.b.c", &why), 0);
    assert_int_equal(ais_bck_name_check("a/b", &why), AIS_EBADNAME);
    assert_int_equal(ais_bck_name_check("a b", &why), AIS_EBADNAME);
    memset(big, 'a', sizeof(big));
    big[AIS_BCKNAME_BYTES_MAX] = '\0';
    assert_int_equal(ais_bck_name_check(big, &why), 0);
    big[AIS_BCKNAME_BYTES_MAX] = 'a';
    big[AIS_BCKNAME_BYTES_MAX + 1] = '\0';
    assert_int_equal(ais_bck_name_check(big, &why), AIS_EBADNAME);
}

static void
test_object_names(void **state)
{
    (void)state;
    static char big[AIS_OBJNAME_BYTES_MAX + 2];
    const char *why = NULL;
    assert_int_equal(obj_check("a"), 0);
    assert_int_equal(obj_check("train/img-0001.jpg"), 0);
    assert_int_equal(obj_check("dots..inside/ok...name"), 0);
    assert_int_equal(obj_check("a/../b"), AIS_EBADNAME);
    assert_int_equal(obj_check(".."), AIS_EBADNAME);
    assert_int_equal(obj_check("./a"), AIS_EBADNAME);
    assert_int_equal(obj_check("/a"), AIS_EBADNAME);
    assert_int_equal(obj_check("a/"), AIS_EBADNAME);
    assert_int_equal(obj_check("a//b"), AIS_EBADNAME);
    assert_int_equal(obj_check("tab\there"), AIS_EBADNAME);
    assert_int_equal(ais_obj_name_check("a\0b", 3, &why), AIS_EBADNAME);
    assert_string_equal(why, "object name contains a NUL byte");
    assert_int_equal(ais_obj_name_check("", 0, &why), AIS_EBADNAME);
    /* boundary: max length with segments of 200 bytes is fine, max+1 is not */
    memset(big, 'x', sizeof(big));
    for (size_t i = 200; i < AIS_OBJNAME_BYTES_MAX; i += 201) {
        big[i] = '/';
    }
    big[AIS_OBJNAME_BYTES_MAX] = '\0';
    assert_int_equal(obj_check(big), 0);
    big[AIS_OBJNAME_BYTES_MAX] = 'x';
    big[AIS_OBJNAME_BYTES_MAX + 1] = '\0';
    assert_int_equal(obj_check(big), -ENAMETOOLONG);
    /* one segment longer than NAME_MAX */
    memset(big, 'y', 300);
    big[300] = '\0';
    assert_int_equal(obj_check(big), -ENAMETOOLONG);
}

static void
test_providers(void **state)
{
    (void)state;
    assert_string_equal(ais_provider_norm(NULL), "ais");
    assert_string_equal(ais_provider_norm(""), "ais");
    assert_string_equal(ais_provider_norm("local"), "ais");
    assert_string_equal(ais_provider_norm("s3"), "aws");
    assert_string_equal(ais_provider_norm("gs"), "gcp");
    assert_null(ais_provider_norm("ftp"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_names),
        cmocka_unit_test(test_object_names),
        cmocka_unit_test(test_providers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
