/*
 * Slice metadata record: pack, unpack, invariants.
 *
 * Design notes: a fixed little-endian header, six length-prefixed strings, and an XXH64 of the
 * whole record at the end (as AIS seals its metafiles), so a flipped bit anywhere is caught
 * before any field is trusted. Unpacking goes through a cursor that turns every overrun into
 * one "bad" flag instead of a read; the record must end exactly at its checksum. The version
 * is looked at only once the checksum holds, so an intact record of a newer format is told
 * apart (-EPROTO) from garbage (AIS_EBADMSG). Strings are printable ASCII: checksum types and
 * hex values, decimal versions and daemon ids never need more.
 */
#include "common/assert.h"
#include "common/err.h"
#include "ec/ec.h"

#include <errno.h>
#include <string.h>
#include <xxhash.h>

static const uint8_t ec_meta_magic[4] = {'A', 'I', 'S', 'E'};

#define EC_META_FLAG_COPY 0x1u
#define EC_META_FIXED_BYTES (4 + 2 + 2 + 8 + 8 + 8 + 4)
#define EC_META_STRINGS 6
#define EC_META_SUM_BYTES 8
#define EC_META_STR_MAX                                                                            \
    (2 * (ST_CKSUM_TYPE_BYTES - 1) + 2 * (ST_CKSUM_VALUE_BYTES - 1) + (ST_VERSION_BYTES - 1) +     \
     AIS_DAEMON_ID_BYTES_MAX)

static_assert(EC_META_FIXED_BYTES + EC_META_STRINGS + EC_META_STR_MAX + EC_META_SUM_BYTES <=
                  EC_META_BYTES_MAX,
              "the largest record fits EC_META_BYTES_MAX");
static_assert(ST_CKSUM_VALUE_BYTES - 1 <= 255, "string lengths are one byte");

struct meta_str {
    size_t off; /* of the char array in struct ec_meta */
    size_t cap;
};

/* The six strings in record order. */
static const struct meta_str ec_meta_strs[EC_META_STRINGS] = {
    {offsetof(struct ec_meta, obj_cksum_type), ST_CKSUM_TYPE_BYTES},
    {offsetof(struct ec_meta, obj_cksum_value), ST_CKSUM_VALUE_BYTES},
    {offsetof(struct ec_meta, obj_version), ST_VERSION_BYTES},
    {offsetof(struct ec_meta, slice_cksum_type), ST_CKSUM_TYPE_BYTES},
    {offsetof(struct ec_meta, slice_cksum_value), ST_CKSUM_VALUE_BYTES},
    {offsetof(struct ec_meta, full_replica), AIS_DAEMON_ID_BYTES_MAX + 1},
};

/* 1 if s (in an array of cap bytes) is NUL-terminated printable ASCII. */
static int
str_ok(const char *s, size_t cap)
{
    for (size_t i = 0; i < cap; i++) {
        if (s[i] == '\0') {
            return 1;
        }
        if (s[i] < 0x20 || s[i] > 0x7e) {
            return 0;
        }
    }
    return 0;
}

int
ec_meta_check(const struct ec_meta *m)
{
    AIS_ASSERT(m != NULL);
    if (m->data < 1 || m->data > EC_DATA_SLICES_MAX || m->parity < 1 ||
        m->parity > EC_PARITY_SLICES_MAX || m->slice_id > m->data + m->parity) {
        return -EINVAL;
    }
    if (m->generation <= 0 || m->obj_size > EC_OBJ_BYTES_MAX) {
        return -EINVAL;
    }
    if (m->is_copy ? (m->slice_id != 0 || m->slice_size != m->obj_size)
                   : m->slice_size != ec_slice_size(m->obj_size, m->data)) {
        return -EINVAL;
    }
    for (size_t i = 0; i < EC_META_STRINGS; i++) {
        if (!str_ok((const char *)m + ec_meta_strs[i].off, ec_meta_strs[i].cap)) {
            return -EINVAL;
        }
    }
    return 0;
}

static void
put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint64_t
get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

int
ec_meta_pack(const struct ec_meta *m, uint8_t *buf, size_t cap)
{
    uint8_t tmp[EC_META_BYTES_MAX];
    AIS_ASSERT(buf != NULL || cap == 0);
    if (ec_meta_check(m) < 0) {
        return -EINVAL;
    }
    memcpy(tmp, ec_meta_magic, 4);
    put_le(tmp + 4, EC_META_VERSION, 2);
    put_le(tmp + 6, m->is_copy ? EC_META_FLAG_COPY : 0, 2);
    put_le(tmp + 8, (uint64_t)m->generation, 8);
    put_le(tmp + 16, m->obj_size, 8);
    put_le(tmp + 24, m->slice_size, 8);
    tmp[32] = m->data;
    tmp[33] = m->parity;
    tmp[34] = m->slice_id;
    tmp[35] = 0;
    size_t n = EC_META_FIXED_BYTES;
    for (size_t i = 0; i < EC_META_STRINGS; i++) {
        const char *s = (const char *)m + ec_meta_strs[i].off;
        size_t l = strlen(s);
        tmp[n++] = (uint8_t)l;
        memcpy(tmp + n, s, l);
        n += l;
    }
    put_le(tmp + n, XXH64(tmp, n, 0), EC_META_SUM_BYTES);
    n += EC_META_SUM_BYTES;
    AIS_ASSERT(n <= sizeof(tmp));
    if (n > cap) {
        return -ENOSPC;
    }
    memcpy(buf, tmp, n);
    return (int)n;
}

/* Reads one length-prefixed string at *off (bounded by end) into dst (cap bytes). */
static int
get_str(const uint8_t *buf, size_t end, size_t *off, char *dst, size_t cap)
{
    if (*off >= end) {
        return AIS_EBADMSG;
    }
    size_t l = buf[*off];
    *off += 1;
    if (l >= cap || l > end - *off || memchr(buf + *off, '\0', l) != NULL) {
        return AIS_EBADMSG;
    }
    memcpy(dst, buf + *off, l);
    dst[l] = '\0';
    *off += l;
    return 0;
}

/* The fields after the checksum and version checks passed; end is where the checksum starts. */
static int
meta_parse(const uint8_t *buf, size_t end, struct ec_meta *m)
{
    uint64_t flags = get_le(buf + 6, 2);
    if ((flags & ~(uint64_t)EC_META_FLAG_COPY) != 0 || buf[35] != 0) {
        return AIS_EBADMSG;
    }
    memset(m, 0, sizeof(*m));
    m->is_copy = (flags & EC_META_FLAG_COPY) != 0;
    m->generation = (int64_t)get_le(buf + 8, 8);
    m->obj_size = get_le(buf + 16, 8);
    m->slice_size = get_le(buf + 24, 8);
    m->data = buf[32];
    m->parity = buf[33];
    m->slice_id = buf[34];
    size_t off = EC_META_FIXED_BYTES;
    for (size_t i = 0; i < EC_META_STRINGS; i++) {
        int err = get_str(buf, end, &off, (char *)m + ec_meta_strs[i].off, ec_meta_strs[i].cap);
        if (err < 0) {
            return err;
        }
    }
    if (off != end || ec_meta_check(m) < 0) {
        return AIS_EBADMSG;
    }
    return 0;
}

int
ec_meta_unpack(const uint8_t *buf, size_t len, struct ec_meta *out)
{
    struct ec_meta m;
    AIS_ASSERT(buf != NULL || len == 0);
    AIS_ASSERT(out != NULL);
    if (len < EC_META_FIXED_BYTES + EC_META_STRINGS + EC_META_SUM_BYTES ||
        len > EC_META_BYTES_MAX || memcmp(buf, ec_meta_magic, 4) != 0) {
        return AIS_EBADMSG;
    }
    size_t end = len - EC_META_SUM_BYTES;
    if (get_le(buf + end, EC_META_SUM_BYTES) != XXH64(buf, end, 0)) {
        return AIS_EBADMSG;
    }
    if (get_le(buf + 4, 2) != EC_META_VERSION) {
        return -EPROTO;
    }
    int err = meta_parse(buf, end, &m);
    if (err < 0) {
        return err;
    }
    *out = m;
    return 0;
}
