/*
 * Goal: st_bck_list returns each object exactly once, in strcmp order, honouring prefix,
 * after, limit and the "more" flag across mountpaths, with bounded depth, and skips what is
 * not an object; st_bck_destroy makes a bucket vanish.
 * Method: 1500 nested names PUT over two mountpaths, paged with limit 100 and compared with
 * a qsort'ed copy of the expected names; prefix/after/limit probed at edges (0, max, max+1,
 * count-1, count); foreign entries (FIFO, symlinked dir, stray copies on the wrong
 * mountpath, names deeper than AIS_WALK_DEPTH_MAX) planted by hand.
 */
#include "st_test.h"

#define T_NOBJS 1500

struct t_names {
    char **v;
    size_t n;
    size_t cap;
    int with_md_seen;
    size_t stop_after; /* fn returns 42 after this many calls (0 = never) */
};

static int
t_collect(void *ctx, const char *name, const struct st_obj_md *md)
{
    struct t_names *c = ctx;
    assert_true(c->n < c->cap);
    c->v[c->n] = strdup(name);
    assert_non_null(c->v[c->n]);
    c->n++;
    if (md != NULL) {
        c->with_md_seen++;
        assert_int_equal(md->size, strlen(name));
        assert_string_equal(md->cksum_type, "xxhash");
        assert_string_equal(md->version, "1");
    }
    return c->stop_after != 0 && c->n == c->stop_after ? 42 : 0;
}

static void
t_names_reset(struct t_names *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i]);
    }
    c->n = 0;
    c->with_md_seen = 0;
    c->stop_after = 0;
}

static int
t_strcmp_p(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct t_list_state {
    struct t_env *e;
    char *names[T_NOBJS];
    struct t_names got;
};

/* 1500 names such as "d07/s2/obj-0412" plus a few flat "top-N" ones; body = the name. */
static int
setup_bucket(void **state)
{
    struct t_list_state *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->e = t_env_new(2);
    assert_int_equal(st_bck_create(s->e->mp, &t_bck), 0);
    for (int i = 0; i < T_NOBJS; i++) {
        char name[64];
        if (i % 100 == 0) {
            snprintf(name, sizeof(name), "top-%04d", i);
        } else {
            snprintf(name, sizeof(name), "d%02d/s%d/obj-%04d", i % 13, i % 3, i);
        }
        s->names[i] = strdup(name);
        assert_non_null(s->names[i]);
        assert_int_equal(t_put(s->e, &t_bck, name, name, strlen(name), NULL, NULL), 0);
    }
    qsort(s->names, T_NOBJS, sizeof(s->names[0]), t_strcmp_p);
    s->got.cap = AIS_LIST_PAGE_MAX + 8;
    s->got.v = calloc(s->got.cap, sizeof(char *));
    assert_non_null(s->got.v);
    *state = s;
    return 0;
}

static int
teardown_bucket(void **state)
{
    struct t_list_state *s = *state;
    t_names_reset(&s->got);
    free(s->got.v);
    for (int i = 0; i < T_NOBJS; i++) {
        free(s->names[i]);
    }
    t_env_free(s->e);
    free(s);
    return 0;
}

static int
t_list(struct t_list_state *s, const char *prefix, const char *after, size_t limit, int md,
       int *more)
{
    t_names_reset(&s->got);
    return st_bck_list(s->e->mp, &t_bck, prefix, after, limit, md, t_collect, &s->got, more);
}

static void
test_list_pages_see_everything_once(void **state)
{
    struct t_list_state *s = *state;
    char after[AIS_OBJNAME_BYTES_MAX + 1] = "";
    size_t seen = 0, pages = 0;
    int more = 1;
    /* Both mountpaths hold part of the bucket. */
    char ob[AIS_PATH_BYTES_MAX];
    for (size_t i = 0; i < 2; i++) {
        t_ct_dir(s->e, i, &t_bck, "%ob", ob, sizeof(ob));
        assert_true(t_dir_count(ob) > 5);
    }
    while (more) {
        assert_int_equal(t_list(s, "", after, 100, 0, &more), 0);
        assert_true(s->got.n == 100 || !more);
        for (size_t i = 0; i < s->got.n; i++) {
            assert_true(seen < T_NOBJS);
            assert_string_equal(s->got.v[i], s->names[seen]);
            seen++;
        }
        snprintf(after, sizeof(after), "%s", s->got.v[s->got.n - 1]);
        pages++;
        assert_true(pages <= T_NOBJS / 100 + 1);
    }
    assert_int_equal(seen, T_NOBJS);
    assert_int_equal(pages, T_NOBJS / 100);
    /* After the last name: nothing, and no more. */
    assert_int_equal(t_list(s, "", after, 100, 0, &more), 0);
    assert_int_equal(s->got.n, 0);
    assert_int_equal(more, 0);
}

static void
test_list_limits(void **state)
{
    struct t_list_state *s = *state;
    int more = 7;
    assert_int_equal(t_list(s, "", "", 0, 0, &more), -EINVAL);
    assert_int_equal(t_list(s, "", "", AIS_LIST_PAGE_MAX + 1, 0, &more), -EINVAL);
    assert_int_equal(more, 7);
    assert_int_equal(t_list(s, "", "", AIS_LIST_PAGE_MAX, 0, &more), 0);
    assert_int_equal(s->got.n, T_NOBJS);
    assert_int_equal(more, 0);
    assert_int_equal(t_list(s, NULL, NULL, T_NOBJS, 0, &more), 0);
    assert_int_equal(s->got.n, T_NOBJS);
    assert_int_equal(more, 0);
    assert_int_equal(t_list(s, "", "", T_NOBJS - 1, 0, &more), 0);
    assert_int_equal(s->got.n, T_NOBJS - 1);
    assert_int_equal(more, 1);
    assert_string_equal(s->got.v[T_NOBJS - 2], s->names[T_NOBJS - 2]);
    assert_int_equal(t_list(s, "", "", 1, 0, NULL), 0);
    assert_string_equal(s->got.v[0], s->names[0]);
}

static void
test_list_prefix_and_after(void **state)
{
    struct t_list_state *s = *state;
    int more = 0;
    const char *prefixes[] = {
        "d01/", "d0", "d12/s1/", "d12/s1/obj-0", "top-", "t", "zzz", "d03/s2/obj-0003", "d1"};
    const char *afters[] = {"", "d01/s1/obj-0900", "d05", "top-0700", "d12/s1/"};
    for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
        for (size_t a = 0; a < sizeof(afters) / sizeof(afters[0]); a++) {
            size_t want = 0;
            size_t plen = strlen(prefixes[p]);
            for (size_t i = 0; i < T_NOBJS; i++) {
                want += strncmp(s->names[i], prefixes[p], plen) == 0 &&
                        strcmp(s->names[i], afters[a]) > 0;
            }
            assert_int_equal(t_list(s, prefixes[p], afters[a], 10, 0, &more), 0);
            assert_int_equal(s->got.n, want < 10 ? want : 10);
            assert_int_equal(more, want > 10);
            for (size_t i = 0; i < s->got.n; i++) {
                assert_int_equal(strncmp(s->got.v[i], prefixes[p], plen), 0);
                assert_true(strcmp(s->got.v[i], afters[a]) > 0);
                assert_true(i == 0 || strcmp(s->got.v[i - 1], s->got.v[i]) < 0);
            }
        }
    }
    /* The prefix may equal a full name. */
    assert_int_equal(t_list(s, "top-0100", "", 5, 0, &more), 0);
    assert_int_equal(s->got.n, 1);
    assert_string_equal(s->got.v[0], "top-0100");
}

static void
test_list_with_md_and_stop(void **state)
{
    struct t_list_state *s = *state;
    int more = 0;
    assert_int_equal(t_list(s, "d04/", "", 50, 1, &more), 0);
    assert_true(s->got.n > 0);
    assert_int_equal(s->got.with_md_seen, (int)s->got.n);
    t_names_reset(&s->got);
    s->got.stop_after = 3;
    assert_int_equal(st_bck_list(s->e->mp, &t_bck, "", "", 100, 0, t_collect, &s->got, &more), 42);
    assert_int_equal(s->got.n, 3);
}

static void
test_list_skips_foreign_entries(void **state)
{
    struct t_list_state *s = *state;
    char ob[AIS_PATH_BYTES_MAX], p[AIS_PATH_BYTES_MAX + 64], q[AIS_PATH_BYTES_MAX + 64];
    int more = 0;
    t_ct_dir(s->e, 0, &t_bck, "%ob", ob, sizeof(ob));
    snprintf(p, sizeof(p), "%s/aa-fifo", ob);
    assert_int_equal(mkfifo(p, 0644), 0);
    snprintf(p, sizeof(p), "%s/aa-emptydir", ob);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/aa-dirlink", ob);
    snprintf(q, sizeof(q), "%s/d01", ob);
    assert_int_equal(symlink(q, p), 0);
    snprintf(p, sizeof(p), "%s/aa-filelink", ob);
    t_obj_path(s->e, &t_bck, s->names[0], q, sizeof(q));
    assert_int_equal(symlink(q, p), 0);
    /* A stray copy of an existing name on the other mountpath is listed once. */
    const char *dup = s->names[1];
    size_t home = st_mpaths_pick(s->e->mp, t_digest(&t_bck, dup));
    t_ct_dir(s->e, 1 - home, &t_bck, "%ob", ob, sizeof(ob));
    snprintf(p, sizeof(p), "%s/%s", ob, dup);
    t_mkdir_parents(p, strlen(ob));
    t_write_file(p, dup, strlen(dup));
    /* The stray copy may take a slot of the page (fewer than limit names, more = 1). */
    assert_int_equal(t_list(s, "", "", 5, 0, &more), 0);
    assert_in_range(s->got.n, 4, 5);
    assert_int_equal(more, 1);
    assert_string_equal(s->got.v[0], "aa-filelink");
    for (size_t i = 1; i < s->got.n; i++) {
        assert_string_equal(s->got.v[i], s->names[i - 1]);
    }
    /* Only the file symlink joins the objects. */
    assert_int_equal(t_list(s, "", "", AIS_LIST_PAGE_MAX, 0, &more), 0);
    assert_int_equal(s->got.n, T_NOBJS + 1);
}

static void
test_list_depth_bound(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(1);
    struct t_names got = {.cap = 8};
    char name[2 * AIS_WALK_DEPTH_MAX + 8];
    int more = 0;
    got.v = calloc(got.cap, sizeof(char *));
    assert_non_null(got.v);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    /* AIS_WALK_DEPTH_MAX components ("a/a/.../x") are listed, one more is not. */
    for (int comps = AIS_WALK_DEPTH_MAX; comps <= AIS_WALK_DEPTH_MAX + 1; comps++) {
        size_t len = 0;
        for (int i = 0; i < comps - 1; i++) {
            name[len++] = comps == AIS_WALK_DEPTH_MAX ? 'a' : 'b';
            name[len++] = '/';
        }
        name[len++] = 'x';
        name[len] = '\0';
        assert_int_equal(t_put(e, &t_bck, name, "", 0, NULL, NULL), 0);
    }
    assert_int_equal(st_bck_list(e->mp, &t_bck, "", "", 10, 0, t_collect, &got, &more), 0);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.v[0][0], 'a');
    assert_int_equal(strlen(got.v[0]), 2 * AIS_WALK_DEPTH_MAX - 1);
    t_names_reset(&got);
    free(got.v);
    t_env_free(e);
}

static void
test_list_missing_and_empty_bucket(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    struct t_names got = {.cap = 8};
    int more = 5;
    got.v = calloc(got.cap, sizeof(char *));
    assert_non_null(got.v);
    assert_int_equal(st_bck_list(e->mp, &t_bck, "", "", 10, 0, t_collect, &got, &more), -ENOENT);
    assert_int_equal(more, 5);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(st_bck_list(e->mp, &t_bck, "", "", 10, 1, t_collect, &got, &more), 0);
    assert_int_equal(got.n, 0);
    assert_int_equal(more, 0);
    free(got.v);
    t_env_free(e);
}

static void
test_bck_destroy(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    struct t_names got = {.cap = 64};
    struct st_obj_md md;
    char p[AIS_PATH_BYTES_MAX + 16];
    int more = 0;
    got.v = calloc(got.cap, sizeof(char *));
    assert_non_null(got.v);
    assert_int_equal(st_bck_destroy(e->mp, &t_bck), 0); /* missing is fine */
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    for (int i = 0; i < 40; i++) {
        snprintf(p, sizeof(p), "n/%d/o%d", i % 4, i);
        assert_int_equal(t_put(e, &t_bck, p, p, strlen(p), NULL, NULL), 0);
    }
    struct st_put *inflight = NULL;
    assert_int_equal(st_put_begin(e->mp, &t_bck, "late", t_digest(&t_bck, "late"), NULL, &inflight),
                     0);
    assert_int_equal(st_put_write(inflight, "z", 1), 0);
    assert_int_equal(st_bck_destroy(e->mp, &t_bck), 0);
    assert_int_equal(st_obj_stat(e->mp, &t_bck, "n/0/o0", t_digest(&t_bck, "n/0/o0"), &md),
                     -ENOENT);
    assert_int_equal(st_bck_list(e->mp, &t_bck, "", "", 10, 0, t_collect, &got, &more), -ENOENT);
    /* A PUT that raced with destroy fails instead of resurrecting the bucket. */
    assert_int_equal(st_put_finish(inflight, NULL), -ENOENT);
    assert_int_equal(st_trash_wait(e->mp, 10000), 0);
    for (size_t i = 0; i < e->n; i++) {
        t_ct_dir(e, i, &t_bck, "", p, sizeof(p));
        assert_int_equal(t_dir_count(p), -1);
        snprintf(p, sizeof(p), "%s/.trash", e->mp_dirs[i]);
        assert_true(t_dir_count(p) <= 0);
    }
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(st_bck_list(e->mp, &t_bck, "", "", 10, 0, t_collect, &got, &more), 0);
    assert_int_equal(got.n, 0);
    free(got.v);
    t_env_free(e);
}

int
main(void)
{
    /* Read-only tests share one populated bucket; the rest build their own. */
    const struct CMUnitTest shared[] = {
        cmocka_unit_test(test_list_pages_see_everything_once),
        cmocka_unit_test(test_list_limits),
        cmocka_unit_test(test_list_prefix_and_after),
        cmocka_unit_test(test_list_with_md_and_stop),
    };
    const struct CMUnitTest own[] = {
        cmocka_unit_test_setup_teardown(test_list_skips_foreign_entries, setup_bucket,
                                        teardown_bucket),
        cmocka_unit_test(test_list_depth_bound),
        cmocka_unit_test(test_list_missing_and_empty_bucket),
        cmocka_unit_test(test_bck_destroy),
    };
    int failed = cmocka_run_group_tests(shared, setup_bucket, teardown_bucket);
    return failed + cmocka_run_group_tests(own, NULL, NULL);
}
