/*
 * Design notes: bucket-level requests are executed by the gateway, never redirected. Changes
 * to the BMD go to the primary (forwarded over RPC by other gateways). Listing merges one page
 * from every target: each returns its `limit` smallest names after the token, the gateway keeps
 * the overall `limit` smallest, and the last of them becomes the next token, so pages are in
 * global name order and no object is skipped or repeated.
 */
#include "common/err.h"
#include "common/hrw.h"
#include "common/json.h"
#include "common/log.h"
#include "common/names.h"
#include "common/objref.h"
#include "common/util.h"
#include "gateway/fanout.h"
#include "gateway/gw_int.h"

#include <errno.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int
bmd_change(struct gw *g, const char *action, const char *provider, const char *ns, const char *bck,
           const json_t *value, char *msg, size_t cap)
{
    const char *why = "";
    char disp[256];
    ais_bck_display(provider, ns, bck, disp, sizeof(disp));
    pthread_mutex_lock(&g->change_mu);
    struct ais_bmd *cur = ais_meta_bmd(&g->meta);
    struct ais_bmd *next = ais_bmd_clone(cur);
    int rc = next ? 0 : -ENOMEM;
    if (rc == 0 && (strcmp(action, "create-bck") == 0 || strcmp(action, "createlb") == 0)) {
        rc = ais_bmd_add(next, provider, ns, bck, g->cfg->cksum_type, value, &why);
    } else if (rc == 0 &&
               (strcmp(action, "destroy-bck") == 0 || strcmp(action, "destroylb") == 0)) {
        rc = ais_bmd_del(next, provider, ns, bck);
    } else if (rc == 0 && (strcmp(action, "set-bprops") == 0 || strcmp(action, "setprops") == 0 ||
                           strcmp(action, "reset-bprops") == 0)) {
        rc = ais_bmd_set_props(next, provider, ns, bck, value, action[0] == 'r', g->cfg->cksum_type,
                               &why);
    } else if (rc == 0) {
        rc = -ENOTSUP;
    }
    if (rc == 0) {
        next->version = cur->version + 1;
        AIS_LOG_INFO("req=%s bck=%s bmd_version=%lld", action, disp, (long long)next->version);
        (void)ais_meta_apply(&g->meta, NULL, next, NULL);
        next = NULL;
        struct ais_smap *s = ais_meta_smap(&g->meta);
        struct ais_bmd *b = ais_meta_bmd(&g->meta);
        gw_push_all(g, s, b);
        ais_smap_unref(s);
        ais_bmd_unref(b);
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
    return rc;
}

int
gw_bck_change(struct gw *g, const char *action, const char *provider, const char *ns,
              const char *bck, const json_t *value, char *msg, size_t cap)
{
    if (g->is_primary) {
        return bmd_change(g, action, provider, ns, bck, value, msg, cap);
    }
    char url[256];
    struct rpc_err err = {0};
    char *v = value ? ais_json_dumps(value) : NULL;
    rpc_member_primary_url(g->member, url, sizeof(url));
    int rc = rpc_bck_action(url, (int)g->cfg->rpc_timeout_ms, action, provider, ns, bck, v, &err);
    free(v);
    if (rc != 0) {
        snprintf(msg, cap, "%s", err.msg);
    }
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
};

struct list_slot {
    const struct ais_objref *ref;
    const struct lso *q;
    const char *after;
    struct rpc_list_page page;
    int rc;
    struct rpc_err err;
};

static void
list_node(struct gw *g, const struct ais_snode *n, void *slot)
{
    struct list_slot *s = slot;
    char url[128];
    struct rpc_list_req req = {
        .provider = s->ref->provider,
        .ns = s->ref->ns,
        .bck = s->ref->bck,
        .prefix = s->q->prefix,
        .after = s->after,
        .limit = s->q->limit,
        .with_md = 1,
    };
    ais_snode_ctrl_url(n, url, sizeof(url));
    s->rc = rpc_list(url, (int)g->cfg->rpc_timeout_ms, &req, &s->page, &s->err);
}

static int
ent_cmp(const void *a, const void *b)
{
    const struct rpc_list_entry *x = *(const struct rpc_list_entry *const *)a;
    const struct rpc_list_entry *y = *(const struct rpc_list_entry *const *)b;
    return strcmp(x->name, y->name);
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
    int at = has_prop(props, "atime");
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
    msgpack_pack_int(pk, 64);
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
        json_t *o = json_pack("{s:s, s:i, s:i}", "name", e->name, "copies", 1, "flags", 64);
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)e->size);
        json_object_set_new(o, "size", json_string(buf));
        if (has_prop(props, "checksum") && e->cksum_value) {
            json_object_set_new(o, "checksum", json_string(e->cksum_value));
        }
        if (has_prop(props, "atime")) {
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

/* Merges target pages and replies with the first q->limit names. */
static void
list_merge_reply(struct ais_req *r, struct list_slot *slots, size_t n, const struct lso *q)
{
    size_t total = 0;
    int more = 0;
    for (size_t i = 0; i < n; i++) {
        total += slots[i].page.n;
        more |= slots[i].page.more;
    }
    struct rpc_list_entry **v = calloc(total ? total : 1, sizeof(*v));
    if (v == NULL) {
        ais_resp_err(r, 500, "out of memory merging %zu entries", total);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < slots[i].page.n; j++) {
            v[k++] = &slots[i].page.entries[j];
        }
    }
    qsort(v, total, sizeof(*v), ent_cmp);
    size_t take = total < q->limit ? total : q->limit;
    more |= total > q->limit;
    const char *token = (more && take > 0) ? v[take - 1]->name : "";
    const char *props = (q->props && q->props[0]) ? q->props : "name,size";
    const char *accept = ais_req_header(r, "Accept");
    if (accept != NULL && strstr(accept, "msgpack") != NULL) {
        reply_msgpack(r, v, take, q->uuid, token, props);
    } else {
        reply_json(r, v, take, q->uuid, token, props);
    }
    free(v);
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

static void
list_objects(struct gw *g, struct ais_req *r, const struct ais_objref *ref, const json_t *val)
{
    struct lso q;
    char uuid[64];
    if (lso_parse(val, &q, uuid, sizeof(uuid)) != 0) {
        ais_resp_err(r, 400, "invalid list-objects message: pagesize must be >= 0");
        return;
    }
    ais_stats_add(&g->stats, AIS_STAT_LST_N, 1);
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    size_t nt = ais_smap_count(smap, 1);
    struct list_slot *slots = calloc(nt ? nt : 1, sizeof(*slots));
    if (slots == NULL) {
        ais_smap_unref(smap);
        ais_resp_err(r, 500, "out of memory");
        return;
    }
    for (size_t i = 0; i < nt; i++) {
        slots[i].ref = ref;
        slots[i].q = &q;
        slots[i].after = q.token;
    }
    size_t n = gw_fanout(g, smap, 1, list_node, slots, sizeof(*slots));
    ais_smap_unref(smap);
    int failed = -1;
    for (size_t i = 0; i < n && failed < 0; i++) {
        failed = slots[i].rc != 0 ? (int)i : -1;
    }
    if (failed >= 0) {
        ais_stats_add(&g->stats, AIS_STAT_ERR_LST_N, 1);
        ais_resp_err(r, 503, "list %s: target failed: %s", ref->display, slots[failed].err.msg);
    } else if (nt == 0) {
        ais_resp_err(r, 503, "list %s: no targets in the cluster", ref->display);
    } else {
        list_merge_reply(r, slots, n, &q);
    }
    for (size_t i = 0; i < nt; i++) {
        rpc_list_page_fini(&slots[i].page);
    }
    free(slots);
}

/* Expands one brace range "pre{A..B[..S]}rest" recursively; bounded by cap names. */
static int
tmpl_expand(const char *t, json_t *out, size_t cap)
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
    for (long i = a; i <= b; i += step) {
        char buf[AIS_OBJNAME_BYTES_MAX + 64];
        snprintf(buf, sizeof(buf), "%.*s%0*ld%s", (int)(o - t), t, width, i, c + 1);
        int rc = tmpl_expand(buf, out, cap);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

struct del_slot {
    const struct ais_objref *ref;
    const struct ais_smap *smap;
    const char *const *names;
    size_t nn;
    uint64_t deleted, missing;
    int rc;
    struct rpc_err err;
};

/* Sends this target the names it owns under HRW. */
static void
del_node(struct gw *g, const struct ais_snode *node, void *slot)
{
    struct del_slot *s = slot;
    const char **mine = malloc((s->nn ? s->nn : 1) * sizeof(*mine));
    size_t n = 0;
    char url[128];
    if (mine == NULL) {
        s->rc = -ENOMEM;
        return;
    }
    for (size_t i = 0; i < s->nn; i++) {
        uint64_t d = 0;
        if (ais_obj_digest(s->ref->provider, s->ref->ns, s->ref->bck, s->names[i], &d) == 0 &&
            ais_smap_hrw_target(s->smap, d) == node) {
            mine[n++] = s->names[i];
        }
    }
    if (n > 0) {
        ais_snode_ctrl_url(node, url, sizeof(url));
        s->rc = rpc_delete_objs(url, (int)g->cfg->rpc_timeout_ms, s->ref->provider, s->ref->ns,
                                s->ref->bck, mine, n, &s->deleted, &s->missing, &s->err);
    }
    free(mine);
}

/* Checks every name first (nothing is deleted if one is bad), then deletes on all targets. */
static int
delete_names(struct gw *g, const struct ais_objref *ref, const json_t *names, char *msg, size_t cap)
{
    size_t nn = json_array_size(names);
    const char **v = calloc(nn ? nn : 1, sizeof(*v));
    int rc = v ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < nn; i++) {
        const char *why = "object name must be a string";
        v[i] = json_string_value(json_array_get(names, i));
        rc = v[i] ? ais_obj_name_check(v[i], strlen(v[i]), &why) : AIS_EBADNAME;
        if (rc != 0) {
            snprintf(msg, cap, "delete-listrange: invalid object name #%zu: %s", i, why);
        }
    }
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    size_t nt = ais_smap_count(smap, 1);
    struct del_slot *slots = rc == 0 ? calloc(nt ? nt : 1, sizeof(*slots)) : NULL;
    rc = (rc == 0 && slots == NULL) ? -ENOMEM : rc;
    for (size_t i = 0; slots && i < nt; i++) {
        slots[i] = (struct del_slot){.ref = ref, .smap = smap, .names = v, .nn = nn};
    }
    if (slots != NULL) {
        gw_fanout(g, smap, 1, del_node, slots, sizeof(*slots));
    }
    for (size_t i = 0; slots && i < nt && rc == 0; i++) {
        if (slots[i].rc != 0) {
            rc = slots[i].rc;
            snprintf(msg, cap, "delete in %s: %s", ref->display, slots[i].err.msg);
        }
    }
    free(slots);
    free(v);
    ais_smap_unref(smap);
    return rc;
}

static void
delete_listrange(struct gw *g, struct ais_req *r, const struct ais_objref *ref, const json_t *v)
{
    char msg[512] = "";
    char id[16];
    int64_t t0 = ais_now_ns();
    json_t *names = ais_json_get_ci(v, "objnames");
    json_t *owned = NULL;
    const char *tmpl = ais_json_str(v, "template", NULL);
    if (names != NULL && tmpl != NULL) {
        ais_resp_err(r, 400, "delete-listrange: give either objnames or template, not both");
        return;
    }
    if (names == NULL && tmpl != NULL) {
        owned = json_array();
        int rc = tmpl_expand(tmpl, owned, 100000);
        if (rc != 0) {
            json_decref(owned);
            ais_resp_err(r, 400, "delete-listrange: invalid template \"%s\"%s", tmpl,
                         rc == -E2BIG ? " (expands to more than 100000 names)" : "");
            return;
        }
        names = owned;
    }
    if (!json_is_array(names)) {
        ais_resp_err(r, 400, "delete-listrange: value must have objnames (array) or template");
        return;
    }
    int rc = delete_names(g, ref, names, msg, sizeof(msg));
    json_decref(owned);
    if (rc == AIS_EBADNAME || rc == -ENAMETOOLONG) {
        ais_resp_err(r, 400, "%s", msg);
        return;
    }
    gw_job_record(g, "delete-listrange", t0, rc ? msg : "", id);
    if (rc != 0) {
        ais_resp_err(r, ais_http_status(rc), "%s", msg);
        return;
    }
    ais_resp_buf(r, 200, "text/plain", id, strlen(id));
}

static void
head_bucket(struct gw *g, struct ais_req *r, const struct ais_objref *ref)
{
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

/* Bucket changes by method and ActMsg action (CUR names, then 2020 ones). */
static const struct {
    const char *method, *action;
} bck_changes[] = {
    {"POST", "create-bck"},    {"DELETE", "destroy-bck"}, {"PATCH", "set-bprops"},
    {"PATCH", "reset-bprops"}, {"POST", "createlb"},      {"DELETE", "destroylb"},
    {"PUT", "setprops"},       {"PATCH", "setprops"},
};

static int
change_allowed(const struct ais_req *r, const char *action)
{
    for (size_t i = 0; i < sizeof(bck_changes) / sizeof(bck_changes[0]); i++) {
        if (ais_req_is(r, bck_changes[i].method) && strcmp(action, bck_changes[i].action) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A bucket-level change (create, destroy, props); an empty action defaults by method. */
static void
bucket_change(struct gw *g, struct ais_req *r, const struct ais_objref *ref, const char *action,
              const json_t *value)
{
    char msg[512];
    if (action[0] == '\0') {
        action = ais_req_is(r, "POST")     ? "create-bck"
                 : ais_req_is(r, "DELETE") ? "destroy-bck"
                                           : "";
    }
    if (!change_allowed(r, action)) {
        ais_resp_err(r, 400, "action \"%s\" is not supported with %s on %s", action,
                     ais_req_method(r), ref->display);
        return;
    }
    int rc = gw_bck_change(g, action, ref->provider, ref->ns, ref->bck, value, msg, sizeof(msg));
    if (rc == 0) {
        ais_resp_empty(r, 200);
    } else {
        ais_resp_err(r, status_of(rc), "%s", msg);
    }
}

/* Body complete: dispatch on method + ActMsg action. */
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
    const char *action = ais_json_str(body, "action", "");
    json_t *value = ais_json_get_ci(body, "value");
    int list = ais_req_is(r, "GET") && (action[0] == '\0' || strcmp(action, "list") == 0);
    int del = ais_req_is(r, "DELETE") && strcmp(action, "delete-listrange") == 0;
    if ((list || del) && !bucket_exists(g, &ref)) {
        ais_resp_err(r, 404, "bucket \"%s\" does not exist", ref.display);
    } else if (list) {
        list_objects(g, r, &ref, value);
    } else if (del) {
        delete_listrange(g, r, &ref, value);
    } else {
        bucket_change(g, r, &ref, action, value);
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
    if (!ais_req_is(r, "GET") && !ais_req_is(r, "POST") && !ais_req_is(r, "DELETE") &&
        !ais_req_is(r, "PATCH") && !ais_req_is(r, "PUT")) {
        ais_resp_err(r, 405, "method %s not allowed on %s", ais_req_method(r), p);
        return;
    }
    ais_req_body_buffer(r, AIS_CTRL_BODY_BYTES_MAX, bucket_msg_done, g);
}
