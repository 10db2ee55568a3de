/*
 * Design notes: the entry of /s3. A request is parsed once into struct s3_rq (bucket, decoded
 * key, request id) from the raw path, since S3 clients percent-encode keys their own way and
 * the edge's decoded path would turn "+" and "%2F" into something else. Errors are S3 XML
 * (code, message, resource, request id) with the status S3 uses for the code; HEAD errors
 * carry no body, as S3 clients expect. Authentication (SigV4) runs before dispatch when the
 * s3.auth knob is on.
 */
#include "common/assert.h"
#include "common/err.h"
#include "common/log.h"
#include "common/names.h"
#include "s3/s3_int.h"
#include "s3/sigv4.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    int status;
    const char *name;
    const char *msg;
} codes[S3_CODE_N] = {
    [S3_OK] = {200, "OK", ""},
    [S3_ACCESS_DENIED] = {403, "AccessDenied", "Access Denied"},
    [S3_BAD_DIGEST] = {400, "BadDigest",
                       "The Content-MD5 or checksum you specified did not match what we received."},
    [S3_BUCKET_EXISTS] = {409, "BucketAlreadyOwnedByYou",
                          "Your previous request to create the named bucket succeeded and you "
                          "already own it."},
    [S3_BUCKET_NOT_EMPTY] = {409, "BucketNotEmpty", "The bucket you tried to delete is not empty"},
    [S3_ENTITY_TOO_SMALL] = {400, "EntityTooSmall",
                             "Your proposed upload is smaller than the minimum allowed object "
                             "size."},
    [S3_ENTITY_TOO_LARGE] = {400, "EntityTooLarge", "Your proposed upload exceeds the maximum."},
    [S3_INCOMPLETE_BODY] = {400, "IncompleteBody",
                            "You did not provide the number of bytes specified by the "
                            "Content-Length HTTP header."},
    [S3_INTERNAL] = {500, "InternalError", "We encountered an internal error. Please try again."},
    [S3_INVALID_ACCESS_KEY] = {403, "InvalidAccessKeyId",
                               "The AWS access key Id you provided does not exist in our records."},
    [S3_INVALID_ARGUMENT] = {400, "InvalidArgument", "Invalid Argument"},
    [S3_INVALID_BUCKET_NAME] = {400, "InvalidBucketName", "The specified bucket is not valid."},
    [S3_INVALID_DIGEST] = {400, "InvalidDigest", "The Content-MD5 you specified is not valid."},
    [S3_INVALID_PART] = {400, "InvalidPart",
                         "One or more of the specified parts could not be found."},
    [S3_INVALID_PART_ORDER] = {400, "InvalidPartOrder",
                               "The list of parts was not in ascending order."},
    [S3_INVALID_RANGE] = {416, "InvalidRange", "The requested range is not satisfiable"},
    [S3_INVALID_REQUEST] = {400, "InvalidRequest", "Invalid Request"},
    [S3_KEY_TOO_LONG] = {400, "KeyTooLongError", "Your key is too long"},
    [S3_MALFORMED_XML] = {400, "MalformedXML",
                          "The XML you provided was not well-formed or did not validate against "
                          "our published schema"},
    [S3_METADATA_TOO_LARGE] = {400, "MetadataTooLarge",
                               "Your metadata headers exceed the maximum allowed metadata size."},
    [S3_METHOD_NOT_ALLOWED] = {405, "MethodNotAllowed",
                               "The specified method is not allowed against this resource."},
    [S3_MISSING_CONTENT_LENGTH] = {411, "MissingContentLength",
                                   "You must provide the Content-Length HTTP header."},
    [S3_NO_SUCH_BUCKET] = {404, "NoSuchBucket", "The specified bucket does not exist"},
    [S3_NO_SUCH_KEY] = {404, "NoSuchKey", "The specified key does not exist."},
    [S3_NO_SUCH_UPLOAD] = {404, "NoSuchUpload", "The specified upload does not exist."},
    [S3_NOT_IMPLEMENTED] = {501, "NotImplemented",
                            "A header you provided implies functionality that is not "
                            "implemented"},
    [S3_PRECONDITION_FAILED] = {412, "PreconditionFailed",
                                "At least one of the pre-conditions you specified did not hold"},
    [S3_SIGNATURE_MISMATCH] = {403, "SignatureDoesNotMatch",
                               "The request signature we calculated does not match the "
                               "signature you provided."},
    [S3_AUTH_QUERY_ERROR] = {400, "AuthorizationQueryParametersError",
                             "Query-string authentication parameters are invalid"},
    [S3_TIME_SKEWED] = {403, "RequestTimeTooSkewed",
                        "The difference between the request time and the current time is too "
                        "large."},
    [S3_EXPIRED] = {403, "AccessDenied", "Request has expired"},
    [S3_SHA256_MISMATCH] = {400, "XAmzContentSHA256Mismatch",
                            "The provided 'x-amz-content-sha256' header does not match what was "
                            "computed."},
    [S3_SLOW_DOWN] = {503, "SlowDown", "Please reduce your request rate."},
};

int
s3_code_status(enum s3_code c)
{
    AIS_ASSERT(c < S3_CODE_N);
    return codes[c].status;
}

const char *
s3_code_name(enum s3_code c)
{
    AIS_ASSERT(c < S3_CODE_N);
    return codes[c].name;
}

void
s3_resp_std(struct s3_rq *q)
{
    ais_resp_header(q->r, "x-amz-request-id", q->id);
    ais_resp_header(q->r, "x-amz-id-2", q->id);
    ais_resp_header(q->r, "Server", "AIStore-C");
}

void
s3_err(struct s3_rq *q, enum s3_code c, const char *fmt, ...)
{
    char msg[512];
    struct ais_buf b;
    int status = s3_code_status(c);
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
    } else {
        snprintf(msg, sizeof(msg), "%s", codes[c].msg);
    }
    AIS_LOG_DBG("req=s3:%s:%s id=%s code=%s msg=\"%s\"", ais_req_method(q->r), ais_req_path(q->r),
                q->id, codes[c].name, msg);
    if (ais_req_is(q->r, "HEAD")) {
        ais_resp_empty(q->r, status);
        s3_resp_std(q);
        return;
    }
    ais_buf_init(&b, 16384);
    int err = ais_buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    err = err ? err : s3_xml_el(&b, "Code", codes[c].name);
    err = err ? err : s3_xml_el(&b, "Message", msg);
    if (err == 0 && q->bck[0] != '\0') {
        err = s3_xml_el(&b, "BucketName", q->bck);
    }
    if (err == 0 && q->key != NULL && q->key[0] != '\0') {
        err = s3_xml_el(&b, "Key", q->key);
    }
    err = err ? err : s3_xml_el(&b, "Resource", ais_req_path(q->r));
    err = err ? err : s3_xml_el(&b, "RequestId", q->id);
    err = err ? err : ais_buf_printf(&b, "</Error>");
    if (err != 0) {
        ais_resp_buf(q->r, status, "application/xml", codes[c].name, strlen(codes[c].name));
    } else {
        ais_resp_buf(q->r, status, "application/xml", b.data, b.len);
    }
    s3_resp_std(q);
    ais_buf_fini(&b);
}

void
s3_err_rc(struct s3_rq *q, int rc, const char *what)
{
    switch (rc) {
    case -ENOENT:
        s3_err(q, q->key && q->key[0] ? S3_NO_SUCH_KEY : S3_NO_SUCH_BUCKET, NULL);
        return;
    case -EAGAIN:
    case AIS_ENOTPRIMARY:
        s3_err(q, S3_SLOW_DOWN, "%s: %s", what, ais_strerror(rc));
        return;
    default:
        s3_err(q, S3_INTERNAL, "%s: %s", what, ais_strerror(rc));
    }
}

void
s3_resp_xml(struct s3_rq *q, int status, const struct ais_buf *b)
{
    if (ais_resp_buf(q->r, status, "application/xml", b->data, b->len) != 0) {
        s3_err(q, S3_INTERNAL, "out of memory");
        return;
    }
    s3_resp_std(q);
}

/* Finds key in the raw query: pointer to the value (or to the end of the name), its length. */
static const char *
query_find(const char *raw, const char *key, size_t *vlen, int *has_eq)
{
    size_t klen = strlen(key);
    const char *p = raw;
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n >= klen && strncmp(p, key, klen) == 0 && (n == klen || p[klen] == '=')) {
            *has_eq = n > klen;
            *vlen = n > klen ? n - klen - 1 : 0;
            return n > klen ? p + klen + 1 : p + klen;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

int
s3_query(const struct ais_req *r, const char *key, char *out, size_t cap)
{
    size_t vlen = 0, n = 0;
    int eq = 0;
    const char *v = query_find(ais_req_raw_query(r), key, &vlen, &eq);
    if (v == NULL) {
        return 0;
    }
    /* '+' in a query value is a space (form encoding, which SDKs never send for a '+'). */
    char tmp[AIS_OBJNAME_BYTES_MAX * 3 + 1];
    if (vlen >= sizeof(tmp)) {
        return -1;
    }
    for (size_t i = 0; i < vlen; i++) {
        tmp[i] = v[i] == '+' ? ' ' : v[i];
    }
    if (s3_pct_decode(tmp, vlen, out, cap, &n) != 0) {
        return -1;
    }
    return 1;
}

int
s3_query_has(const struct ais_req *r, const char *key)
{
    size_t vlen;
    int eq;
    return query_find(ais_req_raw_query(r), key, &vlen, &eq) != NULL;
}

/* Splits the raw path /s3[/BUCKET[/KEY]] into q. 0, or an S3 error response was sent. */
static int
parse_path(struct s3_rq *q)
{
    const char *p = ais_req_raw_path(q->r);
    const char *slash = NULL;
    size_t n = 0;
    const char *why = NULL;
    if (q->vhost) {
        slash = p; /* virtual-host style: the bucket came from Host, the path is the key */
    } else {
        p += 3; /* after "/s3" */
        while (*p == '/') {
            p++;
        }
        slash = strchr(p, '/');
        size_t blen = slash ? (size_t)(slash - p) : strlen(p);
        if (s3_pct_decode(p, blen, q->bck, sizeof(q->bck), &n) != 0 || strlen(q->bck) != n ||
            (n > 0 && ais_bck_name_check(q->bck, &why) != 0)) {
            q->bck[0] = '\0';
            s3_err(q, S3_INVALID_BUCKET_NAME, "invalid bucket name: %s",
                   why ? why : "bad encoding");
            return -1;
        }
    }
    const char *k = slash ? slash + 1 : "";
    size_t klen = strlen(k);
    q->key = ais_req_alloc(q->r, klen + 1);
    q->key_enc = ais_req_alloc(q->r, klen * 3 + 1);
    if (q->key == NULL || q->key_enc == NULL) {
        s3_err(q, S3_INTERNAL, "out of request memory");
        return -1;
    }
    q->key[0] = '\0';
    if (s3_pct_decode(k, klen, q->key, klen + 1, &q->key_len) != 0) {
        s3_err(q, S3_INVALID_ARGUMENT, "bad percent-encoding in the key");
        return -1;
    }
    if (q->key_len > 0) {
        int rc = ais_obj_name_check(q->key, q->key_len, &why);
        if (rc != 0) {
            s3_err(q, rc == -ENAMETOOLONG ? S3_KEY_TOO_LONG : S3_INVALID_ARGUMENT,
                   "invalid key: %s", why);
            return -1;
        }
        (void)s3_pct_encode(q->key, q->key_len, 1, q->key_enc, klen * 3 + 1);
    }
    return 0;
}

/* One request, path style (bck NULL) or virtual-host style (bck from the Host header). */
static void
serve(struct s3_srv *s, struct ais_req *r, const char *vhost_bck)
{
    struct s3_rq *q = ais_req_alloc(r, sizeof(*q));
    if (q == NULL) {
        ais_resp_err(r, 500, "out of request memory");
        return;
    }
    memset(q, 0, sizeof(*q));
    q->s = s;
    q->r = r;
    uint64_t n = __atomic_add_fetch(&s->seq, 1, __ATOMIC_RELAXED);
    snprintf(q->id, sizeof(q->id), "%.6s%010llX", s->node_id, (unsigned long long)n);
    if (vhost_bck != NULL) {
        q->vhost = 1;
        snprintf(q->bck, sizeof(q->bck), "%s", vhost_bck);
    }
    if (parse_path(q) != 0) {
        return;
    }
    if (ais_config_rt_get(&s->cfg->rt.s3_auth) && s3_auth_check(q) != 0) {
        return; /* answered */
    }
    if (q->bck[0] == '\0') {
        if (ais_req_is(r, "GET")) {
            s3_h_service(q);
        } else {
            s3_err(q, S3_METHOD_NOT_ALLOWED, NULL);
        }
    } else if (q->key_len == 0) {
        s3_h_bucket(q);
    } else if (!s3_mpu_dispatch(q)) {
        s3_h_object(q);
    }
}

void
s3_http_handler(struct ais_req *r, void *ctx)
{
    serve(ctx, r, NULL);
}

int
s3_vhost_bucket(struct s3_srv *s, const struct ais_req *r, char *bck, size_t cap)
{
    const char *host = ais_req_header(r, "Host");
    const char *dot = host ? strchr(host, '.') : NULL;
    const char *why = NULL;
    if (dot == NULL || dot == host || (size_t)(dot - host) >= cap) {
        return 0;
    }
    if (strspn(host, "0123456789.:") == strlen(host)) {
        return 0; /* an IPv4 address (with port): names no bucket */
    }
    memcpy(bck, host, (size_t)(dot - host));
    bck[dot - host] = '\0';
    return ais_bck_name_check(bck, &why) == 0 && s->ops->bck_exists(s->ops->ctx, bck);
}

void
s3_http_handler_vhost(struct ais_req *r, struct s3_srv *s, const char *bck)
{
    serve(s, r, bck);
}

int
s3_srv_new(const struct ais_config *cfg, const struct s3_ops *ops, const char *node_id,
           struct s3_srv **out)
{
    struct s3_srv *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return -ENOMEM;
    }
    s->cfg = cfg;
    s->ops = ops;
    snprintf(s->node_id, sizeof(s->node_id), "%s", node_id);
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return 0;
}

void
s3_srv_free(struct s3_srv *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->nidle; i++) {
        close(s->idle[i].fd);
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}
