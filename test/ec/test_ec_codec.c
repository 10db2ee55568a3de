/*
 * Goal: the Reed-Solomon codec rebuilds any <= p lost slices (data or parity) from the others
 * byte-exactly, the object reassembled from its data slices and truncated to its size is the
 * original (padding is zeros and never leaks), and the stripe drivers give the same slices as
 * one whole-buffer pass whatever the chunk size, with bounded reads that never go past the
 * object, and propagate every error.
 * Method: in-memory objects of pseudo-random bytes. For 1+1, 2+1, 2+2, 4+2, 8+2, 8+4 and 16+4
 * every loss set of 1..p slices is rebuilt for the small sizes (0, 1, d-1, d, d+1, one slice
 * alignment +-1, a stripe +-1); multi-MiB objects get every single loss and a spread of p-loss
 * sets, through the stream drivers. Invalid arguments and failing callbacks hit each error
 * path. Threads share one codec and one rebuild plan (run under TSan in CI).
 */
// clang-format off
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
// clang-format on

#include "ec/ec.h"

/* Chunk of the stream tests: small so that "just under/over a stripe" stays small. */
#define TEST_CHUNK 4096

struct obj {
    unsigned d, p;
    uint64_t size, slice;
    uint8_t *bytes;               /* the object */
    uint8_t *sl[EC_SLICES_MAX];   /* reference slices (whole-buffer encode) */
    uint8_t *copy[EC_SLICES_MAX]; /* scratch: rebuilt slices */
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd64(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static struct ec_codec *
codec_of(unsigned d, unsigned p)
{
    struct ec_codec *c = NULL;
    assert_int_equal(ec_codec_new(d, p, &c), 0);
    assert_non_null(c);
    assert_int_equal(ec_codec_data(c), d);
    assert_int_equal(ec_codec_parity(c), p);
    return c;
}

/* Object of size random bytes and its slices from one whole-buffer encode. */
static void
obj_init(struct obj *o, const struct ec_codec *c, uint64_t size)
{
    memset(o, 0, sizeof(*o));
    o->d = ec_codec_data(c);
    o->p = ec_codec_parity(c);
    o->size = size;
    o->slice = ec_slice_size(size, o->d);
    o->bytes = malloc(size + 1);
    assert_non_null(o->bytes);
    for (uint64_t i = 0; i < size; i += 8) {
        uint64_t v = rnd64();
        memcpy(o->bytes + i, &v, size - i < 8 ? size - i : 8);
    }
    for (unsigned i = 0; i < o->d + o->p; i++) {
        o->sl[i] = malloc(o->slice + 1);
        o->copy[i] = malloc(o->slice + 1);
        assert_non_null(o->sl[i]);
        assert_non_null(o->copy[i]);
        memset(o->sl[i], 0xa5, o->slice); /* padding must be overwritten with zeros */
    }
    for (unsigned i = 0; i < o->d; i++) {
        uint64_t n = ec_slice_obj_bytes(size, o->slice, i);
        memcpy(o->sl[i], o->bytes + i * o->slice, n);
        memset(o->sl[i] + n, 0, o->slice - n);
    }
    ec_codec_encode(c, o->slice, (const uint8_t *const *)o->sl, o->sl + o->d);
}

static void
obj_fini(struct obj *o)
{
    free(o->bytes);
    for (unsigned i = 0; i < EC_SLICES_MAX; i++) {
        free(o->sl[i]);
        free(o->copy[i]);
    }
}

/* Reassembles the object from data slices (ins[i] for i in lost, else the reference). */
static void
assert_object_from(const struct obj *o, uint64_t lost, uint8_t *const *ins)
{
    uint8_t *out = malloc(o->d * o->slice + 1);
    assert_non_null(out);
    for (unsigned i = 0; i < o->d; i++) {
        const uint8_t *s = (lost & (1ull << i)) ? ins[i] : o->sl[i];
        memcpy(out + i * o->slice, s, o->slice);
    }
    assert_memory_equal(out, o->bytes, o->size);
    for (uint64_t i = o->size; i < o->d * o->slice; i++) {
        assert_int_equal(out[i], 0);
    }
    free(out);
}

/* Rebuilds the slices in lost from all the others, whole-buffer, and checks them. */
static void
rebuild_check(const struct ec_codec *c, struct obj *o, uint64_t lost)
{
    const uint8_t *src[EC_SLICES_MAX];
    uint8_t *out[EC_SLICES_MAX];
    uint8_t *by_idx[EC_SLICES_MAX] = {0};
    struct ec_rebuild *r = NULL;
    unsigned n = o->d + o->p;
    uint64_t have = (n == 64 ? ~0ull : (1ull << n) - 1) & ~lost;
    assert_int_equal(ec_rebuild_new(c, have, lost, &r), 0);
    uint64_t srcs = ec_rebuild_sources(r);
    assert_int_equal(__builtin_popcountll(srcs), o->d);
    assert_true((srcs & ~have) == 0);
    unsigned ns = 0, nw = 0;
    for (unsigned i = 0; i < n; i++) {
        if (srcs & (1ull << i)) {
            src[ns++] = o->sl[i];
        }
        if (lost & (1ull << i)) {
            memset(o->copy[i], 0x5a, o->slice);
            out[nw++] = o->copy[i];
            by_idx[i] = o->copy[i];
        }
    }
    ec_rebuild_run(r, o->slice, src, out);
    for (unsigned i = 0; i < n; i++) {
        if (lost & (1ull << i)) {
            assert_memory_equal(o->copy[i], o->sl[i], o->slice);
        }
    }
    assert_object_from(o, lost, by_idx);
    ec_rebuild_free(r);
}

/* Calls rebuild_check for every set of 1..p lost slices; returns how many. */
static unsigned
every_loss(const struct ec_codec *c, struct obj *o)
{
    unsigned n = o->d + o->p, cnt = 0;
    assert_true(n <= 24); /* 2^n subsets are enumerated */
    for (uint64_t lost = 1; lost < (1ull << n); lost++) {
        if ((unsigned)__builtin_popcountll(lost) <= o->p) {
            rebuild_check(c, o, lost);
            cnt++;
        }
    }
    return cnt;
}

static const unsigned shapes[][2] = {{1, 1}, {2, 1}, {2, 2}, {4, 2}, {8, 2}, {8, 4}, {16, 4}};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

static uint64_t
binom_sum(unsigned n, unsigned k)
{
    uint64_t sum = 0, b = 1;
    for (unsigned i = 1; i <= k; i++) {
        b = b * (n - i + 1) / i;
        sum += b;
    }
    return sum;
}

static void
test_every_loss_small(void **state)
{
    (void)state;
    for (size_t s = 0; s < NSHAPES; s++) {
        unsigned d = shapes[s][0], p = shapes[s][1];
        struct ec_codec *c = codec_of(d, p);
        const uint64_t sizes[] = {0,
                                  1,
                                  d - 1,
                                  d,
                                  d + 1,
                                  (uint64_t)d * EC_SLICE_ALIGN_BYTES - 1,
                                  (uint64_t)d * EC_SLICE_ALIGN_BYTES + 1};
        for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
            struct obj o;
            obj_init(&o, c, sizes[z]);
            assert_int_equal(every_loss(c, &o), binom_sum(d + p, p));
            obj_fini(&o);
        }
        ec_codec_free(c);
    }
}

static void
test_slice_size(void **state)
{
    (void)state;
    assert_int_equal(ec_slice_size(0, 1), 0);
    assert_int_equal(ec_slice_size(0, 32), 0);
    assert_int_equal(ec_slice_size(1, 1), 64);
    assert_int_equal(ec_slice_size(1, 32), 64);
    assert_int_equal(ec_slice_size(64, 1), 64);
    assert_int_equal(ec_slice_size(65, 1), 128);
    assert_int_equal(ec_slice_size(256, 4), 64);
    assert_int_equal(ec_slice_size(257, 4), 128);
    assert_int_equal(ec_slice_size(10u << 20, 8), (10u << 20) / 8);
    assert_true(ec_slice_size(EC_OBJ_BYTES_MAX, 3) * 3 >= EC_OBJ_BYTES_MAX);
    for (unsigned d = 1; d <= EC_DATA_SLICES_MAX; d++) {
        for (uint64_t sz = 0; sz < 3000; sz += 7) {
            uint64_t s = ec_slice_size(sz, d);
            assert_int_equal(s % EC_SLICE_ALIGN_BYTES, 0);
            assert_true(s * d >= sz);
            assert_true(sz == 0 || (s - EC_SLICE_ALIGN_BYTES) * d < sz); /* smallest such */
            uint64_t total = 0;
            for (unsigned i = 0; i < d; i++) {
                total += ec_slice_obj_bytes(sz, s, i);
            }
            assert_int_equal(total, sz);
        }
    }
    assert_int_equal(ec_slice_obj_bytes(100, 64, 0), 64);
    assert_int_equal(ec_slice_obj_bytes(100, 64, 1), 36);
    assert_int_equal(ec_slice_obj_bytes(100, 64, 2), 0);
}

static void
test_copy_or_encode(void **state)
{
    (void)state;
    assert_true(ec_is_copy(0, EC_OBJSIZE_LIMIT_DFLT));
    assert_true(ec_is_copy(EC_OBJSIZE_LIMIT_DFLT - 1, EC_OBJSIZE_LIMIT_DFLT));
    assert_false(ec_is_copy(EC_OBJSIZE_LIMIT_DFLT, EC_OBJSIZE_LIMIT_DFLT));
    assert_false(ec_is_copy(0, 0)); /* 0: encode every object */
    assert_false(ec_is_copy(1ull << 30, 0));
    assert_true(ec_is_copy(1ull << 40, EC_OBJSIZE_ALWAYS_COPY));
    assert_false(ec_is_copy(5, -7)); /* other negatives are rejected by config; never copy */
    assert_int_equal(ec_targets_required(4, 2, 0), 7);
    assert_int_equal(ec_targets_required(4, 2, EC_OBJSIZE_LIMIT_DFLT), 7);
    assert_int_equal(ec_targets_required(4, 2, EC_OBJSIZE_ALWAYS_COPY), 3);
}

static void
test_codec_new_bounds(void **state)
{
    (void)state;
    struct ec_codec *c = NULL;
    assert_int_equal(ec_codec_new(0, 1, &c), -EINVAL);
    assert_int_equal(ec_codec_new(1, 0, &c), -EINVAL);
    assert_int_equal(ec_codec_new(EC_DATA_SLICES_MAX + 1, 1, &c), -EINVAL);
    assert_int_equal(ec_codec_new(1, EC_PARITY_SLICES_MAX + 1, &c), -EINVAL);
    assert_null(c);
    ec_codec_free(NULL);
    ec_rebuild_free(NULL);
    /* The largest shape: every parity loss and the worst mixed loss come back. */
    c = codec_of(EC_DATA_SLICES_MAX, EC_PARITY_SLICES_MAX);
    struct obj o;
    obj_init(&o, c, 5000);
    rebuild_check(c, &o, 0xffffffff00000000ull); /* all parity */
    rebuild_check(c, &o, 0x00000000ffffffffull); /* all data */
    rebuild_check(c, &o, 0x5555555555555555ull); /* every other: 16 data + 16 parity */
    rebuild_check(c, &o, 1ull << 63);
    obj_fini(&o);
    ec_codec_free(c);
}

static void
test_rebuild_invalid(void **state)
{
    (void)state;
    struct ec_codec *c = codec_of(4, 2);
    struct ec_rebuild *r = NULL;
    assert_int_equal(ec_rebuild_new(c, 0x3f, 0, &r), -EINVAL);     /* nothing wanted */
    assert_int_equal(ec_rebuild_new(c, 0x3f, 0x01, &r), -EINVAL);  /* want overlaps have */
    assert_int_equal(ec_rebuild_new(c, 0x7e, 0x01, &r), -EINVAL);  /* have beyond d+p */
    assert_int_equal(ec_rebuild_new(c, 0x3e, 0x41, &r), -EINVAL);  /* want beyond d+p */
    assert_int_equal(ec_rebuild_new(c, 0x38, 0x07, &r), -ENODATA); /* 3 < d survivors */
    assert_int_equal(ec_rebuild_new(c, 0x00, 0x3f, &r), -ENODATA); /* nothing survives */
    assert_null(r);
    /* Sources are the d lowest survivors, data first; want may skip other missing slices. */
    assert_int_equal(ec_rebuild_new(c, 0x3c, 0x01, &r), 0); /* slice 1 missing, not wanted */
    assert_int_equal(ec_rebuild_sources(r), 0x3c);
    ec_rebuild_free(r);
    assert_int_equal(ec_rebuild_new(c, 0x3f & ~0x20, 0x20, &r), 0);
    assert_int_equal(ec_rebuild_sources(r), 0x0f);
    ec_rebuild_free(r);
    ec_codec_free(c);
}

/* Stream callbacks over an in-memory struct obj. */
struct sctx {
    struct obj *o;
    uint8_t **dst; /* where writes land, by slice index */
    uint64_t next_off[EC_SLICES_MAX];
    unsigned reads, writes;
    unsigned fail_read_at, fail_write_at; /* 1-based call number, 0 never */
    size_t max_len;
};

static int
rd_obj(void *vctx, uint64_t obj_off, uint8_t *buf, size_t len)
{
    struct sctx *x = vctx;
    if (++x->reads == x->fail_read_at) {
        return -EIO;
    }
    /* Never asks for nothing, for padding or beyond the object, or across two data slices. */
    uint64_t i = x->o->slice ? obj_off / x->o->slice : 0;
    if (len == 0 || obj_off + len > x->o->size || i >= x->o->d ||
        obj_off + len > (i + 1) * x->o->slice) {
        return -ERANGE;
    }
    memcpy(buf, x->o->bytes + obj_off, len);
    return 0;
}

static int
rd_slices(void *vctx, unsigned idx, uint64_t off, uint8_t *buf, size_t len)
{
    struct sctx *x = vctx;
    if (++x->reads == x->fail_read_at) {
        return -EIO;
    }
    if (off + len > x->o->slice) {
        return -ERANGE;
    }
    memcpy(buf, x->o->sl[idx] + off, len);
    return 0;
}

static int
wr_dst(void *vctx, unsigned idx, uint64_t off, const uint8_t *buf, size_t len)
{
    struct sctx *x = vctx;
    if (++x->writes == x->fail_write_at) {
        return -EPIPE;
    }
    if (off != x->next_off[idx] || off + len > x->o->slice || len > x->max_len) {
        return -ERANGE; /* in order, within the slice, at most one chunk */
    }
    x->next_off[idx] = off + len;
    memcpy(x->dst[idx] + off, buf, len);
    return 0;
}

/* Stream-encodes o with chunk and checks every slice against the whole-buffer encode. */
static void
stream_encode_check(const struct ec_codec *c, struct obj *o, size_t chunk)
{
    struct sctx x = {.o = o, .dst = o->copy, .max_len = chunk ? chunk : EC_CHUNK_BYTES};
    unsigned n = o->d + o->p;
    for (unsigned i = 0; i < n; i++) {
        memset(o->copy[i], 0x5a, o->slice);
    }
    uint64_t emit = (n == 64 ? ~0ull : (1ull << n) - 1);
    assert_int_equal(ec_encode_stream(c, o->size, chunk, emit, rd_obj, wr_dst, &x), 0);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(x.next_off[i], o->slice);
        assert_memory_equal(o->copy[i], o->sl[i], o->slice);
    }
}

/* Stream-rebuilds lost from the others and checks the slices and the object. */
static void
stream_rebuild_check(const struct ec_codec *c, struct obj *o, uint64_t lost, size_t chunk)
{
    struct sctx x = {.o = o, .dst = o->copy, .max_len = chunk ? chunk : EC_CHUNK_BYTES};
    struct ec_rebuild *r = NULL;
    unsigned n = o->d + o->p;
    uint64_t have = ((1ull << n) - 1) & ~lost;
    assert_int_equal(ec_rebuild_new(c, have, lost, &r), 0);
    for (unsigned i = 0; i < n; i++) {
        memset(o->copy[i], 0x5a, o->slice);
    }
    assert_int_equal(ec_rebuild_stream(r, o->slice, chunk, rd_slices, wr_dst, &x), 0);
    for (unsigned i = 0; i < n; i++) {
        if (lost & (1ull << i)) {
            assert_int_equal(x.next_off[i], o->slice);
            assert_memory_equal(o->copy[i], o->sl[i], o->slice);
        } else {
            assert_int_equal(x.next_off[i], 0);
        }
    }
    assert_object_from(o, lost, o->copy);
    ec_rebuild_free(r);
}

/* Loss sets of p slices spread over data and parity: first, last, every other, strided. */
static void
some_p_losses(unsigned d, unsigned p, uint64_t *out, unsigned *cnt)
{
    unsigned n = d + p, k = 0;
    uint64_t lo = (1ull << p) - 1;
    out[k++] = lo;            /* first p: data only */
    out[k++] = lo << (n - p); /* last p: all parity */
    out[k++] = lo << (d - p / 2 - (p % 2)) & ((1ull << n) - 1);
    uint64_t stride = 0;
    for (unsigned i = 0, got = 0; got < p; i = (i + 3) % n) {
        if (!(stride & (1ull << i))) {
            stride |= 1ull << i;
            got++;
        }
    }
    out[k++] = stride;
    *cnt = k;
}

static void
test_stream_sizes(void **state)
{
    (void)state;
    for (size_t s = 0; s < NSHAPES; s++) {
        unsigned d = shapes[s][0], p = shapes[s][1];
        struct ec_codec *c = codec_of(d, p);
        const uint64_t stripe = (uint64_t)d * TEST_CHUNK;
        const uint64_t sizes[] = {0,      1,          d - 1,           d + 1,          stripe - 1,
                                  stripe, stripe + 1, 3 * stripe + 65, (3u << 20) + 17};
        for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
            struct obj o;
            uint64_t losses[8];
            unsigned nl = 0;
            obj_init(&o, c, sizes[z]);
            stream_encode_check(c, &o, TEST_CHUNK);
            stream_encode_check(c, &o, 0);
            for (unsigned i = 0; i < d + p; i++) {
                /* Multi-MiB objects: the first and last data and parity slices only. */
                if (sizes[z] < (1u << 20) || i == 0 || i == d - 1 || i == d || i == d + p - 1) {
                    stream_rebuild_check(c, &o, 1ull << i, TEST_CHUNK);
                }
            }
            some_p_losses(d, p, losses, &nl);
            for (unsigned i = 0; i < nl; i++) {
                assert_int_equal(__builtin_popcountll(losses[i]), p);
                stream_rebuild_check(c, &o, losses[i], TEST_CHUNK);
            }
            obj_fini(&o);
        }
        ec_codec_free(c);
    }
}

static void
test_stream_default_chunk_big(void **state)
{
    (void)state;
    struct ec_codec *c = codec_of(4, 2);
    struct obj o;
    obj_init(&o, c, (9u << 20) + 3); /* several default stripes, a partial last one */
    stream_encode_check(c, &o, 0);
    stream_encode_check(c, &o, EC_CHUNK_BYTES_MAX);
    stream_rebuild_check(c, &o, 0x21, 0);
    stream_rebuild_check(c, &o, 0x0c, EC_CHUNK_BYTES_MAX);
    stream_rebuild_check(c, &o, 0x30, EC_SLICE_ALIGN_BYTES * 1000);
    obj_fini(&o);
    ec_codec_free(c);
}

static void
test_stream_errors(void **state)
{
    (void)state;
    struct ec_codec *c = codec_of(4, 2);
    struct ec_rebuild *r = NULL;
    struct obj o;
    obj_init(&o, c, 5 * 4 * TEST_CHUNK + 100); /* 6 stripes */
    struct sctx x = {.o = &o, .dst = o.copy, .max_len = TEST_CHUNK};
    assert_int_equal(ec_encode_stream(c, o.size, 63, 0x3f, rd_obj, wr_dst, &x), -EINVAL);
    assert_int_equal(ec_encode_stream(c, o.size, EC_CHUNK_BYTES_MAX + 64, 0x3f, rd_obj, wr_dst, &x),
                     -EINVAL);
    assert_int_equal(ec_encode_stream(c, EC_OBJ_BYTES_MAX + 1, 0, 0x3f, rd_obj, wr_dst, &x),
                     -EINVAL);
    assert_int_equal(ec_encode_stream(c, o.size, 0, 0x7f, rd_obj, wr_dst, &x), -EINVAL);
    assert_int_equal(x.reads + x.writes, 0);
    x.fail_read_at = 7; /* second stripe */
    assert_int_equal(ec_encode_stream(c, o.size, TEST_CHUNK, 0x3f, rd_obj, wr_dst, &x), -EIO);
    memset(&x, 0, sizeof(x));
    x = (struct sctx){.o = &o, .dst = o.copy, .max_len = TEST_CHUNK, .fail_write_at = 9};
    assert_int_equal(ec_encode_stream(c, o.size, TEST_CHUNK, 0x3f, rd_obj, wr_dst, &x), -EPIPE);
    assert_int_equal(x.writes, 9);
    /* Only the emitted slices are written: parity only. */
    x = (struct sctx){.o = &o, .dst = o.copy, .max_len = TEST_CHUNK};
    assert_int_equal(ec_encode_stream(c, o.size, TEST_CHUNK, 0x30, rd_obj, wr_dst, &x), 0);
    assert_int_equal(x.writes, 2 * 6);
    assert_memory_equal(o.copy[4], o.sl[4], o.slice);
    assert_memory_equal(o.copy[5], o.sl[5], o.slice);

    assert_int_equal(ec_rebuild_new(c, 0x3c, 0x03, &r), 0);
    x = (struct sctx){.o = &o, .dst = o.copy, .max_len = TEST_CHUNK};
    assert_int_equal(ec_rebuild_stream(r, o.slice, 100, rd_slices, wr_dst, &x), -EINVAL);
    assert_int_equal(ec_rebuild_stream(r, EC_OBJ_BYTES_MAX + 1, 0, rd_slices, wr_dst, &x), -EINVAL);
    x.fail_read_at = 6;
    assert_int_equal(ec_rebuild_stream(r, o.slice, TEST_CHUNK, rd_slices, wr_dst, &x), -EIO);
    x = (struct sctx){.o = &o, .dst = o.copy, .max_len = TEST_CHUNK, .fail_write_at = 4};
    assert_int_equal(ec_rebuild_stream(r, o.slice, TEST_CHUNK, rd_slices, wr_dst, &x), -EPIPE);
    x = (struct sctx){.o = &o, .dst = o.copy, .max_len = TEST_CHUNK};
    assert_int_equal(ec_rebuild_stream(r, 0, TEST_CHUNK, rd_slices, wr_dst, &x), 0);
    assert_int_equal(x.reads + x.writes, 0); /* an empty object has empty slices */
    ec_rebuild_free(r);
    obj_fini(&o);
    ec_codec_free(c);
}

/* Encoding is linear over GF(2^8): parity(a ^ b) == parity(a) ^ parity(b). */
static void
test_linear(void **state)
{
    (void)state;
    struct ec_codec *c = codec_of(8, 4);
    struct obj a, b, x;
    obj_init(&a, c, 8 * 640);
    obj_init(&b, c, 8 * 640);
    obj_init(&x, c, 8 * 640);
    for (uint64_t i = 0; i < x.size; i++) {
        x.bytes[i] = a.bytes[i] ^ b.bytes[i];
    }
    for (unsigned i = 0; i < 8; i++) {
        memcpy(x.sl[i], x.bytes + i * x.slice, x.slice);
    }
    ec_codec_encode(c, x.slice, (const uint8_t *const *)x.sl, x.sl + 8);
    for (unsigned i = 8; i < 12; i++) {
        for (uint64_t j = 0; j < x.slice; j++) {
            assert_int_equal(x.sl[i][j], a.sl[i][j] ^ b.sl[i][j]);
        }
    }
    /* A zero-length encode touches nothing. */
    ec_codec_encode(c, 0, (const uint8_t *const *)x.sl, x.sl + 8);
    obj_fini(&a);
    obj_fini(&b);
    obj_fini(&x);
    ec_codec_free(c);
}

/* Threads sharing one codec and one plan: each encodes and rebuilds its own object. */
struct shared {
    const struct ec_codec *c;
    const struct ec_rebuild *r;
    uint64_t seed;
    int bad;
};

#define SH_SLICE 8192

static void *
shared_worker(void *arg)
{
    struct shared *sh = arg;
    uint8_t *sl[12], *out[4];
    const uint8_t *src[8];
    uint64_t x = sh->seed;
    for (int i = 0; i < 12; i++) {
        sl[i] = malloc(SH_SLICE);
        if (sl[i] == NULL) {
            abort();
        }
        for (int j = 0; j < SH_SLICE && i < 8; j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            sl[i][j] = (uint8_t)x;
        }
    }
    for (int i = 0; i < 4; i++) {
        out[i] = malloc(SH_SLICE);
        if (out[i] == NULL) {
            abort();
        }
    }
    for (int it = 0; it < 50; it++) {
        ec_codec_encode(sh->c, SH_SLICE, (const uint8_t *const *)sl, sl + 8);
        /* The plan rebuilds slices 0, 3, 8 and 11 from the 8 others. */
        const int srcs[8] = {1, 2, 4, 5, 6, 7, 9, 10}, lost[4] = {0, 3, 8, 11};
        for (int j = 0; j < 8; j++) {
            src[j] = sl[srcs[j]];
        }
        ec_rebuild_run(sh->r, SH_SLICE, src, out);
        for (int k = 0; k < 4; k++) {
            sh->bad += memcmp(out[k], sl[lost[k]], SH_SLICE) != 0;
        }
    }
    for (int i = 0; i < 12; i++) {
        free(sl[i]);
    }
    for (int i = 0; i < 4; i++) {
        free(out[i]);
    }
    return NULL;
}

static void
test_shared_threads(void **state)
{
    (void)state;
    enum { T = 4 };
    struct ec_codec *c = codec_of(8, 4);
    struct ec_rebuild *r = NULL;
    uint64_t lost = (1ull << 0) | (1ull << 3) | (1ull << 8) | (1ull << 11);
    assert_int_equal(ec_rebuild_new(c, 0xfff & ~lost, lost, &r), 0);
    assert_int_equal(ec_rebuild_sources(r), 0xfff & ~lost);
    pthread_t th[T];
    struct shared sh[T];
    for (int i = 0; i < T; i++) {
        sh[i] = (struct shared){.c = c, .r = r, .seed = 0x1234567ull * (uint64_t)(i + 1)};
        assert_int_equal(pthread_create(&th[i], NULL, shared_worker, &sh[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(sh[i].bad, 0);
    }
    ec_rebuild_free(r);
    ec_codec_free(c);
}

int
main(void)
{
    // clang-format off
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slice_size),
        cmocka_unit_test(test_copy_or_encode),
        cmocka_unit_test(test_codec_new_bounds),
        cmocka_unit_test(test_rebuild_invalid),
        cmocka_unit_test(test_every_loss_small),
        cmocka_unit_test(test_stream_sizes),
        cmocka_unit_test(test_stream_default_chunk_big),
        cmocka_unit_test(test_stream_errors),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_shared_threads),
    };
    // clang-format on
    return cmocka_run_group_tests(tests, NULL, NULL);
}
