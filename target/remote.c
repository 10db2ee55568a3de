/*
 * Design notes: the target's half of the multi-object jobs on remote buckets (prefetch, evict)
 * and of listing them (which names are cached here). The gateway sends each target the names
 * it owns under HRW in bounded batches; this file answers one batch. A prefetch batch starts
 * one cold-GET fill per object that is not here (or, with latest, is outdated) and waits for
 * them all: the batch's fetches run in parallel and share the fills of concurrent GETs, so an
 * object is fetched once cluster-wide. Names come from a gateway that validated them; a peer is
 * still not trusted, so each is checked again.
 */
#include "common/err.h"
#include "common/hrw.h"
#include "common/log.h"
#include "common/names.h"
#include "target/archw.h"
#include "target/target_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The objref of name in a's bucket; 0 or AIS_EBADNAME. */
static int
ref_of(const struct rpc_objs_args *a, const char *name, struct ais_objref *ref)
{
    memset(ref, 0, sizeof(*ref));
    const char *prov = ais_provider_norm(a->provider);
    if (prov == NULL || ais_obj_name_check(name, strlen(name), NULL) != 0 ||
        strlen(a->ns) >= sizeof(ref->ns) || strlen(a->bck) >= sizeof(ref->bck)) {
        return AIS_EBADNAME;
    }
    ref->provider = prov;
    snprintf(ref->ns, sizeof(ref->ns), "%s", a->ns);
    snprintf(ref->bck, sizeof(ref->bck), "%s", a->bck);
    snprintf(ref->obj, sizeof(ref->obj), "%s", name);
    ais_bck_display(prov, a->ns, a->bck, ref->display, sizeof(ref->display));
    return ais_obj_digest(prov, a->ns, a->bck, name, &ref->digest);
}

static int
present(struct tgt *t, const struct rpc_objs_args *a, struct rpc_objs_res *res)
{
    struct st_bck b = {.provider = a->provider, .ns = a->ns, .name = a->bck};
    struct ais_objref ref;
    struct st_obj_md md;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->n; i++) {
        if (ref_of(a, a->names[i], &ref) == 0 &&
            st_obj_stat(t->mp, &b, a->names[i], ref.digest, &md) == 0) {
            res->done++;
            rc = rpc_objs_res_add(res, a->names[i], NULL);
        }
    }
    return rc;
}

static int
evict(struct tgt *t, const struct rpc_objs_args *a, struct rpc_objs_res *res)
{
    struct st_bck b = {.provider = a->provider, .ns = a->ns, .name = a->bck};
    struct ais_objref ref;
    for (size_t i = 0; i < a->n; i++) {
        int rc = ref_of(a, a->names[i], &ref);
        rc = rc ? rc : st_obj_delete(t->mp, &b, a->names[i], ref.digest);
        if (rc == 0) {
            res->done++;
        } else {
            res->skipped++;
        }
    }
    return 0;
}

/* Every cached object of the bucket goes; the bucket stays (evict-remote-bck keep_bck_md). */
static int
evict_all(struct tgt *t, const struct rpc_objs_args *a)
{
    struct st_bck b = {.provider = a->provider, .ns = a->ns, .name = a->bck};
    pthread_mutex_lock(&t->bck_mu);
    int rc = st_bck_destroy(t->mp, &b);
    rc = rc ? rc : st_bck_create(t->mp, &b);
    pthread_mutex_unlock(&t->bck_mu);
    return rc;
}

/* Which names need a fetch: force[i] = -1 skip (cached and current), else 0/1. */
static void
prefetch_plan(struct tgt *t, const struct rpc_objs_args *a, struct ais_objref *refs, int *force,
              int *rcs, struct bk_err *errs, struct rpc_objs_res *res)
{
    struct st_bck b = {.provider = a->provider, .ns = a->ns, .name = a->bck};
    struct st_obj_md md;
    for (size_t i = 0; i < a->n; i++) {
        force[i] = 0;
        rcs[i] = ref_of(a, a->names[i], &refs[i]);
        if (rcs[i] != 0) {
            force[i] = -1;
            snprintf(errs[i].msg, sizeof(errs[i].msg), "invalid object name");
            continue;
        }
        if (st_obj_stat(t->mp, &b, a->names[i], refs[i].digest, &md) != 0) {
            continue;
        }
        int out = a->latest ? tgt_cold_outdated(t->cold, &refs[i], &md, &errs[i]) : 0;
        if (out == 0) {
            force[i] = -1;
            res->skipped++;
        } else if (out < 0) {
            force[i] = -1;
            rcs[i] = out;
        } else {
            force[i] = 1;
        }
    }
}

static int
prefetch(struct tgt *t, const struct rpc_objs_args *a, struct rpc_objs_res *res)
{
    struct ais_bmd *bmd = ais_meta_bmd(&t->meta);
    const struct ais_bck_md *k = ais_bmd_find(bmd, a->provider, a->ns, a->bck);
    struct ais_bprops props;
    if (k != NULL) {
        props = k->props;
    }
    ais_bmd_unref(bmd);
    if (k == NULL) {
        return -ENOENT;
    }
    size_t n = a->n ? a->n : 1;
    struct ais_objref *refs = calloc(n, sizeof(*refs)), *todo = calloc(n, sizeof(*todo));
    int *force = calloc(n, sizeof(*force)), *rcs = calloc(n, sizeof(*rcs));
    int *frc = calloc(n, sizeof(*frc)), *fforce = calloc(n, sizeof(*fforce));
    struct bk_err *errs = calloc(n, sizeof(*errs)), *ferrs = calloc(n, sizeof(*ferrs));
    size_t *idx = calloc(n, sizeof(*idx)), m = 0;
    int rc = refs && todo && force && rcs && frc && fforce && errs && ferrs && idx ? 0 : -ENOMEM;
    if (rc == 0) {
        prefetch_plan(t, a, refs, force, rcs, errs, res);
        for (size_t i = 0; i < a->n; i++) {
            if (force[i] >= 0) {
                todo[m] = refs[i];
                fforce[m] = force[i];
                idx[m++] = i;
            }
        }
        tgt_cold_fetch_n(t->cold, todo, m, &props, fforce, frc, ferrs);
        for (size_t j = 0; j < m; j++) {
            rcs[idx[j]] = frc[j];
            errs[idx[j]] = ferrs[j];
            res->done += frc[j] == 0;
        }
        for (size_t i = 0; rc == 0 && i < a->n; i++) {
            if (rcs[i] != 0) {
                rc = rpc_objs_res_add(res, a->names[i],
                                      errs[i].msg[0] ? errs[i].msg : ais_strerror(rcs[i]));
            }
        }
    }
    free(refs);
    free(todo);
    free(force);
    free(rcs);
    free(frc);
    free(fforce);
    free(errs);
    free(ferrs);
    free(idx);
    return rc;
}

void
tgt_path_encode(char *dst, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '%';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        }
    }
    dst[o] = '\0';
}

void
tgt_objs_abort(struct tgt *t, const char *id)
{
    pthread_mutex_lock(&t->ab_mu);
    snprintf(t->ab_ids[t->ab_next++ % 16], XA_ID_BYTES, "%s", id);
    pthread_mutex_unlock(&t->ab_mu);
}

static int
objs_aborted(struct tgt *t, const char *id)
{
    int hit = 0;
    if (id == NULL || id[0] == '\0') {
        return 0;
    }
    pthread_mutex_lock(&t->ab_mu);
    for (int i = 0; i < 16 && !hit; i++) {
        hit = strcmp(t->ab_ids[i], id) == 0;
    }
    pthread_mutex_unlock(&t->ab_mu);
    return hit;
}

/* One copy in flight: the destination PUT the source's bytes stream into. */
struct copy_one {
    struct st_put *put;
    CURL *h;
    uint64_t bytes;
    int rc;
    struct tgt *t;
    const char *job_id; /* a stopped job ends the transfer */
};

static size_t
copy_data(char *buf, size_t sz, size_t nit, void *arg)
{
    struct copy_one *c = arg;
    long st = 0;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &st);
    if (st != 200) {
        return sz * nit; /* an error body: the status says it all */
    }
    if (objs_aborted(c->t, c->job_id)) {
        c->rc = -ECANCELED;
        return 0;
    }
    c->rc = st_put_write(c->put, buf, sz * nit);
    c->bytes += sz * nit;
    return c->rc == 0 ? sz * nit : 0;
}

/*
 * GETs url (redirects followed) into dst here, with dst's props; the object appears only when
 * the whole body arrived with a 200. stall_s bounds a transfer that moves no bytes. 0, or
 * negative errno with why (-ENOENT for a 404: retrying does not help).
 */
static int
fetch_url(struct tgt *t, const char *url, const struct ais_objref *dst,
          const struct ais_bprops *dprops, long stall_s, const char *job_id, uint64_t *bytes,
          char *why, size_t cap)
{
    struct st_bck db = {.provider = dst->provider, .ns = dst->ns, .name = dst->bck};
    struct st_put_opts opts = {.cksum_type = dprops->cksum_type,
                               .fsync = ais_config_rt_get(&t->cfg->rt.fsync),
                               .versioning = dprops->versioning,
                               .copies = ais_bprops_copies(dprops)};
    struct copy_one c = {.t = t, .job_id = job_id};
    why[0] = '\0';
    int rc = st_put_begin(t->mp, &db, dst->obj, dst->digest, &opts, &c.put);
    if (rc == -ENOENT && tgt_bck_dirs_ensure(t, &db) == 0) {
        rc = st_put_begin(t->mp, &db, dst->obj, dst->digest, &opts, &c.put);
    }
    c.h = rc == 0 ? curl_easy_init() : NULL;
    if (rc == 0 && c.h == NULL) {
        rc = -ENOMEM;
    }
    if (rc == 0) {
        curl_easy_setopt(c.h, CURLOPT_URL, url);
        curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c.h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c.h, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(c.h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
        curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_TIME, stall_s);
        curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, copy_data);
        curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &c);
        CURLcode cc = curl_easy_perform(c.h);
        long st = 0;
        curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &st);
        if (c.rc != 0) {
            rc = c.rc;
            snprintf(why, cap, "write: %s", ais_strerror(rc));
        } else if (cc != CURLE_OK) {
            rc = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
            snprintf(why, cap, "%s", curl_easy_strerror(cc));
        } else if (st != 200) {
            rc = st == 404 ? -ENOENT : st >= 500 ? -EIO : -EPROTO;
            snprintf(why, cap, "server answered %ld", st);
        }
    }
    if (rc == 0) {
        rc = st_put_finish(c.put, NULL);
        c.put = NULL;
        if (rc != 0) {
            snprintf(why, cap, "store: %s", ais_strerror(rc));
        }
    } else if (why[0] == '\0') {
        snprintf(why, cap, "%s", ais_strerror(rc));
    }
    st_put_abort(c.put);
    if (c.h != NULL) {
        curl_easy_cleanup(c.h);
    }
    *bytes = rc == 0 ? c.bytes : 0;
    return rc;
}

/*
 * Copies src (read through its owner, which cold-GETs a remote object) into dst here, with
 * dst's props. The object appears only when complete. 0 or negative errno with why.
 */
static int
copy_obj(struct tgt *t, const struct ais_objref *src, const struct ais_objref *dst,
         const struct ais_bprops *dprops, uint64_t *bytes, char *why, size_t cap)
{
    struct ais_smap *smap = ais_meta_smap(&t->meta);
    const struct ais_snode *owner = ais_smap_hrw_target(smap, src->digest);
    char base[128] = "", enc[3 * AIS_OBJNAME_BYTES_MAX + 1];
    if (owner != NULL) {
        ais_snode_url(owner, base, sizeof(base));
    }
    ais_smap_unref(smap);
    if (base[0] == '\0') {
        snprintf(why, cap, "no target owns the source");
        return -EHOSTUNREACH;
    }
    size_t ucap = sizeof(base) + sizeof(enc) + 2 * AIS_BCKNAME_BYTES_MAX + AIS_NS_BYTES_MAX + 64;
    char *url = malloc(ucap);
    if (url == NULL) {
        return -ENOMEM;
    }
    tgt_path_encode(enc, sizeof(enc), src->obj);
    snprintf(url, ucap, "%s/v1/objects/%s/%s?provider=%s%s%s", base, src->bck, enc, src->provider,
             src->ns[0] ? "&namespace=" : "", src->ns);
    int rc = fetch_url(t, url, dst, dprops, AIS_COLD_WAIT_MS / 1000, NULL, bytes, why, cap);
    free(url);
    return rc;
}

#define COPY_WORKERS 8 /* connections per batch: copies and downloads */
#define DOWNLOAD_TRIES 3

/* A copy (or download) batch: workers take names by index. */
struct copy_batch {
    struct tgt *t;
    const struct rpc_objs_args *a;
    struct ais_bprops dprops;
    size_t next;
    pthread_mutex_t mu;
    int *rcs;
    uint64_t *bytes;
    char (*why)[160];
};

/* The downloader's unit: links[i] into bck/names[i]; transient failures retried (bounded). */
static void
download_one(struct copy_batch *cb, size_t i)
{
    const struct rpc_objs_args *a = cb->a;
    struct ais_objref dst;
    long stall_s = a->timeout_ms > 0 ? (long)((a->timeout_ms + 999) / 1000) : 60;
    int rc = ref_of(a, a->names[i], &dst);
    if (rc != 0) {
        snprintf(cb->why[i], sizeof(cb->why[i]), "invalid object name");
    }
    for (int attempt = 0; rc == 0 && attempt < DOWNLOAD_TRIES; attempt++) {
        rc = fetch_url(cb->t, a->links[i], &dst, &cb->dprops, stall_s, a->job_id, &cb->bytes[i],
                       cb->why[i], sizeof(cb->why[i]));
        if (rc != -EIO && rc != -ETIMEDOUT) {
            break; /* done, or not worth another try (404, a full disk, ...) */
        }
        if (attempt + 1 < DOWNLOAD_TRIES) {
            rc = 0;
            struct timespec ts = {0, (long)(200 * (attempt + 1)) * 1000000L};
            nanosleep(&ts, NULL); /* back-off between tries, not synchronisation */
        }
    }
    cb->rcs[i] = rc;
}

static void *
copy_worker(void *arg)
{
    struct copy_batch *cb = arg;
    const struct rpc_objs_args *a = cb->a;
    for (;;) {
        pthread_mutex_lock(&cb->mu);
        size_t i = cb->next++;
        pthread_mutex_unlock(&cb->mu);
        if (i >= a->n) {
            return NULL;
        }
        if (a->links != NULL) {
            download_one(cb, i);
            continue;
        }
        struct ais_objref src, dst;
        char dname[AIS_OBJNAME_BYTES_MAX + 1];
        struct rpc_objs_args da = {.provider = a->dst_provider, .ns = a->dst_ns, .bck = a->dst_bck};
        int n = snprintf(dname, sizeof(dname), "%s%s", a->prepend ? a->prepend : "", a->names[i]);
        int rc = n >= (int)sizeof(dname) ? AIS_EBADNAME : ref_of(a, a->names[i], &src);
        rc = rc ? rc : ref_of(&da, dname, &dst);
        if (rc != 0) {
            snprintf(cb->why[i], sizeof(cb->why[i]), "invalid object name");
        } else {
            rc = copy_obj(cb->t, &src, &dst, &cb->dprops, &cb->bytes[i], cb->why[i],
                          sizeof(cb->why[i]));
        }
        cb->rcs[i] = rc;
    }
}

static int
copy(struct tgt *t, const struct rpc_objs_args *a, struct rpc_objs_res *res)
{
    if (a->dst_bck == NULL && a->links == NULL) {
        return -EINVAL;
    }
    struct copy_batch cb = {.t = t, .a = a};
    struct ais_bmd *bmd = ais_meta_bmd(&t->meta);
    const struct ais_bck_md *k = a->links != NULL
                                     ? ais_bmd_find(bmd, a->provider, a->ns, a->bck) /* download */
                                     : ais_bmd_find(bmd, a->dst_provider, a->dst_ns, a->dst_bck);
    if (k != NULL) {
        cb.dprops = k->props;
    }
    ais_bmd_unref(bmd);
    if (k == NULL) {
        return -ENOENT;
    }
    size_t n = a->n ? a->n : 1;
    cb.rcs = calloc(n, sizeof(*cb.rcs));
    cb.bytes = calloc(n, sizeof(*cb.bytes));
    cb.why = calloc(n, sizeof(*cb.why));
    int rc = cb.rcs && cb.bytes && cb.why ? 0 : -ENOMEM;
    pthread_t th[COPY_WORKERS];
    size_t nth = 0;
    pthread_mutex_init(&cb.mu, NULL);
    for (size_t i = 0; rc == 0 && i < COPY_WORKERS && i < a->n; i++) {
        if (pthread_create(&th[nth], NULL, copy_worker, &cb) == 0) {
            nth++;
        }
    }
    if (rc == 0 && nth == 0 && a->n > 0) {
        copy_worker(&cb); /* no thread: copy inline */
    }
    for (size_t i = 0; i < nth; i++) {
        pthread_join(th[i], NULL);
    }
    pthread_mutex_destroy(&cb.mu);
    for (size_t i = 0; rc == 0 && i < a->n; i++) {
        if (cb.rcs[i] == 0) {
            res->done++;
            res->bytes += cb.bytes[i];
        } else {
            rc = rpc_objs_res_add(res, a->names[i], cb.why[i]);
        }
    }
    free(cb.rcs);
    free(cb.bytes);
    free(cb.why);
    return rc;
}

int
tgt_objs_op(void *ctx, const struct rpc_objs_args *a, struct rpc_objs_res *res, struct rpc_err *err)
{
    struct tgt *t = ctx;
    int rc = -ENOTSUP;
    if (strcmp(a->op, "archive") == 0) {
        return tgt_arch_bck_start(t, a, err); /* target/arch_bck.c: all names in one call */
    }
    if (a->n > AIS_OBJS_BATCH_MAX) {
        snprintf(err->msg, sizeof(err->msg), "batch of %zu names (at most %u)", a->n,
                 (unsigned)AIS_OBJS_BATCH_MAX);
        return -E2BIG;
    }
    if (strncmp(a->op, "promote", 7) == 0) {
        return tgt_promote_op(t, a, res, err); /* target/promote.c: its own messages */
    }
    if (strcmp(a->op, "present") == 0) {
        rc = present(t, a, res);
    } else if (strcmp(a->op, "evict") == 0) {
        rc = evict(t, a, res);
    } else if (strcmp(a->op, "evict-all") == 0) {
        rc = evict_all(t, a);
    } else if (strcmp(a->op, "prefetch") == 0) {
        rc = prefetch(t, a, res);
    } else if (strcmp(a->op, "copy") == 0 || strcmp(a->op, "download") == 0) {
        rc = copy(t, a, res);
    }
    if (rc != 0) {
        snprintf(err->msg, sizeof(err->msg), "%s %s://%s: %s", a->op, a->provider, a->bck,
                 ais_strerror(rc));
    }
    return rc;
}
