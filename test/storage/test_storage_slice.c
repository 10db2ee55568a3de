/*
 * Goal: EC records in storage (storage/slice.h). A slice written through st_slice_* lands under
 * %ec of the HRW mountpath with its metadata in the xattr and is read back whole; a new record
 * replaces the old; an aborted one leaves nothing; records are found on any mountpath and never
 * listed as objects; %mt records round-trip and reject bad sizes; delete removes both kinds on
 * every mountpath and prunes parents; scratch files are invisible; a destroyed bucket gets no
 * records back.
 * Method: real directories under /tmp (st_test.h); records inspected on disk by path.
 */
#include "st_test.h"
#include "storage/slice.h"

static void
t_rec_path(const struct t_env *e, size_t i, const char *ct, const char *obj, char *out, size_t cap)
{
    snprintf(out, cap, "%s/@ais/bck/%s/%s", e->mp_dirs[i], ct, obj);
}

static size_t
t_rec_count(const struct t_env *e, const char *ct, const char *obj)
{
    size_t n = 0;
    for (size_t i = 0; i < e->n; i++) {
        char p[512];
        struct stat st;
        t_rec_path(e, i, ct, obj, p, sizeof(p));
        n += stat(p, &st) == 0;
    }
    return n;
}

static int
t_slice_put(struct t_env *e, const char *obj, const char *data, const char *meta)
{
    struct st_slice *s = NULL;
    int rc = st_slice_begin(e->mp, &t_bck, obj, t_digest(&t_bck, obj), &s);
    if (rc != 0) {
        return rc;
    }
    rc = st_slice_write(s, data, strlen(data));
    if (rc != 0) {
        st_slice_abort(s);
        return rc;
    }
    return st_slice_finish(s, meta, strlen(meta), 1);
}

static void
t_slice_expect(struct t_env *e, const char *obj, const char *data, const char *meta)
{
    char m[ST_EC_META_BYTES_MAX], buf[256] = {0};
    size_t ml = 0;
    uint64_t size = 0;
    int fd = -1;
    assert_int_equal(
        st_slice_open(e->mp, &t_bck, obj, t_digest(&t_bck, obj), &fd, &size, m, sizeof(m), &ml), 0);
    assert_int_equal(size, strlen(data));
    assert_int_equal(pread(fd, buf, sizeof(buf) - 1, 0), (ssize_t)strlen(data));
    assert_string_equal(buf, data);
    assert_int_equal(ml, strlen(meta));
    assert_memory_equal(m, meta, ml);
    close(fd);
}

static void
test_slice_roundtrip_and_replace(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(3);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(t_slice_put(e, "a/b/c", "slice bytes", "meta-1"), 0);
    assert_int_equal(t_rec_count(e, ST_DIR_EC, "a/b/c"), 1);
    t_slice_expect(e, "a/b/c", "slice bytes", "meta-1");
    assert_int_equal(t_slice_put(e, "a/b/c", "newer", "meta-2"), 0);
    t_slice_expect(e, "a/b/c", "newer", "meta-2");
    assert_int_equal(t_rec_count(e, ST_DIR_EC, "a/b/c"), 1);
    /* not an object: not opened or listed as one */
    struct st_obj_md md;
    assert_int_equal(st_obj_stat(e->mp, &t_bck, "a/b/c", t_digest(&t_bck, "a/b/c"), &md), -ENOENT);
    char wk[512];
    t_ct_dir(e, st_mpaths_pick(e->mp, t_digest(&t_bck, "a/b/c")), &t_bck, "/%wk", wk, sizeof(wk));
    assert_int_equal(t_dir_count(wk), 0);
    t_env_free(e);
}

static void
test_slice_abort_and_bad_meta(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    struct st_slice *s = NULL;
    uint64_t d = t_digest(&t_bck, "x");
    assert_int_equal(st_slice_begin(e->mp, &t_bck, "x", d, &s), 0);
    assert_int_equal(st_slice_write(s, "abc", 3), 0);
    st_slice_abort(s);
    st_slice_abort(NULL);
    assert_int_equal(t_rec_count(e, ST_DIR_EC, "x"), 0);
    char big[ST_EC_META_BYTES_MAX + 1];
    memset(big, 'm', sizeof(big));
    assert_int_equal(st_slice_begin(e->mp, &t_bck, "x", d, &s), 0);
    assert_int_equal(st_slice_finish(s, big, sizeof(big), 0), -EINVAL); /* max + 1 */
    assert_int_equal(st_slice_begin(e->mp, &t_bck, "x", d, &s), 0);
    assert_int_equal(st_slice_finish(s, big, sizeof(big) - 1, 0), 0); /* max */
    assert_int_equal(t_rec_count(e, ST_DIR_EC, "x"), 1);
    int fd = -1;
    uint64_t size = 1;
    size_t ml = 0;
    char m[ST_EC_META_BYTES_MAX];
    assert_int_equal(st_slice_open(e->mp, &t_bck, "x", d, &fd, &size, m, sizeof(m), &ml), 0);
    assert_int_equal(size, 0);
    assert_int_equal(ml, ST_EC_META_BYTES_MAX);
    close(fd);
    assert_int_equal(st_slice_open(e->mp, &t_bck, "nope", d, &fd, &size, m, sizeof(m), &ml),
                     -ENOENT);
    t_env_free(e);
}

static void
test_found_on_any_mountpath(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(3);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(t_slice_put(e, "moved", "bytes", "m"), 0);
    /* move it by hand to another mountpath, as a mountpath change leaves it */
    size_t hrw = st_mpaths_pick(e->mp, t_digest(&t_bck, "moved")), other = (hrw + 1) % 3;
    char from[512], to[512], dir[512];
    t_rec_path(e, hrw, ST_DIR_EC, "moved", from, sizeof(from));
    t_rec_path(e, other, ST_DIR_EC, "", dir, sizeof(dir));
    mkdir(dir, 0755);
    t_rec_path(e, other, ST_DIR_EC, "moved", to, sizeof(to));
    assert_int_equal(rename(from, to), 0);
    t_slice_expect(e, "moved", "bytes", "m");
    assert_int_equal(st_slice_delete(e->mp, &t_bck, "moved", 0), 0);
    assert_int_equal(t_rec_count(e, ST_DIR_EC, "moved"), 0);
    assert_int_equal(st_slice_delete(e->mp, &t_bck, "moved", 0), -ENOENT);
    t_env_free(e);
}

static void
test_ecmeta_roundtrip_delete_prunes(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    uint64_t d = t_digest(&t_bck, "p/q");
    char buf[ST_EC_META_BYTES_MAX + 1];
    size_t len = 0;
    assert_int_equal(st_ecmeta_load(e->mp, &t_bck, "p/q", d, buf, sizeof(buf), &len), -ENOENT);
    assert_int_equal(st_ecmeta_store(e->mp, &t_bck, "p/q", d, "rec", 3, 0), 0);
    assert_int_equal(st_ecmeta_load(e->mp, &t_bck, "p/q", d, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "rec", 3);
    assert_int_equal(st_ecmeta_load(e->mp, &t_bck, "p/q", d, buf, 2, &len), -EMSGSIZE);
    assert_int_equal(st_ecmeta_store(e->mp, &t_bck, "p/q", d, buf, 0, 0), -EINVAL);
    assert_int_equal(st_ecmeta_store(e->mp, &t_bck, "p/q", d, buf, ST_EC_META_BYTES_MAX + 1, 0),
                     -EINVAL);
    assert_int_equal(t_slice_put(e, "p/q", "s", "m"), 0);
    assert_int_equal(st_slice_delete(e->mp, &t_bck, "p/q", d), 0);
    assert_int_equal(t_rec_count(e, ST_DIR_EC, "p/q") + t_rec_count(e, ST_DIR_META, "p/q"), 0);
    char pdir[512];
    struct stat st;
    for (size_t i = 0; i < e->n; i++) {
        t_rec_path(e, i, ST_DIR_EC, "p", pdir, sizeof(pdir));
        assert_int_not_equal(stat(pdir, &st), 0); /* pruned */
    }
    t_env_free(e);
}

static void
test_scratch_and_destroyed_bucket(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    int fd = -1;
    uint64_t d = t_digest(&t_bck, "s");
    assert_int_equal(st_scratch_open(e->mp, &t_bck, d, &fd), 0);
    assert_int_equal(pwrite(fd, "zz", 2, 100), 2);
    char wk[512];
    t_ct_dir(e, st_mpaths_pick(e->mp, d), &t_bck, "/%wk", wk, sizeof(wk));
    assert_int_equal(t_dir_count(wk), 0); /* anonymous */
    close(fd);
    struct st_slice *s = NULL;
    assert_int_equal(st_slice_begin(e->mp, &t_bck, "late", d, &s), 0);
    assert_int_equal(st_bck_destroy(e->mp, &t_bck), 0);
    assert_int_not_equal(st_slice_finish(s, "m", 1, 0), 0);
    assert_int_equal(st_scratch_open(e->mp, &t_bck, d, &fd), -ENOENT);
    assert_int_equal(st_ecmeta_store(e->mp, &t_bck, "late", d, "m", 1, 0), -ENOENT);
    char bdir[512];
    struct stat st;
    snprintf(bdir, sizeof(bdir), "%s/@ais/bck", e->mp_dirs[0]);
    assert_int_not_equal(stat(bdir, &st), 0); /* not resurrected */
    t_env_free(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slice_roundtrip_and_replace),
        cmocka_unit_test(test_slice_abort_and_bad_meta),
        cmocka_unit_test(test_found_on_any_mountpath),
        cmocka_unit_test(test_ecmeta_roundtrip_delete_prunes),
        cmocka_unit_test(test_scratch_and_destroyed_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
