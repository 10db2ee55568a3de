"""A real S3 server for backend tests, and a counting/fault-injecting proxy in front of it.

The server is s3rver (npm; a fresh Debian 12 reaches npm but not PyPI), installed once into
.cache/s3rver of the repo and started on a free loopback port. The proxy forwards every request
byte for byte (so SigV4 signatures stay valid), counts requests by method and key, and can add
latency or fail chosen keys: the backend's request counter the cold-GET rule is checked by.
"""
import fcntl
import http.client
import http.server
import os
import shutil
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import urllib.parse

import boto3
from botocore.config import Config

REPO = os.environ.get("AIS_REPO", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
S3RVER_VERSION = "3.7.1"
KEY = "S3RVER"  # s3rver's built-in account (access key id and secret)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def s3rver_bin():
    """Installs s3rver with npm once per checkout (idempotent, under a lock)."""
    root = os.path.join(REPO, ".cache", "s3rver")
    exe = os.path.join(root, "node_modules", ".bin", "s3rver")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, ".lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        if not os.path.exists(exe):
            npm = shutil.which("npm")
            assert npm, "npm is needed for the S3 backend tests (s3rver); install nodejs and npm"
            r = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", root,
                                f"s3rver@{S3RVER_VERSION}"], capture_output=True, text=True,
                               timeout=600)
            assert r.returncode == 0, r.stdout + r.stderr
    return exe


class S3rver:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="s3rver-")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = open(os.path.join(self.dir, "s3rver.log"), "w")
        self.proc = subprocess.Popen([s3rver_bin(), "-d", os.path.join(self.dir, "data"),
                                      "-a", "127.0.0.1", "-p", str(self.port), "-s",
                                      "--no-vhost-buckets"], stdout=log, stderr=log,
                                     start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                assert self.proc.poll() is None, "s3rver exited"
                assert time.monotonic() < deadline, "s3rver did not start"
                time.sleep(0.05)

    def client(self, url=None):
        return boto3.client("s3", endpoint_url=url or self.url, aws_access_key_id=KEY,
                            aws_secret_access_key=KEY, region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 1}))

    def stop(self):
        self.proc.kill()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class Proxy:
    """Forwards to the S3 server; counts requests and injects faults per key."""

    def __init__(self, upstream_port):
        self.up = upstream_port
        self.lock = threading.Lock()
        self.counts = {}      # (method, key) -> n
        self.fail = {}        # key -> status to answer instead
        self.delay_s = 0.0    # before forwarding each object request
        self.hold_s = {}      # key -> seconds to stall before answering
        proxy = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _do(self):
                path = urllib.parse.urlsplit(self.path).path
                parts = urllib.parse.unquote(path).lstrip("/").split("/", 1)
                key = parts[1] if len(parts) > 1 else ""
                with proxy.lock:
                    proxy.counts[(self.command, key)] = proxy.counts.get((self.command, key), 0) + 1
                    fail = proxy.fail.get(key)
                    hold = proxy.hold_s.get(key, 0)
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                if hold:
                    time.sleep(hold)
                if key and proxy.delay_s:
                    time.sleep(proxy.delay_s)
                if fail:
                    msg = b"<Error><Code>InternalError</Code><Message>injected</Message></Error>"
                    self.send_response(fail)
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                    return
                c = http.client.HTTPConnection("127.0.0.1", proxy.up, timeout=60)
                c.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in self.headers.items():
                    c.putheader(k, v)
                c.endheaders(body)
                r = c.getresponse()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("connection", "keep-alive", "transfer-encoding"):
                        self.send_header(k, v)
                nobody = self.command == "HEAD" or r.status in (204, 304) or r.status < 200
                chunked = r.getheader("Content-Length") is None and not nobody
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while not nobody:
                    b = r.read(256 << 10)
                    if not b:
                        break
                    if chunked:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
                    else:
                        self.wfile.write(b)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
                c.close()

            do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _do

        class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            request_queue_size = 256  # the default 5 drops connects of parallel prefetches

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.srv = S(("127.0.0.1", self.port), H)
        self.th = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.th.start()

    def count(self, method, key):
        with self.lock:
            return self.counts.get((method, key), 0)

    def total(self, method=None):
        with self.lock:
            return sum(n for (m, k), n in self.counts.items() if k and (method is None or m == method))

    def reset(self):
        with self.lock:
            self.counts.clear()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def backend_env(proxy, key=KEY, secret=KEY, **extra):
    env = {"AWS_ENDPOINT_URL": proxy.url, "AWS_ENDPOINT_URL_S3": proxy.url, "AWS_ACCESS_KEY_ID": key,
           "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": "us-east-1",
           "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"}
    env.update(extra)
    return env


def s3_peer(bucket):
    """A module's S3 peer: s3rver behind a counting Proxy with bucket created. A generator for
    fixtures (`yield from s3_peer(B)`): yields (s3rver, proxy, boto3 client), then stops both."""
    s = S3rver()
    p = Proxy(s.port)
    s3 = s.client()
    s3.create_bucket(Bucket=bucket)
    yield s, p, s3
    p.stop()
    s.stop()


def remote_cluster(request, peer, targets=2):
    """A cluster whose aws:// backend is the peer's proxy (8 s backend timeout); for fixtures."""
    from conftest import cluster_of
    _, p, _ = peer
    yield from cluster_of(request, targets=targets, env=backend_env(p, AIS_BACKEND_TIMEOUT_MS="8000"))
