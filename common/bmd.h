/*
 * Bucket metadata (BMD): versioned, immutable once published, shared by reference count.
 * Each bucket carries its props as the client-facing JSON (api.md §4) plus a parsed subset.
 */
#ifndef AIS_COMMON_BMD_H
#define AIS_COMMON_BMD_H

#include "common/limits.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The props the datapath consults on every request. */
struct ais_bprops {
    char cksum_type[16];
    int validate_warm_get;
    int versioning;
    char ht_origin[256];       /* ht:// buckets: extra.http.original_url (objects = origin+name) */
    int ver_validate_warm_get; /* versioning.validate_warm_get: a remote object's GET checks
                                * the backend's version first */
    int mirror_enabled;
    int mirror_copies; /* 1..AIS_MPATHS_MAX; in effect only when mirror_enabled */
    int ec_enabled;
    int ec_data;               /* ec.data_slices, 1..32 */
    int ec_parity;             /* ec.parity_slices, 1..32 */
    int64_t ec_objsize_limit;  /* ec.objsize_limit: smaller objects are replicated; -1 = always */
    int lru_enabled;           /* lru.enabled: cached objects of a remote bucket may be evicted */
    int64_t lru_dont_evict_ms; /* lru.dont_evict_time; -1 = cluster lru.dont_evict_time */
    uint64_t access;           /* access: AIS_ACCESS_* bits the bucket allows */
};

/* Bucket access bits (api.md §4, AIS's current order). */
#define AIS_ACCESS_GET (1ull << 0)
#define AIS_ACCESS_HEAD_OBJ (1ull << 1)
#define AIS_ACCESS_PUT (1ull << 2)
#define AIS_ACCESS_APPEND (1ull << 3)
#define AIS_ACCESS_DELETE_OBJ (1ull << 4)
#define AIS_ACCESS_MOVE_OBJ (1ull << 5)
#define AIS_ACCESS_PROMOTE (1ull << 6)
#define AIS_ACCESS_UPDATE_OBJ (1ull << 7)
#define AIS_ACCESS_HEAD_BCK (1ull << 8)
#define AIS_ACCESS_LIST_OBJS (1ull << 9)
#define AIS_ACCESS_PATCH (1ull << 10)
#define AIS_ACCESS_SET_ACL (1ull << 11)
#define AIS_ACCESS_LIST_BCKS (1ull << 12)
#define AIS_ACCESS_SHOW_CLUSTER (1ull << 13)
#define AIS_ACCESS_CREATE_BCK (1ull << 14)
#define AIS_ACCESS_DESTROY_BCK (1ull << 15)
#define AIS_ACCESS_MOVE_BCK (1ull << 16)
#define AIS_ACCESS_ADMIN (1ull << 17)
#define AIS_ACCESS_ALL ((1ull << 18) - 1) /* "su": 262143, the default */
#define AIS_ACCESS_RO                                                                              \
    (AIS_ACCESS_GET | AIS_ACCESS_HEAD_OBJ | AIS_ACCESS_HEAD_BCK | AIS_ACCESS_LIST_OBJS)
#define AIS_ACCESS_RW                                                                              \
    (AIS_ACCESS_RO | AIS_ACCESS_PUT | AIS_ACCESS_APPEND | AIS_ACCESS_DELETE_OBJ |                  \
     AIS_ACCESS_MOVE_OBJ)
/* The permission's name ("GET", "PUT", "LIST-OBJECTS", ...) of one bit; "?" for others. */
const char *ais_access_name(uint64_t bit);
/* 0 when p allows every bit of need; else 403 with msg naming the first missing permission. */
int ais_access_check(const struct ais_bprops *p, uint64_t need, const char *display, char *msg,
                     size_t cap);

/* Copies each object of the bucket should have on its target: mirror.copies when enabled, else 1.
 */
static inline unsigned
ais_bprops_copies(const struct ais_bprops *p)
{
    return p->mirror_enabled && p->mirror_copies > 1 ? (unsigned)p->mirror_copies : 1u;
}

struct ais_bck_md {
    char name[AIS_BCKNAME_BYTES_MAX + 1];
    char provider[8];
    char ns[AIS_NS_BYTES_MAX];
    uint64_t bid;
    int64_t created_ns;
    char *props_json; /* full Bprops JSON, owned */
    struct ais_bprops props;
};

struct ais_bmd {
    int64_t version;
    char uuid[40];
    size_t n;
    struct ais_bck_md *bcks;
    int refs; /* atomic; owned by ais_bmd_ref/unref (never copied: see ais_bmd_clone) */
};

struct ais_bmd *ais_bmd_new(void);
struct ais_bmd *ais_bmd_clone(const struct ais_bmd *b);
struct ais_bmd *ais_bmd_ref(struct ais_bmd *b);
void ais_bmd_unref(struct ais_bmd *b);

const struct ais_bck_md *ais_bmd_find(const struct ais_bmd *b, const char *provider, const char *ns,
                                      const char *name);
/*
 * Adds a bucket to an unpublished BMD with default props (cksum_type from config), then applies
 * the optional partial props `patch`. -EEXIST, -ENOSPC, -EINVAL (bad patch; *why set) or -ENOMEM.
 */
__attribute__((warn_unused_result)) int ais_bmd_add(struct ais_bmd *b, const char *provider,
                                                    const char *ns, const char *name,
                                                    const char *cksum_type, const json_t *patch,
                                                    const char **why);
/* Removes a bucket from an unpublished BMD. 0 or -ENOENT. */
int ais_bmd_del(struct ais_bmd *b, const char *provider, const char *ns, const char *name);
/*
 * Applies partial props (BpropsToSet) to a bucket of an unpublished BMD; unknown keys, wrong
 * types and invalid values fail with -EINVAL and a static reason in *why. reset=1 restores
 * defaults first.
 */
__attribute__((warn_unused_result)) int ais_bmd_set_props(struct ais_bmd *b, const char *provider,
                                                          const char *ns, const char *name,
                                                          const json_t *patch, int reset,
                                                          const char *cksum_type, const char **why);
/* Sets one bucket entry directly (used when decoding from the wire). */
__attribute__((warn_unused_result)) int
ais_bmd_put_raw(struct ais_bmd *b, const struct ais_bck_md *bck, const char *props_json);

/* {"name","provider","namespace":{"uuid","name"}} of a bucket. */
json_t *ais_bck_to_json(const struct ais_bck_md *bck);
/* Whole BMD as JSON (what=bmd). */
json_t *ais_bmd_to_json(const struct ais_bmd *b);
__attribute__((warn_unused_result)) int ais_bmd_save(const struct ais_bmd *b, const char *path);
__attribute__((warn_unused_result)) int ais_bmd_load(const char *path, struct ais_bmd **out);

/* Display form "ais://name" or "ais://@uuid#ns/name" into out. */
void ais_bck_display(const char *provider, const char *ns, const char *name, char *out, size_t cap);

#endif
