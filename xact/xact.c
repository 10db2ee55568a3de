/*
 * Design notes: the registry is one fixed array of AIS_XACT_RECORDS_MAX job slots, allocated
 * once. A running job's slot is never reused, so the struct xa_job pointer a body holds stays
 * valid until it ends; finished slots are recycled oldest-first. State, times, ids and the
 * error text change under the registry mutex; counters and the abort flag are atomics so a
 * job body never takes the lock on its hot path. Each xa_job_start job has a joinable thread;
 * a finished thread is joined when its slot is recycled or at xa_reg_free, never by itself.
 */
#include "xact/xact.h"

#include "common/assert.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct xa_job {
    struct xa_reg *reg;
    int used;     /* slot holds a record */
    int threaded; /* has a thread that must be joined */
    pthread_t th;
    xa_run_fn fn;
    void *arg;
    xa_arg_free_fn arg_free;
    uint64_t seq; /* start order, for newest-first and recycling */
    struct xa_snap s;
    int abort;                                /* atomic */
    uint64_t objs[XA_CTR_N], bytes[XA_CTR_N]; /* atomic */
    uint64_t total_objs, total_bytes;         /* atomic */
};

struct xa_reg {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a job ended */
    char node_id[64];
    uint64_t seq;
    size_t running;
    struct xa_job jobs[AIS_XACT_RECORDS_MAX];
};

int
xa_reg_new(const char *node_id, struct xa_reg **out)
{
    struct xa_reg *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return -ENOMEM;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    snprintf(r->node_id, sizeof(r->node_id), "%s", node_id ? node_id : "");
    for (size_t i = 0; i < AIS_XACT_RECORDS_MAX; i++) {
        r->jobs[i].reg = r;
    }
    *out = r;
    return 0;
}

void
xa_reg_free(struct xa_reg *r)
{
    if (r == NULL) {
        return;
    }
    (void)xa_abort(r, &(struct xa_filter){0});
    for (size_t i = 0; i < AIS_XACT_RECORDS_MAX; i++) {
        struct xa_job *j = &r->jobs[i];
        if (j->threaded) {
            pthread_join(j->th, NULL);
            j->threaded = 0;
        }
    }
    /* Jobs begun by callers must have ended before the registry goes. */
    AIS_ASSERT(r->running == 0);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* Picks a free slot or the oldest finished one; joins its old thread. Caller holds mu. */
static struct xa_job *
slot_take(struct xa_reg *r)
{
    struct xa_job *best = NULL;
    for (size_t i = 0; i < AIS_XACT_RECORDS_MAX; i++) {
        struct xa_job *j = &r->jobs[i];
        if (!j->used) {
            best = j;
            break;
        }
        if (j->s.state != XA_RUNNING && (best == NULL || j->seq < best->seq)) {
            best = j;
        }
    }
    if (best != NULL && best->threaded) {
        pthread_join(best->th, NULL); /* finished: its body returned */
        best->threaded = 0;
    }
    return best;
}

static int
id_running(const struct xa_reg *r, const char *id)
{
    for (size_t i = 0; i < AIS_XACT_RECORDS_MAX; i++) {
        const struct xa_job *j = &r->jobs[i];
        if (j->used && j->s.state == XA_RUNNING && strcmp(j->s.id, id) == 0) {
            return 1;
        }
    }
    return 0;
}

static int
job_new(struct xa_reg *r, const char *id, const char *kind, const char *bck, struct xa_job **out)
{
    int have_id = id != NULL && id[0] != '\0';
    if (kind == NULL || kind[0] == '\0' || (have_id && strlen(id) >= XA_ID_BYTES)) {
        return -EINVAL;
    }
    pthread_mutex_lock(&r->mu);
    if (have_id && id_running(r, id)) {
        pthread_mutex_unlock(&r->mu);
        return -EEXIST;
    }
    struct xa_job *j = r->running < AIS_XACT_RUNNING_MAX ? slot_take(r) : NULL;
    if (j == NULL) {
        pthread_mutex_unlock(&r->mu);
        return -EAGAIN;
    }
    memset(&j->s, 0, sizeof(j->s));
    j->used = 1;
    j->seq = ++r->seq;
    j->fn = NULL;
    j->arg = NULL;
    j->arg_free = NULL;
    __atomic_store_n(&j->abort, 0, __ATOMIC_RELAXED);
    for (int c = 0; c < XA_CTR_N; c++) {
        __atomic_store_n(&j->objs[c], 0, __ATOMIC_RELAXED);
        __atomic_store_n(&j->bytes[c], 0, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&j->total_objs, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&j->total_bytes, 0, __ATOMIC_RELAXED);
    if (have_id) {
        snprintf(j->s.id, sizeof(j->s.id), "%s", id);
    } else {
        j->s.id[0] = 'x';
        ais_rand_id(j->s.id + 1, 9);
    }
    snprintf(j->s.kind, sizeof(j->s.kind), "%s", kind);
    snprintf(j->s.bck, sizeof(j->s.bck), "%s", bck ? bck : "");
    snprintf(j->s.node_id, sizeof(j->s.node_id), "%s", r->node_id);
    j->s.start_ns = ais_now_ns();
    j->s.state = XA_RUNNING;
    r->running++;
    pthread_mutex_unlock(&r->mu);
    *out = j;
    return 0;
}

void
xa_job_end(struct xa_job *j, int err, const char *msg)
{
    struct xa_reg *r = j->reg;
    pthread_mutex_lock(&r->mu);
    AIS_ASSERT(j->s.state == XA_RUNNING);
    if (err == -ECANCELED || (err != 0 && __atomic_load_n(&j->abort, __ATOMIC_ACQUIRE))) {
        j->s.state = XA_ABORTED;
    } else {
        j->s.state = err == 0 ? XA_FINISHED : XA_ERROR;
    }
    if (err != 0 && j->s.err[0] == '\0') {
        snprintf(j->s.err, sizeof(j->s.err), "%s",
                 msg && msg[0] ? msg : (err == -ECANCELED ? "aborted" : strerror(-err)));
    }
    j->s.end_ns = ais_now_ns();
    if (j->s.end_ns <= j->s.start_ns) {
        j->s.end_ns = j->s.start_ns + 1; /* end_time != 0 is how clients see the end */
    }
    r->running--;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void *
job_main(void *p)
{
    struct xa_job *j = p;
    ais_thread_background(); /* jobs yield the CPU and the disk to foreground requests */
    int err = j->fn(j, j->arg);
    if (j->arg_free != NULL) {
        j->arg_free(j->arg);
    }
    xa_job_end(j, err, NULL);
    return NULL;
}

int
xa_job_begin(struct xa_reg *r, const char *kind, const char *bck, struct xa_job **out)
{
    return job_new(r, NULL, kind, bck, out);
}

int
xa_job_start(struct xa_reg *r, const char *kind, const char *bck, xa_run_fn fn, void *arg,
             xa_arg_free_fn arg_free, char id_out[XA_ID_BYTES])
{
    return xa_job_start_id(r, NULL, kind, bck, fn, arg, arg_free, id_out);
}

int
xa_job_start_id(struct xa_reg *r, const char *id, const char *kind, const char *bck, xa_run_fn fn,
                void *arg, xa_arg_free_fn arg_free, char id_out[XA_ID_BYTES])
{
    AIS_ASSERT(fn != NULL);
    struct xa_job *j = NULL;
    int err = job_new(r, id, kind, bck, &j);
    if (err != 0) {
        if (arg_free != NULL) {
            arg_free(arg);
        }
        return err;
    }
    j->fn = fn;
    j->arg = arg;
    j->arg_free = arg_free;
    if (id_out != NULL) {
        memcpy(id_out, j->s.id, XA_ID_BYTES);
    }
    /* threaded is set under mu before the thread can end, so recycling always joins it. */
    pthread_mutex_lock(&r->mu);
    int rc = pthread_create(&j->th, NULL, job_main, j);
    j->threaded = rc == 0;
    pthread_mutex_unlock(&r->mu);
    if (rc != 0) {
        if (arg_free != NULL) {
            arg_free(arg);
        }
        xa_job_end(j, -ENOMEM, "cannot start job thread");
        return -ENOMEM;
    }
    return 0;
}

const char *
xa_job_id(const struct xa_job *j)
{
    return j->s.id; /* set before the job is handed out, never changed while it runs */
}

void
xa_job_add(struct xa_job *j, enum xa_ctr c, uint64_t objs, uint64_t bytes)
{
    AIS_ASSERT(c < XA_CTR_N);
    __atomic_add_fetch(&j->objs[c], objs, __ATOMIC_RELAXED);
    __atomic_add_fetch(&j->bytes[c], bytes, __ATOMIC_RELAXED);
}

void
xa_job_set_total(struct xa_job *j, uint64_t objs, uint64_t bytes)
{
    __atomic_store_n(&j->total_objs, objs, __ATOMIC_RELAXED);
    __atomic_store_n(&j->total_bytes, bytes, __ATOMIC_RELAXED);
}

int
xa_job_aborted(const struct xa_job *j)
{
    return __atomic_load_n(&j->abort, __ATOMIC_ACQUIRE);
}

void
xa_job_set_err(struct xa_job *j, const char *msg)
{
    pthread_mutex_lock(&j->reg->mu);
    if (j->s.err[0] == '\0') {
        snprintf(j->s.err, sizeof(j->s.err), "%s", msg);
    }
    pthread_mutex_unlock(&j->reg->mu);
}

/* "ais://b" matches filter "b", "ais://b" or "ais/b". */
static int
bck_match(const char *have, const char *want)
{
    if (want == NULL || want[0] == '\0') {
        return 1;
    }
    if (strcmp(have, want) == 0) {
        return 1;
    }
    const char *sep = strstr(have, "://");
    return sep != NULL && strcmp(sep + 3, want) == 0;
}

static int
matches(const struct xa_job *j, const struct xa_filter *f)
{
    if (!j->used) {
        return 0;
    }
    if (f->id && f->id[0] && strcmp(f->id, j->s.id) != 0) {
        return 0;
    }
    if (f->kind && f->kind[0] && strcmp(f->kind, j->s.kind) != 0) {
        return 0;
    }
    if (f->only_running && j->s.state != XA_RUNNING) {
        return 0;
    }
    return bck_match(j->s.bck, f->bck);
}

size_t
xa_abort(struct xa_reg *r, const struct xa_filter *f)
{
    size_t n = 0;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < AIS_XACT_RECORDS_MAX; i++) {
        struct xa_job *j = &r->jobs[i];
        if (matches(j, f) && j->s.state == XA_RUNNING) {
            __atomic_store_n(&j->abort, 1, __ATOMIC_RELEASE);
            n++;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return n;
}

static size_t
running_matching(struct xa_reg *r, const struct xa_filter *f)
{
    size_t n = 0;
    for (size_t i = 0; i < AIS_XACT_RECORDS_MAX; i++) {
        n += matches(&r->jobs[i], f) && r->jobs[i].s.state == XA_RUNNING;
    }
    return n;
}

int
xa_wait(struct xa_reg *r, const struct xa_filter *f, int64_t timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + (timeout_ms % 1000) * 1000000;
    ts.tv_sec += timeout_ms / 1000 + ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    int rc = 0;
    pthread_mutex_lock(&r->mu);
    while (rc == 0 && running_matching(r, f) > 0) {
        rc = pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    }
    int busy = running_matching(r, f) > 0;
    pthread_mutex_unlock(&r->mu);
    return busy ? -ETIMEDOUT : 0;
}

/* Fills s from j (caller holds mu), reading the atomics. */
static void
snap_of(const struct xa_job *j, struct xa_snap *s)
{
    *s = j->s;
    for (int c = 0; c < XA_CTR_N; c++) {
        s->objs[c] = __atomic_load_n(&j->objs[c], __ATOMIC_RELAXED);
        s->bytes[c] = __atomic_load_n(&j->bytes[c], __ATOMIC_RELAXED);
    }
    s->total_objs = __atomic_load_n(&j->total_objs, __ATOMIC_RELAXED);
    s->total_bytes = __atomic_load_n(&j->total_bytes, __ATOMIC_RELAXED);
    s->eta_ns = -1;
    uint64_t done = s->objs[XA_CTR_LOC], total = s->total_objs;
    if (s->total_bytes > 0) {
        done = s->bytes[XA_CTR_LOC];
        total = s->total_bytes;
    }
    if (s->state != XA_RUNNING) {
        s->eta_ns = 0;
    } else if (total > 0 && done > 0) {
        double elapsed = (double)(ais_now_ns() - s->start_ns);
        double left = done >= total ? 0.0 : (double)(total - done);
        s->eta_ns = (int64_t)(elapsed * left / (double)done);
    }
}

size_t
xa_snaps(struct xa_reg *r, const struct xa_filter *f, struct xa_snap *out, size_t cap)
{
    const struct xa_job *sel[AIS_XACT_RECORDS_MAX];
    size_t n = 0;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < AIS_XACT_RECORDS_MAX; i++) {
        if (matches(&r->jobs[i], f)) {
            /* Insertion by seq, newest first. */
            size_t k = n++;
            while (k > 0 && sel[k - 1]->seq < r->jobs[i].seq) {
                sel[k] = sel[k - 1];
                k--;
            }
            sel[k] = &r->jobs[i];
        }
    }
    for (size_t i = 0; i < n && i < cap; i++) {
        snap_of(sel[i], &out[i]);
    }
    pthread_mutex_unlock(&r->mu);
    return n;
}

int
xa_snap_get(struct xa_reg *r, const char *id, struct xa_snap *out)
{
    struct xa_filter f = {.id = id};
    if (id == NULL || id[0] == '\0') {
        return -ENOENT;
    }
    return xa_snaps(r, &f, out, 1) > 0 ? 0 : -ENOENT;
}

const char *
xa_state_name(enum xa_state s)
{
    switch (s) {
    case XA_RUNNING:
        return "running";
    case XA_FINISHED:
        return "finished";
    case XA_ABORTED:
        return "aborted";
    case XA_ERROR:
        return "error";
    }
    return "unknown";
}
