#!/usr/bin/env python3
"""bench/protect.py: protected (mirror or EC) PUT/GET against plain PUT/GET, ratios from ONE run
(`make bench-mirror`, `make bench-ec`).

Deploys a dedicated local cluster (scripts/deploy.sh: 1 gateway, TARGETS targets with
MOUNTPATHS mountpaths each, its own data dir and port), creates a plain bucket and a protected
one - MODE=mirror: mirror.copies=COPIES; MODE=ec: EC DATA+PARITY with ec.objsize_limit 0 (every
object sliced) - and runs the same aisloader cells on both, interleaved (plain, protected, plain,
protected: ROUNDS rounds) so the shared machine's noise hits both alike:
  PUT: SIZE objects, WORKERS workers, SECS seconds (fsync per the cluster default);
  GET: the same names afterwards.
Prints MiB/s per cell and the ratios protected/plain (goals, mirror: PUT >= 0.5, GET ~= 1.0; an EC
PUT also streams (d+p)/d of its bytes to other targets before its 200, GET serves the main
copy), and writes bench/results/<MODE>-<UTC time>.json (not committed). Every step has a
timeout; the cluster is stopped on any exit.

Env: MODE (mirror), BUILD (default <repo>/build), TARGETS (3; ec: 4), MOUNTPATHS (2), COPIES (2),
DATA (2), PARITY (1), SIZE (1MiB), WORKERS (8), SECS (8), ROUNDS (2), FSYNC (1; 0 turns
disk.fsync off), BENCH_PORT (24080), BENCH_DIR (fresh temp dir by default, removed unless
BENCH_KEEP=1).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ENV = os.environ.get
BUILD = os.path.abspath(ENV("BUILD", os.path.join(REPO, "build")))
AISNODE = os.path.join(BUILD, "deploy", "aisnode")
LOADER = os.path.join(BUILD, "bench", "aisloader")
MODE = ENV("MODE", "mirror")
TARGETS = int(ENV("TARGETS", "4" if MODE == "ec" else "3"))
MOUNTPATHS, COPIES = int(ENV("MOUNTPATHS", "2")), int(ENV("COPIES", "2"))
DATA, PARITY = int(ENV("DATA", "2")), int(ENV("PARITY", "1"))
SIZE, WORKERS, SECS, ROUNDS = ENV("SIZE", "1MiB"), int(ENV("WORKERS", "8")), int(ENV("SECS", "8")), int(ENV("ROUNDS", "2"))
PORT = int(ENV("BENCH_PORT", "24080"))
GW = f"http://127.0.0.1:{PORT}"


def log(msg):
    print(f"bench-{MODE}: {msg}", file=sys.stderr, flush=True)


def req(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(GW + path, data=data, method=method)
    with urllib.request.urlopen(r, timeout=60) as resp:
        return resp.status, resp.read().decode()


def wait_job(jid, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = urllib.request.Request(GW + "/v1/cluster?what=status", data=json.dumps({"ID": jid}).encode(), method="GET")
        try:
            with urllib.request.urlopen(r, timeout=10) as resp:
                if json.loads(resp.read())["end_time"] != 0:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"job {jid} did not end in {timeout}s")


def loader(bucket, *extra):
    cmd = [LOADER, "--endpoint", GW, "--bucket", bucket, "--no-create", "--quiet", "--json", "--timeout", "60s",
           "--size", SIZE, "--workers", str(WORKERS), "--stats-interval", "0", *extra]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=SECS * 10 + 120)
    if r.returncode not in (0, 3):
        raise RuntimeError(f"aisloader {' '.join(extra)}: rc={r.returncode} {r.stderr[-2000:]}")
    return json.loads(r.stdout)["run"]


def main():
    for p in (AISNODE, LOADER):
        if not os.path.exists(p):
            sys.exit(f"bench-{MODE}: {p} missing: build first (make build)")
    work = ENV("BENCH_DIR") or tempfile.mkdtemp(prefix=f"ais-bench-{MODE}.")
    env = dict(os.environ, GATEWAYS="1", TARGETS=str(TARGETS), MOUNTPATHS=str(MOUNTPATHS), AIS_PORT=str(PORT),
               AIS_DATA_DIR=os.path.join(work, "ais"), AIS_BIN=AISNODE, DEADLINE_S="90")
    deploy = lambda cmd: subprocess.run(["bash", os.path.join(REPO, "scripts", "deploy.sh"), cmd], env=env,  # noqa: E731
                                        capture_output=True, text=True, timeout=240)
    log(f"build {BUILD}; data in {work}")
    r = deploy("start")
    if r.returncode != 0:
        sys.exit(f"bench-{MODE}: deploy failed: {r.stdout}{r.stderr}")
    if MODE == "ec":
        props = {"ec": {"enabled": True, "data_slices": DATA, "parity_slices": PARITY, "objsize_limit": 0}}
    elif MODE == "mirror":
        props = {"mirror": {"enabled": True, "copies": COPIES}}
    else:
        sys.exit(f"bench-protect: MODE must be mirror or ec, not {MODE!r}")
    cells = {"plain": {"put": [], "get": []}, MODE: {"put": [], "get": []}}
    try:
        if ENV("FSYNC") == "0":
            req("PUT", "/v1/cluster/setconfig?disk.fsync=false")
        for b in ("plain", MODE):
            req("POST", f"/v1/buckets/{b}", {"action": "create-bck"})
        code, jid = req("PATCH", f"/v1/buckets/{MODE}", {"action": "set-bprops", "value": props})
        if jid:
            wait_job(jid)
        for rnd in range(ROUNDS):
            for b in ("plain", MODE):
                # Names in order, so the first `ops` names exist for the GET cell.
                put = loader(b, "--pctput", "100", "--seq", "--num-objects", "1000000", "--duration", f"{SECS}s",
                             "--prefix", f"r{rnd}-")
                n = max(put["put"]["ops"] - WORKERS, 1)  # the last few may have been cut at the deadline
                get = loader(b, "--pctput", "0", "--existing", "--num-objects", str(n), "--duration", f"{SECS}s",
                             "--prefix", f"r{rnd}-")
                cells[b]["put"].append(put["put"]["mib_per_s"])
                cells[b]["get"].append(get["get"]["mib_per_s"])
                log(f"round {rnd} {b}: PUT {put['put']['mib_per_s']:.0f} MiB/s ({put['put']['errors']} errors), "
                    f"GET {get['get']['mib_per_s']:.0f} MiB/s ({get['get']['errors']} errors)")
    finally:
        deploy("stop")
        if not ENV("BENCH_KEEP") and not ENV("BENCH_DIR"):
            shutil.rmtree(work, ignore_errors=True)
    med = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
    res = {b: {op: med(v) for op, v in ops.items()} for b, ops in cells.items()}
    res["ratio"] = {op: res[MODE][op] / res["plain"][op] for op in ("put", "get")}
    what = f"mirror.copies={COPIES}" if MODE == "mirror" else f"EC {DATA}+{PARITY}"
    res["setup"] = {"mode": MODE, "fsync": ENV("FSYNC", "1"), "targets": TARGETS, "mountpaths": MOUNTPATHS,
                    "protection": what, "size": SIZE, "workers": WORKERS, "secs": SECS, "rounds": ROUNDS,
                    "cells": cells}
    goals = {"put": ">= 0.5", "get": "~1.0"} if MODE == "mirror" else {"put": "-", "get": "~1.0"}
    print(f"{MODE}: {TARGETS} targets x {MOUNTPATHS} mountpaths, {what}, {SIZE} objects, {WORKERS} workers, "
          f"{SECS}s cells, {ROUNDS} rounds interleaved (median)")
    print(f"| op | plain MiB/s | {MODE} MiB/s | {MODE}/plain | goal |")
    print("|---|---|---|---|---|")
    for op in ("put", "get"):
        print(f"| {op.upper()} | {res['plain'][op]:.0f} | {res[MODE][op]:.0f} | {res['ratio'][op]:.2f} | {goals[op]} |")
    out = os.path.join(REPO, "bench", "results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, time.strftime(f"{MODE}-%Y%m%dT%H%M%SZ.json", time.gmtime())), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
