/*
 * StatsD push (AIS seed form): every statsd.interval a background thread sends this node's
 * counters and timers over UDP to statsd.addr, named `<prefix>.<daemon_id>.<metric>` with
 * prefix "aistarget" / "aisproxy" unless statsd.prefix says otherwise:
 *   aistarget.t1.get.n:12|c        counters: the increase since the last push
 *   aistarget.t1.get.size:49152|c
 *   aistarget.t1.get.ns:0.85|ms    timers: mean latency (ms) of the interval's requests
 * The datapath never sees this module: the thread reads the relaxed counters of ais_stats, so
 * a slow or absent StatsD server costs requests nothing. Datagrams are sent non-blocking; one
 * the socket cannot take is dropped (and counted), never queued.
 */
#ifndef AIS_COMMON_STATSD_H
#define AIS_COMMON_STATSD_H

#include "common/config.h"
#include "common/stats.h"

#include <stddef.h>
#include <stdint.h>

struct ais_statsd;

/*
 * Starts the pusher for s (borrowed; must outlive ais_statsd_stop) when cfg->statsd_addr is
 * set; *out = NULL (and 0) when it is empty. node_id is copied. is_target picks the default
 * prefix. 0 (also when the host does not resolve: logged, *out = NULL, the node runs on
 * without StatsD as AIS does), -EINVAL (addr not "host:port"), -ENOMEM, -errno.
 */
__attribute__((warn_unused_result)) int ais_statsd_start(const struct ais_config *cfg,
                                                         const struct ais_stats *s,
                                                         const char *node_id, int is_target,
                                                         struct ais_statsd **out);
/* Sends a last push, stops the thread, frees. Accepts NULL. */
void ais_statsd_stop(struct ais_statsd *d);
/* Datagrams dropped because the socket would block (or failed). */
uint64_t ais_statsd_dropped(const struct ais_statsd *d);

/*
 * Formats the lines of one push into lines (at most cap bytes, '\n'-separated, no trailing
 * newline): counters whose value rose since prev, timers with requests since prev. prev is
 * updated to cur. Returns the number of lines (pure function, for tests).
 */
struct ais_statsd_snap {
    int64_t v[AIS_STAT_COUNT];
    int64_t lat_n[AIS_LAT_COUNT], lat_sum_ns[AIS_LAT_COUNT];
};
void ais_statsd_snap_take(const struct ais_stats *s, struct ais_statsd_snap *out);
size_t ais_statsd_format(const char *prefix, const struct ais_statsd_snap *prev,
                         const struct ais_statsd_snap *cur, char *lines, size_t cap);

#endif
