"""HEAD of a file inside a shard, and list-objects with the arch-dir flag (issue 18).

Goal: `HEAD /v1/objects/B/SHARD?archpath=MEMBER` answers the member's size as Content-Length
(no body) for every format the targets read (.tar indexed at PUT or scanned, .tgz, .tar.gz,
.zip, .tar.lz4), 404 with the member's name in Hdr-Error when it is absent; and a bucket
listing with flags=8 (AIS apc.LsArchDir, `ais ls BUCKET --archive`) returns every object plus
each shard's members as "SHARD/MEMBER" (flags 128 in-archive; the shard 512 is-archive), in
strcmp order, over pages of any size - members count toward the page size - also when
objects sort between a shard and its members ("s.tar.1" < "s.tar/x") and when a page ends
inside a shard's members.
Method: one module cluster (1 gateway, 2 targets, 2 mountpaths each); shards built in memory
with tarfile/zipfile (members stored out of name order); HEAD and list through the gateway
with requests, paging with and without the list session (uuid), JSON and msgpack replies;
the `ais` CLI for `ais ls ais://B --archive`.
"""
import os
import random
import shutil
import subprocess

import msgpack
import pytest
import requests

from conftest import cluster_of, make_tar, make_zip

MEMBERS = {
    "z/last.bin": os.urandom(3000),
    "a/aaa.jpg": b"JPEG" * 1000,
    "./dot/x.txt": b"dot-slash",
    "a/bbb.json": b'{"k": 2}',
    "empty.txt": b"",
    "d" * 120 + "/long-name-member.bin": os.urandom(1500),
}


def norm(name):
    return name[2:] if name.startswith("./") else name


@pytest.fixture(scope="module")
def cluster(request):
    yield from cluster_of(request, targets=2, mountpaths=2)


def make_lz4(members):
    lz4 = shutil.which("lz4")
    if lz4 is None:
        pytest.skip("no lz4 CLI to build the shard")
    return subprocess.run([lz4, "-c", "-q"], input=make_tar(members), capture_output=True,
                          check=True).stdout


BUILDERS = {
    ".tar": make_tar,
    ".tgz": lambda m: make_tar(m, mode="w:gz"),
    ".tar.gz": lambda m: make_tar(m, mode="w:gz"),
    ".zip": make_zip,
    ".tar.lz4": make_lz4,
}


def obj_url(c, bck, name):
    return f"{c.url}/v1/objects/{bck}/{name}"


def put(c, bck, name, data):
    r = requests.put(obj_url(c, bck, name), data=data, timeout=30)
    assert r.status_code == 200, r.text


def head(c, bck, name, **params):
    return requests.head(obj_url(c, bck, name), params=params, allow_redirects=True, timeout=30)


@pytest.mark.parametrize("ext", list(BUILDERS))
def test_head_archpath(cluster, bucket, ext):
    name = "shard" + ext
    shard = BUILDERS[ext](MEMBERS)
    put(cluster, bucket, name, shard)
    for member, data in MEMBERS.items():
        r = head(cluster, bucket, name, archpath=norm(member))
        assert r.status_code == 200, r.headers.get("Hdr-Error")
        assert int(r.headers["Content-Length"]) == len(data), member
        assert r.content == b""
        assert r.headers["Ais-Archive-Index"] == ("hit" if ext == ".tar" else "none")
    r = head(cluster, bucket, name, archpath="no/such.txt")
    assert r.status_code == 404
    assert "no/such.txt" in r.headers["Hdr-Error"] and name in r.headers["Hdr-Error"]
    # without archpath: the shard itself
    r = head(cluster, bucket, name)
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(shard)
    assert "Ais-Archive-Index" not in r.headers


def test_head_archpath_unindexed_and_errors(cluster, bucket):
    # no .tar name: no index at PUT; archmime makes it a TAR, the first read scans
    put(cluster, bucket, "raw.shard", make_tar(MEMBERS))
    r = head(cluster, bucket, "raw.shard", archpath="a/aaa.jpg", archmime=".tar")
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == 4000
    assert r.headers["Ais-Archive-Index"] == "scan"
    r = head(cluster, bucket, "raw.shard", archpath="z/last.bin", archmime=".tar")
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == 3000
    assert r.headers["Ais-Archive-Index"] == "hit"
    # sniffed by magic (zip)
    put(cluster, bucket, "raw.bin", make_zip(MEMBERS))
    r = head(cluster, bucket, "raw.bin", archpath="a/bbb.json")
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == 8
    # not an archive, no such shard
    put(cluster, bucket, "bad.tar", b"x" * 2000)
    assert head(cluster, bucket, "bad.tar", archpath="a").status_code == 400
    r = head(cluster, bucket, "nosuch.tar", archpath="a")
    assert r.status_code == 404 and "nosuch.tar" in r.headers["Hdr-Error"]
    # HEAD and GET agree
    r = requests.get(obj_url(cluster, bucket, "raw.shard"), params={"archpath": "a/aaa.jpg",
                                                                    "archmime": ".tar"})
    assert r.status_code == 200 and len(r.content) == 4000


# ---- list-objects with the arch-dir flag ----

def list_page(c, bck, pagesize=0, token="", uuid="", use_msgpack=False, flags="8", prefix=""):
    body = {"prefix": prefix, "pagesize": pagesize, "uuid": uuid, "props": "name,size",
            "continuation_token": token, "flags": flags, "target": ""}
    hdr = {"Accept": "application/msgpack"} if use_msgpack else {}
    r = requests.get(f"{c.url}/v1/buckets/{bck}", params={"provider": "ais"},
                     json={"action": "list", "name": "", "value": body}, headers=hdr, timeout=60)
    assert r.status_code == 200, r.text
    if use_msgpack:
        d = msgpack.unpackb(r.content)
        ents = [(e["n"], e["s"], e["f"]) for e in d["Entries"] or []]
        return d["UUID"], d["ContinuationToken"], ents
    d = r.json()
    return d["uuid"], d["continuation_token"], [(e["name"], int(e["size"]), e["flags"])
                                                for e in d["entries"]]


def list_all(c, bck, pagesize, keep_uuid=True, use_msgpack=False, prefix=""):
    got, token, uuid = [], "", ""
    for _ in range(10000):
        uuid2, token, ents = list_page(c, bck, pagesize, token, uuid if keep_uuid else "",
                                       use_msgpack, prefix=prefix)
        if pagesize:
            assert len(ents) <= pagesize
            assert token == "" or len(ents) == pagesize
        uuid = uuid2
        got += ents
        if token == "":
            return got
    raise AssertionError("listing does not end")


def members_of(n, seed):
    rnd = random.Random(seed)
    names = [f"m{rnd.randrange(10**6):06d}/{i}.bin" for i in range(n)]
    rnd.shuffle(names)  # stored out of name order
    return {m: os.urandom(rnd.randrange(0, 64)) for m in names}


def populate(c, bck):
    """Objects and shards, several of them sorting between a shard and its members."""
    want = {}
    objs = {}
    for i in range(6):
        objs[f"plain-{i:03d}.txt"] = b"p" * i
    for i, ext in enumerate([".tar", ".tgz", ".zip", ".tar.gz", ".tar", ".zip", ".tar"]):
        objs[f"sh-{i:02d}{ext}"] = (members_of(5 + 3 * i, i), ext)
    for k in range(5):  # families: with 2 targets, some land on one target together
        objs[f"n{k}.tar"] = (members_of(9 + k, 100 + k), ".tar")
        objs[f"n{k}.tar.1.tar"] = (members_of(4, 200 + k), ".tar")  # between n.tar and its members
        objs[f"n{k}.tar.idx"] = b"between"
        objs[f"n{k}.tar-x.zip"] = (members_of(3, 300 + k), ".zip")
        objs[f"n{k}.tar.1.tar.txt"] = b"deeper"
    objs["broken.tar"] = b"not a tar at all" * 100  # listed without members, not is-archive
    for name, v in objs.items():
        if isinstance(v, bytes):
            put(c, bck, name, v)
            want[name] = (len(v), 64)
            continue
        members, ext = v
        data = BUILDERS[ext](members)
        put(c, bck, name, data)
        want[name] = (len(data), 64 | 512)
        for m, d in members.items():
            want[f"{name}/{m}"] = (len(d), 64 | 128)
    return [(n, s, f) for n, (s, f) in sorted(want.items())]


def test_list_arch_dir_all_and_paged(cluster, bucket):
    want = populate(cluster, bucket)
    assert list_all(cluster, bucket, 0) == want
    for pagesize in (1, 2, 3, 7, 10, 64):
        assert list_all(cluster, bucket, pagesize) == want, pagesize
    for pagesize in (1, 5, 13):  # no session: every target resumes after the token alone
        assert list_all(cluster, bucket, pagesize, keep_uuid=False) == want, pagesize
    assert list_all(cluster, bucket, 4, use_msgpack=True) == want
    # a prefix that selects shards
    got = list_all(cluster, bucket, 3, prefix="n1.tar.")
    assert got == [e for e in want if e[0].startswith("n1.tar.")] and len(got) == 7
    # without the flag: objects only
    _, token, ents = list_page(cluster, bucket, flags="0")
    assert token == "" and [e[0] for e in ents] == sorted(e[0] for e in want if not e[2] & 128)
    assert all(e[2] == 64 for e in ents)


def test_list_arch_dir_big_shard_small_pages(cluster, bucket):
    members = {f"k/{i:05d}": b"" for i in random.Random(7).sample(range(20000), 3000)}
    put(cluster, bucket, "big.tgz", make_tar(members, mode="w:gz"))
    put(cluster, bucket, "big.tgz.a", b"x")
    put(cluster, bucket, "c.txt", b"y")
    want = sorted(["big.tgz", "big.tgz.a", "c.txt"] + [f"big.tgz/{m}" for m in members])
    got = list_all(cluster, bucket, 250)
    assert [e[0] for e in got] == want
    got = list_all(cluster, bucket, 999, keep_uuid=False)
    assert [e[0] for e in got] == want


def test_list_arch_dir_token_longer_than_object_names(cluster, bucket):
    shard = "/".join(["x" * 200] * 4) + ".tar"  # 807 bytes; members make names > 1024
    members = {f"{'y' * 200}/{'z' * 100}{i}": bytes([i]) for i in range(5)}
    put(cluster, bucket, shard, make_tar(members))
    put(cluster, bucket, "zzz", b"after")
    want = [shard] + sorted(f"{shard}/{m}" for m in members) + ["zzz"]
    for keep in (True, False):
        assert [e[0] for e in list_all(cluster, bucket, 1, keep_uuid=keep)] == want


def test_cli_ls_archive_bucket(cluster, bucket):
    from conftest import BUILD
    ais = os.path.join(BUILD, "cli", "ais")
    if not os.path.exists(ais):
        pytest.skip("no ais CLI in this build")
    put(cluster, bucket, "one.tar", make_tar({"b.txt": b"bb", "a.txt": b"a"}))
    put(cluster, bucket, "one.tar.txt", b"plain")
    put(cluster, bucket, "two.zip", make_zip({"x/y.bin": b"xyz"}))
    env = dict(os.environ, AIS_ENDPOINT=cluster.url)
    for extra in ([], ["--page-size", "2"]):
        out = subprocess.run([ais, "ls", f"ais://{bucket}", "--archive", "--no-headers"] + extra,
                             env=env, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        names = [ln.split()[0] for ln in out.stdout.splitlines() if ln.strip()]
        assert names == ["one.tar", "one.tar.txt", "one.tar/a.txt", "one.tar/b.txt", "two.zip",
                         "two.zip/x/y.bin"], out.stdout
    out = subprocess.run([ais, "ls", f"ais://{bucket}", "--no-headers"], env=env,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "one.tar/a.txt" not in out.stdout
