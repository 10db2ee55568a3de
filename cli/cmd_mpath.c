/*
 * `ais storage mountpath attach|detach|enable|disable NODE_ID PATH`.
 *
 * Design notes: one request per command, PUT /v1/daemon/mountpaths with the AIS action
 * message and header Ais-Node-Id, sent to the gateway, which redirects it to that target; the
 * target answers with the id of the resilver job it started, printed so scripts can
 * `ais job wait` it. The action is the command's own name plus "-mp" (the AIS action names).
 */
#include "cli/cli_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
mpath_do(struct cli_ctx *ctx, const struct cli_args *a, const char *verb)
{
    char action[32], hdr[96];
    snprintf(action, sizeof(action), "%s-mp", verb);
    snprintf(hdr, sizeof(hdr), "Ais-Node-Id: %s", a->pos[0]);
    json_t *msg = cli_actmsg(action, json_string(a->pos[1]));
    char *text = msg != NULL ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (text == NULL) {
        return -ENOMEM;
    }
    struct cli_resp resp;
    struct cli_req rq = {.method = "PUT",
                         .path = "/v1/daemon/mountpaths",
                         .body = text,
                         .body_len = strlen(text),
                         .hdr1 = hdr,
                         .timeout_ms = ctx->conn.ctrl_timeout_ms};
    cli_resp_init(&resp);
    int err = cli_http_do(&ctx->conn, &rq, &resp);
    if (err == 0) {
        fprintf(ctx->out, "%s mountpath %s on t[%s]", verb, a->pos[1], a->pos[0]);
        if (resp.body.len > 0) {
            fprintf(ctx->out, ": resilver job %.*s", (int)resp.body.len, resp.body.data);
        }
        fprintf(ctx->out, "\n");
    }
    cli_resp_fini(&resp);
    free(text);
    return err;
}

int
cli_cmd_mpath_attach(struct cli_ctx *ctx, const struct cli_args *a)
{
    return mpath_do(ctx, a, "attach");
}

int
cli_cmd_mpath_detach(struct cli_ctx *ctx, const struct cli_args *a)
{
    return mpath_do(ctx, a, "detach");
}

int
cli_cmd_mpath_enable(struct cli_ctx *ctx, const struct cli_args *a)
{
    return mpath_do(ctx, a, "enable");
}

int
cli_cmd_mpath_disable(struct cli_ctx *ctx, const struct cli_args *a)
{
    return mpath_do(ctx, a, "disable");
}
