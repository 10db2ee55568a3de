/*
 * EC records: slices and replicas under %ec, owner metadata under %mt (see slice.h).
 *
 * Design notes: a record is written like an object (work file in %wk of the same mountpath,
 * xattr before the rename, so the bytes and their record always travel together), but without
 * the object lock, versioning or checksum machinery: the EC layer seals its own record and
 * checks the object checksum after a rebuild. The %ec and %mt directories are created on first
 * use, one mkdir below the bucket directory, which fails with ENOENT once a destroy moved the
 * bucket away, so a late slice never resurrects a destroyed bucket. Parent dirs below the
 * content dir are created one level at a time and pruned on delete, as for objects.
 */
#include "storage/slice.h"

#include "common/assert.h"
#include "common/err.h"
#include "common/limits.h"
#include "storage/storage_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

struct st_slice {
    const struct st_mpaths *mp;
    const struct st_mpset *set; /* held from begin to free */
    int fd;
    int err;
    size_t ct_len; /* path[0..ct_len) is the content dir (%ec or %mt) */
    char wk[AIS_PATH_BYTES_MAX];
    char path[AIS_PATH_BYTES_MAX];
};

static atomic_uint_fast64_t st_slice_seq;

/* `<ct dir of slot i>/<obj>` into out; *ct_len the dir's length. Length or negative errno. */
static int
ct_path(const struct st_mpset *s, size_t i, const struct st_bck *bck, const char *ct,
        const char *obj, char *out, size_t cap, size_t *ct_len)
{
    int n = st_set_ct_dir(s, i, bck, ct, out, cap);
    if (n < 0) {
        return n;
    }
    int m = st_path_fmt(out + n, cap - (size_t)n, "/%s", obj);
    if (m < 0) {
        return m;
    }
    *ct_len = (size_t)n;
    return n + m;
}

static int
slice_begin_ct(const struct st_mpaths *mp, const struct st_bck *bck, const char *ct,
               const char *obj, uint64_t digest, struct st_slice **out)
{
    struct st_slice *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return -ENOMEM;
    }
    s->fd = -1;
    s->mp = mp;
    s->set = st_mpset_ref(mp);
    size_t slot = st_mpset_pick(s->set, digest);
    int err = ct_path(s->set, slot, bck, ct, obj, s->path, sizeof(s->path), &s->ct_len);
    int wk_len =
        err < 0 ? err : st_set_ct_dir(s->set, slot, bck, ST_DIR_WORK, s->wk, sizeof(s->wk));
    err = wk_len < 0 ? wk_len : 0;
    for (int i = 0; err == 0 && i < ST_WORK_OPEN_TRIES_MAX; i++) {
        uint64_t seq = atomic_fetch_add(&st_slice_seq, 1);
        err = st_path_fmt(s->wk + wk_len, sizeof(s->wk) - (size_t)wk_len,
                          "/%016" PRIx64 ".%ld.%" PRIu64 ".ec", digest, (long)getpid(), seq);
        if (err < 0) {
            break;
        }
        s->fd = open(s->wk, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        err = s->fd >= 0 ? 0 : -errno;
        if (err != -EEXIST) {
            break;
        }
    }
    if (err != 0) {
        st_slice_abort(s);
        return err;
    }
    *out = s;
    return 0;
}

int
st_slice_begin(struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest,
               struct st_slice **out)
{
    AIS_ASSERT(mp != NULL);
    AIS_ASSERT(obj != NULL);
    AIS_ASSERT(out != NULL);
    return slice_begin_ct(mp, bck, ST_DIR_EC, obj, digest, out);
}

int
st_slice_write(struct st_slice *s, const void *data, size_t len)
{
    const char *p = data;
    while (s->err == 0 && len > 0) {
        ssize_t n = write(s->fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            s->err = n < 0 ? -errno : -EIO;
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    return s->err;
}

void
st_slice_abort(struct st_slice *s)
{
    if (s == NULL) {
        return;
    }
    if (s->fd >= 0) {
        close(s->fd);
        unlink(s->wk);
    }
    st_mpset_unref(s->mp, s->set);
    free(s);
}

/* The content dir (one level below the bucket dir), then the name's parents below it. */
static int
slice_mkdirs(struct st_slice *s)
{
    char *p = s->path;
    p[s->ct_len] = '\0';
    int rc = mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
    p[s->ct_len] = '/';
    for (size_t i = s->ct_len + 1; rc == 0 && p[i] != '\0'; i++) {
        if (p[i] != '/') {
            continue;
        }
        p[i] = '\0';
        rc = mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
        p[i] = '/';
    }
    return rc;
}

static int
slice_publish(struct st_slice *s)
{
    int rc = -ENOENT;
    /* A concurrent delete may prune a parent we just made: bounded retry, as for objects. */
    for (int i = 0; rc == -ENOENT && i < ST_PUT_RENAME_TRIES_MAX; i++) {
        rc = slice_mkdirs(s);
        if (rc == 0) {
            rc = rename(s->wk, s->path) < 0 ? -errno : 0;
        }
    }
    return rc;
}

int
st_slice_finish(struct st_slice *s, const void *meta, size_t meta_len, int fsync_on)
{
    int rc = s->err;
    if (rc == 0 && meta != NULL && (meta_len == 0 || meta_len > ST_EC_META_BYTES_MAX)) {
        rc = -EINVAL;
    }
    if (rc == 0 && meta != NULL && fsetxattr(s->fd, ST_XATTR_EC, meta, meta_len, 0) < 0) {
        rc = -errno;
    }
    if (rc == 0 && fsync_on && fsync(s->fd) < 0) {
        rc = -errno;
    }
    rc = rc ? rc : slice_publish(s);
    if (rc == 0) {
        close(s->fd);
        s->fd = -1; /* published: nothing to unlink */
    }
    st_slice_abort(s);
    return rc;
}

/* Opens the record of ct on slot i (regular files only). 0 and *fd, or negative errno. */
static int
open_on(const struct st_mpset *set, size_t i, const struct st_bck *bck, const char *ct,
        const char *obj, int *fd)
{
    char path[AIS_PATH_BYTES_MAX];
    size_t ct_len = 0;
    struct stat st;
    int rc = ct_path(set, i, bck, ct, obj, path, sizeof(path), &ct_len);
    if (rc < 0) {
        return rc;
    }
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f < 0) {
        return errno == ENOTDIR ? -ENOENT : -errno;
    }
    if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(f);
        return -ENOENT;
    }
    *fd = f;
    return 0;
}

/* Opens ct's record: the HRW slot first, then every other slot of the set. */
static int
open_any(const struct st_mpaths *mp, const struct st_bck *bck, const char *ct, const char *obj,
         uint64_t digest, int *fd)
{
    const struct st_mpset *set = st_mpset_ref(mp);
    size_t first = st_mpset_pick(set, digest);
    int rc = open_on(set, first, bck, ct, obj, fd);
    for (size_t i = 0; rc != 0 && i < set->nslots; i++) {
        if (i != first && set->paths[i] != NULL) {
            rc = open_on(set, i, bck, ct, obj, fd);
        }
    }
    st_mpset_unref(mp, set);
    return rc == 0 ? 0 : rc == -ENOENT || rc == -ENAMETOOLONG ? -ENOENT : rc;
}

int
st_slice_open(const struct st_mpaths *mp, const struct st_bck *bck, const char *obj,
              uint64_t digest, int *fd, uint64_t *size, void *meta, size_t cap, size_t *meta_len)
{
    int f = -1;
    struct stat st;
    int rc = open_any(mp, bck, ST_DIR_EC, obj, digest, &f);
    if (rc != 0) {
        return rc;
    }
    ssize_t n = fgetxattr(f, ST_XATTR_EC, meta, cap);
    if (n <= 0 || fstat(f, &st) < 0) {
        close(f);
        return -ENOENT; /* a record without its metadata is no record */
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    *meta_len = (size_t)n;
    return 0;
}

/* Removes ct's record on every slot; 1 if one was removed. */
static int
delete_ct(struct st_mpaths *mp, const struct st_bck *bck, const char *ct, const char *obj)
{
    const struct st_mpset *set = st_mpset_ref(mp);
    int removed = 0;
    for (size_t i = 0; i < set->nslots; i++) {
        char path[AIS_PATH_BYTES_MAX];
        size_t ct_len = 0;
        if (set->paths[i] == NULL ||
            ct_path(set, i, bck, ct, obj, path, sizeof(path), &ct_len) < 0) {
            continue;
        }
        if (unlink(path) == 0) {
            removed = 1;
            st_prune_parents(path, ct_len);
        }
    }
    st_mpset_unref(mp, set);
    return removed;
}

int
st_slice_delete(struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest)
{
    (void)digest;
    int a = delete_ct(mp, bck, ST_DIR_EC, obj);
    int b = delete_ct(mp, bck, ST_DIR_META, obj);
    return a || b ? 0 : -ENOENT;
}

int
st_ecmeta_store(struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest,
                const void *meta, size_t len, int fsync_on)
{
    if (len == 0 || len > ST_EC_META_BYTES_MAX) {
        return -EINVAL;
    }
    struct st_slice *s = NULL;
    int rc = slice_begin_ct(mp, bck, ST_DIR_META, obj, digest, &s);
    if (rc != 0) {
        return rc;
    }
    rc = st_slice_write(s, meta, len);
    if (rc != 0) {
        st_slice_abort(s);
        return rc;
    }
    return st_slice_finish(s, NULL, 0, fsync_on);
}

int
st_ecmeta_load(const struct st_mpaths *mp, const struct st_bck *bck, const char *obj,
               uint64_t digest, void *meta, size_t cap, size_t *len)
{
    int f = -1;
    int rc = open_any(mp, bck, ST_DIR_META, obj, digest, &f);
    if (rc != 0) {
        return rc;
    }
    ssize_t n = pread(f, meta, cap, 0);
    char extra;
    rc = n < 0 ? -errno : n == 0 ? -ENOENT : 0;
    if (rc == 0 && (size_t)n == cap && pread(f, &extra, 1, (off_t)n) == 1) {
        rc = -EMSGSIZE;
    }
    close(f);
    if (rc == 0) {
        *len = (size_t)n;
    }
    return rc;
}

int
st_scratch_open(const struct st_mpaths *mp, const struct st_bck *bck, uint64_t digest, int *fd)
{
    char wk[AIS_PATH_BYTES_MAX];
    const struct st_mpset *set = st_mpset_ref(mp);
    int n = st_set_ct_dir(set, st_mpset_pick(set, digest), bck, ST_DIR_WORK, wk, sizeof(wk));
    st_mpset_unref(mp, set);
    if (n < 0) {
        return n;
    }
    int f = open(wk, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (f < 0) {
        return -errno;
    }
    *fd = f;
    return 0;
}
