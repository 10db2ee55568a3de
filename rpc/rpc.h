/*
 * Intra-cluster RPC: protobuf-c messages over nng req/rep. The sole user of nng.h and the
 * generated *.pb-c.h; callers see only domain types (Smap, BMD, list pages).
 *
 * Every call has a deadline (send, receive and dial) and a bounded number of retries on
 * connection failures. Servers run a fixed pool of worker contexts.
 */
#ifndef AIS_RPC_RPC_H
#define AIS_RPC_RPC_H

#include "common/bmd.h"
#include "common/smap.h"

#include <stddef.h>
#include <stdint.h>

struct rpc_server;

struct rpc_list_req {
    const char *provider, *ns, *bck;
    const char *prefix;
    const char *after;
    uint32_t limit;
    int with_md;
};

struct rpc_list_entry {
    char *name;
    uint64_t size;
    char *cksum_type, *cksum_value, *version, *custom;
    int64_t atime_ns;
};

/* One page from one target (entries sorted by name). Free with rpc_list_page_fini. */
struct rpc_list_page {
    size_t n;
    struct rpc_list_entry *entries;
    int more;
};

/* Error details from a peer: code + message (static storage in the caller). */
struct rpc_err {
    int code;
    char msg[256];
};

/*
 * Server-side handlers. Each returns 0 or a negative code; on error it may fill err->msg
 * (sent back to the caller). Handlers run on RPC worker threads concurrently.
 * NULL handlers answer -ENOTSUP.
 */
struct rpc_ops {
    /* primary: a node joins; return the current metadata (new references). */
    int (*join)(void *ctx, const struct ais_snode *node, struct ais_smap **smap,
                struct ais_bmd **bmd, struct rpc_err *err);
    /* primary: heartbeat; return newer metadata (or NULL) for a node that is behind. */
    int (*keepalive)(void *ctx, const char *id, int64_t smap_ver, int64_t bmd_ver,
                     struct ais_smap **smap, struct ais_bmd **bmd, struct rpc_err *err);
    /* any node: new metadata pushed by the primary; takes the references (either may be NULL). */
    int (*metasync)(void *ctx, struct ais_smap *smap, struct ais_bmd *bmd, struct rpc_err *err);
    /* target: one page of a bucket listing; fill page. */
    int (*list)(void *ctx, const struct rpc_list_req *req, struct rpc_list_page *page,
                struct rpc_err *err);
    /* primary gateway: a bucket-level action forwarded by another gateway. */
    int (*bck_action)(void *ctx, const char *action, const char *provider, const char *ns,
                      const char *bck, const char *value_json, struct rpc_err *err);
    /* target: delete these objects; counts out. */
    int (*delete_objs)(void *ctx, const char *provider, const char *ns, const char *bck,
                       const char *const *names, size_t n, uint64_t *deleted, uint64_t *missing,
                       struct rpc_err *err);
    /* any node: JSON of what ("stats", "mountpaths", "config", ...), a new reference;
     * NULL = unknown what (answered -EINVAL). */
    json_t *(*query)(void *ctx, const char *what);
    /* any node: set runtime config knobs. */
    int (*config_set)(void *ctx, const char *const *names, const char *const *values, size_t n,
                      struct rpc_err *err);
};

/* Listens on url ("tcp://host:port") with `workers` concurrent contexts. */
__attribute__((warn_unused_result)) int rpc_server_start(const char *url, unsigned workers,
                                                         const struct rpc_ops *ops, void *ctx,
                                                         struct rpc_server **out);
/* Stops: closes the socket, joins workers, frees. Accepts NULL. */
void rpc_server_stop(struct rpc_server *s);

/* Client calls. url = peer's tcp:// control URL; timeout_ms bounds each attempt. */
__attribute__((warn_unused_result)) int rpc_join(const char *url, int timeout_ms,
                                                 const struct ais_snode *self,
                                                 struct ais_smap **smap, struct ais_bmd **bmd,
                                                 struct rpc_err *err);
__attribute__((warn_unused_result)) int rpc_keepalive(const char *url, int timeout_ms,
                                                      const char *id, int64_t smap_ver,
                                                      int64_t bmd_ver, struct ais_smap **smap,
                                                      struct ais_bmd **bmd, struct rpc_err *err);
/* Pushes smap and/or bmd (either may be NULL). */
__attribute__((warn_unused_result)) int rpc_metasync(const char *url, int timeout_ms,
                                                     const struct ais_smap *smap,
                                                     const struct ais_bmd *bmd,
                                                     struct rpc_err *err);
__attribute__((warn_unused_result)) int rpc_list(const char *url, int timeout_ms,
                                                 const struct rpc_list_req *req,
                                                 struct rpc_list_page *page, struct rpc_err *err);
void rpc_list_page_fini(struct rpc_list_page *page);
/* Appends an entry to a page being built by a server handler (copies strings). */
__attribute__((warn_unused_result)) int rpc_list_page_add(struct rpc_list_page *page,
                                                          const struct rpc_list_entry *e);
__attribute__((warn_unused_result)) int rpc_bck_action(const char *url, int timeout_ms,
                                                       const char *action, const char *provider,
                                                       const char *ns, const char *bck,
                                                       const char *value_json, struct rpc_err *err);
__attribute__((warn_unused_result)) int rpc_delete_objs(const char *url, int timeout_ms,
                                                        const char *provider, const char *ns,
                                                        const char *bck, const char *const *names,
                                                        size_t n, uint64_t *deleted,
                                                        uint64_t *missing, struct rpc_err *err);
__attribute__((warn_unused_result)) int rpc_query(const char *url, int timeout_ms, const char *what,
                                                  char **json, struct rpc_err *err);
__attribute__((warn_unused_result)) int rpc_config_set(const char *url, int timeout_ms,
                                                       const char *const *names,
                                                       const char *const *values, size_t n,
                                                       struct rpc_err *err);

/* Smap/BMD <-> protobuf bytes (exposed for tests and persistence-free round trips). */
__attribute__((warn_unused_result)) int rpc_smap_pack(const struct ais_smap *m, uint8_t **buf,
                                                      size_t *len);
__attribute__((warn_unused_result)) int rpc_smap_unpack(const uint8_t *buf, size_t len,
                                                        struct ais_smap **out);
__attribute__((warn_unused_result)) int rpc_bmd_pack(const struct ais_bmd *b, uint8_t **buf,
                                                     size_t *len);
__attribute__((warn_unused_result)) int rpc_bmd_unpack(const uint8_t *buf, size_t len,
                                                       struct ais_bmd **out);

#endif
