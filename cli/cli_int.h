/*
 * Shared within cli/ only: invocation context, argument parsing, formatting, HTTP, progress
 * and the command table. The unit tests in test/cli/ include it too.
 */
#ifndef AIS_CLI_CLI_INT_H
#define AIS_CLI_CLI_INT_H

#include "common/limits.h"
#include "common/util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- limits (the CLI's own; the server's are in common/limits.h) ---- */

/* Positional arguments of one command: more than a shell line is likely to carry. */
#define CLI_ARGS_MAX 256
/* One error line; server messages are short sentences. */
#define CLI_ERRMSG_BYTES 1024
/* Endpoint or target URL plus path and query. */
#define CLI_URL_BYTES_MAX (AIS_URI_BYTES_MAX + 512)
/* TCP connect to a node; a local cluster answers in milliseconds. */
#define CLI_CONNECT_TIMEOUT_MS 5000
/* Whole control-plane request (bucket/cluster/config calls). */
#define CLI_CTRL_TIMEOUT_MS 60000
/* Completion runs while the user waits on TAB: keep it short. */
#define CLI_COMPLETE_TIMEOUT_MS 2000
/* Data transfers have no total deadline but abort below 1 byte/s for this long. */
#define CLI_LOW_SPEED_TIME_S 60
/* Redirects per request: gateway -> target is one. */
#define CLI_REDIRECTS_MAX 5
/* Response headers kept per response, and the bytes of one header line. */
#define CLI_HDRS_MAX 64
#define CLI_HDR_BYTES_MAX 8192
/* In-memory responses (JSON): one list page of AIS_LIST_PAGE_MAX entries fits easily. */
#define CLI_RESP_BYTES_MAX AIS_RPC_MSG_BYTES_MAX
/* Pages of one listing: a counted bound on a loop over server input. */
#define CLI_LIST_PAGES_MAX 1000000
/* Objects completion asks for (one page); more is not useful on a terminal. */
#define CLI_COMPLETE_OBJS_MAX 1000
/* Concurrent transfers of a multi-object PUT/GET. */
#define CLI_WORKERS_DEFAULT 8
#define CLI_WORKERS_MAX 64
/* Files in one multi-object PUT/GET. */
#define CLI_FILES_MAX 1000000
/* Single-object transfers smaller than this get no progress bar. */
#define CLI_PROGRESS_MIN_BYTES (1u << 20)
/* Progress redraw interval. */
#define CLI_PROGRESS_TICK_MS 200
/* Table columns. */
#define CLI_TABLE_COLS_MAX 16
/* Transfer buffer for local file I/O. */
#define CLI_IO_BUF_BYTES (256u << 10)

#define CLI_VERSION "0.1.0"
#define CLI_DEFAULT_ENDPOINT "http://127.0.0.1:8080"

/* ---- errors and exit codes ---- */

/* CLI-only codes below the common domain range (common/err.h stops at -1009). */
enum {
    CLI_EUSAGE = -1100,       /* bad command line */
    CLI_ESERVER = -1101,      /* the cluster answered with an error other than 404/409 */
    CLI_EWAITTIMEOUT = -1102, /* `job wait` deadline passed with the job still running */
    CLI_EJOBFAIL = -1103,     /* the job ended with an error or was aborted */
};

/* Exit codes scripts can rely on; docs/cli.md has the table. */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,        /* local failure: file I/O, out of memory, bad JSON */
    CLI_EXIT_USAGE = 2,       /* bad command, flag or argument */
    CLI_EXIT_NOTFOUND = 3,    /* bucket, object or local file does not exist */
    CLI_EXIT_EXISTS = 4,      /* already exists / conflict (409) */
    CLI_EXIT_UNREACHABLE = 5, /* cannot connect to the cluster, or it timed out */
    CLI_EXIT_SERVER = 6,      /* any other error reported by the cluster */
    CLI_EXIT_CANCELED = 7,    /* confirmation declined */
    CLI_EXIT_TIMEOUT = 8,     /* `job wait --timeout` passed before the job ended */
    CLI_EXIT_JOBFAIL = 9,     /* the job ended with an error or was aborted */
};

/* Maps a negative errno / CLI code to an exit code. */
int cli_exit_code(int err);

/* ---- flags and arguments ---- */

enum cli_flag {
    CLI_F_HELP,
    CLI_F_JSON,
    CLI_F_NO_HEADERS,
    CLI_F_YES,
    CLI_F_NO_PROGRESS,
    CLI_F_PROGRESS,
    CLI_F_RECURSIVE,
    CLI_F_LIMIT,
    CLI_F_PROPS,
    CLI_F_PAGE_SIZE,
    CLI_F_PREFIX,
    CLI_F_OFFSET,
    CLI_F_LENGTH,
    CLI_F_CONC,
    CLI_F_RAW,
    CLI_F_ALL,
    CLI_F_TIMEOUT,
    CLI_F_SKIP_REBALANCE,
    CLI_F_TEMPLATE,
    CLI_F_LIST,
    CLI_F_LATEST,
    CLI_F_WAIT,
    CLI_F_KEEP_MD,
    CLI_F_DESCRIPTION,
    CLI_F_DL_TIMEOUT,
    CLI_F_OBJECT_LIST,
    CLI_F_REGEX,
    CLI_F_OVERWRITE_DST,
    CLI_F_DELETE_SRC,
    CLI_F_TARGET_ID,
    CLI_F_NOT_FILE_SHARE,
    CLI_F_LINES,
    CLI_F_REFRESH,
    CLI_F_ITERS,        /* --count: reports of a --refresh loop */
    CLI_F_ARCHIVE,      /* ls BUCKET[/SHARD] --archive: the shard's (every shard's) members */
    CLI_F_ARCHPATH,     /* get --archpath MEMBER */
    CLI_F_SPEC,         /* ml get-batch --spec FILE */
    CLI_F_CONT_ON_ERR,  /* ml get-batch: coer */
    CLI_F_STREAMING,    /* ml get-batch: strm */
    CLI_F_OMIT_SRC_BCK, /* ml get-batch: onob */
    CLI_F_RECORDS,      /* dsort gen */
    CLI_F_RECORD_SIZE,
    CLI_F_EXTS,
    CLI_F_SEED,
    CLI_F_APPEND,        /* archive put: the shard must exist */
    CLI_F_APPEND_OR_PUT, /* archive put|bucket: append, or create the shard */
    CLI_F_INCL_SRC_BCK,  /* archive bucket: isbn */
    CLI_F_COUNT,
};

#define CLI_FM(f) (UINT64_C(1) << (f))
/* Flags every command accepts. */
#define CLI_FM_GLOBAL (CLI_FM(CLI_F_HELP) | CLI_FM(CLI_F_NO_PROGRESS) | CLI_FM(CLI_F_PROGRESS))
#define CLI_FM_OUT (CLI_FM(CLI_F_JSON) | CLI_FM(CLI_F_NO_HEADERS))

struct cli_flag_def {
    const char *lng;   /* long name without "--" */
    char shrt;         /* short letter or 0 */
    bool has_value;    /* takes a value (next word or --name=value) */
    const char *value; /* value placeholder for help */
    const char *help;
};

extern const struct cli_flag_def cli_flags[CLI_F_COUNT];

struct cli_args {
    int npos;
    const char *pos[CLI_ARGS_MAX];
    uint64_t set;                 /* CLI_FM() of every flag given */
    const char *val[CLI_F_COUNT]; /* values of value flags (borrowed from argv) */
};

/*
 * Parses flags (anywhere; "--" ends them) and positionals of argv[0..argc-1] against the
 * allowed mask. On a bad flag writes a one-line reason (with a suggestion) to err.
 * Returns 0 or CLI_EUSAGE.
 */
int cli_args_parse(int argc, char *const *argv, uint64_t allowed, struct cli_args *out, char *err,
                   size_t errlen);

static inline bool
cli_flag_on(const struct cli_args *a, enum cli_flag f)
{
    return (a->set & CLI_FM(f)) != 0;
}

/* Parses a non-negative decimal flag value into *out. Returns 0 or CLI_EUSAGE. */
int cli_parse_uint(const char *s, uint64_t max, uint64_t *out);

/* Optimal-string-alignment edit distance (inputs longer than 64 bytes count as far). */
size_t cli_edit_distance(const char *a, const char *b);

/* Closest candidate to word, or NULL when nothing is close enough. Borrowed pointer. */
const char *cli_suggest(const char *word, const char *const *cands, size_t n);

/* ---- bucket / object names ---- */

struct cli_bck {
    char provider[8]; /* canonical: "ais", "aws", "gcp", ... */
    char name[AIS_BCKNAME_BYTES_MAX + 1];
    const char *obj; /* after the first '/', borrowed; NULL if none */
    bool scheme;     /* written as PROVIDER://NAME */
};

/*
 * Parses "ais://b", "ais://b/obj/x", "b", "b/prefix" (also s3://, gs://, ...). obj points into s.
 * Returns 0 or AIS_EBADNAME with a static reason in *why.
 */
int cli_bck_parse(const char *s, struct cli_bck *out, const char **why);

/* "ais://name" into out. */
void cli_bck_str(const struct cli_bck *b, char *out, size_t n);

/* Percent-encodes s into buf (unreserved bytes kept, '/' kept when keep_slash). */
int cli_url_escape(struct ais_buf *buf, const char *s, bool keep_slash);

/* Paths: "/v1/buckets/NAME" and "/v1/objects/NAME/OBJ" (escaped), and "provider=..". */
int cli_bck_path(const struct cli_bck *b, struct ais_buf *out);
int cli_obj_path(const struct cli_bck *b, const char *obj, struct ais_buf *out);
void cli_bck_query(const struct cli_bck *b, char *out, size_t n);

/* ---- formatting ---- */

/* Human size with IEC units: "0B", "1023B", "1.50KiB", "12.34GiB". */
void cli_fmt_size(uint64_t bytes, char *out, size_t n);
/* Parses "1024", "4k", "4KiB", "1.5MB", "2g" (all units powers of 1024). 0 or CLI_EUSAGE. */
int cli_parse_size(const char *s, uint64_t *out);
/* Local time "2006-01-02 15:04:05" of unix nanoseconds; "-" for 0. */
void cli_fmt_time_ns(int64_t ns, char *out, size_t n);
/* Short duration: "850ms", "42s", "3m07s", "2h05m". */
void cli_fmt_duration_ms(int64_t ms, char *out, size_t n);
/* Display width of a UTF-8 string (code points). */
size_t cli_str_width(const char *s);

struct cli_table {
    size_t ncols;
    const char *hdr[CLI_TABLE_COLS_MAX]; /* borrowed, static strings */
    uint32_t right;                      /* bit i: right-align column i */
    char **cells;                        /* nrows * ncols, owned */
    size_t nrows;
    size_t cap_rows;
};

/* Header names are borrowed (static). ncols <= CLI_TABLE_COLS_MAX. */
void cli_table_init(struct cli_table *t, size_t ncols, const char *const *hdrs);
void cli_table_fini(struct cli_table *t);
/* Copies ncols cells (NULL prints "-"). Returns 0 or -ENOMEM. */
int cli_table_add(struct cli_table *t, const char *const *cells);
/* Aligned columns separated by three spaces; no trailing blanks. */
void cli_table_print(const struct cli_table *t, FILE *f, bool headers);

/* Keeps the rows whose cell in column col starts with prefix; returns the rows kept. */
size_t cli_table_keep_prefix(struct cli_table *t, size_t col, const char *prefix);
/* Flattens nested JSON objects into "a.b.c" -> scalar text rows of a 2-column table. */
int cli_json_flatten(const json_t *j, const char *prefix, struct cli_table *t);
/* Scalar JSON as text (strings unquoted, null "-"); caller frees. NULL on ENOMEM. */
char *cli_json_scalar(const json_t *v);
/*
 * Parses JSON from the cluster. Integers beyond int64 (uint64 digests) become decimal strings,
 * since jansson cannot hold them. Returns NULL when malformed. Caller decrefs.
 */
json_t *cli_json_loadb(const char *text, size_t len);
/* Reads an unsigned number that may be a JSON number or a decimal string. 0 or -EINVAL. */
int cli_json_u64(const json_t *v, uint64_t *out);

/* ---- invocation context and HTTP ---- */

/* One connection: a libcurl easy handle and the error of its last request. Not shared. */
struct cli_conn {
    CURL *curl;
    const char *endpoint; /* borrowed */
    long connect_timeout_ms;
    long ctrl_timeout_ms;
    char errmsg[CLI_ERRMSG_BYTES];
    char curl_err[CURL_ERROR_SIZE];
};

int cli_conn_init(struct cli_conn *c, const char *endpoint);
/* Sets (overwrites, truncating) the connection's error line. */
__attribute__((format(printf, 2, 3))) void cli_conn_errorf(struct cli_conn *c, const char *fmt,
                                                           ...);
void cli_conn_fini(struct cli_conn *c);

enum cli_progress_mode { CLI_PROGRESS_AUTO, CLI_PROGRESS_ON, CLI_PROGRESS_OFF };

struct cli_ctx {
    char endpoint[CLI_URL_BYTES_MAX];
    FILE *out;
    FILE *err;
    FILE *in;
    bool json;
    bool no_headers;
    bool yes;
    bool raw;
    bool err_tty;
    bool out_tty; /* `ais download` waits by default on a terminal */
    enum cli_progress_mode progress;
    struct cli_conn conn;
};

/* Records (overwrites) the error line the dispatcher prints. */
__attribute__((format(printf, 2, 3))) void cli_errorf(struct cli_ctx *ctx, const char *fmt, ...);
/* Whether progress bars should be drawn (forced, or auto and stderr is a terminal). */
bool cli_progress_wanted(const struct cli_ctx *ctx);
/* Asks "PROMPT [y/N]" on stderr unless --yes. Returns 0 or -ECANCELED. */
int cli_confirm(struct cli_ctx *ctx, const char *prompt);
/* Prints j (indented) to ctx->out. */
void cli_print_json(struct cli_ctx *ctx, const json_t *j);

struct cli_resp {
    long status;
    struct ais_buf body;
    size_t nhdrs;
    char *hdrs[CLI_HDRS_MAX]; /* "Name: value" of the final response, owned */
    bool overflow;
};

void cli_resp_init(struct cli_resp *r);
void cli_resp_fini(struct cli_resp *r);
/* Value of header name (case-insensitive) or NULL; borrowed from r. */
const char *cli_resp_hdr(const struct cli_resp *r, const char *name);

typedef size_t (*cli_io_fn)(char *p, size_t size, size_t n, void *arg);
typedef int (*cli_seek_fn)(void *arg, curl_off_t off, int origin);

struct cli_req {
    const char *method;
    const char *base; /* URL base instead of the endpoint (a target), or NULL */
    const char *path; /* escaped */
    const char *query;
    const char *body; /* JSON control body or NULL */
    size_t body_len;
    const char *hdr1; /* one extra "Name: value" header or NULL */
    const char *range;
    long timeout_ms;   /* 0: data transfer, no total deadline */
    cli_io_fn read_fn; /* streamed upload */
    cli_seek_fn seek_fn;
    void *read_arg;
    int64_t upload_bytes;
    cli_io_fn write_fn; /* streamed 2xx download; else the body lands in resp->body */
    void *write_arg;
};

/*
 * Runs one request (following 307s to targets, re-sending uploads via seek_fn). Returns 0 for
 * 2xx; otherwise writes a one-line reason to c->errmsg (the server's message when it sent
 * one) and returns -ENOENT (404), -EEXIST (409), CLI_ESERVER (other statuses), or
 * -ECONNREFUSED/-ETIMEDOUT/-ECONNRESET/-EIO for transport failures. resp (may be NULL) must be
 * initialised by the caller (cli_resp_init) and is overwritten; the caller finalises it.
 */
int cli_http_do(struct cli_conn *c, const struct cli_req *rq, struct cli_resp *resp);
/* A failure a status poll rides out (the cluster busy, restarting or briefly unreachable). */
bool cli_poll_transient(int err);

/*
 * JSON control request through ctx->conn: body (borrowed, may be NULL) is sent as JSON; a
 * non-empty reply is parsed into *out (caller decrefs) when out != NULL.
 */
int cli_http_json(struct cli_ctx *ctx, const char *method, const char *path, const char *query,
                  const json_t *body, json_t **out);

/*
 * PUTs the ActMsg msg (borrowed) to path and copies the plain-text reply (a job id, first word,
 * possibly "") into out. 0 or cli_http_do's error.
 */
int cli_http_put_text(struct cli_ctx *ctx, const char *path, const json_t *msg, char *out,
                      size_t cap);

/* {"action":action,"name":"","value":value}; value is stolen (NULL means null). */
json_t *cli_actmsg(const char *action, json_t *value);

/* ---- progress ---- */

struct cli_progress;

/*
 * Starts a bar on f redrawn every CLI_PROGRESS_TICK_MS by a thread. Returns NULL when disabled
 * or out of memory; every other cli_progress_* accepts NULL and then does nothing.
 */
struct cli_progress *cli_progress_start(FILE *f, const char *label, uint64_t total_bytes,
                                        uint32_t total_files);
/* Thread-safe counters. */
void cli_progress_add(struct cli_progress *p, int64_t bytes);
void cli_progress_file_done(struct cli_progress *p);
void cli_progress_set_total(struct cli_progress *p, uint64_t total_bytes);
/* Draws the final state, ends the line, joins the thread and frees p. */
void cli_progress_stop(struct cli_progress *p);
/* Renders one bar line (no "\r") into out; pure, for tests. */
void cli_progress_render(char *out, size_t n, const char *label, uint64_t done, uint64_t total,
                         uint32_t files_done, uint32_t files_total, int64_t elapsed_ms,
                         size_t width);

/* ---- listing ---- */

/* Called per list entry (borrowed, may be modified); a negative return stops the listing. */
typedef int (*cli_entry_fn)(json_t *entry, void *arg);

struct cli_list {
    const char *prefix;
    const char *props;  /* comma list, e.g. "name,size" */
    uint64_t limit;     /* 0: all */
    uint32_t page_size; /* 0: server default */
    bool one_page;      /* stop after the first page (completion) */
    uint64_t flags;     /* LsoMsg flags (8: arch-dir, shards' members too) */
    cli_entry_fn fn;
    void *arg;
};

/*
 * Lists objects of b page by page (uuid + continuation token), calling l->fn per entry.
 * Returns 0 or an error with c->errmsg set.
 */
int cli_list_objects(struct cli_conn *c, const struct cli_bck *b, const struct cli_list *l);

/* ---- object transfers ---- */

/* Uploads the local file path as b/obj through c, adding bytes to p. Returns 0 or error. */
int cli_obj_put_file(struct cli_conn *c, const struct cli_bck *b, const char *obj, const char *path,
                     struct cli_progress *p);

struct cli_get {
    const struct cli_bck *b;
    const char *obj;
    int fd;                 /* destination, borrowed */
    const char *range;      /* "bytes=a-b" or NULL */
    struct cli_progress *p; /* shared bar (multi-object) or NULL */
    const char *bar_label;  /* single GET: start/stop its own bar when the size is large */
    FILE *bar_f;
    const char *dst_name; /* for error messages */
    const char *archpath; /* a member of the shard (GET ?archpath=) or NULL */
};

/* Streams one object into g->fd; *written (may be NULL) gets the byte count. */
int cli_obj_get_fd(struct cli_conn *c, const struct cli_get *g, uint64_t *written);

struct cli_xfer_item {
    char *src; /* PUT: local path; GET: object name */
    char *dst; /* PUT: object name; GET: local path */
    uint64_t size;
};

struct cli_xfer {
    const char *endpoint;
    const struct cli_bck *b;
    bool put;
    struct cli_xfer_item *items;
    size_t n;
    size_t workers;
    struct cli_progress *p;
};

/*
 * Runs every item on up to x->workers threads (each with its own connection). Returns 0, or
 * the first failure's error with its message in errmsg; *failed counts failed items.
 */
int cli_xfer_run(struct cli_xfer *x, char *errmsg, size_t errlen, size_t *failed);
void cli_xfer_items_free(struct cli_xfer_item *items, size_t n);

/* ---- commands ---- */

typedef int (*cli_run_fn)(struct cli_ctx *ctx, const struct cli_args *a);

/* What completion offers for a positional argument. */
enum cli_comp {
    CLI_COMP_NONE,
    CLI_COMP_BUCKET, /* bucket names */
    CLI_COMP_OBJECT, /* bucket/ then object names */
    CLI_COMP_FILE,   /* local files */
    CLI_COMP_CMD,    /* command names (help) */
    CLI_COMP_SHELL,  /* "bash" */
    CLI_COMP_JOB,    /* job ids from the cluster, then job kinds */
    CLI_COMP_KIND,   /* job kinds */
    CLI_COMP_CONFIG, /* config knob names (the common/config.h table) */
    CLI_COMP_DLJOB,  /* download job ids from the cluster */
    CLI_COMP_DSJOB,  /* dSort job ids from the cluster */
};

struct cli_cmd {
    const char *name;
    const char *alias;
    const char *args;    /* usage of the positionals, e.g. "BUCKET[/PREFIX]" */
    const char *summary; /* one line */
    const char *examples;
    uint64_t flags; /* CLI_FM() of accepted flags besides the global ones */
    int min_args;
    int max_args;    /* -1: unlimited */
    uint8_t comp[3]; /* enum cli_comp per positional; the last one repeats */
    cli_run_fn run;
    const struct cli_cmd *subs; /* NULL-name terminated, or NULL */
};

/* Top-level commands, NULL-name terminated. */
extern const struct cli_cmd cli_root[];

/* Command (or alias) named name in list, or NULL. */
const struct cli_cmd *cli_cmd_find(const struct cli_cmd *list, const char *name);
/* Prints usage of cmd (root when NULL) reached through path (e.g. "bucket props"). */
void cli_help_print(FILE *f, const struct cli_cmd *cmd, const char *path);

/* Dispatches argv (without argv[0]). Returns 0 or negative error (ctx has the message). */
int cli_dispatch(struct cli_ctx *ctx, int argc, char **argv);

int cli_cmd_bucket_create(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_bucket_rm(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_bucket_ls(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_props_show(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_props_set(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_ls(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_put(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_get(struct cli_ctx *ctx, const struct cli_args *a);
/* ais ml get-batch (cli/cmd_ml.c). */
int cli_cmd_ml_get_batch(struct cli_ctx *ctx, const struct cli_args *a);
/* `ais archive put` and `ais archive bucket` (cmd_arch.c). */
int cli_cmd_archive_put(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_archive_bucket(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_obj_rm(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_obj_stat(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_obj_cat(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_bucket_summary(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_cluster_show(struct cli_ctx *ctx, const struct cli_args *a);
/* ais cluster set-primary NODE_ID (cmd_cluster.c). */
int cli_cmd_cluster_set_primary(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_storage_show(struct cli_ctx *ctx, const struct cli_args *a);
/* ais storage mountpath attach|detach|enable|disable NODE_ID PATH (cmd_mpath.c). */
int cli_cmd_mpath_attach(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_mpath_detach(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_mpath_enable(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_mpath_disable(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_stats_show(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_config_show(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_config_set(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_config_cluster(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_config_node(struct cli_ctx *ctx, const struct cli_args *a);
/* Calls cand for every config knob name, with whether it is runtime-settable. */
void cli_config_names(void (*cand)(void *arg, const char *name, bool settable), void *arg);
int cli_cmd_completion(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_complete(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_search(struct cli_ctx *ctx, const struct cli_args *a);

/* ---- jobs (cmd_job.c) ---- */

/* Jobs in one listing: AIS_XACT_RECORDS_MAX per node times a large cluster. */
#define CLI_JOBS_MAX 16384
/* Job ids one `job wait KIND` follows: every job of a kind that can run at once. */
#define CLI_JOB_WAIT_IDS_MAX AIS_XACT_RUNNING_MAX
/* Default and longest `job wait --timeout`. */
#define CLI_JOB_WAIT_MS_MAX (7LL * 24 * 3600 * 1000)
/* Poll interval of `job wait`: starts short (quick jobs), doubles up to the max. */
#define CLI_JOB_POLL_MS_MIN 50
#define CLI_JOB_POLL_MS_MAX 1000
/* Consecutive failed polls (cluster unreachable, 5xx) `job wait` rides out, e.g. an election. */
#define CLI_JOB_POLL_ERRS_MAX 20

enum cli_job_state { CLI_JOB_RUNNING, CLI_JOB_FINISHED, CLI_JOB_ABORTED, CLI_JOB_ERROR };

/* One job aggregated over the nodes that run a part of it (JobSnaps with the same id). */
struct cli_job {
    char id[64];
    char kind[48];
    char bck[AIS_BCKNAME_BYTES_MAX + 16]; /* "ais://b" or "" */
    char err[256];                        /* first node error, "" if none */
    enum cli_job_state state;             /* running if any part runs, else the worst end */
    uint64_t objs;                        /* sum of stats.loc-objs */
    uint64_t bytes;                       /* sum of stats.loc-bytes */
    uint64_t in_objs;                     /* sum of stats.in-objs (prefetch: fetched) */
    uint64_t in_bytes;                    /* sum of stats.in-bytes */
    uint64_t total_objs;                  /* sum of total-objs; 0: unknown */
    int64_t start_ns;                     /* earliest start, unix ns; 0 unknown */
    int64_t end_ns;                       /* latest end, 0 while running */
    int64_t eta_ns;                       /* longest known ETA of a running part; -1 unknown */
    uint32_t nodes;
    uint32_t nodes_running;
};

/* Job kinds AIS knows (api.md §5.7), NULL-terminated; for completion and `job stop KIND`. */
extern const char *const cli_job_kinds[];

/* "running", "finished", "aborted", "error". */
const char *cli_job_state_name(enum cli_job_state s);
/* RFC 3339 ("2024-05-01T10:00:00.5Z", offsets too) to unix ns; 0 for Go's zero time or junk. */
int64_t cli_rfc3339_ns(const char *s);

/*
 * Aggregates a what=qryxstats reply {"node":[JobSnap...],...} into one cli_job per id, sorted
 * running first, then newest start first. *out is malloc'd (caller frees; NULL when *n is 0).
 * Malformed snaps are skipped. Returns 0, -EINVAL (not an object of arrays) or -ENOMEM.
 */
int cli_jobs_from_snaps(const json_t *by_node, struct cli_job **out, size_t *n);

/*
 * Renders one `job wait` progress line (no "\r") into out; pure, for tests. With a known total:
 * a bar, percent, "done/total objects" and ETA (eta_ns, when >= 0); otherwise a spinner chosen
 * by tick, the count and the elapsed time.
 */
void cli_job_progress_render(char *out, size_t n, const char *label, const struct cli_job *j,
                             int64_t elapsed_ms, unsigned tick, size_t width);

/* Columns of terminal f less one (79 when it is not a terminal). */
size_t cli_term_width(FILE *f);
/* Sleeps ms (restarting after signals): the pause between polls, never synchronisation. */
void cli_nap_ms(int64_t ms);

/* Ids of the cluster's jobs (running first) into a NULL-terminated malloc'd array. */
int cli_job_ids(struct cli_ctx *ctx, char ***out);

/*
 * Follows job id as `ais job wait ID` does (same polls, retries of failed polls, deadline of
 * timeout_ms), drawing the progress line on ctx->err when draw; with with_in the line counts
 * in-objs too (a prefetch's fetched objects). *out gets the folded job in whatever state it
 * reached. Returns 0 when the job ended (even with an error: see out->state),
 * CLI_EWAITTIMEOUT when the deadline passed first (message set), or the poll error.
 */
int cli_job_wait_id(struct cli_ctx *ctx, const char *id, int64_t timeout_ms, bool draw,
                    bool with_in, struct cli_job *out);

/*
 * Appends the full error of every node's part of job id (what=qryxstats), "; "-separated, to
 * out (the folded struct cli_job keeps only the first 255 bytes). 0 or the query's error.
 */
int cli_job_errs(struct cli_ctx *ctx, const char *id, struct ais_buf *out);

int cli_cmd_job_ls(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_job_show(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_job_stop(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_job_start(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_job_wait(struct cli_ctx *ctx, const struct cli_args *a);
/* ---- remote buckets and copies (cmd_remote.c) ---- */

/* Names one list/range job may carry when everything fits one request (the server's limit). */
#define CLI_LISTRANGE_ONE_JOB_MAX 100000
/* Names per job when a listing is split over several requests, as `object rm` sends them. */
#define CLI_LISTRANGE_BATCH_NAMES 10000
/* JSON bytes of the names of one request (escapes counted): the control-body limit less room
 * for the rest of the message. */
#define CLI_LISTRANGE_BATCH_BYTES (AIS_CTRL_BODY_BYTES_MAX - 4096)

enum cli_sel_kind {
    CLI_SEL_BUCKET,   /* the whole bucket */
    CLI_SEL_LIST,     /* names */
    CLI_SEL_TEMPLATE, /* a brace range the server expands */
    CLI_SEL_PREFIX,   /* every name under a prefix, listed by the CLI */
};

/* The objects a multi-object command acts on. */
struct cli_sel {
    struct cli_bck b;
    enum cli_sel_kind kind;
    const char *tmpl;   /* CLI_SEL_TEMPLATE, borrowed from argv */
    const char *prefix; /* CLI_SEL_PREFIX, borrowed from argv */
    json_t *names;      /* CLI_SEL_LIST, owned */
};

/*
 * Reads the selection of BUCKET[/NAME|/TEMPLATE|/DIR/] [BUCKET/NAME...] with --list,
 * --template or --prefix (at most one). Writes a one-line reason to err on bad input.
 * Returns 0 (free with cli_sel_fini), CLI_EUSAGE, AIS_EBADNAME or -ENOMEM.
 */
int cli_sel_parse(const struct cli_args *a, struct cli_sel *out, char *err, size_t errlen);
void cli_sel_fini(struct cli_sel *s);
/* Checks a template has balanced {FIRST..LAST} ranges. 0 or CLI_EUSAGE with a static *why. */
int cli_template_check(const char *t, const char **why);

/*
 * ActMsg of prefetch-listrange or evict-listrange: value {"objnames": names} (borrowed), else
 * {"template": s->tmpl}; prefetch adds "latest-ver". NULL on ENOMEM. Caller decrefs.
 */
json_t *cli_listrange_msg(const char *action, const struct cli_sel *s, const json_t *names,
                          bool latest);
/*
 * ActMsg of a copy into dst: copy-bck (whole bucket, or s->prefix) unless names or a template
 * select objects, then copy-listrange with "tobck". NULL on ENOMEM. Caller decrefs.
 */
json_t *cli_copy_msg(const struct cli_sel *s, const json_t *names, const struct cli_bck *dst,
                     bool latest);
/* "provider=SRC&bck_to=<escaped DST uname 'ais/@#/NAME/'>" into out. 0 or -ENAMETOOLONG. */
int cli_copy_query(const struct cli_bck *src, const struct cli_bck *dst, char *out, size_t n);
/* End (exclusive) of the request that starts at names[from]; see cmd_remote.c. */
size_t cli_batch_end(const json_t *names, size_t from);
/*
 * Splits a job error "... failed K of N: name (why); ..." into {"name","why"} items appended
 * to out, and adds K to *nfailed (items cut off by the error's size limit are not listed).
 * Returns 0, -EINVAL (not such an error) or -ENOMEM.
 */
int cli_failed_parse(const char *err, json_t *out, uint64_t *nfailed);

int cli_cmd_prefetch(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_evict(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_bucket_cp(struct cli_ctx *ctx, const struct cli_args *a);

/* ---- downloads (cmd_dload.c) ---- */

/* URLs one request may carry (the gateway's limit, DL_PAIRS_MAX). */
#define CLI_DL_URLS_MAX 100000
/* Bytes of an --object-list file: the control-body limit, since it becomes one request. */
#define CLI_DL_LIST_BYTES_MAX AIS_CTRL_BODY_BYTES_MAX
/* Download jobs in one listing (the gateway keeps 64 records; room for a larger one). */
#define CLI_DL_JOBS_MAX 4096

/*
 * Expands the brace ranges of t ("x-{000..099}.tar", "{0..10..2}", several ranges) into out,
 * in order, as the gateway does. Returns 0, CLI_EUSAGE (malformed), -E2BIG (more than cap
 * names) or -ENOMEM.
 */
int cli_tmpl_expand(const char *t, json_t *out, size_t cap);
/* Last path element of a URL before any '?' or '#' into out ("" for ".../"). */
void cli_url_base(const char *url, char *out, size_t n);
/*
 * Splits an --object-list file: a JSON array of strings, else one entry per line (blank lines
 * and '#' comments skipped). *out is a new array. 0, CLI_EUSAGE (reason in err) or -ENOMEM.
 */
int cli_dl_list_parse(const char *text, size_t len, json_t **out, char *err, size_t errlen);

struct cli_dl_opts {
    const char *src;       /* URL, URL template, base URL (with list) or s3://|gs:// bucket */
    const char *dst;       /* BUCKET[/NAME|/PREFIX/], or NULL (backend; list without a base) */
    const json_t *list;    /* --object-list entries, or NULL */
    const char *desc;      /* or NULL */
    int64_t dl_timeout_ms; /* server-side stall limit; 0: the server's default */
};

/*
 * The POST /v1/download body for o (type single, range, multi or backend; api.md §6.1), new
 * reference in *out. A prefix in DST becomes the range's subdir or each name's prefix. Returns
 * 0, CLI_EUSAGE or AIS_EBADNAME with a one-line reason in err, or -ENOMEM.
 */
int cli_dl_body(const struct cli_dl_opts *o, json_t **out, char *err, size_t errlen);
/*
 * The {object name: URL} map of a download body (range expanded), to name failed URLs; a
 * backend body has no URLs and gives an empty map. 0, CLI_EUSAGE or -E2BIG, -ENOMEM.
 */
int cli_dl_urls(const json_t *body, json_t **out);

/* One download job as GET /v1/download reports it. */
struct cli_dl_job {
    char id[64];
    char desc[256];
    char bck[AIS_BCKNAME_BYTES_MAX + 16];
    uint64_t total, finished, errors;
    bool aborted, done;
    int64_t start_ns, end_ns; /* 0 unknown / still running */
};

/* Parses one job (StatusResp or a listing's entry). 0 or -EINVAL (not an object with an id). */
int cli_dl_job_parse(const json_t *j, struct cli_dl_job *out);
/* "running", "finished" or "aborted". */
const char *cli_dl_job_state(const struct cli_dl_job *j);

int cli_cmd_download(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_dl_show(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_dl_stop(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_dl_rm(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_dl_wait(struct cli_ctx *ctx, const struct cli_args *a);
/* Ids of the cluster's download jobs into a NULL-terminated malloc'd array. */
int cli_dl_ids(struct cli_ctx *ctx, char ***out);
/*
 * GET /v1/download {"id": id}: 1 when id names a download job (*out filled), 0 when it does
 * not (or the cluster has no downloader), or a transport error.
 */
int cli_dl_lookup(struct cli_ctx *ctx, const char *id, struct cli_dl_job *out);
/* DELETE /v1/download/abort {"id": id}: prints the outcome. 0 or the request's error. */
int cli_dl_abort(struct cli_ctx *ctx, const struct cli_dl_job *j);

/* ---- dSort (cmd_dsort.c: jobs; cmd_dsgen.c: test datasets) ---- */

/* Bytes of a RequestSpec (file, stdin or inline): it becomes one control request. */
#define CLI_DS_SPEC_BYTES_MAX AIS_CTRL_BODY_BYTES_MAX
/* dSort jobs in one listing (the targets keep a bounded history; room for a larger one). */
#define CLI_DS_JOBS_MAX 4096
/* `dsort gen` bounds: shards of one template, records per shard, bytes of one record file
 * (a record must fit one pull reply of the server, 48 MiB), extensions per record. */
#define CLI_DS_GEN_SHARDS_MAX 100000u
#define CLI_DS_GEN_RECORDS_MAX 1000000u
#define CLI_DS_GEN_RECORD_BYTES_MAX (32u << 20)
#define CLI_DS_GEN_EXTS_MAX 16
#define CLI_DS_GEN_EXT_BYTES_MAX 16

enum cli_ds_phase { CLI_DS_EXTRACT, CLI_DS_SORT, CLI_DS_CREATE, CLI_DS_PHASES };

/* One dSort job folded over its targets' JobInfos (GET /v1/sort?uuid=). */
struct cli_ds_job {
    enum cli_job_state state; /* aborted anywhere > error anywhere > finished everywhere */
    enum cli_ds_phase phase;  /* the first phase some target has not finished */
    uint32_t targets;         /* JobInfos folded */
    uint32_t running[CLI_DS_PHASES], finished[CLI_DS_PHASES]; /* targets per phase */
    int64_t elapsed_ms[CLI_DS_PHASES];                        /* longest of the targets */
    uint64_t total, extracted;   /* input shards: to extract, extracted (sums) */
    uint64_t records;            /* records extracted */
    uint64_t to_create, created; /* output shards */
    uint64_t pulled_bytes;       /* bytes moved between targets */
    uint32_t nerrors, nwarnings;
    char err[256]; /* "t[ID]: first error" or "" */
};

/* "extraction", "sorting", "creation". */
const char *cli_ds_phase_name(enum cli_ds_phase p);
/* Whether s looks like a dSort job id ("srt-..."), which `job stop|wait` route to /v1/sort. */
bool cli_ds_is_id(const char *s);
/* Folds {"<target>": JobInfo, ...}. 0, or -EINVAL when it is not an object of JobInfos. */
int cli_ds_fold(const json_t *by_target, struct cli_ds_job *out);
/*
 * Renders the progress line of phase p (no "\r") into out; pure, for tests. Extraction and
 * creation get a bar with "done/total shards", sorting (no counters) a spinner chosen by tick.
 */
void cli_ds_progress_render(char *out, size_t n, const char *id, const struct cli_ds_job *j,
                            enum cli_ds_phase p, unsigned tick, size_t width);
/*
 * Parses a RequestSpec: a JSON object (YAML is not supported). *out is new (caller decrefs).
 * 0, or CLI_EUSAGE with a one-line reason in err.
 */
int cli_ds_spec_parse(const char *text, size_t len, json_t **out, char *err, size_t errlen);
/*
 * Replaces input_bck (src) and output_bck (dst) of spec with {"name","provider"} of the given
 * buckets (either may be NULL: kept). 0, or CLI_EUSAGE / AIS_EBADNAME with a reason in err.
 */
int cli_ds_spec_buckets(json_t *spec, const char *src, const char *dst, char *err, size_t errlen);
/*
 * Follows dSort job id until it ends or timeout_ms passes, drawing one progress line per phase
 * on ctx->err when progress is wanted, then prints the outcome. 0 (finished), CLI_EJOBFAIL
 * (aborted or failed), CLI_EWAITTIMEOUT, -ENOENT or a poll error; the message is set.
 */
int cli_ds_wait(struct cli_ctx *ctx, const char *id, int64_t timeout_ms);
/* DELETE /v1/sort/abort?uuid=id and prints "Aborted ...". 0 or the request's error. */
int cli_ds_abort(struct cli_ctx *ctx, const char *id);
/* Ids of the cluster's dSort jobs into a NULL-terminated malloc'd array. */
int cli_ds_ids(struct cli_ctx *ctx, char ***out);

/* The archive format of a shard name: ".tar", ".tgz", ".tar.gz", ".zip", ".tar.lz4" or NULL. */
const char *cli_ds_shard_ext(const char *name);
/*
 * Splits a comma list of record extensions (".jpg,.cls") into exts (pointers into buf, which
 * gets a copy of s). 0, or CLI_EUSAGE (empty, no leading '.', too long, repeated, too many).
 */
int cli_ds_exts_parse(const char *s, char *buf, size_t cap, const char **exts, size_t *n);
/* A multiplier below total, coprime with it, near total / phi and moved by seed: i -> key is
 * then a permutation that leaves no run of consecutive records in order (1 when total <= 2). */
uint64_t cli_ds_gen_mul(uint64_t total, uint64_t seed);
/* Key number of record i (0 <= i < total): (i * mul + seed) mod total, all distinct. */
uint64_t cli_ds_gen_key(uint64_t i, uint64_t mul, uint64_t seed, uint64_t total);

int cli_cmd_dsort_start(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_dsort_show(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_dsort_stop(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_dsort_rm(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_dsort_wait(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_dsort_gen(struct cli_ctx *ctx, const struct cli_args *a);

/* ---- promote (cmd_promote.c) ---- */

struct cli_promote {
    char src[AIS_PATH_BYTES_MAX + 1]; /* absolute */
    struct cli_bck dst;
    const char *obj; /* destination name or prefix ("" none), borrowed */
    char tid[64];    /* --target-id (without "t[...]") or "" */
    bool recursive, overwrite, delete_src, not_file_share;
};

/*
 * Joins a relative path to cwd and removes ".", ".." and repeated or trailing slashes, without
 * touching the file system ("/" stays). 0, -ENAMETOOLONG, or -EINVAL (relative, cwd NULL).
 */
int cli_path_abs(const char *cwd, const char *path, char *out, size_t n);
/*
 * Reads `promote SRC_PATH DST_BUCKET[/NAME|/PREFIX/]` and its flags. A relative SRC_PATH is
 * made absolute: realpath() when it exists here, else cli_path_abs against cwd. 0, or
 * CLI_EUSAGE / AIS_EBADNAME with a one-line reason in err.
 */
int cli_promote_parse(const struct cli_args *a, const char *cwd, struct cli_promote *out, char *err,
                      size_t errlen);
/* {"action":"promote","name":SRC,"value":{"tid","src","obj","rcr","ovw","dls","notshr"}}. */
json_t *cli_promote_msg(const struct cli_promote *p);
/* "ais://b/NAME" or "ais://b/PREFIX/" the promote writes to, as AIS prints it. */
void cli_promote_dst_str(const struct cli_promote *p, char *out, size_t n);

int cli_cmd_promote(struct cli_ctx *ctx, const struct cli_args *a);

/* ais cluster add-remove-nodes (cli/cmd_membership.c). */
int cli_cmd_node_maint_start(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_node_maint_stop(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_node_decommission(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_node_shutdown(struct cli_ctx *ctx, const struct cli_args *a);

/* Lists bucket names of the cluster into a NULL-terminated malloc'd array (caller frees). */
int cli_bucket_names(struct cli_conn *c, char ***out);
void cli_strv_free(char **v);

/*
 * Computes completion for the command line up to the cursor: the first output line holds
 * directives ("nospace", "files"), then one candidate per line, each trimmed of the part of the
 * current word before the last of wordbreaks (what readline will not replace).
 */
int cli_complete_line(struct cli_ctx *ctx, const char *line, const char *wordbreaks, FILE *out);
/* The bash completion script. */
void cli_completion_script(FILE *f);

/* ---- node logs and performance (cmd_log.c, cmd_perf.c) ---- */

/* `log show --lines N` at most (a node serves its last AIS_LOG_TAIL_BYTES by default). */
#define CLI_LOG_LINES_MAX 1000000
/* `show performance --refresh` bounds: shorter intervals are mostly noise; longer, nobody
 * waits that long for a line. Default interval (no --refresh) of one report. */
#define CLI_PERF_REFRESH_MS_MIN 100
#define CLI_PERF_REFRESH_MS_MAX (3600 * 1000)
#define CLI_PERF_REFRESH_MS_DEFAULT 1000
/* --count at most: a week of one-second reports. */
#define CLI_PERF_COUNT_MAX (7 * 24 * 3600)

/* The node id of "ID", "t[ID]" or "p[ID]" into out. */
void cli_node_id(const char *arg, char *out, size_t n);
/* Offset in text[0..len) where its last n lines start (a final newline ends the last one). */
size_t cli_tail_lines(const char *text, size_t len, uint64_t n);

/* One node's rates over an interval between two stats snapshots. */
struct cli_perf {
    double get_ops, put_ops; /* per second */
    double get_bps, put_bps; /* payload bytes per second */
    int64_t get_lat_ns;      /* mean of the interval's GETs (get.ns.total / get.n); -1: none */
    int64_t put_lat_ns;
    uint64_t errs; /* err.*.n of the interval */
};

/*
 * Rates between the trackers ({"get.n":{"v":"12"},...}) of two snapshots of one node, dt_ns
 * apart; the nodes' uptime (up.ns.time) gives dt when both carry it, so a slow query does not
 * skew the rate. A counter that went down (the node restarted) counts from 0. dt_ns <= 0 and
 * no uptime: all rates 0.
 */
void cli_perf_compute(const json_t *tr0, const json_t *tr1, int64_t dt_ns, struct cli_perf *out);
/* "0", "12.5", "1234" (per second, one decimal below 100). */
void cli_fmt_rate(double per_s, char *out, size_t n);
/* Bytes per second as MiB/s with two decimals: "0.00", "12.34". */
void cli_fmt_mibs(double bytes_per_s, char *out, size_t n);
/* Latency: "-" (< 0), "850ns", "12us", "1.25ms", "2.10s". */
void cli_fmt_lat_ns(int64_t ns, char *out, size_t n);

/* The cluster map (GET /v1/daemon?what=smap; must have a tmap). Caller decrefs. */
int cli_smap_get(struct cli_ctx *ctx, json_t **smap);
/* {"proxy":{ID:stats},"target":{ID:stats}}: /v1/cluster?what=stats, else each node of smap
 * (may be NULL: no fallback). NULL when neither answers. Caller decrefs. */
json_t *cli_stats_collect(struct cli_ctx *ctx, const json_t *smap);

int cli_cmd_log_show(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_log_get(struct cli_ctx *ctx, const struct cli_args *a);
int cli_cmd_perf_show(struct cli_ctx *ctx, const struct cli_args *a);

#endif
