/*
 * List cursors of a target: storage list iterators kept between the pages of a listing, so a
 * whole listing is one walk of the bucket (see lcache.c). Thread-safe.
 */
#ifndef AIS_TARGET_LCACHE_H
#define AIS_TARGET_LCACHE_H

#include "storage/storage.h"

#include <stdint.h>

struct tgt_lcache;

/* 0 and *out, or -ENOMEM. Free with tgt_lcache_free (closes every cached cursor; NULL ok). */
__attribute__((warn_unused_result)) int tgt_lcache_new(struct tgt_lcache **out);
void tgt_lcache_free(struct tgt_lcache *c);
/*
 * A cursor for one page of (bck, prefix, with_md) after `after`: a cached one whose last page
 * covers `after` (removed from the cache: the caller owns it now), else a new iterator on mp
 * positioned after `after`. An empty `after` (a listing's first page) always walks anew. 0 and
 * *out; errors of st_list_iter_open (-ENOENT: no bucket dirs).
 */
__attribute__((warn_unused_result)) int
tgt_lcache_take(struct tgt_lcache *c, const struct st_mpaths *mp, const struct st_bck *bck,
                const char *prefix, int with_md, const char *after, struct st_list_iter **out);
/* Returns a cursor with names left for a later page (the cache owns it now; may evict LRU). */
void tgt_lcache_give(struct tgt_lcache *c, struct st_list_iter *it);
/* Pages served by a cached cursor so far. */
uint64_t tgt_lcache_hits(struct tgt_lcache *c);

#endif
