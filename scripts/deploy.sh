#!/usr/bin/env bash
# Local cluster on 127.0.0.1: `deploy.sh start|stop|status` (make deploy|kill|status).
# Each node is started by scripts/node.sh (config.json from env, then exec aisnode), the same
# script the container image runs as its entrypoint. A node writes and rotates its own
# <data dir>/<node>/aisnode.log (log_dir); what it prints before that (a bad config) lands in
# the same file through the redirect below.
# Env: GATEWAYS (1), TARGETS (3), MOUNTPATHS (2), AIS_PORT (8080: first gateway; the other
# nodes take the next ports; control ports are +1000), AIS_DATA_DIR (<repo>/.ais),
# AIS_BIN (<repo>/build/deploy/aisnode), DRY_RUN=1 (targets discard PUTs, generate GETs),
# AIS_LOG_LEVEL (info), STATSD_ADDR=host:port and STATSD_INTERVAL (10s): push to StatsD.
# PROMOTE_ROOT (/): the tree `ais promote` may read (a daemon alone defaults to
# /var/lib/ais/promote; a local developer cluster lets its user promote any directory).
# `start` is idempotent: a cluster already running from the same data dir is stopped first,
# then started again with its data; a node that dies while starting (a port in use) fails it at
# once with that node's last log lines. `stop` and `status` act on AIS_DATA_DIR and, when no
# node runs from it, say so and name the data dirs of clusters that do run (AIS_PORT plays no
# part); status then exits 1, stop 0 (stopping nothing is not an error).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
GATEWAYS=${GATEWAYS:-1}
TARGETS=${TARGETS:-3}
MOUNTPATHS=${MOUNTPATHS:-2}
AIS_PORT=${AIS_PORT:-8080}
AIS_DATA_DIR=${AIS_DATA_DIR:-$repo/.ais}
AIS_BIN=${AIS_BIN:-$repo/build/deploy/aisnode}
AIS_LOG_LEVEL=${AIS_LOG_LEVEL:-info}
DEADLINE_S=${DEADLINE_S:-60}

die() { echo "deploy: $*" >&2; exit 1; }

# Data dirs of other deploy.sh clusters on this machine: from the --config argument of running
# aisnode processes (<data dir>/<node>/config.json), our own data dir left out.
others() {
    local here; here=$(cd "$AIS_DATA_DIR" 2>/dev/null && pwd -P || echo "$AIS_DATA_DIR")
    ps -eo args= 2>/dev/null | awk '$1 ~ /aisnode$/ { for (i = 2; i < NF; i++) if ($i == "--config") print $(i + 1) }' |
        while read -r conf; do
            local d; d=$(dirname "$(dirname "$conf")")
            # An if, not a && chain: a false test as the last command would fail the loop and,
            # under pipefail and set -e, the caller with no word said.
            if [ -f "$d/gw0/config.json" ] && [ "$(cd "$d" 2>/dev/null && pwd -P)" != "$here" ]; then
                echo "$d"
            fi
        done | sort -u
}

# "No cluster here" for stop/status, naming the clusters running from other data dirs. Returns
# 1 for status (nothing runs here); stop stays idempotent (0) for scripts that stop blindly.
none_here() {
    local rc=$1 o d
    o=$(others)
    if [ -z "$o" ]; then
        echo "deploy: no cluster is running from $AIS_DATA_DIR (and no other deploy.sh cluster is running)" >&2
        return "$rc"
    fi
    echo "deploy: no cluster is running from $AIS_DATA_DIR; running from other data dirs:" >&2
    for d in $o; do
        echo "        $d   (stop with: AIS_DATA_DIR=$d make kill)" >&2
    done
    return "$rc"
}

stop_all() { # quiet=1: part of start, nothing to say when nothing runs
    local quiet=${1:-0} pids=() f
    for f in "$AIS_DATA_DIR"/*/aisnode.pid; do
        [ -f "$f" ] || continue
        local pid; pid=$(cat "$f")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
        rm -f "$f"
    done
    # Wait (bounded) for clean exits, then force.
    local i
    for i in $(seq 1 100); do
        local alive=0
        for p in "${pids[@]:-}"; do
            [ -n "$p" ] && kill -0 "$p" 2>/dev/null && alive=1
        done
        [ $alive -eq 0 ] && break
        sleep 0.1
    done
    for p in "${pids[@]:-}"; do
        [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true
    done
    if [ ${#pids[@]} -gt 0 ]; then
        echo "deploy: stopped ${#pids[@]} node(s) (data kept in $AIS_DATA_DIR)"
    elif [ "$quiet" = 0 ]; then
        none_here 0
    fi
    return 0
}

status_all() {
    local f n up=0
    for f in "$AIS_DATA_DIR"/*/aisnode.pid; do
        [ -f "$f" ] || continue
        n=$(basename "$(dirname "$f")")
        if kill -0 "$(cat "$f")" 2>/dev/null; then
            echo "$n: running (pid $(cat "$f"))"
            up=$((up + 1))
        else
            echo "$n: dead (log: $(dirname "$f")/aisnode.log)"
        fi
    done
    [ $up -gt 0 ] || none_here 1
}

# Starts one node in the background through scripts/node.sh, the per-node start logic the
# container image runs too: it writes <data dir>/<name>/config.json and execs aisnode, so the pid
# recorded is the daemon's. Every node.sh variable is set here, none inherited by accident.
start_node() { # name role port [mountpaths...]
    local role=$2 port=$3 dir="$AIS_DATA_DIR/$1" mps
    local primary=tcp://127.0.0.1:$((AIS_PORT + 1000)) # before AIS_PORT=$port below rebinds it
    shift 3
    mps=$(IFS=,; echo "$*")
    mkdir -p "$dir"
    AIS_ROLE=$role AIS_HOSTNAME=127.0.0.1 AIS_HOSTNAME_INTRA='' AIS_PORT=$port \
        AIS_CONTROL_PORT=$((port + 1000)) AIS_PRIMARY_URL=$primary \
        AIS_MOUNTPATHS=$mps AIS_NODE_DIR=$dir AIS_CONFDIR=$dir/conf AIS_DAEMON_ID='' AIS_LOG_DIR=$dir \
        AIS_LOG_LEVEL=$AIS_LOG_LEVEL AIS_PROMOTE_ROOT=${PROMOTE_ROOT:-/} AIS_DRY_RUN=${DRY_RUN:-0} \
        AIS_STATSD_ADDR=${STATSD_ADDR:-} AIS_STATSD_INTERVAL=${STATSD_INTERVAL:-10s} \
        AIS_BIN=$AIS_BIN AIS_RESOLVE_TIMEOUT_S=5 \
        nohup bash "$repo/scripts/node.sh" run >>"$dir/aisnode.log" 2>&1 &
    echo $! >"$dir/aisnode.pid"
}

# A node that exited while the cluster starts (port in use, bad config): its name, else fails.
dead_node() {
    local f
    for f in "$AIS_DATA_DIR"/*/aisnode.pid; do
        [ -f "$f" ] || continue
        kill -0 "$(cat "$f")" 2>/dev/null || { basename "$(dirname "$f")"; return 0; }
    done
    return 1
}

wait_ready() {
    local url="http://127.0.0.1:$AIS_PORT" deadline=$((SECONDS + DEADLINE_S)) n=0 dead
    while [ $SECONDS -lt $deadline ]; do
        if dead=$(dead_node); then
            echo "deploy: node $dead exited while starting; last lines of $AIS_DATA_DIR/$dead/aisnode.log:" >&2
            tail -n 5 "$AIS_DATA_DIR/$dead/aisnode.log" >&2 || true
            return 1
        fi
        if curl -fsS "$url/v1/health" >/dev/null 2>&1; then
            n=$(curl -fsS "$url/v1/daemon?what=smap" 2>/dev/null |
                python3 -c 'import json,sys; m=json.load(sys.stdin); print(len(m["tmap"]), len(m["pmap"]))' 2>/dev/null || echo "0 0")
            if [ "$n" = "$TARGETS $GATEWAYS" ]; then
                return 0
            fi
        fi
        sleep 0.2
    done
    echo "deploy: cluster not ready after ${DEADLINE_S}s (have targets/gateways: $n); logs:" >&2
    tail -n 5 "$AIS_DATA_DIR"/*/aisnode.log >&2 || true
    return 1
}

start_all() {
    [ -x "$AIS_BIN" ] || die "$AIS_BIN not built (run: make build)"
    [ "$GATEWAYS" -ge 1 ] && [ "$TARGETS" -ge 1 ] && [ "$MOUNTPATHS" -ge 1 ] ||
        die "GATEWAYS, TARGETS and MOUNTPATHS must be >= 1"
    stop_all 1
    mkdir -p "$AIS_DATA_DIR"
    local i j port=$AIS_PORT
    for i in $(seq 0 $((GATEWAYS - 1))); do
        start_node "gw$i" gateway $((port + i))
    done
    for i in $(seq 0 $((TARGETS - 1))); do
        local mps=()
        for j in $(seq 1 "$MOUNTPATHS"); do mps+=("$AIS_DATA_DIR/t$i/mp$j"); done
        start_node "t$i" target $((port + GATEWAYS + i)) "${mps[@]}"
    done
    wait_ready || { stop_all 1 >/dev/null; exit 1; }
    echo "deploy: cluster is up: $GATEWAYS gateway(s), $TARGETS target(s) x $MOUNTPATHS mountpath(s), data in $AIS_DATA_DIR"
    echo "deploy: endpoint http://127.0.0.1:$AIS_PORT"
    echo "        export AIS_ENDPOINT=http://127.0.0.1:$AIS_PORT   # for the ais CLI"
    local bdir; bdir=$(cd "$(dirname "$AIS_BIN")/.." && pwd)
    echo "        export PATH=$bdir/cli:$bdir/deploy:\$PATH   # ais, aisnode without make install"
    local env=""
    [ "$AIS_DATA_DIR" = "$repo/.ais" ] || env="AIS_DATA_DIR=$AIS_DATA_DIR "
    echo "        status: ${env}make status   stop: ${env}make kill"
}

case "${1:-start}" in
start) start_all ;;
stop) stop_all ;;
status) status_all ;;
*) die "usage: deploy.sh start|stop|status" ;;
esac
