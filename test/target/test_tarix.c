/*
 * Goal: the streaming TAR header parser reports every regular member with the right name,
 * data offset and size whatever the piece sizes it is fed, for ustar, GNU long names, pax
 * path/size records and base-256 sizes, and refuses bad checksums, truncated input and names
 * over the limit; the index header and records round-trip and reject damage.
 * Method: TAR images built in memory block by block (a tiny writer below), fed whole, byte by
 * byte and in odd pieces; members collected by the callback and compared.
 */
#include "target/tarix.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define IMG_MAX (64 * 1024)

struct img {
    unsigned char b[IMG_MAX];
    size_t len;
};

static void
hdr(struct img *m, const char *name, uint64_t size, char type, int base256)
{
    unsigned char *b = m->b + m->len;
    memset(b, 0, 512);
    memcpy(b, name, strlen(name) < 100 ? strlen(name) : 100);
    snprintf((char *)b + 100, 8, "%07o", 0644);
    if (base256) {
        b[124] = 0x80;
        for (int i = 11; i > 0; i--, size >>= 8) {
            b[124 + i] = (unsigned char)(size & 0xff);
        }
    } else {
        char oct[32];
        snprintf(oct, sizeof(oct), "%011llo", (unsigned long long)(size & 077777777777ull));
        memcpy(b + 124, oct, 12); /* 11 digits and the NUL */
    }
    b[156] = (unsigned char)type;
    memcpy(b + 257, "ustar", 6);
    memcpy(b + 263, "00", 2);
    memset(b + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++) {
        sum += b[i];
    }
    snprintf((char *)b + 148, 8, "%06o", sum);
    m->len += 512;
}

static void
data(struct img *m, const void *d, size_t n)
{
    memcpy(m->b + m->len, d, n);
    m->len += n;
    size_t pad = (512 - n % 512) % 512;
    memset(m->b + m->len, 0, pad);
    m->len += pad;
}

static void
member(struct img *m, const char *name, const char *content)
{
    hdr(m, name, strlen(content), '0', 0);
    data(m, content, strlen(content));
}

static void
end(struct img *m)
{
    memset(m->b + m->len, 0, 1024);
    m->len += 1024;
}

struct got {
    int n;
    char names[8][TGT_TAR_NAME_BYTES_MAX + 1];
    uint64_t off[8], size[8];
};

static int
collect(void *arg, const struct tgt_tar_member *mm)
{
    struct got *g = arg;
    assert_true(g->n < 8);
    assert_int_equal(strlen(mm->name), mm->name_len);
    strcpy(g->names[g->n], mm->name);
    g->off[g->n] = mm->off;
    g->size[g->n] = mm->size;
    g->n++;
    return 0;
}

/* Parses img in pieces of `piece` bytes (0: whole). Returns finish's result. */
static int
parse(const struct img *m, size_t piece, struct got *g)
{
    struct tgt_tar_parser *p;
    memset(g, 0, sizeof(*g));
    assert_int_equal(tgt_tar_parser_new(collect, g, &p), 0);
    int rc = 0;
    for (size_t at = 0; at < m->len && rc == 0;) {
        size_t k = piece == 0 || piece > m->len - at ? m->len - at : piece;
        rc = tgt_tar_parser_feed(p, m->b + at, k);
        at += k;
    }
    if (rc == 0) {
        rc = tgt_tar_parser_finish(p);
    }
    tgt_tar_parser_free(p);
    return rc;
}

static void
test_ustar_pieces(void **state)
{
    (void)state;
    static struct img m;
    m.len = 0;
    member(&m, "a.txt", "hello");
    hdr(&m, "dir/", 0, '5', 0);
    hdr(&m, "link", 99, '2', 0); /* header-only type: its size is ignored */
    member(&m, "dir/b.bin", "0123456789");
    end(&m);
    size_t pieces[] = {0, 1, 7, 511, 512, 513, 4096};
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        struct got g;
        assert_int_equal(parse(&m, pieces[i], &g), 0);
        assert_int_equal(g.n, 2);
        assert_string_equal(g.names[0], "a.txt");
        assert_int_equal(g.off[0], 512);
        assert_int_equal(g.size[0], 5);
        assert_string_equal(g.names[1], "dir/b.bin");
        assert_int_equal(g.off[1], 512 * 5);
        assert_int_equal(g.size[1], 10);
        assert_memory_equal(m.b + g.off[1], "0123456789", 10);
    }
}

static void
test_gnu_long_name(void **state)
{
    (void)state;
    static struct img m;
    char longname[300];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    m.len = 0;
    hdr(&m, "././@LongLink", strlen(longname) + 1, 'L', 0);
    data(&m, longname, strlen(longname) + 1);
    member(&m, "truncated-name", "data");
    member(&m, "short", "s");
    struct got g;
    assert_int_equal(parse(&m, 100, &g), 0); /* no end blocks: ends on a boundary */
    assert_int_equal(g.n, 2);
    assert_string_equal(g.names[0], longname);
    assert_int_equal(g.size[0], 4);
    assert_memory_equal(m.b + g.off[0], "data", 4);
    assert_string_equal(g.names[1], "short"); /* the long name applied to one member only */
}

static void
test_pax_path_and_size(void **state)
{
    (void)state;
    static struct img m;
    const char *rec = "29 path=pax/dir/named-by-pax\n10 size=3\n";
    m.len = 0;
    hdr(&m, "PaxHeaders/x", strlen(rec), 'x', 0);
    data(&m, rec, strlen(rec));
    hdr(&m, "ignored", 999, '0', 0); /* pax size wins */
    data(&m, "abc", 3);
    hdr(&m, "g", 10, 'g', 0);
    data(&m, "10 a=bcd\n\n", 10);
    member(&m, "after", "z");
    end(&m);
    struct got g;
    assert_int_equal(parse(&m, 33, &g), 0);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.names[0], "pax/dir/named-by-pax");
    assert_int_equal(g.size[0], 3);
    assert_memory_equal(m.b + g.off[0], "abc", 3);
    assert_string_equal(g.names[1], "after");
}

static void
test_base256_size(void **state)
{
    (void)state;
    static struct img m;
    m.len = 0;
    hdr(&m, "big", 700, '0', 1);
    static char buf[700];
    memset(buf, 'q', sizeof(buf));
    data(&m, buf, sizeof(buf));
    end(&m);
    struct got g;
    assert_int_equal(parse(&m, 0, &g), 0);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.size[0], 700);
    /* negative base-256 is refused */
    m.len = 0;
    hdr(&m, "neg", 1, '0', 0);
    m.b[124] = 0xff;
    memset(m.b + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++) {
        sum += m.b[i];
    }
    snprintf((char *)m.b + 148, 8, "%06o", sum);
    assert_int_equal(parse(&m, 0, &g), -EBADMSG);
}

static void
test_bad_and_truncated(void **state)
{
    (void)state;
    static struct img m;
    struct got g;
    m.len = 0;
    member(&m, "a", "hello");
    size_t full = m.len;
    m.len = 300; /* inside the header */
    assert_int_equal(parse(&m, 0, &g), -EBADMSG);
    m.len = 515; /* inside the data */
    assert_int_equal(parse(&m, 0, &g), -EBADMSG);
    assert_int_equal(g.n, 1);
    m.len = full;
    m.b[0] ^= 1; /* checksum */
    assert_int_equal(parse(&m, 0, &g), -EBADMSG);
    memset(m.b, 'x', 512); /* not a TAR at all */
    m.len = 512;
    assert_int_equal(parse(&m, 0, &g), -EBADMSG);
    m.len = 0;
    assert_int_equal(parse(&m, 0, &g), 0); /* empty input: an empty archive */
    assert_int_equal(g.n, 0);
}

static void
test_name_limit(void **state)
{
    (void)state;
    static struct img m;
    static char name[TGT_TAR_NAME_BYTES_MAX + 2];
    struct got g;
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    m.len = 0;
    hdr(&m, "L", strlen(name) + 1, 'L', 0); /* max + 1 */
    data(&m, name, strlen(name) + 1);
    member(&m, "x", "y");
    assert_int_equal(parse(&m, 0, &g), -ENAMETOOLONG);
    name[TGT_TAR_NAME_BYTES_MAX] = '\0'; /* exactly max */
    m.len = 0;
    hdr(&m, "L", strlen(name) + 1, 'L', 0);
    data(&m, name, strlen(name) + 1);
    member(&m, "x", "y");
    assert_int_equal(parse(&m, 0, &g), 0);
    assert_int_equal(strlen(g.names[0]), TGT_TAR_NAME_BYTES_MAX);
}

static int
stop_at_first(void *arg, const struct tgt_tar_member *mm)
{
    (void)mm;
    (*(int *)arg)++;
    return -ECANCELED;
}

static void
test_callback_error_is_sticky(void **state)
{
    (void)state;
    static struct img m;
    m.len = 0;
    member(&m, "a", "1");
    member(&m, "b", "2");
    int n = 0;
    struct tgt_tar_parser *p;
    assert_int_equal(tgt_tar_parser_new(stop_at_first, &n, &p), 0);
    assert_int_equal(tgt_tar_parser_feed(p, m.b, m.len), -ECANCELED);
    assert_int_equal(tgt_tar_parser_feed(p, m.b, m.len), -ECANCELED);
    assert_int_equal(tgt_tar_parser_finish(p), -ECANCELED);
    assert_int_equal(n, 1);
    tgt_tar_parser_free(p);
}

static void
test_index_header(void **state)
{
    (void)state;
    struct tgt_tarix_key k = {.size = 12345, .mtime_ns = 1700000000123456789LL, .ino = 42};
    strcpy(k.cksum, "xxhash:0123456789abcdef");
    strcpy(k.version, "3");
    char h[TGT_TARIX_HDR_BYTES];
    assert_int_equal(tgt_tarix_hdr_encode(&k, 7, h), 0);
    struct tgt_tarix_key d;
    uint64_t count = 0;
    assert_int_equal(tgt_tarix_hdr_decode(h, &d, &count), 0);
    assert_int_equal(count, 7);
    assert_true(tgt_tarix_key_eq(&k, &d));
    d.ino++;
    assert_false(tgt_tarix_key_eq(&k, &d));
    char bad[TGT_TARIX_HDR_BYTES];
    memcpy(bad, h, sizeof(bad));
    bad[0] = 'X';
    assert_int_equal(tgt_tarix_hdr_decode(bad, &d, &count), -EBADMSG);
    memcpy(bad, h, sizeof(bad));
    memcpy(strstr(bad, "size=") + 5, "zz", 2);
    assert_int_equal(tgt_tarix_hdr_decode(bad, &d, &count), -EBADMSG);
    memset(bad, 0, sizeof(bad));
    assert_int_equal(tgt_tarix_hdr_decode(bad, &d, &count), -EBADMSG);
    strcpy(k.version, "a\nb");
    assert_int_equal(tgt_tarix_hdr_encode(&k, 7, h), -ENAMETOOLONG);
}

static void
test_index_records(void **state)
{
    (void)state;
    char buf[256];
    struct tgt_tar_member m = {
        .name = "dir/file.jpg", .name_len = 12, .off = 1ull << 40, .size = 513};
    int n = tgt_tarix_rec_encode(&m, buf, sizeof(buf));
    assert_int_equal(n, 18 + 12);
    struct tgt_tar_member d;
    for (int k = 0; k < n; k++) {
        assert_int_equal(tgt_tarix_rec_decode(buf, (size_t)k, &d), 0); /* partial */
    }
    assert_int_equal(tgt_tarix_rec_decode(buf, (size_t)n, &d), n);
    assert_int_equal(d.name_len, 12);
    assert_memory_equal(d.name, "dir/file.jpg", 12);
    assert_int_equal(d.off, 1ull << 40);
    assert_int_equal(d.size, 513);
    assert_int_equal(tgt_tarix_rec_encode(&m, buf, 20), -ENOSPC);
    m.name_len = 0;
    assert_int_equal(tgt_tarix_rec_encode(&m, buf, sizeof(buf)), -ENAMETOOLONG);
    buf[0] = 0;
    buf[1] = 0; /* zero-length name */
    assert_int_equal(tgt_tarix_rec_decode(buf, sizeof(buf), &d), -EBADMSG);
    buf[0] = (char)0xff;
    buf[1] = (char)0xff; /* over the limit */
    assert_int_equal(tgt_tarix_rec_decode(buf, sizeof(buf), &d), -EBADMSG);
}

/* The batch-GET writer's headers (target/moss.c) read back by the index parser: names short
 * and long (GNU 'L'), sizes, data offsets. */
static void
test_moss_writer_round_trip(void **state)
{
    (void)state;
    static struct img m;
    char longname[300];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    const char *names[3] = {"b/short.jpg", longname, "__404__/b/missing"};
    const char *bodies[3] = {"hello", "0123456789abcdef", ""};
    m.len = 0;
    for (int i = 0; i < 3; i++) {
        size_t want = tgt_tar_hdr_bytes(strlen(names[i]));
        assert_true(m.len + want <= IMG_MAX);
        size_t n = tgt_tar_hdr_encode((char *)m.b + m.len, names[i], strlen(bodies[i]), 1700000000);
        assert_int_equal(n, want);
        assert_int_equal(n % 512, 0);
        m.len += n;
        data(&m, bodies[i], strlen(bodies[i]));
    }
    end(&m);
    struct got g;
    assert_int_equal(parse(&m, 0, &g), 0);
    assert_int_equal(g.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(g.names[i], names[i]);
        assert_int_equal(g.size[i], strlen(bodies[i]));
        assert_memory_equal(m.b + g.off[i], bodies[i], strlen(bodies[i]));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ustar_pieces),
        cmocka_unit_test(test_gnu_long_name),
        cmocka_unit_test(test_pax_path_and_size),
        cmocka_unit_test(test_base256_size),
        cmocka_unit_test(test_bad_and_truncated),
        cmocka_unit_test(test_name_limit),
        cmocka_unit_test(test_callback_error_is_sticky),
        cmocka_unit_test(test_index_header),
        cmocka_unit_test(test_index_records),
        cmocka_unit_test(test_moss_writer_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
