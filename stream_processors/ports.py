"""Ports: the small storage interfaces every runtime talks to (event log, checkpoints, delivery ledger)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from watchfloor.schemas.events import Event


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event with its global position in the log (1-based, gap-free per store, increasing)."""

    position: int
    event: Event


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where a processor is in the log, and its state as of that position (JSON-able)."""

    position: int
    state: dict[str, Any] | None


@runtime_checkable
class EventLog(Protocol):
    """Append-only log of events. An event whose id is already in the log is not added again."""

    def append(self, events: Sequence[Event]) -> int:
        """Append durably; returns how many were new. Returns only after the events are committed."""
        ...

    def read(self, after: int = 0, *, types: Collection[str] | None = None, limit: int = 1000) -> list[StoredEvent]:
        """Events with position > after, in position order, optionally only of some types."""
        ...

    def head(self) -> int:
        """The highest position in the log (0 when empty)."""
        ...

    def count(self, *, types: Collection[str] | None = None) -> int: ...

    def close(self) -> None: ...


@runtime_checkable
class CheckpointStore(Protocol):
    """Processor positions, saved in the same transaction as the processor's outputs."""

    def load_checkpoint(self, processor: str) -> Checkpoint: ...

    def commit(self, processor: str, checkpoint: Checkpoint, outputs: Sequence[Event]) -> int:
        """Atomically append `outputs` (dedup by id) and save the checkpoint. Returns outputs added."""
        ...


@runtime_checkable
class DeliveryLedger(Protocol):
    """Which alert went to which channel. (alert_id, channel) is unique: nothing is sent twice."""

    def delivery_status(self, alert_id: str, channel: str) -> str | None:
        """'pending', 'sent', 'failed', 'suppressed', or None if never attempted."""
        ...

    def mark_delivery(self, alert_id: str, channel: str, status: str, detail: str = "") -> None: ...


class Store(EventLog, CheckpointStore, DeliveryLedger, Protocol):
    """Everything the embedded runtime keeps: one transactional store."""
