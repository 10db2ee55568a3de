/*
 * `ais archive put` and `ais archive bucket`: writes into shards (AIS cmd/cli/cli/arch.go).
 *
 * Design notes: `put` sends one local file as a member of a shard (PUT /v1/objects/B/SHARD
 * ?archpath=NAME, header Ais-Pine: 1 with --append, the shard must exist; 2 with
 * --append-or-put; none: a new shard with that file, replacing the object), streamed from the
 * file like `ais put`. `bucket` sends one ActMsg {"action":"archive","value":ArchiveBckMsg} to
 * the source bucket and prints the job id; --wait follows it with `ais job wait`'s loop. The
 * names are --list (comma-separated) or --template (expanded by the gateway), or the source
 * argument's object part (a name or a template, as AIS).
 */
#include "cli/cli_int.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct arch_src {
    int fd;
    int err;
};

static size_t
arch_read(char *p, size_t size, size_t n, void *arg)
{
    struct arch_src *s = arg;
    for (;;) {
        ssize_t r = read(s->fd, p, size * n);
        if (r >= 0) {
            return (size_t)r;
        }
        if (errno != EINTR) {
            s->err = -errno;
            return CURL_READFUNC_ABORT;
        }
    }
}

static int
arch_seek(void *arg, curl_off_t off, int origin)
{
    struct arch_src *s = arg;
    return origin == SEEK_SET && lseek(s->fd, (off_t)off, SEEK_SET) >= 0 ? CURL_SEEKFUNC_OK
                                                                         : CURL_SEEKFUNC_FAIL;
}

/* The query "archpath=..&provider=.." into q. */
static int
put_query(const struct cli_bck *b, const char *archpath, struct ais_buf *q)
{
    char prov[64];
    cli_bck_query(b, prov, sizeof(prov));
    int err = ais_buf_append(q, "archpath=", 9);
    err = err ? err : cli_url_escape(q, archpath, false);
    if (err == 0 && prov[0]) {
        err = ais_buf_append(q, "&", 1);
        err = err ? err : ais_buf_append(q, prov, strlen(prov));
    }
    return err;
}

int
cli_cmd_archive_put(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_bck b;
    const char *why = NULL, *file = a->pos[0], *archpath = a->val[CLI_F_ARCHPATH];
    bool app = cli_flag_on(a, CLI_F_APPEND), aop = cli_flag_on(a, CLI_F_APPEND_OR_PUT);
    if (cli_bck_parse(a->pos[1], &b, &why) < 0 || b.obj == NULL || b.obj[0] == '\0') {
        cli_errorf(ctx, "invalid destination \"%s\": %s", a->pos[1], why ? why : "BUCKET/SHARD");
        return CLI_EUSAGE;
    }
    if (app && aop) {
        cli_errorf(ctx, "--append and --append-or-put go alone: give one of them");
        return CLI_EUSAGE;
    }
    if (archpath == NULL || archpath[0] == '\0') {
        const char *base = strrchr(file, '/');
        archpath = base != NULL ? base + 1 : file; /* AIS: the file's name */
    }
    struct arch_src src = {.fd = open(file, O_RDONLY | O_CLOEXEC)};
    struct stat st;
    if (src.fd < 0 || fstat(src.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        cli_errorf(ctx, "cannot read %s: %s", file, src.fd < 0 ? strerror(errno) : "not a file");
        if (src.fd >= 0) {
            close(src.fd);
        }
        return -ENOENT;
    }
    struct ais_buf path, q;
    ais_buf_init(&path, AIS_URI_BYTES_MAX);
    ais_buf_init(&q, AIS_URI_BYTES_MAX);
    int err = cli_obj_path(&b, b.obj, &path);
    err = err ? err : put_query(&b, archpath, &q);
    struct cli_req rq = {.method = "PUT",
                         .path = path.data,
                         .query = q.data,
                         .hdr1 = app   ? "Ais-Pine: 1"
                                 : aop ? "Ais-Pine: 2"
                                       : NULL,
                         .read_fn = arch_read,
                         .seek_fn = arch_seek,
                         .read_arg = &src,
                         .upload_bytes = st.st_size};
    err = err ? err : cli_http_do(&ctx->conn, &rq, NULL);
    if (err == 0) {
        char bs[AIS_BCKNAME_BYTES_MAX + 16];
        cli_bck_str(&b, bs, sizeof(bs));
        fprintf(ctx->out, "%s %s => %s/%s/%s\n", app || aop ? "APPEND" : "ARCHIVE", file, bs, b.obj,
                archpath);
    }
    ais_buf_fini(&path);
    ais_buf_fini(&q);
    close(src.fd);
    return err;
}

/* ArchiveBckMsg from the arguments. NULL after cli_errorf. */
static json_t *
bucket_msg(struct cli_ctx *ctx, const struct cli_args *a, const struct cli_bck *src,
           const struct cli_bck *dst)
{
    const char *list = a->val[CLI_F_LIST], *tmpl = a->val[CLI_F_TEMPLATE];
    if ((list != NULL) + (tmpl != NULL) + (src->obj != NULL && src->obj[0]) > 1) {
        cli_errorf(ctx, "give the objects one way: --list, --template or SRC_BUCKET/NAMES");
        return NULL;
    }
    if (list == NULL && tmpl == NULL && (src->obj == NULL || src->obj[0] == '\0')) {
        cli_errorf(ctx, "which objects? give --list NAMES or --template TEMPLATE");
        return NULL;
    }
    if (src->obj != NULL && src->obj[0]) {
        tmpl = src->obj; /* a name is a template without ranges */
    }
    json_t *v = json_pack(
        "{s:{s:s,s:s},s:s,s:b,s:b,s:b}", "tobck", "name", dst->name, "provider", dst->provider,
        "archname", dst->obj, "isbn", cli_flag_on(a, CLI_F_INCL_SRC_BCK), "aate",
        cli_flag_on(a, CLI_F_APPEND_OR_PUT), "coer", cli_flag_on(a, CLI_F_CONT_ON_ERR));
    json_t *names = list != NULL ? json_array() : NULL;
    for (const char *p = list; p != NULL && names != NULL && *p;) {
        size_t n = strcspn(p, ",");
        const char *s = p;
        while (n > 0 && *s == ' ') {
            s++, n--;
        }
        while (n > 0 && s[n - 1] == ' ') {
            n--;
        }
        if (n > 0) {
            json_array_append_new(names, json_stringn(s, n));
        }
        p = s + n;
        p += strspn(p, " ");
        p += *p == ',';
    }
    if (v != NULL && names != NULL) {
        json_object_set_new(v, "objnames", names);
    } else if (v != NULL && tmpl != NULL) {
        json_object_set_new(v, "template", json_string(tmpl));
    }
    return cli_actmsg("archive", v);
}

int
cli_cmd_archive_bucket(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_bck src, dst;
    const char *why = NULL;
    char id[128], bs[AIS_BCKNAME_BYTES_MAX + 16], ds[AIS_BCKNAME_BYTES_MAX + 16];
    bool wait = cli_flag_on(a, CLI_F_WAIT) || ctx->progress == CLI_PROGRESS_ON;
    if (cli_bck_parse(a->pos[0], &src, &why) < 0) {
        cli_errorf(ctx, "invalid source bucket \"%s\": %s", a->pos[0], why);
        return CLI_EUSAGE;
    }
    if (cli_bck_parse(a->pos[1], &dst, &why) < 0 || dst.obj == NULL || dst.obj[0] == '\0') {
        cli_errorf(ctx, "invalid destination \"%s\": %s", a->pos[1], why ? why : "BUCKET/SHARD");
        return CLI_EUSAGE;
    }
    json_t *msg = bucket_msg(ctx, a, &src, &dst);
    if (msg == NULL) {
        return CLI_EUSAGE;
    }
    struct ais_buf path;
    ais_buf_init(&path, AIS_URI_BYTES_MAX);
    int err = cli_bck_path(&src, &path);
    err = err ? err : cli_http_put_text(ctx, path.data, msg, id, sizeof(id));
    json_decref(msg);
    ais_buf_fini(&path);
    if (err < 0) {
        return err; /* conn.errmsg says why */
    }
    cli_bck_str(&src, bs, sizeof(bs));
    cli_bck_str(&dst, ds, sizeof(ds));
    if (!wait) {
        fprintf(ctx->out, "Archiving %s => %s/%s: job %s; to monitor: ais show job %s\n", bs, ds,
                dst.obj, id, id);
        return 0;
    }
    struct cli_job j;
    err = cli_job_wait_id(ctx, id, CLI_JOB_WAIT_MS_MAX, cli_progress_wanted(ctx), true, &j);
    if (err < 0) {
        return err;
    }
    if (j.state == CLI_JOB_ABORTED || j.state == CLI_JOB_ERROR) {
        cli_errorf(ctx, "archive job %s %s%s%s", id,
                   j.state == CLI_JOB_ABORTED ? "was aborted" : "failed", j.err[0] ? ": " : "",
                   j.err);
        return CLI_EJOBFAIL;
    }
    fprintf(ctx->out, "Archived %s => %s/%s (job %s)%s%s\n", bs, ds, dst.obj, id,
            j.err[0] ? ": " : "", j.err);
    return 0;
}
