/*
 * Latency histogram with log-linear buckets (HDR-like): bounded memory whatever the op count,
 * relative error at most 2^-AL_HIST_SUB_BITS, exact below 2^(AL_HIST_SUB_BITS+1).
 * Values are unsigned 64-bit (the load generator records nanoseconds). Not thread-safe: each
 * worker owns its histograms, the reporter merges them under the worker's lock.
 */
#ifndef AIS_BENCH_HIST_H
#define AIS_BENCH_HIST_H

#include <stdint.h>

struct al_hist;

/* Allocates an empty histogram into *out (caller frees with al_hist_free). 0 or -ENOMEM. */
__attribute__((warn_unused_result)) int al_hist_new(struct al_hist **out);
/* Frees; accepts NULL. */
void al_hist_free(struct al_hist *h);

/* Records one value; values above the top bucket are clamped into it (max stays exact). */
void al_hist_record(struct al_hist *h, uint64_t v);
/* Adds every count of src into dst. */
void al_hist_merge(struct al_hist *dst, const struct al_hist *src);
/* Empties h. */
void al_hist_reset(struct al_hist *h);

uint64_t al_hist_count(const struct al_hist *h);
/* Exact minimum and maximum recorded, 0 when empty. */
uint64_t al_hist_min(const struct al_hist *h);
uint64_t al_hist_max(const struct al_hist *h);
/* Exact arithmetic mean, 0 when empty. */
double al_hist_mean(const struct al_hist *h);

/*
 * Value at percentile pct (0..100): the smallest bucket whose cumulative count reaches
 * ceil(pct/100 * count), reported as the bucket's midpoint clamped to [min, max].
 * pct <= 0 gives min, pct >= 100 gives max, an empty histogram gives 0.
 */
uint64_t al_hist_percentile(const struct al_hist *h, double pct);

/* Bucket index of v and the [lo, hi] range of values bucket idx covers (for tests). */
unsigned al_hist_bucket(uint64_t v);
void al_hist_bucket_range(unsigned idx, uint64_t *lo, uint64_t *hi);

#endif
