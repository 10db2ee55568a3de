"""Goal: the cluster core works end to end as AIS clients expect (api.md).

Method: a real 1-gateway/3-target cluster on loopback (conftest.py), driven with python
requests (which follows 307 like the AIS SDK), raw sockets for broken clients, and the spec's
HRW formula recomputed here to check placement bit for bit.
"""
import json
import os
import socket
import time

import msgpack
import pytest
import requests
import xxhash

from conftest import no_tsan, wait_until

ACT = lambda action, value=None: {"action": action, "name": "", "value": value}  # noqa: E731


def obj_url(c, b, o):
    return f"{c.url}/v1/objects/{b}/{o}"


def mix(x):
    m = (1 << 64) - 1
    z = (x + 0x9E3779B97F4A7C15) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    z = ((z ^ (z >> 31)) + 0x9E3779B97F4A7C15) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    z = ((z ^ (z >> 31)) * 5) & m
    z = ((z << 7) | (z >> 57)) & m
    return (z * 9) & m


def sdk_owner(smap, bck, obj):
    """The Python SDK's client-side HRW: max mix(id_digest ^ XXH64(uname, seed))."""
    digest = xxhash.xxh64_intdigest(f"ais/@#/{bck}/{obj}".encode(), seed=1103515245)
    best = max(smap["tmap"].values(), key=lambda t: mix(t["id_digest"] ^ digest))
    return best["daemon_id"]


def test_health_and_smap(cluster):
    assert requests.get(cluster.url + "/v1/health", params={"prr": "true"}).status_code == 200
    smap = cluster.smap()
    assert len(smap["tmap"]) == 3 and len(smap["pmap"]) == 1
    assert smap["proxy_si"]["daemon_type"] == "proxy"
    assert int(smap["version"]) >= 4
    for tid, t in smap["tmap"].items():
        assert t["id_digest"] == xxhash.xxh64_intdigest(tid.encode(), seed=1103515245)
        assert isinstance(t["public_net"]["daemon_port"], str)
        assert requests.get(t["public_net"]["direct_url"] + "/v1/health").status_code == 200


def test_bucket_crud(cluster):
    u = cluster.url + "/v1/buckets/crud1"
    assert requests.post(u, params={"provider": "ais"}, json=ACT("create-bck")).status_code == 200
    r = requests.post(u, params={"provider": "ais"}, json=ACT("create-bck"))
    assert r.status_code == 409 and 'bucket "ais://crud1" already exists' in r.json()["message"]
    names = [b["name"] for b in requests.get(cluster.url + "/v1/buckets", params={"provider": "ais"},
                                             json=ACT("list")).json()]
    assert "crud1" in names
    h = requests.head(u, params={"provider": "ais"}, allow_redirects=True)
    props = json.loads(h.headers["Ais-Bucket-Props"])
    assert h.status_code == 200 and props["checksum"]["type"] == "xxhash" and props["provider"] == "ais"
    r = requests.patch(u, json=ACT("set-bprops", {"versioning": {"enabled": False}, "mirror": {"copies": 3}}))
    assert r.status_code == 200, r.text
    props = json.loads(requests.head(u, allow_redirects=True).headers["Ais-Bucket-Props"])
    assert props["versioning"]["enabled"] is False and props["mirror"]["copies"] == 3
    r = requests.patch(u, json=ACT("set-bprops", {"checksum": {"type": "nope"}}))
    assert r.status_code == 400 and "checksum type" in r.json()["message"]
    r = requests.post(u, json=ACT("set-bprops", {}))
    assert r.status_code == 400 and 'action "set-bprops" is not supported with POST' in r.json()["message"]
    r = requests.patch(u, json=ACT("set-bprops", {"no_such_prop": 1}))
    assert r.status_code == 400 and "unknown bucket property" in r.json()["message"]
    assert requests.delete(u, json=ACT("destroy-bck")).status_code == 200
    h = requests.head(u, allow_redirects=True)
    assert h.status_code == 404 and "ais://crud1" in h.headers["Hdr-Error"]
    r = requests.delete(u, json=ACT("destroy-bck"))
    assert r.status_code == 404 and 'bucket "ais://crud1" does not exist' in r.json()["message"]


def test_put_get_head_delete_via_redirect(cluster, bucket):
    data = os.urandom(1 << 20) + b"tail"
    url = obj_url(cluster, bucket, "dir/sub/obj.bin")
    r = requests.put(url, data=data, allow_redirects=False)
    assert r.status_code == 307
    loc = r.headers["Location"]
    assert "/v1/objects/%s/dir/sub/obj.bin?" % bucket in loc and "pid=" in loc and "utm=" in loc
    assert requests.put(url, data=data).status_code == 200
    g = requests.get(url, params={"provider": "ais"})
    assert g.status_code == 200 and g.content == data
    want = "%016x" % xxhash.xxh64_intdigest(data)
    assert g.headers["Ais-Checksum-Type"] == "xxhash" and g.headers["Ais-Checksum-Value"] == want
    h = requests.head(url, allow_redirects=True)
    assert h.status_code == 200 and int(h.headers["Content-Length"]) == len(data)
    assert h.headers["Ais-Version"] == "1" and int(h.headers["Ais-Atime"]) > 10**18
    assert h.headers["Ais-Present"] == "true" and h.headers["Ais-Name"] == "dir/sub/obj.bin"
    assert requests.put(url, data=b"v2").status_code == 200
    assert requests.head(url, allow_redirects=True).headers["Ais-Version"] == "2"
    assert requests.delete(url).status_code == 200
    r = requests.delete(url)
    assert r.status_code == 404 and f"ais://{bucket}/dir/sub/obj.bin" in r.json()["message"]
    assert requests.get(url).status_code == 404


def test_on_disk_format_is_open(cluster, bucket):
    data = b"readable without us\n" * 100
    url = obj_url(cluster, bucket, "open/file.txt")
    assert requests.put(url, data=data).status_code == 200
    loc = requests.head(url, allow_redirects=True).headers["Ais-Location"]  # t[<tid>]:mp[<path>]
    mp = loc.split("mp[", 1)[1].rstrip("]")
    path = os.path.join(mp, "@ais", bucket, "%ob", "open", "file.txt")
    with open(path, "rb") as f:
        assert f.read() == data
    assert b"user.ais.lom" in os.listxattr(path).__repr__().encode()


def test_hrw_matches_sdk(cluster, bucket):
    smap = cluster.smap()
    tports = {t["public_net"]["daemon_port"]: tid for tid, t in smap["tmap"].items()}
    for i in range(60):
        name = f"hrw/obj-{i}.jpg"
        r = requests.get(obj_url(cluster, bucket, name), allow_redirects=False)
        assert r.status_code == 307
        port = r.headers["Location"].split("://", 1)[1].split("/", 1)[0].split(":")[1]
        assert tports[port] == sdk_owner(smap, bucket, name), name


def test_direct_put_to_non_owner_redirects(cluster, bucket):
    smap = cluster.smap()
    owner = sdk_owner(smap, bucket, "direct")
    other = next(t for t in smap["tmap"] if t != owner)
    r = requests.put(cluster.target_url(other) + f"/v1/objects/{bucket}/direct", data=b"x" * 10)
    assert r.status_code == 200
    assert requests.get(cluster.target_url(owner) + f"/v1/objects/{bucket}/direct").content == b"x" * 10


def test_ranges(cluster, bucket):
    data = bytes(range(256)) * 40
    url = obj_url(cluster, bucket, "ranged")
    requests.put(url, data=data)
    cases = [("bytes=0-9", data[0:10]), ("bytes=100-", data[100:]), ("bytes=-7", data[-7:]),
             ("bytes=10000-999999", data[10000:])]
    for rng, want in cases:
        r = requests.get(url, headers={"Range": rng})
        assert r.status_code == 206 and r.content == want, rng
        assert r.headers["Content-Range"].startswith("bytes ")
    for bad in ("bytes=20000-", "bytes=5-1", "items=0-1", "bytes=0-1,4-5"):
        r = requests.get(url, headers={"Range": bad})
        assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(data)}", bad


def _list(cluster, bucket, msgpack_reply, **value):
    body = {"prefix": "", "pagesize": 0, "uuid": "", "props": "", "continuation_token": "",
            "flags": "0", "target": ""}
    body.update(value)
    hdr = {"Accept": "application/msgpack"} if msgpack_reply else {}
    r = requests.get(f"{cluster.url}/v1/buckets/{bucket}", params={"provider": "ais"},
                     json=ACT("list", body), headers=hdr)
    assert r.status_code == 200, r.text
    if msgpack_reply:
        assert r.headers["Content-Type"] == "application/msgpack"
        d = msgpack.unpackb(r.content)
        return d["UUID"], d["ContinuationToken"], [e["n"] for e in d["Entries"] or []], d
    d = r.json()
    return d["uuid"], d["continuation_token"], [e["name"] for e in d["entries"]], d


def test_list_paging_1500(cluster, bucket):
    sess = requests.Session()
    names = sorted(f"p{i % 7}/obj-{i:05d}" for i in range(1500))
    for n in names:
        assert sess.put(obj_url(cluster, bucket, n), data=n.encode()).status_code == 200
    for use_msgpack in (True, False):
        got, token, uuid, pages = [], "", "", 0
        while True:
            uuid2, token, page, _ = _list(cluster, bucket, use_msgpack, pagesize=400,
                                          continuation_token=token, uuid=uuid)
            assert uuid2 and (not uuid or uuid2 == uuid)
            uuid = uuid2
            got += page
            pages += 1
            assert pages < 10
            if token == "":
                break
        assert got == names and pages == 4
    _, token, page, d = _list(cluster, bucket, True, prefix="p3/", props="name,size,checksum,atime,version")
    assert token == "" and page == [n for n in names if n.startswith("p3/")]
    e = d["Entries"][0]
    assert e["s"] == len(page[0]) and e["f"] & 64 and len(e["cs"]) == 16 and e["v"] == "1"
    # SDK-style loop with default page size sees everything at once
    _, token, page, _ = _list(cluster, bucket, True)
    assert token == "" and len(page) == 1500


def wait_job(cluster, job, timeout=30.0):
    """Polls what=status until the job ended (end_time != 0), as the SDK's job.wait does."""
    def ended():
        st = requests.get(cluster.url + "/v1/cluster", params={"what": "status"}, json={"ID": job}).json()
        return st if st["end_time"] > 0 else None
    return wait_until(ended, timeout=timeout, what=f"job {job}")


def test_delete_listrange(cluster, bucket):
    for i in range(20):
        requests.put(obj_url(cluster, bucket, f"d-{i:02d}"), data=b"z")
    r = requests.delete(f"{cluster.url}/v1/buckets/{bucket}", json=ACT("delete-listrange", {"objnames": ["d-00", "d-01"]}))
    assert r.status_code == 200 and r.text
    job = r.text
    st = wait_job(cluster, job)
    assert st["uuid"] == job and st["err"] == "" and st["aborted"] is False
    snaps = requests.get(cluster.url + "/v1/cluster", params={"what": "qryxstats"}, json={"ID": job}).json()
    snap = [s for v in snaps.values() for s in v if s["id"] == job]
    assert snap and snap[0]["kind"] == "delete-listrange" and snap[0]["is_idle"] is True
    assert snap[0]["stats"]["loc-objs"] == 2 and snap[0]["bck"]["name"] == bucket
    r = requests.delete(f"{cluster.url}/v1/buckets/{bucket}", json=ACT("delete-listrange", {"template": "d-{02..09}"}))
    assert r.status_code == 200
    wait_job(cluster, r.text)
    alls = requests.get(cluster.url + "/v1/cluster", params={"what": "status_all"}, json={"kind": ""}).json()
    assert {job, r.text} <= {s["uuid"] for s in alls}
    r = requests.get(cluster.url + "/v1/cluster", params={"what": "status"}, json={"ID": "xnosuchjob"})
    assert r.status_code == 404
    _, _, page, _ = _list(cluster, bucket, False)
    assert page == [f"d-{i:02d}" for i in range(10, 20)]
    r = requests.delete(f"{cluster.url}/v1/buckets/{bucket}", json=ACT("delete-listrange", {"template": "x{9..1}"}))
    assert r.status_code == 400
    # a bad name anywhere in the list: 400 naming it, and nothing deleted
    r = requests.delete(f"{cluster.url}/v1/buckets/{bucket}",
                        json=ACT("delete-listrange", {"objnames": ["d-10", "x/../../d-11", 7]}))
    assert r.status_code == 400 and "invalid object name #1" in r.json()["message"]
    _, _, page, _ = _list(cluster, bucket, False)
    assert page == [f"d-{i:02d}" for i in range(10, 20)]


def raw_request(port, head, body=b"", close_after=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(head.encode() + body)
    if close_after:
        s.close()
        return None
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out


def test_bad_inputs(cluster, bucket):
    u = cluster.url
    cases = [
        (requests.post, f"{u}/v1/buckets/bad%20name", ACT("create-bck"), 400, "invalid bucket name"),
        (requests.post, f"{u}/v1/buckets/" + "x" * 65, ACT("create-bck"), 400, "too long"),
        (requests.get, obj_url(cluster, "nosuchbucket", "o"), None, 404, 'bucket "ais://nosuchbucket" does not exist'),
        (requests.get, obj_url(cluster, bucket, "missing"), None, 404, "does not exist"),
        (requests.get, obj_url(cluster, bucket, "a/" + "n" * 1100), None, 400, "too long"),
        (requests.get, obj_url(cluster, bucket, "a%00b"), None, 400, "NUL"),
        (requests.get, obj_url(cluster, bucket, "a//b"), None, 400, "empty path segment"),
        (requests.post, obj_url(cluster, bucket, "o"), None, 400, "malformed JSON"),
        (requests.patch, obj_url(cluster, bucket, "o"), None, 405, "not allowed"),
        (requests.get, f"{u}/v1/objects/{bucket}/o?provider=ftp", None, 400, "invalid provider"),
        (requests.get, f"{u}/v1/nope", None, 404, "unknown path"),
        (requests.get, f"{u}/v1/daemon?what=bogus", None, 400, "what=bogus"),
    ]
    for fn, url, body, status, text in cases:
        r = fn(url, json=body) if body is not None else fn(url)
        assert r.status_code == status, (url, r.status_code, r.text)
        assert r.json()["message"] and text in r.json()["message"], (url, r.text)
        assert r.json()["status"] == status
    # '..' must reach the server undecoded: send it raw
    port = cluster.base
    out = raw_request(port, f"GET /v1/objects/{bucket}/a/../b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", close_after=False)
    assert out.startswith(b"HTTP/1.1 400") and b"'..'" in out
    r = requests.get(f"{u}/v1/buckets/{bucket}", data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "malformed JSON" in r.json()["message"]
    r = requests.post(f"{u}/v1/buckets/{bucket}2", data=b"{" + b" " * (2 << 20) + b"}")
    assert r.status_code == 413
    # wrong client checksum: 400 and nothing stored
    r = requests.put(obj_url(cluster, bucket, "ck"), data=b"abc",
                     headers={"Ais-Checksum-Type": "xxhash", "Ais-Checksum-Value": "0000000000000000"})
    assert r.status_code == 400 and "checksum" in r.json()["message"]
    assert requests.head(obj_url(cluster, bucket, "ck"), allow_redirects=True).status_code == 404
    good = "%016x" % xxhash.xxh64_intdigest(b"abc")
    r = requests.put(obj_url(cluster, bucket, "ck"), data=b"abc",
                     headers={"Ais-Checksum-Type": "xxhash", "Ais-Checksum-Value": good})
    assert r.status_code == 200


def _wk_files(cluster, bucket):
    out = []
    for root, _, files in os.walk(cluster.dir):
        if root.endswith(os.path.join(bucket, "%wk")):
            out += files
    return out


def test_disconnect_mid_put_leaves_nothing(cluster, bucket):
    """Clients that vanish mid-body (several, to all targets) leave no object and no work file."""
    names = [f"partial/obj-{i}" for i in range(12)]
    for name in names:
        r = requests.put(obj_url(cluster, bucket, name), data=b"", allow_redirects=False)
        port = int(r.headers["Location"].split(":")[2].split("/")[0])
        head = (f"PUT /v1/objects/{bucket}/{name}?provider=ais HTTP/1.1\r\nHost: x\r\n"
                f"Content-Length: {1 << 20}\r\n\r\n")
        raw_request(port, head, b"q" * (100 << 10))
    wait_until(lambda: _wk_files(cluster, bucket) == [], 10, what="work file removal")
    for name in names:
        assert requests.head(obj_url(cluster, bucket, name), allow_redirects=True).status_code == 404
    _, _, page, _ = _list(cluster, bucket, False)
    assert page == []


def _gen(total, piece=1 << 20):
    block = bytes(range(256)) * (piece // 256)
    sent = 0
    while sent < total:
        n = min(piece, total - sent)
        yield block[:n]
        sent += n


def _rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@no_tsan
def test_chunked_large_put_bounded_memory(cluster, bucket):
    total = 300 << 20
    name = "big/chunked.bin"
    r = requests.put(obj_url(cluster, bucket, name), data=b"", allow_redirects=False)
    turl = r.headers["Location"]
    port = turl.split(":")[2].split("/")[0]
    tname = next(n for n in os.listdir(cluster.dir)
                 if n.startswith("t") and open(os.path.join(cluster.dir, n, "config.json")).read().find(f'"port": "{port}"') > 0)
    pid = cluster.pid(tname)
    before = _rss_kb(pid)
    r = requests.put(turl, data=_gen(total))  # generator => Transfer-Encoding: chunked
    assert r.status_code == 200, r.text
    grew_mb = (_rss_kb(pid) - before) / 1024
    assert grew_mb < 64, f"target RSS grew {grew_mb:.0f} MiB for a {total >> 20} MiB PUT"
    h = xxhash.xxh64()
    n = 0
    with requests.get(obj_url(cluster, bucket, name), stream=True) as g:
        assert g.status_code == 200
        want = g.headers["Ais-Checksum-Value"]
        for chunk in g.iter_content(1 << 20):
            h.update(chunk)
            n += len(chunk)
    assert n == total and h.hexdigest() == want
    assert requests.delete(obj_url(cluster, bucket, name)).status_code == 200


def test_config_and_stats(cluster):
    cfg = requests.get(cluster.url + "/v1/daemon", params={"what": "config"}).json()
    assert cfg["checksum"]["type"] == "xxhash" and "fspaths" in cfg
    st = requests.get(cluster.url + "/v1/cluster", params={"what": "stats"}).json()
    assert len(st["target"]) == 3 and len(st["proxy"]) == 1
    t = next(iter(st["target"].values()))
    assert "put.n" in t["tracker"] and t["capacity"]
    r = requests.put(cluster.url + "/v1/cluster/setconfig", params={"checksum.validate_warm_get": "true"})
    assert r.status_code == 200, r.text
    tid = next(iter(st["target"]))
    tcfg = requests.get(cluster.target_url(tid) + "/v1/daemon", params={"what": "config"}).json()
    assert tcfg["checksum"]["validate_warm_get"] is True
    assert requests.put(cluster.url + "/v1/cluster/setconfig", params={"checksum.validate_warm_get": "false"}).status_code == 200
    r = requests.put(cluster.url + "/v1/cluster/setconfig", params={"disk.fsync": "maybe"})
    assert r.status_code == 400
    turl = cluster.target_url(tid)
    r = requests.put(turl + "/v1/daemon/setconfig", params={"log.level": "loud"})
    assert r.status_code == 400 and "log.level=loud" in r.json()["message"]
    assert requests.put(turl + "/v1/daemon/setconfig", params={"log.level": "info"}).status_code == 200
    assert requests.put(cluster.url + "/v1/daemon/setconfig").status_code == 400
    mp = requests.get(cluster.url + "/v1/reverse/daemon", params={"what": "mountpaths"},
                      headers={"Ais-Node-Id": tid}).json()
    assert len(mp["available"]) == 2


def test_corrupt_object_detected(cluster, bucket):
    url = obj_url(cluster, bucket, "rot")
    requests.put(url, data=b"A" * 4096)
    mp = requests.head(url, allow_redirects=True).headers["Ais-Location"].split("mp[", 1)[1].rstrip("]")
    path = os.path.join(mp, "@ais", bucket, "%ob", "rot")
    with open(path, "r+b") as f:
        f.write(b"B")
    r = requests.get(url, params={"validate-checksum": "true"})
    assert r.status_code == 500 and "checksum mismatch" in r.json()["message"]
    assert requests.head(url, allow_redirects=True).status_code == 404


def test_kill9_restart_keeps_data_and_catches_up(cluster, bucket):
    smap = cluster.smap()
    names = [f"k9/o-{i}" for i in range(60)]
    for n in names:
        assert requests.put(obj_url(cluster, bucket, n), data=n.encode()).status_code == 200
    tid = cluster.node_id("t1")
    owned = [n for n in names if sdk_owner(smap, bucket, n) == tid]
    assert owned
    cluster.kill9("t1")
    wait_until(lambda: tid not in cluster.smap()["tmap"], 30, what="primary to drop the dead target")
    # a bucket created while t1 is down: t1 must catch up on restart
    nb = bucket + "x"
    assert requests.post(f"{cluster.url}/v1/buckets/{nb}", json=ACT("create-bck")).status_code == 200
    cluster.restart("t1")
    wait_until(lambda: tid in cluster.smap()["tmap"], 60, what="t1 to rejoin with its id")
    for n in names:
        r = requests.get(obj_url(cluster, bucket, n))
        assert r.status_code == 200 and r.content == n.encode(), n
    turl = cluster.target_url(tid)
    wait_until(lambda: requests.get(turl + "/v1/daemon", params={"what": "bmd"}).json()["version"]
               == requests.get(cluster.url + "/v1/daemon", params={"what": "bmd"}).json()["version"],
               30, what="BMD catch-up")
    for i in range(30):
        assert requests.put(obj_url(cluster, nb, f"n{i}"), data=b"y").status_code == 200
    requests.delete(f"{cluster.url}/v1/buckets/{nb}", json=ACT("destroy-bck"))


def _read_response(f):
    status = f.readline()
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        k, _, v = line.decode().partition(":")
        if k.lower() == "content-length":
            length = int(v)
    return status, f.read(length)


def test_keepalive_connections_are_reused(cluster, bucket):
    """GETs, HEADs and 307s must not close the connection (a close per request costs 5x)."""
    data = b"k" * 4096
    url = obj_url(cluster, bucket, "ka")
    assert requests.put(url, data=data).status_code == 200
    r = requests.get(url, allow_redirects=False)
    tport = int(r.headers["Location"].split(":")[2].split("/")[0])
    for port, want in ((tport, b"200"), (cluster.base, b"307")):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        f = s.makefile("rb")
        for _ in range(3):
            s.sendall(f"GET /v1/objects/{bucket}/ka HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            status, body = _read_response(f)
            assert want in status, status
            if want == b"200":
                assert body == data
        f.close()
        s.close()


def test_dry_run_mode(cluster, bucket):
    """dry_run: PUT reads and discards the body, GET serves generated bytes, disk untouched."""
    set_dry = lambda v: requests.put(cluster.url + "/v1/cluster/setconfig", params={"dry_run": v})  # noqa: E731
    assert set_dry("true").status_code == 200
    try:
        url = obj_url(cluster, bucket, "dry/obj")
        assert requests.put(url, data=os.urandom(300 << 10)).status_code == 200
        g = requests.get(url)
        assert g.status_code == 200 and len(g.content) == 1 << 20
        assert g.content[:26] == b"abcdefghijklmnopqrstuvwxyz"
    finally:
        assert set_dry("false").status_code == 200
    assert requests.get(url).status_code == 404
    assert not any("dry" in dirs for _, dirs, _ in os.walk(cluster.dir))


def test_namespaced_bucket(cluster):
    """A bucket in a local namespace is distinct from the global one and stored under #ns."""
    q = {"provider": "ais", "namespace": "#team1"}
    assert requests.post(cluster.url + "/v1/buckets/nsb", params=q, json=ACT("create-bck")).status_code == 200
    assert requests.head(cluster.url + "/v1/buckets/nsb").status_code == 404
    assert requests.put(cluster.url + "/v1/objects/nsb/x", params=q, data=b"ns").status_code == 200
    g = requests.get(cluster.url + "/v1/objects/nsb/x", params=q)
    assert g.status_code == 200 and g.content == b"ns"
    mp = g.headers["Ais-Location"].split("mp[", 1)[1].rstrip("]")
    assert os.path.exists(os.path.join(mp, "@ais", "#team1", "nsb", "%ob", "x"))
    r = requests.get(cluster.url + "/v1/objects/nsb/x")
    assert r.status_code == 404 and "ais://nsb" in r.json()["message"]
    assert requests.delete(cluster.url + "/v1/buckets/nsb", params=q, json=ACT("destroy-bck")).status_code == 200


def test_destroy_and_recreate_bucket_starts_empty(cluster):
    u = cluster.url + "/v1/buckets/again"
    assert requests.post(u, json=ACT("create-bck")).status_code == 200
    for i in range(10):
        assert requests.put(f"{cluster.url}/v1/objects/again/o{i}", data=b"old").status_code == 200
    assert requests.delete(u, json=ACT("destroy-bck")).status_code == 200
    assert requests.post(u, json=ACT("create-bck")).status_code == 200
    _, token, page, _ = _list(cluster, "again", False)
    assert page == [] and token == ""
    assert requests.get(f"{cluster.url}/v1/objects/again/o1").status_code == 404
    assert requests.put(f"{cluster.url}/v1/objects/again/o1", data=b"new").status_code == 200
    assert requests.get(f"{cluster.url}/v1/objects/again/o1").content == b"new"
    requests.delete(u, json=ACT("destroy-bck"))
