/*
 * Design notes: the x-amz-checksum algorithms over one streaming interface. CRC32 and CRC32C
 * come from ISA-L (the same code storage/ uses), SHA1/SHA256/MD5 from OpenSSL EVP, CRC64NVME
 * (reflected polynomial 0x9a6c9329ac4bc9b5, init and xorout all ones) from a slicing table
 * built once. S3 sends digests as base64 of the big-endian value.
 *
 * The aws-chunked decoder is a byte-level state machine, so a chunk header, a CRLF or a
 * trailer line may be split across any two pieces the edge hands over; data bytes are passed
 * through in place, never copied. Header and trailer lines are bounded (CHUNK_LINE_MAX).
 * Signed bodies are verified as they pass: each chunk's data runs through SHA-256 and the
 * chunk's signature (chained from the request's seed signature, AWS's
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD scheme) is checked before the chunk's last piece is
 * emitted, so a consumer that holds back its last byte never completes a forged body.
 */
#include "s3/cksum.h"

#include "common/http.h"
#include "s3/sigv4.h"

#include <ctype.h>
#include <errno.h>
#include <isa-l/crc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum ck_kind { CK_CRC32, CK_CRC32C, CK_CRC64, CK_EVP };

struct s3_ck {
    enum ck_kind kind;
    char name[16];
    uint32_t crc32;
    uint64_t crc64;
    EVP_MD_CTX *evp;
    int final;
    unsigned char dig[64];
    size_t dlen;
};

static uint64_t crc64_tab[256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void
crc64_init(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ 0x9a6c9329ac4bc9b5ull : c >> 1;
        }
        crc64_tab[i] = c;
    }
}

int
s3_ck_new(const char *alg, struct s3_ck **out)
{
    static const struct {
        const char *name;
        enum ck_kind kind;
    } algs[] = {{"crc32", CK_CRC32}, {"crc32c", CK_CRC32C}, {"crc64nvme", CK_CRC64},
                {"sha1", CK_EVP},    {"sha256", CK_EVP},    {"md5", CK_EVP}};
    size_t i = 0;
    while (i < sizeof(algs) / sizeof(algs[0]) && strcasecmp(alg, algs[i].name) != 0) {
        i++;
    }
    if (i == sizeof(algs) / sizeof(algs[0])) {
        return -EINVAL;
    }
    struct s3_ck *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return -ENOMEM;
    }
    c->kind = algs[i].kind;
    snprintf(c->name, sizeof(c->name), "%s", algs[i].name);
    c->crc32 = c->kind == CK_CRC32C ? 0xffffffffu : 0;
    c->crc64 = ~0ull;
    if (c->kind == CK_CRC64) {
        pthread_once(&crc64_once, crc64_init);
    }
    if (c->kind == CK_EVP) {
        const EVP_MD *md = strcmp(c->name, "sha1") == 0     ? EVP_sha1()
                           : strcmp(c->name, "sha256") == 0 ? EVP_sha256()
                                                            : EVP_md5();
        c->evp = EVP_MD_CTX_new();
        if (c->evp == NULL || EVP_DigestInit_ex(c->evp, md, NULL) != 1) {
            s3_ck_free(c);
            return -ENOMEM;
        }
    }
    *out = c;
    return 0;
}

void
s3_ck_update(struct s3_ck *c, const void *data, size_t len)
{
    if (c == NULL || c->final) {
        return;
    }
    const unsigned char *p = data;
    switch (c->kind) {
    case CK_CRC32:
        c->crc32 = crc32_gzip_refl(c->crc32, p, len);
        break;
    case CK_CRC32C:
        while (len > 0) {
            int n = len > (1u << 30) ? (1 << 30) : (int)len;
            c->crc32 = crc32_iscsi((unsigned char *)p, n, c->crc32);
            p += n;
            len -= (size_t)n;
        }
        break;
    case CK_CRC64:
        for (size_t i = 0; i < len; i++) {
            c->crc64 = crc64_tab[(c->crc64 ^ p[i]) & 0xff] ^ (c->crc64 >> 8);
        }
        break;
    case CK_EVP:
        EVP_DigestUpdate(c->evp, p, len);
        break;
    }
}

static void
finalize(struct s3_ck *c)
{
    if (c->final) {
        return;
    }
    c->final = 1;
    uint32_t v32 = c->kind == CK_CRC32C ? ~c->crc32 : c->crc32;
    uint64_t v64 = ~c->crc64;
    switch (c->kind) {
    case CK_CRC32:
    case CK_CRC32C:
        for (int i = 0; i < 4; i++) {
            c->dig[i] = (unsigned char)(v32 >> (24 - 8 * i));
        }
        c->dlen = 4;
        break;
    case CK_CRC64:
        for (int i = 0; i < 8; i++) {
            c->dig[i] = (unsigned char)(v64 >> (56 - 8 * i));
        }
        c->dlen = 8;
        break;
    case CK_EVP: {
        unsigned n = 0;
        EVP_DigestFinal_ex(c->evp, c->dig, &n);
        c->dlen = n;
        break;
    }
    }
}

void
s3_ck_final_b64(struct s3_ck *c, char *out, size_t cap)
{
    finalize(c);
    if (s3_b64_encode(c->dig, c->dlen, out, cap) != 0 && cap > 0) {
        out[0] = '\0';
    }
}

void
s3_ck_final_hex(struct s3_ck *c, char *out, size_t cap)
{
    finalize(c);
    size_t o = 0;
    for (size_t i = 0; i < c->dlen && o + 3 <= cap; i++) {
        o += (size_t)snprintf(out + o, cap - o, "%02x", c->dig[i]);
    }
    if (cap > 0) {
        out[o < cap ? o : cap - 1] = '\0';
    }
}

const char *
s3_ck_name(const struct s3_ck *c)
{
    return c->name;
}

void
s3_ck_free(struct s3_ck *c)
{
    if (c != NULL) {
        EVP_MD_CTX_free(c->evp);
        free(c);
    }
}

struct ck_walk {
    const char *alg, *value;
};

static int
ck_hdr(void *arg, const char *name, const char *value)
{
    struct ck_walk *w = arg;
    if (strncasecmp(name, "x-amz-checksum-", 15) == 0 && strcasecmp(name + 15, "mode") != 0 &&
        strcasecmp(name + 15, "type") != 0 && strcasecmp(name + 15, "algorithm") != 0) {
        w->alg = name + 15;
        w->value = value;
        return 1;
    }
    return 0;
}

int
s3_ck_from_req(struct ais_req *r, struct s3_ck **out, char *want, size_t wcap, char *alg,
               size_t acap)
{
    struct ck_walk w = {0};
    const char *trailer = ais_req_header(r, "x-amz-trailer");
    *out = NULL;
    want[0] = '\0';
    ais_req_header_each(r, ck_hdr, &w);
    if (w.alg == NULL && trailer != NULL && strncasecmp(trailer, "x-amz-checksum-", 15) == 0) {
        w.alg = trailer + 15;
        w.value = "";
    }
    if (w.alg == NULL) {
        return 0;
    }
    if (strlen(w.alg) >= acap || strlen(w.value) >= wcap) {
        return -EINVAL;
    }
    size_t i = 0;
    for (; w.alg[i] != '\0'; i++) {
        alg[i] = (char)tolower((unsigned char)w.alg[i]);
    }
    alg[i] = '\0';
    snprintf(want, wcap, "%s", w.value);
    return s3_ck_new(alg, out);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
s3_b64_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    if ((n + 2) / 3 * 4 + 1 > cap) {
        return -E2BIG;
    }
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        v |= i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0;
        v |= i + 2 < n ? in[i + 2] : 0;
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
    return 0;
}

int
s3_b64_decode(const char *in, unsigned char *out, size_t cap)
{
    size_t n = strlen(in), o = 0;
    if (n % 4 != 0) {
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = 0;
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            const char *p = in[i + k] == '=' ? NULL : strchr(b64, in[i + k]);
            if (in[i + k] == '=' && i + 4 == n && k >= 2) {
                pad++;
            } else if (p == NULL || in[i + k] == '\0' || pad) {
                return -EINVAL;
            }
            v = (v << 6) | (p ? (uint32_t)(p - b64) : 0);
        }
        for (int k = 0; k < 3 - pad; k++) {
            if (o == cap) {
                return -E2BIG;
            }
            out[o++] = (unsigned char)(v >> (16 - 8 * k));
        }
    }
    return (int)o;
}

int
s3_b64_to_hex(const char *in, size_t want, char *out, size_t cap)
{
    unsigned char d[64];
    int n = s3_b64_decode(in, d, sizeof(d));
    if (n < 0 || (size_t)n != want || cap < want * 2 + 1) {
        return -EINVAL;
    }
    for (size_t i = 0; i < want; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
    return 0;
}

/* ---- aws-chunked ---- */

#define CHUNK_LINE_MAX 512 /* "<hex>;chunk-signature=<64 hex>" or one trailer line */
#define CHUNK_TRAILERS_MAX 8
#define SHA256_EMPTY_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

enum chunk_state { CS_HEAD, CS_DATA, CS_DATA_CR, CS_DATA_LF, CS_TRAILER, CS_DONE };

struct s3_chunked {
    enum chunk_state st;
    int signed_chunks;
    uint64_t left; /* data bytes left in the current chunk */
    size_t line_len;
    char line[CHUNK_LINE_MAX + 1];
    int ntrailers;
    char ck_value[128];
    int have_ck;
    /* Signature verification (sha != NULL): sha hashes the current chunk's data, then the
     * canonical trailers ("name:value\n" each); prev is the signature the next one chains
     * from; claimed is what the current chunk header says. */
    EVP_MD_CTX *sha;
    struct s3_chunk_sig sig;
    char prev[65], claimed[65], tsig[65];
};

int
s3_chunked_new(int signed_chunks, const struct s3_chunk_sig *sig, struct s3_chunked **out)
{
    struct s3_chunked *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        return -ENOMEM;
    }
    d->signed_chunks = signed_chunks || sig != NULL;
    if (sig != NULL) {
        d->sig = *sig;
        snprintf(d->prev, sizeof(d->prev), "%s", sig->seed);
        d->sha = EVP_MD_CTX_new();
        if (d->sha == NULL || EVP_DigestInit_ex(d->sha, EVP_sha256(), NULL) != 1) {
            s3_chunked_free(d);
            return -ENOMEM;
        }
    }
    *out = d;
    return 0;
}

void
s3_chunked_free(struct s3_chunked *d)
{
    if (d != NULL) {
        EVP_MD_CTX_free(d->sha);
        OPENSSL_cleanse(&d->sig, sizeof(d->sig));
        free(d);
    }
}

/* Lowercase hex of the running SHA-256 (which is then restarted). */
static void
sha_take_hex(struct s3_chunked *d, char out[65])
{
    unsigned char dig[32];
    unsigned n = 0;
    EVP_DigestFinal_ex(d->sha, dig, &n);
    EVP_DigestInit_ex(d->sha, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", dig[i]);
    }
}

/* Checks claimed against HMAC(kSigning, "<algo>\ndate\nscope\nprev\n<hashes>") and advances
 * the chain. 0 or -EACCES. */
static int
sig_check(struct s3_chunked *d, const char *algo, const char *hashes, const char *claimed)
{
    char sts[512], want[65];
    snprintf(sts, sizeof(sts), "%s\n%s\n%s\n%s\n%s", algo, d->sig.amz_date, d->sig.scope, d->prev,
             hashes);
    s3_sigv4_hmac_hex(d->sig.key, sts, want);
    if (strlen(claimed) != 64 || CRYPTO_memcmp(want, claimed, 64) != 0) {
        return -EACCES;
    }
    memcpy(d->prev, want, sizeof(d->prev));
    return 0;
}

/* The current chunk's data is complete: its signature. */
static int
chunk_sig_check(struct s3_chunked *d)
{
    char hashes[140];
    snprintf(hashes, sizeof(hashes), "%s\n", SHA256_EMPTY_HEX);
    sha_take_hex(d, hashes + strlen(hashes));
    return sig_check(d, "AWS4-HMAC-SHA256-PAYLOAD", hashes, d->claimed);
}

/* A complete chunk header line: its size (and signature). */
static int
chunk_head(struct s3_chunked *d)
{
    char *end = NULL;
    if (d->line_len == 0 || !isxdigit((unsigned char)d->line[0])) {
        return -EBADMSG;
    }
    unsigned long long n = strtoull(d->line, &end, 16);
    if (*end != '\0' && *end != ';') {
        return -EBADMSG;
    }
    if (d->signed_chunks && strncmp(end, ";chunk-signature=", 17) != 0) {
        return -EBADMSG;
    }
    if (end - d->line > 16) {
        return -EBADMSG;
    }
    if (d->sha != NULL) {
        if (strlen(end + 17) != 64) {
            return -EACCES;
        }
        memcpy(d->claimed, end + 17, sizeof(d->claimed));
    }
    d->left = n;
    d->st = n == 0 ? CS_TRAILER : CS_DATA;
    return n == 0 && d->sha != NULL ? chunk_sig_check(d) : 0;
}

/* A trailer line of a signed body: the signature, or a header that it covers. */
static int
trailer_signed(struct s3_chunked *d, const char *name, const char *value)
{
    if (strcasecmp(name, "x-amz-trailer-signature") == 0) {
        if (!d->sig.trailer || d->tsig[0] != '\0' || strlen(value) != 64) {
            return -EACCES;
        }
        memcpy(d->tsig, value, sizeof(d->tsig));
        return 0;
    }
    if (!d->sig.trailer || d->tsig[0] != '\0') {
        return -EACCES; /* trailers the signatures do not cover */
    }
    for (const char *c = name; *c != '\0'; c++) {
        char l = (char)tolower((unsigned char)*c);
        EVP_DigestUpdate(d->sha, &l, 1);
    }
    EVP_DigestUpdate(d->sha, ":", 1);
    EVP_DigestUpdate(d->sha, value, strlen(value));
    EVP_DigestUpdate(d->sha, "\n", 1);
    return 0;
}

/* A complete trailer line ("" ends the body). */
static int
chunk_trailer(struct s3_chunked *d)
{
    if (d->line_len == 0) {
        d->st = CS_DONE;
        return 0;
    }
    if (++d->ntrailers > CHUNK_TRAILERS_MAX) {
        return -EBADMSG;
    }
    char *c = strchr(d->line, ':');
    if (c == NULL) {
        return -EBADMSG;
    }
    *c++ = '\0';
    while (*c == ' ') {
        c++;
    }
    size_t vl = strlen(c);
    while (vl > 0 && c[vl - 1] == ' ') {
        c[--vl] = '\0';
    }
    int rc = d->sha != NULL ? trailer_signed(d, d->line, c) : 0;
    if (rc == 0 && strncasecmp(d->line, "x-amz-checksum-", 15) == 0 && vl < sizeof(d->ck_value)) {
        snprintf(d->ck_value, sizeof(d->ck_value), "%s", c);
        d->have_ck = 1;
    }
    return rc; /* other trailers: ignored */
}

/* One byte of a header or trailer line. */
static int
line_byte(struct s3_chunked *d, char c)
{
    if (c == '\n') {
        if (d->line_len == 0 || d->line[d->line_len - 1] != '\r') {
            return -EBADMSG;
        }
        d->line[--d->line_len] = '\0';
        int rc = d->st == CS_HEAD ? chunk_head(d) : chunk_trailer(d);
        d->line_len = 0;
        return rc;
    }
    if (d->line_len == CHUNK_LINE_MAX) {
        return -EBADMSG;
    }
    d->line[d->line_len++] = c;
    return 0;
}

/* Chunk data: hashed, the signature checked when the chunk is complete, then emitted. */
static int
chunk_data(struct s3_chunked *d, const char *data, size_t n, s3_emit_fn emit, void *arg)
{
    d->left -= n;
    d->st = d->left == 0 ? CS_DATA_CR : CS_DATA;
    if (d->sha != NULL) {
        EVP_DigestUpdate(d->sha, data, n);
        if (d->left == 0 && chunk_sig_check(d) != 0) {
            return -EACCES;
        }
    }
    return emit(arg, data, n);
}

int
s3_chunked_feed(struct s3_chunked *d, const char *data, size_t len, s3_emit_fn emit, void *arg)
{
    size_t i = 0;
    while (i < len) {
        int rc = 0;
        switch (d->st) {
        case CS_HEAD:
        case CS_TRAILER:
            rc = line_byte(d, data[i++]);
            break;
        case CS_DATA: {
            size_t n = len - i < d->left ? len - i : (size_t)d->left;
            rc = chunk_data(d, data + i, n, emit, arg);
            i += n;
            break;
        }
        case CS_DATA_CR:
            rc = data[i++] == '\r' ? 0 : -EBADMSG;
            d->st = CS_DATA_LF;
            break;
        case CS_DATA_LF:
            rc = data[i++] == '\n' ? 0 : -EBADMSG;
            d->st = CS_HEAD;
            break;
        case CS_DONE:
            rc = -EBADMSG; /* bytes after the end */
            break;
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int
s3_chunked_finish(struct s3_chunked *d, const char **ck_value)
{
    /* Some SDKs end an unsigned-trailer body right after the trailers without the final
     * blank line: accept a body that stops at a line boundary in the trailer section. */
    int ok = d->st == CS_DONE || (d->st == CS_TRAILER && d->line_len == 0);
    if (!ok) {
        return -EBADMSG;
    }
    if (d->sha != NULL && d->sig.trailer) {
        char hash[65];
        sha_take_hex(d, hash);
        if (sig_check(d, "AWS4-HMAC-SHA256-TRAILER", hash, d->tsig) != 0) {
            return -EACCES;
        }
    }
    *ck_value = d->have_ck ? d->ck_value : NULL;
    return 0;
}
