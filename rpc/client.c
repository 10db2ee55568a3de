/*
 * Design notes: the client keeps one req0 socket per peer URL for the life of the process (or
 * until idle for AIS_RPC_PEER_IDLE_MS); every call opens its own nng context on that socket,
 * so concurrent calls to one peer share one TCP connection without sharing state. The socket's
 * dialer is non-blocking and keeps reconnecting (10 ms doubling to 100 ms): a request that
 * cannot be delivered waits in the send phase, bounded by the call's budget, so connecting is
 * retried for every call without ever delivering a request twice. After delivery, nng never
 * re-sends by itself (REQ_RESENDTIME infinite); a dropped connection ends the attempt with
 * -ECONNRESET, which only idempotent calls retry. A -EAGAIN answer (server queue full: the
 * request did not run) is retried by every call. Retries are counted (AIS_RPC_RETRIES_MAX),
 * back off from AIS_RPC_BACKOFF_MS and never exceed the caller's budget.
 *
 * The pool is a fixed table under one mutex; a peer is freed only with no call in flight, and
 * sockets are closed outside the lock (nng_close waits for pipes to wind down).
 */
#include "common/assert.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"
#include "rpc/rpc_int.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RPC_URL_BYTES_MAX 256
/* Idle peers closed per call at most, so one call never pays for a big sweep. */
#define RPC_SWEEP_MAX 4

struct rpc_peer {
    char url[RPC_URL_BYTES_MAX];
    nng_socket sock;
    unsigned calls; /* in flight */
    int64_t used_ns;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t idle; /* a call finished */
    struct rpc_peer *peers[AIS_RPC_PEERS_MAX];
    size_t n;
    uint64_t sockets_opened, calls, retries;
} g_pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .idle = PTHREAD_COND_INITIALIZER};

static int
peer_open(const char *url, struct rpc_peer **out)
{
    struct rpc_peer *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return -ENOMEM;
    }
    snprintf(p->url, sizeof(p->url), "%s", url);
    int rv = nng_req0_open(&p->sock);
    if (rv != 0) {
        free(p);
        return rpc_nng_err(rv);
    }
    nng_socket_set_ms(p->sock, NNG_OPT_RECONNMINT, 10);
    nng_socket_set_ms(p->sock, NNG_OPT_RECONNMAXT, 100);
    nng_socket_set_ms(p->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_socket_set_size(p->sock, NNG_OPT_RECVMAXSZ, AIS_RPC_MSG_BYTES_MAX);
    rv = nng_dial(p->sock, url, NULL, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        nng_close(p->sock);
        free(p);
        return rpc_nng_err(rv);
    }
    *out = p;
    return 0;
}

/* Under the lock: moves up to RPC_SWEEP_MAX idle peers (or the LRU one when need_slot) out. */
static size_t
peers_take_idle(int64_t now, int need_slot, struct rpc_peer **out)
{
    size_t k = 0, lru = SIZE_MAX;
    for (size_t i = 0; i < g_pool.n && k < RPC_SWEEP_MAX;) {
        struct rpc_peer *p = g_pool.peers[i];
        if (p->calls == 0 && now - p->used_ns > (int64_t)AIS_RPC_PEER_IDLE_MS * 1000000) {
            out[k++] = p;
            g_pool.peers[i] = g_pool.peers[--g_pool.n];
            continue;
        }
        if (p->calls == 0 && (lru == SIZE_MAX || p->used_ns < g_pool.peers[lru]->used_ns)) {
            lru = i;
        }
        i++;
    }
    if (need_slot && k == 0 && lru != SIZE_MAX) {
        out[k++] = g_pool.peers[lru];
        g_pool.peers[lru] = g_pool.peers[--g_pool.n];
    }
    return k;
}

static void
peers_close(struct rpc_peer **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        nng_close(v[i]->sock);
        free(v[i]);
    }
}

/* Finds or opens the peer for url and counts a call on it. */
static int
peer_acquire(const char *url, struct rpc_peer **out)
{
    struct rpc_peer *victims[RPC_SWEEP_MAX], *p = NULL;
    int64_t now = ais_mono_ns();
    int err = 0;
    if (strlen(url) >= RPC_URL_BYTES_MAX) {
        return -EINVAL;
    }
    pthread_mutex_lock(&g_pool.mu);
    size_t nv = peers_take_idle(now, g_pool.n == AIS_RPC_PEERS_MAX, victims);
    for (size_t i = 0; i < g_pool.n && p == NULL; i++) {
        if (strcmp(g_pool.peers[i]->url, url) == 0) {
            p = g_pool.peers[i];
        }
    }
    if (p == NULL && g_pool.n == AIS_RPC_PEERS_MAX) {
        err = -EAGAIN; /* every cached peer is busy */
    } else if (p == NULL && (err = peer_open(url, &p)) == 0) {
        g_pool.peers[g_pool.n++] = p;
        g_pool.sockets_opened++;
    }
    if (err == 0 && p->calls >= AIS_RPC_PEER_CALLS_MAX) {
        err = -EAGAIN;
    }
    if (err == 0) {
        p->calls++;
        p->used_ns = now;
        g_pool.calls++;
    }
    pthread_mutex_unlock(&g_pool.mu);
    peers_close(victims, nv);
    if (err == 0) {
        *out = p;
    }
    return err;
}

static void
peer_release(struct rpc_peer *p)
{
    pthread_mutex_lock(&g_pool.mu);
    AIS_ASSERT(p->calls > 0);
    p->calls--;
    p->used_ns = ais_mono_ns();
    pthread_cond_broadcast(&g_pool.idle);
    pthread_mutex_unlock(&g_pool.mu);
}

void
rpc_client_stats(struct rpc_client_stats *out)
{
    pthread_mutex_lock(&g_pool.mu);
    out->sockets_opened = g_pool.sockets_opened;
    out->calls = g_pool.calls;
    out->retries = g_pool.retries;
    out->peers = g_pool.n;
    pthread_mutex_unlock(&g_pool.mu);
}

void
rpc_client_shutdown(void)
{
    for (;;) {
        struct rpc_peer *v[RPC_SWEEP_MAX];
        size_t n = 0;
        pthread_mutex_lock(&g_pool.mu);
        while (g_pool.n > 0 && n < RPC_SWEEP_MAX) {
            struct rpc_peer *p = g_pool.peers[g_pool.n - 1];
            if (p->calls > 0) { /* bounded: every call has a deadline */
                pthread_cond_wait(&g_pool.idle, &g_pool.mu);
                continue;
            }
            v[n++] = p;
            g_pool.n--;
        }
        pthread_mutex_unlock(&g_pool.mu);
        if (n == 0) {
            return;
        }
        peers_close(v, n);
    }
}

static int
remaining_ms(int64_t deadline_ns)
{
    int64_t left = (deadline_ns - ais_mono_ns()) / 1000000;
    return left < 1 ? 0 : (int)left;
}

/* One request/reply on a fresh context of p's socket. *sent tells whether the request left. */
static int
attempt(struct rpc_peer *p, int64_t deadline_ns, const nng_msg *tmpl, nng_msg **resp, int *sent)
{
    nng_ctx c;
    nng_aio *aio = NULL;
    nng_msg *m = NULL;
    int rv = nng_ctx_open(&c, p->sock);
    if (rv != 0) {
        return rpc_nng_err(rv);
    }
    nng_ctx_set_ms(c, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    rv = nng_aio_alloc(&aio, NULL, NULL);
    rv = rv ? rv : nng_msg_dup(&m, tmpl);
    if (rv == 0) {
        nng_aio_set_msg(aio, m);
        nng_aio_set_timeout(aio, remaining_ms(deadline_ns) ? remaining_ms(deadline_ns) : 1);
        nng_ctx_send(c, aio);
        nng_aio_wait(aio);
        rv = nng_aio_result(aio);
        if (rv != 0) {
            nng_msg_free(m); /* still ours when the send failed */
        }
    }
    *sent = rv == 0;
    if (rv == 0) {
        nng_aio_set_timeout(aio, remaining_ms(deadline_ns) ? remaining_ms(deadline_ns) : 1);
        nng_ctx_recv(c, aio);
        nng_aio_wait(aio);
        rv = nng_aio_result(aio);
        if (rv == 0) {
            *resp = nng_aio_get_msg(aio);
        }
    }
    /* The aio first: nng_aio_free waits for nng's expiry thread to leave a timeout cancel that
     * may still touch the context and socket (nng 1.5 completes the aio before that cancel
     * unlocks the socket's mutex). */
    nng_aio_free(aio);
    nng_ctx_close(c);
    return rpc_nng_err(rv);
}

/* Decodes a reply; an Err body becomes its code. */
static int
decode(const char *url, nng_msg *m, Aisproto__Msg **resp, struct rpc_err *err)
{
    Aisproto__Msg *r = aisproto__msg__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
    nng_msg_free(m);
    if (r == NULL) {
        snprintf(err->msg, sizeof(err->msg), "rpc to %.128s: malformed reply", url);
        return err->code = AIS_EBADMSG;
    }
    if (r->body_case == AISPROTO__MSG__BODY_ERR) {
        int rc = r->err->code < 0 ? r->err->code : -EIO;
        snprintf(err->msg, sizeof(err->msg), "%s", r->err->message);
        err->code = rc;
        aisproto__msg__free_unpacked(r, NULL);
        return rc;
    }
    *resp = r;
    return 0;
}

static int
retryable(int rc, int sent, unsigned flags)
{
    if (rc == -EAGAIN) {
        return 1; /* the peer did not run it */
    }
    return (flags & RPC_CALL_IDEMPOTENT) && sent && rc == -ECONNRESET;
}

/* Sleeps the backoff of retry `k` if it fits the budget; 0 when there is no time left. */
static int
backoff(unsigned k, int64_t deadline_ns)
{
    int64_t ms = (int64_t)AIS_RPC_BACKOFF_MS << k;
    if (remaining_ms(deadline_ns) <= ms) {
        return 0;
    }
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return 1;
}

static int
call_loop(struct rpc_peer *p, int64_t deadline, unsigned flags, const nng_msg *tmpl,
          Aisproto__Msg **resp, struct rpc_err *err)
{
    int rc = 0;
    for (unsigned k = 0;; k++) {
        nng_msg *m = NULL;
        int sent = 0;
        memset(err, 0, sizeof(*err));
        rc = attempt(p, deadline, tmpl, &m, &sent);
        if (rc == 0) {
            rc = decode(p->url, m, resp, err);
        } else {
            snprintf(err->msg, sizeof(err->msg), "rpc to %.128s: %s", p->url, ais_strerror(rc));
            err->code = rc;
        }
        if (rc == 0 || k >= AIS_RPC_RETRIES_MAX || !retryable(rc, sent, flags) ||
            !backoff(k, deadline)) {
            return rc;
        }
        pthread_mutex_lock(&g_pool.mu);
        g_pool.retries++;
        pthread_mutex_unlock(&g_pool.mu);
    }
}

int
rpc_call(const char *url, int timeout_ms, unsigned flags, const Aisproto__Msg *req,
         Aisproto__Msg **resp, struct rpc_err *err)
{
    AIS_ASSERT(url != NULL);
    AIS_ASSERT(timeout_ms > 0);
    int64_t deadline = ais_mono_ns() + (int64_t)timeout_ms * 1000000;
    struct rpc_peer *p = NULL;
    nng_msg *tmpl = NULL;
    size_t len = aisproto__msg__get_packed_size(req);
    int rc = len > AIS_RPC_MSG_BYTES_MAX ? -EMSGSIZE : 0;
    if (rc == 0) {
        rc = rpc_nng_err(nng_msg_alloc(&tmpl, len));
    }
    if (rc == 0) {
        aisproto__msg__pack(req, nng_msg_body(tmpl));
        rc = peer_acquire(url, &p);
    }
    if (rc == 0) {
        rc = call_loop(p, deadline, flags, tmpl, resp, err);
        peer_release(p);
    } else {
        snprintf(err->msg, sizeof(err->msg), "rpc to %.128s: %s", url, ais_strerror(rc));
        err->code = rc;
    }
    if (tmpl != NULL) {
        nng_msg_free(tmpl);
    }
    return rc;
}
