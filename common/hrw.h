/*
 * Highest-random-weight placement, bit-compatible with AIStore and its Python SDK:
 * digest = XXH64(uname, seed 1103515245); score = xoshiro_mix(node_digest ^ digest).
 */
#ifndef AIS_COMMON_HRW_H
#define AIS_COMMON_HRW_H

#include <stddef.h>
#include <stdint.h>

#define AIS_HRW_SEED 1103515245ull

/* XXH64 of bytes with the HRW seed. Pure. */
uint64_t ais_hrw_digest(const void *data, size_t len);

/* The SplitMix/xoshiro finaliser AIS applies to (node digest ^ object digest). Pure. */
uint64_t ais_hrw_mix(uint64_t x);

/*
 * Index of the highest score among n node digests for object digest `digest`.
 * Ties go to the later index (AIS iterates with >=). Requires n > 0.
 */
size_t ais_hrw_pick(const uint64_t *node_digests, size_t n, uint64_t digest);

/* Most ranked places one call returns (mirror copies, EC slices + the main copy). */
#define AIS_HRW_RANK_MAX 72
/*
 * The k (<= AIS_HRW_RANK_MAX) best of n node digests for `digest`, highest score first, into
 * out[0..min(k,n)); out[0] is ais_hrw_pick's choice (same tie rule: the later index wins).
 * Returns min(k, n). O(n*k).
 */
size_t ais_hrw_rank(const uint64_t *node_digests, size_t n, uint64_t digest, size_t k,
                    uint32_t *out);

/*
 * Writes the object's uname `<provider>/<ns-uname>/<bucket>/<objname>` to out (NUL-terminated).
 * ns is "" for the global namespace (uname "@#"), else "@uuid#name" or "#name".
 * Returns its length, or -ENAMETOOLONG if it does not fit in cap.
 */
int ais_uname(char *out, size_t cap, const char *provider, const char *ns, const char *bck,
              const char *obj);

/*
 * HRW digest of an object: ais_hrw_digest of its uname. 0, or -ENAMETOOLONG when the uname
 * exceeds the name limits.
 */
int ais_obj_digest(const char *provider, const char *ns, const char *bck, const char *obj,
                   uint64_t *out);

#endif
