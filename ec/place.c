/*
 * Placement of an object's slices: which targets, and which slice on which target.
 *
 * Design notes: the holders are the top n of the same HRW score the cluster uses for owners
 * (common/hrw.h: ais_hrw_rank, one pass keeping the best n in order), so removing a holder
 * brings in exactly the next-ranked node and removing any other node changes nothing. Which
 * slice sits where is positional on the first PUT (slice k on the k-th best), as in AIS; after
 * a membership change positions would shift, so ec_place_repair keeps every surviving holder
 * on its slice and gives only the vacated slices to the newcomers, and a rebalance moves just
 * the slices whose holder left.
 */
#include "common/assert.h"
#include "common/hrw.h"
#include "ec/ec.h"

#include <errno.h>

int
ec_place_pick(const uint64_t *node_digests, size_t count, uint64_t digest, size_t n, size_t *out)
{
    uint32_t idx[EC_SLICES_MAX + 1];
    AIS_ASSERT(node_digests != NULL || count == 0);
    AIS_ASSERT(out != NULL);
    if (n == 0 || n > EC_SLICES_MAX + 1) {
        return -EINVAL;
    }
    if (count < n) {
        return -ENOSPC;
    }
    static_assert(EC_SLICES_MAX + 1 <= AIS_HRW_RANK_MAX, "one HRW rank covers every slice");
    size_t k = ais_hrw_rank(node_digests, count, digest, n, idx);
    for (size_t i = 0; i < k; i++) {
        out[i] = idx[i];
    }
    return 0;
}

static int
in_set(const uint64_t *set, size_t n, uint64_t v)
{
    for (size_t i = 0; i < n; i++) {
        if (set[i] == v) {
            return 1;
        }
    }
    return 0;
}

/* 1 if v already holds one of the kept slots among next[0..n-1]. */
static int
kept_has(const uint64_t *next, const int *kept, size_t n, uint64_t v)
{
    for (size_t k = 0; k < n; k++) {
        if (kept[k] && next[k] == v) {
            return 1;
        }
    }
    return 0;
}

size_t
ec_place_repair(const uint64_t *cur, const uint64_t *pick, size_t n, uint64_t *next)
{
    int kept[EC_SLICES_MAX + 1] = {0};
    size_t changed = 0;
    AIS_ASSERT(cur != NULL);
    AIS_ASSERT(pick != NULL);
    AIS_ASSERT(next != NULL);
    AIS_ASSERT(n <= EC_SLICES_MAX + 1);
    for (size_t i = 0; i < n; i++) {
        AIS_ASSERT(!in_set(pick, i, pick[i]));
    }
    /* Survivors stay (a duplicate in cur keeps only its first slot). */
    for (size_t k = 0; k < n; k++) {
        next[k] = cur[k];
        kept[k] = in_set(pick, n, cur[k]) && !kept_has(next, kept, k, cur[k]);
    }
    /* Vacated slots, in slot order, take the best-ranked unused pick entries. */
    size_t j = 0;
    for (size_t k = 0; k < n; k++) {
        if (kept[k]) {
            continue;
        }
        /* As many unused pick entries as vacated slots: kept ones are distinct members. */
        while (j < n && kept_has(next, kept, n, pick[j])) {
            j++;
        }
        AIS_ASSERT(j < n);
        next[k] = pick[j++];
        changed++;
    }
    return changed;
}
