/*
 * Command-line flags and "did you mean" suggestions.
 *
 * Design notes: flags are one global table indexed by enum cli_flag; each command declares
 * the subset it accepts as a bit mask, so an unknown or misplaced flag is a usage error with a
 * suggestion drawn from that subset. Flags may appear anywhere after the command words
 * (people append them), "--" ends them, "-" alone is a positional (stdin/stdout). Values are
 * borrowed from argv. Suggestions use the optimal-string-alignment distance so that a swapped
 * pair of letters ("bukcet") costs one edit.
 */
#include "cli/cli_int.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cli_flag_def cli_flags[CLI_F_COUNT] = {
    [CLI_F_ARCHIVE] = {"archive", 0, false, NULL,
                       "list the members of the shard BUCKET/SHARD, or of every shard in BUCKET"},
    [CLI_F_ARCHPATH] = {"archpath", 0, true, "MEMBER",
                        "read this member of a .tar/.tgz/.zip/.tar.lz4 shard"},
    [CLI_F_SPEC] = {"spec", 'f', true, "FILE",
                    "request spec (get-batch MossReq, dsort RequestSpec JSON) from FILE, or - for "
                    "stdin"},
    [CLI_F_RECORDS] = {"records", 0, true, "N", "records per shard (default 100)"},
    [CLI_F_RECORD_SIZE] =
        {"record-size", 0, true, "SIZE",
         "bytes of each record file (default 10KiB, at most 32MiB; .cls files hold a number)"},
    [CLI_F_EXTS] = {"exts", 0, true, "EXTS", "files per record, by extension (default .jpg,.cls)"},
    [CLI_F_SEED] = {"seed", 0, true, "N", "seed of the generated keys and bytes (default 1)"},
    [CLI_F_CONT_ON_ERR] = {"cont-on-err", 0, false, NULL,
                           "keep going past missing objects (get-batch: empty __404__/ entries; "
                           "archive bucket: skipped) instead of failing"},
    [CLI_F_APPEND] = {"append", 0, false, NULL,
                      "add the file to the existing shard (it must exist)"},
    [CLI_F_APPEND_OR_PUT] = {"append-or-put", 0, false, NULL,
                             "add to the shard if it exists, else create it (default: a new "
                             "shard replaces the object)"},
    [CLI_F_INCL_SRC_BCK] = {"include-src-bck", 0, false, NULL,
                            "name archived files SRC_BUCKET/OBJECT"},
    [CLI_F_STREAMING] = {"streaming", 0, false, NULL, "plain archive stream (no metadata part)"},
    [CLI_F_OMIT_SRC_BCK] = {"omit-src-bck", 0, false, NULL,
                            "name entries OBJ instead of BUCKET/OBJ in the archive"},
    [CLI_F_HELP] = {"help", 'h', false, NULL, "show help for the command"},
    [CLI_F_JSON] = {"json", 'j', false, NULL, "print JSON instead of a table"},
    [CLI_F_NO_HEADERS] = {"no-headers", 'H', false, NULL, "omit table headers"},
    [CLI_F_YES] = {"yes", 'y', false, NULL, "do not ask for confirmation"},
    [CLI_F_NO_PROGRESS] = {"no-progress", 0, false, NULL, "never draw progress bars"},
    [CLI_F_PROGRESS] = {"progress", 0, false, NULL,
                        "draw progress bars even when stderr is not a terminal"},
    [CLI_F_RECURSIVE] = {"recursive", 'r', false, NULL, "walk directories / all objects"},
    [CLI_F_LIMIT] = {"limit", 0, true, "N", "stop after N objects (0: no limit)"},
    [CLI_F_PROPS] = {"props", 0, true, "LIST",
                     "comma-separated: size,checksum,atime,version,copies,location,custom,"
                     "status,cached,all"},
    [CLI_F_PAGE_SIZE] = {"page-size", 0, true, "N", "objects per list request (0: server default)"},
    [CLI_F_PREFIX] = {"prefix", 0, true, "PREFIX", "only objects whose names start with PREFIX"},
    [CLI_F_OFFSET] = {"offset", 0, true, "SIZE", "read from this byte offset (e.g. 1MiB)"},
    [CLI_F_LENGTH] = {"length", 0, true, "SIZE", "read this many bytes"},
    [CLI_F_CONC] = {"conc", 0, true, "N", "parallel transfers (default 8, max 64)"},
    [CLI_F_RAW] = {"raw", 0, false, NULL, "exact numbers: bytes and unix nanoseconds"},
    [CLI_F_ALL] = {"all", 'a', false, NULL, "include finished, aborted and failed jobs"},
    [CLI_F_TIMEOUT] = {"timeout", 0, true, "DURATION",
                       "give up after this long, e.g. 90s, 5m (default and max: 7 days)"},
    [CLI_F_SKIP_REBALANCE] = {"skip-rebalance", 0, false, NULL,
                              "change the cluster map only; do not move objects first"},
    [CLI_F_TEMPLATE] = {"template", 0, true, "TEMPLATE",
                        "objects named by a brace range, e.g. 'shard-{000..099}.tar'"},
    [CLI_F_LIST] = {"list", 0, true, "NAMES", "comma-separated object names, e.g. a.jpg,b/c.jpg"},
    [CLI_F_LATEST] = {"latest", 0, false, NULL,
                      "also refetch cached objects whose remote version changed"},
    [CLI_F_WAIT] = {"wait", 0, false, NULL, "wait for the job to end, with progress and a summary"},
    [CLI_F_KEEP_MD] = {"keep-md", 0, false, NULL,
                       "evict a whole bucket's objects but keep the bucket and its props"},
    [CLI_F_DESCRIPTION] = {"description", 0, true, "TEXT",
                           "job description (ais show job download)"},
    [CLI_F_DL_TIMEOUT] = {"download-timeout", 0, true, "DURATION",
                          "server-side limit for one file's transfer to stall, e.g. 30s"},
    [CLI_F_OBJECT_LIST] = {"object-list", 0, true, "FILE",
                           "file with URLs or names: a JSON array of strings, or one per line"},
    [CLI_F_REGEX] = {"regex", 0, true, "REGEX", "only download jobs whose description matches"},
    [CLI_F_OVERWRITE_DST] = {"overwrite-dst", 'o', false, NULL,
                             "overwrite destination objects that already exist"},
    [CLI_F_DELETE_SRC] = {"delete-src", 0, false, NULL,
                          "delete the source files once they are objects"},
    [CLI_F_TARGET_ID] = {"target-id", 0, true, "ID",
                         "the one target that carries out the whole promote"},
    [CLI_F_NOT_FILE_SHARE] = {"not-file-share", 0, false, NULL,
                              "each target promotes the whole source as it sees it (no shared-"
                              "directory detection)"},
    [CLI_F_LINES] = {"lines", 0, true, "N", "print only the last N lines"},
    [CLI_F_REFRESH] = {"refresh", 0, true, "DURATION",
                       "repeat every DURATION (e.g. 1s, 500ms, 2m; a bare number is seconds) "
                       "until --count reports or Ctrl-C"},
    [CLI_F_ITERS] = {"count", 0, true, "N", "with --refresh: stop after N reports"},
};
static_assert(CLI_F_COUNT <= 64, "flag masks are 64-bit");

static int
flag_suggest(const char *name, uint64_t allowed, char *err, size_t errlen, const char *shown)
{
    const char *cands[CLI_F_COUNT];
    size_t n = 0;
    for (int f = 0; f < CLI_F_COUNT; f++) {
        if (allowed & CLI_FM(f)) {
            cands[n++] = cli_flags[f].lng;
        }
    }
    const char *best = cli_suggest(name, cands, n);
    if (best != NULL) {
        snprintf(err, errlen, "unknown flag %s; did you mean --%s?", shown, best);
    } else {
        snprintf(err, errlen, "unknown flag %s", shown);
    }
    return CLI_EUSAGE;
}

static int
flag_by_long(const char *name, size_t len, uint64_t allowed)
{
    for (int f = 0; f < CLI_F_COUNT; f++) {
        if ((allowed & CLI_FM(f)) && strlen(cli_flags[f].lng) == len &&
            strncmp(cli_flags[f].lng, name, len) == 0) {
            return f;
        }
    }
    return -1;
}

static int
flag_by_short(char c, uint64_t allowed)
{
    for (int f = 0; f < CLI_F_COUNT; f++) {
        if ((allowed & CLI_FM(f)) && cli_flags[f].shrt == c) {
            return f;
        }
    }
    return -1;
}

/* "--name", "--name=value", "--name value": consumes the value word by advancing *i. */
static int
parse_long(int argc, char *const *argv, int *i, uint64_t allowed, struct cli_args *out, char *err,
           size_t errlen)
{
    const char *name = argv[*i] + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    int f = flag_by_long(name, len, allowed);
    if (f < 0) {
        char shown[128];
        snprintf(shown, sizeof(shown), "--%.*s", (int)(len < 100 ? len : 100), name);
        char base[128];
        snprintf(base, sizeof(base), "%.*s", (int)(len < 100 ? len : 100), name);
        return flag_suggest(base, allowed, err, errlen, shown);
    }
    if (!cli_flags[f].has_value) {
        if (eq != NULL) {
            snprintf(err, errlen, "flag --%s takes no value", cli_flags[f].lng);
            return CLI_EUSAGE;
        }
    } else if (eq != NULL) {
        out->val[f] = eq + 1;
    } else if (*i + 1 < argc) {
        out->val[f] = argv[++*i];
    } else {
        snprintf(err, errlen, "flag --%s needs a value (%s)", cli_flags[f].lng, cli_flags[f].value);
        return CLI_EUSAGE;
    }
    out->set |= CLI_FM(f);
    return 0;
}

/* "-ry", "-j", "-xVALUE" or "-x VALUE" for value flags. */
static int
parse_short(int argc, char *const *argv, int *i, uint64_t allowed, struct cli_args *out, char *err,
            size_t errlen)
{
    const char *s = argv[*i] + 1;
    for (; *s != '\0'; s++) {
        int f = flag_by_short(*s, allowed);
        if (f < 0) {
            snprintf(err, errlen, "unknown flag -%c (see --help)", *s);
            return CLI_EUSAGE;
        }
        out->set |= CLI_FM(f);
        if (!cli_flags[f].has_value) {
            continue;
        }
        if (s[1] != '\0') {
            out->val[f] = s + 1;
        } else if (*i + 1 < argc) {
            out->val[f] = argv[++*i];
        } else {
            snprintf(err, errlen, "flag -%c needs a value (%s)", *s, cli_flags[f].value);
            return CLI_EUSAGE;
        }
        return 0;
    }
    return 0;
}

int
cli_args_parse(int argc, char *const *argv, uint64_t allowed, struct cli_args *out, char *err,
               size_t errlen)
{
    int rc = 0;
    bool flags_done = false;
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < argc && rc == 0; i++) {
        const char *s = argv[i];
        if (flags_done || s[0] != '-' || s[1] == '\0') {
            if (out->npos >= CLI_ARGS_MAX) {
                snprintf(err, errlen, "too many arguments (at most %d)", CLI_ARGS_MAX);
                return CLI_EUSAGE;
            }
            out->pos[out->npos++] = s;
        } else if (strcmp(s, "--") == 0) {
            flags_done = true;
        } else if (s[1] == '-') {
            rc = parse_long(argc, argv, &i, allowed, out, err, errlen);
        } else {
            rc = parse_short(argc, argv, &i, allowed, out, err, errlen);
        }
    }
    return rc;
}

int
cli_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return CLI_EUSAGE;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return CLI_EUSAGE;
    }
    *out = v;
    return 0;
}

#define EDIT_LEN_MAX 64

size_t
cli_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    if (la > EDIT_LEN_MAX || lb > EDIT_LEN_MAX) {
        return SIZE_MAX / 2;
    }
    /* Three rolling rows: i-2, i-1, i. */
    size_t rows[3][EDIT_LEN_MAX + 1];
    for (size_t j = 0; j <= lb; j++) {
        rows[0][j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t *cur = rows[i % 3];
        size_t *prev = rows[(i + 2) % 3];
        size_t *prev2 = rows[(i + 1) % 3];
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev[j] + 1;
            if (cur[j - 1] + 1 < best) {
                best = cur[j - 1] + 1;
            }
            if (prev[j - 1] + cost < best) {
                best = prev[j - 1] + cost;
            }
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < best) {
                best = prev2[j - 2] + 1;
            }
            cur[j] = best;
        }
    }
    return rows[la % 3][lb];
}

const char *
cli_suggest(const char *word, const char *const *cands, size_t n)
{
    size_t wl = strlen(word);
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        /* A unique-looking prefix ("buck" -> "bucket") is as good as one edit. */
        size_t d =
            (wl >= 2 && strncmp(cands[i], word, wl) == 0) ? 1 : cli_edit_distance(word, cands[i]);
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    size_t allowed = 1 + wl / 3;
    return best_d <= allowed ? best : NULL;
}
