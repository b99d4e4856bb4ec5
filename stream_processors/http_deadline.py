"""One deadline for a whole HTTP exchange made through urllib: its sockets shut down when the deadline passes.

urllib's `timeout` bounds each socket read, not the exchange: a server sending a byte every 0.5 s kept a feed fetch
with a 3 s timeout busy for 45 s, and a webhook receiver trickling its answer held `run --once` for 702 s (outside
trial 16, M2). `HttpDeadline` is what the feed fetch (`producers.feed_http`) and the webhook notifier
(`alerts.notifiers.webhook`) both use instead: its handlers (`handlers()`, given to urllib's opener in place of
its HTTP and HTTPS handlers) watch the socket of every connection the exchange opens, redirects' too, from the
moment it is connected; `within(seconds)` starts a timer that shuts them all down when the seconds pass, which
ends a read blocked in another thread at once (whatever the server sends, or does not), and `expired` then tells
the caller that an error or a short read was the deadline's. A connection made after the deadline is shut as soon
as it is connected. urllib stays in charge of everything else (redirects, proxies, TLS).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
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
        self.expired = False

    def watch(self, conn: _Conn) -> _Conn:
        """`conn`, its socket watched once connected. (urllib lets go of the connection's socket once the headers
        are read, and reads the body through it after that: the socket is kept, not the connection.)"""
        connect = conn.connect

        def connect_watched() -> None:
            connect()
            with self._lock:
                self._socks.append(conn.sock)
                if self.expired:  # connected after the deadline: shut at once
                    _shut(conn.sock)

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
