/*
 * `ais show performance [--refresh D] [--count N]`: per target, GET and PUT operations and
 * MiB per second, mean latency, and errors, over an interval.
 *
 * Design notes: the nodes report cumulative counters only (what=stats: get.n, get.size,
 * get.ns.total, err.*.n, up.ns.time), so a report is the difference of two snapshots, taken
 * the way `ais show stats` takes one (cli_stats_collect: /v1/cluster?what=stats through the
 * gateway, else node by node). The interval of a node is the difference of its own uptimes
 * when both snapshots carry one (the CLI's clock would count the query's latency), else the
 * CLI's. Mean latency is the interval's total time over its count, as AIS's get.ns is. A
 * counter that went down means the node restarted and counts from zero. The loop is bounded
 * by --count (or CLI_PERF_COUNT_MAX); the pause between snapshots is a pacing interval, never
 * synchronisation.
 */
#include "cli/cli_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
metric(const json_t *tr, const char *name, uint64_t *v)
{
    const json_t *m = json_object_get(tr, name);
    *v = 0;
    return m != NULL && (cli_json_u64(json_object_get(m, "v"), v) == 0 || cli_json_u64(m, v) == 0);
}

static uint64_t
delta(const json_t *tr0, const json_t *tr1, const char *name)
{
    uint64_t v0, v1;
    (void)metric(tr0, name, &v0);
    (void)metric(tr1, name, &v1);
    return v1 >= v0 ? v1 - v0 : v1;
}

void
cli_perf_compute(const json_t *tr0, const json_t *tr1, int64_t dt_ns, struct cli_perf *out)
{
    uint64_t up0, up1;
    const char *k;
    json_t *m;
    memset(out, 0, sizeof(*out));
    out->get_lat_ns = -1;
    out->put_lat_ns = -1;
    if (metric(tr0, "up.ns.time", &up0) && metric(tr1, "up.ns.time", &up1) && up1 > up0) {
        dt_ns = (int64_t)(up1 - up0);
    }
    if (dt_ns <= 0) {
        return;
    }
    double s = (double)dt_ns / 1e9;
    uint64_t gn = delta(tr0, tr1, "get.n"), pn = delta(tr0, tr1, "put.n");
    out->get_ops = (double)gn / s;
    out->put_ops = (double)pn / s;
    out->get_bps = (double)delta(tr0, tr1, "get.size") / s;
    out->put_bps = (double)delta(tr0, tr1, "put.size") / s;
    if (gn > 0) {
        out->get_lat_ns = (int64_t)(delta(tr0, tr1, "get.ns.total") / gn);
    }
    if (pn > 0) {
        out->put_lat_ns = (int64_t)(delta(tr0, tr1, "put.ns.total") / pn);
    }
    json_object_foreach((json_t *)tr1, k, m)
    {
        size_t l = strlen(k);
        if (strncmp(k, "err.", 4) == 0 && l > 2 && strcmp(k + l - 2, ".n") == 0) {
            out->errs += delta(tr0, tr1, k);
        }
    }
}

void
cli_fmt_rate(double per_s, char *out, size_t n)
{
    if (per_s < 100 && per_s != 0) {
        snprintf(out, n, "%.1f", per_s);
    } else {
        snprintf(out, n, "%.0f", per_s);
    }
}

void
cli_fmt_mibs(double bytes_per_s, char *out, size_t n)
{
    snprintf(out, n, "%.2f", bytes_per_s / (1024.0 * 1024.0));
}

void
cli_fmt_lat_ns(int64_t ns, char *out, size_t n)
{
    if (ns < 0) {
        snprintf(out, n, "-");
    } else if (ns < 1000) {
        snprintf(out, n, "%" PRId64 "ns", ns);
    } else if (ns < 1000000) {
        snprintf(out, n, "%" PRId64 "us", ns / 1000);
    } else if (ns < 1000000000) {
        snprintf(out, n, "%.2fms", (double)ns / 1e6);
    } else {
        snprintf(out, n, "%.2fs", (double)ns / 1e9);
    }
}

static int
key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#define PERF_NCOLS 8

/* The cells of one target: '-' everywhere when a snapshot lacks it (joined or left). */
static void
perf_cells(const struct cli_ctx *ctx, const struct cli_perf *p, bool known, char (*v)[32])
{
    if (!known) {
        for (int i = 1; i < PERF_NCOLS; i++) {
            snprintf(v[i], sizeof(v[i]), "-");
        }
        return;
    }
    cli_fmt_rate(p->get_ops, v[1], sizeof(v[1]));
    cli_fmt_rate(p->put_ops, v[4], sizeof(v[4]));
    if (ctx->raw) {
        snprintf(v[2], sizeof(v[2]), "%.0f", p->get_bps);
        snprintf(v[5], sizeof(v[5]), "%.0f", p->put_bps);
        snprintf(v[3], sizeof(v[3]), "%" PRId64, p->get_lat_ns);
        snprintf(v[6], sizeof(v[6]), "%" PRId64, p->put_lat_ns);
    } else {
        cli_fmt_mibs(p->get_bps, v[2], sizeof(v[2]));
        cli_fmt_mibs(p->put_bps, v[5], sizeof(v[5]));
        cli_fmt_lat_ns(p->get_lat_ns, v[3], sizeof(v[3]));
        cli_fmt_lat_ns(p->put_lat_ns, v[6], sizeof(v[6]));
    }
    snprintf(v[7], sizeof(v[7]), "%" PRIu64, p->errs);
}

static json_t *
perf_json(const struct cli_perf *p)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:I, s:I, s:I}", "get_ops", p->get_ops, "get_mibs",
                     p->get_bps / 1048576.0, "put_ops", p->put_ops, "put_mibs",
                     p->put_bps / 1048576.0, "get_lat_ns", (json_int_t)p->get_lat_ns, "put_lat_ns",
                     (json_int_t)p->put_lat_ns, "errors", (json_int_t)p->errs);
}

/* One report: every target of the newer snapshot, sorted by id. */
static int
perf_report(struct cli_ctx *ctx, const json_t *st0, const json_t *st1, int64_t dt_ns)
{
    static const char *const hdr[PERF_NCOLS] = {"TARGET", "GET/s",     "GET-MiB/s", "GET-LAT",
                                                "PUT/s",  "PUT-MiB/s", "PUT-LAT",   "ERRORS"};
    const json_t *m0 = json_object_get(st0, "target"), *m1 = json_object_get(st1, "target");
    size_t n = 0, cap = json_object_size(m1);
    const char **ids = calloc(cap + 1, sizeof(*ids));
    json_t *js = json_pack("{s:I, s:{}}", "interval_ms", (json_int_t)(dt_ns / 1000000), "target");
    const char *id;
    json_t *ns;
    struct cli_table t;
    int err = ids != NULL && js != NULL ? 0 : -ENOMEM;
    json_object_foreach((json_t *)m1, id, ns)
    {
        if (ids != NULL) {
            ids[n++] = id;
        }
    }
    if (ids != NULL) {
        qsort(ids, n, sizeof(*ids), key_cmp);
    }
    cli_table_init(&t, PERF_NCOLS, hdr);
    t.right = 0xfeu;
    for (size_t i = 0; i < n && err == 0; i++) {
        char v[PERF_NCOLS][32];
        const char *cells[PERF_NCOLS];
        const json_t *tr0 = json_object_get(json_object_get(m0, ids[i]), "tracker");
        const json_t *tr1 = json_object_get(json_object_get(m1, ids[i]), "tracker");
        struct cli_perf p;
        cli_perf_compute(tr0, tr1, dt_ns, &p);
        snprintf(v[0], sizeof(v[0]), "t[%s]", ids[i]);
        perf_cells(ctx, &p, tr0 != NULL && tr1 != NULL, v);
        for (int c = 0; c < PERF_NCOLS; c++) {
            cells[c] = v[c];
        }
        err = cli_table_add(&t, cells);
        if (err == 0 && tr0 != NULL && tr1 != NULL) {
            json_object_set_new(json_object_get(js, "target"), ids[i], perf_json(&p));
        }
    }
    if (err == 0 && ctx->json) {
        cli_print_json(ctx, js);
    } else if (err == 0) {
        cli_table_print(&t, ctx->out, !ctx->no_headers);
    }
    fflush(ctx->out);
    cli_table_fini(&t);
    json_decref(js);
    free(ids);
    return err;
}

/* --refresh and --count into the interval and the number of reports. */
static int
perf_opts(struct cli_ctx *ctx, const struct cli_args *a, int64_t *interval_ms, uint64_t *reports)
{
    *interval_ms = CLI_PERF_REFRESH_MS_DEFAULT;
    *reports = 1;
    if (cli_flag_on(a, CLI_F_REFRESH)) {
        if (ais_duration_parse_ms(a->val[CLI_F_REFRESH], interval_ms) != 0 ||
            *interval_ms < CLI_PERF_REFRESH_MS_MIN || *interval_ms > CLI_PERF_REFRESH_MS_MAX) {
            cli_errorf(ctx, "--refresh: expected a duration from 100ms to 1h, got \"%s\"",
                       a->val[CLI_F_REFRESH]);
            return CLI_EUSAGE;
        }
        *reports = CLI_PERF_COUNT_MAX; /* until Ctrl-C */
    }
    if (cli_flag_on(a, CLI_F_ITERS) &&
        (cli_parse_uint(a->val[CLI_F_ITERS], CLI_PERF_COUNT_MAX, reports) < 0 || *reports == 0)) {
        cli_errorf(ctx, "--count: expected a number 1..%d, got \"%s\"", CLI_PERF_COUNT_MAX,
                   a->val[CLI_F_ITERS]);
        return CLI_EUSAGE;
    }
    return 0;
}

int
cli_cmd_perf_show(struct cli_ctx *ctx, const struct cli_args *a)
{
    int64_t interval_ms;
    uint64_t reports;
    json_t *smap = NULL;
    int err = perf_opts(ctx, a, &interval_ms, &reports);
    err = err ? err : cli_smap_get(ctx, &smap);
    if (err < 0) {
        return err;
    }
    json_t *prev = cli_stats_collect(ctx, smap);
    int64_t t0 = ais_mono_ns();
    if (prev == NULL || json_object_get(prev, "target") == NULL) {
        cli_errorf(ctx, "the cluster serves no stats (/v1/cluster?what=stats)");
        err = CLI_ESERVER;
    }
    for (uint64_t k = 0; k < reports && err == 0; k++) {
        int64_t wait_ms = interval_ms - (ais_mono_ns() - t0) / 1000000;
        cli_nap_ms(wait_ms > 0 ? wait_ms : 0);
        json_t *cur = cli_stats_collect(ctx, smap);
        int64_t t1 = ais_mono_ns();
        if (cur == NULL) {
            cli_errorf(ctx, "the cluster stopped serving stats after %" PRIu64 " report(s)", k);
            err = CLI_ESERVER;
            break;
        }
        if (k > 0 && !ctx->json) {
            fputc('\n', ctx->out);
        }
        err = perf_report(ctx, prev, cur, t1 - t0);
        json_decref(prev);
        prev = cur;
        t0 = t1;
    }
    json_decref(prev);
    json_decref(smap);
    return err;
}
