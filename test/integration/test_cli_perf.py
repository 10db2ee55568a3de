"""`ais show performance`: under a small PUT/GET load, the target that serves it shows nonzero
GET and PUT ops/s and MiB/s and a latency, the idle one none; --count N prints N reports,
--json the same numbers; `ais show cluster` shows each target's capacity (used, available,
used %).

Method: a module cluster of 1 gateway and 2 targets; one object name, so one target (its HRW
owner, read back from the cluster's stats) serves all the load, from a thread that PUTs and
GETs until the CLI returns. The CLI runs as a subprocess against the gateway.
"""
import os
import re
import subprocess
import threading

import pytest
import requests

from conftest import cluster_of

OBJ = os.urandom(256 << 10)


@pytest.fixture(scope="module")
def pc(request):
    yield from cluster_of(request, targets=2, mountpaths=1)


def cli(c, *args):
    binary = os.path.join(c.build_dir, "cli", "ais")
    assert os.path.exists(binary), f"{binary} missing: build the `ais` target"
    env = dict(os.environ, AIS_ENDPOINT=c.url)
    env.pop("AIS_URL", None)
    return subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=120)


def get_n(c):
    st = requests.get(c.url + "/v1/cluster", params={"what": "stats"}, timeout=10).json()
    return {tid: int(s["tracker"]["get.n"]["v"]) for tid, s in st["target"].items()}


def under_load(c, fn):
    """fn() while a thread PUTs and GETs ais://perf/o; returns fn's result and the target
    that served the load."""
    s = requests.Session()
    stop = threading.Event()
    url = c.url + "/v1/objects/perf/o"
    assert s.put(url, data=OBJ, timeout=30).status_code == 200
    before = get_n(c)
    errors = []

    def load():
        while not stop.is_set():
            try:
                s.put(url, data=OBJ, timeout=30).raise_for_status()
                s.get(url, timeout=30).raise_for_status()
            except requests.RequestException as e:
                errors.append(e)
                return

    t = threading.Thread(target=load)
    t.start()
    try:
        out = fn()
    finally:
        stop.set()
        t.join(60)
    assert not errors, errors
    after = get_n(c)
    served = [tid for tid in after if after[tid] > before.get(tid, 0)]
    assert len(served) == 1, (before, after)
    return out, served[0]


@pytest.fixture(scope="module")
def bucket_perf(pc):
    r = requests.post(pc.url + "/v1/buckets/perf", json={"action": "create-bck", "name": "", "value": None})
    assert r.status_code == 200, r.text
    return "perf"


def rows(text):
    """{node: [cells]} of every table in text (the last report wins)."""
    out = {}
    for ln in text.splitlines():
        cells = ln.split()
        if cells and cells[0].startswith("t["):
            out[cells[0][2:-1]] = cells[1:]
    return out


def test_show_performance_under_load(pc, bucket_perf):
    r, tid = under_load(pc, lambda: cli(pc, "show", "performance", "--count", "2", "--refresh", "1s"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("TARGET") == 2, r.stdout  # two reports
    assert r.stdout.splitlines()[0].split() == ["TARGET", "GET/s", "GET-MiB/s", "GET-LAT", "PUT/s",
                                                "PUT-MiB/s", "PUT-LAT", "ERRORS"], r.stdout
    table = rows(r.stdout)
    assert set(table) == set(get_n(pc)), r.stdout
    get_s, get_mibs, get_lat, put_s, put_mibs, put_lat, errs = table[tid]
    assert float(get_s) > 0 and float(get_mibs) > 0 and float(put_s) > 0 and float(put_mibs) > 0, r.stdout
    assert re.fullmatch(r"\d+(\.\d+)?(ns|us|ms|s)", get_lat) and put_lat != "-", r.stdout
    assert errs == "0", r.stdout
    idle = [t for t in table if t != tid]
    for t in idle:
        assert table[t][0] == "0" and table[t][2] == "-", r.stdout


def test_show_performance_json(pc, bucket_perf):
    import json
    r, tid = under_load(pc, lambda: cli(pc, "show", "perf", "--json", "--refresh", "500ms", "--count", "1"))
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert 300 <= j["interval_ms"] <= 5000, j
    p = j["target"][tid]
    assert p["get_ops"] > 0 and p["put_mibs"] > 0 and p["get_lat_ns"] > 0 and p["errors"] == 0, j


def test_show_cluster_capacity(pc):
    r = cli(pc, "show", "cluster", "target")
    assert r.returncode == 0, r.stderr
    hdr = r.stdout.splitlines()[0].split()
    assert hdr[4:7] == ["USED", "AVAIL", "USED%"], r.stdout
    table = rows(r.stdout)
    assert len(table) == 2, r.stdout
    for cells in table.values():
        used, avail, pct = cells[3:6]
        assert re.fullmatch(r"[\d.]+[KMGTP]?i?B", used) and re.fullmatch(r"[\d.]+[KMGTP]?i?B", avail), r.stdout
        assert re.fullmatch(r"\d+%", pct), r.stdout
