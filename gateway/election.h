/*
 * Primary election and role changes of a gateway (gateway-internal).
 *
 * A gateway is the primary or not (gw_is_primary); the role can change at run time:
 * - election: a non-primary whose keepalives to the primary have failed for the keepalive
 *   timeout, and which is the HRW candidate (max id_digest among the electable gateways of
 *   the Smap, the dead primary excluded), asks every other node for its vote; with a majority
 *   of the Smap's nodes (the dead primary not counted) it publishes a newer Smap naming itself
 *   (the dead primary removed) and takes over keepalives, joins and metasync;
 * - set-primary (PUT /v1/cluster/proxy/<id>): the primary pushes a Smap naming another
 *   gateway and demotes itself; the named gateway is promoted when that push arrives;
 * - a primary that receives a newer Smap naming another primary demotes itself.
 * One role thread per gateway runs elections and demotions; role changes are serialised.
 */
#ifndef AIS_GATEWAY_ELECTION_H
#define AIS_GATEWAY_ELECTION_H

#include "common/http.h"
#include "common/smap.h"
#include "gateway/gw_int.h"
#include "rpc/rpc.h"

#include <stddef.h>

struct gw_elect;

/*
 * The election candidate of s: the electable gateway (not flagged non-electable, in
 * maintenance or decommissioned) with the highest id_digest (ties: the greater id), skipping
 * the nskip ids in skip. NULL when there is none. Pure; the result points into s.
 */
const struct ais_snode *gw_elect_candidate(const struct ais_smap *s, const char *const *skip,
                                           size_t nskip);
/* self_id's place in the candidate order of s without skip_id (0 = the candidate), or -1 when
 * self_id is not an electable gateway of s. Pure. */
int gw_elect_rank(const struct ais_smap *s, const char *skip_id, const char *self_id);

/* Allocates g->elect (before the servers start). 0 or -ENOMEM. */
__attribute__((warn_unused_result)) int gw_elect_new(struct gw *g);
/* Starts the role thread (after the initial role is settled). 0 or -EAGAIN. */
__attribute__((warn_unused_result)) int gw_elect_start(struct gw *g);
/* Stops the role thread (a running election finishes first, bounded by the RPC timeout),
 * then the metasync sender. Accepts g->elect NULL. */
void gw_elect_stop(struct gw *g);
/* Frees g->elect once no thread can call in (after the servers stopped). Accepts NULL. */
void gw_elect_free(struct gw *g);

/*
 * At startup of a gateway that config names the primary: asks the nodes of its persisted
 * Smap (bounded) whether another gateway acts as the primary; if one does, its Smap is
 * installed and 0 is returned (join it as a non-primary); else 1 (act as the primary), with
 * *min_smap / *min_bmd the highest versions any node reported, which the primary's maps must
 * exceed.
 */
int gw_elect_startup(struct gw *g, int64_t *min_smap, int64_t *min_bmd);

/* Makes this gateway the primary (no-op if it is): member idle, keepalive table reset,
 * metasync started; commits a Smap naming itself (if the current one does not, or lists
 * drop_id (may be NULL), or min_smap is newer) with a version above min_smap, and a copy of
 * the BMD with a version above min_bmd when that is newer than its own. 0 or negative errno. */
int gw_role_promote(struct gw *g, int64_t min_smap, int64_t min_bmd, const char *drop_id);

/* After op_metasync applied a push: promotes (the push names this gateway) or asks the role
 * thread to demote (a newer Smap names another primary). */
void gw_elect_on_metasync(struct gw *g);
/* The vote RPC handler (rpc_ops.vote) of a gateway. */
int gw_elect_op_vote(void *ctx, const struct rpc_vote_req *q, struct rpc_vote *out,
                     struct rpc_err *err);

/*
 * Moves the primary role to gateway id (on the primary; elsewhere forwarded to it). Blocks
 * until the new Smap is acked (bounded by gw_msync_wait_ms). 0, -ENOENT (no such gateway),
 * -EINVAL (a target or non-electable), -EHOSTUNREACH (it does not answer) or negative errno,
 * with msg.
 */
int gw_set_primary(struct gw *g, const char *id, char *msg, size_t cap);
/* HTTP: PUT /v1/cluster/proxy/<id>. */
void gw_h_set_primary(struct ais_req *r, void *ctx);

/*
 * Sends a control action (rpc BckAction) to the primary of the current Smap, waiting (bounded)
 * through an election in progress: a primary that does not answer a probe, or answers "not
 * the primary", is asked again once the Smap names another. The action runs at most once.
 * 0 or the primary's code with msg.
 */
int gw_primary_forward(struct gw *g, const char *action, const char *provider, const char *ns,
                       const char *bck, const char *value_json, int64_t timeout_ms, char *msg,
                       size_t cap);

#endif
