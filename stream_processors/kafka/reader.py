"""The Kafka reader (backtest input): the documents topic read from a point in time, as Documents.

`replay_from_kafka(bootstrap, topic, since)` seeks every partition with ``offsets_for_times`` to the first
record whose timestamp is >= `since`, reads up to the end offsets taken when it started (a bounded read:
documents published meanwhile are not waited for), and yields the documents with ``published_at >= since``
(and ``< until`` when given). The publisher's watermark records are skipped.

Records written by ``publisher.KafkaPublisher`` carry the document's publication time as their
Kafka timestamp, so the seek skips everything older. Records stamped with their append time instead are
found too (a document is appended after it is published), only less of the topic is skipped. Partitions are
read one after the other, so the documents do not come out in time order: ``replay(...,
order="event-time")`` sorts them, as the backtest does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from watchfloor.schemas.events import Document

from .clients import client_config, make_client
from .codec import WATERMARK, Rejected, decode_document, decode_event
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
) -> Iterator[Document]:
    """Documents of `topic` published at or after `since` (timezone-aware), before `until` if given.

    Invalid records (not JSON, unknown schema_version, not a document) are skipped and reported through
    `on_invalid` (default: a warning in the log) and `stats.invalid`. Raises LookupError for an unknown
    topic and TimeoutError when the end of the topic cannot be reached within `timeout_s`."""
    if since.tzinfo is None or (until is not None and until.tzinfo is None):
        raise ValueError("since/until must be timezone-aware datetimes")
    from kafka import KafkaConsumer, TopicPartition

    st = stats if stats is not None else KafkaReplayStats()
    consumer = make_client(
        KafkaConsumer,
        client_config(
            KafkaConsumer,
            bootstrap_servers=bootstrap_servers(bootstrap),
            group_id=None,  # a backtest never commits offsets nor joins the workers' group
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="watchfloor-backtest",
        ),
    )
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise LookupError(f"Kafka topic {topic!r} does not exist (or has no partitions)")
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        since_ms = int(since.timestamp() * 1000)
        found = consumer.offsets_for_times(dict.fromkeys(tps, since_ms))
        end = consumer.end_offsets(tps)
        start = {tp: found[tp].offset for tp in tps if found.get(tp) is not None}
        todo = [tp for tp in tps if tp in start and start[tp] < end[tp]]
        st.expected = sum(end[tp] - start[tp] for tp in todo)
        if not todo:
            return
        consumer.assign(todo)
        for tp in todo:
            consumer.seek(tp, start[tp])
        deadline = time.monotonic() + timeout_s
        remaining = set(todo)
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"replay of {topic!r} did not reach the end within {timeout_s:.0f}s")
            batches = consumer.poll(timeout_ms=500, max_records=1000)
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
                    yield doc
            for tp in list(remaining):
                if consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
                    consumer.pause(tp)
    finally:
        consumer.close()


__all__ = ["KafkaReplayStats", "replay_from_kafka"]
