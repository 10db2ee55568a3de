/*
 * Remote backends: the providers a remote bucket's objects come from, behind one interface
 * (HEAD bucket, HEAD/GET with range/PUT/DELETE object, LIST pages). aws and gcp speak the S3
 * REST dialect over libcurl (SigV4 by libcurl's CURLOPT_AWS_SIGV4, path-style addressing, so
 * any S3-compatible server works behind AWS_ENDPOINT_URL); gcp is Cloud Storage's XML
 * interoperability API with HMAC keys. Connections are kept alive and shared by every caller.
 *
 * Errors: 0 or a negative errno, with err filled for the client:
 *   -ENOENT (404: no such bucket/object), -EACCES (403: credentials, with the backend's
 *   message), -ETIMEDOUT (504), -EIO (502: backend 5xx or unreadable reply),
 *   -ECONNREFUSED (502: cannot connect), -EINVAL (400), -ENOTSUP (provider not available).
 * All functions are thread-safe and block for at most the configured timeout per transfer
 * stall (low-speed limit) and the connect timeout.
 */
#ifndef AIS_BACKEND_BACKEND_H
#define AIS_BACKEND_BACKEND_H

#include <stddef.h>
#include <stdint.h>

struct ais_meta;

#define BK_URL_BYTES 256
#define BK_KEY_BYTES 256
#define BK_TOKEN_BYTES 2048
#define BK_ETAG_BYTES 80
#define BK_VERSION_BYTES 160
#define BK_MSG_BYTES 2048

/* Credentials and endpoint of one S3-dialect provider. */
struct bk_s3_conf {
    char endpoint[BK_URL_BYTES]; /* "http://127.0.0.1:9000" or "" (the provider's public one) */
    char region[64];             /* "" = us-east-1 */
    char key[BK_KEY_BYTES];      /* access key id; "" = anonymous */
    char secret[BK_KEY_BYTES];
    char token[BK_TOKEN_BYTES]; /* session token or "" */
};

struct bk_conf {
    struct bk_s3_conf aws;
    struct bk_s3_conf gcp;
    int64_t connect_timeout_ms; /* 0 = 5 s */
    int64_t stall_timeout_ms;   /* a transfer moving no bytes this long fails (0 = 30 s) */
    struct ais_meta *meta;      /* ht:// origins come from the BMD (extra.http.original_url) */
};

/*
 * Fills c from the process environment the way the AWS SDKs read it: AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, else the AWS_PROFILE (default "default") section
 * of ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE); AWS_REGION / AWS_DEFAULT_REGION, else
 * the profile's region in ~/.aws/config (AWS_CONFIG_FILE); AWS_ENDPOINT_URL_S3, else
 * AWS_ENDPOINT_URL. gcp: AIS_GCP_HMAC_ACCESS_ID, AIS_GCP_HMAC_SECRET, AIS_GCP_ENDPOINT. Called
 * once by a daemon's main at start-up (the only place the environment is read).
 */
void bk_conf_load(struct bk_conf *c);

struct bk;

/* Starts the backends (curl global state, shared connection cache). 0 and *out, or -ENOMEM. */
__attribute__((warn_unused_result)) int bk_new(const struct bk_conf *c, struct bk **out);
void bk_free(struct bk *b);

/* 1 if provider names a remote backend this build serves ("aws", "gcp", "ht"), else 0. ht://
 * buckets are HTTP(S) origins: read-only (PUT/DELETE -ENOTSUP, 405) and not listable. */
int bk_provider_remote(const char *provider);

struct bk_err {
    int status; /* HTTP status for our client (404, 403, 502, 504...) */
    char msg[BK_MSG_BYTES];
};

/* What the backend says about one object. */
struct bk_attrs {
    uint64_t size;                  /* the whole object's size */
    int64_t mtime_ns;               /* Last-Modified */
    char etag[BK_ETAG_BYTES];       /* without quotes */
    char version[BK_VERSION_BYTES]; /* x-amz-version-id or "" */
};

__attribute__((warn_unused_result)) int bk_head_bucket(struct bk *b, const char *provider,
                                                       const char *bck, struct bk_err *err);
__attribute__((warn_unused_result)) int bk_head_obj(struct bk *b, const char *provider,
                                                    const char *bck, const char *obj,
                                                    struct bk_attrs *out, struct bk_err *err);

/* Receivers of a GET: attrs once the backend answered 2xx (before any data), then data. A
 * non-zero return aborts the transfer and becomes bk_get_obj's result (a receiver that set
 * err->status keeps its own status and message in err). */
struct bk_get_cb {
    int (*attrs)(void *arg, const struct bk_attrs *a);
    int (*data)(void *arg, const char *buf, size_t len);
};
/*
 * Streams the object (len == 0: all of it; else bytes [off, off+len)) to cb as it arrives.
 * Blocks until the transfer ended; a stall longer than the stall timeout is -ETIMEDOUT.
 */
__attribute__((warn_unused_result)) int bk_get_obj(struct bk *b, const char *provider,
                                                   const char *bck, const char *obj, uint64_t off,
                                                   uint64_t len, const struct bk_get_cb *cb,
                                                   void *arg, struct bk_err *err);
/* Uploads size bytes of fd (from offset 0) as the object; out (may be NULL) gets its attrs. */
__attribute__((warn_unused_result)) int bk_put_obj(struct bk *b, const char *provider,
                                                   const char *bck, const char *obj, int fd,
                                                   uint64_t size, struct bk_attrs *out,
                                                   struct bk_err *err);
/* Deletes the object; a missing object is -ENOENT. */
__attribute__((warn_unused_result)) int bk_delete_obj(struct bk *b, const char *provider,
                                                      const char *bck, const char *obj,
                                                      struct bk_err *err);

struct bk_entry {
    char *name;
    uint64_t size;
    int64_t mtime_ns;
    char etag[BK_ETAG_BYTES];
};
/* One page of a listing, in name order; next is "" after the last page. Owned: bk_page_fini. */
struct bk_page {
    struct bk_entry *v;
    size_t n;
    char *next;
};
/*
 * Lists at most max (1..1000) names with prefix after the token (a name, or "" to start),
 * complete or an error (a truncated or malformed reply is -EIO, never a short page).
 */
__attribute__((warn_unused_result)) int bk_list_page(struct bk *b, const char *provider,
                                                     const char *bck, const char *prefix,
                                                     const char *token, uint32_t max,
                                                     struct bk_page *out, struct bk_err *err);
void bk_page_fini(struct bk_page *p);

#endif
