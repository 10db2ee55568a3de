/*
 * Capacity and LRU (AIS space/): watermarks of the cluster config `space` section, the
 * out-of-space refusal of PUTs and the "lru" job that evicts cached objects of remote buckets.
 *
 * A target runs one capacity monitor: every lru.capacity_upd_time (and soon after a PUT finds
 * its mountpath at or above space.highwm) it reads each available mountpath's usage; a
 * mountpath at or above highwm starts an LRU job (kind "lru", one at a time) that evicts the
 * least recently accessed objects of evictable buckets on it until it is at space.lowwm.
 * Evictable: provider other than "ais" (remote buckets: their objects are cached copies of
 * backend data) with bucket prop lru.enabled and no EC; an ais:// object may be the only copy
 * and is never evicted. Objects accessed within lru.dont_evict_time stay.
 *
 * The selection engine (sp_lru_run) works through a small ops table so tests can fake the
 * filesystem; the target's monitor plugs storage into it.
 */
#ifndef AIS_SPACE_SPACE_H
#define AIS_SPACE_SPACE_H

#include "common/bmd.h"
#include "common/config.h"
#include "common/meta.h"
#include "storage/storage.h"
#include "xact/xact.h"

#include <stddef.h>
#include <stdint.h>

/* Candidates one LRU pass keeps (its N oldest): bounds the job's memory whatever the bucket
 * sizes (names are allocated per candidate, at most AIS_OBJNAME_BYTES_MAX each). */
#define SP_LRU_BATCH_MAX 4096
/* Passes of one LRU job: each walks the evictable buckets once and evicts its batch. */
#define SP_LRU_PASSES_MAX 64
/* Names per listing page of the walk. */
#define SP_LRU_PAGE 1000
/* A PUT re-reads its mountpath's usage (statvfs) when the cached reading is older than this. */
#define SP_PUT_REFRESH_MS 100
/* The monitor re-reads the capacity period at least this often (a runtime change takes effect). */
#define SP_TICK_MS 1000
/* Capacity checks triggered by PUTs over highwm: at most one per this period. */
#define SP_KICK_MIN_MS 1000
/* sp_stop waits this long for a running LRU job to end after its abort. */
#define SP_STOP_WAIT_MS 30000

/* What a target lends the space service; borrowed for its lifetime. */
struct sp_env {
    const struct ais_config *cfg;
    struct ais_meta *meta;
    struct st_mpaths *mp;
    struct xa_reg *xreg;
};

struct sp;

/* Starts the capacity monitor thread. 0 and *out, or negative errno (-ENOMEM, thread). */
__attribute__((warn_unused_result)) int sp_start(const struct sp_env *env, struct sp **out);
/*
 * Stops the monitor, aborts a running LRU job and waits for it (SP_STOP_WAIT_MS), frees.
 * Call before the mountpaths and the job registry go. Accepts NULL.
 */
void sp_stop(struct sp *s);

/*
 * Out-of-space check of a PUT of the object with this digest, before any byte is written: the
 * usage of the mountpath HRW picks for it (re-read when older than SP_PUT_REFRESH_MS). 0, or
 * -ENOSPC with msg ("mountpath /x is 96% full (out_of_space 95%)"). Also asks the monitor for
 * an early check (rate-limited) when the mountpath is at or above highwm. Thread-safe, never
 * blocks on I/O beyond one statvfs.
 */
__attribute__((warn_unused_result)) int sp_put_check(struct sp *s, uint64_t digest, char *msg,
                                                     size_t cap);

/*
 * Starts an LRU job now (job start request, kind "lru") over every available mountpath: it
 * evicts only where usage is above lowwm. id may be NULL/"" (new id). 0, -EBUSY (one runs),
 * -EAGAIN, -ENOMEM or -EEXIST (as xa_job_start_id).
 */
__attribute__((warn_unused_result)) int sp_lru_start(struct sp *s, const char *id,
                                                     char id_out[XA_ID_BYTES]);

/*
 * Records a read of the object open on fd: sets its atime to now (mtime kept), so LRU order
 * follows reads also on relatime/noatime mounts. For GETs of remote-bucket objects. Cheap
 * (one futimens); errors are ignored (the order is then only less exact).
 */
void sp_obj_touch(int fd);

/* 1 if LRU may evict objects of this bucket (see the top of this header), else 0. */
int sp_bck_evictable(const struct ais_bck_md *k);

/* ---- the selection engine (sp_lru_run), with the layer below as ops ---- */

struct sp_lru_ops {
    /* Size and free space of mountpath slot (as st_mpaths_capacity). 0 or negative errno. */
    int (*capacity)(void *ctx, size_t slot, uint64_t *total_bytes, uint64_t *avail_bytes);
    /*
     * Calls fn(fctx, name, md) for every object of b, md with size, atime, inode, mtime and
     * slot; fn's non-zero return stops the walk and is returned. 0 or negative errno (-ENOENT:
     * the bucket has nothing here, taken as empty).
     */
    int (*walk)(void *ctx, const struct st_bck *b, st_list_fn fn, void *fctx);
    /* Mirrored buckets: mask of the slots holding a copy. May be NULL (md's slot only). */
    int (*copies)(void *ctx, const struct st_bck *b, const char *name, uint64_t *slots);
    /*
     * Removes the object (every copy of this version) if the file is still the one md
     * describes. 0, -ESTALE or -ENOENT (replaced or gone meanwhile: skipped), negative errno.
     */
    int (*evict)(void *ctx, const struct st_bck *b, const char *name, const struct st_obj_md *md);
    /* 1 when the job was asked to stop. May be NULL. */
    int (*aborted)(void *ctx);
};

struct sp_lru_args {
    const struct ais_bmd *bmd; /* buckets; only sp_bck_evictable ones are walked */
    uint64_t slots;            /* mountpaths to relieve (bit = slot), e.g. those >= highwm */
    int lowwm;                 /* percent used to evict down to, 1..100 */
    int64_t now_ns;            /* unix ns that atimes are compared with */
    int64_t dont_evict_ms;     /* for buckets whose lru_dont_evict_ms is -1 */
    size_t batch;              /* candidates per pass, 1..SP_LRU_BATCH_MAX */
    size_t passes;             /* passes at most, 1..SP_LRU_PASSES_MAX */
};

struct sp_lru_res {
    uint64_t objs, bytes; /* evicted */
    uint64_t recent;      /* eligible objects skipped in the first pass: read too recently */
    uint64_t skipped;     /* replaced or gone before eviction */
    uint64_t failed;      /* eviction errors */
    size_t passes;        /* passes run */
    int reached;          /* at the end every slot of args->slots is at or below lowwm */
};

/*
 * One LRU run: while some slot of a->slots is above lowwm, walks the evictable buckets, keeps
 * the a->batch least recently accessed objects on such slots that are older than their
 * bucket's dont_evict_time (a bounded max-heap: memory is batch entries, not bucket size),
 * evicts them oldest first until the bytes freed bring every slot to lowwm, then re-reads the
 * capacity and repeats (at most a->passes) while the batch overflowed. res is always filled.
 * 0, -ECANCELED (aborted), -ENOMEM, or the first walk/capacity error. Runs on the caller's
 * thread; ops are called from it only.
 */
__attribute__((warn_unused_result)) int sp_lru_run(const struct sp_lru_args *a,
                                                   const struct sp_lru_ops *ops, void *ctx,
                                                   struct sp_lru_res *res);

#endif
