/*
 * Design notes: the rebalance plan is pure HRW arithmetic over two cluster maps, kept apart
 * from the mover so it can be tested exhaustively: an object moves iff its owner among the
 * active targets (not in maintenance or decommission) of the new map is not this target.
 * Ownership moves only when the set of active targets changed; a version bump that only adds a
 * gateway or changes the primary moves nothing and starts no rebalance.
 */
#include "reb/reb.h"

#include <string.h>

static int
active_target(const struct ais_snode *n)
{
    return n->is_target && !(n->flags & (AIS_SNODE_MAINTENANCE | AIS_SNODE_DECOMMISSION));
}

/* 1 if every active target of a is an active target of b. */
static int
subset(const struct ais_smap *a, const struct ais_smap *b)
{
    for (size_t i = 0; i < a->nnodes; i++) {
        const struct ais_snode *n = &a->nodes[i];
        const struct ais_snode *m = active_target(n) ? ais_smap_find(b, n->id) : NULL;
        if (active_target(n) && (m == NULL || !active_target(m))) {
            return 0;
        }
    }
    return 1;
}

int
reb_smap_moves(const struct ais_smap *old, const struct ais_smap *cur)
{
    if (old == NULL) {
        return cur != NULL && ais_smap_count(cur, 1) > 0;
    }
    return !(subset(old, cur) && subset(cur, old));
}

const struct ais_snode *
reb_dest(const struct ais_smap *cur, const char *self_id, uint64_t digest)
{
    const struct ais_snode *owner = ais_smap_hrw_target(cur, digest);
    if (owner == NULL || strcmp(owner->id, self_id) == 0) {
        return NULL;
    }
    return owner;
}
