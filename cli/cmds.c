/*
 * The command tree, help text, dispatch and the process-level entry (cli_main).
 *
 * Design notes: commands are static tables (struct cli_cmd) so help, "did you mean",
 * `ais search` and bash completion all read the same source of truth. Dispatch walks the
 * words of argv down the tree until it reaches a runnable command, then parses the rest
 * against that command's flag mask. Every failure ends here as one "Error: ..." line on
 * stderr and an exit code from a small fixed table (cli_exit_code), which docs/cli.md
 * documents for scripts. Environment is read by main() only and passed in.
 */
#include "cli/cli.h"
#include "cli/cli_int.h"
#include "common/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define OBJ_LS_FLAGS                                                                               \
    (CLI_FM_OUT | CLI_FM(CLI_F_LIMIT) | CLI_FM(CLI_F_PROPS) | CLI_FM(CLI_F_PREFIX) |               \
     CLI_FM(CLI_F_PAGE_SIZE) | CLI_FM(CLI_F_RAW) | CLI_FM(CLI_F_ARCHIVE))
#define RANGE_FLAGS (CLI_FM(CLI_F_OFFSET) | CLI_FM(CLI_F_LENGTH))

/* `ais prefetch` / `ais evict`, also under `ais object` (and evict under `ais bucket`). */
#define SEL_FLAGS (CLI_FM(CLI_F_LIST) | CLI_FM(CLI_F_TEMPLATE) | CLI_FM(CLI_F_PREFIX))
#define WAIT_FLAGS (CLI_FM(CLI_F_WAIT) | CLI_FM(CLI_F_TIMEOUT))
#define PREFETCH_CMD(name)                                                                         \
    {                                                                                              \
        name, NULL,                                                                                \
            "REMOTE_BUCKET[/NAME|/TEMPLATE|/DIR/] [BUCKET/NAME...] [--list L | --template T | "    \
            "--prefix P]",                                                                         \
            "fetch objects of a remote bucket into the cluster (all of them by default), as a "    \
            "job",                                                                                 \
            "ais prefetch s3://data --template 'shard-{000..099}.tar' --wait\n"                    \
            "ais prefetch s3://data --list a.jpg,b.jpg\n"                                          \
            "ais prefetch s3://data --prefix train/ --latest --wait --timeout 30m\n"               \
            "ais prefetch 's3://data/shard-{000..009}.tar'\n"                                      \
            "ais job wait JOB_ID --progress",                                                      \
            SEL_FLAGS | WAIT_FLAGS | CLI_FM(CLI_F_LATEST), 1, -1,                                  \
            {CLI_COMP_OBJECT, CLI_COMP_OBJECT, 0}, cli_cmd_prefetch, NULL                          \
    }
#define EVICT_CMD(name)                                                                            \
    {                                                                                              \
        name, NULL,                                                                                \
            "REMOTE_BUCKET[/NAME|/TEMPLATE|/DIR/] [BUCKET/NAME...] [--list L | --template T | "    \
            "--prefix P]",                                                                         \
            "remove cached objects of a remote bucket from the cluster (the backend keeps them); " \
            "a whole bucket without --keep-md also drops it from the cluster",                     \
            "ais evict s3://data/shard-000.tar --wait\n"                                           \
            "ais evict s3://data --list a.jpg,b.jpg --wait\n"                                      \
            "ais evict s3://data --template 'shard-{000..099}.tar'\n"                              \
            "ais evict s3://data --prefix train/ --wait\n"                                         \
            "ais evict s3://data --keep-md\n"                                                      \
            "ais evict gs://models",                                                               \
            SEL_FLAGS | WAIT_FLAGS | CLI_FM(CLI_F_KEEP_MD), 1, -1,                                 \
            {CLI_COMP_OBJECT, CLI_COMP_OBJECT, 0}, cli_cmd_evict, NULL                             \
    }

/* `ais object promote` and `ais promote`. */
#define PROMOTE_CMD(name)                                                                          \
    {                                                                                              \
        name, NULL, "SRC_PATH DST_BUCKET[/OBJ_NAME_OR_PREFIX/]",                                   \
            "make objects of files and directories the targets see (a relative SRC_PATH is made "  \
            "absolute); names as `ais put`: BUCKET, BUCKET/NAME, BUCKET/PREFIX/",                  \
            "ais promote /data/train/img-001.jpg ais://images\n"                                   \
            "ais promote /data/train ais://images/train/ -r --wait\n"                              \
            "ais object promote ./exports ais://archive/2024/ -r --overwrite-dst --delete-src\n"   \
            "ais promote /mnt/nfs/set1 ais://sets/set1/ -r --not-file-share --wait --timeout 1h",  \
            CLI_FM(CLI_F_RECURSIVE) | CLI_FM(CLI_F_OVERWRITE_DST) | CLI_FM(CLI_F_DELETE_SRC) |     \
                CLI_FM(CLI_F_TARGET_ID) | CLI_FM(CLI_F_NOT_FILE_SHARE) | WAIT_FLAGS,               \
            2, 2, {CLI_COMP_FILE, CLI_COMP_OBJECT, 0}, cli_cmd_promote, NULL                       \
    }

static const struct cli_cmd props_cmds[] = {
    {"show",
     NULL,
     "BUCKET [PROP_PREFIX]",
     "show bucket properties",
     "ais bucket props show ais://images\n"
     "ais bucket props show ais://images mirror\n"
     "ais bucket props show ais://images --json",
     CLI_FM_OUT,
     1,
     2,
     {CLI_COMP_BUCKET, CLI_COMP_NONE, 0},
     cli_cmd_props_show,
     NULL},
    {"set",
     NULL,
     "BUCKET KEY=VALUE [KEY=VALUE...] | BUCKET JSON",
     "update bucket properties",
     "ais bucket props set ais://images mirror.enabled=true mirror.copies=2\n"
     "ais bucket props set ais://images versioning.enabled false\n"
     "ais bucket props set ais://images '{\"checksum\":{\"type\":\"md5\"}}'",
     0,
     2,
     -1,
     {CLI_COMP_BUCKET, CLI_COMP_NONE, 0},
     cli_cmd_props_set,
     NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

static const struct cli_cmd bucket_cmds[] = {
    {"create",
     NULL,
     "BUCKET [BUCKET...]",
     "create ais buckets",
     "ais bucket create ais://images\nais bucket create b1 b2",
     0,
     1,
     -1,
     {CLI_COMP_NONE, 0, 0},
     cli_cmd_bucket_create,
     NULL},
    {"ls",
     "list",
     "[BUCKET[/PREFIX]]",
     "list buckets, or the objects of one bucket",
     "ais bucket ls\nais bucket ls ais://images --json",
     OBJ_LS_FLAGS,
     0,
     1,
     {CLI_COMP_OBJECT, 0, 0},
     cli_cmd_bucket_ls,
     NULL},
    {"rm",
     "remove",
     "BUCKET [BUCKET...]",
     "destroy buckets and all their objects",
     "ais bucket rm ais://images\nais bucket rm ais://tmp1 ais://tmp2 --yes",
     CLI_FM(CLI_F_YES),
     1,
     -1,
     {CLI_COMP_BUCKET, 0, 0},
     cli_cmd_bucket_rm,
     NULL},
    {"props",
     NULL,
     "COMMAND",
     "show or update bucket properties",
     NULL,
     0,
     0,
     0,
     {0, 0, 0},
     NULL,
     props_cmds},
    {"summary",
     NULL,
     "[BUCKET...]",
     "object count and total size per bucket (every ais bucket by default)",
     "ais bucket summary\nais bucket summary ais://images --raw\nais bucket summary --json",
     CLI_FM_OUT | CLI_FM(CLI_F_RAW),
     0,
     -1,
     {CLI_COMP_BUCKET, 0, 0},
     cli_cmd_bucket_summary,
     NULL},
    {"cp",
     "copy",
     "SRC_BUCKET[/DIR/] DST_BUCKET [--prefix P | --list L | --template T]",
     "copy a bucket (ais or remote), or some of its objects, into an ais bucket (created if "
     "missing), as a job",
     "ais bucket cp s3://data ais://copy --wait\n"
     "ais bucket cp s3://data ais://train --prefix train/ --latest\n"
     "ais bucket cp ais://images ais://subset --list a.jpg,b.jpg --wait\n"
     "ais bucket cp s3://data ais://shards --template 'shard-{000..099}.tar' --wait --timeout 1h",
     SEL_FLAGS | WAIT_FLAGS | CLI_FM(CLI_F_LATEST),
     2,
     2,
     {CLI_COMP_BUCKET, CLI_COMP_BUCKET, 0},
     cli_cmd_bucket_cp,
     NULL},
    EVICT_CMD("evict"),
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

/* `ais object rm` and its AIS shortcut `ais rmo`: one row, two places. */
#define RMO_CMD(name, alias)                                                                       \
    {                                                                                              \
        name, alias, "BUCKET/NAME [BUCKET/NAME...] | BUCKET --prefix P | BUCKET --template T",     \
            "delete objects: by name, by prefix, or by template (waits for the delete job)",       \
            "ais object rm ais://docs/README.md\nais object rm ais://docs/a ais://docs/b --yes\n"  \
            "ais object rm ais://logs --prefix 2024/ --yes\n"                                      \
            "ais object rm ais://shards --template 'shard-{000..099}.tar'\n"                       \
            "ais rmo 'ais://shards/shard-{000..099}.tar' --yes",                                   \
            CLI_FM(CLI_F_YES) | CLI_FM(CLI_F_PREFIX) | CLI_FM(CLI_F_TEMPLATE), 1, -1,              \
            {CLI_COMP_OBJECT, CLI_COMP_OBJECT, 0}, cli_cmd_obj_rm, NULL                            \
    }

static const struct cli_cmd object_cmds[] = {
    {"put",
     NULL,
     "FILE|DIR BUCKET[/NAME]",
     "upload a file, or a directory with -r",
     "ais object put README.md ais://docs",
     CLI_FM(CLI_F_RECURSIVE) | CLI_FM(CLI_F_CONC),
     2,
     2,
     {CLI_COMP_FILE, CLI_COMP_OBJECT, 0},
     cli_cmd_put,
     NULL},
    {"get",
     NULL,
     "BUCKET/NAME [FILE|DIR|-]",
     "download an object (same as `ais get`)",
     "ais object get ais://docs/README.md /tmp/r.md",
     RANGE_FLAGS | CLI_FM(CLI_F_RECURSIVE) | CLI_FM(CLI_F_PREFIX) | CLI_FM(CLI_F_CONC) |
         CLI_FM(CLI_F_ARCHPATH),
     1,
     2,
     {CLI_COMP_OBJECT, CLI_COMP_FILE, 0},
     cli_cmd_get,
     NULL},
    RMO_CMD("rm", "remove"),
    {"stat",
     "show",
     "BUCKET/NAME",
     "show object properties (size, checksum, atime, ...)",
     "ais object stat ais://docs/README.md\nais object stat ais://docs/README.md --json",
     CLI_FM_OUT | CLI_FM(CLI_F_RAW),
     1,
     1,
     {CLI_COMP_OBJECT, 0, 0},
     cli_cmd_obj_stat,
     NULL},
    {"cat",
     NULL,
     "BUCKET/NAME",
     "print an object to stdout",
     "ais object cat ais://docs/README.md\nais object cat ais://logs/big.log --offset 1MiB "
     "--length 4KiB",
     RANGE_FLAGS,
     1,
     1,
     {CLI_COMP_OBJECT, 0, 0},
     cli_cmd_obj_cat,
     NULL},
    {"ls",
     NULL,
     "BUCKET[/PREFIX]",
     "list objects (same as `ais ls`)",
     "ais object ls ais://docs",
     OBJ_LS_FLAGS,
     1,
     1,
     {CLI_COMP_OBJECT, 0, 0},
     cli_cmd_ls,
     NULL},
    PREFETCH_CMD("prefetch"),
    EVICT_CMD("evict"),
    PROMOTE_CMD("promote"),
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

#define NODE_FLAGS CLI_FM(CLI_F_SKIP_REBALANCE)
static const struct cli_cmd membership_cmds[] = {
    {"start-maintenance",
     NULL,
     "NODE_ID",
     "put a node in maintenance: no new objects, its objects move to the other targets",
     "ais cluster add-remove-nodes start-maintenance t1234\n"
     "ais cluster add-remove-nodes start-maintenance t1234 --skip-rebalance",
     NODE_FLAGS,
     1,
     1,
     {CLI_COMP_NONE, 0, 0},
     cli_cmd_node_maint_start,
     NULL},
    {"stop-maintenance",
     NULL,
     "NODE_ID",
     "take a node out of maintenance (objects move back)",
     "ais cluster add-remove-nodes stop-maintenance t1234",
     NODE_FLAGS,
     1,
     1,
     {CLI_COMP_NONE, 0, 0},
     cli_cmd_node_maint_stop,
     NULL},
    {"decommission",
     NULL,
     "NODE_ID",
     "move a node's objects off, then remove it from the cluster for good and stop it",
     "ais cluster add-remove-nodes decommission t1234 --yes",
     NODE_FLAGS | CLI_FM(CLI_F_YES),
     1,
     1,
     {CLI_COMP_NONE, 0, 0},
     cli_cmd_node_decommission,
     NULL},
    {"shutdown",
     NULL,
     "NODE_ID",
     "remove a node from the cluster map and stop it (it may rejoin when restarted)",
     "ais cluster add-remove-nodes shutdown t1234",
     CLI_FM(CLI_F_YES),
     1,
     1,
     {CLI_COMP_NONE, 0, 0},
     cli_cmd_node_shutdown,
     NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

static const struct cli_cmd cluster_cmds[] = {
    {"show",
     NULL,
     "[proxy|target]",
     "cluster map: gateways, targets, primary, versions, mountpaths, capacity",
     "ais cluster show\nais cluster show target\nais cluster show --json",
     CLI_FM_OUT | CLI_FM(CLI_F_RAW),
     0,
     1,
     {CLI_COMP_NONE, 0, 0},
     cli_cmd_cluster_show,
     NULL},
    {"set-primary",
     NULL,
     "NODE_ID",
     "move the primary role to another gateway",
     "ais cluster set-primary p1234",
     0,
     1,
     1,
     {CLI_COMP_NONE, 0, 0},
     cli_cmd_cluster_set_primary,
     NULL},
    {"add-remove-nodes",
     "membership",
     "COMMAND",
     "node maintenance, decommission and shutdown",
     NULL,
     0,
     0,
     0,
     {0, 0, 0},
     NULL,
     membership_cmds},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

static const struct cli_cmd config_cmds[] = {
    {"show",
     NULL,
     "[KEY_PREFIX]",
     "show cluster configuration",
     "ais config show\nais config show rebalance\nais config show --json",
     CLI_FM_OUT,
     0,
     1,
     {CLI_COMP_NONE, 0, 0},
     cli_cmd_config_show,
     NULL},
    {"set",
     NULL,
     "KEY=VALUE [KEY=VALUE...]",
     "update cluster configuration",
     "ais config set log.level=debug\nais config set disk.fsync false",
     0,
     1,
     -1,
     {CLI_COMP_CONFIG, 0, 0},
     cli_cmd_config_set,
     NULL},
    {"cluster",
     NULL,
     "[KEY_PREFIX | KEY=VALUE...]",
     "show or update the cluster configuration (names checked against the config table)",
     "ais config cluster\nais config cluster log\nais config cluster log.level=debug "
     "checksum.validate_warm_get=true",
     CLI_FM_OUT,
     0,
     -1,
     {CLI_COMP_CONFIG, 0, 0},
     cli_cmd_config_cluster,
     NULL},
    {"node",
     NULL,
     "NODE_ID [KEY_PREFIX | KEY=VALUE...]",
     "show or update one node's configuration",
     "ais config node t[abc123]\nais config node abc123 log.level=debug",
     CLI_FM_OUT,
     1,
     -1,
     {CLI_COMP_NONE, CLI_COMP_CONFIG, 0},
     cli_cmd_config_node,
     NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

#define JOB_LS_FLAGS (CLI_FM_OUT | CLI_FM(CLI_F_ALL) | CLI_FM(CLI_F_RAW))

/* `ais download`, also `ais job start download`. */
#define DOWNLOAD_CMD(name)                                                                         \
    {                                                                                              \
        name, NULL, "SRC [DST] (SRC: URL, URL template, s3://|gs:// bucket; DST: ais bucket)",     \
            "download from http(s) URLs into an ais bucket, or fill a remote bucket from its "     \
            "backend, as a job; waits with a progress bar on a terminal",                          \
            "ais download https://example.com/imagenet/train-0001.tar ais://images/\n"             \
            "ais download 'https://example.com/shard-{000..099}.tar' ais://shards/train/ --wait\n" \
            "ais download https://example.com/a.bin ais://data/renamed.bin --description demo\n"   \
            "ais download https://example.com/ds ais://data --object-list names.txt\n"             \
            "ais download --object-list urls.json ais://data/raw/ --download-timeout 30s\n"        \
            "ais download s3://models/bert/ --wait --timeout 1h",                                  \
            CLI_FM(CLI_F_DESCRIPTION) | CLI_FM(CLI_F_DL_TIMEOUT) | CLI_FM(CLI_F_OBJECT_LIST) |     \
                WAIT_FLAGS,                                                                        \
            1, 2, {CLI_COMP_NONE, CLI_COMP_OBJECT, 0}, cli_cmd_download, NULL                      \
    }

#define DSORT_START_CMD(name)                                                                      \
    {                                                                                              \
        name, NULL, "SPEC.json|-|'{...}' [SRC_BUCKET [DST_BUCKET]]",                               \
            "start a dSort job (sort/reshard shards, api.md 6.2); prints its id; --wait follows "  \
            "its phases",                                                                          \
            "ais dsort start spec.json\nais dsort start - < spec.json\n"                           \
            "ais start dsort spec.json ais://src ais://dst --wait\nais dsort start --spec "        \
            "spec.json",                                                                           \
            CLI_FM(CLI_F_SPEC) | WAIT_FLAGS, 0, 3,                                                 \
            {CLI_COMP_FILE, CLI_COMP_BUCKET, CLI_COMP_BUCKET}, cli_cmd_dsort_start, NULL           \
    }
#define DSORT_SHOW_CMD(name)                                                                       \
    {                                                                                              \
        name, NULL, "[JOB_ID]",                                                                    \
            "dSort jobs: ID, status, start, end, description (a JOB_ID: phases with progress, "    \
            "errors)",                                                                             \
            "ais show job dsort\nais show job dsort srt-Ab12Cd34Ef5\nais dsort show --regex "      \
            "'^nightly'\nais job show dsort srt-Ab12Cd34Ef5 --json",                               \
            CLI_FM_OUT | CLI_FM(CLI_F_REGEX), 0, 1, {CLI_COMP_DSJOB, 0, 0}, cli_cmd_dsort_show,    \
            NULL                                                                                   \
    }
#define DSORT_ID_CMD(name, what, ex, fn, flags)                                                    \
    {                                                                                              \
        name, NULL, "JOB_ID", what, ex, flags, 1, 1, {CLI_COMP_DSJOB, 0, 0}, fn, NULL              \
    }
#define DSORT_STOP_CMD(name)                                                                       \
    DSORT_ID_CMD(name, "abort a dSort job on every target (shards already created stay)",          \
                 "ais stop dsort srt-Ab12Cd34Ef5\nais job stop srt-Ab12Cd34Ef5",                   \
                 cli_cmd_dsort_stop, 0)
#define DSORT_RM_CMD(name)                                                                         \
    DSORT_ID_CMD(name, "forget a finished or aborted dSort job",                                   \
                 "ais job rm dsort srt-Ab12Cd34Ef5", cli_cmd_dsort_rm, 0)
#define DSORT_WAIT_CMD(name)                                                                       \
    DSORT_ID_CMD(name, "wait for a dSort job; exit 9 when it failed or was aborted",               \
                 "ais wait dsort srt-Ab12Cd34Ef5 --timeout 1h\nais job wait srt-Ab12Cd34Ef5 "      \
                 "--progress",                                                                     \
                 cli_cmd_dsort_wait, CLI_FM(CLI_F_TIMEOUT))

static const struct cli_cmd dsort_cmds[] = {
    DSORT_START_CMD("start"),
    DSORT_SHOW_CMD("show"),
    DSORT_STOP_CMD("stop"),
    DSORT_RM_CMD("rm"),
    DSORT_WAIT_CMD("wait"),
    {"gen",
     NULL,
     "BUCKET/TEMPLATE.EXT",
     "make a test dataset of shards (.tar, .tgz, .tar.gz, .zip, .tar.lz4; the bucket is created "
     "if missing): records of one file per extension sharing a key (rec-NNNNNNNN), keys unique "
     "and shuffled across shards; .cls files hold a number (content sorting), the others random "
     "bytes; the same --seed gives the same shards",
     "ais dsort gen 'ais://src/shard-{0..9}.tar'\n"
     "ais dsort gen 'ais://src/shard-{0..9}.tar' --records 100 --record-size 10KiB --exts "
     ".txt,.cls\n"
     "ais dsort gen 'ais://src/shard-{00..99}.tgz' --records 1000 --record-size 4KiB --exts "
     ".jpg,.json,.cls --seed 7\n"
     "ais dsort gen 'ais://src/part-{0..3}.zip' --records 10",
     CLI_FM(CLI_F_RECORDS) | CLI_FM(CLI_F_RECORD_SIZE) | CLI_FM(CLI_F_EXTS) | CLI_FM(CLI_F_SEED),
     1,
     1,
     {CLI_COMP_OBJECT, 0, 0},
     cli_cmd_dsort_gen,
     NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};
/* `ais show job download`, `ais job show download`, `ais job ls download`. */
static const struct cli_cmd dl_show_cmds[] = {
    {"download",
     NULL,
     "[JOB_ID]",
     "download jobs: ID, description, status, finished/total, errors (a JOB_ID: its details and "
     "failed objects)",
     "ais show job download\nais show job download --regex '^nightly'\n"
     "ais show job download JOB_ID\nais job ls download --json",
     CLI_FM_OUT | CLI_FM(CLI_F_REGEX),
     0,
     1,
     {CLI_COMP_DLJOB, 0, 0},
     cli_cmd_dl_show,
     NULL},
    DSORT_SHOW_CMD("dsort"),
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

static const struct cli_cmd dl_stop_cmds[] = {
    {"download",
     NULL,
     "JOB_ID",
     "abort a download job (objects already downloaded stay)",
     "ais job stop download JOB_ID",
     0,
     1,
     1,
     {CLI_COMP_DLJOB, 0, 0},
     cli_cmd_dl_stop,
     NULL},
    DSORT_STOP_CMD("dsort"),
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

static const struct cli_cmd dl_rm_cmds[] = {
    {"download",
     NULL,
     "JOB_ID",
     "forget a finished or aborted download job (its objects stay)",
     "ais job rm download JOB_ID",
     0,
     1,
     1,
     {CLI_COMP_DLJOB, 0, 0},
     cli_cmd_dl_rm,
     NULL},
    DSORT_RM_CMD("dsort"),
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

static const struct cli_cmd dl_wait_cmds[] = {
    {"download",
     NULL,
     "JOB_ID",
     "wait for a download job; prints the failed URLs, exit 9 when some failed",
     "ais job wait download JOB_ID --progress\nais job wait download JOB_ID --timeout 10m",
     CLI_FM(CLI_F_TIMEOUT),
     1,
     1,
     {CLI_COMP_DLJOB, 0, 0},
     cli_cmd_dl_wait,
     NULL},
    DSORT_WAIT_CMD("dsort"),
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

static const struct cli_cmd dl_start_cmds[] = {
    DOWNLOAD_CMD("download"),
    DSORT_START_CMD("dsort"),
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

static const struct cli_cmd job_cmds[] = {
    {"ls",
     "list",
     "[KIND]",
     "list jobs (running ones; --all for finished, aborted and failed too)",
     "ais job ls\nais job ls --all\nais job ls rebalance --all --json",
     JOB_LS_FLAGS,
     0,
     1,
     {CLI_COMP_KIND, 0, 0},
     cli_cmd_job_ls,
     dl_show_cmds},
    {"show",
     NULL,
     "[JOB_ID|KIND]",
     "show one job per node with a summary (a KIND lists its jobs; nothing lists all)",
     "ais job show 9kD3xTqPz\nais job show rebalance\nais job show 9kD3xTqPz --json",
     JOB_LS_FLAGS,
     0,
     1,
     {CLI_COMP_JOB, 0, 0},
     cli_cmd_job_show,
     dl_show_cmds},
    {"start",
     NULL,
     "KIND [BUCKET]",
     "start a job on every target: rebalance (of the current cluster map), or scrub / "
     "make-n-copies of BUCKET (scrub verifies every copy's checksum and repairs from mirror "
     "copies; make-n-copies applies the bucket's mirror.copies)",
     "ais job start rebalance\nais job start scrub ais://images",
     0,
     1,
     2,
     {CLI_COMP_KIND, CLI_COMP_BUCKET, 0},
     cli_cmd_job_start,
     dl_start_cmds},
    {"stop",
     NULL,
     "JOB_ID|KIND",
     "abort a job (a download or dSort job too), or every running job of a kind",
     "ais job stop 9kD3xTqPz\nais job stop rebalance\nais job stop download JOB_ID\n"
     "ais job stop srt-Ab12Cd34Ef5",
     0,
     1,
     1,
     {CLI_COMP_JOB, 0, 0},
     cli_cmd_job_stop,
     dl_stop_cmds},
    {"wait",
     NULL,
     "JOB_ID|KIND",
     "wait for a job (or the running jobs of a kind) to end; --progress draws a bar",
     "ais job wait 9kD3xTqPz\nais job wait 9kD3xTqPz --timeout 5m --progress\n"
     "ais job wait rebalance\nais job wait srt-Ab12Cd34Ef5",
     CLI_FM(CLI_F_TIMEOUT),
     1,
     1,
     {CLI_COMP_JOB, 0, 0},
     cli_cmd_job_wait,
     dl_wait_cmds},
    {"rm",
     "remove",
     "download|dsort JOB_ID",
     "forget a finished download or dSort job",
     NULL,
     0,
     0,
     0,
     {0, 0, 0},
     NULL,
     dl_rm_cmds},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

#define LOG_SHOW_CMD(name, what)                                                                   \
    {                                                                                              \
        name, NULL, "NODE_ID [--lines N]", what,                                                   \
            "ais log show t[tX1bc]\nais log show p1dd0 --lines 50", CLI_FM(CLI_F_LINES), 1, 1,     \
            {CLI_COMP_NONE, 0, 0}, cli_cmd_log_show, NULL                                          \
    }

static const struct cli_cmd ml_cmds[] = {
    {"get-batch",
     NULL,
     "[SRC ...] DST_ARCHIVE",
     "get objects (BUCKET/OBJ, or BUCKET --list NAMES, or --spec FILE) as one TAR, in order",
     "ais ml get-batch ais://dataset --list a.wav,b.wav training.tar\n"
     "ais ml get-batch ais://b/x.jpg ais://c/y.jpg out.tar --streaming\n"
     "ais ml get-batch --spec batch.json out.tar --cont-on-err",
     CLI_FM(CLI_F_LIST) | CLI_FM(CLI_F_SPEC) | CLI_FM(CLI_F_CONT_ON_ERR) | CLI_FM(CLI_F_STREAMING) |
         CLI_FM(CLI_F_OMIT_SRC_BCK),
     1,
     -1,
     {CLI_COMP_OBJECT, CLI_COMP_OBJECT, CLI_COMP_FILE},
     cli_cmd_ml_get_batch,
     NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

static const struct cli_cmd archive_cmds[] = {
    {"put",
     NULL,
     "FILE BUCKET/SHARD [--archpath NAME]",
     "archive a local file as a member of a .tar shard (--append: of an existing one)",
     "ais archive put ./img.jpg ais://data/shard-000.tar --archpath train/img.jpg --append\n"
     "ais archive put ./x.cls ais://data/new.tar --archpath x.cls --append-or-put",
     CLI_FM(CLI_F_ARCHPATH) | CLI_FM(CLI_F_APPEND) | CLI_FM(CLI_F_APPEND_OR_PUT),
     2,
     2,
     {CLI_COMP_FILE, CLI_COMP_OBJECT, 0},
     cli_cmd_archive_put,
     NULL},
    {"bucket",
     NULL,
     "SRC_BUCKET[/NAME|/TEMPLATE] DST_BUCKET/SHARD [--list L | --template T]",
     "archive objects of a bucket into one shard (.tar, .tgz, .zip, .tar.lz4), as a job",
     "ais archive bucket ais://src ais://dst/a.tar --template 'obj-{000..099}' --wait\n"
     "ais archive bucket ais://src ais://dst/b.tgz --list a.jpg,b.jpg --cont-on-err\n"
     "ais archive bucket 'ais://src/obj-{100..199}' ais://dst/a.tar --append-or-put",
     CLI_FM(CLI_F_LIST) | CLI_FM(CLI_F_TEMPLATE) | CLI_FM(CLI_F_CONT_ON_ERR) |
         CLI_FM(CLI_F_INCL_SRC_BCK) | CLI_FM(CLI_F_APPEND_OR_PUT) | WAIT_FLAGS,
     2,
     2,
     {CLI_COMP_BUCKET, CLI_COMP_OBJECT, 0},
     cli_cmd_archive_bucket,
     NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

static const struct cli_cmd log_cmds[] = {
    LOG_SHOW_CMD("show", "print a node's current log (its last 1MiB; --lines: the last N lines)"),
    {"get",
     NULL,
     "NODE_ID|cluster [FILE|DIR|-]",
     "save a node's whole current log to FILE, DIR/NODE_ID.log (default: .) or stdout (-); "
     "`cluster`: every node's into DIR",
     "ais log get t[tX1bc] /tmp/t1.log\nais log get tX1bc /tmp/logs/\nais log get p1dd0 -\n"
     "ais log get cluster /tmp/logs",
     0,
     1,
     2,
     {CLI_COMP_NONE, CLI_COMP_FILE, 0},
     cli_cmd_log_get,
     NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

static const struct cli_cmd show_cmds[] = {
    {"performance",
     "perf",
     "[--refresh D] [--count N]",
     "per target: GET and PUT ops/s, MiB/s and mean latency, errors, over an interval (1s; "
     "--refresh repeats every D until --count reports or Ctrl-C)",
     "ais show performance\nais show performance --refresh 5s\n"
     "ais show performance --refresh 1s --count 10 --json",
     CLI_FM_OUT | CLI_FM(CLI_F_RAW) | CLI_FM(CLI_F_REFRESH) | CLI_FM(CLI_F_ITERS),
     0,
     0,
     {0, 0, 0},
     cli_cmd_perf_show,
     NULL},
    LOG_SHOW_CMD("log", "same as `ais log show`"),
    {"cluster",
     NULL,
     "[proxy|target]",
     "same as `ais cluster show`",
     "ais show cluster",
     CLI_FM_OUT | CLI_FM(CLI_F_RAW),
     0,
     1,
     {0, 0, 0},
     cli_cmd_cluster_show,
     NULL},
    {"config",
     NULL,
     "[KEY_PREFIX]",
     "same as `ais config show`",
     "ais show config rebalance",
     CLI_FM_OUT,
     0,
     1,
     {0, 0, 0},
     cli_cmd_config_show,
     NULL},
    {"stats",
     NULL,
     "[NODE_ID]",
     "request and byte counters per node; NODE_ID (from `ais cluster show`): all its metrics",
     "ais show stats\nais show stats --raw\nais show stats --json",
     CLI_FM_OUT | CLI_FM(CLI_F_RAW),
     0,
     1,
     {0, 0, 0},
     cli_cmd_stats_show,
     NULL},
    {"storage",
     NULL,
     "",
     "mountpaths of every target",
     "ais show storage",
     CLI_FM_OUT,
     0,
     0,
     {0, 0, 0},
     cli_cmd_storage_show,
     NULL},
    {"bucket",
     NULL,
     "BUCKET [PROP_PREFIX]",
     "same as `ais bucket props show`",
     "ais show bucket ais://images",
     CLI_FM_OUT,
     1,
     2,
     {CLI_COMP_BUCKET, 0, 0},
     cli_cmd_props_show,
     NULL},
    {"object",
     NULL,
     "BUCKET/NAME",
     "same as `ais object stat`",
     "ais show object ais://b/o",
     CLI_FM_OUT | CLI_FM(CLI_F_RAW),
     1,
     1,
     {CLI_COMP_OBJECT, 0, 0},
     cli_cmd_obj_stat,
     NULL},
    {"job",
     NULL,
     "[JOB_ID|KIND]",
     "same as `ais job show` (no argument: `ais job ls`)",
     "ais show job\nais show job --all\nais show job 9kD3xTqPz\nais show job download",
     JOB_LS_FLAGS,
     0,
     1,
     {CLI_COMP_JOB, 0, 0},
     cli_cmd_job_show,
     dl_show_cmds},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

#define MPATH_CMD(verb, what, fn)                                                                  \
    {                                                                                              \
        verb, NULL, "NODE_ID PATH", what, "ais storage mountpath " verb " t1 /data/disk3", 0, 2,   \
            2, {CLI_COMP_NONE, CLI_COMP_FILE, 0}, fn, NULL                                         \
    }

static const struct cli_cmd mpath_cmds[] = {
    MPATH_CMD("attach", "add a mountpath to a target (then resilver)", cli_cmd_mpath_attach),
    MPATH_CMD("detach", "move objects off a mountpath and remove it", cli_cmd_mpath_detach),
    MPATH_CMD("enable", "use a disabled mountpath again (then resilver)", cli_cmd_mpath_enable),
    MPATH_CMD("disable", "stop placing objects on a mountpath (then resilver)",
              cli_cmd_mpath_disable),
    {"show",
     NULL,
     "",
     "mountpaths of every target",
     "ais storage mountpath show",
     CLI_FM_OUT,
     0,
     0,
     {0, 0, 0},
     cli_cmd_storage_show,
     NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

static const struct cli_cmd storage_cmds[] = {
    /* First: the word "mountpath" is also an alias of "show" below (`ais storage mountpath`
     * without a subcommand still shows them, via "mountpath show"). */
    {"mountpath",
     NULL,
     "COMMAND",
     "attach, detach, enable or disable a target's mountpath",
     NULL,
     0,
     0,
     0,
     {0, 0, 0},
     NULL,
     mpath_cmds},
    {"summary",
     NULL,
     "[BUCKET...]",
     "object count and total size per bucket (same as `ais bucket summary`)",
     "ais storage summary\nais storage summary ais://images",
     CLI_FM_OUT | CLI_FM(CLI_F_RAW),
     0,
     -1,
     {CLI_COMP_BUCKET, 0, 0},
     cli_cmd_bucket_summary,
     NULL},
    {"show",
     "mountpath",
     "",
     "mountpaths of every target",
     "ais storage show",
     CLI_FM_OUT,
     0,
     0,
     {0, 0, 0},
     cli_cmd_storage_show,
     NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

static int cmd_help(struct cli_ctx *ctx, const struct cli_args *a);

static int
cmd_version(struct cli_ctx *ctx, const struct cli_args *a)
{
    (void)a;
    fprintf(ctx->out, "ais version %s\n", CLI_VERSION);
    return 0;
}

const struct cli_cmd cli_root[] = {
    {"bucket",
     NULL,
     "COMMAND",
     "create, list, copy, evict, destroy buckets; show and set their properties",
     NULL,
     0,
     0,
     0,
     {0, 0, 0},
     NULL,
     bucket_cmds},
    {"object",
     NULL,
     "COMMAND",
     "put, get, delete, stat, print, prefetch, evict and promote objects",
     NULL,
     0,
     0,
     0,
     {0, 0, 0},
     NULL,
     object_cmds},
    {"ls",
     NULL,
     "[BUCKET[/PREFIX]]",
     "list objects of a bucket (no argument: list buckets)",
     "ais ls\nais ls ais://images\nais ls ais://images/train/ --props size,checksum,atime\n"
     "ais ls ais://images --limit 100 --json",
     OBJ_LS_FLAGS,
     0,
     1,
     {CLI_COMP_OBJECT, 0, 0},
     cli_cmd_ls,
     NULL},
    {"put",
     NULL,
     "FILE|DIR BUCKET[/NAME]",
     "upload a file, or a directory recursively (-r) with --conc parallel transfers",
     "ais put photo.jpg ais://images\nais put photo.jpg ais://images/2024/photo.jpg\n"
     "ais put ./dataset ais://images/train/ -r --conc 16",
     CLI_FM(CLI_F_RECURSIVE) | CLI_FM(CLI_F_CONC),
     2,
     2,
     {CLI_COMP_FILE, CLI_COMP_OBJECT, 0},
     cli_cmd_put,
     NULL},
    {"get",
     NULL,
     "BUCKET[/NAME] [FILE|DIR|-]",
     "download an object (to FILE, or stdout with -), or many objects into DIR",
     "ais get ais://images/photo.jpg\nais get ais://images/photo.jpg /tmp/p.jpg\n"
     "ais get ais://logs/app.log - --offset 1024 --length 4KiB\n"
     "ais get ais://images/train/ ./out -r",
     RANGE_FLAGS | CLI_FM(CLI_F_RECURSIVE) | CLI_FM(CLI_F_PREFIX) | CLI_FM(CLI_F_CONC) |
         CLI_FM(CLI_F_ARCHPATH),
     1,
     2,
     {CLI_COMP_OBJECT, CLI_COMP_FILE, 0},
     cli_cmd_get,
     NULL},
    {"cluster",
     NULL,
     "COMMAND",
     "show the cluster map; node maintenance, decommission and shutdown",
     NULL,
     0,
     0,
     0,
     {0, 0, 0},
     NULL,
     cluster_cmds},
    {"show",
     NULL,
     "COMMAND",
     "show cluster, config, stats, storage, bucket, object or job",
     NULL,
     0,
     0,
     0,
     {0, 0, 0},
     NULL,
     show_cmds},
    {"config",
     NULL,
     "COMMAND",
     "show and update the cluster configuration",
     NULL,
     0,
     0,
     0,
     {0, 0, 0},
     NULL,
     config_cmds},
    {"storage",
     NULL,
     "COMMAND",
     "show mountpaths, manage them; bucket summary",
     NULL,
     0,
     0,
     0,
     {0, 0, 0},
     NULL,
     storage_cmds},
    RMO_CMD("rmo", NULL),
    PREFETCH_CMD("prefetch"),
    EVICT_CMD("evict"),
    DOWNLOAD_CMD("download"),
    PROMOTE_CMD("promote"),
    {"job",
     NULL,
     "COMMAND",
     "list, show, stop and wait for jobs (rebalance, resilver, downloads, multi-object "
     "operations)",
     NULL,
     0,
     0,
     0,
     {0, 0, 0},
     NULL,
     job_cmds},
    {"dsort",
     NULL,
     "COMMAND",
     "distributed sort and reshard of .tar/.tgz/.zip/.tar.lz4 shards: start, show, wait, stop, "
     "rm jobs; gen a test dataset",
     NULL,
     0,
     0,
     0,
     {0, 0, 0},
     NULL,
     dsort_cmds},
    {"start",
     NULL,
     "KIND [BUCKET] | download SRC [DST] | dsort SPEC [SRC_BUCKET [DST_BUCKET]]",
     "start a job (same as `ais job start`; `ais start dsort` as `ais dsort start`)",
     "ais start rebalance\nais start dsort spec.json ais://src ais://dst --wait\n"
     "ais start download https://example.com/a.tar ais://data/",
     0,
     1,
     2,
     {CLI_COMP_KIND, CLI_COMP_BUCKET, 0},
     cli_cmd_job_start,
     dl_start_cmds},
    {"stop",
     NULL,
     "JOB_ID|KIND | download JOB_ID | dsort JOB_ID",
     "abort a job (same as `ais job stop`; srt- ids are dSort jobs)",
     "ais stop dsort srt-Ab12Cd34Ef5\nais stop srt-Ab12Cd34Ef5\nais stop rebalance",
     0,
     1,
     1,
     {CLI_COMP_JOB, 0, 0},
     cli_cmd_job_stop,
     dl_stop_cmds},
    {"wait",
     NULL,
     "JOB_ID|KIND | download JOB_ID | dsort JOB_ID",
     "wait for a job to end (same as `ais job wait`; srt- ids are dSort jobs)",
     "ais wait dsort srt-Ab12Cd34Ef5 --timeout 1h\nais wait srt-Ab12Cd34Ef5 --progress\n"
     "ais wait rebalance",
     CLI_FM(CLI_F_TIMEOUT),
     1,
     1,
     {CLI_COMP_JOB, 0, 0},
     cli_cmd_job_wait,
     dl_wait_cmds},
    {"archive",
     NULL,
     "COMMAND",
     "write shards: append a file to a .tar, archive a list or template of objects",
     NULL,
     0,
     0,
     0,
     {0, 0, 0},
     NULL,
     archive_cmds},
    {"ml",
     NULL,
     "COMMAND",
     "ML data loading: batch GET of many objects and archived files as one archive",
     NULL,
     0,
     0,
     0,
     {0, 0, 0},
     NULL,
     ml_cmds},
    {"log",
     NULL,
     "COMMAND",
     "show or save a node's log, or every node's",
     NULL,
     0,
     0,
     0,
     {0, 0, 0},
     NULL,
     log_cmds},
    {"search",
     NULL,
     "KEYWORD",
     "find commands by keyword",
     "ais search props",
     0,
     1,
     1,
     {0, 0, 0},
     cli_cmd_search,
     NULL},
    {"version",
     NULL,
     "",
     "print the CLI version (same as --version)",
     "ais version",
     0,
     0,
     0,
     {0, 0, 0},
     cmd_version,
     NULL},
    {"completion",
     NULL,
     "bash",
     "print the bash completion script",
     "source <(ais completion bash)\nais completion bash > /etc/bash_completion.d/ais",
     0,
     1,
     1,
     {CLI_COMP_SHELL, 0, 0},
     cli_cmd_completion,
     NULL},
    {"help",
     NULL,
     "[COMMAND...]",
     "show help for a command",
     "ais help bucket props",
     0,
     0,
     -1,
     {CLI_COMP_CMD, CLI_COMP_CMD, CLI_COMP_CMD},
     cmd_help,
     NULL},
    {"__complete",
     NULL,
     "LINE [WORDBREAKS]",
     "completion helper (used by the bash script)",
     NULL,
     0,
     1,
     2,
     {0, 0, 0},
     cli_cmd_complete,
     NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, {0, 0, 0}, NULL, NULL},
};

const struct cli_cmd *
cli_cmd_find(const struct cli_cmd *list, const char *name)
{
    for (; list != NULL && list->name != NULL; list++) {
        if (strcmp(list->name, name) == 0 || (list->alias && strcmp(list->alias, name) == 0)) {
            return list;
        }
    }
    return NULL;
}

/* ---- context helpers ---- */

void
cli_errorf(struct cli_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->conn.errmsg, sizeof(ctx->conn.errmsg), fmt, ap);
    va_end(ap);
}

bool
cli_progress_wanted(const struct cli_ctx *ctx)
{
    return ctx->progress == CLI_PROGRESS_ON || (ctx->progress == CLI_PROGRESS_AUTO && ctx->err_tty);
}

int
cli_confirm(struct cli_ctx *ctx, const char *prompt)
{
    char line[64];
    if (ctx->yes) {
        return 0;
    }
    fprintf(ctx->err, "%s [y/N]: ", prompt);
    fflush(ctx->err);
    if (fgets(line, sizeof(line), ctx->in) == NULL) {
        fputc('\n', ctx->err);
        cli_errorf(ctx, "not confirmed (no answer on stdin); use --yes to skip the prompt");
        return -ECANCELED;
    }
    if (strcasecmp(line, "y\n") == 0 || strcasecmp(line, "yes\n") == 0) {
        return 0;
    }
    cli_errorf(ctx, "not confirmed; nothing was changed");
    return -ECANCELED;
}

void
cli_print_json(struct cli_ctx *ctx, const json_t *j)
{
    json_dumpf(j, ctx->out, JSON_INDENT(2) | JSON_ENCODE_ANY);
    fputc('\n', ctx->out);
}

int
cli_exit_code(int err)
{
    switch (err) {
    case 0:
        return CLI_EXIT_OK;
    case CLI_EUSAGE:
    case AIS_EBADNAME:
        return CLI_EXIT_USAGE;
    case -ENOENT:
        return CLI_EXIT_NOTFOUND;
    case -EEXIST:
        return CLI_EXIT_EXISTS;
    case -ECONNREFUSED:
    case -EHOSTUNREACH:
    case -ENETUNREACH:
    case -ETIMEDOUT:
    case -ECONNRESET:
        return CLI_EXIT_UNREACHABLE;
    case CLI_ESERVER:
        return CLI_EXIT_SERVER;
    case -ECANCELED:
        return CLI_EXIT_CANCELED;
    case CLI_EWAITTIMEOUT:
        return CLI_EXIT_TIMEOUT;
    case CLI_EJOBFAIL:
        return CLI_EXIT_JOBFAIL;
    default:
        return CLI_EXIT_FAIL;
    }
}

/* ---- help ---- */

static void
help_flags(FILE *f, uint64_t mask)
{
    fprintf(f, "\nFLAGS:\n");
    for (int i = 0; i < CLI_F_COUNT; i++) {
        if (!(mask & CLI_FM(i))) {
            continue;
        }
        char lhs[64];
        const struct cli_flag_def *d = &cli_flags[i];
        int w = snprintf(lhs, sizeof(lhs), "--%s%s%s", d->lng, d->has_value ? " " : "",
                         d->has_value ? d->value : "");
        if (d->shrt != 0 && w > 0 && (size_t)w < sizeof(lhs)) {
            snprintf(lhs + w, sizeof(lhs) - (size_t)w, ", -%c", d->shrt);
        }
        fprintf(f, "   %-22s %s\n", lhs, d->help);
    }
}

static void
help_examples(FILE *f, const char *ex)
{
    if (ex == NULL) {
        return;
    }
    fprintf(f, "\nEXAMPLES:\n   ");
    for (; *ex != '\0'; ex++) {
        fputc(*ex, f);
        if (*ex == '\n') {
            fputs("   ", f);
        }
    }
    fputc('\n', f);
}

static void
help_root(FILE *f)
{
    fprintf(f, "ais - command-line tool for AIStore clusters (version %s)\n\n", CLI_VERSION);
    fprintf(f, "USAGE:\n   ais COMMAND [SUBCOMMAND] [ARGS...] [flags]\n\nCOMMANDS:\n");
    for (const struct cli_cmd *c = cli_root; c->name != NULL; c++) {
        if (c->name[0] != '_') {
            fprintf(f, "   %-12s %s\n", c->name, c->summary);
        }
    }
    help_flags(f, CLI_FM_GLOBAL);
    fprintf(f, "   %-22s %s\n", "--version", "print the version");
    fprintf(f, "\nBuckets are written ais://NAME (plain NAME works too); objects BUCKET/NAME.\n");
    fprintf(f, "\nENVIRONMENT:\n   AIS_ENDPOINT   cluster gateway URL (also AIS_URL; default %s)\n",
            CLI_DEFAULT_ENDPOINT);
    fprintf(f, "\nEXIT CODES:\n   0 ok, 1 local failure, 2 usage, 3 not found, 4 already exists,\n"
               "   5 cluster unreachable, 6 other cluster error, 7 not confirmed,\n"
               "   8 job wait timed out, 9 job failed or aborted\n");
    help_examples(f, "ais bucket create ais://images\nais put ./photos ais://images -r\n"
                     "ais ls ais://images --props size,atime\n"
                     "ais get ais://images/cat.jpg /tmp/cat.jpg\nais cluster show\n"
                     "ais CMD --help");
}

void
cli_help_print(FILE *f, const struct cli_cmd *cmd, const char *path)
{
    if (cmd == NULL) {
        help_root(f);
        return;
    }
    fprintf(f, "NAME:\n   ais %s - %s\n", path, cmd->summary);
    if (cmd->alias != NULL) {
        fprintf(f, "   (alias: %s)\n", cmd->alias);
    }
    fprintf(f, "\nUSAGE:\n   ais %s %s [flags]\n", path, cmd->args);
    if (cmd->subs != NULL) {
        fprintf(f, "\nCOMMANDS:\n");
        for (const struct cli_cmd *s = cmd->subs; s->name != NULL; s++) {
            fprintf(f, "   %-10s %s\n", s->name, s->summary);
        }
    }
    help_flags(f, cmd->flags | CLI_FM_GLOBAL);
    help_examples(f, cmd->examples);
}

static int
cmd_help(struct cli_ctx *ctx, const struct cli_args *a)
{
    const struct cli_cmd *list = cli_root;
    const struct cli_cmd *cmd = NULL;
    char path[128] = "";
    for (int i = 0; i < a->npos; i++) {
        const struct cli_cmd *c = cli_cmd_find(list, a->pos[i]);
        if (c == NULL) {
            cli_errorf(ctx, "no help for unknown command \"%s\"", a->pos[i]);
            return CLI_EUSAGE;
        }
        cmd = c;
        size_t l = strlen(path);
        snprintf(path + l, sizeof(path) - l, "%s%s", l > 0 ? " " : "", c->name);
        list = c->subs;
    }
    cli_help_print(ctx->out, cmd, path);
    return 0;
}

static void
search_walk(struct cli_ctx *ctx, const struct cli_cmd *list, const char *prefix, const char *kw,
            int *found)
{
    for (const struct cli_cmd *c = list; c != NULL && c->name != NULL; c++) {
        char path[128];
        snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? " " : "", c->name);
        if (c->name[0] == '_') {
            continue;
        }
        if (c->run != NULL && (strcasestr(path, kw) != NULL || strcasestr(c->summary, kw))) {
            fprintf(ctx->out, "ais %-28s %s\n", path, c->summary);
            (*found)++;
        }
        search_walk(ctx, c->subs, path, kw, found);
    }
}

int
cli_cmd_search(struct cli_ctx *ctx, const struct cli_args *a)
{
    int found = 0;
    search_walk(ctx, cli_root, "", a->pos[0], &found);
    if (found == 0) {
        cli_errorf(ctx, "no command matches \"%s\"", a->pos[0]);
        return -ENOENT;
    }
    return 0;
}

/* ---- dispatch ---- */

static int
unknown_cmd(struct cli_ctx *ctx, const struct cli_cmd *list, const char *word, const char *path)
{
    const char *cands[64];
    size_t n = 0;
    for (const struct cli_cmd *c = list; c->name != NULL && n + 2 <= 64; c++) {
        if (c->name[0] != '_') {
            cands[n++] = c->name;
            if (c->alias != NULL) {
                cands[n++] = c->alias;
            }
        }
    }
    const char *best = cli_suggest(word, cands, n);
    char where[160];
    snprintf(where, sizeof(where), "ais%s%s", path[0] ? " " : "", path);
    if (best != NULL) {
        cli_errorf(ctx, "unknown command \"%s\"; did you mean \"%s %s\"? (see '%s --help')", word,
                   where, best, where);
    } else {
        cli_errorf(ctx, "unknown command \"%s\" (see '%s --help')", word, where);
    }
    return CLI_EUSAGE;
}

static void
apply_flags(struct cli_ctx *ctx, const struct cli_args *a)
{
    ctx->json = cli_flag_on(a, CLI_F_JSON);
    ctx->no_headers = cli_flag_on(a, CLI_F_NO_HEADERS);
    ctx->yes = cli_flag_on(a, CLI_F_YES);
    ctx->raw = cli_flag_on(a, CLI_F_RAW);
    if (cli_flag_on(a, CLI_F_NO_PROGRESS)) {
        ctx->progress = CLI_PROGRESS_OFF;
    } else if (cli_flag_on(a, CLI_F_PROGRESS)) {
        ctx->progress = CLI_PROGRESS_ON;
    }
}

static int
run_cmd(struct cli_ctx *ctx, const struct cli_cmd *cmd, const char *path, int argc, char **argv)
{
    struct cli_args a;
    char why[256];
    int err = cli_args_parse(argc, argv, cmd->flags | CLI_FM_GLOBAL, &a, why, sizeof(why));
    if (err < 0) {
        cli_errorf(ctx, "%s (see 'ais %s --help')", why, path);
        return err;
    }
    if (cli_flag_on(&a, CLI_F_HELP) || cmd->run == NULL) {
        cli_help_print(cmd->run == NULL && !cli_flag_on(&a, CLI_F_HELP) ? ctx->err : ctx->out, cmd,
                       path);
        if (cmd->run == NULL && !cli_flag_on(&a, CLI_F_HELP)) {
            cli_errorf(ctx, "missing subcommand for 'ais %s'", path);
            return CLI_EUSAGE;
        }
        return 0;
    }
    if (a.npos < cmd->min_args || (cmd->max_args >= 0 && a.npos > cmd->max_args)) {
        cli_errorf(ctx, "%s arguments; usage: ais %s %s (see 'ais %s --help')",
                   a.npos < cmd->min_args ? "missing" : "too many", path, cmd->args, path);
        return CLI_EUSAGE;
    }
    apply_flags(ctx, &a);
    return cmd->run(ctx, &a);
}

int
cli_dispatch(struct cli_ctx *ctx, int argc, char **argv)
{
    const struct cli_cmd *list = cli_root;
    const struct cli_cmd *cmd = NULL;
    char path[128] = "";
    int i = 0;
    if (argc == 0 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        help_root(ctx->out);
        return 0;
    }
    if (strcmp(argv[0], "--version") == 0) {
        fprintf(ctx->out, "ais version %s\n", CLI_VERSION);
        return 0;
    }
    for (; i < argc && list != NULL; i++) {
        const struct cli_cmd *c = cli_cmd_find(list, argv[i]);
        if (c == NULL) {
            /* A runnable command with subcommands (`job show` and `job show download`) takes
             * any other word as its first argument. */
            if (argv[i][0] == '-' || (cmd != NULL && cmd->run != NULL)) {
                break;
            }
            return unknown_cmd(ctx, list, argv[i], path);
        }
        cmd = c;
        size_t l = strlen(path);
        snprintf(path + l, sizeof(path) - l, "%s%s", l > 0 ? " " : "", c->name);
        list = c->subs;
    }
    if (cmd == NULL) {
        cli_errorf(ctx, "expected a command before \"%s\" (see 'ais --help')", argv[0]);
        return CLI_EUSAGE;
    }
    return run_cmd(ctx, cmd, path, argc - i, argv + i);
}

int
cli_main(int argc, char **argv, const char *endpoint)
{
    struct cli_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    snprintf(ctx.endpoint, sizeof(ctx.endpoint), "%s",
             endpoint != NULL && endpoint[0] != '\0' ? endpoint : CLI_DEFAULT_ENDPOINT);
    ctx.out = stdout;
    ctx.err = stderr;
    ctx.in = stdin;
    ctx.err_tty = isatty(STDERR_FILENO) == 1;
    ctx.out_tty = isatty(STDOUT_FILENO) == 1;
    ctx.progress = CLI_PROGRESS_AUTO;
    int err = -ENOMEM;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "Error: cannot initialise libcurl\n");
        return CLI_EXIT_FAIL;
    }
    if (cli_conn_init(&ctx.conn, ctx.endpoint) == 0) {
        err = cli_dispatch(&ctx, argc > 0 ? argc - 1 : 0, argv + (argc > 0 ? 1 : 0));
    }
    fflush(ctx.out);
    if (err != 0) {
        fprintf(stderr, "Error: %s\n",
                ctx.conn.errmsg[0] != '\0' ? ctx.conn.errmsg : ais_strerror(err));
    }
    cli_conn_fini(&ctx.conn);
    curl_global_cleanup();
    return cli_exit_code(err);
}
