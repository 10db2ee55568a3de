/*
 * Design notes: batch GET on the designated target (target/moss.h). Three steps per request:
 * parse (the MossReq body, bounded), resolve, then stream. Resolve: every entry of an ais
 * bucket is sized by obj_read calls (rpc ObjReadReq; this target's own entries without rpc),
 * one per owner and AIS_MOSS_CALL_REFS_MAX entries, run on up to AIS_MOSS_READAHEAD_N threads;
 * each call also brings the first AIS_MOSS_INLINE_BYTES of every entry, so small entries are
 * ready after resolve. Entries of remote buckets get a HEAD (or an archlist) at their owner over
 * HTTP, which may cold-GET them. Since every size is known before the first byte, a TAR reply
 * has an exact Content-Length and the multipart metadata (which AIS sends first) is complete;
 * compressed formats are written by libarchive and sent chunked.
 *
 * Streaming: AIS_MOSS_READAHEAD_N worker threads fetch what resolve did not, in request order,
 * within AIS_MOSS_WINDOW_N entries and AIS_MOSS_HELD_BYTES_MAX of the one being written; small
 * entries of one owner share one call; a large local object is just opened (the writer preads
 * it), a large remote one comes in AIS_MOSS_PIECE_BYTES pieces checked against the identity
 * (size, mtime) seen at resolve; remote-bucket entries are held whole (at most
 * AIS_MOSS_ENTRY_BYTES_MAX). The writer (the HTTP generator on the connection thread) emits the
 * header, the bytes, the padding, then frees the entry and lets the workers move on. An entry
 * that changed or vanished after resolve aborts the reply (the client sees a short body).
 */
#include "target/moss.h"

#include "common/archw.h"
#include "common/assert.h"
#include "common/err.h"
#include "common/hrw.h"
#include "common/json.h"
#include "common/log.h"
#include "common/names.h"
#include "common/util.h"
#include "rpc/rpc.h"
#include "target/arch.h"
#include "target/target_int.h"
#include "target/tarix.h"

#include <archive.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define TAR_BLOCK 512u

enum { ENT_IDLE, ENT_BUSY, ENT_READY };
/* Output formats (MossReq "mime"): the TAR is built here; the others by libarchive. */
enum { OF_TAR, OF_TGZ, OF_ZIP, OF_TLZ4 };
enum { PH_PREFIX, PH_HDR, PH_DATA, PH_PAD, PH_TRAILER, PH_SUFFIX, PH_END };

struct moss_ent {
    const char *provider;                                /* canonical static string */
    const char *bck, *obj, *arch, *opaque, *in_provider; /* borrowed from moss.root */
    char *name;                                          /* in the archive */
    char *emsg;                                          /* missing: why */
    uint64_t digest;
    int64_t start, length; /* as requested */
    int local;             /* an ais object this target holds: read from its file */
    int via_rpc;           /* an ais object or archived file read by obj_read (rpc or here) */
    char owner[128];       /* base URL of the owner */
    char ctrl[128];        /* via_rpc: the owner's rpc URL, "" for this target */
    uint64_t obj_size;     /* whole object (or archived file) at resolve */
    int64_t mtime_ns;      /* via_rpc: of the object at resolve (its identity with obj_size) */
    uint64_t off, size;    /* the bytes this entry contributes */
    int st;                /* ENT_*, under moss.mu */
    int rc;
    int fd;
    char *buf; /* bytes [buf_at, buf_at + len) of the entry's contribution */
    uint64_t buf_at;
    size_t len;
    size_t held; /* bytes counted in moss.held */
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
    size_t held; /* bytes of fetched entries not yet written */
    /* resolve: one BMD and Smap for all entries; the last bucket and owner looked up */
    struct ais_bmd *bmd;
    struct ais_smap *smap;
    const char *bk_prov, *bk_name;
    long bk_st;
    const struct ais_snode *own_last;
    char own_url[128], own_ctrl[128];
    int own_self;
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
    /* compressed formats: libarchive writes into ob, which the generator drains */
    int ofmt;
    struct archive *aw;
    char *ob, *zbuf;
    size_t ob_len, ob_cap, ob_off;
};

static uint64_t
round512(uint64_t n)
{
    return (n + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
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
    if (m->aw != NULL) {
        archive_write_free(m->aw);
    }
    free(m->ob);
    free(m->zbuf);
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

/* MossReq "mime" to OF_*, or -1. With or without the leading dot, as AIS takes it. */
static int
out_format(const char *mime)
{
    static const struct {
        const char *name;
        int f;
    } fm[] = {{"tar", OF_TAR},
              {"application/x-tar", OF_TAR},
              {"tgz", OF_TGZ},
              {"tar.gz", OF_TGZ},
              {"application/gzip", OF_TGZ},
              {"zip", OF_ZIP},
              {"application/zip", OF_ZIP},
              {"tar.lz4", OF_TLZ4}};
    const char *s = mime[0] == '.' ? mime + 1 : mime;
    for (size_t i = 0; i < sizeof(fm) / sizeof(fm[0]); i++) {
        if (strcasecmp(s, fm[i].name) == 0) {
            return fm[i].f;
        }
    }
    return -1;
}

static const char *
out_ext(int f)
{
    return f == OF_TGZ ? "tgz" : f == OF_ZIP ? "zip" : f == OF_TLZ4 ? "tar.lz4" : "tar";
}

static const char *
out_ctype(int f)
{
    return f == OF_TGZ    ? "application/gzip"
           : f == OF_ZIP  ? "application/zip"
           : f == OF_TLZ4 ? "application/x-lz4"
                          : "application/x-tar";
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
    if (mime != NULL && mime[0] != '\0' && (m->ofmt = out_format(mime)) < 0) {
        snprintf(msg, cap,
                 "get-batch output format \"%s\" is not supported (expecting .tar, .tgz, .tar.gz, "
                 ".zip or .tar.lz4)",
                 mime);
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
 * Resolve, first step: bucket, access, owner, and the size of what obj_read does not read (a
 * stat here, a HEAD or an archlist at the owner) into *stp as an HTTP status; 0 there means an
 * obj_read stat is due (e->via_rpc). Returns 0, or an HTTP status for the whole request with msg.
 */
static int
ent_locate(struct moss *m, struct moss_ent *e, long *stp, char *msg, size_t cap)
{
    struct tgt *t = m->t;
    char disp[AIS_BCKNAME_BYTES_MAX + 2 * AIS_OBJNAME_BYTES_MAX + 32];
    char amsg[sizeof(disp) + 128];
    if (m->bk_name == NULL || m->bk_prov != e->provider || strcmp(m->bk_name, e->bck) != 0) {
        /* the first entry of a run from one bucket: look it up and check access once */
        const struct ais_bck_md *k = ais_bmd_find(m->bmd, e->provider, "", e->bck);
        m->bk_prov = e->provider;
        m->bk_name = e->bck;
        m->bk_st = k == NULL ? 404 : 0;
        if (k != NULL) {
            struct ais_bprops props = k->props;
            ent_display(e, disp, sizeof(disp));
            m->bk_st = ais_access_check(&props, AIS_ACCESS_GET, disp, amsg, sizeof(amsg));
            if (m->bk_st != 0) {
                snprintf(msg, cap, "%s", amsg);
                return (int)m->bk_st;
            }
        }
    }
    if (m->bk_st == 404) {
        e->rc = -ENOENT;
        *stp = 404;
        return 0;
    }
    long st = 0;
    const struct ais_snode *own = ais_smap_hrw_target(m->smap, e->digest);
    if (own == NULL) {
        ent_display(e, disp, sizeof(disp));
        snprintf(msg, cap, "no target owns %s", disp);
        return 503;
    }
    if (own != m->own_last) { /* URLs formatted once per owner */
        m->own_last = own;
        ais_snode_url(own, m->own_url, sizeof(m->own_url));
        m->own_self = strcmp(own->id, t->self.id) == 0;
        m->own_ctrl[0] = '\0';
        if (!m->own_self) {
            ais_snode_ctrl_url(own, m->own_ctrl, sizeof(m->own_ctrl));
        }
    }
    memcpy(e->owner, m->own_url, sizeof(e->owner));
    memcpy(e->ctrl, m->own_ctrl, sizeof(e->ctrl));
    e->local = m->own_self;
    if (strcmp(e->provider, "ais") == 0) {
        e->via_rpc = 1; /* sized (and small ones read) by obj_read calls per owner, below */
        e->local = 0;   /* (ctrl "" for this target's own: no rpc, the same reads) */
    } else if (e->arch != NULL) {
        e->local = 0;
        (void)arch_member(m, e, &e->obj_size, &st); /* st tells */
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
    *stp = st;
    return 0;
}

/* Reads refs[0..n) from the target at ctrl ("": this one) into pieces. */
static void
moss_read_refs(struct moss *m, const char *ctrl, const struct rpc_obj_ref *refs, size_t n,
               struct rpc_obj_piece *pieces)
{
    if (ctrl[0] == '\0') {
        for (size_t i = 0; i < n; i++) {
            tgt_moss_obj_read(m->t, &refs[i], &pieces[i]);
        }
        return;
    }
    struct rpc_err err = {0};
    int rc = rpc_obj_read(ctrl, AIS_MOSS_ENTRY_WAIT_MS / 4, refs, n, pieces, &err);
    for (size_t i = 0; rc != 0 && i < n; i++) {
        pieces[i].code = rc;
        pieces[i].n = 0;
    }
}

/* Bytes of e read with its stat at resolve: the range asked for when it is small, else a
 * guess of AIS_MOSS_INLINE_BYTES (a small object comes whole); 0 when held bytes are short. */
static uint32_t
inline_len(const struct moss *m, const struct moss_ent *e)
{
    uint64_t want = e->length > 0 ? (uint64_t)e->length : AIS_MOSS_INLINE_BYTES;
    if (want > AIS_MOSS_INLINE_BYTES || m->held + want > AIS_MOSS_HELD_BYTES_MAX / 2) {
        return 0;
    }
    return (uint32_t)want;
}

/*
 * Resolve, middle step: every via_rpc entry by obj_read calls, one per owner and
 * AIS_MOSS_CALL_REFS_MAX entries: its size and identity, and its first AIS_MOSS_INLINE_BYTES
 * (from the range's start), kept in e->buf, so that small entries need no second read
 * (ent_settle decides). e->rc holds a failed entry's errno until ent_settle. 0 or -ENOMEM.
 */
struct stat_call {
    const char *ctrl;
    size_t k;
    size_t *idx;
    struct rpc_obj_ref *refs;
    struct rpc_obj_piece *pcs;
};

struct stat_run {
    struct moss *m;
    struct stat_call *calls;
    size_t n;
    size_t next; /* atomic */
};

static void *
stat_worker(void *arg)
{
    struct stat_run *r = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&r->next, 1, __ATOMIC_RELAXED);
        if (i >= r->n) {
            return NULL;
        }
        struct stat_call *c = &r->calls[i];
        moss_read_refs(r->m, c->ctrl, c->refs, c->k, c->pcs);
    }
}

/* Forms the calls (one owner, at most AIS_MOSS_CALL_REFS_MAX entries each). 0 or -ENOMEM. */
static int
stat_calls(struct moss *m, const long *st, struct stat_run *r)
{
    char *done = calloc(m->n ? m->n : 1, 1);
    r->calls = calloc(m->n ? m->n : 1, sizeof(*r->calls));
    size_t *idx = malloc(AIS_MOSS_CALL_REFS_MAX * sizeof(*idx));
    int rc = done == NULL || r->calls == NULL || idx == NULL ? -ENOMEM : 0;
    for (size_t i = 0; rc == 0 && i < m->n; i++) {
        if (!m->e[i].via_rpc || done[i] || st[i] != 0) {
            continue;
        }
        size_t k = 0;
        for (size_t j = i; j < m->n && k < AIS_MOSS_CALL_REFS_MAX; j++) {
            const struct moss_ent *e = &m->e[j];
            if (e->via_rpc && !done[j] && st[j] == 0 && strcmp(e->ctrl, m->e[i].ctrl) == 0) {
                done[j] = 1;
                idx[k++] = j;
            }
        }
        struct stat_call *c = &r->calls[r->n++];
        c->ctrl = m->e[i].ctrl;
        c->k = k;
        c->idx = malloc(k * sizeof(*c->idx));
        c->refs = calloc(k, sizeof(*c->refs));
        c->pcs = calloc(k, sizeof(*c->pcs));
        if (c->idx == NULL || c->refs == NULL || c->pcs == NULL) {
            rc = -ENOMEM;
            break;
        }
        memcpy(c->idx, idx, k * sizeof(*idx));
        size_t bytes = 0;
        for (size_t q = 0; q < k; q++) {
            struct moss_ent *e = &m->e[idx[q]];
            uint32_t len = inline_len(m, e);
            len = bytes + len > AIS_MOSS_CALL_BYTES_MAX ? 0 : len;
            e->buf = len ? malloc(len) : NULL;
            len = e->buf ? len : 0;
            bytes += len;
            m->held += len;
            e->held = len;
            c->refs[q] = (struct rpc_obj_ref){.provider = e->provider,
                                              .ns = "",
                                              .bck = e->bck,
                                              .name = e->obj,
                                              .archpath = e->arch,
                                              .off = (uint64_t)e->start,
                                              .len = len};
            c->pcs[q] = (struct rpc_obj_piece){.buf = e->buf};
        }
    }
    free(idx);
    free(done);
    return rc;
}

/*
 * Resolve, middle step: every via_rpc entry by obj_read calls, one per owner and
 * AIS_MOSS_CALL_REFS_MAX entries, run by up to AIS_MOSS_READAHEAD_N threads at once: its size
 * and identity, and its first AIS_MOSS_INLINE_BYTES (from the range's start), kept in e->buf,
 * so that small entries need no second read (ent_inline_settle decides). e->rc holds a failed
 * entry's errno until ent_settle. 0 or -ENOMEM.
 */
static int
moss_stat_rpc(struct moss *m, long *st)
{
    struct stat_run r = {.m = m};
    int rc = stat_calls(m, st, &r);
    if (rc == 0 && r.n > 0) {
        pthread_t th[AIS_MOSS_READAHEAD_N];
        size_t nth = 0;
        while (nth + 1 < AIS_MOSS_READAHEAD_N && nth + 1 < r.n &&
               pthread_create(&th[nth], NULL, stat_worker, &r) == 0) {
            nth++;
        }
        (void)stat_worker(&r); /* this thread too (alone if no thread could start) */
        for (size_t i = 0; i < nth; i++) {
            pthread_join(th[i], NULL);
        }
        for (size_t i = 0; i < r.n; i++) {
            const struct stat_call *c = &r.calls[i];
            for (size_t q = 0; q < c->k; q++) {
                struct moss_ent *e = &m->e[c->idx[q]];
                const struct rpc_obj_piece *p = &c->pcs[q];
                e->rc = p->code;
                e->obj_size = p->size;
                e->mtime_ns = p->mtime_ns;
                e->len = p->code == 0 ? p->n : 0;
                st[c->idx[q]] = p->code == 0 ? 200 : p->code == -ENOENT ? 404 : 502;
            }
        }
    }
    for (size_t i = 0; r.calls != NULL && i < r.n; i++) {
        free(r.calls[i].idx);
        free(r.calls[i].refs);
        free(r.calls[i].pcs);
    }
    free(r.calls);
    return rc;
}

/* After the range is known: an entry read whole at resolve is ready (its bytes held); else the
 * bytes go and it is fetched later (a large one of this target from its file). */
static void
ent_inline_settle(struct moss *m, struct moss_ent *e)
{
    if (e->buf != NULL && e->emsg == NULL && e->len >= e->size) {
        e->len = (size_t)e->size;
        e->buf_at = 0;
        e->st = ENT_READY;
        m->held -= e->held - e->len;
        e->held = e->len;
        return;
    }
    free(e->buf);
    e->buf = NULL;
    m->held -= e->held;
    e->held = 0;
    e->len = 0;
    if (e->via_rpc && e->ctrl[0] == '\0' && e->arch == NULL && e->emsg == NULL) {
        e->via_rpc = 0; /* read from its file by the writer: no copy */
        e->local = 1;
    }
}

/*
 * Resolve, last step: missing (an error, or a placeholder with coer), range, name. 0, or an
 * HTTP status for the whole request with msg.
 */
static int
ent_settle(struct moss *m, struct moss_ent *e, long st, char *msg, size_t cap)
{
    char disp[AIS_BCKNAME_BYTES_MAX + 2 * AIS_OBJNAME_BYTES_MAX + 32];
    char amsg[sizeof(disp) + 128];
    ent_display(e, disp, sizeof(disp));
    if (st == 404 && e->owner[0] == '\0') {
        snprintf(amsg, sizeof(amsg), "bucket \"%s://%s\" does not exist", e->provider, e->bck);
    } else if (st == 404) {
        snprintf(amsg, sizeof(amsg), "%s does not exist", disp);
    } else if (st != 200 && e->rc != 0) {
        snprintf(amsg, sizeof(amsg), "%s: %s (%d)", disp, ais_strerror(e->rc), e->rc);
    } else if (st != 200) {
        snprintf(amsg, sizeof(amsg), "%s: %s %ld", disp,
                 st == 0 ? "owner unreachable" : "owner answered", st);
    }
    e->rc = 0;
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
    if (!e->local && !e->via_rpc && held > AIS_MOSS_ENTRY_BYTES_MAX) {
        snprintf(msg, cap,
                 "%s: %" PRIu64 " bytes, over the %u-byte bound of one get-batch entry of a "
                 "remote bucket",
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

/* Bytes of e's next piece at off (relative to its contribution) for obj_read. */
static uint32_t
piece_len(const struct moss_ent *e, uint64_t off)
{
    uint64_t left = e->size - off;
    return (uint32_t)(left < AIS_MOSS_PIECE_BYTES ? left : AIS_MOSS_PIECE_BYTES);
}

/* What e holds in memory while fetched ahead (counted against AIS_MOSS_HELD_BYTES_MAX). */
static size_t
ent_cost(const struct moss_ent *e)
{
    return e->emsg != NULL || e->local ? 0
           : e->via_rpc                ? piece_len(e, 0)
                                       : (size_t)(e->arch ? e->obj_size : e->size);
}

/* A piece read for e checked against what resolve saw: 0 or the entry's error. */
static int
piece_check(const struct moss_ent *e, const struct rpc_obj_piece *p, uint32_t want)
{
    if (p->code != 0) {
        return p->code;
    }
    if (p->size != e->obj_size || p->mtime_ns != e->mtime_ns) {
        return -ESTALE; /* overwritten since resolve: never mix two versions in one entry */
    }
    return p->n == want ? 0 : -EIO;
}

/* Reads e's piece at off (relative to its contribution) into e->buf. 0 or errno. */
static int
ent_piece(struct moss *m, struct moss_ent *e, uint64_t off)
{
    uint32_t want = piece_len(e, off);
    struct rpc_obj_ref ref = {.provider = e->provider,
                              .ns = "",
                              .bck = e->bck,
                              .name = e->obj,
                              .archpath = e->arch,
                              .off = e->off + off,
                              .len = want};
    struct rpc_obj_piece p = {.buf = e->buf};
    moss_read_refs(m, e->ctrl, &ref, 1, &p);
    int rc = piece_check(e, &p, want);
    if (rc == 0) {
        e->buf_at = off;
        e->len = want;
    }
    return rc;
}

/* Fetches the first pieces of the via_rpc entries g[0..n) (one owner) in one call. */
static void
ents_fetch_rpc(struct moss *m, struct moss_ent **g, size_t n)
{
    struct rpc_obj_ref refs[AIS_MOSS_CALL_REFS_MAX] = {{0}};
    struct rpc_obj_piece pcs[AIS_MOSS_CALL_REFS_MAX] = {{0}};
    int oom = 0;
    AIS_ASSERT(n > 0 && n <= AIS_MOSS_CALL_REFS_MAX);
    for (size_t i = 0; i < n; i++) {
        struct moss_ent *e = g[i];
        uint32_t want = piece_len(e, 0);
        e->buf = malloc(want ? want : 1);
        oom |= e->buf == NULL;
        refs[i] = (struct rpc_obj_ref){.provider = e->provider,
                                       .ns = "",
                                       .bck = e->bck,
                                       .name = e->obj,
                                       .archpath = e->arch,
                                       .off = e->off,
                                       .len = want};
        pcs[i] = (struct rpc_obj_piece){.buf = e->buf};
    }
    if (oom) {
        for (size_t i = 0; i < n; i++) {
            g[i]->rc = -ENOMEM;
        }
        return;
    }
    moss_read_refs(m, g[0]->ctrl, refs, n, pcs);
    for (size_t i = 0; i < n; i++) {
        g[i]->rc = piece_check(g[i], &pcs[i], refs[i].len);
        g[i]->buf_at = 0;
        g[i]->len = pcs[i].n;
    }
}

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
        if (e->rc == 0 && (md.size != e->obj_size || md.mtime_ns != e->mtime_ns)) {
            e->rc = -ESTALE; /* overwritten since resolve */
        }
        return;
    }
    if (e->via_rpc) {
        ents_fetch_rpc(m, &e, 1);
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

/* Whether entry i may be fetched now (under mu): in the window and within the held bytes. */
static int
may_fetch(const struct moss *m, size_t i, size_t cost)
{
    return m->e[i].st == ENT_IDLE && i < m->next_emit + AIS_MOSS_WINDOW_N &&
           (i == m->next_emit || m->held + cost <= AIS_MOSS_HELD_BYTES_MAX);
}

/*
 * Claims the next entry to fetch and, when it is a small via_rpc one, more small entries of the
 * same owner further in the window, for one call (under mu). Returns how many (0: none now).
 */
static size_t
claim(struct moss *m, struct moss_ent **g)
{
    while (m->next_fetch < m->n && m->e[m->next_fetch].st != ENT_IDLE) {
        m->next_fetch++;
    }
    size_t i = m->next_fetch;
    if (i >= m->n || !may_fetch(m, i, ent_cost(&m->e[i]))) {
        return 0;
    }
    size_t k = 0, bytes = 0;
    struct moss_ent *first = &m->e[i];
    int batch = first->via_rpc && first->emsg == NULL && first->size <= AIS_MOSS_PIECE_BYTES;
    for (size_t j = i; j < m->n && k < (batch ? AIS_MOSS_CALL_REFS_MAX : 1); j++) {
        struct moss_ent *e = &m->e[j];
        size_t c = ent_cost(e);
        if (j >= m->next_emit + AIS_MOSS_WINDOW_N) {
            break;
        }
        if (j > i && (!e->via_rpc || e->emsg != NULL || e->size > AIS_MOSS_PIECE_BYTES ||
                      strcmp(e->ctrl, first->ctrl) != 0 || !may_fetch(m, j, c) ||
                      bytes + c > AIS_MOSS_CALL_BYTES_MAX)) {
            continue;
        }
        e->st = ENT_BUSY;
        e->held = c;
        m->held += c;
        bytes += c;
        g[k++] = e;
    }
    return k;
}

static void *
moss_worker(void *arg)
{
    struct moss *m = arg;
    CURL *h = NULL;
    struct moss_ent *g[AIS_MOSS_CALL_REFS_MAX];
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        size_t k = claim(m, g);
        if (k > 0) {
            pthread_mutex_unlock(&m->mu);
            if (k > 1) {
                ents_fetch_rpc(m, g, k);
            } else {
                ent_fetch(m, &h, g[0]);
            }
            pthread_mutex_lock(&m->mu);
            for (size_t i = 0; i < k; i++) {
                g[i]->st = ENT_READY;
            }
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
    m->held -= e->held;
    e->held = 0;
    m->next_emit++;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

void
tgt_moss_obj_read(struct tgt *t, const struct rpc_obj_ref *q, struct rpc_obj_piece *out)
{
    struct st_bck b = {.provider = q->provider, .ns = q->ns ? q->ns : "", .name = q->bck};
    int arch = q->archpath != NULL && q->archpath[0] != '\0';
    struct st_obj_md md;
    uint64_t digest;
    int fd = -1;
    out->n = 0;
    if (ais_obj_digest(q->provider, b.ns, q->bck, q->name, &digest) != 0) {
        out->code = -EINVAL;
        return;
    }
    if (arch) { /* the shard's metadata keys its member index */
        out->code = st_obj_open(t->mp, &b, q->name, digest, &fd, &md);
        if (out->code == 0) {
            out->mtime_ns = md.mtime_ns;
            out->code = tgt_arch_read(t, &b, q->name, fd, &md, q->archpath, q->off, out->buf,
                                      q->len, &out->size, &out->n);
            close(fd);
        }
        return;
    }
    out->code = st_obj_open_bytes(t->mp, &b, q->name, digest, &fd, &out->size, &out->mtime_ns);
    while (out->code == 0 && out->n < q->len && q->off + out->n < out->size) {
        ssize_t k = pread(fd, (char *)out->buf + out->n, q->len - out->n, (off_t)(q->off + out->n));
        if (k <= 0) {
            out->code = k < 0 ? -errno : -EIO;
            break;
        }
        out->n += (size_t)k;
    }
    if (fd >= 0) {
        close(fd);
    }
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

/* Waits for the current entry to be fetched: 0, or -1 (logged) when the reply must abort. */
static int
ent_ready(struct moss *m)
{
    struct moss_ent *e = &m->e[m->cur];
    if (ent_wait(m, m->cur) != 0) {
        AIS_LOG_WARN("req=get-batch id=%s entry=%zu name=%s err=\"not fetched in time\"", m->uuid,
                     m->cur, e->name);
        return -1;
    }
    if (e->rc != 0) {
        AIS_LOG_WARN("req=get-batch id=%s entry=%zu name=%s err=\"%s (after resolve)\"", m->uuid,
                     m->cur, e->name, ais_strerror(e->rc));
        return -1;
    }
    return 0;
}

/*
 * The current entry's next bytes at m->part_off (< e->size) into dst, at most max: a pread of
 * a local file, a copy of the piece held, or the next piece of a large entry from its owner.
 * Advances part_off. Bytes (> 0), or 0 (logged) when the reply must abort.
 */
static size_t
ent_read(struct moss *m, struct moss_ent *e, char *dst, size_t max)
{
    size_t n;
    if (e->fd >= 0) {
        size_t want = (size_t)(e->size - m->part_off < max ? e->size - m->part_off : max);
        ssize_t r = pread(e->fd, dst, want, (off_t)(e->off + m->part_off));
        if (r <= 0) {
            AIS_LOG_WARN("req=get-batch id=%s name=%s err=\"read: %s\"", m->uuid, e->name,
                         r == 0 ? "short file" : strerror(errno));
            return 0;
        }
        n = (size_t)r;
    } else {
        if (m->part_off == e->buf_at + e->len && e->via_rpc) {
            int rc = ent_piece(m, e, m->part_off); /* the next piece of a large one */
            if (rc != 0) {
                AIS_LOG_WARN("req=get-batch id=%s name=%s err=\"%s\"", m->uuid, e->name,
                             ais_strerror(rc));
                return 0;
            }
        }
        uint64_t at = m->part_off - e->buf_at;
        n = copy_out(dst, max, e->buf, e->len, &at);
        if (n == 0) {
            AIS_LOG_WARN("req=get-batch id=%s name=%s err=\"short entry\"", m->uuid, e->name);
            return 0;
        }
    }
    m->part_off += n;
    return n;
}

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
                if (ent_ready(m) != 0) {
                    return AIS_GEN_ERR;
                }
                AIS_ASSERT(tgt_tar_hdr_bytes(strlen(e->name)) <= sizeof(m->hdr));
                m->hdr_len = tgt_tar_hdr_encode(m->hdr, e->name, e->size, m->mtime_s);
            }
            n = copy_out(buf + o, max - o, m->hdr, m->hdr_len, &m->part_off);
            if (m->part_off == m->hdr_len) {
                m->phase = PH_DATA;
                m->part_off = 0;
            }
            break;
        case PH_DATA:
            if (m->part_off < e->size && (n = ent_read(m, e, buf + o, max - o)) == 0) {
                return AIS_GEN_ERR;
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

/* ---- compressed formats (libarchive) ---- */

#define ZBUF_BYTES (256u * 1024)

/* libarchive's output: appended to ob, which the generator drains before the next step. */
static la_ssize_t
ob_write(struct archive *a, void *arg, const void *data, size_t n)
{
    struct moss *m = arg;
    if (n > m->ob_cap - m->ob_len) {
        size_t cap = m->ob_cap ? m->ob_cap : 64 * 1024;
        while (cap - m->ob_len < n) {
            cap *= 2;
        }
        char *nb = realloc(m->ob, cap);
        if (nb == NULL) {
            archive_set_error(a, ENOMEM, "out of memory");
            return -1;
        }
        m->ob = nb;
        m->ob_cap = cap;
    }
    memcpy(m->ob + m->ob_len, data, n);
    m->ob_len += n;
    return (la_ssize_t)n;
}

/* The libarchive writer for m->ofmt into ob. 0 or -ENOMEM / -EINVAL. */
static int
aw_open(struct moss *m)
{
    m->aw = archive_write_new();
    m->zbuf = malloc(ZBUF_BYTES);
    if (m->aw == NULL || m->zbuf == NULL) {
        return -ENOMEM;
    }
    char ext[16];
    snprintf(ext, sizeof(ext), ".%s", out_ext(m->ofmt));
    int rc = ais_archw_format(m->aw, ext) == 0 ? ARCHIVE_OK : ARCHIVE_FATAL;
    if (rc == ARCHIVE_OK) {
        rc = archive_write_open(m->aw, m, NULL, ob_write, NULL);
    }
    if (rc != ARCHIVE_OK) {
        AIS_LOG_WARN("req=get-batch id=%s err=\"archive writer: %s\"", m->uuid,
                     archive_error_string(m->aw) ? archive_error_string(m->aw) : "?");
        return -EINVAL;
    }
    return 0;
}

/* One step of the compressed reply into ob: prefix, an entry's header or data, the end. */
static int
aw_step(struct moss *m)
{
    struct moss_ent *e = m->cur < m->n ? &m->e[m->cur] : NULL;
    switch (m->phase) {
    case PH_PREFIX:
        m->phase = PH_HDR;
        return ob_write(m->aw, m, m->prefix, m->prefix_len) < 0 ? -1 : 0;
    case PH_HDR: {
        if (e == NULL) {
            m->phase = PH_END;
            if (archive_write_close(m->aw) != ARCHIVE_OK) {
                return -1;
            }
            return m->suffix_len && ob_write(m->aw, m, m->suffix, m->suffix_len) < 0 ? -1 : 0;
        }
        if (ent_ready(m) != 0) {
            return -1;
        }
        int rc = ais_archw_entry(m->aw, e->name, e->size, m->mtime_s);
        m->phase = PH_DATA;
        m->part_off = 0;
        if (rc != 0) {
            AIS_LOG_WARN("req=get-batch id=%s name=%s err=\"archive writer: %s\"", m->uuid, e->name,
                         archive_error_string(m->aw));
            return -1;
        }
        return 0;
    }
    case PH_DATA:
        if (m->part_off < e->size) {
            size_t n = ent_read(m, e, m->zbuf, ZBUF_BYTES);
            return n == 0 || ais_archw_data(m->aw, m->zbuf, n) != 0 ? -1 : 0;
        }
        ent_done(m, e);
        m->cur++;
        m->phase = PH_HDR;
        return 0;
    default:
        return -1;
    }
}

/* The generator of a compressed reply (sent chunked: its size is known at the end only). */
static size_t
moss_gen_z(void *arg, uint64_t pos, char *buf, size_t max)
{
    struct moss *m = arg;
    size_t o = 0;
    if (pos != m->sent) {
        return AIS_GEN_ERR;
    }
    while (o < max) {
        if (m->ob_off < m->ob_len) {
            size_t n = m->ob_len - m->ob_off < max - o ? m->ob_len - m->ob_off : max - o;
            memcpy(buf + o, m->ob + m->ob_off, n);
            m->ob_off += n;
            o += n;
            continue;
        }
        m->ob_len = m->ob_off = 0;
        if (m->phase == PH_END) {
            break;
        }
        if (aw_step(m) != 0) {
            return AIS_GEN_ERR;
        }
    }
    m->sent += o;
    return o > 0 ? o : AIS_GEN_END;
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
                              "filename=\"%s.%s\"\r\nContent-Type: application/octet-stream"
                              "\r\n\r\n";
    size_t cap = strlen(meta) + 3 * sizeof(bnd) + sizeof(fmt) + sizeof(m->uuid) + 8;
    m->prefix = malloc(cap);
    m->suffix = malloc(sizeof(bnd) + 16);
    if (m->prefix == NULL || m->suffix == NULL) {
        free(meta);
        return -ENOMEM;
    }
    m->prefix_len =
        (size_t)snprintf(m->prefix, cap, fmt, bnd, meta, bnd, m->uuid, out_ext(m->ofmt));
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
    char msg[2 * AIS_OBJNAME_BYTES_MAX + 512], ctype[96];
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
    long *st = status == 0 ? calloc(m->n, sizeof(*st)) : NULL;
    if (status == 0 && st == NULL) {
        status = 500;
        snprintf(msg, sizeof(msg), "out of memory");
    }
    m->bmd = ais_meta_bmd(&t->meta);
    m->smap = ais_meta_smap(&t->meta);
    for (size_t i = 0; status == 0 && i < m->n; i++) {
        status = ent_locate(m, &m->e[i], &st[i], msg, sizeof(msg));
    }
    ais_bmd_unref(m->bmd);
    ais_smap_unref(m->smap);
    m->bmd = NULL;
    m->smap = NULL;
    m->own_last = NULL;
    if (status == 0 && moss_stat_rpc(m, st) != 0) {
        status = 500;
        snprintf(msg, sizeof(msg), "out of memory");
    }
    for (size_t i = 0; status == 0 && i < m->n; i++) {
        status = ent_settle(m, &m->e[i], st[i], msg, sizeof(msg));
        if (status == 0) {
            ent_inline_settle(m, &m->e[i]);
        }
    }
    free(st);
    if (status == 0) {
        snprintf(ctype, sizeof(ctype), "%s", out_ctype(m->ofmt));
        int rc = m->strm ? 0 : moss_multipart(m, ctype, sizeof(ctype));
        if (rc == 0 && m->ofmt != OF_TAR) {
            rc = aw_open(m);
        }
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
        m->total += tgt_tar_hdr_bytes(strlen(m->e[i].name)) + round512(m->e[i].size);
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
    int rc = m->ofmt == OF_TAR
                 ? ais_resp_gen(r, 200, m->total, moss_gen, m, moss_free)
                 : ais_resp_gen(r, 200, AIS_GEN_SIZE_UNKNOWN, moss_gen_z, m, moss_free);
    if (rc == 0) {
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
