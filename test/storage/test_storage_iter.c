/*
 * Goal: the list iterator (st_list_iter_*) emits every name of a bucket exactly once, in strcmp
 * order, across mountpaths and nested directories, page after page from ONE walk; honours the
 * prefix; seeks forward and replays inside its last page (what a gateway merge needs); refuses
 * a seek before its last page; and handles directories larger than one read chunk.
 * Method: names PUT over three mountpaths (sorted copy as the oracle), including the names
 * that break a naive depth-first order ("a-b" < "a/x" < "a0"); pages of every size around the
 * edges (0, 1, limit, limit+1 names); the walk counter checked around a full listing; a flat
 * directory of AIS_LIST_DIR_CHUNK_MAX + 3000 plain files written directly.
 */
#include "st_test.h"

struct t_pages {
    char **v;
    size_t n, cap;
    int md_seen;
};

static int
t_add(void *ctx, const char *name, const struct st_obj_md *md)
{
    struct t_pages *c = ctx;
    assert_true(c->n < c->cap);
    c->v[c->n] = strdup(name);
    assert_non_null(c->v[c->n]);
    c->n++;
    c->md_seen += md != NULL;
    return 0;
}

static struct t_pages *
t_pages_new(size_t cap)
{
    struct t_pages *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->v = calloc(cap, sizeof(*c->v));
    assert_non_null(c->v);
    c->cap = cap;
    return c;
}

static void
t_pages_free(struct t_pages *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i]);
    }
    free(c->v);
    free(c);
}

static int
t_strcmp_p(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists everything with pages of `limit`; returns the number of pages. */
static size_t
t_list_all(struct st_mpaths *mp, const char *prefix, size_t limit, int with_md, struct t_pages *out)
{
    struct st_list_iter *it = NULL;
    int more = 1;
    size_t pages = 0;
    assert_int_equal(st_list_iter_open(mp, &t_bck, prefix, with_md, &it), 0);
    while (more) {
        size_t before = out->n;
        assert_int_equal(st_list_iter_next_page(it, limit, t_add, out, &more), 0);
        assert_true(out->n - before <= limit);
        assert_true(!more || out->n - before == limit);
        pages++;
        assert_true(pages <= out->cap + 1);
    }
    st_list_iter_close(it);
    return pages;
}

static const char *const t_tricky[] = {
    "a-b", "a/x-y/q", "a/x/z", "a/x0", "a0", "a.b", "ab", "b/c/d/e/f", "b/c/d0", "b/c0", "z",
};
#define T_TRICKY_N (sizeof(t_tricky) / sizeof(t_tricky[0]))

static void
t_put_names(struct t_env *e, char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(t_put(e, &t_bck, names[i], names[i], strlen(names[i]), NULL, NULL), 0);
    }
}

/* The tricky names plus generated nested ones, sorted. */
static char **
t_names_make(size_t extra, size_t *n_out)
{
    size_t n = T_TRICKY_N + extra;
    char **v = calloc(n, sizeof(*v));
    assert_non_null(v);
    for (size_t i = 0; i < T_TRICKY_N; i++) {
        v[i] = strdup(t_tricky[i]);
    }
    for (size_t i = 0; i < extra; i++) {
        char buf[64];
        snprintf(buf, sizeof(buf), "n/%zu/%zu/o%zu", i % 5, i % 3, i);
        v[T_TRICKY_N + i] = strdup(buf);
    }
    qsort(v, n, sizeof(*v), t_strcmp_p);
    *n_out = n;
    return v;
}

static void
t_names_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
}

static void
test_iter_order_pages_one_walk(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(3);
    size_t n = 0;
    char **names = t_names_make(300, &n);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    t_put_names(e, names, n);
    size_t limits[] = {1, 7, n - 1, n, n + 1, AIS_LIST_PAGE_MAX};
    for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
        struct t_pages *got = t_pages_new(n + 1);
        uint64_t w0 = st_mpaths_list_walks(e->mp);
        size_t pages = t_list_all(e->mp, "", limits[l], l % 2, got);
        assert_int_equal(st_mpaths_list_walks(e->mp) - w0, 1);
        assert_int_equal(pages, (n + limits[l] - 1) / limits[l]);
        assert_int_equal(got->n, n);
        assert_int_equal(got->md_seen, l % 2 ? n : 0);
        for (size_t i = 0; i < n; i++) {
            assert_string_equal(got->v[i], names[i]);
        }
        t_pages_free(got);
    }
    t_names_free(names, n);
    t_env_free(e);
}

static void
test_iter_empty_one_and_missing(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(2);
    struct st_list_iter *it = NULL;
    struct t_pages *got = t_pages_new(4);
    int more = 1;
    assert_int_equal(st_list_iter_open(e->mp, &t_bck, "", 0, &it), -ENOENT);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    assert_int_equal(st_list_iter_open(e->mp, &t_bck, "", 0, &it), 0);
    assert_int_equal(st_list_iter_next_page(it, 0, t_add, got, &more), -EINVAL);
    assert_int_equal(st_list_iter_next_page(it, AIS_LIST_PAGE_MAX + 1, t_add, got, &more), -EINVAL);
    assert_int_equal(st_list_iter_next_page(it, 10, t_add, got, &more), 0);
    assert_int_equal(got->n, 0);
    assert_int_equal(more, 0);
    st_list_iter_close(it);
    assert_int_equal(t_put(e, &t_bck, "only", "x", 1, NULL, NULL), 0);
    assert_int_equal(st_list_iter_open(e->mp, &t_bck, "", 1, &it), 0);
    assert_int_equal(st_list_iter_next_page(it, 1, t_add, got, &more), 0);
    assert_int_equal(got->n, 1);
    assert_int_equal(more, 0);
    assert_string_equal(st_list_iter_last(it), "only");
    assert_int_equal(st_list_iter_next_page(it, 1, t_add, got, &more), 0);
    assert_int_equal(got->n, 1);
    st_list_iter_close(it);
    t_pages_free(got);
    t_env_free(e);
}

static void
test_iter_prefix(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(3);
    size_t n = 0;
    char **names = t_names_make(60, &n);
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    t_put_names(e, names, n);
    const char *prefixes[] = {"a", "a/", "a/x", "a/x/", "b/c/d", "n/3/", "n/3/1/o1", "zz", ""};
    for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
        struct t_pages *got = t_pages_new(n + 1);
        t_list_all(e->mp, prefixes[p], 3, 0, got);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (strncmp(names[i], prefixes[p], strlen(prefixes[p])) == 0) {
                assert_true(k < got->n);
                assert_string_equal(got->v[k], names[i]);
                k++;
            }
        }
        assert_int_equal(got->n, k);
        t_pages_free(got);
    }
    t_names_free(names, n);
    t_env_free(e);
}

/* A gateway keeps only part of our page; the next request seeks inside it. */
static void
t_seek_and_replay(int with_md)
{
    struct t_env *e = t_env_new(2);
    size_t n = 0;
    char **names = t_names_make(100, &n);
    struct st_list_iter *it = NULL;
    int more = 0;
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    t_put_names(e, names, n);
    /* Fresh seek into the middle (prunes what sorts before). */
    struct t_pages *got = t_pages_new(n + 1);
    assert_int_equal(st_list_iter_open(e->mp, &t_bck, "", with_md, &it), 0);
    assert_int_equal(st_list_iter_seek(it, names[49]), 0);
    assert_int_equal(st_list_iter_next_page(it, 10, t_add, got, &more), 0);
    assert_int_equal(more, 1);
    for (size_t i = 0; i < 10; i++) {
        assert_string_equal(got->v[i], names[50 + i]);
    }
    /* Page 2 resumes after the 3rd name of page 1 (names[52]): 57 names follow. */
    assert_int_equal(st_list_iter_seek(it, names[52]), 0);
    assert_int_equal(st_list_iter_next_page(it, 10, t_add, got, &more), 0);
    for (size_t i = 0; i < 10; i++) {
        assert_string_equal(got->v[10 + i], names[53 + i]);
    }
    /* Before the last page's start: refused, the iterator is unchanged. */
    assert_int_equal(st_list_iter_seek(it, names[51]), -ERANGE);
    assert_int_equal(st_list_iter_seek(it, ""), -ERANGE);
    /* Seek to the last page's start replays all of it; past the end skips ahead. */
    assert_int_equal(st_list_iter_seek(it, names[52]), 0);
    assert_int_equal(st_list_iter_next_page(it, 5, t_add, got, &more), 0);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(got->v[20 + i], names[53 + i]);
    }
    /* That page ended inside the replay: the rest of it comes next, then the walk. */
    assert_int_equal(more, 1);
    assert_int_equal(st_list_iter_next_page(it, 7, t_add, got, &more), 0);
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(got->v[25 + i], names[58 + i]);
    }
    assert_int_equal(st_list_iter_seek(it, names[n - 3]), 0);
    assert_int_equal(st_list_iter_next_page(it, 10, t_add, got, &more), 0);
    assert_int_equal(got->n, 34);
    assert_string_equal(got->v[32], names[n - 2]);
    assert_string_equal(got->v[33], names[n - 1]);
    assert_int_equal(more, 0);
    assert_int_equal(got->md_seen, with_md ? 34 : 0);
    assert_true(st_list_iter_matches(it, &t_bck, "", with_md));
    assert_false(st_list_iter_matches(it, &t_bck, "", !with_md));
    assert_false(st_list_iter_matches(it, &t_bck, "a", with_md));
    st_list_iter_close(it);
    t_pages_free(got);
    t_names_free(names, n);
    t_env_free(e);
}

static void
test_iter_seek_and_replay(void **state)
{
    (void)state;
    t_seek_and_replay(1);
    t_seek_and_replay(0);
}

/* Plain files straight into %ob of mountpath 0 (no xattr: listed with type "none"). */
static void
test_iter_dir_larger_than_chunk(void **state)
{
    (void)state;
    struct t_env *e = t_env_new(1);
    char dir[AIS_PATH_BYTES_MAX], path[AIS_PATH_BYTES_MAX + 32];
    const size_t n = AIS_LIST_DIR_CHUNK_MAX + 3000;
    assert_int_equal(st_bck_create(e->mp, &t_bck), 0);
    t_ct_dir(e, 0, &t_bck, "%ob", dir, sizeof(dir));
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/f%06zu", dir, (i * 7919) % n); /* unsorted creation */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        assert_true(fd >= 0);
        close(fd);
    }
    struct t_pages *got = t_pages_new(n + 1);
    t_list_all(e->mp, "", AIS_LIST_PAGE_MAX, 0, got);
    assert_int_equal(got->n, n);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "f%06zu", i);
        assert_string_equal(got->v[i], path);
    }
    t_pages_free(got);
    t_env_free(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iter_order_pages_one_walk),
        cmocka_unit_test(test_iter_empty_one_and_missing),
        cmocka_unit_test(test_iter_prefix),
        cmocka_unit_test(test_iter_seek_and_replay),
        cmocka_unit_test(test_iter_dir_larger_than_chunk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
