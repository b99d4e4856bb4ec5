"""Kafka as the event log (distributed mode): topics, a durable publisher, and a local spool for outages.

Topics, for a prefix P (default ``watchfloor``):

==================  ==========  ==================================================================
topic               key         what
==================  ==========  ==================================================================
P.documents         doc id      input documents (news.article / official.statement), kept forever
P.signals           doc id      signals, written by the extract agent to the documents' partition (an
                                output for observers: the pipeline does not read it back)
P.correlate         group key   signals routed by (detection, group) by the extract agent, plus watermarks
P.detections        det. id     detections; one partition, so a single worker dispatches alerts
P.dead-letters      event id    rejected input and late signals, with the reason
==================  ==========  ==================================================================

Every value is the :class:`watchfloor.schemas.events.Event` envelope as JSON (orjson), ``schema_version`` included.
Document records carry their event time (``published_at``) as the Kafka timestamp, so a backtest can seek
by time with ``offsets_for_times`` (see ``stream_processors.kafka_replay``); that is why the documents topic
has no time-based retention (``retention.ms=-1``): an old article would otherwise be deleted at once.

After the documents of a publish, the publisher appends a watermark record (an envelope of type
``watermark``, payload ``{"partition": p, "time": newest published_at of the batch, "idle": false}``) to
EVERY documents partition. Workers take it as "this partition has seen that time": partitions that got no
documents move on too, so the correlate step can apply signals in event-time order without timers (see
``stream_processors.faust_app``). Readers of the documents topic skip these records.

``KafkaPublisher.publish(events)`` returns only once the broker acknowledged every record (``acks=all``,
idempotent producer). When the broker cannot be reached the events go to a local JSONL spool (fsync'd)
instead, and the next ``publish`` (or an explicit ``drain_spool``) sends the spool first, in order.
Delivery is at least once: a record can be sent twice (a drain interrupted after the broker acked it),
never lost. Downstream deduplicates by event id.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from watchfloor.schemas.events import DOCUMENT_TYPES, Event, EventType, watermark_event
from watchfloor.schemas.topics import DEFAULT_PREFIX, TopicNames
from watchfloor.stream_processors.ports import StoredEvent

log = logging.getLogger(__name__)

DEFAULT_PARTITIONS = 3
DAY_MS = 24 * 3600 * 1000

try:  # kafka-python is the optional "kafka" extra
    import kafka
    import kafka.errors as kafka_errors
except ImportError:  # pragma: no cover - exercised only without the extra
    kafka = None
    kafka_errors = None


def _unreachable_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean "the broker cannot be reached now": spool and retry later."""
    if kafka_errors is None:  # pragma: no cover
        return ()
    names = (
        "NoBrokersAvailable",  # kafka-python 2.x: bootstrap failed
        "KafkaTimeoutError",  # 3.x bootstrap failure; metadata / flush / future timeouts in both
        "KafkaConnectionError",
        "NodeNotReadyError",
        "RequestTimedOutError",
        "NotLeaderForPartitionError",
        "LeaderNotAvailableError",
        "BrokerNotAvailableError",
        "UnknownTopicOrPartitionError",  # topics not created yet: auto-creation is off
    )
    found = tuple(getattr(kafka_errors, n) for n in names if hasattr(kafka_errors, n))
    return found


# ---- topics --------------------------------------------------------------------------------------------------


# One definition of the topic names, in the runtime that consumes them (producers import inward).
Topics = TopicNames


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def topic_specs(prefix: str = DEFAULT_PREFIX, partitions: int = DEFAULT_PARTITIONS) -> list[TopicSpec]:
    """Partitions and retention of every topic.

    * documents: the source of truth for replays and backtests; kept forever (their Kafka timestamp is the
      publication time, so time-based retention would delete old news immediately).
    * signals and correlate: derived and re-derivable from documents; a week, by append time (these records
      are stamped when written, not with event time).
    * detections: one partition (one dispatcher at a time: alert delivery must not race), kept a year.
    * dead letters: kept a year, for the humans who have to look at them.
    The signals topic must have as many partitions as the documents topic: the extract agent writes a
    document's signals to the document's own partition, which carries the per-partition watermark.
    """
    t = Topics(prefix)
    year = str(365 * DAY_MS)
    week = str(7 * DAY_MS)
    return [
        TopicSpec(t.documents, partitions, {"retention.ms": "-1", "retention.bytes": "-1"}),
        TopicSpec(t.signals, partitions, {"retention.ms": week}),
        TopicSpec(t.correlate, partitions, {"retention.ms": week}),
        TopicSpec(t.detections, 1, {"retention.ms": year}),
        TopicSpec(t.dead_letters, 1, {"retention.ms": year}),
    ]


def ensure_topics(
    bootstrap: str,
    prefix: str = DEFAULT_PREFIX,
    partitions: int = DEFAULT_PARTITIONS,
    *,
    replication_factor: int = 1,
    timeout_s: float = 30.0,
) -> list[str]:
    """Create the missing topics (auto-creation is expected to be off). Returns the names created.

    Existing topics are left as they are, but a partition count that differs from the spec is an error:
    keys would land on other partitions than the running workers expect."""
    if kafka is None:  # pragma: no cover
        raise RuntimeError("kafka-python is not installed (pip install 'watchfloor[kafka]')")
    import inspect

    specs = topic_specs(prefix, partitions)
    admin = kafka.KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id=f"{prefix}-admin", request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        existing = set(admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        created: list[str] = []
        if missing:
            timeout_ms = int(timeout_s * 1000)
            try:
                if "wait_for_metadata" in inspect.signature(admin.create_topics).parameters:  # kafka-python 3.x
                    admin.create_topics(
                        {
                            s.name: {
                                "num_partitions": s.partitions,
                                "replication_factor": replication_factor,
                                "configs": dict(s.config),
                            }
                            for s in missing
                        },
                        timeout_ms=timeout_ms,
                        wait_for_metadata=True,  # leaders elected: producers can send at once
                    )
                else:  # kafka-python 2.x
                    from kafka.admin import NewTopic

                    admin.create_topics(
                        [
                            NewTopic(s.name, s.partitions, replication_factor, topic_configs=dict(s.config))
                            for s in missing
                        ],
                        timeout_ms=timeout_ms,
                    )
                created = [s.name for s in missing]
            except kafka_errors.TopicAlreadyExistsError:  # a concurrent ensure_topics won the race
                created = []
        described = {
            d.get("name", d.get("topic")): len(d["partitions"]) for d in admin.describe_topics([s.name for s in specs])
        }
        wrong = [
            f"{s.name} has {described.get(s.name)} partitions, expected {s.partitions}"
            for s in specs
            if described.get(s.name) != s.partitions
        ]
        if wrong:
            raise RuntimeError("topic layout mismatch: " + "; ".join(wrong))
        return created
    finally:
        admin.close()


# ---- records ---------------------------------------------------------------------------------------------------


def encode_event(event: Event) -> bytes:
    return orjson.dumps(event.model_dump(mode="json"))


def decode_event(raw: bytes | str) -> Event:
    """The envelope from a record value. Raises ValueError (orjson / pydantic) on anything else."""
    return Event.model_validate(orjson.loads(raw))


def route_event(event: Event, topics: Topics) -> tuple[str, str]:
    """(topic, key) for an event published by a producer. Keys keep related events in one partition."""
    if event.type in DOCUMENT_TYPES:
        return topics.documents, event.id
    if event.type == EventType.WATERMARK:
        return topics.documents, ""
    if event.type == EventType.SIGNAL.value:
        return topics.signals, str(event.payload.get("document_id") or event.id)
    if event.type == EventType.DETECTION.value:
        return topics.detections, event.id
    if event.type == EventType.DEAD_LETTER.value:
        return topics.dead_letters, event.id
    raise ValueError(f"no Kafka topic for events of type {event.type!r}")


def _timestamp_ms(event: Event, now_ms: int) -> int | None:
    """Documents carry their publication time (for offsets_for_times); everything else the append time.

    Never later than now: Kafka 4 brokers refuse a record stamped more than an hour ahead of their clock
    (``log.message.timestamp.after.max.ms``), and with it every record of the same batch, so one document
    dated in the future would fail the whole publish call. Its own time, in the payload, is unchanged."""
    if event.type in DOCUMENT_TYPES or event.type == EventType.WATERMARK:
        return min(int(event.time.timestamp() * 1000), now_ms)
    return None


# ---- publisher -------------------------------------------------------------------------------------------------


@dataclass
class PublishResult:
    sent: int = 0  # acknowledged by the broker in this call (spooled events drained included)
    spooled: int = 0  # written to the local spool because the broker could not be reached
    drained: int = 0  # of `sent`, how many came from the spool

    @property
    def ok(self) -> bool:
        return self.spooled == 0


class KafkaPublisher:
    """Publishes events to the watchfloor topics; spools locally while the broker is unreachable."""

    def __init__(
        self,
        bootstrap: str,
        topic_prefix: str = DEFAULT_PREFIX,
        *,
        partitions: int = DEFAULT_PARTITIONS,
        spool_path: str | os.PathLike[str] | None = None,
        timeout_s: float = 15.0,
        linger_ms: int = 5,
        client_id: str | None = None,
        watermarks: bool = True,
    ) -> None:
        if kafka is None:  # pragma: no cover
            raise RuntimeError("kafka-python is not installed (pip install 'watchfloor[kafka]')")
        self.bootstrap = bootstrap
        self.topics = Topics(topic_prefix)
        self.partitions = partitions
        if spool_path is None:
            base = Path(os.environ.get("WATCHFLOOR_SPOOL_DIR", ".watchfloor-spool"))
            spool_path = base / f"{topic_prefix}.jsonl"
        self.spool_path = Path(spool_path)
        self.timeout_s = timeout_s
        self.linger_ms = linger_ms
        self.client_id = client_id or f"{topic_prefix}-publisher"
        self.watermarks = watermarks
        self._producer: Any = None
        self._unreachable = _unreachable_errors()

    # -- lifecycle --

    def ensure_topics(self) -> list[str]:
        return ensure_topics(self.bootstrap, self.topics.prefix, self.partitions, timeout_s=self.timeout_s)

    def close(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=self.timeout_s)
            except Exception:  # closing a producer whose broker is gone must not raise
                log.debug("kafka: error closing producer", exc_info=True)
            self._producer = None

    def __enter__(self) -> KafkaPublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _make_producer(self) -> Any:
        timeout_ms = int(self.timeout_s * 1000)
        wanted: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "client_id": self.client_id,
            "acks": "all",
            "retries": 5,
            "enable_idempotence": True,  # kafka-python >= 2.1 / 3.x; dropped below when unknown (2.0.x)
            "max_in_flight_requests_per_connection": 5 if _idempotence_supported() else 1,
            "linger_ms": self.linger_ms,
            "max_block_ms": timeout_ms,  # send() waiting for metadata (topic missing / broker down)
            "request_timeout_ms": min(timeout_ms, 30_000),
            "delivery_timeout_ms": max(timeout_ms, min(timeout_ms, 30_000) + self.linger_ms),
            "bootstrap_timeout_ms": timeout_ms,  # 3.x
            "api_version_auto_timeout_ms": timeout_ms,  # 2.x
            "allow_auto_create_topics": False,
        }
        known = kafka.KafkaProducer.DEFAULT_CONFIG
        config = {k: v for k, v in wanted.items() if k in known}
        return kafka.KafkaProducer(**config)

    # -- publishing --

    def publish(self, events: Sequence[Event]) -> PublishResult:
        """Send `events`, waiting for the broker's acknowledgement. The spool, if any, is sent first.

        Returns when every event is either acknowledged or safely in the spool (see `PublishResult`).
        Errors other than "broker unreachable" (e.g. a record too large) are raised."""
        result = PublishResult()
        with self._spool_lock():
            drained, spool_left = self._drain_locked()
            result.drained = drained
            result.sent += drained
            if spool_left:  # broker still unreachable: keep order, queue behind the spool
                self._append_spool(events)
                result.spooled = len(events)
                return result
            if not events:
                return result
            try:
                self._send_all(events)
            except self._unreachable as e:
                log.warning(
                    "kafka: broker %s unreachable (%s); spooling %d event(s) to %s",
                    self.bootstrap,
                    e,
                    len(events),
                    self.spool_path,
                )
                self._reset_producer()
                self._append_spool(events)
                result.spooled = len(events)
                return result
            result.sent += len(events)
        return result

    def append(self, events: Sequence[Event]) -> int:
        """EventLog-style append: how many events were published or spooled (Kafka does not deduplicate)."""
        r = self.publish(events)
        return r.sent - r.drained + r.spooled

    def drain_spool(self) -> int:
        """Send what the spool holds; returns how many were acknowledged (0 when the broker is still down)."""
        with self._spool_lock():
            drained, _left = self._drain_locked()
            return drained

    def spooled(self) -> int:
        """Events waiting in the spool."""
        with self._spool_lock():
            return len(self._read_spool())

    def _send_all(self, events: Sequence[Event]) -> None:
        if self._producer is None:
            self._producer = self._make_producer()
        producer = self._producer
        futures = []
        now_ms = int(time.time() * 1000)  # no record is stamped later than this (see _timestamp_ms)
        for ev in events:
            topic, key = route_event(ev, self.topics)
            futures.append(
                producer.send(
                    topic, key=key.encode("utf-8"), value=encode_event(ev), timestamp_ms=_timestamp_ms(ev, now_ms)
                )
            )
        newest = max((ev.time for ev in events if ev.type in DOCUMENT_TYPES), default=None)
        if self.watermarks and newest is not None:
            # Behind this batch's documents in every partition (one producer keeps per-partition order).
            partitions = producer.partitions_for(self.topics.documents) or ()
            for p in sorted(partitions):
                mark = watermark_event(p, newest.timestamp(), idle=False)
                futures.append(
                    producer.send(
                        self.topics.documents,
                        partition=p,
                        value=encode_event(mark),
                        timestamp_ms=_timestamp_ms(mark, now_ms),
                    )
                )
        producer.flush(timeout=self.timeout_s)
        for fut in futures:  # raises the first failure
            fut.get(timeout=self.timeout_s)

    def _reset_producer(self) -> None:
        # An idempotent producer that saw a timeout may hold stale sequence state; start afresh next time.
        if self._producer is not None:
            try:
                self._producer.close(timeout=0)
            except Exception:
                log.debug("kafka: error closing producer", exc_info=True)
            self._producer = None

    # -- spool --

    @contextmanager
    def _spool_lock(self) -> Iterator[None]:
        """Cross-process lock: two publishers sharing a spool must not both drain it."""
        self.spool_path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.spool_path.with_name(self.spool_path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _read_spool(self) -> list[bytes]:
        try:
            data = self.spool_path.read_bytes()
        except FileNotFoundError:
            return []
        lines = data.split(b"\n")
        # A torn last line (crash mid-append) has no newline: it was never acknowledged to a caller; drop it.
        complete = lines[:-1] if not data.endswith(b"\n") else lines
        return [ln for ln in complete if ln.strip()]

    def _append_spool(self, events: Sequence[Event]) -> None:
        if not events:
            return
        payload = b"".join(encode_event(ev) + b"\n" for ev in events)
        self._write_durably(payload, append=True)

    def _write_durably(self, payload: bytes, *, append: bool) -> None:
        path = self.spool_path
        existed = path.exists()
        if append:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            if not existed:
                _fsync_dir(path.parent)
            return
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(path.parent)

    def _drain_locked(self, batch: int = 500) -> tuple[int, bool]:
        """(events acknowledged, whether some are still spooled). Called with the spool lock held."""
        lines = self._read_spool()
        if not lines:
            return 0, False
        sent = 0
        while sent < len(lines):
            chunk = lines[sent : sent + batch]
            events: list[Event] = []
            for raw in chunk:
                try:
                    events.append(decode_event(raw))
                except ValueError:  # cannot happen for lines we wrote; never let one block the spool
                    log.error("kafka: dropping unreadable spool line: %r", raw[:200])
            try:
                self._send_all(events)
            except self._unreachable as e:
                log.info(
                    "kafka: broker %s still unreachable (%s); %d event(s) stay spooled",
                    self.bootstrap,
                    e,
                    len(lines) - sent,
                )
                self._reset_producer()
                break
            sent += len(chunk)
        remaining = lines[sent:]
        if sent:
            # Rewrite the rest (atomically). A crash before this line re-sends the acked chunk: at least once.
            self._write_durably(b"".join(r + b"\n" for r in remaining), append=False)
            log.info("kafka: drained %d spooled event(s) to %s", sent, self.bootstrap)
        return sent, bool(remaining)


class KafkaEventLog(KafkaPublisher):
    """The publisher behind the `EventLog` port, so `watchfloor.producers.publish.ingest` can write to Kafka.

    Kafka here is write-only: `append` publishes (or spools); reading is `stream_processors.kafka_replay`."""

    def read(self, after: int = 0, *, types: Collection[str] | None = None, limit: int = 1000) -> list[StoredEvent]:
        raise NotImplementedError("KafkaEventLog is write-only; read with stream_processors.kafka_replay")

    def head(self) -> int:
        raise NotImplementedError("KafkaEventLog is write-only; Kafka has no global position")

    def count(self, *, types: Collection[str] | None = None) -> int:
        raise NotImplementedError("KafkaEventLog is write-only")


def _idempotence_supported() -> bool:
    return kafka is not None and "enable_idempotence" in kafka.KafkaProducer.DEFAULT_CONFIG


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = [
    "DEFAULT_PARTITIONS",
    "DEFAULT_PREFIX",
    "KafkaEventLog",
    "KafkaPublisher",
    "PublishResult",
    "TopicSpec",
    "Topics",
    "decode_event",
    "encode_event",
    "ensure_topics",
    "route_event",
    "topic_specs",
]
