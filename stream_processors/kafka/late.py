"""The extract agents' late documents per source, counted once per documents record in one store checkpoint row.

A document beyond the lateness is either passed over (no detection reads it: ``PassedOver``) or dead-lettered (a
``late: …`` report); `run` keeps both counts per source in its heartbeat. The Kafka workers keep them here: one
checkpoint row per worker group (``late_checkpoint``) in the store their notify agent writes, whose state holds, per
documents partition, the counts per source and the offset counted up to. A batch's late documents are added with a
compare-and-set on the row (its position counts the saves), and only those at an offset past the partition's
counted-up-to offset: a batch read again (a restart before its commit, a rebalance, a retried batch, a zombie
member) adds nothing twice, several workers add to their own partitions without losing each other's saves, and the
counts survive every restart. `status --broker` and `serve`'s /metrics read the row (``read_late_documents``).

Pure but for the store's load and commit: no Faust, no Kafka.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from watchfloor.schemas.events import DeadLetter, PassedOver
from watchfloor.schemas.redact import redact_url

from ..engine.engine import LATE
from ..ports import Checkpoint, CheckpointMoved, CheckpointStore

LATE_CHECKPOINT_PREFIX = "kafka-late:"
"""How the late-documents row of a worker group is named: a save counter, not a log position (retention)."""
PASSED_OVER = "passed_over"
DEAD_LETTERED = "dead_lettered"
OUTCOMES = (PASSED_OVER, DEAD_LETTERED)  # the embedded heartbeat's names (web.activity.Heartbeat.late)
SAVE_ATTEMPTS = 20  # compare-and-set attempts before a save gives up (the batch is then retried)


def late_checkpoint(group: str) -> str:
    """The checkpoint row of worker group `group`'s late documents."""
    return f"{LATE_CHECKPOINT_PREFIX}{group}"


@dataclass(frozen=True)
class LateDocument:
    """One documents record beyond the lateness: where it is, its source ("" for none) and what became of it."""

    partition: int
    offset: int
    origin: str
    outcome: str  # PASSED_OVER or DEAD_LETTERED


def late_outcomes(partition: int, offset: int, reports: Iterable[object]) -> list[LateDocument]:
    """A document's late outcomes among its event-time `reports`, as `run` counts them (cli.run.late_by_origin):
    a PassedOver, or a dead letter whose reason is a late one; a document with no origin counted under ""."""
    out: list[LateDocument] = []
    for r in reports:
        if isinstance(r, PassedOver):
            out.append(LateDocument(partition, offset, redact_url(r.origin or ""), PASSED_OVER))
        elif isinstance(r, DeadLetter) and r.reason.startswith(LATE):
            origin = "" if r.origin.startswith("document:") else r.origin  # (named by its id when it has none)
            out.append(LateDocument(partition, offset, redact_url(origin), DEAD_LETTERED))
    return out


def count_new(state: Mapping[str, Any], late: Sequence[LateDocument]) -> tuple[dict[str, Any], int]:
    """`state` (a row's) with `late` added, but for those at an offset its partition has counted past (read again);
    and how many were added. The counted-up-to offset moves to the newest one added."""
    parts: dict[str, Any] = {
        p: {"next": int(e.get("next", 0)), "late": {o: dict(c) for o, c in (e.get("late") or {}).items()}}
        for p, e in (state.get("partitions") or {}).items()
        if isinstance(e, dict)
    }
    added = 0
    for doc in sorted(late, key=lambda d: (d.partition, d.offset)):
        entry = parts.setdefault(str(doc.partition), {"next": 0, "late": {}})
        if doc.offset < entry["next"]:
            continue
        counts = entry["late"].setdefault(doc.origin, {o: 0 for o in OUTCOMES})
        counts[doc.outcome] = int(counts.get(doc.outcome, 0)) + 1
        added += 1
    for doc in late:  # after the loop: two outcomes of one record (none today) both count
        entry = parts[str(doc.partition)]
        entry["next"] = max(entry["next"], doc.offset + 1)
    return {**state, "partitions": parts}, added


def totals(state: Mapping[str, Any] | None) -> dict[str, dict[str, int]]:
    """Per source, the late documents of every partition of a row's `state`: {"passed_over": n, "dead_lettered": n}."""
    out: dict[str, dict[str, int]] = {}
    for entry in ((state or {}).get("partitions") or {}).values():
        for origin, counts in ((entry or {}).get("late") or {}).items():
            t = out.setdefault(str(origin), {o: 0 for o in OUTCOMES})
            for o in OUTCOMES:
                t[o] += int((counts or {}).get(o, 0))
    return dict(sorted(out.items()))


class LateLog(Protocol):
    """Where the extract agent keeps its late documents (an in-memory default; the store's row in a worker)."""

    def add(self, late: Sequence[LateDocument]) -> int:
        """Count `late`, none of them twice (count_new); how many were new. Raise to have it tried again."""
        ...

    def totals(self) -> dict[str, dict[str, int]]:
        """Per source: {"passed_over": n, "dead_lettered": n}."""
        ...


class MemoryLateLog:
    """Counts that last as long as the process: for tests and a worker without a store."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}

    def add(self, late: Sequence[LateDocument]) -> int:
        self.state, added = count_new(self.state, late)
        return added

    def totals(self) -> dict[str, dict[str, int]]:
        return totals(self.state)


class StoreLateLog:
    """The row `late_checkpoint(group)` of a store, opened at the first use by the thread that writes (a worker that
    never sees a late document never opens it)."""

    def __init__(self, open_store: Callable[[], CheckpointStore], group: str) -> None:
        self._open = open_store
        self.name = late_checkpoint(group)
        self._store: CheckpointStore | None = None
        self._lock = threading.Lock()

    def _opened(self) -> CheckpointStore:
        if self._store is None:
            self._store = self._open()
        return self._store

    def add(self, late: Sequence[LateDocument]) -> int:
        if not late:
            return 0
        with self._lock:
            store = self._opened()
            for _ in range(SAVE_ATTEMPTS):
                # A read-modify-write whose save is a compare-and-set on the row's save count: workers adding their
                # own partitions' counts at once never lose each other's (as web.activity's heartbeat saves).
                saved = store.load_checkpoint(self.name)
                state, added = count_new(saved.state or {}, late)
                if not added:
                    return 0  # all read again: nothing to save
                try:
                    store.commit(self.name, Checkpoint(saved.position + 1, state), [], since=saved.position)
                    return added
                except CheckpointMoved:
                    continue
            raise RuntimeError(f"{self.name}: not saved, other workers kept saving theirs first; tried again")

    def totals(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return read_late_documents(self._opened(), self.name)

    def close(self) -> None:
        with self._lock:
            close = getattr(self._store, "close", None)
            if close is not None:
                close()
            self._store = None


def read_late_documents(store: CheckpointStore, name: str) -> dict[str, dict[str, int]]:
    """Per source, the late documents the row `name` (late_checkpoint(group)) of `store` counts."""
    return totals(store.load_checkpoint(name).state)
