/*
 * Erasure coding on the target (target/ec.c): what the datapath and the target's services call.
 * Buckets with ec.enabled keep d data + p parity slices (or, below ec.objsize_limit, p full
 * replicas) of every object on other targets picked by HRW; see ec/ec.h for the layout.
 * All calls block on disk and network I/O (bounded by the RPC/stream timeouts) and are
 * thread-safe.
 */
#ifndef AIS_TARGET_EC_H
#define AIS_TARGET_EC_H

#include "common/bmd.h"
#include "ec/ec.h"
#include "rpc/rpc.h"
#include "rpc/stream.h"
#include "storage/storage.h"

#include <stddef.h>
#include <stdint.h>

struct tgt;
struct tgt_ec;

/* The EC service of target t (borrowed for its life). 0 or -ENOMEM. */
__attribute__((warn_unused_result)) int tgt_ec_new(struct tgt *t, struct tgt_ec **out);
/* Aborts and waits for ec-encode jobs, frees. Accepts NULL. */
void tgt_ec_free(struct tgt_ec *e);

/*
 * Protects a stored object (this target owns it): encodes or replicates per p and sends every
 * slice to its holder, returning once all acknowledged a durable write; then records the
 * placement in %mt. 0, or negative errno with msg (cap bytes) naming the failure: -ENOSPC too
 * few targets, a holder's or the stream's error. The object stays stored on failure.
 */
__attribute__((warn_unused_result)) int tgt_ec_put(struct tgt *t, const struct st_bck *b,
                                                   const char *obj, uint64_t digest,
                                                   const struct ais_bprops *p, char *msg,
                                                   size_t cap);
/*
 * Restores the main copy from slices or a replica found on any target and publishes it (its
 * checksum verified against the one recorded at encode time). 0 when the object is stored
 * here now; -ENOENT when no target has a record of it; -ENODATA (too few slices), AIS_EBADCKSUM
 * or negative errno with msg set.
 */
__attribute__((warn_unused_result)) int tgt_ec_restore(struct tgt *t, const struct st_bck *b,
                                                       const char *obj, uint64_t digest, char *msg,
                                                       size_t cap);
/* The object's EC metadata: the local %mt record, else any target's newest. 0 or -ENOENT. */
__attribute__((warn_unused_result)) int tgt_ec_meta(struct tgt *t, const struct st_bck *b,
                                                    const char *obj, uint64_t digest,
                                                    struct ec_meta *out);
/* Removes this target's EC records of names (the ec_delete RPC). 0 or -ENOENT (bucket). */
int tgt_ec_delete_local(struct tgt *t, const struct st_bck *b, const char *const *names, size_t n);
/* Removes the EC records of names here and on every other target (errors are logged). */
void tgt_ec_delete(struct tgt *t, const struct st_bck *b, const char *const *names, size_t n);
/* The SliceReq handler (rpc_ops.slice_read). */
int tgt_ec_slice_read(struct tgt *t, const struct rpc_slice_req *q, struct rpc_slice *out,
                      struct rpc_err *err);
/*
 * Starts an ec-encode job (id, or a random one) over one bucket: every object this target owns
 * whose record does not match the bucket's EC props and the current holders is protected anew
 * (tgt_ec_put). after_reb: first wait for a running rebalance. Supersedes a running one of the
 * bucket. 0 or the xa_job_start error.
 */
__attribute__((warn_unused_result)) int tgt_ec_encode_start(struct tgt_ec *e, const char *provider,
                                                            const char *ns, const char *bck,
                                                            const char *id, int after_reb);
/*
 * reb_env.obj_arrived (ctx: the struct tgt): an object of an EC bucket moved here is queued
 * (bounded; overflow triggers an ec-encode walk later) and re-protected by a worker thread if
 * this target owns it and its record does not match. Never blocks.
 */
void tgt_ec_obj_arrived(void *ctx, const struct st_bck *b, const char *name);
/* Receiver of "ec-slice" and "ec-replica" stream objects (ctx: the struct tgt). */
extern const struct rpc_stream_ops tgt_ec_recv_ops;

#endif
