"""Fetch one feed over HTTP(S) within an overall deadline and a size cap that holds after decompression.

A socket timeout bounds each read, not the fetch: a server sending one byte every 0.5 s kept a 3 s timeout
busy for 45 s, and a 380 KB gzip body expanding to 300 MB was accepted (1.2 GB of memory). Here:

* The deadline covers the whole fetch (connect and TLS handshake, headers, body, redirects). A connect is bounded
  by a socket timeout of what is left of it; a timer shuts the connections' sockets down when it passes, which
  wakes a read blocked inside http.client at once (`infra.http_deadline`, which the webhook notifier
  uses too); the body loop also checks the clock between chunks. urllib stays in charge of redirects and proxies
  (its handlers are subclassed only to see the connections they open).
* The body is decompressed as it arrives (gzip, deflate: zlib with `max_length`), and the fetch fails as
  soon as either the bytes on the wire or the bytes after decompression pass `max_bytes`.
* Redirects: only to http(s) (urllib would follow one to ftp://, and it has no FTP handler here), and not
  to a loopback, private, link-local or other non-public address unless the configured URL is on an
  address of the same kind (a feed on localhost may redirect within localhost). The target's host is
  resolved to decide, before any connection to it; a refusal names the target ("redirect to
  http://10.0.0.5/x refused: ..."), and the feed error names the feed. The address each connection reaches is
  checked the same way (a name can resolve elsewhere the second time: DNS rebinding), unless through a proxy.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from watchfloor.infra.http_deadline import HttpDeadline
from watchfloor.schemas.redact import redact_url

USER_AGENT = "watchfloor/0.1 (+feed poller)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)
CHUNK = 64 * 1024


@dataclass
class HttpFeed:
    """A response read in full: status, lower-cased headers, the URL after redirects, the decoded body."""

    status: int
    headers: dict[str, str]
    final_url: str
    body: bytes


class FetchFailed(Exception):
    """The fetch did not give a usable response; `reason` says why in one line."""

    def __init__(self, reason: str, status: int | None = None, headers: dict[str, str] | None = None) -> None:
        # One line whatever the server or urllib wrote (a redirect loop's message was three: trial 48, LOW-4): it is
        # shown in the log and in `status`'s one line per source.
        reason = " ".join(reason.split())
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.headers = headers or {}


class _Connections(HttpDeadline):
    """The HTTP connections a fetch opens, their sockets shut down at its deadline (HttpDeadline); and, with a
    `policy`, the address each one reached checked against it (the name a redirect's check resolved may resolve
    elsewhere when the connection resolves it again: DNS rebinding)."""

    def __init__(self, policy: _AddressPolicy | None = None) -> None:
        super().__init__()
        self.policy = policy

    def connection(self, http_class: type[http.client.HTTPConnection], req: urllib.request.Request) -> Any:
        # An HTTPS request through a proxy is a tunnel: it has a tunnel host, and has_proxy() is false for it.
        return self.track(http_class, proxied=req.has_proxy() or bool(getattr(req, "_tunnel_host", None)))

    def track(self, http_class: Any, *, proxied: bool = False) -> Any:
        policy = None if proxied else self.policy  # through a proxy, the socket reaches the proxy, not the feed

        def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            conn: http.client.HTTPConnection = http_class(host, **kwargs)
            if policy is not None:
                connect = conn.connect

                def checked_connect() -> None:
                    connect()
                    sock = conn.sock
                    peer = str(sock.getpeername()[0]) if sock is not None else ""
                    problem = policy.problem(_address_kind(peer.split("%")[0], None)) if peer else None
                    if problem is not None:
                        conn.close()
                        raise FetchFailed(f"connection to {host} refused: {problem}")

                conn.connect = checked_connect  # type: ignore[method-assign]
            return self.watch(conn)

        return make


def _address_kind(host: str, port: int | None) -> tuple[str, str] | None:
    """(kind, address) of the first non-public address `host` is or resolves to, e.g. ("loopback",
    "127.0.0.1"); None when all are public, or when it does not resolve (the connection will say so)."""
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port or 80, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        # 0.0.0.0 (and "0", 0.x.x.x) connects to this host on Linux: loopback, not one more private address.
        if address.is_loopback or address.is_unspecified or (address.version == 4 and int(address) >> 24 == 0):
            return "loopback", str(address)
        if address.is_link_local:
            return "link-local", str(address)
        if address.is_private:
            return "private", str(address)
        if not address.is_global or address.is_multicast:
            return "non-public", str(address)
    return None


class _AddressPolicy:
    """Where a fetch may go: a public address, or one of the kind the feed's own URL is on (a feed on localhost may
    reach localhost, a feed on the office network that network). Its own kind is looked up once, when needed."""

    def __init__(self, feed_url: str) -> None:
        self._feed_url = feed_url
        self._feed_kind: str | None = None
        self._feed_kind_known = False

    def problem(self, found: tuple[str, str] | None, name: str | None = None) -> str | None:
        """Why an address `found` by _address_kind may not be reached (None: it may), `name` the host it is of."""
        if found is None:
            return None
        kind, address = found
        if not self._feed_kind_known:
            feed = urllib.parse.urlsplit(self._feed_url)
            own = _address_kind(feed.hostname or "", feed.port)
            self._feed_kind, self._feed_kind_known = (own[0] if own else None), True
        if kind == self._feed_kind:
            return None
        return f"{name or address} is a {kind} address ({address}) and the feed's own URL is not on one"


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """urllib's redirects, only to http(s), and to a non-public address only from a feed on one of that kind."""

    def __init__(
        self, feed_url: str, credentials: _Credentials | None = None, policy: _AddressPolicy | None = None
    ) -> None:
        super().__init__()
        self._feed_url = feed_url
        self._credentials = credentials or _Credentials()  # each for its own origin only
        self._policy = policy or _AddressPolicy(feed_url)

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        problem = self._problem(newurl)
        if problem is not None:
            fp.close()  # urllib closes it only after a redirect it follows
            raise FetchFailed(f"redirect to {redact_url(newurl)} refused: {problem}", code)
        # A redirect on the configured origin keeps its query_env parameters, as it keeps its headers.
        new = super().redirect_request(req, fp, code, msg, headers, self._credentials.with_query(newurl))
        if new is not None:
            # "/feed" -> "/feed/" on the same server: the credentials are its own, so they go along (to another
            # scheme, host or port, never). urllib carries no unredirected header over: each is added here or not.
            self._credentials.apply(new, newurl)
        return new

    def _problem(self, url: str) -> str | None:
        target = urllib.parse.urlsplit(url)
        if target.scheme not in ("http", "https"):
            return "only http and https redirects are followed"
        return self._policy.problem(_address_kind(target.hostname or "", target.port), target.hostname)


class _Decoder:
    """Content-Encoding decoding with a cap on the decoded size."""

    def __init__(self, encoding: str, max_bytes: int) -> None:
        self.encoding = encoding
        self.max_bytes = max_bytes
        self.out = bytearray()
        self._z: Any = None
        self._first = True

    def feed(self, chunk: bytes) -> None:
        if self.encoding in ("", "identity"):
            self.out += chunk
        else:
            if self._z is None:
                self._z = self._new(chunk)
            data = chunk
            while data:
                self.out += self._z.decompress(data, self.max_bytes + 1 - len(self.out))
                if len(self.out) > self.max_bytes:
                    break
                # Another gzip member after the end of this one, or input held back by max_length.
                data = self._z.unconsumed_tail
                if not data and self._z.eof and self._z.unused_data:
                    data, self._z = self._z.unused_data, self._new(self._z.unused_data)
        if len(self.out) > self.max_bytes:
            what = f"after {self.encoding} decompression " if self.encoding not in ("", "identity") else ""
            raise FetchFailed(f"response is larger than {self.max_bytes} bytes {what}(the feed's max_bytes)")

    def finish(self) -> bytes:
        if self._z is not None and not self._z.eof:
            raise FetchFailed(f"cannot decompress {self.encoding} response: it ends before its end of stream")
        return bytes(self.out)

    def _new(self, head: bytes) -> Any:
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self.encoding == "deflate":
            # zlib-wrapped as the RFC says, or raw deflate as some servers send
            zlib_header = len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
            return zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        raise FetchFailed(f"unsupported content-encoding {self.encoding!r}")


def _origin(url: str) -> Origin:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80)


Origin = tuple[str, str, int | None]


class _Credentials:
    """Headers and query parameters that go to one origin (scheme, host, port) each, never to another: the configured
    URL's (its `user:password@`, a source's `username`/`password_env`, `headers_env` and `query_env`), and a listed
    URL's own `user:password@`. Headers are added as unredirected headers, which urllib does not carry across a
    redirect; query parameters to the URL of each request to that origin that does not have them already."""

    def __init__(self) -> None:
        self.grants: list[tuple[Origin, dict[str, str], dict[str, str]]] = []

    def grant(self, url: str, headers: Mapping[str, str], query: Mapping[str, str] | None = None) -> None:
        if headers or query:
            self.grants.append((_origin(url), dict(headers), dict(query or {})))

    def cover(self, url: str) -> bool:
        """Whether any credentials go to `url`'s origin."""
        return any(origin == _origin(url) for origin, _headers, _query in self.grants)

    def apply(self, req: urllib.request.Request, url: str) -> None:
        target = _origin(url)
        for origin, headers, _query in self.grants:
            if origin == target:
                for name, value in headers.items():
                    req.add_unredirected_header(name, value)

    def with_query(self, url: str) -> str:
        """`url` with the query parameters granted to its origin that it lacks (a redirect's Location may carry
        them already: it is left as the server wrote it)."""
        target = _origin(url)
        params = {k: v for origin, _h, query in self.grants if origin == target for k, v in query.items()}
        if not params:
            return url
        parts = urllib.parse.urlsplit(url)
        present = {name for name, _v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)}
        extra = urllib.parse.urlencode([(k, v) for k, v in params.items() if k not in present])
        if not extra:
            return url
        return urllib.parse.urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))

    def without_query(self, url: str) -> str:
        """`url` without the granted query parameters (what a fetch reports as the URL it read: no secret in it)."""
        names = {k for _o, _h, query in self.grants for k in query}
        parts = urllib.parse.urlsplit(url)
        if not names or not parts.query:
            return url
        kept = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k not in names]
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(kept)))

    def scrub(self, text: str) -> str:
        """`text` with every granted query value (as written and as encoded in a URL) replaced by ***."""
        for _o, _h, query in self.grants:
            for value in query.values():
                for form in {value, urllib.parse.quote_plus(value), urllib.parse.quote(value, safe="")}:
                    if form:
                        text = text.replace(form, "***")
        return text


def _refused_hint(code: int, answered: str, asked: str, grants: _Credentials) -> str:
    """What a 401 or 403 means for the source's credentials: refused, held back on a redirect to another origin
    (configured, but never sent there), or none configured. (Many APIs answer a wrong key with 403, not 401.)"""
    if grants.cover(answered):
        what = "refused" if code == 401 else "refused, or lack access"
        return (
            f": the credentials sent were {what} (check username, and the variables password_env, headers_env and "
            "query_env name)"
        )
    if grants.grants:
        where = urllib.parse.urlsplit(answered)
        if _origin(answered) != _origin(asked):
            return (
                f": the credentials were not sent to {where.scheme}://{where.netloc}, where a redirect from "
                f"{redact_url(asked)} led (they go to the configured url's own origin only: point the url at the "
                "server that answers)"
            )
        return (
            f": the credentials were not sent to {where.scheme}://{where.netloc} (they go to the configured url's "
            "own origin only)"
        )
    if code == 403:
        return (
            ": the server refuses access (if it needs credentials: a source's username + password_env, headers_env or "
            "query_env)"
        )
    return (
        ": the server wants credentials, and none were sent to it (a source's username + password_env, headers_env "
        "or query_env)"
    )


def _credentials(url: str) -> tuple[str, str | None]:
    """A feed URL with `user:password@` in it: the URL without them, and the HTTP Basic authorization they make.
    (urllib would take them for part of the host name: "Name or service not known".)"""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return url, None
    user = urllib.parse.unquote(parts.username)
    password = urllib.parse.unquote(parts.password or "")
    host = parts.netloc.rsplit("@", 1)[1]
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return urllib.parse.urlunsplit(parts._replace(netloc=host)), f"Basic {token}"


def fetch_http(
    url: str,
    *,
    etag: str | None,
    modified: str | None,
    deadline: float,
    max_bytes: int,
    policy_url: str | None = None,
    credentials: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
) -> HttpFeed:
    """GET `url` within `deadline` seconds in all, with at most `max_bytes` before and after decoding.
    `policy_url`: the configured URL that named `url` (a GDELT export listed in its lastupdate.txt), whose
    address kind `url` and its redirects are held to, as redirects are to the feed's; `url` is refused before
    any connection when it is not. `credentials`: headers (Authorization, X-Api-Key) for the configured URL
    (`policy_url`, else `url`), sent with each request, the first or a redirect's, to its origin (scheme, host,
    port) and to no other, as its `user:password@` is (HTTP Basic). `query`: query parameters (an API key) for the
    same origin, added to each request's URL there; the URL returned and every error leave them out. Raises
    FetchFailed (a 304 is FetchFailed with status 304 and the response headers)."""
    started = time.monotonic()
    ends = started + deadline
    url, authorization = _credentials(url)
    configured, configured_authorization = _credentials(policy_url) if policy_url is not None else (url, None)
    grants = _Credentials()
    own = dict(credentials or {})
    if configured_authorization:
        own.setdefault("Authorization", configured_authorization)
    grants.grant(configured, own, query)
    if authorization:  # the URL's own user:password@ (a listing may name a file with its own), for its origin
        grants.grant(url, {"Authorization": authorization})
    policy = _AddressPolicy(configured)
    if policy_url is not None:
        # What a listing names is the listing server's to choose: a public lastupdate.txt naming an address on
        # this host or its network would reach it as a redirect there would.
        target = urllib.parse.urlsplit(url)
        if target.scheme not in ("http", "https"):
            raise FetchFailed(f"{redact_url(url)} refused: only http and https are fetched")
        problem = policy.problem(_address_kind(target.hostname or "", target.port), target.hostname)
        if problem is not None:
            raise FetchFailed(f"{redact_url(url)} refused: {problem}")
    conns = _Connections(policy)
    # build_opener's set without its FTP, file and data handlers, and with the redirect policy above.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        *conns.handlers(),
        urllib.request.HTTPDefaultErrorHandler(),
        _RedirectHandler(url, grants, policy),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    req = urllib.request.Request(
        grants.with_query(url), headers={"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
    )
    # Not sent on to another origin a redirect points to: the credentials are the configured server's.
    grants.apply(req, url)
    if etag:
        req.add_header("If-None-Match", etag)
    if modified:
        req.add_header("If-Modified-Since", modified)

    def late() -> FetchFailed:
        return FetchFailed(f"unreachable: no complete response within {deadline:g}s (the feed's timeout)")

    with conns.within(deadline):
        try:
            try:
                resp = opener.open(req, timeout=deadline)
            except urllib.error.HTTPError as e:
                headers = {k.lower(): v for k, v in (e.headers or {}).items()}
                e.close()
                status_line = f"HTTP {e.code} {e.reason}".rstrip()
                if 300 <= e.code < 400 and "infinite loop" in str(e.reason):  # urllib's HTTPRedirectHandler gave up
                    last = str(e.reason).rsplit("was:", 1)[-1].strip()
                    status_line = (
                        f"HTTP {e.code}: redirect loop (a URL redirected to again and again, or more than "
                        f"{_RedirectHandler.max_redirections} redirects)"
                        + (f"; the last redirect said {last!r}" if last else "")
                    )
                if e.code in (401, 403):  # what the operator can do about it
                    status_line += _refused_hint(e.code, e.geturl() or url, url, grants)
                raise FetchFailed(status_line, e.code, headers) from None
            except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
                if conns.expired or time.monotonic() >= ends:
                    raise late() from None
                reason = e.reason if isinstance(e, urllib.error.URLError) else f"{type(e).__name__}: {e}"
                if isinstance(reason, TimeoutError | socket.timeout):
                    raise late() from None
                raise FetchFailed(f"unreachable: {reason}") from None
            with resp:
                status: int = resp.status
                headers = {k.lower(): v for k, v in resp.headers.items()}
                decoder = _Decoder(headers.get("content-encoding", "").strip().lower(), max_bytes)
                try:
                    body = _read_body(resp, decoder, max_bytes, ends, conns, late)
                except FetchFailed as e:
                    e.status = e.status or status
                    raise
                except zlib.error as e:
                    raise FetchFailed(f"cannot decompress {decoder.encoding} response: {e}", status) from None
                except (OSError, http.client.HTTPException) as e:
                    if conns.expired or time.monotonic() >= ends:
                        raise late() from None
                    raise FetchFailed(f"unreachable: {type(e).__name__}: {e}", status) from None
                return HttpFeed(status, headers, grants.without_query(resp.geturl()), body)
        except FetchFailed as e:
            scrubbed = grants.scrub(e.reason)
            if scrubbed == e.reason:
                raise
            raise FetchFailed(scrubbed, e.status, e.headers) from None


def _read_body(
    resp: http.client.HTTPResponse,
    decoder: _Decoder,
    max_bytes: int,
    ends: float,
    conns: _Connections,
    late: Any,
) -> bytes:
    wire = 0
    while True:
        if time.monotonic() >= ends or conns.expired:
            raise late()
        chunk = resp.read1(CHUNK)
        if not chunk:
            if conns.expired:  # the deadline's shutdown reads as an early end
                raise late()
            return decoder.finish()
        wire += len(chunk)
        if wire > max_bytes:
            raise FetchFailed(f"response is larger than {max_bytes} bytes (the feed's max_bytes)")
        decoder.feed(chunk)
