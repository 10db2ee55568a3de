"""Node logs: every line names its node; GET /v1/daemon?what=log on a node and
/v1/reverse/daemon?what=log with Ais-Node-Id through the gateway serve its current log as
text/plain (a tail by default, ?offset= and ?all=true for more, errors for a bad or past-the-end
offset and an unknown node); `ais log show|get` and `ais log get cluster` through the CLI; size
rotation with log.max_size / log.max_total set at runtime (aisnode.log.1, .2, the total bounded).

Method: a module cluster of 1 gateway and 2 targets started by scripts/deploy.sh, whose nodes
write their own <node dir>/aisnode.log (log_dir, scripts/node.sh); log lines are made by debug
level and requests that log; waits poll with deadlines.
"""
import os
import re
import subprocess

import pytest
import requests

from conftest import cluster_of, wait_until

LINE = re.compile(r"^[EWID] \d\d:\d\d:\d\d\.\d{6} (\S+) \S+:\d+ ")


@pytest.fixture(scope="module")
def lc(request):
    yield from cluster_of(request, targets=2, mountpaths=1)


def cli(c, *args):
    binary = os.path.join(c.build_dir, "cli", "ais")
    assert os.path.exists(binary), f"{binary} missing: build the `ais` target"
    env = dict(os.environ, AIS_ENDPOINT=c.url)
    env.pop("AIS_URL", None)
    return subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=60)


def node_url(c, nid):
    m = c.smap()
    sn = m["tmap"].get(nid) or m["pmap"][nid]
    return sn["public_net"]["direct_url"]


def test_every_line_names_its_node(lc):
    for name in ("gw0", "t0", "t1"):
        nid = lc.node_id(name)
        role = "G" if name.startswith("gw") else "T"
        with open(os.path.join(lc.node_dir(name), "aisnode.log"), errors="replace") as f:
            lines = [ln for ln in f.read().splitlines() if LINE.match(ln)]
        assert any("req=start" in ln for ln in lines), lines[:5]
        tags = {LINE.match(ln).group(1) for ln in lines}
        assert tags == {f"{role}[{nid}]"}, (name, tags)


def test_what_log_direct_and_through_gateway(lc):
    tid = lc.node_id("t0")
    for nid in (tid, lc.node_id("gw0")):
        r = requests.get(node_url(lc, nid) + "/v1/daemon", params={"what": "log"}, timeout=10)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/plain")
        assert f"[{nid}]" in r.text and "req=start" in r.text
        size = int(r.headers["Ais-Log-Size"])
        assert int(r.headers["Ais-Log-Offset"]) + len(r.content) == size
    hdr = {"Ais-Node-Id": tid}
    rev = lc.url + "/v1/reverse/daemon"
    r = requests.get(rev, params={"what": "log"}, headers=hdr, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain"), r.text
    assert f"T[{tid}]" in r.text and "req=start role=target" in r.text
    # all=true: the whole current file; offset: from there; past the end: 416; junk: 400.
    r = requests.get(rev, params={"what": "log", "all": "true"}, headers=hdr, timeout=10)
    assert r.status_code == 200 and r.headers["Ais-Log-Offset"] == "0", r.text
    size = int(r.headers["Ais-Log-Size"])
    r = requests.get(rev, params={"what": "log", "offset": str(size)}, headers=hdr, timeout=10)
    assert r.status_code == 200 and int(r.headers["Ais-Log-Offset"]) == size, r.text
    r = requests.get(rev, params={"what": "log", "offset": str(size + 10**9)}, headers=hdr,
                     timeout=10)
    assert r.status_code == 416 and "rotated" in r.json()["message"], r.text
    r = requests.get(node_url(lc, tid) + "/v1/daemon", params={"what": "log", "offset": "x"},
                     timeout=10)
    assert r.status_code == 400, r.text
    r = requests.get(rev, params={"what": "log"}, headers={"Ais-Node-Id": "nosuch"}, timeout=10)
    assert r.status_code == 404, r.text


def test_cli_log_show_and_get(lc, tmp_path):
    tid, gid = lc.node_id("t1"), lc.node_id("gw0")
    r = cli(lc, "log", "show", f"t[{tid}]", "--lines", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and all(f"T[{tid}]" in ln for ln in lines), r.stdout
    r = cli(lc, "show", "log", tid)
    assert r.returncode == 0 and "req=start role=target" in r.stdout, r.stderr
    r = cli(lc, "log", "get", tid, str(tmp_path) + "/")
    assert r.returncode == 0, r.stderr
    with open(tmp_path / f"{tid}.log") as f:
        assert "req=start role=target" in f.read()
    r = cli(lc, "log", "get", gid, str(tmp_path / "gw.log"))
    assert r.returncode == 0 and "gw.log" in r.stdout, r.stderr
    assert f"G[{gid}]" in (tmp_path / "gw.log").read_text()
    r = cli(lc, "log", "get", "cluster", str(tmp_path / "all"))
    assert r.returncode == 0, r.stderr
    ids = sorted(lc.node_id(n) for n in ("gw0", "t0", "t1"))
    assert sorted(os.listdir(tmp_path / "all")) == [f"{i}.log" for i in ids]
    r = cli(lc, "log", "show", "nosuch")
    assert r.returncode == 3 and "not in the cluster map" in r.stderr, r.stderr


def log_files(d):
    return {f: os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)
            if f.startswith("aisnode.log")}


def test_rotation_at_runtime(lc):
    tid = lc.node_id("t0")
    turl = node_url(lc, tid)
    d = lc.node_dir("t0")
    max_size, max_total = 4096, 16384
    r = requests.put(turl + "/v1/daemon/setconfig", timeout=10,
                     params={"log.max_size": "4KiB", "log.max_total": "16KiB", "log.level": "debug"})
    assert r.status_code == 200, r.text
    try:
        def rotated():
            # Each missing object is one debug line on the target.
            for i in range(50):
                requests.get(turl + f"/v1/objects/nosuch/o{i}", timeout=5)
            files = log_files(d)
            return "aisnode.log.2" in files and files
        files = wait_until(rotated, 60, what="t0's log to rotate twice")
        # The bound holds while lines keep coming.
        for i in range(200):
            requests.get(turl + f"/v1/objects/nosuch/p{i}", timeout=5)
        files = log_files(d)
        assert sum(files.values()) <= max_total + 2048, files
        assert "aisnode.log.5" not in files, files
        assert all(sz <= max_size + 2048 for sz in files.values()), files
        # what=log serves the new current file, through the gateway too.
        r = requests.get(lc.url + "/v1/reverse/daemon", params={"what": "log", "all": "true"},
                         headers={"Ais-Node-Id": tid}, timeout=10)
        assert r.status_code == 200 and int(r.headers["Ais-Log-Size"]) <= max_size + 2048
        assert "req=GET:/v1/objects/nosuch/p" in r.text or "aisnode.log.1" in files
    finally:
        r = requests.put(turl + "/v1/daemon/setconfig", timeout=10,
                         params={"log.max_size": "4MiB", "log.max_total": "64MiB",
                                 "log.level": "info"})
        assert r.status_code == 200, r.text
    cfg = requests.get(turl + "/v1/daemon", params={"what": "config"}, timeout=10).json()
    assert cfg["log"]["max_size"] == 4 << 20 and cfg["log_dir"] == d
