/*
 * dSort (AIS "distributed sort"): turns a dataset of archived shards (.tar, .tgz/.tar.gz, .zip,
 * .tar.lz4) into another one, sorted (alphanumeric, shuffle, content, none, external key map)
 * and regrouped into shards of a requested size, in parallel on every target.
 *
 * The gateway (POST /v1/sort, api.md §6.2) parses the request spec (ds_spec_parse), expands the
 * input names and starts the job on every target with one "init" step that names the targets
 * and the leader. Each target then runs the job as an xact of kind "dsort" under the job id:
 *   (a) extraction: reads the input shards it owns, builds record metadata (a record = the files
 *       of one shard that share a key, the name without its extension); tar members stay where
 *       they are (offsets into the input object), compressed formats are extracted to a work
 *       file under %dw, so memory holds metadata only;
 *   (b) sorting: sends its sorted run of record metadata to the leader, which merges the runs,
 *       cuts them into output shards and assigns each shard by HRW to the target that will own
 *       it, then sends every target its part of the plan;
 *   (c) creation: each target builds its shards in order, pulling the records it lacks from
 *       their targets in bounded batches (all-to-all over nng), and PUTs each shard through its
 *       own HTTP edge - the normal PUT path: checksummed, atomic, mirrored or EC-protected by
 *       the output bucket's props, indexed when .tar.
 * A failure anywhere aborts the job on every target; output shards appear whole or not at all.
 */
#ifndef AIS_DSORT_DSORT_H
#define AIS_DSORT_DSORT_H

#include "common/limits.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Limits of one job (why: the init step, the plan and the metadata are single RPC messages of
 * at most AIS_RPC_MSG_BYTES_MAX, and every target keeps one record table in memory). */
#define DS_INPUT_SHARDS_MAX 200000u
#define DS_RECORDS_MAX 20000000u
#define DS_TMPL_BYTES_MAX 1024u
#define DS_SHARD_BYTES_MAX (64ull << 30)
#define DS_RECORD_BYTES_MAX (48u << 20) /* one record travels in one pull reply */
#define DS_PULL_BYTES_MAX (8u << 20)    /* bytes of records asked for in one pull */
#define DS_EKM_BYTES_MAX (64u << 20)
#define DS_CONTENT_KEY_BYTES_MAX 4096u
#define DS_JOBS_KEPT 64u /* finished jobs remembered per target for metrics */

enum ds_alg { DS_ALG_ALPHANUMERIC = 0, DS_ALG_SHUFFLE, DS_ALG_CONTENT, DS_ALG_NONE };
enum ds_ckey { DS_CKEY_INT = 0, DS_CKEY_FLOAT, DS_CKEY_STRING };
enum ds_policy { DS_POLICY_IGNORE = 0, DS_POLICY_WARN, DS_POLICY_ABORT };

/* A parsed, validated request spec. Caller's storage; ds_spec_fini frees. */
struct ds_spec {
    char in_provider[16], in_bck[AIS_BCKNAME_BYTES_MAX];
    char out_provider[16], out_bck[AIS_BCKNAME_BYTES_MAX];
    char in_tmpl[DS_TMPL_BYTES_MAX]; /* "" when objnames */
    json_t *in_names;                /* objnames (array of strings) or NULL */
    char in_ext[16], out_ext[16];
    char out_fmt[DS_TMPL_BYTES_MAX]; /* "" only with an EKM */
    uint64_t shard_bytes;
    enum ds_alg alg;
    int decreasing;
    char seed[64];
    char content_ext[32];
    enum ds_ckey ckey;
    char ekm_url[2048];
    char ekm_sep[8];
    char max_mem[32]; /* "80%" or a size */
    char desc[256];
    int dry_run;
    unsigned extract_conc, create_conc; /* 0 = default */
    enum ds_policy dup_records, missing_shards, ekm_malformed, ekm_missing;
};

/*
 * Parses a RequestSpec (current keys and the 2020 ones, api.md §6.2) into s and checks it: a
 * known extension, well-formed templates, a shard size in range, a known algorithm with what it
 * needs. 0, or -EINVAL with a message naming the problem (s is then finalized).
 */
__attribute__((warn_unused_result)) int ds_spec_parse(const json_t *j, struct ds_spec *s, char *msg,
                                                      size_t cap);
void ds_spec_fini(struct ds_spec *s);
/* The normalized spec as JSON (what the gateway sends to targets, and ds_spec_parse reads back);
 * a new reference or NULL (ENOMEM). */
json_t *ds_spec_to_json(const struct ds_spec *s);

/*
 * Brace templates ("shard-{0000..0999}", "a{1..9..2}b{0..3}"): the number of names (0 for a
 * malformed template, which also covers a count over UINT64_MAX) and the i-th name (0-based, the
 * last range varying fastest). A template without ranges names itself once. ds_tmpl_name: 0 or
 * -EINVAL (i out of range, malformed), -ENAMETOOLONG.
 */
uint64_t ds_tmpl_count(const char *t);
__attribute__((warn_unused_result)) int ds_tmpl_name(const char *t, uint64_t i, char *out,
                                                     size_t cap);

/* "10MB", "10MiB", "1.5GB", "4096", "10KB" (KB = KiB: AIS counts binary). 0 or -EINVAL. */
__attribute__((warn_unused_result)) int ds_size_parse(const char *s, uint64_t *out);

/*
 * An external key map (the ekm_file text): lines "KEY<sep>SHARD-FORMAT", or a JSON object
 * {"SHARD-FORMAT": ["KEY", ...]} when the text starts with '{'. Returns a JSON object KEY ->
 * SHARD-FORMAT (new reference), or NULL with msg (a malformed line under policy "abort", or not
 * parseable at all). Malformed lines under "warn"/"ignore" are skipped (counted in *skipped).
 */
json_t *ds_ekm_parse(const char *text, size_t len, const char *sep, enum ds_policy malformed,
                     size_t *skipped, char *msg, size_t cap);

/* ---- the target's service ---- */

struct ais_config;
struct ais_snode;
struct ais_meta;
struct st_mpaths;
struct xa_reg;
struct rpc_err;

struct ds_env {
    const struct ais_config *cfg;
    const struct ais_snode *self;
    struct ais_meta *meta;
    struct st_mpaths *mp;
    struct xa_reg *xreg;
};

struct ds;

/* 0 and *out, or -ENOMEM. env is borrowed until ds_free. */
__attribute__((warn_unused_result)) int ds_new(const struct ds_env *env, struct ds **out);
/* Aborts the running jobs, waits for them, frees. Accepts NULL. */
void ds_free(struct ds *d);
/*
 * The rpc_ops.dsort handler (ctx = struct ds): one step of a job, see dsort.c. *out is malloc'ed
 * (or NULL). 0, or a negative code with err->msg.
 */
int ds_rpc(void *ctx, const char *op, const char *uuid, const void *body, size_t len, void **out,
           size_t *out_len, struct rpc_err *err);

#endif
