/*
 * Node configuration: parsed and validated once at startup from a JSON file plus flags, then
 * passed down as `const struct ais_config *`. Every knob is one row of a descriptor table
 * (config.c: `knobs[]`): its dotted name (api.md §5.4/5.4b), type, range, runtime-settable flag
 * and field. Parsing the file, startup validation, setconfig (per node and cluster-wide),
 * `what=config` JSON and the CLI all read that table, so they cannot disagree.
 *
 * Adding a knob:
 *   1. add the field to struct ais_config (numeric: uint16_t, int or int64_t; bool: int;
 *      string: char[N]; runtime-settable ones go in struct ais_config_rt);
 *   2. add its default in config.c defaults();
 *   3. add one row to knobs[] in config.c, e.g.
 *        {.name = "rebalance.enabled", .type = AIS_KNOB_BOOL, .flags = AIS_KNOB_RT,
 *         KNOB_AT(rt.rebalance_enabled)},
 *        {.name = "rpc.workers_control", .type = AIS_KNOB_INT, .min = 1,
 *         .max = AIS_RPC_WORKERS_MAX, KNOB_AT(rpc_workers_control)},
 *      The max of a knob that bounds a resource is its common/limits.h value: config may
 *      tighten a limit, never raise it.
 *   4. readers of a runtime-settable knob on other threads use ais_config_rt_get() /
 *      ais_config_rt_get64() (relaxed atomics); read-only knobs never change after startup and
 *      are read as plain fields.
 * Nothing else changes: the file parser, setconfig, what=config and the CLI pick the row up.
 */
#ifndef AIS_COMMON_CONFIG_H
#define AIS_COMMON_CONFIG_H

#include "common/limits.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum ais_role { AIS_ROLE_GATEWAY, AIS_ROLE_TARGET };

/* Runtime-settable knobs (api.md §5.4 dotted names); read with ais_config_rt_get(). */
struct ais_config_rt {
    int log_level;         /* log.level */
    int64_t log_max_size;  /* log.max_size: bytes after which aisnode.log rotates */
    int64_t log_max_total; /* log.max_total: bytes of the current and rotated logs at most */
    int validate_warm_get; /* checksum.validate_warm_get (cluster default) */
    int fsync;             /* disk.fsync: fsync objects before they become visible */
    int dry_run;           /* dry_run: PUT discards, GET generates (targets) */
    int rebalance_enabled; /* rebalance.enabled: targets rebalance on Smap changes */
    int rebalance_workers; /* rebalance.workers: sender threads (read when a rebalance starts) */
    int64_t rebalance_bps; /* rebalance.bps: bytes/s the mover sends at most, 0 = unlimited */
    int s3_redirect;       /* s3.redirect: /s3 object requests get 307 to the target */
    int rproxy;            /* net.http.rproxy: 1 ("cloud") = serve absolute-URI requests */
    int s3_auth;           /* s3.auth: /s3 requests must carry a valid SigV4 signature */
    /* Capacity (space/): percent of a mountpath used; cleanupwm <= lowwm < highwm < oos. */
    int space_cleanupwm;         /* space.cleanupwm: below it no cleanup is needed */
    int space_lowwm;             /* space.lowwm: LRU evicts down to this */
    int space_highwm;            /* space.highwm: LRU starts at this */
    int space_oos;               /* space.out_of_space: PUTs get 507 from this on */
    int lru_enabled;             /* lru.enabled: the capacity monitor may evict (cluster switch) */
    int64_t lru_dont_evict_ms;   /* lru.dont_evict_time: default of buckets without their own */
    int64_t lru_capacity_upd_ms; /* lru.capacity_upd_time: how often capacity is checked */
};

struct ais_config {
    enum ais_role role;
    char daemon_id[AIS_DAEMON_ID_BYTES_MAX]; /* "" = load or generate */
    char confdir[AIS_PATH_BYTES_MAX];
    char hostname[AIS_HOST_BYTES_MAX];
    char hostname_intra[AIS_HOST_BYTES_MAX]; /* host_net.hostname_intra_control; "" = hostname */
    uint16_t port;
    uint16_t ctrl_port;
    char primary_url[256]; /* tcp://host:port of the primary's control socket */
    size_t nfspaths;
    char fspaths[AIS_MPATHS_MAX][AIS_PATH_BYTES_MAX];
    char cksum_type[16];
    int64_t keepalive_interval_ms;
    int64_t keepalive_timeout_ms;
    int64_t rpc_timeout_ms;
    int64_t startup_timeout_ms; /* how long a node keeps trying to join */
    int rpc_workers[3];         /* rpc.workers.{keepalive,control,data}: threads per RPC class */
    size_t ns3_keys;            /* s3.access_keys: "ACCESS_KEY_ID:SECRET" items */
    char s3_keys[AIS_S3_KEYS_MAX][AIS_S3_KEY_BYTES_MAX];
    int64_t http_max_conns; /* net.http.max_conns: HTTP connections a node serves at once */
    char promote_root[AIS_PATH_BYTES_MAX];           /* promote.root: sources must be under it */
    char log_dir[AIS_PATH_BYTES_MAX];                /* log_dir: <dir>/aisnode.log; "" = stderr */
    char statsd_addr[AIS_STATSD_ADDR_BYTES_MAX];     /* statsd.addr: "host:port", "" = off */
    char statsd_prefix[AIS_STATSD_PREFIX_BYTES_MAX]; /* statsd.prefix: "" = aistarget/aisproxy */
    int64_t statsd_interval_ms;                      /* statsd.interval */
    struct ais_config_rt rt;
};

enum ais_knob_type {
    AIS_KNOB_BOOL,     /* int 0/1; JSON bool; text true/false/1/0/yes/no */
    AIS_KNOB_INT,      /* integer in [min, max]; optional names via parse/show */
    AIS_KNOB_DURATION, /* int64_t ms in [min, max]; text/JSON "10s", "500ms", "2m" */
    AIS_KNOB_STRING,   /* char[size]; at most max bytes (0: size - 1) */
    AIS_KNOB_LIST,     /* char[max][size] of strings plus a size_t count at count_off */
};

#define AIS_KNOB_RT 0x1u     /* runtime-settable (setconfig); else read-only after startup */
#define AIS_KNOB_NUMSTR 0x2u /* INT shown as a JSON string (AIS ports are strings) */
#define AIS_KNOB_MAP 0x4u    /* LIST shown as {"item": ""} (AIS fspaths), accepted as either */

/* One row of the descriptor table. Read-only; valid for the process lifetime. */
struct ais_knob {
    const char *name; /* dotted JSON path, e.g. "keepalivetracker.interval" */
    enum ais_knob_type type;
    unsigned flags;
    int64_t min, max;          /* INT/DURATION value range; STRING bytes; LIST items */
    size_t off, size;          /* field in struct ais_config (LIST: size = one item) */
    size_t count_off;          /* LIST: size_t item count */
    const char *help;          /* one line for the CLI */
    const char *const *values; /* STRING/INT: the allowed names (INT: value = index), NULL-ended */
    /* INT with names: extra accepted spellings ("proxy" for the gateway role, "warn"). */
    int (*parse)(const char *text, int64_t *out);
    /* Optional extra check of a parsed value; sets *why (static text) on failure. */
    int (*check)(const char *text, int64_t v, const char **why);
    /* Called after a runtime set was stored (log.level updates the logger). */
    void (*applied)(int64_t v);
};

/* The table: row i (NULL past the end), and lookup by exact dotted name (NULL if unknown). */
const struct ais_knob *ais_knob_at(size_t i);
const struct ais_knob *ais_knob_find(const char *name);

/*
 * Loads path (may be NULL: all defaults) into cfg, checking every key against the table: an
 * unknown key, a wrong type or an out-of-range value is an error naming the key in why.
 * Returns 0 or AIS_ECONFIG.
 */
__attribute__((warn_unused_result)) int ais_config_load(struct ais_config *cfg, const char *path,
                                                        char *why, size_t why_cap);
/* Same from an already parsed JSON object (borrowed). */
__attribute__((warn_unused_result)) int
ais_config_load_json(struct ais_config *cfg, const json_t *j, char *why, size_t why_cap);
/* Checks cross-field rules after flags were applied. 0 or AIS_ECONFIG with why. */
__attribute__((warn_unused_result)) int ais_config_validate(const struct ais_config *cfg, char *why,
                                                            size_t why_cap);

/*
 * Checks name=value for a runtime set without applying it: 0, -ENOENT (unknown name), -EPERM
 * (read-only knob), -EINVAL (malformed value) or -ERANGE (out of range). Thread-safe.
 */
int ais_config_check(const char *name, const char *value);
/* Checks then sets one runtime knob (atomically). Errors as ais_config_check. Thread-safe. */
int ais_config_set(const struct ais_config *cfg, const char *name, const char *value);
/* Relaxed atomic read of a runtime-settable int / int64_t knob of cfg->rt. */
int ais_config_rt_get(const int *knob);
int64_t ais_config_rt_get64(const int64_t *knob);

/*
 * Checks n name=value pairs for a runtime set without applying any; msg names every bad key
 * ("unknown key a.b=1; read-only key (...) host_net.port=80"). 0 or the first error.
 */
int ais_config_check_many(const char *const *names, const char *const *values, size_t n, char *msg,
                          size_t cap);
/*
 * Checks all n name=value pairs first; if any fails, nothing is applied and msg names every bad
 * key ("setconfig: unknown: a.b; read-only: host_net.port"). Else sets them in order. Returns
 * 0 or the first error as ais_config_check. Thread-safe (concurrent calls may interleave).
 * The space.* watermarks are also checked together (current values with the batch applied):
 * -EINVAL and msg naming the rule when cleanupwm <= lowwm < highwm < out_of_space <= 100 fails.
 */
int ais_config_set_many(const struct ais_config *cfg, const char *const *names,
                        const char *const *values, size_t n, char *msg, size_t cap);
/* Describes an error of ais_config_check for name (static text): "unknown", "read-only"... */
const char *ais_config_strerror(int err);

/*
 * Flattens a partial config JSON object ({"log":{"level":"debug"}}) into dotted names and text
 * values, for `{"action":"set-config","value":{...}}`. names/values point into j or into buf
 * (cap bytes, for non-string leaves); at most max pairs. Returns the count, or -E2BIG.
 */
int ais_config_flatten(const json_t *j, const char **names, const char **values, size_t max,
                       char *buf, size_t cap);

/* The config as JSON (api.md §5.4b nesting, one leaf per knob), for what=config. New ref. */
json_t *ais_config_to_json(const struct ais_config *cfg);
/* The value of one knob as text (what setconfig accepts back): 0 or -ENOENT / -ENOSPC. */
int ais_config_get_text(const struct ais_config *cfg, const char *name, char *out, size_t cap);

#endif
