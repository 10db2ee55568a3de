/*
 * Design notes: dSort phase (a), local extraction. Every target walks the job's input names and
 * takes the shards HRW gives it. A plain .tar is not copied at all: the shard stays open and a
 * member is its (offset, size) inside it (libarchive reports the data offset of the member it
 * just parsed as the bytes it consumed), so creation reads straight from the input object -
 * which dSort never modifies; a PUT of a new version renames a new file, the open one keeps its
 * bytes. Compressed shards (and .tar shards past DS_OPEN_SHARDS_MAX) are extracted once into an
 * unlinked work file per worker. Memory holds metadata only: names, offsets, sizes, keys.
 */
#include "common/err.h"
#include "common/hrw.h"
#include "common/log.h"
#include "common/meta.h"
#include "common/smap.h"
#include "dsort/ds_int.h"
#include "storage/storage.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COPY_BUF_BYTES (256u << 10)

/* One member while a shard is read. */
struct xm {
    char *name;
    size_t klen;
    uint32_t order;
    struct ds_member m;
    char *content; /* the content key file's bytes (NUL-terminated) or NULL */
};

struct xshard {
    struct xm *v;
    size_t n, cap;
};

struct xworker {
    struct ds_job *j;
    int spill_fd; /* this worker's work file, or -1 */
    uint32_t spill_idx;
    uint64_t spill_off;
    char *buf;
    int rc;
};

static void
xshard_fini(struct xshard *x)
{
    for (size_t i = 0; i < x->n; i++) {
        free(x->v[i].name);
        free(x->v[i].content);
    }
    free(x->v);
}

/* Registers fd with the job: its index, or -1 (ENOMEM; fd closed). */
static int64_t
job_fd_add(struct ds_job *j, int fd)
{
    pthread_mutex_lock(&j->mu);
    if (j->nfds == j->capfds) {
        size_t nc = j->capfds ? 2 * j->capfds : 16;
        int *nv = realloc(j->fds, nc * sizeof(*nv));
        if (nv == NULL) {
            pthread_mutex_unlock(&j->mu);
            close(fd);
            return -1;
        }
        j->fds = nv;
        j->capfds = nc;
    }
    int64_t idx = (int64_t)j->nfds;
    j->fds[j->nfds++] = fd;
    pthread_mutex_unlock(&j->mu);
    return idx;
}

static size_t
job_open_fds(struct ds_job *j)
{
    pthread_mutex_lock(&j->mu);
    size_t n = j->nfds;
    pthread_mutex_unlock(&j->mu);
    return n;
}

static int
cmp_xm(const void *a, const void *b)
{
    const struct xm *x = a, *y = b;
    size_t l = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->name, y->name, l);
    if (c == 0) {
        c = x->klen < y->klen ? -1 : x->klen > y->klen;
    }
    return c ? c : (x->order < y->order ? -1 : x->order > y->order);
}

/* Parses a content key into r; 0 or -EINVAL. */
static int
content_key(const struct ds_job *j, const char *txt, struct ds_rec *r)
{
    char *end;
    while (*txt == ' ' || *txt == '\t' || *txt == '\n' || *txt == '\r') {
        txt++;
    }
    size_t l = strlen(txt);
    while (l > 0 &&
           (txt[l - 1] == ' ' || txt[l - 1] == '\n' || txt[l - 1] == '\r' || txt[l - 1] == '\t')) {
        l--;
    }
    if (j->spec.ckey == DS_CKEY_STRING) {
        r->cstr = strndup(txt, l);
        return r->cstr ? 0 : -ENOMEM;
    }
    if (l == 0) {
        return -EINVAL;
    }
    errno = 0;
    if (j->spec.ckey == DS_CKEY_INT) {
        r->cint = strtoll(txt, &end, 10);
    } else {
        r->cflt = strtod(txt, &end);
        if (isnan(r->cflt)) {
            return -EINVAL;
        }
    }
    return errno == 0 && end == txt + l ? 0 : -EINVAL;
}

/* Groups a shard's members into records (sorted by key, then archive order) and appends them. */
static int
shard_commit(struct ds_job *j, uint32_t sidx, struct xshard *x)
{
    qsort(x->v, x->n, sizeof(*x->v), cmp_xm);
    int rc = 0;
    pthread_mutex_lock(&j->mu);
    uint32_t pos = 0;
    for (size_t i = 0; i < x->n && rc == 0;) {
        size_t e = i + 1;
        while (e < x->n && x->v[e].klen == x->v[i].klen &&
               memcmp(x->v[e].name, x->v[i].name, x->v[i].klen) == 0) {
            e++;
        }
        if (j->nrecs == j->caprecs || j->nmems + (e - i) > j->capmems) {
            size_t rc2 = j->caprecs ? 2 * j->caprecs : 256;
            size_t mc2 = j->capmems ? 2 * j->capmems : 512;
            while (mc2 < j->nmems + (e - i)) {
                mc2 *= 2;
            }
            struct ds_rec *nr = realloc(j->recs, rc2 * sizeof(*nr));
            j->recs = nr ? nr : j->recs;
            j->caprecs = nr ? rc2 : j->caprecs;
            struct ds_member *nm = realloc(j->mems, mc2 * sizeof(*nm));
            j->mems = nm ? nm : j->mems;
            j->capmems = nm ? mc2 : j->capmems;
            if (nr == NULL || nm == NULL) {
                rc = -ENOMEM;
                break;
            }
        }
        if (j->nrecs >= DS_RECORDS_MAX) {
            rc = -E2BIG;
            break;
        }
        struct ds_rec *r = &j->recs[j->nrecs];
        memset(r, 0, sizeof(*r));
        r->key = strndup(x->v[i].name, x->v[i].klen);
        r->sidx = sidx;
        r->pos = x->v[i].order; /* its first member's place in the archive: order "none" */
        pos++;
        r->mem0 = (uint32_t)j->nmems;
        r->nmem = (uint32_t)(e - i);
        const char *ctext = NULL;
        for (size_t k = i; k < e; k++) {
            struct ds_member *m = &j->mems[j->nmems++];
            *m = x->v[k].m;
            m->name = x->v[k].name;
            x->v[k].name = NULL;
            r->size += ds_tar_member_bytes(m->name, m->size);
            ctext = x->v[k].content ? x->v[k].content : ctext;
        }
        j->nrecs++;
        if (r->size > DS_RECORD_BYTES_MAX) {
            pthread_mutex_unlock(&j->mu);
            ds_job_fail(j, "record \"%s\" of %s is larger than %u MiB", r->key ? r->key : "?",
                        j->names[sidx], DS_RECORD_BYTES_MAX >> 20);
            return -E2BIG;
        }
        if (r->key == NULL) {
            rc = -ENOMEM;
        } else if (j->spec.alg == DS_ALG_CONTENT) {
            rc = ctext ? content_key(j, ctext, r) : -ENOKEY;
            if (rc == -EINVAL || rc == -ENOKEY) {
                pthread_mutex_unlock(&j->mu);
                ds_job_fail(j, "record \"%s\" of %s: %s", r->key, j->names[sidx],
                            rc == -ENOKEY ? "has no file with the content key extension"
                                          : "content key does not parse as the key type");
                return rc;
            }
        }
        i = e;
    }
    pthread_mutex_unlock(&j->mu);
    if (rc == -E2BIG) {
        ds_job_fail(j, "more than %u records on one target", DS_RECORDS_MAX);
    } else if (rc != 0) {
        ds_job_fail(j, "extraction: %s", ais_strerror(rc));
    }
    __atomic_add_fetch(&j->m_ext_recs, pos, __ATOMIC_RELAXED);
    return rc;
}

/* Copies the current member's data into the worker's work file; *content gets a copy of the
 * first bytes when want_content. 0 or negative errno. */
static int
member_spill(struct xworker *w, struct archive *a, struct xm *xm, int want_content)
{
    struct ds_job *j = w->j;
    if (w->spill_fd < 0) {
        int fd = ds_job_tmpfile(j);
        if (fd < 0) {
            return fd;
        }
        int64_t idx = job_fd_add(j, fd);
        if (idx < 0) {
            return -ENOMEM;
        }
        w->spill_fd = fd;
        w->spill_idx = (uint32_t)idx;
    }
    xm->m.fd_idx = w->spill_idx;
    xm->m.off = w->spill_off;
    uint64_t got = 0;
    for (;;) {
        la_ssize_t n = archive_read_data(a, w->buf, COPY_BUF_BYTES);
        if (n < 0) {
            return -EBADMSG;
        }
        if (n == 0) {
            break;
        }
        if (want_content && got == 0) {
            size_t l = (size_t)n < DS_CONTENT_KEY_BYTES_MAX ? (size_t)n : DS_CONTENT_KEY_BYTES_MAX;
            xm->content = strndup(w->buf, l);
        }
        for (la_ssize_t off = 0; off < n;) {
            ssize_t wr = pwrite(w->spill_fd, w->buf + off, (size_t)(n - off),
                                (off_t)(w->spill_off + got + (uint64_t)off));
            if (wr < 0) {
                return -errno;
            }
            off += wr;
        }
        got += (uint64_t)n;
    }
    xm->m.size = got;
    w->spill_off += got;
    __atomic_add_fetch(&j->m_disk_n, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&j->m_disk_size, got, __ATOMIC_RELAXED);
    return 0;
}

/* The content key file of a member read in place (pread). */
static int
member_content(int fd, struct xm *xm)
{
    size_t l =
        xm->m.size < DS_CONTENT_KEY_BYTES_MAX ? (size_t)xm->m.size : DS_CONTENT_KEY_BYTES_MAX;
    xm->content = calloc(1, l + 1);
    if (xm->content == NULL) {
        return -ENOMEM;
    }
    ssize_t n = pread(fd, xm->content, l, (off_t)xm->m.off);
    return n == (ssize_t)l ? 0 : -EIO;
}

static void
read_formats(struct archive *a, const char *ext)
{
    if (strcmp(ext, ".zip") == 0) {
        archive_read_support_format_zip(a);
    } else {
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
    }
    if (strcmp(ext, ".tar") != 0) {
        archive_read_support_filter_all(a);
    }
}

/* Reads the members of one open shard into x. 0 or negative errno (msg set). */
static int
shard_read(struct xworker *w, int fd, int in_place, uint32_t fd_idx, struct xshard *x, char *msg,
           size_t cap)
{
    struct ds_job *j = w->j;
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    int rc = a == NULL ? -ENOMEM : 0;
    if (rc == 0) {
        read_formats(a, j->spec.in_ext);
        rc = archive_read_open_fd(a, fd, 64 << 10) == ARCHIVE_OK ? 0 : -EBADMSG;
    }
    while (rc == 0 && !ds_job_stopped(j)) {
        int ar = archive_read_next_header(a, &e);
        if (ar == ARCHIVE_EOF) {
            break;
        }
        if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
            snprintf(msg, cap, "%s", archive_error_string(a) ? archive_error_string(a) : "bad");
            rc = -EBADMSG;
            break;
        }
        const char *name = archive_entry_pathname_utf8(e);
        name = name ? name : archive_entry_pathname(e);
        if (archive_entry_filetype(e) != AE_IFREG || name == NULL || name[0] == '\0') {
            continue;
        }
        if (x->n == x->cap) {
            size_t nc = x->cap ? 2 * x->cap : 64;
            struct xm *nv = realloc(x->v, nc * sizeof(*nv));
            if (nv == NULL) {
                rc = -ENOMEM;
                break;
            }
            x->v = nv;
            x->cap = nc;
        }
        struct xm *xm = &x->v[x->n];
        memset(xm, 0, sizeof(*xm));
        xm->name = strdup(name);
        if (xm->name == NULL) {
            rc = -ENOMEM;
            break;
        }
        x->n++;
        xm->klen = ds_key_len(xm->name);
        xm->order = (uint32_t)(x->n - 1);
        int want = j->spec.alg == DS_ALG_CONTENT &&
                   strcmp(ds_name_ext(xm->name), j->spec.content_ext) == 0;
        if (in_place) {
            xm->m = (struct ds_member){.off = (uint64_t)archive_filter_bytes(a, 0),
                                       .size = (uint64_t)archive_entry_size(e),
                                       .fd_idx = fd_idx};
            rc = want ? member_content(fd, xm) : 0;
        } else {
            rc = member_spill(w, a, xm, want);
            if (rc == -EBADMSG) {
                snprintf(msg, cap, "%s", archive_error_string(a) ? archive_error_string(a) : "bad");
            }
        }
    }
    archive_read_free(a);
    return rc;
}

/* One input shard (sidx) if this target owns it. 0 or negative (the job failed). */
static int
extract_one(struct xworker *w, uint32_t sidx)
{
    struct ds_job *j = w->j;
    const struct ds_env *env = ds_job_env(j);
    const char *name = j->names[sidx];
    uint64_t digest;
    if (ais_obj_digest(j->spec.in_provider, "", j->spec.in_bck, name, &digest) != 0) {
        return 0;
    }
    struct st_bck b = {.provider = j->spec.in_provider, .ns = "", .name = j->spec.in_bck};
    struct st_obj_md md;
    int fd = -1;
    int rc = st_obj_open(env->mp, &b, name, digest, &fd, &md);
    if (rc == -ENOENT) {
        if (j->spec.missing_shards == DS_POLICY_ABORT) {
            ds_job_fail(j, "input shard %s://%s/%s does not exist", j->spec.in_provider,
                        j->spec.in_bck, name);
            return -ENOENT;
        }
        if (j->spec.missing_shards == DS_POLICY_WARN) {
            ds_job_warn(j, "input shard %s does not exist", name);
        }
        return 0;
    }
    if (rc != 0) {
        ds_job_fail(j, "input shard %s: %s", name, ais_strerror(rc));
        return rc;
    }
    int in_place = strcmp(j->spec.in_ext, ".tar") == 0 && job_open_fds(j) < DS_OPEN_SHARDS_MAX;
    int64_t fd_idx = 0;
    if (in_place && (fd_idx = job_fd_add(j, fd)) < 0) {
        ds_job_fail(j, "extraction: out of memory");
        return -ENOMEM;
    }
    struct xshard x = {0};
    char msg[256] = "";
    rc = shard_read(w, fd, in_place, (uint32_t)fd_idx, &x, msg, sizeof(msg));
    if (!in_place) {
        close(fd);
    }
    if (rc == 0 && !ds_job_stopped(j)) {
        rc = shard_commit(j, sidx, &x);
        __atomic_add_fetch(&j->m_extracted, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&j->m_ext_size, md.size, __ATOMIC_RELAXED);
    } else if (rc != 0) {
        ds_job_fail(j, "input shard %s is not a valid %s archive: %s", name, j->spec.in_ext,
                    msg[0] ? msg : ais_strerror(rc));
    }
    xshard_fini(&x);
    return rc;
}

/* The next input index this target owns (shared cursor under the job lock), or nnames. */
static size_t
shard_cursor_take(struct ds_job *j, size_t *cursor)
{
    pthread_mutex_lock(&j->mu);
    size_t i = (*cursor)++;
    pthread_mutex_unlock(&j->mu);
    return i;
}

struct xpool {
    struct ds_job *j;
    size_t cursor;
    const uint8_t *mine; /* 1 for the indices this target owns */
};

struct xthread {
    struct xworker w;
    struct xpool *pool;
    pthread_t th;
};

static void *
xthread_main(void *arg)
{
    struct xthread *t = arg;
    struct ds_job *j = t->w.j;
    for (;;) {
        size_t i = shard_cursor_take(j, &t->pool->cursor);
        if (i >= j->nnames || ds_job_stopped(j)) {
            break;
        }
        if (!t->pool->mine[i]) {
            continue;
        }
        t->w.rc = extract_one(&t->w, (uint32_t)i);
        if (t->w.rc != 0) {
            break;
        }
    }
    return NULL;
}

/* The input indices HRW gives this target (1 each), counted into m_total. NULL on ENOMEM. */
static uint8_t *
owned_shards(struct ds_job *j)
{
    const struct ds_env *env = ds_job_env(j);
    uint8_t *mine = calloc(j->nnames ? j->nnames : 1, 1);
    struct ais_smap *smap = ais_meta_smap(env->meta);
    uint64_t n = 0;
    for (size_t i = 0; mine && i < j->nnames; i++) {
        uint64_t digest;
        if (ais_obj_digest(j->spec.in_provider, "", j->spec.in_bck, j->names[i], &digest) != 0) {
            continue;
        }
        const struct ais_snode *o = ais_smap_hrw_target(smap, digest);
        mine[i] = o != NULL && strcmp(o->id, j->tids[j->self]) == 0;
        n += mine[i];
    }
    ais_smap_unref(smap);
    __atomic_store_n(&j->m_total, n, __ATOMIC_RELAXED);
    return mine;
}

int
ds_extract(struct ds_job *j)
{
    unsigned nw = j->spec.extract_conc ? j->spec.extract_conc : 2;
    nw = nw > DS_WORKERS_MAX ? DS_WORKERS_MAX : nw;
    struct xpool pool = {.j = j, .cursor = 0, .mine = owned_shards(j)};
    struct xthread *th = calloc(nw, sizeof(*th));
    int rc = pool.mine == NULL || th == NULL ? -ENOMEM : 0;
    unsigned started = 0;
    for (unsigned i = 0; rc == 0 && i < nw; i++) {
        th[i].w = (struct xworker){.j = j, .spill_fd = -1, .buf = malloc(COPY_BUF_BYTES)};
        th[i].pool = &pool;
        if (th[i].w.buf == NULL || pthread_create(&th[i].th, NULL, xthread_main, &th[i]) != 0) {
            free(th[i].w.buf);
            rc = -ENOMEM;
            break;
        }
        started++;
    }
    for (unsigned i = 0; i < started; i++) {
        pthread_join(th[i].th, NULL);
        free(th[i].w.buf);
        rc = rc ? rc : th[i].w.rc;
    }
    if (rc == -ENOMEM && started == 0) {
        ds_job_fail(j, "extraction: out of memory");
    }
    free(th);
    free((void *)pool.mine);
    return rc ? rc : ds_job_stopped(j) ? -ECANCELED : 0;
}
