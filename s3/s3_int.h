/* Shared within s3/ only. */
#ifndef AIS_S3_S3_INT_H
#define AIS_S3_S3_INT_H

#include "common/limits.h"
#include "common/util.h"
#include "s3/s3.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors (s3/err.c) ---- */

enum s3_code {
    S3_OK = 0,
    S3_ACCESS_DENIED,
    S3_BAD_DIGEST,
    S3_BUCKET_EXISTS, /* BucketAlreadyOwnedByYou */
    S3_BUCKET_NOT_EMPTY,
    S3_ENTITY_TOO_SMALL,
    S3_ENTITY_TOO_LARGE,
    S3_INCOMPLETE_BODY,
    S3_INTERNAL,
    S3_INVALID_ACCESS_KEY,
    S3_INVALID_ARGUMENT,
    S3_INVALID_BUCKET_NAME,
    S3_INVALID_DIGEST,
    S3_INVALID_PART,
    S3_INVALID_PART_ORDER,
    S3_INVALID_RANGE,
    S3_INVALID_REQUEST,
    S3_KEY_TOO_LONG,
    S3_MALFORMED_XML,
    S3_METADATA_TOO_LARGE,
    S3_METHOD_NOT_ALLOWED,
    S3_MISSING_CONTENT_LENGTH,
    S3_NO_SUCH_BUCKET,
    S3_NO_SUCH_KEY,
    S3_NO_SUCH_UPLOAD,
    S3_NOT_IMPLEMENTED,
    S3_PRECONDITION_FAILED,
    S3_SIGNATURE_MISMATCH,
    S3_AUTH_QUERY_ERROR, /* AuthorizationQueryParametersError */
    S3_TIME_SKEWED,      /* RequestTimeTooSkewed */
    S3_EXPIRED,          /* AccessDenied "Request has expired" */
    S3_SHA256_MISMATCH,  /* XAmzContentSHA256Mismatch */
    S3_SLOW_DOWN,
    S3_CODE_N
};

/* HTTP status and S3 name of a code. */
int s3_code_status(enum s3_code c);
const char *s3_code_name(enum s3_code c);

/* ---- server and request ---- */

struct s3_chunk_sig; /* s3/cksum.h */

struct s3_up_idle {
    int fd;
    char host[64];
    uint16_t port;
    int64_t since_ns;
};

struct s3_srv {
    const struct ais_config *cfg;
    const struct s3_ops *ops;
    char node_id[AIS_DAEMON_ID_BYTES_MAX];
    uint64_t seq;       /* request ids (atomic) */
    pthread_mutex_t mu; /* guards the idle upstream connections */
    size_t nidle;
    struct s3_up_idle idle[AIS_S3_UP_IDLE_MAX];
};

/* One S3 request: parsed path and identity. Lives in the request arena. */
struct s3_rq {
    struct s3_srv *s;
    struct ais_req *r;
    char id[24];                         /* x-amz-request-id */
    char bck[AIS_BCKNAME_BYTES_MAX + 1]; /* "" for the service (ListBuckets) */
    char *key;                           /* decoded object key, "" for bucket requests */
    size_t key_len;
    char *key_enc; /* key percent-encoded for /v1 paths */
    int vhost;     /* virtual-host style: bucket from Host, raw path = "/KEY" */
    /* Set (in the arena) by s3_auth_check for a SigV4 header-signed request whose body is
     * signed aws-chunked: what verifies the chunk signatures. NULL otherwise. */
    struct s3_chunk_sig *csig;
};

/*
 * S3 error response: XML body (none for HEAD), status of the code, x-amz-request-id.
 * msg may be NULL (a default text).
 */
__attribute__((format(printf, 3, 4))) void s3_err(struct s3_rq *q, enum s3_code c, const char *fmt,
                                                  ...);
/* Maps an errno / AIS code from the ops or upstream to an S3 error response. */
void s3_err_rc(struct s3_rq *q, int rc, const char *what);
/* XML 200 response (or status) with the request id. */
void s3_resp_xml(struct s3_rq *q, int status, const struct ais_buf *b);
/* Adds the standard headers (x-amz-request-id) to the response just created. */
void s3_resp_std(struct s3_rq *q);

/* Raw (undecoded) query parameter: 1 and value decoded into out (cap), 0 absent, -1 too long. */
int s3_query(const struct ais_req *r, const char *key, char *out, size_t cap);
/* 1 if the raw query has parameter key (with or without a value). */
int s3_query_has(const struct ais_req *r, const char *key);

/* ---- XML (s3/xml.c) ---- */

/* Appends s escaped for XML text. 0 or negative errno. */
int s3_xml_esc(struct ais_buf *b, const char *s, size_t n);
/* Appends <tag>escaped text</tag>. */
int s3_xml_el(struct ais_buf *b, const char *tag, const char *text);
/* Starts a document: declaration plus <root xmlns=S3>. */
int s3_xml_begin(struct ais_buf *b, const char *root);

#define S3_XML_FIELDS_MAX 4
#define S3_XML_TEXT_MAX 2048 /* bytes of one element's text (keys are <= 1024) */
struct s3_xml_item {
    const char *text;                    /* text of the depth-2 element itself */
    const char *vals[S3_XML_FIELDS_MAX]; /* texts of depth-3 children named fields[i], or NULL */
};
/* Called at the end of each depth-2 element. Non-zero stops the parse (returned). */
typedef int (*s3_xml_fn)(void *arg, const char *elem, const struct s3_xml_item *it);
/*
 * Parses body with expat: the root element must be `root`; for each child of the root calls
 * fn with the texts of its children named fields[0..nfields). DOCTYPE, entities and texts
 * over S3_XML_TEXT_MAX are refused. 0, S3 fn's non-zero value, or -EBADMSG (malformed).
 */
/* An s3_xml_fn that accepts anything (well-formedness check only). */
int s3_xml_any(void *arg, const char *elem, const struct s3_xml_item *it);
int s3_xml_parse(const char *body, size_t len, const char *root, const char *const *fields,
                 size_t nfields, s3_xml_fn fn, void *arg);

/* ---- object metadata kept in the AIS custom md (s3/md.c) ---- */

#define S3_META_MAX 32
struct s3_md {
    char ctype[256], cdisp[256], cenc[128], cache[128], lang[64], expires[64];
    char etag[80];               /* multipart "hex-N"; "" = the stored MD5 checksum */
    int64_t mtime_s;             /* Last-Modified, 0 = unknown */
    char ck_alg[16], ck_val[96]; /* x-amz-checksum-<alg> given at PUT (base64) */
    size_t nmeta;
    char meta_k[S3_META_MAX][128];
    char meta_v[S3_META_MAX][256];
};
/* Parses an AIS custom md string ("k=v,..."); keys other than s3.* are ignored. */
void s3_md_parse(const char *custom, struct s3_md *md);
/* Encodes md as a custom md string. 0, or -E2BIG past cap (MetadataTooLarge). */
int s3_md_encode(const struct s3_md *md, char *out, size_t cap);
/* Request headers (Content-Type, Content-Disposition, x-amz-meta-*) into md. 0 or -E2BIG. */
int s3_md_from_req(struct ais_req *r, struct s3_md *md);
/* Response headers from md: Content-Type..., x-amz-meta-*. */
void s3_md_to_resp(struct ais_req *r, const struct s3_md *md);
/* ETag (quoted) of an object from its md and stored checksum. */
void s3_etag(const struct s3_md *md, const char *cksum_type, const char *cksum_value, char *out,
             size_t cap);
/* RFC 1123 / ISO 8601 times of unix seconds. */
void s3_time_http(int64_t s, char *out, size_t cap);
void s3_time_iso(int64_t s, char *out, size_t cap);
/* Percent-encodes (RFC 3986 unreserved kept; keep_slash keeps '/'). 0 or -E2BIG. */
int s3_pct_encode(const char *s, size_t n, int keep_slash, char *out, size_t cap);
/* Decodes %XX in place-safe copy; 0 or -EINVAL. *outlen gets the byte count. */
int s3_pct_decode(const char *s, size_t n, char *out, size_t cap, size_t *outlen);

/* ---- upstream HTTP/1.1 to targets (s3/up.c) ---- */

struct s3_up;
/* Connects (or, unless fresh, reuses an idle connection) to base "http://host:port". 0 or
 * negative errno. */
int s3_up_open(struct s3_srv *s, const char *base, int fresh, struct s3_up **out);
/* 1 if the connection came from the idle set (a failure before any answer may be a stale
 * connection: retry once on a fresh one when nothing of a body was sent). */
int s3_up_reused(const struct s3_up *u);
/*
 * Sends a request head. body_len: -1 no body, >= 0 Content-Length. With expect, adds
 * `Expect: 100-continue` and waits for the interim answer: returns 0 when the body may be sent,
 * 1 when a final response head arrived instead (read it with s3_up_status...). hdrs: extra
 * "Name: value\r\n" lines or NULL. Negative errno on I/O errors.
 */
int s3_up_send(struct s3_up *u, const char *method, const char *target, const char *hdrs,
               int64_t body_len, int expect);
/* Writes body bytes (blocking, bounded by the upstream timeout). 0 or negative errno. */
int s3_up_write(struct s3_up *u, const void *data, size_t len);
/* Reads the final response head (if not read yet). 0 or negative errno. */
int s3_up_head(struct s3_up *u);
int s3_up_status(const struct s3_up *u);
/* Response header (case-insensitive) or NULL; with several, the first. */
const char *s3_up_hdr(const struct s3_up *u, const char *name);
/* Response Content-Length (-1 unknown). */
int64_t s3_up_clen(const struct s3_up *u);
/* Reads body bytes: count, 0 at the end, negative errno. */
ssize_t s3_up_read(struct s3_up *u, void *buf, size_t cap);
/* Reads and drops the rest of a small body (<= 64 KiB) so the connection can be reused. */
void s3_up_drain(struct s3_up *u);
/* Closes, or returns the connection to the idle set when the exchange completed. NULL ok. */
void s3_up_close(struct s3_up *u);

/* ---- object streaming shared by obj.c and mpu.c ---- */

struct s3_put;
/*
 * A streamed PUT of the request body to (bck, key) on its owner, /v1 query extra (may be
 * NULL). NULL after an error response. Fill s3_put_md, then s3_put_run streams the body;
 * without a hook the reply is the PutObject one, with a hook the hook answers (etag = quoted
 * MD5 of the stored bytes). The hook arg is freed (free()) with the put.
 */
struct s3_put *s3_put_start(struct s3_rq *q, const char *bck, const char *key, size_t klen,
                            const char *query);
struct s3_md *s3_put_md(struct s3_put *p);
void s3_put_set_hook(struct s3_put *p, void (*hook)(struct s3_put *p, const char *etag), void *arg);
void *s3_put_hook_arg(struct s3_put *p);
struct s3_rq *s3_put_rq(struct s3_put *p);
void s3_put_run(struct s3_put *p);
/*
 * Copies the x-amz-copy-source object (range: "bytes=a-b" or NULL) to (dbck, dkey) with md
 * repl (NULL: the source's). 0 with the new quoted ETag and mtime, or -1 answered.
 */
int s3_copy_to(struct s3_rq *q, const char *dbck, const char *dkey, size_t dklen, const char *query,
               const struct s3_md *repl, const char *range, char *etag, size_t ecap,
               int64_t *mtime_s);
/* DELETE of one object: 0, -ENOENT, other < 0. */
int s3_obj_delete_one(struct s3_srv *s, const char *bck, const char *key, size_t klen);
/*
 * Streams the concatenation of objects (bck, names[i]) into a new PUT of (bck, key) on its
 * owner with md. 0 with the stored quoted MD5 in etag, or negative errno.
 */
int s3_concat_to(struct s3_srv *s, const char *bck, const char *const *names, size_t n,
                 const char *key, size_t klen, const struct s3_md *md, const uint64_t *sizes);

/* ---- handlers ---- */

void s3_h_service(struct s3_rq *q);      /* GET /s3: ListBuckets */
void s3_h_bucket(struct s3_rq *q);       /* /s3/BUCKET */
void s3_h_object(struct s3_rq *q);       /* /s3/BUCKET/KEY */
void s3_h_delete_multi(struct s3_rq *q); /* POST /s3/BUCKET?delete */
/* Fixed answers: full control for the one owner; no tags. */
void s3_acl_reply(struct s3_rq *q);
void s3_tagging_reply(struct s3_rq *q);
/* Hidden prefix of multipart state: S3_MPU_DIR<upload id>/meta and .../<part>.<salt>. */
#define S3_MPU_DIR ".s3-mpu/"
void s3_mpu_list_uploads(struct s3_rq *q);
/* Small objects in memory (multipart state): GET into buf (0 with *len, -ENOENT, < 0) and PUT
 * of data with custom md (may be NULL). */
int s3_obj_get_small(struct s3_srv *s, const char *bck, const char *name, char *buf, size_t cap,
                     size_t *len);
int s3_obj_put_small(struct s3_srv *s, const char *bck, const char *name, const void *data,
                     size_t len, const char *custom);
/* Multipart (s3/mpu.c): 1 if the request was a multipart operation (and was served). */
int s3_mpu_dispatch(struct s3_rq *q);
/* Object helpers used by mpu.c: /v1 path of bck/key (encoded) in out. */
int s3_v1_path(const char *bck, const char *key, size_t klen, const char *query, char *out,
               size_t cap);

#endif
