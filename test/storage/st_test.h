/*
 * Helpers shared by the storage tests: a scratch dir under /tmp, mountpaths inside it,
 * one-call PUT and whole-object reads. Everything asserts; tests stay short.
 */
#ifndef AIS_TEST_STORAGE_ST_TEST_H
#define AIS_TEST_STORAGE_ST_TEST_H

/* cmocka needs these first, in this order. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "common/hrw.h"
#include "common/limits.h"
#include "storage/storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T_MPATHS_MAX 4

struct t_env {
    char root[64];
    char mp_dirs[T_MPATHS_MAX][128];
    size_t n;
    struct st_mpaths *mp;
};

static const struct st_bck t_bck = {"ais", "", "bck"};

static inline int
t_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static inline void
t_rm_rf(const char *path)
{
    (void)nftw(path, t_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline uint64_t
t_digest(const struct st_bck *bck, const char *obj)
{
    char uname[2048];
    int n = ais_uname(uname, sizeof(uname), bck->provider, bck->ns, bck->name, obj);
    assert_true(n > 0);
    return ais_hrw_digest(uname, (size_t)n);
}

/* Creates the scratch dir, n mountpath dirs (not yet created on disk) and opens them. */
static inline struct t_env *
t_env_new(size_t n)
{
    struct t_env *e = calloc(1, sizeof(*e));
    const char *paths[T_MPATHS_MAX];
    assert_non_null(e);
    assert_true(n <= T_MPATHS_MAX);
    snprintf(e->root, sizeof(e->root), "/tmp/ais-st-XXXXXX");
    assert_non_null(mkdtemp(e->root));
    for (size_t i = 0; i < n; i++) {
        snprintf(e->mp_dirs[i], sizeof(e->mp_dirs[i]), "%s/mp%zu", e->root, i);
        paths[i] = e->mp_dirs[i];
    }
    e->n = n;
    assert_int_equal(st_mpaths_open(paths, n, "t1", &e->mp), 0);
    return e;
}

static inline void
t_env_free(struct t_env *e)
{
    st_mpaths_free(e->mp);
    t_rm_rf(e->root);
    free(e);
}

static inline int
t_put(struct t_env *e, const struct st_bck *bck, const char *obj, const void *data, size_t len,
      const struct st_put_opts *opts, struct st_obj_md *md)
{
    struct st_put *put = NULL;
    int err = st_put_begin(e->mp, bck, obj, t_digest(bck, obj), opts, &put);
    if (err < 0) {
        return err;
    }
    err = st_put_write(put, data, len);
    if (err < 0) {
        st_put_abort(put);
        return err;
    }
    return st_put_finish(put, md);
}

/* Reads the whole object into a malloc'd buffer (NUL-terminated); returns its length. */
static inline size_t
t_get(struct t_env *e, const struct st_bck *bck, const char *obj, char **out, struct st_obj_md *md)
{
    int fd = -1;
    assert_int_equal(st_obj_open(e->mp, bck, obj, t_digest(bck, obj), &fd, md), 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    char *buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    ssize_t n = read(fd, buf, (size_t)st.st_size);
    assert_int_equal(n, st.st_size);
    buf[n] = '\0';
    close(fd);
    *out = buf;
    return (size_t)n;
}

/* Path of a content-type dir (%ob/%wk) of the test bucket on mountpath i. */
static inline void
t_ct_dir(const struct t_env *e, size_t i, const struct st_bck *bck, const char *ct, char *out,
         size_t cap)
{
    const char *ns = bck->ns;
    int n = snprintf(out, cap, "%s/@%s/%s%s%s/%s", st_mpaths_path(e->mp, i), bck->provider, ns,
                     ns[0] ? "/" : "", bck->name, ct);
    assert_true(n > 0 && (size_t)n < cap);
}

/* Number of entries (excluding . and ..) in dir; -1 if it does not exist. */
static inline int
t_dir_count(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return -1;
    }
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    }
    closedir(d);
    return n;
}

/* Total work files of bck over all mountpaths. */
static inline int
t_wk_count(const struct t_env *e, const struct st_bck *bck)
{
    char dir[AIS_PATH_BYTES_MAX];
    int total = 0;
    for (size_t i = 0; i < e->n; i++) {
        t_ct_dir(e, i, bck, "%wk", dir, sizeof(dir));
        int n = t_dir_count(dir);
        total += n > 0 ? n : 0;
    }
    return total;
}

/* Absolute path of obj on the mountpath that holds it per HRW. */
static inline void
t_obj_path(const struct t_env *e, const struct st_bck *bck, const char *obj, char *out, size_t cap)
{
    char dir[AIS_PATH_BYTES_MAX];
    t_ct_dir(e, st_mpaths_pick(e->mp, t_digest(bck, obj)), bck, "%ob", dir, sizeof(dir));
    int n = snprintf(out, cap, "%s/%s", dir, obj);
    assert_true(n > 0 && (size_t)n < cap);
}

/* Writes a file directly (as a user copying data in, without us). */
static inline void
t_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

/* Creates the missing parent dirs of path below path[0..keep_len). */
static inline void
t_mkdir_parents(const char *path, size_t keep_len)
{
    char tmp[AIS_PATH_BYTES_MAX + 64];
    int n = snprintf(tmp, sizeof(tmp), "%s", path);
    assert_true(n > 0 && (size_t)n < sizeof(tmp));
    for (char *s = tmp + keep_len + 1; *s != '\0'; s++) {
        if (*s == '/') {
            *s = '\0';
            assert_true(mkdir(tmp, 0755) == 0 || errno == EEXIST);
            *s = '/';
        }
    }
}

#endif
