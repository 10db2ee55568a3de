/*
 * Design notes: object requests arrive redirected by a gateway (pid/utm query params) or
 * directly from clients that compute HRW themselves; both are served if this target owns the
 * object under the current Smap, otherwise redirected once more to the owner. GET hands the
 * file descriptor to the HTTP edge (sendfile); PUT streams into a storage work file that only
 * becomes the object when the body completed and verified.
 */
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "target/arch.h"
#include "target/archw.h"
#include "target/moss.h"
#include "target/target_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct obj_req {
    struct tgt *t;
    struct ais_objref ref;
    struct st_bck bck;
    struct ais_bprops props;
};

/* Query marker of a get-from-neighbor redirect: "serve your copy, do not send me back". */
#define GFN_PARAM "ais_gfn"

/* 307 to the same request on node n (marked as a get-from-neighbor hop when gfn). */
static void
redirect_to(struct ais_req *r, const struct ais_snode *n, int gfn)
{
    char loc[AIS_URI_BYTES_MAX + 160];
    char base[128];
    ais_snode_url(n, base, sizeof(base));
    const char *q = ais_req_raw_query(r);
    gfn = gfn && ais_req_query(r, GFN_PARAM) == NULL;
    snprintf(loc, sizeof(loc), "%s%s%s%s%s%s", base, ais_req_raw_path(r), q[0] ? "?" : "", q,
             gfn ? (q[0] ? "&" : "?") : "", gfn ? GFN_PARAM "=1" : "");
    ais_resp_redirect(r, loc);
}

/* 307 to the object's owner under this target's current Smap: 1 if sent, 0 if we own it. */
static int
redirect_to_owner(struct tgt *t, struct ais_req *r, const struct obj_req *o)
{
    struct ais_smap *smap = ais_meta_smap(&t->meta);
    const struct ais_snode *owner = ais_smap_hrw_target(smap, o->ref.digest);
    int redirected = 0;
    if (owner != NULL && strcmp(owner->id, t->self.id) != 0) {
        redirect_to(r, owner, 0);
        redirected = 1;
    }
    ais_smap_unref(smap);
    return redirected;
}

/* Resolves bucket and ownership. Returns 0 to proceed, 1 if a response was already sent. */
static int
obj_prep(struct tgt *t, struct ais_req *r, struct obj_req *o)
{
    char msg[512];
    o->t = t;
    int status = ais_objref_parse(r, "/v1/objects/", 1, &o->ref, msg, sizeof(msg));
    if (status != 0) {
        ais_resp_err(r, status, "%s", msg);
        return 1;
    }
    struct ais_bmd *bmd = ais_meta_bmd(&t->meta);
    const struct ais_bck_md *k = ais_bmd_find(bmd, o->ref.provider, o->ref.ns, o->ref.bck);
    if (k != NULL) {
        o->props = k->props;
    }
    ais_bmd_unref(bmd);
    if (k == NULL) {
        ais_resp_err(r, 404, "bucket \"%s\" does not exist", o->ref.display);
        return 1;
    }
    uint64_t need = ais_req_is(r, "GET")    ? AIS_ACCESS_GET
                    : ais_req_is(r, "HEAD") ? AIS_ACCESS_HEAD_OBJ
                    : ais_req_is(r, "PUT")  ? AIS_ACCESS_PUT
                                            : AIS_ACCESS_DELETE_OBJ;
    if ((status = ais_access_check(&o->props, need, o->ref.display, msg, sizeof(msg))) != 0) {
        ais_resp_err(r, status, "%s", msg);
        return 1;
    }
    o->bck.provider = o->ref.provider;
    o->bck.ns = o->ref.ns;
    o->bck.name = o->ref.bck;
    if (ais_req_query(r, GFN_PARAM) != NULL && (ais_req_is(r, "GET") || ais_req_is(r, "HEAD"))) {
        return 0; /* sent here by the owner for our copy: a miss goes back via open_or_gfn */
    }
    return redirect_to_owner(t, r, o);
}

/* Error about the object itself: 404 "does not exist" (the SDK's ErrObjNotFound) or rc's. */
static void
obj_err(struct ais_req *r, const struct obj_req *o, int rc)
{
    ais_resp_err(r, ais_http_status(rc), "object \"%s/%s\" %s", o->ref.display, o->ref.obj,
                 rc == -ENOENT ? "does not exist" : ais_strerror(rc));
}

static void
set_md_headers(struct ais_req *r, const struct obj_req *o, const struct st_obj_md *md)
{
    char buf[AIS_PATH_BYTES_MAX + 64];
    if (md->cksum_type[0] != '\0' && strcmp(md->cksum_type, "none") != 0) {
        ais_resp_header(r, "Ais-Checksum-Type", md->cksum_type);
        ais_resp_header(r, "Ais-Checksum-Value", md->cksum_value);
    }
    snprintf(buf, sizeof(buf), "%lld", (long long)md->atime_ns);
    ais_resp_header(r, "Ais-Atime", buf);
    if (md->version[0] != '\0') {
        ais_resp_header(r, "Ais-Version", md->version);
    }
    if (md->custom[0] != '\0') {
        ais_resp_header(r, "Ais-Custom-Md", md->custom);
    }
    const char *mpath = st_mpaths_path(o->t->mp, md->mpath_idx);
    snprintf(buf, sizeof(buf), "t[%s]:mp[%s]", o->t->self.id, mpath ? mpath : "");
    ais_resp_header(r, "Ais-Location", buf);
}

/* Ais-Mirror-Copies and Ais-Mirror-Paths: the up-to-date copies on this target's mountpaths. */
static void
set_mirror_headers(struct ais_req *r, const struct obj_req *o)
{
    uint32_t slots[AIS_MPATHS_MAX];
    char paths[AIS_PATH_BYTES_MAX], num[16];
    int n = st_obj_copies(o->t->mp, &o->bck, o->ref.obj, o->ref.digest, slots, AIS_MPATHS_MAX);
    size_t len = 0;
    paths[0] = '\0';
    for (int i = 0; i < n; i++) {
        const char *p = st_mpaths_path(o->t->mp, slots[i]);
        int w =
            p == NULL ? 0 : snprintf(paths + len, sizeof(paths) - len, "%s%s", len ? "," : "", p);
        if (w < 0 || (size_t)w >= sizeof(paths) - len) {
            break; /* a header of a few KiB at most */
        }
        len += (size_t)w;
    }
    snprintf(num, sizeof(num), "%d", n > 0 ? n : 1);
    ais_resp_header(r, "Ais-Mirror-Copies", num);
    if (len > 0) {
        ais_resp_header(r, "Ais-Mirror-Paths", paths);
    }
}

/* Ais-Ec-*: the object's EC metadata (local record, else any holder's). */
static void
set_ec_headers(struct ais_req *r, const struct obj_req *o)
{
    struct ec_meta m;
    char num[24];
    if (tgt_ec_meta(o->t, &o->bck, o->ref.obj, o->ref.digest, &m) != 0) {
        return;
    }
    snprintf(num, sizeof(num), "%lld", (long long)m.generation);
    ais_resp_header(r, "Ais-Ec-Generation", num);
    snprintf(num, sizeof(num), "%u", (unsigned)m.data);
    ais_resp_header(r, "Ais-Ec-Data", num);
    snprintf(num, sizeof(num), "%u", (unsigned)m.parity);
    ais_resp_header(r, "Ais-Ec-Parity", num);
    ais_resp_header(r, "Ais-Ec-Replicated", m.is_copy ? "true" : "false");
}

static void
set_head_headers(struct ais_req *r, const struct obj_req *o, const struct st_obj_md *md)
{
    set_md_headers(r, o, md);
    ais_resp_header(r, "Ais-Name", o->ref.obj);
    ais_resp_header(r, "Ais-Bucket-Name", o->ref.bck);
    ais_resp_header(r, "Ais-Bucket-Provider", o->ref.provider);
    ais_resp_header(r, "Ais-Present", "true");
    set_mirror_headers(r, o);
    if (o->props.ec_enabled) {
        set_ec_headers(r, o);
    }
}

/*
 * Range: bytes=a-b | a- | -n (one range). Returns 0 with off/len for a valid range, 1 when
 * absent, AIS_EBADRANGE when unsatisfiable or malformed.
 */
int
tgt_parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
    unsigned long long a = 0, b = 0;
    char *end;
    if (h == NULL) {
        return 1;
    }
    if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL) {
        return AIS_EBADRANGE;
    }
    h += 6;
    if (*h == '-') {
        b = strtoull(h + 1, &end, 10);
        if (end == h + 1 || *end != '\0' || b == 0 || size == 0) {
            return AIS_EBADRANGE;
        }
        *len = b > size ? size : b;
        *off = size - *len;
        return 0;
    }
    a = strtoull(h, &end, 10);
    if (end == h || *end != '-' || a >= size) {
        return AIS_EBADRANGE;
    }
    h = end + 1;
    b = size - 1;
    if (*h != '\0') {
        b = strtoull(h, &end, 10);
        if (*end != '\0' || b < a) {
            return AIS_EBADRANGE;
        }
        if (b >= size) {
            b = size - 1;
        }
    }
    *off = a;
    *len = b - a + 1;
    return 0;
}

static size_t
dry_gen(void *arg, uint64_t pos, char *buf, size_t max)
{
    for (size_t i = 0; i < max; i++) {
        buf[i] = (char)('a' + (pos + i) % 26);
    }
    return max;
}

static int
want_validate(struct tgt *t, struct ais_req *r, const struct obj_req *o)
{
    const char *q = ais_req_query(r, "validate-checksum");
    return (q != NULL && ais_parse_bool(q) == 1) || o->props.validate_warm_get ||
           ais_config_rt_get(&t->cfg->rt.validate_warm_get);
}

/* Serves the whole object or one range from fd (ownership passes to the edge). */
static void
get_serve(struct tgt *t, struct ais_req *r, const struct obj_req *o, int fd,
          const struct st_obj_md *md)
{
    uint64_t off = 0, len = md->size;
    char cr[96];
    int rr = tgt_parse_range(ais_req_header(r, "Range"), md->size, &off, &len);
    if (rr == AIS_EBADRANGE) {
        close(fd);
        ais_resp_err(r, 416, "invalid range \"%s\" for %s/%s (size %" PRIu64 ")",
                     ais_req_header(r, "Range"), o->ref.display, o->ref.obj, md->size);
        snprintf(cr, sizeof(cr), "bytes */%" PRIu64, md->size);
        ais_resp_header(r, "Content-Range", cr);
        return;
    }
    if (ais_resp_fd(r, rr == 0 ? 206 : 200, fd, off, len) != 0) {
        ais_resp_err(r, 500, "out of memory");
        return;
    }
    ais_stats_observe(&t->stats, AIS_LAT_TTFB, ais_mono_ns() - ais_req_start_ns(r));
    if (rr == 0) {
        snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off, off + len - 1,
                 md->size);
        ais_resp_header(r, "Content-Range", cr);
    }
    ais_resp_header(r, "Accept-Ranges", "bytes");
    set_md_headers(r, o, md);
    ais_stats_add(&t->stats, AIS_STAT_GET_SIZE, (int64_t)len);
}

/*
 * The copy we read is corrupt: remove it, but only if the name still points at that very file
 * (checked under the object's exclusive lock), so a PUT that replaced it meanwhile survives.
 * Returns st_obj_delete_if's result.
 */
static int
get_drop_bad(struct tgt *t, const struct obj_req *o, const struct st_obj_md *md)
{
    ais_stats_add(&t->stats, AIS_STAT_ERR_CKSUM_N, 1);
    int rc = st_obj_delete_if(t->mp, &o->bck, o->ref.obj, o->ref.digest, md);
    const char *what = rc == 0 ? "removed" : rc == -ESTALE ? "replaced-meanwhile" : "kept";
    const char *mpath = st_mpaths_path(t->mp, md->mpath_idx);
    AIS_LOG_WARN("req=GET obj=%s/%s mpath=%s msg=\"checksum mismatch\" copy=%s", o->ref.display,
                 o->ref.obj, mpath ? mpath : "", what);
    return rc;
}

static void
get_bad_cksum(struct ais_req *r, const struct obj_req *o, const struct st_obj_md *md, int rc)
{
    ais_resp_err(r, 500, "%s/%s: checksum mismatch (stored %s %s); %s", o->ref.display, o->ref.obj,
                 md->cksum_type, md->cksum_value,
                 rc == 0 ? "bad copy removed, no good copy left"
                         : "object was replaced meanwhile, retry");
}

struct read_slot {
    struct tgt *t;
    uint32_t slot;
    int64_t t0; /* ais_req_start_ns: the GET latency ends when the last byte went out */
};

static void
read_done(struct ais_req *r, void *arg, int ok)
{
    struct read_slot *rs = arg;
    st_mpaths_read_end(rs->t->mp, rs->slot);
    if (ok) {
        ais_stats_observe(&rs->t->stats, AIS_LAT_GET, ais_mono_ns() - rs->t0);
    }
}

/* The served descriptor's read stays counted on its mountpath until the response is done. */
static void
read_track(struct tgt *t, struct ais_req *r, uint32_t slot)
{
    struct read_slot *rs = ais_req_alloc(r, sizeof(*rs));
    if (rs != NULL) {
        rs->t = t;
        rs->slot = slot;
        rs->t0 = ais_req_start_ns(r);
    }
    if (rs == NULL || ais_req_on_done(r, read_done, rs) != 0) {
        st_mpaths_read_end(t->mp, slot);
    }
}

/* Local open: a GET (copies >= 1) balances over mirror copies and counts the read; HEAD not. */
static int
open_local(struct tgt *t, struct obj_req *o, unsigned copies, int *fd, struct st_obj_md *md)
{
    if (copies == 0) {
        return st_obj_open(t->mp, &o->bck, o->ref.obj, o->ref.digest, fd, md);
    }
    return st_obj_open_read(t->mp, &o->bck, o->ref.obj, o->ref.digest, copies, fd, md);
}

/*
 * A local miss. If the Smap changed since obj_prep and another target owns the object now,
 * the rebalance may just have moved it there: redirect (1). As the owner, the object may still
 * sit on its previous owner (rebalance running, or written while this target was away): pull
 * it from the neighbors and look again. The second look also covers an object that arrived
 * over a rebalance stream while we asked (its sender removes its copy only after our ack).
 * Returns 1 when a response was sent, else 0 with *rc.
 */
static int
open_or_gfn(struct tgt *t, struct ais_req *r, struct obj_req *o, unsigned copies, int *fd,
            struct st_obj_md *md, int *rc)
{
    *rc = open_local(t, o, copies, fd, md);
    if (*rc != -ENOENT) {
        return 0;
    }
    if (redirect_to_owner(t, r, o)) {
        return 1;
    }
    /* While rebalance runs the object will arrive here anyway: send the client to the copy
     * (one stat RPC) instead of pulling and fsyncing it on the GET's path. A hop that was
     * already redirected, or a cluster with rebalance off, pulls the object here instead. */
    struct ais_snode where;
    if (ais_config_rt_get(&t->cfg->rt.rebalance_enabled) && ais_req_query(r, GFN_PARAM) == NULL) {
        if (reb_gfn(t->reb, &o->bck, o->ref.obj, o->ref.digest, &where) == 0) {
            ais_stats_add(&t->stats, AIS_STAT_GFN_N, 1);
            redirect_to(r, &where, 1);
            return 1;
        }
    } else if (reb_gfn(t->reb, &o->bck, o->ref.obj, o->ref.digest, NULL) == 0) {
        ais_stats_add(&t->stats, AIS_STAT_GFN_N, 1);
    }
    *rc = open_local(t, o, copies, fd, md);
    return 0;
}

/*
 * EC bucket without a good local copy: rebuild it from slices or a replica on other targets.
 * 0 when it is stored here again (open it), -ENOENT when no target knows the object, 1 when an
 * error response was sent (too few slices: 503 naming the counts; never wrong bytes).
 */
static int
ec_restore(struct tgt *t, struct ais_req *r, const struct obj_req *o)
{
    char msg[384];
    int rc = tgt_ec_restore(t, &o->bck, o->ref.obj, o->ref.digest, msg, sizeof(msg));
    if (rc == 0 || rc == -ENOENT) {
        return rc;
    }
    ais_resp_err(r, rc == -ENODATA ? 503 : 500, "%s/%s: %s", o->ref.display, o->ref.obj,
                 msg[0] ? msg : ais_strerror(rc));
    return 1;
}

/* Closes a local copy that will not be served (ends its read accounting). */
static void
get_drop_fd(struct tgt *t, int *fd, const struct st_obj_md *md)
{
    if (*fd >= 0) {
        close(*fd);
        st_mpaths_read_end(t->mp, md->mpath_idx);
        *fd = -1;
    }
}

/*
 * A remote bucket's GET after the local lookup (rc, and fd/md when found): a miss fetches
 * from the backend; with versioning.validate_warm_get (or latest-ver=true) a local copy is
 * checked against the backend first, refetched when outdated and dropped when the backend
 * deleted it. Returns 1 when a response was sent; else 0 with rc, fd and md to serve locally.
 */
static int
get_remote(struct tgt *t, struct ais_req *r, struct obj_req *o, unsigned copies, int *fd,
           struct st_obj_md *md, int *rc)
{
    struct bk_err e = {0};
    int force = 0;
    const char *lv = ais_req_query(r, "latest-ver");
    if (*rc == 0 && (o->props.ver_validate_warm_get || (lv != NULL && ais_parse_bool(lv) == 1))) {
        int out = tgt_cold_outdated(t->cold, &o->ref, md, &e);
        if (out == 0) {
            return 0;
        }
        get_drop_fd(t, fd, md);
        if (out == -ENOENT) {
            int del = st_obj_delete_if(t->mp, &o->bck, o->ref.obj, o->ref.digest, md);
            AIS_LOG_INFO("req=GET obj=%s/%s msg=\"deleted at the backend\" local=%s",
                         o->ref.display, o->ref.obj, del == 0 ? "removed" : "kept");
            ais_resp_err(r, 404, "object \"%s/%s\" does not exist (deleted at the backend: %s)",
                         o->ref.display, o->ref.obj, e.msg);
            return 1;
        }
        if (out < 0) {
            ais_resp_err(r, e.status ? e.status : 502, "%s", e.msg);
            return 1;
        }
        force = 1;
    } else if (*rc != -ENOENT) {
        return 0;
    }
    if (tgt_cold_get(t->cold, r, &o->ref, &o->props, force)) {
        return 1;
    }
    *rc = open_local(t, o, copies, fd, md); /* it arrived meanwhile */
    return 0;
}

static void
h_get(struct tgt *t, struct ais_req *r, struct obj_req *o)
{
    struct st_obj_md md;
    int fd = -1;
    int64_t t0 = ais_mono_ns();
    if (ais_config_rt_get(&t->cfg->rt.dry_run)) {
        ais_resp_gen(r, 200, AIS_DRY_RUN_OBJ_BYTES, dry_gen, NULL, NULL);
        ais_stats_add(&t->stats, AIS_STAT_GET_N, 1);
        return;
    }
    int rc = 0, restored = !o->props.ec_enabled; /* one EC restore per GET */
    unsigned copies = ais_bprops_copies(&o->props);
    /* Bounded: each round removes a bad copy; a mirrored object retries from the others. */
    for (unsigned attempt = 0;; attempt++) {
        if (open_or_gfn(t, r, o, copies, &fd, &md, &rc)) {
            return;
        }
        if (rc == -ENOENT && !restored) {
            restored = 1;
            int e = ec_restore(t, r, o);
            if (e == 1) {
                return;
            }
            if (e == 0) {
                continue;
            }
        }
        if (rc != 0 || !want_validate(t, r, o)) {
            break;
        }
        rc = st_obj_validate(fd, &md);
        if (rc != AIS_EBADCKSUM) {
            break;
        }
        close(fd);
        fd = -1;
        st_mpaths_read_end(t->mp, md.mpath_idx);
        int del = get_drop_bad(t, o, &md);
        if (del == 0 && bk_provider_remote(o->ref.provider)) {
            if (tgt_cold_get(t->cold, r, &o->ref, &o->props, 0)) {
                return; /* the backend's copy replaces the corrupt one */
            }
            continue;
        }
        /* Repair from a remaining copy (1: something was restored), then serve that. */
        if (del == 0 && copies > 1 && attempt + 1 < copies &&
            st_obj_mirror(t->mp, &o->bck, o->ref.obj, o->ref.digest, copies, NULL) == 1) {
            continue;
        }
        if (del == 0 && !restored) {
            restored = 1;
            int e = ec_restore(t, r, o);
            if (e == 1) {
                return;
            }
            if (e == 0) {
                continue;
            }
        }
        get_bad_cksum(r, o, &md, del);
        return;
    }
    if (bk_provider_remote(o->ref.provider) && get_remote(t, r, o, copies, &fd, &md, &rc)) {
        ais_stats_add(&t->stats, AIS_STAT_GET_N, 1);
        return;
    }
    if (rc != 0) {
        ais_stats_add(&t->stats, AIS_STAT_ERR_GET_N, 1);
        tgt_fshc_kick(t, rc);
        if (fd >= 0) {
            close(fd);
            st_mpaths_read_end(t->mp, md.mpath_idx);
        }
        obj_err(r, o, rc);
        return;
    }
    read_track(t, r, md.mpath_idx);
    if (strcmp(o->ref.provider, "ais") != 0) {
        sp_obj_touch(fd); /* LRU order follows reads (space/space.h) */
    }
    if (tgt_arch_wanted(r)) {
        tgt_arch_get(t, r, &o->bck, o->ref.display, o->ref.obj, fd, &md); /* inside a shard */
    } else {
        get_serve(t, r, o, fd, &md);
    }
    ais_stats_add(&t->stats, AIS_STAT_GET_N, 1);
    ais_stats_add(&t->stats, AIS_STAT_GET_NS, ais_mono_ns() - t0);
}

/* HEAD of a remote object not cached here: the backend's answer (Ais-Present: false). */
static void
head_remote(struct tgt *t, struct ais_req *r, struct obj_req *o)
{
    struct bk_attrs a;
    struct bk_err e = {0};
    int rc = bk_head_obj(t->bk, o->ref.provider, o->ref.bck, o->ref.obj, &a, &e);
    if (rc == -ENOENT) {
        obj_err(r, o, rc);
        return;
    }
    if (rc != 0) {
        ais_stats_add(&t->stats, AIS_STAT_ERR_HEAD_N, 1);
        ais_resp_err(r, e.status ? e.status : 502, "%s", e.msg);
        return;
    }
    char buf[BK_ETAG_BYTES + 32];
    ais_resp_head(r, 200, a.size);
    ais_resp_header(r, "Ais-Present", "false");
    if (a.etag[0] != '\0') {
        ais_resp_header(r, "ETag", a.etag);
        snprintf(buf, sizeof(buf), "source=%s,etag=%s", o->ref.provider, a.etag);
        ais_resp_header(r, "Ais-Custom-Md", buf);
    }
    if (a.version[0] != '\0') {
        ais_resp_header(r, "Ais-Version", a.version);
    }
}

/* HEAD with archpath: the member's size (target/arch.h), read from the shard held here. */
static void
head_arch(struct tgt *t, struct ais_req *r, struct obj_req *o)
{
    struct st_obj_md md;
    int fd = -1;
    int rc = st_obj_open(t->mp, &o->bck, o->ref.obj, o->ref.digest, &fd, &md);
    if (rc != 0) {
        ais_stats_add(&t->stats, AIS_STAT_ERR_HEAD_N, 1);
        obj_err(r, o, rc);
        return;
    }
    tgt_arch_get(t, r, &o->bck, o->ref.display, o->ref.obj, fd, &md); /* takes fd */
}

static void
h_head(struct tgt *t, struct ais_req *r, struct obj_req *o)
{
    struct st_obj_md md;
    const char *archpath = ais_req_query(r, "archpath");
    int arch = archpath != NULL && archpath[0] != '\0';
    ais_stats_add(&t->stats, AIS_STAT_HEAD_N, 1);
    int rc = st_obj_stat(t->mp, &o->bck, o->ref.obj, o->ref.digest, &md);
    if (rc == -ENOENT) {
        int fd = -1;
        if (open_or_gfn(t, r, o, 0, &fd, &md, &rc)) {
            return;
        }
        if (fd >= 0) {
            close(fd);
        }
        int e = rc == -ENOENT && o->props.ec_enabled ? ec_restore(t, r, o) : -ENOENT;
        if (e == 1) {
            return;
        }
        if (e == 0) {
            rc = st_obj_stat(t->mp, &o->bck, o->ref.obj, o->ref.digest, &md);
        }
    }
    /* A member is read from a shard in the cluster: a remote one not cached is a 404. */
    if (rc == -ENOENT && bk_provider_remote(o->ref.provider) && !arch) {
        head_remote(t, r, o);
        return;
    }
    if (rc != 0) {
        ais_stats_add(&t->stats, AIS_STAT_ERR_HEAD_N, 1);
        obj_err(r, o, rc);
        return;
    }
    if (arch) {
        head_arch(t, r, o);
        return;
    }
    ais_resp_head(r, 200, md.size);
    set_head_headers(r, o, &md);
}

static void
h_delete(struct tgt *t, struct ais_req *r, struct obj_req *o)
{
    int remote_gone = 0;
    if (bk_provider_remote(o->ref.provider) && strcmp(o->ref.provider, "ht") != 0) {
        /* Write-through: the backend first; a local copy never outlives its source. (An ht://
         * origin is read-only: DELETE drops the cached copy only.) */
        struct bk_err e = {0};
        int brc = bk_delete_obj(t->bk, o->ref.provider, o->ref.bck, o->ref.obj, &e);
        if (brc != 0 && brc != -ENOENT) {
            ais_stats_add(&t->stats, AIS_STAT_ERR_DEL_N, 1);
            ais_resp_err(r, e.status ? e.status : 502, "%s", e.msg);
            return;
        }
        remote_gone = brc == 0;
    }
    int rc = st_obj_delete(t->mp, &o->bck, o->ref.obj, o->ref.digest);
    if (rc == -ENOENT && remote_gone) {
        rc = 0; /* not cached here, deleted at the backend */
    }
    if (o->props.ec_enabled) {
        const char *name = o->ref.obj;
        tgt_ec_delete(t, &o->bck, &name, 1); /* slices and replicas on every target */
    }
    if (rc != 0) {
        ais_stats_add(&t->stats, AIS_STAT_ERR_DEL_N, 1);
        obj_err(r, o, rc);
        return;
    }
    tgt_arch_forget(t, &o->bck, o->ref.obj);
    ais_stats_add(&t->stats, AIS_STAT_DEL_N, 1);
    ais_resp_empty(r, 200);
}

struct put_ctx {
    struct obj_req o;
    struct st_put *put;
    uint64_t bytes;
    int64_t t0;
    int dry;
    size_t fill; /* bytes waiting in buf */
    char *buf;   /* AIS_PUT_BATCH_BYTES: MHD hands over 32 KiB pieces; disks like bigger */
    struct tgt_arch_put *ix; /* *.tar: member index built as the body streams (target/arch.h) */
};

/* Writes what is batched. 0 or negative errno. */
static int
put_flush(struct put_ctx *p)
{
    int rc = p->fill ? st_put_write(p->put, p->buf, p->fill) : 0;
    p->fill = 0;
    return rc;
}

static int
put_data(struct ais_req *r, const char *data, size_t len, void *arg)
{
    struct put_ctx *p = arg;
    p->bytes += len;
    if (p->dry) {
        return 0;
    }
    tgt_arch_put_feed(p->ix, data, len);
    int rc = 0;
    if (p->fill + len > AIS_PUT_BATCH_BYTES) {
        rc = put_flush(p);
    }
    if (rc == 0 && len >= AIS_PUT_BATCH_BYTES) {
        rc = st_put_write(p->put, data, len);
    } else if (rc == 0) {
        memcpy(p->buf + p->fill, data, len);
        p->fill += len;
    }
    if (rc != 0) {
        tgt_fshc_kick(p->o.t, rc);
        ais_resp_err(r, ais_http_status(rc), "PUT %s/%s: write failed: %s", p->o.ref.display,
                     p->o.ref.obj, ais_strerror(rc));
    }
    return rc;
}

/*
 * EC bucket: slices (or replicas) are placed before the answer, so 200 means protected. When
 * that fails the object stays stored and the client gets 503 saying it is not protected.
 */
static int
put_ec(struct ais_req *r, struct put_ctx *p)
{
    char msg[384];
    /* p->o.bck points into the request's first obj_req (gone by now): rebuild it from ref. */
    struct st_bck b = {.provider = p->o.ref.provider, .ns = p->o.ref.ns, .name = p->o.ref.bck};
    int rc = tgt_ec_put(p->o.t, &b, p->o.ref.obj, p->o.ref.digest, &p->o.props, msg, sizeof(msg));
    if (rc != 0) {
        AIS_LOG_WARN("req=PUT obj=%s/%s msg=\"erasure coding failed\" err=\"%s\"", p->o.ref.display,
                     p->o.ref.obj, msg);
        ais_resp_err(r, 503, "PUT %s/%s: stored, but not protected by erasure coding: %s",
                     p->o.ref.display, p->o.ref.obj, msg);
        ais_stats_add(&p->o.t->stats, AIS_STAT_ERR_PUT_N, 1);
    }
    return rc;
}

/*
 * obj_prep found this target the owner, but a Smap that arrived while the body streamed may
 * name another one, and this target's rebalance walk may have passed the name before the
 * object existed: nothing would move it, and the owner would keep serving an older copy it
 * has. So the object goes to the owner before the answer. The Smap is read after the
 * publish, so a walk that started earlier sees the object itself. A failed hand-off keeps
 * the object here (acked: it is stored; the next rebalance or a get-from-neighbor finds it).
 */
static void
put_handoff(struct tgt *t, const struct obj_req *o)
{
    struct ais_smap *smap = ais_meta_smap(&t->meta);
    const struct ais_snode *owner = ais_smap_hrw_target(smap, o->ref.digest);
    if (owner != NULL && strcmp(owner->id, t->self.id) != 0) {
        struct st_bck b = {.provider = o->ref.provider, .ns = o->ref.ns, .name = o->ref.bck};
        int rc = reb_handoff(t->reb, &b, o->ref.obj, o->ref.digest, owner);
        if (rc != 0) {
            AIS_LOG_WARN("req=PUT obj=%s/%s owner=%s msg=\"owner changed during the PUT; the "
                         "object stays here\" err=\"%s\"",
                         o->ref.display, o->ref.obj, owner->id, ais_strerror(rc));
        } else {
            AIS_LOG_INFO("req=PUT obj=%s/%s owner=%s msg=\"owner changed during the PUT: "
                         "handed off\"",
                         o->ref.display, o->ref.obj, owner->id);
        }
    }
    ais_smap_unref(smap);
}

/*
 * Remote bucket: the complete body (the work file) goes to the backend before the object is
 * published here, and the local copy records the backend's ETag. A backend failure answers its
 * status and stores nothing.
 */
static int
put_remote(struct ais_req *r, struct put_ctx *p)
{
    struct tgt *t = p->o.t;
    struct bk_attrs a = {0};
    struct bk_err e = {0};
    int rc = bk_put_obj(t->bk, p->o.ref.provider, p->o.ref.bck, p->o.ref.obj, st_put_fd(p->put),
                        p->bytes, &a, &e);
    if (rc != 0) {
        ais_stats_add(&t->stats, AIS_STAT_ERR_PUT_N, 1);
        ais_resp_err(r, e.status ? e.status : 502, "PUT %s/%s: %s", p->o.ref.display, p->o.ref.obj,
                     e.msg);
        return rc;
    }
    char custom[ST_CUSTOM_BYTES];
    snprintf(custom, sizeof(custom), "source=%s,etag=%s", p->o.ref.provider, a.etag);
    rc = st_put_set_custom(p->put, custom);
    if (rc != 0) {
        ais_resp_err(r, 500, "PUT %s/%s: %s", p->o.ref.display, p->o.ref.obj, ais_strerror(rc));
    }
    return rc;
}

static void
put_done(struct ais_req *r, void *arg)
{
    struct put_ctx *p = arg;
    struct tgt *t = p->o.t;
    struct st_obj_md md;
    if (p->dry) {
        ais_resp_empty(r, 200);
        return;
    }
    int rc = put_flush(p);
    if (rc != 0) {
        ais_resp_err(r, ais_http_status(rc), "PUT %s/%s: write failed: %s", p->o.ref.display,
                     p->o.ref.obj, ais_strerror(rc));
        return; /* cleanup aborts the work file */
    }
    if (bk_provider_remote(p->o.ref.provider) && put_remote(r, p) != 0) {
        return; /* cleanup aborts the work file */
    }
    rc = st_put_finish(p->put, &md);
    p->put = NULL;
    if (rc == 0) {
        tgt_arch_put_finish(p->ix, &md); /* keyed to this very file: never a stale index */
        p->ix = NULL;
    }
    if (rc == AIS_EBADCKSUM) {
        ais_resp_err(r, 400, "PUT %s/%s: checksum mismatch: client-supplied %s checksum differs",
                     p->o.ref.display, p->o.ref.obj, ais_req_header(r, "Ais-Checksum-Type"));
        return;
    }
    if (rc == -ENOENT) {
        /* The bucket was destroyed while the body streamed: the work file went with it. */
        ais_resp_err(r, 404, "PUT %s/%s: bucket \"%s\" does not exist", p->o.ref.display,
                     p->o.ref.obj, p->o.ref.display);
        return;
    }
    if (rc == -ENOTDIR || rc == -EISDIR) {
        ais_resp_err(r, 409, "PUT %s/%s: name conflicts with an existing %s", p->o.ref.display,
                     p->o.ref.obj, rc == -EISDIR ? "virtual directory" : "object");
        return;
    }
    if (rc != 0) {
        ais_resp_err(r, ais_http_status(rc), "PUT %s/%s: %s", p->o.ref.display, p->o.ref.obj,
                     ais_strerror(rc));
        return;
    }
    if (p->o.props.ec_enabled && put_ec(r, p) != 0) {
        return;
    }
    if (!p->o.props.ec_enabled) {
        put_handoff(t, &p->o); /* EC objects: the EC service owns their placement */
    }
    ais_resp_empty(r, 200);
    set_md_headers(r, &p->o, &md);
    unsigned want = ais_bprops_copies(&p->o.props);
    if (want > 1) {
        char num[16];
        snprintf(num, sizeof(num), "%u", md.copies);
        ais_resp_header(r, "Ais-Mirror-Copies", num); /* fewer than asked: said here and logged */
        if (md.copies < want) {
            AIS_LOG_WARN("req=PUT obj=%s/%s msg=\"fewer mirror copies than asked\" copies=%u "
                         "want=%u",
                         p->o.ref.display, p->o.ref.obj, md.copies, want);
        }
    }
    ais_stats_add(&t->stats, AIS_STAT_PUT_N, 1);
    ais_stats_add(&t->stats, AIS_STAT_PUT_SIZE, (int64_t)p->bytes);
    ais_stats_add(&t->stats, AIS_STAT_PUT_NS, ais_mono_ns() - p->t0);
    ais_stats_observe(&t->stats, AIS_LAT_PUT, ais_mono_ns() - ais_req_start_ns(r));
}

static void
put_cleanup(struct ais_req *r, void *arg, int ok)
{
    struct put_ctx *p = arg;
    if (p->put != NULL) {
        /* Body never completed (client went away): nothing becomes visible. */
        AIS_LOG_DBG("req=PUT obj=%s/%s msg=\"aborted after %llu bytes\"", p->o.ref.display,
                    p->o.ref.obj, (unsigned long long)p->bytes);
        ais_stats_add(&p->o.t->stats, AIS_STAT_ERR_PUT_N, 1);
        st_put_abort(p->put);
    }
    tgt_arch_put_abort(p->ix);
    free(p->buf);
    free(p);
}

static const char *
hdr2(struct ais_req *r, const char *cur, const char *old)
{
    const char *v = ais_req_header(r, cur);
    return v ? v : ais_req_header(r, old);
}

static void
h_put(struct tgt *t, struct ais_req *r, struct obj_req *o)
{
    if (ais_req_query(r, "archpath") != NULL) {
        tgt_arch_append(t, r, &o->ref, &o->props); /* append to a shard (target/arch_put.c) */
        return;
    }
    struct put_ctx *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        ais_resp_err(r, 500, "out of memory");
        return;
    }
    p->o = *o;
    p->t0 = ais_mono_ns();
    p->dry = ais_config_rt_get(&t->cfg->rt.dry_run);
    /* S3 PUTs via the gateway (s3/) store MD5 (their ETag) and the S3 metadata. */
    const char *store = ais_req_header(r, "Ais-Store-Cksum-Type");
    struct st_put_opts opts = {
        .cksum_type = store ? store : o->props.cksum_type,
        .custom = ais_req_header(r, "Ais-Custom-Md"),
        .expect_type = hdr2(r, "Ais-Checksum-Type", "ObjCksumType"),
        .expect_value = hdr2(r, "Ais-Checksum-Value", "ObjCksumVal"),
        .fsync = ais_config_rt_get(&t->cfg->rt.fsync),
        .versioning = o->props.versioning,
        .copies = ais_bprops_copies(&o->props),
    };
    if ((opts.expect_type == NULL) != (opts.expect_value == NULL)) {
        free(p);
        ais_resp_err(r, 400, "PUT %s/%s: Ais-Checksum-Type and Ais-Checksum-Value go together",
                     o->ref.display, o->ref.obj);
        return;
    }
    char full[AIS_PATH_BYTES_MAX + 64];
    if (!p->dry && sp_put_check(t->space, o->ref.digest, full, sizeof(full)) != 0) {
        free(p);
        ais_stats_add(&t->stats, AIS_STAT_ERR_PUT_N, 1);
        ais_resp_err(r, 507, "PUT %s/%s: insufficient storage: %s", o->ref.display, o->ref.obj,
                     full);
        return;
    }
    int rc = 0;
    if (!p->dry && (p->buf = malloc(AIS_PUT_BATCH_BYTES)) == NULL) {
        rc = -ENOMEM;
    }
    if (rc == 0 && !p->dry) {
        rc = st_put_begin(t->mp, &o->bck, o->ref.obj, o->ref.digest, &opts, &p->put);
        /* No dirs yet (BMD listener not run): only if the bucket is still in the BMD. */
        if (rc == -ENOENT && tgt_bck_dirs_ensure(t, &o->bck) == 0) {
            rc = st_put_begin(t->mp, &o->bck, o->ref.obj, o->ref.digest, &opts, &p->put);
        }
    }
    if (rc != 0) {
        free(p->buf);
        free(p);
        ais_stats_add(&t->stats, AIS_STAT_ERR_PUT_N, 1);
        ais_resp_err(r, rc == -EINVAL ? 400 : ais_http_status(rc), "PUT %s/%s: %s", o->ref.display,
                     o->ref.obj,
                     rc == -EINVAL   ? "unsupported checksum type"
                     : rc == -ENOENT ? "bucket does not exist"
                                     : ais_strerror(rc));
        return;
    }
    if (!p->dry) {
        p->ix = tgt_arch_put_begin(t, &o->bck, o->ref.obj, o->ref.digest);
    }
    ais_req_body_stream(r, put_data, put_done, put_cleanup, p);
}

static void
r_objects(struct ais_req *r, void *ctx)
{
    struct tgt *t = ctx;
    struct obj_req o;
    if (obj_prep(t, r, &o) != 0) {
        return;
    }
    if (ais_req_is(r, "GET")) {
        h_get(t, r, &o);
    } else if (ais_req_is(r, "PUT")) {
        h_put(t, r, &o);
    } else if (ais_req_is(r, "HEAD")) {
        h_head(t, r, &o);
    } else {
        h_delete(t, r, &o);
    }
}

static void
daemon_put_done(struct ais_req *r, void *arg)
{
    struct tgt *t = arg;
    ais_resp_setconfig(r, t->cfg);
}

static void
r_daemon(struct ais_req *r, void *ctx)
{
    struct tgt *t = ctx;
    if (ais_req_is(r, "PUT")) {
        ais_req_body_buffer(r, AIS_CTRL_BODY_BYTES_MAX, daemon_put_done, t);
        return;
    }
    const char *what = ais_req_query(r, "what");
    json_t *j = tgt_query_json(t, what);
    if (j == NULL) {
        ais_resp_err(r, 400, "invalid what=%s (smap, bmd, config, snode, stats, mountpaths)", what);
        return;
    }
    ais_resp_json(r, 200, j);
    json_decref(j);
}

static void
r_health(struct ais_req *r, void *ctx)
{
    struct tgt *t = ctx;
    if (__atomic_load_n(&t->ready, __ATOMIC_ACQUIRE)) {
        ais_resp_empty(r, 200);
    } else {
        ais_resp_err(r, 503, "target %s is starting", t->self.id);
    }
}

/* Rows are tried in order (common/http.h): unknown paths 404, known ones 405 with Allow. */
static const struct ais_route tgt_routes[] = {
    {AIS_M_GET | AIS_M_HEAD, "/v1/health", r_health},
    {AIS_M_GET | AIS_M_PUT | AIS_M_HEAD | AIS_M_DELETE, "/v1/objects/*", r_objects},
    {AIS_M_GET | AIS_M_PUT, "/v1/daemon", r_daemon},
    {AIS_M_PUT, "/v1/daemon/setconfig", r_daemon},
    {AIS_M_PUT | AIS_M_POST | AIS_M_DELETE, "/v1/daemon/mountpaths", tgt_r_mountpaths},
    {AIS_M_GET, "/metrics", tgt_r_metrics},
    {AIS_M_GET, "/v1/ml/moss", tgt_r_moss}, /* batch GET (target/moss.c) */
    {AIS_M_GET, "/v1/ml/moss/*", tgt_r_moss},
};

void
tgt_http_handler(struct ais_req *r, void *ctx)
{
    ais_route_dispatch(r, tgt_routes, sizeof(tgt_routes) / sizeof(tgt_routes[0]), ctx);
}
