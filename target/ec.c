/*
 * Erasure coding on the target: encode and place on PUT, restore on GET, the EC record
 * receiver and reader, delete fan-out and the ec-encode job. The codec, layout, metadata and
 * placement are ec/ (pure); bytes move over rpc object streams (push) and SliceReq (pull).
 *
 * Design notes.
 * PUT ("sync" mode, as AIS's EC with sync on): the object is first published as usual; then,
 * before the client gets 200, the owner sends every slice (or, for a small object, a full
 * replica) to its holder - the d + p (or p) best HRW targets other than itself - and waits
 * for each holder's ack, which comes after the holder's rename (and fsync, with disk.fsync).
 * Data slices are read straight from the object file (zero-padded past its end); only the p
 * parity slices are computed, stripe by stripe (ec_encode_stream), into an anonymous scratch
 * file, so memory is (d + p) chunks whatever the object size. One thread per holder sends in
 * parallel. If any holder fails, the PUT fails with 503 but the object stays stored: an
 * acknowledged PUT means a protected object (AIS answers 200 and logs instead). The owner
 * keeps its own record under %mt: the metadata plus the holders' digests, which tells the
 * ec-encode job whether the placement is still the current one.
 *
 * Generations: each encode stamps a new generation (ns clock). A holder keeps the newer of
 * two records; a restore uses only records of one generation: the one in the owner's %mt
 * when it has one, else the newest found, so stale slices of an overwritten object are never
 * mixed in.
 *
 * Restore (GET/HEAD of an EC object with no good local copy): every target is asked for its
 * record's metadata (SliceReq with len 0, in parallel with a short timeout, so a dead target
 * costs one timeout), because after membership changes the slices may sit on former holders.
 * A replica is copied; slices: missing data slices are rebuilt into a scratch file from any
 * d sources (ec_rebuild_stream, reading sources chunk by chunk over SliceReq), then the object
 * is assembled slice by slice into a normal PUT whose expected checksum is the one recorded at
 * encode time: a wrong reconstruction fails st_put_finish and is never published or served.
 * keep_newer with the restore's start time keeps a client PUT that lands meanwhile.
 *
 * Deletes go to every target (a delete_objs RPC with the names), because slices may sit on
 * former holders; a target removes its records for any name it is asked about.
 */
#include "target/ec.h"

#include "common/err.h"
#include "common/hrw.h"
#include "common/log.h"
#include "common/names.h"
#include "common/util.h"
#include "ec/ec.h"
#include "rpc/stream.h"
#include "storage/slice.h"
#include "target/target_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EC_KIND_SLICE "ec-slice"
#define EC_KIND_REPLICA "ec-replica"
#define EC_KIND_ENCODE "ec-encode"
#define EC_PROBE_MS_MAX 2000   /* metadata probe per target: a dead one costs this once */
#define EC_FANOUT_MAX 32       /* threads of one probe or delete fan-out */
#define EC_RESTORE_TRIES 3     /* restores that drop a failing source and try again */
#define EC_PAGE 256            /* names per page of the ec-encode walk */
#define EC_REB_WAIT_STEPS 1200 /* 500 ms steps an ec-encode after a rebalance waits (10 min) */
#define EC_ARRIVED_MAX 256     /* moved objects queued for re-protection (about 300 KiB) */
/* %mt record: u16 meta length, the meta, u8 holder count, holder digests (u64 LE). */
#define EC_MT_BYTES_MAX (2 + EC_META_BYTES_MAX + 1 + 8 * EC_SLICES_MAX)

static_assert(EC_MT_BYTES_MAX <= ST_EC_META_BYTES_MAX, "%mt record fits storage's limit");
static_assert(EC_META_BYTES_MAX <= RPC_SLICE_META_BYTES_MAX, "EC meta fits a SliceResp");
static_assert(EC_CHUNK_BYTES <= AIS_STREAM_CHUNK_BYTES_MAX, "one chunk is one SliceReq");

/* An object that moved here (rebalance, get from neighbor), to be re-protected as ours. */
struct arrived {
    char provider[8], ns[AIS_NS_BYTES_MAX], bck[AIS_BCKNAME_BYTES_MAX + 1];
    char name[AIS_OBJNAME_BYTES_MAX + 1];
};

struct tgt_ec {
    struct tgt *t;
    pthread_mutex_t run_mu; /* one ec-encode walk at a time */
    /* Arrivals: a fixed ring served by one worker; full = dropped, and the worker then runs an
     * ec-encode walk of every EC bucket once it caught up (q_mu guards all below). */
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;
    pthread_t worker;
    int worker_on, stop;
    size_t head, n;
    uint64_t dropped;
    struct arrived *q; /* EC_ARRIVED_MAX */
};

/* ---- small helpers ---- */

static int
pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? -errno : -EIO;
        }
        done += (size_t)n;
    }
    return 0;
}

static int
pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? -errno : -EIO;
        }
        done += (size_t)n;
    }
    return 0;
}

static int
is_active_target(const struct ais_snode *n)
{
    return n->is_target && (n->flags & (AIS_SNODE_MAINTENANCE | AIS_SNODE_DECOMMISSION)) == 0;
}

static int
bck_props(struct tgt *t, const struct st_bck *b, struct ais_bprops *out)
{
    struct ais_bmd *bmd = ais_meta_bmd(&t->meta);
    const struct ais_bck_md *k = ais_bmd_find(bmd, b->provider, b->ns, b->name);
    if (k != NULL) {
        *out = k->props;
    }
    ais_bmd_unref(bmd);
    return k != NULL ? 0 : -ENOENT;
}

/*
 * The n holders of digest under smap: the best HRW targets other than self. Writes n node
 * pointers (into smap) and their digests. 0 or -ENOSPC (too few targets), -ENOMEM.
 */
static int
holders_pick(struct tgt *t, const struct ais_smap *smap, uint64_t digest, size_t n,
             const struct ais_snode **out, uint64_t *digs_out)
{
    uint64_t *digs = calloc(smap->nnodes + 1, sizeof(*digs));
    const struct ais_snode **nodes = calloc(smap->nnodes + 1, sizeof(*nodes));
    size_t idx[EC_SLICES_MAX + 1], cnt = 0;
    int rc = digs && nodes ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < smap->nnodes; i++) {
        const struct ais_snode *s = &smap->nodes[i];
        if (is_active_target(s) && strcmp(s->id, t->self.id) != 0) {
            nodes[cnt] = s;
            digs[cnt++] = s->id_digest;
        }
    }
    rc = rc ? rc : ec_place_pick(digs, cnt, digest, n, idx);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        out[i] = nodes[idx[i]];
        digs_out[i] = nodes[idx[i]]->id_digest;
    }
    free(digs);
    free(nodes);
    return rc;
}

/* ---- the owner's %mt record ---- */

static int
mt_store(struct tgt *t, const struct st_bck *b, const char *obj, uint64_t digest,
         const struct ec_meta *m, const uint64_t *holders, size_t nh)
{
    uint8_t buf[EC_MT_BYTES_MAX];
    int len = ec_meta_pack(m, buf + 2, EC_META_BYTES_MAX);
    if (len < 0) {
        return len;
    }
    buf[0] = (uint8_t)(len & 0xff);
    buf[1] = (uint8_t)(len >> 8);
    size_t pos = 2 + (size_t)len;
    buf[pos++] = (uint8_t)nh;
    for (size_t i = 0; i < nh; i++) {
        for (unsigned k = 0; k < 8; k++) {
            buf[pos++] = (uint8_t)(holders[i] >> (8 * k));
        }
    }
    /* Not fsynced: a record lost in a crash only means "newest generation found" on restore and
     * a re-encode by the next ec-encode; the slices themselves are durable before the 200. */
    return st_ecmeta_store(t->mp, b, obj, digest, buf, pos, 0);
}

/* 0 and *m (and the holders, when wanted), -ENOENT, or AIS_EBADMSG for a damaged record. */
static int
mt_load(struct tgt *t, const struct st_bck *b, const char *obj, uint64_t digest, struct ec_meta *m,
        uint64_t *holders, size_t *nh)
{
    uint8_t buf[EC_MT_BYTES_MAX];
    size_t len = 0;
    int rc = st_ecmeta_load(t->mp, b, obj, digest, buf, sizeof(buf), &len);
    if (rc != 0) {
        return rc == -EMSGSIZE ? AIS_EBADMSG : rc;
    }
    size_t ml = len >= 2 ? (size_t)buf[0] | (size_t)buf[1] << 8 : 0;
    if (len < 3 || ml > EC_META_BYTES_MAX || 2 + ml + 1 > len) {
        return AIS_EBADMSG;
    }
    rc = ec_meta_unpack(buf + 2, ml, m);
    size_t n = buf[2 + ml];
    if (rc != 0 || n > EC_SLICES_MAX || 2 + ml + 1 + 8 * n != len) {
        return AIS_EBADMSG;
    }
    for (size_t i = 0; holders != NULL && i < n; i++) {
        const uint8_t *p = buf + 3 + ml + 8 * i;
        holders[i] = 0;
        for (unsigned k = 0; k < 8; k++) {
            holders[i] |= (uint64_t)p[k] << (8 * k);
        }
    }
    if (nh != NULL) {
        *nh = n;
    }
    return 0;
}

/* ---- fan-out: fn(slot i) for peers[0..n) on up to EC_FANOUT_MAX threads ---- */

typedef void (*peer_fn)(void *ctx, size_t i);

struct fanout {
    peer_fn fn;
    void *ctx;
    size_t n, step, first;
};

static void *
fanout_main(void *arg)
{
    struct fanout *f = arg;
    for (size_t i = f->first; i < f->n; i += f->step) {
        f->fn(f->ctx, i);
    }
    return NULL;
}

static void
fanout_run(size_t n, peer_fn fn, void *ctx)
{
    size_t nt = n < EC_FANOUT_MAX ? n : EC_FANOUT_MAX;
    struct fanout f[EC_FANOUT_MAX];
    pthread_t th[EC_FANOUT_MAX];
    int started[EC_FANOUT_MAX] = {0};
    for (size_t k = 0; k < nt; k++) {
        f[k] = (struct fanout){.fn = fn, .ctx = ctx, .n = n, .step = nt, .first = k};
        started[k] = pthread_create(&th[k], NULL, fanout_main, &f[k]) == 0;
        if (!started[k]) {
            fanout_main(&f[k]); /* no thread: do its share here */
        }
    }
    for (size_t k = 0; k < nt; k++) {
        if (started[k]) {
            pthread_join(th[k], NULL);
        }
    }
}

/* ---- PUT: encode, send, record ---- */

struct put_job {
    struct tgt *t;
    const struct st_bck *b;
    const char *obj;
    const struct ais_snode *const *dest;
    struct ec_meta meta; /* template: slice_id set per send */
    int obj_fd, par_fd;
    int rc[EC_SLICES_MAX];
};

struct send_src {
    const struct put_job *j;
    unsigned idx; /* codec index; unused for a replica */
};

/* Payload of one send: replica = the object; data slice = object bytes, zero-padded; parity
 * slice = its part of the scratch file. */
static int
send_read(void *ctx, void *buf, size_t len, uint64_t off)
{
    const struct send_src *s = ctx;
    const struct ec_meta *m = &s->j->meta;
    if (m->is_copy) {
        return pread_full(s->j->obj_fd, buf, len, off);
    }
    if (s->idx >= m->data) {
        return pread_full(s->j->par_fd, buf, len, (s->idx - m->data) * m->slice_size + off);
    }
    uint64_t have = ec_slice_obj_bytes(m->obj_size, m->slice_size, s->idx);
    size_t real = off >= have ? 0 : (size_t)(have - off < len ? have - off : len);
    memset((char *)buf + real, 0, len - real);
    return real ? pread_full(s->j->obj_fd, buf, real, s->idx * m->slice_size + off) : 0;
}

static void
send_one(void *ctx, size_t i)
{
    struct put_job *j = ctx;
    struct ec_meta m = j->meta;
    struct send_src src = {.j = j, .idx = (unsigned)i};
    uint8_t opaque[EC_META_BYTES_MAX];
    char url[128];
    m.slice_id = m.is_copy ? 0 : (uint8_t)(i + 1);
    int len = ec_meta_pack(&m, opaque, sizeof(opaque));
    struct rpc_stream *s = NULL;
    int rc = len < 0 ? len : 0;
    if (rc == 0) {
        reb_data_url(j->dest[i], url, sizeof(url));
        rc = rpc_stream_open(url, NULL, &s);
    }
    if (rc == 0) {
        struct rpc_obj_hdr h = {
            .provider = j->b->provider,
            .ns = j->b->ns,
            .bck = j->b->name,
            .name = j->obj,
            .size = m.slice_size,
            .version = m.obj_version,
            .kind = m.is_copy ? EC_KIND_REPLICA : EC_KIND_SLICE,
            .opaque = opaque,
            .opaque_len = (size_t)len,
        };
        rc = rpc_stream_send_obj(s, &h, -1, send_read, &src);
        int crc = rpc_stream_close(s);
        rc = rc ? rc : crc;
    }
    j->rc[i] = rc;
}

static int
obj_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
    const struct put_job *j = ctx;
    return pread_full(j->obj_fd, buf, len, off);
}

static int
parity_write(void *ctx, unsigned idx, uint64_t off, const uint8_t *buf, size_t len)
{
    const struct put_job *j = ctx;
    return pwrite_full(j->par_fd, buf, len, (idx - j->meta.data) * j->meta.slice_size + off);
}

/* The p parity slices into a scratch file. */
static int
parity_make(struct put_job *j, uint64_t digest)
{
    struct ec_codec *c = NULL;
    int rc = st_scratch_open(j->t->mp, j->b, digest, &j->par_fd);
    rc = rc ? rc : ec_codec_new(j->meta.data, j->meta.parity, &c);
    unsigned all = j->meta.data + j->meta.parity; /* up to 64: no 1 << 64 */
    uint64_t emit = (all >= 64 ? ~0ull : (1ull << all) - 1) & ~((1ull << j->meta.data) - 1);
    rc = rc ? rc : ec_encode_stream(c, j->meta.obj_size, 0, emit, obj_read, parity_write, j);
    ec_codec_free(c);
    return rc;
}

static void
meta_init(struct tgt *t, const struct ais_bprops *p, const struct st_obj_md *md, struct ec_meta *m)
{
    memset(m, 0, sizeof(*m));
    m->generation = ais_now_ns();
    m->obj_size = md->size;
    m->data = (uint8_t)p->ec_data;
    m->parity = (uint8_t)p->ec_parity;
    m->is_copy = ec_is_copy(md->size, p->ec_objsize_limit);
    m->slice_size = m->is_copy ? md->size : ec_slice_size(md->size, m->data);
    snprintf(m->obj_cksum_type, sizeof(m->obj_cksum_type), "%s", md->cksum_type);
    snprintf(m->obj_cksum_value, sizeof(m->obj_cksum_value), "%s", md->cksum_value);
    snprintf(m->obj_version, sizeof(m->obj_version), "%s", md->version);
    snprintf(m->slice_cksum_type, sizeof(m->slice_cksum_type), "none");
    snprintf(m->full_replica, sizeof(m->full_replica), "%s", t->self.id);
}

/* Sends every slice; 0 or the first failure (msg names the holder). */
static int
put_send(struct put_job *j, size_t n, char *msg, size_t cap)
{
    fanout_run(n, send_one, j);
    for (size_t i = 0; i < n; i++) {
        if (j->rc[i] != 0) {
            snprintf(msg, cap, "%s %zu of %zu to target %s failed: %s",
                     j->meta.is_copy ? "replica" : "slice", i + 1, n, j->dest[i]->id,
                     ais_strerror(j->rc[i]));
            return j->rc[i];
        }
    }
    return 0;
}

int
tgt_ec_put(struct tgt *t, const struct st_bck *b, const char *obj, uint64_t digest,
           const struct ais_bprops *p, char *msg, size_t cap)
{
    struct put_job j = {.t = t, .b = b, .obj = obj, .obj_fd = -1, .par_fd = -1};
    const struct ais_snode *dest[EC_SLICES_MAX];
    uint64_t digs[EC_SLICES_MAX];
    struct st_obj_md md;
    j.dest = dest;
    int rc = st_obj_open(t->mp, b, obj, digest, &j.obj_fd, &md);
    if (rc != 0) {
        snprintf(msg, cap, "cannot open the stored object: %s", ais_strerror(rc));
        return rc;
    }
    meta_init(t, p, &md, &j.meta);
    size_t n = j.meta.is_copy ? j.meta.parity : (size_t)j.meta.data + j.meta.parity;
    struct ais_smap *smap = ais_meta_smap(&t->meta);
    rc = holders_pick(t, smap, digest, n, dest, digs);
    if (rc == -ENOSPC) {
        snprintf(msg, cap, "EC %u+%u needs %zu other targets for this object, the cluster has %zu",
                 j.meta.data, j.meta.parity, n, ais_smap_count(smap, 1) - 1);
    }
    if (rc == 0 && !j.meta.is_copy) {
        rc = parity_make(&j, digest);
        if (rc != 0) {
            snprintf(msg, cap, "encoding failed: %s", ais_strerror(rc));
        }
    }
    rc = rc ? rc : put_send(&j, n, msg, cap);
    if (rc == 0) {
        rc = mt_store(t, b, obj, digest, &j.meta, digs, n);
        if (rc != 0) {
            snprintf(msg, cap, "cannot store EC metadata: %s", ais_strerror(rc));
        }
    }
    ais_smap_unref(smap);
    close(j.obj_fd);
    if (j.par_fd >= 0) {
        close(j.par_fd);
    }
    return rc;
}

/* ---- receiver of slices and replicas (reb/ hands "ec-*" stream objects here) ---- */

struct ec_rx {
    struct tgt *t;
    struct st_slice *s;
    struct st_bck b;
    uint64_t digest;
    int64_t generation;
    size_t meta_len;
    uint8_t meta[EC_META_BYTES_MAX];
    char provider[8], ns[AIS_NS_BYTES_MAX], bck[AIS_BCKNAME_BYTES_MAX + 1];
    char name[AIS_OBJNAME_BYTES_MAX + 1];
};

/* A sender's header: a known EC bucket, a valid name, a sealed record that fits the size. */
static int
rx_check(struct tgt *t, const struct rpc_obj_hdr *h, struct ec_meta *m)
{
    struct ais_bprops p;
    if (h->name == NULL || ais_obj_name_check(h->name, strlen(h->name), NULL) != 0) {
        return AIS_EBADNAME;
    }
    struct st_bck b = {.provider = h->provider, .ns = h->ns, .name = h->bck};
    if (h->provider == NULL || h->ns == NULL || h->bck == NULL || bck_props(t, &b, &p) != 0) {
        return -ENOENT;
    }
    if (h->opaque_len == 0 || h->opaque_len > EC_META_BYTES_MAX ||
        ec_meta_unpack(h->opaque, h->opaque_len, m) != 0) {
        return AIS_EBADMSG;
    }
    int copy = strcmp(h->kind, EC_KIND_REPLICA) == 0;
    if (copy != m->is_copy || (!copy && strcmp(h->kind, EC_KIND_SLICE) != 0) ||
        h->size != m->slice_size) {
        return AIS_EBADMSG;
    }
    return 0;
}

static int
rx_begin(void *ctx, const struct rpc_obj_hdr *h, void **handle)
{
    struct tgt *t = ctx;
    struct ec_meta m;
    int rc = rx_check(t, h, &m);
    struct ec_rx *x = rc == 0 ? calloc(1, sizeof(*x)) : NULL;
    if (rc != 0 || x == NULL) {
        return rc ? rc : -ENOMEM;
    }
    x->t = t;
    snprintf(x->provider, sizeof(x->provider), "%s", h->provider);
    snprintf(x->ns, sizeof(x->ns), "%s", h->ns);
    snprintf(x->bck, sizeof(x->bck), "%s", h->bck);
    snprintf(x->name, sizeof(x->name), "%s", h->name);
    x->b = (struct st_bck){.provider = x->provider, .ns = x->ns, .name = x->bck};
    memcpy(x->meta, h->opaque, h->opaque_len);
    x->meta_len = h->opaque_len;
    x->generation = m.generation;
    rc = ais_obj_digest(x->provider, x->ns, x->bck, x->name, &x->digest);
    rc = rc ? rc : st_slice_begin(t->mp, &x->b, x->name, x->digest, &x->s);
    if (rc == -ENOENT && tgt_bck_dirs_ensure(t, &x->b) == 0) {
        rc = st_slice_begin(t->mp, &x->b, x->name, x->digest, &x->s);
    }
    if (rc != 0) {
        free(x);
        return rc;
    }
    *handle = x;
    return 0;
}

static int
rx_data(void *ctx, void *handle, const void *buf, size_t len)
{
    struct ec_rx *x = handle;
    return st_slice_write(x->s, buf, len);
}

/* 1 when this target holds a record of obj newer than gen (a later overwrite won the race). */
static int
rx_have_newer(struct ec_rx *x)
{
    uint8_t meta[EC_META_BYTES_MAX];
    size_t ml = 0;
    uint64_t size = 0;
    int fd = -1;
    struct ec_meta m;
    if (st_slice_open(x->t->mp, &x->b, x->name, x->digest, &fd, &size, meta, sizeof(meta), &ml) !=
        0) {
        return 0;
    }
    close(fd);
    return ec_meta_unpack(meta, ml, &m) == 0 && m.generation > x->generation;
}

static int
rx_end(void *ctx, void *handle, int ok)
{
    struct ec_rx *x = handle;
    int rc = 0;
    if (!ok || rx_have_newer(x)) {
        st_slice_abort(x->s);
    } else {
        rc = st_slice_finish(x->s, x->meta, x->meta_len, ais_config_rt_get(&x->t->cfg->rt.fsync));
    }
    free(x);
    return rc;
}

const struct rpc_stream_ops tgt_ec_recv_ops = {
    .obj_begin = rx_begin,
    .obj_data = rx_data,
    .obj_end = rx_end,
};

/* ---- SliceReq: serve a part of a local record ---- */

int
tgt_ec_slice_read(struct tgt *t, const struct rpc_slice_req *q, struct rpc_slice *out,
                  struct rpc_err *err)
{
    struct ais_bprops p;
    uint64_t digest = 0;
    struct st_bck b = {.provider = q->provider, .ns = q->ns, .name = q->bck};
    int rc = q->name ? ais_obj_name_check(q->name, strlen(q->name), NULL) : AIS_EBADNAME;
    rc = rc ? rc : bck_props(t, &b, &p);
    rc = rc ? rc : ais_obj_digest(q->provider, q->ns, q->bck, q->name, &digest);
    int fd = -1;
    rc = rc ? rc
            : st_slice_open(t->mp, &b, q->name, digest, &fd, &out->size, out->meta,
                            sizeof(out->meta), &out->meta_len);
    if (rc != 0) {
        return rc;
    }
    size_t len = q->off >= out->size           ? 0
                 : out->size - q->off < q->len ? (size_t)(out->size - q->off)
                                               : q->len;
    rc = len ? pread_full(fd, out->buf, len, q->off) : 0;
    close(fd);
    out->n = rc == 0 ? len : 0;
    if (rc != 0) {
        snprintf(err->msg, sizeof(err->msg), "read EC record %s: %s", q->name, ais_strerror(rc));
    }
    return rc;
}

/* ---- restore ---- */

/* One target's record of the object, as its metadata says. */
struct rec {
    const struct ais_snode *node; /* NULL: this target */
    struct ec_meta m;
    int found;
    int bad; /* a read from it failed: not used again by this restore */
};

struct probe {
    struct tgt *t;
    const struct st_bck *b;
    const char *obj;
    uint64_t digest;
    struct rec *recs;
};

static int
rec_read_local(struct tgt *t, const struct st_bck *b, const char *obj, uint64_t digest,
               uint64_t off, void *buf, size_t len, struct ec_meta *m)
{
    uint8_t meta[EC_META_BYTES_MAX];
    size_t ml = 0;
    uint64_t size = 0;
    int fd = -1;
    int rc = st_slice_open(t->mp, b, obj, digest, &fd, &size, meta, sizeof(meta), &ml);
    if (rc != 0) {
        return rc;
    }
    rc = ec_meta_unpack(meta, ml, m);
    rc = rc ? rc : len ? (off + len > size ? -EIO : pread_full(fd, buf, len, off)) : 0;
    close(fd);
    return rc;
}

/* Reads len bytes at off of a record (len 0: metadata only); *m gets its metadata. */
static int
rec_read(const struct probe *pr, const struct ais_snode *node, uint64_t off, void *buf, size_t len,
         int timeout_ms, struct ec_meta *m)
{
    if (node == NULL) {
        return rec_read_local(pr->t, pr->b, pr->obj, pr->digest, off, buf, len, m);
    }
    char url[128];
    struct rpc_err err = {0};
    struct rpc_slice *out = calloc(1, sizeof(*out));
    if (out == NULL) {
        return -ENOMEM;
    }
    struct rpc_slice_req q = {.provider = pr->b->provider,
                              .ns = pr->b->ns,
                              .bck = pr->b->name,
                              .name = pr->obj,
                              .off = off,
                              .len = (uint32_t)len};
    out->buf = buf;
    ais_snode_ctrl_url(node, url, sizeof(url));
    int rc = rpc_slice_read(url, timeout_ms, &q, out, &err);
    rc = rc ? rc : ec_meta_unpack(out->meta, out->meta_len, m);
    rc = rc ? rc : out->n != len ? -EIO : 0;
    free(out);
    return rc;
}

static void
probe_one(void *ctx, size_t i)
{
    struct probe *pr = ctx;
    struct rec *r = &pr->recs[i];
    int to = (int)pr->t->cfg->rpc_timeout_ms;
    r->found =
        rec_read(pr, r->node, 0, NULL, 0, to < EC_PROBE_MS_MAX ? to : EC_PROBE_MS_MAX, &r->m) == 0;
}

/* Every target's record (this one first); returns how many slots recs has (all targets). */
static size_t
probe_all(struct probe *pr, const struct ais_smap *smap)
{
    size_t n = 1;
    pr->recs[0].node = NULL;
    for (size_t i = 0; i < smap->nnodes; i++) {
        const struct ais_snode *s = &smap->nodes[i];
        if (s->is_target && strcmp(s->id, pr->t->self.id) != 0) {
            pr->recs[n++].node = s;
        }
    }
    fanout_run(n, probe_one, pr);
    return n;
}

/* The generation a restore uses: the owner's record's, else the newest found (0: none). */
static int64_t
pick_generation(const struct rec *recs, size_t n, int64_t want)
{
    int64_t best = 0;
    for (size_t i = 0; i < n; i++) {
        if (recs[i].found && !recs[i].bad) {
            if (want != 0 && recs[i].m.generation == want) {
                return want;
            }
            best = recs[i].m.generation > best ? recs[i].m.generation : best;
        }
    }
    return want != 0 ? (best >= want ? best : 0) : best;
}

struct restore {
    struct probe *pr;
    const struct ec_meta *m;
    const struct rec *src[EC_SLICES_MAX]; /* by codec index; NULL when not available */
    int scratch;                          /* rebuilt data slices, contiguous in want order */
    uint64_t want;
    int failed_idx; /* the source whose read failed, or -1 */
    int to_ms;
};

static int
rs_read(void *ctx, unsigned idx, uint64_t off, uint8_t *buf, size_t len)
{
    struct restore *s = ctx;
    struct ec_meta m;
    int rc = rec_read(s->pr, s->src[idx]->node, off, buf, len, s->to_ms, &m);
    if (rc == 0 && m.generation != s->m->generation) {
        rc = -ESTALE; /* overwritten under us */
    }
    if (rc != 0) {
        s->failed_idx = (int)idx;
    }
    return rc;
}

static unsigned
want_pos(uint64_t want, unsigned idx)
{
    return (unsigned)__builtin_popcountll(want & ((1ull << idx) - 1));
}

static int
rs_write(void *ctx, unsigned idx, uint64_t off, const uint8_t *buf, size_t len)
{
    struct restore *s = ctx;
    return pwrite_full(s->scratch, buf, len, want_pos(s->want, idx) * s->m->slice_size + off);
}

/* Rebuilds the missing data slices (s->want) into the scratch file. */
static int
rebuild_data(struct restore *s, uint64_t have)
{
    struct ec_codec *c = NULL;
    struct ec_rebuild *rb = NULL;
    int rc = st_scratch_open(s->pr->t->mp, s->pr->b, s->pr->digest, &s->scratch);
    rc = rc ? rc : ec_codec_new(s->m->data, s->m->parity, &c);
    rc = rc ? rc : ec_rebuild_new(c, have, s->want, &rb);
    rc = rc ? rc : ec_rebuild_stream(rb, s->m->slice_size, 0, rs_read, rs_write, s);
    ec_rebuild_free(rb);
    ec_codec_free(c);
    return rc;
}

/* The object's bytes in order into a verified PUT: data slices from sources or the scratch. */
static int
assemble(struct restore *s, struct st_put *put, uint8_t *buf)
{
    const struct ec_meta *m = s->m;
    int rc = 0;
    for (unsigned i = 0; rc == 0 && (m->is_copy ? i < 1 : i < m->data); i++) {
        uint64_t n = m->is_copy ? m->obj_size : ec_slice_obj_bytes(m->obj_size, m->slice_size, i);
        for (uint64_t off = 0; rc == 0 && off < n; off += EC_CHUNK_BYTES) {
            size_t len = n - off < EC_CHUNK_BYTES ? (size_t)(n - off) : EC_CHUNK_BYTES;
            if (!m->is_copy && (s->want >> i & 1)) {
                rc = pread_full(s->scratch, buf, len, want_pos(s->want, i) * m->slice_size + off);
            } else {
                rc = rs_read(s, m->is_copy ? 0 : i, off, buf, len);
            }
            rc = rc ? rc : st_put_write(put, buf, len);
        }
    }
    return rc;
}

/* Publishes the object from the chosen sources. */
static int
restore_publish(struct restore *s, int64_t start_ns)
{
    struct tgt *t = s->pr->t;
    const struct ec_meta *m = s->m;
    struct st_put *put = NULL;
    struct st_put_opts o = {
        .cksum_type = m->obj_cksum_type[0] ? m->obj_cksum_type : NULL,
        .expect_type = m->obj_cksum_type[0] ? m->obj_cksum_type : NULL,
        .expect_value = m->obj_cksum_type[0] ? m->obj_cksum_value : NULL,
        .fsync = ais_config_rt_get(&t->cfg->rt.fsync),
        .version = m->obj_version[0] ? m->obj_version : NULL,
        .mtime_ns = start_ns,
        .keep_newer = 1,
    };
    uint8_t *buf = malloc(EC_CHUNK_BYTES);
    /* The disk that lost the object may have lost its directories too: make them again (only
     * while the bucket is in the BMD, so a destroyed bucket is not resurrected). */
    int rc = buf ? tgt_bck_dirs_ensure(t, s->pr->b) : -ENOMEM;
    rc = rc ? rc : st_put_begin(t->mp, s->pr->b, s->pr->obj, s->pr->digest, &o, &put);
    rc = rc ? rc : assemble(s, put, buf);
    if (rc == 0) {
        rc = st_put_finish(put, NULL);
        rc = rc == -EEXIST ? 0 : rc; /* a client PUT landed meanwhile: it wins */
    } else {
        st_put_abort(put);
    }
    free(buf);
    return rc == -ENOENT ? -EIO : rc; /* -ENOENT means "no record anywhere" to the caller */
}

/* One attempt with the records of generation gen. */
static int
restore_try(struct probe *pr, size_t n, int64_t gen, int64_t start_ns, char *msg, size_t cap)
{
    struct restore s = {.pr = pr, .scratch = -1, .failed_idx = -1};
    uint64_t have = 0;
    int to = (int)pr->t->cfg->rpc_timeout_ms;
    s.to_ms = to;
    for (size_t i = 0; i < n; i++) {
        const struct rec *r = &pr->recs[i];
        if (!r->found || r->bad || r->m.generation != gen) {
            continue;
        }
        unsigned idx = r->m.is_copy ? 0 : r->m.slice_id - 1u;
        if ((r->m.is_copy || r->m.slice_id > 0) && !(have >> idx & 1)) {
            have |= 1ull << idx;
            s.src[idx] = r;
            s.m = s.m ? s.m : &r->m; /* one generation: one layout */
        }
    }
    if (s.m == NULL) {
        return -ENOENT;
    }
    unsigned d = s.m->data, got = (unsigned)__builtin_popcountll(have);
    if (!s.m->is_copy && got < d) {
        snprintf(msg, cap,
                 "cannot restore from erasure coding: found %u of the %u slices needed (%u data + "
                 "%u parity were written)",
                 got, d, d, s.m->parity);
        return -ENODATA;
    }
    s.want = s.m->is_copy ? 0 : ((1ull << d) - 1) & ~have;
    int rc = s.want ? rebuild_data(&s, have) : 0;
    rc = rc ? rc : restore_publish(&s, start_ns);
    if (s.scratch >= 0) {
        close(s.scratch);
    }
    if (rc != 0 && s.failed_idx >= 0) {
        ((struct rec *)s.src[s.failed_idx])->bad = 1;
        rc = -EAGAIN; /* try again without it */
    }
    if (rc == AIS_EBADCKSUM) {
        snprintf(msg, cap, "object rebuilt from erasure coding fails its checksum (%s %s)",
                 s.m->obj_cksum_type, s.m->obj_cksum_value);
    }
    return rc;
}

/*
 * Another generation of the same bytes (re-encoded after a membership change, or in place by
 * an ec-encode racing this restore) may stand in for one that has too few slices left. Only
 * with a real checksum: an older version of the object must never be served for the newest.
 */
static int
same_content(const struct ec_meta *a, const struct ec_meta *b)
{
    return a->obj_size == b->obj_size && a->obj_cksum_type[0] != '\0' &&
           strcmp(a->obj_cksum_type, "none") != 0 &&
           strcmp(a->obj_cksum_type, b->obj_cksum_type) == 0 &&
           strcmp(a->obj_cksum_value, b->obj_cksum_value) == 0 &&
           strcmp(a->obj_version, b->obj_version) == 0;
}

static const struct ec_meta *
gen_meta(const struct rec *recs, size_t n, int64_t gen)
{
    for (size_t i = 0; i < n; i++) {
        if (recs[i].found && !recs[i].bad && recs[i].m.generation == gen) {
            return &recs[i].m;
        }
    }
    return NULL;
}

static void
gen_retire(struct rec *recs, size_t n, int64_t gen)
{
    for (size_t i = 0; i < n; i++) {
        recs[i].bad |= recs[i].m.generation == gen;
    }
}

/* Tries the wanted generation, then older ones of the same bytes; bounded by the records. */
static int
restore_run(struct probe *pr, size_t n, int64_t want_gen, char *msg, size_t cap)
{
    int64_t start_ns = ais_now_ns();
    struct ec_meta ref;
    int rc = -ENOENT, again = 0, have_ref = 0;
    char first[256] = "";
    for (size_t i = 0; i < n + EC_RESTORE_TRIES; i++) {
        int64_t gen = pick_generation(pr->recs, n, have_ref ? 0 : want_gen);
        const struct ec_meta *gm = gen != 0 ? gen_meta(pr->recs, n, gen) : NULL;
        if (gm == NULL) {
            break;
        }
        if (have_ref && !same_content(&ref, gm)) {
            gen_retire(pr->recs, n, gen);
            continue;
        }
        ref = have_ref ? ref : *gm;
        have_ref = 1;
        rc = restore_try(pr, n, gen, start_ns, msg, cap);
        if (rc == -EAGAIN && ++again < EC_RESTORE_TRIES) {
            continue;
        }
        if (rc != -ENODATA) {
            break;
        }
        if (first[0] == '\0') {
            snprintf(first, sizeof(first), "%s", msg);
        }
        gen_retire(pr->recs, n, gen);
    }
    if (rc == -EAGAIN) {
        snprintf(msg, cap, "cannot restore from erasure coding: reading slices kept failing");
        rc = -EIO;
    } else if (rc == -ENODATA && first[0] != '\0') {
        snprintf(msg, cap, "%s", first);
    } else if (rc == -ENOENT && want_gen != 0) {
        snprintf(msg, cap,
                 "cannot restore from erasure coding: no slice or replica of generation "
                 "%" PRId64 " found",
                 want_gen);
        rc = -ENODATA;
    }
    return rc;
}

int
tgt_ec_restore(struct tgt *t, const struct st_bck *b, const char *obj, uint64_t digest, char *msg,
               size_t cap)
{
    struct ec_meta mine;
    int64_t want_gen = mt_load(t, b, obj, digest, &mine, NULL, NULL) == 0 ? mine.generation : 0;
    struct ais_smap *smap = ais_meta_smap(&t->meta);
    struct probe pr = {.t = t, .b = b, .obj = obj, .digest = digest};
    pr.recs = calloc(smap->nnodes + 1, sizeof(*pr.recs));
    int rc = pr.recs ? 0 : -ENOMEM;
    msg[0] = '\0';
    if (rc == 0) {
        size_t n = probe_all(&pr, smap);
        rc = restore_run(&pr, n, want_gen, msg, cap);
        int64_t gen = rc == 0 ? pick_generation(pr.recs, n, want_gen) : 0;
        const struct rec *any = NULL;
        for (size_t i = 0; gen != 0 && i < n && any == NULL; i++) {
            any = pr.recs[i].found && pr.recs[i].m.generation == gen ? &pr.recs[i] : NULL;
        }
        if (any != NULL && want_gen == 0) {
            struct ec_meta m = any->m;
            m.slice_id = 0;
            (void)mt_store(t, b, obj, digest, &m, NULL, 0); /* HEAD shows it; re-placed later */
        }
    }
    AIS_LOG_INFO("req=ec-restore obj=%s/%s rc=%d msg=\"%s\"", b->name, obj, rc, msg);
    ais_smap_unref(smap);
    free(pr.recs);
    return rc;
}

int
tgt_ec_meta(struct tgt *t, const struct st_bck *b, const char *obj, uint64_t digest,
            struct ec_meta *out)
{
    if (mt_load(t, b, obj, digest, out, NULL, NULL) == 0) {
        return 0;
    }
    struct ais_smap *smap = ais_meta_smap(&t->meta);
    struct probe pr = {.t = t, .b = b, .obj = obj, .digest = digest};
    pr.recs = calloc(smap->nnodes + 1, sizeof(*pr.recs));
    int rc = pr.recs ? -ENOENT : -ENOMEM;
    if (pr.recs != NULL) {
        size_t n = probe_all(&pr, smap);
        int64_t gen = pick_generation(pr.recs, n, 0);
        for (size_t i = 0; i < n && rc != 0; i++) {
            if (pr.recs[i].found && pr.recs[i].m.generation == gen) {
                *out = pr.recs[i].m;
                rc = 0;
            }
        }
    }
    ais_smap_unref(smap);
    free(pr.recs);
    return rc;
}

/* ---- delete ---- */

struct del_fan {
    struct tgt *t;
    const struct st_bck *b;
    const char *const *names;
    size_t n;
    const struct ais_snode **peers;
};

static void
del_one(void *ctx, size_t i)
{
    struct del_fan *f = ctx;
    char url[128];
    struct rpc_err err = {0};
    ais_snode_ctrl_url(f->peers[i], url, sizeof(url));
    int rc = rpc_ec_delete(url, (int)f->t->cfg->rpc_timeout_ms, f->b->provider, f->b->ns,
                           f->b->name, f->names, f->n, &err);
    if (rc != 0) {
        AIS_LOG_WARN("req=ec-delete bck=%s target=%s msg=\"EC records may remain\" err=\"%s\"",
                     f->b->name, f->peers[i]->id, ais_strerror(rc));
    }
}

int
tgt_ec_delete_local(struct tgt *t, const struct st_bck *b, const char *const *names, size_t n)
{
    struct ais_bprops p;
    int rc = bck_props(t, b, &p);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint64_t digest = 0;
        /* Names from a peer are not trusted with paths. */
        if (ais_obj_name_check(names[i], strlen(names[i]), NULL) == 0 &&
            ais_obj_digest(b->provider, b->ns, b->name, names[i], &digest) == 0) {
            (void)st_slice_delete(t->mp, b, names[i], digest);
        }
    }
    return rc;
}

void
tgt_ec_delete(struct tgt *t, const struct st_bck *b, const char *const *names, size_t n)
{
    (void)tgt_ec_delete_local(t, b, names, n);
    struct ais_smap *smap = ais_meta_smap(&t->meta);
    struct del_fan f = {.t = t, .b = b, .names = names, .n = n};
    f.peers = calloc(smap->nnodes + 1, sizeof(*f.peers));
    size_t np = 0;
    for (size_t i = 0; f.peers != NULL && i < smap->nnodes; i++) {
        const struct ais_snode *s = &smap->nodes[i];
        if (s->is_target && strcmp(s->id, t->self.id) != 0) {
            f.peers[np++] = s;
        }
    }
    if (n > 0) {
        fanout_run(np, del_one, &f);
    }
    free(f.peers);
    ais_smap_unref(smap);
}

/* ---- ec-encode: protect every object of a bucket under the current placement ---- */

struct enc_run {
    struct tgt_ec *e;
    struct xa_job *job;
    char provider[8], ns[AIS_NS_BYTES_MAX], bck[AIS_BCKNAME_BYTES_MAX + 1];
    int after_reb; /* started by a membership change: wait for the rebalance first */
    size_t n;
    char (*names)[AIS_OBJNAME_BYTES_MAX + 1];
    uint64_t failed;
};

static int
enc_page_add(void *ctx, const char *name, const struct st_obj_md *md)
{
    (void)md;
    struct enc_run *u = ctx;
    snprintf(u->names[u->n++], sizeof(u->names[0]), "%s", name);
    return 0;
}

/* 1 when obj's record matches props and the current holders (nothing to do). */
static int
enc_in_place(struct tgt *t, const struct st_bck *b, const char *obj, uint64_t digest,
             const struct ais_bprops *p, const struct ais_smap *smap)
{
    struct ec_meta m;
    struct st_obj_md md;
    uint64_t had[EC_SLICES_MAX], now[EC_SLICES_MAX];
    const struct ais_snode *dest[EC_SLICES_MAX];
    size_t nh = 0;
    if (mt_load(t, b, obj, digest, &m, had, &nh) != 0 || st_obj_stat(t->mp, b, obj, digest, &md) ||
        m.data != p->ec_data || m.parity != p->ec_parity || m.obj_size != md.size ||
        strcmp(m.obj_cksum_value, md.cksum_value) != 0 || strcmp(m.full_replica, t->self.id) ||
        m.is_copy != ec_is_copy(md.size, p->ec_objsize_limit)) {
        return 0;
    }
    size_t want = m.is_copy ? m.parity : (size_t)m.data + m.parity;
    return nh == want && holders_pick(t, smap, digest, want, dest, now) == 0 &&
           memcmp(had, now, want * sizeof(now[0])) == 0;
}

static void
enc_page(struct enc_run *u, const struct st_bck *b, const struct ais_bprops *p)
{
    struct tgt *t = u->e->t;
    struct ais_smap *smap = ais_meta_smap(&t->meta);
    for (size_t i = 0; i < u->n && !xa_job_aborted(u->job); i++) {
        uint64_t digest = 0;
        char msg[256];
        const struct ais_snode *owner = NULL;
        if (ais_obj_digest(b->provider, b->ns, b->name, u->names[i], &digest) != 0 ||
            (owner = ais_smap_hrw_target(smap, digest)) == NULL ||
            strcmp(owner->id, t->self.id) != 0 ||
            enc_in_place(t, b, u->names[i], digest, p, smap)) {
            continue; /* not ours (a rebalance moves it) or protected as it should be */
        }
        int rc = tgt_ec_put(t, b, u->names[i], digest, p, msg, sizeof(msg));
        if (rc == 0) {
            xa_job_add(u->job, XA_CTR_LOC, 1, 0);
        } else if (rc != -ENOENT) {
            u->failed++;
            AIS_LOG_WARN("req=ec-encode id=%s obj=%s/%s msg=\"%s\"", xa_job_id(u->job), b->name,
                         u->names[i], msg);
        }
    }
    ais_smap_unref(smap);
}

static int
enc_walk(struct enc_run *u, const struct ais_bprops *p)
{
    struct st_bck b = {.provider = u->provider, .ns = u->ns, .name = u->bck};
    struct st_list_iter *it = NULL;
    int rc = st_list_iter_open(u->e->t->mp, &b, "", 0, &it);
    if (rc != 0) {
        return rc == -ENOENT ? 0 : rc;
    }
    int more = 1;
    while (rc == 0 && more && !xa_job_aborted(u->job)) {
        u->n = 0;
        rc = st_list_iter_next_page(it, EC_PAGE, enc_page_add, u, &more);
        if (rc == 0) {
            enc_page(u, &b, p);
        }
    }
    st_list_iter_close(it);
    return rc;
}

/* After a membership change: the rebalance moves main copies first (bounded wait). */
static void
enc_wait_reb(struct enc_run *u)
{
    struct xa_filter f = {.kind = "rebalance"};
    for (int i = 0; i < EC_REB_WAIT_STEPS && !xa_job_aborted(u->job); i++) {
        if (xa_wait(u->e->t->xreg, &f, 500) == 0) {
            return;
        }
    }
}

static int
enc_body(struct xa_job *job, void *arg)
{
    struct enc_run *u = arg;
    struct tgt *t = u->e->t;
    struct ais_bprops p;
    u->job = job;
    pthread_mutex_lock(&u->e->run_mu);
    if (u->after_reb) {
        enc_wait_reb(u);
    }
    struct st_bck b = {.provider = u->provider, .ns = u->ns, .name = u->bck};
    int rc =
        bck_props(t, &b, &p) == 0 && p.ec_enabled && !xa_job_aborted(job) ? enc_walk(u, &p) : 0;
    if (rc == 0 && xa_job_aborted(job)) {
        rc = -ECANCELED;
    }
    if (rc == 0 && u->failed > 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%llu object(s) not protected", (unsigned long long)u->failed);
        xa_job_set_err(job, msg);
        rc = -EIO;
    }
    AIS_LOG_INFO("req=ec-encode id=%s bck=%s rc=%d failed=%llu msg=ended", xa_job_id(job), u->bck,
                 rc, (unsigned long long)u->failed);
    pthread_mutex_unlock(&u->e->run_mu);
    return rc;
}

static void
enc_free(void *arg)
{
    struct enc_run *u = arg;
    if (u != NULL) {
        free(u->names);
        free(u);
    }
}

int
tgt_ec_encode_start(struct tgt_ec *e, const char *provider, const char *ns, const char *bck,
                    const char *id, int after_reb)
{
    struct enc_run *u = calloc(1, sizeof(*u));
    if (u == NULL || (u->names = malloc(EC_PAGE * sizeof(*u->names))) == NULL) {
        enc_free(u);
        return -ENOMEM;
    }
    u->e = e;
    u->after_reb = after_reb;
    snprintf(u->provider, sizeof(u->provider), "%s", provider);
    snprintf(u->ns, sizeof(u->ns), "%s", ns);
    snprintf(u->bck, sizeof(u->bck), "%s", bck);
    char disp[XA_BCK_BYTES];
    snprintf(disp, sizeof(disp), "%s://%s", provider, bck);
    (void)xa_abort(e->t->xreg, &(struct xa_filter){.kind = EC_KIND_ENCODE, .bck = disp});
    int rc = xa_job_start_id(e->t->xreg, id, EC_KIND_ENCODE, disp, enc_body, u, enc_free, NULL);
    if (rc != 0) {
        AIS_LOG_WARN("req=ec-encode bck=%s msg=\"cannot start\" err=\"%s\"", bck, ais_strerror(rc));
    }
    return rc;
}

/* ---- arrivals: objects moved here are re-protected for their new owner ---- */

void
tgt_ec_obj_arrived(void *ctx, const struct st_bck *b, const char *name)
{
    struct tgt *t = ctx;
    struct tgt_ec *e = t->ec;
    struct ais_bprops p;
    if (e == NULL || bck_props(t, b, &p) != 0 || !p.ec_enabled) {
        return;
    }
    pthread_mutex_lock(&e->q_mu);
    if (e->n == EC_ARRIVED_MAX) {
        e->dropped++; /* the catch-up walk covers it */
    } else {
        struct arrived *a = &e->q[(e->head + e->n) % EC_ARRIVED_MAX];
        snprintf(a->provider, sizeof(a->provider), "%s", b->provider);
        snprintf(a->ns, sizeof(a->ns), "%s", b->ns);
        snprintf(a->bck, sizeof(a->bck), "%s", b->name);
        snprintf(a->name, sizeof(a->name), "%s", name);
        e->n++;
        pthread_cond_signal(&e->q_cv);
    }
    pthread_mutex_unlock(&e->q_mu);
}

static void
arrived_protect(struct tgt *t, const struct arrived *a)
{
    struct st_bck b = {.provider = a->provider, .ns = a->ns, .name = a->bck};
    struct ais_bprops p;
    uint64_t digest = 0;
    char msg[256];
    if (bck_props(t, &b, &p) != 0 || !p.ec_enabled ||
        ais_obj_digest(b.provider, b.ns, b.name, a->name, &digest) != 0) {
        return;
    }
    struct ais_smap *smap = ais_meta_smap(&t->meta);
    const struct ais_snode *owner = ais_smap_hrw_target(smap, digest);
    int mine = owner != NULL && strcmp(owner->id, t->self.id) == 0;
    int skip = !mine || enc_in_place(t, &b, a->name, digest, &p, smap);
    ais_smap_unref(smap);
    if (!skip && tgt_ec_put(t, &b, a->name, digest, &p, msg, sizeof(msg)) != 0) {
        AIS_LOG_WARN("req=ec-arrived obj=%s/%s msg=\"not re-protected\" err=\"%s\"", b.name,
                     a->name, msg);
    }
}

/* Every EC bucket gets an ec-encode walk (after arrivals were dropped). */
static void
arrived_catch_up(struct tgt_ec *e)
{
    struct ais_bmd *bmd = ais_meta_bmd(&e->t->meta);
    for (size_t i = 0; i < bmd->n; i++) {
        const struct ais_bck_md *k = &bmd->bcks[i];
        if (k->props.ec_enabled && tgt_ec_encode_start(e, k->provider, k->ns, k->name, NULL, 0)) {
            AIS_LOG_WARN("req=ec-arrived bck=%s msg=\"cannot start the catch-up walk\"", k->name);
        }
    }
    ais_bmd_unref(bmd);
}

static void *
arrived_main(void *arg)
{
    struct tgt_ec *e = arg;
    struct arrived *a = malloc(sizeof(*a));
    pthread_mutex_lock(&e->q_mu);
    while (a != NULL && !e->stop) {
        if (e->n == 0) {
            uint64_t dropped = e->dropped;
            e->dropped = 0;
            if (dropped > 0) {
                pthread_mutex_unlock(&e->q_mu);
                arrived_catch_up(e);
                pthread_mutex_lock(&e->q_mu);
                continue;
            }
            pthread_cond_wait(&e->q_cv, &e->q_mu);
            continue;
        }
        *a = e->q[e->head];
        e->head = (e->head + 1) % EC_ARRIVED_MAX;
        e->n--;
        pthread_mutex_unlock(&e->q_mu);
        arrived_protect(e->t, a);
        pthread_mutex_lock(&e->q_mu);
    }
    pthread_mutex_unlock(&e->q_mu);
    free(a);
    return NULL;
}

int
tgt_ec_new(struct tgt *t, struct tgt_ec **out)
{
    struct tgt_ec *e = calloc(1, sizeof(*e));
    if (e == NULL || (e->q = calloc(EC_ARRIVED_MAX, sizeof(*e->q))) == NULL) {
        free(e);
        return -ENOMEM;
    }
    e->t = t;
    pthread_mutex_init(&e->run_mu, NULL);
    pthread_mutex_init(&e->q_mu, NULL);
    pthread_cond_init(&e->q_cv, NULL);
    int rc = pthread_create(&e->worker, NULL, arrived_main, e);
    if (rc != 0) {
        tgt_ec_free(e);
        return -rc;
    }
    e->worker_on = 1;
    *out = e;
    return 0;
}

void
tgt_ec_free(struct tgt_ec *e)
{
    if (e == NULL) {
        return;
    }
    if (e->worker_on) {
        pthread_mutex_lock(&e->q_mu);
        e->stop = 1;
        pthread_cond_signal(&e->q_cv);
        pthread_mutex_unlock(&e->q_mu);
        pthread_join(e->worker, NULL); /* within one tgt_ec_put: bounded by the stream timeouts */
    }
    (void)xa_abort(e->t->xreg, &(struct xa_filter){.kind = EC_KIND_ENCODE});
    (void)xa_wait(e->t->xreg, &(struct xa_filter){.kind = EC_KIND_ENCODE}, 60000);
    pthread_cond_destroy(&e->q_cv);
    pthread_mutex_destroy(&e->q_mu);
    pthread_mutex_destroy(&e->run_mu);
    free(e->q);
    free(e);
}
