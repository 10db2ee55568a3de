/*
 * Jobs (AIS "xactions"): the one framework every background service runs on, on gateways and
 * targets alike. A job has an id, a kind (the action that started it, api.md §5.7), an
 * optional bucket, start/end times, a state, counters (local objects/bytes, sent, received),
 * known totals (for progress and ETA) and an abort flag its body polls.
 *
 * A registry holds the running jobs and remembers finished ones (a bounded ring, oldest
 * forgotten first) so clients can poll by id after the end (the SDK's job.wait does).
 * Registry calls are thread-safe; counters are atomics, so a job body updates them from any
 * thread without locks.
 */
#ifndef AIS_XACT_XACT_H
#define AIS_XACT_XACT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define XA_ID_BYTES 16
#define XA_KIND_BYTES 32
#define XA_BCK_BYTES 200
#define XA_ERR_BYTES 2048

struct xa_reg;
struct xa_job;

enum xa_state {
    XA_RUNNING = 0,
    XA_FINISHED, /* ended with no error */
    XA_ABORTED,  /* stopped on request (or superseded) */
    XA_ERROR,    /* ended with an error */
};

/* Counter sets, as JobSnap.stats names them: loc-*, out-*, in-*. */
enum xa_ctr {
    XA_CTR_LOC = 0,
    XA_CTR_OUT,
    XA_CTR_IN,
    XA_CTR_N,
};

/* A job body: runs on the job's own thread. Returns 0 or a negative code (the job's error). */
typedef int (*xa_run_fn)(struct xa_job *job, void *arg);
/* Frees a job body's argument once the body returned (or the start failed). */
typedef void (*xa_arg_free_fn)(void *arg);

/* A point-in-time copy of one job. */
struct xa_snap {
    char id[XA_ID_BYTES];
    char kind[XA_KIND_BYTES];
    char bck[XA_BCK_BYTES]; /* "ais://name" or "" */
    char node_id[64];
    int64_t start_ns, end_ns; /* unix nanoseconds; end 0 while running */
    enum xa_state state;
    uint64_t objs[XA_CTR_N], bytes[XA_CTR_N];
    uint64_t total_objs, total_bytes; /* 0 = unknown */
    int64_t eta_ns;                   /* -1 = unknown */
    char err[XA_ERR_BYTES];
};

/* Which jobs a query selects; empty strings match all. */
struct xa_filter {
    const char *id;
    const char *kind;
    const char *bck;
    int only_running;
};

/*
 * New registry for this node (node_id is copied into snapshots). Remembers up to
 * AIS_XACT_RECORDS_MAX jobs and runs at most AIS_XACT_RUNNING_MAX at once.
 * 0 or -ENOMEM.
 */
__attribute__((warn_unused_result)) int xa_reg_new(const char *node_id, struct xa_reg **out);
/* Aborts every running job, waits for their threads, frees. Accepts NULL. */
void xa_reg_free(struct xa_reg *r);

/*
 * Starts a job on its own thread: fn(job, arg) runs, then arg_free(arg) (may be NULL). The
 * job's id is written to id_out (may be NULL) before the thread starts. Returns 0, -EAGAIN
 * (AIS_XACT_RUNNING_MAX jobs already running), -EINVAL (empty kind) or -ENOMEM; on error
 * arg_free(arg) has been called.
 */
__attribute__((warn_unused_result)) int xa_job_start(struct xa_reg *r, const char *kind,
                                                     const char *bck, xa_run_fn fn, void *arg,
                                                     xa_arg_free_fn arg_free,
                                                     char id_out[XA_ID_BYTES]);
/*
 * Like xa_job_start with a given id (NULL or "" = a new random one), for jobs whose parts run on
 * many nodes under one cluster-wide id (rebalance "g<smap version>"). A running job with that
 * id already: -EEXIST.
 */
__attribute__((warn_unused_result)) int
xa_job_start_id(struct xa_reg *r, const char *id, const char *kind, const char *bck, xa_run_fn fn,
                void *arg, xa_arg_free_fn arg_free, char id_out[XA_ID_BYTES]);
/*
 * A job run by the caller's own thread (for work that is already asynchronous): returns the
 * job, which the caller must end with xa_job_end exactly once. 0, -EAGAIN, -EINVAL, -ENOMEM.
 */
__attribute__((warn_unused_result)) int xa_job_begin(struct xa_reg *r, const char *kind,
                                                     const char *bck, struct xa_job **out);
/* Ends a job begun with xa_job_begin: err 0 = finished; msg (may be NULL) is the error text. */
void xa_job_end(struct xa_job *j, int err, const char *msg);

/* Job body helpers (any thread, lock-free). */
const char *xa_job_id(const struct xa_job *j);
void xa_job_add(struct xa_job *j, enum xa_ctr c, uint64_t objs, uint64_t bytes);
void xa_job_set_total(struct xa_job *j, uint64_t objs, uint64_t bytes);
/* 1 once an abort was requested: the body should stop soon and return -ECANCELED. */
int xa_job_aborted(const struct xa_job *j);
/* Records an error text (the first one wins) without ending the job. */
void xa_job_set_err(struct xa_job *j, const char *msg);

/*
 * Requests abort of the running jobs matching f (f->only_running is implied). Returns how many
 * were signalled. Does not wait.
 */
size_t xa_abort(struct xa_reg *r, const struct xa_filter *f);
/* Waits until no job matching f runs, at most timeout_ms. 0 or -ETIMEDOUT. */
int xa_wait(struct xa_reg *r, const struct xa_filter *f, int64_t timeout_ms);

/* Copies up to cap snapshots matching f, newest first; returns how many matched in all. */
size_t xa_snaps(struct xa_reg *r, const struct xa_filter *f, struct xa_snap *out, size_t cap);
/* One snapshot by id: 0 or -ENOENT. */
int xa_snap_get(struct xa_reg *r, const char *id, struct xa_snap *out);

/* JSON forms (api.md §5.7); new references. */
/* JobSnap: id, kind, start-time, end-time (RFC 3339), bck, stats{...}, aborted, is_idle, ... */
json_t *xa_snap_to_json(const struct xa_snap *s);
/* Status: uuid, kind, bck, err, end_time (unix ns, 0 while running), aborted, ... */
json_t *xa_status_to_json(const struct xa_snap *s);
/* Parses a JobSnap back (for merging snapshots from other nodes). 0 or -EINVAL. */
int xa_snap_from_json(const json_t *j, struct xa_snap *out);
/* Reads a filter from JobArgs JSON (ID, Kind, Bck.name, OnlyRunning; keys case-insensitive).
 * The strings point into j. */
void xa_filter_from_json(const json_t *j, struct xa_filter *f);

const char *xa_state_name(enum xa_state s);

struct ais_buf;
/*
 * Appends Prometheus families ais_jobs_running{kind}, ais_job_objects{kind,ctr} and
 * ais_job_bytes{kind,ctr} for the jobs r remembers (xact/xa_prom.c). Kinds outside the fixed
 * list count as kind="other" (labels stay bounded). 0, -ENOMEM or the buffer's error.
 */
int xa_prom_write(struct xa_reg *r, struct ais_buf *b);

#endif
