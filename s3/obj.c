/*
 * Design notes: S3 object operations on the gateway. Every object request becomes a /v1
 * request to the object's HRW owner target over s3/up.c (or a 307 there when s3.redirect is
 * on), so /s3 and /v1 see the same objects. Bytes stream: a PUT body goes from the edge's
 * callbacks straight to the target socket, a GET body is pulled from the target socket by the
 * edge's response generator, through one bounded buffer each; nothing holds a whole object.
 *
 * PUT asks the target to store MD5 as the object's checksum (computed once, in the target's
 * write pass) and hands it the S3 metadata as custom md. Content-MD5 is verified by the
 * target before the object becomes visible. x-amz-checksum-* values (header or aws-chunked
 * trailer) are verified here as the bytes pass: the last byte of the body is held back until
 * the verdict, so on a mismatch the target never sees a complete body and drops its work file.
 * The upstream PUT is opened at the first byte (or at the end for an empty body) with
 * `Expect: 100-continue`, so a target that redirects (the Smap moved) is followed before any
 * body byte went out.
 */
#include "common/assert.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "s3/cksum.h"
#include "s3/s3_int.h"
#include "s3/sigv4.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define UP_HOPS_MAX 4 /* target-to-target 307s followed (Smap changes, get-from-neighbor) */
#define PUT_EXPECT_BYTES_MIN (1u << 20) /* larger PUT bodies wait for the target's 100 */

int
s3_v1_path(const char *bck, const char *key, size_t klen, const char *query, char *out, size_t cap)
{
    char enc[AIS_OBJNAME_BYTES_MAX * 3 + 1];
    if (s3_pct_encode(key, klen, 1, enc, sizeof(enc)) != 0) {
        return -E2BIG;
    }
    int n = snprintf(out, cap, "/v1/objects/%s/%s?provider=ais%s%s", bck, enc,
                     query && query[0] ? "&" : "", query ? query : "");
    return (n < 0 || (size_t)n >= cap) ? -E2BIG : 0;
}

/* Splits "http://host:port/path?q" into base and path. */
static int
split_loc(const char *loc, char *base, size_t bcap, char *path, size_t pcap)
{
    if (strncmp(loc, "http://", 7) != 0) {
        return -EINVAL;
    }
    const char *p = strchr(loc + 7, '/');
    if (p == NULL || (size_t)(p - loc) >= bcap || strlen(p) >= pcap) {
        return -EINVAL;
    }
    memcpy(base, loc, (size_t)(p - loc));
    base[p - loc] = '\0';
    snprintf(path, pcap, "%s", p);
    return 0;
}

/*
 * One bodiless exchange with the owner of (bck, key): GET, HEAD or DELETE of path, following
 * target redirects. *out has the response head read. 0 or negative errno.
 */
static int
up_call_at(struct s3_srv *s, const char *base0, const char *method, const char *path0,
           const char *hdrs, struct s3_up **out)
{
    char base[128], path[AIS_URI_BYTES_MAX + 256];
    int rc = 0;
    snprintf(base, sizeof(base), "%s", base0);
    snprintf(path, sizeof(path), "%s", path0);
    for (int hop = 0; rc == 0 && hop < UP_HOPS_MAX; hop++) {
        struct s3_up *u = NULL;
        for (int fresh = 0; fresh < 2; fresh++) {
            rc = s3_up_open(s, base, fresh, &u);
            rc = rc ? rc : s3_up_send(u, method, path, hdrs, -1, 0);
            rc = rc ? rc : s3_up_head(u);
            if (rc == 0 || u == NULL || !s3_up_reused(u)) {
                break;
            }
            s3_up_close(u);
            u = NULL;
        }
        if (rc != 0) {
            s3_up_close(u);
            return rc;
        }
        const char *loc = s3_up_hdr(u, "Location");
        if (s3_up_status(u) != 307 || loc == NULL) {
            *out = u;
            return 0;
        }
        rc = split_loc(loc, base, sizeof(base), path, sizeof(path));
        s3_up_drain(u);
        s3_up_close(u);
    }
    return rc ? rc : -ELOOP;
}

static int
up_call(struct s3_srv *s, const char *bck, const char *key, const char *method, const char *path0,
        const char *hdrs, struct s3_up **out)
{
    char base[128];
    int rc = s->ops->obj_owner(s->ops->ctx, bck, key, base, sizeof(base));
    return rc ? rc : up_call_at(s, base, method, path0, hdrs, out);
}

/* Object attributes from a target's GET/HEAD answer. */
struct obj_attrs {
    struct s3_md md;
    char etag[96];
    int64_t mtime_s;
    int64_t size;
};

static void
attrs_from_up(const struct s3_up *u, struct obj_attrs *a)
{
    const char *ct = s3_up_hdr(u, "Ais-Checksum-Type");
    const char *cv = s3_up_hdr(u, "Ais-Checksum-Value");
    const char *at = s3_up_hdr(u, "Ais-Atime");
    s3_md_parse(s3_up_hdr(u, "Ais-Custom-Md"), &a->md);
    s3_etag(&a->md, ct ? ct : "", cv ? cv : "", a->etag, sizeof(a->etag));
    a->mtime_s = a->md.mtime_s ? a->md.mtime_s : (at ? strtoll(at, NULL, 10) / 1000000000 : 0);
    a->size = s3_up_clen(u);
}

/* ETag lists of If-Match / If-None-Match: "*" or comma-separated, quoted or not. */
static int
etag_in(const char *list, const char *etag)
{
    const char *e = etag[0] == '"' ? etag + 1 : etag;
    size_t elen = strlen(e) - (etag[0] == '"' ? 1 : 0);
    const char *p = list;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        if (strncmp(p, "W/", 2) == 0) {
            p += 2;
        }
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && p[n - 1] == ' ') {
            n--;
        }
        if (n == 1 && p[0] == '*') {
            return 1;
        }
        if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
            p++;
            n -= 2;
        }
        if (n == elen && strncmp(p, e, n) == 0) {
            return 1;
        }
        p += n;
        while (*p == '"') {
            p++;
        }
    }
    return 0;
}

static int64_t
http_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = s ? strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
    return end ? (int64_t)timegm(&tm) : -1;
}

/* RFC 7232 order as S3 applies it: 0 go on, 304 or 412. */
static int
preconditions(struct ais_req *r, const struct obj_attrs *a)
{
    const char *im = ais_req_header(r, "If-Match");
    const char *inm = ais_req_header(r, "If-None-Match");
    int64_t ius = http_time(ais_req_header(r, "If-Unmodified-Since"));
    int64_t ims = http_time(ais_req_header(r, "If-Modified-Since"));
    if (im != NULL && !etag_in(im, a->etag)) {
        return 412;
    }
    if (im == NULL && ius >= 0 && a->mtime_s > ius) {
        return 412;
    }
    if (inm != NULL && etag_in(inm, a->etag)) {
        return 304;
    }
    if (inm == NULL && ims >= 0 && a->mtime_s <= ims) {
        return 304;
    }
    return 0;
}

/* response-* query overrides (GET with a presigned or SDK-built URL) applied to md. */
static void
apply_overrides(struct ais_req *r, struct s3_md *md)
{
    const struct {
        const char *q;
        char *dst;
        size_t cap;
    } over[] = {
        {"response-content-type", md->ctype, sizeof(md->ctype)},
        {"response-content-language", md->lang, sizeof(md->lang)},
        {"response-expires", md->expires, sizeof(md->expires)},
        {"response-cache-control", md->cache, sizeof(md->cache)},
        {"response-content-disposition", md->cdisp, sizeof(md->cdisp)},
        {"response-content-encoding", md->cenc, sizeof(md->cenc)},
    };
    for (size_t i = 0; i < sizeof(over) / sizeof(over[0]); i++) {
        char v[512];
        if (s3_query(r, over[i].q, v, sizeof(v)) == 1 && strlen(v) < over[i].cap &&
            strpbrk(v, "\r\n") == NULL) {
            snprintf(over[i].dst, over[i].cap, "%s", v);
        }
    }
}

static void
attrs_to_resp(struct s3_rq *q, struct obj_attrs *a, int checksum)
{
    char t[64];
    struct ais_req *r = q->r;
    s3_resp_std(q);
    apply_overrides(r, &a->md);
    s3_md_to_resp(r, &a->md);
    ais_resp_header(r, "ETag", a->etag);
    s3_time_http(a->mtime_s, t, sizeof(t));
    ais_resp_header(r, "Last-Modified", t);
    ais_resp_header(r, "Accept-Ranges", "bytes");
    if (checksum && a->md.ck_alg[0] != '\0') {
        char name[48];
        snprintf(name, sizeof(name), "x-amz-checksum-%s", a->md.ck_alg);
        ais_resp_header(r, name, a->md.ck_val);
    }
}

/* Maps a target's error status on an object request to the S3 error. */
static void
up_err(struct s3_rq *q, int status)
{
    if (status == 404) {
        int bck = q->s->ops->bck_exists(q->s->ops->ctx, q->bck);
        s3_err(q, bck ? S3_NO_SUCH_KEY : S3_NO_SUCH_BUCKET, NULL);
    } else if (status == 403) {
        char msg[512];
        uint64_t need = ais_req_is(q->r, "GET")    ? AIS_ACCESS_GET
                        : ais_req_is(q->r, "HEAD") ? AIS_ACCESS_HEAD_OBJ
                        : ais_req_is(q->r, "DELETE") ? AIS_ACCESS_DELETE_OBJ
                                                     : AIS_ACCESS_PUT;
        int st = q->s->ops->bck_access(q->s->ops->ctx, q->bck, need, msg, sizeof(msg));
        s3_err(q, S3_ACCESS_DENIED, "%s", st ? msg : "the target refused the request");
    } else if (status == 416) {
        s3_err(q, S3_INVALID_RANGE, NULL);
    } else if (status == 503) {
        s3_err(q, S3_SLOW_DOWN, NULL);
    } else {
        s3_err(q, S3_INTERNAL, "target answered %d", status);
    }
}

static size_t
get_gen(void *arg, uint64_t pos, char *buf, size_t max)
{
    struct s3_up *u = arg;
    (void)pos;
    ssize_t n = s3_up_read(u, buf, max);
    return n > 0 ? (size_t)n : AIS_GEN_ERR;
}

static void
get_free(void *arg)
{
    s3_up_close(arg);
}

/* 1 (after answering) if s3.redirect sends this request to the target instead. */
static int
maybe_redirect(struct s3_rq *q)
{
    char base[128], path[AIS_URI_BYTES_MAX + 256], loc[AIS_URI_BYTES_MAX + 512];
    if (!ais_config_rt_get(&q->s->cfg->rt.s3_redirect)) {
        return 0;
    }
    if (q->s->ops->obj_owner(q->s->ops->ctx, q->bck, q->key, base, sizeof(base)) != 0 ||
        s3_v1_path(q->bck, q->key, q->key_len, NULL, path, sizeof(path)) != 0) {
        s3_err(q, S3_SLOW_DOWN, "no target for the object");
        return 1;
    }
    snprintf(loc, sizeof(loc), "%s%s&pid=%s&utm=%lld", base, path, q->s->node_id,
             (long long)ais_now_ns());
    ais_req_discard_body(q->r, AIS_REDIRECT_DRAIN_BYTES_MAX);
    ais_resp_redirect(q->r, loc);
    s3_resp_std(q);
    return 1;
}

static void
h_get_head(struct s3_rq *q, int head)
{
    char path[AIS_URI_BYTES_MAX + 256], hdrs[512] = "";
    const char *range = ais_req_header(q->r, "Range");
    struct s3_up *u = NULL;
    if (maybe_redirect(q)) {
        return;
    }
    if (range != NULL && !head && strlen(range) < 256 && strchr(range, '\r') == NULL &&
        strchr(range, '\n') == NULL) {
        snprintf(hdrs, sizeof(hdrs), "Range: %s\r\n", range);
    }
    int rc = s3_v1_path(q->bck, q->key, q->key_len, NULL, path, sizeof(path));
    rc = rc ? rc : up_call(q->s, q->bck, q->key, head ? "HEAD" : "GET", path, hdrs, &u);
    if (rc != 0) {
        s3_err_rc(q, rc == -ENOENT ? -EIO : rc, "target");
        return;
    }
    int st = s3_up_status(u);
    if (st != 200 && st != 206) {
        s3_up_drain(u);
        s3_up_close(u);
        up_err(q, st);
        return;
    }
    struct obj_attrs a;
    attrs_from_up(u, &a);
    int pre = preconditions(q->r, &a);
    if (pre != 0) {
        s3_up_close(u); /* body unread: the connection is not reused */
        if (pre == 412) {
            s3_err(q, S3_PRECONDITION_FAILED, NULL);
        } else {
            ais_resp_empty(q->r, 304);
            ais_resp_header(q->r, "ETag", a.etag);
            s3_resp_std(q);
        }
        return;
    }
    const char *cmode = ais_req_header(q->r, "x-amz-checksum-mode");
    int ck = cmode && strcasecmp(cmode, "ENABLED") == 0 && st == 200;
    const char *cr = s3_up_hdr(u, "Content-Range");
    char crange[128] = "";
    if (cr != NULL) {
        snprintf(crange, sizeof(crange), "%s", cr);
    }
    if (head) {
        rc = ais_resp_head(q->r, 200, (uint64_t)(a.size < 0 ? 0 : a.size));
        s3_up_close(u);
    } else if (a.size <= 0) {
        rc = ais_resp_empty(q->r, st);
        s3_up_close(u);
    } else {
        rc = ais_resp_gen(q->r, st, (uint64_t)a.size, get_gen, u, get_free);
    }
    if (rc != 0) {
        s3_err(q, S3_INTERNAL, "out of memory");
        return;
    }
    attrs_to_resp(q, &a, ck);
    if (crange[0] != '\0') {
        ais_resp_header(q->r, "Content-Range", crange);
    }
}

static void
h_delete(struct s3_rq *q)
{
    char path[AIS_URI_BYTES_MAX + 256];
    struct s3_up *u = NULL;
    if (maybe_redirect(q)) {
        return;
    }
    int rc = s3_v1_path(q->bck, q->key, q->key_len, NULL, path, sizeof(path));
    rc = rc ? rc : up_call(q->s, q->bck, q->key, "DELETE", path, NULL, &u);
    if (rc != 0) {
        s3_err_rc(q, rc == -ENOENT ? -EIO : rc, "target");
        return;
    }
    int st = s3_up_status(u);
    s3_up_drain(u);
    s3_up_close(u);
    if (st == 200 || (st == 404 && q->s->ops->bck_exists(q->s->ops->ctx, q->bck))) {
        ais_resp_empty(q->r, 204); /* S3 deletes are idempotent */
        s3_resp_std(q);
    } else {
        up_err(q, st);
    }
}

int
s3_obj_delete_one(struct s3_srv *s, const char *bck, const char *key, size_t klen)
{
    char path[AIS_URI_BYTES_MAX + 256];
    struct s3_up *u = NULL;
    int rc = s3_v1_path(bck, key, klen, NULL, path, sizeof(path));
    rc = rc ? rc : up_call(s, bck, key, "DELETE", path, NULL, &u);
    if (rc != 0) {
        return rc;
    }
    int st = s3_up_status(u);
    s3_up_drain(u);
    s3_up_close(u);
    return st == 200 ? 0 : st == 404 ? -ENOENT : -EIO;
}

/* ---- PUT ---- */

/* Headers of the upstream PUT: store MD5, S3 metadata as custom md, Content-MD5 to verify. */
static int
put_hdrs(struct s3_rq *q, const struct s3_md *md, char *out, size_t cap)
{
    char custom[1100], md5hex[40] = "";
    const char *cmd5 = ais_req_header(q->r, "Content-MD5");
    if (s3_md_encode(md, custom, sizeof(custom)) != 0 || strlen(custom) >= 1024) {
        s3_err(q, S3_METADATA_TOO_LARGE, NULL);
        return -1;
    }
    if (cmd5 != NULL && s3_b64_to_hex(cmd5, 16, md5hex, sizeof(md5hex)) != 0) {
        s3_err(q, S3_INVALID_DIGEST, NULL);
        return -1;
    }
    int n = snprintf(out, cap, "Ais-Store-Cksum-Type: md5\r\n%s%s%s%s%s%s",
                     custom[0] ? "Ais-Custom-Md: " : "", custom, custom[0] ? "\r\n" : "",
                     md5hex[0] ? "Ais-Checksum-Type: md5\r\nAis-Checksum-Value: " : "", md5hex,
                     md5hex[0] ? "\r\n" : "");
    if (n < 0 || (size_t)n >= cap) {
        s3_err(q, S3_METADATA_TOO_LARGE, NULL);
        return -1;
    }
    return 0;
}

struct s3_put {
    struct s3_rq *q;
    struct s3_up *u;
    char base[128];
    char path[AIS_URI_BYTES_MAX + 256];
    char hdrs[2048];
    int64_t len; /* decoded body length, -1 unknown (chunked upstream) */
    uint64_t got;
    int opened;
    int ck_trailer; /* the x-amz-checksum comes in the aws-chunked trailer */
    int defer;      /* ck_trailer, body fits wbuf: open at the end, the checksum in the md */
    char *wbuf;     /* AIS_S3_IO_BYTES: batches MHD's small pieces; its last byte is held back */
    size_t wlen;
    struct s3_chunked *dec; /* aws-chunked decoder, or NULL */
    struct s3_ck *ck;       /* x-amz-checksum-* verifier, or NULL */
    struct s3_ck *sha;      /* x-amz-content-sha256 verifier (auth on), or NULL */
    char sha_want[72];
    char ck_want[96]; /* base64 from the header (or the trailer, later) */
    struct s3_md md;
    /* Multipart parts: a done hook answers instead of the plain PUT reply. */
    void (*done_hook)(struct s3_put *p, const char *etag);
    void *hook_arg;
};

/* Opens the upstream PUT (following redirects before any body byte). 0 or answered (-1). */
static int
put_open(struct s3_put *p)
{
    struct s3_rq *q = p->q;
    int rc = 0;
    for (int hop = 0; hop < UP_HOPS_MAX; hop++) {
        int st = 0;
        for (int fresh = 0; fresh < 2; fresh++) {
            rc = s3_up_open(q->s, p->base, fresh, &p->u);
            /* Waiting for 100-continue costs a round trip; for big bodies it buys following a
             * target's 307 (Smap change) before any byte went out. */
            st = rc ? rc
                    : s3_up_send(p->u, "PUT", p->path, p->hdrs, p->len,
                                 p->len < 0 || p->len > (int64_t)PUT_EXPECT_BYTES_MIN);
            if (st >= 0 || p->u == NULL || !s3_up_reused(p->u)) {
                break;
            }
            s3_up_close(p->u);
            p->u = NULL;
        }
        if (st < 0) {
            s3_err_rc(q, st, "target");
            return -1;
        }
        if (st == 0) {
            p->opened = 1;
            return 0;
        }
        const char *loc = s3_up_hdr(p->u, "Location");
        int status = s3_up_status(p->u);
        if (status != 307 || loc == NULL ||
            split_loc(loc, p->base, sizeof(p->base), p->path, sizeof(p->path)) != 0) {
            s3_up_drain(p->u);
            s3_up_close(p->u);
            p->u = NULL;
            up_err(q, status);
            return -1;
        }
        s3_up_drain(p->u);
        s3_up_close(p->u);
        p->u = NULL;
    }
    s3_err(q, S3_INTERNAL, "too many redirects");
    return -1;
}

/* Writing to the target failed: it may have answered early (an error, or a 307 we did not
 * wait for): map that answer, else report the I/O error. */
static void
put_write_err(struct s3_put *p, int rc)
{
    if (s3_up_head(p->u) == 0) {
        int st = s3_up_status(p->u);
        if (st == 307) {
            s3_err(p->q, S3_SLOW_DOWN, "the object's target changed, retry");
        } else {
            up_err(p->q, st);
        }
        return;
    }
    s3_err(p->q, S3_INTERNAL, "writing to the target: %s", ais_strerror(rc));
}

/* Decoded body bytes: checksums, then batched to the target, the last byte held back. */
static int
put_emit(void *arg, const char *data, size_t len)
{
    struct s3_put *p = arg;
    if (len == 0) {
        return 0;
    }
    if (p->len >= 0 && p->got + len > (uint64_t)p->len) {
        s3_err(p->q, S3_INCOMPLETE_BODY, "body longer than its declared length");
        return -1;
    }
    p->got += len;
    s3_ck_update(p->ck, data, len);
    s3_ck_update(p->sha, data, len);
    if (!p->opened && !p->defer && put_open(p) != 0) {
        return -1;
    }
    int rc = 0;
    while (len > 0 && rc == 0) {
        if (p->wlen == AIS_S3_IO_BYTES) {
            AIS_ASSERT(p->opened); /* a deferred body fits wbuf (its length is checked above) */
            rc = s3_up_write(p->u, p->wbuf, p->wlen - 1);
            p->wbuf[0] = p->wbuf[p->wlen - 1];
            p->wlen = 1;
        }
        size_t n = AIS_S3_IO_BYTES - p->wlen < len ? AIS_S3_IO_BYTES - p->wlen : len;
        memcpy(p->wbuf + p->wlen, data, n);
        p->wlen += n;
        data += n;
        len -= n;
    }
    if (rc != 0) {
        put_write_err(p, rc);
        return -1;
    }
    return 0;
}

static int
put_data(struct ais_req *r, const char *data, size_t len, void *arg)
{
    struct s3_put *p = arg;
    (void)r;
    if (p->dec != NULL) {
        int rc = s3_chunked_feed(p->dec, data, len, put_emit, p);
        if (rc == -EACCES && !ais_req_responded(p->q->r)) {
            s3_err(p->q, S3_SIGNATURE_MISMATCH, "aws-chunked chunk signature does not match");
        } else if (rc != 0 && !ais_req_responded(p->q->r)) {
            s3_err(p->q, S3_INCOMPLETE_BODY, "malformed aws-chunked body");
        }
        return rc;
    }
    return put_emit(p, data, len);
}

/* The verdict on the x-amz-checksum / content sha256: 0 ok, -1 answered. */
static int
put_verify(struct s3_put *p)
{
    char got[96];
    if (p->dec != NULL) {
        const char *tv = NULL;
        int rc = s3_chunked_finish(p->dec, &tv);
        if (rc == -EACCES) {
            s3_err(p->q, S3_SIGNATURE_MISMATCH, "aws-chunked trailer signature does not match");
            return -1;
        }
        if (rc != 0) {
            s3_err(p->q, S3_INCOMPLETE_BODY, "aws-chunked body ended early");
            return -1;
        }
        if (p->ck != NULL && tv != NULL) {
            snprintf(p->ck_want, sizeof(p->ck_want), "%s", tv);
        }
    }
    if (p->len >= 0 && p->got != (uint64_t)p->len) {
        s3_err(p->q, S3_INCOMPLETE_BODY, NULL);
        return -1;
    }
    if (p->ck != NULL) {
        s3_ck_final_b64(p->ck, got, sizeof(got));
        if (strcmp(got, p->ck_want) != 0) {
            s3_err(p->q, S3_BAD_DIGEST, "x-amz-checksum-%s: computed %s, expected %s",
                   s3_ck_name(p->ck), got, p->ck_want);
            return -1;
        }
        snprintf(p->md.ck_val, sizeof(p->md.ck_val), "%s", got);
    }
    if (p->sha != NULL) {
        s3_ck_final_hex(p->sha, got, sizeof(got));
        if (strcasecmp(got, p->sha_want) != 0) {
            s3_err(p->q, S3_SHA256_MISMATCH, NULL);
            return -1;
        }
    }
    return 0;
}

/*
 * A verified trailer checksum of a body too big to hold back: the md went to the target before
 * the checksum was known, so the stored object is rewritten onto itself with the checksum in
 * its md (its bytes read back through the target and checked against md5hex, the MD5 of what
 * this PUT stored, so an object that a later PUT replaced meanwhile is left alone). Costs a
 * second pass over the object; the PUT stands either way. 0 or negative errno.
 */
static int put_restamp(struct s3_put *p, const char *md5hex);

static void
put_done(struct ais_req *r, void *arg)
{
    struct s3_put *p = arg;
    char etag[96], md5[96];
    (void)r;
    if (put_verify(p) != 0) {
        s3_up_close(p->u); /* body incomplete upstream: the target drops it */
        p->u = NULL;
        return;
    }
    if (p->defer && put_hdrs(p->q, &p->md, p->hdrs, sizeof(p->hdrs)) != 0) {
        return; /* now with the verified trailer checksum */
    }
    if (!p->opened && put_open(p) != 0) {
        return;
    }
    int rc = p->wlen ? s3_up_write(p->u, p->wbuf, p->wlen) : 0;
    if (rc != 0) {
        put_write_err(p, rc);
        return;
    }
    rc = s3_up_head(p->u);
    if (rc != 0) {
        s3_err_rc(p->q, rc, "target");
        return;
    }
    int st = s3_up_status(p->u);
    if (st == 307) {
        st = 503; /* sent before the 100 we did not wait for: the client retries */
    }
    const char *cv = s3_up_hdr(p->u, "Ais-Checksum-Value");
    snprintf(etag, sizeof(etag), "\"%s\"", cv ? cv : "");
    snprintf(md5, sizeof(md5), "%s", cv ? cv : "");
    s3_up_drain(p->u);
    s3_up_close(p->u);
    p->u = NULL;
    if (st == 400 && ais_req_header(p->q->r, "Content-MD5") != NULL) {
        s3_err(p->q, S3_BAD_DIGEST, NULL);
        return;
    }
    if (st != 200) {
        up_err(p->q, st);
        return;
    }
    if (p->done_hook != NULL) {
        p->done_hook(p, etag);
        return;
    }
    if (p->ck_trailer && !p->defer && put_restamp(p, md5) != 0) {
        p->md.ck_alg[0] = '\0'; /* not kept: not claimed either */
    }
    ais_resp_empty(p->q->r, 200);
    s3_resp_std(p->q);
    ais_resp_header(p->q->r, "ETag", etag);
    if (p->md.ck_alg[0] != '\0') {
        char name[48];
        snprintf(name, sizeof(name), "x-amz-checksum-%s", p->md.ck_alg);
        ais_resp_header(p->q->r, name, p->md.ck_val);
    }
}

static void
put_cleanup(struct ais_req *r, void *arg, int ok)
{
    struct s3_put *p = arg;
    (void)r;
    (void)ok;
    s3_up_close(p->u);
    s3_chunked_free(p->dec);
    s3_ck_free(p->ck);
    s3_ck_free(p->sha);
    if (p->q->csig != NULL) {
        OPENSSL_cleanse(p->q->csig, sizeof(*p->q->csig));
    }
    free(p->hook_arg);
    free(p->wbuf);
    free(p);
}

/* Sets up checksums and framing from the request headers. 0 or answered (-1). */
static int
put_body_setup(struct s3_put *p)
{
    struct ais_req *r = p->q->r;
    const char *sha = ais_req_header(r, "x-amz-content-sha256");
    const char *dcl = ais_req_header(r, "x-amz-decoded-content-length");
    const char *ce = ais_req_header(r, "Content-Encoding");
    int chunked =
        (sha && strncmp(sha, "STREAMING-", 10) == 0) || (ce && strstr(ce, "aws-chunked") != NULL);
    p->len = ais_req_content_length(r);
    if (chunked) {
        char *end = NULL;
        p->len = dcl ? strtoll(dcl, &end, 10) : -1;
        if (dcl != NULL && (*end != '\0' || p->len < 0)) {
            s3_err(p->q, S3_INVALID_ARGUMENT, "bad x-amz-decoded-content-length");
            return -1;
        }
        int signed_chunks = sha && strstr(sha, "AWS4-HMAC-SHA256-PAYLOAD") != NULL;
        if (signed_chunks && p->q->csig == NULL && ais_config_rt_get(&p->q->s->cfg->rt.s3_auth)) {
            /* Chunk signatures chain from a SigV4 header signature; nothing else verifies them. */
            s3_err(p->q, S3_ACCESS_DENIED,
                   "signed aws-chunked body needs a SigV4 header signature");
            return -1;
        }
        if (s3_chunked_new(signed_chunks, p->q->csig, &p->dec) != 0) {
            s3_err(p->q, S3_INTERNAL, "out of memory");
            return -1;
        }
    } else if (p->len < 0 && ais_req_header(r, "Transfer-Encoding") == NULL) {
        s3_err(p->q, S3_MISSING_CONTENT_LENGTH, NULL);
        return -1;
    }
    int rc = s3_ck_from_req(r, &p->ck, p->ck_want, sizeof(p->ck_want), p->md.ck_alg,
                            sizeof(p->md.ck_alg));
    if (rc != 0) {
        s3_err(p->q, S3_INVALID_ARGUMENT, "unsupported or malformed x-amz-checksum");
        return -1;
    }
    if (ais_config_rt_get(&p->q->s->cfg->rt.s3_auth) && sha != NULL && strlen(sha) == 64) {
        snprintf(p->sha_want, sizeof(p->sha_want), "%s", sha);
        if (s3_ck_new("sha256", &p->sha) != 0) {
            s3_err(p->q, S3_INTERNAL, "out of memory");
            return -1;
        }
    }
    return 0;
}

struct s3_put *
s3_put_start(struct s3_rq *q, const char *bck, const char *key, size_t klen, const char *query)
{
    struct s3_put *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        s3_err(q, S3_INTERNAL, "out of memory");
        return NULL;
    }
    p->q = q;
    p->wbuf = malloc(AIS_S3_IO_BYTES);
    int rc = p->wbuf ? 0 : -ENOMEM;
    rc = rc ? rc : q->s->ops->obj_owner(q->s->ops->ctx, bck, key, p->base, sizeof(p->base));
    rc = rc ? rc : s3_v1_path(bck, key, klen, query, p->path, sizeof(p->path));
    if (rc != 0) {
        free(p->wbuf);
        free(p);
        s3_err_rc(q, rc, "owner");
        return NULL;
    }
    return p;
}

/* Finishes setting up p and streams the request body through it. */
void
s3_put_run(struct s3_put *p)
{
    int rc = put_body_setup(p);
    if (rc == 0 && p->ck != NULL && p->ck_want[0] != '\0') {
        /* Known up front (header, not trailer): stored with the object once verified. */
        snprintf(p->md.ck_val, sizeof(p->md.ck_val), "%s", p->ck_want);
    }
    if (rc != 0 || put_hdrs(p->q, &p->md, p->hdrs, sizeof(p->hdrs)) != 0) {
        put_cleanup(p->q->r, p, 0);
        return;
    }
    /* A trailer checksum is known only after the body, when the md went to the target long
     * ago; a body that fits the batch buffer is held whole and sent after the verdict, so its
     * checksum is stored like a header one. */
    p->ck_trailer = p->ck != NULL && p->ck_want[0] == '\0';
    p->defer = p->ck_trailer && p->len >= 0 && p->len <= (int64_t)AIS_S3_IO_BYTES;
    ais_req_discard_body(p->q->r, AIS_S3_FAIL_DRAIN_BYTES_MAX);
    ais_req_body_stream(p->q->r, put_data, put_done, put_cleanup, p);
}

void
s3_put_set_hook(struct s3_put *p, void (*hook)(struct s3_put *p, const char *etag), void *arg)
{
    p->done_hook = hook;
    p->hook_arg = arg;
}

void *
s3_put_hook_arg(struct s3_put *p)
{
    return p->hook_arg;
}

struct s3_rq *
s3_put_rq(struct s3_put *p)
{
    return p->q;
}

struct s3_md *
s3_put_md(struct s3_put *p)
{
    return &p->md;
}

static void
h_put(struct s3_rq *q)
{
    if (maybe_redirect(q)) {
        return;
    }
    if (!q->s->ops->bck_exists(q->s->ops->ctx, q->bck)) {
        s3_err(q, S3_NO_SUCH_BUCKET, NULL);
        return;
    }
    struct s3_put *p = s3_put_start(q, q->bck, q->key, q->key_len, NULL);
    if (p == NULL) {
        return;
    }
    if (s3_md_from_req(q->r, &p->md) != 0) {
        put_cleanup(q->r, p, 0);
        s3_err(q, S3_METADATA_TOO_LARGE, NULL);
        return;
    }
    p->md.mtime_s = ais_now_ns() / 1000000000;
    s3_put_run(p);
}

/* ---- copy ---- */

/* x-amz-copy-source "[/]bck/key[?versionId=..]" decoded into bck and key. 0 or -EINVAL. */
static int
copy_source(struct s3_rq *q, char *bck, size_t bcap, char *key, size_t kcap, size_t *klen)
{
    const char *src = ais_req_header(q->r, "x-amz-copy-source");
    char dec[AIS_OBJNAME_BYTES_MAX + AIS_BCKNAME_BYTES_MAX + 8];
    size_t n = 0;
    if (src == NULL) {
        return -EINVAL;
    }
    const char *qm = strchr(src, '?');
    size_t slen = qm ? (size_t)(qm - src) : strlen(src);
    if (s3_pct_decode(src, slen, dec, sizeof(dec), &n) != 0) {
        return -EINVAL;
    }
    const char *p = dec[0] == '/' ? dec + 1 : dec;
    const char *slash = strchr(p, '/');
    if (slash == NULL || (size_t)(slash - p) >= bcap || slash[1] == '\0' ||
        strlen(slash + 1) >= kcap) {
        return -EINVAL;
    }
    memcpy(bck, p, (size_t)(slash - p));
    bck[slash - p] = '\0';
    *klen = strlen(slash + 1);
    memcpy(key, slash + 1, *klen + 1);
    return 0;
}

/* Streams the source answer u into an upstream PUT at (base, path). 0 or negative errno. */
static int
copy_stream(struct s3_srv *s, struct s3_up *src, const char *base0, const char *path0,
            const char *hdrs, int64_t len, char *etag, size_t ecap)
{
    char base[128], path[AIS_URI_BYTES_MAX + 256];
    struct s3_up *u = NULL;
    int rc = 0;
    snprintf(base, sizeof(base), "%s", base0);
    snprintf(path, sizeof(path), "%s", path0);
    for (int hop = 0; hop < UP_HOPS_MAX; hop++) {
        rc = s3_up_open(s, base, 1, &u);
        rc = rc ? rc : s3_up_send(u, "PUT", path, hdrs, len, 1);
        if (rc != 1) {
            break;
        }
        const char *loc = s3_up_hdr(u, "Location");
        if (s3_up_status(u) != 307 || loc == NULL ||
            split_loc(loc, base, sizeof(base), path, sizeof(path)) != 0) {
            rc = -EIO;
            break;
        }
        s3_up_close(u);
        u = NULL;
    }
    char *buf = rc == 0 ? malloc(AIS_S3_IO_BYTES) : NULL;
    rc = rc ? rc : buf ? 0 : -ENOMEM;
    int64_t left = len;
    while (rc == 0 && left > 0) {
        ssize_t n = s3_up_read(src, buf, AIS_S3_IO_BYTES);
        rc = n > 0 ? s3_up_write(u, buf, (size_t)n) : n < 0 ? (int)n : -EIO;
        left -= n > 0 ? n : 0;
    }
    free(buf);
    rc = rc ? rc : s3_up_head(u);
    if (rc == 0) {
        const char *cv = s3_up_hdr(u, "Ais-Checksum-Value");
        rc = s3_up_status(u) == 200 ? 0 : s3_up_status(u) == 404 ? -ENOENT : -EIO;
        snprintf(etag, ecap, "\"%s\"", cv ? cv : "");
        s3_up_drain(u);
    }
    s3_up_close(u);
    return rc;
}

int
s3_copy_to(struct s3_rq *q, const char *dbck, const char *dkey, size_t dklen, const char *query,
           const struct s3_md *repl, const char *range, char *etag, size_t ecap, int64_t *mtime_s)
{
    char sbck[AIS_BCKNAME_BYTES_MAX + 1], skey[AIS_OBJNAME_BYTES_MAX + 1];
    char spath[AIS_URI_BYTES_MAX + 256], dpath[AIS_URI_BYTES_MAX + 256], base[128];
    char hdrs[2048] = "", rh[300] = "";
    size_t sklen = 0;
    struct s3_up *src = NULL;
    if (copy_source(q, sbck, sizeof(sbck), skey, sizeof(skey), &sklen) != 0) {
        s3_err(q, S3_INVALID_ARGUMENT, "bad x-amz-copy-source");
        return -1;
    }
    if (!q->s->ops->bck_exists(q->s->ops->ctx, sbck)) {
        s3_err(q, S3_NO_SUCH_BUCKET, "source bucket %s does not exist", sbck);
        return -1;
    }
    if (range != NULL) {
        snprintf(rh, sizeof(rh), "Range: %s\r\n", range);
    }
    int rc = s3_v1_path(sbck, skey, sklen, NULL, spath, sizeof(spath));
    rc = rc ? rc : up_call(q->s, sbck, skey, "GET", spath, rh, &src);
    if (rc != 0) {
        s3_err_rc(q, rc == -ENOENT ? -EIO : rc, "source");
        return -1;
    }
    int st = s3_up_status(src);
    if (st != 200 && st != 206) {
        s3_up_drain(src);
        s3_up_close(src);
        s3_err(q,
               st == 404   ? S3_NO_SUCH_KEY
               : st == 416 ? S3_INVALID_RANGE
                           : S3_INTERNAL,
               "copy source %s/%s: target answered %d", sbck, skey, st);
        return -1;
    }
    struct obj_attrs a;
    attrs_from_up(src, &a);
    struct s3_md md = repl ? *repl : a.md;
    md.etag[0] = '\0'; /* the copy is one part: its ETag is its MD5 */
    md.ck_alg[0] = '\0';
    md.mtime_s = ais_now_ns() / 1000000000;
    rc = put_hdrs(q, &md, hdrs, sizeof(hdrs));
    if (rc != 0) {
        s3_up_close(src);
        return -1;
    }
    rc = q->s->ops->obj_owner(q->s->ops->ctx, dbck, dkey, base, sizeof(base));
    rc = rc ? rc : s3_v1_path(dbck, dkey, dklen, query, dpath, sizeof(dpath));
    rc = rc ? rc : copy_stream(q->s, src, base, dpath, hdrs, a.size, etag, ecap);
    s3_up_close(src);
    if (rc != 0) {
        s3_err_rc(q, rc == -ENOENT ? -EIO : rc, "copy");
        return -1;
    }
    *mtime_s = md.mtime_s;
    return 0;
}

static void
h_copy(struct s3_rq *q)
{
    char etag[96], t[64];
    int64_t mt = 0;
    struct s3_md repl, *rp = NULL;
    const char *dir = ais_req_header(q->r, "x-amz-metadata-directive");
    if (!q->s->ops->bck_exists(q->s->ops->ctx, q->bck)) {
        s3_err(q, S3_NO_SUCH_BUCKET, NULL);
        return;
    }
    if (dir != NULL && strcasecmp(dir, "REPLACE") == 0) {
        memset(&repl, 0, sizeof(repl));
        if (s3_md_from_req(q->r, &repl) != 0) {
            s3_err(q, S3_METADATA_TOO_LARGE, NULL);
            return;
        }
        rp = &repl;
    } else if (dir != NULL && strcasecmp(dir, "COPY") != 0) {
        s3_err(q, S3_INVALID_ARGUMENT, "unknown x-amz-metadata-directive %s", dir);
        return;
    }
    if (s3_copy_to(q, q->bck, q->key, q->key_len, NULL, rp, NULL, etag, sizeof(etag), &mt) != 0) {
        return;
    }
    struct ais_buf b;
    ais_buf_init(&b, 4096);
    s3_time_iso(mt, t, sizeof(t));
    int err = s3_xml_begin(&b, "CopyObjectResult");
    err = err ? err : s3_xml_el(&b, "LastModified", t);
    err = err ? err : s3_xml_el(&b, "ETag", etag);
    err = err ? err : ais_buf_printf(&b, "</CopyObjectResult>");
    if (err != 0) {
        s3_err(q, S3_INTERNAL, "out of memory");
    } else {
        s3_resp_xml(q, 200, &b);
    }
    ais_buf_fini(&b);
}

/* Object sub-resources: 1 if the request named one (and was answered). */
static int
h_subresource(struct s3_rq *q)
{
    struct ais_req *r = q->r;
    static const char *const unsupported[] = {"retention", "legal-hold", "torrent",
                                              "restore",   "select",     "attributes"};
    int acl = s3_query_has(r, "acl"), tag = s3_query_has(r, "tagging");
    if ((acl || tag) && ais_req_is(r, "GET")) {
        if (acl) {
            s3_acl_reply(q);
        } else {
            s3_tagging_reply(q);
        }
        return 1;
    }
    if (acl || tag) {
        s3_err(q, S3_NOT_IMPLEMENTED, "object ACLs and tags are fixed");
        return 1;
    }
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
        if (s3_query_has(r, unsupported[i])) {
            s3_err(q, S3_NOT_IMPLEMENTED, "object sub-resource %s not supported", unsupported[i]);
            return 1;
        }
    }
    return 0;
}

void
s3_h_object(struct s3_rq *q)
{
    struct ais_req *r = q->r;
    if (h_subresource(q)) {
        return;
    }
    if (ais_req_is(r, "GET")) {
        h_get_head(q, 0);
    } else if (ais_req_is(r, "HEAD")) {
        h_get_head(q, 1);
    } else if (ais_req_is(r, "PUT") && ais_req_header(r, "x-amz-copy-source") != NULL) {
        h_copy(q);
    } else if (ais_req_is(r, "PUT")) {
        h_put(q);
    } else if (ais_req_is(r, "DELETE")) {
        h_delete(q);
    } else {
        s3_err(q, S3_METHOD_NOT_ALLOWED, NULL);
    }
}

/* ---- small objects and concatenation (multipart state and assembly) ---- */

int
s3_obj_get_small(struct s3_srv *s, const char *bck, const char *name, char *buf, size_t cap,
                 size_t *len)
{
    char path[AIS_URI_BYTES_MAX + 256];
    struct s3_up *u = NULL;
    int rc = s3_v1_path(bck, name, strlen(name), NULL, path, sizeof(path));
    rc = rc ? rc : up_call(s, bck, name, "GET", path, NULL, &u);
    if (rc != 0) {
        return rc == -ENOENT ? -EIO : rc;
    }
    int st = s3_up_status(u);
    int64_t cl = s3_up_clen(u);
    if (st != 200 || cl < 0 || (uint64_t)cl >= cap) {
        s3_up_drain(u);
        s3_up_close(u);
        return st == 404 ? -ENOENT : st != 200 ? -EIO : -E2BIG;
    }
    size_t got = 0;
    while (rc == 0 && got < (size_t)cl) {
        ssize_t n = s3_up_read(u, buf + got, (size_t)cl - got);
        rc = n > 0 ? 0 : n < 0 ? (int)n : -EIO;
        got += n > 0 ? (size_t)n : 0;
    }
    s3_up_close(u);
    if (rc == 0) {
        buf[got] = '\0';
        *len = got;
    }
    return rc;
}

/* Opens an upstream PUT of len bytes to the owner of (bck, name), following redirects. */
static int
put_open_to(struct s3_srv *s, const char *bck, const char *name, size_t nlen, const char *hdrs,
            int64_t len, struct s3_up **out)
{
    char base[128], path[AIS_URI_BYTES_MAX + 256];
    int rc = s->ops->obj_owner(s->ops->ctx, bck, name, base, sizeof(base));
    rc = rc ? rc : s3_v1_path(bck, name, nlen, NULL, path, sizeof(path));
    for (int hop = 0; rc == 0 && hop < UP_HOPS_MAX; hop++) {
        struct s3_up *u = NULL;
        rc = s3_up_open(s, base, 1, &u);
        rc = rc ? rc : s3_up_send(u, "PUT", path, hdrs, len, 1);
        if (rc == 0) {
            *out = u;
            return 0;
        }
        const char *loc = u ? s3_up_hdr(u, "Location") : NULL;
        if (rc == 1) {
            rc = (s3_up_status(u) == 307 && loc != NULL)
                     ? split_loc(loc, base, sizeof(base), path, sizeof(path))
                 : s3_up_status(u) == 404 ? -ENOENT
                                          : -EIO;
        }
        s3_up_close(u);
    }
    return rc ? rc : -ELOOP;
}

/* Reads the final answer of an upstream PUT and closes it: 0, -ENOENT, -EIO. */
static int
put_finish_up(struct s3_up *u, char *etag, size_t ecap)
{
    int rc = s3_up_head(u);
    if (rc == 0) {
        const char *cv = s3_up_hdr(u, "Ais-Checksum-Value");
        if (etag != NULL) {
            snprintf(etag, ecap, "\"%s\"", cv ? cv : "");
        }
        rc = s3_up_status(u) == 200 ? 0 : s3_up_status(u) == 404 ? -ENOENT : -EIO;
        s3_up_drain(u);
    }
    s3_up_close(u);
    return rc;
}

int
s3_obj_put_small(struct s3_srv *s, const char *bck, const char *name, const void *data, size_t len,
                 const char *custom)
{
    char hdrs[1200] = "";
    struct s3_up *u = NULL;
    if (custom != NULL && custom[0] != '\0') {
        snprintf(hdrs, sizeof(hdrs), "Ais-Custom-Md: %s\r\n", custom);
    }
    int rc = put_open_to(s, bck, name, strlen(name), hdrs, (int64_t)len, &u);
    rc = rc ? rc : s3_up_write(u, data, len);
    if (rc != 0) {
        s3_up_close(u);
        return rc;
    }
    return put_finish_up(u, NULL, 0);
}

/* Upstream PUT headers that store MD5 and md, and (md5hex not NULL) make the target check
 * the bytes against it. 0 or -E2BIG. */
static int
concat_hdrs(const struct s3_md *md, const char *md5hex, char *hdrs, size_t cap)
{
    char custom[1100];
    if (s3_md_encode(md, custom, sizeof(custom)) != 0 || strlen(custom) >= 1024) {
        return -E2BIG;
    }
    int n = snprintf(hdrs, cap, "Ais-Store-Cksum-Type: md5\r\n%s%s%s%s%s%s",
                     custom[0] ? "Ais-Custom-Md: " : "", custom, custom[0] ? "\r\n" : "",
                     md5hex ? "Ais-Checksum-Type: md5\r\nAis-Checksum-Value: " : "",
                     md5hex ? md5hex : "", md5hex ? "\r\n" : "");
    return n < 0 || (size_t)n >= cap ? -E2BIG : 0;
}

/* Streams the objects (bck, names[i]) of sizes[i] bytes into one upstream PUT of (bck, key). */
static int
concat_stream(struct s3_srv *s, const char *bck, const char *const *names, size_t n,
              const char *key, size_t klen, const char *hdrs, const uint64_t *sizes)
{
    uint64_t total = 0;
    struct s3_up *u = NULL;
    for (size_t i = 0; i < n; i++) {
        total += sizes[i];
    }
    int rc = put_open_to(s, bck, key, klen, hdrs, (int64_t)total, &u);
    char *buf = rc == 0 ? malloc(AIS_S3_IO_BYTES) : NULL;
    rc = rc ? rc : buf ? 0 : -ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[AIS_URI_BYTES_MAX + 256];
        struct s3_up *src = NULL;
        rc = s3_v1_path(bck, names[i], strlen(names[i]), NULL, path, sizeof(path));
        rc = rc ? rc : up_call(s, bck, names[i], "GET", path, NULL, &src);
        if (rc == 0 && (s3_up_status(src) != 200 || s3_up_clen(src) != (int64_t)sizes[i])) {
            rc = -EIO; /* a part changed under us: the assembly is abandoned */
        }
        for (int64_t left = (int64_t)sizes[i]; rc == 0 && left > 0;) {
            ssize_t got = s3_up_read(src, buf, AIS_S3_IO_BYTES);
            rc = got > 0 ? s3_up_write(u, buf, (size_t)got) : got < 0 ? (int)got : -EIO;
            left -= got > 0 ? got : 0;
        }
        s3_up_close(src);
    }
    free(buf);
    if (rc != 0) {
        s3_up_close(u); /* short body: the target drops the work file */
        return rc;
    }
    return put_finish_up(u, NULL, 0);
}

int
s3_concat_to(struct s3_srv *s, const char *bck, const char *const *names, size_t n, const char *key,
             size_t klen, const struct s3_md *md, const uint64_t *sizes)
{
    char hdrs[1400];
    int rc = concat_hdrs(md, NULL, hdrs, sizeof(hdrs));
    return rc ? rc : concat_stream(s, bck, names, n, key, klen, hdrs, sizes);
}

static int
put_restamp(struct s3_put *p, const char *md5hex)
{
    char hdrs[1400];
    const char *name = p->q->key;
    uint64_t size = p->got;
    int rc = concat_hdrs(&p->md, md5hex, hdrs, sizeof(hdrs));
    rc = rc ? rc
            : concat_stream(p->q->s, p->q->bck, &name, 1, p->q->key, p->q->key_len, hdrs, &size);
    if (rc != 0) {
        AIS_LOG_DBG("req=s3-put id=%s msg=\"checksum not kept\" err=%d", p->q->id, rc);
    }
    return rc;
}

/* The target's JSON error message of a failed relayed request (bounded read), or "". */
static void
relay_err_msg(struct s3_up *u, char *msg, size_t cap)
{
    char body[2048];
    size_t got = 0;
    int64_t cl = s3_up_clen(u);
    msg[0] = '\0';
    while (cl > 0 && got < (size_t)cl && got + 1 < sizeof(body)) {
        ssize_t n = s3_up_read(u, body + got, sizeof(body) - 1 - got);
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    body[got] = '\0';
    json_t *j = json_loads(body, 0, NULL);
    snprintf(msg, cap, "%s", j ? ais_json_str(j, "message", "") : "");
    json_decref(j);
}

void
s3_relay(struct s3_srv *s, struct ais_req *r, const char *base, const char *path, int head)
{
    char hdrs[512] = "", msg[1024];
    const char *range = ais_req_header(r, "Range");
    struct s3_up *u = NULL;
    if (range != NULL && !head && strlen(range) < 256 && strpbrk(range, "\r\n") == NULL) {
        snprintf(hdrs, sizeof(hdrs), "Range: %s\r\n", range);
    }
    int rc = up_call_at(s, base, head ? "HEAD" : "GET", path, hdrs, &u);
    if (rc != 0) {
        ais_resp_err(r, 502, "reverse proxy: no answer from the target: %s", ais_strerror(rc));
        return;
    }
    int st = s3_up_status(u);
    if (st != 200 && st != 206) {
        relay_err_msg(u, msg, sizeof(msg));
        s3_up_close(u);
        ais_resp_err(r, st >= 400 ? st : 502, "%s", msg[0] ? msg : "reverse proxy: target error");
        return;
    }
    char keep[4][256];
    static const char *const names[4] = {"Content-Range", "ETag", "Content-Type", "Ais-Version"};
    for (int i = 0; i < 4; i++) {
        const char *v = s3_up_hdr(u, names[i]);
        snprintf(keep[i], sizeof(keep[i]), "%s", v ? v : "");
    }
    int64_t size = s3_up_clen(u);
    if (head) {
        rc = ais_resp_head(r, 200, (uint64_t)(size < 0 ? 0 : size));
        s3_up_close(u);
    } else if (size <= 0) {
        rc = ais_resp_empty(r, st);
        s3_up_close(u);
    } else {
        rc = ais_resp_gen(r, st, (uint64_t)size, get_gen, u, get_free);
    }
    if (rc != 0) {
        ais_resp_err(r, 500, "out of memory");
        return;
    }
    for (int i = 0; i < 4; i++) {
        if (keep[i][0] != '\0') {
            ais_resp_header(r, names[i], keep[i]);
        }
    }
}
