"""Goal: metasync is acknowledged per node. A bucket change is answered 200 only once every
target holds it; the primary shows each node's acked versions (what=metasync); a dead target
makes a change fail fast with an error naming it until it is evicted, then changes succeed; a
join storm (with some joiners dying right after joining) never drops a healthy node.

Method: a 1-gateway/3-target cluster on loopback. Visibility is checked on each target's own
what=bmd right after the 200. Extra targets are spawned with the harness's node layout (a
config.json per node dir, started with Cluster.restart), so the module teardown stops them and
scans their logs for sanitizer reports. The Smap is polled from a thread during the storm.
"""
import json
import os
import threading
import time

import pytest
import requests

from conftest import cluster_of, _free_base, wait_until

ACT = lambda action, value=None: {"action": action, "name": "", "value": value}  # noqa: E731


@pytest.fixture(scope="module")
def cl(request):
    yield from cluster_of(request, gateways=1, targets=3, mountpaths=1)


def daemon(url, what):
    return requests.get(url + "/v1/daemon", params={"what": what}, timeout=10).json()


def target_urls(cl):
    smap = cl.smap()
    return {tid: t["public_net"]["direct_url"] for tid, t in smap["tmap"].items()}


def bmd_names(url):
    return {b["name"] for b in daemon(url, "bmd")["buckets"]}


def create(cl, name, timeout=30):
    return requests.post(f"{cl.url}/v1/buckets/{name}", json=ACT("create-bck"), timeout=timeout)


def destroy(cl, name):
    return requests.delete(f"{cl.url}/v1/buckets/{name}", json=ACT("destroy-bck"), timeout=30)


def test_change_visible_on_every_target_at_200(cl):
    urls = target_urls(cl)
    assert len(urls) == 3
    for i in range(5):
        name = "ms%d" % i
        r = create(cl, name)
        assert r.status_code == 200, r.text
        for tid, u in urls.items():  # no polling: the 200 promises it is already there
            assert name in bmd_names(u), f"{name} missing on {tid} right after 200"
    for i in range(5):
        assert destroy(cl, "ms%d" % i).status_code == 200
        for tid, u in urls.items():
            assert "ms%d" % i not in bmd_names(u), tid


def test_per_node_acks_visible(cl):
    r = create(cl, "acks")
    assert r.status_code == 200, r.text
    ms = daemon(cl.url, "metasync")
    assert ms["primary"] is True
    bmd_v = int(daemon(cl.url, "bmd")["version"])
    assert ms["bmd_version"] == bmd_v
    assert ms["pushed"] >= ms["queued"] - 1 and ms["rounds"] >= 1
    for tid in target_urls(cl):
        n = ms["nodes"][tid]
        assert n["bmd_version"] >= bmd_v and n["in_sync"] is True, (tid, n)
        assert n["via"] in ("push", "keepalive", "join") and n["age_ms"] >= 0
        assert n["last_error"] == ""
    # a target's what=metasync is not the primary's business: it says so
    some = next(iter(target_urls(cl).values()))
    assert requests.get(some + "/v1/daemon", params={"what": "metasync"}, timeout=10).status_code in (200, 400)
    assert destroy(cl, "acks").status_code == 200


def _extra_target(cl, name, port):
    d = cl.node_dir(name)
    mp = os.path.join(d, "mp0")
    os.makedirs(os.path.join(d, "conf"), exist_ok=True)
    os.makedirs(mp, exist_ok=True)
    conf = {
        "role": "target",
        "confdir": os.path.join(d, "conf"),
        "host_net": {"hostname": "127.0.0.1", "port": str(port), "port_intra_control": str(port + 1000)},
        "proxy": {"primary_url": f"tcp://127.0.0.1:{cl.base + 1000}"},
        "fspaths": {mp: ""},
        "log": {"level": "info"},
        "dry_run": False,
    }
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(conf, f)
    return cl.restart(name)


def test_join_storm_keeps_healthy_nodes(cl):
    healthy = set(cl.smap()["tmap"]) | set(cl.smap()["pmap"])
    dropped, polls, stop = [], [0], threading.Event()

    def watch():
        while not stop.is_set():
            try:
                s = cl.smap()
                missing = healthy - set(s["tmap"]) - set(s["pmap"])
                if missing:
                    dropped.append((time.monotonic(), sorted(missing)))
                polls[0] += 1
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.05)

    w = threading.Thread(target=watch, daemon=True)
    w.start()
    base = _free_base(10)
    names = ["x%d" % i for i in range(10)]
    procs = {n: _extra_target(cl, n, base + i) for i, n in enumerate(names)}
    ids = {}
    try:
        def joined():
            tmap = cl.smap()["tmap"]
            for n in names:
                try:
                    ids[n] = cl.node_id(n)
                except OSError:
                    return False
            return all(ids[n] in tmap for n in names)

        wait_until(joined, 120, 0.1, what="10 extra targets joined")
        # three joiners die at once: pushes to them fail while bucket changes go on
        dead = names[:3]
        for n in dead:
            cl.kill9(n)
        for i in range(4):
            r = create(cl, "storm%d" % i)
            print("storm create:", r.status_code, r.text[:300])
            assert r.status_code in (200, 503, 504), r.text
        wait_until(lambda: not ({ids[n] for n in dead} & set(cl.smap()["tmap"])), 60, 0.2,
                   what="dead joiners evicted")
        live = {ids[n] for n in names[3:]}
        assert live <= set(cl.smap()["tmap"]), "a live joiner was dropped"
        r = create(cl, "storm-after")
        assert r.status_code == 200, r.text
    finally:
        for n in names[3:]:
            procs[n].terminate()
        for n in names[3:]:
            procs[n].wait(timeout=30)
        stop.set()
        w.join(5)
    assert polls[0] > 20
    assert not dropped, f"healthy nodes dropped from the Smap: {dropped[:5]}"
    wait_until(lambda: set(cl.smap()["tmap"]) | set(cl.smap()["pmap"]) == healthy, 60, 0.2,
               what="stopped joiners evicted")
    for i in range(4):
        destroy(cl, "storm%d" % i)
    assert destroy(cl, "storm-after").status_code == 200


def test_dead_target_named_until_evicted(cl):
    victim = "t2"
    vid = cl.node_id(victim)
    cl.kill9(victim)
    t0 = time.monotonic()
    outcomes = []
    ok = None
    for i in range(40):
        name = "dead%d" % i
        t = time.monotonic()
        r = create(cl, name, timeout=30)
        took = time.monotonic() - t
        # bounded: one push round to a dead node costs at most the RPC timeout (3 s) per
        # round, and a waiter waits at most 2 x timeout + 1 s
        assert took < 10, f"create took {took:.1f}s"
        outcomes.append((round(time.monotonic() - t0, 1), r.status_code))
        if r.status_code == 200:
            ok = name
            break
        assert r.status_code in (503, 504), r.text
        assert vid in r.json()["message"], r.text
        time.sleep(0.2)
    print("dead-target outcomes (t, status):", outcomes)
    assert ok is not None, f"never succeeded after the dead target's eviction: {outcomes}"
    assert vid not in cl.smap()["tmap"], "200 while the dead target is still in the Smap"
    ms = daemon(cl.url, "metasync")
    assert vid not in ms["nodes"]
    assert all(n["in_sync"] for n in ms["nodes"].values()), ms
    # it comes back and catches up (join reply + pushes)
    cl.restart(victim)
    wait_until(lambda: vid in cl.smap()["tmap"], 60, 0.2, what="victim rejoined")
    url = target_urls(cl)[vid]
    wait_until(lambda: ok in bmd_names(url), 30, 0.1, what="victim caught up")
    assert create(cl, "after-rejoin").status_code == 200
    assert "after-rejoin" in bmd_names(url)
    for i in range(len(outcomes)):
        destroy(cl, "dead%d" % i)
    destroy(cl, "after-rejoin")
