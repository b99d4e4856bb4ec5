"""The one pull-and-process loop (stream_processors.processing) on the memory store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from watchfloor.schemas.events import Event
from watchfloor.stream_processors.ports import StoredEvent
from watchfloor.stream_processors.processing import pull_and_process
from watchfloor.stream_processors.stores.memory import MemoryStore

T = datetime(2024, 1, 1, tzinfo=UTC)


def ev(i: int, type_: str = "news.article") -> Event:
    return Event(id=f"e{i}", type=type_, time=T, payload={"i": i})


def store_with(n: int) -> MemoryStore:
    st = MemoryStore()
    st.append([ev(i, "news.article" if i % 3 else "other") for i in range(1, n + 1)])
    return st


def test_batches_state_and_outputs_are_committed_together() -> None:
    st = store_with(10)  # 7 articles: 1, 2, 4, 5, 7, 8, 10
    seen: list[list[int]] = []

    def step(batch: Sequence[StoredEvent], state: dict[str, Any]) -> tuple[dict[str, Any], list[Event]]:
        ids = [s.event.payload["i"] for s in batch]
        seen.append(ids)
        return {"n": state["n"] + len(ids)}, [Event(id=f"out{i}", type="signal", time=T, payload={}) for i in ids]

    done = pull_and_process(st, "p", {"news.article"}, step, batch_size=3, initial_state=lambda: {"n": 0})
    assert done == 7 and seen == [[1, 2, 4], [5, 7, 8], [10]]
    cp = st.load_checkpoint("p")
    assert cp.state == {"n": 7} and cp.position == 10
    assert st.count(types={"signal"}) == 7
    assert pull_and_process(st, "p", {"news.article"}, step, batch_size=3) == 0  # caught up: nothing again


def test_each_event_is_its_own_commit_and_limit_stops_early() -> None:
    st = store_with(10)
    commits: list[int] = []

    def step(batch: Sequence[StoredEvent], state: None) -> tuple[None, list[Event]]:
        assert len(batch) == 1
        commits.append(batch[0].position)
        return None, []

    assert pull_and_process(st, "q", {"news.article"}, step, batch_size=4, each=True, limit=4) == 4
    assert commits == [1, 2, 4, 5] and st.load_checkpoint("q").position == 5
    assert pull_and_process(st, "q", {"news.article"}, step, each=True) == 3
    assert commits[4:] == [7, 8, 10]


def test_a_failing_step_leaves_the_checkpoint_where_it_was() -> None:
    st = store_with(6)
    calls = {"n": 0}

    def step(batch: Sequence[StoredEvent], state: None) -> tuple[None, list[Event]]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("crash")
        return None, []

    with pytest.raises(RuntimeError):
        pull_and_process(st, "r", {"news.article"}, step, batch_size=2)
    assert st.load_checkpoint("r").position == 2  # the first batch (1, 2) stays done; (4, 5) is read again
    assert pull_and_process(st, "r", {"news.article"}, step, batch_size=2) == 2


def test_a_pass_stops_when_another_process_commits_first() -> None:
    """Two followers of one store: the one that commits second stops, writes nothing, and counts only its own."""
    st = store_with(10)  # articles at 1, 2, 4, 5, 7, 8, 10
    committed: list[int] = []

    def other_process_step(batch: Sequence[StoredEvent], state: None) -> tuple[None, list[Event]]:
        return None, [Event(id=f"other{s.position}", type="signal", time=T, payload={}) for s in batch]

    def step(batch: Sequence[StoredEvent], state: None) -> tuple[None, list[Event]]:
        if batch[0].position == 5:
            # The other process reads the same checkpoint (4) and commits through the end first.
            assert pull_and_process(st, "p", {"news.article"}, other_process_step, batch_size=100) == 4
        return None, [Event(id=f"mine{s.position}", type="signal", time=T, payload={}) for s in batch]

    done = pull_and_process(
        st, "p", {"news.article"}, step, batch_size=3, committed=lambda: committed.append(st.checkpoint_position("p"))
    )
    assert done == 3 and committed == [4]  # its first batch only; the second was the other's to commit
    assert st.checkpoint_position("p") == 10  # never moved back to this pass's 8
    signals = [s.event.id for s in st.read(types={"signal"})]
    assert signals == ["mine1", "mine2", "mine4", "other5", "other7", "other8", "other10"]
