"""API spec: docs/openapi.yaml is valid OpenAPI 3, served by the gateway, and complete.

Goal: the spec validates against the official OpenAPI 3.0 JSON Schema; every $ref resolves and
operationIds are unique; GET /v1/openapi.yaml on a gateway returns exactly the file (embedded
at build time); and every route the nodes serve (gateway/h_gw.c gw_routes[], target/h_obj.c
tgt_routes[]) is in the spec with each of its methods, so adding a route without describing
it fails here.
Method: the validator is python3-jsonschema with the schema Debian's openapi-specification
package ships (/usr/share/openapi-specification/schemas/v3.0/schema.json; both installed by
scripts/install-deps.sh). Route rows are read from the C tables with a regex; a pattern
ending in "/*" needs a spec path under that prefix for each method. A negative check removes
one path from a copy of the spec and expects the coverage check to name it.
"""
import copy
import json
import os
import re

import pytest
import requests

from conftest import REPO, cluster_of

SPEC = os.path.join(REPO, "docs", "openapi.yaml")
SCHEMA = "/usr/share/openapi-specification/schemas/v3.0/schema.json"
METHOD_BITS = {"AIS_M_GET": "get", "AIS_M_HEAD": "head", "AIS_M_PUT": "put",
               "AIS_M_POST": "post", "AIS_M_DELETE": "delete", "AIS_M_PATCH": "patch"}
TABLES = [("gateway/h_gw.c", "gw_routes"), ("target/h_obj.c", "tgt_routes")]

yaml = pytest.importorskip("yaml", reason="python3-yaml (scripts/install-deps.sh)")


@pytest.fixture(scope="module")
def spec():
    with open(SPEC) as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def ocluster(request):
    yield from cluster_of(request, gateways=1, targets=1, mountpaths=1)


def routes():
    """[(file, pattern, {methods})] from the C route tables."""
    out = []
    for rel, table in TABLES:
        src = open(os.path.join(REPO, rel)).read()
        macros = dict(re.findall(r"#define (\w+) \(([^)]*)\)", src))
        body = re.search(r"struct ais_route %s\[\] = \{(.*?)\n\};" % table, src, re.S)
        assert body, f"{table}[] not found in {rel}"
        for mask, pattern in re.findall(r"\{\s*([A-Z_| \n]+?),\s*\"([^\"]+)\"", body.group(1)):
            bits = set()
            for tok in re.split(r"[|\s]+", mask.strip()):
                for t in re.split(r"[|\s]+", macros.get(tok, tok)):
                    if t:
                        assert t in METHOD_BITS, f"{rel}: unknown method bit {t}"
                        bits.add(METHOD_BITS[t])
            out.append((rel, pattern, bits))
    assert len(out) >= 10, out
    return out


def missing_routes(doc):
    """Routes (or methods of routes) the spec does not describe."""
    paths = doc.get("paths", {})
    missing = []
    for rel, pattern, methods in routes():
        if pattern.endswith("/*"):
            prefix = pattern[:-1]
            cands = [p for p in paths if p.startswith(prefix) and "{" in p[len(prefix):]]
        else:
            cands = [p for p in paths if p == pattern]
        for m in sorted(methods):
            if not any(m in paths[p] for p in cands):
                missing.append(f"{m.upper()} {pattern} ({rel})")
    return missing


def test_valid_openapi3(spec):
    jsonschema = pytest.importorskip("jsonschema", reason="python3-jsonschema (scripts/install-deps.sh)")
    assert os.path.exists(SCHEMA), f"{SCHEMA} missing: apt-get install openapi-specification"
    schema = json.load(open(SCHEMA))
    v = jsonschema.Draft4Validator(schema)
    errors = sorted(v.iter_errors(spec), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    assert spec["openapi"].startswith("3.0")


def _refs(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                out.append(v)
            else:
                _refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _refs(v, out)
    return out


def test_refs_resolve_and_ids_unique(spec):
    for ref in _refs(spec, []):
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            assert part in node, f"unresolved $ref {ref}"
            node = node[part]
    ids = [op["operationId"] for item in spec["paths"].values() for k, op in item.items()
           if k in METHOD_BITS.values()]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    # every {param} of a path is declared as a path parameter
    for path, item in spec["paths"].items():
        for name in re.findall(r"\{(\w+)\}", path):
            for k, op in item.items():
                if k not in METHOD_BITS.values():
                    continue
                params = [spec["components"]["parameters"][p["$ref"].split("/")[-1]]
                          if "$ref" in p else p for p in item.get("parameters", []) + op.get("parameters", [])]
                assert any(p["in"] == "path" and p["name"] == name for p in params), (path, k, name)


def test_every_served_route_is_described(spec):
    missing = missing_routes(spec)
    assert not missing, "routes missing from docs/openapi.yaml:\n" + "\n".join(missing)


def test_coverage_check_catches_a_missing_route(spec):
    doc = copy.deepcopy(spec)
    del doc["paths"]["/metrics"]
    del doc["paths"]["/v1/buckets/{bucket}"]["patch"]
    missing = missing_routes(doc)
    assert any(m.startswith("GET /metrics ") for m in missing), missing
    assert any(m.startswith("PATCH /v1/buckets/* ") for m in missing), missing


def test_served_by_gateway(ocluster):
    r = requests.get(ocluster.url + "/v1/openapi.yaml", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/yaml")
    assert r.content == open(SPEC, "rb").read(), "served spec differs from docs/openapi.yaml (rebuild?)"
    h = requests.head(ocluster.url + "/v1/openapi.yaml", timeout=10)
    assert h.status_code == 200 and int(h.headers["Content-Length"]) == len(r.content)


def _nullable(node):
    """OpenAPI 3.0 `nullable: true` as JSON Schema (`type: [t, "null"]`), recursively."""
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


def test_live_responses_match_their_schemas(spec, ocluster):
    """Real answers of a running cluster validate against the spec's schemas, so the spec
    describes what the nodes send, not what someone meant them to send."""
    import jsonschema
    doc = _nullable(copy.deepcopy(spec))
    resolver = jsonschema.RefResolver.from_schema(doc)

    def check(schema_ref, body):
        jsonschema.validate(body, {"$ref": schema_ref}, resolver=resolver)

    def response_schema(path, method, status):
        r = doc["paths"][path][method]["responses"][str(status)]
        if "$ref" in r:
            r = resolver.resolve(r["$ref"])[1]
        return r["content"]["application/json"]["schema"]

    u = ocluster.url
    assert requests.post(u + "/v1/buckets/oas", json={"action": "create-bck"}, timeout=10).status_code == 200
    for i in range(3):
        assert requests.put(f"{u}/v1/objects/oas/o{i}", data=b"x" * i, timeout=10).status_code == 200
    cases = [
        (requests.get(u + "/v1/buckets", timeout=10), "/v1/buckets", "get", 200),
        (requests.get(u + "/v1/buckets/oas", json={"action": "list", "value": {"props": "name,size"}},
                      timeout=10), "/v1/buckets/{bucket}", "get", 200),
        (requests.get(u + "/v1/objects/oas/nosuch", timeout=10), "/v1/objects/{bucket}/{object}",
         "get", 404),
        (requests.post(u + "/v1/buckets/oas", json={"action": "create-bck"}, timeout=10),
         "/v1/buckets/{bucket}", "post", 409),
    ]
    for r, path, method, status in cases:
        assert r.status_code == status, (path, r.status_code, r.text)
        jsonschema.validate(r.json(), response_schema(path, method, status), resolver=resolver)
    check("#/components/schemas/Smap",
          requests.get(u + "/v1/daemon", params={"what": "smap"}, timeout=10).json())
    r = requests.put(u + "/v1/cluster", json={"action": "start", "value": {"Kind": "rebalance"}},
                     timeout=10)
    assert r.status_code == 200, r.text
    st = requests.get(u + "/v1/cluster", params={"what": "status"}, json={"ID": r.text}, timeout=10)
    check("#/components/schemas/JobStatus", st.json())
    # The check can fail: a body that breaks the schema is refused.
    with pytest.raises(jsonschema.ValidationError):
        check("#/components/schemas/Error", {"message": 5})
