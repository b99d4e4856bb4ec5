"""The Kafka publisher (acks=all, idempotent) with a local spool for outages, and the write-only KafkaEventLog.

``KafkaPublisher.publish(events)`` returns only once the broker acknowledged every record (``acks=all``,
idempotent producer). When the broker cannot be reached the events go to a local JSONL spool (fsync'd)
instead, and the next ``publish`` (or an explicit ``drain_spool``) sends the spool first, in order.
Delivery is at least once: a record can be sent twice (a drain interrupted after the broker acked it),
never lost. Downstream deduplicates by event id.

Once a try has missed (the broker is away), the publisher stops trying: each publish goes to the spool at disk
speed, and the broker is probed every ``probe_every_s`` (PROBE_EVERY_S) instead, a connection and a client's
bootstrap bounded by PROBE_TIMEOUT_S (a stopped broker refuses the connection at once). When a probe finds it
answering, the next publish (or ``drain_spool``) sends the spool, then its own events. Trying the dead broker for the
whole ``timeout_s`` at each batch moved ~30 documents/s while it was away (outside trial 72, LOW-2: a GDELT day of
100k rows would have taken ~50 minutes). The outage is logged once, again after 30 s and then every 5 minutes
(BROKER_REMINDERS, at the probes), and once when a try goes through again.

Document records carry their event time (``published_at``) as the Kafka timestamp, so a backtest can seek
by time with ``offsets_for_times`` (``reader.replay_from_kafka``); that is why the documents topic has no
time-based retention. After the documents of a publish, the publisher appends a watermark record (an
envelope of type ``watermark``, payload ``{"partition": p, "time": W, "idle": false}``) to EVERY documents
partition. W is the watermark the caller passed as a ``watermark`` event among the events (the relay's:
per origin, engine/eventtime.py), else the newest published_at of the batch's documents without an origin
(a stream that is its own clock); documents with an origin never move it by themselves. Workers take it as
"this partition has seen that time": partitions that got no documents move on too, so correlate partitions
close absence windows and drop old state without timers (see ``partition``). Readers of the documents topic
skip these records.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from watchfloor.schemas.events import DOCUMENT_TYPES, Event, watermark_event
from watchfloor.schemas.topics import DEFAULT_PREFIX, TopicNames

from ..ports import StoredEvent
from .clients import Availability, client_config, close_producer, make_client, unreachable_errors
from .codec import RESENT, WATERMARK, Rejected, decode_event, encode_event, record_timestamp_ms
from .spool import Spool, unspool
from .topics import DEFAULT_PARTITIONS, bootstrap_servers, ensure_topics, reach, route_event
from .unreachable import BROKER_REMINDERS

log = logging.getLogger(__name__)

PROBE_EVERY_S = 5.0  # while the broker is away, how often it is probed (how soon a broker back gets the spool)
PROBE_TIMEOUT_S = 2.0  # a probe's connection and bootstrap each wait at most this (at most `timeout_s`)


class _ExpiredBatches(logging.Filter):
    """kafka-python warns once per partition batch it expires while the broker is away ("Failed to produce messages
    to topic-partition … KafkaTimeoutError: Expiring 15 record(s) …"): read as data loss, 9 lines in a 2.5-minute
    outage (outside trial 31, L1). The send's future fails the same way, and the publisher spools those events and
    says the outage in one line (Availability), so these are dropped; other failures still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (str(record.msg).startswith("Failed to produce messages") and "Expiring" in record.getMessage())


logging.getLogger("kafka.producer.producer_batch").addFilter(_ExpiredBatches())

try:  # kafka-python is the optional "kafka" extra
    import kafka
except ImportError:  # pragma: no cover - exercised only without the extra
    kafka = None


@dataclass
class PublishResult:
    sent: int = 0  # acknowledged by the broker in this call (spooled events drained included)
    spooled: int = 0  # written to the local spool because the broker could not be reached
    drained: int = 0  # of `sent`, how many came from the spool

    @property
    def ok(self) -> bool:
        return self.spooled == 0


class KafkaPublisher:
    """Publishes events to the watchfloor topics; spools locally (to `spool_path`, a file of this publisher's
    own: watchfloor.wiring.spool_path) while the broker is unreachable."""

    def __init__(
        self,
        bootstrap: str,
        topic_prefix: str = DEFAULT_PREFIX,
        *,
        partitions: int = DEFAULT_PARTITIONS,
        spool_path: str | os.PathLike[str],
        timeout_s: float = 15.0,
        linger_ms: int = 5,
        client_id: str | None = None,
        watermarks: bool = True,
        probe_every_s: float = PROBE_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        probe: Callable[[], None] | None = None,
    ) -> None:
        """`probe_every_s`: while the broker is away, the time between probes (module docstring); `clock`: the
        monotonic clock the probes and the outage's reminders are timed by; `probe`: what a probe does (raises one of
        the unreachable errors while the broker is away), by default `probe_broker`."""
        if kafka is None:  # pragma: no cover
            raise RuntimeError("kafka-python is not installed (pip install 'watchfloor[kafka]')")
        self.bootstrap = bootstrap
        self.topics = TopicNames(topic_prefix)
        self.partitions = partitions
        self.spool_path = Path(spool_path)
        self.spool = Spool(self.spool_path)
        self.timeout_s = timeout_s
        self.linger_ms = linger_ms
        self.client_id = client_id or f"{topic_prefix}-publisher"
        self.watermarks = watermarks
        self._producer: Any = None
        # Set when the process is asked to stop: no new try of the broker is made, what comes is spooled, so a stop
        # waits at most for the try in progress (timeout_s), not for one per publish left in the pass.
        self.stop: threading.Event | None = None
        self.tries = 0  # tries of the broker (sends with their flush), each bounded by timeout_s
        self.probes = 0  # probes of a broker away (module docstring), each bounded by PROBE_TIMEOUT_S
        self.probe_every_s = probe_every_s
        self.clock = clock
        self.probe = probe or self.probe_broker
        self._probe_at: float | None = None  # while the broker is away: when it is probed next (else None)
        # Documents the broker acknowledged, since this publisher was made: all, and those sent from the spool.
        self.documents_sent = 0
        self.documents_drained = 0
        self._unreachable = unreachable_errors()
        self.broker = Availability(
            f"Kafka broker {self.bootstrap}",
            log,
            meanwhile=f"spooling events to {self.spool_path} until it is back",
            remind=BROKER_REMINDERS,
            clock=clock,
        )

    # -- lifecycle --

    def ensure_topics(self) -> list[str]:
        return ensure_topics(self.bootstrap, self.topics.prefix, self.partitions, timeout_s=self.timeout_s)

    def close(self) -> None:
        if self._producer is not None:
            try:
                close_producer(self._producer, self.timeout_s)
            except Exception:  # closing a producer whose broker is gone must not raise
                log.debug("kafka: error closing producer", exc_info=True)
            self._producer = None

    def __enter__(self) -> KafkaPublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def client_settings(self) -> dict[str, Any]:
        """The kafka-python settings that make `timeout_s` the bound of one try (config kafka.publish_timeout):
        every wait of a try on a broker that does not answer ends after it, instead of kafka-python's own
        defaults (a send waits 60 s for metadata, a record is retried for 120 s, a bootstrap waits 30 s)."""
        timeout_ms = int(self.timeout_s * 1000)
        request_ms = min(timeout_ms, 30_000)
        return {
            "max_block_ms": timeout_ms,  # send() and partitions_for() waiting for metadata (no topic, broker down)
            "bootstrap_timeout_ms": timeout_ms,  # 3.x: the constructor's first contact
            "api_version_auto_timeout_ms": timeout_ms,  # 2.x: the same
            "request_timeout_ms": request_ms,
            # must be at least request_timeout_ms + linger_ms (kafka-python refuses less)
            "delivery_timeout_ms": max(timeout_ms, request_ms + self.linger_ms),
        }

    def _make_producer(self) -> Any:
        config = client_config(
            kafka.KafkaProducer,
            bootstrap_servers=bootstrap_servers(self.bootstrap),
            client_id=self.client_id,
            acks="all",
            retries=5,
            enable_idempotence=True,  # kafka-python >= 2.1 / 3.x; dropped when unknown (2.0.x)
            max_in_flight_requests_per_connection=5 if _idempotence_supported() else 1,
            linger_ms=self.linger_ms,
            allow_auto_create_topics=False,
            **self.client_settings(),
        )
        return make_client(kafka.KafkaProducer, config)

    # -- publishing --

    def publish(self, events: Sequence[Event], resent: Collection[str] = ()) -> PublishResult:
        """Send `events`, waiting for the broker's acknowledgement. The spool, if any, is sent first.
        The documents whose id is in `resent` (`produce --resend`) carry the wf-resent header (codec.RESENT), in the
        spool too.

        Returns when every event is either acknowledged or safely in the spool (see `PublishResult`).
        Errors other than "broker unreachable" (e.g. a record too large) are raised."""
        result = PublishResult()
        with self.spool.locked():
            # A stop: no new try, the next start sends them from the spool. A broker away: no try until a probe
            # finds it answering (module docstring).
            if self.stopping or not self._may_try():
                self.spool.append(events, resent)
                result.spooled = len(events)
                return result
            drained, spool_left = self._drain_locked()
            result.drained = drained
            result.sent += drained
            if spool_left:  # broker still unreachable: keep order, queue behind the spool
                self.spool.append(events, resent)
                result.spooled = len(events)
                return result
            if not events:
                return result
            try:
                self._send_all(events, resent)
            except self._unreachable as e:
                self.missed(e)
                log.debug("kafka: spooling %d event(s) to %s", len(events), self.spool_path)
                self.spool.append(events, resent)
                result.spooled = len(events)
                return result
            self._answered()
            result.sent += len(events)
        return result

    def append(self, events: Sequence[Event], resent: Collection[str] = ()) -> int:
        """EventLog-style append: how many events were published or spooled (Kafka does not deduplicate);
        `resent` as for `publish`."""
        r = self.publish(events, resent)
        return r.sent - r.drained + r.spooled

    @property
    def stopping(self) -> bool:
        """A stop was asked (`stop` is set): publish spools without trying the broker, drain_spool does nothing."""
        return self.stop is not None and self.stop.is_set()

    def drain_spool(self) -> int:
        """Send what the spool holds; returns how many were acknowledged (0 when the broker is still down, or when
        stopping). While the broker is away, only when a probe is due and finds it answering."""
        if self.stopping:
            return 0
        with self.spool.locked():
            if not self._may_try():
                return 0
            drained, _left = self._drain_locked()
            return drained

    # -- the broker away --

    @property
    def away(self) -> bool:
        """A try missed and none went through since: publishes are spooled without one until a probe answers."""
        return self._probe_at is not None

    def probe_in(self) -> float | None:
        """Seconds until the next probe of a broker away (0: due now); None while it is not away."""
        if self._probe_at is None:
            return None
        return max(0.0, self._probe_at - self.clock())

    def rest(self, stop: threading.Event, seconds: float) -> bool:
        """Wait `seconds` (between two passes of `produce`), or until `stop` is set (True then). While the broker is
        away it is probed at its probe times meanwhile and the spool sent once it answers: a broker back gets the spool
        without waiting for the next poll (a poll_interval of minutes), and the outage's reminders (after 30 s, then
        every 5 minutes) come on time. Timed by `clock`; `stop.wait` is what waits."""
        end = self.clock() + seconds
        while True:
            left = end - self.clock()
            if left <= 0:
                return stop.is_set()
            probe = self.probe_in()
            if stop.wait(left if probe is None else min(left, probe)):
                return True
            if self.probe_in() == 0:
                self.drain_spool()

    def missed(self, reason: BaseException) -> None:
        """A try (or a first contact) found the broker away: said (once per outage), and no try is made until a
        probe, `probe_every_s` from now, finds it answering."""
        self.broker.down(reason)
        self._reset_producer()
        self._probe_at = self.clock() + self.probe_every_s

    def _answered(self) -> None:
        self.broker.up()
        self._probe_at = None

    def _may_try(self) -> bool:
        """Whether a try of the broker is made now: always while it is not away; while it is, when a probe is due
        and finds it answering (a probe that does not: said as the outage's reminder when one is due)."""
        if self._probe_at is None:
            return True
        if self.clock() < self._probe_at:
            return False
        self.probes += 1
        try:
            self.probe()
        except self._unreachable as e:
            self.broker.down(e)
            self._probe_at = self.clock() + self.probe_every_s
            return False
        self._probe_at = None  # (the try says whether it is back: "reachable again" once one goes through)
        return True

    def probe_broker(self) -> None:
        """Raise one of the unreachable errors unless the broker answers: a connection to one of its bootstrap
        servers (a stopped broker refuses at once), then a client's bootstrap; each waits at most PROBE_TIMEOUT_S
        (at most `timeout_s`)."""
        timeout_s = min(self.timeout_s, PROBE_TIMEOUT_S)
        refused: list[str] = []
        for server in bootstrap_servers(self.bootstrap).split(","):
            host, _, port = server.strip().rpartition(":")
            try:
                socket.create_connection((host.strip("[]") or "localhost", int(port)), timeout=timeout_s).close()
            except (OSError, ValueError) as e:
                refused.append(f"{server.strip()}: {e}")
                continue
            break
        else:
            raise kafka.errors.KafkaConnectionError("; ".join(refused))
        reach(self.bootstrap, timeout_s)

    def spooled(self) -> int:
        """Events waiting in the spool."""
        with self.spool.locked():
            return len(self.spool.read())

    def spool_contents(self) -> tuple[int, int]:
        """(documents, records) waiting in the spool: the records are the documents and the watermark records
        written after them."""
        with self.spool.locked():
            lines = self.spool.read()
        return sum(1 for raw in lines if _record_type(raw) in DOCUMENT_TYPES), len(lines)

    def _send_all(self, events: Sequence[Event], resent: Collection[str] = ()) -> None:
        self.tries += 1
        if self._producer is None:
            self._producer = self._make_producer()
        producer = self._producer
        futures = []
        now_ms = int(time.time() * 1000)  # no record is stamped later than this (see record_timestamp_ms)
        given: float | None = None  # a watermark the caller worked out (the relay: per origin)
        newest: float | None = None  # else: the newest document without an origin (an in-order stream)
        for ev in events:
            if ev.type == WATERMARK:
                given = ev.payload.get("time")
                continue
            if ev.type in DOCUMENT_TYPES and ev.origin is None:
                t = ev.time.timestamp()
                newest = t if newest is None or t > newest else newest
            topic, key = route_event(ev, self.topics)
            headers = list(RESENT.items()) if resent and ev.id in resent and ev.type in DOCUMENT_TYPES else None
            futures.append(
                producer.send(
                    topic,
                    key=key.encode("utf-8"),
                    value=encode_event(ev),
                    timestamp_ms=record_timestamp_ms(ev, now_ms),
                    headers=headers,
                )
            )
        mark_time = given if given is not None else newest
        if self.watermarks and mark_time is not None:
            # Behind this batch's documents in every partition (one producer keeps per-partition order).
            partitions = producer.partitions_for(self.topics.documents) or ()
            for p in sorted(partitions):
                mark = watermark_event(p, mark_time, idle=False)
                futures.append(
                    producer.send(
                        self.topics.documents,
                        partition=p,
                        value=encode_event(mark),
                        timestamp_ms=record_timestamp_ms(mark, now_ms),
                    )
                )
        producer.flush(timeout=self.timeout_s)
        for fut in futures:  # raises the first failure
            fut.get(timeout=self.timeout_s)
        self.documents_sent += sum(1 for ev in events if ev.type in DOCUMENT_TYPES)

    def _reset_producer(self) -> None:
        # An idempotent producer that saw a timeout may hold stale sequence state; start afresh next time.
        # Its undelivered records are in the spool: dropped at once (close_producer), not left to its I/O thread and
        # its destructor.
        if self._producer is not None:
            try:
                close_producer(self._producer, 0)
            except Exception:
                log.debug("kafka: error closing producer", exc_info=True)
            self._producer = None

    # -- spool --

    def _drain_locked(self, batch: int = 500) -> tuple[int, bool]:
        """(events acknowledged, whether some are still spooled). Called with the spool lock held."""
        lines = self.spool.read()
        if not lines:
            return 0, False
        sent = 0
        while sent < len(lines):
            chunk = lines[sent : sent + batch]
            events: list[Event] = []
            resent: set[str] = set()
            for line in chunk:
                raw, again = unspool(line)
                try:
                    events.append(decode_event(raw))
                except Rejected:  # cannot happen for lines we wrote; never let one block the spool
                    log.error("kafka: dropping unreadable spool line: %r", raw[:200])
                    continue
                if again:
                    resent.add(events[-1].id)
            try:
                self._send_all(events, resent)
            except self._unreachable as e:
                self.missed(e)
                log.debug("kafka: %d event(s) stay spooled", len(lines) - sent)
                break
            self._answered()
            self.documents_drained += sum(1 for ev in events if ev.type in DOCUMENT_TYPES)
            sent += len(chunk)
        remaining = lines[sent:]
        if sent:
            # Rewrite the rest (atomically). A crash before this line re-sends the acked chunk: at least once.
            self.spool.replace(remaining)
            log.info("kafka: drained %d spooled event(s) to %s", sent, self.bootstrap)
        return sent, bool(remaining)


class KafkaEventLog(KafkaPublisher):
    """The publisher behind the `EventLog` port, so `watchfloor.producers.publish.ingest` can write to Kafka.

    Kafka here is write-only: `append` publishes (or spools); reading is `reader.replay_from_kafka`."""

    def read(self, after: int = 0, *, types: Collection[str] | None = None, limit: int = 1000) -> list[StoredEvent]:
        raise NotImplementedError("KafkaEventLog is write-only; read with stream_processors.kafka.reader")

    def read_payloads(
        self, after: int = 0, *, types: Collection[str] | None = None, limit: int = 1000
    ) -> list[tuple[int, str]]:
        raise NotImplementedError("KafkaEventLog is write-only; read with stream_processors.kafka.reader")

    def head(self) -> int:
        raise NotImplementedError("KafkaEventLog is write-only; Kafka has no global position")

    def read_latest(
        self,
        before: int | None = None,
        *,
        types: Collection[str] | None = None,
        key: str | None = None,
        limit: int = 1000,
    ) -> list[StoredEvent]:
        raise NotImplementedError("KafkaEventLog is write-only; read with stream_processors.kafka.reader")

    def read_ids(self, ids: Collection[str]) -> list[StoredEvent]:
        raise NotImplementedError("KafkaEventLog is write-only; read with stream_processors.kafka.reader")

    def detections_of(self, alert_ids: Collection[str]) -> list[StoredEvent]:
        raise NotImplementedError("KafkaEventLog is write-only; read with stream_processors.kafka.reader")

    def alert_ids_starting(self, prefix: str, limit: int = 10) -> list[str]:
        raise NotImplementedError("KafkaEventLog is write-only; read with stream_processors.kafka.reader")

    def count(
        self, *, types: Collection[str] | None = None, after: int = 0, key: str | None = None, up_to: int | None = None
    ) -> int:
        raise NotImplementedError("KafkaEventLog is write-only")


def _record_type(raw: bytes) -> str | None:
    """The event type of a spool line (None: unreadable)."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return obj.get("type") if isinstance(obj, dict) else None


def _idempotence_supported() -> bool:
    return kafka is not None and "enable_idempotence" in kafka.KafkaProducer.DEFAULT_CONFIG
