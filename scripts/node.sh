#!/usr/bin/env bash
# One AIS node: writes its config.json from environment variables, then execs aisnode.
# The one per-node start logic: `make deploy` (scripts/deploy.sh, once per node, in the
# background) and the container image (ENTRYPOINT; compose and Kubernetes set the variables)
# both run it.
#
# Usage: node.sh [run]       write the config, then exec aisnode (logs go to stdout/stderr)
#        node.sh config      write the config only and print its path
#        node.sh pre-stop    target about to stop: start-maintenance on itself through a gateway,
#                            then wait (bounded) for the rebalance that moves its objects away
#        node.sh post-start  target started: wait for it to join, then stop-maintenance on
#                            itself if its pre-stop left it in maintenance (marker file
#                            AIS_NODE_DIR/prestop-maintenance; never fails)
#
# Env (defaults in parentheses):
#   AIS_ROLE             gateway | target (required)
#   AIS_HOSTNAME         address the node binds and advertises; a name must resolve to this
#                        host's address (127.0.0.1). Not 0.0.0.0: what it binds it advertises.
#   AIS_HOSTNAME_INTRA   intra-cluster address (host_net.hostname_intra_control; empty: none)
#   AIS_PORT             public HTTP port (8080)
#   AIS_CONTROL_PORT     nng control port (AIS_PORT + 1000); targets' object streams use it + 1000
#   AIS_PRIMARY_URL      control URL of the primary gateway, tcp://host:port (a gateway: its own
#                        tcp://AIS_HOSTNAME:AIS_CONTROL_PORT, i.e. it is the primary; a target:
#                        required). A gateway is the primary when this equals its own URL.
#   AIS_MOUNTPATHS       targets: comma-separated mountpaths, created if missing (required)
#   AIS_NODE_DIR         this node's dir: config.json and, by default, conf/ (/var/lib/ais)
#   AIS_CONFDIR          node metadata: daemon id, Smap, BMD (AIS_NODE_DIR/conf)
#   AIS_DAEMON_ID        fixed node id (empty: the one persisted in AIS_CONFDIR, else random)
#   AIS_LOG_LEVEL        error, warning, info, debug (info)
#   AIS_LOG_DIR          the node writes and rotates AIS_LOG_DIR/aisnode.log itself (config
#                        log_dir; GET /v1/daemon?what=log serves it); empty: the log goes to
#                        stderr, for a container runtime to collect (make deploy: the node dir)
#   AIS_PROMOTE_ROOT     the only tree `ais promote` reads from (/var/lib/ais/promote)
#   AIS_DRY_RUN          1: targets discard PUTs and generate GETs (0)
#   AIS_STATSD_ADDR      host:port: push to StatsD (empty: off); AIS_STATSD_INTERVAL (10s)
#   AIS_BIN              the daemon (<checkout>/build/deploy/aisnode if built, else aisnode on PATH)
#   AIS_RESOLVE_TIMEOUT_S  how long `run` waits for AIS_HOSTNAME to resolve (60; Kubernetes
#                        publishes a pod's DNS name a moment after the pod starts)
#   AIS_GATEWAY_URL      pre-stop/post-start: public URL of a gateway (from AIS_PRIMARY_URL:
#                        http://<its host>:<its port - 1000>)
#   AIS_PRESTOP_TIMEOUT_S  pre-stop: longest wait for the rebalance (600; keep it below the
#                        pod's terminationGracePeriodSeconds)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "node: $*" >&2; exit 1; }

AIS_HOSTNAME=${AIS_HOSTNAME:-127.0.0.1}
AIS_PORT=${AIS_PORT:-8080}
case "$AIS_PORT${AIS_CONTROL_PORT:-}" in
*[!0-9]*) die "AIS_PORT and AIS_CONTROL_PORT must be numbers" ;;
esac
AIS_CONTROL_PORT=${AIS_CONTROL_PORT:-$((AIS_PORT + 1000))}
AIS_NODE_DIR=${AIS_NODE_DIR:-/var/lib/ais}
AIS_CONFDIR=${AIS_CONFDIR:-$AIS_NODE_DIR/conf}
AIS_LOG_LEVEL=${AIS_LOG_LEVEL:-info}
AIS_PROMOTE_ROOT=${AIS_PROMOTE_ROOT:-/var/lib/ais/promote}
if [ -z "${AIS_BIN:-}" ]; then
    if [ -x "$here/../build/deploy/aisnode" ]; then
        AIS_BIN=$here/../build/deploy/aisnode
    else
        AIS_BIN=$(command -v aisnode || echo aisnode)
    fi
fi

# JSON string contents: backslash and double quote escaped (paths are the only free text).
js() { local s=${1//\\/\\\\}; printf '%s' "${s//\"/\\\"}"; }

check_env() {
    case "${AIS_ROLE:-}" in
    gateway | proxy) AIS_PRIMARY_URL=${AIS_PRIMARY_URL:-tcp://$AIS_HOSTNAME:$AIS_CONTROL_PORT} ;;
    target)
        [ -n "${AIS_PRIMARY_URL:-}" ] || die "AIS_PRIMARY_URL is required for a target (tcp://host:port of the primary gateway)"
        [ -n "${AIS_MOUNTPATHS:-}" ] || die "AIS_MOUNTPATHS is required for a target (comma-separated dirs)"
        ;;
    *) die "AIS_ROLE must be gateway or target (is '${AIS_ROLE:-}')" ;;
    esac
}

# Writes $AIS_NODE_DIR/config.json: the keys and layout make deploy has always written, plus
# daemon_id and host_net.hostname_intra_control when their variables are set.
write_config() {
    local fs="" m statsd="" id="" intra="" logdir="" mps=()
    # AIS_STATSD_ADDR=host:port (AIS_STATSD_INTERVAL, default 10s): the node pushes to StatsD.
    [ -n "${AIS_STATSD_ADDR:-}" ] &&
        statsd=", \"statsd\": {\"addr\": \"$(js "$AIS_STATSD_ADDR")\", \"interval\": \"${AIS_STATSD_INTERVAL:-10s}\"}"
    [ -n "${AIS_DAEMON_ID:-}" ] && id="
  \"daemon_id\": \"$(js "$AIS_DAEMON_ID")\","
    [ -n "${AIS_LOG_DIR:-}" ] && logdir="
  \"log_dir\": \"$(js "$AIS_LOG_DIR")\","
    [ -n "${AIS_HOSTNAME_INTRA:-}" ] && intra=", \"hostname_intra_control\": \"$(js "$AIS_HOSTNAME_INTRA")\""
    mkdir -p "$AIS_NODE_DIR" "$AIS_CONFDIR"
    if [ "$AIS_ROLE" = target ]; then
        IFS=, read -r -a mps <<<"$AIS_MOUNTPATHS"
    fi
    for m in "${mps[@]}"; do
        [ -n "$m" ] || continue
        mkdir -p "$m"
        fs="$fs${fs:+, }\"$(js "$m")\": \"\""
    done
    cat >"$AIS_NODE_DIR/config.json.tmp" <<JSON
{
  "role": "$AIS_ROLE",$id$logdir
  "confdir": "$(js "$AIS_CONFDIR")",
  "host_net": {"hostname": "$(js "$AIS_HOSTNAME")", "port": "$AIS_PORT", "port_intra_control": "$AIS_CONTROL_PORT"$intra},
  "proxy": {"primary_url": "$(js "$AIS_PRIMARY_URL")"},
  "fspaths": {$fs},
  "log": {"level": "$AIS_LOG_LEVEL"},
  "promote": {"root": "$(js "$AIS_PROMOTE_ROOT")"},
  "dry_run": $([ "${AIS_DRY_RUN:-0}" = 1 ] && echo true || echo false)$statsd
}
JSON
    mv -f "$AIS_NODE_DIR/config.json.tmp" "$AIS_NODE_DIR/config.json"
}

# A DNS name (a Kubernetes pod's, a compose service's) may appear after the container starts;
# aisnode binds what it advertises, so wait (bounded) until the name resolves.
wait_resolvable() {
    local deadline=$((SECONDS + ${AIS_RESOLVE_TIMEOUT_S:-60}))
    until getent hosts "$AIS_HOSTNAME" >/dev/null 2>&1; do
        [ $SECONDS -lt "$deadline" ] || die "AIS_HOSTNAME=$AIS_HOSTNAME does not resolve"
        sleep 0.5
    done
}

# ---- lifecycle hooks (targets in Kubernetes; no jq or python in the image: sed on JSON) ----

self_url() { echo "http://$AIS_HOSTNAME:$AIS_PORT"; }

gateway_url() {
    if [ -n "${AIS_GATEWAY_URL:-}" ]; then
        echo "${AIS_GATEWAY_URL%/}"
        return
    fi
    local hp=${AIS_PRIMARY_URL:?AIS_GATEWAY_URL or AIS_PRIMARY_URL is required}
    hp=${hp#tcp://}
    echo "http://${hp%:*}:$((${hp##*:} - 1000))"
}

# This node's id, from the node itself (GET /v1/daemon?what=snode).
self_id() {
    curl -fsS --max-time 10 "$(self_url)/v1/daemon?what=snode" |
        sed -n 's/.*"daemon_id": *"\([^"]*\)".*/\1/p'
}

cluster_act() { # action sid: prints the reply (a rebalance id or nothing)
    curl -fsS --max-time 60 -X PUT -H 'Content-Type: application/json' "$(gateway_url)/v1/cluster" \
        -d "{\"action\": \"$1\", \"value\": {\"sid\": \"$2\"}}"
}

pre_stop() {
    local id reb deadline=$((SECONDS + ${AIS_PRESTOP_TIMEOUT_S:-600}))
    id=$(self_id) || id=""
    [ -n "$id" ] || die "pre-stop: cannot read this node's id from $(self_url)"
    reb=$(cluster_act start-maintenance "$id") || die "pre-stop: start-maintenance of $id failed"
    : >"$AIS_NODE_DIR/prestop-maintenance" # post-start ends only the maintenance we started
    echo "node: pre-stop: $id in maintenance${reb:+, rebalance $reb}"
    [ -n "$reb" ] || return 0
    while [ $SECONDS -lt "$deadline" ]; do
        if curl -fsS --max-time 10 -X GET "$(gateway_url)/v1/cluster?what=status" \
            -d "{\"ID\": \"$reb\"}" 2>/dev/null | grep -q '"end_time": *[1-9]'; then
            echo "node: pre-stop: rebalance $reb finished"
            return 0
        fi
        sleep 1
    done
    die "pre-stop: rebalance $reb still running after ${AIS_PRESTOP_TIMEOUT_S:-600}s"
}

post_start() {
    local id="" deadline=$((SECONDS + ${AIS_RESOLVE_TIMEOUT_S:-60} + 60))
    while [ $SECONDS -lt "$deadline" ]; do
        curl -fsS --max-time 5 "$(self_url)/v1/health" >/dev/null 2>&1 && id=$(self_id) && break
        sleep 1
    done
    if [ -z "$id" ]; then
        echo "node: post-start: $(self_url) did not become healthy; maintenance left as is" >&2
        return 0
    fi
    # Only a maintenance pre-stop started ends here; one an operator started stays.
    [ -f "$AIS_NODE_DIR/prestop-maintenance" ] || return 0
    if cluster_act stop-maintenance "$id" >/dev/null; then
        rm -f "$AIS_NODE_DIR/prestop-maintenance"
        echo "node: post-start: $id out of maintenance"
    else
        echo "node: post-start: stop-maintenance of $id failed" >&2
    fi
    return 0
}

case "${1:-run}" in
run)
    check_env
    write_config
    wait_resolvable
    exec "$AIS_BIN" --role "$AIS_ROLE" --config "$AIS_NODE_DIR/config.json"
    ;;
config)
    check_env
    write_config
    echo "$AIS_NODE_DIR/config.json"
    ;;
pre-stop) check_env && pre_stop ;;
post-start) check_env && post_start ;;
*) die "usage: node.sh [run|config|pre-stop|post-start]" ;;
esac
