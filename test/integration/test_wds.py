"""WebDataset loading (issue 18 part 4): python/aiswds, the gopen handler and the batch reader.

Goal: shard URL patterns expand as webdataset's braceexpand does; ais_gopen streams an object
byte for byte (large ones in small reads too) over keep-alive connections that are reused
across shards and bounded; a connection cut mid-stream is resumed with `Range: bytes=N-` at
exactly the byte where it stopped, a changed or deleted object during the resume is an error,
and a body that stays short is an error, never truncated data; tarfile reads WebDataset samples
(members grouped by key) out of the stream; BatchReader/BatchLoader read batches of a few
hundred entries with one batch GET each, byte-exact in request order, with archpath entries
and missing entries (404 without coer; None or MissingEntriesError with coer).
Method: the module cluster of conftest (1 gateway, 3 targets); objects PUT with requests; the
package imported from python/ with the system python3 only (webdataset and torch absent: the
webdataset step skips, saying so). Cuts and connection counts come from a small TCP proxy on
127.0.0.1 in front of the gateway or a target, which records what each connection carried.
"""
import hashlib
import io
import os
import random
import re
import socket
import sys
import tarfile
import threading
from urllib.parse import quote

import pytest
import requests

from conftest import REPO

sys.path.insert(0, os.path.join(REPO, "python"))
import aiswds  # noqa: E402


class Proxy:
    """TCP proxy from 127.0.0.1:<port> to upstream (host, port). Connection i (0-based) is cut
    after `after` bytes from the upstream when i is in `cut` (or cut == "all"). Per connection
    it records what the client sent (.sent[i]) and the first bytes it received (.got[i]);
    .conns counts accepted connections."""

    def __init__(self, upstream, after=None, cut=()):
        self.upstream, self.after, self.cut = upstream, after, cut
        self.conns, self.sent, self.got, self.forwarded = 0, {}, {}, {}
        self.lock = threading.Lock()
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.url = "http://127.0.0.1:%d" % self.ls.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            with self.lock:
                i = self.conns
                self.conns += 1
                self.sent[i], self.got[i], self.forwarded[i] = bytearray(), bytearray(), 0
            threading.Thread(target=self._serve, args=(c, i), daemon=True).start()

    def _serve(self, c, i):
        u = socket.create_connection(self.upstream)
        limit = self.after if (self.cut == "all" or i in self.cut) else None

        def up():
            try:
                while True:
                    d = c.recv(65536)
                    if not d:
                        break
                    self.sent[i] += d
                    u.sendall(d)
            except OSError:
                pass
            try:
                u.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        threading.Thread(target=up, daemon=True).start()
        try:
            while True:
                d = u.recv(65536)
                if not d:
                    break
                if limit is not None:
                    d = d[:limit - self.forwarded[i]]
                if len(self.got[i]) < 8192:
                    self.got[i] += d[:8192]
                c.sendall(d)
                self.forwarded[i] += len(d)
                if limit is not None and self.forwarded[i] >= limit:
                    break
        except OSError:
            pass
        for s in (c, u):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def body_bytes(self, i):
        """Object bytes connection i delivered: forwarded minus the reply head."""
        return self.forwarded[i] - (bytes(self.got[i]).index(b"\r\n\r\n") + 4)

    def stop(self):
        self.ls.close()


@pytest.fixture(autouse=True)
def endpoint(cluster, monkeypatch):
    """The package finds the cluster through AIS_ENDPOINT, as a user's job would."""
    monkeypatch.setenv("AIS_ENDPOINT", cluster.url)
    return cluster.url


def put(c, bck, name, data):
    r = requests.put(f"{c.url}/v1/objects/{bck}/{quote(name, safe='/')}", data=data, timeout=60)
    assert r.status_code == 200, r.text


def make_tar(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def owner(c, bck, name):
    """(host, port) of the target the gateway redirects an object GET to."""
    r = requests.get(f"{c.url}/v1/objects/{bck}/{name}", allow_redirects=False, timeout=30)
    assert r.status_code == 307, r.status_code
    m = re.match(r"^http://([^:/]+):(\d+)/", r.headers["Location"])
    return m.group(1), int(m.group(2))


def sha(b):
    return hashlib.sha256(b).hexdigest()


def read_chunks(f, n):
    h, total = hashlib.sha256(), 0
    while True:
        d = f.read(n)
        if not d:
            return h.hexdigest(), total
        assert len(d) <= n
        h.update(d)
        total += len(d)


# --- shard URL patterns -------------------------------------------------------------------

def test_expand_patterns():
    e = aiswds.expand
    assert e("ais://b/shard-{000..099}.tar")[:2] == ["ais://b/shard-000.tar", "ais://b/shard-001.tar"]
    assert len(e("ais://b/shard-{000..099}.tar")) == 100 and e("s-{000..099}")[-1] == "s-099"
    assert e("x{8..11}") == ["x8", "x9", "x10", "x11"]  # no padding without a leading 0
    assert e("{0..10..5}-{a,b}") == ["0-a", "0-b", "5-a", "5-b", "10-a", "10-b"]
    assert e("{3..1}") == ["3", "2", "1"] and e("{a..c}") == ["a", "b", "c"]
    assert e("p{x,y{1..2}}q") == ["pxq", "py1q", "py2q"]
    assert e("plain.tar") == ["plain.tar"] and e("lit{x}-{1,2}") == ["lit{x}-1", "lit{x}-2"]
    assert e("{0..1}{0..1}") == ["00", "01", "10", "11"]
    for bad in ("s-{000..099.tar", "s-}x"):
        with pytest.raises(ValueError):
            e(bad)
    with pytest.raises(ValueError, match="more than"):
        e("{0..999}{0..999}{0..9}")
    assert aiswds.parse_url("ais://b/d/s-1.tar") == ("ais", "b", "d/s-1.tar")
    assert aiswds.parse_url("s3://b/s.tar")[0] == "aws" and aiswds.parse_url("gs://b/s.tar")[0] == "gcp"
    for bad in ("http://b/x", "ais://b", "ais:///x", "b/x"):
        with pytest.raises(ValueError):
            aiswds.parse_url(bad)


# --- the gopen handler ----------------------------------------------------------------------

def test_gopen_byte_exact_small_reads(cluster, bucket):
    rnd = random.Random(4)
    objs = {}
    for i in range(3):  # a few MiB each, members of odd sizes
        objs[f"big/shard-{i:03d}.tar"] = make_tar(
            [(f"s{j:04d}.bin", os.urandom(rnd.randrange(200_001, 400_000))) for j in range(12)])
    objs["odd name+%/a b.bin"] = os.urandom(100_001)
    objs["empty.bin"] = b""
    for n, b in objs.items():
        put(cluster, bucket, n, b)
    assert sum(len(b) for b in objs.values()) > 6 << 20
    for n, b in objs.items():
        with aiswds.ais_gopen(f"ais://{bucket}/{n}", "rb", bufsize=1000) as f:
            assert read_chunks(f, 4093) == (sha(b), len(b)), n
        raw = aiswds.ObjectStream(bucket, n)
        assert raw.size == len(b)
        buf = bytearray(777)
        got = bytearray()
        while True:
            k = raw.readinto(buf)
            if not k:
                break
            got += buf[:k]
        raw.close()
        assert got == b and raw.resumes == 0
    with pytest.raises(aiswds.AISError) as ei:
        aiswds.ais_gopen(f"ais://{bucket}/no-such.tar")
    assert ei.value.status == 404 and "no-such.tar" in ei.value.message
    with pytest.raises(ValueError):
        aiswds.ais_gopen(f"ais://{bucket}/x", "wb")


def test_keepalive_reuse_and_bounds(cluster, bucket):
    names = [f"ka/shard-{i:03d}.tar" for i in range(12)]
    data = {n: os.urandom(20_000 + i) for i, n in enumerate(names)}
    for n, b in data.items():
        put(cluster, bucket, n, b)
    gw = Proxy(("127.0.0.1", int(cluster.url.rsplit(":", 1)[1])))
    try:
        pool = aiswds.ConnPool()
        for n in names:
            with aiswds.ais_gopen(f"ais://{bucket}/{n}", endpoint=gw.url, pool=pool) as f:
                assert f.read() == data[n]
        st = pool.stats()
        # one gateway socket (seen by the proxy) + at most one per target, reused for the rest
        assert gw.conns == 1, gw.conns
        assert st["connects"] <= 1 + 3, st
        assert st["reuses"] == 2 * len(names) - st["connects"], st
        assert st["dropped"] == 0, st
        # a shard closed after a partial read gives its connection back (small remainder)
        f = aiswds.ais_gopen(f"ais://{bucket}/{names[0]}", endpoint=gw.url, pool=pool)
        assert f.read(10) == data[names[0]][:10]
        f.close()
        assert pool.stats()["dropped"] == 0 and pool.stats()["connects"] == st["connects"]
        # another thread has sockets of its own
        out = []
        t = threading.Thread(target=lambda: out.append(
            aiswds.ais_gopen(f"ais://{bucket}/{names[1]}", endpoint=gw.url, pool=pool).read()))
        t.start()
        t.join(60)
        assert out == [data[names[1]]] and gw.conns == 2
        # bounded: one host kept per thread
        small = aiswds.ConnPool(max_hosts=1)
        for n in names:
            aiswds.ais_gopen(f"ais://{bucket}/{n}", pool=small).read()
        assert small.idle_count() == 1 and small.stats()["evicted"] >= 1, small.stats()
    finally:
        gw.stop()


def test_resume_by_range_after_cut(cluster, bucket):
    body = os.urandom(3 << 20)
    put(cluster, bucket, "r/shard.tar", body)
    px = Proxy(owner(cluster, bucket, "r/shard.tar"), after=700_001, cut={0})
    try:
        with aiswds.ais_gopen(f"ais://{bucket}/r/shard.tar", endpoint=px.url, bufsize=4096) as f:
            assert read_chunks(f, 65536) == (sha(body), len(body))
            assert f.raw.resumes == 1
        assert px.conns == 2
        n = px.body_bytes(0)
        assert 0 < n < len(body)
        assert b"Range" not in bytes(px.sent[0])
        assert re.search(rb"\r\nRange: bytes=%d-\r\n" % n, bytes(px.sent[1])), bytes(px.sent[1])
        assert bytes(px.got[1]).startswith(b"HTTP/1.1 206")
    finally:
        px.stop()


@pytest.mark.parametrize("change", ["overwrite", "delete"])
def test_resume_refuses_a_changed_object(cluster, bucket, change):
    body = os.urandom(2 << 20)
    put(cluster, bucket, "c/shard.tar", body)
    px = Proxy(owner(cluster, bucket, "c/shard.tar"), after=300_000, cut={0})
    try:
        f = aiswds.ais_gopen(f"ais://{bucket}/c/shard.tar", endpoint=px.url, bufsize=4096)
        assert f.read(1000) == body[:1000]
        if change == "overwrite":
            put(cluster, bucket, "c/shard.tar", os.urandom(len(body)))  # same size, new bytes
        else:
            r = requests.delete(f"{cluster.url}/v1/objects/{bucket}/c/shard.tar", timeout=30)
            assert r.status_code == 200, r.text
        got = bytearray(body[:1000])
        with pytest.raises(aiswds.ObjectChangedError):
            while True:
                d = f.read(65536)
                assert d, "read to the end without ObjectChangedError"
                got += d
        assert bytes(got) == body[:len(got)] and len(got) < len(body)
        assert px.conns == 2 and b"Range: bytes=" in bytes(px.sent[1])
        f.close()
    finally:
        px.stop()


def test_short_body_is_an_error(cluster, bucket):
    shard = make_tar([(f"{i:04d}.bin", os.urandom(50_000)) for i in range(20)])
    put(cluster, bucket, "s/shard.tar", shard)
    px = Proxy(owner(cluster, bucket, "s/shard.tar"), after=100_000, cut="all")
    try:
        f = aiswds.ais_gopen(f"ais://{bucket}/s/shard.tar", endpoint=px.url, retries=3)
        with pytest.raises(aiswds.ShortReadError, match="short after 3 resumes"):
            read_chunks(f, 8192)
        assert px.conns == 4
        f.close()
        # tarfile over it fails too, instead of ending the shard early
        f = aiswds.ais_gopen(f"ais://{bucket}/s/shard.tar", endpoint=px.url, retries=0)
        with pytest.raises(aiswds.ShortReadError):
            with tarfile.open(fileobj=f, mode="r|") as tf:
                for m in tf:
                    tf.extractfile(m).read()
    finally:
        px.stop()


# --- WebDataset samples -----------------------------------------------------------------------

def wds_shards(cluster, bucket, nshards=4, per=25):
    rnd = random.Random(11)
    want = []
    for s in range(nshards):
        members = []
        for k in range(per):
            key = f"part{s}/{s * per + k:06d}"
            smp = {"__key__": key, "jpg": os.urandom(rnd.randrange(100, 30_000)),
                   "cls": str(rnd.randrange(1000)).encode(), "json": b'{"i": %d}' % k}
            if k % 5 == 0:
                smp["seg.png"] = os.urandom(77)  # extension after the first dot
            want.append(smp)
            members += [(f"{key}.{ext}", v) for ext, v in smp.items() if ext != "__key__"]
        put(cluster, bucket, f"wds/shard-{s:03d}.tar", make_tar(members))
    return f"ais://{bucket}/wds/shard-{{000..{nshards - 1:03d}}}.tar", want


def test_tarfile_samples_out_of_the_stream(cluster, bucket):
    pattern, want = wds_shards(cluster, bucket)
    got = []
    for url in aiswds.expand(pattern):
        with aiswds.ais_gopen(url, bufsize=16384) as f:
            got += list(aiswds.tar_samples(f, url=url))
    assert [g["__key__"] for g in got] == [w["__key__"] for w in want]
    for g, w in zip(got, want):
        assert g.pop("__url__").startswith(f"ais://{bucket}/wds/shard-")
        assert g == w
    assert aiswds.split_key("a.b/c.d.e") == ("a.b/c", "d.e") and aiswds.split_key("a/noext") == (None, None)


def test_webdataset_pipeline(cluster, bucket):
    wds = pytest.importorskip("webdataset", reason="webdataset is not installed (optional); "
                              "ais_gopen was tested as a plain stream above")
    assert aiswds.register()
    pattern, want = wds_shards(cluster, bucket, nshards=2, per=10)
    got = list(wds.WebDataset(pattern, shardshuffle=False))
    assert [g["__key__"] for g in got] == [w["__key__"] for w in want]
    assert all(g["jpg"] == w["jpg"] for g, w in zip(got, want))


# --- batch reads --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def batch_data(cluster):
    bcks = ["wdsba", "wdsbb"]
    for b in bcks:
        r = requests.post(f"{cluster.url}/v1/buckets/{b}", json={"action": "create-bck", "name": "", "value": None},
                          timeout=30)
        assert r.status_code == 200, r.text
    rnd = random.Random(5)
    objs = {}
    for i in range(80):
        b = bcks[i % 2]
        n = f"train/{i:05d}" + "-" * rnd.choice([0, 110]) + ".jpg"  # some need GNU long names
        objs[(b, n)] = os.urandom(rnd.choice([0, 1, 512, 4097, 60_000]))
        put(cluster, b, n, objs[(b, n)])
    members = [("a/1.jpg", os.urandom(3000)), ("a/1.cls", b"7"), ("b/2.jpg", os.urandom(10))]
    put(cluster, bcks[0], "shard-0.tar", make_tar(members))
    return bcks, objs, dict(members)


def test_batch_order_and_bytes(cluster, batch_data):
    bcks, objs, _ = batch_data
    keys = list(objs)
    rnd = random.Random(3)
    order = [rnd.choice(keys) for _ in range(300)]  # repeats allowed: order is the request's
    rd = aiswds.BatchReader()
    got = rd.get(order)
    assert len(got) == len(order) and rd.requests == 1
    assert all(g == objs[k] for g, k in zip(got, order))
    # the same through names of one bucket and the loader, decoded
    names = [n for (b, n) in keys if b == bcks[1]] * 3
    rnd.shuffle(names)
    loader = aiswds.BatchLoader(names, 32, decode=lambda e, d: (e, sha(d)), bucket=bcks[1])
    batches = list(loader)
    assert len(batches) == len(loader) == -(-len(names) // 32)
    assert loader.reader.requests == len(batches)
    flat = [x for bt in batches for x in bt]
    assert flat == [(n, sha(objs[(bcks[1], n)])) for n in names]
    assert len(list(aiswds.BatchLoader(names, 32, drop_last=True, bucket=bcks[1]))) == len(names) // 32


def test_batch_missing_with_and_without_coer(cluster, batch_data):
    bcks, objs, _ = batch_data
    keys = list(objs)
    rnd = random.Random(8)
    order = [rnd.choice(keys) for _ in range(200)]
    miss = {3: (bcks[0], "gone-1.jpg"), 120: (bcks[1], "gone/2.jpg")}
    for i, k in miss.items():
        order[i] = k
    with pytest.raises(aiswds.AISError) as ei:
        aiswds.BatchReader().get(order)
    assert ei.value.status == 404 and "gone-1.jpg" in ei.value.message
    got = aiswds.BatchReader(coer=True).get(order)
    assert [i for i, g in enumerate(got) if g is None] == sorted(miss)
    assert all(g == objs[k] for i, (g, k) in enumerate(zip(got, order)) if i not in miss)
    with pytest.raises(aiswds.MissingEntriesError) as ei:
        aiswds.BatchReader(coer=True, missing="raise").get(order)
    assert ei.value.missing == [(i, f"{b}/{n}") for i, (b, n) in sorted(miss.items())]
    # an empty object is not a missing one
    empty = next(k for k in keys if not objs[k])
    assert aiswds.BatchReader(coer=True).get([empty, miss[3]]) == [b"", None]


def test_batch_archpath_entries(cluster, batch_data):
    bcks, objs, members = batch_data
    plain = next(k for k in objs if objs[k])
    ents = [(bcks[0], "shard-0.tar", "b/2.jpg"), plain, (bcks[0], "shard-0.tar", "a/1.cls"),
            {"objname": "shard-0.tar", "bucket": bcks[0], "archpath": "a/1.jpg", "start": 5, "length": 100},
            (bcks[0], "shard-0.tar", "a/nope.txt"), (bcks[0], "shard-0.tar", "a/1.jpg")]
    got = aiswds.BatchReader(coer=True).get(ents)
    assert got == [members["b/2.jpg"], objs[plain], b"7", members["a/1.jpg"][5:105], None,
                   members["a/1.jpg"]]
    with pytest.raises(aiswds.AISError) as ei:
        aiswds.BatchReader().get(ents)
    assert ei.value.status == 404 and "nope.txt" in ei.value.message


def test_batch_short_reply_is_an_error(cluster, batch_data):
    bcks, objs, _ = batch_data
    big = [k for k in objs if len(objs[k]) == 60_000][:8]
    assert len(big) == 8
    tgt = owner(cluster, big[0][0], big[0][1])  # any target serves /v1/ml/moss
    px = Proxy(tgt, after=150_000, cut={0})
    try:
        with pytest.raises(aiswds.ShortReadError):
            aiswds.BatchReader(endpoint=px.url, retries=0).get(big)
        rd = aiswds.BatchReader(endpoint=px.url, retries=1)
        assert rd.get(big) == [objs[k] for k in big]  # connection 1 is not cut
        assert rd.requests == 1 and px.conns == 2
    finally:
        px.stop()
    # a short batch retried: the second request succeeds
    px = Proxy(tgt, after=150_000, cut={0})
    try:
        rd = aiswds.BatchReader(endpoint=px.url, retries=1)
        assert rd.get(big) == [objs[k] for k in big]
        assert rd.requests == 2 and px.conns == 2
    finally:
        px.stop()


def test_loader_deals_batches_to_workers(cluster, batch_data, monkeypatch):
    """As a torch IterableDataset in DataLoader worker k of n, the loader reads batches k, k+n..
    only (torch is absent here: the worker info is faked where the loader asks for it)."""
    bcks, objs, _ = batch_data
    names = [n for (b, n) in objs if b == bcks[0]]
    whole = list(aiswds.BatchLoader(names, 7, bucket=bcks[0]))
    seen = []
    for wid in range(3):
        monkeypatch.setattr(aiswds.batch, "_worker_info", lambda: type("W", (), {"num_workers": 3, "id": wid}))
        seen.append(list(aiswds.BatchLoader(names, 7, bucket=bcks[0])))
    assert [len(s) for s in seen] == [len(whole[w::3]) for w in range(3)]
    assert all(seen[w] == whole[w::3] for w in range(3))
    assert whole == [[objs[(bcks[0], n)] for n in names[i:i + 7]] for i in range(0, len(names), 7)]
