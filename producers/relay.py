"""Outbox relay: documents already durable in the local store are forwarded to Kafka, position by position.

The producer side of distributed mode. Sources are polled into a SQL store first (so a document is
durable, deduplicated and dead-lettered exactly as in embedded mode), then this relay publishes the new
documents to the documents topic and saves its position only after the broker acknowledged them (or the
publisher spooled them locally). A crash between the two re-publishes at most one batch; consumers
deduplicate by event id, so nothing is lost and nothing is alerted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from watchfloor.schemas.events import DOCUMENT_TYPES, Event
from watchfloor.stream_processors.ports import Checkpoint, CheckpointStore, EventLog

RELAY_PROCESSOR = "kafka-relay"


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

    def __init__(self, store: RelayStore, publisher: Publisher, *, batch_size: int = 500) -> None:
        self.store = store
        self.publisher = publisher
        self.batch_size = batch_size

    def run_once(self) -> RelayStats:
        stats = RelayStats()
        position = self.store.load_checkpoint(RELAY_PROCESSOR).position
        while True:
            batch = self.store.read(position, types=DOCUMENT_TYPES, limit=self.batch_size)
            if not batch:
                return stats
            # Returns once the broker acknowledged every event, or they sit in the fsync'd spool.
            self.publisher.append([se.event for se in batch])
            position = batch[-1].position
            self.store.commit(RELAY_PROCESSOR, Checkpoint(position, None), [])
            stats.relayed += len(batch)
            stats.batches += 1
