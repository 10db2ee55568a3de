/*
 * `ais object promote` and its alias `ais promote`: files and directories that the targets see
 * become objects.
 *
 * Design notes: the source lives on the targets' file systems, not necessarily here, so the
 * CLI only makes it absolute (AIS targets refuse relative paths): a relative path is joined to
 * the working directory and normalised lexically, then resolved with realpath() when it exists
 * here too (the usual case on one machine). Destination naming is `ais put`'s: BUCKET names
 * the object after the file, BUCKET/NAME names it, BUCKET/PREFIX/ (or -r) puts everything
 * under a prefix; the target applies it, the CLI only prints it. The request is one ActMsg
 * (POST /v1/objects/BUCKET {"action":"promote","value":{tid,src,obj,rcr,ovw,dls,notshr}})
 * built by a pure function for the unit tests; the answer is a job id (kind "promote", objects
 * counted per node), followed with `ais job wait`'s loop when --wait or --progress is given.
 */
#include "cli/cli_int.h"
#include "common/err.h"
#include "common/names.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Appends the segments of s to out[0..*len), resolving "." and "..". */
static int
path_push(const char *s, char *out, size_t n, size_t *len)
{
    while (*s != '\0') {
        size_t sl = strcspn(s, "/");
        if (sl == 2 && s[0] == '.' && s[1] == '.') {
            while (*len > 0 && out[*len - 1] != '/') {
                (*len)--;
            }
            *len -= *len > 0; /* the '/' before the dropped segment */
        } else if (sl > 0 && !(sl == 1 && s[0] == '.')) {
            if (*len + 1 + sl + 1 > n) {
                return -ENAMETOOLONG;
            }
            out[(*len)++] = '/';
            memcpy(out + *len, s, sl);
            *len += sl;
        }
        s += sl;
        s += *s == '/';
    }
    return 0;
}

int
cli_path_abs(const char *cwd, const char *path, char *out, size_t n)
{
    size_t len = 0;
    int err = 0;
    if (n < 2) {
        return -ENAMETOOLONG;
    }
    if (path[0] != '/' && cwd == NULL) {
        return -EINVAL;
    }
    if (path[0] != '/') {
        err = path_push(cwd, out, n, &len);
    }
    err = err ? err : path_push(path, out, n, &len);
    if (err == 0 && len == 0) {
        out[len++] = '/';
    }
    if (err == 0) {
        out[len] = '\0';
    }
    return err;
}

/* SRC_PATH made absolute into p->src. */
static int
src_abs(const char *src, const char *cwd, struct cli_promote *p, char *err, size_t errlen)
{
    char real[PATH_MAX];
    if (src[0] == '\0') {
        snprintf(err, errlen, "empty source path");
        return CLI_EUSAGE;
    }
    int rc = cli_path_abs(cwd, src, p->src, sizeof(p->src));
    if (rc < 0) {
        snprintf(err, errlen, "source path \"%.200s\": %s", src,
                 rc == -EINVAL ? "relative, and the working directory is unknown" : "too long");
        return CLI_EUSAGE;
    }
    if (src[0] != '/' && realpath(p->src, real) != NULL && strlen(real) < sizeof(p->src)) {
        memcpy(p->src, real, strlen(real) + 1);
    }
    return 0;
}

/* DST_BUCKET[/NAME|/PREFIX/] into p->dst and p->obj. */
static int
dst_parse(const char *dst, struct cli_promote *p, char *err, size_t errlen)
{
    const char *why = NULL;
    if (cli_bck_parse(dst, &p->dst, &why) < 0) {
        snprintf(err, errlen, "invalid destination \"%s\": %s", dst, why);
        return AIS_EBADNAME;
    }
    p->obj = p->dst.obj != NULL ? p->dst.obj : "";
    size_t ol = strlen(p->obj);
    size_t check = ol > 0 && p->obj[ol - 1] == '/' ? ol - 1 : ol; /* a prefix: its name part */
    if (check > 0 && ais_obj_name_check(p->obj, check, &why) != 0) {
        snprintf(err, errlen, "invalid object name or prefix \"%s\": %s", p->obj, why);
        return AIS_EBADNAME;
    }
    return 0;
}

/* --target-id as `ais cluster show` prints it ("t[ID]") or bare. */
static int
tid_parse(const char *v, struct cli_promote *p, char *err, size_t errlen)
{
    size_t l = v != NULL ? strlen(v) : 0;
    if (l > 3 && v[0] == 't' && v[1] == '[' && v[l - 1] == ']') {
        v += 2;
        l -= 3;
    }
    if (v != NULL && (l == 0 || l >= sizeof(p->tid) || strcspn(v, "/?#&[] ") < l)) {
        snprintf(err, errlen, "invalid --target-id \"%s\" (see 'ais cluster show target')", v);
        return CLI_EUSAGE;
    }
    snprintf(p->tid, sizeof(p->tid), "%.*s", (int)l, v != NULL ? v : "");
    return 0;
}

int
cli_promote_parse(const struct cli_args *a, const char *cwd, struct cli_promote *out, char *err,
                  size_t errlen)
{
    struct cli_promote p;
    memset(&p, 0, sizeof(p));
    if (a->npos != 2) {
        snprintf(err, errlen, "expected SRC_PATH and DST_BUCKET[/OBJ_NAME_OR_PREFIX/]");
        return CLI_EUSAGE;
    }
    int rc = src_abs(a->pos[0], cwd, &p, err, errlen);
    rc = rc ? rc : dst_parse(a->pos[1], &p, err, errlen);
    rc = rc ? rc : tid_parse(a->val[CLI_F_TARGET_ID], &p, err, errlen);
    if (rc < 0) {
        return rc;
    }
    p.recursive = cli_flag_on(a, CLI_F_RECURSIVE);
    p.overwrite = cli_flag_on(a, CLI_F_OVERWRITE_DST);
    p.delete_src = cli_flag_on(a, CLI_F_DELETE_SRC);
    p.not_file_share = cli_flag_on(a, CLI_F_NOT_FILE_SHARE);
    *out = p;
    return 0;
}

json_t *
cli_promote_msg(const struct cli_promote *p)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:b, s:b, s:b, s:b}}", "action", "promote",
                     "name", p->src, "value", "tid", p->tid, "src", p->src, "obj", p->obj, "rcr",
                     p->recursive, "ovw", p->overwrite, "dls", p->delete_src, "notshr",
                     p->not_file_share);
}

void
cli_promote_dst_str(const struct cli_promote *p, char *out, size_t n)
{
    char b[AIS_BCKNAME_BYTES_MAX + 16];
    size_t ol = strlen(p->obj);
    bool prefix = p->recursive || (ol > 0 && p->obj[ol - 1] == '/');
    const char *base = strrchr(p->src, '/');
    base = base != NULL ? base + 1 : p->src;
    cli_bck_str(&p->dst, b, sizeof(b));
    snprintf(out, n, "%s/%s", b, prefix || ol > 0 ? p->obj : base);
}

/* POST the ActMsg; *id gets the job id ("" when nothing needed a job). */
static int
promote_send(struct cli_ctx *ctx, const struct cli_promote *p, char *id, size_t cap)
{
    struct ais_buf path;
    struct cli_resp resp;
    char query[64];
    json_t *msg = cli_promote_msg(p);
    char *text = msg != NULL ? json_dumps(msg, JSON_COMPACT) : NULL;
    int err = text != NULL ? 0 : -ENOMEM;
    ais_buf_init(&path, AIS_URI_BYTES_MAX);
    cli_resp_init(&resp);
    cli_bck_query(&p->dst, query, sizeof(query));
    err = err ? err : ais_buf_append(&path, "/v1/objects/", 12);
    err = err ? err : cli_url_escape(&path, p->dst.name, false);
    if (err == 0) {
        struct cli_req rq = {.method = "POST",
                             .path = path.data,
                             .query = query,
                             .body = text,
                             .body_len = strlen(text),
                             .timeout_ms = ctx->conn.ctrl_timeout_ms};
        err = cli_http_do(&ctx->conn, &rq, &resp);
    }
    if (err == 0) {
        size_t n = resp.body.len < cap - 1 ? resp.body.len : cap - 1;
        memcpy(id, resp.body.data != NULL ? resp.body.data : "", n);
        id[n] = '\0';
        id[strcspn(id, "\r\n \"")] = '\0';
    }
    cli_resp_fini(&resp);
    ais_buf_fini(&path);
    free(text);
    json_decref(msg);
    return err;
}

/* --wait: follows the job and prints what it promoted; exit 9 when it failed. */
static int
promote_wait(struct cli_ctx *ctx, const struct cli_promote *p, const char *id, int64_t timeout_ms,
             const char *dst)
{
    struct cli_job j;
    char sz[32];
    int err = cli_job_wait_id(ctx, id, timeout_ms, cli_progress_wanted(ctx), false, &j);
    if (err < 0) {
        return err;
    }
    if (j.state == CLI_JOB_ABORTED || j.state == CLI_JOB_ERROR) {
        cli_errorf(ctx, "promote job %s %s%s%s", id,
                   j.state == CLI_JOB_ABORTED ? "was aborted" : "failed", j.err[0] ? ": " : "",
                   j.err);
        return CLI_EJOBFAIL;
    }
    cli_fmt_size(j.bytes, sz, sizeof(sz));
    fprintf(ctx->out, "Promoted %llu object%s (%s) from %s to %s\n", (unsigned long long)j.objs,
            j.objs == 1 ? "" : "s", sz, p->src, dst);
    return 0;
}

int
cli_cmd_promote(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_promote p;
    char cwd[PATH_MAX], why[CLI_ERRMSG_BYTES], id[128];
    char dst[AIS_BCKNAME_BYTES_MAX + AIS_OBJNAME_BYTES_MAX + 16];
    int64_t timeout_ms = CLI_JOB_WAIT_MS_MAX;
    const char *tv = a->val[CLI_F_TIMEOUT];
    bool wait = cli_flag_on(a, CLI_F_WAIT) || ctx->progress == CLI_PROGRESS_ON;
    if (cli_flag_on(a, CLI_F_TIMEOUT) && (!wait || ais_duration_parse_ms(tv, &timeout_ms) < 0 ||
                                          timeout_ms <= 0 || timeout_ms > CLI_JOB_WAIT_MS_MAX)) {
        cli_errorf(ctx, "invalid --timeout \"%s\": with --wait, a duration such as 90s or 5m", tv);
        return CLI_EUSAGE;
    }
    int err = cli_promote_parse(a, getcwd(cwd, sizeof(cwd)), &p, why, sizeof(why));
    if (err < 0) {
        cli_errorf(ctx, "%s", why);
        return err;
    }
    cli_promote_dst_str(&p, dst, sizeof(dst));
    fprintf(ctx->out, "PROMOTE %s => %s\n", p.src, dst);
    fflush(ctx->out);
    err = promote_send(ctx, &p, id, sizeof(id));
    if (err == 0 && id[0] == '\0') {
        fprintf(ctx->out, "Nothing to promote: the cluster started no job\n");
    } else if (err == 0 && !wait) {
        fprintf(ctx->out, "Started promote job %s; to monitor: ais show job %s\n", id, id);
    } else if (err == 0) {
        err = promote_wait(ctx, &p, id, timeout_ms, dst);
    }
    return err;
}
