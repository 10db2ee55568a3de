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
/* First retry backoff; doubles per retry, always capped by the caller's remaining budget. */
#define AIS_RPC_BACKOFF_MS 10
/* RPC worker threads per handler class (keepalive, control, data) on one node. */
#define AIS_RPC_WORKERS_MAX 16
/* Requests queued per worker of a class before the server answers -EAGAIN (503). */
#define AIS_RPC_QUEUE_PER_WORKER 4
/* Client pool: peers with a cached socket, concurrent calls on one peer's socket, and the idle
 * time after which a cached socket is closed. */
#define AIS_RPC_PEERS_MAX 1024
#define AIS_RPC_PEER_CALLS_MAX 256
#define AIS_RPC_PEER_IDLE_MS 60000
/* Object streams: payload bytes per frame (the in-flight window of one stream), concurrent
 * streams one receiver accepts, its worker threads, and the idle time after which a receiver
 * drops a stream (and its partial object). */
#define AIS_STREAM_CHUNK_BYTES_MAX (1u << 20)
#define AIS_STREAMS_MAX 256
#define AIS_STREAM_WORKERS_MAX 32
#define AIS_STREAM_IDLE_MS 30000
/* Packed object header of one stream frame (names, checksum, custom metadata, opaque). */
#define AIS_STREAM_HDR_BYTES_MAX (64u << 10)
/* Cluster size and per-target disk count. */
#define AIS_NODES_MAX 1024
#define AIS_MPATHS_MAX 64
/* Distinct mountpath strings one target process remembers (attach/detach at run time interns
 * each path once so readers can keep pointers); a restart resets it. */
#define AIS_MPATH_NAMES_MAX (4 * AIS_MPATHS_MAX)
/* How long a resilver waits for PUTs that started under an older mountpath set (ms). */
#define AIS_RESILVER_DRAIN_MS 60000
/* FSHC (target/fshc.c): every available mountpath is probed this often (and at once after an
 * I/O error) by writing, syncing and reading back a file of this size in its root. */
#define AIS_FSHC_PERIOD_MS 5000
#define AIS_FSHC_PROBE_BYTES (64u << 10)
#define AIS_BUCKETS_MAX 4096
/* Bucket props JSON as stored in the BMD. */
#define AIS_BPROPS_BYTES_MAX (16u << 10)
/* List-objects page: default and hard maximum (AIS uses 10000 for ais buckets). */
#define AIS_LIST_PAGE_DEFAULT 10000
#define AIS_LIST_PAGE_MAX 10000
/* Directory depth walked when listing a bucket. */
#define AIS_WALK_DEPTH_MAX 128
/* A list walk holds at most this many names (and bytes of names) of one directory at a time;
 * a larger directory is read again from where the previous chunk ended. */
#define AIS_LIST_DIR_CHUNK_MAX 16384
#define AIS_LIST_DIR_CHUNK_BYTES (1u << 20)
/* List cursors a target keeps between pages (one per listing in progress), and the idle time
 * after which one is dropped (the next page then starts a new walk). */
#define AIS_LIST_CURSORS_MAX 64
#define AIS_LIST_CURSOR_IDLE_MS 60000
/* Object lock stripes per target (power of two): exclusive sections are short, so sharing a
 * stripe costs little; more stripes cost 56 bytes each. */
#define AIS_OBJ_LOCK_STRIPES 1024
/* HTTP edge: concurrent connections and per-connection buffer. */
#define AIS_HTTP_CONN_MAX 4096
#define AIS_HTTP_LISTEN_BACKLOG 1024 /* the edge's listen(2) backlog */
#define AIS_HTTP_CONN_MEM_BYTES (64u << 10)
/* Stack of one connection thread: handlers keep path-sized buffers only. */
#define AIS_HTTP_THREAD_STACK_BYTES (512u << 10)
/* Nesting of a JSON request body: AIS messages need a handful; jansson recurses per level on
 * the edge thread's stack, so a hostile [[[[... must be refused before it is parsed. */
#define AIS_JSON_DEPTH_MAX 64
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
/* Config bounds of the keepalive knobs: faster than 100 ms is noise on a loaded box; slower
 * than a minute (or a silence of ten) leaves dead nodes in the map too long. */
#define AIS_KEEPALIVE_INTERVAL_MS_MIN 100
#define AIS_KEEPALIVE_INTERVAL_MS_MAX 60000
#define AIS_KEEPALIVE_TIMEOUT_MS_MAX 600000
/* Election (gateway/election.c, rpc/member.c): a probe of one node ("are you the primary,
 * which Smap do you hold") gets this long, so a voter or a starting gateway asking a dead
 * node waits a fraction of a keepalive interval, not a whole RPC timeout. */
#define AIS_ELECT_PROBE_MS 700
/* A gateway forwarding a control action during an election polls for an acting primary this
 * often, at most this many times (bounded as well by a deadline from the keepalive timeout). */
#define AIS_ELECT_FORWARD_POLL_MS 100
#define AIS_ELECT_FORWARD_TRIES_MAX 600
/* Shortest control-RPC deadline config may set (AIS_RPC_TIMEOUT_MS is the longest), and the
 * longest a starting node keeps trying to join. */
#define AIS_RPC_TIMEOUT_MS_MIN 100
#define AIS_STARTUP_TIMEOUT_MS_MAX 600000
/* Config names one setconfig request (query or set-config body) may carry. */
#define AIS_CONFIG_SET_MAX 64
/* Metasync on the primary: changes committed but not yet pushed (more is -EAGAIN, 503; one
 * push covers all of them), re-pushes to a node that failed one (then keepalive catch-up
 * takes over) and the pause before a re-push. */
#define AIS_METASYNC_QUEUE_MAX 64
#define AIS_METASYNC_RETRIES_MAX 3
#define AIS_METASYNC_RETRY_MS 500
/* Pending list-job ids remembered by a gateway (UUID echo). */
#define AIS_LIST_JOBS_MAX 1024

/* A gateway drains (discards) a PUT body up to this size before its 307, so clients that
 * send the body first (python requests) see the redirect instead of a reset; larger bodies get
 * the 307 at once and the connection is closed. */
#define AIS_REDIRECT_DRAIN_BYTES_MAX (64u << 20)
/* A target batches PUT bytes into writes of this size (one buffer per PUT in flight). */
#define AIS_PUT_BATCH_BYTES (256u << 10)
/* Cold GETs (target/cold.c): fetches from backends in flight per target (more: 503), and the
 * longest a client waits for the backend's first answer or for the next bytes of a fill. */
#define AIS_COLD_FILLS_MAX 512
#define AIS_COLD_WAIT_MS 60000
/* Names in one batch of a multi-object operation sent to a target (a list page is 1000). */
#define AIS_OBJS_BATCH_MAX 1000
/* Source objects of one archive job, the same cap as a list/range template; one RPC carries
 * them all, so the gateway also caps their bytes at half of AIS_RPC_MSG_BYTES_MAX. */
#define AIS_ARCH_NAMES_MAX 100000
/* Member indexes of hot TAR shards kept in memory (target/ixcache.h): all of them, one shard
 * (a bigger one is read from its %ix file each time), and how many shards. */
#define AIS_ARCH_IXC_BYTES_MAX (64u << 20)
#define AIS_ARCH_IXC_SHARD_BYTES_MAX (16u << 20)
#define AIS_ARCH_IXC_N_MAX 256
/* Names per prefetch batch (fetched in parallel by the target) and the longest one may take. */
#define AIS_PREFETCH_BATCH 32
#define AIS_PREFETCH_BATCH_MS (10 * 60 * 1000)
/* Dry-run GET (config dry_run) serves generated objects of this size. */
#define AIS_DRY_RUN_OBJ_BYTES (1u << 20)

/* Jobs (xact/): records a node remembers (finished ones are recycled oldest-first; clients poll
 * by id after the end) and jobs running at once, each on its own thread. */
#define AIS_XACT_RECORDS_MAX 256
#define AIS_XACT_RUNNING_MAX 32

/* A node's object-stream receiver (rebalance, get-from-neighbor) listens on its control port
 * plus this offset (public port + 2000 under deploy.sh's layout: no clash with other nodes). */
#define AIS_DATA_PORT_OFFSET 1000
/* Rebalance mover: sender threads per rebalance (each with its own stream per destination),
 * objects queued between the walk and the senders, and the slowest rate rebalance.bps may set
 * (bytes/s): a 1 MiB chunk then waits at most 4 s, far below the receiver's AIS_STREAM_IDLE_MS. */
#define AIS_REB_WORKERS_MAX 16
#define AIS_REB_QUEUE_MAX 256
#define AIS_REB_BPS_MIN (256 << 10)

/* Membership (gateway/membership.c). The primary refuses joins of node ids it just removed:
 * decommissioned ones for AIS_DECOMMISSION_HOLD_MS (they must not come back by themselves),
 * shut-down ones until the node confirmed it stopped heartbeating (at most
 * AIS_SHUTDOWN_HOLD_MS). At most AIS_JOIN_REFUSED_MAX ids are remembered (oldest replaced).
 * A decommission job polls the leaving node's rebalance every AIS_MEMB_POLL_MS, fails when none
 * started within AIS_MEMB_REB_START_MS and gives up after AIS_MEMB_REB_WAIT_MS. */
#define AIS_JOIN_REFUSED_MAX 64
#define AIS_DECOMMISSION_HOLD_MS (10 * 60 * 1000)
#define AIS_SHUTDOWN_HOLD_MS 10000
#define AIS_MEMB_POLL_MS 200
#define AIS_MEMB_REB_START_MS 30000
#define AIS_MEMB_REB_WAIT_MS (24LL * 3600 * 1000)

/* List sessions a gateway keeps (per list UUID: each target's names fetched but not yet
 * returned, at most one page per target), and how long an idle one lives. */
#define AIS_LIST_SESSIONS_MAX 64
#define AIS_LIST_SESSION_IDLE_MS 60000

/* S3 endpoint (s3/). Credentials in s3.access_keys, each "ID:SECRET" (AWS ids are 20 bytes,
 * secrets 40). The gateway streams object bytes through buffers of AIS_S3_IO_BYTES; an S3
 * request body parsed as XML (DeleteObjects: 1000 keys of up to 1 KiB) is at most
 * AIS_S3_XML_BYTES_MAX. A presigned URL lives at most AIS_S3_PRESIGN_S_MAX (AWS: 7 days);
 * signed requests may be AIS_S3_CLOCK_SKEW_S off our clock (AWS: 15 min). Multipart: parts
 * 1..AIS_S3_PARTS_MAX, each but the last at least AIS_S3_PART_BYTES_MIN. Idle upstream
 * connections to targets kept per gateway: AIS_S3_UP_IDLE_MAX. */
#define AIS_S3_KEYS_MAX 16
#define AIS_S3_KEY_BYTES_MAX 256
#define AIS_S3_IO_BYTES (256u << 10)
#define AIS_S3_XML_BYTES_MAX (2u << 20)
#define AIS_S3_PRESIGN_S_MAX (7 * 24 * 3600)
#define AIS_S3_CLOCK_SKEW_S (15 * 60)
#define AIS_S3_PARTS_MAX 10000
#define AIS_S3_PART_BYTES_MIN (5u << 20)
#define AIS_S3_UP_IDLE_MAX 64
#define AIS_S3_UP_TIMEOUT_MS 30000
/* A PUT body that failed mid-way (bad framing, target gone) is read to its end, up to this
 * much, so the client gets the S3 error instead of a reset connection. */
#define AIS_S3_FAIL_DRAIN_BYTES_MAX (64u << 20)

/* Observability (common/metrics.h, common/statsd.h): one /metrics answer (a target with 64
 * mountpaths writes about 40 KiB); a StatsD datagram (fits one Ethernet frame, as statsd
 * clients do); how often the StatsD thread pushes (ms). */
#define AIS_METRICS_BYTES_MAX (1u << 20)
#define AIS_STATSD_PACKET_BYTES_MAX 1432
#define AIS_STATSD_INTERVAL_MS_MIN 100
#define AIS_STATSD_INTERVAL_MS_MAX 60000
/* statsd.addr ("host:port") and statsd.prefix. */
#define AIS_STATSD_ADDR_BYTES_MAX (AIS_HOST_BYTES_MAX + 8)
#define AIS_STATSD_PREFIX_BYTES_MAX 64

/* Node log (common/log.h): one line's message; the bounds of log.max_size (a rotated file;
 * the top is the most one what=log answer carries, so `?all=true` is always the whole current
 * file) and log.max_total (the current file plus the rotated ones); rotated files kept at most
 * (aisnode.log.1 .. .N: renames under the log mutex stay few); the tail what=log serves by
 * default; the most one what=log answer carries (a file passes max_size by one line;
 * `?offset=` pages on). */
#define AIS_LOG_LINE_BYTES_MAX 1024
#define AIS_LOG_MAX_SIZE_MIN (4 << 10)
#define AIS_LOG_MAX_SIZE_MAX (32 << 20)
#define AIS_LOG_MAX_TOTAL_MAX (2LL << 30)
#define AIS_LOG_FILES_MAX 64
#define AIS_LOG_TAIL_BYTES (1 << 20)
#define AIS_LOG_SERVE_BYTES_MAX (AIS_LOG_MAX_SIZE_MAX + (64 << 10))

/* Batch GET (target/moss.h). */
/* Entries in one batch request: a batch is one archive the client reads in one go. */
#define AIS_MOSS_ENTRIES_MAX 10000
/* The MossReq body (names of AIS_MOSS_ENTRIES_MAX entries); below AIS_REQ_ARENA_BYTES_MAX. */
#define AIS_MOSS_BODY_BYTES_MAX (2u << 20)
/* Read-ahead threads of one batch reply (each works on one call to an owner at a time). */
#define AIS_MOSS_READAHEAD_N 4
/* Entries past the one being written that may be fetched ahead, and the bytes they may hold. */
#define AIS_MOSS_WINDOW_N 512
#define AIS_MOSS_HELD_BYTES_MAX (64u << 20)
/* An entry from another target is read in pieces of at most this (the first one ahead). */
#define AIS_MOSS_PIECE_BYTES (1u << 20)
/* Bytes of each entry read with its size at resolve (small entries then need no second read). */
#define AIS_MOSS_INLINE_BYTES (32u << 10)
/* Entries from one owner read by one call (rpc ObjReadReq), and their bytes. */
#define AIS_MOSS_CALL_REFS_MAX 128
#define AIS_MOSS_CALL_BYTES_MAX (4u << 20)
/* An entry of a remote (cloud) bucket is read over HTTP from its owner (which may cold-GET it)
 * and held whole in memory: its bound. */
#define AIS_MOSS_ENTRY_BYTES_MAX (16u << 20)
/* Wait for one entry (fetch from its owner) before the reply is aborted. */
#define AIS_MOSS_ENTRY_WAIT_MS 60000
/* rpc ObjReadReq (server side): refs in one call and bytes of one reply. */
#define AIS_RPC_OBJ_READ_REFS_MAX 256
#define AIS_RPC_OBJ_READ_BYTES_MAX (8u << 20)

#endif
