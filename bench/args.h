/*
 * aisloader command line: parsed and validated once into a struct al_args that the rest of
 * the tool reads as const.
 */
#ifndef AIS_BENCH_ARGS_H
#define AIS_BENCH_ARGS_H

#include "bench/bench_limits.h"
#include "common/limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum al_mode {
    AL_MODE_GATEWAY,  /* AIS API at --endpoint; 307 redirects are followed per request */
    AL_MODE_DIRECT,   /* AIS API; each name's owner is resolved once, then targets are used */
    AL_MODE_BASELINE, /* plain HTTP: GET/PUT/DELETE <baseline-url>/<name>, no redirects */
};

struct al_args {
    char endpoint[AL_URL_BYTES_MAX]; /* AIS endpoint or baseline URL, no trailing '/' */
    char bucket[AIS_BCKNAME_BYTES_MAX + 1];
    char provider[16];
    char prefix[AL_PREFIX_BYTES_MAX + 1];
    enum al_mode mode;
    int64_t duration_ms; /* 0: bounded by max_ops only */
    uint64_t max_ops;    /* 0: bounded by duration only */
    unsigned workers;
    unsigned pct_put;  /* 0..100 */
    uint64_t size_min; /* bytes, size_min <= size_max <= AL_OBJ_BYTES_MAX */
    uint64_t size_max;
    uint64_t num_objects;      /* names prefix0000000000 .. prefix(N-1) */
    int64_t stats_interval_ms; /* 0: no periodic lines */
    int64_t timeout_ms;        /* per request, connect included */
    uint64_t seed;             /* pattern and name choice */
    bool seq;                  /* names in order instead of uniformly random */
    bool fill;                 /* PUT every name once before the timed phase */
    bool existing;             /* every name is already present (earlier --fill) */
    bool cleanup;              /* DELETE every name written, after the report */
    bool verify;               /* GET compares bytes with the pattern */
    bool json;                 /* final report as JSON on stdout */
    bool create_bucket;        /* POST create-bck first (409 = exists is fine) */
    bool quiet;                /* no periodic lines */
    bool expect_continue;      /* PUT sends "Expect: 100-continue" */
    bool help;                 /* --help given: print usage, nothing else is valid */
};

/*
 * Parses argv into *out (getopt_long, restartable: callable many times in one process).
 * On error returns -EINVAL with a one-line reason in err[0..errlen). *out is written only on
 * success. Not thread-safe (getopt state).
 */
__attribute__((warn_unused_result)) int al_args_parse(int argc, char **argv, struct al_args *out,
                                                      char *err, size_t errlen);

/* Writes the usage text to stdout. */
void al_args_usage(const char *prog);

/*
 * Parses a size: an integer with an optional unit, case-insensitive: B, K/KiB, M/MiB, G/GiB,
 * T/TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000). Returns 0 or -EINVAL (syntax,
 * overflow, or above AL_OBJ_BYTES_MAX).
 */
__attribute__((warn_unused_result)) int al_size_parse(const char *s, uint64_t *out);

/* Parses an integer in [lo, hi]. Returns 0 or -EINVAL. */
__attribute__((warn_unused_result)) int al_uint_parse(const char *s, uint64_t lo, uint64_t hi,
                                                      uint64_t *out);

/* "gateway", "direct" or "baseline". */
const char *al_mode_name(enum al_mode m);

#endif
