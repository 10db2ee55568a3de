/*
 * Human and JSON reports of merged stats. Latencies print in milliseconds (text) and
 * microseconds (JSON); throughput in ops/s and MiB/s (2^20 bytes).
 */
#ifndef AIS_BENCH_REPORT_H
#define AIS_BENCH_REPORT_H

#include "bench/args.h"
#include "bench/stats.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* One periodic line per op that had activity in the interval (span_ns long). */
void al_report_interval(FILE *f, const char *phase, int64_t since_start_ns,
                        const struct al_stats *intv, int64_t span_ns);

/* Table of the phase: per op count, errors, rates, latency min/p50/p90/p99/max; then errors. */
void al_report_text(FILE *f, const char *title, const struct al_stats *s, int64_t elapsed_ns);

/* The run's configuration as a JSON object (new reference, NULL on OOM). */
json_t *al_report_json_config(const struct al_args *a);

/*
 * A phase as JSON: {"elapsed_s", "get": {...}, "put": {...}, "delete": {...}, "errors": [...],
 * "errors_total"} with per op "ops", "errors", "bytes", "ops_per_s", "mib_per_s" and
 * "lat_us": {"min","mean","p50","p90","p99","max"}. New reference, NULL on OOM.
 */
json_t *al_report_json_phase(const struct al_stats *s, int64_t elapsed_ns);

/* Sum of errors over every op. */
uint64_t al_report_errors(const struct al_stats *s);

#endif
