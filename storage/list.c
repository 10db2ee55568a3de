/*
 * Listing a bucket: a resumable iterator that merges the sorted walks of all mountpaths,
 * and st_bck_list, one page from a fresh iterator.
 *
 * Design notes: every mountpath has its own sorted walk (walk.c); the iterator keeps each
 * walk's next name (its head) and emits the smallest, so the merged stream is in strcmp order
 * with O(mountpaths) work per name. A name present on two mountpaths (a stray copy left by a
 * mountpath change) is emitted once, from the lowest mountpath, and both walks advance.
 * A gateway merges one page from every target and keeps only the first `limit` names of the
 * union, so the next request of a listing may resume anywhere inside the page we sent. The
 * iterator therefore keeps the last page (names and the metadata it emitted, packed into one
 * pool: bounded by the page size) and a seek to any point inside it replays the rest from
 * memory, then continues the walk: a whole listing is one walk per target. A seek before the
 * last page cannot be served (-ERANGE) and the caller starts a fresh iterator, which is
 * correct, only slower. Emitted names are also bounded below by a floor (the seek point) so a
 * seek past what the walk has reached skips ahead.
 */
#include "common/assert.h"
#include "common/limits.h"
#include "storage/storage.h"
#include "storage/storage_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One emitted entry, kept for replay: strings packed in the page's pool at off. */
struct page_rec {
    size_t off;
    uint64_t size, ino;
    int64_t atime_ns, mtime_ns;
    uint32_t mpath_idx;
};

struct page_buf {
    struct page_rec *v;
    size_t n, cap;
    char *pool;
    size_t len, pool_cap;
    char start[AIS_OBJNAME_BYTES_MAX + 1]; /* the seek point this page began after */
};

struct st_list_iter {
    const struct st_mpaths *mp;
    char *provider, *ns, *bck, *prefix;
    int with_md;
    int primed; /* heads fetched */
    int used;   /* a page was produced */
    int seeked; /* st_list_iter_seek since the last page */
    size_t nw;
    struct st_walk *w[AIS_MPATHS_MAX]; /* NULL where the mountpath has no bucket dir */
    int head[AIS_MPATHS_MAX];          /* 1: w[i]'s current name is not yet emitted */
    struct page_buf prev, cur;
    size_t replay; /* next prev record to replay */
    char floor[AIS_OBJNAME_BYTES_MAX + 1];
    char last[AIS_OBJNAME_BYTES_MAX + 1];
};

static void
page_reset(struct page_buf *p)
{
    p->n = 0;
    p->len = 0;
    p->start[0] = '\0';
}

static void
page_fini(struct page_buf *p)
{
    free(p->v);
    free(p->pool);
    memset(p, 0, sizeof(*p));
}

/* Appends s with its NUL to the pool. 0 or -ENOMEM. */
static int
pool_add(struct page_buf *p, const char *s)
{
    size_t n = strlen(s) + 1;
    if (p->len + n > p->pool_cap) {
        size_t cap = p->pool_cap ? p->pool_cap : 4096;
        while (cap < p->len + n) {
            cap *= 2;
        }
        char *pool = realloc(p->pool, cap);
        if (pool == NULL) {
            return -ENOMEM;
        }
        p->pool = pool;
        p->pool_cap = cap;
    }
    memcpy(p->pool + p->len, s, n);
    p->len += n;
    return 0;
}

/* Records an emitted entry (md may be NULL). 0 or -ENOMEM. */
static int
page_add(struct page_buf *p, const char *name, const struct st_obj_md *md)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 256;
        struct page_rec *v = realloc(p->v, cap * sizeof(*v));
        if (v == NULL) {
            return -ENOMEM;
        }
        p->v = v;
        p->cap = cap;
    }
    struct page_rec *r = &p->v[p->n];
    memset(r, 0, sizeof(*r));
    r->off = p->len;
    int err = pool_add(p, name);
    if (err == 0 && md != NULL) {
        r->size = md->size;
        r->ino = md->ino;
        r->atime_ns = md->atime_ns;
        r->mtime_ns = md->mtime_ns;
        r->mpath_idx = md->mpath_idx;
        err = pool_add(p, md->cksum_type);
        err = err ? err : pool_add(p, md->cksum_value);
        err = err ? err : pool_add(p, md->version);
        err = err ? err : pool_add(p, md->custom);
    }
    if (err == 0) {
        p->n++;
    }
    return err;
}

/* Copies the next NUL-terminated string at *s into out (cap bytes) and steps over it. */
static void
pool_take(const char **s, char *out, size_t cap)
{
    snprintf(out, cap, "%s", *s);
    *s += strlen(*s) + 1;
}

static const char *
page_name(const struct page_buf *p, size_t i)
{
    return p->pool + p->v[i].off;
}

/* Only for pages recorded with metadata (with_md). */
static void
page_md(const struct page_buf *p, size_t i, struct st_obj_md *md)
{
    const struct page_rec *r = &p->v[i];
    const char *s = page_name(p, i);
    s += strlen(s) + 1;
    memset(md, 0, sizeof(*md));
    md->size = r->size;
    md->ino = r->ino;
    md->atime_ns = r->atime_ns;
    md->mtime_ns = r->mtime_ns;
    md->mpath_idx = r->mpath_idx;
    pool_take(&s, md->cksum_type, sizeof(md->cksum_type));
    pool_take(&s, md->cksum_value, sizeof(md->cksum_value));
    pool_take(&s, md->version, sizeof(md->version));
    pool_take(&s, md->custom, sizeof(md->custom));
}

static char *
dup_or_empty(const char *s)
{
    return strdup(s != NULL ? s : "");
}

/* Walks of every mountpath that has the bucket. -ENOENT when none has. */
static int
iter_walks_open(struct st_list_iter *it, const struct st_bck *bck)
{
    size_t found = 0;
    size_t n = st_mpaths_count(it->mp); /* free slots answer -ENOENT below */
    for (size_t i = 0; i < n; i++) {
        int err = st_walk_new(it->mp, i, bck, it->prefix, &it->w[i]);
        if (err == -ENOENT || (err < 0 && st_mpaths_state(it->mp, i) != ST_MPATH_AVAIL)) {
            continue; /* a disabled mountpath may be a dead disk: list what the others have */
        }
        if (err < 0) {
            return err;
        }
        found++;
    }
    it->nw = n;
    return found > 0 ? 0 : -ENOENT;
}

int
st_list_iter_open(const struct st_mpaths *mp, const struct st_bck *bck, const char *prefix,
                  int with_md, struct st_list_iter **out)
{
    AIS_ASSERT(mp != NULL);
    AIS_ASSERT(bck != NULL && bck->provider != NULL && bck->name != NULL);
    AIS_ASSERT(out != NULL);
    struct st_list_iter *it = calloc(1, sizeof(*it));
    int err = 0;
    if (it == NULL) {
        return -ENOMEM;
    }
    it->mp = mp;
    it->with_md = with_md != 0;
    it->provider = dup_or_empty(bck->provider);
    it->ns = dup_or_empty(bck->ns);
    it->bck = dup_or_empty(bck->name);
    it->prefix = dup_or_empty(prefix);
    if (it->provider == NULL || it->ns == NULL || it->bck == NULL || it->prefix == NULL) {
        err = -ENOMEM;
        goto out;
    }
    __atomic_fetch_add(mp->list_walks, 1, __ATOMIC_RELAXED);
    err = iter_walks_open(it, bck);
    if (err < 0) {
        goto out;
    }
    *out = it;
    it = NULL;
out:
    st_list_iter_close(it);
    return err;
}

void
st_list_iter_close(struct st_list_iter *it)
{
    if (it == NULL) {
        return;
    }
    for (size_t i = 0; i < it->nw; i++) {
        st_walk_free(it->w[i]);
    }
    page_fini(&it->prev);
    page_fini(&it->cur);
    free(it->provider);
    free(it->ns);
    free(it->bck);
    free(it->prefix);
    free(it);
}

int
st_list_iter_seek(struct st_list_iter *it, const char *after)
{
    AIS_ASSERT(it != NULL);
    after = after != NULL ? after : "";
    if (strlen(after) > AIS_OBJNAME_BYTES_MAX) {
        return -ENAMETOOLONG;
    }
    if (it->used && strcmp(after, it->prev.start) < 0) {
        return -ERANGE; /* names between after and the last page are gone from memory */
    }
    size_t i = 0;
    while (it->used && i < it->prev.n && strcmp(page_name(&it->prev, i), after) <= 0) {
        i++;
    }
    it->replay = it->used ? i : 0;
    it->seeked = 1;
    snprintf(it->floor, sizeof(it->floor), "%s", after);
    return 0;
}

const char *
st_list_iter_last(const struct st_list_iter *it)
{
    AIS_ASSERT(it != NULL);
    return it->last;
}

int
st_list_iter_matches(const struct st_list_iter *it, const struct st_bck *bck, const char *prefix,
                     int with_md)
{
    AIS_ASSERT(it != NULL);
    AIS_ASSERT(bck != NULL);
    const char *ns = bck->ns != NULL ? bck->ns : "";
    return it->with_md == (with_md != 0) && strcmp(it->provider, bck->provider) == 0 &&
           strcmp(it->ns, ns) == 0 && strcmp(it->bck, bck->name) == 0 &&
           strcmp(it->prefix, prefix != NULL ? prefix : "") == 0;
}

/* Moves walk i to its next name. 0 or negative errno. */
static int
iter_advance(struct st_list_iter *it, size_t i)
{
    int rc = st_walk_next(it->w[i], it->floor);
    it->head[i] = rc == 0;
    return rc < 0 ? rc : 0;
}

/* Index of the walk with the smallest head (lowest index on ties), or nw when all are done. */
static size_t
iter_min(const struct st_list_iter *it)
{
    size_t m = it->nw;
    for (size_t i = 0; i < it->nw; i++) {
        if (it->head[i] &&
            (m == it->nw || strcmp(st_walk_name(it->w[i]), st_walk_name(it->w[m])) < 0)) {
            m = i;
        }
    }
    return m;
}

/*
 * Takes the smallest head into it->last (md filled when with_md) and advances every walk
 * that holds the same name. 0 = emit, 1 = skip it (at or below the floor, or vanished),
 * 2 = nothing left, or negative errno.
 */
static int
iter_take(struct st_list_iter *it, struct st_obj_md *md)
{
    size_t m = iter_min(it);
    if (m == it->nw) {
        return 2;
    }
    char name[AIS_OBJNAME_BYTES_MAX + 1];
    snprintf(name, sizeof(name), "%s", st_walk_name(it->w[m]));
    int skip = strcmp(name, it->floor) <= 0;
    int err = 0;
    if (!skip && it->with_md) {
        err = st_walk_md(it->w[m], md);
        skip = err == -ENOENT;
        err = skip ? 0 : err;
    }
    for (size_t i = m; err == 0 && i < it->nw; i++) {
        if (it->head[i] && (i == m || strcmp(st_walk_name(it->w[i]), name) == 0)) {
            err = iter_advance(it, i);
        }
    }
    if (err < 0) {
        return err;
    }
    if (!skip) {
        memcpy(it->last, name, sizeof(name));
    }
    return skip;
}

/* Emits up to limit names (replayed first, then walked) into it->cur. */
static int
iter_fill(struct st_list_iter *it, size_t limit, st_list_fn fn, void *ctx)
{
    struct st_obj_md md;
    const struct st_obj_md *mdp = it->with_md ? &md : NULL;
    size_t emitted = 0;
    int err = 0;
    while (err == 0 && emitted < limit && it->replay < it->prev.n) {
        size_t i = it->replay++;
        if (it->with_md) {
            page_md(&it->prev, i, &md);
        }
        snprintf(it->last, sizeof(it->last), "%s", page_name(&it->prev, i));
        err = page_add(&it->cur, it->last, mdp);
        err = err ? err : fn(ctx, it->last, mdp);
        emitted++;
    }
    /* Bounded by the bucket: each turn consumes one name of one walk. */
    while (err == 0 && emitted < limit) {
        int rc = iter_take(it, &md);
        if (rc == 2 || rc < 0) {
            err = rc < 0 ? rc : 0;
            break;
        }
        if (rc == 1) {
            continue;
        }
        err = page_add(&it->cur, it->last, mdp);
        err = err ? err : fn(ctx, it->last, mdp);
        emitted++;
    }
    return err;
}

int
st_list_iter_next_page(struct st_list_iter *it, size_t limit, st_list_fn fn, void *ctx,
                       int *more_out)
{
    AIS_ASSERT(it != NULL);
    AIS_ASSERT(fn != NULL);
    int err = 0;
    if (limit == 0 || limit > AIS_LIST_PAGE_MAX) {
        return -EINVAL;
    }
    for (size_t i = 0; !it->primed && i < it->nw && err == 0; i++) {
        err = it->w[i] != NULL ? iter_advance(it, i) : 0;
    }
    if (err < 0) {
        return err;
    }
    it->primed = 1;
    page_reset(&it->cur);
    /* This page covers (start, its last name]: a later seek into it can be replayed. */
    memcpy(it->cur.start, it->seeked || !it->used ? it->floor : it->last, sizeof(it->cur.start));
    it->seeked = 0;
    err = iter_fill(it, limit, fn, ctx);
    /* Names still to replay stay in memory behind this page, to be emitted next. */
    size_t emitted = it->cur.n;
    for (size_t i = it->replay; err == 0 && i < it->prev.n; i++) {
        struct st_obj_md md;
        if (it->with_md) {
            page_md(&it->prev, i, &md);
        }
        err = page_add(&it->cur, page_name(&it->prev, i), it->with_md ? &md : NULL);
    }
    if (err != 0) {
        return err;
    }
    int more = emitted < it->cur.n || iter_min(it) < it->nw;
    struct page_buf t = it->prev;
    it->prev = it->cur;
    it->cur = t;
    it->replay = emitted;
    it->used = 1;
    if (more_out != NULL) {
        *more_out = more;
    }
    return 0;
}

int
st_bck_list(const struct st_mpaths *mp, const struct st_bck *bck, const char *prefix,
            const char *after, size_t limit, int with_md, st_list_fn fn, void *ctx, int *more_out)
{
    AIS_ASSERT(mp != NULL);
    AIS_ASSERT(bck != NULL);
    AIS_ASSERT(fn != NULL);
    struct st_list_iter *it = NULL;
    if (limit == 0 || limit > AIS_LIST_PAGE_MAX) {
        return -EINVAL;
    }
    int err = st_list_iter_open(mp, bck, prefix, with_md, &it);
    if (err == 0 && after != NULL && after[0] != '\0') {
        err = st_list_iter_seek(it, after);
    }
    if (err == 0) {
        err = st_list_iter_next_page(it, limit, fn, ctx, more_out);
    }
    st_list_iter_close(it);
    return err;
}
