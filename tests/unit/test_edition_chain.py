"""An edited feed item is compared with its latest version (the checkpoint's `latest`, SeenIds.latest), not its first:
edited back (A -> B -> A), the old text is an edition again, and an edition's id names the version it follows, so
A -> B -> A -> B makes a new edition at each step; ids stay deterministic (the same edit polled again adds nothing)
and max_editions counts each of them. Live ingest (SQLite on disk) and a backtest's SeenIds give the same ids."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from watchfloor.backtest import FileReport, ReadReport
from watchfloor.backtest_live import SeenIds
from watchfloor.producers.publish import IngestSummary, edition_id, ingest
from watchfloor.schemas.events import Document, Event, EventType, edition_of
from watchfloor.stream_processors.stores.sql import SqlStore

ITEM = "urn:desk:wire:7"
T0 = datetime(2024, 10, 18, 6, 0, tzinfo=UTC)
A = "Troops crossed the river overnight, officials say"
B = "Officials deny that troops crossed the river"


def doc(title: str) -> Document:
    return Document(id=ITEM, type="news.article", published_at=T0, source={"name": "Desk"}, title=title)


class Feed:
    """Polls of one feed as the poller makes them: each poll given what the previous ones kept (held, latest)."""

    def __init__(self, store: SqlStore, bound: int | None = 5) -> None:
        self.store, self.bound = store, bound
        self.held: dict[str, str] = {}
        self.latest: dict[str, list[str]] = {}

    def poll(self, title: str) -> IngestSummary:
        got = ingest(
            self.store,
            [doc(title)],
            "desk.xml",
            editions=True,
            max_editions=self.bound,
            held=self.held,
            latest=self.latest,
        )
        self.held = got.held
        self.latest = {**self.latest, **got.latest}
        return got


def ids(store: SqlStore) -> list[str]:
    return [se.event.id for se in store.read(types={EventType.NEWS_ARTICLE.value}, limit=100)]


def test_back_and_forth_makes_an_edition_at_each_step_deterministically(tmp_path: Path) -> None:
    runs = []
    for n in (1, 2):
        store = SqlStore(f"sqlite:///{tmp_path / f'log{n}.db'}")
        try:
            feed = Feed(store)
            got = [feed.poll(t) for t in (A, B, A, B)]
            assert [(g.accepted, g.editions) for g in got] == [(1, 0), (1, 1), (1, 1), (1, 1)]
            # The same edit polled again: the item's latest version, nothing new.
            again = feed.poll(B)
            assert (again.accepted, again.duplicates, again.editions) == (0, 1, 0)
            runs.append(ids(store))
            assert store.count_editions([ITEM]) == {ITEM: 3}
        finally:
            store.close()
    assert runs[0] == runs[1]  # deterministic
    first, b1, a2, b2 = runs[0]
    assert first == ITEM and len({b1, a2, b2}) == 3 and {edition_of(x) for x in (b1, a2, b2)} == {ITEM}
    assert b1 == edition_id(ITEM, B, "")  # the first edit's id is of its text alone, as before
    assert a2 == edition_id(ITEM, A, "", b1) and b2 == edition_id(ITEM, B, "", a2)


def test_max_editions_counts_an_edit_back(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'log.db'}")
    try:
        feed = Feed(store, bound=2)
        for t in (A, B, A):
            assert feed.poll(t).accepted == 1
        past = feed.poll(B)
        assert (past.accepted, past.editions_left_out, past.at_bound) == (0, 1, [ITEM])
        # The text left out, polled again: seen, not counted again; the item's latest (A) stays A.
        again = feed.poll(B)
        assert (again.editions_left_out, again.duplicates) == (0, 1)
        back = feed.poll(A)
        assert (back.accepted, back.duplicates, back.editions_left_out) == (0, 1, 0)
        assert store.count_editions([ITEM]) == {ITEM: 2}
        assert feed.latest[ITEM][0] == ids(store)[-1]
    finally:
        store.close()


def test_a_backtest_reads_the_same_versions() -> None:
    for bound, limit in ((5, None), (5, 1), (2, None)):
        seen, report, fr = SeenIds(limit=limit, max_editions=bound), ReadReport(), FileReport("desk.xml", "rss")
        read = [d.id for t in (A, B, A, B, B) for d in seen.documents([doc(t)], report, fr)]
        b1 = edition_id(ITEM, B, "")
        a2 = edition_id(ITEM, A, "", b1)
        want = [ITEM, b1, a2, edition_id(ITEM, B, "", a2)]
        assert read == want[: bound + 1], (bound, limit)
        assert (report.editions_left_out, report.already_seen) == ((0, 1) if bound == 5 else (1, 1)), (bound, limit)
        seen.close()


class AskingStore(SqlStore):
    """A SQLite store on disk that notes the ids each find_conflicts and count_editions is asked of."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.asked: list[list[str]] = []

    def find_conflicts(self, events: Sequence[Event]) -> list[str]:
        self.asked.append([e.id for e in events])
        return super().find_conflicts(events)

    def count_editions(self, doc_ids: Sequence[str]) -> dict[str, int]:
        self.asked.append(list(doc_ids))
        return super().count_editions(doc_ids)


def test_an_item_that_reads_as_its_latest_version_asks_the_log_nothing(tmp_path: Path) -> None:
    store = AskingStore(f"sqlite:///{tmp_path / 'log.db'}")
    try:
        feed = Feed(store)
        feed.poll(A)
        feed.poll(B)
        store.asked.clear()
        got = feed.poll(B)  # polled again, unchanged: the checkpoint's latest version answers
        assert (got.accepted, got.duplicates) == (0, 1) and store.asked == []
    finally:
        store.close()
