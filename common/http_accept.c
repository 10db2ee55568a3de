/*
 * Design notes: the HTTP edge's acceptor. MHD 0.9.75 (Debian 12) closes a connection whose
 * request line it cannot parse without a word, answers a bad HTTP version with an HTML page,
 * and drops connections past its limit unanswered. So the edge owns the listening socket: one
 * thread accepts, and holds each new connection (non-blocking, in one epoll set) until its
 * first request line is in the socket buffer. It peeks at that line (MSG_PEEK: the bytes stay
 * for MHD) and either answers 400 with the API's JSON error and closes, or hands the socket
 * to MHD (MHD_add_connection), which then owns it for the rest of its life. Later requests on
 * a kept-alive connection are MHD's alone. A connection that says nothing for
 * AIS_HTTP_FIRST_LINE_MS, or whose first line does not fit AIS_HTTP_FIRST_LINE_BYTES, goes to
 * MHD as it is (its own timeout and 414 apply). Past net.http.max_conns connections (held
 * here plus MHD's) a new one gets 503 with Retry-After and is closed: overload is answered, never
 * a hang. Bounded: the held set is part of that limit; every held connection has a deadline.
 */
#include "common/http.h"
#include "common/http_acc.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define AIS_HTTP_FIRST_LINE_BYTES 8192
#define AIS_HTTP_FIRST_LINE_MS 10000
#define ACC_EVENTS 64

struct acc_conn {
    int fd;
    int64_t deadline_ns;
    struct sockaddr_storage addr;
    socklen_t alen;
};

struct ais_http_acc {
    int lfd, efd, stop_rd, stop_wr;
    struct MHD_Daemon *d;
    const char *node_id;
    pthread_t th;
    struct acc_conn *held; /* max slots, fd -1 = free */
    size_t max;            /* connections held here plus MHD's */
    size_t nheld;
};

static int
is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int
ais_http_line_check(const char *buf, size_t len, const char **why)
{
    size_t i = 0;
    while (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n') {
        i += 2; /* empty lines before a request line are allowed (RFC 9112 2.2) */
    }
    const char *line = buf + i, *nl = memchr(line, '\n', len - i);
    if (nl == NULL) {
        return -1; /* not all here yet */
    }
    size_t n = (size_t)(nl - line);
    n -= n > 0 && line[n - 1] == '\r';
    size_t m = 0;
    while (m < n && is_tchar((unsigned char)line[m])) {
        m++;
    }
    if (m == 0 || m == n || line[m] != ' ') {
        *why = "malformed request line (expected METHOD SP TARGET SP HTTP/1.x)";
        return 0;
    }
    size_t t = m + 1, e = t;
    while (e < n && (unsigned char)line[e] > 0x20 && line[e] != 0x7f) {
        e++;
    }
    if (e == t || e == n || line[e] != ' ') {
        *why = e < n && line[e] != ' '
                   ? "request target contains a control character"
                   : "malformed request line (expected METHOD SP TARGET SP HTTP/1.x)";
        return 0;
    }
    const char *v = line + e + 1;
    size_t vl = n - e - 1;
    if (memchr(v, ' ', vl) != NULL) {
        *why = "malformed request line (a space inside the request target?)";
        return 0;
    }
    if (vl != 8 || memcmp(v, "HTTP/1.", 7) != 0 || (v[7] != '0' && v[7] != '1')) {
        *why = "unsupported HTTP version (HTTP/1.0 and HTTP/1.1 are served)";
        return 0;
    }
    return 1;
}

/* Writes a complete error response and closes fd (best effort: the peer may be gone). */
static void
answer_close(struct ais_http_acc *a, int fd, int status, const char *reason, const char *msg,
             const char *extra)
{
    char body[512], resp[1024];
    int bl = snprintf(body, sizeof(body),
                      "{\"message\":\"%s\",\"method\":\"\",\"url_path\":\"\",\"remote_addr\":"
                      "\"\",\"caller\":\"\",\"node\":\"%s\",\"status\":%d}",
                      msg, a->node_id ? a->node_id : "", status);
    int n = snprintf(resp, sizeof(resp),
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     "Connection: close\r\n%s\r\n%s",
                     status, reason, bl, extra, body);
    if (n > 0 && (size_t)n < sizeof(resp)) {
        (void)send(fd, resp, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    shutdown(fd, SHUT_WR);
    close(fd);
}

static unsigned
mhd_conns(struct ais_http_acc *a)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return i ? i->num_connections : 0;
}

static void
drop(struct ais_http_acc *a, struct acc_conn *c)
{
    epoll_ctl(a->efd, EPOLL_CTL_DEL, c->fd, NULL);
    c->fd = -1;
    a->nheld--;
}

/* MHD owns the connection from here (it closes it on failure too). */
static void
hand_over(struct ais_http_acc *a, struct acc_conn *c)
{
    int fd = c->fd;
    struct sockaddr_storage addr = c->addr;
    socklen_t alen = c->alen;
    drop(a, c);
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) {
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    if (MHD_add_connection(a->d, fd, (struct sockaddr *)&addr, alen) != MHD_YES) {
        AIS_LOG_WARN("req=accept msg=\"MHD refused a connection\"");
    }
}

/* A held connection became readable (or its deadline passed: timed_out). */
static void
examine(struct ais_http_acc *a, struct acc_conn *c, int timed_out)
{
    char buf[AIS_HTTP_FIRST_LINE_BYTES];
    ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        int fd = c->fd;
        drop(a, c);
        close(fd); /* the peer left before sending a request */
        return;
    }
    const char *why = NULL;
    int ok = n > 0 ? ais_http_line_check(buf, (size_t)n, &why) : -1;
    if (ok == 0) {
        int fd = c->fd;
        drop(a, c);
        answer_close(a, fd, 400, "Bad Request", why, "");
    } else if (ok == 1 || timed_out || (size_t)n == sizeof(buf)) {
        hand_over(a, c); /* a good line, a silent or very long one: MHD's rules apply */
    }
}

static void
accept_all(struct ais_http_acc *a)
{
    for (;;) {
        struct sockaddr_storage addr;
        socklen_t alen = sizeof(addr);
        int fd = accept4(a->lfd, (struct sockaddr *)&addr, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            return; /* EAGAIN (all taken), or an error the next wake-up retries */
        }
        if (a->nheld + mhd_conns(a) + 1 > a->max) {
            answer_close(a, fd, 503, "Service Unavailable", "too many connections: try again later",
                         "Retry-After: 1\r\n");
            continue;
        }
        size_t slot = 0;
        while (a->held[slot].fd >= 0) {
            slot++;
        }
        struct acc_conn *c = &a->held[slot];
        *c = (struct acc_conn){.fd = fd,
                               .deadline_ns = ais_mono_ns() + AIS_HTTP_FIRST_LINE_MS * 1000000LL,
                               .addr = addr,
                               .alen = alen};
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.u64 = slot};
        if (epoll_ctl(a->efd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            c->fd = -1;
            continue;
        }
        a->nheld++;
    }
}

#define ACC_LISTEN UINT64_MAX
#define ACC_STOP (UINT64_MAX - 1)

static void *
acc_run(void *arg)
{
    struct ais_http_acc *a = arg;
    struct epoll_event ev[ACC_EVENTS];
    for (;;) {
        int n = epoll_wait(a->efd, ev, ACC_EVENTS, 500);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.u64 == ACC_STOP) {
                return NULL;
            }
            if (ev[i].data.u64 == ACC_LISTEN) {
                accept_all(a);
            } else if (a->held[ev[i].data.u64].fd >= 0) {
                examine(a, &a->held[ev[i].data.u64], 0);
            }
        }
        int64_t now = ais_mono_ns();
        for (size_t s = 0; a->nheld > 0 && s < a->max; s++) {
            if (a->held[s].fd >= 0 && now >= a->held[s].deadline_ns) {
                examine(a, &a->held[s], 1);
            }
        }
    }
}

int
ais_http_acc_listen(const struct sockaddr_in *sa, int *out)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0) {
        return -errno;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 ||
        listen(fd, AIS_HTTP_LISTEN_BACKLOG) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    *out = fd;
    return 0;
}

int
ais_http_acc_start(int lfd, struct MHD_Daemon *d, const char *node_id, unsigned max,
                   struct ais_http_acc **out)
{
    struct ais_http_acc *a = calloc(1, sizeof(*a));
    struct acc_conn *held = calloc(max, sizeof(*held));
    int pfd[2] = {-1, -1};
    int efd = epoll_create1(EPOLL_CLOEXEC);
    int rc = a && held && efd >= 0 && pipe2(pfd, O_CLOEXEC) == 0 ? 0 : -ENOMEM;
    if (rc == 0) {
        for (size_t i = 0; i < max; i++) {
            held[i].fd = -1;
        }
        *a = (struct ais_http_acc){.lfd = lfd,
                                   .efd = efd,
                                   .stop_rd = pfd[0],
                                   .stop_wr = pfd[1],
                                   .d = d,
                                   .node_id = node_id,
                                   .held = held,
                                   .max = max};
        struct epoll_event le = {.events = EPOLLIN, .data.u64 = ACC_LISTEN};
        struct epoll_event se = {.events = EPOLLIN, .data.u64 = ACC_STOP};
        if (epoll_ctl(efd, EPOLL_CTL_ADD, lfd, &le) != 0 ||
            epoll_ctl(efd, EPOLL_CTL_ADD, pfd[0], &se) != 0) {
            rc = -errno;
        }
    }
    rc = rc ? rc : -pthread_create(&a->th, NULL, acc_run, a);
    if (rc != 0) {
        for (int i = 0; i < 2; i++) {
            if (pfd[i] >= 0) {
                close(pfd[i]);
            }
        }
        if (efd >= 0) {
            close(efd);
        }
        free(held);
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void
ais_http_acc_stop(struct ais_http_acc *a)
{
    if (a == NULL) {
        return;
    }
    char b = 1;
    (void)!write(a->stop_wr, &b, 1);
    pthread_join(a->th, NULL);
    for (size_t i = 0; i < a->max; i++) {
        if (a->held[i].fd >= 0) {
            close(a->held[i].fd);
        }
    }
    close(a->stop_rd);
    close(a->stop_wr);
    close(a->efd);
    close(a->lfd);
    free(a->held);
    free(a);
}
