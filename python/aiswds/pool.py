"""Keep-alive HTTP connections and one request with redirects.

Design notes: every thread has its own idle connections (http.client objects are not
thread-safe), keyed by (scheme, host, port), so a DataLoader worker reading shard after shard
talks to the gateway and the targets over the same few sockets. The pool is bounded: at most
max_idle_per_host idle connections per key and max_hosts keys per thread (the least recently
used key is closed first). A connection goes back to the pool only when its reply was read to
the end and the server did not ask to close it. A request on a reused connection that fails
before any reply byte (the server closed it while idle) is retried once on a fresh one.
Redirects (the gateway's 307 to a target) are followed with the same method, headers and body,
at most REDIRECTS_MAX times. Counters (connects, reuses, ...) are for tests and monitoring.
"""
import collections
import http.client
import json
import os
import threading
from urllib.parse import urljoin, urlsplit

REDIRECTS_MAX = 5
# A redirect or error body larger than this is not read (the connection is dropped instead).
SMALL_BODY_BYTES_MAX = 64 * 1024
DEFAULT_TIMEOUT_S = 60.0


class AISError(IOError):
    """An HTTP error reply: .status, .message (the AIS JSON "message" when there is one), .url."""

    def __init__(self, status, message, url):
        super().__init__(f"{status} {message} ({url})")
        self.status, self.message, self.url = status, message, url


class ConnPool:
    """Idle keep-alive connections of each thread, bounded per host and in hosts.
    Thread-safe: each thread only ever sees its own connections; stats are shared."""

    def __init__(self, max_idle_per_host=2, max_hosts=16, timeout=DEFAULT_TIMEOUT_S):
        assert max_idle_per_host >= 1 and max_hosts >= 1
        self.max_idle_per_host, self.max_hosts, self.timeout = max_idle_per_host, max_hosts, timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._stats = {"connects": 0, "reuses": 0, "returned": 0, "dropped": 0, "evicted": 0,
                       "stale_retries": 0}

    def stats(self):
        """A copy of the counters: connects (new sockets), reuses (requests on a pooled socket),
        returned (back to the pool), dropped (closed: unread reply, error, Connection: close),
        evicted (closed by the bounds), stale_retries."""
        with self._lock:
            return dict(self._stats)

    def _count(self, key, n=1):
        with self._lock:
            self._stats[key] += n

    def _idle(self):
        # A forked child (DataLoader worker) must not share its parent's sockets: start afresh.
        d = getattr(self._local, "idle", None)
        if d is None or self._local.pid != os.getpid():
            d = self._local.idle = collections.OrderedDict()
            self._local.pid = os.getpid()
        return d

    def idle_count(self):
        """Idle connections held for the calling thread."""
        return sum(len(v) for v in self._idle().values())

    def take(self, key):
        """(connection, reused) for key = (scheme, host, port); the caller owns it until
        give() or drop()."""
        idle = self._idle()
        conns = idle.get(key)
        if conns:
            idle.move_to_end(key)
            self._count("reuses")
            return conns.pop(), True
        scheme, host, port = key
        cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        self._count("connects")
        return cls(host, port, timeout=self.timeout), False

    def give(self, key, conn):
        """Returns an idle connection whose last reply was read to the end."""
        idle = self._idle()
        conns = idle.setdefault(key, [])
        idle.move_to_end(key)
        conns.append(conn)
        self._count("returned")
        while len(conns) > self.max_idle_per_host:
            conns.pop(0).close()
            self._count("evicted")
        while len(idle) > self.max_hosts:
            _, old = idle.popitem(last=False)
            for c in old:
                c.close()
                self._count("evicted")

    def drop(self, conn):
        """Closes a connection that cannot be reused."""
        conn.close()
        self._count("dropped")

    def close(self):
        """Closes the calling thread's idle connections."""
        idle = self._idle()
        while idle:
            _, conns = idle.popitem()
            for c in conns:
                c.close()


DEFAULT_POOL = ConnPool()


class Reply:
    """A 2xx reply being read: .resp (http.client.HTTPResponse), .url (after redirects).
    release() when done: the connection goes back to the pool if the body was read to the end."""

    def __init__(self, pool, key, conn, resp, url):
        self.pool, self.key, self.conn, self.resp, self.url = pool, key, conn, resp, url

    def header(self, name):
        return self.resp.getheader(name)

    def release(self):
        if self.conn is None:
            return
        conn, self.conn = self.conn, None
        if self.resp.isclosed() and not self.resp.will_close:
            self.pool.give(self.key, conn)
        else:
            self.pool.drop(conn)

    def drop(self):
        """Closes the connection whatever the state of the reply."""
        if self.conn is not None:
            conn, self.conn = self.conn, None
            self.pool.drop(conn)


def _key(url):
    u = urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError(f"{url!r}: an http(s) URL expected")
    port = u.port or (443 if u.scheme == "https" else 80)
    target = (u.path or "/") + ("?" + u.query if u.query else "")
    return (u.scheme, u.hostname, port), target


def _send(pool, key, target, method, headers, body):
    """One exchange; (conn, resp). A pooled connection found closed is replaced once."""
    for attempt in range(2):
        conn, reused = pool.take(key)
        try:
            conn.request(method, target, body=body, headers=headers)
            return conn, conn.getresponse()
        except (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionError):
            pool.drop(conn)
            if not reused or attempt:
                raise
            pool._count("stale_retries")
        except BaseException:
            pool.drop(conn)
            raise
    raise AssertionError("unreachable")


def _small_body(pool, key, conn, resp):
    """Reads a short body (redirect, error) and pools or drops the connection; the bytes."""
    n = resp.getheader("Content-Length")
    if n is not None and n.isdigit() and int(n) <= SMALL_BODY_BYTES_MAX:
        try:
            data = resp.read()
        except (OSError, http.client.HTTPException):
            pool.drop(conn)
            return b""
        Reply(pool, key, conn, resp, None).release()
        return data
    pool.drop(conn)
    return b""


def _message(data):
    try:
        return json.loads(data)["message"]
    except (ValueError, KeyError, TypeError):
        return data.decode("utf-8", "replace").strip()[:512]


def request(url, method="GET", headers=None, body=None, pool=None):
    """Sends a request and follows redirects (same method, headers and body). Returns a Reply
    for a 2xx status; raises AISError for any other, ValueError for a non-http URL, and
    OSError / http.client.HTTPException for connection failures. Blocking (pool's timeout)."""
    pool = pool or DEFAULT_POOL
    headers = dict(headers or {})
    for _ in range(REDIRECTS_MAX + 1):
        key, target = _key(url)
        conn, resp = _send(pool, key, target, method, headers, body)
        if resp.status in (301, 302, 303, 307, 308):
            loc = resp.getheader("Location")
            _small_body(pool, key, conn, resp)
            if not loc:
                raise AISError(resp.status, "redirect without Location", url)
            url = urljoin(url, loc)
            continue
        if 200 <= resp.status < 300:
            return Reply(pool, key, conn, resp, url)
        raise AISError(resp.status, _message(_small_body(pool, key, conn, resp)), url)
    raise AISError(310, f"more than {REDIRECTS_MAX} redirects", url)
