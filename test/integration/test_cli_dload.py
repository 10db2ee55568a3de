"""The CLI's downloader commands: `ais download`, `ais show job download`, `ais job stop`.

Goal: `ais download 'URL-{000..011}.bin' ais://b/prefix/ --wait` lands every file byte for
byte under the prefix and reports the count; a URL that answers 404 is named with its reason
and the exit code is 9 (range and --object-list alike); `--progress` draws the finished/total
bar; `ais show job download` (and `ais job ls download`) lists the job with its description,
status, counters and errors, one job's view shows its failed names, `ais job rm download`
forgets it; `ais job stop JOB_ID` aborts a download that trickles from a slow server, and
`ais job wait download` then exits 9 saying it was aborted.
Method: as test_download.py — Python's threaded http.server on loopback (one path trickles
1 KiB every 0.2 s), a module cluster of 2 targets, the CLI binary run as a subprocess. Every
wait is the CLI's own --wait or a poll with a deadline (conftest.wait_until).
"""
import hashlib
import json
import os
import re
import subprocess

import pytest
import requests

from conftest import BUILD, FileServer, cluster_of, wait_until

EXIT_NOTFOUND, EXIT_JOBFAIL = 3, 9
BCK = "cdl"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    fs = FileServer(root)
    (root / "d").mkdir()
    data = {}
    for i in range(12):
        data[f"f-{i:03d}.bin"] = hashlib.sha256(b"%d" % i).digest() * (50 + 997 * i)
    data["empty.bin"] = b""
    for k, v in data.items():
        (root / "d" / k).write_bytes(v)
    yield fs.url, data
    fs.stop()


@pytest.fixture(scope="module")
def dc(request):
    yield from cluster_of(request, targets=2)


@pytest.fixture(scope="module")
def ais(dc):
    binary = os.environ.get("AIS_CLI") or os.path.join(BUILD, "cli", "ais")
    assert os.path.exists(binary), f"{binary} missing: build the `ais` target"
    env = dict(os.environ, AIS_ENDPOINT=dc.url)
    env.pop("AIS_URL", None)
    r = requests.post(f"{dc.url}/v1/buckets/{BCK}", json={"action": "create-bck"}, timeout=30)
    assert r.status_code in (200, 409), r.text

    def run(*args, code=0):
        r = subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=180)
        assert "Sanitizer" not in r.stderr, r.stderr
        if code is not None:
            assert r.returncode == code, (args, r.returncode, r.stdout, r.stderr)
        return r
    return run


def job_id(out):
    m = re.search(r"Started download job (\S+?)(;|$)", out, re.M)
    assert m, out
    return m.group(1)


def obj(dc, name):
    return requests.get(f"{dc.url}/v1/objects/{BCK}/{name}", timeout=60)


def test_range_wait_lands_byte_exact(dc, files, ais):
    url, data = files
    r = ais("download", url + "/d/f-{000..011}.bin", f"ais://{BCK}/imgs/", "--wait",
            "--description", "cli-range")
    jid = job_id(r.stdout)
    assert f"Downloaded 12 objects into ais://{BCK}/imgs/" in r.stdout, r.stdout
    for i in range(12):
        k = f"f-{i:03d}.bin"
        got = obj(dc, "imgs/" + k)
        assert got.status_code == 200 and got.content == data[k], k
    s = requests.get(f"{dc.url}/v1/download", json={"id": jid}, timeout=10).json()
    assert s["description"] == "cli-range" and s["finished_cnt"] == 12, s


def test_single_named_and_progress_bar(dc, files, ais):
    url, data = files
    r = ais("download", url + "/d/f-003.bin", f"ais://{BCK}/renamed.bin", "--progress")
    jid = job_id(r.stdout)
    assert f"download[{jid}] [" in r.stderr and "100%  1/1 objects" in r.stderr, r.stderr
    assert obj(dc, "renamed.bin").content == data["f-003.bin"]
    r = ais("download", url + "/d/empty.bin", f"ais://{BCK}/e/", "--wait")
    got = obj(dc, "e/empty.bin")
    assert got.status_code == 200 and got.content == b""


def test_404_urls_named_exit_9(dc, files, ais, tmp_path):
    url, data = files
    r = ais("download", url + "/d/f-{010..013}.bin", f"ais://{BCK}/nf/", "--wait",
            code=EXIT_JOBFAIL)
    assert "Downloaded 2 of 4 objects" in r.stdout and "failed 2:" in r.stdout, r.stdout
    for missing in ("f-012.bin", "f-013.bin"):
        line = next((ln for ln in r.stdout.splitlines() if f"{url}/d/{missing}" in ln), None)
        assert line is not None and "404" in line, r.stdout
    assert "download of 2 objects failed" in r.stderr, r.stderr
    assert obj(dc, "nf/f-010.bin").content == data["f-010.bin"]
    # The same through --object-list (one URL per line, one name relative to the base URL).
    lst = tmp_path / "urls.txt"
    lst.write_text(f"# two files\n{url}/d/f-001.bin\nd/nosuch.bin\n")
    r = ais("download", url, f"ais://{BCK}/ol/", "--object-list", str(lst), "--wait",
            code=EXIT_JOBFAIL)
    assert f"{url}/d/nosuch.bin (" in r.stdout and "404" in r.stdout, r.stdout
    assert obj(dc, "ol/f-001.bin").content == data["f-001.bin"]
    lst.write_text(json.dumps([f"{url}/d/f-002.bin"]))
    ais("download", "--object-list", str(lst), f"ais://{BCK}/js/", "--wait")
    assert obj(dc, "js/f-002.bin").content == data["f-002.bin"]


def test_show_job_download_lists_and_rm(dc, files, ais):
    url, _ = files
    desc = "cli-show-%d" % os.getpid()
    r = ais("download", url + "/d/f-{000..002}.bin", f"ais://{BCK}/show/", "--wait",
            "--description", desc)
    jid = job_id(r.stdout)
    r = ais("show", "job", "download", "--regex", "^cli-show-")
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "DESCRIPTION", "STATUS", "FINISHED/TOTAL", "ERRORS"], lines
    row = next(ln.split() for ln in lines if ln.startswith(jid))
    assert row == [jid, desc, "finished", "3/3", "0"], row
    assert all("cli-range" not in ln for ln in lines), lines
    assert jid in ais("job", "ls", "download", "--no-headers").stdout
    listed = json.loads(ais("job", "show", "download", "--json").stdout)
    assert any(j["id"] == jid for j in listed), listed
    one = ais("show", "job", "download", jid).stdout
    assert re.search(r"^Status:\s+finished$", one, re.M), one
    assert re.search(r"^Downloaded:\s+3/3 objects$", one, re.M), one
    r = ais("download", url + "/d/nosuch-{0..1}.bin", f"ais://{BCK}/x/", "--wait",
            code=EXIT_JOBFAIL)
    bad = job_id(r.stdout)
    one = ais("show", "job", "download", bad).stdout
    assert re.search(r"^Errors:\s+2$", one, re.M) and "x/nosuch-0.bin: " in one, one
    ais("job", "rm", "download", jid)
    r = ais("show", "job", "download", jid, code=EXIT_NOTFOUND)
    assert "not found" in r.stderr, r.stderr


def test_job_stop_aborts_slow_download(dc, files, ais):
    url, _ = files
    r = ais("download", url + "/slow/s-{0..3}.bin", f"ais://{BCK}/slow/", "--description",
            "cli-slow")
    jid = job_id(r.stdout)
    assert f"to monitor: ais show job download {jid}" in r.stdout, r.stdout
    wait_until(lambda: "running" in ais("show", "job", "download", jid).stdout, 30,
               what="the slow download running")
    assert f"Stopped download job {jid}" in ais("job", "stop", jid).stdout
    r = ais("job", "wait", "download", jid, "--timeout", "60s", code=EXIT_JOBFAIL)
    assert f"download job {jid} was aborted" in r.stderr, r.stderr
    s = requests.get(f"{dc.url}/v1/download", json={"id": jid}, timeout=10).json()
    assert s["aborted"] and s["finished_cnt"] < 4, s
    assert "nothing to stop" in ais("job", "stop", "download", jid).stdout


def test_bad_input_exit_2(dc, ais):
    for args in (["download", "ftp://h/x", f"ais://{BCK}"],
                 ["download", "http://h/x-{1..3", f"ais://{BCK}"],
                 ["download", "http://h/x", "s3://other"],
                 ["download", "s3://src", f"ais://{BCK}"],
                 ["download", "http://h/x", f"ais://{BCK}", "--timeout", "5s"]):
        r = ais(*args, code=2)
        assert r.stderr.startswith("Error: "), r.stderr
