/*
 * Design notes: the dSort service of a target - the job registry, the steps other nodes call
 * (ds_rpc) and the job body. Steps of job U (rpc_dsort over nng):
 *   init    gateway -> every target: spec, input names, targets, leader; starts the job thread
 *   records target -> leader: a chunk of its sorted run of record metadata ("last" ends it)
 *   plan    leader -> target: the shards it creates (records in order) and how many of its
 *           records the others will pull
 *   pull    target -> target: records by id, answered with their bytes (create.c)
 *   abort   anyone -> target: stop (with the error that caused it, if any)
 *   metrics / list / remove: the gateway's queries (JobInfo JSON, api.md §6.2)
 * The job thread runs the phases; it waits only with deadlines and watches the Smap, so a
 * target that leaves the cluster fails the job with an error naming it instead of a hang.
 * A target that fails tells every other one (abort with the error); the leader's plan is the
 * only cross-target decision, so there is no other coordination to undo.
 */
#include "common/err.h"
#include "common/hrw.h"
#include "common/json.h"
#include "common/log.h"
#include "common/meta.h"
#include "common/smap.h"
#include "common/util.h"
#include "dsort/ds_int.h"
#include "rpc/rpc.h"
#include "storage/sidecar.h"
#include "storage/storage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WAIT_SLICE_MS 100
#define STALL_MS (10 * 60 * 1000) /* no progress from the others for this long: fail */
#define STEP_TIMEOUT_MS 60000
#define RECORDS_CHUNK 50000u
#define INIT_WAIT_SLICE_MS 50
#define INIT_WAIT_TRIES 600 /* 30 s for the leader to take the init step */

struct ds {
    struct ds_env env;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ds_job **jobs;
    size_t njobs, cap;
    unsigned running;
    int stopping;
};

/* ---- job lifetime ---- */

static void
job_ref(struct ds_job *j)
{
    __atomic_add_fetch(&j->refs, 1, __ATOMIC_RELAXED);
}

static void
job_release_data(struct ds_job *j)
{
    for (size_t i = 0; i < j->nfds; i++) {
        close(j->fds[i]);
    }
    free(j->fds);
    j->fds = NULL;
    j->nfds = j->capfds = 0;
    for (size_t i = 0; i < j->nrecs; i++) {
        free(j->recs[i].key);
        free(j->recs[i].cstr);
    }
    free(j->recs);
    j->recs = NULL;
    j->nrecs = j->caprecs = 0;
    for (size_t i = 0; i < j->nmems; i++) {
        free(j->mems[i].name);
    }
    free(j->mems);
    j->mems = NULL;
    j->nmems = j->capmems = 0;
    for (size_t t = 0; j->runs && t < j->ntgt; t++) {
        for (size_t i = 0; i < j->run_n[t]; i++) {
            free(j->runs[t][i].key);
            free(j->runs[t][i].cstr);
        }
        free(j->runs[t]);
        j->runs[t] = NULL;
        j->run_n[t] = 0;
    }
    for (size_t i = 0; i < j->nosh; i++) {
        free(j->osh[i].name);
        free(j->osh[i].src);
        free(j->osh[i].rid);
        free(j->osh[i].size);
    }
    free(j->osh);
    j->osh = NULL;
    j->nosh = 0;
}

static void
job_unref(void *arg)
{
    struct ds_job *j = arg;
    if (j == NULL || __atomic_sub_fetch(&j->refs, 1, __ATOMIC_ACQ_REL) != 0) {
        return;
    }
    job_release_data(j);
    for (size_t i = 0; i < j->nnames; i++) {
        free(j->names[i]);
    }
    free(j->names);
    free(j->tids);
    free(j->runs);
    free(j->run_n);
    free(j->run_cap);
    free(j->run_done);
    json_decref(j->ekm);
    json_decref(j->warnings);
    json_decref(j->errors);
    ds_spec_fini(&j->spec);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}

const struct ds_env *
ds_job_env(const struct ds_job *j)
{
    return &j->d->env;
}

int
ds_job_call(struct ds_job *j, size_t t, const char *op, const json_t *body, int timeout_ms,
            char **out, size_t *out_len, char *msg, size_t cap)
{
    char url[128] = "", *text = body ? ais_json_dumps(body) : strdup("{}"), *reply = NULL;
    struct ais_smap *smap = ais_meta_smap(j->d->env.meta);
    const struct ais_snode *n = ais_smap_find(smap, j->tids[t]);
    if (n != NULL) {
        ais_snode_ctrl_url(n, url, sizeof(url));
    }
    ais_smap_unref(smap);
    struct rpc_err err = {0};
    size_t len = 0;
    int rc = text == NULL ? -ENOMEM
             : url[0]
                 ? rpc_dsort(url, timeout_ms, op, j->uuid, text, strlen(text), &reply, &len, &err)
                 : -EHOSTUNREACH;
    free(text);
    if (rc != 0) {
        snprintf(msg, cap, "%s", err.msg[0] ? err.msg : ais_strerror(rc));
        return rc;
    }
    if (out != NULL) {
        *out = reply;
        *out_len = len;
    } else {
        free(reply);
    }
    return 0;
}

int
ds_job_stopped(struct ds_job *j)
{
    if (__atomic_load_n(&j->aborted, __ATOMIC_ACQUIRE)) {
        return 1;
    }
    pthread_mutex_lock(&j->mu);
    int ab = j->xj != NULL && xa_job_aborted(j->xj);
    pthread_mutex_unlock(&j->mu);
    if (ab) {
        __atomic_store_n(&j->aborted, 1, __ATOMIC_RELEASE);
    }
    return ab;
}

void
ds_job_warn(struct ds_job *j, const char *fmt, ...)
{
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof(m), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&j->mu);
    if (json_array_size(j->warnings) < 100) {
        json_array_append_new(j->warnings, json_string(m));
    }
    pthread_mutex_unlock(&j->mu);
}

/* Tells every other target of the job to abort, with why. */
static void
job_broadcast_abort(struct ds_job *j, const char *why)
{
    json_t *b = json_pack("{ss}", "err", why);
    char msg[64];
    for (size_t t = 0; b && t < j->ntgt; t++) {
        if (t != j->self) {
            (void)ds_job_call(j, t, "abort", b, 5000, NULL, NULL, msg,
                              sizeof(msg)); /* best effort */
        }
    }
    json_decref(b);
}

void
ds_job_fail(struct ds_job *j, const char *fmt, ...)
{
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof(m), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&j->mu);
    int first = j->err[0] == '\0' && !__atomic_load_n(&j->aborted, __ATOMIC_ACQUIRE);
    if (j->err[0] == '\0') {
        snprintf(j->err, sizeof(j->err), "%s", m);
        json_array_append_new(j->errors, json_string(m));
    }
    __atomic_store_n(&j->aborted, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (first) {
        AIS_LOG_WARN("req=dsort id=%s msg=\"job failed\" err=\"%s\"", j->uuid, m);
        char why[600];
        snprintf(why, sizeof(why), "target %s: %s", j->tids[j->self], m);
        job_broadcast_abort(j, why);
    }
}

int
ds_job_tmpfile(struct ds_job *j)
{
    const struct ds_env *env = &j->d->env;
    size_t n = st_mpaths_count(env->mp);
    uint64_t h = ais_hrw_digest(j->uuid, strlen(j->uuid)) + (uint64_t)ais_mono_ns();
    for (size_t k = 0; k < n; k++) {
        size_t slot = (size_t)((h + k) % n);
        if (st_mpaths_state(env->mp, slot) != ST_MPATH_AVAIL) {
            continue;
        }
        char dir[4096];
        struct st_bck b = {.provider = j->spec.in_provider, .ns = "", .name = j->spec.in_bck};
        if (st_sidecar_path(env->mp, slot, &b, ST_DIR_DSORT_WORK, NULL, dir, sizeof(dir)) < 0 ||
            (mkdir(dir, 0755) != 0 && errno != EEXIST)) {
            continue;
        }
        int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd >= 0) {
            return fd;
        }
    }
    return -ENOSPC;
}

/* ---- waiting ---- */

/* 0 while every target of the job is in the Smap, else fails the job naming the missing one. */
static int
job_members_ok(struct ds_job *j)
{
    struct ais_smap *smap = ais_meta_smap(j->d->env.meta);
    const char *gone = NULL;
    for (size_t t = 0; t < j->ntgt && gone == NULL; t++) {
        if (ais_smap_find(smap, j->tids[t]) == NULL) {
            gone = j->tids[t];
        }
    }
    char id[AIS_DAEMON_ID_BYTES_MAX] = "";
    if (gone) {
        snprintf(id, sizeof(id), "%s", gone);
    }
    ais_smap_unref(smap);
    if (id[0]) {
        ds_job_fail(j, "target %s left the cluster", id);
        return -EHOSTDOWN;
    }
    return 0;
}

/* Waits until cond(j) (checked under mu) with the Smap watched and a stall deadline. */
static int
job_wait(struct ds_job *j, int (*cond)(struct ds_job *), const char *what)
{
    int64_t deadline = ais_mono_ns() + (int64_t)STALL_MS * 1000000;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        int ok = cond(j);
        if (!ok) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += WAIT_SLICE_MS * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&j->cv, &j->mu, &ts);
            ok = cond(j);
        }
        pthread_mutex_unlock(&j->mu);
        if (ok) {
            return 0;
        }
        if (ds_job_stopped(j)) {
            return -ECANCELED;
        }
        if (job_members_ok(j) != 0) {
            return -EHOSTDOWN;
        }
        if (ais_mono_ns() > deadline) {
            ds_job_fail(j, "timed out waiting for %s", what);
            return -ETIMEDOUT;
        }
    }
}

static int
all_runs_in(struct ds_job *j)
{
    return j->runs_done == j->ntgt;
}

static int
plan_in(struct ds_job *j)
{
    return j->have_plan;
}

static int
served_all(struct ds_job *j)
{
    return __atomic_load_n(&j->served, __ATOMIC_ACQUIRE) >= j->serve_n;
}

static void
phase_begin(struct ds_job *j, int p)
{
    pthread_mutex_lock(&j->mu);
    j->ph[p].start_ns = ais_now_ns();
    j->ph[p].running = 1;
    pthread_mutex_unlock(&j->mu);
}

static void
phase_end(struct ds_job *j, int p)
{
    pthread_mutex_lock(&j->mu);
    j->ph[p].end_ns = ais_now_ns();
    j->ph[p].running = 0;
    j->ph[p].finished = 1;
    pthread_mutex_unlock(&j->mu);
}

/* ---- phase (b): runs to the leader, merge, plan ---- */

static json_t *
item_json(const struct ds_job *j, const struct ds_rec *r, uint32_t rid)
{
    json_t *ck = json_null();
    if (j->spec.alg == DS_ALG_CONTENT) {
        ck = j->spec.ckey == DS_CKEY_INT     ? json_integer(r->cint)
             : j->spec.ckey == DS_CKEY_FLOAT ? json_real(r->cflt)
                                             : json_string(r->cstr ? r->cstr : "");
    }
    return json_pack("[sIIIIo]", r->key, (json_int_t)rid, (json_int_t)r->size, (json_int_t)r->sidx,
                     (json_int_t)r->pos, ck);
}

/* Appends a run chunk (from target src) on the leader. */
static int
runs_add(struct ds_job *j, size_t src, const json_t *recs, int last, char *msg, size_t cap)
{
    size_t n = json_array_size(recs);
    pthread_mutex_lock(&j->mu);
    int rc = 0;
    if (j->ended) {
        snprintf(msg, cap, "dsort job %s has ended", j->uuid);
        rc = -ECANCELED;
    } else if (j->run_done[src]) {
        snprintf(msg, cap, "dsort %s: records from target %s after its last chunk", j->uuid,
                 j->tids[src]);
        rc = -EPROTO;
    } else if (j->run_n[src] + n > j->run_cap[src]) {
        size_t nc = j->run_n[src] + n + 1024;
        struct ds_item *nv = realloc(j->runs[src], nc * sizeof(*nv));
        rc = nv ? 0 : -ENOMEM;
        if (nv) {
            j->runs[src] = nv;
            j->run_cap[src] = nc;
        }
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const json_t *a = json_array_get(recs, i);
        const json_t *ck = json_array_get(a, 5);
        struct ds_item it = {
            .key = strdup(json_string_value(json_array_get(a, 0)) ?: ""),
            .rid = (uint32_t)json_integer_value(json_array_get(a, 1)),
            .size = (uint64_t)json_integer_value(json_array_get(a, 2)),
            .sidx = (uint32_t)json_integer_value(json_array_get(a, 3)),
            .pos = (uint32_t)json_integer_value(json_array_get(a, 4)),
            .src = (uint32_t)src,
            .cint = json_is_integer(ck) ? json_integer_value(ck) : 0,
            .cflt = json_is_number(ck) ? json_number_value(ck) : 0,
            .cstr = json_is_string(ck) ? strdup(json_string_value(ck)) : NULL,
        };
        if (it.key == NULL) {
            rc = -ENOMEM;
            break;
        }
        it.hash = j->spec.alg == DS_ALG_SHUFFLE ? ds_shuffle_hash(j->spec.seed, it.key) : 0;
        j->runs[src][j->run_n[src]++] = it;
    }
    if (rc == 0 && last) {
        j->run_done[src] = 1;
        j->runs_done++;
        pthread_cond_broadcast(&j->cv);
    }
    pthread_mutex_unlock(&j->mu);
    return rc;
}

/* Sends this target's sorted run to the leader, in chunks. */
static int
run_send(struct ds_job *j)
{
    struct ds_item *tmp = calloc(j->nrecs ? j->nrecs : 1, sizeof(*tmp));
    uint32_t *order = calloc(j->nrecs ? j->nrecs : 1, sizeof(*order));
    if (tmp == NULL || order == NULL) {
        free(tmp);
        free(order);
        ds_job_fail(j, "sorting: out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < j->nrecs; i++) {
        const struct ds_rec *r = &j->recs[i];
        tmp[i] = (struct ds_item){.key = r->key,
                                  .cstr = r->cstr,
                                  .cint = r->cint,
                                  .cflt = r->cflt,
                                  .size = r->size,
                                  .sidx = r->sidx,
                                  .pos = r->pos,
                                  .rid = (uint32_t)i};
        tmp[i].hash = j->spec.alg == DS_ALG_SHUFFLE ? ds_shuffle_hash(j->spec.seed, r->key) : 0;
    }
    ds_items_sort(&j->order, tmp, j->nrecs);
    for (size_t i = 0; i < j->nrecs; i++) {
        order[i] = tmp[i].rid;
    }
    free(tmp);
    int rc = 0;
    size_t i = 0;
    do {
        json_t *arr = json_array();
        for (size_t k = 0; arr && k < RECORDS_CHUNK && i < j->nrecs; k++, i++) {
            json_array_append_new(arr, item_json(j, &j->recs[order[i]], order[i]));
        }
        int last = i >= j->nrecs;
        char msg[256] = "";
        if (j->self == j->leader) {
            rc = arr ? runs_add(j, j->self, arr, last, msg, sizeof(msg)) : -ENOMEM;
            json_decref(arr);
        } else {
            json_t *b =
                arr ? json_pack("{sIsbso}", "from", (json_int_t)j->self, "last", last, "recs", arr)
                    : NULL;
            rc = b ? -ENOENT : -ENOMEM;
            /* The gateway inits every target at once: the leader may not have the job yet. */
            for (int tries = 0; rc == -ENOENT && tries < INIT_WAIT_TRIES && !ds_job_stopped(j);
                 tries++) {
                if (tries > 0) {
                    struct timespec ts = {0, INIT_WAIT_SLICE_MS * 1000000L};
                    nanosleep(&ts, NULL);
                }
                rc = ds_job_call(j, j->leader, "records", b, STEP_TIMEOUT_MS, NULL, NULL, msg,
                                 sizeof(msg));
            }
            json_decref(b);
        }
        if (rc != 0) {
            ds_job_fail(j, "sending records to the leader %s: %s", j->tids[j->leader], msg);
            break;
        }
    } while (i < j->nrecs && !ds_job_stopped(j));
    free(order);
    return rc;
}

/* Record keys seen twice (the policy decides). 0 or -EEXIST (failed). */
static int
dup_check(struct ds_job *j, const struct ds_item *v, size_t n)
{
    if (j->spec.dup_records == DS_POLICY_IGNORE || n < 2) {
        return 0;
    }
    const char **k = malloc(n * sizeof(*k));
    if (k == NULL) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        k[i] = v[i].key;
    }
    for (size_t gap = n / 2; gap > 0; gap /= 2) { /* shell sort: no comparator trampoline */
        for (size_t i = gap; i < n; i++) {
            const char *t = k[i];
            size_t x = i;
            for (; x >= gap && strcmp(k[x - gap], t) > 0; x -= gap) {
                k[x] = k[x - gap];
            }
            k[x] = t;
        }
    }
    const char *dup = NULL;
    for (size_t i = 1; i < n && dup == NULL; i++) {
        dup = strcmp(k[i - 1], k[i]) == 0 ? k[i] : NULL;
    }
    int rc = 0;
    if (dup && j->spec.dup_records == DS_POLICY_ABORT) {
        ds_job_fail(j, "duplicated record \"%s\" (in more than one input shard)", dup);
        rc = -EEXIST;
    } else if (dup) {
        ds_job_warn(j, "duplicated record \"%s\" (in more than one input shard)", dup);
    }
    free(k);
    return rc;
}

struct pshard {
    char name[AIS_OBJNAME_BYTES_MAX];
    size_t first, n; /* into the ordered index list */
    size_t creator;
};

/* Output shards of the ordered items (idx[] into v): by template, or per EKM format. */
static int
plan_cut(struct ds_job *j, const struct ds_item *v, size_t n, size_t **idx_out, struct pshard **out,
         size_t *nout)
{
    size_t *idx = malloc((n ? n : 1) * sizeof(*idx)),
           *starts = malloc((n ? n : 1) * sizeof(*starts));
    struct ds_item *tmp = malloc((n ? n : 1) * sizeof(*tmp));
    struct pshard *ps = calloc(n ? n : 1, sizeof(*ps));
    size_t np = 0, m = 0;
    int rc = idx && starts && tmp && ps ? 0 : -ENOMEM;
    /* groups: without an EKM one group of everything; with one, a group per shard format */
    const char *fmt_key;
    json_t *fmts = j->ekm ? json_object() : NULL;
    if (rc == 0 && j->ekm) {
        for (size_t i = 0; i < n; i++) {
            const json_t *f = json_object_get(j->ekm, v[i].key);
            if (f == NULL) {
                if (j->spec.ekm_missing == DS_POLICY_ABORT) {
                    ds_job_fail(j, "record \"%s\" is not in the external key map", v[i].key);
                    rc = -ENOKEY;
                    break;
                }
                if (j->spec.ekm_missing == DS_POLICY_WARN) {
                    ds_job_warn(j, "record \"%s\" is not in the external key map", v[i].key);
                }
                continue;
            }
            json_t *lst = json_object_get(fmts, json_string_value(f));
            if (lst == NULL) {
                lst = json_array();
                json_object_set_new(fmts, json_string_value(f), lst);
            }
            json_array_append_new(lst, json_integer((json_int_t)i));
        }
    }
    json_t *lst;
    void *iter = fmts ? json_object_iter(fmts) : NULL;
    for (int once = 1; rc == 0 && (fmts ? iter != NULL : once); once = 0) {
        size_t g0 = m;
        fmt_key = fmts ? json_object_iter_key(iter) : NULL;
        lst = fmts ? json_object_iter_value(iter) : NULL;
        size_t gn = fmts ? json_array_size(lst) : n;
        for (size_t i = 0; i < gn; i++) {
            idx[m] = fmts ? (size_t)json_integer_value(json_array_get(lst, i)) : i;
            tmp[i] = v[idx[m]];
            m++;
        }
        size_t ns = ds_items_cut(tmp, gn, j->spec.shard_bytes, starts);
        for (size_t s = 0; rc == 0 && s < ns; s++, np++) {
            ps[np].first = g0 + starts[s];
            ps[np].n = (s + 1 < ns ? starts[s + 1] : gn) - starts[s];
            char base[AIS_OBJNAME_BYTES_MAX];
            int r = fmts ? ds_ekm_name(fmt_key, s, base, sizeof(base))
                         : ds_tmpl_name(j->spec.out_fmt, s, base, sizeof(base));
            if (r != 0 || strlen(base) + strlen(j->spec.out_ext) >= sizeof(ps[np].name)) {
                ds_job_fail(j, "output shard %zu: %s", s,
                            r == -EINVAL && !fmts ? "output_format names fewer shards than needed"
                                                  : "bad output name (an EKM format needs one %d)");
                rc = -EINVAL;
                break;
            }
            memcpy(ps[np].name, base, strlen(base));
            memcpy(ps[np].name + strlen(base), j->spec.out_ext, strlen(j->spec.out_ext) + 1);
        }
        iter = fmts ? json_object_iter_next(fmts, iter) : NULL;
    }
    json_decref(fmts);
    free(starts);
    free(tmp);
    if (rc != 0) {
        free(idx);
        free(ps);
        return rc;
    }
    *idx_out = idx;
    *out = ps;
    *nout = np;
    return 0;
}

/* The plan of target t as JSON. */
static json_t *
plan_json(const struct ds_job *j, const struct ds_item *v, const size_t *idx,
          const struct pshard *ps, size_t np, size_t t)
{
    json_t *shards = json_array();
    json_int_t serve = 0;
    for (size_t s = 0; shards && s < np; s++) {
        if (ps[s].creator == t) {
            json_t *recs = json_array();
            for (size_t k = 0; k < ps[s].n; k++) {
                const struct ds_item *it = &v[idx[ps[s].first + k]];
                json_array_append_new(recs, json_pack("[iII]", (int)it->src, (json_int_t)it->rid,
                                                      (json_int_t)it->size));
            }
            json_array_append_new(shards, json_pack("{ssso}", "n", ps[s].name, "r", recs));
        }
        for (size_t k = 0; k < ps[s].n; k++) {
            const struct ds_item *it = &v[idx[ps[s].first + k]];
            serve += it->src == t && ps[s].creator != t;
        }
    }
    return shards ? json_pack("{sosI}", "shards", shards, "serve", serve) : NULL;
}

static int plan_apply(struct ds_job *j, const json_t *plan, char *msg, size_t cap);

/* The leader: merge every run, cut, assign creators, send each target its plan. */
static int
leader_plan(struct ds_job *j)
{
    size_t total = 0;
    for (size_t t = 0; t < j->ntgt; t++) {
        total += j->run_n[t];
    }
    struct ds_item *v = malloc((total ? total : 1) * sizeof(*v));
    if (v == NULL) {
        ds_job_fail(j, "sorting: out of memory");
        return -ENOMEM;
    }
    pthread_mutex_lock(&j->mu);
    ds_items_merge(&j->order, j->runs, j->run_n, j->ntgt, v);
    for (size_t t = 0; t < j->ntgt; t++) {
        free(j->runs[t]); /* the strings moved to v */
        j->runs[t] = NULL;
        j->run_n[t] = 0;
    }
    pthread_mutex_unlock(&j->mu);
    size_t *idx = NULL, np = 0;
    struct pshard *ps = NULL;
    int rc = dup_check(j, v, total);
    rc = rc ? rc : plan_cut(j, v, total, &idx, &ps, &np);
    struct ais_smap *smap = ais_meta_smap(j->d->env.meta);
    for (size_t s = 0; rc == 0 && s < np; s++) {
        uint64_t digest = 0;
        const struct ais_snode *o = NULL;
        if (ais_obj_digest(j->spec.out_provider, "", j->spec.out_bck, ps[s].name, &digest) == 0) {
            o = ais_smap_hrw_target(smap, digest);
        }
        ps[s].creator = SIZE_MAX;
        for (size_t t = 0; o && t < j->ntgt; t++) {
            ps[s].creator = strcmp(j->tids[t], o->id) == 0 ? t : ps[s].creator;
        }
        if (ps[s].creator == SIZE_MAX) {
            ds_job_fail(j, "output shard %s: its owner is not a target of this job", ps[s].name);
            rc = -EHOSTUNREACH;
        }
    }
    for (size_t t = 0; rc == 0 && t < j->ntgt && !ds_job_stopped(j); t++) {
        json_t *p = plan_json(j, v, idx, ps, np, t);
        char msg[256] = "";
        if (t == j->self) {
            rc = p ? plan_apply(j, p, msg, sizeof(msg)) : -ENOMEM;
        } else {
            rc = p ? ds_job_call(j, t, "plan", p, STEP_TIMEOUT_MS, NULL, NULL, msg, sizeof(msg))
                   : -ENOMEM;
        }
        json_decref(p);
        if (rc != 0) {
            ds_job_fail(j, "sending the plan to target %s: %s", j->tids[t], msg);
        }
    }
    ais_smap_unref(smap);
    for (size_t i = 0; i < total; i++) {
        free(v[i].key);
        free(v[i].cstr);
    }
    free(v);
    free(idx);
    free(ps);
    return rc;
}

static int
plan_apply(struct ds_job *j, const json_t *plan, char *msg, size_t cap)
{
    const json_t *shards = json_object_get(plan, "shards");
    size_t ns = json_array_size(shards);
    struct ds_oshard *osh = calloc(ns ? ns : 1, sizeof(*osh));
    int rc = osh ? 0 : -ENOMEM;
    for (size_t s = 0; rc == 0 && s < ns; s++) {
        const json_t *sh = json_array_get(shards, s);
        const json_t *recs = json_object_get(sh, "r");
        size_t n = json_array_size(recs);
        osh[s].name = strdup(json_string_value(json_object_get(sh, "n")) ?: "");
        osh[s].src = malloc((n ? n : 1) * sizeof(uint32_t));
        osh[s].rid = malloc((n ? n : 1) * sizeof(uint32_t));
        osh[s].size = malloc((n ? n : 1) * sizeof(uint64_t));
        osh[s].n = n;
        if (!osh[s].name || !osh[s].src || !osh[s].rid || !osh[s].size) {
            rc = -ENOMEM;
            break;
        }
        for (size_t k = 0; k < n; k++) {
            const json_t *r = json_array_get(recs, k);
            json_int_t src = json_integer_value(json_array_get(r, 0));
            if (src < 0 || (size_t)src >= j->ntgt) {
                snprintf(msg, cap, "dsort %s: bad plan (source %lld)", j->uuid, (long long)src);
                rc = -EPROTO;
                break;
            }
            osh[s].src[k] = (uint32_t)src;
            osh[s].rid[k] = (uint32_t)json_integer_value(json_array_get(r, 1));
            osh[s].size[k] = (uint64_t)json_integer_value(json_array_get(r, 2));
        }
    }
    pthread_mutex_lock(&j->mu);
    if (rc == 0 && j->ended) {
        snprintf(msg, cap, "dsort job %s has ended", j->uuid);
        rc = -ECANCELED;
    }
    if (rc == 0 && j->have_plan) {
        snprintf(msg, cap, "dsort %s: a plan was already received", j->uuid);
        rc = -EEXIST;
    }
    if (rc == 0) {
        j->osh = osh;
        j->nosh = ns;
        j->serve_n = (uint64_t)json_integer_value(json_object_get(plan, "serve"));
        j->have_plan = 1;
        __atomic_store_n(&j->m_to_create, ns, __ATOMIC_RELAXED);
        pthread_cond_broadcast(&j->cv);
        osh = NULL;
    }
    pthread_mutex_unlock(&j->mu);
    for (size_t s = 0; osh && s < ns; s++) {
        free(osh[s].name);
        free(osh[s].src);
        free(osh[s].rid);
        free(osh[s].size);
    }
    free(osh);
    return rc;
}

/* ---- the job body ---- */

static int
job_run(struct xa_job *xj, void *arg)
{
    struct ds_job *j = arg;
    pthread_mutex_lock(&j->mu);
    j->xj = xj;
    pthread_mutex_unlock(&j->mu);
    phase_begin(j, DS_PH_EXTRACT);
    int rc = ds_extract(j);
    if (rc == 0) {
        pthread_mutex_lock(&j->mu);
        j->extracted = 1;
        pthread_mutex_unlock(&j->mu);
        xa_job_add(xj, XA_CTR_LOC, j->nrecs, __atomic_load_n(&j->m_ext_size, __ATOMIC_RELAXED));
        phase_end(j, DS_PH_EXTRACT);
        phase_begin(j, DS_PH_SORT);
        rc = run_send(j);
    }
    if (rc == 0 && j->self == j->leader) {
        rc = job_wait(j, all_runs_in, "the other targets' records");
        rc = rc ? rc : leader_plan(j);
    }
    rc = rc ? rc : job_wait(j, plan_in, "the plan from the leader");
    if (rc == 0) {
        phase_end(j, DS_PH_SORT);
        phase_begin(j, DS_PH_CREATE);
        rc = ds_create(j);
    }
    if (rc == 0) {
        phase_end(j, DS_PH_CREATE);
        rc = job_wait(j, served_all, "the other targets to pull their records");
    }
    xa_job_add(xj, XA_CTR_OUT,
               __atomic_load_n(&j->m_served_bytes, __ATOMIC_RELAXED) ? j->serve_n : 0,
               __atomic_load_n(&j->m_served_bytes, __ATOMIC_RELAXED));
    xa_job_add(xj, XA_CTR_IN, __atomic_load_n(&j->m_pulled_n, __ATOMIC_RELAXED),
               __atomic_load_n(&j->m_pulled_bytes, __ATOMIC_RELAXED));
    pthread_mutex_lock(&j->mu);
    j->xj = NULL;
    j->ended = 1;
    j->end_ns = ais_now_ns();
    for (int p = 0; p < DS_PH_N; p++) {
        j->ph[p].running = 0;
    }
    if (rc != 0 && j->err[0]) {
        xa_job_set_err(xj, j->err);
    }
    while (j->pulls > 0) { /* pulls in flight read the records: let them finish */
        pthread_cond_wait(&j->cv, &j->mu);
    }
    job_release_data(j); /* under mu: a late records/plan step sees ended and stops */
    pthread_mutex_unlock(&j->mu);
    struct ds *d = j->d;
    pthread_mutex_lock(&d->mu);
    d->running--;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    if (rc == -ECANCELED && j->err[0] == '\0') {
        return -ECANCELED;
    }
    return rc;
}

/* ---- registry ---- */

static struct ds_job *
job_find(struct ds *d, const char *uuid)
{
    struct ds_job *j = NULL;
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < d->njobs && j == NULL; i++) {
        if (strcmp(d->jobs[i]->uuid, uuid) == 0) {
            j = d->jobs[i];
            job_ref(j);
        }
    }
    pthread_mutex_unlock(&d->mu);
    return j;
}

static int
job_ended(struct ds_job *j)
{
    pthread_mutex_lock(&j->mu);
    int e = j->ended;
    pthread_mutex_unlock(&j->mu);
    return e;
}

/* Adds j (a reference moves to the registry); forgets the oldest ended jobs past the limit. */
static int
job_register(struct ds *d, struct ds_job *j, char *msg, size_t cap)
{
    pthread_mutex_lock(&d->mu);
    int rc = 0;
    for (size_t i = 0; i < d->njobs; i++) {
        if (strcmp(d->jobs[i]->uuid, j->uuid) == 0) {
            snprintf(msg, cap, "dsort job %s already exists", j->uuid);
            rc = -EEXIST;
        }
    }
    if (rc == 0 && d->stopping) {
        rc = -ESHUTDOWN;
    }
    while (rc == 0 && d->njobs >= DS_JOBS_KEPT) {
        size_t victim = SIZE_MAX;
        for (size_t i = 0; i < d->njobs && victim == SIZE_MAX; i++) {
            victim = job_ended(d->jobs[i]) ? i : SIZE_MAX;
        }
        if (victim == SIZE_MAX) {
            snprintf(msg, cap, "too many dsort jobs running (%u)", DS_JOBS_KEPT);
            rc = -EAGAIN;
            break;
        }
        job_unref(d->jobs[victim]);
        memmove(&d->jobs[victim], &d->jobs[victim + 1],
                (d->njobs - victim - 1) * sizeof(d->jobs[0]));
        d->njobs--;
    }
    if (rc == 0 && d->njobs == d->cap) {
        size_t nc = d->cap ? 2 * d->cap : 16;
        struct ds_job **nv = realloc(d->jobs, nc * sizeof(*nv));
        rc = nv ? 0 : -ENOMEM;
        if (nv) {
            d->jobs = nv;
            d->cap = nc;
        }
    }
    if (rc == 0) {
        d->jobs[d->njobs++] = j;
        d->running++;
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

static void
job_unregister(struct ds *d, struct ds_job *j, int was_running)
{
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < d->njobs; i++) {
        if (d->jobs[i] == j) {
            memmove(&d->jobs[i], &d->jobs[i + 1], (d->njobs - i - 1) * sizeof(d->jobs[0]));
            d->njobs--;
            d->running -= was_running ? 1 : 0;
            job_unref(j);
            break;
        }
    }
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* ---- steps ---- */

/* The memory limit of the spec against this machine. */
static uint64_t
mem_limit(const struct ds_spec *s)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    uint64_t phys = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : (8ull << 30);
    size_t l = strlen(s->max_mem);
    uint64_t v = 0;
    if (l > 0 && s->max_mem[l - 1] == '%') {
        return (uint64_t)((double)phys * strtod(s->max_mem, NULL) / 100.0);
    }
    return ds_size_parse(s->max_mem, &v) == 0 ? v : phys / 5 * 4;
}

static int
job_new_from(struct ds *d, const char *uuid, const json_t *b, struct ds_job **out, char *msg,
             size_t cap)
{
    struct ds_job *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        return -ENOMEM;
    }
    j->d = d;
    j->refs = 1;
    snprintf(j->uuid, sizeof(j->uuid), "%s", uuid);
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->warnings = json_array();
    j->errors = json_array();
    j->start_ns = ais_now_ns();
    int rc = ds_spec_parse(json_object_get(b, "spec"), &j->spec, msg, cap);
    const json_t *names = json_object_get(b, "names"), *tids = json_object_get(b, "targets");
    j->nnames = json_array_size(names);
    j->ntgt = json_array_size(tids);
    j->leader = (size_t)json_integer_value(json_object_get(b, "leader"));
    if (rc == 0 && (j->ntgt == 0 || j->leader >= j->ntgt || j->nnames > DS_INPUT_SHARDS_MAX)) {
        snprintf(msg, cap, "dsort %s: bad init (targets, leader or names)", uuid);
        rc = -EINVAL;
    }
    j->names = rc == 0 ? calloc(j->nnames ? j->nnames : 1, sizeof(char *)) : NULL;
    j->tids = rc == 0 ? calloc(j->ntgt, sizeof(*j->tids)) : NULL;
    j->runs = rc == 0 ? calloc(j->ntgt, sizeof(*j->runs)) : NULL;
    j->run_n = rc == 0 ? calloc(j->ntgt, sizeof(size_t)) : NULL;
    j->run_cap = rc == 0 ? calloc(j->ntgt, sizeof(size_t)) : NULL;
    j->run_done = rc == 0 ? calloc(j->ntgt, sizeof(int)) : NULL;
    if (rc == 0 &&
        (!j->names || !j->tids || !j->runs || !j->run_n || !j->run_cap || !j->run_done)) {
        rc = -ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < j->nnames; i++) {
        j->names[i] = strdup(json_string_value(json_array_get(names, i)) ?: "");
        rc = j->names[i] ? 0 : -ENOMEM;
    }
    j->self = SIZE_MAX;
    for (size_t t = 0; rc == 0 && t < j->ntgt; t++) {
        snprintf(j->tids[t], sizeof(j->tids[t]), "%s",
                 json_string_value(json_array_get(tids, t)) ?: "");
        j->self = strcmp(j->tids[t], d->env.self->id) == 0 ? t : j->self;
    }
    if (rc == 0 && j->self == SIZE_MAX) {
        snprintf(msg, cap, "dsort %s: this target is not one of the job's", uuid);
        rc = -EINVAL;
    }
    const json_t *ekm = json_object_get(b, "ekm");
    j->ekm = json_is_object(ekm) ? json_incref((json_t *)ekm) : NULL;
    j->order = (struct ds_order){
        .alg = j->spec.alg, .ckey = j->spec.ckey, .decreasing = j->spec.decreasing};
    j->mem_limit = mem_limit(&j->spec);
    if (rc != 0) {
        job_unref(j);
        return rc;
    }
    *out = j;
    return 0;
}

static int
step_init(struct ds *d, const char *uuid, const json_t *b, char *msg, size_t cap)
{
    struct ds_job *j = NULL;
    int rc = job_new_from(d, uuid, b, &j, msg, cap);
    rc = rc ? rc : job_register(d, j, msg, cap);
    if (rc != 0) {
        job_unref(j);
        return rc;
    }
    char bck[XA_BCK_BYTES];
    snprintf(bck, sizeof(bck), "%s://%s", j->spec.in_provider, j->spec.in_bck);
    job_ref(j); /* the job thread's */
    rc = xa_job_start_id(d->env.xreg, uuid, "dsort", bck, job_run, j, job_unref, NULL);
    if (rc != 0) {
        snprintf(msg, cap, "dsort %s: cannot start the job: %s", uuid, ais_strerror(rc));
        job_unregister(d, j, 1);
    }
    return rc;
}

static char *
iso_time(int64_t ns, char *out, size_t cap)
{
    if (ns <= 0) {
        snprintf(out, cap, "0001-01-01T00:00:00Z");
        return out;
    }
    time_t s = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char b[32];
    strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%09lldZ", b, (long long)(ns % 1000000000));
    return out;
}

static json_t *
u64s(uint64_t *p)
{
    char b[24];
    snprintf(b, sizeof(b), "%" PRIu64, __atomic_load_n(p, __ATOMIC_RELAXED));
    return json_string(b);
}

static json_t *
phase_json(struct ds_job *j, int p)
{
    char a[48], b[48];
    const struct ds_phase *ph = &j->ph[p];
    int64_t end = ph->end_ns ? ph->end_ns : ph->start_ns ? ais_now_ns() : 0;
    return json_pack("{sssssIsbsb}", "started_time", iso_time(ph->start_ns, a, sizeof(a)),
                     "end_time", iso_time(ph->end_ns, b, sizeof(b)), "elapsed",
                     (json_int_t)(ph->start_ns ? (end - ph->start_ns) / 1000000000 : 0), "running",
                     ph->running, "finished", ph->finished);
}

/* JobInfo (api.md §6.2) of j on this target. */
static json_t *
job_info(struct ds_job *j)
{
    char st[48], en[48], sb[300], db[300];
    pthread_mutex_lock(&j->mu);
    json_t *le = phase_json(j, DS_PH_EXTRACT), *ms = phase_json(j, DS_PH_SORT),
           *sc = phase_json(j, DS_PH_CREATE);
    json_object_set_new(le, "total_count", u64s(&j->m_total));
    json_object_set_new(le, "extracted_count", u64s(&j->m_extracted));
    json_object_set_new(le, "extracted_size", u64s(&j->m_ext_size));
    json_object_set_new(le, "extracted_record_count", u64s(&j->m_ext_recs));
    json_object_set_new(le, "extracted_to_disk_count", u64s(&j->m_disk_n));
    json_object_set_new(le, "extracted_to_disk_size", u64s(&j->m_disk_size));
    json_object_set_new(sc, "to_create", u64s(&j->m_to_create));
    json_object_set_new(sc, "created_count", u64s(&j->m_created));
    uint64_t zero = 0;
    json_object_set_new(sc, "moved_shard_count", u64s(&zero));
    json_object_set_new(sc, "pulled_record_count", u64s(&j->m_pulled_n));
    json_object_set_new(sc, "pulled_bytes", u64s(&j->m_pulled_bytes));
    json_object_set_new(sc, "served_bytes", u64s(&j->m_served_bytes));
    int aborted = __atomic_load_n(&j->aborted, __ATOMIC_ACQUIRE) != 0;
    snprintf(sb, sizeof(sb), "%s://%s", j->spec.in_provider, j->spec.in_bck);
    snprintf(db, sizeof(db), "%s://%s", j->spec.out_provider, j->spec.out_bck);
    json_t *metrics =
        json_pack("{sosososbsbsssOsO}", "local_extraction", le, "meta_sorting", ms,
                  "shard_creation", sc, "aborted", aborted, "archived", j->ended, "description",
                  j->spec.desc, "warnings", j->warnings, "errors", j->errors);
    json_t *out = json_pack("{sssssssssssososbsbso}", "id", j->uuid, "src-bck", sb, "dst-bck", db,
                            "started_time", iso_time(j->start_ns, st, sizeof(st)), "finish_time",
                            iso_time(j->end_ns, en, sizeof(en)), "loc-objs", u64s(&j->m_ext_recs),
                            "loc-bytes", u64s(&j->m_ext_size), "aborted", aborted, "archived",
                            j->ended, "Metrics", metrics);
    json_object_set_new(out, "description", json_string(j->spec.desc));
    pthread_mutex_unlock(&j->mu);
    return out;
}

static int
reply_json(json_t *j, void **out, size_t *out_len)
{
    char *s = j ? ais_json_dumps(j) : NULL;
    json_decref(j);
    if (s == NULL) {
        return -ENOMEM;
    }
    *out = s;
    *out_len = strlen(s);
    return 0;
}

static int
step_list(struct ds *d, const json_t *b, void **out, size_t *out_len, char *msg, size_t cap)
{
    const char *re = json_string_value(json_object_get(b, "regex"));
    int only_active = json_is_true(json_object_get(b, "only_active"));
    regex_t rx;
    if (re && re[0] && regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0) {
        snprintf(msg, cap, "dsort: invalid regex \"%.100s\"", re);
        return -EINVAL;
    }
    json_t *arr = json_array();
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; arr && i < d->njobs; i++) {
        struct ds_job *j = d->jobs[i];
        if (only_active && job_ended(j)) {
            continue;
        }
        if (re && re[0] && regexec(&rx, j->spec.desc, 0, NULL, 0) != 0 &&
            regexec(&rx, j->uuid, 0, NULL, 0) != 0) {
            continue;
        }
        json_array_append_new(arr, job_info(j));
    }
    pthread_mutex_unlock(&d->mu);
    if (re && re[0]) {
        regfree(&rx);
    }
    return reply_json(arr, out, out_len);
}

static int
step_job(struct ds *d, struct ds_job *j, const char *op, const json_t *b, const void *body,
         size_t len, void **out, size_t *out_len, char *msg, size_t cap)
{
    if (strcmp(op, "metrics") == 0) {
        return reply_json(job_info(j), out, out_len);
    }
    if (strcmp(op, "abort") == 0) {
        const char *why = json_string_value(json_object_get(b, "err"));
        pthread_mutex_lock(&j->mu);
        if (!j->ended) {
            if (why && why[0] && j->err[0] == '\0') {
                snprintf(j->err, sizeof(j->err), "%s", why);
                json_array_append_new(j->errors, json_string(why));
            }
            __atomic_store_n(&j->aborted, 1, __ATOMIC_RELEASE);
            pthread_cond_broadcast(&j->cv);
        }
        pthread_mutex_unlock(&j->mu);
        return 0;
    }
    if (strcmp(op, "remove") == 0) {
        if (!job_ended(j)) {
            snprintf(msg, cap, "dsort job %s is still running: abort it first", j->uuid);
            return -EBUSY;
        }
        job_unregister(d, j, 0);
        return 0;
    }
    if (job_ended(j) || __atomic_load_n(&j->aborted, __ATOMIC_ACQUIRE)) {
        snprintf(msg, cap, "dsort job %s is %s", j->uuid, j->err[0] ? "failed" : "aborted");
        return -ECANCELED;
    }
    if (strcmp(op, "records") == 0) {
        json_int_t from = json_integer_value(json_object_get(b, "from"));
        if (j->self != j->leader || from < 0 || (size_t)from >= j->ntgt) {
            snprintf(msg, cap, "dsort %s: records sent to a target that is not the leader",
                     j->uuid);
            return -EPROTO;
        }
        return runs_add(j, (size_t)from, json_object_get(b, "recs"),
                        json_is_true(json_object_get(b, "last")), msg, cap);
    }
    if (strcmp(op, "plan") == 0) {
        return plan_apply(j, b, msg, cap);
    }
    if (strcmp(op, "pull") == 0) {
        const json_t *rids = json_object_get(b, "rids");
        size_t n = json_array_size(rids);
        uint32_t *v = malloc((n ? n : 1) * sizeof(*v));
        if (v == NULL) {
            return -ENOMEM;
        }
        pthread_mutex_lock(&j->mu);
        int ready = j->extracted && !j->ended;
        j->pulls += ready ? 1 : 0;
        pthread_mutex_unlock(&j->mu);
        if (!ready) {
            free(v);
            snprintf(msg, cap, "dsort %s: records not ready or the job ended", j->uuid);
            return -EAGAIN;
        }
        for (size_t i = 0; i < n; i++) {
            v[i] = (uint32_t)json_integer_value(json_array_get(rids, i));
        }
        int rc = ds_pull_serve(j, v, n, out, out_len, msg, cap);
        free(v);
        pthread_mutex_lock(&j->mu);
        j->pulls--;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
        return rc;
    }
    (void)body;
    (void)len;
    snprintf(msg, cap, "dsort: unknown step \"%.32s\"", op);
    return -EINVAL;
}

int
ds_rpc(void *ctx, const char *op, const char *uuid, const void *body, size_t len, void **out,
       size_t *out_len, struct rpc_err *err)
{
    struct ds *d = ctx;
    *out = NULL;
    *out_len = 0;
    json_error_t je;
    json_t *b = len ? json_loadb(body, len, 0, &je) : json_object();
    if (b == NULL) {
        snprintf(err->msg, sizeof(err->msg), "dsort %s: malformed body: %s", op, je.text);
        return -EINVAL;
    }
    int rc;
    if (strcmp(op, "list") == 0) {
        rc = step_list(d, b, out, out_len, err->msg, sizeof(err->msg));
    } else if (uuid == NULL || uuid[0] == '\0' || strlen(uuid) >= XA_ID_BYTES) {
        snprintf(err->msg, sizeof(err->msg), "dsort %s: a job id is required", op);
        rc = -EINVAL;
    } else if (strcmp(op, "init") == 0) {
        rc = step_init(d, uuid, b, err->msg, sizeof(err->msg));
    } else {
        struct ds_job *j = job_find(d, uuid);
        if (j == NULL) {
            snprintf(err->msg, sizeof(err->msg), "dsort job %s does not exist", uuid);
            rc = -ENOENT;
        } else {
            rc = step_job(d, j, op, b, body, len, out, out_len, err->msg, sizeof(err->msg));
            job_unref(j);
        }
    }
    json_decref(b);
    return rc;
}

int
ds_new(const struct ds_env *env, struct ds **out)
{
    struct ds *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        return -ENOMEM;
    }
    d->env = *env;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    *out = d;
    return 0;
}

void
ds_free(struct ds *d)
{
    if (d == NULL) {
        return;
    }
    pthread_mutex_lock(&d->mu);
    d->stopping = 1;
    for (size_t i = 0; i < d->njobs; i++) {
        __atomic_store_n(&d->jobs[i]->aborted, 1, __ATOMIC_RELEASE);
    }
    while (d->running > 0) {
        pthread_cond_wait(&d->cv, &d->mu);
    }
    for (size_t i = 0; i < d->njobs; i++) {
        job_unref(d->jobs[i]);
    }
    free(d->jobs);
    pthread_mutex_unlock(&d->mu);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    free(d);
}
