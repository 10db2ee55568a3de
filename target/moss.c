/*
 * Design notes: batch GET on the designated target (target/moss.h). Three steps per request:
 * parse (the MossReq body, bounded), resolve (every entry's existence and size, in order: a
 * stat for an ais object this target owns, else a HEAD at the owner, and for an archived file
 * the shard's member list from its owner, fetched once per run of entries from the same shard),
 * then stream. Since every size is known before the first byte, the reply has an exact
 * Content-Length and the multipart metadata (which AIS sends first) is complete.
 *
 * Streaming: AIS_MOSS_READAHEAD_N worker threads take entries in request order, never more
 * than that many ahead of the one being written; a local object is just opened (its bytes are
 * pread by the writer), a remote one is read from its owner over HTTP into a buffer of at most
 * AIS_MOSS_ENTRY_BYTES_MAX. The writer (the HTTP generator on the connection thread) emits the
 * TAR header, the bytes, the padding, then frees the entry and lets the workers move on. An
 * entry that changed or vanished after resolve aborts the reply (the client sees a short body).
 */
#include "target/moss.h"

#include "common/assert.h"
#include "common/err.h"
#include "common/hrw.h"
#include "common/json.h"
#include "common/log.h"
#include "common/names.h"
#include "common/util.h"
#include "target/target_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TAR_BLOCK 512u
#define LONGLINK "././@LongLink"

enum { ENT_IDLE, ENT_BUSY, ENT_READY };
enum { PH_PREFIX, PH_HDR, PH_DATA, PH_PAD, PH_TRAILER, PH_SUFFIX, PH_END };

struct moss_ent {
    const char *provider;                                /* canonical static string */
    const char *bck, *obj, *arch, *opaque, *in_provider; /* borrowed from moss.root */
    char *name;                                          /* in the archive */
    char *emsg;                                          /* missing: why */
    uint64_t digest;
    int64_t start, length; /* as requested */
    int local;             /* an ais object this target holds: read from its file */
    char owner[128];       /* base URL of the owner */
    uint64_t obj_size;     /* whole object (or archived file) at resolve */
    uint64_t off, size;    /* the bytes this entry contributes */
    int st;                /* ENT_*, under moss.mu */
    int rc;
    int fd;
    char *buf;
    size_t len;
};

struct moss {
    struct tgt *t;
    json_t *root;
    struct moss_ent *e;
    size_t n;
    int coer, onob, strm;
    char uuid[24];
    /* resolve: the member list of the last shard asked for */
    json_t *arch_list;
    char arch_key[AIS_BCKNAME_BYTES_MAX + AIS_OBJNAME_BYTES_MAX + 16];
    int arch_status;
    CURL *h; /* resolve's connection */
    /* read-ahead */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th[AIS_MOSS_READAHEAD_N];
    size_t nth;
    size_t next_fetch, next_emit;
    int stop;
    /* writer */
    char *prefix, *suffix; /* multipart framing ("" when streaming) */
    size_t prefix_len, suffix_len;
    uint64_t total, sent;
    int phase;
    size_t cur;
    uint64_t part_off;
    char hdr[3 * TAR_BLOCK + AIS_OBJNAME_BYTES_MAX * 2 + 2 * TAR_BLOCK];
    size_t hdr_len;
    int64_t mtime_s;
};

static uint64_t
round512(uint64_t n)
{
    return (n + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
}

size_t
tgt_moss_tar_hdr_bytes(const char *name)
{
    size_t nl = strlen(name);
    return nl <= 100 ? TAR_BLOCK : 2 * TAR_BLOCK + (size_t)round512(nl + 1);
}

static void
octal(char *dst, size_t width, uint64_t v)
{
    /* width-1 digits, NUL */
    dst[width - 1] = '\0';
    for (size_t i = width - 1; i-- > 0;) {
        dst[i] = (char)('0' + (v & 7));
        v >>= 3;
    }
}

static void
hdr_block(char *b, const char *name, size_t name_len, uint64_t size, int64_t mtime_s, char type)
{
    memset(b, 0, TAR_BLOCK);
    memcpy(b, name, name_len > 100 ? 100 : name_len);
    octal(b + 100, 8, 0644);
    octal(b + 108, 8, 0);
    octal(b + 116, 8, 0);
    octal(b + 124, 12, size);
    octal(b + 136, 12, (uint64_t)(mtime_s < 0 ? 0 : mtime_s));
    b[156] = type;
    memcpy(b + 257, "ustar  ", 8); /* GNU magic + version (with 'L' records) */
    memset(b + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < TAR_BLOCK; i++) {
        sum += (unsigned char)b[i];
    }
    octal(b + 148, 7, sum);
    b[155] = ' ';
}

size_t
tgt_moss_tar_hdr(char *out, size_t cap, const char *name, uint64_t size, int64_t mtime_s)
{
    size_t nl = strlen(name), need = tgt_moss_tar_hdr_bytes(name);
    if (cap < need || size >= (1ull << 33)) {
        return 0;
    }
    char *b = out;
    if (nl > 100) {
        hdr_block(b, LONGLINK, strlen(LONGLINK), nl + 1, 0, 'L');
        b += TAR_BLOCK;
        size_t body = (size_t)round512(nl + 1);
        memset(b, 0, body);
        memcpy(b, name, nl);
        b += body;
    }
    hdr_block(b, name, nl, size, mtime_s, '0');
    return need;
}

/* ---- HTTP to the owners ---- */

struct sink {
    CURL *h;
    char *buf;
    size_t len, cap;
    int over;
};

static size_t
sink_write(char *data, size_t sz, size_t nit, void *arg)
{
    struct sink *s = arg;
    size_t n = sz * nit;
    long st = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &st);
    if (st != 200 && st != 206) {
        return n; /* an error body: the status says it all */
    }
    if (s->buf == NULL || n > s->cap - s->len) {
        s->over = 1;
        return 0;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    return n;
}

/*
 * One request on h: HEAD (buf NULL, cap 0) or GET into buf[0..cap). Returns the HTTP status
 * (0 when the transfer failed), *clen the Content-Length (-1 unknown), *got the bytes.
 */
static long
http_do(CURL *h, const char *url, int head, const char *range, char *buf, size_t cap, int64_t *clen,
        size_t *got)
{
    struct sink s = {.h = h, .buf = buf, .cap = cap};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)(AIS_MOSS_ENTRY_WAIT_MS / 2000));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)AIS_MOSS_ENTRY_WAIT_MS);
    if (head) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h, CURLOPT_RANGE, range);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    CURLcode cc = curl_easy_perform(h);
    long st = 0;
    curl_off_t cl = -1;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    *clen = cl;
    *got = s.len;
    if (cc != CURLE_OK && !(head && st != 0)) {
        return 0;
    }
    return st;
}

/* owner's URL of e (what: NULL, "archpath" or "archlist") into out. */
static void
ent_url(const struct moss_ent *e, const char *what, char *out, size_t cap)
{
    char enc[3 * AIS_OBJNAME_BYTES_MAX + 1], aenc[3 * AIS_OBJNAME_BYTES_MAX + 1];
    tgt_path_encode(enc, sizeof(enc), e->obj);
    aenc[0] = '\0';
    if (what != NULL && strcmp(what, "archpath") == 0) {
        tgt_path_encode(aenc, sizeof(aenc), e->arch);
    }
    snprintf(out, cap, "%s/v1/objects/%s/%s?provider=%s%s%s%s", e->owner, e->bck, enc, e->provider,
             what == NULL ? "" : "&", what == NULL ? "" : what,
             what == NULL ? ""
             : aenc[0]    ? "="
                          : "=true");
    if (aenc[0] != '\0') {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s", aenc);
    }
}

#define URL_BYTES (128 + 2 * 3 * AIS_OBJNAME_BYTES_MAX + AIS_BCKNAME_BYTES_MAX + 64)

/* ---- parse ---- */

static void
moss_free(void *arg)
{
    struct moss *m = arg;
    if (m == NULL) {
        return;
    }
    pthread_mutex_lock(&m->mu);
    m->stop = 1;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    for (size_t i = 0; i < m->nth; i++) {
        pthread_join(m->th[i], NULL);
    }
    for (size_t i = 0; i < m->n; i++) {
        struct moss_ent *e = &m->e[i];
        if (e->fd >= 0) {
            close(e->fd);
        }
        free(e->buf);
        free(e->name);
        free(e->emsg);
    }
    free(m->e);
    free(m->prefix);
    free(m->suffix);
    json_decref(m->arch_list);
    json_decref(m->root);
    if (m->h != NULL) {
        curl_easy_cleanup(m->h);
    }
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static const char *
jstr(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int
jbool(const json_t *o, const char *k)
{
    return json_is_true(json_object_get(o, k));
}

/* "ais://bck/obj[/archpath]" of e into out. */
static void
ent_display(const struct moss_ent *e, char *out, size_t cap)
{
    snprintf(out, cap, "%s://%s/%s%s%s", e->provider, e->bck, e->obj, e->arch ? "/" : "",
             e->arch ? e->arch : "");
}

/* Parses body into m. 0, or an HTTP status with msg. */
static int
moss_parse(struct moss *m, const char *path_bck, const char *qprov, const char *body, size_t len,
           char *msg, size_t cap)
{
    json_error_t jerr;
    m->root = json_loadb(body, len, 0, &jerr);
    if (m->root == NULL || !json_is_object(m->root)) {
        snprintf(msg, cap, "invalid get-batch request (MossReq JSON): %s",
                 m->root ? "not an object" : jerr.text);
        return 400;
    }
    const json_t *in = json_object_get(m->root, "in");
    const char *mime = jstr(m->root, "mime");
    if (!json_is_array(in) || json_array_size(in) == 0) {
        snprintf(msg, cap, "get-batch request: \"in\" must be a non-empty array of entries");
        return 400;
    }
    if (json_array_size(in) > AIS_MOSS_ENTRIES_MAX) {
        snprintf(msg, cap, "get-batch request has %zu entries: at most %d in one batch",
                 json_array_size(in), AIS_MOSS_ENTRIES_MAX);
        return 400;
    }
    if (mime != NULL && mime[0] != '\0' && strcmp(mime, ".tar") != 0 && strcmp(mime, "tar") != 0 &&
        strcmp(mime, "application/x-tar") != 0) {
        snprintf(msg, cap, "get-batch output format \"%s\" is not supported (only .tar)", mime);
        return 400;
    }
    m->coer = jbool(m->root, "coer");
    m->onob = jbool(m->root, "onob");
    m->strm = jbool(m->root, "strm");
    m->n = json_array_size(in);
    m->e = calloc(m->n, sizeof(*m->e));
    if (m->e == NULL) {
        snprintf(msg, cap, "out of memory");
        return 500;
    }
    for (size_t i = 0; i < m->n; i++) {
        m->e[i].fd = -1;
    }
    const char *dprov = ais_provider_norm(qprov && qprov[0] ? qprov : "ais");
    for (size_t i = 0; i < m->n; i++) {
        struct moss_ent *e = &m->e[i];
        const json_t *o = json_array_get(in, i);
        const char *why = NULL;
        if (!json_is_object(o)) {
            snprintf(msg, cap, "get-batch entry %zu is not an object", i);
            return 400;
        }
        e->obj = jstr(o, "objname");
        e->bck = jstr(o, "bucket");
        e->in_provider = jstr(o, "provider");
        e->arch = jstr(o, "archpath");
        e->opaque = jstr(o, "opaque");
        if (e->bck == NULL || e->bck[0] == '\0') {
            e->bck = path_bck;
        }
        e->provider =
            e->in_provider && e->in_provider[0] ? ais_provider_norm(e->in_provider) : dprov;
        if (e->arch != NULL && e->arch[0] == '\0') {
            e->arch = NULL;
        }
        const json_t *js = json_object_get(o, "start"), *jl = json_object_get(o, "length");
        e->start = json_is_integer(js) ? json_integer_value(js) : 0;
        e->length = json_is_integer(jl) ? json_integer_value(jl) : 0;
        if (e->obj == NULL || ais_obj_name_check(e->obj, strlen(e->obj), &why) != 0) {
            snprintf(msg, cap, "get-batch entry %zu: invalid objname \"%s\"%s%s", i,
                     e->obj ? e->obj : "", why ? ": " : "", why ? why : "");
            return 400;
        }
        if (e->bck == NULL || ais_bck_name_check(e->bck, &why) != 0) {
            snprintf(msg, cap, "get-batch entry %zu (%s): %s", i, e->obj,
                     e->bck ? "invalid bucket name"
                            : "no bucket (neither in the entry nor in the path)");
            return 400;
        }
        if (e->provider == NULL) {
            snprintf(msg, cap, "get-batch entry %zu (%s): invalid provider \"%s\"", i, e->obj,
                     e->in_provider ? e->in_provider : qprov);
            return 400;
        }
        if (e->arch != NULL && strlen(e->arch) > AIS_OBJNAME_BYTES_MAX) {
            snprintf(msg, cap, "get-batch entry %zu (%s): archpath too long", i, e->obj);
            return 400;
        }
        if (e->start < 0 || e->length < -1 || (e->start != 0 && e->length == 0)) {
            snprintf(msg, cap,
                     "get-batch entry %zu (%s): invalid range start=%" PRId64 ",length=%" PRId64, i,
                     e->obj, e->start, e->length);
            return 416;
        }
        if (ais_obj_digest(e->provider, "", e->bck, e->obj, &e->digest) != 0) {
            snprintf(msg, cap, "get-batch entry %zu (%s): invalid name", i, e->obj);
            return 400;
        }
    }
    return 0;
}

/* ---- resolve ---- */

/* The size of e's archived file from its shard's member list: 0, -ENOENT, or an error. */
static int
arch_member(struct moss *m, struct moss_ent *e, uint64_t *size, long *status)
{
    char key[sizeof(m->arch_key)];
    snprintf(key, sizeof(key), "%s\n%s\n%s", e->provider, e->bck, e->obj);
    if (strcmp(key, m->arch_key) != 0) {
        json_decref(m->arch_list);
        m->arch_list = NULL;
        snprintf(m->arch_key, sizeof(m->arch_key), "%s", key);
        char *url = malloc(URL_BYTES), *buf = malloc(AIS_MOSS_ENTRY_BYTES_MAX);
        int64_t clen;
        size_t got = 0;
        long st = 0;
        if (url != NULL && buf != NULL) {
            ent_url(e, "archlist", url, URL_BYTES);
            st = http_do(m->h, url, 0, NULL, buf, AIS_MOSS_ENTRY_BYTES_MAX, &clen, &got);
        }
        m->arch_status = (int)st;
        if (st == 200) {
            m->arch_list = json_loadb(buf, got, 0, NULL);
            if (m->arch_list == NULL) {
                m->arch_status = 502;
            }
        }
        free(url);
        free(buf);
    }
    *status = m->arch_status;
    if (m->arch_list == NULL) {
        return m->arch_status == 404 ? -ENOENT : -EIO;
    }
    const json_t *arr = json_object_get(m->arch_list, "entries");
    const char *a = e->arch[0] == '/' ? e->arch + 1 : e->arch;
    size_t ol = strlen(e->obj);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *it = json_array_get(arr, i);
        const char *nm = jstr(it, "name"), *sz = jstr(it, "size");
        if (nm == NULL || sz == NULL || strncmp(nm, e->obj, ol) != 0 || nm[ol] != '/') {
            continue;
        }
        nm += ol + 1;
        if (strncmp(nm, "./", 2) == 0) {
            nm += 2;
        }
        if (strcmp(a, nm) == 0) {
            *size = strtoull(sz, NULL, 10);
            return 0;
        }
    }
    *status = 404;
    return -ENOENT;
}

static int
ent_name(struct moss *m, struct moss_ent *e, int missing)
{
    const char *a = e->arch ? e->arch : "";
    size_t cap = strlen(e->bck) + strlen(e->obj) + strlen(a) + sizeof(AIS_MOSS_MISSING_DIR) + 4;
    e->name = malloc(cap);
    if (e->name == NULL) {
        return -ENOMEM;
    }
    snprintf(e->name, cap, "%s%s%s%s%s%s%s", missing ? AIS_MOSS_MISSING_DIR : "",
             missing ? "/" : "", m->onob ? "" : e->bck, m->onob ? "" : "/", e->obj,
             e->arch && e->arch[0] != '/' ? "/" : "", a);
    return 0;
}

/*
 * Resolves entry e: existence, size, range. 0 (found, or missing recorded in e->emsg), or an
 * HTTP status for the whole request with msg.
 */
static int
ent_resolve(struct moss *m, struct moss_ent *e, char *msg, size_t cap)
{
    struct tgt *t = m->t;
    char disp[AIS_BCKNAME_BYTES_MAX + 2 * AIS_OBJNAME_BYTES_MAX + 32];
    char amsg[sizeof(disp) + 128];
    ent_display(e, disp, sizeof(disp));
    struct ais_bmd *bmd = ais_meta_bmd(&t->meta);
    const struct ais_bck_md *k = ais_bmd_find(bmd, e->provider, "", e->bck);
    struct ais_bprops props;
    if (k != NULL) {
        props = k->props;
    }
    ais_bmd_unref(bmd);
    long st = 0;
    if (k == NULL) {
        st = 404;
        snprintf(amsg, sizeof(amsg), "bucket \"%s://%s\" does not exist", e->provider, e->bck);
    } else if ((st = ais_access_check(&props, AIS_ACCESS_GET, disp, amsg, sizeof(amsg))) != 0) {
        snprintf(msg, cap, "%s", amsg);
        return (int)st;
    }
    if (k != NULL) {
        struct ais_smap *smap = ais_meta_smap(&t->meta);
        const struct ais_snode *own = ais_smap_hrw_target(smap, e->digest);
        if (own != NULL) {
            ais_snode_url(own, e->owner, sizeof(e->owner));
            e->local = strcmp(own->id, t->self.id) == 0;
        }
        ais_smap_unref(smap);
        if (e->owner[0] == '\0') {
            snprintf(msg, cap, "no target owns %s", disp);
            return 503;
        }
        struct st_obj_md md;
        struct st_bck b = {.provider = e->provider, .ns = "", .name = e->bck};
        if (e->arch != NULL) {
            e->local = 0;
            (void)arch_member(m, e, &e->obj_size, &st); /* st tells */
        } else if (e->local && strcmp(e->provider, "ais") == 0 &&
                   st_obj_stat(t->mp, &b, e->obj, e->digest, &md) == 0) {
            e->obj_size = md.size;
            st = 200;
        } else {
            e->local = 0;
            char *url = malloc(URL_BYTES);
            int64_t clen = -1;
            size_t got;
            if (url == NULL) {
                snprintf(msg, cap, "out of memory");
                return 500;
            }
            ent_url(e, NULL, url, URL_BYTES);
            st = http_do(m->h, url, 1, NULL, NULL, 0, &clen, &got);
            free(url);
            if (st == 200 && clen < 0) {
                st = 502;
            }
            e->obj_size = st == 200 ? (uint64_t)clen : 0;
        }
        if (st == 404) {
            snprintf(amsg, sizeof(amsg), "%s does not exist", disp);
        } else if (st != 200) {
            snprintf(amsg, sizeof(amsg), "%s: %s %ld", disp,
                     st == 0 ? "owner unreachable" : "owner answered", st);
        }
    }
    if (st != 200) {
        if (!m->coer) {
            snprintf(msg, cap, "%s", amsg);
            return st == 404 ? 404 : st >= 400 && st < 600 ? (int)st : 502;
        }
        e->emsg = strdup(amsg);
        e->size = 0;
        e->st = ENT_READY; /* nothing to fetch */
        return e->emsg == NULL || ent_name(m, e, 1) != 0 ? 500 : 0;
    }
    /* range (apc.MossIn.CheckRange) */
    uint64_t sz = e->obj_size;
    if (e->start == 0 && e->length == 0) {
        e->off = 0;
        e->size = sz;
    } else if (e->length == -1) {
        if ((uint64_t)e->start >= sz) {
            snprintf(msg, cap, "%s: range start=%" PRId64 " not satisfiable (size %" PRIu64 ")",
                     disp, e->start, sz);
            return 416;
        }
        e->off = (uint64_t)e->start;
        e->size = sz - e->off;
    } else {
        if ((uint64_t)e->start >= sz || (uint64_t)e->length > sz - (uint64_t)e->start) {
            snprintf(msg, cap,
                     "%s: range start=%" PRId64 ",length=%" PRId64 " not satisfiable (size %" PRIu64
                     ")",
                     disp, e->start, e->length, sz);
            return 416;
        }
        e->off = (uint64_t)e->start;
        e->size = (uint64_t)e->length;
    }
    uint64_t held = e->arch ? e->obj_size : e->size;
    if (!e->local && held > AIS_MOSS_ENTRY_BYTES_MAX) {
        snprintf(msg, cap,
                 "%s: %" PRIu64 " bytes, over the %u-byte bound of one get-batch entry read "
                 "from another target",
                 disp, held, AIS_MOSS_ENTRY_BYTES_MAX);
        return 413;
    }
    if (e->size >= (1ull << 33)) {
        snprintf(msg, cap, "%s: too large for a TAR entry", disp);
        return 413;
    }
    return ent_name(m, e, 0) != 0 ? 500 : 0;
}

/* ---- read-ahead ---- */

static void
ent_fetch(struct moss *m, CURL **h, struct moss_ent *e)
{
    if (e->emsg != NULL) {
        return; /* placeholder */
    }
    if (e->local) {
        struct st_obj_md md;
        struct st_bck b = {.provider = e->provider, .ns = "", .name = e->bck};
        e->rc = st_obj_open(m->t->mp, &b, e->obj, e->digest, &e->fd, &md);
        if (e->rc == 0 && md.size != e->obj_size) {
            e->rc = -ESTALE;
        }
        return;
    }
    if (*h == NULL && (*h = curl_easy_init()) == NULL) {
        e->rc = -ENOMEM;
        return;
    }
    size_t held = (size_t)(e->arch ? e->obj_size : e->size);
    char *url = malloc(URL_BYTES), range[64];
    e->buf = malloc(held ? held : 1);
    if (url == NULL || e->buf == NULL) {
        free(url);
        e->rc = -ENOMEM;
        return;
    }
    ent_url(e, e->arch ? "archpath" : NULL, url, URL_BYTES);
    int ranged = e->arch == NULL && (e->off != 0 || e->size != e->obj_size) && e->size > 0;
    snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, e->off, e->off + e->size - 1);
    int64_t clen;
    long st = http_do(*h, url, 0, ranged ? range : NULL, e->buf, held, &clen, &e->len);
    free(url);
    if (st != (ranged ? 206 : 200) || e->len != held) {
        e->rc = st == 404 ? -ENOENT : -EIO;
        return;
    }
    if (e->arch != NULL && e->off != 0) {
        memmove(e->buf, e->buf + e->off, (size_t)e->size);
    }
    e->len = (size_t)e->size;
}

static void *
moss_worker(void *arg)
{
    struct moss *m = arg;
    CURL *h = NULL;
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        if (m->next_fetch < m->n && m->next_fetch < m->next_emit + AIS_MOSS_READAHEAD_N) {
            struct moss_ent *e = &m->e[m->next_fetch++];
            e->st = ENT_BUSY;
            pthread_mutex_unlock(&m->mu);
            ent_fetch(m, &h, e);
            pthread_mutex_lock(&m->mu);
            e->st = ENT_READY;
            pthread_cond_broadcast(&m->cv);
            continue;
        }
        pthread_cond_wait(&m->cv, &m->mu);
    }
    pthread_mutex_unlock(&m->mu);
    if (h != NULL) {
        curl_easy_cleanup(h);
    }
    return NULL;
}

/* Waits for entry i to be fetched: 0, or -ETIMEDOUT. */
static int
ent_wait(struct moss *m, size_t i)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += AIS_MOSS_ENTRY_WAIT_MS / 1000;
    int rc = 0;
    pthread_mutex_lock(&m->mu);
    while (m->e[i].st != ENT_READY && rc == 0) {
        rc = pthread_cond_timedwait(&m->cv, &m->mu, &dl) == ETIMEDOUT ? -ETIMEDOUT : 0;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static void
ent_done(struct moss *m, struct moss_ent *e)
{
    if (e->fd >= 0) {
        close(e->fd);
        e->fd = -1;
    }
    free(e->buf);
    e->buf = NULL;
    pthread_mutex_lock(&m->mu);
    m->next_emit++;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

/* ---- writer ---- */

static size_t
copy_out(char *dst, size_t max, const char *src, uint64_t len, uint64_t *off)
{
    size_t n = (size_t)(len - *off < max ? len - *off : max);
    if (n > 0) {
        memcpy(dst, src + *off, n);
    }
    *off += n;
    return n;
}

static const char zeros[TAR_BLOCK * 2];

static size_t
moss_gen(void *arg, uint64_t pos, char *buf, size_t max)
{
    struct moss *m = arg;
    size_t o = 0;
    if (pos != m->sent) {
        return AIS_GEN_ERR;
    }
    while (o < max && m->phase != PH_END) {
        struct moss_ent *e = m->cur < m->n ? &m->e[m->cur] : NULL;
        size_t n = 0;
        switch (m->phase) {
        case PH_PREFIX:
            n = copy_out(buf + o, max - o, m->prefix, m->prefix_len, &m->part_off);
            if (m->part_off == m->prefix_len) {
                m->phase = PH_HDR;
                m->part_off = 0;
                m->hdr_len = 0;
            }
            break;
        case PH_HDR:
            if (e == NULL) {
                m->phase = PH_TRAILER;
                m->part_off = 0;
                break;
            }
            if (m->hdr_len == 0) {
                if (ent_wait(m, m->cur) != 0) {
                    AIS_LOG_WARN(
                        "req=get-batch id=%s entry=%zu name=%s err=\"not fetched in time\"",
                        m->uuid, m->cur, e->name);
                    return AIS_GEN_ERR;
                }
                if (e->rc != 0) {
                    AIS_LOG_WARN("req=get-batch id=%s entry=%zu name=%s err=\"%s (after resolve)\"",
                                 m->uuid, m->cur, e->name, ais_strerror(e->rc));
                    return AIS_GEN_ERR;
                }
                m->hdr_len = tgt_moss_tar_hdr(m->hdr, sizeof(m->hdr), e->name, e->size, m->mtime_s);
                AIS_ASSERT(m->hdr_len > 0);
            }
            n = copy_out(buf + o, max - o, m->hdr, m->hdr_len, &m->part_off);
            if (m->part_off == m->hdr_len) {
                m->phase = PH_DATA;
                m->part_off = 0;
            }
            break;
        case PH_DATA:
            if (m->part_off < e->size) {
                if (e->fd >= 0) {
                    size_t want =
                        (size_t)(e->size - m->part_off < max - o ? e->size - m->part_off : max - o);
                    ssize_t r = pread(e->fd, buf + o, want, (off_t)(e->off + m->part_off));
                    if (r <= 0) {
                        AIS_LOG_WARN("req=get-batch id=%s name=%s err=\"read: %s\"", m->uuid,
                                     e->name, r == 0 ? "short file" : strerror(errno));
                        return AIS_GEN_ERR;
                    }
                    n = (size_t)r;
                    m->part_off += n;
                } else {
                    n = copy_out(buf + o, max - o, e->buf, e->size, &m->part_off);
                }
            }
            if (m->part_off == e->size) {
                m->phase = PH_PAD;
                m->part_off = 0;
            }
            break;
        case PH_PAD: {
            uint64_t pad = round512(e->size) - e->size;
            n = copy_out(buf + o, max - o, zeros, pad, &m->part_off);
            if (m->part_off == pad) {
                ent_done(m, e);
                m->cur++;
                m->phase = PH_HDR;
                m->part_off = 0;
                m->hdr_len = 0;
            }
            break;
        }
        case PH_TRAILER:
            n = copy_out(buf + o, max - o, zeros, sizeof(zeros), &m->part_off);
            if (m->part_off == sizeof(zeros)) {
                m->phase = m->suffix_len ? PH_SUFFIX : PH_END;
                m->part_off = 0;
            }
            break;
        case PH_SUFFIX:
            n = copy_out(buf + o, max - o, m->suffix, m->suffix_len, &m->part_off);
            if (m->part_off == m->suffix_len) {
                m->phase = PH_END;
            }
            break;
        default:
            break;
        }
        o += n;
    }
    m->sent += o;
    return o > 0 ? o : AIS_GEN_ERR;
}

/* MossResp JSON (newline-terminated, as Go's encoder writes it). NULL on OOM. */
static char *
moss_resp_json(const struct moss *m)
{
    json_t *out = json_array();
    for (size_t i = 0; out != NULL && i < m->n; i++) {
        const struct moss_ent *e = &m->e[i];
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:I}", "objname", e->obj, "bucket", e->bck, "provider",
                      e->in_provider ? e->in_provider : e->provider, "size", (json_int_t)e->size);
        if (o != NULL && e->arch != NULL) {
            json_object_set_new(o, "archpath", json_string(e->arch));
        }
        if (o != NULL && e->emsg != NULL) {
            json_object_set_new(o, "err_msg", json_string(e->emsg));
        }
        if (o != NULL && e->opaque != NULL) {
            json_object_set_new(o, "opaque", json_string(e->opaque));
        }
        if (o == NULL || json_array_append_new(out, o) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    json_t *resp = out ? json_pack("{s:s, s:o}", "uuid", m->uuid, "out", out) : NULL;
    char *s = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
    json_decref(resp);
    char *nl = s ? malloc(strlen(s) + 2) : NULL;
    if (nl != NULL) {
        sprintf(nl, "%s\n", s);
    }
    free(s);
    return nl;
}

/* Multipart framing around the archive (Go mime/multipart layout). 0 or -ENOMEM. */
static int
moss_multipart(struct moss *m, char *ctype, size_t ccap)
{
    char bnd[33];
    ais_rand_id(bnd, 32);
    char *meta = moss_resp_json(m);
    if (meta == NULL) {
        return -ENOMEM;
    }
    static const char fmt[] = "--%s\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n"
                              "%s\r\n--%s\r\nContent-Disposition: form-data; name=\"archive\"; "
                              "filename=\"%s.tar\"\r\nContent-Type: application/octet-stream"
                              "\r\n\r\n";
    size_t cap = strlen(meta) + 3 * sizeof(bnd) + sizeof(fmt) + sizeof(m->uuid);
    m->prefix = malloc(cap);
    m->suffix = malloc(sizeof(bnd) + 16);
    if (m->prefix == NULL || m->suffix == NULL) {
        free(meta);
        return -ENOMEM;
    }
    m->prefix_len = (size_t)snprintf(m->prefix, cap, fmt, bnd, meta, bnd, m->uuid);
    m->suffix_len = (size_t)snprintf(m->suffix, sizeof(bnd) + 16, "\r\n--%s--\r\n", bnd);
    snprintf(ctype, ccap, "multipart/mixed; boundary=%s", bnd);
    free(meta);
    return 0;
}

static void
moss_done(struct ais_req *r, void *arg)
{
    struct tgt *t = arg;
    struct moss *m = calloc(1, sizeof(*m));
    char msg[2 * AIS_OBJNAME_BYTES_MAX + 512], ctype[96] = "application/x-tar";
    const char *p = ais_req_path(r) + strlen("/v1/ml/moss");
    size_t len = 0;
    const char *body = ais_req_body(r, &len);
    int status = 0;
    if (m == NULL) {
        ais_resp_err(r, 500, "out of memory");
        return;
    }
    m->t = t;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    ais_rand_id(m->uuid, 12);
    m->mtime_s = ais_now_ns() / 1000000000;
    while (*p == '/') {
        p++;
    }
    if (strchr(p, '/') != NULL) {
        ais_resp_err(r, 400, "invalid path %s (expecting /v1/ml/moss[/<bucket>])", ais_req_path(r));
        moss_free(m);
        return;
    }
    status =
        moss_parse(m, p[0] ? p : NULL, ais_req_query(r, "provider"), body, len, msg, sizeof(msg));
    if (status == 0 && (m->h = curl_easy_init()) == NULL) {
        status = 500;
        snprintf(msg, sizeof(msg), "out of memory");
    }
    for (size_t i = 0; status == 0 && i < m->n; i++) {
        status = ent_resolve(m, &m->e[i], msg, sizeof(msg));
    }
    if (status == 0) {
        int rc = m->strm ? 0 : moss_multipart(m, ctype, sizeof(ctype));
        if (rc != 0) {
            status = 500;
            snprintf(msg, sizeof(msg), "out of memory");
        }
    }
    if (status != 0) {
        ais_resp_err(r, status, "%s", msg);
        moss_free(m);
        return;
    }
    m->total = m->prefix_len + 2 * TAR_BLOCK + m->suffix_len;
    for (size_t i = 0; i < m->n; i++) {
        m->total += tgt_moss_tar_hdr_bytes(m->e[i].name) + round512(m->e[i].size);
    }
    curl_easy_cleanup(m->h);
    m->h = NULL;
    json_decref(m->arch_list);
    m->arch_list = NULL;
    for (size_t i = 0; i < AIS_MOSS_READAHEAD_N && i < m->n; i++) {
        if (pthread_create(&m->th[m->nth], NULL, moss_worker, m) != 0) {
            break;
        }
        m->nth++;
    }
    if (m->nth == 0) {
        ais_resp_err(r, 503, "get-batch: cannot start read-ahead threads");
        moss_free(m);
        return;
    }
    m->phase = m->prefix_len ? PH_PREFIX : PH_HDR;
    if (ais_resp_gen(r, 200, m->total, moss_gen, m, moss_free) == 0) {
        ais_resp_header(r, "Content-Type", ctype);
    }
}

void
tgt_r_moss(struct ais_req *r, void *ctx)
{
    if (ais_req_body_refuse_large(r, AIS_MOSS_BODY_BYTES_MAX, "get-batch")) {
        return;
    }
    ais_req_body_buffer(r, AIS_MOSS_BODY_BYTES_MAX, moss_done, ctx);
}
