"""n-way mirroring, bit-rot repair and scrub on one target with 3 mountpaths (1 gateway, 1 target).

Goal: a PUT into a mirrored bucket is answered with its copies in place (HEAD and disk agree);
changing mirror.copies later runs a make-n-copies job (id in the set-bprops answer) that adds or
removes copies; a flipped byte is repaired on a validating GET from the good copy; a scrub job
finds and repairs bad and missing copies and reports what it could not repair (never removing
the last copy); losing a whole mountpath's objects loses nothing of a mirrored bucket.
Method: real daemons; copies inspected and damaged on disk under the target's mountpaths;
jobs awaited by polling their status with a deadline.
"""
import os
import subprocess

import pytest
import requests

from conftest import cluster_of, wait_until

ACT = lambda a, v=None: {"action": a, "name": "", "value": v}  # noqa: E731
MPS = ("mp1", "mp2", "mp3")


@pytest.fixture(scope="module")
def mc(request):
    yield from cluster_of(request, gateways=1, targets=1, mountpaths=3)


def body(name, k=64):
    return (name.encode() + b"#") * k


def mk_bucket(c, name, props=None):
    r = requests.post(f"{c.url}/v1/buckets/{name}", json=ACT("create-bck"), timeout=30)
    assert r.status_code == 200, r.text
    if props:
        set_props(c, name, props)


def set_props(c, name, props):
    """set-bprops; waits for the make-n-copies job the answer names, if any."""
    r = requests.patch(f"{c.url}/v1/buckets/{name}", json=ACT("set-bprops", props), timeout=30)
    assert r.status_code == 200, r.text
    if r.text:
        assert r.text.startswith("n"), r.text
        job_wait(c, r.text)
    return r.text


def job_wait(c, jid, timeout=60):
    def ended():
        st = requests.get(c.url + "/v1/cluster", params={"what": "status"}, json={"ID": jid}, timeout=10)
        return st.json() if st.status_code == 200 and st.json()["end_time"] != 0 else None
    return wait_until(ended, timeout=timeout, interval=0.1, what=f"job {jid}")


def job_stats(c, jid):
    r = requests.get(c.url + "/v1/cluster", params={"what": "qryxstats"}, json={"ID": jid}, timeout=10)
    assert r.status_code == 200, r.text
    snaps = [s for arr in r.json().values() for s in arr if s["id"] == jid]
    assert snaps, r.text
    return snaps[0]


def copy_paths(c, bck, name):
    root = c.node_dir("t0")
    return [p for p in (os.path.join(root, m, "@ais", bck, "%ob", name) for m in MPS) if os.path.isfile(p)]


def put_all(c, bck, names, want_copies=None):
    with requests.Session() as s:
        for n in names:
            r = s.put(f"{c.url}/v1/objects/{bck}/{n}", data=body(n), timeout=30)
            assert r.status_code == 200, r.text
            if want_copies:
                assert r.headers.get("Ais-Mirror-Copies") == str(want_copies), dict(r.headers)


def bad_reads(c, bck, names, params=None):
    bad = []
    with requests.Session() as s:
        for n in names:
            r = s.get(f"{c.url}/v1/objects/{bck}/{n}", params=params, timeout=30)
            if r.status_code != 200 or r.content != body(n):
                bad.append((n, r.status_code, r.text[:120]))
    return bad


def flip(path):
    with open(path, "r+b") as f:
        b = f.read(1)
        f.seek(0)
        f.write(bytes([b[0] ^ 0xFF]))


def scrub(c, bck):
    r = requests.put(c.url + "/v1/cluster", json=ACT("start", {"Kind": "scrub", "Bck": {"name": bck, "provider": "ais"}}),
                     timeout=30)
    assert r.status_code == 200, r.text
    return r.text, job_wait(c, r.text)


def test_put_into_mirrored_bucket_makes_copies(mc):
    mk_bucket(mc, "m2", {"mirror": {"enabled": True, "copies": 2}})
    names = [f"dir{i % 3}/o{i}" for i in range(30)]
    put_all(mc, "m2", names, want_copies=2)
    for n in names:
        h = requests.head(f"{mc.url}/v1/objects/m2/{n}", allow_redirects=True, timeout=10)
        assert h.status_code == 200
        assert h.headers["Ais-Mirror-Copies"] == "2", dict(h.headers)
        assert len(set(h.headers["Ais-Mirror-Paths"].split(","))) == 2
        paths = copy_paths(mc, "m2", n)
        assert len(paths) == 2, paths
        for p in paths:
            with open(p, "rb") as f:
                assert f.read() == body(n)
    assert not bad_reads(mc, "m2", names)
    # Listing shows each object once although two files exist.
    r = requests.get(f"{mc.url}/v1/buckets/m2", json=ACT("list", {"props": "name"}),
                     headers={"Accept": "application/json"}, timeout=30)
    assert r.status_code == 200, r.text
    listed = [e["name"] for e in r.json()["entries"]]
    assert sorted(listed) == sorted(names)


def test_changing_copies_runs_make_n_copies(mc):
    mk_bucket(mc, "grow")
    names = [f"g{i}" for i in range(40)]
    put_all(mc, "grow", names)
    assert all(len(copy_paths(mc, "grow", n)) == 1 for n in names)
    jid = set_props(mc, "grow", {"mirror": {"enabled": True, "copies": 3}})
    assert jid, "a copies change answers the make-n-copies job id"
    st = job_wait(mc, jid)
    assert st["err"] == "" and st["kind"] == "make-n-copies", st
    assert all(len(copy_paths(mc, "grow", n)) == 3 for n in names)
    assert not bad_reads(mc, "grow", names)
    # Same effective copies again: no job.
    assert set_props(mc, "grow", {"mirror": {"copies": 3}}) == ""
    # Down to one copy (mirroring off): the extra copies go, the object stays.
    jid = set_props(mc, "grow", {"mirror": {"enabled": False}})
    assert jid
    assert all(len(copy_paths(mc, "grow", n)) == 1 for n in names)
    assert not bad_reads(mc, "grow", names)


def test_bitrot_repaired_by_validating_get(mc):
    mk_bucket(mc, "rot", {"mirror": {"enabled": True, "copies": 2}, "checksum": {"validate_warm_get": True}})
    names = [f"r{i}" for i in range(6)]
    put_all(mc, "rot", names, want_copies=2)
    for n in names:
        # The main copy (listed first) is the one an idle target reads: damage it.
        h = requests.head(f"{mc.url}/v1/objects/rot/{n}", allow_redirects=True, timeout=10)
        main = h.headers["Ais-Mirror-Paths"].split(",")[0]
        flip(os.path.join(main, "@ais", "rot", "%ob", n))
    assert not bad_reads(mc, "rot", names), "a good copy must be served"
    for n in names:
        paths = copy_paths(mc, "rot", n)
        assert len(paths) == 2, (n, paths)  # the bad copy was replaced by a good one
        for p in paths:
            with open(p, "rb") as f:
                assert f.read() == body(n)


def test_scrub_finds_and_repairs(mc):
    mk_bucket(mc, "scr", {"mirror": {"enabled": True, "copies": 2}})
    names = [f"s{i}" for i in range(20)]
    put_all(mc, "scr", names, want_copies=2)
    for n in names[:5]:
        flip(copy_paths(mc, "scr", n)[0])
    for n in names[5:8]:
        os.unlink(copy_paths(mc, "scr", n)[1])
    jid, st = scrub(mc, "scr")
    assert st["err"] == "" and st["kind"] == "scrub", st
    snap = job_stats(mc, jid)["stats"]
    assert snap["loc-objs"] == len(names), snap
    assert snap["out-objs"] == 5, snap  # bad copies found
    assert snap["in-objs"] == 8, snap  # 5 bad + 3 missing copies restored
    for n in names:
        paths = copy_paths(mc, "scr", n)
        assert len(paths) == 2, (n, paths)
        for p in paths:
            with open(p, "rb") as f:
                assert f.read() == body(n), (n, p)
    # Nothing left to repair.
    jid, st = scrub(mc, "scr")
    assert job_stats(mc, jid)["stats"]["out-objs"] == 0


def test_scrub_reports_unrepairable_and_keeps_it(mc):
    mk_bucket(mc, "one")
    put_all(mc, "one", ["a", "b"])
    p = copy_paths(mc, "one", "a")[0]
    flip(p)
    _, st = scrub(mc, "one")
    assert "1 object(s) corrupt with no good copy left" in st["err"], st
    assert os.path.isfile(p), "the last copy is kept for inspection"
    r = requests.get(f"{mc.url}/v1/objects/one/a", params={"validate-checksum": "true"}, timeout=10)
    assert r.status_code == 500 and "checksum mismatch" in r.text, r.text
    r = requests.put(mc.url + "/v1/cluster", json=ACT("start", {"Kind": "scrub", "Bck": {"name": "nosuch"}}), timeout=10)
    assert r.status_code == 404, r.text
    r = requests.put(mc.url + "/v1/cluster", json=ACT("start", {"Kind": "scrub"}), timeout=10)
    assert r.status_code == 400 and "needs a bucket" in r.text, r.text


def test_lost_mountpath_loses_nothing_of_mirrored_bucket(mc):
    mk_bucket(mc, "dl", {"mirror": {"enabled": True, "copies": 2}})
    names = [f"x/{i}" for i in range(40)]
    put_all(mc, "dl", names, want_copies=2)
    gone = os.path.join(mc.node_dir("t0"), "mp2", "@ais", "dl", "%ob")
    lost = [n for n in names if os.path.isfile(os.path.join(gone, n))]
    assert lost, "HRW should have put copies on mp2"
    for n in lost:  # the disk's objects are gone
        os.unlink(os.path.join(gone, n))
    assert not bad_reads(mc, "dl", names)
    _, st = scrub(mc, "dl")
    assert st["err"] == "", st
    assert all(len(copy_paths(mc, "dl", n)) == 2 for n in names)


def test_cli_mirror_and_scrub(mc):
    e = dict(os.environ, AIS_ENDPOINT=mc.url)
    ais = os.path.join(mc.build_dir, "cli", "ais")

    def run(*args):
        r = subprocess.run([ais, *args], env=e, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r.stdout

    run("bucket", "create", "ais://clim")
    put_all(mc, "clim", ["c1", "c2", "c3"])
    run("bucket", "props", "set", "ais://clim", "mirror.enabled=true", "mirror.copies=2")
    wait_until(lambda: all(len(copy_paths(mc, "clim", n)) == 2 for n in ("c1", "c2", "c3")), 30,
               what="make-n-copies from the CLI setting")
    assert "mirror.copies" in run("bucket", "props", "show", "ais://clim", "mirror")
    flip(copy_paths(mc, "clim", "c2")[1])
    out = run("job", "start", "scrub", "ais://clim")
    jid = out.split('"')[1]
    run("job", "wait", jid)
    snap = job_stats(mc, jid)["stats"]
    assert snap["out-objs"] == 1 and snap["in-objs"] == 1, snap
    for p in copy_paths(mc, "clim", "c2"):
        with open(p, "rb") as f:
            assert f.read() == body("c2")
    r = subprocess.run([ais, "job", "start", "scrub", "ais://nosuch"], env=e, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0 and "does not exist" in (r.stdout + r.stderr), (r.stdout, r.stderr)


def test_fshc_disables_dead_mountpath_and_reprotects(mc):
    """Last in the module: a mountpath's disk 'dies' (its root vanishes); FSHC disables it within a
    few periods, the resilver restores two copies of every mirrored object on the other two, and
    every object stays readable throughout; the disk coming back and an enable restore the set."""
    tid = mc.node_id("t0")
    root = os.path.join(mc.node_dir("t0"), "mp3")
    mk_bucket(mc, "fsh", {"mirror": {"enabled": True, "copies": 2}})
    names = [f"f{i}" for i in range(30)]
    put_all(mc, "fsh", names, want_copies=2)
    assert any(os.path.isfile(os.path.join(root, "@ais", "fsh", "%ob", n)) for n in names)

    def mpaths():
        r = requests.get(mc.url + "/v1/reverse/daemon", params={"what": "mountpaths"},
                         headers={"Ais-Node-Id": tid}, timeout=10)
        return r.json() if r.status_code == 200 else None

    os.rename(root, root + ".dead")
    try:
        wait_until(lambda: root in (mpaths() or {}).get("disabled", []), timeout=60, interval=0.2,
                   what="FSHC disabling the dead mountpath")
        assert not bad_reads(mc, "fsh", names)
        wait_until(lambda: all(len(copy_paths(mc, "fsh", n)) == 2 for n in names), timeout=60,
                   interval=0.2, what="resilver restoring two copies on the live mountpaths")
        assert not bad_reads(mc, "fsh", names)
    finally:
        os.rename(root + ".dead", root)
    r = requests.put(mc.url + "/v1/daemon/mountpaths", json=ACT("enable-mp", root),
                     headers={"Ais-Node-Id": tid}, timeout=30)
    assert r.status_code == 200, r.text
    if r.text:
        job_wait(mc, r.text)
    assert root in mpaths()["available"]
    assert not bad_reads(mc, "fsh", names)
    assert all(len(copy_paths(mc, "fsh", n)) == 2 for n in names)
