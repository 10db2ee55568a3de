/* Shared within target/ only. */
#ifndef AIS_TARGET_TARGET_INT_H
#define AIS_TARGET_TARGET_INT_H

#include "backend/backend.h"
#include "common/config.h"
#include "common/http.h"
#include "common/meta.h"
#include "common/objref.h"
#include "common/stats.h"
#include "common/statsd.h"
#include "dsort/dsort.h"
#include "reb/reb.h"
#include "rpc/member.h"
#include "rpc/rpc.h"
#include "space/space.h"
#include "storage/storage.h"
#include "target/ec.h"
#include "target/ixcache.h"
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
    struct tgt_ixc *ixc;       /* member indexes of hot TAR shards (ixcache.c) */
    pthread_mutex_t bck_mu;    /* orders bucket-dir create/destroy with the BMD (target.c) */
    struct reb_rsl *rsl;       /* resilver after mountpath changes (reb/resilver.c) */
    struct tgt_ec *ec;         /* erasure coding: ec-encode jobs (target/ec.c) */
    pthread_mutex_t mpath_mu;  /* serialises mountpath changes + their persisting (h_mpath.c) */
    uint64_t mp_faulty;        /* under mpath_mu: slots disabled at start or by FSHC */
    struct tgt_fshc *fshc;     /* atomic pointer: filesystem health checker (fshc.c) */
    struct ais_statsd *statsd; /* StatsD pusher or NULL (common/statsd.h) */
    struct sp *space;          /* capacity monitor, out-of-space check, LRU (space/space.h) */
    struct bk *bk;             /* remote backends (backend/backend.h) */
    struct tgt_cold *cold;     /* cold GETs in flight (cold.c) */
    struct ds *ds;             /* dSort jobs (dsort/dsort.h) */
    pthread_mutex_t ab_mu;     /* job ids stopped lately (remote.c: downloads in flight stop) */
    char ab_ids[16][XA_ID_BYTES];
    unsigned ab_next;
    int ready;   /* atomic: joined the cluster */
    int leaving; /* atomic: told by the primary to shut down (run loop exits) */
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

/*
 * Cold GET (target/cold.c): fetches a remote bucket's object from its backend, one fetch per
 * object however many clients ask (they all stream from it as bytes arrive). force: replace a
 * local copy (outdated or corrupt). tgt_cold_get responds (1), or returns 0 when the object
 * turned out to be here meanwhile (serve it locally). tgt_cold_fetch blocks until the object is
 * stored (0) or fails (negative errno with err). tgt_cold_outdated HEADs the backend: 1 when
 * the local copy md differs from the backend's object, 0 when current, or negative errno
 * (-ENOENT: deleted at the backend). Thread-safe.
 */
struct tgt_cold;
int tgt_cold_new(struct tgt *t, struct bk *bk, struct tgt_cold **out);
void tgt_cold_free(struct tgt_cold *c);
int tgt_cold_get(struct tgt_cold *c, struct ais_req *r, const struct ais_objref *ref,
                 const struct ais_bprops *props, int force);
int tgt_cold_fetch(struct tgt_cold *c, const struct ais_objref *ref, const struct ais_bprops *props,
                   int force, struct bk_err *err);
/* n fetches at once (one fill each; at most AIS_COLD_FILLS_MAX in flight): rcs[i], errs[i]. */
void tgt_cold_fetch_n(struct tgt_cold *c, const struct ais_objref *refs, size_t n,
                      const struct ais_bprops *props, const int *force, int *rcs,
                      struct bk_err *errs);
int tgt_cold_outdated(struct tgt_cold *c, const struct ais_objref *ref, const struct st_obj_md *md,
                      struct bk_err *err);
struct bk *tgt_cold_bk(const struct tgt_cold *c);
/* Range header against size: 0 (a range: *off, *len), 1 (none: whole), AIS_EBADRANGE. */
int tgt_parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len);

/* Batch operations on remote-bucket objects (target/remote.c): rpc_ops.objs_op. */
int tgt_objs_op(void *ctx, const struct rpc_objs_args *a, struct rpc_objs_res *res,
                struct rpc_err *err);
/* "promote-scan" and "promote" (target/promote.c): files under promote.root become objects. */
int tgt_promote_op(struct tgt *t, const struct rpc_objs_args *a, struct rpc_objs_res *res,
                   struct rpc_err *err);
/* RFC 3986 encoding of an object name for a URL path ('/' kept), truncated to cap. */
void tgt_path_encode(char *dst, size_t cap, const char *s);
/* A list-objects entry for name with md's columns (md NULL: the name only); borrows both. */
struct rpc_list_entry tgt_list_entry(const char *name, const struct st_obj_md *md);
/* A job id was stopped (xact_stop): transfers of its batches in flight end (-ECANCELED). */
void tgt_objs_abort(struct tgt *t, const char *id);

/* HTTP entry point (target/h_obj.c). */
void tgt_http_handler(struct ais_req *r, void *ctx);
/* JSON answers shared by HTTP what= queries and RPC queries (target/target.c). */
json_t *tgt_query_json(struct tgt *t, const char *what);

#endif
