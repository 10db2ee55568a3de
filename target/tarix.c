/*
 * TAR member index (target/tarix.h).
 *
 * Design notes: the parser is a small state machine over 512-byte blocks so that it can sit in
 * the PUT path, which hands over the body in pieces of arbitrary size; it never holds member
 * data, only the current header block and, for GNU 'L' and pax 'x' headers, the extended name
 * (bounded). Like Go's archive/tar (which AIS uses), header-only types (links, devices, dirs,
 * FIFOs) carry no data whatever their size field says; one zero block ends the archive, as in
 * Python's tarfile. Only regular members are reported: they are what archpath can name.
 */
#include "target/tarix.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLK 512

enum tp_state { TP_HDR, TP_SKIP, TP_LONG, TP_PAX, TP_END, TP_ERR };

struct tgt_tar_parser {
    tgt_tar_member_fn fn;
    void *arg;
    enum tp_state st;
    int err;
    uint64_t pos;   /* archive offset of the next byte fed */
    uint64_t left;  /* TP_SKIP: bytes to skip; TP_LONG/TP_PAX: bytes still to collect */
    uint64_t pad;   /* after collecting: padding to skip */
    size_t fill;    /* bytes in blk, or collected in ext */
    uint64_t count;
    uint64_t end_off; /* offset of the first end-of-archive block, once TP_END */
    int has_name;   /* a 'L' or pax path applies to the next member */
    int has_size;   /* a pax size applies to the next member */
    uint64_t pax_size;
    size_t ext_cap; /* bytes allocated in ext */
    char *ext;      /* collected 'L' name or pax records */
    char blk[BLK];
    char name[TGT_TAR_NAME_BYTES_MAX + 1];
};

int
tgt_tar_parser_new(tgt_tar_member_fn fn, void *arg, struct tgt_tar_parser **out)
{
    struct tgt_tar_parser *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return -ENOMEM;
    }
    p->fn = fn;
    p->arg = arg;
    *out = p;
    return 0;
}

void
tgt_tar_parser_free(struct tgt_tar_parser *p)
{
    if (p != NULL) {
        free(p->ext);
        free(p);
    }
}

uint64_t
tgt_tar_parser_count(const struct tgt_tar_parser *p)
{
    return p->count;
}

static uint64_t
pad512(uint64_t n)
{
    return (BLK - n % BLK) % BLK;
}

/* Octal (space/NUL terminated) or base-256 (high bit set) number field. 0 or -EBADMSG. */
static int
parse_num(const unsigned char *f, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (f[0] & 0x80) {
        if (f[0] == 0xff) {
            return -EBADMSG; /* negative */
        }
        v = f[0] & 0x7f;
        for (size_t i = 1; i < n; i++) {
            if (v >> 55) {
                return -EBADMSG;
            }
            v = (v << 8) | f[i];
        }
        *out = v;
        return 0;
    }
    size_t i = 0;
    while (i < n && (f[i] == ' ' || f[i] == '\0')) {
        i++;
    }
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 60) {
            return -EBADMSG;
        }
        v = (v << 3) | (uint64_t)(f[i] - '0');
    }
    if (i < n && f[i] != ' ' && f[i] != '\0') {
        return -EBADMSG;
    }
    *out = v;
    return 0;
}

/* Header checksum: unsigned (POSIX) or signed (old tars) sum with the field as spaces. */
static int
cksum_ok(const unsigned char *b)
{
    uint64_t want;
    if (parse_num(b + 148, 8, &want) != 0) {
        return 0;
    }
    uint64_t u = 0;
    int64_t s = 0;
    for (size_t i = 0; i < BLK; i++) {
        unsigned char c = (i >= 148 && i < 156) ? ' ' : b[i];
        u += c;
        s += (signed char)c;
    }
    return u == want || (uint64_t)s == want;
}

static int
all_zero(const char *b)
{
    for (size_t i = 0; i < BLK; i++) {
        if (b[i] != 0) {
            return 0;
        }
    }
    return 1;
}

static int
set_name(struct tgt_tar_parser *p, const char *s, size_t n)
{
    if (n > TGT_TAR_NAME_BYTES_MAX) {
        return -ENAMETOOLONG;
    }
    memcpy(p->name, s, n);
    p->name[n] = '\0';
    p->has_name = 1;
    return 0;
}

/* pax records "LEN key=value\n": path= and size= matter here. */
static int
pax_parse(struct tgt_tar_parser *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != '\0') {
        size_t len = 0, j = i;
        while (j < n && s[j] >= '0' && s[j] <= '9' && len < n) {
            len = len * 10 + (size_t)(s[j++] - '0');
        }
        if (j >= n || s[j] != ' ' || len <= j - i || len > n - i || s[i + len - 1] != '\n') {
            return -EBADMSG;
        }
        const char *kv = s + j + 1, *end = s + i + len - 1;
        const char *eq = memchr(kv, '=', (size_t)(end - kv));
        if (eq == NULL) {
            return -EBADMSG;
        }
        size_t klen = (size_t)(eq - kv), vlen = (size_t)(end - eq - 1);
        int rc = 0;
        if (klen == 4 && memcmp(kv, "path", 4) == 0) {
            rc = set_name(p, eq + 1, vlen);
        } else if (klen == 4 && memcmp(kv, "size", 4) == 0) {
            uint64_t v = 0;
            for (size_t k = 0; k < vlen; k++) {
                if (eq[1 + k] < '0' || eq[1 + k] > '9' || v > UINT64_MAX / 10 - 10) {
                    return -EBADMSG;
                }
                v = v * 10 + (uint64_t)(eq[1 + k] - '0');
            }
            p->pax_size = v;
            p->has_size = 1;
        }
        if (rc != 0) {
            return rc;
        }
        i += len;
    }
    return 0;
}

static int ext_done(struct tgt_tar_parser *p);

/* Starts collecting an extended header of size bytes into ext (then skips its padding). */
static int
collect_start(struct tgt_tar_parser *p, uint64_t size, size_t max, enum tp_state st)
{
    if (size > max) {
        return -ENAMETOOLONG;
    }
    if (p->ext_cap < size + 1) {
        char *e = realloc(p->ext, (size_t)size + 1);
        if (e == NULL) {
            return -ENOMEM;
        }
        p->ext = e;
        p->ext_cap = (size_t)size + 1;
    }
    p->fill = 0;
    p->left = size;
    p->pad = pad512(size);
    p->st = st;
    return size == 0 ? ext_done(p) : 0;
}

/* Name of a regular member from the ustar fields (prefix "/" name). */
static int
ustar_name(struct tgt_tar_parser *p)
{
    const char *b = p->blk;
    size_t nl = strnlen(b, 100), pl = 0;
    if (memcmp(b + 257, "ustar", 5) == 0) {
        pl = strnlen(b + 345, 155);
    }
    char tmp[100 + 1 + 155 + 1];
    size_t n = 0;
    if (pl > 0) {
        memcpy(tmp, b + 345, pl);
        tmp[pl] = '/';
        n = pl + 1;
    }
    memcpy(tmp + n, b, nl);
    n += nl;
    int rc = set_name(p, tmp, n);
    p->has_name = 0;
    return rc;
}

static void
skip(struct tgt_tar_parser *p, uint64_t n)
{
    p->left = n;
    p->st = n > 0 ? TP_SKIP : TP_HDR;
}

/* A full header block is in blk. */
static int
header(struct tgt_tar_parser *p)
{
    const unsigned char *u = (const unsigned char *)p->blk;
    uint64_t size;
    if (all_zero(p->blk)) {
        p->end_off = p->pos - BLK;
        p->st = TP_END;
        return 0;
    }
    if (!cksum_ok(u) || parse_num(u + 124, 12, &size) != 0) {
        return -EBADMSG;
    }
    char type = p->blk[156];
    switch (type) {
    case 'L':
        return collect_start(p, size, TGT_TAR_NAME_BYTES_MAX + 1, TP_LONG);
    case 'x':
        return collect_start(p, size, TGT_TAR_PAX_BYTES_MAX, TP_PAX);
    case '1': case '2': case '3': case '4': case '5': case '6':
        p->has_name = p->has_size = 0;
        skip(p, 0);
        return 0;
    default:
        break;
    }
    if (type == 'g' || type == 'K') {
        skip(p, size + pad512(size));
        return 0;
    }
    if (p->has_size) {
        size = p->pax_size;
    }
    int rc = p->has_name ? 0 : ustar_name(p);
    int regular = type == '0' || type == '\0' || type == '7';
    p->has_name = p->has_size = 0;
    if (rc != 0) {
        return rc;
    }
    size_t nl = strlen(p->name);
    if (regular && nl > 0 && p->name[nl - 1] != '/') {
        struct tgt_tar_member m = {.name = p->name, .name_len = nl, .off = p->pos, .size = size};
        p->count++;
        rc = p->fn(p->arg, &m);
        if (rc != 0) {
            return rc;
        }
    }
    skip(p, size + pad512(size));
    return 0;
}

/* An extended header was collected into ext. */
static int
ext_done(struct tgt_tar_parser *p)
{
    p->ext[p->fill] = '\0';
    int rc = p->st == TP_LONG ? set_name(p, p->ext, strnlen(p->ext, p->fill))
                              : pax_parse(p, p->ext, p->fill);
    skip(p, p->pad);
    return rc;
}

/* Consumes up to n bytes in the current state; returns bytes used, or a negative error. */
static int64_t
step(struct tgt_tar_parser *p, const char *d, size_t n)
{
    size_t k;
    switch (p->st) {
    case TP_HDR:
        k = BLK - p->fill < n ? BLK - p->fill : n;
        memcpy(p->blk + p->fill, d, k);
        p->fill += k;
        p->pos += k;
        if (p->fill == BLK) {
            p->fill = 0;
            int rc = header(p);
            if (rc != 0) {
                return rc;
            }
        }
        return (int64_t)k;
    case TP_SKIP:
        k = p->left < n ? (size_t)p->left : n;
        p->left -= k;
        p->pos += k;
        if (p->left == 0) {
            p->st = TP_HDR;
        }
        return (int64_t)k;
    case TP_LONG:
    case TP_PAX:
        k = p->left < n ? (size_t)p->left : n;
        memcpy(p->ext + p->fill, d, k);
        p->fill += k;
        p->left -= k;
        p->pos += k;
        if (p->left == 0) {
            int rc = ext_done(p);
            p->fill = 0;
            if (rc != 0) {
                return rc;
            }
        }
        return (int64_t)k;
    default:
        p->pos += n;
        return (int64_t)n;
    }
}

int
tgt_tar_parser_feed(struct tgt_tar_parser *p, const void *data, size_t len)
{
    const char *d = data;
    if (p->st == TP_ERR) {
        return p->err;
    }
    while (len > 0) {
        int64_t k = step(p, d, len);
        if (k < 0) {
            p->st = TP_ERR;
            p->err = (int)k;
            return p->err;
        }
        if (p->st == TP_END) {
            return 0;
        }
        d += k;
        len -= (size_t)k;
    }
    return 0;
}

int
tgt_tar_parser_finish(struct tgt_tar_parser *p)
{
    if (p->st == TP_ERR) {
        return p->err;
    }
    if (p->st == TP_END || (p->st == TP_HDR && p->fill == 0)) {
        return 0;
    }
    return -EBADMSG;
}

uint64_t
tgt_tar_parser_end(const struct tgt_tar_parser *p)
{
    if (p->st == TP_END) {
        return p->end_off;
    }
    return p->st == TP_HDR && p->fill == 0 ? p->pos : UINT64_MAX;
}

/* ---- writing members ---- */

static uint64_t
round512(uint64_t n)
{
    return n + pad512(n);
}

size_t
tgt_tar_hdr_bytes(size_t name_len)
{
    return BLK + (name_len >= 100 ? BLK + (size_t)round512(name_len + 1) : 0);
}

static void
put_num(char *f, size_t n, uint64_t v)
{
    if (v < (1ull << (3 * (n - 1)))) {
        snprintf(f, n, "%0*" PRIo64, (int)(n - 1), v);
        return;
    }
    memset(f, 0, n);
    f[0] = (char)0x80; /* base-256, as GNU tar */
    for (size_t i = n - 1; i > 0 && v > 0; i--, v >>= 8) {
        f[i] = (char)(v & 0xff);
    }
}

static void
put_block(char *b, const char *name, size_t nl, uint64_t size, char type, int64_t mtime_s)
{
    memset(b, 0, BLK);
    memcpy(b, name, nl < 100 ? nl : 100);
    put_num(b + 100, 8, 0644);
    put_num(b + 108, 8, 0);
    put_num(b + 116, 8, 0);
    put_num(b + 124, 12, size);
    put_num(b + 136, 12, mtime_s > 0 ? (uint64_t)mtime_s : 0);
    b[156] = type;
    memcpy(b + 257, "ustar", 6);
    memcpy(b + 263, "00", 2);
    memset(b + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < BLK; i++) {
        sum += (unsigned char)b[i];
    }
    snprintf(b + 148, 8, "%06o", sum);
    b[155] = ' ';
}

size_t
tgt_tar_hdr_encode(char *out, const char *name, uint64_t size, int64_t mtime_s)
{
    size_t nl = strlen(name), n = 0;
    if (nl >= 100) {
        put_block(out, "././@LongLink", 13, nl + 1, 'L', 0);
        memset(out + BLK, 0, (size_t)round512(nl + 1));
        memcpy(out + BLK, name, nl);
        n = BLK + (size_t)round512(nl + 1);
    }
    put_block(out + n, name, nl, size, '0', mtime_s);
    return n + BLK;
}

/* ---- index format ---- */

#define IX_MAGIC "AISTARIX 1\n"

int
tgt_tarix_hdr_encode(const struct tgt_tarix_key *k, uint64_t count, char out[TGT_TARIX_HDR_BYTES])
{
    memset(out, 0, TGT_TARIX_HDR_BYTES);
    if (strchr(k->cksum, '\n') != NULL || strchr(k->version, '\n') != NULL) {
        return -ENAMETOOLONG;
    }
    int n = snprintf(out, TGT_TARIX_HDR_BYTES,
                     IX_MAGIC "size=%" PRIu64 "\nmtime=%" PRId64 "\nino=%" PRIu64
                              "\nck=%s\nver=%s\ncount=%" PRIu64 "\n",
                     k->size, k->mtime_ns, k->ino, k->cksum, k->version, count);
    if (n < 0 || n >= TGT_TARIX_HDR_BYTES) {
        memset(out, 0, TGT_TARIX_HDR_BYTES);
        return -ENAMETOOLONG;
    }
    return 0;
}

/* Copies the value of line "key=" at *s into out (cap), advancing *s. 0 or -EBADMSG. */
static int
hdr_field(const char **s, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    if (strncmp(*s, key, kl) != 0) {
        return -EBADMSG;
    }
    const char *v = *s + kl, *nl = strchr(v, '\n');
    if (nl == NULL || (size_t)(nl - v) >= cap) {
        return -EBADMSG;
    }
    memcpy(out, v, (size_t)(nl - v));
    out[nl - v] = '\0';
    *s = nl + 1;
    return 0;
}

static int
to_u64(const char *s, uint64_t *v)
{
    char *end;
    if (s[0] < '0' || s[0] > '9') {
        return -EBADMSG;
    }
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end != '\0' || errno != 0) {
        return -EBADMSG;
    }
    *v = x;
    return 0;
}

int
tgt_tarix_hdr_decode(const char in[TGT_TARIX_HDR_BYTES], struct tgt_tarix_key *k, uint64_t *count)
{
    char buf[TGT_TARIX_HDR_BYTES + 1], f[3][32];
    struct tgt_tarix_key t = {0};
    uint64_t c = 0, mt = 0;
    memcpy(buf, in, TGT_TARIX_HDR_BYTES);
    buf[TGT_TARIX_HDR_BYTES] = '\0';
    if (strncmp(buf, IX_MAGIC, strlen(IX_MAGIC)) != 0) {
        return -EBADMSG;
    }
    const char *s = buf + strlen(IX_MAGIC);
    int mneg = 0;
    if (hdr_field(&s, "size=", f[0], sizeof(f[0])) || hdr_field(&s, "mtime=", f[1], sizeof(f[1])) ||
        hdr_field(&s, "ino=", f[2], sizeof(f[2])) ||
        hdr_field(&s, "ck=", t.cksum, sizeof(t.cksum)) ||
        hdr_field(&s, "ver=", t.version, sizeof(t.version))) {
        return -EBADMSG;
    }
    char cnt[32];
    if (hdr_field(&s, "count=", cnt, sizeof(cnt))) {
        return -EBADMSG;
    }
    mneg = f[1][0] == '-';
    if (to_u64(f[0], &t.size) || to_u64(f[1] + mneg, &mt) || to_u64(f[2], &t.ino) ||
        to_u64(cnt, &c) || mt > INT64_MAX) {
        return -EBADMSG;
    }
    t.mtime_ns = mneg ? -(int64_t)mt : (int64_t)mt;
    *k = t;
    *count = c;
    return 0;
}

int
tgt_tarix_key_eq(const struct tgt_tarix_key *a, const struct tgt_tarix_key *b)
{
    return a->size == b->size && a->mtime_ns == b->mtime_ns && a->ino == b->ino &&
           strcmp(a->cksum, b->cksum) == 0 && strcmp(a->version, b->version) == 0;
}

static void
put_le(char *o, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        o[i] = (char)(v >> (8 * i));
    }
}

static uint64_t
get_le(const char *in, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) {
        v = (v << 8) | (unsigned char)in[i];
    }
    return v;
}

int
tgt_tarix_rec_encode(const struct tgt_tar_member *m, char *out, size_t cap)
{
    if (m->name_len == 0 || m->name_len > TGT_TAR_NAME_BYTES_MAX) {
        return -ENAMETOOLONG;
    }
    if (cap < 18 + m->name_len) {
        return -ENOSPC;
    }
    put_le(out, m->name_len, 2);
    put_le(out + 2, m->off, 8);
    put_le(out + 10, m->size, 8);
    memcpy(out + 18, m->name, m->name_len);
    return (int)(18 + m->name_len);
}

int
tgt_tarix_rec_decode(const char *in, size_t len, struct tgt_tar_member *m)
{
    if (len < 2) {
        return 0;
    }
    size_t nl = (size_t)get_le(in, 2);
    if (nl == 0 || nl > TGT_TAR_NAME_BYTES_MAX) {
        return -EBADMSG;
    }
    if (len < 18 + nl) {
        return 0;
    }
    m->name_len = nl;
    m->off = get_le(in + 2, 8);
    m->size = get_le(in + 10, 8);
    m->name = in + 18;
    return (int)(18 + nl);
}
