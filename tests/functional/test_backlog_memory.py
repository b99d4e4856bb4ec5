"""`run` asks the runner for its backlog before every pass (the progress bar's total). It read the backlog's events to
count them, so a catch-up held all of them in memory at once (~4 KB each) at every pass, and the process kept that
peak as its size: `run`'s RSS rose with the backlog it caught up on (outside trial 18, M3). Now the store counts
them: the count is the same, on SQLite and on the memory store, and asking costs no memory that grows with it."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from watchfloor.schemas.events import document_event
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.ports import Checkpoint
from watchfloor.stream_processors.runner import ENGINE_PROCESSOR, EmbeddedRunner
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.stream_processors.stores.sql import SqlStore

from ..unit.engine_helpers import doc

N = 3000
BODY = "Grain prices steady as traders expect a calm week. " * 60  # ~3 KB, a news article's size


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    st = SqlStore(f"sqlite:///{tmp_path / 'wf.db'}") if request.param == "sqlite" else MemoryStore()
    st.append([document_event(doc(BODY, at=i / 60, doc_id=f"d{i:05d}")) for i in range(N)])
    yield st
    st.close()


def test_the_backlog_is_counted_by_the_store(store) -> None:  # type: ignore[no-untyped-def]
    runner = EmbeddedRunner(store, Engine.from_packs([]))
    assert runner.backlog() == N
    store.commit(ENGINE_PROCESSOR, Checkpoint(1000, None), [])
    assert runner.backlog() == N - 1000  # only what follows the checkpoint
    tracemalloc.start()
    try:
        assert runner.backlog() == N - 1000
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Reading the 2,000 events to count them took ~10 MB at its peak; a count takes a few KB whatever the backlog.
    assert peak < 1_000_000
