/*
 * Design notes: SigV4 verification recomputes the client's signature: canonical request
 * (method, the raw path as sent, canonical query, the signed headers, payload hash), string to
 * sign, signing key from the configured secret, HMAC; a constant-time compare decides. The
 * path is taken as the client sent it (S3 signs the once-encoded path, and that is what is
 * on the wire). The payload hash is the x-amz-content-sha256 header as sent (UNSIGNED-PAYLOAD
 * for presigned URLs); for a PUT body with a hex hash the body is checked against it as it
 * streams (s3/obj.c). For a signed aws-chunked body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD
 * [-TRAILER]) the verified request leaves its signing key, date, scope and signature (the seed)
 * in the request, and the body decoder (s3/cksum.c) checks every chunk signature against them.
 */
#include "s3/sigv4.h"

#include "common/log.h"
#include "s3/cksum.h"
#include "s3/s3_int.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SIG_QUERY_PARAMS_MAX 64
#define SIG_CANON_BYTES (AIS_URI_BYTES_MAX * 3 + 8192)

static void
hmac(const unsigned char *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned n = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &n);
}

static void
hex32(const unsigned char d[32], char out[65])
{
    for (int i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
}

void
s3_sigv4_key(const char *secret, const char *date, const char *region, const char *service,
             unsigned char out[32])
{
    char k0[AIS_S3_KEY_BYTES_MAX + 8];
    unsigned char a[32], b[32];
    snprintf(k0, sizeof(k0), "AWS4%s", secret);
    hmac((const unsigned char *)k0, strlen(k0), date, a);
    hmac(a, 32, region, b);
    hmac(b, 32, service, a);
    hmac(a, 32, "aws4_request", out);
    OPENSSL_cleanse(k0, sizeof(k0));
}

void
s3_sigv4_hmac_hex(const unsigned char key[32], const char *msg, char out[65])
{
    unsigned char d[32];
    hmac(key, 32, msg, d);
    hex32(d, out);
}

void
s3_sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[32];
    unsigned n = 32;
    EVP_Digest(data, len, d, &n, EVP_sha256(), NULL);
    hex32(d, out);
}

struct qp {
    char *k, *v;
};

static int
qp_cmp(const void *a, const void *b)
{
    const struct qp *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

/* Decodes then re-encodes one component (AWS: all but unreserved, %XX uppercase). */
static char *
reencode(const char *s, size_t n)
{
    char *dec = malloc(n + 1), *enc = malloc(n * 3 + 1);
    size_t dl = 0;
    if (dec == NULL || enc == NULL || s3_pct_decode(s, n, dec, n + 1, &dl) != 0 ||
        s3_pct_encode(dec, dl, 0, enc, n * 3 + 1) != 0) {
        free(dec);
        free(enc);
        return NULL;
    }
    free(dec);
    return enc;
}

int
s3_sigv4_canon_query(const char *raw, int presigned, char *out, size_t cap)
{
    struct qp v[SIG_QUERY_PARAMS_MAX];
    size_t n = 0, o = 0;
    int rc = 0;
    const char *p = raw;
    while (p != NULL && *p != '\0' && rc == 0) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t kl = eq ? (size_t)(eq - p) : len;
        if (len > 0 && n == SIG_QUERY_PARAMS_MAX) {
            rc = -E2BIG;
        } else if (len > 0) {
            v[n].k = reencode(p, kl);
            v[n].v = reencode(eq ? eq + 1 : "", eq ? len - kl - 1 : 0);
            rc = (v[n].k && v[n].v) ? 0 : -EINVAL;
            n++;
        }
        p = end ? end + 1 : NULL;
    }
    if (rc == 0) {
        qsort(v, n, sizeof(v[0]), qp_cmp);
    }
    out[0] = '\0';
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (presigned && strcmp(v[i].k, "X-Amz-Signature") == 0) {
            continue;
        }
        int w = snprintf(out + o, cap - o, "%s%s=%s", o ? "&" : "", v[i].k, v[i].v);
        if (w < 0 || o + (size_t)w >= cap) {
            rc = -E2BIG;
        } else {
            o += (size_t)w;
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(v[i].k);
        free(v[i].v);
    }
    return rc;
}

/* The parsed credential and signature of a request. */
struct sig {
    char akid[128], date[16], region[64], service[16];
    char signed_hdrs[1024];
    char signature[80];
    char amz_date[32];
    const char *payload;
    int presigned;
    long expires;
};

/* Credential=AKID/date/region/service/aws4_request into s. 0 or -EINVAL. */
static int
parse_cred(const char *c, size_t n, struct sig *s)
{
    char tmp[512], term[32];
    if (n >= sizeof(tmp)) {
        return -EINVAL;
    }
    memcpy(tmp, c, n);
    tmp[n] = '\0';
    for (char *x = tmp; *x; x++) {
        *x = *x == '/' ? ' ' : *x;
    }
    if (sscanf(tmp, "%127s %15s %63s %15s %31s", s->akid, s->date, s->region, s->service, term) !=
            5 ||
        strcmp(term, "aws4_request") != 0) {
        return -EINVAL;
    }
    return 0;
}

/* Value of "name=" inside an Authorization header (up to ',' or end). */
static const char *
auth_field(const char *h, const char *name, size_t *len)
{
    const char *p = strstr(h, name);
    if (p == NULL) {
        return NULL;
    }
    p += strlen(name);
    const char *end = strchr(p, ',');
    *len = end ? (size_t)(end - p) : strlen(p);
    while (*len > 0 && p[*len - 1] == ' ') {
        (*len)--;
    }
    return p;
}

static enum s3_code
parse_header_auth(struct ais_req *r, const char *h, struct sig *s)
{
    size_t n = 0;
    const char *c = auth_field(h, "Credential=", &n);
    if (strncmp(h, "AWS4-HMAC-SHA256 ", 17) != 0 || c == NULL || parse_cred(c, n, s) != 0) {
        return S3_ACCESS_DENIED;
    }
    const char *sh = auth_field(h, "SignedHeaders=", &n);
    if (sh == NULL || n >= sizeof(s->signed_hdrs)) {
        return S3_ACCESS_DENIED;
    }
    memcpy(s->signed_hdrs, sh, n);
    s->signed_hdrs[n] = '\0';
    const char *sg = auth_field(h, "Signature=", &n);
    if (sg == NULL || n >= sizeof(s->signature)) {
        return S3_ACCESS_DENIED;
    }
    memcpy(s->signature, sg, n);
    s->signature[n] = '\0';
    const char *d = ais_req_header(r, "x-amz-date");
    snprintf(s->amz_date, sizeof(s->amz_date), "%s", d ? d : "");
    const char *pl = ais_req_header(r, "x-amz-content-sha256");
    s->payload = pl ? pl : "UNSIGNED-PAYLOAD";
    return S3_OK;
}

static enum s3_code
parse_query_auth(struct ais_req *r, struct sig *s)
{
    char v[512];
    if (s3_query(r, "X-Amz-Algorithm", v, sizeof(v)) != 1 || strcmp(v, "AWS4-HMAC-SHA256") != 0) {
        return S3_AUTH_QUERY_ERROR;
    }
    if (s3_query(r, "X-Amz-Credential", v, sizeof(v)) != 1 || parse_cred(v, strlen(v), s) != 0 ||
        s3_query(r, "X-Amz-Date", s->amz_date, sizeof(s->amz_date)) != 1 ||
        s3_query(r, "X-Amz-SignedHeaders", s->signed_hdrs, sizeof(s->signed_hdrs)) != 1 ||
        s3_query(r, "X-Amz-Signature", s->signature, sizeof(s->signature)) != 1 ||
        s3_query(r, "X-Amz-Expires", v, sizeof(v)) != 1) {
        return S3_AUTH_QUERY_ERROR;
    }
    char *end;
    s->expires = strtol(v, &end, 10);
    if (*end != '\0' || s->expires < 1 || s->expires > AIS_S3_PRESIGN_S_MAX) {
        return S3_AUTH_QUERY_ERROR;
    }
    s->presigned = 1;
    s->payload = "UNSIGNED-PAYLOAD";
    return S3_OK;
}

/* yyyymmddThhmmssZ as unix seconds, -1 if malformed. */
static int64_t
amz_time(const char *d)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(d, "%Y%m%dT%H%M%SZ", &tm);
    return (end && *end == '\0') ? (int64_t)timegm(&tm) : -1;
}

/* Canonical headers of the signed list ("host;x-amz-date"): 0 or -E2BIG / -ENOENT. */
static int
canon_headers(struct ais_req *r, const char *list, struct ais_buf *b)
{
    char name[128];
    const char *p = list;
    while (*p != '\0') {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0 || n >= sizeof(name)) {
            return -EINVAL;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        const char *v = ais_req_header(r, name);
        if (v == NULL) {
            return -ENOENT;
        }
        while (*v == ' ' || *v == '\t') {
            v++;
        }
        size_t vl = strlen(v);
        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) {
            vl--;
        }
        int err = ais_buf_printf(b, "%s:", name);
        for (size_t i = 0; i < vl && err == 0; i++) {
            if (v[i] == ' ' && i > 0 && v[i - 1] == ' ') {
                continue; /* sequential spaces collapse to one */
            }
            err = ais_buf_append(b, &v[i], 1);
        }
        err = err ? err : ais_buf_append(b, "\n", 1);
        if (err != 0) {
            return err;
        }
        p += n;
        if (*p == ';') {
            p++;
        }
    }
    return 0;
}

/* The secret of akid from s3.access_keys ("ID:SECRET" items), or NULL. */
static const char *
secret_of(const struct ais_config *cfg, const char *akid)
{
    size_t n = strlen(akid);
    for (size_t i = 0; i < cfg->ns3_keys; i++) {
        const char *k = cfg->s3_keys[i];
        if (strncmp(k, akid, n) == 0 && k[n] == ':') {
            return k + n + 1;
        }
    }
    return NULL;
}

/* Recomputes the signature: S3_OK or S3_SIGNATURE_MISMATCH. */
static enum s3_code
verify(struct s3_rq *q, const struct sig *s, const char *secret)
{
    struct ais_req *r = q->r;
    struct ais_buf cr;
    char *cq = malloc(SIG_CANON_BYTES);
    char hash[65], sig[65], scope[256], sts[512];
    unsigned char key[32];
    ais_buf_init(&cr, SIG_CANON_BYTES * 2);
    int err = cq ? s3_sigv4_canon_query(ais_req_raw_query(r), s->presigned, cq, SIG_CANON_BYTES)
                 : -ENOMEM;
    err =
        err ? err : ais_buf_printf(&cr, "%s\n%s\n%s\n", ais_req_method(r), ais_req_raw_path(r), cq);
    err = err ? err : canon_headers(r, s->signed_hdrs, &cr);
    err = err ? err : ais_buf_printf(&cr, "\n%s\n%s", s->signed_hdrs, s->payload);
    enum s3_code c = S3_SIGNATURE_MISMATCH;
    if (err == 0) {
        s3_sigv4_sha256_hex(cr.data, cr.len, hash);
        snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", s->date, s->region, s->service);
        snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s", s->amz_date, scope, hash);
        s3_sigv4_key(secret, s->date, s->region, s->service, key);
        s3_sigv4_hmac_hex(key, sts, sig);
        OPENSSL_cleanse(key, sizeof(key));
        if (strlen(s->signature) == 64 && CRYPTO_memcmp(sig, s->signature, 64) == 0) {
            c = S3_OK;
        }
    }
    if (c != S3_OK) {
        AIS_LOG_DBG("req=s3-auth id=%s msg=\"signature mismatch\" err=%d", q->id, err);
    }
    ais_buf_fini(&cr);
    free(cq);
    return c;
}

/* ---- SigV2 (what botocore still presigns with by default, and older clients sign with) ---- */

/* Sub-resources and overrides that are part of a V2 canonical resource (sorted when used). */
static const char *const v2_subres[] = {"accelerate",
                                        "acl",
                                        "cors",
                                        "delete",
                                        "lifecycle",
                                        "location",
                                        "logging",
                                        "notification",
                                        "object-lock",
                                        "partNumber",
                                        "policy",
                                        "replication",
                                        "requestPayment",
                                        "response-cache-control",
                                        "response-content-disposition",
                                        "response-content-encoding",
                                        "response-content-language",
                                        "response-content-type",
                                        "response-expires",
                                        "restore",
                                        "select",
                                        "select-type",
                                        "tagging",
                                        "torrent",
                                        "uploadId",
                                        "uploads",
                                        "versionId",
                                        "versioning",
                                        "versions",
                                        "website"};

static int
str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "?a&b=v" of the sub-resources in the raw query, values decoded. 0 or -E2BIG. */
static int
v2_subres_str(struct ais_req *r, struct ais_buf *b)
{
    const char *names[sizeof(v2_subres) / sizeof(v2_subres[0])];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(v2_subres) / sizeof(v2_subres[0]); i++) {
        if (s3_query_has(r, v2_subres[i])) {
            names[n++] = v2_subres[i];
        }
    }
    qsort(names, n, sizeof(names[0]), str_cmp);
    int err = 0;
    for (size_t i = 0; i < n && err == 0; i++) {
        char v[1024];
        int has = s3_query(r, names[i], v, sizeof(v));
        const char *eq = strstr(ais_req_raw_query(r), names[i]);
        int with_eq = eq && eq[strlen(names[i])] == '=';
        err = ais_buf_printf(b, "%s%s%s%s", i ? "&" : "?", names[i], with_eq ? "=" : "",
                             (has == 1 && with_eq) ? v : "");
    }
    return err;
}

struct amz_walk {
    const char *names[64];
    const char *values[64];
    size_t n;
};

static int
amz_hdr(void *arg, const char *name, const char *value)
{
    struct amz_walk *w = arg;
    if (strncasecmp(name, "x-amz-", 6) == 0 && w->n < 64) {
        w->names[w->n] = name;
        w->values[w->n++] = value;
    }
    return 0;
}

/* StringToSign of V2 for resource path; date_line is Expires (query) or the Date header. */
static int
v2_sts(struct ais_req *r, const char *date_line, const char *path, struct ais_buf *b)
{
    const char *md5 = ais_req_header(r, "Content-MD5");
    const char *ct = ais_req_header(r, "Content-Type");
    struct amz_walk w = {.n = 0};
    ais_req_header_each(r, amz_hdr, &w);
    int err = ais_buf_printf(b, "%s\n%s\n%s\n%s\n", ais_req_method(r), md5 ? md5 : "", ct ? ct : "",
                             date_line);
    /* x-amz-* headers, lowercase, sorted by name (insertion sort: a handful at most) */
    size_t idx[64];
    char low[64][128];
    for (size_t i = 0; i < w.n; i++) {
        snprintf(low[i], sizeof(low[i]), "%s", w.names[i]);
        for (char *c = low[i]; *c; c++) {
            *c = (char)tolower((unsigned char)*c);
        }
        idx[i] = i;
        for (size_t j = i; j > 0 && strcmp(low[idx[j - 1]], low[idx[j]]) > 0; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    }
    for (size_t i = 0; i < w.n && err == 0; i++) {
        err = ais_buf_printf(b, "%s:%s\n", low[idx[i]], w.values[idx[i]]);
    }
    err = err ? err : ais_buf_printf(b, "%s", path);
    return err ? err : v2_subres_str(r, b);
}

/* V2 signature over the raw path as sent, or the path without the /s3 endpoint prefix. */
static enum s3_code
v2_verify(struct s3_rq *q, const char *secret, const char *date_line, const char *sig_b64)
{
    const char *path = ais_req_raw_path(q->r);
    char vpath[AIS_URI_BYTES_MAX + AIS_BCKNAME_BYTES_MAX + 4];
    snprintf(vpath, sizeof(vpath), "/%s%s", q->bck, path); /* V2 signs /BUCKET/KEY */
    const char *paths[2] = {q->vhost ? vpath : path,
                            strncmp(path, "/s3/", 4) == 0 ? path + 3 : "/"};
    for (int i = 0; i < 2; i++) {
        struct ais_buf b;
        unsigned char d[20];
        unsigned n = sizeof(d);
        char got[40];
        ais_buf_init(&b, AIS_URI_BYTES_MAX * 2 + 8192);
        int err = v2_sts(q->r, date_line, paths[i], &b);
        if (err == 0) {
            HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)b.data, b.len, d,
                 &n);
            err = s3_b64_encode(d, n, got, sizeof(got));
        }
        ais_buf_fini(&b);
        if (err == 0 && strlen(got) == strlen(sig_b64) &&
            CRYPTO_memcmp(got, sig_b64, strlen(got)) == 0) {
            return S3_OK;
        }
    }
    return S3_SIGNATURE_MISMATCH;
}

static enum s3_code
v2_check(struct s3_rq *q, const char *auth)
{
    struct ais_req *r = q->r;
    char akid[128], sig[64], exp[32];
    const char *secret = NULL;
    if (auth != NULL) {
        const char *c = strchr(auth + 4, ':');
        if (c == NULL || (size_t)(c - auth - 4) >= sizeof(akid) || strlen(c + 1) >= sizeof(sig)) {
            return S3_ACCESS_DENIED;
        }
        snprintf(akid, sizeof(akid), "%.*s", (int)(c - auth - 4), auth + 4);
        snprintf(sig, sizeof(sig), "%s", c + 1);
        const char *date = ais_req_header(r, "x-amz-date") ? "" : ais_req_header(r, "Date");
        secret = secret_of(q->s->cfg, akid);
        return secret == NULL ? S3_INVALID_ACCESS_KEY : v2_verify(q, secret, date ? date : "", sig);
    }
    if (s3_query(r, "AWSAccessKeyId", akid, sizeof(akid)) != 1 ||
        s3_query(r, "Signature", sig, sizeof(sig)) != 1 ||
        s3_query(r, "Expires", exp, sizeof(exp)) != 1) {
        return S3_ACCESS_DENIED;
    }
    /* s3_query turned '+' (a base64 character sent unencoded) into a space: undo */
    for (char *c = sig; *c; c++) {
        *c = *c == ' ' ? '+' : *c;
    }
    secret = secret_of(q->s->cfg, akid);
    if (secret == NULL) {
        return S3_INVALID_ACCESS_KEY;
    }
    if (ais_now_ns() / 1000000000 > strtoll(exp, NULL, 10)) {
        return S3_EXPIRED;
    }
    return v2_verify(q, secret, exp, sig);
}

/* A verified header-signed request with a signed aws-chunked body: what its chunk
 * signatures chain from, kept in the request arena. 0 or -ENOMEM. */
static int
chunk_sig_save(struct s3_rq *q, const struct sig *s, const char *secret)
{
    if (s->presigned || strncmp(s->payload, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 34) != 0) {
        return 0;
    }
    struct s3_chunk_sig *cs = ais_req_alloc(q->r, sizeof(*cs));
    if (cs == NULL) {
        return -ENOMEM;
    }
    memset(cs, 0, sizeof(*cs));
    s3_sigv4_key(secret, s->date, s->region, s->service, cs->key);
    snprintf(cs->amz_date, sizeof(cs->amz_date), "%s", s->amz_date);
    snprintf(cs->scope, sizeof(cs->scope), "%s/%s/%s/aws4_request", s->date, s->region, s->service);
    for (size_t i = 0; i < 64; i++) {
        cs->seed[i] = (char)tolower((unsigned char)s->signature[i]);
    }
    cs->trailer = strcmp(s->payload + 34, "-TRAILER") == 0;
    q->csig = cs;
    return 0;
}

int
s3_auth_check(struct s3_rq *q)
{
    struct ais_req *r = q->r;
    struct sig s;
    memset(&s, 0, sizeof(s));
    const char *h = ais_req_header(r, "Authorization");
    enum s3_code c = S3_OK;
    if ((h != NULL && strncmp(h, "AWS ", 4) == 0) ||
        (h == NULL && s3_query_has(r, "AWSAccessKeyId") && s3_query_has(r, "Signature"))) {
        c = v2_check(q, h);
        if (c != S3_OK) {
            s3_err(q, c, NULL);
            return -1;
        }
        return 0;
    }
    if (h != NULL) {
        c = parse_header_auth(r, h, &s);
    } else if (s3_query_has(r, "X-Amz-Signature") || s3_query_has(r, "X-Amz-Credential")) {
        c = parse_query_auth(r, &s);
    } else {
        c = S3_ACCESS_DENIED;
    }
    int64_t t = c == S3_OK ? amz_time(s.amz_date) : -1;
    int64_t now = ais_now_ns() / 1000000000;
    const char *secret = c == S3_OK ? secret_of(q->s->cfg, s.akid) : NULL;
    if (c == S3_OK && t < 0) {
        c = s.presigned ? S3_AUTH_QUERY_ERROR : S3_ACCESS_DENIED;
    } else if (c == S3_OK && secret == NULL) {
        c = S3_INVALID_ACCESS_KEY;
    } else if (c == S3_OK && s.presigned && now > t + s.expires) {
        c = S3_EXPIRED;
    } else if (c == S3_OK && !s.presigned &&
               (now - t > AIS_S3_CLOCK_SKEW_S || t - now > AIS_S3_CLOCK_SKEW_S)) {
        c = S3_TIME_SKEWED;
    } else if (c == S3_OK) {
        c = verify(q, &s, secret);
    }
    if (c == S3_OK && chunk_sig_save(q, &s, secret) != 0) {
        c = S3_INTERNAL;
    }
    if (c == S3_OK) {
        return 0;
    }
    s3_err(q, c, NULL);
    return -1;
}
