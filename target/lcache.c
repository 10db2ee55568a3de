/*
 * List cursors: storage list iterators kept between the pages of one listing.
 *
 * Design notes: a gateway asks every target for a page after the continuation token, merges
 * and keeps the first `limit` names, so our next request resumes at some name inside the page
 * we last sent. A cached iterator keeps its last page and can seek anywhere inside it
 * (st_list_iter_seek), so the lookup key is simply (bucket, prefix, with_md) plus "this `after`
 * is inside your last page"; no protocol change (a list UUID) is needed, and two listings of
 * one bucket at different positions each find their own cursor. A cursor is taken out of the
 * cache while a request uses it, so it is never shared between threads; a concurrent request
 * for the same position simply starts a fresh walk, and so does every first page (after = ""),
 * so a new listing always sees what was PUT before it started. The cache is a fixed array of
 * AIS_LIST_CURSORS_MAX slots: cursors idle longer than AIS_LIST_CURSOR_IDLE_MS are dropped on
 * every access, and a full cache evicts its least recently used cursor. Iterators hold no
 * descriptors between pages, so an idle cursor costs only memory (about one page).
 */
#include "target/lcache.h"

#include "common/assert.h"
#include "common/limits.h"
#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct lc_slot {
    struct st_list_iter *it; /* NULL: free slot */
    int64_t used_ns;
};

struct tgt_lcache {
    pthread_mutex_t mu;
    struct lc_slot slots[AIS_LIST_CURSORS_MAX];
    uint64_t hits; /* under mu */
};

int
tgt_lcache_new(struct tgt_lcache **out)
{
    AIS_ASSERT(out != NULL);
    struct tgt_lcache *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return -ENOMEM;
    }
    int rc = pthread_mutex_init(&c->mu, NULL);
    if (rc != 0) {
        free(c);
        return -rc;
    }
    *out = c;
    return 0;
}

void
tgt_lcache_free(struct tgt_lcache *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < AIS_LIST_CURSORS_MAX; i++) {
        st_list_iter_close(c->slots[i].it);
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Closes cursors idle too long. Under mu. */
static void
lc_expire(struct tgt_lcache *c, int64_t now)
{
    for (size_t i = 0; i < AIS_LIST_CURSORS_MAX; i++) {
        struct lc_slot *s = &c->slots[i];
        if (s->it != NULL && now - s->used_ns > (int64_t)AIS_LIST_CURSOR_IDLE_MS * 1000000) {
            st_list_iter_close(s->it);
            s->it = NULL;
        }
    }
}

/* A cached cursor for the request, removed from the cache, or NULL. Under mu. */
static struct st_list_iter *
lc_find(struct tgt_lcache *c, const struct st_bck *bck, const char *prefix, int with_md,
        const char *after)
{
    for (size_t i = 0; i < AIS_LIST_CURSORS_MAX; i++) {
        struct lc_slot *s = &c->slots[i];
        if (s->it != NULL && st_list_iter_matches(s->it, bck, prefix, with_md) &&
            st_list_iter_seek(s->it, after) == 0) {
            struct st_list_iter *it = s->it;
            s->it = NULL;
            c->hits++;
            return it;
        }
    }
    return NULL;
}

int
tgt_lcache_take(struct tgt_lcache *c, const struct st_mpaths *mp, const struct st_bck *bck,
                const char *prefix, int with_md, const char *after, struct st_list_iter **out)
{
    AIS_ASSERT(c != NULL);
    AIS_ASSERT(out != NULL);
    after = after != NULL ? after : "";
    struct st_list_iter *it = NULL;
    pthread_mutex_lock(&c->mu);
    lc_expire(c, ais_mono_ns());
    /* A listing that starts from the beginning must see every PUT that completed before it,
     * so it never continues an older walk (whose directory chunks may predate those PUTs). */
    if (after[0] != '\0') {
        it = lc_find(c, bck, prefix, with_md, after);
    }
    pthread_mutex_unlock(&c->mu);
    if (it != NULL) {
        *out = it;
        return 0;
    }
    int err = st_list_iter_open(mp, bck, prefix, with_md, &it);
    if (err == 0 && after[0] != '\0') {
        err = st_list_iter_seek(it, after);
    }
    if (err < 0) {
        st_list_iter_close(it);
        return err;
    }
    *out = it;
    return 0;
}

void
tgt_lcache_give(struct tgt_lcache *c, struct st_list_iter *it)
{
    AIS_ASSERT(c != NULL);
    AIS_ASSERT(it != NULL);
    int64_t now = ais_mono_ns();
    struct st_list_iter *evict = NULL;
    pthread_mutex_lock(&c->mu);
    lc_expire(c, now);
    size_t pick = 0;
    for (size_t i = 0; i < AIS_LIST_CURSORS_MAX; i++) {
        if (c->slots[i].it == NULL) {
            pick = i;
            break;
        }
        if (c->slots[i].used_ns < c->slots[pick].used_ns) {
            pick = i; /* least recently used so far */
        }
    }
    evict = c->slots[pick].it;
    c->slots[pick] = (struct lc_slot){.it = it, .used_ns = now};
    pthread_mutex_unlock(&c->mu);
    st_list_iter_close(evict);
}

uint64_t
tgt_lcache_hits(struct tgt_lcache *c)
{
    AIS_ASSERT(c != NULL);
    pthread_mutex_lock(&c->mu);
    uint64_t n = c->hits;
    pthread_mutex_unlock(&c->mu);
    return n;
}
