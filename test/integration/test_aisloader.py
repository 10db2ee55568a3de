"""Smoke test of bench/aisloader against the test cluster.

Goal: aisloader completes short runs through the gateway and directly to targets with zero
errors and nonzero ops, its count bound is exact, --fill/--verify/--cleanup work, and errors
are reported (exit 3, by kind and code), never hidden.
Method: run the binary for ~2 s or a few hundred ops with small objects, parse --json.
"""
import json
import os
import subprocess
import uuid

import pytest

TIMEOUT_S = 60


def loader(cluster, *args):
    exe = os.path.join(cluster.build_dir, "bench", "aisloader")
    assert os.access(exe, os.X_OK), f"{exe} not built"
    p = subprocess.run([exe, "--endpoint", cluster.url, "--json", "--quiet",
                        "--bucket", "aisloader-smoke", *args],
                       capture_output=True, text=True, timeout=TIMEOUT_S)
    assert p.stdout, f"rc={p.returncode} stderr={p.stderr}"
    return p.returncode, json.loads(p.stdout), p.stderr


@pytest.fixture
def prefix():
    return f"smoke-{uuid.uuid4().hex[:8]}/"


def test_mixed_via_gateway(cluster, prefix):
    rc, doc, err = loader(cluster, "--prefix", prefix, "--duration", "2s", "--workers", "2",
                          "--minsize", "1KiB", "--maxsize", "64KiB", "--num-objects", "50",
                          "--verify", "--cleanup")
    assert doc["errors_total"] == 0, doc["run"]["errors"]
    assert rc == 0, err
    assert doc["run"]["put"]["ops"] > 0
    assert doc["run"]["get"]["ops"] > 0
    assert doc["run"]["get"]["bytes"] > 0
    lat = doc["run"]["get"]["lat_us"]
    assert 0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
    assert doc["cleanup"]["delete"]["ops"] > 0
    assert doc["cleanup"]["errors_total"] == 0


def test_direct_count_bound(cluster, prefix):
    rc, doc, err = loader(cluster, "--prefix", prefix, "--direct", "--max-ops", "200",
                          "--workers", "2", "--size", "4KiB", "--num-objects", "40",
                          "--verify", "--cleanup")
    assert doc["errors_total"] == 0, doc["run"]["errors"]
    assert rc == 0, err
    assert doc["config"]["mode"] == "direct"
    assert doc["run"]["put"]["ops"] + doc["run"]["get"]["ops"] == 200
    assert doc["run"]["put"]["bytes"] == doc["run"]["put"]["ops"] * 4096


def test_read_only_after_fill(cluster, prefix):
    rc, doc, err = loader(cluster, "--prefix", prefix, "--pctput", "0", "--fill", "--seq",
                          "--max-ops", "100", "--workers", "2", "--size", "16KiB",
                          "--num-objects", "20", "--verify", "--cleanup")
    assert doc["errors_total"] == 0, doc
    assert rc == 0, err
    assert doc["fill"]["put"]["ops"] == 20
    assert doc["run"]["get"]["ops"] == 100
    assert doc["run"]["put"]["ops"] == 0
    assert doc["run"]["get"]["bytes"] == 100 * 16384


def test_errors_are_counted_not_hidden(cluster, prefix):
    # --existing claims names that were never written: every GET must fail with 404.
    rc, doc, _ = loader(cluster, "--prefix", prefix, "--pctput", "0", "--existing",
                        "--max-ops", "30", "--workers", "2", "--num-objects", "5")
    assert rc == 3
    assert doc["errors_total"] == 30
    assert doc["run"]["get"]["ops"] == 0
    rows = doc["run"]["errors"]
    assert [(r["op"], r["kind"], r["code"]) for r in rows] == [("GET", "http", 404)]
    assert rows[0]["count"] == 30


def test_usage_errors(cluster):
    exe = os.path.join(cluster.build_dir, "bench", "aisloader")
    p = subprocess.run([exe, "--pctput", "101"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 2
    assert "--pctput" in p.stderr
