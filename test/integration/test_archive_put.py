"""Writes into shards (issue 18): append to a TAR and the archive job.

Goal: PUT ?archpath= appends a member to an existing .tar (AIS PutApndArch, header Ais-Pine:
1 = the shard must exist, 2 = create it when missing, none = a new one-member shard), the result
is byte-exact when read back member by member (through the index: `Ais-Archive-Index: hit`,
never stale) and as a whole with Python's tarfile; bad requests get clear 4xx/5xx JSON errors;
a kill -9 during appends leaves the shard old or new, never torn. `archive` (PUT
/v1/buckets/<src> ActMsg with ArchiveBckMsg) builds one shard from a list or a template as a
job visible in `ais job ls` that `ais job wait` waits for; missing sources fail the job unless
`coer`; the CLI commands `ais archive put` and `ais archive bucket` do the same.
Method: one module cluster (1 gateway, 2 targets); plain requests through the gateway (307 to
the owner) and the ais CLI of the build.
"""
import io
import os
import subprocess
import tarfile
import threading
import time

import pytest
import requests

from conftest import cluster_of, make_tar, wait_until


@pytest.fixture(scope="module")
def cluster(request):
    yield from cluster_of(request, targets=2, mountpaths=2)


def tar_members(data):
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tf:
        return [(m.name, tf.extractfile(m).read()) for m in tf.getmembers() if m.isfile()]


def url(c, bck, name):
    return f"{c.url}/v1/objects/{bck}/{name}"


def put(c, bck, name, data):
    r = requests.put(url(c, bck, name), data=data, timeout=30)
    assert r.status_code == 200, r.text


def append(c, bck, name, path, data, flags="1", **extra):
    hdr = {"Ais-Pine": flags} if flags is not None else {}
    return requests.put(url(c, bck, name), params={"archpath": path, **extra}, data=data,
                        headers=hdr, timeout=60)


def member(c, bck, name, path):
    return requests.get(url(c, bck, name), params={"archpath": path}, timeout=30)


def cli(c, *args, check=True):
    env = dict(os.environ, AIS_ENDPOINT=c.url)
    r = subprocess.run([os.path.join(c.build_dir, "cli", "ais"), *args], env=env,
                       capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


# ---- append ----

def test_append_members_byte_exact(cluster, bucket):
    orig = {"a/1.bin": os.urandom(1000), "a/2.txt": b"two"}
    put(cluster, bucket, "s.tar", make_tar(orig))
    added = [("b/3.bin", os.urandom(70000)), ("empty", b""),
             ("x" * 150 + "/long.bin", os.urandom(513)), ("c/" + "y" * 99, b"99-byte name")]
    for name, data in added:
        r = append(cluster, bucket, "s.tar", name, data)
        assert r.status_code == 200, r.text
        assert r.headers.get("Ais-Checksum-Value")
        g = member(cluster, bucket, "s.tar", name)
        assert g.status_code == 200, g.text
        assert g.content == data
        assert g.headers["Ais-Archive-Index"] == "hit"  # rebuilt with the append: never stale
    whole = requests.get(url(cluster, bucket, "s.tar"), timeout=30)
    assert whole.status_code == 200
    assert tar_members(whole.content) == list(orig.items()) + added
    # the stored checksum is the new shard's: a validated GET passes
    v = requests.get(url(cluster, bucket, "s.tar"), params={"validate-checksum": "true"},
                     timeout=30)
    assert v.status_code == 200 and v.content == whole.content
    # old members still served by offset from the new index
    assert member(cluster, bucket, "s.tar", "a/2.txt").content == b"two"


def test_append_to_tar_without_index_and_archpath_prefix(cluster, bucket):
    # stored under a name that is not *.tar: no index at PUT; archmime says it is a TAR
    put(cluster, bucket, "shard.bin", make_tar({"one": b"1"}))
    r = append(cluster, bucket, "shard.bin", "shard.bin/two", b"22", archmime=".tar")
    assert r.status_code == 200, r.text
    g = requests.get(url(cluster, bucket, "shard.bin"), timeout=30)
    assert tar_members(g.content) == [("one", b"1"), ("two", b"22")]


def test_append_missing_shard(cluster, bucket):
    r = append(cluster, bucket, "none.tar", "m", b"data", flags="1")
    assert r.status_code == 404, r.text
    assert "does not exist" in r.json()["message"]
    assert requests.head(url(cluster, bucket, "none.tar"), allow_redirects=True,
                         timeout=10).status_code == 404
    r = append(cluster, bucket, "new.tar", "m", b"data", flags="2")
    assert r.status_code == 200, r.text
    g = requests.get(url(cluster, bucket, "new.tar"), timeout=30)
    assert tar_members(g.content) == [("m", b"data")]
    r = append(cluster, bucket, "new.tar", "n", b"more", flags="2")  # exists now: appends
    assert r.status_code == 200, r.text
    g = requests.get(url(cluster, bucket, "new.tar"), timeout=30)
    assert tar_members(g.content) == [("m", b"data"), ("n", b"more")]
    # no flags: a new shard with just that file (AIS PutApndArch without flags)
    r = append(cluster, bucket, "new.tar", "only", b"o", flags=None)
    assert r.status_code == 200, r.text
    g = requests.get(url(cluster, bucket, "new.tar"), timeout=30)
    assert tar_members(g.content) == [("only", b"o")]


def test_append_bad_input(cluster, bucket):
    put(cluster, bucket, "plain.tar", b"this is not a tar archive at all" * 40)
    r = append(cluster, bucket, "plain.tar", "m", b"x")
    assert r.status_code == 400, r.text
    assert "not a valid TAR" in r.json()["message"]
    assert requests.get(url(cluster, bucket, "plain.tar"), timeout=10).content.startswith(b"this")
    put(cluster, bucket, "ok.tar", make_tar({"a": b"a"}))
    for bad, why in [("", "empty"), ("../etc/passwd", ""), ("a//b", ""), ("dir/", "directory")]:
        r = append(cluster, bucket, "ok.tar", bad, b"x")
        assert r.status_code == 400, (bad, r.text)
        assert "invalid archpath" in r.json()["message"]
        assert why in r.json()["message"]
    r = append(cluster, bucket, "ok.tar", "m", b"x", flags="abc")
    assert r.status_code == 400 and "invalid flags" in r.json()["message"]
    for name in ("s.tgz", "s.tar.gz", "s.zip", "s.tar.lz4"):
        r = append(cluster, bucket, name, "m", b"x", flags="2")
        assert r.status_code == 501, r.text
        assert "only TAR" in r.json()["message"]
    r = append(cluster, bucket, "notarch.bin", "m", b"x", flags="2")
    assert r.status_code == 400 and "not an archive name" in r.json()["message"]
    g = requests.get(url(cluster, bucket, "ok.tar"), timeout=10)
    assert tar_members(g.content) == [("a", b"a")]


def test_concurrent_appends_all_land(cluster, bucket):
    put(cluster, bucket, "c.tar", make_tar({"base": b"b"}))
    errs = []

    def one(i):
        r = append(cluster, bucket, "c.tar", f"m{i:02d}", str(i).encode() * 100)
        if r.status_code != 200:
            errs.append(r.text)

    ths = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    assert not errs
    got = dict(tar_members(requests.get(url(cluster, bucket, "c.tar"), timeout=30).content))
    assert set(got) == {"base"} | {f"m{i:02d}" for i in range(12)}
    for i in range(12):
        assert got[f"m{i:02d}"] == str(i).encode() * 100


def test_cli_archive_put(cluster, bucket, tmp_path):
    f = tmp_path / "local.bin"
    data = os.urandom(3000)
    f.write_bytes(data)
    r = cli(cluster, "archive", "put", str(f), f"ais://{bucket}/cli.tar", "--archpath", "in/x.bin",
            "--append", check=False)
    assert r.returncode != 0 and "does not exist" in (r.stdout + r.stderr)
    cli(cluster, "archive", "put", str(f), f"ais://{bucket}/cli.tar", "--archpath", "in/x.bin",
        "--append-or-put")
    cli(cluster, "archive", "put", str(f), f"ais://{bucket}/cli.tar", "--archpath", "in/y.bin", "--append")
    g = requests.get(url(cluster, bucket, "cli.tar"), timeout=30)
    assert tar_members(g.content) == [("in/x.bin", data), ("in/y.bin", data)]
    # no flag: a new shard with just the file (AIS), named after it without --archpath
    cli(cluster, "archive", "put", str(f), f"ais://{bucket}/cli.tar")
    g = requests.get(url(cluster, bucket, "cli.tar"), timeout=30)
    assert tar_members(g.content) == [("local.bin", data)]


def test_kill9_mid_append_leaves_old_or_new(cluster, bucket):
    old = make_tar({f"f{i}": os.urandom(1 << 20) for i in range(48)})  # 48 MiB: a slow copy
    put(cluster, bucket, "big.tar", old)
    loc = requests.head(url(cluster, bucket, "big.tar"), allow_redirects=False,
                        timeout=10).headers["Location"]
    name = next(n for n in ("t0", "t1") if cluster.target_url(cluster.node_id(n)) in loc)
    added = os.urandom(5000)

    def run():
        try:
            append(cluster, bucket, "big.tar", "new", added)
        except requests.RequestException:
            pass

    th = threading.Thread(target=run, daemon=True)
    th.start()
    time.sleep(0.15)
    cluster.kill9(name)
    th.join(30)
    cluster.restart(name)
    wait_until(lambda: requests.get(url(cluster, bucket, "big.tar"), timeout=10).status_code
               == 200, 60, what="the shard to be served again")
    got = requests.get(url(cluster, bucket, "big.tar"), timeout=60).content
    new = tar_members(got)
    assert got == old or new == tar_members(old) + [("new", added)]


# ---- archive bucket ----

def archive(c, src, dst, shard, **value):
    msg = {"action": "archive", "name": "",
           "value": {"tobck": {"name": dst, "provider": "ais"}, "archname": shard, **value}}
    return requests.put(f"{c.url}/v1/buckets/{src}", json=msg, timeout=30)


def job_wait(c, jid, timeout=60):
    def done():
        r = requests.get(f"{c.url}/v1/cluster", params={"what": "status"},
                         json={"ID": jid}, timeout=10)
        return r.json() if r.status_code == 200 and r.json().get("end_time", 0) else None
    return wait_until(done, timeout, what=f"job {jid} to end")


def fill(c, bck, n, prefix="obj-"):
    data = {}
    for i in range(n):
        name = f"{prefix}{i:03d}"
        data[name] = os.urandom(100 + i * 37)
        put(c, bck, name, data[name])
    return data


@pytest.fixture
def dst(cluster):
    name = "d%06d" % (int(time.time() * 1e6) % 10**6)
    r = requests.post(f"{cluster.url}/v1/buckets/{name}", json={"action": "create-bck"})
    assert r.status_code == 200, r.text
    yield name
    requests.delete(f"{cluster.url}/v1/buckets/{name}", json={"action": "destroy-bck"})


def test_archive_bucket_list_and_template(cluster, bucket, dst):
    src = fill(cluster, bucket, 30)
    names = ["obj-005", "obj-001", "obj-017"]
    r = archive(cluster, bucket, dst, "list.tar", objnames=names)
    assert r.status_code == 200, r.text
    st = job_wait(cluster, r.text.strip())
    assert not st.get("err"), st
    g = requests.get(url(cluster, dst, "list.tar"), timeout=30)
    assert tar_members(g.content) == [(n, src[n]) for n in names]
    m = member(cluster, dst, "list.tar", "obj-017")
    assert m.content == src["obj-017"] and m.headers["Ais-Archive-Index"] == "hit"
    r = archive(cluster, bucket, dst, "all.tar", template="obj-{000..029}", isbn=True)
    assert r.status_code == 200, r.text
    jid = r.text.strip()
    job_wait(cluster, jid)
    g = requests.get(url(cluster, dst, "all.tar"), timeout=30)
    assert tar_members(g.content) == [(f"{bucket}/{n}", src[n]) for n in sorted(src)]
    snaps = requests.get(f"{cluster.url}/v1/cluster", params={"what": "qryxstats"},
                         json={"ID": jid}, timeout=10).json()
    kinds = [s["kind"] for v in snaps.values() for s in (v or [])]
    assert kinds == ["archive"], snaps


def test_archive_bucket_formats(cluster, bucket, dst):
    src = fill(cluster, bucket, 5)
    import zipfile
    for shard in ("s.tgz", "s.zip"):
        r = archive(cluster, bucket, dst, shard, template="obj-{000..004}")
        assert r.status_code == 200, r.text
        st = job_wait(cluster, r.text.strip())
        assert not st.get("err"), st
        g = requests.get(url(cluster, dst, shard), timeout=30).content
        if shard.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(g)) as z:
                got = [(n, z.read(n)) for n in z.namelist()]
        else:
            with tarfile.open(fileobj=io.BytesIO(g), mode="r:gz") as tf:
                got = [(m.name, tf.extractfile(m).read()) for m in tf.getmembers()]
        assert got == sorted(src.items())


def test_archive_bucket_missing_sources(cluster, bucket, dst):
    src = fill(cluster, bucket, 4)
    r = archive(cluster, bucket, dst, "m.tar", objnames=["obj-000", "nope", "obj-001"])
    assert r.status_code == 200, r.text
    st = job_wait(cluster, r.text.strip())
    assert "nope" in st["err"] and "does not exist" in st["err"]
    h = requests.head(url(cluster, dst, "m.tar"), allow_redirects=True, timeout=10)
    assert h.status_code == 404  # nothing stored
    r = archive(cluster, bucket, dst, "m.tar", objnames=["obj-000", "nope", "obj-001"], coer=True)
    st = job_wait(cluster, r.text.strip())
    assert "nope" in st.get("err", "")  # named, but the job finished and the shard is there
    g = requests.get(url(cluster, dst, "m.tar"), timeout=30)
    assert tar_members(g.content) == [("obj-000", src["obj-000"]), ("obj-001", src["obj-001"])]
    # aate: the existing members stay, the new ones follow
    r = archive(cluster, bucket, dst, "m.tar", objnames=["obj-003"], aate=True)
    job_wait(cluster, r.text.strip())
    g = requests.get(url(cluster, dst, "m.tar"), timeout=30)
    assert [n for n, _ in tar_members(g.content)] == ["obj-000", "obj-001", "obj-003"]


def test_archive_bucket_bad_requests(cluster, bucket, dst):
    for value, code, text in [
        ({"objnames": ["a"], "archname": "x.rar"}, 400, "unknown format"),
        ({}, 400, "objnames"),
        ({"objnames": ["a"], "template": "b"}, 400, "not both"),
        ({"template": "x-{1..}"}, 400, "invalid template"),
        ({"objnames": ["../x"]}, 400, "invalid object name"),
        ({"objnames": ["a"], "archname": ""}, 400, "invalid archname"),
    ]:
        v = {"archname": "s.tar", **value}
        shard = v.pop("archname")
        r = archive(cluster, bucket, dst, shard, **v)
        assert r.status_code == code, (value, r.text)
        assert text in r.json()["message"], (value, r.text)
    r = archive(cluster, bucket, "no-such-bucket", "s.tar", objnames=["a"])
    assert r.status_code == 404, r.text


def test_cli_archive_bucket(cluster, bucket, dst):
    src = fill(cluster, bucket, 6)
    out = cli(cluster, "archive", "bucket", f"ais://{bucket}", f"ais://{dst}/c.tar",
              "--template", "obj-{000..005}", "--wait").stdout
    assert "Archived" in out
    g = requests.get(url(cluster, dst, "c.tar"), timeout=30)
    assert tar_members(g.content) == sorted(src.items())
    out = cli(cluster, "archive", "bucket", f"ais://{bucket}", f"ais://{dst}/d.tar",
              "--list", "obj-001, obj-002").stdout
    jid = out.split("job ")[1].split(";")[0]
    cli(cluster, "job", "wait", jid)
    assert jid in cli(cluster, "job", "ls", "--all").stdout
    g = requests.get(url(cluster, dst, "d.tar"), timeout=30)
    assert tar_members(g.content) == [("obj-001", src["obj-001"]), ("obj-002", src["obj-002"])]
    r = cli(cluster, "archive", "bucket", f"ais://{bucket}", f"ais://{dst}/e.tar", "--list",
            "obj-001,missing", "--wait", check=False)
    assert r.returncode != 0 and "missing" in r.stdout + r.stderr
