"""One deadline for a whole HTTP exchange made through urllib: its sockets shut down when the deadline passes.

urllib's `timeout` bounds each socket read, not the exchange: a server sending a byte every 0.5 s kept a feed fetch
with a 3 s timeout busy for 45 s, and a webhook receiver trickling its answer held `run --once` for 702 s (outside
trial 16, M2). `HttpDeadline` is what the feed fetch (`producers.feed_http`) and the webhook notifier
(`alerts.notifiers.webhook`) both use instead: its handlers (`handlers()`, given to urllib's opener in place of
its HTTP and HTTPS handlers) watch the socket of every connection the exchange opens, redirects' too, from the
moment it is connected; `within(seconds)` starts a timer that shuts them all down when the seconds pass, which
ends a read blocked in another thread at once (whatever the server sends, or does not), and `expired` then tells
the caller that an error or a short read was the deadline's. A connection made after the deadline is shut as soon
as it is connected. The connect itself (TCP, a proxy's tunnel, the TLS handshake), before there is a socket the timer
could shut, is bounded by a socket timeout of what is left of the deadline (at most the caller's own timeout): a
server that accepted the connection but never finished the handshake held the exchange for the whole per-read
timeout after the deadline, or for ever without one. urllib stays in charge of everything else (redirects, proxies,
TLS).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

_Conn = TypeVar("_Conn", bound=http.client.HTTPConnection)
ConnectionFactory = Callable[..., http.client.HTTPConnection]  # what urllib's do_open calls: (host, **kwargs)


class HttpDeadline:
    """The sockets of one exchange (one request and its redirects), shut down together at its deadline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._ends: float | None = None  # time.monotonic() at the deadline, once `within` started it
        self.expired = False

    def remaining(self) -> float | None:
        """Seconds left before the deadline (<= 0 once it passed), or None when no deadline was started."""
        return None if self._ends is None else self._ends - time.monotonic()

    def watch(self, conn: _Conn) -> _Conn:
        """`conn`, its connect bounded by what is left of the deadline and its socket watched once connected.
        (urllib lets go of the connection's socket once the headers are read, and reads the body through it after
        that: the socket is kept, not the connection.)"""
        connect = conn.connect
        create = conn._create_connection  # type: ignore[attr-defined]  # socket.create_connection, set per instance
        per_read = _seconds(conn.timeout)  # the caller's timeout: each read's, once connected
        bounded = [False]  # whether the connect's timeout was the deadline's (its timeout then is the deadline's)

        def create_bounded(address: Any, timeout: Any = None, source_address: Any = None) -> socket.socket:
            # The timer can shut a socket only once connect() has returned it; until then (TCP connect, a proxy's
            # tunnel, the TLS handshake, which inherits the socket's timeout as a bound on the whole handshake) a
            # socket timeout of what is left keeps the exchange within the deadline.
            left = self.remaining()
            if left is not None and (left <= 0 or self.expired):
                self.expire()
                raise TimeoutError("the deadline passed before connecting")
            bound = _tighter(_seconds(timeout), left)
            bounded[0] = left is not None and bound == left
            sock: socket.socket = create(address, bound, source_address)
            left = self.remaining()
            if left is not None:  # what is left now bounds what connect() does next on this socket
                if left <= 0:
                    sock.close()
                    self.expire()
                    raise TimeoutError("the deadline passed while connecting")
                bound = _tighter(per_read, left)
                bounded[0] = bound == left
                sock.settimeout(bound)
            return sock

        def connect_watched() -> None:
            try:
                connect()
            except TimeoutError:
                if bounded[0]:  # the deadline's timeout, not the caller's: the caller reads `expired`
                    self.expire()
                raise
            conn.sock.settimeout(per_read)  # connected: each read as the caller asked; the timer bounds them all
            with self._lock:
                self._socks.append(conn.sock)
                if self.expired:  # connected after the deadline: shut at once
                    _shut(conn.sock)

        conn._create_connection = create_bounded  # type: ignore[attr-defined]
        conn.connect = connect_watched  # type: ignore[method-assign]
        return conn

    def connection(
        self, http_class: type[http.client.HTTPConnection], req: urllib.request.Request
    ) -> ConnectionFactory:
        """How the handlers make the connection for `req`: `http_class`'s, watched. (A subclass may check more.)"""

        def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            return self.watch(http_class(host, **kwargs))

        return make

    def expire(self) -> None:
        """The deadline: every socket connected so far shut down, and every one connected after it."""
        with self._lock:
            self.expired = True
            for sock in self._socks:
                _shut(sock)

    @contextmanager
    def within(self, seconds: float) -> Iterator[HttpDeadline]:
        """The exchange inside the block ends `seconds` after it starts, at the latest."""
        self._ends = time.monotonic() + seconds  # started before any connection: the connect is within it too
        timer = threading.Timer(seconds, self.expire)
        timer.daemon = True
        timer.start()
        try:
            yield self
        finally:
            timer.cancel()

    def handlers(self, context: ssl.SSLContext | None = None) -> list[urllib.request.BaseHandler]:
        """urllib's HTTP and HTTPS handlers with every connection watched (HTTPS with `context`, else urllib's)."""
        return [DeadlineHTTPHandler(self), DeadlineHTTPSHandler(self, context)]


def _seconds(timeout: Any) -> float | None:
    """A connection's `timeout` in seconds, None for none (urllib's "not given" is the socket module's default)."""
    if timeout is socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
        return socket.getdefaulttimeout()
    return None if timeout is None else float(timeout)


def _tighter(timeout: float | None, left: float | None) -> float | None:
    """The smaller of two bounds, None meaning none."""
    if left is None:
        return timeout
    return left if timeout is None else min(timeout, left)


def _shut(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        # The plain socket's shutdown, also for TLS: SSLSocket's own drops its TLS state under the reading thread.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


class DeadlineHTTPHandler(urllib.request.HTTPHandler):
    """urllib's HTTP handler, its connections made by an `HttpDeadline`."""

    def __init__(self, deadline: HttpDeadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._deadline.connection(http.client.HTTPConnection, req), req)


class DeadlineHTTPSHandler(urllib.request.HTTPSHandler):
    """urllib's HTTPS handler (its SSL context: certificates verified by default), its connections made by an
    `HttpDeadline`."""

    def __init__(self, deadline: HttpDeadline, context: ssl.SSLContext | None = None) -> None:
        super().__init__(context=context)
        self._deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        context = getattr(self, "_context", None)  # set by HTTPSHandler.__init__ (not in its stubs)
        return self.do_open(self._deadline.connection(http.client.HTTPSConnection, req), req, context=context)
