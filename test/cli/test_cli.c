/*
 * Goal: the offline parts of the `ais` CLI behave exactly: flag parsing, bucket/object name
 * parsing, human sizes/times/durations, table layout, "did you mean" suggestions, exit codes,
 * progress rendering, JSON with uint64 numbers, dispatch errors and command completion.
 * Method: call the ais_cli library directly; output goes to open_memstream buffers and is
 * compared verbatim. Valid, invalid and boundary (max, max+1) inputs for each parser. The
 * endpoint is an unreachable port so nothing here needs a cluster.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include "cli/cli_int.h"
#include "common/err.h"
#include "common/limits.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
parse(int argc, char **argv, uint64_t allowed, struct cli_args *a, char *err)
{
    return cli_args_parse(argc, argv, allowed, a, err, 256);
}

static void
test_args_valid(void **state)
{
    (void)state;
    struct cli_args a;
    char err[256];
    char *argv[] = {"ais://b", "--limit", "10", "-jH", "--props=size,atime", "--", "-x", "-"};
    uint64_t allowed = CLI_FM_GLOBAL | CLI_FM_OUT | CLI_FM(CLI_F_LIMIT) | CLI_FM(CLI_F_PROPS);
    assert_int_equal(parse(8, argv, allowed, &a, err), 0);
    assert_int_equal(a.npos, 3);
    assert_string_equal(a.pos[0], "ais://b");
    assert_string_equal(a.pos[1], "-x");
    assert_string_equal(a.pos[2], "-");
    assert_string_equal(a.val[CLI_F_LIMIT], "10");
    assert_string_equal(a.val[CLI_F_PROPS], "size,atime");
    assert_true(cli_flag_on(&a, CLI_F_JSON));
    assert_true(cli_flag_on(&a, CLI_F_NO_HEADERS));
    assert_false(cli_flag_on(&a, CLI_F_YES));

    char *argv2[] = {"-r", "--conc", "4", "dir", "-y"};
    allowed = CLI_FM(CLI_F_RECURSIVE) | CLI_FM(CLI_F_CONC) | CLI_FM(CLI_F_YES);
    assert_int_equal(parse(5, argv2, allowed, &a, err), 0);
    assert_int_equal(a.npos, 1);
    assert_true(cli_flag_on(&a, CLI_F_RECURSIVE));
    assert_string_equal(a.val[CLI_F_CONC], "4");
}

static void
test_args_invalid(void **state)
{
    (void)state;
    struct cli_args a;
    char err[256];
    uint64_t allowed = CLI_FM_GLOBAL | CLI_FM(CLI_F_LIMIT);
    char *unknown[] = {"--limt", "3"};
    assert_int_equal(parse(2, unknown, allowed, &a, err), CLI_EUSAGE);
    assert_non_null(strstr(err, "did you mean --limit?"));
    char *not_allowed[] = {"--json"};
    assert_int_equal(parse(1, not_allowed, allowed, &a, err), CLI_EUSAGE);
    assert_non_null(strstr(err, "unknown flag --json"));
    char *missing[] = {"--limit"};
    assert_int_equal(parse(1, missing, allowed, &a, err), CLI_EUSAGE);
    assert_non_null(strstr(err, "needs a value"));
    char *novalue[] = {"--help=yes"};
    assert_int_equal(parse(1, novalue, allowed, &a, err), CLI_EUSAGE);
    char *short_bad[] = {"-q"};
    assert_int_equal(parse(1, short_bad, allowed, &a, err), CLI_EUSAGE);

    /* Boundary: CLI_ARGS_MAX positionals pass, one more fails. */
    char *many[CLI_ARGS_MAX + 1];
    for (int i = 0; i <= CLI_ARGS_MAX; i++) {
        many[i] = "x";
    }
    assert_int_equal(parse(CLI_ARGS_MAX, many, allowed, &a, err), 0);
    assert_int_equal(parse(CLI_ARGS_MAX + 1, many, allowed, &a, err), CLI_EUSAGE);
}

static void
test_parse_uint(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(cli_parse_uint("0", 10, &v), 0);
    assert_int_equal(cli_parse_uint("10", 10, &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(cli_parse_uint("11", 10, &v), CLI_EUSAGE);
    assert_int_equal(cli_parse_uint("-1", 10, &v), CLI_EUSAGE);
    assert_int_equal(cli_parse_uint("1x", 10, &v), CLI_EUSAGE);
    assert_int_equal(cli_parse_uint("", 10, &v), CLI_EUSAGE);
    assert_int_equal(cli_parse_uint("99999999999999999999999", UINT64_MAX, &v), CLI_EUSAGE);
}

static void
test_bck_parse(void **state)
{
    (void)state;
    struct cli_bck b;
    const char *why = NULL;
    assert_int_equal(cli_bck_parse("ais://b/prefix/x", &b, &why), 0);
    assert_string_equal(b.provider, "ais");
    assert_string_equal(b.name, "b");
    assert_string_equal(b.obj, "prefix/x");
    assert_true(b.scheme);
    assert_int_equal(cli_bck_parse("plain", &b, &why), 0);
    assert_null(b.obj);
    assert_false(b.scheme);
    assert_int_equal(cli_bck_parse("plain/", &b, &why), 0);
    assert_string_equal(b.obj, "");
    assert_int_equal(cli_bck_parse("s3://data/o", &b, &why), 0);
    assert_string_equal(b.provider, "aws");
    assert_int_equal(cli_bck_parse("gs://data", &b, &why), 0);
    assert_string_equal(b.provider, "gcp");

    assert_int_equal(cli_bck_parse("foo://b", &b, &why), AIS_EBADNAME);
    assert_non_null(strstr(why, "unknown provider"));
    assert_int_equal(cli_bck_parse("ais://", &b, &why), AIS_EBADNAME);
    assert_int_equal(cli_bck_parse("/obj", &b, &why), AIS_EBADNAME);
    assert_int_equal(cli_bck_parse("b@d", &b, &why), AIS_EBADNAME);
    assert_int_equal(cli_bck_parse("..", &b, &why), AIS_EBADNAME);

    char name[AIS_BCKNAME_BYTES_MAX + 2];
    memset(name, 'a', sizeof(name));
    name[AIS_BCKNAME_BYTES_MAX] = '\0';
    assert_int_equal(cli_bck_parse(name, &b, &why), 0);
    name[AIS_BCKNAME_BYTES_MAX] = 'a';
    name[AIS_BCKNAME_BYTES_MAX + 1] = '\0';
    assert_int_equal(cli_bck_parse(name, &b, &why), AIS_EBADNAME);

    char s[64];
    assert_int_equal(cli_bck_parse("images", &b, NULL), 0);
    cli_bck_str(&b, s, sizeof(s));
    assert_string_equal(s, "ais://images");
}

static void
test_paths(void **state)
{
    (void)state;
    struct cli_bck b;
    struct ais_buf p;
    assert_int_equal(cli_bck_parse("ais://b", &b, NULL), 0);
    ais_buf_init(&p, 4096);
    assert_int_equal(cli_obj_path(&b, "dir/a b?c%.txt", &p), 0);
    assert_string_equal(p.data, "/v1/objects/b/dir/a%20b%3Fc%25.txt");
    ais_buf_fini(&p);
    ais_buf_init(&p, 4096);
    assert_int_equal(cli_bck_path(&b, &p), 0);
    assert_string_equal(p.data, "/v1/buckets/b");
    ais_buf_fini(&p);
    ais_buf_init(&p, 4096);
    assert_int_equal(cli_url_escape(&p, "a/b=c&d", false), 0);
    assert_string_equal(p.data, "a%2Fb%3Dc%26d");
    ais_buf_fini(&p);
    char q[64];
    cli_bck_query(&b, q, sizeof(q));
    assert_string_equal(q, "provider=ais");
}

static void
test_sizes(void **state)
{
    (void)state;
    char s[32];
    cli_fmt_size(0, s, sizeof(s));
    assert_string_equal(s, "0B");
    cli_fmt_size(1023, s, sizeof(s));
    assert_string_equal(s, "1023B");
    cli_fmt_size(1024, s, sizeof(s));
    assert_string_equal(s, "1.00KiB");
    cli_fmt_size(1536, s, sizeof(s));
    assert_string_equal(s, "1.50KiB");
    cli_fmt_size(5ull << 30, s, sizeof(s));
    assert_string_equal(s, "5.00GiB");
    cli_fmt_size(UINT64_MAX, s, sizeof(s));
    assert_string_equal(s, "16.00EiB");

    uint64_t v = 0;
    assert_int_equal(cli_parse_size("1024", &v), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(cli_parse_size("4k", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(cli_parse_size("4KiB", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(cli_parse_size("1MB", &v), 0);
    assert_int_equal(v, 1u << 20);
    assert_int_equal(cli_parse_size("1.5MiB", &v), 0);
    assert_int_equal(v, 3u << 19);
    assert_int_equal(cli_parse_size("2g", &v), 0);
    assert_int_equal(v, 2ull << 30);
    assert_int_equal(cli_parse_size("16777215TiB", &v), 0);          /* max that fits */
    assert_int_equal(cli_parse_size("16777216TiB", &v), CLI_EUSAGE); /* max+1 */
    assert_int_equal(cli_parse_size("12XB", &v), CLI_EUSAGE);
    assert_int_equal(cli_parse_size("-1", &v), CLI_EUSAGE);
    assert_int_equal(cli_parse_size("", &v), CLI_EUSAGE);
    assert_int_equal(cli_parse_size(NULL, &v), CLI_EUSAGE);
}

static void
test_times(void **state)
{
    (void)state;
    char s[64];
    setenv("TZ", "UTC", 1);
    cli_fmt_time_ns(0, s, sizeof(s));
    assert_string_equal(s, "-");
    cli_fmt_time_ns(1700000000123456789ll, s, sizeof(s));
    assert_string_equal(s, "2023-11-14 22:13:20");
    cli_fmt_duration_ms(850, s, sizeof(s));
    assert_string_equal(s, "850ms");
    cli_fmt_duration_ms(-5, s, sizeof(s));
    assert_string_equal(s, "0ms");
    cli_fmt_duration_ms(42000, s, sizeof(s));
    assert_string_equal(s, "42s");
    cli_fmt_duration_ms(187000, s, sizeof(s));
    assert_string_equal(s, "3m07s");
    cli_fmt_duration_ms(7500000, s, sizeof(s));
    assert_string_equal(s, "2h05m");
}

static char *
table_text(struct cli_table *t, bool headers)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cli_table_print(t, f, headers);
    fclose(f);
    return buf;
}

static void
test_table(void **state)
{
    (void)state;
    static const char *const hdr[] = {"NAME", "SIZE", "ATIME"};
    struct cli_table t;
    cli_table_init(&t, 3, hdr);
    t.right = 2;
    const char *r1[] = {"a", "1.00KiB", "x"};
    const char *r2[] = {"dir/ñame", "7B", NULL};
    assert_int_equal(cli_table_add(&t, r1), 0);
    assert_int_equal(cli_table_add(&t, r2), 0);
    char *s = table_text(&t, true);
    assert_string_equal(s, "NAME          SIZE   ATIME\n"
                           "a          1.00KiB   x\n"
                           "dir/ñame        7B   -\n");
    free(s);
    s = table_text(&t, false);
    assert_string_equal(s, "a          1.00KiB   x\n"
                           "dir/ñame        7B   -\n");
    free(s);
    assert_int_equal(cli_table_keep_prefix(&t, 0, "dir/"), 1);
    s = table_text(&t, false);
    assert_string_equal(s, "dir/ñame   7B   -\n");
    free(s);
    cli_table_fini(&t);
    cli_table_fini(&t); /* idempotent */

    json_t *j = json_pack("{s:{s:b, s:i}, s:s, s:{}}", "mirror", "enabled", 1, "copies", 2,
                          "access", "255", "empty");
    static const char *const h2[] = {"PROPERTY", "VALUE"};
    cli_table_init(&t, 2, h2);
    assert_int_equal(cli_json_flatten(j, "", &t), 0);
    s = table_text(&t, true);
    assert_string_equal(s, "PROPERTY         VALUE\n"
                           "mirror.enabled   true\n"
                           "mirror.copies    2\n"
                           "access           255\n"
                           "empty            {}\n");
    free(s);
    cli_table_fini(&t);
    json_decref(j);
}

static void
test_suggest(void **state)
{
    (void)state;
    static const char *const cmds[] = {"bucket",  "object", "ls",     "put",    "get",
                                       "cluster", "show",   "config", "search", "storage"};
    size_t n = sizeof(cmds) / sizeof(cmds[0]);
    assert_int_equal(cli_edit_distance("bukcet", "bucket"), 1);
    assert_int_equal(cli_edit_distance("", "abc"), 3);
    assert_int_equal(cli_edit_distance("kitten", "sitting"), 3);
    assert_string_equal(cli_suggest("bukcet", cmds, n), "bucket");
    assert_string_equal(cli_suggest("clustr", cmds, n), "cluster");
    assert_string_equal(cli_suggest("lss", cmds, n), "ls");
    assert_string_equal(cli_suggest("buck", cmds, n), "bucket");
    assert_string_equal(cli_suggest("confg", cmds, n), "config");
    assert_null(cli_suggest("xyzzy", cmds, n));
    assert_null(cli_suggest("zz", cmds, n));
    char longw[100];
    memset(longw, 'a', sizeof(longw) - 1);
    longw[sizeof(longw) - 1] = '\0';
    assert_null(cli_suggest(longw, cmds, n));
}

static void
test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(cli_exit_code(0), CLI_EXIT_OK);
    assert_int_equal(cli_exit_code(CLI_EUSAGE), CLI_EXIT_USAGE);
    assert_int_equal(cli_exit_code(AIS_EBADNAME), CLI_EXIT_USAGE);
    assert_int_equal(cli_exit_code(-ENOENT), CLI_EXIT_NOTFOUND);
    assert_int_equal(cli_exit_code(-EEXIST), CLI_EXIT_EXISTS);
    assert_int_equal(cli_exit_code(-ECONNREFUSED), CLI_EXIT_UNREACHABLE);
    assert_int_equal(cli_exit_code(-ETIMEDOUT), CLI_EXIT_UNREACHABLE);
    assert_int_equal(cli_exit_code(CLI_ESERVER), CLI_EXIT_SERVER);
    assert_int_equal(cli_exit_code(-ECANCELED), CLI_EXIT_CANCELED);
    assert_int_equal(cli_exit_code(-EIO), CLI_EXIT_FAIL);
    assert_int_equal(cli_exit_code(CLI_EWAITTIMEOUT), CLI_EXIT_TIMEOUT);
    assert_int_equal(cli_exit_code(CLI_EJOBFAIL), CLI_EXIT_JOBFAIL);
    assert_int_equal(CLI_EXIT_TIMEOUT, 8);
    assert_int_equal(CLI_EXIT_JOBFAIL, 9);
}

static void
test_progress_render(void **state)
{
    (void)state;
    char s[256];
    cli_progress_render(s, sizeof(s), "PUT", 512ull << 10, 1ull << 20, 0, 1, 1000, 80);
    assert_string_equal(s, "PUT [==============>              ]  50%  512.00KiB/1.00MiB  "
                           "512.00KiB/s  ETA 1s");
    assert_true(strlen(s) <= 80);
    cli_progress_render(s, sizeof(s), "GET", 1ull << 20, 1ull << 20, 3, 3, 2000, 60);
    assert_non_null(strstr(s, "100%"));
    assert_non_null(strstr(s, "in 2s"));
    assert_non_null(strstr(s, "3/3 files"));
    assert_true(strlen(s) <= 80);
    cli_progress_render(s, sizeof(s), "GET", 0, 0, 0, 0, 0, 80); /* unknown size */
    assert_non_null(strstr(s, "  0%"));
    /* NULL bars are no-ops. */
    cli_progress_add(NULL, 5);
    cli_progress_file_done(NULL);
    cli_progress_set_total(NULL, 5);
    cli_progress_stop(NULL);
}

static void
test_progress_thread(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct cli_progress *p = cli_progress_start(f, "PUT", 100, 2);
    assert_non_null(p);
    cli_progress_add(p, 60);
    cli_progress_add(p, -10); /* a rewind on redirect */
    cli_progress_add(p, 50);
    cli_progress_file_done(p);
    cli_progress_file_done(p);
    cli_progress_stop(p);
    fclose(f);
    assert_non_null(strstr(buf, "100%"));
    assert_non_null(strstr(buf, "2/2 files"));
    assert_int_equal(buf[len - 1], '\n');
    free(buf);
}

static void
test_json_big_ints(void **state)
{
    (void)state;
    const char *t = "{\"id_digest\":16628691496742112369,\"n\":5,\"s\":\"12345678901234567890\","
                    "\"a\":[18446744073709551615, 1.5e300]}";
    json_t *j = cli_json_loadb(t, strlen(t));
    assert_non_null(j);
    uint64_t v = 0;
    assert_int_equal(cli_json_u64(json_object_get(j, "id_digest"), &v), 0);
    assert_true(v == 16628691496742112369ull);
    assert_int_equal(cli_json_u64(json_object_get(j, "n"), &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(cli_json_u64(json_array_get(json_object_get(j, "a"), 0), &v), 0);
    assert_true(v == UINT64_MAX);
    assert_string_equal(json_string_value(json_object_get(j, "s")), "12345678901234567890");
    json_decref(j);
    assert_null(cli_json_loadb("{bad", 4));
    assert_null(cli_json_loadb("", 0));
    json_t *neg = json_integer(-1);
    assert_int_equal(cli_json_u64(neg, &v), -EINVAL);
    json_decref(neg);
}

/* A context that writes to memory and points at a closed port. */
struct mem_ctx {
    struct cli_ctx ctx;
    char *out;
    size_t out_len;
    char *err;
    size_t err_len;
};

static void
mem_ctx_init(struct mem_ctx *m)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->ctx.endpoint, sizeof(m->ctx.endpoint), "http://127.0.0.1:1");
    m->ctx.out = open_memstream(&m->out, &m->out_len);
    m->ctx.err = open_memstream(&m->err, &m->err_len);
    m->ctx.in = stdin;
    assert_int_equal(cli_conn_init(&m->ctx.conn, m->ctx.endpoint), 0);
}

static void
mem_ctx_close(struct mem_ctx *m)
{
    fclose(m->ctx.out);
    fclose(m->ctx.err);
    cli_conn_fini(&m->ctx.conn);
}

static void
mem_ctx_fini(struct mem_ctx *m)
{
    free(m->out);
    free(m->err);
}

static int
dispatch(struct mem_ctx *m, int argc, char **argv)
{
    mem_ctx_init(m);
    int err = cli_dispatch(&m->ctx, argc, argv);
    mem_ctx_close(m);
    return err;
}

static void
test_dispatch(void **state)
{
    (void)state;
    struct mem_ctx m;
    char *help[] = {"--help"};
    assert_int_equal(dispatch(&m, 1, help), 0);
    assert_non_null(strstr(m.out, "USAGE:"));
    assert_non_null(strstr(m.out, "EXIT CODES:"));
    mem_ctx_fini(&m);

    char *unknown[] = {"bukcet", "ls"};
    assert_int_equal(dispatch(&m, 2, unknown), CLI_EUSAGE);
    assert_non_null(strstr(m.ctx.conn.errmsg, "did you mean \"ais bucket\""));
    mem_ctx_fini(&m);

    char *sub[] = {"bucket", "lss"};
    assert_int_equal(dispatch(&m, 2, sub), CLI_EUSAGE);
    assert_non_null(strstr(m.ctx.conn.errmsg, "did you mean \"ais bucket ls\""));
    mem_ctx_fini(&m);

    char *cmd_help[] = {"put", "--help"};
    assert_int_equal(dispatch(&m, 2, cmd_help), 0);
    assert_non_null(strstr(m.out, "EXAMPLES:"));
    assert_non_null(strstr(m.out, "--recursive, -r"));
    mem_ctx_fini(&m);

    char *missing[] = {"get"};
    assert_int_equal(dispatch(&m, 1, missing), CLI_EUSAGE);
    assert_non_null(strstr(m.ctx.conn.errmsg, "missing arguments"));
    mem_ctx_fini(&m);

    char *too_many[] = {"object", "stat", "a/b", "c/d"};
    assert_int_equal(dispatch(&m, 4, too_many), CLI_EUSAGE);
    mem_ctx_fini(&m);

    char *group[] = {"bucket"};
    assert_int_equal(dispatch(&m, 1, group), CLI_EUSAGE);
    assert_non_null(strstr(m.err, "COMMANDS:"));
    mem_ctx_fini(&m);

    char *unreachable[] = {"bucket", "ls"};
    assert_int_equal(dispatch(&m, 2, unreachable), -ECONNREFUSED);
    assert_non_null(strstr(m.ctx.conn.errmsg, "cannot reach AIS cluster at http://127.0.0.1:1"));
    mem_ctx_fini(&m);

    char *badname[] = {"bucket", "create", "ais://no#pe"};
    assert_int_equal(dispatch(&m, 3, badname), AIS_EBADNAME);
    mem_ctx_fini(&m);

    char *noobj[] = {"object", "stat", "ais://b"};
    assert_int_equal(dispatch(&m, 3, noobj), CLI_EUSAGE);
    mem_ctx_fini(&m);

    char *search[] = {"search", "props"};
    assert_int_equal(dispatch(&m, 2, search), 0);
    assert_non_null(strstr(m.out, "ais bucket props set"));
    mem_ctx_fini(&m);

    char *script[] = {"completion", "bash"};
    assert_int_equal(dispatch(&m, 2, script), 0);
    assert_non_null(strstr(m.out, "complete -F _ais_completion ais"));
    mem_ctx_fini(&m);

    char *zsh[] = {"completion", "zsh"};
    assert_int_equal(dispatch(&m, 2, zsh), CLI_EUSAGE);
    mem_ctx_fini(&m);
}

static char *
complete(const char *line)
{
    struct mem_ctx m;
    mem_ctx_init(&m);
    m.ctx.conn.connect_timeout_ms = 200;
    assert_int_equal(cli_complete_line(&m.ctx, line, "\"'><=;|&(:", m.ctx.out), 0);
    mem_ctx_close(&m);
    free(m.err);
    return m.out;
}

static void
test_complete(void **state)
{
    (void)state;
    char *s = complete("ais s");
    assert_string_equal(s, "\nshow\nstorage\nstart\nstop\nsearch\n");
    free(s);
    s = complete("ais ");
    assert_non_null(strstr(s, "bucket\n"));
    assert_null(strstr(s, "__complete"));
    free(s);
    s = complete("ais bucket props ");
    assert_string_equal(s, "\nshow\nset\n");
    free(s);
    s = complete("ais ls --pr");
    assert_string_equal(s, "\n--progress\n--props\n--prefix\n");
    free(s);
    s = complete("ais ls --props size,ch");
    assert_string_equal(s, "\nsize,checksum\n");
    free(s);
    s = complete("ais put ./x");
    assert_string_equal(s, "files\n");
    free(s);
    s = complete("ais completion ");
    assert_string_equal(s, "\nbash\n");
    free(s);
    s = complete("ais help bucket p");
    assert_string_equal(s, "\nprops\n");
    free(s);
    s = complete("ais 'bucket' \"cr");
    assert_string_equal(s, "\ncreate\n");
    free(s);
    s = complete("ais nosuch ");
    assert_string_equal(s, "\n");
    free(s);
    /* Cluster unreachable: bucket names simply yield nothing. */
    s = complete("ais get ais://b");
    assert_string_equal(s, "\n");
    free(s);
}

static void
test_rfc3339(void **state)
{
    (void)state;
    assert_int_equal(cli_rfc3339_ns("1970-01-01T00:00:01.5Z"), 1500000000);
    assert_int_equal(cli_rfc3339_ns("1970-01-01T00:00:02.000000007Z"), 2000000007);
    assert_int_equal(cli_rfc3339_ns("2024-05-01T12:00:00Z"), INT64_C(1714564800) * 1000000000);
    assert_int_equal(cli_rfc3339_ns("2024-05-01T14:30:00+02:30"), INT64_C(1714564800) * 1000000000);
    assert_int_equal(cli_rfc3339_ns("2024-05-01T09:00:00-03:00"), INT64_C(1714564800) * 1000000000);
    assert_int_equal(cli_rfc3339_ns("0001-01-01T00:00:00Z"), 0);
    assert_int_equal(cli_rfc3339_ns("yesterday"), 0);
    assert_int_equal(cli_rfc3339_ns(""), 0);
    assert_int_equal(cli_rfc3339_ns(NULL), 0);
}

/* Two nodes; job A runs on t1 and ended on t2, B has an aborted part, C failed, D is old. */
static const char snaps_json[] =
    "{\"t2\":[{\"id\":\"A\",\"kind\":\"rebalance\",\"start-time\":\"1970-01-01T00:00:05Z\","
    "\"end-time\":\"1970-01-01T00:00:09Z\",\"stats\":{\"loc-objs\":20,\"loc-bytes\":2048},"
    "\"total-objs\":50,\"eta-ns\":-1,\"state\":\"finished\",\"err\":\"\"},"
    "{\"id\":\"B\",\"kind\":\"resilver\",\"start-time\":\"1970-01-01T00:00:20Z\","
    "\"end-time\":\"1970-01-01T00:00:25Z\",\"stats\":{\"loc-objs\":1},\"aborted\":true,"
    "\"abort-err\":\"stopped by user\"},"
    "{\"kind\":\"noid\"},"
    "{\"id\":\"C\",\"kind\":\"delete-listrange\",\"state\":\"error\",\"err\":\"disk full\","
    "\"start-time\":\"1970-01-01T00:00:30Z\",\"end-time\":\"1970-01-01T00:00:31Z\","
    "\"bck\":{\"name\":\"b1\",\"provider\":\"ais\"}}],"
    "\"t1\":[{\"id\":\"A\",\"kind\":\"rebalance\",\"start-time\":\"1970-01-01T00:00:04Z\","
    "\"end-time\":\"0001-01-01T00:00:00Z\",\"stats\":{\"loc-objs\":10,\"loc-bytes\":\"1024\"},"
    "\"total-objs\":100,\"eta-ns\":3000000000,\"state\":\"running\"},"
    "{\"id\":\"B\",\"kind\":\"resilver\",\"start-time\":\"1970-01-01T00:00:21Z\","
    "\"end-time\":\"1970-01-01T00:00:22Z\",\"stats\":{\"loc-objs\":2},\"state\":\"finished\"},"
    "{\"id\":\"D\",\"kind\":\"lru\",\"start-time\":\"1970-01-01T00:00:01Z\","
    "\"end-time\":\"1970-01-01T00:00:02Z\"}],"
    "\"p1\":\"not an array\"}";

static void
test_jobs_fold(void **state)
{
    (void)state;
    json_t *j = json_loads(snaps_json, 0, NULL);
    struct cli_job *v = NULL;
    size_t n = 0;
    assert_non_null(j);
    assert_int_equal(cli_jobs_from_snaps(j, &v, &n), 0);
    json_decref(j);
    assert_int_equal(n, 4);
    /* Running first, then newest start first. */
    assert_string_equal(v[0].id, "A");
    assert_int_equal(v[0].state, CLI_JOB_RUNNING);
    assert_int_equal(v[0].objs, 30);
    assert_int_equal(v[0].bytes, 3072);
    assert_int_equal(v[0].total_objs, 150);
    assert_int_equal(v[0].start_ns, INT64_C(4000000000));
    assert_int_equal(v[0].end_ns, 0);
    assert_int_equal(v[0].eta_ns, INT64_C(3000000000));
    assert_int_equal(v[0].nodes, 2);
    assert_int_equal(v[0].nodes_running, 1);
    assert_string_equal(v[1].id, "C");
    assert_int_equal(v[1].state, CLI_JOB_ERROR);
    assert_string_equal(v[1].err, "disk full");
    assert_string_equal(v[1].bck, "ais://b1");
    assert_string_equal(v[2].id, "B");
    assert_int_equal(v[2].state, CLI_JOB_ABORTED);
    assert_string_equal(v[2].err, "stopped by user");
    assert_int_equal(v[2].objs, 3);
    assert_int_equal(v[2].end_ns, INT64_C(25000000000));
    assert_int_equal(v[2].eta_ns, -1);
    /* No "state": derived from end-time and err. */
    assert_string_equal(v[3].id, "D");
    assert_int_equal(v[3].state, CLI_JOB_FINISHED);
    assert_string_equal(cli_job_state_name(v[3].state), "finished");
    assert_string_equal(cli_job_state_name((enum cli_job_state)7), "unknown");
    free(v);

    j = json_object();
    assert_int_equal(cli_jobs_from_snaps(j, &v, &n), 0);
    assert_int_equal(n, 0);
    assert_null(v);
    json_decref(j);
    j = json_array();
    assert_int_equal(cli_jobs_from_snaps(j, &v, &n), -EINVAL);
    json_decref(j);
    assert_int_equal(cli_jobs_from_snaps(NULL, &v, &n), -EINVAL);
}

static void
test_job_progress_render(void **state)
{
    (void)state;
    char s[256];
    struct cli_job j;
    memset(&j, 0, sizeof(j));
    j.state = CLI_JOB_RUNNING;
    j.objs = 25;
    j.total_objs = 100;
    j.eta_ns = INT64_C(3000000000);
    cli_job_progress_render(s, sizeof(s), "rebalance[A]", &j, 1000, 0, 80);
    /* 80 columns less label, brackets and tail leave 36 cells; a quarter is 9. */
    assert_string_equal(s,
                        "rebalance[A] [=========>                          ]  25%  25/100 objects"
                        "  ETA 3s");
    j.eta_ns = -1;
    j.objs = 150; /* more than the total: capped */
    cli_job_progress_render(s, sizeof(s), "x", &j, 1000, 0, 40);
    assert_string_equal(s, "x [==============] 100%  100/100 objects");
    j.state = CLI_JOB_FINISHED;
    cli_job_progress_render(s, sizeof(s), "x", &j, 2000, 0, 40);
    assert_string_equal(s, "x [==========] 100%  100/100 objects  in 2s");
    /* Unknown total: a spinner that turns with each tick, the count and the elapsed time. */
    j.state = CLI_JOB_RUNNING;
    j.total_objs = 0;
    j.objs = 7;
    cli_job_progress_render(s, sizeof(s), "lru[B]", &j, 42000, 1, 80);
    assert_string_equal(s, "lru[B] [/]  7 objects  42s");
    cli_job_progress_render(s, sizeof(s), "lru[B]", &j, 42000, 3, 80);
    assert_string_equal(s, "lru[B] [\\]  7 objects  42s");
    j.state = CLI_JOB_ABORTED;
    cli_job_progress_render(s, sizeof(s), "lru[B]", &j, 500, 3, 80);
    assert_string_equal(s, "lru[B] [*]  7 objects  500ms");
    /* Tiny buffer: truncated, still terminated. */
    cli_job_progress_render(s, 8, "lru[B]", &j, 500, 3, 80);
    assert_string_equal(s, "lru[B] ");
}

static void
test_job_dispatch(void **state)
{
    (void)state;
    struct mem_ctx m;
    char *bad_timeouts[][4] = {{"job", "wait", "J1", "--timeout=0"},
                               {"job", "wait", "J1", "--timeout=8d"},
                               {"job", "wait", "J1", "--timeout=-5s"},
                               {"job", "wait", "J1", "--timeout=soon"}};
    for (size_t i = 0; i < sizeof(bad_timeouts) / sizeof(bad_timeouts[0]); i++) {
        assert_int_equal(dispatch(&m, 4, bad_timeouts[i]), CLI_EUSAGE);
        assert_non_null(strstr(m.ctx.conn.errmsg, "invalid --timeout"));
        mem_ctx_fini(&m);
    }
    char *no_value[] = {"job", "wait", "J1", "--timeout"};
    assert_int_equal(dispatch(&m, 4, no_value), CLI_EUSAGE);
    mem_ctx_fini(&m);
    char *missing[] = {"job", "wait"};
    assert_int_equal(dispatch(&m, 2, missing), CLI_EUSAGE);
    assert_non_null(strstr(m.ctx.conn.errmsg, "missing arguments"));
    mem_ctx_fini(&m);
    char *too_many[] = {"job", "ls", "rebalance", "resilver"};
    assert_int_equal(dispatch(&m, 4, too_many), CLI_EUSAGE);
    mem_ctx_fini(&m);
    char *bad_flag[] = {"job", "stop", "J1", "--all"};
    assert_int_equal(dispatch(&m, 4, bad_flag), CLI_EUSAGE);
    mem_ctx_fini(&m);
    char *typo[] = {"job", "wiat"};
    assert_int_equal(dispatch(&m, 2, typo), CLI_EUSAGE);
    assert_non_null(strstr(m.ctx.conn.errmsg, "did you mean \"ais job wait\""));
    mem_ctx_fini(&m);
    char *help[] = {"show", "job", "--help"};
    assert_int_equal(dispatch(&m, 3, help), 0);
    assert_non_null(strstr(m.out, "--all, -a"));
    mem_ctx_fini(&m);
    char *whelp[] = {"job", "wait", "-h"};
    assert_int_equal(dispatch(&m, 3, whelp), 0);
    assert_non_null(strstr(m.out, "--timeout DURATION"));
    mem_ctx_fini(&m);
    /* Valid lines reach the (unreachable) cluster. */
    char *ls[] = {"job", "ls", "--all", "--json"};
    assert_int_equal(dispatch(&m, 4, ls), -ECONNREFUSED);
    mem_ctx_fini(&m);
    char *wait[] = {"job", "wait", "J1", "--timeout", "90s"};
    assert_int_equal(dispatch(&m, 5, wait), -ECONNREFUSED);
    mem_ctx_fini(&m);
    char *stop[] = {"job", "stop", "rebalance"};
    assert_int_equal(dispatch(&m, 3, stop), -ECONNREFUSED);
    mem_ctx_fini(&m);
    char *start[] = {"job", "start", "rebalance"};
    assert_int_equal(dispatch(&m, 3, start), -ECONNREFUSED);
    mem_ctx_fini(&m);
    char *show[] = {"show", "job"};
    assert_int_equal(dispatch(&m, 2, show), -ECONNREFUSED);
    mem_ctx_fini(&m);
}

static void
test_job_complete(void **state)
{
    (void)state;
    char *s = complete("ais job ");
    assert_string_equal(s, "\nls\nshow\nstart\nstop\nwait\nrm\n");
    free(s);
    s = complete("ais job ls re");
    assert_string_equal(s, "\nrebalance\nresilver\n");
    free(s);
    /* Ids come from the cluster (unreachable here), kinds always. */
    s = complete("ais job wait delete-");
    assert_string_equal(s, "\ndelete-listrange\n");
    free(s);
    s = complete("ais show job ev");
    assert_string_equal(s, "\nevict-listrange\nevict-remote-bck\n");
    free(s);
    s = complete("ais job wait J1 --t");
    assert_string_equal(s, "\n--timeout\n");
    free(s);
    s = complete("ais job ls --a");
    assert_string_equal(s, "\n--all\n");
    free(s);
}

/* ---- prefetch, evict, bucket cp (cmd_remote.c) ---- */

#define SEL_MASK                                                                                   \
    (CLI_FM_GLOBAL | CLI_FM(CLI_F_LIST) | CLI_FM(CLI_F_TEMPLATE) | CLI_FM(CLI_F_PREFIX) |          \
     CLI_FM(CLI_F_LATEST) | CLI_FM(CLI_F_WAIT))

static int
sel(int argc, char **argv, struct cli_sel *s, char *err)
{
    struct cli_args a;
    assert_int_equal(cli_args_parse(argc, argv, SEL_MASK, &a, err, 256), 0);
    memset(s, 0, sizeof(*s));
    return cli_sel_parse(&a, s, err, 256);
}

/* The JSON text of j (compact, keys sorted), freed by the caller; j is released. */
static char *
dumps(json_t *j)
{
    assert_non_null(j);
    char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return t;
}

static void
test_remote_sel(void **state)
{
    (void)state;
    struct cli_sel s;
    char err[256];
    char *whole[] = {"s3://data"};
    assert_int_equal(sel(1, whole, &s, err), 0);
    assert_int_equal(s.kind, CLI_SEL_BUCKET);
    assert_string_equal(s.b.provider, "aws");
    assert_string_equal(s.b.name, "data");
    cli_sel_fini(&s);
    char *list[] = {"gs://m", "--list", " a.jpg, b/c.jpg,,d "};
    assert_int_equal(sel(3, list, &s, err), 0);
    assert_int_equal(s.kind, CLI_SEL_LIST);
    assert_string_equal(s.b.provider, "gcp");
    char *t = json_dumps(s.names, JSON_COMPACT);
    assert_string_equal(t, "[\"a.jpg\",\"b/c.jpg\",\"d\"]");
    free(t);
    cli_sel_fini(&s);
    char *tmpl[] = {"s3://data", "--template", "pre{0..9}-{00..10}"};
    assert_int_equal(sel(3, tmpl, &s, err), 0);
    assert_int_equal(s.kind, CLI_SEL_TEMPLATE);
    assert_string_equal(s.tmpl, "pre{0..9}-{00..10}");
    char *in_name[] = {"s3://data/shard-{000..099}.tar"};
    assert_int_equal(sel(1, in_name, &s, err), 0);
    assert_int_equal(s.kind, CLI_SEL_TEMPLATE);
    assert_string_equal(s.tmpl, "shard-{000..099}.tar");
    char *pfx[] = {"s3://data", "--prefix", "train/"};
    assert_int_equal(sel(3, pfx, &s, err), 0);
    assert_int_equal(s.kind, CLI_SEL_PREFIX);
    assert_string_equal(s.prefix, "train/");
    char *dir[] = {"s3://data/train/"};
    assert_int_equal(sel(1, dir, &s, err), 0);
    assert_int_equal(s.kind, CLI_SEL_PREFIX);
    assert_string_equal(s.prefix, "train/");
    char *names[] = {"s3://data/x", "s3://data/y/z"};
    assert_int_equal(sel(2, names, &s, err), 0);
    assert_int_equal(s.kind, CLI_SEL_LIST);
    assert_int_equal(json_array_size(s.names), 2);
    cli_sel_fini(&s);
    cli_sel_fini(&s); /* idempotent */
    cli_sel_fini(NULL);

    /* Invalid: two selectors, a selector with an object, names of two buckets, bad names. */
    char *two[] = {"s3://data", "--list", "a", "--prefix", "b"};
    assert_int_equal(sel(5, two, &s, err), CLI_EUSAGE);
    assert_non_null(strstr(err, "one of --list, --template and --prefix"));
    char *obj_and_flag[] = {"s3://data/x", "--template", "a{0..1}"};
    assert_int_equal(sel(3, obj_and_flag, &s, err), CLI_EUSAGE);
    assert_non_null(strstr(err, "name only the bucket"));
    char *other[] = {"s3://data/x", "s3://other/y"};
    assert_int_equal(sel(2, other, &s, err), CLI_EUSAGE);
    assert_non_null(strstr(err, "must be an object of aws://data"));
    char *bare_then_obj[] = {"s3://data", "s3://data/y"};
    assert_int_equal(sel(2, bare_then_obj, &s, err), CLI_EUSAGE);
    char *empty_list[] = {"s3://data", "--list", " , "};
    assert_int_equal(sel(3, empty_list, &s, err), CLI_EUSAGE);
    assert_non_null(strstr(err, "names no objects"));
    char *dotdot[] = {"s3://data", "--list", "a,../etc"};
    assert_int_equal(sel(3, dotdot, &s, err), AIS_EBADNAME);
    assert_non_null(strstr(err, "invalid object name \"../etc\""));
    char *badbck[] = {"s3://", "--list", "a"};
    assert_int_equal(sel(3, badbck, &s, err), AIS_EBADNAME);

    /* Templates: balanced {FIRST..LAST}, at least one. */
    const char *why = NULL;
    assert_int_equal(cli_template_check("a{0..9}b{00..99}", &why), 0);
    const char *bad[] = {"",      "plain",  "a{0..9", "a}0..9{",
                         "a{09}", "a{..9}", "a{0..}", "a{{0..1}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        assert_int_equal(cli_template_check(bad[i], &why), CLI_EUSAGE);
        assert_non_null(why);
    }
    char *badt[] = {"s3://data", "--template", "pre{0..9"};
    assert_int_equal(sel(3, badt, &s, err), CLI_EUSAGE);
    assert_string_equal(err, "invalid template \"pre{0..9\": '{' without a matching '}'");
}

static void
test_remote_bodies(void **state)
{
    (void)state;
    struct cli_sel s;
    char err[256], q[512];
    char *tmpl[] = {"s3://data", "--template", "pf/{000..099}"};
    assert_int_equal(sel(3, tmpl, &s, err), 0);
    char *t = dumps(cli_listrange_msg("prefetch-listrange", &s, NULL, true));
    assert_string_equal(t,
                        "{\"action\":\"prefetch-listrange\",\"name\":\"\",\"value\":{\"latest-ver\""
                        ":true,\"template\":\"pf/{000..099}\"}}");
    free(t);
    t = dumps(cli_listrange_msg("evict-listrange", &s, NULL, true));
    assert_string_equal(t, "{\"action\":\"evict-listrange\",\"name\":\"\",\"value\":{\"template\":"
                           "\"pf/{000..099}\"}}");
    free(t);
    struct cli_bck dst;
    assert_int_equal(cli_bck_parse("ais://copy", &dst, NULL), 0);
    t = dumps(cli_copy_msg(&s, NULL, &dst, false));
    assert_string_equal(t,
                        "{\"action\":\"copy-listrange\",\"name\":\"\",\"value\":{\"dry_run\":false,"
                        "\"force\":false,\"latest-ver\":false,\"prefix\":\"\",\"prepend\":\"\","
                        "\"template\":\"pf/{000..099}\",\"tobck\":{\"name\":\"copy\","
                        "\"provider\":\"ais\"}}}");
    free(t);
    json_t *names = json_pack("[s,s]", "a", "b/c");
    t = dumps(cli_listrange_msg("evict-listrange", &s, names, false));
    assert_string_equal(
        t,
        "{\"action\":\"evict-listrange\",\"name\":\"\",\"value\":{\"objnames\":[\"a\",\"b/c\"]}}");
    free(t);
    json_decref(names);

    char *pfx[] = {"s3://data", "--prefix", "cp/"};
    assert_int_equal(sel(3, pfx, &s, err), 0);
    t = dumps(cli_copy_msg(&s, NULL, &dst, true));
    assert_string_equal(
        t, "{\"action\":\"copy-bck\",\"name\":\"\",\"value\":{\"dry_run\":false,"
           "\"force\":false,\"latest-ver\":true,\"prefix\":\"cp/\",\"prepend\":\"\"}}");
    free(t);
    assert_int_equal(cli_copy_query(&s.b, &dst, q, sizeof(q)), 0);
    assert_string_equal(q, "provider=aws&bck_to=ais%2F%40%23%2Fcopy%2F");
    assert_int_equal(cli_copy_query(&s.b, &dst, q, 20), -ENAMETOOLONG);

    /* Batches: everything in one request up to 100000 short names, else 10000 per request. */
    json_t *v = json_array();
    for (int i = 0; i < CLI_LISTRANGE_ONE_JOB_MAX; i++) {
        char nm[16];
        snprintf(nm, sizeof(nm), "%06d", i);
        json_array_append_new(v, json_string(nm));
    }
    assert_int_equal(cli_batch_end(v, 0), CLI_LISTRANGE_ONE_JOB_MAX);
    json_array_append_new(v, json_string("one-more"));
    assert_int_equal(cli_batch_end(v, 0), CLI_LISTRANGE_BATCH_NAMES);
    assert_int_equal(cli_batch_end(v, 90000), 90000 + CLI_LISTRANGE_BATCH_NAMES);
    assert_int_equal(cli_batch_end(v, 95000), 100001);
    assert_int_equal(cli_batch_end(v, 100000), 100001);
    assert_int_equal(cli_batch_end(v, 100001), 100001);
    json_decref(v);
    /* Long names: the byte limit splits before the name count does. */
    v = json_array();
    char big[1001];
    memset(big, 'x', 1000);
    big[1000] = '\0';
    for (int i = 0; i < 2000; i++) {
        json_array_append_new(v, json_string(big));
    }
    size_t end = cli_batch_end(v, 0);
    assert_true(end < 2000 && end * 1003 <= CLI_LISTRANGE_BATCH_BYTES);
    assert_true((end + 1) * 1003 > CLI_LISTRANGE_BATCH_BYTES);
    /* Escapes count: a quote takes two bytes. */
    json_t *qn = json_pack("[s]", "a\"b");
    assert_int_equal(cli_batch_end(qn, 0), 1);
    json_decref(qn);
    json_decref(v);
}

static void
test_failed_parse(void **state)
{
    (void)state;
    json_t *out = json_array();
    uint64_t n = 0;
    assert_int_equal(cli_failed_parse("prefetch aws://data: failed 3 of 100: pf/007 (backend "
                                      "answered 500 (InternalError)); pf/042 (timeout); pf/0",
                                      out, &n),
                     0);
    assert_int_equal(n, 3);
    char *t = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(t,
                        "[{\"name\":\"pf/007\",\"why\":\"backend answered 500 (InternalError)\"},"
                        "{\"name\":\"pf/042\",\"why\":\"timeout\"}]");
    free(t);
    assert_int_equal(cli_failed_parse("prefetch in aws://data: target t1 unreachable", out, &n),
                     -EINVAL);
    assert_int_equal(cli_failed_parse("failed x of 3:", out, &n), -EINVAL);
    assert_int_equal(cli_failed_parse(NULL, out, &n), -EINVAL);
    assert_int_equal(n, 3);
    json_decref(out);

    /* A prefetch's fetched counters (in-objs) fold like the others. */
    json_t *j =
        json_loads("{\"t1\":[{\"id\":\"P\",\"kind\":\"prefetch-listrange\",\"state\":"
                   "\"finished\",\"stats\":{\"loc-objs\":2,\"in-objs\":5,\"in-bytes\":50}}],"
                   "\"t2\":[{\"id\":\"P\",\"stats\":{\"in-objs\":1,\"in-bytes\":\"7\"},"
                   "\"state\":\"finished\"}]}",
                   0, NULL);
    struct cli_job *v = NULL;
    size_t nj = 0;
    assert_int_equal(cli_jobs_from_snaps(j, &v, &nj), 0);
    assert_int_equal(nj, 1);
    assert_int_equal(v[0].objs, 2);
    assert_int_equal(v[0].in_objs, 6);
    assert_int_equal(v[0].in_bytes, 57);
    free(v);
    json_decref(j);
}

static void
test_remote_dispatch(void **state)
{
    (void)state;
    struct mem_ctx m;
    char *ais_bck[] = {"prefetch", "ais://local", "--list", "a"};
    assert_int_equal(dispatch(&m, 4, ais_bck), CLI_EUSAGE);
    assert_non_null(strstr(m.ctx.conn.errmsg, "cannot prefetch ais://local"));
    mem_ctx_fini(&m);
    char *plain[] = {"bucket", "evict", "local"};
    assert_int_equal(dispatch(&m, 3, plain), CLI_EUSAGE);
    assert_non_null(strstr(m.ctx.conn.errmsg, "cannot evict ais://local"));
    mem_ctx_fini(&m);
    char *keep[] = {"evict", "s3://data", "--template", "a{0..1}", "--keep-md"};
    assert_int_equal(dispatch(&m, 5, keep), CLI_EUSAGE);
    assert_non_null(strstr(m.ctx.conn.errmsg, "--keep-md applies to a whole bucket"));
    mem_ctx_fini(&m);
    char *tmo[] = {"prefetch", "s3://data", "--timeout", "5s"};
    assert_int_equal(dispatch(&m, 4, tmo), CLI_EUSAGE);
    assert_non_null(strstr(m.ctx.conn.errmsg, "add --wait"));
    mem_ctx_fini(&m);
    char *badtmo[] = {"prefetch", "s3://data", "--wait", "--timeout", "8d"};
    assert_int_equal(dispatch(&m, 5, badtmo), CLI_EUSAGE);
    mem_ctx_fini(&m);
    char *keep_pf[] = {"prefetch", "s3://data", "--keep-md"};
    assert_int_equal(dispatch(&m, 3, keep_pf), CLI_EUSAGE);
    assert_non_null(strstr(m.ctx.conn.errmsg, "unknown flag --keep-md"));
    mem_ctx_fini(&m);
    char *cp_obj[] = {"bucket", "cp", "s3://data/x", "ais://c"};
    assert_int_equal(dispatch(&m, 4, cp_obj), CLI_EUSAGE);
    assert_non_null(strstr(m.ctx.conn.errmsg, "SRC is a bucket"));
    mem_ctx_fini(&m);
    char *cp_dst[] = {"bucket", "cp", "s3://data", "ais://c/x"};
    assert_int_equal(dispatch(&m, 4, cp_dst), CLI_EUSAGE);
    mem_ctx_fini(&m);
    char *cp_one[] = {"bucket", "cp", "s3://data"};
    assert_int_equal(dispatch(&m, 3, cp_one), CLI_EUSAGE);
    mem_ctx_fini(&m);
    char *help[] = {"object", "prefetch", "--help"};
    assert_int_equal(dispatch(&m, 3, help), 0);
    assert_non_null(
        strstr(m.out, "ais prefetch s3://data --template 'shard-{000..099}.tar' --wait"));
    assert_non_null(strstr(m.out, "--latest"));
    mem_ctx_fini(&m);
    char *ehelp[] = {"evict", "-h"};
    assert_int_equal(dispatch(&m, 2, ehelp), 0);
    assert_non_null(strstr(m.out, "--keep-md"));
    mem_ctx_fini(&m);
    /* Valid lines reach the (unreachable) cluster. */
    char *ok[][5] = {{"prefetch", "s3://data", "--template", "a{0..9}", "--wait"},
                     {"evict", "s3://data", "--list", "a,b", "--wait"},
                     {"evict", "s3://data", "--keep-md", "--no-progress", "--wait"},
                     {"prefetch", "s3://data", "--prefix", "p/", "--latest"},
                     {"bucket", "cp", "s3://data", "ais://copy", "--wait"}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(dispatch(&m, 5, ok[i]), -ECONNREFUSED);
        mem_ctx_fini(&m);
    }
}

static void
test_remote_complete(void **state)
{
    (void)state;
    char *s = complete("ais pre");
    assert_string_equal(s, "\nprefetch\n");
    free(s);
    s = complete("ais object ev");
    assert_string_equal(s, "\nevict\n");
    free(s);
    s = complete("ais bucket c");
    assert_string_equal(s, "\ncreate\ncp\n");
    free(s);
    s = complete("ais evict s3://data --k");
    assert_string_equal(s, "\n--keep-md\n");
    free(s);
    s = complete("ais prefetch s3://data --l");
    assert_string_equal(s, "\n--list\n--latest\n");
    free(s);
}

/* ---- downloads (cmd_dload.c) ---- */

/* The expansion of t as one "a,b,c" string (freed by the caller), or NULL with *rc set. */
static char *
expand(const char *t, size_t cap, int *rc)
{
    json_t *out = json_array();
    *rc = cli_tmpl_expand(t, out, cap);
    if (*rc != 0) {
        json_decref(out);
        return NULL;
    }
    struct ais_buf b;
    ais_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < json_array_size(out); i++) {
        assert_int_equal(
            ais_buf_printf(&b, "%s%s", i ? "," : "", json_string_value(json_array_get(out, i))), 0);
    }
    json_decref(out);
    char *r = strdup(b.data != NULL ? b.data : "");
    ais_buf_fini(&b);
    return r;
}

static void
test_dl_template(void **state)
{
    (void)state;
    int rc;
    char *s = expand("http://h/x-{000..003}.tar", 100, &rc);
    assert_string_equal(s, "http://h/x-000.tar,http://h/x-001.tar,http://h/x-002.tar,"
                           "http://h/x-003.tar");
    free(s);
    s = expand("{0..10..5}", 100, &rc);
    assert_string_equal(s, "0,5,10");
    free(s);
    s = expand("a{1..2}b{0..1}", 100, &rc);
    assert_string_equal(s, "a1b0,a1b1,a2b0,a2b1");
    free(s);
    s = expand("plain", 100, &rc);
    assert_string_equal(s, "plain");
    free(s);
    s = expand("{7..7}", 100, &rc);
    assert_string_equal(s, "7");
    free(s);
    /* Boundary: exactly cap names fit, one more does not. */
    s = expand("{0..9}", 10, &rc);
    assert_non_null(s);
    free(s);
    assert_null(expand("{0..10}", 10, &rc));
    assert_int_equal(rc, -E2BIG);
    const char *bad[] = {"x{1..}", "x{3..1}",  "x{a..b}", "x{1..2..0}",
                         "x{1..3", "x{-1..2}", "x{1,2}",  "x{}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_null(expand(bad[i], 100, &rc));
        assert_int_equal(rc, CLI_EUSAGE);
    }
    char base[64];
    cli_url_base("http://h/a/b.tar?sig=1#f", base, sizeof(base));
    assert_string_equal(base, "b.tar");
    cli_url_base("http://h/a/", base, sizeof(base));
    assert_string_equal(base, "");
}

static void
test_dl_list_parse(void **state)
{
    (void)state;
    json_t *l = NULL;
    char err[256];
    const char *js = " [\"http://h/a\", \"b/c.bin\"]\n";
    assert_int_equal(cli_dl_list_parse(js, strlen(js), &l, err, sizeof(err)), 0);
    char *t = dumps(l);
    assert_string_equal(t, "[\"http://h/a\",\"b/c.bin\"]");
    free(t);
    const char *lines = "# urls\r\nhttp://h/a\r\n\n  b/c.bin  \nlast";
    assert_int_equal(cli_dl_list_parse(lines, strlen(lines), &l, err, sizeof(err)), 0);
    t = dumps(l);
    assert_string_equal(t, "[\"http://h/a\",\"b/c.bin\",\"last\"]");
    free(t);
    const char *bad[] = {"", " \n# only a comment\n", "[]", "[1, \"a\"]", "[\"a\"", "[\"\"]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        l = NULL;
        assert_int_equal(cli_dl_list_parse(bad[i], strlen(bad[i]), &l, err, sizeof(err)),
                         CLI_EUSAGE);
        assert_null(l);
        assert_non_null(strstr(err, "--object-list"));
    }
}

/* cli_dl_body for (src, dst, list) as sorted compact JSON, or NULL with *rc and err set. */
static char *
dl_body(const char *src, const char *dst, const char *list, int *rc, char *err)
{
    json_t *l = list != NULL ? json_loads(list, 0, NULL) : NULL;
    json_t *body = NULL;
    struct cli_dl_opts o = {.src = src, .dst = dst, .list = l};
    *rc = cli_dl_body(&o, &body, err, 256);
    json_decref(l);
    return *rc == 0 ? dumps(body) : NULL;
}

/* got (compact JSON) equals want, written with ' for " so the expectations stay readable. */
static void
assert_json(const char *got, const char *want)
{
    char *w = strdup(want);
    for (char *p = w; *p != '\0'; p++) {
        *p = *p == '\'' ? '"' : *p;
    }
    json_t *a = json_loads(got, 0, NULL), *b = json_loads(w, 0, NULL);
    assert_non_null(b);
    if (!json_equal(a, b)) {
        fail_msg("got %s, want %s", got, w);
    }
    json_decref(a);
    json_decref(b);
    free(w);
}

#define BCK_B_AIS "'bucket':{'name':'b','provider':'ais','namespace':{'uuid':'','name':''}}"
#define BCK_DATA_AWS "'bucket':{'name':'data','provider':'aws','namespace':{'uuid':'','name':''}}"

static void
test_dl_body_http(void **state)
{
    (void)state;
    int rc;
    char err[256];
    char *t = dl_body("http://h/d/a.bin?x=1", "ais://b", NULL, &rc, err);
    assert_json(t, "{'type':'single'," BCK_B_AIS ",'description':'',"
                   "'link':'http://h/d/a.bin?x=1','object_name':'a.bin'}");
    free(t);
    t = dl_body("https://h/a.bin", "b/dir/", NULL, &rc, err);
    assert_non_null(strstr(t, "\"object_name\":\"dir/a.bin\""));
    free(t);
    t = dl_body("https://h/a.bin", "ais://b/new.bin", NULL, &rc, err);
    assert_non_null(strstr(t, "\"object_name\":\"new.bin\""));
    free(t);
    t = dl_body("http://h/s-{00..02}.tar", "ais://b/train", NULL, &rc, err);
    assert_json(t, "{'type':'range'," BCK_B_AIS ",'description':'',"
                   "'subdir':'train','template':'http://h/s-{00..02}.tar'}");
    free(t);
    /* Options: description and the server-side timeout. */
    json_t *body = NULL;
    struct cli_dl_opts o = {
        .src = "http://h/a", .dst = "ais://b", .desc = "nightly", .dl_timeout_ms = 30000};
    assert_int_equal(cli_dl_body(&o, &body, err, sizeof(err)), 0);
    t = dumps(body);
    assert_non_null(strstr(t, "\"description\":\"nightly\""));
    assert_non_null(strstr(t, "\"timeout\":\"30000ms\""));
    free(t);
}

static void
test_dl_body_multi_backend(void **state)
{
    (void)state;
    int rc;
    char err[256];
    char *t = dl_body("http://h/base/", "ais://b/p/",
                      "[\"x/1.bin\", \"/2.bin\", \"http://o/3.bin\"]", &rc, err);
    assert_non_null(t);
    assert_non_null(
        strstr(t, "\"objects\":{\"p/2.bin\":\"http://h/base/2.bin\","
                  "\"p/3.bin\":\"http://o/3.bin\",\"p/x/1.bin\":\"http://h/base/x/1.bin\"}"));
    assert_non_null(strstr(t, "\"type\":\"multi\""));
    free(t);
    t = dl_body(NULL, "ais://b", "[\"http://o/3.bin\"]", &rc, err);
    assert_non_null(strstr(t, "\"objects\":{\"3.bin\":\"http://o/3.bin\"}"));
    free(t);
    assert_null(dl_body(NULL, "ais://b", "[\"rel.bin\"]", &rc, err));
    assert_int_equal(rc, CLI_EUSAGE);
    assert_non_null(strstr(err, "no base URL"));
    assert_null(dl_body(NULL, "ais://b", "[\"http://o/a\", \"http://p/a\"]", &rc, err));
    assert_int_equal(rc, CLI_EUSAGE);
    assert_non_null(strstr(err, "both be object \"a\""));
    t = dl_body("s3://data/train/", NULL, NULL, &rc, err);
    assert_json(t, "{'type':'backend'," BCK_DATA_AWS ",'description':'',"
                   "'prefix':'train/'}");
    free(t);
    t = dl_body("gs://m", "gs://m", NULL, &rc, err);
    assert_non_null(strstr(t, "\"provider\":\"gcp\""));
    free(t);
    assert_null(dl_body("s3://data", "ais://dst", NULL, &rc, err));
    assert_int_equal(rc, CLI_EUSAGE);
    assert_non_null(strstr(err, "ais bucket cp s3://data ais://dst"));
    assert_null(dl_body("s3://data", NULL, "[\"a\"]", &rc, err));
    assert_int_equal(rc, CLI_EUSAGE);
}

static void
test_dl_body_invalid(void **state)
{
    (void)state;
    int rc;
    char err[256];
    struct {
        const char *src, *dst, *why;
        int rc;
    } bad[] = {
        {"ais://other/x", "ais://b", "ais bucket cp", CLI_EUSAGE},
        {"ftp://h/x", "ais://b", "invalid source", CLI_EUSAGE},
        {"h/x", "ais://b", "invalid source", CLI_EUSAGE},
        {"http://h/x", NULL, "missing DST", CLI_EUSAGE},
        {"http://h/x", "s3://b", "go into ais:// buckets", CLI_EUSAGE},
        {"http://h/x", "ais://", "invalid destination", AIS_EBADNAME},
        {"http://h/dir/", "ais://b", "give DST as BUCKET/NAME", CLI_EUSAGE},
        {"http://h/x", "ais://b/../up", "invalid object name", AIS_EBADNAME},
        {"http://h/x-{1..3", "ais://b", "invalid template", CLI_EUSAGE},
        {"http://h/x-{0..100000}", "ais://b", "more than 100000 URLs", CLI_EUSAGE},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_null(dl_body(bad[i].src, bad[i].dst, NULL, &rc, err));
        assert_int_equal(rc, bad[i].rc);
        assert_non_null(strstr(err, bad[i].why));
        assert_int_equal(cli_exit_code(rc), CLI_EXIT_USAGE);
    }
    /* Boundary: 100000 URLs are one request. */
    char *t = dl_body("http://h/x-{1..100000}", "ais://b", NULL, &rc, err);
    assert_non_null(t);
    free(t);
}

static void
test_dl_urls(void **state)
{
    (void)state;
    int rc;
    char err[256];
    json_t *m = NULL;
    json_t *body = json_pack("{s:s, s:s, s:s}", "type", "range", "template", "http://h/{1..2}.t",
                             "subdir", "p");
    assert_int_equal(cli_dl_urls(body, &m), 0);
    char *t = dumps(m);
    assert_string_equal(t, "{\"p/1.t\":\"http://h/1.t\",\"p/2.t\":\"http://h/2.t\"}");
    free(t);
    json_decref(body);
    char *s = dl_body("http://h/a.bin", "ais://b/n", NULL, &rc, err);
    body = json_loads(s, 0, NULL);
    free(s);
    assert_int_equal(cli_dl_urls(body, &m), 0);
    t = dumps(m);
    assert_string_equal(t, "{\"n\":\"http://h/a.bin\"}");
    free(t);
    json_decref(body);
    body = json_pack("{s:s}", "type", "backend");
    assert_int_equal(cli_dl_urls(body, &m), 0);
    assert_int_equal(json_object_size(m), 0);
    json_decref(m);
    json_decref(body);
}

static void
test_dl_job_parse(void **state)
{
    (void)state;
    struct cli_dl_job j;
    json_t *e = json_loads("{\"id\":\"D1\",\"description\":\"d\",\"bck\":\"ais://b\","
                           "\"started_time\":\"2026-01-01T00:00:00Z\",\"finished_time\":\"\","
                           "\"finished_cnt\":3,\"skipped_cnt\":1,\"error_cnt\":2,\"total\":10,"
                           "\"aborted\":false,\"finished\":false}",
                           0, NULL);
    assert_int_equal(cli_dl_job_parse(e, &j), 0);
    assert_string_equal(j.id, "D1");
    assert_string_equal(j.bck, "ais://b");
    assert_int_equal(j.finished, 4);
    assert_int_equal(j.errors, 2);
    assert_int_equal(j.total, 10);
    assert_false(j.done);
    assert_int_equal(j.end_ns, 0);
    assert_string_equal(cli_dl_job_state(&j), "running");
    json_object_set_new(e, "aborted", json_true());
    json_object_set_new(e, "finished", json_true());
    assert_int_equal(cli_dl_job_parse(e, &j), 0);
    assert_string_equal(cli_dl_job_state(&j), "aborted");
    /* AIS sends no "finished": a finished time ends the job. */
    json_object_del(e, "finished");
    json_object_set_new(e, "aborted", json_false());
    json_object_set_new(e, "finished_time", json_string("2026-01-01T00:00:02Z"));
    assert_int_equal(cli_dl_job_parse(e, &j), 0);
    assert_true(j.done);
    assert_string_equal(cli_dl_job_state(&j), "finished");
    assert_int_equal(j.end_ns - j.start_ns, 2000000000LL);
    json_decref(e);
    e = json_pack("{s:s}", "description", "no id");
    assert_int_equal(cli_dl_job_parse(e, &j), -EINVAL);
    json_decref(e);
}

static void
test_dl_dispatch(void **state)
{
    (void)state;
    struct mem_ctx m;
    struct {
        int argc;
        char *argv[6];
        const char *why;
    } bad[] = {
        {3, {"download", "ftp://h/x", "ais://b"}, "invalid source"},
        {2, {"download", "http://h/x"}, "missing DST"},
        {5, {"download", "http://h/x", "ais://b", "--timeout", "5s"}, "add --wait"},
        {6, {"download", "http://h/x", "ais://b", "--wait", "--timeout", "8d"}, "--timeout"},
        {5, {"download", "http://h/x", "ais://b", "--download-timeout", "x"}, "--download-timeout"},
        {5, {"download", "http://h/x", "ais://b", "--object-list", "/nonexistent/l"}, NULL},
        {4, {"download", "a", "b", "c"}, "too many arguments"},
        {2, {"job", "rm"}, "missing subcommand"},
        {3, {"job", "stop", "download"}, "missing arguments"},
        {5, {"show", "job", "download", "J", "K"}, "too many arguments"},
        {3, {"promote", "/x", "ais://"}, "invalid destination"},
        {5, {"promote", "/x", "ais://b", "--target-id", "a/b"}, "--target-id"},
        {5, {"promote", "/x", "ais://b", "--timeout", "5s"}, "--timeout"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int err = dispatch(&m, bad[i].argc, bad[i].argv);
        if (bad[i].why == NULL) {
            assert_int_equal(cli_exit_code(err), CLI_EXIT_NOTFOUND);
        } else {
            assert_int_equal(cli_exit_code(err), CLI_EXIT_USAGE);
            assert_non_null(strstr(m.ctx.conn.errmsg, bad[i].why));
        }
        mem_ctx_fini(&m);
    }
    /* Valid lines reach the (unreachable) cluster. */
    char *ok[][6] = {{"download", "http://h/x-{0..9}", "ais://b/p/", "--wait", "--timeout", "1m"},
                     {"job", "start", "download", "s3://data", "--description", "d"},
                     {"show", "job", "download", "--regex", "^n", "--json"},
                     {"job", "ls", "download", "--no-headers", "--regex", "x"},
                     {"job", "wait", "download", "J1", "--timeout", "5s"},
                     {"object", "promote", "/d", "ais://b/p/", "-r", "--wait"}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(dispatch(&m, 6, ok[i]), -ECONNREFUSED);
        mem_ctx_fini(&m);
    }
    char *show_id[] = {"show", "job", "download", "J1"};
    assert_int_equal(dispatch(&m, 4, show_id), -ECONNREFUSED);
    mem_ctx_fini(&m);
    char *rm[] = {"job", "rm", "download", "J1"};
    assert_int_equal(dispatch(&m, 4, rm), -ECONNREFUSED);
    mem_ctx_fini(&m);
    /* `job show ID` still takes an id where a subcommand could be. */
    char *show[] = {"job", "show", "9kD3xTqPz"};
    assert_int_equal(dispatch(&m, 3, show), -ECONNREFUSED);
    mem_ctx_fini(&m);
    char *help[] = {"download", "--help"};
    assert_int_equal(dispatch(&m, 2, help), 0);
    assert_non_null(strstr(m.out, "ais download 'https://example.com/shard-{000..099}.tar'"));
    assert_non_null(strstr(m.out, "--object-list FILE"));
    mem_ctx_fini(&m);
    char *phelp[] = {"promote", "-h"};
    assert_int_equal(dispatch(&m, 2, phelp), 0);
    assert_non_null(strstr(m.out, "--not-file-share"));
    assert_non_null(strstr(m.out, "--overwrite-dst, -o"));
    mem_ctx_fini(&m);
}

static void
test_dl_complete(void **state)
{
    (void)state;
    char *s = complete("ais down");
    assert_string_equal(s, "\ndownload\n");
    free(s);
    s = complete("ais download s3://x --obj");
    assert_string_equal(s, "\n--object-list\n");
    free(s);
    s = complete("ais download --object-list ");
    assert_string_equal(s, "files\n");
    free(s);
    s = complete("ais show job download --r");
    assert_string_equal(s, "\n--regex\n");
    free(s);
    s = complete("ais job rm ");
    assert_string_equal(s, "\ndownload\ndsort\n");
    free(s);
    s = complete("ais dsort ");
    assert_string_equal(s, "\nstart\nshow\nstop\nrm\nwait\ngen\n");
    free(s);
    s = complete("ais dsort gen ais://b/s-{0..1}.tar --rec");
    assert_string_equal(s, "\n--records\n--record-size\n");
    free(s);
    s = complete("ais show job ds");
    assert_string_equal(s, "\ndsort\n");
    free(s);
    s = complete("ais promote /tmp/x ais://b --o");
    assert_string_equal(s, "\n--overwrite-dst\n");
    free(s);
    s = complete("ais object pro");
    assert_string_equal(s, "\npromote\n");
    free(s);
}

/* ---- promote (cmd_promote.c) ---- */

static int
promote(int argc, char **argv, const char *cwd, struct cli_promote *p, char *err)
{
    struct cli_args a;
    uint64_t mask = CLI_FM_GLOBAL | CLI_FM(CLI_F_RECURSIVE) | CLI_FM(CLI_F_OVERWRITE_DST) |
                    CLI_FM(CLI_F_DELETE_SRC) | CLI_FM(CLI_F_TARGET_ID) |
                    CLI_FM(CLI_F_NOT_FILE_SHARE) | CLI_FM(CLI_F_WAIT);
    assert_int_equal(cli_args_parse(argc, argv, mask, &a, err, 256), 0);
    return cli_promote_parse(&a, cwd, p, err, 256);
}

static void
test_path_abs(void **state)
{
    (void)state;
    char out[64];
    struct {
        const char *cwd, *path, *want;
    } v[] = {
        {"/home/u", "a/../b/./c/", "/home/u/b/c"},
        {"/home/u", "../../..", "/"},
        {"/", ".", "/"},
        {"/x", "/data//y/", "/data/y"},
        {"/x/", "y", "/x/y"},
        {NULL, "/abs", "/abs"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_int_equal(cli_path_abs(v[i].cwd, v[i].path, out, sizeof(out)), 0);
        assert_string_equal(out, v[i].want);
    }
    assert_int_equal(cli_path_abs(NULL, "rel", out, sizeof(out)), -EINVAL);
    /* Boundary: "/" + 62 bytes + NUL fits 64, one more does not. */
    char name[70];
    memset(name, 'n', 63);
    name[62] = '\0';
    assert_int_equal(cli_path_abs("/", name, out, sizeof(out)), 0);
    name[62] = 'n';
    name[63] = '\0';
    assert_int_equal(cli_path_abs("/", name, out, sizeof(out)), -ENAMETOOLONG);
}

static void
test_promote_parse(void **state)
{
    (void)state;
    struct cli_promote p;
    char err[256];
    char *rel[] = {"sub/../data/", "ais://b/x/", "-r", "--target-id", "t[tAbC]"};
    assert_int_equal(promote(5, rel, "/nonexistent-cwd", &p, err), 0);
    assert_string_equal(p.src, "/nonexistent-cwd/data");
    assert_string_equal(p.dst.name, "b");
    assert_string_equal(p.obj, "x/");
    assert_string_equal(p.tid, "tAbC");
    assert_true(p.recursive);
    char *t = dumps(cli_promote_msg(&p));
    assert_string_equal(t, "{\"action\":\"promote\",\"name\":\"/nonexistent-cwd/data\",\"value\":"
                           "{\"dls\":false,\"notshr\":false,\"obj\":\"x/\",\"ovw\":false,"
                           "\"rcr\":true,\"src\":\"/nonexistent-cwd/data\",\"tid\":\"tAbC\"}}");
    free(t);
    char dst[128];
    cli_promote_dst_str(&p, dst, sizeof(dst));
    assert_string_equal(dst, "ais://b/x/");
    /* A relative path that exists here is resolved (symlinks too). */
    char tmpl[] = "/tmp/cli-promote-XXXXXX", path[256];
    assert_non_null(mkdtemp(tmpl));
    snprintf(path, sizeof(path), "%s/real", tmpl);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/link", tmpl);
    assert_int_equal(symlink("real", path), 0);
    char *flags[] = {"link", "s3://r", "-o", "--delete-src", "--not-file-share"};
    assert_int_equal(promote(5, flags, tmpl, &p, err), 0);
    snprintf(path, sizeof(path), "%s/real", tmpl);
    char want[256];
    assert_non_null(realpath(path, want));
    assert_string_equal(p.src, want);
    assert_string_equal(p.dst.provider, "aws");
    assert_string_equal(p.obj, "");
    assert_string_equal(p.tid, "");
    assert_true(p.overwrite && p.delete_src && p.not_file_share && !p.recursive);
    cli_promote_dst_str(&p, dst, sizeof(dst));
    assert_string_equal(dst, "aws://r/real");
    snprintf(path, sizeof(path), "%s/link", tmpl);
    unlink(path);
    snprintf(path, sizeof(path), "%s/real", tmpl);
    rmdir(path);
    rmdir(tmpl);
    char *named[] = {"/d/f.txt", "ais://b/new.txt"};
    assert_int_equal(promote(2, named, "/", &p, err), 0);
    cli_promote_dst_str(&p, dst, sizeof(dst));
    assert_string_equal(dst, "ais://b/new.txt");
    char *bad[][2] = {{"", "ais://b"}, {"/x", "ais://"}, {"/x", "ais://b/../y"}};
    int want_rc[] = {CLI_EUSAGE, AIS_EBADNAME, AIS_EBADNAME};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(promote(2, bad[i], "/", &p, err), want_rc[i]);
        assert_int_equal(cli_exit_code(want_rc[i]), CLI_EXIT_USAGE);
    }
    char *one[] = {"/x"};
    assert_int_equal(promote(1, one, "/", &p, err), CLI_EUSAGE);
    char *tid[] = {"/x", "ais://b", "--target-id", "t[]"};
    assert_int_equal(promote(4, tid, "/", &p, err), CLI_EUSAGE);
}

/* ---- logs and performance (cmd_log.c, cmd_perf.c) ---- */

static void
test_node_id_tail(void **state)
{
    (void)state;
    char id[64];
    cli_node_id("t[tX1]", id, sizeof(id));
    assert_string_equal(id, "tX1");
    cli_node_id("p[p1]", id, sizeof(id));
    assert_string_equal(id, "p1");
    cli_node_id("tX1", id, sizeof(id));
    assert_string_equal(id, "tX1");
    cli_node_id("t[]", id, sizeof(id)); /* not a bracketed id: as given */
    assert_string_equal(id, "t[]");
    const char *t = "a\nbb\nccc\n";
    size_t len = strlen(t);
    assert_int_equal(cli_tail_lines(t, len, 1), 5);
    assert_int_equal(cli_tail_lines(t, len, 2), 2);
    assert_int_equal(cli_tail_lines(t, len, 3), 0);
    assert_int_equal(cli_tail_lines(t, len, 4), 0); /* fewer lines: all */
    assert_int_equal(cli_tail_lines(t, len, 0), len);
    assert_int_equal(cli_tail_lines("x\ny", 3, 1), 2); /* no final newline */
    assert_int_equal(cli_tail_lines("", 0, 5), 0);
}

/* {"get.n":{"v":"N"},...} from name/value pairs (NULL-ended). */
static json_t *
tracker(const char *const *kv)
{
    json_t *t = json_object();
    for (size_t i = 0; kv[i] != NULL; i += 2) {
        json_object_set_new(t, kv[i], json_pack("{s:s}", "v", kv[i + 1]));
    }
    return t;
}

static void
test_perf_compute(void **state)
{
    (void)state;
    struct cli_perf p;
    const char *a[] = {"get.n",     "100", "get.size",  "1048576", "get.ns.total", "1000000",
                       "put.n",     "10",  "put.size",  "0",       "put.ns.total", "0",
                       "err.get.n", "1",   "err.put.n", "0",       "up.ns.time",   "5000000000",
                       NULL};
    const char *b[] = {"get.n",     "300", "get.size",  "5242880", "get.ns.total", "3000000",
                       "put.n",     "10",  "put.size",  "0",       "put.ns.total", "0",
                       "err.get.n", "3",   "err.put.n", "1",       "up.ns.time",   "7000000000",
                       NULL};
    json_t *t0 = tracker(a), *t1 = tracker(b);
    /* The uptimes say 2s; the CLI's 10s clock is ignored. */
    cli_perf_compute(t0, t1, 10000000000LL, &p);
    assert_true(p.get_ops > 99.99 && p.get_ops < 100.01);
    assert_true(p.get_bps > 2097151 && p.get_bps < 2097153); /* 4MiB in 2s */
    assert_int_equal(p.get_lat_ns, 10000);                   /* 2ms over 200 GETs */
    assert_true(p.put_ops == 0);
    assert_int_equal(p.put_lat_ns, -1); /* no PUTs: no latency */
    assert_int_equal(p.errs, 3);
    /* No uptime: the given interval; a counter that went down restarted from 0. */
    json_object_del(t0, "up.ns.time");
    json_object_set_new(t0, "get.n", json_pack("{s:s}", "v", "1000"));
    cli_perf_compute(t0, t1, 1000000000LL, &p);
    assert_true(p.get_ops > 299.99 && p.get_ops < 300.01);
    /* Plain numbers are read too; nothing known and no interval: zeros. */
    json_t *n0 = json_pack("{s:i}", "put.n", 1), *n1 = json_pack("{s:i}", "put.n", 5);
    cli_perf_compute(n0, n1, 2000000000LL, &p);
    assert_true(p.put_ops > 1.99 && p.put_ops < 2.01);
    cli_perf_compute(n0, n1, 0, &p);
    assert_true(p.put_ops == 0 && p.get_lat_ns == -1 && p.errs == 0);
    cli_perf_compute(NULL, NULL, 1000000000LL, &p);
    assert_true(p.get_ops == 0 && p.put_bps == 0);
    json_decref(n0);
    json_decref(n1);
    json_decref(t0);
    json_decref(t1);
}

static void
test_perf_fmt(void **state)
{
    (void)state;
    char b[32];
    cli_fmt_rate(0, b, sizeof(b));
    assert_string_equal(b, "0");
    cli_fmt_rate(12.54, b, sizeof(b));
    assert_string_equal(b, "12.5");
    cli_fmt_rate(99.94, b, sizeof(b));
    assert_string_equal(b, "99.9");
    cli_fmt_rate(1234.4, b, sizeof(b));
    assert_string_equal(b, "1234");
    cli_fmt_mibs(0, b, sizeof(b));
    assert_string_equal(b, "0.00");
    cli_fmt_mibs(1.5 * 1048576, b, sizeof(b));
    assert_string_equal(b, "1.50");
    cli_fmt_lat_ns(-1, b, sizeof(b));
    assert_string_equal(b, "-");
    cli_fmt_lat_ns(0, b, sizeof(b));
    assert_string_equal(b, "0ns");
    cli_fmt_lat_ns(999, b, sizeof(b));
    assert_string_equal(b, "999ns");
    cli_fmt_lat_ns(1000, b, sizeof(b));
    assert_string_equal(b, "1us");
    cli_fmt_lat_ns(999999, b, sizeof(b));
    assert_string_equal(b, "999us");
    cli_fmt_lat_ns(1250000, b, sizeof(b));
    assert_string_equal(b, "1.25ms");
    cli_fmt_lat_ns(2100000000, b, sizeof(b));
    assert_string_equal(b, "2.10s");
}

static void
test_log_perf_dispatch(void **state)
{
    (void)state;
    struct mem_ctx m;
    struct {
        int argc;
        char *argv[6];
        const char *why;
    } bad[] = {
        {2, {"log", "show"}, "missing"},
        {4, {"log", "show", "t1", "--lines"}, "--lines"},
        {4, {"log", "show", "t1", "--lines=0"}, "--lines"},
        {4, {"log", "show", "t1", "--lines=1000001"}, "--lines"},
        {5, {"log", "get", "t1", "a", "b"}, "too many arguments"},
        {4, {"log", "get", "cluster", "-"}, "directory"},
        {4, {"show", "performance", "--refresh", "99ms"}, "--refresh"},
        {4, {"show", "performance", "--refresh", "2h"}, "--refresh"},
        {4, {"show", "performance", "--count", "0"}, "--count"},
        {4, {"show", "perf", "--count", "x"}, "--count"},
        {3, {"show", "performance", "t1"}, "too many arguments"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int err = dispatch(&m, bad[i].argc, bad[i].argv);
        assert_int_equal(cli_exit_code(err), CLI_EXIT_USAGE);
        assert_non_null(strstr(m.ctx.conn.errmsg, bad[i].why));
        mem_ctx_fini(&m);
    }
    /* Valid lines reach the (unreachable) cluster. */
    char *ok[][6] = {{"log", "show", "t[t1]", "--lines", "5"},
                     {"show", "log", "t1", "--lines", "1000000"},
                     {"log", "get", "t1", "-", "--no-progress"},
                     {"show", "performance", "--refresh", "100ms", "--count=1"},
                     {"show", "perf", "--json", "--raw", "--count=2"}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int n = ok[i][4] != NULL ? 5 : 4;
        assert_int_equal(dispatch(&m, n, ok[i]), -ECONNREFUSED);
        mem_ctx_fini(&m);
    }
}

/* ---- dSort ---- */

/* A JobInfo of one target: phase flags as "RF" letters (running, finished) per phase. */
static json_t *
ds_info(const char *flags, const char *total, const char *extracted, const char *to_create,
        const char *created, bool aborted, const char *err)
{
    json_t *mt = json_pack("{s:b, s:[], s:[]}", "aborted", aborted, "warnings", "errors");
    static const char *const keys[] = {"local_extraction", "meta_sorting", "shard_creation"};
    for (int p = 0; p < 3; p++) {
        json_object_set_new(mt, keys[p],
                            json_pack("{s:b, s:b, s:i, s:s, s:s}", "running", flags[2 * p] == 'R',
                                      "finished", flags[2 * p + 1] == 'F', "elapsed", p + 1,
                                      "started_time", "2024-05-01T10:00:00Z", "end_time", ""));
    }
    json_t *le = json_object_get(mt, "local_extraction");
    json_t *sc = json_object_get(mt, "shard_creation");
    json_object_set_new(le, "total_count", json_string(total));
    json_object_set_new(le, "extracted_count", json_string(extracted));
    json_object_set_new(le, "extracted_record_count", json_string("7"));
    json_object_set_new(sc, "to_create", json_string(to_create));
    json_object_set_new(sc, "created_count", json_string(created));
    json_object_set_new(sc, "pulled_bytes", json_string("1024"));
    if (err != NULL) {
        json_array_append_new(json_object_get(mt, "errors"), json_string(err));
    }
    return json_pack("{s:s, s:b, s:o}", "id", "srt-x", "aborted", false, "Metrics", mt);
}

static void
test_ds_fold(void **state)
{
    (void)state;
    struct cli_ds_job j;
    /* t1 extracting (3 of 5), t2 done extracting and sorting: the job is in extraction. */
    json_t *m = json_pack("{s:o, s:o}", "t1", ds_info("R-----", "5", "3", "0", "0", false, NULL),
                          "t2", ds_info("-F-F--", "4", "4", "2", "0", false, NULL));
    json_object_set_new(
        json_object_get(json_object_get(json_object_get(m, "t2"), "Metrics"), "local_extraction"),
        "end_time", json_string("2024-05-01T10:00:01.5Z"));
    assert_int_equal(cli_ds_fold(m, &j), 0);
    assert_int_equal(j.elapsed_ms[CLI_DS_EXTRACT], 1500); /* the times, not whole seconds */
    assert_int_equal(j.state, CLI_JOB_RUNNING);
    assert_int_equal(j.phase, CLI_DS_EXTRACT);
    assert_int_equal(j.targets, 2);
    assert_int_equal(j.total, 9);
    assert_int_equal(j.extracted, 7);
    assert_int_equal(j.records, 14);
    assert_int_equal(j.to_create, 2);
    assert_int_equal(j.pulled_bytes, 2048);
    assert_int_equal(j.running[CLI_DS_EXTRACT], 1);
    assert_int_equal(j.finished[CLI_DS_EXTRACT], 1);
    assert_int_equal(j.elapsed_ms[CLI_DS_CREATE], 3000); /* no end time: "elapsed" */
    json_decref(m);
    /* Both past sorting, one still creating: creation, running. */
    m = json_pack("{s:o, s:o}", "t1", ds_info("-F-FR-", "5", "5", "3", "1", false, NULL), "t2",
                  ds_info("-F-F-F", "4", "4", "2", "2", false, NULL));
    assert_int_equal(cli_ds_fold(m, &j), 0);
    assert_int_equal(j.state, CLI_JOB_RUNNING);
    assert_int_equal(j.phase, CLI_DS_CREATE);
    assert_int_equal(j.created, 3);
    json_decref(m);
    /* Every target finished creating: finished. */
    m = json_pack("{s:o}", "t1", ds_info("-F-F-F", "5", "5", "3", "3", false, NULL));
    assert_int_equal(cli_ds_fold(m, &j), 0);
    assert_int_equal(j.state, CLI_JOB_FINISHED);
    assert_int_equal(j.phase, CLI_DS_CREATE);
    assert_string_equal(j.err, "");
    json_decref(m);
    /* An error anywhere ends the job; an abort outranks it and keeps the error's text. */
    m = json_pack("{s:o, s:o}", "t1", ds_info("R-----", "5", "1", "0", "0", false, NULL), "t2",
                  ds_info("-F----", "5", "5", "0", "0", false, "disk full"));
    assert_int_equal(cli_ds_fold(m, &j), 0);
    assert_int_equal(j.state, CLI_JOB_ERROR);
    assert_int_equal(j.nerrors, 1);
    assert_string_equal(j.err, "t[t2]: disk full");
    json_object_set_new(json_object_get(json_object_get(m, "t1"), "Metrics"), "aborted",
                        json_true());
    assert_int_equal(cli_ds_fold(m, &j), 0);
    assert_int_equal(j.state, CLI_JOB_ABORTED);
    assert_string_equal(j.err, "t[t2]: disk full");
    json_decref(m);
    /* Not a map of JobInfos: refused, *out untouched. */
    j.targets = 99;
    json_t *bad[] = {json_array(), json_object(), json_pack("{s:i}", "t1", 1),
                     json_pack("{s:{s:s}}", "t1", "Metrics", "x")};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cli_ds_fold(bad[i], &j), -EINVAL);
        json_decref(bad[i]);
    }
    assert_int_equal(j.targets, 99);
    assert_null(NULL);
    assert_true(cli_ds_is_id("srt-Ab3dE5fG7h"));
    assert_false(cli_ds_is_id("srt-"));
    assert_false(cli_ds_is_id("Ab3dE5fG7h"));
    assert_false(cli_ds_is_id(NULL));
    assert_string_equal(cli_ds_phase_name(CLI_DS_SORT), "sorting");
    assert_string_equal(cli_ds_phase_name(CLI_DS_PHASES), "?");
}

static void
test_ds_progress(void **state)
{
    (void)state;
    struct cli_ds_job j;
    char line[256];
    memset(&j, 0, sizeof(j));
    j.targets = 2;
    j.total = 10;
    j.extracted = 5;
    j.to_create = 4;
    j.created = 9; /* counters past the total are clamped */
    cli_ds_progress_render(line, sizeof(line), "srt-1", &j, CLI_DS_EXTRACT, 0, 80);
    assert_string_equal(line, "dsort[srt-1] extraction [==================>                 ] "
                              " 50%  5/10 shards");
    assert_int_equal(strlen(line), 80);
    cli_ds_progress_render(line, sizeof(line), "srt-1", &j, CLI_DS_CREATE, 0, 40);
    assert_string_equal(line, "dsort[srt-1] creation   [==========] 100%  4/4 shards");
    cli_ds_progress_render(line, sizeof(line), "srt-1", &j, CLI_DS_SORT, 1, 80);
    assert_string_equal(line, "dsort[srt-1] sorting    [/]");
    j.finished[CLI_DS_SORT] = 2;
    cli_ds_progress_render(line, sizeof(line), "srt-1", &j, CLI_DS_SORT, 1, 80);
    assert_string_equal(line, "dsort[srt-1] sorting    [*]  done");
    j.to_create = 0; /* not planned yet: a spinner */
    cli_ds_progress_render(line, sizeof(line), "srt-1", &j, CLI_DS_CREATE, 2, 80);
    assert_string_equal(line, "dsort[srt-1] creation   [-]");
}

static void
test_ds_spec(void **state)
{
    (void)state;
    json_t *spec = NULL;
    char err[256];
    const char *ok = "{\"input_bck\":{\"name\":\"a\"},\"input_extension\":\".tar\"}";
    assert_int_equal(cli_ds_spec_parse(ok, strlen(ok), &spec, err, sizeof(err)), 0);
    assert_int_equal(cli_ds_spec_buckets(spec, NULL, NULL, err, sizeof(err)), 0);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(spec, "input_bck"), "name")), "a");
    assert_int_equal(cli_ds_spec_buckets(spec, "ais://src", "s3://dst", err, sizeof(err)), 0);
    char *txt = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(txt, "{\"input_bck\":{\"name\":\"src\",\"provider\":\"ais\"},"
                             "\"input_extension\":\".tar\","
                             "\"output_bck\":{\"name\":\"dst\",\"provider\":\"aws\"}}");
    free(txt);
    /* A plain name is an ais bucket; only DST given leaves input_bck alone. */
    assert_int_equal(cli_ds_spec_buckets(spec, NULL, "out", err, sizeof(err)), 0);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(spec, "output_bck"), "provider")), "ais");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(spec, "input_bck"), "name")), "src");
    assert_int_equal(cli_ds_spec_buckets(spec, "ais://src/obj", NULL, err, sizeof(err)),
                     CLI_EUSAGE);
    assert_non_null(strstr(err, "not an object"));
    assert_int_equal(cli_ds_spec_buckets(spec, "ais://", NULL, err, sizeof(err)), AIS_EBADNAME);
    assert_non_null(strstr(err, "invalid bucket"));
    /* "ais://src/" is the bucket itself. */
    assert_int_equal(cli_ds_spec_buckets(spec, "ais://src/", NULL, err, sizeof(err)), 0);
    json_decref(spec);
    const char *bad[] = {"", "{", "[1]", "\"x\"", "input_bck: {name: a}", "{\"a\":1,\"a\":2}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        spec = NULL;
        assert_int_equal(cli_ds_spec_parse(bad[i], strlen(bad[i]), &spec, err, sizeof(err)),
                         CLI_EUSAGE);
        assert_null(spec);
        assert_true(strlen(err) > 0);
    }
}

static void
test_ds_gen_helpers(void **state)
{
    (void)state;
    assert_string_equal(cli_ds_shard_ext("shard-{0..9}.tar"), ".tar");
    assert_string_equal(cli_ds_shard_ext("a.tar.gz"), ".tar.gz");
    assert_string_equal(cli_ds_shard_ext("a.tgz"), ".tgz");
    assert_string_equal(cli_ds_shard_ext("a.zip"), ".zip");
    assert_string_equal(cli_ds_shard_ext("a.tar.lz4"), ".tar.lz4");
    assert_null(cli_ds_shard_ext(".tar"));
    assert_null(cli_ds_shard_ext("dir/.tar"));
    assert_null(cli_ds_shard_ext("a.rar"));
    assert_null(cli_ds_shard_ext("a.tar.bz2"));

    char buf[400];
    const char *exts[CLI_DS_GEN_EXTS_MAX];
    size_t n = 0;
    assert_int_equal(cli_ds_exts_parse(".jpg,.cls", buf, sizeof(buf), exts, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(exts[0], ".jpg");
    assert_string_equal(exts[1], ".cls");
    /* 16 extensions of 16 bytes fit; a 17th, or 17 bytes, do not. */
    char many[400] = "";
    for (int i = 0; i < CLI_DS_GEN_EXTS_MAX; i++) {
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s.e%014d", i ? "," : "", i);
    }
    assert_int_equal(cli_ds_exts_parse(many, buf, sizeof(buf), exts, &n), 0);
    assert_int_equal(n, CLI_DS_GEN_EXTS_MAX);
    assert_int_equal(strlen(exts[15]), CLI_DS_GEN_EXT_BYTES_MAX);
    strcat(many, ",.x");
    assert_int_equal(cli_ds_exts_parse(many, buf, sizeof(buf), exts, &n), CLI_EUSAGE);
    const char *bad[] = {"",  "jpg",       ".jpg,", ".jpg,,.cls",
                         ".", ".jpg,.jpg", ".a/b",  ".abcdefghijklmnop"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cli_ds_exts_parse(bad[i], buf, sizeof(buf), exts, &n), CLI_EUSAGE);
    }
    assert_int_equal(cli_ds_exts_parse(".jpg", buf, 4, exts, &n), CLI_EUSAGE);

    /* Keys are a permutation of 0..total-1, out of order within the first shard. */
    uint64_t totals[] = {1, 2, 3, 10, 100, 7919, 7921, 15838, 1000};
    for (size_t t = 0; t < sizeof(totals) / sizeof(totals[0]); t++) {
        for (uint64_t seed = 0; seed < 3; seed++) {
            uint64_t total = totals[t], mul = cli_ds_gen_mul(total, seed);
            uint8_t *seen = calloc(total, 1);
            bool sorted = true;
            for (uint64_t i = 0; i < total; i++) {
                uint64_t k = cli_ds_gen_key(i, mul, seed, total);
                assert_true(k < total);
                assert_int_equal(seen[k], 0);
                seen[k] = 1;
                sorted =
                    sorted && (i == 0 || i >= 10 || k > cli_ds_gen_key(i - 1, mul, seed, total));
            }
            assert_true(total <= 2 || !sorted);
            free(seen);
        }
    }
    assert_int_equal(cli_ds_gen_key(5, 3, 1, 0), 0);
    /* The largest dataset: the product stays within 64 bits. */
    uint64_t big = (uint64_t)CLI_DS_GEN_SHARDS_MAX * CLI_DS_GEN_RECORDS_MAX;
    uint64_t mul = cli_ds_gen_mul(big, 999);
    assert_true(cli_ds_gen_key(big - 1, mul, 999, big) < big);
    assert_true(mul < big);
    assert_int_equal(cli_ds_gen_key(big - 1, mul, 0, big),
                     (uint64_t)(((unsigned __int128)(big - 1) * mul) % big));
    assert_int_equal(cli_ds_gen_mul(1, 0), 1);
    assert_int_equal(cli_ds_gen_mul(3, 0), 2);
}

static void
test_ds_dispatch(void **state)
{
    (void)state;
    struct mem_ctx m;
    struct {
        int argc;
        char *argv[7];
        const char *why;
    } bad[] = {
        {2, {"dsort", "start"}, "usage"},
        {3, {"dsort", "start", "{not json"}, "(inline)"},
        {3, {"start", "dsort", " {\"a\":"}, "(inline)"},
        {5, {"dsort", "start", "{}", "--timeout", "5m"}, "--wait"},
        {4, {"dsort", "start", "{}", "ais://b/o"}, "not an object"},
        {6, {"dsort", "start", "{}", "a", "b", "c"}, "usage"},
        {6, {"dsort", "start", "{}", "--wait", "--timeout", "0s"}, "--timeout"},
        {3, {"dsort", "gen", "ais://b"}, "BUCKET/TEMPLATE.EXT"},
        {3, {"dsort", "gen", "ais://b/x.rar"}, "BUCKET/TEMPLATE.EXT"},
        {3, {"dsort", "gen", "ais://b/x-{1..}.tar"}, "invalid template"},
        {3, {"dsort", "gen", "ais://b/x-{0..100000}.tar"}, "at most"},
        {5, {"dsort", "gen", "ais://b/x.tar", "--records", "0"}, "--records"},
        {5, {"dsort", "gen", "ais://b/x.tar", "--records", "1000001"}, "--records"},
        {5, {"dsort", "gen", "ais://b/x.tar", "--record-size", "33MiB"}, "--record-size"},
        {5, {"dsort", "gen", "ais://b/x.tar", "--exts", "jpg"}, "--exts"},
        {5, {"dsort", "gen", "ais://b/x.tar", "--seed", "-1"}, "--seed"},
        {5, {"wait", "dsort", "srt-1", "--timeout", "8d"}, "--timeout"},
        {2, {"dsort", "wait"}, "missing"},
        {5, {"job", "wait", "srt-1", "--timeout", "x"}, "--timeout"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int err = dispatch(&m, bad[i].argc, bad[i].argv);
        if (cli_exit_code(err) != CLI_EXIT_USAGE || !strstr(m.ctx.conn.errmsg, bad[i].why)) {
            fprintf(stderr, "case %zu: err %d: %s\n", i, err, m.ctx.conn.errmsg);
        }
        assert_int_equal(cli_exit_code(err), CLI_EXIT_USAGE);
        assert_non_null(strstr(m.ctx.conn.errmsg, bad[i].why));
        mem_ctx_fini(&m);
    }
    /* A spec file that does not exist: exit 3, like any missing local file. */
    char *nofile[] = {"dsort", "start", "/nonexistent/spec.json"};
    assert_int_equal(dispatch(&m, 3, nofile), -ENOENT);
    assert_non_null(strstr(m.ctx.conn.errmsg, "cannot read dsort spec /nonexistent/spec.json"));
    mem_ctx_fini(&m);
    /* Valid lines reach the (unreachable) cluster; srt- ids go to /v1/sort. */
    char *ok[][7] = {{"dsort", "start", "{}", "ais://src", "ais://dst"},
                     {"start", "dsort", " {\"input_bck\":{\"name\":\"a\"}}", "--wait"},
                     {"show", "job", "dsort"},
                     {"job", "show", "dsort", "srt-1", "--json"},
                     {"stop", "dsort", "srt-1"},
                     {"job", "stop", "srt-1"},
                     {"stop", "srt-1"},
                     {"job", "rm", "dsort", "srt-1"},
                     {"wait", "srt-1", "--timeout", "1s"},
                     {"dsort", "gen", "ais://b/s-{0..2}.tgz", "--records", "1"}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int n = 0;
        while (n < 7 && ok[i][n] != NULL) {
            n++;
        }
        assert_int_equal(dispatch(&m, n, ok[i]), -ECONNREFUSED);
        mem_ctx_fini(&m);
    }
    /* Help names the flags of gen. */
    char *help[] = {"dsort", "gen", "--help"};
    assert_int_equal(dispatch(&m, 3, help), 0);
    assert_non_null(strstr(m.out, "--record-size SIZE"));
    assert_non_null(strstr(m.out, "--exts EXTS"));
    mem_ctx_fini(&m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_valid),
        cmocka_unit_test(test_args_invalid),
        cmocka_unit_test(test_parse_uint),
        cmocka_unit_test(test_bck_parse),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_progress_render),
        cmocka_unit_test(test_progress_thread),
        cmocka_unit_test(test_json_big_ints),
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_complete),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_jobs_fold),
        cmocka_unit_test(test_job_progress_render),
        cmocka_unit_test(test_job_dispatch),
        cmocka_unit_test(test_job_complete),
        cmocka_unit_test(test_remote_sel),
        cmocka_unit_test(test_remote_bodies),
        cmocka_unit_test(test_failed_parse),
        cmocka_unit_test(test_remote_dispatch),
        cmocka_unit_test(test_remote_complete),
        cmocka_unit_test(test_dl_template),
        cmocka_unit_test(test_dl_list_parse),
        cmocka_unit_test(test_dl_body_http),
        cmocka_unit_test(test_dl_body_multi_backend),
        cmocka_unit_test(test_dl_body_invalid),
        cmocka_unit_test(test_dl_urls),
        cmocka_unit_test(test_dl_job_parse),
        cmocka_unit_test(test_dl_dispatch),
        cmocka_unit_test(test_dl_complete),
        cmocka_unit_test(test_path_abs),
        cmocka_unit_test(test_promote_parse),
        cmocka_unit_test(test_node_id_tail),
        cmocka_unit_test(test_perf_compute),
        cmocka_unit_test(test_perf_fmt),
        cmocka_unit_test(test_log_perf_dispatch),
        cmocka_unit_test(test_ds_fold),
        cmocka_unit_test(test_ds_progress),
        cmocka_unit_test(test_ds_spec),
        cmocka_unit_test(test_ds_gen_helpers),
        cmocka_unit_test(test_ds_dispatch),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
