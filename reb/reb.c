/*
 * Design notes: one mover per target. reb_on_smap runs in the metadata listener (version
 * order, must not block): it signals abort to the running job and starts a new job "g<ver>";
 * the new body first takes run_mu, so it begins only after the superseded one returned (the
 * abort makes that quick) and two movers never walk at once.
 *
 * A mover is one walk and a small pool of senders (rebalance.workers, read when the run
 * starts). The walk runs on the job thread: every bucket of the BMD with one resumable list
 * iterator (one walk, pages of REB_PAGE names); each object with a new owner goes into a
 * fixed-capacity queue (full: the walk waits). Each sender has its own stream per destination,
 * opened lazily, so up to `workers` objects per destination are in flight at once: one stream
 * keeps only one chunk in flight and is latency-bound, several fill the link and the disk.
 * The run ends when the walk is done and the senders drained the queue; on abort (a newer Smap,
 * reb_free) the walk stops and senders leave the rest queued, each within one chunk round trip.
 *
 * A send returns only when the receiver acknowledged a durable write, so then the local copy is
 * removed with st_obj_delete_if: only if it is still the file that was sent (a PUT that
 * replaced it meanwhile is kept, and moved by the next rebalance). Errors are counted, the walk
 * goes on, and the job ends with an error naming the count: the next Smap change (e.g. the dead
 * peer dropped) restarts the work.
 *
 * Rate limit (rebalance.bps, runtime-settable, 0 = unlimited): every payload chunk is read
 * through src_read, which first takes its bytes from a token bucket shared by the run's
 * senders. The bucket may be overdrawn by one take (the next takes wait the debt off), so the
 * long-run rate is bps whatever the chunk size, and it holds at most REB_BURST_MS of credit.
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
#include "common/util.h"
#include "rpc/rpc.h"
#include "rpc/stream.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REB_PAGE 1000
#define REB_PASSES_MAX 3 /* walks per rebalance while some sends fail */
#define REB_DESTS_MAX 64 /* destinations one sender streams to; more are skipped (and retried) */
#define REB_QUEUE_PER_SENDER 8 /* queued objects per sender: keeps each busy between pages */
#define REB_POLL_MS 50         /* waits on the queue or the rate limit see an abort this fast */
#define REB_BURST_MS 100       /* rate limit: credit an idle mover may save up */
#define REB_TB_WAITS_MAX 1200  /* REB_POLL_MS slices one take waits at most (60 s), then goes */
#define REB_RECV_WORKERS 32    /* one per inbound stream of a few movers, spare ones for gfn */
#define REB_KIND "rebalance"

static_assert(REB_QUEUE_PER_SENDER * AIS_REB_WORKERS_MAX <= AIS_REB_QUEUE_MAX,
              "the walk->senders queue stays within its limit");
static_assert(REB_RECV_WORKERS <= AIS_STREAM_WORKERS_MAX, "receiver threads within the limit");

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
    snprintf(out, cap, "tcp://%s:%u", ais_snode_intra_host(n),
             (unsigned)n->ctrl_port + AIS_DATA_PORT_OFFSET);
}

/*
 * A bucket named by a peer must be one of ours: peers are not trusted with paths. *copies (may
 * be NULL) gets the bucket's mirror copies, which a received object gets too.
 */
static int
bck_known(struct reb *r, const char *provider, const char *ns, const char *bck, unsigned *copies)
{
    struct ais_bmd *bmd = ais_meta_bmd(r->env.meta);
    const struct ais_bck_md *k =
        provider && ns && bck ? ais_bmd_find(bmd, provider, ns, bck) : NULL;
    if (k != NULL && copies != NULL) {
        *copies = ais_bprops_copies(&k->props);
    }
    ais_bmd_unref(bmd);
    return k != NULL ? 0 : -ENOENT;
}

/* ---- receiver ---- */

struct recv_obj {
    struct st_put *put;
    void *ec; /* an "ec-*" object: the EC receiver's handle (env.ec_ops), put unused */
    char provider[8], ns[AIS_NS_BYTES_MAX], bck[AIS_BCKNAME_BYTES_MAX + 1];
    char name[AIS_OBJNAME_BYTES_MAX + 1]; /* for env.obj_arrived */
};

/* EC hook: slices and replicas are the EC service's business, not a rebalance's. */
static int
recv_begin_ec(struct reb *r, const struct rpc_obj_hdr *h, void **handle)
{
    if (r->env.ec_ops == NULL) {
        return -ENOTSUP;
    }
    struct recv_obj *o = calloc(1, sizeof(*o));
    if (o == NULL) {
        return -ENOMEM;
    }
    int rc = r->env.ec_ops->obj_begin(r->env.ec_ctx, h, &o->ec);
    if (rc != 0) {
        free(o);
        return rc;
    }
    *handle = o;
    return 0;
}

static int
recv_begin(void *ctx, const struct rpc_obj_hdr *h, void **handle)
{
    struct reb *r = ctx;
    uint64_t digest = 0;
    int64_t mtime_ns = 0;
    if (h->kind != NULL && strncmp(h->kind, "ec-", 3) == 0) {
        return recv_begin_ec(r, h, handle);
    }
    if (h->name == NULL || ais_obj_name_check(h->name, strlen(h->name), NULL) != 0) {
        return AIS_EBADNAME; /* a peer is not trusted with paths either */
    }
    unsigned copies = 1;
    int rc = bck_known(r, h->provider, h->ns, h->bck, &copies);
    rc = rc ? rc : ais_obj_digest(h->provider, h->ns, h->bck, h->name, &digest);
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
        .copies = copies,
    };
    struct recv_obj *o2 = calloc(1, sizeof(*o2));
    if (o2 == NULL) {
        return -ENOMEM;
    }
    snprintf(o2->provider, sizeof(o2->provider), "%s", h->provider);
    snprintf(o2->ns, sizeof(o2->ns), "%s", h->ns);
    snprintf(o2->bck, sizeof(o2->bck), "%s", h->bck);
    snprintf(o2->name, sizeof(o2->name), "%s", h->name);
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
    struct reb *r = ctx;
    struct recv_obj *o = handle;
    if (o->ec != NULL) {
        return r->env.ec_ops->obj_data(r->env.ec_ctx, o->ec, buf, len);
    }
    return st_put_write(o->put, buf, len);
}

static int
recv_end(void *ctx, void *handle, int ok)
{
    struct reb *r = ctx;
    struct recv_obj *o = handle;
    int rc = 0;
    if (o->ec != NULL) {
        rc = r->env.ec_ops->obj_end(r->env.ec_ctx, o->ec, ok);
    } else if (ok) {
        rc = st_put_finish(o->put, NULL);
        if (rc == 0 && r->env.obj_arrived != NULL) {
            struct st_bck b = {.provider = o->provider, .ns = o->ns, .name = o->bck};
            r->env.obj_arrived(r->env.ec_ctx, &b, o->name);
        }
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

/* Streams to destinations of one sender, opened on first use. */
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

/* Waits on cv for at most ms (monotonic clock: the cond was made with it). */
static void
cv_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    (void)pthread_cond_timedwait(cv, mu, &ts);
}

/* ---- rate limit: one token bucket per run, shared by its senders ---- */

struct tbucket {
    pthread_mutex_t mu;
    double avail; /* bytes that may go now; negative = debt of the last take */
    int64_t last_ns;
};

/* One attempt: 0 when n bytes may go now (taken), else nanoseconds to wait before retrying. */
static int64_t
tb_try(struct tbucket *tb, int64_t bps, size_t n)
{
    pthread_mutex_lock(&tb->mu);
    int64_t now = ais_mono_ns();
    int64_t dt = now - tb->last_ns;
    tb->last_ns = now;
    double burst = (double)bps * REB_BURST_MS / 1000.0;
    tb->avail += (double)(dt < 1000000000 ? dt : 1000000000) * (double)bps / 1e9;
    tb->avail = tb->avail > burst ? burst : tb->avail;
    int64_t wait_ns = 0;
    if (tb->avail >= 0) {
        tb->avail -= (double)n; /* a take may overdraw: the next ones wait it off */
    } else {
        wait_ns = (int64_t)(-tb->avail * 1e9 / (double)bps) + 1;
    }
    pthread_mutex_unlock(&tb->mu);
    return wait_ns;
}

/*
 * Waits until n more bytes fit rebalance.bps (read on every call: runtime-settable, 0 =
 * unlimited). Sleeps in slices of at most REB_POLL_MS so an abort is seen; bounded by
 * REB_TB_WAITS_MAX slices, after which the bytes go anyway. 0 or -ECANCELED.
 */
static int
tb_take(struct tbucket *tb, const int64_t *bps_knob, size_t n, const struct xa_job *job)
{
    for (int i = 0; i < REB_TB_WAITS_MAX; i++) {
        int64_t bps = ais_config_rt_get64(bps_knob);
        if (bps <= 0) {
            return 0;
        }
        if (xa_job_aborted(job)) {
            return -ECANCELED;
        }
        int64_t wait_ns = tb_try(tb, bps, n);
        if (wait_ns == 0) {
            return 0;
        }
        int64_t slice = (int64_t)REB_POLL_MS * 1000000;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(wait_ns < slice ? wait_ns : slice)};
        (void)nanosleep(&ts, NULL);
    }
    return 0;
}

/* ---- the walk -> senders queue ---- */

/* One object the walk found this target no longer owns. */
struct item {
    const struct ais_bck_md *k;   /* in run.bmd */
    const struct ais_snode *dest; /* in run.smap */
    uint64_t digest;
    char name[AIS_OBJNAME_BYTES_MAX + 1];
};

/* Fixed capacity; one cond for both directions (few threads, broadcast). */
struct queue {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* an item was added or taken, or the walk ended */
    size_t head, n, cap;
    int done; /* the walk ended: senders exit once the queue is empty */
    struct item *items;
};

/* Blocks while full (polling the abort). 0 or -ECANCELED. */
static int
queue_push(struct queue *q, const struct item *it, const struct xa_job *job)
{
    int rc = 0;
    pthread_mutex_lock(&q->mu);
    while (q->n == q->cap && !xa_job_aborted(job)) {
        cv_wait_ms(&q->cv, &q->mu, REB_POLL_MS);
    }
    if (xa_job_aborted(job)) {
        rc = -ECANCELED;
    } else {
        q->items[(q->head + q->n) % q->cap] = *it;
        q->n++;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

/* Blocks while empty and the walk goes on. 0, -ENOENT (walk done, all taken) or -ECANCELED. */
static int
queue_pop(struct queue *q, struct item *out, const struct xa_job *job)
{
    pthread_mutex_lock(&q->mu);
    while (q->n == 0 && !q->done && !xa_job_aborted(job)) {
        cv_wait_ms(&q->cv, &q->mu, REB_POLL_MS);
    }
    int rc = xa_job_aborted(job) ? -ECANCELED : q->n == 0 ? -ENOENT : 0;
    if (rc == 0) {
        *out = q->items[q->head];
        q->head = (q->head + 1) % q->cap;
        q->n--;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static void
queue_close(struct queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->done = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

/* ---- one run: the walk on the job thread, senders on their own ---- */

struct page_ctx {
    size_t n;
    char (*names)[AIS_OBJNAME_BYTES_MAX + 1];
};

struct run;

struct sender {
    struct run *u;
    pthread_t th;
    struct dests dests;
};

struct run {
    struct reb *r;
    struct ais_smap *smap;
    struct ais_bmd *bmd;
    struct xa_job *job;
    struct queue q;
    struct tbucket tb;
    struct page_ctx page;
    unsigned nsenders; /* started */
    struct sender *senders;
    uint64_t failed; /* atomic: objects not moved */
};

/* Payload source of one send: the object's file, read at the rate limit. */
struct src {
    struct run *u;
    int fd;
};

static int
src_read(void *ctx, void *buf, size_t len, uint64_t off)
{
    struct src *s = ctx;
    int rc = tb_take(&s->u->tb, &s->u->r->env.cfg->rt.rebalance_bps, len, s->u->job);
    size_t done = 0;
    while (rc == 0 && done < len) {
        ssize_t n = pread(s->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO; /* shrunk under us: the receiver drops it */
        } else {
            done += (size_t)n;
        }
    }
    return rc;
}

/*
 * Streams the local object on s as kind; u (a run) reads through its rate limit, NULL reads
 * the file as is. *md: what was sent. 0 once the receiver acked a durable write, -ENOENT when
 * the object is not here, or negative errno.
 */
static int
push_obj(struct reb *r, struct run *u, struct rpc_stream *s, const struct st_bck *b,
         const char *name, uint64_t digest, const char *kind, struct st_obj_md *md)
{
    struct src src = {.u = u, .fd = -1};
    int rc = st_obj_open(r->env.mp, b, name, digest, &src.fd, md);
    if (rc != 0) {
        return rc;
    }
    int64_t mtime = md->mtime_ns;
    struct rpc_obj_hdr h = {
        .provider = b->provider,
        .ns = b->ns,
        .bck = b->name,
        .name = name,
        .size = md->size,
        .cksum_type = md->cksum_type,
        .cksum_value = md->cksum_value,
        .version = md->version,
        .custom = md->custom,
        .kind = kind,
        .opaque = &mtime,
        .opaque_len = sizeof(mtime),
    };
    rc = u ? rpc_stream_send_obj(s, &h, -1, src_read, &src)
           : rpc_stream_send_obj(s, &h, src.fd, NULL, NULL);
    close(src.fd);
    return rc;
}

/* After an acked move: the local copy goes, unless a newer PUT replaced it meanwhile. */
static void
drop_moved(struct reb *r, const struct st_bck *b, const char *name, uint64_t digest,
           const struct st_obj_md *md)
{
    int del = st_obj_delete_if(r->env.mp, b, name, digest, md);
    if (del != 0 && del != -ESTALE && del != -ENOENT) {
        AIS_LOG_WARN("req=rebalance obj=%s msg=\"moved, but the local copy stays\" err=\"%s\"",
                     name, ais_strerror(del));
    }
}

/* Sends one object on s and removes the local copy once acked. 0 or negative errno. */
static int
send_obj(struct run *u, struct rpc_stream *s, const struct st_bck *b, const char *name,
         uint64_t digest)
{
    struct st_obj_md md;
    int rc = push_obj(u->r, u, s, b, name, digest, REB_KIND, &md);
    if (rc == -ENOENT) {
        return 0; /* deleted meanwhile: nothing to move */
    }
    if (rc == 0) {
        xa_job_add(u->job, XA_CTR_OUT, 1, md.size);
        drop_moved(u->r, b, name, digest, &md);
    }
    return rc;
}

/* A sender thread: takes objects off the queue until the walk ended or the job aborted. */
static void *
sender_main(void *arg)
{
    struct sender *w = arg;
    struct run *u = w->u;
    ais_thread_background();
    struct item *it = malloc(sizeof(*it));
    while (it != NULL && queue_pop(&u->q, it, u->job) == 0) {
        struct st_bck b = {.provider = it->k->provider, .ns = it->k->ns, .name = it->k->name};
        int err = 0;
        struct rpc_stream *s = dest_stream(&w->dests, it->dest, &err);
        err = s ? send_obj(u, s, &b, it->name, it->digest) : err;
        if (err != 0) {
            __atomic_add_fetch(&u->failed, 1, __ATOMIC_RELAXED);
            if (err == -ECONNRESET || err == -ETIMEDOUT || err == -ECANCELED || err == -EIO) {
                dest_fail(&w->dests, it->dest);
            }
        }
    }
    if (it == NULL) {
        AIS_LOG_ERR("req=rebalance msg=\"sender out of memory\"");
        __atomic_add_fetch(&u->failed, 1, __ATOMIC_RELAXED);
    }
    free(it);
    dests_close(&w->dests);
    return NULL;
}

static int
page_add(void *ctx, const char *name, const struct st_obj_md *md)
{
    (void)md;
    struct page_ctx *p = ctx;
    snprintf(p->names[p->n++], sizeof(p->names[0]), "%s", name);
    return 0;
}

/* Queues the objects of one page that have a new owner. 0 or -ECANCELED. */
static int
queue_page(struct run *u, const struct ais_bck_md *k, struct item *it)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < u->page.n; i++) {
        const char *name = u->page.names[i];
        if (ais_obj_digest(k->provider, k->ns, k->name, name, &it->digest) != 0) {
            continue;
        }
        xa_job_add(u->job, XA_CTR_LOC, 1, 0);
        it->dest = reb_dest(u->smap, u->r->env.self->id, it->digest);
        if (it->dest != NULL) {
            it->k = k;
            snprintf(it->name, sizeof(it->name), "%s", name);
            rc = queue_push(&u->q, it, u->job);
        }
    }
    return rc;
}

static int
walk_bucket(struct run *u, const struct ais_bck_md *k, struct item *it)
{
    struct st_bck b = {.provider = k->provider, .ns = k->ns, .name = k->name};
    struct st_list_iter *iter = NULL;
    int rc = st_list_iter_open(u->r->env.mp, &b, "", 0, &iter);
    if (rc != 0) {
        return rc == -ENOENT ? 0 : rc;
    }
    int more = 1;
    while (rc == 0 && more && !xa_job_aborted(u->job)) {
        u->page.n = 0;
        rc = st_list_iter_next_page(iter, REB_PAGE, page_add, &u->page, &more);
        rc = rc ? rc : queue_page(u, k, it);
    }
    st_list_iter_close(iter);
    return rc;
}

/* Allocates the run's buffers and starts up to rebalance.workers senders. 0 or -errno. */
static int
senders_start(struct run *u)
{
    unsigned want = (unsigned)ais_config_rt_get(&u->r->env.cfg->rt.rebalance_workers);
    want = want < 1 ? 1 : want > AIS_REB_WORKERS_MAX ? AIS_REB_WORKERS_MAX : want;
    u->q.cap = REB_QUEUE_PER_SENDER * want;
    u->q.items = malloc(u->q.cap * sizeof(*u->q.items));
    u->page.names = malloc(REB_PAGE * sizeof(*u->page.names));
    u->senders = calloc(want, sizeof(*u->senders));
    if (u->q.items == NULL || u->page.names == NULL || u->senders == NULL) {
        return -ENOMEM;
    }
    u->tb.last_ns = ais_mono_ns();
    for (unsigned i = 0; i < want; i++) {
        u->senders[i].u = u;
        if (pthread_create(&u->senders[i].th, NULL, sender_main, &u->senders[i]) != 0) {
            AIS_LOG_WARN("req=rebalance msg=\"cannot start a sender\" started=%u", i);
            break;
        }
        u->nsenders++;
    }
    return u->nsenders > 0 ? 0 : -EAGAIN;
}

static void
senders_join(struct run *u)
{
    queue_close(&u->q);
    for (unsigned i = 0; i < u->nsenders; i++) {
        pthread_join(u->senders[i].th, NULL);
    }
    u->nsenders = 0;
}

/* One walk of every bucket with a fresh set of senders (and streams). 0 or negative errno. */
static int
mover_pass(struct run *u, struct item *it)
{
    free(u->q.items);
    free(u->page.names);
    free(u->senders);
    u->q.items = NULL;
    u->page.names = NULL;
    u->senders = NULL;
    u->q.head = u->q.n = 0;
    u->q.done = 0;
    int rc = senders_start(u);
    for (size_t i = 0; rc == 0 && i < u->bmd->n && !xa_job_aborted(u->job); i++) {
        rc = walk_bucket(u, &u->bmd->bcks[i], it);
    }
    senders_join(u); /* they drain the queue, or stop at once on abort */
    return rc;
}

/*
 * The job body: up to REB_PASSES_MAX walks. Objects whose send failed (a destination that was
 * still starting, a broken stream) stay here, so a pass after a short pause retries exactly
 * those; moved ones are gone. Only a failure that survives every pass ends the job in error.
 */
static int
mover_run(struct xa_job *job, void *arg)
{
    struct run *u = arg;
    struct reb *r = u->r;
    pthread_mutex_lock(&r->run_mu);
    u->job = job;
    u->bmd = ais_meta_bmd(r->env.meta);
    struct item *it = malloc(sizeof(*it));
    int rc = it ? 0 : -ENOMEM;
    uint64_t failed = 0;
    AIS_LOG_INFO("req=rebalance id=%s smap_version=%lld bps=%lld msg=started", xa_job_id(job),
                 (long long)u->smap->version,
                 (long long)ais_config_rt_get64(&r->env.cfg->rt.rebalance_bps));
    for (int pass = 0; rc == 0 && pass < REB_PASSES_MAX && !xa_job_aborted(job); pass++) {
        if (pass > 0) {
            AIS_LOG_WARN("req=rebalance id=%s pass=%d failed=%llu msg=\"retrying\"", xa_job_id(job),
                         pass + 1, (unsigned long long)failed);
            for (int w = 0; w < 10 * pass && !xa_job_aborted(job); w++) {
                struct timespec ts = {0, 50 * 1000000L}; /* back off, polling the abort */
                nanosleep(&ts, NULL);
            }
        }
        __atomic_store_n(&u->failed, 0, __ATOMIC_RELAXED);
        rc = mover_pass(u, it);
        failed = __atomic_load_n(&u->failed, __ATOMIC_RELAXED);
        if (failed == 0) {
            break;
        }
    }
    free(it);
    if ((rc == 0 || rc == -ECANCELED) && xa_job_aborted(job)) {
        rc = -ECANCELED;
    }
    if (rc == 0 && failed > 0) {
        char msg[128];
        snprintf(msg, sizeof(msg), "%llu object(s) not moved", (unsigned long long)failed);
        xa_job_set_err(job, msg);
        rc = -EIO;
    }
    AIS_LOG_INFO("req=rebalance id=%s rc=%d failed=%llu msg=ended", xa_job_id(job), rc,
                 (unsigned long long)failed);
    pthread_mutex_unlock(&r->run_mu);
    return rc;
}

static void
run_free(void *arg)
{
    struct run *u = arg;
    ais_smap_unref(u->smap);
    if (u->bmd != NULL) {
        ais_bmd_unref(u->bmd);
    }
    pthread_cond_destroy(&u->q.cv);
    pthread_mutex_destroy(&u->q.mu);
    pthread_mutex_destroy(&u->tb.mu);
    free(u->q.items);
    free(u->page.names);
    free(u->senders);
    free(u);
}

/* A run for cur, not started. NULL when out of memory. */
static struct run *
run_new(struct reb *r, const struct ais_smap *cur)
{
    struct run *u = calloc(1, sizeof(*u));
    pthread_condattr_t ca;
    if (u == NULL || pthread_condattr_init(&ca) != 0) {
        free(u);
        return NULL;
    }
    (void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&u->q.cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&u->q.mu, NULL);
    pthread_mutex_init(&u->tb.mu, NULL);
    u->r = r;
    u->smap = ais_smap_ref((struct ais_smap *)cur);
    return u;
}

static int reb_start_smap(struct reb *r, const struct ais_smap *cur, const char *id);

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
    if (!ais_config_rt_get(&r->env.cfg->rt.rebalance_enabled)) {
        (void)xa_abort(r->env.xreg, &(struct xa_filter){.kind = REB_KIND});
        AIS_LOG_INFO("req=rebalance smap_version=%lld msg=\"disabled by config\"",
                     (long long)cur->version);
        return;
    }
    char id[XA_ID_BYTES];
    snprintf(id, sizeof(id), "g%lld", (long long)cur->version);
    int rc = reb_start_smap(r, cur, id);
    if (rc != 0) {
        AIS_LOG_ERR("req=rebalance id=%s msg=\"cannot start\" err=\"%s\"", id, ais_strerror(rc));
    }
}

/* Aborts a running rebalance and starts job id for cur (the new body waits for the old). */
static int
reb_start_smap(struct reb *r, const struct ais_smap *cur, const char *id)
{
    (void)xa_abort(r->env.xreg, &(struct xa_filter){.kind = REB_KIND});
    struct run *u = run_new(r, cur);
    if (u == NULL) {
        return -ENOMEM;
    }
    return xa_job_start_id(r->env.xreg, id, REB_KIND, NULL, mover_run, u, run_free, NULL);
}

int
reb_start(struct reb *r, const char *id)
{
    struct ais_smap *cur = ais_meta_smap(r->env.meta);
    int rc = reb_start_smap(r, cur, id);
    ais_smap_unref(cur);
    return rc;
}

/* ---- get from neighbor ---- */

int
reb_pull_serve(struct reb *r, const char *provider, const char *ns, const char *bck,
               const char *obj, const char *dest_url)
{
    uint64_t digest = 0;
    int rc = obj ? ais_obj_name_check(obj, strlen(obj), NULL) : AIS_EBADNAME;
    rc = rc ? rc : bck_known(r, provider, ns, bck, NULL);
    rc = rc ? rc : ais_obj_digest(provider, ns, bck, obj, &digest);
    if (rc != 0) {
        return rc;
    }
    struct st_bck b = {.provider = provider, .ns = ns, .name = bck};
    struct st_obj_md md;
    if (dest_url == NULL || dest_url[0] == '\0') {
        return st_obj_stat(r->env.mp, &b, obj, digest, &md); /* locate only */
    }
    struct rpc_stream *s = NULL;
    rc = rpc_stream_open(dest_url, NULL, &s);
    if (rc == 0) {
        rc = push_obj(r, NULL, s, &b, obj, digest, "gfn", &md);
        int crc = rpc_stream_close(s);
        rc = rc ? rc : crc;
    }
    return rc;
}

int
reb_handoff(struct reb *r, const struct st_bck *b, const char *obj, uint64_t digest,
            const struct ais_snode *owner)
{
    char url[128];
    reb_data_url(owner, url, sizeof(url));
    struct rpc_stream *s = NULL;
    struct st_obj_md md;
    int rc = rpc_stream_open(url, NULL, &s);
    if (rc == 0) {
        rc = push_obj(r, NULL, s, b, obj, digest, REB_KIND, &md);
        int crc = rpc_stream_close(s);
        rc = rc ? rc : crc;
    }
    if (rc == 0) {
        drop_moved(r, b, obj, digest, &md);
    }
    return rc;
}

/* Asks one target to push the object here, or (locate) only whether it has it. */
static int
pull_from(struct reb *r, const struct ais_snode *n, const struct st_bck *b, const char *obj,
          int locate)
{
    char url[128], me[128] = "";
    struct rpc_err err = {0};
    ais_snode_ctrl_url(n, url, sizeof(url));
    if (!locate) {
        reb_data_url(r->env.self, me, sizeof(me));
    }
    return rpc_obj_pull(url, (int)r->env.cfg->rpc_timeout_ms, b->provider, b->ns, b->name, obj, me,
                        &err);
}

int
reb_gfn(struct reb *r, const struct st_bck *b, const char *obj, uint64_t digest,
        struct ais_snode *where)
{
    int locate = where != NULL;
    struct ais_smap *cur = ais_meta_smap(r->env.meta);
    pthread_mutex_lock(&r->mu);
    struct ais_smap *prev = r->prev_smap ? ais_smap_ref(r->prev_smap) : NULL;
    pthread_mutex_unlock(&r->mu);
    const struct ais_snode *first = prev ? ais_smap_hrw_target(prev, digest) : NULL;
    int rc = -ENOENT;
    if (first != NULL && strcmp(first->id, r->env.self->id) != 0 &&
        ais_smap_find(cur, first->id) != NULL) {
        rc = pull_from(r, first, b, obj, locate);
        if (rc == 0 && locate) {
            *where = *first;
        }
    }
    for (size_t i = 0; rc != 0 && i < cur->nnodes; i++) {
        const struct ais_snode *n = &cur->nodes[i];
        if (!n->is_target || strcmp(n->id, r->env.self->id) == 0 ||
            (first != NULL && strcmp(n->id, first->id) == 0)) {
            continue;
        }
        rc = pull_from(r, n, b, obj, locate);
        if (rc == 0 && locate) {
            *where = *n;
        }
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
    struct rpc_stream_server_opts so = {.workers = REB_RECV_WORKERS};
    int rc = rpc_stream_listen(url, &so, &recv_ops, r, &r->recv);
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
