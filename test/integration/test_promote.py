"""Promote: files that sit on the target machines become objects (POST /v1/objects/<bck>
{"action":"promote"}), as the AIS SDK's Object.promote and the CLI send it.

Goal: a directory tree becomes one object per file, named prefix + relative path, byte-exact;
non-recursive promotes only the top level; a tree every target sees (here all targets share one
filesystem: a file share) is promoted once, each object by its HRW owner; a tree promoted from
one target (tid, not a share) sends each file to its owner; overwrite off keeps existing
objects, on replaces them; delete-source removes exactly the promoted files; sources outside
promote.root, relative paths, '..', missing paths and file names that cannot be object names
are refused with a clear error before anything is stored; symbolic links are never followed.
Method: a 3-target cluster whose promote.root is this test's temp dir; jobs are waited for
with the job API (polling with a deadline).
"""
import hashlib
import os
import tempfile

import pytest
import requests

from conftest import cluster_of, wait_until

ROOT = tempfile.mkdtemp(prefix="ais-promote-")


@pytest.fixture(scope="module")
def pc(request):
    yield from cluster_of(request, targets=3, env={"PROMOTE_ROOT": ROOT})


def mktree(name, files):
    base = os.path.join(ROOT, name)
    for rel, data in files.items():
        p = os.path.join(base, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    return base


def mkbucket(pc, b):
    r = requests.post(f"{pc.url}/v1/buckets/{b}", json={"action": "create-bck"}, timeout=30)
    assert r.status_code in (200, 409), r.text


def promote(pc, b, src, **value):
    body = {"action": "promote", "name": src, "value": {"src": src, **value}}
    return requests.post(f"{pc.url}/v1/objects/{b}", params={"provider": "ais"}, json=body,
                         timeout=60)


def wait_job(pc, job):
    def ended():
        st = requests.get(pc.url + "/v1/cluster", params={"what": "status"}, json={"ID": job},
                          timeout=10).json()
        return st if st["end_time"] > 0 else None
    return wait_until(ended, timeout=60, what=f"promote job {job}")


def promote_ok(pc, b, src, **value):
    r = promote(pc, b, src, **value)
    assert r.status_code == 200, r.text
    assert r.text.startswith("p"), r.text
    st = wait_job(pc, r.text)
    assert st["err"] == "" and not st["aborted"], st
    return r.text


def objects(pc, b):
    r = requests.get(f"{pc.url}/v1/buckets/{b}", json={"action": "list", "value": {"props": "name,size"}},
                     timeout=30)
    assert r.status_code == 200, r.text
    return {e["name"]: int(e["size"]) for e in r.json()["entries"] or []}


def get(pc, b, name):
    return requests.get(f"{pc.url}/v1/objects/{b}/{name}", timeout=30)


def job_objects(pc, job):
    snaps = requests.get(pc.url + "/v1/cluster", params={"what": "qryxstats"}, json={"ID": job},
                         timeout=10).json()
    return sum(int(s["stats"]["loc-objs"]) for v in snaps.values() for s in (v or []))


def stored_on(pc, b, name):
    """Node dirs (t0, t1, ...) holding a stored copy of ais://b/name."""
    out = set()
    for node in os.listdir(pc.dir):
        for root, _, files in os.walk(os.path.join(pc.dir, node)):
            out |= {node for f in files if os.path.join(root, f).endswith(f"/@ais/{b}/%ob/{name}")}
    return out


def test_directory_tree_recursive_is_promoted_once_by_owners(pc):
    files = {f"d{i % 3}/f{i:03d}.bin": os.urandom(1000 + i) for i in range(40)}
    files["empty"] = b""
    files["big.bin"] = os.urandom(3 << 20)
    src = mktree("tree", files)
    mkbucket(pc, "prm")
    job = promote_ok(pc, "prm", src, obj="ds/", rcr=True)
    got = objects(pc, "prm")
    assert got == {"ds/" + k: len(v) for k, v in files.items()}
    for k, v in files.items():
        r = get(pc, "prm", "ds/" + k)
        assert r.status_code == 200 and hashlib.sha256(r.content).digest() == hashlib.sha256(v).digest(), k
    # A file share: every target saw the tree, each promoted only its HRW share - once in all.
    assert job_objects(pc, job) == len(files)
    assert all(os.path.exists(os.path.join(src, k)) for k in files)  # no delete-source


def test_not_recursive_and_single_file(pc):
    src = mktree("flat", {"top1": b"1", "top2": b"22", "sub/deep": b"333"})
    mkbucket(pc, "flat")
    promote_ok(pc, "flat", src)
    assert objects(pc, "flat") == {"top1": 1, "top2": 2}
    promote_ok(pc, "flat", os.path.join(src, "sub", "deep"), obj="renamed")
    promote_ok(pc, "flat", os.path.join(src, "sub", "deep"), obj="pre/")
    assert get(pc, "flat", "renamed").content == b"333"
    assert get(pc, "flat", "pre/deep").content == b"333"


def test_one_target_not_a_share_sends_to_owners(pc):
    files = {f"x{i:02d}": os.urandom(500) for i in range(24)}
    src = mktree("one", files)
    mkbucket(pc, "one")
    tid = sorted(pc.smap()["tmap"])[0]
    job = promote_ok(pc, "one", src, tid=tid, obj="t/")
    for k, v in files.items():
        assert get(pc, "one", "t/" + k).content == v
    snaps = requests.get(pc.url + "/v1/cluster", params={"what": "qryxstats"}, json={"ID": job},
                         timeout=10).json()
    parts = {n: s for n, v in snaps.items() for s in (v or [])}
    assert set(parts) == {tid}, snaps  # only that target ran the job
    st = parts[tid]["stats"]
    assert int(st["loc-objs"]) == len(files)
    # With three targets, most of the 24 objects belong to the other two: sent there.
    assert 0 < int(st["out-objs"]) < len(files)
    owners = set()
    for k in files:
        owners |= stored_on(pc, "one", "t/" + k)
    assert len(owners) > 1, owners


def test_not_file_share_flag_promotes_from_every_target(pc):
    files = {f"n{i}": os.urandom(300) for i in range(6)}
    src = mktree("notshr", files)
    mkbucket(pc, "notshr")
    job = promote_ok(pc, "notshr", src, notshr=True, ovw=True)
    assert objects(pc, "notshr") == {k: 300 for k in files}
    for k, v in files.items():
        assert get(pc, "notshr", k).content == v
    assert job_objects(pc, job) == 3 * len(files)  # each of the 3 targets promoted all


def test_overwrite_rules(pc):
    src = mktree("ovw", {"a": b"new-a", "b": b"new-b"})
    mkbucket(pc, "ovw")
    assert requests.put(f"{pc.url}/v1/objects/ovw/a", data=b"old-a", timeout=30).status_code == 200
    promote_ok(pc, "ovw", src)
    assert get(pc, "ovw", "a").content == b"old-a"  # kept: overwrite off
    assert get(pc, "ovw", "b").content == b"new-b"
    promote_ok(pc, "ovw", src, ovw=True)
    assert get(pc, "ovw", "a").content == b"new-a"


def test_delete_source_removes_exactly_the_promoted(pc):
    src = mktree("dls", {"k1": b"1", "k2": b"2", "sub/k3": b"3"})
    mkbucket(pc, "dls")
    assert requests.put(f"{pc.url}/v1/objects/dls/k2", data=b"old", timeout=30).status_code == 200
    promote_ok(pc, "dls", src, dls=True, rcr=True)
    assert not os.path.exists(os.path.join(src, "k1"))
    assert not os.path.exists(os.path.join(src, "sub", "k3"))
    # k2 was not promoted (the object exists, no overwrite): its source stays.
    assert os.path.exists(os.path.join(src, "k2"))
    assert get(pc, "dls", "k1").content == b"1" and get(pc, "dls", "k2").content == b"old"


def test_symlinks_are_not_followed(pc):
    src = mktree("links", {"real": b"real"})
    outside = tempfile.NamedTemporaryFile(delete=False)
    outside.write(b"secret")
    outside.close()
    os.symlink(outside.name, os.path.join(src, "leak"))
    mkbucket(pc, "links")
    promote_ok(pc, "links", src)
    assert objects(pc, "links") == {"real": 4}
    os.unlink(outside.name)


@pytest.mark.parametrize("src,value,code,why", [
    ("relative/dir", {}, 400, "must be an absolute path"),
    (ROOT + "/../etc", {}, 400, "'..'"),
    ("/etc", {}, 400, "not under promote.root"),
    (ROOT + "/nosuch", {}, 404, "not found on any target"),
    (ROOT + "/nosuch", {"tid": "nosuchtarget"}, 404, "no such target"),
    ("", {}, 400, "empty"),
])
def test_bad_sources_are_refused(pc, src, value, code, why):
    mkbucket(pc, "bad")
    body = {"action": "promote", "name": src, "value": {"src": src, **value}}
    r = requests.post(f"{pc.url}/v1/objects/bad", json=body, timeout=30)
    assert r.status_code == code and why in r.json()["message"], r.text


def test_invalid_object_names_refused_before_anything_is_stored(pc):
    src = mktree("badnames", {"ok1": b"1", "bad\x01name": b"2", "ok2": b"3"})
    mkbucket(pc, "badnames")
    r = promote(pc, "badnames", src)
    assert r.status_code == 400, r.text
    msg = r.json()["message"]
    assert "not a valid object name" in msg and "bad" in msg, msg
    assert objects(pc, "badnames") == {}


def test_bucket_and_action_errors(pc):
    src = mktree("errs", {"f": b"1"})
    r = promote(pc, "nosuchbucket", src)
    assert r.status_code == 404, r.text
    r = requests.post(f"{pc.url}/v1/objects/bad", json={"action": "frobnicate"}, timeout=30)
    assert r.status_code == 400 and "frobnicate" in r.json()["message"]
    r = requests.post(f"{pc.url}/v1/objects/bad", data=b"{not json", timeout=30)
    assert r.status_code == 400 and "JSON" in r.json()["message"]
    empty = mktree("emptydir", {})
    os.makedirs(empty, exist_ok=True)
    mkbucket(pc, "bad")
    r = promote(pc, "bad", empty)
    assert r.status_code == 200 and r.text == ""  # nothing to do: no job


def test_kill9_of_an_owner_mid_promote_loses_nothing_acknowledged(pc):
    """A promote from one target pushes files to their owners; kill -9 of an owner mid-job:
    the job ends (error naming files, or finished), every object that exists is byte-exact,
    and a re-run after the restart completes the tree."""
    files = {f"k/{i:03d}": os.urandom(64 << 10) for i in range(300)}
    src = mktree("kill", files)
    mkbucket(pc, "kill")
    smap = pc.smap()
    tid = sorted(smap["tmap"])[0]
    names = {pc.node_id(n): n for n in ("t0", "t1", "t2")}
    victim = next(n for i, n in names.items() if i != tid)
    r = promote(pc, "kill", src, tid=tid, rcr=True)
    assert r.status_code == 200 and r.text, r.text
    job = r.text

    def progressed():
        return job_objects(pc, job) >= 30 or wait_job_done(pc, job)
    wait_until(progressed, 60, what="promote under way")
    pc.kill9(victim)
    st = wait_job(pc, job)
    assert not st["aborted"], st
    print("promote job after the kill:", st["err"][:200] or "finished")
    pc.restart(victim)
    vid = pc.node_id(victim)
    wait_until(lambda: vid in pc.smap()["tmap"] and requests.get(
        pc.target_url(vid) + "/v1/health", timeout=2).status_code == 200, 60,
        what=f"{victim} back and healthy")
    for k, v in files.items():
        g = get(pc, "kill", k)
        assert g.status_code in (200, 404), (k, g.status_code)
        if g.status_code == 200:
            assert g.content == v, k  # never torn or wrong
    promote_ok(pc, "kill", src, tid=tid, rcr=True)
    assert objects(pc, "kill") == {k: len(v) for k, v in files.items()}
    for k, v in files.items():
        assert get(pc, "kill", k).content == v, k


def wait_job_done(pc, job):
    st = requests.get(pc.url + "/v1/cluster", params={"what": "status"}, json={"ID": job},
                      timeout=10).json()
    return st["end_time"] > 0
