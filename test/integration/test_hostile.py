"""Hostile input at the HTTP edge: every malformed request gets a 4xx with a JSON body naming
the problem, and the connection stays sane (closed where the framing cannot be trusted,
reusable otherwise).

Goal: garbage request lines and bad HTTP versions get 400 (not a silent close); duplicate or
conflicting Content-Length / Transfer-Encoding get 400 and the connection is closed (a request
smuggling shape); NUL and control bytes, '..', over-long names, URIs and headers are refused
(400/414/431) and nothing is created; oversized JSON is 413, deeply nested or truncated JSON
400; bad ranges 416; unknown actions and providers 400; wrong methods 405 with Allow; many idle
connections do not starve a client; past net.http.max_conns a new connection gets 503 with
Retry-After instead of a hang.
Method: raw sockets (a client library would refuse to send most of these) against a gateway
and a target of a 1+1 cluster; for the overload case the target restarts with a small
net.http.max_conns. Every wait is a socket timeout or a poll with a deadline.
"""
import json
import os
import re
import socket

import pytest
import requests

from conftest import cluster_of, wait_until


@pytest.fixture(scope="module")
def hc(request):
    yield from cluster_of(request, targets=1, mountpaths=1)


def port_of(url):
    return int(url.rsplit(":", 1)[1].split("/")[0])


def raw(port, data, timeout=5.0):
    """Sends data, returns (status, headers, body, closed): the first response, and whether
    the server closed the connection after it."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        assert b"\r\n\r\n" in buf, f"no response head (got {buf[:200]!r})"
        head, body = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
        n = int(hdrs.get("content-length", "0"))
        while len(body) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        closed = False
        try:
            s.settimeout(2.0)
            closed = s.recv(1) == b""
        except socket.timeout:
            closed = False
        return status, hdrs, body[:n], closed
    finally:
        s.close()


def jmsg(body):
    return json.loads(body)["message"]


GW_CASES = [
    # (request bytes, status, text in message, connection closed)
    (b"GARBAGE\r\n\r\n", 400, "malformed request line", True),
    (b"GET\r\n\r\n", 400, "malformed request line", True),
    (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 400, "unsupported HTTP version", True),
    (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 400, "unsupported HTTP version", True),
    (b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed request line", True),
    (b"GET /v1/buckets/a b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed request line", True),
    (b"GET /v1/buckets/a\x01b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "control character", True),
    (b"PUT /v1/objects/b/o HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
     400, "more than one Content-Length", True),
    (b"PUT /v1/objects/b/o HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
     400, "more than one Content-Length", True),
    (b"PUT /v1/objects/b/o HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5\r\nhello\r\n0\r\n\r\n", 400, "both Content-Length and Transfer-Encoding", True),
    (b"PUT /v1/objects/b/o HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
     b"5\r\nhello\r\n0\r\n\r\n", 400, "unsupported Transfer-Encoding", True),
    (b"POST /v1/buckets/a%00b HTTP/1.1\r\nHost: x\r\nContent-Length: 25\r\n\r\n"
     b'{"action":"create-bck"}  ', 400, "NUL byte", True),
    (b"GET /v1/buckets?x=%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "NUL byte", True),
]


@pytest.mark.parametrize("data,status,text,closed", GW_CASES,
                         ids=[c[0][:24].decode("latin-1") for c in GW_CASES])
def test_malformed_requests_get_json_4xx(hc, data, status, text, closed):
    st, hdrs, body, was_closed = raw(port_of(hc.url), data)
    assert st == status, body
    assert hdrs.get("content-type") == "application/json"
    assert text in jmsg(body), body
    assert was_closed == closed
    # Nothing was created by any of them; the node still serves.
    r = requests.get(hc.url + "/v1/buckets", timeout=10)
    assert r.status_code == 200 and all(b["name"] in ("", "ok") or not b["name"].startswith("a")
                                        for b in r.json() or []), r.text


def test_names_and_limits(hc):
    u = hc.url
    assert requests.post(f"{u}/v1/buckets/ok", json={"action": "create-bck"}, timeout=10).status_code == 200
    cases = [
        (f"/v1/buckets/{'x' * 65}", 400, "too long"),
        ("/v1/objects/ok/a%01b", 400, "control"),
        (f"/v1/objects/ok/{'n' * 1100}", 400, "too long"),
        (f"/v1/objects/ok/o?provider=bogus", 400, "provider"),
    ]
    for path, status, text in cases:
        r = requests.get(u + path, timeout=10)
        assert r.status_code == status and text in r.json()["message"], (path, r.status_code, r.text)
    # '..' as the client sent it (requests would normalise it away).
    st, _, body, _ = raw(port_of(u), b"GET /v1/objects/ok/a/../b HTTP/1.1\r\nHost: x\r\n\r\n")
    assert st == 400 and "'..'" in jmsg(body), body
    # URI over AIS_URI_BYTES_MAX (8 KiB): 414; headers over the budget: 431 (or MHD's own 431).
    st, _, body, _ = raw(port_of(u), b"GET /v1/buckets?" + b"q" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert st == 414, body
    big = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 1000) for i in range(100))
    st, _, body, _ = raw(port_of(u), b"GET /v1/buckets HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
    assert st == 431, body


def test_json_bodies(hc):
    u = hc.url + "/v1/buckets/ok"
    r = requests.post(u, data=b'{"action":"create-bck"' + b" " * (2 << 20) + b"}", timeout=30)
    assert r.status_code == 413, r.text
    r = requests.post(u, data=b"[" * 100000 + b"]" * 100000, timeout=30)
    assert r.status_code == 400 and "JSON" in r.json()["message"], r.text
    r = requests.post(u, data=b'{"action":"create-', timeout=10)
    assert r.status_code == 400 and "JSON" in r.json()["message"], r.text
    r = requests.post(u, json={"action": "frobnicate"}, timeout=10)
    assert r.status_code == 400 and "frobnicate" in r.json()["message"], r.text
    r = requests.put(hc.url + "/v1/cluster", json={"action": "no-such-action"}, timeout=10)
    assert r.status_code == 400 and "no-such-action" in r.json()["message"], r.text


def test_ranges_and_methods(hc):
    u = hc.url + "/v1/objects/ok/r"
    assert requests.put(u, data=b"0123456789", timeout=10).status_code == 200
    for rng, status in [("bytes=5-2", 416), ("bytes=100-200", 416), ("bytes=abc", 416)]:
        r = requests.get(u, headers={"Range": rng}, timeout=10)
        assert r.status_code == status, (rng, r.status_code, r.text)
    r = requests.get(u, headers={"Range": "bytes=2-4"}, timeout=10)
    assert r.status_code == 206 and r.content == b"234"
    r = requests.patch(u, timeout=10)
    assert r.status_code == 405 and "Allow" in r.headers, r.headers
    assert "GET" in r.headers["Allow"] and "not allowed" in r.json()["message"]


def test_connection_stays_sane_after_a_4xx(hc):
    """Two requests on one keep-alive connection: an error answer, then a good one."""
    s = socket.create_connection(("127.0.0.1", port_of(hc.url)), timeout=5)
    try:
        s.sendall(b"GET /v1/buckets/bad..name HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /v1/buckets HTTP/1.1\r\nHost: x\r\n\r\n")
        buf = b""
        while buf.count(b"HTTP/1.1 ") < 2 or not buf.rstrip().endswith((b"]", b"}", b"null")):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        assert re.findall(rb"HTTP/1\.1 (\d{3})", buf) == [b"400", b"200"], buf
    finally:
        s.close()


def test_idle_connections_do_not_starve_others(hc):
    idle = [socket.create_connection(("127.0.0.1", port_of(hc.url)), timeout=5) for _ in range(200)]
    half = [socket.create_connection(("127.0.0.1", port_of(hc.url)), timeout=5) for _ in range(50)]
    try:
        for s in half:
            s.sendall(b"GET /v1/buck")  # a request line that never ends (slow client)
        for _ in range(20):
            r = requests.get(hc.url + "/v1/buckets", timeout=5)
            assert r.status_code == 200
    finally:
        for s in idle + half:
            s.close()


def test_overload_gets_503_with_retry_after(hc):
    cfg_path = os.path.join(hc.node_dir("t0"), "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg.setdefault("net", {}).setdefault("http", {})["max_conns"] = 16
    hc.kill9("t0")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    hc.restart("t0")
    turl = wait_until(lambda: hc.smap()["tmap"] and next(iter(hc.smap()["tmap"].values()))
                      ["public_net"]["direct_url"], 30, what="t0 back in the Smap")
    wait_until(lambda: requests.get(turl + "/v1/health", timeout=2).status_code == 200, 30,
               what="t0 healthy")
    port = port_of(turl)
    held = []
    try:
        for _ in range(16):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")  # kept alive afterwards
            s.recv(4096)
            held.append(s)
        st, hdrs, body, closed = raw(port, b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert st == 503 and hdrs.get("retry-after") == "1" and closed, (st, hdrs, body)
        assert "too many connections" in jmsg(body)
    finally:
        for s in held:
            s.close()
    wait_until(lambda: requests.get(turl + "/v1/health", timeout=2).status_code == 200, 30,
               what="t0 serving again once the connections closed")
