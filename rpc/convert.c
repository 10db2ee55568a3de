/*
 * Design notes: conversions copy everything, so protobuf trees never outlive a call and domain
 * objects never point into protobuf memory. Strings from the wire are length-checked against
 * the fixed-size fields of the domain structs; anything too long is a malformed message.
 */
#include "common/err.h"
#include "rpc/rpc_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int
copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) {
        return AIS_EBADMSG;
    }
    memcpy(dst, src ? src : "", n + 1);
    return 0;
}

Aisproto__Smap *
rpc_smap_to_pb(const struct ais_smap *m)
{
    /* One block: the pointer array followed by the nodes it points to. */
    size_t cnt = m->nnodes ? m->nnodes : 1;
    Aisproto__Smap *p = calloc(1, sizeof(*p));
    Aisproto__Snode **ptrs = calloc(1, cnt * (sizeof(*ptrs) + sizeof(Aisproto__Snode)));
    if (p == NULL || ptrs == NULL) {
        free(p);
        free(ptrs);
        return NULL;
    }
    Aisproto__Snode *nodes = (Aisproto__Snode *)(ptrs + cnt);
    aisproto__smap__init(p);
    p->version = m->version;
    p->uuid = (char *)m->uuid;
    p->creation_time = (char *)m->creation_time;
    p->primary_id = (char *)m->primary_id;
    for (size_t i = 0; i < m->nnodes; i++) {
        const struct ais_snode *n = &m->nodes[i];
        aisproto__snode__init(&nodes[i]);
        nodes[i].id = (char *)n->id;
        nodes[i].is_target = n->is_target;
        nodes[i].host = (char *)n->host;
        nodes[i].ctrl_host = (char *)n->ctrl_host;
        nodes[i].port = n->port;
        nodes[i].ctrl_port = n->ctrl_port;
        nodes[i].flags = n->flags;
        ptrs[i] = &nodes[i];
    }
    p->n_nodes = m->nnodes;
    p->nodes = ptrs;
    return p;
}

void
rpc_smap_pb_free(Aisproto__Smap *p)
{
    if (p == NULL) {
        return;
    }
    free(p->nodes);
    free(p);
}

int
rpc_smap_from_pb(const Aisproto__Smap *p, struct ais_smap **out)
{
    struct ais_smap *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return -ENOMEM;
    }
    m->refs = 1;
    m->version = p->version;
    int err = copy_str(m->uuid, sizeof(m->uuid), p->uuid);
    err = err ? err : copy_str(m->creation_time, sizeof(m->creation_time), p->creation_time);
    err = err ? err : copy_str(m->primary_id, sizeof(m->primary_id), p->primary_id);
    if (err == 0 && p->n_nodes > AIS_NODES_MAX) {
        err = AIS_EBADMSG;
    }
    for (size_t i = 0; err == 0 && i < p->n_nodes; i++) {
        const Aisproto__Snode *s = p->nodes[i];
        struct ais_snode n;
        memset(&n, 0, sizeof(n));
        err = copy_str(n.id, sizeof(n.id), s->id);
        err = err ? err : copy_str(n.host, sizeof(n.host), s->host);
        err = err ? err : copy_str(n.ctrl_host, sizeof(n.ctrl_host), s->ctrl_host);
        if (err == 0 && (s->port > 65535 || s->ctrl_port > 65535 || n.id[0] == '\0')) {
            err = AIS_EBADMSG;
        }
        if (err == 0) {
            n.is_target = s->is_target;
            n.port = (uint16_t)s->port;
            n.ctrl_port = (uint16_t)s->ctrl_port;
            n.flags = s->flags;
            ais_snode_init_digest(&n);
            err = ais_smap_put_node(m, &n);
        }
    }
    if (err != 0) {
        ais_smap_unref(m);
        return err;
    }
    *out = m;
    return 0;
}

Aisproto__Bmd *
rpc_bmd_to_pb(const struct ais_bmd *b)
{
    size_t cnt = b->n ? b->n : 1;
    Aisproto__Bmd *p = calloc(1, sizeof(*p));
    Aisproto__Bck **ptrs = calloc(1, cnt * (sizeof(*ptrs) + sizeof(Aisproto__Bck)));
    if (p == NULL || ptrs == NULL) {
        free(p);
        free(ptrs);
        return NULL;
    }
    Aisproto__Bck *bcks = (Aisproto__Bck *)(ptrs + cnt);
    aisproto__bmd__init(p);
    p->version = b->version;
    p->uuid = (char *)b->uuid;
    for (size_t i = 0; i < b->n; i++) {
        const struct ais_bck_md *k = &b->bcks[i];
        aisproto__bck__init(&bcks[i]);
        bcks[i].name = (char *)k->name;
        bcks[i].provider = (char *)k->provider;
        bcks[i].ns = (char *)k->ns;
        bcks[i].bid = k->bid;
        bcks[i].created = k->created_ns;
        bcks[i].props_json = k->props_json;
        ptrs[i] = &bcks[i];
    }
    p->n_bcks = b->n;
    p->bcks = ptrs;
    return p;
}

void
rpc_bmd_pb_free(Aisproto__Bmd *p)
{
    if (p == NULL) {
        return;
    }
    free(p->bcks);
    free(p);
}

int
rpc_bmd_from_pb(const Aisproto__Bmd *p, struct ais_bmd **out)
{
    struct ais_bmd *b = ais_bmd_new();
    if (b == NULL) {
        return -ENOMEM;
    }
    b->version = p->version;
    int err = copy_str(b->uuid, sizeof(b->uuid), p->uuid);
    if (err == 0 && p->n_bcks > AIS_BUCKETS_MAX) {
        err = AIS_EBADMSG;
    }
    for (size_t i = 0; err == 0 && i < p->n_bcks; i++) {
        const Aisproto__Bck *s = p->bcks[i];
        struct ais_bck_md k;
        memset(&k, 0, sizeof(k));
        err = copy_str(k.name, sizeof(k.name), s->name);
        err = err ? err : copy_str(k.provider, sizeof(k.provider), s->provider);
        err = err ? err : copy_str(k.ns, sizeof(k.ns), s->ns);
        if (err == 0 && strlen(s->props_json) > AIS_BPROPS_BYTES_MAX) {
            err = AIS_EBADMSG;
        }
        if (err == 0) {
            k.bid = s->bid;
            k.created_ns = s->created;
            err = ais_bmd_put_raw(b, &k, s->props_json);
        }
    }
    if (err != 0) {
        ais_bmd_unref(b);
        return err;
    }
    *out = b;
    return 0;
}

int
rpc_smap_pack(const struct ais_smap *m, uint8_t **buf, size_t *len)
{
    Aisproto__Smap *p = rpc_smap_to_pb(m);
    if (p == NULL) {
        return -ENOMEM;
    }
    size_t n = aisproto__smap__get_packed_size(p);
    uint8_t *b = malloc(n ? n : 1);
    if (b == NULL) {
        rpc_smap_pb_free(p);
        return -ENOMEM;
    }
    aisproto__smap__pack(p, b);
    rpc_smap_pb_free(p);
    *buf = b;
    *len = n;
    return 0;
}

int
rpc_smap_unpack(const uint8_t *buf, size_t len, struct ais_smap **out)
{
    Aisproto__Smap *p = aisproto__smap__unpack(NULL, len, buf);
    if (p == NULL) {
        return AIS_EBADMSG;
    }
    int err = rpc_smap_from_pb(p, out);
    aisproto__smap__free_unpacked(p, NULL);
    return err;
}

int
rpc_bmd_pack(const struct ais_bmd *b, uint8_t **buf, size_t *len)
{
    Aisproto__Bmd *p = rpc_bmd_to_pb(b);
    if (p == NULL) {
        return -ENOMEM;
    }
    size_t n = aisproto__bmd__get_packed_size(p);
    uint8_t *d = malloc(n ? n : 1);
    if (d == NULL) {
        rpc_bmd_pb_free(p);
        return -ENOMEM;
    }
    aisproto__bmd__pack(p, d);
    rpc_bmd_pb_free(p);
    *buf = d;
    *len = n;
    return 0;
}

int
rpc_bmd_unpack(const uint8_t *buf, size_t len, struct ais_bmd **out)
{
    Aisproto__Bmd *p = aisproto__bmd__unpack(NULL, len, buf);
    if (p == NULL) {
        return AIS_EBADMSG;
    }
    int err = rpc_bmd_from_pb(p, out);
    aisproto__bmd__free_unpacked(p, NULL);
    return err;
}
