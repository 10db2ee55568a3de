"""The CLI's remote-bucket commands: `ais prefetch`, `ais evict`, `ais bucket cp`.

Goal: `ais prefetch s3://data --template ... --wait` fetches exactly the objects that are not
cached yet (the backend's request counter says so) and reports fetched / already cached /
failed, with the failed names and exit code 9 when some fail; `ais ls` shows them cached
afterwards; `ais evict --list ... --wait` removes local copies (the next GET is a cold GET),
`ais evict BUCKET --keep-md` keeps the bucket, and a whole-bucket evict drops it; --prefix lists
the bucket and sends the names; `ais bucket cp` copies into an ais bucket; clear usage errors for
ais:// buckets and bad templates before anything is sent.
Method: as test_remote.py — a module-scoped s3rver behind a counting proxy, a 2-target cluster
whose nodes get the backend from their environment (backend_env); objects are written to the
S3 server directly with boto3 and the CLI binary runs as a subprocess. Every wait is a poll
with a deadline (the CLI's own --wait, or conftest.wait_until).
"""
import os
import re
import subprocess

import pytest
import requests

from conftest import BUILD, wait_until
from s3peer import remote_cluster, s3_peer

BCK = "data"
Q = {"provider": "aws"}
EXIT_USAGE, EXIT_JOBFAIL = 2, 9


@pytest.fixture(scope="module")
def peer():
    yield from s3_peer(BCK)


@pytest.fixture(scope="module")
def rc(request, peer):
    yield from remote_cluster(request, peer)


@pytest.fixture(scope="module")
def ais(rc):
    binary = os.environ.get("AIS_CLI") or os.path.join(BUILD, "cli", "ais")
    assert os.path.exists(binary), f"{binary} missing: build the `ais` target"
    env = dict(os.environ, AIS_ENDPOINT=rc.url)
    env.pop("AIS_URL", None)

    def run(*args, code=0):
        r = subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=180)
        assert "Sanitizer" not in r.stderr, r.stderr
        if code is not None:
            assert r.returncode == code, (args, r.returncode, r.stdout, r.stderr)
        return r
    return run


def put_remote(s3, keys, size=2000):
    for k in keys:
        s3.put_object(Bucket=BCK, Key=k, Body=os.urandom(size))


def get(rc, key):
    return requests.get(f"{rc.url}/v1/objects/{BCK}/{key}", params=Q, timeout=60)


def local_files(rc, key):
    """Stored copies of object key (its path relative to the bucket) on any target."""
    out = []
    for root, _, files in os.walk(rc.dir):
        if "@aws" in root and "%ob" in root:
            out += [os.path.join(root, f) for f in files
                    if os.path.join(root, f).endswith("/" + key)]
    return out


def wait_cached(rc, keys):
    wait_until(lambda: all(local_files(rc, k) for k in keys), 30, what=f"{keys} stored locally")


def fetched(p):
    """Object keys the backend served a GET for since p.reset() (listings have no key)."""
    return {k for (m, k), c in p.counts.items() if m == "GET" and c and k}


def cached_in_ls(ais, prefix):
    out = ais("ls", f"s3://{BCK}", "--prefix", prefix, "--props", "name,cached",
              "--no-headers").stdout
    return {ln.split()[0]: ln.split()[1] for ln in out.splitlines() if ln.strip()}


def test_prefetch_template_fetches_only_missing(rc, peer, ais):
    _, p, s3 = peer
    keys = [f"pt/{i:03d}" for i in range(12)]
    put_remote(s3, keys)
    warm = keys[:4]
    for k in warm:
        assert get(rc, k).status_code == 200
    wait_cached(rc, warm)
    assert set(cached_in_ls(ais, "pt/").values()) == {"yes", "no"}
    p.reset()
    r = ais("prefetch", f"s3://{BCK}", "--template", "pt/{000..011}", "--wait")
    assert re.search(r"fetched 8 objects( \([\d.]+KiB\))?, already cached 4, failed 0$",
                     r.stdout.strip()), r.stdout
    assert fetched(p) == set(keys[4:]), p.counts
    assert all(p.count("GET", k) == 1 for k in keys[4:])
    assert cached_in_ls(ais, "pt/") == {k: "yes" for k in keys}
    # A re-run finds everything cached: nothing reaches the backend.
    p.reset()
    r = ais("prefetch", f"s3://{BCK}/pt/{{000..011}}", "--wait")
    assert "fetched 0 objects, already cached 12, failed 0" in r.stdout
    assert fetched(p) == set()


def test_prefetch_without_wait_prints_the_job(rc, peer, ais):
    _, p, s3 = peer
    put_remote(s3, ["nw/a", "nw/b"])
    r = ais("prefetch", f"s3://{BCK}", "--list", "nw/a, nw/b")
    m = re.fullmatch(r"Started prefetch job (\S+); to monitor: ais show job (\S+)\n", r.stdout)
    assert m and m.group(1) == m.group(2), r.stdout
    r = ais("job", "wait", m.group(1), "--timeout", "60s")
    assert "Finished job" in r.stdout
    wait_cached(rc, ["nw/a", "nw/b"])


def test_prefetch_prefix_lists_then_fetches(rc, peer, ais):
    _, p, s3 = peer
    keys = [f"pp/{i}" for i in range(5)]
    put_remote(s3, keys + ["ppx/other"])
    p.reset()
    r = ais("prefetch", f"s3://{BCK}", "--prefix", "pp/", "--wait", "--timeout", "2m")
    assert "fetched 5 objects" in r.stdout and "failed 0" in r.stdout, r.stdout
    assert fetched(p) == set(keys)
    assert local_files(rc, "ppx/other") == []
    r = ais("prefetch", f"s3://{BCK}", "--prefix", "nosuch/", code=3)
    assert 'no objects in aws://data with prefix "nosuch/"' in r.stderr


def test_prefetch_failures_are_named_and_exit_9(rc, peer, ais):
    _, p, s3 = peer
    keys = [f"pf/{i}" for i in range(6)]
    put_remote(s3, keys)
    p.fail["pf/2"] = 500
    p.fail["pf/4"] = 500
    try:
        r = ais("prefetch", f"s3://{BCK}", "--template", "pf/{0..5}", "--wait",
                code=EXIT_JOBFAIL)
    finally:
        p.fail.clear()
    assert "fetched 4 objects" in r.stdout and "failed 2:" in r.stdout, r.stdout
    named = {ln.split()[0] for ln in r.stdout.splitlines() if ln.startswith("   ")}
    assert named == {"pf/2", "pf/4"}, r.stdout
    assert "Error: prefetch of 2 objects failed (listed above)" in r.stderr
    p.reset()
    r = ais("prefetch", f"s3://{BCK}", "--template", "pf/{0..5}", "--wait")
    assert "fetched 2 objects" in r.stdout and "already cached 4" in r.stdout
    assert fetched(p) == {"pf/2", "pf/4"}


def test_evict_list_then_get_is_cold(rc, peer, ais):
    _, p, s3 = peer
    put_remote(s3, ["ev/x", "ev/y"])
    ais("prefetch", f"s3://{BCK}", "--list", "ev/x,ev/y", "--wait")
    wait_cached(rc, ["ev/x", "ev/y"])
    r = ais("evict", f"s3://{BCK}", "--list", "ev/x", "--wait")
    assert r.stdout.startswith("Evicted 1 object of aws://data, failed 0"), r.stdout
    assert local_files(rc, "ev/x") == [] and len(local_files(rc, "ev/y")) == 1
    assert cached_in_ls(ais, "ev/") == {"ev/x": "no", "ev/y": "yes"}
    p.reset()
    assert get(rc, "ev/x").status_code == 200 and p.count("GET", "ev/x") == 1
    assert get(rc, "ev/y").status_code == 200 and p.count("GET", "ev/y") == 0
    # The object form and `ais bucket evict` alias.
    wait_cached(rc, ["ev/x"])
    ais("bucket", "evict", f"s3://{BCK}/ev/x", "--wait")
    assert local_files(rc, "ev/x") == []


def test_evict_prefix(rc, peer, ais):
    _, p, s3 = peer
    keys = [f"ep/{i}" for i in range(4)]
    put_remote(s3, keys)
    ais("prefetch", f"s3://{BCK}", "--prefix", "ep/", "--wait")
    wait_cached(rc, keys)
    r = ais("object", "evict", f"s3://{BCK}/ep/", "--wait")
    assert "Evicted 4 objects" in r.stdout, r.stdout
    assert all(local_files(rc, k) == [] for k in keys)


def test_bucket_cp_remote_to_ais(rc, peer, ais):
    _, p, s3 = peer
    keys = [f"cq/{i}" for i in range(5)]
    put_remote(s3, keys)
    r = ais("bucket", "cp", f"s3://{BCK}", "ais://clicopy", "--prefix", "cq/", "--wait")
    assert re.search(r"Copied 5 objects \(\S+\) from aws://data to ais://clicopy, failed 0",
                     r.stdout), r.stdout
    for k in keys:
        assert requests.get(f"{rc.url}/v1/objects/clicopy/{k}", timeout=30).status_code == 200
    r = ais("bucket", "cp", "ais://clicopy", "ais://clicopy2", "--list", "cq/1,cq/3", "--wait")
    assert "Copied 2 objects" in r.stdout, r.stdout
    assert requests.get(f"{rc.url}/v1/objects/clicopy2/cq/3", timeout=30).status_code == 200
    assert requests.get(f"{rc.url}/v1/objects/clicopy2/cq/2", timeout=30).status_code == 404
    r = ais("bucket", "cp", f"s3://{BCK}", "ais://clicopy3", "--template", "cq/{0..1}")
    jid = re.match(r"Started copy job (\S+);", r.stdout).group(1)
    ais("job", "wait", jid, "--timeout", "60s")
    assert requests.get(f"{rc.url}/v1/objects/clicopy3/cq/0", timeout=30).status_code == 200
    r = ais("bucket", "cp", f"s3://{BCK}", f"s3://{BCK}", code=6)
    assert "Error: " in r.stderr


def test_errors_before_anything_is_sent(rc, peer, ais):
    _, p, _ = peer
    p.reset()
    r = ais("prefetch", "ais://local", "--list", "a", code=EXIT_USAGE)
    assert "cannot prefetch ais://local: prefetch works on remote buckets" in r.stderr
    r = ais("evict", "plain", code=EXIT_USAGE)
    assert "cannot evict ais://plain" in r.stderr
    r = ais("prefetch", f"s3://{BCK}", "--template", "pt/{000..", code=EXIT_USAGE)
    assert "invalid template \"pt/{000..\": '{' without a matching '}'" in r.stderr
    r = ais("evict", f"s3://{BCK}", "--list", "a", "--keep-md", code=EXIT_USAGE)
    assert "--keep-md applies to a whole bucket" in r.stderr
    r = ais("prefetch", f"s3://{BCK}", "--list", "a", "--prefix", "b", code=EXIT_USAGE)
    assert "give one of --list, --template and --prefix" in r.stderr
    assert p.total() == 0, p.counts
    r = ais("prefetch", "s3://nosuchbucket", "--list", "a", "--wait", code=None)
    assert r.returncode in (3, 6) and "nosuchbucket" in r.stderr, r.stderr


def test_evict_whole_bucket_keep_md_then_drop(rc, peer, ais):
    _, p, s3 = peer
    put_remote(s3, ["wb/1", "wb/2"])
    ais("prefetch", f"s3://{BCK}", "--list", "wb/1,wb/2", "--wait")
    wait_cached(rc, ["wb/1", "wb/2"])
    set_r = requests.patch(f"{rc.url}/v1/buckets/{BCK}", params=Q, timeout=30,
                           json={"action": "set-bprops", "value": {"lru": {"enabled": False}}})
    assert set_r.status_code == 200, set_r.text
    r = ais("evict", f"s3://{BCK}", "--keep-md")
    assert "Evicted aws://data: cached objects removed, bucket and its properties kept" in r.stdout
    assert local_files(rc, "wb/1") == [] and local_files(rc, "wb/2") == []
    props = ais("bucket", "props", "show", f"s3://{BCK}", "lru.enabled").stdout
    assert "false" in props, props
    p.reset()
    assert get(rc, "wb/1").status_code == 200 and p.count("GET", "wb/1") == 1
    r = ais("evict", f"s3://{BCK}")
    assert "bucket dropped from the cluster" in r.stdout
    wait_until(lambda: local_files(rc, "wb/1") == [], 10, what="evicted")
    props = ais("bucket", "props", "show", f"s3://{BCK}", "lru.enabled").stdout
    assert "true" in props, props  # re-added on first use, with default props


def test_ls_lists_buckets_of_every_provider(rc, peer, ais):
    _, p, s3 = peer
    put_remote(s3, ["lsb/1"])
    assert get(rc, "lsb/1").status_code == 200  # the remote bucket is in the BMD now
    ais("bucket", "create", "ais://lsbais")
    names = ais("ls", "--no-headers").stdout.split()
    assert "aws://data" in names and "ais://lsbais" in names, names
    assert ais("ls", "s3://", "--no-headers").stdout.split() == ["aws://data"]
    assert "aws://data" not in ais("ls", "ais://", "--no-headers").stdout.split()
