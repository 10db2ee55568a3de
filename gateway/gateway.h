/*
 * Gateway (proxy): control plane. The primary owns the Smap and BMD, admits nodes, tracks
 * keepalives and pushes metadata; every gateway redirects object requests to their HRW target
 * and serves bucket, cluster and daemon APIs. Gateways never touch object data.
 */
#ifndef AIS_GATEWAY_GATEWAY_H
#define AIS_GATEWAY_GATEWAY_H

#include "common/config.h"

/* Runs the gateway until *stop becomes non-zero. 0 or negative errno. */
int gw_run(const struct ais_config *cfg, const volatile int *stop);

#endif
