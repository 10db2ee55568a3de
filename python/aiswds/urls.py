"""Shard URL patterns and AIS object URLs.

Design notes: `expand` is a small brace expander (bash/braceexpand semantics for the forms shard
lists use: `{000..099}` zero-padded ranges, `{0..10..2}` steps, `{a..e}` letters, `{x,y}` lists,
nested and several braces), so webdataset's braceexpand is not needed. The number of names one
pattern may produce is bounded (EXPAND_NAMES_MAX). `parse_url` maps the URL scheme onto the AIS
provider the same way the C side does (`ais_provider_norm`).
"""
import os
import re
from urllib.parse import quote

DEFAULT_ENDPOINT = "http://localhost:8080"
# A pattern expanding beyond this is almost surely a typo; refusing beats exhausting memory.
EXPAND_NAMES_MAX = 1_000_000

PROVIDERS = {
    "ais": "ais", "local": "ais",
    "s3": "aws", "aws": "aws",
    "gs": "gcp", "gcp": "gcp",
    "az": "azure", "azure": "azure",
    "oci": "oci", "ht": "ht",
}

_RANGE = re.compile(r"^(\d+)\.\.(\d+)(?:\.\.(-?\d+))?$")
_CHARS = re.compile(r"^([A-Za-z])\.\.([A-Za-z])(?:\.\.(-?\d+))?$")


def endpoint():
    """The cluster's gateway URL: $AIS_ENDPOINT, else http://localhost:8080 (no trailing /)."""
    return (os.environ.get("AIS_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def parse_url(url):
    """`ais://bucket/path/obj` -> (provider, bucket, object). s3:// is provider aws, gs:// gcp.
    ValueError for another scheme, no bucket or no object name."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"{url!r}: not a <provider>://<bucket>/<object> URL")
    provider = PROVIDERS.get(scheme.lower())
    if provider is None:
        raise ValueError(f"{url!r}: unknown provider scheme {scheme!r}")
    bucket, _, obj = rest.partition("/")
    if not bucket or not obj:
        raise ValueError(f"{url!r}: a bucket and an object name are both needed")
    return provider, bucket, obj


def object_path(bucket, obj):
    """The /v1/objects/<bucket>/<obj> path, percent-encoded (slashes of obj kept)."""
    return "/v1/objects/%s/%s" % (quote(bucket, safe=""), quote(obj, safe="/"))


def _match_brace(s, i):
    """Index of the } closing the { at s[i], or -1."""
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "{":
            depth += 1
        elif s[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return -1


def _split_top(body):
    """Splits a brace body on its top-level commas."""
    parts, depth, cur = [], 0, []
    for ch in body:
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur.append(ch)
    parts.append("".join(cur))
    return parts


def _seq(body):
    """The items of a {a..b[..step]} sequence body, or None when body is not one."""
    m = _RANGE.match(body)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        step = abs(int(m.group(3) or 1)) or 1
        width = max(len(m.group(1)), len(m.group(2)))
        padded = any(g.startswith("0") and len(g) > 1 for g in (m.group(1), m.group(2)))
        if abs(b - a) // step + 1 > EXPAND_NAMES_MAX:
            raise ValueError(f"{{{body}}}: more than {EXPAND_NAMES_MAX} names")
        rng = range(a, b + 1, step) if a <= b else range(a, b - 1, -step)
        return [("%0*d" % (width, n)) if padded else str(n) for n in rng]
    m = _CHARS.match(body)
    if m:
        a, b = ord(m.group(1)), ord(m.group(2))
        step = abs(int(m.group(3) or 1)) or 1
        rng = range(a, b + 1, step) if a <= b else range(a, b - 1, -step)
        return [chr(c) for c in rng]
    return None


def expand(pattern):
    """All names of a shard pattern, in order: "shard-{000..002}.tar" -> shard-000.tar,
    shard-001.tar, shard-002.tar. Lists ({a,b}), steps ({0..8..4}), letters and nesting work;
    a brace without a comma or range stays literal (as in bash). ValueError for an unbalanced
    brace or more than EXPAND_NAMES_MAX names."""
    out = _expand(pattern)
    if len(out) > EXPAND_NAMES_MAX:
        raise ValueError(f"{pattern!r}: more than {EXPAND_NAMES_MAX} names")
    return out


def _expand(s):
    i = s.find("{")
    while i >= 0:
        j = _match_brace(s, i)
        if j < 0:
            raise ValueError(f"{s!r}: unbalanced '{{'")
        body = s[i + 1:j]
        alts = _seq(body)
        if alts is None:
            parts = _split_top(body)
            if len(parts) > 1:
                alts = [x for p in parts for x in _expand(p)]
        if alts is not None:
            tails = _expand(s[j + 1:])
            if len(alts) * len(tails) > EXPAND_NAMES_MAX:
                raise ValueError(f"{s!r}: more than {EXPAND_NAMES_MAX} names")
            return [s[:i] + a + t for a in alts for t in tails]
        # literal {x}: keep it, expand what follows
        tails = _expand(s[j + 1:])
        return [s[:j + 1] + t for t in tails]
    if "}" in s and s.count("}") > s.count("{"):
        raise ValueError(f"{s!r}: unbalanced '}}'")
    return [s]
