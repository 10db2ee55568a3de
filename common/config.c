/*
 * Design notes: the file format is JSON with AIS-style section names. Each section has a table
 * of known keys; anything else is rejected, so a typo never silently falls back to a default.
 * Runtime knobs live in cfg->rt and are read/written with atomics because request threads read
 * them while an admin request may change them.
 */
#include "common/config.h"

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    c->keepalive_interval_ms = 1000;
    c->keepalive_timeout_ms = 4000;
    c->rpc_timeout_ms = 3000;
    c->startup_timeout_ms = 60000;
    c->rt.log_level = AIS_LOG_LVL_INFO;
    c->rt.fsync = 1;
}

static int
fail(char *why, size_t cap, const char *key, const char *what)
{
    snprintf(why, cap, "config: %s: %s", key, what);
    return AIS_ECONFIG;
}

/* Reads an integer given as JSON number or numeric string. */
static int
get_port(const json_t *v, uint16_t *out)
{
    long long n = -1;
    if (json_is_integer(v)) {
        n = json_integer_value(v);
    } else if (json_is_string(v)) {
        char *end;
        n = strtoll(json_string_value(v), &end, 10);
        if (*end != '\0') {
            n = -1;
        }
    }
    if (n <= 0 || n > 65535) {
        return -EINVAL;
    }
    *out = (uint16_t)n;
    return 0;
}

static int
get_str(const json_t *v, char *out, size_t cap)
{
    const char *s = json_string_value(v);
    if (s == NULL || strlen(s) >= cap) {
        return -EINVAL;
    }
    strcpy(out, s);
    return 0;
}

static int
get_dur(const json_t *v, int64_t *out)
{
    const char *s = json_string_value(v);
    return s ? ais_duration_parse_ms(s, out) : -EINVAL;
}

static int
get_bool(const json_t *v, int *out)
{
    if (!json_is_boolean(v)) {
        return -EINVAL;
    }
    *out = json_is_true(v);
    return 0;
}

static int
load_fspaths(struct ais_config *c, const json_t *v)
{
    const char *key;
    json_t *val;
    size_t i;
    c->nfspaths = 0;
    if (json_is_array(v)) {
        json_array_foreach(v, i, val)
        {
            if (c->nfspaths >= AIS_MPATHS_MAX ||
                get_str(val, c->fspaths[c->nfspaths], AIS_PATH_BYTES_MAX) != 0) {
                return -EINVAL;
            }
            c->nfspaths++;
        }
        return 0;
    }
    if (!json_is_object(v)) {
        return -EINVAL;
    }
    json_object_foreach((json_t *)v, key, val)
    {
        if (c->nfspaths >= AIS_MPATHS_MAX || strlen(key) >= AIS_PATH_BYTES_MAX) {
            return -EINVAL;
        }
        strcpy(c->fspaths[c->nfspaths++], key);
    }
    return 0;
}

/* One known leaf: "section.key" -> setter. */
static int
set_leaf(struct ais_config *c, const char *name, const json_t *v)
{
    int b = 0;
    if (strcmp(name, "role") == 0) {
        const char *s = json_string_value(v);
        if (s == NULL) {
            return -EINVAL;
        }
        if (strcmp(s, "gateway") == 0 || strcmp(s, "proxy") == 0) {
            c->role = AIS_ROLE_GATEWAY;
        } else if (strcmp(s, "target") == 0) {
            c->role = AIS_ROLE_TARGET;
        } else {
            return -EINVAL;
        }
        return 0;
    }
    if (strcmp(name, "daemon_id") == 0) {
        return get_str(v, c->daemon_id, sizeof(c->daemon_id));
    }
    if (strcmp(name, "confdir") == 0) {
        return get_str(v, c->confdir, sizeof(c->confdir));
    }
    if (strcmp(name, "host_net.hostname") == 0) {
        return get_str(v, c->hostname, sizeof(c->hostname));
    }
    if (strcmp(name, "host_net.port") == 0) {
        return get_port(v, &c->port);
    }
    if (strcmp(name, "host_net.port_intra_control") == 0) {
        return get_port(v, &c->ctrl_port);
    }
    if (strcmp(name, "proxy.primary_url") == 0) {
        return get_str(v, c->primary_url, sizeof(c->primary_url));
    }
    if (strcmp(name, "fspaths") == 0) {
        return load_fspaths(c, v);
    }
    if (strcmp(name, "checksum.type") == 0) {
        return get_str(v, c->cksum_type, sizeof(c->cksum_type));
    }
    if (strcmp(name, "checksum.validate_warm_get") == 0) {
        return get_bool(v, &c->rt.validate_warm_get);
    }
    if (strcmp(name, "keepalivetracker.interval") == 0) {
        return get_dur(v, &c->keepalive_interval_ms);
    }
    if (strcmp(name, "keepalivetracker.timeout") == 0) {
        return get_dur(v, &c->keepalive_timeout_ms);
    }
    if (strcmp(name, "timeout.cplane_operation") == 0) {
        return get_dur(v, &c->rpc_timeout_ms);
    }
    if (strcmp(name, "timeout.startup_time") == 0) {
        return get_dur(v, &c->startup_timeout_ms);
    }
    if (strcmp(name, "log.level") == 0) {
        enum ais_log_level l;
        const char *s = json_string_value(v);
        if (s == NULL || ais_log_level_parse(s, &l) != 0) {
            return -EINVAL;
        }
        c->rt.log_level = (int)l;
        return 0;
    }
    if (strcmp(name, "disk.fsync") == 0) {
        return get_bool(v, &c->rt.fsync);
    }
    if (strcmp(name, "dry_run") == 0) {
        int err = get_bool(v, &b);
        c->rt.dry_run = b;
        return err;
    }
    return -ENOENT;
}

static int
walk(struct ais_config *c, const json_t *obj, const char *prefix, char *why, size_t cap)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        char name[128];
        snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", key);
        int err = set_leaf(c, name, val);
        if (err == -ENOENT && json_is_object(val) && strcmp(name, "fspaths") != 0) {
            err = walk(c, val, name, why, cap);
            if (err != 0) {
                return err;
            }
            continue;
        }
        if (err == -ENOENT) {
            return fail(why, cap, name, "unknown key");
        }
        if (err != 0) {
            return fail(why, cap, name, "invalid value");
        }
    }
    return 0;
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
    int err = json_is_object(j) ? walk(cfg, j, "", why, why_cap)
                                : fail(why, why_cap, path, "top level must be an object");
    json_decref(j);
    return err;
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
    if (c->keepalive_interval_ms < 100 || c->keepalive_timeout_ms < 2 * c->keepalive_interval_ms) {
        return fail(why, cap, "keepalivetracker", "interval >= 100ms and timeout >= 2x interval");
    }
    if (c->rpc_timeout_ms < 100 || c->rpc_timeout_ms > AIS_RPC_TIMEOUT_MS) {
        return fail(why, cap, "timeout.cplane_operation", "must be within 100ms..5s");
    }
    if (strncmp(c->primary_url, "tcp://", 6) != 0) {
        return fail(why, cap, "proxy.primary_url", "must be tcp://host:port");
    }
    return 0;
}

int
ais_config_rt_get(const int *knob)
{
    return __atomic_load_n(knob, __ATOMIC_RELAXED);
}

const char *const ais_config_rt_names[AIS_CONFIG_RT_COUNT] = {
    "log.level", "checksum.validate_warm_get", "disk.fsync", "dry_run"};

int
ais_config_set(const struct ais_config *cfg, const char *name, const char *value)
{
    /* Runtime knobs are the one mutable part of an otherwise const config. */
    struct ais_config_rt *rt = (struct ais_config_rt *)&cfg->rt;
    int *knob = NULL;
    int v;
    if (strcmp(name, "log.level") == 0) {
        enum ais_log_level l;
        if (ais_log_level_parse(value, &l) != 0) {
            return -EINVAL;
        }
        __atomic_store_n(&rt->log_level, (int)l, __ATOMIC_RELAXED);
        ais_log_init(l, NULL);
        return 0;
    }
    if (strcmp(name, "checksum.validate_warm_get") == 0) {
        knob = &rt->validate_warm_get;
    } else if (strcmp(name, "disk.fsync") == 0) {
        knob = &rt->fsync;
    } else if (strcmp(name, "dry_run") == 0) {
        knob = &rt->dry_run;
    } else {
        return -ENOENT;
    }
    v = ais_parse_bool(value);
    if (v < 0) {
        return -EINVAL;
    }
    __atomic_store_n(knob, v, __ATOMIC_RELAXED);
    return 0;
}

int
ais_config_set_many(const struct ais_config *cfg, const char *const *names,
                    const char *const *values, size_t n, char *msg, size_t cap)
{
    for (size_t i = 0; i < n; i++) {
        int rc = ais_config_set(cfg, names[i], values[i]);
        if (rc != 0) {
            snprintf(msg, cap, "cannot set %s=%s: %s", names[i], values[i],
                     rc == -ENOENT ? "unknown or read-only name" : "invalid value");
            return rc;
        }
    }
    return 0;
}

json_t *
ais_config_to_json(const struct ais_config *c)
{
    static const char *const lvls[] = {"error", "warning", "info", "debug"};
    char port[8], cport[8], ka[24], kt[24], to[24];
    json_t *fs = json_object();
    for (size_t i = 0; i < c->nfspaths; i++) {
        json_object_set_new(fs, c->fspaths[i], json_string(""));
    }
    snprintf(port, sizeof(port), "%u", (unsigned)c->port);
    snprintf(cport, sizeof(cport), "%u", (unsigned)c->ctrl_port);
    snprintf(ka, sizeof(ka), "%lldms", (long long)c->keepalive_interval_ms);
    snprintf(kt, sizeof(kt), "%lldms", (long long)c->keepalive_timeout_ms);
    snprintf(to, sizeof(to), "%lldms", (long long)c->rpc_timeout_ms);
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:o, s:{s:s}, s:{s:s, s:b}, "
                     "s:{s:s, s:s}, s:{s:s}, s:{s:s}, s:{s:b}, s:b}",
                     "role", c->role == AIS_ROLE_GATEWAY ? "proxy" : "target", "confdir",
                     c->confdir, "host_net", "hostname", c->hostname, "port", port,
                     "port_intra_control", cport, "fspaths", fs, "proxy", "primary_url",
                     c->primary_url, "checksum", "type", c->cksum_type, "validate_warm_get",
                     ais_config_rt_get(&c->rt.validate_warm_get), "keepalivetracker", "interval",
                     ka, "timeout", kt, "timeout", "cplane_operation", to, "log", "level",
                     lvls[ais_config_rt_get(&c->rt.log_level)], "disk", "fsync",
                     ais_config_rt_get(&c->rt.fsync), "dry_run", ais_config_rt_get(&c->rt.dry_run));
}
