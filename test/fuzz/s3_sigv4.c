/*
 * Goal: the text an S3 client controls before any signature is checked is parsed without a
 * crash or overflow: the Authorization header (Credential=, SignedHeaders=, Signature=), the
 * X-Amz-Date time, the canonical query string of SigV4 (decode, re-encode, sort), percent
 * coding, base64 checksums, and the S3 metadata kept in the AIS custom md.
 * Method: the input is split at newlines: [Authorization value] [x-amz-date] [raw query]
 * [custom md] [base64]. The header parsers are static in s3/sigv4.c and take a live request
 * only for the headers read after the Authorization value, so this harness compiles sigv4.c
 * itself (its symbols then come from here, not from libais_s3) and runs the same steps as
 * parse_header_auth up to that point. Coders are checked by round trip: decode(encode(x)) == x.
 */
#include "s3/sigv4.c"

#include "test/fuzz/fuzz.h"

#include "s3/cksum.h"

static void
auth_header(const char *h, const char *date)
{
    struct sig s;
    size_t n = 0;
    memset(&s, 0, sizeof(s));
    const char *c = auth_field(h, "Credential=", &n);
    if (c != NULL && parse_cred(c, n, &s) == 0) {
        FUZZ_CHECK(strlen(s.akid) < sizeof(s.akid) && strlen(s.date) < sizeof(s.date));
        FUZZ_CHECK(strlen(s.region) < sizeof(s.region) && strlen(s.service) < sizeof(s.service));
        unsigned char key[32];
        char hex[65];
        s3_sigv4_key("secret", s.date, s.region, s.service, key);
        s3_sigv4_hmac_hex(key, h, hex);
        FUZZ_CHECK(strlen(hex) == 64);
    }
    const char *sh = auth_field(h, "SignedHeaders=", &n);
    FUZZ_CHECK(sh == NULL || n <= strlen(sh));
    const char *sg = auth_field(h, "Signature=", &n);
    FUZZ_CHECK(sg == NULL || n <= strlen(sg));
    (void)amz_time(date);
}

static void
query(const char *raw, int presigned)
{
    char out[8192];
    int rc = s3_sigv4_canon_query(raw, presigned, out, sizeof(out));
    FUZZ_CHECK(rc == 0 || rc == -E2BIG || rc == -EINVAL);
    FUZZ_CHECK(rc != 0 || strlen(out) < sizeof(out));
    /* Percent coding round trip of the whole raw text. */
    size_t n = strlen(raw), dl = 0, dl2 = 0;
    char *dec = malloc(n + 1), *enc = malloc(3 * n + 1), *dec2 = malloc(n + 1);
    FUZZ_CHECK(dec != NULL && enc != NULL && dec2 != NULL);
    if (s3_pct_decode(raw, n, dec, n + 1, &dl) == 0) {
        FUZZ_CHECK(dl <= n);
        FUZZ_CHECK(s3_pct_encode(dec, dl, presigned, enc, 3 * n + 1) == 0);
        FUZZ_CHECK(s3_pct_decode(enc, strlen(enc), dec2, n + 1, &dl2) == 0);
        FUZZ_CHECK(dl2 == dl && memcmp(dec, dec2, dl) == 0);
    }
    free(dec);
    free(enc);
    free(dec2);
}

static int
md_same(const struct s3_md *a, const struct s3_md *b)
{
    return strcmp(a->ctype, b->ctype) == 0 && strcmp(a->cdisp, b->cdisp) == 0 &&
           strcmp(a->cenc, b->cenc) == 0 && strcmp(a->cache, b->cache) == 0 &&
           strcmp(a->lang, b->lang) == 0 && strcmp(a->expires, b->expires) == 0 &&
           strcmp(a->etag, b->etag) == 0 && a->mtime_s == b->mtime_s;
}

static void
custom_md(const char *custom)
{
    struct s3_md *md = calloc(2, sizeof(*md));
    char *out = malloc(16384), when[64];
    FUZZ_CHECK(md != NULL && out != NULL);
    s3_md_parse(custom, &md[0]);
    FUZZ_CHECK(md[0].nmeta <= S3_META_MAX);
    if (s3_md_encode(&md[0], out, 16384) == 0) {
        s3_md_parse(out, &md[1]);
        FUZZ_CHECK(md_same(&md[0], &md[1]));
    }
    s3_time_http(md[0].mtime_s, when, sizeof(when));
    s3_time_iso(md[0].mtime_s, when, sizeof(when));
    s3_etag(&md[0], "md5", "", when, sizeof(when));
    free(out);
    free(md);
}

static void
base64(const char *in)
{
    unsigned char bin[512];
    char back[1024], hex[129];
    int n = s3_b64_decode(in, bin, sizeof(bin));
    FUZZ_CHECK(n == -EINVAL || n == -E2BIG || (n >= 0 && (size_t)n <= sizeof(bin)));
    if (n >= 0) {
        FUZZ_CHECK(s3_b64_encode(bin, (size_t)n, back, sizeof(back)) == 0);
        unsigned char bin2[512];
        FUZZ_CHECK(s3_b64_decode(back, bin2, sizeof(bin2)) == n);
        FUZZ_CHECK(memcmp(bin, bin2, (size_t)n) == 0);
    }
    (void)s3_b64_to_hex(in, 16, hex, sizeof(hex));
    (void)s3_b64_to_hex(in, 32, hex, sizeof(hex));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t n = size;
    char *auth = fuzz_field(&p, &n, '\n');
    char *date = fuzz_field(&p, &n, '\n');
    char *raw = fuzz_field(&p, &n, '\n');
    char *custom = fuzz_field(&p, &n, '\n');
    char *b64in = fuzz_strndup(p, n);
    auth_header(auth, date);
    query(raw, size & 1);
    custom_md(custom);
    base64(b64in);
    free(auth);
    free(date);
    free(raw);
    free(custom);
    free(b64in);
    return 0;
}
