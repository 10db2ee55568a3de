/*
 * Cluster membership of a non-primary node: join the primary at startup (bounded by the
 * startup deadline), then heartbeat every keepalive interval and catch up on metadata the
 * node missed. Join and keepalive replies are installed with ais_meta_apply, the same
 * serialised path as metasync pushes, so the meta listener sees every change once, in order.
 */
#ifndef AIS_RPC_MEMBER_H
#define AIS_RPC_MEMBER_H

#include "common/config.h"
#include "common/http.h"
#include "common/meta.h"
#include "common/smap.h"
#include "rpc/rpc.h"

struct rpc_member;

/*
 * Joins (blocking, retried until cfg->startup_timeout_ms) and starts the keepalive thread.
 * 0, -ETIMEDOUT (primary never answered) or negative errno. Borrowed pointers must outlive m.
 */
__attribute__((warn_unused_result)) int rpc_member_start(const struct ais_config *cfg,
                                                         const struct ais_snode *self,
                                                         struct ais_meta *meta,
                                                         struct rpc_member **out);
void rpc_member_stop(struct rpc_member *m);

/*
 * Starts a node's two listeners: the nng control server on self's control port (handlers in
 * ops, worker threads per class from cfg's rpc.workers.*) and the HTTP edge on its public
 * port (handler), both with ctx. Logs what failed. On error nothing is left running.
 * 0 or negative errno.
 */
__attribute__((warn_unused_result)) int
rpc_node_listen(const struct ais_config *cfg, const struct ais_snode *self,
                const struct rpc_ops *ops, ais_http_handler_fn handler, void *ctx,
                struct rpc_server **rpc, struct ais_http **http);
/* Control URL of the primary per the current Smap (or config before the first join). */
void rpc_member_primary_url(struct rpc_member *m, char *out, size_t cap);

#endif
