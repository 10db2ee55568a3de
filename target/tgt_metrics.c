/*
 * Design notes: GET /metrics on a target, Prometheus text format 0.0.4. Everything is read
 * with relaxed atomics or from immutable snapshots (Smap, BMD, the mountpath set) at scrape
 * time; the datapath only bumps counters (common/stats.h). The answer is built in a buffer
 * capped at AIS_METRICS_BYTES_MAX: labels are bounded (op, kind, mountpath), never object
 * names or job ids.
 */
#include "common/http.h"
#include "common/metrics.h"
#include "common/stats.h"
#include "target/target_int.h"
#include "xact/xact.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static int
write_mpaths(struct tgt *t, struct ais_buf *b)
{
    static const char *const fam[2] = {"ais_mountpath_capacity_bytes",
                                       "ais_mountpath_available_bytes"};
    static const char *const help[2] = {"Size of the mountpath's filesystem.",
                                        "Bytes available to the target on the mountpath."};
    size_t n = st_mpaths_count(t->mp);
    int rc = 0;
    for (int f = 0; f < 2 && rc == 0; f++) {
        rc = ais_prom_head(b, fam[f], "gauge", help[f]);
        for (size_t i = 0; i < n && rc == 0; i++) {
            const char *p = st_mpaths_path(t->mp, i);
            uint64_t total = 0, avail = 0;
            char esc[2 * AIS_PATH_BYTES_MAX], lb[sizeof(esc) + 16];
            if (p == NULL || st_mpaths_capacity(t->mp, i, &total, &avail) != 0 ||
                ais_prom_label_esc(p, esc, sizeof(esc)) != 0) {
                continue;
            }
            snprintf(lb, sizeof(lb), "mountpath=\"%s\"", esc);
            rc = ais_prom_i64(b, fam[f], lb, (int64_t)(f == 0 ? total : avail));
        }
    }
    return rc;
}

/* The device under a mountpath in /proc/diskstats: sectors read and written, ms doing I/O. */
struct dstat {
    uint64_t rd_sect, wr_sect, io_ms;
};

static int
diskstat_of(const char *path, struct dstat *out)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        return -errno;
    }
    FILE *f = fopen("/proc/diskstats", "re");
    if (f == NULL) {
        return -errno;
    }
    unsigned maj, min;
    char name[64], line[512];
    uint64_t v[10];
    int rc = -ENOENT;
    while (rc != 0 && fgets(line, sizeof(line), f) != NULL) {
        /* major minor name reads merged sectors ms writes merged sectors ms inflight io_ms */
        if (sscanf(line,
                   "%u %u %63s %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
                   " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
                   &maj, &min, name, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
                   &v[9]) == 13 &&
            maj == major(st.st_dev) && min == minor(st.st_dev)) {
            *out = (struct dstat){.rd_sect = v[2], .wr_sect = v[6], .io_ms = v[9]};
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

/* Per-mountpath I/O from the kernel's counters of the device under it (mountpaths on one
 * device show the same numbers; a mountpath on a virtual filesystem without a block device,
 * such as overlay or tmpfs, has none and is left out). */
static int
write_mpath_io(struct tgt *t, struct ais_buf *b)
{
    static const char *const fam[3] = {"ais_mountpath_read_bytes_total",
                                       "ais_mountpath_write_bytes_total",
                                       "ais_mountpath_io_seconds_total"};
    static const char *const help[3] = {
        "Bytes read from the block device under the mountpath (/proc/diskstats).",
        "Bytes written to the block device under the mountpath (/proc/diskstats).",
        "Seconds the device under the mountpath spent doing I/O (utilisation = rate)."};
    size_t n = st_mpaths_count(t->mp);
    struct dstat *ds = calloc(n ? n : 1, sizeof(*ds));
    int *ok = calloc(n ? n : 1, sizeof(*ok));
    int rc = ds && ok ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *p = st_mpaths_path(t->mp, i);
        ok[i] = p != NULL && diskstat_of(p, &ds[i]) == 0;
    }
    for (int f = 0; f < 3 && rc == 0; f++) {
        rc = ais_prom_head(b, fam[f], "counter", help[f]);
        for (size_t i = 0; i < n && rc == 0; i++) {
            const char *p = st_mpaths_path(t->mp, i);
            char esc[2 * AIS_PATH_BYTES_MAX], lb[sizeof(esc) + 16], val[32];
            if (!ok[i] || p == NULL || ais_prom_label_esc(p, esc, sizeof(esc)) != 0) {
                continue;
            }
            snprintf(lb, sizeof(lb), "mountpath=\"%s\"", esc);
            if (f < 2) {
                rc = ais_prom_i64(b, fam[f], lb,
                                  (int64_t)((f == 0 ? ds[i].rd_sect : ds[i].wr_sect) * 512));
            } else {
                snprintf(val, sizeof(val), "%" PRIu64 ".%03" PRIu64, ds[i].io_ms / 1000,
                         ds[i].io_ms % 1000);
                rc = ais_buf_printf(b, "%s{%s} %s\n", fam[f], lb, val);
            }
        }
    }
    free(ds);
    free(ok);
    return rc;
}

static int
write_all(void *ctx, struct ais_buf *b)
{
    struct tgt *t = ctx;
    struct ais_smap *smap = ais_meta_smap(&t->meta);
    struct ais_bmd *bmd = ais_meta_bmd(&t->meta);
    struct ais_prom_node node = {
        .node_id = t->self.id,
        .role = "target",
        .ready = __atomic_load_n(&t->ready, __ATOMIC_ACQUIRE),
        .primary = -1,
        .smap_version = smap ? smap->version : 0,
        .bmd_version = bmd ? bmd->version : 0,
    };
    ais_smap_unref(smap);
    ais_bmd_unref(bmd);
    int rc = ais_prom_node_write(b, &node);
    if (rc == 0) {
        rc = ais_stats_prom(b, &t->stats, 1);
    }
    if (rc == 0) {
        rc = write_mpaths(t, b);
    }
    if (rc == 0) {
        rc = write_mpath_io(t, b);
    }
    if (rc == 0) {
        rc = xa_prom_write(t->xreg, b);
    }
    return rc;
}

void
tgt_r_metrics(struct ais_req *r, void *ctx)
{
    ais_prom_respond(r, write_all, ctx);
}
