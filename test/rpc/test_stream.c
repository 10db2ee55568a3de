/*
 * Goal: object streams move bytes intact with bounded memory, acknowledge every object with
 * the receiver's result, and fail fast (never hang) when either side goes away.
 * Method: a real receiver on 127.0.0.1 whose callbacks hash every object (word-wise FNV over
 * the frames as delivered) and check it against the header's cksum_value; senders generate a
 * deterministic pattern straight into the frames (or read it from a file). Cases: sizes
 * around the chunk boundary (0, 1, chunk-1, chunk, chunk+1, many chunks), metadata fields,
 * receiver errors from begin/data/end, a sender-side read error, 1 GiB through one stream
 * with VmRSS sampled (AIS_TEST_STREAM_BYTES overrides; ASan 256 MiB, TSan 64 MiB),
 * a receiver torn down mid-object, an aborted sender, and 16 concurrent streams.
 */
// clang-format off
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
// clang-format on

#include "common/err.h"
#include "common/util.h"
#include "rpc/rpc.h"
#include "rpc/stream.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define TEST_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define TEST_TSAN 1
#endif
#endif
/* 1 GiB in Release; ASan is ~4x and TSan ~40x slower, so less there unless the env says. */
#if defined(TEST_TSAN)
#define BIG_DEFAULT (64ull << 20)
#elif defined(TEST_ASAN)
#define BIG_DEFAULT (256ull << 20)
#else
#define BIG_DEFAULT (1ull << 30)
#endif

#if defined(TEST_ASAN)
/* ASan keeps 256 MiB of freed memory in quarantine, which VmRSS would count as growth. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
    return "quarantine_size_mb=8";
}
#endif

/* ---- pattern and hash ---- */

static uint64_t
pat_word(uint64_t seed, uint64_t idx)
{
    return (idx + 1) * 0x9E3779B97F4A7C15ull ^ seed;
}

/* Pattern bytes [off, off+len) of object `seed`. */
static void
pat_fill(uint64_t seed, uint8_t *buf, size_t len, uint64_t off)
{
    for (size_t i = 0; i < len;) {
        uint64_t w = pat_word(seed, (off + i) / 8);
        size_t at = (off + i) % 8, n = 8 - at < len - i ? 8 - at : len - i;
        memcpy(buf + i, (uint8_t *)&w + at, n);
        i += n;
    }
}

static uint64_t
hash_add(uint64_t h, const uint8_t *p, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (; i < len; i++) {
        h = (h ^ p[i]) * 0x100000001b3ull;
    }
    return h;
}

#define HASH_INIT 0xcbf29ce484222325ull

/* What the receiver will compute for an object sent in `chunk`-sized frames. */
static uint64_t
pat_hash(uint64_t seed, uint64_t size, size_t chunk)
{
    uint8_t *buf = malloc(chunk);
    uint64_t h = HASH_INIT;
    for (uint64_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? (size_t)(size - off) : chunk;
        pat_fill(seed, buf, n, off);
        h = hash_add(h, buf, n);
    }
    free(buf);
    return h;
}

/* ---- receiver ---- */

static struct {
    pthread_mutex_t mu;
    uint64_t begins, ends_ok, ends_drop, bytes, last_hash;
    char last_name[64], last_meta[256];
} rx = {.mu = PTHREAD_MUTEX_INITIALIZER};

struct rx_obj {
    uint64_t hash, bytes, chunks;
    char expect[32];
    int fail_data, fail_end;
};

static void
rx_reset(void)
{
    pthread_mutex_lock(&rx.mu);
    rx.begins = rx.ends_ok = rx.ends_drop = rx.bytes = rx.last_hash = 0;
    pthread_mutex_unlock(&rx.mu);
}

static uint64_t
rx_get(const uint64_t *v)
{
    pthread_mutex_lock(&rx.mu);
    uint64_t x = *v;
    pthread_mutex_unlock(&rx.mu);
    return x;
}

static int
rx_begin(void *ctx, const struct rpc_obj_hdr *h, void **handle)
{
    if (strcmp(h->name, "fail-begin") == 0) {
        return -ENOSPC;
    }
    struct rx_obj *o = calloc(1, sizeof(*o));
    o->hash = HASH_INIT;
    snprintf(o->expect, sizeof(o->expect), "%s", h->cksum_value);
    o->fail_data = strcmp(h->name, "fail-data") == 0;
    o->fail_end = strcmp(h->name, "fail-end") == 0;
    pthread_mutex_lock(&rx.mu);
    rx.begins++;
    snprintf(rx.last_name, sizeof(rx.last_name), "%s/%s/%s", h->provider, h->bck, h->name);
    snprintf(rx.last_meta, sizeof(rx.last_meta), "%s|%s|%s|%s|%.*s", h->cksum_type, h->version,
             h->custom, h->kind, (int)h->opaque_len, (const char *)h->opaque);
    pthread_mutex_unlock(&rx.mu);
    *handle = o;
    return 0;
}

static int
rx_data(void *ctx, void *handle, const void *buf, size_t len)
{
    struct rx_obj *o = handle;
    if (o->fail_data && o->chunks == 1) {
        return -EIO;
    }
    o->hash = hash_add(o->hash, buf, len);
    o->bytes += len;
    o->chunks++;
    pthread_mutex_lock(&rx.mu);
    rx.bytes += len;
    pthread_mutex_unlock(&rx.mu);
    return 0;
}

static int
rx_end(void *ctx, void *handle, int ok)
{
    struct rx_obj *o = handle;
    char got[32];
    snprintf(got, sizeof(got), "%016" PRIx64, o->hash);
    int rc = 0;
    if (ok && o->fail_end) {
        rc = AIS_EBADCKSUM;
    } else if (ok && o->expect[0] != '\0' && strcmp(got, o->expect) != 0) {
        rc = AIS_EBADCKSUM;
    }
    pthread_mutex_lock(&rx.mu);
    if (ok) {
        rx.ends_ok++;
    } else {
        rx.ends_drop++;
    }
    rx.last_hash = o->hash;
    pthread_mutex_unlock(&rx.mu);
    free(o);
    return rc;
}

static const struct rpc_stream_ops rx_ops = {rx_begin, rx_data, rx_end};

static void
rx_listen(unsigned workers, char *url, size_t cap, struct rpc_stream_server **s)
{
    static unsigned seq;
    struct rpc_stream_server_opts o = {.workers = workers};
    int rc = -1;
    for (int i = 0; i < 50 && rc != 0; i++) {
        int port = 30000 + (int)(((unsigned)getpid() * 13 + seq++ * 157) % 20000);
        snprintf(url, cap, "tcp://127.0.0.1:%d", port);
        rc = rpc_stream_listen(url, &o, &rx_ops, NULL, s);
    }
    assert_int_equal(rc, 0);
}

/* Polls *v (under rx.mu) until >= want or the deadline. */
static void
rx_wait(const uint64_t *v, uint64_t want, int ms)
{
    int64_t deadline = ais_mono_ns() + (int64_t)ms * 1000000;
    while (rx_get(v) < want) {
        assert_true(ais_mono_ns() < deadline);
        struct timespec ts = {0, 2 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* ---- sender helpers ---- */

struct gen {
    uint64_t seed, hash;
    uint64_t fail_at; /* read error at this offset (0 = never) */
    int64_t rss_max_kb;
};

static int64_t
rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int64_t kb = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtoll(line + 6, NULL, 10);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return kb;
}

static int
gen_read(void *ctx, void *buf, size_t len, uint64_t off)
{
    struct gen *g = ctx;
    if (g->fail_at != 0 && off >= g->fail_at) {
        return -EIO;
    }
    pat_fill(g->seed, buf, len, off);
    g->hash = hash_add(g->hash, buf, len);
    if ((off & ((64u << 20) - 1)) == 0) {
        int64_t kb = rss_kb();
        g->rss_max_kb = kb > g->rss_max_kb ? kb : g->rss_max_kb;
    }
    return 0;
}

static int
send_pat(struct rpc_stream *s, const char *name, uint64_t seed, uint64_t size, size_t chunk)
{
    char cks[32];
    snprintf(cks, sizeof(cks), "%016" PRIx64, pat_hash(seed, size, chunk));
    struct rpc_obj_hdr h = {.provider = "ais",
                            .bck = "b",
                            .name = name,
                            .size = size,
                            .cksum_type = "test64",
                            .cksum_value = cks};
    struct gen g = {.seed = seed, .hash = HASH_INIT};
    return rpc_stream_send_obj(s, &h, -1, gen_read, &g);
}

/* ---- tests ---- */

static void
test_stream_objects(void **state)
{
    (void)state;
    struct rpc_stream_server *srv = NULL;
    struct rpc_stream *s = NULL;
    char url[64];
    const size_t chunk = 4096;
    rx_reset();
    rx_listen(2, url, sizeof(url), &srv);
    struct rpc_stream_opts o = {.timeout_ms = 3000, .chunk_bytes = chunk};
    assert_int_equal(rpc_stream_open(url, &o, &s), 0);
    const uint64_t sizes[] = {0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 5, 100 * chunk};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        assert_int_equal(send_pat(s, "obj", i + 1, sizes[i], chunk), 0);
    }
    assert_int_equal(rx_get(&rx.ends_ok), 7);
    /* metadata arrives as sent */
    struct rpc_obj_hdr h = {.provider = "ais",
                            .ns = "",
                            .bck = "bk",
                            .name = "m/1",
                            .size = 3,
                            .cksum_type = "xxhash",
                            .version = "7",
                            .custom = "k=v",
                            .kind = "mirror",
                            .opaque = "op",
                            .opaque_len = 2};
    struct gen g = {.seed = 9, .hash = HASH_INIT};
    assert_int_equal(rpc_stream_send_obj(s, &h, -1, gen_read, &g), 0);
    assert_string_equal(rx.last_name, "ais/bk/m/1");
    assert_string_equal(rx.last_meta, "xxhash|7|k=v|mirror|op");
    /* receiver errors are acked; the stream stays usable */
    uint64_t drops = rx_get(&rx.ends_drop);
    assert_int_equal(send_pat(s, "fail-begin", 1, 10, chunk), -ENOSPC);
    assert_int_equal(send_pat(s, "fail-data", 1, 5 * chunk, chunk), -EIO);
    assert_int_equal(rx_get(&rx.ends_drop), drops + 1);
    assert_int_equal(send_pat(s, "fail-end", 1, 10, chunk), AIS_EBADCKSUM);
    /* a sender-side read error mid-object: the receiver drops it, the stream lives on */
    struct gen bad = {.seed = 3, .hash = HASH_INIT, .fail_at = 2 * chunk};
    h.size = 4 * chunk;
    assert_int_equal(rpc_stream_send_obj(s, &h, -1, gen_read, &bad), -EIO);
    assert_int_equal(rx_get(&rx.ends_drop), drops + 2);
    /* from a file descriptor */
    char path[] = "/tmp/ais-stream-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    uint8_t *buf = malloc(10 * chunk + 3);
    pat_fill(42, buf, 10 * chunk + 3, 0);
    assert_int_equal(write(fd, buf, 10 * chunk + 3), (ssize_t)(10 * chunk + 3));
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    char cks[32];
    snprintf(cks, sizeof(cks), "%016" PRIx64, pat_hash(42, 10 * chunk + 3, chunk));
    struct rpc_obj_hdr fh = {.name = "file", .size = 10 * chunk + 3, .cksum_value = cks};
    assert_int_equal(rpc_stream_send_obj(s, &fh, fd, NULL, NULL), 0);
    /* a file shorter than its header says is a local error, not a hang */
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    fh.size = 20 * chunk;
    assert_int_equal(rpc_stream_send_obj(s, &fh, fd, NULL, NULL), -EIO);
    close(fd);
    unlink(path);
    free(buf);
    assert_int_equal(send_pat(s, "after", 5, 2 * chunk, chunk), 0);
    assert_int_equal(rpc_stream_close(s), 0);
    rpc_stream_server_stop(srv);
    assert_int_equal(rx_get(&rx.begins), rx_get(&rx.ends_ok) + rx_get(&rx.ends_drop));
}

static void
test_stream_big(void **state)
{
    (void)state;
    const char *env = getenv("AIS_TEST_STREAM_BYTES");
    uint64_t size = env ? strtoull(env, NULL, 10) : BIG_DEFAULT;
    struct rpc_stream_server *srv = NULL;
    struct rpc_stream *s = NULL;
    char url[64];
    rx_reset();
    rx_listen(0, url, sizeof(url), &srv);
    int64_t rss0 = rss_kb();
    int64_t t0 = ais_mono_ns();
    assert_int_equal(rpc_stream_open(url, NULL, &s), 0);
    struct rpc_obj_hdr h = {.provider = "ais", .bck = "b", .name = "big", .size = size};
    struct gen g = {.seed = 77, .hash = HASH_INIT, .rss_max_kb = rss0};
    assert_int_equal(rpc_stream_send_obj(s, &h, -1, gen_read, &g), 0);
    assert_int_equal(rpc_stream_close(s), 0);
    int64_t ms = (ais_mono_ns() - t0) / 1000000;
    int64_t rss1 = rss_kb();
    assert_int_equal(rx_get(&rx.ends_ok), 1);
    assert_int_equal(rx_get(&rx.bytes), size);
    assert_true(rx_get(&rx.last_hash) == g.hash);
    int64_t grow = (g.rss_max_kb > rss1 ? g.rss_max_kb : rss1) - rss0;
    printf("stream: %" PRIu64 " MiB in %" PRId64 " ms (%.0f MiB/s), rss growth %" PRId64 " KiB\n",
           size >> 20, ms, ms ? (double)(size >> 20) * 1000.0 / (double)ms : 0.0, grow);
    assert_true(grow < 64 * 1024);
    rpc_stream_server_stop(srv);
}

struct bg_send {
    pthread_t th;
    const char *url;
    struct rpc_stream *s;
    int rc, done;
    pthread_mutex_t mu;
};

static void *
bg_main(void *arg)
{
    struct bg_send *b = arg;
    struct rpc_obj_hdr h = {.name = "huge", .size = 64ull << 30};
    struct gen g = {.seed = 1, .hash = HASH_INIT};
    int rc = rpc_stream_send_obj(b->s, &h, -1, gen_read, &g);
    pthread_mutex_lock(&b->mu);
    b->rc = rc;
    b->done = 1;
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

/* Polls until the background sender returned (or fails the test at the deadline). */
static int
bg_wait(struct bg_send *b, int ms)
{
    int64_t deadline = ais_mono_ns() + (int64_t)ms * 1000000;
    for (;;) {
        pthread_mutex_lock(&b->mu);
        int done = b->done, rc = b->rc;
        pthread_mutex_unlock(&b->mu);
        if (done) {
            pthread_join(b->th, NULL);
            return rc;
        }
        assert_true(ais_mono_ns() < deadline);
        struct timespec ts = {0, 2 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void
test_stream_receiver_gone(void **state)
{
    (void)state;
    struct rpc_stream_server *srv = NULL;
    struct bg_send b = {.mu = PTHREAD_MUTEX_INITIALIZER};
    char url[64];
    rx_reset();
    rx_listen(0, url, sizeof(url), &srv);
    struct rpc_stream_opts o = {.timeout_ms = 10000};
    assert_int_equal(rpc_stream_open(url, &o, &b.s), 0);
    assert_int_equal(pthread_create(&b.th, NULL, bg_main, &b), 0);
    rx_wait(&rx.bytes, 8u << 20, 10000);
    int64_t t0 = ais_mono_ns();
    rpc_stream_server_stop(srv);
    int rc = bg_wait(&b, 3000);
    assert_true(rc == -ECONNRESET || rc == -ECANCELED || rc == -ETIMEDOUT);
    assert_true(ais_mono_ns() - t0 < 3000 * 1000000LL);
    assert_int_equal(rx_get(&rx.ends_drop), 1);
    /* the error is sticky */
    struct rpc_obj_hdr h = {.name = "x", .size = 1};
    struct gen g = {.seed = 1, .hash = HASH_INIT};
    assert_int_equal(rpc_stream_send_obj(b.s, &h, -1, gen_read, &g), rc);
    assert_int_equal(rpc_stream_close(b.s), rc);
    /* nobody listening: open fails within its timeout */
    struct rpc_stream *s = NULL;
    o.timeout_ms = 300;
    t0 = ais_mono_ns();
    assert_int_equal(rpc_stream_open(url, &o, &s), -ETIMEDOUT);
    assert_true(ais_mono_ns() - t0 < 1000 * 1000000LL);
}

static void
test_stream_abort(void **state)
{
    (void)state;
    struct rpc_stream_server *srv = NULL;
    struct bg_send b = {.mu = PTHREAD_MUTEX_INITIALIZER};
    char url[64];
    rx_reset();
    rx_listen(0, url, sizeof(url), &srv);
    assert_int_equal(rpc_stream_open(url, NULL, &b.s), 0);
    assert_int_equal(pthread_create(&b.th, NULL, bg_main, &b), 0);
    rx_wait(&rx.bytes, 4u << 20, 10000);
    rpc_stream_abort(b.s);
    assert_int_equal(bg_wait(&b, 2000), -ECANCELED);
    assert_int_equal(rpc_stream_close(b.s), -ECANCELED);
    /* the sender is gone: the receiver drops the partial object on its own */
    rx_wait(&rx.ends_drop, 1, 3000);
    assert_int_equal(rx_get(&rx.ends_ok), 0);
    rpc_stream_server_stop(srv);
    assert_int_equal(rx_get(&rx.ends_drop), 1);
}

#define NSTREAMS 16
#define NOBJS 8

struct conc {
    pthread_t th;
    const char *url;
    int idx, acked, rc;
};

static void *
conc_main(void *arg)
{
    struct conc *c = arg;
    struct rpc_stream *s = NULL;
    c->rc = rpc_stream_open(c->url, NULL, &s);
    for (int i = 0; c->rc == 0 && i < NOBJS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "s%d/o%d", c->idx, i);
        uint64_t size = (1u << 20) + (uint64_t)(c->idx * NOBJS + i) * 4097;
        c->rc = send_pat(s, name, (uint64_t)(c->idx * 100 + i), size, AIS_STREAM_CHUNK_BYTES_MAX);
        c->acked += c->rc == 0;
    }
    int cr = rpc_stream_close(s);
    c->rc = c->rc ? c->rc : cr;
    return NULL;
}

static void
test_stream_concurrent(void **state)
{
    (void)state;
    struct rpc_stream_server *srv = NULL;
    struct conc c[NSTREAMS];
    char url[64];
    rx_reset();
    rx_listen(4, url, sizeof(url), &srv);
    for (int i = 0; i < NSTREAMS; i++) {
        c[i] = (struct conc){.url = url, .idx = i};
        assert_int_equal(pthread_create(&c[i].th, NULL, conc_main, &c[i]), 0);
    }
    for (int i = 0; i < NSTREAMS; i++) {
        pthread_join(c[i].th, NULL);
        assert_int_equal(c[i].rc, 0);
        assert_int_equal(c[i].acked, NOBJS);
    }
    assert_int_equal(rx_get(&rx.ends_ok), NSTREAMS * NOBJS);
    assert_int_equal(rx_get(&rx.ends_drop), 0);
    rpc_stream_server_stop(srv);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_objects),       cmocka_unit_test(test_stream_big),
        cmocka_unit_test(test_stream_receiver_gone), cmocka_unit_test(test_stream_abort),
        cmocka_unit_test(test_stream_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
