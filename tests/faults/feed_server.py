"""A local HTTP server with feeds that misbehave on purpose: slow drip, headers that never end, a gzip bomb.

`hostile_feeds` (fixture) serves
  /ok.xml        a small RSS feed with entries of its own, at once
  /drip.xml      a valid feed body sent one byte every `drip_interval` seconds (about a minute in all)
  /stall.xml     a status line, then nothing: the headers never end
  /bomb.xml      a gzip body of ~70 KB that expands to 64 MiB (Content-Encoding: gzip)
  /redirect      302 to /ok.xml
  /redirect-to?U 302 to the URL U (percent-encoded), wherever that is
  /private.xml   /ok.xml's feed behind HTTP Basic authentication (reader / s3cret), else 401; the
                 Authorization header of each request to it is kept in `authorizations`
  /private-moved 302 to /private.xml on the same server
  /bad-chars.xml three entries, the second with character references to no character (a lone surrogate, a
                 code point past U+10FFFF, a number past any integer type)
and counts what it sent, so a test can tell how far a fetch got without reading a clock.
"""

from __future__ import annotations

import base64
import gzip
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from tests.fixtures.http_server import QuietHandler, serving

DRIP_BYTES = 120


def rss(prefix: str, n: int = 3) -> bytes:
    items = "".join(
        f"<item><title>{prefix} item {i}</title><link>https://{prefix}.example/{i}</link>"
        f"<description>Harbour figures for week {i}.</description>"
        f"<pubDate>Mon, 0{i + 1} Jan 2024 10:00:00 +0000</pubDate></item>"
        for i in range(n)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{prefix}</title>{items}</channel></rss>'.encode()


def bad_chars_feed() -> bytes:
    items = [
        ("First report", "Harbour figures for the week."),
        ("Second &#55296; report", "Cranes &#x110000; idle &#99999999999999999999; at the terminal."),
        ("Third report", "Ferries back on schedule."),
    ]
    body = "".join(
        f"<item><title>{t}</title><link>https://chars.example/{i}</link><description>{d}</description>"
        f"<pubDate>Mon, 0{i + 1} Jan 2024 10:00:00 +0000</pubDate></item>"
        for i, (t, d) in enumerate(items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>chars</title>{body}</channel></rss>'.encode()


@dataclass
class HostileFeeds:
    base: str = ""
    drip_interval: float = 0.5
    drip_sent: int = 0  # bytes of /drip.xml sent so far (across requests)
    during_drip: list[Callable[[], None]] = field(default_factory=list)  # called between drip bytes
    stop: threading.Event = field(default_factory=threading.Event)
    authorizations: list[str | None] = field(default_factory=list)  # what each request to /private.xml sent

    def url(self, path: str) -> str:
        return self.base + path


def _bomb() -> bytes:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>bomb</title><description>'
    return gzip.compress(body + b" " * (64 * 1024 * 1024) + b"</description></channel></rss>", compresslevel=9)


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    return _bomb()


@pytest.fixture
def hostile_feeds(gzip_bomb: bytes) -> Iterator[HostileFeeds]:
    state = HostileFeeds()
    drip_body = rss("drip", 1).ljust(DRIP_BYTES, b" ")[:DRIP_BYTES]

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            try:
                self._get()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up: that is the point

        def _get(self) -> None:
            if self.path == "/ok.xml":
                self._send(rss("ok"), {})
            elif self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "/ok.xml")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path.startswith("/redirect-to?"):
                self.send_response(302)
                self.send_header("Location", urllib.parse.unquote(self.path.split("?", 1)[1]))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/private.xml":
                sent = self.headers.get("Authorization")
                state.authorizations.append(sent)
                if sent == "Basic " + base64.b64encode(b"reader:s3cret").decode():
                    self._send(rss("ok"), {})
                else:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="feeds"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
            elif self.path == "/private-moved":
                self.send_response(302)
                self.send_header("Location", "/private.xml")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/bad-chars.xml":
                self._send(bad_chars_feed(), {})
            elif self.path == "/bomb.xml":
                self._send(gzip_bomb, {"Content-Encoding": "gzip"})
            elif self.path == "/stall.xml":
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                self.wfile.flush()
                state.stop.wait(60)
            elif self.path == "/drip.xml":
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(drip_body)))
                self.end_headers()
                for i in range(len(drip_body)):
                    if state.stop.is_set():
                        return
                    self.wfile.write(drip_body[i : i + 1])
                    self.wfile.flush()
                    state.drip_sent += 1
                    for hook in state.during_drip:
                        hook()
                    time.sleep(state.drip_interval)
            else:
                self.send_error(404)

        def _send(self, body: bytes, extra: dict[str, str]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

    with serving(Handler) as base:
        state.base = base
        try:
            yield state
        finally:
            state.stop.set()  # before the server stops: the slow handlers end their drip
