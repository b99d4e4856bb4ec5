"""Webhook notifier: POSTs each notice as JSON. Only a 2xx answer to that POST counts as delivered.

Redirects are not followed: urllib would turn a redirected POST into a GET without the body and report the
GET's answer, so a 301/302 is a failure that names where the receiver points (configure that URL instead).
429/408/5xx and network errors are transient, other answers permanent; all stay outstanding and are retried.
The payload is {"alert": ..., "kind": ..., "key": ...} and, for a notice of a thread, "updates" (the alert it
follows up, revises or withdraws) and "thread" (its state); the delivery key goes in `Idempotency-Key`.

`timeout` bounds the whole attempt (connect, send, the answer's headers and the part of its body read), not each
socket read as urllib's does: a receiver trickling its answer a byte at a time kept `run --once` going for 702 s
(outside trial 16, M2). At the deadline a timer shuts the connection's socket, which ends the blocked read
(`infra.http_deadline`, shared with the feed fetch); the attempt is then a transient failure that may
have got through (resent with the same `Idempotency-Key`). Only the first `MAX_ANSWER` bytes of the answer's body
are read: the status is all that counts.
"""

from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.request
from urllib.parse import urljoin, urlsplit

import orjson

from watchfloor.infra.http_deadline import HttpDeadline
from watchfloor.schemas.events import Alert

from ..notice import Digest, Notice, as_notice
from .base import PermanentError, TransientError, parse_retry_after
from .file import record

USER_AGENT = "watchfloor-alerts/0.1"
MAX_ANSWER = 4096  # bytes of a receiver's answer read: only its status counts


def display_url(url: str) -> str:
    """scheme://host[:port] only: webhook paths and query strings often carry secrets."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises HTTPError with the 3xx answer


def payload(notice: Notice) -> dict[str, object]:
    rec = record(notice)
    alert = {k: rec.pop(k) for k in ("id", "detection", "channels")}
    return {"alert": alert, **rec}


class WebhookNotifier:
    """POST the notice to `url`. The delivery key is sent as `Idempotency-Key` so receivers can drop repeats."""

    def __init__(self, name: str, url: str, *, timeout: float = 10.0, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        if not parts.scheme or not parts.hostname:  # a token pasted for the URL, say: not repeated (a secret)
            raise ValueError(f"webhook {name}: not a URL (give an http(s) URL such as https://hooks.example/…)")
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"webhook {name}: only http(s) URLs are allowed, got {display_url(url)}")
        self.name = name
        self._url = url
        self.timeout = timeout
        self._headers = dict(headers or {})

    def in_flight(self) -> float:
        """One POST, up to `timeout`: how long it may still be on its way after its process was killed."""
        return float(self.timeout)

    def send(self, notice: Notice | Alert) -> str:
        notice = as_notice(notice)
        return self._post(orjson.dumps(payload(notice)), notice.key)

    def send_digest(self, digest: Digest) -> str:
        """POST {"digest": {...}, "kind": "digest", "key": ID}, with the same rules as an alert's."""
        return self._post(orjson.dumps({"digest": digest.to_json(), "kind": "digest", "key": digest.id}), digest.id)

    def _post(self, body: bytes, key: str) -> str:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": key,
            **self._headers,
        }
        req = urllib.request.Request(self._url, data=body, headers=headers, method="POST")
        where = f"webhook {self.name} ({display_url(self._url)})"
        watched = HttpDeadline()
        opener = urllib.request.build_opener(_NoRedirect, *watched.handlers())
        with watched.within(self.timeout):
            try:
                with opener.open(req, timeout=self.timeout) as resp:
                    if watched.expired:  # the headers were cut at the deadline (http.client reads the cut as their end)
                        raise TimeoutError
                    status = int(resp.status)
                    try:
                        resp.read(MAX_ANSWER)
                    except (OSError, ValueError, http.client.HTTPException):
                        pass  # the status is the answer: a body cut short (at the deadline, say) changes nothing
            except urllib.error.HTTPError as e:
                status = e.code
                retry_after = parse_retry_after(e.headers.get("Retry-After")) if e.headers else None
                location = e.headers.get("Location") if e.headers else None
                e.close()
                if 300 <= status < 400:
                    target = f" to {display_url(urljoin(self._url, location))}" if location else ""
                    raise PermanentError(
                        f"{where}: HTTP {status} redirect{target} not followed (a redirected POST loses its body): "
                        "configure the final URL",
                        channel_wide=True,
                    ) from None
                if status >= 500:  # the receiver failed while handling it: it may have taken it
                    raise TransientError(
                        f"{where}: HTTP {status}", retry_after, channel_wide=True, maybe_delivered=True
                    ) from None
                if status in (408, 429):
                    raise TransientError(
                        f"{where}: HTTP {status}", retry_after=retry_after, channel_wide=True
                    ) from None
                raise PermanentError(f"{where}: HTTP {status}", channel_wide=status in (401, 403, 404, 410)) from None
            except Exception as e:
                if watched.expired:  # shut at the deadline (whatever the read then raised): it may have got through
                    raise TransientError(
                        f"{where}: no complete answer within the timeout ({self.timeout:g}s)",
                        channel_wide=True,
                        maybe_delivered=True,
                    ) from None
                if not isinstance(e, urllib.error.URLError | OSError | http.client.HTTPException):
                    raise
                reason = e.reason if isinstance(e, urllib.error.URLError) else e
                unsent = isinstance(reason, ConnectionRefusedError | socket.gaierror)
                raise TransientError(
                    f"{where}: {type(reason).__name__}", channel_wide=True, maybe_delivered=not unsent
                ) from None
        if not 200 <= status < 300:
            raise PermanentError(f"{where}: unexpected HTTP {status}", channel_wide=True)
        return f"HTTP {status}"

    def __repr__(self) -> str:
        return f"WebhookNotifier(name={self.name!r}, url={display_url(self._url)!r})"
