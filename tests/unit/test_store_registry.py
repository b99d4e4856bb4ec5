"""Stores are chosen by the URL's scheme from one registry (`stores.STORES`), faust-style: `memory://`, `sqlite:///…`,
`postgresql[+driver]://…`; anything else is a one-line StoreError."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchfloor.stream_processors.stores import STORES, StoreError, open_store
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.stream_processors.stores.sql import SqlStore


def test_the_registry_names_every_kind_of_store() -> None:
    assert set(STORES) == {"memory", "sqlite", "postgresql", "postgres"}


def test_a_url_opens_the_store_of_its_scheme(tmp_path: Path) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    for url in (f"sqlite:///{tmp_path / 'a.db'}", f"sqlite+pysqlite:///{tmp_path / 'b.db'}"):
        store = open_store(url)
        assert isinstance(store, SqlStore)
        store.close()


@pytest.mark.parametrize("url", ["redis://localhost", "var/watchfloor.db", "", "kafka://localhost:9092"])
def test_an_unknown_scheme_is_a_store_error(url: str) -> None:
    with pytest.raises(StoreError, match="unknown kind of store URL"):
        open_store(url)
