"""Batch reads: one GET /v1/ml/moss (AIS GetBatch) per DataLoader batch.

Design notes: BatchReader turns a list of entries (object names, (bucket, object[, archpath])
tuples or MossReq entry dicts) into one MossReq with `strm` (the reply is the plain TAR) and
sends it to the gateway, which answers 307 to a designated target; the body is re-sent there
(pool.request). The TAR is parsed as it streams with tarfile `r|`; the reply has an exact
Content-Length and the stream must deliver exactly that many bytes (else ShortReadError). Every
member must carry the name the target gives entry i (`<bucket>/<objname>[/<archpath>]`, or
`__404__/...` for a missing entry with `coer`), so a reply that is not in request order is an
error, never a silent mix-up. Missing entries (coer) become None or raise MissingEntriesError.
A connection failure mid-reply re-sends the whole batch (the reply is generated: no Range), at
most `retries` times; HTTP errors are not retried. BatchLoader groups names into batches and
yields decoded batches; it is a torch IterableDataset when torch is importable (batches are
dealt round-robin to DataLoader workers; use DataLoader(loader, batch_size=None)).
"""
import http.client
import json
import tarfile

from .pool import DEFAULT_POOL, AISError, request
from .stream import ShortReadError
from .urls import endpoint as default_endpoint

try:  # optional: only to be usable as a torch Dataset
    from torch.utils.data import IterableDataset as _Base
    from torch.utils.data import get_worker_info as _worker_info
except ImportError:  # plain iteration without torch
    _Base = object

    def _worker_info():
        return None

MISSING_DIR = "__404__"  # the target's name prefix for a missing entry with coer
ENTRIES_MAX = 10000  # the gateway's bound on entries per batch (400 beyond)
RETRIES_DEFAULT = 1
_FIELDS = ("objname", "bucket", "provider", "archpath", "start", "length", "opaque")


class MissingEntriesError(LookupError):
    """Entries of a batch that do not exist: .missing = [(index, name), ...]."""

    def __init__(self, missing):
        super().__init__(f"{len(missing)} missing entries, first: {missing[0][1]}")
        self.missing = missing


class BatchOrderError(IOError):
    """The reply's members are not the requested entries in order."""


def entry(e, bucket=None, provider="ais"):
    """A MossReq entry dict from an object name (in bucket), a (bucket, objname[, archpath])
    tuple or a dict with at least "objname". ValueError without a bucket."""
    if isinstance(e, str):
        d = {"objname": e}
    elif isinstance(e, dict):
        d = {k: v for k, v in e.items() if k in _FIELDS and v is not None}
    elif isinstance(e, (tuple, list)) and len(e) in (2, 3):
        d = {"bucket": e[0], "objname": e[1]}
        if len(e) == 3 and e[2]:
            d["archpath"] = e[2]
    else:
        raise ValueError(f"{e!r}: a name, (bucket, objname[, archpath]) or an entry dict expected")
    d.setdefault("bucket", bucket)
    d.setdefault("provider", provider)
    if not d.get("objname") or not d.get("bucket"):
        raise ValueError(f"{e!r}: an object name and a bucket are both needed")
    return d


def member_name(d, missing=False):
    """The TAR member name the target gives entry d (onob off)."""
    a = d.get("archpath") or ""
    name = "%s/%s%s%s" % (d["bucket"], d["objname"], "/" if a and not a.startswith("/") else "", a)
    return f"{MISSING_DIR}/{name}" if missing else name


class _Exact:
    """A read()-able view of a reply body that must be exactly n bytes long."""

    def __init__(self, resp, n):
        self.resp, self.left, self.n = resp, n, n

    def read(self, size=-1):
        if self.left == 0:
            return b""
        want = self.left if size is None or size < 0 else min(size, self.left)
        data = self.resp.read(want)
        if not data:
            raise ShortReadError(f"batch reply: {self.left} of {self.n} bytes missing")
        self.left -= len(data)
        return data

    def drain(self):
        while self.left:
            self.read(1 << 16)


class BatchReader:
    """Reads batches of entries with one batch GET each, through the gateway at endpoint
    (default $AIS_ENDPOINT). bucket/provider: defaults for entries without them. coer: ask for
    placeholders instead of a 404 for the whole batch; missing="none" returns None for them,
    missing="raise" raises MissingEntriesError after the batch was read. Blocking; one thread
    at a time per reader (the pool is per thread)."""

    def __init__(self, bucket=None, provider="ais", endpoint=None, coer=False, missing="none",
                 pool=None, retries=RETRIES_DEFAULT):
        if missing not in ("none", "raise"):
            raise ValueError(f"missing={missing!r}: 'none' or 'raise'")
        self.bucket, self.provider, self.coer, self.missing = bucket, provider, coer, missing
        self.url = (endpoint or default_endpoint()).rstrip("/") + "/v1/ml/moss"
        self.pool = pool or DEFAULT_POOL
        self.retries = retries
        self.requests = 0  # batch GETs sent, retries included

    def get(self, entries):
        """The bytes of every entry, in request order (None for a missing one with coer and
        missing="none"). Raises AISError (e.g. 404 naming the first missing entry without coer,
        400 for a bad request), MissingEntriesError, BatchOrderError, ShortReadError."""
        ents = [entry(e, self.bucket, self.provider) for e in entries]
        if not ents:
            return []
        if len(ents) > ENTRIES_MAX:
            raise ValueError(f"{len(ents)} entries: at most {ENTRIES_MAX} in one batch")
        body = json.dumps({"in": ents, "mime": ".tar", "strm": True, "coer": bool(self.coer)})
        for attempt in range(self.retries + 1):
            try:
                out = self._once(ents, body.encode())
                break
            except AISError:
                raise
            except (OSError, http.client.HTTPException):
                if attempt == self.retries:
                    raise
        missing = [(i, member_name(d)) for i, (d, v) in enumerate(zip(ents, out)) if v is None]
        if missing and self.missing == "raise":
            raise MissingEntriesError(missing)
        return out

    def _once(self, ents, body):
        self.requests += 1
        reply = request(self.url, headers={"Content-Type": "application/json"}, body=body,
                        pool=self.pool)
        try:
            n = reply.header("Content-Length")
            if n is None or not n.isdigit():
                raise AISError(reply.resp.status, "batch reply without Content-Length", reply.url)
            src = _Exact(reply.resp, int(n))
            out = self._parse(ents, src)
            src.drain()
        except BaseException:
            reply.drop()
            raise
        reply.release()
        return out

    def _parse(self, ents, src):
        out = []
        with tarfile.open(fileobj=src, mode="r|") as tf:
            for m in tf:
                i = len(out)
                if i >= len(ents):
                    raise BatchOrderError(f"batch reply: member {m.name!r} beyond the "
                                          f"{len(ents)} entries")
                want = member_name(ents[i])
                if m.name == want:
                    out.append(tf.extractfile(m).read())
                elif m.name == member_name(ents[i], missing=True):
                    out.append(None)
                else:
                    raise BatchOrderError(f"batch reply: entry {i}: {m.name!r}, not {want!r}")
        if len(out) != len(ents):
            raise BatchOrderError(f"batch reply: {len(out)} members for {len(ents)} entries")
        return out


class BatchLoader(_Base):
    """Groups names (any iterable of BatchReader entries) into batches of batch_size and
    yields each batch as a list of decode(entry, data) (data: bytes, or None for a missing
    entry with coer), in the order of names. drop_last drops a short last batch. reader: a
    BatchReader (default: one from reader_kw, e.g. bucket=, coer=, endpoint=). With torch
    installed it is an IterableDataset: DataLoader(loader, batch_size=None, num_workers=k)
    gives batch i to worker i % k."""

    def __init__(self, names, batch_size, decode=None, drop_last=False, reader=None,
                 **reader_kw):
        if batch_size < 1 or batch_size > ENTRIES_MAX:
            raise ValueError(f"batch_size={batch_size}: 1..{ENTRIES_MAX}")
        self.names, self.batch_size = names, batch_size
        self.decode, self.drop_last = decode, drop_last
        self.reader = reader or BatchReader(**reader_kw)

    def __len__(self):
        n = len(self.names)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def batches(self):
        """The batches of entries, before reading."""
        cur = []
        for e in self.names:
            cur.append(e)
            if len(cur) == self.batch_size:
                yield cur
                cur = []
        if cur and not self.drop_last:
            yield cur

    def __iter__(self):
        w = _worker_info()
        for i, b in enumerate(self.batches()):
            if w is not None and i % w.num_workers != w.id:
                continue
            data = self.reader.get(b)
            yield [self.decode(e, d) for e, d in zip(b, data)] if self.decode else data
