"""The Store contract on the in-memory store."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.store_contract import StoreContract
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.stores import open_store
from watchfloor.stream_processors.stores.memory import MemoryStore


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def make_store(self) -> Callable[[], Store]:
        return MemoryStore


def test_open_store_memory_url() -> None:
    assert isinstance(open_store("memory://"), MemoryStore)


def test_an_idle_pass_does_not_read_the_state_back() -> None:
    """pull_and_process with nothing new after the checkpoint returns without loading the state (its parse
    was most of an idle `run` loop's cost with a year of correlation state); with something new it does."""
    from watchfloor.schemas.events import Event
    from watchfloor.stream_processors.ports import Checkpoint
    from watchfloor.stream_processors.processing import pull_and_process

    class CountingStore(MemoryStore):
        loads = 0

        def load_checkpoint(self, processor: str) -> Checkpoint:
            self.loads += 1
            return super().load_checkpoint(processor)

    store = CountingStore()
    seen: list[int] = []

    def step(batch: list, state: dict) -> tuple[dict, list]:  # type: ignore[type-arg]
        seen.append(len(batch))
        return {"n": state["n"] + len(batch)}, []

    def once() -> int:
        return pull_and_process(store, "p", {"news.article"}, step, initial_state=lambda: {"n": 0})

    assert once() == 0 and store.loads == 0
    store.append([Event(id="a", type="news.article", time="2024-06-19T00:00:00+00:00", payload={})])
    assert once() == 1 and store.loads == 1 and store.load_checkpoint("p").state == {"n": 1}
    before = store.loads
    assert once() == 0 and store.loads == before  # idle again


def test_memory_ledger_reads_every_row_unless_a_limit_is_given() -> None:
    """A default cap of 100,000 rows once cut `alerts list` and the delivery latency metric off silently."""
    from tests.ledger_contract import rec
    from watchfloor.stream_processors.stores.memory import MemoryStore

    store = MemoryStore()
    n = 100_001
    store.enqueue([rec(f"a{i:06d}", seq=i) for i in range(n)])
    assert len(store.deliveries()) == n and len(store.deliveries(statuses={"outstanding"})) == n
    assert len(store.deliveries(limit=3)) == 3
