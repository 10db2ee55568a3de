/*
 * Goal: the storage module keeps objects and their metadata exactly as storage.h promises:
 * checksums with known values, atomic PUT (nothing visible on mismatch or abort), versions,
 * name collisions, delete with pruning, tolerant metadata reads, validation, crash cleanup
 * and mountpath ownership.
 * Method: real files in a mkdtemp dir under /tmp (ext4/tmpfs with user xattrs); known-answer
 * checksums computed independently (Python hashlib, a bitwise crc32c, libxxhash); corruption
 * injected with setxattr/pwrite behind the module's back; limits probed at max and max+1.
 */
#include "common/err.h"
#include "st_test.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/xattr.h>
#include <xxhash.h>

static const struct st_bck t_bck_ns = {"ais", "#ns1", "bck2"};

/* --- checksums --- */

struct t_known {
    const char *type;
    const char *abc;   /* of "abc" */
    const char *empty; /* of "" */
};

static const struct t_known t_knowns[] = {
    {"none", "", ""},
    {"xxhash", "44bc2cf5ad770999", "ef46db3751d8e999"},
    {"xxhash2", "44bc2cf5ad770999", "ef46db3751d8e999"},
    {"crc32c", "364b3fb7", "00000000"},
    {"md5", "900150983cd24fb0d6963f7d28e17f72", "d41d8cd98f00b204e9800998ecf8427e"},
    {"sha256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"sha512",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3"
     "feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d28"
     "77eec2f63b931bd47417a81a538327af927da3e"},
};

#define T_NKNOWN (sizeof(t_knowns) / sizeof(t_knowns[0]))

static void
cksum_of(const char *type, const void *data, size_t len, size_t step,
         char out[ST_CKSUM_VALUE_BYTES])
{
    struct st_cksum *c = NULL;
    assert_int_equal(st_cksum_new(type, &c), 0);
    const char *p = data;
    for (size_t off = 0; off < len; off += step) {
        st_cksum_update(c, p + off, len - off < step ? len - off : step);
    }
    st_cksum_final(c, out);
}

static void
test_cksum_known_answers(void **state)
{
    (void)state;
    char v[ST_CKSUM_VALUE_BYTES];
    for (size_t i = 0; i < T_NKNOWN; i++) {
        cksum_of(t_knowns[i].type, "abc", 3, 3, v);
        assert_string_equal(v, t_knowns[i].abc);
        cksum_of(t_knowns[i].type, "abc", 3, 1, v); /* streamed byte by byte */
        assert_string_equal(v, t_knowns[i].abc);
        cksum_of(t_knowns[i].type, "", 0, 1, v);
        assert_string_equal(v, t_knowns[i].empty);
    }
    /* Castagnoli check value with the standard init/xorout, as Go computes it. */
    cksum_of("crc32c", "123456789", 9, 4, v);
    assert_string_equal(v, "e3069283");
}

static void
test_cksum_unknown_type(void **state)
{
    (void)state;
    struct st_cksum *c = (struct st_cksum *)&c; /* must stay untouched on error */
    struct st_cksum *const sentinel = c;
    assert_int_equal(st_cksum_new("sha1", &c), -EINVAL);
    assert_int_equal(st_cksum_new("XXHASH", &c), -EINVAL);
    assert_int_equal(st_cksum_new("", &c), -EINVAL);
    assert_int_equal(st_cksum_new(NULL, &c), -EINVAL);
    assert_ptr_equal(c, sentinel);
    st_cksum_free(NULL);
    assert_int_equal(st_cksum_new("md5", &c), 0);
    st_cksum_free(c); /* dropped without final */
}

/* --- mountpaths --- */

static void
test_mpaths_args_and_limits(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(1);
    struct st_mpaths *mp = NULL;
    static char dirs[AIS_MPATHS_MAX + 1][128];
    const char *paths[AIS_MPATHS_MAX + 1];
    for (size_t i = 0; i <= AIS_MPATHS_MAX; i++) {
        snprintf(dirs[i], sizeof(dirs[i]), "%s/many/m%zu", e->root, i);
        paths[i] = dirs[i];
    }
    assert_int_equal(st_mpaths_open(paths, 0, "t1", &mp), -EINVAL);
    assert_int_equal(st_mpaths_open(paths, AIS_MPATHS_MAX + 1, "t1", &mp), -EINVAL);
    assert_null(mp);
    assert_int_equal(st_mpaths_open(paths, AIS_MPATHS_MAX, "t1", &mp), 0);
    assert_int_equal(st_mpaths_count(mp), AIS_MPATHS_MAX);
    st_mpaths_free(mp);
    mp = NULL;

    char id[AIS_DAEMON_ID_BYTES_MAX + 2];
    memset(id, 'x', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    assert_int_equal(st_mpaths_open(paths, 1, id, &mp), -EINVAL); /* max+1 */
    id[AIS_DAEMON_ID_BYTES_MAX] = '\0';
    /* max, on a root nobody owns yet */
    assert_int_equal(st_mpaths_open(paths + AIS_MPATHS_MAX, 1, id, &mp), 0);
    st_mpaths_free(mp);
    assert_int_equal(st_mpaths_open(paths, 1, "", &mp), -EINVAL);
    st_mpaths_free(NULL);
    t_env_free(e);
}

static void
test_mpaths_clean_and_pick(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(1);
    char raw[2][256], clean[2][256];
    const char *paths[2] = {raw[0], raw[1]};
    struct st_mpaths *mp = NULL;
    snprintf(raw[0], sizeof(raw[0]), "%s//a/./b/../c/", e->root);
    snprintf(clean[0], sizeof(clean[0]), "%s/a/c", e->root);
    snprintf(raw[1], sizeof(raw[1]), "%s/d", e->root);
    snprintf(clean[1], sizeof(clean[1]), "%s/d", e->root);
    assert_int_equal(st_mpaths_open(paths, 2, "t1", &mp), 0);
    assert_string_equal(st_mpaths_path(mp, 0), clean[0]);
    assert_string_equal(st_mpaths_path(mp, 1), clean[1]);
    uint64_t d[2] = {ais_hrw_digest(clean[0], strlen(clean[0])),
                     ais_hrw_digest(clean[1], strlen(clean[1]))};
    for (int i = 0; i < 200; i++) {
        uint64_t x = t_digest(&t_bck, "obj") * (uint64_t)(i + 1);
        assert_int_equal(st_mpaths_pick(mp, x), ais_hrw_pick(d, 2, x));
    }
    uint64_t total = 0, avail = 0;
    assert_int_equal(st_mpaths_capacity(mp, 1, &total, &avail), 0);
    assert_true(total > 0 && avail <= total);
    st_mpaths_free(mp);
    mp = NULL;
    /* The same root twice (after cleaning) is a configuration error. */
    snprintf(raw[1], sizeof(raw[1]), "%s/a/c/.", e->root);
    assert_int_equal(st_mpaths_open(paths, 2, "t1", &mp), -EINVAL);
    assert_null(mp);
    t_env_free(e);
}

static void
test_mpaths_daemon_id_mismatch(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    const char *paths[2] = {e->mp_dirs[0], e->mp_dirs[1]};
    struct st_mpaths *mp = NULL;
    st_mpaths_free(e->mp);
    e->mp = NULL;
    assert_int_equal(st_mpaths_open(paths, 2, "t2", &mp), -EEXIST);
    assert_null(mp);
    assert_int_equal(st_mpaths_open(paths, 2, "t", &mp), -EEXIST); /* prefix is not a match */
    assert_int_equal(st_mpaths_open(paths, 2, "t1", &e->mp), 0);
    char v[64];
    ssize_t n = getxattr(e->mp_dirs[1], "user.ais.daemon_id", v, sizeof(v));
    assert_int_equal(n, 2);
    assert_memory_equal(v, "t1", 2);
    t_env_free(e);
}

static void
test_mpaths_reopen_cleans_work(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    const char *paths[2] = {e->mp_dirs[0], e->mp_dirs[1]};
    char dir[AIS_PATH_BYTES_MAX], path[AIS_PATH_BYTES_MAX + 32];
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(st_bck_create(e->mp, &t_bck_ns), 0);
    assert_int_equal(t_put(e, &t_bck, "keep/me", "x", 1, NULL, NULL), 0);
    assert_int_equal(t_put(e, &t_bck_ns, "keep2", "y", 1, NULL, NULL), 0);
    /* A crash leaves work files (and a half-destroyed bucket in the trash) behind. */
    for (size_t i = 0; i < 2; i++) {
        t_ct_dir(e, i, &t_bck, "%wk", dir, sizeof(dir));
        snprintf(path, sizeof(path), "%s/dead.%zu", dir, i);
        t_write_file(path, "junk", 4);
        t_ct_dir(e, i, &t_bck_ns, "%wk", dir, sizeof(dir));
        snprintf(path, sizeof(path), "%s/dead.%zu", dir, i);
        t_write_file(path, "junk", 4);
    }
    snprintf(path, sizeof(path), "%s/.trash", e->mp_dirs[0]);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(dir, sizeof(dir), "%s/.trash/bck.1", e->mp_dirs[0]);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(dir, sizeof(dir), "%s/.trash/bck.1/f", e->mp_dirs[0]);
    t_write_file(dir, "old", 3);
    assert_int_equal(t_wk_count(e, &t_bck) + t_wk_count(e, &t_bck_ns), 4);
    st_mpaths_free(e->mp);
    assert_int_equal(st_mpaths_open(paths, 2, "t1", &e->mp), 0);
    assert_int_equal(t_wk_count(e, &t_bck) + t_wk_count(e, &t_bck_ns), 0);
    /* The trash is swept by the background remover right after open. */
    assert_int_equal(st_trash_wait(e->mp, 10000), 0);
    assert_int_equal(t_dir_count(path), 0);
    struct st_obj_md md;
    assert_int_equal(st_obj_stat(e->mp, &t_bck, "keep/me", t_digest(&t_bck, "keep/me"), &md), 0);
    assert_int_equal(st_obj_stat(e->mp, &t_bck_ns, "keep2", t_digest(&t_bck_ns, "keep2"), &md), 0);
    t_env_free(e);
}

/* --- PUT / GET --- */

static void
test_put_get_roundtrip(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    struct st_obj_md md, md2;
    char *data = NULL;
    char path[AIS_PATH_BYTES_MAX];
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0); /* idempotent */
    assert_int_equal(t_put(e, &t_bck, "dir/sub/obj", "abc", 3, NULL, &md), 0);
    assert_int_equal(md.size, 3);
    assert_string_equal(md.cksum_type, "xxhash");
    assert_string_equal(md.cksum_value, "44bc2cf5ad770999");
    assert_string_equal(md.version, "1");
    assert_string_equal(md.custom, "");
    assert_int_equal(md.mpath_idx, st_mpaths_pick(e->mp, t_digest(&t_bck, "dir/sub/obj")));
    assert_int_equal(t_get(e, &t_bck, "dir/sub/obj", &data, &md2), 3);
    assert_string_equal(data, "abc");
    free(data);
    assert_int_equal(md2.size, 3);
    assert_string_equal(md2.cksum_value, md.cksum_value);
    assert_int_equal(md2.mtime_ns, md.mtime_ns);
    assert_true(md2.atime_ns > 0);
    /* Stored as-is at the AIS layout path. */
    struct stat st;
    t_obj_path(e, &t_bck, "dir/sub/obj", path, sizeof(path));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 3);
    mode_t um = umask(0);
    umask(um);
    assert_int_equal(st.st_mode & 0777, 0644 & ~um);
    /* Empty object. */
    assert_int_equal(t_put(e, &t_bck, "empty", "", 0, NULL, &md), 0);
    assert_string_equal(md.cksum_value, "ef46db3751d8e999");
    assert_int_equal(t_get(e, &t_bck, "empty", &data, NULL), 0);
    free(data);
    assert_int_equal(t_wk_count(e, &t_bck), 0);
    t_env_free(e);
}

static void
test_put_each_cksum_type(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(1);
    struct st_obj_md md;
    assert_int_equal(st_bck_create(e->mp, &t_bck_ns), 0);
    for (size_t i = 0; i < T_NKNOWN; i++) {
        struct st_put_opts o = {.cksum_type = t_knowns[i].type,
                                .expect_type = t_knowns[i].type,
                                .expect_value = t_knowns[i].abc,
                                .fsync = 1};
        assert_int_equal(t_put(e, &t_bck_ns, "o", "abc", 3, &o, &md), 0);
        assert_string_equal(md.cksum_type, t_knowns[i].type);
        assert_string_equal(md.cksum_value, t_knowns[i].abc);
        assert_int_equal(st_obj_stat(e->mp, &t_bck_ns, "o", t_digest(&t_bck_ns, "o"), &md), 0);
        assert_string_equal(md.cksum_value, t_knowns[i].abc);
    }
    /* Namespaced bucket lives under its namespace dir. */
    char path[AIS_PATH_BYTES_MAX];
    snprintf(path, sizeof(path), "%s/@ais/#ns1/bck2/%%ob/o", e->mp_dirs[0]);
    assert_int_equal(access(path, F_OK), 0);
    t_env_free(e);
}

static void
test_put_expect_mismatch(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    struct st_obj_md md;
    char *data = NULL;
    uint64_t dg = t_digest(&t_bck, "x/y");
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    struct st_put_opts bad = {.expect_type = "xxhash", .expect_value = "44bc2cf5ad770998"};
    assert_int_equal(t_put(e, &t_bck, "x/y", "abc", 3, &bad, &md), AIS_EBADCKSUM);
    assert_int_equal(st_obj_stat(e->mp, &t_bck, "x/y", dg, &md), -ENOENT);
    assert_int_equal(t_wk_count(e, &t_bck), 0);
    char ob[AIS_PATH_BYTES_MAX];
    t_ct_dir(e, st_mpaths_pick(e->mp, dg), &t_bck, "%ob", ob, sizeof(ob));
    assert_int_equal(t_dir_count(ob), 0); /* no parent dir left either */
    /* Case-insensitive match; a different expected type is computed alongside. */
    struct st_put_opts up = {.expect_type = "xxhash", .expect_value = "44BC2CF5AD770999"};
    assert_int_equal(t_put(e, &t_bck, "x/y", "abc", 3, &up, NULL), 0);
    struct st_put_opts md5 = {.cksum_type = "sha256",
                              .expect_type = "md5",
                              .expect_value = "900150983cd24fb0d6963f7d28e17f72"};
    assert_int_equal(t_put(e, &t_bck, "x/y", "abc", 3, &md5, &md), 0);
    assert_string_equal(md.cksum_type, "sha256");
    assert_string_equal(md.cksum_value, t_knowns[5].abc);
    /* A failed overwrite keeps the previous object. */
    md5.expect_value = "900150983cd24fb0d6963f7d28e17f73";
    assert_int_equal(t_put(e, &t_bck, "x/y", "abd", 3, &md5, NULL), AIS_EBADCKSUM);
    char longv[ST_CKSUM_VALUE_BYTES + 8];
    memset(longv, 'a', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    bad.expect_value = longv;
    assert_int_equal(t_put(e, &t_bck, "x/y", "abd", 3, &bad, NULL), AIS_EBADCKSUM);
    assert_int_equal(t_get(e, &t_bck, "x/y", &data, &md), 3);
    assert_string_equal(data, "abc");
    free(data);
    /* expect_type "none" verifies nothing. */
    struct st_put_opts none = {.expect_type = "none", .expect_value = "zz"};
    assert_int_equal(t_put(e, &t_bck, "x/y", "q", 1, &none, NULL), 0);
    assert_int_equal(t_wk_count(e, &t_bck), 0);
    t_env_free(e);
}

static void
test_put_bad_args(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(1);
    struct st_put *put = NULL;
    uint64_t dg = t_digest(&t_bck, "o");
    struct st_put_opts o = {.cksum_type = "sha1"};
    assert_int_equal(st_put_begin(e->mp, &t_bck, "o", dg, NULL, &put), -ENOENT); /* no bucket */
    assert_null(put);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(st_put_begin(e->mp, &t_bck, "o", dg, &o, &put), -EINVAL);
    o = (struct st_put_opts){.expect_type = "crc64", .expect_value = "00"};
    assert_int_equal(st_put_begin(e->mp, &t_bck, "o", dg, &o, &put), -EINVAL);
    /* Custom metadata: max fits, max+1 is refused. */
    char custom[ST_CUSTOM_BYTES + 1];
    memset(custom, 'k', sizeof(custom) - 1);
    custom[sizeof(custom) - 1] = '\0';
    o = (struct st_put_opts){.custom = custom};
    assert_int_equal(st_put_begin(e->mp, &t_bck, "o", dg, &o, &put), -EINVAL);
    assert_null(put);
    custom[ST_CUSTOM_BYTES - 1] = '\0';
    custom[0] = 'a';
    custom[1] = '=';
    struct st_obj_md md;
    assert_int_equal(t_put(e, &t_bck, "o", "1", 1, &o, NULL), 0);
    assert_int_equal(st_obj_stat(e->mp, &t_bck, "o", dg, &md), 0);
    assert_string_equal(md.custom, custom);
    assert_int_equal(t_wk_count(e, &t_bck), 0);
    t_env_free(e);
}

static void
test_put_abort_leaves_nothing(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    struct st_put *put = NULL;
    uint64_t dg = t_digest(&t_bck, "a/b/c");
    char ob[AIS_PATH_BYTES_MAX];
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(st_put_begin(e->mp, &t_bck, "a/b/c", dg, NULL, &put), 0);
    assert_int_equal(st_put_write(put, "hello", 5), 0);
    assert_int_equal(t_wk_count(e, &t_bck), 1);
    struct st_obj_md md;
    assert_int_equal(st_obj_stat(e->mp, &t_bck, "a/b/c", dg, &md), -ENOENT); /* not visible */
    st_put_abort(put);
    st_put_abort(NULL);
    assert_int_equal(t_wk_count(e, &t_bck), 0);
    for (size_t i = 0; i < e->n; i++) {
        t_ct_dir(e, i, &t_bck, "%ob", ob, sizeof(ob));
        assert_int_equal(t_dir_count(ob), 0);
    }
    /* Two PUTs of one name in flight get distinct work files; the last rename wins. */
    struct st_put *p1 = NULL, *p2 = NULL;
    assert_int_equal(st_put_begin(e->mp, &t_bck, "a/b/c", dg, NULL, &p1), 0);
    assert_int_equal(st_put_begin(e->mp, &t_bck, "a/b/c", dg, NULL, &p2), 0);
    assert_int_equal(t_wk_count(e, &t_bck), 2);
    assert_int_equal(st_put_write(p1, "one", 3), 0);
    assert_int_equal(st_put_write(p2, "two", 3), 0);
    assert_int_equal(st_put_finish(p1, NULL), 0);
    assert_int_equal(st_put_finish(p2, NULL), 0);
    char *data = NULL;
    assert_int_equal(t_get(e, &t_bck, "a/b/c", &data, NULL), 3);
    assert_string_equal(data, "two");
    free(data);
    assert_int_equal(t_wk_count(e, &t_bck), 0);
    t_env_free(e);
}

static void
test_put_versions(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    struct st_obj_md md;
    struct st_put_opts ver = {.versioning = 1, .custom = "etag=1,k=v"};
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(t_put(e, &t_bck, "v", "1", 1, &ver, &md), 0);
    assert_string_equal(md.version, "1");
    assert_string_equal(md.custom, "etag=1,k=v");
    assert_int_equal(t_put(e, &t_bck, "v", "22", 2, &ver, &md), 0);
    assert_string_equal(md.version, "2");
    assert_int_equal(t_put(e, &t_bck, "v", "333", 3, &ver, &md), 0);
    assert_string_equal(md.version, "3");
    assert_int_equal(md.size, 3);
    assert_int_equal(st_obj_stat(e->mp, &t_bck, "v", t_digest(&t_bck, "v"), &md), 0);
    assert_string_equal(md.version, "3");
    /* Without versioning every PUT stores "1". */
    assert_int_equal(t_put(e, &t_bck, "v", "4", 1, NULL, &md), 0);
    assert_string_equal(md.version, "1");
    assert_string_equal(md.custom, "");
    t_env_free(e);
}

static void
test_put_name_collisions(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(1);
    char *data = NULL;
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(t_put(e, &t_bck, "a", "file", 4, NULL, NULL), 0);
    assert_int_equal(t_put(e, &t_bck, "a/b", "x", 1, NULL, NULL), -ENOTDIR);
    assert_int_equal(t_put(e, &t_bck, "a/b/c", "x", 1, NULL, NULL), -ENOTDIR);
    assert_int_equal(t_put(e, &t_bck, "d/e", "x", 1, NULL, NULL), 0);
    assert_int_equal(t_put(e, &t_bck, "d", "x", 1, NULL, NULL), -EISDIR);
    assert_int_equal(t_wk_count(e, &t_bck), 0);
    assert_int_equal(t_get(e, &t_bck, "a", &data, NULL), 4);
    assert_string_equal(data, "file");
    free(data);
    char ob[AIS_PATH_BYTES_MAX];
    t_ct_dir(e, 0, &t_bck, "%ob", ob, sizeof(ob));
    assert_int_equal(t_dir_count(ob), 2); /* "a" and "d" only */
    /* Reading a directory or through a file is "no such object". */
    struct st_obj_md md;
    int fd = -7;
    assert_int_equal(st_obj_open(e->mp, &t_bck, "d", t_digest(&t_bck, "d"), &fd, &md), -ENOENT);
    assert_int_equal(fd, -7);
    assert_int_equal(st_obj_stat(e->mp, &t_bck, "a/b", t_digest(&t_bck, "a/b"), &md), -ENOENT);
    assert_int_equal(st_obj_delete(e->mp, &t_bck, "d", t_digest(&t_bck, "d")), -ENOENT);
    assert_int_equal(st_obj_delete(e->mp, &t_bck, "a/b", t_digest(&t_bck, "a/b")), -ENOENT);
    t_env_free(e);
}

static void
test_put_name_max_length(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(1);
    char name[AIS_OBJNAME_BYTES_MAX + 1];
    /* 1024 bytes: four 255-byte components and a short fifth one, joined by '/'. */
    memset(name, 'n', AIS_OBJNAME_BYTES_MAX);
    name[AIS_OBJNAME_BYTES_MAX] = '\0';
    for (int i = 1; i <= 3; i++) {
        name[i * 256 - 1] = '/';
    }
    name[1000] = '/';
    assert_int_equal(strlen(name), AIS_OBJNAME_BYTES_MAX);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(t_put(e, &t_bck, name, "m", 1, NULL, NULL), 0);
    char *data = NULL;
    assert_int_equal(t_get(e, &t_bck, name, &data, NULL), 1);
    free(data);
    assert_int_equal(st_obj_delete(e->mp, &t_bck, name, t_digest(&t_bck, name)), 0);
    t_env_free(e);
}

static void
test_delete_prunes_parents(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(1);
    char ob[AIS_PATH_BYTES_MAX], p[AIS_PATH_BYTES_MAX + 16];
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(t_put(e, &t_bck, "p/q/r/obj", "1", 1, NULL, NULL), 0);
    assert_int_equal(t_put(e, &t_bck, "p/other", "2", 1, NULL, NULL), 0);
    t_ct_dir(e, 0, &t_bck, "%ob", ob, sizeof(ob));
    assert_int_equal(st_obj_delete(e->mp, &t_bck, "p/q/r/obj", t_digest(&t_bck, "p/q/r/obj")), 0);
    snprintf(p, sizeof(p), "%s/p/q", ob);
    assert_int_equal(t_dir_count(p), -1);
    snprintf(p, sizeof(p), "%s/p", ob);
    assert_int_equal(t_dir_count(p), 1);
    assert_int_equal(st_obj_delete(e->mp, &t_bck, "p/other", t_digest(&t_bck, "p/other")), 0);
    assert_int_equal(t_dir_count(p), -1);
    assert_int_equal(t_dir_count(ob), 0); /* %ob itself stays */
    assert_int_equal(st_obj_delete(e->mp, &t_bck, "p/other", t_digest(&t_bck, "p/other")), -ENOENT);
    /* The pruned tree is recreated by the next PUT. */
    assert_int_equal(t_put(e, &t_bck, "p/q/r/obj", "1", 1, NULL, NULL), 0);
    t_env_free(e);
}

/* --- metadata tolerance and validation --- */

static void
test_corrupt_or_missing_xattr(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(1);
    char path[AIS_PATH_BYTES_MAX];
    unsigned char lom[4096], bad[4096];
    struct st_obj_md md;
    char *data = NULL;
    uint64_t dg = t_digest(&t_bck, "c");
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    struct st_put_opts o = {.versioning = 1, .custom = "a=b"};
    assert_int_equal(t_put(e, &t_bck, "c", "abc", 3, &o, NULL), 0);
    t_obj_path(e, &t_bck, "c", path, sizeof(path));
    ssize_t n = getxattr(path, "user.ais.lom", lom, sizeof(lom));
    assert_true(n > 9);
    /* Every truncation, every flipped byte and a trailing byte decode as "no metadata". */
    for (ssize_t len = 0; len <= n + 1; len++) {
        for (ssize_t flip = -1; flip < (len == n ? n : 0); flip++) {
            memcpy(bad, lom, (size_t)n);
            bad[n] = 0;
            if (flip >= 0) {
                bad[flip] ^= 0x01;
            }
            if (len == n && flip < 0) {
                continue; /* the intact original */
            }
            assert_int_equal(setxattr(path, "user.ais.lom", bad, (size_t)len, 0), 0);
            assert_int_equal(st_obj_stat(e->mp, &t_bck, "c", dg, &md), 0);
            assert_int_equal(md.size, 3);
            assert_string_equal(md.cksum_type, "none");
            assert_string_equal(md.cksum_value, "");
            assert_string_equal(md.version, "");
            assert_string_equal(md.custom, "");
        }
    }
    assert_int_equal(setxattr(path, "user.ais.lom", lom, (size_t)n, 0), 0);
    assert_int_equal(st_obj_stat(e->mp, &t_bck, "c", dg, &md), 0);
    assert_string_equal(md.cksum_type, "xxhash");
    assert_string_equal(md.custom, "a=b");
    assert_int_equal(removexattr(path, "user.ais.lom"), 0);
    assert_int_equal(t_get(e, &t_bck, "c", &data, &md), 3);
    free(data);
    assert_string_equal(md.cksum_type, "none");
    /* A versioned overwrite of a metadata-less object starts again at "1". */
    assert_int_equal(t_put(e, &t_bck, "c", "abc", 3, &o, &md), 0);
    assert_string_equal(md.version, "1");
    /* A file copied in by hand is readable and its metadata is "none". */
    t_obj_path(e, &t_bck, "manual", path, sizeof(path));
    t_write_file(path, "hand", 4);
    assert_int_equal(t_get(e, &t_bck, "manual", &data, &md), 4);
    assert_string_equal(data, "hand");
    free(data);
    assert_int_equal(md.size, 4);
    assert_string_equal(md.cksum_type, "none");
    t_env_free(e);
}

static void
test_stale_xattr_after_external_rewrite(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(1);
    char path[AIS_PATH_BYTES_MAX];
    struct st_obj_md md;
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(t_put(e, &t_bck, "s", "abc", 3, NULL, NULL), 0);
    t_obj_path(e, &t_bck, "s", path, sizeof(path));
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "d", 1), 1);
    close(fd);
    assert_int_equal(st_obj_stat(e->mp, &t_bck, "s", t_digest(&t_bck, "s"), &md), 0);
    assert_int_equal(md.size, 4);
    assert_string_equal(md.cksum_type, "none");
    t_env_free(e);
}

static void
test_validate_detects_flipped_byte(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    enum { LEN = 3 * 1024 * 1024 + 17 }; /* spans several I/O buffers */
    char *buf = malloc(LEN);
    char path[AIS_PATH_BYTES_MAX];
    assert_non_null(buf);
    for (size_t i = 0; i < LEN; i++) {
        buf[i] = (char)(i * 131 + (i >> 11));
    }
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    for (size_t k = 0; k < T_NKNOWN; k++) {
        struct st_put_opts o = {.cksum_type = t_knowns[k].type};
        struct st_obj_md md;
        int fd = -1;
        uint64_t dg = t_digest(&t_bck, "val/obj");
        assert_int_equal(t_put(e, &t_bck, "val/obj", buf, LEN, &o, NULL), 0);
        assert_int_equal(st_obj_open(e->mp, &t_bck, "val/obj", dg, &fd, &md), 0);
        assert_int_equal(st_obj_validate(fd, &md), 0);
        assert_int_equal(lseek(fd, 0, SEEK_CUR), 0); /* pread: offset untouched */
        t_obj_path(e, &t_bck, "val/obj", path, sizeof(path));
        int wfd = open(path, O_WRONLY);
        assert_true(wfd >= 0);
        char c = (char)(buf[LEN - 5] ^ 0x10);
        assert_int_equal(pwrite(wfd, &c, 1, LEN - 5), 1);
        close(wfd);
        int want = strcmp(t_knowns[k].type, "none") == 0 ? 0 : AIS_EBADCKSUM;
        assert_int_equal(st_obj_validate(fd, &md), want);
        close(fd);
    }
    struct st_obj_md unk = {.size = 0, .cksum_type = "sha1", .cksum_value = "00"};
    int fd = open(path, O_RDONLY);
    assert_int_equal(st_obj_validate(fd, &unk), -EINVAL);
    close(fd);
    free(buf);
    t_env_free(e);
}

static long
t_maxrss_kb(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

static void
test_large_streamed_object(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    enum { PIECE = 1 << 20, PIECES = 64 };
    char *piece = malloc(PIECE);
    struct st_put *put = NULL;
    struct st_obj_md md;
    char want[17];
    uint64_t dg = t_digest(&t_bck, "big/obj");
    XXH64_state_t *ref = XXH64_createState();
    assert_non_null(piece);
    assert_non_null(ref);
    assert_int_equal(XXH64_reset(ref, 0), XXH_OK);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    long rss0 = t_maxrss_kb();
    assert_int_equal(st_put_begin(e->mp, &t_bck, "big/obj", dg, NULL, &put), 0);
    for (int i = 0; i < PIECES; i++) {
        memset(piece, 'a' + i % 26, PIECE);
        piece[i] = (char)i;
        assert_int_equal(st_put_write(put, piece, PIECE), 0);
        XXH64_update(ref, piece, PIECE);
    }
    assert_int_equal(st_put_finish(put, &md), 0);
    snprintf(want, sizeof(want), "%016llx", (unsigned long long)XXH64_digest(ref));
    XXH64_freeState(ref);
    assert_int_equal(md.size, (uint64_t)PIECE * PIECES);
    assert_string_equal(md.cksum_value, want);
    int fd = -1;
    assert_int_equal(st_obj_open(e->mp, &t_bck, "big/obj", dg, &fd, &md), 0);
    assert_int_equal(st_obj_validate(fd, &md), 0);
    close(fd);
    /* The 64 MiB never sat in memory: growth stays far below the object size. */
    assert_true(t_maxrss_kb() - rss0 < 24 * 1024);
    free(piece);
    t_env_free(e);
}

/* --- concurrency --- */

enum { T_THREADS = 4, T_ROUNDS = 300 };

struct t_worker {
    struct t_env *e;
    int id;
    int failures;
};

/* PUT, read back and delete names that share parents, so pruning races with mkdir+rename. */
static void *
t_worker_run(void *arg)
{
    struct t_worker *w = arg;
    char name[64], body[32];
    for (int i = 0; i < T_ROUNDS; i++) {
        snprintf(name, sizeof(name), "shared/d%d/t%d-%d", i % 2, w->id, i);
        int n = snprintf(body, sizeof(body), "%d:%d", w->id, i);
        struct st_obj_md md;
        uint64_t dg = t_digest(&t_bck, name);
        w->failures += t_put(w->e, &t_bck, name, body, (size_t)n, NULL, NULL) != 0;
        w->failures += st_obj_stat(w->e->mp, &t_bck, name, dg, &md) != 0 || md.size != (size_t)n;
        w->failures += st_obj_delete(w->e->mp, &t_bck, name, dg) != 0;
    }
    return NULL;
}

static void
test_concurrent_put_delete(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    pthread_t th[T_THREADS];
    struct t_worker w[T_THREADS];
    char ob[AIS_PATH_BYTES_MAX];
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    for (int i = 0; i < T_THREADS; i++) {
        w[i] = (struct t_worker){e, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, t_worker_run, &w[i]), 0);
    }
    for (int i = 0; i < T_THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(t_wk_count(e, &t_bck), 0);
    for (size_t i = 0; i < e->n; i++) {
        t_ct_dir(e, i, &t_bck, "%ob", ob, sizeof(ob));
        assert_int_equal(t_dir_count(ob), 0); /* everything pruned */
    }
    t_env_free(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cksum_known_answers),
        cmocka_unit_test(test_cksum_unknown_type),
        cmocka_unit_test(test_mpaths_args_and_limits),
        cmocka_unit_test(test_mpaths_clean_and_pick),
        cmocka_unit_test(test_mpaths_daemon_id_mismatch),
        cmocka_unit_test(test_mpaths_reopen_cleans_work),
        cmocka_unit_test(test_put_get_roundtrip),
        cmocka_unit_test(test_put_each_cksum_type),
        cmocka_unit_test(test_put_expect_mismatch),
        cmocka_unit_test(test_put_bad_args),
        cmocka_unit_test(test_put_abort_leaves_nothing),
        cmocka_unit_test(test_put_versions),
        cmocka_unit_test(test_put_name_collisions),
        cmocka_unit_test(test_put_name_max_length),
        cmocka_unit_test(test_delete_prunes_parents),
        cmocka_unit_test(test_corrupt_or_missing_xattr),
        cmocka_unit_test(test_stale_xattr_after_external_rewrite),
        cmocka_unit_test(test_validate_detects_flipped_byte),
        cmocka_unit_test(test_large_streamed_object),
        cmocka_unit_test(test_concurrent_put_delete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
