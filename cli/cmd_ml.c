/*
 * Design notes: `ais ml get-batch` (AIS cmd/cli ml.go): one batch GET (GET /v1/ml/moss with a
 * MossReq body, see target/moss.h) written to a local archive. Inputs are SRC words
 * (BUCKET/OBJ, or BUCKET with --list) or a MossReq JSON file (--spec); --cont-on-err,
 * --streaming and --omit-src-bck set coer, strm and onob; the output format (MossReq mime)
 * follows DST's extension (.tar, .tgz, .tar.gz, .zip, .tar.lz4) unless the spec names one. The
 * reply streams to the file; a
 * multipart (non-streaming) reply is written as received (metadata part + archive part).
 */
#include "cli/cli_int.h"
#include "common/err.h"
#include "common/names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t
write_file(char *p, size_t size, size_t n, void *arg)
{
    return fwrite(p, size, n, arg) == n ? size * n : 0;
}

static int
add_in(json_t *in, const struct cli_bck *b, const char *obj)
{
    return json_array_append_new(in, json_pack("{s:s, s:s, s:s}", "objname", obj, "bucket", b->name,
                                               "provider", b->provider));
}

/* The MossReq from the SRC words and --list. 0, or an error after cli_errorf. */
static int
req_from_args(struct cli_ctx *ctx, const struct cli_args *a, json_t *in)
{
    for (int i = 0; i + 1 < a->npos; i++) {
        struct cli_bck b;
        const char *why = NULL;
        if (cli_bck_parse(a->pos[i], &b, &why) < 0) {
            cli_errorf(ctx, "invalid source \"%s\": %s", a->pos[i], why);
            return CLI_EUSAGE;
        }
        if (b.obj != NULL && b.obj[0] != '\0') {
            if (ais_obj_name_check(b.obj, strlen(b.obj), &why) != 0 || add_in(in, &b, b.obj)) {
                cli_errorf(ctx, "invalid object name \"%s\": %s", b.obj, why ? why : "");
                return AIS_EBADNAME;
            }
            continue;
        }
        const char *l = a->val[CLI_F_LIST];
        if (l == NULL) {
            cli_errorf(ctx, "\"%s\" names a bucket: give --list NAMES (or BUCKET/NAME sources)",
                       a->pos[i]);
            return CLI_EUSAGE;
        }
        char *dup = strdup(l), *save = NULL;
        if (dup == NULL) {
            return -ENOMEM;
        }
        for (char *tok = strtok_r(dup, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
            if (tok[0] != '\0' && add_in(in, &b, tok) != 0) {
                free(dup);
                return -ENOMEM;
            }
        }
        free(dup);
    }
    if (json_array_size(in) == 0) {
        cli_errorf(ctx, "nothing to get: give SRC objects, BUCKET --list NAMES, or --spec FILE");
        return CLI_EUSAGE;
    }
    return 0;
}

/* The archive format DST's name asks for ("" when none: the server's default, TAR). */
static const char *
mime_of(const char *dst)
{
    static const char *const ext[] = {".tar.gz", ".tar.lz4", ".tgz", ".zip", ".tar"};
    size_t l = strlen(dst);
    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
        size_t e = strlen(ext[i]);
        if (l > e && strcmp(dst + l - e, ext[i]) == 0) {
            return ext[i];
        }
    }
    return "";
}

int
cli_cmd_ml_get_batch(struct cli_ctx *ctx, const struct cli_args *a)
{
    const char *dst = a->pos[a->npos - 1];
    const char *spec = a->val[CLI_F_SPEC];
    json_t *req = NULL;
    char *body = NULL;
    FILE *f = NULL;
    int err = 0;
    if (spec != NULL) {
        json_error_t je;
        req = strcmp(spec, "-") == 0 ? json_loadf(ctx->in, 0, &je) : json_load_file(spec, 0, &je);
        if (req == NULL || !json_is_array(json_object_get(req, "in"))) {
            cli_errorf(ctx, "--spec %s: %s", spec,
                       req ? "not a MossReq (an object with an \"in\" array)" : je.text);
            err = CLI_EUSAGE;
            goto out;
        }
    } else {
        json_t *in = json_array();
        req = json_pack("{s:o}", "in", in);
        if (req == NULL || (err = req_from_args(ctx, a, in)) != 0) {
            err = err ? err : -ENOMEM;
            goto out;
        }
    }
    if (cli_flag_on(a, CLI_F_CONT_ON_ERR)) {
        json_object_set_new(req, "coer", json_true());
    }
    if (cli_flag_on(a, CLI_F_STREAMING)) {
        json_object_set_new(req, "strm", json_true());
    }
    if (cli_flag_on(a, CLI_F_OMIT_SRC_BCK)) {
        json_object_set_new(req, "onob", json_true());
    }
    if (json_object_get(req, "mime") == NULL && mime_of(dst)[0] != '\0') {
        json_object_set_new(req, "mime", json_string(mime_of(dst)));
    }
    if ((body = json_dumps(req, JSON_COMPACT)) == NULL) {
        err = -ENOMEM;
        goto out;
    }
    bool to_stdout = strcmp(dst, "-") == 0;
    f = to_stdout ? ctx->out : fopen(dst, "wb");
    if (f == NULL) {
        cli_errorf(ctx, "cannot create %s: %s", dst, strerror(errno));
        err = -errno;
        goto out;
    }
    struct cli_req rq = {.method = "GET",
                         .path = "/v1/ml/moss",
                         .body = body,
                         .body_len = strlen(body),
                         .write_fn = write_file,
                         .write_arg = f};
    struct cli_resp resp;
    cli_resp_init(&resp);
    err = cli_http_do(&ctx->conn, &rq, &resp);
    cli_resp_fini(&resp);
    if (!to_stdout && fclose(f) != 0 && err == 0) {
        cli_errorf(ctx, "write %s: %s", dst, strerror(errno));
        err = -EIO;
    }
    f = NULL;
    if (err != 0 && !to_stdout) {
        remove(dst); /* no partial archive */
    } else if (err == 0 && !to_stdout) {
        fprintf(ctx->out, "GET-BATCH %zu entries => %s\n",
                json_array_size(json_object_get(req, "in")), dst);
    }
out:
    free(body);
    json_decref(req);
    return err;
}
