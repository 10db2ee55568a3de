/*
 * Cluster membership of a non-primary node: join the primary at startup (bounded by the
 * startup deadline), then heartbeat every keepalive interval and catch up on metadata the
 * node missed. Metadata pushed by metasync goes through rpc_member_apply.
 */
#ifndef AIS_RPC_MEMBER_H
#define AIS_RPC_MEMBER_H

#include "common/config.h"
#include "common/http.h"
#include "common/meta.h"
#include "common/smap.h"
#include "rpc/rpc.h"

struct rpc_member;

/* Called after metadata changed (bits: 1 smap, 2 bmd); old_bmd is the replaced BMD or NULL. */
typedef void (*rpc_member_changed_fn)(void *ctx, int changed, const struct ais_bmd *old_bmd);

/*
 * Joins (blocking, retried until cfg->startup_timeout_ms) and starts the keepalive thread.
 * 0, -ETIMEDOUT (primary never answered) or negative errno. Borrowed pointers must outlive m.
 */
__attribute__((warn_unused_result)) int
rpc_member_start(const struct ais_config *cfg, const struct ais_snode *self, struct ais_meta *meta,
                 rpc_member_changed_fn fn, void *ctx, struct rpc_member **out);
void rpc_member_stop(struct rpc_member *m);

/*
 * Starts a node's two listeners: the nng control server on self's control port (handlers in
 * ops) and the HTTP edge on its public port (handler), both with ctx. Logs what failed.
 * On error nothing is left running. 0 or negative errno.
 */
__attribute__((warn_unused_result)) int rpc_node_listen(const struct ais_snode *self,
                                                        const struct rpc_ops *ops,
                                                        ais_http_handler_fn handler, void *ctx,
                                                        struct rpc_server **rpc,
                                                        struct ais_http **http);
/* Applies pushed metadata (takes references) and notifies. Thread-safe. */
void rpc_member_apply(struct rpc_member *m, struct ais_smap *smap, struct ais_bmd *bmd);
/* Control URL of the primary per the current Smap (or config before the first join). */
void rpc_member_primary_url(struct rpc_member *m, char *out, size_t cap);

#endif
