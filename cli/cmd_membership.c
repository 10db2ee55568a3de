/*
 * `ais cluster add-remove-nodes start-maintenance|stop-maintenance|decommission|shutdown NODE`
 * (alias `ais cluster membership ...`, AIS's own name).
 *
 * Design notes: each command is one PUT /v1/cluster ActMsg {"action":..,"value":{"sid":..,
 * "skip_rebalance":..}} (api.md §5.3); the reply body is the id of the rebalance the change
 * started, or empty, and is printed with the command to follow it. Unknown node ids come back
 * as 404 (exit 3), refusals (the primary, the last active target) as 400/409. decommission and
 * shutdown stop a node, so they ask first unless --yes.
 */
#include "cli/cli_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Sends the action for node sid; *reb_id receives the rebalance id ("" when none). */
static int
node_act(struct cli_ctx *ctx, const char *action, const char *sid, bool skip_reb, char *reb_id,
         size_t cap)
{
    json_t *msg =
        cli_actmsg(action, json_pack("{s:s, s:b}", "sid", sid, "skip_rebalance", skip_reb));
    int err = msg != NULL ? cli_http_put_text(ctx, "/v1/cluster", msg, reb_id, cap) : -ENOMEM;
    json_decref(msg);
    return err;
}

static void
print_reb(struct cli_ctx *ctx, const char *reb_id)
{
    if (reb_id[0] != '\0') {
        fprintf(ctx->out, "Started rebalance \"%s\", use 'ais job show %s' to monitor progress\n",
                reb_id, reb_id);
    }
}

static int
run_action(struct cli_ctx *ctx, const struct cli_args *a, const char *action, const char *done)
{
    char reb_id[64] = "";
    const char *sid = a->pos[0];
    int err =
        node_act(ctx, action, sid, cli_flag_on(a, CLI_F_SKIP_REBALANCE), reb_id, sizeof(reb_id));
    if (err == 0) {
        fprintf(ctx->out, "Node \"%s\" %s\n", sid, done);
        print_reb(ctx, reb_id);
    }
    return err;
}

int
cli_cmd_node_maint_start(struct cli_ctx *ctx, const struct cli_args *a)
{
    return run_action(ctx, a, "start-maintenance", "is under maintenance");
}

int
cli_cmd_node_maint_stop(struct cli_ctx *ctx, const struct cli_args *a)
{
    return run_action(ctx, a, "stop-maintenance", "is no longer under maintenance");
}

int
cli_cmd_node_decommission(struct cli_ctx *ctx, const struct cli_args *a)
{
    char prompt[160];
    snprintf(prompt, sizeof(prompt), "Decommission node %.64s (it leaves the cluster for good)?",
             a->pos[0]);
    int err = cli_confirm(ctx, prompt);
    if (err == 0) {
        err = run_action(ctx, a, "decommission-node",
                         "is being decommissioned: removed once its objects moved off "
                         "(see 'ais job ls decommission')");
    }
    return err;
}

int
cli_cmd_node_shutdown(struct cli_ctx *ctx, const struct cli_args *a)
{
    char prompt[160];
    snprintf(prompt, sizeof(prompt), "Shut down node %.64s?", a->pos[0]);
    int err = cli_confirm(ctx, prompt);
    return err == 0 ? run_action(ctx, a, "shutdown-node", "left the cluster and is shutting down")
                    : err;
}
