"""The distributed pipeline as the web server sees it: one bounded, cached look at the Kafka broker at a time."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from watchfloor.stream_processors.kafka.clients import Availability
from watchfloor.stream_processors.kafka.status import LagHistory, PipelineStatus, pipeline_status

if TYPE_CHECKING:
    from watchfloor.schemas.config import KafkaConfig

log = logging.getLogger(__name__)

FRESH_S = 10.0  # an answer is reused this long: a scrape storm asks the broker once per FRESH_S
WAIT_S = 2.0  # a request waits this long for a look under way; then it is served the answer before it
TIMEOUT_S = 3.0  # kafka-python's timeouts for one look (bootstrap, each request, the watermark reads)


@dataclass(frozen=True)
class KafkaView:
    """What the broker said at the last look, or why it could not be asked."""

    bootstrap: str
    prefix: str
    status: PipelineStatus | None = None  # the last look that succeeded; None when the last look failed
    asked_at: datetime | None = None  # when `status` was asked (the server's clock)
    behind: dict[str, float] = field(default_factory=dict)  # group -> seconds behind (LagHistory), with `status`
    error: str | None = None  # why the last look failed (then `status` is None)
    failures: int = 0  # looks that failed since the server started

    @property
    def up(self) -> bool:
        return self.status is not None


class KafkaProbe:
    """Asks the broker for the pipeline's status (`pipeline_status`, watermarks included) on a thread of its own.

    An answer younger than `fresh_s` is served as it is. An older one starts a new look (one at a time, never
    more) and the request waits up to `wait_s` for it, then is served what was known before: a broker that
    hangs or is down slows no request by more than `wait_s`, and while the last look failed none waits at all.
    Looks that fail are counted, and logged once when the broker goes and once when it is back
    (kafka.clients.Availability), not once per request."""

    def __init__(
        self,
        ask: Callable[[], PipelineStatus],
        *,
        bootstrap: str,
        prefix: str,
        group: str | None = None,
        fresh_s: float = FRESH_S,
        wait_s: float = WAIT_S,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.ask = ask
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.group = group or f"{prefix}-worker"  # the workers' consumer group (status.group_topics' default)
        self.fresh_s = fresh_s
        self.wait_s = wait_s
        self.now = now
        self.history = LagHistory()
        self.broker = Availability(
            f"Kafka broker {bootstrap} (the pipeline's status for /metrics and the status page)",
            log,
            meanwhile="the Kafka metrics say watchfloor_kafka_up 0 until it answers",
        )
        self._view = KafkaView(bootstrap, prefix, error="not asked yet")
        self._answered = False  # a look has ended (until then, a request waits for the first)
        self._lock = threading.Lock()
        self._looked_at = float("-inf")  # monotonic time the last look started
        self._looking: threading.Event | None = None  # set when the look under way ends

    def view(self) -> KafkaView:
        """The newest answer, asking again when it is older than `fresh_s` (waiting `wait_s` at most)."""
        with self._lock:
            done = self._looking
            if done is None and time.monotonic() - self._looked_at >= self.fresh_s:
                done = self._looking = threading.Event()
                self._looked_at = time.monotonic()
                threading.Thread(target=self._look, args=(done,), name="watchfloor-kafka-status", daemon=True).start()
            wait = done is not None and (self._view.up or not self._answered)
        if wait and done is not None:
            done.wait(self.wait_s)
        with self._lock:
            return self._view

    def _look(self, done: threading.Event) -> None:
        asked_at = self.now()
        try:
            st = self.ask()
            behind = self.history.observe(st, asked_at.timestamp())
        except Exception as e:  # any failure: the broker could not be asked, and the metrics say so
            log.debug("kafka status: the look failed", exc_info=True)
            text = str(e) if str(e).startswith(type(e).__name__) else f"{type(e).__name__}: {e}"  # kafka's say it
            with self._lock:
                v = self._view
                self._view = KafkaView(v.bootstrap, v.prefix, error=text[:300], failures=v.failures + 1)
                self._looking, self._answered = None, True
            self.broker.down(text, lasting=True)
        else:
            with self._lock:
                v = self._view
                self._view = KafkaView(
                    v.bootstrap, v.prefix, status=st, asked_at=asked_at, behind=behind, failures=v.failures
                )
                self._looking, self._answered = None, True
            self.broker.up()
        finally:
            done.set()


def kafka_probe(settings: KafkaConfig, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> KafkaProbe:
    """A probe of the pipeline `settings` (the config's `kafka:` section, with serve's --broker/--prefix) names."""

    def ask() -> PipelineStatus:
        return pipeline_status(
            settings.bootstrap, settings.prefix, worker_group=settings.group, timeout_s=TIMEOUT_S, watermarks=True
        )

    return KafkaProbe(ask, bootstrap=settings.bootstrap, prefix=settings.prefix, group=settings.group, now=now)
