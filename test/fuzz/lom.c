/*
 * Goal: the on-disk object metadata (the LOM xattr: size, checksum, version, custom md) is
 * decoded from any bytes (a corrupt or foreign xattr, a disk from another version) without a
 * read past the buffer, and a decoded record re-encodes to bytes that decode to the same record.
 * Method: input byte 0 is a mode; the rest is the xattr value. In mode bit 0 the harness first
 * writes the format byte and the XXH64 of the payload into the header, so the fuzzer gets past
 * the integrity check to the field decoder; otherwise the bytes are decoded as they are.
 */
#include "test/fuzz/fuzz.h"

#include "common/err.h"
#include "storage/storage.h"
#include "storage/storage_int.h"

#include <xxhash.h>

#define LOM_HDR_BYTES 9 /* format byte + XXH64 of the payload (storage/lom.c) */

static void
put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    int fix = data[0] & 1;
    size_t n = size - 1;
    uint8_t *buf = malloc(n ? n : 1);
    FUZZ_CHECK(buf != NULL);
    memcpy(buf, data + 1, n);
    if (fix && n >= LOM_HDR_BYTES) {
        buf[0] = ST_LOM_FORMAT_V1;
        put_le64(buf + 1, XXH64(buf + LOM_HDR_BYTES, n - LOM_HDR_BYTES, 0));
    }
    struct st_obj_md md, again;
    memset(&md, 0, sizeof(md));
    int rc = st_lom_decode(buf, n, &md);
    FUZZ_CHECK(rc == 0 || rc == AIS_EBADMSG);
    if (rc == 0) {
        uint8_t enc[ST_LOM_ENC_BYTES_MAX];
        size_t len = st_lom_encode(&md, enc);
        FUZZ_CHECK(len <= ST_LOM_ENC_BYTES_MAX);
        memset(&again, 0, sizeof(again));
        FUZZ_CHECK(st_lom_decode(enc, len, &again) == 0);
        FUZZ_CHECK(again.size == md.size);
        FUZZ_CHECK(strcmp(again.cksum_type, md.cksum_type) == 0);
        FUZZ_CHECK(strcmp(again.cksum_value, md.cksum_value) == 0);
        FUZZ_CHECK(strcmp(again.version, md.version) == 0);
        FUZZ_CHECK(strcmp(again.custom, md.custom) == 0);
        /* The decoder reads exactly what the encoder writes. */
        FUZZ_CHECK(len == n && memcmp(enc, buf, n) == 0);
    }
    free(buf);
    return 0;
}
