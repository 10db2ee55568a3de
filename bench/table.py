"""Turns the cells of bench/run.sh into one table (ours | nginx | ratio) and a results JSON.

Each cell is an aisloader --json document (cells/<size>.<server>.<case>.json) or a wrk
report (cells/<size>.<server>.wrk*.wrk). A missing or failed cell prints as "fail" with its
reason instead of a number: a broken run must never look like a slow or a fast one.
"""
import argparse
import json
import os
import re

# (row label, our cell, nginx cell, op in the aisloader JSON); "wrk" cells are wrk outputs.
ROWS = [
    ("GET gateway", "ais.get_gw", "ngx.get", "get"),
    ("GET direct", "ais.get_direct", "ngx.get", "get"),
    ("GET direct (wrk)", "ais.wrk_direct", "ngx.wrk", "wrk"),
    ("PUT gateway", "ais.put_gw", "ngx.put", "put"),
    ("PUT gw 100-cont", "ais.put_gw_expect", "ngx.put", "put"),
    ("PUT direct", "ais.put_direct", "ngx.put", "put"),
]
# Goals of the issue: (size, row) -> minimum ratio; 4 KiB compares req/s, larger MiB/s.
GOALS = {
    ("1MiB", "GET gateway"): 0.9,
    ("1MiB", "GET direct"): 1.0,
    ("4KiB", "GET gateway"): 0.45,
    ("4KiB", "GET direct"): 0.9,
    ("1MiB", "PUT gateway"): 0.9,
    ("1MiB", "PUT direct"): 0.9,
}
UNITS = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


def size_bytes(s):
    m = re.fullmatch(r"(\d+)([KMG]iB)?", s)
    return int(m.group(1)) * UNITS.get(m.group(2) or "", 1)


def read_loader(path, op):
    """{ops_s, mib_s, p50_ms, p99_ms, errors} of one op of an aisloader cell, or {fail}."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        err = ""
        try:
            with open(path[:-5] + ".err") as f:
                err = f.read().strip().splitlines()[-1:]
        except OSError:
            pass
        return {"fail": (err[0] if err else str(e))[:60]}
    run, fill = doc["run"], doc.get("fill")
    o = run[op]
    errors = doc.get("errors_total", 0)
    if o["ops"] == 0:
        return {"fail": "no successful ops", "errors": errors}
    return {"ops_s": o["ops_per_s"], "mib_s": o["mib_per_s"], "p50_ms": o["lat_us"]["p50"] / 1e3,
            "p99_ms": o["lat_us"]["p99"] / 1e3, "errors": errors,
            "fill_errors": fill["errors_total"] if fill else 0}


def read_wrk(path, size):
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return {"fail": "not run"}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not m:
        return {"fail": (text.strip().splitlines() or ["no output"])[-1][:60]}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errs = re.search(r"Socket errors:.*", text)
    rps = float(m.group(1))
    return {"ops_s": rps, "mib_s": rps * size / (1 << 20), "errors": int(bad.group(1)) if bad else 0,
            "socket_errors": errs.group(0) if errs else ""}


def cell(cells, size, name, op):
    base = os.path.join(cells, f"{size}.{name}")
    if op == "wrk":
        return read_wrk(base + ".wrk", size_bytes(size))
    return read_loader(base + ".json", op)


def fmt(v, key):
    if "fail" in v:
        return "fail"
    return f"{v[key]:.1f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", required=True)
    ap.add_argument("--sizes", required=True)
    ap.add_argument("--machine", required=True)
    ap.add_argument("--workers", required=True)
    ap.add_argument("--duration", required=True)
    ap.add_argument("--dry-run", default="0")
    ap.add_argument("--json-out", required=True)
    a = ap.parse_args()
    rows = []
    hdr = (f"{'size':>6} | {'op':<16} | {'unit':<5} | {'ours':>9} | {'nginx':>9} | {'ratio':>6}"
           f" | {'goal':>6} | {'p99 ms ours/nginx':>17} | errors ours/nginx")
    print(hdr)
    print("-" * len(hdr))
    for size in a.sizes.split():
        for label, ours_name, ngx_name, op in ROWS:
            ours = cell(a.cells, size, ours_name, op)
            ngx = cell(a.cells, size, ngx_name, op)
            if op == "wrk" and ours.get("fail") == "not run" and ngx.get("fail") == "not run":
                continue
            key = "ops_s" if size_bytes(size) < (64 << 10) else "mib_s"
            unit = "req/s" if key == "ops_s" else "MiB/s"
            ratio = None
            if "fail" not in ours and "fail" not in ngx and ngx[key] > 0:
                ratio = ours[key] / ngx[key]
            goal = GOALS.get((size, label))
            mark = "" if goal is None or ratio is None else (" ok" if ratio >= goal else " LOW")
            p99 = "/".join(f"{v['p99_ms']:.2f}" if "p99_ms" in v else "-" for v in (ours, ngx))
            errs = "/".join(str(v.get("errors", "?")) for v in (ours, ngx))
            fails = "; ".join(f"{who}: {v['fail']}" for who, v in (("ours", ours), ("nginx", ngx))
                              if "fail" in v)
            print(f"{size:>6} | {label:<16} | {unit:<5} | {fmt(ours, key):>9} | {fmt(ngx, key):>9} | "
                  f"{(f'{ratio:.2f}' if ratio is not None else '-'):>6} | "
                  f"{(f'{goal:.2f}' if goal else ''):>6}{mark:<4}| {p99:>17} | {errs}"
                  + (f"  [{fails}]" if fails else ""))
            rows.append({"size": size, "op": label, "unit": unit, "ours": ours, "nginx": ngx,
                         "ratio": ratio, "goal": goal})
    with open(a.machine) as f:
        machine = f.read().strip()
    os.makedirs(os.path.dirname(a.json_out), exist_ok=True)
    with open(a.json_out, "w") as f:
        json.dump({"machine": machine, "workers": int(a.workers), "duration": a.duration,
                   "dry_run": a.dry_run == "1", "rows": rows}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
