"""kafka-python clients as watchfloor makes them: settings across versions, which errors mean "the broker is
away", and one log line per change of the broker's availability (not one per retry).

Reconnects. kafka-python backs off exponentially between reconnect attempts up to ``reconnect_backoff_max_ms``
(30 s by default), so a consumer that lost its broker for a few seconds took up to half a minute more to
notice it was back (``watchfloor archive`` resumed 35-55 s after a broker restart). watchfloor's clients cap
it at RECONNECT_BACKOFF_MAX_MS.
"""

from __future__ import annotations

import logging
import time
from typing import Any

RECONNECT_BACKOFF_MAX_MS = 1000
UNREACHABLE = (
    "NoBrokersAvailable",  # kafka-python 2.x: bootstrap failed
    "KafkaTimeoutError",  # 3.x bootstrap failure; metadata / flush / future timeouts in both
    "KafkaConnectionError",
    "NodeNotReadyError",
    "RequestTimedOutError",
    "NotLeaderForPartitionError",
    "LeaderNotAvailableError",
    "BrokerNotAvailableError",
    "CoordinatorNotAvailableError",
    "NotCoordinatorError",
    "UnknownTopicOrPartitionError",  # topics not created yet: auto-creation is off
)


def unreachable_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean "the broker cannot be reached (or is not ready) now": wait and try again."""
    try:
        import kafka.errors as kafka_errors
    except ImportError:  # pragma: no cover - exercised only without the extra
        return ()
    return tuple(getattr(kafka_errors, n) for n in UNREACHABLE if hasattr(kafka_errors, n))


def client_config(cls: Any, timeout_s: float | None = None, **wanted: Any) -> dict[str, Any]:
    """`wanted` settings for a kafka-python client class, with watchfloor's reconnect cap and, given
    `timeout_s`, the bootstrap timeout of either major version; settings the class does not know are left
    out (kafka-python 2.x and 3.x differ)."""
    config: dict[str, Any] = {"reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS, **wanted}
    if timeout_s is not None:
        timeout_ms = int(timeout_s * 1000)
        config.setdefault("request_timeout_ms", timeout_ms)
        config.setdefault("bootstrap_timeout_ms", timeout_ms)  # 3.x
        config.setdefault("api_version_auto_timeout_ms", timeout_ms)  # 2.x
    known = cls.DEFAULT_CONFIG
    return {k: v for k, v in config.items() if k in known}


class Availability:
    """The broker's availability as one process sees it, logged once per change.

    ``down(reason)`` while it was up logs a warning (what is away, why, what happens meanwhile); further
    failures log nothing above debug. ``up()`` after a ``down`` logs how long it was away. A broker outage
    thus leaves two lines per process, whatever the number of retries."""

    def __init__(self, what: str, logger: logging.Logger, *, meanwhile: str = "retrying") -> None:
        self.what = what
        self.log = logger
        self.meanwhile = meanwhile
        self.since: float | None = None  # monotonic time it went away; None while available

    @property
    def available(self) -> bool:
        return self.since is None

    def down(self, reason: object, *, meanwhile: str | None = None) -> None:
        if self.since is None:
            self.since = time.monotonic()
            self.log.warning("%s unreachable (%s); %s", self.what, _short(reason), meanwhile or self.meanwhile)
        else:
            self.log.debug("%s still unreachable (%s)", self.what, _short(reason))

    def up(self) -> None:
        if self.since is not None:
            self.log.warning("%s reachable again after %.1fs", self.what, time.monotonic() - self.since)
            self.since = None


def _short(reason: object) -> str:
    text = f"{type(reason).__name__}: {reason}" if isinstance(reason, BaseException) else str(reason)
    return text.splitlines()[0][:300] if text else "?"
