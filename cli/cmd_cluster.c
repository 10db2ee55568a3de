/*
 * `ais cluster show`, `ais show stats|storage`, `ais config show|set|cluster|node`.
 *
 * Design notes: the cluster map (Smap) is the one required input; everything else that
 * `cluster show` prints (mountpaths, capacity, BMD and config versions) is optional and
 * fetched best-effort, so a cluster that lacks an endpoint still gets a useful table plus a
 * one-line note on stderr naming what was missing. Mountpaths are asked through the gateway
 * (/v1/reverse/daemon with Ais-Node-Id) first and then from the target's own URL. Capacity
 * parsing accepts the shapes AIS has used (totals, or per-mountpath used/avail, numbers or
 * decimal strings). Stats fall back from /v1/cluster?what=stats to asking each node.
 * Config names and values are checked against the nodes' own descriptor table
 * (common/config.h) before anything is sent, so a typo is a usage error with a suggestion.
 */
#include "cli/cli_int.h"
#include "common/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* GET path?query on base (NULL: the endpoint) with an optional header, parsed as JSON. */
static int
get_json(struct cli_conn *c, const char *base, const char *path, const char *query, const char *hdr,
         json_t **out)
{
    struct cli_resp resp;
    struct cli_req rq = {.method = "GET",
                         .base = base,
                         .path = path,
                         .query = query,
                         .hdr1 = hdr,
                         .timeout_ms = c->ctrl_timeout_ms};
    cli_resp_init(&resp);
    int err = cli_http_do(c, &rq, &resp);
    if (err == 0) {
        *out = cli_json_loadb(resp.body.data, resp.body.len);
        if (*out == NULL) {
            cli_conn_errorf(c, "malformed JSON from %s", path);
            err = CLI_ESERVER;
        }
    }
    cli_resp_fini(&resp);
    return err;
}

static int
smap_get(struct cli_ctx *ctx, json_t **smap)
{
    int err = get_json(&ctx->conn, NULL, "/v1/daemon", "what=smap", NULL, smap);
    if (err == 0 && !json_is_object(json_object_get(*smap, "tmap"))) {
        json_decref(*smap);
        cli_errorf(ctx, "the cluster map from %s has no tmap", ctx->endpoint);
        err = CLI_ESERVER;
    }
    return err;
}

static int
key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted keys of an object (borrowed from it) in a malloc'd array of *n. */
static const char **
sorted_keys(const json_t *obj, size_t *n)
{
    const char **v = calloc(json_object_size(obj) + 1, sizeof(*v));
    const char *k;
    json_t *val;
    *n = 0;
    if (v == NULL) {
        return NULL;
    }
    json_object_foreach((json_t *)obj, k, val)
    {
        v[(*n)++] = k;
    }
    qsort(v, *n, sizeof(*v), key_cmp);
    return v;
}

static const char *
node_url(const json_t *snode)
{
    const char *u =
        json_string_value(json_object_get(json_object_get(snode, "public_net"), "direct_url"));
    return u != NULL ? u : "-";
}

static const char *
node_state(const json_t *snode)
{
    uint64_t flags = 0;
    (void)cli_json_u64(json_object_get(snode, "flags"), &flags);
    if (flags & 8) {
        return "decommission";
    }
    return (flags & (4 | 16)) ? "maintenance" : "online";
}

/* Mountpaths of one target: via the gateway, then directly. NULL (note in why) if neither. */
static json_t *
target_mpaths(struct cli_ctx *ctx, const char *tid, const json_t *snode, char *why, size_t n)
{
    char hdr[96];
    json_t *j = NULL;
    snprintf(hdr, sizeof(hdr), "Ais-Node-Id: %s", tid);
    if (get_json(&ctx->conn, NULL, "/v1/reverse/daemon", "what=mountpaths", hdr, &j) == 0 &&
        json_is_array(json_object_get(j, "available"))) {
        return j;
    }
    json_decref(j);
    j = NULL;
    const char *url = node_url(snode);
    if (url[0] != '-' &&
        get_json(&ctx->conn, url, "/v1/daemon", "what=mountpaths", NULL, &j) == 0 &&
        json_is_array(json_object_get(j, "available"))) {
        return j;
    }
    snprintf(why, n, "%s", ctx->conn.errmsg[0] ? ctx->conn.errmsg : "no 'available' list");
    json_decref(j);
    return NULL;
}

/* {"used","avail"} or {"total","avail"} (numbers or decimal strings). */
static bool
cap_pair(const json_t *c, uint64_t *used, uint64_t *avail)
{
    uint64_t total = 0;
    if (cli_json_u64(json_object_get(c, "avail"), avail) < 0) {
        return false;
    }
    if (cli_json_u64(json_object_get(c, "used"), used) == 0) {
        return true;
    }
    if (cli_json_u64(json_object_get(c, "total"), &total) == 0 && total >= *avail) {
        *used = total - *avail;
        return true;
    }
    return false;
}

/* Totals from a target's stats "capacity"; false when the shape is unknown. */
static bool
cap_parse(const json_t *cap, uint64_t *used, uint64_t *avail)
{
    if (cli_json_u64(json_object_get(cap, "total_used"), used) == 0 &&
        cli_json_u64(json_object_get(cap, "total_avail"), avail) == 0) {
        return true;
    }
    if (cap_pair(cap, used, avail)) {
        return true;
    }
    const json_t *mps = json_object_get(cap, "mountpaths");
    const char *k;
    json_t *v;
    bool any = false;
    *used = 0;
    *avail = 0;
    json_object_foreach((json_t *)(json_is_object(mps) ? mps : cap), k, v)
    {
        uint64_t u, a;
        const json_t *c = json_object_get(v, "capacity") ? json_object_get(v, "capacity") : v;
        if (json_is_object(c) && cap_pair(c, &u, &a)) {
            *used += u;
            *avail += a;
            any = true;
        }
    }
    return any;
}

struct cluster_view {
    json_t *smap;
    json_t *stats;  /* may be NULL */
    json_t *mpaths; /* tid -> mountpaths reply */
    const char *filter;
    size_t mp_missing;
    char mp_why[CLI_ERRMSG_BYTES];
};

static void
cap_cells(struct cli_ctx *ctx, const struct cluster_view *v, const char *tid, char *used,
          char *avail, char *pct, size_t n)
{
    uint64_t u = 0, a = 0;
    const json_t *cap =
        json_object_get(json_object_get(json_object_get(v->stats, "target"), tid), "capacity");
    snprintf(used, n, "-");
    snprintf(avail, n, "-");
    snprintf(pct, n, "-");
    if (cap == NULL || !cap_parse(cap, &u, &a)) {
        return;
    }
    if (ctx->raw) {
        snprintf(used, n, "%llu", (unsigned long long)u);
        snprintf(avail, n, "%llu", (unsigned long long)a);
    } else {
        cli_fmt_size(u, used, n);
        cli_fmt_size(a, avail, n);
    }
    if (u + a > 0) {
        snprintf(pct, n, "%llu%%", (unsigned long long)(u * 100 / (u + a)));
    }
}

static int
node_rows(struct cli_ctx *ctx, struct cluster_view *v, struct cli_table *t, bool targets)
{
    const json_t *map = json_object_get(v->smap, targets ? "tmap" : "pmap");
    const char *primary =
        json_string_value(json_object_get(json_object_get(v->smap, "proxy_si"), "daemon_id"));
    size_t n = 0;
    const char **ids = sorted_keys(map, &n);
    int err = ids != NULL ? 0 : -ENOMEM;
    for (size_t i = 0; i < n && err == 0; i++) {
        const json_t *sn = json_object_get(map, ids[i]);
        char node[64], mps[24] = "-", used[32], avail[32], pct[32];
        bool is_primary = !targets && primary != NULL && strcmp(primary, ids[i]) == 0;
        snprintf(node, sizeof(node), "%c[%s]", targets ? 't' : 'p', ids[i]);
        snprintf(used, sizeof(used), "-");
        snprintf(avail, sizeof(avail), "-");
        snprintf(pct, sizeof(pct), "-");
        if (targets) {
            json_t *mp = target_mpaths(ctx, ids[i], sn, v->mp_why, sizeof(v->mp_why));
            if (mp != NULL) {
                snprintf(mps, sizeof(mps), "%zu",
                         json_array_size(json_object_get(mp, "available")));
                json_object_set_new(v->mpaths, ids[i], mp);
            } else {
                v->mp_missing++;
                snprintf(mps, sizeof(mps), "?");
            }
            cap_cells(ctx, v, ids[i], used, avail, pct, sizeof(used));
        }
        const char *cells[] = {
            node,         targets ? "target" : (is_primary ? "proxy (primary)" : "proxy"),
            node_url(sn), mps,
            used,         avail,
            pct,          node_state(sn)};
        err = cli_table_add(t, cells);
    }
    free(ids);
    return err;
}

static void
version_of(struct cli_ctx *ctx, const char *what, const char *key, char *out, size_t n)
{
    json_t *j = NULL;
    snprintf(out, n, "n/a");
    if (get_json(&ctx->conn, NULL, "/v1/daemon", what, NULL, &j) == 0) {
        char *s = cli_json_scalar(json_object_get(j, key) ? json_object_get(j, key) : json_null());
        if (s != NULL) {
            snprintf(out, n, "%s", s);
        }
        free(s);
    }
    json_decref(j);
}

static void
cluster_summary(struct cli_ctx *ctx, const struct cluster_view *v)
{
    char smapv[64], bmdv[64], confv[64];
    const json_t *psi = json_object_get(v->smap, "proxy_si");
    char *sv = cli_json_scalar(
        json_object_get(v->smap, "version") ? json_object_get(v->smap, "version") : json_null());
    snprintf(smapv, sizeof(smapv), "%s", sv != NULL ? sv : "-");
    free(sv);
    version_of(ctx, "what=bmd", "version", bmdv, sizeof(bmdv));
    version_of(ctx, "what=config", "config_version", confv, sizeof(confv));
    const char *uuid = json_string_value(json_object_get(v->smap, "uuid"));
    fprintf(ctx->out, "\nSummary:\n");
    fprintf(ctx->out, "   Proxies:         %zu\n",
            json_object_size(json_object_get(v->smap, "pmap")));
    fprintf(ctx->out, "   Targets:         %zu\n",
            json_object_size(json_object_get(v->smap, "tmap")));
    fprintf(ctx->out, "   Primary:         p[%s] %s\n",
            json_string_value(json_object_get(psi, "daemon_id")) ?: "?", node_url(psi));
    fprintf(ctx->out, "   Cluster UUID:    %s\n", uuid != NULL && uuid[0] ? uuid : "-");
    fprintf(ctx->out, "   Smap version:    %s\n", smapv);
    fprintf(ctx->out, "   BMD version:     %s\n", bmdv);
    if (strcmp(confv, "-") != 0 && strcmp(confv, "n/a") != 0) {
        fprintf(ctx->out, "   Config version:  %s\n", confv); /* only when nodes version it */
    }
}

static int
cluster_table(struct cli_ctx *ctx, struct cluster_view *v)
{
    static const char *const hdr[] = {"NODE", "ROLE",  "ENDPOINT", "MOUNTPATHS",
                                      "USED", "AVAIL", "USED%",    "STATE"};
    struct cli_table t;
    int err = 0;
    cli_table_init(&t, 8, hdr);
    t.right = (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6);
    if (v->filter == NULL || strcmp(v->filter, "proxy") == 0) {
        err = node_rows(ctx, v, &t, false);
    }
    if (err == 0 && (v->filter == NULL || strcmp(v->filter, "target") == 0)) {
        err = node_rows(ctx, v, &t, true);
    }
    if (err == 0 && ctx->json) {
        json_t *j = json_pack("{s:O, s:O, s:O}", "smap", v->smap, "mountpaths", v->mpaths, "stats",
                              v->stats != NULL ? v->stats : json_null());
        cli_print_json(ctx, j);
        json_decref(j);
    } else if (err == 0) {
        cli_table_print(&t, ctx->out, !ctx->no_headers);
        if (!ctx->no_headers) {
            cluster_summary(ctx, v);
        }
    }
    if (err == 0 && v->mp_missing > 0) {
        fprintf(ctx->err, "Note: mountpaths unavailable for %zu target(s): %s\n", v->mp_missing,
                v->mp_why);
    }
    cli_table_fini(&t);
    return err;
}

/* Cluster stats, or per-node stats assembled into the same shape. */
static json_t *
stats_collect(struct cli_ctx *ctx, const json_t *smap)
{
    json_t *st = NULL;
    if (get_json(&ctx->conn, NULL, "/v1/cluster", "what=stats", NULL, &st) == 0 &&
        (json_is_object(json_object_get(st, "target")) ||
         json_is_object(json_object_get(st, "proxy")))) {
        return st;
    }
    json_decref(st);
    if (smap == NULL) {
        return NULL;
    }
    st = json_pack("{s:{}, s:{}}", "proxy", "target");
    for (int t = 0; t < 2 && st != NULL; t++) {
        const json_t *map = json_object_get(smap, t ? "tmap" : "pmap");
        const char *id;
        json_t *sn;
        json_object_foreach((json_t *)map, id, sn)
        {
            json_t *ns = NULL;
            if (get_json(&ctx->conn, node_url(sn), "/v1/daemon", "what=stats", NULL, &ns) == 0) {
                json_object_set_new(json_object_get(st, t ? "target" : "proxy"), id, ns);
            }
        }
    }
    return st;
}

int
cli_cmd_cluster_show(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cluster_view v;
    memset(&v, 0, sizeof(v));
    v.filter = a->npos > 0 ? a->pos[0] : NULL;
    if (v.filter != NULL && strcmp(v.filter, "proxy") != 0 && strcmp(v.filter, "target") != 0) {
        cli_errorf(ctx, "unknown node type \"%s\" (expected proxy or target)", v.filter);
        return CLI_EUSAGE;
    }
    int err = smap_get(ctx, &v.smap);
    if (err < 0) {
        return err;
    }
    v.stats = stats_collect(ctx, v.smap);
    v.mpaths = json_object();
    err = v.mpaths != NULL ? cluster_table(ctx, &v) : -ENOMEM;
    json_decref(v.smap);
    json_decref(v.stats);
    json_decref(v.mpaths);
    return err;
}

int
cli_cmd_storage_show(struct cli_ctx *ctx, const struct cli_args *a)
{
    static const char *const hdr[] = {"TARGET", "MOUNTPATH", "STATE"};
    static const char *const states[] = {"available", "disabled", "waiting_dd"};
    struct cli_table t;
    json_t *smap = NULL, *all = json_object();
    char why[CLI_ERRMSG_BYTES] = "";
    size_t n = 0, missing = 0;
    int err = all != NULL ? smap_get(ctx, &smap) : -ENOMEM;
    const char **ids = err == 0 ? sorted_keys(json_object_get(smap, "tmap"), &n) : NULL;
    cli_table_init(&t, 3, hdr);
    for (size_t i = 0; ids != NULL && i < n && err == 0; i++) {
        char node[64];
        json_t *mp = target_mpaths(
            ctx, ids[i], json_object_get(json_object_get(smap, "tmap"), ids[i]), why, sizeof(why));
        missing += mp == NULL;
        snprintf(node, sizeof(node), "t[%s]", ids[i]);
        for (size_t s = 0; s < 3 && mp != NULL && err == 0; s++) {
            size_t k;
            json_t *p;
            json_array_foreach(json_object_get(mp, states[s]), k, p)
            {
                const char *cells[] = {node, json_string_value(p), states[s]};
                if ((err = cli_table_add(&t, cells)) < 0) {
                    break;
                }
            }
        }
        if (mp != NULL) {
            json_object_set_new(all, ids[i], mp);
        }
    }
    if (err == 0 && ids != NULL) {
        if (ctx->json) {
            cli_print_json(ctx, all);
        } else {
            cli_table_print(&t, ctx->out, !ctx->no_headers);
        }
        if (missing > 0) {
            fprintf(ctx->err, "Note: mountpaths unavailable for %zu target(s): %s\n", missing, why);
        }
    }
    cli_table_fini(&t);
    free(ids);
    json_decref(smap);
    json_decref(all);
    return err;
}

/* ---- stats ---- */

static const struct {
    const char *hdr;
    const char *metric;
    bool size;
} stat_cols[] = {
    {"GET", "get.n", false},         {"PUT", "put.n", false},  {"HEAD", "head.n", false},
    {"DELETE", "del.n", false},      {"LIST", "lst.n", false}, {"GET-BYTES", "get.size", true},
    {"PUT-BYTES", "put.size", true},
};
#define STAT_NCOLS (sizeof(stat_cols) / sizeof(stat_cols[0]))

static uint64_t
metric_value(const json_t *tracker, const char *name)
{
    uint64_t v = 0;
    const json_t *m = json_object_get(tracker, name);
    if (cli_json_u64(json_object_get(m, "v"), &v) < 0) {
        (void)cli_json_u64(m, &v);
    }
    return v;
}

static void
metric_text(const struct cli_ctx *ctx, const char *name, uint64_t v, char *out, size_t n)
{
    size_t l = strlen(name);
    if (!ctx->raw && l > 5 && strcmp(name + l - 5, ".size") == 0) {
        cli_fmt_size(v, out, n);
    } else if (!ctx->raw &&
               ((l > 3 && strcmp(name + l - 3, ".ns") == 0) || strstr(name, ".ns.") != NULL)) {
        cli_fmt_duration_ms((int64_t)(v / 1000000), out, n); /* get.ns.total, up.ns.time */
    } else {
        snprintf(out, n, "%llu", (unsigned long long)v);
    }
}

static int
stats_row(struct cli_ctx *ctx, struct cli_table *t, const char *node, const json_t *ns)
{
    char vals[STAT_NCOLS + 1][32];
    const char *cells[STAT_NCOLS + 2];
    const json_t *tr = json_object_get(ns, "tracker");
    uint64_t errs = 0;
    const char *k;
    json_t *m;
    cells[0] = node;
    for (size_t i = 0; i < STAT_NCOLS; i++) {
        metric_text(ctx, stat_cols[i].metric, metric_value(tr, stat_cols[i].metric), vals[i],
                    sizeof(vals[i]));
        cells[i + 1] = vals[i];
    }
    json_object_foreach((json_t *)tr, k, m)
    {
        size_t l = strlen(k);
        if (strncmp(k, "err", 3) == 0 && l > 2 && strcmp(k + l - 2, ".n") == 0) {
            errs += metric_value(tr, k);
        }
    }
    snprintf(vals[STAT_NCOLS], sizeof(vals[0]), "%llu", (unsigned long long)errs);
    cells[STAT_NCOLS + 1] = vals[STAT_NCOLS];
    return cli_table_add(t, cells);
}

static int
stats_table(struct cli_ctx *ctx, const json_t *st)
{
    const char *hdr[STAT_NCOLS + 2];
    struct cli_table t;
    int err = 0;
    hdr[0] = "NODE";
    for (size_t i = 0; i < STAT_NCOLS; i++) {
        hdr[i + 1] = stat_cols[i].hdr;
    }
    hdr[STAT_NCOLS + 1] = "ERRORS";
    cli_table_init(&t, STAT_NCOLS + 2, hdr);
    t.right = ((1u << (STAT_NCOLS + 2)) - 1) & ~1u;
    for (int role = 0; role < 2 && err == 0; role++) {
        const json_t *map = json_object_get(st, role ? "target" : "proxy");
        size_t n = 0;
        const char **ids = sorted_keys(map, &n);
        for (size_t i = 0; ids != NULL && i < n && err == 0; i++) {
            char node[64];
            snprintf(node, sizeof(node), "%c[%s]", role ? 't' : 'p', ids[i]);
            err = stats_row(ctx, &t, node, json_object_get(map, ids[i]));
        }
        free(ids);
    }
    if (err == 0) {
        cli_table_print(&t, ctx->out, !ctx->no_headers);
    }
    cli_table_fini(&t);
    return err;
}

/* Every metric of one node ("t1", "t[t1]" or "p[...]"). */
static int
stats_node(struct cli_ctx *ctx, const json_t *st, const char *node)
{
    static const char *const hdr[] = {"METRIC", "VALUE"};
    char id[64];
    const char *k;
    json_t *m;
    size_t l = strlen(node);
    snprintf(id, sizeof(id), "%s", node);
    if (l > 3 && node[1] == '[' && node[l - 1] == ']') {
        snprintf(id, sizeof(id), "%.*s", (int)(l - 3), node + 2);
    }
    const json_t *ns = json_object_get(json_object_get(st, "target"), id);
    ns = ns != NULL ? ns : json_object_get(json_object_get(st, "proxy"), id);
    if (ns == NULL) {
        char ids[512] = "";
        for (int role = 0; role < 2; role++) {
            json_object_foreach((json_t *)json_object_get(st, role ? "target" : "proxy"), k, m)
            {
                size_t il = strlen(ids);
                snprintf(ids + il, sizeof(ids) - il, "%s%c[%s]", il ? ", " : "", role ? 't' : 'p',
                         k);
            }
        }
        cli_errorf(ctx,
                   "node \"%s\" not found in cluster stats (nodes: %s; see 'ais cluster show')",
                   node, ids[0] ? ids : "none");
        return -ENOENT;
    }
    if (ctx->json) {
        cli_print_json(ctx, ns);
        return 0;
    }
    struct cli_table t;
    int err = 0;
    cli_table_init(&t, 2, hdr);
    t.right = 2;
    json_object_foreach((json_t *)json_object_get(ns, "tracker"), k, m)
    {
        char v[32];
        metric_text(ctx, k, metric_value(json_object_get(ns, "tracker"), k), v, sizeof(v));
        const char *cells[] = {k, v};
        if ((err = cli_table_add(&t, cells)) < 0) {
            break;
        }
    }
    if (err == 0) {
        cli_table_print(&t, ctx->out, !ctx->no_headers);
    }
    cli_table_fini(&t);
    return err;
}

int
cli_cmd_stats_show(struct cli_ctx *ctx, const struct cli_args *a)
{
    json_t *smap = NULL;
    int err = smap_get(ctx, &smap);
    if (err < 0) {
        return err;
    }
    json_t *st = stats_collect(ctx, smap);
    if (st == NULL) {
        cli_errorf(ctx, "the cluster serves no stats (/v1/cluster?what=stats)");
        err = CLI_ESERVER;
    } else if (a->npos > 0) {
        err = stats_node(ctx, st, a->pos[0]);
    } else if (ctx->json) {
        cli_print_json(ctx, st);
    } else {
        err = stats_table(ctx, st);
    }
    json_decref(st);
    json_decref(smap);
    return err;
}

/* ---- config ---- */

/* The subtree at dotted path key, or NULL. */
static const json_t *
json_path(const json_t *j, const char *key)
{
    char buf[256];
    char *save = NULL;
    snprintf(buf, sizeof(buf), "%s", key);
    for (char *s = strtok_r(buf, ".", &save); s != NULL && j != NULL;
         s = strtok_r(NULL, ".", &save)) {
        j = json_object_get(j, s);
    }
    return j;
}

/* Prints conf (or its KEY_PREFIX subtree) as a table or JSON. Takes conf. */
static int
config_print(struct cli_ctx *ctx, json_t *conf, const char *filter)
{
    static const char *const hdr[] = {"PROPERTY", "VALUE"};
    struct cli_table t;
    int err = 0;
    if (ctx->json) {
        const json_t *sub = filter[0] ? json_path(conf, filter) : conf;
        if (sub == NULL) {
            cli_errorf(ctx, "no config key \"%s\"", filter);
            err = -ENOENT;
        } else {
            cli_print_json(ctx, sub);
        }
        json_decref(conf);
        return err;
    }
    cli_table_init(&t, 2, hdr);
    err = cli_json_flatten(conf, "", &t);
    if (err == 0 && filter[0] != '\0' && cli_table_keep_prefix(&t, 0, filter) == 0) {
        cli_errorf(ctx, "no config key starts with \"%s\"", filter);
        err = -ENOENT;
    }
    if (err == 0) {
        cli_table_print(&t, ctx->out, !ctx->no_headers);
    }
    cli_table_fini(&t);
    json_decref(conf);
    return err;
}

/* "t[abc]" or "p[abc]" -> "abc"; anything else as given. */
static void
node_id_of(const char *node, char *id, size_t cap)
{
    size_t l = strlen(node);
    if (l > 3 && node[1] == '[' && node[l - 1] == ']') {
        snprintf(id, cap, "%.*s", (int)(l - 3), node + 2);
    } else {
        snprintf(id, cap, "%s", node);
    }
}

/* Sections of a node's config that describe that node only (its role, id, addresses, disks),
 * not the cluster: `ais config node` shows them, `ais config show` does not. */
static const char *const node_local_keys[] = {"role", "daemon_id", "confdir", "host_net",
                                              "fspaths"};

/* The node's config (id NULL: the cluster's, i.e. the gateway's cluster-wide settings, which
 * cluster setconfig keeps equal on every node). */
static int
config_show(struct cli_ctx *ctx, const char *id, const char *filter)
{
    char hdr[128];
    json_t *conf = NULL;
    snprintf(hdr, sizeof(hdr), "Ais-Node-Id: %s", id ? id : "");
    int err = get_json(&ctx->conn, NULL, id ? "/v1/reverse/daemon" : "/v1/daemon", "what=config",
                       id ? hdr : NULL, &conf);
    for (size_t i = 0; err == 0 && id == NULL && i < sizeof(node_local_keys) / sizeof(char *);
         i++) {
        json_object_del(conf, node_local_keys[i]);
    }
    return err < 0 ? err : config_print(ctx, conf, filter);
}

int
cli_cmd_config_show(struct cli_ctx *ctx, const struct cli_args *a)
{
    return config_show(ctx, NULL, a->npos > 0 ? a->pos[0] : "");
}

/* Appends one refused name=value to msg ("; "-separated), with a suggestion for typos. */
static void
config_refuse(char *msg, size_t cap, const char *key, const char *val, int rc)
{
    const char *names[64];
    size_t n = 0, l = strlen(msg);
    for (const struct ais_knob *k; n < 64 && (k = ais_knob_at(n)) != NULL; n++) {
        names[n] = k->name;
    }
    const char *best = rc == -ENOENT ? cli_suggest(key, names, n) : NULL;
    const char *sep = l > 0 ? "; " : "";
    if (rc == -ENOENT) {
        snprintf(msg + l, cap - l, "%sunknown config key \"%s\"%s%s%s", sep, key,
                 best ? " (did you mean \"" : "", best ? best : "", best ? "\"?)" : "");
    } else if (rc == -EPERM) {
        snprintf(msg + l, cap - l,
                 "%sconfig key \"%s\" is read-only (set it in the node's config file)", sep, key);
    } else {
        snprintf(msg + l, cap - l, "%sconfig key \"%s\": %s \"%s\"", sep, key,
                 ais_config_strerror(rc), val);
    }
}

/* One KEY=VALUE word or KEY VALUE pair at pos[*i] into key/val; advances *i. */
static int
config_word(struct cli_ctx *ctx, const char *const *pos, int npos, int *i, char *key, size_t cap,
            const char **val)
{
    const char *eq = strchr(pos[*i], '=');
    if (eq != NULL) {
        snprintf(key, cap, "%.*s", (int)(eq - pos[*i]), pos[*i]);
        *val = eq + 1;
    } else if (*i + 1 < npos) {
        snprintf(key, cap, "%s", pos[*i]);
        *val = pos[++*i];
    } else {
        cli_errorf(ctx, "missing value for \"%s\" (use KEY=VALUE)", pos[*i]);
        return CLI_EUSAGE;
    }
    if (key[0] == '\0') {
        cli_errorf(ctx, "empty config key in \"%s\"", pos[*i]);
        return CLI_EUSAGE;
    }
    return 0;
}

/*
 * "k=v&k2=v2" from KEY=VALUE words or KEY VALUE pairs, each checked against the table; every
 * refused name is reported and nothing is sent. An unknown name is "not found" (exit 3), a
 * read-only one or a bad value a usage error.
 */
static int
config_query(struct cli_ctx *ctx, const char *const *pos, int npos, struct ais_buf *q)
{
    char msg[CLI_ERRMSG_BYTES] = "";
    int bad = 0;
    for (int i = 0; i < npos; i++) {
        char key[256];
        const char *val = NULL;
        int err = config_word(ctx, pos, npos, &i, key, sizeof(key), &val);
        if (err < 0) {
            return err;
        }
        int rc = ais_config_check(key, val);
        if (rc != 0) {
            config_refuse(msg, sizeof(msg), key, val, rc);
            bad = bad == -ENOENT ? bad : (rc == -ENOENT ? -ENOENT : CLI_EUSAGE);
            continue;
        }
        if ((q->len > 0 && ais_buf_append(q, "&", 1) < 0) || cli_url_escape(q, key, false) < 0 ||
            ais_buf_append(q, "=", 1) < 0 || cli_url_escape(q, val, false) < 0) {
            return -ENOMEM;
        }
    }
    if (bad != 0) {
        cli_errorf(ctx, "%s; nothing was changed", msg);
    }
    return bad;
}

/* Sets the pairs on the cluster (id NULL) or on one node through the gateway. */
static int
config_set(struct cli_ctx *ctx, const char *id, const char *const *pos, int npos)
{
    struct ais_buf q;
    struct cli_resp resp;
    char hdr[128];
    ais_buf_init(&q, AIS_URI_BYTES_MAX);
    int err = config_query(ctx, pos, npos, &q);
    if (err == 0 && id == NULL) {
        err = cli_http_json(ctx, "PUT", "/v1/cluster/setconfig", q.data, NULL, NULL);
    } else if (err == 0) {
        snprintf(hdr, sizeof(hdr), "Ais-Node-Id: %s", id);
        struct cli_req rq = {.method = "PUT",
                             .path = "/v1/reverse/daemon/setconfig",
                             .query = q.data,
                             .hdr1 = hdr,
                             .timeout_ms = ctx->conn.ctrl_timeout_ms};
        cli_resp_init(&resp);
        err = cli_http_do(&ctx->conn, &rq, &resp);
        cli_resp_fini(&resp);
    }
    if (err == 0) {
        fprintf(ctx->out, "%s config updated\n", id ? "Node" : "Cluster");
    }
    ais_buf_fini(&q);
    return err;
}

/* Words that set (KEY=VALUE, or KEY VALUE) rather than show (nothing, or one KEY_PREFIX). */
static bool
config_sets(const char *const *pos, int npos)
{
    return npos >= 2 || (npos == 1 && strchr(pos[0], '=') != NULL);
}

int
cli_cmd_config_set(struct cli_ctx *ctx, const struct cli_args *a)
{
    return config_set(ctx, NULL, (const char *const *)a->pos, a->npos);
}

int
cli_cmd_config_cluster(struct cli_ctx *ctx, const struct cli_args *a)
{
    const char *const *pos = (const char *const *)a->pos;
    if (config_sets(pos, a->npos)) {
        return config_set(ctx, NULL, pos, a->npos);
    }
    return config_show(ctx, NULL, a->npos > 0 ? pos[0] : "");
}

int
cli_cmd_config_node(struct cli_ctx *ctx, const struct cli_args *a)
{
    char id[AIS_DAEMON_ID_BYTES_MAX + 8];
    const char *const *pos = (const char *const *)a->pos + 1;
    int npos = a->npos - 1;
    node_id_of(a->pos[0], id, sizeof(id));
    if (config_sets(pos, npos)) {
        return config_set(ctx, id, pos, npos);
    }
    return config_show(ctx, id, npos > 0 ? pos[0] : "");
}

/* Completion candidates: every knob name; settable ones as "name=" to type the value. */
void
cli_config_names(void (*cand)(void *arg, const char *name, bool settable), void *arg)
{
    const struct ais_knob *k;
    for (size_t i = 0; (k = ais_knob_at(i)) != NULL; i++) {
        cand(arg, k->name, (k->flags & AIS_KNOB_RT) != 0);
    }
}

/* ais cluster set-primary NODE_ID: PUT /v1/cluster/proxy/<id> (api.md §5.3). */
int
cli_cmd_cluster_set_primary(struct cli_ctx *ctx, const struct cli_args *a)
{
    char path[AIS_DAEMON_ID_BYTES_MAX + 32];
    const char *id = a->pos[0];
    if (id[0] == '\0' || strchr(id, '/') != NULL || strlen(id) >= AIS_DAEMON_ID_BYTES_MAX) {
        cli_errorf(ctx, "invalid node id \"%.64s\"", id);
        return CLI_EUSAGE;
    }
    snprintf(path, sizeof(path), "/v1/cluster/proxy/%s", id);
    int err = cli_http_json(ctx, "PUT", path, NULL, NULL, NULL);
    if (err == 0) {
        fprintf(ctx->out, "%s is the new primary\n", id);
    }
    return err;
}

int
cli_smap_get(struct cli_ctx *ctx, json_t **smap)
{
    return smap_get(ctx, smap);
}

json_t *
cli_stats_collect(struct cli_ctx *ctx, const json_t *smap)
{
    return stats_collect(ctx, smap);
}
