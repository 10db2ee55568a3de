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
    uint64_t ino;       /* inode: with size and mtime, identifies the file md was read from */
    uint32_t mpath_idx; /* which mountpath holds it */
    uint32_t copies;    /* st_put_finish: copies published (mirroring); 0 elsewhere */
};

/*
 * Opens the mountpaths (creating missing dirs). Each root gets xattr user.ais.daemon_id = id;
 * a root owned by another id fails with -EEXIST. Leftover work files (%wk) from a crash are
 * removed; leftover trash (<root>/.trash) is removed by the background remover thread this
 * starts (one per set; st_trash_wait tells when it is done). Paths are cleaned (no trailing '/')
 * and their HRW digests computed from the cleaned string. Returns 0 and *out (free with
 * st_mpaths_free), -EINVAL (n == 0 or > AIS_MPATHS_MAX), or negative errno. Also -EINVAL for an
 * empty or over-long (> AIS_DAEMON_ID_BYTES_MAX) id or two paths that clean to the same string;
 * -ENOTDIR when a root exists but is not a directory.
 */
__attribute__((warn_unused_result)) int
st_mpaths_open(const char *const *paths, size_t n, const char *daemon_id, struct st_mpaths **out);
/*
 * Mountpath states. Available ones take part in HRW placement; disabled ones keep their files
 * (still read, and emptied by a resilver) but get no new objects; a detaching one is disabled
 * and dropped from the set once a resilver moved everything off it (st_mpaths_drop).
 */
enum st_mpath_state {
    ST_MPATH_NONE = 0, /* free slot */
    ST_MPATH_AVAIL,
    ST_MPATH_DISABLED,
    ST_MPATH_DETACHING,
};

/* Options of st_mpaths_open_opts (all zero = st_mpaths_open). */
struct st_mpaths_opts {
    const uint8_t *states; /* per path: ST_MPATH_AVAIL/DISABLED/DETACHING; NULL = all available */
    int no_create;         /* a missing root is not created (a restart: its disk may be gone) */
    int tolerate;          /* a root that cannot be used starts disabled (logged with the reason)
                            * instead of failing the open; at least one must be usable */
};
/*
 * st_mpaths_open with options. Also -ENODEV when no mountpath ends up available. A path that
 * fails under `tolerate` keeps its slot as ST_MPATH_DISABLED (or DETACHING if asked).
 */
__attribute__((warn_unused_result)) int st_mpaths_open_opts(const char *const *paths, size_t n,
                                                            const char *daemon_id,
                                                            const struct st_mpaths_opts *o,
                                                            struct st_mpaths **out);
/* Stops the trash remover (joins it), then frees. Accepts NULL. */
void st_mpaths_free(struct st_mpaths *mp);
/* List walks started on mp so far (st_list_iter_open and st_bck_list each count one). */
uint64_t st_mpaths_list_walks(const struct st_mpaths *mp);
/*
 * Slots: a mountpath keeps its slot (index) from open/attach until it is dropped, so the slots
 * in use may have gaps after a detach. st_mpaths_count is one past the highest slot in use.
 */
size_t st_mpaths_count(const struct st_mpaths *mp);
/* Cleaned path of slot i, or NULL when the slot is free (valid while mp lives). */
const char *st_mpaths_path(const struct st_mpaths *mp, size_t i);
/* enum st_mpath_state of slot i (ST_MPATH_NONE for a free or out-of-range slot). */
int st_mpaths_state(const struct st_mpaths *mp, size_t i);
/* Slot of the mountpath with this path (cleaned first), or -ENOENT. */
int st_mpaths_find(const struct st_mpaths *mp, const char *path);
/* Bumped by every change of the set (0 after open). */
uint64_t st_mpaths_gen(const struct st_mpaths *mp);
/*
 * HRW: slot of the available mountpath for an object digest (common/hrw.h ais_hrw_digest of
 * the uname), from one consistent set.
 */
size_t st_mpaths_pick(const struct st_mpaths *mp, uint64_t digest);
/*
 * Mirroring: the slots of an object's n copies are the first n available mountpaths in HRW
 * order (the main copy on st_mpaths_pick's slot first). Writes min(n, available) slots to out
 * and returns that count.
 */
size_t st_mpaths_rank(const struct st_mpaths *mp, uint64_t digest, size_t n, uint32_t *out);
/* Ends a read counted by st_obj_open_read on slot (its md.mpath_idx). Any thread. */
void st_mpaths_read_end(const struct st_mpaths *mp, uint32_t slot);
/* Capacity of slot i from statvfs; 0 or negative errno (-ENOENT for a free slot). */
int st_mpaths_capacity(const struct st_mpaths *mp, size_t i, uint64_t *total_bytes,
                       uint64_t *avail_bytes);

/*
 * Run-time changes, serialised among themselves; readers keep using the set they hold and see
 * the new one on their next call (never a torn set). Each returns 0 when the set changed and
 * 1 when it already was as asked; the caller then runs a resilver.
 * attach: path (cleaned) must be an existing directory; it is claimed for the daemon id
 * (-EEXIST if another daemon owns it), cleaned of work files, and added available (enable=1)
 * or disabled. -EALREADY when attached already, -EBUSY while it is detaching, -ENOSPC when
 * AIS_MPATHS_MAX are attached or AIS_MPATH_NAMES_MAX distinct paths were seen by this handle,
 * -ENOENT/-ENOTDIR/-EACCES from the filesystem. *slot_out (may be NULL) gets its slot.
 */
__attribute__((warn_unused_result)) int st_mpaths_attach(struct st_mpaths *mp, const char *path,
                                                         int enable, size_t *slot_out);
/* Makes a disabled mountpath available again (re-checks its root). -ENOENT, -EBUSY (detaching). */
__attribute__((warn_unused_result)) int st_mpaths_enable(struct st_mpaths *mp, const char *path);
/* Takes a mountpath out of placement. -ENOENT, -EBUSY (the last available one, or detaching). */
__attribute__((warn_unused_result)) int st_mpaths_disable(struct st_mpaths *mp, const char *path);
/* Marks a mountpath detaching (as disabled; dropped by st_mpaths_drop). -ENOENT, -EBUSY (last). */
__attribute__((warn_unused_result)) int st_mpaths_detach(struct st_mpaths *mp, const char *path);
/* Drops a detaching slot from the set (the resilver emptied it). 0 or -EINVAL (not detaching). */
__attribute__((warn_unused_result)) int st_mpaths_drop(struct st_mpaths *mp, size_t slot);
/*
 * Waits up to timeout_ms until no PUT that started under an earlier set is in flight (each PUT
 * holds its set from begin to finish), so none can still land on a mountpath that left the
 * placement. 0 or -ETIMEDOUT. Polls; any thread.
 */
__attribute__((warn_unused_result)) int st_mpaths_drain(const struct st_mpaths *mp, int timeout_ms);

/*
 * Resilver step for one object, under its exclusive lock: finds every copy on the mountpaths of
 * the set, keeps the newest (by mtime; the one on the HRW mountpath on a tie), moves it to the
 * HRW mountpath (rename(2) on one filesystem, else copy + fsync + xattr + rename) and removes
 * the others. 1 when something moved or was removed, 0 when already in place or gone, negative
 * errno (-ENOENT: the bucket has no %ob on the HRW mountpath). *bytes (may be NULL) gets the
 * size moved.
 */
__attribute__((warn_unused_result)) int st_obj_relocate(struct st_mpaths *mp,
                                                        const struct st_bck *bck, const char *obj,
                                                        uint64_t digest, uint64_t *bytes);
/* 1 when slot i has no object of bck (or no %ob for it), 0 when it has one, negative errno. */
__attribute__((warn_unused_result)) int st_mpaths_slot_empty(const struct st_mpaths *mp, size_t i,
                                                             const struct st_bck *bck);

/* Creates <bucket>/%ob and %wk on every available mountpath. Idempotent. */
__attribute__((warn_unused_result)) int st_bck_create(struct st_mpaths *mp,
                                                      const struct st_bck *bck);
/*
 * Removes the bucket's directories from every mountpath: each is renamed into the mountpath's
 * trash (a concurrent GET sees 404 at once, a PUT in flight fails its finish with -ENOENT) and
 * the background remover deletes it later, so this never walks a tree and returns quickly.
 * Missing bucket dirs are not an error. Trash left by a crash is removed after st_mpaths_open.
 */
__attribute__((warn_unused_result)) int st_bck_destroy(struct st_mpaths *mp,
                                                       const struct st_bck *bck);
/*
 * Waits (up to timeout_ms) for the remover to finish a pass that started after every destroy
 * so far. 0 when every mountpath's trash is then empty, -ENOTEMPTY when something could not be
 * removed, -ETIMEDOUT. For tests and orderly shutdown; thread-safe.
 */
__attribute__((warn_unused_result)) int st_trash_wait(const struct st_mpaths *mp, int timeout_ms);

/*
 * Object locks, keyed by the object's name digest (the same digest that picks its mountpath).
 * st_obj_open/st_obj_stat take the shared lock, st_put_finish/st_obj_delete/st_obj_delete_if
 * the exclusive one, each internally and only for their own short section; these calls are for
 * services that must hold an object still across several steps (rebalance moving a copy).
 * A thread holds at most one object lock and must not call the st_obj_* / st_put_finish
 * functions above for the same digest while holding it (self-deadlock). Never fail.
 */
void st_obj_lock_rd(const struct st_mpaths *mp, uint64_t digest);
void st_obj_lock_wr(const struct st_mpaths *mp, uint64_t digest);
/* 0 when taken, -EBUSY when someone holds the stripe. */
__attribute__((warn_unused_result)) int st_obj_trylock_wr(const struct st_mpaths *mp,
                                                          uint64_t digest);
void st_obj_unlock(const struct st_mpaths *mp, uint64_t digest);

/* Options of one PUT. */
struct st_put_opts {
    const char *cksum_type;   /* checksum to compute and store: "xxhash" (default if NULL), "none",
                                 "md5", "sha256", "sha512", "crc32c", "xxhash2" */
    const char *expect_type;  /* client-supplied checksum to verify, or NULL */
    const char *expect_value; /* hex, compared case-insensitively */
    int fsync;                /* fsync the file (and dir) before it becomes visible */
    int versioning;           /* bump version from the previous object's, else "1" */
                              /* (off: always "1"; on: prev+1, or "1" if none/unreadable) */
    const char *custom;       /* "k=v,..." or NULL */
    /* Objects moved between targets (rebalance, get from neighbor) keep their identity: */
    const char *version; /* store this version as is (NULL: computed as above) */
    int64_t mtime_ns;    /* store this mtime (and atime) instead of now (0: now) */
    int keep_newer;      /* with mtime_ns: if an object with mtime >= mtime_ns exists at
                          * finish (checked under the exclusive lock), keep it and fail
                          * with -EEXIST (nothing changes) */
    unsigned copies;     /* n-way mirror (0 or 1: one copy): st_put_finish also writes the
                          * copies on the next n-1 HRW mountpaths and publishes them with the
                          * main one under the same lock; md_out->copies tells how many made it */
    /* Read-modify-write (append to a shard): checked at finish under the exclusive lock. */
    const struct st_obj_md *if_match; /* the object in place must still be the file this md
                                       * was read from (st_md_same_file), else -ESTALE */
    int if_absent;                    /* no object may be in place, else -ESTALE */
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
 * Verifies the expected checksum (AIS_EBADCKSUM on mismatch), fsyncs per opts, writes the
 * xattr and renames the work file into %ob (creating parent dirs below %ob, never %ob itself).
 * Frees put in every case; on any error the work file is removed and no object (or the
 * previous one) remains. The version read-modify-write and the rename run under the object's
 * exclusive lock. -ENOTDIR / -EISDIR when the name collides with an existing object or
 * directory; -ENOENT when the bucket was destroyed while the PUT was in flight; -ESTALE when
 * opts->if_match or opts->if_absent did not hold (nothing changed).
 * md_out (may be NULL) gets the stored properties.
 */
__attribute__((warn_unused_result)) int st_put_finish(struct st_put *put, struct st_obj_md *md_out);
/*
 * The work file's descriptor, valid until st_put_finish/st_put_abort (the caller must not close
 * it; dup it to read on after the PUT ended: the file stays readable once published). For
 * readers that stream an object still being written, and uploads of the work file.
 */
int st_put_fd(const struct st_put *put);
/* Replaces the custom metadata the object will be published with. 0 or -EINVAL (too long). */
__attribute__((warn_unused_result)) int st_put_set_custom(struct st_put *put, const char *custom);
/* Drops a PUT in progress: removes the work file and frees put. Accepts NULL. */
void st_put_abort(struct st_put *put);

/*
 * Opens the object for reading. *fd_out is O_RDONLY|O_CLOEXEC, owned by the caller.
 * Looks on the HRW mountpath first; when the object is not there (a mountpath change moved its
 * HRW slot and the resilver has not reached it yet), on every other mountpath of the set
 * (disabled and detaching ones included) and opens the newest copy by mtime: no miss while
 * objects move. md_out->mpath_idx tells which slot served it.
 * Returns 0, -ENOENT (no object, or the name is a directory), or negative errno.
 */
__attribute__((warn_unused_result)) int st_obj_open(const struct st_mpaths *mp,
                                                    const struct st_bck *bck, const char *obj,
                                                    uint64_t digest, int *fd_out,
                                                    struct st_obj_md *md_out);
/*
 * st_obj_open for a read that needs only the object's bytes and identity: *size and *mtime_ns
 * from fstat, the metadata xattr is not read (one syscall less per object: batch GET).
 */
__attribute__((warn_unused_result)) int st_obj_open_bytes(const struct st_mpaths *mp,
                                                          const struct st_bck *bck, const char *obj,
                                                          uint64_t digest, int *fd_out,
                                                          uint64_t *size, int64_t *mtime_ns);
/*
 * st_obj_open for serving a GET of an object with `copies` mirror copies (0/1: as st_obj_open):
 * reads from the copy slot with the fewest reads in flight (the main slot on a tie), but only a
 * copy whose size and mtime match the main one (else the main one is served); a missing main
 * copy is served from a copy. The read is counted on md_out->mpath_idx until the caller calls
 * st_mpaths_read_end for it (only on success).
 */
__attribute__((warn_unused_result)) int st_obj_open_read(const struct st_mpaths *mp,
                                                         const struct st_bck *bck, const char *obj,
                                                         uint64_t digest, unsigned copies,
                                                         int *fd_out, struct st_obj_md *md_out);
/*
 * The slots holding an up-to-date copy (same size and mtime as the main copy, or as the newest
 * one when the main copy is missing), main slot first; at most cap. Count (0: no object) or
 * negative errno.
 */
__attribute__((warn_unused_result)) int st_obj_copies(const struct st_mpaths *mp,
                                                      const struct st_bck *bck, const char *obj,
                                                      uint64_t digest, uint32_t *slots, size_t cap);
/*
 * Puts an object's copies where they belong, under its exclusive lock: the newest copy found on
 * any slot (by mtime; the better-ranked slot on a tie) becomes the source; the first `copies`
 * HRW slots get an identical copy (a rename when the source sits elsewhere, else a copy via a
 * work file with the LOM xattr and times), and copies on every other slot are removed. The
 * engine of resilver (copies = the bucket's), make-n-copies and repair after a bad copy was
 * removed. 1 when something changed, 0 when all was in place or there is no object, negative
 * errno. *bytes (may be NULL) gets the bytes moved or copied.
 */
__attribute__((warn_unused_result)) int st_obj_mirror(struct st_mpaths *mp,
                                                      const struct st_bck *bck, const char *obj,
                                                      uint64_t digest, unsigned copies,
                                                      uint64_t *bytes);
/* What st_obj_scrub found and did for one object. */
struct st_scrub_res {
    uint32_t copies;   /* copies found (any slot) */
    uint32_t bad;      /* of them with a wrong checksum or unreadable */
    uint32_t restored; /* copies written back (st_obj_mirror) */
    int lost;          /* every copy was bad: nothing could be repaired (all kept) */
    uint64_t bytes;    /* bytes read to verify */
};
/*
 * Bit-rot check of one object: reads every copy on every slot and verifies its checksum; bad
 * copies are removed (each only if still the file that was checked) when a good one exists,
 * then st_obj_mirror restores `copies` good ones. When none is good nothing is removed and
 * res->lost is set. 0 (also for a vanished object) or negative errno.
 */
__attribute__((warn_unused_result)) int st_obj_scrub(struct st_mpaths *mp, const struct st_bck *bck,
                                                     const char *obj, uint64_t digest,
                                                     unsigned copies, struct st_scrub_res *res);
/* Like st_obj_open without keeping a descriptor. */
__attribute__((warn_unused_result)) int st_obj_stat(const struct st_mpaths *mp,
                                                    const struct st_bck *bck, const char *obj,
                                                    uint64_t digest, struct st_obj_md *md_out);
/*
 * Re-reads the whole file from fd (pread, does not move the offset) and compares the checksum
 * with md. 0, AIS_EBADCKSUM, or negative errno. Objects with type "none" always pass.
 */
__attribute__((warn_unused_result)) int st_obj_validate(int fd, const struct st_obj_md *md);
/* Removes the object (every copy, on every mountpath of the set) and prunes now-empty parent
 * dirs below %ob. 0 or -ENOENT. */
__attribute__((warn_unused_result)) int
st_obj_delete(struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest);
/*
 * Like st_obj_delete, but only the copy on slot md->mpath_idx and only if the name there still
 * points at the file md was read from (same inode, size and mtime), checked under the lock: the
 * repair after a bad checksum, which must not remove a newer PUT. 0, -ENOENT, -ESTALE (replaced
 * meanwhile), negative errno.
 */
__attribute__((warn_unused_result)) int st_obj_delete_if(struct st_mpaths *mp,
                                                         const struct st_bck *bck, const char *obj,
                                                         uint64_t digest,
                                                         const struct st_obj_md *md);

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

/*
 * Resumable listing: an iterator walks the bucket once, page after page, merging all
 * mountpaths in strcmp order. Each mountpath is walked depth-first with every directory read,
 * sorted (a directory sorts as its name plus '/', which makes depth-first order strcmp order)
 * and descended lazily, at most AIS_LIST_DIR_CHUNK_MAX names of one directory at a time, so
 * memory is bounded by that chunk times the depth plus the last page, never the bucket size.
 * No descriptor stays open between calls. An iterator is used by one thread at a time.
 */
struct st_list_iter;
/*
 * Opens an iterator over names starting with prefix (may be "" or NULL); with_md loads each
 * name's metadata when it is emitted. Counts one walk. 0 and *out, -ENOENT when the bucket has
 * no directory on any mountpath, -ENOMEM. Borrowed strings are copied.
 */
__attribute__((warn_unused_result)) int st_list_iter_open(const struct st_mpaths *mp,
                                                          const struct st_bck *bck,
                                                          const char *prefix, int with_md,
                                                          struct st_list_iter **out);
/*
 * Positions the iterator so the next page starts after `after` (names <= after are skipped).
 * On a fresh iterator this is a seek (directories wholly before `after` are never read). On a
 * used one, `after` must not precede the start of the last page (names of the last page after
 * `after` are replayed from memory, so a merger that consumed only part of our page loses
 * nothing): else -ERANGE. 0 on success.
 */
__attribute__((warn_unused_result)) int st_list_iter_seek(struct st_list_iter *it,
                                                          const char *after);
/*
 * Calls fn for up to limit (1..AIS_LIST_PAGE_MAX, else -EINVAL) next names in order; md is
 * NULL unless with_md. fn returning non-zero stops and that value is returned (the page is
 * then incomplete: close the iterator). *more_out (may be NULL) is 1 when names remain.
 * A name on two mountpaths (stray copy) is emitted once. Names that vanish before their
 * metadata is read are skipped. 0 or negative errno.
 */
__attribute__((warn_unused_result)) int st_list_iter_next_page(struct st_list_iter *it,
                                                               size_t limit, st_list_fn fn,
                                                               void *ctx, int *more_out);
/* The last name emitted so far ("" before the first page). Valid until the next call. */
const char *st_list_iter_last(const struct st_list_iter *it);
/* 1 if it was opened for this bucket, prefix and with_md. */
int st_list_iter_matches(const struct st_list_iter *it, const struct st_bck *bck,
                         const char *prefix, int with_md);
void st_list_iter_close(struct st_list_iter *it);

/* Streaming checksums (also used by the target for GET-side validation). */
struct st_cksum;
/* 0, or -EINVAL for an unknown type. "none" is valid and yields "". */
__attribute__((warn_unused_result)) int st_cksum_new(const char *type, struct st_cksum **out);
void st_cksum_update(struct st_cksum *c, const void *data, size_t len);
/* Writes lowercase hex (XXH64: 16 chars, big-endian digest) and frees c. */
void st_cksum_final(struct st_cksum *c, char out[ST_CKSUM_VALUE_BYTES]);
void st_cksum_free(struct st_cksum *c);

#endif
