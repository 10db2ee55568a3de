/*
 * Design notes: one mover per target. reb_on_smap runs in the metadata listener (version
 * order, must not block): it signals abort to the running job and starts a new job "g<ver>";
 * the new body first takes run_mu, so it begins only after the superseded one returned (the
 * abort makes that quick) and two movers never walk at once.
 *
 * The mover walks every bucket of the BMD with one resumable list iterator per bucket (one
 * walk, pages of REB_PAGE names) and sends each object it does not own to its owner over one
 * stream per destination, opened lazily. A send returns only when the receiver acknowledged a
 * durable write, so then the local copy is removed with st_obj_delete_if: only if it is still
 * the file that was sent (a PUT that replaced it meanwhile is kept, and moved by the next
 * rebalance). Errors are counted, the walk goes on, and the job ends with an error naming the
 * count: the next Smap change (e.g. the dead peer dropped) restarts the work.
 *
 * The receiver writes every object through st_put (work file, checksum verified against the
 * sender's, rename) with the sender's version and mtime, and keep_newer: under the object's
 * exclusive lock an existing copy with a newer or equal mtime wins and the moved one is
 * dropped (acked as success, so the sender still removes its stale copy).
 */
#include "reb/reb.h"

#include "common/err.h"
#include "common/hrw.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/names.h"
#include "rpc/rpc.h"
#include "rpc/stream.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REB_PAGE 1000
#define REB_DESTS_MAX 64 /* destinations one mover streams to; more are skipped (and retried) */
#define REB_KIND "rebalance"

struct reb {
    struct reb_env env;
    pthread_mutex_t run_mu;     /* one mover body at a time */
    pthread_mutex_t mu;         /* prev_smap */
    struct ais_smap *prev_smap; /* the map before the current one: gfn asks its owner first */
    struct rpc_stream_server *recv;
    int joined; /* saw a Smap that includes this target (under mu) */
};

void
reb_data_url(const struct ais_snode *n, char *out, size_t cap)
{
    snprintf(out, cap, "tcp://%s:%u", n->host, (unsigned)n->ctrl_port + AIS_DATA_PORT_OFFSET);
}

/* ---- receiver ---- */

struct recv_obj {
    struct st_put *put;
};

static int
recv_begin(void *ctx, const struct rpc_obj_hdr *h, void **handle)
{
    struct reb *r = ctx;
    uint64_t digest = 0;
    int64_t mtime_ns = 0;
    if (h->name == NULL || ais_obj_name_check(h->name, strlen(h->name), NULL) != 0) {
        return AIS_EBADNAME; /* a peer is not trusted with paths either */
    }
    int rc = ais_obj_digest(h->provider, h->ns, h->bck, h->name, &digest);
    if (rc != 0) {
        return rc;
    }
    if (h->opaque_len == sizeof(mtime_ns)) {
        memcpy(&mtime_ns, h->opaque, sizeof(mtime_ns));
    }
    struct st_bck b = {.provider = h->provider, .ns = h->ns, .name = h->bck};
    struct st_put_opts o = {
        .cksum_type = h->cksum_type && h->cksum_type[0] ? h->cksum_type : NULL,
        .expect_type = h->cksum_type,
        .expect_value = h->cksum_value,
        .fsync = ais_config_rt_get(&r->env.cfg->rt.fsync),
        .custom = h->custom && h->custom[0] ? h->custom : NULL,
        .version = h->version && h->version[0] ? h->version : NULL,
        .mtime_ns = mtime_ns,
        .keep_newer = 1,
    };
    struct recv_obj *o2 = calloc(1, sizeof(*o2));
    if (o2 == NULL) {
        return -ENOMEM;
    }
    rc = st_put_begin(r->env.mp, &b, h->name, digest, &o, &o2->put);
    if (rc != 0) {
        free(o2);
        return rc;
    }
    *handle = o2;
    return 0;
}

static int
recv_data(void *ctx, void *handle, const void *buf, size_t len)
{
    struct recv_obj *o = handle;
    return st_put_write(o->put, buf, len);
}

static int
recv_end(void *ctx, void *handle, int ok)
{
    struct recv_obj *o = handle;
    int rc = 0;
    if (ok) {
        rc = st_put_finish(o->put, NULL);
        rc = rc == -EEXIST ? 0 : rc; /* a newer copy is here already: the sender may drop its own */
    } else {
        st_put_abort(o->put);
    }
    free(o);
    return rc;
}

static const struct rpc_stream_ops recv_ops = {
    .obj_begin = recv_begin,
    .obj_data = recv_data,
    .obj_end = recv_end,
};

/* ---- sender ---- */

/* Streams to destinations of one mover run, opened on first use. */
struct dests {
    size_t n;
    char id[REB_DESTS_MAX][AIS_DAEMON_ID_BYTES_MAX];
    struct rpc_stream *s[REB_DESTS_MAX];
    int dead[REB_DESTS_MAX]; /* open failed or stream broke: skip this destination for the run */
};

static struct rpc_stream *
dest_stream(struct dests *d, const struct ais_snode *n, int *err)
{
    size_t i = 0;
    while (i < d->n && strcmp(d->id[i], n->id) != 0) {
        i++;
    }
    if (i == d->n) {
        if (d->n == REB_DESTS_MAX) {
            *err = -ENOSPC;
            return NULL;
        }
        snprintf(d->id[i], sizeof(d->id[i]), "%s", n->id);
        d->s[i] = NULL;
        d->dead[i] = 0;
        d->n++;
    }
    if (d->s[i] == NULL && !d->dead[i]) {
        char url[128];
        reb_data_url(n, url, sizeof(url));
        *err = rpc_stream_open(url, NULL, &d->s[i]);
        if (*err != 0) {
            AIS_LOG_WARN("req=rebalance dest=%s url=%s err=\"%s\"", n->id, url, ais_strerror(*err));
            d->dead[i] = 1;
            d->s[i] = NULL;
        }
    }
    *err = d->s[i] ? 0 : -ECONNREFUSED;
    return d->s[i];
}

/* A stream broke: close it and stop using the destination in this run. */
static void
dest_fail(struct dests *d, const struct ais_snode *n)
{
    for (size_t i = 0; i < d->n; i++) {
        if (strcmp(d->id[i], n->id) == 0) {
            (void)rpc_stream_close(d->s[i]);
            d->s[i] = NULL;
            d->dead[i] = 1;
        }
    }
}

static void
dests_close(struct dests *d)
{
    for (size_t i = 0; i < d->n; i++) {
        (void)rpc_stream_close(d->s[i]);
        d->s[i] = NULL;
    }
}

/* Sends one object on s and removes the local copy once acked. 0 or negative errno. */
static int
send_obj(struct reb *r, struct rpc_stream *s, const struct st_bck *b, const char *name,
         uint64_t digest, struct xa_job *job)
{
    int fd = -1;
    struct st_obj_md md;
    int rc = st_obj_open(r->env.mp, b, name, digest, &fd, &md);
    if (rc != 0) {
        return rc == -ENOENT ? 0 : rc; /* deleted meanwhile: nothing to move */
    }
    int64_t mtime = md.mtime_ns;
    struct rpc_obj_hdr h = {
        .provider = b->provider,
        .ns = b->ns,
        .bck = b->name,
        .name = name,
        .size = md.size,
        .cksum_type = md.cksum_type,
        .cksum_value = md.cksum_value,
        .version = md.version,
        .custom = md.custom,
        .kind = REB_KIND,
        .opaque = &mtime,
        .opaque_len = sizeof(mtime),
    };
    rc = rpc_stream_send_obj(s, &h, fd, NULL, NULL);
    close(fd);
    if (rc == 0) {
        xa_job_add(job, XA_CTR_OUT, 1, md.size);
        int del = st_obj_delete_if(r->env.mp, b, name, digest, &md);
        if (del != 0 && del != -ESTALE && del != -ENOENT) {
            AIS_LOG_WARN("req=rebalance obj=%s msg=\"moved, but the local copy stays\" err=\"%s\"",
                         name, ais_strerror(del));
        }
    }
    return rc;
}

struct page_ctx {
    size_t n;
    char (*names)[AIS_OBJNAME_BYTES_MAX + 1];
};

static int
page_add(void *ctx, const char *name, const struct st_obj_md *md)
{
    struct page_ctx *p = ctx;
    snprintf(p->names[p->n++], sizeof(p->names[0]), "%s", name);
    return 0;
}

struct run {
    struct reb *r;
    struct ais_smap *smap;
    struct dests dests;
    struct page_ctx page;
    uint64_t failed;
};

/* Moves one page of names. Transport errors mark the destination dead for this run. */
static void
move_page(struct run *u, const struct st_bck *b, struct xa_job *job)
{
    for (size_t i = 0; i < u->page.n && !xa_job_aborted(job); i++) {
        const char *name = u->page.names[i];
        uint64_t digest = 0;
        if (ais_obj_digest(b->provider, b->ns, b->name, name, &digest) != 0) {
            continue;
        }
        xa_job_add(job, XA_CTR_LOC, 1, 0);
        const struct ais_snode *dest = reb_dest(u->smap, u->r->env.self->id, digest);
        if (dest == NULL) {
            continue;
        }
        int err = 0;
        struct rpc_stream *s = dest_stream(&u->dests, dest, &err);
        err = s ? send_obj(u->r, s, b, name, digest, job) : err;
        if (err != 0) {
            u->failed++;
            if (err == -ECONNRESET || err == -ETIMEDOUT || err == -ECANCELED || err == -EIO) {
                dest_fail(&u->dests, dest);
            }
        }
    }
}

static int
move_bucket(struct run *u, const struct ais_bck_md *k, struct xa_job *job)
{
    struct st_bck b = {.provider = k->provider, .ns = k->ns, .name = k->name};
    struct st_list_iter *it = NULL;
    int rc = st_list_iter_open(u->r->env.mp, &b, "", 0, &it);
    if (rc != 0) {
        return rc == -ENOENT ? 0 : rc;
    }
    int more = 1;
    while (rc == 0 && more && !xa_job_aborted(job)) {
        u->page.n = 0;
        rc = st_list_iter_next_page(it, REB_PAGE, page_add, &u->page, &more);
        if (rc == 0) {
            move_page(u, &b, job);
        }
    }
    st_list_iter_close(it);
    return rc;
}

static int
mover_run(struct xa_job *job, void *arg)
{
    struct run *u = arg;
    struct reb *r = u->r;
    pthread_mutex_lock(&r->run_mu);
    struct ais_bmd *bmd = ais_meta_bmd(r->env.meta);
    u->page.names = malloc(REB_PAGE * sizeof(*u->page.names));
    int rc = u->page.names ? 0 : -ENOMEM;
    AIS_LOG_INFO("req=rebalance id=%s smap_version=%lld msg=started", xa_job_id(job),
                 (long long)u->smap->version);
    for (size_t i = 0; rc == 0 && i < bmd->n && !xa_job_aborted(job); i++) {
        rc = move_bucket(u, &bmd->bcks[i], job);
    }
    dests_close(&u->dests);
    ais_bmd_unref(bmd);
    if (rc == 0 && xa_job_aborted(job)) {
        rc = -ECANCELED;
    }
    if (rc == 0 && u->failed > 0) {
        char msg[128];
        snprintf(msg, sizeof(msg), "%llu object(s) not moved", (unsigned long long)u->failed);
        xa_job_set_err(job, msg);
        rc = -EIO;
    }
    AIS_LOG_INFO("req=rebalance id=%s rc=%d failed=%llu msg=ended", xa_job_id(job), rc,
                 (unsigned long long)u->failed);
    pthread_mutex_unlock(&r->run_mu);
    return rc;
}

static void
run_free(void *arg)
{
    struct run *u = arg;
    ais_smap_unref(u->smap);
    free(u->page.names);
    free(u);
}

void
reb_on_smap(struct reb *r, const struct ais_smap *old, const struct ais_smap *cur)
{
    int in_cur = ais_smap_find(cur, r->env.self->id) != NULL;
    pthread_mutex_lock(&r->mu);
    ais_smap_unref(r->prev_smap);
    r->prev_smap = old ? ais_smap_ref((struct ais_smap *)old) : NULL;
    /* The first map after a (re)start always rebalances: this target may hold copies it sent
     * but had not yet removed when it died, or objects whose owner changed while it was away. */
    int first = in_cur && !r->joined;
    r->joined |= in_cur;
    pthread_mutex_unlock(&r->mu);
    if (!in_cur || (!first && !reb_smap_moves(old, cur))) {
        return;
    }
    (void)xa_abort(r->env.xreg, &(struct xa_filter){.kind = REB_KIND});
    if (!ais_config_rt_get(&r->env.cfg->rt.rebalance_enabled)) {
        AIS_LOG_INFO("req=rebalance smap_version=%lld msg=\"disabled by config\"",
                     (long long)cur->version);
        return;
    }
    struct run *u = calloc(1, sizeof(*u));
    if (u == NULL) {
        AIS_LOG_ERR("req=rebalance msg=\"out of memory\"");
        return;
    }
    u->r = r;
    u->smap = ais_smap_ref((struct ais_smap *)cur);
    char id[XA_ID_BYTES];
    snprintf(id, sizeof(id), "g%lld", (long long)cur->version);
    int rc = xa_job_start_id(r->env.xreg, id, REB_KIND, NULL, mover_run, u, run_free, NULL);
    if (rc != 0) {
        AIS_LOG_ERR("req=rebalance id=%s msg=\"cannot start\" err=\"%s\"", id, ais_strerror(rc));
    }
}

/* ---- get from neighbor ---- */

int
reb_pull_serve(struct reb *r, const char *provider, const char *ns, const char *bck,
               const char *obj, const char *dest_url)
{
    uint64_t digest = 0;
    int rc = ais_obj_name_check(obj, strlen(obj), NULL);
    rc = rc ? rc : ais_obj_digest(provider, ns, bck, obj, &digest);
    if (rc != 0) {
        return rc;
    }
    struct st_bck b = {.provider = provider, .ns = ns, .name = bck};
    int fd = -1;
    struct st_obj_md md;
    rc = st_obj_open(r->env.mp, &b, obj, digest, &fd, &md);
    if (rc != 0) {
        return rc;
    }
    struct rpc_stream *s = NULL;
    rc = rpc_stream_open(dest_url, NULL, &s);
    if (rc == 0) {
        int64_t mtime = md.mtime_ns;
        struct rpc_obj_hdr h = {
            .provider = provider,
            .ns = ns,
            .bck = bck,
            .name = obj,
            .size = md.size,
            .cksum_type = md.cksum_type,
            .cksum_value = md.cksum_value,
            .version = md.version,
            .custom = md.custom,
            .kind = "gfn",
            .opaque = &mtime,
            .opaque_len = sizeof(mtime),
        };
        rc = rpc_stream_send_obj(s, &h, fd, NULL, NULL);
        int crc = rpc_stream_close(s);
        rc = rc ? rc : crc;
    }
    close(fd);
    return rc;
}

/* Asks one target to push the object here. */
static int
pull_from(struct reb *r, const struct ais_snode *n, const struct st_bck *b, const char *obj)
{
    char url[128], me[128];
    struct rpc_err err = {0};
    ais_snode_ctrl_url(n, url, sizeof(url));
    reb_data_url(r->env.self, me, sizeof(me));
    return rpc_obj_pull(url, (int)r->env.cfg->rpc_timeout_ms, b->provider, b->ns, b->name, obj, me,
                        &err);
}

int
reb_gfn(struct reb *r, const struct st_bck *b, const char *obj, uint64_t digest)
{
    struct ais_smap *cur = ais_meta_smap(r->env.meta);
    pthread_mutex_lock(&r->mu);
    struct ais_smap *prev = r->prev_smap ? ais_smap_ref(r->prev_smap) : NULL;
    pthread_mutex_unlock(&r->mu);
    const struct ais_snode *first = prev ? ais_smap_hrw_target(prev, digest) : NULL;
    int rc = -ENOENT;
    if (first != NULL && strcmp(first->id, r->env.self->id) != 0 &&
        ais_smap_find(cur, first->id) != NULL) {
        rc = pull_from(r, first, b, obj);
    }
    for (size_t i = 0; rc != 0 && i < cur->nnodes; i++) {
        const struct ais_snode *n = &cur->nodes[i];
        if (!n->is_target || strcmp(n->id, r->env.self->id) == 0 ||
            (first != NULL && strcmp(n->id, first->id) == 0)) {
            continue;
        }
        rc = pull_from(r, n, b, obj);
    }
    ais_smap_unref(prev);
    ais_smap_unref(cur);
    return rc == 0 ? 0 : (rc == -ENOENT || rc == -ECONNREFUSED || rc == -ETIMEDOUT ? -ENOENT : rc);
}

int
reb_new(const struct reb_env *env, struct reb **out)
{
    struct reb *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return -ENOMEM;
    }
    r->env = *env;
    pthread_mutex_init(&r->run_mu, NULL);
    pthread_mutex_init(&r->mu, NULL);
    char url[128];
    reb_data_url(env->self, url, sizeof(url));
    int rc = rpc_stream_listen(url, NULL, &recv_ops, r, &r->recv);
    if (rc != 0) {
        AIS_LOG_ERR("req=start msg=\"cannot listen for object streams\" url=%s err=\"%s\"", url,
                    ais_strerror(rc));
        reb_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void
reb_free(struct reb *r)
{
    if (r == NULL) {
        return;
    }
    (void)xa_abort(r->env.xreg, &(struct xa_filter){.kind = REB_KIND});
    /* An aborted mover returns within one object send (bounded by the stream timeout). */
    if (xa_wait(r->env.xreg, &(struct xa_filter){.kind = REB_KIND}, 60000) != 0) {
        AIS_LOG_ERR("req=rebalance msg=\"mover did not stop, leaving it its state\"");
        return;
    }
    rpc_stream_server_stop(r->recv);
    ais_smap_unref(r->prev_smap);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->run_mu);
    free(r);
}
