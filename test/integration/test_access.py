"""Bucket access bits (api.md §4 `access`): enforced on every path - the gateway (REST and its
307s), the target (direct datapath), /s3 - with 403 naming the permission.

Goal: `access=ro` makes a dataset read-only (GET, HEAD, list work; PUT, DELETE, batch delete
and destroy are refused), a mask without GET refuses reads also straight at the target, a
refused S3 request is AccessDenied, "ro"/"rw"/"su" and decimal masks are accepted and stored
as AIS stores them (a decimal string), a bad value is 400, and setting `access` alone is always
possible (with authentication off every client is the admin), so a locked bucket can be
unlocked; the CLI's `ais bucket props set B access=ro` works.
Method: a 1+2 cluster; requests with `requests`, the CLI binary.
"""
import os
import subprocess

import pytest
import requests

from conftest import BUILD, cluster_of


@pytest.fixture(scope="module")
def ac(request):
    yield from cluster_of(request, targets=2, mountpaths=1)


def props(ac, b, value):
    return requests.patch(f"{ac.url}/v1/buckets/{b}", json={"action": "set-bprops", "value": value},
                          timeout=30)


def access_of(ac, b):
    r = requests.head(f"{ac.url}/v1/buckets/{b}", timeout=10)
    assert r.status_code == 200, r.headers
    import json
    return json.loads(r.headers["Ais-Bucket-Props"])["access"]


def denied(r, perm):
    assert r.status_code == 403, (r.status_code, r.text)
    msg = r.json()["message"] if r.text else r.headers.get("Hdr-Error", "")
    assert f"does not allow {perm}" in msg, msg


def test_read_only_bucket(ac):
    u = ac.url
    assert requests.post(f"{u}/v1/buckets/ro", json={"action": "create-bck"}, timeout=10).status_code == 200
    assert requests.put(f"{u}/v1/objects/ro/a", data=b"aaa", timeout=10).status_code == 200
    r = props(ac, "ro", {"access": "ro"})
    assert r.status_code == 200, r.text
    assert access_of(ac, "ro") == "771"
    assert requests.get(f"{u}/v1/objects/ro/a", timeout=10).content == b"aaa"
    assert requests.head(f"{u}/v1/objects/ro/a", timeout=10, allow_redirects=True).status_code == 200
    assert requests.get(f"{u}/v1/buckets/ro", json={"action": "list", "value": {}}, timeout=10).status_code == 200
    denied(requests.put(f"{u}/v1/objects/ro/b", data=b"b", timeout=10), "PUT")
    denied(requests.delete(f"{u}/v1/objects/ro/a", timeout=10), "DELETE-OBJECT")
    denied(requests.delete(f"{u}/v1/buckets/ro", json={"action": "delete-listrange",
                                                       "value": {"objnames": ["a"]}}, timeout=10),
           "DELETE-OBJECT")
    denied(requests.delete(f"{u}/v1/buckets/ro", json={"action": "destroy-bck"}, timeout=10),
           "DESTROY-BUCKET")
    denied(props(ac, "ro", {"versioning": {"enabled": False}}), "PATCH")
    # Straight at a target (the SDK's direct datapath), too.
    for tid in ac.smap()["tmap"]:
        denied(requests.put(f"{ac.target_url(tid)}/v1/objects/ro/b", data=b"b", timeout=10), "PUT")
    assert requests.get(f"{u}/v1/objects/ro/b", timeout=10).status_code == 404
    assert requests.get(f"{u}/v1/objects/ro/a", timeout=10).content == b"aaa"


def test_mask_without_get_and_unlock(ac):
    u = ac.url
    assert requests.post(f"{u}/v1/buckets/nog", json={"action": "create-bck"}, timeout=10).status_code == 200
    assert requests.put(f"{u}/v1/objects/nog/x", data=b"x", timeout=10).status_code == 200
    assert props(ac, "nog", {"access": str(512 | 256)}).status_code == 200  # list + head bucket
    denied(requests.get(f"{u}/v1/objects/nog/x", timeout=10), "GET")
    for tid in ac.smap()["tmap"]:
        r = requests.get(f"{ac.target_url(tid)}/v1/objects/nog/x", timeout=10)
        assert r.status_code == 403, r.text
    r = requests.head(f"{u}/v1/objects/nog/x", timeout=10, allow_redirects=True)
    assert r.status_code == 403 and "HEAD-OBJECT" in r.headers.get("Hdr-Error", ""), r.headers
    assert props(ac, "nog", {"access": 262143}).status_code == 200  # a number works too
    assert access_of(ac, "nog") == "262143"
    assert requests.get(f"{u}/v1/objects/nog/x", timeout=10).content == b"x"
    for bad in ("xyz", "-1", "999999999", ""):
        r = props(ac, "nog", {"access": bad})
        assert r.status_code == 400 and "access" in r.json()["message"], (bad, r.text)


def test_s3_access_denied(ac):
    u = ac.url
    assert requests.post(f"{u}/v1/buckets/s3ro", json={"action": "create-bck"}, timeout=10).status_code == 200
    assert requests.put(f"{u}/s3/s3ro/k", data=b"k", timeout=10).status_code == 200
    assert props(ac, "s3ro", {"access": "ro"}).status_code == 200
    assert requests.get(f"{u}/s3/s3ro/k", timeout=10).content == b"k"
    for r in (requests.put(f"{u}/s3/s3ro/k2", data=b"v", timeout=10),
              requests.delete(f"{u}/s3/s3ro/k", timeout=10),
              requests.delete(f"{u}/s3/s3ro", timeout=10),
              requests.post(f"{u}/s3/s3ro?delete", timeout=10,
                            data=b"<Delete><Object><Key>k</Key></Object></Delete>")):
        assert r.status_code == 403 and b"<Code>AccessDenied</Code>" in r.content, (r.status_code, r.text)
    assert requests.get(f"{u}/s3/s3ro?list-type=2", timeout=10).status_code == 200
    assert props(ac, "s3ro", {"access": "su"}).status_code == 200
    assert requests.put(f"{u}/s3/s3ro/k2", data=b"v", timeout=10).status_code == 200


def test_cli_sets_access(ac, tmp_path):
    binary = os.path.join(BUILD, "cli", "ais")
    env = dict(os.environ, AIS_ENDPOINT=ac.url)
    assert requests.post(f"{ac.url}/v1/buckets/cli", json={"action": "create-bck"}, timeout=10).status_code == 200
    r = subprocess.run([binary, "bucket", "props", "set", "ais://cli", "access=ro"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert access_of(ac, "cli") == "771"
    f = tmp_path / "o"
    f.write_bytes(b"data")
    r = subprocess.run([binary, "put", str(f), "ais://cli/o"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "does not allow PUT" in r.stderr, (r.returncode, r.stderr)
