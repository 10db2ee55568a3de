/*
 * `ais bucket create|ls|rm|props show|props set`.
 *
 * Design notes: bucket calls are control-plane JSON requests the gateway answers itself.
 * Properties are shown flattened to dotted keys (the same names `props set` takes), which is
 * how AIS users already address them. `props set KEY=VALUE` builds the partial BpropsToSet
 * JSON; each value is typed after the current value of that key (read with HEAD first), so
 * "mirror.copies=2" is sent as a number, "access=..." stays a string and an unknown key is
 * refused locally. A JSON argument is sent as is for anything the dotted form cannot say.
 */
#include "cli/cli_int.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int
parse_bucket_arg(struct cli_ctx *ctx, const char *s, struct cli_bck *b)
{
    const char *why = NULL;
    int err = cli_bck_parse(s, b, &why);
    if (err < 0) {
        cli_errorf(ctx, "invalid bucket \"%s\": %s", s, why);
        return err;
    }
    if (b->obj != NULL && b->obj[0] != '\0') {
        cli_errorf(ctx, "expected a bucket, got \"%s\" (object names are not allowed here)", s);
        return CLI_EUSAGE;
    }
    return 0;
}

/* One bucket request with an ActMsg body. */
static int
bucket_act(struct cli_ctx *ctx, const struct cli_bck *b, const char *method, const char *action,
           json_t *value)
{
    struct ais_buf path;
    char query[64];
    json_t *msg = cli_actmsg(action, value);
    int err = -ENOMEM;
    ais_buf_init(&path, AIS_URI_BYTES_MAX);
    if (msg == NULL || cli_bck_path(b, &path) < 0) {
        goto out;
    }
    cli_bck_query(b, query, sizeof(query));
    err = cli_http_json(ctx, method, path.data, query, msg, NULL);
out:
    json_decref(msg);
    ais_buf_fini(&path);
    return err;
}

int
cli_cmd_bucket_create(struct cli_ctx *ctx, const struct cli_args *a)
{
    for (int i = 0; i < a->npos; i++) {
        struct cli_bck b;
        char name[128];
        int err = parse_bucket_arg(ctx, a->pos[i], &b);
        if (err < 0) {
            return err;
        }
        err = bucket_act(ctx, &b, "POST", "create-bck", NULL);
        if (err < 0) {
            return err;
        }
        cli_bck_str(&b, name, sizeof(name));
        fprintf(ctx->out, "Created bucket \"%s\"\n", name);
    }
    return 0;
}

int
cli_cmd_bucket_rm(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_bck bcks[CLI_ARGS_MAX];
    struct ais_buf prompt;
    int err = 0;
    ais_buf_init(&prompt, 4096);
    for (int i = 0; i < a->npos && err == 0; i++) {
        err = parse_bucket_arg(ctx, a->pos[i], &bcks[i]);
    }
    if (err < 0) {
        goto out;
    }
    ais_buf_printf(&prompt, "Destroy %s", a->npos > 1 ? "buckets" : "bucket");
    for (int i = 0; i < a->npos; i++) {
        ais_buf_printf(&prompt, "%s %s://%s", i > 0 ? "," : "", bcks[i].provider, bcks[i].name);
    }
    ais_buf_printf(&prompt, " and all objects in %s?", a->npos > 1 ? "them" : "it");
    err = cli_confirm(ctx, prompt.data != NULL ? prompt.data : "Destroy buckets?");
    for (int i = 0; i < a->npos && err == 0; i++) {
        char name[128];
        err = bucket_act(ctx, &bcks[i], "DELETE", "destroy-bck", NULL);
        if (err == 0) {
            cli_bck_str(&bcks[i], name, sizeof(name));
            fprintf(ctx->out, "Destroyed bucket \"%s\"\n", name);
        }
    }
out:
    ais_buf_fini(&prompt);
    return err;
}

/* The cluster's buckets of one provider (query "provider=ais"), or of all (""). */
static int
list_buckets_json(struct cli_ctx *ctx, const char *query, json_t **out)
{
    json_t *msg = cli_actmsg("list", NULL);
    if (msg == NULL) {
        return -ENOMEM;
    }
    int err = cli_http_json(ctx, "GET", "/v1/buckets", query, msg, out);
    json_decref(msg);
    if (err == 0 && !json_is_array(*out)) {
        json_decref(*out);
        cli_errorf(ctx, "unexpected bucket list from the cluster (not a JSON array)");
        return CLI_ESERVER;
    }
    return err;
}

/* "ais://name" or "ais://@uuid#ns/name" for one Bck JSON entry. */
static void
bck_json_str(const json_t *e, char *out, size_t n)
{
    const char *prov = json_string_value(json_object_get(e, "provider"));
    const char *name = json_string_value(json_object_get(e, "name"));
    const json_t *ns = json_object_get(e, "namespace");
    const char *uuid = json_string_value(json_object_get(ns, "uuid"));
    const char *nsn = json_string_value(json_object_get(ns, "name"));
    if ((uuid != NULL && uuid[0]) || (nsn != NULL && nsn[0])) {
        snprintf(out, n, "%s://@%s#%s/%s", prov ? prov : "ais", uuid ? uuid : "", nsn ? nsn : "",
                 name ? name : "?");
    } else {
        snprintf(out, n, "%s://%s", prov ? prov : "ais", name ? name : "?");
    }
}

static int
bck_entry_cmp(const void *pa, const void *pb)
{
    char a[256], b[256];
    bck_json_str(*(json_t *const *)pa, a, sizeof(a));
    bck_json_str(*(json_t *const *)pb, b, sizeof(b));
    return strcmp(a, b);
}

/* The entries of list sorted by their display name (the cluster answers in BMD order). */
static json_t *
buckets_sorted(const json_t *list)
{
    size_t n = json_array_size(list);
    json_t **v = calloc(n ? n : 1, sizeof(*v));
    json_t *out = v != NULL ? json_array() : NULL;
    for (size_t i = 0; out != NULL && i < n; i++) {
        v[i] = json_array_get(list, i);
    }
    if (out != NULL) {
        qsort(v, n, sizeof(*v), bck_entry_cmp);
    }
    for (size_t i = 0; out != NULL && i < n; i++) {
        json_array_append(out, v[i]);
    }
    free(v);
    return out;
}

/* Every bucket of the cluster (provider NULL: ais and the remote ones it has), sorted. */
static int
buckets_show(struct cli_ctx *ctx, const char *provider)
{
    static const char *const hdr[] = {"NAME"};
    struct cli_table t;
    json_t *list = NULL, *unsorted = NULL;
    size_t i;
    json_t *e;
    char q[32] = "";
    if (provider != NULL) {
        snprintf(q, sizeof(q), "provider=%s", provider);
    }
    int err = list_buckets_json(ctx, q, &unsorted);
    if (err < 0) {
        return err;
    }
    list = buckets_sorted(unsorted);
    json_decref(unsorted);
    if (list == NULL) {
        return -ENOMEM;
    }
    if (ctx->json) {
        cli_print_json(ctx, list);
        json_decref(list);
        return 0;
    }
    cli_table_init(&t, 1, hdr);
    json_array_foreach(list, i, e)
    {
        char name[256];
        const char *cells[1] = {name};
        bck_json_str(e, name, sizeof(name));
        if ((err = cli_table_add(&t, cells)) < 0) {
            break;
        }
    }
    if (err == 0) {
        cli_table_print(&t, ctx->out, !ctx->no_headers);
    }
    cli_table_fini(&t);
    json_decref(list);
    return err;
}

int
cli_cmd_bucket_ls(struct cli_ctx *ctx, const struct cli_args *a)
{
    if (a->npos == 0) {
        return buckets_show(ctx, NULL);
    }
    size_t l = strlen(a->pos[0]);
    struct cli_bck b;
    char probe[40];
    const char *why = NULL;
    /* "s3://" alone: the cluster's buckets of that provider. */
    if (l > 3 && l < 24 && strcmp(a->pos[0] + l - 3, "://") == 0 &&
        snprintf(probe, sizeof(probe), "%sx", a->pos[0]) > 0 &&
        cli_bck_parse(probe, &b, &why) == 0) {
        return buckets_show(ctx, b.provider);
    }
    return cli_cmd_ls(ctx, a);
}

int
cli_bucket_names(struct cli_conn *c, char ***out)
{
    struct cli_resp resp;
    static const char body[] = "{\"action\":\"list\",\"name\":\"\",\"value\":null}";
    struct cli_req rq = {.method = "GET",
                         .path = "/v1/buckets",
                         .query = "provider=ais",
                         .body = body,
                         .body_len = sizeof(body) - 1,
                         .timeout_ms = c->ctrl_timeout_ms};
    json_t *list = NULL;
    char **v = NULL;
    cli_resp_init(&resp);
    int err = cli_http_do(c, &rq, &resp);
    if (err == 0) {
        list = cli_json_loadb(resp.body.data, resp.body.len);
        err = json_is_array(list) ? 0 : CLI_ESERVER;
    }
    if (err == 0) {
        size_t n = json_array_size(list);
        v = calloc(n + 1, sizeof(*v));
        err = v == NULL ? -ENOMEM : 0;
        for (size_t i = 0; i < n && err == 0; i++) {
            const char *name = json_string_value(json_object_get(json_array_get(list, i), "name"));
            v[i] = strdup(name != NULL ? name : "");
            err = v[i] == NULL ? -ENOMEM : 0;
        }
    }
    if (err == 0) {
        *out = v;
        v = NULL;
    }
    cli_strv_free(v);
    json_decref(list);
    cli_resp_fini(&resp);
    return err;
}

void
cli_strv_free(char **v)
{
    if (v == NULL) {
        return;
    }
    for (char **p = v; *p != NULL; p++) {
        free(*p);
    }
    free(v);
}

/* HEAD the bucket and parse Ais-Bucket-Props into *props. */
static int
props_get(struct cli_ctx *ctx, const struct cli_bck *b, json_t **props)
{
    struct ais_buf path;
    struct cli_resp resp;
    char query[64];
    int err;
    ais_buf_init(&path, AIS_URI_BYTES_MAX);
    cli_resp_init(&resp);
    if (cli_bck_path(b, &path) < 0) {
        err = -ENOMEM;
        goto out;
    }
    cli_bck_query(b, query, sizeof(query));
    struct cli_req rq = {.method = "HEAD",
                         .path = path.data,
                         .query = query,
                         .timeout_ms = ctx->conn.ctrl_timeout_ms};
    err = cli_http_do(&ctx->conn, &rq, &resp);
    if (err < 0) {
        goto out;
    }
    const char *h = cli_resp_hdr(&resp, "Ais-Bucket-Props");
    *props = h != NULL ? cli_json_loadb(h, strlen(h)) : NULL;
    if (*props == NULL || !json_is_object(*props)) {
        json_decref(*props);
        cli_errorf(ctx, "the cluster sent no bucket properties (header Ais-Bucket-Props)");
        err = CLI_ESERVER;
    }
out:
    cli_resp_fini(&resp);
    ais_buf_fini(&path);
    return err;
}

int
cli_cmd_props_show(struct cli_ctx *ctx, const struct cli_args *a)
{
    static const char *const hdr[] = {"PROPERTY", "VALUE"};
    struct cli_bck b;
    struct cli_table t;
    json_t *props = NULL;
    const char *filter = a->npos > 1 ? a->pos[1] : "";
    int err = parse_bucket_arg(ctx, a->pos[0], &b);
    if (err < 0 || (err = props_get(ctx, &b, &props)) < 0) {
        return err;
    }
    if (ctx->json) {
        const json_t *sub = filter[0] != '\0' ? json_object_get(props, filter) : NULL;
        cli_print_json(ctx, sub != NULL ? sub : props);
        json_decref(props);
        return 0;
    }
    cli_table_init(&t, 2, hdr);
    err = cli_json_flatten(props, "", &t);
    if (err == 0 && filter[0] != '\0') {
        size_t keep = cli_table_keep_prefix(&t, 0, filter);
        if (keep == 0) {
            cli_errorf(ctx, "no bucket property matches \"%s\"", filter);
            err = -ENOENT;
        }
    }
    if (err == 0) {
        cli_table_print(&t, ctx->out, !ctx->no_headers);
    }
    cli_table_fini(&t);
    json_decref(props);
    return err;
}

/* Typed JSON value for text, following the type of the current value (cur may be NULL). */
static json_t *
typed_value(const json_t *cur, const char *text)
{
    uint64_t u;
    int b = ais_parse_bool(text);
    if (json_is_boolean(cur) || (cur == NULL && b >= 0 && strchr("tfTF", text[0]))) {
        return b >= 0 ? json_boolean(b) : NULL;
    }
    if (json_is_integer(cur) || (cur == NULL && cli_parse_uint(text, INT64_MAX, &u) == 0)) {
        char *end = NULL;
        long long v = strtoll(text, &end, 10);
        return (end != text && *end == '\0') ? json_integer(v) : NULL;
    }
    return json_string(text);
}

/* Sets dotted key in the partial-props object, creating intermediate objects. */
static int
props_put_key(struct cli_ctx *ctx, json_t *partial, const json_t *cur, const char *key,
              const char *text)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", key);
    json_t *dst = partial;
    const json_t *src = cur;
    char *save = NULL;
    char *seg = strtok_r(buf, ".", &save);
    while (seg != NULL) {
        char *next = strtok_r(NULL, ".", &save);
        src = json_object_get(src, seg);
        if (cur != NULL && src == NULL) {
            cli_errorf(ctx, "unknown bucket property \"%s\" (see 'ais bucket props show')", key);
            return CLI_EUSAGE;
        }
        if (next == NULL) {
            json_t *v = typed_value(src, text);
            if (v == NULL) {
                cli_errorf(ctx, "invalid value \"%s\" for bucket property \"%s\"", text, key);
                return CLI_EUSAGE;
            }
            return json_object_set_new(dst, seg, v) == 0 ? 0 : -ENOMEM;
        }
        json_t *child = json_object_get(dst, seg);
        if (child == NULL) {
            child = json_object();
            if (child == NULL || json_object_set_new(dst, seg, child) < 0) {
                return -ENOMEM;
            }
        }
        dst = child;
        seg = next;
    }
    cli_errorf(ctx, "invalid bucket property name \"%s\"", key);
    return CLI_EUSAGE;
}

/* KEY=VALUE words, or KEY VALUE pairs, into partial. */
static int
props_from_args(struct cli_ctx *ctx, const struct cli_args *a, const json_t *cur, json_t *partial)
{
    for (int i = 1; i < a->npos; i++) {
        char key[256];
        const char *eq = strchr(a->pos[i], '=');
        const char *val;
        if (eq != NULL) {
            snprintf(key, sizeof(key), "%.*s", (int)(eq - a->pos[i]), a->pos[i]);
            val = eq + 1;
        } else if (i + 1 < a->npos) {
            snprintf(key, sizeof(key), "%s", a->pos[i]);
            val = a->pos[++i];
        } else {
            cli_errorf(ctx, "missing value for \"%s\" (use KEY=VALUE)", a->pos[i]);
            return CLI_EUSAGE;
        }
        int err = props_put_key(ctx, partial, cur, key, val);
        if (err < 0) {
            return err;
        }
    }
    return 0;
}

int
cli_cmd_props_set(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_bck b;
    json_t *cur = NULL;
    json_t *partial = NULL;
    char name[128];
    int err = parse_bucket_arg(ctx, a->pos[0], &b);
    if (err < 0) {
        return err;
    }
    if (a->npos == 2 && a->pos[1][0] == '{') {
        partial = json_loads(a->pos[1], 0, NULL);
        if (!json_is_object(partial)) {
            cli_errorf(ctx, "invalid JSON properties: %s", a->pos[1]);
            err = CLI_EUSAGE;
            goto out;
        }
    } else {
        err = props_get(ctx, &b, &cur);
        if (err < 0) {
            goto out;
        }
        partial = json_object();
        err = partial == NULL ? -ENOMEM : props_from_args(ctx, a, cur, partial);
        if (err < 0) {
            goto out;
        }
    }
    err = bucket_act(ctx, &b, "PATCH", "set-bprops", json_incref(partial));
    if (err == 0) {
        cli_bck_str(&b, name, sizeof(name));
        fprintf(ctx->out, "Bucket \"%s\" properties updated\n", name);
    }
out:
    json_decref(cur);
    json_decref(partial);
    return err;
}

/* ---- summary: object count and size per bucket ---- */

struct sum_acc {
    uint64_t objects, bytes;
};

static int
sum_entry(json_t *e, void *arg)
{
    struct sum_acc *s = arg;
    uint64_t size = 0;
    (void)cli_json_u64(json_object_get(e, "size"), &size);
    s->objects++;
    s->bytes += size;
    return 0;
}

/* Counts by listing the bucket (one walk per target, names and sizes only). */
static int
sum_row(struct cli_ctx *ctx, const struct cli_bck *b, struct cli_table *t, json_t *all)
{
    char name[128], objs[32], size[32];
    struct sum_acc s = {0, 0};
    struct cli_list l = {.prefix = "", .props = "name,size", .fn = sum_entry, .arg = &s};
    int err = cli_list_objects(&ctx->conn, b, &l);
    if (err < 0) {
        return err;
    }
    cli_bck_str(b, name, sizeof(name));
    snprintf(objs, sizeof(objs), "%llu", (unsigned long long)s.objects);
    if (ctx->raw) {
        snprintf(size, sizeof(size), "%llu", (unsigned long long)s.bytes);
    } else {
        cli_fmt_size(s.bytes, size, sizeof(size));
    }
    const char *cells[] = {name, objs, size};
    json_t *j = json_pack("{s:s, s:I, s:I}", "name", name, "objects", (json_int_t)s.objects, "size",
                          (json_int_t)s.bytes);
    err = (j == NULL || json_array_append_new(all, j) != 0) ? -ENOMEM : cli_table_add(t, cells);
    return err;
}

/* The buckets to summarize: the arguments, else every ais bucket (sorted). */
static int
sum_targets(struct cli_ctx *ctx, const struct cli_args *a, struct cli_bck **out, size_t *n)
{
    json_t *list = NULL, *sorted = NULL;
    int err = 0;
    size_t cnt = a->npos;
    if (a->npos == 0) {
        err = list_buckets_json(ctx, "provider=ais", &list);
        sorted = err == 0 ? buckets_sorted(list) : NULL;
        err = err ? err : (sorted ? 0 : -ENOMEM);
        cnt = json_array_size(sorted);
    }
    struct cli_bck *v = err == 0 ? calloc(cnt ? cnt : 1, sizeof(*v)) : NULL;
    err = err ? err : (v ? 0 : -ENOMEM);
    size_t k = 0;
    for (size_t i = 0; err == 0 && i < cnt; i++) {
        const json_t *e = json_array_get(sorted, i);
        const json_t *ns = json_object_get(e, "namespace");
        const char *nm = json_string_value(json_object_get(e, "name"));
        const char *prov = json_string_value(json_object_get(e, "provider"));
        if (a->npos > 0) {
            err = parse_bucket_arg(ctx, a->pos[i], &v[k++]);
        } else if (nm != NULL && json_string_length(json_object_get(ns, "uuid")) == 0 &&
                   json_string_length(json_object_get(ns, "name")) == 0) {
            /* As listed, not re-checked: a bucket the cluster has is summarized. */
            snprintf(v[k].provider, sizeof(v[k].provider), "%s", prov ? prov : "ais");
            snprintf(v[k].name, sizeof(v[k].name), "%s", nm);
            k++;
        }
    }
    json_decref(list);
    json_decref(sorted);
    if (err < 0) {
        free(v);
        return err;
    }
    *out = v;
    *n = k;
    return 0;
}

int
cli_cmd_bucket_summary(struct cli_ctx *ctx, const struct cli_args *a)
{
    static const char *const hdr[] = {"NAME", "OBJECTS", "SIZE"};
    struct cli_table t;
    struct cli_bck *v = NULL;
    size_t n = 0;
    json_t *all = json_array();
    int err = all ? sum_targets(ctx, a, &v, &n) : -ENOMEM;
    cli_table_init(&t, 3, hdr);
    t.right = (1u << 1) | (1u << 2);
    for (size_t i = 0; err == 0 && i < n; i++) {
        err = sum_row(ctx, &v[i], &t, all);
    }
    if (err == 0 && ctx->json) {
        cli_print_json(ctx, all);
    } else if (err == 0) {
        cli_table_print(&t, ctx->out, !ctx->no_headers);
    }
    cli_table_fini(&t);
    json_decref(all);
    free(v);
    return err;
}
