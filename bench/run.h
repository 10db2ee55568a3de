/*
 * The load engine: a pool of workers (threads, one al_client each) that runs phases over the
 * shared name space, and the reporter loop that prints periodic lines while a phase runs.
 */
#ifndef AIS_BENCH_RUN_H
#define AIS_BENCH_RUN_H

#include "bench/args.h"
#include "bench/stats.h"

#include <stdint.h>
#include <stdio.h>

struct al_run;

enum al_phase {
    AL_PHASE_FILL,    /* PUT every name once */
    AL_PHASE_MAIN,    /* the timed mix, bounded by duration and/or max ops */
    AL_PHASE_CLEANUP, /* DELETE every name known to be present */
};

/*
 * Allocates the pattern, name tables and one client per worker for args (borrowed, must
 * outlive the run). 0, -ENOMEM or -EIO (curl setup). Call curl_global_init first.
 */
__attribute__((warn_unused_result)) int al_run_new(const struct al_args *args, struct al_run **out);
/* Frees; accepts NULL. Workers must not be running. */
void al_run_free(struct al_run *r);

/* AIS modes with create_bucket: POST create-bck to the endpoint. 0 or -EIO (reason on stderr). */
__attribute__((warn_unused_result)) int al_run_create_bucket(struct al_run *r);

/*
 * Runs one phase to completion on the worker threads; meanwhile prints interval lines to
 * progress every --stats-interval (progress may be NULL). Merges the phase's stats into *out
 * (initialised by the caller) and its wall time into *elapsed_ns. Blocks. 0 or -EAGAIN
 * (a thread could not start; the workers that did start were stopped and joined).
 */
__attribute__((warn_unused_result)) int al_run_phase(struct al_run *r, enum al_phase phase,
                                                     FILE *progress, struct al_stats *out,
                                                     int64_t *elapsed_ns);

/* Asks the running phase to stop after the ops in flight. Async-signal-safe. */
void al_run_stop(struct al_run *r);
/* 1 once al_run_stop was called. */
int al_run_stopped(struct al_run *r);

#endif
