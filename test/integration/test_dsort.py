"""dSort (issue 14): /v1/sort over 3 targets, every format and algorithm, failures.

Goal: a dSort job turns input shards into output shards where every input record appears exactly
once, byte-identical, never split across shards, in the requested global order, with shard sizes
within one record of the requested size and contiguous output names; a bad spec is a 400 naming
the problem; abort leaves only whole shards; two jobs run at once; a dataset larger than the
memory limit is sorted through the work files; a target killed mid-job fails the job with an
error naming it.
Method: one module cluster (1 gateway, 3 targets); datasets made here with tarfile/zipfile and
PUT through the gateway (requests follows the 307); jobs started and polled through the REST API
exactly as the AIS SDK does (POST /v1/sort -> id, GET /v1/sort?uuid= until every target reports
shard_creation.finished); output read back through the gateway and checked record by record. The
external key map is served by a real HTTP file server (python http.server).
"""
import io
import json
import os
import random
import subprocess
import tarfile
import zipfile

import pytest
import requests

from conftest import BUILD, FileServer, cluster_of, wait_until


@pytest.fixture(scope="module")
def cluster(request):
    yield from cluster_of(request, targets=3, mountpaths=2)


def mkbck(c, name):
    r = requests.post(f"{c.url}/v1/buckets/{name}", json={"action": "create-bck"}, timeout=30)
    assert r.status_code in (200, 409), r.text


def put(c, bck, name, data):
    r = requests.put(f"{c.url}/v1/objects/{bck}/{name}", data=data, timeout=60)
    assert r.status_code == 200, r.text


def get(c, bck, name):
    r = requests.get(f"{c.url}/v1/objects/{bck}/{name}", timeout=60)
    assert r.status_code == 200, r.text
    return r.content


def listing(c, bck, prefix=""):
    r = requests.get(f"{c.url}/v1/buckets/{bck}", json={"action": "list", "value": {
        "prefix": prefix, "props": "name,size"}}, timeout=60)
    assert r.status_code == 200, r.text
    return sorted(e["name"] for e in r.json().get("entries") or [])


def pack(fmt, members):
    """members: [(name, bytes)] -> archive bytes in fmt (.tar, .tgz, .zip)."""
    bio = io.BytesIO()
    if fmt == ".tar.lz4":  # the lz4 tool (Debian package lz4, installed by install-deps.sh)
        return subprocess.run(["lz4", "-c", "-q"], input=pack(".tar", members), capture_output=True,
                              check=True).stdout
    if fmt == ".zip":
        with zipfile.ZipFile(bio, "w", zipfile.ZIP_DEFLATED) as z:
            for n, d in members:
                z.writestr(n, d)
    else:
        with tarfile.open(fileobj=bio, mode="w:gz" if fmt in (".tgz", ".tar.gz") else "w") as t:
            for n, d in members:
                ti = tarfile.TarInfo(n)
                ti.size = len(d)
                t.addfile(ti, io.BytesIO(d))
    return bio.getvalue()


def unpack(fmt, data):
    if fmt == ".tar.lz4":
        data = subprocess.run(["lz4", "-d", "-c", "-q"], input=data, capture_output=True,
                              check=True).stdout
    if fmt == ".zip":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return [(i.filename, z.read(i)) for i in z.infolist()]
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as t:
        return [(m.name, t.extractfile(m).read()) for m in t.getmembers() if m.isfile()]


def key_of(name):
    base = name.rsplit("/", 1)[-1]
    i = base.rfind(".")
    return name[:len(name) - len(base) + i] if i > 0 else name


def make_dataset(c, bck, fmt, nshards=8, nrec=30, seed=1, size=(200, 3000), keep=None):
    """Shards shard-<i><fmt> of records rec-<k> with a .bin (random bytes) and a .cls (the
    class, an int) file; keys shuffled across shards. Returns {key: {name: bytes}}, and the
    input order [(shard index, key)]."""
    rnd = random.Random(seed)
    mkbck(c, bck)
    keys = [f"rec-{k:05d}" for k in range(nshards * nrec)]
    rnd.shuffle(keys)
    recs, order = {}, []
    for s in range(nshards):
        members = []
        for k in keys[s * nrec:(s + 1) * nrec]:
            files = {f"{k}.bin": rnd.randbytes(rnd.randint(*size)),
                     f"{k}.cls": str(rnd.randint(0, 1000)).encode()}
            recs[k] = files
            order.append((s, k))
            members += list(files.items())
        data = pack(fmt, members)
        if keep is not None:
            keep[f"shard-{s}{fmt}"] = data
        put(c, bck, f"shard-{s}{fmt}", data)
    return recs, order


def start(c, spec):
    r = requests.post(f"{c.url}/v1/sort", json=spec, timeout=60)
    assert r.status_code == 200, r.text
    assert r.text.startswith("srt-"), r.text
    return r.text


def metrics(c, uuid):
    r = requests.get(f"{c.url}/v1/sort", params={"uuid": uuid}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def wait_job(c, uuid, timeout=180, ok=True):
    def done():
        m = metrics(c, uuid)
        if any(ji["Metrics"]["errors"] or ji["Metrics"]["aborted"] for ji in m.values()):
            return m
        return m if all(ji["Metrics"]["shard_creation"]["finished"] for ji in m.values()) else None
    m = wait_until(done, timeout=timeout, interval=0.2, what=f"dsort {uuid}")
    if ok:
        errs = [e for ji in m.values() for e in ji["Metrics"]["errors"]]
        assert not errs, errs
        assert len(m) == 3
    return m


def spec(in_bck, out_bck, fmt, n, shard_size="16KiB", out_fmt="out-{0000..9999}", **kw):
    s = {"input_bck": {"name": in_bck, "provider": "ais"},
         "input_format": {"template": "shard-{0..%d}" % (n - 1)}, "input_extension": fmt,
         "output_bck": {"name": out_bck, "provider": "ais"}, "output_format": out_fmt,
         "output_shard_size": shard_size, "description": f"test {in_bck}->{out_bck}"}
    s.update(kw)
    return s


def tar_bytes(name, size):
    return 512 + (size + 511) // 512 * 512


def read_output(c, bck, fmt, prefix="out-"):
    names = listing(c, bck, prefix)
    return names, [unpack(fmt, get(c, bck, n)) for n in names]


def check_output(c, bck, fmt, recs, shard_bytes, prefix="out-", width=4):
    """Every record once, byte-identical, unsplit; shard sizes within one record; names
    contiguous. Returns the records' keys in global order."""
    names, shards = read_output(c, bck, fmt, prefix)
    assert names == [f"{prefix}{i:0{width}d}{fmt}" for i in range(len(names))], names
    seen, order = {}, []
    for n, members in zip(names, shards):
        keys_here = []
        for name, data in members:
            k = key_of(name)
            assert k in recs, (n, name)
            assert recs[k][name] == data, f"{n}: {name} differs"
            seen.setdefault(k, {})[name] = (n, data)
            if not keys_here or keys_here[-1] != k:
                keys_here.append(k)
        assert len(keys_here) == len(set(keys_here)), f"{n}: a record's files are not together"
        order += keys_here
    assert sorted(seen) == sorted(recs), "records missing or extra"
    for k, files in seen.items():
        assert set(files) == set(recs[k]), f"record {k}: files {sorted(files)}"
        assert len({sh for sh, _ in files.values()}) == 1, f"record {k} split across shards"
    assert len(order) == len(recs), "a record appears more than once"
    if fmt == ".tar":
        for i, members in enumerate(shards[:-1]):
            est = sum(tar_bytes(nm, len(d)) for nm, d in members)
            last = [(nm, d) for nm, d in members if key_of(nm) == key_of(members[-1][0])]
            last_est = sum(tar_bytes(nm, len(d)) for nm, d in last)
            assert est >= shard_bytes and est - last_est < shard_bytes, (names[i], est)
    return order


@pytest.mark.parametrize("fmt", [".tar", ".tgz", ".zip", ".tar.lz4"])
def test_formats_alphanumeric(cluster, fmt):
    c = cluster
    src, dst = f"ds-in{fmt[1:].replace('.', '')}", f"ds-out{fmt[1:].replace('.', '')}"
    recs, _ = make_dataset(c, src, fmt)
    uuid = start(c, spec(src, dst, fmt, 8))
    m = wait_job(c, uuid)
    total = sum(int(ji["Metrics"]["local_extraction"]["extracted_count"]) for ji in m.values())
    assert total == 8
    created = sum(int(ji["Metrics"]["shard_creation"]["created_count"]) for ji in m.values())
    order = check_output(c, dst, fmt, recs, 16 << 10)
    assert created == len(listing(c, dst, "out-"))
    assert order == sorted(recs)
    if fmt == ".tar.lz4":  # and a conversion: .tar.lz4 in, .zip out
        uuid = start(c, spec(src, dst + "-zip", fmt, 8, output_extension=".zip"))
        wait_job(c, uuid)
        assert check_output(c, dst + "-zip", ".zip", recs, 16 << 10) == sorted(recs)
    # the input is untouched
    assert listing(c, src) == sorted(f"shard-{i}{fmt}" for i in range(8))


def test_algorithms(cluster):
    c = cluster
    recs, inorder = make_dataset(c, "ds-alg", ".tar", seed=7)
    cases = {
        "dec": {"kind": "alphanumeric", "decreasing": True},
        "shuf1": {"kind": "shuffle", "seed": "42"},
        "shuf2": {"kind": "shuffle", "seed": "42"},
        "shuf3": {"kind": "shuffle", "seed": "43"},
        "cont": {"kind": "content", "extension": ".cls", "content_key_type": "int"},
        "none": {"kind": "none"},
    }
    jobs = {n: start(c, spec("ds-alg", f"ds-alg-{n}", ".tar", 8, algorithm=a)) for n, a in cases.items()}
    orders = {}
    for n, uuid in jobs.items():
        wait_job(c, uuid)
        orders[n] = check_output(c, f"ds-alg-{n}", ".tar", recs, 16 << 10)
    assert orders["dec"] == sorted(recs, reverse=True)
    assert orders["shuf1"] == orders["shuf2"], "the same seed gives the same order"
    assert orders["shuf1"] != orders["shuf3"] and orders["shuf1"] != sorted(recs)
    cls = {k: int(f[f"{k}.cls"]) for k, f in recs.items()}
    assert orders["cont"] == sorted(recs, key=lambda k: (cls[k], k))
    assert orders["none"] == [k for _, k in sorted(inorder, key=lambda x: x[0])]


@pytest.fixture(scope="module")
def fileserver(tmp_path_factory):
    root = tmp_path_factory.mktemp("ekm")
    fs = FileServer(root)
    yield root, fs.url
    fs.stop()


def test_ekm(cluster, fileserver):
    c = cluster
    root, url = fileserver
    recs, _ = make_dataset(c, "ds-ekm", ".tar", seed=3)
    cls = {k: int(f[f"{k}.cls"]) % 3 for k, f in recs.items()}
    (root / "map.txt").write_text("".join(f"{k}\tclass{v}-%03d\n" for k, v in cls.items()))
    groups = {}
    for k, v in cls.items():
        groups.setdefault(f"json{v}-%d", []).append(k)
    (root / "map.json").write_text(json.dumps(groups))
    s = spec("ds-ekm", "ds-ekm-out", ".tar", 8, ekm_file=f"{url}/map.txt", ekm_file_sep="\t")
    del s["output_format"]
    wait_job(c, start(c, s))
    s2 = dict(s, ekm_file=f"{url}/map.json", output_bck={"name": "ds-ekm-out2", "provider": "ais"})
    wait_job(c, start(c, s2))
    for v in range(3):
        order = check_output(c, "ds-ekm-out", ".tar", {k: f for k, f in recs.items() if cls[k] == v},
                             16 << 10, prefix=f"class{v}-", width=3)
        assert order == sorted(k for k in recs if cls[k] == v)
        names = listing(c, "ds-ekm-out2", f"json{v}-")
        keys = {key_of(n) for sh in names for n, _ in unpack(".tar", get(c, "ds-ekm-out2", sh))}
        assert keys == {k for k in recs if cls[k] == v}
    # a key missing from the map fails the job (ekm_missing_key defaults to abort)
    (root / "short.txt").write_text("rec-00000\tx-%d\n")
    uuid = start(c, dict(s, ekm_file=f"{url}/short.txt", output_bck={"name": "ds-ekm-out3"}))
    m = wait_job(c, uuid, ok=False)
    errs = [e for ji in m.values() for e in ji["Metrics"]["errors"]]
    assert any("not in the external key map" in e for e in errs), errs


@pytest.mark.parametrize("patch,want", [
    ({"input_extension": ".rar"}, "input_extension"),
    ({"input_format": {"template": "shard-{0..}"}}, "input_format"),
    ({"output_format": "out-{5..1}"}, "output_format"),
    ({"output_shard_size": "0"}, "output_shard_size"),
    ({"output_shard_size": "lots"}, "output_shard_size"),
    ({"algorithm": {"kind": "bogo"}}, "algorithm.kind"),
    ({"algorithm": {"kind": "content"}}, "algorithm.extension"),
    ({"max_mem_usage": "300%"}, "max_mem_usage"),
    ({"Config": {"missing_shards": "maybe"}}, "policy"),
])
def test_bad_spec(cluster, patch, want):
    s = spec("ds-bad", "ds-bad-out", ".tar", 2)
    s.update(patch)
    r = requests.post(f"{cluster.url}/v1/sort", json=s, timeout=30)
    assert r.status_code == 400, r.text
    assert want in r.json()["message"], r.text


def test_bad_requests(cluster):
    c = cluster
    r = requests.post(f"{c.url}/v1/sort", json=spec("no-such-bucket", "x", ".tar", 2), timeout=30)
    assert r.status_code == 404 and "no-such-bucket" in r.json()["message"], r.text
    r = requests.post(f"{c.url}/v1/sort", data=b"{not json", timeout=30)
    assert r.status_code == 400, r.text
    r = requests.get(f"{c.url}/v1/sort", params={"uuid": "srt-nope"}, timeout=30)
    assert r.status_code == 404, r.text
    r = requests.delete(f"{c.url}/v1/sort/abort", params={"uuid": "srt-nope"}, timeout=30)
    assert r.status_code == 404, r.text


def test_list_remove_concurrent(cluster):
    c = cluster
    recs, _ = make_dataset(c, "ds-conc", ".tar", seed=11)
    a = start(c, spec("ds-conc", "ds-conc-a", ".tar", 8))
    b = start(c, spec("ds-conc", "ds-conc-b", ".tar", 8, algorithm={"kind": "shuffle", "seed": "1"}))
    wait_job(c, a)
    wait_job(c, b)
    assert check_output(c, "ds-conc-a", ".tar", recs, 16 << 10) == sorted(recs)
    assert sorted(check_output(c, "ds-conc-b", ".tar", recs, 16 << 10)) == sorted(recs)
    r = requests.get(f"{c.url}/v1/sort", timeout=30)
    assert r.status_code == 200
    ids = [j["id"] for j in r.json()]
    assert a in ids and b in ids and len(ids) == len(set(ids))
    r = requests.get(f"{c.url}/v1/sort", params={"only_active": "true"}, timeout=30)
    assert a not in [j["id"] for j in r.json()]
    # the job framework sees the same job on every target
    r = requests.get(f"{c.url}/v1/cluster", params={"what": "status"}, json={"ID": a}, timeout=30)
    assert r.status_code == 200, r.text
    r = requests.delete(f"{c.url}/v1/sort", params={"uuid": a}, timeout=30)
    assert r.status_code == 200, r.text
    r = requests.get(f"{c.url}/v1/sort", params={"uuid": a}, timeout=30)
    assert r.status_code == 404


def test_memory_limit_spill(cluster):
    """Compressed input with a 1 MiB memory limit: records go to the %dw work files."""
    c = cluster
    recs, _ = make_dataset(c, "ds-mem", ".tgz", nshards=6, nrec=40, size=(20000, 60000))
    uuid = start(c, spec("ds-mem", "ds-mem-out", ".tgz", 6, shard_size="1MiB", max_mem_usage="1MiB",
                         output_extension=".tar"))
    m = wait_job(c, uuid)
    disk = sum(int(ji["Metrics"]["local_extraction"]["extracted_to_disk_size"]) for ji in m.values())
    assert disk >= sum(len(d) for f in recs.values() for d in f.values())
    assert check_output(c, "ds-mem-out", ".tar", recs, 1 << 20) == sorted(recs)


def test_abort_leaves_whole_shards(cluster):
    c = cluster
    recs, _ = make_dataset(c, "ds-abort", ".tar", nshards=12, nrec=60, size=(20000, 40000))
    uuid = start(c, spec("ds-abort", "ds-abort-out", ".tar", 12, shard_size="64KiB",
                         create_concurrency_max_limit=1))
    r = requests.delete(f"{c.url}/v1/sort/abort", params={"uuid": uuid}, timeout=30)
    assert r.status_code == 200, r.text

    def stopped():
        m = metrics(c, uuid)
        return m if all(ji["archived"] for ji in m.values()) else None
    m = wait_until(stopped, timeout=60, what="aborted job to end")
    assert all(ji["Metrics"]["aborted"] for ji in m.values())
    names, shards = read_output(c, "ds-abort-out", ".tar") if listing(c, "ds-abort-out") else ([], [])
    for n, members in zip(names, shards):  # whatever was created is whole
        for name, data in members:
            assert recs[key_of(name)][name] == data, n
    # a new job over the same input still works
    wait_job(c, start(c, spec("ds-abort", "ds-abort-out2", ".tar", 12, shard_size="256KiB")))
    check_output(c, "ds-abort-out2", ".tar", recs, 256 << 10)


def test_target_killed_fails_job(cluster):
    """kill -9 of a target mid-job: the job fails naming it; once the target is back, every
    input shard is byte-identical and every output shard that exists is whole."""
    c = cluster
    shards = {}
    recs, _ = make_dataset(c, "ds-kill", ".tar", nshards=12, nrec=60, size=(20000, 40000), keep=shards)
    uuid = start(c, spec("ds-kill", "ds-kill-out", ".tar", 12, shard_size="64KiB",
                         create_concurrency_max_limit=1))
    victim = "t2"
    vid = c.node_id(victim)
    c.kill9(victim)
    try:
        def failed():
            m = requests.get(f"{c.url}/v1/sort", params={"uuid": uuid}, timeout=30).json()
            errs = [e for ji in m.values() for e in ji["Metrics"]["errors"]]
            done = all(ji["archived"] for ji in m.values())
            return errs if errs and done else None
        errs = wait_until(failed, timeout=90, interval=0.3, what="job failure after kill -9")
        assert any(vid in e for e in errs), errs
    finally:
        c.restart(victim)
    wait_until(lambda: vid in c.smap()["tmap"], timeout=60, what="the target to rejoin")
    for name, data in shards.items():
        got = wait_until(lambda: requests.get(f"{c.url}/v1/objects/ds-kill/{name}", timeout=30),
                         timeout=60, what=f"GET {name}")
        assert got.status_code == 200 and got.content == data, name
    names, out = read_output(c, "ds-kill-out", ".tar") if listing(c, "ds-kill-out") else ([], [])
    for n, members in zip(names, out):
        for name, data in members:
            assert recs[key_of(name)][name] == data, n


def test_cli(cluster, tmp_path):
    """The ais CLI: dsort gen makes a dataset, start/show/wait/stop/rm drive jobs."""
    c = cluster
    binary = os.environ.get("AIS_CLI") or os.path.join(BUILD, "cli", "ais")
    env = dict(os.environ, AIS_ENDPOINT=c.url)
    env.pop("AIS_URL", None)

    def run(*args, code=0):
        r = subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=180)
        assert "Sanitizer" not in r.stderr, r.stderr
        if code is not None:
            assert r.returncode == code, (args, r.returncode, r.stdout, r.stderr)
        return r

    run("dsort", "gen", "ais://cli-src/shard-{0..5}.tgz", "--records", "25", "--record-size", "3KiB",
        "--exts", ".jpg,.cls", "--seed", "5")
    names = listing(c, "cli-src")
    assert names == sorted(f"shard-{i}.tgz" for i in range(6))
    recs = {}
    for n in names:
        members = unpack(".tgz", get(c, "cli-src", n))
        assert len(members) == 50
        keys = [key_of(m) for m, _ in members][::2]
        assert keys != sorted(keys), "keys within a shard are not in order"
        for m, d in members:
            recs.setdefault(key_of(m), {})[m] = d
            if m.endswith(".cls"):
                int(d)
            else:
                assert len(d) == 3 << 10
    assert len(recs) == 150
    sp = tmp_path / "spec.json"
    sp.write_text(json.dumps({"input_format": {"template": "shard-{0..5}"}, "input_extension": ".tgz",
                              "output_extension": ".tar", "output_format": "o-{0000..9999}",
                              "output_shard_size": "32KiB", "description": "cli test"}))
    r = run("dsort", "start", str(sp), "ais://cli-src", "ais://cli-dst", "--wait")
    assert "finished" in r.stdout, r.stdout
    assert check_output(c, "cli-dst", ".tar", recs, 32 << 10, prefix="o-") == sorted(recs)
    jid = run("start", "dsort", sp.read_text(), "ais://cli-src", "ais://cli-dst2").stdout.strip()
    assert jid.startswith("srt-"), jid
    run("wait", "dsort", jid, "--timeout", "2m")
    assert jid in run("show", "job", "dsort").stdout
    out = run("show", "job", "dsort", jid).stdout
    assert "finished" in out and "creation" in out and "extraction" in out, out
    assert jid in run("job", "ls", "--all").stdout  # an ordinary job of kind dsort
    run("job", "rm", "dsort", jid)
    assert "does not exist" in run("show", "job", "dsort", jid, code=3).stderr
    r = run("dsort", "start", '{"input_bck":{"name":"cli-src"},"input_extension":".rar"}', code=None)
    assert r.returncode != 0 and "input_extension" in r.stderr, r.stderr
    # stop: a job that takes a while, aborted from the CLI; waiting on it then fails (exit 9)
    make_dataset(c, "cli-big", ".tar", nshards=8, nrec=60, size=(20000, 40000))
    big = json.dumps(spec("cli-big", "cli-big-out", ".tar", 8, shard_size="64KiB",
                          create_concurrency_max_limit=1))
    jid = run("dsort", "start", big).stdout.strip()
    assert "Aborted" in run("stop", "dsort", jid).stdout
    r = run("dsort", "wait", jid, code=None)
    if r.returncode != 0:  # (it may have finished before the abort landed)
        assert r.returncode == 9 and "aborted" in r.stderr, r.stderr
