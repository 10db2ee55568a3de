/*
 * PUT: work file, streaming checksum, atomic publish.
 *
 * Design notes: bytes go to a uniquely named flat file in the bucket's %wk on the object's
 * own mountpath, so the final rename() into %ob is atomic and never crosses filesystems.
 * The name is <digest hex>.<pid>.<counter>; O_EXCL plus a bounded retry covers a leftover
 * from an earlier process that had the same pid. The LOM xattr is written on the work file
 * *before* the rename: the xattr moves with the inode, so readers never see an object
 * without its metadata. Parent dirs are created one level at a time below %ob only (never
 * %ob itself), so a PUT racing with bucket destroy fails instead of resurrecting the bucket;
 * a race with st_obj_delete pruning our fresh parent shows up as ENOENT and is retried.
 * Two checksums run when the client's expected type differs from the stored type.
 * A failed fsync of the parent directory after the rename is reported, but the object has
 * already replaced the previous one by then (the only error path that leaves it visible).
 * Locking (lock.c): the body is written and fsynced without any lock; only the version
 * read-modify-write, the xattr (when versioning needs the previous version), the read-back and
 * the rename run under the object's exclusive lock, so the section is short and a concurrent
 * GET sees either the old object with its metadata or the new one with its own.
 * Mountpath changes: a PUT holds the mountpath set it started under until it ends (so a
 * resilver can wait for it: st_mpaths_drain) and writes where that set's HRW put it. If the
 * set changed meanwhile and the HRW slot is now another one, the copy there is older than
 * ours: it is removed under the same lock, so a reader (HRW slot first, then the newest copy
 * anywhere) finds our object, and the resilver moves it to its new place.
 */
#include "common/assert.h"
#include "common/err.h"
#include "common/limits.h"
#include "storage/storage.h"
#include "storage/storage_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* One mirror copy of a PUT: its own work file on another mountpath, published with the main. */
struct put_copy {
    uint32_t slot;
    int fd;
    int published;
    int made_dirs;
    size_t ob_len; /* obj[0..ob_len) is that mountpath's %ob dir */
    char wk[AIS_PATH_BYTES_MAX];
    char obj[AIS_PATH_BYTES_MAX];
};

struct st_put {
    const struct st_mpaths *mp;
    const struct st_mpset *set; /* held from begin to free */
    uint64_t digest;
    int fd;
    int err;       /* sticky: a failed write poisons the PUT */
    int published; /* work file renamed into %ob */
    int fsync;
    int versioning;
    int keep_newer;   /* an existing object at least as new as mtime_ns wins (-EEXIST) */
    int if_match;     /* the object in place must be the file match was read from */
    int if_absent;    /* no object may be in place (else -ESTALE) */
    struct st_obj_md match;
    int64_t mtime_ns; /* preset mtime (0 = now) */
    char version[ST_VERSION_BYTES]; /* preset version ("" = computed) */
    int expect;                     /* verify a client-supplied checksum */
    int expect_too_long;            /* the client's value cannot match anything we compute */
    int made_dirs;                  /* put_mkdirs created a directory: its parents need fsync too */
    uint32_t mpath_idx;
    unsigned copies;     /* mirror copies asked for (0/1: none extra) */
    size_t ncp;          /* extra copies prepared in cp[] */
    struct put_copy *cp; /* copies - 1 entries, only when mirroring */
    uint64_t size;
    struct st_cksum *ck;        /* the stored type */
    struct st_cksum *ck_expect; /* only when the expected type differs */
    size_t ob_len;              /* obj_path[0..ob_len) is the %ob dir */
    char cksum_type[ST_CKSUM_TYPE_BYTES];
    char expect_value[ST_CKSUM_VALUE_BYTES];
    char custom[ST_CUSTOM_BYTES];
    char wk_path[AIS_PATH_BYTES_MAX];
    char obj_path[AIS_PATH_BYTES_MAX];
};

static atomic_uint_fast64_t st_put_seq;

static int
put_expects(const struct st_put_opts *o)
{
    return o->expect_type != NULL && o->expect_value != NULL && strcmp(o->expect_type, "none");
}

/* Copies options and starts the checksums. -EINVAL for unknown types or oversized custom. */
static int
put_init(struct st_put *put, const struct st_put_opts *o)
{
    const char *type = o->cksum_type != NULL ? o->cksum_type : "xxhash";
    int err = st_cksum_new(type, &put->ck);
    if (err < 0) {
        return err;
    }
    snprintf(put->cksum_type, sizeof(put->cksum_type), "%s", type);
    put->fsync = o->fsync;
    put->versioning = o->versioning;
    put->copies = o->copies > AIS_MPATHS_MAX ? AIS_MPATHS_MAX : o->copies;
    put->keep_newer = o->keep_newer && o->mtime_ns > 0;
    put->if_absent = o->if_absent;
    if (o->if_match != NULL) {
        put->if_match = 1;
        put->match = *o->if_match;
    }
    put->mtime_ns = o->mtime_ns > 0 ? o->mtime_ns : 0;
    if (o->version != NULL &&
        st_path_fmt(put->version, sizeof(put->version), "%s", o->version) < 0) {
        return -EINVAL;
    }
    if (o->custom != NULL && st_path_fmt(put->custom, sizeof(put->custom), "%s", o->custom) < 0) {
        return -EINVAL;
    }
    if (!put_expects(o)) {
        return 0;
    }
    put->expect = 1;
    put->expect_too_long =
        st_path_fmt(put->expect_value, sizeof(put->expect_value), "%s", o->expect_value) < 0;
    if (strcmp(o->expect_type, type) != 0) {
        err = st_cksum_new(o->expect_type, &put->ck_expect);
    }
    return err;
}

/* Builds obj_path and opens a fresh work file. -ENOENT when the bucket has no %wk. */
static int
put_open_work(struct st_put *put, const struct st_mpaths *mp, const struct st_bck *bck,
              const char *obj, uint64_t digest)
{
    put->set = st_mpset_ref(mp);
    put->mpath_idx = (uint32_t)st_mpset_pick(put->set, digest);
    int err = st_set_obj_path(put->set, put->mpath_idx, bck, obj, put->obj_path,
                              sizeof(put->obj_path), &put->ob_len);
    int wk_len = err < 0 ? err
                         : st_set_ct_dir(put->set, put->mpath_idx, bck, ST_DIR_WORK, put->wk_path,
                                         sizeof(put->wk_path));
    if (wk_len < 0) {
        return wk_len;
    }
    for (int i = 0; i < ST_WORK_OPEN_TRIES_MAX; i++) {
        uint64_t seq = atomic_fetch_add(&st_put_seq, 1);
        err = st_path_fmt(put->wk_path + wk_len, sizeof(put->wk_path) - (size_t)wk_len,
                          "/%016" PRIx64 ".%ld.%" PRIu64, digest, (long)getpid(), seq);
        if (err < 0) {
            break;
        }
        put->fd = open(put->wk_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        err = put->fd >= 0 ? 0 : -errno;
        if (err != -EEXIST) {
            break;
        }
    }
    return err;
}

/* Frees put; removes the work file unless it was published. Accepts NULL. */
static void
put_free(struct st_put *put)
{
    if (put == NULL) {
        return;
    }
    if (put->fd >= 0) {
        close(put->fd);
        if (!put->published) {
            unlink(put->wk_path);
        }
    }
    for (size_t i = 0; i < put->ncp; i++) {
        if (put->cp[i].fd >= 0) {
            close(put->cp[i].fd);
        }
        if (!put->cp[i].published) {
            unlink(put->cp[i].wk);
        }
    }
    free(put->cp);
    st_cksum_free(put->ck);
    st_cksum_free(put->ck_expect);
    st_mpset_unref(put->mp, put->set);
    free(put);
}

int
st_put_begin(struct st_mpaths *mp, const struct st_bck *bck, const char *obj, uint64_t digest,
             const struct st_put_opts *opts, struct st_put **out)
{
    AIS_ASSERT(mp != NULL);
    AIS_ASSERT(bck != NULL);
    AIS_ASSERT(obj != NULL);
    AIS_ASSERT(out != NULL);
    static const struct st_put_opts defaults = {0};
    struct st_put *put = calloc(1, sizeof(*put));
    int err = 0;
    if (put == NULL) {
        err = -ENOMEM;
        goto out;
    }
    put->fd = -1;
    put->mp = mp;
    put->digest = digest;
    err = put_init(put, opts != NULL ? opts : &defaults);
    if (err < 0) {
        goto out;
    }
    err = put_open_work(put, mp, bck, obj, digest);
    if (err < 0) {
        goto out;
    }
    *out = put;
    put = NULL;
out:
    put_free(put);
    return err;
}

int
st_put_write(struct st_put *put, const void *data, size_t len)
{
    AIS_ASSERT(put != NULL);
    AIS_ASSERT(data != NULL || len == 0);
    const char *p = data;
    size_t left = len;
    while (put->err == 0 && left > 0) {
        ssize_t w = write(put->fd, p, left);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            put->err = w < 0 ? -errno : -EIO;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (put->err == 0) {
        st_cksum_update(put->ck, data, len);
        if (put->ck_expect != NULL) {
            st_cksum_update(put->ck_expect, data, len);
        }
        put->size += len;
    }
    return put->err;
}

void
st_put_abort(struct st_put *put)
{
    put_free(put);
}

/* Finalises checksums into md and checks the client's value. 0 or AIS_EBADCKSUM. */
static int
put_cksum_check(struct st_put *put, struct st_obj_md *md)
{
    char other[ST_CKSUM_VALUE_BYTES];
    snprintf(md->cksum_type, sizeof(md->cksum_type), "%s", put->cksum_type);
    st_cksum_final(put->ck, md->cksum_value);
    put->ck = NULL;
    if (!put->expect) {
        return 0;
    }
    const char *got = md->cksum_value;
    if (put->ck_expect != NULL) {
        st_cksum_final(put->ck_expect, other);
        put->ck_expect = NULL;
        got = other;
    }
    if (put->expect_too_long || strcasecmp(got, put->expect_value) != 0) {
        return AIS_EBADCKSUM;
    }
    return 0;
}

/* Version: previous + 1 when versioning and the previous one is a number, else "1". */
static void
put_version(const struct st_put *put, char out[ST_VERSION_BYTES])
{
    char prev[ST_VERSION_BYTES];
    unsigned long long v = 0;
    if (put->version[0] != '\0') {
        snprintf(out, ST_VERSION_BYTES, "%s", put->version);
        return;
    }
    if (put->versioning) {
        st_lom_version_of(put->obj_path, prev);
        char *end = NULL;
        errno = 0;
        v = strtoull(prev, &end, 10);
        if (prev[0] < '0' || prev[0] > '9' || *end != '\0' || errno != 0 || v == ULLONG_MAX) {
            v = 0;
        }
    }
    snprintf(out, ST_VERSION_BYTES, "%llu", v + 1);
}

/* mkdir of each parent of path below its %ob (path[0..ob_len), which must exist). */
static int
mkdirs_below_ob(char *p, size_t ob_len, int *made_dirs)
{
    for (size_t i = ob_len + 1; p[i] != '\0'; i++) {
        if (p[i] != '/') {
            continue;
        }
        p[i] = '\0';
        int rc = mkdir(p, 0755);
        int e = errno;
        p[i] = '/';
        if (rc < 0 && e != EEXIST) {
            return -e;
        }
        *made_dirs |= rc == 0;
    }
    return 0;
}

static int
put_mkdirs(struct st_put *put)
{
    return mkdirs_below_ob(put->obj_path, put->ob_len, &put->made_dirs);
}

static int
fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    int err = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return err;
}

/*
 * fsyncs the object's parent; when we created directories, every ancestor up to and including
 * %ob, so the new entries themselves are durable. Bounded by the name's depth.
 */
static int
fsync_dirs_of(const char *path, size_t ob_len, int made_dirs)
{
    char dir[AIS_PATH_BYTES_MAX];
    int err = 0;
    snprintf(dir, sizeof(dir), "%s", path);
    for (char *s = strrchr(dir, '/'); err == 0 && s != NULL && (size_t)(s - dir) >= ob_len;
         s = strrchr(dir, '/')) {
        *s = '\0';
        err = fsync_dir(dir);
        if (!made_dirs) {
            break;
        }
    }
    return err;
}

static int
put_fsync_dirs(const struct st_put *put)
{
    int err = fsync_dirs_of(put->obj_path, put->ob_len, put->made_dirs);
    for (size_t i = 0; err == 0 && i < put->ncp; i++) {
        if (put->cp[i].published) {
            err = fsync_dirs_of(put->cp[i].obj, put->cp[i].ob_len, put->cp[i].made_dirs);
        }
    }
    /* Runs after the lock is dropped: a DELETE may already have removed the object and pruned
     * its parent. The PUT did succeed; there is just nothing left to make durable. */
    return err == -ENOENT ? 0 : err;
}

/* Renames the work file into %ob. -ENOTDIR/-EISDIR on a name collision. */
static int
put_publish(struct st_put *put)
{
    int err = 0;
    for (int i = 0; i < ST_PUT_RENAME_TRIES_MAX; i++) {
        err = put_mkdirs(put);
        if (err == 0 && rename(put->wk_path, put->obj_path) < 0) {
            err = -errno;
        }
        if (err != -ENOENT) {
            break;
        }
    }
    if (err < 0) {
        st_prune_parents(put->obj_path, put->ob_len);
        return err;
    }
    put->published = 1;
    return 0;
}

/* Stamps the version and writes the LOM xattr on the work file. */
static int
put_store_md(struct st_put *put, struct st_obj_md *md)
{
    put_version(put, md->version);
    return st_lom_store_fd(put->fd, md);
}

/*
 * Under the exclusive lock, after publishing: when the mountpath set changed since begin and
 * the object's HRW slot is now another one, the copy there predates ours. Best effort.
 */
static void
put_drop_hrw_copy(const struct st_put *put)
{
    if (st_mpaths_gen(put->mp) == put->set->gen) {
        return; /* the common case: nothing changed */
    }
    char path[AIS_PATH_BYTES_MAX];
    const struct st_mpset *s = st_mpset_ref(put->mp);
    size_t hrw = st_mpset_pick(s, put->digest);
    /* The part below the root is the same on every mountpath (paths are cleaned). */
    size_t root_len = strlen(put->set->paths[put->mpath_idx]);
    const char *rel = put->obj_path + root_len;
    if (hrw != put->mpath_idx && st_path_fmt(path, sizeof(path), "%s%s", s->paths[hrw], rel) >= 0 &&
        unlink(path) == 0) {
        st_prune_parents(path, strlen(s->paths[hrw]) + (put->ob_len - root_len));
    }
    st_mpset_unref(put->mp, s);
}

/*
 * Before the lock: copies the finished (and, per fsync, synced) work file into a work file on
 * each further HRW mountpath, with the LOM xattr. A copy that fails is left out and logged by
 * the caller through md->copies; the PUT itself does not fail for it.
 */
static int
put_copies_prepare(struct st_put *put, const struct st_obj_md *md)
{
    uint32_t ranks[AIS_MPATHS_MAX];
    size_t n = st_mpset_rank(put->set, put->digest, put->copies, ranks);
    if (n <= 1) {
        return 0;
    }
    AIS_ASSERT(ranks[0] == put->mpath_idx);
    put->cp = calloc(n - 1, sizeof(*put->cp));
    int in = put->cp == NULL ? -1 : open(put->wk_path, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        return put->cp == NULL ? -ENOMEM : -errno;
    }
    /* Below its root a path is the same on every mountpath (paths are cleaned). */
    size_t root_len = strlen(put->set->paths[put->mpath_idx]);
    for (size_t r = 1; r < n; r++) {
        struct put_copy *c = &put->cp[put->ncp];
        const char *root = put->set->paths[ranks[r]];
        c->slot = ranks[r];
        c->fd = -1;
        c->ob_len = strlen(root) + (put->ob_len - root_len);
        int err = st_path_fmt(c->wk, sizeof(c->wk), "%s%s", root, put->wk_path + root_len);
        err = err < 0 ? err
                      : st_path_fmt(c->obj, sizeof(c->obj), "%s%s", root, put->obj_path + root_len);
        if (err >= 0) {
            c->fd = open(c->wk, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            err = c->fd >= 0 ? 0 : -errno;
        }
        if (err < 0) {
            c->wk[0] = '\0';
            continue; /* nothing to remove: the slot is not counted */
        }
        put->ncp++;
        err = st_file_copy(in, c->fd);
        err = err < 0 ? err : st_lom_store_fd(c->fd, md);
        if (err == 0 && put->fsync && fsync(c->fd) < 0) {
            err = -errno;
        }
        if (err < 0) {
            close(c->fd);
            c->fd = -1; /* unlinked by put_free: never published */
        }
    }
    close(in);
    return 0;
}

/* Under the exclusive lock, after the main copy was published: the copies follow. */
static void
put_copies_publish(struct st_put *put, struct st_obj_md *md)
{
    struct stat st;
    md->copies = 1;
    if (put->ncp == 0 || fstat(put->fd, &st) < 0) {
        return;
    }
    struct timespec ts[2] = {st.st_atim, st.st_mtim}; /* twins: same size and mtime */
    for (size_t i = 0; i < put->ncp; i++) {
        struct put_copy *c = &put->cp[i];
        if (c->fd < 0) {
            continue;
        }
        int err = put->versioning ? st_lom_store_fd(c->fd, md) : 0;
        err = err == 0 && futimens(c->fd, ts) < 0 ? -errno : err;
        for (int k = 0; err == 0 && k < ST_PUT_RENAME_TRIES_MAX; k++) {
            err = mkdirs_below_ob(c->obj, c->ob_len, &c->made_dirs);
            if (err == 0 && rename(c->wk, c->obj) < 0) {
                err = -errno;
            }
            if (err != -ENOENT) {
                break;
            }
        }
        if (err == 0) {
            c->published = 1;
            md->copies++;
        } else {
            st_prune_parents(c->obj, c->ob_len);
        }
    }
}

/*
 * The exclusive section: version read-modify-write (when versioning), xattr, read-back and
 * rename. Without versioning the xattr was written (and synced) before the lock.
 */
static int
put_commit_locked(struct st_put *put, struct st_obj_md *md)
{
    int err = 0;
    struct stat st;
    if (put->keep_newer && stat(put->obj_path, &st) == 0 &&
        (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec >= put->mtime_ns) {
        return -EEXIST; /* a copy at least as new is in place: keep it */
    }
    if (put->if_match || put->if_absent) {
        int here = stat(put->obj_path, &st) == 0;
        if ((put->if_absent && here) ||
            (put->if_match && (!here || !st_md_same_file(&put->match, &st)))) {
            return -ESTALE; /* changed since it was read: the caller starts over */
        }
    }
    if (put->mtime_ns > 0) {
        struct timespec ts[2] = {{put->mtime_ns / 1000000000, put->mtime_ns % 1000000000},
                                 {put->mtime_ns / 1000000000, put->mtime_ns % 1000000000}};
        if (futimens(put->fd, ts) < 0) {
            return -errno;
        }
    }
    if (put->versioning) {
        err = put_store_md(put, md);
        if (err == 0 && put->fsync && fsync(put->fd) < 0) {
            err = -errno;
        }
    }
    if (err == 0) {
        /* Reads back what readers will see: pairs the xattr write with its read. */
        err = st_md_load_fd(put->fd, put->mpath_idx, md);
        AIS_ASSERT(err < 0 || md->size == put->size);
        AIS_ASSERT(err < 0 || strcmp(md->cksum_type, put->cksum_type) == 0);
    }
    if (err == 0) {
        err = put_publish(put);
    }
    if (err == 0) {
        put_drop_hrw_copy(put);
        put_copies_publish(put, md);
    }
    return err;
}

int
st_put_finish(struct st_put *put, struct st_obj_md *md_out)
{
    AIS_ASSERT(put != NULL);
    struct st_obj_md md = {0};
    int err = put->err;
    if (err == 0) {
        err = put_cksum_check(put, &md);
    }
    if (err == 0) {
        md.size = put->size;
        memcpy(md.custom, put->custom, sizeof(md.custom));
        if (!put->versioning) {
            err = put_store_md(put, &md); /* version "1": no need to read the previous one */
        }
    }
    if (err == 0 && put->fsync && fsync(put->fd) < 0) {
        err = -errno;
    }
    if (err == 0 && put->copies > 1) {
        err = put_copies_prepare(put, &md);
    }
    if (err == 0) {
        st_obj_lock_wr(put->mp, put->digest);
        err = put_commit_locked(put, &md);
        st_obj_unlock(put->mp, put->digest);
    }
    if (err == 0 && put->fsync) {
        err = put_fsync_dirs(put);
    }
    if (err == 0 && md_out != NULL) {
        *md_out = md;
    }
    put_free(put);
    return err;
}

int
st_put_fd(const struct st_put *put)
{
    AIS_ASSERT(put != NULL);
    return put->fd;
}

int
st_put_set_custom(struct st_put *put, const char *custom)
{
    AIS_ASSERT(put != NULL);
    if (custom == NULL) {
        put->custom[0] = '\0';
        return 0;
    }
    return st_path_fmt(put->custom, sizeof(put->custom), "%s", custom) < 0 ? -EINVAL : 0;
}
