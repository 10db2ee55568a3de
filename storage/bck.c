/*
 * Bucket directories: path building, create, destroy.
 *
 * Design notes: destroy must make the bucket vanish at once for readers and must not walk a
 * tree in the caller's thread (it runs from a BMD callback), so each mountpath's bucket dir
 * is only renamed into <mp>/.trash (same filesystem, so rename is atomic) and the background
 * remover (trash.c) deletes it. A PUT in flight keeps writing into its work file, which moved
 * with the bucket; its rename into %ob then fails with ENOENT because %ob is gone and put.c
 * never creates %ob. nftw(FTW_DEPTH|FTW_PHYS) never follows symlinks out of the tree.
 */
#include "common/assert.h"
#include "common/log.h"
#include "common/util.h"
#include "storage/storage.h"
#include "storage/storage_int.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* nftw keeps at most this many directory fds open while walking. */
#define ST_NFTW_FDS_MAX 32

int
st_path_fmt(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        return -ENAMETOOLONG;
    }
    return n;
}

int
st_set_bck_dir(const struct st_mpset *s, size_t i, const struct st_bck *bck, char *out, size_t cap)
{
    AIS_ASSERT(s != NULL);
    AIS_ASSERT(bck != NULL && bck->provider != NULL && bck->name != NULL);
    if (i >= AIS_MPATHS_MAX || s->paths[i] == NULL) {
        return -ENOENT;
    }
    const char *ns = bck->ns != NULL ? bck->ns : "";
    if (ns[0] == '@' && ns[1] == '#') {
        ns++; /* local namespace "@#name" lives in dir "#name" (AIS layout) */
    }
    return st_path_fmt(out, cap, "%s/@%s/%s%s%s", s->paths[i], bck->provider, ns,
                       ns[0] != '\0' ? "/" : "", bck->name);
}

int
st_set_ct_dir(const struct st_mpset *s, size_t i, const struct st_bck *bck, const char *ct,
              char *out, size_t cap)
{
    int n = st_set_bck_dir(s, i, bck, out, cap);
    if (n < 0) {
        return n;
    }
    int m = st_path_fmt(out + n, cap - (size_t)n, "/%s", ct);
    return m < 0 ? m : n + m;
}

int
st_bck_dir(const struct st_mpaths *mp, size_t i, const struct st_bck *bck, char *out, size_t cap)
{
    const struct st_mpset *s = st_mpset_ref(mp);
    int n = st_set_bck_dir(s, i, bck, out, cap);
    st_mpset_unref(mp, s);
    return n;
}

int
st_bck_ct_dir(const struct st_mpaths *mp, size_t i, const struct st_bck *bck, const char *ct,
              char *out, size_t cap)
{
    const struct st_mpset *s = st_mpset_ref(mp);
    int n = st_set_ct_dir(s, i, bck, ct, out, cap);
    st_mpset_unref(mp, s);
    return n;
}

static int
tree_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
    return rc < 0 && errno != ENOENT ? errno : 0;
}

int
st_tree_remove(const char *path)
{
    AIS_ASSERT(path != NULL);
    int rc = nftw(path, tree_remove_one, ST_NFTW_FDS_MAX, FTW_DEPTH | FTW_PHYS);
    if (rc < 0) {
        return errno == ENOENT ? 0 : -errno;
    }
    return -rc;
}

int
st_bck_create(struct st_mpaths *mp, const struct st_bck *bck)
{
    AIS_ASSERT(mp != NULL);
    char path[AIS_PATH_BYTES_MAX];
    static const char *const cts[] = {ST_DIR_OBJ, ST_DIR_WORK};
    int err = 0;
    /* Available mountpaths only: a disabled one may be a missing disk (no mkdir -p into it). */
    const struct st_mpset *s = st_mpset_ref(mp);
    for (size_t k = 0; k < s->navail && err == 0; k++) {
        for (size_t c = 0; c < 2 && err == 0; c++) {
            err = st_set_ct_dir(s, s->avail[k], bck, cts[c], path, sizeof(path));
            if (err >= 0) {
                err = ais_mkdir_p(path);
            }
        }
    }
    st_mpset_unref(mp, s);
    return err < 0 ? err : 0;
}

int
st_bck_destroy(struct st_mpaths *mp, const struct st_bck *bck)
{
    AIS_ASSERT(mp != NULL);
    AIS_ASSERT(bck != NULL);
    char dir[AIS_PATH_BYTES_MAX];
    int err = 0, moved = 0;
    const struct st_mpset *s = st_mpset_ref(mp);
    for (size_t i = 0; i < s->nslots; i++) {
        int e = st_set_bck_dir(s, i, bck, dir, sizeof(dir));
        if (e == -ENOENT) {
            continue; /* free slot */
        }
        if (e >= 0) {
            e = st_trash_move(mp, i, dir, bck->name);
        }
        moved |= e > 0;
        if (e < 0 && err == 0) {
            err = e; /* keep going: the other mountpaths should still drop the bucket */
        }
    }
    st_mpset_unref(mp, s);
    if (moved) {
        st_trash_kick(mp->trash);
    }
    return err;
}
