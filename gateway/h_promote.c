/*
 * Design notes: promote, the gateway's half (POST /v1/objects/<bck> {"action":"promote",
 * "name":SRC,"value":{"tid","src","obj","rcr","ovw","dls","notshr"}}, api.md). Files that sit
 * on target machines become objects (target/promote.c does the work). The gateway checks the
 * request, asks each target concerned (all, or value.tid) to scan the source, and decides:
 * no target has it = 404; a name that cannot be an object name = 400 before anything moves;
 * every target sees identical content (same count, names and sizes) = a file share, each
 * target promotes only what HRW gives it; otherwise every target that has the source promotes
 * all of it, each object going to its owner. Then it starts the job on those targets under
 * one id and answers it (text/plain; empty when there was nothing to promote).
 */
#include "common/json.h"
#include "common/limits.h"
#include "common/names.h"
#include "common/objref.h"
#include "common/util.h"
#include "gateway/fanout.h"
#include "gateway/gw_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prm_slot {
    const char *tid;               /* only this target ("" = all) */
    const struct rpc_objs_args *a; /* the call (op changes between the phases) */
    const struct ais_snode *node;  /* set when called */
    int rc;
    struct rpc_objs_res res;
    struct rpc_err err;
    int skip; /* phase 2: not a part of the job */
};

static void
prm_node(struct gw *g, const struct ais_snode *node, void *slot)
{
    struct prm_slot *s = slot;
    char url[128];
    if (s->skip || (s->tid[0] && strcmp(s->tid, node->id) != 0)) {
        s->rc = -ESRCH; /* not called */
        return;
    }
    s->node = node;
    ais_snode_ctrl_url(node, url, sizeof(url));
    s->rc = rpc_objs_op(url, (int)g->cfg->rpc_timeout_ms * 10, s->a, &s->res, &s->err);
}

/* A boolean member (true, or a "true" string as some clients send) or 0. */
static int
jbool(const json_t *o, const char *key)
{
    const json_t *b = ais_json_get_ci(o, key);
    return json_is_true(b) || (json_is_string(b) && strcmp(json_string_value(b), "true") == 0);
}

/* An absolute path without "." or ".." elements; NULL or why not. */
static const char *
src_why(const char *src)
{
    if (src[0] != '/') {
        return "must be an absolute path";
    }
    if (strlen(src) >= PATH_MAX) {
        return "too long";
    }
    for (const char *p = src; *p; p++) {
        if ((unsigned char)*p < 0x20) {
            return "contains a control character";
        }
        if (p[0] == '/' && p[1] == '.' &&
            (p[2] == '/' || p[2] == '\0' || (p[2] == '.' && (p[3] == '/' || p[3] == '\0')))) {
            return "must not contain '.' or '..' elements";
        }
    }
    return NULL;
}

/* The scan's verdict: 0 with *fshare and the number of targets that have the source, or an
 * HTTP status with msg. */
static int
verdict(const struct prm_slot *v, size_t n, const char *src, int notshr, int *fshare,
        uint64_t *files, char *msg, size_t cap)
{
    size_t called = 0, have = 0;
    const char *digest = NULL;
    int same = 1;
    *files = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].rc == -ESRCH) {
            continue;
        }
        called++;
        if (v[i].rc == -ENOENT) {
            continue;
        }
        if (v[i].rc != 0) {
            snprintf(msg, cap, "%s (target %s)", v[i].err.msg[0] ? v[i].err.msg : "scan failed",
                     v[i].node ? v[i].node->id : "?");
            return v[i].rc == -ENOMEM || v[i].rc == -EIO || v[i].rc == -ETIMEDOUT ? 500 : 400;
        }
        have++;
        *files += v[i].res.done;
        const char *d = v[i].res.nnames ? v[i].res.names[0] : "";
        same = same && (digest == NULL || strcmp(digest, d) == 0);
        digest = d;
    }
    if (called == 0) {
        snprintf(msg, cap, "promote: no such target");
        return 404;
    }
    if (have == 0) {
        snprintf(msg, cap, "promote: source \"%.300s\" not found on %s", src,
                 called == 1 ? "the target" : "any target");
        return 404;
    }
    *fshare = !notshr && have == called && called > 1 && same;
    return 0;
}

static void
promote(struct gw *g, struct ais_req *r, const json_t *body)
{
    struct ais_objref ref;
    char msg[600];
    int st = ais_objref_parse(r, "/v1/objects/", -1, &ref, msg, sizeof(msg));
    st = st ? st : gw_bck_resolve(g, &ref, msg, sizeof(msg));
    if (st != 0) {
        ais_resp_err(r, st, "%s", msg);
        return;
    }
    const json_t *v = json_object_get(body, "value");
    const char *src = ais_json_str(v, "src", ais_json_str(body, "name", ""));
    const char *obj = ais_json_str(v, "obj", ""), *tid = ais_json_str(v, "tid", "");
    const char *why = src_why(src), *owhy = NULL;
    if (gw_bck_access(g, r, &ref, AIS_ACCESS_PROMOTE)) {
        return;
    }
    if (strcmp(ref.provider, "ais") != 0) {
        ais_resp_err(r, 400, "promote: into ais:// buckets only (%s is remote)", ref.display);
        return;
    }
    if (src[0] == '\0' || why != NULL) {
        ais_resp_err(r, 400, "promote: invalid source \"%.300s\": %s", src,
                     src[0] ? why : "value.src (or name) is empty");
        return;
    }
    size_t ol = strlen(obj);
    ol -= ol > 0 && obj[ol - 1] == '/'; /* a prefix ("dir/"): checked without its last '/' */
    if (ol > 0 && ais_obj_name_check(obj, ol, &owhy) != 0) {
        ais_resp_err(r, 400, "promote: invalid destination name \"%.300s\": %s", obj, owhy);
        return;
    }
    unsigned flags = (jbool(v, "rcr") ? RPC_PROMOTE_RECURSIVE : 0) |
                     (jbool(v, "ovw") ? RPC_PROMOTE_OVERWRITE : 0) |
                     (jbool(v, "dls") ? RPC_PROMOTE_DELETE_SRC : 0);
    char id[XA_ID_BYTES], rnd[9];
    ais_rand_id(rnd, 8);
    snprintf(id, sizeof(id), "p%s", rnd);
    const char *names[] = {src};
    struct rpc_objs_args a = {.op = "promote-scan",
                              .provider = ref.provider,
                              .ns = ref.ns,
                              .bck = ref.bck,
                              .names = names,
                              .n = 1,
                              .prepend = obj,
                              .flags = flags,
                              .job_id = id};
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    size_t nt = ais_smap_count(smap, 1);
    struct prm_slot *sl = calloc(nt ? nt : 1, sizeof(*sl));
    if (sl == NULL) {
        ais_smap_unref(smap);
        ais_resp_err(r, 500, "out of memory");
        return;
    }
    for (size_t i = 0; i < nt; i++) {
        sl[i] = (struct prm_slot){.tid = tid, .a = &a};
    }
    gw_fanout(g, smap, 1, prm_node, sl, sizeof(*sl));
    int fshare = 0;
    uint64_t files = 0;
    st = verdict(sl, nt, src, jbool(v, "notshr") || tid[0], &fshare, &files, msg, sizeof(msg));
    if (st == 0 && files > 0) {
        a.op = "promote";
        a.flags |= fshare ? RPC_PROMOTE_FSHARE : 0;
        for (size_t i = 0; i < nt; i++) {
            int part = sl[i].rc == 0;
            rpc_objs_res_fini(&sl[i].res);
            sl[i] = (struct prm_slot){.tid = tid, .a = &a, .skip = !part};
        }
        gw_fanout(g, smap, 1, prm_node, sl, sizeof(*sl));
        for (size_t i = 0; st == 0 && i < nt; i++) {
            if (sl[i].rc != 0 && sl[i].rc != -ESRCH) {
                st = 500;
                snprintf(msg, sizeof(msg), "%s", sl[i].err.msg);
            }
        }
    }
    for (size_t i = 0; i < nt; i++) {
        rpc_objs_res_fini(&sl[i].res);
    }
    free(sl);
    ais_smap_unref(smap);
    if (st != 0) {
        ais_resp_err(r, st, "%s", msg);
        return;
    }
    const char *out = files > 0 ? id : "";
    ais_resp_buf(r, 200, "text/plain", out, strlen(out));
}

static void
objects_post_done(struct ais_req *r, void *arg)
{
    json_t *b = NULL;
    if (ais_req_body_json(r, &b) != 0 || !json_is_object(b)) {
        json_decref(b);
        ais_resp_err(r, 400, "POST %s: malformed JSON in request body", ais_req_path(r));
        return;
    }
    const char *act = ais_json_str(b, "action", "");
    if (strcmp(act, "promote") == 0) {
        promote(arg, r, b);
    } else {
        ais_resp_err(r, 400, "POST %s: unsupported action \"%.100s\" (supported: promote)",
                     ais_req_path(r), act);
    }
    json_decref(b);
}

void
gw_h_objects_post(struct gw *g, struct ais_req *r)
{
    ais_req_body_buffer(r, AIS_CTRL_BODY_BYTES_MAX, objects_post_done, g);
}
