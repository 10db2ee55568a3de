#!/usr/bin/env bash
# Local cluster on 127.0.0.1: `deploy.sh start|stop|status`.
# Env: GATEWAYS (1), TARGETS (3), MOUNTPATHS (2), AIS_PORT (8080: first gateway; the other
# nodes take the next ports; control ports are +1000), AIS_DATA_DIR (<repo>/.ais),
# AIS_BIN (<repo>/build/deploy/aisnode), DRY_RUN=1 (targets discard PUTs, generate GETs),
# AIS_LOG_LEVEL (info).
# `start` is idempotent: a cluster already running from the same data dir is stopped first,
# then started again with its data.
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

stop_all() {
    local pids=() f
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
    [ ${#pids[@]} -gt 0 ] && echo "deploy: stopped ${#pids[@]} node(s) (data kept in $AIS_DATA_DIR)"
    return 0
}

write_config() { # name role port mountpaths...
    local name=$1 role=$2 port=$3; shift 3
    local dir="$AIS_DATA_DIR/$name" fs="" m
    mkdir -p "$dir/conf"
    for m in "$@"; do
        mkdir -p "$m"
        fs="$fs${fs:+, }\"$m\": \"\""
    done
    cat > "$dir/config.json" <<JSON
{
  "role": "$role",
  "confdir": "$dir/conf",
  "host_net": {"hostname": "127.0.0.1", "port": "$port", "port_intra_control": "$((port + 1000))"},
  "proxy": {"primary_url": "tcp://127.0.0.1:$((AIS_PORT + 1000))"},
  "fspaths": {$fs},
  "log": {"level": "$AIS_LOG_LEVEL"},
  "dry_run": $([ "${DRY_RUN:-0}" = 1 ] && echo true || echo false)
}
JSON
}

start_node() { # name role port
    local name=$1 role=$2 dir="$AIS_DATA_DIR/$1"
    nohup "$AIS_BIN" --role "$role" --config "$dir/config.json" >>"$dir/aisnode.log" 2>&1 &
    echo $! > "$dir/aisnode.pid"
}

wait_ready() {
    local url="http://127.0.0.1:$AIS_PORT" deadline=$((SECONDS + DEADLINE_S)) n=0
    while [ $SECONDS -lt $deadline ]; do
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
    stop_all
    mkdir -p "$AIS_DATA_DIR"
    local i j port=$AIS_PORT
    for i in $(seq 0 $((GATEWAYS - 1))); do
        write_config "gw$i" gateway $((port + i))
    done
    for i in $(seq 0 $((TARGETS - 1))); do
        local mps=()
        for j in $(seq 1 "$MOUNTPATHS"); do mps+=("$AIS_DATA_DIR/t$i/mp$j"); done
        write_config "t$i" target $((port + GATEWAYS + i)) "${mps[@]}"
    done
    start_node gw0 gateway
    for i in $(seq 1 $((GATEWAYS - 1))); do start_node "gw$i" gateway; done
    for i in $(seq 0 $((TARGETS - 1))); do start_node "t$i" target; done
    wait_ready || { stop_all; exit 1; }
    echo "deploy: cluster is up: $GATEWAYS gateway(s), $TARGETS target(s) x $MOUNTPATHS mountpath(s), data in $AIS_DATA_DIR"
    echo "deploy: endpoint http://127.0.0.1:$AIS_PORT"
    echo "        export AIS_ENDPOINT=http://127.0.0.1:$AIS_PORT   # for the ais CLI"
    echo "        stop with: make kill"
}

case "${1:-start}" in
start) start_all ;;
stop) stop_all ;;
status)
    for f in "$AIS_DATA_DIR"/*/aisnode.pid; do
        [ -f "$f" ] || continue
        n=$(basename "$(dirname "$f")")
        if kill -0 "$(cat "$f")" 2>/dev/null; then echo "$n: running (pid $(cat "$f"))"; else echo "$n: dead"; fi
    done ;;
*) die "usage: deploy.sh start|stop|status" ;;
esac
