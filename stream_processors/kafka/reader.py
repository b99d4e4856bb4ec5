"""The Kafka reader (backtest input): the documents topic read from a point in time, as Documents.

`replay_from_kafka(bootstrap, topic, since)` seeks every partition with ``offsets_for_times`` to the first
record whose timestamp is >= `since`, reads up to the end offsets taken when it started (a bounded read:
documents published meanwhile are not waited for), and yields the documents with ``published_at >= since``
(and ``< until`` when given). The publisher's watermark records are skipped. `received_from_kafka` yields each
with its receive time (the envelope's `received_at`), which the backtest needs to date a future-dated document as
the workers did.

Records written by ``publisher.KafkaPublisher`` carry the document's publication time as their
Kafka timestamp, so the seek skips everything older. Records stamped with their append time instead are
found too (a document is appended after it is published), only less of the topic is skipped. Partitions are
read one after the other, so the documents do not come out in time order: ``replay(...,
order="event-time")`` sorts them, as the backtest does.

`watermarks_before(bootstrap, topic, {partition: offset})` reads back the newest watermark before an offset:
what the extract agent judges lateness against when it takes a documents partition over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from watchfloor.schemas.events import Document

from .clients import KafkaNoSuchHost, KafkaNotABroker, client_config, make_client
from .codec import WATERMARK, Rejected, decode_document, decode_event, watermark_time
from .topics import bootstrap_servers

log = logging.getLogger(__name__)


@dataclass
class KafkaReplayStats:
    """What a replay read: filled in while the iterator runs."""

    records: int = 0
    expected: int = 0  # records the read will take (end - start offsets), known once it has started
    documents: int = 0
    skipped_before: int = 0  # documents published before `since` (or at/after `until`)
    watermarks: int = 0  # the publisher's watermark markers, skipped
    invalid: list[str] = field(default_factory=list)  # "partition@offset: reason"


def replay_from_kafka(
    bootstrap: str,
    topic: str,
    since: datetime,
    *,
    until: datetime | None = None,
    timeout_s: float = 120.0,
    stats: KafkaReplayStats | None = None,
    on_invalid: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Document]:
    """Documents of `topic` published at or after `since` (timezone-aware), before `until` if given: those of
    `received_from_kafka` without their receive times."""
    for doc, _received in received_from_kafka(
        bootstrap,
        topic,
        since,
        until=until,
        timeout_s=timeout_s,
        stats=stats,
        on_invalid=on_invalid,
        clock=clock,
    ):
        yield doc


def received_from_kafka(
    bootstrap: str,
    topic: str,
    since: datetime,
    *,
    until: datetime | None = None,
    timeout_s: float = 120.0,
    stats: KafkaReplayStats | None = None,
    on_invalid: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[tuple[Document, float | None]]:
    """(document, when it was received) of `topic`'s documents published at or after `since` (timezone-aware),
    before `until` if given. The receive time is the one the record's envelope carries (`received_at`, set by the
    producer that accepted the document: POSIX seconds), as the extract agent reads it: a document dated more than
    the skew after it counts at that time (None: a record without one, which the workers never clamp either).

    Invalid records (not JSON, unknown schema_version, not a document) are skipped and reported through
    `on_invalid` (default: a warning in the log) and `stats.invalid`. Raises LookupError for an unknown
    topic and TimeoutError, naming the broker and `timeout_s`, when the broker keeps it waiting longer than
    `timeout_s`: to bootstrap (a broker that is down: kafka-python's own bound was 30 s whatever `timeout_s`
    said), for any metadata or offsets request, or for the next record while the end is not reached. The
    time the caller spends with a document is not a wait: a long replay is not cut short by a slow reader.
    `clock` (monotonic seconds) times the waits between polls; the client's own request timeouts are real time."""
    if since.tzinfo is None or (until is not None and until.tzinfo is None):
        raise ValueError("since/until must be timezone-aware datetimes")
    from kafka import KafkaConsumer, TopicPartition

    st = stats if stats is not None else KafkaReplayStats()
    timeout_ms = int(timeout_s * 1000)

    def unreachable(e: BaseException) -> TimeoutError:
        if isinstance(e, KafkaNotABroker | KafkaNoSuchHost):
            return TimeoutError(f"Kafka broker {bootstrap} unreachable: {e}")
        return TimeoutError(f"Kafka broker {bootstrap} unreachable: no answer within {timeout_s:g}s ({_say(e)})")

    try:
        consumer = make_client(
            KafkaConsumer,
            client_config(
                KafkaConsumer,
                timeout_s,  # the bootstrap (in the constructor) and every request: metadata, offsets, fetches
                bootstrap_servers=bootstrap_servers(bootstrap),
                group_id=None,  # a backtest never commits offsets nor joins the workers' group
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                client_id="watchfloor-backtest",
                # kafka-python refuses a request timeout that is not above the fetch's wait (500 ms by default)
                fetch_max_wait_ms=min(500, timeout_ms // 2),
            ),
        )
    except _timeouts() as e:
        raise unreachable(e) from e
    try:
        try:
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                raise LookupError(f"Kafka topic {topic!r} does not exist (or has no partitions)")
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            since_ms = int(since.timestamp() * 1000)
            found = consumer.offsets_for_times(dict.fromkeys(tps, since_ms))
            end = consumer.end_offsets(tps)
        except _timeouts() as e:
            raise unreachable(e) from e
        start = {tp: found[tp].offset for tp in tps if found.get(tp) is not None}
        todo = [tp for tp in tps if tp in start and start[tp] < end[tp]]
        st.expected = sum(end[tp] - start[tp] for tp in todo)
        if not todo:
            return
        consumer.assign(todo)
        for tp in todo:
            consumer.seek(tp, start[tp])
        at = dict(start)
        waiting_since: float | None = None  # since when polls have brought nothing: reset by any progress
        remaining = set(todo)
        while remaining:
            polled_at = clock()
            batches = consumer.poll(timeout_ms=500, max_records=1000)
            moved = bool(batches)
            for tp, records in batches.items():
                for rec in records:
                    if rec.offset >= end[tp]:
                        continue  # appended after the replay started
                    st.records += 1
                    try:
                        ev = decode_event(rec.value)
                        if ev.type == WATERMARK:
                            st.watermarks += 1
                            continue
                        doc = decode_document(ev)
                    except Rejected as e:
                        msg = f"{tp.partition}@{rec.offset}: {e.reason[:200]}"
                        st.invalid.append(msg)
                        if on_invalid is not None:
                            on_invalid(msg)
                        else:
                            log.warning("kafka replay: skipping %s record %s", topic, msg)
                        continue
                    if doc.published_at < since or (until is not None and doc.published_at >= until):
                        st.skipped_before += 1
                        continue
                    st.documents += 1
                    yield doc, (ev.received_at.timestamp() if ev.received_at is not None else None)
            for tp in list(remaining):
                position = consumer.position(tp)  # known: seek set it
                moved = moved or position != at[tp]  # records that are no documents (a transaction's markers)
                at[tp] = position
                if position >= end[tp]:
                    remaining.discard(tp)
                    consumer.pause(tp)
            # Only the polls count: the time from the first poll that brought nothing, not from the start of the
            # read, which takes the caller's time with each document (a total bound cut long replays short).
            if moved:
                waiting_since = None
            elif waiting_since is None:
                waiting_since = polled_at
            elif remaining and clock() - waiting_since > timeout_s:
                left = sum(end[tp] - at[tp] for tp in remaining)
                raise TimeoutError(
                    f"Kafka broker {bootstrap}: replay of {topic!r} got nothing for {timeout_s:g}s, "
                    f"{left} records before the end"
                )
    finally:
        consumer.close()


RECALL_CHUNK = 500  # records read back at a time when looking for a partition's last watermark record
RECALL_LIMIT = 5_000  # and at most this many per partition (a producer that writes none: nothing to find)


def watermarks_before(
    bootstrap: str, topic: str, before: dict[int, int], *, timeout_s: float = 30.0, limit: int = RECALL_LIMIT
) -> dict[int, float]:
    """Partition -> the time of the newest watermark record before offset `before[p]` in partition p of `topic`
    (the documents topic), of the nearest chunk of RECALL_CHUNK records that holds any, looked for backwards up to
    `limit` records; partitions with none there are left out.

    What the extract agent had for a partition when it last committed there: a worker that takes a partition
    over (a restart, a rebalance) judges lateness from it, as the one before it did. The publisher writes its
    watermark after every publish (the relay's: at least every batch), so the last one is seldom far back."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = make_client(
        KafkaConsumer,
        client_config(
            KafkaConsumer,
            timeout_s,
            bootstrap_servers=bootstrap_servers(bootstrap),
            group_id=None,  # reads only: never joins the workers' group nor commits
            enable_auto_commit=False,
            client_id="watchfloor-extract-recall",
            fetch_max_wait_ms=min(500, int(timeout_s * 1000) // 2),
        ),
    )
    out: dict[int, float] = {}
    try:
        for p, end in sorted(before.items()):
            tp = TopicPartition(topic, p)
            low = consumer.beginning_offsets([tp])[tp]
            consumer.assign([tp])
            hi = end
            while hi > low and end - hi < limit:
                lo = max(hi - RECALL_CHUNK, low)
                # the greatest of the nearest chunk that has any, not its last record's: the agent's watermark of a
                # source never goes back (partition.on_watermark), so a lower one after it (another producer's, a
                # relay restarted from an older state) is not what the agent had
                found = newest_watermark(consumer, tp, lo, hi, time.monotonic() + timeout_s)
                if found is not None:
                    out[p] = found[0]
                    break
                hi = lo
    finally:
        consumer.close()
    return out


def newest_watermark(consumer: Any, tp: Any, lo: int, hi: int, deadline: float) -> tuple[float, int] | None:
    """The newest (greatest) watermark time among offsets [lo, hi) of `tp` (assigned to `consumer`), with the
    offset of the first record that says it; None when none there. Not the last record's: a lower one may follow it
    (another producer's, a relay restarted from an older state), and a source's watermark never goes back.
    Raises TimeoutError when [lo, hi) is not read by `deadline` (monotonic seconds)."""
    found: tuple[float, int] | None = None
    for offset, t in _watermark_records(consumer, tp, lo, hi, deadline):
        if found is None or t > found[0]:
            found = (t, offset)
    return found


def _watermark_records(consumer: Any, tp: Any, lo: int, hi: int, deadline: float) -> Iterator[tuple[int, float]]:
    """(offset, time) of each watermark record among offsets [lo, hi) of `tp`, in offset order; TimeoutError when
    the read has not reached `hi` by `deadline` (monotonic seconds)."""
    consumer.seek(tp, lo)
    while consumer.position(tp) < hi:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"reading back {tp.topic}[{tp.partition}] {lo}..{hi}: not read in time")
        for records in consumer.poll(timeout_ms=max(min(500, int(left * 1000)), 1), max_records=RECALL_CHUNK).values():
            for rec in records:
                if rec.offset >= hi:
                    continue
                t = watermark_time(rec.value)
                if t is not None:
                    yield rec.offset, t


def _timeouts() -> tuple[type[BaseException], ...]:
    """kafka-python's errors for "no answer in time": KafkaTimeoutError (3.x bootstrap, any request in both),
    NoBrokersAvailable (2.x bootstrap)."""
    import kafka.errors as kafka_errors

    return (
        *(getattr(kafka_errors, n) for n in ("KafkaTimeoutError", "NoBrokersAvailable") if hasattr(kafka_errors, n)),
        KafkaNotABroker,
        KafkaNoSuchHost,
    )


def _say(e: BaseException) -> str:
    text = str(e)
    name = type(e).__name__
    return text if text.startswith(name) else f"{name}: {text}"  # kafka-python's str() starts with it


__all__ = ["KafkaReplayStats", "received_from_kafka", "replay_from_kafka", "watermarks_before"]
