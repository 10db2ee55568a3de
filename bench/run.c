/*
 * Design notes: names are indices 0..N-1 printed as PREFIX%010u. A GET picks only among names
 * known to be present (filled, --existing, or PUT by this run): the `present` list is appended
 * under a mutex and published with a release store of its length, so readers take no lock.
 * With --direct, owner[idx] caches which target (index+1 into `targets`, 0 = unknown) owns a
 * name; the first op on a name resolves it with one un-followed GET to the gateway, outside
 * the op's timed section. Workers keep their stats under their own mutex (uncontended: only
 * the reporter takes it, once per interval) in two copies: the phase total and the interval.
 */
#include "bench/run.h"

#include "bench/client.h"
#include "bench/pattern.h"
#include "bench/report.h"
#include "common/assert.h"
#include "common/util.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define URL_BYTES (AL_URL_BYTES_MAX + AIS_BCKNAME_BYTES_MAX + AL_PREFIX_BYTES_MAX + 64)
#define NAME_BYTES (AL_PREFIX_BYTES_MAX + 16)

struct worker {
    struct al_run *run;
    unsigned id;
    pthread_t tid;
    bool started;
    struct al_client *client;
    pthread_mutex_t mu; /* guards total and intv */
    struct al_stats total;
    struct al_stats intv;
    uint64_t rng;
    char name[NAME_BYTES];
    char url[URL_BYTES];
};

struct al_run {
    const struct al_args *a;
    struct al_pattern *pat;
    struct worker *w;
    unsigned nworkers;
    /* present names */
    pthread_mutex_t present_mu;
    uint32_t *present;
    uint8_t *is_present;
    _Atomic uint32_t npresent;
    /* --direct owner cache */
    pthread_mutex_t tgt_mu;
    _Atomic uint16_t *owner;
    char (*targets)[AL_URL_BYTES_MAX];
    unsigned ntargets;
    /* current phase */
    enum al_phase phase;
    int64_t deadline_ns;
    _Atomic uint64_t issued;
    _Atomic uint64_t seq_put;
    _Atomic uint64_t seq_get;
    _Atomic int stop;
    _Atomic unsigned running;
    struct al_stats scratch;
};

static_assert(AL_TARGETS_MAX < UINT16_MAX, "owner cache holds target index + 1 in 16 bits");
static_assert(AL_NUM_OBJECTS_MAX <= UINT32_MAX, "name indices are 32-bit");

static uint64_t
rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

static void
present_mark(struct al_run *r, uint32_t idx)
{
    pthread_mutex_lock(&r->present_mu);
    if (!r->is_present[idx]) {
        uint32_t n = atomic_load_explicit(&r->npresent, memory_order_relaxed);
        r->is_present[idx] = 1;
        r->present[n] = idx;
        atomic_store_explicit(&r->npresent, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&r->present_mu);
}

static void
present_all(struct al_run *r)
{
    uint32_t n = (uint32_t)r->a->num_objects;
    for (uint32_t i = 0; i < n; i++) {
        r->present[i] = i;
        r->is_present[i] = 1;
    }
    atomic_store_explicit(&r->npresent, n, memory_order_release);
}

static int
worker_init(struct al_run *r, struct worker *w, unsigned id)
{
    w->run = r;
    w->id = id;
    w->rng = (r->a->seed + 1) * 0x9e3779b97f4a7c15ull ^ ((uint64_t)id + 1) * 0xbf58476d1ce4e5b9ull;
    if (w->rng == 0) {
        w->rng = 1;
    }
    pthread_mutex_init(&w->mu, NULL);
    int err = al_stats_init(&w->total);
    if (err == 0) {
        err = al_stats_init(&w->intv);
    }
    if (err == 0) {
        err = al_client_new(r->a, r->pat, &w->client);
    }
    return err;
}

static void
worker_fini(struct worker *w)
{
    al_client_free(w->client);
    al_stats_fini(&w->total);
    al_stats_fini(&w->intv);
    pthread_mutex_destroy(&w->mu);
}

static int
tables_new(struct al_run *r)
{
    size_t n = (size_t)r->a->num_objects;
    r->present = calloc(n, sizeof(*r->present));
    r->is_present = calloc(n, 1);
    if (r->present == NULL || r->is_present == NULL) {
        return -ENOMEM;
    }
    if (r->a->mode == AL_MODE_DIRECT) {
        r->owner = calloc(n, sizeof(*r->owner));
        r->targets = calloc(AL_TARGETS_MAX, sizeof(*r->targets));
        if (r->owner == NULL || r->targets == NULL) {
            return -ENOMEM;
        }
    }
    if (r->a->existing) {
        present_all(r);
    }
    return 0;
}

int
al_run_new(const struct al_args *args, struct al_run **out)
{
    AIS_ASSERT(args != NULL);
    AIS_ASSERT(out != NULL);
    AIS_ASSERT(args->workers >= 1 && args->workers <= AL_WORKERS_MAX);
    struct al_run *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return -ENOMEM;
    }
    r->a = args;
    pthread_mutex_init(&r->present_mu, NULL);
    pthread_mutex_init(&r->tgt_mu, NULL);
    int err = al_stats_init(&r->scratch);
    if (err == 0) {
        err = al_pattern_new(args->seed, &r->pat);
    }
    if (err == 0) {
        err = tables_new(r);
    }
    if (err == 0) {
        r->w = calloc(args->workers, sizeof(*r->w));
        err = r->w ? 0 : -ENOMEM;
    }
    for (unsigned i = 0; err == 0 && i < args->workers; i++) {
        r->nworkers = i + 1;
        err = worker_init(r, &r->w[i], i);
    }
    if (err != 0) {
        al_run_free(r);
        return err;
    }
    *out = r;
    return 0;
}

void
al_run_free(struct al_run *r)
{
    if (r == NULL) {
        return;
    }
    for (unsigned i = 0; i < r->nworkers; i++) {
        worker_fini(&r->w[i]);
    }
    free(r->w);
    free(r->present);
    free(r->is_present);
    free(r->owner);
    free(r->targets);
    al_pattern_free(r->pat);
    al_stats_fini(&r->scratch);
    pthread_mutex_destroy(&r->present_mu);
    pthread_mutex_destroy(&r->tgt_mu);
    free(r);
}

void
al_run_stop(struct al_run *r)
{
    atomic_store(&r->stop, 1);
}

int
al_run_stopped(struct al_run *r)
{
    return atomic_load(&r->stop);
}

/* Object URL under base: AIS API path, or base/name for the baseline. */
static void
url_build(const struct al_args *a, const char *base, const char *name, char *url, size_t cap)
{
    int n;
    if (a->mode == AL_MODE_BASELINE) {
        n = snprintf(url, cap, "%s/%s", base, name);
    } else {
        n = snprintf(url, cap, "%s/v1/objects/%s/%s?provider=%s", base, a->bucket, name,
                     a->provider);
    }
    AIS_ASSERT(n > 0 && (size_t)n < cap);
}

/* Index of base in the target table, appending it when new; 0 when the table is full. */
static uint16_t
target_intern(struct al_run *r, const char *base)
{
    uint16_t k = 0;
    pthread_mutex_lock(&r->tgt_mu);
    for (unsigned i = 0; i < r->ntargets; i++) {
        if (strcmp(r->targets[i], base) == 0) {
            k = (uint16_t)(i + 1);
            break;
        }
    }
    if (k == 0 && r->ntargets < AL_TARGETS_MAX) {
        snprintf(r->targets[r->ntargets], AL_URL_BYTES_MAX, "%s", base);
        k = (uint16_t)++r->ntargets;
    }
    pthread_mutex_unlock(&r->tgt_mu);
    return k;
}

/*
 * Writes the URL for name idx into w->url, resolving its owner first with --direct.
 * Returns 0, or -EIO with res describing the failed resolution.
 */
static int
op_url(struct worker *w, uint32_t idx, struct al_result *res)
{
    struct al_run *r = w->run;
    const struct al_args *a = r->a;
    snprintf(w->name, sizeof(w->name), "%s%010u", a->prefix, idx);
    if (a->mode != AL_MODE_DIRECT) {
        url_build(a, a->endpoint, w->name, w->url, sizeof(w->url));
        return 0;
    }
    uint16_t k = atomic_load_explicit(&r->owner[idx], memory_order_acquire);
    if (k == 0) {
        char base[AL_URL_BYTES_MAX];
        url_build(a, a->endpoint, w->name, w->url, sizeof(w->url));
        al_client_resolve(w->client, w->url, base, sizeof(base), res);
        if (!res->ok) {
            return -EIO;
        }
        k = target_intern(r, base);
        if (k == 0) {
            res->ok = false;
            res->kind = AL_ERR_RESOLVE;
            res->code = 0;
            return -EIO;
        }
        atomic_store_explicit(&r->owner[idx], k, memory_order_release);
    }
    url_build(a, r->targets[k - 1], w->name, w->url, sizeof(w->url));
    return 0;
}

static uint64_t
size_pick(struct worker *w)
{
    const struct al_args *a = w->run->a;
    if (a->size_min == a->size_max) {
        return a->size_min;
    }
    return a->size_min + rng_next(&w->rng) % (a->size_max - a->size_min + 1);
}

static void
record(struct worker *w, enum al_op op, const struct al_result *res, int64_t lat_ns)
{
    pthread_mutex_lock(&w->mu);
    if (res->ok) {
        al_stats_ok(&w->total, op, res->bytes, (uint64_t)lat_ns);
        al_stats_ok(&w->intv, op, res->bytes, (uint64_t)lat_ns);
    } else {
        al_stats_err(&w->total, op, res->kind, res->code);
        al_stats_err(&w->intv, op, res->kind, res->code);
    }
    pthread_mutex_unlock(&w->mu);
}

/* One timed op on name idx; the owner resolution (if any) is outside the timed section. */
static void
op_do(struct worker *w, enum al_op op, uint32_t idx)
{
    struct al_result res;
    if (op_url(w, idx, &res) != 0) {
        record(w, op, &res, 0);
        return;
    }
    int64_t t0 = ais_mono_ns();
    switch (op) {
    case AL_OP_PUT:
        al_client_put(w->client, w->url, w->name, size_pick(w), &res);
        break;
    case AL_OP_GET:
        al_client_get(w->client, w->url, w->name, &res);
        break;
    case AL_OP_DEL:
        al_client_delete(w->client, w->url, &res);
        break;
    case AL_OP_COUNT:
        AIS_ASSERT(0 && "not an op");
    }
    record(w, op, &res, ais_mono_ns() - t0);
    if (op == AL_OP_PUT && res.ok) {
        present_mark(w->run, idx);
    }
}

/* Next op of the timed phase; false when the phase is over. */
static bool
main_next(struct worker *w, enum al_op *op, uint32_t *idx)
{
    struct al_run *r = w->run;
    const struct al_args *a = r->a;
    if (atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        return false;
    }
    if (r->deadline_ns != 0 && ais_mono_ns() >= r->deadline_ns) {
        return false;
    }
    if (a->max_ops != 0 && atomic_fetch_add(&r->issued, 1) >= a->max_ops) {
        return false;
    }
    uint32_t n = atomic_load_explicit(&r->npresent, memory_order_acquire);
    if (n == 0 && a->pct_put == 0) {
        return false; /* read-only run and nothing could be filled: the errors say why */
    }
    bool put = n == 0 || rng_next(&w->rng) % 100 < a->pct_put;
    uint64_t k;
    if (put) {
        k = a->seq ? atomic_fetch_add(&r->seq_put, 1) : rng_next(&w->rng);
        *idx = (uint32_t)(k % a->num_objects);
        *op = AL_OP_PUT;
    } else {
        k = a->seq ? atomic_fetch_add(&r->seq_get, 1) : rng_next(&w->rng);
        *idx = r->present[k % n];
        *op = AL_OP_GET;
    }
    return true;
}

/* Next op of the fill or cleanup phase: every name once, spread over the workers. */
static bool
sweep_next(struct worker *w, enum al_op *op, uint32_t *idx)
{
    struct al_run *r = w->run;
    if (atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        return false;
    }
    uint64_t k = atomic_fetch_add(&r->issued, 1);
    if (r->phase == AL_PHASE_FILL) {
        if (k >= r->a->num_objects) {
            return false;
        }
        *op = AL_OP_PUT;
        *idx = (uint32_t)k;
        return true;
    }
    if (k >= atomic_load_explicit(&r->npresent, memory_order_acquire)) {
        return false;
    }
    *op = AL_OP_DEL;
    *idx = r->present[k];
    return true;
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    struct al_run *r = w->run;
    enum al_op op = AL_OP_GET;
    uint32_t idx = 0;
    for (;;) {
        bool more = r->phase == AL_PHASE_MAIN ? main_next(w, &op, &idx) : sweep_next(w, &op, &idx);
        if (!more) {
            break;
        }
        op_do(w, op, idx);
    }
    atomic_fetch_sub(&r->running, 1);
    return NULL;
}

static void
phase_reset(struct al_run *r, enum al_phase phase, int64_t t0)
{
    r->phase = phase;
    r->deadline_ns = 0;
    if (phase == AL_PHASE_MAIN && r->a->duration_ms > 0) {
        r->deadline_ns = t0 + r->a->duration_ms * 1000000;
    }
    atomic_store(&r->issued, 0);
    atomic_store(&r->seq_put, 0);
    atomic_store(&r->seq_get, 0);
    for (unsigned i = 0; i < r->nworkers; i++) {
        al_stats_reset(&r->w[i].total);
        al_stats_reset(&r->w[i].intv);
    }
}

static void
interval_print(struct al_run *r, FILE *progress, int64_t since_start, int64_t span)
{
    al_stats_reset(&r->scratch);
    for (unsigned i = 0; i < r->nworkers; i++) {
        struct worker *w = &r->w[i];
        pthread_mutex_lock(&w->mu);
        al_stats_merge(&r->scratch, &w->intv);
        al_stats_reset(&w->intv);
        pthread_mutex_unlock(&w->mu);
    }
    static const char *names[] = {"fill", "run", "cleanup"};
    al_report_interval(progress, names[r->phase], since_start, &r->scratch, span);
}

/* Sleeps in short steps until every worker returned, printing an interval line when due. */
static void
reporter(struct al_run *r, FILE *progress, int64_t t0)
{
    int64_t every = progress != NULL ? r->a->stats_interval_ms * 1000000 : 0;
    int64_t last = t0;
    int64_t next = t0 + every;
    const struct timespec step = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
    while (atomic_load(&r->running) > 0) {
        nanosleep(&step, NULL);
        int64_t now = ais_mono_ns();
        if (every > 0 && now >= next) {
            interval_print(r, progress, now - t0, now - last);
            last = now;
            next += every;
        }
    }
}

int
al_run_phase(struct al_run *r, enum al_phase phase, FILE *progress, struct al_stats *out,
             int64_t *elapsed_ns)
{
    AIS_ASSERT(atomic_load(&r->running) == 0);
    int err = 0;
    int64_t t0 = ais_mono_ns();
    phase_reset(r, phase, t0);
    for (unsigned i = 0; i < r->nworkers; i++) {
        atomic_fetch_add(&r->running, 1);
        r->w[i].started = pthread_create(&r->w[i].tid, NULL, worker_main, &r->w[i]) == 0;
        if (!r->w[i].started) {
            atomic_fetch_sub(&r->running, 1);
            al_run_stop(r);
            err = -EAGAIN;
            break;
        }
    }
    reporter(r, progress, t0);
    for (unsigned i = 0; i < r->nworkers; i++) {
        if (r->w[i].started) {
            pthread_join(r->w[i].tid, NULL);
            r->w[i].started = false;
        }
    }
    *elapsed_ns = ais_mono_ns() - t0;
    for (unsigned i = 0; i < r->nworkers; i++) {
        al_stats_merge(out, &r->w[i].total);
    }
    return err;
}

int
al_run_create_bucket(struct al_run *r)
{
    const struct al_args *a = r->a;
    char url[URL_BYTES];
    struct al_result res;
    snprintf(url, sizeof(url), "%s/v1/buckets/%s?provider=%s", a->endpoint, a->bucket, a->provider);
    al_client_create_bucket(r->w[0].client, url, &res);
    if (!res.ok) {
        fprintf(stderr, "aisloader: create bucket %s at %s: %s error %ld%s%s\n", a->bucket,
                a->endpoint, al_errkind_name(res.kind), res.code,
                res.kind == AL_ERR_CURL ? ": " : "",
                res.kind == AL_ERR_CURL ? curl_easy_strerror((CURLcode)res.code) : "");
        return -EIO;
    }
    return 0;
}
