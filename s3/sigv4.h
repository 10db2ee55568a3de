/*
 * AWS Signature Version 4 verification (within s3/ and its unit tests): the Authorization
 * header form and presigned URLs (X-Amz-* query parameters), against the credentials of the
 * s3.access_keys knob. HMAC-SHA256 and SHA-256 come from OpenSSL.
 */
#ifndef AIS_S3_SIGV4_H
#define AIS_S3_SIGV4_H

#include <stddef.h>

struct s3_rq;

/*
 * Verifies the request's signature when s3.auth is on: 0 to proceed, -1 when an S3 error
 * (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed, expired
 * presign, AuthorizationQueryParametersError) was sent.
 */
int s3_auth_check(struct s3_rq *q);

/* kSigning of (secret, yyyymmdd, region, service): 32 bytes into out. */
void s3_sigv4_key(const char *secret, const char *date, const char *region, const char *service,
                  unsigned char out[32]);
/*
 * Canonical query string of a raw query (decoded, re-encoded the AWS way, sorted), without
 * X-Amz-Signature when presigned. 0 or -E2BIG / -EINVAL.
 */
int s3_sigv4_canon_query(const char *raw, int presigned, char *out, size_t cap);
/* Lowercase hex of HMAC-SHA256(key, msg) (64 chars + NUL). */
void s3_sigv4_hmac_hex(const unsigned char key[32], const char *msg, char out[65]);
/* Lowercase hex of SHA-256(data). */
void s3_sigv4_sha256_hex(const void *data, size_t len, char out[65]);

#endif
