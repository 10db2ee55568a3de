/*
 * The "archive" job (target/archw.h): one shard (.tar, .tgz/.tar.gz, .zip, .tar.lz4) from a
 * list of objects, run by the shard's owner.
 *
 * Design notes: the shard is written with libarchive straight into a storage PUT of the shard
 * (st_put: work file, checksum, mirror copies, fsync, atomic rename), and every byte passes the
 * .tar index builder of target/arch.c on the way, so the result is checksummed and indexed like
 * a client's PUT and appears whole or not at all; an EC bucket gets its slices afterwards as a
 * PUT does. Sources are read in list order: the ones this target owns from their files, the
 * others of ais buckets from their owner over nng (rpc obj_read, target/moss.c) in 256 KiB
 * pieces checked to be of one version, those of remote buckets with an HTTP GET from their
 * owner (which may cold-GET them; the request follows a redirect when the Smap moved
 * meanwhile); the member header is written once the size is known, then the bytes stream
 * through (never whole in memory). A source that does not exist fails the job
 * (nothing stored) unless coer, which skips it and names it in the job's error text (the job
 * still finishes). A source failing after its member began fails the job in any case (the
 * member cannot be taken back). With aate an existing shard's members are copied first (any
 * format, through libarchive), and the shard is published only if it is still that one.
 * Members are named like the objects, <source bucket>/<object> with isbn, the base name with
 * bnonly; their mtime is the source's (unknown for ones pulled over HTTP: now).
 */
#include "common/archw.h"
#include "common/err.h"
#include "common/hrw.h"
#include "common/log.h"
#include "common/util.h"
#include "rpc/rpc.h"
#include "target/arch.h"
#include "target/archw.h"
#include "target/target_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define AB_KIND "archive"
#define AB_IO_BYTES (256u << 10)
#define AB_GET_TIMEOUT_S 300L /* a source GET that moves no byte this long fails */

struct ab_job {
    struct tgt *t;
    struct xa_job *job;
    unsigned flags, fmt;
    char src_prov[16], src_ns[AIS_NS_BYTES_MAX], src_bck[AIS_BCKNAME_BYTES_MAX + 1];
    char dst_prov[16], dst_ns[AIS_NS_BYTES_MAX], dst_bck[AIS_BCKNAME_BYTES_MAX + 1];
    char shard[AIS_OBJNAME_BYTES_MAX + 1];
    char **names;
    size_t n;
    CURL *h;
    struct st_put *put;
    struct tgt_arch_put *ix;
    int werr; /* sticky error of the shard's writes */
    char *buf;
    uint64_t skipped;
    char why[XA_ERR_BYTES];
    char errs[XA_ERR_BYTES - 64];
    size_t errs_len;
};

static void
job_free(void *arg)
{
    struct ab_job *j = arg;
    for (size_t i = 0; j->names != NULL && i < j->n; i++) {
        free(j->names[i]);
    }
    free(j->names);
    if (j->h != NULL) {
        curl_easy_cleanup(j->h);
    }
    st_put_abort(j->put);
    tgt_arch_put_abort(j->ix);
    free(j->buf);
    free(j);
}

/* ---- the shard's bytes: libarchive -> st_put + index ---- */

static la_ssize_t
shard_write(struct archive *a, void *arg, const void *p, size_t n)
{
    (void)a;
    struct ab_job *j = arg;
    if (j->werr == 0) {
        tgt_arch_put_feed(j->ix, p, n);
        j->werr = st_put_write(j->put, p, n);
    }
    return j->werr ? -1 : (la_ssize_t)n;
}

/* The extension of an RPC_ARCHIVE_FMT_* format (common/archw.h). */
static const char *
fmt_ext(unsigned fmt)
{
    return fmt == RPC_ARCHIVE_FMT_ZIP    ? ".zip"
           : fmt == RPC_ARCHIVE_FMT_TGZ  ? ".tgz"
           : fmt == RPC_ARCHIVE_FMT_TLZ4 ? ".tar.lz4"
                                         : ".tar";
}

/* ---- sources ---- */

/* The member name of source obj (out has cap bytes). */
static void
member_name(const struct ab_job *j, const char *obj, char *out, size_t cap)
{
    const char *base = strrchr(obj, '/');
    if (j->flags & RPC_ARCHIVE_BNONLY) {
        snprintf(out, cap, "%s", base != NULL ? base + 1 : obj);
    } else if (j->flags & RPC_ARCHIVE_ISBN) {
        snprintf(out, cap, "%s/%s", j->src_bck, obj);
    } else {
        snprintf(out, cap, "%s", obj);
    }
}

static int
add_local(struct ab_job *j, struct archive *a, const char *obj, uint64_t digest, const char *mem)
{
    struct st_bck b = {.provider = j->src_prov, .ns = j->src_ns, .name = j->src_bck};
    struct st_obj_md md;
    int fd = -1;
    int rc = st_obj_open(j->t->mp, &b, obj, digest, &fd, &md);
    if (rc != 0) {
        return rc;
    }
    rc = ais_archw_entry(a, mem, md.size, md.mtime_ns / 1000000000);
    uint64_t off = 0;
    while (rc == 0 && off < md.size) {
        size_t want = md.size - off < AB_IO_BYTES ? (size_t)(md.size - off) : AB_IO_BYTES;
        ssize_t k = pread(fd, j->buf, want, (off_t)off);
        if (k <= 0) {
            rc = k < 0 ? -errno : -EIO;
            break;
        }
        rc = ais_archw_data(a, j->buf, (size_t)k);
        off += (uint64_t)k;
    }
    close(fd);
    xa_job_add(j->job, XA_CTR_LOC, 1, md.size);
    return rc == -ENOENT ? -EIO : rc; /* began: a failure now is not "missing" */
}

struct pull {
    struct ab_job *j;
    struct archive *a;
    const char *mem;
    long status;
    int started, rc;
    uint64_t want, got;
    char body[256];
};

static size_t
pull_write(char *p, size_t sz, size_t nit, void *arg)
{
    struct pull *q = arg;
    size_t n = sz * nit;
    if (!q->started && q->status == 0) {
        curl_off_t len = -1;
        curl_easy_getinfo(q->j->h, CURLINFO_RESPONSE_CODE, &q->status);
        curl_easy_getinfo(q->j->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
        if (q->status == 200 && len < 0) {
            q->rc = -EPROTO; /* no length: the member header cannot be written */
            return 0;
        }
        if (q->status == 200) {
            q->want = (uint64_t)len;
            q->rc = ais_archw_entry(q->a, q->mem, q->want, (int64_t)time(NULL));
            q->started = 1;
        }
    }
    if (q->status != 200) {
        size_t l = strlen(q->body), room = sizeof(q->body) - 1 - l;
        memcpy(q->body + l, p, n < room ? n : room);
        q->body[l + (n < room ? n : room)] = '\0';
        return n;
    }
    q->rc = q->rc ? q->rc : ais_archw_data(q->a, p, n);
    q->got += n;
    return q->rc ? 0 : n;
}

static int
add_pulled(struct ab_job *j, struct archive *a, const char *obj, const struct ais_snode *owner,
           const char *mem)
{
    char base[160], enc[AIS_OBJNAME_BYTES_MAX * 3 + 1], url[sizeof(base) + sizeof(enc) + 320];
    ais_snode_url(owner, base, sizeof(base));
    tgt_path_encode(enc, sizeof(enc), obj);
    snprintf(url, sizeof(url), "%s/v1/objects/%s/%s?provider=%s", base, j->src_bck, enc,
             j->src_prov);
    struct pull q = {.j = j, .a = a, .mem = mem};
    curl_easy_reset(j->h);
    curl_easy_setopt(j->h, CURLOPT_URL, url);
    curl_easy_setopt(j->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(j->h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, pull_write);
    curl_easy_setopt(j->h, CURLOPT_WRITEDATA, &q);
    curl_easy_setopt(j->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(j->h, CURLOPT_LOW_SPEED_TIME, AB_GET_TIMEOUT_S);
    CURLcode cc = curl_easy_perform(j->h);
    if (q.status == 0) {
        curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &q.status);
    }
    if (cc == CURLE_OK && q.status == 200 && !q.started) {
        q.rc = ais_archw_entry(a, mem, 0, (int64_t)time(NULL)); /* empty object: no data callback */
        q.started = 1;
    }
    int rc = q.rc;
    if (rc == 0 && cc != CURLE_OK) {
        snprintf(j->why, sizeof(j->why), "GET %s from %s: %s", obj, owner->id,
                 curl_easy_strerror(cc));
        rc = -EIO;
    } else if (rc == 0 && q.status != 200) {
        snprintf(j->why, sizeof(j->why), "GET %s from %s: %ld %s", obj, owner->id, q.status,
                 q.body);
        rc = q.status == 404 ? -ENOENT : -EIO;
    } else if (rc == 0 && q.got != q.want) {
        rc = -EIO;
    }
    if (rc == 0) {
        xa_job_add(j->job, XA_CTR_IN, 1, q.got);
    }
    return q.started && rc == -ENOENT ? -EIO : rc;
}

/*
 * A source of an ais bucket from its owner over nng (rpc obj_read) in pieces of AB_IO_BYTES,
 * each checked to be of the version the first one saw. 0, -ENOENT (missing, nothing written),
 * or an error.
 */
static int
add_read(struct ab_job *j, struct archive *a, const char *obj, const struct ais_snode *owner,
         const char *mem)
{
    char ctrl[160];
    ais_snode_ctrl_url(owner, ctrl, sizeof(ctrl));
    struct rpc_obj_ref ref = {.provider = j->src_prov,
                              .ns = j->src_ns,
                              .bck = j->src_bck,
                              .name = obj,
                              .archpath = "",
                              .off = 0,
                              .len = AB_IO_BYTES};
    uint64_t size = 0;
    int64_t mtime = 0;
    int rc = 0, started = 0;
    do {
        struct rpc_obj_piece p = {.buf = j->buf};
        struct rpc_err err = {0};
        rc = rpc_obj_read(ctrl, (int)AB_GET_TIMEOUT_S * 1000, &ref, 1, &p, &err);
        rc = rc ? rc : p.code;
        if (rc != 0) {
            snprintf(j->why, sizeof(j->why), "read %s from %s: %s", obj, owner->id,
                     err.msg[0] ? err.msg : ais_strerror(rc));
            break;
        }
        if (!started) {
            size = p.size;
            mtime = p.mtime_ns;
            rc = ais_archw_entry(a, mem, size, mtime / 1000000000);
            started = 1;
        } else if (p.size != size || p.mtime_ns != mtime) {
            snprintf(j->why, sizeof(j->why), "%s changed while read from %s", obj, owner->id);
            rc = -ESTALE;
        }
        if (rc == 0 && p.n != (size - ref.off < AB_IO_BYTES ? size - ref.off : AB_IO_BYTES)) {
            rc = -EIO;
        }
        rc = rc || p.n == 0 ? rc : ais_archw_data(a, j->buf, p.n);
        ref.off += p.n;
    } while (rc == 0 && ref.off < size);
    if (rc == 0) {
        xa_job_add(j->job, XA_CTR_IN, 1, size);
    }
    return started && rc == -ENOENT ? -EIO : rc; /* began: a failure now is not "missing" */
}

/* One source into the shard: 0, -ENOENT (missing, nothing written), or an error. */
static int
add_one(struct ab_job *j, struct archive *a, const char *obj)
{
    char mem[AIS_OBJNAME_BYTES_MAX + AIS_BCKNAME_BYTES_MAX + 2];
    uint64_t digest;
    int rc = ais_obj_digest(j->src_prov, j->src_ns, j->src_bck, obj, &digest);
    if (rc != 0) {
        return rc;
    }
    member_name(j, obj, mem, sizeof(mem));
    struct ais_smap *smap = ais_meta_smap(&j->t->meta);
    const struct ais_snode *o = ais_smap_hrw_target(smap, digest);
    struct ais_snode owner;
    int self = o == NULL || strcmp(o->id, j->t->self.id) == 0;
    if (!self) {
        owner = *o;
    }
    ais_smap_unref(smap);
    return self                              ? add_local(j, a, obj, digest, mem)
           : strcmp(j->src_prov, "ais") == 0 ? add_read(j, a, obj, &owner, mem)
                                             : add_pulled(j, a, obj, &owner, mem);
}

/* A missing source under coer: remembered for the job's error text. */
static void
note_skipped(struct ab_job *j, const char *obj)
{
    j->skipped++;
    if (j->errs_len + strlen(obj) + 4 < sizeof(j->errs)) {
        j->errs_len += (size_t)snprintf(j->errs + j->errs_len, sizeof(j->errs) - j->errs_len,
                                        "%s%s", j->errs_len ? ", " : "", obj);
    }
}

/* aate: the existing shard's members, copied as they are. */
static int
copy_existing(struct ab_job *j, struct archive *w, int fd)
{
    struct archive *r = archive_read_new();
    struct archive_entry *e;
    int rc = r == NULL ? -ENOMEM : 0;
    if (rc == 0) {
        archive_read_support_format_all(r);
        archive_read_support_filter_all(r);
        rc = archive_read_open_fd(r, fd, AB_IO_BYTES) == ARCHIVE_OK ? 0 : -EBADMSG;
    }
    while (rc == 0) {
        int h = archive_read_next_header(r, &e);
        if (h == ARCHIVE_EOF) {
            break;
        }
        rc = h == ARCHIVE_OK || h == ARCHIVE_WARN ? 0 : -EBADMSG;
        if (rc == 0 && archive_write_header(w, e) < ARCHIVE_WARN) {
            rc = -EIO;
        }
        for (la_ssize_t k = 1; rc == 0 && k > 0;) {
            k = archive_read_data(r, j->buf, AB_IO_BYTES);
            rc = k < 0 ? -EBADMSG : ais_archw_data(w, j->buf, (size_t)k);
        }
    }
    if (rc == -EBADMSG) {
        snprintf(j->why, sizeof(j->why), "existing shard %s is not a readable archive: %s",
                 j->shard, r ? archive_error_string(r) : "");
    }
    archive_read_free(r);
    return rc;
}

/* ---- the job ---- */

/* Starts the shard's PUT (and, with aate, opens the existing one: *old_fd, *old). */
static int
shard_begin(struct ab_job *j, struct ais_bprops *props, uint64_t digest, int *old_fd,
            struct st_obj_md *old)
{
    struct st_bck b = {.provider = j->dst_prov, .ns = j->dst_ns, .name = j->dst_bck};
    struct ais_bmd *bmd = ais_meta_bmd(&j->t->meta);
    const struct ais_bck_md *k = ais_bmd_find(bmd, j->dst_prov, j->dst_ns, j->dst_bck);
    if (k != NULL) {
        *props = k->props;
    }
    ais_bmd_unref(bmd);
    if (k == NULL) {
        snprintf(j->why, sizeof(j->why), "destination bucket %s does not exist", j->dst_bck);
        return -ENOENT;
    }
    int rc = 0;
    if (j->flags & RPC_ARCHIVE_AATE) {
        rc = st_obj_open(j->t->mp, &b, j->shard, digest, old_fd, old);
        rc = rc == -ENOENT ? 0 : rc;
    }
    struct st_put_opts opts = {
        .cksum_type = props->cksum_type,
        .fsync = ais_config_rt_get(&j->t->cfg->rt.fsync),
        .versioning = props->versioning,
        .copies = ais_bprops_copies(props),
        .if_match = *old_fd >= 0 ? old : NULL,
        .if_absent = (j->flags & RPC_ARCHIVE_AATE) && *old_fd < 0,
    };
    rc = rc ? rc : st_put_begin(j->t->mp, &b, j->shard, digest, &opts, &j->put);
    if (rc == -ENOENT && tgt_bck_dirs_ensure(j->t, &b) == 0) {
        rc = st_put_begin(j->t->mp, &b, j->shard, digest, &opts, &j->put);
    }
    j->ix = rc == 0 ? tgt_arch_put_begin(j->t, &b, j->shard, digest) : NULL;
    return rc;
}

/* Writes every member. 0 or an error with j->why. */
static int
shard_fill(struct ab_job *j, struct archive *a, int old_fd)
{
    int rc = ais_archw_format(a, fmt_ext(j->fmt));
    if (rc == 0 && archive_write_open(a, j, NULL, shard_write, NULL) != ARCHIVE_OK) {
        rc = j->werr ? j->werr : -EIO;
    }
    if (rc == 0 && old_fd >= 0) {
        rc = copy_existing(j, a, old_fd);
    }
    for (size_t i = 0; rc == 0 && i < j->n; i++) {
        if (xa_job_aborted(j->job)) {
            rc = -ECANCELED;
            break;
        }
        rc = add_one(j, a, j->names[i]);
        if (rc == -ENOENT && (j->flags & RPC_ARCHIVE_COER)) {
            note_skipped(j, j->names[i]);
            rc = 0;
        } else if (rc == -ENOENT) {
            snprintf(j->why, sizeof(j->why), "source %s://%s/%s does not exist", j->src_prov,
                     j->src_bck, j->names[i]);
        }
    }
    if (archive_write_close(a) != ARCHIVE_OK && rc == 0) {
        rc = j->werr ? j->werr : -EIO;
    }
    rc = rc ? rc : j->werr;
    return rc;
}

static int
job_run(struct xa_job *job, void *arg)
{
    struct ab_job *j = arg;
    struct ais_bprops props;
    struct st_obj_md old, md;
    uint64_t digest = 0;
    int old_fd = -1;
    j->job = job;
    xa_job_set_total(job, j->n, 0);
    int rc = ais_obj_digest(j->dst_prov, j->dst_ns, j->dst_bck, j->shard, &digest);
    rc = rc ? rc : shard_begin(j, &props, digest, &old_fd, &old);
    struct archive *a = rc == 0 ? archive_write_new() : NULL;
    if (rc == 0 && a == NULL) {
        rc = -ENOMEM;
    }
    rc = rc ? rc : shard_fill(j, a, old_fd);
    archive_write_free(a);
    if (old_fd >= 0) {
        close(old_fd);
    }
    if (rc == 0) {
        rc = st_put_finish(j->put, &md);
        j->put = NULL;
        if (rc == -ESTALE) {
            snprintf(j->why, sizeof(j->why), "shard %s changed while the job ran", j->shard);
        }
    }
    if (rc == 0) {
        tgt_arch_put_finish(j->ix, &md);
        j->ix = NULL;
    }
    if (rc == 0 && props.ec_enabled) {
        struct st_bck b = {.provider = j->dst_prov, .ns = j->dst_ns, .name = j->dst_bck};
        rc = tgt_ec_put(j->t, &b, j->shard, digest, &props, j->why, sizeof(j->why));
    }
    AIS_LOG_INFO("req=archive job=%s shard=%s/%s objs=%zu skipped=%llu err=\"%s\"", xa_job_id(job),
                 j->dst_bck, j->shard, j->n, (unsigned long long)j->skipped,
                 rc ? (j->why[0] ? j->why : ais_strerror(rc)) : "");
    if (rc != 0 && rc != -ECANCELED) {
        xa_job_set_err(job, j->why[0] ? j->why : ais_strerror(rc));
    } else if (rc == 0 && j->skipped > 0) {
        char msg[XA_ERR_BYTES];
        snprintf(msg, sizeof(msg), "skipped %llu missing: %s", (unsigned long long)j->skipped,
                 j->errs);
        xa_job_set_err(job, msg); /* coer: the job finishes, the text names what is missing */
    }
    return rc;
}

static int
copy_args(struct ab_job *j, const struct rpc_objs_args *a)
{
    snprintf(j->src_prov, sizeof(j->src_prov), "%s", a->provider);
    snprintf(j->src_ns, sizeof(j->src_ns), "%s", a->ns ? a->ns : "");
    snprintf(j->src_bck, sizeof(j->src_bck), "%s", a->bck);
    snprintf(j->dst_prov, sizeof(j->dst_prov), "%s", a->dst_provider);
    snprintf(j->dst_ns, sizeof(j->dst_ns), "%s", a->dst_ns ? a->dst_ns : "");
    snprintf(j->dst_bck, sizeof(j->dst_bck), "%s", a->dst_bck);
    snprintf(j->shard, sizeof(j->shard), "%s", a->prepend);
    j->flags = a->flags;
    j->fmt = (a->flags >> RPC_ARCHIVE_FMT_SHIFT) & 0xfu;
    j->names = calloc(a->n ? a->n : 1, sizeof(*j->names));
    for (size_t i = 0; j->names != NULL && i < a->n; i++) {
        if ((j->names[i] = strdup(a->names[i])) == NULL) {
            return -ENOMEM;
        }
        j->n = i + 1;
    }
    j->buf = malloc(AB_IO_BYTES);
    j->h = curl_easy_init();
    return j->names && j->buf && j->h ? 0 : -ENOMEM;
}

int
tgt_arch_bck_start(struct tgt *t, const struct rpc_objs_args *a, struct rpc_err *err)
{
    if (a->job_id == NULL || a->job_id[0] == '\0' || a->dst_bck == NULL ||
        a->dst_provider == NULL || a->prepend == NULL || a->prepend[0] == '\0' || a->n == 0 ||
        a->n > AIS_ARCH_NAMES_MAX || ((a->flags >> RPC_ARCHIVE_FMT_SHIFT) & 0xfu) == 0 ||
        ((a->flags >> RPC_ARCHIVE_FMT_SHIFT) & 0xfu) > RPC_ARCHIVE_FMT_TLZ4) {
        snprintf(err->msg, sizeof(err->msg),
                 "archive: needs a job id, 1 to %u sources, a "
                 "destination and a format",
                 (unsigned)AIS_ARCH_NAMES_MAX);
        return -EINVAL;
    }
    struct ab_job *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        return -ENOMEM;
    }
    j->t = t;
    int rc = copy_args(j, a);
    if (rc != 0) {
        job_free(j);
        return rc;
    }
    char disp[XA_BCK_BYTES];
    ais_bck_display(j->src_prov, j->src_ns, j->src_bck, disp, sizeof(disp));
    rc = xa_job_start_id(t->xreg, a->job_id, AB_KIND, disp, job_run, j, job_free, NULL);
    if (rc != 0) {
        snprintf(err->msg, sizeof(err->msg), "archive: cannot start job %s: %s", a->job_id,
                 ais_strerror(rc));
    }
    return rc;
}
