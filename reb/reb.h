/*
 * Rebalance: after a cluster-map change that moves ownership, every target walks its buckets
 * and streams each object it no longer owns (HRW over the active targets) to the new owner
 * over an rpc object stream, then removes its copy once the receiver acknowledged a durable
 * write, and only if the copy is still the one it sent. One job per Smap version, with the
 * cluster-wide id "g<version>"; a newer map aborts and supersedes the running one.
 *
 * The receiving side (reb_recv_*) writes through a work file and renames, as PUT does, keeps
 * the newer of two copies (by mtime) so a concurrent client PUT never loses to a moved copy,
 * and also serves "get from neighbor": a GET that reaches the owner of an object it does not
 * have pulls it from the other targets (reb_gfn) before answering 404.
 */
#ifndef AIS_REB_REB_H
#define AIS_REB_REB_H

#include "common/config.h"
#include "common/meta.h"
#include "common/smap.h"
#include "rpc/stream.h"
#include "storage/storage.h"
#include "xact/xact.h"

#include <stdint.h>

struct reb;

/* What a target lends the rebalance service; borrowed for its lifetime. */
struct reb_env {
    const struct ais_config *cfg;
    const struct ais_snode *self;
    struct ais_meta *meta;
    struct st_mpaths *mp;
    struct xa_reg *xreg;
    /* Objects whose stream kind starts with "ec-" (EC slices and replicas) go to these instead
     * (target/ec.c), same contract as rpc_stream_ops; NULL refuses them (-ENOTSUP). */
    const struct rpc_stream_ops *ec_ops;
    void *ec_ctx;
    /* Called (with ec_ctx) after an object moved here from a peer (rebalance, get from
     * neighbor) was stored, so EC can re-protect it for its new owner. Must not block; may be
     * NULL. */
    void (*obj_arrived)(void *ctx, const struct st_bck *b, const char *name);
};

/* New service; starts the object-stream receiver on self's data URL. 0 or negative errno. */
__attribute__((warn_unused_result)) int reb_new(const struct reb_env *env, struct reb **out);
/* Aborts a running rebalance, stops the receiver, frees. Accepts NULL. */
void reb_free(struct reb *r);
/*
 * Smap change hook (from the target's metadata listener, in version order): when ownership
 * moved, aborts the running rebalance and starts one for cur. Never blocks on I/O.
 */
void reb_on_smap(struct reb *r, const struct ais_smap *old, const struct ais_smap *cur);
/*
 * Starts a rebalance on request (PUT /v1/cluster {"action":"start","value":{"Kind":
 * "rebalance"}}) for the current Smap, as job id (the same cluster-wide id on every target);
 * a running one is aborted and superseded. Runs even when rebalance.enabled is off. 0, -EEXIST
 * (that id is running), -EINVAL (bad id) or -ENOMEM.
 */
__attribute__((warn_unused_result)) int reb_start(struct reb *r, const char *id);
/*
 * Get from neighbor: asks the other targets (the object's owner under the previous Smap
 * first) to send the object here; returns 0 once it is stored locally, -ENOENT when no target
 * has it, or negative errno. With where != NULL it only locates the object: 0 and *where = a
 * target that has it (nothing is copied: the caller redirects, and the rebalance moves it).
 * Blocking, bounded by the RPC timeout per target asked.
 */
__attribute__((warn_unused_result)) int reb_gfn(struct reb *r, const struct st_bck *bck,
                                                const char *obj, uint64_t digest,
                                                struct ais_snode *where);
/* Answers a peer's pull request (the rpc handler): streams the object to dest_url; an empty
 * dest_url only checks that the object is here (0 or -ENOENT). */
__attribute__((warn_unused_result)) int reb_pull_serve(struct reb *r, const char *provider,
                                                       const char *ns, const char *bck,
                                                       const char *obj, const char *dest_url);
/*
 * Hands the local object to owner (its owner under a Smap that arrived while a PUT of it
 * streamed here, after this target's rebalance walk may have passed it): streams it like a
 * rebalance move (the receiver keeps a newer copy it has) and, once acked, removes the local
 * copy unless a newer PUT replaced it. Blocking. 0 or negative errno (the copy stays here).
 */
__attribute__((warn_unused_result)) int reb_handoff(struct reb *r, const struct st_bck *b,
                                                    const char *obj, uint64_t digest,
                                                    const struct ais_snode *owner);
/* tcp:// URL of a node's object-stream receiver (its control port + AIS_DATA_PORT_OFFSET). */
void reb_data_url(const struct ais_snode *n, char *out, size_t cap);

/*
 * 1 if going from old to cur changes object ownership: the set of active targets (not in
 * maintenance/decommission) differs. old may be NULL (first map: moves iff cur has targets).
 */
int reb_smap_moves(const struct ais_smap *old, const struct ais_smap *cur);

/*
 * Where this target (self_id) must send the object with this digest under cur: its new owner,
 * or NULL when self still owns it (or no active target exists). Pure; borrowed result.
 */
const struct ais_snode *reb_dest(const struct ais_smap *cur, const char *self_id, uint64_t digest);

/*
 * Resilver (reb/resilver.c): after a mountpath change on this target, a job of kind "resilver"
 * walks every bucket across all mountpaths and moves each object to the mountpath HRW now
 * picks (st_obj_relocate), then drops the detaching mountpaths it emptied (after waiting for
 * PUTs that started under an older set). A newer start aborts and supersedes a running one.
 */
struct reb_rsl;

struct reb_rsl_env {
    struct ais_meta *meta; /* buckets to walk (the BMD) */
    struct st_mpaths *mp;
    struct xa_reg *xreg;
    void (*dropped)(void *ctx); /* called after a detaching mountpath left the set (persist) */
    void *ctx;
};

/* 0 or -ENOMEM/-errno. env is copied; its pointers are borrowed for the service's life. */
__attribute__((warn_unused_result)) int reb_rsl_new(const struct reb_rsl_env *env,
                                                    struct reb_rsl **out);
/* Aborts a running resilver and waits for it, then frees. Accepts NULL. */
void reb_rsl_free(struct reb_rsl *r);
/*
 * Aborts the running resilver (if any) and starts a new job; it begins walking once the old
 * one returned. id_out (may be NULL) gets the job id. 0 or the xa_job_start error. Never
 * blocks on I/O.
 */
__attribute__((warn_unused_result)) int reb_rsl_start(struct reb_rsl *r, char id_out[XA_ID_BYTES]);
/*
 * make-n-copies: a job (kind "make-n-copies", id `id` or a random one) that walks one bucket and
 * gives every object the copies its current props ask for (st_obj_mirror: adds the missing ones,
 * removes the extra ones). Supersedes a running one of the same bucket; waits for a running
 * resilver before it walks. 0 or the xa_job_start error.
 */
__attribute__((warn_unused_result)) int reb_mnc_start(struct reb_rsl *r, const char *provider,
                                                      const char *ns, const char *bck,
                                                      const char *id, char id_out[XA_ID_BYTES]);
/*
 * scrub: a job (kind "scrub") that verifies every copy of every object of one bucket
 * (st_obj_scrub), removes bad copies when a good one exists and restores the bucket's copies.
 * Counters: loc = objects and bytes checked, out = bad copies found, in = copies restored; the
 * job ends in error naming the objects with no good copy left (kept as they are).
 */
__attribute__((warn_unused_result)) int reb_scrub_start(struct reb_rsl *r, const char *provider,
                                                        const char *ns, const char *bck,
                                                        const char *id, char id_out[XA_ID_BYTES]);

#endif
