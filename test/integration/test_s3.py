"""S3-compatible API at /s3 on the gateway, driven by real, unmodified S3 clients.

Goal: boto3 (default settings), the aws CLI, s3cmd and rclone work against the gateway's /s3
endpoint with byte-exact results: bucket and object operations, metadata, ranges and
conditionals, listing with delimiters in pages, multipart (20 MiB through every client), batch
delete, copy, x-amz-checksum headers and aws-chunked bodies with trailing checksums (a corrupt
one stores nothing; the verified checksum is kept and returned with ChecksumMode=ENABLED),
signed aws-chunked bodies whose every chunk and trailer signature is verified (a forged one is
403 and stores nothing), S3 error codes, bad XML, SigV4 (header and presigned) when s3.auth is on,
the 307 switch, virtual-host-style addressing, and objects crossing between /s3, /v1 and the ais CLI. The gateway's RSS stays
bounded while a large object streams through it.
Method: one module cluster (conftest.cluster_of). Its gateway is restarted once with
s3.access_keys in its config so auth tests can switch s3.auth on at runtime (off otherwise).
CLI clients run as subprocesses with config files in a temp dir and no AWS_CA_BUNDLE (rclone
refuses to start with it set for a plain-http endpoint).
"""
import base64
import datetime
import hashlib
import hmac
import logging
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
import zlib
from unittest import mock

import boto3
import botocore
import pytest
import requests
from botocore.config import Config

from conftest import BUILD, SANITIZER, cluster_of, no_tsan, wait_until

AK, SK = "AKIAAISTESTKEY000001", "s3cr3t/k3y+AIS0000000000000000000000000"
MiB = 1 << 20
AWS = shutil.which("aws", path="/usr/bin") or "/usr/bin/aws"


@pytest.fixture(scope="module")
def s3c(request):
    gen = cluster_of(request)
    c = next(gen)
    # Give the gateway credentials (read-only knob: config file + restart); auth stays off.
    cfg_path = os.path.join(c.node_dir("gw0"), "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg["s3"] = {"access_keys": [f"{AK}:{SK}"]}
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    os.kill(c.pid("gw0"), 15)
    wait_until(lambda: _down(c.url), 20, what="gateway down")
    c.restart("gw0", role="gateway")
    wait_until(lambda: requests.get(c.url + "/v1/health", timeout=2).status_code == 200, 60,
               what="gateway back")
    wait_until(lambda: len(c.smap()["tmap"]) == 3, 30, what="targets in the Smap")
    c.s3 = c.url + "/s3"
    c.tmp = tempfile.mkdtemp(prefix="ais-s3-")
    yield c
    shutil.rmtree(c.tmp, ignore_errors=True)
    try:
        next(gen)
    except StopIteration:
        pass


def _down(url):
    try:
        requests.get(url + "/v1/health", timeout=1)
        return False
    except requests.RequestException:
        return True


def client(c, **kw):
    return boto3.client("s3", endpoint_url=c.s3, aws_access_key_id=kw.pop("ak", AK),
                        aws_secret_access_key=kw.pop("sk", SK), region_name="us-east-1",
                        config=Config(retries={"max_attempts": 1}, **kw))


def code_of(fn, *a, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(*a, **kw)
    return e.value.response["Error"]["Code"]


@pytest.fixture
def bkt(s3c):
    name = "s3b%06d" % random.randrange(10**6)
    s3 = client(s3c)
    s3.create_bucket(Bucket=name)
    yield name
    # empty it (through /s3, hidden multipart state included via /v1) and drop it
    requests.delete(f"{s3c.url}/v1/buckets/{name}", json={"action": "destroy-bck"})


def v1_names(c, bck):
    r = requests.get(f"{c.url}/v1/buckets/{bck}", json={"action": "list", "value": {"props": "name"}})
    assert r.status_code == 200, r.text
    return [e["name"] for e in (r.json().get("entries") or [])]


def cli_env(c):
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    e.update(AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK, AWS_DEFAULT_REGION="us-east-1",
             AWS_CONFIG_FILE=os.path.join(c.tmp, "nonexistent"), HOME=c.tmp,
             RCLONE_CONFIG=os.path.join(c.tmp, "rclone.conf"))
    return e


def sh(c, args, ok=True, inp=None):
    r = subprocess.run(args, env=cli_env(c), capture_output=True, timeout=120, input=inp)
    if ok:
        assert r.returncode == 0, (args, r.stdout[-2000:], r.stderr[-2000:])
    return r


def rand_file(c, name, size):
    p = os.path.join(c.tmp, name)
    with open(p, "wb") as f:
        f.write(random.randbytes(size))
    return p


# ---- buckets ----

def test_config_never_shows_the_secret(s3c):
    """what=config shows the access key id, never its secret (gateway and cluster views)."""
    for what in ("config", "cluster_config"):
        r = requests.get(s3c.url + "/v1/daemon", params={"what": what}, timeout=10)
        assert r.status_code == 200, r.text
        assert SK not in r.text and "s3cr3t" not in r.text
        assert r.json()["s3"]["access_keys"] == [f"{AK}:****"], r.json()["s3"]


def test_buckets(s3c):
    s3 = client(s3c)
    name = "s3bk%05d" % random.randrange(10**5)
    assert code_of(s3.head_bucket, Bucket=name) == "404"
    s3.create_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket=name)
    assert code_of(s3.create_bucket, Bucket=name) == "BucketAlreadyOwnedByYou"
    assert s3.get_bucket_location(Bucket=name).get("LocationConstraint") in (None, "")
    # the same bucket through /v1
    assert requests.head(f"{s3c.url}/v1/buckets/{name}").status_code == 200
    s3.put_object(Bucket=name, Key="x", Body=b"1")
    assert code_of(s3.delete_bucket, Bucket=name) == "BucketNotEmpty"
    s3.delete_object(Bucket=name, Key="x")
    s3.delete_bucket(Bucket=name)
    assert code_of(s3.head_bucket, Bucket=name) == "404"
    assert code_of(s3.delete_bucket, Bucket=name) == "NoSuchBucket"
    assert code_of(s3.list_objects_v2, Bucket=name) == "NoSuchBucket"
    assert code_of(s3.put_object, Bucket=name, Key="k", Body=b"") == "NoSuchBucket"
    r = requests.put(s3c.s3 + "/bad%20name")
    assert r.status_code == 400 and "<Code>InvalidBucketName</Code>" in r.text
    assert r.headers.get("x-amz-request-id")


# ---- objects ----

def test_put_get_head_meta(s3c, bkt):
    s3 = client(s3c)
    data = random.randbytes(MiB + 17)
    r = s3.put_object(Bucket=bkt, Key="d/obj", Body=data, ContentType="text/x-ais",
                      ContentDisposition='attachment; filename="a,b.txt"',
                      Metadata={"Color": "blue,green", "n": "1=2"})
    md5 = hashlib.md5(data).hexdigest()
    assert r["ETag"] == f'"{md5}"'
    assert "x-amz-version-id" not in r["ResponseMetadata"]["HTTPHeaders"]
    g = s3.get_object(Bucket=bkt, Key="d/obj")
    assert g["Body"].read() == data
    assert g["ETag"] == f'"{md5}"' and g["ContentType"] == "text/x-ais"
    assert g["ContentDisposition"] == 'attachment; filename="a,b.txt"'
    assert g["Metadata"] == {"color": "blue,green", "n": "1=2"}
    h = s3.head_object(Bucket=bkt, Key="d/obj")
    assert h["ContentLength"] == len(data) and h["ETag"] == f'"{md5}"'
    assert h["Metadata"]["color"] == "blue,green"
    # ranges
    assert s3.get_object(Bucket=bkt, Key="d/obj", Range="bytes=10-19")["Body"].read() == data[10:20]
    g = s3.get_object(Bucket=bkt, Key="d/obj", Range="bytes=-5")
    assert g["Body"].read() == data[-5:] and g["ContentRange"] == f"bytes {len(data)-5}-{len(data)-1}/{len(data)}"
    assert code_of(s3.get_object, Bucket=bkt, Key="d/obj", Range=f"bytes={len(data)}-") == "InvalidRange"
    # response-* overrides
    g = s3.get_object(Bucket=bkt, Key="d/obj", ResponseContentType="image/png",
                      ResponseContentDisposition="inline")
    assert g["ContentType"] == "image/png" and g["ContentDisposition"] == "inline"
    # empty object
    s3.put_object(Bucket=bkt, Key="empty", Body=b"")
    assert s3.get_object(Bucket=bkt, Key="empty")["Body"].read() == b""
    assert s3.head_object(Bucket=bkt, Key="empty")["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    # missing
    assert code_of(s3.get_object, Bucket=bkt, Key="nope") == "NoSuchKey"
    assert code_of(s3.head_object, Bucket=bkt, Key="nope") == "404"
    s3.delete_object(Bucket=bkt, Key="nope")  # idempotent: no error
    s3.delete_object(Bucket=bkt, Key="empty")
    assert code_of(s3.head_object, Bucket=bkt, Key="empty") == "404"


def test_conditionals(s3c, bkt):
    s3 = client(s3c)
    s3.put_object(Bucket=bkt, Key="c", Body=b"cond")
    etag = s3.head_object(Bucket=bkt, Key="c")["ETag"]
    past, future = "Mon, 01 Jan 2001 00:00:00 GMT", "Fri, 01 Jan 2100 00:00:00 GMT"
    assert s3.get_object(Bucket=bkt, Key="c", IfMatch=etag)["Body"].read() == b"cond"
    assert code_of(s3.get_object, Bucket=bkt, Key="c", IfMatch='"0000"') == "PreconditionFailed"
    assert code_of(s3.get_object, Bucket=bkt, Key="c", IfNoneMatch=etag) == "304"
    assert s3.get_object(Bucket=bkt, Key="c", IfNoneMatch='"0000"')["Body"].read() == b"cond"
    assert code_of(s3.get_object, Bucket=bkt, Key="c", IfModifiedSince=future) == "304"
    assert s3.get_object(Bucket=bkt, Key="c", IfModifiedSince=past)["Body"].read() == b"cond"
    assert code_of(s3.get_object, Bucket=bkt, Key="c", IfUnmodifiedSince=past) == "PreconditionFailed"
    assert code_of(s3.head_object, Bucket=bkt, Key="c", IfMatch='"0000"') == "412"


def test_content_md5(s3c, bkt):
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    r = requests.put(f"{s3c.s3}/{bkt}/m", data=b"payload", headers={"Content-MD5": bad})
    assert r.status_code == 400 and "<Code>BadDigest</Code>" in r.text, r.text
    assert requests.head(f"{s3c.s3}/{bkt}/m").status_code == 404  # nothing stored
    r = requests.put(f"{s3c.s3}/{bkt}/m", data=b"payload", headers={"Content-MD5": "!!notb64"})
    assert r.status_code == 400 and "<Code>InvalidDigest</Code>" in r.text
    good = base64.b64encode(hashlib.md5(b"payload").digest()).decode()
    r = requests.put(f"{s3c.s3}/{bkt}/m", data=b"payload", headers={"Content-MD5": good})
    assert r.status_code == 200 and r.headers["ETag"] == f'"{hashlib.md5(b"payload").hexdigest()}"'


KEYS = ["with space", "plus+sign", "ünïcødé/ключ", "eq=amp&tilde~", "a/b/c.txt", "pct%41", "q?mark#hash"]


def test_special_keys(s3c, bkt):
    s3 = client(s3c)
    for k in KEYS:
        s3.put_object(Bucket=bkt, Key=k, Body=k.encode())
    for k in KEYS:
        assert s3.get_object(Bucket=bkt, Key=k)["Body"].read() == k.encode(), k
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bkt)["Contents"]]
    assert sorted(listed) == sorted(KEYS)
    listed = [o["Key"] for o in s3.list_objects(Bucket=bkt)["Contents"]]
    assert sorted(listed) == sorted(KEYS)
    # the same names through /v1 (decoded bytes)
    assert sorted(v1_names(s3c, bkt)) == sorted(KEYS)
    out = s3.delete_objects(Bucket=bkt, Delete={"Objects": [{"Key": k} for k in KEYS]})
    assert sorted(d["Key"] for d in out["Deleted"]) == sorted(KEYS)
    assert "Contents" not in s3.list_objects_v2(Bucket=bkt)


def test_cross_v1_and_cli(s3c, bkt):
    s3 = client(s3c)
    data = random.randbytes(300000)
    s3.put_object(Bucket=bkt, Key="from-s3", Body=data)
    assert requests.get(f"{s3c.url}/v1/objects/{bkt}/from-s3").content == data
    out = os.path.join(s3c.tmp, "cli-get")
    cli = os.path.join(BUILD, "cli", "ais")
    r = subprocess.run([cli, "get", f"ais://{bkt}/from-s3", out], capture_output=True, timeout=60,
                       env=dict(os.environ, AIS_ENDPOINT=s3c.url))
    assert r.returncode == 0, r.stderr
    assert open(out, "rb").read() == data
    # /v1 and CLI writes are S3 objects
    assert requests.put(f"{s3c.url}/v1/objects/{bkt}/from-v1", data=data[:1000]).status_code == 200
    src = rand_file(s3c, "cli-put", 5000)
    r = subprocess.run([cli, "put", src, f"ais://{bkt}/from-cli"], capture_output=True, timeout=60,
                       env=dict(os.environ, AIS_ENDPOINT=s3c.url))
    assert r.returncode == 0, r.stderr
    assert s3.get_object(Bucket=bkt, Key="from-v1")["Body"].read() == data[:1000]
    assert s3.get_object(Bucket=bkt, Key="from-cli")["Body"].read() == open(src, "rb").read()
    h = s3.head_object(Bucket=bkt, Key="from-v1")
    assert h["ContentLength"] == 1000 and h["ETag"].endswith('-1"')  # not an MD5: clients skip it


def test_listing_pages(s3c, bkt):
    s3 = client(s3c)
    keys = [f"dir{d}/sub{s}/o{i:03d}" for d in range(3) for s in range(2) for i in range(40)]
    keys += [f"top{i:02d}" for i in range(20)]
    for k in keys:
        requests.put(f"{s3c.s3}/{bkt}/{k}", data=k.encode()).raise_for_status()
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=bkt, PaginationConfig={"PageSize": 37}))
    got = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert got == sorted(keys) and len(pages) == -(-len(keys) // 37)
    assert all(p["KeyCount"] <= 37 for p in pages)
    # delimiter: common prefixes, one entry each, across pages
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=bkt, Delimiter="/",
                                                               PaginationConfig={"PageSize": 7}))
    cps = [cp["Prefix"] for p in pages for cp in p.get("CommonPrefixes", [])]
    top = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert cps == ["dir0/", "dir1/", "dir2/"] and top == [f"top{i:02d}" for i in range(20)]
    r = s3.list_objects_v2(Bucket=bkt, Prefix="dir1/", Delimiter="/")
    assert [cp["Prefix"] for cp in r["CommonPrefixes"]] == ["dir1/sub0/", "dir1/sub1/"]
    r = s3.list_objects_v2(Bucket=bkt, Prefix="dir2/sub1/", MaxKeys=5, StartAfter="dir2/sub1/o010")
    assert [o["Key"] for o in r["Contents"]] == [f"dir2/sub1/o{i:03d}" for i in range(11, 16)]
    assert r["IsTruncated"]
    # v1 with Marker, and NextMarker with a delimiter
    pages = list(s3.get_paginator("list_objects").paginate(Bucket=bkt, PaginationConfig={"PageSize": 100}))
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == sorted(keys)
    r = s3.list_objects(Bucket=bkt, Delimiter="/", MaxKeys=2)
    assert r["IsTruncated"] and r["NextMarker"] == "dir1/"
    r = s3.list_objects(Bucket=bkt, Delimiter="/", MaxKeys=2, Marker=r["NextMarker"])
    assert [cp["Prefix"] for cp in r["CommonPrefixes"]] == ["dir2/"]
    assert [o["Key"] for o in r["Contents"]] == ["top00"]
    # raw XML: encoding-type=url and max-keys=0
    x = requests.get(f"{s3c.s3}/{bkt}?list-type=2&prefix=top0&encoding-type=url&max-keys=1").text
    assert "<EncodingType>url</EncodingType>" in x and "<Key>top00</Key>" in x and "<IsTruncated>true" in x
    x = requests.get(f"{s3c.s3}/{bkt}?max-keys=0").text
    assert "<Contents>" not in x and "<IsTruncated>false" in x
    x = requests.get(f"{s3c.s3}/{bkt}?list-type=2&continuation-token=zz")
    assert x.status_code == 400 and "InvalidArgument" in x.text


def test_copy_object(s3c, bkt):
    s3 = client(s3c)
    data = random.randbytes(70000)
    s3.put_object(Bucket=bkt, Key="src", Body=data, ContentType="a/b", Metadata={"m": "1"})
    r = s3.copy_object(Bucket=bkt, Key="dst1", CopySource={"Bucket": bkt, "Key": "src"})
    assert r["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    g = s3.get_object(Bucket=bkt, Key="dst1")
    assert g["Body"].read() == data and g["ContentType"] == "a/b" and g["Metadata"] == {"m": "1"}
    s3.copy_object(Bucket=bkt, Key="dst2", CopySource=f"{bkt}/src", MetadataDirective="REPLACE",
                   ContentType="c/d", Metadata={"z": "9"})
    g = s3.get_object(Bucket=bkt, Key="dst2")
    assert g["Body"].read() == data and g["ContentType"] == "c/d" and g["Metadata"] == {"z": "9"}
    assert code_of(s3.copy_object, Bucket=bkt, Key="d3", CopySource={"Bucket": bkt, "Key": "none"}) == "NoSuchKey"


def test_delete_objects_and_bad_xml(s3c, bkt):
    s3 = client(s3c)
    for i in range(5):
        s3.put_object(Bucket=bkt, Key=f"del{i}", Body=b"x")
    r = s3.delete_objects(Bucket=bkt, Delete={"Objects": [{"Key": f"del{i}"} for i in range(3)] +
                                              [{"Key": "never-there"}], "Quiet": True})
    assert not r.get("Deleted") and not r.get("Errors")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bkt)["Contents"]] == ["del3", "del4"]
    for body in (b"<Delete><Object><Key>x</Key></Object>", b"garbage", b"",
                 b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><Delete><Object><Key>&e;</Key></Object></Delete>',
                 b"<Delete></Delete>", b"<NotDelete/>"):
        r = requests.post(f"{s3c.s3}/{bkt}?delete", data=body)
        assert r.status_code == 400 and "<Code>MalformedXML</Code>" in r.text, (body, r.text)
    r = requests.post(f"{s3c.s3}/{bkt}/k?uploadId=" + "0" * 32, data=b"<Complete")
    assert r.status_code == 404 and "NoSuchUpload" in r.text
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bkt)["Contents"]] == ["del3", "del4"]
    r = requests.put(f"{s3c.s3}/{bkt}", data=b"<CreateBucketConfiguration><x")
    assert r.status_code == 400 and "MalformedXML" in r.text


# ---- multipart ----

def test_multipart_boto3(s3c, bkt):
    s3 = client(s3c)
    path = rand_file(s3c, "mp20", 20 * MiB)
    s3.upload_file(path, bkt, "mp/big")  # TransferConfig defaults: 8 MiB parts
    h = s3.head_object(Bucket=bkt, Key="mp/big")
    assert h["ContentLength"] == 20 * MiB and h["ETag"].endswith('-3"')
    out = path + ".back"
    s3.download_file(bkt, "mp/big", out)
    assert open(out, "rb").read() == open(path, "rb").read()
    assert [n for n in v1_names(s3c, bkt) if n.startswith(".s3-mpu")] == []
    # low level: parts, listing, errors
    data = open(path, "rb").read()
    up = s3.create_multipart_upload(Bucket=bkt, Key="mp/low", ContentType="x/y", Metadata={"a": "b"})
    uid = up["UploadId"]
    p1 = s3.upload_part(Bucket=bkt, Key="mp/low", UploadId=uid, PartNumber=1, Body=data[:5 * MiB])
    p2 = s3.upload_part(Bucket=bkt, Key="mp/low", UploadId=uid, PartNumber=2, Body=data[5 * MiB:6 * MiB])
    p3 = s3.upload_part_copy(Bucket=bkt, Key="mp/low", UploadId=uid, PartNumber=3,
                             CopySource={"Bucket": bkt, "Key": "mp/big"}, CopySourceRange="bytes=0-99")
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bkt, Key="mp/low", UploadId=uid)["Parts"]] == [1, 2, 3]
    ups = s3.list_multipart_uploads(Bucket=bkt).get("Uploads", [])
    assert [(u["Key"], u["UploadId"]) for u in ups] == [("mp/low", uid)]
    assert "Contents" not in s3.list_objects_v2(Bucket=bkt, Prefix="mp/low")  # parts are hidden
    parts = [{"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]},
             {"PartNumber": 3, "ETag": p3["CopyPartResult"]["ETag"]}]
    cmp = lambda ps: s3.complete_multipart_upload(Bucket=bkt, Key="mp/low", UploadId=uid,  # noqa: E731
                                                  MultipartUpload={"Parts": ps})
    assert code_of(cmp, [parts[1], parts[0]]) == "InvalidPartOrder"
    assert code_of(cmp, [parts[0], {"PartNumber": 2, "ETag": '"' + "0" * 32 + '"'}]) == "InvalidPart"
    assert code_of(cmp, [parts[1], parts[2]]) == "EntityTooSmall"  # part 2 (1 MiB) is not last
    r = cmp([parts[0], parts[1]])
    want = hashlib.md5(bytes.fromhex(p1["ETag"].strip('"')) + bytes.fromhex(p2["ETag"].strip('"'))).hexdigest()
    assert r["ETag"] == f'"{want}-2"'
    g = s3.get_object(Bucket=bkt, Key="mp/low")
    assert g["Body"].read() == data[:6 * MiB] and g["ContentType"] == "x/y" and g["Metadata"] == {"a": "b"}
    assert g["ETag"] == f'"{want}-2"'
    assert code_of(s3.list_parts, Bucket=bkt, Key="mp/low", UploadId=uid) == "NoSuchUpload"
    # abort leaves nothing behind
    uid = s3.create_multipart_upload(Bucket=bkt, Key="mp/ab")["UploadId"]
    s3.upload_part(Bucket=bkt, Key="mp/ab", UploadId=uid, PartNumber=1, Body=b"x" * 1000)
    s3.abort_multipart_upload(Bucket=bkt, Key="mp/ab", UploadId=uid)
    assert code_of(s3.upload_part, Bucket=bkt, Key="mp/ab", UploadId=uid, PartNumber=2, Body=b"y") == "NoSuchUpload"
    assert sorted(v1_names(s3c, bkt)) == ["mp/big", "mp/low"]
    assert code_of(s3.upload_part, Bucket=bkt, Key="mp/ab", UploadId="bogus", PartNumber=1, Body=b"y") == "NoSuchUpload"
    assert code_of(s3.upload_part, Bucket=bkt, Key="mp/ab", UploadId=uid, PartNumber=0, Body=b"y") in ("InvalidArgument", "NoSuchUpload")


# ---- checksums, aws-chunked, Expect ----

def chunked(data, trailer, step=65536):
    body = b""
    for i in range(0, len(data), step):
        c = data[i:i + step]
        body += b"%x\r\n" % len(c) + c + b"\r\n"
    return body + b"0\r\n" + trailer + b"\r\n\r\n"


def test_checksums_and_aws_chunked(s3c, bkt):
    s3 = client(s3c)
    data = random.randbytes(200001)
    for alg in ("CRC32", "CRC32C", "SHA1", "SHA256"):
        r = s3.put_object(Bucket=bkt, Key="ck" + alg, Body=data, ChecksumAlgorithm=alg)
        g = s3.get_object(Bucket=bkt, Key="ck" + alg, ChecksumMode="ENABLED")
        assert g["Body"].read() == data
        assert g["Checksum" + alg] == r["Checksum" + alg]
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big"))
    hdrs = {"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(data)), "x-amz-trailer": "x-amz-checksum-crc32"}
    r = requests.put(f"{s3c.s3}/{bkt}/chunked", data=chunked(data, b"x-amz-checksum-crc32:" + crc, 8191), headers=hdrs)
    assert r.status_code == 200, r.text
    assert r.headers["x-amz-checksum-crc32"] == crc.decode()
    assert s3.get_object(Bucket=bkt, Key="chunked")["Body"].read() == data  # no framing inside
    r = requests.put(f"{s3c.s3}/{bkt}/corrupt", data=chunked(data, b"x-amz-checksum-crc32:AAAAAA=="), headers=hdrs)
    assert r.status_code == 400 and "<Code>BadDigest</Code>" in r.text
    assert code_of(s3.head_object, Bucket=bkt, Key="corrupt") == "404"
    r = requests.put(f"{s3c.s3}/{bkt}/badhdr", data=data, headers={"x-amz-checksum-sha256": "AAAA"})
    assert r.status_code == 400 and "BadDigest" in r.text
    bad = dict(hdrs, **{"x-amz-decoded-content-length": str(len(data) + 1)})
    r = requests.put(f"{s3c.s3}/{bkt}/short", data=chunked(data, b"x-amz-checksum-crc32:" + crc), headers=bad)
    assert r.status_code == 400 and "IncompleteBody" in r.text
    r = requests.put(f"{s3c.s3}/{bkt}/framing", data=b"zz\r\nabc\r\n0\r\n\r\n", headers=hdrs)
    assert r.status_code == 400
    assert sorted(v1_names(s3c, bkt)) == sorted(["chunked"] + ["ck" + a for a in ("CRC32", "CRC32C", "SHA1", "SHA256")])
    # Expect: 100-continue (curl sends it for bodies over 1 KiB with -T)
    path = rand_file(s3c, "expect", 3 * MiB)
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect: 100-continue",
                        "-T", path, f"{s3c.s3}/{bkt}/expect"], capture_output=True, timeout=60)
    assert r.stdout == b"200", r.stderr
    assert s3.get_object(Bucket=bkt, Key="expect")["Body"].read() == open(path, "rb").read()


CRC64NVME_TAB = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x9a6c9329ac4bc9b5 if _c & 1 else _c >> 1
    CRC64NVME_TAB.append(_c)


def crc64nvme_b64(data):
    c = (1 << 64) - 1
    for b in data:
        c = CRC64NVME_TAB[(c ^ b) & 0xff] ^ (c >> 8)
    return base64.b64encode((c ^ ((1 << 64) - 1)).to_bytes(8, "big")).decode()


def test_checksum_mode_returns_stored(s3c, bkt, caplog):
    """The verified checksum of a single-part PUT is kept with the object: header checksums
    (boto3's default crc32 and ChecksumAlgorithm), and trailer ones small (held whole) and large
    (written, then rewritten with the checksum) come back with ChecksumMode=ENABLED only."""
    s3 = client(s3c)
    data = random.randbytes(300001)
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    caplog.set_level(logging.INFO, logger="botocore.httpchecksum")
    # botocore >= 1.36 sends a crc32 header by default (Debian's 1.29 sends Content-MD5 only)
    r = s3.put_object(Bucket=bkt, Key="plain", Body=data)
    g = s3.get_object(Bucket=bkt, Key="plain", ChecksumMode="ENABLED")
    assert g["Body"].read() == data and g.get("ChecksumCRC32") == r.get("ChecksumCRC32")
    caplog.clear()
    r = s3.put_object(Bucket=bkt, Key="dflt", Body=data, ChecksumAlgorithm="CRC32")
    assert r["ChecksumCRC32"] == crc
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    r = s3.put_object(Bucket=bkt, Key="sha", Body=data, ChecksumAlgorithm="SHA256")
    assert r["ChecksumSHA256"] == sha
    for key, field, want in (("dflt", "ChecksumCRC32", crc), ("sha", "ChecksumSHA256", sha)):
        g = s3.get_object(Bucket=bkt, Key=key, ChecksumMode="ENABLED")
        assert g["Body"].read() == data  # botocore validates the body against the header
        assert g[field] == want and g["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-" + field[8:].lower()] == want
        assert s3.head_object(Bucket=bkt, Key=key, ChecksumMode="ENABLED")[field] == want
        assert field not in s3.head_object(Bucket=bkt, Key=key)  # only when asked for
    assert "Skipping checksum validation" not in caplog.text
    # trailer checksums over unsigned aws-chunked bodies, both sides of the 256 KiB hold-back
    for key, size, alg in (("tr-small", 1000, "crc32c"), ("tr-64", 5000, "crc64nvme"),
                           ("tr-big", 3 * MiB + 5, "sha1"), ("tr-big32", 2 * MiB, "crc32")):
        body = random.randbytes(size)
        want = {"crc32c": lambda b: base64.b64encode(_crc32c(b).to_bytes(4, "big")).decode(),
                "crc64nvme": crc64nvme_b64,
                "sha1": lambda b: base64.b64encode(hashlib.sha1(b).digest()).decode(),
                "crc32": lambda b: base64.b64encode(zlib.crc32(b).to_bytes(4, "big")).decode()}[alg](body)
        hdrs = {"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked",
                "x-amz-decoded-content-length": str(size), "x-amz-trailer": "x-amz-checksum-" + alg}
        r = requests.put(f"{s3c.s3}/{bkt}/{key}", data=chunked(body, f"x-amz-checksum-{alg}:{want}".encode()),
                         headers=hdrs)
        assert r.status_code == 200, r.text
        assert r.headers["x-amz-checksum-" + alg] == want
        h = requests.head(f"{s3c.s3}/{bkt}/{key}", headers={"x-amz-checksum-mode": "ENABLED"})
        assert h.status_code == 200 and h.headers.get("x-amz-checksum-" + alg) == want, (key, h.headers)
        assert "x-amz-checksum-" + alg not in requests.head(f"{s3c.s3}/{bkt}/{key}").headers
        g = requests.get(f"{s3c.s3}/{bkt}/{key}", headers={"x-amz-checksum-mode": "ENABLED"})
        assert g.content == body and g.headers.get("x-amz-checksum-" + alg) == want
        if alg in ("crc32", "sha1"):  # what boto3 can check itself
            g = s3.get_object(Bucket=bkt, Key=key, ChecksumMode="ENABLED")
            assert g["Body"].read() == body and g["Checksum" + alg.upper()] == want
    assert sorted(v1_names(s3c, bkt)) == ["dflt", "plain", "sha", "tr-64", "tr-big", "tr-big32", "tr-small"]


def _crc32c(data):
    c = 0xffffffff
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0x82f63b78 if c & 1 else c >> 1
    return c ^ 0xffffffff


def _hm(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256)


def signed_chunked_put(c, bck, key, data, step=65536, trailer=False, corrupt=None, tamper=False):
    """PUT of data as a SigV4-signed aws-chunked body built by hand (AWS's streaming scheme:
    each chunk's signature chains from the previous one, the first from the request's).
    corrupt: index of the chunk whose signature is damaged (len(chunks) = the final empty one),
    or "trailer"; tamper: one data byte changed after signing."""
    now = datetime.datetime.now(datetime.timezone.utc)
    amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = f"{day}/us-east-1/s3/aws4_request"
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer else "")
    hdrs = {"host": c.s3.split("/")[2], "x-amz-content-sha256": mode, "x-amz-date": amz,
            "x-amz-decoded-content-length": str(len(data)), "content-encoding": "aws-chunked"}
    if trailer:
        hdrs["x-amz-trailer"] = "x-amz-checksum-crc32"
    names = sorted(hdrs)
    canon = "\n".join(["PUT", f"/s3/{bck}/{key}", "", "".join(f"{n}:{hdrs[n]}\n" for n in names),
                       ";".join(names), mode])
    skey = _hm(_hm(_hm(_hm(("AWS4" + SK).encode(), day).digest(), "us-east-1").digest(), "s3").digest(),
               "aws4_request").digest()
    prev = _hm(skey, "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(canon.encode()).hexdigest()])).hexdigest()
    hdrs["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={AK}/{scope}, SignedHeaders={';'.join(names)}, "
                             f"Signature={prev}")
    empty = hashlib.sha256(b"").hexdigest()
    chunks = [data[i:i + step] for i in range(0, len(data), step)] + [b""]
    body = b""
    for i, piece in enumerate(chunks):
        prev = _hm(skey, "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz, scope, prev, empty,
                                    hashlib.sha256(piece).hexdigest()])).hexdigest()
        sig = prev if i != corrupt else ("1" if prev[0] == "0" else "0") + prev[1:]
        body += b"%x;chunk-signature=%s\r\n" % (len(piece), sig.encode()) + piece + (b"\r\n" if piece else b"")
    if trailer:
        crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        tr = f"x-amz-checksum-crc32:{crc}\n"
        tsig = _hm(skey, "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz, scope, prev,
                                    hashlib.sha256(tr.encode()).hexdigest()])).hexdigest()
        if corrupt == "trailer":
            tsig = ("1" if tsig[0] == "0" else "0") + tsig[1:]
        body += tr.encode().replace(b"\n", b"\r\n") + f"x-amz-trailer-signature:{tsig}\r\n".encode()
    body += b"\r\n"
    if tamper:
        body = bytearray(body)
        body[body.index(b"\r\n") + 2 + 100] ^= 1  # inside the first chunk
        body = bytes(body)
    return requests.put(c.s3 + f"/{bck}/{key}", data=body, headers=hdrs, timeout=60)


def test_signed_aws_chunked(s3c, bkt):
    """With s3.auth on, every chunk signature (and the trailer's) of a signed aws-chunked body
    is checked as the body streams: a correct body is stored, a forged chunk signature, a
    changed byte or a forged trailer signature is 403 SignatureDoesNotMatch and stores nothing
    (an older object under the key stays)."""
    s3 = client(s3c)
    data = random.randbytes(3 * 65536 + 12345)
    big = random.randbytes(2 * MiB + 7)
    s3.put_object(Bucket=bkt, Key="keep", Body=b"old verified value")
    setconf(s3c, **{"s3.auth": "true"})
    try:
        r = signed_chunked_put(s3c, bkt, "good", data)
        assert r.status_code == 200, r.text
        assert s3.get_object(Bucket=bkt, Key="good")["Body"].read() == data
        r = signed_chunked_put(s3c, bkt, "good-big", big, step=1 << 20)
        assert r.status_code == 200, r.text
        assert s3.get_object(Bucket=bkt, Key="good-big")["Body"].read() == big
        crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        r = signed_chunked_put(s3c, bkt, "good-tr", data, trailer=True)
        assert r.status_code == 200, r.text
        assert r.headers["x-amz-checksum-crc32"] == crc
        g = s3.get_object(Bucket=bkt, Key="good-tr", ChecksumMode="ENABLED")
        assert g["Body"].read() == data and g["ChecksumCRC32"] == crc
        nchunks = len(range(0, len(data), 65536))
        for key, kw in (("bad0", {"corrupt": 0}), ("bad2", {"corrupt": 2}), ("badlast", {"corrupt": nchunks}),
                        ("tamper", {"tamper": True}), ("badtr", {"trailer": True, "corrupt": "trailer"}),
                        ("keep", {"corrupt": 1}), ("keep", {"trailer": True, "corrupt": "trailer"})):
            r = signed_chunked_put(s3c, bkt, key, data, **kw)
            assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text, (key, kw, r.text)
            if key != "keep":
                assert code_of(s3.get_object, Bucket=bkt, Key=key) == "NoSuchKey"
        r = signed_chunked_put(s3c, bkt, "bigbad", big, step=1 << 20, corrupt=2)
        assert r.status_code == 403 and "SignatureDoesNotMatch" in r.text
        assert code_of(s3.get_object, Bucket=bkt, Key="bigbad") == "NoSuchKey"
        assert s3.get_object(Bucket=bkt, Key="keep")["Body"].read() == b"old verified value"
        # the seed must be a header signature: a signed-chunk body with a presigned URL is refused
        v4 = client(s3c, signature_version="s3v4")
        url = v4.generate_presigned_url("put_object", Params={"Bucket": bkt, "Key": "pre"}, ExpiresIn=60)
        r = requests.put(url, data=chunked(b"abc", b"").replace(b"3\r\n", b"3;chunk-signature=" + b"0" * 64 + b"\r\n"),
                         headers={"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                                  "Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "3"})
        assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text, r.text
    finally:
        setconf(s3c, **{"s3.auth": "false"})
    assert sorted(v1_names(s3c, bkt)) == ["good", "good-big", "good-tr", "keep"]


# ---- real CLI clients ----

def test_aws_cli(s3c, bkt):
    ep = ["--endpoint-url", s3c.s3, "--only-show-errors"]
    d = os.path.join(s3c.tmp, "awsd")
    os.makedirs(os.path.join(d, "sub"), exist_ok=True)
    big = rand_file(s3c, "awsd/big.bin", 20 * MiB)
    small = rand_file(s3c, "awsd/sub/small with space.txt", 1234)
    sh(s3c, [AWS, *ep, "s3", "cp", big, f"s3://{bkt}/cli/big.bin"])
    assert client(s3c).head_object(Bucket=bkt, Key="cli/big.bin")["ETag"].endswith('-3"')
    sh(s3c, [AWS, *ep, "s3", "sync", d, f"s3://{bkt}/sync/"])
    out = sh(s3c, [AWS, "--endpoint-url", s3c.s3, "s3", "ls", "--recursive", f"s3://{bkt}/"]).stdout.decode()
    assert "sync/sub/small with space.txt" in out and "cli/big.bin" in out and "20971520" in out
    back = os.path.join(s3c.tmp, "aws-back")
    sh(s3c, [AWS, *ep, "s3", "cp", f"s3://{bkt}/cli/big.bin", back])
    assert open(back, "rb").read() == open(big, "rb").read()
    sh(s3c, [AWS, *ep, "s3", "sync", f"s3://{bkt}/sync/", back + "d"])
    assert open(os.path.join(back + "d", "sub", "small with space.txt"), "rb").read() == open(small, "rb").read()
    out = json.loads(sh(s3c, [AWS, "--endpoint-url", s3c.s3, "s3api", "head-object", "--bucket", bkt,
                              "--key", "sync/sub/small with space.txt"]).stdout)
    assert out["ContentLength"] == 1234
    out = json.loads(sh(s3c, [AWS, "--endpoint-url", s3c.s3, "s3api", "list-objects-v2", "--bucket", bkt,
                              "--delimiter", "/"]).stdout)
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["cli/", "sync/"]
    sh(s3c, [AWS, *ep, "s3", "rm", "--recursive", f"s3://{bkt}/sync/"])
    r = sh(s3c, [AWS, "--endpoint-url", s3c.s3, "s3api", "get-object", "--bucket", bkt, "--key", "none", "/dev/null"], ok=False)
    assert r.returncode != 0 and b"NoSuchKey" in r.stderr
    assert v1_names(s3c, bkt) == ["cli/big.bin"]


def test_s3cmd(s3c, bkt):
    cfg = os.path.join(s3c.tmp, "s3cfg")
    host = s3c.s3.replace("http://", "")
    with open(cfg, "w") as f:
        f.write(f"[default]\naccess_key = {AK}\nsecret_key = {SK}\nhost_base = {host}\n"
                f"host_bucket = {host}\nuse_https = False\n")
    s3cmd = ["s3cmd", "-c", cfg, "--no-progress"]
    big = rand_file(s3c, "s3cmd.bin", 20 * MiB)
    sh(s3c, [*s3cmd, "put", big, f"s3://{bkt}/s3cmd/big.bin"])  # 15 MiB chunks: multipart
    assert client(s3c).head_object(Bucket=bkt, Key="s3cmd/big.bin")["ETag"].endswith('-2"')
    sh(s3c, [*s3cmd, "put", rand_file(s3c, "s3cmd-small", 999), f"s3://{bkt}/s3cmd/sm all+x"])
    out = sh(s3c, [*s3cmd, "ls", "-r", f"s3://{bkt}"]).stdout.decode()
    assert "s3cmd/big.bin" in out and "s3cmd/sm all+x" in out
    back = big + ".back"
    sh(s3c, [*s3cmd, "get", "--force", f"s3://{bkt}/s3cmd/big.bin", back])
    assert open(back, "rb").read() == open(big, "rb").read()
    assert "File size: 20971520" in sh(s3c, [*s3cmd, "info", f"s3://{bkt}/s3cmd/big.bin"]).stdout.decode()
    sh(s3c, [*s3cmd, "del", f"s3://{bkt}/s3cmd/sm all+x"])
    assert v1_names(s3c, bkt) == ["s3cmd/big.bin"]
    name = "s3cmd%05d" % random.randrange(10**5)
    sh(s3c, [*s3cmd, "mb", f"s3://{name}"])
    assert name in sh(s3c, [*s3cmd, "ls"]).stdout.decode()
    sh(s3c, [*s3cmd, "rb", f"s3://{name}"])


def test_rclone(s3c, bkt):
    with open(os.path.join(s3c.tmp, "rclone.conf"), "w") as f:
        f.write(f"[ais]\ntype = s3\nprovider = Other\naccess_key_id = {AK}\nsecret_access_key = {SK}\n"
                f"endpoint = {s3c.s3}\nforce_path_style = true\n")
    big = rand_file(s3c, "rclone.bin", 20 * MiB)
    sh(s3c, ["rclone", "copy", big, f"ais:{bkt}/single/"])
    sh(s3c, ["rclone", "copy", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", big, f"ais:{bkt}/multi/"])
    assert client(s3c).head_object(Bucket=bkt, Key="multi/rclone.bin")["ETag"].endswith('-4"')
    out = sh(s3c, ["rclone", "ls", f"ais:{bkt}"]).stdout.decode()
    assert "20971520 single/rclone.bin" in out and "20971520 multi/rclone.bin" in out
    for d in ("single", "multi"):
        got = sh(s3c, ["rclone", "cat", f"ais:{bkt}/{d}/rclone.bin"]).stdout
        assert got == open(big, "rb").read()
    assert b"0 differences found" in sh(s3c, ["rclone", "check", big, f"ais:{bkt}/multi/"]).stderr
    sh(s3c, ["rclone", "delete", f"ais:{bkt}/single"])
    assert v1_names(s3c, bkt) == ["multi/rclone.bin"]


# ---- switches: auth, redirect ----

_DT = datetime.datetime


class _HourAgo(_DT):
    """datetime whose clock runs an hour late (what botocore signs with)."""
    @classmethod
    def utcnow(cls):
        return _DT.utcnow() - datetime.timedelta(hours=1)

    @classmethod
    def now(cls, tz=None):
        return _DT.now(tz) - datetime.timedelta(hours=1)


def setconf(c, **kv):
    r = requests.put(f"{c.url}/v1/cluster/setconfig", params=kv)
    assert r.status_code == 200, r.text


def test_auth_sigv4(s3c, bkt):
    s3 = client(s3c)
    s3.put_object(Bucket=bkt, Key="a", Body=b"secret data")
    setconf(s3c, **{"s3.auth": "true"})
    try:
        assert s3.get_object(Bucket=bkt, Key="a")["Body"].read() == b"secret data"
        s3.put_object(Bucket=bkt, Key="b/c d", Body=b"x" * 5000, Metadata={"k": "v"})
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=bkt, Prefix="b/", Delimiter="/")["Contents"]] == ["b/c d"]
        assert code_of(client(s3c, sk="wrong").get_object, Bucket=bkt, Key="a") == "SignatureDoesNotMatch"
        assert code_of(client(s3c, ak="AKIAUNKNOWN").get_object, Bucket=bkt, Key="a") == "InvalidAccessKeyId"
        r = requests.get(f"{s3c.s3}/{bkt}/a")
        assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text
        # presigned GET, PUT and UploadPart
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bkt, "Key": "a"}, ExpiresIn=60)
        assert requests.get(url).content == b"secret data"
        assert requests.get(url.replace("Signature=", "Signature=A")).status_code == 403
        url = s3.generate_presigned_url("put_object", Params={"Bucket": bkt, "Key": "pre put"}, ExpiresIn=60)
        assert requests.put(url, data=b"presigned").status_code == 200
        assert s3.get_object(Bucket=bkt, Key="pre put")["Body"].read() == b"presigned"
        uid = s3.create_multipart_upload(Bucket=bkt, Key="pmp")["UploadId"]
        url = s3.generate_presigned_url("upload_part", Params={"Bucket": bkt, "Key": "pmp", "UploadId": uid,
                                                               "PartNumber": 1}, ExpiresIn=60)
        r = requests.put(url, data=b"part one")
        assert r.status_code == 200, r.text
        s3.complete_multipart_upload(Bucket=bkt, Key="pmp", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r.headers["ETag"]}]})
        assert s3.get_object(Bucket=bkt, Key="pmp")["Body"].read() == b"part one"
        # signed an hour ago: an expired presign, and a header signature too far off our clock
        v4 = client(s3c, signature_version="s3v4")
        url4 = v4.generate_presigned_url("get_object", Params={"Bucket": bkt, "Key": "a"}, ExpiresIn=60)
        assert "X-Amz-Signature=" in url4 and requests.get(url4).content == b"secret data"
        now = time.time()
        with mock.patch("botocore.auth.datetime.datetime", _HourAgo), \
                mock.patch("botocore.auth.time.time", lambda: now - 3600):
            urls = [c.generate_presigned_url("get_object", Params={"Bucket": bkt, "Key": "a"}, ExpiresIn=60)
                    for c in (s3, v4)]
            assert code_of(s3.get_object, Bucket=bkt, Key="a") == "RequestTimeTooSkewed"
        for url in urls:  # V2 (botocore's default for presigning) and V4
            r = requests.get(url)
            assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text and "expired" in r.text, url
        # aws CLI signs too
        out = sh(s3c, [AWS, "--endpoint-url", s3c.s3, "s3", "ls", f"s3://{bkt}/"]).stdout.decode()
        assert "pre put" in out
    finally:
        setconf(s3c, **{"s3.auth": "false"})
    assert requests.get(f"{s3c.s3}/{bkt}/a").content == b"secret data"


def test_redirect_switch(s3c, bkt):
    requests.put(f"{s3c.s3}/{bkt}/r", data=b"redirected").raise_for_status()
    setconf(s3c, **{"s3.redirect": "true"})
    try:
        r = requests.get(f"{s3c.s3}/{bkt}/r", allow_redirects=False)
        assert r.status_code == 307 and "/v1/objects/" in r.headers["Location"]
        assert r.headers["Location"].split("/")[2] in [t["public_net"]["direct_url"].split("/")[2]
                                                       for t in s3c.smap()["tmap"].values()]
        assert requests.get(f"{s3c.s3}/{bkt}/r").content == b"redirected"
    finally:
        setconf(s3c, **{"s3.redirect": "false"})
    assert requests.get(f"{s3c.s3}/{bkt}/r", allow_redirects=False).status_code == 200


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(ln for ln in f if ln.startswith("VmRSS")).split()[1])


@no_tsan
def test_streaming_bounded_memory(s3c, bkt):
    """A 300 MiB object through the gateway both ways grows its RSS by far less than that."""
    size = 300 * MiB if SANITIZER != "address" else 160 * MiB
    pid = s3c.pid("gw0")
    before = rss_kb(pid)

    class Body:  # a sized stream: requests sends Content-Length and reads it piecewise
        def __init__(self):
            self.left, self.chunk = size, random.randbytes(MiB)

        def __len__(self):
            return self.left

        def read(self, n=-1):
            n = min(self.left, MiB if n is None or n < 0 else min(n, MiB))
            self.left -= n
            return self.chunk[:n]
    r = requests.put(f"{s3c.s3}/{bkt}/huge", data=Body())
    assert r.status_code == 200, r.text
    got = 0
    with requests.get(f"{s3c.s3}/{bkt}/huge", stream=True) as g:
        for c in g.iter_content(MiB):
            got += len(c)
    assert got == size
    grew = (rss_kb(pid) - before) // 1024
    assert grew < 64, f"gateway RSS grew by {grew} MiB for a {size // MiB} MiB object"


def test_virtual_host_style(s3c, bkt):
    """Host "BUCKET.anything" names the bucket; the path is the key (IP hosts never do)."""
    host = {"Host": f"{bkt}.s3.local:{s3c.base}"}
    r = requests.put(f"{s3c.url}/vh/key one", data=b"vhost", headers=host)
    assert r.status_code == 200, r.text
    assert client(s3c).get_object(Bucket=bkt, Key="vh/key one")["Body"].read() == b"vhost"
    assert requests.get(f"{s3c.url}/vh/key one", headers=host).content == b"vhost"
    x = requests.get(f"{s3c.url}/?list-type=2&prefix=vh/", headers=host).text
    assert f"<Name>{bkt}</Name>" in x and "<Key>vh/key one</Key>" in x
    # a Host naming no bucket, and /v1 paths, keep their meaning
    r = requests.get(f"{s3c.url}/vh/key one", headers={"Host": f"nosuchbucket.s3.local:{s3c.base}"})
    assert r.status_code == 404 and "unknown path" in r.text
    assert requests.get(f"{s3c.url}/v1/health", headers=host).status_code == 200
