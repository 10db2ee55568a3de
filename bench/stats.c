/*
 * Design notes: errors are never folded into a single number. Each (op, kind, code) gets a
 * row; when AL_ERRKINDS_MAX distinct rows exist, further kinds still count in ->errors and in
 * errs.other, and the report prints that line too.
 */
#include "bench/stats.h"

#include "common/assert.h"

#include <string.h>

int
al_stats_init(struct al_stats *s)
{
    AIS_ASSERT(s != NULL);
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < AL_OP_COUNT; i++) {
        int err = al_hist_new(&s->op[i].lat);
        if (err != 0) {
            al_stats_fini(s);
            return err;
        }
    }
    return 0;
}

void
al_stats_fini(struct al_stats *s)
{
    if (s == NULL) {
        return;
    }
    for (int i = 0; i < AL_OP_COUNT; i++) {
        al_hist_free(s->op[i].lat);
        s->op[i].lat = NULL;
    }
}

void
al_stats_reset(struct al_stats *s)
{
    for (int i = 0; i < AL_OP_COUNT; i++) {
        s->op[i].ops = 0;
        s->op[i].errors = 0;
        s->op[i].bytes = 0;
        al_hist_reset(s->op[i].lat);
    }
    memset(&s->errs, 0, sizeof(s->errs));
}

static void
errtab_add(struct al_errtab *t, enum al_op op, enum al_errkind kind, long code, uint64_t n)
{
    for (unsigned i = 0; i < t->n; i++) {
        struct al_errrow *r = &t->rows[i];
        if (r->op == op && r->kind == kind && r->code == code) {
            r->count += n;
            return;
        }
    }
    if (t->n == AL_ERRKINDS_MAX) {
        t->other += n;
        return;
    }
    t->rows[t->n++] = (struct al_errrow){.op = op, .kind = kind, .code = code, .count = n};
}

void
al_stats_merge(struct al_stats *dst, const struct al_stats *src)
{
    for (int i = 0; i < AL_OP_COUNT; i++) {
        dst->op[i].ops += src->op[i].ops;
        dst->op[i].errors += src->op[i].errors;
        dst->op[i].bytes += src->op[i].bytes;
        al_hist_merge(dst->op[i].lat, src->op[i].lat);
    }
    for (unsigned i = 0; i < src->errs.n; i++) {
        const struct al_errrow *r = &src->errs.rows[i];
        errtab_add(&dst->errs, r->op, r->kind, r->code, r->count);
    }
    dst->errs.other += src->errs.other;
}

void
al_stats_ok(struct al_stats *s, enum al_op op, uint64_t bytes, uint64_t lat_ns)
{
    AIS_ASSERT(op < AL_OP_COUNT);
    s->op[op].ops++;
    s->op[op].bytes += bytes;
    al_hist_record(s->op[op].lat, lat_ns);
}

void
al_stats_err(struct al_stats *s, enum al_op op, enum al_errkind kind, long code)
{
    AIS_ASSERT(op < AL_OP_COUNT);
    s->op[op].errors++;
    errtab_add(&s->errs, op, kind, code, 1);
}

double
al_rate_per_s(uint64_t n, int64_t ns)
{
    return ns > 0 ? (double)n * 1e9 / (double)ns : 0.0;
}

double
al_mib_per_s(uint64_t bytes, int64_t ns)
{
    return ns > 0 ? (double)bytes / (1024.0 * 1024.0) * 1e9 / (double)ns : 0.0;
}

const char *
al_op_name(enum al_op op)
{
    static const char *names[AL_OP_COUNT] = {"GET", "PUT", "DELETE"};
    return op < AL_OP_COUNT ? names[op] : "?";
}

const char *
al_errkind_name(enum al_errkind kind)
{
    switch (kind) {
    case AL_ERR_HTTP:
        return "http";
    case AL_ERR_CURL:
        return "transport";
    case AL_ERR_VERIFY:
        return "verify";
    case AL_ERR_RESOLVE:
        return "resolve";
    }
    return "?";
}
