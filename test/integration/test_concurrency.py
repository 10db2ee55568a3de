"""Concurrency and listing at scale against a real cluster.

Goal: (1) many clients hammering ONE object with PUT/GET/DELETE only ever GET one complete
version that some writer wrote; (2) a bucket destroyed while PUTs stream gives each PUT a 200
or a clean 4xx, re-creates no bucket directory and leaves no work files or trash behind;
(3) a full paged listing of a large bucket costs ONE storage walk per target (list cursors),
and returns every name once, in order.
Method: thread pools of requests sessions through the gateway (redirects followed); each
writer's body is its own id byte repeated to a length of its own, so a torn or mixed body is
detectable; on-disk state is read from each target's mountpaths (what=mountpaths); the walk
counter is the target tracker's "list.walks"; objects for the large listing (200k by default,
AIS_TEST_LIST_N to change) are created as files in the open on-disk layout, each on its HRW
target and mountpath (listing names needs no metadata, and PUTting 200k objects would take
minutes here); deadlines everywhere, no sleeps as synchronisation.
"""
import concurrent.futures as cf
import os
import random
import threading
import time

import msgpack
import requests

from conftest import wait_until
from test_cluster import mix

ACT = lambda action, value=None: {"action": action, "name": "", "value": value}  # noqa: E731


def obj_url(c, b, o):
    return f"{c.url}/v1/objects/{b}/{o}"


def targets(cluster):
    return sorted(cluster.smap()["tmap"].keys())


def mountpaths(cluster):
    out = []
    for tid in targets(cluster):
        r = requests.get(cluster.target_url(tid) + "/v1/daemon", params={"what": "mountpaths"},
                         timeout=10)
        assert r.status_code == 200, r.text
        out += r.json()["available"]
    return out


def walks(cluster):
    """Per-target list-walk counters."""
    res = {}
    for tid in targets(cluster):
        r = requests.get(cluster.target_url(tid) + "/v1/daemon", params={"what": "stats"}, timeout=10)
        assert r.status_code == 200, r.text
        res[tid] = int(r.json()["tracker"]["list.walks"]["v"])
    return res


def body_of(wid):
    return bytes([ord("A") + wid]) * (1000 + 777 * wid)


def test_hammer_one_object(cluster, bucket):
    url = obj_url(cluster, bucket, "hot/one")
    writers, readers, rounds = 6, 6, 60
    bad, stats = [], {"get200": 0, "get404": 0, "put": 0, "del": 0}
    lock = threading.Lock()
    stop = threading.Event()

    def writer(wid):
        s = requests.Session()
        for _ in range(rounds):
            r = s.put(url, data=body_of(wid), timeout=30)
            with lock:
                stats["put"] += 1
                if r.status_code != 200:
                    bad.append(f"PUT {r.status_code} {r.text}")

    def reader():
        s = requests.Session()
        while not stop.is_set():
            r = s.get(url, timeout=30)
            with lock:
                if r.status_code == 404:
                    stats["get404"] += 1
                    continue
                if r.status_code != 200:
                    bad.append(f"GET {r.status_code} {r.text}")
                    continue
                stats["get200"] += 1
                b = r.content
                wid = b[0] - ord("A") if b else -1
                if not (0 <= wid < writers) or b != body_of(wid):
                    bad.append(f"GET torn/foreign body len={len(b)} first={b[:1]!r}")

    def deleter():
        s = requests.Session()
        while not stop.is_set():
            r = s.delete(url, timeout=30)
            with lock:
                stats["del"] += 1
                if r.status_code not in (200, 404):
                    bad.append(f"DELETE {r.status_code} {r.text}")

    with cf.ThreadPoolExecutor(writers + readers + 1) as ex:
        rs = [ex.submit(reader) for _ in range(readers)] + [ex.submit(deleter)]
        ws = [ex.submit(writer, i) for i in range(writers)]
        for f in ws:
            f.result(timeout=300)
        stop.set()
        for f in rs:
            f.result(timeout=60)
    assert not bad, bad[:5]
    assert stats["put"] == writers * rounds
    assert stats["get200"] > 0, stats
    # validate-checksum on every GET of the final object passes (metadata matches the bytes)
    r = requests.put(url, data=body_of(1))
    assert r.status_code == 200
    r = requests.get(url, params={"validate-checksum": "true"})
    assert r.status_code == 200 and r.content == body_of(1)


def _bucket_dirs(mpaths, bucket):
    return [p for p in (os.path.join(m, "@ais", bucket) for m in mpaths) if os.path.exists(p)]


def _trash_entries(mpaths):
    n = 0
    for m in mpaths:
        t = os.path.join(m, ".trash")
        if os.path.isdir(t):
            n += len(os.listdir(t))
    return n


def test_destroy_races_put(cluster):
    name = "race%06d" % random.randrange(10**6)
    r = requests.post(f"{cluster.url}/v1/buckets/{name}", json=ACT("create-bck"))
    assert r.status_code == 200, r.text
    mpaths = mountpaths(cluster)
    assert len(_bucket_dirs(mpaths, name)) == len(mpaths)
    codes, ok = {}, threading.Event()
    lock = threading.Lock()
    stop = threading.Event()

    def putter(wid):
        s = requests.Session()
        data = os.urandom(256 << 10)  # big enough that some are in flight at the destroy
        for i in range(2000):
            if stop.is_set():
                return
            r = s.put(obj_url(cluster, name, f"w{wid}/d{i % 5}/o{i}"), data=data, timeout=30)
            with lock:
                codes[r.status_code] = codes.get(r.status_code, 0) + 1
                if codes.get(200, 0) >= 40:
                    ok.set()
            if r.status_code == 404:
                return  # the bucket is gone for good

    with cf.ThreadPoolExecutor(8) as ex:
        fs = [ex.submit(putter, i) for i in range(8)]
        assert ok.wait(120), codes
        r = requests.delete(f"{cluster.url}/v1/buckets/{name}", json=ACT("destroy-bck"))
        assert r.status_code == 200, r.text
        try:
            for f in fs:
                f.result(timeout=120)
        finally:
            stop.set()
    assert all(c == 200 or 400 <= c < 500 for c in codes), codes
    assert codes.get(200, 0) >= 40
    # no bucket dir re-created (with its %wk work files), and the trash is emptied
    assert _bucket_dirs(mpaths, name) == []
    wait_until(lambda: _trash_entries(mpaths) == 0, timeout=60, what="trash to empty")
    assert _bucket_dirs(mpaths, name) == []
    r = requests.head(f"{cluster.url}/v1/buckets/{name}")
    assert r.status_code == 404


def _list_all(cluster, bucket, pagesize):
    names, token, uuid, pages = [], "", "", 0
    sess = requests.Session()
    while True:
        body = {"prefix": "", "pagesize": pagesize, "uuid": uuid, "props": "name",
                "continuation_token": token, "flags": "0", "target": ""}
        r = sess.get(f"{cluster.url}/v1/buckets/{bucket}", params={"provider": "ais"},
                     json=ACT("list", body), headers={"Accept": "application/msgpack"}, timeout=120)
        assert r.status_code == 200, r.text
        d = msgpack.unpackb(r.content)
        uuid, token = d["UUID"], d["ContinuationToken"]
        names += [e["n"] for e in d["Entries"] or []]
        pages += 1
        assert pages < 10000
        if token == "":
            return names, pages


N_LIST = int(os.environ.get("AIS_TEST_LIST_N", "200000"))
HRW_SEED = 1103515245


def fill_on_disk(cluster, bucket, n, deadline_s=300):
    """n empty objects o/dNNN/xNNNNNNN, each file on its HRW target and mountpath (two-level HRW
    as api.md §8.2: target by id digest, mountpath by the digest of its path)."""
    import xxhash
    smap = cluster.smap()
    tgts = []
    for tid, t in smap["tmap"].items():
        mps = requests.get(cluster.target_url(tid) + "/v1/daemon", params={"what": "mountpaths"},
                           timeout=10).json()["available"]
        tgts.append((t["id_digest"], [(xxhash.xxh64_intdigest(m.encode(), seed=HRW_SEED), m) for m in mps]))
    made = set()
    deadline = time.monotonic() + deadline_s
    for i in range(n):
        if i % 10000 == 0:
            assert time.monotonic() < deadline, f"fill took over {deadline_s}s at {i} objects"
        name = f"o/d{i // 1000:03d}/x{i:07d}"
        d = xxhash.xxh64_intdigest(f"ais/@#/{bucket}/{name}".encode(), seed=HRW_SEED)
        _, mps = max(tgts, key=lambda t: mix(t[0] ^ d))
        _, mp = max(mps, key=lambda m: mix(m[0] ^ d))
        path = os.path.join(mp, "@ais", bucket, "%ob", name)
        parent = os.path.dirname(path)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))


def test_list_many_objects_one_walk_per_target(cluster):
    bucket = "many%06d" % random.randrange(10**6)
    r = requests.post(f"{cluster.url}/v1/buckets/{bucket}", json=ACT("create-bck"))
    assert r.status_code == 200, r.text
    t0 = time.monotonic()
    fill_on_disk(cluster, bucket, N_LIST)
    fill_s = time.monotonic() - t0
    try:
        w0 = walks(cluster)
        t1 = time.monotonic()
        names, pages = _list_all(cluster, bucket, 10000)
        list_s = time.monotonic() - t1
        w1 = walks(cluster)
        assert len(names) == N_LIST and names == sorted(names) and len(set(names)) == N_LIST
        assert pages == (N_LIST + 9999) // 10000
        per_target = {t: w1[t] - w0[t] for t in w1}
        assert all(v == 1 for v in per_target.values()), per_target
        print(f"\n{N_LIST} objects: fill {fill_s:.1f}s, list {list_s:.1f}s "
              f"({N_LIST / max(list_s, 1e-9):.0f} names/s), walks {per_target}")
        # a second listing with an odd small page size is again one walk per target
        w0 = walks(cluster)
        names2, pages2 = _list_all(cluster, bucket, 997)
        assert names2 == names and pages2 == (N_LIST + 996) // 997
        assert all(walks(cluster)[t] - w0[t] == 1 for t in w0)
    finally:
        requests.delete(f"{cluster.url}/v1/buckets/{bucket}", json=ACT("destroy-bck"))


def test_list_interleaved_sessions_and_small_pages(cluster, bucket):
    """Two listings of one bucket in lock-step, odd page size: each sees everything once."""
    sess = requests.Session()
    want = sorted(f"d{i % 13}/x{i:04d}" for i in range(1200))
    with cf.ThreadPoolExecutor(8) as ex:
        rs = list(ex.map(lambda n: sess.put(obj_url(cluster, bucket, n), data=b"x").status_code, want))
    assert all(c == 200 for c in rs)
    w0 = walks(cluster)
    st = [{"token": "", "uuid": "", "names": []} for _ in range(2)]
    for _ in range(100):
        for s in st:
            body = {"prefix": "", "pagesize": 101, "uuid": s["uuid"], "props": "name",
                    "continuation_token": s["token"], "flags": "0", "target": ""}
            r = sess.get(f"{cluster.url}/v1/buckets/{bucket}", json=ACT("list", body))
            assert r.status_code == 200, r.text
            d = r.json()
            s["uuid"], s["token"] = d["uuid"], d["continuation_token"]
            s["names"] += [e["name"] for e in d["entries"]]
        if all(s["token"] == "" for s in st):
            break
    for s in st:
        assert s["names"] == want
    w1 = walks(cluster)
    assert all(w1[t] - w0[t] <= 2 for t in w1), (w0, w1)
