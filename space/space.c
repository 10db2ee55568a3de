/*
 * The target's capacity monitor, the PUT out-of-space check and the "lru" job on storage.
 *
 * Design notes: one thread per target reads every available mountpath's usage (statvfs) each
 * lru.capacity_upd_time, re-reading the period every SP_TICK_MS so a runtime change applies
 * soon. Readings are cached per slot (percent used and when) in relaxed atomics; a PUT uses the
 * cached reading of its HRW mountpath, re-reads it when older than SP_PUT_REFRESH_MS (one
 * statvfs, so a filling disk is noticed within a few PUTs), and refuses at out_of_space. A PUT
 * that finds its mountpath at or above highwm kicks the monitor (at most every SP_KICK_MIN_MS)
 * instead of waiting for the period. The monitor starts an LRU job for the mountpaths at or
 * above highwm when none runs (lru_running, taken by CAS and released by the job's arg_free,
 * which runs after the body or on a failed start). A job that could not reach lowwm (nothing
 * more is evictable: e.g. only ais:// buckets, or all recently read) marks the state futile:
 * kicks then no longer start jobs, only the periodic check does, so a full disk of ais://
 * objects costs one walk per period rather than one per PUT. Eviction removes a copy only if
 * it is still the file the walk saw (st_obj_delete_if, under the object's exclusive lock), so
 * a concurrent PUT of the same name always survives; mirror copies of the same version follow.
 */
#include "space/space.h"

#include "common/assert.h"
#include "common/err.h"
#include "common/hrw.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define LRU_KIND "lru"

struct sp {
    struct sp_env env;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;              /* CLOCK_MONOTONIC */
    int kicked, stopping;           /* under mu */
    int lru_running;                /* atomic: an LRU job holds the one slot */
    int lru_futile;                 /* atomic: the last job could not reach lowwm */
    int64_t kick_ns;                /* atomic: mono time of the last PUT kick */
    int pct[AIS_MPATHS_MAX];        /* atomic: percent used by slot, -1 unknown */
    int64_t pct_ns[AIS_MPATHS_MAX]; /* atomic: mono time of that reading */
    uint8_t full[AIS_MPATHS_MAX];   /* monitor thread only: slot was at out_of_space */
};

struct lru_run {
    struct sp *s;
    struct xa_job *job;
    uint64_t slots;
};

void
sp_obj_touch(int fd)
{
    const struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    (void)futimens(fd, ts);
}

/* Reads slot i's usage into the cache. Percent used, or -1 when it cannot be read. */
static int
pct_refresh(struct sp *s, size_t i)
{
    uint64_t total = 0, avail = 0;
    int pct = -1;
    if (st_mpaths_capacity(s->env.mp, i, &total, &avail) == 0 && total > 0) {
        uint64_t used = total > avail ? total - avail : 0;
        pct = (int)(used / (total / 100 ? total / 100 : 1));
        pct = pct > 100 ? 100 : pct;
    }
    __atomic_store_n(&s->pct[i], pct, __ATOMIC_RELAXED);
    __atomic_store_n(&s->pct_ns[i], ais_mono_ns(), __ATOMIC_RELAXED);
    return pct;
}

/* ---- ops of the engine on storage ---- */

static int
op_capacity(void *ctx, size_t slot, uint64_t *total, uint64_t *avail)
{
    struct lru_run *u = ctx;
    return st_mpaths_capacity(u->s->env.mp, slot, total, avail);
}

static int
op_walk(void *ctx, const struct st_bck *b, st_list_fn fn, void *fctx)
{
    struct lru_run *u = ctx;
    struct st_list_iter *it = NULL;
    int rc = st_list_iter_open(u->s->env.mp, b, "", 1, &it);
    int more = 1;
    while (rc == 0 && more) {
        rc = st_list_iter_next_page(it, SP_LRU_PAGE, fn, fctx, &more);
    }
    st_list_iter_close(it);
    return rc;
}

static int
op_copies(void *ctx, const struct st_bck *b, const char *name, uint64_t *slots)
{
    struct lru_run *u = ctx;
    uint64_t digest = 0;
    uint32_t v[AIS_MPATHS_MAX];
    int rc = ais_obj_digest(b->provider, b->ns, b->name, name, &digest);
    rc = rc ? rc : st_obj_copies(u->s->env.mp, b, name, digest, v, AIS_MPATHS_MAX);
    if (rc < 0) {
        return rc;
    }
    uint64_t m = 0;
    for (int i = 0; i < rc; i++) {
        m |= v[i] < AIS_MPATHS_MAX ? 1ull << v[i] : 0;
    }
    *slots = m;
    return 0;
}

/*
 * The walked copy goes if it is still that file; then every other copy of the same version
 * (mirror copies share size and mtime), each again only if still the file stat found. A newer
 * PUT (other mtime) stops it.
 */
static int
op_evict(void *ctx, const struct st_bck *b, const char *name, const struct st_obj_md *md)
{
    struct lru_run *u = ctx;
    struct st_mpaths *mp = u->s->env.mp;
    uint64_t digest = 0;
    int rc = ais_obj_digest(b->provider, b->ns, b->name, name, &digest);
    rc = rc ? rc : st_obj_delete_if(mp, b, name, digest, md);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < AIS_MPATHS_MAX; i++) {
        struct st_obj_md other;
        if (st_obj_stat(mp, b, name, digest, &other) != 0 || other.mtime_ns != md->mtime_ns ||
            other.size != md->size || st_obj_delete_if(mp, b, name, digest, &other) != 0) {
            break;
        }
    }
    xa_job_add(u->job, XA_CTR_LOC, 1, md->size);
    AIS_LOG_DBG("req=lru id=%s obj=%s://%s/%s size=%llu msg=evicted", xa_job_id(u->job),
                b->provider, b->name, name, (unsigned long long)md->size);
    return 0;
}

static int
op_aborted(void *ctx)
{
    struct lru_run *u = ctx;
    return xa_job_aborted(u->job);
}

static const struct sp_lru_ops storage_ops = {
    .capacity = op_capacity,
    .walk = op_walk,
    .copies = op_copies,
    .evict = op_evict,
    .aborted = op_aborted,
};

/* ---- the job ---- */

static int
lru_body(struct xa_job *job, void *arg)
{
    struct lru_run *u = arg;
    struct sp *s = u->s;
    const struct ais_config_rt *rt = &s->env.cfg->rt;
    u->job = job;
    struct ais_bmd *bmd = ais_meta_bmd(s->env.meta);
    struct sp_lru_args a = {.bmd = bmd,
                            .slots = u->slots,
                            .lowwm = ais_config_rt_get(&rt->space_lowwm),
                            .now_ns = ais_now_ns(),
                            .dont_evict_ms = ais_config_rt_get64(&rt->lru_dont_evict_ms),
                            .batch = SP_LRU_BATCH_MAX,
                            .passes = SP_LRU_PASSES_MAX};
    struct sp_lru_res res;
    AIS_LOG_INFO("req=lru id=%s slots=0x%llx lowwm=%d msg=started", xa_job_id(job),
                 (unsigned long long)u->slots, a.lowwm);
    int rc = sp_lru_run(&a, &storage_ops, u, &res);
    ais_bmd_unref(bmd);
    for (size_t i = 0; i < AIS_MPATHS_MAX; i++) {
        if (u->slots & (1ull << i)) {
            (void)pct_refresh(s, i); /* PUTs see the freed space at once */
        }
    }
    __atomic_store_n(&s->lru_futile, !res.reached, __ATOMIC_RELAXED);
    if (rc == 0 && res.failed > 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%llu object(s) could not be evicted",
                 (unsigned long long)res.failed);
        xa_job_set_err(job, msg);
        rc = -EIO;
    }
    AIS_LOG_INFO("req=lru id=%s rc=%d evicted=%llu bytes=%llu recent=%llu skipped=%llu "
                 "failed=%llu passes=%zu lowwm_reached=%d msg=ended",
                 xa_job_id(job), rc, (unsigned long long)res.objs, (unsigned long long)res.bytes,
                 (unsigned long long)res.recent, (unsigned long long)res.skipped,
                 (unsigned long long)res.failed, res.passes, res.reached);
    return rc;
}

static void
lru_arg_free(void *arg)
{
    struct lru_run *u = arg;
    __atomic_store_n(&u->s->lru_running, 0, __ATOMIC_RELEASE);
    free(u);
}

/* Starts the one LRU job for slots. 0, -EBUSY (one runs) or xa_job_start_id's error. */
static int
lru_launch(struct sp *s, uint64_t slots, const char *id, char id_out[XA_ID_BYTES])
{
    int idle = 0;
    if (!__atomic_compare_exchange_n(&s->lru_running, &idle, 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED)) {
        return -EBUSY;
    }
    struct lru_run *u = calloc(1, sizeof(*u));
    if (u == NULL) {
        __atomic_store_n(&s->lru_running, 0, __ATOMIC_RELEASE);
        return -ENOMEM;
    }
    u->s = s;
    u->slots = slots;
    int rc = xa_job_start_id(s->env.xreg, id, LRU_KIND, NULL, lru_body, u, lru_arg_free, id_out);
    if (rc != 0) {
        AIS_LOG_WARN("req=lru msg=\"cannot start\" err=\"%s\"", ais_strerror(rc));
    }
    return rc;
}

int
sp_lru_start(struct sp *s, const char *id, char id_out[XA_ID_BYTES])
{
    AIS_ASSERT(s != NULL);
    uint64_t slots = 0;
    size_t n = st_mpaths_count(s->env.mp);
    for (size_t i = 0; i < n && i < AIS_MPATHS_MAX; i++) {
        slots |= st_mpaths_state(s->env.mp, i) == ST_MPATH_AVAIL ? 1ull << i : 0;
    }
    return lru_launch(s, slots, id, id_out);
}

/* ---- the monitor ---- */

/* Logs when slot i reaches out_of_space (PUTs to it now get 507) and when it leaves it. */
static void
full_log(struct sp *s, size_t i, int pct, int oos)
{
    int full = pct >= oos;
    if (full != s->full[i]) {
        const char *path = st_mpaths_path(s->env.mp, i);
        if (full) {
            AIS_LOG_WARN("req=capacity mpath=%s used=%d%% out_of_space=%d%% msg=\"full: PUTs to "
                         "it get 507\"",
                         path ? path : "?", pct, oos);
        } else {
            AIS_LOG_INFO("req=capacity mpath=%s used=%d%% out_of_space=%d%% msg=\"below "
                         "out_of_space again\"",
                         path ? path : "?", pct, oos);
        }
        s->full[i] = (uint8_t)full;
    }
}

/* Reads every available mountpath; starts LRU for those at or above highwm. */
static void
capacity_check(struct sp *s, int periodic)
{
    const struct ais_config_rt *rt = &s->env.cfg->rt;
    int high = ais_config_rt_get(&rt->space_highwm), oos = ais_config_rt_get(&rt->space_oos);
    uint64_t hot = 0;
    size_t n = st_mpaths_count(s->env.mp);
    for (size_t i = 0; i < n && i < AIS_MPATHS_MAX; i++) {
        if (st_mpaths_state(s->env.mp, i) != ST_MPATH_AVAIL) {
            continue;
        }
        int pct = pct_refresh(s, i);
        full_log(s, i, pct, oos);
        hot |= pct >= high ? 1ull << i : 0;
    }
    if (hot == 0 || !ais_config_rt_get(&rt->lru_enabled) ||
        (!periodic && __atomic_load_n(&s->lru_futile, __ATOMIC_RELAXED))) {
        return;
    }
    (void)lru_launch(s, hot, NULL, NULL); /* -EBUSY: the running job handles it */
}

static void
deadline_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static void *
monitor_main(void *arg)
{
    struct sp *s = arg;
    ais_thread_background();
    int64_t last = ais_mono_ns();
    capacity_check(s, 1);
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        struct timespec until;
        deadline_in(&until, SP_TICK_MS);
        /* Bounded: ends at the tick, a kick or stop. */
        while (!s->stopping && !s->kicked &&
               pthread_cond_timedwait(&s->cv, &s->mu, &until) != ETIMEDOUT) {
        }
        int64_t period_ns = ais_config_rt_get64(&s->env.cfg->rt.lru_capacity_upd_ms) * 1000000;
        int64_t now = ais_mono_ns();
        int periodic = now - last >= period_ns, kicked = s->kicked;
        s->kicked = 0;
        if (s->stopping || (!periodic && !kicked)) {
            continue;
        }
        last = periodic ? now : last;
        pthread_mutex_unlock(&s->mu);
        capacity_check(s, periodic);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void
kick(struct sp *s)
{
    int64_t now = ais_mono_ns(), prev = __atomic_load_n(&s->kick_ns, __ATOMIC_RELAXED);
    if (now - prev < (int64_t)SP_KICK_MIN_MS * 1000000 ||
        !__atomic_compare_exchange_n(&s->kick_ns, &prev, now, 0, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED)) {
        return; /* rate-limited, or another PUT kicked just now */
    }
    pthread_mutex_lock(&s->mu);
    s->kicked = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

int
sp_put_check(struct sp *s, uint64_t digest, char *msg, size_t cap)
{
    AIS_ASSERT(s != NULL);
    const struct ais_config_rt *rt = &s->env.cfg->rt;
    size_t i = st_mpaths_pick(s->env.mp, digest);
    if (i >= AIS_MPATHS_MAX) {
        return 0;
    }
    int pct = __atomic_load_n(&s->pct[i], __ATOMIC_RELAXED);
    int64_t at = __atomic_load_n(&s->pct_ns[i], __ATOMIC_RELAXED);
    if (ais_mono_ns() - at >= (int64_t)SP_PUT_REFRESH_MS * 1000000) {
        pct = pct_refresh(s, i);
    }
    if (pct >= ais_config_rt_get(&rt->space_highwm)) {
        kick(s);
    }
    int oos = ais_config_rt_get(&rt->space_oos);
    if (pct < oos) {
        return 0;
    }
    const char *path = st_mpaths_path(s->env.mp, i);
    snprintf(msg, cap, "mountpath %s is %d%% full (out_of_space %d%%)", path ? path : "?", pct,
             oos);
    return -ENOSPC;
}

int
sp_start(const struct sp_env *env, struct sp **out)
{
    AIS_ASSERT(env != NULL && env->cfg != NULL && env->meta != NULL);
    AIS_ASSERT(env->mp != NULL && env->xreg != NULL);
    struct sp *s = calloc(1, sizeof(*s));
    pthread_condattr_t ca;
    if (s == NULL) {
        return -ENOMEM;
    }
    s->env = *env;
    for (size_t i = 0; i < AIS_MPATHS_MAX; i++) {
        s->pct[i] = -1;
        s->pct_ns[i] = INT64_MIN / 2; /* stale: the first PUT reads it */
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&s->th, NULL, monitor_main, s);
    if (rc != 0) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return -rc;
    }
    *out = s;
    return 0;
}

void
sp_stop(struct sp *s)
{
    if (s == NULL) {
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    (void)xa_abort(s->env.xreg, &(struct xa_filter){.kind = LRU_KIND});
    /* Bounded: the body polls the abort between objects. */
    for (int ms = 0; __atomic_load_n(&s->lru_running, __ATOMIC_ACQUIRE); ms += 10) {
        if (ms >= SP_STOP_WAIT_MS) {
            AIS_LOG_ERR("req=lru msg=\"job did not stop: leaking its state\"");
            return;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
