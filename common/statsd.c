/*
 * Design notes: one thread per node wakes every statsd.interval (or at stop), snapshots the
 * counters (relaxed loads: a push may be a request behind, never wrong by more), formats the
 * deltas and sends them in datagrams of at most AIS_STATSD_PACKET_BYTES_MAX, split between
 * lines. The socket is connected UDP with MSG_DONTWAIT: a full send buffer or an ICMP
 * "port unreachable" from an absent server drops that datagram (counted) and the next push
 * starts afresh, so memory and time per push are bounded and nothing waits on the network.
 */
#include "common/statsd.h"

#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINES_BYTES_MAX 8192

struct ais_statsd {
    const struct ais_stats *stats;
    char prefix[AIS_STATSD_PREFIX_BYTES_MAX + AIS_DAEMON_ID_BYTES_MAX + 2];
    int64_t interval_ms;
    int fd;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;           /* under mu */
    uint64_t dropped, sent; /* atomic */
    struct ais_statsd_snap prev;
};

/* Latency sums are kept per histogram; the counters skip the cumulative-ns totals. */
static int
is_ns_total(int k)
{
    return k == AIS_STAT_GET_NS || k == AIS_STAT_PUT_NS;
}

static const char *const lat_names[AIS_LAT_COUNT] = {
    [AIS_LAT_GET] = "get.ns",          [AIS_LAT_PUT] = "put.ns",
    [AIS_LAT_GET_COLD] = "get.cold.ns", [AIS_LAT_TTFB] = "get.ttfb.ns",
    [AIS_LAT_TTFB_COLD] = "get.cold.ttfb.ns"};

void
ais_statsd_snap_take(const struct ais_stats *s, struct ais_statsd_snap *out)
{
    for (int k = 0; k < AIS_STAT_COUNT; k++) {
        out->v[k] = ais_stats_get(s, (enum ais_stat)k);
    }
    for (int k = 0; k < AIS_LAT_COUNT; k++) {
        out->lat_n[k] = ais_hist_count(&s->lat[k]);
        out->lat_sum_ns[k] = ais_hist_sum_ns(&s->lat[k]);
    }
}

static size_t
line_add(char *lines, size_t cap, size_t *used, const char *fmt_prefix, const char *name,
         const char *val, const char *type)
{
    int n = snprintf(lines + *used, cap - *used, "%s%s.%s:%s|%s", *used ? "\n" : "", fmt_prefix,
                     name, val, type);
    if (n < 0 || (size_t)n >= cap - *used) {
        lines[*used] = '\0'; /* does not fit: the line is left out */
        return 0;
    }
    *used += (size_t)n;
    return 1;
}

size_t
ais_statsd_format(const char *prefix, const struct ais_statsd_snap *prev,
                  const struct ais_statsd_snap *cur, char *lines, size_t cap)
{
    size_t used = 0, n = 0;
    char val[32];
    if (cap == 0) {
        return 0;
    }
    lines[0] = '\0';
    for (int k = 0; k < AIS_STAT_COUNT; k++) {
        int64_t d = cur->v[k] - prev->v[k];
        if (d > 0 && !is_ns_total(k)) {
            snprintf(val, sizeof(val), "%" PRId64, d);
            n += line_add(lines, cap, &used, prefix, ais_stats_name((enum ais_stat)k), val, "c");
        }
    }
    for (int k = 0; k < AIS_LAT_COUNT; k++) {
        int64_t dn = cur->lat_n[k] - prev->lat_n[k];
        int64_t ds = cur->lat_sum_ns[k] - prev->lat_sum_ns[k];
        if (dn > 0 && ds >= 0) {
            snprintf(val, sizeof(val), "%.3f", (double)ds / (double)dn / 1e6);
            n += line_add(lines, cap, &used, prefix, lat_names[k], val, "ms");
        }
    }
    return n;
}

static void
send_dgram(struct ais_statsd *d, const char *p, size_t len)
{
    if (send(d->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        __atomic_add_fetch(&d->dropped, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_add_fetch(&d->sent, 1, __ATOMIC_RELAXED);
    }
}

/* Splits lines into datagrams between lines (a single overlong line is dropped). */
static void
push(struct ais_statsd *d)
{
    struct ais_statsd_snap cur;
    static_assert(LINES_BYTES_MAX > AIS_STATSD_PACKET_BYTES_MAX, "a push spans datagrams");
    char lines[LINES_BYTES_MAX];
    ais_statsd_snap_take(d->stats, &cur);
    if (ais_statsd_format(d->prefix, &d->prev, &cur, lines, sizeof(lines)) == 0) {
        d->prev = cur;
        return;
    }
    d->prev = cur;
    const char *p = lines, *end = lines + strlen(lines);
    while (p < end) {
        const char *q = p, *cut = NULL;
        while (q < end && (size_t)(q - p) <= AIS_STATSD_PACKET_BYTES_MAX) {
            const char *nl = memchr(q, '\n', (size_t)(end - q));
            const char *le = nl ? nl : end;
            if ((size_t)(le - p) > AIS_STATSD_PACKET_BYTES_MAX) {
                break;
            }
            cut = le;
            q = le + 1;
        }
        if (cut == NULL) { /* one line longer than a datagram */
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            __atomic_add_fetch(&d->dropped, 1, __ATOMIC_RELAXED);
            p = nl ? nl + 1 : end;
            continue;
        }
        send_dgram(d, p, (size_t)(cut - p));
        p = cut + 1;
    }
}

static void *
run(void *arg)
{
    struct ais_statsd *d = arg;
    ais_thread_background();
    pthread_mutex_lock(&d->mu);
    while (!d->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = ts.tv_nsec + (d->interval_ms % 1000) * 1000000;
        ts.tv_sec += d->interval_ms / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        while (!d->stopping && pthread_cond_timedwait(&d->cv, &d->mu, &ts) != ETIMEDOUT) {
        }
        pthread_mutex_unlock(&d->mu);
        push(d);
        pthread_mutex_lock(&d->mu);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* "host:port" (the last colon splits; "[v6]:port" too) into a connected UDP socket. */
static int
udp_open(const char *addr, int *fd_out)
{
    char host[AIS_HOST_BYTES_MAX + 2];
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr || colon[1] == '\0' ||
        (size_t)(colon - addr) >= sizeof(host)) {
        return -EINVAL;
    }
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') {
        h[strlen(h) - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res = NULL;
    int gai = getaddrinfo(h, colon + 1, &hints, &res);
    if (gai != 0 || res == NULL) {
        AIS_LOG_WARN("req=statsd addr=%s msg=\"cannot resolve; running without StatsD\" err=\"%s\"",
                     addr, gai_strerror(gai));
        return -EHOSTUNREACH;
    }
    int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int err = fd < 0 ? -errno : 0;
    if (err == 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        err = -errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (err == 0) {
        *fd_out = fd;
    }
    return err;
}

int
ais_statsd_start(const struct ais_config *cfg, const struct ais_stats *s, const char *node_id,
                 int is_target, struct ais_statsd **out)
{
    *out = NULL;
    if (cfg->statsd_addr[0] == '\0') {
        return 0;
    }
    struct ais_statsd *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        return -ENOMEM;
    }
    int err = udp_open(cfg->statsd_addr, &d->fd);
    if (err != 0) {
        free(d);
        return err == -EHOSTUNREACH ? 0 : err; /* as AIS: a node runs on without StatsD */
    }
    d->stats = s;
    d->interval_ms = cfg->statsd_interval_ms;
    const char *pfx = cfg->statsd_prefix[0] ? cfg->statsd_prefix
                      : is_target           ? "aistarget"
                                            : "aisproxy";
    snprintf(d->prefix, sizeof(d->prefix), "%s.%s", pfx, node_id);
    ais_statsd_snap_take(s, &d->prev);
    pthread_mutex_init(&d->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cv, &ca);
    pthread_condattr_destroy(&ca);
    err = -pthread_create(&d->th, NULL, run, d);
    if (err != 0) {
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
        close(d->fd);
        free(d);
        return err;
    }
    AIS_LOG_INFO("req=statsd addr=%s prefix=%s interval_ms=%lld", cfg->statsd_addr, d->prefix,
                 (long long)d->interval_ms);
    *out = d;
    return 0;
}

void
ais_statsd_stop(struct ais_statsd *d)
{
    if (d == NULL) {
        return;
    }
    pthread_mutex_lock(&d->mu);
    d->stopping = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->th, NULL); /* the loop pushes once more on its way out */
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    close(d->fd);
    free(d);
}

uint64_t
ais_statsd_dropped(const struct ais_statsd *d)
{
    return d ? __atomic_load_n(&d->dropped, __ATOMIC_RELAXED) : 0;
}
