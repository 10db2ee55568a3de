/*
 * Goal: the run-time changeable mountpath set (attach, detach, enable, disable, drop) keeps
 * its invariants (stable slots, duplicates refused, AIS_MPATHS_MAX, never zero available,
 * HRW pick only over available ones and stable for unchanged sets), reads never miss an object
 * that sits on a non-HRW mountpath, delete removes every copy, relocation keeps the newest
 * copy, a PUT in flight across a change holds its set (drain), and a start tolerates a missing
 * mountpath.
 * Method: real directories under /tmp (st_test.h), objects placed by PUT and then made
 * "misplaced" by changing the set; checks on disk and through st_obj_open.
 */
#include "st_test.h"

#include <pthread.h>

static void
t_mkdir(const char *p)
{
    assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
}

/* Bucket dirs on every available mountpath (the target does this after attach/enable). */
static void
t_bck_dirs(struct t_env *e)
{
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
}

static void
test_attach_detach_enable_disable(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    char mp2[160], missing[160];
    size_t slot = 0;
    snprintf(mp2, sizeof(mp2), "%s/new", e->root);
    snprintf(missing, sizeof(missing), "%s/none", e->root);
    assert_int_equal(st_mpaths_attach(e->mp, missing, 1, NULL), -ENOENT); /* never created */
    t_mkdir(mp2);
    uint64_t g0 = st_mpaths_gen(e->mp);
    assert_int_equal(st_mpaths_attach(e->mp, mp2, 1, &slot), 0);
    assert_int_equal(slot, 2);
    assert_true(st_mpaths_gen(e->mp) > g0);
    assert_int_equal(st_mpaths_attach(e->mp, mp2, 1, NULL), -EALREADY);
    char dirty[200];
    snprintf(dirty, sizeof(dirty), "%s//./new/", e->root); /* cleans to the same path */
    assert_int_equal(st_mpaths_attach(e->mp, dirty, 1, NULL), -EALREADY);
    assert_int_equal(st_mpaths_find(e->mp, dirty), 2);
    assert_int_equal(st_mpaths_state(e->mp, 2), ST_MPATH_AVAIL);
    assert_int_equal(st_mpaths_disable(e->mp, mp2), 0);
    assert_int_equal(st_mpaths_disable(e->mp, mp2), 1); /* no-op */
    assert_int_equal(st_mpaths_state(e->mp, 2), ST_MPATH_DISABLED);
    assert_int_equal(st_mpaths_enable(e->mp, mp2), 0);
    assert_int_equal(st_mpaths_enable(e->mp, mp2), 1);
    assert_int_equal(st_mpaths_enable(e->mp, missing), -ENOENT);
    /* Detach: slot kept (DETACHING) until dropped, then free and reusable. */
    assert_int_equal(st_mpaths_detach(e->mp, e->mp_dirs[0]), 0);
    assert_int_equal(st_mpaths_state(e->mp, 0), ST_MPATH_DETACHING);
    assert_int_equal(st_mpaths_enable(e->mp, e->mp_dirs[0]), -EBUSY);
    assert_int_equal(st_mpaths_attach(e->mp, e->mp_dirs[0], 1, NULL), -EBUSY);
    assert_int_equal(st_mpaths_drop(e->mp, 1), -EINVAL); /* not detaching */
    assert_int_equal(st_mpaths_drop(e->mp, 0), 0);
    assert_null(st_mpaths_path(e->mp, 0));
    assert_int_equal(st_mpaths_state(e->mp, 0), ST_MPATH_NONE);
    assert_int_equal(st_mpaths_count(e->mp), 3); /* slot 2 still in use: a gap at 0 */
    assert_string_equal(st_mpaths_path(e->mp, 2), mp2);
    /* Never zero available: the last one cannot be disabled or detached. */
    assert_int_equal(st_mpaths_disable(e->mp, mp2), 0);
    assert_int_equal(st_mpaths_disable(e->mp, e->mp_dirs[1]), -EBUSY);
    assert_int_equal(st_mpaths_detach(e->mp, e->mp_dirs[1]), -EBUSY);
    assert_int_equal(st_mpaths_detach(e->mp, mp2), 0); /* a disabled one can go */
    assert_int_equal(st_mpaths_drop(e->mp, 2), 0);
    assert_int_equal(st_mpaths_attach(e->mp, e->mp_dirs[0], 1, &slot), 0);
    assert_int_equal(slot, 0); /* the lowest free slot */
    assert_int_equal(st_mpaths_attach(e->mp, "", 1, NULL), -EINVAL);
    t_env_free(e);
}

static void
test_limits_and_owner(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(1);
    char p[160];
    for (size_t i = 1; i < AIS_MPATHS_MAX; i++) {
        snprintf(p, sizeof(p), "%s/m%zu", e->root, i);
        t_mkdir(p);
        assert_int_equal(st_mpaths_attach(e->mp, p, 1, NULL), 0);
    }
    snprintf(p, sizeof(p), "%s/over", e->root); /* max + 1 */
    t_mkdir(p);
    assert_int_equal(st_mpaths_attach(e->mp, p, 1, NULL), -ENOSPC);
    st_mpaths_free(e->mp);
    /* A root owned by another daemon is refused. */
    char other[160];
    snprintf(other, sizeof(other), "%s/other", e->root);
    const char *paths[] = {other};
    assert_int_equal(st_mpaths_open(paths, 1, "t2", &e->mp), 0);
    snprintf(p, sizeof(p), "%s/m1", e->root);
    assert_int_equal(st_mpaths_attach(e->mp, p, 1, NULL), -EEXIST);
    t_env_free(e);
}

static void
test_pick_stability(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(3);
    uint64_t d[3];
    for (size_t i = 0; i < 3; i++) {
        d[i] = ais_hrw_digest(e->mp_dirs[i], strlen(e->mp_dirs[i]));
    }
    uint64_t only02[2] = {d[0], d[2]};
    assert_int_equal(st_mpaths_disable(e->mp, e->mp_dirs[1]), 0);
    for (uint64_t x = 1; x < 2000; x += 7) {
        size_t k = ais_hrw_pick(only02, 2, x * 0x9e3779b97f4a7c15ull);
        assert_int_equal(st_mpaths_pick(e->mp, x * 0x9e3779b97f4a7c15ull), k == 0 ? 0 : 2);
    }
    assert_int_equal(st_mpaths_enable(e->mp, e->mp_dirs[1]), 0);
    for (uint64_t x = 1; x < 2000; x += 7) {
        size_t k = ais_hrw_pick(d, 3, x);
        assert_int_equal(st_mpaths_pick(e->mp, x), k); /* same slots, same answer as at open */
    }
    t_env_free(e);
}

/* Fills n objects "o<i>" and returns how many HRW put on slot 1. */
static size_t
t_fill(struct t_env *e, size_t n)
{
    char name[32];
    size_t on1 = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "d/o%zu", i);
        assert_int_equal(t_put(e, &t_bck, name, name, strlen(name), NULL, NULL), 0);
        on1 += st_mpaths_pick(e->mp, t_digest(&t_bck, name)) == 1;
    }
    return on1;
}

static void
test_open_fallback_and_relocate(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    t_bck_dirs(e);
    char name[32], *buf = NULL;
    struct st_obj_md md;
    size_t on1 = t_fill(e, 64);
    assert_true(on1 > 0 && on1 < 64);
    assert_int_equal(st_mpaths_disable(e->mp, e->mp_dirs[1]), 0);
    for (size_t i = 0; i < 64; i++) { /* misplaced now, still readable */
        snprintf(name, sizeof(name), "d/o%zu", i);
        assert_int_equal(t_get(e, &t_bck, name, &buf, &md), strlen(name));
        assert_string_equal(buf, name);
        free(buf);
    }
    size_t moved = 0;
    for (size_t i = 0; i < 64; i++) {
        uint64_t bytes = 0;
        snprintf(name, sizeof(name), "d/o%zu", i);
        int rc = st_obj_relocate(e->mp, &t_bck, name, t_digest(&t_bck, name), &bytes);
        assert_true(rc == 0 || rc == 1);
        moved += (size_t)rc;
        assert_int_equal(st_obj_relocate(e->mp, &t_bck, name, t_digest(&t_bck, name), NULL), 0);
        assert_int_equal(t_get(e, &t_bck, name, &buf, &md), strlen(name));
        assert_int_equal(md.mpath_idx, 0);
        assert_string_equal(md.cksum_type, "xxhash"); /* the xattr moved along */
        free(buf);
    }
    assert_int_equal(moved, on1);
    assert_int_equal(st_mpaths_slot_empty(e->mp, 1, &t_bck), 1);
    assert_int_equal(st_mpaths_slot_empty(e->mp, 0, &t_bck), 0);
    t_env_free(e);
}

static void
test_newest_copy_wins_and_delete_all(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    t_bck_dirs(e);
    char *buf = NULL, path[AIS_PATH_BYTES_MAX + 64], ob[AIS_PATH_BYTES_MAX];
    struct st_obj_md md;
    const char *obj = "x/newest";
    uint64_t dg = t_digest(&t_bck, obj);
    size_t hrw = st_mpaths_pick(e->mp, dg), other = 1 - hrw;
    assert_int_equal(t_put(e, &t_bck, obj, "old", 3, NULL, NULL), 0);
    /* A newer stray copy on the other mountpath (as an interrupted move leaves). */
    t_ct_dir(e, other, &t_bck, "%ob", ob, sizeof(ob));
    snprintf(path, sizeof(path), "%s/%s", ob, obj);
    t_mkdir_parents(path, strlen(ob));
    t_write_file(path, "newer", 5);
    struct timespec ts[2] = {{0, UTIME_NOW}, {4102444800, 0}}; /* mtime in 2100 */
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    assert_int_equal(t_get(e, &t_bck, obj, &buf, &md), 3); /* HRW copy is authoritative */
    free(buf);
    assert_int_equal(st_obj_relocate(e->mp, &t_bck, obj, dg, NULL), 1);
    assert_int_equal(t_get(e, &t_bck, obj, &buf, &md), 5);
    assert_string_equal(buf, "newer");
    assert_int_equal(md.mpath_idx, hrw);
    free(buf);
    assert_int_equal(access(path, F_OK), -1);
    /* Delete removes copies on every mountpath. */
    t_mkdir_parents(path, strlen(ob));
    t_write_file(path, "stray", 5);
    assert_int_equal(st_obj_delete(e->mp, &t_bck, obj, dg), 0);
    int fd = -1;
    assert_int_equal(st_obj_open(e->mp, &t_bck, obj, dg, &fd, NULL), -ENOENT);
    assert_int_equal(st_obj_delete(e->mp, &t_bck, obj, dg), -ENOENT);
    t_env_free(e);
}

static void
test_put_across_change_and_drain(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    t_bck_dirs(e);
    const char *obj = NULL;
    char name[32];
    /* A name HRW puts on slot 1, which is then detached while its PUT is in flight. */
    for (size_t i = 0; obj == NULL; i++) {
        snprintf(name, sizeof(name), "p%zu", i);
        obj = st_mpaths_pick(e->mp, t_digest(&t_bck, name)) == 1 ? name : NULL;
    }
    uint64_t dg = t_digest(&t_bck, obj);
    assert_int_equal(t_put(e, &t_bck, obj, "v1", 2, NULL, NULL), 0);
    struct st_put *put = NULL;
    assert_int_equal(st_put_begin(e->mp, &t_bck, obj, dg, NULL, &put), 0);
    assert_int_equal(st_mpaths_drain(e->mp, 0), 0);
    assert_int_equal(st_mpaths_detach(e->mp, e->mp_dirs[1]), 0);
    assert_int_equal(st_mpaths_drain(e->mp, 20), -ETIMEDOUT); /* the PUT holds the old set */
    assert_int_equal(st_put_write(put, "v2", 2), 0);
    assert_int_equal(st_put_finish(put, NULL), 0);
    assert_int_equal(st_mpaths_drain(e->mp, 1000), 0);
    char *buf = NULL;
    struct st_obj_md md;
    assert_int_equal(t_get(e, &t_bck, obj, &buf, &md), 2);
    assert_string_equal(buf, "v2"); /* landed on the detaching slot, still found */
    free(buf);
    assert_int_equal(st_mpaths_slot_empty(e->mp, 1, &t_bck), 0);
    assert_int_equal(st_obj_relocate(e->mp, &t_bck, obj, dg, NULL), 1);
    assert_int_equal(st_mpaths_slot_empty(e->mp, 1, &t_bck), 1);
    assert_int_equal(st_mpaths_drop(e->mp, 1), 0);
    assert_int_equal(t_get(e, &t_bck, obj, &buf, &md), 2);
    assert_string_equal(buf, "v2");
    free(buf);
    t_env_free(e);
}

static void
test_open_tolerates_missing(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    st_mpaths_free(e->mp);
    e->mp = NULL;
    t_rm_rf(e->mp_dirs[1]);
    const char *paths[] = {e->mp_dirs[0], e->mp_dirs[1]};
    struct st_mpaths_opts o = {.no_create = 1};
    assert_int_equal(st_mpaths_open_opts(paths, 2, "t1", &o, &e->mp), -ENOENT); /* strict */
    o.tolerate = 1;
    assert_int_equal(st_mpaths_open_opts(paths, 2, "t1", &o, &e->mp), 0);
    assert_int_equal(st_mpaths_state(e->mp, 0), ST_MPATH_AVAIL);
    assert_int_equal(st_mpaths_state(e->mp, 1), ST_MPATH_DISABLED);
    assert_int_equal(access(e->mp_dirs[1], F_OK), -1); /* not re-created */
    t_bck_dirs(e);
    assert_int_equal(t_put(e, &t_bck, "a", "a", 1, NULL, NULL), 0);
    char *buf = NULL;
    assert_int_equal(t_get(e, &t_bck, "a", &buf, NULL), 1);
    free(buf);
    struct st_list_iter *it = NULL; /* listing skips the dead mountpath */
    assert_int_equal(st_list_iter_open(e->mp, &t_bck, "", 0, &it), 0);
    st_list_iter_close(it);
    st_mpaths_free(e->mp);
    e->mp = NULL;
    const char *dead[] = {e->mp_dirs[1]};
    assert_int_equal(st_mpaths_open_opts(dead, 1, "t1", &o, &e->mp), -ENODEV);
    uint8_t states[] = {ST_MPATH_AVAIL, ST_MPATH_DETACHING};
    struct st_mpaths_opts o2 = {.states = states, .no_create = 1, .tolerate = 1};
    assert_int_equal(st_mpaths_open_opts(paths, 2, "t1", &o2, &e->mp), 0);
    assert_int_equal(st_mpaths_state(e->mp, 1), ST_MPATH_DETACHING);
    t_env_free(e);
}

struct t_reader {
    struct t_env *e;
    int stop; /* atomic */
    int misses;
    int reads;
};

static void *
t_reader_main(void *arg)
{
    struct t_reader *r = arg;
    char name[32], buf[32];
    /* Bounded: stops when asked or after a fixed number of rounds. */
    for (int round = 0; round < 20000 && !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE); round++) {
        snprintf(name, sizeof(name), "d/o%d", round % 32);
        int fd = -1;
        struct st_obj_md md;
        if (st_obj_open(r->e->mp, &t_bck, name, t_digest(&t_bck, name), &fd, &md) != 0) {
            r->misses++;
            continue;
        }
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        close(fd);
        r->misses += n != (ssize_t)strlen(name) || memcmp(buf, name, (size_t)n) != 0;
        r->reads++;
    }
    return NULL;
}

/* Readers never miss (nor see torn data) while the set changes and objects move. */
static void
test_readers_during_changes(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(3);
    t_bck_dirs(e);
    (void)t_fill(e, 32);
    struct t_reader r[2] = {{.e = e}, {.e = e}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, t_reader_main, &r[i]), 0);
    }
    char name[32];
    for (int round = 0; round < 20; round++) {
        const char *p = e->mp_dirs[1 + round % 2];
        assert_int_equal(round % 4 < 2 ? st_mpaths_disable(e->mp, p) : st_mpaths_enable(e->mp, p),
                         0);
        for (int i = 0; i < 32; i++) {
            snprintf(name, sizeof(name), "d/o%d", i);
            assert_true(st_obj_relocate(e->mp, &t_bck, name, t_digest(&t_bck, name), NULL) >= 0);
        }
    }
    for (int i = 0; i < 2; i++) {
        __atomic_store_n(&r[i].stop, 1, __ATOMIC_RELEASE);
        pthread_join(th[i], NULL);
        assert_int_equal(r[i].misses, 0);
        assert_true(r[i].reads > 0);
    }
    t_env_free(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attach_detach_enable_disable),
        cmocka_unit_test(test_limits_and_owner),
        cmocka_unit_test(test_pick_stability),
        cmocka_unit_test(test_open_fallback_and_relocate),
        cmocka_unit_test(test_newest_copy_wins_and_delete_all),
        cmocka_unit_test(test_put_across_change_and_drain),
        cmocka_unit_test(test_open_tolerates_missing),
        cmocka_unit_test(test_readers_during_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
