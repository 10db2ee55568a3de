/* Shared within gateway/ only. */
#ifndef AIS_GATEWAY_GW_INT_H
#define AIS_GATEWAY_GW_INT_H

#include "common/config.h"
#include "common/http.h"
#include "common/meta.h"
#include "common/stats.h"
#include "rpc/member.h"
#include "rpc/rpc.h"
#include "xact/xact.h"

#include <pthread.h>

struct gw_msync;

struct gw_seen {
    char id[AIS_DAEMON_ID_BYTES_MAX];
    int64_t mono_ns;
};

struct gw {
    const struct ais_config *cfg;
    struct ais_snode self;
    struct ais_meta meta;
    int is_primary;
    struct ais_http *http;
    struct rpc_server *rpc;
    struct rpc_member *member; /* non-primary only */
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
    struct xa_reg *xreg; /* jobs this gateway coordinates (multi-object operations) */
};

/* HTTP entry (gateway/h_gw.c). */
void gw_http_handler(struct ais_req *r, void *ctx);
/* Bucket API (gateway/h_bck.c). */
void gw_h_buckets(struct gw *g, struct ais_req *r);

/*
 * Applies a bucket-level change on the primary (or forwards it there): create-bck,
 * destroy-bck, set-bprops, reset-bprops. value is the ActMsg value (may be NULL).
 * 0 or negative code with msg.
 */
int gw_bck_change(struct gw *g, const char *action, const char *provider, const char *ns,
                  const char *bck, const json_t *value, char *msg, size_t cap);
/*
 * JSON answers for job queries (what=status|qryxstats|status_all) with the JobArgs body args
 * (may be NULL): this gateway's jobs plus every target's. NULL = no job with that id.
 */
json_t *gw_job_query(struct gw *g, const char *what, const json_t *args);
/* Stats/what= answers for this gateway. */
json_t *gw_query_json(struct gw *g, const char *what);

#endif
