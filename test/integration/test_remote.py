"""Remote buckets (#11): aws:// in front of a real S3 server (s3rver from npm) on loopback.

Goal: cold GET follows the seed's rule exactly — the backend is asked if and only if the object
is not here, its checksum is bad, or its version is outdated (versioning.validate_warm_get) —
checked by the request counter of a proxy between the cluster and the S3 server; one fetch for
64 concurrent clients; range reads; backend errors mapped to clear statuses with nothing
stored; listing with the cached flag; prefetch/evict jobs with exact failed lists; write-through
PUT and DELETE; the CLI's s3:// buckets.
Method: module cluster (2 targets) whose nodes read AWS_ENDPOINT_URL / AWS_ACCESS_KEY_ID from
their environment, as a user's would; objects are written to the S3 server directly with boto3.
"""
import concurrent.futures
import hashlib
import os
import re
import subprocess

import pytest
import requests

from conftest import BUILD, Cluster, wait_until
from s3peer import backend_env, remote_cluster, s3_peer

BCK = "data"
Q = {"provider": "aws"}


@pytest.fixture(scope="module")
def peer():
    yield from s3_peer(BCK)


@pytest.fixture(scope="module")
def rc(request, peer):
    yield from remote_cluster(request, peer)


def put_remote(s3, key, data):
    s3.put_object(Bucket=BCK, Key=key, Body=data)
    return data


def get(rc, key, **kw):
    return requests.get(f"{rc.url}/v1/objects/{BCK}/{key}", params=dict(Q, **kw.pop("params", {})),
                        timeout=60, **kw)


def set_props(rc, props):
    r = requests.patch(f"{rc.url}/v1/buckets/{BCK}", params=Q,
                       json={"action": "set-bprops", "value": props}, timeout=30)
    assert r.status_code == 200, r.text


def local_files(rc, key):
    out = []
    for root, _, files in os.walk(rc.dir):
        if "@aws" in root and "%ob" in root:
            out += [os.path.join(root, f) for f in files if f == key]
    return out


def wait_local(rc, key, n=1):
    """The fill publishes the object right after its last byte reached the clients."""
    return wait_until(lambda: len(local_files(rc, key)) == n and local_files(rc, key), 30,
                      what=f"{key} stored locally")


def wait_job(rc, jid, timeout=60):
    def done():
        r = requests.get(f"{rc.url}/v1/cluster", params={"what": "status"}, json={"id": jid},
                         timeout=10)
        j = r.json()
        return j if j.get("end_time") else None
    return wait_until(done, timeout, what=f"job {jid}")


def test_cold_get_then_warm_get_is_local(rc, peer):
    _, p, s3 = peer
    data = put_remote(s3, "cold/a", os.urandom(300_000))
    p.reset()
    r = get(rc, "cold/a")
    assert r.status_code == 200 and r.content == data
    assert p.count("GET", "cold/a") == 1
    for _ in range(3):
        r = get(rc, "cold/a")
        assert r.status_code == 200 and r.content == data
    assert p.count("GET", "cold/a") == 1 and p.count("HEAD", "cold/a") == 0, p.counts
    wait_local(rc, "a")
    # The cold read and the warm ones land in their own histograms (tier label), TTFB too.
    def hist_count(text, name, labels):
        m = re.search(r"^%s_count\{%s\} (\d+)" % (name, re.escape(labels)), text, re.M)
        return int(m.group(1)) if m else 0
    texts = [requests.get(u + "/metrics", timeout=10).text
             for u in (t["public_net"]["direct_url"] for t in rc.smap()["tmap"].values())]
    assert sum(hist_count(t, "ais_latency_seconds", 'op="get",tier="cold"') for t in texts) >= 1
    assert sum(hist_count(t, "ais_ttfb_seconds", 'tier="cold"') for t in texts) >= 1
    assert sum(hist_count(t, "ais_latency_seconds", 'op="get",tier="warm"') for t in texts) >= 3
    assert sum(hist_count(t, "ais_ttfb_seconds", 'tier="warm"') for t in texts) >= 3


def test_absent_object_is_404_and_stores_nothing(rc, peer):
    _, p, _ = peer
    r = get(rc, "cold/nope")
    assert r.status_code == 404 and "does not exist" in r.json()["message"]
    assert local_files(rc, "nope") == []


def test_bad_checksum_refetches(rc, peer):
    _, p, s3 = peer
    data = put_remote(s3, "cold/rot", os.urandom(200_000))
    assert get(rc, "cold/rot").content == data
    (path,) = wait_local(rc, "rot")
    with open(path, "r+b") as f:  # bit rot, same size, xattrs untouched
        f.seek(1000)
        b = f.read(1)
        f.seek(1000)
        f.write(bytes([b[0] ^ 0xFF]))
    p.reset()
    r = get(rc, "cold/rot", params={"validate-checksum": "true"})
    assert r.status_code == 200 and r.content == data
    assert p.count("GET", "cold/rot") == 1
    wait_until(lambda: open(wait_local(rc, "rot")[0], "rb").read() == data, 30,
               what="the good copy stored")


def test_outdated_version_refetches_only_with_validate_warm_get(rc, peer):
    _, p, s3 = peer
    old = put_remote(s3, "cold/ver", b"old" * 1000)
    assert get(rc, "cold/ver").content == old
    wait_local(rc, "ver")
    new = put_remote(s3, "cold/ver", b"new!" * 1000)
    p.reset()
    assert get(rc, "cold/ver").content == old  # no validation: the cached copy is served
    assert p.total() == 0
    set_props(rc, {"versioning": {"validate_warm_get": True}})
    try:
        r = get(rc, "cold/ver")
        assert r.status_code == 200 and r.content == new
        assert p.count("HEAD", "cold/ver") == 1 and p.count("GET", "cold/ver") == 1
        p.reset()
        assert get(rc, "cold/ver").content == new  # current now: HEAD only
        assert p.count("HEAD", "cold/ver") == 1 and p.count("GET", "cold/ver") == 0
        s3.delete_object(Bucket=BCK, Key="cold/ver")
        r = get(rc, "cold/ver")
        assert r.status_code == 404 and "deleted at the backend" in r.json()["message"]
        assert local_files(rc, "ver") == []
    finally:
        set_props(rc, {"versioning": {"validate_warm_get": False}})


def test_64_concurrent_cold_gets_make_one_fetch(rc, peer):
    _, p, s3 = peer
    data = put_remote(s3, "cold/big", os.urandom(16 << 20))
    want = hashlib.md5(data).hexdigest()
    p.reset()
    p.delay_s = 0.3  # every client arrives while the one fetch is in flight
    try:
        with concurrent.futures.ThreadPoolExecutor(64) as ex:
            got = list(ex.map(lambda _: hashlib.md5(get(rc, "cold/big").content).hexdigest(),
                              range(64)))
    finally:
        p.delay_s = 0
    assert got == [want] * 64
    assert p.count("GET", "cold/big") == 1, p.counts


def test_cold_range_read(rc, peer):
    _, p, s3 = peer
    data = put_remote(s3, "cold/range", os.urandom(4 << 20))
    r = get(rc, "cold/range", headers={"Range": "bytes=1000-1999"})
    assert r.status_code == 206 and r.content == data[1000:2000]
    assert r.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
    r = get(rc, "cold/range", headers={"Range": "bytes=-10"})
    assert r.status_code == 206 and r.content == data[-10:]


def test_backend_5xx_and_stall_give_clear_status_and_store_nothing(rc, peer):
    _, p, s3 = peer
    data = put_remote(s3, "cold/flaky", os.urandom(50_000))
    p.fail["cold/flaky"] = 503
    try:
        r = get(rc, "cold/flaky")
        assert r.status_code == 502 and "503" in r.json()["message"], r.text
    finally:
        p.fail.clear()
    assert local_files(rc, "flaky") == []
    put_remote(s3, "cold/slow", b"x" * 1000)
    p.hold_s["cold/slow"] = 12  # longer than the nodes' 8 s stall timeout
    try:
        r = get(rc, "cold/slow")
        assert r.status_code == 504, r.text
    finally:
        p.hold_s.clear()
    assert local_files(rc, "slow") == []
    assert get(rc, "cold/flaky").content == data


def test_list_has_cached_flag_and_pages(rc, peer):
    _, p, s3 = peer
    for i in range(25):
        put_remote(s3, f"ls/o{i:03d}", b"%d" % i)
    assert get(rc, "ls/o003").status_code == 200
    wait_local(rc, "o003")
    names, token, flags = [], "", {}
    for _ in range(10):
        r = requests.get(f"{rc.url}/v1/buckets/{BCK}", params=Q, timeout=30, json={
            "action": "list", "value": {"prefix": "ls/", "pagesize": 10, "props": "name,size,cached",
                                        "continuation_token": token}})
        assert r.status_code == 200, r.text
        j = r.json()
        names += [e["name"] for e in j["entries"]]
        flags.update({e["name"]: e["flags"] for e in j["entries"]})
        token = j["continuation_token"]
        if not token:
            break
    assert names == [f"ls/o{i:03d}" for i in range(25)]
    assert flags["ls/o003"] & 64 and not flags["ls/o004"] & 64


def test_prefetch_with_failures_then_rerun_fetches_only_those(rc, peer):
    _, p, s3 = peer
    n = 100
    for i in range(n):
        put_remote(s3, f"pf/{i:03d}", os.urandom(1000 + i))
    bad = {f"pf/{i:03d}" for i in (7, 42)}
    for k in bad:
        p.fail[k] = 500
    p.reset()
    body = {"action": "prefetch-listrange", "value": {"template": "pf/{000..099}"}}
    try:
        r = requests.post(f"{rc.url}/v1/buckets/{BCK}", params=Q, json=body, timeout=30)
        assert r.status_code == 200, r.text
        j = wait_job(rc, r.text)
    finally:
        p.fail.clear()
    assert j["state"] == "error" and "failed 2 of 100" in j["err"], j
    assert all(k in j["err"] for k in bad)
    assert p.total("GET") == n
    p.reset()
    r = requests.post(f"{rc.url}/v1/buckets/{BCK}", params=Q, json=body, timeout=30)
    j = wait_job(rc, r.text)
    assert j["state"] == "finished" and j["err"] == "", j
    assert {k for (m, k), c in p.counts.items() if m == "GET" and c} == bad
    for k in bad:
        assert get(rc, k).status_code == 200
    assert p.total("GET") == 2


def test_evict_listrange_and_bucket(rc, peer):
    _, p, s3 = peer
    data = put_remote(s3, "ev/one", os.urandom(5000))
    put_remote(s3, "ev/two", os.urandom(5000))
    assert get(rc, "ev/one").status_code == 200 and get(rc, "ev/two").status_code == 200
    wait_local(rc, "one")
    wait_local(rc, "two")
    r = requests.delete(f"{rc.url}/v1/buckets/{BCK}", params=Q, timeout=30,
                        json={"action": "evict-listrange", "value": {"objnames": ["ev/one"]}})
    assert r.status_code == 200, r.text
    assert wait_job(rc, r.text)["state"] == "finished"
    assert local_files(rc, "one") == [] and len(local_files(rc, "two")) == 1
    p.reset()
    assert get(rc, "ev/one").content == data and p.count("GET", "ev/one") == 1
    r = requests.delete(f"{rc.url}/v1/buckets/{BCK}", params=dict(Q, keep_bck_md="true"),
                        json={"action": "evict-remote-bck"}, timeout=30)
    assert r.status_code == 200, r.text
    assert local_files(rc, "one") == [] and local_files(rc, "two") == []
    assert s3.get_object(Bucket=BCK, Key="ev/two")["ContentLength"] == 5000  # backend intact


def test_put_and_delete_write_through(rc, peer):
    _, p, s3 = peer
    r = requests.put(f"{rc.url}/v1/objects/{BCK}/wt/obj", params=Q, data=b"through" * 100,
                     timeout=30)
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=BCK, Key="wt/obj")["Body"].read() == b"through" * 100
    p.reset()
    assert get(rc, "wt/obj").content == b"through" * 100 and p.total("GET") == 0
    r = requests.delete(f"{rc.url}/v1/objects/{BCK}/wt/obj", params=Q, timeout=30)
    assert r.status_code == 200, r.text
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BCK, Key="wt/obj")
    assert local_files(rc, "obj") == []


def test_missing_remote_bucket_is_404(rc):
    r = requests.get(f"{rc.url}/v1/objects/nosuchbucket/x", params=Q, timeout=30)
    assert r.status_code == 404 and "nosuchbucket" in r.json()["message"]
    r = requests.head(f"{rc.url}/v1/buckets/nosuchbucket", params=Q, timeout=30)
    assert r.status_code == 404


def test_cli_ls_get_prefetch_evict(rc, peer, tmp_path):
    _, p, s3 = peer
    data = put_remote(s3, "cli/x", os.urandom(7000))
    ais = os.path.join(BUILD, "cli", "ais")
    env = dict(os.environ, AIS_ENDPOINT=rc.url)

    def run(*a):
        r = subprocess.run([ais, *a], env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, (a, r.stdout, r.stderr)
        return r.stdout
    assert "cli/x" in run("ls", "s3://data", "--prefix", "cli/")
    out = tmp_path / "x"
    run("get", "s3://data/cli/x", str(out))
    assert out.read_bytes() == data


def test_wrong_credentials_are_403(request, peer):
    _, p, s3 = peer
    put_remote(s3, "auth/x", b"secret")
    c = Cluster(targets=1, env=backend_env(p, key="WRONG")).start()
    try:
        r = requests.get(f"{c.url}/v1/objects/{BCK}/auth/x", params=Q, timeout=30)
        assert r.status_code == 403 and "answered 403" in r.json()["message"], r.text
    finally:
        c.stop()


def copy_req(rc, src, dst, value, action="copy-bck", provider="aws"):
    r = requests.post(f"{rc.url}/v1/buckets/{src}", params={"provider": provider,
                                                            "bck_to": f"ais/@#/{dst}/"},
                      json={"action": action, "value": value}, timeout=30)
    return r


def ais_get(rc, bck, key):
    return requests.get(f"{rc.url}/v1/objects/{bck}/{key}", timeout=60)


def test_copy_remote_bucket_to_ais(rc, peer):
    _, p, s3 = peer
    want = {f"cp/{i:02d}": os.urandom(3000 + i) for i in range(30)}
    for k, v in want.items():
        put_remote(s3, k, v)
    assert get(rc, "cp/05").status_code == 200  # one already cached: copied from the cluster
    p.reset()
    r = copy_req(rc, BCK, "copied", {"prefix": "cp/", "prepend": "x-"})
    assert r.status_code == 200, r.text
    j = wait_job(rc, r.text)
    assert j["state"] == "finished" and j["err"] == "", j
    for k, v in want.items():
        got = ais_get(rc, "copied", "x-" + k)
        assert got.status_code == 200 and got.content == v, k
    assert p.count("GET", "cp/05") == 0 and p.count("GET", "cp/06") == 1
    # ais -> ais, a list: only those
    r = copy_req(rc, "copied", "copied2", {"objnames": ["x-cp/01", "x-cp/02"]},
                 action="copy-listrange", provider="ais")
    assert r.status_code == 200, r.text
    assert wait_job(rc, r.text)["state"] == "finished"
    assert ais_get(rc, "copied2", "x-cp/01").content == want["cp/01"]
    assert ais_get(rc, "copied2", "x-cp/03").status_code == 404
    # ais -> ais, whole bucket
    r = copy_req(rc, "copied", "copied3", {}, provider="ais")
    assert wait_job(rc, r.text)["state"] == "finished"
    ls = requests.get(f"{rc.url}/v1/buckets/copied3", json={"action": "list", "value": {}},
                      timeout=30).json()
    assert sorted(e["name"] for e in ls["entries"]) == sorted("x-" + k for k in want)


def test_copy_refuses_bad_destination(rc):
    r = requests.post(f"{rc.url}/v1/buckets/{BCK}", params={"provider": "aws", "bck_to": "nope"},
                      json={"action": "copy-bck", "value": {}}, timeout=30)
    assert r.status_code == 400 and "bck_to" in r.json()["message"]
    r = requests.post(f"{rc.url}/v1/buckets/{BCK}", params={"provider": "aws",
                                                            "bck_to": "aws/@#/other/"},
                      json={"action": "copy-bck", "value": {}}, timeout=30)
    assert r.status_code == 400 and "remote bucket" in r.json()["message"]


def test_sdk_request_shapes_on_a_remote_bucket(rc, peer):
    """The official AIS Python SDK cannot be installed here (no PyPI); these are the exact
    requests it sends for a remote bucket (api.md §SDK): provider=aws, list with the SDK's LsoMsg
    and Accept: application/msgpack, looping on ContinuationToken; object GET and HEAD."""
    import msgpack
    _, p, s3 = peer
    want = {f"sdk/{i}": os.urandom(100 + i) for i in range(5)}
    for k, v in want.items():
        put_remote(s3, k, v)
    names, token = [], ""
    for _ in range(10):
        r = requests.get(f"{rc.url}/v1/buckets/{BCK}", params=Q, timeout=30,
                         headers={"Accept": "application/msgpack"},
                         json={"action": "list", "name": "", "value": {
                             "prefix": "sdk/", "pagesize": 2, "uuid": "", "props": "name,size",
                             "continuation_token": token, "flags": "0", "target": ""}})
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/msgpack"
        res = msgpack.unpackb(r.content, raw=False)
        names += [(e["n"], e["s"]) for e in res["Entries"]]
        token = res["ContinuationToken"]
        if not token:
            break
    assert names == [(k, len(v)) for k, v in want.items()]
    for k, v in want.items():
        r = requests.get(f"{rc.url}/v1/objects/{BCK}/{k}", params=Q, timeout=30)
        assert r.status_code == 200 and r.content == v
        h = requests.head(f"{rc.url}/v1/objects/{BCK}/{k}", params=Q, timeout=30,
                          allow_redirects=True)
        assert h.status_code == 200 and int(h.headers["Content-Length"]) == len(v)


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    """A plain HTTP file server (Python's http.server) counting GETs per path."""
    import functools
    import http.server
    import threading
    root = tmp_path_factory.mktemp("origin")
    counts = {}

    class H(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            counts[self.path] = counts.get(self.path, 0) + 1
            super().do_GET()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                          functools.partial(H, directory=str(root)))
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield root, f"http://127.0.0.1:{srv.server_address[1]}/files/", counts
    srv.shutdown()
    srv.server_close()


def test_ht_bucket_reads_through_an_http_origin(rc, origin):
    root, url, counts = origin
    (root / "files" / "img").mkdir(parents=True)
    data = os.urandom(200_000)
    (root / "files" / "img" / "a b.jpg").write_bytes(data)
    H = {"provider": "ht"}
    r = requests.post(f"{rc.url}/v1/buckets/site", params=H, json={"action": "create-bck"},
                      timeout=30)
    assert r.status_code == 400 and "original_url" in r.json()["message"], r.text
    r = requests.post(f"{rc.url}/v1/buckets/site", params=H, timeout=30, json={
        "action": "create-bck", "value": {"extra": {"http": {"original_url": url}}}})
    assert r.status_code == 200, r.text
    o = f"{rc.url}/v1/objects/site/img/a b.jpg"
    r = requests.get(o, params=H, timeout=30)
    assert r.status_code == 200 and r.content == data
    assert requests.get(o, params=H, timeout=30).content == data
    assert counts["/files/img/a%20b.jpg"] == 1  # the second GET was served from the cluster
    r = requests.get(o, params=H, headers={"Range": "bytes=10-19"}, timeout=30)
    assert r.status_code == 206 and r.content == data[10:20]
    r = requests.get(f"{rc.url}/v1/objects/site/img/nope.jpg", params=H, timeout=30)
    assert r.status_code == 404
    r = requests.put(f"{rc.url}/v1/objects/site/img/new", params=H, data=b"x", timeout=30)
    assert r.status_code == 405 and "read-only" in r.json()["message"], r.text
    ls = requests.get(f"{rc.url}/v1/buckets/site", params=H, timeout=30,
                      json={"action": "list", "value": {}}).json()
    assert [e["name"] for e in ls["entries"]] == ["img/a b.jpg"]  # what is cached here
    assert requests.delete(o, params=H, timeout=30).status_code == 200  # drops the cached copy
    assert requests.get(o, params=H, timeout=30).content == data
    assert counts["/files/img/a%20b.jpg"] == 2
    assert (root / "files" / "img" / "a b.jpg").read_bytes() == data  # origin untouched


def test_download_backend_type_fetches_the_bucket_from_its_backend(rc, peer):
    _, p, s3 = peer
    for i in range(6):
        put_remote(s3, f"dlb/{i}.tar", b"t%d" % i)
    put_remote(s3, "dlb/skip.txt", b"no")
    assert get(rc, "dlb/0.tar").status_code == 200  # cached already: counts as done
    p.reset()
    r = requests.post(f"{rc.url}/v1/download", timeout=30, json={
        "type": "backend", "bucket": {"name": BCK, "provider": "aws"}, "prefix": "dlb/",
        "suffix": ".tar"})
    assert r.status_code == 200, r.text
    jid = r.json()["id"]

    def done():
        s = requests.get(f"{rc.url}/v1/download", json={"id": jid}, timeout=30).json()
        return s if s["finished_time"] else None
    s = wait_until(done, 60, what="backend download")
    assert s["total"] == 6 and s["finished_cnt"] == 6 and s["error_cnt"] == 0, s
    assert {k for (m, k), c in p.counts.items() if m == "GET" and k} == {
        f"dlb/{i}.tar" for i in range(1, 6)}
    r = requests.post(f"{rc.url}/v1/download", timeout=30, json={
        "type": "backend", "bucket": {"name": "x", "provider": "ais"}})
    assert r.status_code == 400 and "s3://" in r.json()["message"]


def test_kill9_of_a_target_mid_prefetch(rc, peer):
    """kill -9 of a target while a prefetch fills it: the job ends on its own, the restarted
    target starts without work files, and every object reads back byte-exact (cached or
    fetched again), never a torn copy."""
    _, p, s3 = peer
    data = {f"kp/{i:03d}": put_remote(s3, f"kp/{i:03d}", os.urandom(200_000 + i))
            for i in range(80)}
    body = {"action": "prefetch-listrange", "value": {"template": "kp/{000..079}"}}
    r = requests.post(f"{rc.url}/v1/buckets/{BCK}", params=Q, json=body, timeout=30)
    assert r.status_code == 200, r.text
    wait_until(lambda: sum(bool(local_files(rc, f"{i:03d}")) for i in range(80)) >= 5, 60,
               what="prefetch under way")
    rc.kill9("t1")
    wait_job(rc, r.text, timeout=120)
    rc.restart("t1")
    vid = rc.node_id("t1")
    wait_until(lambda: vid in rc.smap()["tmap"] and requests.get(
        rc.target_url(vid) + "/v1/health", timeout=2).status_code == 200, 60,
        what="t1 back and healthy")
    for k, v in data.items():
        g = get(rc, k)
        assert g.status_code == 200 and g.content == v, (k, g.status_code, g.text[:300])
    # Fills of the GETs above publish right after their last byte went out: wait for them.
    def leftovers():
        return [os.path.join(root, f) for root, _, fs in os.walk(os.path.join(rc.dir, "t1"))
                if os.path.basename(root) == "%wk" for f in fs]
    wait_until(lambda: leftovers() == [], 30, what="no work files on t1")
