/*
 * Goal: the config descriptor table is the one authority: the file loader, startup
 * validation, runtime set (one and many), set-config body flattening and the JSON/text
 * encoders all agree with it, and every row round-trips.
 * Method: JSON configs built in memory (and one file in a mkdtemp dir) loaded into a config;
 * valid, invalid and boundary (min-1, min, max, max+1) values; every row encoded with
 * to_json/get_text and fed back through load/set.
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

#include "common/config.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/log.h"

static struct ais_config g_cfg;

static int
load_str(struct ais_config *c, const char *text, char *why, size_t cap)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    assert_non_null(j);
    int rc = ais_config_load_json(c, j, why, cap);
    json_decref(j);
    return rc;
}

static void
test_valid_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_config.XXXXXX", path[256], why[256] = "";
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"role\": \"gateway\", \"confdir\": \"/tmp/x\",\n"
          " \"host_net\": {\"hostname\": \"127.0.0.1\", \"port\": \"18080\","
          " \"port_intra_control\": 19080},\n"
          " \"proxy\": {\"primary_url\": \"tcp://127.0.0.1:19080\"},\n"
          " \"fspaths\": {\"/a\": \"\", \"/b\": \"\"}, \"checksum\": {\"type\": \"md5\"},\n"
          " \"keepalivetracker\": {\"interval\": \"500ms\", \"timeout\": \"3s\"},\n"
          " \"log\": {\"level\": \"debug\"}, \"disk\": {\"fsync\": false}, \"dry_run\": true}\n",
          f);
    fclose(f);
    assert_int_equal(ais_config_load(&g_cfg, path, why, sizeof(why)), 0);
    assert_int_equal(g_cfg.role, AIS_ROLE_GATEWAY);
    assert_int_equal(g_cfg.port, 18080);
    assert_int_equal(g_cfg.ctrl_port, 19080);
    assert_int_equal(g_cfg.nfspaths, 2);
    assert_string_equal(g_cfg.fspaths[1], "/b");
    assert_string_equal(g_cfg.cksum_type, "md5");
    assert_int_equal(g_cfg.keepalive_interval_ms, 500);
    assert_int_equal(g_cfg.keepalive_timeout_ms, 3000);
    assert_int_equal(g_cfg.rt.log_level, AIS_LOG_LVL_DBG);
    assert_int_equal(g_cfg.rt.fsync, 0);
    assert_int_equal(g_cfg.rt.dry_run, 1);
    assert_int_equal(ais_config_validate(&g_cfg, why, sizeof(why)), 0);
    unlink(path);
    rmdir(dir);
    /* NULL path: defaults, which a target rejects only for lack of mountpaths. */
    assert_int_equal(ais_config_load(&g_cfg, NULL, why, sizeof(why)), 0);
    assert_int_equal(ais_config_validate(&g_cfg, why, sizeof(why)), AIS_ECONFIG);
    assert_non_null(strstr(why, "fspaths"));
}

static void
test_unknown_key(void **state)
{
    (void)state;
    char why[256] = "";
    assert_int_equal(load_str(&g_cfg, "{\"log\": {\"levle\": \"info\"}}", why, sizeof(why)),
                     AIS_ECONFIG);
    assert_non_null(strstr(why, "log.levle"));
    assert_non_null(strstr(why, "unknown key"));
    assert_int_equal(load_str(&g_cfg, "{\"nosuch\": {\"x\": 1}}", why, sizeof(why)), AIS_ECONFIG);
    assert_non_null(strstr(why, "nosuch"));
    assert_int_equal(load_str(&g_cfg, "{\"host_net\": 5}", why, sizeof(why)), AIS_ECONFIG);
    assert_non_null(strstr(why, "host_net"));
    assert_int_equal(load_str(&g_cfg, "[]", why, sizeof(why)), AIS_ECONFIG);
}

static void
expect_bad(const char *text, const char *key, const char *what)
{
    char why[256] = "";
    assert_int_equal(load_str(&g_cfg, text, why, sizeof(why)), AIS_ECONFIG);
    assert_non_null(strstr(why, key));
    assert_non_null(strstr(why, what));
}

static void
test_out_of_range(void **state)
{
    (void)state;
    char why[256];
    expect_bad("{\"host_net\": {\"port\": 0}}", "host_net.port", "out of range");
    expect_bad("{\"host_net\": {\"port\": \"65536\"}}", "host_net.port", "out of range");
    assert_int_equal(load_str(&g_cfg, "{\"host_net\": {\"port\": 65535}}", why, sizeof(why)), 0);
    assert_int_equal(load_str(&g_cfg, "{\"host_net\": {\"port\": 1}}", why, sizeof(why)), 0);
    expect_bad("{\"timeout\": {\"cplane_operation\": \"5001ms\"}}", "timeout.cplane_operation",
               "out of range");
    assert_int_equal(
        load_str(&g_cfg, "{\"timeout\": {\"cplane_operation\": \"5s\"}}", why, sizeof(why)), 0);
    assert_int_equal(g_cfg.rpc_timeout_ms, AIS_RPC_TIMEOUT_MS);
    expect_bad("{\"timeout\": {\"cplane_operation\": \"99ms\"}}", "timeout.cplane_operation",
               "out of range");
    expect_bad("{\"keepalivetracker\": {\"interval\": \"61s\"}}", "keepalivetracker.interval",
               "out of range");
    expect_bad("{\"log\": {\"level\": \"loud\"}}", "log.level", "invalid value");
    expect_bad("{\"log\": {\"level\": 4}}", "log.level", "out of range");
    expect_bad("{\"checksum\": {\"type\": \"crc64\"}}", "checksum.type", "invalid value");
    expect_bad("{\"proxy\": {\"primary_url\": \"http://x:1\"}}", "proxy.primary_url", "tcp://");
    expect_bad("{\"disk\": {\"fsync\": \"maybe\"}}", "disk.fsync", "invalid value");
    expect_bad("{\"disk\": {\"fsync\": 1.5}}", "disk.fsync", "invalid value");
    char big[512];
    snprintf(big, sizeof(big), "{\"daemon_id\": \"%0*d\"}", AIS_DAEMON_ID_BYTES_MAX, 7);
    expect_bad(big, "daemon_id", "too long");
    snprintf(big, sizeof(big), "{\"daemon_id\": \"%0*d\"}", AIS_DAEMON_ID_BYTES_MAX - 1, 7);
    assert_int_equal(load_str(&g_cfg, big, why, sizeof(why)), 0);
    /* Cross-field rules. */
    assert_int_equal(load_str(&g_cfg,
                              "{\"fspaths\": [\"/a\"], \"keepalivetracker\": {\"interval\": "
                              "\"2s\", \"timeout\": \"3s\"}}",
                              why, sizeof(why)),
                     0);
    assert_int_equal(ais_config_validate(&g_cfg, why, sizeof(why)), AIS_ECONFIG);
    assert_non_null(strstr(why, "keepalivetracker.timeout"));
}

static void
test_fspaths_limit(void **state)
{
    (void)state;
    char why[256];
    size_t cap = (AIS_MPATHS_MAX + 1) * 16 + 32;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int n = AIS_MPATHS_MAX; n <= AIS_MPATHS_MAX + 1; n++) {
        size_t off = (size_t)snprintf(text, cap, "{\"fspaths\": [");
        for (int i = 0; i < n; i++) {
            off += (size_t)snprintf(text + off, cap - off, "%s\"/mp%d\"", i ? "," : "", i);
        }
        snprintf(text + off, cap - off, "]}");
        assert_int_equal(load_str(&g_cfg, text, why, sizeof(why)),
                         n <= AIS_MPATHS_MAX ? 0 : AIS_ECONFIG);
    }
    free(text);
}

/* rebalance.bps takes plain bytes or binary units, 0 (unlimited) or >= AIS_REB_BPS_MIN;
 * rebalance.workers is bounded by AIS_REB_WORKERS_MAX. */
static void
test_rebalance_knobs(void **state)
{
    (void)state;
    char why[256];
    assert_int_equal(load_str(&g_cfg, "{\"fspaths\": [\"/a\"]}", why, sizeof(why)), 0);
    assert_int_equal(ais_config_rt_get64(&g_cfg.rt.rebalance_bps), 0);
    assert_int_equal(ais_config_rt_get(&g_cfg.rt.rebalance_workers), 4);
    assert_int_equal(ais_config_set(&g_cfg, "rebalance.bps", "2MiB"), 0);
    assert_int_equal(ais_config_rt_get64(&g_cfg.rt.rebalance_bps), 2 << 20);
    assert_int_equal(ais_config_set(&g_cfg, "rebalance.bps", "1g"), 0);
    assert_int_equal(ais_config_rt_get64(&g_cfg.rt.rebalance_bps), 1 << 30);
    assert_int_equal(ais_config_set(&g_cfg, "rebalance.bps", "262144"), 0);
    assert_int_equal(ais_config_set(&g_cfg, "rebalance.bps", "262143"), -ERANGE);
    assert_int_equal(ais_config_set(&g_cfg, "rebalance.bps", "1XiB"), -EINVAL);
    assert_int_equal(ais_config_set(&g_cfg, "rebalance.bps", "2MiBs"), -EINVAL);
    assert_int_equal(ais_config_set(&g_cfg, "rebalance.bps", "-1MiB"), -EINVAL);
    assert_int_equal(ais_config_set(&g_cfg, "rebalance.bps", "99999999999T"), -EINVAL);
    assert_int_equal(ais_config_set(&g_cfg, "rebalance.bps", "0"), 0);
    assert_int_equal(ais_config_rt_get64(&g_cfg.rt.rebalance_bps), 0);
    assert_int_equal(ais_config_set(&g_cfg, "rebalance.workers", "16"), 0);
    assert_int_equal(ais_config_set(&g_cfg, "rebalance.workers", "17"), -ERANGE);
    assert_int_equal(ais_config_set(&g_cfg, "rebalance.workers", "0"), -ERANGE);
    assert_int_equal(load_str(&g_cfg, "{\"fspaths\": [\"/a\"], \"rebalance\": {\"bps\": \"4MiB\"}}",
                              why, sizeof(why)),
                     0);
    assert_int_equal(g_cfg.rt.rebalance_bps, 4 << 20);
    assert_int_not_equal(load_str(&g_cfg, "{\"fspaths\": [\"/a\"], \"rebalance\": {\"bps\": 1000}}",
                                  why, sizeof(why)),
                         0);
}

static void
test_runtime_set(void **state)
{
    (void)state;
    char why[256], msg[512];
    assert_int_equal(load_str(&g_cfg, "{\"fspaths\": [\"/a\"]}", why, sizeof(why)), 0);
    assert_int_equal(ais_config_set(&g_cfg, "disk.fsync", "false"), 0);
    assert_int_equal(ais_config_rt_get(&g_cfg.rt.fsync), 0);
    assert_int_equal(ais_config_set(&g_cfg, "log.level", "warn"), 0);
    assert_int_equal(ais_config_rt_get(&g_cfg.rt.log_level), AIS_LOG_LVL_WARN);
    assert_false(ais_log_enabled(AIS_LOG_LVL_INFO));
    assert_int_equal(ais_config_set(&g_cfg, "log.level", "3"), 0);
    assert_true(ais_log_enabled(AIS_LOG_LVL_DBG));
    assert_int_equal(ais_config_set(&g_cfg, "log.level", "info"), 0);
    assert_int_equal(ais_config_set(&g_cfg, "log.level", "4"), -ERANGE);
    assert_int_equal(ais_config_set(&g_cfg, "log.level", "loud"), -EINVAL);
    assert_int_equal(ais_config_set(&g_cfg, "no.such", "1"), -ENOENT);
    assert_int_equal(ais_config_set(&g_cfg, "host_net.port", "80"), -EPERM);
    assert_int_equal(ais_config_set(&g_cfg, "fspaths", "/x"), -EPERM);
    assert_int_equal(g_cfg.port, 8080);
    assert_int_equal(ais_config_check("dry_run", NULL), -EINVAL);
    /* Many: one bad key and nothing is applied; msg names every bad key. */
    const char *names[] = {"dry_run", "no.such", "host_net.port", "log.level"};
    const char *values[] = {"true", "1", "80", "loud"};
    assert_int_equal(ais_config_set_many(&g_cfg, names, values, 4, msg, sizeof(msg)), -ENOENT);
    assert_int_equal(ais_config_rt_get(&g_cfg.rt.dry_run), 0);
    assert_non_null(strstr(msg, "unknown key no.such=1"));
    assert_non_null(strstr(msg, "read-only"));
    assert_non_null(strstr(msg, "host_net.port=80"));
    assert_non_null(strstr(msg, "log.level=loud"));
    assert_int_equal(ais_config_set_many(&g_cfg, names, values, 1, msg, sizeof(msg)), 0);
    assert_int_equal(ais_config_rt_get(&g_cfg.rt.dry_run), 1);
    /* A tiny message buffer truncates but never overflows. */
    char tiny[8];
    assert_int_equal(ais_config_set_many(&g_cfg, names, values, 4, tiny, sizeof(tiny)), -ENOENT);
    assert_true(strlen(tiny) < sizeof(tiny));
}

static void
test_flatten(void **state)
{
    (void)state;
    const char *names[AIS_CONFIG_SET_MAX], *values[AIS_CONFIG_SET_MAX];
    char buf[1024];
    json_t *j = json_loads("{\"log\": {\"level\": \"debug\"}, \"disk\": {\"fsync\": false},"
                           " \"x\": {\"y\": 3}}",
                           0, NULL);
    assert_non_null(j);
    int n = ais_config_flatten(j, names, values, AIS_CONFIG_SET_MAX, buf, sizeof(buf));
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "log.level");
    assert_string_equal(values[0], "debug");
    assert_string_equal(names[1], "disk.fsync");
    assert_string_equal(values[1], "false");
    assert_string_equal(names[2], "x.y");
    assert_string_equal(values[2], "3");
    assert_int_equal(ais_config_flatten(j, names, values, 2, buf, sizeof(buf)), -E2BIG);
    assert_int_equal(ais_config_flatten(j, names, values, 3, buf, 8), -E2BIG);
    json_decref(j);
}

/* The JSON leaf of a dotted name. */
static json_t *
leaf(json_t *j, const char *name)
{
    char buf[256];
    char *save = NULL;
    snprintf(buf, sizeof(buf), "%s", name);
    for (char *s = strtok_r(buf, ".", &save); s != NULL && j != NULL;
         s = strtok_r(NULL, ".", &save)) {
        j = json_object_get(j, s);
    }
    return j;
}

static void
test_every_row_round_trips(void **state)
{
    (void)state;
    char why[256], text[AIS_PATH_BYTES_MAX];
    static struct ais_config back;
    assert_int_equal(
        load_str(&g_cfg, "{\"fspaths\": [\"/a\", \"/b\"], \"dry_run\": true}", why, sizeof(why)),
        0);
    json_t *j = ais_config_to_json(&g_cfg);
    assert_non_null(j);
    /* The whole JSON loads back to the same JSON. */
    assert_int_equal(ais_config_load_json(&back, j, why, sizeof(why)), 0);
    json_t *j2 = ais_config_to_json(&back);
    assert_true(json_equal(j, j2));
    json_decref(j2);
    size_t i = 0;
    for (const struct ais_knob *k; (k = ais_knob_at(i)) != NULL; i++) {
        assert_ptr_equal(ais_knob_find(k->name), k);
        assert_non_null(leaf(j, k->name));
        assert_non_null(k->help);
        assert_int_equal(ais_config_get_text(&g_cfg, k->name, text, sizeof(text)), 0);
        if (!(k->flags & AIS_KNOB_RT)) {
            assert_int_equal(ais_config_check(k->name, text), -EPERM);
            continue;
        }
        /* Runtime knobs are numeric (atomics), and their text form sets the same value. */
        assert_true(k->type == AIS_KNOB_BOOL || k->type == AIS_KNOB_INT ||
                    k->type == AIS_KNOB_DURATION);
        assert_int_equal(ais_config_set(&back, k->name, text), 0);
        char again[64];
        assert_int_equal(ais_config_get_text(&back, k->name, again, sizeof(again)), 0);
        assert_string_equal(again, text);
    }
    assert_true(i >= 16);
    assert_null(ais_knob_find("log"));
    assert_int_equal(ais_config_get_text(&g_cfg, "no.such", text, sizeof(text)), -ENOENT);
    assert_string_equal(json_string_value(leaf(j, "host_net.port")), "8080");
    assert_string_equal(json_string_value(leaf(j, "log.level")), "info");
    assert_string_equal(json_string_value(leaf(j, "keepalivetracker.interval")), "1s");
    assert_true(json_is_true(leaf(j, "dry_run")));
    assert_true(json_is_object(leaf(j, "fspaths")));
    json_decref(j);
    ais_log_level_set(AIS_LOG_LVL_INFO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_file),   cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_out_of_range), cmocka_unit_test(test_fspaths_limit),
        cmocka_unit_test(test_runtime_set),  cmocka_unit_test(test_rebalance_knobs),
        cmocka_unit_test(test_flatten),      cmocka_unit_test(test_every_row_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
