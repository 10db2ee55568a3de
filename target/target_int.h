/* Shared within target/ only. */
#ifndef AIS_TARGET_TARGET_INT_H
#define AIS_TARGET_TARGET_INT_H

#include "common/config.h"
#include "common/http.h"
#include "common/meta.h"
#include "common/objref.h"
#include "common/stats.h"
#include "common/statsd.h"
#include "reb/reb.h"
#include "rpc/member.h"
#include "rpc/rpc.h"
#include "storage/storage.h"
#include "target/ec.h"
#include "target/lcache.h"
#include "xact/xact.h"

#include <pthread.h>

struct tgt {
    const struct ais_config *cfg;
    struct ais_snode self;
    struct ais_meta meta;
    struct st_mpaths *mp;
    struct ais_http *http;
    struct rpc_server *rpc;
    struct rpc_member *member;
    struct ais_stats stats;
    struct xa_reg *xreg;       /* this target's jobs (rebalance, resilver, ...) */
    struct reb *reb;           /* rebalance mover, object-stream receiver, get from neighbor */
    struct tgt_lcache *lcache; /* list cursors between pages (lcache.c) */
    pthread_mutex_t bck_mu;    /* orders bucket-dir create/destroy with the BMD (target.c) */
    struct reb_rsl *rsl;       /* resilver after mountpath changes (reb/resilver.c) */
    struct tgt_ec *ec;         /* erasure coding: ec-encode jobs (target/ec.c) */
    pthread_mutex_t mpath_mu;  /* serialises mountpath changes + their persisting (h_mpath.c) */
    uint64_t mp_faulty;        /* under mpath_mu: slots disabled at start or by FSHC */
    struct tgt_fshc *fshc;     /* atomic pointer: filesystem health checker (fshc.c) */
    struct ais_statsd *statsd; /* StatsD pusher or NULL (common/statsd.h) */
    int ready;                 /* atomic: joined the cluster */
    int leaving;               /* atomic: told by the primary to shut down (run loop exits) */
};

/*
 * Creates the bucket's dirs if the current BMD has the bucket (a PUT that found none, e.g.
 * before the BMD listener ran); never re-creates a destroyed bucket. 0, -ENOENT, errno.
 */
int tgt_bck_dirs_ensure(struct tgt *t, const struct st_bck *b);

/*
 * Mountpaths (target/h_mpath.c). tgt_mpaths_open opens the set from <confdir>/.ais.mpaths
 * (written after every change; overrides config fspaths) or, on the first start, from config;
 * a mountpath that cannot be used starts disabled. *need_rsl is set when a resilver must run.
 * tgt_mpaths_json answers what=mountpaths. r_mountpaths serves /v1/daemon/mountpaths.
 * tgt_mpaths_persist rewrites the file (under mpath_mu).
 */
int tgt_mpaths_open(struct tgt *t, int *need_rsl);
/*
 * A mountpath failed its health check: disable it (persisted as faulty, so a restart tries it
 * again), resilver. Logs; refuses (logged) to disable the last available one.
 */
void tgt_mpath_fault(struct tgt *t, size_t slot, const char *why);

/*
 * FSHC (target/fshc.c): a thread that probes the available mountpaths every
 * AIS_FSHC_PERIOD_MS and disables failed ones (tgt_mpath_fault). tgt_fshc_kick asks for a probe
 * now when err is an I/O error (-EIO, -EROFS, -ENXIO, -ENODEV); other errors are ignored.
 */
struct tgt_fshc;
int tgt_fshc_start(struct tgt *t, struct tgt_fshc **out);
void tgt_fshc_stop(struct tgt_fshc *f);
void tgt_fshc_kick(struct tgt *t, int err);
json_t *tgt_mpaths_json(struct tgt *t);
void tgt_r_mountpaths(struct ais_req *r, void *ctx);
/* GET /metrics: Prometheus text format (target/tgt_metrics.c). */
void tgt_r_metrics(struct ais_req *r, void *ctx);
void tgt_mpaths_dropped(void *ctx);

/* HTTP entry point (target/h_obj.c). */
void tgt_http_handler(struct ais_req *r, void *ctx);
/* JSON answers shared by HTTP what= queries and RPC queries (target/target.c). */
json_t *tgt_query_json(struct tgt *t, const char *what);

#endif
