/*
 * Stored objects: open, stat, validate, delete.
 *
 * Design notes: an object lives on its HRW mountpath, so a read normally touches one path.
 * After a mountpath change it may still sit on another one until the resilver moves it, so a
 * miss on the HRW mountpath looks at every other mountpath of the same set and opens the
 * newest copy (by mtime): the copy on the HRW slot, when present, is authoritative because a
 * PUT that lands elsewhere removes it (put.c) and the resilver keeps the newest. Delete removes
 * every copy, or a stale one would reappear. Opens use O_NONBLOCK so a FIFO planted under %ob
 * cannot hang a reader; anything that is not a regular file (directories included) is reported as
 * -ENOENT, which is what a client asking for that name should see. Metadata comes from
 * st_md_load_fd, which tolerates a missing or corrupt xattr. Delete prunes the now-empty parents so
 * the tree does not fill with dead directories; a PUT racing with the prune retries its
 * mkdir+rename (put.c). Locks (lock.c): open/stat hold the object's shared lock across open + fstat
 * + xattr read; delete holds it exclusively. Validation runs on the descriptor without the lock
 * (the inode we opened never changes: a PUT replaces the name, not the file), and the repair that
 * follows a bad checksum, st_obj_delete_if, re-checks under the exclusive lock that the name still
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
st_set_obj_path(const struct st_mpset *s, size_t i, const struct st_bck *bck, const char *obj,
                char *out, size_t cap, size_t *ob_len)
{
    AIS_ASSERT(obj != NULL);
    int n = st_set_ct_dir(s, i, bck, ST_DIR_OBJ, out, cap);
    if (n < 0) {
        return n;
    }
    int m = st_path_fmt(out + n, cap - (size_t)n, "/%s", obj);
    if (m < 0) {
        return m;
    }
    *ob_len = (size_t)n;
    return n + m;
}

int
st_obj_path(const struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest,
            char *out, size_t cap, uint32_t *idx, size_t *ob_len)
{
    const struct st_mpset *s = st_mpset_ref(mp);
    size_t i = st_mpset_pick(s, digest);
    int n = st_set_obj_path(s, i, bck, obj, out, cap, ob_len);
    st_mpset_unref(mp, s);
    if (n >= 0) {
        *idx = (uint32_t)i;
    }
    return n;
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

/* Opens path as a regular file: fd (and its stat) or -ENOENT / negative errno. */
static int
open_reg(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        return errno == ENOTDIR ? -ENOENT : -errno;
    }
    int err = fstat(fd, st) < 0 ? -errno : S_ISREG(st->st_mode) ? 0 : -ENOENT;
    if (err < 0) {
        close(fd);
        return err;
    }
    /* O_NONBLOCK (which kept a FIFO from blocking the open) has no effect on regular files,
     * so it is left set rather than cleared with another syscall. */
    return fd;
}

static int64_t
st_mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/*
 * The miss path: the newest copy on any other slot of s. *idx gets its slot. Errors of
 * disabled or detaching mountpaths (a dead disk) count as "not there".
 */
static int
open_other(const struct st_mpset *s, size_t hrw, const struct st_bck *bck, const char *obj,
           struct stat *st, uint32_t *idx)
{
    char path[AIS_PATH_BYTES_MAX];
    size_t ob_len = 0;
    int best = -ENOENT;
    for (size_t i = 0; i < s->nslots; i++) {
        struct stat cur;
        if (i == hrw || s->paths[i] == NULL ||
            st_set_obj_path(s, i, bck, obj, path, sizeof(path), &ob_len) < 0) {
            continue;
        }
        int fd = open_reg(path, &cur);
        if (fd < 0) {
            continue;
        }
        if (best >= 0 && st_mtime_ns(&cur) <= st_mtime_ns(st)) {
            close(fd);
            continue;
        }
        if (best >= 0) {
            close(best);
        }
        best = fd;
        *st = cur;
        *idx = (uint32_t)i;
    }
    return best;
}

/* Orders the copy slots by reads in flight, fewest first; rank order on ties (insertion sort). */
static void
order_by_load(const struct st_mpaths *mp, uint32_t *v, size_t n)
{
    int64_t load[AIS_MPATHS_MAX];
    for (size_t i = 0; i < n; i++) {
        load[i] = __atomic_load_n(&mp->reads[v[i]], __ATOMIC_RELAXED);
    }
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && load[j] < load[j - 1]; j--) {
            int64_t l = load[j];
            load[j] = load[j - 1];
            load[j - 1] = l;
            uint32_t x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
    }
}

/*
 * Under the shared lock: opens the least-loaded copy among ranks[0..n) that matches the main
 * copy (ranks[0]); a missing main copy lets any copy serve. -ENOENT when none is there.
 */
static int
open_balanced(const struct st_mpaths *mp, const struct st_mpset *s, const uint32_t *ranks, size_t n,
              const struct st_bck *bck, const char *obj, struct stat *st, uint32_t *idx)
{
    char path[AIS_PATH_BYTES_MAX];
    size_t ob_len = 0;
    uint32_t order[AIS_MPATHS_MAX];
    memcpy(order, ranks, n * sizeof(*order));
    order_by_load(mp, order, n);
    struct stat main_st;
    int main_known = 0, main_there = 0;
    for (size_t k = 0; k < n; k++) {
        if (st_set_obj_path(s, order[k], bck, obj, path, sizeof(path), &ob_len) < 0) {
            continue;
        }
        int fd = open_reg(path, st);
        if (fd < 0) {
            continue;
        }
        if (order[k] != ranks[0]) {
            /* A copy serves only while it is the main one's twin (a make-n-copies job or a PUT
             * interrupted by a crash may leave a stale one behind until it is repaired). */
            if (!main_known &&
                st_set_obj_path(s, ranks[0], bck, obj, path, sizeof(path), &ob_len) >= 0) {
                main_there = stat(path, &main_st) == 0 && S_ISREG(main_st.st_mode);
            }
            main_known = 1;
            if (main_there &&
                (main_st.st_size != st->st_size || st_mtime_ns(&main_st) != st_mtime_ns(st))) {
                close(fd);
                continue;
            }
        }
        *idx = order[k];
        return fd;
    }
    return -ENOENT;
}

/*
 * Both opens: the main copy (or, mirrored, the least-loaded twin), else the newest copy on any
 * other slot. track counts the read on the slot served (st_obj_open_read).
 */
static int
obj_open(const struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest,
         unsigned copies, int track, int *fd_out, struct st_obj_md *md_out, struct stat *st_out)
{
    AIS_ASSERT(fd_out != NULL);
    uint32_t ranks[AIS_MPATHS_MAX];
    struct stat st;
    const struct st_mpset *s = st_mpset_ref(mp);
    size_t n = st_mpset_rank(s, digest, copies > 1 ? copies : 1, ranks);
    uint32_t idx = ranks[0];
    int fd = -ENOENT;
    /* Shared: a PUT's rename + xattr, a repair or a resilver move cannot interleave. */
    st_obj_lock_rd(mp, digest);
    if (n > 1) {
        fd = open_balanced(mp, s, ranks, n, bck, obj, &st, &idx);
    } else {
        char path[AIS_PATH_BYTES_MAX];
        size_t ob_len = 0;
        int e = st_set_obj_path(s, idx, bck, obj, path, sizeof(path), &ob_len);
        fd = e < 0 ? e : open_reg(path, &st);
    }
    if (fd == -ENOENT && s->nslots > 1) {
        fd = open_other(s, ranks[0], bck, obj, &st, &idx);
    }
    int err = fd < 0 ? fd : md_out != NULL ? st_md_load_st(fd, &st, idx, md_out) : 0;
    if (err == 0 && track) {
        __atomic_add_fetch(&mp->reads[idx], 1, __ATOMIC_RELAXED);
    }
    st_obj_unlock(mp, digest);
    st_mpset_unref(mp, s);
    if (err == 0) {
        *fd_out = fd;
        if (st_out != NULL) {
            *st_out = st;
        }
    } else if (fd >= 0) {
        close(fd);
    }
    return err;
}

int
st_obj_open_bytes(const struct st_mpaths *mp, const struct st_bck *bck, const char *obj,
                  uint64_t digest, int *fd_out, uint64_t *size, int64_t *mtime_ns)
{
    struct stat st;
    int err = obj_open(mp, bck, obj, digest, 1, 0, fd_out, NULL, &st);
    if (err == 0) {
        *size = (uint64_t)st.st_size;
        *mtime_ns = st_mtime_ns(&st);
    }
    return err;
}

int
st_obj_open(const struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest,
            int *fd_out, struct st_obj_md *md_out)
{
    return obj_open(mp, bck, obj, digest, 1, 0, fd_out, md_out, NULL);
}

int
st_obj_open_read(const struct st_mpaths *mp, const struct st_bck *bck, const char *obj,
                 uint64_t digest, unsigned copies, int *fd_out, struct st_obj_md *md_out)
{
    AIS_ASSERT(md_out != NULL);
    return obj_open(mp, bck, obj, digest, copies, 1, fd_out, md_out, NULL);
}

int
st_obj_copies(const struct st_mpaths *mp, const struct st_bck *bck, const char *obj,
              uint64_t digest, uint32_t *slots, size_t cap)
{
    char path[AIS_PATH_BYTES_MAX];
    size_t ob_len = 0;
    struct stat st[AIS_MPATHS_MAX];
    int present[AIS_MPATHS_MAX] = {0};
    const struct st_mpset *s = st_mpset_ref(mp);
    size_t hrw = st_mpset_pick(s, digest), ref = SIZE_MAX;
    st_obj_lock_rd(mp, digest);
    for (size_t i = 0; i < s->nslots; i++) {
        present[i] = s->paths[i] != NULL &&
                     st_set_obj_path(s, i, bck, obj, path, sizeof(path), &ob_len) >= 0 &&
                     stat(path, &st[i]) == 0 && S_ISREG(st[i].st_mode);
        if (present[i] &&
            (ref == SIZE_MAX ||
             (ref != hrw && (i == hrw || st_mtime_ns(&st[i]) > st_mtime_ns(&st[ref]))))) {
            ref = i;
        }
    }
    st_obj_unlock(mp, digest);
    size_t n = 0;
    for (size_t pass = 0; ref != SIZE_MAX && pass < 2; pass++) {
        for (size_t i = 0; i < s->nslots && n < cap; i++) {
            int twin = present[i] && st[i].st_size == st[ref].st_size &&
                       st_mtime_ns(&st[i]) == st_mtime_ns(&st[ref]);
            if (twin && ((pass == 0) == (i == ref))) {
                slots[n++] = (uint32_t)i;
            }
        }
    }
    st_mpset_unref(mp, s);
    return (int)n;
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

/*
 * Under the exclusive lock: md == NULL removes the copy on every slot (0 if any was removed);
 * otherwise only the one on md's slot, if it is still md's file.
 */
static int
obj_delete(struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest,
           const struct st_obj_md *md)
{
    char path[AIS_PATH_BYTES_MAX];
    size_t ob_len = 0;
    int removed = 0, err = 0;
    const struct st_mpset *s = st_mpset_ref(mp);
    st_obj_lock_wr(mp, digest);
    for (size_t i = 0; i < s->nslots; i++) {
        if (s->paths[i] == NULL || (md != NULL && i != md->mpath_idx)) {
            continue;
        }
        int e = st_set_obj_path(s, i, bck, obj, path, sizeof(path), &ob_len);
        e = e < 0 ? e : obj_unlink(path, ob_len, md);
        removed |= e == 0;
        if (e < 0 && e != -ENOENT && err == 0) {
            err = e;
        }
    }
    st_obj_unlock(mp, digest);
    st_mpset_unref(mp, s);
    return removed ? 0 : err != 0 ? err : -ENOENT;
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
