#!/usr/bin/env python3
"""bench/dload.py: downloader throughput vs curl fetching the same files in parallel, ratios from
ONE run (`make bench-dload`).

A local nginx (bench/nginx.sh) serves SMALL_N files of SMALL_KB KiB and BIG_N files of BIG_MB
MiB. For each set, interleaved:
  curl:  `xargs -P CONNS curl` fetching every URL into a directory on the same disk (the
         cluster's data dir's filesystem), files fsync'ed by nothing (as the cluster with
         disk.fsync off);
  dload: one range download job into an ais:// bucket of a dedicated cluster (3 targets,
         disk.fsync off), timed from POST until the job's finished_time.
Prints MiB/s and files/s per cell and dload/curl (goal >= 0.9x). Writes
bench/results/dload-<UTC>.json (not committed). Every step has a timeout; nginx and the cluster
are stopped on any exit.

Env: BUILD (<repo>/build), SMALL_N (1000), SMALL_KB (64), BIG_N (4), BIG_MB (256), CONNS (8),
TARGETS (3), BENCH_PORT (26080).
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
SMALL_N, SMALL_KB = int(ENV("SMALL_N", "1000")), int(ENV("SMALL_KB", "64"))
BIG_N, BIG_MB = int(ENV("BIG_N", "4")), int(ENV("BIG_MB", "256"))
CONNS, TARGETS = int(ENV("CONNS", "8")), int(ENV("TARGETS", "3"))
PORT = int(ENV("BENCH_PORT", "26080"))
NGINX_PORT = PORT + 500
GW = f"http://127.0.0.1:{PORT}"


def req(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(GW + path, data=data, method=method)
    with urllib.request.urlopen(r, timeout=60) as resp:
        return json.loads(resp.read() or b"null")


def run_curl(urls, outdir):
    os.makedirs(outdir, exist_ok=True)
    t0 = time.monotonic()
    p = subprocess.run(["xargs", "-P", str(CONNS), "-n", "16", "curl", "-sS", "--fail",
                        "--remote-name-all", "--output-dir", outdir],
                       input="\n".join(urls), text=True, capture_output=True, timeout=1800)
    assert p.returncode == 0, p.stderr[-2000:]
    return time.monotonic() - t0


def run_dload(template, n, sub):
    t0 = time.monotonic()
    jid = req("POST", "/v1/download", {"type": "range", "bucket": {"name": "bench",
                                                                  "provider": "ais"},
                                       "template": template, "subdir": sub})["id"]
    deadline = t0 + 1800
    while time.monotonic() < deadline:
        r = urllib.request.Request(GW + "/v1/download", data=json.dumps({"id": jid}).encode(),
                                   method="GET")
        with urllib.request.urlopen(r, timeout=60) as resp:
            s = json.loads(resp.read())
        if s["finished_time"]:
            assert s["finished_cnt"] == n and s["error_cnt"] == 0, s
            return time.monotonic() - t0
        time.sleep(0.05)  # polling interval of the measurement, not synchronisation
    raise SystemExit("download job did not finish in time")


def main():
    work = tempfile.mkdtemp(prefix="bench-dload-")
    www = os.path.join(work, "nginx", "www")
    os.makedirs(www)
    for i in range(SMALL_N):
        with open(os.path.join(www, f"s-{i:05d}"), "wb") as f:
            f.write(os.urandom(SMALL_KB << 10))
    for i in range(BIG_N):
        subprocess.run(["head", "-c", str(BIG_MB << 20), "/dev/urandom"],
                       stdout=open(os.path.join(www, f"b-{i:02d}"), "wb"), check=True)
    ddir = os.path.join(work, "ais")
    env = dict(os.environ, GATEWAYS="1", TARGETS=str(TARGETS), MOUNTPATHS="1",
               AIS_PORT=str(PORT), AIS_DATA_DIR=ddir, AIS_BIN=os.path.join(BUILD, "deploy", "aisnode"),
               DEADLINE_S="90")
    deploy = lambda a: subprocess.run(["bash", os.path.join(REPO, "scripts", "deploy.sh"), a],
                                      env=env, capture_output=True, text=True, timeout=180)
    nginx = lambda *a: subprocess.run(["bash", os.path.join(REPO, "bench", "nginx.sh"), *a],
                                      capture_output=True, text=True, timeout=60)
    try:
        r = nginx("start", os.path.join(work, "nginx"), str(NGINX_PORT))
        assert r.returncode == 0, r.stdout + r.stderr
        r = deploy("start")
        assert r.returncode == 0, r.stdout + r.stderr
        subprocess.run(["curl", "-sSf", "-X", "PUT", f"{GW}/v1/cluster/setconfig?disk.fsync=false"],
                       check=True, timeout=30, capture_output=True)
        subprocess.run(["curl", "-sSf", "-X", "POST", f"{GW}/v1/buckets/bench", "-d",
                        '{"action":"create-bck"}'], check=True, timeout=30, capture_output=True)
        base = f"http://127.0.0.1:{NGINX_PORT}"
        sets = {"small": (SMALL_N, SMALL_N * SMALL_KB / 1024.0, "s-{00000..%05d}" % (SMALL_N - 1)),
                "big": (BIG_N, BIG_N * BIG_MB, "b-{00..%02d}" % (BIG_N - 1))}
        res = {}
        for name, (n, mib, tmpl) in sets.items():
            names = [f"{base}/s-{i:05d}" for i in range(n)] if name == "small" else \
                [f"{base}/b-{i:02d}" for i in range(n)]
            tc = run_curl(names, os.path.join(ddir, "curl-" + name))
            td = run_dload(f"{base}/{tmpl}", n, name)
            shutil.rmtree(os.path.join(ddir, "curl-" + name), ignore_errors=True)
            res[name] = {"files": n, "MiB": mib, "curl_s": tc, "dload_s": td,
                         "curl_MiBps": mib / tc, "dload_MiBps": mib / td, "ratio": tc / td}
            print(f"{name:5s} {n:5d} files {mib:8.1f} MiB: curl {mib / tc:7.1f} MiB/s "
                  f"({n / tc:7.1f} files/s)  dload {mib / td:7.1f} MiB/s ({n / td:7.1f} files/s)  "
                  f"dload/curl {tc / td:.2f} (goal >= 0.9)")
        os.makedirs(os.path.join(REPO, "bench", "results"), exist_ok=True)
        out = os.path.join(REPO, "bench", "results", time.strftime("dload-%Y%m%dT%H%M%SZ.json", time.gmtime()))
        with open(out, "w") as f:
            json.dump(res, f, indent=1)
        print(f"bench-dload: wrote {out}", file=sys.stderr)
    finally:
        deploy("stop")
        nginx("stop", os.path.join(work, "nginx"))
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
