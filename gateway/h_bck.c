/*
 * Design notes: bucket-level requests are executed by the gateway, never redirected. Changes
 * to the BMD go to the primary (forwarded over RPC by other gateways). Listing merges one page
 * from every target: each returns its `limit` smallest names after the token, the gateway keeps
 * the overall `limit` smallest, and the last of them becomes the next token, so pages are in
 * global name order and no object is skipped or repeated.
 *
 * ActMsg dispatch is one table, bck_actions[]: action name, allowed methods, flags and either a
 * BMD operation (rows that change the BMD, executed by the primary, forwarded to it over RPC by
 * other gateways) or a handler. The primary's BMD change and the HTTP dispatch both look the
 * action up there, so adding an action is one row.
 */
#include "common/err.h"
#include "common/hrw.h"
#include "common/json.h"
#include "common/log.h"
#include "common/names.h"
#include "common/objref.h"
#include "common/util.h"
#include "gateway/election.h"
#include "gateway/fanout.h"
#include "gateway/gw_int.h"
#include "gateway/lsess.h"
#include "gateway/metasync.h"

#include <errno.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum bck_op { BCK_OP_NONE, BCK_OP_ADD, BCK_OP_DEL, BCK_OP_SET, BCK_OP_RESET };

#define BCK_F_PRIMARY 0x1u /* changes the BMD: run by the primary (gw_bck_change forwards) */
#define BCK_F_EXISTS 0x2u  /* 404 unless the bucket is in the BMD (remote: or at its backend) */
#define BCK_F_REMOTE 0x4u  /* remote buckets only (400 for ais://) */

typedef void (*bck_action_fn)(struct gw *g, struct ais_req *r, const struct ais_objref *ref,
                              const json_t *value);

struct bck_action {
    const char *name;
    unsigned methods; /* AIS_M_* */
    unsigned flags;   /* BCK_F_* */
    enum bck_op op;   /* BCK_F_PRIMARY rows */
    bck_action_fn fn; /* the other rows */
};

static void list_objects(struct gw *g, struct ais_req *r, const struct ais_objref *ref,
                         const json_t *val);
static void delete_listrange(struct gw *g, struct ais_req *r, const struct ais_objref *ref,
                             const json_t *v);
static void evict_listrange(struct gw *g, struct ais_req *r, const struct ais_objref *ref,
                            const json_t *v);
static void prefetch_listrange(struct gw *g, struct ais_req *r, const struct ais_objref *ref,
                               const json_t *v);
static int bucket_exists(struct gw *g, const struct ais_objref *ref);
static void copy_bck(struct gw *g, struct ais_req *r, const struct ais_objref *ref,
                     const json_t *v);
static void copy_listrange(struct gw *g, struct ais_req *r, const struct ais_objref *ref,
                           const json_t *v);
static void evict_remote_bck(struct gw *g, struct ais_req *r, const struct ais_objref *ref,
                             const json_t *v);

/* Bucket ActMsg actions: CUR names, then 2020 ones. */
static const struct bck_action bck_actions[] = {
    {"list", AIS_M_GET, BCK_F_EXISTS, BCK_OP_NONE, list_objects},
    {"delete-listrange", AIS_M_DELETE, BCK_F_EXISTS, BCK_OP_NONE, delete_listrange},
    {"evict-listrange", AIS_M_DELETE, BCK_F_EXISTS | BCK_F_REMOTE, BCK_OP_NONE, evict_listrange},
    {"prefetch-listrange", AIS_M_POST, BCK_F_EXISTS | BCK_F_REMOTE, BCK_OP_NONE,
     prefetch_listrange},
    {"copy-bck", AIS_M_POST, BCK_F_EXISTS, BCK_OP_NONE, copy_bck},
    {"copy-listrange", AIS_M_POST, BCK_F_EXISTS, BCK_OP_NONE, copy_listrange},
    {"archive", AIS_M_PUT, BCK_F_EXISTS, BCK_OP_NONE, gw_archive_bck}, /* h_arch.c */
    {"evict-remote-bck", AIS_M_DELETE, BCK_F_EXISTS | BCK_F_REMOTE, BCK_OP_NONE, evict_remote_bck},
    {"add-remote-bck", 0, BCK_F_PRIMARY, BCK_OP_ADD, NULL}, /* internal: gw_bck_resolve */
    {"create-bck", AIS_M_POST, BCK_F_PRIMARY, BCK_OP_ADD, NULL},
    {"destroy-bck", AIS_M_DELETE, BCK_F_PRIMARY, BCK_OP_DEL, NULL},
    {"set-bprops", AIS_M_PATCH, BCK_F_PRIMARY, BCK_OP_SET, NULL},
    {"reset-bprops", AIS_M_PATCH, BCK_F_PRIMARY, BCK_OP_RESET, NULL},
    {"createlb", AIS_M_POST, BCK_F_PRIMARY, BCK_OP_ADD, NULL},
    {"destroylb", AIS_M_DELETE, BCK_F_PRIMARY, BCK_OP_DEL, NULL},
    {"setprops", AIS_M_PUT | AIS_M_PATCH, BCK_F_PRIMARY, BCK_OP_SET, NULL},
};

/* What an ActMsg without an action means, by method. A POST always names its action (AIS
 * does too): an empty body never creates a bucket. */
static const struct {
    unsigned method;
    const char *action;
} bck_defaults[] = {
    {AIS_M_GET, "list"},
    {AIS_M_DELETE, "destroy-bck"},
};

/*
 * Services and backends that do not exist yet, refused here (the one place) so that a request
 * never answers 200 for a setting that does nothing. Remove a line when its service lands:
 * remote buckets need no create (aws, gcp: added on first use); ht:// ones are created with
 * their origin; azure and oci have no backend yet.
 */
static const char *
bck_not_implemented(const struct ais_objref *ref, enum bck_op op, const json_t *value)
{
    (void)value;
    if (op == BCK_OP_ADD && bk_provider_remote(ref->provider) && strcmp(ref->provider, "ht")) {
        return "remote buckets need no create: the first request to one adds it (it must exist "
               "at its backend)";
    }
    if (op == BCK_OP_ADD && strcmp(ref->provider, "ais") != 0 && strcmp(ref->provider, "ht")) {
        return "this provider is not implemented: buckets are ais://, s3:// (aws), gs:// (gcp) or "
               "ht:// (an HTTP(S) origin)";
    }
    return NULL;
}

static _Thread_local char ec_why[192];

/*
 * Erasure coding (target/ec.c) on the props a change would publish: not together with
 * mirroring, and only with enough active targets for the main copy plus every slice (AIS:
 * data_slices + parity_slices + 1; parity_slices + 1 when ec.objsize_limit is -1). Checked when
 * the change touches ec or mirror, so a cluster that shrank does not block unrelated props.
 * 0, or -EINVAL with *why.
 */
static int
bck_ec_check(struct gw *g, const struct ais_bmd *next, const char *provider, const char *ns,
             const char *bck, const json_t *value, const char **why)
{
    const struct ais_bck_md *k = ais_bmd_find(next, provider, ns, bck);
    int touched = json_is_object(value) && (json_object_get(value, "ec") != NULL ||
                                            json_object_get(value, "mirror") != NULL);
    if (k == NULL || !k->props.ec_enabled || !touched) {
        return 0;
    }
    if (ais_bprops_copies(&k->props) > 1) {
        *why = "erasure coding and mirroring cannot both be enabled on one bucket (set "
               "mirror.enabled=false or ec.enabled=false)";
        return -EINVAL;
    }
    const struct ais_bprops *p = &k->props;
    size_t need = 1 + (size_t)p->ec_parity + (p->ec_objsize_limit == -1 ? 0 : (size_t)p->ec_data);
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    size_t have = 0;
    for (size_t i = 0; i < smap->nnodes; i++) {
        const struct ais_snode *n = &smap->nodes[i];
        have += n->is_target && !(n->flags & (AIS_SNODE_MAINTENANCE | AIS_SNODE_DECOMMISSION));
    }
    ais_smap_unref(smap);
    if (have >= need) {
        return 0;
    }
    snprintf(ec_why, sizeof(ec_why),
             "erasure coding %d+%d needs at least %zu targets (data_slices + parity_slices + 1), "
             "the cluster has %zu",
             p->ec_data, p->ec_parity, need, have);
    *why = ec_why;
    return -EINVAL;
}

static const struct bck_action *
bck_action_find(const char *name)
{
    for (size_t i = 0; i < sizeof(bck_actions) / sizeof(bck_actions[0]); i++) {
        if (strcmp(bck_actions[i].name, name) == 0) {
            return &bck_actions[i];
        }
    }
    return NULL;
}

static int
bmd_op_apply(struct gw *g, enum bck_op op, struct ais_bmd *next, const char *provider,
             const char *ns, const char *bck, const json_t *value, const char **why)
{
    switch (op) {
    case BCK_OP_ADD:
        return ais_bmd_add(next, provider, ns, bck, g->cfg->cksum_type, value, why);
    case BCK_OP_DEL:
        return ais_bmd_del(next, provider, ns, bck);
    case BCK_OP_SET:
    case BCK_OP_RESET:
        return ais_bmd_set_props(next, provider, ns, bck, value, op == BCK_OP_RESET,
                                 g->cfg->cksum_type, why);
    case BCK_OP_NONE:
        break;
    }
    return -ENOTSUP;
}

static int
bmd_change(struct gw *g, const char *action, const char *provider, const char *ns, const char *bck,
           const json_t *value, char *msg, size_t cap)
{
    const char *why = "";
    char disp[256];
    struct gw_msync_ticket t;
    ais_bck_display(provider, ns, bck, disp, sizeof(disp));
    if (gw_change_lock(g) != 0) {
        return AIS_ENOTPRIMARY; /* the role moved on: gw_bck_change forwards */
    }
    struct ais_bmd *cur = ais_meta_bmd(&g->meta);
    struct ais_bmd *next = ais_bmd_clone(cur);
    const struct bck_action *a = bck_action_find(action);
    enum bck_op op = (a != NULL && (a->flags & BCK_F_PRIMARY)) ? a->op : BCK_OP_NONE;
    int rc = next ? bmd_op_apply(g, op, next, provider, ns, bck, value, &why) : -ENOMEM;
    rc = rc ? rc : bck_ec_check(g, next, provider, ns, bck, value, &why);
    if (rc == 0) {
        next->version = cur->version + 1;
        AIS_LOG_INFO("req=%s bck=%s bmd_version=%lld", action, disp, (long long)next->version);
        rc = gw_msync_commit(g->msync, NULL, next, 0, &t); /* no I/O under change_mu */
        next = NULL;
    }
    ais_bmd_unref(next);
    ais_bmd_unref(cur);
    pthread_mutex_unlock(&g->change_mu);
    if (rc == -EEXIST) {
        snprintf(msg, cap, "bucket \"%s\" already exists", disp);
    } else if (rc == -ENOENT) {
        snprintf(msg, cap, "bucket \"%s\" does not exist", disp);
    } else if (rc == -ENOTSUP) {
        snprintf(msg, cap, "action \"%s\" is not supported on bucket \"%s\"", action, disp);
    } else if (rc != 0) {
        snprintf(msg, cap, "bucket \"%s\": %s", disp, why[0] ? why : ais_strerror(rc));
    }
    if (rc == 0) {
        rc = gw_msync_wait(g->msync, &t, msg, cap); /* 200 only once every node acked */
    }
    return rc;
}

int
gw_bck_change(struct gw *g, const char *action, const char *provider, const char *ns,
              const char *bck, const json_t *value, char *msg, size_t cap)
{
    if (gw_is_primary(g)) {
        int rc = bmd_change(g, action, provider, ns, bck, value, msg, cap);
        if (rc != AIS_ENOTPRIMARY) {
            return rc;
        }
    }
    /* To the primary of the current Smap, waiting through an election (gateway/election.c). */
    char *v = value ? ais_json_dumps(value) : NULL;
    int64_t to_ms = gw_msync_wait_ms(g) + g->cfg->rpc_timeout_ms; /* the primary waits for acks */
    int rc = gw_primary_forward(g, action, provider, ns, bck, v ? v : "", to_ms, msg, cap);
    free(v);
    return rc;
}

static int
status_of(int rc)
{
    return rc == -ENOTSUP ? 400 : ais_http_status(rc);
}

static void
list_buckets(struct gw *g, struct ais_req *r)
{
    const char *q = ais_req_query(r, "provider");
    const char *prov = (q != NULL && q[0] != '\0') ? ais_provider_norm(q) : NULL;
    if (q != NULL && q[0] != '\0' && prov == NULL) {
        ais_resp_err(r, 400, "invalid provider \"%s\"", q);
        return;
    }
    struct ais_bmd *b = ais_meta_bmd(&g->meta);
    json_t *arr = json_array();
    for (size_t i = 0; i < b->n; i++) {
        if (prov == NULL || strcmp(prov, b->bcks[i].provider) == 0) {
            json_array_append_new(arr, ais_bck_to_json(&b->bcks[i]));
        }
    }
    ais_bmd_unref(b);
    ais_resp_json(r, 200, arr);
    json_decref(arr);
}

struct lso {
    const char *prefix, *token, *uuid, *props;
    uint32_t limit;
    uint64_t flags; /* LsoMsg flags (bit 0: cached objects only, bit 3: arch-dir) */
};

#define LSO_CACHED 1u   /* AIS apc.LsCached */
#define LSO_ARCH_DIR 8u /* AIS apc.LsArchDir: shards' members listed as "<shard>/<member>" */

struct list_slot {
    const struct ais_objref *ref;
    const struct lso *q;
    const char *after;
    uint32_t limit; /* 0: this target has enough buffered (or nothing more): not asked */
    int with_md;
    struct rpc_list_page page;
    int rc;
    struct rpc_err err;
};

static void
list_node(struct gw *g, const struct ais_snode *n, void *slot)
{
    struct list_slot *s = slot;
    char url[128];
    if (s->limit == 0) {
        return;
    }
    struct rpc_list_req req = {
        .provider = s->ref->provider,
        .ns = s->ref->ns,
        .bck = s->ref->bck,
        .prefix = s->q->prefix,
        .after = s->after,
        .limit = s->limit,
        .with_md = s->with_md,
        .arch = (s->q->flags & LSO_ARCH_DIR) != 0,
    };
    ais_snode_ctrl_url(n, url, sizeof(url));
    s->rc = rpc_list(url, (int)g->cfg->rpc_timeout_ms, &req, &s->page, &s->err);
}

static int
has_prop(const char *props, const char *p)
{
    size_t n = strlen(p);
    for (const char *s = props; s && *s;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == n && strncmp(s, p, n) == 0) {
            return 1;
        }
        s = e ? e + 1 : NULL;
    }
    return 0;
}

static void
fmt_atime(int64_t ns, char *out, size_t cap)
{
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%d %b %Y %H:%M UTC", &tm);
}

static void
mp_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void
mp_entry(msgpack_packer *pk, const struct rpc_list_entry *e, const char *props)
{
    int cs = has_prop(props, "checksum") && e->cksum_value != NULL;
    int at = has_prop(props, "atime") && (e->flags & 128u) == 0; /* members have no atime */
    int ver = has_prop(props, "version") && e->version != NULL;
    char atime[48];
    msgpack_pack_map(pk, (size_t)(4 + cs + at + ver));
    mp_str(pk, "n");
    mp_str(pk, e->name);
    mp_str(pk, "s");
    msgpack_pack_int64(pk, (int64_t)e->size);
    mp_str(pk, "c");
    msgpack_pack_int(pk, 1);
    mp_str(pk, "f");
    /* 1 << 6: cached (AIS EntryIsCached); the targets' 128 in-archive, 512 is-archive */
    msgpack_pack_int(pk, (int)((e->not_cached ? 0u : 64u) | e->flags));
    if (cs) {
        mp_str(pk, "cs");
        mp_str(pk, e->cksum_value);
    }
    if (at) {
        fmt_atime(e->atime_ns, atime, sizeof(atime));
        mp_str(pk, "a");
        mp_str(pk, atime);
    }
    if (ver) {
        mp_str(pk, "v");
        mp_str(pk, e->version);
    }
}

static void
reply_msgpack(struct ais_req *r, struct rpc_list_entry **v, size_t n, const char *uuid,
              const char *token, const char *props)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    mp_str(&pk, "UUID");
    mp_str(&pk, uuid);
    mp_str(&pk, "ContinuationToken");
    mp_str(&pk, token);
    mp_str(&pk, "Entries");
    msgpack_pack_array(&pk, n);
    for (size_t i = 0; i < n; i++) {
        mp_entry(&pk, v[i], props);
    }
    mp_str(&pk, "Flags");
    msgpack_pack_uint32(&pk, 0);
    ais_resp_buf(r, 200, "application/msgpack", sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
}

static void
reply_json(struct ais_req *r, struct rpc_list_entry **v, size_t n, const char *uuid,
           const char *token, const char *props)
{
    json_t *arr = json_array();
    char buf[48];
    for (size_t i = 0; i < n; i++) {
        const struct rpc_list_entry *e = v[i];
        json_t *o = json_pack("{s:s, s:i, s:i}", "name", e->name, "copies", 1, "flags",
                              (int)((e->not_cached ? 0u : 64u) | e->flags));
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)e->size);
        json_object_set_new(o, "size", json_string(buf));
        if (has_prop(props, "checksum") && e->cksum_value) {
            json_object_set_new(o, "checksum", json_string(e->cksum_value));
        }
        if (has_prop(props, "atime") && (e->flags & 128u) == 0) {
            fmt_atime(e->atime_ns, buf, sizeof(buf));
            json_object_set_new(o, "atime", json_string(buf));
        }
        if (has_prop(props, "version") && e->version) {
            json_object_set_new(o, "version", json_string(e->version));
        }
        json_array_append_new(arr, o);
    }
    json_t *j = json_pack("{s:s, s:s, s:o, s:i}", "uuid", uuid, "continuation_token", token,
                          "entries", arr, "flags", 0);
    ais_resp_json(r, 200, j);
    json_decref(j);
}

/* Replies with the merged names v[0..n) (more: a continuation token follows). */
static void
list_reply(struct ais_req *r, struct rpc_list_entry **v, size_t n, int more, const struct lso *q)
{
    const char *token = (more && n > 0) ? v[n - 1]->name : "";
    const char *props = (q->props && q->props[0]) ? q->props : "name,size";
    const char *accept = ais_req_header(r, "Accept");
    if (accept != NULL && strstr(accept, "msgpack") != NULL) {
        reply_msgpack(r, v, n, q->uuid, token, props);
    } else {
        reply_json(r, v, n, q->uuid, token, props);
    }
}

static int
lso_parse(const json_t *val, struct lso *q, char *uuid, size_t ucap)
{
    json_t *ps = ais_json_get_ci(val, "pagesize");
    json_int_t pagesize = json_is_integer(ps) ? json_integer_value(ps) : 0;
    if (json_is_string(ps)) {
        pagesize = strtoll(json_string_value(ps), NULL, 10);
    }
    if (pagesize < 0) {
        return -EINVAL;
    }
    q->limit = (pagesize == 0 || pagesize > AIS_LIST_PAGE_MAX) ? AIS_LIST_PAGE_DEFAULT
                                                               : (uint32_t)pagesize;
    q->prefix = ais_json_str(val, "prefix", "");
    q->token = ais_json_str(val, "continuation_token", "");
    q->props = ais_json_str(val, "props", "");
    const json_t *fl = ais_json_get_ci(val, "flags");
    q->flags = json_is_integer(fl)  ? (uint64_t)json_integer_value(fl)
               : json_is_string(fl) ? strtoull(json_string_value(fl), NULL, 10)
                                    : 0;
    const char *sa = ais_json_str(val, "start_after", "");
    if (strcmp(sa, q->token) > 0) {
        q->token = sa;
    }
    const char *u = ais_json_str(val, "uuid", "");
    if (u[0] == '\0') {
        uuid[0] = 'L';
        ais_rand_id(uuid + 1, 11);
    } else {
        snprintf(uuid, ucap, "%s", u);
    }
    q->uuid = uuid;
    return 0;
}

/* Only names asked for: the targets need not read each object's metadata. */
static int
needs_md(const char *props)
{
    return props == NULL || props[0] == '\0' || strcmp(props, "name") != 0;
}

/*
 * Tops up the session's targets that hold fewer than q->limit unreturned names (asking each
 * only for the difference, after the last name it sent), in parallel. 0 or the first error.
 */
static int
list_fetch(struct gw *g, const struct ais_smap *smap, struct gw_lsess *ls,
           const struct ais_objref *ref, const struct lso *q, struct list_slot *slots, size_t nt,
           size_t *failed)
{
    for (size_t i = 0; i < nt; i++) {
        struct gw_lsess_tgt *x = gw_lsess_tgt(ls, i);
        size_t have = x->buf.n - x->pos;
        slots[i] = (struct list_slot){.ref = ref, .q = q, .with_md = needs_md(q->props)};
        if (x->more && have < q->limit) {
            slots[i].limit = (uint32_t)(q->limit - have);
            slots[i].after = x->last ? x->last : q->token;
        }
    }
    gw_fanout(g, smap, 1, list_node, slots, sizeof(*slots));
    int rc = 0;
    for (size_t i = 0; i < nt; i++) {
        if (rc == 0 && slots[i].rc != 0) {
            rc = slots[i].rc;
            *failed = i;
        }
        if (rc == 0 && slots[i].limit > 0) {
            rc = gw_lsess_append(ls, i, &slots[i].page);
        }
        rpc_list_page_fini(&slots[i].page);
    }
    return rc;
}

struct present_slot {
    const struct ais_objref *ref;
    const struct ais_smap *smap;
    const struct bk_page *pg;
    struct rpc_objs_res res;
    int rc;
    struct rpc_err err;
};

/* Asks this target which of the page's names it owns are cached here. */
static void
present_node(struct gw *g, const struct ais_snode *node, void *slot)
{
    struct present_slot *s = slot;
    const char **mine = malloc((s->pg->n ? s->pg->n : 1) * sizeof(*mine));
    size_t n = 0;
    char url[128];
    if (mine == NULL) {
        s->rc = -ENOMEM;
        return;
    }
    for (size_t i = 0; i < s->pg->n; i++) {
        uint64_t d = 0;
        const char *nm = s->pg->v[i].name;
        if (ais_obj_digest(s->ref->provider, s->ref->ns, s->ref->bck, nm, &d) == 0 &&
            ais_smap_hrw_target(s->smap, d) == node) {
            mine[n++] = nm;
        }
    }
    struct rpc_objs_args a = {.op = "present",
                              .provider = s->ref->provider,
                              .ns = s->ref->ns,
                              .bck = s->ref->bck,
                              .names = mine,
                              .n = n};
    ais_snode_ctrl_url(node, url, sizeof(url));
    if (n > 0) {
        s->rc = rpc_objs_op(url, (int)g->cfg->rpc_timeout_ms, &a, &s->res, &s->err);
    }
    free(mine);
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Marks the page's entries cached by the names the targets reported (sorted for lookup). */
static int
mark_cached(struct present_slot *slots, size_t nt, struct rpc_list_entry *v, size_t n)
{
    size_t total = 0, k = 0;
    for (size_t i = 0; i < nt; i++) {
        total += slots[i].res.nnames;
    }
    const char **have = malloc((total ? total : 1) * sizeof(*have));
    if (have == NULL) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < nt; i++) {
        for (size_t j = 0; j < slots[i].res.nnames; j++) {
            have[k++] = slots[i].res.names[j];
        }
    }
    qsort(have, k, sizeof(*have), name_cmp);
    for (size_t i = 0; i < n; i++) {
        const char *key = v[i].name;
        v[i].not_cached = bsearch(&key, have, k, sizeof(*have), name_cmp) == NULL;
    }
    free(have);
    return 0;
}

/*
 * A remote bucket's listing: the page comes from the backend (complete or an error, never a
 * short page), and every entry says whether it is cached in the cluster (one "present" batch
 * per target for the names it owns).
 */
static void
list_remote(struct gw *g, struct ais_req *r, const struct ais_objref *ref, const struct lso *q)
{
    struct bk_page pg = {0};
    struct bk_err e = {0};
    uint32_t max = q->limit > 1000 ? 1000 : q->limit;
    int rc = bk_list_page(g->bk, ref->provider, ref->bck, q->prefix, q->token, max, &pg, &e);
    if (rc != 0) {
        ais_stats_add(&g->stats, AIS_STAT_ERR_LST_N, 1);
        ais_resp_err(r, e.status ? e.status : 502, "list %s: %s", ref->display, e.msg);
        return;
    }
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    size_t nt = ais_smap_count(smap, 1);
    struct present_slot *slots = calloc(nt ? nt : 1, sizeof(*slots));
    struct rpc_list_entry *ents = calloc(pg.n ? pg.n : 1, sizeof(*ents));
    struct rpc_list_entry **v = calloc(pg.n ? pg.n : 1, sizeof(*v));
    rc = slots && ents && v ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < nt; i++) {
        slots[i] = (struct present_slot){.ref = ref, .smap = smap, .pg = &pg};
    }
    if (rc == 0 && pg.n > 0) {
        gw_fanout(g, smap, 1, present_node, slots, sizeof(*slots));
    }
    for (size_t i = 0; rc == 0 && i < nt; i++) {
        rc = slots[i].rc;
    }
    for (size_t i = 0; rc == 0 && i < pg.n; i++) {
        ents[i] = (struct rpc_list_entry){.name = pg.v[i].name,
                                          .size = pg.v[i].size,
                                          .cksum_type = (char *)"md5",
                                          .cksum_value = pg.v[i].etag,
                                          .version = pg.v[i].etag,
                                          .atime_ns = pg.v[i].mtime_ns};
        v[i] = &ents[i];
    }
    rc = rc == 0 ? mark_cached(slots, nt, ents, pg.n) : rc;
    if (rc != 0) {
        ais_stats_add(&g->stats, AIS_STAT_ERR_LST_N, 1);
        ais_resp_err(r, rc == -ENOMEM ? 500 : 503, "list %s: %s", ref->display,
                     rc == -ENOMEM ? "out of memory" : "a target did not answer");
    } else {
        const char *props = (q->props && q->props[0]) ? q->props : "name,size";
        const char *accept = ais_req_header(r, "Accept");
        if (accept != NULL && strstr(accept, "msgpack") != NULL) {
            reply_msgpack(r, v, pg.n, q->uuid, pg.next, props);
        } else {
            reply_json(r, v, pg.n, q->uuid, pg.next, props);
        }
    }
    for (size_t i = 0; slots != NULL && i < nt; i++) {
        rpc_objs_res_fini(&slots[i].res);
    }
    free(v);
    free(ents);
    free(slots);
    ais_smap_unref(smap);
    bk_page_fini(&pg);
}

static void
list_objects(struct gw *g, struct ais_req *r, const struct ais_objref *ref, const json_t *val)
{
    struct lso q;
    char uuid[64], key[AIS_BCKNAME_BYTES_MAX + AIS_NS_BYTES_MAX + AIS_OBJNAME_BYTES_MAX + 32];
    if (lso_parse(val, &q, uuid, sizeof(uuid)) != 0) {
        ais_resp_err(r, 400, "invalid list-objects message: pagesize must be >= 0");
        return;
    }
    ais_stats_add(&g->stats, AIS_STAT_LST_N, 1);
    /* ht:// origins cannot be listed: their listing is what is cached here. */
    /* arch-dir lists what is in the cluster, as AIS (which sets LsCached with it). */
    if (bk_provider_remote(ref->provider) && strcmp(ref->provider, "ht") != 0 &&
        (q.flags & (LSO_CACHED | LSO_ARCH_DIR)) == 0) {
        list_remote(g, r, ref, &q);
        return;
    }
    snprintf(key, sizeof(key), "%s/%s/%s\n%s\n%d%d", ref->provider, ref->ns, ref->bck, q.prefix,
             needs_md(q.props), (q.flags & LSO_ARCH_DIR) != 0);
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    size_t nt = ais_smap_count(smap, 1), k = 0, failed = 0;
    const char **ids = calloc(nt ? nt : 1, sizeof(*ids));
    struct list_slot *slots = calloc(nt ? nt : 1, sizeof(*slots));
    struct rpc_list_entry **v = calloc(q.limit, sizeof(*v));
    for (size_t i = 0; ids && i < smap->nnodes; i++) {
        if (smap->nodes[i].is_target) {
            ids[k++] = smap->nodes[i].id; /* gw_fanout's order: targets in Smap order */
        }
    }
    struct gw_lsess *ls =
        (ids && slots && v && nt) ? gw_lsess_take(g->lsess, uuid, key, q.token, ids, nt) : NULL;
    int rc = ls ? list_fetch(g, smap, ls, ref, &q, slots, nt, &failed) : -ENOMEM;
    if (nt == 0) {
        ais_resp_err(r, 503, "list %s: no targets in the cluster", ref->display);
    } else if (rc != 0) {
        ais_stats_add(&g->stats, AIS_STAT_ERR_LST_N, 1);
        ais_resp_err(r, rc == -ENOMEM ? 500 : 503, "list %s: %s", ref->display,
                     rc == -ENOMEM ? "out of memory" : slots[failed].err.msg);
    } else {
        int more = 0;
        size_t n = gw_lsess_merge(ls, q.limit, v, &more);
        list_reply(r, v, n, more, &q);
        gw_lsess_give(g->lsess, ls, n ? v[n - 1]->name : "", more);
        ls = NULL;
    }
    if (ls != NULL) {
        gw_lsess_give(g->lsess, ls, "", 0); /* failed: drop the session */
    }
    ais_smap_unref(smap);
    free(v);
    free(slots);
    free(ids);
}

/* Expands one brace range "pre{A..B[..S]}rest" recursively; bounded by cap names. */
int
gw_tmpl_expand(const char *t, json_t *out, size_t cap)
{
    const char *o = strchr(t, '{');
    const char *c = o ? strchr(o, '}') : NULL;
    if (o == NULL || c == NULL) {
        if (json_array_size(out) >= cap) {
            return -E2BIG;
        }
        return json_array_append_new(out, json_string(t)) == 0 ? 0 : -ENOMEM;
    }
    long a, b, step = 1;
    int width = 0;
    char lo[24];
    if (sscanf(o + 1, "%ld..%ld..%ld", &a, &b, &step) < 2 || step <= 0 || b < a ||
        sscanf(o + 1, "%23[0-9]", lo) != 1) {
        return -EINVAL;
    }
    width = (lo[0] == '0' && strlen(lo) > 1) ? (int)strlen(lo) : 0;
    for (long i = a;; i += step) {
        char buf[AIS_OBJNAME_BYTES_MAX + 64];
        snprintf(buf, sizeof(buf), "%.*s%0*ld%s", (int)(o - t), t, width, i, c + 1);
        int rc = gw_tmpl_expand(buf, out, cap);
        if (rc != 0) {
            return rc;
        }
        if ((unsigned long)b - (unsigned long)i < (unsigned long)step) {
            break; /* the next one is past b (i + step might not even fit a long) */
        }
    }
    return 0;
}

/* One target's share of a multi-object job: the names it owns under HRW, its outcome. */
struct del_slot {
    const struct objs_job *d;
    const struct ais_smap *smap;
    const char *const *names;
    size_t nn;
    uint64_t done, skipped, bytes;
    struct rpc_objs_res failed;
    int rc;
    struct rpc_err err;
};

/* A delete/evict/prefetch-listrange job: the names (validated) and the bucket, owned by it. */
struct objs_job {
    struct gw *g;
    struct ais_objref ref;
    json_t *names;  /* NULL for copy-bck: names come from listing the source */
    const char *op; /* "" delete, "evict", "prefetch", "copy" */
    int latest;
    struct ais_objref dst;      /* copy: destination bucket */
    char prepend[256];          /* copy: prefix added to destination names */
    char prefix[256];           /* copy-bck: only source names with this prefix */
    struct rpc_objs_res failed; /* over all rounds */
    uint64_t nn;                /* names handled over all rounds */
};

/* The op's batches to this target, in order; a failed call ends the share. */
static void
objs_batches(struct gw *g, struct del_slot *s, const char *url, const char **mine, size_t n)
{
    const struct objs_job *d = s->d;
    int prefetch = strcmp(d->op, "prefetch") == 0;
    size_t batch = prefetch ? AIS_PREFETCH_BATCH : AIS_OBJS_BATCH_MAX;
    int to_ms = prefetch ? AIS_PREFETCH_BATCH_MS : (int)g->cfg->rpc_timeout_ms;
    for (size_t off = 0, k = 0; s->rc == 0 && off < n; off += k) {
        k = n - off < batch ? n - off : batch;
        struct rpc_objs_args a = {.op = d->op,
                                  .provider = d->ref.provider,
                                  .ns = d->ref.ns,
                                  .bck = d->ref.bck,
                                  .names = mine + off,
                                  .n = k,
                                  .latest = d->latest};
        if (strcmp(d->op, "copy") == 0) {
            a.dst_provider = d->dst.provider;
            a.dst_ns = d->dst.ns;
            a.dst_bck = d->dst.bck;
            a.prepend = d->prepend;
            to_ms = AIS_PREFETCH_BATCH_MS;
            k = k > AIS_PREFETCH_BATCH ? AIS_PREFETCH_BATCH : k;
        }
        struct rpc_objs_res res = {0};
        s->rc = rpc_objs_op(url, to_ms, &a, &res, &s->err);
        s->done += res.done;
        s->skipped += res.skipped;
        s->bytes += res.bytes;
        for (size_t i = 0; s->rc == 0 && i < res.nnames; i++) {
            s->rc = rpc_objs_res_add(&s->failed, res.names[i], res.errs ? res.errs[i] : NULL);
        }
        rpc_objs_res_fini(&res);
    }
}

/* Sends this target the names it owns under HRW. */
static void
del_node(struct gw *g, const struct ais_snode *node, void *slot)
{
    struct del_slot *s = slot;
    const struct ais_objref *ref = &s->d->ref;
    const char **mine = malloc((s->nn ? s->nn : 1) * sizeof(*mine));
    size_t n = 0;
    char url[128];
    if (mine == NULL) {
        s->rc = -ENOMEM;
        return;
    }
    int copy = strcmp(s->d->op, "copy") == 0; /* copies run on the destination's owner */
    const struct ais_objref *by = copy ? &s->d->dst : ref;
    for (size_t i = 0; i < s->nn; i++) {
        uint64_t d = 0;
        char nm[AIS_OBJNAME_BYTES_MAX + 1];
        snprintf(nm, sizeof(nm), "%s%s", copy ? s->d->prepend : "", s->names[i]);
        if (ais_obj_digest(by->provider, by->ns, by->bck, nm, &d) == 0 &&
            ais_smap_hrw_target(s->smap, d) == node) {
            mine[n++] = s->names[i];
        }
    }
    ais_snode_ctrl_url(node, url, sizeof(url));
    if (n > 0 && s->d->op[0] == '\0') {
        s->rc = rpc_delete_objs(url, (int)g->cfg->rpc_timeout_ms, ref->provider, ref->ns, ref->bck,
                                mine, n, &s->done, &s->skipped, &s->err);
    } else if (n > 0) {
        objs_batches(g, s, url, mine, n);
    }
    free(mine);
}

/* Checks every name (nothing is deleted if one is bad): 0 or AIS_EBADNAME with msg. */
static int
names_check(const json_t *names, const char *action, char *msg, size_t cap)
{
    for (size_t i = 0; i < json_array_size(names); i++) {
        const char *why = "object name must be a string";
        const char *name = json_string_value(json_array_get(names, i));
        int rc = name ? ais_obj_name_check(name, strlen(name), &why) : AIS_EBADNAME;
        if (rc != 0) {
            snprintf(msg, cap, "%s: invalid object name #%zu: %s", action, i, why);
            return rc;
        }
    }
    return 0;
}

static void
del_job_free(void *arg)
{
    struct objs_job *d = arg;
    json_decref(d->names);
    rpc_objs_res_fini(&d->failed);
    free(d);
}

/* "failed N of M: a (why); b (why) ..." into the job's error, as much as fits. */
static void
objs_failed_msg(struct xa_job *job, const struct objs_job *d)
{
    char msg[XA_ERR_BYTES];
    const struct rpc_objs_res *f = &d->failed;
    if (f->nnames == 0) {
        return;
    }
    size_t len = (size_t)snprintf(msg, sizeof(msg), "%s %s: failed %zu of %llu:", d->op,
                                  d->ref.display, f->nnames, (unsigned long long)d->nn);
    for (size_t j = 0; j < f->nnames && len < sizeof(msg); j++) {
        len += (size_t)snprintf(msg + len, sizeof(msg) - len, " %s (%s);", f->names[j],
                                f->errs ? f->errs[j] : "");
    }
    AIS_LOG_WARN("req=%s bck=%s msg=\"objects failed\" n=%zu", d->op, d->ref.display, f->nnames);
    xa_job_set_err(job, msg);
}

/*
 * One round: every target handles the names of v it owns under HRW, in parallel. Delete and
 * evict count done objects in loc; prefetch counts already-cached ones in loc and fetched ones
 * in in (objects and bytes); copy counts copied ones in loc (with bytes). Failed names are kept
 * in d->failed. 0, or the first target's error (with the job's error set).
 */
static int
objs_round(struct xa_job *job, struct objs_job *d, const struct ais_smap *smap, const char **v,
           size_t nn)
{
    size_t nt = ais_smap_count(smap, 1);
    struct del_slot *slots = calloc(nt ? nt : 1, sizeof(*slots));
    int rc = slots ? 0 : -ENOMEM, prefetch = strcmp(d->op, "prefetch") == 0;
    for (size_t i = 0; rc == 0 && i < nt; i++) {
        slots[i] = (struct del_slot){.d = d, .smap = smap, .names = v, .nn = nn};
    }
    if (rc == 0) {
        gw_fanout(d->g, smap, 1, del_node, slots, sizeof(*slots));
    }
    d->nn += nn;
    for (size_t i = 0; rc == 0 && i < nt; i++) {
        if (prefetch) {
            xa_job_add(job, XA_CTR_LOC, slots[i].skipped, 0);
            xa_job_add(job, XA_CTR_IN, slots[i].done, slots[i].bytes);
        } else {
            xa_job_add(job, XA_CTR_LOC, slots[i].done + slots[i].skipped, slots[i].bytes);
        }
        const struct rpc_objs_res *f = &slots[i].failed;
        for (size_t j = 0; rc == 0 && j < f->nnames; j++) {
            rc = rpc_objs_res_add(&d->failed, f->names[j], f->errs ? f->errs[j] : NULL);
        }
    }
    for (size_t i = 0; rc == 0 && i < nt; i++) {
        if (slots[i].rc != 0) {
            char msg[512];
            rc = slots[i].rc;
            snprintf(msg, sizeof(msg), "%s in %s: %s", d->op[0] ? d->op : "delete", d->ref.display,
                     slots[i].err.msg);
            xa_job_set_err(job, msg);
        }
    }
    for (size_t i = 0; slots != NULL && i < nt; i++) {
        rpc_objs_res_fini(&slots[i].failed);
    }
    free(slots);
    return rc;
}

/* The job's outcome: a failed name makes it end in state error, the names in its err. */
static int
objs_end(struct xa_job *job, struct objs_job *d, int rc)
{
    if (rc == 0 && d->failed.nnames > 0) {
        objs_failed_msg(job, d);
        rc = -EIO;
    }
    return rc;
}

/* Job body of the list/range actions: one round over the message's names. */
static int
del_job_run(struct xa_job *job, void *arg)
{
    struct objs_job *d = arg;
    size_t nn = json_array_size(d->names);
    const char **v = calloc(nn ? nn : 1, sizeof(*v));
    struct ais_smap *smap = ais_meta_smap(&d->g->meta);
    int rc = v ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < nn; i++) {
        v[i] = json_string_value(json_array_get(d->names, i));
    }
    xa_job_set_total(job, nn, 0);
    rc = rc ? rc : objs_round(job, d, smap, v, nn);
    free(v);
    ais_smap_unref(smap);
    return objs_end(job, d, rc);
}

/* The names of a list/range message: objnames, or template expanded. Responds on error. */
static json_t *
listrange_names(struct ais_req *r, const char *action, const json_t *v)
{
    json_t *names = ais_json_get_ci(v, "objnames");
    const char *tmpl = ais_json_str(v, "template", NULL);
    if (names != NULL && tmpl != NULL) {
        ais_resp_err(r, 400, "%s: give either objnames or template, not both", action);
        return NULL;
    }
    if (names == NULL && tmpl != NULL) {
        json_t *owned = json_array();
        int rc = gw_tmpl_expand(tmpl, owned, 100000);
        if (rc != 0) {
            json_decref(owned);
            ais_resp_err(r, 400, "%s: invalid template \"%s\"%s", action, tmpl,
                         rc == -E2BIG ? " (expands to more than 100000 names)" : "");
            return NULL;
        }
        return owned;
    }
    if (json_is_array(names)) {
        return json_incref(names);
    }
    ais_resp_err(r, 400, "%s: value must have objnames (array) or template", action);
    return NULL;
}

/*
 * delete-, evict- and prefetch-listrange. Validates the request at once (400 for a bad
 * template or name, nothing done), then runs it as a job and answers its id: a 100k-name
 * request never holds the HTTP request.
 */
static void
objs_listrange(struct gw *g, struct ais_req *r, const struct ais_objref *ref, const json_t *v,
               const char *action)
{
    char msg[512] = "";
    char id[XA_ID_BYTES];
    json_t *names = listrange_names(r, action, v);
    if (names == NULL) {
        return;
    }
    struct objs_job *d = calloc(1, sizeof(*d));
    int rc = d ? names_check(names, action, msg, sizeof(msg)) : -ENOMEM;
    if (rc != 0) {
        json_decref(names);
        free(d);
        ais_resp_err(r, rc == -ENOMEM ? 500 : 400, "%s", rc == -ENOMEM ? "out of memory" : msg);
        return;
    }
    const char *op = strcmp(action, "evict-listrange") == 0      ? "evict"
                     : strcmp(action, "prefetch-listrange") == 0 ? "prefetch"
                                                                 : "";
    json_t *lv = ais_json_get_ci(v, "latest-ver");
    *d = (struct objs_job){
        .g = g, .ref = *ref, .names = names, .op = op, .latest = json_is_true(lv)};
    rc = xa_job_start(g->xreg, action, ref->display, del_job_run, d, del_job_free, id);
    if (rc != 0) {
        ais_resp_err(r, rc == -EAGAIN ? 503 : 500, "%s: cannot start job: %s", action,
                     ais_strerror(rc));
        return;
    }
    ais_resp_buf(r, 200, "text/plain", id, strlen(id));
}

static void
delete_listrange(struct gw *g, struct ais_req *r, const struct ais_objref *ref, const json_t *v)
{
    objs_listrange(g, r, ref, v, "delete-listrange");
}

static void
evict_listrange(struct gw *g, struct ais_req *r, const struct ais_objref *ref, const json_t *v)
{
    objs_listrange(g, r, ref, v, "evict-listrange");
}

static void
prefetch_listrange(struct gw *g, struct ais_req *r, const struct ais_objref *ref, const json_t *v)
{
    objs_listrange(g, r, ref, v, "prefetch-listrange");
}

/* Copies one page of names (borrowed); a failed round ends the job. */
static int
copy_page(struct xa_job *job, struct objs_job *d, const char **v, size_t n)
{
    if (n == 0) {
        return 0;
    }
    struct ais_smap *smap = ais_meta_smap(&d->g->meta);
    int rc = objs_round(job, d, smap, v, n);
    ais_smap_unref(smap);
    return rc;
}

/* A remote source: its backend's pages. */
static int
copy_from_remote(struct xa_job *job, struct objs_job *d)
{
    char *token = strdup("");
    int rc = token ? 0 : -ENOMEM;
    /* Bounded: a page moves the token forward; at most 10M pages of 1000. */
    for (long i = 0; rc == 0 && i < 10000000L && !xa_job_aborted(job); i++) {
        struct bk_page pg = {0};
        struct bk_err e = {0};
        rc = bk_list_page(d->g->bk, d->ref.provider, d->ref.bck, d->prefix, token, 1000, &pg, &e);
        if (rc != 0) {
            xa_job_set_err(job, e.msg);
            break;
        }
        const char **v = calloc(pg.n ? pg.n : 1, sizeof(*v));
        rc = v ? 0 : -ENOMEM;
        for (size_t j = 0; rc == 0 && j < pg.n; j++) {
            v[j] = pg.v[j].name;
        }
        rc = rc ? rc : copy_page(job, d, v, pg.n);
        free(v);
        free(token);
        token = pg.next;
        pg.next = NULL;
        bk_page_fini(&pg);
        if (token == NULL || token[0] == '\0') {
            break;
        }
    }
    free(token);
    return rc;
}

/* An ais source: every target's names, a page per target per round (order does not matter). */
static int
copy_from_ais(struct xa_job *job, struct objs_job *d)
{
    struct ais_smap *smap = ais_meta_smap(&d->g->meta);
    size_t nt = ais_smap_count(smap, 1);
    struct lso q = {.prefix = d->prefix};
    struct list_slot *slots = calloc(nt ? nt : 1, sizeof(*slots));
    char **after = calloc(nt ? nt : 1, sizeof(*after));
    int rc = slots && after ? 0 : -ENOMEM, more = 1;
    for (size_t i = 0; rc == 0 && i < nt; i++) {
        slots[i] = (struct list_slot){.ref = &d->ref, .q = &q, .limit = 1000};
    }
    for (long round = 0; rc == 0 && more && round < 10000000L && !xa_job_aborted(job); round++) {
        for (size_t i = 0; i < nt; i++) {
            slots[i].after = after[i] ? after[i] : "";
            memset(&slots[i].page, 0, sizeof(slots[i].page));
        }
        gw_fanout(d->g, smap, 1, list_node, slots, sizeof(*slots));
        size_t total = 0, k = 0;
        more = 0;
        for (size_t i = 0; i < nt; i++) {
            rc = rc ? rc : slots[i].rc;
            total += slots[i].page.n;
        }
        const char **v = rc == 0 ? calloc(total ? total : 1, sizeof(*v)) : NULL;
        rc = rc ? rc : v ? 0 : -ENOMEM;
        for (size_t i = 0; rc == 0 && i < nt; i++) {
            struct rpc_list_page *pg = &slots[i].page;
            for (size_t j = 0; j < pg->n; j++) {
                v[k++] = pg->entries[j].name;
            }
            if (pg->n > 0) {
                free(after[i]);
                after[i] = strdup(pg->entries[pg->n - 1].name);
            }
            slots[i].limit = pg->more && pg->n > 0 ? 1000 : 0;
            more |= slots[i].limit != 0;
        }
        rc = rc ? rc : copy_page(job, d, v, k);
        free(v);
        for (size_t i = 0; i < nt; i++) {
            rpc_list_page_fini(&slots[i].page);
        }
    }
    for (size_t i = 0; after != NULL && i < nt; i++) {
        free(after[i]);
    }
    free(after);
    free(slots);
    ais_smap_unref(smap);
    return rc;
}

static int
copy_job_run(struct xa_job *job, void *arg)
{
    struct objs_job *d = arg;
    if (d->names != NULL) {
        return del_job_run(job, arg); /* copy-listrange */
    }
    int rc = bk_provider_remote(d->ref.provider) ? copy_from_remote(job, d) : copy_from_ais(job, d);
    return objs_end(job, d, rc);
}

/* bck_to: "ais/@#/name/" (provider/ns-uname/name/, as the SDK builds it) or "ais://name". */
static int
bck_to_parse(const char *s, struct ais_objref *out, char *msg, size_t cap)
{
    char prov[16] = "", ns[64] = "", name[256] = "";
    const char *p = strstr(s ? s : "", "://");
    memset(out, 0, sizeof(*out));
    if (p != NULL) {
        snprintf(prov, sizeof(prov), "%.*s", (int)(p - s), s);
        snprintf(name, sizeof(name), "%s", p + 3);
    } else if (s != NULL && sscanf(s, "%15[^/]/%63[^/]/%255[^/]", prov, ns, name) == 3) {
        if (strcmp(ns, "@#") == 0) {
            ns[0] = '\0';
        }
    } else if (s == NULL || sscanf(s, "%15[^/]/%255[^/]", prov, name) != 2) {
        snprintf(msg, cap, "copy: bck_to \"%s\" is not a bucket (e.g. ais/@#/name/)", s ? s : "");
        return -EINVAL;
    }
    const char *pv = ais_provider_norm(prov);
    const char *why = "invalid bucket name";
    if (pv == NULL || ns[0] != '\0' || ais_bck_name_check(name, &why) != 0) {
        snprintf(msg, cap, "copy: bck_to \"%s\": %s", s,
                 pv == NULL ? "unknown provider"
                 : ns[0]    ? "namespaces are not supported"
                            : why);
        return -EINVAL;
    }
    if (strlen(name) >= sizeof(out->bck)) {
        snprintf(msg, cap, "copy: bck_to: bucket name too long");
        return -EINVAL;
    }
    out->provider = pv;
    memcpy(out->bck, name, strlen(name) + 1);
    ais_bck_display(pv, "", name, out->display, sizeof(out->display));
    return 0;
}

/*
 * copy-bck and copy-listrange: a job that copies the source's objects (all of them, with a
 * prefix, or a list/range) into an ais:// destination, created when missing. Each destination
 * owner reads its names through the source's owner (a remote source is cold-GET there).
 */
static void
copy_start(struct gw *g, struct ais_req *r, const struct ais_objref *ref, const json_t *v,
           const char *action)
{
    char msg[512] = "", id[XA_ID_BYTES];
    struct objs_job *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        ais_resp_err(r, 500, "out of memory");
        return;
    }
    *d = (struct objs_job){.g = g, .ref = *ref, .op = "copy"};
    int rc = bck_to_parse(ais_req_query(r, "bck_to"), &d->dst, msg, sizeof(msg));
    if (rc == 0 && strcmp(d->dst.provider, "ais") != 0) {
        snprintf(msg, sizeof(msg), "%s: copying into a remote bucket (%s) is not supported yet",
                 action, d->dst.display);
        rc = -EINVAL;
    }
    if (rc == 0 && strcmp(d->dst.bck, ref->bck) == 0 &&
        strcmp(d->dst.provider, ref->provider) == 0) {
        snprintf(msg, sizeof(msg), "%s: source and destination are the same bucket", action);
        rc = -EINVAL;
    }
    snprintf(d->prepend, sizeof(d->prepend), "%s", ais_json_str(v, "prepend", ""));
    snprintf(d->prefix, sizeof(d->prefix), "%s", ais_json_str(v, "prefix", ""));
    if (rc == 0 && strcmp(action, "copy-listrange") == 0) {
        d->names = listrange_names(r, action, v);
        if (d->names == NULL) {
            free(d);
            return; /* answered */
        }
        rc = names_check(d->names, action, msg, sizeof(msg));
    }
    if (rc == 0 && !bucket_exists(g, &d->dst)) {
        rc = gw_bck_change(g, "create-bck", "ais", "", d->dst.bck, NULL, msg, sizeof(msg));
        rc = rc == -EEXIST ? 0 : rc;
    }
    if (rc != 0) {
        del_job_free(d);
        ais_resp_err(r, rc == -EINVAL || rc == AIS_EBADNAME ? 400 : status_of(rc), "%s", msg);
        return;
    }
    rc = xa_job_start(g->xreg, action, ref->display, copy_job_run, d, del_job_free, id);
    if (rc != 0) {
        ais_resp_err(r, rc == -EAGAIN ? 503 : 500, "%s: cannot start job: %s", action,
                     ais_strerror(rc));
        return;
    }
    ais_resp_buf(r, 200, "text/plain", id, strlen(id));
}

static void
copy_bck(struct gw *g, struct ais_req *r, const struct ais_objref *ref, const json_t *v)
{
    copy_start(g, r, ref, v, "copy-bck");
}

static void
copy_listrange(struct gw *g, struct ais_req *r, const struct ais_objref *ref, const json_t *v)
{
    copy_start(g, r, ref, v, "copy-listrange");
}

static void
head_bucket(struct gw *g, struct ais_req *r, const struct ais_objref *ref)
{
    char msg[512];
    int st = gw_bck_resolve(g, ref, msg, sizeof(msg));
    if (st == 0 && gw_bck_access(g, r, ref, AIS_ACCESS_HEAD_BCK)) {
        return;
    }
    if (st != 0) {
        ais_resp_err(r, st, "%s", msg);
        return;
    }
    struct ais_bmd *b = ais_meta_bmd(&g->meta);
    const struct ais_bck_md *k = ais_bmd_find(b, ref->provider, ref->ns, ref->bck);
    if (k == NULL) {
        ais_resp_err(r, 404, "bucket \"%s\" does not exist", ref->display);
    } else {
        ais_resp_empty(r, 200);
        ais_resp_header(r, "Ais-Bucket-Props", k->props_json);
        ais_resp_header(r, "Ais-Versioning-Enabled", k->props.versioning ? "true" : "false");
    }
    ais_bmd_unref(b);
}

static int
bucket_exists(struct gw *g, const struct ais_objref *ref)
{
    struct ais_bmd *b = ais_meta_bmd(&g->meta);
    int ok = ais_bmd_find(b, ref->provider, ref->ns, ref->bck) != NULL;
    ais_bmd_unref(b);
    return ok;
}

int
gw_bck_resolve(struct gw *g, const struct ais_objref *ref, char *msg, size_t cap)
{
    if (bucket_exists(g, ref)) {
        return 0;
    }
    if (!bk_provider_remote(ref->provider)) {
        snprintf(msg, cap, "bucket \"%s\" does not exist", ref->display);
        return 404;
    }
    struct bk_err e = {0};
    int rc = bk_head_bucket(g->bk, ref->provider, ref->bck, &e);
    if (rc == -ENOENT) {
        snprintf(msg, cap, "bucket \"%s\" does not exist (at its backend: %s)", ref->display,
                 e.msg);
        return 404;
    }
    if (rc != 0) {
        snprintf(msg, cap, "bucket \"%s\": %s", ref->display, e.msg);
        return e.status ? e.status : 502;
    }
    rc = gw_bck_change(g, "add-remote-bck", ref->provider, ref->ns, ref->bck, NULL, msg, cap);
    if (rc == 0 || rc == -EEXIST) {
        AIS_LOG_INFO("req=add-remote-bck bck=%s msg=\"remote bucket added on first use\"",
                     ref->display);
        return 0;
    }
    return status_of(rc);
}

struct evict_slot {
    const struct ais_objref *ref;
    int rc;
    struct rpc_err err;
};

static void
evict_all_node(struct gw *g, const struct ais_snode *node, void *slot)
{
    struct evict_slot *s = slot;
    char url[128];
    struct rpc_objs_res res = {0};
    struct rpc_objs_args a = {
        .op = "evict-all", .provider = s->ref->provider, .ns = s->ref->ns, .bck = s->ref->bck};
    ais_snode_ctrl_url(node, url, sizeof(url));
    s->rc = rpc_objs_op(url, (int)g->cfg->rpc_timeout_ms, &a, &res, &s->err);
    rpc_objs_res_fini(&res);
}

/*
 * evict-remote-bck: every cached object of the bucket goes. With keep_bck_md=true the bucket
 * (and its props) stays in the BMD; else it leaves the BMD, which removes its local data.
 */
static void
evict_remote_bck(struct gw *g, struct ais_req *r, const struct ais_objref *ref, const json_t *v)
{
    (void)v;
    char msg[512];
    const char *keep = ais_req_query(r, "keep_bck_md");
    if (keep == NULL || ais_parse_bool(keep) != 1) {
        int rc = gw_bck_change(g, "destroy-bck", ref->provider, ref->ns, ref->bck, NULL, msg,
                               sizeof(msg));
        if (rc != 0) {
            ais_resp_err(r, status_of(rc), "%s", msg);
        } else {
            ais_resp_empty(r, 200);
        }
        return;
    }
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    size_t nt = ais_smap_count(smap, 1);
    struct evict_slot *slots = calloc(nt ? nt : 1, sizeof(*slots));
    for (size_t i = 0; slots != NULL && i < nt; i++) {
        slots[i].ref = ref;
    }
    if (slots != NULL) {
        gw_fanout(g, smap, 1, evict_all_node, slots, sizeof(*slots));
    }
    int rc = slots ? 0 : -ENOMEM;
    for (size_t i = 0; slots != NULL && i < nt && rc == 0; i++) {
        rc = slots[i].rc;
        snprintf(msg, sizeof(msg), "evict %s: %s", ref->display, slots[i].err.msg);
    }
    if (rc != 0) {
        ais_resp_err(r, rc == -ENOMEM ? 500 : 503, "%s", rc == -ENOMEM ? "out of memory" : msg);
    } else {
        ais_resp_empty(r, 200);
    }
    free(slots);
    ais_smap_unref(smap);
}

/* Mirror copies of the bucket in this gateway's BMD (0: no such bucket); *ver its version. */
static unsigned
bck_copies(struct gw *g, const struct ais_objref *ref, int64_t *ver)
{
    struct ais_bmd *b = ais_meta_bmd(&g->meta);
    const struct ais_bck_md *k = ais_bmd_find(b, ref->provider, ref->ns, ref->bck);
    unsigned n = k != NULL ? ais_bprops_copies(&k->props) : 0;
    if (ver != NULL) {
        *ver = b->version;
    }
    ais_bmd_unref(b);
    return n;
}

/* The bucket's EC props as one comparable string ("" when off or no such bucket). */
static void
bck_ec_props(struct gw *g, const struct ais_objref *ref, char *out, size_t cap)
{
    struct ais_bmd *b = ais_meta_bmd(&g->meta);
    const struct ais_bck_md *k = ais_bmd_find(b, ref->provider, ref->ns, ref->bck);
    out[0] = '\0';
    if (k != NULL && k->props.ec_enabled) {
        snprintf(out, cap, "%d+%d/%lld", k->props.ec_data, k->props.ec_parity,
                 (long long)k->props.ec_objsize_limit);
    }
    ais_bmd_unref(b);
}

/* A BMD change (create, destroy, props), run by the primary. */
static void
bucket_change(struct gw *g, struct ais_req *r, const struct ais_objref *ref, const char *action,
              const json_t *value)
{
    char msg[512], ec_before[48], ec_after[48];
    int64_t ver = 0;
    unsigned before = bck_copies(g, ref, NULL), after = 0;
    bck_ec_props(g, ref, ec_before, sizeof(ec_before));
    int rc = gw_bck_change(g, action, ref->provider, ref->ns, ref->bck, value, msg, sizeof(msg));
    if (rc == 0 && before != 0) {
        bck_ec_props(g, ref, ec_after, sizeof(ec_after));
    }
    if (rc == 0 && before != 0 && ec_after[0] != '\0' && strcmp(ec_before, ec_after) != 0) {
        /* Targets run ec-encode under this id (target/target.c): "e" + the BMD version. */
        char id[32];
        (void)bck_copies(g, ref, &ver);
        int n = snprintf(id, sizeof(id), "e%lld", (long long)ver);
        ais_resp_buf(r, 200, "text/plain", id, (size_t)n);
    } else if (rc == 0 && before != 0 && (after = bck_copies(g, ref, &ver)) != 0 &&
               after != before) {
        /* Targets run make-n-copies under this id (target/target.c): "n" + the BMD version. */
        char id[32];
        int n = snprintf(id, sizeof(id), "n%lld", (long long)ver);
        ais_resp_buf(r, 200, "text/plain", id, (size_t)n);
    } else if (rc == 0) {
        ais_resp_empty(r, 200);
    } else {
        ais_resp_err(r, status_of(rc), "%s", msg);
    }
}

/* The access bit an action needs on its (existing) bucket; 0 = none. set-bprops of access
 * alone is always allowed: with authentication off every client is the admin, and the bits
 * guard a bucket against mistakes (a read-only dataset), not against its owner. */
static uint64_t
action_access(const char *action, const json_t *value)
{
    static const struct {
        const char *action;
        uint64_t need;
    } t[] = {
        {"list", AIS_ACCESS_LIST_OBJS},
        {"delete-listrange", AIS_ACCESS_DELETE_OBJ},
        {"evict-listrange", AIS_ACCESS_DELETE_OBJ},
        {"prefetch-listrange", AIS_ACCESS_GET},
        {"copy-bck", AIS_ACCESS_GET},
        {"copy-listrange", AIS_ACCESS_GET},
        {"archive", AIS_ACCESS_GET},
        {"evict-remote-bck", AIS_ACCESS_DELETE_OBJ},
        {"destroy-bck", AIS_ACCESS_DESTROY_BCK},
        {"destroylb", AIS_ACCESS_DESTROY_BCK},
        {"set-bprops", AIS_ACCESS_PATCH},
        {"reset-bprops", AIS_ACCESS_PATCH},
        {"setprops", AIS_ACCESS_PATCH},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (strcmp(t[i].action, action) == 0) {
            int access_only = t[i].need == AIS_ACCESS_PATCH && json_is_object(value) &&
                              json_object_size(value) == 1 &&
                              json_object_get(value, "access") != NULL;
            return access_only ? 0 : t[i].need;
        }
    }
    return 0;
}

int
gw_bck_access(struct gw *g, struct ais_req *r, const struct ais_objref *ref, uint64_t need)
{
    char msg[512];
    struct ais_bmd *bmd = ais_meta_bmd(&g->meta);
    const struct ais_bck_md *k = ais_bmd_find(bmd, ref->provider, ref->ns, ref->bck);
    int st = k && need ? ais_access_check(&k->props, need, ref->display, msg, sizeof(msg)) : 0;
    ais_bmd_unref(bmd);
    if (st != 0) {
        ais_resp_err(r, st, "%s", msg);
    }
    return st != 0;
}

/* Body complete: dispatch on ActMsg action and method through bck_actions[]. */
static void
bucket_msg_done(struct ais_req *r, void *arg)
{
    struct gw *g = arg;
    struct ais_objref ref;
    char msg[512];
    json_t *body = NULL;
    int status = ais_objref_parse(r, "/v1/buckets/", 0, &ref, msg, sizeof(msg));
    if (status != 0) {
        ais_resp_err(r, status, "%s", msg);
        return;
    }
    if (ais_req_body_json(r, &body) != 0 || (body != NULL && !json_is_object(body))) {
        json_decref(body);
        ais_resp_err(r, 400, "malformed JSON in request body (expected an ActMsg object)");
        return;
    }
    unsigned method = ais_http_method_bit(ais_req_method(r));
    const char *action = ais_json_str(body, "action", "");
    json_t *value = ais_json_get_ci(body, "value");
    for (size_t i = 0; action[0] == '\0' && i < sizeof(bck_defaults) / sizeof(bck_defaults[0]);
         i++) {
        action = bck_defaults[i].method == method ? bck_defaults[i].action : action;
    }
    const struct bck_action *a = bck_action_find(action);
    const char *nyi = a ? bck_not_implemented(&ref, a->op, value) : NULL;
    if (action[0] == '\0') {
        ais_resp_err(r, 400,
                     "%s %s: no action in request body (expected an ActMsg, e.g. "
                     "{\"action\":\"create-bck\"})",
                     ais_req_method(r), ref.display);
    } else if (a == NULL || (a->methods & method) == 0) {
        ais_resp_err(r, 400, "action \"%s\" is not supported with %s on %s", action,
                     ais_req_method(r), ref.display);
    } else if (nyi != NULL) {
        ais_resp_err(r, 400, "bucket \"%s\": %s", ref.display, nyi);
    } else if ((a->flags & BCK_F_REMOTE) && !bk_provider_remote(ref.provider)) {
        ais_resp_err(r, 400, "action \"%s\" applies to remote buckets only, not %s", action,
                     ref.display);
    } else if ((a->flags & BCK_F_EXISTS) && (status = gw_bck_resolve(g, &ref, msg, sizeof(msg)))) {
        ais_resp_err(r, status, "%s", msg);
    } else if (gw_bck_access(g, r, &ref, action_access(a->name, value))) {
        /* answered 403 */
    } else if (a->flags & BCK_F_PRIMARY) {
        bucket_change(g, r, &ref, a->name, value);
    } else {
        a->fn(g, r, &ref, value);
    }
    json_decref(body);
}

void
gw_h_buckets(struct gw *g, struct ais_req *r)
{
    const char *p = ais_req_path(r);
    if (strcmp(p, "/v1/buckets") == 0 || strcmp(p, "/v1/buckets/") == 0 ||
        strcmp(p, "/v1/buckets/*") == 0) {
        if (!ais_req_is(r, "GET")) {
            ais_resp_err(r, 405, "method %s not allowed on /v1/buckets", ais_req_method(r));
            ais_resp_header(r, "Allow", "GET");
            return;
        }
        list_buckets(g, r);
        return;
    }
    if (ais_req_is(r, "HEAD")) {
        struct ais_objref ref;
        char msg[512];
        int status = ais_objref_parse(r, "/v1/buckets/", 0, &ref, msg, sizeof(msg));
        if (status != 0) {
            ais_resp_err(r, status, "%s", msg);
            return;
        }
        head_bucket(g, r, &ref);
        return;
    }
    /* Methods are the route table's (gateway/h_gw.c); the action decides the rest. */
    ais_req_body_buffer(r, AIS_CTRL_BODY_BYTES_MAX, bucket_msg_done, g);
}
