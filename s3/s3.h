/*
 * S3-compatible REST API served by gateways at /s3 (path style: /s3/BUCKET/KEY), mapped onto
 * the same ais:// buckets and objects as /v1. The room owns the S3 protocol (XML bodies, S3
 * error codes, SigV4, aws-chunked bodies, multipart); the gateway lends it a small ops table
 * for what only the gateway knows (BMD, HRW owner, merged listing). Object bytes stream
 * between the client and the owning target's /v1 endpoint through bounded buffers, or the
 * client is sent there with a 307 when the s3.redirect knob is on.
 */
#ifndef AIS_S3_S3_H
#define AIS_S3_S3_H

#include "common/bmd.h"
#include "common/config.h"
#include "common/http.h"

#include <stddef.h>
#include <stdint.h>

struct s3_srv;

/* One listed object as the gateway's merged listing returns it (borrowed for the callback). */
struct s3_list_ent {
    const char *name;
    uint64_t size;
    const char *cksum_type, *cksum_value, *custom; /* never NULL ("" when absent) */
    int64_t atime_ns;
};
/* Listing callback: 0 to go on, non-zero stops (and is returned). */
typedef int (*s3_list_fn)(void *arg, const struct s3_list_ent *e);
/* Bucket callback for bck_each. */
typedef int (*s3_bck_fn)(void *arg, const char *name, int64_t created_ns);

/*
 * What the gateway provides (all functions thread-safe, called from HTTP request threads).
 * Buckets are ais:// buckets of the global namespace. Errors are negative errno or AIS codes;
 * msg (when given) gets a message for the client.
 */
struct s3_ops {
    void *ctx;
    /* Calls fn for every ais:// bucket of the current BMD in name order. */
    int (*bck_each)(void *ctx, s3_bck_fn fn, void *arg);
    /* 1 if the bucket is in the BMD, else 0. */
    int (*bck_exists)(void *ctx, const char *bck);
    /* 0 if the bucket's access bits allow need (AIS_ACCESS_*, common/bmd.h), else 403 with
     * msg naming the permission. */
    int (*bck_access)(void *ctx, const char *bck, uint64_t need, char *msg, size_t cap);
    /* "create-bck" or "destroy-bck" on the primary: 0, -EEXIST, -ENOENT, other < 0. */
    int (*bck_change)(void *ctx, const char *action, const char *bck, char *msg, size_t cap);
    /* Base URL ("http://host:port") of the HRW owner target of bck/obj: 0 or -EAGAIN. */
    int (*obj_owner)(void *ctx, const char *bck, const char *obj, char *url, size_t cap);
    /*
     * Up to limit (1..AIS_LIST_PAGE_MAX) names of bck starting with prefix and greater than
     * after (both may be ""), merged across targets in strcmp order, with metadata. *more = 1
     * when names remain after the last one passed. 0, -ENOENT (no bucket), other < 0.
     */
    int (*obj_list)(void *ctx, const char *bck, const char *prefix, const char *after, size_t limit,
                    s3_list_fn fn, void *arg, int *more);
};

/* New server for a gateway: cfg and ops are borrowed for its life. 0, -ENOMEM. */
__attribute__((warn_unused_result)) int s3_srv_new(const struct ais_config *cfg,
                                                   const struct s3_ops *ops, const char *node_id,
                                                   struct s3_srv **out);
/* Frees; accepts NULL. Call after the HTTP server stopped. */
void s3_srv_free(struct s3_srv *s);

/* Serves one request whose path starts with /s3 (route handler; ctx = the s3_srv). */
void s3_http_handler(struct ais_req *r, void *ctx);
/*
 * Virtual-host style: 1 (bucket name in bck) when the request's Host header starts with the
 * name of an existing bucket followed by a dot ("photos.s3.local:8080"); IP hosts never match.
 * The request is then served by s3_http_handler_vhost with its whole path as the key.
 */
int s3_vhost_bucket(struct s3_srv *s, const struct ais_req *r, char *bck, size_t cap);
void s3_http_handler_vhost(struct ais_req *r, struct s3_srv *s, const char *bck);
/*
 * Serves r with a bodiless GET (or HEAD) of path on the node at base ("http://host:port"),
 * following target redirects, streaming the body through bounded buffers (the gateway's reverse
 * proxy uses the /s3 hop). Always responds: the target's status and message on failure.
 */
void s3_relay(struct s3_srv *s, struct ais_req *r, const char *base, const char *path, int head);

#endif
