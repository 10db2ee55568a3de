/*
 * In-memory member indexes of hot TAR shards (used by arch.c): member name -> (data offset,
 * size), keyed by the shard (provider/ns/bucket/object) and the identity of its version (the
 * tarix key: size, mtime, inode, checksum, version), so an archpath read of a shard read before
 * is one hash lookup instead of a walk through the stored %ix file, and an overwritten shard
 * can never be answered from the old members. Bounded by AIS_ARCH_IXC_BYTES_MAX (all entries)
 * and AIS_ARCH_IXC_N_MAX shards; least recently used goes first. Thread-safe.
 */
#ifndef AIS_TARGET_IXCACHE_H
#define AIS_TARGET_IXCACHE_H

#include "target/tarix.h"

#include <stddef.h>
#include <stdint.h>

struct tgt_ixc;
struct tgt_ixc_build;

/* 0 and *out, or -ENOMEM. Free with tgt_ixc_free (NULL ok). */
__attribute__((warn_unused_result)) int tgt_ixc_new(struct tgt_ixc **out);
void tgt_ixc_free(struct tgt_ixc *c);
/*
 * Member name (as normalized by the caller) of shard at version k: 1 found (*off, *size),
 * 0 absent (the cached index has no such member), -ENOENT when the shard is not cached.
 */
int tgt_ixc_find(struct tgt_ixc *c, const char *shard, const struct tgt_tarix_key *k,
                 const char *name, uint64_t *off, uint64_t *size);
/* A new index being built (NULL on OOM). Free with tgt_ixc_build_free unless inserted. */
struct tgt_ixc_build *tgt_ixc_build_new(void);
/* Adds a member (the first of a name wins). 0, or -E2BIG past the per-shard bound / -ENOMEM. */
int tgt_ixc_build_add(struct tgt_ixc_build *b, const char *name, uint64_t off, uint64_t size);
void tgt_ixc_build_free(struct tgt_ixc_build *b);
/* Caches b as the index of shard at version k (replacing an older one); takes b. */
void tgt_ixc_insert(struct tgt_ixc *c, const char *shard, const struct tgt_tarix_key *k,
                    struct tgt_ixc_build *b);
/* Lookups answered from the cache so far. */
uint64_t tgt_ixc_hits(struct tgt_ixc *c);

#endif
