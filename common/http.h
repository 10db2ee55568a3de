/*
 * HTTP edge over libmicrohttpd. Handlers see `struct ais_req` only; MHD types stay in http.c.
 *
 * Flow per request: the server calls the route handler once the headers are in. The handler
 * either responds at once (ais_resp_*), or asks for the body: buffered up to a cap
 * (ais_req_body_buffer) or streamed to callbacks (ais_req_body_stream). When the body is
 * complete the done callback responds. A request whose connection dies calls the cleanup
 * callback with ok=0, so partial uploads can be dropped. All callbacks of one request run on
 * one thread, in order.
 */
#ifndef AIS_COMMON_HTTP_H
#define AIS_COMMON_HTTP_H

#include "common/limits.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct ais_config;
struct ais_http;
struct ais_req;

typedef void (*ais_http_handler_fn)(struct ais_req *req, void *ctx);
/* Streamed body bytes. Return 0, or an error after responding with ais_resp_err (stops body). */
typedef int (*ais_body_fn)(struct ais_req *req, const char *data, size_t len, void *arg);
/* Body complete: must respond. */
typedef void (*ais_done_fn)(struct ais_req *req, void *arg);
/* Request over (ok=1 response sent, ok=0 connection failed or aborted). Frees arg. */
typedef void (*ais_cleanup_fn)(struct ais_req *req, void *arg, int ok);
/* Generated response body: fill up to max bytes at pos; return bytes written (>0), or
 * AIS_GEN_ERR to abort the response (the client sees a short body and the connection closes). */
#define AIS_GEN_ERR ((size_t)-1)
/* A body of unknown size (AIS_GEN_SIZE_UNKNOWN: sent chunked) ends when gen returns AIS_GEN_END. */
#define AIS_GEN_END ((size_t)-2)
#define AIS_GEN_SIZE_UNKNOWN UINT64_MAX
typedef size_t (*ais_gen_fn)(void *arg, uint64_t pos, char *buf, size_t max);

struct ais_http_opts {
    const char *host;
    uint16_t port;
    const char *node_id; /* printed in error bodies; borrowed for the server's life */
    ais_http_handler_fn handler;
    void *ctx;
    unsigned max_conns; /* connections at once (0 = AIS_HTTP_CONN_MAX); more get 503 */
};

/* Binds and starts serving. 0, -EADDRINUSE or -EIO. */
__attribute__((warn_unused_result)) int ais_http_start(const struct ais_http_opts *o,
                                                       struct ais_http **out);
/*
 * The first request line in buf[0..len) (leading empty lines skipped): 1 well-formed
 * ("METHOD SP TARGET SP HTTP/1.x", token method, no control characters or spaces in the
 * target), 0 not (why set), -1 incomplete (no newline yet).
 */
int ais_http_line_check(const char *buf, size_t len, const char **why);
/* Stops accepting, waits for in-flight requests, frees. Accepts NULL. */
void ais_http_stop(struct ais_http *h);

/* Request accessors; returned strings live as long as the request. */
const char *ais_req_method(const struct ais_req *r);
int ais_req_is(const struct ais_req *r, const char *method);
/* Decoded path (MHD-unescaped). */
const char *ais_req_path(const struct ais_req *r);
/* Raw (still percent-encoded) path and query ("" if none). */
const char *ais_req_raw_path(const struct ais_req *r);
const char *ais_req_raw_query(const struct ais_req *r);
/* 1 if the raw path contains an encoded NUL (%00), which the decoded C string cannot show. */
int ais_req_path_has_nul(const struct ais_req *r);
/* Decoded query parameter or NULL. */
const char *ais_req_query(const struct ais_req *r, const char *key);
const char *ais_req_header(const struct ais_req *r, const char *key);
/* Calls fn(arg, name, value) for every request header in arrival order; fn returning non-zero
 * stops the walk. Strings live as long as the request. */
void ais_req_header_each(const struct ais_req *r,
                         int (*fn)(void *arg, const char *name, const char *value), void *arg);
/* "ip:port" of the client. */
const char *ais_req_remote(const struct ais_req *r);
/* Content-Length, or -1 when absent (chunked). */
int64_t ais_req_content_length(const struct ais_req *r);
/* ais_mono_ns() when the request line arrived (latency measurements). */
int64_t ais_req_start_ns(const struct ais_req *r);

/*
 * Per-request arena: n bytes that live until the request completes (freed by the edge, never
 * by the caller). Everything the edge keeps for a request (raw URI, header bytes, buffered
 * body) is charged to the same budget of AIS_REQ_ARENA_BYTES_MAX. NULL when the budget is
 * spent or on OOM.
 */
void *ais_req_alloc(struct ais_req *r, size_t n);

/* ---- routes: one table of (methods, path pattern, handler) rows per server ---- */

#define AIS_M_GET 0x01u
#define AIS_M_HEAD 0x02u
#define AIS_M_PUT 0x04u
#define AIS_M_POST 0x08u
#define AIS_M_DELETE 0x10u
#define AIS_M_PATCH 0x20u

/*
 * pattern is an exact path ("/v1/daemon") or a prefix: a pattern ending in slash-star matches
 * the part before the star followed by anything, also nothing ("/v1/objects/" then a name).
 */
struct ais_route {
    unsigned methods; /* AIS_M_* mask */
    const char *pattern;
    ais_http_handler_fn fn;
};

/* AIS_M_* bit of an HTTP method, 0 for any other method. */
unsigned ais_http_method_bit(const char *method);
/* "GET, HEAD, PUT" for a mask (Allow header). Returns out. */
const char *ais_http_allow_str(unsigned mask, char *out, size_t cap);
/*
 * The first row (in order) whose pattern matches path and whose methods include method: its
 * index. -ENOENT when no pattern matches; -EPERM when some pattern matches but no such row
 * allows method, with *allow = the union of the methods of the matching rows.
 */
int ais_route_match(const struct ais_route *routes, size_t n, const char *method, const char *path,
                    unsigned *allow);
/* Calls the matching row's handler with ctx, else answers 405 with Allow, or 404 (api.md §7). */
void ais_route_dispatch(struct ais_req *r, const struct ais_route *routes, size_t n, void *ctx);

/* ---- setconfig (api.md §5.4), shared by every node ---- */

/*
 * The name=value pairs of a setconfig request: the query parameters (except what= and
 * transient=), or else the buffered body's ActMsg {"action":"set-config","value":{...}} (or
 * 2020 {"action":"setconfig","name":N,"value":V}). Pointers live as long as the request and p.
 */
struct ais_cfg_pairs {
    size_t n;
    const char *names[AIS_CONFIG_SET_MAX];
    const char *values[AIS_CONFIG_SET_MAX];
    json_t *body;
    char buf[4096];
};
/* Fills p (caller's storage, e.g. from ais_req_alloc). n > 0, or 0 with a 400 message in msg. */
int ais_req_config_pairs(struct ais_req *r, struct ais_cfg_pairs *p, char *msg, size_t cap);
void ais_cfg_pairs_fini(struct ais_cfg_pairs *p);

/*
 * Node setconfig: applies the request's pairs to cfg (all or none) and responds 200, or 400
 * naming every unknown, read-only or invalid key. Call once the body is buffered (or absent).
 */
void ais_resp_setconfig(struct ais_req *r, const struct ais_config *cfg);

/*
 * A response set before the body arrived is sent once the body is read and dropped, keeping
 * the connection, when the body is known to be at most max bytes (default
 * AIS_CTRL_BODY_BYTES_MAX); larger, chunked or `Expect: 100-continue` bodies get the response
 * at once and the connection closes.
 */
void ais_req_discard_body(struct ais_req *r, size_t max);
/* (The same bound applies to a streamed body whose data callback failed: a rest of at most max
 * bytes is read and dropped so the error response can be sent; else the connection closes.) */

/*
 * For a request without a body: fn(r, arg, ok) runs once the response was sent or the request
 * was dropped (ok = completed), e.g. to end per-mountpath read accounting after a sendfile.
 * 0, or -EBUSY when the request already has a body handler (fn will not run).
 */
int ais_req_on_done(struct ais_req *r, ais_cleanup_fn fn, void *arg);
/* Buffer the body (at most max bytes; larger => 413) then call done. */
/*
 * A body announced larger than max: drains up to 4 * max of it (so a client that writes the
 * whole body before reading still sees the answer) and answers 413 naming what; returns 1.
 * Else 0 (nothing done). For handlers whose clients send large bodies before reading.
 */
int ais_req_body_refuse_large(struct ais_req *r, size_t max, const char *what);
void ais_req_body_buffer(struct ais_req *r, size_t max, ais_done_fn done, void *arg);
/* Buffered body (NUL-terminated) or "" if none. */
const char *ais_req_body(const struct ais_req *r, size_t *len);
/* Parses the buffered body as JSON (NULL if empty). AIS_EBADJSON on bad JSON. */
int ais_req_body_json(const struct ais_req *r, json_t **out);
/* Stream the body to data(), then done(); cleanup() always runs at the end. */
void ais_req_body_stream(struct ais_req *r, ais_body_fn data, ais_done_fn done,
                         ais_cleanup_fn cleanup, void *arg);

/* Responses. Exactly one per request; a second is a bug (asserted). */
int ais_resp_buf(struct ais_req *r, int status, const char *ctype, const void *data, size_t len);
int ais_resp_json(struct ais_req *r, int status, const json_t *j);
int ais_resp_empty(struct ais_req *r, int status);
/* Serves len bytes of fd from off with sendfile; takes ownership of fd in all cases. */
int ais_resp_fd(struct ais_req *r, int status, int fd, uint64_t off, uint64_t len);
/* Content-Length: size with no body (for HEAD). */
int ais_resp_head(struct ais_req *r, int status, uint64_t size);
/* Generated body of size bytes; free_fn(arg) at the end (may be NULL). */
int ais_resp_gen(struct ais_req *r, int status, uint64_t size, ais_gen_fn gen, void *arg,
                 void (*free_fn)(void *));
/* 307 Temporary Redirect to location. */
int ais_resp_redirect(struct ais_req *r, const char *location);
/* AIS error: JSON body (api.md §7), or header Hdr-Error for HEAD. */
__attribute__((format(printf, 3, 4))) int ais_resp_err(struct ais_req *r, int status,
                                                       const char *fmt, ...);
/* Adds a header to the response already created. */
void ais_resp_header(struct ais_req *r, const char *name, const char *value);
/* 1 if a response was set. */
int ais_req_responded(const struct ais_req *r);
/* Close the connection after this response. */
void ais_resp_close(struct ais_req *r);

#endif
