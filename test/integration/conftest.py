"""Cluster harness: starts real aisnode daemons on free loopback ports via scripts/deploy.sh.

Fixture `cluster` (module scope): a 1-gateway/3-target cluster with 2 mountpaths per target,
in a fresh temp dir. At teardown every node is stopped with SIGTERM and its log is checked
for sanitizer reports (ASan/UBSan/LSan), so leaks and UB in any daemon fail the module.
"""
import functools
import http.server
import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
import zipfile

import pytest
import requests

REPO = os.environ.get("AIS_REPO", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("AIS_BUILD_DIR", os.path.join(REPO, "build"))
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
                   "runtime error:", "ASSERT failed")
# "thread" when the daemons are a ThreadSanitizer build: tests that measure memory skip there.
SANITIZER = os.environ.get("AIS_SANITIZER", "")
no_tsan = pytest.mark.skipif(SANITIZER == "thread", reason="ThreadSanitizer's shadow memory inflates RSS")


def _port_free(p):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()


# Nodes beyond the initial ones a test may add (Cluster.add_target) get ports from this reserve.
SPARE_NODES = 4


def _free_base(n):
    """A base port with n + SPARE_NODES free public, control (+1000) and data (+2000) ports."""
    for _ in range(200):
        # below the ephemeral range (32768+): a client socket can never hold a node port
        base = random.randrange(20000, 30000, 10)
        if all(_port_free(base + i) and _port_free(base + 1000 + i) and _port_free(base + 2000 + i)
               for i in range(n + SPARE_NODES)):
            return base
    raise RuntimeError("no free port range")


def make_tar(members, fmt=tarfile.GNU_FORMAT, mode="w", dirs=()):
    """A TAR (mode "w:gz" for a .tgz) of members {name: bytes}, after directory entries dirs."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=fmt) as tf:
        for d in dirs:
            ti = tarfile.TarInfo(d)
            ti.type = tarfile.DIRTYPE
            tf.addfile(ti)
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def make_zip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def wait_until(fn, timeout=30.0, interval=0.05, what="condition"):
    """Polls fn() until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (requests.RequestException, OSError, ValueError, KeyError):
            pass
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last={last!r})")


class FileServer:
    """A real HTTP file server on loopback (python's threaded http.server) over directory root:
    GET of any file under it; paths under /slow/ trickle 1 MiB at 1 KiB per 0.2 s (a transfer
    that takes a while); counts, when given, receives the number of GETs per path. .url is the
    base URL; stop() ends it."""

    def __init__(self, root, counts=None):
        class H(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                if counts is not None:
                    counts[self.path] = counts.get(self.path, 0) + 1
                if self.path.startswith("/slow/"):
                    self.send_response(200)
                    self.send_header("Content-Length", str(1 << 20))
                    self.end_headers()
                    try:
                        for _ in range(1 << 10):
                            self.wfile.write(b"s" * 1024)
                            self.wfile.flush()
                            time.sleep(0.2)
                    except OSError:
                        pass
                    return
                super().do_GET()

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                   functools.partial(H, directory=str(root)))
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


class Cluster:
    def __init__(self, gateways=1, targets=3, mountpaths=2, env=None):
        self.gateways, self.targets, self.mountpaths = gateways, targets, mountpaths
        self.dir = tempfile.mkdtemp(prefix="ais-it-")
        self.base = _free_base(gateways + targets)
        self.url = f"http://127.0.0.1:{self.base}"
        self.build_dir = BUILD
        self.bin = os.path.join(BUILD, "deploy", "aisnode")
        self.env = dict(os.environ, GATEWAYS=str(gateways), TARGETS=str(targets),
                        MOUNTPATHS=str(mountpaths), AIS_PORT=str(self.base),
                        AIS_DATA_DIR=self.dir, AIS_BIN=self.bin, DEADLINE_S="90")
        self.env.update(env or {})  # extra deploy.sh variables (STATSD_ADDR, ...)

    def deploy(self, *args):
        return subprocess.run(["bash", os.path.join(REPO, "scripts", "deploy.sh"), *args],
                              env=self.env, capture_output=True, text=True, timeout=180)

    def start(self):
        r = self.deploy("start")
        assert r.returncode == 0, r.stdout + r.stderr
        return self

    def node_dir(self, name):
        return os.path.join(self.dir, name)

    def pid(self, name):
        with open(os.path.join(self.node_dir(name), "aisnode.pid")) as f:
            return int(f.read())

    def smap(self):
        return requests.get(self.url + "/v1/daemon", params={"what": "smap"}, timeout=10).json()

    def target_url(self, tid):
        return self.smap()["tmap"][tid]["public_net"]["direct_url"]

    def node_id(self, name):
        with open(os.path.join(self.node_dir(name), "conf", ".ais.daemon_id")) as f:
            return f.read().strip()

    def kill9(self, name):
        os.kill(self.pid(name), signal.SIGKILL)
        wait_until(lambda: not _alive(self.pid(name)), 10, what=f"{name} to die")

    def restart(self, name, role="target"):
        d = self.node_dir(name)
        log = open(os.path.join(d, "aisnode.log"), "a")
        p = subprocess.Popen([self.bin, "--role", role, "--config", os.path.join(d, "config.json")],
                             stdout=log, stderr=log, start_new_session=True,
                             env=self.env)  # the environment deploy.sh gave it (backends...)
        log.close()
        with open(os.path.join(d, "aisnode.pid"), "w") as f:
            f.write(str(p.pid))
        self._children.append(p)
        return p

    _children = []

    def add_target(self, name, mountpaths=None):
        """Writes a config for a new target (next free port of the reserve) and starts it."""
        taken = [json.load(open(os.path.join(self.dir, n, "config.json")))["host_net"]["port"]
                 for n in os.listdir(self.dir) if os.path.exists(os.path.join(self.dir, n, "config.json"))]
        port = next(p for p in range(self.base, self.base + 100) if str(p) not in taken)
        d = self.node_dir(name)
        mps = [os.path.join(d, f"mp{j}") for j in range(1, (mountpaths or self.mountpaths) + 1)]
        for m in mps + [os.path.join(d, "conf")]:
            os.makedirs(m, exist_ok=True)
        with open(os.path.join(self.dir, "gw0", "config.json")) as f:
            primary = json.load(f)["proxy"]["primary_url"]
        cfg = {"role": "target", "confdir": os.path.join(d, "conf"),
               "host_net": {"hostname": "127.0.0.1", "port": str(port),
                            "port_intra_control": str(port + 1000)},
               "proxy": {"primary_url": primary}, "fspaths": {m: "" for m in mps},
               "log": {"level": "info"}}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f)
        return self.restart(name)

    def sanitizer_reports(self):
        bad = []
        for name in sorted(os.listdir(self.dir)):
            log = os.path.join(self.dir, name, "aisnode.log")
            if os.path.exists(log):
                with open(log, errors="replace") as f:
                    text = f.read()
                if any(m in text for m in SANITIZER_MARKS):
                    bad.append(f"--- {name} ---\n" + text[-4000:])
        return bad

    def stop(self):
        r = self.deploy("stop")
        for p in self._children:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        return r


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of ours still answers kill(0)
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def cluster_of(request, **kw):
    """Generator for module fixtures: a Cluster(**kw) of the module's own. At teardown it fails
    on sanitizer reports in daemon logs and, when a test of the module failed, shows the nodes'
    warnings and errors (CI shows only the output). AIS_KEEP=1 keeps the data dir."""
    c = Cluster(**kw).start()
    failed0 = request.session.testsfailed
    yield c
    c.stop()
    reports = c.sanitizer_reports()
    tails = []
    if request.session.testsfailed > failed0:
        for name in sorted(os.listdir(c.dir)):
            log = os.path.join(c.dir, name, "aisnode.log")
            if os.path.exists(log):
                with open(log, errors="replace") as f:
                    tail = [ln for ln in f.read().splitlines() if not ln.startswith("I ")][-30:]
                tails.append(f"--- {name} (warnings and errors, last 30) ---\n" + "\n".join(tail))
    if not reports and not os.environ.get("AIS_KEEP"):
        shutil.rmtree(c.dir, ignore_errors=True)
    assert not reports, "sanitizer reports in daemon logs:\n" + "\n".join(reports)
    assert not tails, "a test of this module failed; node logs:\n" + "\n".join(tails)


@pytest.fixture(scope="module")
def cluster(request):
    yield from cluster_of(request)


@pytest.fixture
def bucket(cluster):
    """A fresh bucket per test, destroyed afterwards."""
    name = "b%06d" % random.randrange(10**6)
    r = requests.post(f"{cluster.url}/v1/buckets/{name}", json={"action": "create-bck", "name": "", "value": None})
    assert r.status_code == 200, r.text
    yield name
    requests.delete(f"{cluster.url}/v1/buckets/{name}", json={"action": "destroy-bck", "name": "", "value": None})
