"""The shared HTTP deadline (infra.http_deadline) against a real local server that trickles its answer.

Per-read timeouts never end such an exchange; the deadline must, wherever the exchange is when it passes: in the
headers, in the body (urllib has let go of the connection's socket by then), after a redirect (a second
connection), over TLS, or before a connection is even made. No clock is read: a hang guard fails the test when an
exchange is still going long after its 1 s deadline (the server trickles for as long as the test lasts).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.smtp_server import _certificate
from tests.fixtures.trickle import Trickle
from tests.functional.delivery_helpers import detection
from watchfloor.alerts.notice import notice_of
from watchfloor.alerts.notifiers.base import TransientError
from watchfloor.alerts.notifiers.webhook import WebhookNotifier
from watchfloor.infra.http_deadline import HttpDeadline
from watchfloor.producers.feed_http import FetchFailed, fetch_http
from watchfloor.schemas.events import Alert

pytestmark = pytest.mark.integration

HEADERS_NEVER_END = b"HTTP/1.1 200 OK\r\nX-Slow: "
BODY_NEVER_ENDS = b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n"
HANG = 60.0  # seconds: far past the 1 s deadline on any machine; a guard, not a measurement


@pytest.fixture
def servers() -> Iterator[Callable[..., Trickle]]:
    started: list[Trickle] = []

    def start(head: bytes, ssl_context: ssl.SSLContext | None = None) -> Trickle:
        started.append(Trickle(head, ssl_context))
        return started[-1]

    yield start
    for server in started:
        server.close()


def get(url: str, deadline: HttpDeadline, context: ssl.SSLContext | None = None) -> bytes:
    """GET `url` and read the whole body, with urllib's opener and the deadline's handlers (no socket timeout)."""
    opener = urllib.request.build_opener(*deadline.handlers(context))
    with opener.open(url) as resp:
        body: bytes = resp.read()
        return body


def ended(exchange: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """Run `exchange` in a thread: what it returned or raised, failing the test if it is still going after HANG."""
    out: list[Any] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            out.append(exchange())
        except BaseException as e:  # what the deadline made of the exchange is what the test looks at
            failed.append(e)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG)
    assert out or failed, f"the exchange was still going {HANG:g} s after its 1 s deadline: the deadline was not kept"
    return (out[0] if out else None), (failed[0] if failed else None)


@pytest.mark.parametrize("head", [HEADERS_NEVER_END, BODY_NEVER_ENDS], ids=["headers", "body"])
def test_a_trickling_answer_ends_at_the_deadline(servers: Callable[..., Trickle], head: bytes) -> None:
    """In the headers, or in the body: urllib lets go of the connection's socket once the headers are read, so a
    deadline that shut the connection's socket (not the socket it connected) left a trickling body running."""
    server = servers(head)
    deadline = HttpDeadline()

    def exchange() -> bytes:
        with deadline.within(1):
            return get(server.url, deadline)

    body, error = ended(exchange)
    assert deadline.expired and server.posts == 1
    # Whatever urllib makes of the cut (an error, or a short answer), the body never came whole.
    assert error is not None or len(body) < 100_000_000, body


def test_the_connection_of_a_redirect_is_watched_too(servers: Callable[..., Trickle]) -> None:
    trickling = servers(BODY_NEVER_ENDS)
    redirect = servers(f"HTTP/1.1 302 Found\r\nLocation: {trickling.url}\r\nContent-Length: 0\r\n\r\n".encode())
    deadline = HttpDeadline()

    def exchange() -> bytes:
        with deadline.within(1):
            return get(redirect.url, deadline)

    _body, error = ended(exchange)
    assert deadline.expired and (redirect.posts, trickling.posts) == (1, 1)
    assert isinstance(error, http.client.IncompleteRead), repr(error)


def test_over_tls_the_deadline_ends_the_read(servers: Callable[..., Trickle], tmp_path: Path) -> None:
    server_ctx, client_ctx = _certificate(tmp_path)
    server = servers(BODY_NEVER_ENDS, server_ctx)
    deadline = HttpDeadline()

    def exchange() -> bytes:
        with deadline.within(1):
            return get(server.url, deadline, client_ctx)

    _body, error = ended(exchange)
    assert deadline.expired and server.posts == 1
    assert isinstance(error, OSError | http.client.HTTPException), repr(error)


def test_a_connection_made_after_the_deadline_is_shut_at_once(servers: Callable[..., Trickle]) -> None:
    """The timer may fire between two connections (a redirect's): the next one must not run on unbounded."""
    server = servers(b"HTTP/1.1 204 No Content\r\n\r\n")
    deadline = HttpDeadline()
    deadline.expire()
    _body, error = ended(lambda: get(server.url, deadline))
    assert isinstance(error, urllib.error.URLError | OSError | http.client.HTTPException), repr(error)


def test_an_answer_within_the_deadline_is_read_whole(servers: Callable[..., Trickle]) -> None:
    server = servers(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    deadline = HttpDeadline()
    with deadline.within(60):
        assert get(server.url, deadline) == b"hello"
    assert not deadline.expired


class Silent:
    """A server that accepts each TCP connection and then says nothing, ever: no TLS handshake, no HTTP answer."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._held: list[socket.socket] = []
        self.accepted = threading.Event()
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._held.append(conn)
            self.accepted.set()

    def close(self) -> None:
        self._server.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    server = Silent()
    yield server
    server.close()


def test_a_tls_handshake_that_never_ends_ends_at_the_deadline(silent: Silent) -> None:
    """The deadline covers the connect: the handshake happens inside connect(), before the timer can shut the socket,
    so with no per-read timeout the exchange waited for ever (and with one, that long after the deadline)."""
    deadline = HttpDeadline()

    def exchange() -> bytes:
        with deadline.within(1):
            return get(f"https://127.0.0.1:{silent.port}/feed", deadline)

    _body, error = ended(exchange)
    assert silent.accepted.is_set() and deadline.expired
    assert isinstance(error, urllib.error.URLError), repr(error)
    assert isinstance(error.reason, TimeoutError) and "handshake" in str(error.reason), repr(error.reason)


def test_the_webhook_says_its_timeout_when_the_handshake_never_ends(silent: Silent) -> None:
    notifier = WebhookNotifier("hook", f"https://127.0.0.1:{silent.port}/hook", timeout=1)
    notice = notice_of(Alert(id="det0001", detection=detection(1), channels=("hook",)))
    _sent, error = ended(lambda: notifier.send(notice))
    assert isinstance(error, TransientError), repr(error)
    assert "no complete answer within the timeout (1s)" in str(error), error


def test_the_feed_fetch_says_its_timeout_when_the_handshake_never_ends(silent: Silent) -> None:
    url = f"https://127.0.0.1:{silent.port}/feed"
    _feed, error = ended(lambda: fetch_http(url, etag=None, modified=None, deadline=1, max_bytes=1000))
    assert isinstance(error, FetchFailed), repr(error)
    assert error.reason == "unreachable: no complete response within 1s (the feed's timeout)", error.reason
