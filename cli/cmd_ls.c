/*
 * `ais ls BUCKET[/PREFIX]`: list objects, paging through every result.
 *
 * Design notes: the gateway answers one page per request with a list-job uuid and a
 * continuation token; we pass both back until the token is empty, bounded by
 * CLI_LIST_PAGES_MAX and by a check that the server makes progress. Columns follow --props
 * (name always first); each maps to an entry key of the JSON reply (size arrives as a
 * string). Rows are collected and printed once so columns align; --limit bounds memory and
 * also shrinks the page size so we do not fetch what we will not show. --json prints the
 * entries with numeric sizes. Without a bucket, `ais ls` lists buckets, as AIS does.
 */
#include "cli/cli_int.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum col_kind { COL_TEXT, COL_SIZE, COL_TIME, COL_INT, COL_STATUS, COL_CACHED };

struct ls_col {
    const char *prop; /* --props name, also sent to the server */
    const char *hdr;
    const char *key; /* entry key in the reply */
    enum col_kind kind;
};

static const struct ls_col ls_cols[] = {
    {"name", "NAME", "name", COL_TEXT},
    {"size", "SIZE", "size", COL_SIZE},
    {"checksum", "CHECKSUM", "checksum", COL_TEXT},
    {"atime", "ATIME", "atime", COL_TIME},
    {"version", "VERSION", "version", COL_TEXT},
    {"copies", "COPIES", "copies", COL_INT},
    {"location", "LOCATION", "location", COL_TEXT},
    {"custom", "CUSTOM", "custom-md", COL_TEXT},
    {"status", "STATUS", "flags", COL_STATUS},
    {"cached", "CACHED", "flags", COL_CACHED},
    {"ec", "EC", "ec", COL_TEXT},
    {"etag", "ETAG", "etag", COL_TEXT},
    {"last-modified", "LAST-MODIFIED", "last-modified", COL_TEXT},
};
#define LS_NCOLS (sizeof(ls_cols) / sizeof(ls_cols[0]))
/* "--props all": the leading entries, name through status. */
#define LS_ALL_COLS 9
static_assert(LS_NCOLS <= CLI_TABLE_COLS_MAX, "every column fits one table");

struct ls_job {
    const struct ls_col *cols[LS_NCOLS];
    size_t ncols;
    char props[256]; /* comma list sent to the server */
    char prefix[AIS_OBJNAME_BYTES_MAX + 1];
    uint64_t limit;
    uint64_t page_size;
    struct cli_ctx *ctx;
    struct cli_table table;
    json_t *all; /* --json output */
};

static int
col_add(struct cli_ctx *ctx, struct ls_job *j, const char *name)
{
    const char *cands[LS_NCOLS + 1];
    for (size_t i = 0; i < LS_NCOLS; i++) {
        cands[i] = ls_cols[i].prop;
        if (strcmp(name, ls_cols[i].prop) != 0) {
            continue;
        }
        for (size_t k = 0; k < j->ncols; k++) {
            if (j->cols[k] == &ls_cols[i]) {
                return 0;
            }
        }
        j->cols[j->ncols++] = &ls_cols[i];
        size_t l = strlen(j->props);
        snprintf(j->props + l, sizeof(j->props) - l, "%s%s", l > 0 ? "," : "", name);
        return 0;
    }
    cands[LS_NCOLS] = "all";
    const char *best = cli_suggest(name, cands, LS_NCOLS + 1);
    cli_errorf(ctx, "unknown property \"%s\" in --props%s%s%s", name,
               best ? "; did you mean \"" : "", best ? best : "", best ? "\"?" : "");
    return CLI_EUSAGE;
}

static int
cols_parse(struct cli_ctx *ctx, struct ls_job *j, const char *spec)
{
    char buf[256];
    char *save = NULL;
    int err = col_add(ctx, j, "name");
    snprintf(buf, sizeof(buf), "%s", spec != NULL ? spec : "size");
    for (char *t = strtok_r(buf, ", ", &save); t != NULL && err == 0;
         t = strtok_r(NULL, ", ", &save)) {
        if (strcmp(t, "all") == 0) {
            for (size_t i = 1; i < LS_ALL_COLS && err == 0; i++) {
                err = col_add(ctx, j, ls_cols[i].prop);
            }
        } else {
            err = col_add(ctx, j, t);
        }
    }
    return err;
}

/*
 * An entry's atime as unix nanoseconds: the cluster lists it the way AIS does, as text
 * ("02 Dec 2026 17:50 UTC", minute precision), or as a number. 0 or -EINVAL.
 */
static int
atime_ns(const json_t *v, int64_t *out)
{
    uint64_t u = 0;
    struct tm tm;
    const char *s = json_string_value(v);
    if (cli_json_u64(v, &u) == 0) {
        *out = (int64_t)u;
        return 0;
    }
    memset(&tm, 0, sizeof(tm));
    const char *end = s != NULL ? strptime(s, "%d %b %Y %H:%M", &tm) : NULL;
    if (end == NULL || (*end != '\0' && strcmp(end, " UTC") != 0)) {
        return -EINVAL;
    }
    *out = (int64_t)timegm(&tm) * 1000000000;
    return 0;
}

static char *
cell_text(const struct cli_ctx *ctx, const struct ls_col *c, const json_t *e)
{
    char buf[64];
    const json_t *v = json_object_get(e, c->key);
    uint64_t u = 0;
    switch (c->kind) {
    case COL_SIZE:
        (void)cli_json_u64(v, &u); /* omitted when 0 */
        if (ctx->raw) {
            snprintf(buf, sizeof(buf), "%llu", (unsigned long long)u);
        } else {
            cli_fmt_size(u, buf, sizeof(buf));
        }
        return strdup(buf);
    case COL_TIME: {
        int64_t ns = 0;
        if (v != NULL && atime_ns(v, &ns) == 0) { /* same formats as `ais object stat` */
            if (ctx->raw) {
                snprintf(buf, sizeof(buf), "%lld", (long long)ns);
            } else {
                cli_fmt_time_ns(ns, buf, sizeof(buf));
            }
            return strdup(buf);
        }
        return v != NULL ? cli_json_scalar(v) : strdup("-");
    }
    case COL_STATUS: {
        static const char *const st[] = {"ok", "misplaced", "misplaced-mpath", "copy",
                                         "copy-no-main"};
        (void)cli_json_u64(v, &u);
        return strdup((u & 31) < 5 ? st[u & 31] : "unknown");
    }
    case COL_CACHED:
        (void)cli_json_u64(v, &u);
        return strdup((u & 64) ? "yes" : "no");
    case COL_INT:
    case COL_TEXT:
    default:
        return v != NULL ? cli_json_scalar(v) : strdup("-");
    }
}

static int
entry_add(struct cli_ctx *ctx, struct ls_job *j, json_t *e)
{
    if (ctx->json) {
        uint64_t sz = 0;
        int64_t at = 0;
        if (cli_json_u64(json_object_get(e, "size"), &sz) == 0) {
            json_object_set_new(e, "size", json_integer((json_int_t)sz));
        }
        if (json_object_get(e, "atime") && atime_ns(json_object_get(e, "atime"), &at) == 0) {
            json_object_set_new(e, "atime", json_integer((json_int_t)at)); /* unix ns */
        }
        return json_array_append(j->all, e) == 0 ? 0 : -ENOMEM;
    }
    char *cells[LS_NCOLS] = {NULL};
    int err = 0;
    for (size_t i = 0; i < j->ncols; i++) {
        cells[i] = cell_text(ctx, j->cols[i], e);
        if (cells[i] == NULL) {
            err = -ENOMEM;
        }
    }
    if (err == 0) {
        err = cli_table_add(&j->table, (const char *const *)cells);
    }
    for (size_t i = 0; i < j->ncols; i++) {
        free(cells[i]);
    }
    return err;
}

/* A continuation token can be a shard member's name: "<shard>/<member>", member <= 4 KiB. */
#define LS_TOKEN_BYTES (AIS_OBJNAME_BYTES_MAX + 1 + 4096 + 1)

struct list_run {
    const struct cli_list *l;
    char uuid[128];
    char token[LS_TOKEN_BYTES];
    uint64_t count;
    bool done;
};

static int
list_page_body(const struct list_run *r, char **out)
{
    char flags[24];
    snprintf(flags, sizeof(flags), "%llu", (unsigned long long)r->l->flags);
    json_t *v = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "prefix", r->l->prefix, "pagesize",
                          (json_int_t)r->l->page_size, "uuid", r->uuid, "props", r->l->props,
                          "continuation_token", r->token, "flags", flags, "target", "");
    json_t *msg = v != NULL ? cli_actmsg("list", v) : NULL;
    *out = msg != NULL ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    return *out != NULL ? 0 : -ENOMEM;
}

/* Hands the entries of one reply to the callback and advances uuid/token. */
static int
list_page_consume(struct cli_conn *c, struct list_run *r, json_t *reply)
{
    json_t *entries = json_object_get(reply, "entries");
    const char *next = json_string_value(json_object_get(reply, "continuation_token"));
    const char *id = json_string_value(json_object_get(reply, "uuid"));
    size_t i;
    json_t *e;
    int err = 0;
    if (!json_is_object(reply) ||
        (entries != NULL && !json_is_array(entries) && !json_is_null(entries))) {
        cli_conn_errorf(c, "unexpected list-objects reply from the cluster");
        return CLI_ESERVER;
    }
    json_array_foreach(entries, i, e)
    {
        if (r->l->limit > 0 && r->count >= r->l->limit) {
            break;
        }
        if ((err = r->l->fn(e, r->l->arg)) < 0) {
            return err;
        }
        r->count++;
    }
    if (next != NULL && next[0] != '\0' && json_array_size(entries) == 0 &&
        strcmp(next, r->token) == 0) {
        cli_conn_errorf(c, "listing makes no progress (empty page, same continuation token)");
        return CLI_ESERVER;
    }
    r->done = next == NULL || next[0] == '\0' || (r->l->limit > 0 && r->count >= r->l->limit) ||
              r->l->one_page;
    snprintf(r->token, sizeof(r->token), "%s", next != NULL ? next : "");
    snprintf(r->uuid, sizeof(r->uuid), "%s", id != NULL ? id : "");
    return 0;
}

static int
list_page(struct cli_conn *c, struct list_run *r, const char *path, const char *query)
{
    struct cli_resp resp;
    char *body = NULL;
    json_t *reply = NULL;
    int err = list_page_body(r, &body);
    if (err < 0) {
        return err;
    }
    struct cli_req rq = {.method = "GET",
                         .path = path,
                         .query = query,
                         .body = body,
                         .body_len = strlen(body),
                         .timeout_ms = c->ctrl_timeout_ms};
    cli_resp_init(&resp);
    err = cli_http_do(c, &rq, &resp);
    if (err == 0) {
        reply = cli_json_loadb(resp.body.data, resp.body.len);
        err = reply != NULL ? list_page_consume(c, r, reply) : CLI_ESERVER;
        if (reply == NULL) {
            cli_conn_errorf(c, "malformed list-objects JSON from the cluster");
        }
    }
    json_decref(reply);
    cli_resp_fini(&resp);
    free(body);
    return err;
}

int
cli_list_objects(struct cli_conn *c, const struct cli_bck *b, const struct cli_list *l)
{
    struct ais_buf path;
    char query[64];
    int err = 0;
    struct list_run *r = calloc(1, sizeof(*r));
    ais_buf_init(&path, AIS_URI_BYTES_MAX);
    if (r == NULL || cli_bck_path(b, &path) < 0) {
        err = -ENOMEM;
        goto out;
    }
    r->l = l;
    cli_bck_query(b, query, sizeof(query));
    for (uint32_t page = 0; !r->done && err == 0; page++) {
        if (page >= CLI_LIST_PAGES_MAX) {
            cli_conn_errorf(c, "listing stopped after %d pages", CLI_LIST_PAGES_MAX);
            err = CLI_ESERVER;
            break;
        }
        err = list_page(c, r, path.data, query);
    }
out:
    free(r);
    ais_buf_fini(&path);
    return err;
}

static int
ls_entry(json_t *e, void *arg)
{
    struct ls_job *j = arg;
    return entry_add(j->ctx, j, e);
}

static int
ls_opts(struct cli_ctx *ctx, const struct cli_args *a, const struct cli_bck *b, struct ls_job *j)
{
    if (cli_flag_on(a, CLI_F_LIMIT) &&
        cli_parse_uint(a->val[CLI_F_LIMIT], UINT32_MAX, &j->limit) < 0) {
        cli_errorf(ctx, "invalid --limit \"%s\" (expected a number)", a->val[CLI_F_LIMIT]);
        return CLI_EUSAGE;
    }
    if (cli_flag_on(a, CLI_F_PAGE_SIZE) &&
        cli_parse_uint(a->val[CLI_F_PAGE_SIZE], AIS_LIST_PAGE_MAX, &j->page_size) < 0) {
        cli_errorf(ctx, "invalid --page-size \"%s\" (0..%d)", a->val[CLI_F_PAGE_SIZE],
                   AIS_LIST_PAGE_MAX);
        return CLI_EUSAGE;
    }
    if (j->page_size == 0 && j->limit > 0 && j->limit < AIS_LIST_PAGE_DEFAULT) {
        j->page_size = j->limit;
    }
    const char *pfx = b->obj != NULL ? b->obj : "";
    if (cli_flag_on(a, CLI_F_PREFIX)) {
        if (pfx[0] != '\0') {
            cli_errorf(ctx, "give the prefix either as BUCKET/PREFIX or with --prefix, not both");
            return CLI_EUSAGE;
        }
        pfx = a->val[CLI_F_PREFIX];
    }
    if (strlen(pfx) > AIS_OBJNAME_BYTES_MAX) {
        cli_errorf(ctx, "prefix too long");
        return CLI_EUSAGE;
    }
    snprintf(j->prefix, sizeof(j->prefix), "%s", pfx);
    return cols_parse(ctx, j, a->val[CLI_F_PROPS]);
}

/* `ais ls BUCKET/SHARD --archive`: the shard and its members (GET ?archlist=true, arch.h). */
static int
ls_archive(struct cli_ctx *ctx, const struct cli_args *a, const struct cli_bck *b)
{
    struct ais_buf path;
    char query[96], sz[32];
    json_t *reply = NULL;
    ais_buf_init(&path, AIS_URI_BYTES_MAX);
    cli_bck_query(b, query, sizeof(query) - 16);
    strcat(query, "&archlist=true");
    int err = cli_obj_path(b, b->obj, &path) == 0
                  ? cli_http_json(ctx, "GET", path.data, query, NULL, &reply)
                  : -ENOMEM;
    ais_buf_fini(&path);
    json_t *ents = json_object_get(reply, "entries");
    if (err == 0 && ctx->json) {
        cli_print_json(ctx, ents);
    } else if (err == 0) {
        static const char *const hdrs[] = {"NAME", "SIZE"};
        struct cli_table t;
        cli_table_init(&t, 2, hdrs);
        t.right = 1u << 1;
        size_t i;
        json_t *e;
        json_array_foreach(ents, i, e)
        {
            uint64_t size = 0;
            (void)cli_json_u64(json_object_get(e, "size"), &size);
            if (cli_flag_on(a, CLI_F_RAW)) {
                snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size);
            } else {
                cli_fmt_size(size, sz, sizeof(sz));
            }
            const char *cells[2] = {json_string_value(json_object_get(e, "name")), sz};
            if (cells[0] != NULL && cli_table_add(&t, cells) < 0) {
                err = -ENOMEM;
                break;
            }
        }
        if (err == 0) {
            cli_table_print(&t, ctx->out, !ctx->no_headers);
        }
        cli_table_fini(&t);
    }
    json_decref(reply);
    return err;
}

int
cli_cmd_ls(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_bck b;
    const char *why = NULL;
    size_t plen = a->npos ? strlen(a->pos[0]) : 0;
    if (a->npos == 0 || (plen > 3 && strcmp(a->pos[0] + plen - 3, "://") == 0)) {
        return cli_cmd_bucket_ls(ctx, a); /* buckets: all, or of one provider ("s3://") */
    }
    int err = cli_bck_parse(a->pos[0], &b, &why);
    if (err < 0) {
        cli_errorf(ctx, "invalid bucket \"%s\": %s", a->pos[0], why);
        return err;
    }
    /* A bucket with --archive: every object, shards followed by their members (arch-dir). */
    int arch = cli_flag_on(a, CLI_F_ARCHIVE);
    if (arch && b.obj != NULL && b.obj[0] != '\0') {
        return ls_archive(ctx, a, &b);
    }
    struct ls_job *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        return -ENOMEM;
    }
    err = ls_opts(ctx, a, &b, j);
    if (err == 0) {
        const char *hdrs[LS_NCOLS];
        for (size_t i = 0; i < j->ncols; i++) {
            hdrs[i] = j->cols[i]->hdr;
        }
        cli_table_init(&j->table, j->ncols, hdrs);
        for (size_t i = 0; i < j->ncols; i++) {
            if (j->cols[i]->kind == COL_SIZE || j->cols[i]->kind == COL_INT) {
                j->table.right |= 1u << i;
            }
        }
        j->all = json_array();
        struct cli_list l = {.prefix = j->prefix,
                             .props = j->props,
                             .limit = j->limit,
                             .page_size = (uint32_t)j->page_size,
                             .flags = arch ? 8u : 0u, /* AIS apc.LsArchDir */
                             .fn = ls_entry,
                             .arg = j};
        j->ctx = ctx;
        err = j->all != NULL ? cli_list_objects(&ctx->conn, &b, &l) : -ENOMEM;
    }
    if (err == 0 && ctx->json) {
        cli_print_json(ctx, j->all);
    } else if (err == 0) {
        cli_table_print(&j->table, ctx->out, !ctx->no_headers);
    }
    cli_table_fini(&j->table);
    json_decref(j->all);
    free(j);
    return err;
}
