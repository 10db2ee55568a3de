/* Shared within gateway/ only. */
#ifndef AIS_GATEWAY_GW_INT_H
#define AIS_GATEWAY_GW_INT_H

#include "backend/backend.h"
#include "common/config.h"
#include "common/http.h"
#include "common/meta.h"
#include "common/stats.h"
#include "common/statsd.h"
#include "rpc/member.h"
#include "rpc/rpc.h"
#include "s3/s3.h"
#include "xact/xact.h"

#include <pthread.h>

struct gw_msync;

struct gw_seen {
    char id[AIS_DAEMON_ID_BYTES_MAX];
    int64_t mono_ns;
};

/* A node id whose join the primary refuses until mono_ns (gateway/membership.c). */
struct gw_refused {
    char id[AIS_DAEMON_ID_BYTES_MAX];
    int64_t until_ns;
};

struct gw {
    const struct ais_config *cfg;
    struct ais_snode self;
    struct ais_meta meta;
    int is_primary; /* atomic: read with gw_is_primary; changed by gateway/election.c only */
    struct ais_http *http;
    struct rpc_server *rpc;
    struct rpc_member *member; /* joins/heartbeats; idle while this gateway is the primary */
    struct gw_elect *elect;    /* role thread, votes (gateway/election.c) */
    struct ais_stats stats;
    int ready;
    pthread_mutex_t change_mu; /* serialises building Smap/BMD changes on the primary (never
                                  held across the network or disk: see gateway/metasync.h) */
    struct gw_msync *msync;    /* primary only: publishes changes, tracks per-node acks */
    pthread_mutex_t seen_mu;
    size_t nseen;
    struct gw_seen seen[AIS_NODES_MAX];
    pthread_t tracker;
    int tracker_started;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    int stopping;
    struct xa_reg *xreg;        /* jobs this gateway coordinates (multi-object operations) */
    struct gw_lsess_tab *lsess; /* list sessions: per-target surplus between pages */
    struct bk *bk;              /* remote backends: HEAD and LIST of remote buckets */
    struct gw_dl *dl;           /* downloader job records (gateway/h_dload.c) */
    int leaving;                /* atomic: told by the primary to shut down (run loop exits) */
    size_t nrefused; /* joins refused (decommissioned / shutting down); under change_mu */
    struct gw_refused refused[AIS_JOIN_REFUSED_MAX];
    size_t nflag_memo; /* maintenance flags of evicted nodes, re-applied on rejoin; change_mu */
    struct gw_flag_memo {
        char id[AIS_DAEMON_ID_BYTES_MAX];
        uint64_t flags;
    } flag_memo[AIS_JOIN_REFUSED_MAX];
    struct s3_ops s3_ops; /* what /s3 (s3/) borrows from the gateway (gateway/s3_glue.c) */
    struct s3_srv *s3;
    struct ais_statsd *statsd; /* StatsD pusher or NULL (common/statsd.h) */
};

/* HTTP entry (gateway/h_gw.c). */
void gw_http_handler(struct ais_req *r, void *ctx);
/* Bucket API (gateway/h_bck.c). */
void gw_h_buckets(struct gw *g, struct ais_req *r);
/* GET /metrics (gateway/gw_metrics.c); GET /v1/openapi.yaml (gateway/gw_openapi.c). */
void gw_r_metrics(struct ais_req *r, void *ctx);
void gw_r_openapi(struct ais_req *r, void *ctx);
/* GET /v1/ml/moss[/<bucket>]: batch GET, 307 to a designated target (gateway/h_moss.c). */
void gw_r_moss(struct ais_req *r, void *ctx);

/*
 * Applies a bucket-level change on the primary (or forwards it there): create-bck,
 * destroy-bck, set-bprops, reset-bprops. value is the ActMsg value (may be NULL).
 * 0 or negative code with msg.
 */
/*
 * The bucket of ref is in this gateway's BMD, or is a remote bucket its backend has: then it is
 * added to the BMD (by the primary, acked by every node) first. 0, or an HTTP status with msg
 * (404: no such bucket here or at the backend; the backend's 403/502/504).
 */
/* Brace-range template expansion ("a-{00..99}.tar"), at most cap names appended to out:
 * 0, -EINVAL (malformed), -E2BIG (more than cap), -ENOMEM. */
int gw_tmpl_expand(const char *t, json_t *out, size_t cap);
/* The downloader (gateway/h_dload.c): job records, and the /v1/download handler. */
struct gw_dl;
int gw_dl_new(struct gw_dl **out);
void gw_dl_free(struct gw_dl *d);
void gw_r_download(struct ais_req *r, void *ctx);
/* Reverse proxy (gateway/h_rproxy.c): 1 when r was an absolute-URI request (answered). */
int gw_rproxy(struct gw *g, struct ais_req *r);
/* /v1/sort: dSort jobs (h_sort.c). */
void gw_r_sort(struct ais_req *r, void *ctx);
/* POST /v1/objects/<bck> {"action":"promote",...} (h_promote.c). */
void gw_h_objects_post(struct gw *g, struct ais_req *r);
/* PUT /v1/buckets/<src> {"action":"archive"}: one shard from a list or template (h_arch.c). */
struct ais_objref;
void gw_archive_bck(struct gw *g, struct ais_req *r, const struct ais_objref *ref,
                    const json_t *v);
struct ais_objref;
int gw_bck_resolve(struct gw *g, const struct ais_objref *ref, char *msg, size_t cap);
/* 0 when ref's bucket (if it exists) allows need (AIS_ACCESS_*), else 1 after a 403. */
int gw_bck_access(struct gw *g, struct ais_req *r, const struct ais_objref *ref, uint64_t need);
int gw_bck_change(struct gw *g, const char *action, const char *provider, const char *ns,
                  const char *bck, const json_t *value, char *msg, size_t cap);
/*
 * JSON answers for job queries (what=status|qryxstats|status_all) with the JobArgs body args
 * (may be NULL): this gateway's jobs plus every target's. NULL = no job with that id.
 */
json_t *gw_job_query(struct gw *g, const char *what, const json_t *args);
/*
 * Membership (gateway/membership.c). gw_h_node_action serves PUT /v1/cluster start-maintenance,
 * stop-maintenance, decommission-node and shutdown-node (api.md §5.3). gw_memb_join_refused:
 * 1 (msg filled) when id was just decommissioned or is shutting down; takes change_mu.
 * gw_memb_op_shutdown: the node_shutdown RPC handler of a non-primary gateway.
 */
void gw_h_node_action(struct gw *g, struct ais_req *r);
int gw_memb_join_refused(struct gw *g, const char *id, char *msg, size_t cap);
int gw_memb_op_shutdown(void *ctx, const char *sid, int decommission, struct rpc_err *err);
/* Fills the ops the S3 endpoint calls back into this gateway with (gateway/s3_glue.c). */
void gw_s3_ops_init(struct gw *g, struct s3_ops *ops);
/* Stats/what= answers for this gateway. */
json_t *gw_query_json(struct gw *g, const char *what);

/* Whether this gateway acts as the primary right now (the role may change at any time). */
static inline int
gw_is_primary(struct gw *g)
{
    return __atomic_load_n(&g->is_primary, __ATOMIC_ACQUIRE);
}
/*
 * Takes change_mu to build a Smap/BMD change: 0 with the lock held, or AIS_ENOTPRIMARY (lock
 * not held) when this gateway is not the primary, so a change racing a role change is never
 * committed by a former primary (gateway/gateway.c).
 */
__attribute__((warn_unused_result)) int gw_change_lock(struct gw *g);
/* Forgets every node's last keepalive (a new primary term starts counting afresh). */
void gw_seen_reset(struct gw *g);

#endif
