/*
 * A node's current cluster metadata: the Smap and BMD it serves from, persisted in confdir
 * (.ais.smap, .ais.bmd). Versions only move forward.
 *
 * Readers (every request) take a reference to the current immutable snapshot without waiting
 * for writers: a tiny spinlock covers only the pointer load and the reference increment.
 * Writers are serialised by a separate apply mutex that readers never take; persisting
 * (fsync) happens under a third mutex, never under the reader lock, and on the primary
 * outside its change lock (ais_meta_install + ais_meta_persist).
 */
#ifndef AIS_COMMON_META_H
#define AIS_COMMON_META_H

#include "common/bmd.h"
#include "common/config.h"
#include "common/smap.h"

#include <pthread.h>
#include <stdint.h>

/*
 * One installed change, as handed to the listener: old and new of each map that changed
 * (both NULL for a map that did not change). Borrowed for the duration of the call.
 */
struct ais_meta_change {
    const struct ais_smap *old_smap, *new_smap;
    const struct ais_bmd *old_bmd, *new_bmd;
};

/* Versions a node holds (e.g. after applying a push). */
struct ais_meta_vers {
    int64_t smap;
    int64_t bmd;
};

/*
 * Called once per installed change, serialised and in version order (the apply mutex is
 * held), on the thread that applied it. Must not call ais_meta_install/apply (deadlock);
 * reading the current snapshots is fine.
 */
typedef void (*ais_meta_changed_fn)(void *ctx, const struct ais_meta_change *c);

struct ais_meta {
    int inited;            /* mutexes exist (fini of a zeroed struct is a no-op) */
    int spin;              /* guards loads/stores of the two pointers below only */
    struct ais_smap *smap; /* current snapshots: read via ais_meta_smap/bmd */
    struct ais_bmd *bmd;
    pthread_mutex_t apply_mu; /* serialises installs and listener calls */
    ais_meta_changed_fn fn;
    void *fn_ctx;
    pthread_mutex_t persist_mu; /* serialises writes of the files below */
    int64_t smap_saved, bmd_saved;
    char smap_path[AIS_PATH_BYTES_MAX];
    char bmd_path[AIS_PATH_BYTES_MAX];
};

/* Loads persisted metadata from confdir, or starts empty (version 0). 0 or negative errno. */
__attribute__((warn_unused_result)) int ais_meta_init(struct ais_meta *m, const char *confdir);
/* Frees the snapshots (no other thread may use m). Accepts a zeroed, never-inited m. */
void ais_meta_fini(struct ais_meta *m);
/*
 * Sets the change listener (NULL = none). Call at startup before any concurrent install; the
 * listener sees every later change.
 */
void ais_meta_listen(struct ais_meta *m, ais_meta_changed_fn fn, void *ctx);
/* Current snapshots (new references; never NULL after init). Lock-free for practical purposes
 * (a spinlock around one load and one atomic increment), never blocked by installs or I/O. */
struct ais_smap *ais_meta_smap(struct ais_meta *m);
struct ais_bmd *ais_meta_bmd(struct ais_meta *m);
/* Both current versions (one consistent read). */
void ais_meta_vers(struct ais_meta *m, struct ais_meta_vers *out);
/*
 * Installs smap and/or bmd (references taken; NULL = keep) in memory if strictly newer than
 * the current one, then calls the listener with the (old, new) pairs. Older or equal versions
 * are dropped. No disk I/O. installed (may be NULL) receives the versions now current.
 * Returns a bit set: 1 smap changed, 2 bmd changed.
 */
int ais_meta_install(struct ais_meta *m, struct ais_smap *smap, struct ais_bmd *bmd,
                     struct ais_meta_vers *installed);
/*
 * Writes the current snapshots that are newer than what was last written (atomic replace,
 * fsync). Never holds the reader lock or the apply mutex. 0 or the first error (logged).
 */
int ais_meta_persist(struct ais_meta *m);
/* ais_meta_install, then ais_meta_persist when anything changed. Same return as install. */
int ais_meta_apply(struct ais_meta *m, struct ais_smap *smap, struct ais_bmd *bmd,
                   struct ais_meta_vers *installed);

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

#endif
