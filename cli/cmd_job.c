/*
 * `ais job ls|show|stop|wait` and `ais show job`: the cluster's jobs (xactions).
 *
 * Design notes: every view is built from one query, GET /v1/cluster?what=qryxstats, whose
 * reply holds each node's JobSnaps (api.md §5.7). Snaps with the same id are folded into one
 * struct cli_job: counters and totals add up, the start is the earliest, the end the latest,
 * and the job runs while any part runs; once all parts ended its state is the worst of them
 * (aborted > error > finished), the same rule the gateway's what=status applies. Folding on the
 * client keeps one request per poll and gives the counters that what=status lacks. `ls` asks
 * for every job and filters running ones itself, since a node-level "only running" filter
 * would drop the finished parts of a job that still runs elsewhere.
 * A positional that is not a job id is tried as a job kind (`ais job wait rebalance`): `wait`
 * then follows the jobs of that kind that were running when it started. `wait` polls with a
 * growing interval (quick jobs return fast, long ones cost one request a second), bounded by
 * its deadline, and rides out a few failed polls (an election, a restarting gateway). The
 * progress line is drawn synchronously by the poll loop: there is nothing to draw between
 * polls, so unlike transfers it needs no thread. Exit codes: not found 3, wait timeout 8,
 * job failed or aborted 9 (docs/cli.md).
 */
#include "cli/cli_int.h"
#include "common/assert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* clang-format off */
const char *const cli_job_kinds[] = {
    "rebalance",      "resilver",         "lru",           "cleanup-store",
    "election",       "ec-encode",        "ec-get",        "ec-put",
    "ec-resp",        "put-copies",       "make-n-copies", "download",
    "dsort",          "delete-listrange", "evict-listrange", "prefetch-listrange",
    "copy-listrange", "etl-listrange",    "archive",       "promote",
    "move-bck",       "copy-bck",         "etl-bck",       "evict-remote-bck",
    "list",           "blob-download",    "load-lom-cache", "summary-bck",
    "decommission",   "scrub",
    NULL,
};
/* clang-format on */

static const char *const state_names[] = {"running", "finished", "aborted", "error"};

const char *
cli_job_state_name(enum cli_job_state s)
{
    return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "unknown";
}

static bool
kind_known(const char *kind)
{
    for (const char *const *k = cli_job_kinds; *k != NULL; k++) {
        if (strcmp(*k, kind) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- parsing and folding ---- */

int64_t
cli_rfc3339_ns(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *rest = s != NULL ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (rest == NULL || tm.tm_year < 70) {
        return 0; /* includes Go's zero time, year 1 */
    }
    int64_t ns = (int64_t)timegm(&tm) * 1000000000;
    if (*rest == '.') {
        int64_t scale = 100000000;
        for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10) {
            ns += (*rest - '0') * scale;
        }
    }
    if ((rest[0] == '+' || rest[0] == '-') && strlen(rest) >= 6 && rest[3] == ':') {
        int64_t off = ((rest[1] - '0') * 10 + (rest[2] - '0')) * 3600 +
                      ((rest[4] - '0') * 10 + (rest[5] - '0')) * 60;
        ns -= (rest[0] == '+' ? off : -off) * 1000000000;
    }
    return ns > 0 ? ns : 0;
}

static enum cli_job_state
snap_state(const json_t *e, int64_t end_ns, const char *err)
{
    const char *s = json_string_value(json_object_get(e, "state"));
    for (size_t i = 0; s != NULL && i < sizeof(state_names) / sizeof(state_names[0]); i++) {
        if (strcmp(s, state_names[i]) == 0) {
            return (enum cli_job_state)i;
        }
    }
    /* A server without "state": derive it as AIS clients do. */
    if (json_is_true(json_object_get(e, "aborted"))) {
        return CLI_JOB_ABORTED;
    }
    if (end_ns == 0) {
        return CLI_JOB_RUNNING;
    }
    return err[0] != '\0' ? CLI_JOB_ERROR : CLI_JOB_FINISHED;
}

static uint64_t
u64_at(const json_t *o, const char *key)
{
    uint64_t v = 0;
    return cli_json_u64(json_object_get(o, key), &v) == 0 ? v : 0;
}

/* One JobSnap as a one-node job. Returns 0 or -EINVAL (no id). */
static int
snap_parse(const json_t *e, struct cli_job *s)
{
    const char *id = json_string_value(json_object_get(e, "id"));
    const char *err = json_string_value(json_object_get(e, "err"));
    const json_t *b = json_object_get(e, "bck");
    const json_t *stats = json_object_get(e, "stats");
    const json_t *eta = json_object_get(e, "eta-ns");
    if (!json_is_object(e) || id == NULL || id[0] == '\0') {
        return -EINVAL;
    }
    memset(s, 0, sizeof(*s));
    snprintf(s->id, sizeof(s->id), "%s", id);
    const char *kind = json_string_value(json_object_get(e, "kind"));
    snprintf(s->kind, sizeof(s->kind), "%s", kind != NULL ? kind : "");
    if (err == NULL || err[0] == '\0') {
        err = json_string_value(json_object_get(e, "abort-err"));
    }
    snprintf(s->err, sizeof(s->err), "%s", err != NULL ? err : "");
    const char *bname = json_string_value(json_object_get(b, "name"));
    const char *prov = json_string_value(json_object_get(b, "provider"));
    if (bname != NULL && bname[0] != '\0') {
        snprintf(s->bck, sizeof(s->bck), "%s://%s", prov != NULL && prov[0] ? prov : "ais", bname);
    }
    s->objs = u64_at(stats, "loc-objs");
    s->bytes = u64_at(stats, "loc-bytes");
    s->in_objs = u64_at(stats, "in-objs");
    s->in_bytes = u64_at(stats, "in-bytes");
    s->total_objs = u64_at(e, "total-objs");
    s->start_ns = cli_rfc3339_ns(json_string_value(json_object_get(e, "start-time")));
    s->end_ns = cli_rfc3339_ns(json_string_value(json_object_get(e, "end-time")));
    s->eta_ns = json_is_integer(eta) ? (int64_t)json_integer_value(eta) : -1;
    s->state = snap_state(e, s->end_ns, s->err);
    s->nodes = 1;
    s->nodes_running = s->state == CLI_JOB_RUNNING;
    return 0;
}

static int
end_rank(enum cli_job_state s)
{
    return s == CLI_JOB_ABORTED ? 2 : (s == CLI_JOB_ERROR ? 1 : 0);
}

/* An empty aggregate named after s: folding starts from "finished, nothing done". */
static void
job_init(struct cli_job *agg, const struct cli_job *s)
{
    memset(agg, 0, sizeof(*agg));
    memcpy(agg->id, s->id, sizeof(agg->id));
    memcpy(agg->kind, s->kind, sizeof(agg->kind));
    memcpy(agg->bck, s->bck, sizeof(agg->bck));
    agg->state = CLI_JOB_FINISHED;
    agg->eta_ns = -1;
}

/* Adds part s (a snap or a whole job) to agg; job_done() settles the state afterwards. */
static void
job_fold(struct cli_job *agg, const struct cli_job *s)
{
    agg->nodes += s->nodes;
    agg->nodes_running += s->nodes_running;
    agg->objs += s->objs;
    agg->bytes += s->bytes;
    agg->in_objs += s->in_objs;
    agg->in_bytes += s->in_bytes;
    agg->total_objs += s->total_objs;
    if (s->start_ns > 0 && (agg->start_ns == 0 || s->start_ns < agg->start_ns)) {
        agg->start_ns = s->start_ns;
    }
    if (s->end_ns > agg->end_ns) {
        agg->end_ns = s->end_ns;
    }
    if (s->state != CLI_JOB_RUNNING && end_rank(s->state) > end_rank(agg->state)) {
        agg->state = s->state;
    }
    if (agg->err[0] == '\0' && s->err[0] != '\0') {
        memcpy(agg->err, s->err, sizeof(agg->err));
    }
    if (s->nodes_running > 0 && s->eta_ns > agg->eta_ns) {
        agg->eta_ns = s->eta_ns;
    }
    if (agg->kind[0] == '\0') {
        memcpy(agg->kind, s->kind, sizeof(agg->kind));
    }
    if (agg->bck[0] == '\0') {
        memcpy(agg->bck, s->bck, sizeof(agg->bck));
    }
}

static void
job_done(struct cli_job *j)
{
    if (j->nodes_running > 0) {
        j->state = CLI_JOB_RUNNING;
        j->end_ns = 0;
    }
}

static int
job_cmp(const void *pa, const void *pb)
{
    const struct cli_job *a = pa, *b = pb;
    int ra = a->state == CLI_JOB_RUNNING, rb = b->state == CLI_JOB_RUNNING;
    if (ra != rb) {
        return rb - ra;
    }
    if (a->start_ns != b->start_ns) {
        return a->start_ns > b->start_ns ? -1 : 1;
    }
    return strcmp(a->id, b->id);
}

static struct cli_job *
job_find(struct cli_job *v, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].id, id) == 0) {
            return &v[i];
        }
    }
    return NULL;
}

static size_t
snaps_count(const json_t *by_node)
{
    const char *k;
    json_t *arr;
    size_t n = 0;
    json_object_foreach((json_t *)by_node, k, arr)
    {
        n += json_is_array(arr) ? json_array_size(arr) : 0;
    }
    return n < CLI_JOBS_MAX ? n : CLI_JOBS_MAX;
}

int
cli_jobs_from_snaps(const json_t *by_node, struct cli_job **out, size_t *n)
{
    const char *k;
    json_t *arr;
    if (!json_is_object(by_node)) {
        return -EINVAL;
    }
    size_t cap = snaps_count(by_node), cnt = 0;
    struct cli_job *v = calloc(cap > 0 ? cap : 1, sizeof(*v));
    if (v == NULL) {
        return -ENOMEM;
    }
    json_object_foreach((json_t *)by_node, k, arr)
    {
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e)
        {
            struct cli_job s;
            if (snap_parse(e, &s) < 0) {
                continue;
            }
            struct cli_job *agg = job_find(v, cnt, s.id);
            if (agg == NULL && cnt < cap) {
                agg = &v[cnt++];
                job_init(agg, &s);
            }
            if (agg != NULL) {
                job_fold(agg, &s);
            }
        }
    }
    for (size_t i = 0; i < cnt; i++) {
        job_done(&v[i]);
    }
    qsort(v, cnt, sizeof(*v), job_cmp);
    if (cnt == 0) {
        free(v);
        v = NULL;
    }
    *out = v;
    *n = cnt;
    return 0;
}

/* ---- progress line ---- */

void
cli_job_progress_render(char *out, size_t n, const char *label, const struct cli_job *j,
                        int64_t elapsed_ms, unsigned tick, size_t width)
{
    static const char spin[4] = {'|', '/', '-', '\\'};
    char d[40], tail[160];
    bool running = j->state == CLI_JOB_RUNNING;
    if (j->total_objs == 0) {
        cli_fmt_duration_ms(elapsed_ms, d, sizeof(d));
        snprintf(out, n, "%s [%c]  %llu objects  %s", label, running ? spin[tick % 4] : '*',
                 (unsigned long long)j->objs, d);
        return;
    }
    uint64_t done = j->objs < j->total_objs ? j->objs : j->total_objs;
    unsigned pct = (unsigned)((double)done * 100.0 / (double)j->total_objs);
    d[0] = '\0';
    if (!running) {
        char e[20];
        cli_fmt_duration_ms(elapsed_ms, e, sizeof(e));
        snprintf(d, sizeof(d), "  in %s", e);
    } else if (j->eta_ns >= 0) {
        char e[20];
        cli_fmt_duration_ms(j->eta_ns / 1000000, e, sizeof(e));
        snprintf(d, sizeof(d), "  ETA %s", e);
    }
    snprintf(tail, sizeof(tail), " %3u%%  %llu/%llu objects%s", pct, (unsigned long long)done,
             (unsigned long long)j->total_objs, d);
    /* The bar takes what is left of the width, between 10 and 40 cells. */
    size_t fixed = strlen(label) + 3 + strlen(tail);
    size_t bar = width > fixed + 10 ? width - fixed : 10;
    bar = bar > 40 ? 40 : bar;
    char cells[41];
    size_t fill = (size_t)(done * bar / j->total_objs);
    for (size_t i = 0; i < bar; i++) {
        cells[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    }
    cells[bar] = '\0';
    snprintf(out, n, "%s [%s]%s", label, cells, tail);
}

/* ---- queries ---- */

/*
 * GET what=qryxstats with body {key: val} (key NULL: every job) into *snaps. 404 is -ENOENT;
 * 502/503/504 (a gateway that is starting, busy or between primaries) is -EAGAIN.
 */
static int
snaps_get(struct cli_ctx *ctx, const char *key, const char *val, json_t **snaps)
{
    struct cli_resp resp;
    json_t *body = key != NULL ? json_pack("{s:s}", key, val) : json_object();
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    struct cli_req rq = {.method = "GET",
                         .path = "/v1/cluster",
                         .query = "what=qryxstats",
                         .body = text,
                         .body_len = text != NULL ? strlen(text) : 0,
                         .timeout_ms = ctx->conn.ctrl_timeout_ms};
    int err = -ENOMEM;
    cli_resp_init(&resp);
    if (text != NULL) {
        err = cli_http_do(&ctx->conn, &rq, &resp);
    }
    if (err == CLI_ESERVER && resp.status >= 502 && resp.status <= 504) {
        err = -EAGAIN;
    }
    if (err == 0) {
        *snaps = cli_json_loadb(resp.body.data, resp.body.len);
        if (*snaps == NULL) {
            cli_errorf(ctx, "malformed JSON from the cluster for what=qryxstats");
            err = CLI_ESERVER;
        }
    }
    cli_resp_fini(&resp);
    free(text);
    json_decref(body);
    return err;
}

/* what=qryxstats for {key: val}, folded into jobs. Errors as snaps_get. */
static int
jobs_get(struct cli_ctx *ctx, const char *key, const char *val, struct cli_job **v, size_t *n)
{
    json_t *snaps = NULL;
    int err = snaps_get(ctx, key, val, &snaps);
    if (err == 0) {
        err = cli_jobs_from_snaps(snaps, v, n);
        if (err == -EINVAL) {
            cli_errorf(ctx, "malformed job snapshots from the cluster (what=qryxstats)");
            err = CLI_ESERVER;
        }
    }
    json_decref(snaps);
    return err;
}

/* A command's result: a busy cluster is a cluster error like any other (exit code 6). */
static int
cmd_err(int err)
{
    return err != -EAGAIN ? err : CLI_ESERVER;
}

/* Every job of the cluster; none is an empty list, not an error. */
static int
jobs_all(struct cli_ctx *ctx, const char *kind, struct cli_job **v, size_t *n)
{
    int err = jobs_get(ctx, kind != NULL ? "Kind" : NULL, kind, v, n);
    if (err == -ENOENT) {
        ctx->conn.errmsg[0] = '\0';
        *v = NULL;
        *n = 0;
        err = 0;
    }
    return err;
}

int
cli_job_ids(struct cli_ctx *ctx, char ***out)
{
    struct cli_job *v = NULL;
    size_t n = 0;
    int err = jobs_all(ctx, NULL, &v, &n);
    char **ids = err == 0 ? calloc(n + 1, sizeof(*ids)) : NULL;
    if (err == 0 && ids == NULL) {
        err = -ENOMEM;
    }
    for (size_t i = 0; err == 0 && i < n; i++) {
        ids[i] = strdup(v[i].id);
        if (ids[i] == NULL) {
            err = -ENOMEM;
        }
    }
    if (err == 0) {
        *out = ids;
        ids = NULL;
    }
    cli_strv_free(ids);
    free(v);
    return err;
}

/* ---- ls / show ---- */

static json_t *
job_json(const struct cli_job *j)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:i}", "id",
                     j->id, "kind", j->kind, "bck", j->bck, "state", cli_job_state_name(j->state),
                     "err", j->err, "objects", (json_int_t)j->objs, "bytes", (json_int_t)j->bytes,
                     "total_objs", (json_int_t)j->total_objs, "start_time", (json_int_t)j->start_ns,
                     "end_time", (json_int_t)j->end_ns, "eta_ns", (json_int_t)j->eta_ns, "nodes",
                     (int)j->nodes, "nodes_running", (int)j->nodes_running);
}

static void
fmt_count(const struct cli_ctx *ctx, uint64_t v, bool bytes, char *out, size_t n)
{
    if (bytes && !ctx->raw) {
        cli_fmt_size(v, out, n);
    } else {
        snprintf(out, n, "%llu", (unsigned long long)v);
    }
}

static void
fmt_when(const struct cli_ctx *ctx, int64_t ns, char *out, size_t n)
{
    if (ctx->raw && ns > 0) {
        snprintf(out, n, "%lld", (long long)ns);
    } else {
        cli_fmt_time_ns(ns, out, n);
    }
}

static const char *const ls_hdrs[] = {"ID",    "KIND",  "BUCKET", "OBJECTS",
                                      "BYTES", "START", "END",    "STATE"};

static int
jobs_table(struct cli_ctx *ctx, const struct cli_job *v, size_t n)
{
    struct cli_table t;
    int err = 0;
    cli_table_init(&t, 8, ls_hdrs);
    t.right = (1u << 3) | (1u << 4);
    for (size_t i = 0; i < n && err == 0; i++) {
        char objs[32], bytes[32], st[40], et[40];
        fmt_count(ctx, v[i].objs, false, objs, sizeof(objs));
        fmt_count(ctx, v[i].bytes, true, bytes, sizeof(bytes));
        fmt_when(ctx, v[i].start_ns, st, sizeof(st));
        fmt_when(ctx, v[i].end_ns, et, sizeof(et));
        const char *row[8] = {v[i].id, v[i].kind, v[i].bck[0] ? v[i].bck : NULL, objs, bytes,
                              st,      et,        cli_job_state_name(v[i].state)};
        err = cli_table_add(&t, row);
    }
    if (err == 0) {
        cli_table_print(&t, ctx->out, !ctx->no_headers);
    }
    cli_table_fini(&t);
    return err;
}

/* Prints jobs as JSON or a table; a hint instead of an empty table. */
static int
jobs_print(struct cli_ctx *ctx, const struct cli_job *v, size_t n, bool all, const char *kind)
{
    if (ctx->json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr != NULL && i < n; i++) {
            if (json_array_append_new(arr, job_json(&v[i])) < 0) {
                json_decref(arr);
                arr = NULL;
            }
        }
        if (arr == NULL) {
            return -ENOMEM;
        }
        cli_print_json(ctx, arr);
        json_decref(arr);
        return 0;
    }
    if (n == 0) {
        if (!ctx->no_headers) {
            fprintf(ctx->out, "No %sjobs%s%s%s\n", all ? "" : "running ", kind ? " of kind \"" : "",
                    kind ? kind : "", kind ? "\"" : "");
            if (!all) {
                fprintf(ctx->out, "(use --all to include finished ones)\n");
            }
        }
        return 0;
    }
    return jobs_table(ctx, v, n);
}

int
cli_cmd_job_ls(struct cli_ctx *ctx, const struct cli_args *a)
{
    const char *kind = a->npos > 0 ? a->pos[0] : NULL;
    bool all = cli_flag_on(a, CLI_F_ALL);
    struct cli_job *v = NULL;
    size_t n = 0, kept = 0;
    int err = jobs_all(ctx, kind, &v, &n);
    if (err < 0) {
        return cmd_err(err);
    }
    for (size_t i = 0; i < n; i++) {
        if (all || v[i].state == CLI_JOB_RUNNING) {
            v[kept++] = v[i];
        }
    }
    err = jobs_print(ctx, v, kept, all, kind);
    free(v);
    return err;
}

static int
key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *const node_hdrs[] = {"NODE",  "OBJECTS", "BYTES", "TOTAL",
                                        "START", "END",     "STATE", "ERROR"};

/* One row per node part of the job, nodes sorted by id. */
static int
nodes_table(struct cli_ctx *ctx, const json_t *snaps)
{
    size_t nn = json_object_size(snaps), k = 0;
    const char **keys = calloc(nn + 1, sizeof(*keys));
    const char *key;
    json_t *arr;
    struct cli_table t;
    int err = keys != NULL ? 0 : -ENOMEM;
    json_object_foreach((json_t *)snaps, key, arr)
    {
        if (keys != NULL && k < nn) {
            keys[k++] = key;
        }
    }
    if (keys != NULL) {
        qsort(keys, k, sizeof(*keys), key_cmp);
    }
    cli_table_init(&t, 8, node_hdrs);
    t.right = (1u << 1) | (1u << 2) | (1u << 3);
    for (size_t i = 0; i < k && err == 0; i++) {
        size_t x;
        json_t *e;
        json_array_foreach(json_object_get(snaps, keys[i]), x, e)
        {
            struct cli_job s;
            char objs[32], bytes[32], tot[32], st[40], et[40];
            if (err < 0 || snap_parse(e, &s) < 0) {
                continue;
            }
            fmt_count(ctx, s.objs, false, objs, sizeof(objs));
            fmt_count(ctx, s.bytes, true, bytes, sizeof(bytes));
            fmt_count(ctx, s.total_objs, false, tot, sizeof(tot));
            fmt_when(ctx, s.start_ns, st, sizeof(st));
            fmt_when(ctx, s.end_ns, et, sizeof(et));
            const char *row[8] = {keys[i],
                                  objs,
                                  bytes,
                                  s.total_objs ? tot : NULL,
                                  st,
                                  et,
                                  cli_job_state_name(s.state),
                                  s.err[0] ? s.err : NULL};
            err = cli_table_add(&t, row);
        }
    }
    if (err == 0) {
        cli_table_print(&t, ctx->out, !ctx->no_headers);
    }
    cli_table_fini(&t);
    free(keys);
    return err;
}

static void
job_summary(struct cli_ctx *ctx, const struct cli_job *j)
{
    char buf[64], tot[32] = "";
    FILE *f = ctx->out;
    fprintf(f, "\nSummary:\n   %-10s %s\n   %-10s %s\n   %-10s %s\n   %-10s %s\n", "ID:", j->id,
            "Kind:", j->kind, "Bucket:", j->bck[0] ? j->bck : "-",
            "State:", cli_job_state_name(j->state));
    if (j->total_objs > 0) {
        snprintf(tot, sizeof(tot), " of %llu", (unsigned long long)j->total_objs);
    }
    fprintf(f, "   %-10s %llu%s\n", "Objects:", (unsigned long long)j->objs, tot);
    fmt_count(ctx, j->bytes, true, buf, sizeof(buf));
    fprintf(f, "   %-10s %s\n", "Bytes:", buf);
    fmt_when(ctx, j->start_ns, buf, sizeof(buf));
    fprintf(f, "   %-10s %s\n", "Started:", buf);
    fmt_when(ctx, j->end_ns, buf, sizeof(buf));
    fprintf(f, "   %-10s %s\n", "Ended:", buf);
    if (j->end_ns > 0 && j->start_ns > 0 && j->end_ns >= j->start_ns) {
        cli_fmt_duration_ms((j->end_ns - j->start_ns) / 1000000, buf, sizeof(buf));
        fprintf(f, "   %-10s %s\n", "Duration:", buf);
    } else if (j->state == CLI_JOB_RUNNING && j->eta_ns >= 0) {
        cli_fmt_duration_ms(j->eta_ns / 1000000, buf, sizeof(buf));
        fprintf(f, "   %-10s %s\n", "ETA:", buf);
    }
    fprintf(f, "   %-10s %u (%u running)\n", "Nodes:", j->nodes, j->nodes_running);
    if (j->err[0] != '\0') {
        fprintf(f, "   %-10s %s\n", "Error:", j->err);
    }
}

/* `job show KIND`: the jobs of that kind, all states. */
static int
show_kind(struct cli_ctx *ctx, const char *kind)
{
    struct cli_job *v = NULL;
    size_t n = 0;
    int err = jobs_get(ctx, "Kind", kind, &v, &n);
    if (err == -ENOENT && !kind_known(kind)) {
        cli_errorf(ctx, "job \"%s\" not found: no job has this id or kind (see 'ais job ls --all')",
                   kind);
    } else if (err == -ENOENT) {
        ctx->conn.errmsg[0] = '\0';
        err = jobs_print(ctx, NULL, 0, true, kind);
    } else if (err == 0) {
        err = jobs_print(ctx, v, n, true, kind);
    }
    free(v);
    return err;
}

int
cli_cmd_job_show(struct cli_ctx *ctx, const struct cli_args *a)
{
    if (a->npos == 0) {
        return cli_cmd_job_ls(ctx, a);
    }
    const char *id = a->pos[0];
    json_t *snaps = NULL;
    struct cli_job *v = NULL;
    size_t n = 0;
    int err = snaps_get(ctx, "ID", id, &snaps);
    if (err == -ENOENT) {
        err = show_kind(ctx, id);
        goto out;
    }
    if (err == 0) {
        err = cli_jobs_from_snaps(snaps, &v, &n);
    }
    if (err == 0 && (n == 0 || strcmp(v[0].id, id) != 0)) {
        cli_errorf(ctx, "malformed job snapshots from the cluster for job \"%s\"", id);
        err = CLI_ESERVER;
    }
    if (err < 0) {
        goto out;
    }
    if (ctx->json) {
        cli_print_json(ctx, snaps);
    } else {
        err = nodes_table(ctx, snaps);
        job_summary(ctx, &v[0]);
    }
out:
    free(v);
    json_decref(snaps);
    return cmd_err(err);
}

/* ---- stop ---- */

static int
stop_send(struct cli_ctx *ctx, const char *key, const char *val)
{
    json_t *msg = cli_actmsg("stop", json_pack("{s:s}", key, val));
    int err = msg != NULL ? cli_http_json(ctx, "PUT", "/v1/cluster", NULL, msg, NULL) : -ENOMEM;
    json_decref(msg);
    return err;
}

/*
 * A download job is stopped through the downloader (DELETE /v1/download/abort), which also
 * stops the transfers in flight on the targets. 1 when arg named one (the outcome is in *err).
 */
static int
stop_download(struct cli_ctx *ctx, const char *arg, const struct cli_job *v, size_t n, int *err)
{
    struct cli_dl_job dj;
    if (n > 0 && strcmp(v[0].kind, "download") != 0) {
        return 0;
    }
    int rc = cli_dl_lookup(ctx, arg, &dj);
    if (rc == 1) {
        *err = cli_dl_abort(ctx, &dj);
    }
    return rc == 1;
}

int
cli_cmd_job_stop(struct cli_ctx *ctx, const struct cli_args *a)
{
    const char *arg = a->pos[0];
    struct cli_job *v = NULL;
    size_t n = 0;
    if (cli_ds_is_id(arg)) {
        /* dSort aborts through /v1/sort/abort, which stops every target's phases. */
        return cmd_err(cli_ds_abort(ctx, arg));
    }
    int err = jobs_get(ctx, "ID", arg, &v, &n);
    if ((err == 0 || err == -ENOENT) && stop_download(ctx, arg, v, err == 0 ? n : 0, &err)) {
        free(v);
        return cmd_err(err);
    }
    if (err == 0 && n > 0 && v[0].state != CLI_JOB_RUNNING) {
        fprintf(ctx->out, "Job %s (%s) already %s; nothing to stop\n", v[0].id, v[0].kind,
                cli_job_state_name(v[0].state));
    } else if (err == 0 && n > 0) {
        err = stop_send(ctx, "ID", arg);
        if (err == 0) {
            fprintf(ctx->out, "Stopped job %s (%s)\n", v[0].id, v[0].kind);
        }
    } else if (err == -ENOENT || (err == 0 && n == 0)) {
        /* Not a job id: a kind stops every running job of that kind. */
        free(v);
        v = NULL;
        err = kind_known(arg) ? 0 : jobs_get(ctx, "Kind", arg, &v, &n);
        if (err == -ENOENT) {
            cli_errorf(ctx, "job \"%s\" not found: no job has this id or kind (see 'ais job ls')",
                       arg);
        } else if (err == 0) {
            err = stop_send(ctx, "Kind", arg);
        }
        if (err == 0) {
            fprintf(ctx->out, "Stopped running \"%s\" jobs\n", arg);
        }
    }
    free(v);
    return cmd_err(err);
}

/* ---- start ---- */

int
cli_cmd_job_start(struct cli_ctx *ctx, const struct cli_args *a)
{
    char id[64] = "";
    struct cli_bck b;
    json_t *v = json_pack("{s:s}", "Kind", a->pos[0]);
    if (a->npos > 1) { /* a per-bucket job: scrub, make-n-copies */
        const char *why = NULL;
        if (cli_bck_parse(a->pos[1], &b, &why) < 0 || (b.obj != NULL && b.obj[0] != '\0')) {
            cli_errorf(ctx, "invalid bucket \"%s\": %s", a->pos[1],
                       why ? why : "object name given");
            json_decref(v);
            return CLI_EUSAGE;
        }
        json_object_set_new(v, "Bck",
                            json_pack("{s:s, s:s}", "name", b.name, "provider", b.provider));
    }
    json_t *msg = v != NULL ? cli_actmsg("start", v) : NULL;
    int err = msg != NULL ? cli_http_put_text(ctx, "/v1/cluster", msg, id, sizeof(id)) : -ENOMEM;
    json_decref(msg);
    if (err == 0) {
        fprintf(ctx->out, "Started %s \"%s\", use 'ais job wait %s' to wait for it\n", a->pos[0],
                id, id);
    }
    return cmd_err(err);
}

/* ---- wait ---- */

struct waiter {
    struct cli_ctx *ctx;
    const char *arg;
    bool by_kind;
    bool kind_seen; /* the cluster knows jobs of this kind, running or not */
    bool with_in;   /* progress counts in-objs too (prefetch) */
    size_t nids;
    char ids[CLI_JOB_WAIT_IDS_MAX][sizeof(((struct cli_job *)0)->id)];
    struct cli_job cur; /* the followed jobs folded into one */
};

static bool
wait_follows(const struct waiter *w, const char *id)
{
    for (size_t i = 0; i < w->nids; i++) {
        if (strcmp(w->ids[i], id) == 0) {
            return true;
        }
    }
    return false;
}

/* One poll: refreshes w->cur from the followed jobs. The first poll picks them. */
static int
wait_poll(struct waiter *w, bool first)
{
    struct cli_job *v = NULL;
    size_t n = 0;
    int err = jobs_get(w->ctx, w->by_kind ? "Kind" : "ID", w->arg, &v, &n);
    if (err == -ENOENT && w->by_kind) {
        err = 0; /* no job of the kind left: nothing runs */
    }
    w->kind_seen = w->kind_seen || (w->by_kind && n > 0);
    for (size_t i = 0; first && err == 0 && i < n && w->nids < CLI_JOB_WAIT_IDS_MAX; i++) {
        if (!w->by_kind || v[i].state == CLI_JOB_RUNNING) {
            memcpy(w->ids[w->nids++], v[i].id, sizeof(w->ids[0]));
        }
    }
    if (err == 0 && first && !w->by_kind && w->nids == 0) {
        err = -ENOENT; /* an empty reply for an id */
    }
    if (err == 0) {
        struct cli_job agg;
        bool seen = false;
        job_init(&agg, &w->cur);
        for (size_t i = 0; i < n; i++) {
            if (wait_follows(w, v[i].id)) {
                job_fold(&agg, &v[i]);
                seen = true;
            }
        }
        job_done(&agg);
        if (!seen && !w->by_kind && !first) {
            cli_errorf(w->ctx, "job \"%s\" is no longer known to the cluster", w->arg);
            err = -ENOENT;
        } else {
            w->cur = agg;
        }
    }
    free(v);
    return err;
}

/* The first poll: the argument as an id, else as a kind. */
static int
wait_start(struct waiter *w)
{
    memset(&w->cur, 0, sizeof(w->cur));
    snprintf(w->cur.id, sizeof(w->cur.id), "%s", w->arg);
    int err = wait_poll(w, true);
    if (err == -ENOENT) {
        w->by_kind = true;
        snprintf(w->cur.kind, sizeof(w->cur.kind), "%s", w->arg);
        err = wait_poll(w, true);
        if (err == 0 && w->nids == 0 && !w->kind_seen && !kind_known(w->arg)) {
            cli_errorf(w->ctx,
                       "job \"%s\" not found: no job has this id or kind (see 'ais job "
                       "ls --all')",
                       w->arg);
            err = -ENOENT;
        }
    }
    return err;
}

static bool
poll_err_transient(int err)
{
    return err == -EAGAIN || err == -ECONNREFUSED || err == -ETIMEDOUT || err == -ECONNRESET;
}

size_t
cli_term_width(FILE *f)
{
    struct winsize ws;
    if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) {
        return ws.ws_col - 1u;
    }
    return 79;
}

static void
wait_draw(struct waiter *w, const char *label, int64_t t0, unsigned tick, bool last)
{
    char line[512];
    struct cli_job shown = w->cur;
    shown.objs += w->with_in ? shown.in_objs : 0;
    cli_job_progress_render(line, sizeof(line), label, &shown, (ais_mono_ns() - t0) / 1000000, tick,
                            cli_term_width(w->ctx->err));
    fprintf(w->ctx->err, "\r%s\033[K%s", line, last ? "\n" : "");
    fflush(w->ctx->err);
}

void
cli_nap_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Polls until the followed jobs end or the deadline passes. */
static int
wait_loop(struct waiter *w, int64_t timeout_ms, bool draw, const char *label)
{
    int64_t t0 = ais_mono_ns(), deadline = t0 + timeout_ms * 1000000;
    int64_t interval = CLI_JOB_POLL_MS_MIN;
    unsigned errs = 0;
    uint64_t polls_max = (uint64_t)(timeout_ms / CLI_JOB_POLL_MS_MIN) + 2;
    int err = 0;
    for (uint64_t i = 0; i < polls_max && w->cur.state == CLI_JOB_RUNNING; i++) {
        int64_t left_ms = (deadline - ais_mono_ns()) / 1000000;
        if (left_ms <= 0) {
            break;
        }
        if (draw) {
            wait_draw(w, label, t0, (unsigned)i, false);
        }
        cli_nap_ms(interval < left_ms ? interval : left_ms);
        interval = interval * 2 < CLI_JOB_POLL_MS_MAX ? interval * 2 : CLI_JOB_POLL_MS_MAX;
        left_ms = (deadline - ais_mono_ns()) / 1000000;
        w->ctx->conn.ctrl_timeout_ms =
            left_ms < 1000 ? 1000 : (left_ms < CLI_CTRL_TIMEOUT_MS ? left_ms : CLI_CTRL_TIMEOUT_MS);
        err = wait_poll(w, false);
        if (err < 0 && poll_err_transient(err) && ++errs <= CLI_JOB_POLL_ERRS_MAX) {
            err = 0;
            continue;
        }
        if (err < 0) {
            break;
        }
        errs = 0;
    }
    if (draw) {
        wait_draw(w, label, t0, 0, true);
    }
    return err;
}

static int
wait_result(struct waiter *w, int64_t timeout_ms)
{
    struct cli_ctx *ctx = w->ctx;
    const struct cli_job *j = &w->cur;
    char what[160], d[24];
    if (w->by_kind) {
        snprintf(what, sizeof(what), "\"%s\" jobs (%zu)", w->arg, w->nids);
    } else {
        snprintf(what, sizeof(what), "job %s (%s)", j->id, j->kind);
    }
    switch (j->state) {
    case CLI_JOB_RUNNING:
        cli_fmt_duration_ms(timeout_ms, d, sizeof(d));
        cli_errorf(ctx, "timed out after %s waiting for %s: still running, %llu objects done", d,
                   what, (unsigned long long)j->objs);
        return CLI_EWAITTIMEOUT;
    case CLI_JOB_ABORTED:
        cli_errorf(ctx, "%s was aborted%s%s", what, j->err[0] ? ": " : "", j->err);
        return CLI_EJOBFAIL;
    case CLI_JOB_ERROR:
        cli_errorf(ctx, "%s failed: %s", what, j->err[0] ? j->err : "unknown error");
        return CLI_EJOBFAIL;
    case CLI_JOB_FINISHED:
    default:
        break;
    }
    if (w->by_kind && w->nids == 0) {
        fprintf(ctx->out, "No running \"%s\" jobs\n", w->arg);
    } else if (j->end_ns > 0 && j->start_ns > 0 && j->end_ns >= j->start_ns) {
        cli_fmt_duration_ms((j->end_ns - j->start_ns) / 1000000, d, sizeof(d));
        fprintf(ctx->out, "Finished %s: %llu objects in %s\n", what, (unsigned long long)j->objs,
                d);
    } else {
        fprintf(ctx->out, "Finished %s: %llu objects\n", what, (unsigned long long)j->objs);
    }
    return 0;
}

int
cli_cmd_job_wait(struct cli_ctx *ctx, const struct cli_args *a)
{
    int64_t timeout_ms = CLI_JOB_WAIT_MS_MAX;
    const char *tv = a->val[CLI_F_TIMEOUT];
    if (cli_flag_on(a, CLI_F_TIMEOUT) && (ais_duration_parse_ms(tv, &timeout_ms) < 0 ||
                                          timeout_ms <= 0 || timeout_ms > CLI_JOB_WAIT_MS_MAX)) {
        cli_errorf(
            ctx, "invalid --timeout \"%s\": a duration such as 90s, 5m or 2h (at most 7 days)", tv);
        return CLI_EUSAGE;
    }
    if (cli_ds_is_id(a->pos[0])) {
        /* A dSort job's phases and errors are in /v1/sort, not in the job table. */
        return cmd_err(cli_ds_wait(ctx, a->pos[0], timeout_ms));
    }
    struct waiter *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return -ENOMEM;
    }
    w->ctx = ctx;
    w->arg = a->pos[0];
    int err = wait_start(w);
    if (err == 0) {
        char label[128];
        snprintf(label, sizeof(label), "%.47s[%.63s]", w->by_kind ? w->arg : w->cur.kind,
                 w->by_kind ? "*" : w->cur.id);
        err = wait_loop(w, timeout_ms, cli_progress_wanted(ctx) && w->nids > 0, label);
    }
    if (err == 0) {
        err = wait_result(w, timeout_ms);
    }
    free(w);
    return cmd_err(err);
}

/* ---- waiting for one job from other commands (prefetch, evict, bucket cp) ---- */

int
cli_job_wait_id(struct cli_ctx *ctx, const char *id, int64_t timeout_ms, bool draw, bool with_in,
                struct cli_job *out)
{
    AIS_ASSERT(timeout_ms > 0);
    struct waiter *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return -ENOMEM;
    }
    w->ctx = ctx;
    w->arg = id;
    w->with_in = with_in;
    memset(&w->cur, 0, sizeof(w->cur));
    snprintf(w->cur.id, sizeof(w->cur.id), "%s", id);
    int err = wait_poll(w, true);
    if (err == -ENOENT && ctx->conn.errmsg[0] == '\0') {
        cli_errorf(ctx, "job \"%s\" not found right after it started", id);
    }
    if (err == 0) {
        char label[128];
        snprintf(label, sizeof(label), "%.47s[%.63s]", w->cur.kind, w->cur.id);
        err = wait_loop(w, timeout_ms, draw, label);
    }
    if (err == 0 && w->cur.state == CLI_JOB_RUNNING) {
        char d[24];
        cli_fmt_duration_ms(timeout_ms, d, sizeof(d));
        cli_errorf(ctx,
                   "timed out after %s waiting for job %s (%s): still running; follow it "
                   "with 'ais job wait %s'",
                   d, id, w->cur.kind, id);
        err = CLI_EWAITTIMEOUT;
    }
    if (err == 0 || err == CLI_EWAITTIMEOUT) {
        *out = w->cur;
    }
    free(w);
    return cmd_err(err);
}

int
cli_job_errs(struct cli_ctx *ctx, const char *id, struct ais_buf *out)
{
    json_t *snaps = NULL;
    const char *node;
    json_t *arr;
    int err = snaps_get(ctx, "ID", id, &snaps);
    json_object_foreach(err == 0 ? snaps : NULL, node, arr)
    {
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e)
        {
            const char *msg = json_string_value(json_object_get(e, "err"));
            if (err == 0 && msg != NULL && msg[0] != '\0') {
                if (out->len > 0) {
                    err = ais_buf_append(out, "; ", 2);
                }
                err = err ? err : ais_buf_append(out, msg, strlen(msg));
            }
        }
    }
    json_decref(snaps);
    return cmd_err(err);
}
