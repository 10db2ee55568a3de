/*
 * Per-op counters, latency histograms and a bounded table of error kinds, plus the rate maths
 * the reports use. A struct al_stats belongs to one worker (or to the reporter that merges
 * them); it is not thread-safe on its own.
 */
#ifndef AIS_BENCH_STATS_H
#define AIS_BENCH_STATS_H

#include "bench/bench_limits.h"
#include "bench/hist.h"

#include <stdint.h>

enum al_op { AL_OP_GET, AL_OP_PUT, AL_OP_DEL, AL_OP_COUNT };

enum al_errkind {
    AL_ERR_HTTP,    /* unexpected status; code = HTTP status */
    AL_ERR_CURL,    /* transport failure; code = CURLcode */
    AL_ERR_VERIFY,  /* GET bytes differ from the pattern; code = 0 */
    AL_ERR_RESOLVE, /* --direct: the gateway did not redirect; code = HTTP status */
};

struct al_errrow {
    enum al_op op;
    enum al_errkind kind;
    long code;
    uint64_t count;
};

struct al_errtab {
    unsigned n;
    uint64_t other; /* errors whose kind did not fit in rows */
    struct al_errrow rows[AL_ERRKINDS_MAX];
};

struct al_opstats {
    uint64_t ops; /* successful ops */
    uint64_t errors;
    uint64_t bytes;      /* payload bytes of successful ops */
    struct al_hist *lat; /* latency of successful ops, ns */
};

struct al_stats {
    struct al_opstats op[AL_OP_COUNT];
    struct al_errtab errs;
};

/* Allocates the histograms of caller-owned *s. 0 or -ENOMEM (nothing left allocated). */
__attribute__((warn_unused_result)) int al_stats_init(struct al_stats *s);
/* Frees the histograms; accepts a zeroed struct. */
void al_stats_fini(struct al_stats *s);
/* Zeroes every counter, keeps the histograms allocated. */
void al_stats_reset(struct al_stats *s);
/* Adds src into dst (errors by kind; overflow goes to dst->errs.other). */
void al_stats_merge(struct al_stats *dst, const struct al_stats *src);

/* Records a successful op. */
void al_stats_ok(struct al_stats *s, enum al_op op, uint64_t bytes, uint64_t lat_ns);
/* Records a failed op of the given kind and code. */
void al_stats_err(struct al_stats *s, enum al_op op, enum al_errkind kind, long code);

/* Events per second over ns nanoseconds; 0 when ns <= 0. */
double al_rate_per_s(uint64_t n, int64_t ns);
/* MiB (2^20 bytes) per second over ns nanoseconds; 0 when ns <= 0. */
double al_mib_per_s(uint64_t bytes, int64_t ns);

const char *al_op_name(enum al_op op);
const char *al_errkind_name(enum al_errkind kind);

#endif
