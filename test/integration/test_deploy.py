"""Deployment artefacts: the container entrypoint, compose, Kubernetes, the Grafana dashboard.

Goal: what we ship for containers works without a Docker engine or a Kubernetes cluster here
(neither runs on the build machine, so no image is built). Method:
- the entrypoint, scripts/node.sh, is run exactly as the image runs it (environment variables
  only, `node.sh run`, which execs aisnode): a gateway and 2 targets on free loopback ports in
  a temp dir; PUT/GET through the gateway, /v1/health on every node, then the targets'
  Kubernetes lifecycle hooks (`node.sh pre-stop` puts the target in maintenance through the
  cluster API and waits for the rebalance, `node.sh post-start` ends it), then SIGTERM;
- deploy/compose.yaml, every deploy/k8s manifest and the Dockerfile are parsed (PyYAML) and
  their structure checked against what node.sh writes into config.json for the same variables:
  images, ports, the primary's URL, probes on /v1/health, a volume (claim) per mountpath, the
  preStop hook, a non-root USER, HEALTHCHECK, ENTRYPOINT = node.sh;
- `make install` into a DESTDIR (without rebuilding) installs ais, aisnode and the completion;
- every metric name in every PromQL expression of deploy/grafana/ais-dashboard.json exists in
  the /metrics output of a small cluster (conftest.cluster_of) after some PUTs and GETs, with
  the label values its matchers name.
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import BUILD, REPO, SANITIZER_MARKS, _alive, _free_base, cluster_of, wait_until

try:
    import yaml
except ImportError:  # Debian: python3-yaml (scripts/install-deps.sh installs it)
    yaml = None
needs_yaml = pytest.mark.skipif(yaml is None, reason="PyYAML is not importable (apt-get install python3-yaml)")

NODE_SH = os.path.join(REPO, "scripts", "node.sh")
AISNODE = os.path.join(BUILD, "deploy", "aisnode")
MAINT = 4  # Smap flag of a node in maintenance


def node_env(**kw):
    """The environment a container gets: a plain PATH plus AIS_* variables, nothing else."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "AIS_BIN": AISNODE}
    env.update({k: str(v) for k, v in kw.items()})
    return env


def node_sh(env, *args, timeout=120):
    return subprocess.run(["bash", NODE_SH, *args], env=env, capture_output=True, text=True, timeout=timeout)


# ---- the entrypoint, run as the container runs it ----

class EntrypointCluster:
    """1 gateway + 2 targets, each `node.sh run` with environment variables only."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ais-deploy-")
        self.base = _free_base(3)
        self.url = f"http://127.0.0.1:{self.base}"
        self.procs, self.envs = {}, {}
        primary = f"tcp://127.0.0.1:{self.base + 1000}"
        self.envs["gw"] = node_env(AIS_ROLE="gateway", AIS_PORT=self.base, AIS_PRIMARY_URL=primary,
                                   AIS_NODE_DIR=os.path.join(self.dir, "gw"))
        for i in range(2):
            d = os.path.join(self.dir, f"t{i}")
            self.envs[f"t{i}"] = node_env(
                AIS_ROLE="target", AIS_HOSTNAME="127.0.0.1", AIS_PORT=self.base + 1 + i,
                AIS_PRIMARY_URL=primary, AIS_NODE_DIR=d, AIS_GATEWAY_URL=self.url,
                AIS_MOUNTPATHS=f"{d}/mp1,{d}/mp2", AIS_PROMOTE_ROOT=os.path.join(self.dir, "promote"))

    def start(self):
        for name, env in self.envs.items():
            os.makedirs(env["AIS_NODE_DIR"], exist_ok=True)
            log = open(os.path.join(env["AIS_NODE_DIR"], "aisnode.log"), "a")
            self.procs[name] = subprocess.Popen(["bash", NODE_SH], env=env, stdout=log, stderr=log,
                                                start_new_session=True)
            log.close()

        def joined():
            m = requests.get(self.url + "/v1/daemon", params={"what": "smap"}, timeout=5).json()
            return len(m["tmap"]) == 2 and len(m["pmap"]) == 1 and m
        return wait_until(joined, 60, 0.1, what="gateway + 2 targets started by node.sh to join")

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def logs(self):
        out = {}
        for name, env in self.envs.items():
            with open(os.path.join(env["AIS_NODE_DIR"], "aisnode.log"), errors="replace") as f:
                out[name] = f.read()
        return out


@pytest.fixture(scope="module")
def epc():
    if not os.access(AISNODE, os.X_OK):
        pytest.skip(f"{AISNODE} is not built")
    c = EntrypointCluster()
    try:
        c.start()
        yield c
    finally:
        c.stop()
    bad = [f"--- {n} ---\n{t[-3000:]}" for n, t in c.logs().items() if any(m in t for m in SANITIZER_MARKS)]
    assert not bad, "sanitizer reports in daemon logs:\n" + "\n".join(bad)
    shutil.rmtree(c.dir, ignore_errors=True)


def test_entrypoint_writes_config_and_execs(epc):
    for name, env in epc.envs.items():
        p = epc.procs[name]
        assert p.poll() is None, epc.logs()[name]
        # exec: the process the container runtime started is the daemon itself (PID 1 there)
        assert os.path.realpath(f"/proc/{p.pid}/exe") == os.path.realpath(AISNODE)
        with open(os.path.join(env["AIS_NODE_DIR"], "config.json")) as f:
            cfg = json.load(f)
        port = int(env["AIS_PORT"])
        assert cfg["role"] == env["AIS_ROLE"]
        assert cfg["host_net"] == {"hostname": "127.0.0.1", "port": str(port),
                                   "port_intra_control": str(port + 1000)}
        assert cfg["proxy"]["primary_url"] == env["AIS_PRIMARY_URL"]
        assert cfg["confdir"] == os.path.join(env["AIS_NODE_DIR"], "conf")
        assert cfg["log"] == {"level": "info"} and cfg["dry_run"] is False and "statsd" not in cfg
        if env["AIS_ROLE"] == "target":
            mps = env["AIS_MOUNTPATHS"].split(",")
            assert cfg["fspaths"] == {m: "" for m in mps} and all(os.path.isdir(m) for m in mps)
            assert cfg["promote"]["root"] == env["AIS_PROMOTE_ROOT"]
        else:
            assert cfg["fspaths"] == {} and cfg["promote"]["root"] == "/var/lib/ais/promote"


def test_entrypoint_cluster_serves(epc):
    smap = requests.get(epc.url + "/v1/daemon", params={"what": "smap"}, timeout=10).json()
    nodes = list(smap["pmap"].values()) + list(smap["tmap"].values())
    ports = sorted(int(n["public_net"]["daemon_port"]) for n in nodes)
    assert ports == [epc.base, epc.base + 1, epc.base + 2]
    for n in nodes:
        assert requests.get(n["public_net"]["direct_url"] + "/v1/health", timeout=5).status_code == 200
    r = requests.post(epc.url + "/v1/buckets/dep", json={"action": "create-bck", "name": "", "value": None})
    assert r.status_code == 200, r.text
    want = {f"o{i:02d}": os.urandom(1000 + 37 * i) for i in range(20)}
    for name, data in want.items():
        r = requests.put(f"{epc.url}/v1/objects/dep/{name}", data=data, timeout=30)
        assert r.status_code == 200, r.text
    for name, data in want.items():
        r = requests.get(f"{epc.url}/v1/objects/dep/{name}", timeout=30)
        assert r.status_code == 200 and r.content == data, name


def _flags(epc, sid):
    return requests.get(epc.url + "/v1/daemon", params={"what": "smap"}, timeout=10).json()["tmap"][sid]["flags"]


def test_lifecycle_hooks_maintenance(epc):
    """What the Kubernetes preStop/postStart hooks run, against a live target."""
    env = epc.envs["t1"]
    sid = requests.get(f"http://127.0.0.1:{env['AIS_PORT']}/v1/daemon", params={"what": "snode"},
                       timeout=5).json()["daemon_id"]
    marker = os.path.join(env["AIS_NODE_DIR"], "prestop-maintenance")
    r = node_sh(dict(env, AIS_PRESTOP_TIMEOUT_S="60"), "pre-stop")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{sid} in maintenance, rebalance g" in r.stdout, r.stdout  # its objects had to move
    assert re.search(r"rebalance g\d+ finished", r.stdout), r.stdout
    assert _flags(epc, sid) & MAINT and os.path.exists(marker)
    # every object stays readable while the target is in maintenance
    for i in range(20):
        assert requests.get(f"{epc.url}/v1/objects/dep/o{i:02d}", timeout=30).status_code == 200
    r = node_sh(env, "post-start")
    assert r.returncode == 0 and "out of maintenance" in r.stdout, r.stdout + r.stderr
    wait_until(lambda: not _flags(epc, sid) & MAINT, 30, what="maintenance flag to clear")
    assert not os.path.exists(marker)
    # without the marker (maintenance an operator started), post-start leaves it alone
    r = node_sh(env, "post-start")
    assert r.returncode == 0 and "out of maintenance" not in r.stdout, r.stdout + r.stderr


def test_entrypoint_refuses_bad_env(tmp_path):
    r = node_sh(node_env(AIS_NODE_DIR=tmp_path), "config")
    assert r.returncode != 0 and "AIS_ROLE must be gateway or target" in r.stderr, r.stderr
    r = node_sh(node_env(AIS_ROLE="target", AIS_NODE_DIR=tmp_path, AIS_MOUNTPATHS=tmp_path / "m"), "config")
    assert r.returncode != 0 and "AIS_PRIMARY_URL is required" in r.stderr, r.stderr
    r = node_sh(node_env(AIS_ROLE="target", AIS_NODE_DIR=tmp_path, AIS_PRIMARY_URL="tcp://x:9080"), "config")
    assert r.returncode != 0 and "AIS_MOUNTPATHS is required" in r.stderr, r.stderr
    r = node_sh(node_env(AIS_ROLE="gateway", AIS_NODE_DIR=tmp_path, AIS_PORT="80a"), "config")
    assert r.returncode != 0 and "must be numbers" in r.stderr, r.stderr
    assert not (tmp_path / "config.json").exists()


def test_entrypoint_optional_keys(tmp_path):
    """Optional variables add keys; the JSON stays valid with quotes and backslashes in paths."""
    d = tmp_path / 'a "q" \\ dir'
    r = node_sh(node_env(AIS_ROLE="target", AIS_NODE_DIR=d, AIS_PRIMARY_URL="tcp://gw:9080",
                         AIS_MOUNTPATHS=f"{d}/mp1,{d}/mp2", AIS_DAEMON_ID="t-fixed",
                         AIS_HOSTNAME="t0", AIS_HOSTNAME_INTRA="10.0.0.5", AIS_PORT="8081",
                         AIS_DRY_RUN="1", AIS_STATSD_ADDR="127.0.0.1:8125", AIS_LOG_LEVEL="debug"), "config")
    assert r.returncode == 0, r.stderr
    with open(r.stdout.strip()) as f:
        cfg = json.load(f)
    assert cfg["daemon_id"] == "t-fixed" and cfg["dry_run"] is True
    assert cfg["host_net"] == {"hostname": "t0", "port": "8081", "port_intra_control": "9081",
                               "hostname_intra_control": "10.0.0.5"}
    assert cfg["statsd"] == {"addr": "127.0.0.1:8125", "interval": "10s"}
    assert list(cfg["fspaths"]) == [f"{d}/mp1", f"{d}/mp2"] and cfg["log"]["level"] == "debug"
    if os.access(AISNODE, os.X_OK):
        # aisnode parses the config (an unknown key is fatal) before it checks --role: a bad
        # role as the first complaint means every key we wrote was accepted.
        p = subprocess.run([AISNODE, "--role", "bogus", "--config", r.stdout.strip()],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 2 and "--role: expected gateway or target" in p.stderr, p.stderr


# ---- compose, Kubernetes, Dockerfile: structure ----

def rebased_config(tmp_path, env):
    """config.json node.sh writes for a container's environment, its paths moved under tmp_path."""
    e = node_env(**env)
    e["AIS_NODE_DIR"] = str(tmp_path / "node")
    if "AIS_MOUNTPATHS" in e:
        e["AIS_MOUNTPATHS"] = ",".join(str(tmp_path) + m for m in e["AIS_MOUNTPATHS"].split(","))
    r = node_sh(e, "config")
    assert r.returncode == 0, r.stderr
    with open(r.stdout.strip()) as f:
        return json.load(f)


def dockerfile():
    with open(os.path.join(REPO, "Dockerfile")) as f:
        text = f.read()
    lines = re.sub(r"\\\n", " ", text).splitlines()
    stages, cur = [], None
    for ln in lines:
        ln = ln.strip()
        if not ln or ln.startswith("#"):
            continue
        word, _, rest = ln.partition(" ")
        if word.upper() == "FROM":
            cur = {"from": rest.split()[0], "ins": []}
            stages.append(cur)
        else:
            cur["ins"].append((word.upper(), rest.strip()))
    return stages


def image_of_dockerfile():
    """The image name the Dockerfile's header builds (docker build -t NAME)."""
    with open(os.path.join(REPO, "Dockerfile")) as f:
        return re.search(r"docker build -t (\S+) \.", f.read()).group(1)


@needs_yaml
def test_compose(tmp_path):
    with open(os.path.join(REPO, "deploy", "compose.yaml")) as f:
        doc = yaml.safe_load(f)
    svcs = doc["services"]
    gws = {k: v for k, v in svcs.items() if v["environment"]["AIS_ROLE"] == "gateway"}
    tgts = {k: v for k, v in svcs.items() if v["environment"]["AIS_ROLE"] == "target"}
    assert len(gws) == 1 and len(tgts) == 3, list(svcs)
    (gname, gw), = gws.items()
    gcfg = rebased_config(tmp_path / gname, gw["environment"])
    # the gateway advertises its service name and is the primary: its own control URL is the one
    assert gw["hostname"] == gname == gcfg["host_net"]["hostname"]
    primary = f"tcp://{gname}:{gcfg['host_net']['port_intra_control']}"
    assert gcfg["proxy"]["primary_url"] == primary
    volumes = set(doc["volumes"])
    seen_vols = set()
    for name, s in svcs.items():
        assert s["image"].split(":")[0] == image_of_dockerfile(), name
        assert os.path.normpath(os.path.join(REPO, "deploy", s["build"]["context"])) == REPO
        assert os.path.exists(os.path.join(REPO, s["build"]["dockerfile"]))
        cfg = gcfg if name == gname else rebased_config(tmp_path / name, s["environment"])
        port = cfg["host_net"]["port"]
        assert f"{port}:{port}" in s["ports"], (name, s["ports"])  # published 1:1 (307s name it)
        mounts = dict(reversed(v.split(":")) for v in s["volumes"])
        assert mounts.get("/var/lib/ais") in volumes, name  # node id, Smap, BMD survive
        seen_vols.update(mounts.values())
        if name in tgts:
            assert s["hostname"] == name == cfg["host_net"]["hostname"]
            assert cfg["proxy"]["primary_url"] == primary, name  # joins by the service name
            assert s["depends_on"][gname]["condition"] == "service_healthy"
            for mp in s["environment"]["AIS_MOUNTPATHS"].split(","):
                assert mounts.get(mp) in volumes, (name, mp)  # a named volume per mountpath
    per_target = [v for s in tgts.values() for v in s["volumes"]]
    assert len(per_target) == len(set(v.split(":")[0] for v in per_target)), "a volume is shared"
    assert seen_vols == volumes


def k8s_docs():
    docs = {}
    for path in sorted(glob.glob(os.path.join(REPO, "deploy", "k8s", "*.yaml"))):
        with open(path) as f:
            docs[os.path.basename(path)] = [d for d in yaml.safe_load_all(f) if d]
    return docs


def _probe_port(c, probe):
    p = probe["httpGet"]["port"]
    return p if isinstance(p, int) else next(x["containerPort"] for x in c["ports"] if x["name"] == p)


@needs_yaml
def test_k8s(tmp_path):
    docs = k8s_docs()
    assert set(docs.pop("kustomization.yaml")[0]["resources"]) == set(docs)
    objs = [d for ds in docs.values() for d in ds]
    by = lambda kind: {d["metadata"]["name"]: d for d in objs if d["kind"] == kind}  # noqa: E731
    cm = by("ConfigMap")["ais-config"]["data"]
    svcs, stss = by("Service"), by("StatefulSet")
    roles = {}
    for name, sts in stss.items():
        pod = sts["spec"]["template"]
        c, = pod["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in c["env"]}
        roles[env["AIS_ROLE"]] = (name, sts, c, env)
        assert c["image"].split(":")[0] == image_of_dockerfile()
        assert {"configMapRef": {"name": "ais-config"}} in c["envFrom"]
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        assert sts["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
        # the governing headless Service gives each pod the DNS name it advertises
        hs = svcs[sts["spec"]["serviceName"]]
        assert hs["spec"]["clusterIP"] == "None" and hs["spec"]["publishNotReadyAddresses"] is True
        assert hs["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
        assert env["AIS_HOSTNAME"] == f"$(POD_NAME).{sts['spec']['serviceName']}"
        cfg = rebased_config(tmp_path / name, dict(cm, AIS_ROLE=env["AIS_ROLE"], AIS_HOSTNAME="h"))
        ports = {p["containerPort"] for p in c["ports"]}
        assert {int(cfg["host_net"]["port"]), int(cfg["host_net"]["port_intra_control"])} <= ports
        for kind in ("readinessProbe", "livenessProbe"):
            probe = c[kind]
            assert probe["httpGet"]["path"] == "/v1/health", (name, kind)
            assert str(_probe_port(c, probe)) == cfg["host_net"]["port"], (name, kind)
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        vcts = {v["metadata"]["name"] for v in sts["spec"]["volumeClaimTemplates"]}
        assert mounts[cm["AIS_NODE_DIR"]] in vcts, name
    assert set(roles) == {"gateway", "target"}
    gname, gsts, gc, _ = roles["gateway"]
    # the primary URL names pod 0 of the gateways, on the control port they listen on
    assert cm["AIS_PRIMARY_URL"] == f"tcp://{gname}-0.{gsts['spec']['serviceName']}:{cm['AIS_CONTROL_PORT']}"
    host, port = cm["AIS_GATEWAY_URL"].removeprefix("http://").split(":")
    client = svcs[host]
    assert client["spec"]["selector"].items() <= gsts["spec"]["template"]["metadata"]["labels"].items()
    assert int(port) in {p["port"] for p in client["spec"]["ports"]}
    # targets: one PVC per mountpath, maintenance before SIGTERM, time enough for the rebalance
    tname, tsts, tc, _ = roles["target"]
    mounts = {m["mountPath"]: m["name"] for m in tc["volumeMounts"]}
    vcts = [v["metadata"]["name"] for v in tsts["spec"]["volumeClaimTemplates"]]
    mps = cm["AIS_MOUNTPATHS"].split(",")
    assert len(mps) >= 2 and all(mounts.get(mp) in vcts for mp in mps), (mounts, vcts)
    claims = [mounts[mp] for mp in mps] + [mounts[cm["AIS_NODE_DIR"]]]
    assert len(set(claims)) == len(claims), claims  # a claim of its own per mountpath
    hook = tc["lifecycle"]["preStop"]["exec"]["command"]
    entry = dict(dockerfile()[-1]["ins"])["ENTRYPOINT"]
    assert hook == json.loads(entry) + ["pre-stop"], hook
    assert tc["lifecycle"]["postStart"]["exec"]["command"] == json.loads(entry) + ["post-start"]
    with open(NODE_SH) as f:
        script = f.read()
    assert "start-maintenance" in script and "what=snode" in script
    grace = tsts["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > int(cm["AIS_PRESTOP_TIMEOUT_S"]) + 30, grace


def test_dockerfile():
    stages = dockerfile()
    assert [s["from"] for s in stages] == ["debian:12-slim", "debian:12-slim"]
    build, run = stages
    ins = dict(run["ins"])
    # build stage: every -dev package the local build needs (scripts/install-deps.sh)
    with open(os.path.join(REPO, "scripts", "install-deps.sh")) as f:
        devs = set(re.findall(r"\b([a-z0-9.+-]+-dev)\b", f.read()))
    build_run = " ".join(v for k, v in build["ins"] if k == "RUN")
    assert devs and all(re.search(rf"\b{re.escape(p)}\b", build_run) for p in devs), devs
    assert "cmake --build" in build_run
    runtime_run = " ".join(v for k, v in run["ins"] if k == "RUN")
    assert "-dev" not in runtime_run and "build-essential" not in runtime_run
    user = ins["USER"]
    assert user not in ("root", "0") and re.search(rf"useradd .*\b{user}\b", runtime_run)
    assert "/v1/health" in ins["HEALTHCHECK"] and "curl" in ins["HEALTHCHECK"]
    entry, = json.loads(ins["ENTRYPOINT"])
    # the entrypoint is scripts/node.sh, installed at that path
    build_text = " ".join(v for _, v in build["ins"])
    assert re.search(rf"scripts/node\.sh\s+/out{re.escape(entry)}\b", build_text), build_text
    assert any(k == "COPY" and "--from=build" in v for k, v in run["ins"])


def test_hadolint():
    h = shutil.which("hadolint")
    if not h:
        pytest.skip("hadolint is not installed")
    r = subprocess.run([h, os.path.join(REPO, "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_make_install(tmp_path):
    files = {"bin/ais": "cli/ais", "bin/aisnode": "deploy/aisnode",
             "share/bash-completion/completions/ais": "cli/ais-completion.bash"}
    if not all(os.path.exists(os.path.join(BUILD, b)) for b in files.values()):
        pytest.skip(f"{BUILD} lacks ais, aisnode or the completion script")
    # -o build -o deps: install what is built, without running the build (other trees: asan)
    r = subprocess.run(["make", "-C", REPO, "-o", "build", "-o", "deps", "install", f"BUILD={BUILD}",
                        f"DESTDIR={tmp_path}", "PREFIX=/opt/ais"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    for dst, src in files.items():
        p = tmp_path / "opt" / "ais" / dst
        with open(p, "rb") as a, open(os.path.join(BUILD, src), "rb") as b:
            assert a.read() == b.read(), dst
        assert bool(os.stat(p).st_mode & 0o111) == dst.startswith("bin/"), dst


# ---- Grafana: every metric a panel queries exists ----

PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
                "unless", "offset", "inf", "nan", "le"}


def promql_metrics(expr):
    """(metric, {label: value}) of each selector in a PromQL expression: functions, keywords,
    label lists of by/on/..., strings, ranges, numbers and $variables are not metrics."""
    out = []
    e = re.sub(r"\$\{?\w+\}?", "0", expr)             # Grafana variables
    e = re.sub(r"\[[^\]]*\]", "", e)                  # range selectors
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    for m in re.finditer(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?\s*(\()?", e):
        name, matchers, call = m.group(1), m.group(2), m.group(3)
        if call and not matchers or name.lower() in PROMQL_WORDS:
            continue
        if re.match(r"\d", e[max(m.start() - 1, 0):m.start()] or "x"):
            continue                                  # the e of 1e-9
        labels = dict(re.findall(r'(\w+)\s*=~?\s*"([^"]*)"', matchers or ""))
        out.append((name, labels))
    return out


def test_promql_parser():
    got = promql_metrics('histogram_quantile(0.99, sum by (instance, le) (rate(ais_latency_seconds_bucket'
                         '{job=~"$job",op="put"}[$__rate_interval]))) / clamp_min(sum(rate(ais_ops_total[5m])), 1e-9)'
                         ' or vector(0) > bool 1 - ais_x{a="b"} offset 5m')
    assert got == [("ais_latency_seconds_bucket", {"job": "0", "op": "put"}), ("ais_ops_total", {}),
                   ("ais_x", {"a": "b"})], got


def dashboard_exprs():
    with open(os.path.join(REPO, "deploy", "grafana", "ais-dashboard.json")) as f:
        dash = json.load(f)
    exprs = []

    def walk(panels):
        for p in panels:
            exprs.extend((p["title"], t["expr"]) for t in p.get("targets", []))
            walk(p.get("panels", []))
    walk(dash["panels"])
    for v in dash["templating"]["list"]:
        q = v.get("query")
        if isinstance(q, dict):
            m = re.match(r"label_values\((\w+)", q["query"])
            if m:
                exprs.append((f"variable {v['name']}", m.group(1)))
    return dash, exprs


def test_dashboard_shape():
    dash, exprs = dashboard_exprs()
    assert any(v["type"] == "datasource" and v["query"] == "prometheus" for v in dash["templating"]["list"])
    ds = {"type": "prometheus", "uid": "${datasource}"}
    for p in dash["panels"]:
        if p["type"] != "row":
            assert p["datasource"] == ds and p["targets"], p["title"]
    text = " ".join(e for _, e in exprs)
    for what in ("ais_bytes_total", "ais_ops_total", "ais_errors_total", "ais_mountpath_available_bytes",
                 "ais_job_objects", "ais_smap_version", "ais_node_ready"):
        assert what in text, what
    for title, e in exprs:
        for m in re.finditer(r"histogram_quantile\(([^,]+),(.*)", e):
            inner = m.group(2)
            assert "_bucket" in inner and re.search(r"by \([^)]*\ble\b", inner), (title, e)
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))


@pytest.fixture(scope="module")
def small(request):
    yield from cluster_of(request, gateways=1, targets=2, mountpaths=2)


def scrape(url):
    """{series name: [label dicts]} and {family: type} of a /metrics page."""
    series, types = {}, {}
    for ln in requests.get(url + "/metrics", timeout=10).text.splitlines():
        if ln.startswith("# TYPE "):
            _, _, fam, typ = ln.split()
            types[fam] = typ
        elif ln and not ln.startswith("#"):
            m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s", ln)
            series.setdefault(m.group(1), []).append(dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or "")))
    return series, types


def test_dashboard_metrics_exist(small):
    r = requests.post(small.url + "/v1/buckets/dash", json={"action": "create-bck", "name": "", "value": None})
    assert r.status_code == 200, r.text
    for i in range(10):
        assert requests.put(f"{small.url}/v1/objects/dash/o{i}", data=os.urandom(4096)).status_code == 200
        assert requests.get(f"{small.url}/v1/objects/dash/o{i}").status_code == 200
    assert requests.get(f"{small.url}/v1/objects/dash/missing").status_code == 404
    smap = small.smap()
    series, types = {}, {}
    for n in list(smap["pmap"].values()) + list(smap["tmap"].values()):
        s, t = scrape(n["public_net"]["direct_url"])
        types.update(t)
        for k, v in s.items():
            series.setdefault(k, []).extend(v)
    _, exprs = dashboard_exprs()
    missing = []
    for title, e in exprs:
        for name, labels in promql_metrics(e):
            fam = re.sub(r"_(bucket|sum|count)$", "", name)
            if name != fam:  # a histogram's series: the family must be a histogram
                if types.get(fam) != "histogram":
                    missing.append((title, name, "not a histogram family"))
                    continue
            if name not in series:
                missing.append((title, name, "no such series"))
                continue
            for k, v in labels.items():
                if k in ("job", "instance"):  # added by Prometheus at scrape time
                    continue
                vals = {s.get(k) for s in series[name]} - {None}
                # "a|b|c": each alternative is a value; any other regex must match one
                alts = v.split("|") if re.fullmatch(r"[\w|-]+", v) else [v]
                if not vals or not all(any(re.fullmatch(a, x) for x in vals) for a in alts):
                    missing.append((title, name, f"{k}={v!r} not among {sorted(vals)}"))
    assert not missing, missing
    # a histogram with data: the quantile panels have something to show
    get_counts = [s for s in series["ais_latency_seconds_count"] if s.get("op") == "get"]
    assert get_counts and "le" in series["ais_latency_seconds_bucket"][0]
