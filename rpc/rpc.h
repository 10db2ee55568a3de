/*
 * Intra-cluster RPC: protobuf-c messages over nng req/rep. The sole user of nng.h and the
 * generated *.pb-c.h; callers see only domain types (Smap, BMD, list pages).
 *
 * Server: every message type has one row in a registry (rpc.c) naming its handler class;
 * each class (keepalive, control, data) has its own worker threads and bounded queue, so a
 * slow join never delays a keepalive. A full class queue answers -EAGAIN.
 * Client: one pooled req0 socket per peer URL, one nng context per call; `timeout_ms` bounds
 * the whole call, retries included. Retries (at most AIS_RPC_RETRIES_MAX, backoff from
 * AIS_RPC_BACKOFF_MS): every call retries a -EAGAIN answer (the peer did not run it);
 * idempotent calls (keepalive, metasync, list, query, config_set) also retry a connection
 * reset after the request left. join, bck_action and delete_objs never re-send. Connecting
 * is retried by the pooled socket's dialer (10 ms doubling to 100 ms) within the budget.
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
    int arch; /* AIS LsArchDir: members of shards follow as "<shard>/<member>" (name order) */
};

struct rpc_list_entry {
    char *name;
    uint64_t size;
    char *cksum_type, *cksum_value, *version, *custom;
    int64_t atime_ns;
    int not_cached; /* remote bucket listing: at the backend only (entry flags without cached) */
    uint32_t flags; /* AIS entry bits sent by targets: 128 in-archive, 512 is-archive */
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

/* The metasync reply: Smap and BMD versions a node holds after applying a push. */
struct rpc_meta_ack {
    int64_t smap_version;
    int64_t bmd_version;
};

/* An election vote request: candidate asks whether primary is dead (candidate's Smap version). */
struct rpc_vote_req {
    const char *candidate_id;
    const char *primary_id;
    int64_t smap_version;
};

/* A vote: yes or no (reason), and the versions the voter holds. A probe (empty candidate_id)
 * answers with smap (a reference the receiver owns; NULL otherwise) and is_primary. */
struct rpc_vote {
    int yes;
    int is_primary;
    int64_t smap_version;
    int64_t bmd_version;
    char reason[128];
    struct ais_smap *smap;
};

/* The job a start names: kind, cluster-wide id, and the bucket of a per-bucket job. */
struct rpc_xact_args {
    const char *id, *kind;
    const char *provider, *ns, *bck; /* "" (or NULL) when the job has no bucket */
};

/* An EC record read (rpc_slice_read): which object, which bytes. */
struct rpc_slice_req {
    const char *provider, *ns, *bck, *name;
    uint64_t off;
    uint32_t len; /* 0: metadata only; at most AIS_STREAM_CHUNK_BYTES_MAX */
};

#define RPC_SLICE_META_BYTES_MAX 1024

/* Its answer. buf is the caller's (len bytes); the rest is filled. */
struct rpc_slice {
    uint8_t meta[RPC_SLICE_META_BYTES_MAX];
    size_t meta_len;
    uint64_t size; /* bytes of the whole record */
    void *buf;
    size_t n; /* bytes read into buf */
};

/* A read of an object, or of a file inside it (archpath non-empty), from its owner
 * (rpc_obj_read): bytes [off, off + len); len 0 asks for the size only. Borrowed strings. */
struct rpc_obj_ref {
    const char *provider, *ns, *bck, *name, *archpath;
    uint64_t off;
    uint32_t len;
};

/* Its answer: code 0 or a negative errno (-ENOENT: no such object or archived file); size of
 * the object or archived file; mtime_ns of the object (its identity with size); n bytes read
 * into buf (the caller's, len bytes of the ref). */
struct rpc_obj_piece {
    int code;
    uint64_t size;
    int64_t mtime_ns;
    void *buf;
    size_t n;
};

/* A batch operation on objects of one bucket (rpc_objs_op). Borrowed strings. */
struct rpc_objs_args {
    const char *op; /* "evict", "evict-all", "prefetch", "present", "copy", "download",
                     * "promote-scan", "promote" */
    const char *provider, *ns, *bck;
    const char *const *names;
    size_t n;
    int latest; /* prefetch: also refetch outdated copies */
    /* copy: the destination bucket (names there are prepend + name); NULL otherwise */
    const char *dst_provider, *dst_ns, *dst_bck, *prepend;
    /* download: the URL of each name (n of them), per-URL timeout (0 = default); else NULL */
    const char *const *links;
    int64_t timeout_ms;
    const char *job_id; /* download, promote: the job (xact_stop of it aborts it), or NULL */
    unsigned flags;     /* promote: RPC_PROMOTE_* */
};
/* Promote (target/promote.c) flags: the AIS PromoteArgs booleans and the gateway's verdict. */
#define RPC_PROMOTE_RECURSIVE 0x1u /* rcr: walk subdirectories */
#define RPC_PROMOTE_OVERWRITE 0x2u /* ovw: replace existing objects */
#define RPC_PROMOTE_DELETE_SRC 0x4u /* dls: remove each file once its object is stored */
#define RPC_PROMOTE_FSHARE 0x8u    /* every target sees the same files: promote the HRW share */
/* Archive (target/arch_bck.c) flags: the AIS ArchiveMsg booleans and the output format. */
#define RPC_ARCHIVE_COER 0x1u   /* coer: a missing source is skipped (named in the job's err) */
#define RPC_ARCHIVE_ISBN 0x2u   /* isbn: members named <source bucket>/<object> */
#define RPC_ARCHIVE_BNONLY 0x4u /* bnonly: members named by the object's base name */
#define RPC_ARCHIVE_AATE 0x8u   /* aate: an existing shard keeps its members, the new follow */
#define RPC_ARCHIVE_FMT_SHIFT 8 /* (flags >> shift) & 0xf: one of RPC_ARCHIVE_FMT_* */
#define RPC_ARCHIVE_FMT_TAR 1u
#define RPC_ARCHIVE_FMT_TGZ 2u
#define RPC_ARCHIVE_FMT_ZIP 3u
#define RPC_ARCHIVE_FMT_TLZ4 4u
/* Its outcome: counters (op-specific, see proto DeleteResp) and names (with reasons). */
struct rpc_objs_res {
    uint64_t done, skipped, bytes;
    size_t nnames;
    char **names; /* malloc'ed array of malloc'ed strings */
    char **errs;  /* NULL or nnames reasons */
};
/* Appends a name (and reason, or NULL) to res. 0 or -ENOMEM. */
__attribute__((warn_unused_result)) int rpc_objs_res_add(struct rpc_objs_res *res, const char *name,
                                                         const char *why);
void rpc_objs_res_fini(struct rpc_objs_res *res);

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
    /* any node: new metadata pushed by the primary; takes the references (either may be NULL).
     * On success fill ack with the versions now installed (sent back as MetaAck). */
    int (*metasync)(void *ctx, struct ais_smap *smap, struct ais_bmd *bmd, struct rpc_meta_ack *ack,
                    struct rpc_err *err);
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
    /* target: stream this object to dest_url (get from neighbor); 0 once acked, or -ENOENT. */
    int (*obj_pull)(void *ctx, const char *provider, const char *ns, const char *bck,
                    const char *obj, const char *dest_url, struct rpc_err *err);
    /* any node: abort running jobs matching id and kind ("" = any). */
    int (*xact_stop)(void *ctx, const char *id, const char *kind, struct rpc_err *err);
    /* target: start a job of kind under the cluster-wide id (rebalance; scrub and
     * make-n-copies of a bucket). Strings are never NULL. */
    int (*xact_start)(void *ctx, const struct rpc_xact_args *a, struct rpc_err *err);
    /* any non-primary node: the primary tells it to leave (sid = its id). Stop heartbeats
     * before returning, then exit the run loop; decommission = removed for good. */
    int (*node_shutdown)(void *ctx, const char *sid, int decommission, struct rpc_err *err);
    /* target: a batch operation on remote-bucket objects (DeleteObjs with op "evict",
     * "prefetch", "present"); fill res (strings malloc'ed: the RPC layer frees them). */
    int (*objs_op)(void *ctx, const struct rpc_objs_args *a, struct rpc_objs_res *res,
                   struct rpc_err *err);
    /* target: remove this target's EC records of names (DeleteObjs with ec_records_only). */
    int (*ec_delete)(void *ctx, const char *provider, const char *ns, const char *bck,
                     const char *const *names, size_t n, struct rpc_err *err);
    /* target: erasure coding (target/ec.c): bytes [q->off, q->off + q->len) of this target's
     * EC record (slice or replica) of the object into out->buf (q->len bytes; 0 = metadata
     * only); fill out's meta, size and n. -ENOENT when there is no record. */
    int (*slice_read)(void *ctx, const struct rpc_slice_req *q, struct rpc_slice *out,
                      struct rpc_err *err);
    /* any node: an election vote or probe (rpc/member.c, gateway/election.c); fill out (out->smap
     * is a reference the RPC layer drops after packing). */
    int (*vote)(void *ctx, const struct rpc_vote_req *q, struct rpc_vote *out, struct rpc_err *err);
    /* target: one ref of an rpc_obj_read call (target/moss.c); fills out (out->buf holds
     * q->len bytes) and sets out->code rather than failing the whole call. */
    void (*obj_read)(void *ctx, const struct rpc_obj_ref *q, struct rpc_obj_piece *out);
    /* target: one step of a dSort job (dsort/dsort.h); *out (malloc'ed, freed by the RPC layer
     * after packing; may stay NULL for an empty reply) and *out_len. */
    int (*dsort)(void *ctx, const char *op, const char *uuid, const void *body, size_t len,
                 void **out, size_t *out_len, struct rpc_err *err);
};

/* Handler classes: each has its own workers and queue (see the registry in rpc.c). */
enum rpc_class {
    RPC_CLASS_KEEPALIVE, /* keepalive (and metasync acks): tiny, never blocked */
    RPC_CLASS_CONTROL,   /* join, metasync, bck_action, config_set, query */
    RPC_CLASS_DATA,      /* list, delete_objs, future object work */
    RPC_CLASS_COUNT,
};

/* Worker threads per class; 0 = default (keepalive 2, control 4, data 8); capped at
 * AIS_RPC_WORKERS_MAX. Each class queues AIS_RPC_QUEUE_PER_WORKER requests per worker. */
struct rpc_server_opts {
    unsigned workers[RPC_CLASS_COUNT];
};

/*
 * Listens on url ("tcp://host:port"); opts NULL = defaults. ops and ctx are borrowed until
 * rpc_server_stop. Handlers run on the class workers, concurrently. 0 or negative errno
 * (-EADDRINUSE, -EINVAL, -ENOMEM); on error nothing is left running.
 */
__attribute__((warn_unused_result)) int rpc_server_start(const char *url,
                                                         const struct rpc_server_opts *opts,
                                                         const struct rpc_ops *ops, void *ctx,
                                                         struct rpc_server **out);
/* Stops: closes the socket, joins workers, drops queued requests, frees. Accepts NULL. */
void rpc_server_stop(struct rpc_server *s);
/* Requests waiting in class c's queue right now (not counting running ones). Thread-safe. */
unsigned rpc_server_queued(struct rpc_server *s, enum rpc_class c);

/* Client pool counters (process-wide, monotonic except peers). Thread-safe. */
struct rpc_client_stats {
    uint64_t sockets_opened; /* req0 sockets ever opened by the pool */
    uint64_t calls;          /* calls started */
    uint64_t retries;        /* re-sent attempts */
    uint64_t peers;          /* sockets cached right now */
};
void rpc_client_stats(struct rpc_client_stats *out);
/* Closes every pooled socket (calls in flight finish first). Call at exit, after the last
 * call; a later call reopens the pool. Thread-safe. */
void rpc_client_shutdown(void);

/* Client calls. url = peer's tcp:// control URL; timeout_ms bounds the whole call (retries
 * included). Blocking, thread-safe. 0 or negative errno / the peer's code (err filled). */
__attribute__((warn_unused_result)) int rpc_join(const char *url, int timeout_ms,
                                                 const struct ais_snode *self,
                                                 struct ais_smap **smap, struct ais_bmd **bmd,
                                                 struct rpc_err *err);
__attribute__((warn_unused_result)) int rpc_keepalive(const char *url, int timeout_ms,
                                                      const char *id, int64_t smap_ver,
                                                      int64_t bmd_ver, struct ais_smap **smap,
                                                      struct ais_bmd **bmd, struct rpc_err *err);
/* Pushes smap and/or bmd (either may be NULL); ack (may be NULL) receives the versions the
 * peer holds after applying them. */
__attribute__((warn_unused_result)) int rpc_metasync(const char *url, int timeout_ms,
                                                     const struct ais_smap *smap,
                                                     const struct ais_bmd *bmd,
                                                     struct rpc_meta_ack *ack, struct rpc_err *err);
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
/* A batch operation on remote-bucket objects (struct rpc_objs_args); res filled on success
 * (free with rpc_objs_res_fini). Not re-sent (a prefetch may be long). */
__attribute__((warn_unused_result)) int rpc_objs_op(const char *url, int timeout_ms,
                                                    const struct rpc_objs_args *a,
                                                    struct rpc_objs_res *res, struct rpc_err *err);
__attribute__((warn_unused_result)) int rpc_delete_objs(const char *url, int timeout_ms,
                                                        const char *provider, const char *ns,
                                                        const char *bck, const char *const *names,
                                                        size_t n, uint64_t *deleted,
                                                        uint64_t *missing, struct rpc_err *err);
/* Asks a target to push an object to dest_url (not idempotent: never re-sent). */
__attribute__((warn_unused_result)) int rpc_obj_pull(const char *url, int timeout_ms,
                                                     const char *provider, const char *ns,
                                                     const char *bck, const char *obj,
                                                     const char *dest_url, struct rpc_err *err);
/* Starts a job on a node (not re-sent). */
__attribute__((warn_unused_result)) int
rpc_xact_start(const char *url, int timeout_ms, const struct rpc_xact_args *a, struct rpc_err *err);
/* Aborts jobs on a node by id and/or kind (idempotent). */
__attribute__((warn_unused_result)) int rpc_xact_stop(const char *url, int timeout_ms,
                                                      const char *id, const char *kind,
                                                      struct rpc_err *err);
/* Tells a node to leave the cluster and exit (not idempotent: never re-sent). */
__attribute__((warn_unused_result)) int rpc_node_shutdown(const char *url, int timeout_ms,
                                                          const char *sid, int decommission,
                                                          struct rpc_err *err);
/* Asks a node for its election vote, or probes it (empty candidate_id: out->smap is a new
 * reference for the caller, may be NULL). Idempotent: a node repeats its vote for the same
 * candidate and version. */
__attribute__((warn_unused_result)) int rpc_vote(const char *url, int timeout_ms,
                                                 const struct rpc_vote_req *q, struct rpc_vote *out,
                                                 struct rpc_err *err);
/* Asks a target to remove its EC records of names (idempotent). */
__attribute__((warn_unused_result)) int rpc_ec_delete(const char *url, int timeout_ms,
                                                      const char *provider, const char *ns,
                                                      const char *bck, const char *const *names,
                                                      size_t n, struct rpc_err *err);
/* Reads part of a peer's EC record (idempotent: a read). out->buf must hold q->len bytes. */
__attribute__((warn_unused_result)) int rpc_slice_read(const char *url, int timeout_ms,
                                                       const struct rpc_slice_req *q,
                                                       struct rpc_slice *out, struct rpc_err *err);
__attribute__((warn_unused_result)) int rpc_query(const char *url, int timeout_ms, const char *what,
                                                  char **json, struct rpc_err *err);
__attribute__((warn_unused_result)) int rpc_config_set(const char *url, int timeout_ms,
                                                       const char *const *names,
                                                       const char *const *values, size_t n,
                                                       struct rpc_err *err);

/* Reads n refs (at most AIS_RPC_OBJ_READ_REFS_MAX, their len summing to at most
 * AIS_RPC_OBJ_READ_BYTES_MAX) from one target in one call (idempotent: a read). out[i].buf must
 * hold refs[i].len bytes; every out[i] is filled on success (with its own code). */
__attribute__((warn_unused_result)) int rpc_obj_read(const char *url, int timeout_ms,
                                                     const struct rpc_obj_ref *refs, size_t n,
                                                     struct rpc_obj_piece *out,
                                                     struct rpc_err *err);

/* One dSort step on a target (not re-sent: steps are not all idempotent). On success *out is
 * malloc'ed (NUL-terminated past out_len, so JSON replies can be parsed in place; the caller
 * frees) and *out_len its length. */
__attribute__((warn_unused_result)) int rpc_dsort(const char *url, int timeout_ms, const char *op,
                                                  const char *uuid, const void *body, size_t len,
                                                  char **out, size_t *out_len,
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
