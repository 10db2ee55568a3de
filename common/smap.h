/*
 * Cluster map (Smap): versioned, immutable once published, shared by reference count.
 * Changes are made on a private copy (ais_smap_clone) and published by pointer swap.
 */
#ifndef AIS_COMMON_SMAP_H
#define AIS_COMMON_SMAP_H

#include "common/limits.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Snode flags (api.md §5.1). */
#define AIS_SNODE_NONELECTABLE 1u
#define AIS_SNODE_MAINTENANCE 4u
#define AIS_SNODE_DECOMMISSION 8u

struct ais_snode {
    char id[AIS_DAEMON_ID_BYTES_MAX];
    int is_target;
    char host[AIS_HOST_BYTES_MAX];
    /* intra-cluster address (control, object streams); "" = host */
    char ctrl_host[AIS_HOST_BYTES_MAX];
    uint16_t port;      /* public HTTP */
    uint16_t ctrl_port; /* nng control */
    uint64_t flags;
    uint64_t id_digest; /* XXH64(id, HRW seed) */
};

struct ais_smap {
    int64_t version;
    char uuid[40];
    char creation_time[40];
    char primary_id[AIS_DAEMON_ID_BYTES_MAX];
    size_t nnodes;
    struct ais_snode *nodes; /* proxies and targets, sorted by id */
    int refs;                /* atomic; owned by ais_smap_ref/unref */
};

/* New empty map (version 0) with a fresh uuid. NULL on OOM. */
struct ais_smap *ais_smap_new(void);
/* Deep copy with refs = 1 (for modification before publishing). NULL on OOM. */
struct ais_smap *ais_smap_clone(const struct ais_smap *m);
struct ais_smap *ais_smap_ref(struct ais_smap *m);
/* Drops a reference; frees at zero. Accepts NULL. */
void ais_smap_unref(struct ais_smap *m);

/* Fills id_digest from id. */
void ais_snode_init_digest(struct ais_snode *n);
/* Inserts or replaces (by id) a node in an unpublished map. 0, -ENOSPC or -ENOMEM. */
__attribute__((warn_unused_result)) int ais_smap_put_node(struct ais_smap *m,
                                                          const struct ais_snode *n);
/* Removes a node by id from an unpublished map. 0 or -ENOENT. */
int ais_smap_del_node(struct ais_smap *m, const char *id);
const struct ais_snode *ais_smap_find(const struct ais_smap *m, const char *id);
size_t ais_smap_count(const struct ais_smap *m, int targets);
/* Owning target of an object digest among active targets (not in maintenance); NULL if none. */
const struct ais_snode *ais_smap_hrw_target(const struct ais_smap *m, uint64_t digest);

/* http://host:port of a node into out. */
void ais_snode_url(const struct ais_snode *n, char *out, size_t cap);
/* tcp://host:ctrl_port of a node into out (its intra-cluster address). */
void ais_snode_ctrl_url(const struct ais_snode *n, char *out, size_t cap);
/* The node's intra-cluster address: ctrl_host, or host when that is empty. */
const char *ais_snode_intra_host(const struct ais_snode *n);

/* Snode / Smap JSON as in api.md §5.1-5.2 (new references). */
json_t *ais_snode_to_json(const struct ais_snode *n);
json_t *ais_smap_to_json(const struct ais_smap *m);
/* Parses what ais_smap_to_json produced (for persistence). 0 or AIS_EBADJSON / -ENOMEM. */
__attribute__((warn_unused_result)) int ais_smap_from_json(const json_t *j, struct ais_smap **out);

/* Persists / loads the map as JSON at path (atomic write). */
__attribute__((warn_unused_result)) int ais_smap_save(const struct ais_smap *m, const char *path);
__attribute__((warn_unused_result)) int ais_smap_load(const char *path, struct ais_smap **out);

#endif
