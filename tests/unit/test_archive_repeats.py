"""The archive counts the dead-letters topic's records that repeat a letter before them (a worker stopped before its
commit writes its batch's letters again: at-least-once), in the transaction that appends them, each record once
however often it is read; `dead-letters` and `status --broker` say them (outside trial 77, F6: the topic held 81
records, the store 78 letters, and nothing said why)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from watchfloor.cli.deadletters import repeated_note
from watchfloor.schemas.events import DeadLetter, Event, dead_letter_event
from watchfloor.stream_processors.kafka.archive import ArchiveStats, KafkaArchive
from watchfloor.stream_processors.kafka.repeats import count_repeats, read_repeats
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.stream_processors.stores.sql import SqlStore

TOPIC = "t.dead-letters"


def letter(i: int) -> Event:
    dl = DeadLetter(origin="inbox/backfill.jsonl", line=i, reason=f"late: report {i}", stage="event-time")
    return dead_letter_event(dl, datetime(2026, 12, 7, 17, 27, tzinfo=UTC))


class Rec:
    def __init__(self, offset: int) -> None:
        self.offset, self.timestamp, self.value = offset, 0, b""


class TP:
    topic, partition = TOPIC, 0


def archived(archive: KafkaArchive, batch: list[tuple[int, Event]]) -> ArchiveStats:
    """A batch of the dead-letters topic's partition 0 ((offset, event)), as poll_once hands it to the store."""
    stats = ArchiveStats()
    events = [ev for _, ev in batch]
    stats.archived = archive._append(
        events, [(TP(), Rec(o)) for o, _ in batch], stats, [(0, o, ev.id) for o, ev in batch]
    )
    return stats


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Any]:
    if request.param == "memory":
        store = MemoryStore()
        return lambda: store
    return lambda: SqlStore(f"sqlite:///{tmp_path / 'store.db'}")


def test_a_worker_restart_s_repeated_letters_are_counted_once_each(make_store: Callable[[], Any]) -> None:
    store = make_store()
    archive = KafkaArchive("127.0.0.1:9", store, topic_prefix="t")  # (no broker: the consumer is made on first use)
    a, b, c = letter(1), letter(2), letter(3)
    assert archived(archive, [(0, a), (1, b)]).archived == 2
    # The archive stopped before its offset commit: the batch read again adds nothing, repeats nothing
    again = archived(archive, [(0, a), (1, b)])
    assert (again.archived, again.repeated) == (0, 0)
    # A worker stopped before its commit wrote b again, then c and c again: two records repeat one before them
    then = archived(KafkaArchive("127.0.0.1:9", make_store(), topic_prefix="t"), [(2, b), (3, c), (4, c)])
    assert (then.archived, then.repeated) == (1, 2)
    assert read_repeats(make_store(), TOPIC) == 2
    assert store.count(types={"dead_letter"}) == 3
    assert repeated_note(5, 2) == (
        "5 records, 3 distinct: 2 repeated by a worker's restart (read again before its commit: at-least-once), "
        "kept once"
    )


def test_counting_leaves_out_what_it_counted_before() -> None:
    state, n = count_repeats(None, [(0, 0, "x"), (0, 1, "x"), (1, 0, "y")], set())
    assert (state, n) == ({"p": {"0": 2, "1": 1}, "n": 1}, 1)
    assert count_repeats(state, [(0, 1, "x"), (1, 0, "y")], {"x", "y"}) == (state, 0)  # read again: none new
