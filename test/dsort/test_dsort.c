/*
 * Goal: the pure parts of dSort hold: request spec parsing (valid, invalid, boundary), brace
 * templates, sizes, the external key map, key extraction, every order, the k-way merge and the
 * shard cut ("at least the size, under size + one record").
 * Method: direct calls on small inputs with known answers; the merge is checked against a full
 * sort of the same items.
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

#include "dsort/ds_int.h"
#include "dsort/dsort.h"

static int
parse(const char *txt, struct ds_spec *s, char *msg, size_t cap)
{
    json_error_t e;
    json_t *j = json_loads(txt, 0, &e);
    assert_non_null(j);
    int rc = ds_spec_parse(j, s, msg, cap);
    json_decref(j);
    return rc;
}

#define BASE                                                                                       \
    "\"input_bck\":{\"name\":\"src\"},\"input_format\":{\"template\":\"shard-{0..9}\"},"           \
    "\"input_extension\":\".tar\",\"output_format\":\"out-{000..999}\","                           \
    "\"output_shard_size\":\"10KiB\""

static void
test_spec_valid(void **state)
{
    (void)state;
    struct ds_spec s;
    char msg[256];
    assert_int_equal(parse("{" BASE "}", &s, msg, sizeof(msg)), 0);
    assert_string_equal(s.in_bck, "src");
    assert_string_equal(s.in_provider, "ais");
    assert_string_equal(s.out_bck, "src"); /* default: the input bucket */
    assert_string_equal(s.out_ext, ".tar");
    assert_int_equal(s.shard_bytes, 10240);
    assert_int_equal(s.alg, DS_ALG_ALPHANUMERIC);
    assert_int_equal(s.dup_records, DS_POLICY_IGNORE);
    assert_int_equal(s.ekm_missing, DS_POLICY_ABORT);
    /* round trip through the normalized form the gateway sends */
    json_t *j = ds_spec_to_json(&s);
    assert_non_null(j);
    struct ds_spec s2;
    assert_int_equal(ds_spec_parse(j, &s2, msg, sizeof(msg)), 0);
    assert_int_equal(s2.shard_bytes, s.shard_bytes);
    assert_string_equal(s2.in_tmpl, s.in_tmpl);
    json_decref(j);
    ds_spec_fini(&s2);
    ds_spec_fini(&s);
    /* 2020 keys */
    assert_int_equal(parse("{\"bucket\":\"b\",\"extension\":\".tgz\",\"input_format\":\"a-{1..3}\","
                           "\"output_format\":\"o-{1..9}\",\"output_shard_size\":\"1MB\","
                           "\"algorithm\":{\"kind\":\"content\",\"extension\":\".cls\","
                           "\"format_type\":\"float\"}}",
                           &s, msg, sizeof(msg)),
                     0);
    assert_string_equal(s.in_bck, "b");
    assert_int_equal(s.ckey, DS_CKEY_FLOAT);
    assert_int_equal(s.shard_bytes, 1 << 20);
    ds_spec_fini(&s);
    /* objnames; an EKM instead of an output format */
    assert_int_equal(parse("{\"input_bck\":{\"name\":\"b\"},\"input_format\":{\"objnames\":"
                           "[\"x.tar\",\"y.tar\"]},\"input_extension\":\".tar\","
                           "\"ekm_file\":\"http://h/m.txt\",\"output_shard_size\":4096}",
                           &s, msg, sizeof(msg)),
                     0);
    assert_int_equal(json_array_size(s.in_names), 2);
    assert_string_equal(s.ekm_sep, "\t");
    ds_spec_fini(&s);
}

static void
test_spec_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *json, *want;
    } bad[] = {
        {"[]", "JSON object"},
        {"{\"input_format\":{\"template\":\"a{0..1}\"}}", "input_bck"},
        {"{" BASE ",\"input_extension\":\".rar\"}", "input_extension"},
        {"{" BASE ",\"output_extension\":\".7z\"}", "output_extension"},
        {"{" BASE ",\"input_format\":{\"template\":\"a{1..}\"}}", "input_format"},
        {"{" BASE ",\"input_format\":{\"template\":\"a{0..999999}\"}}", "at most"},
        {"{" BASE ",\"output_format\":\"\"}", "output_format"},
        {"{" BASE ",\"output_shard_size\":\"0\"}", "out of range"},
        {"{" BASE ",\"output_shard_size\":\"65GiB\"}", "out of range"},
        {"{" BASE ",\"output_shard_size\":\"ten\"}", "output_shard_size"},
        {"{" BASE ",\"algorithm\":{\"kind\":\"quick\"}}", "algorithm.kind"},
        {"{" BASE ",\"algorithm\":{\"kind\":\"content\",\"extension\":\".c\"}}", "content_key"},
        {"{" BASE ",\"max_mem_usage\":\"0%\"}", "max_mem_usage"},
        {"{" BASE ",\"extract_concurrency_max_limit\":-1}", "extract_concurrency"},
        {"{" BASE ",\"Config\":{\"duplicated_records\":\"explode\"}}", "policy"},
        {"{" BASE ",\"ekm_file\":\"ftp://x\"}", "ekm_file"},
        {"{" BASE ",\"input_bck\":{\"name\":\"a\",\"provider\":\"floppy\"}}", "provider"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ds_spec s;
        char msg[256] = "";
        assert_int_equal(parse(bad[i].json, &s, msg, sizeof(msg)), -EINVAL);
        if (strstr(msg, bad[i].want) == NULL) {
            fail_msg("case %zu: \"%s\" does not name %s", i, msg, bad[i].want);
        }
    }
}

static void
test_templates_sizes(void **state)
{
    (void)state;
    char b[64];
    assert_int_equal(ds_tmpl_count("a-{0..9}"), 10);
    assert_int_equal(ds_tmpl_count("a-{00..99}-{1..3}"), 300);
    assert_int_equal(ds_tmpl_count("plain"), 1);
    assert_int_equal(ds_tmpl_count("a{0..10..5}"), 3);
    assert_int_equal(ds_tmpl_count("a{5..1}"), 0);
    assert_int_equal(ds_tmpl_count("a{0..1"), 0);
    assert_int_equal(ds_tmpl_count("a}"), 0);
    assert_int_equal(ds_tmpl_name("s-{000..999}", 7, b, sizeof(b)), 0);
    assert_string_equal(b, "s-007");
    assert_int_equal(ds_tmpl_name("x{1..2}y{0..9}", 13, b, sizeof(b)), 0);
    assert_string_equal(b, "x2y3");
    assert_int_equal(ds_tmpl_name("a{0..10..5}", 2, b, sizeof(b)), 0);
    assert_string_equal(b, "a10");
    assert_int_equal(ds_tmpl_name("s-{0..9}", 10, b, sizeof(b)), -EINVAL);
    assert_int_equal(ds_tmpl_name("s-{0..9}", 1, b, 3), -ENAMETOOLONG);
    uint64_t v;
    assert_int_equal(ds_size_parse("10MB", &v), 0);
    assert_int_equal(v, 10u << 20);
    assert_int_equal(ds_size_parse("1.5KiB", &v), 0);
    assert_int_equal(v, 1536);
    assert_int_equal(ds_size_parse("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(ds_size_parse("-1", &v), -EINVAL);
    assert_int_equal(ds_size_parse("3 parsecs", &v), -EINVAL);
    assert_int_equal(ds_ekm_name("cats-%03d", 7, b, sizeof(b)), 0);
    assert_string_equal(b, "cats-007");
    assert_int_equal(ds_ekm_name("cats-%d", 12, b, sizeof(b)), 0);
    assert_string_equal(b, "cats-12");
    assert_int_equal(ds_ekm_name("cats", 1, b, sizeof(b)), -EINVAL);
    assert_int_equal(ds_ekm_name("%d-%d", 1, b, sizeof(b)), -EINVAL);
}

static void
test_ekm_keys(void **state)
{
    (void)state;
    char msg[256];
    size_t skipped;
    const char *txt = "a\tcat-%d\nb\tdog-%d\r\n\nbroken line\n";
    json_t *m = ds_ekm_parse(txt, strlen(txt), "\t", DS_POLICY_ABORT, &skipped, msg, sizeof(msg));
    assert_null(m);
    assert_non_null(strstr(msg, "line 4"));
    m = ds_ekm_parse(txt, strlen(txt), "\t", DS_POLICY_WARN, &skipped, msg, sizeof(msg));
    assert_non_null(m);
    assert_int_equal(skipped, 1);
    assert_string_equal(json_string_value(json_object_get(m, "b")), "dog-%d");
    json_decref(m);
    const char *js = " {\"x-%d\": [\"k1\", \"k2\"], \"y-%d\": [\"k3\"]}";
    m = ds_ekm_parse(js, strlen(js), " ", DS_POLICY_ABORT, &skipped, msg, sizeof(msg));
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "k3")), "y-%d");
    json_decref(m);
    assert_null(ds_ekm_parse("{\"x\": 1}", 8, " ", DS_POLICY_ABORT, &skipped, msg, sizeof(msg)));
    assert_int_equal(ds_key_len("dir/a.b/rec-1.jpg"), strlen("dir/a.b/rec-1"));
    assert_int_equal(ds_key_len("dir/.hidden"), strlen("dir/.hidden"));
    assert_string_equal(ds_name_ext("x/y.tar.gz"), ".gz");
    assert_int_equal(ds_tar_member_bytes("a", 1), 1024);
    assert_int_equal(ds_tar_member_bytes("a", 512), 1024);
    assert_true(ds_tar_member_bytes("n123456789012345678901234567890123456789012345678901234567890"
                                    "1234567890123456789012345678901234567890",
                                    0) > 512);
}

static struct ds_item
item(const char *key, uint32_t sidx, uint32_t pos, int64_t ci, uint64_t size)
{
    return (struct ds_item){.key = (char *)key,
                            .sidx = sidx,
                            .pos = pos,
                            .cint = ci,
                            .size = size,
                            .hash = ds_shuffle_hash("s", key)};
}

static void
test_orders_merge_cut(void **state)
{
    (void)state;
    struct ds_order alpha = {.alg = DS_ALG_ALPHANUMERIC},
                    dec = {.alg = DS_ALG_ALPHANUMERIC, .decreasing = 1};
    struct ds_order none = {.alg = DS_ALG_NONE},
                    cont = {.alg = DS_ALG_CONTENT, .ckey = DS_CKEY_INT};
    struct ds_item a = item("a", 1, 0, 5, 0), b = item("b", 0, 3, 5, 0), c = item("c", 0, 1, 1, 0);
    assert_true(ds_item_cmp(&alpha, &a, &b) < 0);
    assert_true(ds_item_cmp(&dec, &a, &b) > 0);
    assert_true(ds_item_cmp(&none, &c, &b) < 0 && ds_item_cmp(&none, &b, &a) < 0);
    assert_true(ds_item_cmp(&cont, &c, &a) < 0 && ds_item_cmp(&cont, &a, &b) < 0);
    assert_int_not_equal(ds_shuffle_hash("1", "k"), ds_shuffle_hash("2", "k"));
    /* merge of 3 sorted runs == a sort of everything */
    static char keys[300][8];
    struct ds_item runs[3][100], all[300], merged[300];
    size_t lens[3] = {100, 37, 0};
    for (size_t r = 0, n = 0; r < 3; r++) {
        for (size_t i = 0; i < lens[r]; i++, n++) {
            snprintf(keys[n], sizeof(keys[n]), "k%03u", (unsigned)((n * 7919) % 1000));
            runs[r][i] = item(keys[n], (uint32_t)r, (uint32_t)i, 0, 0);
            all[n] = runs[r][i];
        }
        ds_items_sort(&alpha, runs[r], lens[r]);
    }
    struct ds_item *rp[3] = {runs[0], runs[1], runs[2]};
    ds_items_merge(&alpha, rp, lens, 3, merged);
    ds_items_sort(&alpha, all, 137);
    for (size_t i = 0; i < 137; i++) {
        assert_string_equal(merged[i].key, all[i].key);
    }
    /* cut: sizes 4,4,4,4,4 at 10 -> [0..2] [3..4]; each >= 10 except the last */
    struct ds_item v[5];
    for (size_t i = 0; i < 5; i++) {
        v[i] = item("x", 0, (uint32_t)i, 0, 4);
    }
    size_t starts[5];
    assert_int_equal(ds_items_cut(v, 5, 10, starts), 2);
    assert_int_equal(starts[0], 0);
    assert_int_equal(starts[1], 3);
    assert_int_equal(ds_items_cut(v, 5, 1, starts), 5);
    assert_int_equal(ds_items_cut(v, 0, 10, starts), 0);
    assert_int_equal(ds_items_cut(v, 5, 1000, starts), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_valid),       cmocka_unit_test(test_spec_invalid),
        cmocka_unit_test(test_templates_sizes),  cmocka_unit_test(test_ekm_keys),
        cmocka_unit_test(test_orders_merge_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
