/*
 * Goal: n-way mirroring on one target's mountpaths. A PUT with copies=n publishes n twins
 * (same bytes, LOM, size and mtime) on the first n HRW mountpaths; reads balance over twins
 * only and count reads per mountpath; st_obj_mirror adds missing copies, removes extra ones,
 * restores a deleted main copy from a copy, and with copies=1 is the old relocate; st_obj_copies
 * reports the twins; a stale copy is never served.
 * Method: real directories under /tmp (st_test.h); copies inspected on disk by path.
 */
#include "st_test.h"

static const char *const t_body = "mirror me, please";

/* Path of obj on slot i (no check that it exists). */
static void
t_path(const struct t_env *e, size_t i, const char *obj, char *out, size_t cap)
{
    snprintf(out, cap, "%s/@ais/bck/%%ob/%s", e->mp_dirs[i], obj);
}

static int
t_exists(const struct t_env *e, size_t i, const char *obj)
{
    char p[512];
    struct stat st;
    t_path(e, i, obj, p, sizeof(p));
    return stat(p, &st) == 0;
}

static size_t
t_count(const struct t_env *e, const char *obj)
{
    size_t n = 0;
    for (size_t i = 0; i < e->n; i++) {
        n += (size_t)t_exists(e, i, obj);
    }
    return n;
}

static void
t_read_all(int fd, const char *want)
{
    char buf[128] = {0};
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    assert_int_equal(n, (ssize_t)strlen(want));
    assert_string_equal(buf, want);
}

static void
test_rank_matches_pick(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(4);
    uint32_t r[AIS_MPATHS_MAX];
    for (int k = 0; k < 200; k++) {
        char name[32];
        snprintf(name, sizeof(name), "o%d", k);
        uint64_t d = t_digest(&t_bck, name);
        assert_int_equal(st_mpaths_rank(e->mp, d, 3, r), 3);
        assert_int_equal(r[0], st_mpaths_pick(e->mp, d));
        assert_true(r[0] != r[1] && r[1] != r[2] && r[0] != r[2]);
        assert_int_equal(st_mpaths_rank(e->mp, d, 9, r), 4); /* capped at what is available */
    }
    t_env_free(e);
}

static void
test_put_makes_twins(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(3);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    struct st_put_opts o = {.copies = 2, .fsync = 1, .versioning = 1};
    struct st_obj_md md;
    assert_int_equal(t_put(e, &t_bck, "a/b/c", t_body, strlen(t_body), &o, &md), 0);
    assert_int_equal(md.copies, 2);
    uint64_t d = t_digest(&t_bck, "a/b/c");
    uint32_t r[AIS_MPATHS_MAX];
    assert_int_equal(st_mpaths_rank(e->mp, d, 2, r), 2);
    assert_true(t_exists(e, r[0], "a/b/c") && t_exists(e, r[1], "a/b/c"));
    assert_int_equal(t_count(e, "a/b/c"), 2);
    /* Twins: both copies report as up to date, main first; each has the LOM (version 1). */
    uint32_t slots[AIS_MPATHS_MAX];
    assert_int_equal(st_obj_copies(e->mp, &t_bck, "a/b/c", d, slots, AIS_MPATHS_MAX), 2);
    assert_int_equal(slots[0], r[0]);
    assert_int_equal(slots[1], r[1]);
    /* A second PUT replaces both, version 2 on each. */
    assert_int_equal(t_put(e, &t_bck, "a/b/c", "v2", 2, &o, &md), 0);
    assert_string_equal(md.version, "2");
    for (int k = 0; k < 2; k++) {
        int fd = -1;
        struct st_obj_md m2;
        assert_int_equal(st_obj_open_read(e->mp, &t_bck, "a/b/c", d, 2, &fd, &m2), 0);
        t_read_all(fd, "v2");
        assert_string_equal(m2.version, "2");
        close(fd);
        st_mpaths_read_end(e->mp, m2.mpath_idx);
    }
    /* Without mirroring nothing extra is written. */
    assert_int_equal(t_put(e, &t_bck, "plain", t_body, strlen(t_body), NULL, &md), 0);
    assert_int_equal(md.copies, 1);
    assert_int_equal(t_count(e, "plain"), 1);
    t_env_free(e);
}

static void
test_reads_balance_over_twins(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(3);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    struct st_put_opts o = {.copies = 3};
    assert_int_equal(t_put(e, &t_bck, "x", t_body, strlen(t_body), &o, NULL), 0);
    uint64_t d = t_digest(&t_bck, "x");
    /* Three reads held open land on three different mountpaths (fewest in flight first). */
    int fds[3];
    uint32_t used[3];
    for (int k = 0; k < 3; k++) {
        struct st_obj_md md;
        assert_int_equal(st_obj_open_read(e->mp, &t_bck, "x", d, 3, &fds[k], &md), 0);
        used[k] = md.mpath_idx;
        t_read_all(fds[k], t_body);
    }
    assert_true(used[0] != used[1] && used[1] != used[2] && used[0] != used[2]);
    assert_int_equal(used[0], st_mpaths_pick(e->mp, d)); /* a tie goes to the main copy */
    for (int k = 0; k < 3; k++) {
        close(fds[k]);
        st_mpaths_read_end(e->mp, used[k]);
    }
    /* A stale copy (other bytes, other mtime) is never served: the main one is. */
    uint32_t r[AIS_MPATHS_MAX];
    assert_int_equal(st_mpaths_rank(e->mp, d, 3, r), 3);
    char p[512];
    t_path(e, r[1], "x", p, sizeof(p));
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("stale!", f);
    fclose(f);
    struct timespec old[2] = {{1000, 0}, {1000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
    for (int k = 0; k < 6; k++) {
        struct st_obj_md md;
        assert_int_equal(st_obj_open_read(e->mp, &t_bck, "x", d, 3, &fds[0], &md), 0);
        assert_true(md.mpath_idx != r[1]);
        t_read_all(fds[0], t_body);
        close(fds[0]);
        st_mpaths_read_end(e->mp, md.mpath_idx);
    }
    uint32_t slots[AIS_MPATHS_MAX];
    assert_int_equal(st_obj_copies(e->mp, &t_bck, "x", d, slots, AIS_MPATHS_MAX), 2);
    /* Repair: the stale copy is replaced by a twin of the main one. */
    assert_int_equal(st_obj_mirror(e->mp, &t_bck, "x", d, 3, NULL), 1);
    assert_int_equal(st_obj_copies(e->mp, &t_bck, "x", d, slots, AIS_MPATHS_MAX), 3);
    assert_int_equal(st_obj_mirror(e->mp, &t_bck, "x", d, 3, NULL), 0); /* in place */
    t_env_free(e);
}

static void
test_mirror_grows_shrinks_restores(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(4);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(t_put(e, &t_bck, "m", t_body, strlen(t_body), NULL, NULL), 0);
    uint64_t d = t_digest(&t_bck, "m"), bytes = 0;
    uint32_t r[AIS_MPATHS_MAX], slots[AIS_MPATHS_MAX];
    assert_int_equal(st_mpaths_rank(e->mp, d, 4, r), 4);
    /* 1 -> 3 copies: two copies made, on the next HRW mountpaths. */
    assert_int_equal(st_obj_mirror(e->mp, &t_bck, "m", d, 3, &bytes), 1);
    assert_int_equal(bytes, 2 * strlen(t_body));
    assert_true(t_exists(e, r[0], "m") && t_exists(e, r[1], "m") && t_exists(e, r[2], "m"));
    assert_false(t_exists(e, r[3], "m"));
    assert_int_equal(st_obj_copies(e->mp, &t_bck, "m", d, slots, AIS_MPATHS_MAX), 3);
    /* The main copy lost (a dead disk, a bad checksum): restored from a copy. */
    char p[512];
    t_path(e, r[0], "m", p, sizeof(p));
    assert_int_equal(unlink(p), 0);
    int fd = -1;
    struct st_obj_md md;
    assert_int_equal(st_obj_open_read(e->mp, &t_bck, "m", d, 3, &fd, &md), 0); /* a copy serves */
    t_read_all(fd, t_body);
    close(fd);
    st_mpaths_read_end(e->mp, md.mpath_idx);
    assert_int_equal(st_obj_mirror(e->mp, &t_bck, "m", d, 3, NULL), 1);
    assert_true(t_exists(e, r[0], "m"));
    assert_int_equal(st_obj_copies(e->mp, &t_bck, "m", d, slots, AIS_MPATHS_MAX), 3);
    /* 3 -> 1: extra copies removed, the main one stays. */
    assert_int_equal(st_obj_mirror(e->mp, &t_bck, "m", d, 1, NULL), 1);
    assert_int_equal(t_count(e, "m"), 1);
    assert_true(t_exists(e, r[0], "m"));
    char *got = NULL;
    assert_int_equal(t_get(e, &t_bck, "m", &got, NULL), strlen(t_body));
    assert_string_equal(got, t_body);
    free(got);
    /* Gone object: nothing to do. */
    assert_int_equal(st_obj_delete(e->mp, &t_bck, "m", d), 0);
    assert_int_equal(st_obj_mirror(e->mp, &t_bck, "m", d, 3, NULL), 0);
    assert_int_equal(st_obj_copies(e->mp, &t_bck, "m", d, slots, AIS_MPATHS_MAX), 0);
    t_env_free(e);
}

static void
test_delete_removes_every_copy(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(3);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    struct st_put_opts o = {.copies = 3};
    assert_int_equal(t_put(e, &t_bck, "d/e", t_body, strlen(t_body), &o, NULL), 0);
    assert_int_equal(t_count(e, "d/e"), 3);
    assert_int_equal(st_obj_delete(e->mp, &t_bck, "d/e", t_digest(&t_bck, "d/e")), 0);
    assert_int_equal(t_count(e, "d/e"), 0);
    t_env_free(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rank_matches_pick),
        cmocka_unit_test(test_put_makes_twins),
        cmocka_unit_test(test_reads_balance_over_twins),
        cmocka_unit_test(test_mirror_grows_shrinks_restores),
        cmocka_unit_test(test_delete_removes_every_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
