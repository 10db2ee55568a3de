"""Mountpath management and resilver on a target of its own cluster (1 gateway, 1 target).

Goal: a mountpath detached with objects on it loses none (all readable during and after, none
left on it); an attached one receives exactly the objects mountpath-HRW now puts there; a
restart with a mountpath missing starts, reports it disabled, keeps objects readable, and the
disk coming back (enable) restores everything; run-time changes survive a restart.
Method: real daemons; changes through the gateway with Ais-Node-Id (HTTP) and through the CLI;
a reader thread with a bounded loop during the detach; every wait is a poll with a deadline;
placement is checked on disk against the same HRW (XXH64 of the cleaned path, seed 1103515245).
"""
import os
import subprocess
import threading

import pytest
import requests
import xxhash

from conftest import cluster_of, wait_until
from test_cluster import mix

SEED = 1103515245
ACT = lambda a, v=None: {"action": a, "name": "", "value": v}  # noqa: E731
N = 120


@pytest.fixture(scope="module")
def rs(request):
    yield from cluster_of(request, gateways=1, targets=1, mountpaths=2)


def mp_pick(paths, bck, name):
    digest = xxhash.xxh64_intdigest(f"ais/@#/{bck}/{name}".encode(), seed=SEED)
    return max(paths, key=lambda p: mix(xxhash.xxh64_intdigest(p.encode(), seed=SEED) ^ digest))


def on_disk(mp, bck):
    ob = os.path.join(mp, "@ais", bck, "%ob")
    out = set()
    for root, _, files in os.walk(ob):
        out.update(os.path.relpath(os.path.join(root, f), ob) for f in files)
    return out


def mpaths(c, tid):
    """what=mountpaths of target tid through the gateway (None while it cannot answer)."""
    r = requests.get(c.url + "/v1/reverse/daemon", params={"what": "mountpaths"},
                     headers={"Ais-Node-Id": tid}, timeout=10)
    return r.json() if r.status_code == 200 else None


def mp_change(c, tid, action, path):
    r = requests.put(c.url + "/v1/daemon/mountpaths", json=ACT(action, path),
                     headers={"Ais-Node-Id": tid}, timeout=30)
    return r


def job_done(c, jid, timeout=60):
    def ended():
        st = requests.get(c.url + "/v1/cluster", params={"what": "status"}, json={"ID": jid}, timeout=10)
        return st.json() if st.status_code == 200 and st.json()["end_time"] != 0 else None
    return wait_until(ended, timeout=timeout, interval=0.1, what=f"resilver {jid}")


def body(name):
    return (name.encode() + b"|") * 40


def read_all(c, bck, names):
    bad = []
    with requests.Session() as s:
        for n in names:
            r = s.get(f"{c.url}/v1/objects/{bck}/{n}", timeout=30)
            if r.status_code != 200 or r.content != body(n):
                bad.append((n, r.status_code))
    return bad


@pytest.fixture(scope="module")
def filled(rs):
    bck = "rsl"
    r = requests.post(f"{rs.url}/v1/buckets/{bck}", json=ACT("create-bck"))
    assert r.status_code == 200, r.text
    names = [f"d{i % 7}/obj-{i}" for i in range(N)]
    with requests.Session() as s:
        for n in names:
            assert s.put(f"{rs.url}/v1/objects/{bck}/{n}", data=body(n), timeout=30).status_code == 200
    return bck, names


def test_detach_keeps_everything_readable(rs, filled):
    bck, names = filled
    tid = rs.node_id("t0")
    mp1, mp2 = (os.path.join(rs.node_dir("t0"), m) for m in ("mp1", "mp2"))
    assert on_disk(mp2, bck), "HRW should have put some objects on mp2"
    stop, errors, rounds = threading.Event(), [], [0]

    def reader():
        for _ in range(1000):  # bounded; stopped once the resilver ended
            if stop.is_set():
                return
            errors.extend(read_all(rs, bck, names[:40]))
            rounds[0] += 1

    th = threading.Thread(target=reader)
    th.start()
    try:
        r = mp_change(rs, tid, "detach-mp", mp2)
        assert r.status_code == 200, r.text
        job_done(rs, r.text)
        wait_until(lambda: mp2 not in str(mpaths(rs, tid)), 30, what="mp2 dropped")
    finally:
        stop.set()
        th.join(timeout=120)
    assert not errors, errors[:5]
    assert mpaths(rs, tid) == {"available": [mp1], "disabled": [], "waiting_dd": []}
    assert not on_disk(mp2, bck), "objects left on the detached mountpath"
    assert on_disk(mp1, bck) == set(names)
    assert not read_all(rs, bck, names)
    # Detaching the last one is refused; a second attach of a present path too.
    assert mp_change(rs, tid, "detach-mp", mp1).status_code == 409
    assert mp_change(rs, tid, "attach-mp", mp1).status_code == 409
    assert mp_change(rs, tid, "enable-mp", "/nonexistent").status_code == 404


def test_attach_moves_exactly_the_hrw_share(rs, filled):
    bck, names = filled
    tid = rs.node_id("t0")
    mp1, mp3 = (os.path.join(rs.node_dir("t0"), m) for m in ("mp1", "mp3"))
    os.makedirs(mp3, exist_ok=True)
    want3 = {n for n in names if mp_pick([mp1, mp3], bck, n) == mp3}
    assert 0 < len(want3) < len(names)
    e = dict(os.environ, AIS_ENDPOINT=rs.url)
    ais = os.path.join(rs.build_dir, "cli", "ais")
    r = subprocess.run([ais, "storage", "mountpath", "attach", tid, mp3], env=e,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    jid = r.stdout.strip().split()[-1]
    assert job_done(rs, jid)["err"] == ""
    assert on_disk(mp3, bck) == want3
    assert on_disk(mp1, bck) == set(names) - want3
    assert mpaths(rs, tid)["available"] == [mp1, mp3]
    assert not read_all(rs, bck, names)
    # disable + enable through the CLI: everything goes to mp1 and comes back.
    for verb, disk1 in (("disable", set(names)), ("enable", set(names) - want3)):
        r = subprocess.run([ais, "storage", "mountpath", verb, tid, mp3], env=e,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        job_done(rs, r.stdout.strip().split()[-1])
        assert on_disk(mp1, bck) == disk1
        assert not read_all(rs, bck, names)


def test_restart_with_missing_mountpath(rs, filled):
    bck, names = filled
    tid = rs.node_id("t0")
    mp1, mp3 = (os.path.join(rs.node_dir("t0"), m) for m in ("mp1", "mp3"))
    on3 = on_disk(mp3, bck)
    rs.kill9("t0")
    os.rename(mp3, mp3 + ".away")  # the disk is gone
    rs.restart("t0")
    wait_until(lambda: requests.get(rs.target_url(tid) + "/v1/health", timeout=2).status_code == 200,
               60, what="t0 back")
    # The persisted list (mp1, mp3) was used, not config's (mp1, mp2); mp3 is reported disabled.
    wait_until(lambda: mpaths(rs, tid) == {"available": [mp1], "disabled": [mp3], "waiting_dd": []},
               30, what="mp3 disabled")
    assert not os.path.exists(mp3), "a missing mountpath must not be re-created"
    with open(os.path.join(rs.node_dir("t0"), "aisnode.log"), errors="replace") as f:
        log = f.read()
    assert "starting without mountpath" in log and mp3 in log
    assert not read_all(rs, bck, [n for n in names if n not in on3])
    # The disk comes back: enabling it makes everything readable and placed again.
    os.rename(mp3 + ".away", mp3)
    r = mp_change(rs, tid, "enable-mp", mp3)
    assert r.status_code == 200, r.text
    job_done(rs, r.text)
    assert not read_all(rs, bck, names)
    want3 = {n for n in names if mp_pick([mp1, mp3], bck, n) == mp3}
    assert on_disk(mp3, bck) == want3 and on_disk(mp1, bck) == set(names) - want3
