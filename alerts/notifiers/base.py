"""The notifier contract: `send(alert)` delivers one alert to one channel, or says how it failed.

Notifiers do not retry: the dispatcher owns retries. They classify each failure instead:
`TransientError` (worth trying again, maybe after `retry_after` seconds) or `PermanentError` (don't).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol, runtime_checkable

from watchfloor.schemas.events import Alert


class NotifierError(Exception):
    """A delivery failed. Its message must never contain a secret (token, webhook secret path)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransientError(NotifierError):
    """Worth retrying: rate limit, server error, network trouble. `retry_after` is the server's hint, in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(NotifierError):
    """Retrying cannot help: bad channel, bad credentials, rejected payload."""


@runtime_checkable
class Notifier(Protocol):
    """Delivers alerts to one configured channel."""

    name: str

    def send(self, alert: Alert) -> str:
        """Deliver `alert`; return a detail for the ledger (e.g. the Slack message ts).

        Raises TransientError or PermanentError.
        """
        ...


@runtime_checkable
class Reconciling(Protocol):
    """A notifier that can tell whether an alert already reached its channel (e.g. Slack, whose
    messages carry the alert id). The dispatcher asks it before re-sending an interrupted delivery."""

    def find_delivered(self, alert: Alert) -> str | None:
        """A detail (e.g. the message ts) if `alert` was delivered already, else None. Raises
        TransientError or PermanentError when it cannot tell."""
        ...


def redact(text: str, *secrets: str | None, mask: str = "[redacted]") -> str:
    """`text` with every occurrence of each non-empty secret replaced by `mask`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask)
    return text


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return max(seconds, 0.0)
