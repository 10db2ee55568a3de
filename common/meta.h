/*
 * A node's current cluster metadata: the Smap and BMD it serves from, persisted in confdir
 * (.ais.smap, .ais.bmd). Versions only move forward. Thread-safe.
 */
#ifndef AIS_COMMON_META_H
#define AIS_COMMON_META_H

#include "common/bmd.h"
#include "common/config.h"
#include "common/smap.h"

#include <pthread.h>

struct ais_meta {
    pthread_mutex_t mu;
    struct ais_smap *smap;
    struct ais_bmd *bmd;
    char smap_path[AIS_PATH_BYTES_MAX];
    char bmd_path[AIS_PATH_BYTES_MAX];
};

/* Loads persisted metadata from confdir, or starts empty (version 0). 0 or negative errno. */
__attribute__((warn_unused_result)) int ais_meta_init(struct ais_meta *m, const char *confdir);
void ais_meta_fini(struct ais_meta *m);
/* Current snapshots (new references; never NULL after init). */
struct ais_smap *ais_meta_smap(struct ais_meta *m);
struct ais_bmd *ais_meta_bmd(struct ais_meta *m);
/*
 * Installs smap and/or bmd (references taken; NULL = keep) if strictly newer, persisting them.
 * Older or equal versions are dropped. *old_bmd (may be NULL) receives the replaced BMD
 * reference when the BMD changed, so the caller can act on the difference.
 * Returns a bit set: 1 smap changed, 2 bmd changed.
 */
int ais_meta_apply(struct ais_meta *m, struct ais_smap *smap, struct ais_bmd *bmd,
                   struct ais_bmd **old_bmd);

#endif

/*
 * Answers the what= queries every node shares: smap, bmd, config, snode. NULL for any other
 * what (the caller handles its own, e.g. stats). New reference.
 */
json_t *ais_meta_query_json(struct ais_meta *m, const struct ais_config *cfg,
                            const struct ais_snode *self, const char *what);

/*
 * The node's persistent identity: preset (from config/flags) if non-empty, else the id saved
 * in <confdir>/.ais.daemon_id, else a new random one (prefix letter + 7 chars) that is saved.
 * Fills self (id, role, host, ports, digest). 0 or negative errno.
 */
__attribute__((warn_unused_result)) int ais_node_self_init(const struct ais_config *cfg,
                                                           struct ais_snode *self);
