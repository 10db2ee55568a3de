/*
 * Design notes: what the S3 room (s3/) needs from the gateway, behind struct s3_ops: the BMD,
 * BMD changes on the primary, the HRW owner of an object and one merged listing page. The
 * listing asks every target for its `limit` smallest names after `after` (one RPC each, in
 * parallel) and merges them k-way; S3 pages are small (max-keys 1000), so no list session is
 * kept between pages: the S3 marker is the last name, and the next page starts after it.
 */
#include "common/err.h"
#include "common/hrw.h"
#include "common/log.h"
#include "gateway/fanout.h"
#include "gateway/gw_int.h"
#include "s3/s3.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
glue_bck_each(void *ctx, s3_bck_fn fn, void *arg)
{
    struct gw *g = ctx;
    struct ais_bmd *b = ais_meta_bmd(&g->meta);
    int rc = 0;
    for (size_t i = 0; i < b->n && rc == 0; i++) {
        const struct ais_bck_md *k = &b->bcks[i];
        if (strcmp(k->provider, "ais") == 0 && k->ns[0] == '\0') {
            rc = fn(arg, k->name, k->created_ns);
        }
    }
    ais_bmd_unref(b);
    return rc;
}

static int
glue_bck_exists(void *ctx, const char *bck)
{
    struct gw *g = ctx;
    struct ais_bmd *b = ais_meta_bmd(&g->meta);
    int ok = ais_bmd_find(b, "ais", "", bck) != NULL;
    ais_bmd_unref(b);
    return ok;
}

static int
glue_bck_access(void *ctx, const char *bck, uint64_t need, char *msg, size_t cap)
{
    struct gw *g = ctx;
    struct ais_bmd *bmd = ais_meta_bmd(&g->meta);
    const struct ais_bck_md *k = ais_bmd_find(bmd, "ais", "", bck);
    char disp[AIS_BCKNAME_BYTES_MAX + 16];
    snprintf(disp, sizeof(disp), "ais://%s", bck);
    int st = k ? ais_access_check(&k->props, need, disp, msg, cap) : 0;
    ais_bmd_unref(bmd);
    return st;
}

static int
glue_bck_change(void *ctx, const char *action, const char *bck, char *msg, size_t cap)
{
    return gw_bck_change(ctx, action, "ais", "", bck, NULL, msg, cap);
}

static int
glue_obj_owner(void *ctx, const char *bck, const char *obj, char *url, size_t cap)
{
    struct gw *g = ctx;
    uint64_t digest;
    if (ais_obj_digest("ais", "", bck, obj, &digest) != 0) {
        return -EINVAL;
    }
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    const struct ais_snode *t = ais_smap_hrw_target(smap, digest);
    if (t != NULL) {
        ais_snode_url(t, url, cap);
    }
    ais_smap_unref(smap);
    return t != NULL ? 0 : -EAGAIN;
}

struct glue_slot {
    const char *bck, *prefix, *after;
    uint32_t limit;
    struct rpc_list_page page;
    size_t pos;
    int rc;
    struct rpc_err err;
};

static void
glue_list_node(struct gw *g, const struct ais_snode *n, void *slot)
{
    struct glue_slot *s = slot;
    char url[128];
    struct rpc_list_req req = {.provider = "ais",
                               .ns = "",
                               .bck = s->bck,
                               .prefix = s->prefix,
                               .after = s->after,
                               .limit = s->limit,
                               .with_md = 1};
    ais_snode_ctrl_url(n, url, sizeof(url));
    s->rc = rpc_list(url, (int)g->cfg->rpc_timeout_ms, &req, &s->page, &s->err);
    if (s->rc == -ENOENT) {
        s->rc = 0; /* no directory on that target yet: nothing to list there */
    }
}

static void
glue_ent(const struct rpc_list_entry *e, struct s3_list_ent *out)
{
    out->name = e->name;
    out->size = e->size;
    out->cksum_type = e->cksum_type ? e->cksum_type : "";
    out->cksum_value = e->cksum_value ? e->cksum_value : "";
    out->custom = e->custom ? e->custom : "";
    out->atime_ns = e->atime_ns;
}

/* k-way merge of the targets' sorted pages: up to limit names, duplicates once. */
static int
glue_merge(struct glue_slot *slots, size_t nt, size_t limit, s3_list_fn fn, void *arg, int *more)
{
    const char *last = NULL;
    size_t emitted = 0;
    int rc = 0;
    while (rc == 0) {
        size_t best = nt;
        for (size_t i = 0; i < nt; i++) {
            struct glue_slot *s = &slots[i];
            while (s->pos < s->page.n && last && strcmp(s->page.entries[s->pos].name, last) <= 0) {
                s->pos++; /* a copy of a name already emitted */
            }
            if (s->pos < s->page.n &&
                (best == nt || strcmp(s->page.entries[s->pos].name,
                                      slots[best].page.entries[slots[best].pos].name) < 0)) {
                best = i;
            }
        }
        if (best == nt || emitted == limit) {
            break;
        }
        struct s3_list_ent e;
        glue_ent(&slots[best].page.entries[slots[best].pos], &e);
        last = slots[best].page.entries[slots[best].pos++].name;
        emitted++;
        rc = fn(arg, &e);
    }
    int m = 0;
    for (size_t i = 0; i < nt; i++) {
        m |= slots[i].pos < slots[i].page.n || slots[i].page.more;
    }
    *more = m;
    return rc;
}

static int
glue_obj_list(void *ctx, const char *bck, const char *prefix, const char *after, size_t limit,
              s3_list_fn fn, void *arg, int *more)
{
    struct gw *g = ctx;
    if (limit == 0 || limit > AIS_LIST_PAGE_MAX) {
        return -EINVAL;
    }
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    size_t nt = ais_smap_count(smap, 1);
    struct glue_slot *slots = calloc(nt ? nt : 1, sizeof(*slots));
    int rc = slots ? 0 : -ENOMEM;
    for (size_t i = 0; slots && i < nt; i++) {
        slots[i] = (struct glue_slot){
            .bck = bck, .prefix = prefix, .after = after, .limit = (uint32_t)limit};
    }
    size_t n = slots ? gw_fanout(g, smap, 1, glue_list_node, slots, sizeof(*slots)) : 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (slots[i].rc != 0) {
            rc = slots[i].rc;
            AIS_LOG_WARN("req=s3-list bck=%s err=\"%s\"", bck, slots[i].err.msg);
        }
    }
    if (rc == 0 && nt == 0) {
        rc = -EAGAIN;
    }
    rc = rc ? rc : glue_merge(slots, n, limit, fn, arg, more);
    for (size_t i = 0; i < n; i++) {
        rpc_list_page_fini(&slots[i].page);
    }
    free(slots);
    ais_smap_unref(smap);
    return rc;
}

void
gw_s3_ops_init(struct gw *g, struct s3_ops *ops)
{
    *ops = (struct s3_ops){.ctx = g,
                           .bck_each = glue_bck_each,
                           .bck_exists = glue_bck_exists,
                           .bck_access = glue_bck_access,
                           .bck_change = glue_bck_change,
                           .obj_owner = glue_obj_owner,
                           .obj_list = glue_obj_list};
}
