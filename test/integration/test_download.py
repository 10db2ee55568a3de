"""The downloader (#12, /v1/download, api.md §6.1): single, range and multi (list and map) jobs
from a local HTTP file server into an ais:// bucket.

Goal: every file lands byte for byte under the right name (0 bytes and multi-MiB included),
progress and counters are visible while the job runs, a 404 URL is reported by name, abort stops
a job on a slow server, remove forgets a finished job, listing filters by regex; bad requests
get 400 before anything is downloaded.
Method: Python's http.server (threaded, counting GETs, one path that trickles bytes slowly) on
loopback; a module cluster of 3 targets (each target downloads the names it owns).
"""
import hashlib
import os

import pytest
import requests

from conftest import FileServer, cluster_of, wait_until


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    counts = {}
    fs = FileServer(root, counts)
    (root / "d").mkdir()
    data = {}
    for i in range(40):
        data[f"f-{i:03d}.bin"] = hashlib.sha256(b"%d" % i).digest() * (100 + 37 * i)
    data["empty.bin"] = b""
    data["big.bin"] = os.urandom(6 << 20)
    for k, v in data.items():
        (root / "d" / k).write_bytes(v)
    yield fs.url, data, counts
    fs.stop()


@pytest.fixture(scope="module")
def dc(request):
    yield from cluster_of(request, targets=3)


def mkbucket(dc, name):
    r = requests.post(f"{dc.url}/v1/buckets/{name}", json={"action": "create-bck"}, timeout=30)
    assert r.status_code in (200, 409), r.text


def start(dc, body):
    r = requests.post(f"{dc.url}/v1/download", json=body, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["id"]


def status(dc, jid):
    r = requests.get(f"{dc.url}/v1/download", json={"id": jid}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def wait_done(dc, jid, timeout=120):
    return wait_until(lambda: (lambda s: s if s["finished_time"] else None)(status(dc, jid)),
                      timeout, what=f"download {jid}")


def obj(dc, bck, name):
    return requests.get(f"{dc.url}/v1/objects/{bck}/{name}", timeout=60)


B = {"name": "dl", "provider": "ais", "namespace": {"uuid": "", "name": ""}}


def test_range_template_lands_byte_exact(dc, files):
    url, data, _ = files
    mkbucket(dc, "dl")
    jid = start(dc, {"type": "range", "bucket": B, "description": "range-job",
                     "template": url + "/d/f-{000..039}.bin", "subdir": "imgs"})
    s = wait_done(dc, jid)
    assert s["finished_cnt"] == 40 and s["error_cnt"] == 0 and s["total"] == 40, s
    assert len(s["finished_tasks"]) == 40 and not s["aborted"]
    for i in range(40):
        k = f"f-{i:03d}.bin"
        r = obj(dc, "dl", "imgs/" + k)
        assert r.status_code == 200 and r.content == data[k], k
    job = requests.get(f"{dc.url}/v1/cluster", params={"what": "status"}, json={"id": jid},
                       timeout=10).json()
    assert job["kind"] == "download" and job["state"] == "finished", job


def test_single_multi_list_and_map_with_404(dc, files):
    url, data, _ = files
    mkbucket(dc, "dl")
    s = wait_done(dc, start(dc, {"type": "single", "bucket": B, "link": url + "/d/big.bin",
                                 "object_name": "one/big"}))
    assert s["finished_cnt"] == 1, s
    assert obj(dc, "dl", "one/big").content == data["big.bin"]
    s = wait_done(dc, start(dc, {"type": "multi", "bucket": B, "objects": [
        url + "/d/empty.bin", url + "/d/f-001.bin", url + "/d/nope.bin"]}))
    assert s["finished_cnt"] == 2 and s["error_cnt"] == 1, s
    assert [e["name"] for e in s["download_errors"]] == ["nope.bin"]
    assert "404" in s["download_errors"][0]["error"]
    r = obj(dc, "dl", "empty.bin")
    assert r.status_code == 200 and r.content == b""
    assert obj(dc, "dl", "nope.bin").status_code == 404  # nothing partial
    s = wait_done(dc, start(dc, {"type": "multi", "bucket": B, "objects": {
        "m/a": url + "/d/f-002.bin", "m/b": url + "/d/f-003.bin"}}))
    assert s["finished_cnt"] == 2, s
    assert obj(dc, "dl", "m/b").content == data["f-003.bin"]


def test_abort_list_regex_and_remove(dc, files):
    url, _, counts = files
    mkbucket(dc, "dl")
    jid = start(dc, {"type": "multi", "bucket": B, "description": "slowpoke-7",
                     "objects": [f"{url}/slow/{i}" for i in range(3)], "timeout": "30s"})
    wait_until(lambda: sum(v for k, v in counts.items() if k.startswith("/slow/")) >= 1, 30,
               what="the slow downloads to start")
    ls = requests.get(f"{dc.url}/v1/download", json={"id": "", "regex": "slowpoke-[0-9]+"},
                      timeout=30).json()
    assert [j["id"] for j in ls] == [jid] and not ls[0]["finished"]
    r = requests.delete(f"{dc.url}/v1/download/remove", json={"id": jid}, timeout=30)
    assert r.status_code == 400 and "still running" in r.json()["message"]
    assert requests.delete(f"{dc.url}/v1/download/abort", json={"id": jid},
                           timeout=30).status_code == 200
    s = wait_done(dc, jid, timeout=60)
    assert s["aborted"] and s["finished_cnt"] == 0, s
    for i in range(3):
        assert obj(dc, "dl", str(i)).status_code == 404
    assert requests.delete(f"{dc.url}/v1/download/remove", json={"id": jid},
                           timeout=30).status_code == 200
    assert requests.get(f"{dc.url}/v1/download", json={"id": jid}, timeout=30).status_code == 404


@pytest.mark.parametrize("body, why", [
    ({"type": "single", "bucket": B, "link": "ftp://x/y"}, "not an http"),
    ({"type": "range", "bucket": B, "template": "http://h/{9..1}"}, "invalid template"),
    ({"type": "single", "bucket": {"name": "nobucket", "provider": "ais"},
      "link": "http://h/x"}, "does not exist"),
    ({"type": "torrent", "bucket": B}, "not supported"),
    ({"type": "single", "bucket": B, "link": "http://h/x", "timeout": "soon"}, "timeout"),
])
def test_bad_requests_are_400(dc, body, why):
    mkbucket(dc, "dl")
    r = requests.post(f"{dc.url}/v1/download", json=body, timeout=30)
    assert r.status_code in (400, 404) and why in r.json()["message"], r.text


def test_reverse_proxy_serves_and_caches(dc, files):
    """http_proxy clients: curl -x and requests' proxies= get the origin's bytes through the
    gateway; the second read comes from the cluster (the origin sees one GET)."""
    import subprocess
    url, data, counts = files
    target = url + "/d/f-007.bin"
    r = requests.get(target, proxies={"http": dc.url}, timeout=30)
    assert r.status_code == 400 and "net.http.rproxy" in r.json()["message"]  # off by default
    r = requests.put(dc.url + "/v1/cluster/setconfig", params={"net.http.rproxy": "cloud"},
                     timeout=30)
    assert r.status_code == 200, r.text
    try:
        before = counts.get("/d/f-007.bin", 0)
        out = subprocess.run(["curl", "-sS", "--fail", "-x", dc.url, target], capture_output=True,
                             timeout=60)
        assert out.returncode == 0 and out.stdout == data["f-007.bin"], out.stderr
        r = requests.get(target, proxies={"http": dc.url}, timeout=30)
        assert r.status_code == 200 and r.content == data["f-007.bin"]
        r = requests.get(target, proxies={"http": dc.url}, headers={"Range": "bytes=5-9"},
                         timeout=30)
        assert r.status_code == 206 and r.content == data["f-007.bin"][5:10]
        assert counts.get("/d/f-007.bin", 0) == before + 1  # cached after the first read
        host = url.split("//")[1].replace(":", "-")
        r = requests.get(f"{dc.url}/v1/objects/{host}/d/f-007.bin", params={"provider": "ht"},
                         timeout=30)
        assert r.status_code == 200 and r.content == data["f-007.bin"]  # the same ht:// bucket
        r = requests.get(url + "/d/missing.bin", proxies={"http": dc.url}, timeout=30)
        assert r.status_code == 404
    finally:
        requests.put(dc.url + "/v1/cluster/setconfig", params={"net.http.rproxy": ""}, timeout=30)


def test_kill9_of_a_target_mid_download(dc, files):
    """kill -9 of a target while a range download runs: the job ends on its own (its errors
    name URLs, or the dead target's part), every object that exists is byte-exact, and a
    second run after the restart fills in the rest."""
    url, data, _ = files
    mkbucket(dc, "dlk")
    bk = dict(B, name="dlk")
    names = [f"f-{i:03d}.bin" for i in range(40)]
    jid = start(dc, {"type": "range", "bucket": bk, "template": url + "/d/f-{000..039}.bin"})
    wait_until(lambda: status(dc, jid)["finished_cnt"] >= 3 or status(dc, jid)["finished_time"],
               60, what="download under way")
    victim = "t1"
    dc.kill9(victim)
    s = wait_done(dc, jid, timeout=120)
    assert s["finished_cnt"] + s["error_cnt"] <= 40, s
    dc.restart(victim)
    vid = dc.node_id(victim)
    wait_until(lambda: vid in dc.smap()["tmap"] and requests.get(
        dc.target_url(vid) + "/v1/health", timeout=2).status_code == 200, 60,
        what=f"{victim} back and healthy")
    for k in names:
        r = obj(dc, "dlk", k)
        assert r.status_code in (200, 404), (k, r.status_code)
        if r.status_code == 200:
            assert r.content == data[k], k  # never torn or wrong
    s = wait_done(dc, start(dc, {"type": "range", "bucket": bk,
                                 "template": url + "/d/f-{000..039}.bin"}))
    assert s["error_cnt"] == 0, s
    for k in names:
        r = obj(dc, "dlk", k)
        assert r.status_code == 200 and r.content == data[k], k
