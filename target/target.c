/*
 * Design notes: the target owns one meta holder (Smap + BMD), the mountpaths and two servers:
 * HTTP for clients, nng for peers. Bucket directories follow the BMD: every BMD change creates
 * dirs of new buckets and removes those of destroyed ones, so the datapath only checks the BMD.
 */
#include "target/target.h"

#include "common/err.h"
#include "common/hrw.h"
#include "common/json.h"
#include "common/log.h"
#include "common/names.h"
#include "common/util.h"
#include "target/target_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
bck_of(const struct ais_bck_md *k, struct st_bck *b)
{
    b->provider = k->provider;
    b->ns = k->ns;
    b->name = k->name;
}

/*
 * Removes dirs of buckets gone since old (or re-created: new bid), then creates dirs of the
 * buckets in cur. Removal first, so a destroy + create of the same name ends with empty dirs.
 */
static void
sync_bucket_dirs(struct tgt *t, const struct ais_bmd *old, const struct ais_bmd *cur)
{
    struct st_bck b;
    for (size_t i = 0; old != NULL && i < old->n; i++) {
        const struct ais_bck_md *k = &old->bcks[i];
        const struct ais_bck_md *now = ais_bmd_find(cur, k->provider, k->ns, k->name);
        if (now == NULL || now->bid != k->bid) {
            bck_of(k, &b);
            if (st_bck_destroy(t->mp, &b) != 0) {
                AIS_LOG_WARN("req=bck-destroy bck=%s msg=\"cannot remove bucket dirs\"", b.name);
            }
        }
    }
    for (size_t i = 0; i < cur->n; i++) {
        bck_of(&cur->bcks[i], &b);
        if (st_bck_create(t->mp, &b) != 0) {
            AIS_LOG_WARN("req=bck-create bck=%s msg=\"cannot create bucket dirs\"", b.name);
        }
    }
}

static void
on_meta_changed(void *ctx, int changed, const struct ais_bmd *old_bmd)
{
    struct tgt *t = ctx;
    if (changed & 2) {
        struct ais_bmd *cur = ais_meta_bmd(&t->meta);
        sync_bucket_dirs(t, old_bmd, cur);
        ais_bmd_unref(cur);
    }
}

static int
op_metasync(void *ctx, struct ais_smap *smap, struct ais_bmd *bmd, struct rpc_err *err)
{
    struct tgt *t = ctx;
    struct rpc_member *member = __atomic_load_n(&t->member, __ATOMIC_ACQUIRE);
    if (member == NULL) {
        /* Still joining: the join reply will carry the same or newer metadata. */
        struct ais_bmd *old = NULL;
        int changed = ais_meta_apply(&t->meta, smap, bmd, &old);
        on_meta_changed(t, changed, old);
        ais_bmd_unref(old);
        return 0;
    }
    rpc_member_apply(member, smap, bmd);
    return 0;
}

struct list_cb {
    struct rpc_list_page *page;
};

static int
list_one(void *ctx, const char *name, const struct st_obj_md *md)
{
    struct list_cb *c = ctx;
    struct rpc_list_entry e = {.name = (char *)name};
    if (md != NULL) {
        e.size = md->size;
        e.cksum_type = (char *)md->cksum_type;
        e.cksum_value = (char *)md->cksum_value;
        e.version = (char *)md->version;
        e.custom = (char *)md->custom;
        e.atime_ns = md->atime_ns;
    }
    return rpc_list_page_add(c->page, &e);
}

static int
op_list(void *ctx, const struct rpc_list_req *q, struct rpc_list_page *page, struct rpc_err *err)
{
    struct tgt *t = ctx;
    struct st_bck b = {.provider = q->provider, .ns = q->ns, .name = q->bck};
    struct list_cb c = {.page = page};
    int more = 0;
    ais_stats_add(&t->stats, AIS_STAT_LST_N, 1);
    int rc = st_bck_list(t->mp, &b, q->prefix, q->after, q->limit, q->with_md, list_one, &c, &more);
    if (rc == -ENOENT) {
        rc = 0; /* no objects here yet */
    }
    if (rc != 0) {
        ais_stats_add(&t->stats, AIS_STAT_ERR_LST_N, 1);
        snprintf(err->msg, sizeof(err->msg), "list %s: %s", q->bck, ais_strerror(rc));
        rpc_list_page_fini(page);
        return rc;
    }
    page->more = more;
    return 0;
}

static int
op_delete(void *ctx, const char *provider, const char *ns, const char *bck,
          const char *const *names, size_t n, uint64_t *deleted, uint64_t *missing,
          struct rpc_err *err)
{
    struct tgt *t = ctx;
    struct st_bck b = {.provider = provider, .ns = ns, .name = bck};
    for (size_t i = 0; i < n; i++) {
        uint64_t digest = 0;
        /* Names arrive from a gateway that validated them; a peer is still not trusted. */
        int rc = ais_obj_name_check(names[i], strlen(names[i]), NULL);
        rc = rc ? rc : ais_obj_digest(provider, ns, bck, names[i], &digest);
        rc = rc ? rc : st_obj_delete(t->mp, &b, names[i], digest);
        if (rc == 0) {
            (*deleted)++;
            ais_stats_add(&t->stats, AIS_STAT_DEL_N, 1);
        } else {
            (*missing)++;
        }
    }
    return 0;
}

static json_t *
mountpaths_json(struct tgt *t)
{
    json_t *avail = json_array();
    for (size_t i = 0; i < st_mpaths_count(t->mp); i++) {
        json_array_append_new(avail, json_string(st_mpaths_path(t->mp, i)));
    }
    return json_pack("{s:o, s:[], s:[]}", "available", avail, "disabled", "waiting_dd");
}

static json_t *
capacity_json(struct tgt *t)
{
    json_t *cap = json_object();
    for (size_t i = 0; i < st_mpaths_count(t->mp); i++) {
        uint64_t total = 0, avail = 0;
        if (st_mpaths_capacity(t->mp, i, &total, &avail) == 0) {
            int pct = total ? (int)((total - avail) * 100 / total) : 0;
            json_object_set_new(cap, st_mpaths_path(t->mp, i),
                                json_pack("{s:o, s:o, s:i}", "total", ais_json_u64(total), "avail",
                                          ais_json_u64(avail), "pct_used", pct));
        }
    }
    return cap;
}

json_t *
tgt_query_json(struct tgt *t, const char *what)
{
    if (what == NULL || strcmp(what, "stats") == 0 || strcmp(what, "node_status") == 0) {
        return json_pack("{s:o, s:o, s:o}", "snode", ais_snode_to_json(&t->self), "tracker",
                         ais_stats_tracker_json(&t->stats), "capacity", capacity_json(t));
    }
    if (strcmp(what, "mountpaths") == 0) {
        return mountpaths_json(t);
    }
    return ais_meta_query_json(&t->meta, t->cfg, &t->self, what);
}

static json_t *
op_query(void *ctx, const char *what)
{
    return tgt_query_json(ctx, what);
}

static int
op_config_set(void *ctx, const char *const *names, const char *const *values, size_t n,
              struct rpc_err *err)
{
    struct tgt *t = ctx;
    return ais_config_set_many(t->cfg, names, values, n, err->msg, sizeof(err->msg));
}

static const struct rpc_ops tgt_rpc_ops = {
    .metasync = op_metasync,
    .list = op_list,
    .delete_objs = op_delete,
    .query = op_query,
    .config_set = op_config_set,
};

static int
open_mountpaths(struct tgt *t)
{
    const char *paths[AIS_MPATHS_MAX];
    for (size_t i = 0; i < t->cfg->nfspaths; i++) {
        paths[i] = t->cfg->fspaths[i];
    }
    int rc = st_mpaths_open(paths, t->cfg->nfspaths, t->self.id, &t->mp);
    if (rc != 0) {
        AIS_LOG_ERR("req=start msg=\"cannot open mountpaths\" err=\"%s\"", ais_strerror(rc));
        return rc;
    }
    /* Buckets known from the persisted BMD get their dirs before serving. */
    struct ais_bmd *b = ais_meta_bmd(&t->meta);
    sync_bucket_dirs(t, NULL, b);
    ais_bmd_unref(b);
    return 0;
}

static void
wait_stop(const volatile int *stop)
{
    while (!*stop) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int
tgt_run(const struct ais_config *cfg, const volatile int *stop)
{
    struct tgt *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return -ENOMEM;
    }
    t->cfg = cfg;
    ais_stats_init(&t->stats);
    int rc = ais_node_self_init(cfg, &t->self);
    rc = rc ? rc : ais_meta_init(&t->meta, cfg->confdir);
    rc = rc ? rc : open_mountpaths(t);
    rc = rc ? rc : rpc_node_listen(&t->self, &tgt_rpc_ops, tgt_http_handler, t, &t->rpc, &t->http);
    if (rc == 0) {
        AIS_LOG_INFO("req=start role=target id=%s port=%u ctrl=%u", t->self.id, (unsigned)cfg->port,
                     (unsigned)cfg->ctrl_port);
        struct rpc_member *member = NULL;
        rc = rpc_member_start(cfg, &t->self, &t->meta, on_meta_changed, t, &member);
        __atomic_store_n(&t->member, member, __ATOMIC_RELEASE);
        if (rc != 0) {
            AIS_LOG_ERR("req=join msg=\"primary did not answer\" primary=%s", cfg->primary_url);
        }
    }
    if (rc == 0) {
        __atomic_store_n(&t->ready, 1, __ATOMIC_RELEASE);
        wait_stop(stop);
        AIS_LOG_INFO("req=stop id=%s", t->self.id);
    }
    ais_http_stop(t->http);
    rpc_server_stop(t->rpc);
    rpc_member_stop(t->member);
    st_mpaths_free(t->mp);
    if (t->meta.smap != NULL) {
        ais_meta_fini(&t->meta);
    }
    free(t);
    return rc;
}
