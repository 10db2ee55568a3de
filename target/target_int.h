/* Shared within target/ only. */
#ifndef AIS_TARGET_TARGET_INT_H
#define AIS_TARGET_TARGET_INT_H

#include "common/config.h"
#include "common/http.h"
#include "common/meta.h"
#include "common/objref.h"
#include "common/stats.h"
#include "reb/reb.h"
#include "rpc/member.h"
#include "rpc/rpc.h"
#include "storage/storage.h"
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
    int ready;                 /* atomic: joined the cluster */
};

/*
 * Creates the bucket's dirs if the current BMD has the bucket (a PUT that found none, e.g.
 * before the BMD listener ran); never re-creates a destroyed bucket. 0, -ENOENT, errno.
 */
int tgt_bck_dirs_ensure(struct tgt *t, const struct st_bck *b);

/* HTTP entry point (target/h_obj.c). */
void tgt_http_handler(struct ais_req *r, void *ctx);
/* JSON answers shared by HTTP what= queries and RPC queries (target/target.c). */
json_t *tgt_query_json(struct tgt *t, const char *what);

#endif
