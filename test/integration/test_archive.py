"""Reads inside shards (issue 18 parts 1-2): archpath, archregx/archmode, archlist.

Goal: GET with the query parameters the AIS Python SDK's ArchiveConfig sends returns a member's
exact bytes for .tar, .tgz, .tar.gz, .zip and .tar.lz4 shards, 404 naming a missing member,
several members as a TAR, and the member list; a .tar PUT is indexed as it streams, so the
first read is an indexed one (`Ais-Archive-Index: hit`), a shard written without an index is
scanned once (`scan`) and then indexed, and an overwritten shard never serves old bytes.
Method: one module cluster (1 gateway, 2 targets); shards built in memory with Python's
tarfile/zipfile (lz4 through the lz4 CLI when present); plain requests through the gateway
(307 to the owner), with the parameter names and values the SDK uses.
"""
import glob
import io
import os
import shutil
import subprocess
import tarfile

import pytest
import requests

import conftest
from conftest import cluster_of, make_zip

MEMBERS = {
    "a/aaa.jpg": b"JPEG" * 1000,
    "a/aaa.json": b'{"k": 1}',
    "a/bbb.jpg": os.urandom(70000),
    "a/bbb.json": b'{"k": 2}',
    "empty.txt": b"",
    "d" * 120 + "/long-name-member.bin": os.urandom(1500),  # GNU long name / pax path
}


@pytest.fixture(scope="module")
def cluster(request):
    yield from cluster_of(request, targets=2, mountpaths=2)


def make_tar(members, fmt=tarfile.GNU_FORMAT, mode="w"):
    return conftest.make_tar(members, fmt=fmt, mode=mode, dirs=("a",))


def obj_url(c, bck, name):
    return f"{c.url}/v1/objects/{bck}/{name}"


def put(c, bck, name, data):
    r = requests.put(obj_url(c, bck, name), data=data, timeout=30)
    assert r.status_code == 200, r.text


def get(c, bck, name, **params):
    return requests.get(obj_url(c, bck, name), params=params, timeout=30)


def tar_members(data):
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tf:
        return {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}


@pytest.mark.parametrize("ext,build", [
    (".tar", lambda m: make_tar(m)),
    (".tar", lambda m: make_tar(m, fmt=tarfile.PAX_FORMAT)),
    (".tgz", lambda m: make_tar(m, mode="w:gz")),
    (".tar.gz", lambda m: make_tar(m, mode="w:gz")),
    (".zip", make_zip),
])
def test_archpath_member_bytes(cluster, bucket, ext, build):
    name = "shard" + ext
    put(cluster, bucket, name, build(MEMBERS))
    for member, data in MEMBERS.items():
        # the SDK sends archpath plus an empty archregx
        r = get(cluster, bucket, name, archpath=member, archregx="")
        assert r.status_code == 200, r.text
        assert r.content == data, member
        assert int(r.headers["Content-Length"]) == len(data)
    r = get(cluster, bucket, name, archpath="no/such.txt")
    assert r.status_code == 404, r.text
    assert "no/such.txt" in r.json()["message"]


def test_tar_lz4(cluster, bucket):
    lz4 = shutil.which("lz4")
    if lz4 is None:
        pytest.skip("no lz4 CLI to build the shard")
    raw = make_tar(MEMBERS)
    out = subprocess.run([lz4, "-c", "-q"], input=raw, capture_output=True, check=True).stdout
    put(cluster, bucket, "s.tar.lz4", out)
    r = get(cluster, bucket, "s.tar.lz4", archpath="a/bbb.jpg")
    assert r.status_code == 200 and r.content == MEMBERS["a/bbb.jpg"]


def test_archmime_overrides_extension(cluster, bucket):
    put(cluster, bucket, "shard.bin", make_zip(MEMBERS))
    r = get(cluster, bucket, "shard.bin", archpath="a/aaa.json", archmime=".zip")
    assert r.status_code == 200 and r.content == MEMBERS["a/aaa.json"]
    r = get(cluster, bucket, "shard.bin", archpath="a/aaa.json")  # sniffed: PK magic
    assert r.status_code == 200 and r.content == MEMBERS["a/aaa.json"]
    r = get(cluster, bucket, "shard.bin", archpath="a/aaa.json", archmime="nosuch")
    assert r.status_code == 400, r.text


@pytest.mark.parametrize("ext", [".tar", ".tgz", ".zip"])
def test_multi_selection_returns_tar(cluster, bucket, ext):
    name = "multi" + ext
    data = make_zip(MEMBERS) if ext == ".zip" else make_tar(MEMBERS, mode="w:gz" if ext == ".tgz" else "w")
    put(cluster, bucket, name, data)
    cases = [
        ({"archregx": "a/aaa", "archmode": "wdskey"}, {"a/aaa.jpg", "a/aaa.json"}),
        ({"archregx": "a/b", "archmode": "prefix"}, {"a/bbb.jpg", "a/bbb.json"}),
        ({"archregx": ".json", "archmode": "suffix"}, {"a/aaa.json", "a/bbb.json"}),
        ({"archregx": "bb", "archmode": "substr"}, {"a/bbb.jpg", "a/bbb.json"}),
        ({"archregx": r"^a/[ab]+\.jpg$", "archmode": "regexp"}, {"a/aaa.jpg", "a/bbb.jpg"}),
    ]
    for params, want in cases:
        r = get(cluster, bucket, name, archpath="", **params)
        assert r.status_code == 200, (params, r.text)
        assert r.headers["Content-Type"] == "application/x-tar"
        got = tar_members(r.content)
        assert set(got) == want, params
        assert all(got[k] == MEMBERS[k] for k in want)
    r = get(cluster, bucket, name, archregx="zzz", archmode="prefix")
    assert r.status_code == 404 and "zzz" in r.json()["message"]
    r = get(cluster, bucket, name, archregx="a", archmode="glob")
    assert r.status_code == 400 and "glob" in r.json()["message"]


def test_long_names_in_multi_output(cluster, bucket):
    put(cluster, bucket, "long.tar", make_tar(MEMBERS))
    r = get(cluster, bucket, "long.tar", archregx="d" * 10, archmode="prefix")
    assert r.status_code == 200, r.text
    got = tar_members(r.content)
    long = "d" * 120 + "/long-name-member.bin"
    assert got == {long: MEMBERS[long]}


def test_put_indexes_then_overwrite_serves_new(cluster, bucket):
    put(cluster, bucket, "ix.tar", make_tar(MEMBERS))
    r = get(cluster, bucket, "ix.tar", archpath="a/aaa.json")
    assert r.status_code == 200 and r.content == MEMBERS["a/aaa.json"]
    assert r.headers["Ais-Archive-Index"] == "hit"
    v2 = dict(MEMBERS, **{"a/aaa.json": b'{"k": "version two, longer than before"}'})
    v2["new.txt"] = b"new member"
    put(cluster, bucket, "ix.tar", make_tar(v2))
    for member, data in v2.items():
        r = get(cluster, bucket, "ix.tar", archpath=member)
        assert r.status_code == 200 and r.content == data, member
        assert r.headers["Ais-Archive-Index"] == "hit"


def test_delete_drops_the_index(cluster, bucket):
    def sidecars(name):
        return glob.glob(os.path.join(cluster.dir, "t*", "mp*", "@ais", bucket, "%ix", name))
    put(cluster, bucket, "gone.tar", make_tar(MEMBERS))
    put(cluster, bucket, "gone.shard", make_tar(MEMBERS))
    r = get(cluster, bucket, "gone.shard", archpath="a/bbb.jpg", archmime=".tar")  # indexed by a scan
    assert r.status_code == 200
    assert len(sidecars("gone.tar")) == 1 and len(sidecars("gone.shard")) == 1
    for name in ("gone.tar", "gone.shard"):
        r = requests.delete(f"{cluster.url}/v1/objects/{bucket}/{name}", timeout=30)
        assert r.status_code == 200, r.text
        assert sidecars(name) == [], name


def test_unindexed_tar_is_scanned_once(cluster, bucket):
    # a name without .tar gets no index at PUT; archmime makes it a TAR on read
    put(cluster, bucket, "raw.shard", make_tar(MEMBERS))
    r = get(cluster, bucket, "raw.shard", archpath="a/bbb.jpg", archmime=".tar")
    assert r.status_code == 200 and r.content == MEMBERS["a/bbb.jpg"]
    assert r.headers["Ais-Archive-Index"] == "scan"
    r = get(cluster, bucket, "raw.shard", archpath="a/aaa.jpg", archmime=".tar")
    assert r.status_code == 200 and r.content == MEMBERS["a/aaa.jpg"]
    assert r.headers["Ais-Archive-Index"] == "hit"
    # overwritten: the stored index names the old file, so the next read scans again
    put(cluster, bucket, "raw.shard", make_tar({"a/bbb.jpg": b"replaced"}))
    r = get(cluster, bucket, "raw.shard", archpath="a/bbb.jpg", archmime=".tar")
    assert r.status_code == 200 and r.content == b"replaced"
    assert r.headers["Ais-Archive-Index"] == "scan"
    r = get(cluster, bucket, "raw.shard", archpath="a/aaa.jpg", archmime=".tar")
    assert r.status_code == 404


def test_not_an_archive(cluster, bucket):
    put(cluster, bucket, "bad.tar", b"x" * 2000)
    r = get(cluster, bucket, "bad.tar", archpath="a")
    assert r.status_code == 400, r.text
    r = get(cluster, bucket, "plain.txt")
    assert r.status_code == 404
    put(cluster, bucket, "plain.txt", b"hello")
    assert get(cluster, bucket, "plain.txt").content == b"hello"


@pytest.mark.parametrize("ext", [".tar", ".zip"])
def test_list_members(cluster, bucket, ext):
    name = "ls" + ext
    put(cluster, bucket, name, make_zip(MEMBERS) if ext == ".zip" else make_tar(MEMBERS))
    r = get(cluster, bucket, name, archlist="true")
    assert r.status_code == 200, r.text
    ents = r.json()["entries"]
    assert ents[0]["name"] == name and ents[0]["flags"] & 512
    got = {e["name"]: int(e["size"]) for e in ents[1:]}
    assert got == {f"{name}/{k}": len(v) for k, v in MEMBERS.items()}
    assert all(e["flags"] & 128 for e in ents[1:])


def test_cli_ls_archive_and_get_archpath(cluster, bucket, tmp_path):
    from conftest import BUILD
    ais = os.path.join(BUILD, "cli", "ais")
    if not os.path.exists(ais):
        pytest.skip("no ais CLI in this build")
    put(cluster, bucket, "cli.tar", make_tar(MEMBERS))
    env = dict(os.environ, AIS_ENDPOINT=cluster.url)
    out = subprocess.run([ais, "ls", f"ais://{bucket}/cli.tar", "--archive"], env=env,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "cli.tar/a/bbb.jpg" in out.stdout and "cli.tar/empty.txt" in out.stdout
    dst = tmp_path / "m.jpg"
    out = subprocess.run([ais, "get", f"ais://{bucket}/cli.tar", str(dst), "--archpath", "a/bbb.jpg"],
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert dst.read_bytes() == MEMBERS["a/bbb.jpg"]
