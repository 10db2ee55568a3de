/*
 * Design notes: promote (api.md: POST /v1/objects/<bck> {"action":"promote"}), the target's
 * half. Files that already sit on a target machine become objects: one regular file = one
 * object named <obj prefix><path relative to the source dir> (a single file: obj itself, or
 * prefix + its base name). The gateway first asks every target to scan the source
 * ("promote-scan": how many files, their bytes, and an order-independent digest of names and
 * sizes; names that cannot be object names are refused there, before anything is stored);
 * when several targets see identical content it is a file share and each target promotes only
 * the names HRW gives it, else each target promotes every file it sees. Then "promote" starts
 * this target's part of the cluster-wide job. Each file goes in through the owner's ordinary
 * PUT (HTTP, this target included), so checksums, mirroring, EC and the metadata cache
 * behave exactly as for a client's PUT, and an object appears only complete. Sources must
 * resolve (realpath) under promote.root; symbolic links and other non-regular files are
 * skipped, never followed. Without overwrite an existing object is kept (HEAD first); with
 * delete-source a file is removed only after its object was stored.
 */
#include "common/err.h"
#include "common/hrw.h"
#include "common/log.h"
#include "common/names.h"
#include "target/target_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define PROMOTE_KIND "promote"
#define PROMOTE_TIMEOUT_S 300L /* a PUT that moves no byte this long fails */

/* One walk over the source: its resolved path and how names are formed. */
struct prm_src {
    char path[PATH_MAX]; /* realpath of the source */
    int is_dir;
    unsigned flags;     /* RPC_PROMOTE_* */
    const char *prefix; /* destination name (a file) or prefix */
};

/* Resolves src under promote.root; 0 or negative errno with why. */
static int
src_open(const struct tgt *t, const char *src, struct prm_src *s, char *why, size_t cap)
{
    const char *root = t->cfg->promote_root;
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/') {
        rl--;
    }
    if (realpath(src, s->path) == NULL) {
        int e = errno;
        snprintf(why, cap, "promote: %.160s: %s", src, strerror(e));
        return -e;
    }
    int under =
        rl == 1 || (strncmp(s->path, root, rl) == 0 && (s->path[rl] == '\0' || s->path[rl] == '/'));
    if (!under) {
        snprintf(why, cap, "promote: %.100s is not under promote.root %.100s", src, root);
        return -EACCES;
    }
    struct stat st;
    if (stat(s->path, &st) != 0) {
        int e = errno;
        snprintf(why, cap, "promote: %.160s: %s", src, strerror(e));
        return -e;
    }
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
        snprintf(why, cap, "promote: %.160s is neither a regular file nor a directory", src);
        return -EINVAL;
    }
    s->is_dir = S_ISDIR(st.st_mode);
    return 0;
}

/* The object name of file path (under s): 0, or AIS_EBADNAME with why. */
static int
obj_name(const struct prm_src *s, const char *path, char *out, size_t cap, const char **why)
{
    const char *p = s->prefix ? s->prefix : "";
    size_t pl = strlen(p);
    const char *base;
    if (s->is_dir) {
        size_t dl = strlen(s->path);
        base = path + dl + (dl > 1); /* "/": everything after it */
    } else if (pl > 0 && p[pl - 1] != '/') {
        base = "";
    } else {
        const char *sl = strrchr(path, '/');
        base = sl ? sl + 1 : path;
    }
    int n = snprintf(out, cap, "%s%s", p, base);
    if (n < 0 || (size_t)n >= cap) {
        *why = "name too long";
        return AIS_EBADNAME;
    }
    return ais_obj_name_check(out, (size_t)n, why) == 0 ? 0 : AIS_EBADNAME;
}

/* A regular file of the walk: its path and size. Returns 0 to go on, else stops the walk. */
typedef int (*prm_file_fn)(const char *path, const struct stat *st, void *arg);

/*
 * Walks s (not following links; subdirectories only when recursive), calling fn for each
 * regular file; *skipped counts other entries. 0, fn's code, or negative errno with why.
 */
static int
walk(const struct prm_src *s, prm_file_fn fn, void *arg, uint64_t *skipped, char *why, size_t cap)
{
    char *const paths[] = {(char *)s->path, NULL};
    FTS *fts = fts_open(paths, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
    if (fts == NULL) {
        int e = errno;
        snprintf(why, cap, "promote: %.160s: %s", s->path, strerror(e));
        return -e;
    }
    int rc = 0;
    while (rc == 0) {
        errno = 0;
        FTSENT *e = fts_read(fts);
        if (e == NULL) {
            if (errno != 0) {
                rc = -errno;
                snprintf(why, cap, "promote: walk %.160s: %s", s->path, strerror(errno));
            }
            break;
        }
        switch (e->fts_info) {
        case FTS_D:
            if (e->fts_level > 0 && !(s->flags & RPC_PROMOTE_RECURSIVE)) {
                (void)fts_set(fts, e, FTS_SKIP);
            }
            break;
        case FTS_DP:
            break;
        case FTS_F:
            rc = fn(e->fts_path, e->fts_statp, arg);
            break;
        case FTS_DNR:
        case FTS_ERR:
        case FTS_NS:
            if (e->fts_errno == ENOENT && e->fts_level > 0) {
                break; /* gone since its directory was read: on a file share, another target
                        * promoted it with delete-source while this one walked past */
            }
            snprintf(why, cap, "promote: %.160s: %s", e->fts_path, strerror(e->fts_errno));
            rc = -(e->fts_errno ? e->fts_errno : EIO);
            break;
        default:
            (*skipped)++; /* symbolic links, sockets, devices: never promoted */
        }
    }
    fts_close(fts);
    return rc;
}

/* promote-scan: count, bytes, digest; the first file whose name cannot be an object name. */
struct scan {
    const struct prm_src *s;
    uint64_t n, bytes, digest;
    char bad[sizeof(((struct rpc_err *)0)->msg)];
};

static int
scan_file(const char *path, const struct stat *st, void *arg)
{
    struct scan *sc = arg;
    char name[AIS_OBJNAME_BYTES_MAX + 2];
    const char *why = "invalid";
    if (obj_name(sc->s, path, name, sizeof(name), &why) != 0) {
        snprintf(sc->bad, sizeof(sc->bad), "promote: %.160s: not a valid object name (%s)", path,
                 why);
        return AIS_EBADNAME;
    }
    uint64_t h = XXH64(name, strlen(name), (uint64_t)st->st_size);
    sc->digest += h; /* a sum: the walk's order does not matter */
    sc->n++;
    sc->bytes += (uint64_t)st->st_size;
    return 0;
}

static int
promote_scan(struct tgt *t, const struct rpc_objs_args *a, struct rpc_objs_res *res,
             struct rpc_err *err)
{
    struct prm_src s = {.flags = a->flags, .prefix = a->prepend};
    int rc = src_open(t, a->names[0], &s, err->msg, sizeof(err->msg));
    struct scan sc = {.s = &s};
    rc = rc ? rc : walk(&s, scan_file, &sc, &res->skipped, err->msg, sizeof(err->msg));
    if (rc == AIS_EBADNAME) {
        memcpy(err->msg, sc.bad, sizeof(err->msg));
    }
    if (rc != 0) {
        return rc;
    }
    char hex[24];
    snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)sc.digest);
    res->done = sc.n;
    res->bytes = sc.bytes;
    return rpc_objs_res_add(res, hex, NULL);
}

/* The job: this target's part of a promote. */
struct prm_job {
    struct tgt *t;
    struct prm_src s;
    char src[PATH_MAX];
    char prefix[AIS_OBJNAME_BYTES_MAX + 1];
    char provider[16], ns[AIS_NS_BYTES_MAX], bck[AIS_BCKNAME_BYTES_MAX + 1];
    struct xa_job *job;
    CURL *h;
    uint64_t failed, kept;
    char errs[XA_ERR_BYTES - 64];
    size_t errs_len;
    int counting; /* the first pass: totals only */
    uint64_t total_n, total_bytes;
};

static void
job_free(void *arg)
{
    struct prm_job *j = arg;
    if (j->h != NULL) {
        curl_easy_cleanup(j->h);
    }
    free(j);
}

static void
job_fail(struct prm_job *j, const char *path, const char *why)
{
    j->failed++;
    if (j->errs_len + 16 < sizeof(j->errs)) {
        int n = snprintf(j->errs + j->errs_len, sizeof(j->errs) - j->errs_len, "%s%s (%s)",
                         j->errs_len ? "; " : "", path, why);
        j->errs_len = n > 0 ? j->errs_len + (size_t)n : j->errs_len;
        j->errs_len = j->errs_len < sizeof(j->errs) ? j->errs_len : sizeof(j->errs) - 1;
    }
    AIS_LOG_WARN("req=promote file=\"%s\" err=\"%s\"", path, why);
}

static size_t
read_fd(char *buf, size_t sz, size_t nit, void *arg)
{
    ssize_t n = read(*(int *)arg, buf, sz * nit);
    return n < 0 ? CURL_READFUNC_ABORT : (size_t)n;
}

static size_t
discard(char *buf, size_t sz, size_t nit, void *arg)
{
    (void)buf;
    (void)arg;
    return sz * nit;
}

/* HEAD (fd < 0) or PUT fd (size bytes) to url: the HTTP status, or negative errno with why. */
static long
http_call(struct prm_job *j, const char *url, int fd, off_t size, char *why, size_t cap)
{
    CURL *h = j->h;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, PROMOTE_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    struct curl_slist *hdr = curl_slist_append(NULL, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    if (fd < 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_fd);
        curl_easy_setopt(h, CURLOPT_READDATA, &fd);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
    }
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(hdr);
    long st = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    if (cc != CURLE_OK) {
        snprintf(why, cap, "%s", curl_easy_strerror(cc));
        return -EIO;
    }
    if (fd >= 0 && st != 200) {
        snprintf(why, cap, "PUT answered %ld", st);
    }
    return st;
}

/* The URL of name at its owner now (Smap of the moment); 0 or -EHOSTUNREACH. */
static int
owner_url(struct prm_job *j, const char *name, char *url, size_t cap, int *is_self)
{
    uint64_t digest = 0;
    if (ais_obj_digest(j->provider, j->ns, j->bck, name, &digest) != 0) {
        return AIS_EBADNAME;
    }
    struct ais_smap *smap = ais_meta_smap(&j->t->meta);
    const struct ais_snode *o = ais_smap_hrw_target(smap, digest);
    char base[128] = "";
    if (o != NULL) {
        ais_snode_url(o, base, sizeof(base));
        *is_self = strcmp(o->id, j->t->self.id) == 0;
    }
    ais_smap_unref(smap);
    if (base[0] == '\0') {
        return -EHOSTUNREACH;
    }
    char enc[3 * AIS_OBJNAME_BYTES_MAX + 1];
    tgt_path_encode(enc, sizeof(enc), name);
    snprintf(url, cap, "%s/v1/objects/%s/%s?provider=%s%s%s", base, j->bck, enc, j->provider,
             j->ns[0] ? "&namespace=" : "", j->ns);
    return 0;
}

/* One file: promoted (counted), kept (an object exists, no overwrite), skipped or failed. */
static int
promote_file(const char *path, const struct stat *st, void *arg)
{
    struct prm_job *j = arg;
    if (xa_job_aborted(j->job)) {
        return -ECANCELED;
    }
    char name[AIS_OBJNAME_BYTES_MAX + 2], why[256] = "";
    const char *bad = "invalid";
    size_t ucap = 3 * AIS_OBJNAME_BYTES_MAX + AIS_BCKNAME_BYTES_MAX + AIS_NS_BYTES_MAX + 256;
    char *url = malloc(ucap);
    int self = 0;
    int rc = url ? obj_name(&j->s, path, name, sizeof(name), &bad) : -ENOMEM;
    rc = rc ? rc : owner_url(j, name, url, ucap, &self);
    if (rc == 0 && (j->s.flags & RPC_PROMOTE_FSHARE) && !self) {
        free(url);
        return 0; /* a file share: another target promotes this one */
    }
    if (j->counting) {
        free(url);
        j->total_n += rc == 0;
        j->total_bytes += rc == 0 ? (uint64_t)st->st_size : 0;
        return 0;
    }
    if (rc != 0) {
        job_fail(j, path, rc == AIS_EBADNAME ? bad : ais_strerror(rc));
        free(url);
        return 0;
    }
    long code = 404;
    if (!(j->s.flags & RPC_PROMOTE_OVERWRITE)) {
        code = http_call(j, url, -1, 0, why, sizeof(why));
    }
    if (code == 200) {
        j->kept++; /* the object exists and overwrite is off: keep both */
    } else if (code == 404) {
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat fst;
        if (fd < 0 || fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode)) {
            job_fail(j, path, fd < 0 ? strerror(errno) : "not a regular file");
        } else if (http_call(j, url, fd, fst.st_size, why, sizeof(why)) == 200) {
            xa_job_add(j->job, XA_CTR_LOC, 1, (uint64_t)fst.st_size);
            if (!self) {
                xa_job_add(j->job, XA_CTR_OUT, 1, (uint64_t)fst.st_size);
            }
            if ((j->s.flags & RPC_PROMOTE_DELETE_SRC) && unlink(path) != 0) {
                AIS_LOG_WARN("req=promote file=\"%s\" msg=\"promoted, not removed: %s\"", path,
                             strerror(errno));
            }
        } else {
            job_fail(j, path, why);
        }
        if (fd >= 0) {
            close(fd);
        }
    } else {
        job_fail(j, path, code < 0 ? why : "HEAD of the object failed");
    }
    free(url);
    return 0;
}

static int
job_run(struct xa_job *job, void *arg)
{
    struct prm_job *j = arg;
    char why[512] = "";
    uint64_t skipped = 0;
    j->job = job;
    j->counting = 1;
    int rc = walk(&j->s, promote_file, j, &skipped, why, sizeof(why));
    xa_job_set_total(job, j->total_n, j->total_bytes);
    j->counting = 0;
    skipped = 0;
    rc = rc ? rc : walk(&j->s, promote_file, j, &skipped, why, sizeof(why));
    AIS_LOG_INFO("req=promote src=\"%s\" bck=%s failed=%llu kept=%llu not_regular=%llu", j->src,
                 j->bck, (unsigned long long)j->failed, (unsigned long long)j->kept,
                 (unsigned long long)skipped);
    if (rc == 0 && j->failed > 0) {
        char msg[XA_ERR_BYTES];
        snprintf(msg, sizeof(msg), "failed %llu: %s", (unsigned long long)j->failed, j->errs);
        xa_job_set_err(job, msg);
        return -EIO;
    }
    if (rc != 0 && rc != -ECANCELED) {
        xa_job_set_err(job, why[0] ? why : ais_strerror(rc));
    }
    return rc;
}

static int
promote_start(struct tgt *t, const struct rpc_objs_args *a, struct rpc_err *err)
{
    if (a->job_id == NULL || a->job_id[0] == '\0') {
        snprintf(err->msg, sizeof(err->msg), "promote: no job id");
        return -EINVAL;
    }
    struct prm_job *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        return -ENOMEM;
    }
    j->t = t;
    snprintf(j->src, sizeof(j->src), "%s", a->names[0]);
    snprintf(j->prefix, sizeof(j->prefix), "%s", a->prepend ? a->prepend : "");
    snprintf(j->provider, sizeof(j->provider), "%s", a->provider);
    snprintf(j->ns, sizeof(j->ns), "%s", a->ns);
    snprintf(j->bck, sizeof(j->bck), "%s", a->bck);
    j->s.flags = a->flags;
    j->s.prefix = j->prefix;
    int rc = src_open(t, j->src, &j->s, err->msg, sizeof(err->msg));
    j->h = rc == 0 ? curl_easy_init() : NULL;
    if (rc == 0 && j->h == NULL) {
        rc = -ENOMEM;
    }
    if (rc != 0) {
        job_free(j);
        return rc;
    }
    char disp[XA_BCK_BYTES];
    ais_bck_display(j->provider, j->ns, j->bck, disp, sizeof(disp));
    rc = xa_job_start_id(t->xreg, a->job_id, PROMOTE_KIND, disp, job_run, j, job_free, NULL);
    if (rc != 0) {
        snprintf(err->msg, sizeof(err->msg), "promote: cannot start job %s: %s", a->job_id,
                 ais_strerror(rc));
    }
    return rc;
}

int
tgt_promote_op(struct tgt *t, const struct rpc_objs_args *a, struct rpc_objs_res *res,
               struct rpc_err *err)
{
    const char *prov = ais_provider_norm(a->provider);
    if (a->n != 1 || a->names[0][0] != '/' || prov == NULL ||
        ais_bck_name_check(a->bck, NULL) != 0) {
        snprintf(err->msg, sizeof(err->msg), "%s: needs one absolute source path and a bucket",
                 a->op);
        return -EINVAL;
    }
    if (strcmp(a->op, "promote-scan") == 0) {
        return promote_scan(t, a, res, err);
    }
    if (strcmp(a->op, "promote") == 0) {
        return promote_start(t, a, err);
    }
    snprintf(err->msg, sizeof(err->msg), "unknown operation %s", a->op);
    return -ENOTSUP;
}
