"""Two pollers of one feed at the same moment, each with its own store (engine, connections) on one database, both
making an edition of an item one short of its `max_editions`: the log keeps the bound exactly (producers/publish.py,
EditionBound). Each poller's count is held until the other has counted too, so both read the same count before
either writes, the case where the count and the write used to be two transactions. SQLite on disk and PostgreSQL.
Short news items in our own words."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watchfloor.producers.publish import IngestSummary, ingest
from watchfloor.schemas.events import Document
from watchfloor.stream_processors.ports import Checkpoint
from watchfloor.stream_processors.stores.sql import SqlStore

ITEM = "urn:desk:live:7"
T0 = datetime(2024, 10, 18, 6, 0, tzinfo=UTC)
BOUND = 2


class CountTogether(SqlStore):
    """A store whose count_editions returns only once the other poller's store has counted as well."""

    def __init__(self, url: str, barrier: threading.Barrier) -> None:
        super().__init__(url)
        self.barrier = barrier
        self.bounded_writes = 0

    def count_editions(self, doc_ids: Sequence[str]) -> dict[str, int]:
        counts = super().count_editions(doc_ids)
        self.barrier.wait(timeout=60)
        return counts

    def append_bounded(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.bounded_writes += 1
        return super().append_bounded(*args, **kwargs)


def doc(title: str) -> Document:
    return Document(id=ITEM, type="news.article", published_at=T0, source={"name": "Desk"}, title=title)


def race(url: str, checkpoint: bool) -> None:
    first = SqlStore(url)
    try:
        ingest(first, [doc("Shelling reported near the border")], "desk.xml", editions=True, max_editions=BOUND)
        got = ingest(first, [doc("Shelling near the border, two hurt")], "desk.xml", editions=True, max_editions=BOUND)
        assert got.editions == 1  # one short of the bound
    finally:
        first.close()
    barrier = threading.Barrier(2)
    stores = [CountTogether(url, barrier) for _ in range(2)]
    summaries: list[IngestSummary | BaseException] = [RuntimeError("not run")] * 2
    titles = ["Shelling near the border, four hurt", "Shelling stops near the border"]

    def poll(k: int) -> None:
        try:
            cp = (f"source:desk-{k}", Checkpoint(0, {"poll": k})) if checkpoint else None
            summaries[k] = ingest(
                stores[k], [doc(titles[k])], "desk.xml", editions=True, max_editions=BOUND, checkpoint=cp
            )
        except BaseException as e:  # said by the assertion below
            summaries[k] = e

    threads = [threading.Thread(target=poll, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        got = [s for s in summaries if isinstance(s, IngestSummary)]
        assert len(got) == 2, summaries
        check = SqlStore(url)
        try:
            assert check.count_editions([ITEM]) == {ITEM: BOUND}
        finally:
            check.close()
        assert sorted((s.accepted, s.editions, s.editions_left_out) for s in got) == [(0, 0, 1), (1, 1, 0)]
        late = next(s for s in got if s.editions_left_out)
        assert late.at_bound == [ITEM] and list(late.held) == [ITEM]
        assert [s.bounded_writes for s in stores] == [1, 1]
        if checkpoint:  # each poll's checkpoint went in with its write, the edition left out or not
            assert [st.load_checkpoint(f"source:desk-{k}").state for k, st in enumerate(stores)] == [
                {"poll": 0},
                {"poll": 1},
            ]
    finally:
        for st in stores:
            st.close()


def usual_poll_asks_nothing_more(url: str) -> None:
    """A poll with no edit writes as before: no count, no bounded write."""
    store = CountTogether(url, threading.Barrier(1))
    try:
        ingest(store, [doc("Shelling reported near the border")], "desk.xml", editions=True, max_editions=BOUND)
        again = ingest(store, [doc("Shelling reported near the border")], "desk.xml", editions=True, max_editions=1)
        assert (again.accepted, again.duplicates) == (0, 1)
        assert store.bounded_writes == 0
    finally:
        store.close()


@pytest.mark.parametrize("checkpoint", [False, True], ids=["append", "commit"])
def test_two_pollers_at_once_keep_the_bound_on_sqlite(tmp_path: Path, checkpoint: bool) -> None:
    race(f"sqlite:///{tmp_path / 'log.db'}", checkpoint)


@pytest.mark.parametrize("checkpoint", [False, True], ids=["append", "commit"])
def test_two_pollers_at_once_keep_the_bound_on_postgres(pg_url: str, checkpoint: bool) -> None:
    race(pg_url, checkpoint)


def test_the_usual_poll_makes_no_bounded_write(tmp_path: Path) -> None:
    usual_poll_asks_nothing_more(f"sqlite:///{tmp_path / 'log.db'}")
