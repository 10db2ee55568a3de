"""Erasure coding across targets (1 gateway, 6 targets, 2 mountpaths each).

Goal: a PUT into an EC bucket answers 200 only once its slices (or, below ec.objsize_limit, its
replicas) sit on other targets; a GET whose main copy is gone or corrupt rebuilds it from any d
slices and serves the exact bytes (and puts the copy back); losing more than the redundancy
gives a clear error, never wrong bytes; HEAD shows the EC headers; overwrite bumps the
generation; DELETE removes every slice; enabling EC on a bucket with objects runs ec-encode;
settings the cluster cannot honour are refused with 400; EC 3+2 survives two killed targets; a
joining target gets the objects it now owns re-encoded; EC 4+2 on 7 targets survives losing two targets' data.
Method: real daemons; main copies and slices removed or damaged on disk under the targets'
mountpaths (%ob, %ec, %mt); jobs awaited by polling their status with a deadline.
"""
import glob
import hashlib
import os
import shutil

import pytest
import requests

from conftest import cluster_of, wait_until

ACT = lambda a, v=None: {"action": a, "name": "", "value": v}  # noqa: E731
NT = 6
LIMIT = 4096  # ec.objsize_limit of the test buckets: smaller objects are replicated
EC_DEFAULT_LIMIT = 262144  # AIS's default ec.objsize_limit


@pytest.fixture(scope="module")
def ec(request):
    yield from cluster_of(request, gateways=1, targets=NT, mountpaths=2)


def body(name, size):
    seed = hashlib.sha256(name.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def job_wait(c, jid, timeout=60):
    def ended():
        st = requests.get(c.url + "/v1/cluster", params={"what": "status"}, json={"ID": jid}, timeout=10)
        return st.json() if st.status_code == 200 and st.json()["end_time"] != 0 else None
    return wait_until(ended, timeout=timeout, interval=0.1, what=f"job {jid}")


def set_props(c, bck, props, status=200):
    r = requests.patch(f"{c.url}/v1/buckets/{bck}", json=ACT("set-bprops", props), timeout=60)
    assert r.status_code == status, r.text
    if status == 200 and r.text:
        assert r.text.startswith("e"), r.text
        job_wait(c, r.text)
    return r


def mk_ec_bucket(c, bck, d, p, limit=LIMIT):
    r = requests.post(f"{c.url}/v1/buckets/{bck}", json=ACT("create-bck"), timeout=30)
    assert r.status_code == 200, r.text
    set_props(c, bck, {"ec": {"enabled": True, "data_slices": d, "parity_slices": p,
                              "objsize_limit": limit}})


def files(c, bck, ct, name):
    """Every file of content type ct (%ob, %ec, %mt) for name across all targets' mountpaths."""
    return glob.glob(os.path.join(c.dir, "t*", "mp*", "@ais", bck, ct, name))


def put(c, bck, name, data):
    r = requests.put(f"{c.url}/v1/objects/{bck}/{name}", data=data, timeout=120)
    assert r.status_code == 200, r.text


def get(c, bck, name):
    return requests.get(f"{c.url}/v1/objects/{bck}/{name}", timeout=120)


def head(c, bck, name):
    return requests.head(f"{c.url}/v1/objects/{bck}/{name}", allow_redirects=True, timeout=30)


SIZES = {"empty": 0, "one": 1, "under": LIMIT - 1, "at": LIMIT, "over": LIMIT + 1,
         "mid": 300 * 1024 + 7}


def test_refuses_what_the_cluster_cannot_honour(ec):
    r = requests.post(f"{ec.url}/v1/buckets/nope", json=ACT("create-bck"), timeout=30)
    assert r.status_code == 200, r.text
    r = set_props(ec, "nope", {"ec": {"enabled": True, "data_slices": 4, "parity_slices": 2}}, 400)
    assert "7" in r.text and str(NT) in r.text, r.text
    r = set_props(ec, "nope", {"ec": {"enabled": True, "data_slices": 2, "parity_slices": 1},
                               "mirror": {"enabled": True, "copies": 2}}, 400)
    assert "mirror" in r.text, r.text
    r = set_props(ec, "nope", {"ec": {"data_slices": 0}}, 400)
    assert "data_slices" in r.text, r.text
    # nothing stuck: still a plain bucket
    hb = requests.head(f"{ec.url}/v1/buckets/nope", timeout=10)
    assert '"enabled":false' in hb.headers["Ais-Bucket-Props"].replace(" ", ""), hb.headers


def test_put_places_slices_and_replicas(ec):
    mk_ec_bucket(ec, "e21", 2, 1)
    for n, size in SIZES.items():
        put(ec, "e21", n, body(n, size))
        h = head(ec, "e21", n)
        assert h.status_code == 200, h.headers
        copy = size < LIMIT
        assert h.headers["Ais-Ec-Data"] == "2" and h.headers["Ais-Ec-Parity"] == "1", h.headers
        assert h.headers["Ais-Ec-Replicated"] == ("true" if copy else "false"), (n, h.headers)
        assert int(h.headers["Ais-Ec-Generation"]) > 0
        # replicas: p; slices: d + p, each on another target than the main copy
        recs = files(ec, "e21", "%ec", n)
        assert len(recs) == (1 if copy else 3), (n, recs)
        owners = {p.split(os.sep)[-6] for p in files(ec, "e21", "%ob", n)}
        holders = {p.split(os.sep)[-6] for p in recs}
        assert len(owners) == 1 and not owners & holders and len(holders) == len(recs), (owners, holders)


def test_get_rebuilds_missing_main_copy(ec):
    for n, size in SIZES.items():
        for f in files(ec, "e21", "%ob", n):
            os.remove(f)
        r = get(ec, "e21", n)
        assert r.status_code == 200, (n, r.text)
        assert r.content == body(n, size), n
        assert files(ec, "e21", "%ob", n), f"{n}: main copy not put back"


def test_get_rebuilds_from_parity_when_a_data_slice_is_gone(ec):
    n, size = "mid", SIZES["mid"]
    for f in files(ec, "e21", "%ob", n):
        os.remove(f)
    # drop one slice: the data slice 1 or 2 holder may be either; any one loss is survivable
    recs = files(ec, "e21", "%ec", n)
    os.remove(recs[0])
    r = get(ec, "e21", n)
    assert r.status_code == 200, r.text
    assert r.content == body(n, size)


def test_corrupt_main_copy_is_rebuilt_on_validating_get(ec):
    n, size = "over", SIZES["over"]
    main = files(ec, "e21", "%ob", n)
    assert len(main) == 1
    with open(main[0], "r+b") as f:
        f.seek(10)
        b = f.read(1)
        f.seek(10)
        f.write(bytes([b[0] ^ 0xFF]))
    r = requests.get(f"{ec.url}/v1/objects/e21/{n}", params={"validate-checksum": "true"}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.content == body(n, size)


def test_lost_beyond_redundancy_is_a_clear_error(ec):
    n = "lost"
    put(ec, "e21", n, body(n, 50000))
    for f in files(ec, "e21", "%ob", n) + files(ec, "e21", "%ec", n)[:2]:
        os.remove(f)
    r = get(ec, "e21", n)
    assert r.status_code == 503, (r.status_code, r.text)
    assert "found 1 of the 2 slices" in r.text, r.text


def test_overwrite_bumps_generation_and_delete_removes_slices(ec):
    n = "ow"
    put(ec, "e21", n, body(n, 9000))
    g1 = int(head(ec, "e21", n).headers["Ais-Ec-Generation"])
    put(ec, "e21", n, body(n + "2", 9000))
    g2 = int(head(ec, "e21", n).headers["Ais-Ec-Generation"])
    assert g2 > g1
    for f in files(ec, "e21", "%ob", n):
        os.remove(f)
    r = get(ec, "e21", n)
    assert r.status_code == 200 and r.content == body(n + "2", 9000)
    r = requests.delete(f"{ec.url}/v1/objects/e21/{n}", timeout=30)
    assert r.status_code == 200, r.text
    assert not files(ec, "e21", "%ec", n) and not files(ec, "e21", "%mt", n)
    assert get(ec, "e21", n).status_code == 404


def test_large_object(ec):
    n, size = "big", 100 * 1024 * 1024 + 13
    data = body(n, size)
    put(ec, "e21", n, data)
    for f in files(ec, "e21", "%ob", n):
        os.remove(f)
    r = get(ec, "e21", n)
    assert r.status_code == 200, r.text
    assert hashlib.sha256(r.content).digest() == hashlib.sha256(data).digest()
    assert requests.delete(f"{ec.url}/v1/objects/e21/{n}", timeout=60).status_code == 200


def test_enabling_ec_encodes_existing_objects(ec):
    r = requests.post(f"{ec.url}/v1/buckets/late", json=ACT("create-bck"), timeout=30)
    assert r.status_code == 200, r.text
    names = [f"o{i}" for i in range(12)]
    for n in names:
        put(ec, "late", n, body(n, 10000))
    assert not glob.glob(os.path.join(ec.dir, "t*", "mp*", "@ais", "late", "%ec", "*"))
    set_props(ec, "late", {"ec": {"enabled": True, "data_slices": 2, "parity_slices": 2,
                                  "objsize_limit": 0}})
    for n in names:
        assert len(files(ec, "late", "%ec", n)) == 4, n
        for f in files(ec, "late", "%ob", n):
            os.remove(f)
        r = get(ec, "late", n)
        assert r.status_code == 200 and r.content == body(n, 10000), n


def test_ec_3p2_survives_two_killed_targets(ec):
    mk_ec_bucket(ec, "e32", 3, 2)
    objs = {f"k{i}": 20000 + 977 * i for i in range(16)}
    objs["tiny"] = 100
    for n, size in objs.items():
        put(ec, "e32", n, body(n, size))
    victims = ["t1", "t4"]
    for v in victims:
        ec.kill9(v)
    want = NT - len(victims)
    wait_until(lambda: len(ec.smap()["tmap"]) == want, timeout=60, interval=0.2, what="smap without victims")
    for n, size in objs.items():
        r = wait_until(lambda: (lambda x: x if x.status_code == 200 else None)(get(ec, "e32", n)),
                       timeout=60, interval=0.5, what=f"GET {n}")
        assert r.content == body(n, size), n
    for v in victims:
        ec.restart(v)
    wait_until(lambda: len(ec.smap()["tmap"]) == NT, timeout=60, interval=0.2, what="victims back")


def ec_jobs_settled(c):
    """No rebalance or ec-encode job runs on any target."""
    for kind in ("rebalance", "ec-encode"):
        r = requests.get(c.url + "/v1/cluster", params={"what": "qryxstats"}, json={"Kind": kind}, timeout=10)
        if r.status_code != 200 or any(s.get("state") == "running" for arr in r.json().values() for s in arr):
            return False
    return True


def owner_of(c, bck, name):
    held = [p.split(os.sep)[-6] for p in files(c, bck, "%ob", name)]
    assert len(held) == 1, (name, held)
    return held[0]


def test_join_re_places_moved_objects(ec):
    """A target joins: the rebalance moves main copies, then ec-encode re-encodes the moved
    objects for their new owner (new generation, its own %mt), and all stay restorable."""
    mk_ec_bucket(ec, "mem", 2, 1, limit=0)
    names = [f"m{i:02d}" for i in range(40)]
    for n in names:
        put(ec, "mem", n, body(n, 7000))
    before = {n: (owner_of(ec, "mem", n), int(head(ec, "mem", n).headers["Ais-Ec-Generation"])) for n in names}
    ec.add_target("t6")
    wait_until(lambda: len(ec.smap()["tmap"]) == NT + 1, timeout=60, interval=0.2, what="t6 joined")
    wait_until(lambda: all(len(files(ec, "mem", "%ob", n)) == 1 for n in names) and ec_jobs_settled(ec),
               timeout=120, interval=0.3, what="rebalance and ec-encode to settle")
    moved = [n for n in names if owner_of(ec, "mem", n) != before[n][0]]
    assert moved, "no object moved to the new target"
    assert all(owner_of(ec, "mem", n) == "t6" for n in moved), moved

    def re_protected():  # by t6's arrival worker, which is not a job: poll the result
        return all(any("/t6/" in p for p in files(ec, "mem", "%mt", n)) and
                   int(head(ec, "mem", n).headers["Ais-Ec-Generation"]) > before[n][1] for n in moved)
    wait_until(re_protected, timeout=60, interval=0.3, what="moved objects re-encoded by t6")
    for n in names:
        for f in files(ec, "mem", "%ob", n):
            os.remove(f)
        r = get(ec, "mem", n)
        assert r.status_code == 200 and r.content == body(n, 7000), n


def test_ec_4p2_on_seven_targets_survives_losing_two_targets_data(ec):
    """The "done" bar: 4+2 (7 targets) loses everything two targets held of the bucket."""
    if len(ec.smap()["tmap"]) < NT + 1:
        ec.add_target("t6")
    wait_until(lambda: len(ec.smap()["tmap"]) == NT + 1, timeout=60, interval=0.2, what="t6 joined")
    mk_ec_bucket(ec, "e42", 4, 2, limit=EC_DEFAULT_LIMIT)
    objs = {"z0": 0, "z1": 1, "small": 5000, "under": EC_DEFAULT_LIMIT - 1, "at": EC_DEFAULT_LIMIT,
            "m1": 1024 * 1024 + 3, "m2": 3 * 1024 * 1024 + 5}
    for n, size in objs.items():
        put(ec, "e42", n, body(n, size))
        h = head(ec, "e42", n)
        assert h.headers["Ais-Ec-Data"] == "4" and h.headers["Ais-Ec-Parity"] == "2", h.headers
    for lost in ("t2", "t5"):
        for mp in glob.glob(os.path.join(ec.dir, lost, "mp*", "@ais", "e42")):
            for ct in ("%ob", "%ec", "%mt"):
                shutil.rmtree(os.path.join(mp, ct), ignore_errors=True)
    for n, size in objs.items():
        r = get(ec, "e42", n)
        assert r.status_code == 200, (n, r.text)
        assert r.content == body(n, size), n
