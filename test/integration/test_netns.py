"""Multi-host: a cluster whose nodes live on different hosts, each with its own address.

Goal: nodes that are not on 127.0.0.1 join, advertise the public and intra-cluster addresses of
their config in the Smap (public_net, intra_control_net), talk to each other over the intra
network only, and serve PUT/GET/list to a client on yet another host; the gateway's 307 names
the HRW owner's public host.
Method: one network namespace per node (1 gateway, 2 targets) plus one for the client. Two
networks, each a bridge in a namespace of its own ("switch"): public 10.77.0.x/24 (every node
and the client: host_net.hostname) and intra-cluster 10.78.0.x/24 (nodes only:
host_net.hostname_intra_control, proxy.primary_url), so control traffic provably stays off
the public network. Nothing is added to the host's namespace and no traffic leaves these
namespaces. Nodes run
under `ip netns exec`; the client uses curl inside its namespace. Everything (processes,
namespaces, hence veths and the bridge) is torn down in a finally block, also on failure.
Skips (with the reason) only when `ip netns add` is not permitted.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD, SANITIZER_MARKS, _alive, wait_until
from test_cluster import sdk_owner

TAG = "ais%d" % (os.getpid() % 100000)
NET = "10.77.0."    # public: clients and the HTTP datapath
INTRA = "10.78.0."  # intra-cluster: control (nng) and object streams; clients are not on it
NODES = [("gw0", "gateway", 1), ("t0", "target", 2), ("t1", "target", 3)]
CLIENT = 10
PORT, CTRL = 8080, 9080


def sh(*args, check=True, timeout=30):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("%s: rc=%d %s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def ns(name):
    return f"{TAG}-{name}"


def in_ns(name, *args, **kw):
    return sh("ip", "netns", "exec", ns(name), *args, **kw)


def curl(*args, timeout=20):
    """curl from the client namespace; returns (status, body or -w output)."""
    p = in_ns("cl", "curl", "-sS", "--max-time", "10", *args, check=False, timeout=timeout)
    return p.returncode, p.stdout


def _probe_netns():
    probe = ns("probe")
    p = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip("cannot create network namespaces (`ip netns add`: %s)" % p.stderr.strip())
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)


def _build_net(names):
    """names: [(namespace, host number, on the intra network)]. Two bridges in the switch
    namespace: br0 (public, 10.77.0.0/24) and br1 (intra, 10.78.0.0/24)."""
    sh("ip", "netns", "add", ns("sw"))
    for br in ("br0", "br1"):
        sh("ip", "-n", ns("sw"), "link", "add", br, "type", "bridge")
        sh("ip", "-n", ns("sw"), "link", "set", br, "up")
    for name, host, intra in names:
        sh("ip", "netns", "add", ns(name))
        sh("ip", "-n", ns(name), "link", "set", "lo", "up")
        nets = [("eth0", "br0", NET, "p")] + ([("eth1", "br1", INTRA, "i")] if intra else [])
        for dev, br, net, tag in nets:
            # the veth is created in the switch namespace with its peer straight in the node's
            sh("ip", "-n", ns("sw"), "link", "add", f"v{tag}-{name}", "type", "veth", "peer",
               "name", dev, "netns", ns(name))
            sh("ip", "-n", ns("sw"), "link", "set", f"v{tag}-{name}", "master", br, "up")
            sh("ip", "-n", ns(name), "addr", "add", f"{net}{host}/24", "dev", dev)
            sh("ip", "-n", ns(name), "link", "set", dev, "up")


def _teardown(procs, names):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    for name in names + ["sw"]:
        subprocess.run(["ip", "netns", "del", ns(name)], capture_output=True)


def _config(d, name, role, host):
    nd = os.path.join(d, name)
    mps = [os.path.join(nd, "mp1"), os.path.join(nd, "mp2")] if role == "target" else []
    for m in mps + [os.path.join(nd, "conf")]:
        os.makedirs(m, exist_ok=True)
    cfg = {"role": role, "confdir": os.path.join(nd, "conf"),
           "host_net": {"hostname": f"{NET}{host}", "hostname_intra_control": f"{INTRA}{host}",
                        "port": str(PORT), "port_intra_control": str(CTRL)},
           "proxy": {"primary_url": f"tcp://{INTRA}1:{CTRL}"}, "log": {"level": "info"}}
    if mps:
        cfg["fspaths"] = {m: "" for m in mps}
    path = os.path.join(nd, "config.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


@pytest.fixture(scope="module")
def netcluster():
    _probe_netns()
    exe = os.path.join(BUILD, "deploy", "aisnode")
    d = tempfile.mkdtemp(prefix="ais-netns-")
    names = [n for n, _, _ in NODES] + ["cl"]
    procs, ok = [], False
    try:
        _build_net([(n, h, True) for n, _, h in NODES] + [("cl", CLIENT, False)])
        for name, role, host in NODES:
            cfg = _config(d, name, role, host)
            log = open(os.path.join(d, name, "aisnode.log"), "a")
            procs.append(subprocess.Popen(["ip", "netns", "exec", ns(name), exe, "--role", role,
                                           "--config", cfg], stdout=log, stderr=log,
                                          start_new_session=True))
            log.close()
        gw = f"http://{NET}1:{PORT}"

        def joined():
            for p in procs:
                assert p.poll() is None, "a node exited while starting (logs in %s)" % d
            rc, out = curl(f"{gw}/v1/daemon?what=smap")
            m = json.loads(out) if rc == 0 else {}
            return m if len(m.get("tmap", {})) == 2 and len(m.get("pmap", {})) == 1 else None
        smap = wait_until(joined, 60, interval=0.2, what="3 nodes to join over the bridge")
        wait_until(lambda: curl("-o", "/dev/null", "-w", "%{http_code}", f"{gw}/v1/health")[1] == "200",
                   30, what="gateway ready")
        yield {"gw": gw, "smap": smap, "dir": d, "procs": procs}
        ok = True
    finally:
        _teardown(procs, names)
        bad = []
        for name, _, _ in NODES:
            log = os.path.join(d, name, "aisnode.log")
            if os.path.exists(log):
                text = open(log, errors="replace").read()
                if any(m in text for m in SANITIZER_MARKS):
                    bad.append(f"--- {name} ---\n" + text[-3000:])
        left = sh("ip", "netns", "list", check=False).stdout
        if ok and not bad:
            shutil.rmtree(d, ignore_errors=True)
        assert TAG + "-" not in left, "namespaces left behind: " + left
        assert not any(_alive(p.pid) for p in procs), "aisnode processes left behind"
        assert not bad, "sanitizer reports:\n" + "\n".join(bad)


def test_smap_advertises_node_addresses(netcluster):
    m = netcluster["smap"]
    nodes = list(m["tmap"].values()) + list(m["pmap"].values())
    assert {n["public_net"]["node_ip_addr"] for n in nodes} == {f"{NET}1", f"{NET}2", f"{NET}3"}, m
    for n in nodes:
        pub, intra = n["public_net"]["node_ip_addr"], n["intra_control_net"]["node_ip_addr"]
        assert n["public_net"]["direct_url"] == f"http://{pub}:{PORT}"
        assert intra == INTRA + pub.rsplit(".", 1)[1], n  # the same node on the intra network
        assert n["intra_control_net"]["daemon_port"] == str(CTRL)
    # the host's own namespace never saw these addresses
    out = sh("ip", "-4", "addr").stdout
    assert NET not in out and INTRA not in out


def test_intra_traffic_on_intra_network(netcluster):
    """Control connections (keepalives to the primary) run over 10.78.0.x; the client, which
    is only on the public network, cannot reach the control port at all."""
    def keepalive_conns():
        out = in_ns("t0", "ss", "-tn", "state", "established").stdout
        return f"{INTRA}1:{CTRL}" in out
    wait_until(keepalive_conns, 15, what="t0's control connection to the primary over intra")
    assert f"{NET}1:{CTRL}" not in in_ns("t0", "ss", "-tn").stdout
    rc, _ = curl("--connect-timeout", "2", f"http://{INTRA}1:{PORT}/v1/health")
    assert rc != 0  # no route from the client to the intra network


def test_put_get_list_through_gateway(netcluster):
    gw, m = netcluster["gw"], netcluster["smap"]
    rc, out = curl("-X", "POST", f"{gw}/v1/buckets/nb", "-d", '{"action":"create-bck"}')
    assert rc == 0, out
    src = os.path.join(netcluster["dir"], "payload")
    with open(src, "wb") as f:
        f.write(os.urandom(200000))
    data = open(src, "rb").read()
    owners = set()
    for i in range(8):
        obj = f"obj-{i}"
        # unfollowed: the 307 names the HRW owner's host and port
        rc, out = curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-X", "PUT",
                       "-H", "Expect: 100-continue", "-T", src, f"{gw}/v1/objects/nb/{obj}")
        code, loc = out.split(" ", 1)
        assert code == "307", out
        owner = m["tmap"][sdk_owner(m, "nb", obj)]["public_net"]
        assert loc.startswith(f"http://{owner['node_ip_addr']}:{owner['daemon_port']}/v1/objects/nb/{obj}?"), loc
        owners.add(owner["node_ip_addr"])
        rc, out = curl("-L", "-o", "/dev/null", "-w", "%{http_code}", "-T", src, f"{gw}/v1/objects/nb/{obj}")
        assert out == "200", out
        dst = os.path.join(netcluster["dir"], "copy")
        rc, out = curl("-L", "-o", dst, "-w", "%{http_code}", f"{gw}/v1/objects/nb/{obj}")
        assert out == "200" and open(dst, "rb").read() == data
    assert len(owners) == 2, owners  # 8 names over 2 targets: both got some
    rc, out = curl("-X", "GET", f"{gw}/v1/buckets/nb", "-d", '{"action":"list","value":{}}')
    names = sorted(e["name"] for e in json.loads(out)["entries"])
    assert names == [f"obj-{i}" for i in range(8)]
