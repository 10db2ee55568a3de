/*
 * Design notes: MHD calls the access handler several times per request (headers, each body
 * chunk, end of body). We allocate our request in the URI-log callback, which MHD calls first
 * with the raw URI: that gives us the undecoded path and query for redirects and the %00 check,
 * and MHD hands the pointer back in every later callback and in NOTIFY_COMPLETED, where it is
 * freed. Responses are created by handlers and queued by the edge before the callback returns,
 * as MHD requires. MHD runs one thread per connection (bounded by net.http.max_conns): handlers
 * may block on disk (open, fsync) without stalling other clients, and MHD then sends files in
 * 2 MiB sendfile chunks instead of 128 KiB ones (1 MiB GETs +30% over the poll thread pool).
 * MHD_USE_TURBO (opportunistic reads/writes) is worth ~15% on 4 KiB GETs. (MHD 0.9.75's epoll
 * mode noticed a client that closed mid-upload only at the idle timeout, keeping partial work
 * files around; poll() sees the EOF at once; the disconnect test guards both.)
 *
 * Each request has an arena (a list of blocks freed at completion) with a byte budget of
 * AIS_REQ_ARENA_BYTES_MAX. The raw URI and handler scratch come from it; header bytes (held
 * by MHD in its connection pool) and the buffered body are charged to the same budget, so one
 * request never holds more than the budget: a URI over AIS_URI_BYTES_MAX is 414, headers over
 * the budget 431 (MHD itself answers 431 past AIS_HTTP_CONN_MEM_BYTES, which is smaller), a
 * body over its cap or the remaining budget 413.
 *
 * Routing is a table per server (ais_route): rows are tried in order; a path some row knows
 * with a method none allows is 405 with Allow, an unknown path 404, both as api.md §7 JSON.
 */
#include "common/http.h"

#include "common/assert.h"
#include "common/config.h"
#include "common/err.h"
#include "common/http_acc.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct ais_http {
    struct MHD_Daemon *d;
    struct ais_http_acc *acc; /* owns the listening socket (http_accept.c) */
    ais_http_handler_fn handler;
    void *ctx;
    const char *node_id;
};

enum body_mode { BODY_NONE, BODY_BUFFER, BODY_STREAM };

/* MHD's own header limit (connection memory) stays below the arena, so MHD answers first. */
static_assert(AIS_HTTP_CONN_MEM_BYTES < AIS_REQ_ARENA_BYTES_MAX, "headers fit the arena");
static_assert(2 * AIS_URI_BYTES_MAX + AIS_HTTP_CONN_MEM_BYTES + AIS_CTRL_BODY_BYTES_MAX <
                  AIS_REQ_ARENA_BYTES_MAX,
              "URI, headers and a control body fit one request's arena");

struct arena_blk {
    struct arena_blk *next;
    max_align_t data[];
};

struct ais_req {
    struct ais_http *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    char *raw_path;
    char *raw_query;
    int uri_too_long;
    int started;
    char remote[64];
    enum body_mode mode;
    struct ais_buf body;
    ais_body_fn data_fn;
    ais_done_fn done_fn;
    ais_cleanup_fn cleanup_fn;
    void *arg;
    struct MHD_Response *resp;
    int status;
    int queued;
    size_t discard_max; /* body bytes read and dropped after an early response */
    uint64_t body_seen; /* body bytes received so far */
    size_t arena_used;  /* bytes charged to this request (<= AIS_REQ_ARENA_BYTES_MAX) */
    struct arena_blk *blocks;
    int64_t start_ns; /* ais_mono_ns() when the request line arrived */
};

static void *
arena_alloc(struct ais_req *r, size_t n)
{
    size_t need = sizeof(struct arena_blk) + n;
    if (n > AIS_REQ_ARENA_BYTES_MAX || r->arena_used + need > AIS_REQ_ARENA_BYTES_MAX) {
        return NULL;
    }
    struct arena_blk *b = malloc(need);
    if (b == NULL) {
        return NULL;
    }
    b->next = r->blocks;
    r->blocks = b;
    r->arena_used += need;
    return b->data;
}

static char *
arena_strndup(struct ais_req *r, const char *s, size_t n)
{
    char *p = arena_alloc(r, n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void *
ais_req_alloc(struct ais_req *r, size_t n)
{
    return arena_alloc(r, n);
}

int64_t
ais_req_start_ns(const struct ais_req *r)
{
    return r->start_ns;
}

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct ais_req *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->srv = cls;
    r->conn = c;
    r->start_ns = ais_mono_ns();
    r->arena_used = sizeof(*r);
    size_t len = strlen(uri);
    if (len > AIS_URI_BYTES_MAX) {
        r->uri_too_long = 1;
        len = 0;
    }
    const char *q = memchr(uri, '?', len);
    size_t plen = q ? (size_t)(q - uri) : len;
    r->raw_path = arena_strndup(r, uri, plen);
    r->raw_query = arena_strndup(r, q ? q + 1 : "", q ? len - plen - 1 : 0);
    ais_buf_init(&r->body, AIS_CTRL_BODY_BYTES_MAX);
    r->discard_max = AIS_CTRL_BODY_BYTES_MAX;
    return r;
}

static void
req_free(struct ais_req *r)
{
    if (r->resp != NULL) {
        MHD_destroy_response(r->resp);
    }
    ais_buf_fini(&r->body);
    while (r->blocks != NULL) {
        struct arena_blk *b = r->blocks;
        r->blocks = b->next;
        free(b);
    }
    free(r);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct ais_req *r = *con_cls;
    if (r == NULL) {
        return;
    }
    if (r->cleanup_fn != NULL) {
        r->cleanup_fn(r, r->arg, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    }
    req_free(r);
    *con_cls = NULL;
}

static enum MHD_Result
queue(struct ais_req *r)
{
    if (r->resp == NULL) {
        AIS_LOG_ERR("req=%s %s msg=\"handler did not respond\"", r->method, r->path);
        ais_resp_err(r, 500, "internal error: no response");
    }
    enum MHD_Result rc = MHD_queue_response(r->conn, (unsigned)r->status, r->resp);
    MHD_destroy_response(r->resp);
    r->resp = NULL;
    r->queued = 1;
    return rc;
}

static void
body_chunk(struct ais_req *r, const char *data, size_t len)
{
    if (r->resp != NULL || r->queued) {
        return; /* already answered: discard the rest */
    }
    if (r->mode == BODY_BUFFER) {
        if (ais_buf_append(&r->body, data, len) != 0) {
            ais_resp_err(r, 413, "request body too large (max %zu bytes)", r->body.cap_max - 1);
        }
        return;
    }
    if (r->mode == BODY_STREAM) {
        if (r->data_fn(r, data, len, r->arg) != 0 && r->resp == NULL) {
            ais_resp_err(r, 500, "failed to store request body");
        }
        return;
    }
    /* A body nobody asked for: ignore it (e.g. clients sending JSON on GET). */
}

/* No body, or a known one small enough to discard while keeping the connection. */
static int
small_body(const struct ais_req *r)
{
    int64_t cl = ais_req_content_length(r);
    /* Expect: 100-continue: answering first spares the client sending the body at all. */
    if (ais_req_header(r, "Transfer-Encoding") != NULL || ais_req_header(r, "Expect") != NULL) {
        return 0;
    }
    return cl <= (int64_t)r->discard_max;
}

static enum MHD_Result
count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    size_t *n = cls;
    (void)kind;
    *n += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
    return MHD_YES;
}

/* Charges the request's header bytes to its arena. 0, or -E2BIG past the budget. */
static int
charge_headers(struct ais_req *r)
{
    size_t n = 0;
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_header, &n);
    if (r->arena_used + n > AIS_REQ_ARENA_BYTES_MAX) {
        return -E2BIG;
    }
    r->arena_used += n;
    return 0;
}

struct framing {
    int ncl, nte;
    const char *te;
};

static enum MHD_Result
framing_hdr(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct framing *f = cls;
    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->ncl++;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->nte++;
        f->te = value ? value : "";
    }
    return MHD_YES;
}

/*
 * Why the request cannot be trusted (answered 400, connection closed), or NULL: a NUL or
 * control byte in the URI, and message framing that a proxy in front could read otherwise
 * (request smuggling): two Content-Length headers, Content-Length with Transfer-Encoding, a
 * transfer coding other than a single "chunked" (RFC 9112 6.1, 6.3).
 */
static const char *
untrusted(const struct ais_req *r)
{
    for (const char *p = r->raw_path; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            return "control character in the request URI";
        }
    }
    if (strstr(r->raw_path, "%00") != NULL || strstr(r->raw_query, "%00") != NULL) {
        return "NUL byte (%00) in the request URI";
    }
    struct framing f = {0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, framing_hdr, &f);
    if (f.ncl > 1) {
        return "more than one Content-Length header";
    }
    if (f.ncl > 0 && f.nte > 0) {
        return "both Content-Length and Transfer-Encoding";
    }
    if (f.nte > 1 || (f.nte == 1 && strcasecmp(f.te, "chunked") != 0)) {
        return "unsupported Transfer-Encoding (only a single \"chunked\" is accepted)";
    }
    return NULL;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
          const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    struct ais_req *r = *con_cls;
    if (r == NULL) {
        return MHD_NO;
    }
    if (!r->started) {
        r->started = 1;
        r->method = method;
        r->path = url;
        const char *bad = NULL;
        if (r->uri_too_long) {
            ais_resp_err(r, 414, "request URI too long (max %u bytes)", AIS_URI_BYTES_MAX);
        } else if (r->raw_path != NULL && r->raw_query != NULL && (bad = untrusted(r)) != NULL) {
            ais_resp_err(r, 400, "%s", bad);
            ais_resp_close(r);
            return queue(r); /* the body's framing is not trusted: no more reads */
        } else if (r->raw_path == NULL || r->raw_query == NULL) {
            ais_resp_err(r, 500, "out of memory");
        } else if (charge_headers(r) != 0) {
            ais_resp_err(r, 431, "request headers too large (max %u bytes per request)",
                         AIS_REQ_ARENA_BYTES_MAX);
        } else {
            r->srv->handler(r, r->srv->ctx);
        }
        if (r->resp == NULL && r->mode == BODY_NONE) {
            return queue(r); /* handler bug: 500 */
        }
        if (r->resp != NULL && !small_body(r)) {
            /* Answer before a large body and drop the connection with the body. */
            ais_resp_close(r);
            return queue(r);
        }
        /* No or small body: MHD keeps the connection alive only for responses queued once the
         * request is complete, so the response waits for the final call. */
        return MHD_YES;
    }
    if (r->queued) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        int answered = r->resp != NULL;
        r->body_seen += *upload_size;
        body_chunk(r, upload, *upload_size);
        *upload_size = 0;
        if (r->resp != NULL && !answered) {
            /* Failed mid-body. MHD cannot queue a response while the body is still coming:
             * a rest of at most discard_max bytes is read and dropped and the answer goes out
             * at its end; a longer one goes with the connection, unanswered. */
            ais_resp_close(r);
            int64_t cl = ais_req_content_length(r);
            if (cl >= 0 && (uint64_t)cl <= r->body_seen + r->discard_max) {
                return MHD_YES;
            }
            return queue(r);
        }
        return MHD_YES;
    }
    if (r->resp == NULL && r->done_fn != NULL) {
        r->done_fn(r, r->arg);
    }
    return queue(r);
}

static int
resolve(const char *host, uint16_t port, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) == 1) {
        return 0;
    }
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
        return -EINVAL;
    }
    sa->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return 0;
}

int
ais_http_start(const struct ais_http_opts *o, struct ais_http **out)
{
    struct sockaddr_in sa;
    if (resolve(o->host, o->port, &sa) != 0) {
        return -EINVAL;
    }
    struct ais_http *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        return -ENOMEM;
    }
    h->handler = o->handler;
    h->ctx = o->ctx;
    h->node_id = o->node_id;
    unsigned max =
        o->max_conns > 0 && o->max_conns < AIS_HTTP_CONN_MAX ? o->max_conns : AIS_HTTP_CONN_MAX;
    int lfd = -1;
    int rc = ais_http_acc_listen(&sa, &lfd);
    if (rc != 0) {
        free(h);
        return rc == -EADDRINUSE || rc == -EACCES ? -EADDRINUSE : -EIO;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_TURBO | MHD_USE_NO_LISTEN_SOCKET |
                     MHD_USE_ITC;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_access, h, MHD_OPTION_CONNECTION_LIMIT, max,
                            MHD_OPTION_THREAD_STACK_SIZE, (size_t)AIS_HTTP_THREAD_STACK_BYTES,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)AIS_HTTP_IDLE_TIMEOUT_S,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)AIS_HTTP_CONN_MEM_BYTES,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, h, MHD_OPTION_END);
    rc = h->d == NULL ? -EIO : ais_http_acc_start(lfd, h->d, h->node_id, max, &h->acc);
    if (rc != 0) {
        if (h->d != NULL) {
            MHD_stop_daemon(h->d);
        }
        close(lfd);
        free(h);
        return rc;
    }
    *out = h;
    return 0;
}

void
ais_http_stop(struct ais_http *h)
{
    if (h == NULL) {
        return;
    }
    ais_http_acc_stop(h->acc); /* no new connections; then MHD drains its own */
    MHD_stop_daemon(h->d);
    free(h);
}

const char *
ais_req_method(const struct ais_req *r)
{
    return r->method;
}

int
ais_req_is(const struct ais_req *r, const char *method)
{
    return strcmp(r->method, method) == 0;
}

const char *
ais_req_path(const struct ais_req *r)
{
    return r->path;
}

const char *
ais_req_raw_path(const struct ais_req *r)
{
    return r->raw_path ? r->raw_path : "";
}

const char *
ais_req_raw_query(const struct ais_req *r)
{
    return r->raw_query ? r->raw_query : "";
}

int
ais_req_path_has_nul(const struct ais_req *r)
{
    return r->raw_path != NULL && strcasestr(r->raw_path, "%00") != NULL;
}

const char *
ais_req_query(const struct ais_req *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *
ais_req_header(const struct ais_req *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, key);
}

struct header_walk {
    int (*fn)(void *arg, const char *name, const char *value);
    void *arg;
};

static enum MHD_Result
header_pair(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct header_walk *w = cls;
    (void)kind;
    return w->fn(w->arg, key, value ? value : "") == 0 ? MHD_YES : MHD_NO;
}

void
ais_req_header_each(const struct ais_req *r,
                    int (*fn)(void *arg, const char *name, const char *value), void *arg)
{
    struct header_walk w = {fn, arg};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, header_pair, &w);
}

const char *
ais_req_remote(const struct ais_req *r)
{
    struct ais_req *m = (struct ais_req *)r;
    if (m->remote[0] != '\0') {
        return m->remote;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci != NULL && ci->client_addr != NULL && ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ci->client_addr;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        snprintf(m->remote, sizeof(m->remote), "%s:%u", ip, (unsigned)ntohs(sin->sin_port));
    } else {
        snprintf(m->remote, sizeof(m->remote), "-");
    }
    return m->remote;
}

int64_t
ais_req_content_length(const struct ais_req *r)
{
    const char *v = ais_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (v == NULL) {
        return -1;
    }
    char *end;
    long long n = strtoll(v, &end, 10);
    return (*end != '\0' || n < 0) ? -1 : n;
}

void
ais_req_discard_body(struct ais_req *r, size_t max)
{
    r->discard_max = max;
}

void
ais_req_body_buffer(struct ais_req *r, size_t max, ais_done_fn done, void *arg)
{
    AIS_ASSERT(r->mode == BODY_NONE);
    size_t left =
        r->arena_used < AIS_REQ_ARENA_BYTES_MAX ? AIS_REQ_ARENA_BYTES_MAX - r->arena_used : 0;
    if (max + 1 > left) {
        max = left > 0 ? left - 1 : 0; /* the body is charged to the request's arena budget */
    }
    r->arena_used += max + 1;
    r->mode = BODY_BUFFER;
    r->body.cap_max = max + 1;
    r->done_fn = done;
    r->arg = arg;
    int64_t cl = ais_req_content_length(r);
    if (cl > (int64_t)max) {
        ais_resp_err(r, 413, "request body too large: %lld bytes (max %zu)", (long long)cl, max);
        ais_resp_close(r);
    }
}

int
ais_req_body_refuse_large(struct ais_req *r, size_t max, const char *what)
{
    int64_t cl = ais_req_content_length(r);
    if (cl <= (int64_t)max) {
        return 0;
    }
    ais_req_discard_body(r, 4 * max);
    ais_resp_err(r, 413, "%s request body of %lld bytes: at most %zu", what, (long long)cl, max);
    return 1;
}

const char *
ais_req_body(const struct ais_req *r, size_t *len)
{
    if (len != NULL) {
        *len = r->body.len;
    }
    return r->body.data ? r->body.data : "";
}

/* 1 when the JSON text nests deeper than max (arrays and objects, outside strings). */
static int
json_too_deep(const char *s, size_t n, int max)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            i += c == '\\'; /* skip the escaped character */
            in_str = c != '"' || c == '\\';
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max) {
                return 1;
            }
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 0;
}

int
ais_req_body_json(const struct ais_req *r, json_t **out)
{
    *out = NULL;
    if (r->body.len == 0) {
        return 0;
    }
    if (json_too_deep(r->body.data, r->body.len, AIS_JSON_DEPTH_MAX)) {
        return AIS_EBADJSON; /* answered as malformed JSON, never parsed */
    }
    json_t *j = json_loadb(r->body.data, r->body.len, 0, NULL);
    if (j == NULL) {
        return AIS_EBADJSON;
    }
    *out = j;
    return 0;
}

void
ais_req_body_stream(struct ais_req *r, ais_body_fn data, ais_done_fn done, ais_cleanup_fn cleanup,
                    void *arg)
{
    AIS_ASSERT(r->mode == BODY_NONE);
    r->mode = BODY_STREAM;
    r->data_fn = data;
    r->done_fn = done;
    r->cleanup_fn = cleanup;
    r->arg = arg;
}

int
ais_req_on_done(struct ais_req *r, ais_cleanup_fn fn, void *arg)
{
    if (r->mode != BODY_NONE || r->cleanup_fn != NULL) {
        return -EBUSY; /* the body's owner has the hook */
    }
    r->cleanup_fn = fn;
    r->arg = arg;
    return 0;
}

static int
set_resp(struct ais_req *r, int status, struct MHD_Response *resp)
{
    AIS_ASSERT(r->resp == NULL && !r->queued);
    if (resp == NULL) {
        return -ENOMEM;
    }
    r->resp = resp;
    r->status = status;
    return 0;
}

int
ais_resp_buf(struct ais_req *r, int status, const char *ctype, const void *data, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    int err = set_resp(r, status, resp);
    if (err == 0 && ctype != NULL) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    }
    return err;
}

int
ais_resp_json(struct ais_req *r, int status, const json_t *j)
{
    char *s = j ? ais_json_dumps(j) : NULL;
    if (s == NULL) {
        return ais_resp_err(r, 500, "out of memory encoding JSON");
    }
    int err = ais_resp_buf(r, status, "application/json", s, strlen(s));
    free(s);
    return err;
}

int
ais_resp_empty(struct ais_req *r, int status)
{
    return ais_resp_buf(r, status, NULL, "", 0);
}

int
ais_resp_fd(struct ais_req *r, int status, int fd, uint64_t off, uint64_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(len, fd, off);
    if (resp == NULL) {
        close(fd);
    }
    return set_resp(r, status, resp);
}

static ssize_t
no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

int
ais_resp_head(struct ais_req *r, int status, uint64_t size)
{
    return set_resp(r, status, MHD_create_response_from_callback(size, 4096, no_body, NULL, NULL));
}

struct gen_ctx {
    ais_gen_fn gen;
    void *arg;
    void (*free_fn)(void *);
};

static ssize_t
gen_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct gen_ctx *g = cls;
    size_t n = g->gen(g->arg, pos, buf, max);
    return n == AIS_GEN_ERR   ? MHD_CONTENT_READER_END_WITH_ERROR
           : n == AIS_GEN_END ? MHD_CONTENT_READER_END_OF_STREAM
                              : (ssize_t)n;
}

static void
gen_free(void *cls)
{
    struct gen_ctx *g = cls;
    if (g->free_fn != NULL) {
        g->free_fn(g->arg);
    }
    free(g);
}

int
ais_resp_gen(struct ais_req *r, int status, uint64_t size, ais_gen_fn gen, void *arg,
             void (*free_fn)(void *))
{
    struct gen_ctx *g = malloc(sizeof(*g));
    if (g == NULL) {
        if (free_fn != NULL) {
            free_fn(arg);
        }
        return -ENOMEM;
    }
    g->gen = gen;
    g->arg = arg;
    g->free_fn = free_fn;
    struct MHD_Response *resp = MHD_create_response_from_callback(
        size == AIS_GEN_SIZE_UNKNOWN ? MHD_SIZE_UNKNOWN : size, 256 * 1024, gen_read, g, gen_free);
    if (resp == NULL) {
        gen_free(g);
    }
    return set_resp(r, status, resp);
}

int
ais_resp_redirect(struct ais_req *r, const char *location)
{
    int err = ais_resp_empty(r, 307);
    if (err == 0) {
        ais_resp_header(r, MHD_HTTP_HEADER_LOCATION, location);
    }
    return err;
}

int
ais_resp_err(struct ais_req *r, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "message", msg, "method",
                          r->method ? r->method : "", "url_path", r->path ? r->path : "",
                          "remote_addr", ais_req_remote(r), "caller", "", "node",
                          r->srv->node_id ? r->srv->node_id : "", "status", status);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (s == NULL) {
        return ais_resp_buf(r, status, "text/plain", msg, strlen(msg));
    }
    int err;
    if (r->method != NULL && strcmp(r->method, "HEAD") == 0) {
        err = ais_resp_empty(r, status);
        if (err == 0) {
            ais_resp_header(r, "Hdr-Error", s);
        }
    } else {
        err = ais_resp_buf(r, status, "application/json", s, strlen(s));
    }
    free(s);
    AIS_LOG_DBG("req=%s:%s status=%d msg=\"%s\"", r->method ? r->method : "-",
                r->path ? r->path : "-", status, msg);
    return err;
}

void
ais_resp_header(struct ais_req *r, const char *name, const char *value)
{
    AIS_ASSERT(r->resp != NULL);
    MHD_add_response_header(r->resp, name, value);
}

int
ais_req_responded(const struct ais_req *r)
{
    return r->resp != NULL || r->queued;
}

void
ais_resp_close(struct ais_req *r)
{
    if (r->resp != NULL) {
        MHD_add_response_header(r->resp, MHD_HTTP_HEADER_CONNECTION, "close");
    }
}

/* ---- routes ---- */

static const struct {
    const char *name;
    unsigned bit;
} methods[] = {
    {"GET", AIS_M_GET},   {"HEAD", AIS_M_HEAD},     {"PUT", AIS_M_PUT},
    {"POST", AIS_M_POST}, {"DELETE", AIS_M_DELETE}, {"PATCH", AIS_M_PATCH},
};

unsigned
ais_http_method_bit(const char *method)
{
    for (size_t i = 0; method != NULL && i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (strcmp(method, methods[i].name) == 0) {
            return methods[i].bit;
        }
    }
    return 0;
}

const char *
ais_http_allow_str(unsigned mask, char *out, size_t cap)
{
    size_t off = 0;
    if (cap == 0) {
        return out;
    }
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if ((mask & methods[i].bit) == 0) {
            continue;
        }
        int w = snprintf(out + off, cap > off ? cap - off : 0, "%s%s", off ? ", " : "",
                         methods[i].name);
        if (w < 0 || off + (size_t)w >= cap) {
            out[off] = '\0'; /* whole names only */
            break;
        }
        off += (size_t)w;
    }
    return out;
}

static int
pattern_match(const char *pat, const char *path)
{
    size_t n = strlen(pat);
    if (n >= 2 && pat[n - 1] == '*' && pat[n - 2] == '/') {
        return strncmp(path, pat, n - 1) == 0;
    }
    return strcmp(pat, path) == 0;
}

int
ais_route_match(const struct ais_route *routes, size_t n, const char *method, const char *path,
                unsigned *allow)
{
    unsigned bit = ais_http_method_bit(method);
    unsigned seen = 0;
    int known = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pattern_match(routes[i].pattern, path)) {
            continue;
        }
        if (routes[i].methods & bit) {
            return (int)i;
        }
        seen |= routes[i].methods;
        known = 1;
    }
    if (!known) {
        return -ENOENT;
    }
    *allow = seen;
    return -EPERM;
}

void
ais_route_dispatch(struct ais_req *r, const struct ais_route *routes, size_t n, void *ctx)
{
    unsigned allow = 0;
    char hdr[64];
    int i = ais_route_match(routes, n, r->method, r->path, &allow);
    if (i >= 0) {
        routes[i].fn(r, ctx);
    } else if (i == -EPERM) {
        ais_resp_err(r, 405, "method %s not allowed on %s", r->method, r->path);
        ais_resp_header(r, "Allow", ais_http_allow_str(allow, hdr, sizeof(hdr)));
    } else {
        ais_resp_err(r, 404, "unknown path %s", r->path);
    }
}

/* ---- setconfig ---- */

struct query_walk {
    struct ais_cfg_pairs *p;
    int overflow;
};

static enum MHD_Result
query_pair(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct query_walk *w = cls;
    (void)kind;
    if (strcmp(key, "what") == 0 || strcmp(key, "transient") == 0) {
        return MHD_YES;
    }
    if (w->p->n >= AIS_CONFIG_SET_MAX) {
        w->overflow = 1;
        return MHD_NO;
    }
    w->p->names[w->p->n] = key;
    w->p->values[w->p->n++] = value ? value : "";
    return MHD_YES;
}

/* The pairs of an ActMsg body (CUR set-config with a partial config, or 2020 setconfig). */
static int
body_pairs(struct ais_cfg_pairs *p, const json_t *body, char *msg, size_t cap)
{
    const char *action = ais_json_str(body, "action", "");
    const json_t *value = ais_json_get_ci(body, "value");
    const char *name = ais_json_str(body, "name", "");
    if (strcmp(action, "set-config") != 0 && strcmp(action, "setconfig") != 0) {
        snprintf(msg, cap, "setconfig: action \"%s\" is not supported (expected set-config)",
                 action);
        return 0;
    }
    if (json_is_object(value)) {
        int n = ais_config_flatten(value, p->names, p->values, AIS_CONFIG_SET_MAX, p->buf,
                                   sizeof(p->buf));
        if (n < 0) {
            snprintf(msg, cap, "setconfig: too many names (max %d)", AIS_CONFIG_SET_MAX);
            return 0;
        }
        p->n = (size_t)n;
    } else if (name[0] != '\0' && (json_is_string(value) || json_is_boolean(value))) {
        p->names[0] = name;
        p->values[0] = json_is_string(value) ? json_string_value(value)
                                             : (json_is_true(value) ? "true" : "false");
        p->n = 1;
    }
    if (p->n == 0) {
        snprintf(msg, cap, "setconfig: the set-config value names no config key");
    }
    return (int)p->n;
}

int
ais_req_config_pairs(struct ais_req *r, struct ais_cfg_pairs *p, char *msg, size_t cap)
{
    struct query_walk w = {.p = p};
    p->n = 0;
    p->body = NULL;
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_pair, &w);
    if (w.overflow) {
        snprintf(msg, cap, "setconfig: too many names (max %d)", AIS_CONFIG_SET_MAX);
        return 0;
    }
    if (p->n > 0) {
        return (int)p->n;
    }
    if (r->body.len == 0) {
        snprintf(msg, cap, "setconfig: no name=value given (see `ais config cluster`)");
        return 0;
    }
    if (ais_req_body_json(r, &p->body) != 0 || !json_is_object(p->body)) {
        snprintf(msg, cap, "setconfig: malformed JSON in request body (expected an ActMsg)");
        return 0;
    }
    return body_pairs(p, p->body, msg, cap);
}

void
ais_cfg_pairs_fini(struct ais_cfg_pairs *p)
{
    if (p != NULL) {
        json_decref(p->body);
        p->body = NULL;
    }
}

void
ais_resp_setconfig(struct ais_req *r, const struct ais_config *cfg)
{
    char msg[1024];
    struct ais_cfg_pairs *p = ais_req_alloc(r, sizeof(*p));
    if (p == NULL) {
        ais_resp_err(r, 500, "setconfig: out of request memory");
        return;
    }
    if (ais_req_config_pairs(r, p, msg, sizeof(msg)) == 0) {
        ais_resp_err(r, 400, "%s", msg);
    } else if (ais_config_set_many(cfg, p->names, p->values, p->n, msg, sizeof(msg)) != 0) {
        ais_resp_err(r, 400, "setconfig: %s", msg);
    } else {
        ais_resp_empty(r, 200);
    }
    ais_cfg_pairs_fini(p);
}
