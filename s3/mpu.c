/*
 * Design notes: multipart upload state is ordinary objects of the bucket under a hidden
 * prefix, so it survives gateway restarts, is seen by every gateway, and needs nothing new on
 * the targets:
 *   S3_MPU_DIR<id>/meta          body "<key>\n<custom md of the final object>"
 *   S3_MPU_DIR<id>/<NNNNN>.<s>   part NNNNN (MD5 stored as its checksum, like any S3 PUT)
 * The salt <s> is the smallest number that makes the part's HRW owner the owner of the final
 * key, so every part lands on the target that will hold the object. Complete checks the list
 * against the stored parts (order, ETags, 5 MiB minimum), streams the parts in order into the
 * final object (through the gateway, one bounded buffer) with ETag md5-of-md5s-N in its custom
 * md, then removes the parts and the meta object; Abort removes them. A failed part upload
 * leaves no part (the PUT path drops incomplete bodies), and listings skip S3_MPU_DIR.
 */
#include "common/err.h"
#include "common/log.h"
#include "common/names.h"
#include "s3/cksum.h"
#include "s3/s3_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MPU_ID_HEX 32
#define MPU_SALT_MAX 1024 /* tries to find a part name owned by the key's owner */
#define MPU_META_BYTES (AIS_OBJNAME_BYTES_MAX + 2048)

struct part {
    uint32_t num;
    char name[96];
    uint64_t size;
    char md5[40];
    int64_t mtime_s;
};

static int
id_ok(const char *id)
{
    size_t n = strlen(id);
    return n == MPU_ID_HEX && strspn(id, "0123456789abcdef") == n;
}

/* Name of part num of upload id, placed on the owner of key. */
static void
part_name(struct s3_srv *s, const char *bck, const char *key, const char *id, uint32_t num,
          char *out, size_t cap)
{
    char want[128], got[128];
    if (s->ops->obj_owner(s->ops->ctx, bck, key, want, sizeof(want)) != 0) {
        want[0] = '\0';
    }
    for (unsigned salt = 0; salt < MPU_SALT_MAX; salt++) {
        snprintf(out, cap, "%s%s/%05u.%u", S3_MPU_DIR, id, num, salt);
        if (want[0] == '\0' || (s->ops->obj_owner(s->ops->ctx, bck, out, got, sizeof(got)) == 0 &&
                                strcmp(got, want) == 0)) {
            return;
        }
    }
    snprintf(out, cap, "%s%s/%05u.0", S3_MPU_DIR, id, num);
}

/* The upload's meta: 0 with its key check done (the request's key must match), or answered. */
static int
meta_load(struct s3_rq *q, const char *id, char *md_out, size_t cap)
{
    char name[128];
    char *buf = malloc(MPU_META_BYTES);
    size_t len = 0;
    if (buf == NULL) {
        s3_err(q, S3_INTERNAL, "out of memory");
        return -1;
    }
    snprintf(name, sizeof(name), "%s%s/meta", S3_MPU_DIR, id);
    int rc = id_ok(id) ? s3_obj_get_small(q->s, q->bck, name, buf, MPU_META_BYTES, &len) : -ENOENT;
    char *nl = rc == 0 ? memchr(buf, '\n', len) : NULL;
    if (rc == 0 &&
        (nl == NULL || (size_t)(nl - buf) != q->key_len || memcmp(buf, q->key, q->key_len) != 0)) {
        rc = -ENOENT; /* an upload of another key */
    }
    if (rc == 0 && md_out != NULL) {
        snprintf(md_out, cap, "%s", nl + 1);
    }
    free(buf);
    if (rc == -ENOENT) {
        s3_err(q, S3_NO_SUCH_UPLOAD, NULL);
    } else if (rc != 0) {
        s3_err_rc(q, rc, "upload state");
    }
    return rc ? -1 : 0;
}

struct plist {
    struct part *v;
    size_t n, cap;
    char last[128];
};

static int
plist_ent(void *arg, const struct s3_list_ent *e)
{
    struct plist *l = arg;
    snprintf(l->last, sizeof(l->last), "%s", e->name);
    const char *base = strrchr(e->name, '/');
    unsigned num = 0, salt = 0;
    if (base == NULL || sscanf(base + 1, "%5u.%u", &num, &salt) != 2 || num == 0 ||
        num > AIS_S3_PARTS_MAX || l->n == l->cap) {
        return 0; /* meta, or not a part */
    }
    struct s3_md md;
    s3_md_parse(e->custom, &md);
    struct part *p = &l->v[l->n++];
    p->num = num;
    snprintf(p->name, sizeof(p->name), "%s", e->name);
    p->size = e->size;
    snprintf(p->md5, sizeof(p->md5), "%s", strcmp(e->cksum_type, "md5") == 0 ? e->cksum_value : "");
    p->mtime_s = md.mtime_s ? md.mtime_s : e->atime_ns / 1000000000;
    return 0;
}

/* All stored parts of upload id, sorted by number (names sort so). 0 or negative errno. */
static int
parts_list(struct s3_srv *s, const char *bck, const char *id, struct plist *l)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "%s%s/", S3_MPU_DIR, id);
    l->cap = AIS_S3_PARTS_MAX + 8;
    l->v = calloc(l->cap, sizeof(*l->v));
    if (l->v == NULL) {
        return -ENOMEM;
    }
    for (int pages = 0; pages < 64; pages++) {
        int more = 0;
        char after[128];
        snprintf(after, sizeof(after), "%s", l->last);
        int rc = s->ops->obj_list(s->ops->ctx, bck, prefix, after, 1000, plist_ent, l, &more);
        if (rc != 0 || !more) {
            return rc;
        }
    }
    return 0;
}

static void
parts_remove(struct s3_srv *s, const char *bck, const char *id, const struct plist *l)
{
    char name[128];
    for (size_t i = 0; i < l->n; i++) {
        (void)s3_obj_delete_one(s, bck, l->v[i].name, strlen(l->v[i].name));
    }
    snprintf(name, sizeof(name), "%s%s/meta", S3_MPU_DIR, id);
    (void)s3_obj_delete_one(s, bck, name, strlen(name));
}

/* ---- Create ---- */

static void
mpu_create(struct s3_rq *q)
{
    char id[MPU_ID_HEX + 1], name[128], custom[1100];
    struct s3_md md;
    memset(&md, 0, sizeof(md));
    if (s3_md_from_req(q->r, &md) != 0 || s3_md_encode(&md, custom, sizeof(custom)) != 0) {
        s3_err(q, S3_METADATA_TOO_LARGE, NULL);
        return;
    }
    char *body = malloc(MPU_META_BYTES);
    if (body == NULL) {
        s3_err(q, S3_INTERNAL, "out of memory");
        return;
    }
    ais_rand_id(id, MPU_ID_HEX); /* lowercase hex? normalised below */
    for (size_t i = 0; i < MPU_ID_HEX; i++) {
        id[i] = "0123456789abcdef"[(unsigned char)id[i] % 16];
    }
    id[MPU_ID_HEX] = '\0';
    int n = snprintf(body, MPU_META_BYTES, "%.*s\n%s", (int)q->key_len, q->key, custom);
    snprintf(name, sizeof(name), "%s%s/meta", S3_MPU_DIR, id);
    int rc = s3_obj_put_small(q->s, q->bck, name, body, (size_t)n, NULL);
    free(body);
    if (rc != 0) {
        s3_err_rc(q, rc == -ENOENT ? -EIO : rc, "upload state");
        return;
    }
    struct ais_buf x;
    ais_buf_init(&x, 8192);
    int err = s3_xml_begin(&x, "InitiateMultipartUploadResult");
    err = err ? err : s3_xml_el(&x, "Bucket", q->bck);
    err = err ? err : s3_xml_el(&x, "Key", q->key);
    err = err ? err : s3_xml_el(&x, "UploadId", id);
    err = err ? err : ais_buf_printf(&x, "</InitiateMultipartUploadResult>");
    if (err != 0) {
        s3_err(q, S3_INTERNAL, "out of memory");
    } else {
        s3_resp_xml(q, 200, &x);
    }
    ais_buf_fini(&x);
}

/* ---- UploadPart / UploadPartCopy ---- */

static void
part_done(struct s3_put *p, const char *etag)
{
    struct s3_rq *q = s3_put_rq(p);
    struct s3_md *md = s3_put_md(p);
    ais_resp_empty(q->r, 200);
    s3_resp_std(q);
    ais_resp_header(q->r, "ETag", etag);
    if (md->ck_alg[0] != '\0') {
        char name[48];
        snprintf(name, sizeof(name), "x-amz-checksum-%s", md->ck_alg);
        ais_resp_header(q->r, name, md->ck_val);
    }
}

static void
mpu_part(struct s3_rq *q, const char *id, uint32_t num)
{
    char name[128], etag[96], t[64];
    if (meta_load(q, id, NULL, 0) != 0) {
        return;
    }
    part_name(q->s, q->bck, q->key, id, num, name, sizeof(name));
    if (ais_req_header(q->r, "x-amz-copy-source") != NULL) {
        int64_t mt = 0;
        struct s3_md none;
        memset(&none, 0, sizeof(none));
        if (s3_copy_to(q, q->bck, name, strlen(name), NULL, &none,
                       ais_req_header(q->r, "x-amz-copy-source-range"), etag, sizeof(etag),
                       &mt) != 0) {
            return;
        }
        struct ais_buf x;
        ais_buf_init(&x, 4096);
        s3_time_iso(mt, t, sizeof(t));
        int err = s3_xml_begin(&x, "CopyPartResult");
        err = err ? err : s3_xml_el(&x, "LastModified", t);
        err = err ? err : s3_xml_el(&x, "ETag", etag);
        err = err ? err : ais_buf_printf(&x, "</CopyPartResult>");
        if (err == 0) {
            s3_resp_xml(q, 200, &x);
        } else {
            s3_err(q, S3_INTERNAL, "out of memory");
        }
        ais_buf_fini(&x);
        return;
    }
    struct s3_put *p = s3_put_start(q, q->bck, name, strlen(name), NULL);
    if (p == NULL) {
        return;
    }
    s3_put_md(p)->mtime_s = ais_now_ns() / 1000000000;
    s3_put_set_hook(p, part_done, NULL);
    s3_put_run(p);
}

/* ---- Complete ---- */

struct want {
    uint32_t num[AIS_S3_PARTS_MAX];
    char etag[AIS_S3_PARTS_MAX][36];
    size_t n;
    int bad_order;
};

static int
want_item(void *arg, const char *elem, const struct s3_xml_item *it)
{
    struct want *w = arg;
    if (strcmp(elem, "Part") != 0) {
        return 0;
    }
    if (it->vals[0] == NULL || it->vals[1] == NULL || w->n == AIS_S3_PARTS_MAX) {
        return -EBADMSG;
    }
    char *end;
    long v = strtol(it->vals[0], &end, 10);
    if (*end != '\0' || v < 1 || v > AIS_S3_PARTS_MAX) {
        return -EBADMSG;
    }
    const char *e = it->vals[1];
    size_t n = strlen(e);
    if (n >= 2 && e[0] == '"' && e[n - 1] == '"') {
        e++;
        n -= 2;
    }
    if (w->n > 0 && (uint32_t)v <= w->num[w->n - 1]) {
        w->bad_order = 1;
    }
    w->num[w->n] = (uint32_t)v;
    snprintf(w->etag[w->n], sizeof(w->etag[0]), "%.*s", (int)(n < 35 ? n : 35), e);
    w->n++;
    return 0;
}

/* The stored part for number num whose MD5 is etag (NULL if none). */
static const struct part *
part_find(const struct plist *l, uint32_t num, const char *etag)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].num == num && strcasecmp(l->v[i].md5, etag) == 0) {
            return &l->v[i];
        }
    }
    return NULL;
}

/* Checks the list and resolves it to stored parts. S3_OK or the error code. */
static enum s3_code
complete_check(const struct want *w, const struct plist *l, const struct part **use)
{
    if (w->bad_order) {
        return S3_INVALID_PART_ORDER;
    }
    for (size_t i = 0; i < w->n; i++) {
        use[i] = part_find(l, w->num[i], w->etag[i]);
        if (use[i] == NULL) {
            return S3_INVALID_PART;
        }
        if (i + 1 < w->n && use[i]->size < AIS_S3_PART_BYTES_MIN) {
            return S3_ENTITY_TOO_SMALL;
        }
    }
    return S3_OK;
}

/* md5 of the binary part MD5s, "-N". */
static void
multipart_etag(const struct part *const *use, size_t n, char *out, size_t cap)
{
    struct s3_ck *c = NULL;
    char hex[40];
    if (s3_ck_new("md5", &c) != 0) {
        snprintf(out, cap, "00000000000000000000000000000000-%zu", n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char bin[16];
        for (int k = 0; k < 16; k++) {
            unsigned v = 0;
            sscanf(use[i]->md5 + 2 * k, "%2x", &v);
            bin[k] = (unsigned char)v;
        }
        s3_ck_update(c, bin, sizeof(bin));
    }
    s3_ck_final_hex(c, hex, sizeof(hex));
    s3_ck_free(c);
    snprintf(out, cap, "%s-%zu", hex, n);
}

static int
complete_reply(struct s3_rq *q, const char *etag)
{
    struct ais_buf x;
    char loc[AIS_URI_BYTES_MAX], quoted[96];
    snprintf(loc, sizeof(loc), "/s3/%s/%s", q->bck, q->key_enc);
    snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
    ais_buf_init(&x, 16384);
    int err = s3_xml_begin(&x, "CompleteMultipartUploadResult");
    err = err ? err : s3_xml_el(&x, "Location", loc);
    err = err ? err : s3_xml_el(&x, "Bucket", q->bck);
    err = err ? err : s3_xml_el(&x, "Key", q->key);
    err = err ? err : s3_xml_el(&x, "ETag", quoted);
    err = err ? err : ais_buf_printf(&x, "</CompleteMultipartUploadResult>");
    if (err == 0) {
        s3_resp_xml(q, 200, &x);
    }
    ais_buf_fini(&x);
    return err;
}

struct complete_ctx {
    char id[MPU_ID_HEX + 1];
};

/* Assembles the listed parts into the object; answers. */
static void
complete_run(struct s3_rq *q, const char *id, const struct want *w, const char *custom)
{
    struct plist l = {0};
    const struct part **use = calloc(w->n ? w->n : 1, sizeof(*use));
    const char **names = calloc(w->n ? w->n : 1, sizeof(*names));
    uint64_t *sizes = calloc(w->n ? w->n : 1, sizeof(*sizes));
    int rc = (use && names && sizes) ? parts_list(q->s, q->bck, id, &l) : -ENOMEM;
    enum s3_code c = rc == 0 ? complete_check(w, &l, use) : S3_INTERNAL;
    if (rc != 0) {
        s3_err_rc(q, rc, "parts");
    } else if (c != S3_OK) {
        s3_err(q, c, NULL);
    } else {
        struct s3_md md;
        s3_md_parse(custom, &md);
        multipart_etag(use, w->n, md.etag, sizeof(md.etag));
        md.mtime_s = ais_now_ns() / 1000000000;
        for (size_t i = 0; i < w->n; i++) {
            names[i] = use[i]->name;
            sizes[i] = use[i]->size;
        }
        rc = s3_concat_to(q->s, q->bck, names, w->n, q->key, q->key_len, &md, sizes);
        if (rc != 0) {
            s3_err_rc(q, rc == -ENOENT ? -EIO : rc, "assembly");
        } else if (complete_reply(q, md.etag) == 0) {
            parts_remove(q->s, q->bck, id, &l);
        } else {
            s3_err(q, S3_INTERNAL, "out of memory");
        }
    }
    free(l.v);
    free(use);
    free(names);
    free(sizes);
}

static void
complete_done(struct ais_req *r, void *arg)
{
    struct s3_rq *q = arg;
    char id[64], custom[1100];
    size_t len = 0;
    const char *body = ais_req_body(r, &len);
    static const char *const fields[] = {"PartNumber", "ETag"};
    if (s3_query(r, "uploadId", id, sizeof(id)) != 1 || meta_load(q, id, custom, sizeof(custom))) {
        if (!ais_req_responded(r)) {
            s3_err(q, S3_NO_SUCH_UPLOAD, NULL);
        }
        return;
    }
    struct want *w = calloc(1, sizeof(*w));
    int rc =
        w ? s3_xml_parse(body, len, "CompleteMultipartUpload", fields, 2, want_item, w) : -ENOMEM;
    if (rc == -EBADMSG || (rc == 0 && w->n == 0)) {
        s3_err(q, S3_MALFORMED_XML, NULL);
    } else if (rc != 0) {
        s3_err(q, S3_INTERNAL, "out of memory");
    } else {
        complete_run(q, id, w, custom);
    }
    free(w);
}

/* ---- Abort, ListParts ---- */

static void
mpu_abort(struct s3_rq *q, const char *id)
{
    struct plist l = {0};
    if (meta_load(q, id, NULL, 0) != 0) {
        return;
    }
    int rc = parts_list(q->s, q->bck, id, &l);
    if (rc != 0) {
        s3_err_rc(q, rc, "parts");
    } else {
        parts_remove(q->s, q->bck, id, &l);
        ais_resp_empty(q->r, 204);
        s3_resp_std(q);
    }
    free(l.v);
}

static void
mpu_list_parts(struct s3_rq *q, const char *id)
{
    struct plist l = {0};
    char v[32], t[64];
    long marker = 0, maxp = 1000;
    if (meta_load(q, id, NULL, 0) != 0) {
        return;
    }
    if (s3_query(q->r, "part-number-marker", v, sizeof(v)) == 1) {
        marker = strtol(v, NULL, 10);
    }
    if (s3_query(q->r, "max-parts", v, sizeof(v)) == 1) {
        maxp = strtol(v, NULL, 10);
        maxp = maxp < 0 ? 0 : maxp > 1000 ? 1000 : maxp;
    }
    int rc = parts_list(q->s, q->bck, id, &l);
    struct ais_buf x;
    ais_buf_init(&x, 4u << 20);
    int err = rc ? rc : s3_xml_begin(&x, "ListPartsResult");
    err = err ? err : s3_xml_el(&x, "Bucket", q->bck);
    err = err ? err : s3_xml_el(&x, "Key", q->key);
    err = err ? err : s3_xml_el(&x, "UploadId", id);
    err = err ? err : ais_buf_printf(&x, "<PartNumberMarker>%ld</PartNumberMarker>", marker);
    err = err ? err : ais_buf_printf(&x, "<MaxParts>%ld</MaxParts>", maxp);
    long shown = 0, last = marker;
    int trunc = 0;
    for (size_t i = 0; i < l.n && err == 0; i++) {
        if ((long)l.v[i].num <= marker || (i > 0 && l.v[i].num == l.v[i - 1].num)) {
            continue;
        }
        if (shown == maxp) {
            trunc = 1;
            break;
        }
        shown++;
        last = (long)l.v[i].num;
        s3_time_iso(l.v[i].mtime_s, t, sizeof(t));
        err = ais_buf_printf(&x,
                             "<Part><PartNumber>%u</PartNumber><LastModified>%s</LastModified>"
                             "<ETag>&quot;%s&quot;</ETag><Size>%llu</Size></Part>",
                             l.v[i].num, t, l.v[i].md5, (unsigned long long)l.v[i].size);
    }
    err = err ? err : ais_buf_printf(&x, "<NextPartNumberMarker>%ld</NextPartNumberMarker>", last);
    err = err ? err : s3_xml_el(&x, "IsTruncated", trunc ? "true" : "false");
    err = err ? err : ais_buf_printf(&x, "</ListPartsResult>");
    if (err != 0) {
        s3_err_rc(q, err, "list parts");
    } else {
        s3_resp_xml(q, 200, &x);
    }
    ais_buf_fini(&x);
    free(l.v);
}

/* ---- ListMultipartUploads ---- */

struct ulist {
    struct s3_rq *q;
    struct ais_buf *x;
    size_t n;
    char last[128];
    int err;
};

static int
ulist_ent(void *arg, const struct s3_list_ent *e)
{
    struct ulist *u = arg;
    snprintf(u->last, sizeof(u->last), "%s", e->name);
    size_t dl = strlen(S3_MPU_DIR);
    const char *slash = strchr(e->name + dl, '/');
    if (slash == NULL || strcmp(slash, "/meta") != 0 ||
        (size_t)(slash - e->name - dl) != MPU_ID_HEX) {
        return 0;
    }
    char id[MPU_ID_HEX + 1], t[64];
    memcpy(id, e->name + dl, MPU_ID_HEX);
    id[MPU_ID_HEX] = '\0';
    char *buf = malloc(MPU_META_BYTES);
    size_t len = 0;
    if (buf == NULL || s3_obj_get_small(u->q->s, u->q->bck, e->name, buf, MPU_META_BYTES, &len)) {
        free(buf);
        return 0; /* completed or aborted meanwhile */
    }
    char *nl = memchr(buf, '\n', len);
    if (nl != NULL) {
        *nl = '\0';
    }
    s3_time_iso(e->atime_ns / 1000000000, t, sizeof(t));
    int err = ais_buf_printf(u->x, "<Upload>");
    err = err ? err : s3_xml_el(u->x, "Key", buf);
    err = err ? err : s3_xml_el(u->x, "UploadId", id);
    err = err ? err
              : ais_buf_printf(u->x, "<Initiator><ID>ais</ID><DisplayName>ais</DisplayName>"
                                     "</Initiator><Owner><ID>ais</ID><DisplayName>ais"
                                     "</DisplayName></Owner>");
    err = err ? err : s3_xml_el(u->x, "StorageClass", "STANDARD");
    err = err ? err : s3_xml_el(u->x, "Initiated", t);
    err = err ? err : ais_buf_printf(u->x, "</Upload>");
    free(buf);
    u->n++;
    return err ? err : (u->n >= 1000 ? 1 : 0);
}

void
s3_mpu_list_uploads(struct s3_rq *q)
{
    struct ais_buf x;
    struct ulist u = {.q = q, .x = &x};
    if (!q->s->ops->bck_exists(q->s->ops->ctx, q->bck)) {
        s3_err(q, S3_NO_SUCH_BUCKET, NULL);
        return;
    }
    ais_buf_init(&x, 4u << 20);
    int err = s3_xml_begin(&x, "ListMultipartUploadsResult");
    err = err ? err : s3_xml_el(&x, "Bucket", q->bck);
    err = err ? err
              : ais_buf_printf(&x, "<KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>"
                                   "<MaxUploads>1000</MaxUploads>");
    int rc = 0;
    for (int pages = 0; pages < 64 && err == 0; pages++) {
        int more = 0;
        char after[128];
        snprintf(after, sizeof(after), "%s", u.last);
        rc = q->s->ops->obj_list(q->s->ops->ctx, q->bck, S3_MPU_DIR, after, 1000, ulist_ent, &u,
                                 &more);
        if (rc != 0 || !more) {
            break;
        }
    }
    err = err ? err : rc < 0 ? rc : 0;
    err = err ? err : s3_xml_el(&x, "IsTruncated", rc == 1 ? "true" : "false");
    err = err ? err : ais_buf_printf(&x, "</ListMultipartUploadsResult>");
    if (err != 0) {
        s3_err_rc(q, err, "list uploads");
    } else {
        s3_resp_xml(q, 200, &x);
    }
    ais_buf_fini(&x);
}

int
s3_mpu_dispatch(struct s3_rq *q)
{
    struct ais_req *r = q->r;
    char id[64], pn[16];
    int has_id = s3_query(r, "uploadId", id, sizeof(id)) == 1;
    if (ais_req_is(r, "POST") && s3_query_has(r, "uploads")) {
        mpu_create(q);
    } else if (ais_req_is(r, "POST") && has_id) {
        ais_req_body_buffer(r, AIS_S3_XML_BYTES_MAX, complete_done, q);
    } else if (ais_req_is(r, "PUT") && has_id) {
        char *end = NULL;
        long num = s3_query(r, "partNumber", pn, sizeof(pn)) == 1 ? strtol(pn, &end, 10) : 0;
        if (end == NULL || *end != '\0' || num < 1 || num > AIS_S3_PARTS_MAX) {
            s3_err(q, S3_INVALID_ARGUMENT, "Part number must be an integer between 1 and %d",
                   AIS_S3_PARTS_MAX);
        } else {
            mpu_part(q, id, (uint32_t)num);
        }
    } else if (ais_req_is(r, "DELETE") && has_id) {
        mpu_abort(q, id);
    } else if (ais_req_is(r, "GET") && has_id) {
        mpu_list_parts(q, id);
    } else if (ais_req_is(r, "POST")) {
        s3_err(q, S3_NOT_IMPLEMENTED, "POST on an object: only multipart operations");
    } else {
        return 0;
    }
    return 1;
}
