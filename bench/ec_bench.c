/*
 * ec_bench: raw throughput of the erasure-coding codec (ISA-L through ec/) next to memcpy.
 *
 * Design notes: one run measures, on the same in-memory object, a memcpy of it (the baseline),
 * then for 4+2 and 8+2 the encode of all parity and the rebuild of one and of p lost data
 * slices (the worst case: data lost, parity used), stripe by stripe with the chunk the stream
 * drivers use by default. Every figure is object bytes (d * slice_size) per second, best of
 * --reps, so encode and rebuild compare directly with memcpy of the object; rebuilt slices are
 * checked against the originals so a fast wrong answer cannot pass. No files, no network.
 */
#include "ec/ec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIB (1024.0 * 1024.0)

struct opts {
    uint64_t size_mib;
    size_t chunk;
    unsigned reps;
};

struct bufs {
    unsigned d, p;
    uint64_t slice;
    uint8_t *sl[EC_SLICES_MAX];  /* d data + p parity */
    uint8_t *out[EC_SLICES_MAX]; /* rebuilt slices */
};

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--size MiB (256)] [--chunk KiB (%u; 0 = whole slice per call)] "
            "[--reps N (3)]\n",
            argv0, EC_CHUNK_BYTES >> 10);
    return 2;
}

static int
parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.size_mib = 256, .chunk = EC_CHUNK_BYTES, .reps = 3};
    for (int i = 1; i < argc; i += 2) {
        uint64_t v = 0;
        if (i + 1 >= argc) {
            return -EINVAL;
        }
        if (strcmp(argv[i], "--size") == 0 && parse_u64(argv[i + 1], 1, 16384, &v) == 0) {
            o->size_mib = v;
        } else if (strcmp(argv[i], "--chunk") == 0 &&
                   parse_u64(argv[i + 1], 0, EC_CHUNK_BYTES_MAX >> 10, &v) == 0) {
            o->chunk = (size_t)v << 10;
        } else if (strcmp(argv[i], "--reps") == 0 && parse_u64(argv[i + 1], 1, 100, &v) == 0) {
            o->reps = (unsigned)v;
        } else {
            return -EINVAL;
        }
    }
    return 0;
}

static void
bufs_free(struct bufs *b)
{
    for (unsigned i = 0; i < EC_SLICES_MAX; i++) {
        free(b->sl[i]);
        free(b->out[i]);
    }
}

/* Slices of a random object of size bytes; p out buffers. 0 or -ENOMEM. */
static int
bufs_init(struct bufs *b, unsigned d, unsigned p, uint64_t size)
{
    memset(b, 0, sizeof(*b));
    b->d = d;
    b->p = p;
    b->slice = ec_slice_size(size, d);
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (unsigned i = 0; i < d + p; i++) {
        b->sl[i] = aligned_alloc(EC_SLICE_ALIGN_BYTES, b->slice);
        b->out[i] = i < p ? aligned_alloc(EC_SLICE_ALIGN_BYTES, b->slice) : NULL;
        if (b->sl[i] == NULL || (i < p && b->out[i] == NULL)) {
            return -ENOMEM;
        }
        for (uint64_t j = 0; j < b->slice; j += 8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            memcpy(b->sl[i] + j, &x, 8);
        }
        if (i < p) {
            memset(b->out[i], 0, b->slice); /* fault the pages in before timing */
        }
    }
    return 0;
}

/* One pass of ISA-L over the whole slices, chunk bytes per call (0: one call). Seconds. */
static double
pass(unsigned k, unsigned rows, const struct ec_codec *c, const struct ec_rebuild *r,
     uint8_t *const *src, uint8_t *const *dst, uint64_t slice, size_t chunk)
{
    const uint8_t *s[EC_SLICES_MAX];
    uint8_t *o[EC_SLICES_MAX];
    size_t step = chunk == 0 ? (size_t)slice : chunk;
    double t0 = now_s();
    for (uint64_t off = 0; off < slice; off += step) {
        size_t len = slice - off < step ? (size_t)(slice - off) : step;
        for (unsigned i = 0; i < k; i++) {
            s[i] = src[i] + off;
        }
        for (unsigned i = 0; i < rows; i++) {
            o[i] = dst[i] + off;
        }
        if (r == NULL) {
            ec_codec_encode(c, len, s, o);
        } else {
            ec_rebuild_run(r, len, s, o);
        }
    }
    return now_s() - t0;
}

static void
report(const char *what, double mibs, double base)
{
    printf("  %-34s %10.1f MiB/s  %6.2fx memcpy\n", what, mibs, mibs / base);
}

/* Rebuilds the first nlost data slices from the rest; checks them; best MiB/s or -1. */
static double
bench_rebuild(const struct ec_codec *c, struct bufs *b, unsigned nlost, const struct opts *o)
{
    struct ec_rebuild *r = NULL;
    uint8_t *src[EC_SLICES_MAX];
    uint64_t all = (1ull << (b->d + b->p)) - 1, lost = (1ull << nlost) - 1;
    if (ec_rebuild_new(c, all & ~lost, lost, &r) != 0) {
        return -1;
    }
    unsigned ns = 0;
    for (unsigned i = 0; i < b->d + b->p; i++) {
        if (ec_rebuild_sources(r) & (1ull << i)) {
            src[ns++] = b->sl[i];
        }
    }
    double best = 1e30;
    for (unsigned rep = 0; rep < o->reps; rep++) {
        double t = pass(b->d, nlost, NULL, r, src, b->out, b->slice, o->chunk);
        best = t < best ? t : best;
    }
    ec_rebuild_free(r);
    for (unsigned i = 0; i < nlost; i++) {
        if (memcmp(b->out[i], b->sl[i], b->slice) != 0) {
            fprintf(stderr, "ec_bench: rebuilt slice %u differs\n", i);
            return -1;
        }
    }
    return (double)b->d * (double)b->slice / MIB / best;
}

static int
bench_shape(unsigned d, unsigned p, uint64_t size, const struct opts *o, double base)
{
    struct ec_codec *c = NULL;
    struct bufs b;
    char what[64];
    memset(&b, 0, sizeof(b));
    int err = ec_codec_new(d, p, &c);
    if (err == 0) {
        err = bufs_init(&b, d, p, size);
    }
    if (err < 0) {
        goto out;
    }
    double best = 1e30;
    for (unsigned rep = 0; rep < o->reps; rep++) {
        double t = pass(d, p, c, NULL, b.sl, b.sl + d, b.slice, o->chunk);
        best = t < best ? t : best;
    }
    snprintf(what, sizeof(what), "%u+%u encode (%u parity)", d, p, p);
    report(what, (double)d * (double)b.slice / MIB / best, base);
    const unsigned losses[2] = {1, p};
    for (unsigned i = 0; i < (p > 1 ? 2u : 1u) && err == 0; i++) {
        double mibs = bench_rebuild(c, &b, losses[i], o);
        if (mibs < 0) {
            err = -EIO;
            break;
        }
        snprintf(what, sizeof(what), "%u+%u rebuild %u lost data slice%s", d, p, losses[i],
                 losses[i] > 1 ? "s" : "");
        report(what, mibs, base);
    }
out:
    bufs_free(&b);
    ec_codec_free(c);
    return err;
}

/* memcpy of the object: best MiB/s, or -1 on OOM. */
static double
bench_memcpy(uint64_t size, unsigned reps)
{
    uint8_t *src = aligned_alloc(EC_SLICE_ALIGN_BYTES, size);
    uint8_t *dst = aligned_alloc(EC_SLICE_ALIGN_BYTES, size);
    double best = 1e30;
    if (src == NULL || dst == NULL) {
        free(src);
        free(dst);
        return -1;
    }
    memset(src, 0x5a, size);
    memset(dst, 0, size);
    for (unsigned rep = 0; rep < reps; rep++) {
        double t0 = now_s();
        memcpy(dst, src, size);
        double t = now_s() - t0;
        best = t < best ? t : best;
    }
    int same = memcmp(dst, src, size) == 0;
    free(src);
    free(dst);
    return same ? (double)size / MIB / best : -1;
}

int
main(int argc, char **argv)
{
    struct opts o;
    if (parse_args(argc, argv, &o) < 0 || o.chunk % EC_SLICE_ALIGN_BYTES != 0) {
        return usage(argv[0]);
    }
    uint64_t size = o.size_mib << 20;
    printf("ec_bench: object %llu MiB, chunk %zu KiB%s, best of %u; MiB/s of object bytes\n",
           (unsigned long long)o.size_mib, o.chunk >> 10, o.chunk ? "" : " (whole slice)", o.reps);
    double base = bench_memcpy(size, o.reps);
    if (base < 0) {
        fprintf(stderr, "ec_bench: memcpy baseline failed (out of memory?)\n");
        return 1;
    }
    report("memcpy", base, base);
    const unsigned shapes[2][2] = {{4, 2}, {8, 2}};
    for (int i = 0; i < 2; i++) {
        int err = bench_shape(shapes[i][0], shapes[i][1], size, &o, base);
        if (err < 0) {
            fprintf(stderr, "ec_bench: %u+%u failed: %d\n", shapes[i][0], shapes[i][1], err);
            return 1;
        }
    }
    return 0;
}
