/*
 * `ais dsort start|show|wait|stop|rm`, their other spellings (`ais start|stop|wait dsort`,
 * `ais show job dsort`, `ais job show|stop|rm|wait dsort`) and the srt- ids that `ais job
 * stop|wait ID` hand over. `ais dsort gen` is in cmd_dsgen.c.
 *
 * Design notes: everything goes through /v1/sort (api.md §6.2), not the job table, because
 * that is where the phases, their counters and each target's errors live. A job is folded from
 * every target's JobInfo by a pure function (cli_ds_fold): counters add up, a phase is done
 * when every target finished it, and the job ended when any target aborted (aborted), reported
 * an error (error), or every target finished creating its shards (finished) - the rule the
 * Python SDK's wait() uses. The spec comes from a file, stdin or the argument itself (inline
 * JSON, as AIS accepts), read with a bound; positional buckets replace input_bck/output_bck.
 * Waiting polls like `ais job wait` (50 ms doubling to 1 s, a counted bound, a deadline, and
 * failed polls ridden out) and draws one line per phase: a finished phase's line stays on the
 * screen and the next one starts below it. Exit codes: not found 3, timeout 8, aborted or
 * failed 9.
 */
#include "cli/cli_int.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const phase_keys[CLI_DS_PHASES] = {"local_extraction", "meta_sorting",
                                                      "shard_creation"};
static const char *const phase_names[CLI_DS_PHASES] = {"extraction", "sorting", "creation"};

const char *
cli_ds_phase_name(enum cli_ds_phase p)
{
    return (unsigned)p < CLI_DS_PHASES ? phase_names[p] : "?";
}

bool
cli_ds_is_id(const char *s)
{
    return s != NULL && strncmp(s, "srt-", 4) == 0 && s[4] != '\0';
}

/* ---- folding ---- */

static uint64_t
u64_of(const json_t *o, const char *k)
{
    uint64_t v = 0;
    return cli_json_u64(json_object_get(o, k), &v) == 0 ? v : 0;
}

static void
fold_phases(struct cli_ds_job *j, const json_t *mt)
{
    for (int p = 0; p < CLI_DS_PHASES; p++) {
        const json_t *ph = json_object_get(mt, phase_keys[p]);
        /* The times have nanoseconds, "elapsed" whole seconds: prefer the times once ended. */
        int64_t t0 = cli_rfc3339_ns(json_string_value(json_object_get(ph, "started_time")));
        int64_t t1 = cli_rfc3339_ns(json_string_value(json_object_get(ph, "end_time")));
        int64_t el = t0 > 0 && t1 >= t0 ? (t1 - t0) / 1000000
                                        : json_integer_value(json_object_get(ph, "elapsed")) * 1000;
        j->running[p] += json_is_true(json_object_get(ph, "running"));
        j->finished[p] += json_is_true(json_object_get(ph, "finished"));
        j->elapsed_ms[p] = el > j->elapsed_ms[p] ? el : j->elapsed_ms[p];
    }
    const json_t *le = json_object_get(mt, phase_keys[CLI_DS_EXTRACT]);
    const json_t *sc = json_object_get(mt, phase_keys[CLI_DS_CREATE]);
    j->total += u64_of(le, "total_count");
    j->extracted += u64_of(le, "extracted_count");
    j->records += u64_of(le, "extracted_record_count");
    j->to_create += u64_of(sc, "to_create");
    j->created += u64_of(sc, "created_count");
    j->pulled_bytes += u64_of(sc, "pulled_bytes");
}

int
cli_ds_fold(const json_t *by_target, struct cli_ds_job *out)
{
    struct cli_ds_job j;
    bool aborted = false;
    const char *tid;
    json_t *ji;
    if (!json_is_object(by_target) || json_object_size(by_target) == 0) {
        return -EINVAL;
    }
    memset(&j, 0, sizeof(j));
    json_object_foreach((json_t *)by_target, tid, ji)
    {
        const json_t *mt = json_object_get(ji, "Metrics");
        const json_t *errs = json_object_get(mt, "errors");
        if (!json_is_object(mt)) {
            return -EINVAL;
        }
        j.targets++;
        fold_phases(&j, mt);
        aborted = aborted || json_is_true(json_object_get(mt, "aborted")) ||
                  json_is_true(json_object_get(ji, "aborted"));
        j.nerrors += (uint32_t)json_array_size(errs);
        j.nwarnings += (uint32_t)json_array_size(json_object_get(mt, "warnings"));
        if (j.err[0] == '\0' && json_array_size(errs) > 0) {
            const char *e = json_string_value(json_array_get(errs, 0));
            snprintf(j.err, sizeof(j.err), "t[%s]: %s", tid, e != NULL ? e : "?");
        }
    }
    j.phase = CLI_DS_CREATE;
    for (int p = CLI_DS_PHASES - 1; p >= 0; p--) {
        j.phase = j.finished[p] < j.targets ? (enum cli_ds_phase)p : j.phase;
    }
    j.state = aborted
                  ? CLI_JOB_ABORTED
                  : (j.nerrors > 0 ? CLI_JOB_ERROR
                                   : (j.finished[CLI_DS_CREATE] == j.targets ? CLI_JOB_FINISHED
                                                                             : CLI_JOB_RUNNING));
    *out = j;
    return 0;
}

void
cli_ds_progress_render(char *out, size_t n, const char *id, const struct cli_ds_job *j,
                       enum cli_ds_phase p, unsigned tick, size_t width)
{
    static const char spin[4] = {'|', '/', '-', '\\'};
    char label[96], tail[96], cells[41];
    bool done = j->targets > 0 && j->finished[p] == j->targets;
    uint64_t cnt = p == CLI_DS_EXTRACT ? j->extracted : j->created;
    uint64_t total = p == CLI_DS_EXTRACT ? j->total : j->to_create;
    snprintf(label, sizeof(label), "dsort[%.63s] %-10s", id, cli_ds_phase_name(p));
    if (p == CLI_DS_SORT || total == 0) {
        snprintf(out, n, "%s [%c]%s", label, done ? '*' : spin[tick % 4], done ? "  done" : "");
        return;
    }
    cnt = cnt < total ? cnt : total;
    snprintf(tail, sizeof(tail), " %3u%%  %" PRIu64 "/%" PRIu64 " shards",
             (unsigned)(cnt * 100 / total), cnt, total);
    /* The bar takes what is left of the width, between 10 and 40 cells. */
    size_t fixed = strlen(label) + 3 + strlen(tail);
    size_t bar = width > fixed + 10 ? width - fixed : 10;
    bar = bar > 40 ? 40 : bar;
    size_t fill = (size_t)(cnt * bar / total);
    for (size_t i = 0; i < bar; i++) {
        cells[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    }
    cells[bar] = '\0';
    snprintf(out, n, "%s [%s]%s", label, cells, tail);
}

/* ---- specs ---- */

int
cli_ds_spec_parse(const char *text, size_t len, json_t **out, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        snprintf(err, errlen, "not JSON (line %d, column %d: %s); YAML specs are not supported",
                 je.line, je.column, je.text);
        return CLI_EUSAGE;
    }
    if (!json_is_object(j)) {
        snprintf(err, errlen, "not a JSON object (a RequestSpec is {\"input_bck\": ...})");
        json_decref(j);
        return CLI_EUSAGE;
    }
    *out = j;
    return 0;
}

static int
spec_bck_set(json_t *spec, const char *key, const char *arg, char *err, size_t errlen)
{
    struct cli_bck b;
    const char *why = NULL;
    if (cli_bck_parse(arg, &b, &why) < 0) {
        snprintf(err, errlen, "invalid bucket \"%s\": %s", arg, why);
        return AIS_EBADNAME;
    }
    if (b.obj != NULL && b.obj[0] != '\0') {
        snprintf(err, errlen, "invalid bucket \"%s\": a bucket, not an object", arg);
        return CLI_EUSAGE;
    }
    json_t *v = json_pack("{s:s, s:s}", "name", b.name, "provider", b.provider);
    return v != NULL && json_object_set_new(spec, key, v) == 0 ? 0 : -ENOMEM;
}

int
cli_ds_spec_buckets(json_t *spec, const char *src, const char *dst, char *err, size_t errlen)
{
    int rc = src != NULL ? spec_bck_set(spec, "input_bck", src, err, errlen) : 0;
    if (rc == 0 && dst != NULL) {
        rc = spec_bck_set(spec, "output_bck", dst, err, errlen);
    }
    return rc;
}

/* Reads the spec text of arg: inline JSON ('{' first), "-" (stdin) or a file, bounded. */
static int
spec_read(struct cli_ctx *ctx, const char *arg, struct ais_buf *b)
{
    const char *s = arg + strspn(arg, " \t\r\n");
    if (*s == '{') {
        return ais_buf_append(b, s, strlen(s)) == 0 ? 0 : CLI_EUSAGE;
    }
    int fd = strcmp(arg, "-") == 0 ? dup(fileno(ctx->in)) : open(arg, O_RDONLY | O_CLOEXEC);
    int err = fd >= 0 ? 0 : -errno;
    char chunk[8192];
    for (ssize_t n = 1; err == 0 && n > 0;) {
        n = read(fd, chunk, sizeof(chunk));
        err = n < 0 ? -errno : (n > 0 ? ais_buf_append(b, chunk, (size_t)n) : 0);
    }
    if (fd >= 0) {
        close(fd);
    }
    if (err == -EMSGSIZE) {
        cli_errorf(ctx, "dsort spec %s is larger than one request (%u bytes)", arg,
                   CLI_DS_SPEC_BYTES_MAX);
        return CLI_EUSAGE;
    }
    if (err < 0) {
        cli_errorf(ctx, "cannot read dsort spec %s: %s", arg, ais_strerror(err));
    }
    return err;
}

/* The spec of `dsort start` with the positional buckets applied. New reference in *out. */
static int
spec_load(struct cli_ctx *ctx, const char *arg, const char *src, const char *dst, json_t **out)
{
    struct ais_buf b;
    char why[CLI_ERRMSG_BYTES];
    json_t *spec = NULL;
    ais_buf_init(&b, CLI_DS_SPEC_BYTES_MAX);
    int err = spec_read(ctx, arg, &b);
    if (err == 0) {
        err = cli_ds_spec_parse(b.data != NULL ? b.data : "", b.len, &spec, why, sizeof(why));
        if (err == CLI_EUSAGE) {
            cli_errorf(ctx, "dsort spec %s: %s",
                       arg[strspn(arg, " \t\r\n")] == '{' ? "(inline)" : arg, why);
        }
    }
    if (err == 0) {
        err = cli_ds_spec_buckets(spec, src, dst, why, sizeof(why));
        if (err == CLI_EUSAGE || err == AIS_EBADNAME) {
            cli_errorf(ctx, "%s", why);
        }
    }
    if (err == 0) {
        *out = spec;
        spec = NULL;
    }
    json_decref(spec);
    ais_buf_fini(&b);
    return err;
}

/* ---- requests ---- */

/* A busy cluster at the end of a command is a cluster error like any other (exit 6). */
static int
cmd_err(int err)
{
    return err != -EAGAIN ? err : CLI_ESERVER;
}

/* "uuid=<escaped id>" into q (initialised by the caller). */
static int
id_query(struct ais_buf *q, const char *id)
{
    int err = ais_buf_append(q, "uuid=", 5);
    return err ? err : cli_url_escape(q, id, false);
}

/*
 * One /v1/sort request: query (may be NULL), reply parsed into *out when out != NULL. 404 is
 * -ENOENT with a message naming id; 502..504 -EAGAIN (a gateway starting or between primaries).
 */
static int
ds_req(struct cli_ctx *ctx, const char *method, const char *path, const char *query, const char *id,
       json_t **out)
{
    struct cli_resp resp;
    struct cli_req rq = {
        .method = method, .path = path, .query = query, .timeout_ms = ctx->conn.ctrl_timeout_ms};
    cli_resp_init(&resp);
    int err = cli_http_do(&ctx->conn, &rq, &resp);
    if (err == CLI_ESERVER && resp.status >= 502 && resp.status <= 504) {
        err = -EAGAIN;
    }
    if (err == -ENOENT && id != NULL) {
        cli_errorf(ctx, "dsort job %s does not exist (see 'ais show job dsort')", id);
    }
    if (err == 0 && out != NULL) {
        *out = cli_json_loadb(resp.body.data != NULL ? resp.body.data : "", resp.body.len);
        if (*out == NULL) {
            cli_errorf(ctx, "malformed JSON from the cluster for %s %s", method, path);
            err = CLI_ESERVER;
        }
    }
    cli_resp_fini(&resp);
    return err;
}

/* Request for job id: GET the metrics (out != NULL), or DELETE path. */
static int
ds_id_req(struct cli_ctx *ctx, const char *method, const char *path, const char *id, json_t **out)
{
    struct ais_buf q;
    ais_buf_init(&q, 1024);
    int err = id_query(&q, id);
    err = err ? err : ds_req(ctx, method, path, q.data, id, out);
    ais_buf_fini(&q);
    return err;
}

/* The job's per-target metrics and their fold; m (may be NULL) gets the raw reply. */
static int
ds_status(struct cli_ctx *ctx, const char *id, struct cli_ds_job *j, json_t **m)
{
    json_t *raw = NULL;
    int err = ds_id_req(ctx, "GET", "/v1/sort", id, &raw);
    if (err == 0 && cli_ds_fold(raw, j) < 0) {
        cli_errorf(ctx, "malformed dsort metrics from the cluster for %s", id);
        err = CLI_ESERVER;
    }
    if (err == 0 && m != NULL) {
        *m = raw;
        raw = NULL;
    }
    json_decref(raw);
    return err;
}

/* GET /v1/sort[?regex=]: the listing (an array of JobInfo). */
static int
ds_list(struct cli_ctx *ctx, const char *regex, json_t **out)
{
    struct ais_buf q;
    ais_buf_init(&q, 4096);
    int err = 0;
    if (regex != NULL && regex[0] != '\0') {
        err = ais_buf_append(&q, "regex=", 6);
        err = err ? err : cli_url_escape(&q, regex, false);
    }
    err = err ? err : ds_req(ctx, "GET", "/v1/sort", q.len > 0 ? q.data : NULL, NULL, out);
    if (err == 0 && !json_is_array(*out)) {
        cli_errorf(ctx, "malformed dsort job list from the cluster");
        json_decref(*out);
        err = CLI_ESERVER;
    }
    ais_buf_fini(&q);
    return err;
}

int
cli_ds_ids(struct cli_ctx *ctx, char ***out)
{
    json_t *arr = NULL;
    int err = ds_list(ctx, NULL, &arr);
    size_t n = err == 0 ? json_array_size(arr) : 0, k = 0;
    char **ids = err == 0 ? calloc(n + 1, sizeof(*ids)) : NULL;
    err = err == 0 && ids == NULL ? -ENOMEM : err;
    for (size_t i = 0; err == 0 && i < n; i++) {
        const char *id = json_string_value(json_object_get(json_array_get(arr, i), "id"));
        if (id != NULL) {
            ids[k] = strdup(id);
            err = ids[k++] != NULL ? 0 : -ENOMEM;
        }
    }
    if (err == 0) {
        *out = ids;
        ids = NULL;
    }
    cli_strv_free(ids);
    json_decref(arr);
    return err;
}

/* ---- start ---- */

/* POSTs the spec; the reply is the job id as text. */
static int
ds_start(struct cli_ctx *ctx, const json_t *spec, char *id, size_t cap)
{
    struct cli_resp resp;
    char *body = json_dumps(spec, JSON_COMPACT);
    struct cli_req rq = {.method = "POST",
                         .path = "/v1/sort",
                         .body = body,
                         .body_len = body != NULL ? strlen(body) : 0,
                         .timeout_ms = ctx->conn.ctrl_timeout_ms};
    int err = body != NULL ? 0 : -ENOMEM;
    cli_resp_init(&resp);
    err = err ? err : cli_http_do(&ctx->conn, &rq, &resp);
    if (err == 0) {
        const char *s = resp.body.data != NULL ? resp.body.data : "";
        s += strspn(s, " \t\r\n\"");
        size_t len = strcspn(s, " \t\r\n\"");
        if (len == 0 || len >= cap) {
            cli_errorf(ctx, "the cluster answered no dsort job id");
            err = CLI_ESERVER;
        } else {
            memcpy(id, s, len);
            id[len] = '\0';
        }
    }
    cli_resp_fini(&resp);
    free(body);
    return err;
}

static int
wait_timeout(struct cli_ctx *ctx, const struct cli_args *a, int64_t *out)
{
    const char *v = a->val[CLI_F_TIMEOUT];
    *out = CLI_JOB_WAIT_MS_MAX;
    if (cli_flag_on(a, CLI_F_TIMEOUT) &&
        (ais_duration_parse_ms(v, out) < 0 || *out <= 0 || *out > CLI_JOB_WAIT_MS_MAX)) {
        cli_errorf(ctx,
                   "invalid --timeout \"%s\": a duration such as 90s, 5m or 2h (at most 7 "
                   "days)",
                   v);
        return CLI_EUSAGE;
    }
    return 0;
}

int
cli_cmd_dsort_start(struct cli_ctx *ctx, const struct cli_args *a)
{
    bool from_flag = cli_flag_on(a, CLI_F_SPEC), wait = cli_flag_on(a, CLI_F_WAIT);
    int first = from_flag ? 0 : 1;
    int64_t timeout_ms;
    json_t *spec = NULL;
    char id[128];
    if ((!from_flag && a->npos == 0) || a->npos > first + 2) {
        cli_errorf(ctx, "usage: ais dsort start SPEC.json|-|'{...}' [SRC_BUCKET [DST_BUCKET]] "
                        "(or --spec FILE [SRC_BUCKET [DST_BUCKET]])");
        return CLI_EUSAGE;
    }
    int err = wait_timeout(ctx, a, &timeout_ms);
    if (err == 0 && cli_flag_on(a, CLI_F_TIMEOUT) && !wait) {
        cli_errorf(ctx, "--timeout limits the wait: add --wait");
        err = CLI_EUSAGE;
    }
    err = err ? err
              : spec_load(ctx, from_flag ? a->val[CLI_F_SPEC] : a->pos[0],
                          a->npos > first ? a->pos[first] : NULL,
                          a->npos > first + 1 ? a->pos[first + 1] : NULL, &spec);
    err = err ? err : ds_start(ctx, spec, id, sizeof(id));
    json_decref(spec);
    if (err == 0 && !wait) {
        fprintf(ctx->out, "%s\n", id); /* the bare id, for scripts: id=$(ais dsort start ...) */
    } else if (err == 0) {
        fprintf(ctx->out, "Started dsort job %s\n", id);
        fflush(ctx->out);
        err = cli_ds_wait(ctx, id, timeout_ms);
    }
    return cmd_err(err);
}

/* ---- wait ---- */

struct ds_waiter {
    struct cli_ctx *ctx;
    const char *id;
    bool draw;
    enum cli_ds_phase line; /* the phase whose line is being drawn */
    struct cli_ds_job job;
};

/* Ends the lines of phases behind the job's, then redraws the current one ("\n" when last). */
static void
ds_draw(struct ds_waiter *w, unsigned tick, bool last)
{
    char line[512];
    size_t width = cli_term_width(w->ctx->err);
    enum cli_ds_phase upto = w->job.state == CLI_JOB_FINISHED ? CLI_DS_CREATE : w->job.phase;
    for (; w->line < upto; w->line++) {
        cli_ds_progress_render(line, sizeof(line), w->id, &w->job, w->line, tick, width);
        fprintf(w->ctx->err, "\r%s\033[K\n", line);
    }
    cli_ds_progress_render(line, sizeof(line), w->id, &w->job, w->line, tick, width);
    fprintf(w->ctx->err, "\r%s\033[K%s", line, last ? "\n" : "");
    fflush(w->ctx->err);
}

/* Polls until the job ends or the deadline; w->job is the last status. */
static int
ds_wait_loop(struct ds_waiter *w, int64_t timeout_ms)
{
    int64_t deadline = ais_mono_ns() + timeout_ms * 1000000, interval = CLI_JOB_POLL_MS_MIN;
    uint64_t polls_max = (uint64_t)(timeout_ms / CLI_JOB_POLL_MS_MIN) + 2;
    unsigned errs = 0;
    int err = ds_status(w->ctx, w->id, &w->job, NULL);
    for (uint64_t i = 0; err == 0 && i < polls_max && w->job.state == CLI_JOB_RUNNING; i++) {
        int64_t left_ms = (deadline - ais_mono_ns()) / 1000000;
        if (left_ms <= 0) {
            break;
        }
        if (w->draw) {
            ds_draw(w, (unsigned)i, false);
        }
        cli_nap_ms(interval < left_ms ? interval : left_ms);
        interval = interval * 2 < CLI_JOB_POLL_MS_MAX ? interval * 2 : CLI_JOB_POLL_MS_MAX;
        left_ms = (deadline - ais_mono_ns()) / 1000000;
        w->ctx->conn.ctrl_timeout_ms =
            left_ms < 1000 ? 1000 : (left_ms < CLI_CTRL_TIMEOUT_MS ? left_ms : CLI_CTRL_TIMEOUT_MS);
        struct cli_ds_job j;
        err = ds_status(w->ctx, w->id, &j, NULL);
        if (err < 0 && cli_poll_transient(err) && ++errs <= CLI_JOB_POLL_ERRS_MAX) {
            err = 0;
            continue;
        }
        errs = 0;
        w->job = err == 0 ? j : w->job;
    }
    if (w->draw && err == 0) {
        ds_draw(w, 0, true);
    }
    return err;
}

static int
ds_outcome(struct cli_ctx *ctx, const struct cli_ds_job *j, const char *id, int64_t timeout_ms)
{
    char d[24];
    switch (j->state) {
    case CLI_JOB_RUNNING:
        cli_fmt_duration_ms(timeout_ms, d, sizeof(d));
        cli_errorf(ctx,
                   "timed out after %s waiting for dsort job %s: still in %s (%" PRIu64 "/%" PRIu64
                   " shards extracted, %" PRIu64 "/%" PRIu64 " created)",
                   d, id, cli_ds_phase_name(j->phase), j->extracted, j->total, j->created,
                   j->to_create);
        return CLI_EWAITTIMEOUT;
    case CLI_JOB_ABORTED:
        cli_errorf(ctx, "dsort job %s was aborted%s%s", id, j->err[0] ? ": " : "", j->err);
        return CLI_EJOBFAIL;
    case CLI_JOB_ERROR:
        cli_errorf(ctx, "dsort job %s failed: %s", id, j->err);
        return CLI_EJOBFAIL;
    case CLI_JOB_FINISHED:
    default:
        break;
    }
    fprintf(ctx->out, "dsort job %s finished: %" PRIu64 " shards created from %" PRIu64 "%s\n", id,
            j->created, j->total,
            j->nwarnings > 0 ? " (with warnings: ais show job dsort ID)" : "");
    return 0;
}

int
cli_ds_wait(struct cli_ctx *ctx, const char *id, int64_t timeout_ms)
{
    struct ds_waiter w = {.ctx = ctx, .id = id, .draw = cli_progress_wanted(ctx)};
    int err = ds_wait_loop(&w, timeout_ms);
    return err == 0 ? ds_outcome(ctx, &w.job, id, timeout_ms) : err;
}

int
cli_cmd_dsort_wait(struct cli_ctx *ctx, const struct cli_args *a)
{
    int64_t timeout_ms;
    int err = wait_timeout(ctx, a, &timeout_ms);
    return cmd_err(err ? err : cli_ds_wait(ctx, a->pos[0], timeout_ms));
}

/* ---- show ---- */

static void
phase_line(struct cli_ctx *ctx, const struct cli_ds_job *j, enum cli_ds_phase p)
{
    char prog[64] = "", el[24] = "";
    const char *st =
        j->finished[p] == j->targets
            ? "done"
            : (j->running[p] > 0 ? "running" : (j->finished[p] > 0 ? "partly done" : "-"));
    if (j->finished[p] < j->targets && j->state != CLI_JOB_RUNNING) {
        st = cli_job_state_name(j->state); /* cut short by the abort or the error */
    }
    if (p == CLI_DS_EXTRACT) {
        snprintf(prog, sizeof(prog), "%" PRIu64 "/%" PRIu64 " shards", j->extracted, j->total);
    } else if (p == CLI_DS_CREATE) {
        snprintf(prog, sizeof(prog), "%" PRIu64 "/%" PRIu64 " shards", j->created, j->to_create);
    }
    if (j->running[p] > 0 || j->finished[p] > 0) {
        cli_fmt_duration_ms(j->elapsed_ms[p], el, sizeof(el));
    }
    fprintf(ctx->out, "%-11s %-11s %-18s %s\n", cli_ds_phase_name(p), st, prog, el);
}

/* Every target's errors and warnings, one line each. */
static void
show_msgs(struct cli_ctx *ctx, const json_t *m)
{
    static const char *const keys[] = {"errors", "warnings"};
    const char *tid;
    json_t *ji;
    for (size_t k = 0; k < 2; k++) {
        json_object_foreach((json_t *)m, tid, ji)
        {
            size_t i;
            json_t *e;
            json_array_foreach(json_object_get(json_object_get(ji, "Metrics"), keys[k]), i, e)
            {
                fprintf(ctx->out, "%-8s t[%s]: %s\n", k == 0 ? "error" : "warning", tid,
                        json_string_value(e) != NULL ? json_string_value(e) : "?");
            }
        }
    }
}

static void
show_head(struct cli_ctx *ctx, const char *id, const struct cli_ds_job *j, const json_t *m)
{
    char pulled[32], t0[48], t1[48];
    const json_t *first = json_object_iter_value(json_object_iter((json_t *)m));
    const char *desc =
        json_string_value(json_object_get(json_object_get(first, "Metrics"), "description"));
    int64_t end_ns = cli_rfc3339_ns(json_string_value(json_object_get(first, "finish_time")));
    cli_fmt_size(j->pulled_bytes, pulled, sizeof(pulled));
    cli_fmt_time_ns(cli_rfc3339_ns(json_string_value(json_object_get(first, "started_time"))), t0,
                    sizeof(t0));
    cli_fmt_time_ns(j->state == CLI_JOB_RUNNING ? 0 : end_ns, t1, sizeof(t1));
    fprintf(ctx->out, "dsort job %s: %s (%u targets, %s moved between targets)\n", id,
            cli_job_state_name(j->state), j->targets, pulled);
    const char *src = json_string_value(json_object_get(first, "src-bck"));
    const char *dst = json_string_value(json_object_get(first, "dst-bck"));
    fprintf(ctx->out, "%-12s %s => %s\n", "Buckets:", src != NULL ? src : "-",
            dst != NULL ? dst : "-");
    fprintf(ctx->out, "%-12s %s\n%-12s %s\n%-12s %s\n",
            "Description:", desc != NULL && desc[0] != '\0' ? desc : "-", "Started:", t0,
            "Ended:", t1);
    fprintf(ctx->out, "%-12s %" PRIu64 "\n\n", "Records:", j->records);
}

static int
show_one(struct cli_ctx *ctx, const char *id)
{
    json_t *m = NULL;
    struct cli_ds_job j;
    int err = ds_status(ctx, id, &j, &m);
    if (err == 0 && ctx->json) {
        cli_print_json(ctx, m);
    } else if (err == 0) {
        show_head(ctx, id, &j, m);
        fprintf(ctx->out, "%-11s %-11s %-18s %s\n", "PHASE", "STATE", "PROGRESS", "ELAPSED");
        for (int p = 0; p < CLI_DS_PHASES; p++) {
            phase_line(ctx, &j, (enum cli_ds_phase)p);
        }
        show_msgs(ctx, m);
    }
    json_decref(m);
    return err;
}

/* A listed job's status: the gateway marks it aborted when aborted anywhere, archived (ended)
 * when ended everywhere; errors are those of one target. */
static const char *
list_state(const json_t *ji)
{
    const json_t *mt = json_object_get(ji, "Metrics");
    if (json_is_true(json_object_get(ji, "aborted"))) {
        return "aborted";
    }
    if (json_array_size(json_object_get(mt, "errors")) > 0) {
        return "error";
    }
    return json_is_true(json_object_get(ji, "archived")) ? "finished" : "running";
}

static int
list_cmp(const void *pa, const void *pb)
{
    const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    bool ra = strcmp(list_state(a), "running") == 0, rb = strcmp(list_state(b), "running") == 0;
    int64_t ta = cli_rfc3339_ns(json_string_value(json_object_get(a, "started_time")));
    int64_t tb = cli_rfc3339_ns(json_string_value(json_object_get(b, "started_time")));
    if (ra != rb) {
        return ra ? -1 : 1;
    }
    return ta != tb ? (ta > tb ? -1 : 1) : 0;
}

static int
list_row(struct cli_table *t, const json_t *ji)
{
    char t0[48], t1[48];
    const char *desc = json_string_value(json_object_get(ji, "description"));
    const char *st = list_state(ji);
    desc = desc != NULL
               ? desc
               : json_string_value(json_object_get(json_object_get(ji, "Metrics"), "description"));
    cli_fmt_time_ns(cli_rfc3339_ns(json_string_value(json_object_get(ji, "started_time"))), t0,
                    sizeof(t0));
    cli_fmt_time_ns(strcmp(st, "running") == 0
                        ? 0
                        : cli_rfc3339_ns(json_string_value(json_object_get(ji, "finish_time"))),
                    t1, sizeof(t1));
    const char *row[] = {json_string_value(json_object_get(ji, "id")), st, t0, t1,
                         desc != NULL && desc[0] != '\0' ? desc : NULL};
    return cli_table_add(t, row);
}

static int
show_all(struct cli_ctx *ctx, const char *regex)
{
    static const char *const hdrs[] = {"ID", "STATUS", "START", "END", "DESCRIPTION"};
    json_t *arr = NULL;
    int err = ds_list(ctx, regex, &arr);
    size_t n = err == 0 ? json_array_size(arr) : 0;
    n = n < CLI_DS_JOBS_MAX ? n : CLI_DS_JOBS_MAX;
    json_t **v = err == 0 && !ctx->json && n > 0 ? calloc(n, sizeof(*v)) : NULL;
    struct cli_table t;
    cli_table_init(&t, 5, hdrs);
    if (err == 0 && ctx->json) {
        cli_print_json(ctx, arr);
    } else if (err == 0 && n == 0) {
        fprintf(ctx->out, "No dsort jobs%s%s%s\n", regex ? " matching \"" : "", regex ? regex : "",
                regex ? "\"" : "");
    } else if (err == 0 && v == NULL) {
        err = -ENOMEM;
    } else if (err == 0) {
        for (size_t i = 0; i < n; i++) {
            v[i] = json_array_get(arr, i);
        }
        qsort(v, n, sizeof(*v), list_cmp);
        for (size_t i = 0; err == 0 && i < n; i++) {
            err = list_row(&t, v[i]);
        }
        if (err == 0) {
            cli_table_print(&t, ctx->out, !ctx->no_headers);
        }
    }
    cli_table_fini(&t);
    free(v);
    json_decref(arr);
    return err;
}

int
cli_cmd_dsort_show(struct cli_ctx *ctx, const struct cli_args *a)
{
    return cmd_err(a->npos > 0 ? show_one(ctx, a->pos[0]) : show_all(ctx, a->val[CLI_F_REGEX]));
}

/* ---- stop, rm ---- */

int
cli_ds_abort(struct cli_ctx *ctx, const char *id)
{
    int err = ds_id_req(ctx, "DELETE", "/v1/sort/abort", id, NULL);
    if (err == 0) {
        fprintf(ctx->out, "Aborted dsort job %s\n", id);
    }
    return err;
}

int
cli_cmd_dsort_stop(struct cli_ctx *ctx, const struct cli_args *a)
{
    return cmd_err(cli_ds_abort(ctx, a->pos[0]));
}

int
cli_cmd_dsort_rm(struct cli_ctx *ctx, const struct cli_args *a)
{
    int err = ds_id_req(ctx, "DELETE", "/v1/sort", a->pos[0], NULL);
    if (err == CLI_ESERVER) {
        /* The gateway's 400: the job still runs. Keep its words, add the way out. */
        char prev[CLI_ERRMSG_BYTES];
        memcpy(prev, ctx->conn.errmsg, sizeof(prev));
        cli_errorf(ctx, "%.900s (ais stop dsort %.64s)", prev, a->pos[0]);
    }
    if (err == 0) {
        fprintf(ctx->out, "Removed dsort job %s\n", a->pos[0]);
    }
    return cmd_err(err);
}
