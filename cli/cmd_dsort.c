/*
 * Design notes: `ais dsort ...` - start, show, wait for, stop and remove dSort jobs over
 * /v1/sort (api.md §6.2), and `ais dsort gen`, which makes a test dataset of shards. A job's
 * state is folded from every target's JobInfo: failed when any target reports an error,
 * aborted when any was aborted, finished when every target finished creating its shards;
 * progress counts shards extracted then created, summed over the targets.
 */
#include "cli/cli_int.h"
#include "common/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DS_POLL_MS 250
#define DS_SPEC_BYTES_MAX (1u << 20)
#define DS_GEN_SHARDS_MAX 100000u
#define DS_GEN_RECORDS_MAX 1000000u

struct ds_fold {
    int targets, finished, aborted, errors;
    uint64_t total, extracted, to_create, created, pulled;
    const char *phase; /* running phase name or "" */
    const char *err;   /* the first error (borrowed from the metrics) or NULL */
};

static uint64_t
u64_of(const json_t *o, const char *k)
{
    uint64_t v = 0;
    (void)cli_json_u64(json_object_get(o, k), &v);
    return v;
}

/* Folds {"<target>": JobInfo} into f (strings borrowed from m). */
static void
ds_fold(const json_t *m, struct ds_fold *f)
{
    memset(f, 0, sizeof(*f));
    f->phase = "";
    const char *tid;
    const json_t *ji;
    json_object_foreach((json_t *)m, tid, ji)
    {
        const json_t *mt = json_object_get(ji, "Metrics");
        const json_t *le = json_object_get(mt, "local_extraction");
        const json_t *ms = json_object_get(mt, "meta_sorting");
        const json_t *sc = json_object_get(mt, "shard_creation");
        const json_t *errs = json_object_get(mt, "errors");
        f->targets++;
        f->finished += json_is_true(json_object_get(sc, "finished"));
        f->aborted += json_is_true(json_object_get(mt, "aborted"));
        f->errors += json_array_size(errs) > 0;
        if (f->err == NULL && json_array_size(errs) > 0) {
            f->err = json_string_value(json_array_get(errs, 0));
        }
        f->total += u64_of(le, "total_count");
        f->extracted += u64_of(le, "extracted_count");
        f->to_create += u64_of(sc, "to_create");
        f->created += u64_of(sc, "created_count");
        f->pulled += u64_of(sc, "pulled_bytes");
        if (f->phase[0] == '\0') {
            f->phase = json_is_true(json_object_get(le, "running"))   ? "extraction"
                       : json_is_true(json_object_get(ms, "running")) ? "sorting"
                       : json_is_true(json_object_get(sc, "running")) ? "creation"
                                                                      : "";
        }
    }
}

static const char *
ds_state(const struct ds_fold *f)
{
    return f->errors                                     ? "error"
           : f->aborted                                  ? "aborted"
           : f->targets > 0 && f->finished == f->targets ? "finished"
                                                         : "running";
}

static int
ds_metrics(struct cli_ctx *ctx, const char *id, json_t **out)
{
    struct ais_buf q;
    ais_buf_init(&q, 256);
    int err = ais_buf_append(&q, "uuid=", 5);
    err = err ? err : cli_url_escape(&q, id, false);
    err = err ? err : cli_http_json(ctx, "GET", "/v1/sort", q.data, NULL, out);
    ais_buf_fini(&q);
    if (err == -ENOENT) {
        cli_errorf(ctx, "dsort job %s does not exist", id);
    }
    return err;
}

/* Polls until the job ends or timeout_ms; 0 (finished), CLI_EJOBFAIL, CLI_EWAITTIMEOUT. */
static int
ds_wait(struct cli_ctx *ctx, const char *id, int64_t timeout_ms)
{
    int64_t t0 = ais_mono_ns() / 1000000, deadline = t0 + timeout_ms;
    bool draw = cli_progress_wanted(ctx);
    for (;;) {
        json_t *m = NULL;
        int err = ds_metrics(ctx, id, &m);
        if (err != 0) {
            return err;
        }
        struct ds_fold f;
        ds_fold(m, &f);
        const char *st = ds_state(&f);
        if (draw) {
            char line[256], label[96];
            bool create = strcmp(f.phase, "creation") == 0 || strcmp(st, "finished") == 0;
            snprintf(label, sizeof(label), "dsort %s %s", id, f.phase[0] ? f.phase : st);
            cli_progress_render(line, sizeof(line), label, create ? f.created : f.extracted,
                                create ? f.to_create : f.total, 0, 0, ais_mono_ns() / 1000000 - t0,
                                100);
            fprintf(ctx->err, "\r%s", line);
            fflush(ctx->err);
        }
        if (strcmp(st, "running") != 0) {
            if (draw) {
                fputc('\n', ctx->err);
            }
            if (strcmp(st, "finished") == 0) {
                fprintf(ctx->out, "dsort job %s finished: %" PRIu64 " shards created\n", id,
                        f.created);
                json_decref(m);
                return 0;
            }
            cli_errorf(ctx, "dsort job %s %s%s%s", id, st, f.err ? ": " : "", f.err ? f.err : "");
            json_decref(m);
            return CLI_EJOBFAIL;
        }
        json_decref(m);
        if (ais_mono_ns() / 1000000 > deadline) {
            if (draw) {
                fputc('\n', ctx->err);
            }
            cli_errorf(ctx, "dsort job %s is still running (timed out waiting)", id);
            return CLI_EWAITTIMEOUT;
        }
        struct timespec ts = {0, DS_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static int
wait_timeout(struct cli_ctx *ctx, const struct cli_args *a, int64_t *out)
{
    *out = CLI_JOB_WAIT_MS_MAX;
    const char *v = a->val[CLI_F_TIMEOUT];
    if (cli_flag_on(a, CLI_F_TIMEOUT) &&
        (ais_duration_parse_ms(v, out) < 0 || *out <= 0 || *out > CLI_JOB_WAIT_MS_MAX)) {
        cli_errorf(ctx, "invalid --timeout \"%s\": a duration such as 90s, 5m or 2h", v);
        return CLI_EUSAGE;
    }
    return 0;
}

/* The spec from an argument: inline JSON, a file, or - (stdin). */
static json_t *
spec_load(struct cli_ctx *ctx, const char *arg)
{
    json_error_t e;
    json_t *j = NULL;
    if (arg[0] == '{') {
        j = json_loads(arg, 0, &e);
    } else if (strcmp(arg, "-") == 0) {
        j = json_loadf(ctx->in, 0, &e);
    } else {
        j = json_load_file(arg, 0, &e);
    }
    if (j == NULL || !json_is_object(j)) {
        cli_errorf(ctx, "dsort spec %s: %s", arg[0] == '{' ? "(inline)" : arg,
                   j ? "not a JSON object" : e.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

/* A positional bucket overriding a spec key. 0 or CLI_EUSAGE. */
static int
spec_bck(struct cli_ctx *ctx, json_t *spec, const char *key, const char *arg)
{
    struct cli_bck b;
    const char *why = NULL;
    if (cli_bck_parse(arg, &b, &why) != 0 || b.obj != NULL) {
        cli_errorf(ctx, "invalid bucket \"%s\": %s", arg, why ? why : "names an object");
        return CLI_EUSAGE;
    }
    json_object_set_new(spec, key, json_pack("{ssss}", "name", b.name, "provider", b.provider));
    return 0;
}

int
cli_cmd_dsort_start(struct cli_ctx *ctx, const struct cli_args *a)
{
    bool from_flag = cli_flag_on(a, CLI_F_SPEC);
    int first_bck = from_flag ? 0 : 1;
    if ((!from_flag && a->npos == 0) || a->npos > first_bck + 2) {
        cli_errorf(ctx, "usage: ais dsort start SPEC.json|-|'{...}' [SRC_BUCKET [DST_BUCKET]] (or "
                        "--spec FILE [SRC_BUCKET [DST_BUCKET]])");
        return CLI_EUSAGE;
    }
    json_t *spec = spec_load(ctx, from_flag ? a->val[CLI_F_SPEC] : a->pos[0]);
    int64_t timeout_ms;
    int err = spec ? wait_timeout(ctx, a, &timeout_ms) : CLI_EUSAGE;
    if (err == 0 && a->npos > first_bck) {
        err = spec_bck(ctx, spec, "input_bck", a->pos[first_bck]);
    }
    if (err == 0 && a->npos > first_bck + 1) {
        err = spec_bck(ctx, spec, "output_bck", a->pos[first_bck + 1]);
    }
    char *body = err == 0 ? json_dumps(spec, JSON_COMPACT) : NULL;
    json_decref(spec);
    if (err != 0) {
        return err;
    }
    struct cli_req rq = {.method = "POST",
                         .path = "/v1/sort",
                         .body = body,
                         .body_len = body ? strlen(body) : 0,
                         .timeout_ms = ctx->conn.ctrl_timeout_ms};
    struct cli_resp resp;
    cli_resp_init(&resp);
    err = body ? cli_http_do(&ctx->conn, &rq, &resp) : -ENOMEM;
    free(body);
    char id[64] = "";
    if (err == 0) {
        snprintf(id, sizeof(id), "%.*s", (int)(resp.body.len < 63 ? resp.body.len : 63),
                 resp.body.data ? resp.body.data : "");
    }
    cli_resp_fini(&resp);
    if (err != 0) {
        return err; /* cli_http_do wrote the cluster's message */
    }
    if (!cli_flag_on(a, CLI_F_WAIT)) {
        fprintf(ctx->out, "%s\n", id);
        return 0;
    }
    fprintf(ctx->err, "Started dsort job %s\n", id);
    return ds_wait(ctx, id, timeout_ms);
}

static void
phase_line(struct cli_ctx *ctx, const char *name, const json_t *m, const char *phase,
           const char *done_k, const char *total_k)
{
    uint64_t done = 0, total = 0;
    int running = 0, finished = 0, n = 0;
    const char *tid;
    const json_t *ji;
    json_object_foreach((json_t *)m, tid, ji)
    {
        const json_t *p = json_object_get(json_object_get(ji, "Metrics"), phase);
        n++;
        running += json_is_true(json_object_get(p, "running"));
        finished += json_is_true(json_object_get(p, "finished"));
        done += done_k ? u64_of(p, done_k) : 0;
        total += total_k ? u64_of(p, total_k) : 0;
    }
    const char *st = finished == n ? "done" : running ? "running" : finished ? "partly done" : "-";
    if (done_k) {
        fprintf(ctx->out, "%-11s %-8s %" PRIu64 "/%" PRIu64 " shards\n", name, st, done, total);
    } else {
        fprintf(ctx->out, "%-11s %s\n", name, st);
    }
}

static int
show_one(struct cli_ctx *ctx, const char *id)
{
    json_t *m = NULL;
    int err = ds_metrics(ctx, id, &m);
    if (err != 0) {
        return err;
    }
    if (ctx->json) {
        cli_print_json(ctx, m);
        json_decref(m);
        return 0;
    }
    struct ds_fold f;
    ds_fold(m, &f);
    char pulled[32];
    cli_fmt_size(f.pulled, pulled, sizeof(pulled));
    fprintf(ctx->out, "dsort job %s: %s (%d targets, %s moved between targets)\n", id, ds_state(&f),
            f.targets, pulled);
    phase_line(ctx, "extraction", m, "local_extraction", "extracted_count", "total_count");
    phase_line(ctx, "sorting", m, "meta_sorting", NULL, NULL);
    phase_line(ctx, "creation", m, "shard_creation", "created_count", "to_create");
    const char *tid;
    const json_t *ji;
    json_object_foreach(m, tid, ji)
    {
        const json_t *mt = json_object_get(ji, "Metrics");
        size_t i;
        const json_t *e;
        json_array_foreach(json_object_get(mt, "errors"), i, e)
        {
            fprintf(ctx->out, "error   %s: %s\n", tid, json_string_value(e));
        }
        json_array_foreach(json_object_get(mt, "warnings"), i, e)
        {
            fprintf(ctx->out, "warning %s: %s\n", tid, json_string_value(e));
        }
    }
    json_decref(m);
    return 0;
}

static int
show_all(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct ais_buf q;
    ais_buf_init(&q, 4096);
    int err = 0;
    if (cli_flag_on(a, CLI_F_REGEX)) {
        err = ais_buf_append(&q, "regex=", 6);
        err = err ? err : cli_url_escape(&q, a->val[CLI_F_REGEX], false);
    }
    json_t *arr = NULL;
    err = err ? err : cli_http_json(ctx, "GET", "/v1/sort", q.len ? q.data : NULL, NULL, &arr);
    ais_buf_fini(&q);
    if (err != 0) {
        return err;
    }
    if (ctx->json) {
        cli_print_json(ctx, arr);
        json_decref(arr);
        return 0;
    }
    static const char *const hdrs[] = {"JOB ID", "STATUS", "START", "END", "DESCRIPTION"};
    struct cli_table t;
    cli_table_init(&t, 5, hdrs);
    size_t i;
    const json_t *ji;
    json_array_foreach(arr, i, ji)
    {
        const json_t *mt = json_object_get(ji, "Metrics");
        const char *st = json_array_size(json_object_get(mt, "errors"))  ? "error"
                         : json_is_true(json_object_get(ji, "aborted"))  ? "aborted"
                         : json_is_true(json_object_get(ji, "archived")) ? "finished"
                                                                         : "running";
        const char *end = json_string_value(json_object_get(ji, "finish_time"));
        const char *cells[5] = {json_string_value(json_object_get(ji, "id")), st,
                                json_string_value(json_object_get(ji, "started_time")),
                                end && strncmp(end, "0001-", 5) != 0 ? end : "-",
                                json_string_value(json_object_get(ji, "description"))};
        for (int k = 0; k < 5; k++) {
            cells[k] = cells[k] && cells[k][0] ? cells[k] : "-";
        }
        if (cli_table_add(&t, cells) != 0) {
            err = -ENOMEM;
            break;
        }
    }
    if (err == 0) {
        cli_table_print(&t, ctx->out, !ctx->no_headers);
    }
    cli_table_fini(&t);
    json_decref(arr);
    return err;
}

int
cli_cmd_dsort_show(struct cli_ctx *ctx, const struct cli_args *a)
{
    return a->npos > 0 ? show_one(ctx, a->pos[0]) : show_all(ctx, a);
}

static int
ds_delete(struct cli_ctx *ctx, const char *path, const char *id)
{
    struct ais_buf q;
    ais_buf_init(&q, 256);
    int err = ais_buf_append(&q, "uuid=", 5);
    err = err ? err : cli_url_escape(&q, id, false);
    err = err ? err : cli_http_json(ctx, "DELETE", path, q.data, NULL, NULL);
    ais_buf_fini(&q);
    if (err == -ENOENT) {
        cli_errorf(ctx, "dsort job %s does not exist", id);
    }
    return err;
}

int
cli_cmd_dsort_stop(struct cli_ctx *ctx, const struct cli_args *a)
{
    int err = ds_delete(ctx, "/v1/sort/abort", a->pos[0]);
    if (err == 0) {
        fprintf(ctx->out, "Aborted dsort job %s\n", a->pos[0]);
    }
    return err;
}

int
cli_cmd_dsort_rm(struct cli_ctx *ctx, const struct cli_args *a)
{
    int err = ds_delete(ctx, "/v1/sort", a->pos[0]);
    if (err == 0) {
        fprintf(ctx->out, "Removed dsort job %s\n", a->pos[0]);
    }
    return err;
}

int
cli_cmd_dsort_wait(struct cli_ctx *ctx, const struct cli_args *a)
{
    int64_t timeout_ms;
    int err = wait_timeout(ctx, a, &timeout_ms);
    return err ? err : ds_wait(ctx, a->pos[0], timeout_ms);
}

/* ---- gen ---- */

struct gen {
    uint64_t nrec, rec_bytes, seed, total, mul;
    const char *exts[16];
    size_t nexts;
    char *extbuf;
    uint64_t rng;
};

static uint64_t
gen_rand(struct gen *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

static uint64_t
gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Writes one shard (records [first, first + nrec) of the permuted numbering) to fd. */
static int
gen_shard(struct gen *g, const char *ext, int fd, uint64_t first, char *buf)
{
    struct archive *a = archive_write_new();
    int rc = a ? 0 : -ENOMEM;
    if (rc == 0) {
        rc = strcmp(ext, ".zip") == 0 ? archive_write_set_format_zip(a)
                                      : archive_write_set_format_pax_restricted(a);
    }
    if (rc == 0 && (strcmp(ext, ".tgz") == 0 || strcmp(ext, ".tar.gz") == 0)) {
        rc = archive_write_add_filter_gzip(a);
    } else if (rc == 0 && strcmp(ext, ".tar.lz4") == 0) {
        rc = archive_write_add_filter_lz4(a);
    }
    rc = rc == 0 && archive_write_open_fd(a, fd) == ARCHIVE_OK ? 0 : -EIO;
    for (uint64_t r = 0; rc == 0 && r < g->nrec; r++) {
        uint64_t key = ((first + r) * g->mul + g->seed) % g->total;
        for (size_t e = 0; rc == 0 && e < g->nexts; e++) {
            char name[96];
            size_t len;
            snprintf(name, sizeof(name), "rec-%08" PRIu64 "%s", key, g->exts[e]);
            if (strcmp(g->exts[e], ".cls") == 0) {
                len = (size_t)snprintf(buf, 32, "%" PRIu64 "\n", gen_rand(g) % 1000);
            } else {
                len = (size_t)g->rec_bytes;
                for (size_t i = 0; i < len; i += 8) {
                    uint64_t v = gen_rand(g);
                    memcpy(buf + i, &v, len - i < 8 ? len - i : 8);
                }
            }
            struct archive_entry *en = archive_entry_new();
            archive_entry_set_pathname(en, name);
            archive_entry_set_size(en, (la_int64_t)len);
            archive_entry_set_filetype(en, AE_IFREG);
            archive_entry_set_perm(en, 0644);
            archive_entry_set_mtime(en, time(NULL), 0);
            rc = archive_write_header(a, en) == ARCHIVE_OK &&
                         archive_write_data(a, buf, len) == (la_ssize_t)len
                     ? 0
                     : -EIO;
            archive_entry_free(en);
        }
    }
    if (a && archive_write_close(a) != ARCHIVE_OK && rc == 0) {
        rc = -EIO;
    }
    archive_write_free(a);
    return rc;
}

static const char *
shard_ext(const char *name)
{
    static const char *const exts[] = {".tar.gz", ".tar.lz4", ".tgz", ".zip", ".tar"};
    size_t l = strlen(name);
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t el = strlen(exts[i]);
        if (l > el && strcmp(name + l - el, exts[i]) == 0) {
            return exts[i];
        }
    }
    return NULL;
}

static int
gen_opts(struct cli_ctx *ctx, const struct cli_args *a, struct gen *g)
{
    memset(g, 0, sizeof(*g));
    g->nrec = 100;
    g->rec_bytes = 10 << 10;
    g->seed = 1;
    const char *exts = cli_flag_on(a, CLI_F_EXTS) ? a->val[CLI_F_EXTS] : ".jpg,.cls";
    if ((cli_flag_on(a, CLI_F_RECORDS) &&
         (cli_parse_uint(a->val[CLI_F_RECORDS], DS_GEN_RECORDS_MAX, &g->nrec) != 0 || !g->nrec)) ||
        (cli_flag_on(a, CLI_F_RECORD_SIZE) &&
         (cli_parse_size(a->val[CLI_F_RECORD_SIZE], &g->rec_bytes) != 0 ||
          g->rec_bytes > (64u << 20))) ||
        (cli_flag_on(a, CLI_F_SEED) && cli_parse_uint(a->val[CLI_F_SEED], UINT32_MAX, &g->seed))) {
        cli_errorf(ctx, "invalid --records (1..%u), --record-size (at most 64MiB) or --seed",
                   DS_GEN_RECORDS_MAX);
        return CLI_EUSAGE;
    }
    g->extbuf = strdup(exts);
    for (char *s = g->extbuf, *tok; s && (tok = strsep(&s, ",")) != NULL;) {
        if (tok[0] != '.' || strlen(tok) > 16 || g->nexts == 16) {
            cli_errorf(ctx, "invalid --exts \"%s\": up to 16 extensions like .jpg,.cls", exts);
            return CLI_EUSAGE;
        }
        g->exts[g->nexts++] = tok;
    }
    g->rng = g->seed * 0x9E3779B97F4A7C15ull + 1;
    return g->extbuf ? 0 : -ENOMEM;
}

int
cli_cmd_dsort_gen(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_bck b;
    const char *why = NULL;
    if (cli_bck_parse(a->pos[0], &b, &why) != 0 || b.obj == NULL || shard_ext(b.obj) == NULL) {
        cli_errorf(ctx,
                   "expected BUCKET/TEMPLATE.EXT (e.g. ais://src/shard-{0..9}.tar; .tar, "
                   ".tgz, .tar.gz, .zip, .tar.lz4): %s",
                   why ? why : a->pos[0]);
        return CLI_EUSAGE;
    }
    struct gen g;
    int err = gen_opts(ctx, a, &g);
    json_t *names = err == 0 ? json_array() : NULL;
    err = err ? err : names ? cli_tmpl_expand(b.obj, names, DS_GEN_SHARDS_MAX) : -ENOMEM;
    if (err == CLI_EUSAGE || err == -E2BIG) {
        cli_errorf(ctx, "bad template \"%s\" (at most %u shards)", b.obj, DS_GEN_SHARDS_MAX);
        err = CLI_EUSAGE;
    }
    g.total = err == 0 ? json_array_size(names) * g.nrec : 1;
    for (g.mul = 7919; gcd(g.mul, g.total) != 1; g.mul++) {
    }
    if (err == 0) {
        json_t *msg = cli_actmsg("create-bck", NULL);
        struct ais_buf p;
        ais_buf_init(&p, 512);
        char q[64];
        cli_bck_query(&b, q, sizeof(q));
        err = cli_bck_path(&b, &p);
        err = err ? err : cli_http_json(ctx, "POST", p.data, q, msg, NULL);
        err = err == -EEXIST ? 0 : err;
        ais_buf_fini(&p);
        json_decref(msg);
    }
    char tmp[] = "/tmp/ais-dsort-gen-XXXXXX";
    int fd = err == 0 ? mkstemp(tmp) : -1;
    if (err == 0 && fd < 0) {
        err = -errno;
    }
    if (fd >= 0) {
        unlink(tmp);
    }
    char *buf = malloc(g.rec_bytes + 64);
    char path[32];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    uint64_t bytes = 0;
    for (size_t i = 0; err == 0 && buf && i < json_array_size(names); i++) {
        const char *n = json_string_value(json_array_get(names, i));
        err = ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0 ? 0 : -errno;
        err = err ? err : gen_shard(&g, shard_ext(n), fd, i * g.nrec, buf);
        err = err ? err : cli_obj_put_file(&ctx->conn, &b, n, path, NULL);
        if (err != 0) {
            char prev[CLI_ERRMSG_BYTES];
            memcpy(prev, ctx->conn.errmsg, sizeof(prev));
            cli_errorf(ctx, "shard %.200s: %.700s", n, prev[0] ? prev : "failed");
        }
        bytes += (uint64_t)lseek(fd, 0, SEEK_END);
    }
    if (err == 0 && buf == NULL) {
        err = -ENOMEM;
    }
    if (err == 0) {
        char bck[300], sz[32];
        cli_bck_str(&b, bck, sizeof(bck));
        cli_fmt_size(bytes, sz, sizeof(sz));
        fprintf(ctx->out, "Made %zu shards (%" PRIu64 " records, %s) in %s\n",
                json_array_size(names), g.total, sz, bck);
    }
    if (fd >= 0) {
        close(fd);
    }
    free(buf);
    free(g.extbuf);
    json_decref(names);
    return err;
}
