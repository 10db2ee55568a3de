/*
 * Storage internals shared by the storage/ .c files only: the mountpath set, path building, the LOM
 * (object metadata xattr) codec and small file helpers.
 */
#ifndef AIS_STORAGE_STORAGE_INT_H
#define AIS_STORAGE_STORAGE_INT_H

#include "common/limits.h"
#include "storage/storage.h"

#include <stddef.h>
#include <stdint.h>

#define ST_XATTR_LOM "user.ais.lom"
#define ST_XATTR_DAEMON_ID "user.ais.daemon_id"
#define ST_DIR_OBJ "%ob"
#define ST_DIR_WORK "%wk"
/* Destroyed buckets are renamed here (same filesystem) before removal. */
#define ST_DIR_TRASH ".trash"
/* rename() into %ob retried when a concurrent delete pruned a parent we just created. */
#define ST_PUT_RENAME_TRIES_MAX 16
/* Work-file names are unique per process; O_EXCL retries cover crash leftovers. */
#define ST_WORK_OPEN_TRIES_MAX 8

struct st_locks;
struct st_trash;

/*
 * One published mountpath set: immutable once current, swapped by pointer (mpath.c). Slots are
 * stable: a mountpath keeps its slot from attach to drop, and md.mpath_idx is a slot. Paths
 * point into the owner's intern table, so they outlive every set.
 */
struct st_mpset {
    uint64_t gen;                          /* bumped by every change */
    int refs;                              /* atomic; the current set holds one for its owner */
    int retired;                           /* replaced: counted in st_mpcur.retired until freed */
    size_t nslots;                         /* slots [0, nslots) may be in use */
    const char *paths[AIS_MPATHS_MAX];     /* by slot; NULL = free */
    uint64_t slot_digests[AIS_MPATHS_MAX]; /* by slot: HRW digest of the path */
    uint8_t state[AIS_MPATHS_MAX];         /* by slot: enum st_mpath_state */
    size_t navail;
    uint32_t avail[AIS_MPATHS_MAX];   /* slot of each available mountpath */
    uint64_t digests[AIS_MPATHS_MAX]; /* of avail[], contiguous for ais_hrw_pick */
};

/* The mutable holder of the current set (mpath.c). */
struct st_mpcur;

/*
 * The handle is immutable after st_mpaths_open; the current set, lock table, trash remover and
 * counters it points to synchronise themselves.
 */
struct st_mpaths {
    struct st_mpcur *cur;   /* current set, change mutex, intern table (mpath.c) */
    struct st_locks *locks; /* object locks (lock.c) */
    struct st_trash *trash; /* background remover of destroyed buckets (trash.c) */
    uint64_t *list_walks;   /* atomic: list walks started (iter.c) */
    int64_t *reads;         /* atomic, by slot: GETs being served from that mountpath */
};

/*
 * A reference to the current set (never NULL, never blocks on a change: a spinlock covers the
 * pointer load and the increment). Drop it with st_mpset_unref.
 */
const struct st_mpset *st_mpset_ref(const struct st_mpaths *mp);
void st_mpset_unref(const struct st_mpaths *mp, const struct st_mpset *s);
/* HRW slot among the available mountpaths of s (there is always at least one). */
size_t st_mpset_pick(const struct st_mpset *s, uint64_t digest);
/* The first min(n, navail) available slots in HRW order (out[0] = st_mpset_pick). Count. */
size_t st_mpset_rank(const struct st_mpset *s, uint64_t digest, size_t n, uint32_t *out);
/* Like st_bck_dir / st_bck_ct_dir on a given set; -ENOENT when the slot is free. */
int st_set_bck_dir(const struct st_mpset *s, size_t i, const struct st_bck *bck, char *out,
                   size_t cap);
int st_set_ct_dir(const struct st_mpset *s, size_t i, const struct st_bck *bck, const char *ct,
                  char *out, size_t cap);
/* Object path `<%ob of slot i>/<obj>`; *ob_len gets the %ob prefix length. Length or errno. */
int st_set_obj_path(const struct st_mpset *s, size_t i, const struct st_bck *bck, const char *obj,
                    char *out, size_t cap, size_t *ob_len);

/* Object lock table (lock.c): AIS_OBJ_LOCK_STRIPES rwlocks. 0 or negative errno. */
int st_locks_new(struct st_locks **out);
void st_locks_free(struct st_locks *l);

/*
 * Trash (trash.c). st_trash_start starts the remover thread, which first sweeps what a crash
 * left in every mountpath's trash; st_trash_stop stops and joins it (accepts NULL); st_trash_kick
 * asks for another pass. st_trash_move renames dir into <mpath i>/.trash/<tag>.<random>:
 * 1 when moved, 0 when dir does not exist, or negative errno.
 */
int st_trash_start(const struct st_mpaths *mp, struct st_trash **out);
void st_trash_stop(struct st_trash *tr);
void st_trash_kick(struct st_trash *tr);
int st_trash_move(const struct st_mpaths *mp, size_t i, const char *dir, const char *tag);

/*
 * Writes `<mpath i>/@<provider>/[<ns>/]<bucket>` to out (slot i of the current set). Returns its
 * length, -ENAMETOOLONG, or -ENOENT when slot i is free.
 */
int st_bck_dir(const struct st_mpaths *mp, size_t i, const struct st_bck *bck, char *out,
               size_t cap);
/* Writes `<bucket dir>/<ct>` (ct is ST_DIR_OBJ or ST_DIR_WORK). Length or -ENAMETOOLONG. */
int st_bck_ct_dir(const struct st_mpaths *mp, size_t i, const struct st_bck *bck, const char *ct,
                  char *out, size_t cap);
/*
 * Writes the object path `<%ob dir>/<obj>` of the HRW mountpath for digest (current set). *idx gets
 * the mountpath index, *ob_len the length of the %ob dir prefix. Length or -ENAMETOOLONG.
 */
int st_obj_path(const struct st_mpaths *mp, const struct st_bck *bck, const char *obj,
                uint64_t digest, char *out, size_t cap, uint32_t *idx, size_t *ob_len);
/* rmdir()s empty parents of path, deepest first, stopping at the first failure or at the
 * directory path[0..stop_len) (which is kept). */
void st_prune_parents(const char *path, size_t stop_len);
/* snprintf that reports truncation: length or -ENAMETOOLONG. */
__attribute__((format(printf, 3, 4))) int st_path_fmt(char *out, size_t cap, const char *fmt, ...);
/* Copies every byte of src (from offset 0) to dst at the same offsets (move.c). 0 or -errno. */
int st_file_copy(int src, int dst);
/* Removes a tree bottom-up without following symlinks. Missing root is not an error. */
int st_tree_remove(const char *path);
/* Same file as md describes (inode, size, mtime)? 1 yes, 0 no. */
struct stat;
int st_md_same_file(const struct st_obj_md *md, const struct stat *st);

/*
 * Sorted walk of one mountpath's %ob (walk.c). st_walk_new: -ENOENT when mountpath i has no
 * %ob for bck; prefix is borrowed for the walk's life. st_walk_next moves to the next name
 * with the prefix that sorts after `after` (entries that cannot yield one are not read): 0 and
 * the name in st_walk_name (valid until the next call), 1 when exhausted, or negative errno.
 * st_walk_md loads the current name's metadata (-ENOENT if it vanished).
 */
struct st_walk;
int st_walk_new(const struct st_mpaths *mp, size_t i, const struct st_bck *bck, const char *prefix,
                struct st_walk **out);
void st_walk_free(struct st_walk *w);
int st_walk_next(struct st_walk *w, const char *after);
const char *st_walk_name(const struct st_walk *w);
uint32_t st_walk_mpath(const struct st_walk *w);
int st_walk_md(const struct st_walk *w, struct st_obj_md *md);

/* LOM codec: size, cksum type/value, version and custom of md; time fields are not stored. */
#define ST_LOM_FORMAT_V1 1
/* Largest encoded LOM: header plus every field at its maximum. */
#define ST_LOM_ENC_BYTES_MAX                                                                       \
    (1 + 8 + 8 + (1 + ST_CKSUM_TYPE_BYTES) + (1 + ST_CKSUM_VALUE_BYTES) + (1 + ST_VERSION_BYTES) + \
     (2 + ST_CUSTOM_BYTES))
/* Encodes md into buf (ST_LOM_ENC_BYTES_MAX bytes); returns the length. */
size_t st_lom_encode(const struct st_obj_md *md, uint8_t *buf);
/* Decodes into md's stored fields. 0 or AIS_EBADMSG (truncated, bad hash, unknown format). */
int st_lom_decode(const uint8_t *buf, size_t len, struct st_obj_md *md);
/* Writes the LOM xattr on an open file. 0 or negative errno. */
int st_lom_store_fd(int fd, const struct st_obj_md *md);
/* st_md_load_fd with the caller's fstat result (saves a syscall on the GET path). */
struct stat;
int st_md_load_st(int fd, const struct stat *st, uint32_t mpath_idx, struct st_obj_md *md);
/*
 * Fills md from fstat and the LOM xattr of fd. A missing, corrupt or stale (size differs)
 * xattr yields type "none", value "", version "", custom "". 0 or negative errno (fstat).
 */
int st_md_load_fd(int fd, uint32_t mpath_idx, struct st_obj_md *md);
/* Reads only the stored version of path's LOM into out ("" when absent or corrupt). */
void st_lom_version_of(const char *path, char out[ST_VERSION_BYTES]);

/* 1 if type is a checksum type we know ("none" included), else 0. */
int st_cksum_type_known(const char *type);

#endif
