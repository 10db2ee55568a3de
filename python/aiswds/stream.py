"""A readable stream of one object, resumed by Range after a mid-stream failure; the
webdataset gopen handler.

Design notes: ObjectStream is an io.RawIOBase over one GET /v1/objects/<bucket>/<obj> at the
gateway (307 to the owner, followed by pool.request). The first reply's Content-Length is the
object size, and the stream ends only when exactly that many bytes arrived: a connection that
drops early (EOF, reset, timeout) is re-requested with `Range: bytes=N-` from the endpoint
again (the owner may have changed), at most `retries` times per stream. The resumed reply must
be a 206 whose Content-Range continues at N with the same total, and whose identity headers
(ETag, Ais-Checksum-Type/-Value, Ais-Version, as present in the first reply) are equal:
otherwise the object changed under us and ObjectChangedError is raised instead of splicing two
versions. Closing a stream early drains a small remainder so its connection can be reused, and
drops the connection otherwise.
"""
import http.client
import importlib
import io
import re
from urllib.parse import urlencode

from .pool import DEFAULT_POOL, AISError, request
from .urls import endpoint as default_endpoint
from .urls import object_path, parse_url

RETRIES_DEFAULT = 3
IDENTITY_HEADERS = ("ETag", "Ais-Checksum-Type", "Ais-Checksum-Value", "Ais-Version")
# Closing early: a remainder up to this is read and discarded to keep the connection.
DRAIN_BYTES_MAX = 256 * 1024
_CRANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class ShortReadError(IOError):
    """The object's bytes stopped before its Content-Length, retries exhausted."""


class ObjectChangedError(IOError):
    """The object changed between the first reply and a resumed one."""


class ObjectStream(io.RawIOBase):
    """The bytes of ais://bucket/obj (provider "ais", "aws", "gcp", ...). Opening sends the GET
    (AISError on an HTTP error, e.g. .status 404); reads return exactly the object's bytes or
    raise ShortReadError / ObjectChangedError. .size, .resumes (Range re-requests made) and
    .identity (the headers compared on resume) are public. One thread at a time."""

    def __init__(self, bucket, obj, provider="ais", endpoint=None, pool=None,
                 retries=RETRIES_DEFAULT):
        super().__init__()
        self.bucket, self.obj, self.provider = bucket, obj, provider
        self._url = "%s%s?%s" % ((endpoint or default_endpoint()).rstrip("/"),
                                 object_path(bucket, obj), urlencode({"provider": provider}))
        self._pool = pool or DEFAULT_POOL
        self._retries = retries
        self._reply = None
        self.pos, self.size, self.identity, self.resumes = 0, None, None, 0
        self._open()

    def __repr__(self):
        return f"<ObjectStream {self.provider}://{self.bucket}/{self.obj} {self.pos}/{self.size}>"

    def readable(self):
        return True

    def _open(self):
        hdrs = {"Range": "bytes=%d-" % self.pos} if self.pos else {}
        try:
            reply = request(self._url, headers=hdrs, pool=self._pool)
        except AISError as e:
            if self.pos and e.status in (404, 416):
                raise ObjectChangedError(f"{self!r}: gone or shorter on resume: {e}") from e
            raise
        try:
            self._check(reply)
        except BaseException:
            reply.drop()
            raise
        self._reply = reply
        if self.pos == self.size:
            self._finish()

    def _check(self, reply):
        ident = {h: reply.header(h) for h in IDENTITY_HEADERS if reply.header(h) is not None}
        if self.pos == 0:
            n = reply.header("Content-Length")
            if reply.resp.status != 200 or n is None or not n.isdigit():
                raise AISError(reply.resp.status, "a 200 with Content-Length expected", reply.url)
            self.size, self.identity = int(n), ident
            return
        m = _CRANGE.match(reply.header("Content-Range") or "")
        if reply.resp.status != 206 or not m:
            raise AISError(reply.resp.status, "a 206 with Content-Range expected on resume",
                           reply.url)
        first, last, total = (int(g) for g in m.groups())
        if total != self.size or first != self.pos or last != total - 1:
            raise ObjectChangedError(f"{self!r}: resumed as bytes {first}-{last}/{total}")
        changed = {h: (v, ident.get(h)) for h, v in self.identity.items() if ident.get(h) != v}
        if changed:
            raise ObjectChangedError(f"{self!r}: changed while read (was, now): {changed}")

    def _finish(self):
        if self._reply is not None:
            try:
                self._reply.resp.read()  # b"": marks the reply complete (Content-Length 0)
            except (OSError, http.client.HTTPException):
                self._reply.drop()
            self._reply.release()
            self._reply = None

    def readinto(self, b):
        if self.closed:
            raise ValueError("read of a closed stream")
        if self.pos >= self.size:
            self._finish()
            return 0
        while True:
            why = None
            try:
                n = self._reply.resp.readinto(b)
            except (OSError, http.client.HTTPException) as e:
                n, why = 0, e
            if n:
                self.pos += n
                if self.pos >= self.size:
                    self._finish()
                return n
            self._resume(why or "connection closed")

    def _resume(self, why):
        self._reply.drop()
        self._reply = None
        if self.resumes >= self._retries:
            raise ShortReadError(f"{self!r}: {self.size - self.pos} bytes short after "
                                 f"{self.resumes} resumes: {why}")
        self.resumes += 1
        self._open()

    def close(self):
        reply, self._reply = self._reply, None
        if reply is not None:
            left = self.size - self.pos
            try:
                if left <= DRAIN_BYTES_MAX and len(reply.resp.read(left)) == left:
                    reply.release()
            except (OSError, http.client.HTTPException):
                pass
            reply.drop()
        super().close()


def ais_gopen(url, mode="rb", bufsize=8192, endpoint=None, pool=None, retries=RETRIES_DEFAULT,
              **kw):
    """The webdataset gopen handler for ais://bucket/obj (also s3://, gs://: provider aws,
    gcp; always read through the AIS cluster at $AIS_ENDPOINT or endpoint). Returns a buffered
    binary reader (io.BufferedReader of an ObjectStream); raises ValueError for a mode other
    than "rb" or a bad URL, AISError for an HTTP error (404: no such object)."""
    if mode not in ("rb", "r"):
        raise ValueError(f"{url}: mode {mode!r}: only reading (rb) is supported")
    provider, bucket, obj = parse_url(url)
    raw = ObjectStream(bucket, obj, provider, endpoint=endpoint, pool=pool, retries=retries)
    return io.BufferedReader(raw, buffer_size=max(int(bufsize or 0), 512))


def register(schemes=("ais",)):
    """Registers ais_gopen in webdataset.gopen_schemes for the given URL schemes (e.g.
    ("ais", "s3", "gs") to read S3 and GCS buckets through AIS). Returns True, or False when
    webdataset is not importable."""
    try:
        wds_gopen = importlib.import_module("webdataset.gopen")
    except ImportError:
        return False
    for s in schemes:
        wds_gopen.gopen_schemes[s] = ais_gopen
    return True
