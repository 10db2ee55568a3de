/*
 * Storage: mountpaths, the open on-disk layout, object files and their metadata.
 *
 * Layout per mountpath (AIS-compatible, readable without us):
 *   <mpath>/@<provider>/[<ns>/]<bucket>/%ob/<objname>   the object, stored as-is
 *   <mpath>/@<provider>/[<ns>/]<bucket>/%wk/<tmpname>   work files of PUTs in flight
 * Object metadata (size, checksum type/value, version, custom md) lives in xattr
 * `user.ais.lom` of the object file; the mountpath root carries `user.ais.daemon_id`.
 *
 * This module never sees HTTP or nng types. All functions are thread-safe unless noted;
 * names passed in are already validated by the caller (common/names.h).
 */
#ifndef AIS_STORAGE_STORAGE_H
#define AIS_STORAGE_STORAGE_H

#include <stddef.h>
#include <stdint.h>

struct st_mpaths;
struct st_put;

/* Bucket identity (borrowed strings). ns is "" for the global namespace. */
struct st_bck {
    const char *provider; /* "ais", "aws", ... */
    const char *ns;       /* "" or "@uuid#name" or "@#name"/"#name" (local: dir "#name") */
    const char *name;
};

#define ST_CKSUM_TYPE_BYTES 16
#define ST_CKSUM_VALUE_BYTES 132 /* sha512 hex + NUL */
#define ST_VERSION_BYTES 32
#define ST_CUSTOM_BYTES 1024

/* Object properties as stored (xattr) plus what the filesystem knows. */
struct st_obj_md {
    uint64_t size;
    char cksum_type[ST_CKSUM_TYPE_BYTES];   /* "xxhash", "none", "md5", ... */
    char cksum_value[ST_CKSUM_VALUE_BYTES]; /* lowercase hex, "" if none */
    char version[ST_VERSION_BYTES];         /* decimal, starts at "1" */
    char custom[ST_CUSTOM_BYTES];           /* "k=v,k2=v2" or "" */
    int64_t atime_ns;
    int64_t mtime_ns;
    uint32_t mpath_idx; /* which mountpath holds it */
};

/*
 * Opens the mountpaths (creating missing dirs). Each root gets xattr user.ais.daemon_id = id;
 * a root owned by another id fails with -EEXIST. Leftover work files (%wk) from a crash are
 * removed. Paths are cleaned (no trailing '/') and their HRW digests computed from the cleaned
 * string. Returns 0 and *out (free with st_mpaths_free), -EINVAL (n == 0 or > AIS_MPATHS_MAX),
 * or negative errno.
 * Also -EINVAL for an empty or over-long (> AIS_DAEMON_ID_BYTES_MAX) id or two paths that clean
 * to the same string; -ENOTDIR when a root exists but is not a directory.
 */
__attribute__((warn_unused_result)) int st_mpaths_open(const char *const *paths, size_t n,
                                                       const char *daemon_id,
                                                       struct st_mpaths **out);
void st_mpaths_free(struct st_mpaths *mp);
size_t st_mpaths_count(const struct st_mpaths *mp);
/* Cleaned path of mountpath i (valid while mp lives). */
const char *st_mpaths_path(const struct st_mpaths *mp, size_t i);
/* HRW: mountpath index for an object digest (common/hrw.h ais_hrw_digest of the uname). */
size_t st_mpaths_pick(const struct st_mpaths *mp, uint64_t digest);
/* Capacity of mountpath i from statvfs; 0 or negative errno. */
int st_mpaths_capacity(const struct st_mpaths *mp, size_t i, uint64_t *total_bytes,
                       uint64_t *avail_bytes);

/* Creates <bucket>/%ob and %wk on every mountpath. Idempotent. */
__attribute__((warn_unused_result)) int st_bck_create(struct st_mpaths *mp,
                                                      const struct st_bck *bck);
/*
 * Removes the bucket's directories from every mountpath (moved aside first, so a concurrent
 * GET sees 404 at once). Missing bucket dirs are not an error.
 */
__attribute__((warn_unused_result)) int st_bck_destroy(struct st_mpaths *mp,
                                                       const struct st_bck *bck);

/* Options of one PUT. */
struct st_put_opts {
    const char *cksum_type;     /* checksum to compute and store: "xxhash" (default if NULL), "none", "md5", "sha256", "sha512", "crc32c", "xxhash2" */
    const char *expect_type;    /* client-supplied checksum to verify, or NULL */
    const char *expect_value;   /* hex, compared case-insensitively */
    int fsync;                  /* fsync the file (and dir) before it becomes visible */
    int versioning;             /* bump version from the previous object's, else "1" */
                                /* (off: always "1"; on: prev+1, or "1" if none/unreadable) */
    const char *custom;         /* "k=v,..." or NULL */
};

/*
 * Starts a PUT of object `obj` (uname digest `digest` picks the mountpath): opens a work file
 * under %wk. Nothing is visible under %ob until st_put_finish succeeds.
 * Returns 0 and *out, -ENOENT if the bucket dir does not exist, -EINVAL for an unknown cksum
 * type, or negative errno.
 * opts may be NULL (defaults). Nothing is verified when expect_type or expect_value is NULL or
 * expect_type is "none"; an unknown expect_type or a custom string of ST_CUSTOM_BYTES or more
 * is -EINVAL.
 */
__attribute__((warn_unused_result)) int st_put_begin(struct st_mpaths *mp, const struct st_bck *bck,
                                                     const char *obj, uint64_t digest,
                                                     const struct st_put_opts *opts,
                                                     struct st_put **out);
/* Appends bytes, updating checksums on the fly. 0 or negative errno (-ENOSPC...). */
__attribute__((warn_unused_result)) int st_put_write(struct st_put *put, const void *data,
                                                     size_t len);
/*
 * Verifies the expected checksum (AIS_EBADCKSUM on mismatch), fsyncs per opts, renames the
 * work file into %ob (creating parent dirs) and writes the xattr. Frees put in every case; on
 * any error the work file is removed and no object (or the previous one) remains.
 * -ENOTDIR / -EISDIR when the name collides with an existing object or directory.
 * md_out (may be NULL) gets the stored properties.
 */
__attribute__((warn_unused_result)) int st_put_finish(struct st_put *put, struct st_obj_md *md_out);
/* Drops a PUT in progress: removes the work file and frees put. Accepts NULL. */
void st_put_abort(struct st_put *put);

/*
 * Opens the object for reading. *fd_out is O_RDONLY|O_CLOEXEC, owned by the caller.
 * Returns 0, -ENOENT (no object, or the name is a directory), or negative errno.
 */
__attribute__((warn_unused_result)) int st_obj_open(const struct st_mpaths *mp,
                                                    const struct st_bck *bck, const char *obj,
                                                    uint64_t digest, int *fd_out,
                                                    struct st_obj_md *md_out);
/* Like st_obj_open without keeping a descriptor. */
__attribute__((warn_unused_result)) int st_obj_stat(const struct st_mpaths *mp,
                                                    const struct st_bck *bck, const char *obj,
                                                    uint64_t digest, struct st_obj_md *md_out);
/*
 * Re-reads the whole file from fd (pread, does not move the offset) and compares the checksum
 * with md. 0, AIS_EBADCKSUM, or negative errno. Objects with type "none" always pass.
 */
__attribute__((warn_unused_result)) int st_obj_validate(int fd, const struct st_obj_md *md);
/* Removes the object and prunes now-empty parent dirs below %ob. 0 or -ENOENT. */
__attribute__((warn_unused_result)) int st_obj_delete(struct st_mpaths *mp,
                                                      const struct st_bck *bck, const char *obj,
                                                      uint64_t digest);

/* One listed object: name relative to %ob, and its metadata when requested. */
typedef int (*st_list_fn)(void *ctx, const char *name, const struct st_obj_md *md);

/*
 * Lists the bucket across all mountpaths in lexicographic (strcmp) order: names that start
 * with `prefix` (may be "") and compare greater than `after` (may be ""), at most `limit`
 * of them (memory bounded by limit, not bucket size). Calls fn for each in order; fn returning
 * non-zero stops and that value is returned. with_md=0 passes md=NULL (no xattr reads).
 * *more_out (may be NULL) is set to 1 if entries beyond the limit exist.
 * Returns 0, -ENOENT when the bucket has no directory on any mountpath, or negative errno.
 * limit must be 1..AIS_LIST_PAGE_MAX (else -EINVAL). A stray copy of one name on two
 * mountpaths is emitted once but may take two slots, so a page can hold fewer than `limit`
 * names while *more_out is 1: page on with after = the last name until *more_out is 0.
 */
__attribute__((warn_unused_result)) int st_bck_list(const struct st_mpaths *mp,
                                                    const struct st_bck *bck, const char *prefix,
                                                    const char *after, size_t limit, int with_md,
                                                    st_list_fn fn, void *ctx, int *more_out);

/* Streaming checksums (also used by the target for GET-side validation). */
struct st_cksum;
/* 0, or -EINVAL for an unknown type. "none" is valid and yields "". */
__attribute__((warn_unused_result)) int st_cksum_new(const char *type, struct st_cksum **out);
void st_cksum_update(struct st_cksum *c, const void *data, size_t len);
/* Writes lowercase hex (XXH64: 16 chars, big-endian digest) and frees c. */
void st_cksum_final(struct st_cksum *c, char out[ST_CKSUM_VALUE_BYTES]);
void st_cksum_free(struct st_cksum *c);

#endif
