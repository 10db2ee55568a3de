/*
 * Design notes: the downloader (/v1/download, api.md §6.1). A request names (object, URL)
 * pairs: one link, a URL template, a list or a map. They are expanded and validated at once
 * (400, nothing downloaded), then a job (kind "download", on the job framework) sends every
 * target the pairs whose object names it owns under HRW, in batches; the target fetches each
 * URL straight into the bucket (bounded connections, per-URL stall timeout, retries of
 * transient errors) and reports the failed names with the reason. The gateway keeps a status
 * record per job (counters, finished and failed names, bounded) that GET /v1/download reports
 * in the AIS shape; abort stops the job between batches; remove forgets a finished record.
 */
#include "common/err.h"
#include "common/hrw.h"
#include "common/json.h"
#include "common/log.h"
#include "common/names.h"
#include "common/objref.h"
#include "common/util.h"
#include "gateway/fanout.h"
#include "gateway/gw_int.h"

#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DL_JOBS_MAX 64      /* status records kept (finished ones recycled oldest first) */
#define DL_NAMES_MAX 1000   /* finished / failed names kept per record */
#define DL_BATCH 16         /* pairs per RPC: progress moves in steps this small */
#define DL_PAIRS_MAX 100000 /* pairs per request */
#define DL_BATCH_MS (10 * 60 * 1000)

struct dl_name {
    char *name, *err;
    uint64_t size;
};

struct dl_rec {
    char id[XA_ID_BYTES];
    char desc[256];
    char bck[AIS_BCKNAME_BYTES_MAX + AIS_NS_BYTES_MAX + 16];
    int64_t start_ns, end_ns;
    uint64_t total, finished, errors, bytes;
    int aborted, done;
    size_t nfin, nerr;
    struct dl_name fin[DL_NAMES_MAX], err[DL_NAMES_MAX];
};

struct gw_dl {
    pthread_mutex_t mu;
    struct dl_rec *v[DL_JOBS_MAX];
};

int
gw_dl_new(struct gw_dl **out)
{
    struct gw_dl *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        return -ENOMEM;
    }
    pthread_mutex_init(&d->mu, NULL);
    *out = d;
    return 0;
}

static void
rec_free(struct dl_rec *r)
{
    for (size_t i = 0; r != NULL && i < r->nfin; i++) {
        free(r->fin[i].name);
    }
    for (size_t i = 0; r != NULL && i < r->nerr; i++) {
        free(r->err[i].name);
        free(r->err[i].err);
    }
    free(r);
}

void
gw_dl_free(struct gw_dl *d)
{
    if (d == NULL) {
        return;
    }
    for (size_t i = 0; i < DL_JOBS_MAX; i++) {
        rec_free(d->v[i]);
    }
    pthread_mutex_destroy(&d->mu);
    free(d);
}

/* A slot for a new record: a free one, else the oldest finished one. Under mu. */
static int
rec_slot(struct gw_dl *d)
{
    int pick = -1;
    for (int i = 0; i < DL_JOBS_MAX; i++) {
        if (d->v[i] == NULL) {
            return i;
        }
        if (d->v[i]->done && (pick < 0 || d->v[i]->end_ns < d->v[pick]->end_ns)) {
            pick = i;
        }
    }
    return pick;
}

static struct dl_rec *
rec_find(struct gw_dl *d, const char *id)
{
    for (int i = 0; i < DL_JOBS_MAX; i++) {
        if (d->v[i] != NULL && strcmp(d->v[i]->id, id) == 0) {
            return d->v[i];
        }
    }
    return NULL;
}

/* A job's pairs and where its status goes. */
struct dl_job {
    struct gw *g;
    struct ais_objref ref;
    json_t *names, *links;
    int64_t timeout_ms;
    int backend;        /* type "backend": names of a remote bucket fetched from its own backend */
    struct dl_rec *rec; /* owned by g->dl; lives at least until the job ends (done = 0) */
};

static void
dl_job_free(void *arg)
{
    struct dl_job *j = arg;
    json_decref(j->names);
    json_decref(j->links);
    free(j);
}

struct dl_slot {
    struct dl_job *j;
    struct xa_job *job;
    const struct ais_smap *smap;
    int rc;
    struct rpc_err err;
};

/* One batch's outcome into the record and the job's counters. */
static void
dl_account(struct dl_slot *s, const char *const *names, size_t n, const struct rpc_objs_res *res)
{
    struct gw_dl *d = s->j->g->dl;
    pthread_mutex_lock(&d->mu);
    struct dl_rec *r = s->j->rec;
    r->finished += res->done + res->skipped; /* backend: already cached counts as done */
    r->errors += res->nnames;
    r->bytes += res->bytes;
    for (size_t i = 0; i < res->nnames && r->nerr < DL_NAMES_MAX; i++) {
        r->err[r->nerr].name = strdup(res->names[i]);
        r->err[r->nerr].err = strdup(res->errs ? res->errs[i] : "");
        r->nerr++;
    }
    for (size_t i = 0; i < n && r->nfin < DL_NAMES_MAX; i++) {
        int failed = 0;
        for (size_t k = 0; k < res->nnames && !failed; k++) {
            failed = strcmp(res->names[k], names[i]) == 0;
        }
        if (!failed) {
            r->fin[r->nfin++].name = strdup(names[i]);
        }
    }
    pthread_mutex_unlock(&d->mu);
    xa_job_add(s->job, XA_CTR_LOC, res->done, res->bytes);
}

/* This target's pairs, in batches; stops early on abort or a failed call. */
static void
dl_node(struct gw *g, const struct ais_snode *node, void *slot)
{
    struct dl_slot *s = slot;
    struct dl_job *j = s->j;
    size_t nn = json_array_size(j->names), n = 0;
    const char **names = malloc((nn ? nn : 1) * sizeof(*names));
    const char **links = malloc((nn ? nn : 1) * sizeof(*links));
    char url[128];
    s->rc = names && links ? 0 : -ENOMEM;
    for (size_t i = 0; s->rc == 0 && i < nn; i++) {
        uint64_t dg = 0;
        const char *nm = json_string_value(json_array_get(j->names, i));
        if (ais_obj_digest(j->ref.provider, j->ref.ns, j->ref.bck, nm, &dg) == 0 &&
            ais_smap_hrw_target(s->smap, dg) == node) {
            names[n] = nm;
            links[n++] = j->backend ? NULL : json_string_value(json_array_get(j->links, i));
        }
    }
    ais_snode_ctrl_url(node, url, sizeof(url));
    for (size_t off = 0; s->rc == 0 && off < n && !xa_job_aborted(s->job); off += DL_BATCH) {
        size_t k = n - off < DL_BATCH ? n - off : DL_BATCH;
        struct rpc_objs_args a = {.op = j->backend ? "prefetch" : "download",
                                  .provider = j->ref.provider,
                                  .ns = j->ref.ns,
                                  .bck = j->ref.bck,
                                  .names = names + off,
                                  .n = k,
                                  .links = j->backend ? NULL : links + off,
                                  .timeout_ms = j->timeout_ms,
                                  .job_id = j->rec->id};
        struct rpc_objs_res res = {0};
        s->rc = rpc_objs_op(url, DL_BATCH_MS, &a, &res, &s->err);
        if (s->rc == 0) {
            dl_account(s, names + off, k, &res);
        }
        rpc_objs_res_fini(&res);
    }
    free(names);
    free(links);
}

static int
dl_job_run(struct xa_job *job, void *arg)
{
    struct dl_job *j = arg;
    struct ais_smap *smap = ais_meta_smap(&j->g->meta);
    size_t nt = ais_smap_count(smap, 1);
    struct dl_slot *slots = calloc(nt ? nt : 1, sizeof(*slots));
    int rc = slots ? 0 : -ENOMEM;
    xa_job_set_total(job, json_array_size(j->names), 0);
    for (size_t i = 0; rc == 0 && i < nt; i++) {
        slots[i] = (struct dl_slot){.j = j, .job = job, .smap = smap};
    }
    if (rc == 0) {
        gw_fanout(j->g, smap, 1, dl_node, slots, sizeof(*slots));
    }
    for (size_t i = 0; rc == 0 && i < nt; i++) {
        if (slots[i].rc != 0) {
            rc = slots[i].rc;
            xa_job_set_err(job, slots[i].err.msg);
        }
    }
    struct gw_dl *d = j->g->dl;
    pthread_mutex_lock(&d->mu);
    j->rec->aborted = xa_job_aborted(job);
    j->rec->end_ns = ais_now_ns();
    j->rec->done = 1;
    if (rc == 0 && j->rec->errors > 0) {
        char msg[128];
        snprintf(msg, sizeof(msg), "%llu of %llu downloads failed (see download_errors)",
                 (unsigned long long)j->rec->errors, (unsigned long long)j->rec->total);
        xa_job_set_err(job, msg);
    }
    pthread_mutex_unlock(&d->mu);
    free(slots);
    ais_smap_unref(smap);
    return rc;
}

/* Last path element of a URL (before any query), the default object name. */
static const char *
url_base(const char *url, char *out, size_t cap)
{
    const char *q = strpbrk(url, "?#");
    size_t n = q ? (size_t)(q - url) : strlen(url);
    const char *p = url + n;
    while (p > url && p[-1] != '/') {
        p--;
    }
    snprintf(out, cap, "%.*s", (int)(url + n - p), p);
    return out;
}

static int
is_url(const char *s)
{
    return s != NULL && (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0);
}

/* Appends (prefix + name-or-base(url), url). 0, or an HTTP status with msg. */
static int
pair_add(json_t *names, json_t *links, const char *prefix, const char *name, const char *url,
         char *msg, size_t cap)
{
    char base[AIS_OBJNAME_BYTES_MAX + 1], full[AIS_OBJNAME_BYTES_MAX + 2];
    const char *why = "";
    if (!is_url(url)) {
        snprintf(msg, cap, "download: \"%s\" is not an http:// or https:// URL", url ? url : "");
        return 400;
    }
    if (json_array_size(names) >= DL_PAIRS_MAX) {
        snprintf(msg, cap, "download: more than %d objects in one request", DL_PAIRS_MAX);
        return 400;
    }
    name = (name && name[0]) ? name : url_base(url, base, sizeof(base));
    int n = snprintf(full, sizeof(full), "%s%s", prefix, name);
    if (n >= (int)sizeof(full) || ais_obj_name_check(full, strlen(full), &why) != 0) {
        snprintf(msg, cap, "download: invalid object name \"%.200s\" for %.300s: %s", full, url,
                 n >= (int)sizeof(full) ? "too long" : why);
        return 400;
    }
    json_array_append_new(names, json_string(full));
    json_array_append_new(links, json_string(url));
    return 0;
}

/* The request's (name, url) pairs by its type. 0, or an HTTP status with msg. */
static int
dl_pairs(const json_t *b, json_t *names, json_t *links, char *msg, size_t cap)
{
    const char *type = ais_json_str(b, "type", "");
    if (strcmp(type, "single") == 0) {
        return pair_add(names, links, "", ais_json_str(b, "object_name", ""),
                        ais_json_str(b, "link", NULL), msg, cap);
    }
    if (strcmp(type, "range") == 0) {
        json_t *urls = json_array();
        const char *tmpl = ais_json_str(b, "template", "");
        int rc = urls ? gw_tmpl_expand(tmpl, urls, DL_PAIRS_MAX) : -ENOMEM;
        if (rc != 0) {
            json_decref(urls);
            snprintf(msg, cap, "download: invalid template \"%.300s\"%s", tmpl,
                     rc == -E2BIG ? " (more than 100000 URLs)" : "");
            return 400;
        }
        const char *sub = ais_json_str(b, "subdir", "");
        char prefix[AIS_OBJNAME_BYTES_MAX];
        size_t sl = strlen(sub);
        snprintf(prefix, sizeof(prefix), "%s%s", sub, sl && sub[sl - 1] != '/' ? "/" : "");
        for (size_t i = 0; rc == 0 && i < json_array_size(urls); i++) {
            rc = pair_add(names, links, prefix, NULL, json_string_value(json_array_get(urls, i)),
                          msg, cap);
        }
        json_decref(urls);
        return rc;
    }
    if (strcmp(type, "multi") == 0) {
        const json_t *o = json_object_get(b, "objects");
        int rc = 0;
        if (json_is_array(o)) {
            for (size_t i = 0; rc == 0 && i < json_array_size(o); i++) {
                rc = pair_add(names, links, "", NULL, json_string_value(json_array_get(o, i)), msg,
                              cap);
            }
            return rc;
        }
        if (json_is_object(o)) {
            const char *k;
            json_t *v;
            json_object_foreach((json_t *)o, k, v)
            {
                rc = rc ? rc : pair_add(names, links, "", k, json_string_value(v), msg, cap);
            }
            return rc;
        }
        snprintf(msg, cap, "download: multi needs \"objects\": an array of URLs or a map");
        return 400;
    }
    snprintf(msg, cap, "download: type \"%s\" is not supported (single, range, multi, backend)",
             type);
    return 400;
}

/* "30s", "500ms", "2m" -> ms; 0 when absent; -1 when malformed. */
static int64_t
dur_ms(const char *s)
{
    if (s == NULL || s[0] == '\0') {
        return 0;
    }
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) {
        return -1;
    }
    if (strcmp(end, "ms") == 0) {
        return (int64_t)v;
    }
    if (strcmp(end, "s") == 0 || *end == '\0') {
        return (int64_t)(v * 1000);
    }
    if (strcmp(end, "m") == 0) {
        return (int64_t)(v * 60000);
    }
    if (strcmp(end, "h") == 0) {
        return (int64_t)(v * 3600000);
    }
    return -1;
}

static int
dl_bucket(struct gw *g, const json_t *b, struct ais_objref *ref, char *msg, size_t cap)
{
    const json_t *bk = json_object_get(b, "bucket");
    const char *name = ais_json_str(bk, "name", "");
    const char *prov = ais_provider_norm(ais_json_str(bk, "provider", "ais"));
    const char *why = "invalid bucket name";
    memset(ref, 0, sizeof(*ref));
    if (prov == NULL || ais_bck_name_check(name, &why) != 0) {
        snprintf(msg, cap, "download: bucket: %s", prov == NULL ? "unknown provider" : why);
        return 400;
    }
    int backend = strcmp(ais_json_str(b, "type", ""), "backend") == 0;
    if (!backend && strcmp(prov, "ais") != 0) {
        snprintf(msg, cap,
                 "download: links go into ais:// buckets only (a remote bucket's own backend: "
                 "type \"backend\")");
        return 400;
    }
    if (backend && (!bk_provider_remote(prov) || strcmp(prov, "ht") == 0)) {
        snprintf(msg, cap, "download: type backend needs an s3:// or gs:// bucket");
        return 400;
    }
    ref->provider = prov;
    snprintf(ref->bck, sizeof(ref->bck), "%s", name);
    ais_bck_display(prov, "", name, ref->display, sizeof(ref->display));
    return gw_bck_resolve(g, ref, msg, cap);
}

/* type "backend": the remote bucket's names with prefix and suffix, listed at its backend. */
static int
dl_backend_names(struct gw *g, const struct ais_objref *ref, const json_t *b, json_t *names,
                 char *msg, size_t cap)
{
    const char *prefix = ais_json_str(b, "prefix", ""), *suffix = ais_json_str(b, "suffix", "");
    size_t sl = strlen(suffix);
    char *token = strdup("");
    int rc = token ? 0 : -ENOMEM;
    while (rc == 0) {
        struct bk_page pg = {0};
        struct bk_err e = {0};
        rc = bk_list_page(g->bk, ref->provider, ref->bck, prefix, token, 1000, &pg, &e);
        if (rc != 0) {
            snprintf(msg, cap, "download: list %.200s: %.700s", ref->display, e.msg);
            free(token);
            return e.status ? e.status : 502;
        }
        for (size_t i = 0; i < pg.n; i++) {
            size_t nl = strlen(pg.v[i].name);
            if (nl >= sl && strcmp(pg.v[i].name + nl - sl, suffix) == 0) {
                json_array_append_new(names, json_string(pg.v[i].name));
            }
        }
        free(token);
        token = pg.next;
        pg.next = NULL;
        bk_page_fini(&pg);
        if (token == NULL || token[0] == '\0' || json_array_size(names) >= DL_PAIRS_MAX) {
            break;
        }
    }
    free(token);
    if (rc != 0) {
        snprintf(msg, cap, "out of memory");
        return 500;
    }
    return 0;
}

static void
dl_start(struct gw *g, struct ais_req *r, const json_t *b)
{
    char msg[1024];
    struct dl_job *j = calloc(1, sizeof(*j));
    int st = j ? dl_bucket(g, b, &j->ref, msg, sizeof(msg)) : 500;
    if (st == 0) {
        j->g = g;
        j->names = json_array();
        j->links = json_array();
        j->timeout_ms = dur_ms(ais_json_str(b, "timeout", ""));
        if (j->timeout_ms < 0) {
            snprintf(msg, sizeof(msg), "download: invalid timeout \"%s\" (e.g. \"30s\")",
                     ais_json_str(b, "timeout", ""));
            st = 400;
        }
    }
    if (st == 0 && strcmp(ais_json_str(b, "type", ""), "backend") == 0) {
        j->backend = 1;
        st = dl_backend_names(g, &j->ref, b, j->names, msg, sizeof(msg));
    } else {
        st = st ? st : dl_pairs(b, j->names, j->links, msg, sizeof(msg));
    }
    struct dl_rec *rec = st == 0 ? calloc(1, sizeof(*rec)) : NULL;
    if (st == 0 && rec == NULL) {
        st = 500;
        snprintf(msg, sizeof(msg), "out of memory");
    }
    if (st != 0) {
        if (j != NULL) {
            dl_job_free(j);
        }
        ais_resp_err(r, st, "%s", st == 500 && j == NULL ? "out of memory" : msg);
        return;
    }
    snprintf(rec->desc, sizeof(rec->desc), "%s", ais_json_str(b, "description", ""));
    snprintf(rec->bck, sizeof(rec->bck), "%s", j->ref.display);
    rec->total = json_array_size(j->names);
    rec->start_ns = ais_now_ns();
    j->rec = rec;
    struct gw_dl *d = g->dl;
    pthread_mutex_lock(&d->mu);
    int slot = rec_slot(d);
    int rc = slot < 0 ? -EAGAIN : 0;
    if (rc == 0) {
        rc = xa_job_start(g->xreg, "download", j->ref.display, dl_job_run, j, dl_job_free, rec->id);
        j = NULL; /* freed by the job framework in every case */
    }
    if (rc == 0) {
        rec_free(d->v[slot]);
        d->v[slot] = rec;
        rec = NULL;
    }
    pthread_mutex_unlock(&d->mu);
    if (j != NULL) {
        dl_job_free(j);
    }
    if (rc != 0) {
        free(rec);
        ais_resp_err(r, 503, "download: cannot start job: %s",
                     rc == -EAGAIN ? "too many download jobs" : ais_strerror(rc));
        return;
    }
    json_t *out = json_pack("{s:s}", "id", d->v[slot]->id);
    ais_resp_json(r, 200, out);
    json_decref(out);
}

static void
rfc3339(int64_t ns, char *out, size_t cap)
{
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *
task_json(const struct dl_name *n, int err)
{
    if (err) {
        return json_pack("{s:s, s:s}", "name", n->name ? n->name : "", "error",
                         n->err ? n->err : "");
    }
    return json_pack("{s:s, s:s, s:s}", "name", n->name ? n->name : "", "downloaded", "0", "total",
                     "0");
}

/* A record in the StatusResp shape (under mu). */
static json_t *
rec_json(const struct dl_rec *r, int tasks)
{
    char st[40], et[40];
    rfc3339(r->start_ns, st, sizeof(st));
    rfc3339(r->end_ns ? r->end_ns : r->start_ns, et, sizeof(et));
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:b}", "id",
                          r->id, "xaction_id", r->id, "description", r->desc, "bck", r->bck,
                          "started_time", st, "finished_time", r->done ? et : "", "finished_cnt",
                          (json_int_t)r->finished, "scheduled_cnt", (json_int_t)r->total,
                          "skipped_cnt", (json_int_t)0, "error_cnt", (json_int_t)r->errors, "total",
                          (json_int_t)r->total, "all_dispatched", 1, "aborted", r->aborted);
    json_object_set_new(j, "finished", json_boolean(r->done));
    if (tasks) {
        json_t *fin = json_array(), *errs = json_array();
        for (size_t i = 0; i < r->nfin; i++) {
            json_array_append_new(fin, task_json(&r->fin[i], 0));
        }
        for (size_t i = 0; i < r->nerr; i++) {
            json_array_append_new(errs, task_json(&r->err[i], 1));
        }
        json_object_set_new(j, "current_tasks", json_array());
        json_object_set_new(j, "finished_tasks", fin);
        json_object_set_new(j, "download_errors", errs);
    }
    return j;
}

static void
dl_status(struct gw *g, struct ais_req *r, const json_t *b)
{
    const char *id = ais_json_str(b, "id", "");
    const char *re = ais_json_str(b, "regex", "");
    int active = json_is_true(json_object_get(b, "only_active_tasks"));
    regex_t rx;
    if (re[0] != '\0' && regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0) {
        ais_resp_err(r, 400, "download: invalid regex \"%s\"", re);
        return;
    }
    struct gw_dl *d = g->dl;
    json_t *out = NULL;
    pthread_mutex_lock(&d->mu);
    if (id[0] != '\0') {
        const struct dl_rec *rec = rec_find(d, id);
        out = rec ? rec_json(rec, 1) : NULL;
    } else {
        out = json_array();
        for (int i = 0; i < DL_JOBS_MAX; i++) {
            const struct dl_rec *rec = d->v[i];
            if (rec != NULL && (!active || !rec->done) &&
                (re[0] == '\0' || regexec(&rx, rec->desc, 0, NULL, 0) == 0)) {
                json_array_append_new(out, rec_json(rec, 0));
            }
        }
    }
    pthread_mutex_unlock(&d->mu);
    if (re[0] != '\0') {
        regfree(&rx);
    }
    if (out == NULL) {
        ais_resp_err(r, 404, "download job \"%s\" does not exist", id);
        return;
    }
    ais_resp_json(r, 200, out);
    json_decref(out);
}

struct dl_stop {
    const char *id;
    int rc;
    struct rpc_err err;
};

static void
dl_stop_node(struct gw *g, const struct ais_snode *n, void *slot)
{
    struct dl_stop *s = slot;
    char url[128];
    ais_snode_ctrl_url(n, url, sizeof(url));
    s->rc = rpc_xact_stop(url, (int)g->cfg->rpc_timeout_ms, s->id, "", &s->err);
}

/* Every target stops its transfers of the job (best effort: logged, the job ends anyway). */
static void
dl_abort_targets(struct gw *g, const char *id)
{
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    size_t nt = ais_smap_count(smap, 1);
    struct dl_stop *slots = calloc(nt ? nt : 1, sizeof(*slots));
    for (size_t i = 0; slots != NULL && i < nt; i++) {
        slots[i].id = id;
    }
    if (slots != NULL) {
        gw_fanout(g, smap, 1, dl_stop_node, slots, sizeof(*slots));
    }
    for (size_t i = 0; slots != NULL && i < nt; i++) {
        if (slots[i].rc != 0) {
            AIS_LOG_WARN("req=download-abort id=%s msg=\"a target did not hear the abort\" "
                         "err=\"%s\"",
                         id, slots[i].err.msg);
        }
    }
    free(slots);
    ais_smap_unref(smap);
}

static void
dl_delete(struct gw *g, struct ais_req *r, const json_t *b, int remove)
{
    const char *id = ais_json_str(b, "id", "");
    struct gw_dl *d = g->dl;
    int found = 0, running = 0;
    pthread_mutex_lock(&d->mu);
    for (int i = 0; i < DL_JOBS_MAX; i++) {
        if (d->v[i] != NULL && strcmp(d->v[i]->id, id) == 0) {
            found = 1;
            running = !d->v[i]->done;
            if (remove && !running) {
                rec_free(d->v[i]);
                d->v[i] = NULL;
            }
        }
    }
    pthread_mutex_unlock(&d->mu);
    if (!found) {
        ais_resp_err(r, 404, "download job \"%s\" does not exist", id);
    } else if (remove && running) {
        ais_resp_err(r, 400, "download job \"%s\" is still running: abort it first", id);
    } else {
        if (!remove) {
            struct xa_filter f = {.id = id, .kind = "", .bck = ""};
            (void)xa_abort(g->xreg, &f);
            dl_abort_targets(g, id); /* transfers in flight stop, not only the next batch */
        }
        ais_resp_empty(r, 200);
    }
}

static void
dl_done(struct ais_req *r, void *arg)
{
    struct gw *g = arg;
    json_t *b = NULL;
    if (ais_req_body_json(r, &b) != 0 || (b != NULL && !json_is_object(b))) {
        json_decref(b);
        ais_resp_err(r, 400, "download: malformed JSON in request body");
        return;
    }
    const char *p = ais_req_path(r);
    if (ais_req_is(r, "POST") && strcmp(p, "/v1/download") == 0) {
        dl_start(g, r, b);
    } else if (ais_req_is(r, "GET") && strcmp(p, "/v1/download") == 0) {
        dl_status(g, r, b);
    } else if (ais_req_is(r, "DELETE") && strcmp(p, "/v1/download/abort") == 0) {
        dl_delete(g, r, b, 0);
    } else if (ais_req_is(r, "DELETE") && strcmp(p, "/v1/download/remove") == 0) {
        dl_delete(g, r, b, 1);
    } else {
        ais_resp_err(r, 404,
                     "%s %s: unknown downloader request (POST/GET /v1/download, DELETE "
                     "/v1/download/abort|remove)",
                     ais_req_method(r), p);
    }
    json_decref(b);
}

void
gw_r_download(struct ais_req *r, void *ctx)
{
    ais_req_body_buffer(r, AIS_CTRL_BODY_BYTES_MAX, dl_done, ctx);
}
