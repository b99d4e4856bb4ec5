"""Publish producer output to the event log: documents as document events, rejects as dead-letter events."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from watchfloor.schemas.events import DeadLetter, Document, Event, dead_letter_event, document_event
from watchfloor.stream_processors.ports import Checkpoint, CheckpointStore, EventLog

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1000


@dataclass
class IngestSummary:
    """What one ingest did. `accepted` counts documents new to the log; `duplicates` those already there
    (or repeated within the input); `dead_lettered` every rejected input, logged or seen before."""

    origin: str
    accepted: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)

    @property
    def documents(self) -> int:
        """Valid documents read, new or not."""
        return self.accepted + self.duplicates

    def merge(self, other: IngestSummary) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.dead_lettered += other.dead_lettered
        self.dead_letters.extend(other.dead_letters)


def ingest(
    store: EventLog,
    items: Iterable[Document | DeadLetter],
    origin: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    checkpoint: tuple[str, Checkpoint] | None = None,
    now: datetime | None = None,
) -> IngestSummary:
    """Append documents and dead letters to `store` in batches; every event is committed on return.

    Re-ingesting the same input is a no-op: event ids are deterministic and the log skips known ids.
    With `checkpoint=(name, cp)` the store must also be a CheckpointStore: the last batch of documents
    and the checkpoint are committed in one transaction, after every earlier batch, so the checkpoint
    is never saved without the documents it stands for. Dead letters are appended before that commit.
    Every event is stamped with `now` (default: the current UTC time, the one clock read): documents carry it
    as `received_at`, with `origin` (the source as configured), which the engine's event time is built on.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    if checkpoint is not None and not isinstance(store, CheckpointStore):
        raise TypeError(f"{type(store).__name__} is not a CheckpointStore; cannot save checkpoint {checkpoint[0]!r}")
    at = now or datetime.now(UTC)
    summary = IngestSummary(origin=origin)
    docs: list[Event] = []
    dead: list[Event] = []

    def flush_docs() -> None:
        added = store.append(docs)
        summary.accepted += added
        summary.duplicates += len(docs) - added
        docs.clear()

    def flush_dead() -> None:
        store.append(dead)
        dead.clear()

    for item in items:
        if isinstance(item, Document):
            docs.append(document_event(item, origin, at))
            if len(docs) >= batch_size:
                flush_docs()
        else:
            summary.dead_lettered += 1
            summary.dead_letters.append(item)
            dead.append(dead_letter_event(item, at))
            if len(dead) >= batch_size:
                flush_dead()
    if dead:
        flush_dead()
    if checkpoint is not None:
        name, cp = checkpoint
        assert isinstance(store, CheckpointStore)
        added = store.commit(name, cp, docs)
        summary.accepted += added
        summary.duplicates += len(docs) - added
        docs.clear()
    elif docs:
        flush_docs()
    if summary.dead_lettered:
        log.warning("%s: %d input(s) dead-lettered, e.g. %s", origin, summary.dead_lettered, _describe(summary))
    log.info("%s: %d new document(s), %d duplicate(s)", origin, summary.accepted, summary.duplicates)
    return summary


def _describe(summary: IngestSummary) -> str:
    dl = summary.dead_letters[0]
    where = f"line {dl.line}: " if dl.line is not None else ""
    return where + dl.reason
