"""Archive sink: copy the watchfloor topics (documents, detections, dead letters) into the SQL event store.

The store then holds the history of the distributed runtime, so `watchfloor backtest --from-store` can
replay it through any rule set, and `watchfloor alerts list` can show it. Offsets are committed only
after the events are in the store; a crash re-reads at most one batch, which the store's id dedup
absorbs. Watermark markers are skipped; a record that is not a valid envelope is archived as a dead
letter with the reason, never dropped silently.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from watchfloor.schemas.events import Event, EventType, dead_letter_event
from watchfloor.schemas.topics import DEFAULT_PREFIX, TopicNames

from ..ports import EventLog
from .codec import Rejected, decode_event, record_origin, rejected_letter
from .topics import bootstrap_servers

log = logging.getLogger(__name__)


@dataclass
class ArchiveStats:
    archived: int = 0  # events new to the store (dead letters of rejected records included)
    duplicates: int = 0
    rejected: int = 0  # records archived as dead letters


class KafkaArchive:
    """Consumes topics with its own consumer group and appends what it reads to an EventLog."""

    def __init__(
        self,
        bootstrap: str,
        store: EventLog,
        *,
        topic_prefix: str = DEFAULT_PREFIX,
        topics: Sequence[str] | None = None,
        group_id: str | None = None,
        consumer_factory: Any = None,
    ) -> None:
        names = TopicNames(topic_prefix)
        self.topics = list(topics or [names.documents, names.detections, names.dead_letters])
        self.store = store
        if consumer_factory is None:
            from kafka import KafkaConsumer

            consumer_factory = KafkaConsumer
        self.consumer = consumer_factory(
            *self.topics,
            bootstrap_servers=bootstrap_servers(bootstrap),
            group_id=group_id or f"{topic_prefix}-archive",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id=f"{topic_prefix}-archive",
        )

    def poll_once(self, timeout_ms: int = 1000) -> ArchiveStats:
        stats = ArchiveStats()
        batches = self.consumer.poll(timeout_ms=timeout_ms, max_records=2000)
        events: list[Event] = []
        for tp, records in batches.items():
            for rec in records:
                try:
                    ev = decode_event(rec.value)
                except Rejected as e:
                    stats.rejected += 1
                    dl = rejected_letter(e, record_origin(tp.topic, tp.partition, rec.offset), rec.value, "archive")
                    events.append(dead_letter_event(dl, datetime.fromtimestamp(rec.timestamp / 1000, UTC)))
                    continue
                if ev.type != EventType.WATERMARK:
                    events.append(ev)
        if events:
            added = self.store.append(events)
            stats.archived = added
            stats.duplicates = len(events) - added
        if batches:
            self.consumer.commit()  # only after the store has the events
        return stats

    def run(self, stop: threading.Event, timeout_ms: int = 1000) -> None:
        while not stop.is_set():
            try:
                self.poll_once(timeout_ms)
            except Exception:  # the store or the broker is away: keep the offsets, try again
                log.exception("archive: batch failed; retrying")
                stop.wait(2.0)

    def close(self) -> None:
        self.consumer.close()
