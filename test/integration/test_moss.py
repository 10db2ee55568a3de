"""Batch GET (issue 18 part 3): GET /v1/ml/moss[/<bucket>] with a MossReq body, AIS GetBatch.

Goal: one request returns a TAR of the requested objects, archived files (archpath) and byte
ranges in exactly request order, named <bucket>/<obj>[/<archpath>] (or <obj> with onob), as the
plain archive (strm) or as a multipart/mixed reply whose first part is the MossResp metadata
(parsed here the way the AIS Python SDK's MultipartDecoder does, and with the email package);
missing entries are __404__/ placeholders plus err_msg with coer, else a 404 naming the entry
and no archive; oversized requests are refused.
Method: one module cluster (1 gateway, 3 targets); objects PUT through the gateway; requests
with python requests, which follows the gateway's 307 to the designated target re-sending the
body, as the SDK's session does.
"""
import email.parser
import email.policy
import io
import json
import os
import random
import re
import tarfile

import pytest
import requests

from conftest import cluster_of


@pytest.fixture(scope="module")
def cluster(request):
    yield from cluster_of(request, targets=3, mountpaths=1)


def mkbck(c, name):
    r = requests.post(f"{c.url}/v1/buckets/{name}", json={"action": "create-bck", "name": "", "value": None},
                      timeout=30)
    assert r.status_code == 200, r.text


def put(c, bck, name, data):
    r = requests.put(f"{c.url}/v1/objects/{bck}/{name}", data=data, timeout=30)
    assert r.status_code == 200, r.text


def batch(c, req, bucket=None, **kw):
    path = "/v1/ml/moss" + (f"/{bucket}" if bucket else "")
    params = {"provider": "ais"} if bucket else {}
    return requests.get(c.url + path, params=params, json=req, timeout=120, **kw)


def tar_entries(data):
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tf:
        return [(m.name, tf.extractfile(m).read()) for m in tf.getmembers()]


def sdk_multipart(resp):
    """The AIS SDK's MultipartDecoder (non-streaming): boundary from Content-Type, split on
    b'--' + boundary, headers/body split on the first blank line."""
    m = re.search(r"boundary=([^;,\s]+)", resp.headers["Content-Type"], re.IGNORECASE)
    assert m, resp.headers["Content-Type"]
    parts = []
    for part in resp.content.split(b"--" + m.group(1).strip("\"'").encode())[1:]:
        if not part.strip() or part.strip() == b"--":
            continue
        headers, body = part.split(b"\r\n\r\n", 1)
        parts.append((headers, body))
    return parts


@pytest.fixture(scope="module")
def data(cluster):
    bcks = ["mossa", "mossb", "mossc"]
    objs = {}
    for b in bcks:
        mkbck(cluster, b)
    rnd = random.Random(18)
    for i in range(90):
        b = bcks[i % 3]
        name = f"d{i % 7}/obj-{i:04d}-" + "x" * rnd.choice([0, 5, 120]) + ".bin"
        body = os.urandom(rnd.choice([0, 1, 511, 512, 513, 4096, 70000]))
        put(cluster, b, name, body)
        objs[(b, name)] = body
    return bcks, objs


def test_order_across_buckets_streaming(cluster, data):
    bcks, objs = data
    keys = list(objs)
    rnd = random.Random(7)
    order = [rnd.choice(keys) for _ in range(300)]  # repeats allowed, request order kept
    req = {"in": [{"objname": n, "bucket": b, "provider": "ais"} for b, n in order], "strm": True}
    r = batch(cluster, req)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/x-tar"
    got = tar_entries(r.content)
    assert [g[0] for g in got] == [f"{b}/{n}" for b, n in order]
    assert all(g[1] == objs[k] for g, k in zip(got, order))


def test_path_bucket_onob_and_ranges(cluster, data):
    bcks, objs = data
    names = [n for (b, n), v in objs.items() if b == bcks[1] and len(v) >= 4096][:5]
    ins = [{"objname": n} for n in names]
    ins.append({"objname": names[0], "start": 100, "length": 200})
    ins.append({"objname": names[1], "start": 4000, "length": -1})
    r = batch(cluster, {"in": ins, "onob": True, "strm": True}, bucket=bcks[1])
    assert r.status_code == 200, r.text
    got = tar_entries(r.content)
    assert [g[0] for g in got] == names + [names[0], names[1]]
    assert got[-2][1] == objs[(bcks[1], names[0])][100:300]
    assert got[-1][1] == objs[(bcks[1], names[1])][4000:]
    bad = batch(cluster, {"in": [{"objname": names[0], "start": 10**9, "length": 5}]}, bucket=bcks[1])
    assert bad.status_code == 416, bad.text


def test_archpath(cluster, data):
    bcks, objs = data
    members = {"a/1.jpg": os.urandom(3000), "a/1.json": b'{"k": 1}', "e" * 110 + "/long.bin": os.urandom(700)}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, body in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(body)
            tf.addfile(ti, io.BytesIO(body))
    for i in range(3):
        put(cluster, bcks[2], f"shard-{i}.tar", buf.getvalue())
    plain = next(n for (b, n) in objs if b == bcks[0])
    ins, want = [], []
    for i in range(3):
        for m in reversed(list(members)):
            ins.append({"objname": f"shard-{i}.tar", "bucket": bcks[2], "archpath": m})
            want.append((f"{bcks[2]}/shard-{i}.tar/{m}", members[m]))
        ins.append({"objname": plain, "bucket": bcks[0]})
        want.append((f"{bcks[0]}/{plain}", objs[(bcks[0], plain)]))
    ins.append({"objname": "shard-0.tar", "bucket": bcks[2], "archpath": "a/1.jpg", "start": 10, "length": 20})
    want.append((f"{bcks[2]}/shard-0.tar/a/1.jpg", members["a/1.jpg"][10:30]))
    r = batch(cluster, {"in": ins, "strm": True})
    assert r.status_code == 200, r.text
    assert tar_entries(r.content) == want
    miss = batch(cluster, {"in": [{"objname": "shard-1.tar", "bucket": bcks[2], "archpath": "nope.txt"}]})
    assert miss.status_code == 404 and "nope.txt" in miss.text, miss.text


def test_missing_coer_and_not(cluster, data):
    bcks, objs = data
    keys = list(objs)
    rnd = random.Random(9)
    order = [rnd.choice(keys) for _ in range(200)]
    missing = {5: (bcks[0], "no-such-1"), 77: (bcks[1], "no/such-2"), 150: (bcks[2], "no-such-3")}
    for i, k in missing.items():
        order[i] = k
    ins = [{"objname": n, "bucket": b} for b, n in order]
    # without coer: 404 naming the (first) missing entry, no archive
    r = batch(cluster, {"in": ins, "strm": True})
    assert r.status_code == 404, r.status_code
    assert "no-such-1" in r.json()["message"]
    # with coer, streaming: placeholders in place
    r = batch(cluster, {"in": ins, "strm": True, "coer": True})
    assert r.status_code == 200, r.text
    got = tar_entries(r.content)
    assert len(got) == len(order)
    for i, (k, g) in enumerate(zip(order, got)):
        if i in missing:
            assert g == (f"__404__/{k[0]}/{k[1]}", b"")
        else:
            assert g == (f"{k[0]}/{k[1]}", objs[k])
    # with coer, multipart: metadata carries err_msg for exactly the missing ones
    r = batch(cluster, {"in": ins, "coer": True})
    assert r.status_code == 200, r.text
    meta_h, meta = sdk_multipart(r)[0]
    out = json.loads(meta)["out"]
    assert [i for i, o in enumerate(out) if o.get("err_msg")] == sorted(missing)
    assert all(out[i]["size"] == len(objs[k]) for i, k in enumerate(order) if i not in missing)


def test_multipart_as_sdk_parses(cluster, data):
    bcks, objs = data
    keys = list(objs)[:40]
    ins = [{"objname": n, "bucket": b, "opaque": "aWQtMTIz"} for b, n in keys]
    r = batch(cluster, {"in": ins, "mime": ".tar"})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("multipart/mixed; boundary=")
    parts = sdk_multipart(r)
    assert len(parts) == 2
    assert b'name="metadata"' in parts[0][0] and b'name="archive"' in parts[1][0]
    resp = json.loads(parts[0][1])
    assert resp["uuid"] and len(resp["out"]) == len(keys)
    for o, (b, n) in zip(resp["out"], keys):
        assert (o["bucket"], o["objname"], o["size"], o["opaque"]) == (b, n, len(objs[(b, n)]), "aWQtMTIz")
    got = tar_entries(parts[1][1])  # the SDK hands the body (with its trailing CRLF) to tarfile
    assert got == [(f"{b}/{n}", objs[(b, n)]) for b, n in keys]
    # the same reply through a standard MIME parser
    raw = b"Content-Type: " + r.headers["Content-Type"].encode() + b"\r\n\r\n" + r.content
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    sub = list(msg.iter_parts())
    assert [p.get_param("name", header="content-disposition") for p in sub] == ["metadata", "archive"]
    assert tar_entries(sub[1].get_payload(decode=True)) == got


def test_limits_and_bad_requests(cluster, data):
    bcks, _ = data
    r = batch(cluster, {"in": [{"objname": f"o{i}"} for i in range(10001)]}, bucket=bcks[0])
    assert r.status_code == 400 and "at most 10000" in r.json()["message"], r.text
    big = json.dumps({"in": [{"objname": "x" * 1000, "bucket": bcks[0]}] * 2200})
    r = requests.get(cluster.url + "/v1/ml/moss", data=big, timeout=60)
    assert r.status_code == 413, r.status_code
    r = batch(cluster, {"in": []})
    assert r.status_code == 400
    r = batch(cluster, {"in": [{"objname": "x"}]})  # no bucket anywhere
    assert r.status_code == 400 and "bucket" in r.json()["message"]
    r = batch(cluster, {"in": [{"objname": "x", "bucket": "no-such-bucket"}]})
    assert r.status_code == 404
    r = batch(cluster, {"in": [{"objname": "x", "bucket": bcks[0]}], "mime": ".7z"})
    assert r.status_code == 400


def test_cli_get_batch(cluster, data, tmp_path):
    import subprocess
    from conftest import BUILD
    bcks, objs = data
    names = [n for (b, n) in objs if b == bcks[0]][:6]
    env = dict(os.environ, AIS_ENDPOINT=cluster.url)
    ais = os.path.join(BUILD, "cli", "ais")
    out = tmp_path / "a.tar"
    p = subprocess.run([ais, "ml", "get-batch", f"ais://{bcks[0]}", "--list", ",".join(names), str(out),
                        "--streaming"], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert tar_entries(out.read_bytes()) == [(f"{bcks[0]}/{n}", objs[(bcks[0], n)]) for n in names]
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"in": [{"objname": names[0], "bucket": bcks[0]},
                                       {"objname": "gone", "bucket": bcks[1]}], "strm": True}))
    p = subprocess.run([ais, "ml", "get-batch", "--spec", str(spec), str(out)], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "gone" in p.stderr, p.stdout + p.stderr
    assert not out.exists()
    p = subprocess.run([ais, "ml", "get-batch", "--spec", str(spec), str(out), "--cont-on-err"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert [n for n, _ in tar_entries(out.read_bytes())] == [f"{bcks[0]}/{names[0]}", f"__404__/{bcks[1]}/gone"]


def archive_entries(data, fmt):
    """(name, bytes) of a reply in any output format, read by Python's own readers."""
    if fmt == ".zip":
        import zipfile
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return [(i.filename, zf.read(i)) for i in zf.infolist()]
    if fmt == ".tar.lz4":
        import subprocess
        data = subprocess.run(["lz4", "-dc"], input=data, capture_output=True, check=True).stdout
    mode = "r:gz" if fmt in (".tgz", ".tar.gz") else "r:"
    with tarfile.open(fileobj=io.BytesIO(data), mode=mode) as tf:
        return [(m.name, tf.extractfile(m).read()) for m in tf.getmembers()]


@pytest.mark.parametrize("fmt", [".tgz", ".tar.gz", ".zip", ".tar.lz4", "tar"])
def test_output_formats(cluster, data, fmt):
    """Every output format, streamed and multipart, entries in order and byte-exact (also
    entries from inside shards and ranges)."""
    import shutil
    if fmt == ".tar.lz4" and shutil.which("lz4") is None:
        pytest.skip("the lz4 tool is not installed (make test installs it)")
    bcks, objs = data
    keys = list(objs)[:60]
    ins = [{"objname": n, "bucket": b} for b, n in keys]
    want = [(f"{b}/{n}", objs[(b, n)]) for b, n in keys]
    ins.append({"objname": keys[-1][1], "bucket": keys[-1][0], "start": 1, "length": -1})
    want.append((f"{keys[-1][0]}/{keys[-1][1]}", objs[keys[-1]][1:]))
    r = batch(cluster, {"in": ins, "strm": True, "mime": fmt})
    assert r.status_code == 200, r.text
    assert archive_entries(r.content, fmt) == want
    r = batch(cluster, {"in": ins, "mime": fmt})
    assert r.status_code == 200, r.text
    parts = sdk_multipart(r)
    ext = fmt.lstrip(".")
    ext = "tgz" if ext == "tar.gz" else ext
    assert b'filename="' in parts[1][0] and f".{ext}\"".encode() in parts[1][0], parts[1][0]
    body = parts[1][1][:-2] if parts[1][1].endswith(b"\r\n") else parts[1][1]
    assert archive_entries(body, fmt) == want
    assert [o["size"] for o in json.loads(parts[0][1])["out"]] == [len(w[1]) for w in want]


def test_large_entries_from_other_targets(cluster, data):
    """Entries over the 16 MiB bound of a held entry come in pieces from their owners; a range
    across piece boundaries is exact; the designated target differs from most owners."""
    bcks, _ = data
    big = {f"big/{i}.bin": os.urandom(n) for i, n in enumerate([20 << 20, (1 << 20) + 1, 3 << 20])}
    for n, b in big.items():
        put(cluster, bcks[0], n, b)
    ins = [{"objname": n, "bucket": bcks[0]} for n in big]
    ins.append({"objname": "big/0.bin", "bucket": bcks[0], "start": (1 << 20) - 7, "length": (2 << 20) + 9})
    want = [(f"{bcks[0]}/{n}", b) for n, b in big.items()]
    want.append((f"{bcks[0]}/big/0.bin", big["big/0.bin"][(1 << 20) - 7:(3 << 20) + 2]))
    for strm in (True, False):
        r = batch(cluster, {"in": ins, "strm": strm})
        assert r.status_code == 200, r.text
        body = r.content if strm else sdk_multipart(r)[1][1]
        assert tar_entries(body) == want


def test_overwritten_shard_never_stale(cluster, data):
    """archpath entries of a shard overwritten between batches come from the new shard (index
    keyed to the object), never from the old one."""
    bcks, _ = data
    for gen in range(3):
        buf = io.BytesIO()
        body = {f"m{i}.bin": os.urandom(1000 + gen * 100 + i) for i in range(20)}
        with tarfile.open(fileobj=buf, mode="w") as tf:
            for name, b in body.items():
                ti = tarfile.TarInfo(name)
                ti.size = len(b)
                tf.addfile(ti, io.BytesIO(b))
        put(cluster, bcks[1], "ow.tar", buf.getvalue())
        names = list(body)[::-1]
        r = batch(cluster, {"in": [{"objname": "ow.tar", "bucket": bcks[1], "archpath": n} for n in names],
                            "strm": True})
        assert r.status_code == 200, r.text
        assert tar_entries(r.content) == [(f"{bcks[1]}/ow.tar/{n}", body[n]) for n in names]


def test_order_many_batches(cluster):
    """100 batches of 1,000 random names (with repeats) of 2,000 small objects: exact order and
    bytes, checksummed."""
    import concurrent.futures
    import hashlib
    mkbck(cluster, "mossmany")
    objs = {f"s/{i:05d}": os.urandom(64 + (i * 37) % 900) for i in range(2000)}
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda kv: put(cluster, "mossmany", kv[0], kv[1]), objs.items()))
    digest = {n: hashlib.sha256(b).hexdigest() for n, b in objs.items()}
    names = list(objs)
    rnd = random.Random(100)

    def one(seed):
        order = random.Random(seed).choices(names, k=1000)
        r = batch(cluster, {"in": [{"objname": n} for n in order], "strm": True, "onob": True},
                  bucket="mossmany")
        assert r.status_code == 200, r.text
        got = tar_entries(r.content)
        assert [g[0] for g in got] == order
        assert [hashlib.sha256(g[1]).hexdigest() for g in got] == [digest[n] for n in order]
        return len(got)

    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        assert sum(ex.map(one, [rnd.random() for _ in range(100)])) == 100 * 1000


def test_cli_get_batch_formats(cluster, data, tmp_path):
    """`ais ml get-batch` writes the format DST's extension names."""
    import subprocess
    from conftest import BUILD
    bcks, objs = data
    names = [n for (b, n) in objs if b == bcks[1]][:8]
    env = dict(os.environ, AIS_ENDPOINT=cluster.url)
    for ext in (".tgz", ".zip", ".tar.gz"):
        out = tmp_path / f"b{ext}"
        p = subprocess.run([os.path.join(BUILD, "cli", "ais"), "ml", "get-batch", f"ais://{bcks[1]}",
                            "--list", ",".join(names), str(out), "--streaming"],
                           env=env, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        assert archive_entries(out.read_bytes(), ext) == [(f"{bcks[1]}/{n}", objs[(bcks[1], n)]) for n in names]


def test_owner_killed_mid_batch(cluster, data):
    """kill -9 of an entry owner while a batch streams: the client sees a short (failed) body,
    never a complete-looking archive with wrong bytes; once the target is back, the same batch
    is byte-exact. (Last in the module: it restarts a target.)"""
    import hashlib
    from conftest import wait_until
    bcks, _ = data
    objs = {f"k/{i:03d}": os.urandom(1 << 20) for i in range(120)}
    for n, b in objs.items():
        put(cluster, bcks[2], n, b)
    ins = [{"objname": n, "bucket": bcks[2]} for n in objs] * 2
    r = batch(cluster, {"in": ins, "strm": True}, stream=True)
    assert r.status_code == 200, r.text
    designated = r.url.split("/v1/")[0]
    victim = next(f"t{i}" for i in range(3)
                  if cluster.target_url(cluster.node_id(f"t{i}")) != designated)
    vid = cluster.node_id(victim)
    got, killed = 0, False
    try:
        for chunk in r.iter_content(1 << 16):
            got += len(chunk)
            if not killed and got >= 4 << 20:
                cluster.kill9(victim)
                killed = True
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError):
        pass
    assert killed
    assert got < int(r.headers["Content-Length"]), "a batch with a dead owner cannot complete"
    cluster.restart(victim)
    wait_until(lambda: vid in cluster.smap()["tmap"], 60, what=f"{victim} to rejoin")

    def exact():
        rr = batch(cluster, {"in": ins[:120], "strm": True})
        if rr.status_code != 200:
            return False
        ents = tar_entries(rr.content)
        return [hashlib.sha256(b).digest() for _, b in ents] == \
            [hashlib.sha256(objs[e["objname"]]).digest() for e in ins[:120]]
    wait_until(exact, 60, interval=0.5, what="the batch to be exact again")
