/*
 * LRU selection: which cached objects go, oldest access first, until a mountpath is at lowwm.
 *
 * Design notes: a bucket may hold millions of objects, so a pass never collects them all. It
 * walks every evictable bucket once and keeps the `batch` least recently accessed candidates
 * in a max-heap keyed by atime (the root is the newest kept: a walked object older than it
 * replaces it). The heap is then sorted oldest first and evicted in that order while some slot
 * still needs bytes; the need is the usage above lowwm read at the start of the pass, reduced
 * by each eviction's size on the slots holding that object, so a pass stops at lowwm without
 * a statvfs per object. If the heap overflowed (more candidates than it held) and lowwm is not
 * reached, the next pass re-reads the capacity and walks again; passes are bounded. A pass in
 * which the heap did not overflow saw every candidate, so it is the last. Recently read
 * objects (dont_evict_time) and objects only on slots that need nothing are never candidates.
 */
#include "common/assert.h"
#include "common/limits.h"
#include "space/space.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
sp_bck_evictable(const struct ais_bck_md *k)
{
    AIS_ASSERT(k != NULL);
    /* EC buckets keep slices and metadata on other targets that an eviction would orphan. */
    return strcmp(k->provider, "ais") != 0 && k->props.lru_enabled && !k->props.ec_enabled;
}

struct cand {
    int64_t atime_ns;
    uint64_t slots; /* mountpaths holding a copy */
    size_t bck;     /* index into the BMD */
    char *name;
    uint64_t size, ino;
    int64_t mtime_ns;
    uint32_t mpath_idx;
};

struct pass {
    const struct sp_lru_args *a;
    const struct sp_lru_ops *ops;
    void *ctx;
    struct sp_lru_res *res;
    int64_t need[AIS_MPATHS_MAX]; /* bytes still to free per slot; <= 0: at lowwm */
    uint64_t needy;               /* slots with need > 0 */
    struct cand *heap;
    size_t n;
    int overflow; /* a candidate was dropped or replaced: more exist than the heap holds */
    int first;    /* the first pass (counts recent objects) */
    size_t bck;   /* bucket being walked */
    const struct st_bck *b;
    int64_t keep_after_ns; /* objects accessed after this stay */
};

static void
heap_swap(struct cand *h, size_t i, size_t j)
{
    struct cand t = h[i];
    h[i] = h[j];
    h[j] = t;
}

/* Max-heap by atime over h[0..n). */
static void
heap_down(struct cand *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].atime_ns > h[m].atime_ns) {
            m = l;
        }
        if (r < n && h[r].atime_ns > h[m].atime_ns) {
            m = r;
        }
        if (m == i) {
            return;
        }
        heap_swap(h, i, m);
        i = m;
    }
}

static void
heap_up(struct cand *h, size_t i)
{
    while (i > 0 && h[(i - 1) / 2].atime_ns < h[i].atime_ns) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

/* In place: the heap becomes sorted by atime ascending. */
static void
heap_sort(struct cand *h, size_t n)
{
    for (size_t end = n; end > 1; end--) {
        heap_swap(h, 0, end - 1);
        heap_down(h, end - 1, 0);
    }
}

/* Keeps c if it is among the batch oldest seen. 0 or -ENOMEM. */
static int
heap_offer(struct pass *p, const struct cand *c, const char *name)
{
    if (p->n == p->a->batch) {
        p->overflow = 1;
        if (c->atime_ns >= p->heap[0].atime_ns) {
            return 0;
        }
    }
    char *dup = strdup(name);
    if (dup == NULL) {
        return -ENOMEM;
    }
    if (p->n == p->a->batch) {
        free(p->heap[0].name);
        p->heap[0] = *c;
        p->heap[0].name = dup;
        heap_down(p->heap, p->n, 0);
        return 0;
    }
    p->heap[p->n] = *c;
    p->heap[p->n].name = dup;
    heap_up(p->heap, p->n++);
    return 0;
}

/* st_list_fn of the walk: one object of bucket p->bck. */
static int
collect(void *ctx, const char *name, const struct st_obj_md *md)
{
    struct pass *p = ctx;
    if (p->ops->aborted != NULL && p->ops->aborted(p->ctx)) {
        return -ECANCELED;
    }
    if (md == NULL || md->mpath_idx >= AIS_MPATHS_MAX) {
        return 0;
    }
    struct cand c = {.atime_ns = md->atime_ns,
                     .slots = 1ull << md->mpath_idx,
                     .bck = p->bck,
                     .size = md->size,
                     .ino = md->ino,
                     .mtime_ns = md->mtime_ns,
                     .mpath_idx = md->mpath_idx};
    const struct ais_bprops *bp = &p->a->bmd->bcks[p->bck].props;
    if (ais_bprops_copies(bp) > 1 && p->ops->copies != NULL) {
        uint64_t m = 0;
        if (p->ops->copies(p->ctx, p->b, name, &m) == 0 && m != 0) {
            c.slots = m;
        }
    }
    if ((c.slots & p->needy) == 0) {
        return 0;
    }
    if (md->atime_ns > p->keep_after_ns) {
        p->res->recent += (uint64_t)p->first;
        return 0;
    }
    return heap_offer(p, &c, name);
}

/* Reads the need of every slot of a->slots. 0 or the capacity error. */
static int
need_read(struct pass *p)
{
    p->needy = 0;
    for (size_t i = 0; i < AIS_MPATHS_MAX; i++) {
        p->need[i] = 0;
        if (!(p->a->slots & (1ull << i))) {
            continue;
        }
        uint64_t total = 0, avail = 0;
        int rc = p->ops->capacity(p->ctx, i, &total, &avail);
        if (rc == -ENOENT) {
            continue; /* slot gone since the job started */
        }
        if (rc != 0) {
            return rc;
        }
        uint64_t used = total > avail ? total - avail : 0;
        uint64_t keep = total / 100 * (uint64_t)p->a->lowwm + total % 100 * p->a->lowwm / 100;
        if (used > keep) {
            p->need[i] = (int64_t)(used - keep);
            p->needy |= 1ull << i;
        }
    }
    return 0;
}

static int
walk_buckets(struct pass *p)
{
    const struct ais_bmd *bmd = p->a->bmd;
    for (size_t i = 0; i < bmd->n; i++) {
        const struct ais_bck_md *k = &bmd->bcks[i];
        if (!sp_bck_evictable(k)) {
            continue;
        }
        struct st_bck b = {.provider = k->provider, .ns = k->ns, .name = k->name};
        int64_t keep_ms =
            k->props.lru_dont_evict_ms >= 0 ? k->props.lru_dont_evict_ms : p->a->dont_evict_ms;
        p->bck = i;
        p->b = &b;
        p->keep_after_ns = p->a->now_ns - keep_ms * 1000000;
        int rc = p->ops->walk(p->ctx, &b, collect, p);
        p->b = NULL;
        if (rc != 0 && rc != -ENOENT) {
            return rc;
        }
    }
    return 0;
}

static void
evict_one(struct pass *p, const struct cand *c)
{
    const struct ais_bck_md *k = &p->a->bmd->bcks[c->bck];
    struct st_bck b = {.provider = k->provider, .ns = k->ns, .name = k->name};
    struct st_obj_md md;
    memset(&md, 0, sizeof(md));
    md.size = c->size;
    md.ino = c->ino;
    md.atime_ns = c->atime_ns;
    md.mtime_ns = c->mtime_ns;
    md.mpath_idx = c->mpath_idx;
    int rc = p->ops->evict(p->ctx, &b, c->name, &md);
    if (rc == -ESTALE || rc == -ENOENT) {
        p->res->skipped++;
        return;
    }
    if (rc != 0) {
        p->res->failed++;
        return;
    }
    p->res->objs++;
    p->res->bytes += c->size;
    for (size_t i = 0; i < AIS_MPATHS_MAX; i++) {
        if ((c->slots & (1ull << i)) && (p->need[i] -= (int64_t)c->size) <= 0) {
            p->needy &= ~(1ull << i);
        }
    }
}

/* Evicts the sorted batch oldest first while some slot needs bytes (only frees the names when
 * !evict: after an error). */
static void
evict_batch(struct pass *p, int evict)
{
    for (size_t i = 0; i < p->n; i++) {
        int stop = !evict || (p->ops->aborted != NULL && p->ops->aborted(p->ctx));
        if (!stop && p->needy != 0 && (p->heap[i].slots & p->needy) != 0) {
            evict_one(p, &p->heap[i]);
        }
        free(p->heap[i].name);
    }
    p->n = 0;
}

int
sp_lru_run(const struct sp_lru_args *a, const struct sp_lru_ops *ops, void *ctx,
           struct sp_lru_res *res)
{
    AIS_ASSERT(a != NULL && a->bmd != NULL);
    AIS_ASSERT(ops != NULL && ops->capacity != NULL && ops->walk != NULL && ops->evict != NULL);
    AIS_ASSERT(a->batch >= 1 && a->batch <= SP_LRU_BATCH_MAX);
    AIS_ASSERT(a->passes >= 1 && a->passes <= SP_LRU_PASSES_MAX);
    AIS_ASSERT(a->lowwm >= 1 && a->lowwm <= 100);
    AIS_ASSERT(res != NULL);
    memset(res, 0, sizeof(*res));
    struct pass p = {.a = a, .ops = ops, .ctx = ctx, .res = res, .first = 1};
    p.heap = calloc(a->batch, sizeof(*p.heap));
    if (p.heap == NULL) {
        return -ENOMEM;
    }
    int rc = need_read(&p), more = 1;
    while (rc == 0 && more && p.needy != 0 && res->passes < a->passes) {
        res->passes++;
        p.overflow = 0;
        rc = walk_buckets(&p);
        more = p.overflow && p.n > 0;
        p.first = 0;
        if (rc == 0) {
            heap_sort(p.heap, p.n);
        }
        evict_batch(&p, rc == 0);
        if (rc == 0 && ops->aborted != NULL && ops->aborted(ctx)) {
            rc = -ECANCELED;
        }
        rc = rc == 0 && more ? need_read(&p) : rc;
    }
    if (rc == 0 && !more) {
        rc = need_read(&p);
    }
    res->reached = rc == 0 && p.needy == 0;
    free(p.heap);
    return rc;
}
