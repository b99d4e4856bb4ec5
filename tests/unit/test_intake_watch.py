"""The intake's backlog as the web server's looks count it (web.metrics.IntakeWatch): in full at the first look, then
only what changed between looks (the intake's progress, the log's growth), and always what a full count says: the
same store's count after the checkpoint, on the memory store and on SQLite on disk, over a run of appends (other
events among the detections), intake moves, a checkpoint set back and a look with nothing new."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from watchfloor.alerts.dispatcher import INTAKE_TYPES, PROCESSOR
from watchfloor.schemas.events import CaughtUp, Detection, caught_up_event, detection_event
from watchfloor.stream_processors.ports import Checkpoint, Store
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.stream_processors.stores.sql import SqlStore
from watchfloor.web.metrics import IntakeWatch

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def events(rng: random.Random, start: int, n: int) -> list[Any]:
    """n events, about half of them detections, the others `caught_up` events (not the intake's)."""
    out = []
    for i in range(start, start + n):
        if rng.random() < 0.5:
            out.append(
                detection_event(Detection(id=f"d{i}", rule="r", title="t", severity="high", group={}, fired_at=AT))
            )
        else:
            out.append(caught_up_event(CaughtUp(at=AT, origins=(f"o{i}",))))
    return out


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    st: Store = MemoryStore() if request.param == "memory" else SqlStore(f"sqlite:///{tmp_path / 'wf.db'}")
    yield st
    st.close()


def test_the_counts_between_looks_are_those_of_a_full_count(store: Store) -> None:
    rng = random.Random(46)
    watch = IntakeWatch()
    made = 0
    for step in range(60):
        what = rng.random()
        if what < 0.5:
            n = rng.randint(1, 8)
            store.append(events(rng, made, n))
            made += n
        elif what < 0.85 and store.head():
            at = store.checkpoint_position(PROCESSOR)
            store.commit(PROCESSOR, Checkpoint(rng.randint(at, store.head()), None), [])
        elif store.head():  # set back (a replay of the intake): counted again in full
            store.commit(PROCESSOR, Checkpoint(rng.randint(0, store.checkpoint_position(PROCESSOR)), None), [])
        backlog, _stalled = watch.look(store, float(step))
        taken_to = store.checkpoint_position(PROCESSOR)
        assert backlog.position == taken_to
        assert backlog.waiting == store.count(types=INTAKE_TYPES, after=taken_to), step


def test_count_up_to_a_position(store: Store) -> None:
    store.append(events(random.Random(1), 0, 30))
    every = [se.position for se in store.read(types=INTAKE_TYPES, limit=100)]
    for after, up_to in ((0, 0), (0, 10), (5, 17), (17, 5), (12, 30), (0, 99)):
        want = sum(1 for p in every if after < p <= up_to)
        assert store.count(types=INTAKE_TYPES, after=after, up_to=up_to) == want, (after, up_to)
