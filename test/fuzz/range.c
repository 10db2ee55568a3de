/*
 * Goal: the Range header of a GET ("bytes=a-b", "bytes=a-", "bytes=-n") is parsed into an
 * offset and length that always lie inside the object, or refused (416), for any object size.
 * Method: the first 8 input bytes (little-endian, missing bytes zero) are the object size, the
 * rest is the header value (a C string) for tgt_parse_range; a second call gets no header.
 */
#include "test/fuzz/fuzz.h"

#include "common/err.h"
#include "target/target_int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t osize = 0;
    size_t hn = size > 8 ? 8 : size;
    for (size_t i = 0; i < hn; i++) {
        osize |= (uint64_t)data[i] << (8 * i);
    }
    /* Small sizes are where the edge cases are: fold most inputs into 0..4095. */
    if (hn > 0 && (data[0] & 0x80) == 0) {
        osize &= 0xfff;
    }
    char *h = fuzz_strndup(data + hn, size - hn);
    uint64_t off = 0, len = 0;
    int rc = tgt_parse_range(h, osize, &off, &len);
    FUZZ_CHECK(rc == 0 || rc == AIS_EBADRANGE);
    if (rc == 0) {
        FUZZ_CHECK(len >= 1 && off < osize && len <= osize - off);
    }
    FUZZ_CHECK(tgt_parse_range(NULL, osize, &off, &len) == 1);
    free(h);
    return 0;
}
