/*
 * `ais log show NODE_ID [--lines N]`, `ais log get NODE_ID [FILE|DIR|-]`,
 * `ais log get cluster [DIR]`.
 *
 * Design notes: every request goes to the gateway, GET /v1/reverse/daemon?what=log with
 * header Ais-Node-Id (the AIS route), so a node behind a private network is reachable too; the
 * node answers text/plain: its last AIS_LOG_TAIL_BYTES by default (show), or its whole current
 * file with all=true (get). A node that logs to stderr has no file and says so (404: exit 3).
 * `get cluster` saves one file per node of the cluster map, carrying on past a node that
 * fails, and fails at the end when any did.
 */
#include "cli/cli_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
cli_node_id(const char *arg, char *out, size_t n)
{
    size_t l = strlen(arg);
    if (l > 3 && (arg[0] == 't' || arg[0] == 'p') && arg[1] == '[' && arg[l - 1] == ']') {
        snprintf(out, n, "%.*s", (int)(l - 3), arg + 2);
    } else {
        snprintf(out, n, "%s", arg);
    }
}

size_t
cli_tail_lines(const char *text, size_t len, uint64_t n)
{
    size_t i = len;
    if (n == 0) {
        return len;
    }
    if (i > 0 && text[i - 1] == '\n') {
        i--; /* the final newline ends the last line, it does not start one */
    }
    while (i > 0) {
        if (text[i - 1] == '\n' && n-- <= 1) {
            return i;
        }
        i--;
    }
    return 0; /* fewer lines than n: all of them */
}

/* The node's log through the gateway into resp (caller finalises). */
static int
log_fetch(struct cli_ctx *ctx, const char *id, bool all, struct cli_resp *resp)
{
    char hdr[96];
    snprintf(hdr, sizeof(hdr), "Ais-Node-Id: %s", id);
    struct cli_req rq = {.method = "GET",
                         .path = "/v1/reverse/daemon",
                         .query = all ? "what=log&all=true" : "what=log",
                         .hdr1 = hdr,
                         .timeout_ms = ctx->conn.ctrl_timeout_ms};
    cli_resp_init(resp);
    int err = cli_http_do(&ctx->conn, &rq, resp);
    if (err < 0) {
        char why[CLI_ERRMSG_BYTES];
        snprintf(why, sizeof(why), "%s", ctx->conn.errmsg);
        cli_errorf(ctx, "log of %s: %s", id, why);
    }
    return err;
}

int
cli_cmd_log_show(struct cli_ctx *ctx, const struct cli_args *a)
{
    char id[AIS_DAEMON_ID_BYTES_MAX + 8];
    uint64_t lines = 0;
    if (cli_flag_on(a, CLI_F_LINES) &&
        (cli_parse_uint(a->val[CLI_F_LINES], CLI_LOG_LINES_MAX, &lines) < 0 || lines == 0)) {
        cli_errorf(ctx, "--lines: expected a number 1..%d, got \"%s\"", CLI_LOG_LINES_MAX,
                   a->val[CLI_F_LINES]);
        return CLI_EUSAGE;
    }
    cli_node_id(a->pos[0], id, sizeof(id));
    struct cli_resp resp;
    int err = log_fetch(ctx, id, false, &resp);
    if (err == 0) {
        size_t from = lines > 0 ? cli_tail_lines(resp.body.data, resp.body.len, lines) : 0;
        fwrite(resp.body.data + from, 1, resp.body.len - from, ctx->out);
    }
    cli_resp_fini(&resp);
    return err;
}

static bool
is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Writes data to path ("-": stdout). 0 or -errno with the message set. */
static int
save(struct cli_ctx *ctx, const char *path, const char *data, size_t len)
{
    if (strcmp(path, "-") == 0) {
        fwrite(data, 1, len, ctx->out);
        return 0;
    }
    FILE *f = fopen(path, "wb");
    int err = f == NULL ? -errno : 0;
    if (f != NULL && fwrite(data, 1, len, f) != len) {
        err = -EIO;
    }
    if (f != NULL && fclose(f) != 0 && err == 0) {
        err = -errno;
    }
    if (err != 0) {
        cli_errorf(ctx, "%s: %s", path, strerror(-err));
    }
    return err;
}

/* One node's whole current log into dst (a file, "-", or a dir: DIR/ID.log). */
static int
get_one(struct cli_ctx *ctx, const char *id, const char *dst, bool into_dir)
{
    char path[AIS_PATH_BYTES_MAX + 96], size[32];
    struct cli_resp resp;
    int err = log_fetch(ctx, id, true, &resp);
    if (err == 0) {
        size_t l = strlen(dst);
        while (into_dir && l > 1 && dst[l - 1] == '/') {
            l--; /* "DIR/" and "DIR" name the same file */
        }
        if (into_dir) {
            snprintf(path, sizeof(path), "%.*s/%s.log", (int)l, dst, id);
        } else {
            snprintf(path, sizeof(path), "%s", dst);
        }
        err = save(ctx, path, resp.body.data, resp.body.len);
        cli_fmt_size(resp.body.len, size, sizeof(size));
        if (err == 0 && strcmp(path, "-") != 0) {
            fprintf(ctx->out, "Saved the log of %s to %s (%s)\n", id, path, size);
        }
    }
    cli_resp_fini(&resp);
    return err;
}

/* Every node of the cluster map into dir, one file each; the first error at the end. */
static int
get_cluster(struct cli_ctx *ctx, const char *dir)
{
    json_t *smap = NULL;
    int first = 0, failed = 0, n = 0;
    int err = cli_smap_get(ctx, &smap);
    if (err < 0) {
        return err;
    }
    char why[CLI_ERRMSG_BYTES] = "";
    for (int t = 0; t < 2; t++) {
        const char *id;
        json_t *sn;
        json_object_foreach(json_object_get(smap, t ? "tmap" : "pmap"), id, sn)
        {
            int rc = get_one(ctx, id, dir, true);
            n++;
            if (rc < 0) {
                fprintf(ctx->err, "%s: %s\n", id, ctx->conn.errmsg);
                snprintf(why, sizeof(why), "%s", ctx->conn.errmsg);
                first = first ? first : rc;
                failed++;
            }
        }
    }
    json_decref(smap);
    if (first != 0) {
        cli_errorf(ctx, "logs of %d of %d nodes not saved (last: %s)", failed, n, why);
    }
    return first;
}

int
cli_cmd_log_get(struct cli_ctx *ctx, const struct cli_args *a)
{
    char id[AIS_DAEMON_ID_BYTES_MAX + 8];
    const char *dst = a->npos > 1 ? a->pos[1] : ".";
    size_t l = strlen(dst);
    bool cluster = strcmp(a->pos[0], "cluster") == 0;
    bool into_dir = is_dir(dst) || (l > 0 && dst[l - 1] == '/');
    if ((cluster || into_dir) && strcmp(dst, "-") != 0 && !is_dir(dst) && mkdir(dst, 0755) != 0) {
        int err = -errno;
        cli_errorf(ctx, "%s: %s", dst, strerror(-err));
        return err;
    }
    if (cluster) {
        if (strcmp(dst, "-") == 0) {
            cli_errorf(ctx, "log get cluster: expected a directory, not \"-\"");
            return CLI_EUSAGE;
        }
        return get_cluster(ctx, dst);
    }
    cli_node_id(a->pos[0], id, sizeof(id));
    return get_one(ctx, id, dst, into_dir && strcmp(dst, "-") != 0);
}
