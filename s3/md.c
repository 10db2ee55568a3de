/*
 * Design notes: S3 object metadata (Content-Type, Content-Disposition, x-amz-meta-*, the
 * multipart ETag, Last-Modified, a PUT's x-amz-checksum) is kept in the object's AIS custom md
 * ("k=v,k2=v2", stored by the target in the object's xattr with the rest of its metadata), so
 * HEAD and listing read it with the object's other metadata and /v1 clients see it too. Keys
 * are "s3.<name>"; values are percent-encoded so ',' and '=' inside them cannot break the
 * format. The ETag of a single-part object is not stored twice: S3 PUTs store MD5 as the
 * object's checksum, and the ETag is that checksum.
 */
#include "s3/s3_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int
unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int
s3_pct_encode(const char *s, size_t n, int keep_slash, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            if (o + 1 >= cap) {
                return -E2BIG;
            }
            out[o++] = (char)c;
        } else {
            if (o + 3 >= cap) {
                return -E2BIG;
            }
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (cap == 0) {
        return -E2BIG;
    }
    out[o] = '\0';
    return 0;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char)tolower((unsigned char)c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

int
s3_pct_decode(const char *s, size_t n, char *out, size_t cap, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int h = i + 2 < n ? hexval(s[i + 1]) : -1;
            int l = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (h < 0 || l < 0) {
                return -EINVAL;
            }
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (o + 1 >= cap) {
            return -E2BIG;
        }
        out[o++] = c;
    }
    if (cap == 0) {
        return -E2BIG;
    }
    out[o] = '\0';
    *outlen = o;
    return 0;
}

/* Appends ",key=pct(value)" when value is non-empty. */
static int
put_kv(char *out, size_t cap, size_t *o, const char *key, const char *val)
{
    char enc[1024];
    if (val[0] == '\0') {
        return 0;
    }
    if (s3_pct_encode(val, strlen(val), 0, enc, sizeof(enc)) != 0) {
        return -E2BIG;
    }
    int w = snprintf(out + *o, cap - *o, "%s%s=%s", *o ? "," : "", key, enc);
    if (w < 0 || *o + (size_t)w >= cap) {
        return -E2BIG;
    }
    *o += (size_t)w;
    return 0;
}

int
s3_md_encode(const struct s3_md *md, char *out, size_t cap)
{
    size_t o = 0;
    char mt[24], k[420];
    out[0] = '\0';
    snprintf(mt, sizeof(mt), "%lld", (long long)md->mtime_s);
    int err = put_kv(out, cap, &o, "s3.ct", md->ctype);
    err = err ? err : put_kv(out, cap, &o, "s3.cd", md->cdisp);
    err = err ? err : put_kv(out, cap, &o, "s3.ce", md->cenc);
    err = err ? err : put_kv(out, cap, &o, "s3.cc", md->cache);
    err = err ? err : put_kv(out, cap, &o, "s3.cl", md->lang);
    err = err ? err : put_kv(out, cap, &o, "s3.ex", md->expires);
    err = err ? err : put_kv(out, cap, &o, "s3.etag", md->etag);
    err = err ? err : put_kv(out, cap, &o, "s3.mt", md->mtime_s ? mt : "");
    if (err == 0 && md->ck_alg[0] != '\0') {
        snprintf(k, sizeof(k), "s3.ck.%s", md->ck_alg);
        err = put_kv(out, cap, &o, k, md->ck_val);
    }
    for (size_t i = 0; i < md->nmeta && err == 0; i++) {
        char name[400];
        if (s3_pct_encode(md->meta_k[i], strlen(md->meta_k[i]), 0, name, sizeof(name)) != 0) {
            return -E2BIG;
        }
        snprintf(k, sizeof(k), "s3.m.%s", name);
        err = put_kv(out, cap, &o, k, md->meta_v[i]);
    }
    return err;
}

static void
set_dec(char *dst, size_t cap, const char *v, size_t n)
{
    size_t len;
    if (s3_pct_decode(v, n, dst, cap, &len) != 0) {
        dst[0] = '\0';
    }
}

static void
md_pair(struct s3_md *md, const char *k, size_t kn, const char *v, size_t vn)
{
    static const struct {
        const char *key;
        size_t off, cap;
    } rows[] = {
        {"s3.ct", offsetof(struct s3_md, ctype), sizeof(((struct s3_md *)0)->ctype)},
        {"s3.cd", offsetof(struct s3_md, cdisp), sizeof(((struct s3_md *)0)->cdisp)},
        {"s3.ce", offsetof(struct s3_md, cenc), sizeof(((struct s3_md *)0)->cenc)},
        {"s3.cc", offsetof(struct s3_md, cache), sizeof(((struct s3_md *)0)->cache)},
        {"s3.cl", offsetof(struct s3_md, lang), sizeof(((struct s3_md *)0)->lang)},
        {"s3.ex", offsetof(struct s3_md, expires), sizeof(((struct s3_md *)0)->expires)},
        {"s3.etag", offsetof(struct s3_md, etag), sizeof(((struct s3_md *)0)->etag)},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (strlen(rows[i].key) == kn && strncmp(k, rows[i].key, kn) == 0) {
            set_dec((char *)md + rows[i].off, rows[i].cap, v, vn);
            return;
        }
    }
    if (kn == 5 && strncmp(k, "s3.mt", 5) == 0) {
        md->mtime_s = strtoll(v, NULL, 10);
    } else if (kn > 6 && strncmp(k, "s3.ck.", 6) == 0 && kn - 6 < sizeof(md->ck_alg)) {
        memcpy(md->ck_alg, k + 6, kn - 6);
        md->ck_alg[kn - 6] = '\0';
        set_dec(md->ck_val, sizeof(md->ck_val), v, vn);
    } else if (kn > 5 && strncmp(k, "s3.m.", 5) == 0 && md->nmeta < S3_META_MAX) {
        set_dec(md->meta_k[md->nmeta], sizeof(md->meta_k[0]), k + 5, kn - 5);
        set_dec(md->meta_v[md->nmeta], sizeof(md->meta_v[0]), v, vn);
        md->nmeta++;
    }
}

void
s3_md_parse(const char *custom, struct s3_md *md)
{
    memset(md, 0, sizeof(*md));
    const char *p = custom ? custom : "";
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (eq != NULL) {
            md_pair(md, p, (size_t)(eq - p), eq + 1, n - (size_t)(eq - p) - 1);
        }
        p += n;
        if (*p == ',') {
            p++;
        }
    }
}

struct md_walk {
    struct s3_md *md;
    int err;
};

static int
md_hdr(void *arg, const char *name, const char *value)
{
    struct md_walk *w = arg;
    struct s3_md *md = w->md;
    if (strncasecmp(name, "x-amz-meta-", 11) != 0) {
        return 0;
    }
    if (md->nmeta == S3_META_MAX || strlen(name + 11) >= sizeof(md->meta_k[0]) ||
        strlen(value) >= sizeof(md->meta_v[0])) {
        w->err = -E2BIG;
        return 1;
    }
    char *k = md->meta_k[md->nmeta];
    size_t i = 0;
    for (; name[11 + i] != '\0'; i++) {
        k[i] = (char)tolower((unsigned char)name[11 + i]);
    }
    k[i] = '\0';
    snprintf(md->meta_v[md->nmeta], sizeof(md->meta_v[0]), "%s", value);
    md->nmeta++;
    return 0;
}

static int
copy_hdr(struct ais_req *r, const char *name, char *dst, size_t cap)
{
    const char *v = ais_req_header(r, name);
    if (v == NULL) {
        return 0;
    }
    if (strlen(v) >= cap) {
        return -E2BIG;
    }
    snprintf(dst, cap, "%s", v);
    return 0;
}

int
s3_md_from_req(struct ais_req *r, struct s3_md *md)
{
    struct md_walk w = {.md = md};
    int err = copy_hdr(r, "Content-Type", md->ctype, sizeof(md->ctype));
    err = err ? err : copy_hdr(r, "Content-Disposition", md->cdisp, sizeof(md->cdisp));
    err = err ? err : copy_hdr(r, "Content-Encoding", md->cenc, sizeof(md->cenc));
    err = err ? err : copy_hdr(r, "Cache-Control", md->cache, sizeof(md->cache));
    err = err ? err : copy_hdr(r, "Content-Language", md->lang, sizeof(md->lang));
    err = err ? err : copy_hdr(r, "Expires", md->expires, sizeof(md->expires));
    /* aws-chunked is transfer framing, not the object's encoding. */
    if (err == 0 && strncasecmp(md->cenc, "aws-chunked", 11) == 0) {
        const char *rest = md->cenc + 11;
        while (*rest == ',' || *rest == ' ') {
            rest++;
        }
        memmove(md->cenc, rest, strlen(rest) + 1);
    }
    if (err == 0) {
        ais_req_header_each(r, md_hdr, &w);
        err = w.err;
    }
    return err;
}

void
s3_md_to_resp(struct ais_req *r, const struct s3_md *md)
{
    char name[160];
    ais_resp_header(r, "Content-Type", md->ctype[0] ? md->ctype : "binary/octet-stream");
    if (md->cdisp[0]) {
        ais_resp_header(r, "Content-Disposition", md->cdisp);
    }
    if (md->cenc[0]) {
        ais_resp_header(r, "Content-Encoding", md->cenc);
    }
    if (md->cache[0]) {
        ais_resp_header(r, "Cache-Control", md->cache);
    }
    if (md->lang[0]) {
        ais_resp_header(r, "Content-Language", md->lang);
    }
    if (md->expires[0]) {
        ais_resp_header(r, "Expires", md->expires);
    }
    for (size_t i = 0; i < md->nmeta; i++) {
        snprintf(name, sizeof(name), "x-amz-meta-%s", md->meta_k[i]);
        ais_resp_header(r, name, md->meta_v[i]);
    }
}

void
s3_etag(const struct s3_md *md, const char *cksum_type, const char *cksum_value, char *out,
        size_t cap)
{
    if (md->etag[0] != '\0') {
        snprintf(out, cap, "\"%s\"", md->etag);
    } else if (cksum_type != NULL && strcmp(cksum_type, "md5") == 0 && cksum_value[0]) {
        snprintf(out, cap, "\"%s\"", cksum_value);
    } else if (cksum_value != NULL && cksum_value[0] != '\0') {
        /* Not an MD5 (written through /v1): the "-1" tells S3 clients not to compare it with
         * the MD5 of the bytes, as they do not for multipart ETags. */
        snprintf(out, cap, "\"%s-1\"", cksum_value);
    } else {
        snprintf(out, cap, "\"00000000000000000000000000000000-1\"");
    }
}

void
s3_time_http(int64_t s, char *out, size_t cap)
{
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

void
s3_time_iso(int64_t s, char *out, size_t cap)
{
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}
