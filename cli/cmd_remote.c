/*
 * `ais prefetch`, `ais evict` (also `ais object prefetch|evict`, `ais bucket evict`) and
 * `ais bucket cp`: multi-object jobs on remote buckets, and bucket copies.
 *
 * Design notes: every command first turns its command line into one selection (struct
 * cli_sel): a whole bucket, a list of names (--list, or BUCKET/NAME arguments), a brace-range
 * template (--template, or one in the name), or a prefix (--prefix, or BUCKET/DIR/). The
 * server expands templates itself; a prefix is listed here and sent as names, in one job when
 * it fits one request (at most CLI_LISTRANGE_ONE_JOB_MAX names and
 * CLI_LISTRANGE_BATCH_BYTES), else in jobs of CLI_LISTRANGE_BATCH_NAMES, as `object rm` does.
 * Messages are built by pure functions (cli_listrange_msg, cli_copy_msg, cli_copy_query) so
 * the unit tests check the exact bodies the cluster gets. ais:// buckets are refused for
 * prefetch and evict before anything is sent: their objects are the only copy. --wait follows
 * each job with the poll loop of `ais job wait` (cli_job_wait_id) under one deadline, then
 * prints a summary from the jobs' counters: a prefetch counts fetched objects in in-objs,
 * already cached ones in loc-objs, and names the failed objects in its error ("failed K of N:
 * name (why); ..."), which cli_failed_parse splits back into names. Any failure is exit 9.
 */
#include "cli/cli_int.h"
#include "common/assert.h"
#include "common/err.h"
#include "common/names.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- selections ---- */

void
cli_sel_fini(struct cli_sel *s)
{
    if (s != NULL) {
        json_decref(s->names);
        s->names = NULL;
    }
}

static bool
has_template(const char *obj)
{
    const char *o = obj ? strchr(obj, '{') : NULL;
    return o != NULL && strstr(o, "..") != NULL && strchr(o, '}') != NULL;
}

int
cli_template_check(const char *t, const char **why)
{
    bool range = false;
    if (t == NULL || t[0] == '\0') {
        *why = "empty template";
        return CLI_EUSAGE;
    }
    for (const char *p = t; *p != '\0'; p++) {
        if (*p == '}') {
            *why = "'}' without '{'";
            return CLI_EUSAGE;
        }
        if (*p != '{') {
            continue;
        }
        const char *end = strchr(p + 1, '}'), *dots = strstr(p + 1, "..");
        const char *nested = strchr(p + 1, '{');
        if (end == NULL || (nested != NULL && nested < end)) {
            *why = "'{' without a matching '}'";
            return CLI_EUSAGE;
        }
        if (dots == NULL || dots > end || dots == p + 1 || dots + 2 == end) {
            *why = "a range is written {FIRST..LAST}, e.g. shard-{000..099}.tar";
            return CLI_EUSAGE;
        }
        range = true;
        p = end;
    }
    if (!range) {
        *why = "no {FIRST..LAST} range (use --list for names, --prefix for a prefix)";
        return CLI_EUSAGE;
    }
    return 0;
}

static int
name_add(json_t *names, const char *s, size_t len, char *err, size_t errlen)
{
    const char *why = NULL;
    if (ais_obj_name_check(s, len, &why) != 0) {
        snprintf(err, errlen, "invalid object name \"%.*s\": %s", (int)(len < 200 ? len : 200), s,
                 why);
        return AIS_EBADNAME;
    }
    json_t *v = json_stringn(s, len);
    return v != NULL && json_array_append_new(names, v) == 0 ? 0 : -ENOMEM;
}

/* --list "a, b,c": names without surrounding blanks; empty items are skipped. */
static int
list_split(const char *list, json_t *names, char *err, size_t errlen)
{
    int rc = 0;
    for (const char *p = list; rc == 0 && *p != '\0';) {
        size_t len = strcspn(p, ",");
        const char *s = p, *e = p + len;
        while (s < e && *s == ' ') {
            s++;
        }
        while (e > s && e[-1] == ' ') {
            e--;
        }
        if (e > s) {
            rc = name_add(names, s, (size_t)(e - s), err, errlen);
        }
        p += len + (p[len] == ',');
    }
    if (rc == 0 && json_array_size(names) == 0) {
        snprintf(err, errlen, "--list names no objects (e.g. --list a.jpg,b.jpg)");
        rc = CLI_EUSAGE;
    }
    return rc;
}

/* More BUCKET/NAME arguments: names in the bucket of the first. */
static int
sel_more_names(const struct cli_args *a, struct cli_sel *s, char *err, size_t errlen)
{
    int rc = 0;
    for (int i = 1; rc == 0 && i < a->npos; i++) {
        struct cli_bck b;
        const char *why = NULL;
        if (cli_bck_parse(a->pos[i], &b, &why) < 0 || b.obj == NULL || b.obj[0] == '\0' ||
            strcmp(b.name, s->b.name) != 0 || strcmp(b.provider, s->b.provider) != 0) {
            snprintf(err, errlen, "\"%s\": every argument must be an object of %s://%s", a->pos[i],
                     s->b.provider, s->b.name);
            return CLI_EUSAGE;
        }
        rc = name_add(s->names, b.obj, strlen(b.obj), err, errlen);
    }
    return rc;
}

/* What the object part of BUCKET[/OBJ] selects, without flags. */
static int
sel_from_obj(const struct cli_args *a, struct cli_sel *s, char *err, size_t errlen)
{
    const char *obj = s->b.obj;
    size_t len = obj ? strlen(obj) : 0;
    if (len > 0 && a->npos == 1 && has_template(obj)) {
        s->kind = CLI_SEL_TEMPLATE;
        s->tmpl = obj;
        return 0;
    }
    if (len > 0 && a->npos == 1 && obj[len - 1] == '/') {
        s->kind = CLI_SEL_PREFIX;
        s->prefix = obj;
        return 0;
    }
    if (len == 0 && a->npos == 1) {
        return 0;
    }
    if (len == 0) {
        snprintf(err, errlen, "\"%s\" names no object; give BUCKET/NAME arguments", a->pos[0]);
        return CLI_EUSAGE;
    }
    s->kind = CLI_SEL_LIST;
    s->names = json_array();
    int rc = s->names ? name_add(s->names, obj, len, err, errlen) : -ENOMEM;
    return rc ? rc : sel_more_names(a, s, err, errlen);
}

int
cli_sel_parse(const struct cli_args *a, struct cli_sel *out, char *err, size_t errlen)
{
    struct cli_sel s = {.kind = CLI_SEL_BUCKET};
    const char *why = NULL;
    int nsel =
        cli_flag_on(a, CLI_F_LIST) + cli_flag_on(a, CLI_F_TEMPLATE) + cli_flag_on(a, CLI_F_PREFIX);
    AIS_ASSERT(a->npos >= 1);
    int rc = cli_bck_parse(a->pos[0], &s.b, &why);
    if (rc < 0) {
        snprintf(err, errlen, "invalid bucket in \"%s\": %s", a->pos[0], why);
        return rc;
    }
    if (nsel > 1) {
        snprintf(err, errlen, "give one of --list, --template and --prefix");
        return CLI_EUSAGE;
    }
    if (nsel == 0) {
        rc = sel_from_obj(a, &s, err, errlen);
    } else if (a->npos != 1 || (s.b.obj != NULL && s.b.obj[0] != '\0')) {
        snprintf(err, errlen,
                 "with --list, --template or --prefix, name only the bucket (got \"%s\")",
                 a->npos != 1 ? a->pos[1] : a->pos[0]);
        rc = CLI_EUSAGE;
    } else if (cli_flag_on(a, CLI_F_LIST)) {
        s.kind = CLI_SEL_LIST;
        s.names = json_array();
        rc = s.names ? list_split(a->val[CLI_F_LIST], s.names, err, errlen) : -ENOMEM;
    } else if (cli_flag_on(a, CLI_F_TEMPLATE)) {
        s.kind = CLI_SEL_TEMPLATE;
        s.tmpl = a->val[CLI_F_TEMPLATE];
    } else {
        s.kind = CLI_SEL_PREFIX;
        s.prefix = a->val[CLI_F_PREFIX];
    }
    if (rc == 0 && s.kind == CLI_SEL_TEMPLATE && cli_template_check(s.tmpl, &why) < 0) {
        snprintf(err, errlen, "invalid template \"%s\": %s", s.tmpl, why);
        rc = CLI_EUSAGE;
    }
    if (rc < 0) {
        cli_sel_fini(&s);
        return rc;
    }
    *out = s;
    return 0;
}

/* ---- request bodies ---- */

static json_t *
sel_value(const struct cli_sel *s, const json_t *names)
{
    if (names != NULL) {
        return json_pack("{s:O}", "objnames", names);
    }
    AIS_ASSERT(s->kind == CLI_SEL_TEMPLATE);
    return json_pack("{s:s}", "template", s->tmpl);
}

json_t *
cli_listrange_msg(const char *action, const struct cli_sel *s, const json_t *names, bool latest)
{
    json_t *v = sel_value(s, names);
    if (v != NULL && strcmp(action, "prefetch-listrange") == 0 &&
        json_object_set_new(v, "latest-ver", json_boolean(latest)) < 0) {
        json_decref(v);
        v = NULL;
    }
    return v != NULL ? cli_actmsg(action, v) : NULL;
}

json_t *
cli_copy_msg(const struct cli_sel *s, const json_t *names, const struct cli_bck *dst, bool latest)
{
    bool whole = names == NULL && s->kind != CLI_SEL_TEMPLATE;
    json_t *v = whole ? json_object() : sel_value(s, names);
    const char *prefix = whole && s->kind == CLI_SEL_PREFIX ? s->prefix : "";
    if (v == NULL || json_object_update_new(v, json_pack("{s:s, s:s, s:b, s:b, s:b}", "prefix",
                                                         prefix, "prepend", "", "dry_run", 0,
                                                         "force", 0, "latest-ver", latest)) < 0) {
        json_decref(v);
        return NULL;
    }
    if (!whole && json_object_set_new(
                      v, "tobck",
                      json_pack("{s:s, s:s}", "name", dst->name, "provider", dst->provider)) < 0) {
        json_decref(v);
        return NULL;
    }
    return cli_actmsg(whole ? "copy-bck" : "copy-listrange", v);
}

int
cli_copy_query(const struct cli_bck *src, const struct cli_bck *dst, char *out, size_t n)
{
    struct ais_buf q, uname;
    ais_buf_init(&q, CLI_URL_BYTES_MAX);
    ais_buf_init(&uname, CLI_URL_BYTES_MAX);
    int err = ais_buf_printf(&uname, "%s/@#/%s/", dst->provider, dst->name);
    err = err ? err : ais_buf_printf(&q, "provider=%s&bck_to=", src->provider);
    err = err ? err : cli_url_escape(&q, uname.data, false);
    if (err == 0 && q.len >= n) {
        err = -ENAMETOOLONG;
    }
    if (err == 0) {
        memcpy(out, q.data, q.len + 1);
    }
    ais_buf_fini(&q);
    ais_buf_fini(&uname);
    return err;
}

/* Bytes of name in a JSON array: quotes, comma and jansson's escapes. */
static size_t
name_json_bytes(const json_t *name)
{
    size_t n = 3;
    for (const unsigned char *p = (const unsigned char *)json_string_value(name); p && *p; p++) {
        n += *p == '"' || *p == '\\' ? 2 : (*p < 0x20 ? 6 : 1);
    }
    return n;
}

size_t
cli_batch_end(const json_t *names, size_t from)
{
    size_t n = json_array_size(names), bytes = 0, i = from;
    for (size_t k = from; from == 0 && k < n && k <= CLI_LISTRANGE_ONE_JOB_MAX; k++) {
        bytes += name_json_bytes(json_array_get(names, k));
    }
    if (from == 0 && n <= CLI_LISTRANGE_ONE_JOB_MAX && bytes <= CLI_LISTRANGE_BATCH_BYTES) {
        return n; /* one job for everything */
    }
    for (bytes = 0; i < n && i - from < CLI_LISTRANGE_BATCH_NAMES; i++) {
        size_t b = name_json_bytes(json_array_get(names, i));
        if (i > from && bytes + b > CLI_LISTRANGE_BATCH_BYTES) {
            break;
        }
        bytes += b;
    }
    return i;
}

/* ---- failed names in a job's error ---- */

int
cli_failed_parse(const char *err, json_t *out, uint64_t *nfailed)
{
    const char *p = err ? strstr(err, "failed ") : NULL;
    char *end = NULL;
    if (p == NULL) {
        return -EINVAL;
    }
    unsigned long long k = strtoull(p + 7, &end, 10);
    if (end == p + 7 || strncmp(end, " of ", 4) != 0 || (p = strchr(end, ':')) == NULL) {
        return -EINVAL;
    }
    *nfailed += k;
    for (p++; *p != '\0';) {
        while (*p == ' ' || *p == ';') {
            p++;
        }
        const char *open = strstr(p, " (");
        const char *close = open ? strstr(open, ");") : NULL;
        if (*p == '\0' || open == NULL || close == NULL) {
            break; /* the end, or an item cut short by the error's size limit */
        }
        json_t *item = json_pack("{s:s%, s:s%}", "name", p, (size_t)(open - p), "why", open + 2,
                                 (size_t)(close - open - 2));
        if (item == NULL || json_array_append_new(out, item) < 0) {
            return -ENOMEM;
        }
        p = close + 2;
    }
    return 0;
}

/* ---- running jobs ---- */

struct run {
    struct cli_ctx *ctx;
    const struct cli_args *a;
    const char *verb;   /* "prefetch", "evict", "copy" */
    const char *method; /* POST, DELETE */
    char query[CLI_URL_BYTES_MAX];
    char src[AIS_BCKNAME_BYTES_MAX + 16];
    char dst[AIS_BCKNAME_BYTES_MAX + 16];
    bool wait;
    int64_t deadline_ns;
    size_t jobs;
    struct cli_job sum; /* counters of every job waited for */
    json_t *failed;     /* [{"name","why"}] */
    uint64_t nfailed;
    struct ais_buf errs; /* job errors that name no objects */
};

/* Sends one ActMsg and reads the job id it answers. */
static int
job_send(struct run *r, const struct cli_bck *b, const json_t *msg, char *id, size_t cap)
{
    struct ais_buf path;
    struct cli_resp resp;
    char *text = json_dumps(msg, JSON_COMPACT);
    int err = text ? 0 : -ENOMEM;
    ais_buf_init(&path, AIS_URI_BYTES_MAX);
    cli_resp_init(&resp);
    err = err ? err : cli_bck_path(b, &path);
    if (err == 0) {
        struct cli_req rq = {.method = r->method,
                             .path = path.data,
                             .query = r->query,
                             .body = text,
                             .body_len = strlen(text),
                             .timeout_ms = r->ctx->conn.ctrl_timeout_ms};
        err = cli_http_do(&r->ctx->conn, &rq, &resp);
    }
    if (err == 0) {
        size_t n = resp.body.len < cap - 1 ? resp.body.len : cap - 1;
        memcpy(id, resp.body.data ? resp.body.data : "", n);
        id[n] = '\0';
        id[strcspn(id, "\r\n \"")] = '\0';
    }
    if (err == 0 && id[0] == '\0') {
        cli_errorf(r->ctx, "the cluster answered no job id for %s", r->verb);
        err = CLI_ESERVER;
    }
    cli_resp_fini(&resp);
    ais_buf_fini(&path);
    free(text);
    return err;
}

/* Folds an ended job into the summary; its failed names (or its error) are kept. */
static int
job_account(struct run *r, const struct cli_job *j)
{
    struct ais_buf e;
    int err = 0;
    r->sum.objs += j->objs;
    r->sum.bytes += j->bytes;
    r->sum.in_objs += j->in_objs;
    r->sum.in_bytes += j->in_bytes;
    r->sum.total_objs += j->total_objs;
    if (j->state == CLI_JOB_FINISHED) {
        return 0;
    }
    ais_buf_init(&e, AIS_CTRL_BODY_BYTES_MAX);
    if (j->state == CLI_JOB_ERROR && cli_job_errs(r->ctx, j->id, &e) == 0 &&
        cli_failed_parse(e.data, r->failed, &r->nfailed) == 0) {
        goto out;
    }
    err = ais_buf_printf(&r->errs, "%sjob %s %s%s%s", r->errs.len ? "; " : "", j->id,
                         j->state == CLI_JOB_ABORTED ? "was aborted" : "failed",
                         j->err[0] ? ": " : "", j->err);
out:
    ais_buf_fini(&e);
    return err;
}

/* Starts one job; with --wait follows it to its end. */
static int
job_run(struct run *r, const struct cli_bck *b, const json_t *msg)
{
    char id[128];
    int err = job_send(r, b, msg, id, sizeof(id));
    if (err < 0) {
        return err;
    }
    r->jobs++;
    if (!r->wait) {
        fprintf(r->ctx->out, "Started %s job %s; to monitor: ais show job %s\n", r->verb, id, id);
        return 0;
    }
    int64_t left_ms = (r->deadline_ns - ais_mono_ns()) / 1000000;
    struct cli_job j;
    err = cli_job_wait_id(r->ctx, id, left_ms > 0 ? left_ms : 1, cli_progress_wanted(r->ctx),
                          strcmp(r->verb, "prefetch") == 0, &j);
    return err == 0 ? job_account(r, &j) : err;
}

/* Names in jobs of at most one request each (see cli_batch_end). */
static int
run_names(struct run *r, const struct cli_bck *b, const char *action, const struct cli_sel *s,
          const json_t *names, const struct cli_bck *dst)
{
    size_t n = json_array_size(names);
    int err = 0;
    for (size_t i = 0; err == 0 && i < n;) {
        size_t end = cli_batch_end(names, i);
        json_t *batch = json_array();
        for (size_t k = i; batch != NULL && k < end; k++) {
            if (json_array_append(batch, json_array_get(names, k)) < 0) {
                json_decref(batch);
                batch = NULL;
            }
        }
        bool latest = cli_flag_on(r->a, CLI_F_LATEST);
        json_t *msg = batch == NULL ? NULL
                      : dst != NULL ? cli_copy_msg(s, batch, dst, latest)
                                    : cli_listrange_msg(action, s, batch, latest);
        err = msg != NULL ? job_run(r, b, msg) : -ENOMEM;
        json_decref(msg);
        json_decref(batch);
        i = end;
    }
    return err;
}

static int
list_entry(json_t *e, void *arg)
{
    json_t *name = json_object_get(e, "name");
    return json_is_string(name) && json_array_append((json_t *)arg, name) == 0 ? 0 : -ENOMEM;
}

/* The names under s->prefix, listed from the cluster (a remote bucket: from its backend). */
static int
prefix_names(struct run *r, const struct cli_sel *s, json_t **out)
{
    json_t *names = json_array();
    struct cli_list l = {.prefix = s->prefix, .props = "name", .fn = list_entry, .arg = names};
    int err = names ? cli_list_objects(&r->ctx->conn, &s->b, &l) : -ENOMEM;
    if (err == 0 && json_array_size(names) == 0) {
        cli_errorf(r->ctx, "no objects in %s%s%s%s", r->src, s->prefix[0] ? " with prefix \"" : "",
                   s->prefix, s->prefix[0] ? "\"" : "");
        err = -ENOENT;
    }
    if (err == 0) {
        *out = names;
        names = NULL;
    }
    json_decref(names);
    return err;
}

/* Runs the selection as list/range jobs: names, a template, or a listed prefix. */
static int
run_sel(struct run *r, const char *action, const struct cli_sel *s, const struct cli_bck *dst)
{
    json_t *names = NULL;
    int err = 0;
    if (s->kind == CLI_SEL_TEMPLATE) {
        bool latest = cli_flag_on(r->a, CLI_F_LATEST);
        json_t *msg =
            dst ? cli_copy_msg(s, NULL, dst, latest) : cli_listrange_msg(action, s, NULL, latest);
        err = msg ? job_run(r, &s->b, msg) : -ENOMEM;
        json_decref(msg);
        return err;
    }
    if (s->kind == CLI_SEL_LIST) {
        return run_names(r, &s->b, action, s, s->names, dst);
    }
    err = prefix_names(r, s, &names);
    err = err ? err : run_names(r, &s->b, action, s, names, dst);
    json_decref(names);
    return err;
}

/* ---- summaries ---- */

static int
run_failures(struct run *r)
{
    size_t i;
    json_t *e;
    if (r->nfailed == 0 && r->errs.len == 0) {
        return 0;
    }
    json_array_foreach(r->failed, i, e)
    {
        fprintf(r->ctx->out, "   %s (%s)\n", json_string_value(json_object_get(e, "name")),
                json_string_value(json_object_get(e, "why")));
    }
    if (r->nfailed > json_array_size(r->failed)) {
        fprintf(r->ctx->out, "   ... and %llu more (see 'ais show job')\n",
                (unsigned long long)(r->nfailed - json_array_size(r->failed)));
    }
    if (r->errs.len > 0) {
        cli_errorf(r->ctx, "%s of %s: %s", r->verb, r->src, r->errs.data);
    } else {
        cli_errorf(r->ctx, "%s of %llu object%s failed (listed above)", r->verb,
                   (unsigned long long)r->nfailed, r->nfailed == 1 ? "" : "s");
    }
    return CLI_EJOBFAIL;
}

static const char *
plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

static int
run_summary(struct run *r)
{
    char sz[32];
    const struct cli_job *j = &r->sum;
    FILE *f = r->ctx->out;
    if (strcmp(r->verb, "prefetch") == 0) {
        char in[40] = ""; /* bytes only from a cluster that counts them */
        cli_fmt_size(j->in_bytes, sz, sizeof(sz));
        if (j->in_bytes > 0) {
            snprintf(in, sizeof(in), " (%s)", sz);
        }
        fprintf(f, "Prefetched %s: fetched %llu object%s%s, already cached %llu, failed %llu%s\n",
                r->src, (unsigned long long)j->in_objs, plural(j->in_objs), in,
                (unsigned long long)j->objs, (unsigned long long)r->nfailed, r->nfailed ? ":" : "");
    } else if (strcmp(r->verb, "evict") == 0) {
        fprintf(f, "Evicted %llu object%s of %s, failed %llu%s\n", (unsigned long long)j->objs,
                plural(j->objs), r->src, (unsigned long long)r->nfailed, r->nfailed ? ":" : "");
    } else {
        cli_fmt_size(j->bytes, sz, sizeof(sz));
        fprintf(f, "Copied %llu object%s (%s) from %s to %s, failed %llu%s\n",
                (unsigned long long)j->objs, plural(j->objs), sz, r->src, r->dst,
                (unsigned long long)r->nfailed, r->nfailed ? ":" : "");
    }
    return run_failures(r);
}

/* ---- commands ---- */

static int
run_init(struct run *r, struct cli_ctx *ctx, const struct cli_args *a, const char *verb)
{
    int64_t timeout_ms = CLI_JOB_WAIT_MS_MAX;
    const char *tv = a->val[CLI_F_TIMEOUT];
    memset(r, 0, sizeof(*r));
    if (cli_flag_on(a, CLI_F_TIMEOUT) && (ais_duration_parse_ms(tv, &timeout_ms) < 0 ||
                                          timeout_ms <= 0 || timeout_ms > CLI_JOB_WAIT_MS_MAX)) {
        cli_errorf(
            ctx, "invalid --timeout \"%s\": a duration such as 90s, 5m or 2h (at most 7 days)", tv);
        return CLI_EUSAGE;
    }
    if (cli_flag_on(a, CLI_F_TIMEOUT) && !cli_flag_on(a, CLI_F_WAIT)) {
        cli_errorf(ctx, "--timeout applies to --wait; add --wait");
        return CLI_EUSAGE;
    }
    r->ctx = ctx;
    r->a = a;
    r->verb = verb;
    r->wait = cli_flag_on(a, CLI_F_WAIT);
    r->deadline_ns = ais_mono_ns() + timeout_ms * 1000000;
    r->failed = json_array();
    ais_buf_init(&r->errs, CLI_ERRMSG_BYTES);
    return r->failed != NULL ? 0 : -ENOMEM;
}

static void
run_fini(struct run *r)
{
    json_decref(r->failed);
    ais_buf_fini(&r->errs);
}

/* Parses the selection of a prefetch/evict and refuses ais:// buckets. */
static int
remote_sel(struct cli_ctx *ctx, const struct cli_args *a, const char *verb, struct cli_sel *s)
{
    char why[CLI_ERRMSG_BYTES];
    int err = cli_sel_parse(a, s, why, sizeof(why));
    if (err < 0) {
        cli_errorf(ctx, "%s", why);
        return err;
    }
    if (strcmp(s->b.provider, "ais") == 0) {
        cli_errorf(ctx,
                   "cannot %s ais://%s: %s works on remote buckets (s3://, gs://, ...); the "
                   "objects of an ais:// bucket are stored only in the cluster",
                   verb, s->b.name, verb);
        cli_sel_fini(s);
        return CLI_EUSAGE;
    }
    return 0;
}

int
cli_cmd_prefetch(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_sel s = {0};
    struct run r;
    int err = run_init(&r, ctx, a, "prefetch");
    err = err ? err : remote_sel(ctx, a, "prefetch", &s);
    if (err == 0) {
        if (s.kind == CLI_SEL_BUCKET) { /* a whole bucket: every name it lists */
            s.kind = CLI_SEL_PREFIX;
            s.prefix = "";
        }
        r.method = "POST";
        cli_bck_query(&s.b, r.query, sizeof(r.query));
        cli_bck_str(&s.b, r.src, sizeof(r.src));
        err = run_sel(&r, "prefetch-listrange", &s, NULL);
    }
    if (err == 0 && r.wait) {
        err = run_summary(&r);
    }
    cli_sel_fini(&s);
    run_fini(&r);
    return err;
}

/* `ais evict s3://b [--keep-md]`: every cached object of the bucket, no job. */
static int
evict_bucket(struct run *r, const struct cli_sel *s)
{
    struct ais_buf path;
    bool keep = cli_flag_on(r->a, CLI_F_KEEP_MD);
    json_t *msg = cli_actmsg("evict-remote-bck", NULL);
    char query[96];
    snprintf(query, sizeof(query), "provider=%s%s", s->b.provider, keep ? "&keep_bck_md=true" : "");
    ais_buf_init(&path, AIS_URI_BYTES_MAX);
    int err = msg ? cli_bck_path(&s->b, &path) : -ENOMEM;
    err = err ? err : cli_http_json(r->ctx, "DELETE", path.data, query, msg, NULL);
    if (err == 0) {
        fprintf(r->ctx->out, "Evicted %s: cached objects removed%s\n", r->src,
                keep ? ", bucket and its properties kept" : ", bucket dropped from the cluster");
    }
    ais_buf_fini(&path);
    json_decref(msg);
    return err;
}

int
cli_cmd_evict(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_sel s = {0};
    struct run r;
    int err = run_init(&r, ctx, a, "evict");
    err = err ? err : remote_sel(ctx, a, "evict", &s);
    if (err == 0 && s.kind != CLI_SEL_BUCKET && cli_flag_on(a, CLI_F_KEEP_MD)) {
        cli_errorf(ctx, "--keep-md applies to a whole bucket, not to selected objects");
        err = CLI_EUSAGE;
    }
    if (err == 0) {
        r.method = "DELETE";
        cli_bck_query(&s.b, r.query, sizeof(r.query));
        cli_bck_str(&s.b, r.src, sizeof(r.src));
        err = s.kind == CLI_SEL_BUCKET ? evict_bucket(&r, &s)
                                       : run_sel(&r, "evict-listrange", &s, NULL);
    }
    if (err == 0 && r.wait && s.kind != CLI_SEL_BUCKET) {
        err = run_summary(&r);
    }
    cli_sel_fini(&s);
    run_fini(&r);
    return err;
}

/* DST of `bucket cp`: a bucket, no object part. */
static int
cp_dst(struct cli_ctx *ctx, const char *arg, struct cli_bck *dst)
{
    const char *why = NULL;
    int err = cli_bck_parse(arg, dst, &why);
    if (err < 0) {
        cli_errorf(ctx, "invalid destination bucket \"%s\": %s", arg, why);
        return err;
    }
    if (dst->obj != NULL && dst->obj[0] != '\0') {
        cli_errorf(ctx, "destination \"%s\" must be a bucket, e.g. ais://copy", arg);
        return CLI_EUSAGE;
    }
    return 0;
}

int
cli_cmd_bucket_cp(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_sel s = {0};
    struct cli_bck dst;
    struct cli_args one = *a;
    char why[CLI_ERRMSG_BYTES];
    struct run r;
    one.npos = 1; /* the selection is of the source only */
    int err = run_init(&r, ctx, a, "copy");
    err = err ? err : cp_dst(ctx, a->pos[1], &dst);
    if (err == 0 && (err = cli_sel_parse(&one, &s, why, sizeof(why))) < 0) {
        cli_errorf(ctx, "%s", why);
    }
    if (err == 0 && s.kind == CLI_SEL_LIST && !cli_flag_on(a, CLI_F_LIST)) {
        cli_errorf(ctx,
                   "SRC is a bucket (got \"%s\"); select objects with --list, --template "
                   "or --prefix",
                   a->pos[0]);
        err = CLI_EUSAGE;
    }
    if (err == 0) {
        r.method = "POST";
        cli_bck_str(&s.b, r.src, sizeof(r.src));
        cli_bck_str(&dst, r.dst, sizeof(r.dst));
        err = cli_copy_query(&s.b, &dst, r.query, sizeof(r.query));
    }
    if (err == 0 && (s.kind == CLI_SEL_BUCKET || s.kind == CLI_SEL_PREFIX)) {
        json_t *msg = cli_copy_msg(&s, NULL, &dst, cli_flag_on(a, CLI_F_LATEST));
        err = msg ? job_run(&r, &s.b, msg) : -ENOMEM;
        json_decref(msg);
    } else if (err == 0) {
        err = run_sel(&r, "copy-listrange", &s, &dst);
    }
    if (err == 0 && r.wait) {
        err = run_summary(&r);
    }
    cli_sel_fini(&s);
    run_fini(&r);
    return err;
}
