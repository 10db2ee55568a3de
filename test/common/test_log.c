/*
 * Goal: every line carries level, time, role and node id, source and message; the log file
 * rotates by size (aisnode.log -> .1 -> .2, the total bounded, the oldest deleted, the
 * current file the newest lines); what=log reads the tail from a line start, from an offset,
 * or all of it, and says why it cannot (stderr, offset past the end, bad offset); the RPC form
 * carries the same text as JSON.
 * Method: a temporary dir as log_dir; lines written through the macros; the files read back
 * with stdio. ais_log_file_open points stdout/stderr at the log, so each test saves them and
 * puts them back after ais_log_file_close (cmocka prints to stdout).
 */
// clang-format off
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
// clang-format on

#include "common/limits.h"
#include "common/log.h"

struct fx {
    char dir[64];
    char path[128];
    int out, err;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/ais-test-log-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/aisnode.log", f->dir);
    fflush(stdout);
    f->out = dup(STDOUT_FILENO);
    f->err = dup(STDERR_FILENO);
    ais_log_init(AIS_LOG_LVL_INFO, "T");
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    ais_log_file_close();
    dup2(f->out, STDOUT_FILENO);
    dup2(f->err, STDERR_FILENO);
    close(f->out);
    close(f->err);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    if (len != NULL) {
        *len = (size_t)n;
    }
    return buf;
}

static void
test_line_format(void **state)
{
    struct fx *f = *state;
    assert_int_equal(ais_log_file_open(f->dir, 1 << 20, 4 << 20), 0);
    AIS_LOG_INFO("req=before msg=\"no id yet\"");
    ais_log_node_set("t1x2");
    AIS_LOG_WARN("req=put obj=a/b status=%d", 507);
    AIS_LOG_DBG("req=hidden"); /* below the level */
    char *text = slurp(f->path, NULL);
    char *second = strchr(text, '\n') + 1;
    /* "I 12:03:13.133496 T test_log.c:NN req=before ..." then the id in the tag. */
    assert_int_equal(text[0], 'I');
    assert_int_equal(text[1], ' ');
    assert_int_equal(text[4], ':');
    assert_int_equal(text[10], '.');
    assert_non_null(strstr(text, " T test_log.c:"));
    assert_int_equal(second[0], 'W');
    assert_non_null(strstr(second, " T[t1x2] test_log.c:"));
    assert_non_null(strstr(second, "req=put obj=a/b status=507\n"));
    assert_null(strstr(text, "hidden"));
    free(text);
}

static int
count_rotated(const char *dir, int64_t *total)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    *total = 0;
    while ((e = readdir(d)) != NULL) {
        char p[512];
        struct stat st;
        if (strncmp(e->d_name, "aisnode.log", 11) != 0) {
            continue;
        }
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        assert_int_equal(stat(p, &st), 0);
        *total += st.st_size;
        n += e->d_name[11] == '.';
    }
    closedir(d);
    return n;
}

static void
test_rotation_bounds(void **state)
{
    struct fx *f = *state;
    const int64_t max_size = AIS_LOG_MAX_SIZE_MIN, max_total = 4 * AIS_LOG_MAX_SIZE_MIN + 400;
    uint64_t r0 = ais_log_rotations();
    assert_int_equal(ais_log_file_open(f->dir, max_size, max_total), 0);
    /* About 100 bytes a line: 1000 lines is ~25 files' worth. */
    for (int i = 0; i < 1000; i++) {
        AIS_LOG_INFO("req=fill i=%04d pad=%s", i, "0123456789012345678901234567890123456789");
    }
    uint64_t rotations = ais_log_rotations() - r0;
    assert_true(rotations >= 20);
    int64_t total = 0;
    int n = count_rotated(f->dir, &total);
    /* The current file counts as full when rotated ones are pruned: the total stays under
     * max_total but for the line that passes max_size. */
    assert_true(total <= max_total + AIS_LOG_LINE_BYTES_MAX + 256);
    assert_true(n >= 2 && n <= 3);
    /* Each rotated file passed max_size by at most one line. */
    char p[160];
    struct stat st;
    snprintf(p, sizeof(p), "%s.1", f->path);
    assert_int_equal(stat(p, &st), 0);
    assert_true(st.st_size > max_size && st.st_size <= max_size + AIS_LOG_LINE_BYTES_MAX + 256);
    snprintf(p, sizeof(p), "%s.4", f->path);
    assert_int_equal(stat(p, &st), -1);
    /* The newest line is in the current file, the one before it ends .1. */
    char *cur = slurp(f->path, NULL), *old = NULL;
    assert_non_null(strstr(cur, "i=0999"));
    snprintf(p, sizeof(p), "%s.1", f->path);
    old = slurp(p, NULL);
    assert_null(strstr(old, "i=0999"));
    assert_null(strstr(cur, "i=0000"));
    free(cur);
    free(old);
    /* A runtime max_size change applies at the next line. */
    ais_log_max_size_set(AIS_LOG_MAX_SIZE_MAX);
    r0 = ais_log_rotations();
    for (int i = 0; i < 100; i++) {
        AIS_LOG_INFO("req=fill2 i=%04d", i);
    }
    assert_int_equal(ais_log_rotations(), r0);
}

static void
test_span(void **state)
{
    struct fx *f = *state;
    struct ais_log_span s;
    assert_int_equal(ais_log_span_open(-1, 0, &s), -ENOENT); /* stderr: no file */
    assert_int_equal(ais_log_file_open(f->dir, AIS_LOG_MAX_SIZE_MAX, AIS_LOG_MAX_TOTAL_MAX), 0);
    AIS_LOG_INFO("req=one");
    AIS_LOG_INFO("req=two");
    size_t len = 0;
    char *text = slurp(f->path, &len);
    assert_int_equal(ais_log_span_open(-1, 0, &s), 0);
    assert_int_equal(s.off, 0);
    assert_int_equal(s.len, len);
    assert_int_equal(s.size, len);
    close(s.fd);
    size_t second = (size_t)(strchr(text, '\n') + 1 - text);
    assert_int_equal(ais_log_span_open((int64_t)second, 0, &s), 0);
    assert_int_equal(s.off, second);
    assert_int_equal(s.len, len - second);
    close(s.fd);
    assert_int_equal(ais_log_span_open((int64_t)len, 0, &s), 0); /* at the end: empty */
    assert_int_equal(s.len, 0);
    close(s.fd);
    assert_int_equal(ais_log_span_open((int64_t)len + 1, 0, &s), -ERANGE);
    free(text);
    /* Past the tail size: the tail starts at a line start and ends at the end. */
    while (ais_log_span_open(-1, 1, &s) == 0 && s.size <= AIS_LOG_TAIL_BYTES + 4096) {
        close(s.fd);
        for (int i = 0; i < 1000; i++) {
            AIS_LOG_INFO("req=bulk i=%d pad=%s", i, "................................");
        }
    }
    close(s.fd);
    assert_int_equal(s.off, 0); /* all=true: the whole file */
    assert_int_equal(ais_log_span_open(-1, 0, &s), 0);
    assert_true(s.off > 0 && s.off + s.len == s.size && s.len <= AIS_LOG_TAIL_BYTES);
    char c = 0;
    assert_int_equal(pread(s.fd, &c, 1, (off_t)s.off - 1), 1);
    assert_int_equal(c, '\n');
    assert_int_equal(pread(s.fd, &c, 1, (off_t)s.off), 1);
    assert_int_equal(c, 'I');
    close(s.fd);
}

static void
test_query_json(void **state)
{
    struct fx *f = *state;
    assert_true(ais_log_is_query("log"));
    assert_true(ais_log_is_query("log?offset=3"));
    assert_false(ais_log_is_query("logs"));
    assert_false(ais_log_is_query("smap"));
    assert_false(ais_log_is_query(NULL));
    assert_null(ais_log_query_json("smap"));
    json_t *j = ais_log_query_json("log");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 404);
    json_decref(j);
    assert_int_equal(ais_log_file_open(f->dir, AIS_LOG_MAX_SIZE_MAX, AIS_LOG_MAX_TOTAL_MAX), 0);
    AIS_LOG_INFO("req=x name=\xff\xfe"); /* not UTF-8 */
    j = ais_log_query_json("log?offset=0&all=true");
    const char *text = json_string_value(json_object_get(j, "log"));
    assert_non_null(text);
    assert_non_null(strstr(text, "req=x name=??"));
    assert_int_equal(json_integer_value(json_object_get(j, "offset")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "size")), (json_int_t)strlen(text));
    json_decref(j);
    j = ais_log_query_json("log?offset=bad");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 400);
    json_decref(j);
    j = ais_log_query_json("log?offset=99999999");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 416);
    json_decref(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_span, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_json, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
