"""The pipeline's heartbeat (watchfloor.web.activity.record_cycle) from two processes on one store: a save is a
compare-and-set, so neither loses the other's cycles and poll durations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from watchfloor.schemas.events import Event
from watchfloor.stream_processors.ports import Checkpoint
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.web.activity import HEARTBEAT, heartbeat, record_cycle

T = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)


class Interleaved(MemoryStore):
    """Between another process's read and its save, this one saves a cycle of its own (once)."""

    def __init__(self) -> None:
        super().__init__()
        self.cut_in = True

    def commit(
        self, processor: str, checkpoint: Checkpoint, outputs: Sequence[Event], *, since: int | None = None
    ) -> int:
        if processor == HEARTBEAT and self.cut_in:
            self.cut_in = False
            record_cycle(self, T, 0.2, {"feed-b": 2.0})
        return super().commit(processor, checkpoint, outputs, since=since)


def test_two_processes_saving_at_once_keep_both_cycles() -> None:
    store = Interleaved()
    record_cycle(store, T, 0.1, {"feed-a": 1.0})
    saved: Any = store.load_checkpoint(HEARTBEAT).state
    assert saved["cycles"] == 2
    assert set(saved["polls"]) == {"feed-a", "feed-b"}
    assert saved["polls"]["feed-a"]["count"] == 1 and saved["polls"]["feed-b"]["count"] == 1
    assert heartbeat(store) is not None
