#!/usr/bin/env python3
"""List-objects throughput: names/s of a full paged listing through the gateway, against `find`
walking the same mountpath directories in the same run (the raw-disk baseline).

Deploys its own cluster (scripts/deploy.sh; TARGETS, default 3, one mountpath each) in a fresh
temp dir on BENCH_LIST_PORT (default 22080), creates BENCH_LIST_N objects (default 1,000,000)
as plain files in the open on-disk layout (<mpath>/@ais/<bucket>/%ob/<dir>/<name>, spread over
the targets: listing reads names only, so no xattrs are needed), lists the bucket in pages of
10,000 (msgpack, names only, as the SDK's list_all_objects does) and prints:

    objects | pages | ours names/s | find names/s | ratio | walks per target

Bounded: object creation, each listing and `find` run under deadlines; the cluster is always
stopped on exit. Knobs: BENCH_LIST_N, BENCH_LIST_PORT, TARGETS, BUILD (build dir), BENCH_KEEP=1,
BENCH_LIST_PROPS (default "name"; "name,size" also reads each object's metadata).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import msgpack
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
N = int(os.environ.get("BENCH_LIST_N", "1000000"))
PORT = int(os.environ.get("BENCH_LIST_PORT", "22080"))
TARGETS = int(os.environ.get("TARGETS", "3"))
PROPS = os.environ.get("BENCH_LIST_PROPS", "name")  # "name,size" makes targets read metadata
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
DEADLINE_S = 900
BUCKET = "listbench"


def deploy(env, cmd):
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "deploy.sh"), cmd], env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=120)


def mountpaths(url):
    smap = requests.get(url + "/v1/daemon", params={"what": "smap"}, timeout=10).json()
    out = []
    for t in smap["tmap"].values():
        turl = f"http://{t['public_net']['node_ip_addr']}:{t['public_net']['daemon_port']}"
        mp = requests.get(turl + "/v1/daemon", params={"what": "mountpaths"}, timeout=10).json()
        out.extend(mp["available"])
    return out


def populate(mps, n, deadline):
    """n files, 1000 per directory, round-robin over the mountpaths."""
    roots = [os.path.join(m, "@ais", BUCKET, "%ob") for m in mps]
    made = set()
    for i in range(n):
        if i % 10000 == 0 and time.monotonic() > deadline:
            raise SystemExit(f"list bench: populate took over {DEADLINE_S}s at {i} objects")
        d = os.path.join(roots[i % len(roots)], f"d{i // 1000:05d}")
        if d not in made:
            os.makedirs(d, exist_ok=True)
            made.add(d)
        os.close(os.open(os.path.join(d, f"obj-{i:08d}"), os.O_CREAT | os.O_WRONLY, 0o644))


def list_all(url):
    sess = requests.Session()
    token, uuid, total, pages = "", "", 0, 0
    while True:
        body = {"action": "list", "value": {"prefix": "", "pagesize": 10000, "uuid": uuid,
                                            "props": PROPS, "continuation_token": token,
                                            "flags": "0"}}
        r = sess.get(f"{url}/v1/buckets/{BUCKET}", params={"provider": "ais"}, json=body,
                     headers={"Accept": "application/msgpack"}, timeout=120)
        r.raise_for_status()
        d = msgpack.unpackb(r.content)
        total += len(d["Entries"] or [])
        pages += 1
        uuid, token = d["UUID"], d["ContinuationToken"]
        if not token:
            return total, pages


def walks(url):
    """Sum over targets of the list-walk debug counter, when the target exposes one."""
    st = requests.get(url + "/v1/cluster", params={"what": "stats"}, timeout=10).json()
    n = 0
    for t in (st.get("target") or {}).values():
        tr = t.get("tracker", {})
        v = tr.get("list.walks", tr.get("lst.walks"))
        if isinstance(v, dict):
            v = v.get("v")
        n += int(v or 0)
    return n


def main():
    work = tempfile.mkdtemp(prefix="ais-listbench.")
    env = dict(os.environ, AIS_DATA_DIR=work, AIS_PORT=str(PORT), GATEWAYS="1",
               TARGETS=str(TARGETS), MOUNTPATHS="1", AIS_LOG_LEVEL="warn",
               AIS_BIN=os.path.join(BUILD, "deploy", "aisnode"))
    url = f"http://127.0.0.1:{PORT}"
    try:
        deploy(env, "start")
        r = requests.post(f"{url}/v1/buckets/{BUCKET}", params={"provider": "ais"},
                          json={"action": "create-bck"}, timeout=30)
        r.raise_for_status()
        mps = mountpaths(url)
        t0 = time.monotonic()
        populate(mps, N, t0 + DEADLINE_S)
        print(f"list bench: {N} objects created in {time.monotonic() - t0:.1f}s", file=sys.stderr)
        subprocess.run("sync", shell=True, check=False)
        # Baseline first and again last (cache state alike for both sides), best of two.
        def find_rate():
            t = time.monotonic()
            out = subprocess.run(["find", *mps, "-type", "f"], capture_output=True, check=True,
                                 timeout=DEADLINE_S).stdout
            return out.count(b"\n") / (time.monotonic() - t)
        base = find_rate()
        w0 = walks(url)
        t = time.monotonic()
        total, pages = list_all(url)
        ours = total / (time.monotonic() - t)
        w1 = walks(url)
        base = max(base, find_rate())
        if total != N:
            raise SystemExit(f"list bench: listed {total} of {N} objects")
        row = {"objects": N, "pages": pages, "ours_names_per_s": round(ours),
               "find_names_per_s": round(base), "ratio": round(ours / base, 2),
               "walks_per_target": round((w1 - w0) / TARGETS, 2)}
        print("objects | pages | ours names/s | find names/s | ratio | walks/target")
        print(f"{N} | {pages} | {ours:,.0f} | {base:,.0f} | {ours / base:.2f} | "
              f"{row['walks_per_target']}")
        print(json.dumps(row))
    finally:
        deploy(env, "stop")
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
