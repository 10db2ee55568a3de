/*
 * Design notes: a call to every node runs one short-lived thread per node, so one slow or dead
 * node costs the RPC timeout once, not once per node. Node counts are bounded by
 * AIS_NODES_MAX; if a thread cannot be created the call runs inline.
 */
#include "gateway/fanout.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct fan_arg {
    pthread_t th;
    int spawned;
    struct gw *g;
    const struct ais_snode *node;
    gw_node_fn fn;
    void *slot;
};

static void *
fan_one(void *a)
{
    struct fan_arg *f = a;
    f->fn(f->g, f->node, f->slot);
    return NULL;
}

size_t
gw_fanout(struct gw *g, const struct ais_smap *smap, int targets_only, gw_node_fn fn, void *slots,
          size_t slot_size)
{
    struct fan_arg *args = calloc(smap->nnodes ? smap->nnodes : 1, sizeof(*args));
    size_t n = 0;
    if (args == NULL) {
        return 0;
    }
    for (size_t i = 0; i < smap->nnodes; i++) {
        if (targets_only && !smap->nodes[i].is_target) {
            continue;
        }
        struct fan_arg *f = &args[n];
        f->g = g;
        f->node = &smap->nodes[i];
        f->fn = fn;
        f->slot = (char *)slots + n * slot_size;
        f->spawned = pthread_create(&f->th, NULL, fan_one, f) == 0;
        if (!f->spawned) {
            fan_one(f);
        }
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        if (args[i].spawned) {
            pthread_join(args[i].th, NULL);
        }
    }
    free(args);
    return n;
}
