#!/usr/bin/env bash
# bench/s3.sh: what the /s3 endpoint costs, in one run (`make bench-s3` is not needed: run it).
# Deploys a dedicated local cluster (or uses BENCH_AIS_URL) and an nginx on loopback, then drives
# all of them with the same client, aisloader: /s3 path-style URLs in its plain-HTTP mode
# (GET/PUT http://gw/s3/BUCKET/NAME, unsigned: s3.auth is off), /v1 through the gateway (307 to
# the target, followed per request), /v1 direct to the owning target, and nginx (sendfile, DAV
# PUT). Prints one table per size: op | /s3 | /v1 gateway | /v1 direct | nginx | /s3 / /v1 gw,
# and checks the goal: /s3 1 MiB GET >= 0.8x /v1 through the gateway. Results JSON goes to
# bench/results/bench-s3-<stamp>.json.
#
# Knobs (env): BENCH_DURATION (per cell, 4s), BENCH_WORKERS (4), BENCH_SIZES ("4KiB 1MiB"),
# BENCH_PORT (21180), BENCH_NGINX_PORT (21990), TARGETS (1), MOUNTPATHS (1), BENCH_AIS_URL,
# BENCH_SKIP_BUILD (1: use BUILD as it is), BUILD (build dir, default build).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
DUR=${BENCH_DURATION:-4s}
WORKERS=${BENCH_WORKERS:-4}
SIZES=${BENCH_SIZES:-"4KiB 1MiB"}
PORT=${BENCH_PORT:-21180}
NGX_PORT=${BENCH_NGINX_PORT:-21990}
TARGETS=${TARGETS:-1}
MOUNTPATHS=${MOUNTPATHS:-1}
PY=/usr/bin/python3
LOADER=$BUILD/bench/aisloader
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ais-bench-s3.XXXXXX")
CELLS=$WORK/cells
BUCKET=bench-s3
GW_URL=${BENCH_AIS_URL:-http://127.0.0.1:$PORT}
CELL_TIMEOUT=120
deployed=0

log() { echo "bench-s3: $*" >&2; }

cleanup() {
    set +e
    bash "$ROOT/bench/nginx.sh" stop "$WORK/nginx" >/dev/null 2>&1
    if [ "$deployed" = 1 ]; then
        AIS_DATA_DIR=$WORK/ais AIS_PORT=$PORT bash "$ROOT/scripts/deploy.sh" stop >/dev/null 2>&1
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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
        deployed=1
        GATEWAYS=1 AIS_DATA_DIR="$WORK/ais" AIS_PORT="$PORT" TARGETS="$TARGETS" \
            MOUNTPATHS="$MOUNTPATHS" AIS_BIN="$BUILD/deploy/aisnode" \
            bash "$ROOT/scripts/deploy.sh" start >"$WORK/deploy.log" 2>&1 ||
            { log "deploy failed:"; tail -20 "$WORK/deploy.log" >&2; exit 1; }
    fi
    for _ in $(seq 1 300); do
        curl -sf -o /dev/null "$GW_URL/v1/health" && break
        sleep 0.1
    done
    # like nginx, no fsync per PUT; /s3 streams through the gateway (no 307)
    curl -sf -o /dev/null -X PUT "$GW_URL/v1/cluster/setconfig?disk.fsync=false&s3.redirect=false" ||
        { log "cannot set disk.fsync / s3.redirect"; exit 1; }
    curl -s -o /dev/null -X PUT "$GW_URL/s3/$BUCKET" # exists already: 409, fine
    bash "$ROOT/bench/nginx.sh" start "$WORK/nginx" "$NGX_PORT"
}

cell() {
    local name=$1
    shift
    log "  $name"
    timeout -k 5 "$CELL_TIMEOUT" "$LOADER" --json --quiet --workers "$WORKERS" --duration "$DUR" \
        "$@" >"$CELLS/$name.json" 2>"$CELLS/$name.err" || true
}

run_size() {
    local s=$1 n=200 pfx
    [ "$s" = 4KiB ] && n=1000
    pfx="s$s/"
    local common=(--prefix "$pfx" --size "$s" --num-objects "$n")
    local v1=(--endpoint "$GW_URL" --bucket "$BUCKET" "${common[@]}")
    log "size $s: $n objects, ${DUR} per cell"
    cell "$s.s3.put" --baseline-url "$GW_URL/s3/$BUCKET" "${common[@]}" --pctput 100 --seq
    cell "$s.s3.get" --baseline-url "$GW_URL/s3/$BUCKET" "${common[@]}" --pctput 0 --existing
    cell "$s.v1gw.put" "${v1[@]}" --pctput 100 --seq
    cell "$s.v1gw.get" "${v1[@]}" --pctput 0 --existing
    cell "$s.v1direct.get" "${v1[@]}" --pctput 0 --existing --direct
    cell "$s.v1direct.put" "${v1[@]}" --pctput 100 --seq --direct
    cell "$s.ngx.put" --baseline-url "http://127.0.0.1:$NGX_PORT/$BUCKET" "${common[@]}" --pctput 100 --seq
    cell "$s.ngx.get" --baseline-url "http://127.0.0.1:$NGX_PORT/$BUCKET" "${common[@]}" --pctput 0 --existing
}

main() {
    setup
    for s in $SIZES; do
        run_size "$s"
    done
    echo "machine: $(nproc) cpus, kernel $(uname -r); workers=$WORKERS per-cell=$DUR targets=$TARGETS" \
        "git=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)"
    "$PY" - "$CELLS" "$ROOT/bench/results/bench-s3-$STAMP.json" $SIZES <<'PYEOF'
import json, os, sys
cells, out, sizes = sys.argv[1], sys.argv[2], sys.argv[3:]
COLS = [("s3", "/s3 (via gw)"), ("v1gw", "/v1 gateway"), ("v1direct", "/v1 direct"), ("ngx", "nginx")]

def read(size, col, op):
    try:
        with open(os.path.join(cells, f"{size}.{col}.{op}.json")) as f:
            doc = json.load(f)
        o = doc["run"][op]
        if o["ops"] == 0 or doc["run"].get("errors_total", 0):
            print(f"  {size} {col} {op}: failed: {o['ops']} ops, errors {doc['run'].get('errors')}")
            return None
        return {"ops_s": o["ops_per_s"], "mib_s": o["mib_per_s"], "p99_ms": o["lat_us"]["p99"] / 1e3}
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"  {size} {col} {op}: no result ({e})")
        return None

res, ok = {}, True
for size in sizes:
    unit = "req/s" if size == "4KiB" else "MiB/s"
    key = "ops_s" if size == "4KiB" else "mib_s"
    print(f"\n{size} ({unit}, p99 ms)")
    print(f"{'op':<5}" + "".join(f"{h:>20}" for _, h in COLS) + f"{'/s3 : /v1 gw':>15}")
    for op in ("get", "put"):
        row, vals = f"{op.upper():<5}", {}
        for col, _ in COLS:
            d = read(size, col, op)
            vals[col] = d[key] if d else None
            row += f"{'fail':>20}" if d is None else f"{d[key]:>11.1f} ({d.get('p99_ms', 0):>5.1f})"
        r = vals["s3"] / vals["v1gw"] if vals["s3"] and vals["v1gw"] else None
        row += f"{'n/a' if r is None else f'{r:.2f}x':>15}"
        print(row)
        res[f"{size}.{op}"] = dict(vals, ratio_s3_v1gw=r)
g = res.get("1MiB.get", {}).get("ratio_s3_v1gw")
if g is not None:
    ok = g >= 0.8
    print(f"\ngoal /s3 1MiB GET >= 0.8x /v1 via gateway: {g:.2f}x {'met' if ok else 'NOT met'}")
with open(out, "w") as f:
    json.dump(res, f, indent=1)
print(f"results: {out}")
PYEOF
}

main "$@"
