"""A feed's checkpoint keeps the latest version of the edited items its feed lists, not of every item ever edited.

The poller (a file feed, SQLite and memory stores) reads a feed that edits many items and then stops listing them:
`editions_latest` holds only the items still listed. An item still listed is still compared with its latest version
(edited again, its edition follows that one), and an item that comes back after it was forgotten is compared with
its last edition in the log (`EditionLatest.latest_editions`), not its first version: a third text (A -> B -> C,
read again as C) is no new edition, and its next edit follows C.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from watchfloor.producers.poller import SourcePoller, checkpoint_name
from watchfloor.producers.publish import edition_id
from watchfloor.schemas.config import RssSource
from watchfloor.schemas.events import EventType, edition_of
from watchfloor.stream_processors.stores import open_store
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.functional

Store = SqlStore | MemoryStore


def rss(items: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        f"<item><title>{title}</title><link>{guid}</link><guid>{guid}</guid>"
        "<pubDate>Tue, 17 Dec 2024 20:00:00 GMT</pubDate><description>From the desk.</description></item>"
        for guid, title in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Harbour Wire</title>'
        f"<link>https://desk.example/</link><description>test</description>{body}</channel></rss>\n"
    )


def guid(n: int) -> str:
    return f"https://desk.example/wire/{n}"


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened: Store = open_store(f"sqlite:///{tmp_path / 'wf.db'}") if request.param == "sqlite" else MemoryStore()
    try:
        yield opened
    finally:
        if isinstance(opened, SqlStore):
            opened.close()


class Desk:
    def __init__(self, store: Store, path: Path) -> None:
        self.store, self.path = store, path
        self.poller = SourcePoller(store, [RssSource(url=str(path))])

    def poll(self, items: Sequence[tuple[str, str]]) -> None:
        self.path.write_text(rss(items), encoding="utf-8")
        summary = self.poller.poll_once()
        assert not summary.errors and not summary.dead_letters, summary

    def latest(self) -> dict[str, list[str]]:
        state = self.store.load_checkpoint(checkpoint_name(str(self.path))).state or {}
        return dict(state.get("editions_latest", {}))

    def editions(self, item: str) -> list[str]:
        docs = self.store.read(types={EventType.NEWS_ARTICLE.value}, limit=100_000)
        return [se.event.id for se in docs if edition_of(se.event.id) == item]


def test_items_the_feed_no_longer_lists_leave_the_checkpoint(store: Store, tmp_path: Path) -> None:
    desk = Desk(store, tmp_path / "desk.xml")
    kept = guid(0)
    # 20 pages of the feed, 10 items each, all edited once; item 0 is listed throughout.
    for page in range(20):
        items = [(guid(page * 10 + k), f"Ships sighted near port {page * 10 + k}") for k in range(1, 11)]
        desk.poll([(kept, "Troops crossed the river overnight"), *items])
        desk.poll([(kept, "Troops crossed the river overnight"), *((g, t + ", officials say") for g, t in items)])
        assert len(desk.editions(items[0][0])) == 1
        # Bounded by the feed: the item always listed and the page it lists now, not every item ever edited.
        assert set(desk.latest()) == {g for g, _ in items}
    # The item still listed, edited twice: the second edit follows the first (its checkpoint entry stands).
    desk.poll([(kept, "Officials deny that troops crossed the river")])
    desk.poll([(kept, "Troops crossed the river overnight, officials now say")])
    first, second = desk.editions(kept)
    assert second == edition_id(kept, "Troops crossed the river overnight, officials now say", "From the desk.", first)
    assert set(desk.latest()) == {kept} and desk.latest()[kept][0] == second


def test_an_item_back_in_the_feed_is_compared_with_its_last_edition_in_the_log(store: Store, tmp_path: Path) -> None:
    desk = Desk(store, tmp_path / "desk.xml")
    item, other = guid(1), guid(2)
    for text in ("Version A", "Version B", "Version C"):
        desk.poll([(item, text)])
    b, c = desk.editions(item)
    desk.poll([(other, "Another story")])  # the item is no longer listed: forgotten
    assert desk.latest() == {}
    desk.poll([(item, "Version C"), (other, "Another story")])  # back, as it read last: nothing new
    assert desk.editions(item) == [b, c]
    assert desk.latest()[item][0] == c
    desk.poll([(other, "Another story")])
    desk.poll([(item, "Version D")])  # back, edited: D follows C (compared with the first, it read as A -> D)
    assert desk.editions(item)[2:] == [edition_id(item, "Version D", "From the desk.", c)]
