/*
 * `ais put`, `ais get`, `ais object rm|stat|cat`.
 *
 * Design notes: a single file or object streams through the caller's connection; a directory
 * (put -r) or a bucket prefix (get of BUCKET/ or -r) becomes a sorted item list run by the
 * worker pool in xfer.c with one progress bar for the whole job. Object names follow AIS
 * habits: `put FILE BUCKET` names the object after the file, BUCKET/NAME/ (trailing slash)
 * is a virtual directory. Names listed from the cluster are checked with the shared name rules
 * before they become local paths, so a hostile name cannot escape the target directory. A
 * failed single GET removes the file it created. Destructive `object rm` asks first.
 */
#include "cli/cli_int.h"
#include "common/err.h"
#include "common/names.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int
obj_arg(struct cli_ctx *ctx, const char *s, struct cli_bck *b, bool need_name)
{
    const char *why = NULL;
    int err = cli_bck_parse(s, b, &why);
    if (err < 0) {
        cli_errorf(ctx, "invalid bucket in \"%s\": %s", s, why);
        return err;
    }
    if (need_name && (b->obj == NULL || b->obj[0] == '\0')) {
        cli_errorf(ctx, "\"%s\" names no object; expected BUCKET/NAME (e.g. ais://%s/file.txt)", s,
                   b->name);
        return CLI_EUSAGE;
    }
    if (need_name && ais_obj_name_check(b->obj, strlen(b->obj), &why) != 0) {
        cli_errorf(ctx, "invalid object name \"%s\": %s", b->obj, why);
        return AIS_EBADNAME;
    }
    return 0;
}

static const char *
base_name(const char *path)
{
    size_t l = strlen(path);
    while (l > 1 && path[l - 1] == '/') {
        l--;
    }
    const char *p = path + l;
    while (p > path && p[-1] != '/') {
        p--;
    }
    return p;
}

/* Object name for a single file: NAME, NAME/ + basename, or basename. */
static int
put_name(struct cli_ctx *ctx, const struct cli_bck *b, const char *file, char *out, size_t n)
{
    const char *nm = b->obj != NULL ? b->obj : "";
    const char *base = base_name(file);
    size_t l = strlen(nm);
    if (l == 0 || nm[l - 1] == '/') {
        snprintf(out, n, "%s%.*s", nm, (int)strcspn(base, "/"), base);
    } else {
        snprintf(out, n, "%s", nm);
    }
    const char *why = NULL;
    if (ais_obj_name_check(out, strlen(out), &why) != 0) {
        cli_errorf(ctx, "invalid object name \"%s\": %s", out, why);
        return AIS_EBADNAME;
    }
    return 0;
}

struct walk {
    struct cli_ctx *ctx;
    struct cli_xfer_item *items;
    size_t n;
    size_t cap;
    uint64_t bytes;
};

static int
walk_add(struct walk *w, const char *path, const char *obj, uint64_t size)
{
    if (w->n >= CLI_FILES_MAX) {
        cli_errorf(w->ctx, "more than %d files", CLI_FILES_MAX);
        return -E2BIG;
    }
    if (w->n == w->cap) {
        size_t cap = w->cap == 0 ? 64 : w->cap * 2;
        struct cli_xfer_item *v = realloc(w->items, cap * sizeof(*v));
        if (v == NULL) {
            return -ENOMEM;
        }
        w->items = v;
        w->cap = cap;
    }
    struct cli_xfer_item *it = &w->items[w->n];
    it->src = strdup(path);
    it->dst = strdup(obj);
    it->size = size;
    if (it->src == NULL || it->dst == NULL) {
        free(it->src);
        free(it->dst);
        return -ENOMEM;
    }
    w->n++;
    w->bytes += size;
    return 0;
}

/* Adds regular files under dir (symlinked files yes, symlinked directories no). */
static int
walk_dir(struct walk *w, const char *dir, const char *prefix, int depth)
{
    if (depth > AIS_WALK_DEPTH_MAX) {
        cli_errorf(w->ctx, "%s: directories nested deeper than %d", dir, AIS_WALK_DEPTH_MAX);
        return -ELOOP;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        cli_errorf(w->ctx, "cannot read directory %s: %s", dir, strerror(errno));
        return -errno;
    }
    int err = 0;
    struct dirent *de;
    while (err == 0 && (de = readdir(d)) != NULL) {
        char path[AIS_PATH_BYTES_MAX], obj[AIS_OBJNAME_BYTES_MAX + 2];
        struct stat st, lst;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        int pl = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        int ol = snprintf(obj, sizeof(obj), "%s%s", prefix, de->d_name);
        if (pl < 0 || (size_t)pl >= sizeof(path) || ol < 0 || (size_t)ol > AIS_OBJNAME_BYTES_MAX) {
            cli_errorf(w->ctx, "name too long: %s", path);
            err = -ENAMETOOLONG;
        } else if (lstat(path, &lst) < 0 || stat(path, &st) < 0) {
            continue; /* vanished or dangling link */
        } else if (S_ISDIR(st.st_mode) && !S_ISLNK(lst.st_mode)) {
            snprintf(obj + ol, sizeof(obj) - (size_t)ol, "/");
            err = walk_dir(w, path, obj, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            err = walk_add(w, path, obj, (uint64_t)st.st_size);
        }
    }
    closedir(d);
    return err;
}

static int
item_cmp(const void *a, const void *b)
{
    return strcmp(((const struct cli_xfer_item *)a)->dst, ((const struct cli_xfer_item *)b)->dst);
}

static int
conc_opt(struct cli_ctx *ctx, const struct cli_args *a, size_t *out)
{
    uint64_t v = CLI_WORKERS_DEFAULT;
    if (cli_flag_on(a, CLI_F_CONC) &&
        (cli_parse_uint(a->val[CLI_F_CONC], CLI_WORKERS_MAX, &v) < 0 || v == 0)) {
        cli_errorf(ctx, "invalid --conc \"%s\" (1..%d)", a->val[CLI_F_CONC], CLI_WORKERS_MAX);
        return CLI_EUSAGE;
    }
    *out = (size_t)v;
    return 0;
}

/* Runs a multi-object job with one bar, then prints the summary or the first failure. */
static int
multi_run(struct cli_ctx *ctx, struct cli_xfer *x, uint64_t bytes, const char *what)
{
    char errmsg[CLI_ERRMSG_BYTES], sz[32], bck[128];
    size_t failed = 0;
    x->endpoint = ctx->endpoint;
    if (cli_progress_wanted(ctx) && x->n > 0) {
        x->p = cli_progress_start(ctx->err, x->put ? "PUT" : "GET", bytes, (uint32_t)x->n);
    }
    int err = cli_xfer_run(x, errmsg, sizeof(errmsg), &failed);
    cli_progress_stop(x->p);
    x->p = NULL;
    cli_fmt_size(bytes, sz, sizeof(sz));
    cli_bck_str(x->b, bck, sizeof(bck));
    const char *pfx = x->b->obj != NULL ? x->b->obj : "";
    if (err < 0) {
        cli_errorf(ctx, "%zu of %zu %s failed; first: %s", failed, x->n, what, errmsg);
        return err;
    }
    fprintf(ctx->out, "%s %zu object%s (%s) %s %s/%s\n", x->put ? "PUT" : "GET", x->n,
            x->n == 1 ? "" : "s", sz, x->put ? "=>" : "from", bck, pfx);
    return 0;
}

static int
put_dir(struct cli_ctx *ctx, const struct cli_args *a, const struct cli_bck *b, const char *dir)
{
    struct walk w = {.ctx = ctx};
    char prefix[AIS_OBJNAME_BYTES_MAX + 2] = "";
    struct cli_xfer x = {.b = b, .put = true};
    const char *nm = b->obj != NULL ? b->obj : "";
    size_t l = strlen(nm);
    int err = conc_opt(ctx, a, &x.workers);
    if (err < 0) {
        return err;
    }
    if (l > AIS_OBJNAME_BYTES_MAX) {
        cli_errorf(ctx, "object name prefix too long");
        return CLI_EUSAGE;
    }
    snprintf(prefix, sizeof(prefix), "%s%s", nm, (l > 0 && nm[l - 1] != '/') ? "/" : "");
    err = walk_dir(&w, dir, prefix, 0);
    if (err == 0 && w.n == 0) {
        cli_errorf(ctx, "no files in %s", dir);
        err = -ENOENT;
    }
    if (err == 0) {
        qsort(w.items, w.n, sizeof(*w.items), item_cmp);
        x.items = w.items;
        x.n = w.n;
        err = multi_run(ctx, &x, w.bytes, "uploads");
    }
    cli_xfer_items_free(w.items, w.n);
    return err;
}

int
cli_cmd_put(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_bck b;
    struct stat st;
    char obj[AIS_OBJNAME_BYTES_MAX + 1], bck[128];
    const char *file = a->pos[0];
    int err = obj_arg(ctx, a->pos[1], &b, false);
    if (err < 0) {
        return err;
    }
    if (stat(file, &st) < 0) {
        err = -errno;
        cli_errorf(ctx, "cannot read %s: %s", file, strerror(errno));
        return err;
    }
    if (S_ISDIR(st.st_mode)) {
        if (!cli_flag_on(a, CLI_F_RECURSIVE)) {
            cli_errorf(ctx, "%s is a directory; use --recursive (-r) to upload its files", file);
            return CLI_EUSAGE;
        }
        return put_dir(ctx, a, &b, file);
    }
    if (!S_ISREG(st.st_mode)) {
        cli_errorf(ctx, "%s is not a regular file", file);
        return CLI_EUSAGE;
    }
    if ((err = put_name(ctx, &b, file, obj, sizeof(obj))) < 0) {
        return err;
    }
    struct cli_progress *p = NULL;
    if (cli_progress_wanted(ctx) && (uint64_t)st.st_size >= CLI_PROGRESS_MIN_BYTES) {
        p = cli_progress_start(ctx->err, "PUT", (uint64_t)st.st_size, 1);
    }
    err = cli_obj_put_file(&ctx->conn, &b, obj, file, p);
    cli_progress_stop(p);
    if (err == 0) {
        cli_bck_str(&b, bck, sizeof(bck));
        fprintf(ctx->out, "PUT \"%s\" => %s/%s\n", file, bck, obj);
    }
    return err;
}

/* "bytes=a-b" from --offset/--length; *range stays NULL without them. */
static int
range_opt(struct cli_ctx *ctx, const struct cli_args *a, char *buf, size_t n, const char **range)
{
    uint64_t off = 0, len = 0;
    bool has_off = cli_flag_on(a, CLI_F_OFFSET), has_len = cli_flag_on(a, CLI_F_LENGTH);
    *range = NULL;
    if ((has_off && cli_parse_size(a->val[CLI_F_OFFSET], &off) < 0) ||
        (has_len && (cli_parse_size(a->val[CLI_F_LENGTH], &len) < 0 || len == 0))) {
        cli_errorf(ctx,
                   "invalid --offset/--length (expected sizes like 1024, 4KiB, 1MB; length > 0)");
        return CLI_EUSAGE;
    }
    if (has_len && off > UINT64_MAX - len) {
        cli_errorf(ctx, "--offset plus --length overflows");
        return CLI_EUSAGE;
    }
    if (has_len) {
        snprintf(buf, n, "bytes=%llu-%llu", (unsigned long long)off,
                 (unsigned long long)(off + len - 1));
        *range = buf;
    } else if (has_off) {
        snprintf(buf, n, "bytes=%llu-", (unsigned long long)off);
        *range = buf;
    }
    return 0;
}

struct get_list {
    struct walk *w;
    const char *dir;
};

static int
get_list_entry(json_t *e, void *arg)
{
    struct get_list *gl = arg;
    const char *name = json_string_value(json_object_get(e, "name"));
    const char *why = NULL;
    char path[AIS_PATH_BYTES_MAX];
    uint64_t size = 0;
    (void)cli_json_u64(json_object_get(e, "size"), &size);
    if (name == NULL || ais_obj_name_check(name, strlen(name), &why) != 0) {
        cli_errorf(gl->w->ctx, "refusing to write object \"%s\" to a local path: %s",
                   name != NULL ? name : "(none)", why != NULL ? why : "no name");
        return AIS_EBADNAME;
    }
    size_t dl = strlen(gl->dir);
    while (dl > 1 && gl->dir[dl - 1] == '/') {
        dl--; /* "out/" + name, not "out//name" */
    }
    int n = snprintf(path, sizeof(path), "%.*s/%s", (int)dl, gl->dir, name);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        cli_errorf(gl->w->ctx, "local path too long for object \"%s\"", name);
        return -ENAMETOOLONG;
    }
    return walk_add(gl->w, name, path, size);
}

/* Lists names under the prefix into GET items with destinations in dir. */
static int
get_items(struct cli_ctx *ctx, const struct cli_bck *b, const char *prefix, const char *dir,
          struct walk *w)
{
    struct get_list gl = {.w = w, .dir = dir};
    struct cli_list l = {.prefix = prefix, .props = "name,size", .fn = get_list_entry, .arg = &gl};
    /* Callback errors write ctx->conn.errmsg, the same buffer the listing reports into. */
    return cli_list_objects(&ctx->conn, b, &l);
}

static int
get_multi(struct cli_ctx *ctx, const struct cli_args *a, const struct cli_bck *b)
{
    struct walk w = {.ctx = ctx};
    struct cli_xfer x = {.b = b, .put = false};
    const char *dir = a->npos > 1 ? a->pos[1] : ".";
    const char *prefix = b->obj != NULL ? b->obj : "";
    int err = conc_opt(ctx, a, &x.workers);
    if (err < 0) {
        return err;
    }
    if (cli_flag_on(a, CLI_F_OFFSET) || cli_flag_on(a, CLI_F_LENGTH) || strcmp(dir, "-") == 0) {
        cli_errorf(ctx, "--offset/--length and '-' apply to a single object only");
        return CLI_EUSAGE;
    }
    if (cli_flag_on(a, CLI_F_PREFIX)) {
        prefix = a->val[CLI_F_PREFIX];
    }
    err = get_items(ctx, b, prefix, dir, &w);
    if (err == 0 && w.n == 0) {
        cli_errorf(ctx, "no objects match \"%s\" in ais://%s", prefix, b->name);
        err = -ENOENT;
    }
    if (err == 0) {
        x.items = w.items;
        x.n = w.n;
        err = multi_run(ctx, &x, w.bytes, "downloads");
    }
    cli_xfer_items_free(w.items, w.n);
    return err;
}

/* mkdir -p: a destination the user wrote as a directory ("out/") that does not exist yet. */
static int
dst_dir_make(struct cli_ctx *ctx, const char *dir)
{
    int err = ais_mkdir_p(dir);
    if (err < 0) {
        cli_errorf(ctx, "cannot create directory %s: %s", dir, strerror(-err));
    }
    return err;
}

static int
get_one(struct cli_ctx *ctx, const struct cli_args *a, const struct cli_bck *b)
{
    char rbuf[64], dst[AIS_PATH_BYTES_MAX], bck[128], sz[32];
    struct stat st;
    const char *range = NULL;
    uint64_t written = 0;
    int err = range_opt(ctx, a, rbuf, sizeof(rbuf), &range);
    if (err < 0) {
        return err;
    }
    const char *ap = cli_flag_on(a, CLI_F_ARCHPATH) ? a->val[CLI_F_ARCHPATH] : NULL;
    const char *out = a->npos > 1 ? a->pos[1] : base_name(ap != NULL ? ap : b->obj);
    bool to_stdout = strcmp(out, "-") == 0;
    size_t outl = strlen(out);
    if (!to_stdout && outl > 0 && out[outl - 1] == '/' && (err = dst_dir_make(ctx, out)) < 0) {
        return err;
    }
    while (outl > 1 && out[outl - 1] == '/') {
        outl--;
    }
    if (!to_stdout && stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(dst, sizeof(dst), "%.*s/%s", (int)outl, out, base_name(ap != NULL ? ap : b->obj));
    } else {
        snprintf(dst, sizeof(dst), "%s", out);
    }
    bool existed = !to_stdout && access(dst, F_OK) == 0;
    int fd = to_stdout ? STDOUT_FILENO : open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        err = -errno;
        cli_errorf(ctx, "cannot create %s: %s", dst, strerror(errno));
        return err;
    }
    fflush(ctx->out);
    struct cli_get g = {.b = b,
                        .obj = b->obj,
                        .fd = fd,
                        .range = range,
                        .bar_label = cli_progress_wanted(ctx) ? "GET" : NULL,
                        .bar_f = ctx->err,
                        .dst_name = to_stdout ? "stdout" : dst,
                        .archpath = ap};
    err = cli_obj_get_fd(&ctx->conn, &g, &written);
    if (!to_stdout) {
        if (close(fd) < 0 && err == 0) {
            err = -errno;
            cli_errorf(ctx, "writing %s: %s", dst, strerror(errno));
        }
        if (err < 0 && !existed) {
            unlink(dst);
        }
    }
    if (err == 0 && !to_stdout) {
        cli_bck_str(b, bck, sizeof(bck));
        cli_fmt_size(written, sz, sizeof(sz));
        fprintf(ctx->out, "GET %s/%s => %s (%s)\n", bck, b->obj, dst, sz);
    }
    return err;
}

int
cli_cmd_get(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_bck b;
    int err = obj_arg(ctx, a->pos[0], &b, false);
    if (err < 0) {
        return err;
    }
    size_t ol = b.obj != NULL ? strlen(b.obj) : 0;
    if (ol == 0 || b.obj[ol - 1] == '/' || cli_flag_on(a, CLI_F_RECURSIVE) ||
        cli_flag_on(a, CLI_F_PREFIX)) {
        return get_multi(ctx, a, &b);
    }
    if ((err = obj_arg(ctx, a->pos[0], &b, true)) < 0) {
        return err;
    }
    return get_one(ctx, a, &b);
}

int
cli_cmd_obj_cat(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_bck b;
    char rbuf[64];
    const char *range = NULL;
    int err = obj_arg(ctx, a->pos[0], &b, true);
    if (err < 0 || (err = range_opt(ctx, a, rbuf, sizeof(rbuf), &range)) < 0) {
        return err;
    }
    fflush(ctx->out);
    struct cli_get g = {
        .b = &b, .obj = b.obj, .fd = STDOUT_FILENO, .range = range, .dst_name = "stdout"};
    return cli_obj_get_fd(&ctx->conn, &g, NULL);
}

static int
obj_request(struct cli_ctx *ctx, const struct cli_bck *b, const char *method, struct cli_resp *resp)
{
    struct ais_buf path;
    char query[64];
    int err = -ENOMEM;
    ais_buf_init(&path, AIS_URI_BYTES_MAX);
    if (cli_obj_path(b, b->obj, &path) == 0) {
        cli_bck_query(b, query, sizeof(query));
        struct cli_req rq = {.method = method,
                             .path = path.data,
                             .query = query,
                             .timeout_ms = ctx->conn.ctrl_timeout_ms};
        err = cli_http_do(&ctx->conn, &rq, resp);
    }
    ais_buf_fini(&path);
    return err;
}

/* ---- multi-object delete: --prefix, --template, or a template in the name ---- */

/* Names per delete-listrange request, and their bytes: well inside AIS_CTRL_BODY_BYTES_MAX. */
#define RM_BATCH_NAMES 10000
#define RM_BATCH_BYTES (AIS_CTRL_BODY_BYTES_MAX / 2)
/* Status polls of one delete job (from 20 ms, doubling to 1 s): about 10 minutes. */
#define RM_POLLS_MAX 620

/* Polls what=status until job id ends; 0 when it finished, else its error. */
static int
rm_job_wait(struct cli_ctx *ctx, const char *id)
{
    int64_t nap_ms = 20;
    for (int i = 0; i < RM_POLLS_MAX; i++) {
        json_t *body = json_pack("{s:s}", "ID", id), *st = NULL;
        int err =
            body ? cli_http_json(ctx, "GET", "/v1/cluster", "what=status", body, &st) : -ENOMEM;
        json_decref(body);
        uint64_t end = 0;
        (void)cli_json_u64(json_object_get(st, "end_time"), &end);
        const char *jerr = json_string_value(json_object_get(st, "err"));
        bool aborted = json_is_true(json_object_get(st, "aborted"));
        if (err == 0 && end != 0 && (aborted || (jerr != NULL && jerr[0] != '\0'))) {
            cli_errorf(ctx, "delete job %s %s%s%s", id, aborted ? "was aborted" : "failed",
                       jerr && jerr[0] ? ": " : "", jerr ? jerr : "");
            err = CLI_EJOBFAIL;
        }
        json_decref(st);
        if (err != 0 || end != 0) {
            return err;
        }
        struct timespec ts = {.tv_sec = nap_ms / 1000, .tv_nsec = (nap_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
        nap_ms = nap_ms * 2 > 1000 ? 1000 : nap_ms * 2;
    }
    cli_errorf(ctx, "delete job %s still running; follow it with 'ais job wait %s'", id, id);
    return CLI_EWAITTIMEOUT;
}

/* One delete-listrange (value: {"objnames":[..]} or {"template":".."}, stolen), then waits. */
static int
rm_listrange(struct cli_ctx *ctx, const struct cli_bck *b, json_t *value)
{
    struct ais_buf path;
    char query[64], id[128] = "";
    struct cli_resp resp;
    json_t *msg = cli_actmsg("delete-listrange", value);
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    int err = text ? 0 : -ENOMEM;
    ais_buf_init(&path, AIS_URI_BYTES_MAX);
    cli_resp_init(&resp);
    if (err == 0 && (err = cli_bck_path(b, &path)) == 0) {
        cli_bck_query(b, query, sizeof(query));
        struct cli_req rq = {.method = "DELETE",
                             .path = path.data,
                             .query = query,
                             .body = text,
                             .body_len = strlen(text),
                             .timeout_ms = ctx->conn.ctrl_timeout_ms};
        err = cli_http_do(&ctx->conn, &rq, &resp);
    }
    if (err == 0) {
        size_t n = resp.body.len < sizeof(id) - 1 ? resp.body.len : sizeof(id) - 1;
        memcpy(id, resp.body.data ? resp.body.data : "", n);
        id[n] = '\0';
        id[strcspn(id, "\r\n \"")] = '\0';
        err = id[0] ? rm_job_wait(ctx, id) : 0;
    }
    cli_resp_fini(&resp);
    ais_buf_fini(&path);
    free(text);
    json_decref(msg);
    return err;
}

struct rm_names {
    json_t *names; /* array of the listed names */
};

static int
rm_list_entry(json_t *e, void *arg)
{
    struct rm_names *r = arg;
    json_t *name = json_object_get(e, "name");
    return json_is_string(name) && json_array_append(r->names, name) == 0 ? 0 : -ENOMEM;
}

/* Deletes every listed name in batches; *done counts the names sent in finished jobs. */
static int
rm_batches(struct cli_ctx *ctx, const struct cli_bck *b, const json_t *names, size_t *done)
{
    size_t n = json_array_size(names), i = 0;
    int err = 0;
    while (err == 0 && i < n) {
        json_t *batch = json_array();
        size_t bytes = 0;
        for (; batch && i < n && json_array_size(batch) < RM_BATCH_NAMES && bytes < RM_BATCH_BYTES;
             i++) {
            json_t *nm = json_array_get(names, i);
            bytes += strlen(json_string_value(nm)) + 4;
            json_array_append(batch, nm);
        }
        size_t k = json_array_size(batch);
        json_t *v = batch ? json_pack("{s:o}", "objnames", batch) : NULL;
        err = v ? rm_listrange(ctx, b, v) : -ENOMEM;
        *done += err == 0 ? k : 0;
    }
    return err;
}

/* `ais object rm BUCKET --prefix P`: lists the names, asks, deletes them in batches. */
static int
rm_prefix(struct cli_ctx *ctx, const struct cli_bck *b, const char *prefix)
{
    char bck[128], prompt[512];
    size_t done = 0;
    struct rm_names r = {.names = json_array()};
    struct cli_list l = {.prefix = prefix, .props = "name", .fn = rm_list_entry, .arg = &r};
    int err = r.names ? cli_list_objects(&ctx->conn, b, &l) : -ENOMEM;
    size_t n = json_array_size(r.names);
    cli_bck_str(b, bck, sizeof(bck));
    if (err == 0 && n == 0) {
        cli_errorf(ctx, "no objects match prefix \"%s\" in %s", prefix, bck);
        err = -ENOENT;
    }
    snprintf(prompt, sizeof(prompt), "Delete %zu object%s with prefix \"%s\" from %s?", n,
             n == 1 ? "" : "s", prefix, bck);
    err = err ? err : cli_confirm(ctx, prompt);
    err = err ? err : rm_batches(ctx, b, r.names, &done);
    if (err == 0) {
        fprintf(ctx->out, "Deleted %zu object%s with prefix \"%s\" from %s\n", done,
                done == 1 ? "" : "s", prefix, bck);
    }
    json_decref(r.names);
    return err;
}

/* `ais object rm BUCKET --template T` or "BUCKET/shard-{0..9}": one delete-listrange job. */
static int
rm_template(struct cli_ctx *ctx, const struct cli_bck *b, const char *tmpl)
{
    char bck[128], prompt[512];
    cli_bck_str(b, bck, sizeof(bck));
    snprintf(prompt, sizeof(prompt), "Delete objects matching template \"%s\" from %s?", tmpl, bck);
    int err = cli_confirm(ctx, prompt);
    json_t *v = err == 0 ? json_pack("{s:s}", "template", tmpl) : NULL;
    err = err ? err : (v ? rm_listrange(ctx, b, v) : -ENOMEM);
    if (err == 0) {
        fprintf(ctx->out, "Deleted objects matching template \"%s\" from %s\n", tmpl, bck);
    }
    return err;
}

/* A brace range in an object argument ("shard-{000..099}.tar") makes it a template. */
static bool
is_template(const char *obj)
{
    const char *o = obj ? strchr(obj, '{') : NULL;
    return o != NULL && strstr(o, "..") != NULL && strchr(o, '}') != NULL;
}

static int
rm_many(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_bck b;
    const char *why = NULL;
    bool pfx = cli_flag_on(a, CLI_F_PREFIX), tpl = cli_flag_on(a, CLI_F_TEMPLATE);
    if (a->npos != 1 || (pfx && tpl)) {
        cli_errorf(ctx, "%s",
                   a->npos != 1 ? "--prefix and --template take exactly one BUCKET"
                                : "give either --prefix or --template, not both");
        return CLI_EUSAGE;
    }
    int err = cli_bck_parse(a->pos[0], &b, &why);
    if (err < 0) {
        cli_errorf(ctx, "invalid bucket in \"%s\": %s", a->pos[0], why);
        return err;
    }
    if (!pfx && !tpl) {
        return rm_template(ctx, &b, b.obj);
    }
    if (b.obj != NULL && b.obj[0] != '\0') {
        cli_errorf(ctx, "with --%s, name only the bucket (got \"%s\")", pfx ? "prefix" : "template",
                   a->pos[0]);
        return CLI_EUSAGE;
    }
    if (pfx) {
        return rm_prefix(ctx, &b, a->val[CLI_F_PREFIX]);
    }
    return rm_template(ctx, &b, a->val[CLI_F_TEMPLATE]);
}

int
cli_cmd_obj_rm(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_bck b;
    char prompt[256], bck[128];
    int err = 0;
    const char *why = NULL;
    if (cli_flag_on(a, CLI_F_PREFIX) || cli_flag_on(a, CLI_F_TEMPLATE) ||
        (a->npos == 1 && cli_bck_parse(a->pos[0], &b, &why) == 0 && is_template(b.obj))) {
        return rm_many(ctx, a);
    }
    for (int i = 0; i < a->npos && err == 0; i++) {
        err = obj_arg(ctx, a->pos[i], &b, true);
    }
    if (err < 0) {
        return err;
    }
    if (a->npos == 1) {
        cli_bck_str(&b, bck, sizeof(bck));
        snprintf(prompt, sizeof(prompt), "Delete object %s/%s?", bck, b.obj);
    } else {
        snprintf(prompt, sizeof(prompt), "Delete %d objects?", a->npos);
    }
    if ((err = cli_confirm(ctx, prompt)) < 0) {
        return err;
    }
    for (int i = 0; i < a->npos && err == 0; i++) {
        (void)obj_arg(ctx, a->pos[i], &b, true);
        err = obj_request(ctx, &b, "DELETE", NULL);
        if (err == 0) {
            cli_bck_str(&b, bck, sizeof(bck));
            fprintf(ctx->out, "Deleted %s/%s\n", bck, b.obj);
        }
    }
    return err;
}

/* Object properties from HEAD headers as a JSON object. */
static json_t *
stat_json(const struct cli_bck *b, const struct cli_resp *r)
{
    uint64_t size = 0, atime = 0, copies = 0;
    const char *h;
    char bck[128];
    cli_bck_str(b, bck, sizeof(bck));
    if ((h = cli_resp_hdr(r, "Content-Length")) != NULL) {
        (void)cli_parse_uint(h, UINT64_MAX, &size);
    }
    if ((h = cli_resp_hdr(r, "Ais-Atime")) != NULL) {
        (void)cli_parse_uint(h, INT64_MAX, &atime);
    }
    if ((h = cli_resp_hdr(r, "Ais-Mirror-Copies")) != NULL) {
        (void)cli_parse_uint(h, UINT32_MAX, &copies);
    }
    const char *name = cli_resp_hdr(r, "Ais-Name");
    const char *ck_type = cli_resp_hdr(r, "Ais-Checksum-Type");
    const char *ck_val = cli_resp_hdr(r, "Ais-Checksum-Value");
    const char *ver = cli_resp_hdr(r, "Ais-Version");
    const char *loc = cli_resp_hdr(r, "Ais-Location");
    const char *cmd = cli_resp_hdr(r, "Ais-Custom-Md");
    return json_pack("{s:s, s:s, s:I, s:{s:s, s:s}, s:I, s:s, s:s, s:I, s:s}", "name",
                     name != NULL && name[0] ? name : b->obj, "bucket", bck, "size",
                     (json_int_t)size, "checksum", "type", ck_type ? ck_type : "", "value",
                     ck_val ? ck_val : "", "atime", (json_int_t)atime, "version", ver ? ver : "",
                     "location", loc ? loc : "", "copies", (json_int_t)copies, "custom",
                     cmd ? cmd : "");
}

static int
stat_table(struct cli_ctx *ctx, const json_t *j)
{
    static const char *const hdr[] = {"PROPERTY", "VALUE"};
    char size[32], atime[64], ck[160], copies[24];
    struct cli_table t;
    uint64_t sz = (uint64_t)json_integer_value(json_object_get(j, "size"));
    int64_t at = (int64_t)json_integer_value(json_object_get(j, "atime"));
    const json_t *cks = json_object_get(j, "checksum");
    const char *ct = json_string_value(json_object_get(cks, "type"));
    const char *cv = json_string_value(json_object_get(cks, "value"));
    if (ctx->raw) {
        snprintf(size, sizeof(size), "%llu", (unsigned long long)sz);
        snprintf(atime, sizeof(atime), "%lld", (long long)at);
    } else {
        cli_fmt_size(sz, size, sizeof(size));
        cli_fmt_time_ns(at, atime, sizeof(atime));
    }
    snprintf(ck, sizeof(ck), "%s%s%s", ct && ct[0] ? ct : "-", cv && cv[0] ? ":" : "",
             cv ? cv : "");
    snprintf(copies, sizeof(copies), "%lld",
             (long long)json_integer_value(json_object_get(j, "copies")));
    const char *rows[][2] = {
        {"name", json_string_value(json_object_get(j, "name"))},
        {"bucket", json_string_value(json_object_get(j, "bucket"))},
        {"size", size},
        {"checksum", ck},
        {"atime", atime},
        {"version", json_string_value(json_object_get(j, "version"))},
        {"location", json_string_value(json_object_get(j, "location"))},
        {"copies", copies},
        {"custom", json_string_value(json_object_get(j, "custom"))},
    };
    int err = 0;
    cli_table_init(&t, 2, hdr);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) && err == 0; i++) {
        const char *cells[2] = {rows[i][0], rows[i][1] && rows[i][1][0] ? rows[i][1] : "-"};
        err = cli_table_add(&t, cells);
    }
    if (err == 0) {
        cli_table_print(&t, ctx->out, !ctx->no_headers);
    }
    cli_table_fini(&t);
    return err;
}

static int
stat_print(struct cli_ctx *ctx, const struct cli_bck *b, const struct cli_resp *r)
{
    json_t *j = stat_json(b, r);
    if (j == NULL) {
        return -ENOMEM;
    }
    int err = 0;
    if (ctx->json) {
        cli_print_json(ctx, j);
    } else {
        err = stat_table(ctx, j);
    }
    json_decref(j);
    return err;
}

int
cli_cmd_obj_stat(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_bck b;
    struct cli_resp resp;
    int err = obj_arg(ctx, a->pos[0], &b, true);
    if (err < 0) {
        return err;
    }
    cli_resp_init(&resp);
    err = obj_request(ctx, &b, "HEAD", &resp);
    if (err == 0) {
        err = stat_print(ctx, &b, &resp);
    }
    cli_resp_fini(&resp);
    return err;
}
