#!/usr/bin/env python3
"""bench/cold.py: cold GET through the cluster vs a direct GET from the same backend, ratios from
ONE run (`make bench-cold`).

Backend: s3rver (npm, as the tests use it) behind the tests' proxy (test/integration/s3peer.py)
with LAT_MS of added latency before every object request, so the backend looks like a remote
one. Deploys a dedicated local cluster (scripts/deploy.sh) whose nodes reach that backend via
AWS_ENDPOINT_URL. For each of N objects of SIZE_MB MiB, the same client (curl) measures, in
interleaved order:
  direct: GET from the backend (through the proxy, SigV4-signed by curl);
  cold:   GET through the cluster of an object not cached yet (the cluster fetches it);
  warm:   GET of the same object again (served from the cluster's copy);
  plain:  GET of an ais:// object of the same size.
Prints time to first byte (ms) and MiB/s per cell, and the goals: cold TTFB <= direct TTFB +
10 ms, cold throughput >= 0.9x direct, warm ~= plain. Writes bench/results/cold-<UTC>.json (not
committed). Every step has a timeout; cluster, proxy and s3rver are stopped on any exit.

Env: BUILD (<repo>/build), SIZE_MB (64), N (4), LAT_MS (20; 0 = no proxy, s3rver direct), TARGETS (3), BENCH_PORT (25080).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "test", "integration"))
from s3peer import KEY, Proxy, S3rver, backend_env  # noqa: E402

ENV = os.environ.get
BUILD = os.path.abspath(ENV("BUILD", os.path.join(REPO, "build")))
SIZE = int(ENV("SIZE_MB", "64")) << 20
N, LAT_MS, TARGETS = int(ENV("N", "4")), int(ENV("LAT_MS", "20")), int(ENV("TARGETS", "3"))
VIA_PROXY = LAT_MS > 0  # LAT_MS=0: straight to s3rver (no Python proxy eating a core)
PORT = int(ENV("BENCH_PORT", "25080"))
GW = f"http://127.0.0.1:{PORT}"


def log(msg):
    print(f"bench-cold: {msg}", file=sys.stderr, flush=True)


def curl(url, *extra):
    """(ttfb seconds, bytes/s) of one GET, body discarded."""
    r = subprocess.run(["curl", "-sS", "-L", "-o", "/dev/null", "--fail", "-w",
                        "%{time_starttransfer} %{speed_download} %{size_download}", *extra, url],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    t, bps, n = r.stdout.split()
    assert int(float(n)) == SIZE, (url, n)
    return float(t), float(bps)


def main():
    s3 = S3rver()
    proxy = Proxy(s3.port)
    backend = proxy if VIA_PROXY else s3
    ddir = tempfile.mkdtemp(prefix="bench-cold-")
    env = dict(os.environ, GATEWAYS="1", TARGETS=str(TARGETS), MOUNTPATHS="2",
               AIS_PORT=str(PORT), AIS_DATA_DIR=ddir, AIS_BIN=os.path.join(BUILD, "deploy", "aisnode"),
               DEADLINE_S="90", **backend_env(backend))
    deploy = lambda a: subprocess.run(["bash", os.path.join(REPO, "scripts", "deploy.sh"), a],
                                      env=env, capture_output=True, text=True, timeout=180)
    try:
        c = s3.client()
        c.create_bucket(Bucket="bench")
        body = os.urandom(SIZE)
        for i in range(N):
            c.put_object(Bucket="bench", Key=f"o{i}", Body=body)
        r = deploy("start")
        assert r.returncode == 0, r.stdout + r.stderr
        subprocess.run(["curl", "-sSf", "-X", "POST", f"{GW}/v1/buckets/plain", "-d",
                        '{"action":"create-bck"}'], check=True, timeout=30, capture_output=True)
        with tempfile.NamedTemporaryFile() as f:
            f.write(body)
            f.flush()
            subprocess.run(["curl", "-sSf", "-L", "-T", f.name, f"{GW}/v1/objects/plain/p"],
                           check=True, timeout=120, capture_output=True)
        proxy.delay_s = LAT_MS / 1000.0
        sig = ["--aws-sigv4", "aws:amz:us-east-1:s3", "--user", f"{KEY}:{KEY}",
               "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
        cells = {"direct": [], "cold": [], "warm": [], "plain": []}
        for i in range(N):
            cells["direct"].append(curl(f"{backend.url}/bench/o{i}", *sig))
            cells["cold"].append(curl(f"{GW}/v1/objects/bench/o{i}?provider=aws"))
            cells["warm"].append(curl(f"{GW}/v1/objects/bench/o{i}?provider=aws"))
            cells["plain"].append(curl(f"{GW}/v1/objects/plain/p"))
        med = {k: (statistics.median(t for t, _ in v) * 1000, statistics.median(b for _, b in v) / 2**20)
               for k, v in cells.items()}
        for k, (t, b) in med.items():
            print(f"{k:7s} ttfb {t:8.1f} ms   {b:8.1f} MiB/s")
        res = {
            "size": SIZE, "n": N, "lat_ms": LAT_MS, "cells": med,
            "cold_ttfb_minus_direct_ms": med["cold"][0] - med["direct"][0],
            "cold_over_direct": med["cold"][1] / med["direct"][1],
            "warm_over_plain": med["warm"][1] / med["plain"][1],
            "backend_gets": proxy.total("GET") if VIA_PROXY else None,
        }
        print(f"cold TTFB - direct TTFB = {res['cold_ttfb_minus_direct_ms']:.1f} ms (goal <= 10)")
        print(f"cold / direct throughput = {res['cold_over_direct']:.2f} (goal >= 0.9)")
        print(f"warm / plain throughput  = {res['warm_over_plain']:.2f} (goal ~= 1.0)")
        if VIA_PROXY:
            print(f"backend GETs: {res['backend_gets']} (direct {N} + cold {N})")
        os.makedirs(os.path.join(REPO, "bench", "results"), exist_ok=True)
        out = os.path.join(REPO, "bench", "results", time.strftime("cold-%Y%m%dT%H%M%SZ.json", time.gmtime()))
        with open(out, "w") as f:
            json.dump(res, f, indent=1)
        log(f"wrote {out}")
    finally:
        deploy("stop")
        proxy.stop()
        s3.stop()
        shutil.rmtree(ddir, ignore_errors=True)


if __name__ == "__main__":
    main()
