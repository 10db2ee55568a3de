/*
 * Goal: the slice metadata record round-trips every field, its wire format is the documented
 * one, and a truncated, extended, corrupted or inconsistent record is an error (never a crash
 * or an over-read), with an intact record of another version told apart (-EPROTO).
 * Method: a test-local builder writes records from the format description in ec/ec.h (pinned
 * against ec_meta_pack), then each field is broken and the record re-sealed so the checksum
 * does not hide the field check; every truncation and every single-byte flip of a packed
 * record, plus random garbage (sealed and not), under ASan.
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

#include <cmocka.h>
// clang-format on

#include "common/err.h"
#include "ec/ec.h"

#include <xxhash.h>

static struct ec_meta
sample(void)
{
    struct ec_meta m;
    memset(&m, 0, sizeof(m));
    m.generation = 1764000000123456789ll;
    m.obj_size = (10u << 20) + 3;
    m.data = 8;
    m.parity = 2;
    m.slice_id = 3;
    m.slice_size = ec_slice_size(m.obj_size, m.data);
    snprintf(m.obj_cksum_type, sizeof(m.obj_cksum_type), "xxhash");
    snprintf(m.obj_cksum_value, sizeof(m.obj_cksum_value), "0123456789abcdef");
    snprintf(m.obj_version, sizeof(m.obj_version), "7");
    snprintf(m.slice_cksum_type, sizeof(m.slice_cksum_type), "xxhash");
    snprintf(m.slice_cksum_value, sizeof(m.slice_cksum_value), "fedcba9876543210");
    snprintf(m.full_replica, sizeof(m.full_replica), "t[abcDEF12]");
    return m;
}

static void
assert_meta_equal(const struct ec_meta *a, const struct ec_meta *b)
{
    assert_int_equal(a->generation, b->generation);
    assert_int_equal(a->obj_size, b->obj_size);
    assert_int_equal(a->slice_size, b->slice_size);
    assert_int_equal(a->data, b->data);
    assert_int_equal(a->parity, b->parity);
    assert_int_equal(a->slice_id, b->slice_id);
    assert_int_equal(a->is_copy, b->is_copy);
    assert_string_equal(a->obj_cksum_type, b->obj_cksum_type);
    assert_string_equal(a->obj_cksum_value, b->obj_cksum_value);
    assert_string_equal(a->obj_version, b->obj_version);
    assert_string_equal(a->slice_cksum_type, b->slice_cksum_type);
    assert_string_equal(a->slice_cksum_value, b->slice_cksum_value);
    assert_string_equal(a->full_replica, b->full_replica);
}

static void
roundtrip(const struct ec_meta *m)
{
    uint8_t buf[EC_META_BYTES_MAX];
    struct ec_meta got;
    int n = ec_meta_pack(m, buf, sizeof(buf));
    assert_true(n > 0);
    assert_true(n <= EC_META_BYTES_MAX);
    memset(&got, 0xee, sizeof(got));
    assert_int_equal(ec_meta_unpack(buf, (size_t)n, &got), 0);
    assert_meta_equal(m, &got);
}

/* Raw record fields, independent of ec_meta (strings may hold any bytes). */
struct raw {
    uint8_t magic[4];
    uint16_t version, flags;
    int64_t gen;
    uint64_t size, slice;
    uint8_t d, p, id, zero;
    const char *str[6];
    size_t len[6];
};

static struct raw
raw_of(const struct ec_meta *m)
{
    struct raw r = {.magic = {'A', 'I', 'S', 'E'},
                    .version = EC_META_VERSION,
                    .flags = m->is_copy ? 1 : 0,
                    .gen = m->generation,
                    .size = m->obj_size,
                    .slice = m->slice_size,
                    .d = m->data,
                    .p = m->parity,
                    .id = m->slice_id};
    const char *s[6] = {m->obj_cksum_type,   m->obj_cksum_value,   m->obj_version,
                        m->slice_cksum_type, m->slice_cksum_value, m->full_replica};
    for (int i = 0; i < 6; i++) {
        r.str[i] = s[i];
        r.len[i] = strlen(s[i]);
    }
    return r;
}

static void
le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void
seal(uint8_t *buf, size_t body)
{
    le(buf + body, XXH64(buf, body, 0), 8);
}

/* Writes the record (sealed) into buf (>= 1024 bytes); returns its length. */
static size_t
build(const struct raw *r, uint8_t *buf)
{
    size_t n = 0;
    memcpy(buf, r->magic, 4);
    le(buf + 4, r->version, 2);
    le(buf + 6, r->flags, 2);
    le(buf + 8, (uint64_t)r->gen, 8);
    le(buf + 16, r->size, 8);
    le(buf + 24, r->slice, 8);
    buf[32] = r->d;
    buf[33] = r->p;
    buf[34] = r->id;
    buf[35] = r->zero;
    n = 36;
    for (int i = 0; i < 6; i++) {
        assert_true(r->len[i] <= 255);
        buf[n++] = (uint8_t)r->len[i];
        memcpy(buf + n, r->str[i], r->len[i]);
        n += r->len[i];
    }
    seal(buf, n);
    return n + 8;
}

static int
unpack_raw(const struct raw *r)
{
    uint8_t buf[1024];
    struct ec_meta m;
    size_t n = build(r, buf);
    return ec_meta_unpack(buf, n, &m);
}

static void
test_roundtrip(void **state)
{
    (void)state;
    struct ec_meta m = sample();
    roundtrip(&m);
    for (int id = 0; id <= m.data + m.parity; id++) {
        m.slice_id = (uint8_t)id;
        roundtrip(&m);
    }
    /* A replica of a small object. */
    m = sample();
    m.is_copy = true;
    m.slice_id = 0;
    m.obj_size = 1000;
    m.slice_size = 1000;
    roundtrip(&m);
    /* Empty object, empty strings, extreme counts and sizes. */
    m = sample();
    m.obj_size = 0;
    m.slice_size = 0;
    m.obj_cksum_type[0] = m.obj_cksum_value[0] = m.obj_version[0] = '\0';
    m.slice_cksum_type[0] = m.slice_cksum_value[0] = m.full_replica[0] = '\0';
    roundtrip(&m);
    m = sample();
    m.data = EC_DATA_SLICES_MAX;
    m.parity = EC_PARITY_SLICES_MAX;
    m.slice_id = EC_SLICES_MAX;
    m.obj_size = EC_OBJ_BYTES_MAX;
    m.slice_size = ec_slice_size(m.obj_size, m.data);
    m.generation = INT64_MAX;
    roundtrip(&m);
    /* Every string at its longest: still within EC_META_BYTES_MAX. */
    memset(m.obj_cksum_type, 'a', sizeof(m.obj_cksum_type) - 1);
    memset(m.obj_cksum_value, 'b', sizeof(m.obj_cksum_value) - 1);
    memset(m.obj_version, '9', sizeof(m.obj_version) - 1);
    memset(m.slice_cksum_type, 'c', sizeof(m.slice_cksum_type) - 1);
    memset(m.slice_cksum_value, 'd', sizeof(m.slice_cksum_value) - 1);
    memset(m.full_replica, 'e', sizeof(m.full_replica) - 1);
    roundtrip(&m);
}

static void
test_format_pinned(void **state)
{
    (void)state;
    uint8_t a[EC_META_BYTES_MAX], b[1024];
    struct ec_meta m = sample();
    int n = ec_meta_pack(&m, a, sizeof(a));
    struct raw r = raw_of(&m);
    assert_int_equal(n, build(&r, b));
    assert_memory_equal(a, b, (size_t)n);
    assert_int_equal(n, 36 + 6 + 6 + 16 + 1 + 6 + 16 + 11 + 8);
}

static void
test_pack_errors(void **state)
{
    (void)state;
    uint8_t buf[EC_META_BYTES_MAX];
    struct ec_meta m = sample();
    int n = ec_meta_pack(&m, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(ec_meta_pack(&m, buf, (size_t)n), n);
    assert_int_equal(ec_meta_pack(&m, buf, (size_t)n - 1), -ENOSPC);
    assert_int_equal(ec_meta_pack(&m, NULL, 0), -ENOSPC);
    struct ec_meta bad = m;
    bad.data = 0;
    assert_int_equal(ec_meta_pack(&bad, buf, sizeof(buf)), -EINVAL);
    bad = m;
    bad.parity = EC_PARITY_SLICES_MAX + 1;
    assert_int_equal(ec_meta_check(&bad), -EINVAL);
    bad = m;
    bad.data = EC_DATA_SLICES_MAX + 1;
    assert_int_equal(ec_meta_check(&bad), -EINVAL);
    bad = m;
    bad.slice_id = (uint8_t)(m.data + m.parity + 1);
    assert_int_equal(ec_meta_check(&bad), -EINVAL);
    bad = m;
    bad.slice_size += EC_SLICE_ALIGN_BYTES;
    assert_int_equal(ec_meta_check(&bad), -EINVAL);
    bad = m;
    bad.generation = 0;
    assert_int_equal(ec_meta_check(&bad), -EINVAL);
    bad = m;
    bad.obj_size = EC_OBJ_BYTES_MAX + 1;
    assert_int_equal(ec_meta_check(&bad), -EINVAL);
    bad = m;
    bad.is_copy = true; /* a replica with a slice id */
    bad.slice_size = bad.obj_size;
    assert_int_equal(ec_meta_check(&bad), -EINVAL);
    bad.slice_id = 0;
    assert_int_equal(ec_meta_check(&bad), 0);
    bad.slice_size = ec_slice_size(bad.obj_size, bad.data); /* replica size is the object's */
    assert_int_equal(ec_meta_check(&bad), -EINVAL);
    bad = m;
    memset(bad.obj_version, '1', sizeof(bad.obj_version)); /* no NUL in the array */
    assert_int_equal(ec_meta_check(&bad), -EINVAL);
    bad = m;
    bad.full_replica[2] = '\n';
    assert_int_equal(ec_meta_check(&bad), -EINVAL);
    bad = m;
    bad.slice_cksum_value[0] = (char)0xc3;
    assert_int_equal(ec_meta_check(&bad), -EINVAL);
    assert_int_equal(ec_meta_check(&m), 0);
}

static void
test_truncated_and_flipped(void **state)
{
    (void)state;
    uint8_t buf[EC_META_BYTES_MAX + 1], tmp[EC_META_BYTES_MAX + 1];
    struct ec_meta m = sample(), got;
    int n = ec_meta_pack(&m, buf, sizeof(buf));
    assert_true(n > 0);
    for (int len = 0; len < n; len++) {
        /* Each truncation in a buffer of exactly that size: ASan catches any over-read. */
        uint8_t *t = malloc((size_t)len + 1);
        assert_non_null(t);
        memcpy(t, buf, (size_t)len);
        assert_int_equal(ec_meta_unpack(len ? t : NULL, (size_t)len, &got), AIS_EBADMSG);
        free(t);
    }
    buf[n] = 0;
    assert_int_equal(ec_meta_unpack(buf, (size_t)n + 1, &got), AIS_EBADMSG); /* trailing byte */
    const uint8_t flips[] = {0x01, 0x10, 0x80, 0xff};
    for (int i = 0; i < n; i++) {
        for (size_t f = 0; f < sizeof(flips); f++) {
            memcpy(tmp, buf, (size_t)n);
            tmp[i] ^= flips[f];
            assert_int_equal(ec_meta_unpack(tmp, (size_t)n, &got), AIS_EBADMSG);
        }
    }
    /* Failed unpacks never wrote *out. */
    memset(&got, 0x11, sizeof(got));
    tmp[0] ^= 1;
    assert_int_equal(ec_meta_unpack(tmp, (size_t)n, &got), AIS_EBADMSG);
    assert_int_equal(got.data, 0x11);
}

static void
test_sealed_field_errors(void **state)
{
    (void)state;
    struct ec_meta m = sample();
    const struct raw ok = raw_of(&m);
    struct raw r = ok;
    assert_int_equal(unpack_raw(&r), 0);
    r.version = 2;
    assert_int_equal(unpack_raw(&r), -EPROTO);
    r.version = 0;
    assert_int_equal(unpack_raw(&r), -EPROTO);
    r = ok;
    r.magic[3] = 'X';
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    r = ok;
    r.flags = 2;
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    r = ok;
    r.zero = 1;
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    r = ok;
    r.d = 0;
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    r = ok;
    r.d = 33;
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    r = ok;
    r.p = 0;
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    r = ok;
    r.p = 33;
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    r = ok;
    r.id = (uint8_t)(r.d + r.p + 1);
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    r = ok;
    r.slice = r.slice - 1;
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    r = ok;
    r.gen = -5;
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    r = ok;
    r.size = EC_OBJ_BYTES_MAX + 1;
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    r = ok;
    r.size = UINT64_MAX;
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    r = ok;
    r.flags = 1; /* a copy must have slice id 0 and slice == size */
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
}

static void
test_sealed_string_errors(void **state)
{
    (void)state;
    struct ec_meta m = sample();
    const struct raw ok = raw_of(&m);
    struct raw r = ok;
    /* Strings: too long for their array, embedded NUL, non-printable, overrunning the end. */
    char longtype[ST_CKSUM_TYPE_BYTES + 1];
    memset(longtype, 'x', sizeof(longtype));
    r = ok;
    r.str[0] = longtype;
    r.len[0] = ST_CKSUM_TYPE_BYTES;
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    r.len[0] = ST_CKSUM_TYPE_BYTES - 1;
    assert_int_equal(unpack_raw(&r), 0);
    char longid[AIS_DAEMON_ID_BYTES_MAX + 2];
    memset(longid, 'i', sizeof(longid));
    r = ok;
    r.str[5] = longid;
    r.len[5] = AIS_DAEMON_ID_BYTES_MAX + 1;
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    r.len[5] = AIS_DAEMON_ID_BYTES_MAX;
    assert_int_equal(unpack_raw(&r), 0);
    r = ok;
    r.str[2] = "1\0002";
    r.len[2] = 3;
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    r = ok;
    r.str[1] = "ab\x01";
    r.len[1] = 3;
    assert_int_equal(unpack_raw(&r), AIS_EBADMSG);
    /* A length byte pointing past the record, and a record cut before its last strings. */
    uint8_t buf[1024];
    struct ec_meta got;
    r = ok;
    size_t n = build(&r, buf);
    buf[36] = 250;
    seal(buf, n - 8);
    assert_int_equal(ec_meta_unpack(buf, n, &got), AIS_EBADMSG);
    n = build(&r, buf);
    size_t cut = n - 8 - r.len[5] - 1; /* drop the last string entirely, re-seal */
    seal(buf, cut);
    assert_int_equal(ec_meta_unpack(buf, cut + 8, &got), AIS_EBADMSG);
    /* Leftover bytes between the last string and the checksum. */
    n = build(&r, buf);
    memmove(buf + n - 8 + 1, buf + n - 8, 8);
    buf[n - 8] = 'z';
    seal(buf, n - 8 + 1);
    assert_int_equal(ec_meta_unpack(buf, n + 1, &got), AIS_EBADMSG);
}

static void
test_garbage(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ull;
    struct ec_meta got;
    for (int it = 0; it < 20000; it++) {
        size_t len = 0;
        uint8_t *buf = NULL;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        len = (size_t)(x % (EC_META_BYTES_MAX + 64));
        buf = malloc(len + 1);
        assert_non_null(buf);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            /* Small values half the time, so lengths and counts look plausible. */
            buf[i] = (uint8_t)((x >> 8) & ((x & 1) ? 0xff : 0x3f));
        }
        if (len >= 4) {
            memcpy(buf, "AISE", 4);
        }
        if (len >= 8 && (it & 1)) {
            buf[4] = 1;
            buf[5] = 0;
            seal(buf, len - 8);
        }
        int err = ec_meta_unpack(len ? buf : NULL, len, &got);
        assert_true(err == AIS_EBADMSG || err == -EPROTO || err == 0);
        if (err == 0) {
            assert_int_equal(ec_meta_check(&got), 0);
        }
        free(buf);
    }
}

int
main(void)
{
    // clang-format off
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_format_pinned),
        cmocka_unit_test(test_pack_errors),
        cmocka_unit_test(test_truncated_and_flipped),
        cmocka_unit_test(test_sealed_field_errors),
        cmocka_unit_test(test_sealed_string_errors),
        cmocka_unit_test(test_garbage),
    };
    // clang-format on
    return cmocka_run_group_tests(tests, NULL, NULL);
}
