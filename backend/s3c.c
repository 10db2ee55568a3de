/*
 * Design notes: aws and gcp through the S3 REST dialect over libcurl. Calls take an easy handle
 * from a bounded pool and give it back reset: a handle keeps its connections, so they stay
 * alive across calls and threads (no per-thread state to clean up when an HTTP thread exits),
 * and the share handle shares DNS. Signing
 * is libcurl's CURLOPT_AWS_SIGV4 with an UNSIGNED-PAYLOAD content hash, so bodies stream and
 * are never read twice. Addressing is path-style (endpoint/bucket/key): it works with every
 * S3-compatible server. Query parameters are written already sorted and encoded, so the
 * canonical request libcurl signs equals the one a server rebuilds.
 *
 * Each transfer is bounded: connect timeout, and a low-speed limit (1 byte/s over the stall
 * timeout) instead of a total timeout, so a large object that keeps moving never times out
 * while a stuck backend does. An error body is kept up to 4 KiB to report the backend's code
 * and message.
 */
#include "backend/backend.h"
#include "backend/bk_int.h"
#include "common/bmd.h"
#include "common/err.h"
#include "common/meta.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define BK_ERRBODY_BYTES 4096

#define BK_POOL_MAX 64 /* idle easy handles kept (each keeps its live connections) */

struct bk {
    struct bk_conf c;
    CURLSH *sh;
    pthread_mutex_t mu[CURL_LOCK_DATA_LAST];
    pthread_mutex_t pool_mu;
    size_t npool;
    CURL *pool[BK_POOL_MAX];
};

/* A handle from the pool (its connection cache still warm) or a new one. */
static CURL *
handle_take(struct bk *b)
{
    CURL *h = NULL;
    pthread_mutex_lock(&b->pool_mu);
    if (b->npool > 0) {
        h = b->pool[--b->npool];
    }
    pthread_mutex_unlock(&b->pool_mu);
    return h ? h : curl_easy_init();
}

/* Back to the pool: options reset, live connections kept. */
static void
handle_give(struct bk *b, CURL *h)
{
    curl_easy_reset(h);
    pthread_mutex_lock(&b->pool_mu);
    if (b->npool < BK_POOL_MAX) {
        b->pool[b->npool++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&b->pool_mu);
    if (h != NULL) {
        curl_easy_cleanup(h);
    }
}

static void
sh_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *arg)
{
    (void)h;
    (void)a;
    struct bk *b = arg;
    pthread_mutex_lock(&b->mu[d]);
}

static void
sh_unlock(CURL *h, curl_lock_data d, void *arg)
{
    (void)h;
    struct bk *b = arg;
    pthread_mutex_unlock(&b->mu[d]);
}

int
bk_new(const struct bk_conf *c, struct bk **out)
{
    struct bk *b = calloc(1, sizeof(*b));
    if (b == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(b);
        return -ENOMEM;
    }
    b->c = *c;
    if (b->c.connect_timeout_ms <= 0) {
        b->c.connect_timeout_ms = 5000;
    }
    if (b->c.stall_timeout_ms <= 0) {
        b->c.stall_timeout_ms = 30000;
    }
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) {
        pthread_mutex_init(&b->mu[i], NULL);
    }
    pthread_mutex_init(&b->pool_mu, NULL);
    b->sh = curl_share_init();
    if (b->sh == NULL) {
        bk_free(b);
        return -ENOMEM;
    }
    curl_share_setopt(b->sh, CURLSHOPT_LOCKFUNC, sh_lock);
    curl_share_setopt(b->sh, CURLSHOPT_UNLOCKFUNC, sh_unlock);
    curl_share_setopt(b->sh, CURLSHOPT_USERDATA, b);
    curl_share_setopt(b->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    *out = b;
    return 0;
}

void
bk_free(struct bk *b)
{
    if (b == NULL) {
        return;
    }
    for (size_t i = 0; i < b->npool; i++) {
        curl_easy_cleanup(b->pool[i]);
    }
    pthread_mutex_destroy(&b->pool_mu);
    if (b->sh != NULL) {
        curl_share_cleanup(b->sh);
    }
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) {
        pthread_mutex_destroy(&b->mu[i]);
    }
    curl_global_cleanup();
    free(b);
}

int
bk_provider_remote(const char *provider)
{
    return provider != NULL && (strcmp(provider, "aws") == 0 || strcmp(provider, "gcp") == 0 ||
                                strcmp(provider, "ht") == 0);
}

/* An ht:// bucket's origin from the current BMD (extra.http.original_url): 0 or -ENOENT. */
static int
ht_origin(struct bk *b, const char *bck, char *out, size_t cap)
{
    if (b->c.meta == NULL) {
        return -ENOENT;
    }
    struct ais_bmd *bmd = ais_meta_bmd(b->c.meta);
    const struct ais_bck_md *k = ais_bmd_find(bmd, "ht", "", bck);
    int rc = k != NULL && k->props.ht_origin[0] != '\0' ? 0 : -ENOENT;
    if (rc == 0) {
        snprintf(out, cap, "%s", k->props.ht_origin);
    }
    ais_bmd_unref(bmd);
    return rc;
}

static const struct bk_s3_conf *
prov_conf(const struct bk *b, const char *provider)
{
    if (strcmp(provider, "aws") == 0) {
        return &b->c.aws;
    }
    return strcmp(provider, "gcp") == 0 ? &b->c.gcp : NULL;
}

/* One call in flight: the handle, what the reply said, and the caller's receivers. */
struct call {
    struct bk *b;
    CURL *h;
    struct curl_slist *hdrs;
    const char *provider, *bck, *obj;
    struct bk_attrs attrs;
    uint64_t clen;        /* Content-Length of the reply */
    uint64_t range_total; /* from Content-Range "bytes a-b/total" */
    int attrs_sent;
    int cb_rc; /* a receiver's error that aborted the transfer */
    const struct bk_get_cb *cb;
    void *arg;
    char errbody[BK_ERRBODY_BYTES];
    char cerr[CURL_ERROR_SIZE];
    size_t errlen;
    int fd; /* PUT source */
    uint64_t put_off, put_size;
};

static long
call_status(const struct call *k)
{
    long st = 0;
    curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &st);
    return st;
}

static void
hdr_value(char *dst, size_t cap, const char *v, size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '"')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '"')) {
        n--;
    }
    snprintf(dst, cap, "%.*s", (int)(n < cap ? n : cap - 1), v);
}

static size_t
on_header(char *buf, size_t sz, size_t nit, void *arg)
{
    struct call *k = arg;
    size_t n = sz * nit;
    const char *colon = memchr(buf, ':', n);
    if (colon == NULL) {
        return n;
    }
    size_t kl = (size_t)(colon - buf), vl = n - kl - 1;
    const char *v = colon + 1;
    char tmp[256];
    if (kl == 4 && strncasecmp(buf, "ETag", 4) == 0) {
        hdr_value(k->attrs.etag, sizeof(k->attrs.etag), v, vl);
    } else if (kl == 16 && strncasecmp(buf, "x-amz-version-id", 16) == 0) {
        hdr_value(k->attrs.version, sizeof(k->attrs.version), v, vl);
    } else if (kl == 14 && strncasecmp(buf, "Content-Length", 14) == 0) {
        hdr_value(tmp, sizeof(tmp), v, vl);
        k->clen = strtoull(tmp, NULL, 10);
    } else if (kl == 13 && strncasecmp(buf, "Content-Range", 13) == 0) {
        hdr_value(tmp, sizeof(tmp), v, vl);
        const char *slash = strchr(tmp, '/');
        k->range_total = slash ? strtoull(slash + 1, NULL, 10) : 0;
    } else if (kl == 13 && strncasecmp(buf, "Last-Modified", 13) == 0) {
        hdr_value(tmp, sizeof(tmp), v, vl);
        time_t t = curl_getdate(tmp, NULL);
        k->attrs.mtime_ns = t > 0 ? (int64_t)t * 1000000000LL : 0;
    }
    return n;
}

/* The receivers hear of the object once, before its first byte (or at the end if empty). */
static int
attrs_deliver(struct call *k)
{
    if (k->attrs_sent) {
        return 0;
    }
    k->attrs_sent = 1;
    k->attrs.size = k->range_total ? k->range_total : k->clen;
    return (k->cb && k->cb->attrs) ? k->cb->attrs(k->arg, &k->attrs) : 0;
}

static size_t
on_data(char *buf, size_t sz, size_t nit, void *arg)
{
    struct call *k = arg;
    size_t n = sz * nit;
    long st = call_status(k);
    if (st < 200 || st > 299) {
        size_t room = sizeof(k->errbody) - 1 - k->errlen;
        size_t c = n < room ? n : room;
        memcpy(k->errbody + k->errlen, buf, c);
        k->errlen += c;
        k->errbody[k->errlen] = '\0';
        return n;
    }
    int rc = attrs_deliver(k);
    if (rc == 0 && k->cb && k->cb->data) {
        rc = k->cb->data(k->arg, buf, n);
    }
    if (rc != 0) {
        k->cb_rc = rc;
        return 0; /* CURLE_WRITE_ERROR: the transfer stops */
    }
    return n;
}

static size_t
on_read(char *buf, size_t sz, size_t nit, void *arg)
{
    struct call *k = arg;
    size_t want = sz * nit;
    uint64_t left = k->put_size - k->put_off;
    if (left < want) {
        want = (size_t)left;
    }
    if (want == 0) {
        return 0;
    }
    ssize_t got = pread(k->fd, buf, want, (off_t)k->put_off);
    if (got <= 0) {
        k->cb_rc = got < 0 ? -errno : -EIO;
        return CURL_READFUNC_ABORT;
    }
    k->put_off += (uint64_t)got;
    return (size_t)got;
}

/* RFC 3986 encoding of s into dst (keeps '/' when keep_slash). */
static void
url_encode(char *dst, size_t cap, const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '%';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        }
    }
    dst[o] = '\0';
}

static void
endpoint_of(const struct bk_s3_conf *pc, const char *provider, char *dst, size_t cap)
{
    if (pc->endpoint[0] != '\0') {
        size_t n = strlen(pc->endpoint);
        while (n > 0 && pc->endpoint[n - 1] == '/') {
            n--;
        }
        snprintf(dst, cap, "%.*s", (int)n, pc->endpoint);
    } else if (strcmp(provider, "gcp") == 0) {
        snprintf(dst, cap, "https://storage.googleapis.com");
    } else {
        snprintf(dst, cap, "https://s3.%s.amazonaws.com", pc->region[0] ? pc->region : "us-east-1");
    }
}

/* Prepares k->h for METHOD endpoint/bck[/obj][?query]. 0, -ENOTSUP or -ENOMEM. */
static int
call_init(struct bk *b, struct call *k, const char *provider, const char *bck, const char *obj,
          const char *query)
{
    static const struct bk_s3_conf anon;
    char origin[256] = "";
    int ht = strcmp(provider, "ht") == 0;
    const struct bk_s3_conf *pc = ht ? &anon : prov_conf(b, provider);
    if (pc == NULL) {
        return -ENOTSUP;
    }
    if (ht && ht_origin(b, bck, origin, sizeof(origin)) != 0) {
        return -ENOENT;
    }
    k->fd = -1;
    k->provider = provider;
    k->bck = bck;
    k->obj = obj;
    k->b = b;
    k->h = handle_take(b);
    if (k->h == NULL) {
        return -ENOMEM;
    }
    size_t cap = BK_URL_BYTES + 3 * 1024 * 3 + 512;
    char *url = malloc(cap), *enc = malloc(3 * 1024 * 3 + 1), ep[BK_URL_BYTES];
    if (url == NULL || enc == NULL) {
        free(url);
        free(enc);
        return -ENOMEM;
    }
    url_encode(enc, 3 * 1024 * 3 + 1, obj ? obj : "", 1);
    if (ht) { /* origin + name: "http://host/dir/" + "a/b.jpg" */
        size_t n = strlen(origin);
        snprintf(url, cap, "%s%s%s", origin, n > 0 && origin[n - 1] == '/' ? "" : "/", enc);
    } else {
        endpoint_of(pc, provider, ep, sizeof(ep));
        snprintf(url, cap, "%s/%s%s%s%s%s", ep, bck, obj ? "/" : "", enc, query ? "?" : "",
                 query ? query : "");
    }
    if (ht) {
        curl_easy_setopt(k->h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(k->h, CURLOPT_MAXREDIRS, 5L);
    }
    curl_easy_setopt(k->h, CURLOPT_URL, url);
    free(url);
    free(enc);
    curl_easy_setopt(k->h, CURLOPT_SHARE, b->sh);
    curl_easy_setopt(k->h, CURLOPT_ERRORBUFFER, k->cerr);
    curl_easy_setopt(k->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(k->h, CURLOPT_CONNECTTIMEOUT_MS, (long)b->c.connect_timeout_ms);
    curl_easy_setopt(k->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(k->h, CURLOPT_LOW_SPEED_TIME, (long)((b->c.stall_timeout_ms + 999) / 1000));
    curl_easy_setopt(k->h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(k->h, CURLOPT_HEADERDATA, k);
    curl_easy_setopt(k->h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(k->h, CURLOPT_WRITEDATA, k);
    curl_easy_setopt(k->h, CURLOPT_BUFFERSIZE, 256L * 1024);
    if (pc->key[0] != '\0') {
        char sig[128], up[2 * BK_KEY_BYTES + 2];
        snprintf(sig, sizeof(sig), "aws:amz:%s:s3",
                 pc->region[0] ? pc->region
                               : (strcmp(provider, "gcp") == 0 ? "auto" : "us-east-1"));
        snprintf(up, sizeof(up), "%s:%s", pc->key, pc->secret);
        curl_easy_setopt(k->h, CURLOPT_AWS_SIGV4, sig);
        curl_easy_setopt(k->h, CURLOPT_USERPWD, up);
        k->hdrs = curl_slist_append(k->hdrs, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
        if (pc->token[0] != '\0') {
            char tok[BK_TOKEN_BYTES + 32];
            snprintf(tok, sizeof(tok), "x-amz-security-token: %s", pc->token);
            k->hdrs = curl_slist_append(k->hdrs, tok);
        }
    }
    k->hdrs = curl_slist_append(k->hdrs, "Expect:");
    return 0;
}

static void
call_fini(struct call *k)
{
    if (k->h != NULL) {
        handle_give(k->b, k->h);
    }
    curl_slist_free_all(k->hdrs);
}

/* "<Code>X</Code>" and "<Message>Y</Message>" of an S3 error body (best effort, bounded). */
static void
xml_tag(const char *body, const char *tag, char *dst, size_t cap)
{
    char open[32], close[32];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *a = strstr(body, open);
    const char *e = a ? strstr(a, close) : NULL;
    dst[0] = '\0';
    if (a != NULL && e != NULL) {
        a += strlen(open);
        snprintf(dst, cap, "%.*s", (int)(e - a), a);
    }
}

static void
name_of(const struct call *k, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s://%s%s%s", k->provider, k->bck, k->obj ? "/" : "", k->obj ? k->obj : "");
}

/* Maps the finished transfer to 0 / negative errno and err. */
static int
call_result(struct call *k, CURLcode cc, struct bk_err *err)
{
    char who[1200], code[128], msg[300];
    name_of(k, who, sizeof(who));
    long st = call_status(k);
    if (k->cb_rc != 0) {
        if (err->status == 0) { /* the receiver may have said why itself */
            snprintf(err->msg, sizeof(err->msg), "%.300s: transfer stopped: %s", who,
                     ais_strerror(k->cb_rc));
            err->status = k->cb_rc == -ENOSPC ? 507 : 500;
        }
        return k->cb_rc;
    }
    if (cc != CURLE_OK) {
        int timeout = cc == CURLE_OPERATION_TIMEDOUT;
        int conn = cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST;
        err->status = timeout ? 504 : 502;
        snprintf(err->msg, sizeof(err->msg), "%.300s: backend %s: %s (%.200s)", who,
                 timeout ? "timed out" : "unreachable", curl_easy_strerror(cc), k->cerr);
        return timeout ? -ETIMEDOUT : conn ? -ECONNREFUSED : -EIO;
    }
    if (st >= 200 && st <= 299) {
        return 0;
    }
    xml_tag(k->errbody, "Code", code, sizeof(code));
    xml_tag(k->errbody, "Message", msg, sizeof(msg));
    snprintf(err->msg, sizeof(err->msg), "%.200s: backend answered %ld%s%.60s%s%.200s", who, st,
             code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
    if (st == 404) {
        err->status = 404;
        return -ENOENT;
    }
    if (st == 401 || st == 403) {
        err->status = 403;
        return -EACCES;
    }
    if (st == 416) {
        err->status = 416;
        return -ERANGE;
    }
    if (st == 400) {
        err->status = 400;
        return -EINVAL;
    }
    err->status = 502;
    return -EIO;
}

static int
perform(struct call *k, struct bk_err *err)
{
    curl_easy_setopt(k->h, CURLOPT_HTTPHEADER, k->hdrs);
    CURLcode cc = curl_easy_perform(k->h);
    int rc = call_result(k, cc, err);
    if (rc == 0) {
        rc = attrs_deliver(k); /* empty object: no data callback ran */
    }
    return rc;
}

/* ht:// origins are read-only and cannot be listed: -ENOTSUP with a clear message. */
static int
ht_refuse(const char *provider, const char *bck, const char *what, struct bk_err *err)
{
    if (strcmp(provider, "ht") != 0) {
        return 0;
    }
    err->status = 405;
    snprintf(err->msg, sizeof(err->msg), "ht://%s: %s", bck, what);
    return -ENOTSUP;
}

int
bk_head_bucket(struct bk *b, const char *provider, const char *bck, struct bk_err *err)
{
    if (strcmp(provider, "ht") == 0) { /* known by its origin in the BMD, nothing to ask */
        char origin[256];
        int rc = ht_origin(b, bck, origin, sizeof(origin));
        if (rc != 0) {
            err->status = 404;
            snprintf(err->msg, sizeof(err->msg),
                     "ht://%s has no origin: create it with extra.http.original_url", bck);
        }
        return rc;
    }
    struct call k = {0};
    int rc = call_init(b, &k, provider, bck, NULL, NULL);
    if (rc == 0) {
        curl_easy_setopt(k.h, CURLOPT_NOBODY, 1L);
        rc = perform(&k, err);
    } else {
        snprintf(err->msg, sizeof(err->msg), "provider \"%s\" is not supported", provider);
        err->status = 400;
    }
    call_fini(&k);
    return rc;
}

int
bk_head_obj(struct bk *b, const char *provider, const char *bck, const char *obj,
            struct bk_attrs *out, struct bk_err *err)
{
    struct call k = {0};
    int rc = call_init(b, &k, provider, bck, obj, NULL);
    if (rc == 0) {
        curl_easy_setopt(k.h, CURLOPT_NOBODY, 1L);
        rc = perform(&k, err);
    }
    if (rc == 0) {
        *out = k.attrs;
    }
    call_fini(&k);
    return rc;
}

int
bk_get_obj(struct bk *b, const char *provider, const char *bck, const char *obj, uint64_t off,
           uint64_t len, const struct bk_get_cb *cb, void *arg, struct bk_err *err)
{
    struct call k = {0};
    int rc = call_init(b, &k, provider, bck, obj, NULL);
    if (rc == 0) {
        k.cb = cb;
        k.arg = arg;
        if (len > 0) {
            char range[64];
            snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, off, off + len - 1);
            curl_easy_setopt(k.h, CURLOPT_RANGE, range);
        }
        rc = perform(&k, err);
    }
    call_fini(&k);
    return rc;
}

int
bk_put_obj(struct bk *b, const char *provider, const char *bck, const char *obj, int fd,
           uint64_t size, struct bk_attrs *out, struct bk_err *err)
{
    int refused = ht_refuse(provider, bck, "a read-only HTTP(S) origin: PUT is not supported", err);
    if (refused != 0) {
        return refused;
    }
    struct call k = {0};
    int rc = call_init(b, &k, provider, bck, obj, NULL);
    if (rc == 0) {
        k.fd = fd;
        k.put_size = size;
        curl_easy_setopt(k.h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(k.h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(k.h, CURLOPT_READDATA, &k);
        curl_easy_setopt(k.h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
        rc = perform(&k, err);
    }
    if (rc == 0 && out != NULL) {
        k.attrs.size = size;
        *out = k.attrs;
    }
    call_fini(&k);
    return rc;
}

int
bk_delete_obj(struct bk *b, const char *provider, const char *bck, const char *obj,
              struct bk_err *err)
{
    int refused =
        ht_refuse(provider, bck, "a read-only HTTP(S) origin: DELETE is not supported", err);
    if (refused != 0) {
        return refused;
    }
    struct call k = {0};
    int rc = call_init(b, &k, provider, bck, obj, NULL);
    if (rc == 0) {
        curl_easy_setopt(k.h, CURLOPT_CUSTOMREQUEST, "DELETE");
        rc = perform(&k, err);
    }
    call_fini(&k);
    return rc;
}

/* Collects the reply body of a listing (bounded: a page of 1000 keys is well under this). */
struct listbuf {
    char *p;
    size_t n, cap;
};

static int
list_data(void *arg, const char *buf, size_t len)
{
    struct listbuf *lb = arg;
    if (lb->n + len + 1 > BK_LIST_REPLY_BYTES_MAX) {
        return -EFBIG;
    }
    if (lb->n + len + 1 > lb->cap) {
        size_t cap = lb->cap ? lb->cap * 2 : 64 * 1024;
        while (cap < lb->n + len + 1) {
            cap *= 2;
        }
        char *p = realloc(lb->p, cap);
        if (p == NULL) {
            return -ENOMEM;
        }
        lb->p = p;
        lb->cap = cap;
    }
    memcpy(lb->p + lb->n, buf, len);
    lb->n += len;
    lb->p[lb->n] = '\0';
    return 0;
}

int
bk_list_page(struct bk *b, const char *provider, const char *bck, const char *prefix,
             const char *token, uint32_t max, struct bk_page *out, struct bk_err *err)
{
    int refused = ht_refuse(provider, bck, "an HTTP(S) origin cannot be listed", err);
    if (refused != 0) {
        return refused;
    }
    char q[3 * 2048 + 128], ep[3 * 1024 + 1], et[3 * 1024 + 1];
    struct listbuf lb = {0};
    struct bk_get_cb cb = {.data = list_data};
    struct call k = {0};
    max = max == 0 || max > 1000 ? 1000 : max;
    url_encode(ep, sizeof(ep), prefix ? prefix : "", 0);
    url_encode(et, sizeof(et), token ? token : "", 0);
    /* ListObjects (v1): marker = start after a name, the token AIS listings use, and every
     * S3-compatible server has it. Sorted by name, as the canonical request wants them. */
    snprintf(q, sizeof(q), "%s%s%smax-keys=%u&prefix=%s", et[0] ? "marker=" : "", et,
             et[0] ? "&" : "", max, ep);
    int rc = call_init(b, &k, provider, bck, NULL, q);
    if (rc == 0) {
        k.cb = &cb;
        k.arg = &lb;
        rc = perform(&k, err);
    }
    if (rc == 0) {
        rc = bk_list_parse(lb.p ? lb.p : "", lb.n, out);
        if (rc != 0) {
            err->status = 502;
            snprintf(err->msg, sizeof(err->msg), "%s://%s: malformed list reply from the backend",
                     provider, bck);
        }
    }
    call_fini(&k);
    free(lb.p);
    return rc;
}
