#!/usr/bin/env python3
"""bench/dsort.py: dSort of a tar dataset vs a single-process baseline over the same files, the
ratio from ONE run (`make bench-dsort`).

Generates locally DSORT_SHARDS (100) tar shards of DSORT_SHARD_MB (10) MiB, each of records of
~DSORT_REC_KB (10) KiB with 2 files (<key>.jpg random bytes, <key>.cls a class number), keys
shuffled across shards (so ~1 GiB by default). Deploys a dedicated cluster (scripts/deploy.sh:
1 gateway, TARGETS=3, one mountpath each, its own AIS_DATA_DIR and AIS_PORT), uploads the shards
to ais://dsrc through the gateway (307 followed), then, interleaved on the same machine and
filesystem (the cluster's data dir):
  baseline: build/bench/dsort_base over the local copies (libarchive read, group by key, sort,
            write output shards of the same size, fsync each), run first and after every dSort
            run; each dSort run is set against the faster baseline run on either side of it
            (the stricter comparison), DSORT_REPS (3) times, the median rep reported;
  dSort:    POST /v1/sort (alphanumeric, output ais://ddst<rep> out-{00000..99999}.tar of the
            same shard size), timed from the POST until every target reports shard_creation
            finished (polled every 0.1 s); phase times are spans over targets (earliest start to
            latest end) from Metrics; bytes moved between targets are the pulled_bytes of
            shard_creation summed over targets (served_bytes as a cross-check), or "n/a".
Every timed run starts after sync + DSORT_SETTLE_S idle.
Both outputs are verified: every record once, its files together in one shard, each member's
size and CRC equal to the input's, keys in order, every shard but the last at least the shard
size. Prints a table with dsort/baseline wall (goal <= 1.0x) and writes
bench/results/dsort-<UTC>.json (not committed). Every step has a timeout; the cluster is stopped
on any exit (Ctrl-C included).

Env: BUILD (<repo>/build), DSORT_SHARDS (100), DSORT_SHARD_MB (10), DSORT_REC_KB (10),
DSORT_ALG (alphanumeric|shuffle), TARGETS (3), BENCH_PORT (19580), BENCH_FSYNC (1: targets fsync
every PUT, the cluster default, and the baseline fsyncs its shards; 0: neither),
DSORT_TIMEOUT_S (1200), DSORT_REPS (3), DSORT_SETTLE_S (3: sync and idle before every timed
run), DSORT_NO_CLUSTER=1 (generate + baseline + verify only), BENCH_DIR +
BENCH_KEEP=1 (keep the data). Smoke run: DSORT_SHARDS=4 DSORT_SHARD_MB=1.
"""
import calendar
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ENV = os.environ.get
BUILD = os.path.abspath(ENV("BUILD", os.path.join(REPO, "build")))
AISNODE = os.path.join(BUILD, "deploy", "aisnode")
BASE = os.path.join(BUILD, "bench", "dsort_base")
SHARDS = int(ENV("DSORT_SHARDS", "100"))
SHARD_BYTES = int(float(ENV("DSORT_SHARD_MB", "10")) * (1 << 20))
REC_BYTES = int(float(ENV("DSORT_REC_KB", "10")) * 1024)
ALG = ENV("DSORT_ALG", "alphanumeric")
TARGETS = int(ENV("TARGETS", "3"))
PORT = int(ENV("BENCH_PORT", "19580"))
FSYNC = ENV("BENCH_FSYNC", "1") == "1"
TIMEOUT_S = int(ENV("DSORT_TIMEOUT_S", "1200"))
NO_CLUSTER = ENV("DSORT_NO_CLUSTER", "0") == "1"
REPS = int(ENV("DSORT_REPS", "3"))
SETTLE_S = float(ENV("DSORT_SETTLE_S", "3"))
GW = f"http://127.0.0.1:{PORT}"
SRC, DST = "dsrc", "ddst"
MIB = float(1 << 20)


def log(msg):
    print(f"bench-dsort: {msg}", file=sys.stderr, flush=True)


def tar_bytes(size):
    """What one member adds to a tar shard: its header and its content padded to 512."""
    return 512 + (size + 511) // 512 * 512


def key_of(name):
    base = name.rsplit("/", 1)[-1]
    i = base.rfind(".")
    return name[:len(name) - len(base) + i] if i > 0 else name


# ---- dataset ----

def generate(indir):
    """Shards shard-NNN.tar; returns {member name: (size, crc32)} and the total tar bytes."""
    rnd = random.Random(14)
    pattern = os.urandom(4 << 20)
    per_rec = tar_bytes(REC_BYTES) + tar_bytes(4)
    nrec = max(1, -(-SHARD_BYTES // per_rec))  # records per shard: the shard reaches its size
    keys = [f"rec-{k:08d}" for k in range(SHARDS * nrec)]
    rnd.shuffle(keys)
    want, total = {}, 0
    for s in range(SHARDS):
        path = os.path.join(indir, f"shard-{s:03d}.tar")
        with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as t:
            for k in keys[s * nrec:(s + 1) * nrec]:
                n = rnd.randint(REC_BYTES * 4 // 5, REC_BYTES * 6 // 5)
                off = rnd.randrange(0, len(pattern) - n)
                for name, data in ((f"{k}.jpg", pattern[off:off + n]),
                                   (f"{k}.cls", str(rnd.randint(0, 999)).encode())):
                    ti = tarfile.TarInfo(name)
                    ti.size, ti.mtime, ti.mode = len(data), 1700000000, 0o644
                    t.addfile(ti, io.BytesIO(data))
                    want[name] = (len(data), zlib.crc32(data))
                    total += tar_bytes(len(data))
    return want, total


def verify(want, shards):
    """shards: [(name, path or a function returning the tar bytes)] in output order. Checks the
    output against want; returns (records, members, content bytes)."""
    seen, last_key, members, nbytes = {}, None, 0, 0
    for i, (sname, src) in enumerate(shards):
        f = open(src, "rb") if isinstance(src, str) else io.BytesIO(src())
        est, keys_here = 0, set()
        with f, tarfile.open(fileobj=f, mode="r|") as t:
            for m in t:
                if not m.isfile():
                    continue
                data = t.extractfile(m).read()
                assert want.get(m.name) == (len(data), zlib.crc32(data)), f"{sname}: {m.name} differs"
                k = key_of(m.name)
                if k != last_key:
                    assert k not in seen, f"{sname}: record {k} split or repeated"
                    if ALG == "alphanumeric" and last_key is not None:
                        assert k > last_key, f"{sname}: {k} after {last_key}"
                    seen[k], last_key = sname, k
                assert seen[k] == sname, f"record {k} split across shards"
                keys_here.add(k)
                members += 1
                nbytes += len(data)
                est += tar_bytes(len(data))
        if i < len(shards) - 1:
            assert est >= SHARD_BYTES, f"{sname}: {est} bytes, under the shard size {SHARD_BYTES}"
    assert members == len(want), f"{members} members out, {len(want)} in"
    return len(seen), members, nbytes


def settle():
    """Before every timed run: the previous step's dirty pages written and its background work
    (bucket removal, writeback) given SETTLE_S to finish, the same for both sides."""
    os.sync()
    time.sleep(SETTLE_S)
    os.sync()


def run_base(indir, outdir):
    shutil.rmtree(outdir, ignore_errors=True)
    settle()
    cmd = [BASE, "--in", indir, "--ext", ".tar", "--out", outdir, "--shard-size", str(SHARD_BYTES),
           "--alg", ALG] + ([] if FSYNC else ["--no-fsync"])
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError(f"dsort_base: rc={p.returncode} {p.stderr[-2000:]}")
    res = json.loads(p.stdout)
    res["process_s"] = wall
    return res


def base_shards(outdir):
    names = sorted(n for n in os.listdir(outdir) if n.startswith("out-"))
    return [(n, os.path.join(outdir, n)) for n in names]


# ---- cluster ----

def http(method, url, body=None, data=None, timeout=60):
    """(status, raw bytes); 307 and the like are returned, not followed, for PUT and POST."""
    if body is not None:
        data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json" if body is not None
                                          else "application/octet-stream"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def put_obj(bck, name, data):
    url = f"{GW}/v1/objects/{bck}/{name}"
    for _ in range(3):  # gateway -> target is one redirect; more is a loop
        code, raw, hdrs = http("PUT", url, data=data, timeout=120)
        if code in (301, 302, 307, 308):
            url = hdrs["Location"]
            continue
        if code != 200:
            raise RuntimeError(f"PUT {bck}/{name}: {code} {raw[:300]!r}")
        return
    raise RuntimeError(f"PUT {bck}/{name}: too many redirects")


def parallel(fn, items, workers=4):
    """fn over items on workers threads; the first failure is raised."""
    errs, it, mu = [], iter(items), threading.Lock()

    def work():
        while not errs:
            with mu:
                x = next(it, None)
            if x is None:
                return
            try:
                fn(x)
            except Exception as e:  # noqa: BLE001 (handed to the caller)
                errs.append(e)

    ths = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    if errs:
        raise errs[0]


def listing(bck, prefix):
    names, token = [], ""
    for _ in range(10000):  # pages; a bound, not an expected count
        code, raw, _ = http("GET", f"{GW}/v1/buckets/{bck}",
                            {"action": "list", "value": {"prefix": prefix, "props": "name,size",
                                                         "continuation_token": token}})
        if code != 200:
            raise RuntimeError(f"list {bck}: {code} {raw[:300]!r}")
        page = json.loads(raw)
        names += [e["name"] for e in page.get("entries") or []]
        token = page.get("continuation_token") or ""
        if not token:
            return sorted(names)
    raise RuntimeError(f"list {bck}: too many pages")


def get_obj(bck, name):
    with urllib.request.urlopen(f"{GW}/v1/objects/{bck}/{name}", timeout=120) as r:
        return r.read()


def unix_s(t):
    """RFC3339 with up to 9 fraction digits -> seconds; None for an unset (zero) time."""
    if not t or t.startswith("0001") or t.startswith("1970"):
        return None
    base, _, frac = t.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + int((frac + "0" * 9)[:9]) / 1e9


class Cluster:
    def __init__(self, work):
        self.env = dict(os.environ, GATEWAYS="1", TARGETS=str(TARGETS), MOUNTPATHS="1",
                        AIS_PORT=str(PORT), AIS_DATA_DIR=os.path.join(work, "ais"), AIS_BIN=AISNODE,
                        DEADLINE_S="90")

    def deploy(self, cmd):
        r = subprocess.run(["bash", os.path.join(REPO, "scripts", "deploy.sh"), cmd], env=self.env,
                           capture_output=True, text=True, timeout=240)
        if r.returncode != 0:
            raise RuntimeError(f"deploy.sh {cmd}: {r.stdout}{r.stderr}")

    def setup(self):
        self.deploy("start")
        code, raw, _ = http("PUT", f"{GW}/v1/cluster",
                            {"action": "set-config", "name": "",
                             "value": {"disk.fsync": "true" if FSYNC else "false"}})
        if code != 200:
            raise RuntimeError(f"set-config: {code} {raw[:300]!r}")
        code, raw, _ = http("POST", f"{GW}/v1/buckets/{SRC}", {"action": "create-bck"})
        if code not in (200, 409):
            raise RuntimeError(f"create {SRC}: {code} {raw[:300]!r}")


def dsort_spec(dst):
    return {"input_bck": {"name": SRC, "provider": "ais"},
            "input_format": {"template": "shard-{000..%03d}" % (SHARDS - 1)},
            "input_extension": ".tar",
            "output_bck": {"name": dst, "provider": "ais"},
            "output_format": "out-{00000..99999}", "output_extension": ".tar",
            "output_shard_size": str(SHARD_BYTES), "algorithm": {"kind": ALG},
            "description": "bench/dsort.py"}


def run_dsort(dst):
    """Runs one job into dst; returns (wall seconds, the last GET /v1/sort?uuid= answer, uuid)."""
    code, raw, _ = http("POST", f"{GW}/v1/buckets/{dst}", {"action": "create-bck"})
    if code not in (200, 409):
        raise RuntimeError(f"create {dst}: {code} {raw[:300]!r}")
    settle()
    t0 = time.monotonic()
    code, raw, _ = http("POST", f"{GW}/v1/sort", dsort_spec(dst))
    if code != 200:
        raise RuntimeError(f"POST /v1/sort: {code} {raw[:500]!r}")
    uuid = raw.decode().strip()
    deadline = t0 + TIMEOUT_S
    while time.monotonic() < deadline:
        code, raw, _ = http("GET", f"{GW}/v1/sort?uuid={uuid}", timeout=30)
        if code != 200:
            raise RuntimeError(f"GET /v1/sort?uuid={uuid}: {code} {raw[:500]!r}")
        m = json.loads(raw)
        bad = {t: (ji["Metrics"].get("errors"), ji["Metrics"].get("aborted")) for t, ji in m.items()
               if ji["Metrics"].get("errors") or ji["Metrics"].get("aborted")}
        if bad:
            raise RuntimeError(f"dsort {uuid} failed: {bad}")
        if m and all(ji["Metrics"]["shard_creation"]["finished"] for ji in m.values()):
            return time.monotonic() - t0, m, uuid
        time.sleep(0.1)  # polling interval of the measurement, not synchronisation
    raise RuntimeError(f"dsort {uuid} did not finish in {TIMEOUT_S}s")


def destroy(bck):
    code, raw, _ = http("DELETE", f"{GW}/v1/buckets/{bck}", {"action": "destroy-bck", "name": "",
                                                             "value": None})
    if code != 200:
        raise RuntimeError(f"destroy {bck}: {code} {raw[:300]!r}")


def phases(m):
    """Per phase: span over targets (earliest start to latest end) and the longest target."""
    out = {}
    for ph in ("local_extraction", "meta_sorting", "shard_creation"):
        ts = [(unix_s(ji["Metrics"][ph].get("started_time")), unix_s(ji["Metrics"][ph].get("end_time")))
              for ji in m.values()]
        ts = [(a, b) for a, b in ts if a is not None and b is not None]
        out[ph] = {"span_s": max(b for _, b in ts) - min(a for a, _ in ts) if ts else None,
                   "max_target_s": max(b - a for a, b in ts) if ts else None}
    return out


def moved(m, uuid):
    """Bytes between targets: pulled_bytes (and served_bytes) summed, else the job snaps' out-bytes."""
    sc = [ji["Metrics"]["shard_creation"] for ji in m.values()]
    if all("pulled_bytes" in s for s in sc):
        return {"pulled_bytes": sum(int(s["pulled_bytes"]) for s in sc),
                "served_bytes": sum(int(s.get("served_bytes", 0)) for s in sc),
                "pulled_records": sum(int(s.get("pulled_record_count", 0)) for s in sc)}
    code, raw, _ = http("GET", f"{GW}/v1/cluster?what=qryxstats", {"ID": uuid}, timeout=30)
    if code == 200:
        snaps = [s for v in json.loads(raw).values() for s in (v or [])]
        if snaps and all("out-bytes" in s.get("stats", {}) for s in snaps):
            return {"pulled_bytes": sum(int(s["stats"]["out-bytes"]) for s in snaps)}
    return {"pulled_bytes": None}


def dsort_shards(dst):
    """Output shards, each fetched when verify reads it (one in memory at a time)."""
    return [(n, lambda n=n: get_obj(dst, n)) for n in listing(dst, "out-")]


# ---- report ----

def fmt_s(v):
    return "n/a" if v is None else f"{v:.2f}"


def report(res):
    reps = res["reps"]
    k = sorted(range(len(reps)), key=lambda r: reps[r]["ratio"])[len(reps) // 2] if reps else None
    b = reps[k]["baseline"] if reps else res["baseline_runs"][0]
    d = reps[k]["dsort"] if reps else None
    print(f"dsort: {SHARDS} shards x {SHARD_BYTES / MIB:g} MiB ({res['input_tar_bytes'] / MIB:.0f} MiB tar, "
          f"{b['records']} records, {b['members']} files), alg={ALG}, {TARGETS} targets, fsync={int(FSYNC)}")
    for r, rep in enumerate(reps):
        print(f"rep {r + 1}: baseline {rep['baseline_before_s']:.2f} s before, {rep['baseline_after_s']:.2f} s "
              f"after; dSort {rep['dsort']['wall_s']:.2f} s; dSort/baseline {rep['ratio']:.2f}x")
    if reps:
        print(f"median rep ({k + 1}), its faster baseline:")
    print("| phase | baseline s | dSort s (span over targets) | dSort/baseline |")
    print("|---|---|---|---|")
    rows = [("read / local_extraction", b["read_s"], "local_extraction"),
            ("sort / meta_sorting", b["sort_s"], "meta_sorting"),
            ("write / shard_creation", b["write_s"], "shard_creation")]
    for label, bs, ph in rows:
        ds = d["phases"][ph]["span_s"] if d else None
        ratio = f"{ds / bs:.2f}" if ds is not None and bs > 0 else "n/a"
        print(f"| {label} | {bs:.2f} | {fmt_s(ds)} | {ratio} |")
    if d:
        print(f"| **wall** | {b['wall_s']:.2f} | {d['wall_s']:.2f} | **{reps[k]['ratio']:.2f}x** (goal <= 1.0x) |")
        mv = d["moved"]
        pulled = "n/a" if mv.get("pulled_bytes") is None else f"{mv['pulled_bytes'] / MIB:.1f} MiB"
        extra = f", served {mv['served_bytes'] / MIB:.1f} MiB" if "served_bytes" in mv else ""
        print(f"bytes moved between targets: {pulled} pulled{extra} "
              f"({mv.get('pulled_records', 'n/a')} records) of {b['bytes'] / MIB:.1f} MiB content")
    else:
        print(f"| **wall** | {b['wall_s']:.2f} | n/a | n/a |")
    print(f"outputs verified: {', '.join(res['verified'])}")


def measure(cl, indir, outdir, want, res):
    """Baseline, then per rep one dSort job and one more baseline; each dSort run is set against
    the faster of the baseline runs on either side of it."""
    base = [run_base(indir, outdir)]
    expect = verify(want, base_shards(outdir))
    res["verified"].append(f"baseline {len(base_shards(outdir))} shards, {expect[0]} records")
    shutil.rmtree(outdir, ignore_errors=True)
    for r in range(REPS if cl else 0):
        dst = f"{DST}{r}"
        wall, m, uuid = run_dsort(dst)
        d = {"uuid": uuid, "wall_s": wall, "phases": phases(m), "moved": moved(m, uuid), "metrics": m}
        log(f"rep {r + 1}: dsort {uuid} {wall:.2f}s (baseline before {base[-1]['wall_s']:.2f}s)")
        base.append(run_base(indir, outdir))
        shutil.rmtree(outdir, ignore_errors=True)
        shards = dsort_shards(dst)
        got = verify(want, shards)
        assert got == expect, (got, expect)
        destroy(dst)
        res["verified"].append(f"dSort {len(shards)} shards, {got[0]} records")
        d["shards_out"] = len(shards)
        b = min(base[-2:], key=lambda x: x["wall_s"])
        res["reps"].append({"dsort": d, "baseline": b, "baseline_before_s": base[-2]["wall_s"],
                            "baseline_after_s": base[-1]["wall_s"], "ratio": wall / b["wall_s"]})
    res["baseline_runs"] = base


def main():
    for f in (BASE,) + (() if NO_CLUSTER else (AISNODE,)):
        if not os.access(f, os.X_OK):
            sys.exit(f"bench-dsort: {f} not built (cmake --build {BUILD} --target {os.path.basename(f)})")
    work = ENV("BENCH_DIR", "") or tempfile.mkdtemp(prefix="ais-bench-dsort.")
    indir, outdir = os.path.join(work, "local", "in"), os.path.join(work, "local", "out")
    os.makedirs(indir, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cl = None if NO_CLUSTER else Cluster(work)
    res = {"shards": SHARDS, "shard_bytes": SHARD_BYTES, "rec_bytes": REC_BYTES, "alg": ALG,
           "targets": TARGETS, "fsync": FSYNC, "verified": [], "reps": []}
    try:
        t0 = time.monotonic()
        want, res["input_tar_bytes"] = generate(indir)
        log(f"generated {SHARDS} shards, {len(want)} files in {time.monotonic() - t0:.1f}s ({work})")
        if cl:
            cl.setup()
            t0 = time.monotonic()
            parallel(lambda n: put_obj(SRC, n, open(os.path.join(indir, n), "rb").read()),
                     sorted(os.listdir(indir)))
            log(f"uploaded to ais://{SRC} in {time.monotonic() - t0:.1f}s")
        measure(cl, indir, outdir, want, res)
    finally:
        if cl:
            try:
                cl.deploy("stop")
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                log(f"stop: {e}")
        if ENV("BENCH_KEEP", "0") != "1" and not ENV("BENCH_DIR", ""):
            shutil.rmtree(work, ignore_errors=True)
    res["stamp"] = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    os.makedirs(os.path.join(REPO, "bench", "results"), exist_ok=True)
    out = os.path.join(REPO, "bench", "results", f"dsort-{res['stamp']}.json")
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    log(f"wrote {out}")
    report(res)


if __name__ == "__main__":
    main()
