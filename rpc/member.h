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
/*
 * Like rpc_member_start but without joining: the thread stays idle (no heartbeats) until
 * rpc_member_set_idle(m, 0). For a gateway that starts as the primary. 0 or negative errno.
 */
__attribute__((warn_unused_result)) int rpc_member_start_idle(const struct ais_config *cfg,
                                                              const struct ais_snode *self,
                                                              struct ais_meta *meta,
                                                              struct rpc_member **out);
/* Stops the thread and frees. Accepts NULL. */
void rpc_member_stop(struct rpc_member *m);
/*
 * idle 1: stop heartbeating (this gateway became the primary); 0: heartbeat the primary of the
 * current Smap again, starting now (it was demoted). Thread-safe, never blocks; m may be NULL.
 */
void rpc_member_set_idle(struct rpc_member *m, int idle);
/*
 * How long keepalives to primary_id have been failing without a success in between (from the
 * start of the first failed one), in ms; 0 when they succeed, or when the failing primary is
 * another one. Thread-safe; m may be NULL (0).
 */
int64_t rpc_member_primary_down_ms(struct rpc_member *m, const char *primary_id);
/*
 * This node's answer to an election vote request (see proto VoteReq): yes when primary_id is
 * dead for it too (its own keepalives to it fail, or a short probe gets no primary answer), no
 * newer Smap names another primary, and it has not voted for another candidate at a version
 * >= q's (the vote is recorded). A probe (empty candidate_id) fills out->smap (new reference)
 * instead. May block for one AIS_ELECT_PROBE_MS probe. m NULL (not joined yet) votes no.
 * out->is_primary is left to the caller (only a gateway knows its role). Thread-safe.
 */
void rpc_member_vote(struct rpc_member *m, struct ais_meta *meta, const struct rpc_vote_req *q,
                     struct rpc_vote *out);
/*
 * Finds the acting primary: probes the nodes of meta's Smap (other than self) one by one, each
 * for AIS_ELECT_PROBE_MS, within budget_ms, and installs the Smap of the newest acting
 * primary that answered (if newer than meta's). *max_smap / *max_bmd (may be NULL) receive
 * the highest versions any node reported (at least meta's). Returns 1 when a primary other
 * than self answered, else 0. Blocking; thread-safe.
 */
int rpc_member_discover(const struct ais_config *cfg, const struct ais_snode *self,
                        struct ais_meta *meta, int64_t budget_ms, int64_t *max_smap,
                        int64_t *max_bmd);

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
