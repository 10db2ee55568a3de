/*
 * Design notes: job metrics for Prometheus. Labels must stay bounded, so a job appears only
 * by its kind (never its id or bucket), folded into a fixed list; unknown kinds count as
 * "other". The figures come from the registry's snapshots (the last AIS_XACT_RECORDS_MAX
 * jobs), so they are gauges: a finished job's objects stay in ais_job_objects until the
 * registry forgets it.
 */
#include "common/limits.h"
#include "common/metrics.h"
#include "xact/xact.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kinds[] = {
    "rebalance",        "resilver",           "make-n-copies", "scrub",
    "delete-listrange", "evict-listrange",    "lru",           "ec-encode",
    "download",         "prefetch-listrange", "copy-bck",      "copy-listrange",
    "promote",          "decommission",       "other",
};
#define KINDS_N (sizeof(kinds) / sizeof(kinds[0]))

struct kind_sum {
    int64_t running;
    int64_t eta_ns; /* the longest ETA of its running jobs that know one; -1 = none */
    int64_t objs[XA_CTR_N], bytes[XA_CTR_N];
};

static size_t
kind_index(const char *kind)
{
    for (size_t i = 0; i + 1 < KINDS_N; i++) {
        if (strcmp(kinds[i], kind) == 0) {
            return i;
        }
    }
    return KINDS_N - 1;
}

static const char *const ctr_names[XA_CTR_N] = {"loc", "out", "in"};

static int
write_family(struct ais_buf *b, const struct kind_sum *sum, const char *name, int bytes)
{
    int rc = ais_prom_head(b, name, "gauge",
                           bytes ? "Bytes processed by the jobs this node remembers, by kind and "
                                   "counter (loc, out, in as in JobSnap stats)."
                                 : "Objects processed by the jobs this node remembers, by kind "
                                   "and counter (loc, out, in as in JobSnap stats).");
    char lb[96];
    for (size_t k = 0; k < KINDS_N && rc == 0; k++) {
        for (int c = 0; c < XA_CTR_N && rc == 0; c++) {
            snprintf(lb, sizeof(lb), "kind=\"%s\",ctr=\"%s\"", kinds[k], ctr_names[c]);
            rc = ais_prom_i64(b, name, lb, bytes ? sum[k].bytes[c] : sum[k].objs[c]);
        }
    }
    return rc;
}

int
xa_prom_write(struct xa_reg *r, struct ais_buf *b)
{
    struct xa_snap *snaps = calloc(AIS_XACT_RECORDS_MAX, sizeof(*snaps));
    struct kind_sum sum[KINDS_N];
    if (snaps == NULL) {
        return -ENOMEM;
    }
    memset(sum, 0, sizeof(sum));
    for (size_t k = 0; k < KINDS_N; k++) {
        sum[k].eta_ns = -1;
    }
    struct xa_filter f = {.id = "", .kind = "", .bck = "", .only_running = 0};
    size_t n = xa_snaps(r, &f, snaps, AIS_XACT_RECORDS_MAX);
    for (size_t i = 0; i < n && i < AIS_XACT_RECORDS_MAX; i++) {
        struct kind_sum *s = &sum[kind_index(snaps[i].kind)];
        s->running += snaps[i].state == XA_RUNNING;
        if (snaps[i].state == XA_RUNNING && snaps[i].eta_ns > s->eta_ns) {
            s->eta_ns = snaps[i].eta_ns;
        }
        for (int c = 0; c < XA_CTR_N; c++) {
            s->objs[c] += (int64_t)snaps[i].objs[c];
            s->bytes[c] += (int64_t)snaps[i].bytes[c];
        }
    }
    free(snaps);
    int rc = ais_prom_head(b, "ais_jobs_running", "gauge", "Jobs running on this node, by kind.");
    char lb[64];
    for (size_t k = 0; k < KINDS_N && rc == 0; k++) {
        snprintf(lb, sizeof(lb), "kind=\"%s\"", kinds[k]);
        rc = ais_prom_i64(b, "ais_jobs_running", lb, sum[k].running);
    }
    if (rc == 0) {
        rc = write_family(b, sum, "ais_job_objects", 0);
    }
    if (rc == 0) {
        rc = write_family(b, sum, "ais_job_bytes", 1);
    }
    if (rc == 0) {
        rc = ais_prom_head(b, "ais_job_eta_seconds", "gauge",
                           "Estimated seconds until the running jobs of a kind end (the longest; "
                           "-1 when none runs or none knows its total).");
    }
    for (size_t k = 0; k < KINDS_N && rc == 0; k++) {
        char v[32];
        snprintf(lb, sizeof(lb), "kind=\"%s\"", kinds[k]);
        if (sum[k].eta_ns < 0) {
            snprintf(v, sizeof(v), "-1");
        } else {
            snprintf(v, sizeof(v), "%lld.%03lld", (long long)(sum[k].eta_ns / 1000000000),
                     (long long)(sum[k].eta_ns / 1000000 % 1000));
        }
        rc = ais_buf_printf(b, "ais_job_eta_seconds{%s} %s\n", lb, v);
    }
    return rc;
}
