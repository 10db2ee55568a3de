/*
 * Design notes: a value v below 2^(B+1) (B = AL_HIST_SUB_BITS) is its own bucket. Above, with
 * msb the index of v's top bit and shift = msb - B, the top B+1 bits of v pick one of 2^B
 * buckets of width 2^shift in group shift+1: idx = (shift + 1) * 2^B + (v >> shift) - 2^B.
 * Groups are contiguous, so the index is monotonic in v and a cumulative walk yields ranks.
 * Each bucket's width is at most 2^-B of its lower bound: the relative error bound.
 */
#include "bench/hist.h"

#include "bench/bench_limits.h"
#include "common/assert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SUB_COUNT (1u << AL_HIST_SUB_BITS)
#define GROUPS (AL_HIST_MAX_BITS - AL_HIST_SUB_BITS + 1)
#define BUCKETS (GROUPS * SUB_COUNT)
#define VALUE_TOP ((1ull << AL_HIST_MAX_BITS) - 1)

static_assert(AL_HIST_SUB_BITS >= 1 && AL_HIST_SUB_BITS <= 16, "sub-bucket bits");
static_assert(AL_HIST_MAX_BITS > AL_HIST_SUB_BITS && AL_HIST_MAX_BITS < 63, "max bits");

struct al_hist {
    uint64_t count;
    uint64_t min;
    uint64_t max;
    long double sum;
    uint64_t buckets[BUCKETS];
};

int
al_hist_new(struct al_hist **out)
{
    AIS_ASSERT(out != NULL);
    struct al_hist *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        return -ENOMEM;
    }
    *out = h;
    return 0;
}

void
al_hist_free(struct al_hist *h)
{
    free(h);
}

unsigned
al_hist_bucket(uint64_t v)
{
    if (v > VALUE_TOP) {
        v = VALUE_TOP;
    }
    if (v < 2 * SUB_COUNT) {
        return (unsigned)v;
    }
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - AL_HIST_SUB_BITS;
    return (shift + 1) * SUB_COUNT + (unsigned)(v >> shift) - SUB_COUNT;
}

void
al_hist_bucket_range(unsigned idx, uint64_t *lo, uint64_t *hi)
{
    AIS_ASSERT(idx < BUCKETS);
    if (idx < 2 * SUB_COUNT) {
        *lo = idx;
        *hi = idx;
        return;
    }
    unsigned shift = idx / SUB_COUNT - 1;
    uint64_t top = (uint64_t)(idx % SUB_COUNT) + SUB_COUNT;
    *lo = top << shift;
    *hi = *lo + (1ull << shift) - 1;
}

void
al_hist_record(struct al_hist *h, uint64_t v)
{
    if (h->count == 0 || v < h->min) {
        h->min = v;
    }
    if (v > h->max) {
        h->max = v;
    }
    h->count++;
    h->sum += (long double)v;
    h->buckets[al_hist_bucket(v)]++;
}

void
al_hist_merge(struct al_hist *dst, const struct al_hist *src)
{
    if (src->count == 0) {
        return;
    }
    if (dst->count == 0 || src->min < dst->min) {
        dst->min = src->min;
    }
    if (src->max > dst->max) {
        dst->max = src->max;
    }
    dst->count += src->count;
    dst->sum += src->sum;
    for (unsigned i = 0; i < BUCKETS; i++) {
        dst->buckets[i] += src->buckets[i];
    }
}

void
al_hist_reset(struct al_hist *h)
{
    memset(h, 0, sizeof(*h));
}

uint64_t
al_hist_count(const struct al_hist *h)
{
    return h->count;
}

uint64_t
al_hist_min(const struct al_hist *h)
{
    return h->min;
}

uint64_t
al_hist_max(const struct al_hist *h)
{
    return h->max;
}

double
al_hist_mean(const struct al_hist *h)
{
    return h->count ? (double)(h->sum / (long double)h->count) : 0.0;
}

uint64_t
al_hist_percentile(const struct al_hist *h, double pct)
{
    if (h->count == 0) {
        return 0;
    }
    if (pct <= 0) {
        return h->min;
    }
    if (pct >= 100) {
        return h->max;
    }
    /* Rank in 1..count; the small epsilon keeps e.g. 50% of 10 at rank 5, not 6. */
    long double want = (long double)pct / 100.0L * (long double)h->count;
    uint64_t rank = (uint64_t)(want - 1e-9L);
    if ((long double)rank < want - 1e-9L) {
        rank++;
    }
    if (rank == 0) {
        rank = 1;
    }
    uint64_t seen = 0;
    for (unsigned i = 0; i < BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t lo, hi;
            al_hist_bucket_range(i, &lo, &hi);
            uint64_t mid = lo + (hi - lo) / 2;
            return mid < h->min ? h->min : (mid > h->max ? h->max : mid);
        }
    }
    return h->max;
}
