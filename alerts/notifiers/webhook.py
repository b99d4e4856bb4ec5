"""Webhook notifier: POSTs the alert as JSON. 429/5xx/network errors are transient, other 4xx permanent."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import orjson

from watchfloor.schemas.events import Alert

from .base import PermanentError, TransientError, parse_retry_after

USER_AGENT = "watchfloor-alerts/0.1"


def display_url(url: str) -> str:
    """scheme://host[:port] only: webhook paths and query strings often carry secrets."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


class WebhookNotifier:
    """POST {"alert": ...} to `url`. The alert id is sent as `Idempotency-Key` so receivers can drop repeats."""

    def __init__(self, name: str, url: str, *, timeout: float = 10.0, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"webhook {name}: only http(s) URLs are allowed, got {display_url(url)}")
        self.name = name
        self._url = url
        self.timeout = timeout
        self._headers = dict(headers or {})

    def send(self, alert: Alert) -> str:
        body = orjson.dumps({"alert": alert.model_dump(mode="json")})
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": alert.id,
            **self._headers,
        }
        req = urllib.request.Request(self._url, data=body, headers=headers, method="POST")
        where = f"webhook {self.name} ({display_url(self._url)})"
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status = int(resp.status)
                resp.read()
        except urllib.error.HTTPError as e:
            status = e.code
            retry_after = parse_retry_after(e.headers.get("Retry-After")) if e.headers else None
            e.close()
            if status == 429 or status == 408 or status >= 500:
                raise TransientError(f"{where}: HTTP {status}", retry_after=retry_after) from None
            raise PermanentError(f"{where}: HTTP {status}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            reason = e.reason if isinstance(e, urllib.error.URLError) else e
            raise TransientError(f"{where}: {type(reason).__name__}") from None
        if not 200 <= status < 300:
            raise PermanentError(f"{where}: unexpected HTTP {status}")
        return f"HTTP {status}"

    def __repr__(self) -> str:
        return f"WebhookNotifier(name={self.name!r}, url={display_url(self._url)!r})"
