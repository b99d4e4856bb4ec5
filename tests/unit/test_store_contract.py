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
