"""Outbox relay: documents already durable in the local store are forwarded to Kafka, position by position.

The producer side of distributed mode. Sources are polled into a SQL store first (so a document is
durable, deduplicated and dead-lettered exactly as in embedded mode), then this relay publishes the new
documents to the documents topic and saves its position only after the broker acknowledged them (or the
publisher spooled them locally). A crash between the two re-publishes at most one batch; consumers
deduplicate by event id, so nothing is lost and nothing is alerted twice.

Event time travels with the documents: the relay follows the log's CaughtUp marks with the engine's
per-origin rule (stream_processors/engine/eventtime.py) and hands the publisher the watermark after each
batch, which it writes to every documents partition. The rule's state is saved in the relay's checkpoint, so
a restarted relay goes on with the same watermark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from watchfloor.schemas.events import DOCUMENT_TYPES, CaughtUp, Event, EventType, watermark_event
from watchfloor.stream_processors.engine import eventtime as et
from watchfloor.stream_processors.ports import CheckpointStore, EventLog, StoredEvent
from watchfloor.stream_processors.processing import pull_and_process

RELAY_PROCESSOR = "kafka-relay"
RELAYED_TYPES = DOCUMENT_TYPES | {EventType.CAUGHT_UP.value}  # documents, and the marks event time moves at


class Publisher(Protocol):
    def append(self, events: Sequence[Event]) -> int: ...


class RelayStore(EventLog, CheckpointStore, Protocol):
    """An event log that also keeps checkpoints."""


@dataclass
class RelayStats:
    relayed: int = 0
    batches: int = 0


class KafkaRelay:
    """Forwards documents from the store's log to a publisher (e.g. KafkaPublisher), after a checkpoint."""

    def __init__(
        self,
        store: RelayStore,
        publisher: Publisher,
        *,
        batch_size: int = 500,
        skew: timedelta = et.DEFAULT_SKEW,
        idle_after: timedelta = et.DEFAULT_IDLE_AFTER,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.batch_size = batch_size
        self.skew = skew.total_seconds()  # the workers' (config): a future date must not move the watermark
        self.idle_after = idle_after.total_seconds()

    def run_once(self) -> RelayStats:
        """Relay what is new in the log (the one pull-and-process loop; the relay's state is its event clock)."""
        stats = RelayStats()
        pending = [0]  # the batch in hand, counted once its checkpoint commit went through

        def relay(batch: Sequence[StoredEvent], clock: dict[str, Any]) -> tuple[dict[str, Any], list[Event]]:
            events = [se.event for se in batch if se.event.type in DOCUMENT_TYPES]
            if self._follow(clock, [se.event for se in batch]):
                events.append(watermark_event(0, clock["w"]))  # the publisher writes it to every partition
            if events:
                # Returns once the broker acknowledged every event, or they sit in the fsync'd spool.
                self.publisher.append(events)
            pending[0] = sum(1 for se in batch if se.event.type in DOCUMENT_TYPES)
            return clock, []

        def committed() -> None:
            stats.relayed += pending[0]
            stats.batches += 1

        pull_and_process(
            self.store,
            RELAY_PROCESSOR,
            RELAYED_TYPES,
            relay,
            batch_size=self.batch_size,
            initial_state=lambda: {"et": et.new_tracker(), "w": None},
            committed=committed,
        )
        return stats

    def _follow(self, clock: dict[str, Any], events: list[Event]) -> bool:
        """Run the per-origin rule over a batch; whether the watermark moved."""
        moved = False
        tracker = clock["et"]
        for ev in events:
            if ev.type == EventType.CAUGHT_UP.value:
                mark = CaughtUp.model_validate(ev.payload)
                candidate = et.caught_up(tracker, mark.origins, mark.at.timestamp(), self.idle_after)
                if candidate is not None and (clock["w"] is None or candidate > clock["w"]):
                    clock["w"] = candidate
                    moved = True
            elif ev.origin is not None:
                # As the engine does, but without lateness (a late document never moves its origin's
                # watermark past the global one, so counting it changes nothing) or clamping of future dates.
                received = ev.received_at.timestamp() if ev.received_at is not None else None
                t, clamped = et.effective_time(ev.time.timestamp(), received, self.skew)
                et.note_document(tracker, ev.origin, None if clamped else t, received)
        return moved
