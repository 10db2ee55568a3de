#!/usr/bin/env python3
"""bench/reb.py: rebalance throughput and its cost to foreground GETs, ratios from ONE run
(`make bench-reb`).

Deploys a dedicated local cluster (scripts/deploy.sh, its own AIS_DATA_DIR and AIS_PORT),
fills it with REB_BYTES of 1-4 MiB objects (aisloader --fill) plus a small-object bucket,
measures in the same run the bound min(disk write, loopback): a sequential write of
BOUND_BYTES with fsync into the data dir's filesystem, and a plain TCP transfer of the same
size over 127.0.0.1. Then:

  1. GET p99 of the small objects before any rebalance (aisloader, BENCH_GET_SECS);
  2. adds a target (config written as test/integration/conftest.py Cluster.add_target does),
     times the rebalance from the JobSnaps of job g<smap version> (earliest sender start to
     latest end; moved bytes = out-bytes summed over targets), with small-object GETs running
     for exactly that window;
  3. the same with rebalance.bps set (REB_BPS) and one more target.

Prints rebalance MiB/s, bound MiB/s and their ratio (goal >= 0.7), and GET p99 during vs
before (goal <= 2x), and writes bench/results/reb-<UTC time>.json (not committed). Every step
has a timeout; the cluster and aisloader are stopped on any exit (Ctrl-C included).

Env: BUILD (build dir with deploy/aisnode and bench/aisloader; default <repo>/build),
REB_BYTES (2GiB), REB_MIN_SIZE / REB_MAX_SIZE (1MiB / 4MiB), REB_BPS (rate of run 3, 8MiB),
REB_WORKERS (rebalance.workers; default: the cluster's), TARGETS (3), MOUNTPATHS (1),
BENCH_PORT (23080), BENCH_DIR (data dir; default a fresh temp dir, removed unless BENCH_KEEP=1),
BOUND_BYTES (512MiB), BENCH_GET_SECS (8), BENCH_GET_WORKERS (4), BENCH_SMALL_SIZE (16KiB),
BENCH_FSYNC (1: targets fsync every object, the cluster default), REB_TIMEOUT_S (600).
"""
import calendar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
UNITS = {"": 1, "B": 1, "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def size_of(text):
    t = text.strip().upper()
    num = t.rstrip("KMGIB")
    return int(float(num) * UNITS[t[len(num):]])


def env(name, default):
    return os.environ.get(name, default)


BUILD = os.path.abspath(env("BUILD", os.path.join(REPO, "build")))
AISNODE = os.path.join(BUILD, "deploy", "aisnode")
LOADER = os.path.join(BUILD, "bench", "aisloader")
REB_BYTES = size_of(env("REB_BYTES", "2GiB"))
MIN_SIZE, MAX_SIZE = size_of(env("REB_MIN_SIZE", "1MiB")), size_of(env("REB_MAX_SIZE", "4MiB"))
REB_BPS = env("REB_BPS", "8MiB")
REB_WORKERS = env("REB_WORKERS", "")
TARGETS, MOUNTPATHS = int(env("TARGETS", "3")), int(env("MOUNTPATHS", "1"))
PORT = int(env("BENCH_PORT", "23080"))
BOUND_BYTES = size_of(env("BOUND_BYTES", "512MiB"))
GET_SECS, GET_WORKERS = int(env("BENCH_GET_SECS", "8")), int(env("BENCH_GET_WORKERS", "4"))
SMALL_SIZE, SMALL_N = env("BENCH_SMALL_SIZE", "16KiB"), 500
FSYNC = env("BENCH_FSYNC", "1") == "1"
REB_TIMEOUT_S = int(env("REB_TIMEOUT_S", "600"))
GW = f"http://127.0.0.1:{PORT}"
BIG, SMALL = "rebbig", "rebsmall"
MIB = float(1 << 20)


def log(msg):
    print(f"bench-reb: {msg}", file=sys.stderr, flush=True)


def http(method, url, body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def act(action, value=None):
    return {"action": action, "name": "", "value": value}


def wait_until(fn, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            v = fn()
            if v:
                return v
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what}")


def unix_ns(t):
    base, _, frac = t.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) * 10**9 + int((frac + "0" * 9)[:9])


# ---- the bound, measured in this run ----

def disk_write_mibs(path, nbytes):
    """Sequential 1 MiB writes of nbytes into a new file, fsync included in the time."""
    buf = os.urandom(1 << 20)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        t0 = time.monotonic()
        for _ in range(nbytes >> 20):
            os.write(fd, buf)
        os.fsync(fd)
        dt = time.monotonic() - t0
    finally:
        os.close(fd)
        os.unlink(path)
    return nbytes / MIB / dt


def loopback_mibs(nbytes):
    """One plain TCP connection over 127.0.0.1: time until the receiver has every byte."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(30)
    got = [0]

    def recv():
        c, _ = srv.accept()
        c.settimeout(30)
        buf = bytearray(1 << 20)
        while got[0] < nbytes:
            n = c.recv_into(buf)
            if n == 0:
                break
            got[0] += n
        c.close()

    th = threading.Thread(target=recv, daemon=True)
    th.start()
    buf = os.urandom(1 << 20)
    t0 = time.monotonic()
    s = socket.create_connection(srv.getsockname(), timeout=30)
    for _ in range(nbytes >> 20):
        s.sendall(buf)
    s.close()
    th.join(timeout=60)
    dt = time.monotonic() - t0
    srv.close()
    if got[0] != nbytes:
        raise RuntimeError(f"loopback transfer short: {got[0]} of {nbytes}")
    return nbytes / MIB / dt


# ---- cluster ----

class Bench:
    def __init__(self, work):
        self.work = work
        self.data = os.path.join(work, "ais")
        self.env = dict(os.environ, GATEWAYS="1", TARGETS=str(TARGETS), MOUNTPATHS=str(MOUNTPATHS),
                        AIS_PORT=str(PORT), AIS_DATA_DIR=self.data, AIS_BIN=AISNODE, DEADLINE_S="90")
        self.children = []
        self.loader = None
        self.added = 0

    def deploy(self, cmd):
        r = subprocess.run(["bash", os.path.join(REPO, "scripts", "deploy.sh"), cmd], env=self.env,
                           capture_output=True, text=True, timeout=240)
        if r.returncode not in (0, 3):  # 3: the run had errors (counted in the report)
            raise RuntimeError(f"deploy.sh {cmd}: {r.stdout}{r.stderr}")

    def stop(self):
        if self.loader is not None and self.loader.poll() is None:
            self.loader.kill()
            self.loader.wait(timeout=10)
        try:
            self.deploy("stop")
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            log(f"stop: {e}")
        for p in self.children:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()

    def smap(self):
        code, m = http("GET", GW + "/v1/daemon?what=smap", timeout=10)
        if code != 200:
            raise OSError(f"smap: {code}")
        return m

    def set_config(self, kv):
        code, txt = http("PUT", GW + "/v1/cluster", act("set-config", kv))
        if code != 200:
            raise RuntimeError(f"set-config {kv}: {code} {txt}")

    def add_target(self):
        """A new target on the next port after deploy.sh's nodes, config as conftest writes it."""
        name, port = f"t{TARGETS + self.added}", PORT + 1 + TARGETS + self.added
        self.added += 1
        d = os.path.join(self.data, name)
        mps = [os.path.join(d, f"mp{j}") for j in range(1, MOUNTPATHS + 1)]
        for m in mps + [os.path.join(d, "conf")]:
            os.makedirs(m, exist_ok=True)
        cfg = {"role": "target", "confdir": os.path.join(d, "conf"),
               "host_net": {"hostname": "127.0.0.1", "port": str(port), "port_intra_control": str(port + 1000)},
               "proxy": {"primary_url": f"tcp://127.0.0.1:{PORT + 1000}"}, "fspaths": {m: "" for m in mps},
               "log": {"level": "info"}, "disk": {"fsync": FSYNC}}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f)
        logf = open(os.path.join(d, "aisnode.log"), "a")
        p = subprocess.Popen([AISNODE, "--role", "target", "--config", os.path.join(d, "config.json")],
                             stdout=logf, stderr=logf, start_new_session=True)
        logf.close()
        with open(os.path.join(d, "aisnode.pid"), "w") as f:
            f.write(str(p.pid))
        self.children.append(p)

    def loader_cmd(self, bucket, *extra):
        return [LOADER, "--endpoint", GW, "--bucket", bucket, "--quiet", "--json", "--timeout", "60s", *extra]

    def aisloader(self, bucket, *extra, timeout=900):
        r = subprocess.run(self.loader_cmd(bucket, *extra), capture_output=True, text=True, timeout=timeout)
        if r.returncode not in (0, 3):  # 3: the run had errors (counted in the report)
            raise RuntimeError(f"aisloader {' '.join(extra)}: rc={r.returncode} {r.stderr[-2000:]}")
        return json.loads(r.stdout)


def get_stats(report):
    """(p99 ms, ops, errors) of the GET op in an aisloader --json report."""
    g = report["run"]["get"]
    return g["lat_us"]["p99"] / 1e3, g["ops"], g["errors"]


def small_get_args(secs):
    return ["--existing", "--pctput", "0", "--size", SMALL_SIZE, "--num-objects", str(SMALL_N),
            "--workers", str(GET_WORKERS), "--duration", f"{secs}s", "--stats-interval", "0"]


def rebalance(b, label):
    """Adds a target; GETs of the small objects run from the join until the rebalance ended."""
    ntargets = len(b.smap()["tmap"]) + 1
    b.add_target()
    # Start the GET load as soon as the join is visible: the rebalance starts with the new map.
    m = wait_until(lambda: (lambda s: s if len(s["tmap"]) == ntargets else None)(b.smap()), 90, "the join")
    jid = f"g{m['version']}"
    b.loader = subprocess.Popen(b.loader_cmd(SMALL, *small_get_args(REB_TIMEOUT_S)), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)

    def ended():
        code, st = http("GET", GW + "/v1/cluster?what=status", {"ID": jid}, timeout=10)
        return st if code == 200 and isinstance(st, dict) and st.get("end_time", 0) != 0 else None

    st = wait_until(ended, REB_TIMEOUT_S, f"rebalance {jid}", interval=0.1)
    b.loader.send_signal(signal.SIGINT)  # aisloader stops and prints its final report
    out, _ = b.loader.communicate(timeout=90)
    b.loader = None
    p99, gets, gerr = get_stats(json.loads(out))
    code, parts = http("GET", GW + "/v1/cluster?what=qryxstats", {"ID": jid}, timeout=10)
    snaps = [s[0] for s in parts.values() if s]
    senders = [s for s in snaps if int(s["stats"]["out-bytes"]) > 0]
    moved = sum(int(s["stats"]["out-bytes"]) for s in senders)
    objs = sum(int(s["stats"]["out-objs"]) for s in senders)
    span = (max(unix_ns(s["end-time"]) for s in senders) - min(unix_ns(s["start-time"]) for s in senders)) / 1e9
    log(f"{label}: {jid} moved {moved / MIB:.0f} MiB ({objs} objects) in {span:.2f}s, err={st.get('err')!r}")
    return {"label": label, "job": jid, "moved_bytes": moved, "moved_objs": objs, "secs": span,
            "mibs": moved / MIB / span, "err": st.get("err", ""), "get_p99_ms": p99, "gets": gets,
            "get_errors": gerr}


def run(b):
    log(f"build {BUILD}; data in {b.work}")
    disk = disk_write_mibs(os.path.join(b.work, "bound.dat"), BOUND_BYTES)
    loop = loopback_mibs(BOUND_BYTES)
    bound = min(disk, loop)
    log(f"bound: disk write {disk:.0f} MiB/s, loopback {loop:.0f} MiB/s")
    b.deploy("start")
    b.set_config({"disk.fsync": "true" if FSYNC else "false"})
    if REB_WORKERS:
        b.set_config({"rebalance.workers": REB_WORKERS})
    nbig = max(1, int(REB_BYTES / ((MIN_SIZE + MAX_SIZE) / 2)))
    log(f"filling {nbig} objects of {MIN_SIZE >> 20}-{MAX_SIZE >> 20} MiB ...")
    b.aisloader(BIG, "--fill", "--pctput", "0", "--max-ops", "1", "--minsize", str(MIN_SIZE), "--maxsize",
                str(MAX_SIZE), "--num-objects", str(nbig), "--workers", "4", "--stats-interval", "0")
    b.aisloader(SMALL, "--fill", "--pctput", "0", "--max-ops", "1", "--size", SMALL_SIZE, "--num-objects",
                str(SMALL_N), "--workers", "4", "--stats-interval", "0")
    base_p99, base_gets, base_err = get_stats(b.aisloader(SMALL, *small_get_args(GET_SECS), timeout=GET_SECS + 120))
    log(f"baseline GET p99 {base_p99:.2f} ms ({base_gets} GETs, {base_err} errors)")
    runs = [rebalance(b, "unlimited")]
    b.set_config({"rebalance.bps": REB_BPS})
    runs.append(rebalance(b, f"bps={REB_BPS}"))
    b.set_config({"rebalance.bps": "0"})
    return {"bound": {"disk_write_mibs": disk, "loopback_mibs": loop, "mibs": bound},
            "baseline": {"get_p99_ms": base_p99, "gets": base_gets, "get_errors": base_err},
            "objects": nbig, "bytes": REB_BYTES, "runs": runs}


def report(res):
    bound, base = res["bound"]["mibs"], res["baseline"]["get_p99_ms"]
    print(f"rebalance: {TARGETS} targets + 1, then + 1 more; {res['objects']} objects of "
          f"{MIN_SIZE >> 20}-{MAX_SIZE >> 20} MiB ({res['bytes'] / MIB:.0f} MiB); fsync={int(FSYNC)}")
    print(f"bound: min(disk write {res['bound']['disk_write_mibs']:.0f}, loopback "
          f"{res['bound']['loopback_mibs']:.0f}) = {bound:.0f} MiB/s; GET p99 before: {base:.2f} ms")
    print("| run | moved MiB | secs | rebalance MiB/s | ratio to bound (goal >= 0.7) | "
          "GET p99 ms during | p99 during/before (goal <= 2) | GETs (errors) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in res["runs"]:
        ratio = r["mibs"] / bound
        print(f"| {r['label']} | {r['moved_bytes'] / MIB:.0f} | {r['secs']:.2f} | {r['mibs']:.0f} | "
              f"{ratio:.2f} | {r['get_p99_ms']:.2f} | {r['get_p99_ms'] / base:.2f} | {r['gets']} ({r['get_errors']}) |")


def main():
    for f in (AISNODE, LOADER):
        if not os.access(f, os.X_OK):
            sys.exit(f"bench-reb: {f} not built (cmake --build {BUILD})")
    work = env("BENCH_DIR", "") or tempfile.mkdtemp(prefix="ais-bench-reb.")
    os.makedirs(work, exist_ok=True)
    b = Bench(work)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        res = run(b)
    finally:
        b.stop()
        if env("BENCH_KEEP", "0") != "1" and not env("BENCH_DIR", ""):
            shutil.rmtree(work, ignore_errors=True)
    res["stamp"] = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    os.makedirs(os.path.join(REPO, "bench", "results"), exist_ok=True)
    with open(os.path.join(REPO, "bench", "results", f"reb-{res['stamp']}.json"), "w") as f:
        json.dump(res, f, indent=1)
    report(res)


if __name__ == "__main__":
    main()
