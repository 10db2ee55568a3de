/*
 * Reed-Solomon codec over ISA-L, slice layout and the stripe drivers.
 *
 * Design notes: the generator is ISA-L's gf_gen_cauchy1_matrix, (d + p) x d with the identity on
 * top and a Cauchy block below. Unlike gf_gen_rs_matrix (Vandermonde-like, not invertible for
 * every loss pattern at larger d + p), every d x d sub-matrix of [I; Cauchy] is invertible, so
 * any d survivors rebuild the rest and a singular matrix is a bug (asserted), not an input
 * error. The codec keeps the generator and the parity tables (32 * d * p bytes); a rebuild plan
 * keeps the d source indices and the tables of its wanted rows: for a lost data slice the row
 * of B^-1 (B = the generator rows of the sources), for a lost parity slice its generator row
 * times B^-1, so data and parity come back in one ec_encode_data pass over the sources.
 * ISA-L takes int lengths: longer calls go in pieces. The drivers allocate one buffer of
 * (d + p) chunks per call and never hold more of an object than that.
 */
#include "common/assert.h"
#include "ec/ec.h"

#include <errno.h>
#include <isa-l.h>
#include <stdlib.h>
#include <string.h>

/* Largest length handed to one ISA-L call (it takes int); a multiple of the slice alignment. */
#define EC_ISAL_PIECE_BYTES (1u << 30)
/* ISA-L needs 32 bytes of tables per (source, output) coefficient. */
#define EC_GFTBL_BYTES 32

static_assert(EC_CHUNK_BYTES % EC_SLICE_ALIGN_BYTES == 0, "default chunk is aligned");
static_assert(EC_CHUNK_BYTES <= EC_CHUNK_BYTES_MAX, "default chunk within the maximum");
static_assert(EC_SLICES_MAX <= 255, "ISA-L's GF(2^8) Cauchy needs d + p < 256");

struct ec_codec {
    unsigned d;
    unsigned p;
    uint8_t *matrix; /* (d + p) x d generator, row-major */
    uint8_t *tbls;   /* ec_init_tables of the p parity rows */
};

struct ec_rebuild {
    const struct ec_codec *c;
    uint64_t src;  /* the d source slices */
    uint64_t want; /* the slices produced */
    unsigned nwant;
    uint8_t *tbls; /* ec_init_tables of the nwant rows over the sources */
};

uint64_t
ec_slice_size(uint64_t obj_size, unsigned d)
{
    AIS_ASSERT(d >= 1);
    AIS_ASSERT(d <= EC_DATA_SLICES_MAX);
    AIS_ASSERT(obj_size <= EC_OBJ_BYTES_MAX);
    uint64_t s = (obj_size + d - 1) / d;
    return (s + EC_SLICE_ALIGN_BYTES - 1) / EC_SLICE_ALIGN_BYTES * EC_SLICE_ALIGN_BYTES;
}

uint64_t
ec_slice_obj_bytes(uint64_t obj_size, uint64_t slice_size, unsigned i)
{
    AIS_ASSERT(i < EC_DATA_SLICES_MAX);
    uint64_t start = (uint64_t)i * slice_size;
    if (start >= obj_size) {
        return 0;
    }
    uint64_t left = obj_size - start;
    return left < slice_size ? left : slice_size;
}

bool
ec_is_copy(uint64_t obj_size, int64_t objsize_limit)
{
    if (objsize_limit == EC_OBJSIZE_ALWAYS_COPY) {
        return true;
    }
    return objsize_limit > 0 && obj_size < (uint64_t)objsize_limit;
}

unsigned
ec_targets_required(unsigned d, unsigned p, int64_t objsize_limit)
{
    return 1 + p + (objsize_limit == EC_OBJSIZE_ALWAYS_COPY ? 0 : d);
}

static uint64_t
mask_all(unsigned n)
{
    return n >= 64 ? ~0ull : (1ull << n) - 1;
}

/* ISA-L's ec_encode_data over arbitrary lengths: one call per EC_ISAL_PIECE_BYTES. */
static void
isal_run(unsigned k, unsigned rows, uint8_t *tbls, size_t len, const uint8_t *const *src,
         uint8_t *const *dst)
{
    uint8_t *s[EC_SLICES_MAX];
    uint8_t *o[EC_SLICES_MAX];
    AIS_ASSERT(k <= EC_SLICES_MAX);
    AIS_ASSERT(rows <= EC_SLICES_MAX);
    for (size_t off = 0; off < len; off += EC_ISAL_PIECE_BYTES) {
        size_t n = len - off < EC_ISAL_PIECE_BYTES ? len - off : EC_ISAL_PIECE_BYTES;
        for (unsigned i = 0; i < k; i++) {
            /* ISA-L only reads its sources; its prototype is not const-qualified. */
            s[i] = (uint8_t *)(uintptr_t)(src[i] + off);
        }
        for (unsigned i = 0; i < rows; i++) {
            o[i] = dst[i] + off;
        }
        ec_encode_data((int)n, (int)k, (int)rows, tbls, s, o);
    }
}

int
ec_codec_new(unsigned d, unsigned p, struct ec_codec **out)
{
    struct ec_codec *c = NULL;
    int err = 0;
    if (d < 1 || d > EC_DATA_SLICES_MAX || p < 1 || p > EC_PARITY_SLICES_MAX) {
        return -EINVAL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        err = -ENOMEM;
        goto out;
    }
    c->d = d;
    c->p = p;
    c->matrix = malloc((size_t)(d + p) * d);
    c->tbls = malloc((size_t)EC_GFTBL_BYTES * d * p);
    if (c->matrix == NULL || c->tbls == NULL) {
        err = -ENOMEM;
        goto out;
    }
    gf_gen_cauchy1_matrix(c->matrix, (int)(d + p), (int)d);
    ec_init_tables((int)d, (int)p, c->matrix + (size_t)d * d, c->tbls);
    *out = c;
    c = NULL;
out:
    ec_codec_free(c);
    return err;
}

void
ec_codec_free(struct ec_codec *c)
{
    if (c == NULL) {
        return;
    }
    free(c->matrix);
    free(c->tbls);
    free(c);
}

unsigned
ec_codec_data(const struct ec_codec *c)
{
    AIS_ASSERT(c != NULL);
    return c->d;
}

unsigned
ec_codec_parity(const struct ec_codec *c)
{
    AIS_ASSERT(c != NULL);
    return c->p;
}

void
ec_codec_encode(const struct ec_codec *c, size_t len, const uint8_t *const *data,
                uint8_t *const *parity)
{
    AIS_ASSERT(c != NULL);
    AIS_ASSERT(data != NULL);
    AIS_ASSERT(parity != NULL);
    isal_run(c->d, c->p, c->tbls, len, data, parity);
}

/* Indices of the set bits of m, ascending, into idx; returns how many. */
static unsigned
mask_indices(uint64_t m, unsigned *idx)
{
    unsigned n = 0;
    for (unsigned i = 0; i < 64 && m != 0; i++) {
        if (m & (1ull << i)) {
            idx[n++] = i;
            m &= ~(1ull << i);
        }
    }
    return n;
}

/*
 * Coefficient rows (nwant x d) producing the wanted slices from the sources: binv is the
 * inverse of the sources' generator rows, so data slice w is binv's row w and parity slice w
 * is generator row w times binv.
 */
static void
rebuild_rows(const struct ec_codec *c, const uint8_t *binv, const unsigned *want, unsigned nwant,
             uint8_t *rows)
{
    unsigned d = c->d;
    for (unsigned r = 0; r < nwant; r++) {
        uint8_t *row = rows + (size_t)r * d;
        if (want[r] < d) {
            memcpy(row, binv + (size_t)want[r] * d, d);
            continue;
        }
        const uint8_t *g = c->matrix + (size_t)want[r] * d;
        for (unsigned col = 0; col < d; col++) {
            uint8_t acc = 0;
            for (unsigned k = 0; k < d; k++) {
                acc ^= gf_mul(g[k], binv[(size_t)k * d + col]);
            }
            row[col] = acc;
        }
    }
}

/* Validates the masks and picks the d lowest sources of have into *src. */
static int
rebuild_check(const struct ec_codec *c, uint64_t have, uint64_t want, uint64_t *src)
{
    uint64_t all = mask_all(c->d + c->p);
    if (want == 0 || (have & want) != 0 || (have & ~all) != 0 || (want & ~all) != 0) {
        return -EINVAL;
    }
    uint64_t s = 0;
    unsigned n = 0;
    for (unsigned i = 0; i < c->d + c->p && n < c->d; i++) {
        if (have & (1ull << i)) {
            s |= 1ull << i;
            n++;
        }
    }
    if (n < c->d) {
        return -ENODATA;
    }
    *src = s;
    return 0;
}

int
ec_rebuild_new(const struct ec_codec *c, uint64_t have, uint64_t want, struct ec_rebuild **out)
{
    uint8_t b[EC_DATA_SLICES_MAX * EC_DATA_SLICES_MAX];
    uint8_t binv[EC_DATA_SLICES_MAX * EC_DATA_SLICES_MAX];
    uint8_t rows[EC_SLICES_MAX * EC_DATA_SLICES_MAX];
    unsigned sidx[EC_SLICES_MAX];
    unsigned widx[EC_SLICES_MAX];
    struct ec_rebuild *r = NULL;
    uint64_t src = 0;
    AIS_ASSERT(c != NULL);
    int err = rebuild_check(c, have, want, &src);
    if (err < 0) {
        goto out;
    }
    unsigned d = c->d;
    unsigned ns = mask_indices(src, sidx);
    unsigned nwant = mask_indices(want, widx);
    AIS_ASSERT(ns == d);
    AIS_ASSERT(nwant <= c->p);
    for (unsigned j = 0; j < d; j++) {
        memcpy(b + (size_t)j * d, c->matrix + (size_t)sidx[j] * d, d);
    }
    /* Cauchy-systematic: every d x d sub-matrix is invertible (see the design notes). */
    int rc = gf_invert_matrix(b, binv, (int)d);
    AIS_ASSERT(rc == 0);
    rebuild_rows(c, binv, widx, nwant, rows);
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        err = -ENOMEM;
        goto out;
    }
    r->tbls = malloc((size_t)EC_GFTBL_BYTES * d * nwant);
    if (r->tbls == NULL) {
        err = -ENOMEM;
        goto out;
    }
    r->c = c;
    r->src = src;
    r->want = want;
    r->nwant = nwant;
    ec_init_tables((int)d, (int)nwant, rows, r->tbls);
    *out = r;
    r = NULL;
out:
    ec_rebuild_free(r);
    return err;
}

void
ec_rebuild_free(struct ec_rebuild *r)
{
    if (r == NULL) {
        return;
    }
    free(r->tbls);
    free(r);
}

uint64_t
ec_rebuild_sources(const struct ec_rebuild *r)
{
    AIS_ASSERT(r != NULL);
    return r->src;
}

void
ec_rebuild_run(const struct ec_rebuild *r, size_t len, const uint8_t *const *src,
               uint8_t *const *out)
{
    AIS_ASSERT(r != NULL);
    AIS_ASSERT(src != NULL);
    AIS_ASSERT(out != NULL);
    isal_run(r->c->d, r->nwant, r->tbls, len, src, out);
}

/* 0 and *chunk (the effective size) or -EINVAL. */
static int
chunk_check(size_t chunk_bytes, size_t *chunk)
{
    if (chunk_bytes == 0) {
        *chunk = EC_CHUNK_BYTES;
        return 0;
    }
    if (chunk_bytes % EC_SLICE_ALIGN_BYTES != 0 || chunk_bytes > EC_CHUNK_BYTES_MAX) {
        return -EINVAL;
    }
    *chunk = chunk_bytes;
    return 0;
}

/* One cache-aligned buffer of n chunks; NULL on OOM. */
static uint8_t *
chunks_alloc(unsigned n, size_t chunk, uint8_t **ptrs)
{
    uint8_t *buf = aligned_alloc(EC_SLICE_ALIGN_BYTES, (size_t)n * chunk);
    if (buf == NULL) {
        return NULL;
    }
    for (unsigned i = 0; i < n; i++) {
        ptrs[i] = buf + (size_t)i * chunk;
    }
    return buf;
}

/* Fills the data chunks of the stripe at off (len bytes per slice): real bytes, then zeros. */
static int
stripe_read_data(const struct ec_codec *c, uint64_t obj_size, uint64_t slice_size, uint64_t off,
                 size_t len, uint8_t *const *bufs, ec_obj_read_fn rd, void *ctx)
{
    for (unsigned i = 0; i < c->d; i++) {
        uint64_t real = ec_slice_obj_bytes(obj_size, slice_size, i);
        size_t n = 0;
        if (real > off) {
            n = real - off < len ? (size_t)(real - off) : len;
        }
        if (n > 0) {
            int err = rd(ctx, (uint64_t)i * slice_size + off, bufs[i], n);
            if (err < 0) {
                return err;
            }
        }
        memset(bufs[i] + n, 0, len - n);
    }
    return 0;
}

int
ec_encode_stream(const struct ec_codec *c, uint64_t obj_size, size_t chunk_bytes, uint64_t emit,
                 ec_obj_read_fn rd, ec_write_fn wr, void *ctx)
{
    uint8_t *bufs[EC_SLICES_MAX];
    size_t chunk = 0;
    AIS_ASSERT(c != NULL);
    AIS_ASSERT(rd != NULL);
    AIS_ASSERT(wr != NULL);
    unsigned n = c->d + c->p;
    if (obj_size > EC_OBJ_BYTES_MAX || (emit & ~mask_all(n)) != 0 ||
        chunk_check(chunk_bytes, &chunk) < 0) {
        return -EINVAL;
    }
    uint64_t slice_size = ec_slice_size(obj_size, c->d);
    uint8_t *buf = chunks_alloc(n, chunk, bufs);
    if (buf == NULL) {
        return -ENOMEM;
    }
    int err = 0;
    for (uint64_t off = 0; off < slice_size && err == 0; off += chunk) {
        size_t len = slice_size - off < chunk ? (size_t)(slice_size - off) : chunk;
        err = stripe_read_data(c, obj_size, slice_size, off, len, bufs, rd, ctx);
        if (err < 0) {
            break;
        }
        ec_codec_encode(c, len, (const uint8_t *const *)bufs, bufs + c->d);
        for (unsigned i = 0; i < n && err == 0; i++) {
            if (emit & (1ull << i)) {
                err = wr(ctx, i, off, bufs[i], len);
            }
        }
    }
    free(buf);
    return err;
}

int
ec_rebuild_stream(const struct ec_rebuild *r, uint64_t slice_size, size_t chunk_bytes,
                  ec_read_fn rd, ec_write_fn wr, void *ctx)
{
    uint8_t *bufs[EC_SLICES_MAX];
    unsigned sidx[EC_SLICES_MAX];
    unsigned widx[EC_SLICES_MAX];
    size_t chunk = 0;
    AIS_ASSERT(r != NULL);
    AIS_ASSERT(rd != NULL);
    AIS_ASSERT(wr != NULL);
    if (slice_size > EC_OBJ_BYTES_MAX || chunk_check(chunk_bytes, &chunk) < 0) {
        return -EINVAL;
    }
    unsigned ns = mask_indices(r->src, sidx);
    unsigned nw = mask_indices(r->want, widx);
    uint8_t *buf = chunks_alloc(ns + nw, chunk, bufs);
    if (buf == NULL) {
        return -ENOMEM;
    }
    int err = 0;
    for (uint64_t off = 0; off < slice_size && err == 0; off += chunk) {
        size_t len = slice_size - off < chunk ? (size_t)(slice_size - off) : chunk;
        for (unsigned j = 0; j < ns && err == 0; j++) {
            err = rd(ctx, sidx[j], off, bufs[j], len);
        }
        if (err < 0) {
            break;
        }
        ec_rebuild_run(r, len, (const uint8_t *const *)bufs, bufs + ns);
        for (unsigned k = 0; k < nw && err == 0; k++) {
            err = wr(ctx, widx[k], off, bufs[ns + k], len);
        }
    }
    free(buf);
    return err;
}
