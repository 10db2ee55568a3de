"""What a new user meets in the first hour (issue 20): the server side, deploy and bench.

Goal: no request answers 200 for a setting that does nothing or a name that is wrong, every
refusal names what it refused, and the scripts a new user runs first (deploy.sh start/stop/
status, bench/run.sh against their own cluster) fail fast, say what they did, and undo what
they changed.
Method: one module cluster (1 gateway, 2 targets x 2 mountpaths) driven with requests; the
deploy checks run scripts/deploy.sh with private data dirs and ports (a busy port, a data dir
with no cluster) and clean up after themselves; bench/run.sh runs against the module cluster
with a stub nginx that fails, which makes the script exit right after it changed disk.fsync.
"""
import json
import os
import socket
import stat
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import BUILD, REPO, _free_base, cluster_of

ACT = lambda action, value=None: {"action": action, "name": "", "value": value}  # noqa: E731


@pytest.fixture(scope="module")
def cluster(request):
    yield from cluster_of(request, targets=2, mountpaths=2)


def msg(r):
    return r.json()["message"]


def node_configs(c):
    smap = c.smap()
    out = []
    for sid in list(smap["pmap"]) + list(smap["tmap"]):
        r = requests.get(c.url + "/v1/reverse/daemon", params={"what": "config"},
                         headers={"Ais-Node-Id": sid}, timeout=10)
        assert r.status_code == 200, r.text
        out.append(r.json())
    return out


# ------------------------------------------------------------ item 2: config keys

def test_setconfig_unknown_key_with_known_one_applies_nothing(cluster):
    u = cluster.url
    r = requests.put(u + "/v1/cluster/setconfig", params={"log.level": "debug", "nosuch": "1"})
    assert r.status_code == 400 and "nosuch" in msg(r), r.text
    r = requests.put(u + "/v1/cluster/setconfig",
                     params={"log.level": "debug", "disk.fsynk": "false", "host_net.port": "1"})
    assert r.status_code == 400, r.text
    assert "disk.fsynk" in msg(r) and "host_net.port" in msg(r) and "read-only" in msg(r)
    r = requests.put(u + "/v1/cluster", json=ACT("set-config", {"log": {"level": "debug"}, "nosuch": 1}))
    assert r.status_code == 400 and "nosuch" in msg(r), r.text
    assert all(c["log"]["level"] == "info" for c in node_configs(cluster))


# ------------------------------------------------------------ item 3: no setting that does nothing

def test_ec_enabling_refused_nothing_stored(cluster):
    """EC that this cluster cannot honour (2 targets: 1+1 needs 3) is refused, nothing stored."""
    u = cluster.url
    assert requests.post(u + "/v1/buckets/ec1", json=ACT("create-bck")).status_code == 200
    try:
        r = requests.patch(u + "/v1/buckets/ec1", json=ACT("set-bprops", {"ec": {"enabled": True}}))
        assert r.status_code == 400 and "needs at least 3 targets" in msg(r), r.text
        props = json.loads(requests.head(u + "/v1/buckets/ec1").headers["Ais-Bucket-Props"])
        assert props["ec"]["enabled"] is False, props
        # disabling stays allowed, so scripts that turn it off still work
        r = requests.patch(u + "/v1/buckets/ec1", json=ACT("set-bprops", {"ec": {"enabled": False}}))
        assert r.status_code == 200, r.text
    finally:
        requests.delete(u + "/v1/buckets/ec1", json=ACT("destroy-bck"))
    r = requests.post(u + "/v1/buckets/ec2", json=ACT("create-bck", {"ec": {"enabled": True}}))
    assert r.status_code == 400 and "erasure coding" in msg(r), r.text
    assert requests.head(u + "/v1/buckets/ec2").status_code == 404


# ------------------------------------------------------------ item 6: acceptance bugs

@pytest.mark.parametrize("name", ["a..b", "x..", "..y"])
def test_bucket_name_with_dotdot_refused(cluster, name):
    r = requests.post(f"{cluster.url}/v1/buckets/{name}", json=ACT("create-bck"))
    assert r.status_code == 400 and "'..'" in msg(r), r.text
    assert name not in [b["name"] for b in requests.get(cluster.url + "/v1/buckets").json()]


def test_bucket_name_with_single_dots_ok(cluster):
    u = cluster.url
    assert requests.post(u + "/v1/buckets/a.b.c", json=ACT("create-bck")).status_code == 200
    assert requests.delete(u + "/v1/buckets/a.b.c", json=ACT("destroy-bck")).status_code == 200


def test_post_without_action_creates_nothing(cluster):
    for body in (None, b"", b"{}"):
        r = requests.post(cluster.url + "/v1/buckets/noact", data=body)
        assert r.status_code == 400 and "no action" in msg(r), (body, r.text)
    assert requests.head(cluster.url + "/v1/buckets/noact").status_code == 404


def test_set_bprops_names_the_bad_property(cluster):
    u = cluster.url
    assert requests.post(u + "/v1/buckets/bp", json=ACT("create-bck")).status_code == 200
    try:
        for value, name in (({"bogus": 1}, '"bogus"'), ({"mirror": {"nope": True}}, '"mirror.nope"'),
                            ({"versioning": {"enabled": "yes"}}, '"versioning.enabled"'),
                            ({"bid": 5}, '"bid"')):
            r = requests.patch(u + "/v1/buckets/bp", json=ACT("set-bprops", value))
            assert r.status_code == 400 and name in msg(r), (value, r.text)
    finally:
        requests.delete(u + "/v1/buckets/bp", json=ACT("destroy-bck"))


def test_cluster_mountpaths_lists_targets_only(cluster):
    j = requests.get(cluster.url + "/v1/cluster", params={"what": "mountpaths"}).json()
    assert j["proxy"] == {}, j
    assert sorted(j["target"]) == sorted(cluster.smap()["tmap"])
    assert all(len(v["available"]) == cluster.mountpaths for v in j["target"].values()), j


@pytest.mark.parametrize("provider", ["aws", "s3", "gcp", "gs"])
def test_remote_buckets_refused(cluster, provider):
    r = requests.post(cluster.url + "/v1/buckets/rb", params={"provider": provider},
                      json=ACT("create-bck"))
    assert r.status_code == 400 and "remote buckets need no create" in msg(r), r.text
    assert requests.get(cluster.url + "/v1/buckets", params={"provider": provider}).json() == []


# ------------------------------------------------------------ items 1 and 4: deploy

def deploy(cmd, data_dir, port, timeout=60):
    env = dict(os.environ, AIS_DATA_DIR=data_dir, AIS_PORT=str(port), GATEWAYS="1", TARGETS="2",
               MOUNTPATHS="1", AIS_BIN=os.path.join(BUILD, "deploy", "aisnode"), DEADLINE_S="60")
    return subprocess.run(["bash", os.path.join(REPO, "scripts", "deploy.sh"), cmd], env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_kill_and_status_with_another_data_dir(cluster):
    empty = tempfile.mkdtemp(prefix="ais-it-none-")
    try:
        for cmd, rc in (("stop", 0), ("status", 1)):
            r = deploy(cmd, empty, 1)
            assert r.returncode == rc, (cmd, r.stdout, r.stderr)
            assert f"no cluster is running from {empty}" in r.stderr, r.stderr
            assert cluster.dir in r.stderr and f"AIS_DATA_DIR={cluster.dir} make kill" in r.stderr
        assert requests.get(cluster.url + "/v1/health", timeout=5).status_code == 200
        r = deploy("status", cluster.dir, cluster.base)
        assert r.returncode == 0 and r.stdout.count(": running (pid") == 1 + cluster.targets, r.stdout
    finally:
        os.rmdir(empty)


def test_deploy_busy_port_fails_fast_with_the_log_line():
    base = _free_base(3)
    d = tempfile.mkdtemp(prefix="ais-it-busy-")
    busy = socket.socket()
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    busy.bind(("127.0.0.1", base + 2))  # the second target's HTTP port
    busy.listen(1)
    try:
        t0 = time.monotonic()
        r = deploy("start", d, base)
        took = time.monotonic() - t0
        assert r.returncode != 0, r.stdout + r.stderr
        assert took < 20, took  # not the 60 s deadline
        assert "t1 exited while starting" in r.stderr and "Address already in use" in r.stderr, r.stderr
        st = deploy("status", d, base)
        assert "running (pid" not in st.stdout, st.stdout  # the nodes that started were stopped
    finally:
        busy.close()
        deploy("stop", d, base)
        subprocess.run(["rm", "-rf", d])


# ------------------------------------------------------------ item 8: bench restores disk.fsync

def test_bench_against_user_cluster_restores_fsync(cluster, tmp_path):
    assert all(c["disk"]["fsync"] is True for c in node_configs(cluster))
    stub = tmp_path / "bin"
    stub.mkdir()
    nginx = stub / "nginx"
    nginx.write_text("#!/bin/sh\necho 'stub nginx: refusing to start' >&2\nexit 1\n")
    nginx.chmod(nginx.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, BENCH_AIS_URL=cluster.url, BENCH_SKIP_BUILD="1", BUILD=BUILD,
               PATH=f"{stub}:{os.environ['PATH']}", TMPDIR=str(tmp_path))
    r = subprocess.run(["bash", os.path.join(REPO, "bench", "run.sh")], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode != 0, r.stderr  # stopped by the stub, after disk.fsync was turned off
    assert "setting disk.fsync=false" in r.stderr and "restored disk.fsync=true" in r.stderr, r.stderr
    assert all(c["disk"]["fsync"] is True for c in node_configs(cluster))


# ------------------------------------------------------------ item 7: quiet build

def test_make_build_is_quiet_unless_v1(tmp_path):
    """`make deploy` prints one build line (compiler output goes to <build>/build.log); V=1 shows
    it. Checked with `make -n`, which runs nothing."""
    b = str(tmp_path / "b")
    quiet = subprocess.run(["make", "-n", "-C", REPO, "deploy", f"BUILD={b}", "JOBS=2"], capture_output=True,
                           text=True, timeout=60)
    assert quiet.returncode == 0, quiet.stderr
    assert f"cmake --build {b} -j 2 >{b}/build.log 2>&1" in quiet.stdout, quiet.stdout
    loud = subprocess.run(["make", "-n", "-C", REPO, "deploy", f"BUILD={b}", "JOBS=2", "V=1"], capture_output=True,
                          text=True, timeout=60)
    assert f"cmake --build {b} -j 2\n" in loud.stdout and "build.log" not in loud.stdout, loud.stdout
