"""Goal: the loss of the primary gateway is a non-event. kill -9 of the primary under load gives
a new primary within seconds that every node agrees on, bucket changes work through every
surviving gateway, no acknowledged object is lost, the old primary rejoins as a non-primary, and
PUT /v1/cluster/proxy/<id> (and `ais cluster set-primary`) moves the primary on request and back.

Method: a 3-gateway/3-target cluster of its own on loopback. 4 client threads PUT and GET
through the two non-primary gateways while the primary is killed; every PUT answered 200 is
recorded and read back byte-exact at the end. Every wait is a poll with a deadline.
"""
import os
import random
import subprocess
import threading
import time

import pytest
import requests

from conftest import BUILD, cluster_of, wait_until

ACT = lambda action, value=None: {"action": action, "name": "", "value": value}  # noqa: E731


@pytest.fixture(scope="module")
def cl(request):
    yield from cluster_of(request, gateways=3, targets=3, mountpaths=1)


def gw_url(cl, i):
    return f"http://127.0.0.1:{cl.base + i}"


def smap_of(url):
    return requests.get(url + "/v1/daemon", params={"what": "smap"}, timeout=5).json()


def primary_of(url):
    return smap_of(url)["proxy_si"]["daemon_id"]


def acting(url):
    """The node's own view of its role (what=metasync says primary:true only on the primary)."""
    return requests.get(url + "/v1/daemon", params={"what": "metasync"}, timeout=5).json()["primary"]


def node_urls(cl, names):
    return [smap_of(gw_url(cl, 1))["pmap" if n.startswith("gw") else "tmap"][cl.node_id(n)]
            ["public_net"]["direct_url"] for n in names]


class Load:
    """4 threads: PUT new objects and GET back earlier ones through the given gateways."""

    def __init__(self, gws, bck):
        self.gws, self.bck = gws, bck
        self.acked, self.bad, self.stop = {}, [], threading.Event()
        self.mu = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(4)]

    def run(self, i):
        s = requests.Session()
        n = 0
        while not self.stop.is_set():
            gw = self.gws[n % len(self.gws)]
            name, data = f"t{i}/o{n}", os.urandom(random.randrange(1, 4096))
            n += 1
            try:
                if s.put(f"{gw}/v1/objects/{self.bck}/{name}", data=data, timeout=10).status_code == 200:
                    with self.mu:
                        self.acked[name] = data
                with self.mu:
                    old = random.choice(list(self.acked.items())) if self.acked else None
                if old is not None:
                    r = s.get(f"{gw}/v1/objects/{self.bck}/{old[0]}", timeout=10)
                    if r.status_code == 200 and r.content != old[1]:
                        with self.mu:
                            self.bad.append(old[0])
            except requests.RequestException:
                pass

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)


def test_primary_killed_under_load(cl):
    g0, g1, g2 = gw_url(cl, 0), gw_url(cl, 1), gw_url(cl, 2)
    old_id = cl.node_id("gw0")
    assert primary_of(g1) == old_id and acting(g0) and not acting(g1)
    assert requests.post(g1 + "/v1/buckets/el", json=ACT("create-bck")).status_code == 200
    with Load([g1, g2], "el") as load:
        wait_until(lambda: len(load.acked) >= 50, 30, what="some objects written")
        cl.kill9("gw0")
        t0 = time.monotonic()
        new_id = wait_until(lambda: primary_of(g1) != old_id and primary_of(g1), 30,
                            what="a new primary")
        elapsed = time.monotonic() - t0
        wait_until(lambda: len(load.acked) >= 150, 60, what="writes after the election")
    assert not load.bad, f"wrong bytes: {load.bad[:5]}"
    assert elapsed < 20, f"election took {elapsed:.1f}s"
    new_url = gw_url(cl, 1) if new_id == cl.node_id("gw1") else gw_url(cl, 2)
    wait_until(lambda: acting(new_url), 10, what="the new primary acting")
    # every surviving node agrees, and the dead primary is out of the map
    for url in [g1, g2] + node_urls(cl, ["t0", "t1", "t2"]):
        wait_until(lambda: primary_of(url) == new_id, 15, what=f"{url} following {new_id}")
        assert old_id not in smap_of(url)["pmap"]
    # bucket changes through every surviving gateway
    for i, gw in enumerate([g1, g2]):
        name = f"after{i}"
        assert requests.post(f"{gw}/v1/buckets/{name}", json=ACT("create-bck")).status_code == 200
        assert requests.put(f"{gw}/v1/objects/{name}/x", data=b"y").status_code == 200
        for other in [g1, g2]:
            assert requests.head(f"{other}/v1/buckets/{name}").status_code == 200
        assert requests.delete(f"{gw}/v1/buckets/{name}", json=ACT("destroy-bck")).status_code == 200
        assert requests.head(f"{gw}/v1/buckets/{name}").status_code == 404
    # 0 acknowledged objects lost
    lost = [n for n, d in load.acked.items()
            if requests.get(f"{g1}/v1/objects/el/{n}", timeout=10).content != d]
    assert not lost, f"{len(lost)} of {len(load.acked)} acknowledged objects lost: {lost[:5]}"

    # the old primary comes back (its config still says it is the primary): it joins as non-primary
    cl.restart("gw0", role="gateway")
    wait_until(lambda: requests.get(g0 + "/v1/health", timeout=2).status_code == 200, 60,
               what="old primary back")
    assert not acting(g0)
    assert primary_of(g0) == new_id
    wait_until(lambda: old_id in smap_of(new_url)["pmap"], 30, what="old primary in the Smap again")
    psi = smap_of(g0)["proxy_si"]
    assert psi["public_net"]["direct_url"] == new_url  # what the SDK's get_primary_url() reads
    assert requests.post(g0 + "/v1/buckets/back", json=ACT("create-bck")).status_code == 200
    assert requests.head(g1 + "/v1/buckets/back").status_code == 200
    assert requests.get(f"{g0}/v1/objects/el/{next(iter(load.acked))}").status_code == 200


def test_set_primary_and_back(cl):
    g0 = gw_url(cl, 0)
    cur = primary_of(g0)
    others = [cl.node_id(n) for n in ("gw0", "gw1", "gw2") if cl.node_id(n) != cur]
    to = others[0]
    r = requests.put(f"{g0}/v1/cluster/proxy/{to}")
    assert r.status_code == 200, r.text
    urls = [gw_url(cl, i) for i in range(3)] + node_urls(cl, ["t0", "t1", "t2"])
    for url in urls:
        wait_until(lambda: primary_of(url) == to, 15, what=f"{url} following {to}")
    to_url = next(u for u in urls[:3] if smap_of(u)["pmap"][to]["public_net"]["direct_url"] == u)
    wait_until(lambda: acting(to_url), 10, what="new primary acting")
    assert sum(acting(u) for u in urls[:3]) == 1
    # bucket changes go to the new primary from any gateway
    assert requests.post(f"{g0}/v1/buckets/moved", json=ACT("create-bck")).status_code == 200
    for u in urls[:3]:
        assert requests.head(f"{u}/v1/buckets/moved").status_code == 200
    # and back with the CLI, asked through a gateway that is not the primary (forwarded)
    asker = next(u for u in urls[:3] if u != to_url)
    r = subprocess.run([os.path.join(BUILD, "cli", "ais"), "cluster", "set-primary", cur],
                       env=dict(os.environ, AIS_ENDPOINT=asker), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and f"{cur} is the new primary" in r.stdout, r.stdout + r.stderr
    for url in urls:
        wait_until(lambda: primary_of(url) == cur, 15, what=f"{url} following {cur}")
    assert sum(acting(u) for u in urls[:3]) == 1
    assert requests.delete(f"{g0}/v1/buckets/moved", json=ACT("destroy-bck")).status_code == 200
    # errors: unknown node, a target
    assert requests.put(f"{g0}/v1/cluster/proxy/nosuch").status_code == 404
    assert requests.put(f"{g0}/v1/cluster/proxy/{cl.node_id('t0')}").status_code == 400
