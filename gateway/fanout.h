/* Parallel calls to cluster nodes (gateway-internal). */
#ifndef AIS_GATEWAY_FANOUT_H
#define AIS_GATEWAY_FANOUT_H

#include "gateway/gw_int.h"

#include <stddef.h>

/* Called once per node on its own thread with that node's slot. */
typedef void (*gw_node_fn)(struct gw *g, const struct ais_snode *node, void *slot);

/*
 * Calls fn for every node (targets only if targets_only) in parallel and waits for all.
 * slots holds one slot_size element per node called, in Smap order (targets first when the
 * caller sizes it by ais_smap_count). Returns the number of nodes called.
 */
size_t gw_fanout(struct gw *g, const struct ais_smap *smap, int targets_only, gw_node_fn fn,
                 void *slots, size_t slot_size);

#endif
