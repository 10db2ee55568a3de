/*
 * Storage target: joins the cluster, serves the object datapath over HTTP and answers
 * intra-cluster RPCs (listing, deletes, stats, metasync).
 */
#ifndef AIS_TARGET_TARGET_H
#define AIS_TARGET_TARGET_H

#include "common/config.h"

/* Runs the target until *stop becomes non-zero (polled) or a fatal error. 0 or negative errno. */
int tgt_run(const struct ais_config *cfg, const volatile int *stop);

#endif
