#include "common/stats.h"

#include "common/util.h"

#include <stdio.h>
#include <string.h>

static const char *const names[AIS_STAT_COUNT] = {
    [AIS_STAT_GET_N] = "get.n",
    [AIS_STAT_PUT_N] = "put.n",
    [AIS_STAT_HEAD_N] = "head.n",
    [AIS_STAT_DEL_N] = "del.n",
    [AIS_STAT_LST_N] = "lst.n",
    [AIS_STAT_GET_SIZE] = "get.size",
    [AIS_STAT_PUT_SIZE] = "put.size",
    [AIS_STAT_GET_NS] = "get.ns.total",
    [AIS_STAT_PUT_NS] = "put.ns.total",
    [AIS_STAT_ERR_GET_N] = "err.get.n",
    [AIS_STAT_ERR_PUT_N] = "err.put.n",
    [AIS_STAT_ERR_HEAD_N] = "err.head.n",
    [AIS_STAT_ERR_DEL_N] = "err.del.n",
    [AIS_STAT_ERR_LST_N] = "err.lst.n",
    [AIS_STAT_ERR_CKSUM_N] = "err.cksum.n",
    [AIS_STAT_REDIRECT_N] = "redirect.n",
    [AIS_STAT_KEEPALIVE_N] = "keepalive.n",
    [AIS_STAT_GFN_N] = "gfn.n",
};

void
ais_stats_init(struct ais_stats *s)
{
    memset(s, 0, sizeof(*s));
    s->start_ns = ais_now_ns();
}

json_t *
ais_stats_tracker_json(const struct ais_stats *s)
{
    json_t *t = json_object();
    char v[24];
    for (int i = 0; i < AIS_STAT_COUNT; i++) {
        snprintf(v, sizeof(v), "%lld", (long long)__atomic_load_n(&s->v[i], __ATOMIC_RELAXED));
        json_object_set_new(t, names[i], json_pack("{s:s}", "v", v));
    }
    snprintf(v, sizeof(v), "%lld", (long long)(ais_now_ns() - s->start_ns));
    json_object_set_new(t, "up.ns.time", json_pack("{s:s}", "v", v));
    return t;
}
