/*
 * Design notes: a stream is one req0 socket with one connection (pipe) to the receiver's rep0
 * socket, and the receiver keys its per-stream state by that pipe: no stream ids, and a
 * connection that goes away is exactly a stream that ended. Every frame is a request whose
 * reply is sent after the receiver consumed it, so at most one frame (<= one chunk) of a
 * stream is in flight: that is the window, and a slow receiver blocks its sender without any
 * queue growing. Because a stream never has two frames outstanding, any receiver worker may
 * take its next frame and order still holds; a `busy` mark keeps the sweeper away meanwhile.
 *
 * Frame = [u32 big-endian header length][StreamFrame protobuf][payload]. The sender allocates
 * the nng message at its final size and reads the payload straight into it (no extra copy);
 * the receiver hands obj_data a pointer into the received message.
 *
 * Failure: the sender's req0 never re-sends (REQ_RESENDTIME infinite), so a lost connection
 * fails the pending reply at once; a pipe-removal notification also cancels a pending send.
 * Every frame round trip has a deadline. Transport errors are sticky. The receiver learns of
 * a lost sender from its own pipe-removal notification (or AIS_STREAM_IDLE_MS of silence) and
 * a periodic sweep calls obj_end(ok=0) for the partial object.
 */
#include "rpc/stream.h"

#include "common/assert.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"
#include "proto/ais.pb-c.h"
#include "rpc/rpc_int.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Receiver workers wake this often to sweep streams whose sender went away. */
#define RS_SWEEP_MS 100
#define RS_WORKERS_DEFAULT 4
#define RS_REPLY_BYTES_MAX 4096

static_assert(AIS_STREAM_CHUNK_BYTES_MAX + AIS_STREAM_HDR_BYTES_MAX + 4 <= AIS_RPC_MSG_BYTES_MAX,
              "a stream frame fits one nng message");

/* ---- frames ---- */

static int
frame_new(const Aisproto__StreamFrame *f, size_t payload, nng_msg **out, uint8_t **pl)
{
    size_t hl = aisproto__stream_frame__get_packed_size(f);
    nng_msg *m = NULL;
    if (hl > AIS_STREAM_HDR_BYTES_MAX) {
        return -EMSGSIZE;
    }
    if (nng_msg_alloc(&m, 4 + hl + payload) != 0) {
        return -ENOMEM;
    }
    uint8_t *b = nng_msg_body(m);
    b[0] = (uint8_t)(hl >> 24);
    b[1] = (uint8_t)(hl >> 16);
    b[2] = (uint8_t)(hl >> 8);
    b[3] = (uint8_t)hl;
    aisproto__stream_frame__pack(f, b + 4);
    *pl = b + 4 + hl;
    *out = m;
    return 0;
}

/* Splits a received frame; *f must be freed with aisproto__stream_frame__free_unpacked. */
static int
frame_parse(nng_msg *m, Aisproto__StreamFrame **f, const uint8_t **pl, size_t *plen)
{
    const uint8_t *b = nng_msg_body(m);
    size_t len = nng_msg_len(m);
    if (len < 4) {
        return AIS_EBADMSG;
    }
    size_t hl = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
    if (hl > AIS_STREAM_HDR_BYTES_MAX || hl > len - 4) {
        return AIS_EBADMSG;
    }
    *f = aisproto__stream_frame__unpack(NULL, hl, b + 4);
    if (*f == NULL) {
        return AIS_EBADMSG;
    }
    *pl = b + 4 + hl;
    *plen = len - 4 - hl;
    return 0;
}

/* ---- sender ---- */

struct rpc_stream {
    nng_socket sock;
    nng_aio *aio;
    int timeout_ms;
    uint32_t chunk;
    pthread_mutex_t mu; /* aborted/dead vs starting an aio op */
    int aborted, dead, closing;
    int err; /* sticky transport error; owner thread only */
};

static void
sender_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    struct rpc_stream *s = arg;
    pthread_mutex_lock(&s->mu);
    s->dead = 1;
    if (!s->closing) {
        nng_aio_cancel(s->aio);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Starts op (send or recv) on the stream's aio unless the stream failed; waits for it. */
static int
stream_op(struct rpc_stream *s, void (*op)(nng_socket, nng_aio *))
{
    pthread_mutex_lock(&s->mu);
    int dead = s->dead, aborted = s->aborted;
    if (!dead && !aborted) {
        nng_aio_set_timeout(s->aio, s->timeout_ms);
        op(s->sock, s->aio);
    }
    pthread_mutex_unlock(&s->mu);
    int rv = (dead || aborted) ? NNG_ECANCELED : (nng_aio_wait(s->aio), nng_aio_result(s->aio));
    if (rv == 0) {
        return 0;
    }
    pthread_mutex_lock(&s->mu);
    int err = s->aborted ? -ECANCELED : s->dead ? -ECONNRESET : rpc_nng_err(rv);
    pthread_mutex_unlock(&s->mu);
    return err;
}

/* One frame round trip: sends m (consumed) and returns the receiver's code in *code. */
static int
frame_rt(struct rpc_stream *s, nng_msg *m, int *code)
{
    nng_aio_set_msg(s->aio, m);
    int err = stream_op(s, nng_send_aio);
    if (err != 0) {
        nng_msg_free(m); /* not sent: still ours */
        return err;
    }
    err = stream_op(s, nng_recv_aio);
    if (err != 0) {
        return err;
    }
    nng_msg *r = nng_aio_get_msg(s->aio);
    Aisproto__StreamReply *rep =
        aisproto__stream_reply__unpack(NULL, nng_msg_len(r), nng_msg_body(r));
    nng_msg_free(r);
    if (rep == NULL) {
        return AIS_EBADMSG;
    }
    *code = rep->code > 0 ? -EIO : rep->code;
    aisproto__stream_reply__free_unpacked(rep, NULL);
    return 0;
}

/* Sends a frame without payload (hello, drop); returns the receiver's code or the error. */
static int
frame_ctl(struct rpc_stream *s, Aisproto__StreamFrame *f)
{
    nng_msg *m = NULL;
    uint8_t *pl = NULL;
    int code = 0, err = frame_new(f, 0, &m, &pl);
    err = err ? err : frame_rt(s, m, &code);
    if (err != 0) {
        s->err = err;
        return err;
    }
    return code;
}

static int
stream_setup(struct rpc_stream *s, const char *url)
{
    int rv = nng_req0_open(&s->sock);
    if (rv != 0) {
        return rpc_nng_err(rv);
    }
    nng_socket_set_ms(s->sock, NNG_OPT_RECONNMINT, 10);
    nng_socket_set_ms(s->sock, NNG_OPT_RECONNMAXT, 100);
    nng_socket_set_ms(s->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, RS_REPLY_BYTES_MAX);
    rv = nng_aio_alloc(&s->aio, NULL, NULL);
    rv = rv ? rv : nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, sender_pipe_cb, s);
    rv = rv ? rv : nng_dial(s->sock, url, NULL, NNG_FLAG_NONBLOCK);
    return rpc_nng_err(rv);
}

int
rpc_stream_open(const char *url, const struct rpc_stream_opts *opts, struct rpc_stream **out)
{
    AIS_ASSERT(url != NULL);
    struct rpc_stream *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return -ENOMEM;
    }
    pthread_mutex_init(&s->mu, NULL);
    s->sock = (nng_socket)NNG_SOCKET_INITIALIZER;
    s->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : AIS_RPC_TIMEOUT_MS;
    s->chunk = opts ? opts->chunk_bytes : 0;
    if (s->chunk == 0 || s->chunk > AIS_STREAM_CHUNK_BYTES_MAX) {
        s->chunk = AIS_STREAM_CHUNK_BYTES_MAX;
    }
    int err = stream_setup(s, url);
    if (err == 0) {
        Aisproto__StreamFrame f = AISPROTO__STREAM_FRAME__INIT;
        f.hello = 1;
        err = frame_ctl(s, &f);
    }
    if (err != 0) {
        AIS_LOG_DBG("req=stream-open url=%s err=\"%s\"", url, ais_strerror(err));
        (void)rpc_stream_close(s);
        return err;
    }
    *out = s;
    return 0;
}

static int
read_full(int fd, uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? -errno : -EIO;
        }
        done += (size_t)n;
    }
    return 0;
}

static void
hdr_to_pb(const struct rpc_obj_hdr *h, Aisproto__ObjHdr *p, Aisproto__Bck *b)
{
    b->name = (char *)(h->bck ? h->bck : "");
    b->provider = (char *)(h->provider ? h->provider : "");
    b->ns = (char *)(h->ns ? h->ns : "");
    p->bck = b;
    p->name = (char *)(h->name ? h->name : "");
    p->size = h->size;
    p->cksum_type = (char *)(h->cksum_type ? h->cksum_type : "");
    p->cksum_value = (char *)(h->cksum_value ? h->cksum_value : "");
    p->version = (char *)(h->version ? h->version : "");
    p->custom = (char *)(h->custom ? h->custom : "");
    p->kind = (char *)(h->kind ? h->kind : "");
    p->opaque.data = (uint8_t *)h->opaque;
    p->opaque.len = h->opaque ? h->opaque_len : 0;
}

/* Builds and fills one data frame; a read error returns before anything is sent. */
static int
data_frame(const Aisproto__StreamFrame *f, size_t n, int fd, rpc_stream_read_fn rd, void *rd_ctx,
           nng_msg **out)
{
    uint8_t *pl = NULL;
    nng_msg *m = NULL;
    int err = frame_new(f, n, &m, &pl);
    if (err == 0 && n > 0) {
        err = fd >= 0 ? read_full(fd, pl, n) : rd(rd_ctx, pl, n, f->offset);
    }
    if (err != 0 && m != NULL) {
        nng_msg_free(m);
    }
    if (err == 0) {
        *out = m;
    }
    return err;
}

int
rpc_stream_send_obj(struct rpc_stream *s, const struct rpc_obj_hdr *h, int fd,
                    rpc_stream_read_fn rd, void *rd_ctx)
{
    AIS_ASSERT(s != NULL && h != NULL);
    AIS_ASSERT(fd >= 0 || rd != NULL);
    if (s->err != 0) {
        return s->err;
    }
    Aisproto__ObjHdr ph = AISPROTO__OBJ_HDR__INIT;
    Aisproto__Bck pb = AISPROTO__BCK__INIT;
    hdr_to_pb(h, &ph, &pb);
    int code = 0;
    for (uint64_t off = 0, first = 1; first || off < h->size; first = 0) {
        uint64_t left = h->size - off;
        size_t n = left < s->chunk ? (size_t)left : s->chunk;
        Aisproto__StreamFrame f = AISPROTO__STREAM_FRAME__INIT;
        f.hdr = first ? &ph : NULL;
        f.offset = off;
        f.last = off + n == h->size;
        nng_msg *m = NULL;
        int err = data_frame(&f, n, fd, rd, rd_ctx, &m);
        if (err != 0) {
            if (!first) { /* the receiver holds a partial object: tell it to drop it */
                Aisproto__StreamFrame d = AISPROTO__STREAM_FRAME__INIT;
                d.drop = 1;
                (void)frame_ctl(s, &d);
            }
            return s->err ? s->err : err;
        }
        err = frame_rt(s, m, &code);
        if (err != 0) {
            s->err = err;
            return err;
        }
        if (code != 0) {
            return code; /* the receiver dropped the object */
        }
        off += n;
    }
    return code;
}

void
rpc_stream_abort(struct rpc_stream *s)
{
    pthread_mutex_lock(&s->mu);
    s->aborted = 1;
    nng_aio_cancel(s->aio);
    pthread_mutex_unlock(&s->mu);
}

int
rpc_stream_close(struct rpc_stream *s)
{
    if (s == NULL) {
        return 0;
    }
    int err = s->err;
    /* The aio goes before the socket: nng_aio_free waits for nng's expiry thread, whose timeout
     * cancel (nng 1.5) unlocks the socket's mutex after completing the aio; closing the socket
     * first could free that mutex under it. Pipe callbacks stop touching the aio first. */
    pthread_mutex_lock(&s->mu);
    s->closing = 1;
    pthread_mutex_unlock(&s->mu);
    nng_aio_free(s->aio);
    if (nng_socket_id(s->sock) > 0) {
        nng_close(s->sock); /* after this no pipe callback runs */
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
    return err;
}

/* ---- receiver ---- */

struct rs_stream {
    uint32_t pipe; /* 0 = free */
    int busy, gone, obj_open;
    void *handle;
    uint64_t off, size;
    int64_t last_ns;
};

struct rs_worker {
    struct rpc_stream_server *srv;
    pthread_t th;
    nng_ctx ctx;
    nng_aio *aio;
};

struct rpc_stream_server {
    nng_socket sock;
    int sock_open;
    const struct rpc_stream_ops *ops;
    void *ctx;
    pthread_mutex_t mu; /* streams, swept_ns */
    int64_t swept_ns;
    struct rs_stream streams[AIS_STREAMS_MAX];
    unsigned nworkers, started;
    struct rs_worker w[AIS_STREAM_WORKERS_MAX];
};

static struct rs_stream *
rs_find(struct rpc_stream_server *s, uint32_t pipe)
{
    for (size_t i = 0; i < AIS_STREAMS_MAX; i++) {
        if (s->streams[i].pipe == pipe) {
            return &s->streams[i];
        }
    }
    return NULL;
}

static void
rs_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    struct rpc_stream_server *s = arg;
    pthread_mutex_lock(&s->mu);
    struct rs_stream *st = rs_find(s, nng_pipe_id(p));
    if (st != NULL) {
        st->gone = 1;
    }
    pthread_mutex_unlock(&s->mu);
}

/* Drops the stream's open object (stream is busy: ours). */
static void
rs_drop(struct rpc_stream_server *s, struct rs_stream *st)
{
    if (st->obj_open) {
        st->obj_open = 0;
        (void)s->ops->obj_end(s->ctx, st->handle, 0);
    }
}

static int
rs_begin(struct rpc_stream_server *s, struct rs_stream *st, const Aisproto__ObjHdr *p)
{
    struct rpc_obj_hdr h = {
        .provider = p->bck ? p->bck->provider : "",
        .ns = p->bck ? p->bck->ns : "",
        .bck = p->bck ? p->bck->name : "",
        .name = p->name,
        .size = p->size,
        .cksum_type = p->cksum_type,
        .cksum_value = p->cksum_value,
        .version = p->version,
        .custom = p->custom,
        .kind = p->kind,
        .opaque = p->opaque.data,
        .opaque_len = p->opaque.len,
    };
    rs_drop(s, st); /* a new header while one is open: the old one is incomplete */
    int err = s->ops->obj_begin(s->ctx, &h, &st->handle);
    if (err == 0) {
        st->obj_open = 1;
        st->off = 0;
        st->size = p->size;
    }
    return err;
}

/* Applies one frame to a (busy) stream; returns the code to answer. */
static int
rs_apply(struct rpc_stream_server *s, struct rs_stream *st, const Aisproto__StreamFrame *f,
         const uint8_t *pl, size_t plen)
{
    int err = 0;
    if (f->hello || f->drop) {
        rs_drop(s, st);
        return 0;
    }
    if (f->hdr != NULL && (err = rs_begin(s, st, f->hdr)) != 0) {
        return err;
    }
    if (!st->obj_open) {
        return AIS_EBADMSG;
    }
    if (f->offset != st->off || plen > st->size - st->off) {
        rs_drop(s, st);
        return AIS_EBADMSG;
    }
    if (plen > 0 && (err = s->ops->obj_data(s->ctx, st->handle, pl, plen)) != 0) {
        rs_drop(s, st);
        return err;
    }
    st->off += plen;
    if (!f->last) {
        return 0;
    }
    if (st->off != st->size) {
        rs_drop(s, st);
        return AIS_EBADMSG;
    }
    st->obj_open = 0;
    return s->ops->obj_end(s->ctx, st->handle, 1);
}

/* Marks the frame's stream busy (creating it on hello); NULL with *code set when refused. */
static struct rs_stream *
rs_claim(struct rpc_stream_server *s, uint32_t pipe, int hello, int *code)
{
    pthread_mutex_lock(&s->mu);
    struct rs_stream *st = rs_find(s, pipe);
    if (st == NULL && hello) {
        st = rs_find(s, 0);
        if (st != NULL) {
            memset(st, 0, sizeof(*st));
            st->pipe = pipe;
        }
        *code = -EAGAIN; /* AIS_STREAMS_MAX streams open */
    } else if (st == NULL || st->busy) {
        st = NULL;
        *code = AIS_EBADMSG; /* unknown stream, or two frames in flight: protocol error */
    }
    if (st != NULL) {
        st->busy = 1;
    }
    pthread_mutex_unlock(&s->mu);
    return st;
}

static nng_msg *
rs_reply(int code)
{
    Aisproto__StreamReply r = AISPROTO__STREAM_REPLY__INIT;
    nng_msg *m = NULL;
    r.code = code;
    r.message = (char *)(code ? ais_strerror(code) : "");
    if (nng_msg_alloc(&m, aisproto__stream_reply__get_packed_size(&r)) != 0) {
        return NULL;
    }
    aisproto__stream_reply__pack(&r, nng_msg_body(m));
    return m;
}

/* Handles one received frame (consumes m); returns the reply to send. */
static nng_msg *
rs_frame(struct rpc_stream_server *s, nng_msg *m)
{
    Aisproto__StreamFrame *f = NULL;
    const uint8_t *pl = NULL;
    size_t plen = 0;
    uint32_t pipe = nng_pipe_id(nng_msg_get_pipe(m));
    int code = frame_parse(m, &f, &pl, &plen);
    struct rs_stream *st = code ? NULL : rs_claim(s, pipe, f->hello, &code);
    if (st != NULL) {
        code = rs_apply(s, st, f, pl, plen);
        pthread_mutex_lock(&s->mu);
        st->busy = 0;
        st->last_ns = ais_mono_ns();
        pthread_mutex_unlock(&s->mu);
    }
    if (f != NULL) {
        aisproto__stream_frame__free_unpacked(f, NULL);
    }
    nng_msg_free(m);
    return rs_reply(code);
}

/* Drops streams whose sender went away (or went silent), at most every RS_SWEEP_MS. */
static void
rs_sweep(struct rpc_stream_server *s)
{
    void *drop[AIS_STREAMS_MAX];
    size_t n = 0;
    int64_t now = ais_mono_ns();
    pthread_mutex_lock(&s->mu);
    if (now - s->swept_ns >= (int64_t)RS_SWEEP_MS * 1000000) {
        s->swept_ns = now;
        for (size_t i = 0; i < AIS_STREAMS_MAX; i++) {
            struct rs_stream *st = &s->streams[i];
            int idle = now - st->last_ns > (int64_t)AIS_STREAM_IDLE_MS * 1000000;
            if (st->pipe == 0 || st->busy || !(st->gone || idle)) {
                continue;
            }
            if (st->obj_open) {
                drop[n++] = st->handle;
            }
            memset(st, 0, sizeof(*st));
        }
    }
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < n; i++) {
        AIS_LOG_INFO("req=stream msg=\"sender gone, partial object dropped\"");
        (void)s->ops->obj_end(s->ctx, drop[i], 0);
    }
}

static void *
rs_main(void *arg)
{
    struct rs_worker *w = arg;
    for (;;) {
        nng_aio_set_timeout(w->aio, RS_SWEEP_MS);
        nng_ctx_recv(w->ctx, w->aio);
        nng_aio_wait(w->aio);
        int rv = nng_aio_result(w->aio);
        if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
            break;
        }
        nng_msg *reply = rv == 0 ? rs_frame(w->srv, nng_aio_get_msg(w->aio)) : NULL;
        if (reply != NULL) {
            nng_aio_set_timeout(w->aio, AIS_RPC_TIMEOUT_MS);
            nng_aio_set_msg(w->aio, reply);
            nng_ctx_send(w->ctx, w->aio);
            nng_aio_wait(w->aio);
            if (nng_aio_result(w->aio) != 0) {
                nng_msg_free(reply);
            }
        }
        rs_sweep(w->srv);
    }
    return NULL;
}

static int
rs_start(struct rpc_stream_server *s, const char *url)
{
    int rv = nng_rep0_open(&s->sock);
    if (rv != 0) {
        return rv;
    }
    s->sock_open = 1;
    nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ,
                        4 + AIS_STREAM_HDR_BYTES_MAX + AIS_STREAM_CHUNK_BYTES_MAX);
    rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, rs_pipe_cb, s);
    for (unsigned i = 0; rv == 0 && i < s->nworkers; i++) {
        s->w[i].srv = s;
        rv = nng_ctx_open(&s->w[i].ctx, s->sock);
        rv = rv ? rv : nng_aio_alloc(&s->w[i].aio, NULL, NULL);
    }
    rv = rv ? rv : nng_listen(s->sock, url, NULL, 0);
    for (; rv == 0 && s->started < s->nworkers; s->started++) {
        if (pthread_create(&s->w[s->started].th, NULL, rs_main, &s->w[s->started]) != 0) {
            rv = NNG_ENOMEM;
        }
    }
    return rv;
}

int
rpc_stream_listen(const char *url, const struct rpc_stream_server_opts *opts,
                  const struct rpc_stream_ops *ops, void *ctx, struct rpc_stream_server **out)
{
    AIS_ASSERT(url != NULL);
    AIS_ASSERT(ops != NULL && ops->obj_begin && ops->obj_data && ops->obj_end);
    struct rpc_stream_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return -ENOMEM;
    }
    s->ops = ops;
    s->ctx = ctx;
    pthread_mutex_init(&s->mu, NULL);
    unsigned n = opts && opts->workers ? opts->workers : RS_WORKERS_DEFAULT;
    s->nworkers = n > AIS_STREAM_WORKERS_MAX ? AIS_STREAM_WORKERS_MAX : n;
    int rv = rs_start(s, url);
    if (rv != 0) {
        AIS_LOG_ERR("req=stream-listen url=%s err=\"%s\"", url, nng_strerror(rv));
        rpc_stream_server_stop(s);
        return rpc_nng_err(rv);
    }
    *out = s;
    return 0;
}

void
rpc_stream_server_stop(struct rpc_stream_server *s)
{
    if (s == NULL) {
        return;
    }
    /* Stopped aios fail every op with NNG_ECANCELED, so the workers leave their loops; the aios
     * are freed (which waits for nng's expiry thread) before the socket is closed. */
    for (unsigned i = 0; i < s->nworkers; i++) {
        nng_aio_stop(s->w[i].aio);
    }
    for (unsigned i = 0; i < s->started; i++) {
        pthread_join(s->w[i].th, NULL);
    }
    for (unsigned i = 0; i < s->nworkers; i++) {
        nng_aio_free(s->w[i].aio);
    }
    if (s->sock_open) {
        nng_close(s->sock);
    }
    for (size_t i = 0; i < AIS_STREAMS_MAX; i++) {
        if (s->streams[i].pipe != 0 && s->streams[i].obj_open) {
            (void)s->ops->obj_end(s->ctx, s->streams[i].handle, 0);
        }
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}
