/*
 * Design notes: cold GET, the fast tier's fill. A GET of a remote bucket's object goes to the
 * backend if and only if the object is not here, its checksum is bad, or its version is
 * outdated (the caller decides; this file fetches). One fetch per object at a time: a table of
 * fills in flight, keyed by the object's uname, that every concurrent GET (and prefetch) of
 * the object joins. The fill runs on its own thread and writes a storage work file; every
 * joined client streams from that file as bytes land (a generated response that waits for
 * them), so the first byte goes out as soon as the backend sent it, nothing is buffered whole,
 * and a range read waits only for the bytes up to its end. The work file becomes the object
 * only when the backend's whole body arrived (st_put_finish); a failed fetch leaves nothing,
 * and clients that were streaming see a short body (their connection closes). Readers do not
 * wait for the publish (its fsync): a complete body is served as it is; the fill stays listed
 * until the publish ended, so a GET meanwhile joins it instead of fetching again.
 *
 * Bounded: at most AIS_COLD_FILLS_MAX fills in flight (more: 503), every wait has the backend
 * stall timeout as its deadline, and shutdown aborts the fills' transfers and waits for them.
 */
#include "backend/backend.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "target/target_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define COLD_BUCKETS 256
#define COLD_READ_MIN (128u << 10) /* a streaming client waits for this much (or the end) */
#define COLD_BATCH (256u << 10)    /* backend bytes per write of the work file */

enum fill_state { F_WAIT, F_STREAM, F_DONE, F_FAIL, F_LOCAL };

struct fill {
    struct fill *next;
    int refs; /* under cold->mu */
    struct tgt_cold *c;
    uint64_t digest;
    int force; /* replace a local copy (outdated or corrupt) */
    char provider[8], ns[AIS_NS_BYTES_MAX], bck[AIS_BCKNAME_BYTES_MAX + 1];
    char obj[AIS_OBJNAME_BYTES_MAX + 1];
    struct ais_bprops props;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    enum fill_state state;
    int rc;
    struct bk_err err;
    struct bk_attrs attrs;
    uint64_t written;
    int fd; /* dup of the work file: readers pread it, also after it was published */
    struct st_put *put;
    char *buf; /* COLD_BATCH bytes not written yet (fill thread only) */
    size_t nbuf;
};

struct tgt_cold {
    struct tgt *t;
    struct bk *bk;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* nthreads reached 0 */
    struct fill *tab[COLD_BUCKETS];
    size_t nfills;
    size_t nthreads;
    int stopping;
    int64_t wait_ms;
};

static void
deadline(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void
cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    (void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
}

int
tgt_cold_new(struct tgt *t, struct bk *bk, struct tgt_cold **out)
{
    struct tgt_cold *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return -ENOMEM;
    }
    c->t = t;
    c->bk = bk;
    c->wait_ms = AIS_COLD_WAIT_MS;
    pthread_mutex_init(&c->mu, NULL);
    cond_init_mono(&c->cv);
    *out = c;
    return 0;
}

void
tgt_cold_free(struct tgt_cold *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->stopping = 1; /* transfers see it at their next chunk and abort */
    struct timespec ts;
    deadline(&ts, c->wait_ms);
    while (c->nthreads > 0) {
        if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT) {
            AIS_LOG_WARN("req=stop msg=\"cold GETs still running at shutdown\" n=%zu", c->nthreads);
            break;
        }
    }
    size_t left = c->nthreads;
    pthread_mutex_unlock(&c->mu);
    if (left > 0) {
        return; /* a stuck thread still uses c: leak it rather than crash */
    }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

static void
fill_unref(struct fill *f)
{
    struct tgt_cold *c = f->c;
    pthread_mutex_lock(&c->mu);
    int last = --f->refs == 0;
    pthread_mutex_unlock(&c->mu);
    if (!last) {
        return;
    }
    if (f->fd >= 0) {
        close(f->fd);
    }
    st_put_abort(f->put);
    free(f->buf);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
}

static int
fill_match(const struct fill *f, const struct ais_objref *ref)
{
    return f->digest == ref->digest && strcmp(f->provider, ref->provider) == 0 &&
           strcmp(f->ns, ref->ns) == 0 && strcmp(f->bck, ref->bck) == 0 &&
           strcmp(f->obj, ref->obj) == 0;
}

/* A fill whose outcome is known is not joined: its copy may have been replaced or dropped
 * since (a new fill finds the stored object, or fetches again). Caller holds c->mu. */
static int
fill_finished(struct fill *f)
{
    pthread_mutex_lock(&f->mu);
    int done = f->state != F_WAIT && f->state != F_STREAM;
    pthread_mutex_unlock(&f->mu);
    return done;
}

/* Removes f from the table (the fill thread, once the outcome is known). */
static void
fill_unlist(struct fill *f)
{
    struct tgt_cold *c = f->c;
    pthread_mutex_lock(&c->mu);
    struct fill **pp = &c->tab[f->digest % COLD_BUCKETS];
    while (*pp != NULL && *pp != f) {
        pp = &(*pp)->next;
    }
    if (*pp == f) {
        *pp = f->next;
        c->nfills--;
    }
    pthread_mutex_unlock(&c->mu);
}

static void
fill_end(struct fill *f, enum fill_state st, int rc)
{
    pthread_mutex_lock(&f->mu);
    f->state = st;
    f->rc = rc;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* Custom metadata of a cached remote object: where it came from and its backend identity. */
static void
fill_custom(const struct fill *f, char *dst, size_t cap)
{
    char ver[BK_VERSION_BYTES];
    size_t j = 0;
    for (size_t i = 0; f->attrs.version[i] && j + 1 < sizeof(ver); i++) {
        char ch = f->attrs.version[i];
        if (ch != ',' && ch != '=') {
            ver[j++] = ch;
        }
    }
    ver[j] = '\0';
    snprintf(dst, cap, "source=%s,etag=%s%s%s", f->provider, f->attrs.etag,
             ver[0] ? ",remote_version=" : "", ver);
}

static int
on_attrs(void *arg, const struct bk_attrs *a)
{
    struct fill *f = arg;
    struct tgt *t = f->c->t;
    struct st_bck b = {.provider = f->provider, .ns = f->ns, .name = f->bck};
    char custom[ST_CUSTOM_BYTES];
    f->attrs = *a;
    fill_custom(f, custom, sizeof(custom));
    struct st_put_opts opts = {
        .cksum_type = f->props.cksum_type,
        .custom = custom,
        .fsync = ais_config_rt_get(&t->cfg->rt.fsync),
        .copies = ais_bprops_copies(&f->props),
    };
    char full[256];
    f->buf = malloc(COLD_BATCH);
    if (f->buf == NULL) {
        return -ENOMEM;
    }
    if (sp_put_check(t->space, f->digest, full, sizeof(full)) != 0) {
        /* Out of space: the client gets 507, and the LRU (woken by the check) makes room. */
        f->err.status = 507;
        snprintf(f->err.msg, sizeof(f->err.msg), "%s://%s/%s: cannot cache: %s", f->provider,
                 f->bck, f->obj, full);
        return -ENOSPC;
    }
    int rc = st_put_begin(t->mp, &b, f->obj, f->digest, &opts, &f->put);
    if (rc == -ENOENT && tgt_bck_dirs_ensure(t, &b) == 0) {
        rc = st_put_begin(t->mp, &b, f->obj, f->digest, &opts, &f->put);
    }
    int fd = rc == 0 ? dup(st_put_fd(f->put)) : -1;
    if (rc == 0 && fd < 0) {
        rc = -errno;
    }
    if (rc != 0) {
        return rc;
    }
    pthread_mutex_lock(&f->mu);
    f->fd = fd;
    f->state = F_STREAM;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return 0;
}

/* Writes what is batched and tells the readers. */
static int
fill_flush(struct fill *f)
{
    if (f->nbuf == 0) {
        return 0;
    }
    int rc = st_put_write(f->put, f->buf, f->nbuf);
    if (rc != 0) {
        tgt_fshc_kick(f->c->t, rc);
        return rc;
    }
    pthread_mutex_lock(&f->mu);
    f->written += f->nbuf;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    f->nbuf = 0;
    return 0;
}

/* Backend bytes are batched into COLD_BATCH writes (the first piece goes out at once, for the
 * clients' first byte): fewer syscalls and reader wake-ups than the socket's few KiB. */
static int
on_data(void *arg, const char *buf, size_t len)
{
    struct fill *f = arg;
    if (__atomic_load_n(&f->c->stopping, __ATOMIC_ACQUIRE)) {
        return -ECANCELED;
    }
    int rc = 0;
    while (rc == 0 && len > 0) {
        size_t n = COLD_BATCH - f->nbuf < len ? COLD_BATCH - f->nbuf : len;
        memcpy(f->buf + f->nbuf, buf, n);
        f->nbuf += n;
        buf += n;
        len -= n;
        if (f->nbuf == COLD_BATCH || f->written == 0) {
            rc = fill_flush(f);
        }
    }
    return rc;
}

/* The fill: fetch, publish, tell the readers; then leave the table. */
static void *
fill_run(void *arg)
{
    struct fill *f = arg;
    struct tgt_cold *c = f->c;
    struct tgt *t = c->t;
    struct st_bck b = {.provider = f->provider, .ns = f->ns, .name = f->bck};
    struct st_obj_md md;
    /* A fill that just published it may have left the table as we looked: no second fetch. */
    if (!f->force && st_obj_stat(t->mp, &b, f->obj, f->digest, &md) == 0) {
        fill_end(f, F_LOCAL, 0);
    } else {
        static const struct bk_get_cb cb = {.attrs = on_attrs, .data = on_data};
        int rc = bk_get_obj(c->bk, f->provider, f->bck, f->obj, 0, 0, &cb, f, &f->err);
        rc = rc ? rc : fill_flush(f);
        if (rc == 0 && f->written != f->attrs.size) {
            rc = -EIO;
            snprintf(f->err.msg, sizeof(f->err.msg),
                     "%s://%s/%s: backend sent %" PRIu64 " of %" PRIu64 " bytes", f->provider,
                     f->bck, f->obj, f->written, f->attrs.size);
        }
        if (rc == 0) {
            rc = st_put_finish(f->put, &md);
            f->put = NULL;
            if (rc != 0) {
                snprintf(f->err.msg, sizeof(f->err.msg), "%s://%s/%s: cannot store: %s",
                         f->provider, f->bck, f->obj, ais_strerror(rc));
            }
        }
        if (rc != 0) {
            st_put_abort(f->put);
            f->put = NULL;
            if (f->err.status == 0) {
                f->err.status = ais_http_status(rc);
            }
            if (rc == -ENOENT) {
                AIS_LOG_DBG("req=cold-get obj=%s://%s/%s err=\"%s\"", f->provider, f->bck, f->obj,
                            f->err.msg);
            } else {
                AIS_LOG_WARN("req=cold-get obj=%s://%s/%s err=\"%s\"", f->provider, f->bck, f->obj,
                             f->err.msg);
            }
        } else {
            ais_stats_add(&t->stats, AIS_STAT_COLD_N, 1);
            ais_stats_add(&t->stats, AIS_STAT_COLD_SIZE, (int64_t)f->written);
        }
        fill_end(f, rc == 0 ? F_DONE : F_FAIL, rc);
    }
    fill_unlist(f);
    fill_unref(f);
    pthread_mutex_lock(&c->mu);
    if (--c->nthreads == 0) {
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Finds the object's fill or starts one; a new reference, or NULL with *rc (-EAGAIN...). */
static struct fill *
fill_join(struct tgt_cold *c, const struct ais_objref *ref, const struct ais_bprops *props,
          int force, int *rc)
{
    pthread_mutex_lock(&c->mu);
    struct fill *f = c->tab[ref->digest % COLD_BUCKETS];
    while (f != NULL && (!fill_match(f, ref) || fill_finished(f))) {
        f = f->next;
    }
    if (f != NULL) {
        f->refs++;
        pthread_mutex_unlock(&c->mu);
        return f;
    }
    *rc = c->stopping ? -ECANCELED : c->nfills >= AIS_COLD_FILLS_MAX ? -EAGAIN : 0;
    f = *rc == 0 ? calloc(1, sizeof(*f)) : NULL;
    if (f == NULL) {
        *rc = *rc ? *rc : -ENOMEM;
        pthread_mutex_unlock(&c->mu);
        return NULL;
    }
    f->c = c;
    f->refs = 2; /* the caller's and the thread's */
    f->digest = ref->digest;
    f->force = force;
    f->fd = -1;
    f->props = *props;
    snprintf(f->provider, sizeof(f->provider), "%s", ref->provider);
    snprintf(f->ns, sizeof(f->ns), "%s", ref->ns);
    snprintf(f->bck, sizeof(f->bck), "%s", ref->bck);
    snprintf(f->obj, sizeof(f->obj), "%s", ref->obj);
    pthread_mutex_init(&f->mu, NULL);
    cond_init_mono(&f->cv);
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int e = pthread_create(&th, &at, fill_run, f);
    pthread_attr_destroy(&at);
    if (e != 0) {
        pthread_mutex_unlock(&c->mu);
        pthread_mutex_destroy(&f->mu);
        pthread_cond_destroy(&f->cv);
        free(f);
        *rc = -e;
        return NULL;
    }
    f->next = c->tab[ref->digest % COLD_BUCKETS];
    c->tab[ref->digest % COLD_BUCKETS] = f;
    c->nfills++;
    c->nthreads++;
    pthread_mutex_unlock(&c->mu);
    return f;
}

/* Waits while the fill has no answer yet, or (stream) while it streams and has not written
 * past want; bounded by ms. Returns the state and *have (bytes written). */
static enum fill_state
fill_wait(struct fill *f, int stream, uint64_t want, int64_t ms, uint64_t *have)
{
    struct timespec ts;
    deadline(&ts, ms);
    pthread_mutex_lock(&f->mu);
    while (f->state == F_WAIT || (stream && f->state == F_STREAM && f->written <= want)) {
        if (pthread_cond_timedwait(&f->cv, &f->mu, &ts) == ETIMEDOUT) {
            break;
        }
    }
    enum fill_state st = f->state;
    if (have != NULL) {
        *have = f->written;
    }
    pthread_mutex_unlock(&f->mu);
    return st;
}

/* One client streaming from a fill: bytes [off, off+len) of the object. */
struct cold_reader {
    struct fill *f;
    uint64_t off, len;
    int64_t t0; /* the request's start (ais_req_start_ns): TTFB and latency */
    struct ais_stats *stats;
};

static size_t
reader_gen(void *arg, uint64_t pos, char *buf, size_t max)
{
    struct cold_reader *rd = arg;
    struct fill *f = rd->f;
    uint64_t at = rd->off + pos;
    uint64_t have = 0, want = rd->len - pos;
    want = want < max ? want : max;
    want = want < COLD_READ_MIN ? want : COLD_READ_MIN;
    want = pos == 0 ? 1 : want; /* the first byte goes out as soon as it is here */
    /* Wait for a good piece (or the end), not every few KiB the backend's socket hands over. */
    enum fill_state st = fill_wait(f, 1, at + want - 1, f->c->wait_ms, &have);
    if (have <= at || (st != F_STREAM && st != F_DONE)) {
        return AIS_GEN_ERR; /* failed or stalled: the client sees a short body */
    }
    uint64_t n = have - at;
    n = n < max ? n : max;
    n = n < rd->len - pos ? n : rd->len - pos;
    /* The last bytes go out as soon as the whole body is in the work file, not after the
     * publish (fsync, rename): a client that read it all and asks again joins this fill, which
     * stays in the table until it is stored, or finds the object stored. */
    ssize_t got = pread(f->fd, buf, (size_t)n, (off_t)at);
    if (got > 0 && pos == 0) {
        ais_stats_observe(rd->stats, AIS_LAT_TTFB_COLD, ais_mono_ns() - rd->t0);
    }
    if (got > 0 && pos + (uint64_t)got == rd->len) {
        ais_stats_observe(rd->stats, AIS_LAT_GET_COLD, ais_mono_ns() - rd->t0);
    }
    return got > 0 ? (size_t)got : AIS_GEN_ERR;
}

static void
reader_free(void *arg)
{
    struct cold_reader *rd = arg;
    fill_unref(rd->f);
    free(rd);
}

static void
join_err(const struct ais_objref *ref, int rc, struct bk_err *err)
{
    err->status = rc == -EAGAIN ? 503 : 500;
    snprintf(err->msg, sizeof(err->msg), "%s/%s: cannot fetch: %s", ref->display, ref->obj,
             rc == -EAGAIN ? "too many cold GETs in flight" : ais_strerror(rc));
}

/* Waits for the fill's outcome while it makes progress; drops the reference. */
static int
fill_outcome(struct fill *f, const struct ais_objref *ref, struct bk_err *err)
{
    int64_t ms = f->c->wait_ms;
    uint64_t have = 0, before = 0;
    enum fill_state st = fill_wait(f, 1, UINT64_MAX, ms, &have);
    /* Still moving: wait on while it makes progress (a stall ends it). */
    while (st == F_STREAM && have != before) {
        before = have;
        st = fill_wait(f, 1, UINT64_MAX, ms, &have);
    }
    int rc = st == F_DONE || st == F_LOCAL ? 0 : st == F_FAIL ? f->rc : -ETIMEDOUT;
    if (st == F_FAIL) {
        *err = f->err;
    } else if (rc == -ETIMEDOUT) {
        err->status = 504;
        snprintf(err->msg, sizeof(err->msg), "%s/%s: backend stalled", ref->display, ref->obj);
    }
    fill_unref(f);
    return rc;
}

int
tgt_cold_fetch(struct tgt_cold *c, const struct ais_objref *ref, const struct ais_bprops *props,
               int force, struct bk_err *err)
{
    int rc = 0;
    struct fill *f = fill_join(c, ref, props, force, &rc);
    if (f == NULL) {
        join_err(ref, rc, err);
        return rc;
    }
    return fill_outcome(f, ref, err);
}

void
tgt_cold_fetch_n(struct tgt_cold *c, const struct ais_objref *refs, size_t n,
                 const struct ais_bprops *props, const int *force, int *rcs, struct bk_err *errs)
{
    struct fill **fs = calloc(n ? n : 1, sizeof(*fs));
    for (size_t i = 0; i < n; i++) {
        rcs[i] = -ENOMEM;
        if (fs != NULL) {
            fs[i] = fill_join(c, &refs[i], props, force[i], &rcs[i]);
        }
        if (fs == NULL || fs[i] == NULL) {
            join_err(&refs[i], rcs[i], &errs[i]);
        }
    }
    for (size_t i = 0; fs != NULL && i < n; i++) {
        if (fs[i] != NULL) {
            rcs[i] = fill_outcome(fs[i], &refs[i], &errs[i]);
        }
    }
    free(fs);
}

/* Stale or racing: the caller retries its local path. 1 when a response was sent. */
int
tgt_cold_get(struct tgt_cold *c, struct ais_req *r, const struct ais_objref *ref,
             const struct ais_bprops *props, int force)
{
    int rc = 0;
    struct fill *f = fill_join(c, ref, props, force, &rc);
    if (f == NULL) {
        struct bk_err e;
        join_err(ref, rc, &e);
        ais_resp_err(r, e.status, "%s", e.msg);
        return 1;
    }
    enum fill_state st = fill_wait(f, 0, 0, c->wait_ms, NULL);
    if (st == F_LOCAL || (st == F_DONE && f->fd < 0)) {
        fill_unref(f);
        return 0;
    }
    if (st == F_FAIL || st == F_WAIT) {
        struct bk_err e = f->err;
        fill_unref(f);
        if (st == F_WAIT) {
            ais_resp_err(r, 504, "%s/%s: backend did not answer in time", ref->display, ref->obj);
        } else if (e.status == 404) {
            ais_resp_err(r, 404, "object \"%s/%s\" does not exist (%s)", ref->display, ref->obj,
                         e.msg);
        } else {
            ais_resp_err(r, e.status ? e.status : 502, "%s", e.msg);
        }
        return 1;
    }
    uint64_t size = f->attrs.size, off = 0, len = size;
    int rr = tgt_parse_range(ais_req_header(r, "Range"), size, &off, &len);
    if (rr == AIS_EBADRANGE) {
        fill_unref(f);
        ais_resp_err(r, 416, "invalid range \"%s\" for %s/%s (size %" PRIu64 ")",
                     ais_req_header(r, "Range"), ref->display, ref->obj, size);
        return 1;
    }
    struct cold_reader *rd = calloc(1, sizeof(*rd));
    if (rd == NULL) {
        fill_unref(f);
        ais_resp_err(r, 500, "out of memory");
        return 1;
    }
    *rd = (struct cold_reader){
        .f = f, .off = off, .len = len, .t0 = ais_req_start_ns(r), .stats = &c->t->stats};
    if (ais_resp_gen(r, rr == 0 ? 206 : 200, len, reader_gen, rd, reader_free) != 0) {
        ais_resp_err(r, 500, "out of memory"); /* rd was freed */
        return 1;
    }
    char cr[96];
    if (rr == 0) {
        snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off, off + len - 1,
                 size);
        ais_resp_header(r, "Content-Range", cr);
    }
    ais_resp_header(r, "Accept-Ranges", "bytes");
    if (f->attrs.etag[0] != '\0') {
        ais_resp_header(r, "ETag", f->attrs.etag);
    }
    ais_stats_add(&c->t->stats, AIS_STAT_GET_SIZE, (int64_t)len);
    return 1;
}

/* The value of key in a "k=v,k2=v2" custom string, into dst ("" when absent). */
static void
custom_get(const char *custom, const char *key, char *dst, size_t cap)
{
    size_t kl = strlen(key);
    dst[0] = '\0';
    for (const char *p = custom; p != NULL && *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            snprintf(dst, cap, "%.*s", (int)(n - kl - 1), p + kl + 1);
            return;
        }
        p = end ? end + 1 : NULL;
    }
}

int
tgt_cold_outdated(struct tgt_cold *c, const struct ais_objref *ref, const struct st_obj_md *md,
                  struct bk_err *err)
{
    struct bk_attrs a;
    char etag[BK_ETAG_BYTES], ver[BK_VERSION_BYTES];
    int rc = bk_head_obj(c->bk, ref->provider, ref->bck, ref->obj, &a, err);
    if (rc != 0) {
        return rc;
    }
    custom_get(md->custom, "etag", etag, sizeof(etag));
    custom_get(md->custom, "remote_version", ver, sizeof(ver));
    if (a.version[0] != '\0' && ver[0] != '\0') {
        return strcmp(a.version, ver) != 0;
    }
    return strcmp(a.etag, etag) != 0 || a.size != md->size;
}

struct bk *
tgt_cold_bk(const struct tgt_cold *c)
{
    return c->bk;
}
