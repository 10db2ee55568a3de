/* Shared within target/ only. */
#ifndef AIS_TARGET_TARGET_INT_H
#define AIS_TARGET_TARGET_INT_H

#include "common/config.h"
#include "common/http.h"
#include "common/meta.h"
#include "common/objref.h"
#include "common/stats.h"
#include "rpc/member.h"
#include "rpc/rpc.h"
#include "storage/storage.h"

struct tgt {
    const struct ais_config *cfg;
    struct ais_snode self;
    struct ais_meta meta;
    struct st_mpaths *mp;
    struct ais_http *http;
    struct rpc_server *rpc;
    struct rpc_member *member;
    struct ais_stats stats;
    int ready; /* atomic: joined the cluster */
};

/* HTTP entry point (target/h_obj.c). */
void tgt_http_handler(struct ais_req *r, void *ctx);
/* JSON answers shared by HTTP what= queries and RPC queries (target/target.c). */
json_t *tgt_query_json(struct tgt *t, const char *what);

#endif
