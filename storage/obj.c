/*
 * Stored objects: open, stat, validate, delete.
 *
 * Design notes: an object lives only on its HRW mountpath, so every call touches exactly one
 * path. Opens use O_NONBLOCK so a FIFO planted under %ob cannot hang a reader; anything that
 * is not a regular file (directories included) is reported as -ENOENT, which is what a client
 * asking for that name should see. Metadata comes from st_md_load_fd, which tolerates a
 * missing or corrupt xattr. Delete prunes the now-empty parents so the tree does not fill
 * with dead directories; a PUT racing with the prune retries its mkdir+rename (put.c).
 * Locks (lock.c): open/stat hold the object's shared lock across open + fstat + xattr read;
 * delete holds it exclusively. Validation runs on the descriptor without the lock (the inode
 * we opened never changes: a PUT replaces the name, not the file), and the repair that follows
 * a bad checksum, st_obj_delete_if, re-checks under the exclusive lock that the name still
 * points at that inode (same ino, size, mtime), so it can never remove a newer PUT.
 */
#include "common/assert.h"
#include "common/err.h"
#include "common/limits.h"
#include "storage/storage.h"
#include "storage/storage_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

int
st_obj_path(const struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest,
            char *out, size_t cap, uint32_t *idx, size_t *ob_len)
{
    AIS_ASSERT(obj != NULL);
    size_t i = st_mpaths_pick(mp, digest);
    int n = st_bck_ct_dir(mp, i, bck, ST_DIR_OBJ, out, cap);
    if (n < 0) {
        return n;
    }
    int m = st_path_fmt(out + n, cap - (size_t)n, "/%s", obj);
    if (m < 0) {
        return m;
    }
    *idx = (uint32_t)i;
    *ob_len = (size_t)n;
    return n + m;
}

void
st_prune_parents(const char *path, size_t stop_len)
{
    char dir[AIS_PATH_BYTES_MAX];
    if (st_path_fmt(dir, sizeof(dir), "%s", path) < 0) {
        return;
    }
    /* Bounded by the number of '/' in an object name. */
    for (char *s = strrchr(dir, '/'); s != NULL && (size_t)(s - dir) > stop_len;
         s = strrchr(dir, '/')) {
        *s = '\0';
        if (rmdir(dir) < 0) {
            break;
        }
    }
}

int
st_obj_open(const struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest,
            int *fd_out, struct st_obj_md *md_out)
{
    AIS_ASSERT(fd_out != NULL);
    char path[AIS_PATH_BYTES_MAX];
    uint32_t idx = 0;
    size_t ob_len = 0;
    struct stat st;
    int fd = -1, locked = 0;
    int err = st_obj_path(mp, bck, obj, digest, path, sizeof(path), &idx, &ob_len);
    if (err < 0) {
        goto out;
    }
    err = 0;
    /* Shared: a PUT's rename + xattr or a repair cannot interleave with open + md read. */
    st_obj_lock_rd(mp, digest);
    locked = 1;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        err = errno == ENOTDIR ? -ENOENT : -errno;
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        err = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        err = -ENOENT;
        goto out;
    }
    /* O_NONBLOCK (which kept a FIFO from blocking the open) has no effect on regular files,
     * so it is left set rather than cleared with another syscall. */
    if (md_out != NULL) {
        err = st_md_load_st(fd, &st, idx, md_out);
        if (err < 0) {
            goto out;
        }
    }
    *fd_out = fd;
    fd = -1;
out:
    if (locked) {
        st_obj_unlock(mp, digest);
    }
    if (fd >= 0) {
        close(fd);
    }
    return err;
}

int
st_obj_stat(const struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest,
            struct st_obj_md *md_out)
{
    AIS_ASSERT(md_out != NULL);
    int fd = -1;
    int err = st_obj_open(mp, bck, obj, digest, &fd, md_out);
    if (err == 0) {
        close(fd);
    }
    return err;
}

/* Streams fd through c from offset 0; *len gets the byte count. Frees nothing. */
static int
cksum_fd(int fd, struct st_cksum *c, uint64_t size_max, uint64_t *len)
{
    char *buf = malloc(AIS_IO_BUF_BYTES);
    if (buf == NULL) {
        return -ENOMEM;
    }
    uint64_t off = 0;
    int err = 0;
    /* Bounded: stops at EOF or once the file is larger than the size it should have. */
    while (off <= size_max) {
        ssize_t n = pread(fd, buf, AIS_IO_BUF_BYTES, (off_t)off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            err = n < 0 ? -errno : 0;
            break;
        }
        st_cksum_update(c, buf, (size_t)n);
        off += (uint64_t)n;
    }
    free(buf);
    *len = off;
    return err;
}

int
st_obj_validate(int fd, const struct st_obj_md *md)
{
    AIS_ASSERT(fd >= 0);
    AIS_ASSERT(md != NULL);
    struct st_cksum *c = NULL;
    char value[ST_CKSUM_VALUE_BYTES];
    uint64_t len = 0;
    int err = 0;
    if (md->cksum_type[0] == '\0' || strcmp(md->cksum_type, "none") == 0) {
        goto out;
    }
    err = st_cksum_new(md->cksum_type, &c);
    if (err < 0) {
        goto out;
    }
    err = cksum_fd(fd, c, md->size, &len);
    if (err < 0) {
        goto out;
    }
    st_cksum_final(c, value);
    c = NULL;
    if (len != md->size || strcasecmp(value, md->cksum_value) != 0) {
        err = AIS_EBADCKSUM;
    }
out:
    st_cksum_free(c);
    return err;
}

/* unlink + prune under the caller's exclusive lock; md (may be NULL) must match the file. */
static int
obj_unlink(const char *path, size_t ob_len, const struct st_obj_md *md)
{
    struct stat st;
    if (md != NULL) {
        if (lstat(path, &st) < 0) {
            return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
        }
        if (!S_ISREG(st.st_mode) || !st_md_same_file(md, &st)) {
            return -ESTALE; /* replaced since md was read: not ours to remove */
        }
    }
    if (unlink(path) < 0) {
        /* A directory or a path through a file is "no such object" to the caller. */
        int e = errno;
        return e == ENOENT || e == ENOTDIR || e == EISDIR ? -ENOENT : -e;
    }
    st_prune_parents(path, ob_len);
    return 0;
}

static int
obj_delete(struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest,
           const struct st_obj_md *md)
{
    char path[AIS_PATH_BYTES_MAX];
    uint32_t idx = 0;
    size_t ob_len = 0;
    int err = st_obj_path(mp, bck, obj, digest, path, sizeof(path), &idx, &ob_len);
    if (err < 0) {
        return err;
    }
    st_obj_lock_wr(mp, digest);
    err = obj_unlink(path, ob_len, md);
    st_obj_unlock(mp, digest);
    return err;
}

int
st_obj_delete(struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest)
{
    return obj_delete(mp, bck, obj, digest, NULL);
}

int
st_obj_delete_if(struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest,
                 const struct st_obj_md *md)
{
    AIS_ASSERT(md != NULL);
    return obj_delete(mp, bck, obj, digest, md);
}
