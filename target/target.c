/*
 * Design notes: the target owns one meta holder (Smap + BMD), the mountpaths and two servers:
 * HTTP for clients, nng for peers. Bucket directories follow the BMD: every BMD change creates
 * dirs of new buckets and removes those of destroyed ones, so the datapath only checks the BMD.
 * Destroy renames into the mountpath trash (removed in the background by storage), under
 * bck_mu so a PUT's "create the dirs if missing" can never resurrect a destroyed bucket.
 * Listing pages continue the walk of a cached cursor (lcache.c): one walk per listing.
 */
#include "target/target.h"

#include "common/err.h"
#include "common/hrw.h"
#include "common/json.h"
#include "common/log.h"
#include "common/names.h"
#include "common/util.h"
#include "storage/slice.h"
#include "target/lsarch.h"
#include "target/moss.h"
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
    /* Destroy only renames into the trash (storage/trash.c): no tree walk in the listener. */
    pthread_mutex_lock(&t->bck_mu);
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
    pthread_mutex_unlock(&t->bck_mu);
}

/*
 * Under bck_mu, so it cannot interleave with a listener's destroy: the listener runs after its
 * BMD is installed, hence once a destroy has moved the dirs away, the BMD read here no longer
 * has the bucket and nothing is re-created.
 */
int
tgt_bck_dirs_ensure(struct tgt *t, const struct st_bck *b)
{
    pthread_mutex_lock(&t->bck_mu);
    struct ais_bmd *bmd = ais_meta_bmd(&t->meta);
    int err = ais_bmd_find(bmd, b->provider, b->ns, b->name) != NULL ? 0 : -ENOENT;
    ais_bmd_unref(bmd);
    if (err == 0) {
        err = st_bck_create(t->mp, b);
    }
    pthread_mutex_unlock(&t->bck_mu);
    return err;
}

/*
 * A bucket whose mirror setting changed (same bucket: same bid) gets a make-n-copies job with the
 * id the gateway answered the set-bprops with: "n" + the BMD version.
 */
static void
mirror_changes(struct tgt *t, const struct ais_bmd *old, const struct ais_bmd *cur)
{
    for (size_t i = 0; old != NULL && i < cur->n; i++) {
        const struct ais_bck_md *k = &cur->bcks[i];
        const struct ais_bck_md *was = ais_bmd_find(old, k->provider, k->ns, k->name);
        if (was == NULL || was->bid != k->bid ||
            ais_bprops_copies(&was->props) == ais_bprops_copies(&k->props)) {
            continue;
        }
        char id[XA_ID_BYTES];
        snprintf(id, sizeof(id), "n%lld", (long long)cur->version);
        if (reb_mnc_start(t->rsl, k->provider, k->ns, k->name, id, NULL) != 0) {
            AIS_LOG_WARN("req=make-n-copies bck=%s msg=\"cannot start\"", k->name);
        }
    }
}

/*
 * EC (target/ec.c): a bucket whose EC got enabled or whose slice counts or size limit changed
 * gets an ec-encode job with the id the gateway answered: "e" + the BMD version. After a
 * membership change that moves objects, every EC bucket gets one too, which waits for the
 * rebalance and then re-places what it must.
 */
static int
ec_props_changed(const struct ais_bprops *was, const struct ais_bprops *now)
{
    return now->ec_enabled &&
           (!was->ec_enabled || was->ec_data != now->ec_data || was->ec_parity != now->ec_parity ||
            was->ec_objsize_limit != now->ec_objsize_limit);
}

static void
ec_changes(struct tgt *t, const struct ais_bmd *old, const struct ais_bmd *cur)
{
    for (size_t i = 0; old != NULL && i < cur->n; i++) {
        const struct ais_bck_md *k = &cur->bcks[i];
        const struct ais_bck_md *was = ais_bmd_find(old, k->provider, k->ns, k->name);
        if (was == NULL || was->bid != k->bid || !ec_props_changed(&was->props, &k->props)) {
            continue;
        }
        char id[XA_ID_BYTES];
        snprintf(id, sizeof(id), "e%lld", (long long)cur->version);
        if (tgt_ec_encode_start(t->ec, k->provider, k->ns, k->name, id, 0) != 0) {
            AIS_LOG_WARN("req=ec-encode bck=%s msg=\"cannot start\"", k->name);
        }
    }
}

static void
ec_smap_changed(struct tgt *t, const struct ais_smap *old, const struct ais_smap *cur)
{
    if (old == NULL || !reb_smap_moves(old, cur) || ais_smap_find(cur, t->self.id) == NULL) {
        return;
    }
    struct ais_bmd *bmd = ais_meta_bmd(&t->meta);
    for (size_t i = 0; i < bmd->n; i++) {
        const struct ais_bck_md *k = &bmd->bcks[i];
        /* A random id each: one Smap version starts one job per EC bucket. */
        if (k->props.ec_enabled &&
            tgt_ec_encode_start(t->ec, k->provider, k->ns, k->name, NULL, 1) != 0) {
            AIS_LOG_WARN("req=ec-encode bck=%s msg=\"cannot start after membership change\"",
                         k->name);
        }
    }
    ais_bmd_unref(bmd);
}

/*
 * The meta listener: runs once per installed BMD, serialised and in version order, with the
 * exact (old, new) pair that was installed (pushes, join and keepalive replies all go through
 * ais_meta_apply).
 */
static void
on_meta_changed(void *ctx, const struct ais_meta_change *c)
{
    struct tgt *t = ctx;
    if (c->new_bmd != NULL) {
        sync_bucket_dirs(t, c->old_bmd, c->new_bmd);
        mirror_changes(t, c->old_bmd, c->new_bmd);
        ec_changes(t, c->old_bmd, c->new_bmd);
    }
    if (c->new_smap != NULL) {
        reb_on_smap(t->reb, c->old_smap, c->new_smap); /* starts or supersedes a rebalance */
        ec_smap_changed(t, c->old_smap, c->new_smap);
    }
}

/* A push from the primary (also while still joining): install, persist, ack the versions. */
static int
op_metasync(void *ctx, struct ais_smap *smap, struct ais_bmd *bmd, struct rpc_meta_ack *ack,
            struct rpc_err *err)
{
    struct tgt *t = ctx;
    struct ais_meta_vers v;
    (void)ais_meta_apply(&t->meta, smap, bmd, &v);
    ack->smap_version = v.smap;
    ack->bmd_version = v.bmd;
    return 0;
}

struct list_cb {
    struct rpc_list_page *page;
};

struct rpc_list_entry
tgt_list_entry(const char *name, const struct st_obj_md *md)
{
    struct rpc_list_entry e = {.name = (char *)name};
    if (md != NULL) {
        e.size = md->size;
        e.cksum_type = (char *)md->cksum_type;
        e.cksum_value = (char *)md->cksum_value;
        e.version = (char *)md->version;
        e.custom = (char *)md->custom;
        e.atime_ns = md->atime_ns;
    }
    return e;
}

static int
list_one(void *ctx, const char *name, const struct st_obj_md *md)
{
    struct list_cb *c = ctx;
    struct rpc_list_entry e = tgt_list_entry(name, md);
    return rpc_list_page_add(c->page, &e);
}

static int
op_list(void *ctx, const struct rpc_list_req *q, struct rpc_list_page *page, struct rpc_err *err)
{
    struct tgt *t = ctx;
    struct st_bck b = {.provider = q->provider, .ns = q->ns, .name = q->bck};
    struct list_cb c = {.page = page};
    struct st_list_iter *it = NULL;
    int more = 0;
    ais_stats_add(&t->stats, AIS_STAT_LST_N, 1);
    int rc = 0;
    if (q->arch) {
        rc = tgt_lsarch_page(t, &b, q, page, &more); /* with shards' members (lsarch.h) */
    } else {
        /* A cursor left by the previous page of this listing continues its walk (lcache.c). */
        rc = tgt_lcache_take(t->lcache, t->mp, &b, q->prefix, q->with_md, q->after, &it);
        if (rc == 0) {
            rc = st_list_iter_next_page(it, q->limit, list_one, &c, &more);
        }
        /* Kept even when this target is done: the gateway may use only part of the page. */
        if (rc == 0 && st_list_iter_last(it)[0] != '\0') {
            tgt_lcache_give(t->lcache, it);
        } else {
            st_list_iter_close(it);
        }
    }
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

/*
 * EC buckets: a name this target owns also loses its slices on every other target (an
 * ec_delete RPC, which removes records only and never fans out again). Names owned by others
 * only lose the records kept here.
 */
static void
op_delete_ec(struct tgt *t, const struct st_bck *b, const char *const *names, size_t n)
{
    struct ais_bmd *bmd = ais_meta_bmd(&t->meta);
    const struct ais_bck_md *k = ais_bmd_find(bmd, b->provider, b->ns, b->name);
    int ec = k != NULL && k->props.ec_enabled;
    ais_bmd_unref(bmd);
    struct ais_smap *smap = ais_meta_smap(&t->meta);
    const char **mine = ec ? calloc(n ? n : 1, sizeof(*mine)) : NULL;
    size_t nm = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t digest = 0;
        if (ais_obj_name_check(names[i], strlen(names[i]), NULL) != 0 ||
            ais_obj_digest(b->provider, b->ns, b->name, names[i], &digest) != 0) {
            continue;
        }
        (void)st_slice_delete(t->mp, b, names[i], digest);
        const struct ais_snode *owner = ais_smap_hrw_target(smap, digest);
        if (mine != NULL && owner != NULL && strcmp(owner->id, t->self.id) == 0) {
            mine[nm++] = names[i];
        }
    }
    ais_smap_unref(smap);
    if (nm > 0) {
        tgt_ec_delete(t, b, mine, nm);
    }
    free(mine);
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
    op_delete_ec(t, &b, names, n);
    return 0;
}

static int
op_ec_delete(void *ctx, const char *provider, const char *ns, const char *bck,
             const char *const *names, size_t n, struct rpc_err *err)
{
    struct st_bck b = {.provider = provider, .ns = ns, .name = bck};
    return tgt_ec_delete_local(ctx, &b, names, n);
}

static int
op_slice_read(void *ctx, const struct rpc_slice_req *q, struct rpc_slice *out, struct rpc_err *err)
{
    return tgt_ec_slice_read(ctx, q, out, err);
}

static void
op_obj_read(void *ctx, const struct rpc_obj_ref *q, struct rpc_obj_piece *out)
{
    tgt_moss_obj_read(ctx, q, out);
}

static json_t *
capacity_json(struct tgt *t)
{
    json_t *cap = json_object();
    for (size_t i = 0; i < st_mpaths_count(t->mp); i++) {
        uint64_t total = 0, avail = 0;
        if (st_mpaths_state(t->mp, i) != ST_MPATH_NONE &&
            st_mpaths_capacity(t->mp, i, &total, &avail) == 0) {
            int pct = total ? (int)((total - avail) * 100 / total) : 0;
            json_object_set_new(cap, st_mpaths_path(t->mp, i),
                                json_pack("{s:o, s:o, s:i}", "total", ais_json_u64(total), "avail",
                                          ais_json_u64(avail), "pct_used", pct));
        }
    }
    return cap;
}

/* Every job this target remembers, as JobSnap JSON (the gateway filters and merges). */
static json_t *
xactions_json(struct tgt *t)
{
    struct xa_snap *v = calloc(AIS_XACT_RECORDS_MAX, sizeof(*v));
    json_t *arr = json_array();
    size_t n = v ? xa_snaps(t->xreg, &(struct xa_filter){0}, v, AIS_XACT_RECORDS_MAX) : 0;
    for (size_t i = 0; i < n && i < AIS_XACT_RECORDS_MAX; i++) {
        json_array_append_new(arr, xa_snap_to_json(&v[i]));
    }
    free(v);
    return arr;
}

json_t *
tgt_query_json(struct tgt *t, const char *what)
{
    if (what == NULL || strcmp(what, "stats") == 0 || strcmp(what, "node_status") == 0) {
        json_t *tracker = ais_stats_tracker_json(&t->stats);
        char v[24];
        /* List walks started (one per listing when cursors hit) and pages served by a cursor. */
        snprintf(v, sizeof(v), "%llu", (unsigned long long)st_mpaths_list_walks(t->mp));
        json_object_set_new(tracker, "list.walks", json_pack("{s:s}", "v", v));
        snprintf(v, sizeof(v), "%llu", (unsigned long long)tgt_lcache_hits(t->lcache));
        json_object_set_new(tracker, "list.cursor.hits", json_pack("{s:s}", "v", v));
        /* archpath reads of TAR shards answered from the in-memory member index. */
        snprintf(v, sizeof(v), "%llu", (unsigned long long)tgt_ixc_hits(t->ixc));
        json_object_set_new(tracker, "arch.index.mem.hits", json_pack("{s:s}", "v", v));
        return json_pack("{s:o, s:o, s:o}", "snode", ais_snode_to_json(&t->self), "tracker",
                         tracker, "capacity", capacity_json(t));
    }
    if (strcmp(what, "xactions") == 0) {
        return xactions_json(t);
    }
    if (strcmp(what, "mountpaths") == 0) {
        return tgt_mpaths_json(t);
    }
    if (ais_log_is_query(what)) {
        return ais_log_query_json(what); /* /v1/reverse/daemon?what=log via a gateway */
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

static int
op_obj_pull(void *ctx, const char *provider, const char *ns, const char *bck, const char *obj,
            const char *dest_url, struct rpc_err *err)
{
    struct tgt *t = ctx;
    int rc = reb_pull_serve(t->reb, provider, ns, bck, obj, dest_url);
    if (rc != 0 && rc != -ENOENT) {
        snprintf(err->msg, sizeof(err->msg), "pull %s/%s: %s", bck, obj, ais_strerror(rc));
    }
    return rc;
}

static int
op_xact_stop(void *ctx, const char *id, const char *kind, struct rpc_err *err)
{
    struct tgt *t = ctx;
    (void)xa_abort(t->xreg, &(struct xa_filter){.id = id, .kind = kind});
    if (id != NULL && id[0] != '\0') {
        tgt_objs_abort(t, id); /* a gateway's job: its downloads here stop too */
    }
    return 0;
}

/*
 * shutdown-node / decommission-node from the primary: heartbeats stop before the answer, so
 * the primary can drop this node from the Smap without a keepalive racing it back in (a
 * dropped node that still heartbeats rejoins); then the run loop exits and tgt_run cleans up.
 */
static int
op_node_shutdown(void *ctx, const char *sid, int decommission, struct rpc_err *err)
{
    struct tgt *t = ctx;
    if (strcmp(sid, t->self.id) != 0) {
        snprintf(err->msg, sizeof(err->msg), "shutdown of %s sent to %s", sid, t->self.id);
        return -EINVAL;
    }
    AIS_LOG_INFO("req=node-shutdown id=%s decommission=%d", t->self.id, decommission);
    rpc_member_stop(__atomic_exchange_n(&t->member, NULL, __ATOMIC_ACQ_REL));
    __atomic_store_n(&t->leaving, 1, __ATOMIC_RELEASE);
    return 0;
}

/* Election votes and probes are answered by the membership state (rpc/member.c). */
static int
op_vote(void *ctx, const struct rpc_vote_req *q, struct rpc_vote *out, struct rpc_err *err)
{
    struct tgt *t = ctx;
    (void)err;
    out->is_primary = 0;
    rpc_member_vote(__atomic_load_n(&t->member, __ATOMIC_ACQUIRE), &t->meta, q, out);
    return 0;
}

static int
op_xact_start(void *ctx, const struct rpc_xact_args *a, struct rpc_err *err)
{
    struct tgt *t = ctx;
    int rc = -EINVAL,
        per_bck = strcmp(a->kind, "scrub") == 0 || strcmp(a->kind, "make-n-copies") == 0;
    if (strcmp(a->kind, "rebalance") == 0) {
        rc = reb_start(t->reb, a->id);
    } else if (strcmp(a->kind, "lru") == 0) {
        rc = sp_lru_start(t->space, a->id, NULL);
    } else if (per_bck) {
        struct ais_bmd *bmd = ais_meta_bmd(&t->meta);
        int known = ais_bmd_find(bmd, a->provider, a->ns, a->bck) != NULL;
        ais_bmd_unref(bmd);
        rc = !known              ? -ENOENT
             : a->kind[0] == 's' ? reb_scrub_start(t->rsl, a->provider, a->ns, a->bck, a->id, NULL)
                                 : reb_mnc_start(t->rsl, a->provider, a->ns, a->bck, a->id, NULL);
    } else {
        snprintf(err->msg, sizeof(err->msg),
                 "job kind \"%s\" cannot be started (supported: rebalance, lru, scrub, "
                 "make-n-copies)",
                 a->kind);
        return -EINVAL;
    }
    if (rc != 0) {
        snprintf(err->msg, sizeof(err->msg), "start %s %s%s%s: %s", a->kind, a->id,
                 per_bck ? " bucket " : "", per_bck ? a->bck : "", ais_strerror(rc));
    }
    return rc;
}

static int
op_dsort(void *ctx, const char *op, const char *uuid, const void *body, size_t len, void **out,
         size_t *out_len, struct rpc_err *err)
{
    struct tgt *t = ctx;
    return ds_rpc(t->ds, op, uuid, body, len, out, out_len, err);
}

static const struct rpc_ops tgt_rpc_ops = {
    .dsort = op_dsort,
    .xact_start = op_xact_start,
    .vote = op_vote,
    .node_shutdown = op_node_shutdown,
    .obj_pull = op_obj_pull,
    .slice_read = op_slice_read,
    .obj_read = op_obj_read,
    .ec_delete = op_ec_delete,
    .xact_stop = op_xact_stop,
    .metasync = op_metasync,
    .list = op_list,
    .delete_objs = op_delete,
    .objs_op = tgt_objs_op,
    .query = op_query,
    .config_set = op_config_set,
};

static int
open_mountpaths(struct tgt *t, int *need_rsl)
{
    int rc = tgt_mpaths_open(t, need_rsl); /* h_mpath.c: persisted list or config */
    if (rc != 0) {
        return rc;
    }
    /* Buckets known from the persisted BMD get their dirs before serving. */
    struct ais_bmd *b = ais_meta_bmd(&t->meta);
    sync_bucket_dirs(t, NULL, b);
    ais_bmd_unref(b);
    return 0;
}

static void
wait_stop(struct tgt *t, const volatile int *stop)
{
    while (!*stop && !__atomic_load_n(&t->leaving, __ATOMIC_ACQUIRE)) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* GET /v1/daemon?what=log is text, not a query JSON: served here, the rest by the routes. */
static void
http_entry(struct ais_req *r, void *ctx)
{
    const char *what = ais_req_is(r, "GET") ? ais_req_query(r, "what") : NULL;
    if (what != NULL && strcmp(what, "log") == 0 && strcmp(ais_req_path(r), "/v1/daemon") == 0) {
        ais_log_serve(r);
        return;
    }
    tgt_http_handler(r, ctx);
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
    int rc = pthread_mutex_init(&t->bck_mu, NULL);
    if (rc != 0) {
        free(t);
        return -rc;
    }
    pthread_mutex_init(&t->ab_mu, NULL);
    rc = pthread_mutex_init(&t->mpath_mu, NULL);
    if (rc != 0) {
        pthread_mutex_destroy(&t->bck_mu);
        free(t);
        return -rc;
    }
    int need_rsl = 0;
    rc = tgt_lcache_new(&t->lcache);
    if (rc == 0) {
        rc = tgt_ixc_new(&t->ixc);
    }
    rc = rc ? rc : ais_node_self_init(cfg, &t->self);
    if (rc == 0) {
        ais_log_node_set(t->self.id); /* every later line names this node */
    }
    rc = rc ? rc : xa_reg_new(t->self.id, &t->xreg);
    rc = rc ? rc : ais_statsd_start(cfg, &t->stats, t->self.id, 1, &t->statsd);
    rc = rc ? rc : ais_meta_init(&t->meta, cfg->confdir);
    rc = rc ? rc : open_mountpaths(t, &need_rsl);
    rc = rc ? rc : tgt_ec_new(t, &t->ec);
    if (rc == 0) {
        struct bk_conf bc;
        bk_conf_load(&bc); /* start-up: the environment the AWS SDKs read */
        bc.meta = &t->meta;
        rc = bk_new(&bc, &t->bk);
    }
    rc = rc ? rc : tgt_cold_new(t, t->bk, &t->cold);
    if (rc == 0) {
        struct reb_env env = {.cfg = cfg,
                              .self = &t->self,
                              .meta = &t->meta,
                              .mp = t->mp,
                              .xreg = t->xreg,
                              .ec_ops = &tgt_ec_recv_ops,
                              .ec_ctx = t,
                              .obj_arrived = tgt_ec_obj_arrived};
        rc = reb_new(&env, &t->reb); /* its stream receiver is up before we join */
    }
    if (rc == 0) {
        struct reb_rsl_env renv = {.meta = &t->meta,
                                   .mp = t->mp,
                                   .xreg = t->xreg,
                                   .dropped = tgt_mpaths_dropped,
                                   .ctx = t};
        rc = reb_rsl_new(&renv, &t->rsl);
        /* A mountpath missing at start (or a detach left unfinished): move objects now. */
        if (rc == 0 && need_rsl && reb_rsl_start(t->rsl, NULL) != 0) {
            AIS_LOG_WARN("req=start msg=\"cannot start resilver\"");
        }
    }
    if (rc == 0) {
        struct ds_env denv = {
            .cfg = cfg, .self = &t->self, .meta = &t->meta, .mp = t->mp, .xreg = t->xreg};
        rc = ds_new(&denv, &t->ds);
    }
    if (rc == 0) {
        struct sp_env senv = {.cfg = cfg, .meta = &t->meta, .mp = t->mp, .xreg = t->xreg};
        rc = sp_start(&senv, &t->space); /* before the servers: every PUT is checked */
    }
    if (rc == 0) {
        struct tgt_fshc *f = NULL;
        rc = tgt_fshc_start(t, &f);
        __atomic_store_n(&t->fshc, f, __ATOMIC_RELEASE);
    }
    if (rc == 0) {
        /* Before any server runs: every later BMD change reaches the bucket dirs. */
        ais_meta_listen(&t->meta, on_meta_changed, t);
    }
    rc = rc ? rc : rpc_node_listen(cfg, &t->self, &tgt_rpc_ops, http_entry, t, &t->rpc, &t->http);
    if (rc == 0) {
        AIS_LOG_INFO("req=start role=target id=%s port=%u ctrl=%u", t->self.id, (unsigned)cfg->port,
                     (unsigned)cfg->ctrl_port);
        struct rpc_member *member = NULL;
        rc = rpc_member_start(cfg, &t->self, &t->meta, &member);
        __atomic_store_n(&t->member, member, __ATOMIC_RELEASE);
        if (rc != 0) {
            AIS_LOG_ERR("req=join msg=\"primary did not answer\" primary=%s", cfg->primary_url);
        }
    }
    if (rc == 0) {
        __atomic_store_n(&t->ready, 1, __ATOMIC_RELEASE);
        wait_stop(t, stop);
        AIS_LOG_INFO("req=stop id=%s", t->self.id);
    }
    ais_http_stop(t->http);
    ais_statsd_stop(t->statsd); /* after the last request: its final push counts them all */
    rpc_server_stop(t->rpc);
    rpc_member_stop(__atomic_exchange_n(&t->member, NULL, __ATOMIC_ACQ_REL));
    ds_free(t->ds); /* no step arrives any more; its jobs use the mountpaths and the registry */
    tgt_cold_free(t->cold); /* aborts fills in flight; no request is left to join them */
    bk_free(t->bk);
    reb_free(t->reb); /* its receiver calls into the EC service: stopped first */
    tgt_ec_free(t->ec);
    tgt_fshc_stop(__atomic_exchange_n(&t->fshc, NULL, __ATOMIC_ACQ_REL)); /* it may resilver */
    sp_stop(t->space); /* its LRU job uses the mountpaths and the registry */
    reb_rsl_free(t->rsl);
    xa_reg_free(t->xreg); /* jobs use the mountpaths: end them first */
    tgt_lcache_free(t->lcache);
    tgt_ixc_free(t->ixc);
    st_mpaths_free(t->mp);
    ais_meta_fini(&t->meta);
    pthread_mutex_destroy(&t->mpath_mu);
    pthread_mutex_destroy(&t->bck_mu);
    pthread_mutex_destroy(&t->ab_mu);
    free(t);
    return rc;
}
