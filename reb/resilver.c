/*
 * Resilver: put every object of this target on the mountpath HRW picks for it (and its mirror
 * copies on the next ones), after a mountpath attach, enable, disable or detach (or a start with
 * one missing). make-n-copies: the same walk over one bucket after its mirror setting changed.
 *
 * Design notes: one job (kind "resilver") at a time. reb_rsl_start aborts the running job and
 * starts a new one whose body first takes run_mu, so it begins only after the superseded body
 * returned (the abort makes that quick) and two walks never overlap. The body walks every
 * bucket of the BMD with one list iterator (which merges all mountpaths of the set, disabled
 * and detaching ones included) and asks storage to relocate each name: the move runs under the
 * object's exclusive lock and keeps the newest copy, so reads never miss and a concurrent PUT
 * never loses. Detaching mountpaths are dropped only when, after st_mpaths_drain (no PUT that
 * started under an older set is still in flight, so none can land there any more), a walk of
 * each bucket finds them empty; otherwise the walk is repeated, at most RSL_PASSES_MAX times.
 * A mountpath that cannot even be walked (a dead disk) holds nothing we could move and is
 * dropped with a warning. Errors are counted, the walk goes on, and the job ends with an error
 * naming the count; the next mountpath change (or a repeated detach) retries.
 */
#include "common/err.h"
#include "common/hrw.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/names.h"
#include "reb/reb.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RSL_KIND "resilver"
#define MNC_KIND "make-n-copies"
#define SCRUB_KIND "scrub"
#define RSL_PAGE 1000
#define RSL_PASSES_MAX 3
#define RSL_DRAIN_STEP_MS 100

struct reb_rsl {
    struct reb_rsl_env env;
    pthread_mutex_t run_mu; /* one body at a time */
};

struct rsl_run {
    struct reb_rsl *r;
    struct xa_job *job;
    char bck[AIS_BCKNAME_BYTES_MAX + 1]; /* make-n-copies: the one bucket (provider, ns, name) */
    char provider[8];
    char ns[AIS_NS_BYTES_MAX];
    int scrub;          /* verify every copy (st_obj_scrub) instead of placing copies */
    uint64_t bad, lost; /* scrub: bad copies found, objects with no good copy */
    size_t n;
    char (*names)[AIS_OBJNAME_BYTES_MAX + 1];
    uint64_t failed;
};

static int
page_add(void *ctx, const char *name, const struct st_obj_md *md)
{
    (void)md;
    struct rsl_run *u = ctx;
    snprintf(u->names[u->n++], sizeof(u->names[0]), "%s", name);
    return 0;
}

static void
scrub_name(struct rsl_run *u, const struct st_bck *b, const char *name, uint64_t digest,
           unsigned copies)
{
    struct st_scrub_res res;
    int rc = st_obj_scrub(u->r->env.mp, b, name, digest, copies, &res);
    if (rc < 0) {
        u->failed++;
        AIS_LOG_WARN("req=scrub id=%s obj=%s/%s msg=\"not checked\" err=\"%s\"", xa_job_id(u->job),
                     b->name, name, ais_strerror(rc));
        return;
    }
    if (res.copies == 0) {
        return; /* deleted meanwhile */
    }
    xa_job_add(u->job, XA_CTR_LOC, 1, res.bytes);
    if (res.bad > 0) {
        xa_job_add(u->job, XA_CTR_OUT, res.bad, 0);
        u->bad += res.bad;
        AIS_LOG_WARN("req=scrub id=%s obj=%s/%s msg=\"%s\" bad=%u copies=%u restored=%u",
                     xa_job_id(u->job), b->name, name,
                     res.lost ? "corrupt, no good copy left" : "bad copy repaired", res.bad,
                     res.copies, res.restored);
    }
    if (res.restored > 0) {
        xa_job_add(u->job, XA_CTR_IN, res.restored, 0);
    }
    u->lost += (uint64_t)res.lost;
}

static void
relocate_page(struct rsl_run *u, const struct st_bck *b, unsigned copies)
{
    for (size_t i = 0; i < u->n && !xa_job_aborted(u->job); i++) {
        uint64_t digest = 0, bytes = 0;
        if (ais_obj_digest(b->provider, b->ns, b->name, u->names[i], &digest) != 0) {
            continue;
        }
        if (u->scrub) {
            scrub_name(u, b, u->names[i], digest, copies);
            continue;
        }
        int rc = st_obj_mirror(u->r->env.mp, b, u->names[i], digest, copies, &bytes);
        if (rc == 1) {
            xa_job_add(u->job, XA_CTR_LOC, 1, bytes);
        } else if (rc < 0) {
            u->failed++;
            AIS_LOG_WARN("req=resilver id=%s obj=%s/%s msg=\"not moved\" err=\"%s\"",
                         xa_job_id(u->job), b->name, u->names[i], ais_strerror(rc));
        }
    }
}

static int
walk_bucket(struct rsl_run *u, const struct ais_bck_md *k)
{
    struct st_bck b = {.provider = k->provider, .ns = k->ns, .name = k->name};
    struct st_list_iter *it = NULL;
    int rc = st_list_iter_open(u->r->env.mp, &b, "", 0, &it);
    if (rc != 0) {
        return rc == -ENOENT ? 0 : rc;
    }
    int more = 1;
    while (rc == 0 && more && !xa_job_aborted(u->job)) {
        u->n = 0;
        rc = st_list_iter_next_page(it, RSL_PAGE, page_add, u, &more);
        if (rc == 0) {
            relocate_page(u, &b, ais_bprops_copies(&k->props));
        }
    }
    st_list_iter_close(it);
    return rc;
}

/* 1 when slot i holds no object of any bucket of bmd (or cannot be walked at all). */
static int
slot_drained(struct rsl_run *u, const struct ais_bmd *bmd, size_t i)
{
    for (size_t k = 0; k < bmd->n; k++) {
        const struct ais_bck_md *m = &bmd->bcks[k];
        struct st_bck b = {.provider = m->provider, .ns = m->ns, .name = m->name};
        int rc = st_mpaths_slot_empty(u->r->env.mp, i, &b);
        if (rc < 0) {
            AIS_LOG_WARN("req=resilver path=%s msg=\"cannot walk detaching mountpath: dropping "
                         "it\" err=\"%s\"",
                         st_mpaths_path(u->r->env.mp, i), ais_strerror(rc));
            return 1;
        }
        if (rc == 0) {
            return 0;
        }
    }
    return 1;
}

/* Waits for PUTs of older sets, then drops the emptied detaching slots. 1 if some remain. */
static int
drop_detached(struct rsl_run *u, const struct ais_bmd *bmd)
{
    struct st_mpaths *mp = u->r->env.mp;
    int pending = 0, dropped = 0;
    size_t n = st_mpaths_count(mp);
    for (size_t i = 0; i < n; i++) {
        pending |= st_mpaths_state(mp, i) == ST_MPATH_DETACHING;
    }
    if (!pending) {
        return 0;
    }
    int rc = -ETIMEDOUT;
    for (int w = 0; rc != 0 && w < AIS_RESILVER_DRAIN_MS && !xa_job_aborted(u->job);
         w += RSL_DRAIN_STEP_MS) {
        rc = st_mpaths_drain(mp, RSL_DRAIN_STEP_MS);
    }
    if (rc != 0) {
        return 1;
    }
    pending = 0;
    for (size_t i = 0; i < n && !xa_job_aborted(u->job); i++) {
        if (st_mpaths_state(mp, i) != ST_MPATH_DETACHING) {
            continue;
        }
        if (slot_drained(u, bmd, i) && st_mpaths_drop(mp, i) == 0) {
            dropped = 1;
        } else {
            pending = 1;
        }
    }
    if (dropped && u->r->env.dropped != NULL) {
        u->r->env.dropped(u->r->env.ctx);
    }
    return pending;
}

static int
rsl_body(struct xa_job *job, void *arg)
{
    struct rsl_run *u = arg;
    struct reb_rsl *r = u->r;
    u->job = job;
    pthread_mutex_lock(&r->run_mu);
    AIS_LOG_INFO("req=resilver id=%s msg=started", xa_job_id(job));
    int rc = 0, pending = 1;
    for (int pass = 0; rc == 0 && pending && pass < RSL_PASSES_MAX && !xa_job_aborted(job);
         pass++) {
        struct ais_bmd *bmd = ais_meta_bmd(r->env.meta);
        for (size_t i = 0; rc == 0 && i < bmd->n && !xa_job_aborted(job); i++) {
            rc = walk_bucket(u, &bmd->bcks[i]);
        }
        if (rc == 0 && !xa_job_aborted(job)) {
            pending = drop_detached(u, bmd);
        }
        ais_bmd_unref(bmd);
    }
    if (rc == 0 && xa_job_aborted(job)) {
        rc = -ECANCELED;
    }
    if (rc == 0 && (u->failed > 0 || pending)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "%llu object(s) not moved%s", (unsigned long long)u->failed,
                 pending ? ", a detaching mountpath is not empty yet" : "");
        xa_job_set_err(job, msg);
        rc = -EIO;
    }
    AIS_LOG_INFO("req=resilver id=%s rc=%d failed=%llu msg=ended", xa_job_id(job), rc,
                 (unsigned long long)u->failed);
    pthread_mutex_unlock(&r->run_mu);
    return rc;
}

/* make-n-copies and scrub: the walk of one bucket with its current mirror setting. */
static int
mnc_body(struct xa_job *job, void *arg)
{
    struct rsl_run *u = arg;
    struct reb_rsl *r = u->r;
    u->job = job;
    pthread_mutex_lock(&r->run_mu);
    struct ais_bmd *bmd = ais_meta_bmd(r->env.meta);
    const struct ais_bck_md *k = ais_bmd_find(bmd, u->provider, u->ns, u->bck);
    const char *kind = u->scrub ? SCRUB_KIND : MNC_KIND;
    AIS_LOG_INFO("req=%s id=%s bck=%s copies=%u msg=started", kind, xa_job_id(job), u->bck,
                 k ? ais_bprops_copies(&k->props) : 0);
    int rc = k != NULL ? walk_bucket(u, k) : 0; /* destroyed meanwhile: nothing to do */
    ais_bmd_unref(bmd);
    if (rc == 0 && xa_job_aborted(job)) {
        rc = -ECANCELED;
    }
    if (rc == 0 && (u->failed > 0 || u->lost > 0)) {
        char msg[160];
        if (u->scrub) {
            snprintf(msg, sizeof(msg),
                     "%llu object(s) corrupt with no good copy left, %llu not checked",
                     (unsigned long long)u->lost, (unsigned long long)u->failed);
        } else {
            snprintf(msg, sizeof(msg), "%llu object(s) not mirrored",
                     (unsigned long long)u->failed);
        }
        xa_job_set_err(job, msg);
        rc = -EIO;
    }
    AIS_LOG_INFO("req=%s id=%s rc=%d failed=%llu bad=%llu lost=%llu msg=ended", kind,
                 xa_job_id(job), rc, (unsigned long long)u->failed, (unsigned long long)u->bad,
                 (unsigned long long)u->lost);
    pthread_mutex_unlock(&r->run_mu);
    return rc;
}

static void
run_free(void *arg)
{
    struct rsl_run *u = arg;
    if (u != NULL) {
        free(u->names);
        free(u);
    }
}

int
reb_rsl_start(struct reb_rsl *r, char id_out[XA_ID_BYTES])
{
    (void)xa_abort(r->env.xreg, &(struct xa_filter){.kind = RSL_KIND});
    struct rsl_run *u = calloc(1, sizeof(*u));
    if (u == NULL || (u->names = malloc(RSL_PAGE * sizeof(*u->names))) == NULL) {
        run_free(u);
        return -ENOMEM;
    }
    u->r = r;
    int rc = xa_job_start(r->env.xreg, RSL_KIND, NULL, rsl_body, u, run_free, id_out);
    if (rc != 0) {
        AIS_LOG_ERR("req=resilver msg=\"cannot start\" err=\"%s\"", ais_strerror(rc));
    }
    return rc;
}

static int
bck_job_start(struct reb_rsl *r, int scrub, const char *provider, const char *ns, const char *bck,
              const char *id, char id_out[XA_ID_BYTES])
{
    struct rsl_run *u = calloc(1, sizeof(*u));
    if (u == NULL || (u->names = malloc(RSL_PAGE * sizeof(*u->names))) == NULL) {
        run_free(u);
        return -ENOMEM;
    }
    u->r = r;
    snprintf(u->provider, sizeof(u->provider), "%s", provider);
    snprintf(u->ns, sizeof(u->ns), "%s", ns);
    snprintf(u->bck, sizeof(u->bck), "%s", bck);
    u->scrub = scrub;
    const char *kind = scrub ? SCRUB_KIND : MNC_KIND;
    char disp[XA_BCK_BYTES];
    snprintf(disp, sizeof(disp), "%s://%s", provider, bck);
    /* A newer start for the same bucket supersedes the walk of the older one. */
    (void)xa_abort(r->env.xreg, &(struct xa_filter){.kind = kind, .bck = disp});
    int rc = xa_job_start_id(r->env.xreg, id, kind, disp, mnc_body, u, run_free, id_out);
    if (rc != 0) {
        AIS_LOG_ERR("req=%s bck=%s msg=\"cannot start\" err=\"%s\"", kind, bck, ais_strerror(rc));
    }
    return rc;
}

int
reb_mnc_start(struct reb_rsl *r, const char *provider, const char *ns, const char *bck,
              const char *id, char id_out[XA_ID_BYTES])
{
    return bck_job_start(r, 0, provider, ns, bck, id, id_out);
}

int
reb_scrub_start(struct reb_rsl *r, const char *provider, const char *ns, const char *bck,
                const char *id, char id_out[XA_ID_BYTES])
{
    return bck_job_start(r, 1, provider, ns, bck, id, id_out);
}

int
reb_rsl_new(const struct reb_rsl_env *env, struct reb_rsl **out)
{
    struct reb_rsl *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return -ENOMEM;
    }
    int rc = pthread_mutex_init(&r->run_mu, NULL);
    if (rc != 0) {
        free(r);
        return -rc;
    }
    r->env = *env;
    *out = r;
    return 0;
}

void
reb_rsl_free(struct reb_rsl *r)
{
    if (r == NULL) {
        return;
    }
    (void)xa_abort(r->env.xreg, &(struct xa_filter){.kind = RSL_KIND});
    (void)xa_abort(r->env.xreg, &(struct xa_filter){.kind = MNC_KIND});
    (void)xa_abort(r->env.xreg, &(struct xa_filter){.kind = SCRUB_KIND});
    (void)xa_wait(r->env.xreg, &(struct xa_filter){.kind = RSL_KIND}, AIS_RESILVER_DRAIN_MS);
    (void)xa_wait(r->env.xreg, &(struct xa_filter){.kind = MNC_KIND}, AIS_RESILVER_DRAIN_MS);
    (void)xa_wait(r->env.xreg, &(struct xa_filter){.kind = SCRUB_KIND}, AIS_RESILVER_DRAIN_MS);
    pthread_mutex_destroy(&r->run_mu);
    free(r);
}
