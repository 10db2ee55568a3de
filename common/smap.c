/*
 * Design notes: the Smap is small (<= AIS_NODES_MAX nodes) and changes rarely, so every change
 * copies it whole and readers never lock; they hold a reference for the duration of a request.
 * Nodes are kept sorted by id so JSON output and HRW tie-breaking are deterministic.
 */
#include "common/smap.h"

#include "common/assert.h"
#include "common/err.h"
#include "common/hrw.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ais_smap *
ais_smap_new(void)
{
    struct ais_smap *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return NULL;
    }
    char id[33];
    ais_rand_id(id, 32);
    snprintf(m->uuid, sizeof(m->uuid), "%s", id);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(m->creation_time, sizeof(m->creation_time), "%Y-%m-%dT%H:%M:%SZ", &tm);
    m->refs = 1;
    return m;
}

struct ais_smap *
ais_smap_clone(const struct ais_smap *m)
{
    struct ais_smap *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    /* Field by field: m->refs may be changing on other threads (never copy it). */
    c->version = m->version;
    memcpy(c->uuid, m->uuid, sizeof(c->uuid));
    memcpy(c->creation_time, m->creation_time, sizeof(c->creation_time));
    memcpy(c->primary_id, m->primary_id, sizeof(c->primary_id));
    c->nnodes = m->nnodes;
    c->refs = 1;
    if (m->nnodes > 0) {
        c->nodes = malloc(m->nnodes * sizeof(*c->nodes));
        if (c->nodes == NULL) {
            free(c);
            return NULL;
        }
        memcpy(c->nodes, m->nodes, m->nnodes * sizeof(*c->nodes));
    }
    return c;
}

struct ais_smap *
ais_smap_ref(struct ais_smap *m)
{
    if (m != NULL) {
        __atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
    }
    return m;
}

void
ais_smap_unref(struct ais_smap *m)
{
    if (m == NULL) {
        return;
    }
    if (__atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        free(m->nodes);
        free(m);
    }
}

void
ais_snode_init_digest(struct ais_snode *n)
{
    n->id_digest = ais_hrw_digest(n->id, strlen(n->id));
}

int
ais_smap_put_node(struct ais_smap *m, const struct ais_snode *n)
{
    size_t i = 0;
    while (i < m->nnodes && strcmp(m->nodes[i].id, n->id) < 0) {
        i++;
    }
    if (i < m->nnodes && strcmp(m->nodes[i].id, n->id) == 0) {
        m->nodes[i] = *n;
        return 0;
    }
    if (m->nnodes >= AIS_NODES_MAX) {
        return -ENOSPC;
    }
    struct ais_snode *nodes = realloc(m->nodes, (m->nnodes + 1) * sizeof(*nodes));
    if (nodes == NULL) {
        return -ENOMEM;
    }
    memmove(&nodes[i + 1], &nodes[i], (m->nnodes - i) * sizeof(*nodes));
    nodes[i] = *n;
    m->nodes = nodes;
    m->nnodes++;
    return 0;
}

int
ais_smap_del_node(struct ais_smap *m, const char *id)
{
    for (size_t i = 0; i < m->nnodes; i++) {
        if (strcmp(m->nodes[i].id, id) == 0) {
            memmove(&m->nodes[i], &m->nodes[i + 1], (m->nnodes - i - 1) * sizeof(*m->nodes));
            m->nnodes--;
            return 0;
        }
    }
    return -ENOENT;
}

const struct ais_snode *
ais_smap_find(const struct ais_smap *m, const char *id)
{
    for (size_t i = 0; m != NULL && i < m->nnodes; i++) {
        if (strcmp(m->nodes[i].id, id) == 0) {
            return &m->nodes[i];
        }
    }
    return NULL;
}

size_t
ais_smap_count(const struct ais_smap *m, int targets)
{
    size_t n = 0;
    for (size_t i = 0; m != NULL && i < m->nnodes; i++) {
        n += (m->nodes[i].is_target != 0) == (targets != 0);
    }
    return n;
}

const struct ais_snode *
ais_smap_hrw_target(const struct ais_smap *m, uint64_t digest)
{
    const struct ais_snode *best = NULL;
    uint64_t best_score = 0;
    for (size_t i = 0; m != NULL && i < m->nnodes; i++) {
        const struct ais_snode *n = &m->nodes[i];
        if (!n->is_target || (n->flags & (AIS_SNODE_MAINTENANCE | AIS_SNODE_DECOMMISSION))) {
            continue;
        }
        uint64_t s = ais_hrw_mix(n->id_digest ^ digest);
        if (best == NULL || s >= best_score) {
            best = n;
            best_score = s;
        }
    }
    return best;
}

void
ais_snode_url(const struct ais_snode *n, char *out, size_t cap)
{
    snprintf(out, cap, "http://%s:%u", n->host, (unsigned)n->port);
}

const char *
ais_snode_intra_host(const struct ais_snode *n)
{
    return n->ctrl_host[0] != '\0' ? n->ctrl_host : n->host;
}

void
ais_snode_ctrl_url(const struct ais_snode *n, char *out, size_t cap)
{
    snprintf(out, cap, "tcp://%s:%u", ais_snode_intra_host(n), (unsigned)n->ctrl_port);
}

static json_t *
net_json(const char *host, uint16_t port)
{
    char url[128];
    char p[8];
    snprintf(p, sizeof(p), "%u", (unsigned)port);
    snprintf(url, sizeof(url), "http://%s:%u", host, (unsigned)port);
    return json_pack("{s:s, s:s, s:s}", "node_ip_addr", host, "daemon_port", p, "direct_url", url);
}

json_t *
ais_snode_to_json(const struct ais_snode *n)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:I, s:o, s:i}", "daemon_id", n->id, "daemon_type",
                     n->is_target ? "target" : "proxy", "public_net", net_json(n->host, n->port),
                     "intra_control_net", net_json(ais_snode_intra_host(n), n->ctrl_port),
                     "intra_data_net", net_json(n->host, n->port), "flags", (json_int_t)n->flags,
                     "id_digest", ais_json_u64(n->id_digest), "ctrl_port", (int)n->ctrl_port);
}

static void
strip_digests(json_t *map)
{
    const char *key;
    json_t *val;
    json_object_foreach(map, key, val)
    {
        json_object_del(val, "id_digest");
    }
}

json_t *
ais_smap_to_json(const struct ais_smap *m)
{
    json_t *tmap = json_object();
    json_t *pmap = json_object();
    json_t *primary = json_null();
    char ver[24];
    for (size_t i = 0; i < m->nnodes; i++) {
        const struct ais_snode *n = &m->nodes[i];
        json_object_set_new(n->is_target ? tmap : pmap, n->id, ais_snode_to_json(n));
        if (strcmp(n->id, m->primary_id) == 0) {
            json_decref(primary);
            primary = ais_snode_to_json(n);
        }
    }
    snprintf(ver, sizeof(ver), "%lld", (long long)m->version);
    return json_pack("{s:o, s:o, s:o, s:s, s:s, s:s}", "tmap", tmap, "pmap", pmap, "proxy_si",
                     primary, "version", ver, "uuid", m->uuid, "creation_time", m->creation_time);
}

static int
snode_from_json(const json_t *j, struct ais_snode *n)
{
    const char *id = NULL, *type = NULL, *host = NULL, *port = NULL, *intra = NULL;
    json_int_t flags = 0, ctrl = 0;
    if (json_unpack((json_t *)j, "{s:s, s:s, s:{s:s, s:s}, s?{s?s}, s?I, s:I}", "daemon_id", &id,
                    "daemon_type", &type, "public_net", "node_ip_addr", &host, "daemon_port", &port,
                    "intra_control_net", "node_ip_addr", &intra, "flags", &flags, "ctrl_port",
                    &ctrl) != 0) {
        return AIS_EBADJSON;
    }
    memset(n, 0, sizeof(*n));
    if (strlen(id) >= sizeof(n->id) || strlen(host) >= sizeof(n->host) ||
        (intra != NULL && strlen(intra) >= sizeof(n->ctrl_host))) {
        return AIS_EBADJSON;
    }
    strcpy(n->id, id);
    strcpy(n->host, host);
    if (intra != NULL && strcmp(intra, host) != 0) {
        strcpy(n->ctrl_host, intra);
    }
    n->is_target = strcmp(type, "target") == 0;
    n->port = (uint16_t)atoi(port);
    n->ctrl_port = (uint16_t)ctrl;
    n->flags = (uint64_t)flags;
    ais_snode_init_digest(n);
    return 0;
}

static int
nodes_from_json(const json_t *map, struct ais_smap *m)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)map, key, val)
    {
        struct ais_snode n;
        int err = snode_from_json(val, &n);
        if (err == 0) {
            err = ais_smap_put_node(m, &n);
        }
        if (err != 0) {
            return err;
        }
    }
    return 0;
}

int
ais_smap_from_json(const json_t *j, struct ais_smap **out)
{
    const char *ver = NULL, *uuid = NULL, *ctime = NULL;
    json_t *tmap = NULL, *pmap = NULL, *psi = NULL;
    if (json_unpack((json_t *)j, "{s:o, s:o, s:o, s:s, s:s, s:s}", "tmap", &tmap, "pmap", &pmap,
                    "proxy_si", &psi, "version", &ver, "uuid", &uuid, "creation_time",
                    &ctime) != 0) {
        return AIS_EBADJSON;
    }
    struct ais_smap *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return -ENOMEM;
    }
    m->refs = 1;
    m->version = strtoll(ver, NULL, 10);
    snprintf(m->uuid, sizeof(m->uuid), "%s", uuid);
    snprintf(m->creation_time, sizeof(m->creation_time), "%s", ctime);
    const char *pid = json_string_value(json_object_get(psi, "daemon_id"));
    snprintf(m->primary_id, sizeof(m->primary_id), "%s", pid ? pid : "");
    int err = nodes_from_json(tmap, m);
    if (err == 0) {
        err = nodes_from_json(pmap, m);
    }
    if (err != 0) {
        ais_smap_unref(m);
        return err;
    }
    *out = m;
    return 0;
}

int
ais_smap_save(const struct ais_smap *m, const char *path)
{
    /* Digests are derived from ids; jansson cannot read back uint64 values above INT64_MAX. */
    json_t *j = ais_smap_to_json(m);
    if (j != NULL) {
        strip_digests(json_object_get(j, "tmap"));
        strip_digests(json_object_get(j, "pmap"));
        json_object_del(json_object_get(j, "proxy_si"), "id_digest");
    }
    int err = ais_json_save_file(path, j);
    json_decref(j);
    return err;
}

int
ais_smap_load(const char *path, struct ais_smap **out)
{
    json_t *j = NULL;
    int err = ais_json_load_file(path, AIS_RPC_MSG_BYTES_MAX, &j);
    if (err == 0) {
        err = ais_smap_from_json(j, out);
        json_decref(j);
    }
    return err;
}
