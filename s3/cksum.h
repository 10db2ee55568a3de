/*
 * S3 body integrity (within s3/ and its unit tests): the x-amz-checksum-* algorithms (CRC32,
 * CRC32C, CRC64NVME, SHA1, SHA256) as streaming digests, base64, and the aws-chunked body
 * decoder (chunk framing, chunk and trailer signatures, trailing headers).
 */
#ifndef AIS_S3_CKSUM_H
#define AIS_S3_CKSUM_H

#include "common/http.h"

#include <stddef.h>
#include <stdint.h>

struct s3_ck;
/* "crc32", "crc32c", "crc64nvme", "sha1", "sha256", "md5". 0, -EINVAL (unknown), -ENOMEM. */
int s3_ck_new(const char *alg, struct s3_ck **out);
/* Accepts NULL (no-op), so callers need not test. */
void s3_ck_update(struct s3_ck *c, const void *data, size_t len);
/* Final digest as base64 / lowercase hex (the digest is finalised once; later calls repeat). */
void s3_ck_final_b64(struct s3_ck *c, char *out, size_t cap);
void s3_ck_final_hex(struct s3_ck *c, char *out, size_t cap);
const char *s3_ck_name(const struct s3_ck *c);
void s3_ck_free(struct s3_ck *c);
/*
 * From the request: x-amz-checksum-<alg>: value (want = value) or x-amz-trailer /
 * x-amz-sdk-checksum-algorithm naming one that comes in the trailer (want = "" until then).
 * *out NULL when none is asked for. alg gets the lowercase name. 0 or -EINVAL.
 */
int s3_ck_from_req(struct ais_req *r, struct s3_ck **out, char *want, size_t wcap, char *alg,
                   size_t acap);

/* Base64 (standard alphabet, padded). Encode: 0 or -E2BIG. Decode: bytes or -EINVAL/-E2BIG. */
int s3_b64_encode(const unsigned char *in, size_t n, char *out, size_t cap);
int s3_b64_decode(const char *in, unsigned char *out, size_t cap);
/* A base64 digest of exactly want bytes as lowercase hex. 0 or -EINVAL. */
int s3_b64_to_hex(const char *b64, size_t want, char *out, size_t cap);

/*
 * What verifies the chunk signatures of a SigV4-signed aws-chunked body
 * (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]): the signing key and the values of the seed
 * request, filled by s3_auth_check once the request's own signature matched.
 */
struct s3_chunk_sig {
    unsigned char key[32]; /* kSigning of the request's credential */
    char amz_date[32];     /* x-amz-date of the request */
    char scope[160];       /* yyyymmdd/region/service/aws4_request */
    char seed[65];         /* the request's signature (lowercase hex): the chain's start */
    int trailer;           /* -TRAILER variant: trailers end with x-amz-trailer-signature */
};

/*
 * aws-chunked decoder: "<hex>[;chunk-signature=<sig>]\r\n<data>\r\n" ... "0\r\n" then trailer
 * lines "name:value\r\n" and a final "\r\n". Pieces of any size may be fed; decoded data goes
 * to emit as it arrives (no buffering of data). With sig (copied; NULL: signatures are parsed,
 * not verified) every chunk signature is checked as its chunk ends, chained from sig->seed,
 * before the chunk's last piece is emitted; with sig->trailer the trailers' signature is
 * checked by _finish. 0, -ENOMEM.
 */
struct s3_chunked;
typedef int (*s3_emit_fn)(void *arg, const char *data, size_t len);
int s3_chunked_new(int signed_chunks, const struct s3_chunk_sig *sig, struct s3_chunked **out);
/* 0, emit's non-zero value, -EBADMSG on bad framing, -EACCES on a chunk signature mismatch. */
int s3_chunked_feed(struct s3_chunked *d, const char *data, size_t len, s3_emit_fn emit, void *arg);
/* After the last piece: 0 when the body ended properly, -EBADMSG otherwise, -EACCES when the
 * trailer signature is missing or wrong. *ck_value = the value of the trailing x-amz-checksum-*
 * header (or NULL), valid until _free. */
int s3_chunked_finish(struct s3_chunked *d, const char **ck_value);
void s3_chunked_free(struct s3_chunked *d);

#endif
