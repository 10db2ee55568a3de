/*
 * Goal: the job framework's state machine, counters, abort, bounds and JSON shapes hold.
 * Method: real threads run small job bodies; waits are condition waits with deadlines
 * (xa_wait), never sleeps as synchronisation.
 */
// clang-format off
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
// clang-format on

#include "common/limits.h"
#include "xact/xact.h"

static int
body_ok(struct xa_job *j, void *arg)
{
    (void)arg;
    xa_job_set_total(j, 10, 1000);
    for (int i = 0; i < 10; i++) {
        xa_job_add(j, XA_CTR_LOC, 1, 100);
    }
    return 0;
}

static int
body_fail(struct xa_job *j, void *arg)
{
    (void)arg;
    xa_job_set_err(j, "disk on fire");
    return -EIO;
}

/* Spins (bounded by the abort) until aborted; a deadline guards against a lost abort. */
static int
body_until_abort(struct xa_job *j, void *arg)
{
    int *started = arg;
    __atomic_store_n(started, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 20000 && !xa_job_aborted(j); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL); /* a job body doing work, not test synchronisation */
    }
    return xa_job_aborted(j) ? -ECANCELED : -ETIMEDOUT;
}

static int freed;
static void
arg_free(void *arg)
{
    (void)arg;
    __atomic_add_fetch(&freed, 1, __ATOMIC_RELAXED);
}

static void
test_finish_and_counters(void **state)
{
    (void)state;
    struct xa_reg *r = NULL;
    char id[XA_ID_BYTES];
    assert_int_equal(xa_reg_new("t1", &r), 0);
    freed = 0;
    assert_int_equal(xa_job_start(r, "rebalance", "ais://b", body_ok, NULL, arg_free, id), 0);
    struct xa_filter f = {.id = id};
    assert_int_equal(xa_wait(r, &f, 10000), 0);
    struct xa_snap s;
    assert_int_equal(xa_snap_get(r, id, &s), 0);
    assert_int_equal(s.state, XA_FINISHED);
    assert_int_equal(s.objs[XA_CTR_LOC], 10);
    assert_int_equal(s.bytes[XA_CTR_LOC], 1000);
    assert_int_equal(s.total_objs, 10);
    assert_true(s.end_ns > s.start_ns);
    assert_int_equal(s.eta_ns, 0);
    assert_string_equal(s.kind, "rebalance");
    assert_string_equal(s.node_id, "t1");
    assert_int_equal(__atomic_load_n(&freed, __ATOMIC_RELAXED), 1);
    assert_int_equal(xa_snap_get(r, "nope", &s), -ENOENT);
    /* A given id; a second start while it runs is -EEXIST, after it ended it may start again. */
    int started = 0;
    assert_int_equal(
        xa_job_start_id(r, "g7", "rebalance", NULL, body_until_abort, &started, NULL, id), 0);
    assert_string_equal(id, "g7");
    assert_int_equal(xa_job_start_id(r, "g7", "rebalance", NULL, body_ok, NULL, NULL, id), -EEXIST);
    assert_int_equal(xa_job_start_id(r, "0123456789abcdefX", "k", NULL, body_ok, NULL, NULL, id),
                     -EINVAL);
    assert_int_equal(xa_abort(r, &(struct xa_filter){.id = "g7"}), 1);
    assert_int_equal(xa_wait(r, &(struct xa_filter){.id = "g7"}, 10000), 0);
    assert_int_equal(xa_job_start_id(r, "g7", "rebalance", NULL, body_ok, NULL, NULL, id), 0);
    assert_int_equal(xa_wait(r, &(struct xa_filter){.id = "g7"}, 10000), 0);
    xa_reg_free(r);
}

static void
test_error_and_abort(void **state)
{
    (void)state;
    struct xa_reg *r = NULL;
    char id1[XA_ID_BYTES], id2[XA_ID_BYTES];
    int started = 0;
    assert_int_equal(xa_reg_new("t1", &r), 0);
    assert_int_equal(xa_job_start(r, "lru", NULL, body_fail, NULL, NULL, id1), 0);
    assert_int_equal(xa_job_start(r, "resilver", NULL, body_until_abort, &started, NULL, id2), 0);
    struct xa_filter f1 = {.id = id1}, f2 = {.id = id2};
    assert_int_equal(xa_wait(r, &f1, 10000), 0);
    struct xa_snap s;
    assert_int_equal(xa_snap_get(r, id1, &s), 0);
    assert_int_equal(s.state, XA_ERROR);
    assert_string_equal(s.err, "disk on fire");
    /* Still running: a short wait times out, then abort by kind ends it. */
    assert_int_equal(xa_wait(r, &f2, 20), -ETIMEDOUT);
    assert_int_equal(xa_abort(r, &(struct xa_filter){.kind = "resilver"}), 1);
    assert_int_equal(xa_wait(r, &f2, 10000), 0);
    assert_int_equal(xa_snap_get(r, id2, &s), 0);
    assert_int_equal(s.state, XA_ABORTED);
    assert_int_equal(xa_abort(r, &(struct xa_filter){.kind = "resilver"}), 0);
    xa_reg_free(r);
}

static void
test_begin_end_and_filters(void **state)
{
    (void)state;
    struct xa_reg *r = NULL;
    struct xa_job *a = NULL, *b = NULL;
    assert_int_equal(xa_reg_new("p1", &r), 0);
    assert_int_equal(xa_job_begin(r, "", NULL, &a), -EINVAL);
    assert_int_equal(xa_job_begin(r, "delete-listrange", "ais://x", &a), 0);
    assert_int_equal(xa_job_begin(r, "evict-listrange", "aws://y", &b), 0);
    struct xa_snap v[4];
    assert_int_equal(xa_snaps(r, &(struct xa_filter){.only_running = 1}, v, 4), 2);
    assert_string_equal(v[0].id, xa_job_id(b)); /* newest first */
    assert_int_equal(xa_snaps(r, &(struct xa_filter){.bck = "x"}, v, 4), 1);
    assert_int_equal(xa_snaps(r, &(struct xa_filter){.bck = "aws://y"}, v, 4), 1);
    xa_job_end(a, 0, NULL);
    xa_job_end(b, -ECANCELED, NULL);
    assert_int_equal(xa_snaps(r, &(struct xa_filter){.only_running = 1}, v, 4), 0);
    assert_int_equal(xa_snaps(r, &(struct xa_filter){.kind = "evict-listrange"}, v, 4), 1);
    assert_int_equal(v[0].state, XA_ABORTED);
    xa_reg_free(r);
}

static void
test_bounds(void **state)
{
    (void)state;
    struct xa_reg *r = NULL;
    struct xa_job *jobs[AIS_XACT_RUNNING_MAX];
    struct xa_job *extra = NULL;
    assert_int_equal(xa_reg_new("p1", &r), 0);
    for (int i = 0; i < AIS_XACT_RUNNING_MAX; i++) {
        assert_int_equal(xa_job_begin(r, "k", NULL, &jobs[i]), 0);
    }
    assert_int_equal(xa_job_begin(r, "k", NULL, &extra), -EAGAIN);
    freed = 0;
    assert_int_equal(xa_job_start(r, "k", NULL, body_ok, NULL, arg_free, NULL), -EAGAIN);
    assert_int_equal(freed, 1); /* the argument is freed on a failed start */
    for (int i = 0; i < AIS_XACT_RUNNING_MAX; i++) {
        xa_job_end(jobs[i], 0, NULL);
    }
    /* Records recycle oldest-first: many more jobs than records always start. */
    char first[XA_ID_BYTES];
    for (int i = 0; i < AIS_XACT_RECORDS_MAX * 2; i++) {
        struct xa_job *j = NULL;
        assert_int_equal(xa_job_begin(r, "k", NULL, &j), 0);
        if (i == 0) {
            memcpy(first, xa_job_id(j), XA_ID_BYTES);
        }
        xa_job_end(j, 0, NULL);
    }
    struct xa_snap s;
    assert_int_equal(xa_snap_get(r, first, &s), -ENOENT);
    assert_int_equal(xa_snaps(r, &(struct xa_filter){0}, NULL, 0), AIS_XACT_RECORDS_MAX);
    xa_reg_free(r);
}

static void
test_json_round_trip(void **state)
{
    (void)state;
    struct xa_snap s = {.start_ns = 1700000000123456789LL,
                        .end_ns = 1700000005000000001LL,
                        .state = XA_ABORTED,
                        .total_objs = 7};
    snprintf(s.id, sizeof(s.id), "xabc");
    snprintf(s.kind, sizeof(s.kind), "rebalance");
    snprintf(s.bck, sizeof(s.bck), "ais://b1");
    snprintf(s.err, sizeof(s.err), "superseded");
    s.objs[XA_CTR_OUT] = 3;
    s.bytes[XA_CTR_IN] = 99;
    json_t *j = xa_snap_to_json(&s);
    assert_non_null(j);
    assert_true(json_is_true(json_object_get(j, "aborted")));
    assert_true(json_is_true(json_object_get(j, "is_idle")));
    assert_string_equal(json_string_value(json_object_get(j, "start-time")),
                        "2023-11-14T22:13:20.123456789Z");
    struct xa_snap back;
    assert_int_equal(xa_snap_from_json(j, &back), 0);
    assert_int_equal(back.start_ns, s.start_ns);
    assert_int_equal(back.end_ns, s.end_ns);
    assert_int_equal(back.state, XA_ABORTED);
    assert_int_equal(back.objs[XA_CTR_OUT], 3);
    assert_int_equal(back.bytes[XA_CTR_IN], 99);
    assert_int_equal(back.total_objs, 7);
    assert_string_equal(back.bck, "ais://b1");
    json_decref(j);
    j = xa_status_to_json(&s);
    assert_int_equal(json_integer_value(json_object_get(j, "end_time")), s.end_ns);
    assert_string_equal(json_string_value(json_object_get(j, "uuid")), "xabc");
    json_decref(j);
    assert_int_equal(xa_snap_from_json(json_null(), &back), -EINVAL);
    /* Running job: zero end-time parses back as 0. */
    s.end_ns = 0;
    s.state = XA_RUNNING;
    j = xa_snap_to_json(&s);
    assert_int_equal(xa_snap_from_json(j, &back), 0);
    assert_int_equal(back.end_ns, 0);
    assert_false(json_is_true(json_object_get(j, "is_idle")));
    json_decref(j);
    json_t *args = json_pack("{s:s, s:s, s:{s:s}, s:b}", "id", "x1", "KIND", "lru", "Bck", "name",
                             "b", "OnlyRunning", 1);
    struct xa_filter f;
    xa_filter_from_json(args, &f);
    assert_string_equal(f.id, "x1");
    assert_string_equal(f.kind, "lru");
    assert_string_equal(f.bck, "b");
    assert_int_equal(f.only_running, 1);
    json_decref(args);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finish_and_counters),   cmocka_unit_test(test_error_and_abort),
        cmocka_unit_test(test_begin_end_and_filters), cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_json_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
