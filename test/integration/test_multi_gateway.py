"""Goal: any gateway serves the API; bucket changes made through a non-primary gateway are
forwarded to the primary and reach every node; a gateway that dies is dropped and rejoins.

Method: a 2-gateway/2-target cluster on loopback; requests alternate between gateways.
"""

import pytest
import requests

from conftest import cluster_of, wait_until

ACT = lambda action, value=None: {"action": action, "name": "", "value": value}  # noqa: E731


@pytest.fixture(scope="module")
def cluster2(request):
    yield from cluster_of(request, gateways=2, targets=2, mountpaths=1)


def test_non_primary_gateway(cluster2):
    g1, g2 = cluster2.url, f"http://127.0.0.1:{cluster2.base + 1}"
    smap = requests.get(g2 + "/v1/daemon", params={"what": "smap"}).json()
    assert len(smap["pmap"]) == 2 and smap["proxy_si"]["public_net"]["daemon_port"] == str(cluster2.base)
    assert requests.post(g2 + "/v1/buckets/mg", json=ACT("create-bck")).status_code == 200
    r = requests.post(g2 + "/v1/buckets/mg", json=ACT("create-bck"))
    assert r.status_code == 409 and 'bucket "ais://mg" already exists' in r.json()["message"]
    assert "mg" in [b["name"] for b in requests.get(g1 + "/v1/buckets").json()]
    for i in range(10):
        gw = g1 if i % 2 else g2
        assert requests.put(f"{gw}/v1/objects/mg/o{i}", data=b"%d" % i).status_code == 200
    for i in range(10):
        gw = g2 if i % 2 else g1
        assert requests.get(f"{gw}/v1/objects/mg/o{i}").content == b"%d" % i
    page = requests.get(g2 + "/v1/buckets/mg", json=ACT("list", {"pagesize": 4})).json()
    assert len(page["entries"]) == 4 and page["continuation_token"] == "o3"
    r = requests.patch(g2 + "/v1/buckets/mg", json=ACT("set-bprops", {"bogus": 1}))
    assert r.status_code == 400 and "unknown bucket property" in r.json()["message"]
    assert requests.delete(g2 + "/v1/buckets/mg", json=ACT("destroy-bck")).status_code == 200
    assert requests.head(g1 + "/v1/buckets/mg").status_code == 404


def test_gateway_dies_and_rejoins(cluster2):
    gid = cluster2.node_id("gw1")
    cluster2.kill9("gw1")
    wait_until(lambda: gid not in cluster2.smap()["pmap"], 30, what="dead gateway dropped")
    cluster2.restart("gw1", role="gateway")
    wait_until(lambda: gid in cluster2.smap()["pmap"], 60, what="gateway rejoined")
    g2 = f"http://127.0.0.1:{cluster2.base + 1}"
    wait_until(lambda: requests.get(g2 + "/v1/health").status_code == 200, 30, what="gw1 healthy")
    assert requests.post(g2 + "/v1/buckets/again", json=ACT("create-bck")).status_code == 200
    assert requests.put(g2 + "/v1/objects/again/x", data=b"y").status_code == 200
