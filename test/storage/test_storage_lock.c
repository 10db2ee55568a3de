/*
 * Goal: object locks give shared/exclusive semantics per digest, and every storage path that
 * touches an object is covered: concurrent PUT/GET/DELETE of one object never expose a torn
 * or foreign version, versioning's read-modify-write loses no update, the bad-checksum repair
 * never removes a newer PUT, and a PUT racing a bucket destroy fails cleanly without
 * re-creating the bucket or leaving work files; destroyed buckets leave through the trash.
 * Method: threads hammer the lock table with invariant counters (a writer must be alone, a
 * reader must see no writer); threads PUT bodies made of their own id (each writer its own
 * length) while readers check every body they get is uniform, of that writer's length and
 * passes validation; a destroy runs in the middle of PUT loops; deadlines, never sleeps.
 */
#include "st_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define T_HAMMER_THREADS 8
#define T_HAMMER_ROUNDS 20000
#define T_WRITERS 4
#define T_READERS 4
#define T_PUTS_PER_WRITER 150

/* --- lock table --- */

struct t_lock_ctx {
    struct st_mpaths *mp;
    uint64_t digest;
    atomic_int writers;
    atomic_int readers;
    atomic_int violations;
    int counter; /* plain: only touched under the exclusive lock */
};

static void *
t_lock_worker(void *arg)
{
    struct t_lock_ctx *c = arg;
    for (int i = 0; i < T_HAMMER_ROUNDS; i++) {
        if (i % 4 == 0) {
            st_obj_lock_wr(c->mp, c->digest);
            if (atomic_fetch_add(&c->writers, 1) != 0 || atomic_load(&c->readers) != 0) {
                atomic_fetch_add(&c->violations, 1);
            }
            c->counter++;
            atomic_fetch_sub(&c->writers, 1);
        } else {
            st_obj_lock_rd(c->mp, c->digest);
            atomic_fetch_add(&c->readers, 1);
            if (atomic_load(&c->writers) != 0) {
                atomic_fetch_add(&c->violations, 1);
            }
            atomic_fetch_sub(&c->readers, 1);
        }
        st_obj_unlock(c->mp, c->digest);
    }
    return NULL;
}

static void
test_lock_hammer_one_digest(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(1);
    struct t_lock_ctx c = {.mp = e->mp, .digest = 0x1234abcdull};
    pthread_t th[T_HAMMER_THREADS];
    for (int i = 0; i < T_HAMMER_THREADS; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, t_lock_worker, &c), 0);
    }
    for (int i = 0; i < T_HAMMER_THREADS; i++) {
        pthread_join(th[i], NULL);
    }
    assert_int_equal(atomic_load(&c.violations), 0);
    assert_int_equal(c.counter, T_HAMMER_THREADS * T_HAMMER_ROUNDS / 4);
    t_env_free(e);
}

struct t_try_ctx {
    struct st_mpaths *mp;
    uint64_t digest;
    int rc;
};

static void *
t_try_wr(void *arg)
{
    struct t_try_ctx *c = arg;
    c->rc = st_obj_trylock_wr(c->mp, c->digest);
    if (c->rc == 0) {
        st_obj_unlock(c->mp, c->digest);
    }
    return NULL;
}

/* Runs trylock_wr on another thread (a lock held by this thread must exclude it). */
static int
t_try_other(struct st_mpaths *mp, uint64_t digest)
{
    struct t_try_ctx c = {mp, digest, 1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, t_try_wr, &c), 0);
    pthread_join(th, NULL);
    return c.rc;
}

static void
test_lock_shared_exclusive(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(1);
    uint64_t d = 42;
    st_obj_lock_rd(e->mp, d);
    st_obj_lock_rd(e->mp, d); /* shared: a second reader gets in */
    assert_int_equal(t_try_other(e->mp, d), -EBUSY);
    st_obj_unlock(e->mp, d);
    assert_int_equal(t_try_other(e->mp, d), -EBUSY);
    st_obj_unlock(e->mp, d);
    assert_int_equal(t_try_other(e->mp, d), 0);
    st_obj_lock_wr(e->mp, d);
    assert_int_equal(t_try_other(e->mp, d), -EBUSY);
    /* Another digest almost always maps to another stripe: some of 8 must be free. */
    int free_found = 0;
    for (uint64_t o = 1; o <= 8; o++) {
        free_found |= t_try_other(e->mp, d + o) == 0;
    }
    assert_true(free_found);
    st_obj_unlock(e->mp, d);
    t_env_free(e);
}

/* --- PUT / GET / DELETE of one object --- */

struct t_obj_ctx {
    struct t_env *e;
    const char *obj;
    int id;
    int versioning;
    atomic_int *stop;
    atomic_int gets_ok;
    atomic_int bad;
};

static size_t
t_body_len(int id)
{
    return 1000 + (size_t)id * 777; /* each writer its own length */
}

static void *
t_writer(void *arg)
{
    struct t_obj_ctx *c = arg;
    size_t len = t_body_len(c->id);
    char *body = malloc(len);
    assert_non_null(body);
    memset(body, 'A' + c->id, len);
    struct st_put_opts opts = {.versioning = c->versioning, .fsync = 1}; /* as the daemon */
    for (int i = 0; i < T_PUTS_PER_WRITER; i++) {
        if (t_put(c->e, &t_bck, c->obj, body, len, &opts, NULL) != 0) {
            atomic_fetch_add(&c->bad, 1);
        }
    }
    free(body);
    return NULL;
}

/* One GET: 0 ok (or absent), 1 if the body is torn, foreign or fails validation. */
static int
t_get_check(struct t_obj_ctx *c, char *buf, size_t cap)
{
    struct st_obj_md md;
    int fd = -1;
    int rc = st_obj_open(c->e->mp, &t_bck, c->obj, t_digest(&t_bck, c->obj), &fd, &md);
    if (rc == -ENOENT) {
        return 0;
    }
    if (rc != 0) {
        return 1;
    }
    ssize_t n = pread(fd, buf, cap, 0);
    int bad = n <= 0 || (uint64_t)n != md.size || st_obj_validate(fd, &md) != 0;
    close(fd);
    if (!bad) {
        int id = buf[0] - 'A';
        bad = id < 0 || id >= T_WRITERS || (size_t)n != t_body_len(id);
        for (ssize_t i = 1; !bad && i < n; i++) {
            bad = buf[i] != buf[0];
        }
    }
    atomic_fetch_add(&c->gets_ok, !bad);
    return bad;
}

static void *
t_reader(void *arg)
{
    struct t_obj_ctx *c = arg;
    size_t cap = t_body_len(T_WRITERS) + 1;
    char *buf = malloc(cap);
    assert_non_null(buf);
    while (!atomic_load(c->stop)) {
        atomic_fetch_add(&c->bad, t_get_check(c, buf, cap));
    }
    free(buf);
    return NULL;
}

static void *
t_deleter(void *arg)
{
    struct t_obj_ctx *c = arg;
    while (!atomic_load(c->stop)) {
        int rc = st_obj_delete(c->e->mp, &t_bck, c->obj, t_digest(&t_bck, c->obj));
        if (rc != 0 && rc != -ENOENT) {
            atomic_fetch_add(&c->bad, 1);
        }
    }
    return NULL;
}

/* Runs writers (and readers and, if with_delete, a deleter) on one object; checks results. */
static void
t_one_object(struct t_env *e, const char *obj, int versioning, int with_delete)
{
    atomic_int stop = 0;
    struct t_obj_ctx w[T_WRITERS], r = {.e = e, .obj = obj, .stop = &stop};
    pthread_t wt[T_WRITERS], rt[T_READERS], dt;
    for (int i = 0; i < T_WRITERS; i++) {
        w[i] = (struct t_obj_ctx){.e = e, .obj = obj, .id = i, .versioning = versioning};
        assert_int_equal(pthread_create(&wt[i], NULL, t_writer, &w[i]), 0);
    }
    for (int i = 0; i < T_READERS; i++) {
        assert_int_equal(pthread_create(&rt[i], NULL, t_reader, &r), 0);
    }
    if (with_delete) {
        assert_int_equal(pthread_create(&dt, NULL, t_deleter, &r), 0);
    }
    for (int i = 0; i < T_WRITERS; i++) {
        pthread_join(wt[i], NULL);
        assert_int_equal(atomic_load(&w[i].bad), 0);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < T_READERS; i++) {
        pthread_join(rt[i], NULL);
    }
    if (with_delete) {
        pthread_join(dt, NULL);
    }
    assert_int_equal(atomic_load(&r.bad), 0);
    assert_int_equal(t_wk_count(e, &t_bck), 0);
}

static void
test_put_get_delete_one_object(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    t_one_object(e, "hot/obj", 0, 1);
    t_env_free(e);
}

/* Every versioned PUT reads the previous version under the lock: no increment is lost. */
static void
test_versioning_no_lost_update(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    struct st_obj_md md;
    char want[32];
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    t_one_object(e, "versioned", 1, 0);
    assert_int_equal(st_obj_stat(e->mp, &t_bck, "versioned", t_digest(&t_bck, "versioned"), &md),
                     0);
    snprintf(want, sizeof(want), "%d", T_WRITERS * T_PUTS_PER_WRITER);
    assert_string_equal(md.version, want);
    t_env_free(e);
}

/* The repair after a bad checksum removes the copy it read, never a newer PUT. */
static void
test_delete_if_same_file(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    struct st_obj_md md1, md2;
    char *got = NULL;
    uint64_t d = t_digest(&t_bck, "o");
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(t_put(e, &t_bck, "o", "old", 3, NULL, NULL), 0);
    assert_int_equal(st_obj_stat(e->mp, &t_bck, "o", d, &md1), 0);
    assert_int_equal(t_put(e, &t_bck, "o", "newer", 5, NULL, NULL), 0);
    assert_int_equal(st_obj_delete_if(e->mp, &t_bck, "o", d, &md1), -ESTALE);
    assert_int_equal(t_get(e, &t_bck, "o", &got, &md2), 5);
    assert_string_equal(got, "newer");
    free(got);
    assert_int_equal(st_obj_delete_if(e->mp, &t_bck, "o", d, &md2), 0);
    assert_int_equal(st_obj_delete_if(e->mp, &t_bck, "o", d, &md2), -ENOENT);
    assert_int_equal(st_obj_stat(e->mp, &t_bck, "o", d, &md2), -ENOENT);
    t_env_free(e);
}

/* --- destroy while PUTs run; trash --- */

struct t_race_ctx {
    struct t_env *e;
    int id;
    atomic_int *stop;
    atomic_int ok, enoent, other;
};

static void *
t_race_putter(void *arg)
{
    struct t_race_ctx *c = arg;
    char name[64];
    /* Bounded: stops on the flag or after many rounds. */
    for (int i = 0; i < 100000 && !atomic_load(c->stop); i++) {
        snprintf(name, sizeof(name), "d%d/sub%d/o%d", c->id, i % 7, i);
        int rc = t_put(c->e, &t_bck, name, name, strlen(name), NULL, NULL);
        if (rc == 0) {
            atomic_fetch_add(&c->ok, 1);
        } else if (rc == -ENOENT) {
            atomic_fetch_add(&c->enoent, 1);
            atomic_store(c->stop, 1); /* bucket gone: every later PUT fails the same way */
        } else {
            atomic_fetch_add(&c->other, 1);
        }
    }
    return NULL;
}

static void
test_destroy_races_put(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(3);
    char p[AIS_PATH_BYTES_MAX];
    atomic_int stop = 0;
    struct t_race_ctx c[T_WRITERS];
    pthread_t th[T_WRITERS];
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    for (int i = 0; i < T_WRITERS; i++) {
        c[i] = (struct t_race_ctx){.e = e, .id = i, .stop = &stop};
        assert_int_equal(pthread_create(&th[i], NULL, t_race_putter, &c[i]), 0);
    }
    /* Destroy once the PUTs are well under way (poll, with a deadline). */
    int64_t deadline = time(NULL) + 30;
    while (atomic_load(&c[0].ok) < 200 && time(NULL) < deadline) {
        sched_yield();
    }
    assert_int_equal(st_bck_destroy(e->mp, &t_bck), 0);
    atomic_store(&stop, 1);
    for (int i = 0; i < T_WRITERS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(atomic_load(&c[i].other), 0);
    }
    assert_true(atomic_load(&c[0].ok) >= 200);
    /* Nothing re-created the bucket, and the trash (with any work files) empties. */
    for (size_t i = 0; i < e->n; i++) {
        t_ct_dir(e, i, &t_bck, "", p, sizeof(p));
        assert_int_equal(t_dir_count(p), -1);
    }
    assert_int_equal(st_trash_wait(e->mp, 30000), 0);
    for (size_t i = 0; i < e->n; i++) {
        snprintf(p, sizeof(p), "%s/.trash", e->mp_dirs[i]);
        assert_true(t_dir_count(p) <= 0);
    }
    t_env_free(e);
}

/* A big leftover in the trash does not hold up open or close; it is gone after a reopen. */
static void
test_trash_stop_and_reopen(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(1);
    const char *paths[1] = {e->mp_dirs[0]};
    char dir[AIS_PATH_BYTES_MAX], f[AIS_PATH_BYTES_MAX + 16];
    st_mpaths_free(e->mp); /* closed: as after a crash, nobody sweeps while we plant */
    snprintf(dir, sizeof(dir), "%s/.trash", e->mp_dirs[0]);
    assert_int_equal(mkdir(dir, 0755), 0);
    for (int d = 0; d < 20; d++) {
        snprintf(dir, sizeof(dir), "%s/.trash/bck.%d", e->mp_dirs[0], d);
        assert_int_equal(mkdir(dir, 0755), 0);
        for (int i = 0; i < 100; i++) {
            snprintf(f, sizeof(f), "%s/f%d", dir, i);
            t_write_file(f, "x", 1);
        }
    }
    assert_int_equal(st_mpaths_open(paths, 1, "t1", &e->mp), 0);
    st_mpaths_free(e->mp); /* the remover may be mid-tree: stop joins it */
    assert_int_equal(st_mpaths_open(paths, 1, "t1", &e->mp), 0);
    assert_int_equal(st_trash_wait(e->mp, 30000), 0);
    snprintf(dir, sizeof(dir), "%s/.trash", e->mp_dirs[0]);
    assert_int_equal(t_dir_count(dir), 0);
    t_env_free(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock_hammer_one_digest),
        cmocka_unit_test(test_lock_shared_exclusive),
        cmocka_unit_test(test_put_get_delete_one_object),
        cmocka_unit_test(test_versioning_no_lost_update),
        cmocka_unit_test(test_delete_if_same_file),
        cmocka_unit_test(test_destroy_races_put),
        cmocka_unit_test(test_trash_stop_and_reopen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
