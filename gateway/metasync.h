/*
 * Metasync on the primary gateway (gateway-internal): publishes Smap/BMD changes and tracks
 * which version every node acknowledged.
 *
 * A change is built under g->change_mu (clone, modify, bump the version) and handed to
 * gw_msync_commit, which installs it in memory and queues it; the caller then drops
 * change_mu and may wait with gw_msync_wait. One sender thread persists the new metadata and
 * pushes the newest (Smap, BMD) pair to every node in parallel: one push covers every change
 * queued before it. Each node answers with the versions it holds (MetaAck); keepalives and
 * joins report versions too. Nodes that failed a push are re-pushed a bounded number of times;
 * after that keepalive replies catch them up.
 */
#ifndef AIS_GATEWAY_METASYNC_H
#define AIS_GATEWAY_METASYNC_H

#include "gateway/gw_int.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct gw_msync;

/* What a committed change waits for: its queue position and the versions it installed. */
struct gw_msync_ticket {
    uint64_t seq;
    int64_t smap_version;
    int64_t bmd_version;
};

/* Commit flags. */
#define GW_MSYNC_FORCE 1u /* internal changes (evictions): never refused for a full queue */

/* Allocates the metasync state of g (g->meta must be initialised), stopped: commits fail
 * -ECANCELED until gw_msync_resume. 0 or -ENOMEM. */
__attribute__((warn_unused_result)) int gw_msync_new(struct gw *g, struct gw_msync **out);
/* Starts the sender thread (this gateway became the primary); the ack table starts empty.
 * No-op when running. Not concurrent with gw_msync_stop (the caller serialises role changes).
 * 0 or -EAGAIN. */
__attribute__((warn_unused_result)) int gw_msync_resume(struct gw_msync *ms);
/* Stops the sender (an in-flight push finishes first, bounded by the RPC timeout) and wakes
 * every waiter with -ECANCELED; later commits fail -ECANCELED until a resume. Memory stays
 * valid for threads still returning from gw_msync_*. Accepts NULL. */
void gw_msync_stop(struct gw_msync *ms);
/* Stops (if not yet) and frees, once no other thread can call in. Accepts NULL. */
void gw_msync_free(struct gw_msync *ms);

/*
 * Installs smap and/or bmd (references taken, NULL = unchanged; versions must be newer) on
 * the primary, in memory only, and queues a push. The caller holds g->change_mu, so the
 * installed versions are exactly the ticket's. Never blocks on I/O or the network.
 * 0, or -EAGAIN when AIS_METASYNC_QUEUE_MAX changes are already queued (nothing installed,
 * the references are dropped) unless flags has GW_MSYNC_FORCE.
 */
__attribute__((warn_unused_result)) int gw_msync_commit(struct gw_msync *ms, struct ais_smap *smap,
                                                        struct ais_bmd *bmd, unsigned flags,
                                                        struct gw_msync_ticket *t);
/*
 * Waits until the push covering t has been answered by every node, bounded by twice the RPC
 * timeout plus a second. Call without change_mu. 0 when every node of the current Smap
 * (other than the primary) holds versions >= t's; otherwise -EAGAIN (the covering push
 * finished but some nodes did not ack), -ETIMEDOUT (still in flight) or -ECANCELED
 * (stopping), with msg naming the nodes that did not ack and why.
 */
__attribute__((warn_unused_result)) int
gw_msync_wait(struct gw_msync *ms, const struct gw_msync_ticket *t, char *msg, size_t cap);
/* How long gw_msync_wait may block; a gateway forwarding a change to the primary waits this
 * plus one RPC timeout, so its client sees the primary's answer (naming the nodes). */
int64_t gw_msync_wait_ms(const struct gw *g);

/*
 * Records versions a node reported without a push: its keepalive (via "keepalive") or the
 * metadata its join reply carries (via "join"; also resets its retry state). Never blocks
 * beyond a short mutex. Thread-safe; ms may be NULL (no-op).
 */
void gw_msync_node_vers(struct gw_msync *ms, const char *id, int64_t smap_version,
                        int64_t bmd_version, const char *via);
/* what=metasync: queue and per-node ack state (new reference); {"primary":false} when ms is
 * NULL or stopped (this gateway is not the primary). */
json_t *gw_msync_json(struct gw_msync *ms);

#endif
