/*
 * Writes into shards: append of one file to a TAR (AIS PutApndArch: PUT
 * /v1/objects/<b>/<shard>?archpath=NAME with header Ais-Pine = apc.ArchAppend (1, the shard
 * must exist) | apc.ArchAppendIfExist (2, created when missing) | absent (0: a new shard with
 * that one file replaces the object)), and the "archive" job that builds one shard from a list
 * or template of objects (AIS ArchiveBckMsg; the gateway starts it on the shard's owner through
 * rpc_objs_op with op "archive").
 */
#ifndef AIS_TARGET_ARCHW_H
#define AIS_TARGET_ARCHW_H

#include "common/bmd.h"
#include "common/http.h"
#include "common/objref.h"
#include "rpc/rpc.h"

struct tgt;

/*
 * Serves a PUT with archpath (ref and props of the object, already resolved and owned by this
 * target; both are copied). Streams the body into a spool work file, then builds the new shard
 * in a work file (the old bytes up to the end-of-archive blocks, the new member, new end
 * blocks) that replaces the object only if the object is still the one that was read (else it
 * starts over, bounded). Responds exactly once. Blocks on disk I/O (done callback).
 */
void tgt_arch_append(struct tgt *t, struct ais_req *r, const struct ais_objref *ref,
                     const struct ais_bprops *props);

/*
 * rpc_objs_op "archive": a->provider/bck is the source bucket, a->names the source objects,
 * a->dst_* the destination bucket, a->prepend the shard's name, a->flags RPC_ARCHIVE_*,
 * a->job_id the id. Starts the job (kind "archive") and returns: 0, -EINVAL/-EAGAIN/-ENOMEM
 * with err->msg.
 */
int tgt_arch_bck_start(struct tgt *t, const struct rpc_objs_args *a, struct rpc_err *err);

#endif
