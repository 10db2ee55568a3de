/*
 * Bounds of the load generator, each with its unit and the reason for it. The server's limits
 * live in common/limits.h; these only bound the client.
 */
#ifndef AIS_BENCH_LIMITS_H
#define AIS_BENCH_LIMITS_H

/* Worker threads: each owns one curl handle and its connections; far above what 2..64 cores use. */
#define AL_WORKERS_MAX 256
/* Largest object one op moves: the pattern is reused cyclically, so this bounds only time. */
#define AL_OBJ_BYTES_MAX (64ull << 30)
/* Name space size: the present-names list and the owner cache hold 4+2 bytes per name. */
#define AL_NUM_OBJECTS_MAX (1u << 24)
/* Endpoint and baseline URLs (scheme, host, port, optional path). */
#define AL_URL_BYTES_MAX 512
/* Object name prefix; names are prefix + 10 digits, far below AIS_OBJNAME_BYTES_MAX. */
#define AL_PREFIX_BYTES_MAX 128
/* Distinct targets remembered by --direct; a cluster has at most AIS_NODES_MAX nodes. */
#define AL_TARGETS_MAX 1024
/* Redirects followed per request: gateway -> target is one; more means a loop. */
#define AL_REDIRECTS_MAX 3
/* Connections cached per worker: the gateway plus every target it was redirected to. */
#define AL_CONNS_PER_WORKER_MAX 64
/* Distinct (op, kind, code) error rows kept per worker and in the merged report. */
#define AL_ERRKINDS_MAX 32
/* Cyclic random payload every PUT body is cut from (power of two: offsets wrap by masking). */
#define AL_PATTERN_BYTES (1u << 20)
/* Latency histogram: 2^7 linear sub-buckets per power of two => <= 0.8% relative error. */
#define AL_HIST_SUB_BITS 7
/* Latencies above 2^44 ns (~4.9 h) are clamped into the last bucket. */
#define AL_HIST_MAX_BITS 44

#endif
