/*
 * Design notes: a minimal HTTP/1.1 client for the gateway-to-target hop of /s3. The edge
 * pushes request bodies to us piece by piece and pulls response bodies from us, which is the
 * shape of a plain blocking socket, not of libcurl's callbacks; each request thread blocks on
 * its own socket with SO_SNDTIMEO/SO_RCVTIMEO of AIS_S3_UP_TIMEOUT_MS. Response heads are read
 * into a fixed buffer; bodies are read through the caller's buffer, so the hop holds at most one
 * bounded buffer per request. Connections whose exchange completed go back to a small idle set
 * (at most AIS_S3_UP_IDLE_MAX, keyed by host:port); one that the target closed meanwhile is
 * seen as readable-at-EOF before reuse and dropped. Targets answer with Content-Length (MHD),
 * so chunked responses are not needed.
 */
#include "common/log.h"
#include "common/util.h"
#include "s3/s3_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define UP_HEAD_BYTES 16384
#define UP_HDRS_MAX 64
#define UP_DRAIN_BYTES_MAX (64u << 10)

struct s3_up {
    struct s3_srv *s;
    int fd;
    char host[64];
    uint16_t port;
    int head_done;
    int status;
    int head_req;     /* request was HEAD: no body follows */
    int64_t clen;     /* -1 unknown (read to EOF; not reusable) */
    int64_t left;     /* body bytes not yet read */
    int64_t hdr_clen; /* Content-Length as the head says (HEAD: the object size) */
    int reusable;
    int reused; /* taken from the idle set: may have been closed by the target meanwhile */
    size_t nh;
    const char *hn[UP_HDRS_MAX], *hv[UP_HDRS_MAX];
    size_t blen, boff; /* buf[boff..blen) = body bytes read with the head */
    char buf[UP_HEAD_BYTES];
};

static int
parse_base(const char *base, char *host, size_t cap, uint16_t *port)
{
    const char *p = strncmp(base, "http://", 7) == 0 ? base + 7 : base;
    const char *c = strchr(p, ':');
    if (c == NULL || (size_t)(c - p) >= cap) {
        return -EINVAL;
    }
    memcpy(host, p, (size_t)(c - p));
    host[c - p] = '\0';
    long v = strtol(c + 1, NULL, 10);
    if (v <= 0 || v > 65535) {
        return -EINVAL;
    }
    *port = (uint16_t)v;
    return 0;
}

/* An idle connection to host:port that is still open, or -1. */
static int
idle_take(struct s3_srv *s, const char *host, uint16_t port)
{
    int fd = -1;
    pthread_mutex_lock(&s->mu);
    for (size_t i = s->nidle; i-- > 0 && fd < 0;) {
        if (s->idle[i].port == port && strcmp(s->idle[i].host, host) == 0) {
            fd = s->idle[i].fd;
            s->idle[i] = s->idle[--s->nidle];
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (fd >= 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) != 0) { /* readable while idle: EOF or junk, either way unusable */
            close(fd);
            fd = -1;
        }
    }
    return fd;
}

static void
idle_put(struct s3_srv *s, int fd, const char *host, uint16_t port)
{
    pthread_mutex_lock(&s->mu);
    if (s->nidle < AIS_S3_UP_IDLE_MAX) {
        struct s3_up_idle *e = &s->idle[s->nidle++];
        e->fd = fd;
        snprintf(e->host, sizeof(e->host), "%s", host);
        e->port = port;
        e->since_ns = ais_mono_ns();
        fd = -1;
    }
    pthread_mutex_unlock(&s->mu);
    if (fd >= 0) {
        close(fd);
    }
}

static int
dial(const char *host, uint16_t port, int *out)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        return -EINVAL;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -errno;
    }
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
    if (rc == -EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t el = sizeof(err);
        rc = poll(&p, 1, AIS_S3_UP_TIMEOUT_MS) == 1 ? 0 : -ETIMEDOUT;
        if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err != 0) {
            rc = -err;
        }
    }
    if (rc != 0) {
        close(fd);
        return rc;
    }
    int one = 1;
    struct timeval tv = {AIS_S3_UP_TIMEOUT_MS / 1000, (AIS_S3_UP_TIMEOUT_MS % 1000) * 1000};
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    *out = fd;
    return 0;
}

int
s3_up_reused(const struct s3_up *u)
{
    return u->reused;
}

int
s3_up_open(struct s3_srv *s, const char *base, int fresh, struct s3_up **out)
{
    struct s3_up *u = calloc(1, sizeof(*u));
    if (u == NULL) {
        return -ENOMEM;
    }
    u->s = s;
    u->fd = -1;
    int rc = parse_base(base, u->host, sizeof(u->host), &u->port);
    if (rc == 0) {
        u->fd = fresh ? -1 : idle_take(s, u->host, u->port);
        u->reused = u->fd >= 0;
        rc = u->fd >= 0 ? 0 : dial(u->host, u->port, &u->fd);
    }
    if (rc != 0) {
        free(u);
        return rc;
    }
    *out = u;
    return 0;
}

static int
write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? (errno == EAGAIN ? -ETIMEDOUT : -errno) : -EIO;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Parses buf[0..end) (a complete head) into status and header pointers. */
static int
parse_head(struct s3_up *u, size_t end)
{
    u->buf[end - 2] = '\0'; /* the blank line's CRLF */
    char *line = u->buf, *save = NULL;
    char *tok = strtok_r(line, "\r\n", &save);
    if (tok == NULL || strncmp(tok, "HTTP/1.", 7) != 0 || strlen(tok) < 12) {
        return -EPROTO;
    }
    u->status = atoi(tok + 9);
    u->nh = 0;
    while ((tok = strtok_r(NULL, "\r\n", &save)) != NULL && u->nh < UP_HDRS_MAX) {
        char *c = strchr(tok, ':');
        if (c == NULL) {
            continue;
        }
        *c++ = '\0';
        while (*c == ' ' || *c == '\t') {
            c++;
        }
        u->hn[u->nh] = tok;
        u->hv[u->nh++] = c;
    }
    const char *cl = s3_up_hdr(u, "Content-Length");
    const char *conn = s3_up_hdr(u, "Connection");
    u->clen = cl ? strtoll(cl, NULL, 10) : -1;
    u->hdr_clen = u->clen;
    if (u->head_req || u->status == 204 || u->status == 304 || u->status / 100 == 1) {
        u->clen = 0; /* no body follows whatever Content-Length says */
    }
    u->left = u->clen;
    u->reusable = u->clen >= 0 && !(conn && strcasecmp(conn, "close") == 0);
    return 0;
}

/* Reads one response head (interim or final). 0 or negative errno. */
static int
read_head(struct s3_up *u)
{
    size_t have = 0;
    for (;;) {
        char *e = have >= 4 ? memmem(u->buf, have, "\r\n\r\n", 4) : NULL;
        if (e != NULL) {
            size_t end = (size_t)(e - u->buf) + 4;
            int rc = parse_head(u, end);
            u->boff = end;
            u->blen = have;
            return rc;
        }
        if (have == sizeof(u->buf)) {
            return -EMSGSIZE;
        }
        ssize_t n = recv(u->fd, u->buf + have, sizeof(u->buf) - have, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n == 0 ? -ECONNRESET : (errno == EAGAIN ? -ETIMEDOUT : -errno);
        }
        have += (size_t)n;
    }
}

int
s3_up_send(struct s3_up *u, const char *method, const char *target, const char *hdrs,
           int64_t body_len, int expect)
{
    char head[AIS_URI_BYTES_MAX + 4096];
    char cl[48] = "";
    u->head_req = strcmp(method, "HEAD") == 0;
    if (body_len >= 0) {
        snprintf(cl, sizeof(cl), "Content-Length: %lld\r\n", (long long)body_len);
    }
    int n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s:%u\r\n%s%s%s\r\n", method,
                     target, u->host, (unsigned)u->port, cl,
                     expect ? "Expect: 100-continue\r\n" : "", hdrs ? hdrs : "");
    if (n < 0 || (size_t)n >= sizeof(head)) {
        return -E2BIG;
    }
    int rc = write_all(u->fd, head, (size_t)n);
    if (rc != 0 || !expect) {
        return rc;
    }
    rc = read_head(u);
    if (rc != 0) {
        return rc;
    }
    if (u->status == 100) {
        /* Anything after the interim head is the start of the final one: keep it. */
        memmove(u->buf, u->buf + u->boff, u->blen - u->boff);
        u->blen -= u->boff;
        u->boff = 0;
        if (u->blen != 0) {
            return -EPROTO; /* a final answer racing our body: not expected from MHD */
        }
        return 0;
    }
    u->head_done = 1;
    return 1;
}

int
s3_up_write(struct s3_up *u, const void *data, size_t len)
{
    return write_all(u->fd, data, len);
}

int
s3_up_head(struct s3_up *u)
{
    if (u->head_done) {
        return 0;
    }
    int rc = read_head(u);
    while (rc == 0 && u->status == 100) {
        memmove(u->buf, u->buf + u->boff, u->blen - u->boff);
        u->blen -= u->boff;
        u->boff = 0;
        rc = read_head(u);
    }
    u->head_done = rc == 0;
    return rc;
}

int
s3_up_status(const struct s3_up *u)
{
    return u->status;
}

const char *
s3_up_hdr(const struct s3_up *u, const char *name)
{
    for (size_t i = 0; i < u->nh; i++) {
        if (strcasecmp(u->hn[i], name) == 0) {
            return u->hv[i];
        }
    }
    return NULL;
}

int64_t
s3_up_clen(const struct s3_up *u)
{
    return u->hdr_clen;
}

ssize_t
s3_up_read(struct s3_up *u, void *buf, size_t cap)
{
    if (u->clen >= 0 && u->left == 0) {
        return 0;
    }
    size_t want = cap;
    if (u->clen >= 0 && (uint64_t)u->left < want) {
        want = (size_t)u->left;
    }
    ssize_t n;
    if (u->boff < u->blen) {
        n = (ssize_t)(u->blen - u->boff < want ? u->blen - u->boff : want);
        memcpy(buf, u->buf + u->boff, (size_t)n);
        u->boff += (size_t)n;
    } else {
        /* A known length: wait for the whole piece (fewer, larger writes to the client). */
        int flags = u->clen >= 0 ? MSG_WAITALL : 0;
        do {
            n = recv(u->fd, buf, want, flags);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            u->reusable = 0;
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        }
        if (n == 0) {
            u->reusable = 0;
            return u->clen < 0 ? 0 : -ECONNRESET;
        }
    }
    if (u->clen >= 0) {
        u->left -= n;
    }
    return n;
}

void
s3_up_drain(struct s3_up *u)
{
    char tmp[4096];
    if (u->clen < 0 || u->left > (int64_t)UP_DRAIN_BYTES_MAX) {
        u->reusable = 0;
        return;
    }
    while (u->left > 0) {
        if (s3_up_read(u, tmp, sizeof(tmp)) <= 0) {
            u->reusable = 0;
            return;
        }
    }
}

void
s3_up_close(struct s3_up *u)
{
    if (u == NULL) {
        return;
    }
    if (u->fd >= 0) {
        if (u->head_done && u->reusable && u->left == 0 && u->boff == u->blen) {
            idle_put(u->s, u->fd, u->host, u->port);
        } else {
            close(u->fd);
        }
    }
    free(u);
}
