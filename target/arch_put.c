/*
 * Append to a TAR shard (target/archw.h): PUT /v1/objects/<b>/<shard>?archpath=NAME.
 *
 * Design notes: AIS appends in place (the object renamed to a work file, the member written
 * over the end blocks, renamed back), which leaves a torn shard after a crash mid-append. Here
 * the new shard is a new file, built like any PUT in a storage work file and published by
 * rename, so a reader (and a crash) sees the old shard or the new one, never a mix. The body is
 * first spooled to a work file (its size goes into the member header, and a chunked body has no
 * length up front); then, in the done callback, the old shard is copied through the TAR parser
 * up to its first end-of-archive block (the parser says where that is and refuses a body that
 * is not a TAR), the member header, the spooled bytes, the padding and two zero blocks follow.
 * Every byte of the new shard passes the index builder of target/arch.c on the way, so the
 * member index is rebuilt for the new file in the same pass and keyed to it (never stale).
 * Concurrency: appends to one shard on this target are serialised by a striped mutex (appends
 * only: GETs of the shard never wait); a concurrent plain PUT or DELETE is detected at publish
 * under the object's exclusive lock (st_put_opts.if_match / if_absent: -ESTALE), and the
 * append then starts over from the new object, at most AP_RETRIES times.
 * Cost: a copy of the shard per append (page cache warm from the copy's read), the price of
 * never tearing it.
 */
#include "common/assert.h"
#include "common/err.h"
#include "common/log.h"
#include "common/names.h"
#include "common/util.h"
#include "target/arch.h"
#include "target/archw.h"
#include "target/target_int.h"
#include "target/tarix.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define AP_STRIPES 64 /* append serialisation: one mutex per stripe of name digests */
#define AP_RETRIES 8  /* starts over after a concurrent PUT/DELETE replaced the shard */
#define AP_IO_BYTES (256u << 10)
#define AP_FLAG_APPEND 1        /* apc.ArchAppend: the shard must exist */
#define AP_FLAG_IF_EXISTS 2     /* apc.ArchAppendIfExist: append, or create a new shard */
#define AP_HDR_FLAGS "Ais-Pine" /* apc.HdrPutApndArchFlags */

static pthread_mutex_t ap_mu[AP_STRIPES];
static pthread_once_t ap_once = PTHREAD_ONCE_INIT;

static void
ap_mu_init(void)
{
    for (size_t i = 0; i < AP_STRIPES; i++) {
        int rc = pthread_mutex_init(&ap_mu[i], NULL);
        AIS_ASSERT(rc == 0);
    }
}

struct ap_ctx {
    struct tgt *t;
    struct ais_objref ref;
    struct ais_bprops props;
    struct st_bck bck; /* points into ref */
    char member[TGT_TAR_NAME_BYTES_MAX + 1];
    int flags;
    struct st_put *spool; /* the body; aborted (removed) at cleanup */
    uint64_t size;        /* body bytes */
    size_t fill;
    char *buf; /* AP_IO_BYTES */
};

/* The member name: archpath without a leading "<shard name>/" (as AIS). NULL or why not. */
static const char *
member_name(const char *archpath, const char *obj, char *out, size_t cap)
{
    size_t ol = strlen(obj);
    if (strncmp(archpath, obj, ol) == 0 && archpath[ol] == '/' && archpath[ol + 1] != '\0') {
        archpath += ol + 1;
    }
    size_t n = strlen(archpath);
    const char *why = NULL;
    if (n == 0) {
        return "archpath is empty";
    }
    if (n >= cap || n > TGT_TAR_NAME_BYTES_MAX) {
        return "archpath is too long";
    }
    if (archpath[n - 1] == '/') {
        return "archpath names a directory (ends with '/')";
    }
    if (ais_obj_name_check(archpath, n, &why) != 0) {
        return why;
    }
    memcpy(out, archpath, n + 1);
    return NULL;
}

/* 1 for a name or archmime that means TAR, 0 for another archive format, -1 for none. */
static int
is_tar(const char *mime, const char *obj)
{
    static const char *const other[] = {".tgz", ".tar.gz", ".zip", ".tar.lz4", ".lz4",
                                        "tgz",  "tar.gz",  "zip",  "tar.lz4"};
    const char *s = mime != NULL && mime[0] ? mime : obj;
    size_t n = strlen(s);
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        size_t m = strlen(other[i]);
        if (n >= m && strcasecmp(s + n - m, other[i]) == 0) {
            return 0;
        }
    }
    if (strcasecmp(s, "application/x-tar") == 0 || strcasecmp(s, "tar") == 0 ||
        (n >= 4 && strcasecmp(s + n - 4, ".tar") == 0)) {
        return 1;
    }
    return -1;
}

/* ---- building the new shard ---- */

/* Writes to the new shard and feeds its index. */
static int
out_write(struct st_put *put, struct tgt_arch_put *ix, const void *p, size_t n)
{
    tgt_arch_put_feed(ix, p, n);
    return st_put_write(put, p, n);
}

static int
no_member(void *arg, const struct tgt_tar_member *m)
{
    (void)arg;
    (void)m;
    return 0;
}

/*
 * Copies the old shard (fd, size bytes) up to its first end-of-archive block. 0, -EBADMSG (not
 * a TAR, or truncated), -ENAMETOOLONG (a name the parser refuses), errno.
 */
static int
copy_old(int fd, uint64_t size, struct st_put *put, struct tgt_arch_put *ix, char *buf)
{
    struct tgt_tar_parser *p = NULL;
    int rc = tgt_tar_parser_new(no_member, NULL, &p);
    uint64_t off = 0, end = UINT64_MAX;
    while (rc == 0 && off < size && end == UINT64_MAX) {
        size_t want = size - off < AP_IO_BYTES ? (size_t)(size - off) : AP_IO_BYTES;
        ssize_t k = pread(fd, buf, want, (off_t)off);
        if (k <= 0) {
            rc = k < 0 ? -errno : -EBADMSG; /* shorter than its metadata says */
            break;
        }
        rc = tgt_tar_parser_feed(p, buf, (size_t)k);
        uint64_t e = rc == 0 ? tgt_tar_parser_end(p) : UINT64_MAX;
        /* The end marker inside this piece: copy only what precedes it. */
        size_t keep = (size_t)k;
        if (e != UINT64_MAX && e >= off && e < off + (uint64_t)k) {
            keep = (size_t)(e - off);
            end = e;
        }
        rc = rc ? rc : out_write(put, ix, buf, keep);
        off += (uint64_t)k;
    }
    if (rc == 0 && end == UINT64_MAX) {
        rc = tgt_tar_parser_finish(p); /* no end blocks: must end on a header boundary */
    }
    tgt_tar_parser_free(p);
    return rc;
}

/* The member: header, the spooled body, padding, then the two end-of-archive blocks. */
static int
write_member(struct ap_ctx *c, struct st_put *put, struct tgt_arch_put *ix)
{
    size_t hn = tgt_tar_hdr_bytes(strlen(c->member));
    char *hdr = malloc(hn);
    if (hdr == NULL) {
        return -ENOMEM;
    }
    tgt_tar_hdr_encode(hdr, c->member, c->size, (int64_t)time(NULL));
    int rc = out_write(put, ix, hdr, hn);
    free(hdr);
    int sfd = st_put_fd(c->spool);
    for (uint64_t off = 0; rc == 0 && off < c->size;) {
        size_t want = c->size - off < AP_IO_BYTES ? (size_t)(c->size - off) : AP_IO_BYTES;
        ssize_t k = pread(sfd, c->buf, want, (off_t)off);
        if (k <= 0) {
            rc = k < 0 ? -errno : -EIO;
            break;
        }
        rc = out_write(put, ix, c->buf, (size_t)k);
        off += (uint64_t)k;
    }
    size_t tail = (size_t)((512 - c->size % 512) % 512) + 1024;
    memset(c->buf, 0, tail);
    return rc ? rc : out_write(put, ix, c->buf, tail);
}

/*
 * One attempt: reads the current shard (if any), builds and publishes the new one. 0 with *md,
 * -ESTALE (replaced meanwhile: try again), -ENOENT (no shard and the flags require one),
 * -EBADMSG (not a TAR), errno.
 */
static int
append_once(struct ap_ctx *c, struct st_obj_md *md)
{
    struct tgt *t = c->t;
    struct st_obj_md old;
    int fd = -1, create = c->flags == 0;
    int rc = create ? 0 : st_obj_open(t->mp, &c->bck, c->ref.obj, c->ref.digest, &fd, &old);
    if (rc == -ENOENT && c->flags != AP_FLAG_APPEND) {
        create = 1;
        rc = 0;
    }
    if (rc != 0) {
        return rc;
    }
    struct st_put_opts opts = {
        .cksum_type = c->props.cksum_type,
        .fsync = ais_config_rt_get(&t->cfg->rt.fsync),
        .versioning = c->props.versioning,
        .copies = ais_bprops_copies(&c->props),
        .if_match = fd >= 0 ? &old : NULL,
        .if_absent = create && c->flags != 0,
    };
    struct st_put *put = NULL;
    rc = st_put_begin(t->mp, &c->bck, c->ref.obj, c->ref.digest, &opts, &put);
    struct tgt_arch_put *ix =
        rc == 0 ? tgt_arch_put_begin(t, &c->bck, c->ref.obj, c->ref.digest) : NULL;
    if (rc == 0 && fd >= 0) {
        rc = copy_old(fd, old.size, put, ix, c->buf);
    }
    if (fd >= 0) {
        close(fd);
    }
    rc = rc ? rc : write_member(c, put, ix);
    if (rc != 0) {
        st_put_abort(put);
        tgt_arch_put_abort(ix);
        return rc;
    }
    rc = st_put_finish(put, md);
    if (rc != 0) {
        tgt_arch_put_abort(ix);
        return rc;
    }
    if (ix != NULL) {
        tgt_arch_put_finish(ix, md); /* keyed to the new file */
    } else {
        tgt_arch_forget(t, &c->bck, c->ref.obj); /* not a *.tar name: no index to keep */
    }
    return 0;
}

static void
append_reply(struct ais_req *r, struct ap_ctx *c, int rc, const struct st_obj_md *md)
{
    const char *d = c->ref.display, *o = c->ref.obj;
    switch (rc) {
    case 0:
        ais_resp_empty(r, 200);
        ais_resp_header(r, "Ais-Checksum-Type", md->cksum_type);
        ais_resp_header(r, "Ais-Checksum-Value", md->cksum_value);
        ais_resp_header(r, "Ais-Version", md->version);
        return;
    case -ENOENT:
        ais_resp_err(r, 404,
                     "append to archive %s/%s: shard does not exist (send %s: 2 to create "
                     "it)",
                     d, o, AP_HDR_FLAGS);
        return;
    case -EBADMSG:
    case -ENAMETOOLONG:
        ais_resp_err(r, 400, "append to archive %s/%s: the object is not a valid TAR (%s)", d, o,
                     ais_strerror(rc));
        return;
    case -ESTALE:
        ais_resp_err(r, 503,
                     "append to archive %s/%s: the shard kept changing under concurrent "
                     "writes; retry",
                     d, o);
        return;
    case -ENOTDIR:
    case -EISDIR:
        ais_resp_err(r, 409, "append to archive %s/%s: name conflicts with an existing %s", d, o,
                     rc == -EISDIR ? "virtual directory" : "object");
        return;
    default:
        ais_resp_err(r, ais_http_status(rc), "append to archive %s/%s: %s", d, o, ais_strerror(rc));
    }
}

/* ---- the request ---- */

static int
spool_data(struct ais_req *r, const char *data, size_t len, void *arg)
{
    struct ap_ctx *c = arg;
    int rc = 0;
    c->size += len;
    if (c->fill + len > AP_IO_BYTES) {
        rc = st_put_write(c->spool, c->buf, c->fill);
        c->fill = 0;
    }
    if (rc == 0 && len > AP_IO_BYTES) {
        rc = st_put_write(c->spool, data, len);
    } else if (rc == 0) {
        memcpy(c->buf + c->fill, data, len);
        c->fill += len;
    }
    if (rc != 0) {
        tgt_fshc_kick(c->t, rc);
        ais_resp_err(r, ais_http_status(rc), "append to archive %s/%s: write failed: %s",
                     c->ref.display, c->ref.obj, ais_strerror(rc));
    }
    return rc;
}

static void
spool_done(struct ais_req *r, void *arg)
{
    struct ap_ctx *c = arg;
    struct tgt *t = c->t;
    struct st_obj_md md;
    int64_t t0 = ais_mono_ns();
    int rc = c->fill ? st_put_write(c->spool, c->buf, c->fill) : 0;
    c->fill = 0;
    pthread_mutex_t *mu = &ap_mu[(c->ref.digest * 0x9e3779b97f4a7c15ull) >> 58];
    pthread_mutex_lock(mu);
    for (int i = 0; rc == 0 && i <= AP_RETRIES; i++) {
        rc = append_once(c, &md);
        if (rc != -ESTALE || i == AP_RETRIES) {
            break;
        }
        AIS_LOG_DBG("req=PUT obj=%s/%s msg=\"shard replaced during append: again\" try=%d",
                    c->ref.display, c->ref.obj, i + 1);
        rc = 0;
    }
    pthread_mutex_unlock(mu);
    if (rc == 0 && c->props.ec_enabled) {
        char msg[384];
        rc = tgt_ec_put(t, &c->bck, c->ref.obj, c->ref.digest, &c->props, msg, sizeof(msg));
        if (rc != 0) {
            ais_resp_err(r, 503,
                         "append to archive %s/%s: stored, but not protected by erasure "
                         "coding: %s",
                         c->ref.display, c->ref.obj, msg);
            return;
        }
    }
    if (rc != 0) {
        ais_stats_add(&t->stats, AIS_STAT_ERR_PUT_N, 1);
        AIS_LOG_DBG("req=PUT obj=%s/%s archpath=\"%s\" err=\"%s\"", c->ref.display, c->ref.obj,
                    c->member, ais_strerror(rc));
    } else {
        ais_stats_add(&t->stats, AIS_STAT_PUT_N, 1);
        ais_stats_add(&t->stats, AIS_STAT_PUT_SIZE, (int64_t)c->size);
        ais_stats_add(&t->stats, AIS_STAT_PUT_NS, ais_mono_ns() - t0);
    }
    append_reply(r, c, rc, &md);
}

static void
spool_cleanup(struct ais_req *r, void *arg, int ok)
{
    (void)r;
    (void)ok;
    struct ap_ctx *c = arg;
    st_put_abort(c->spool);
    free(c->buf);
    free(c);
}

/* Validates the request; 0, or an HTTP status with msg. */
static int
append_check(struct ais_req *r, struct ap_ctx *c, char *msg, size_t cap)
{
    const char *why =
        member_name(ais_req_query(r, "archpath"), c->ref.obj, c->member, sizeof(c->member));
    const char *fl = ais_req_header(r, AP_HDR_FLAGS);
    char *end = NULL;
    long v = fl != NULL ? strtol(fl, &end, 10) : 0;
    int tar = is_tar(ais_req_query(r, "archmime"), c->ref.obj);
    if (why != NULL) {
        snprintf(msg, cap, "append to archive %s/%s: invalid archpath: %s", c->ref.display,
                 c->ref.obj, why);
        return 400;
    }
    if (fl != NULL && (end == fl || *end != '\0' || v < 0 || v > 3)) {
        snprintf(msg, cap,
                 "append to archive %s/%s: invalid flags %s: \"%.32s\" (1: append, 2: "
                 "append or create)",
                 c->ref.display, c->ref.obj, AP_HDR_FLAGS, fl);
        return 400;
    }
    if (tar != 1) {
        snprintf(msg, cap, "append to archive %s/%s: %s", c->ref.display, c->ref.obj,
                 tar == 0 ? "only TAR shards (.tar) can be appended to; .tgz, .zip and .tar.lz4 "
                            "are not supported"
                          : "not an archive name (use a .tar name or archmime=.tar)");
        return tar == 0 ? 501 : 400;
    }
    if (strcmp(c->ref.provider, "ais") != 0) {
        snprintf(msg, cap, "append to archive %s/%s: supported in ais:// buckets only",
                 c->ref.display, c->ref.obj);
        return 501;
    }
    if (sp_put_check(c->t->space, c->ref.digest, msg, cap) != 0) {
        return 507;
    }
    c->flags = (int)v;
    return 0;
}

void
tgt_arch_append(struct tgt *t, struct ais_req *r, const struct ais_objref *ref,
                const struct ais_bprops *props)
{
    char msg[600];
    pthread_once(&ap_once, ap_mu_init);
    struct ap_ctx *c = calloc(1, sizeof(*c));
    char *buf = c != NULL ? malloc(AP_IO_BYTES) : NULL;
    if (buf == NULL) {
        free(c);
        ais_resp_err(r, 500, "out of memory");
        return;
    }
    *c = (struct ap_ctx){.t = t, .ref = *ref, .props = *props, .buf = buf};
    c->bck = (struct st_bck){.provider = c->ref.provider, .ns = c->ref.ns, .name = c->ref.bck};
    int st = append_check(r, c, msg, sizeof(msg));
    struct st_put_opts spool = {.cksum_type = "none"};
    int rc = st ? 0 : st_put_begin(t->mp, &c->bck, c->ref.obj, c->ref.digest, &spool, &c->spool);
    if (rc == -ENOENT && tgt_bck_dirs_ensure(t, &c->bck) == 0) {
        rc = st_put_begin(t->mp, &c->bck, c->ref.obj, c->ref.digest, &spool, &c->spool);
    }
    if (st == 0 && rc != 0) {
        st = ais_http_status(rc);
        snprintf(msg, sizeof(msg), "append to archive %.200s/%.300s: %s", ref->display, ref->obj,
                 ais_strerror(rc));
    }
    if (st != 0) {
        ais_stats_add(&t->stats, AIS_STAT_ERR_PUT_N, 1);
        free(c->buf);
        free(c);
        ais_resp_err(r, st, "%s", msg);
        return;
    }
    ais_req_body_stream(r, spool_data, spool_done, spool_cleanup, c);
}
