/*
 * Design notes: options that never change are set once in al_client_new; each op sets only
 * the method, URL and transfer state. PUT through a gateway relies on libcurl following the
 * 307 and rewinding the body through seek_cb (the body is re-read from the pattern, never
 * kept). "Expect: 100-continue" is disabled: small PUTs would pay a round trip and servers
 * that never send 100 would stall each PUT for a second. The header callback resets the GET
 * counters at every status line so a redirect's body can never count as object bytes.
 */
#include "bench/client.h"

#include "common/assert.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct al_client {
    CURL *curl;
    struct curl_slist *hdrs;
    struct curl_slist *json_hdrs;
    const struct al_args *args;
    const struct al_pattern *pat;
    /* transfer state of the current op */
    uint32_t name_seed;
    uint64_t size; /* PUT body size */
    uint64_t off;  /* PUT read offset */
    uint64_t got;  /* GET body bytes of the current response */
    bool verify;
    bool mismatch;
};

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    struct al_client *c = arg;
    uint64_t left = c->size - c->off;
    size_t n = size * nitems;
    if (n > left) {
        n = (size_t)left;
    }
    al_pattern_copy(c->pat, c->name_seed, c->off, buf, n);
    c->off += n;
    return n;
}

static int
seek_cb(void *arg, curl_off_t offset, int origin)
{
    struct al_client *c = arg;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > c->size) {
        return CURL_SEEKFUNC_CANTSEEK;
    }
    c->off = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

static size_t
write_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    struct al_client *c = arg;
    size_t n = size * nitems;
    if (c->verify && !c->mismatch && !al_pattern_check(c->pat, c->name_seed, c->got, buf, n)) {
        c->mismatch = true;
    }
    c->got += n;
    return n;
}

static size_t
header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    struct al_client *c = arg;
    size_t n = size * nitems;
    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        c->got = 0;
        c->mismatch = false;
    }
    return n;
}

#define SETOPT(c, opt, val)                                                                        \
    do {                                                                                           \
        if (curl_easy_setopt((c), (opt), (val)) != CURLE_OK) {                                     \
            return -EIO;                                                                           \
        }                                                                                          \
    } while (0)

static int
client_setup(struct al_client *c)
{
    CURL *h = c->curl;
    long timeout = (long)c->args->timeout_ms;
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    SETOPT(h, CURLOPT_TCP_NODELAY, 1L);
    SETOPT(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SETOPT(h, CURLOPT_TIMEOUT_MS, timeout);
    SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, timeout < 10000 ? timeout : 10000L);
    SETOPT(h, CURLOPT_MAXCONNECTS, (long)AL_CONNS_PER_WORKER_MAX);
    SETOPT(h, CURLOPT_BUFFERSIZE, 256L << 10);
    SETOPT(h, CURLOPT_UPLOAD_BUFFERSIZE, 512L << 10);
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(h, CURLOPT_MAXREDIRS, (long)AL_REDIRECTS_MAX);
    SETOPT(h, CURLOPT_READFUNCTION, read_cb);
    SETOPT(h, CURLOPT_READDATA, c);
    SETOPT(h, CURLOPT_SEEKFUNCTION, seek_cb);
    SETOPT(h, CURLOPT_SEEKDATA, c);
    SETOPT(h, CURLOPT_WRITEFUNCTION, write_cb);
    SETOPT(h, CURLOPT_WRITEDATA, c);
    SETOPT(h, CURLOPT_HEADERFUNCTION, header_cb);
    SETOPT(h, CURLOPT_HEADERDATA, c);
    SETOPT(h, CURLOPT_HTTPHEADER, c->hdrs);
    return 0;
}

int
al_client_new(const struct al_args *args, const struct al_pattern *p, struct al_client **out)
{
    AIS_ASSERT(args != NULL);
    AIS_ASSERT(p != NULL);
    AIS_ASSERT(out != NULL);
    int err = -ENOMEM;
    struct al_client *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return -ENOMEM;
    }
    c->args = args;
    c->pat = p;
    c->curl = curl_easy_init();
    c->hdrs = curl_slist_append(NULL, args->expect_continue ? "Expect: 100-continue" : "Expect:");
    c->json_hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    if (c->curl == NULL || c->hdrs == NULL || c->json_hdrs == NULL) {
        goto out;
    }
    err = client_setup(c);
out:
    if (err != 0) {
        al_client_free(c);
        return err;
    }
    *out = c;
    return 0;
}

void
al_client_free(struct al_client *c)
{
    if (c == NULL) {
        return;
    }
    if (c->curl != NULL) {
        curl_easy_cleanup(c->curl);
    }
    curl_slist_free_all(c->hdrs);
    curl_slist_free_all(c->json_hdrs);
    free(c);
}

static bool
status_in(long status, const long *ok, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (status == ok[i]) {
            return true;
        }
    }
    return false;
}

/* Runs the prepared request; res is ok when curl succeeded and the status is one of ok[]. */
static void
perform(struct al_client *c, const long *ok, size_t nok, struct al_result *res)
{
    memset(res, 0, sizeof(*res));
    CURLcode rc = curl_easy_perform(c->curl);
    if (rc != CURLE_OK) {
        res->kind = AL_ERR_CURL;
        res->code = (long)rc;
        return;
    }
    long status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (!status_in(status, ok, nok)) {
        res->kind = AL_ERR_HTTP;
        res->code = status;
        return;
    }
    res->ok = true;
}

/* Method GET (no body), optional custom verb, follow redirects or not. */
static void
prepare_get(struct al_client *c, const char *url, const char *verb, long follow)
{
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 0L);
    curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, verb);
    curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, follow);
    c->got = 0;
    c->mismatch = false;
}

void
al_client_put(struct al_client *c, const char *url, const char *name, uint64_t size,
              struct al_result *res)
{
    static const long ok[] = {200, 201, 204};
    c->name_seed = al_pattern_name_seed(name);
    c->size = size;
    c->off = 0;
    c->verify = false;
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
    curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 1L);
    perform(c, ok, sizeof(ok) / sizeof(ok[0]), res);
    if (res->ok) {
        res->bytes = size;
    }
}

void
al_client_get(struct al_client *c, const char *url, const char *name, struct al_result *res)
{
    static const long ok[] = {200, 206};
    c->name_seed = al_pattern_name_seed(name);
    c->verify = c->args->verify;
    prepare_get(c, url, NULL, 1L);
    perform(c, ok, sizeof(ok) / sizeof(ok[0]), res);
    if (res->ok && c->mismatch) {
        res->ok = false;
        res->kind = AL_ERR_VERIFY;
        res->code = 0;
    }
    if (res->ok) {
        res->bytes = c->got;
    }
}

void
al_client_delete(struct al_client *c, const char *url, struct al_result *res)
{
    static const long ok[] = {200, 204};
    c->verify = false;
    prepare_get(c, url, "DELETE", 1L);
    perform(c, ok, sizeof(ok) / sizeof(ok[0]), res);
    curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, NULL);
}

/* Copies scheme://host[:port] of url into base; -EINVAL when it does not fit or is odd. */
static int
url_base(const char *url, char *base, size_t cap)
{
    const char *p = strstr(url, "://");
    if (p == NULL) {
        return -EINVAL;
    }
    p += 3;
    size_t n = (size_t)(p - url) + strcspn(p, "/?#");
    if (n == (size_t)(p - url) || n >= cap) {
        return -EINVAL;
    }
    memcpy(base, url, n);
    base[n] = '\0';
    return 0;
}

void
al_client_resolve(struct al_client *c, const char *url, char *base, size_t cap,
                  struct al_result *res)
{
    static const long ok[] = {301, 302, 307, 308};
    c->verify = false;
    prepare_get(c, url, NULL, 0L);
    perform(c, ok, sizeof(ok) / sizeof(ok[0]), res);
    curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 1L);
    if (!res->ok) {
        if (res->kind == AL_ERR_HTTP) {
            res->kind = AL_ERR_RESOLVE;
        }
        return;
    }
    char *loc = NULL;
    curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &loc);
    if (loc == NULL || url_base(loc, base, cap) != 0) {
        res->ok = false;
        res->kind = AL_ERR_RESOLVE;
        res->code = 0;
    }
}

void
al_client_create_bucket(struct al_client *c, const char *url, struct al_result *res)
{
    static const long ok[] = {200, 409};
    static const char body[] = "{\"action\":\"create-bck\",\"name\":\"\",\"value\":null}";
    c->verify = false;
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 0L);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->json_hdrs);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)(sizeof(body) - 1));
    perform(c, ok, sizeof(ok) / sizeof(ok[0]), res);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->hdrs);
    curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
}
