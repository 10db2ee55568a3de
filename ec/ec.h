/*
 * Erasure coding core: a Reed-Solomon codec over ISA-L, the slice layout, streaming encode and
 * rebuild drivers, the per-slice metadata record and the HRW choice of slice targets. Pure
 * computation and bounded memory; no files, sockets or cluster maps (the target wires those).
 *
 * Layout (as in AIStore's ec/): an object of obj_size bytes is cut into d data slices of
 * slice_size bytes each; data slice i holds object bytes [i * slice_size, (i + 1) * slice_size)
 * and whatever lies beyond obj_size is zero padding. p parity slices of the same size follow.
 * Codec indices are 0..d-1 for data and d..d+p-1 for parity; the metadata's slice_id is the
 * AIS numbering, index + 1, with 0 meaning the full object or a replica.
 *
 * Any d of the d+p slices rebuild the others. Work is done stripe by stripe: stripe k is bytes
 * [k * chunk, (k + 1) * chunk) of every slice, so a 100 GiB object needs (d + p) chunk buffers.
 *
 * ISA-L owns the symbols ec_init_tables and ec_encode_data*: names here never start with
 * "ec_init_" or "ec_encode_data".
 */
#ifndef AIS_EC_EC_H
#define AIS_EC_EC_H

#include "common/limits.h"
#include "storage/storage.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Slice counts AIS accepts for ec.data_slices and ec.parity_slices (cmn.Min/MaxSliceCount). */
#define EC_DATA_SLICES_MAX 32
#define EC_PARITY_SLICES_MAX 32
#define EC_SLICES_MAX (EC_DATA_SLICES_MAX + EC_PARITY_SLICES_MAX)
/* Largest object the codec and the metadata accept: AIS's default max monolithic size (1 TiB). */
#define EC_OBJ_BYTES_MAX (1ull << 40)
/*
 * slice_size is a multiple of this (the AVX-512 vector and the cache line): every chunk of a
 * slice is whole vectors for ISA-L, with no partial tail, and slices stay cache-aligned in
 * buffers. Costs at most 63 bytes of padding per slice.
 */
#define EC_SLICE_ALIGN_BYTES 64
/*
 * Default stripe chunk per slice for the stream drivers (a multiple of EC_SLICE_ALIGN_BYTES):
 * (d + p) chunks per stream in flight, 1.5 MiB for 4+2 and 16 MiB for 32+32; ec_bench finds
 * 64 KiB..1 MiB within 5% of each other. The maximum is the RPC stream frame, so one chunk can
 * be one frame.
 */
#define EC_CHUNK_BYTES (256u << 10)
#define EC_CHUNK_BYTES_MAX AIS_STREAM_CHUNK_BYTES_MAX

/* Slice index sets are uint64_t masks: bit i is codec index i (d + p <= 64). */
static_assert(EC_SLICES_MAX <= 64, "slice masks are 64-bit");

struct ec_codec;
struct ec_rebuild;

/* ------------------------------------------------------------------------------------------ */
/* Layout                                                                                       */

/*
 * Bytes of each slice for an object of obj_size split into d data slices: ceil(obj_size / d)
 * rounded up to EC_SLICE_ALIGN_BYTES; 0 for an empty object. Requires 1 <= d <=
 * EC_DATA_SLICES_MAX and obj_size <= EC_OBJ_BYTES_MAX (asserted). Pure.
 */
uint64_t ec_slice_size(uint64_t obj_size, unsigned d);
/*
 * Object bytes held by data slice i (i < d): they are [i * slice_size, i * slice_size + n) of
 * the object and the slice's first n bytes; the remaining slice_size - n bytes are zero. Pure.
 */
uint64_t ec_slice_obj_bytes(uint64_t obj_size, uint64_t slice_size, unsigned i);

/* ec.objsize_limit: -1 replicates every object; AIS's default when the section is empty. */
#define EC_OBJSIZE_ALWAYS_COPY (-1)
#define EC_OBJSIZE_LIMIT_DFLT (256 << 10)
/*
 * 1 when an object of obj_size is protected by p full replicas instead of slices (AIS
 * IsECCopy): obj_size < objsize_limit, or objsize_limit == EC_OBJSIZE_ALWAYS_COPY; a limit of 0
 * encodes every object. Pure.
 */
bool ec_is_copy(uint64_t obj_size, int64_t objsize_limit);
/*
 * Targets a bucket with d, p and objsize_limit needs: the main one plus p (always-copy) or
 * d + p others. Pure.
 */
unsigned ec_targets_required(unsigned d, unsigned p, int64_t objsize_limit);

/* ------------------------------------------------------------------------------------------ */
/* Codec                                                                                        */

/*
 * New codec for d data and p parity slices (1..EC_DATA_SLICES_MAX, 1..EC_PARITY_SLICES_MAX):
 * systematic generator [I; Cauchy] (every d x d sub-matrix invertible) and its ISA-L tables.
 * 0 and *out, -EINVAL (d or p out of range) or -ENOMEM. Immutable once made: every function
 * taking a const codec is thread-safe on a shared one.
 */
__attribute__((warn_unused_result)) int ec_codec_new(unsigned d, unsigned p, struct ec_codec **out);
/* Frees. Accepts NULL. Rebuild plans made from it must be freed first. */
void ec_codec_free(struct ec_codec *c);
unsigned ec_codec_data(const struct ec_codec *c);
unsigned ec_codec_parity(const struct ec_codec *c);

/*
 * Encodes one stripe: data[0..d-1] -> parity[0..p-1], each len bytes (any len; 0 does nothing).
 * Buffers are the caller's and must not overlap. Never fails.
 */
void ec_codec_encode(const struct ec_codec *c, size_t len, const uint8_t *const *data,
                     uint8_t *const *parity);

/*
 * Plan to rebuild the slices in `want` from those in `have` (codec index masks; want must be
 * non-empty, disjoint from have, and inside 0..d+p-1). Picks the d lowest-indexed slices of
 * have as sources (data first: losing only parity is a plain re-encode) and precomputes the
 * tables, so one plan serves every stripe of an object. 0 and *out, -EINVAL (bad masks),
 * -ENODATA (fewer than d slices in have) or -ENOMEM. A plan is immutable: thread-safe.
 */
__attribute__((warn_unused_result)) int ec_rebuild_new(const struct ec_codec *c, uint64_t have,
                                                       uint64_t want, struct ec_rebuild **out);
/* Frees. Accepts NULL. */
void ec_rebuild_free(struct ec_rebuild *r);
/* The d source slices the plan reads, in the order ec_rebuild_run takes them. */
uint64_t ec_rebuild_sources(const struct ec_rebuild *r);
/*
 * Rebuilds one stripe: src[j] is the j-th lowest index of ec_rebuild_sources, out[k] the k-th
 * lowest index of want; all len bytes, caller's buffers, non-overlapping. Never fails.
 */
void ec_rebuild_run(const struct ec_rebuild *r, size_t len, const uint8_t *const *src,
                    uint8_t *const *out);

/* ------------------------------------------------------------------------------------------ */
/* Stream drivers: stripe loops with (d + p) chunk buffers, I/O through callbacks.              */

/* Reads len bytes of the object at offset obj_off into buf (never past its size). 0 or -errno. */
typedef int (*ec_obj_read_fn)(void *ctx, uint64_t obj_off, uint8_t *buf, size_t len);
/* Reads len bytes at offset off of slice idx into buf. 0 or negative errno. */
typedef int (*ec_read_fn)(void *ctx, unsigned idx, uint64_t off, uint8_t *buf, size_t len);
/* Takes len bytes at offset off of slice idx (offsets increase per slice). 0 or negative errno. */
typedef int (*ec_write_fn)(void *ctx, unsigned idx, uint64_t off, const uint8_t *buf, size_t len);

/*
 * Encodes a whole object: for each stripe reads the data slices' real bytes through rd (object
 * offsets; data slice i's chunk at off is object offset i * slice_size + off), zero-pads,
 * computes parity, and hands every slice whose bit is in
 * `emit` to wr (data slices padded to full chunks). chunk_bytes: 0 for EC_CHUNK_BYTES, else a
 * multiple of EC_SLICE_ALIGN_BYTES up to EC_CHUNK_BYTES_MAX. Stops at the first callback
 * error and returns it; else 0, -EINVAL (bad chunk or obj_size) or -ENOMEM. Blocking as the
 * callbacks are; allocates (d + p) * chunk bytes for the call.
 */
__attribute__((warn_unused_result)) int ec_encode_stream(const struct ec_codec *c,
                                                         uint64_t obj_size, size_t chunk_bytes,
                                                         uint64_t emit, ec_obj_read_fn rd,
                                                         ec_write_fn wr, void *ctx);
/*
 * Rebuilds whole slices of slice_size bytes: per stripe reads every source of r through rd
 * (full slice chunks, padding included) and hands each wanted slice to wr. chunk_bytes and
 * returns as ec_encode_stream.
 */
__attribute__((warn_unused_result)) int ec_rebuild_stream(const struct ec_rebuild *r,
                                                          uint64_t slice_size, size_t chunk_bytes,
                                                          ec_read_fn rd, ec_write_fn wr, void *ctx);

/* ------------------------------------------------------------------------------------------ */
/* Slice metadata (AIS ec.Metadata): one record next to every slice or replica.                */

#define EC_META_VERSION 1
/*
 * Packed record: magic "AISE", u16 version, u16 flags, i64 generation, u64 obj_size,
 * u64 slice_size, u8 data, u8 parity, u8 slice_id, u8 zero, six strings (u8 length + bytes:
 * obj_cksum_type, obj_cksum_value, obj_version, slice_cksum_type, slice_cksum_value,
 * full_replica), then XXH64 (seed 0) of everything before it. Integers little-endian.
 */
#define EC_META_BYTES_MAX 512

struct ec_meta {
    int64_t generation; /* ns since the epoch when the object was encoded; > 0 */
    uint64_t obj_size;
    uint64_t slice_size; /* ec_slice_size(obj_size, data), or obj_size for a replica */
    uint8_t data;        /* d */
    uint8_t parity;      /* p */
    uint8_t slice_id;    /* 0: full object or replica; 1..d+p: codec index + 1 */
    bool is_copy;        /* replicated (small object) rather than encoded */
    char obj_cksum_type[ST_CKSUM_TYPE_BYTES];
    char obj_cksum_value[ST_CKSUM_VALUE_BYTES];
    char obj_version[ST_VERSION_BYTES];
    char slice_cksum_type[ST_CKSUM_TYPE_BYTES]; /* of this slice's bytes; "" or "none" if none */
    char slice_cksum_value[ST_CKSUM_VALUE_BYTES];
    char full_replica[AIS_DAEMON_ID_BYTES_MAX + 1]; /* daemon id of the main (full) copy */
};

/*
 * Checks the record's invariants (as ec_meta_unpack does): d, p in range, slice_id <= d + p,
 * slice_size consistent with obj_size (a replica has slice_id 0 and slice_size == obj_size),
 * generation > 0, strings NUL-terminated in their arrays. 0 or -EINVAL. Pure.
 */
__attribute__((warn_unused_result)) int ec_meta_check(const struct ec_meta *m);
/*
 * Packs m into buf (cap bytes). Returns the length written, -EINVAL (ec_meta_check failed) or
 * -ENOSPC (cap too small; EC_META_BYTES_MAX always suffices). Pure.
 */
__attribute__((warn_unused_result)) int ec_meta_pack(const struct ec_meta *m, uint8_t *buf,
                                                     size_t cap);
/*
 * Unpacks exactly len bytes (a record alone, no trailing bytes). 0 and *out, or AIS_EBADMSG
 * for anything else: truncated, trailing bytes, bad magic, checksum, field or invariant;
 * -EPROTO for a well-formed record of another version. Never reads past buf + len. Pure.
 */
__attribute__((warn_unused_result)) int ec_meta_unpack(const uint8_t *buf, size_t len,
                                                       struct ec_meta *out);

/* ------------------------------------------------------------------------------------------ */
/* Placement                                                                                    */

/*
 * The n slice holders of an object: the n highest HRW scores (ais_hrw_mix(node ^ digest),
 * as ais_hrw_pick) among node_digests[0..count-1], which the caller builds without the main
 * owner and without nodes in maintenance; n is d + p for an encoded object, p for a
 * replicated one (ec_is_copy). Writes their indices to out[0..n-1] best first;
 * equal scores go to the later index, as in ais_hrw_pick. 0, -EINVAL (n == 0 or n >
 * EC_SLICES_MAX + 1), or -ENOSPC (count < n: not enough targets). Pure.
 */
__attribute__((warn_unused_result)) int ec_place_pick(const uint64_t *node_digests, size_t count,
                                                      uint64_t digest, size_t n, size_t *out);
/*
 * Keeps slices in place across a membership change. cur[0..n-1] holds the node digest of each
 * slice's holder (slice k on cur[k]); pick[0..n-1] is the new ec_place_pick result as node
 * digests. Slots whose holder is still in pick keep it; each vacated slot takes, in slot order,
 * the best-ranked node of pick that holds nothing. Writes the result to next[0..n-1] (not aliasing
 * cur) and returns how many slots changed holder. Requires distinct entries in pick (asserted).
 * Pure.
 */
size_t ec_place_repair(const uint64_t *cur, const uint64_t *pick, size_t n, uint64_t *next);

#endif
