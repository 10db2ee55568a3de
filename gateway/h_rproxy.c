/*
 * Design notes: reverse-proxy mode (net.http.rproxy=cloud). A client whose http_proxy is a
 * gateway sends absolute-URI requests ("GET http://host:port/dir/a.jpg"). The origin
 * http://host:port/ is an ht:// bucket named after it ("host-port", created on first use with
 * that origin), and the object is the path; the request is served through the object's HRW
 * owner target over the /s3 hop (s3_relay), so an unmodified client that does not follow
 * redirects (curl -x) gets the bytes, and the target cold-GETs the origin once and serves its
 * copy afterwards. https:// needs CONNECT tunnels (no caching possible) and is refused clearly.
 */
#include "common/hrw.h"
#include "common/json.h"
#include "common/log.h"
#include "common/names.h"
#include "common/objref.h"
#include "common/util.h"
#include "gateway/gw_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The ht:// bucket of an origin ("127.0.0.1:8000" -> "127.0.0.1-8000"). 0 or -EINVAL. */
static int
origin_bucket(const char *hostport, size_t n, char *out, size_t cap)
{
    if (n == 0 || n >= cap) {
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        char c = hostport[i];
        out[i] = c == ':' ? '-' : (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
    return ais_bck_name_check(out, NULL) == 0 ? 0 : -EINVAL;
}

/* The origin's ht:// bucket exists (created with its origin when missing). 0 or status. */
static int
origin_ensure(struct gw *g, const struct ais_objref *ref, const char *origin, char *msg, size_t cap)
{
    if (gw_bck_resolve(g, ref, msg, cap) == 0) {
        return 0;
    }
    json_t *v = json_pack("{s:{s:{s:s}}}", "extra", "http", "original_url", origin);
    int rc = v ? gw_bck_change(g, "create-bck", "ht", "", ref->bck, v, msg, cap) : -ENOMEM;
    json_decref(v);
    if (rc == 0 || rc == -EEXIST) {
        AIS_LOG_INFO("req=rproxy bck=%s origin=%s msg=\"origin bucket created\"", ref->display,
                     origin);
        return 0;
    }
    return 502;
}

int
gw_rproxy(struct gw *g, struct ais_req *r)
{
    const char *raw = ais_req_raw_path(r), *dec = ais_req_path(r);
    char msg[1024], origin[300], path[AIS_URI_BYTES_MAX + 256], base[128];
    if (strncmp(raw, "http://", 7) != 0 && strncmp(raw, "https://", 8) != 0) {
        return 0;
    }
    if (!ais_config_rt_get(&g->cfg->rt.rproxy)) {
        ais_resp_err(r, 400,
                     "absolute URI %s: this gateway is not a proxy (set "
                     "net.http.rproxy=cloud to serve http_proxy clients)",
                     raw);
        return 1;
    }
    int head = ais_req_is(r, "HEAD");
    if (strncmp(raw, "https://", 8) == 0 || (!head && !ais_req_is(r, "GET"))) {
        ais_resp_err(r, 405,
                     "reverse proxy: only GET and HEAD of http:// URLs are served "
                     "(https needs a CONNECT tunnel, which cannot cache)");
        return 1;
    }
    const char *hp = raw + 7, *slash = strchr(hp, '/');
    const char *dslash = strncmp(dec, "http://", 7) == 0 ? strchr(dec + 7, '/') : NULL;
    struct ais_objref ref;
    memset(&ref, 0, sizeof(ref));
    size_t hn = slash ? (size_t)(slash - hp) : strlen(hp);
    const char *obj = dslash ? dslash + 1 : "";
    const char *why = "empty";
    if (origin_bucket(hp, hn, ref.bck, sizeof(ref.bck)) != 0 || obj[0] == '\0' ||
        ais_obj_name_check(obj, strlen(obj), &why) != 0) {
        ais_resp_err(r, 400, "reverse proxy: cannot map %s to a bucket and object (%s)", raw,
                     obj[0] ? why : "no path");
        return 1;
    }
    ref.provider = "ht";
    snprintf(ref.obj, sizeof(ref.obj), "%s", obj);
    ais_bck_display("ht", "", ref.bck, ref.display, sizeof(ref.display));
    snprintf(origin, sizeof(origin), "http://%.*s/", (int)hn, hp);
    int st = origin_ensure(g, &ref, origin, msg, sizeof(msg));
    if (st != 0) {
        ais_resp_err(r, st, "reverse proxy: %s", msg);
        return 1;
    }
    uint64_t digest = 0;
    (void)ais_obj_digest("ht", "", ref.bck, ref.obj, &digest);
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    const struct ais_snode *t = ais_smap_hrw_target(smap, digest);
    if (t != NULL) {
        ais_snode_url(t, base, sizeof(base));
    }
    ais_smap_unref(smap);
    if (t == NULL) {
        ais_resp_err(r, 503, "no storage targets in the cluster map");
        return 1;
    }
    /* The raw path stays percent-encoded as the client sent it. */
    snprintf(path, sizeof(path), "/v1/objects/%s/%s?provider=ht", ref.bck, slash ? slash + 1 : "");
    s3_relay(g->s3, r, base, path, head);
    ais_stats_add(&g->stats, AIS_STAT_REDIRECT_N, 1);
    return 1;
}
