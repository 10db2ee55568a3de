/*
 * EC records a target keeps for objects (api.md §8.1), next to the objects but never listed:
 *   <bucket>/%ec/<objname>  a slice or full replica of an object another target owns; xattr
 *                           user.ais.ec holds the caller's sealed metadata record (opaque here)
 *   <bucket>/%mt/<objname>  the metadata record of an object this target owns (file content)
 * One record of each kind per object per target, on the object's HRW mountpath; reads fall back
 * to every mountpath of the set (a mountpath change moves nothing under %ec or %mt). Writes go
 * through a work file in %wk and a rename, so a reader sees the old record or the new one whole.
 * Destroying the bucket removes them with its directories. Thread-safe; no locks are taken (a
 * record is replaced by rename only).
 */
#ifndef AIS_STORAGE_SLICE_H
#define AIS_STORAGE_SLICE_H

#include "storage/storage.h"

#include <stddef.h>
#include <stdint.h>

#define ST_DIR_EC "%ec"
#define ST_DIR_META "%mt"
#define ST_XATTR_EC "user.ais.ec"
/* Largest metadata record stored (the EC record is at most 512 bytes: ec.h). */
#define ST_EC_META_BYTES_MAX 2048

struct st_slice;

/*
 * Starts writing the %ec record of obj: a work file in %wk of the HRW mountpath. 0 and *out,
 * -ENOENT (the bucket has no directories here), or negative errno.
 */
__attribute__((warn_unused_result)) int st_slice_begin(struct st_mpaths *mp,
                                                       const struct st_bck *bck, const char *obj,
                                                       uint64_t digest, struct st_slice **out);
/* Appends bytes. 0 or negative errno (sticky). */
__attribute__((warn_unused_result)) int st_slice_write(struct st_slice *s, const void *data,
                                                       size_t len);
/*
 * Stores meta (1..ST_EC_META_BYTES_MAX bytes) in the xattr, fsyncs when asked, renames into %ec
 * (replacing an older record) and frees s in every case. 0, -EINVAL (meta size), -ENOENT (the
 * bucket was destroyed meanwhile), -ENOTDIR/-EISDIR (name collides), or negative errno.
 */
__attribute__((warn_unused_result)) int st_slice_finish(struct st_slice *s, const void *meta,
                                                        size_t meta_len, int fsync);
/* Drops a record being written (work file removed) and frees. Accepts NULL. */
void st_slice_abort(struct st_slice *s);
/*
 * Opens the %ec record of obj (HRW mountpath first, then every other one): *fd (O_RDONLY, the
 * caller's), *size its bytes, meta[0..*meta_len) its record. 0, -ENOENT (none, or no readable
 * record), or negative errno.
 */
__attribute__((warn_unused_result)) int st_slice_open(const struct st_mpaths *mp,
                                                      const struct st_bck *bck, const char *obj,
                                                      uint64_t digest, int *fd, uint64_t *size,
                                                      void *meta, size_t cap, size_t *meta_len);
/* Removes obj's %ec and %mt records on every mountpath. 0 when one was removed, else -ENOENT. */
int st_slice_delete(struct st_mpaths *mp, const struct st_bck *bck, const char *obj,
                    uint64_t digest);
/* Writes obj's %mt record (len 1..ST_EC_META_BYTES_MAX) atomically. 0 or as st_slice_finish. */
__attribute__((warn_unused_result)) int st_ecmeta_store(struct st_mpaths *mp,
                                                        const struct st_bck *bck, const char *obj,
                                                        uint64_t digest, const void *meta,
                                                        size_t len, int fsync);
/* Reads obj's %mt record into meta (cap bytes). 0 and *len, -ENOENT, -EMSGSIZE, -errno. */
__attribute__((warn_unused_result)) int st_ecmeta_load(const struct st_mpaths *mp,
                                                       const struct st_bck *bck, const char *obj,
                                                       uint64_t digest, void *meta, size_t cap,
                                                       size_t *len);
/*
 * An anonymous scratch file (O_TMPFILE in %wk of the HRW mountpath for digest): gone when
 * closed, never visible, nothing left by a crash. For encode and rebuild intermediates.
 * 0 and *fd (read-write, the caller's), -ENOENT (no bucket dirs), or negative errno.
 */
__attribute__((warn_unused_result)) int
st_scratch_open(const struct st_mpaths *mp, const struct st_bck *bck, uint64_t digest, int *fd);

#endif
