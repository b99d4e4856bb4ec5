"""In-memory store: the default for tests and backtests; same contract as the SQL store."""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import orjson

from watchfloor.schemas.events import DOCUMENT_TYPES, Event, edition_of

from ..ports import Checkpoint, CheckpointMoved, PruneStep, StoredEvent, TopicRecord
from .errors import check_event, payload_differs
from .memory_ledger import MemoryDeliveryLedger, RevisedRows
from .memory_records import MemoryRecordArchive
from .pruning import stripped


class MemoryStore(MemoryDeliveryLedger, MemoryRecordArchive):
    """Event log, checkpoints, delivery ledger and kept Kafka records held in process memory."""

    def __init__(self) -> None:
        self._events: list[StoredEvent] = []
        self._ids: dict[str, int] = {}  # id -> index in _events
        self._editions: Counter[str] = Counter()  # feed item id -> editions of it in the log (count_editions)
        self._last_edition: dict[str, int] = {}  # feed item id -> index in _events of its last edition
        self._checkpoints: dict[str, Checkpoint] = {}
        self._deliveries = RevisedRows()
        self._pauses: dict[str, float] = {}
        self._backoffs: dict[str, tuple[float, float]] = {}
        self._records: dict[tuple[str, int], dict[int, TopicRecord]] = {}
        self._record_marks: dict[tuple[str, int], tuple[int, int | None]] = {}
        self._lock = threading.Lock()

    def _append_locked(self, events: Sequence[Event]) -> int:
        for i, ev in enumerate(events):  # refuse what the SQL stores refuse, before anything is added
            check_event(ev, i)
        added = 0
        for ev in events:
            if ev.id in self._ids:
                continue
            self._ids[ev.id] = len(self._events)
            self._events.append(StoredEvent(len(self._events) + 1, ev))
            added += 1
            if (item := edition_of(ev.id)) is not None:
                self._editions[item] += 1
                self._last_edition[item] = len(self._events) - 1
        return added

    def append(self, events: Sequence[Event]) -> int:
        with self._lock:
            return self._append_locked(events)

    def append_bounded(
        self, events: Sequence[Event], max_editions: int, checkpoint: tuple[str, Checkpoint] | None = None
    ) -> tuple[int, list[str]]:
        """The SQL store's append_bounded: the count and the write under one lock."""
        with self._lock:
            for i, ev in enumerate(events):
                check_event(ev, i)
            left_out: list[str] = []
            kept: list[Event] = []
            taken: Counter[str] = Counter()
            new: set[str] = set()  # editions kept (the first of one id in a batch wins)
            for ev in events:
                item = edition_of(ev.id) if ev.id not in self._ids and ev.id not in new else None
                if item is not None:
                    if self._editions[item] + taken[item] >= max_editions:
                        left_out.append(ev.id)
                        continue
                    taken[item] += 1
                    new.add(ev.id)
                kept.append(ev)
            added = self._append_locked(kept)
            if checkpoint is not None:
                self._checkpoints[checkpoint[0]] = Checkpoint(
                    checkpoint[1].position, copy.deepcopy(checkpoint[1].state)
                )
            return added, left_out

    def find_conflicts(self, events: Sequence[Event]) -> list[str]:
        """Ids of `events` that the log already holds with another type or payload."""
        out: list[str] = []
        for ev in events:
            at = self._ids.get(ev.id)
            old = self._events[at].event if at is not None else None
            differs = old is not None and (old.type != ev.type or payload_differs(old.payload, ev.payload))
            if differs and ev.id not in out:
                out.append(ev.id)
        return out

    def count_editions(self, doc_ids: Sequence[str]) -> dict[str, int]:
        with self._lock:
            return {doc_id: self._editions.get(doc_id, 0) for doc_id in doc_ids}

    def latest_editions(self, doc_ids: Sequence[str]) -> dict[str, Event]:
        with self._lock:
            return {d: self._events[self._last_edition[d]].event for d in doc_ids if d in self._last_edition}

    def read(self, after: int = 0, *, types: Collection[str] | None = None, limit: int = 1000) -> list[StoredEvent]:
        return self._select(after, types, limit)

    def read_payloads(
        self, after: int = 0, *, types: Collection[str] | None = None, limit: int = 1000
    ) -> list[tuple[int, str]]:
        # The payload as the SQL stores keep it (check_event's JSON): the same text, whichever store holds it.
        return [(se.position, orjson.dumps(se.event.payload).decode()) for se in self._select(after, types, limit)]

    def _select(self, after: int, types: Collection[str] | None, limit: int) -> list[StoredEvent]:
        out: list[StoredEvent] = []
        with self._lock:
            for se in self._events[max(after, 0) :]:
                if types is None or se.event.type in types:
                    out.append(se)
                    if len(out) >= limit:
                        break
        return out

    def read_latest(
        self,
        before: int | None = None,
        *,
        types: Collection[str] | None = None,
        key: str | None = None,
        limit: int = 1000,
    ) -> list[StoredEvent]:
        out: list[StoredEvent] = []
        with self._lock:
            end = len(self._events) if before is None else min(max(before - 1, 0), len(self._events))
            for se in reversed(self._events[:end]):
                if len(out) >= limit:
                    break
                if (types is None or se.event.type in types) and (key is None or se.event.key == key):
                    out.append(se)
        return out

    def read_ids(self, ids: Collection[str]) -> list[StoredEvent]:
        with self._lock:
            found = sorted({self._ids[i] for i in ids if i in self._ids})
            return [self._events[i] for i in found]

    def detections_of(self, alert_ids: Collection[str]) -> list[StoredEvent]:
        wanted = set(alert_ids)
        with self._lock:
            return [se for se in self._events if se.event.type == "detection" and se.event.payload.get("id") in wanted]

    def alert_ids_starting(self, prefix: str, limit: int = 10) -> list[str]:
        with self._lock:
            found = {
                alert_id
                for se in self._events
                if se.event.type == "detection"
                and isinstance(alert_id := se.event.payload.get("id"), str)
                and alert_id.startswith(prefix)
            }
        return sorted(found)[:limit]

    def head(self) -> int:
        return len(self._events)

    def count(
        self, *, types: Collection[str] | None = None, after: int = 0, key: str | None = None, up_to: int | None = None
    ) -> int:
        with self._lock:
            tail = self._events[max(after, 0) : None if up_to is None else max(up_to, 0)]
        if types is None and key is None:
            return len(tail)
        return sum(
            1 for se in tail if (types is None or se.event.type in types) and (key is None or se.event.key == key)
        )

    def close(self) -> None:
        pass

    def load_checkpoint(self, processor: str) -> Checkpoint:
        cp = self._checkpoints.get(processor)
        return Checkpoint(cp.position, copy.deepcopy(cp.state)) if cp else Checkpoint(0, None)

    def checkpoint_position(self, processor: str) -> int:
        cp = self._checkpoints.get(processor)
        return cp.position if cp else 0

    def checkpoint_positions(self) -> dict[str, int]:
        with self._lock:
            return {name: cp.position for name, cp in self._checkpoints.items()}

    def forget_checkpoint(self, processor: str, *, at: int, record: tuple[str, str, Any] | None = None) -> bool:
        with self._lock:
            saved = self._checkpoints.get(processor)
            if saved is None:
                return False
            if saved.position != at:
                raise CheckpointMoved(processor, at, saved.position)
            del self._checkpoints[processor]
            if record is not None:
                name, key, value = record
                old = self._checkpoints.get(name)
                state = dict(old.state) if old is not None and isinstance(old.state, dict) else {}
                state[key] = copy.deepcopy(value)
                self._checkpoints[name] = Checkpoint(old.position if old is not None else 0, state)
            return True

    def strip_documents(self, before: datetime, after: int, up_to: int, *, limit: int = 2000) -> PruneStep:
        with self._lock:
            seen = done = freed = last = 0
            for i in range(max(after, 0), min(up_to, len(self._events))):
                se = self._events[i]
                if se.event.type not in DOCUMENT_TYPES:
                    continue
                seen += 1
                last = se.position
                new = stripped(se.event.payload) if se.event.time < before else None
                if new is not None:
                    freed += len(orjson.dumps(se.event.payload)) - len(orjson.dumps(new))
                    self._events[i] = StoredEvent(se.position, se.event.model_copy(update={"payload": new}))
                    done += 1
                if seen >= limit:
                    return PruneStep(last, done, freed)
            return PruneStep(max(up_to, after), done, freed)

    def reclaim_space(self, *, during_prune: bool = False) -> str:
        return "" if during_prune else "nothing to reclaim in memory"

    def commit(
        self, processor: str, checkpoint: Checkpoint, outputs: Sequence[Event], *, since: int | None = None
    ) -> int:
        with self._lock:
            if since is not None:
                saved = self._checkpoints.get(processor)
                found = saved.position if saved else 0
                if found != since:
                    raise CheckpointMoved(processor, since, found)
            added = self._append_locked(outputs)
            self._checkpoints[processor] = Checkpoint(checkpoint.position, copy.deepcopy(checkpoint.state))
            return added
