/*
 * Design notes: dSort, the gateway's half (/v1/sort, api.md §6.2). Any gateway takes a job:
 * it checks the spec (400 before any target is involved), the input bucket (404), creates a
 * missing ais:// output bucket, expands the input names, fetches an external key map, picks a
 * leader target by the job id's hash and sends every target the "init" step; if any target
 * refuses, the others abort and the client gets the error. Queries (metrics, list), abort and
 * remove are fan-outs of the same steps; the targets hold all job state, so every gateway
 * answers for every job and a gateway restart loses nothing.
 */
#include "common/err.h"
#include "common/hrw.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/names.h"
#include "common/objref.h"
#include "common/util.h"
#include "dsort/dsort.h"
#include "gateway/fanout.h"
#include "gateway/gw_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SORT_INIT_MS 30000
#define SORT_QUERY_MS 5000 /* a dead target must not stall every poll */
#define SORT_INIT_BYTES_MAX (48u << 20)

struct srt_slot {
    const char *op, *uuid, *body;
    size_t len;
    char id[AIS_DAEMON_ID_BYTES_MAX]; /* the node called ("" when not) */
    int rc;
    char *out;
    size_t out_len;
    struct rpc_err err;
};

static void
srt_node(struct gw *g, const struct ais_snode *node, void *slot)
{
    struct srt_slot *s = slot;
    char url[128];
    snprintf(s->id, sizeof(s->id), "%s", node->id);
    ais_snode_ctrl_url(node, url, sizeof(url));
    s->rc = rpc_dsort(url, strcmp(s->op, "init") == 0 ? SORT_INIT_MS : SORT_QUERY_MS, s->op,
                      s->uuid, s->body, s->len, &s->out, &s->out_len, &s->err);
}

/* The step on every target (slots: one per target, out freed by srt_free). */
static struct srt_slot *
srt_all(struct gw *g, const char *op, const char *uuid, const char *body, size_t *n)
{
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    size_t cnt = ais_smap_count(smap, 1);
    struct srt_slot *v = calloc(cnt ? cnt : 1, sizeof(*v));
    for (size_t i = 0; v && i < cnt; i++) {
        v[i] = (struct srt_slot){.op = op, .uuid = uuid, .body = body, .len = strlen(body)};
    }
    *n = v ? gw_fanout(g, smap, 1, srt_node, v, sizeof(*v)) : 0;
    ais_smap_unref(smap);
    return v;
}

static void
srt_free(struct srt_slot *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].out);
    }
    free(v);
}

static size_t
ekm_sink(char *p, size_t sz, size_t nit, void *arg)
{
    struct ais_buf *b = arg;
    return ais_buf_append(b, p, sz * nit) == 0 ? sz * nit : 0;
}

/* Fetches and parses the spec's EKM: the key map, or NULL with an HTTP status and msg. */
static json_t *
ekm_fetch(const struct ds_spec *s, int *status, char *msg, size_t cap)
{
    struct ais_buf b;
    ais_buf_init(&b, DS_EKM_BYTES_MAX);
    CURL *h = curl_easy_init();
    long st = 0;
    CURLcode cc = CURLE_FAILED_INIT;
    if (h != NULL) {
        curl_easy_setopt(h, CURLOPT_URL, s->ekm_url);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ekm_sink);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
        cc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
        curl_easy_cleanup(h);
    }
    json_t *m = NULL;
    if (cc != CURLE_OK || st != 200) {
        snprintf(msg, cap, "dsort: ekm_file %.200s: %s", s->ekm_url,
                 cc != CURLE_OK ? curl_easy_strerror(cc) : "the server did not answer 200");
        *status = 400;
    } else {
        size_t skipped = 0;
        m = ds_ekm_parse(b.data ? b.data : "", b.len, s->ekm_sep, s->ekm_malformed, &skipped, msg,
                         cap);
        *status = 400;
    }
    ais_buf_fini(&b);
    return m;
}

/* Input object names: the template's (or objnames), each with the input extension. */
static json_t *
input_names(const struct ds_spec *s, char *msg, size_t cap)
{
    json_t *out = json_array();
    size_t el = strlen(s->in_ext);
    uint64_t n = s->in_names ? json_array_size(s->in_names) : ds_tmpl_count(s->in_tmpl);
    char name[AIS_OBJNAME_BYTES_MAX + 32];
    for (uint64_t i = 0; out && i < n; i++) {
        if (s->in_names) {
            snprintf(name, sizeof(name), "%s",
                     json_string_value(json_array_get(s->in_names, (size_t)i)));
        } else if (ds_tmpl_name(s->in_tmpl, i, name, sizeof(name) - el) != 0) {
            snprintf(msg, cap, "dsort: input_format: name %llu of the template is too long",
                     (unsigned long long)i);
            json_decref(out);
            return NULL;
        }
        size_t l = strlen(name);
        if (l < el || strcmp(name + l - el, s->in_ext) != 0) {
            memcpy(name + l, s->in_ext, el + 1);
        }
        json_array_append_new(out, json_string(name));
    }
    return out;
}

/* Bucket checks: the input exists (404), a missing ais:// output is created. 0 or a status. */
static int
buckets_check(struct gw *g, const struct ds_spec *s, char *msg, size_t cap)
{
    struct ais_objref in = {.provider = ais_provider_norm(s->in_provider)};
    snprintf(in.bck, sizeof(in.bck), "%s", s->in_bck);
    ais_bck_display(in.provider, "", in.bck, in.display, sizeof(in.display));
    int st = gw_bck_resolve(g, &in, msg, cap);
    if (st != 0) {
        return st;
    }
    struct ais_objref out = {.provider = ais_provider_norm(s->out_provider)};
    snprintf(out.bck, sizeof(out.bck), "%s", s->out_bck);
    ais_bck_display(out.provider, "", out.bck, out.display, sizeof(out.display));
    struct ais_bmd *bmd = ais_meta_bmd(&g->meta);
    int have = ais_bmd_find(bmd, out.provider, "", out.bck) != NULL;
    ais_bmd_unref(bmd);
    if (have || strcmp(out.provider, "ais") != 0) {
        return have ? 0 : gw_bck_resolve(g, &out, msg, cap);
    }
    int rc = gw_bck_change(g, "create-bck", out.provider, "", out.bck, NULL, msg, cap);
    return rc == 0 || rc == -EEXIST ? 0 : 500;
}

/* The init body: spec, names, targets (not in maintenance), leader, EKM. */
static char *
init_body(struct gw *g, const struct ds_spec *s, const char *uuid, json_t *names, json_t *ekm,
          char *msg, size_t cap)
{
    json_t *tids = json_array();
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    for (size_t i = 0; tids && i < smap->nnodes; i++) {
        const struct ais_snode *n = &smap->nodes[i];
        if (n->is_target && !(n->flags & (AIS_SNODE_MAINTENANCE | AIS_SNODE_DECOMMISSION))) {
            json_array_append_new(tids, json_string(n->id));
        }
    }
    ais_smap_unref(smap);
    size_t nt = json_array_size(tids);
    if (nt == 0) {
        snprintf(msg, cap, "dsort: no target to run the job");
        json_decref(tids);
        json_decref(names);
        json_decref(ekm);
        return NULL;
    }
    size_t leader = (size_t)(ais_hrw_digest(uuid, strlen(uuid)) % nt);
    json_t *b = json_pack("{sosososIso*}", "spec", ds_spec_to_json(s), "names", names, "targets",
                          tids, "leader", (json_int_t)leader, "ekm", ekm);
    char *body = b ? ais_json_dumps(b) : NULL;
    json_decref(b);
    if (body != NULL && strlen(body) > SORT_INIT_BYTES_MAX) {
        snprintf(msg, cap, "dsort: the job is too large for one init message");
        free(body);
        body = NULL;
    }
    return body;
}

static void
sort_start(struct gw *g, struct ais_req *r, const json_t *spec_j)
{
    char msg[512] = "";
    struct ds_spec s;
    if (ds_spec_parse(spec_j, &s, msg, sizeof(msg)) != 0) {
        ais_resp_err(r, 400, "%s", msg);
        return;
    }
    int st = buckets_check(g, &s, msg, sizeof(msg));
    json_t *ekm = NULL, *names = st ? NULL : input_names(&s, msg, sizeof(msg));
    if (st == 0 && names == NULL) {
        st = 400;
    }
    if (st == 0 && s.ekm_url[0] && (ekm = ekm_fetch(&s, &st, msg, sizeof(msg))) == NULL) {
        json_decref(names);
        names = NULL;
    } else if (st == 0) {
        st = 0;
    }
    char uuid[XA_ID_BYTES] = "srt-";
    ais_rand_id(uuid + 4, 11);
    char *body = names ? init_body(g, &s, uuid, names, ekm, msg, sizeof(msg)) : NULL;
    if (body == NULL) {
        ais_resp_err(r, st ? st : 500, "%s", msg[0] ? msg : "out of memory");
        ds_spec_fini(&s);
        return;
    }
    size_t n = 0;
    struct srt_slot *v = srt_all(g, "init", uuid, body, &n);
    free(body);
    const struct srt_slot *bad = NULL;
    for (size_t i = 0; v && i < n && bad == NULL; i++) {
        bad = v[i].rc != 0 ? &v[i] : NULL;
    }
    if (v == NULL || bad != NULL) {
        snprintf(msg, sizeof(msg), "dsort: target %s refused the job: %s",
                 bad && bad->id[0] ? bad->id : "?",
                 bad ? (bad->err.msg[0] ? bad->err.msg : ais_strerror(bad->rc)) : "out of memory");
        srt_free(srt_all(g, "abort", uuid, "{}", &n), n);
        ais_resp_err(r, bad && (bad->rc == -EINVAL) ? 400 : 500, "%s", msg);
    } else {
        AIS_LOG_INFO("req=dsort id=%s in=%s://%s out=%s://%s msg=\"started\"", uuid, s.in_provider,
                     s.in_bck, s.out_provider, s.out_bck);
        ais_resp_buf(r, 200, "text/plain", uuid, strlen(uuid));
    }
    srt_free(v, n);
    ds_spec_fini(&s);
}

/* metrics / abort / remove of one job: the targets' answers, 404 when none knows it. */
static void
sort_job_step(struct gw *g, struct ais_req *r, const char *op, const char *uuid)
{
    size_t n = 0;
    struct srt_slot *v = srt_all(g, op, uuid, "{}", &n);
    json_t *out = json_object();
    size_t known = 0;
    const struct srt_slot *busy = NULL, *fail = NULL;
    for (size_t i = 0; v && i < n; i++) {
        if (v[i].rc == -ENOENT) {
            continue;
        }
        known++;
        if (v[i].rc == -EBUSY) {
            busy = &v[i];
        } else if (v[i].rc != 0) {
            fail = &v[i];
        } else if (v[i].out_len > 0) {
            json_t *j = json_loadb(v[i].out, v[i].out_len, 0, NULL);
            if (j != NULL) {
                json_object_set_new(out, v[i].id, j);
            }
        }
    }
    if (v == NULL) {
        ais_resp_err(r, 500, "dsort: out of memory");
    } else if (known == 0) {
        ais_resp_err(r, 404, "dsort job \"%s\" does not exist", uuid);
    } else if (busy != NULL) {
        ais_resp_err(r, 400, "%s", busy->err.msg);
    } else if (fail != NULL && strcmp(op, "metrics") == 0 && json_object_size(out) == 0) {
        ais_resp_err(r, 500, "dsort job \"%s\": target %s: %s", uuid, fail->id,
                     fail->err.msg[0] ? fail->err.msg : ais_strerror(fail->rc));
    } else if (strcmp(op, "metrics") == 0) {
        ais_resp_json(r, 200, out);
    } else {
        ais_resp_empty(r, 200);
    }
    json_decref(out);
    srt_free(v, n);
}

/* GET /v1/sort without a uuid: one JobInfo per job (aborted if aborted anywhere, archived when
 * archived everywhere). */
static void
sort_list(struct gw *g, struct ais_req *r)
{
    const char *re = ais_req_query(r, "regex");
    const char *oa = ais_req_query(r, "only_active");
    json_t *q = json_pack("{sssb}", "regex", re ? re : "", "only_active",
                          oa && (strcmp(oa, "true") == 0 || strcmp(oa, "1") == 0));
    char *body = q ? ais_json_dumps(q) : NULL;
    json_decref(q);
    size_t n = 0;
    struct srt_slot *v = body ? srt_all(g, "list", "", body, &n) : NULL;
    free(body);
    json_t *by_id = json_object(), *arr = json_array();
    const struct srt_slot *bad = NULL;
    for (size_t i = 0; v && i < n; i++) {
        json_t *l = v[i].rc == 0 ? json_loadb(v[i].out, v[i].out_len, 0, NULL) : NULL;
        bad = v[i].rc == -EINVAL ? &v[i] : bad;
        size_t k;
        json_t *ji;
        json_array_foreach(l, k, ji)
        {
            const char *id = json_string_value(json_object_get(ji, "id"));
            json_t *have = id ? json_object_get(by_id, id) : NULL;
            if (id && have == NULL) {
                json_object_set(by_id, id, ji);
                json_array_append(arr, ji);
            } else if (have != NULL) {
                if (json_is_true(json_object_get(ji, "aborted"))) {
                    json_object_set_new(have, "aborted", json_true());
                }
                if (!json_is_true(json_object_get(ji, "archived"))) {
                    json_object_set_new(have, "archived", json_false());
                }
            }
        }
        json_decref(l);
    }
    if (bad != NULL) {
        ais_resp_err(r, 400, "%s", bad->err.msg);
    } else {
        ais_resp_json(r, 200, arr);
    }
    json_decref(by_id);
    json_decref(arr);
    srt_free(v, n);
}

static void
sort_done(struct ais_req *r, void *ctx)
{
    struct gw *g = ctx;
    const char *p = ais_req_path(r);
    const char *uuid = ais_req_query(r, "uuid");
    uuid = uuid ? uuid : ais_req_query(r, "id");
    int has_id = uuid != NULL && uuid[0] != '\0';
    if (has_id && strlen(uuid) >= XA_ID_BYTES) {
        ais_resp_err(r, 404, "dsort job \"%.64s\" does not exist", uuid);
        return;
    }
    if (ais_req_is(r, "POST") && strcmp(p, "/v1/sort") == 0) {
        json_t *b = NULL;
        if (ais_req_body_json(r, &b) != 0 || !json_is_object(b)) {
            json_decref(b);
            ais_resp_err(r, 400, "dsort: the request spec must be a JSON object");
            return;
        }
        sort_start(g, r, b);
        json_decref(b);
    } else if (ais_req_is(r, "GET") &&
               (strcmp(p, "/v1/sort") == 0 || strcmp(p, "/v1/sort/metrics") == 0)) {
        if (has_id) {
            sort_job_step(g, r, "metrics", uuid);
        } else {
            sort_list(g, r);
        }
    } else if (ais_req_is(r, "DELETE") && strcmp(p, "/v1/sort/abort") == 0 && has_id) {
        sort_job_step(g, r, "abort", uuid);
    } else if (ais_req_is(r, "DELETE") &&
               (strcmp(p, "/v1/sort") == 0 || strcmp(p, "/v1/sort/remove") == 0) && has_id) {
        sort_job_step(g, r, "remove", uuid);
    } else if (ais_req_is(r, "DELETE")) {
        ais_resp_err(r, 400, "dsort: a job id (?uuid=) is required");
    } else {
        ais_resp_err(r, 404, "dsort: no such endpoint %s %s", ais_req_method(r), p);
    }
}

void
gw_r_sort(struct ais_req *r, void *ctx)
{
    ais_req_body_buffer(r, AIS_CTRL_BODY_BYTES_MAX, sort_done, ctx);
}
