/* Shared within gateway/ only. */
#ifndef AIS_GATEWAY_GW_INT_H
#define AIS_GATEWAY_GW_INT_H

#include "common/config.h"
#include "common/http.h"
#include "common/meta.h"
#include "common/stats.h"
#include "rpc/member.h"
#include "rpc/rpc.h"

#include <pthread.h>

#define GW_JOBS_MAX 256

struct gw_job {
    char id[16];
    char kind[32];
    int64_t start_ns;
    int64_t end_ns;
    char err[256];
};

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
    pthread_mutex_t change_mu; /* serialises Smap/BMD changes on the primary */
    pthread_mutex_t seen_mu;
    size_t nseen;
    struct gw_seen seen[AIS_NODES_MAX];
    pthread_t tracker;
    int tracker_started;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    int stopping;
    pthread_mutex_t jobs_mu;
    size_t njobs;
    struct gw_job jobs[GW_JOBS_MAX];
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
/* Pushes smap and bmd to every other node in parallel and waits (each push bounded). */
void gw_push_all(struct gw *g, const struct ais_smap *smap, const struct ais_bmd *bmd);
/* Records a finished job and returns its id in out. */
void gw_job_record(struct gw *g, const char *kind, int64_t start_ns, const char *err, char out[16]);
/* JSON answers for job queries (what=status|qryxstats|status_all); NULL = unknown id. */
json_t *gw_job_query(struct gw *g, const char *what, const char *id);
/* Stats/what= answers for this gateway. */
json_t *gw_query_json(struct gw *g, const char *what);

#endif
