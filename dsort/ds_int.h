/* Shared within dsort/ only. */
#ifndef AIS_DSORT_DS_INT_H
#define AIS_DSORT_DS_INT_H

#include "dsort/dsort.h"
#include "xact/xact.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Input shards kept open for zero-copy reads of their .tar members; beyond that, members are
 * copied to the job's work files like those of compressed shards. */
#define DS_OPEN_SHARDS_MAX 256u
#define DS_WORKERS_MAX 16u
#define DS_CREATE_CONC_DEFAULT 3u

/* One record as the sort sees it (on the leader: from every target). */
struct ds_item {
    char *key;     /* owned */
    char *cstr;    /* content key (string type) or NULL; owned */
    int64_t cint;  /* content key (int type) */
    double cflt;   /* content key (float type) */
    uint64_t hash; /* shuffle order */
    uint64_t size; /* bytes the record adds to a .tar shard (headers included) */
    uint32_t sidx; /* input shard index (order "none") */
    uint32_t pos;  /* record position within its input shard */
    uint32_t src;  /* target index in the job */
    uint32_t rid;  /* record id on that target */
};

struct ds_order {
    enum ds_alg alg;
    enum ds_ckey ckey;
    int decreasing;
};

/* Order of two records (qsort-style); ties broken by key, then shard and position. */
int ds_item_cmp(const struct ds_order *o, const struct ds_item *a, const struct ds_item *b);
/* Shuffle order hash of key under seed (xxhash). */
uint64_t ds_shuffle_hash(const char *seed, const char *key);
/* Sorts n items in place. */
void ds_items_sort(const struct ds_order *o, struct ds_item *v, size_t n);
/*
 * Merges nruns sorted runs (runs[i] of lens[i] items) into out (sum of lens items; moved, not
 * copied: the runs' strings now belong to out).
 */
void ds_items_merge(const struct ds_order *o, struct ds_item *const *runs, const size_t *lens,
                    size_t nruns, struct ds_item *out);
/*
 * Cuts n ordered items into shards of at least shard_bytes (the last may be smaller): a shard
 * ends with the first record that reaches the size, so each is under shard_bytes + one record.
 * Writes the start index of each shard into starts (cap >= n) and returns their count.
 */
size_t ds_items_cut(const struct ds_item *v, size_t n, uint64_t shard_bytes, size_t *starts);
/* Bytes a member adds to a .tar archive: header(s) and data rounded to 512. */
uint64_t ds_tar_member_bytes(const char *name, uint64_t size);
/* The key of a member name: the name without the extension of its last element. */
size_t ds_key_len(const char *name);
/* The member's extension (from its last '.', in its last element) or "". */
const char *ds_name_ext(const char *name);
/* An EKM shard format ("shard-%d", "cats-%04d") with n: 0 or -EINVAL (no single %d). */
int ds_ekm_name(const char *fmt, uint64_t n, char *out, size_t cap);

/* ---- a job on one target (dsort.c, extract.c, create.c) ---- */

/* One file of a record: in an input shard kept open, or in a work file (fds[fd_idx]). */
struct ds_member {
    char *name;
    uint64_t off, size;
    uint32_t fd_idx;
};

/* A local record: members [mem0, mem0 + nmem) of the job's member table. */
struct ds_rec {
    char *key;
    char *cstr;
    int64_t cint;
    double cflt;
    uint64_t size;
    uint32_t sidx, pos, mem0, nmem;
};

/* An output shard this target creates: records (source target, record id, size) in order. */
struct ds_oshard {
    char *name;
    size_t n;
    uint32_t *src, *rid;
    uint64_t *size;
};

enum { DS_PH_EXTRACT = 0, DS_PH_SORT, DS_PH_CREATE, DS_PH_N };

struct ds_phase {
    int64_t start_ns, end_ns;
    int running, finished;
};

struct ds_job {
    struct ds *d;
    int refs; /* atomic */
    char uuid[XA_ID_BYTES];
    struct ds_spec spec;
    struct ds_order order;
    char **names; /* input object names (template expanded, extension added) */
    size_t nnames;
    char (*tids)[AIS_DAEMON_ID_BYTES_MAX]; /* the job's targets; index = "src" everywhere */
    size_t ntgt, self, leader;
    json_t *ekm; /* leader only: key -> shard format, or NULL */
    int64_t start_ns, end_ns;
    uint64_t mem_limit;

    pthread_mutex_t mu; /* everything below that is not atomic */
    pthread_cond_t cv;
    struct ds_rec *recs; /* complete once extracted is set */
    size_t nrecs, caprecs;
    struct ds_member *mems;
    size_t nmems, capmems;
    int *fds; /* input shards (.tar, read in place) and work files */
    size_t nfds, capfds;
    int extracted;
    /* leader: the runs of record metadata from every target */
    struct ds_item **runs;
    size_t *run_n, *run_cap;
    int *run_done;
    size_t runs_done;
    /* the plan for this target */
    struct ds_oshard *osh;
    size_t nosh;
    int have_plan;
    uint64_t serve_n; /* records other targets will pull from here */
    uint64_t served;  /* atomic */
    /* state */
    int aborted;    /* atomic */
    int ended;      /* the job thread returned */
    unsigned pulls; /* pulls being served: the records stay until they are 0 */
    char err[512];
    json_t *warnings, *errors;
    struct ds_phase ph[DS_PH_N];
    struct xa_job *xj;
    /* metrics (atomic) */
    uint64_t m_total, m_extracted, m_ext_size, m_ext_recs, m_disk_n, m_disk_size;
    uint64_t m_to_create, m_created, m_pulled_n, m_pulled_bytes, m_served_bytes;
};

/* dsort.c */
int ds_job_stopped(struct ds_job *j);
/* Records an error (the first one wins), aborts the job here and tells the other targets. */
void ds_job_fail(struct ds_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ds_job_warn(struct ds_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A work file (unlinked, O_TMPFILE) in the job's %dw dir: fd or negative errno. */
int ds_job_tmpfile(struct ds_job *j);
const struct ds_env *ds_job_env(const struct ds_job *j);
/*
 * One step on target t of the job (its control URL from the current Smap): body (borrowed; NULL
 * = {}) as JSON. 0 with *out (malloc'ed, may be NULL when out is NULL: the reply is dropped) and
 * *out_len, or a negative code with msg (the peer's message, or why not; -EHOSTUNREACH when t is
 * no longer in the Smap).
 */
int ds_job_call(struct ds_job *j, size_t t, const char *op, const json_t *body, int timeout_ms,
                char **out, size_t *out_len, char *msg, size_t cap);

/* extract.c: phase (a) over this target's input shards. 0 or negative (after ds_job_fail). */
int ds_extract(struct ds_job *j);
/* create.c: phase (c) over the plan. 0 or negative (after ds_job_fail). */
int ds_create(struct ds_job *j);
/* create.c: a pull: the records rids (n) of this target, in the wire form. */
int ds_pull_serve(struct ds_job *j, const uint32_t *rids, size_t n, void **out, size_t *out_len,
                  char *msg, size_t cap);

#endif
