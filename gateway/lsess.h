/*
 * List sessions on the gateway (gateway-internal): per list UUID, each target's names fetched
 * but not yet returned, so a page asks each target only for what the previous page consumed
 * from it, and the merge is a k-way merge of sorted buffers instead of a sort of N pages.
 */
#ifndef AIS_GATEWAY_LSESS_H
#define AIS_GATEWAY_LSESS_H

#include "rpc/rpc.h"

#include <stddef.h>
#include <stdint.h>

struct gw_lsess;
struct gw_lsess_tab;

/* One target's part of a session. */
struct gw_lsess_tgt {
    char id[AIS_DAEMON_ID_BYTES_MAX];
    struct rpc_list_page buf; /* fetched names; entries[pos..buf.n) are not returned yet */
    size_t pos;
    int more;   /* the target has names after the last one fetched */
    char *last; /* last name fetched from it (the next fetch starts after it); NULL = none */
};

/* New table of at most AIS_LIST_SESSIONS_MAX sessions. 0 or -ENOMEM. */
__attribute__((warn_unused_result)) int gw_lsess_tab_new(struct gw_lsess_tab **out);
void gw_lsess_tab_free(struct gw_lsess_tab *t);

/*
 * Takes the session for (uuid, key) whose last page ended at token, for exactly these targets
 * (ids, in order); a missing or mismatching one (other token, key or target set: e.g. the
 * Smap changed) is started fresh with every target positioned after token. The session is
 * the caller's until gw_lsess_give. NULL only on OOM. Thread-safe; a second request for a
 * session in use gets a fresh private one.
 */
struct gw_lsess *gw_lsess_take(struct gw_lsess_tab *t, const char *uuid, const char *key,
                               const char *token, const char *const *ids, size_t n);
/* Target i of a taken session. */
struct gw_lsess_tgt *gw_lsess_tgt(struct gw_lsess *s, size_t i);
/* Appends a fetched page to target i (takes the page's entries; page is left empty). */
__attribute__((warn_unused_result)) int gw_lsess_append(struct gw_lsess *s, size_t i,
                                                        struct rpc_list_page *page);
/*
 * Merges up to limit names (duplicates across targets once) into out (cap >= limit), pointers
 * into the session valid until gw_lsess_give. Returns the count; *more = names remain.
 */
size_t gw_lsess_merge(struct gw_lsess *s, size_t limit, struct rpc_list_entry **out, int *more);
/*
 * Returns the session: kept (with token = the last name returned) when more remain, else
 * dropped. Sessions idle for AIS_LIST_SESSION_IDLE_MS are dropped, the least recently used
 * first when the table is full.
 */
void gw_lsess_give(struct gw_lsess_tab *t, struct gw_lsess *s, const char *token, int more);

#endif
