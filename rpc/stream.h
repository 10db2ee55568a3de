/*
 * Object streams: bytes of many objects, one after another, from one node to another
 * (rebalance, mirror copies, EC slices, dSort shuffle, batch GET). Framed over nng: an object
 * header, payload chunks of at most AIS_STREAM_CHUNK_BYTES_MAX, and an end mark; every object
 * is acknowledged with the receiver's result, so a sender can drop its copy only after the
 * receiver durably wrote it.
 *
 * Flow control: one frame in flight per stream (the window is one chunk), so a stream holds
 * at most one chunk of memory on each side and a slow receiver blocks its sender. Throughput
 * comes from running several streams at once (one receiver serves up to AIS_STREAMS_MAX).
 */
#ifndef AIS_RPC_STREAM_H
#define AIS_RPC_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* One object's header. Strings may be NULL (sent as ""). On the receiver the pointers are
 * valid only during obj_begin: copy what you keep. */
struct rpc_obj_hdr {
    const char *provider, *ns, *bck, *name;
    uint64_t size;
    const char *cksum_type, *cksum_value, *version, *custom;
    const char *kind;
    const void *opaque;
    size_t opaque_len;
};

/* ---- sender ---- */

struct rpc_stream;

struct rpc_stream_opts {
    int timeout_ms;       /* each frame's round trip; 0 = AIS_RPC_TIMEOUT_MS */
    uint32_t chunk_bytes; /* payload per frame; 0 or above the limit = AIS_STREAM_CHUNK_BYTES_MAX */
};

/* Fills buf with exactly len bytes of the object at offset off; 0 or negative errno. */
typedef int (*rpc_stream_read_fn)(void *ctx, void *buf, size_t len, uint64_t off);

/*
 * Connects to a receiver (tcp:// URL) and waits for it to accept the stream. opts may be
 * NULL. Blocking, bounded by the timeout. 0, -ETIMEDOUT (nobody listening), -EAGAIN (the
 * receiver has AIS_STREAMS_MAX streams) or negative errno.
 */
__attribute__((warn_unused_result)) int
rpc_stream_open(const char *url, const struct rpc_stream_opts *opts, struct rpc_stream **out);
/*
 * Sends one object of h->size bytes, read from fd (from its current position, when fd >= 0)
 * or from rd(rd_ctx) - payload is read straight into the outgoing frame. Blocks while the
 * receiver is behind. Returns once the receiver acknowledged the object: 0 or the receiver's
 * obj_begin/obj_data/obj_end error (the stream stays usable), or a transport error
 * (-ECONNRESET peer gone, -ETIMEDOUT, -ECANCELED aborted, -EIO short read) after which every
 * call fails with it. One thread per stream at a time.
 */
__attribute__((warn_unused_result)) int rpc_stream_send_obj(struct rpc_stream *s,
                                                            const struct rpc_obj_hdr *h, int fd,
                                                            rpc_stream_read_fn rd, void *rd_ctx);
/* Cancels the frame in flight (rpc_stream_send_obj returns -ECANCELED) and fails the stream;
 * the receiver drops the partial object. Any thread, any time before rpc_stream_close. */
void rpc_stream_abort(struct rpc_stream *s);
/* Closes and frees (nothing is pending: every object was acked when its send returned).
 * Returns the stream's sticky error or 0. Accepts NULL. */
int rpc_stream_close(struct rpc_stream *s);

/* ---- receiver ---- */

struct rpc_stream_server;

/*
 * Receiver callbacks, run on receiver worker threads; calls for one stream never overlap and
 * come in order. obj_begin returns a handle for the object (or an error, acked to the sender);
 * obj_data gets payload in order (buf valid for the call); obj_end(ok=1) after the last byte -
 * its result is the object's ack - or obj_end(ok=0) when the object is dropped (sender gone,
 * aborted, a data error, protocol error, server stop); obj_end is called exactly once per
 * successful obj_begin.
 */
struct rpc_stream_ops {
    int (*obj_begin)(void *ctx, const struct rpc_obj_hdr *h, void **handle);
    int (*obj_data)(void *ctx, void *handle, const void *buf, size_t len);
    int (*obj_end)(void *ctx, void *handle, int ok);
};

/* workers: receiver threads, 0 = 4, capped at AIS_STREAM_WORKERS_MAX. */
struct rpc_stream_server_opts {
    unsigned workers;
};

/*
 * Listens on url (a port of its own: a node uses ctrl_port + AIS_DATA_PORT_OFFSET). ops/ctx
 * borrowed until stop. 0 or negative errno (-EADDRINUSE ...); on error nothing is left running.
 */
__attribute__((warn_unused_result)) int
rpc_stream_listen(const char *url, const struct rpc_stream_server_opts *opts,
                  const struct rpc_stream_ops *ops, void *ctx, struct rpc_stream_server **out);
/* Stops: closes the socket (senders fail), joins workers, drops partial objects
 * (obj_end(ok=0)), frees. Accepts NULL. */
void rpc_stream_server_stop(struct rpc_stream_server *s);

#endif
