/*
 * Design notes: like the Smap, the BMD is copied whole on change and swapped by pointer. Props
 * are stored as the exact JSON clients see, so HEAD bucket is a string copy; a small parsed
 * subset (struct ais_bprops) serves the datapath. A props patch is validated against the
 * default props tree: every key must exist there with the same JSON kind.
 */
#include "common/bmd.h"

#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const cksum_types[] = {"none",   "xxhash", "xxhash2", "md5",
                                          "crc32c", "sha256", "sha512",  NULL};

struct ais_bmd *
ais_bmd_new(void)
{
    struct ais_bmd *b = calloc(1, sizeof(*b));
    if (b != NULL) {
        ais_rand_id(b->uuid, 32);
        b->refs = 1;
    }
    return b;
}

static void
bck_fini(struct ais_bck_md *k)
{
    free(k->props_json);
    k->props_json = NULL;
}

struct ais_bmd *
ais_bmd_clone(const struct ais_bmd *b)
{
    struct ais_bmd *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    /* Field by field: b->refs may be changing on other threads (never copy it). */
    c->version = b->version;
    memcpy(c->uuid, b->uuid, sizeof(c->uuid));
    c->refs = 1;
    if (b->n > 0) {
        c->bcks = calloc(b->n, sizeof(*c->bcks));
        if (c->bcks == NULL) {
            free(c);
            return NULL;
        }
    }
    for (size_t i = 0; i < b->n; i++) {
        c->bcks[i] = b->bcks[i];
        c->bcks[i].props_json = strdup(b->bcks[i].props_json);
        c->n++;
        if (c->bcks[i].props_json == NULL) {
            ais_bmd_unref(c);
            return NULL;
        }
    }
    return c;
}

struct ais_bmd *
ais_bmd_ref(struct ais_bmd *b)
{
    if (b != NULL) {
        __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
    }
    return b;
}

void
ais_bmd_unref(struct ais_bmd *b)
{
    if (b == NULL || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) != 0) {
        return;
    }
    for (size_t i = 0; i < b->n; i++) {
        bck_fini(&b->bcks[i]);
    }
    free(b->bcks);
    free(b);
}

static struct ais_bck_md *
find_mut(const struct ais_bmd *b, const char *provider, const char *ns, const char *name)
{
    for (size_t i = 0; b != NULL && i < b->n; i++) {
        struct ais_bck_md *k = &b->bcks[i];
        if (strcmp(k->name, name) == 0 && strcmp(k->provider, provider) == 0 &&
            strcmp(k->ns, ns) == 0) {
            return k;
        }
    }
    return NULL;
}

const struct ais_bck_md *
ais_bmd_find(const struct ais_bmd *b, const char *provider, const char *ns, const char *name)
{
    return find_mut(b, provider, ns, name);
}

static json_t *
default_props(const struct ais_bck_md *k, const char *cksum_type)
{
    char bid[24], created[24];
    snprintf(bid, sizeof(bid), "%llu", (unsigned long long)k->bid);
    snprintf(created, sizeof(created), "%lld", (long long)k->created_ns);
    json_t *p =
        json_pack("{s:s, s:{s:s, s:s}, "
                  "s:{s:s, s:b, s:b, s:b, s:b}, "
                  "s:{s:s, s:i, s:i, s:i, s:i, s:i, s:b, s:b}, "
                  "s:{s:i, s:i, s:b}, s:{s:s, s:s, s:b}, "
                  "s:s, s:s, s:s, s:s, s:{s:b, s:b, s:b}}",
                  "provider", k->provider, "write_policy", "data", "", "md", "", "checksum", "type",
                  cksum_type, "validate_cold_get", 1, "validate_warm_get", 0, "validate_obj_move",
                  0, "enable_read_range", 0, "ec", "compression", "never", "bundle_multiplier", 2,
                  "objsize_limit", 262144, "data_slices", 1, "parity_slices", 1, "burst_buffer",
                  128, "enabled", 0, "disk_only", 0, "mirror", "copies", 2, "burst_buffer", 128,
                  "enabled", 0, "lru", "dont_evict_time", "2h", "capacity_upd_time", "10m",
                  "enabled", 1, "access", "262143", "features", "0", "bid", bid, "created", created,
                  "versioning", "enabled", 1, "validate_warm_get", 0, "synchronize", 0);
    if (p != NULL && strcmp(k->provider, "ht") == 0) {
        /* An HTTP(S) origin: where the bucket's objects come from (set at create). */
        json_object_set_new(p, "extra", json_pack("{s:{s:s}}", "http", "original_url", ""));
    }
    return p;
}

/* The reason naming the offending property: *why must stay valid after the call and callers
 * read it on the same thread right away, so a per-thread buffer does. */
static _Thread_local char patch_why[AIS_BCKNAME_BYTES_MAX * 2 + 96];

static int
patch_refuse(const char *prefix, const char *key, const char *what, const char **why)
{
    snprintf(patch_why, sizeof(patch_why), "%s bucket property \"%s%s\"", what, prefix, key);
    *why = patch_why;
    return -EINVAL;
}

/* Checks that every key of patch exists in ref with the same kind, recursively; prefix is the
 * dotted path of patch ("" at the top). */
static int
patch_check(const json_t *ref, const json_t *patch, const char *prefix, const char **why)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)patch, key, val)
    {
        json_t *r = json_object_get(ref, key);
        if (r == NULL) {
            return patch_refuse(prefix, key, "unknown", why);
        }
        if (prefix[0] == '\0' && (strcmp(key, "provider") == 0 || strcmp(key, "bid") == 0 ||
                                  strcmp(key, "created") == 0)) {
            return patch_refuse(prefix, key, "read-only (provider, bid, created)", why);
        }
        if (json_is_object(r) != json_is_object(val) ||
            (json_is_boolean(r) && !json_is_boolean(val)) ||
            (json_is_integer(r) && !json_is_integer(val)) ||
            (json_is_string(r) && !json_is_string(val))) {
            return patch_refuse(prefix, key, "wrong JSON type for", why);
        }
        char sub[64];
        if (json_is_object(r) && snprintf(sub, sizeof(sub), "%s%s.", prefix, key) > 0 &&
            patch_check(r, val, sub, why) != 0) {
            return -EINVAL;
        }
    }
    return 0;
}

/* lru: absent (older BMDs) means enabled with the cluster's dont_evict_time. */
static int
lru_parse(const json_t *p, struct ais_bprops *out, const char **why)
{
    const json_t *lru = json_object_get(p, "lru");
    const json_t *en = json_object_get(lru, "enabled");
    const json_t *dt = json_object_get(lru, "dont_evict_time");
    int64_t ms = -1;
    if (dt != NULL &&
        (!json_is_string(dt) || ais_duration_parse_ms(json_string_value(dt), &ms) != 0)) {
        *why = "lru.dont_evict_time must be a duration (\"2h\", \"90m\", \"30s\")";
        return -EINVAL;
    }
    out->lru_enabled = en == NULL || json_is_true(en);
    out->lru_dont_evict_ms = ms;
    return 0;
}

static int access_parse(const json_t *p, struct ais_bprops *out, const char **why);

static int
props_parse(const json_t *p, struct ais_bprops *out, const char **why)
{
    const char *ct = json_string_value(json_object_get(json_object_get(p, "checksum"), "type"));
    int ok = 0;
    for (size_t i = 0; ct != NULL && cksum_types[i] != NULL; i++) {
        ok |= strcmp(ct, cksum_types[i]) == 0;
    }
    if (!ok) {
        *why = "invalid checksum type (none, xxhash, xxhash2, md5, crc32c, sha256, sha512)";
        return -EINVAL;
    }
    json_int_t copies = json_integer_value(json_object_get(json_object_get(p, "mirror"), "copies"));
    if (copies < 1 || copies > AIS_MPATHS_MAX) {
        *why = "mirror.copies must be between 1 and 64";
        return -EINVAL;
    }
    const json_t *ec = json_object_get(p, "ec");
    json_int_t d = json_integer_value(json_object_get(ec, "data_slices"));
    json_int_t par = json_integer_value(json_object_get(ec, "parity_slices"));
    json_int_t lim = json_integer_value(json_object_get(ec, "objsize_limit"));
    if (d < 1 || d > 32 || par < 1 || par > 32) {
        *why = "ec.data_slices and ec.parity_slices must be between 1 and 32";
        return -EINVAL;
    }
    if (lim < -1) {
        *why = "ec.objsize_limit must be -1 (always replicate), 0 (always slice) or a size";
        return -EINVAL;
    }
    out->ec_enabled = json_is_true(json_object_get(ec, "enabled"));
    out->ec_data = (int)d;
    out->ec_parity = (int)par;
    out->ec_objsize_limit = (int64_t)lim;
    snprintf(out->cksum_type, sizeof(out->cksum_type), "%s", ct);
    out->validate_warm_get =
        json_is_true(json_object_get(json_object_get(p, "checksum"), "validate_warm_get"));
    out->versioning = json_is_true(json_object_get(json_object_get(p, "versioning"), "enabled"));
    out->ver_validate_warm_get =
        json_is_true(json_object_get(json_object_get(p, "versioning"), "validate_warm_get"));
    out->mirror_enabled = json_is_true(json_object_get(json_object_get(p, "mirror"), "enabled"));
    out->mirror_copies = (int)copies;
    const char *prov = json_string_value(json_object_get(p, "provider"));
    const char *ou = json_string_value(
        json_object_get(json_object_get(json_object_get(p, "extra"), "http"), "original_url"));
    out->ht_origin[0] = '\0';
    if (prov != NULL && strcmp(prov, "ht") == 0) {
        if (ou == NULL || (strncmp(ou, "http://", 7) != 0 && strncmp(ou, "https://", 8) != 0) ||
            strlen(ou) >= sizeof(out->ht_origin)) {
            *why = "an ht:// bucket needs extra.http.original_url: its origin, an http:// or "
                   "https:// URL (at most 255 bytes) that object names are appended to";
            return -EINVAL;
        }
        snprintf(out->ht_origin, sizeof(out->ht_origin), "%s", ou);
    }
    int rc = access_parse(p, out, why);
    return rc ? rc : lru_parse(p, out, why);
}

static const char *const access_names[] = {
    "GET",           "HEAD-OBJECT",  "PUT",           "APPEND",
    "DELETE-OBJECT", "MOVE-OBJECT",  "PROMOTE",       "UPDATE-OBJECT",
    "HEAD-BUCKET",   "LIST-OBJECTS", "PATCH",         "SET-ACL",
    "LIST-BUCKETS",  "SHOW-CLUSTER", "CREATE-BUCKET", "DESTROY-BUCKET",
    "MOVE-BUCKET",   "ADMIN"};

const char *
ais_access_name(uint64_t bit)
{
    for (size_t i = 0; i < sizeof(access_names) / sizeof(access_names[0]); i++) {
        if (bit == (1ull << i)) {
            return access_names[i];
        }
    }
    return "?";
}

int
ais_access_check(const struct ais_bprops *p, uint64_t need, const char *display, char *msg,
                 size_t cap)
{
    uint64_t miss = need & ~p->access;
    if (miss == 0) {
        return 0;
    }
    snprintf(msg, cap, "access denied: bucket %s does not allow %s (access %llu)", display,
             ais_access_name(miss & -miss), (unsigned long long)p->access);
    return 403;
}

/* "access": a decimal string (as AIS stores it); absent (older BMDs) = everything. */
static int
access_parse(const json_t *p, struct ais_bprops *out, const char **why)
{
    const json_t *a = json_object_get(p, "access");
    const char *s = json_string_value(a);
    char *end = NULL;
    unsigned long long v = s ? strtoull(s, &end, 10) : AIS_ACCESS_ALL;
    if (a != NULL && (s == NULL || s[0] == '\0' || *end != '\0' || v > AIS_ACCESS_ALL)) {
        *why = "access must be \"ro\", \"rw\", \"su\" or a decimal bit mask (at most 262143)";
        return -EINVAL;
    }
    out->access = (uint64_t)v;
    return 0;
}

/* A patch's "access" as clients send it ("ro", "rw", "su", a number) in the stored form. */
static json_t *
access_normalize(const json_t *patch)
{
    json_t *c = json_deep_copy(patch);
    const json_t *a = json_object_get(c, "access");
    const char *s = json_string_value(a);
    long long v = -1;
    if (json_is_integer(a)) {
        v = json_integer_value(a);
    } else if (s != NULL) {
        v = strcmp(s, "ro") == 0   ? (long long)AIS_ACCESS_RO
            : strcmp(s, "rw") == 0 ? (long long)AIS_ACCESS_RW
            : strcmp(s, "su") == 0 ? (long long)AIS_ACCESS_ALL
                                   : -1;
    }
    if (c != NULL && v >= 0) {
        char buf[24];
        snprintf(buf, sizeof(buf), "%lld", v);
        json_object_set_new(c, "access", json_string(buf));
    }
    return c;
}

/* Computes k's props from (reset ? defaults : current) + patch; replaces on success. */
static int
props_apply(struct ais_bck_md *k, const json_t *patch, int reset, const char *cksum_type,
            const char **why)
{
    json_t *p = (reset || k->props_json == NULL) ? default_props(k, cksum_type)
                                                 : json_loads(k->props_json, 0, NULL);
    struct ais_bprops bp;
    int err = p ? 0 : -ENOMEM;
    json_t *pn = NULL;
    if (err == 0 && patch != NULL && !json_is_null(patch)) {
        if (!json_is_object(patch)) {
            *why = "bucket props must be a JSON object";
            err = -EINVAL;
        } else {
            pn = access_normalize(patch);
            err = pn ? patch_check(p, pn, "", why) : -ENOMEM;
        }
        if (err == 0 && json_object_update_recursive(p, pn) != 0) {
            err = -ENOMEM;
        }
    }
    json_decref(pn);
    if (err == 0) {
        err = props_parse(p, &bp, why);
    }
    char *s = err == 0 ? ais_json_dumps(p) : NULL;
    if (err == 0 && (s == NULL || strlen(s) > AIS_BPROPS_BYTES_MAX)) {
        *why = "bucket props too large";
        err = s ? -E2BIG : -ENOMEM;
    }
    json_decref(p);
    if (err != 0) {
        free(s);
        return err;
    }
    free(k->props_json);
    k->props_json = s;
    k->props = bp;
    return 0;
}

int
ais_bmd_add(struct ais_bmd *b, const char *provider, const char *ns, const char *name,
            const char *cksum_type, const json_t *patch, const char **why)
{
    if (find_mut(b, provider, ns, name) != NULL) {
        return -EEXIST;
    }
    if (b->n >= AIS_BUCKETS_MAX) {
        *why = "too many buckets";
        return -ENOSPC;
    }
    struct ais_bck_md k;
    memset(&k, 0, sizeof(k));
    snprintf(k.name, sizeof(k.name), "%s", name);
    snprintf(k.provider, sizeof(k.provider), "%s", provider);
    snprintf(k.ns, sizeof(k.ns), "%s", ns);
    k.bid = ais_rand_u64() >> 1;
    k.created_ns = ais_now_ns();
    int err = props_apply(&k, patch, 1, cksum_type, why);
    if (err != 0) {
        return err;
    }
    struct ais_bck_md *v = realloc(b->bcks, (b->n + 1) * sizeof(*v));
    if (v == NULL) {
        bck_fini(&k);
        return -ENOMEM;
    }
    v[b->n++] = k;
    b->bcks = v;
    return 0;
}

int
ais_bmd_del(struct ais_bmd *b, const char *provider, const char *ns, const char *name)
{
    struct ais_bck_md *k = find_mut(b, provider, ns, name);
    if (k == NULL) {
        return -ENOENT;
    }
    bck_fini(k);
    size_t i = (size_t)(k - b->bcks);
    memmove(&b->bcks[i], &b->bcks[i + 1], (b->n - i - 1) * sizeof(*k));
    b->n--;
    return 0;
}

int
ais_bmd_set_props(struct ais_bmd *b, const char *provider, const char *ns, const char *name,
                  const json_t *patch, int reset, const char *cksum_type, const char **why)
{
    struct ais_bck_md *k = find_mut(b, provider, ns, name);
    if (k == NULL) {
        return -ENOENT;
    }
    return props_apply(k, patch, reset, cksum_type, why);
}

int
ais_bmd_put_raw(struct ais_bmd *b, const struct ais_bck_md *bck, const char *props_json)
{
    const char *why = NULL;
    json_t *p = json_loads(props_json, 0, NULL);
    struct ais_bck_md k = *bck;
    int err = p ? props_parse(p, &k.props, &why) : AIS_EBADJSON;
    json_decref(p);
    if (err != 0) {
        return AIS_EBADMSG;
    }
    k.props_json = strdup(props_json);
    struct ais_bck_md *v = k.props_json ? realloc(b->bcks, (b->n + 1) * sizeof(*v)) : NULL;
    if (v == NULL) {
        free(k.props_json);
        return -ENOMEM;
    }
    v[b->n++] = k;
    b->bcks = v;
    return 0;
}

static void
ns_split(const char *ns, char *uuid, size_t ucap, char *name, size_t ncap)
{
    /* "@uuid#name" or "#name" */
    const char *hash = strchr(ns, '#');
    uuid[0] = name[0] = '\0';
    if (ns[0] == '\0' || hash == NULL) {
        return;
    }
    if (ns[0] == '@') {
        snprintf(uuid, ucap, "%.*s", (int)(hash - ns - 1), ns + 1);
    }
    snprintf(name, ncap, "%s", hash + 1);
}

json_t *
ais_bck_to_json(const struct ais_bck_md *k)
{
    char uuid[AIS_NS_BYTES_MAX], nsname[AIS_NS_BYTES_MAX];
    ns_split(k->ns, uuid, sizeof(uuid), nsname, sizeof(nsname));
    return json_pack("{s:s, s:s, s:{s:s, s:s}}", "name", k->name, "provider", k->provider,
                     "namespace", "uuid", uuid, "name", nsname);
}

json_t *
ais_bmd_to_json(const struct ais_bmd *b)
{
    json_t *arr = json_array();
    char ver[24];
    for (size_t i = 0; i < b->n; i++) {
        const struct ais_bck_md *k = &b->bcks[i];
        json_t *j = ais_bck_to_json(k);
        json_object_set_new(j, "ns", json_string(k->ns));
        json_object_set_new(j, "props", json_loads(k->props_json, 0, NULL));
        json_object_set_new(j, "bid", ais_json_u64(k->bid));
        json_object_set_new(j, "created", json_integer(k->created_ns));
        json_array_append_new(arr, j);
    }
    snprintf(ver, sizeof(ver), "%lld", (long long)b->version);
    return json_pack("{s:s, s:s, s:o}", "version", ver, "uuid", b->uuid, "buckets", arr);
}

static int
bck_from_json(const json_t *j, struct ais_bmd *b)
{
    const char *name = NULL, *prov = NULL, *ns = NULL;
    json_t *props = NULL;
    json_int_t created = 0;
    if (json_unpack((json_t *)j, "{s:s, s:s, s:s, s:o, s:I}", "name", &name, "provider", &prov,
                    "ns", &ns, "props", &props, "created", &created) != 0 ||
        strlen(name) > AIS_BCKNAME_BYTES_MAX || strlen(prov) >= 8 ||
        strlen(ns) >= AIS_NS_BYTES_MAX) {
        return AIS_EBADJSON;
    }
    struct ais_bck_md k;
    memset(&k, 0, sizeof(k));
    strcpy(k.name, name);
    strcpy(k.provider, prov);
    strcpy(k.ns, ns);
    k.created_ns = created;
    k.bid = strtoull(json_string_value(json_object_get(props, "bid")) ?: "0", NULL, 10);
    char *s = ais_json_dumps(props);
    int err = s ? ais_bmd_put_raw(b, &k, s) : -ENOMEM;
    free(s);
    return err;
}

static int
bmd_from_json(const json_t *j, struct ais_bmd **out)
{
    const char *ver = NULL, *uuid = NULL;
    json_t *arr = NULL, *it;
    size_t i;
    if (json_unpack((json_t *)j, "{s:s, s:s, s:o}", "version", &ver, "uuid", &uuid, "buckets",
                    &arr) != 0 ||
        !json_is_array(arr)) {
        return AIS_EBADJSON;
    }
    struct ais_bmd *b = ais_bmd_new();
    if (b == NULL) {
        return -ENOMEM;
    }
    b->version = strtoll(ver, NULL, 10);
    snprintf(b->uuid, sizeof(b->uuid), "%s", uuid);
    json_array_foreach(arr, i, it)
    {
        int err = bck_from_json(it, b);
        if (err != 0) {
            ais_bmd_unref(b);
            return err;
        }
    }
    *out = b;
    return 0;
}

int
ais_bmd_save(const struct ais_bmd *b, const char *path)
{
    json_t *j = ais_bmd_to_json(b);
    int err = ais_json_save_file(path, j);
    json_decref(j);
    return err;
}

int
ais_bmd_load(const char *path, struct ais_bmd **out)
{
    json_t *j = NULL;
    int err = ais_json_load_file(path, AIS_RPC_MSG_BYTES_MAX, &j);
    if (err == 0) {
        err = bmd_from_json(j, out);
        json_decref(j);
    }
    return err;
}

void
ais_bck_display(const char *provider, const char *ns, const char *name, char *out, size_t cap)
{
    if (ns[0] == '\0') {
        snprintf(out, cap, "%s://%s", provider, name);
    } else {
        snprintf(out, cap, "%s://%s/%s", provider, ns, name);
    }
}
