/*
 * Design notes: batch GET (AIS GetBatch) at the gateway: GET /v1/ml/moss[/<bucket>] with a
 * MossReq body. The gateway reads the body (bounded), checks its shape and entry count, that
 * every referenced bucket exists (a remote one is added on first use) and allows GET, then
 * answers 307 to one designated target picked at random (HRW of a random key, as AIS without a
 * colocation hint); the client re-sends the body there and the target assembles the archive
 * (target/moss.c). The buckets of consecutive entries are checked once per run.
 */
#include "common/bmd.h"
#include "common/json.h"
#include "common/log.h"
#include "common/names.h"
#include "common/objref.h"
#include "common/util.h"
#include "gateway/gw_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Checks the buckets of the request: 0, or 1 after responding. */
static int
moss_buckets(struct gw *g, struct ais_req *r, const json_t *in, const char *path_bck)
{
    const char *qprov = ais_req_query(r, "provider");
    const char *dprov = ais_provider_norm(qprov && qprov[0] ? qprov : "ais");
    char prev[AIS_BCKNAME_BYTES_MAX + 16] = "", msg[512];
    for (size_t i = 0; i < json_array_size(in); i++) {
        const json_t *o = json_array_get(in, i);
        const char *b = json_string_value(json_object_get(o, "bucket"));
        const char *p = json_string_value(json_object_get(o, "provider"));
        const char *prov = p && p[0] ? ais_provider_norm(p) : dprov;
        const char *why = NULL;
        if (!json_is_object(o) || !json_is_string(json_object_get(o, "objname"))) {
            ais_resp_err(r, 400, "get-batch entry %zu: an object with \"objname\" expected", i);
            return 1;
        }
        b = b && b[0] ? b : path_bck;
        if (b == NULL || ais_bck_name_check(b, &why) != 0 || prov == NULL) {
            ais_resp_err(r, 400, "get-batch entry %zu: %s", i,
                         b == NULL      ? "no bucket (neither in the entry nor in the path)"
                         : prov == NULL ? "invalid provider"
                                        : "invalid bucket name");
            return 1;
        }
        char key[sizeof(prev)];
        snprintf(key, sizeof(key), "%s://%s", prov, b);
        if (strcmp(key, prev) == 0) {
            continue;
        }
        struct ais_objref ref;
        memset(&ref, 0, sizeof(ref));
        ref.provider = prov;
        snprintf(ref.bck, sizeof(ref.bck), "%s", b);
        ais_bck_display(prov, "", b, ref.display, sizeof(ref.display));
        int status = gw_bck_resolve(g, &ref, msg, sizeof(msg));
        if (status != 0) {
            ais_resp_err(r, status, "%s", msg);
            return 1;
        }
        if (gw_bck_access(g, r, &ref, AIS_ACCESS_GET)) {
            return 1;
        }
        snprintf(prev, sizeof(prev), "%s", key);
    }
    return 0;
}

static void
moss_done(struct ais_req *r, void *arg)
{
    struct gw *g = arg;
    size_t len = 0;
    const char *body = ais_req_body(r, &len);
    const char *p = ais_req_path(r) + strlen("/v1/ml/moss");
    json_error_t jerr;
    while (*p == '/') {
        p++;
    }
    if (strchr(p, '/') != NULL) {
        ais_resp_err(r, 400, "invalid path %s (expecting /v1/ml/moss[/<bucket>])", ais_req_path(r));
        return;
    }
    json_t *root = json_loadb(body, len, 0, &jerr);
    const json_t *in = root ? json_object_get(root, "in") : NULL;
    if (root == NULL || !json_is_object(root)) {
        ais_resp_err(r, 400, "invalid get-batch request (MossReq JSON): %s",
                     root ? "not an object" : jerr.text);
    } else if (!json_is_array(in) || json_array_size(in) == 0) {
        ais_resp_err(r, 400, "get-batch request: \"in\" must be a non-empty array of entries");
    } else if (json_array_size(in) > AIS_MOSS_ENTRIES_MAX) {
        ais_resp_err(r, 400, "get-batch request has %zu entries: at most %d in one batch",
                     json_array_size(in), AIS_MOSS_ENTRIES_MAX);
    } else if (moss_buckets(g, r, in, p[0] ? p : NULL) == 0) {
        struct ais_smap *smap = ais_meta_smap(&g->meta);
        const struct ais_snode *t = ais_smap_hrw_target(smap, ais_rand_u64());
        char base[128] = "", loc[AIS_URI_BYTES_MAX + 256];
        if (t != NULL) {
            ais_snode_url(t, base, sizeof(base));
        }
        ais_smap_unref(smap);
        if (base[0] == '\0') {
            ais_resp_err(r, 503, "no storage targets in the cluster map");
        } else {
            const char *q = ais_req_raw_query(r);
            snprintf(loc, sizeof(loc), "%s%s%s%s", base, ais_req_raw_path(r), q[0] ? "?" : "", q);
            ais_resp_redirect(r, loc);
            ais_stats_add(&g->stats, AIS_STAT_REDIRECT_N, 1);
        }
    }
    json_decref(root);
}

void
gw_r_moss(struct ais_req *r, void *ctx)
{
    if (ais_req_body_refuse_large(r, AIS_MOSS_BODY_BYTES_MAX, "get-batch")) {
        return;
    }
    ais_req_body_buffer(r, AIS_MOSS_BODY_BYTES_MAX, moss_done, ctx);
}
