/*
 * Node configuration: parsed and validated once at startup from a JSON file plus flags, then
 * passed down as `const struct ais_config *`. An unknown key is fatal. A few knobs can change at
 * runtime (set-config); those are atomics read with ais_config_rt_*().
 */
#ifndef AIS_COMMON_CONFIG_H
#define AIS_COMMON_CONFIG_H

#include "common/limits.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum ais_role { AIS_ROLE_GATEWAY, AIS_ROLE_TARGET };

/* Runtime-settable knobs (api.md §5.4 dotted names). */
struct ais_config_rt {
    int log_level;         /* log.level */
    int validate_warm_get; /* checksum.validate_warm_get (cluster default) */
    int fsync;             /* disk.fsync: fsync objects before they become visible */
    int dry_run;           /* dry_run: PUT discards, GET generates (targets) */
};

struct ais_config {
    enum ais_role role;
    char daemon_id[AIS_DAEMON_ID_BYTES_MAX]; /* "" = load or generate */
    char confdir[AIS_PATH_BYTES_MAX];
    char hostname[AIS_HOST_BYTES_MAX];
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
    struct ais_config_rt rt;
};

/*
 * Loads path (may be NULL: all defaults) into cfg. Errors name the offending key in
 * why (static or cfg-owned buffer, valid while cfg lives). Returns 0 or AIS_ECONFIG.
 */
__attribute__((warn_unused_result)) int ais_config_load(struct ais_config *cfg, const char *path,
                                                        char *why, size_t why_cap);
/* Checks cross-field rules after flags were applied. 0 or AIS_ECONFIG with why. */
__attribute__((warn_unused_result)) int ais_config_validate(const struct ais_config *cfg, char *why,
                                                            size_t why_cap);

/*
 * Sets one runtime knob by dotted name ("log.level", "checksum.validate_warm_get",
 * "disk.fsync", "dry_run"). 0, -ENOENT (unknown or not runtime-settable) or -EINVAL (bad value).
 * Thread-safe.
 */
int ais_config_set(const struct ais_config *cfg, const char *name, const char *value);
int ais_config_rt_get(const int *knob);
/* The runtime-settable names, in the order setconfig applies them. */
#define AIS_CONFIG_RT_COUNT 4
extern const char *const ais_config_rt_names[AIS_CONFIG_RT_COUNT];

/* Sets n knobs in order; the first failure stops and is described in msg. 0 or as above. */
int ais_config_set_many(const struct ais_config *cfg, const char *const *names,
                        const char *const *values, size_t n, char *msg, size_t cap);

/* The config as JSON (AIS-style keys), for GET /v1/daemon?what=config. */
json_t *ais_config_to_json(const struct ais_config *cfg);

#endif
