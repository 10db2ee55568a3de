/*
 * Design notes: bucket-level S3 operations. Buckets are the gateway's ais:// buckets (global
 * namespace); create and delete are BMD changes on the primary through the ops table.
 * Listing walks the gateway's merged listing page by page: S3's delimiter folds every key
 * under a common prefix into one entry, and instead of reading those keys the walk restarts
 * after the prefix (prefix + 0xFF bytes sorts after every valid UTF-8 key below it).
 * Multipart parts live under a hidden prefix (S3_MPU_DIR) that listings skip the same way.
 * Pages are bounded by max-keys (at most 1000, as S3); a v2 continuation token is the hex of
 * the name the next page starts after.
 */
#include "common/err.h"
#include "common/log.h"
#include "common/names.h"
#include "s3/s3_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LIST_KEYS_MAX 1000
#define BCKS_LIST_MAX 1024 /* buckets ListBuckets shows */
#define SKIP_SUFFIX "\xff\xff\xff\xff"

/* ---- ListBuckets ---- */

struct bck_names {
    size_t n;
    char names[BCKS_LIST_MAX][AIS_BCKNAME_BYTES_MAX + 1];
    int64_t created[BCKS_LIST_MAX];
};

static int
collect_bck(void *arg, const char *name, int64_t created_ns)
{
    struct bck_names *b = arg;
    if (b->n == BCKS_LIST_MAX) {
        return 0;
    }
    snprintf(b->names[b->n], sizeof(b->names[0]), "%s", name);
    b->created[b->n++] = created_ns;
    return 0;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

void
s3_h_service(struct s3_rq *q)
{
    struct bck_names *b = calloc(1, sizeof(*b));
    struct ais_buf x;
    char t[64];
    if (b == NULL) {
        s3_err(q, S3_INTERNAL, "out of memory");
        return;
    }
    (void)q->s->ops->bck_each(q->s->ops->ctx, collect_bck, b);
    /* Sort names with their dates: sort indices by name. */
    size_t idx[BCKS_LIST_MAX];
    for (size_t i = 0; i < b->n; i++) {
        idx[i] = i;
    }
    for (size_t i = 1; i < b->n; i++) {
        for (size_t j = i; j > 0 && name_cmp(b->names[idx[j - 1]], b->names[idx[j]]) > 0; j--) {
            size_t tmp = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = tmp;
        }
    }
    ais_buf_init(&x, 1u << 20);
    int err = s3_xml_begin(&x, "ListAllMyBucketsResult");
    err = err ? err
              : ais_buf_printf(&x, "<Owner><ID>ais</ID><DisplayName>ais</DisplayName>"
                                   "</Owner><Buckets>");
    for (size_t i = 0; i < b->n && err == 0; i++) {
        s3_time_iso(b->created[idx[i]] / 1000000000, t, sizeof(t));
        err = ais_buf_printf(&x, "<Bucket>");
        err = err ? err : s3_xml_el(&x, "Name", b->names[idx[i]]);
        err = err ? err : s3_xml_el(&x, "CreationDate", t);
        err = err ? err : ais_buf_printf(&x, "</Bucket>");
    }
    err = err ? err : ais_buf_printf(&x, "</Buckets></ListAllMyBucketsResult>");
    if (err != 0) {
        s3_err(q, S3_INTERNAL, "out of memory");
    } else {
        s3_resp_xml(q, 200, &x);
    }
    ais_buf_fini(&x);
    free(b);
}

/* ---- Create / Delete ---- */

static void
create_done(struct ais_req *r, void *arg)
{
    struct s3_rq *q = arg;
    char msg[512];
    size_t len = 0;
    const char *body = ais_req_body(r, &len);
    static const char *const none[1] = {NULL};
    if (len > 0) {
        int rc = s3_xml_parse(body, len, "CreateBucketConfiguration", none, 0, s3_xml_any, NULL);
        if (rc != 0) {
            s3_err(q, S3_MALFORMED_XML, NULL);
            return;
        }
    }
    int rc = q->s->ops->bck_change(q->s->ops->ctx, "create-bck", q->bck, msg, sizeof(msg));
    if (rc == -EEXIST) {
        s3_err(q, S3_BUCKET_EXISTS, NULL);
    } else if (rc != 0) {
        s3_err_rc(q, rc, msg);
    } else {
        ais_resp_empty(r, 200);
        s3_resp_std(q);
        char loc[AIS_BCKNAME_BYTES_MAX + 4];
        snprintf(loc, sizeof(loc), "/%s", q->bck);
        ais_resp_header(r, "Location", loc);
    }
}

static int
count_one(void *arg, const struct s3_list_ent *e)
{
    (void)e;
    *(int *)arg = 1;
    return 1;
}

static void
delete_bucket(struct s3_rq *q)
{
    char msg[512];
    int any = 0, more = 0;
    if (!q->s->ops->bck_exists(q->s->ops->ctx, q->bck)) {
        s3_err(q, S3_NO_SUCH_BUCKET, NULL);
        return;
    }
    if (q->s->ops->bck_access(q->s->ops->ctx, q->bck, AIS_ACCESS_DESTROY_BCK, msg, sizeof(msg))) {
        s3_err(q, S3_ACCESS_DENIED, "%s", msg);
        return;
    }
    int rc = q->s->ops->obj_list(q->s->ops->ctx, q->bck, "", "", 1, count_one, &any, &more);
    if (rc < 0) {
        s3_err_rc(q, rc, "list");
        return;
    }
    if (any) {
        s3_err(q, S3_BUCKET_NOT_EMPTY, NULL);
        return;
    }
    rc = q->s->ops->bck_change(q->s->ops->ctx, "destroy-bck", q->bck, msg, sizeof(msg));
    if (rc != 0) {
        s3_err_rc(q, rc, msg);
        return;
    }
    ais_resp_empty(q->r, 204);
    s3_resp_std(q);
}

/* ---- ListObjects (v1, v2) ---- */

struct lst {
    struct s3_rq *q;
    struct ais_buf *x;
    int v2, url, fetch_owner;
    char prefix[AIS_OBJNAME_BYTES_MAX + 1];
    char delim[64];
    size_t max_keys;
    size_t count; /* keys + common prefixes emitted */
    int truncated;
    char after[AIS_OBJNAME_BYTES_MAX + 8]; /* where the next ops page starts */
    char last[AIS_OBJNAME_BYTES_MAX + 8];  /* last key or prefix emitted (NextMarker) */
    char last_cp[AIS_OBJNAME_BYTES_MAX + 1];
    struct ais_buf cps; /* CommonPrefixes XML, appended after Contents */
    int err;
};

/* Appends text, url-encoded when encoding-type=url. */
static int
put_name(struct lst *l, struct ais_buf *b, const char *tag, const char *s)
{
    char enc[AIS_OBJNAME_BYTES_MAX * 3 + 1];
    if (l->url && s3_pct_encode(s, strlen(s), 1, enc, sizeof(enc)) == 0) {
        return s3_xml_el(b, tag, enc);
    }
    return s3_xml_el(b, tag, s);
}

static int
emit_key(struct lst *l, const struct s3_list_ent *e)
{
    char t[64], etag[96];
    struct s3_md md;
    s3_md_parse(e->custom, &md);
    s3_etag(&md, e->cksum_type, e->cksum_value, etag, sizeof(etag));
    s3_time_iso(md.mtime_s ? md.mtime_s : e->atime_ns / 1000000000, t, sizeof(t));
    int err = ais_buf_printf(l->x, "<Contents>");
    err = err ? err : put_name(l, l->x, "Key", e->name);
    err = err ? err : s3_xml_el(l->x, "LastModified", t);
    err = err ? err : s3_xml_el(l->x, "ETag", etag);
    err = err ? err : ais_buf_printf(l->x, "<Size>%llu</Size>", (unsigned long long)e->size);
    if (err == 0 && (!l->v2 || l->fetch_owner)) {
        err = ais_buf_printf(l->x, "<Owner><ID>ais</ID><DisplayName>ais</DisplayName></Owner>");
    }
    err = err ? err : ais_buf_printf(l->x, "<StorageClass>STANDARD</StorageClass></Contents>");
    return err;
}

static int
list_ent(void *arg, const struct s3_list_ent *e)
{
    struct lst *l = arg;
    size_t plen = strlen(l->prefix);
    snprintf(l->after, sizeof(l->after), "%s", e->name);
    if (strncmp(e->name, S3_MPU_DIR, strlen(S3_MPU_DIR)) == 0 && plen < strlen(S3_MPU_DIR)) {
        snprintf(l->after, sizeof(l->after), "%s%s", S3_MPU_DIR, SKIP_SUFFIX);
        return 2; /* restart after the hidden parts */
    }
    const char *d = l->delim[0] ? strstr(e->name + plen, l->delim) : NULL;
    size_t cplen = d ? (size_t)(d - e->name) + strlen(l->delim) : 0;
    if (d != NULL && strlen(l->last_cp) == cplen && strncmp(l->last_cp, e->name, cplen) == 0) {
        return 0; /* same common prefix as before */
    }
    if (l->count == l->max_keys) {
        l->truncated = 1;
        return 1;
    }
    l->count++;
    if (d != NULL) {
        memcpy(l->last_cp, e->name, cplen);
        l->last_cp[cplen] = '\0';
        snprintf(l->last, sizeof(l->last), "%s", l->last_cp);
        snprintf(l->after, sizeof(l->after), "%s%s", l->last_cp, SKIP_SUFFIX);
        l->err = ais_buf_printf(&l->cps, "<CommonPrefixes>");
        l->err = l->err ? l->err : put_name(l, &l->cps, "Prefix", l->last_cp);
        l->err = l->err ? l->err : ais_buf_printf(&l->cps, "</CommonPrefixes>");
        return l->err ? l->err : 2; /* skip the rest of the prefix without reading it */
    }
    snprintf(l->last, sizeof(l->last), "%s", e->name);
    l->err = emit_key(l, e);
    return l->err;
}

/* Pages through the merged listing until max_keys (+1 to know truncation) or the end. */
static int
list_walk(struct lst *l)
{
    for (int pages = 0; pages < 100000; pages++) {
        int more = 0;
        size_t want = l->max_keys - l->count + 1;
        want = want > LIST_KEYS_MAX ? LIST_KEYS_MAX : want < 16 ? 16 : want;
        char from[sizeof(l->after)];
        snprintf(from, sizeof(from), "%s", l->after);
        int rc = l->q->s->ops->obj_list(l->q->s->ops->ctx, l->q->bck, l->prefix, from, want,
                                        list_ent, l, &more);
        if (rc == 1) {
            return 0; /* truncated */
        }
        if (rc < 0 || (rc != 0 && rc != 2)) {
            return rc < 0 ? rc : -EIO;
        }
        if (rc == 0 && !more) {
            return 0;
        }
    }
    return -ELOOP;
}

static int
hex_decode(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);
    if (n % 2 != 0 || n / 2 >= cap) {
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i += 2) {
        unsigned v;
        if (sscanf(in + i, "%2x", &v) != 1) {
            return -EINVAL;
        }
        out[i / 2] = (char)v;
    }
    out[n / 2] = '\0';
    return strlen(out) == n / 2 ? 0 : -EINVAL;
}

/* Query parameters into l: 0 or answered (-1). */
static int
list_args(struct s3_rq *q, struct lst *l)
{
    char v[AIS_OBJNAME_BYTES_MAX * 2 + 16], enc[32];
    struct ais_req *r = q->r;
    l->v2 = s3_query(r, "list-type", v, sizeof(v)) == 1 && strcmp(v, "2") == 0;
    l->url = s3_query(r, "encoding-type", enc, sizeof(enc)) == 1 && strcmp(enc, "url") == 0;
    l->fetch_owner = s3_query(r, "fetch-owner", v, sizeof(v)) == 1 && strcmp(v, "true") == 0;
    if (s3_query(r, "prefix", l->prefix, sizeof(l->prefix)) < 0 ||
        s3_query(r, "delimiter", l->delim, sizeof(l->delim)) < 0) {
        s3_err(q, S3_INVALID_ARGUMENT, "prefix or delimiter too long");
        return -1;
    }
    l->max_keys = LIST_KEYS_MAX;
    if (s3_query(r, "max-keys", v, sizeof(v)) == 1) {
        char *end;
        long long m = strtoll(v, &end, 10);
        if (*end != '\0' || m < 0) {
            s3_err(q, S3_INVALID_ARGUMENT, "max-keys must be a non-negative integer");
            return -1;
        }
        l->max_keys = m > LIST_KEYS_MAX ? LIST_KEYS_MAX : (size_t)m;
    }
    if (l->v2 && s3_query(r, "continuation-token", v, sizeof(v)) == 1) {
        if (hex_decode(v, l->after, sizeof(l->after)) != 0) {
            s3_err(q, S3_INVALID_ARGUMENT, "The continuation token provided is incorrect");
            return -1;
        }
    } else if (s3_query(r, l->v2 ? "start-after" : "marker", v, sizeof(v)) == 1) {
        if (strlen(v) > AIS_OBJNAME_BYTES_MAX) {
            s3_err(q, S3_INVALID_ARGUMENT, "marker too long");
            return -1;
        }
        memcpy(l->after, v, strlen(v) + 1);
        size_t dl = strlen(l->delim), n = strlen(l->after);
        if (dl > 0 && n >= dl && strcmp(l->after + n - dl, l->delim) == 0) {
            /* A marker that is a common prefix: go on after everything below it. */
            snprintf(l->after + n, sizeof(l->after) - n, "%s", SKIP_SUFFIX);
        }
    }
    if (strcmp(l->after, l->prefix) < 0 && l->prefix[0] != '\0') {
        l->after[0] = '\0'; /* the prefix filter already starts there */
    }
    return 0;
}

static int
list_head(struct lst *l, struct ais_buf *x, const char *after_in)
{
    char v[AIS_OBJNAME_BYTES_MAX * 2 + 16];
    struct ais_req *r = l->q->r;
    int err = s3_xml_begin(x, "ListBucketResult");
    err = err ? err : s3_xml_el(x, "Name", l->q->bck);
    err = err ? err : put_name(l, x, "Prefix", l->prefix);
    if (err == 0 && l->delim[0]) {
        err = put_name(l, x, "Delimiter", l->delim);
    }
    err = err ? err : ais_buf_printf(x, "<MaxKeys>%zu</MaxKeys>", l->max_keys);
    if (err == 0 && l->url) {
        err = s3_xml_el(x, "EncodingType", "url");
    }
    if (err == 0 && l->v2) {
        err = ais_buf_printf(x, "<KeyCount>%zu</KeyCount>", l->count);
        if (err == 0 && s3_query(r, "continuation-token", v, sizeof(v)) == 1) {
            err = s3_xml_el(x, "ContinuationToken", v);
        }
        if (err == 0 && s3_query(r, "start-after", v, sizeof(v)) == 1) {
            err = put_name(l, x, "StartAfter", v);
        }
    } else if (err == 0) {
        err = put_name(l, x, "Marker", after_in);
    }
    err = err ? err : s3_xml_el(x, "IsTruncated", l->truncated ? "true" : "false");
    if (err == 0 && l->truncated && l->v2) {
        char from[sizeof(l->after) + 8], tok[sizeof(from) * 2 + 1];
        int cp = l->last_cp[0] && strcmp(l->last, l->last_cp) == 0;
        snprintf(from, sizeof(from), "%s%s", l->last, cp ? SKIP_SUFFIX : "");
        for (size_t i = 0; from[i] != '\0'; i++) {
            snprintf(tok + 2 * i, 3, "%02x", (unsigned char)from[i]);
        }
        tok[2 * strlen(from)] = '\0';
        err = s3_xml_el(x, "NextContinuationToken", tok);
    } else if (err == 0 && l->truncated && l->delim[0]) {
        err = put_name(l, x, "NextMarker", l->last);
    }
    return err;
}

static void
list_objects(struct s3_rq *q)
{
    struct lst *l = calloc(1, sizeof(*l));
    struct ais_buf body, out;
    char marker[AIS_OBJNAME_BYTES_MAX + 1] = "";
    if (l == NULL) {
        s3_err(q, S3_INTERNAL, "out of memory");
        return;
    }
    l->q = q;
    l->x = &body;
    ais_buf_init(&body, 8u << 20);
    ais_buf_init(&l->cps, 4u << 20);
    ais_buf_init(&out, 12u << 20);
    int rc = list_args(q, l);
    if (rc == 0) {
        (void)s3_query(q->r, "marker", marker, sizeof(marker));
        char am[512];
        if (!q->s->ops->bck_exists(q->s->ops->ctx, q->bck)) {
            s3_err(q, S3_NO_SUCH_BUCKET, NULL);
            rc = -1;
        } else if (q->s->ops->bck_access(q->s->ops->ctx, q->bck, AIS_ACCESS_LIST_OBJS, am,
                                         sizeof(am))) {
            s3_err(q, S3_ACCESS_DENIED, "%s", am);
            rc = -1;
        }
    }
    if (rc == 0 && l->max_keys > 0) {
        rc = list_walk(l);
        if (rc != 0) {
            s3_err_rc(q, rc, "list");
        }
    }
    if (rc == 0) {
        int err = list_head(l, &out, marker);
        err = err ? err : ais_buf_append(&out, body.data ? body.data : "", body.len);
        err = err ? err : ais_buf_append(&out, l->cps.data ? l->cps.data : "", l->cps.len);
        err = err ? err : ais_buf_printf(&out, "</ListBucketResult>");
        if (err != 0) {
            s3_err(q, S3_INTERNAL, "listing too large");
        } else {
            s3_resp_xml(q, 200, &out);
        }
    }
    ais_buf_fini(&body);
    ais_buf_fini(&l->cps);
    ais_buf_fini(&out);
    free(l);
}

/* ---- small sub-resources ---- */

static void
xml_reply(struct s3_rq *q, const char *doc)
{
    struct ais_buf b;
    ais_buf_init(&b, 4096);
    if (ais_buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n%s", doc) != 0) {
        s3_err(q, S3_INTERNAL, "out of memory");
    } else {
        s3_resp_xml(q, 200, &b);
    }
    ais_buf_fini(&b);
}

#define S3_NS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

void
s3_acl_reply(struct s3_rq *q)
{
    xml_reply(q, "<AccessControlPolicy " S3_NS "><Owner><ID>ais</ID><DisplayName>ais"
                 "</DisplayName></Owner><AccessControlList><Grant><Grantee "
                 "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                 "xsi:type=\"CanonicalUser\"><ID>ais</ID><DisplayName>ais</DisplayName>"
                 "</Grantee><Permission>FULL_CONTROL</Permission></Grant>"
                 "</AccessControlList></AccessControlPolicy>");
}

void
s3_tagging_reply(struct s3_rq *q)
{
    xml_reply(q, "<Tagging " S3_NS "><TagSet></TagSet></Tagging>");
}

static void
bucket_get(struct s3_rq *q)
{
    struct ais_req *r = q->r;
    if (!s3_query_has(r, "uploads") && !q->s->ops->bck_exists(q->s->ops->ctx, q->bck)) {
        s3_err(q, S3_NO_SUCH_BUCKET, NULL);
    } else if (s3_query_has(r, "location")) {
        xml_reply(q, "<LocationConstraint " S3_NS "></LocationConstraint>");
    } else if (s3_query_has(r, "versioning")) {
        xml_reply(q, "<VersioningConfiguration " S3_NS "/>");
    } else if (s3_query_has(r, "acl")) {
        s3_acl_reply(q);
    } else if (s3_query_has(r, "uploads")) {
        s3_mpu_list_uploads(q);
    } else if (s3_query_has(r, "tagging") || s3_query_has(r, "policy") ||
               s3_query_has(r, "lifecycle") || s3_query_has(r, "cors") ||
               s3_query_has(r, "website") || s3_query_has(r, "encryption") ||
               s3_query_has(r, "replication") || s3_query_has(r, "object-lock")) {
        s3_err(q, S3_NOT_IMPLEMENTED, "bucket sub-resource not supported");
    } else {
        list_objects(q);
    }
}

void
s3_h_bucket(struct s3_rq *q)
{
    struct ais_req *r = q->r;
    if (ais_req_is(r, "GET")) {
        bucket_get(q);
    } else if (ais_req_is(r, "HEAD")) {
        if (q->s->ops->bck_exists(q->s->ops->ctx, q->bck)) {
            ais_resp_empty(r, 200);
            s3_resp_std(q);
            ais_resp_header(r, "x-amz-bucket-region", "us-east-1");
        } else {
            s3_err(q, S3_NO_SUCH_BUCKET, NULL);
        }
    } else if (ais_req_is(r, "PUT")) {
        if (r != NULL && ais_req_raw_query(r)[0] != '\0') {
            s3_err(q, S3_NOT_IMPLEMENTED, "bucket sub-resource not supported");
            return;
        }
        ais_req_body_buffer(r, 64u << 10, create_done, q);
    } else if (ais_req_is(r, "DELETE")) {
        delete_bucket(q);
    } else if (ais_req_is(r, "POST") && s3_query_has(r, "delete")) {
        s3_h_delete_multi(q);
    } else {
        s3_err(q, S3_METHOD_NOT_ALLOWED, NULL);
    }
}

/* ---- DeleteObjects ---- */

struct dm {
    struct s3_rq *q;
    int quiet;
    size_t n;
    int err;
    struct ais_buf *x;   /* Error entries */
    struct ais_buf *del; /* Deleted entries (dropped when Quiet, which may come last) */
};

static int
dm_item(void *arg, const char *elem, const struct s3_xml_item *it)
{
    struct dm *d = arg;
    if (strcmp(elem, "Quiet") == 0) {
        d->quiet = strcasecmp(it->text, "true") == 0;
        return 0;
    }
    if (strcmp(elem, "Object") != 0) {
        return 0;
    }
    if (it->vals[0] == NULL || ++d->n > LIST_KEYS_MAX) {
        return -EBADMSG;
    }
    const char *key = it->vals[0];
    const char *why = NULL;
    int rc = ais_obj_name_check(key, strlen(key), &why);
    if (rc == 0) {
        rc = s3_obj_delete_one(d->q->s, d->q->bck, key, strlen(key));
    }
    int err = 0;
    if (rc == 0 || rc == -ENOENT) {
        err = ais_buf_printf(d->del, "<Deleted>");
        err = err ? err : s3_xml_el(d->del, "Key", key);
        err = err ? err : ais_buf_printf(d->del, "</Deleted>");
    } else {
        err = ais_buf_printf(d->x, "<Error>");
        err = err ? err : s3_xml_el(d->x, "Key", key);
        err = err ? err : s3_xml_el(d->x, "Code", why ? "InvalidArgument" : "InternalError");
        err = err ? err : s3_xml_el(d->x, "Message", why ? why : ais_strerror(rc));
        err = err ? err : ais_buf_printf(d->x, "</Error>");
    }
    return err ? -ENOMEM : 0;
}

static void
delete_multi_done(struct ais_req *r, void *arg)
{
    struct s3_rq *q = arg;
    size_t len = 0;
    const char *body = ais_req_body(r, &len);
    static const char *const fields[] = {"Key", "VersionId"};
    struct ais_buf x, del;
    ais_buf_init(&x, 8u << 20);
    ais_buf_init(&del, 4u << 20);
    struct dm d = {.q = q, .x = &x, .del = &del};
    int err = s3_xml_begin(&x, "DeleteResult");
    int rc = err ? -ENOMEM : s3_xml_parse(body, len, "Delete", fields, 2, dm_item, &d);
    if (rc == 0 && !d.quiet && del.len > 0 && ais_buf_append(&x, del.data, del.len) != 0) {
        rc = -ENOMEM;
    }
    if (rc == -EBADMSG || (rc == 0 && d.n == 0)) {
        s3_err(q, S3_MALFORMED_XML, NULL);
    } else if (rc != 0) {
        s3_err(q, S3_INTERNAL, "out of memory");
    } else if (ais_buf_printf(&x, "</DeleteResult>") != 0) {
        s3_err(q, S3_INTERNAL, "out of memory");
    } else {
        s3_resp_xml(q, 200, &x);
    }
    ais_buf_fini(&x);
    ais_buf_fini(&del);
}

void
s3_h_delete_multi(struct s3_rq *q)
{
    char msg[512];
    if (!q->s->ops->bck_exists(q->s->ops->ctx, q->bck)) {
        s3_err(q, S3_NO_SUCH_BUCKET, NULL);
        return;
    }
    if (q->s->ops->bck_access(q->s->ops->ctx, q->bck, AIS_ACCESS_DELETE_OBJ, msg, sizeof(msg))) {
        s3_err(q, S3_ACCESS_DENIED, "%s", msg);
        return;
    }
    ais_req_body_buffer(q->r, AIS_S3_XML_BYTES_MAX, delete_multi_done, q);
}
