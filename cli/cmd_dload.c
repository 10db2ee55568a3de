/*
 * `ais download` and the download job views: `ais show job download [ID]` (also `ais job show
 * download`, `ais job ls download`), `ais job stop download ID`, `ais job rm download ID` and
 * `ais job wait download ID`.
 *
 * Design notes: the command line becomes one POST /v1/download body (api.md §6.1) built by a
 * pure function, cli_dl_body, so the unit tests see exactly what the gateway gets: a URL is a
 * "single", a URL with brace ranges a "range" (DST's prefix is its subdir), an --object-list a
 * "multi" map {name: url} (names follow the URL's last element under DST's prefix, or the
 * list's relative paths under a base URL), and an s3:// or gs:// bucket a "backend" job that
 * fetches the bucket's objects from its own backend into the cluster. Templates are expanded
 * here too, the way the gateway does, to refuse bad ones before anything is sent and to map a
 * failed object name back to its URL. Waiting polls the downloader's own status (GET
 * /v1/download {"id"}), not the job table, because that is where failed names and their
 * reasons live; the bar counts finished plus failed against the total, drawn by the same
 * renderer as `ais job wait --progress`. Any failed URL or an abort is exit 9.
 */
#include "cli/cli_int.h"
#include "common/err.h"
#include "common/names.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DL_BASE_BYTES (AIS_OBJNAME_BYTES_MAX + 1)

/* ---- templates, URLs, lists ---- */

/* "A..B[..S]}" at s: the range and where it ends. 0 or CLI_EUSAGE. */
static int
range_parse(const char *s, long *a, long *b, long *step, int *width, const char **end)
{
    char *p;
    *step = 1;
    *a = strtol(s, &p, 10);
    if (p == s || *s == '-' || *s == '+' || strncmp(p, "..", 2) != 0) {
        return CLI_EUSAGE;
    }
    *width = (s[0] == '0' && p - s > 1) ? (int)(p - s) : 0;
    const char *q = p + 2;
    *b = strtol(q, &p, 10);
    if (p == q || *q == '-' || *q == '+') {
        return CLI_EUSAGE;
    }
    if (strncmp(p, "..", 2) == 0) {
        q = p + 2;
        *step = strtol(q, &p, 10);
        if (p == q || *q == '-' || *q == '+') {
            return CLI_EUSAGE;
        }
    }
    if (*p != '}' || *step <= 0 || *b < *a) {
        return CLI_EUSAGE;
    }
    *end = p + 1;
    return 0;
}

int
cli_tmpl_expand(const char *t, json_t *out, size_t cap)
{
    const char *o = strchr(t, '{');
    if (o == NULL) {
        if (json_array_size(out) >= cap) {
            return -E2BIG;
        }
        return json_array_append_new(out, json_string(t)) == 0 ? 0 : -ENOMEM;
    }
    long a, b, step;
    int width;
    const char *rest;
    if (range_parse(o + 1, &a, &b, &step, &width, &rest) < 0) {
        return CLI_EUSAGE;
    }
    size_t len = strlen(t) + 32;
    char *buf = malloc(len);
    int err = buf != NULL ? 0 : -ENOMEM;
    for (long i = a; err == 0 && i <= b; i += step) {
        snprintf(buf, len, "%.*s%0*ld%s", (int)(o - t), t, width, i, rest);
        err = cli_tmpl_expand(buf, out, cap);
        if (i > b - step) {
            break; /* no overflow past LONG_MAX */
        }
    }
    free(buf);
    return err;
}

void
cli_url_base(const char *url, char *out, size_t n)
{
    size_t len = strcspn(url, "?#");
    const char *p = url + len;
    while (p > url && p[-1] != '/') {
        p--;
    }
    snprintf(out, n, "%.*s", (int)(url + len - p), p);
}

static bool
is_http(const char *s)
{
    return s != NULL && (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0);
}

static int
list_json(const char *text, size_t len, json_t **out, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_loadb(text, len, 0, &je);
    size_t i;
    json_t *v;
    if (!json_is_array(j)) {
        snprintf(err, errlen, "--object-list: not a JSON array of strings (%s, line %d)", je.text,
                 je.line);
        json_decref(j);
        return CLI_EUSAGE;
    }
    json_array_foreach(j, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) == 0) {
            snprintf(err, errlen, "--object-list: entry %zu is not a non-empty string", i);
            json_decref(j);
            return CLI_EUSAGE;
        }
    }
    *out = j;
    return 0;
}

static int
list_lines(const char *text, size_t len, json_t *arr)
{
    const char *end = text + len;
    for (const char *p = text; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl != NULL ? nl : end;
        const char *s = p;
        while (s < e && (*s == ' ' || *s == '\t')) {
            s++;
        }
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) {
            e--;
        }
        if (e > s && *s != '#' && json_array_append_new(arr, json_stringn(s, (size_t)(e - s)))) {
            return -ENOMEM;
        }
        p = nl != NULL ? nl + 1 : end;
    }
    return 0;
}

int
cli_dl_list_parse(const char *text, size_t len, json_t **out, char *err, size_t errlen)
{
    size_t skip = 0;
    while (skip < len && strchr(" \t\r\n", text[skip]) != NULL) {
        skip++;
    }
    json_t *arr = NULL;
    int rc;
    if (skip < len && text[skip] == '[') {
        rc = list_json(text, len, &arr, err, errlen);
    } else {
        arr = json_array();
        rc = arr != NULL ? list_lines(text, len, arr) : -ENOMEM;
    }
    if (rc == 0 && json_array_size(arr) == 0) {
        snprintf(err, errlen, "--object-list: no entries");
        rc = CLI_EUSAGE;
    } else if (rc == 0 && json_array_size(arr) > CLI_DL_URLS_MAX) {
        snprintf(err, errlen, "--object-list: more than %d entries in one download",
                 CLI_DL_URLS_MAX);
        rc = CLI_EUSAGE;
    }
    if (rc == 0) {
        *out = arr;
        arr = NULL;
    }
    json_decref(arr);
    return rc;
}

/* ---- request bodies ---- */

static json_t *
bck_json(const struct cli_bck *b)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s}}", "name", b->name, "provider", b->provider,
                     "namespace", "uuid", "", "name", "");
}

static json_t *
body_new(const char *type, const struct cli_bck *b, const struct cli_dl_opts *o)
{
    json_t *j = json_pack("{s:s, s:o, s:s}", "type", type, "bucket", bck_json(b), "description",
                          o->desc != NULL ? o->desc : "");
    if (j != NULL && o->dl_timeout_ms > 0) {
        char t[32];
        snprintf(t, sizeof(t), "%lldms", (long long)o->dl_timeout_ms);
        json_object_set_new(j, "timeout", json_string(t));
    }
    return j;
}

/* DST of an http(s) download: an ais:// bucket, with an optional name or prefix. */
static int
dst_parse(const char *dst, struct cli_bck *b, char *err, size_t errlen)
{
    const char *why = NULL;
    if (dst == NULL) {
        snprintf(err, errlen, "missing DST: the ais:// bucket to download into (e.g. ais://data/)");
        return CLI_EUSAGE;
    }
    if (cli_bck_parse(dst, b, &why) < 0) {
        snprintf(err, errlen, "invalid destination \"%s\": %s", dst, why);
        return AIS_EBADNAME;
    }
    if (strcmp(b->provider, "ais") != 0) {
        snprintf(err, errlen,
                 "invalid destination \"%s\": downloads from URLs go into ais:// buckets", dst);
        return CLI_EUSAGE;
    }
    if (b->obj == NULL) {
        b->obj = "";
    }
    return 0;
}

/* prefix + name, checked with the cluster's object-name rules. */
static int
name_make(const char *prefix, const char *name, const char *url, char *out, size_t n, char *err,
          size_t errlen)
{
    const char *why = "too long";
    int w = snprintf(out, n, "%s%s", prefix, name);
    if (name[0] == '\0') {
        snprintf(err, errlen, "cannot name an object after \"%s\": give DST as BUCKET/NAME", url);
        return CLI_EUSAGE;
    }
    if (w < 0 || (size_t)w >= n || ais_obj_name_check(out, strlen(out), &why) != 0) {
        snprintf(err, errlen, "invalid object name \"%.200s\" for %.300s: %s", out, url, why);
        return AIS_EBADNAME;
    }
    return 0;
}

static int
body_single(json_t *j, const char *url, const char *obj, char *err, size_t errlen)
{
    char base[DL_BASE_BYTES], name[DL_BASE_BYTES];
    size_t ol = strlen(obj);
    bool dir = ol == 0 || obj[ol - 1] == '/';
    cli_url_base(url, base, sizeof(base));
    int rc = name_make(dir ? obj : "", dir ? base : obj, url, name, sizeof(name), err, errlen);
    if (rc == 0) {
        json_object_set_new(j, "object_name", json_string(name));
        json_object_set_new(j, "link", json_string(url));
    }
    return rc;
}

/* "sub" -> "sub/" as the gateway treats a range's subdir. */
static void
subdir_prefix(const char *sub, char *out, size_t n)
{
    size_t sl = strlen(sub);
    snprintf(out, n, "%s%s", sub, sl > 0 && sub[sl - 1] != '/' ? "/" : "");
}

/* Checks every URL of the range names a valid object; the gateway expands it again. */
static int
range_check(const char *tmpl, const char *sub, char *err, size_t errlen)
{
    char prefix[DL_BASE_BYTES], base[DL_BASE_BYTES], name[DL_BASE_BYTES];
    json_t *urls = json_array();
    int rc = urls != NULL ? cli_tmpl_expand(tmpl, urls, CLI_DL_URLS_MAX) : -ENOMEM;
    if (rc == CLI_EUSAGE) {
        snprintf(err, errlen,
                 "invalid template \"%s\": expected {FIRST..LAST} or {FIRST..LAST..STEP} ranges",
                 tmpl);
    } else if (rc == -E2BIG) {
        snprintf(err, errlen, "template \"%s\" names more than %d URLs", tmpl, CLI_DL_URLS_MAX);
        rc = CLI_EUSAGE;
    }
    subdir_prefix(sub, prefix, sizeof(prefix));
    for (size_t i = 0; rc == 0 && i < json_array_size(urls); i++) {
        const char *u = json_string_value(json_array_get(urls, i));
        cli_url_base(u, base, sizeof(base));
        rc = name_make(prefix, base, u, name, sizeof(name), err, errlen);
    }
    json_decref(urls);
    return rc;
}

/* One --object-list entry: a full URL, or a path under the base URL. */
static int
multi_add(json_t *map, const char *base_url, const char *prefix, const char *e, char *err,
          size_t errlen)
{
    char name[DL_BASE_BYTES], base[DL_BASE_BYTES];
    char *url = NULL;
    const char *rel = e;
    int rc = 0;
    if (is_http(e)) {
        cli_url_base(e, base, sizeof(base));
        rel = base;
        url = strdup(e);
    } else if (base_url == NULL) {
        snprintf(err, errlen, "--object-list entry \"%s\" is not a URL and no base URL was given",
                 e);
        return CLI_EUSAGE;
    } else {
        size_t bl = strlen(base_url);
        rel = e + strspn(e, "/");
        bl -= bl > 0 && base_url[bl - 1] == '/';
        url = malloc(bl + strlen(rel) + 2);
        if (url != NULL) {
            sprintf(url, "%.*s/%s", (int)bl, base_url, rel);
        }
    }
    rc = url != NULL ? name_make(prefix, rel, url, name, sizeof(name), err, errlen) : -ENOMEM;
    if (rc == 0 && json_object_get(map, name) != NULL) {
        snprintf(err, errlen, "--object-list: two entries would both be object \"%.300s\"", name);
        rc = CLI_EUSAGE;
    }
    if (rc == 0) {
        rc = json_object_set_new(map, name, json_string(url)) == 0 ? 0 : -ENOMEM;
    }
    free(url);
    return rc;
}

static int
body_multi(json_t *j, const struct cli_dl_opts *o, const char *obj, char *err, size_t errlen)
{
    json_t *map = json_object();
    char prefix[DL_BASE_BYTES];
    size_t i;
    json_t *e;
    int rc = map != NULL ? 0 : -ENOMEM;
    subdir_prefix(obj, prefix, sizeof(prefix));
    json_array_foreach(o->list, i, e)
    {
        if (rc == 0) {
            rc = multi_add(map, o->src, prefix, json_string_value(e), err, errlen);
        }
    }
    if (rc == 0) {
        json_object_set_new(j, "objects", map);
        map = NULL;
    }
    json_decref(map);
    return rc;
}

/* type "backend": SRC is the remote bucket (and prefix) the cluster fills from its backend. */
static int
body_backend(const struct cli_dl_opts *o, json_t **out, char *err, size_t errlen)
{
    struct cli_bck b, d;
    const char *why = NULL;
    if (cli_bck_parse(o->src, &b, &why) < 0) {
        snprintf(err, errlen, "invalid source \"%s\": %s", o->src, why);
        return AIS_EBADNAME;
    }
    if (o->list != NULL) {
        snprintf(err, errlen,
                 "--object-list takes http(s) URLs; to fetch named objects of %s "
                 "use 'ais prefetch --list'",
                 o->src);
        return CLI_EUSAGE;
    }
    if (o->dst != NULL &&
        (cli_bck_parse(o->dst, &d, &why) < 0 || strcmp(d.provider, b.provider) != 0 ||
         strcmp(d.name, b.name) != 0 || (d.obj != NULL && d.obj[0] != '\0'))) {
        snprintf(err, errlen,
                 "a bucket download fills %s in the cluster from its backend, so DST is that "
                 "bucket or nothing; to copy into \"%s\" use 'ais bucket cp %s %s'",
                 o->src, o->dst, o->src, o->dst);
        return CLI_EUSAGE;
    }
    json_t *j = body_new("backend", &b, o);
    if (j == NULL) {
        return -ENOMEM;
    }
    json_object_set_new(j, "prefix", json_string(b.obj != NULL ? b.obj : ""));
    *out = j;
    return 0;
}

static bool
is_remote_src(const char *s)
{
    static const char *const schemes[] = {"s3://", "aws://", "gs://", "gcp://"};
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (s != NULL && strncmp(s, schemes[i], strlen(schemes[i])) == 0) {
            return true;
        }
    }
    return false;
}

int
cli_dl_body(const struct cli_dl_opts *o, json_t **out, char *err, size_t errlen)
{
    struct cli_bck b;
    if (is_remote_src(o->src)) {
        return body_backend(o, out, err, errlen);
    }
    if ((o->src != NULL || o->list == NULL) && !is_http(o->src)) {
        snprintf(err, errlen,
                 "invalid source \"%s\": expected an http(s):// URL (or a template of them), or "
                 "an s3:// or gs:// bucket; between ais buckets use 'ais bucket cp'",
                 o->src != NULL ? o->src : "");
        return CLI_EUSAGE;
    }
    int rc = dst_parse(o->dst, &b, err, errlen);
    if (rc < 0) {
        return rc;
    }
    bool tmpl = o->src != NULL && strchr(o->src, '{') != NULL;
    json_t *j = body_new(o->list != NULL ? "multi" : (tmpl ? "range" : "single"), &b, o);
    rc = j != NULL ? 0 : -ENOMEM;
    if (rc == 0 && o->list != NULL) {
        rc = body_multi(j, o, b.obj, err, errlen);
    } else if (rc == 0 && tmpl) {
        rc = range_check(o->src, b.obj, err, errlen);
        if (rc == 0) {
            json_object_set_new(j, "template", json_string(o->src));
            json_object_set_new(j, "subdir", json_string(b.obj));
        }
    } else if (rc == 0) {
        rc = body_single(j, o->src, b.obj, err, errlen);
    }
    if (rc == 0) {
        *out = j;
        j = NULL;
    }
    json_decref(j);
    return rc;
}

static int
urls_range(const json_t *body, json_t *map)
{
    char prefix[DL_BASE_BYTES], base[DL_BASE_BYTES], name[2 * DL_BASE_BYTES];
    json_t *urls = json_array();
    const char *t = json_string_value(json_object_get(body, "template"));
    const char *sub = json_string_value(json_object_get(body, "subdir"));
    int rc = urls != NULL ? cli_tmpl_expand(t != NULL ? t : "", urls, CLI_DL_URLS_MAX) : -ENOMEM;
    subdir_prefix(sub != NULL ? sub : "", prefix, sizeof(prefix));
    for (size_t i = 0; rc == 0 && i < json_array_size(urls); i++) {
        json_t *u = json_array_get(urls, i);
        cli_url_base(json_string_value(u), base, sizeof(base));
        snprintf(name, sizeof(name), "%s%s", prefix, base);
        rc = json_object_set(map, name, u) == 0 ? 0 : -ENOMEM;
    }
    json_decref(urls);
    return rc;
}

int
cli_dl_urls(const json_t *body, json_t **out)
{
    const char *type = json_string_value(json_object_get(body, "type"));
    json_t *map = json_object();
    int rc = map != NULL ? 0 : -ENOMEM;
    if (rc == 0 && type != NULL && strcmp(type, "single") == 0) {
        const char *n = json_string_value(json_object_get(body, "object_name"));
        rc = json_object_set(map, n != NULL ? n : "", json_object_get(body, "link"));
    } else if (rc == 0 && type != NULL && strcmp(type, "multi") == 0) {
        rc = json_object_update(map, json_object_get(body, "objects"));
    } else if (rc == 0 && type != NULL && strcmp(type, "range") == 0) {
        rc = urls_range(body, map);
    }
    if (rc == -1) {
        rc = -ENOMEM;
    }
    if (rc == 0) {
        *out = map;
        map = NULL;
    }
    json_decref(map);
    return rc;
}

/* ---- status ---- */

static uint64_t
u64_of(const json_t *o, const char *key)
{
    uint64_t v = 0;
    return cli_json_u64(json_object_get(o, key), &v) == 0 ? v : 0;
}

int
cli_dl_job_parse(const json_t *j, struct cli_dl_job *out)
{
    const char *id = json_string_value(json_object_get(j, "id"));
    if (!json_is_object(j) || id == NULL || id[0] == '\0') {
        return -EINVAL;
    }
    const char *desc = json_string_value(json_object_get(j, "description"));
    const char *bck = json_string_value(json_object_get(j, "bck"));
    const char *ft = json_string_value(json_object_get(j, "finished_time"));
    const json_t *fin = json_object_get(j, "finished");
    memset(out, 0, sizeof(*out));
    snprintf(out->id, sizeof(out->id), "%s", id);
    snprintf(out->desc, sizeof(out->desc), "%s", desc != NULL ? desc : "");
    snprintf(out->bck, sizeof(out->bck), "%s", bck != NULL ? bck : "");
    out->total = u64_of(j, "total");
    out->finished = u64_of(j, "finished_cnt") + u64_of(j, "skipped_cnt");
    out->errors = u64_of(j, "error_cnt");
    out->aborted = json_is_true(json_object_get(j, "aborted"));
    out->start_ns = cli_rfc3339_ns(json_string_value(json_object_get(j, "started_time")));
    out->end_ns = cli_rfc3339_ns(ft);
    /* AIS has no "finished" flag: a job ended once it has a finished time. */
    out->done = json_is_boolean(fin) ? json_is_true(fin) : out->end_ns > 0;
    if (!out->done) {
        out->end_ns = 0;
    }
    return 0;
}

const char *
cli_dl_job_state(const struct cli_dl_job *j)
{
    return j->aborted ? "aborted" : (j->done ? "finished" : "running");
}

/* ---- requests ---- */

/* GET /v1/download with body {key: val}. 404 is -ENOENT; 502..504 -EAGAIN. */
static int
dl_get(struct cli_ctx *ctx, const char *key, const char *val, json_t **out)
{
    struct cli_resp resp;
    json_t *body = json_pack("{s:s}", key, val);
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    struct cli_req rq = {.method = "GET",
                         .path = "/v1/download",
                         .body = text,
                         .body_len = text != NULL ? strlen(text) : 0,
                         .timeout_ms = ctx->conn.ctrl_timeout_ms};
    int err = text != NULL ? 0 : -ENOMEM;
    cli_resp_init(&resp);
    err = err ? err : cli_http_do(&ctx->conn, &rq, &resp);
    if (err == CLI_ESERVER && resp.status >= 502 && resp.status <= 504) {
        err = -EAGAIN;
    }
    if (err == 0) {
        *out = cli_json_loadb(resp.body.data, resp.body.len);
        if (*out == NULL) {
            cli_errorf(ctx, "malformed JSON from the cluster for GET /v1/download");
            err = CLI_ESERVER;
        }
    }
    cli_resp_fini(&resp);
    free(text);
    json_decref(body);
    return err;
}

/* A busy cluster at the end of a command is a cluster error like any other (exit 6). */
static int
cmd_err(int err)
{
    return err != -EAGAIN ? err : CLI_ESERVER;
}

static int
dl_delete(struct cli_ctx *ctx, const char *what, const char *id)
{
    char path[64];
    json_t *body = json_pack("{s:s}", "id", id);
    snprintf(path, sizeof(path), "/v1/download/%s", what);
    int err = body != NULL ? cli_http_json(ctx, "DELETE", path, NULL, body, NULL) : -ENOMEM;
    json_decref(body);
    return err;
}

int
cli_dl_lookup(struct cli_ctx *ctx, const char *id, struct cli_dl_job *out)
{
    json_t *j = NULL;
    int err = dl_get(ctx, "id", id, &j);
    if (err == -ENOENT || err == CLI_ESERVER || err == -EAGAIN) {
        ctx->conn.errmsg[0] = '\0';
        return 0;
    }
    if (err == 0) {
        err = cli_dl_job_parse(j, out) == 0 && strcmp(out->id, id) == 0 ? 1 : 0;
    }
    json_decref(j);
    return err;
}

/* A download job by id, with a "not found" message that says where to look. */
static int
dl_find(struct cli_ctx *ctx, const char *id, json_t **full, struct cli_dl_job *out)
{
    json_t *j = NULL;
    int err = dl_get(ctx, "id", id, &j);
    if (err == -ENOENT) {
        cli_errorf(ctx, "download job \"%s\" not found (see 'ais show job download')", id);
    }
    if (err == 0 && cli_dl_job_parse(j, out) < 0) {
        cli_errorf(ctx, "malformed download status from the cluster for \"%s\"", id);
        err = CLI_ESERVER;
    }
    if (err == 0 && full != NULL) {
        *full = j;
        j = NULL;
    }
    json_decref(j);
    return err;
}

int
cli_dl_abort(struct cli_ctx *ctx, const struct cli_dl_job *j)
{
    if (j->done) {
        fprintf(ctx->out, "Download job %s already %s; nothing to stop\n", j->id,
                cli_dl_job_state(j));
        return 0;
    }
    int err = dl_delete(ctx, "abort", j->id);
    if (err == 0) {
        fprintf(ctx->out, "Stopped download job %s\n", j->id);
    }
    return err;
}

/* Every download job (a listing is an array; AIS may send a map of them). */
static int
dl_list(struct cli_ctx *ctx, const char *regex, struct cli_dl_job **v, size_t *n)
{
    json_t *j = NULL;
    int err = dl_get(ctx, "regex", regex != NULL ? regex : "", &j);
    size_t cap = json_is_array(j) ? json_array_size(j) : json_object_size(j), cnt = 0;
    cap = cap < CLI_DL_JOBS_MAX ? cap : CLI_DL_JOBS_MAX;
    struct cli_dl_job *out = err == 0 ? calloc(cap ? cap : 1, sizeof(*out)) : NULL;
    err = err == 0 && out == NULL ? -ENOMEM : err;
    if (err == 0) {
        const char *k;
        size_t i;
        json_t *e;
        json_array_foreach(j, i, e)
        {
            cnt += cnt < cap && cli_dl_job_parse(e, &out[cnt]) == 0;
        }
        json_object_foreach(j, k, e)
        {
            cnt += cnt < cap && cli_dl_job_parse(e, &out[cnt]) == 0;
        }
        *v = out;
        *n = cnt;
        out = NULL;
    }
    free(out);
    json_decref(j);
    return err;
}

int
cli_dl_ids(struct cli_ctx *ctx, char ***out)
{
    struct cli_dl_job *v = NULL;
    size_t n = 0;
    int err = dl_list(ctx, "", &v, &n);
    char **ids = err == 0 ? calloc(n + 1, sizeof(*ids)) : NULL;
    err = err == 0 && ids == NULL ? -ENOMEM : err;
    for (size_t i = 0; err == 0 && i < n; i++) {
        ids[i] = strdup(v[i].id);
        err = ids[i] != NULL ? 0 : -ENOMEM;
    }
    if (err == 0) {
        *out = ids;
        ids = NULL;
    }
    cli_strv_free(ids);
    free(v);
    return err;
}

/* ---- waiting ---- */

struct dl_wait {
    struct cli_ctx *ctx;
    const char *id;
    json_t *last; /* the last status, with download_errors */
    struct cli_dl_job job;
};

static int
dl_poll(struct dl_wait *w)
{
    json_t *j = NULL;
    struct cli_dl_job job;
    int err = dl_get(w->ctx, "id", w->id, &j);
    if (err == -ENOENT) {
        cli_errorf(w->ctx, "download job \"%s\" is no longer known to the cluster", w->id);
    }
    if (err == 0 && cli_dl_job_parse(j, &job) < 0) {
        cli_errorf(w->ctx, "malformed download status from the cluster for \"%s\"", w->id);
        err = CLI_ESERVER;
    }
    if (err == 0) {
        json_decref(w->last);
        w->last = j;
        w->job = job;
        j = NULL;
    }
    json_decref(j);
    return err;
}

static void
dl_draw(struct dl_wait *w, int64_t t0, unsigned tick, bool last)
{
    char line[512], label[96];
    struct cli_job j;
    memset(&j, 0, sizeof(j));
    j.state = w->job.done ? CLI_JOB_FINISHED : CLI_JOB_RUNNING;
    j.objs = w->job.finished + w->job.errors;
    j.total_objs = w->job.total;
    j.eta_ns = -1;
    snprintf(label, sizeof(label), "download[%.63s]", w->id);
    cli_job_progress_render(line, sizeof(line), label, &j, (ais_mono_ns() - t0) / 1000000, tick,
                            cli_term_width(w->ctx->err));
    fprintf(w->ctx->err, "\r%s\033[K%s", line, last ? "\n" : "");
    fflush(w->ctx->err);
}

/* Polls as `ais job wait` does (50 ms doubling to 1 s) until the job ends or the deadline. */
static int
dl_wait_loop(struct dl_wait *w, int64_t timeout_ms, bool draw)
{
    int64_t t0 = ais_mono_ns(), deadline = t0 + timeout_ms * 1000000;
    int64_t interval = CLI_JOB_POLL_MS_MIN;
    uint64_t polls_max = (uint64_t)(timeout_ms / CLI_JOB_POLL_MS_MIN) + 2;
    unsigned errs = 0;
    int err = dl_poll(w);
    for (uint64_t i = 0; err == 0 && i < polls_max && !w->job.done; i++) {
        int64_t left_ms = (deadline - ais_mono_ns()) / 1000000;
        if (left_ms <= 0) {
            break;
        }
        if (draw) {
            dl_draw(w, t0, (unsigned)i, false);
        }
        cli_nap_ms(interval < left_ms ? interval : left_ms);
        interval = interval * 2 < CLI_JOB_POLL_MS_MAX ? interval * 2 : CLI_JOB_POLL_MS_MAX;
        left_ms = (deadline - ais_mono_ns()) / 1000000;
        w->ctx->conn.ctrl_timeout_ms =
            left_ms < 1000 ? 1000 : (left_ms < CLI_CTRL_TIMEOUT_MS ? left_ms : CLI_CTRL_TIMEOUT_MS);
        err = dl_poll(w);
        if (err < 0 && cli_poll_transient(err) && ++errs <= CLI_JOB_POLL_ERRS_MAX) {
            err = 0;
            continue;
        }
        errs = err == 0 ? 0 : errs;
    }
    if (draw && w->last != NULL) {
        dl_draw(w, t0, 0, true);
    }
    if (err == 0 && !w->job.done) {
        char d[24];
        cli_fmt_duration_ms(timeout_ms, d, sizeof(d));
        cli_errorf(w->ctx,
                   "timed out after %s waiting for download job %s: still running, %llu of %llu "
                   "done; follow it with 'ais job wait download %s'",
                   d, w->id, (unsigned long long)w->job.finished, (unsigned long long)w->job.total,
                   w->id);
        err = CLI_EWAITTIMEOUT;
    }
    return err;
}

static const char *
plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

/* "   URL (reason)" per failed object; urls (may be NULL) maps names back to URLs. */
static void
dl_failures(struct cli_ctx *ctx, const struct dl_wait *w, const json_t *urls)
{
    const json_t *errs = json_object_get(w->last, "download_errors");
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *why = json_string_value(json_object_get(e, "error"));
        const char *url = json_string_value(json_object_get(urls, name != NULL ? name : ""));
        fprintf(ctx->out, "   %s (%s)\n", url != NULL ? url : (name != NULL ? name : "?"),
                why != NULL && why[0] != '\0' ? why : "unknown error");
    }
    if (w->job.errors > json_array_size(errs)) {
        fprintf(ctx->out, "   ... and %llu more (see 'ais show job download %s')\n",
                (unsigned long long)(w->job.errors - json_array_size(errs)), w->id);
    }
}

/* The summary of an ended job: exit 9 when it was aborted or some URL failed. */
static int
dl_report(struct cli_ctx *ctx, const struct dl_wait *w, const json_t *urls, const char *dst)
{
    const struct cli_dl_job *j = &w->job;
    char d[32] = "";
    /* The gateway's times have whole seconds: a job within one second gets no duration. */
    if (j->end_ns > 0 && j->start_ns > 0 && j->end_ns - j->start_ns >= 1000000000LL) {
        char t[24];
        cli_fmt_duration_ms((j->end_ns - j->start_ns) / 1000000, t, sizeof(t));
        snprintf(d, sizeof(d), " in %s", t);
    }
    if (!j->aborted && j->errors == 0) {
        fprintf(ctx->out, "Downloaded %llu object%s into %s%s\n", (unsigned long long)j->finished,
                plural(j->finished), dst, d);
        return 0;
    }
    fprintf(ctx->out, "Downloaded %llu of %llu object%s into %s%s, failed %llu%s\n",
            (unsigned long long)j->finished, (unsigned long long)j->total, plural(j->total), dst, d,
            (unsigned long long)j->errors, j->errors > 0 ? ":" : "");
    dl_failures(ctx, w, urls);
    if (j->aborted) {
        cli_errorf(ctx, "download job %s was aborted", j->id);
    } else {
        cli_errorf(ctx, "download of %llu object%s failed (listed above)",
                   (unsigned long long)j->errors, plural(j->errors));
    }
    return CLI_EJOBFAIL;
}

/* Follows job id to its end and prints the summary. */
static int
dl_follow(struct cli_ctx *ctx, const char *id, int64_t timeout_ms, const json_t *urls,
          const char *dst)
{
    struct dl_wait w = {.ctx = ctx, .id = id};
    int err = dl_wait_loop(&w, timeout_ms, cli_progress_wanted(ctx));
    if (err == 0) {
        err = dl_report(ctx, &w, urls, dst[0] != '\0' ? dst : w.job.bck);
    }
    json_decref(w.last);
    return err;
}

/* ---- ais download ---- */

static int
timeout_flag(struct cli_ctx *ctx, const struct cli_args *a, enum cli_flag f, int64_t *out)
{
    const char *v = a->val[f];
    if (cli_flag_on(a, f) &&
        (ais_duration_parse_ms(v, out) < 0 || *out <= 0 || *out > CLI_JOB_WAIT_MS_MAX)) {
        cli_errorf(ctx, "invalid --%s \"%s\": a duration such as 90s, 5m or 2h (at most 7 days)",
                   cli_flags[f].lng, v);
        return CLI_EUSAGE;
    }
    return 0;
}

/* Reads and splits the --object-list file. */
static int
list_read(struct cli_ctx *ctx, const char *path, json_t **out)
{
    struct ais_buf b;
    char chunk[8192], why[CLI_ERRMSG_BYTES];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int err = fd >= 0 ? 0 : -errno;
    ais_buf_init(&b, CLI_DL_LIST_BYTES_MAX);
    for (ssize_t n = 1; err == 0 && n > 0;) {
        n = read(fd, chunk, sizeof(chunk));
        err = n < 0 ? -errno : (n > 0 ? ais_buf_append(&b, chunk, (size_t)n) : 0);
    }
    if (err == 0) {
        err = cli_dl_list_parse(b.data != NULL ? b.data : "", b.len, out, why, sizeof(why));
        if (err == CLI_EUSAGE) {
            cli_errorf(ctx, "%s (in %s)", why, path);
        }
    } else if (err == -EMSGSIZE) {
        cli_errorf(ctx, "--object-list %s is larger than one request (%d bytes)", path,
                   CLI_DL_LIST_BYTES_MAX);
        err = CLI_EUSAGE;
    } else {
        cli_errorf(ctx, "cannot read --object-list %s: %s", path, ais_strerror(err));
    }
    if (fd >= 0) {
        close(fd);
    }
    ais_buf_fini(&b);
    return err;
}

/* How the destination reads in messages: "ais://b/NAME", "ais://b/PREFIX/", "s3://b". */
static void
dst_str(const json_t *body, const char *dst_arg, char *out, size_t n)
{
    const json_t *b = json_object_get(body, "bucket");
    const char *type = json_string_value(json_object_get(body, "type"));
    const char *obj = json_string_value(json_object_get(body, "object_name"));
    struct cli_bck d;
    const char *why = NULL;
    int w = snprintf(out, n, "%s://%s", json_string_value(json_object_get(b, "provider")),
                     json_string_value(json_object_get(b, "name")));
    if (w < 0 || (size_t)w >= n || strcmp(type, "backend") == 0) {
        return;
    }
    if (obj == NULL && cli_bck_parse(dst_arg, &d, &why) == 0) {
        obj = d.obj;
    }
    snprintf(out + w, n - (size_t)w, "/%s", obj != NULL ? obj : "");
}

static int
dl_start(struct cli_ctx *ctx, const json_t *body, char *id, size_t cap)
{
    json_t *resp = NULL;
    int err = cli_http_json(ctx, "POST", "/v1/download", NULL, body, &resp);
    const char *v = json_is_string(resp) ? json_string_value(resp)
                                         : json_string_value(json_object_get(resp, "id"));
    if (err == 0 && (v == NULL || v[0] == '\0')) {
        cli_errorf(ctx, "the cluster answered no download job id");
        err = CLI_ESERVER;
    }
    if (err == 0) {
        snprintf(id, cap, "%s", v);
    }
    json_decref(resp);
    return err;
}

/* The command line into o; *list gets the --object-list entries (caller decrefs). */
static int
dl_opts(struct cli_ctx *ctx, const struct cli_args *a, struct cli_dl_opts *o, json_t **list)
{
    bool with_list = cli_flag_on(a, CLI_F_OBJECT_LIST);
    memset(o, 0, sizeof(*o));
    o->src = a->npos == 2 || !with_list ? a->pos[0] : NULL;
    o->dst = a->npos == 2 ? a->pos[1] : (with_list ? a->pos[0] : NULL);
    o->desc = a->val[CLI_F_DESCRIPTION];
    int err = timeout_flag(ctx, a, CLI_F_DL_TIMEOUT, &o->dl_timeout_ms);
    if (err == 0 && with_list) {
        err = list_read(ctx, a->val[CLI_F_OBJECT_LIST], list);
        o->list = *list;
    }
    return err;
}

int
cli_cmd_download(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_dl_opts o;
    json_t *list = NULL, *body = NULL, *urls = NULL;
    char why[CLI_ERRMSG_BYTES], id[128], dst[AIS_OBJNAME_BYTES_MAX + AIS_BCKNAME_BYTES_MAX + 16];
    int64_t timeout_ms = CLI_JOB_WAIT_MS_MAX;
    bool wait = cli_flag_on(a, CLI_F_WAIT) || ctx->progress == CLI_PROGRESS_ON ||
                (ctx->progress == CLI_PROGRESS_AUTO && ctx->out_tty);
    int err = dl_opts(ctx, a, &o, &list);
    err = err ? err : timeout_flag(ctx, a, CLI_F_TIMEOUT, &timeout_ms);
    if (err == 0 && cli_flag_on(a, CLI_F_TIMEOUT) && !wait) {
        cli_errorf(ctx, "--timeout limits the wait: add --wait (or --progress)");
        err = CLI_EUSAGE;
    }
    if (err == 0) {
        err = cli_dl_body(&o, &body, why, sizeof(why));
        if (err == CLI_EUSAGE || err == AIS_EBADNAME) {
            cli_errorf(ctx, "%s", why);
        }
    }
    err = err ? err : cli_dl_urls(body, &urls);
    err = err ? err : dl_start(ctx, body, id, sizeof(id));
    if (err == 0) {
        dst_str(body, o.dst, dst, sizeof(dst));
        fprintf(ctx->out, "Started download job %s%s%s\n", id,
                wait ? "" : "; to monitor: ais show job download ", wait ? "" : id);
        fflush(ctx->out);
        err = wait ? dl_follow(ctx, id, timeout_ms, urls, dst) : 0;
    }
    json_decref(urls);
    json_decref(body);
    json_decref(list);
    return cmd_err(err);
}

/* ---- show, stop, rm, wait ---- */

static int
dl_cmp(const void *pa, const void *pb)
{
    const struct cli_dl_job *a = pa, *b = pb;
    if (a->done != b->done) {
        return a->done ? 1 : -1;
    }
    if (a->start_ns != b->start_ns) {
        return a->start_ns > b->start_ns ? -1 : 1;
    }
    return strcmp(a->id, b->id);
}

static int
dl_table(struct cli_ctx *ctx, struct cli_dl_job *v, size_t n)
{
    static const char *const hdr[] = {"ID", "DESCRIPTION", "STATUS", "FINISHED/TOTAL", "ERRORS"};
    struct cli_table t;
    int err = 0;
    cli_table_init(&t, 5, hdr);
    t.right = (1u << 3) | (1u << 4);
    qsort(v, n, sizeof(*v), dl_cmp);
    for (size_t i = 0; err == 0 && i < n; i++) {
        char prog[48], errs[24];
        snprintf(prog, sizeof(prog), "%llu/%llu", (unsigned long long)v[i].finished,
                 (unsigned long long)v[i].total);
        snprintf(errs, sizeof(errs), "%llu", (unsigned long long)v[i].errors);
        const char *row[] = {v[i].id, v[i].desc[0] ? v[i].desc : NULL, cli_dl_job_state(&v[i]),
                             prog, errs};
        err = cli_table_add(&t, row);
    }
    if (err == 0) {
        cli_table_print(&t, ctx->out, !ctx->no_headers);
    }
    cli_table_fini(&t);
    return err;
}

static int
dl_ls(struct cli_ctx *ctx, const char *regex)
{
    json_t *j = NULL;
    if (ctx->json) {
        int err = dl_get(ctx, "regex", regex != NULL ? regex : "", &j);
        if (err == 0) {
            cli_print_json(ctx, j);
        }
        json_decref(j);
        return err;
    }
    struct cli_dl_job *v = NULL;
    size_t n = 0;
    int err = dl_list(ctx, regex, &v, &n);
    if (err == 0 && n == 0) {
        fprintf(ctx->out, "No download jobs%s%s%s\n", regex ? " matching \"" : "",
                regex ? regex : "", regex ? "\"" : "");
    } else if (err == 0) {
        err = dl_table(ctx, v, n);
    }
    free(v);
    return err;
}

static void
dl_summary(struct cli_ctx *ctx, const struct cli_dl_job *j, const json_t *full)
{
    FILE *f = ctx->out;
    char buf[64];
    fprintf(f, "%-13s %s\n%-13s %s\n", "ID:", j->id, "Description:", j->desc[0] ? j->desc : "-");
    fprintf(f, "%-13s %s\n%-13s %s\n", "Bucket:", j->bck[0] ? j->bck : "-",
            "Status:", cli_dl_job_state(j));
    fprintf(f, "%-13s %llu/%llu objects\n", "Downloaded:", (unsigned long long)j->finished,
            (unsigned long long)j->total);
    fprintf(f, "%-13s %llu\n", "Errors:", (unsigned long long)j->errors);
    cli_fmt_time_ns(j->start_ns, buf, sizeof(buf));
    fprintf(f, "%-13s %s\n", "Started:", buf);
    cli_fmt_time_ns(j->end_ns, buf, sizeof(buf));
    fprintf(f, "%-13s %s\n", "Ended:", buf);
    const json_t *errs = json_object_get(full, "download_errors");
    size_t i;
    json_t *e;
    if (json_array_size(errs) > 0) {
        fprintf(f, "\nErrors:\n");
    }
    json_array_foreach(errs, i, e)
    {
        fprintf(f, "   %s: %s\n", json_string_value(json_object_get(e, "name")),
                json_string_value(json_object_get(e, "error")));
    }
}

int
cli_cmd_dl_show(struct cli_ctx *ctx, const struct cli_args *a)
{
    if (a->npos == 0) {
        return cmd_err(dl_ls(ctx, a->val[CLI_F_REGEX]));
    }
    json_t *full = NULL;
    struct cli_dl_job j;
    int err = dl_find(ctx, a->pos[0], &full, &j);
    if (err == 0 && ctx->json) {
        cli_print_json(ctx, full);
    } else if (err == 0) {
        dl_summary(ctx, &j, full);
    }
    json_decref(full);
    return cmd_err(err);
}

int
cli_cmd_dl_stop(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_dl_job j;
    int err = dl_find(ctx, a->pos[0], NULL, &j);
    return cmd_err(err == 0 ? cli_dl_abort(ctx, &j) : err);
}

int
cli_cmd_dl_rm(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_dl_job j;
    int err = dl_find(ctx, a->pos[0], NULL, &j);
    if (err == 0 && !j.done) {
        /* What the gateway answers too (400): a cluster-side refusal, exit 6. */
        cli_errorf(ctx, "download job %s is still running: stop it first (ais job stop %s)", j.id,
                   j.id);
        return CLI_ESERVER;
    }
    err = err ? err : dl_delete(ctx, "remove", j.id);
    if (err == 0) {
        fprintf(ctx->out, "Removed download job %s\n", j.id);
    }
    return cmd_err(err);
}

int
cli_cmd_dl_wait(struct cli_ctx *ctx, const struct cli_args *a)
{
    int64_t timeout_ms = CLI_JOB_WAIT_MS_MAX;
    struct cli_dl_job j;
    int err = timeout_flag(ctx, a, CLI_F_TIMEOUT, &timeout_ms);
    err = err ? err : dl_find(ctx, a->pos[0], NULL, &j);
    return cmd_err(err ? err : dl_follow(ctx, j.id, timeout_ms, NULL, j.bck));
}
