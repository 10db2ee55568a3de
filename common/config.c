/*
 * Design notes: one descriptor table (knobs[]) drives everything. A row names a field by offset
 * and size, so the file loader, the runtime setter, the JSON encoder and the text encoder are
 * each one generic function over rows; no knob has code of its own unless it needs names
 * (log.level, role) or an extra check (proxy.primary_url). Input comes in two forms, JSON
 * (file, set-config bodies) and text (query strings, CLI); JSON scalars are turned into text so
 * one parser checks type and range for both. Numeric fields are read and written with relaxed
 * __atomic builtins whatever their flags: runtime-settable ones are changed by admin requests
 * while request threads read them, and the cost for the rest is nil. Runtime-settable knobs
 * are numeric or bool only: a string cannot be swapped atomically. Setting many knobs checks
 * them all before applying any, so a request with one bad key changes nothing.
 */
#include "common/config.h"

#include "common/assert.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static_assert(sizeof(enum ais_role) == sizeof(int), "role is stored as an int knob");

#define KNOB_AT(f)                                                                                 \
    .off = offsetof(struct ais_config, f), .size = sizeof(((struct ais_config *)0)->f)

static const char *const role_names[] = {"proxy", "target", NULL};
static const char *const level_names[] = {"error", "warning", "info", "debug", NULL};
/* Same set as bucket props (common/bmd.c) and storage/cksum.c. */
static const char *const cksum_names[] = {"none",   "xxhash", "xxhash2", "md5",
                                          "crc32c", "sha256", "sha512",  NULL};

static int
role_parse(const char *s, int64_t *out)
{
    if (strcasecmp(s, "gateway") != 0) {
        return -EINVAL;
    }
    *out = AIS_ROLE_GATEWAY;
    return 0;
}

static int
level_parse(const char *s, int64_t *out)
{
    enum ais_log_level l;
    if (ais_log_level_parse(s, &l) != 0) {
        return -EINVAL;
    }
    *out = (int64_t)l;
    return 0;
}

static void
level_applied(int64_t v)
{
    ais_log_level_set((enum ais_log_level)v);
}

static void
log_max_size_applied(int64_t v)
{
    ais_log_max_size_set(v);
}

static void
log_max_total_applied(int64_t v)
{
    ais_log_max_total_set(v);
}

/* "2MiB", "512KiB", "1GiB" or "3M" (binary units): for byte-sized knobs. */
static int
bytes_parse(const char *s, int64_t *out)
{
    static const char *const units = "KMGT";
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    const char *u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
    if (end == s || errno != 0 || v < 0 || u == NULL ||
        (strcasecmp(end + 1, "") != 0 && strcasecmp(end + 1, "iB") != 0)) {
        return -EINVAL;
    }
    int shift = 10 * (int)(u - units + 1);
    if (v > (INT64_MAX >> shift)) {
        return -EINVAL;
    }
    *out = (int64_t)v << shift;
    return 0;
}

static int
bps_check(const char *s, int64_t v, const char **why)
{
    (void)s;
    if (v != 0 && v < AIS_REB_BPS_MIN) {
        *why = "must be 0 (unlimited) or at least 256KiB";
        return -ERANGE;
    }
    return 0;
}

static int
url_check(const char *s, int64_t v, const char **why)
{
    (void)v;
    if (strncmp(s, "tcp://", 6) != 0 || strchr(s + 6, ':') == NULL) {
        *why = "must be tcp://host:port";
        return -EINVAL;
    }
    return 0;
}

/* statsd.addr: "" (off) or host:port. */
static int
hostport_check(const char *s, int64_t v, const char **why)
{
    (void)v;
    const char *c = strrchr(s, ':');
    if (s[0] != '\0' && (c == NULL || c == s || c[1] == '\0')) {
        *why = "must be host:port";
        return -EINVAL;
    }
    return 0;
}

/* promote.root: an absolute path. */
static int
abs_path_check(const char *s, int64_t v, const char **why)
{
    (void)v;
    if (s[0] != '/') {
        *why = "must be an absolute path";
        return -EINVAL;
    }
    return 0;
}

/* lru.* durations: a week at most (a longer capacity period would leave disks unwatched). */
#define LRU_TIME_MS_MAX (7 * 24 * 3600 * 1000LL)

static const char *const rproxy_names[] = {"", "cloud", NULL};

static const struct ais_knob knobs[] = {
    {.name = "role",
     .type = AIS_KNOB_INT,
     .max = 1,
     KNOB_AT(role),
     .values = role_names,
     .parse = role_parse,
     .help = "proxy (gateway) or target"},
    {.name = "daemon_id",
     .type = AIS_KNOB_STRING,
     KNOB_AT(daemon_id),
     .help = "node id; empty: load from confdir or generate"},
    {.name = "confdir",
     .type = AIS_KNOB_STRING,
     KNOB_AT(confdir),
     .help = "directory for the node's persistent metadata"},
    {.name = "host_net.hostname",
     .type = AIS_KNOB_STRING,
     KNOB_AT(hostname),
     .help = "address the HTTP and control listeners bind to"},
    {.name = "host_net.hostname_intra_control",
     .type = AIS_KNOB_STRING,
     KNOB_AT(hostname_intra),
     .help = "intra-cluster address (control, object streams); empty: host_net.hostname"},
    {.name = "host_net.port",
     .type = AIS_KNOB_INT,
     .flags = AIS_KNOB_NUMSTR,
     .min = 1,
     .max = 65535,
     KNOB_AT(port),
     .help = "public HTTP port"},
    {.name = "host_net.port_intra_control",
     .type = AIS_KNOB_INT,
     .flags = AIS_KNOB_NUMSTR,
     .min = 1,
     .max = 65535,
     KNOB_AT(ctrl_port),
     .help = "intra-cluster control (nng) port"},
    {.name = "proxy.primary_url",
     .type = AIS_KNOB_STRING,
     KNOB_AT(primary_url),
     .check = url_check,
     .help = "tcp://host:port of the primary's control socket"},
    {.name = "fspaths",
     .type = AIS_KNOB_LIST,
     .flags = AIS_KNOB_MAP,
     .max = AIS_MPATHS_MAX,
     .off = offsetof(struct ais_config, fspaths),
     .size = AIS_PATH_BYTES_MAX,
     .count_off = offsetof(struct ais_config, nfspaths),
     .help = "mountpaths of a target"},
    {.name = "checksum.type",
     .type = AIS_KNOB_STRING,
     KNOB_AT(cksum_type),
     .values = cksum_names,
     .help = "default checksum of new buckets"},
    {.name = "checksum.validate_warm_get",
     .type = AIS_KNOB_BOOL,
     .flags = AIS_KNOB_RT,
     KNOB_AT(rt.validate_warm_get),
     .help = "verify the checksum of every GET"},
    {.name = "keepalivetracker.interval",
     .type = AIS_KNOB_DURATION,
     .min = AIS_KEEPALIVE_INTERVAL_MS_MIN,
     .max = AIS_KEEPALIVE_INTERVAL_MS_MAX,
     KNOB_AT(keepalive_interval_ms),
     .help = "how often nodes send keepalives"},
    {.name = "keepalivetracker.timeout",
     .type = AIS_KNOB_DURATION,
     .min = 2 * AIS_KEEPALIVE_INTERVAL_MS_MIN,
     .max = AIS_KEEPALIVE_TIMEOUT_MS_MAX,
     KNOB_AT(keepalive_timeout_ms),
     .help = "silence after which the primary removes a node"},
    {.name = "timeout.cplane_operation",
     .type = AIS_KNOB_DURATION,
     .min = AIS_RPC_TIMEOUT_MS_MIN,
     .max = AIS_RPC_TIMEOUT_MS,
     KNOB_AT(rpc_timeout_ms),
     .help = "deadline of one control RPC"},
    {.name = "timeout.startup_time",
     .type = AIS_KNOB_DURATION,
     .min = AIS_RPC_TIMEOUT_MS_MIN,
     .max = AIS_STARTUP_TIMEOUT_MS_MAX,
     KNOB_AT(startup_timeout_ms),
     .help = "how long a starting node keeps trying to join"},
    {.name = "log.level",
     .type = AIS_KNOB_INT,
     .flags = AIS_KNOB_RT,
     .max = AIS_LOG_LVL_DBG,
     KNOB_AT(rt.log_level),
     .values = level_names,
     .parse = level_parse,
     .applied = level_applied,
     .help = "error, warning, info or debug (or 0..3)"},
    {.name = "log_dir",
     .type = AIS_KNOB_STRING,
     KNOB_AT(log_dir),
     .help = "the node writes and rotates <log_dir>/aisnode.log (served by what=log); empty: "
             "stderr"},
    {.name = "log.max_size",
     .type = AIS_KNOB_INT,
     .flags = AIS_KNOB_RT,
     .min = AIS_LOG_MAX_SIZE_MIN,
     .max = AIS_LOG_MAX_SIZE_MAX,
     KNOB_AT(rt.log_max_size),
     .parse = bytes_parse,
     .applied = log_max_size_applied,
     .help = "bytes (\"4MiB\") after which aisnode.log becomes aisnode.log.1 and a new one starts"},
    {.name = "log.max_total",
     .type = AIS_KNOB_INT,
     .flags = AIS_KNOB_RT,
     .min = AIS_LOG_MAX_SIZE_MIN,
     .max = AIS_LOG_MAX_TOTAL_MAX,
     KNOB_AT(rt.log_max_total),
     .parse = bytes_parse,
     .applied = log_max_total_applied,
     .help = "bytes of the current and rotated logs together; the oldest go first"},
    {.name = "disk.fsync",
     .type = AIS_KNOB_BOOL,
     .flags = AIS_KNOB_RT,
     KNOB_AT(rt.fsync),
     .help = "fsync objects before they become visible"},
    {.name = "dry_run",
     .type = AIS_KNOB_BOOL,
     .flags = AIS_KNOB_RT,
     KNOB_AT(rt.dry_run),
     .help = "targets discard PUT data and serve generated GETs"},
    {.name = "rpc.workers.keepalive",
     .type = AIS_KNOB_INT,
     .min = 1,
     .max = AIS_RPC_WORKERS_MAX,
     KNOB_AT(rpc_workers[0]),
     .help = "RPC threads for keepalives (never starved by others)"},
    {.name = "rpc.workers.control",
     .type = AIS_KNOB_INT,
     .min = 1,
     .max = AIS_RPC_WORKERS_MAX,
     KNOB_AT(rpc_workers[1]),
     .help = "RPC threads for joins, metasync, config, queries"},
    {.name = "rpc.workers.data",
     .type = AIS_KNOB_INT,
     .min = 1,
     .max = AIS_RPC_WORKERS_MAX,
     KNOB_AT(rpc_workers[2]),
     .help = "RPC threads for listing, deletes, object pulls"},
    {.name = "rebalance.enabled",
     .type = AIS_KNOB_BOOL,
     .flags = AIS_KNOB_RT,
     KNOB_AT(rt.rebalance_enabled),
     .help = "targets move objects to their new owners on joins"},
    {.name = "rebalance.workers",
     .type = AIS_KNOB_INT,
     .flags = AIS_KNOB_RT,
     .min = 1,
     .max = AIS_REB_WORKERS_MAX,
     KNOB_AT(rt.rebalance_workers),
     .help = "sender threads of a rebalance (taken when one starts)"},
    {.name = "rebalance.bps",
     .type = AIS_KNOB_INT,
     .flags = AIS_KNOB_RT,
     .max = INT64_MAX,
     KNOB_AT(rt.rebalance_bps),
     .parse = bytes_parse,
     .check = bps_check,
     .help = "bytes/s a target's rebalance sends at most (\"2MiB\"), 0 = unlimited"},
    {.name = "net.http.rproxy",
     .type = AIS_KNOB_INT,
     .flags = AIS_KNOB_RT,
     .max = 1,
     KNOB_AT(rt.rproxy),
     .values = rproxy_names,
     .help = "reverse proxy: \"cloud\" = gateways serve absolute-URI requests (http_proxy) "
             "from ht:// buckets, caching on first read; \"\" = off"},
    {.name = "s3.redirect",
     .type = AIS_KNOB_BOOL,
     .flags = AIS_KNOB_RT,
     KNOB_AT(rt.s3_redirect),
     .help = "/s3 object requests: 307 to the target instead of streaming via the gateway"},
    {.name = "s3.auth",
     .type = AIS_KNOB_BOOL,
     .flags = AIS_KNOB_RT,
     KNOB_AT(rt.s3_auth),
     .help = "/s3 requests must be SigV4-signed with one of s3.access_keys"},
    {.name = "s3.access_keys",
     .type = AIS_KNOB_LIST,
     .max = AIS_S3_KEYS_MAX,
     .off = offsetof(struct ais_config, s3_keys),
     .size = AIS_S3_KEY_BYTES_MAX,
     .count_off = offsetof(struct ais_config, ns3_keys),
     .help = "S3 credentials of the gateway, \"ACCESS_KEY_ID:SECRET\" each"},
    {.name = "net.http.max_conns",
     .type = AIS_KNOB_INT,
     .min = 16,
     .max = AIS_HTTP_CONN_MAX,
     KNOB_AT(http_max_conns),
     .help = "HTTP connections served at once (set at start); past it a new one gets 503 "
             "with Retry-After"},
    {.name = "promote.root",
     .type = AIS_KNOB_STRING,
     KNOB_AT(promote_root),
     .check = abs_path_check,
     .help = "the only tree promote reads files from (a target's own, set at start); \"/\" "
             "allows any path"},
    {.name = "statsd.addr",
     .type = AIS_KNOB_STRING,
     KNOB_AT(statsd_addr),
     .check = hostport_check,
     .help = "host:port of a StatsD server to push counters to; empty: off"},
    {.name = "statsd.prefix",
     .type = AIS_KNOB_STRING,
     KNOB_AT(statsd_prefix),
     .help = "StatsD name prefix; empty: aistarget / aisproxy (then .<daemon id>.)"},
    {.name = "statsd.interval",
     .type = AIS_KNOB_DURATION,
     .min = AIS_STATSD_INTERVAL_MS_MIN,
     .max = AIS_STATSD_INTERVAL_MS_MAX,
     KNOB_AT(statsd_interval_ms),
     .help = "how often counters are pushed to StatsD"},
    {.name = "space.cleanupwm",
     .type = AIS_KNOB_INT,
     .flags = AIS_KNOB_RT,
     .min = 1,
     .max = 100,
     KNOB_AT(rt.space_cleanupwm),
     .help = "percent used below which a mountpath needs no cleanup (<= space.lowwm)"},
    {.name = "space.lowwm",
     .type = AIS_KNOB_INT,
     .flags = AIS_KNOB_RT,
     .min = 1,
     .max = 100,
     KNOB_AT(rt.space_lowwm),
     .help = "percent used LRU eviction brings a mountpath down to"},
    {.name = "space.highwm",
     .type = AIS_KNOB_INT,
     .flags = AIS_KNOB_RT,
     .min = 1,
     .max = 100,
     KNOB_AT(rt.space_highwm),
     .help = "percent used at which LRU eviction starts"},
    {.name = "space.out_of_space",
     .type = AIS_KNOB_INT,
     .flags = AIS_KNOB_RT,
     .min = 1,
     .max = 100,
     KNOB_AT(rt.space_oos),
     .help = "percent used from which PUTs to a mountpath get 507"},
    {.name = "lru.enabled",
     .type = AIS_KNOB_BOOL,
     .flags = AIS_KNOB_RT,
     KNOB_AT(rt.lru_enabled),
     .help = "evict least recently used objects of remote buckets above space.highwm"},
    {.name = "lru.dont_evict_time",
     .type = AIS_KNOB_DURATION,
     .flags = AIS_KNOB_RT,
     .max = LRU_TIME_MS_MAX,
     KNOB_AT(rt.lru_dont_evict_ms),
     .help = "objects read more recently are never evicted (buckets without their own)"},
    {.name = "lru.capacity_upd_time",
     .type = AIS_KNOB_DURATION,
     .flags = AIS_KNOB_RT,
     .min = 1000,
     .max = LRU_TIME_MS_MAX,
     KNOB_AT(rt.lru_capacity_upd_ms),
     .help = "how often targets check mountpath capacity"},
};

#define KNOBS_N (sizeof(knobs) / sizeof(knobs[0]))

const struct ais_knob *
ais_knob_at(size_t i)
{
    return i < KNOBS_N ? &knobs[i] : NULL;
}

const struct ais_knob *
ais_knob_find(const char *name)
{
    for (size_t i = 0; i < KNOBS_N; i++) {
        if (strcmp(knobs[i].name, name) == 0) {
            return &knobs[i];
        }
    }
    return NULL;
}

/* 1 if some knob lives below section ("host_net" for "host_net.port"). */
static int
is_section(const char *section)
{
    size_t n = strlen(section);
    for (size_t i = 0; i < KNOBS_N; i++) {
        if (strncmp(knobs[i].name, section, n) == 0 && knobs[i].name[n] == '.') {
            return 1;
        }
    }
    return 0;
}

static void
defaults(struct ais_config *c)
{
    memset(c, 0, sizeof(*c));
    c->role = AIS_ROLE_TARGET;
    snprintf(c->confdir, sizeof(c->confdir), "/tmp/ais/conf");
    snprintf(c->hostname, sizeof(c->hostname), "127.0.0.1");
    c->port = 8080;
    c->ctrl_port = 9080;
    snprintf(c->primary_url, sizeof(c->primary_url), "tcp://127.0.0.1:9080");
    snprintf(c->cksum_type, sizeof(c->cksum_type), "xxhash");
    c->http_max_conns = AIS_HTTP_CONN_MAX;
    snprintf(c->promote_root, sizeof(c->promote_root), "/var/lib/ais/promote");
    c->keepalive_interval_ms = 1000;
    c->keepalive_timeout_ms = 4000;
    c->rpc_timeout_ms = 3000;
    c->startup_timeout_ms = 60000;
    c->statsd_interval_ms = 10000;
    c->rt.log_level = AIS_LOG_LVL_INFO;
    c->rt.log_max_size = 4 << 20;
    c->rt.log_max_total = 64 << 20;
    c->rt.fsync = 1;
    c->rt.rebalance_enabled = 1;
    c->rt.rebalance_workers = 4;
    c->rt.space_cleanupwm = 65;
    c->rt.space_lowwm = 75;
    c->rt.space_highwm = 90;
    c->rt.space_oos = 95;
    c->rt.lru_enabled = 1;
    c->rt.lru_dont_evict_ms = 120 * 60000;
    c->rt.lru_capacity_upd_ms = 10 * 60000;
    c->rpc_workers[0] = 2;
    c->rpc_workers[1] = 4;
    c->rpc_workers[2] = 8;
}

/* ---- field access ---- */

static int64_t
num_get(const struct ais_config *c, const struct ais_knob *k)
{
    const char *p = (const char *)c + k->off;
    switch (k->size) {
    case sizeof(uint16_t):
        return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
    case sizeof(int):
        return __atomic_load_n((const int *)p, __ATOMIC_RELAXED);
    case sizeof(int64_t):
        return __atomic_load_n((const int64_t *)p, __ATOMIC_RELAXED);
    }
    AIS_ASSERT(!"numeric knob of unsupported size");
    return 0;
}

/* Stores a checked value: the range check already bounds it to the field's type. */
static void
num_set(const struct ais_config *c, const struct ais_knob *k, int64_t v)
{
    char *p = (char *)c + k->off;
    switch (k->size) {
    case sizeof(uint16_t):
        __atomic_store_n((uint16_t *)p, (uint16_t)v, __ATOMIC_RELAXED);
        return;
    case sizeof(int):
        __atomic_store_n((int *)p, (int)v, __ATOMIC_RELAXED);
        return;
    case sizeof(int64_t):
        __atomic_store_n((int64_t *)p, v, __ATOMIC_RELAXED);
        return;
    }
    AIS_ASSERT(!"numeric knob of unsupported size");
}

static size_t
str_max(const struct ais_knob *k)
{
    return k->max > 0 && (size_t)k->max < k->size ? (size_t)k->max : k->size - 1;
}

/* ---- parsing (text form) ---- */

static int
name_index(const char *const *names, const char *s, int64_t *out)
{
    for (int64_t i = 0; names != NULL && names[i] != NULL; i++) {
        if (strcasecmp(names[i], s) == 0) {
            *out = i;
            return 0;
        }
    }
    return -EINVAL;
}

static int
int_parse(const struct ais_knob *k, const char *s, int64_t *out)
{
    if (name_index(k->values, s, out) == 0 || (k->parse != NULL && k->parse(s, out) == 0)) {
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

/* Parses text for a BOOL/INT/DURATION knob and range-checks it. */
static int
num_parse(const struct ais_knob *k, const char *s, int64_t *out)
{
    int64_t v = 0;
    int err = 0;
    if (k->type == AIS_KNOB_BOOL) {
        int b = ais_parse_bool(s);
        err = b < 0 ? -EINVAL : 0;
        v = b;
    } else if (k->type == AIS_KNOB_DURATION) {
        err = ais_duration_parse_ms(s, &v);
    } else {
        err = int_parse(k, s, &v);
    }
    if (err == 0 && k->type != AIS_KNOB_BOOL && (v < k->min || v > k->max)) {
        err = -ERANGE;
    }
    if (err == 0) {
        *out = v;
    }
    return err;
}

static int
str_parse(const struct ais_knob *k, const char *s)
{
    int64_t idx;
    if (strlen(s) > str_max(k)) {
        return -ERANGE;
    }
    if (k->values != NULL && name_index(k->values, s, &idx) != 0) {
        return -EINVAL;
    }
    return 0;
}

/* Full check of one text value; *why gets the reason when a check hook refused it. */
static int
value_check(const struct ais_knob *k, const char *s, int64_t *num, const char **why)
{
    int err;
    *num = 0;
    if (k->type == AIS_KNOB_LIST) {
        return -EINVAL; /* lists have no text form */
    }
    err = k->type == AIS_KNOB_STRING ? str_parse(k, s) : num_parse(k, s, num);
    if (err == 0 && k->check != NULL) {
        err = k->check(s, *num, why);
    }
    return err;
}

/* ---- the file (JSON form) ---- */

static int
fail(char *why, size_t cap, const char *key, const char *what)
{
    snprintf(why, cap, "config: %s: %s", key, what);
    return AIS_ECONFIG;
}

/* A JSON scalar as text: strings as they are, bools and integers printed into buf. */
static const char *
json_text(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v)) {
        return json_string_value(v);
    }
    if (json_is_boolean(v)) {
        return json_is_true(v) ? "true" : "false";
    }
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%" PRId64, (int64_t)json_integer_value(v));
        return buf;
    }
    return NULL;
}

static int
list_add(struct ais_config *c, const struct ais_knob *k, const char *s)
{
    size_t *n = (size_t *)((char *)c + k->count_off);
    if (s == NULL || *n >= (size_t)k->max || strlen(s) >= k->size || s[0] == '\0') {
        return -EINVAL;
    }
    memcpy((char *)c + k->off + *n * k->size, s, strlen(s) + 1);
    (*n)++;
    return 0;
}

/* A list from a JSON array of strings, or (AIS fspaths) the keys of an object. */
static int
list_load(struct ais_config *c, const struct ais_knob *k, const json_t *v)
{
    const char *key;
    json_t *val;
    size_t i;
    int err = 0;
    *(size_t *)((char *)c + k->count_off) = 0;
    if (json_is_array(v)) {
        json_array_foreach(v, i, val)
        {
            err = err ? err : list_add(c, k, json_string_value(val));
        }
        return err;
    }
    if (!json_is_object(v)) {
        return -EINVAL;
    }
    json_object_foreach((json_t *)v, key, val)
    {
        err = err ? err : list_add(c, k, key);
    }
    return err;
}

static int
leaf_load(struct ais_config *c, const struct ais_knob *k, const json_t *v, char *why, size_t cap)
{
    char num[32], msg[256];
    const char *hook_why = NULL;
    int64_t n;
    if (k->type == AIS_KNOB_LIST) {
        return list_load(c, k, v) == 0 ? 0 : fail(why, cap, k->name, "invalid list");
    }
    const char *s = json_text(v, num, sizeof(num));
    int err = s ? value_check(k, s, &n, &hook_why) : -EINVAL;
    if (err == -ERANGE && k->type == AIS_KNOB_STRING) {
        snprintf(msg, sizeof(msg), "too long (max %zu bytes)", str_max(k));
        return fail(why, cap, k->name, msg);
    }
    if (err == -ERANGE) {
        snprintf(msg, sizeof(msg), "\"%s\" out of range [%" PRId64 "%s, %" PRId64 "%s]", s, k->min,
                 k->type == AIS_KNOB_DURATION ? "ms" : "", k->max,
                 k->type == AIS_KNOB_DURATION ? "ms" : "");
        return fail(why, cap, k->name, msg);
    }
    if (err != 0) {
        snprintf(msg, sizeof(msg), "invalid value%s%s", hook_why ? ": " : "",
                 hook_why ? hook_why : "");
        return fail(why, cap, k->name, msg);
    }
    if (k->type == AIS_KNOB_STRING) {
        memcpy((char *)c + k->off, s, strlen(s) + 1);
    } else {
        num_set(c, k, n);
    }
    return 0;
}

static int
walk(struct ais_config *c, const json_t *obj, const char *prefix, char *why, size_t cap)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        char name[256];
        int err = 0;
        snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", key);
        const struct ais_knob *k = ais_knob_find(name);
        if (k != NULL) {
            err = leaf_load(c, k, val, why, cap);
        } else if (json_is_object(val) && is_section(name)) {
            err = walk(c, val, name, why, cap);
        } else {
            err = fail(why, cap, name, "unknown key");
        }
        if (err != 0) {
            return err;
        }
    }
    return 0;
}

int
ais_config_load_json(struct ais_config *cfg, const json_t *j, char *why, size_t why_cap)
{
    defaults(cfg);
    if (!json_is_object(j)) {
        return fail(why, why_cap, "config", "top level must be an object");
    }
    return walk(cfg, j, "", why, why_cap);
}

int
ais_config_load(struct ais_config *cfg, const char *path, char *why, size_t why_cap)
{
    defaults(cfg);
    if (path == NULL) {
        return 0;
    }
    json_error_t jerr;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        snprintf(why, why_cap, "config: %s: line %d: %s", path, jerr.line, jerr.text);
        return AIS_ECONFIG;
    }
    int err = ais_config_load_json(cfg, j, why, why_cap);
    json_decref(j);
    return err;
}

#define SPACE_WM_RULE "need cleanupwm <= lowwm < highwm < out_of_space <= 100"

static int
space_wm_ok(int64_t cleanup, int64_t low, int64_t high, int64_t oos)
{
    return cleanup <= low && low < high && high < oos && oos <= 100;
}

int
ais_config_validate(const struct ais_config *c, char *why, size_t cap)
{
    if (c->role == AIS_ROLE_TARGET && c->nfspaths == 0) {
        return fail(why, cap, "fspaths", "a target needs at least one mountpath");
    }
    if (c->port == c->ctrl_port) {
        return fail(why, cap, "host_net.port_intra_control", "must differ from host_net.port");
    }
    if (c->keepalive_timeout_ms < 2 * c->keepalive_interval_ms) {
        return fail(why, cap, "keepalivetracker.timeout", "must be >= 2x the interval");
    }
    const struct ais_config_rt *rt = &c->rt;
    if (!space_wm_ok(rt->space_cleanupwm, rt->space_lowwm, rt->space_highwm, rt->space_oos)) {
        return fail(why, cap, "space", SPACE_WM_RULE);
    }
    return 0;
}

/* ---- runtime ---- */

int
ais_config_rt_get(const int *knob)
{
    return __atomic_load_n(knob, __ATOMIC_RELAXED);
}

int64_t
ais_config_rt_get64(const int64_t *knob)
{
    return __atomic_load_n(knob, __ATOMIC_RELAXED);
}

static int
rt_check(const char *name, const char *value, const struct ais_knob **kout, int64_t *v)
{
    const char *why = NULL;
    const struct ais_knob *k = ais_knob_find(name);
    if (k == NULL) {
        return -ENOENT;
    }
    if (!(k->flags & AIS_KNOB_RT)) {
        return -EPERM;
    }
    AIS_ASSERT(k->type != AIS_KNOB_STRING && k->type != AIS_KNOB_LIST);
    int err = value ? value_check(k, value, v, &why) : -EINVAL;
    if (err == 0) {
        *kout = k;
    }
    return err;
}

int
ais_config_check(const char *name, const char *value)
{
    const struct ais_knob *k;
    int64_t v;
    return rt_check(name, value, &k, &v);
}

int
ais_config_set(const struct ais_config *cfg, const char *name, const char *value)
{
    const struct ais_knob *k = NULL;
    int64_t v = 0;
    int err = rt_check(name, value, &k, &v);
    if (err == 0) {
        num_set(cfg, k, v);
        if (k->applied != NULL) {
            k->applied(v);
        }
    }
    return err;
}

const char *
ais_config_strerror(int err)
{
    switch (err) {
    case -ENOENT:
        return "unknown key";
    case -EPERM:
        return "read-only key (not settable at runtime)";
    case -ERANGE:
        return "value out of range";
    default:
        return "invalid value";
    }
}

int
ais_config_check_many(const char *const *names, const char *const *values, size_t n, char *msg,
                      size_t cap)
{
    int first = 0;
    size_t off = 0;
    if (cap > 0) {
        msg[0] = '\0';
    }
    for (size_t i = 0; i < n; i++) {
        int rc = ais_config_check(names[i], values[i]);
        if (rc == 0) {
            continue;
        }
        first = first ? first : rc;
        const struct ais_knob *k = ais_knob_find(names[i]);
        int w = snprintf(msg + off, cap > off ? cap - off : 0, "%s%s %s=%s", off ? "; " : "",
                         ais_config_strerror(rc), names[i], values[i] ? values[i] : "");
        if (rc == -ERANGE && k != NULL && w >= 0 && off + (size_t)w < cap) {
            off += (size_t)w;
            w = snprintf(msg + off, cap - off, " (range %" PRId64 "..%" PRId64 "%s)", k->min,
                         k->max, k->type == AIS_KNOB_DURATION ? "ms" : "");
        }
        off = (w < 0 || off + (size_t)w >= cap) ? (cap ? cap - 1 : 0) : off + (size_t)w;
    }
    return first;
}

/*
 * The watermarks are checked together: the current values with the batch's applied on top, so
 * from 75/90, "space.lowwm=92 space.highwm=94" works in one request but not lowwm alone first.
 * -EINVAL.
 */
static int
space_check_many(const struct ais_config *cfg, const char *const *names, const char *const *values,
                 size_t n, char *msg, size_t cap)
{
    static const char *const wm[] = {"space.cleanupwm", "space.lowwm", "space.highwm",
                                     "space.out_of_space"};
    int64_t v[4];
    for (size_t k = 0; k < 4; k++) {
        v[k] = num_get(cfg, ais_knob_find(wm[k]));
        for (size_t i = 0; i < n; i++) {
            if (strcmp(names[i], wm[k]) == 0) {
                int rc = num_parse(ais_knob_find(wm[k]), values[i], &v[k]);
                AIS_ASSERT(rc == 0); /* checked by the caller */
            }
        }
    }
    if (space_wm_ok(v[0], v[1], v[2], v[3])) {
        return 0;
    }
    snprintf(msg, cap, "space: %s (would be %" PRId64 "/%" PRId64 "/%" PRId64 "/%" PRId64 ")",
             SPACE_WM_RULE, v[0], v[1], v[2], v[3]);
    return -EINVAL;
}

int
ais_config_set_many(const struct ais_config *cfg, const char *const *names,
                    const char *const *values, size_t n, char *msg, size_t cap)
{
    int err = ais_config_check_many(names, values, n, msg, cap);
    err = err ? err : space_check_many(cfg, names, values, n, msg, cap);
    for (size_t i = 0; err == 0 && i < n; i++) {
        int rc = ais_config_set(cfg, names[i], values[i]);
        AIS_ASSERT(rc == 0); /* checked above; the table does not change */
    }
    return err;
}

/* ---- flattening set-config bodies ---- */

struct flat {
    const char **names, **values;
    size_t n, max;
    char *buf;
    size_t cap, used;
};

static const char *
flat_copy(struct flat *f, const char *s)
{
    size_t len = strlen(s) + 1;
    if (f->used + len > f->cap) {
        return NULL;
    }
    char *p = f->buf + f->used;
    memcpy(p, s, len);
    f->used += len;
    return p;
}

static int
flat_walk(struct flat *f, const json_t *j, const char *prefix)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)j, key, val)
    {
        char name[256], num[32];
        snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", key);
        if (json_is_object(val) && ais_knob_find(name) == NULL) {
            int err = flat_walk(f, val, name);
            if (err != 0) {
                return err;
            }
            continue;
        }
        const char *text = json_text(val, num, sizeof(num));
        if (f->n >= f->max) {
            return -E2BIG;
        }
        f->names[f->n] = flat_copy(f, name);
        f->values[f->n] = text ? (json_is_string(val) ? text : flat_copy(f, text)) : "";
        if (f->names[f->n] == NULL || f->values[f->n] == NULL) {
            return -E2BIG;
        }
        f->n++;
    }
    return 0;
}

int
ais_config_flatten(const json_t *j, const char **names, const char **values, size_t max, char *buf,
                   size_t cap)
{
    struct flat f = {.names = names, .values = values, .max = max, .buf = buf, .cap = cap};
    if (!json_is_object(j)) {
        return -EINVAL;
    }
    int err = flat_walk(&f, j, "");
    return err ? err : (int)f.n;
}

/* ---- output ---- */

static void
dur_fmt(int64_t ms, char *out, size_t cap)
{
    if (ms != 0 && ms % 3600000 == 0) {
        snprintf(out, cap, "%" PRId64 "h", ms / 3600000);
    } else if (ms != 0 && ms % 60000 == 0) {
        snprintf(out, cap, "%" PRId64 "m", ms / 60000);
    } else if (ms % 1000 == 0) {
        snprintf(out, cap, "%" PRId64 "s", ms / 1000);
    } else {
        snprintf(out, cap, "%" PRId64 "ms", ms);
    }
}

/* A scalar knob's value as text (what its parser accepts back). */
static void
scalar_text(const struct ais_config *c, const struct ais_knob *k, char *out, size_t cap)
{
    int64_t v = k->type == AIS_KNOB_STRING ? 0 : num_get(c, k);
    if (k->type == AIS_KNOB_STRING) {
        snprintf(out, cap, "%s", (const char *)c + k->off);
    } else if (k->type == AIS_KNOB_BOOL) {
        snprintf(out, cap, "%s", v ? "true" : "false");
    } else if (k->type == AIS_KNOB_DURATION) {
        dur_fmt(v, out, cap);
    } else if (k->values != NULL) {
        snprintf(out, cap, "%s", k->values[v]);
    } else {
        snprintf(out, cap, "%" PRId64, v);
    }
}

static json_t *
list_json(const struct ais_config *c, const struct ais_knob *k)
{
    size_t n = *(const size_t *)((const char *)c + k->count_off);
    json_t *j = (k->flags & AIS_KNOB_MAP) ? json_object() : json_array();
    for (size_t i = 0; j != NULL && i < n; i++) {
        const char *s = (const char *)c + k->off + i * k->size;
        if (k->flags & AIS_KNOB_MAP) {
            json_object_set_new(j, s, json_string(""));
        } else {
            json_array_append_new(j, json_string(s));
        }
    }
    return j;
}

static json_t *
knob_json(const struct ais_config *c, const struct ais_knob *k)
{
    char text[AIS_PATH_BYTES_MAX];
    if (k->type == AIS_KNOB_LIST) {
        return list_json(c, k);
    }
    if (k->type == AIS_KNOB_BOOL) {
        return json_boolean(num_get(c, k));
    }
    if (k->type == AIS_KNOB_INT && k->values == NULL && !(k->flags & AIS_KNOB_NUMSTR)) {
        return json_integer(num_get(c, k));
    }
    scalar_text(c, k, text, sizeof(text));
    return json_string(text);
}

/* Sets j[a][b]...=v for the dotted name, creating the sections. Steals v. */
static int
json_put_path(json_t *j, const char *name, json_t *v)
{
    char sec[256];
    const char *dot;
    while (v != NULL && (dot = strchr(name, '.')) != NULL) {
        snprintf(sec, sizeof(sec), "%.*s", (int)(dot - name), name);
        json_t *sub = json_object_get(j, sec);
        if (sub == NULL) {
            sub = json_object();
            if (json_object_set_new(j, sec, sub) != 0) {
                json_decref(v);
                return -ENOMEM;
            }
        }
        j = sub;
        name = dot + 1;
    }
    return (v != NULL && json_object_set_new(j, name, v) == 0) ? 0 : -ENOMEM;
}

json_t *
ais_config_to_json(const struct ais_config *c)
{
    json_t *j = json_object();
    for (size_t i = 0; j != NULL && i < KNOBS_N; i++) {
        if (json_put_path(j, knobs[i].name, knob_json(c, &knobs[i])) != 0) {
            json_decref(j);
            j = NULL;
        }
    }
    return j;
}

int
ais_config_get_text(const struct ais_config *c, const char *name, char *out, size_t cap)
{
    const struct ais_knob *k = ais_knob_find(name);
    if (k == NULL) {
        return -ENOENT;
    }
    if (k->type != AIS_KNOB_LIST) {
        scalar_text(c, k, out, cap);
        return strlen(out) + 1 < cap ? 0 : -ENOSPC;
    }
    json_t *j = list_json(c, k);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    int err = s && strlen(s) < cap ? 0 : -ENOSPC;
    if (err == 0) {
        memcpy(out, s, strlen(s) + 1);
    }
    free(s);
    json_decref(j);
    return err;
}
