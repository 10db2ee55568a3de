/*
 * Goal: an aws-chunked request body (Content-Encoding: aws-chunked, the framing most S3 SDKs
 * use for PUT) is decoded from any bytes, cut into pieces anywhere, without a crash, leak or
 * overflow of the line buffer; emitted data never exceeds the input and bytes after the end are
 * refused.
 * Method: input byte 0 is a mode: unsigned framing, signed framing without verification, or
 * full SigV4 chunk verification (a fixed signing key and seed, with or without the signed
 * trailer); byte 1 is the piece size (1..256). The rest is the body, fed piece by piece to
 * s3_chunked_feed, then s3_chunked_finish.
 */
#include "test/fuzz/fuzz.h"

#include "s3/cksum.h"

#include <errno.h>

struct sink {
    size_t bytes;
};

static int
emit(void *arg, const char *data, size_t len)
{
    struct sink *s = arg;
    (void)data;
    s->bytes += len;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    unsigned mode = data[0] % 4;
    size_t piece = (size_t)data[1] + 1;
    const char *body = (const char *)data + 2;
    size_t len = size - 2;
    struct s3_chunk_sig sig;
    memset(&sig, 0, sizeof(sig));
    memset(sig.key, 0x5a, sizeof(sig.key));
    snprintf(sig.amz_date, sizeof(sig.amz_date), "20240101T000000Z");
    snprintf(sig.scope, sizeof(sig.scope), "20240101/us-east-1/s3/aws4_request");
    memset(sig.seed, 'a', 64);
    sig.trailer = mode == 3;
    struct s3_chunked *d = NULL;
    FUZZ_CHECK(s3_chunked_new(mode == 1, mode >= 2 ? &sig : NULL, &d) == 0);
    struct sink s = {0};
    int rc = 0;
    for (size_t off = 0; rc == 0 && off < len; off += piece) {
        size_t n = len - off < piece ? len - off : piece;
        rc = s3_chunked_feed(d, body + off, n, emit, &s);
    }
    FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -EACCES);
    FUZZ_CHECK(s.bytes <= len);
    if (rc == 0) {
        const char *ck = NULL;
        rc = s3_chunked_finish(d, &ck);
        FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -EACCES);
        FUZZ_CHECK(rc != 0 || ck == NULL || strlen(ck) < 128);
    }
    s3_chunked_free(d);
    return 0;
}
