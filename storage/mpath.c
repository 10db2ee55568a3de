/*
 * Mountpaths: opening, ownership, crash cleanup, HRW choice, capacity.
 *
 * Design notes: the set is built once and never changes, so readers need no lock. Paths are
 * cleaned lexically like Go's filepath.Clean because the HRW digest of the cleaned string
 * must match AIS's. Ownership is an xattr on the root, claimed with XATTR_CREATE so two
 * daemons racing for one disk cannot both win. Crash leftovers are bounded by the layout:
 * work files live only in <mp>/@<prov>/[<ns>/]<bucket>/%wk, so cleanup walks a fixed depth
 * instead of the whole disk; destroyed buckets in <mp>/.trash are left to the background
 * remover (trash.c), so a large leftover does not delay startup.
 */
#include "common/assert.h"
#include "common/hrw.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"
#include "storage/storage.h"
#include "storage/storage_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

typedef int (*st_dirent_fn)(void *ctx, const char *path, const char *name);

/* Lexical clean: collapses "//", drops "." and trailing '/', resolves ".." (Go semantics). */
static void
path_clean(const char *in, char *out)
{
    size_t n = strlen(in), r = 0, w = 0, dotdot = 0;
    int rooted = n > 0 && in[0] == '/';
    if (rooted) {
        out[w++] = '/';
        r = dotdot = 1;
    }
    while (r < n) {
        if (in[r] == '/') {
            r++;
        } else if (in[r] == '.' && (r + 1 == n || in[r + 1] == '/')) {
            r++;
        } else if (in[r] == '.' && in[r + 1] == '.' && (r + 2 == n || in[r + 2] == '/')) {
            r += 2;
            if (w > dotdot) {
                for (w--; w > dotdot && out[w] != '/'; w--) {
                }
            } else if (!rooted) {
                if (w > 0) {
                    out[w++] = '/';
                }
                out[w++] = '.';
                out[w++] = '.';
                dotdot = w;
            }
        } else {
            if ((rooted && w != 1) || (!rooted && w != 0)) {
                out[w++] = '/';
            }
            for (; r < n && in[r] != '/'; r++) {
                out[w++] = in[r];
            }
        }
    }
    if (w == 0) {
        out[w++] = '.';
    }
    out[w] = '\0';
}

static int
mpath_add(struct st_mpaths *mp, const char *path)
{
    size_t len = strlen(path);
    if (len == 0 || len >= AIS_PATH_BYTES_MAX) {
        return len == 0 ? -EINVAL : -ENAMETOOLONG;
    }
    char *clean = malloc(len + 2);
    if (clean == NULL) {
        return -ENOMEM;
    }
    path_clean(path, clean);
    for (size_t i = 0; i < mp->n; i++) {
        if (strcmp(mp->paths[i], clean) == 0) {
            free(clean);
            return -EINVAL;
        }
    }
    mp->paths[mp->n] = clean;
    mp->digests[mp->n] = ais_hrw_digest(clean, strlen(clean));
    mp->n++;
    return 0;
}

static int
daemon_id_claim(const char *root, const char *id)
{
    char cur[AIS_DAEMON_ID_BYTES_MAX + 1];
    size_t id_len = strlen(id);
    ssize_t n = getxattr(root, ST_XATTR_DAEMON_ID, cur, sizeof(cur) - 1);
    if (n >= 0) {
        return (size_t)n == id_len && memcmp(cur, id, id_len) == 0 ? 0 : -EEXIST;
    }
    if (errno == ERANGE) {
        return -EEXIST; /* longer than any id we would write: someone else's */
    }
    if (errno != ENODATA) {
        return -errno;
    }
    if (setxattr(root, ST_XATTR_DAEMON_ID, id, id_len, XATTR_CREATE) < 0) {
        return -errno; /* EEXIST: another daemon claimed it just now */
    }
    return 0;
}

/* Calls fn for every entry of dir except "." and "..". A missing dir or a file is empty. */
static int
dir_each(const char *dir, st_dirent_fn fn, void *ctx)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
    }
    char path[AIS_PATH_BYTES_MAX];
    int err = 0;
    struct dirent *de;
    while (err == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        err = st_path_fmt(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (err >= 0) {
            err = fn(ctx, path, de->d_name);
        }
    }
    closedir(d);
    return err;
}

static int
wk_entry_remove(void *ctx, const char *path, const char *name)
{
    (void)ctx;
    AIS_LOG_INFO("req=- msg=\"removing leftover work file\" path=%s", path);
    return st_tree_remove(path);
}

static int
bck_wk_clean(void *ctx, const char *path, const char *name)
{
    char wk[AIS_PATH_BYTES_MAX];
    int err = st_path_fmt(wk, sizeof(wk), "%s/%s", path, ST_DIR_WORK);
    return err < 0 ? err : dir_each(wk, wk_entry_remove, ctx);
}

/* An entry under @<prov> is a namespace (starts with '#' or '@') or a bucket. */
static int
prov_entry_clean(void *ctx, const char *path, const char *name)
{
    if (name[0] == '#' || name[0] == '@') {
        return dir_each(path, bck_wk_clean, ctx);
    }
    return bck_wk_clean(ctx, path, name);
}

/* The trash is left to the remover thread, which sweeps it first thing (trash.c). */
static int
root_entry_clean(void *ctx, const char *path, const char *name)
{
    if (name[0] == '@') {
        return dir_each(path, prov_entry_clean, ctx);
    }
    return 0;
}

static int
mpath_prepare(const char *root, const char *daemon_id)
{
    struct stat st;
    int err = ais_mkdir_p(root);
    if (err == 0 && stat(root, &st) < 0) {
        err = -errno;
    }
    if (err == 0 && !S_ISDIR(st.st_mode)) {
        err = -ENOTDIR;
    }
    if (err == 0) {
        err = daemon_id_claim(root, daemon_id);
    }
    if (err == 0) {
        err = dir_each(root, root_entry_clean, NULL);
    }
    if (err < 0) {
        AIS_LOG_WARN("req=- msg=\"mountpath unusable\" path=%s err=%d", root, err);
    }
    return err;
}

/* Runtime state: lock table, walk counter, trash remover (started last: it reads mp). */
static int
mpaths_rt_init(struct st_mpaths *mp)
{
    int err = st_locks_new(&mp->locks);
    if (err == 0 && (mp->list_walks = calloc(1, sizeof(*mp->list_walks))) == NULL) {
        err = -ENOMEM;
    }
    if (err == 0) {
        err = st_trash_start(mp, &mp->trash);
    }
    return err;
}

int
st_mpaths_open(const char *const *paths, size_t n, const char *daemon_id, struct st_mpaths **out)
{
    AIS_ASSERT(paths != NULL || n == 0);
    AIS_ASSERT(daemon_id != NULL);
    AIS_ASSERT(out != NULL);
    struct st_mpaths *mp = NULL;
    size_t id_len = strlen(daemon_id);
    int err = 0;
    if (n == 0 || n > AIS_MPATHS_MAX || id_len == 0 || id_len > AIS_DAEMON_ID_BYTES_MAX) {
        err = -EINVAL;
        goto out;
    }
    mp = calloc(1, sizeof(*mp));
    if (mp == NULL) {
        err = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n && err == 0; i++) {
        err = mpath_add(mp, paths[i]);
    }
    for (size_t i = 0; i < mp->n && err == 0; i++) {
        err = mpath_prepare(mp->paths[i], daemon_id);
    }
    if (err == 0) {
        err = mpaths_rt_init(mp);
    }
    if (err == 0) {
        *out = mp;
        mp = NULL;
    }
out:
    st_mpaths_free(mp);
    return err;
}

void
st_mpaths_free(struct st_mpaths *mp)
{
    if (mp == NULL) {
        return;
    }
    st_trash_stop(mp->trash); /* first: the remover reads mp */
    st_locks_free(mp->locks);
    free(mp->list_walks);
    for (size_t i = 0; i < mp->n; i++) {
        free(mp->paths[i]);
    }
    free(mp);
}

size_t
st_mpaths_count(const struct st_mpaths *mp)
{
    AIS_ASSERT(mp != NULL);
    return mp->n;
}

uint64_t
st_mpaths_list_walks(const struct st_mpaths *mp)
{
    AIS_ASSERT(mp != NULL);
    return __atomic_load_n(mp->list_walks, __ATOMIC_RELAXED);
}

const char *
st_mpaths_path(const struct st_mpaths *mp, size_t i)
{
    AIS_ASSERT(mp != NULL);
    AIS_ASSERT(i < mp->n);
    return mp->paths[i];
}

size_t
st_mpaths_pick(const struct st_mpaths *mp, uint64_t digest)
{
    AIS_ASSERT(mp != NULL);
    AIS_ASSERT(mp->n > 0);
    return ais_hrw_pick(mp->digests, mp->n, digest);
}

int
st_mpaths_capacity(const struct st_mpaths *mp, size_t i, uint64_t *total_bytes,
                   uint64_t *avail_bytes)
{
    AIS_ASSERT(mp != NULL);
    AIS_ASSERT(i < mp->n);
    struct statvfs vfs;
    if (statvfs(mp->paths[i], &vfs) < 0) {
        return -errno;
    }
    if (total_bytes != NULL) {
        *total_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
    }
    if (avail_bytes != NULL) {
        *avail_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    }
    return 0;
}
