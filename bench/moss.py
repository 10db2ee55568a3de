#!/usr/bin/env python3
"""bench/moss.py: batch GET (GET /v1/ml/moss) and archive reads against their baselines, every
ratio from ONE run (`make bench-moss`).

Deploys a dedicated cluster (scripts/deploy.sh: 1 gateway, TARGETS=3, one mountpath each, its
own AIS_DATA_DIR and AIS_PORT) and an nginx (bench/nginx.sh) on the same machine, fills both
with the same --objects (100,000) objects of 4 KiB (aisloader --fill: same names, same bytes),
then measures, MOSS_REPS (3) rounds of interleaved cells, medians reported:
  (a) single GET: wrk, --conns (16) keep-alive connections, each its own wrk thread pinned to
      one target, random names of the 100k that target owns (owners resolved once, untimed,
      from the gateway's 307) -- against batch GET: the same wrk, each request a MossReq of
      --batch (1,000) names ({"in":[{"objname","bucket"}...],"strm":true}), bodies cycling
      over a shuffled partition of all names, sent straight to the targets (round robin, as
      the gateway's random designated target), at each of --batch-conc (1,4,16) requests in
      flight; objects/s = responses x batch;
  (b) nginx serving the same 4 KiB files: the single-GET wrk cell at --conns connections;
  (c) time to first byte of a --batch entry batch, through the gateway (307 followed), from a
      Python http.client on kept-alive connections, sequential, --ttfb-n (20) requests: p50 of
      TTFB and of the whole reply;
  (d) GET ?archpath= of a 10 KiB member of a --shard-mb (1024) MiB tar shard indexed at PUT
      (Ais-Archive-Index: hit checked) vs a plain 10 KiB object GET, both wrk with 1
      connection to the shard's target (plain objects chosen on that target), p50;
  (e) PUT of the shard's bytes as <name>.tar (indexed in the PUT pass) vs <name>.bin (no
      index), both names on the same target, curl -T straight to it: one untimed PUT of each,
      then ABBA order, --put-reps (6) each after sync + 1 s idle (every timed PUT overwrites an
      object of the same size): MiB/s, the ratio the median of the per-pair ratios.
Correctness is checked in the same run: a sample of batch replies (every TTFB request, i.e.
20,000 entries) is parsed as TAR: member names in request order (<bucket>/<objname>), sizes
and bytes equal to aisloader's payload pattern (bench/pattern.c, recomputed here); single GETs
from the targets and from nginx and archpath members are compared byte for byte too. wrk cells
must end with 0 errors (non-2xx, read, timeout). Writes bench/results/moss-<UTC>.json (not
committed); every step has a timeout; the cluster and nginx are stopped on any exit.

Flags (defaults from the env in brackets): --objects (MOSS_OBJECTS, 100000), --batch (1000),
--conns (16), --batch-conc (1,4,16), --secs per wrk cell (MOSS_SECS, 5), --reps (MOSS_REPS, 3),
--ttfb-n (20), --shard-mb (MOSS_SHARD_MB, 1024), --member-kb (10), --put-reps (6), --quick
(10,000 objects, 64 MiB shard, 3 s cells, 2 reps). Env: BUILD (<repo>/build), TARGETS (3),
BENCH_PORT (22080), BENCH_NGINX_PORT (22580), BENCH_FSYNC (0: targets do not fsync, as nginx),
BENCH_DIR + BENCH_KEEP=1 (keep the data).
"""
import argparse
import http.client
import io
import json
import os
import random
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.parse

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ENV = os.environ.get
BUILD = os.path.abspath(ENV("BUILD", os.path.join(REPO, "build")))
AISNODE = os.path.join(BUILD, "deploy", "aisnode")
LOADER = os.path.join(BUILD, "bench", "aisloader")
TARGETS = int(ENV("TARGETS", "3"))
PORT = int(ENV("BENCH_PORT", "22080"))
NGX_PORT = int(ENV("BENCH_NGINX_PORT", "22580"))
FSYNC = ENV("BENCH_FSYNC", "0") == "1"
GW = f"http://127.0.0.1:{PORT}"
BCK, PFX, SEED = "moss", "o/", 1
PATTERN_BYTES = 1 << 20  # AL_PATTERN_BYTES (bench/bench_limits.h)
MIB = float(1 << 20)


def log(msg):
    print(f"bench-moss: {msg}", file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--objects", type=int, default=int(ENV("MOSS_OBJECTS", "100000")))
    p.add_argument("--obj-size", type=int, default=4096)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--conns", type=int, default=16)
    p.add_argument("--batch-conc", default="1,4,16")
    p.add_argument("--secs", type=int, default=int(ENV("MOSS_SECS", "5")))
    p.add_argument("--reps", type=int, default=int(ENV("MOSS_REPS", "3")))
    p.add_argument("--ttfb-n", type=int, default=20)
    p.add_argument("--shard-mb", type=float, default=float(ENV("MOSS_SHARD_MB", "1024")))
    p.add_argument("--member-kb", type=float, default=10)
    p.add_argument("--put-reps", type=int, default=6)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    if a.quick:
        a.objects, a.shard_mb, a.secs, a.reps = 10000, 64, 3, 2
    a.batch_conc = [int(x) for x in a.batch_conc.split(",") if x]
    if a.objects < a.batch or a.batch < 1 or a.conns < 1 or not a.batch_conc or a.secs < 1:
        p.error("need --objects >= --batch >= 1, --conns >= 1, --batch-conc and --secs >= 1")
    return a


# ---- payloads: aisloader's (bench/pattern.c), so any GET can be checked byte for byte ----

def pattern(seed):
    x, m = seed or 0x9e3779b97f4a7c15, (1 << 64) - 1
    out = bytearray(PATTERN_BYTES)
    for i in range(0, PATTERN_BYTES, 8):
        x ^= x >> 12
        x = (x ^ (x << 25)) & m
        x ^= x >> 27
        struct.pack_into("<Q", out, i, (x * 0x2545F4914F6CDD1D) & m)
    return bytes(out) * 2


def name_seed(name):
    h = 0xCBF29CE484222325
    for c in name.encode():
        h = ((h ^ c) * 0x100000001B3) & ((1 << 64) - 1)
    return h & (PATTERN_BYTES - 1)


def obj_name(i):
    return f"{PFX}{i:010d}"


def want_obj(pat, name, size):
    s = name_seed(name)
    return pat[s:s + size]


# ---- HTTP ----

class Conns:
    """Keep-alive http.client connections, one per host:port, for one thread."""

    def __init__(self, timeout=120):
        self.c, self.timeout = {}, timeout

    def get(self, netloc):
        if netloc not in self.c:
            host, port = netloc.rsplit(":", 1)
            self.c[netloc] = http.client.HTTPConnection(host, int(port), timeout=self.timeout)
        return self.c[netloc]

    def call(self, method, url, body=None, headers=None, follow=True):
        """(status, headers dict, body bytes); one 307 followed with the body re-sent."""
        for _ in range(3):
            u = urllib.parse.urlsplit(url)
            path = u.path + (f"?{u.query}" if u.query else "")
            c = self.get(u.netloc)
            try:
                c.request(method, path, body=body, headers=headers or {})
                r = c.getresponse()
                data = r.read()
            except (http.client.HTTPException, OSError):
                c.close()
                del self.c[u.netloc]
                raise
            h = {k.lower(): v for k, v in r.getheaders()}
            if follow and r.status in (301, 302, 307, 308):
                url = h["location"]
                continue
            return r.status, h, data
        raise RuntimeError(f"{method} {url}: too many redirects")

    def close(self):
        for c in self.c.values():
            c.close()


def api(method, path, body=None):
    cs = Conns(60)
    try:
        code, _, raw = cs.call(method, GW + path, json.dumps(body).encode() if body is not None else None,
                               {"Content-Type": "application/json"})
    finally:
        cs.close()
    return code, raw


def parallel(fn, items, workers=4):
    """fn(conns, item) over items on workers threads, each with its own Conns; results in order."""
    out, errs, it, mu = [None] * len(items), [], iter(enumerate(items)), threading.Lock()

    def work():
        cs = Conns()
        try:
            while not errs:
                with mu:
                    x = next(it, None)
                if x is None:
                    return
                try:
                    out[x[0]] = fn(cs, x[1])
                except Exception as e:  # noqa: BLE001 (handed to the caller)
                    errs.append(e)
        finally:
            cs.close()

    ths = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    if errs:
        raise errs[0]
    return out


def owner_of(cs, name):
    """host:port of the target HRW gives name: the gateway's 307 (not followed)."""
    code, h, _ = cs.call("HEAD", f"{GW}/v1/objects/{BCK}/{urllib.parse.quote(name)}", follow=False)
    if code != 307:
        raise RuntimeError(f"HEAD {name} at the gateway: {code}, want 307")
    return urllib.parse.urlsplit(h["location"]).netloc


# ---- servers ----

class Servers:
    def __init__(self, work, aisnode):
        self.work = work
        self.env = dict(os.environ, GATEWAYS="1", TARGETS=str(TARGETS), MOUNTPATHS="1",
                        AIS_PORT=str(PORT), AIS_DATA_DIR=os.path.join(work, "ais"), AIS_BIN=aisnode,
                        DEADLINE_S="90")
        self.ngx_dir = os.path.join(work, "nginx")
        self.up = self.ngx_up = False

    def deploy(self, cmd):
        r = subprocess.run(["bash", os.path.join(REPO, "scripts", "deploy.sh"), cmd], env=self.env,
                           capture_output=True, text=True, timeout=240)
        if r.returncode != 0:
            raise RuntimeError(f"deploy.sh {cmd}: {r.stdout}{r.stderr}")

    def nginx(self, cmd, *extra):
        r = subprocess.run(["bash", os.path.join(REPO, "bench", "nginx.sh"), cmd, self.ngx_dir, *extra],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"nginx.sh {cmd}: {r.stdout}{r.stderr}")

    def start(self):
        self.up = True
        self.deploy("start")
        code, raw = api("PUT", f"/v1/cluster/setconfig?disk.fsync={'true' if FSYNC else 'false'}")
        if code != 200:
            raise RuntimeError(f"setconfig: {code} {raw[:300]!r}")
        code, raw = api("POST", f"/v1/buckets/{BCK}", {"action": "create-bck"})
        if code not in (200, 409):
            raise RuntimeError(f"create {BCK}: {code} {raw[:300]!r}")
        self.ngx_up = True
        self.nginx("start", str(NGX_PORT))

    def stop(self):
        for up, fn in ((self.ngx_up, lambda: self.nginx("stop")), (self.up, lambda: self.deploy("stop"))):
            if up:
                try:
                    fn()
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    log(f"stop: {e}")


def fill(a, base_args, what):
    """aisloader --fill of every name (untimed here; a 1 s GET phase follows, discarded)."""
    cmd = [LOADER, "--json", "--quiet", "--workers", "16", "--pctput", "0", "--fill", "--duration", "1s",
           "--prefix", PFX, "--size", str(a.obj_size), "--num-objects", str(a.objects),
           "--seed", str(SEED)] + base_args
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        raise RuntimeError(f"aisloader fill {what}: rc={p.returncode} {p.stderr[-1500:]}")
    r = json.loads(p.stdout)
    put = r["fill"]["put"]
    if put["ops"] != a.objects or r["fill"]["errors_total"]:
        raise RuntimeError(f"fill {what}: {put['ops']} of {a.objects} PUT, errors {r['fill']['errors']}")
    log(f"filled {what}: {a.objects} x {a.obj_size} B in {time.monotonic() - t0:.1f}s "
        f"({put['ops_per_s']:.0f} PUT/s)")


# ---- wrk ----

WRK_LUA = r"""
local addrs = {%(addrs)s}
local mode = "%(mode)s"
local nth = 0
function setup(thread)
  local a = addrs[nth %% #addrs + 1]
  thread.addr = wrk.lookup(a[1], a[2])[1]
  thread:set("tid", nth)
  thread:set("pfile", a[3])
  nth = nth + 1
end
local items, idx, cnt
function init(args)
  items = {}
  for line in io.lines(pfile) do items[#items + 1] = line end
  cnt = #items
  math.randomseed(tid * 7919 + 1)
  idx = (tid * 7) %% cnt
end
local hdrs = {["Content-Type"] = "application/json"}
function request()
  if mode == "get" then
    return wrk.format("GET", items[math.random(cnt)])
  end
  idx = idx %% cnt + 1
  return wrk.format("GET", "/v1/ml/moss", hdrs, items[idx])
end
function done(s, lat, req)
  io.write(string.format('WRKJSON {"requests":%%d,"duration_us":%%d,"bytes":%%d,"connect":%%d,' ..
    '"read":%%d,"write":%%d,"status":%%d,"timeout":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d}\n',
    s.requests, s.duration, s.bytes, s.errors.connect, s.errors.read, s.errors.write,
    s.errors.status, s.errors.timeout, lat:percentile(50), lat:percentile(90), lat:percentile(99)))
end
"""


def wrk(work, name, mode, addrs, threads, secs, min_body):
    """One wrk run: `threads` threads of one connection each, thread i on addrs[i % len]
    ((host, port, file of paths or bodies)). Returns its summary; any error fails the run."""
    lua = os.path.join(work, f"wrk-{name}.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA % {"mode": mode, "addrs": ", ".join(
            '{"%s", "%s", "%s"}' % (h, p, fn) for h, p, fn in addrs)})
    host, port, _ = addrs[0]
    cmd = ["wrk", f"-t{threads}", f"-c{threads}", f"-d{secs}s", "--timeout", "30s", "-s", lua,
           f"http://{host}:{port}/"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60)
    line = [x for x in p.stdout.splitlines() if x.startswith("WRKJSON ")]
    if p.returncode != 0 or not line:
        raise RuntimeError(f"wrk {name}: rc={p.returncode} {p.stdout[-800:]} {p.stderr[-800:]}")
    r = json.loads(line[0][8:])
    errs = sum(r[k] for k in ("connect", "read", "write", "status", "timeout"))
    if errs or r["requests"] == 0:
        raise RuntimeError(f"wrk {name}: {errs} errors in {r['requests']} requests: {r}")
    if r["bytes"] < r["requests"] * min_body:
        raise RuntimeError(f"wrk {name}: {r['bytes']} bytes for {r['requests']} replies, under "
                           f"{min_body} per reply")
    r["req_per_s"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


# ---- correctness ----

def check_batch(pat, a, names, blob):
    """The reply of a batch of names: a TAR with exactly those members, in order, byte-exact."""
    tf = tarfile.open(fileobj=io.BytesIO(blob), mode="r:")
    n = 0
    for m in tf:
        assert n < len(names), f"batch: more than {len(names)} members"
        want = f"{BCK}/{names[n]}"
        assert m.name == want, f"batch member {n}: {m.name}, want {want}"
        assert m.size == a.obj_size, f"{m.name}: {m.size} bytes, want {a.obj_size}"
        assert tf.extractfile(m).read() == want_obj(pat, names[n], a.obj_size), f"{m.name}: bytes differ"
        n += 1
    assert n == len(names), f"batch: {n} members, want {len(names)}"
    return n


def check_singles(pat, a, owners, rng):
    """A sample of single GETs from the targets and from nginx, byte-exact."""
    cs = Conns()
    try:
        for i in rng.sample(range(a.objects), min(200, a.objects)):
            n = obj_name(i)
            for url in (f"http://{owners[i]}/v1/objects/{BCK}/{n}", f"http://127.0.0.1:{NGX_PORT}/{BCK}/{n}"):
                code, _, data = cs.call("GET", url, follow=False)
                assert code == 200 and data == want_obj(pat, n, a.obj_size), f"GET {url}: {code}, bytes differ"
    finally:
        cs.close()


# ---- (c) TTFB ----

def ttfb_run(pat, a, bodies, batches):
    """Sequential batches through the gateway: (ttfb s, total s) each; every reply checked."""
    cs, out = Conns(), []
    try:
        for k in range(a.ttfb_n):
            body, names = bodies[k % len(bodies)], batches[k % len(batches)]
            hdr = {"Content-Type": "application/json"}
            t0 = time.monotonic()
            gw = cs.get(f"127.0.0.1:{PORT}")
            gw.request("GET", "/v1/ml/moss", body=body, headers=hdr)
            r = gw.getresponse()
            r.read()
            if r.status != 307:
                raise RuntimeError(f"moss at the gateway: {r.status}, want 307")
            u = urllib.parse.urlsplit(r.getheader("Location"))
            c = cs.get(u.netloc)
            c.request("GET", u.path + (f"?{u.query}" if u.query else ""), body=body, headers=hdr)
            r = c.getresponse()
            first = r.read(1)
            t1 = time.monotonic()
            rest = r.read()
            t2 = time.monotonic()
            if r.status != 200:
                raise RuntimeError(f"moss: {r.status} {(first + rest)[:300]!r}")
            check_batch(pat, a, names, first + rest)
            out.append((t1 - t0, t2 - t0))
    finally:
        cs.close()
    return out


# ---- (d), (e) shard ----

def make_shard(path, a, pat):
    """A tar of 10 KiB members mem/NNNNNN.bin up to --shard-mb; member i's bytes are a slice of
    the pattern at (i * 4099) mod 1 MiB. Returns (member count, bytes)."""
    size = int(a.member_kb * 1024)
    per = 512 + (size + 511) // 512 * 512
    count = max(1, int(a.shard_mb * MIB) // per)
    pad = b"\0" * ((size + 511) // 512 * 512 - size)
    with open(path, "wb", buffering=1 << 20) as f:
        for i in range(count):
            ti = tarfile.TarInfo(f"mem/{i:06d}.bin")
            ti.size, ti.mtime, ti.mode = size, 1700000000, 0o644
            f.write(ti.tobuf(tarfile.USTAR_FORMAT))
            f.write(member_bytes(pat, i, size))
            f.write(pad)
        f.write(b"\0" * 1024)
    return count, os.path.getsize(path)


def member_bytes(pat, i, size):
    off = (i * 4099) % PATTERN_BYTES
    return pat[off:off + size]


def same_target_names(cs, stem_fmt, exts):
    """A stem whose names with every ext land on one target (HRW): (names, owner)."""
    for k in range(1000):
        names = [stem_fmt % k + e for e in exts]
        owners = {owner_of(cs, n) for n in names}
        if len(owners) == 1:
            return names, owners.pop()
    raise RuntimeError("no stem with all names on one target")


def put_file(owner, name, path):
    """curl -T straight to the owner; seconds."""
    cmd = ["curl", "-sS", "-f", "-o", "/dev/null", "-H", "Expect:", "-T", path, "-w",
           "%{http_code} %{time_total} %{size_upload}", f"http://{owner}/v1/objects/{BCK}/{name}"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"PUT {name}: {p.stderr}")
    code, secs, n = p.stdout.split()
    if int(code) != 200 or int(float(n)) != os.path.getsize(path):
        raise RuntimeError(f"PUT {name}: {p.stdout}")
    return float(secs)


def put_cells(a, owner, names, path, res):
    """(e): one untimed PUT of each name, then PUTs of the same bytes as .bin and .tar in ABBA
    order, sync + 1 s idle before each; the .tar object is the indexed shard (d) reads."""
    res["put"] = {"bin_s": [], "tar_s": []}
    size = os.path.getsize(path)
    for name in names:  # untimed: every timed PUT then overwrites an object of the same size
        put_file(owner, name, path)
    for r in range(a.put_reps):
        pair = ((names[1], "bin_s"), (names[0], "tar_s"))
        for name, key in pair if r % 2 == 0 else pair[::-1]:  # ABBA: neither always goes first
            os.sync()
            time.sleep(1)
            s = put_file(owner, name, path)
            res["put"][key].append(s)
            log(f"PUT rep {r + 1} {name}: {size / MIB / s:.0f} MiB/s")


def check_arch(cs, a, pat, owner, shard, count):
    size = int(a.member_kb * 1024)
    sample = [0, count - 1] + random.Random(3).sample(range(count), min(50, count))
    for i in sample:
        url = f"http://{owner}/v1/objects/{BCK}/{shard}?archpath=mem/{i:06d}.bin"
        code, h, data = cs.call("GET", url, follow=False)
        assert code == 200, f"GET {url}: {code} {data[:200]!r}"
        assert h.get("ais-archive-index") == "hit", f"{url}: Ais-Archive-Index {h.get('ais-archive-index')}"
        assert data == member_bytes(pat, i, size), f"{url}: bytes differ"
    return len(sample)


def plain_objs(cs, a, pat, owner, want_n=100):
    """want_n plain objects of the member size on owner: (paths). Names tried until enough."""
    size, got = int(a.member_kb * 1024), []
    for i in range(want_n * 10):
        n = f"p/{i:06d}"
        if owner_of(cs, n) != owner:
            continue
        code, _, raw = cs.call("PUT", f"http://{owner}/v1/objects/{BCK}/{n}", body=member_bytes(pat, i, size))
        assert code == 200, f"PUT {n}: {code} {raw[:200]!r}"
        code, _, data = cs.call("GET", f"http://{owner}/v1/objects/{BCK}/{n}")
        assert code == 200 and data == member_bytes(pat, i, size), f"GET {n}: {code}, bytes differ"
        got.append(f"/v1/objects/{BCK}/{n}")
        if len(got) == want_n:
            return got
    raise RuntimeError(f"only {len(got)} plain objects on {owner}")


# ---- report ----

def med(xs):
    return statistics.median(xs) if xs else float("nan")


def report(a, res):
    reps = res["reps"]
    single = [r["single"]["req_per_s"] for r in reps]
    ngx = [r["nginx"]["req_per_s"] for r in reps]
    print(f"moss: {a.objects} x {a.obj_size} B objects, {TARGETS} targets, batch {a.batch}, "
          f"{a.conns} conns, {a.secs:g} s per cell, {len(reps)} reps (medians; per-rep ratios in the json)")
    print(f"machine: {res['machine']}")
    b = res["build"]
    print(f"aisnode built {b['built']}; tree at run time: HEAD {b['git']}, {b['dirty_files']} modified files")
    print("| cell | median | unit | ratio (median of per-rep) | goal |")
    print("|---|---|---|---|---|")
    print(f"| single GET, wrk {a.conns} conns, direct to owner | {med(single):,.0f} | obj/s | | |")
    print(f"| nginx GET, same files, wrk {a.conns} conns | {med(ngx):,.0f} | obj/s | | |")
    for c in a.batch_conc:
        ob = [r[f"batch{c}"]["req_per_s"] * a.batch for r in reps]
        rs = med([r[f"batch{c}"]["req_per_s"] * a.batch / r["single"]["req_per_s"] for r in reps])
        rn = med([r[f"batch{c}"]["req_per_s"] * a.batch / r["nginx"]["req_per_s"] for r in reps])
        p50 = med([r[f"batch{c}"]["p50_us"] / 1e3 for r in reps])
        print(f"| batch GET x{a.batch}, {c} in flight (p50 {p50:.0f} ms/batch) | {med(ob):,.0f} | obj/s "
              f"| {rs:.2f}x single, {rn:.2f}x nginx | >= 5x single, >= 1.5x nginx |")
    t = res["ttfb"]
    print(f"| batch TTFB via gateway, {len(t)} sequential | {med([x[0] for x in t]) * 1e3:.1f} | ms p50 "
          f"| whole batch p50 {med([x[1] for x in t]) * 1e3:.1f} ms ({a.batch / med([x[1] for x in t]):,.0f} obj/s "
          f"in Python) | |")
    ar = [r["arch"]["p50_us"] / 1e3 for r in reps]
    pl = [r["plain"]["p50_us"] / 1e3 for r in reps]
    ra = med([r["arch"]["p50_us"] / r["plain"]["p50_us"] for r in reps])
    sh = res["shard"]
    print(f"| archpath GET p50, {a.member_kb:g} KiB of {sh['bytes'] / MIB:.0f} MiB tar ({sh['members']} members), "
          f"1 conn | {med(ar):.3f} | ms | {ra:.2f}x plain | <= 1.5x |")
    print(f"| plain {a.member_kb:g} KiB GET p50, 1 conn | {med(pl):.3f} | ms | | |")
    put = res["put"]
    bt = [sh["bytes"] / MIB / s for s in put["tar_s"]]
    bb = [sh["bytes"] / MIB / s for s in put["bin_s"]]
    rp = med([b / a_ for a_, b in zip(put["tar_s"], put["bin_s"])])
    print(f"| PUT .tar (indexed) | {med(bt):,.0f} | MiB/s | {rp:.2f}x .bin | >= 0.95x |")
    print(f"| PUT .bin (same bytes, no index) | {med(bb):,.0f} | MiB/s | | |")
    print(f"verified: {'; '.join(res['verified'])}")


def machine():
    cpu = "unknown cpu"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        cpu = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")), cpu)
    except (OSError, subprocess.TimeoutExpired):
        pass
    mem = next(int(ln.split()[1]) for ln in open("/proc/meminfo") if ln.startswith("MemTotal")) / 1048576
    return f"{os.cpu_count()} cpus ({cpu}), {mem:.1f} GiB RAM, kernel {os.uname().release}, load {os.getloadavg()[0]:.1f}"


# ---- main ----

def build_info(work):
    """A private copy of aisnode (the build dir may be rebuilt while the run goes on), with the
    tree it came from, so the figures name what they measured."""
    copy = os.path.join(work, "aisnode")
    shutil.copy2(AISNODE, copy)
    git = lambda *c: subprocess.run(["git", "-C", REPO, *c], capture_output=True, text=True,
                                    timeout=30).stdout.strip()
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {"aisnode": copy, "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.path.getmtime(AISNODE))),
            "git": git("rev-parse", "--short", "HEAD"), "dirty_files": len(dirty.splitlines()) if dirty else 0}


def write_lines(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def prepare(a, work, pat, res):
    """Fill both servers, resolve owners, write wrk's path and body files, check a sample."""
    fill(a, ["--endpoint", GW, "--bucket", BCK], "cluster")
    fill(a, ["--baseline-url", f"http://127.0.0.1:{NGX_PORT}/{BCK}"], "nginx")
    t0 = time.monotonic()
    owners = parallel(lambda cs, i: owner_of(cs, obj_name(i)), list(range(a.objects)))
    tgts = sorted(set(owners))
    log(f"resolved {a.objects} owners in {time.monotonic() - t0:.1f}s: "
        + ", ".join(f"{t} {owners.count(t)}" for t in tgts))
    single = []
    for t in tgts:
        fn = os.path.join(work, f"paths-{t.replace(':', '_')}")
        write_lines(fn, [f"/v1/objects/{BCK}/{obj_name(i)}" for i in range(a.objects) if owners[i] == t])
        single.append((*t.split(":"), fn))
    fn = os.path.join(work, "paths-nginx")
    write_lines(fn, [f"/{BCK}/{obj_name(i)}" for i in range(a.objects)])
    nginx = [("127.0.0.1", str(NGX_PORT), fn)]
    rng = random.Random(7)
    perm = list(range(a.objects))
    rng.shuffle(perm)
    batches = [[obj_name(i) for i in perm[k:k + a.batch]] for k in range(0, a.objects - a.batch + 1, a.batch)]
    bodies = [json.dumps({"in": [{"objname": n, "bucket": BCK} for n in b], "strm": True},
                         separators=(",", ":")) for b in batches]
    fn = os.path.join(work, "bodies")
    write_lines(fn, bodies)
    batch = [(*t.split(":"), fn) for t in tgts]
    check_singles(pat, a, owners, rng)
    res["verified"].append("200 single GETs from targets and from nginx byte-exact")
    return single, nginx, batch, batches, [b.encode() for b in bodies]


def shard_setup(a, work, pat, res):
    cs = Conns()
    try:
        path = os.path.join(work, "shard.tar")
        t0 = time.monotonic()
        count, nbytes = make_shard(path, a, pat)
        res["shard"] = {"members": count, "bytes": nbytes}
        log(f"generated a {nbytes / MIB:.0f} MiB tar ({count} members) in {time.monotonic() - t0:.1f}s")
        names, owner = same_target_names(cs, "shard-%d", [".tar", ".bin"])
        put_cells(a, owner, names, path, res)
        n = check_arch(cs, a, pat, owner, names[0], count)
        res["verified"].append(f"{n} archpath members byte-exact, Ais-Archive-Index: hit")
        fn = os.path.join(work, "paths-arch")
        rng = random.Random(11)
        write_lines(fn, [f"/v1/objects/{BCK}/{names[0]}?archpath=mem/{rng.randrange(count):06d}.bin"
                         for _ in range(10000)])
        arch = [(*owner.split(":"), fn)]
        fn = os.path.join(work, "paths-plain")
        write_lines(fn, plain_objs(cs, a, pat, owner))
        plain = [(*owner.split(":"), fn)]
        res["verified"].append("100 plain objects byte-exact")
        os.unlink(path)
    finally:
        cs.close()
    return arch, plain


def measure(a, work, cells, res):
    single, nginx, batch, arch, plain = cells
    msize = int(a.member_kb * 1024)
    for r in range(a.reps):
        rep = {}
        rep["single"] = wrk(work, "single", "get", single, a.conns, a.secs, a.obj_size)
        rep["nginx"] = wrk(work, "nginx", "get", nginx, a.conns, a.secs, a.obj_size)
        for c in a.batch_conc:
            rep[f"batch{c}"] = wrk(work, f"batch{c}", "moss", batch, c, a.secs, a.batch * (a.obj_size + 512))
        rep["plain"] = wrk(work, "plain", "get", plain, 1, a.secs, msize)
        rep["arch"] = wrk(work, "arch", "get", arch, 1, a.secs, msize)
        log(f"rep {r + 1}: single {rep['single']['req_per_s']:,.0f}/s, nginx {rep['nginx']['req_per_s']:,.0f}/s, "
            + ", ".join(f"batch x{c} {rep[f'batch{c}']['req_per_s'] * a.batch:,.0f} obj/s" for c in a.batch_conc)
            + f", arch p50 {rep['arch']['p50_us']} us, plain p50 {rep['plain']['p50_us']} us")
        res["reps"].append(rep)


def main():
    a = parse_args()
    for f in (AISNODE, LOADER):
        if not os.access(f, os.X_OK):
            sys.exit(f"bench-moss: {f} not built (make build)")
    for tool in ("wrk", "nginx", "curl"):
        if shutil.which(tool) is None:
            sys.exit(f"bench-moss: {tool} missing (bash scripts/install-deps.sh --bench)")
    work = ENV("BENCH_DIR", "") or tempfile.mkdtemp(prefix="ais-bench-moss.")
    os.makedirs(work, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    res = {"args": vars(a), "targets": TARGETS, "fsync": FSYNC, "verified": [], "reps": [],
           "build": build_info(work)}
    log(f"aisnode: {res['build']}")
    srv = Servers(work, res["build"]["aisnode"])
    try:
        pat = pattern(SEED)
        srv.start()
        single, nginx, batch, batches, bodies = prepare(a, work, pat, res)
        arch, plain = shard_setup(a, work, pat, res)
        res["ttfb"] = ttfb_run(pat, a, bodies, batches)
        res["verified"].append(f"{a.ttfb_n} batch replies through the gateway ({a.ttfb_n * a.batch} entries): "
                               "names in order, sizes and bytes exact")
        res["machine"] = machine()
        measure(a, work, (single, nginx, batch, arch, plain), res)
    finally:
        srv.stop()
        if ENV("BENCH_KEEP", "0") != "1" and not ENV("BENCH_DIR", ""):
            shutil.rmtree(work, ignore_errors=True)
    res["stamp"] = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    os.makedirs(os.path.join(REPO, "bench", "results"), exist_ok=True)
    out = os.path.join(REPO, "bench", "results", f"moss-{res['stamp']}.json")
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    log(f"wrote {out}")
    report(a, res)


if __name__ == "__main__":
    main()
