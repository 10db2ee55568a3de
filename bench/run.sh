#!/usr/bin/env bash
# bench/run.sh: one command for the README's figures (`make bench` runs it).
# Deploys a dedicated local cluster and an nginx (sendfile, WebDAV PUT) on loopback serving a
# directory on the same disk, drives both with the same client (aisloader; wrk in addition
# for single-object GET), and prints one table: size | op | ours | nginx | ratio.
# Everything stops by itself: each cell is bounded by BENCH_DURATION and by `timeout`,
# and a trap stops nginx and the cluster on any exit.
#
# Knobs (env): BENCH_DURATION (per cell, default 4s), BENCH_WORKERS (4), BENCH_SIZES
# ("4KiB 64KiB 1MiB 16MiB"), BENCH_PORT (gateway, targets at +1..+N; 21080), BENCH_NGINX_PORT
# (21980; both below the ephemeral port range, so no client socket can hold them), TARGETS (1),
# MOUNTPATHS (1), BENCH_DIR (data dir; default a fresh mktemp dir), BENCH_WRK (1: also wrk
# GET), BENCH_DRY_RUN (1: targets in dry-run mode, no disk), BENCH_FSYNC (1: targets fsync
# each PUT, our default; 0 here because nginx does not), BENCH_AIS_URL (use this running
# gateway instead of deploying one), BENCH_SKIP_BUILD (1), BENCH_KEEP (1: keep the data dir),
# BUILD (build dir, default build).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
DUR=${BENCH_DURATION:-4s}
WORKERS=${BENCH_WORKERS:-4}
SIZES=${BENCH_SIZES:-"4KiB 64KiB 1MiB 16MiB"}
PORT=${BENCH_PORT:-21080}
NGX_PORT=${BENCH_NGINX_PORT:-21980}
TARGETS=${TARGETS:-1}
MOUNTPATHS=${MOUNTPATHS:-1}
USE_WRK=${BENCH_WRK:-1}
PY=/usr/bin/python3
LOADER=$BUILD/bench/aisloader
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
WORK=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/ais-bench.XXXXXX")}
CELLS=$WORK/cells
BUCKET=bench
GW_URL=${BENCH_AIS_URL:-http://127.0.0.1:$PORT}
deployed=0
fsync_before= # disk.fsync of a cluster we did not deploy (BENCH_AIS_URL), restored on exit

log() { echo "bench: $*" >&2; }

# Puts back the user's disk.fsync (BENCH_AIS_URL: their cluster, not ours) and says so.
restore_fsync() {
    [ -n "$fsync_before" ] || return 0
    if curl -sf -o /dev/null -X PUT "$GW_URL/v1/cluster/setconfig?disk.fsync=$fsync_before"; then
        log "restored disk.fsync=$fsync_before on $GW_URL"
    else
        log "could not restore disk.fsync=$fsync_before on $GW_URL: set it back with" \
            "curl -X PUT '$GW_URL/v1/cluster/setconfig?disk.fsync=$fsync_before'"
    fi
}

cleanup() {
    set +e
    restore_fsync
    bash "$ROOT/bench/nginx.sh" stop "$WORK/nginx" >/dev/null 2>&1
    if [ "$deployed" = 1 ]; then
        AIS_DATA_DIR=$WORK/ais AIS_PORT=$PORT bash "$ROOT/scripts/deploy.sh" stop >/dev/null 2>&1
    fi
    if [ "${BENCH_KEEP:-0}" != 1 ] && [ -z "${BENCH_DIR:-}" ]; then
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Hard cap of one cell (its --duration plus an untimed fill), so nothing can hang the script.
CELL_TIMEOUT=120

setup() {
    if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
        bash "$ROOT/scripts/install-deps.sh" --bench
        make -C "$ROOT" build >/dev/null
    fi
    [ -x "$LOADER" ] || { log "missing $LOADER (make build)"; exit 1; }
    command -v nginx >/dev/null || { log "nginx missing: bash scripts/install-deps.sh --bench"; exit 1; }
    mkdir -p "$CELLS" "$ROOT/bench/results"
    if [ -z "${BENCH_AIS_URL:-}" ]; then
        log "deploying cluster: gateway :$PORT, $TARGETS target(s) x $MOUNTPATHS mountpath(s)"
        local dry=()
        [ "${BENCH_DRY_RUN:-0}" = 1 ] && dry=(DRY_RUN=1)
        deployed=1
        env "${dry[@]}" GATEWAYS=1 AIS_DATA_DIR="$WORK/ais" AIS_PORT="$PORT" TARGETS="$TARGETS" \
            MOUNTPATHS="$MOUNTPATHS" bash "$ROOT/scripts/deploy.sh" start >"$WORK/deploy.log" 2>&1 ||
            { log "deploy failed:"; tail -20 "$WORK/deploy.log" >&2; exit 1; }
    fi
    for _ in $(seq 1 300); do
        curl -sf -o /dev/null "$GW_URL/v1/health" && break
        sleep 0.1
    done
    curl -sf -o /dev/null "$GW_URL/v1/health" || { log "gateway $GW_URL not healthy"; exit 1; }
    # nginx does not fsync uploads; by default neither do we here, so PUT compares like with
    # like (BENCH_FSYNC=1 measures our durable default instead). A cluster given by
    # BENCH_AIS_URL gets its own setting back on exit (restore_fsync).
    local want cur
    want=$([ "${BENCH_FSYNC:-0}" = 1 ] && echo true || echo false)
    if [ -n "${BENCH_AIS_URL:-}" ]; then
        cur=$(curl -sf "$GW_URL/v1/daemon?what=config" |
            $PY -c 'import json,sys; print(str(json.load(sys.stdin)["disk"]["fsync"]).lower())') ||
            { log "cannot read disk.fsync of $GW_URL"; exit 1; }
        if [ "$cur" != "$want" ]; then
            fsync_before=$cur
            log "setting disk.fsync=$want on $GW_URL for the run (restored on exit)"
        fi
    fi
    curl -sf -o /dev/null -X PUT "$GW_URL/v1/cluster/setconfig?disk.fsync=$want" ||
        { log "cannot set disk.fsync"; exit 1; }
    bash "$ROOT/bench/nginx.sh" start "$WORK/nginx" "$NGX_PORT"
}

bytes_of() {
    local s=$1 n=${1%%[!0-9]*}
    case "${s#"$n"}" in
    KiB) echo $((n << 10)) ;; MiB) echo $((n << 20)) ;; GiB) echo $((n << 30)) ;; *) echo "$n" ;;
    esac
}

# Name space per size: at most 1000 names and 128 MiB of data per server.
num_objects() {
    local b n
    b=$(bytes_of "$1")
    n=$(((128 << 20) / b))
    [ "$n" -gt 1000 ] && n=1000
    [ "$n" -lt 4 ] && n=4
    echo "$n"
}

# cell NAME ARGS...: one aisloader run, JSON into cells/NAME.json; errors never abort the script.
cell() {
    local name=$1
    shift
    log "  $name"
    timeout -k 5 "$CELL_TIMEOUT" "$LOADER" --json --quiet --workers "$WORKERS" --duration "$DUR" \
        "$@" >"$CELLS/$name.json" 2>"$CELLS/$name.err" || true
}

# wrk_cell NAME URL: wrk GET of one object over WORKERS keep-alive connections.
wrk_cell() {
    local name=$1 url=$2 threads=2
    [ "$WORKERS" -lt 2 ] && threads=1
    log "  $name"
    timeout -k 5 "$CELL_TIMEOUT" wrk -t"$threads" -c"$WORKERS" -d"$DUR" "$url" \
        >"$CELLS/$name.wrk" 2>&1 || true
}

run_size() {
    local s=$1 n pfx ais ngx obj loc
    n=$(num_objects "$s")
    pfx="s$s/"
    ais=(--endpoint "$GW_URL" --bucket "$BUCKET" --prefix "$pfx" --size "$s" --num-objects "$n")
    ngx=(--baseline-url "http://127.0.0.1:$NGX_PORT/$BUCKET" --prefix "$pfx" --size "$s"
        --num-objects "$n")
    log "size $s: $n objects, ${DUR} per cell"
    cell "$s.ais.put_gw" "${ais[@]}" --pctput 100 --seq
    cell "$s.ais.put_gw_expect" "${ais[@]}" --pctput 100 --seq --expect-continue
    cell "$s.ais.put_direct" "${ais[@]}" --pctput 100 --seq --direct
    cell "$s.ais.get_gw" "${ais[@]}" --pctput 0 --fill
    cell "$s.ais.get_direct" "${ais[@]}" --pctput 0 --existing --direct
    cell "$s.ngx.put" "${ngx[@]}" --pctput 100 --seq
    cell "$s.ngx.get" "${ngx[@]}" --pctput 0 --fill
    if [ "$USE_WRK" = 1 ] && command -v wrk >/dev/null; then
        obj="${pfx}0000000000"
        loc=$(curl -s -o /dev/null -w '%{redirect_url}' \
            "$GW_URL/v1/objects/$BUCKET/$obj?provider=ais" || true)
        [ -n "$loc" ] && wrk_cell "$s.ais.wrk_direct" "$loc"
        wrk_cell "$s.ngx.wrk" "http://127.0.0.1:$NGX_PORT/$BUCKET/$obj"
    fi
}

machine() {
    local cpu mem
    cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
    mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
    printf 'machine: %s cpus (%s), %s RAM, kernel %s, fs of %s: %s\n' "$(nproc)" \
        "${cpu:-unknown cpu}" "$mem" "$(uname -r)" "$WORK" "$(df -PT "$WORK" | awk 'NR==2 {print $2}')"
}

main() {
    setup
    local t0=$SECONDS
    for s in $SIZES; do
        run_size "$s"
    done
    local out="$ROOT/bench/results/bench-$STAMP.json"
    echo
    machine | tee "$WORK/machine.txt"
    echo "config: workers=$WORKERS per-cell=$DUR targets=$TARGETS mountpaths=$MOUNTPATHS" \
        "dry_run=${BENCH_DRY_RUN:-0} fsync=${BENCH_FSYNC:-0} git=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)"
    "$PY" "$ROOT/bench/table.py" --cells "$CELLS" --sizes "$SIZES" --machine "$WORK/machine.txt" \
        --workers "$WORKERS" --duration "$DUR" --dry-run "${BENCH_DRY_RUN:-0}" --json-out "$out"
    log "done in $((SECONDS - t0)) s; results: $out"
}

main "$@"
