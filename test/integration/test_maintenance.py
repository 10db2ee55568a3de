"""Maintenance, decommission and shutdown of nodes (PUT /v1/cluster start-maintenance,
stop-maintenance, decommission-node, shutdown-node; `ais cluster add-remove-nodes ...`).

Goal: a node in maintenance gets no new objects and its objects move to their HRW owners among
the active targets with no failed GET meanwhile; stop-maintenance moves them back; decommission
loses nothing, empties the node's mountpaths, removes it from the Smap for good and stops its
process; shutdown stops the process and every object reads back once the node returns; bad
requests get clear errors. Method: a 1-gateway/4-target cluster of its own, bounded reader
threads during each change, every wait a poll with a deadline, placement checked on disk
against the SDK's HRW formula over the targets not in maintenance.
"""
import os
import signal
import subprocess
import time

import pytest
import requests

from conftest import cluster_of, _alive, wait_until
from test_cli import ais_bin
from test_cluster import sdk_owner
from test_rebalance import Readers, assert_all_read, body, new_bucket, on_disk, put

MAINT, DECOMM = 4, 8


@pytest.fixture(scope="module")
def mc(request):
    yield from cluster_of(request, gateways=1, targets=4, mountpaths=2)


@pytest.fixture(scope="module")
def data(mc):
    """One bucket with objects spread over all targets: {name: bytes}."""
    bck = new_bucket(mc)
    sess = requests.Session()
    want = {}
    for i in range(400):
        name = f"m{i % 8}/obj-{i:04d}"
        want[name] = body(name, 1, 512 + (i * 53) % 3000)
        assert put(sess, mc, bck, name, want[name]) == 200
    return bck, want


def act(c, action, sid, **kw):
    return requests.put(c.url + "/v1/cluster", json={"action": action, "value": dict(sid=sid, **kw)},
                        timeout=60)


def owner(smap, bck, name):
    active = {k: v for k, v in smap["tmap"].items() if not v["flags"] & (MAINT | DECOMM)}
    return sdk_owner({"tmap": active}, bck, name)


def rebalanced(c, reb_id, timeout=120):
    def done():
        r = requests.get(c.url + "/v1/cluster", params={"what": "status"}, json={"ID": reb_id}, timeout=10)
        return r.status_code == 200 and r.json()["end_time"] != 0 and r.json()
    st = wait_until(done, timeout=timeout, interval=0.2, what=f"rebalance {reb_id} to finish")
    assert not st["aborted"] and not st["err"], st


def assert_placed(c, bck, names):
    smap = c.smap()
    held = on_disk(c, bck)
    bad = [(n, held.get(n), owner(smap, bck, n)) for n in names if held.get(n) != [owner(smap, bck, n)]]
    assert not bad, f"{len(bad)} objects not (only) on their HRW owner, e.g. {bad[:5]}"


def held_by(c, bck, tid):
    return [n for n, ids in on_disk(c, bck).items() if tid in ids]


def node_name(c, tid):
    return next(n for n in os.listdir(c.dir) if n.startswith("t") and c.node_id(n) == tid)


def quiet_readers(readers):
    readers.join()
    assert readers.gets > 0 and not readers.failed and not readers.wrong, \
        (readers.gets, readers.failed[:5], readers.wrong[:5])


def test_errors(mc):
    r = act(mc, "start-maintenance", "tNoSuchNode")
    assert r.status_code == 404 and "tNoSuchNode" in r.text, r.text
    r = act(mc, "decommission-node", mc.smap()["proxy_si"]["daemon_id"])
    assert r.status_code == 400 and "primary" in r.text, r.text
    r = requests.put(mc.url + "/v1/cluster", json={"action": "shutdown-node", "value": {}}, timeout=10)
    assert r.status_code == 400 and "sid" in r.text, r.text
    tid = sorted(mc.smap()["tmap"])[0]
    r = act(mc, "stop-maintenance", tid)  # not in maintenance: nothing to do
    assert r.status_code == 200 and r.text == "", r.text


def test_cli_maintenance(mc, data):
    bck, want = data
    tid = sorted(mc.smap()["tmap"])[-1]
    env = dict(os.environ, AIS_ENDPOINT=mc.url)
    env.pop("AIS_URL", None)

    def ais(*args):
        return subprocess.run([ais_bin(mc.build_dir), *args], env=env, capture_output=True, timeout=120)
    r = ais("cluster", "add-remove-nodes", "start-maintenance", "tMissing")
    assert r.returncode == 3 and b"tMissing" in r.stderr, r
    r = ais("cluster", "add-remove-nodes", "start-maintenance", tid)
    assert r.returncode == 0 and b"under maintenance" in r.stdout, r
    reb = r.stdout.decode().split('"')[3]  # Started rebalance "gN"
    assert reb.startswith("g"), r.stdout
    assert mc.smap()["tmap"][tid]["flags"] & MAINT
    rebalanced(mc, reb)
    r = ais("cluster", "membership", "stop-maintenance", tid)
    assert r.returncode == 0 and b"no longer under maintenance" in r.stdout, r
    rebalanced(mc, r.stdout.decode().split('"')[3])
    assert not mc.smap()["tmap"][tid]["flags"] & MAINT
    assert_placed(mc, bck, want)


def test_maintenance_moves_objects_off_and_back(mc, data):
    bck, want = data
    tid = sorted(mc.smap()["tmap"])[1]
    assert held_by(mc, bck, tid), "the target under test should hold objects"
    readers = Readers(mc, bck, want, n=3)
    try:
        r = act(mc, "start-maintenance", tid)
        assert r.status_code == 200 and r.text.startswith("g"), r.text
        rebalanced(mc, r.text)
    finally:
        quiet_readers(readers)
    node = mc.smap()["tmap"][tid]
    assert node["flags"] & MAINT, node  # still in the Smap, flagged
    assert not held_by(mc, bck, tid)
    assert_placed(mc, bck, want)
    again = act(mc, "start-maintenance", tid)  # idempotent, no new rebalance
    assert again.status_code == 200 and again.text == "", again.text
    # new objects never go to a node in maintenance
    sess = requests.Session()
    fresh = {f"new/{i}": body(f"new/{i}", 1, 700) for i in range(60)}
    for n, d in fresh.items():
        assert put(sess, mc, bck, n, d) == 200
    assert not held_by(mc, bck, tid)
    want.update(fresh)
    # a kill -9 and restart keeps the node in maintenance: the flags are the primary's
    name = node_name(mc, tid)
    mc.kill9(name)
    wait_until(lambda: tid not in mc.smap()["tmap"], timeout=30, what="dropped")
    mc.restart(name)
    wait_until(lambda: tid in mc.smap()["tmap"], timeout=60, what="back in the Smap")
    assert mc.smap()["tmap"][tid]["flags"] & MAINT
    wait_until(lambda: not held_by(mc, bck, tid), timeout=60, what="still empty after the restart")
    r = act(mc, "stop-maintenance", tid)
    assert r.status_code == 200 and r.text.startswith("g"), r.text
    rebalanced(mc, r.text)
    assert held_by(mc, bck, tid)
    assert_placed(mc, bck, want)
    assert_all_read(mc, bck, want)


def test_decommission_loses_nothing(mc, data):
    bck, want = data
    tid = sorted(mc.smap()["tmap"])[2]
    name = node_name(mc, tid)
    pid = mc.pid(name)
    assert held_by(mc, bck, tid)
    readers = Readers(mc, bck, want, n=3)
    try:
        r = act(mc, "decommission-node", tid)
        assert r.status_code == 200 and r.text.startswith("g"), r.text
        wait_until(lambda: tid not in mc.smap()["tmap"], 120, 0.2, what="decommissioned node to leave the Smap")
    finally:
        quiet_readers(readers)
    wait_until(lambda: not _alive(pid), 30, what="decommissioned node to exit")
    assert not held_by(mc, bck, tid)  # its mountpaths are empty of objects
    assert_all_read(mc, bck, want)
    assert_placed(mc, bck, want)
    jobs = requests.get(mc.url + "/v1/cluster", params={"what": "status_all"}, json={"Kind": "decommission"},
                        timeout=10).json()
    assert any(j["end_time"] != 0 and not j["err"] for j in jobs), jobs
    # restarted by hand, it is refused: never rejoins by itself
    p = mc.restart(name)
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            assert tid not in mc.smap()["tmap"]
            time.sleep(0.2)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)


def test_shutdown_node_and_return(mc, data):
    bck, want = data
    tid = sorted(mc.smap()["tmap"])[0]
    name = node_name(mc, tid)
    pid = mc.pid(name)
    r = act(mc, "shutdown-node", tid)
    assert r.status_code == 200, r.text
    assert tid not in mc.smap()["tmap"]
    wait_until(lambda: not _alive(pid), 30, what="shut-down node to exit")
    # objects not on the stopped node still read; the rest come back with it
    others = {n: d for n, d in want.items() if tid not in on_disk(mc, bck).get(n, [])}
    assert others and len(others) < len(want)
    assert_all_read(mc, bck, others)
    mc.restart(name)
    wait_until(lambda: tid in mc.smap()["tmap"], 60, 0.2, what="shut-down node to rejoin")
    assert_all_read(mc, bck, want)
    ver = int(mc.smap()["version"])
    rebalanced(mc, f"g{ver}")
    assert_placed(mc, bck, want)
