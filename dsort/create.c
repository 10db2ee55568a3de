/*
 * Design notes: dSort phase (c), shard creation, and the pulls that feed it. A target builds
 * each of its output shards in record order into an unlinked work file with libarchive, then
 * PUTs the file through its own HTTP edge: the output object takes the normal PUT path
 * (checksum, mirror/EC per bucket props, .tar index) and appears whole or not at all. Records
 * of other targets are pulled over nng in batches of at most DS_PULL_BYTES_MAX: a batch asks a
 * target for its next records of this shard in order, so at most one batch per source target
 * is held at a time (memory per shard in flight <= ntargets * DS_PULL_BYTES_MAX) and a slow
 * source only slows the shards that need it.
 *
 * Pull reply, per record: u32 member count, then per member u16 name length, the name, u64
 * size, the data (little endian).
 */
#include "common/archw.h"
#include "common/config.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/meta.h"
#include "common/smap.h"
#include "common/util.h"
#include "dsort/ds_int.h"
#include "rpc/rpc.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK_BYTES (256u << 10)
#define PULL_TIMEOUT_MS 20000 /* 8 MiB over any network; a dead peer must fail the job soon */
#define PUT_TIMEOUT_S 600L

/* ---- the wire form ---- */

static void
put_u(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint64_t
get_u(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

/* Reads len bytes at off of fds[idx] into dst. 0 or negative errno. */
static int
member_pread(struct ds_job *j, uint32_t idx, uint64_t off, void *dst, size_t len)
{
    int fd = j->fds[idx];
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, (char *)dst + got, len - got, (off_t)(off + got));
        if (n <= 0) {
            return n < 0 ? -errno : -EIO;
        }
        got += (size_t)n;
    }
    return 0;
}

int
ds_pull_serve(struct ds_job *j, const uint32_t *rids, size_t n, void **out, size_t *out_len,
              char *msg, size_t cap)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (rids[i] >= j->nrecs) {
            snprintf(msg, cap, "dsort %s: no record %u here", j->uuid, rids[i]);
            return -ENOENT;
        }
        const struct ds_rec *r = &j->recs[rids[i]];
        total += 4;
        for (uint32_t k = 0; k < r->nmem; k++) {
            const struct ds_member *m = &j->mems[r->mem0 + k];
            total += 2 + strlen(m->name) + 8 + m->size;
        }
    }
    if (total > AIS_RPC_MSG_BYTES_MAX - 4096) {
        snprintf(msg, cap, "dsort %s: records too large for one reply", j->uuid);
        return -E2BIG;
    }
    uint8_t *buf = malloc(total ? total : 1), *p = buf;
    if (buf == NULL) {
        return -ENOMEM;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct ds_rec *r = &j->recs[rids[i]];
        put_u(p, r->nmem, 4);
        p += 4;
        for (uint32_t k = 0; k < r->nmem && rc == 0; k++) {
            const struct ds_member *m = &j->mems[r->mem0 + k];
            size_t nl = strlen(m->name);
            put_u(p, nl, 2);
            memcpy(p + 2, m->name, nl);
            put_u(p + 2 + nl, m->size, 8);
            p += 2 + nl + 8;
            rc = member_pread(j, m->fd_idx, m->off, p, (size_t)m->size);
            p += m->size;
        }
    }
    if (rc != 0) {
        free(buf);
        snprintf(msg, cap, "dsort %s: read: %s", j->uuid, ais_strerror(rc));
        return rc;
    }
    __atomic_add_fetch(&j->served, n, __ATOMIC_RELEASE);
    __atomic_add_fetch(&j->m_served_bytes, total, __ATOMIC_RELAXED);
    *out = buf;
    *out_len = total;
    return 0;
}

/* ---- writing one shard ---- */

/* A local record into the archive, members read in place. */
static int
write_local(struct ds_job *j, struct archive *a, uint32_t rid, char *buf, int64_t mtime_s)
{
    if (rid >= j->nrecs) {
        return -ENOENT;
    }
    const struct ds_rec *r = &j->recs[rid];
    int rc = 0;
    for (uint32_t k = 0; k < r->nmem && rc == 0; k++) {
        const struct ds_member *m = &j->mems[r->mem0 + k];
        rc = ais_archw_entry(a, m->name, m->size, mtime_s);
        for (uint64_t off = 0; rc == 0 && off < m->size;) {
            size_t n = m->size - off < CHUNK_BYTES ? (size_t)(m->size - off) : CHUNK_BYTES;
            rc = member_pread(j, m->fd_idx, m->off + off, buf, n);
            rc = rc ? rc : ais_archw_data(a, buf, n);
            off += n;
        }
    }
    return rc;
}

/* The records of one source target in flight for the shard being built. */
struct batch {
    char *buf;
    size_t len, at;
    size_t covered; /* shard positions up to this one are fetched (exclusive) */
};

/*
 * Bytes one pull may ask for: DS_PULL_BYTES_MAX, less when the memory limit is small, so that
 * the batches in flight (one per source per shard being built) stay within max_mem_usage; one
 * record always goes.
 */
static uint64_t
batch_max(const struct ds_job *j)
{
    unsigned conc = j->spec.create_conc ? j->spec.create_conc : DS_CREATE_CONC_DEFAULT;
    uint64_t share = j->mem_limit / ((uint64_t)conc * (j->ntgt ? j->ntgt : 1));
    return share < DS_PULL_BYTES_MAX ? share : DS_PULL_BYTES_MAX;
}

/* Asks source src for its next records of the shard from position k on. */
static int
batch_fetch(struct ds_job *j, const struct ds_oshard *o, size_t k, struct batch *b, char *msg,
            size_t cap)
{
    uint32_t src = o->src[k];
    json_t *rids = json_array();
    uint64_t bytes = 0;
    size_t p = k;
    for (; rids && p < o->n; p++) {
        if (o->src[p] != src) {
            continue;
        }
        if (json_array_size(rids) > 0 && bytes + o->size[p] > batch_max(j)) {
            break;
        }
        bytes += o->size[p];
        json_array_append_new(rids, json_integer(o->rid[p]));
    }
    size_t nr = rids ? json_array_size(rids) : 0;
    json_t *q = rids ? json_pack("{so}", "rids", rids) : NULL;
    free(b->buf);
    b->buf = NULL;
    char why[256] = "";
    size_t len = 0;
    int rc = q ? ds_job_call(j, src, "pull", q, PULL_TIMEOUT_MS, &b->buf, &len, why, sizeof(why))
               : -ENOMEM;
    json_decref(q);
    if (rc != 0) {
        snprintf(msg, cap, "pull from target %s: %s", j->tids[src], why);
        return rc;
    }
    b->len = len;
    b->at = 0;
    b->covered = p;
    __atomic_add_fetch(&j->m_pulled_n, nr, __ATOMIC_RELAXED);
    __atomic_add_fetch(&j->m_pulled_bytes, len, __ATOMIC_RELAXED);
    return 0;
}

/* The next record of batch b into the archive. */
static int
write_pulled(struct archive *a, struct batch *b, int64_t mtime_s)
{
    const uint8_t *p = (const uint8_t *)b->buf + b->at, *end = (const uint8_t *)b->buf + b->len;
    if (end - p < 4) {
        return -EBADMSG;
    }
    uint32_t nm = (uint32_t)get_u(p, 4);
    p += 4;
    int rc = 0;
    char name[AIS_OBJNAME_BYTES_MAX * 4 + 1];
    for (uint32_t k = 0; k < nm && rc == 0; k++) {
        if (end - p < 2) {
            return -EBADMSG;
        }
        size_t nl = (size_t)get_u(p, 2);
        if ((size_t)(end - p) < 2 + nl + 8 || nl >= sizeof(name)) {
            return -EBADMSG;
        }
        memcpy(name, p + 2, nl);
        name[nl] = '\0';
        uint64_t sz = get_u(p + 2 + nl, 8);
        p += 2 + nl + 8;
        if ((uint64_t)(end - p) < sz) {
            return -EBADMSG;
        }
        rc = ais_archw_entry(a, name, sz, mtime_s);
        rc = rc ? rc : ais_archw_data(a, p, (size_t)sz);
        p += sz;
    }
    b->at = (size_t)(p - (const uint8_t *)b->buf);
    return rc;
}

static size_t
curl_read(char *dst, size_t sz, size_t nit, void *arg)
{
    int fd = *(int *)arg;
    ssize_t n = read(fd, dst, sz * nit);
    return n < 0 ? CURL_READFUNC_ABORT : (size_t)n;
}

static size_t
curl_sink(char *p, size_t sz, size_t nit, void *arg)
{
    char *m = arg;
    size_t l = strlen(m), n = sz * nit;
    size_t room = 255 - l;
    memcpy(m + l, p, n < room ? n : room);
    m[l + (n < room ? n : room)] = '\0';
    return n;
}

/* RFC 3986 path encoding, '/' kept. */
static void
path_encode(char *dst, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~/", c)) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '%';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        }
    }
    dst[o] = '\0';
}

/* PUTs the work file fd as the output object name through this target's own HTTP edge. */
static int
shard_put(struct ds_job *j, int fd, const char *name, char *msg, size_t cap)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
        return -errno;
    }
    char base[160], enc[AIS_OBJNAME_BYTES_MAX * 3 + 1];
    ais_snode_url(ds_job_env(j)->self, base, sizeof(base));
    path_encode(enc, sizeof(enc), name);
    size_t ucap = strlen(base) + strlen(enc) + 2 * AIS_BCKNAME_BYTES_MAX + 64;
    char *url = malloc(ucap);
    CURL *h = url ? curl_easy_init() : NULL;
    if (h == NULL) {
        free(url);
        return -ENOMEM;
    }
    snprintf(url, ucap, "%s/v1/objects/%s/%s?provider=%s", base, j->spec.out_bck, enc,
             j->spec.out_provider);
    char body[256] = "";
    struct curl_slist *hdr = curl_slist_append(NULL, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, curl_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &fd);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, (void *)body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, PUT_TIMEOUT_S);
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    free(url);
    if (cc != CURLE_OK || status != 200) {
        snprintf(msg, cap, "PUT %s: %s", name,
                 cc != CURLE_OK ? curl_easy_strerror(cc)
                 : body[0]      ? body
                                : "failed");
        return -EIO;
    }
    return 0;
}

/* Builds and stores one output shard. 0 or negative errno with msg. */
static int
create_one(struct ds_job *j, const struct ds_oshard *o, char *buf, char *msg, size_t cap)
{
    int fd = ds_job_tmpfile(j);
    if (fd < 0) {
        snprintf(msg, cap, "work file: %s", ais_strerror(fd));
        return fd;
    }
    struct batch *bs = calloc(j->ntgt, sizeof(*bs));
    struct archive *a = bs ? archive_write_new() : NULL;
    int64_t mtime_s = j->start_ns / 1000000000;
    int rc = a == NULL ? -ENOMEM : ais_archw_format(a, j->spec.out_ext);
    if (rc == 0 && archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        rc = -EIO;
    }
    for (size_t k = 0; rc == 0 && k < o->n; k++) {
        if (ds_job_stopped(j)) {
            rc = -ECANCELED;
            break;
        }
        uint32_t src = o->src[k];
        if (src == j->self) {
            rc = write_local(j, a, o->rid[k], buf, mtime_s);
            continue;
        }
        struct batch *b = &bs[src];
        if (b->buf == NULL || b->at >= b->len || k >= b->covered) {
            rc = batch_fetch(j, o, k, b, msg, cap);
        }
        rc = rc ? rc : write_pulled(a, b, mtime_s);
    }
    if (a != NULL && archive_write_close(a) != ARCHIVE_OK && rc == 0) {
        rc = -EIO;
    }
    archive_write_free(a);
    for (size_t s = 0; bs && s < j->ntgt; s++) {
        free(bs[s].buf);
    }
    free(bs);
    if (rc == 0 && !j->spec.dry_run) {
        rc = shard_put(j, fd, o->name, msg, cap);
    } else if (rc != 0 && msg[0] == '\0') {
        snprintf(msg, cap, "%s", ais_strerror(rc));
    }
    close(fd);
    return rc;
}

struct cpool {
    struct ds_job *j;
    size_t next;
    pthread_mutex_t mu;
};

struct cthread {
    struct cpool *pool;
    pthread_t th;
    int rc;
};

static void *
cthread_main(void *arg)
{
    struct cthread *t = arg;
    struct ds_job *j = t->pool->j;
    char *buf = malloc(CHUNK_BYTES);
    char msg[384];
    t->rc = buf ? 0 : -ENOMEM;
    while (t->rc == 0 && !ds_job_stopped(j)) {
        pthread_mutex_lock(&t->pool->mu);
        size_t i = t->pool->next++;
        pthread_mutex_unlock(&t->pool->mu);
        if (i >= j->nosh) {
            break;
        }
        msg[0] = '\0';
        t->rc = create_one(j, &j->osh[i], buf, msg, sizeof(msg));
        if (t->rc == 0) {
            __atomic_add_fetch(&j->m_created, 1, __ATOMIC_RELAXED);
        } else if (t->rc != -ECANCELED) {
            ds_job_fail(j, "shard %s: %s", j->osh[i].name, msg);
        }
    }
    free(buf);
    return NULL;
}

int
ds_create(struct ds_job *j)
{
    unsigned nw = j->spec.create_conc ? j->spec.create_conc : DS_CREATE_CONC_DEFAULT;
    nw = nw > DS_WORKERS_MAX ? DS_WORKERS_MAX : nw;
    struct cpool pool = {.j = j, .next = 0};
    struct cthread *th = calloc(nw, sizeof(*th));
    if (th == NULL || pthread_mutex_init(&pool.mu, NULL) != 0) {
        free(th);
        ds_job_fail(j, "creation: out of memory");
        return -ENOMEM;
    }
    unsigned started = 0;
    for (unsigned i = 0; i < nw; i++) {
        th[i].pool = &pool;
        if (pthread_create(&th[i].th, NULL, cthread_main, &th[i]) != 0) {
            break;
        }
        started++;
    }
    int rc = started ? 0 : -ENOMEM;
    for (unsigned i = 0; i < started; i++) {
        pthread_join(th[i].th, NULL);
        rc = rc ? rc : th[i].rc;
    }
    pthread_mutex_destroy(&pool.mu);
    free(th);
    if (rc == -ENOMEM && started == 0) {
        ds_job_fail(j, "creation: cannot start workers");
    }
    return rc ? rc : ds_job_stopped(j) ? -ECANCELED : 0;
}
