"""publish.ingest bounds the editions of one feed item by the count in the log (count_editions), asked only when a
poll makes an edition; past the bound an edit is left out and counted once per text; backtest_live.SeenIds does the
same. SQLite on disk; short news items in our own words."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from watchfloor.backtest import FileReport, ReadReport
from watchfloor.backtest_live import SeenIds
from watchfloor.producers.publish import IngestSummary, edition_id, ingest
from watchfloor.schemas.events import Document
from watchfloor.stream_processors.stores.sql import SqlStore

ITEM = "urn:desk:live:1"
T0 = datetime(2024, 10, 18, 6, 0, tzinfo=UTC)


class CountingStore(SqlStore):
    """A SQLite store on disk that notes each count_editions asked of it."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.asked: list[list[str]] = []

    def count_editions(self, doc_ids: Sequence[str]) -> dict[str, int]:
        self.asked.append(list(doc_ids))
        return super().count_editions(doc_ids)


def doc(title: str, id_: str = ITEM) -> Document:
    return Document(id=id_, type="news.article", published_at=T0, source={"name": "Desk"}, title=title)


def poll(store: SqlStore, docs: list[Document], bound: int | None, held: dict[str, str] | None = None) -> IngestSummary:
    return ingest(store, docs, "desk.xml", editions=True, max_editions=bound, held=held)


def test_the_bound_is_counted_in_the_log_so_a_restart_goes_on_from_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    store = SqlStore(url)
    try:
        assert poll(store, [doc("Troops seen near the border")], 2).accepted == 1
        assert poll(store, [doc("Troops cross the border")], 2).editions == 1
    finally:
        store.close()
    store = SqlStore(url)  # a new process
    try:
        got = poll(store, [doc("Troops reach the front")], 2)
        assert (got.accepted, got.editions, got.editions_left_out) == (1, 1, 0)
        got = poll(store, [doc("Troops withdraw from the front")], 2)
        assert (got.accepted, got.editions, got.editions_left_out, got.duplicates) == (0, 0, 1, 0)
        # No checkpoint names the item's latest version: the log's last edition is it, which the edit follows.
        crossed = edition_id(ITEM, "Troops cross the border", "")
        reached = edition_id(ITEM, "Troops reach the front", "", crossed)
        assert got.held == {ITEM: edition_id(ITEM, "Troops withdraw from the front", "", reached)}
        assert got.at_bound == [ITEM]
        assert got.documents == 1 and got.max_editions == 2
    finally:
        store.close()
    store = SqlStore(url)
    try:
        # The same text as the previous poll left out: seen, not counted again, and not said again.
        again = poll(store, [doc("Troops withdraw from the front")], 2, held=got.held)
        assert (again.editions_left_out, again.duplicates, again.at_bound) == (0, 1, [])
        assert again.held == got.held
        # Another text: counted.
        other = poll(store, [doc("Troops regroup")], 2, held=again.held)
        assert (other.editions_left_out, other.at_bound) == (1, [])
        # An edition the log holds, read again, is a duplicate as before, whatever the bound: nothing left out.
        back = poll(store, [doc("Troops reach the front")], 2, held=other.held)
        assert (back.duplicates, back.editions_left_out, back.held) == (1, 0, {})
        assert store.count_editions([ITEM]) == {ITEM: 2}
    finally:
        store.close()


def test_editions_of_one_item_in_one_batch_count_in_the_feeds_order(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'log.db'}")
    try:
        poll(store, [doc("Troops seen near the border")], 1)
        got = poll(store, [doc("Troops cross the border"), doc("Troops cross the border"), doc("Troops regroup")], 1)
        assert (got.accepted, got.editions, got.editions_left_out, got.duplicates) == (1, 1, 1, 1)
        assert got.held == {ITEM: edition_id(ITEM, "Troops regroup", "")}
        assert [e.event.payload["title"] for e in store.read(types={"news.article"})][1:] == ["Troops cross the border"]
    finally:
        store.close()


def test_the_log_is_asked_only_for_items_a_poll_edits(tmp_path: Path) -> None:
    """The usual poll, with no edit, asks the log nothing more than before (find_conflicts); an edit asks one
    count, of its item."""
    store = CountingStore(f"sqlite:///{tmp_path / 'log.db'}")
    try:
        first = [doc("Troops seen near the border"), doc("Grain prices rise", "urn:desk:2")]
        poll(store, first, 5)
        poll(store, first, 5)
        poll(store, [*first, doc("Rain floods Busan", "urn:desk:3")], 5)
        assert store.asked == []
        poll(store, [doc("Troops cross the border"), doc("Grain prices rise", "urn:desk:2")], 5)
        assert store.asked == [[ITEM]]
    finally:
        store.close()


def test_no_bound_keeps_every_edition(tmp_path: Path) -> None:
    store = CountingStore(f"sqlite:///{tmp_path / 'log.db'}")
    try:
        for n in range(8):
            poll(store, [doc(f"Update {n}: troops seen near the border")], None)
        assert store.count_editions([ITEM]) == {ITEM: 7} and store.asked == [[ITEM]]
    finally:
        store.close()


def test_a_backtest_bounds_editions_as_live_even_past_its_id_bound() -> None:
    """SeenIds keeps its count of an item's editions in memory, also once its ids spill to disk (limit)."""
    for limit in (None, 2):
        seen, report, fr = SeenIds(limit=limit, max_editions=2), ReadReport(), FileReport("desk.xml", "rss")
        titles = ["Troops seen near the border", "Troops cross the border", "Troops reach the front", "Troops regroup"]
        read = [
            seen.documents([doc(t), doc(f"Filler {n}", f"urn:desk:f{n}")], report, fr) for n, t in enumerate(titles)
        ]
        kept = [d.title for got in read for d in got if d.id.startswith(ITEM)]
        assert kept == titles[:3], limit
        assert report.editions_left_out == 1 and fr.editions_left_out == 1
        # The same text again: a repeat; another: counted.
        assert seen.documents([doc("Troops regroup")], report, fr) == []
        assert seen.documents([doc("Troops retreat")], report, fr) == []
        assert (report.editions_left_out, report.already_seen) == (2, 1)
        seen.close()
