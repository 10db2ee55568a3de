/*
 * Reads inside shards (target/arch.h).
 *
 * Design notes: every format is walked through one member iterator (arch_it): plain TAR via
 * its member index (name, data offset, size; target/tarix.h), the compressed formats and ZIP
 * via libarchive. One member of a plain TAR is then a sendfile at its offset; anything else is
 * a generated body that reads the member as the edge asks for bytes, so memory stays at a few
 * buffers whatever the shard size. Several members go out as a TAR (as AIS does): the body
 * size must be known up front (the edge sends Content-Length), so the selection is walked
 * twice, first to size it, then to send it. The index is a sidecar file keyed to the object
 * identity; the GET compares the key with the descriptor it serves from, so a shard replaced
 * between open and read is served whole from the old file or scanned anew, never mixed.
 */
#include "target/arch.h"

#include "common/log.h"
#include "storage/sidecar.h"
#include "target/target_int.h"
#include "target/tarix.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARCH_IO_BYTES (256 * 1024)      /* scan reads and libarchive block size */
#define ARCH_IXBUF_BYTES (64 * 1024)    /* index reader/writer buffers */
#define ARCH_PATH_BYTES 4608            /* mountpath + bucket + object name + slack */
#define ARCH_LIST_MAX AIS_LIST_PAGE_MAX /* members in one archlist reply */

enum arch_fmt { AF_NONE, AF_TAR, AF_TGZ, AF_ZIP, AF_TLZ4 };

static int
ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcasecmp(s + n - m, suf) == 0;
}

/* Format from an object name or an archmime value (".tar", "tar.gz", "application/zip"...). */
static enum arch_fmt
fmt_from_name(const char *s)
{
    if (ends_with(s, ".tar.gz") || ends_with(s, ".tgz") || strcasecmp(s, "tgz") == 0 ||
        strcasecmp(s, "tar.gz") == 0 || strcasecmp(s, "application/gzip") == 0 ||
        strcasecmp(s, "application/x-gzip") == 0 || strcasecmp(s, "application/x-tgz") == 0) {
        return AF_TGZ;
    }
    if (ends_with(s, ".tar.lz4") || strcasecmp(s, "tar.lz4") == 0 ||
        strcasecmp(s, "application/x-lz4") == 0) {
        return AF_TLZ4;
    }
    if (ends_with(s, ".zip") || strcasecmp(s, "zip") == 0 ||
        strcasecmp(s, "application/zip") == 0) {
        return AF_ZIP;
    }
    if (ends_with(s, ".tar") || strcasecmp(s, "tar") == 0 ||
        strcasecmp(s, "application/x-tar") == 0) {
        return AF_TAR;
    }
    return AF_NONE;
}

/* Format from the first bytes (names without a known extension, as AIS's MimeFile). */
static enum arch_fmt
fmt_sniff(int fd)
{
    unsigned char b[512];
    ssize_t n = pread(fd, b, sizeof(b), 0);
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
        return AF_TGZ;
    }
    if (n >= 4 && memcmp(b, "PK\3\4", 4) == 0) {
        return AF_ZIP;
    }
    if (n >= 4 && b[0] == 0x04 && b[1] == 0x22 && b[2] == 0x4d && b[3] == 0x18) {
        return AF_TLZ4;
    }
    if (n == 512 && memcmp(b + 257, "ustar", 5) == 0) {
        return AF_TAR;
    }
    return AF_NONE;
}

static void
key_of(const struct st_obj_md *md, struct tgt_tarix_key *k)
{
    memset(k, 0, sizeof(*k));
    k->size = md->size;
    k->mtime_ns = md->mtime_ns;
    k->ino = md->ino;
    snprintf(k->cksum, sizeof(k->cksum), "%s:%s", md->cksum_type, md->cksum_value);
    snprintf(k->version, sizeof(k->version), "%s", md->version);
}

/* ---- index writer: a work file in %wk, renamed to %ix/<obj> ---- */

struct ix_w {
    int fd;
    int err;
    int fsync;    /* disk.fsync: the index is durable before its rename, like the object */
    uint64_t off; /* next write offset (after the header) */
    size_t fill;
    char tmp[ARCH_PATH_BYTES];
    char final[ARCH_PATH_BYTES];
    char buf[ARCH_IXBUF_BYTES];
};

static atomic_uint_fast64_t ix_seq;

static int
ixw_open(const struct st_mpaths *mp, size_t slot, const struct st_bck *bck, const char *obj,
         struct ix_w **out)
{
    struct ix_w *w = malloc(sizeof(*w));
    if (w == NULL) {
        return -ENOMEM;
    }
    int n = st_sidecar_path(mp, slot, bck, ST_DIR_ARCH_IX, obj, w->final, sizeof(w->final));
    int m =
        n < 0 ? n : st_sidecar_path(mp, slot, bck, ST_DIR_WORK_PUB, NULL, w->tmp, sizeof(w->tmp));
    if (m >= 0 && (size_t)m + 48 < sizeof(w->tmp)) {
        snprintf(w->tmp + m, sizeof(w->tmp) - (size_t)m, "/arch-ix.%ld.%" PRIu64, (long)getpid(),
                 (uint64_t)atomic_fetch_add(&ix_seq, 1));
        w->fd = open(w->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        m = w->fd < 0 ? -errno : 0;
    } else if (m >= 0) {
        m = -ENAMETOOLONG;
    }
    if (m < 0) {
        free(w);
        return m;
    }
    w->err = 0;
    w->fsync = 0;
    w->off = TGT_TARIX_HDR_BYTES;
    w->fill = 0;
    *out = w;
    return 0;
}

static int
ixw_flush(struct ix_w *w)
{
    if (w->err == 0 && w->fill > 0) {
        ssize_t k = pwrite(w->fd, w->buf, w->fill, (off_t)w->off);
        if (k != (ssize_t)w->fill) {
            w->err = k < 0 ? -errno : -EIO;
        }
        w->off += w->fill;
    }
    w->fill = 0;
    return w->err;
}

/* tgt_tar_member_fn: appends one record. */
static int
ixw_member(void *arg, const struct tgt_tar_member *m)
{
    struct ix_w *w = arg;
    if (w->fill + TGT_TARIX_REC_BYTES_MAX > sizeof(w->buf) && ixw_flush(w) != 0) {
        return w->err;
    }
    int n = tgt_tarix_rec_encode(m, w->buf + w->fill, sizeof(w->buf) - w->fill);
    if (n < 0) {
        return n;
    }
    w->fill += (size_t)n;
    return 0;
}

static void
ixw_abort(struct ix_w *w)
{
    if (w != NULL) {
        close(w->fd);
        unlink(w->tmp);
        free(w);
    }
}

/* mkdir -p of the parents of path below its %ix dir (a stale file in the way is removed). */
static void
mkparents(char *path)
{
    char *ix = strstr(path, "/" ST_DIR_ARCH_IX "/");
    if (ix == NULL) {
        return;
    }
    for (char *s = ix + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        if (mkdir(path, 0755) < 0 && errno == EEXIST) {
            struct stat st;
            if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode) && unlink(path) == 0) {
                (void)mkdir(path, 0755);
            }
        }
        *s = '/';
    }
}

/*
 * Writes the header for key and publishes the index. Returns a descriptor of the index (the
 * caller's) or a negative errno; frees w either way.
 */
static int
ixw_commit(struct ix_w *w, const struct tgt_tarix_key *k, uint64_t count, int keep_fd)
{
    char hdr[TGT_TARIX_HDR_BYTES];
    int published_only = 0; /* the index is complete; only its rename failed */
    int rc = ixw_flush(w);
    if (rc == 0) {
        rc = tgt_tarix_hdr_encode(k, count, hdr);
    }
    if (rc == 0 && pwrite(w->fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
        rc = -EIO;
    }
    if (rc == 0 && w->fsync && fdatasync(w->fd) != 0) {
        rc = -errno; /* never publish an index that a crash could leave torn */
    }
    if (rc == 0) {
        mkparents(w->final);
        if (rename(w->tmp, w->final) < 0) {
            rc = -errno; /* the index still serves this read from fd */
            published_only = 1;
            unlink(w->tmp);
        }
    } else {
        unlink(w->tmp);
    }
    int fd = w->fd;
    free(w);
    if (!keep_fd) {
        close(fd);
        return rc;
    }
    if (rc < 0 && !published_only) {
        close(fd);
        return rc;
    }
    return fd;
}

/* ---- PUT hook ---- */

struct tgt_arch_put {
    struct ix_w *w;
    struct tgt_tar_parser *p;
    uint32_t slot;
    int failed;
};

struct tgt_arch_put *
tgt_arch_put_begin(struct tgt *t, const struct st_bck *bck, const char *obj, uint64_t digest)
{
    if (!ends_with(obj, ".tar")) {
        return NULL;
    }
    struct tgt_arch_put *ap = calloc(1, sizeof(*ap));
    if (ap == NULL) {
        return NULL;
    }
    ap->slot = (uint32_t)st_mpaths_pick(t->mp, digest);
    if (ixw_open(t->mp, ap->slot, bck, obj, &ap->w) == 0) {
        ap->w->fsync = ais_config_rt_get(&t->cfg->rt.fsync);
    }
    if (ap->w == NULL || tgt_tar_parser_new(ixw_member, ap->w, &ap->p) != 0) {
        tgt_arch_put_abort(ap);
        return NULL;
    }
    return ap;
}

void
tgt_arch_put_feed(struct tgt_arch_put *ap, const void *data, size_t len)
{
    if (ap != NULL && !ap->failed && tgt_tar_parser_feed(ap->p, data, len) != 0) {
        ap->failed = 1; /* not a TAR (or too long a name): the object simply has no index */
    }
}

void
tgt_arch_put_finish(struct tgt_arch_put *ap, const struct st_obj_md *md)
{
    if (ap == NULL) {
        return;
    }
    if (ap->failed || md->mpath_idx != ap->slot || tgt_tar_parser_finish(ap->p) != 0) {
        tgt_arch_put_abort(ap);
        return;
    }
    struct tgt_tarix_key k;
    key_of(md, &k);
    int rc = ixw_commit(ap->w, &k, tgt_tar_parser_count(ap->p), 0);
    if (rc < 0) {
        AIS_LOG_DBG("req=PUT msg=\"tar index not stored\" err=\"%s\"", strerror(-rc));
    }
    ap->w = NULL;
    tgt_arch_put_abort(ap);
}

void
tgt_arch_put_abort(struct tgt_arch_put *ap)
{
    if (ap != NULL) {
        ixw_abort(ap->w);
        tgt_tar_parser_free(ap->p);
        free(ap);
    }
}

/* ---- index lookup and scan ---- */

/* Opens the stored index if it was built for md. fd or negative errno (-ESTALE: other key). */
static int
ix_open_stored(struct tgt *t, const struct st_bck *bck, const char *obj, const struct st_obj_md *md)
{
    char path[ARCH_PATH_BYTES], hdr[TGT_TARIX_HDR_BYTES];
    struct tgt_tarix_key want, have;
    uint64_t count;
    int n = st_sidecar_path(t->mp, md->mpath_idx, bck, ST_DIR_ARCH_IX, obj, path, sizeof(path));
    if (n < 0) {
        return n;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return -errno;
    }
    key_of(md, &want);
    if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
        tgt_tarix_hdr_decode(hdr, &have, &count) != 0 || !tgt_tarix_key_eq(&want, &have)) {
        close(fd);
        return -ESTALE;
    }
    return fd;
}

/* Scans the TAR in fd, storing its index; returns a descriptor of the index or -errno. */
static int
ix_scan(struct tgt *t, const struct st_bck *bck, const char *obj, int fd,
        const struct st_obj_md *md)
{
    struct ix_w *w = NULL;
    struct tgt_tar_parser *p = NULL;
    char *buf = malloc(ARCH_IO_BYTES);
    int rc = buf ? ixw_open(t->mp, md->mpath_idx, bck, obj, &w) : -ENOMEM;
    if (rc == 0) {
        w->fsync = ais_config_rt_get(&t->cfg->rt.fsync);
        rc = tgt_tar_parser_new(ixw_member, w, &p);
    }
    for (uint64_t off = 0; rc == 0 && off < md->size;) {
        ssize_t k = pread(fd, buf, ARCH_IO_BYTES, (off_t)off);
        if (k <= 0) {
            rc = k < 0 ? -errno : -EBADMSG;
            break;
        }
        rc = tgt_tar_parser_feed(p, buf, (size_t)k);
        off += (uint64_t)k;
    }
    if (rc == 0) {
        rc = tgt_tar_parser_finish(p);
    }
    if (rc == 0) {
        struct tgt_tarix_key k;
        key_of(md, &k);
        rc = ixw_commit(w, &k, tgt_tar_parser_count(p), 1);
        w = NULL;
    }
    ixw_abort(w);
    tgt_tar_parser_free(p);
    free(buf);
    return rc;
}

/* ---- member iterator over an index or libarchive ---- */

struct arch_it {
    enum arch_fmt fmt;
    int fd;   /* the object (a dup, owned) */
    int ixfd; /* AF_TAR: the index */
    uint64_t ix_off;
    size_t have, at;
    char *buf; /* AF_TAR: ARCH_IXBUF_BYTES + a record */
    struct archive *a;
    /* current member */
    char name[TGT_TAR_NAME_BYTES_MAX + 1];
    uint64_t off, size, read;
    int hit; /* AF_TAR: the stored index was used */
};

static int
la_open(struct arch_it *it)
{
    if (lseek(it->fd, 0, SEEK_SET) < 0) {
        return -errno;
    }
    it->a = archive_read_new();
    if (it->a == NULL) {
        return -ENOMEM;
    }
    if (it->fmt == AF_ZIP) {
        archive_read_support_format_zip(it->a);
    } else {
        archive_read_support_format_tar(it->a);
        archive_read_support_filter_gzip(it->a);
        archive_read_support_filter_lz4(it->a);
    }
    if (archive_read_open_fd(it->a, it->fd, ARCH_IO_BYTES) != ARCHIVE_OK) {
        archive_read_free(it->a);
        it->a = NULL;
        return -EBADMSG;
    }
    return 0;
}

static void
it_close(struct arch_it *it)
{
    if (it->a != NULL) {
        archive_read_free(it->a);
    }
    if (it->ixfd >= 0) {
        close(it->ixfd);
    }
    if (it->fd >= 0) {
        close(it->fd);
    }
    free(it->buf);
    it->a = NULL;
    it->ixfd = -1;
    it->fd = -1;
    it->buf = NULL;
}

/* Opens the iterator on fd (format fmt). 0 or negative errno (-EBADMSG: not that format). */
static int
it_open(struct tgt *t, struct arch_it *it, enum arch_fmt fmt, int fd, const struct st_bck *bck,
        const char *obj, const struct st_obj_md *md)
{
    memset(it, 0, sizeof(*it));
    it->fmt = fmt;
    it->ixfd = -1;
    it->fd = dup(fd); /* a generated body outlives the GET handler's descriptor */
    if (it->fd < 0) {
        return -errno;
    }
    if (fmt != AF_TAR) {
        int rc = la_open(it);
        if (rc != 0) {
            it_close(it);
        }
        return rc;
    }
    it->buf = malloc(ARCH_IXBUF_BYTES + TGT_TARIX_REC_BYTES_MAX);
    if (it->buf == NULL) {
        it_close(it);
        return -ENOMEM;
    }
    it->ixfd = ix_open_stored(t, bck, obj, md);
    it->hit = it->ixfd >= 0;
    if (it->ixfd < 0) {
        it->ixfd = ix_scan(t, bck, obj, fd, md);
    }
    if (it->ixfd < 0) {
        int rc = it->ixfd;
        it_close(it);
        return rc;
    }
    it->ix_off = TGT_TARIX_HDR_BYTES;
    return 0;
}

static int
it_rewind(struct arch_it *it)
{
    if (it->fmt == AF_TAR) {
        it->ix_off = TGT_TARIX_HDR_BYTES;
        it->have = it->at = 0;
        return 0;
    }
    archive_read_free(it->a);
    it->a = NULL;
    return la_open(it);
}

static int
ix_next(struct arch_it *it)
{
    struct tgt_tar_member m;
    for (int round = 0; round < 2; round++) {
        int n = tgt_tarix_rec_decode(it->buf + it->at, it->have - it->at, &m);
        if (n < 0) {
            return -EBADMSG;
        }
        if (n > 0) {
            memcpy(it->name, m.name, m.name_len);
            it->name[m.name_len] = '\0';
            it->off = m.off;
            it->size = m.size;
            it->at += (size_t)n;
            return 1;
        }
        memmove(it->buf, it->buf + it->at, it->have - it->at);
        it->have -= it->at;
        it->at = 0;
        ssize_t k = pread(it->ixfd, it->buf + it->have, ARCH_IXBUF_BYTES, (off_t)it->ix_off);
        if (k < 0) {
            return -errno;
        }
        if (k == 0) {
            return it->have == 0 ? 0 : -EBADMSG;
        }
        it->have += (size_t)k;
        it->ix_off += (uint64_t)k;
    }
    return -EBADMSG;
}

/* Next regular member: 1 (name, size set), 0 at the end, negative errno. */
static int
it_next(struct arch_it *it)
{
    it->read = 0;
    if (it->fmt == AF_TAR) {
        return ix_next(it);
    }
    struct archive_entry *e;
    for (;;) {
        int rc = archive_read_next_header(it->a, &e);
        if (rc == ARCHIVE_EOF) {
            return 0;
        }
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
            return -EBADMSG;
        }
        const char *name = archive_entry_pathname(e);
        if (archive_entry_filetype(e) != AE_IFREG || name == NULL || name[0] == '\0' ||
            strlen(name) > TGT_TAR_NAME_BYTES_MAX) {
            continue;
        }
        if (!archive_entry_size_is_set(e)) {
            return -ENODATA;
        }
        snprintf(it->name, sizeof(it->name), "%s", name);
        it->size = (uint64_t)archive_entry_size(e);
        return 1;
    }
}

/* Reads the current member's data. Bytes (0 at its end) or negative errno. */
static ssize_t
it_read(struct arch_it *it, char *buf, size_t n)
{
    if (n > it->size - it->read) {
        n = (size_t)(it->size - it->read);
    }
    if (n == 0) {
        return 0;
    }
    ssize_t k = it->fmt == AF_TAR ? pread(it->fd, buf, n, (off_t)(it->off + it->read))
                                  : archive_read_data(it->a, buf, n);
    if (k <= 0) {
        return k < 0 && it->fmt == AF_TAR ? -errno : -EIO;
    }
    it->read += (uint64_t)k;
    return k;
}

/* Member names compare as AIS paths: a leading "./" or "/" does not count. */
static const char *
norm(const char *s)
{
    for (int i = 0; i < 8 && (s[0] == '/' || (s[0] == '.' && s[1] == '/')); i++) {
        s += s[0] == '/' ? 1 : 2;
    }
    return s;
}

/* ---- selection (archregx + archmode) ---- */

enum mmode { MM_REGEXP, MM_PREFIX, MM_SUFFIX, MM_SUBSTR, MM_WDSKEY };

struct matcher {
    enum mmode mode;
    const char *rx;
    int has_re;
    regex_t re;
};

/* 0, or -EINVAL with msg. */
static int
matcher_init(struct matcher *m, const char *rx, const char *mode, char *msg, size_t cap)
{
    static const char *const names[] = {"regexp", "prefix", "suffix", "substr", "wdskey"};
    memset(m, 0, sizeof(*m));
    m->rx = rx;
    m->mode = MM_PREFIX;
    if (mode != NULL && mode[0] != '\0') {
        size_t i = 0;
        while (i < 5 && strcmp(mode, names[i]) != 0) {
            i++;
        }
        if (i == 5) {
            snprintf(msg, cap,
                     "invalid matching mode \"%s\", expecting one of: [regexp prefix "
                     "suffix substr wdskey]",
                     mode);
            return -EINVAL;
        }
        m->mode = (enum mmode)i;
    }
    if (rx[0] == '\0' || strcmp(rx, "*") == 0) {
        m->mode = MM_PREFIX; /* match-all, as AIS */
        m->rx = "";
    }
    if (m->mode == MM_REGEXP) {
        int rc = regcomp(&m->re, rx, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            snprintf(msg, cap, "invalid archregx \"%s\"", rx);
            return -EINVAL;
        }
        m->has_re = 1;
    }
    return 0;
}

static void
matcher_fini(struct matcher *m)
{
    if (m->has_re) {
        regfree(&m->re);
        m->has_re = 0;
    }
}

/* WebDataset key: the path without its extension (of the last component), no leading '/'. */
static int
wds_eq(const char *key, const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash : name, '.');
    size_t n = dot ? (size_t)(dot - name) : strlen(name);
    if (name[0] == '/') {
        name++;
        n--;
    }
    return strlen(key) == n && strncmp(key, name, n) == 0;
}

static int
matcher_do(const struct matcher *m, const char *name)
{
    size_t n = strlen(name), k = strlen(m->rx);
    switch (m->mode) {
    case MM_REGEXP:
        return regexec(&m->re, name, 0, NULL, 0) == 0;
    case MM_PREFIX:
        return strncmp(name, m->rx, k) == 0;
    case MM_SUFFIX:
        return n >= k && strcmp(name + n - k, m->rx) == 0;
    case MM_SUBSTR:
        return strstr(name, m->rx) != NULL;
    default:
        return wds_eq(m->rx, name);
    }
}

/* ---- TAR output of a selection ---- */

#define TAR_BLK 512
#define TAR_NAME_FIELD 100

static uint64_t
round512(uint64_t n)
{
    return (n + TAR_BLK - 1) / TAR_BLK * TAR_BLK;
}

struct multi {
    struct arch_it it;
    struct matcher m;
    int64_t mtime;
    uint64_t total, sent;
    size_t hdr_len, hdr_at;
    uint64_t data_left, pad_left, tail_left;
    int done;
    char hdr[2 * TAR_BLK + TGT_TAR_NAME_BYTES_MAX + TAR_BLK];
};

static void
multi_free(void *arg)
{
    struct multi *x = arg;
    it_close(&x->it);
    matcher_fini(&x->m);
    free(x);
}

/* Advances to the next selected member (header ready) or to the trailer. 0 or -errno. */
static int
multi_advance(struct multi *x)
{
    for (;;) {
        int rc = it_next(&x->it);
        if (rc < 0) {
            return rc;
        }
        if (rc == 0) {
            x->done = 1;
            x->tail_left = 2 * TAR_BLK;
            return 0;
        }
        if (matcher_do(&x->m, x->it.name)) {
            x->hdr_len = tgt_tar_hdr_encode(x->hdr, x->it.name, x->it.size, x->mtime);
            x->hdr_at = 0;
            x->data_left = x->it.size;
            x->pad_left = round512(x->it.size) - x->it.size;
            return 0;
        }
    }
}

static size_t
multi_gen(void *arg, uint64_t pos, char *buf, size_t max)
{
    struct multi *x = arg;
    size_t n = 0;
    if (pos != x->sent) {
        return AIS_GEN_ERR;
    }
    while (n < max) {
        size_t room = max - n, k;
        if (x->hdr_at < x->hdr_len) {
            k = x->hdr_len - x->hdr_at < room ? x->hdr_len - x->hdr_at : room;
            memcpy(buf + n, x->hdr + x->hdr_at, k);
            x->hdr_at += k;
        } else if (x->data_left > 0) {
            ssize_t r = it_read(&x->it, buf + n, x->data_left < room ? (size_t)x->data_left : room);
            if (r <= 0) {
                return AIS_GEN_ERR;
            }
            k = (size_t)r;
            x->data_left -= k;
        } else if (x->pad_left > 0 || x->tail_left > 0) {
            uint64_t *z = x->pad_left > 0 ? &x->pad_left : &x->tail_left;
            k = *z < room ? (size_t)*z : room;
            memset(buf + n, 0, k);
            *z -= k;
        } else if (x->done) {
            break;
        } else if (multi_advance(x) != 0) {
            return AIS_GEN_ERR;
        } else {
            continue;
        }
        n += k;
    }
    x->sent += n;
    return n > 0 ? n : AIS_GEN_ERR;
}

/* ---- one member through a generated body ---- */

static size_t
one_gen(void *arg, uint64_t pos, char *buf, size_t max)
{
    struct arch_it *it = arg;
    if (pos != it->read) {
        return AIS_GEN_ERR;
    }
    ssize_t k = it_read(it, buf, max);
    return k > 0 ? (size_t)k : AIS_GEN_ERR;
}

static void
one_free(void *arg)
{
    struct arch_it *it = arg;
    it_close(it);
    free(it);
}

/* ---- request handling ---- */

struct arch_req {
    struct tgt *t;
    struct ais_req *r;
    const struct st_bck *bck;
    const char *display, *obj;
    int fd;
    const struct st_obj_md *md;
    enum arch_fmt fmt;
};

static const char *
q_nonempty(struct ais_req *r, const char *k)
{
    const char *v = ais_req_query(r, k);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

int
tgt_arch_wanted(struct ais_req *r)
{
    const char *l = q_nonempty(r, "archlist");
    return q_nonempty(r, "archpath") != NULL || q_nonempty(r, "archregx") != NULL ||
           (l != NULL && ais_parse_bool(l) == 1);
}

static void
idx_header(struct ais_req *r, const struct arch_it *it)
{
    ais_resp_header(r, "Ais-Archive-Index", it->fmt != AF_TAR ? "none" : it->hit ? "hit" : "scan");
}

static void
open_err(const struct arch_req *q, int rc)
{
    if (rc == -EBADMSG) {
        ais_resp_err(q->r, 400, "%s/%s: not a valid %s archive", q->display, q->obj,
                     q->fmt == AF_ZIP ? "ZIP" : "TAR");
    } else {
        ais_resp_err(q->r, 500, "%s/%s: failed to read archive: %s", q->display, q->obj,
                     strerror(-rc));
    }
}

/* Finds member want; 1 found (it positioned on it), 0 absent, negative errno. */
static int
it_find(struct arch_it *it, const char *want)
{
    const char *w = norm(want);
    int rc;
    while ((rc = it_next(it)) == 1) {
        if (strcmp(norm(it->name), w) == 0) {
            return 1;
        }
    }
    return rc;
}

/* The cache key of a shard: provider, namespace, bucket and object name. */
static void
shard_key(const struct st_bck *bck, const char *obj, char *out, size_t cap)
{
    snprintf(out, cap, "%s\n%s\n%s\n%s", bck->provider, bck->ns ? bck->ns : "", bck->name, obj);
}

/* A TAR member from the in-memory index: 1 found (*off, *size), 0 absent, -ENOENT not cached. */
static int
ixc_lookup(struct tgt *t, const struct st_bck *bck, const char *obj, const struct st_obj_md *md,
           const char *want, uint64_t *off, uint64_t *size)
{
    char key[ARCH_PATH_BYTES];
    struct tgt_tarix_key k;
    shard_key(bck, obj, key, sizeof(key));
    key_of(md, &k);
    return tgt_ixc_find(t->ixc, key, &k, norm(want), off, size);
}

/*
 * it_find for a TAR, which also caches the whole index it walks (ixcache.h) so that the next
 * read of this shard version is a lookup: 1 found (it positioned on it), 0 absent, -errno.
 */
static int
tar_find(struct tgt *t, struct arch_it *it, const struct st_bck *bck, const char *obj,
         const struct st_obj_md *md, const char *want)
{
    struct tgt_ixc_build *b = tgt_ixc_build_new();
    const char *w = norm(want);
    char name[sizeof(it->name)];
    uint64_t off = 0, size = 0;
    int rc, found = 0;
    while ((rc = it_next(it)) == 1) {
        const char *n = norm(it->name);
        if (b != NULL && tgt_ixc_build_add(b, n, it->off, it->size) != 0) {
            tgt_ixc_build_free(b); /* too big to cache: this walk just finds */
            b = NULL;
        }
        if (!found && strcmp(n, w) == 0) {
            found = 1;
            snprintf(name, sizeof(name), "%s", it->name);
            off = it->off;
            size = it->size;
        }
        if (found && b == NULL) {
            break;
        }
    }
    if (rc >= 0 && b != NULL) {
        char key[ARCH_PATH_BYTES];
        struct tgt_tarix_key k;
        shard_key(bck, obj, key, sizeof(key));
        key_of(md, &k);
        tgt_ixc_insert(t->ixc, key, &k, b);
        b = NULL;
    }
    tgt_ixc_build_free(b);
    if (rc < 0) {
        return rc;
    }
    if (found) {
        snprintf(it->name, sizeof(it->name), "%s", name);
        it->off = off;
        it->size = size;
        it->read = 0;
    }
    return found;
}

static void
get_one(struct arch_req *q, const char *path)
{
    if (q->fmt == AF_TAR) {
        uint64_t off = 0, size = 0;
        int hit = ixc_lookup(q->t, q->bck, q->obj, q->md, path, &off, &size);
        if (hit == 0) {
            ais_resp_err(q->r, 404, "archived file \"%s\" does not exist in %s/%s", path,
                         q->display, q->obj);
            ais_resp_header(q->r, "Ais-Archive-Index", "hit");
            return;
        }
        if (hit == 1) {
            int fd = dup(q->fd);
            int rc = fd < 0 ? -errno : ais_resp_fd(q->r, 200, fd, off, size);
            if (rc != 0) {
                ais_resp_err(q->r, 500, "out of memory");
                return;
            }
            ais_resp_header(q->r, "Ais-Archive-Index", "hit");
            ais_resp_header(q->r, "Content-Type", "application/octet-stream");
            return;
        }
    }
    struct arch_it *it = malloc(sizeof(*it));
    int rc = it ? it_open(q->t, it, q->fmt, q->fd, q->bck, q->obj, q->md) : -ENOMEM;
    if (rc != 0) {
        free(it);
        open_err(q, rc);
        return;
    }
    rc = q->fmt == AF_TAR ? tar_find(q->t, it, q->bck, q->obj, q->md, path) : it_find(it, path);
    if (rc <= 0) {
        if (rc == 0) {
            ais_resp_err(q->r, 404, "archived file \"%s\" does not exist in %s/%s", path,
                         q->display, q->obj);
        } else {
            open_err(q, rc);
        }
        idx_header(q->r, it);
        one_free(it);
        return;
    }
    if (q->fmt == AF_TAR) {
        int fd = dup(q->fd);
        rc = fd < 0 ? -errno : ais_resp_fd(q->r, 200, fd, it->off, it->size);
        if (rc == 0) {
            idx_header(q->r, it);
        }
        one_free(it);
    } else {
        struct arch_it *keep = it;
        rc = ais_resp_gen(q->r, 200, it->size, one_gen, it, one_free);
        if (rc == 0) {
            idx_header(q->r, keep);
        }
    }
    if (rc != 0) {
        ais_resp_err(q->r, 500, "out of memory");
        return;
    }
    ais_resp_header(q->r, "Content-Type", "application/octet-stream");
}

/* First pass: bytes of the TAR holding the selection, and how many members. */
static int
multi_size(struct multi *x, uint64_t *count)
{
    int rc;
    uint64_t total = 0, n = 0;
    while ((rc = it_next(&x->it)) == 1) {
        if (matcher_do(&x->m, x->it.name)) {
            total += tgt_tar_hdr_bytes(strlen(x->it.name)) + round512(x->it.size);
            n++;
        }
    }
    x->total = total + 2 * TAR_BLK;
    *count = n;
    return rc < 0 ? rc : it_rewind(&x->it);
}

static void
get_multi(struct arch_req *q, const char *rx, const char *mode)
{
    char msg[256];
    uint64_t count = 0;
    struct multi *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        ais_resp_err(q->r, 500, "out of memory");
        return;
    }
    x->it.ixfd = -1;
    x->it.fd = -1;
    if (matcher_init(&x->m, rx, mode, msg, sizeof(msg)) != 0) {
        ais_resp_err(q->r, 400, "%s", msg);
        multi_free(x);
        return;
    }
    x->mtime = q->md->mtime_ns / 1000000000;
    int rc = it_open(q->t, &x->it, q->fmt, q->fd, q->bck, q->obj, q->md);
    if (rc == 0) {
        rc = multi_size(x, &count);
    }
    if (rc != 0 || count == 0) {
        if (rc == 0) {
            ais_resp_err(q->r, 404, "%s \"%s\" in %s/%s: no matching archived files",
                         x->m.mode == MM_REGEXP ? "regexp"
                         : mode && mode[0]      ? mode
                                                : "prefix",
                         rx, q->display, q->obj);
        } else {
            open_err(q, rc);
        }
        multi_free(x);
        return;
    }
    int hit = x->it.hit;
    enum arch_fmt fmt = x->it.fmt;
    if (ais_resp_gen(q->r, 200, x->total, multi_gen, x, multi_free) != 0) {
        ais_resp_err(q->r, 500, "out of memory");
        return;
    }
    ais_resp_header(q->r, "Content-Type", "application/x-tar");
    ais_resp_header(q->r, "Ais-Archive-Index", fmt != AF_TAR ? "none" : hit ? "hit" : "scan");
}

/* archlist=true: the shard and its members as list-objects entries (LsoRes shape). */
static void
get_list(struct arch_req *q)
{
    char num[32], name[AIS_OBJNAME_BYTES_MAX + TGT_TAR_NAME_BYTES_MAX + 2];
    struct arch_it it;
    int rc = it_open(q->t, &it, q->fmt, q->fd, q->bck, q->obj, q->md);
    if (rc != 0) {
        open_err(q, rc);
        return;
    }
    json_t *arr = json_array(), *o;
    snprintf(num, sizeof(num), "%" PRIu64, q->md->size);
    /* flags: 64 cached, 128 in-archive, 512 is-archive (api.md §2.1) */
    json_array_append_new(
        arr, json_pack("{s:s, s:s, s:i}", "name", q->obj, "size", num, "flags", 64 | 512));
    size_t n = 0;
    int truncated = 0;
    while ((rc = it_next(&it)) == 1) {
        if (n++ >= ARCH_LIST_MAX) {
            truncated = 1;
            break;
        }
        snprintf(name, sizeof(name), "%s/%s", q->obj, it.name);
        snprintf(num, sizeof(num), "%" PRIu64, it.size);
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:i}", "name", name, "size", num, "flags", 64 | 128));
    }
    if (rc < 0) {
        json_decref(arr);
        open_err(q, rc);
        it_close(&it);
        return;
    }
    o = json_pack("{s:s, s:s, s:o, s:i, s:b}", "uuid", "", "continuation_token", "", "entries", arr,
                  "flags", 0, "truncated", truncated);
    if (o == NULL) {
        ais_resp_err(q->r, 500, "out of memory");
    } else {
        ais_resp_json(q->r, 200, o);
        idx_header(q->r, &it);
    }
    json_decref(o);
    it_close(&it);
}

/* HEAD with archpath: the member's size as Content-Length, no body; 404 as the GET. */
static void
head_one(struct arch_req *q, const char *path)
{
    struct arch_it it;
    int rc = it_open(q->t, &it, q->fmt, q->fd, q->bck, q->obj, q->md);
    if (rc != 0) {
        open_err(q, rc);
        return;
    }
    rc = it_find(&it, path);
    if (rc == 1) {
        ais_resp_head(q->r, 200, it.size);
        ais_resp_header(q->r, "Content-Type", "application/octet-stream");
    } else if (rc == 0) {
        ais_resp_err(q->r, 404, "archived file \"%s\" does not exist in %s/%s", path, q->display,
                     q->obj);
    } else {
        open_err(q, rc);
    }
    idx_header(q->r, &it);
    it_close(&it);
}

void
tgt_arch_get(struct tgt *t, struct ais_req *r, const struct st_bck *bck, const char *display,
             const char *obj, int fd, const struct st_obj_md *md)
{
    struct arch_req q = {t, r, bck, display, obj, fd, md, AF_NONE};
    const char *mime = q_nonempty(r, "archmime");
    const char *path = q_nonempty(r, "archpath");
    const char *rx = ais_req_query(r, "archregx");
    q.fmt = mime != NULL ? fmt_from_name(mime) : fmt_from_name(obj);
    if (q.fmt == AF_NONE && mime == NULL) {
        q.fmt = fmt_sniff(fd);
    }
    if (q.fmt == AF_NONE) {
        ais_resp_err(r, 400,
                     "%s/%s: unknown archive format%s%s (expecting .tar, .tgz, .tar.gz, "
                     ".zip or .tar.lz4)",
                     display, obj, mime ? " " : "", mime ? mime : "");
    } else if (path != NULL && rx != NULL && rx[0] != '\0') {
        ais_resp_err(r, 400, "archpath and archregx are mutually exclusive");
    } else if (path != NULL && ais_req_is(r, "HEAD")) {
        head_one(&q, path);
    } else if (path != NULL) {
        get_one(&q, path);
    } else if (rx != NULL && rx[0] != '\0') {
        get_multi(&q, rx, ais_req_query(r, "archmode"));
    } else {
        get_list(&q);
    }
    close(fd);
}

void
tgt_arch_forget(struct tgt *t, const struct st_bck *bck, const char *obj)
{
    char path[PATH_MAX];
    for (size_t slot = 0; /* any name may have one: archmime reads index other names too */ slot <
                          st_mpaths_count(t->mp);
         slot++) {
        if (st_sidecar_path(t->mp, slot, bck, ST_DIR_ARCH_IX, obj, path, sizeof(path)) > 0) {
            (void)unlink(path); /* ENOENT: never indexed there */
        }
    }
}

int
tgt_arch_read(struct tgt *t, const struct st_bck *bck, const char *obj, int fd,
              const struct st_obj_md *md, const char *path, uint64_t off, void *buf, size_t len,
              uint64_t *size, size_t *got)
{
    enum arch_fmt fmt = fmt_from_name(obj);
    if (fmt == AF_NONE) {
        fmt = fmt_sniff(fd);
    }
    if (fmt == AF_NONE) {
        return -EINVAL;
    }
    uint64_t moff = 0, msize = 0;
    int hit = fmt == AF_TAR ? ixc_lookup(t, bck, obj, md, path, &moff, &msize) : -ENOENT;
    if (hit == 0) {
        return -ENOENT;
    }
    if (hit == 1) { /* a TAR read before: one lookup, then preads */
        size_t n = 0;
        while (n < len && off + n < msize) {
            uint64_t left = msize - off - n;
            ssize_t k = pread(fd, (char *)buf + n, left < len - n ? (size_t)left : len - n,
                              (off_t)(moff + off + n));
            if (k <= 0) {
                return k < 0 ? -errno : -EIO;
            }
            n += (size_t)k;
        }
        *size = msize;
        *got = n;
        return 0;
    }
    struct arch_it *it = malloc(sizeof(*it));
    int rc = it ? it_open(t, it, fmt, fd, bck, obj, md) : -ENOMEM;
    if (rc != 0) {
        free(it);
        return rc;
    }
    rc = fmt == AF_TAR ? tar_find(t, it, bck, obj, md, path) : it_find(it, path);
    if (rc <= 0) {
        one_free(it);
        return rc == 0 ? -ENOENT : rc;
    }
    rc = 0;
    size_t n = 0;
    if (len > 0 && off < it->size) {
        if (fmt == AF_TAR) {
            it->read = off; /* TAR: a pread at the member's offset */
        }
        char *skip = it->read < off ? malloc(ARCH_IO_BYTES) : NULL;
        rc = it->read < off && skip == NULL ? -ENOMEM : 0;
        while (rc == 0 && it->read < off) {
            uint64_t left = off - it->read;
            ssize_t k = it_read(it, skip, left < ARCH_IO_BYTES ? (size_t)left : ARCH_IO_BYTES);
            rc = k > 0 ? 0 : k < 0 ? (int)k : -EIO;
        }
        free(skip);
        while (rc == 0 && n < len && it->read < it->size) {
            ssize_t k = it_read(it, (char *)buf + n, len - n);
            rc = k > 0 ? 0 : k < 0 ? (int)k : -EIO;
            n += k > 0 ? (size_t)k : 0;
        }
    }
    if (rc == 0) {
        *size = it->size;
        *got = n;
    }
    one_free(it);
    return rc;
}

int
tgt_arch_name_is(const char *obj)
{
    return fmt_from_name(obj) != AF_NONE;
}

int
tgt_arch_members(struct tgt *t, const struct st_bck *bck, const char *obj, int fd,
                 const struct st_obj_md *md, tgt_arch_member_fn fn, void *ctx)
{
    struct arch_it it;
    enum arch_fmt fmt = fmt_from_name(obj); /* by extension only, as AIS's list (no sniffing) */
    if (fmt == AF_NONE) {
        return -ENOTSUP;
    }
    int rc = it_open(t, &it, fmt, fd, bck, obj, md);
    if (rc != 0) {
        return rc;
    }
    while ((rc = it_next(&it)) == 1) {
        const char *name = norm(it.name);
        if (name[0] != '\0' && (rc = fn(ctx, name, it.size)) != 0) {
            break;
        }
    }
    it_close(&it);
    return rc;
}
