/*
 * Streaming checksums.
 *
 * Design notes: one small tagged struct per checksum so a PUT can run two at once (the stored
 * type and a client-supplied one). XXH64 uses libxxhash's streaming state, crc32c ISA-L's
 * crc32_iscsi with the standard init/xorout (0xffffffff both ways, as Go's Castagnoli table
 * does), the cryptographic digests OpenSSL EVP. Values are lowercase hex of the digest in
 * big-endian byte order, which for the 64/32-bit integers is just their %016/%08 hex print.
 */
#include "common/assert.h"
#include "storage/storage.h"
#include "storage/storage_int.h"

#include <errno.h>
#include <isa-l.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

enum st_cksum_kind {
    ST_CK_NONE,
    ST_CK_XXHASH,
    ST_CK_CRC32C,
    ST_CK_EVP,
};

struct st_cksum {
    enum st_cksum_kind kind;
    XXH64_state_t *xx;
    EVP_MD_CTX *evp;
    uint32_t crc;
};

struct st_cksum_name {
    const char *name;
    enum st_cksum_kind kind;
};

static const struct st_cksum_name st_cksum_names[] = {
    {"none", ST_CK_NONE},     {"xxhash", ST_CK_XXHASH}, {"xxhash2", ST_CK_XXHASH},
    {"crc32c", ST_CK_CRC32C}, {"md5", ST_CK_EVP},       {"sha256", ST_CK_EVP},
    {"sha512", ST_CK_EVP},
};

static_assert(ST_CKSUM_VALUE_BYTES >= 2 * 64 + 1, "sha512 hex must fit");

static int
cksum_lookup(const char *type, enum st_cksum_kind *kind)
{
    if (type == NULL) {
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof(st_cksum_names) / sizeof(st_cksum_names[0]); i++) {
        if (strcmp(type, st_cksum_names[i].name) == 0) {
            *kind = st_cksum_names[i].kind;
            return 0;
        }
    }
    return -EINVAL;
}

int
st_cksum_type_known(const char *type)
{
    enum st_cksum_kind kind;
    return cksum_lookup(type, &kind) == 0;
}

static const EVP_MD *
evp_md_of(const char *type)
{
    if (strcmp(type, "md5") == 0) {
        return EVP_md5();
    }
    if (strcmp(type, "sha256") == 0) {
        return EVP_sha256();
    }
    return EVP_sha512();
}

int
st_cksum_new(const char *type, struct st_cksum **out)
{
    enum st_cksum_kind kind;
    struct st_cksum *c = NULL;
    int err = cksum_lookup(type, &kind);
    if (err < 0) {
        goto out;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        err = -ENOMEM;
        goto out;
    }
    c->kind = kind;
    if (kind == ST_CK_XXHASH) {
        c->xx = XXH64_createState();
        if (c->xx == NULL || XXH64_reset(c->xx, 0) != XXH_OK) {
            err = -ENOMEM;
            goto out;
        }
    } else if (kind == ST_CK_CRC32C) {
        c->crc = 0xffffffffu;
    } else if (kind == ST_CK_EVP) {
        c->evp = EVP_MD_CTX_new();
        if (c->evp == NULL || EVP_DigestInit_ex(c->evp, evp_md_of(type), NULL) != 1) {
            err = -ENOMEM;
            goto out;
        }
    }
    *out = c;
    c = NULL;
out:
    st_cksum_free(c);
    return err;
}

void
st_cksum_update(struct st_cksum *c, const void *data, size_t len)
{
    AIS_ASSERT(c != NULL);
    AIS_ASSERT(data != NULL || len == 0);
    const unsigned char *p = data;
    int rc = 1;
    switch (c->kind) {
    case ST_CK_NONE:
        break;
    case ST_CK_XXHASH:
        (void)XXH64_update(c->xx, p, len);
        break;
    case ST_CK_CRC32C:
        /* crc32_iscsi takes an int length: feed it in chunks that fit. */
        while (len > 0) {
            size_t n = len > (size_t)INT_MAX ? (size_t)INT_MAX : len;
            c->crc = crc32_iscsi((unsigned char *)p, (int)n, c->crc);
            p += n;
            len -= n;
        }
        break;
    case ST_CK_EVP:
        /* Cannot fail for an initialised software digest; asserted as a programmer error. */
        rc = EVP_DigestUpdate(c->evp, p, len);
        AIS_ASSERT(rc == 1);
        break;
    }
}

static void
hex_bytes(const unsigned char *b, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 0xf];
    }
    out[2 * n] = '\0';
}

void
st_cksum_final(struct st_cksum *c, char out[ST_CKSUM_VALUE_BYTES])
{
    AIS_ASSERT(c != NULL);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    int rc = 1;
    switch (c->kind) {
    case ST_CK_NONE:
        out[0] = '\0';
        break;
    case ST_CK_XXHASH:
        snprintf(out, ST_CKSUM_VALUE_BYTES, "%016llx", (unsigned long long)XXH64_digest(c->xx));
        break;
    case ST_CK_CRC32C:
        snprintf(out, ST_CKSUM_VALUE_BYTES, "%08x", (unsigned)~c->crc);
        break;
    case ST_CK_EVP:
        rc = EVP_DigestFinal_ex(c->evp, md, &md_len);
        AIS_ASSERT(rc == 1);
        AIS_ASSERT(2 * (size_t)md_len < ST_CKSUM_VALUE_BYTES);
        hex_bytes(md, md_len, out);
        break;
    }
    st_cksum_free(c);
}

void
st_cksum_free(struct st_cksum *c)
{
    if (c == NULL) {
        return;
    }
    if (c->xx != NULL) {
        XXH64_freeState(c->xx);
    }
    EVP_MD_CTX_free(c->evp);
    free(c);
}
