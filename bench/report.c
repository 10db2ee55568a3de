/*
 * Design notes: errors are printed by kind after every table, even when zero ("errors: none"),
 * so a report can never look clean by omission. Ops with neither successes nor errors are
 * left out of the text table but always present in JSON (consumers need stable keys).
 */
#include "bench/report.h"

#include "common/assert.h"

#include <curl/curl.h>

static double
ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

void
al_report_interval(FILE *f, const char *phase, int64_t since_start_ns, const struct al_stats *intv,
                   int64_t span_ns)
{
    for (int i = 0; i < AL_OP_COUNT; i++) {
        const struct al_opstats *o = &intv->op[i];
        if (o->ops == 0 && o->errors == 0) {
            continue;
        }
        fprintf(f,
                "%-7s %7.1fs %-6s %10.1f ops/s %10.2f MiB/s  p50 %8.3f p99 %8.3f max %8.3f ms"
                "  errors %llu\n",
                phase, (double)since_start_ns / 1e9, al_op_name((enum al_op)i),
                al_rate_per_s(o->ops, span_ns), al_mib_per_s(o->bytes, span_ns),
                ms(al_hist_percentile(o->lat, 50)), ms(al_hist_percentile(o->lat, 99)),
                ms(al_hist_max(o->lat)), (unsigned long long)o->errors);
    }
    fflush(f);
}

static void
errors_text(FILE *f, const struct al_stats *s)
{
    if (al_report_errors(s) == 0) {
        fprintf(f, "errors: none\n");
        return;
    }
    fprintf(f, "errors: %llu\n", (unsigned long long)al_report_errors(s));
    for (unsigned i = 0; i < s->errs.n; i++) {
        const struct al_errrow *r = &s->errs.rows[i];
        fprintf(f, "  %-6s %-9s code %-4ld x %llu%s%s\n", al_op_name(r->op),
                al_errkind_name(r->kind), r->code, (unsigned long long)r->count,
                r->kind == AL_ERR_CURL ? "  " : "",
                r->kind == AL_ERR_CURL ? curl_easy_strerror((CURLcode)r->code) : "");
    }
    if (s->errs.other > 0) {
        fprintf(f, "  (other kinds) x %llu\n", (unsigned long long)s->errs.other);
    }
}

void
al_report_text(FILE *f, const char *title, const struct al_stats *s, int64_t elapsed_ns)
{
    fprintf(f, "== %s: %.2f s\n", title, (double)elapsed_ns / 1e9);
    fprintf(f, "%-6s %10s %8s %11s %10s | %-9s %9s %9s %9s %9s\n", "op", "ops", "errors", "ops/s",
            "MiB/s", "lat ms:min", "p50", "p90", "p99", "max");
    for (int i = 0; i < AL_OP_COUNT; i++) {
        const struct al_opstats *o = &s->op[i];
        if (o->ops == 0 && o->errors == 0) {
            continue;
        }
        fprintf(f, "%-6s %10llu %8llu %11.1f %10.2f | %9.3f %9.3f %9.3f %9.3f %9.3f\n",
                al_op_name((enum al_op)i), (unsigned long long)o->ops,
                (unsigned long long)o->errors, al_rate_per_s(o->ops, elapsed_ns),
                al_mib_per_s(o->bytes, elapsed_ns), ms(al_hist_min(o->lat)),
                ms(al_hist_percentile(o->lat, 50)), ms(al_hist_percentile(o->lat, 90)),
                ms(al_hist_percentile(o->lat, 99)), ms(al_hist_max(o->lat)));
    }
    errors_text(f, s);
    fflush(f);
}

uint64_t
al_report_errors(const struct al_stats *s)
{
    uint64_t n = 0;
    for (int i = 0; i < AL_OP_COUNT; i++) {
        n += s->op[i].errors;
    }
    return n;
}

json_t *
al_report_json_config(const struct al_args *a)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:i, s:I, s:I, s:I, s:b, s:b, s:b}",
                     "mode", al_mode_name(a->mode), "endpoint", a->endpoint, "bucket", a->bucket,
                     "prefix", a->prefix, "duration_ms", (json_int_t)a->duration_ms, "max_ops",
                     (json_int_t)a->max_ops, "workers", (int)a->workers, "pctput", (int)a->pct_put,
                     "minsize", (json_int_t)a->size_min, "maxsize", (json_int_t)a->size_max,
                     "num_objects", (json_int_t)a->num_objects, "seq", a->seq, "verify", a->verify,
                     "existing", a->existing || a->fill);
}

static json_t *
op_json(const struct al_opstats *o, int64_t elapsed_ns)
{
    const struct al_hist *h = o->lat;
    return json_pack(
        "{s:I, s:I, s:I, s:f, s:f, s:{s:f, s:f, s:f, s:f, s:f, s:f}}", "ops", (json_int_t)o->ops,
        "errors", (json_int_t)o->errors, "bytes", (json_int_t)o->bytes, "ops_per_s",
        al_rate_per_s(o->ops, elapsed_ns), "mib_per_s", al_mib_per_s(o->bytes, elapsed_ns),
        "lat_us", "min", (double)al_hist_min(h) / 1e3, "mean", al_hist_mean(h) / 1e3, "p50",
        (double)al_hist_percentile(h, 50) / 1e3, "p90", (double)al_hist_percentile(h, 90) / 1e3,
        "p99", (double)al_hist_percentile(h, 99) / 1e3, "max", (double)al_hist_max(h) / 1e3);
}

static json_t *
errors_json(const struct al_stats *s)
{
    json_t *arr = json_array();
    if (arr == NULL) {
        return NULL;
    }
    for (unsigned i = 0; i < s->errs.n; i++) {
        const struct al_errrow *r = &s->errs.rows[i];
        json_t *row = json_pack("{s:s, s:s, s:I, s:I}", "op", al_op_name(r->op), "kind",
                                al_errkind_name(r->kind), "code", (json_int_t)r->code, "count",
                                (json_int_t)r->count);
        if (row == NULL || json_array_append_new(arr, row) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    if (s->errs.other > 0) {
        json_t *row = json_pack("{s:s, s:s, s:I, s:I}", "op", "?", "kind", "other", "code",
                                (json_int_t)0, "count", (json_int_t)s->errs.other);
        if (row == NULL || json_array_append_new(arr, row) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *
al_report_json_phase(const struct al_stats *s, int64_t elapsed_ns)
{
    /* "o" steals each reference, also on failure, so nothing leaks if one part is NULL. */
    return json_pack("{s:f, s:o, s:o, s:o, s:o, s:I}", "elapsed_s", (double)elapsed_ns / 1e9, "get",
                     op_json(&s->op[AL_OP_GET], elapsed_ns), "put",
                     op_json(&s->op[AL_OP_PUT], elapsed_ns), "delete",
                     op_json(&s->op[AL_OP_DEL], elapsed_ns), "errors", errors_json(s),
                     "errors_total", (json_int_t)al_report_errors(s));
}
