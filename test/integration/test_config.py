"""Config descriptor table, route table and request limits, seen from HTTP.

Goal: setconfig per node and cluster-wide (query and set-config body forms) goes through one
table: unknown, read-only and out-of-range keys are a 400 that names them, with nothing applied
on any node; what=config has the api.md §5.4b nesting; known paths with a wrong method are 405
with Allow; per-request limits answer 414/431/413.
Method: a 1-gateway/3-target cluster (conftest); every node's what=config is read back after
each change.
"""
import requests



def node_urls(cluster):
    m = cluster.smap()
    return [n["public_net"]["direct_url"] for n in list(m["pmap"].values()) + list(m["tmap"].values())]


def configs(cluster):
    return [requests.get(u + "/v1/daemon", params={"what": "config"}, timeout=10).json() for u in node_urls(cluster)]


def err_msg(r):
    return r.json()["message"]


def test_config_shape(cluster):
    gw = requests.get(cluster.url + "/v1/daemon", params={"what": "config"}).json()
    assert gw["role"] == "proxy"
    assert isinstance(gw["host_net"]["port"], str) and gw["host_net"]["port"] == str(cluster.base)
    assert gw["host_net"]["port_intra_control"] == str(cluster.base + 1000)
    assert gw["log"]["level"] in ("error", "warning", "info", "debug")
    assert gw["keepalivetracker"]["interval"].endswith("s")
    assert gw["timeout"]["cplane_operation"].endswith("s")
    assert isinstance(gw["checksum"]["validate_warm_get"], bool)
    assert isinstance(gw["disk"]["fsync"], bool) and isinstance(gw["dry_run"], bool)
    assert gw["proxy"]["primary_url"].startswith("tcp://")
    tid = next(iter(cluster.smap()["tmap"]))
    t = requests.get(cluster.target_url(tid) + "/v1/daemon", params={"what": "config"}).json()
    assert t["role"] == "target" and len(t["fspaths"]) == cluster.mountpaths
    assert all(v == "" for v in t["fspaths"].values())
    cc = requests.get(cluster.url + "/v1/cluster", params={"what": "cluster_config"})
    assert cc.status_code == 200 and "checksum" in cc.json()


def test_setconfig_per_node(cluster):
    tid = sorted(cluster.smap()["tmap"])[0]
    turl = cluster.target_url(tid)
    get = lambda: requests.get(turl + "/v1/daemon", params={"what": "config"}).json()  # noqa: E731
    r = requests.put(turl + "/v1/daemon/setconfig", params={"log.level": "debug"})
    assert r.status_code == 200, r.text
    assert get()["log"]["level"] == "debug"
    # ?what=setconfig form on /v1/daemon
    r = requests.put(turl + "/v1/daemon", params={"what": "setconfig", "log.level": "info", "disk.fsync": "false"})
    assert r.status_code == 200, r.text
    assert get()["log"]["level"] == "info" and get()["disk"]["fsync"] is False
    # ActMsg body form
    r = requests.put(turl + "/v1/daemon", json={"action": "set-config", "name": "", "value": {"disk": {"fsync": True}}})
    assert r.status_code == 200, r.text
    assert get()["disk"]["fsync"] is True
    # other nodes untouched
    others = [c for c, u in zip(configs(cluster), node_urls(cluster)) if u != turl]
    assert all(c["log"]["level"] == "info" for c in others)
    # via the gateway: /v1/reverse/daemon/setconfig with Ais-Node-Id
    r = requests.put(cluster.url + "/v1/reverse/daemon/setconfig", params={"log.level": "warning"},
                     headers={"Ais-Node-Id": tid})
    assert r.status_code == 200, r.text
    assert get()["log"]["level"] == "warning"
    r = requests.put(cluster.url + "/v1/reverse/daemon/setconfig", params={"host_net.port": "1"},
                     headers={"Ais-Node-Id": tid})
    assert r.status_code == 400 and "host_net.port" in err_msg(r)
    assert requests.put(turl + "/v1/daemon/setconfig", params={"log.level": "info"}).status_code == 200


def test_setconfig_cluster_wide(cluster):
    r = requests.put(cluster.url + "/v1/cluster", params={"what": "setconfig", "checksum.validate_warm_get": "true"})
    assert r.status_code == 200, r.text
    assert all(c["checksum"]["validate_warm_get"] is True for c in configs(cluster))
    r = requests.put(cluster.url + "/v1/cluster",
                     json={"action": "set-config", "name": "", "value": {"checksum": {"validate_warm_get": False},
                                                                       "log": {"level": "info"}}})
    assert r.status_code == 200, r.text
    assert all(c["checksum"]["validate_warm_get"] is False for c in configs(cluster))
    # 2020 body form
    r = requests.put(cluster.url + "/v1/cluster", json={"action": "setconfig", "name": "disk.fsync", "value": "false"})
    assert r.status_code == 200, r.text
    assert all(c["disk"]["fsync"] is False for c in configs(cluster))
    assert requests.put(cluster.url + "/v1/cluster/setconfig", params={"disk.fsync": "true"}).status_code == 200
    assert all(c["disk"]["fsync"] is True for c in configs(cluster))


def test_setconfig_bad_keys_apply_nothing(cluster):
    before = configs(cluster)
    cases = [
        ({"dry_run": "true", "no.such.knob": "1"}, ["no.such.knob", "unknown"]),
        ({"dry_run": "true", "host_net.port": "1"}, ["host_net.port", "read-only"]),
        ({"dry_run": "true", "fspaths": "/x"}, ["fspaths", "read-only"]),
        ({"dry_run": "true", "log.level": "9"}, ["log.level=9", "out of range"]),
        ({"dry_run": "true", "disk.fsync": "maybe"}, ["disk.fsync=maybe"]),
        ({"dry_run": "true", "a.b": "1", "keepalivetracker.interval": "1s"}, ["a.b", "keepalivetracker.interval"]),
    ]
    for params, words in cases:
        for url in (cluster.url + "/v1/cluster/setconfig", cluster.url + "/v1/daemon/setconfig"):
            r = requests.put(url, params=params)
            assert r.status_code == 400, (url, params, r.text)
            assert all(w in err_msg(r) for w in words), (params, r.text)
    r = requests.put(cluster.url + "/v1/cluster",
                     json={"action": "set-config", "value": {"dry_run": True, "nosuch": {"knob": 1}}})
    assert r.status_code == 400 and "nosuch.knob" in err_msg(r)
    r = requests.put(cluster.url + "/v1/cluster", json={"action": "set-config", "value": {}})
    assert r.status_code == 400
    r = requests.put(cluster.url + "/v1/cluster", json={"action": "no-such-action"})
    assert r.status_code == 400 and "no-such-action" in err_msg(r)
    assert requests.put(cluster.url + "/v1/cluster/setconfig").status_code == 400
    assert configs(cluster) == before
    assert all(c["dry_run"] is False for c in before)


def test_405_allow_and_404(cluster):
    tid = next(iter(cluster.smap()["tmap"]))
    turl = cluster.target_url(tid)
    cases = [
        (requests.post, cluster.url + "/v1/daemon", {"GET", "PUT"}),
        (requests.delete, cluster.url + "/v1/cluster", {"GET", "PUT"}),
        (requests.get, cluster.url + "/v1/cluster/setconfig", {"PUT"}),
        (requests.patch, cluster.url + "/v1/objects/b/o", {"GET", "HEAD", "PUT", "POST", "DELETE"}),
        (requests.post, cluster.url + "/v1/buckets", {"GET"}),
        (requests.patch, turl + "/v1/objects/b/o", {"GET", "HEAD", "PUT", "DELETE"}),
        (requests.post, turl + "/v1/daemon", {"GET", "PUT"}),
        (requests.delete, turl + "/v1/health", {"GET", "HEAD"}),
    ]
    for fn, url, allow in cases:
        r = fn(url)
        assert r.status_code == 405, (url, r.status_code, r.text)
        assert set(m.strip() for m in r.headers["Allow"].split(",")) == allow, (url, r.headers)
        j = r.json()
        assert j["status"] == 405 and "not allowed" in j["message"] and j["url_path"]
    for url in (cluster.url + "/v1/nope", turl + "/v1/buckets", cluster.url + "/v1/daemonx"):
        r = requests.get(url)
        assert r.status_code == 404 and "unknown path" in r.json()["message"], url
    r = requests.head(cluster.url + "/v1/nope")
    assert r.status_code == 404 and "unknown path" in r.headers["Hdr-Error"]


def test_request_limits(cluster):
    r = requests.get(cluster.url + "/v1/daemon?what=smap&x=" + "a" * 9000)
    assert r.status_code == 414
    r = requests.get(cluster.url + "/v1/daemon", params={"what": "smap"}, headers={"X-Big": "a" * (100 << 10)})
    assert r.status_code == 431
    r = requests.put(cluster.url + "/v1/cluster", data=b"{" + b" " * (2 << 20) + b"}")
    assert r.status_code == 413
    # still serving
    assert requests.get(cluster.url + "/v1/health").status_code == 200


def test_cli_config_cluster_and_node(cluster):
    from test_cli import EXIT_NOTFOUND, EXIT_USAGE, ais_bin, complete, run
    binary = ais_bin(cluster.build_dir)
    cli = lambda *a: run(list(a), endpoint=cluster.url, binary=binary)  # noqa: E731
    r = cli("config", "cluster", "log")
    assert r.returncode == 0 and "log.level" in r.stdout.decode(), r.stderr
    r = cli("config", "cluster", "log.level=debug", "checksum.validate_warm_get", "true")
    assert r.returncode == 0, r.stderr
    assert all(c["log"]["level"] == "debug" and c["checksum"]["validate_warm_get"] for c in configs(cluster))
    for bad, word, code in (("log.levle=info", "log.level", EXIT_NOTFOUND), ("host_net.port=1", "read-only", EXIT_USAGE),
                            ("log.level=loud", "loud", EXIT_USAGE)):
        r = cli("config", "cluster", bad)
        assert r.returncode == code and word in r.stderr.decode(), (bad, r.stderr)
    tid = sorted(cluster.smap()["tmap"])[0]
    r = cli("config", "node", f"t[{tid}]", "log.level=info")
    assert r.returncode == 0, r.stderr
    r = cli("config", "node", tid, "log", "--json")
    assert r.returncode == 0 and json_level(r.stdout) == "info", r.stdout
    assert cli("config", "cluster", "log.level=info", "checksum.validate_warm_get=false").returncode == 0
    words = complete("ais config cluster log.l", ["ais", "config", "cluster", "log.l"], binary=binary)
    assert words == ["log.level="], words


def json_level(out):
    import json
    return json.loads(out)["level"]
