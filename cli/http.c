/*
 * HTTP to the cluster through libcurl, and the error line a user sees when it fails.
 *
 * Design notes: one easy handle per connection (struct cli_conn), reset before each request
 * so connections are reused across list pages and multi-object transfers. Object requests go
 * to a gateway that answers 307 with the owning target; libcurl follows it. For uploads the
 * request carries "Expect: 100-continue", so a gateway that redirects at once never receives
 * the body, and a seek callback lets libcurl rewind and re-send it when the gateway did read
 * it. Only the final response's headers are kept (each new status line clears them). A 2xx
 * body streams to the caller's write callback; anything else is buffered (capped) so the
 * server's JSON error {"message":...} (or, for HEAD, header Hdr-Error) becomes the one error
 * line. Control requests have a total deadline; data transfers only a low-speed abort.
 */
#include "cli/cli_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
cli_conn_init(struct cli_conn *c, const char *endpoint)
{
    memset(c, 0, sizeof(*c));
    c->endpoint = endpoint;
    c->connect_timeout_ms = CLI_CONNECT_TIMEOUT_MS;
    c->ctrl_timeout_ms = CLI_CTRL_TIMEOUT_MS;
    c->curl = curl_easy_init();
    return c->curl != NULL ? 0 : -ENOMEM;
}

void
cli_conn_fini(struct cli_conn *c)
{
    if (c == NULL) {
        return;
    }
    if (c->curl != NULL) {
        curl_easy_cleanup(c->curl);
    }
    c->curl = NULL;
}

void
cli_conn_errorf(struct cli_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
    va_end(ap);
}

void
cli_resp_init(struct cli_resp *r)
{
    memset(r, 0, sizeof(*r));
    ais_buf_init(&r->body, CLI_RESP_BYTES_MAX);
}

static void
resp_hdrs_clear(struct cli_resp *r)
{
    for (size_t i = 0; i < r->nhdrs; i++) {
        free(r->hdrs[i]);
        r->hdrs[i] = NULL;
    }
    r->nhdrs = 0;
}

void
cli_resp_fini(struct cli_resp *r)
{
    if (r == NULL) {
        return;
    }
    resp_hdrs_clear(r);
    ais_buf_fini(&r->body);
}

const char *
cli_resp_hdr(const struct cli_resp *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nhdrs; i++) {
        const char *h = r->hdrs[i];
        if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
            h += n + 1;
            while (*h == ' ' || *h == '\t') {
                h++;
            }
            return h;
        }
    }
    return NULL;
}

/* Per-request state shared by the libcurl callbacks. */
struct xfer {
    const struct cli_req *rq;
    struct cli_resp *resp;
    CURL *curl;
};

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * n;
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        resp_hdrs_clear(x->resp);
        return len;
    }
    size_t keep = len;
    while (keep > 0 && (p[keep - 1] == '\r' || p[keep - 1] == '\n')) {
        keep--;
    }
    if (keep == 0 || keep > CLI_HDR_BYTES_MAX || x->resp->nhdrs >= CLI_HDRS_MAX) {
        return len;
    }
    char *h = strndup(p, keep);
    if (h == NULL) {
        return 0;
    }
    x->resp->hdrs[x->resp->nhdrs++] = h;
    return len;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    long code = 0;
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300 && x->rq->write_fn != NULL) {
        return x->rq->write_fn(p, size, n, x->rq->write_arg);
    }
    if (ais_buf_append(&x->resp->body, p, size * n) < 0) {
        x->resp->overflow = true;
        return 0;
    }
    return size * n;
}

static int
build_url(const struct cli_conn *c, const struct cli_req *rq, char *url, size_t n)
{
    const char *base = rq->base != NULL ? rq->base : c->endpoint;
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/') {
        bl--;
    }
    int w = snprintf(url, n, "%.*s%s%s%s", (int)bl, base, rq->path, rq->query != NULL ? "?" : "",
                     rq->query != NULL ? rq->query : "");
    return (w < 0 || (size_t)w >= n) ? -ENAMETOOLONG : 0;
}

static void
set_method(CURL *h, const struct cli_req *rq)
{
    if (strcmp(rq->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (rq->read_fn != NULL) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, rq->read_fn);
        curl_easy_setopt(h, CURLOPT_READDATA, rq->read_arg);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, rq->seek_fn);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, rq->read_arg);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->upload_bytes);
        if (strcmp(rq->method, "PUT") != 0) {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
        }
    } else {
        if (strcmp(rq->method, "GET") != 0) {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
        }
        if (rq->body != NULL || strcmp(rq->method, "PUT") == 0 || strcmp(rq->method, "POST") == 0) {
            /* A GET/DELETE with an ActMsg body: curl sends it with the custom method. */
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body != NULL ? rq->body : "");
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
            if (strcmp(rq->method, "GET") == 0) {
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "GET");
            }
        }
    }
}

static struct curl_slist *
make_headers(const struct cli_req *rq)
{
    char range[96];
    struct curl_slist *l = NULL;
    struct curl_slist *t = NULL;
    const char *hs[4] = {NULL, NULL, NULL, NULL};
    size_t n = 0;
    if (rq->body != NULL) {
        hs[n++] = "Content-Type: application/json";
    }
    if (rq->read_fn != NULL && rq->upload_bytes > 0) {
        hs[n++] = "Expect: 100-continue";
    }
    if (rq->range != NULL) {
        snprintf(range, sizeof(range), "Range: %s", rq->range);
        hs[n++] = range;
    }
    if (rq->hdr1 != NULL) {
        hs[n++] = rq->hdr1;
    }
    for (size_t i = 0; i < n; i++) {
        t = curl_slist_append(l, hs[i]);
        if (t == NULL) {
            curl_slist_free_all(l);
            return NULL;
        }
        l = t;
    }
    return l;
}

static int
transport_error(struct cli_conn *c, CURLcode cc, const char *url)
{
    const char *why = c->curl_err[0] != '\0' ? c->curl_err : curl_easy_strerror(cc);
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        cli_conn_errorf(c, "cannot reach AIS cluster at %s: %s (set AIS_ENDPOINT)", c->endpoint,
                        why);
        return -ECONNREFUSED;
    case CURLE_OPERATION_TIMEDOUT:
        cli_conn_errorf(c, "request to %s timed out: %s", url, why);
        return -ETIMEDOUT;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        cli_conn_errorf(c, "connection to %s failed: %s", url, why);
        return -ECONNRESET;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        cli_conn_errorf(c, "bad endpoint URL %s: %s", c->endpoint, why);
        return CLI_EUSAGE;
    default:
        cli_conn_errorf(c, "%s: %s", url, why);
        return -EIO;
    }
}

/* Turns a non-2xx response into the server's message and an error code. */
static int
status_error(struct cli_conn *c, const struct cli_resp *r)
{
    const char *text = r->body.len > 0 ? r->body.data : cli_resp_hdr(r, "Hdr-Error");
    json_t *j = text != NULL ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (msg != NULL && msg[0] != '\0') {
        cli_conn_errorf(c, "%s", msg);
    } else if (text != NULL && text[0] != '\0' && text[0] != '{') {
        cli_conn_errorf(c, "%.*s (HTTP %ld)", (int)strcspn(text, "\r\n"), text, r->status);
    } else {
        cli_conn_errorf(c, "HTTP %ld from the cluster", r->status);
    }
    json_decref(j);
    if (r->status == 404) {
        return -ENOENT;
    }
    return r->status == 409 ? -EEXIST : CLI_ESERVER;
}

static void
set_common(struct cli_conn *c, const struct cli_req *rq, struct xfer *x, const char *url)
{
    CURL *h = c->curl;
    curl_easy_reset(h);
    c->curl_err[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)CLI_REDIRECTS_MAX);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "ais/cli-c " CLI_VERSION);
    if (rq->timeout_ms > 0) {
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
    } else {
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)CLI_LOW_SPEED_TIME_S);
    }
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
}

int
cli_http_do(struct cli_conn *c, const struct cli_req *rq, struct cli_resp *resp)
{
    char url[CLI_URL_BYTES_MAX];
    struct cli_resp local;
    struct curl_slist *hdrs = NULL;
    int err = build_url(c, rq, url, sizeof(url));
    c->errmsg[0] = '\0';
    if (err < 0) {
        cli_conn_errorf(c, "request URL too long");
        return err;
    }
    if (resp == NULL) {
        cli_resp_init(&local);
        resp = &local;
    }
    resp_hdrs_clear(resp);
    resp->body.len = 0;
    if (resp->body.data != NULL) {
        resp->body.data[0] = '\0';
    }
    resp->status = 0;
    resp->overflow = false;
    struct xfer x = {.rq = rq, .resp = resp, .curl = c->curl};
    set_common(c, rq, &x, url);
    set_method(c->curl, rq);
    hdrs = make_headers(rq);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
    CURLcode cc = curl_easy_perform(c->curl);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (resp->overflow) {
        cli_conn_errorf(c, "response from %s is too large", url);
        err = -EMSGSIZE;
    } else if (cc == CURLE_WRITE_ERROR || cc == CURLE_ABORTED_BY_CALLBACK ||
               cc == CURLE_READ_ERROR) {
        cli_conn_errorf(c, "local I/O failed during transfer of %s", url);
        err = -EIO;
    } else if (cc != CURLE_OK) {
        err = transport_error(c, cc, url);
    } else if (resp->status < 200 || resp->status >= 300) {
        err = status_error(c, resp);
    }
    curl_slist_free_all(hdrs);
    if (resp == &local) {
        cli_resp_fini(&local);
    }
    return err;
}

json_t *
cli_actmsg(const char *action, json_t *value)
{
    return json_pack("{s:s, s:s, s:o}", "action", action, "name", "", "value",
                     value != NULL ? value : json_null());
}

int
cli_http_json(struct cli_ctx *ctx, const char *method, const char *path, const char *query,
              const json_t *body, json_t **out)
{
    struct cli_resp resp;
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    struct cli_req rq = {.method = method,
                         .path = path,
                         .query = query,
                         .body = text,
                         .body_len = text != NULL ? strlen(text) : 0,
                         .timeout_ms = ctx->conn.ctrl_timeout_ms};
    int err = -ENOMEM;
    if (body != NULL && text == NULL) {
        return err;
    }
    cli_resp_init(&resp);
    err = cli_http_do(&ctx->conn, &rq, &resp);
    if (err == 0 && out != NULL) {
        *out = resp.body.len > 0 ? cli_json_loadb(resp.body.data, resp.body.len) : json_null();
        if (*out == NULL) {
            cli_errorf(ctx, "malformed JSON from the cluster for %s", path);
            err = CLI_ESERVER;
        }
    }
    cli_resp_fini(&resp);
    free(text);
    return err;
}

int
cli_http_put_text(struct cli_ctx *ctx, const char *path, const json_t *msg, char *out, size_t cap)
{
    struct cli_resp resp;
    char *text = json_dumps(msg, JSON_COMPACT);
    int err = text != NULL ? 0 : -ENOMEM;
    struct cli_req rq = {.method = "PUT",
                         .path = path,
                         .body = text,
                         .body_len = text != NULL ? strlen(text) : 0,
                         .timeout_ms = ctx->conn.ctrl_timeout_ms};
    cli_resp_init(&resp);
    err = err ? err : cli_http_do(&ctx->conn, &rq, &resp);
    if (err == 0 && cap > 0) {
        size_t n = resp.body.len < cap - 1 ? resp.body.len : cap - 1;
        memcpy(out, resp.body.data != NULL ? resp.body.data : "", n);
        out[n] = '\0';
        out[strcspn(out, "\r\n \"")] = '\0';
    }
    cli_resp_fini(&resp);
    free(text);
    return err;
}

bool
cli_poll_transient(int err)
{
    return err == -EAGAIN || err == -ECONNREFUSED || err == -ETIMEDOUT || err == -ECONNRESET;
}
