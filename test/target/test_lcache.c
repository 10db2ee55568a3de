/*
 * Goal: the list-cursor cache continues a listing's walk when the next page's `after` falls
 * inside the last page, never for a first page, evicts its least recently used cursor when
 * full, and never hands one cursor to two users.
 * Method: a real bucket of 300 names on two mountpaths; pages taken/given like op_list does;
 * the storage walk counter tells a continued walk (no new walk) from a fresh one.
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "../storage/st_test.h"
#include "target/lcache.h"

#define T_N 300

static int
t_count(void *ctx, const char *name, const struct st_obj_md *md)
{
    (void)md;
    char *last = ctx;
    snprintf(last, AIS_OBJNAME_BYTES_MAX + 1, "%s", name);
    return 0;
}

struct t_fix {
    struct t_env *e;
    struct tgt_lcache *c;
    char names[T_N][16];
};

static int
setup(void **state)
{
    struct t_fix *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->e = t_env_new(2);
    assert_int_equal(st_bck_create(f->e->mp, &t_bck), 0);
    for (int i = 0; i < T_N; i++) {
        snprintf(f->names[i], sizeof(f->names[i]), "d%d/o%04d", i % 3, i);
        assert_int_equal(t_put(f->e, &t_bck, f->names[i], "x", 1, NULL, NULL), 0);
    }
    assert_int_equal(tgt_lcache_new(&f->c), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct t_fix *f = *state;
    tgt_lcache_free(f->c);
    t_env_free(f->e);
    free(f);
    return 0;
}

/* One page like op_list: take, emit `limit`, give back; returns the last name emitted. */
static void
t_page(struct t_fix *f, const char *after, size_t limit, char *last)
{
    struct st_list_iter *it = NULL;
    int more = 0;
    assert_int_equal(tgt_lcache_take(f->c, f->e->mp, &t_bck, "", 0, after, &it), 0);
    assert_int_equal(st_list_iter_next_page(it, limit, t_count, last, &more), 0);
    tgt_lcache_give(f->c, it);
}

static void
test_continue_inside_last_page(void **state)
{
    struct t_fix *f = *state;
    char last[AIS_OBJNAME_BYTES_MAX + 1] = "";
    uint64_t w0 = st_mpaths_list_walks(f->e->mp);
    t_page(f, "", 50, last);
    uint64_t h0 = tgt_lcache_hits(f->c);
    /* The merger kept only 20 of our 50 names: the next page starts inside ours. */
    char mid[AIS_OBJNAME_BYTES_MAX + 1];
    struct st_list_iter *it = NULL;
    assert_int_equal(st_list_iter_open(f->e->mp, &t_bck, "", 0, &it), 0);
    int more = 0;
    assert_int_equal(st_list_iter_next_page(it, 20, t_count, mid, &more), 0);
    st_list_iter_close(it);
    t_page(f, mid, 50, last);
    t_page(f, last, 50, last);
    assert_int_equal(tgt_lcache_hits(f->c) - h0, 2);
    assert_int_equal(st_mpaths_list_walks(f->e->mp) - w0, 2); /* ours + the probe above */
    /* A first page never continues a cursor. */
    t_page(f, "", 10, last);
    assert_int_equal(st_mpaths_list_walks(f->e->mp) - w0, 3);
}

static void
test_lru_eviction(void **state)
{
    struct t_fix *f = *state;
    char last[AIS_LIST_CURSORS_MAX + 1][AIS_OBJNAME_BYTES_MAX + 1];
    for (size_t i = 0; i <= AIS_LIST_CURSORS_MAX; i++) {
        t_page(f, "", 5, last[i]); /* each a fresh cursor at the same spot */
    }
    uint64_t h0 = tgt_lcache_hits(f->c);
    uint64_t w0 = st_mpaths_list_walks(f->e->mp);
    /* All 64 cached cursors continue; the 65th request must walk anew. */
    for (size_t i = 0; i <= AIS_LIST_CURSORS_MAX; i++) {
        struct st_list_iter *it = NULL;
        assert_int_equal(tgt_lcache_take(f->c, f->e->mp, &t_bck, "", 0, last[i], &it), 0);
        st_list_iter_close(it); /* taken out: not shared with the next request */
    }
    assert_int_equal(tgt_lcache_hits(f->c) - h0, AIS_LIST_CURSORS_MAX);
    assert_int_equal(st_mpaths_list_walks(f->e->mp) - w0, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_continue_inside_last_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lru_eviction, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
