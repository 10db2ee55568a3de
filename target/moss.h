/*
 * Batch GET (AIS "GetBatch", MOSS): GET /v1/ml/moss[/<bucket>] with a MossReq JSON body
 * (api/apc/ml.go) answered by one designated target with a TAR of the requested objects and
 * archived files, in request order. With "strm" the reply is the plain archive; without it a
 * multipart/mixed reply: part "metadata" (MossResp JSON), then part "archive".
 *
 * The designated target first resolves every entry (obj_read calls over nng to the owners of
 * ais-bucket entries, a HEAD or an archlist at the owner for remote buckets): missing entries fail the request with 404 naming the first of them before any byte is
 * sent, or with "coer" become empty placeholders under __404__/ with err_msg in the metadata.
 * Then the archive streams (a TAR with an exact Content-Length; .tgz, .zip, .tar.lz4 chunked)
 * while entries are fetched ahead (large objects here are read from their files).
 */
#ifndef AIS_TARGET_MOSS_H
#define AIS_TARGET_MOSS_H

#include "common/http.h"
#include "common/limits.h"

#include <stddef.h>
#include <stdint.h>

/* Missing entries' directory in the archive (apc.MossMissingDir). */
#define AIS_MOSS_MISSING_DIR "__404__"

struct tgt;
struct rpc_obj_ref;
struct rpc_obj_piece;

/* GET /v1/ml/moss[/<bucket>] on a target: route handler (ctx = struct tgt). */
void tgt_r_moss(struct ais_req *r, void *ctx);

/*
 * The rpc obj_read op (ObjReadReq, one ref): size, mtime and the requested bytes of an ais
 * object this target holds, or of a file inside it (archpath). Sets out->code (-ENOENT: no
 * such object or archived file).
 */
void tgt_moss_obj_read(struct tgt *t, const struct rpc_obj_ref *q, struct rpc_obj_piece *out);

#endif
