/*
 * Every bound in the system, with its unit and the reason for it.
 * Config may tighten a limit, never raise it.
 */
#ifndef AIS_COMMON_LIMITS_H
#define AIS_COMMON_LIMITS_H

/* Object names become relative paths under %ob; keep well under PATH_MAX with the prefix. */
#define AIS_OBJNAME_BYTES_MAX 1024
/* One path component of an object name: the filesystem's NAME_MAX. */
#define AIS_NAME_COMPONENT_BYTES_MAX 255
/* Bucket names are one directory level; AIS allows letters, digits, '-', '_', '.'. */
#define AIS_BCKNAME_BYTES_MAX 64
/* Namespace string `@uuid#name`. */
#define AIS_NS_BYTES_MAX 128
/* Daemon ids are short random strings plus a role prefix. */
#define AIS_DAEMON_ID_BYTES_MAX 32
#define AIS_HOST_BYTES_MAX 64
#define AIS_PATH_BYTES_MAX 4096
/* Raw request URI (path + query). */
#define AIS_URI_BYTES_MAX 8192
/* Control-plane JSON bodies (ActMsg, props, config): no client needs more. */
#define AIS_CTRL_BODY_BYTES_MAX (1u << 20)
/* Per-request arena: headers, names, parsed control messages. */
#define AIS_REQ_ARENA_BYTES_MAX (4u << 20)
/* One nng message: a page of list results or a metadata push. */
#define AIS_RPC_MSG_BYTES_MAX (64u << 20)
/* Every nng send/recv and dial has this deadline unless the config says shorter. */
#define AIS_RPC_TIMEOUT_MS 5000
/* Retries of one RPC after a timeout or refused connection. */
#define AIS_RPC_RETRIES_MAX 3
/* Concurrent RPC worker contexts per node. */
#define AIS_RPC_WORKERS_MAX 16
/* Cluster size and per-target disk count. */
#define AIS_NODES_MAX 1024
#define AIS_MPATHS_MAX 64
#define AIS_BUCKETS_MAX 4096
/* Bucket props JSON as stored in the BMD. */
#define AIS_BPROPS_BYTES_MAX (16u << 10)
/* List-objects page: default and hard maximum (AIS uses 10000 for ais buckets). */
#define AIS_LIST_PAGE_DEFAULT 10000
#define AIS_LIST_PAGE_MAX 10000
/* Directory depth walked when listing a bucket. */
#define AIS_WALK_DEPTH_MAX 128
/* HTTP edge: concurrent connections and per-connection buffer. */
#define AIS_HTTP_CONN_MAX 4096
#define AIS_HTTP_CONN_MEM_BYTES (64u << 10)
/* Stack of one connection thread: handlers keep path-sized buffers only. */
#define AIS_HTTP_THREAD_STACK_BYTES (512u << 10)
/* Idle keep-alive connections are closed after this. */
#define AIS_HTTP_IDLE_TIMEOUT_S 120
/* I/O buffer for checksumming a stored object. */
#define AIS_IO_BUF_BYTES (1u << 20)
/* Xattr with object metadata (LOM). */
#define AIS_LOM_BYTES_MAX 4096
/* Custom metadata pairs per object. */
#define AIS_CUSTOM_MD_MAX 64
/* Keepalive misses before the primary removes a node. */
#define AIS_KEEPALIVE_MISSES_MAX 3
/* Pending list-job ids remembered by a gateway (UUID echo). */
#define AIS_LIST_JOBS_MAX 1024

/* A gateway drains (discards) a PUT body up to this size before its 307, so clients that
 * send the body first (python requests) see the redirect instead of a reset; larger bodies get
 * the 307 at once and the connection is closed. */
#define AIS_REDIRECT_DRAIN_BYTES_MAX (64u << 20)
/* A target batches PUT bytes into writes of this size (one buffer per PUT in flight). */
#define AIS_PUT_BATCH_BYTES (256u << 10)
/* Dry-run GET (config dry_run) serves generated objects of this size. */
#define AIS_DRY_RUN_OBJ_BYTES (1u << 20)

#endif
