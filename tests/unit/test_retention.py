"""Store retention (watchfloor/retention.py): what a prune may strip (the readers' checkpoints), its record, its
re-run, and a re-ingested pruned document read as a duplicate, not an edition or a conflict. Items in our own words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from watchfloor import retention
from watchfloor.producers.publish import ingest
from watchfloor.schemas.events import Document, SourceRef
from watchfloor.stream_processors.ports import Checkpoint, PruneStep
from watchfloor.stream_processors.stores.memory import MemoryStore

NOW = datetime(2026, 6, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=90)


def article(i: int, when: datetime, title: str = "Border guards report shelling near the river") -> Document:
    return Document(
        id=f"https://wire.example/{i}",
        type="news.article",
        published_at=when,
        source=SourceRef(name="Wire"),
        url=f"https://wire.example/{i}",
        title=title,
        body="Officials said the shelling lasted two hours. " * 10,
    )


def filled(n_old: int = 6, n_new: int = 2) -> MemoryStore:
    store = MemoryStore()
    docs = [article(i, OLD) for i in range(n_old)] + [article(100 + i, NOW - timedelta(days=1)) for i in range(n_new)]
    assert ingest(store, docs, "feed", editions=True).accepted == n_old + n_new
    return store


def texts(store: MemoryStore) -> dict[str, bool]:
    return {se.event.id: "body" in se.event.payload for se in store.read(0, limit=100)}


def test_nothing_is_pruned_before_a_reader_of_documents_has_read_any() -> None:
    store = filled()
    store.commit("alerts", Checkpoint(8, None), [])  # the dispatcher reads detections only
    store.commit("source:https://wire.example/feed", Checkpoint(0, {"at": "x"}), [])
    with pytest.raises(retention.RetentionError, match="no reader of documents"):
        retention.plan(store, 30, NOW)


def test_the_lowest_readers_checkpoint_bounds_the_prune() -> None:
    store = filled()
    store.commit("engine", Checkpoint(8, None), [])
    assert retention.plan(store, 30, NOW).up_to == 8
    store.commit("kafka-relay", Checkpoint(4, None), [])  # `produce` relays documents after its checkpoint
    chosen = retention.plan(store, 30, NOW)
    assert (chosen.up_to, chosen.held_by) == (4, "kafka-relay at 4")
    retention.prune(store, chosen, started_at=NOW)
    assert list(texts(store).values()) == [False] * 4 + [True] * 4
    # A checkpoint this release does not know, with a position, is taken as a reader.
    store.commit("kafka-relay", Checkpoint(8, None), [])
    store.commit("someone-new", Checkpoint(2, None), [])
    assert retention.plan(store, 30, NOW).up_to == 2
    assert retention.readers({"rules": 9, "pipeline:cycle": 40, "retention": 8, "engine": 0}) == {}


def test_a_prune_is_recorded_with_its_range_and_an_interrupted_one_too() -> None:
    store = filled()
    store.commit("engine", Checkpoint(8, None), [])
    assert retention.pruned_range(store) is None
    chosen = retention.plan(store, 30, NOW)

    class Interrupted(Exception):
        pass

    calls = 0
    strip = store.strip_documents

    def stop_after_one(*args: Any, **kw: Any) -> PruneStep:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise Interrupted
        return strip(*args, **kw)

    store.strip_documents = stop_after_one  # type: ignore[method-assign]
    with pytest.raises(Interrupted):
        retention.prune(store, chosen, started_at=NOW, batch=2)
    del store.strip_documents
    got = retention.pruned_range(store)
    assert got is not None and not got.finished and got.up_to == 8 and got.documents == 2
    assert "interrupted" in got.describe() and "1–8" in got.describe()
    # The re-run starts where the first stopped (its cutoff is the same), and finishes the range.
    again = retention.plan(store, 30, NOW)
    assert again.after == 2
    done = retention.prune(store, again, started_at=NOW)
    assert done.documents == 4
    got = retention.pruned_range(store)
    assert got is not None and got.finished and got.documents == 6
    assert list(texts(store).values()) == [False] * 6 + [True] * 2
    # A dry run of what is left finds nothing; a later run (the engine moved on) strips nothing twice.
    assert retention.count(store, retention.plan(store, 30, NOW)).documents == 0


def test_a_reingested_pruned_article_is_a_duplicate_not_an_edition_nor_a_conflict() -> None:
    store = filled()
    store.commit("engine", Checkpoint(8, None), [])
    retention.prune(store, retention.plan(store, 30, NOW), started_at=NOW)
    head = store.head()
    # The same article, and the same article with its headline edited since, through a feed (editions on) and a
    # file (editions off): nothing new in the log, no dead letter.
    again = [article(0, OLD), article(1, OLD, title="Border guards report heavy shelling near the river")]
    for editions in (True, False):
        got = ingest(store, again, "feed", editions=editions)
        assert (got.accepted, got.duplicates, got.conflicts, got.editions) == (0, 2, 0, 0), editions
    assert store.head() == head
    # Not pruned (new): an edit there is still an edition.
    got = ingest(store, [article(100, NOW - timedelta(days=1), title="Shelling stops")], "feed", editions=True)
    assert got.editions == 1


def test_scheduled_spreads_a_prune_over_cycles_and_starts_one_a_day() -> None:
    store = filled(n_old=7)
    assert retention.scheduled(store, 30, NOW) is None  # nothing read yet: nothing to prune
    store.commit("engine", Checkpoint(9, None), [])
    # Small batches, to see the slices: two batches of three documents per cycle.
    real = store.strip_documents

    def small(*args: Any, **kw: Any) -> PruneStep:
        return real(*args, **{**kw, "limit": 3})

    store.strip_documents = small  # type: ignore[method-assign]
    done = [retention.scheduled(store, 30, NOW + timedelta(minutes=m), max_batches=2) for m in range(3)]
    assert [(d.documents, d.finished) for d in done if d is not None] == [(6, False), (1, True)]
    assert done[2] is None  # finished, and started less than a day ago
    got = retention.pruned_range(store)
    assert got is not None and got.finished and got.documents == 7
    # A day after the last start: again (the new documents the engine has read since, once old enough).
    assert retention.scheduled(store, 30, NOW + timedelta(hours=23)) is None
    again = retention.scheduled(store, 30, NOW + timedelta(days=1, minutes=1))
    assert again is not None and again.finished and again.documents == 0


def test_vacuum_every_reclaims_space_between_batches() -> None:
    store = filled(n_old=7)
    store.commit("engine", Checkpoint(9, None), [])
    calls: list[tuple[int, bool]] = []  # (the record's done_to, during_prune) at each call
    strip, reclaim = store.strip_documents, store.reclaim_space

    def small(*args: Any, **kw: Any) -> PruneStep:
        return strip(*args, **{**kw, "limit": 2})

    def spy(*, during_prune: bool = False) -> str:
        calls.append((retention.checkpoints_state(store)["runs"][-1]["done_to"], during_prune))
        return reclaim(during_prune=during_prune)

    store.strip_documents = small  # type: ignore[method-assign]
    store.reclaim_space = spy  # type: ignore[method-assign]
    done = retention.prune(store, retention.plan(store, 30, NOW), started_at=NOW, vacuum_every=2)
    assert done.documents == 7
    # Batches of 2 documents over the 9 read (7 old, 2 new): after the 2nd and the 4th, not after the 5th, which
    # ends the range (the command reclaims at the end itself).
    assert calls == [(4, True), (8, True)]


def test_a_stop_asked_ends_the_prune_between_batches() -> None:
    store = filled(n_old=7)
    store.commit("engine", Checkpoint(9, None), [])
    asked = iter([False, False, True])
    got = retention.prune(store, retention.plan(store, 30, NOW), started_at=NOW, batch=2, stopping=lambda: next(asked))
    assert (got.documents, got.finished) == (4, False)
    state = retention.pruned_range(store)
    assert state is not None and not state.finished and state.documents == 4


def test_an_edited_item_is_pruned_with_its_editions_and_edited_again_is_a_duplicate() -> None:
    """An edition is dated max(its item's date, when it was seen) and comes later in the log, so a prune that reaches
    an edition has reached its item: latest_editions never hands the edition check a stub beside a whole item. Both
    pruned, the item edited again (the feed's checkpoint no longer naming it) is a duplicate of the stub."""
    store = MemoryStore()
    item = article(7, OLD)
    assert ingest(store, [item], "feed", editions=True, now=OLD).accepted == 1
    edited = article(7, OLD, title="Border guards report heavy shelling")
    # Seen earlier than the item's own date (a feed that dates ahead): dated as the item, not before it.
    first = ingest(store, [edited], "feed", editions=True, now=OLD - timedelta(days=5))
    assert first.editions == 1
    versions = store.read(0, limit=10)
    assert [se.event.time for se in versions] == [OLD, OLD]
    store.commit("engine", Checkpoint(store.head(), None), [])
    assert retention.prune(store, retention.plan(store, 30, NOW), started_at=NOW).documents == 2
    again = article(7, OLD, title="Border guards say the shelling has stopped")
    got = ingest(store, [again], "feed", editions=True, now=NOW)
    assert (got.accepted, got.editions, got.duplicates, got.conflicts) == (0, 0, 1, 0)
    assert store.head() == 2


def test_the_metrics_checkpoint_does_not_hold_a_prune_back() -> None:
    """/metrics' counts (`web:activity`) read a document's source only, which a prune keeps: a server that last
    scraped long ago must not bound what may go."""
    from watchfloor.web.activity import ACTIVITY_CHECKPOINT

    assert retention.ACTIVITY == ACTIVITY_CHECKPOINT
    store = filled()
    store.commit("engine", Checkpoint(8, None), [])
    store.commit(ACTIVITY_CHECKPOINT, Checkpoint(2, {"counts": {}}), [])
    assert retention.plan(store, 30, NOW).up_to == 8
