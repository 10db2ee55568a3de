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
#include "target/target_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
tgt_objs_op(void *ctx, const struct rpc_objs_args *a, struct rpc_objs_res *res, struct rpc_err *err)
{
    struct tgt *t = ctx;
    int rc = -ENOTSUP;
    if (a->n > AIS_OBJS_BATCH_MAX) {
        snprintf(err->msg, sizeof(err->msg), "batch of %zu names (at most %u)", a->n,
                 (unsigned)AIS_OBJS_BATCH_MAX);
        return -E2BIG;
    }
    if (strcmp(a->op, "present") == 0) {
        rc = present(t, a, res);
    } else if (strcmp(a->op, "evict") == 0) {
        rc = evict(t, a, res);
    } else if (strcmp(a->op, "evict-all") == 0) {
        rc = evict_all(t, a);
    } else if (strcmp(a->op, "prefetch") == 0) {
        rc = prefetch(t, a, res);
    }
    if (rc != 0) {
        snprintf(err->msg, sizeof(err->msg), "%s %s://%s: %s", a->op, a->provider, a->bck,
                 ais_strerror(rc));
    }
    return rc;
}
