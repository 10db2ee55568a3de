"""Capacity: out-of-space PUTs, watermark knobs and LRU (api.md §4 lru, §5.4b space).

Goal: a target whose mountpath reaches space.out_of_space answers PUTs with 507 and a clear
message (never a crash or a partial object), also when the disk fills in the middle of a body;
earlier objects stay readable byte for byte and no work file is left; deleting objects brings
PUTs back; above space.highwm the LRU job runs and never evicts an ais:// object (they may be
the only copy); the space/lru knobs are in the cluster config and settable, crossed
watermarks are refused.
Method: a 1-gateway/1-target cluster whose one mountpath is a 64 MiB tmpfs mounted before the
target starts (root only; skipped otherwise), lru.capacity_upd_time=1s. Every wait polls with a
deadline. The helpers (fill_until_507, lru_jobs, wait_lru_after, ...) are meant for the
remote-bucket eviction test too: fill a remote bucket above highwm, read some objects
(their atime moves), wait for an LRU job that ended after the fill, and check that the
evicted ones are the least recently read, that usage is at lowwm and that ais:// objects of
the same mountpath all remain.
"""
import hashlib
import json
import os
import shutil
import subprocess

import pytest
import requests
from conftest import Cluster, wait_until
from s3peer import S3rver, backend_env

MB = 1 << 20
TMPFS_MB = 64


def ACT(action, value=None, name=""):
    return {"action": action, "name": name, "value": value}


@pytest.fixture(scope="module")
def sp(request):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    s3 = S3rver()  # the remote bucket's backend (test_lru_evicts_remote)
    s3.client().create_bucket(Bucket="lru-remote")
    request.addfinalizer(s3.stop)
    c = Cluster(gateways=1, targets=1, mountpaths=1, env=backend_env(s3))
    c.s3 = s3
    c.mp = os.path.join(c.node_dir("t0"), "mp1")
    os.makedirs(c.mp)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs", c.mp],
                       capture_output=True, text=True)
    if r.returncode != 0:
        shutil.rmtree(c.dir, ignore_errors=True)
        pytest.skip("cannot mount tmpfs: " + r.stderr.strip())
    failed0 = request.session.testsfailed
    try:
        c.start()
        setconfig(c, **{"lru.capacity_upd_time": "1s"})
        yield c
    finally:
        c.stop()
        reports = c.sanitizer_reports()
        tail = ""
        if request.session.testsfailed > failed0:
            with open(os.path.join(c.node_dir("t0"), "aisnode.log"), errors="replace") as f:
                tail = "\n".join([ln for ln in f.read().splitlines() if not ln.startswith("I ")][-30:])
        subprocess.run(["umount", "-l", c.mp], check=False)
        if not reports and not os.environ.get("AIS_KEEP"):
            shutil.rmtree(c.dir, ignore_errors=True)
    assert not reports, "sanitizer reports in daemon logs:\n" + "\n".join(reports)
    assert not tail, "a test of this module failed; t0 log (warnings and errors):\n" + tail


def setconfig(c, **kv):
    r = requests.put(c.url + "/v1/cluster/setconfig", params=kv, timeout=30)
    assert r.status_code == 200, r.text


def cluster_config(c):
    return requests.get(c.url + "/v1/cluster", params={"what": "cluster_config"}, timeout=10).json()


def used_pct(c):
    st = os.statvfs(c.mp)
    return 100.0 * (st.f_blocks - st.f_bavail) / st.f_blocks


def work_files(c, bck, provider="ais"):
    wk = os.path.join(c.mp, "@" + provider, bck, "%wk")
    return [os.path.join(r, f) for r, _, fs in os.walk(wk) for f in fs] if os.path.isdir(wk) else []


def data(name, size):
    """size bytes that differ per object (a wrong or partial read cannot match)."""
    seed = hashlib.sha256(name.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def mk_bucket(c, bck, provider="ais", props=None):
    r = requests.post(f"{c.url}/v1/buckets/{bck}", params={"provider": provider},
                      json=ACT("create-bck"), timeout=30)
    assert r.status_code == 200, r.text
    if props:
        r = requests.patch(f"{c.url}/v1/buckets/{bck}", params={"provider": provider},
                           json=ACT("set-bprops", props), timeout=30)
        assert r.status_code == 200, r.text


def rm_bucket(c, bck, provider="ais"):
    """Destroys the bucket and waits until the tmpfs is (almost) empty again."""
    requests.delete(f"{c.url}/v1/buckets/{bck}", params={"provider": provider},
                    json=ACT("destroy-bck"), timeout=30)
    wait_until(lambda: used_pct(c) < 5, timeout=30, what="bucket removal to free the tmpfs")


def put(s, c, bck, name, body, provider="ais"):
    return s.put(f"{c.url}/v1/objects/{bck}/{name}", params={"provider": provider}, data=body,
                 timeout=60)


def fill_until_507(c, bck, size, limit=400, provider="ais", prefix="o"):
    """PUTs distinct objects of size bytes until one gets 507. Returns (stored names, that 507
    response). Any answer other than 200/507 fails."""
    names = []
    with requests.Session() as s:
        for i in range(limit):
            n = f"{prefix}{i:04d}"
            r = put(s, c, bck, n, data(n, size), provider)
            if r.status_code == 507:
                return names, r
            assert r.status_code == 200, (n, r.status_code, r.text)
            names.append(n)
    raise AssertionError(f"no 507 after {limit} PUTs of {size} bytes (used {used_pct(c):.1f}%)")


def bad_reads(c, bck, names, size, provider="ais"):
    bad = []
    with requests.Session() as s:
        for n in names:
            r = s.get(f"{c.url}/v1/objects/{bck}/{n}", params={"provider": provider}, timeout=60)
            if r.status_code != 200 or r.content != data(n, size):
                bad.append((n, r.status_code, len(r.content)))
    return bad


def lru_jobs(c):
    """Every target's "lru" JobSnaps (what=qryxstats), as one list."""
    r = requests.get(c.url + "/v1/cluster", params={"what": "qryxstats"}, json={"Kind": "lru"},
                     timeout=10)
    if r.status_code == 404:  # no such job (yet)
        return []
    assert r.status_code == 200, r.text
    return [s for arr in (r.json() or {}).values() for s in (arr or []) if s.get("kind") == "lru"]


def wait_lru_after(c, seen_ids, timeout=30):
    """Waits for an LRU job not in seen_ids to end; returns its JobSnap."""
    def done():
        snaps = [s for s in lru_jobs(c) if s["id"] not in seen_ids and s["is_idle"]]
        return snaps[0] if snaps else None
    return wait_until(done, timeout=timeout, interval=0.2, what="an LRU job to run and end")


def evicted_objs(snap):
    return int(snap["stats"]["loc-objs"])


def test_space_knobs(sp):
    cc = cluster_config(sp)
    assert cc["space"] == {"cleanupwm": 65, "lowwm": 75, "highwm": 90, "out_of_space": 95}, cc["space"]
    assert cc["lru"]["enabled"] is True
    assert cc["lru"]["dont_evict_time"] == "2h"
    assert cc["lru"]["capacity_upd_time"] == "1s"
    setconfig(sp, **{"space.highwm": "80"})
    assert cluster_config(sp)["space"]["highwm"] == 80
    # One request may move several watermarks; a crossed result is refused as a whole.
    setconfig(sp, **{"space.lowwm": "82", "space.highwm": "88"})
    r = requests.put(sp.url + "/v1/cluster/setconfig", params={"space.highwm": "70"}, timeout=30)
    assert r.status_code == 400 and "lowwm < highwm" in r.text, r.text
    r = requests.put(sp.url + "/v1/cluster/setconfig", params={"space.out_of_space": "101"}, timeout=30)
    assert r.status_code == 400, r.text
    assert cluster_config(sp)["space"]["highwm"] == 88
    setconfig(sp, **{"space.lowwm": "75", "space.highwm": "90"})
    assert cluster_config(sp)["space"] == {"cleanupwm": 65, "lowwm": 75, "highwm": 90, "out_of_space": 95}
    # Bucket props: lru.* is part of the props and settable.
    mk_bucket(sp, "props", props={"lru": {"enabled": False, "dont_evict_time": "30m"}})
    r = requests.head(f"{sp.url}/v1/buckets/props", timeout=10)
    assert r.status_code == 200, r.text
    props = json.loads(r.headers["Ais-Bucket-Props"])
    assert props["lru"]["enabled"] is False and props["lru"]["dont_evict_time"] == "30m", props["lru"]
    r = requests.patch(f"{sp.url}/v1/buckets/props", json=ACT("set-bprops", {"lru": {"dont_evict_time": "x"}}),
                       timeout=30)
    assert r.status_code == 400, r.text
    rm_bucket(sp, "props")


def test_out_of_space_ais_bucket(sp):
    bck = "full"
    mk_bucket(sp, bck)
    seen = {s["id"] for s in lru_jobs(sp)}
    try:
        names, r = fill_until_507(sp, bck, MB)
        assert names, "nothing fit"
        assert used_pct(sp) >= 90, used_pct(sp)
        # The cached usage is re-read within 100ms: the clear refusal comes at once or soon.
        with requests.Session() as s:
            def refused():
                r = put(s, sp, bck, "late", data("late", MB))
                assert r.status_code == 507, (r.status_code, r.text)
                return r.text if "insufficient storage" in r.text else None  # a 507 Response is falsy
            msg = wait_until(refused, timeout=10, what="a 507 naming the full mountpath")
        assert f"PUT ais://{bck}/late: insufficient storage: mountpath {sp.mp} is" in msg, msg
        assert "(out_of_space 95%)" in msg, msg
        assert requests.get(sp.url + "/v1/health", timeout=10).status_code == 200
        wait_until(lambda: not work_files(sp, bck), timeout=10, what="no work files left")
        assert bad_reads(sp, bck, names, MB) == []
        h = requests.head(f"{sp.url}/v1/objects/{bck}/late", timeout=10, allow_redirects=True)
        assert h.status_code == 404, "a refused PUT left an object"
        # Above highwm: LRU runs (capacity_upd_time=1s) and evicts none of the ais:// objects.
        snap = wait_lru_after(sp, seen)
        assert evicted_objs(snap) == 0, snap
        assert bad_reads(sp, bck, names, MB) == []
        # A cold GET of a remote object has nowhere to go either: 507, nothing cached.
        sp.s3.client().put_object(Bucket="lru-remote", Key="cold-full", Body=b"z" * MB)
        r = requests.get(f"{sp.url}/v1/objects/lru-remote/cold-full", params={"provider": "aws"},
                         timeout=60)
        assert r.status_code == 507 and "cannot cache" in r.json()["message"], r.text
        assert not on_disk(sp, "lru-remote", "cold-full", "aws")
        sp.s3.client().delete_object(Bucket="lru-remote", Key="cold-full")
        # LRU on request, as the CLI's `ais job start lru` sends it.
        r = requests.put(sp.url + "/v1/cluster", json=ACT("start", {"kind": "lru"}), timeout=30)
        assert r.status_code == 200 and r.text.startswith("l"), r.text
        wait_until(lambda: any(j["id"] == r.text and j["is_idle"] for j in lru_jobs(sp)), 30,
                   what="the requested LRU job to run")
        # Deleting brings PUTs back (the cached usage is re-read within 100ms).
        with requests.Session() as s:
            for n in names[: len(names) // 2]:
                assert s.delete(f"{sp.url}/v1/objects/{bck}/{n}", timeout=30).status_code == 200
            wait_until(lambda: put(s, sp, bck, "again", data("again", MB)).status_code == 200,
                       timeout=10, what="PUTs to succeed after deletes")
        assert bad_reads(sp, bck, names[len(names) // 2:] + ["again"], MB) == []
    finally:
        rm_bucket(sp, bck)


def test_enospc_mid_body(sp):
    """out_of_space=100 lets PUTs through until the very end: the disk fills during a body."""
    bck = "midbody"
    size = MB + 4096  # 257 pages: 63 fit in 64 MiB and the 64th cannot
    mk_bucket(sp, bck)
    setconfig(sp, **{"space.out_of_space": "100"})
    try:
        names, r = fill_until_507(sp, bck, size)
        assert "No space left" in r.text or "insufficient storage" in r.text, r.text
        assert "write failed" in r.text, "expected the disk to fill during the body: " + r.text
        assert requests.get(sp.url + "/v1/health", timeout=10).status_code == 200
        wait_until(lambda: not work_files(sp, bck), timeout=10, what="the partial work file to go")
        h = requests.head(f"{sp.url}/v1/objects/{bck}/o{len(names):04d}", timeout=10, allow_redirects=True)
        assert h.status_code == 404, "the failed PUT left an object"
        assert bad_reads(sp, bck, names, size) == []
    finally:
        setconfig(sp, **{"space.out_of_space": "95"})
        rm_bucket(sp, bck)


def on_disk(c, bck, name, provider):
    return os.path.exists(os.path.join(c.mp, "@" + provider, bck, "%ob", name))


def check_lru_evicts_remote(c, provider, bck, size=MB):
    """The remote-bucket LRU check, for a remote bucket provider://bck that exists and is
    empty on the backend: fills it until the tmpfs is above highwm (PUTs write through, the
    local copies are the cache), with an ais:// bucket's objects beside them, reads the first
    quarter again (GET moves their atime), makes everything evictable (dont_evict_time 0s),
    and waits for an LRU job. Then: usage is at lowwm (within one object), the evicted objects
    are exactly the least recently read ones (unread ones in PUT order), no ais:// object is
    gone, and every object still reads back (cold GET for the evicted)."""
    mk_bucket(c, "lru-ais")
    if provider != "ais":  # a remote bucket needs no create: the first request adds it
        r = requests.head(f"{c.url}/v1/buckets/{bck}", params={"provider": provider}, timeout=30)
        assert r.status_code == 200, r.headers
    seen = {s["id"] for s in lru_jobs(c)}
    with requests.Session() as s:
        local = []
        for i in range(8):  # 8 MiB that must survive
            n = f"keep{i}"
            assert put(s, c, "lru-ais", n, data(n, size)).status_code == 200
            local.append(n)
        names = []
        setconfig(c, **{"lru.enabled": "false"})  # nothing goes before the reads below
        try:
            while used_pct(c) < 92:
                n = f"r{len(names):04d}"
                r = put(s, c, bck, n, data(n, size), provider)
                assert r.status_code == 200, r.text
                names.append(n)
            reread = names[: len(names) // 4]
            for n in reread:
                assert s.get(f"{c.url}/v1/objects/{bck}/{n}", params={"provider": provider},
                             timeout=60).status_code == 200
            r = s.patch(f"{c.url}/v1/buckets/{bck}", params={"provider": provider},
                        json=ACT("set-bprops", {"lru": {"dont_evict_time": "0s"}}), timeout=30)
            assert r.status_code == 200, r.text
        finally:
            setconfig(c, **{"lru.enabled": "true"})
    snap = wait_lru_after(c, seen)
    gone = [n for n in names if not on_disk(c, bck, n, provider)]
    assert gone and evicted_objs(snap) >= len(gone), (snap, gone)
    unread = [n for n in names if n not in reread]
    assert gone == unread[: len(gone)], gone  # oldest access first
    assert used_pct(c) <= 75 + 100.0 * size / (TMPFS_MB * MB) + 1, used_pct(c)
    assert all(on_disk(c, "lru-ais", n, "ais") for n in local)
    assert bad_reads(c, "lru-ais", local, size) == []
    assert bad_reads(c, bck, names, size, provider) == []
    requests.delete(f"{c.url}/v1/buckets/lru-ais", json=ACT("destroy-bck"), timeout=30)


def test_lru_evicts_remote(sp):
    check_lru_evicts_remote(sp, "aws", "lru-remote")  # the bucket must exist on the backend
