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

/* Immutable after st_mpaths_open, hence safe to share between threads. */
struct st_mpaths {
    size_t n;
    char *paths[AIS_MPATHS_MAX];
    uint64_t digests[AIS_MPATHS_MAX]; /* contiguous for ais_hrw_pick */
};

/*
 * Writes `<mpath i>/@<provider>/[<ns>/]<bucket>` to out. Returns its length or
 * -ENAMETOOLONG.
 */
int st_bck_dir(const struct st_mpaths *mp, size_t i, const struct st_bck *bck, char *out,
               size_t cap);
/* Writes `<bucket dir>/<ct>` (ct is ST_DIR_OBJ or ST_DIR_WORK). Length or -ENAMETOOLONG. */
int st_bck_ct_dir(const struct st_mpaths *mp, size_t i, const struct st_bck *bck, const char *ct,
                  char *out, size_t cap);
/*
 * Writes the object path `<%ob dir>/<obj>` of the HRW mountpath for digest. *idx gets the
 * mountpath index, *ob_len the length of the %ob dir prefix. Length or -ENAMETOOLONG.
 */
int st_obj_path(const struct st_mpaths *mp, const struct st_bck *bck, const char *obj,
                uint64_t digest, char *out, size_t cap, uint32_t *idx, size_t *ob_len);
/* rmdir()s empty parents of path, deepest first, stopping at the first failure or at the
 * directory path[0..stop_len) (which is kept). */
void st_prune_parents(const char *path, size_t stop_len);
/* snprintf that reports truncation: length or -ENAMETOOLONG. */
__attribute__((format(printf, 3, 4))) int st_path_fmt(char *out, size_t cap, const char *fmt, ...);
/* Removes a tree bottom-up without following symlinks. Missing root is not an error. */
int st_tree_remove(const char *path);

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
