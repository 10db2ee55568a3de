/*
 * Resilver steps: moving one object to the mountpath HRW picks for it, and checking that a
 * mountpath holds nothing of a bucket any more.
 *
 * Design notes: the whole step runs under the object's exclusive lock, so a GET (shared lock,
 * HRW slot first, then the newest copy elsewhere: obj.c) sees the object before or after the
 * move, never in between, and a PUT's publish cannot interleave. Every slot of the set is
 * looked at, because a mountpath change can leave copies on more than one: the newest copy
 * by mtime wins (the HRW one on a tie) and the others are removed, which is the same rule the
 * read path follows. A move is rename(2) when source and destination share a filesystem (one
 * syscall, atomic); across filesystems the bytes are copied into a work file in the
 * destination's %wk, fsynced, given the LOM xattr and the source's times, and renamed into
 * place before the source is removed: a crash in between leaves two equal copies, which the
 * next resilver resolves. Only per-slot stat results are kept, never N paths.
 */
#include "common/assert.h"
#include "common/err.h"
#include "common/limits.h"
#include "storage/storage.h"
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

static atomic_uint_fast64_t st_move_seq;

struct copy_of {
    int present;
    int64_t mtime_ns;
    uint64_t size;
};

static int64_t
mtime_of(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* mkdir of each parent of path below its %ob (path[0..ob_len)), which must exist. */
static int
mkdirs_below(char *path, size_t ob_len)
{
    for (size_t i = ob_len + 1; path[i] != '\0'; i++) {
        if (path[i] != '/') {
            continue;
        }
        path[i] = '\0';
        int rc = mkdir(path, 0755);
        int e = errno;
        path[i] = '/';
        if (rc < 0 && e != EEXIST) {
            return -e;
        }
    }
    return 0;
}

static int
write_all(int fd, const char *p, size_t len, off_t off)
{
    /* Bounded: every round writes at least one byte or fails (EINTR aside). */
    while (len > 0) {
        ssize_t k = pwrite(fd, p, len, off);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return k < 0 ? -errno : -EIO;
        }
        p += k;
        len -= (size_t)k;
        off += k;
    }
    return 0;
}

int
st_file_copy(int src, int dst)
{
    /* copy_file_range first (in-kernel, reflinks where the filesystem can), with explicit
     * offsets so neither descriptor's position matters or moves; the pread/pwrite loop covers
     * filesystems and kernels that refuse it. Bounded by the file size. */
    loff_t in_off = 0, out_off = 0;
    for (;;) {
        ssize_t n = copy_file_range(src, &in_off, dst, &out_off, 1u << 30, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n == 0) {
            return 0;
        }
        if (n < 0) {
            if (in_off > 0 || (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
                               errno != EOPNOTSUPP)) {
                return -errno;
            }
            break;
        }
    }
    char *buf = malloc(AIS_IO_BUF_BYTES);
    int err = buf == NULL ? -ENOMEM : 0;
    for (off_t off = 0; err == 0;) {
        ssize_t n = pread(src, buf, AIS_IO_BUF_BYTES, off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            err = n < 0 ? -errno : 0;
            break;
        }
        err = write_all(dst, buf, (size_t)n, off);
        off += n;
    }
    free(buf);
    return err;
}

/* Copies the bytes, the LOM xattr and the times of src into the open dst. */
static int
copy_fd(int src, int dst)
{
    uint8_t lom[AIS_LOM_BYTES_MAX];
    struct stat st;
    int err = fstat(src, &st) < 0 ? -errno : st_file_copy(src, dst);
    ssize_t len = err == 0 ? fgetxattr(src, ST_XATTR_LOM, lom, sizeof(lom)) : -1;
    if (len > 0 && fsetxattr(dst, ST_XATTR_LOM, lom, (size_t)len, 0) < 0) {
        err = -errno;
    }
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    if (err == 0 && futimens(dst, ts) < 0) {
        err = -errno;
    }
    if (err == 0 && fsync(dst) < 0) {
        err = -errno;
    }
    return err;
}

/* Cross-filesystem move: work file in wk (the destination's %wk dir), copy, rename to dst. */
static int
move_copy(const char *src, const char *dst, const char *wk, uint64_t digest)
{
    char tmp[AIS_PATH_BYTES_MAX];
    int err = st_path_fmt(tmp, sizeof(tmp), "%s/%016" PRIx64 ".rsl.%ld.%" PRIu64, wk, digest,
                          (long)getpid(), (uint64_t)atomic_fetch_add(&st_move_seq, 1));
    if (err < 0) {
        return err;
    }
    int in = open(src, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (in < 0) {
        return -errno;
    }
    int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    err = out < 0 ? -errno : copy_fd(in, out);
    if (out >= 0) {
        close(out);
    }
    close(in);
    if (err == 0 && rename(tmp, dst) < 0) {
        err = -errno;
    }
    if (err < 0 && out >= 0) {
        unlink(tmp);
    }
    return err;
}

/* Moves (keep_src: copies) the copy on slot from to slot to (both present in s). */
static int
move_one(const struct st_mpset *s, size_t from, size_t to, const struct st_bck *bck,
         const char *obj, uint64_t digest, int keep_src)
{
    char src[AIS_PATH_BYTES_MAX], dst[AIS_PATH_BYTES_MAX], wk[AIS_PATH_BYTES_MAX];
    size_t src_ob = 0, dst_ob = 0;
    struct stat st;
    int err = st_set_obj_path(s, from, bck, obj, src, sizeof(src), &src_ob);
    err = err < 0 ? err : st_set_obj_path(s, to, bck, obj, dst, sizeof(dst), &dst_ob);
    err = err < 0 ? err : st_set_ct_dir(s, to, bck, ST_DIR_WORK, wk, sizeof(wk));
    if (err < 0) {
        return err;
    }
    dst[dst_ob] = '\0';
    err = stat(dst, &st) < 0 ? -errno : 0; /* %ob of the destination: never created here */
    dst[dst_ob] = '/';
    err = err < 0 ? err : mkdirs_below(dst, dst_ob);
    if (err == 0 && keep_src) {
        err = move_copy(src, dst, wk, digest);
    } else if (err == 0 && rename(src, dst) < 0) {
        err = errno == EXDEV ? move_copy(src, dst, wk, digest) : -errno;
        if (err == 0 && unlink(src) < 0 && errno != ENOENT) {
            err = -errno;
        }
    }
    if (err == 0 && !keep_src) {
        st_prune_parents(src, src_ob);
    } else if (err != 0) {
        st_prune_parents(dst, dst_ob);
    }
    return err;
}

/* Which slots of s hold a regular file for obj. */
static void
copies_find(const struct st_mpset *s, const struct st_bck *bck, const char *obj, struct copy_of *c)
{
    char path[AIS_PATH_BYTES_MAX];
    size_t ob_len = 0;
    for (size_t i = 0; i < s->nslots; i++) {
        struct stat st;
        c[i].present = s->paths[i] != NULL &&
                       st_set_obj_path(s, i, bck, obj, path, sizeof(path), &ob_len) >= 0 &&
                       lstat(path, &st) == 0 && S_ISREG(st.st_mode);
        c[i].mtime_ns = c[i].present ? mtime_of(&st) : 0;
        c[i].size = c[i].present ? (uint64_t)st.st_size : 0;
    }
}

static int
in_set(const uint32_t *v, size_t n, size_t x)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] == x) {
            return 1;
        }
    }
    return 0;
}

/* Removes the copies on every slot not in keep[0..nkeep). 1 if any was removed. */
static int
copies_drop(const struct st_mpset *s, const struct copy_of *c, const uint32_t *keep, size_t nkeep,
            const struct st_bck *bck, const char *obj)
{
    char path[AIS_PATH_BYTES_MAX];
    size_t ob_len = 0;
    int removed = 0;
    for (size_t i = 0; i < s->nslots; i++) {
        if (in_set(keep, nkeep, i) || !c[i].present ||
            st_set_obj_path(s, i, bck, obj, path, sizeof(path), &ob_len) < 0) {
            continue;
        }
        if (unlink(path) == 0) {
            st_prune_parents(path, ob_len);
            removed = 1;
        }
    }
    return removed;
}

static int
same_copy(const struct copy_of *a, const struct copy_of *b)
{
    return a->present && b->present && a->mtime_ns == b->mtime_ns && a->size == b->size;
}

/* Newest present copy; among equals the first in want[] order, then the lowest slot. */
static size_t
pick_source(const struct st_mpset *s, const struct copy_of *c, const uint32_t *want, size_t nwant)
{
    size_t best = SIZE_MAX;
    for (size_t r = 0; r < nwant; r++) {
        if (c[want[r]].present && (best == SIZE_MAX || c[want[r]].mtime_ns > c[best].mtime_ns)) {
            best = want[r];
        }
    }
    for (size_t i = 0; i < s->nslots; i++) {
        if (c[i].present && (best == SIZE_MAX || c[i].mtime_ns > c[best].mtime_ns)) {
            best = i;
        }
    }
    return best;
}

int
st_obj_mirror(struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest,
              unsigned copies, uint64_t *bytes)
{
    AIS_ASSERT(mp != NULL);
    AIS_ASSERT(bck != NULL && obj != NULL);
    struct copy_of c[AIS_MPATHS_MAX];
    uint32_t want[AIS_MPATHS_MAX];
    const struct st_mpset *s = st_mpset_ref(mp);
    size_t nwant = st_mpset_rank(s, digest, copies > 1 ? copies : 1, want);
    int rc = 0;
    uint64_t moved = 0;
    /* Copies of big objects happen under the lock too: a reader of this one object waits,
     * every other object is untouched (resilver and make-n-copies are background jobs). */
    st_obj_lock_wr(mp, digest);
    copies_find(s, bck, obj, c);
    size_t src = pick_source(s, c, want, nwant);
    if (src != SIZE_MAX && !in_set(want, nwant, src)) {
        /* The source is on no wanted slot: move it to the main one (a rename when possible). */
        rc = move_one(s, src, want[0], bck, obj, digest, 0);
        if (rc == 0) {
            moved += c[src].size;
            c[want[0]] = c[src];
            c[src].present = 0;
            src = want[0];
            rc = 1;
        }
    }
    for (size_t r = 0; rc >= 0 && src != SIZE_MAX && r < nwant; r++) {
        size_t to = want[r];
        if (to == src || same_copy(&c[to], &c[src])) {
            continue;
        }
        int e = move_one(s, src, to, bck, obj, digest, 1);
        if (e < 0) {
            rc = e;
            break;
        }
        moved += c[src].size;
        c[to] = c[src];
        rc = 1;
    }
    if (rc >= 0 && src != SIZE_MAX) {
        rc |= copies_drop(s, c, want, nwant, bck, obj);
    }
    st_obj_unlock(mp, digest);
    st_mpset_unref(mp, s);
    if (bytes != NULL) {
        *bytes = rc > 0 ? moved : 0;
    }
    return rc;
}

int
st_obj_relocate(struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest,
                uint64_t *bytes)
{
    return st_obj_mirror(mp, bck, obj, digest, 1, bytes);
}

/* Verifies the copy on slot i: 1 good, 0 bad, -ENOENT gone; *md gets what was checked. */
static int
scrub_one(const struct st_mpset *s, size_t i, const struct st_bck *bck, const char *obj,
          struct st_obj_md *md)
{
    char path[AIS_PATH_BYTES_MAX];
    size_t ob_len = 0;
    int err = st_set_obj_path(s, i, bck, obj, path, sizeof(path), &ob_len);
    int fd = err < 0 ? err : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        return err < 0 ? err : errno == ENOENT || errno == ENOTDIR ? -ENOENT : 0;
    }
    struct stat st;
    err = fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ? -ENOENT : st_md_load_st(fd, &st, i, md);
    if (err == 0) {
        /* A copy whose LOM is missing or stale loads as type "none": it cannot be verified and
         * passes, as on GET. */
        err = st_obj_validate(fd, md);
    }
    close(fd);
    return err == -ENOENT ? -ENOENT : err == 0 ? 1 : 0;
}

int
st_obj_scrub(struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest,
             unsigned copies, struct st_scrub_res *res)
{
    AIS_ASSERT(res != NULL);
    memset(res, 0, sizeof(*res));
    struct st_obj_md bad[AIS_MPATHS_MAX];
    size_t nbad = 0, good = 0;
    const struct st_mpset *s = st_mpset_ref(mp);
    /* Reads run without the lock (a PUT replaces names, never the inodes we read); removal
     * re-checks under the exclusive lock that the name still is the file found bad. */
    for (size_t i = 0; i < s->nslots; i++) {
        struct st_obj_md md;
        if (s->paths[i] == NULL) {
            continue;
        }
        int v = scrub_one(s, i, bck, obj, &md);
        if (v == -ENOENT) {
            continue;
        }
        res->copies++;
        res->bytes += md.size;
        if (v == 1) {
            good++;
        } else {
            bad[nbad++] = md;
        }
    }
    st_mpset_unref(mp, s);
    res->bad = (uint32_t)nbad;
    if (res->copies == 0) {
        return 0;
    }
    if (good == 0) {
        res->lost = 1;
        return 0;
    }
    for (size_t k = 0; k < nbad; k++) {
        int e = st_obj_delete_if(mp, bck, obj, digest, &bad[k]);
        if (e < 0 && e != -ENOENT && e != -ESTALE) {
            return e;
        }
    }
    uint32_t before = (uint32_t)good;
    uint64_t bytes = 0;
    int rc = st_obj_mirror(mp, bck, obj, digest, copies, &bytes);
    if (rc == 1) {
        uint32_t want = copies > 1 ? copies : 1;
        res->restored = want > before ? want - before : 0;
    }
    return rc < 0 ? rc : 0;
}

int
st_mpaths_slot_empty(const struct st_mpaths *mp, size_t i, const struct st_bck *bck)
{
    struct st_walk *w = NULL;
    int rc = st_walk_new(mp, i, bck, "", &w);
    if (rc == -ENOENT) {
        return 1;
    }
    if (rc < 0) {
        return rc;
    }
    rc = st_walk_next(w, "");
    st_walk_free(w);
    return rc == 1 ? 1 : rc == 0 ? 0 : rc;
}
