/*
 * LOM: object metadata in xattr `user.ais.lom`.
 *
 * Design notes: our own packed little-endian format (spec §8.1 allows it):
 *   [1 byte format = 1][8 bytes XXH64(payload, seed 0)][payload]
 *   payload = [u64 size][u8 n][cksum type][u8 n][cksum value][u8 n][version][u16 n][custom]
 * Strings carry no NUL. The hash over the payload catches torn or foreign xattrs; anything
 * that does not decode exactly (bad hash, short, trailing bytes, unknown checksum type) is
 * treated as "no metadata", so a file copied in by hand stays readable with type "none".
 * The stored size is compared with fstat: a file rewritten behind our back loses its stale
 * checksum instead of failing validation forever.
 */
#include "common/assert.h"
#include "common/err.h"
#include "storage/storage_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <xxhash.h>

#define ST_LOM_HDR_BYTES 9

static_assert(ST_LOM_ENC_BYTES_MAX <= AIS_LOM_BYTES_MAX, "LOM must fit its xattr budget");
static_assert(ST_CUSTOM_BYTES <= 0xffff, "custom length is a u16");
static_assert(ST_CKSUM_VALUE_BYTES <= 0xff, "cksum value length is a u8");

static void
put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint64_t
get_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

/* Appends a length-prefixed string; the caller's buffers bound len (asserted). */
static size_t
put_str(uint8_t *p, const char *s, size_t len_bytes, size_t cap)
{
    size_t len = strnlen(s, cap);
    AIS_ASSERT(len < cap);
    put_le(p, len, len_bytes);
    memcpy(p + len_bytes, s, len);
    return len_bytes + len;
}

size_t
st_lom_encode(const struct st_obj_md *md, uint8_t *buf)
{
    AIS_ASSERT(md != NULL);
    AIS_ASSERT(buf != NULL);
    uint8_t *p = buf + ST_LOM_HDR_BYTES;
    put_le(p, md->size, 8);
    p += 8;
    p += put_str(p, md->cksum_type, 1, sizeof(md->cksum_type));
    p += put_str(p, md->cksum_value, 1, sizeof(md->cksum_value));
    p += put_str(p, md->version, 1, sizeof(md->version));
    p += put_str(p, md->custom, 2, sizeof(md->custom));
    size_t payload = (size_t)(p - buf) - ST_LOM_HDR_BYTES;
    buf[0] = ST_LOM_FORMAT_V1;
    put_le(buf + 1, XXH64(buf + ST_LOM_HDR_BYTES, payload, 0), 8);
    AIS_ASSERT(ST_LOM_HDR_BYTES + payload <= ST_LOM_ENC_BYTES_MAX);
    return ST_LOM_HDR_BYTES + payload;
}

/* Reads a length-prefixed string into out (cap bytes incl. NUL). 0 or AIS_EBADMSG. */
static int
get_str(const uint8_t **p, const uint8_t *end, size_t len_bytes, char *out, size_t cap)
{
    if ((size_t)(end - *p) < len_bytes) {
        return AIS_EBADMSG;
    }
    size_t len = (size_t)get_le(*p, len_bytes);
    *p += len_bytes;
    if (len >= cap || (size_t)(end - *p) < len || memchr(*p, '\0', len) != NULL) {
        return AIS_EBADMSG;
    }
    memcpy(out, *p, len);
    out[len] = '\0';
    *p += len;
    return 0;
}

int
st_lom_decode(const uint8_t *buf, size_t len, struct st_obj_md *md)
{
    AIS_ASSERT(buf != NULL || len == 0);
    AIS_ASSERT(md != NULL);
    struct st_obj_md tmp = {0};
    if (len < ST_LOM_HDR_BYTES + 8 || buf[0] != ST_LOM_FORMAT_V1) {
        return AIS_EBADMSG;
    }
    const uint8_t *p = buf + ST_LOM_HDR_BYTES;
    const uint8_t *end = buf + len;
    if (get_le(buf + 1, 8) != XXH64(p, len - ST_LOM_HDR_BYTES, 0)) {
        return AIS_EBADMSG;
    }
    tmp.size = get_le(p, 8);
    p += 8;
    int err = get_str(&p, end, 1, tmp.cksum_type, sizeof(tmp.cksum_type));
    if (err == 0) {
        err = get_str(&p, end, 1, tmp.cksum_value, sizeof(tmp.cksum_value));
    }
    if (err == 0) {
        err = get_str(&p, end, 1, tmp.version, sizeof(tmp.version));
    }
    if (err == 0) {
        err = get_str(&p, end, 2, tmp.custom, sizeof(tmp.custom));
    }
    if (err == 0 && (p != end || !st_cksum_type_known(tmp.cksum_type))) {
        err = AIS_EBADMSG;
    }
    if (err == 0) {
        md->size = tmp.size;
        memcpy(md->cksum_type, tmp.cksum_type, sizeof(md->cksum_type));
        memcpy(md->cksum_value, tmp.cksum_value, sizeof(md->cksum_value));
        memcpy(md->version, tmp.version, sizeof(md->version));
        memcpy(md->custom, tmp.custom, sizeof(md->custom));
    }
    return err;
}

int
st_lom_store_fd(int fd, const struct st_obj_md *md)
{
    uint8_t buf[ST_LOM_ENC_BYTES_MAX];
    size_t len = st_lom_encode(md, buf);
    if (fsetxattr(fd, ST_XATTR_LOM, buf, len, 0) < 0) {
        return -errno;
    }
    return 0;
}

static void
md_set_defaults(struct st_obj_md *md)
{
    snprintf(md->cksum_type, sizeof(md->cksum_type), "none");
    md->cksum_value[0] = '\0';
    md->version[0] = '\0';
    md->custom[0] = '\0';
}

int
st_md_load_fd(int fd, uint32_t mpath_idx, struct st_obj_md *md)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        return -errno;
    }
    return st_md_load_st(fd, &st, mpath_idx, md);
}

int
st_md_load_st(int fd, const struct stat *stp, uint32_t mpath_idx, struct st_obj_md *md)
{
    AIS_ASSERT(md != NULL);
    const struct stat st = *stp;
    uint8_t buf[AIS_LOM_BYTES_MAX];
    ssize_t n = fgetxattr(fd, ST_XATTR_LOM, buf, sizeof(buf));
    struct st_obj_md tmp = {0};
    if (n < 0 || st_lom_decode(buf, (size_t)n, &tmp) != 0 || tmp.size != (uint64_t)st.st_size) {
        md_set_defaults(&tmp);
    }
    tmp.size = (uint64_t)st.st_size;
    tmp.atime_ns = (int64_t)st.st_atim.tv_sec * 1000000000 + st.st_atim.tv_nsec;
    tmp.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    tmp.mpath_idx = mpath_idx;
    tmp.ino = (uint64_t)st.st_ino;
    *md = tmp;
    return 0;
}

int
st_md_same_file(const struct st_obj_md *md, const struct stat *st)
{
    int64_t mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    return md->ino == (uint64_t)st->st_ino && md->size == (uint64_t)st->st_size &&
           md->mtime_ns == mtime_ns;
}

void
st_lom_version_of(const char *path, char out[ST_VERSION_BYTES])
{
    uint8_t buf[AIS_LOM_BYTES_MAX];
    struct st_obj_md tmp = {0};
    ssize_t n = getxattr(path, ST_XATTR_LOM, buf, sizeof(buf));
    out[0] = '\0';
    if (n >= 0 && st_lom_decode(buf, (size_t)n, &tmp) == 0) {
        memcpy(out, tmp.version, ST_VERSION_BYTES);
    }
}
