"""The Store contract (stream_processors/ports.py), once, for every implementation.

Subclass `StoreContract` (name the subclass Test...) and override the `make_store` fixture with a callable
that opens the store under test; each call must open the same backing data (a file, a database schema).
Stores whose data outlives the object (SQLite file, PostgreSQL) subclass `PersistentStoreContract`, which
adds reopen and multi-connection tests.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from tests.fixtures.ledger import settle_row
from tests.ledger_contract import LedgerContract, PersistentLedgerContract
from watchfloor.schemas.events import Event
from watchfloor.stream_processors.ports import (
    Checkpoint,
    CheckpointMoved,
    CheckpointStore,
    ConflictCheck,
    DeliveryLedger,
    DeliveryRecord,
    DocumentRetention,
    EditionBound,
    EditionCount,
    EditionLatest,
    EventLog,
    Store,
    StoredEvent,
)
from watchfloor.stream_processors.stores.errors import MAX_EVENT_ID_BYTES, RecordRejected

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def ev(i: int | str, type: str = "signal", *, payload: dict[str, Any] | None = None, **kw: Any) -> Event:
    """A small event; ids are stable so tests can re-ingest them."""
    return Event(
        id=f"e{i}", type=type, time=kw.pop("time", T0), payload={"n": str(i)} if payload is None else payload, **kw
    )


def doc(i: int, time: datetime, *, kind: str = "news.article", title: str = "Troops cross the border") -> Event:
    """A document event as ingest makes it (Document.model_dump): text, and what a prune keeps."""
    payload = {
        "id": f"e{i}",
        "type": kind,
        "published_at": time.isoformat(),
        "source": {"name": "Wire"},
        "url": f"https://wire.example/{i}",
        "title": title,
        "body": "A long body. " * 20,
        "language": "en",
        "issuer": None,
        "metadata": {},
    }
    return Event(id=f"e{i}", type=kind, time=time, payload=payload)


def _nested(depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for _ in range(depth):
        out = {"a": out}
    return out


def ids(stored: list[StoredEvent]) -> list[str]:
    return [se.event.id for se in stored]


def positions(stored: list[StoredEvent]) -> list[int]:
    return [se.position for se in stored]


def read_all(store: Store, after: int = 0) -> list[StoredEvent]:
    out: list[StoredEvent] = []
    while batch := store.read(after, limit=1000):
        out += batch
        after = batch[-1].position
    return out


class StoreContract(LedgerContract):
    """Behaviour every Store must have. Not collected itself (no Test prefix)."""

    @pytest.fixture
    def make_store(self) -> Callable[[], Store]:
        raise NotImplementedError("subclasses provide make_store")

    @pytest.fixture
    def open_store(self, make_store: Callable[[], Store]) -> Iterator[Callable[[], Store]]:
        """Opens stores through make_store and closes them all after the test."""
        opened: list[Store] = []

        def _open() -> Store:
            s = make_store()
            opened.append(s)
            return s

        yield _open
        for s in opened:
            s.close()

    @pytest.fixture
    def store(self, open_store: Callable[[], Store]) -> Store:
        return open_store()

    # -- protocol and empty store ----------------------------------------------------------------------------

    def test_implements_the_ports(self, store: Store) -> None:
        assert isinstance(store, EventLog)
        assert isinstance(store, CheckpointStore)
        assert isinstance(store, DeliveryLedger)

    def test_empty_store(self, store: Store) -> None:
        assert store.head() == 0
        assert store.count() == 0
        assert store.count(types=["signal"]) == 0
        assert store.read() == []
        assert store.append([]) == 0

    # -- append and dedup ------------------------------------------------------------------------------------

    def test_append_assigns_positions_in_append_order(self, store: Store) -> None:
        batch = [ev(i) for i in (3, 1, 2)]
        assert store.append(batch) == 3
        assert store.append([ev(0)]) == 1
        got = store.read()
        assert positions(got) == [1, 2, 3, 4]
        assert ids(got) == ["e3", "e1", "e2", "e0"]
        assert [se.event for se in got] == [*batch, ev(0)]

    def test_duplicates_in_one_batch_are_skipped_first_wins(self, store: Store) -> None:
        first = ev(1, payload={"v": "first"})
        again = ev(1, payload={"v": "second"})
        assert store.append([first, ev(2), again, ev(2)]) == 2
        got = store.read()
        assert ids(got) == ["e1", "e2"]
        assert got[0].event.payload == {"v": "first"}

    def test_duplicates_across_batches_are_skipped(self, store: Store) -> None:
        assert store.append([ev(1), ev(2)]) == 2
        assert store.append([ev(2), ev(3)]) == 1
        assert store.append([ev(1), ev(2), ev(3)]) == 0  # re-ingest
        got = store.read()
        assert ids(got) == ["e1", "e2", "e3"]
        assert positions(got) == [1, 2, 3]  # skipped duplicates leave no holes
        assert store.head() == 3
        assert store.count() == 3

    def test_reingest_of_a_large_batch_adds_nothing(self, store: Store) -> None:
        batch = [ev(i) for i in range(500)]
        assert store.append(batch) == 500
        assert store.append(batch) == 0
        assert store.append([*batch, ev(500)]) == 1
        assert store.head() == 501

    # -- read / head / count ---------------------------------------------------------------------------------

    def test_read_after_types_and_limit(self, store: Store) -> None:
        kinds = ["signal", "alert", "signal", "detection", "alert", "signal"]
        store.append([ev(i, kinds[i]) for i in range(6)])

        assert positions(store.read(0)) == [1, 2, 3, 4, 5, 6]
        assert positions(store.read(4)) == [5, 6]
        assert store.read(6) == []
        assert store.read(100) == []
        assert positions(store.read(0, limit=2)) == [1, 2]
        assert positions(store.read(2, limit=2)) == [3, 4]

        assert positions(store.read(0, types=["signal"])) == [1, 3, 6]
        assert positions(store.read(1, types={"signal"})) == [3, 6]
        assert positions(store.read(0, types=("alert", "detection"))) == [2, 4, 5]
        assert positions(store.read(0, types=["signal"], limit=2)) == [1, 3]
        assert store.read(0, types=["nothing"]) == []
        assert store.read(0, types=[]) == []
        assert all(se.event.type == "alert" for se in store.read(0, types=["alert"]))

    def test_paging_with_read_visits_every_event_once(self, store: Store) -> None:
        store.append([ev(i, "alert" if i % 3 == 0 else "signal") for i in range(250)])
        seen: list[StoredEvent] = []
        after = 0
        while page := store.read(after, types=["signal"], limit=7):
            seen += page
            after = page[-1].position
        assert len(seen) == store.count(types=["signal"]) == 166
        assert positions(seen) == sorted(set(positions(seen)))

    def test_read_payloads_is_read_without_the_envelope(self, store: Store) -> None:
        """(position, payload as JSON text) of the events `read` returns, with the same `after`, types and limit:
        the text the SQL stores keep (check_event's), which decodes to the payload that was appended."""
        kinds = ["signal", "detection", "signal", "detection", "detection", "alert"]
        payloads: list[dict[str, Any]] = [
            {"n": str(i), "nested": {"list": [1, 2.5, None, True], "t": "Ünïcode ✓ a\x00b"}, "big": 2**53 + i}
            for i in range(6)
        ]
        store.append([ev(i, kinds[i], payload=payloads[i]) for i in range(6)])
        for after, types, limit in [
            (0, None, 10),
            (0, ["detection"], 10),
            (2, {"detection"}, 10),
            (0, ["detection"], 2),
        ]:
            got = store.read_payloads(after, types=types, limit=limit)
            want = store.read(after, types=types, limit=limit)
            assert [p for p, _ in got] == positions(want)
            assert all(isinstance(text, str) for _, text in got)
            assert [orjson.loads(text) for _, text in got] == [se.event.payload for se in want]
        assert [p for p, _ in store.read_payloads(0, types=["detection"])] == [2, 4, 5]
        assert store.read_payloads(0, types=["detection"])[0][1] == orjson.dumps(payloads[1]).decode()
        assert store.read_payloads(5, types=["detection"]) == []
        assert store.read_payloads(0, types=[]) == []

    def test_head_and_count(self, store: Store) -> None:
        store.append([ev(1, "signal"), ev(2, "alert"), ev(3, "signal")])
        assert store.head() == 3
        assert store.count() == 3
        assert store.count(types=["signal"]) == 2
        assert store.count(types=["alert", "signal"]) == 3
        assert store.count(types=["nothing"]) == 0
        assert store.count(types=[]) == 0

    def test_count_after_a_position_counts_what_follows_it_only(self, store: Store) -> None:
        """What `status` asks (documents after the rules' checkpoint): counted by the store, not read (trial 18)."""
        store.append([ev(1, "signal"), ev(2, "alert"), ev(3, "signal"), ev(4, "signal")])
        assert store.count(after=0) == 4
        assert store.count(after=1) == 3
        assert store.count(types=["signal"], after=1) == 2
        assert store.count(types=["signal"], after=3) == 1
        assert store.count(types=["alert", "signal"], after=2) == 2
        assert store.count(types=["signal"], after=4) == 0
        assert store.count(after=99) == 0
        assert store.count(types=[], after=1) == 0

    def test_read_latest_read_ids_and_detections_of(self, store: Store) -> None:
        """`alerts list`'s reads: back from the head (newest first), by event id, and a detection by its alert id
        (the payload's `id`; a revision's event id is its own)."""
        store.append(
            [
                ev(1, "detection", payload={"id": "a1", "rule": "r"}, key="r"),
                ev(2, "signal"),
                ev(3, "detection", payload={"id": "b2", "rule": "q"}, key="q"),
                ev("a1-rev", "detection", payload={"id": "a1", "rule": "r"}, key="r"),
            ]
        )
        assert [se.position for se in store.read_latest(types=["detection"], limit=2)] == [4, 3]
        assert [se.position for se in store.read_latest(3, types=["detection"])] == [1]
        assert [se.position for se in store.read_latest(types=["detection"], key="r")] == [4, 1]
        assert [se.position for se in store.read_latest()] == [4, 3, 2, 1]
        assert store.count(types=["detection"], key="r") == 2
        assert [se.event.id for se in store.read_ids(["e3", "nope", "e1"])] == ["e1", "e3"]
        assert [se.event.id for se in store.detections_of(["a1", "e2"])] == ["e1", "ea1-rev"]
        assert store.detections_of(["b2"])[0].position == 3

    def test_alert_ids_starting_a_prefix(self, store: Store) -> None:
        """An alert id by its first characters (`alerts ack 3f9a0c1e`): each alert id once (a revision raises it
        again), sorted, only detections' ids, at most `limit`."""
        store.append(
            [
                ev(1, "detection", payload={"id": "3f9a0c1e77aa00000001", "rule": "r"}, key="r"),
                ev(2, "detection", payload={"id": "3f9a0c1e11bb00000002", "rule": "r"}, key="r"),
                ev("rev", "detection", payload={"id": "3f9a0c1e77aa00000001", "rule": "r"}, key="r"),
                ev(3, "detection", payload={"id": "3f9a0c1f00cc00000003", "rule": "r"}, key="r"),
                ev("3f9a0c1e99dd00000004", "signal", payload={"id": "3f9a0c1e99dd00000004"}),
                ev(4, "detection", payload={"id": "3f9a0c1e-z", "rule": "r"}, key="r"),
            ]
        )
        assert sorted(store.alert_ids_starting("3f9a0c1e")) == [
            "3f9a0c1e-z",
            "3f9a0c1e11bb00000002",
            "3f9a0c1e77aa00000001",
        ]
        assert store.alert_ids_starting("3f9a0c1e77") == ["3f9a0c1e77aa00000001"]
        assert store.alert_ids_starting("3f9a0c1f") == ["3f9a0c1f00cc00000003"]
        assert store.alert_ids_starting("3f9a0c1e1", limit=1) == ["3f9a0c1e11bb00000002"]
        assert store.alert_ids_starting("0000") == []
        assert store.alert_ids_starting("3f9a0c1e99") == []  # (a signal's id: not an alert)

    # -- event fidelity --------------------------------------------------------------------------------------

    @pytest.mark.parametrize(
        "offset", [timedelta(hours=9), timedelta(hours=-5, minutes=-30), timedelta(0), timedelta(hours=14)]
    )
    def test_time_round_trips_as_aware_datetime_with_the_same_instant(self, store: Store, offset: timedelta) -> None:
        t = datetime(2023, 12, 31, 23, 59, 58, 123456, tzinfo=timezone(offset))
        store.append([ev(1, time=t)])
        (got,) = store.read()
        assert got.event.time.tzinfo is not None
        assert got.event.time.utcoffset() is not None
        assert got.event.time == t
        assert got.event.time.astimezone(UTC) == t.astimezone(UTC)
        assert got.event.time.timestamp() == t.timestamp()

    def test_envelope_and_payload_round_trip(self, store: Store) -> None:
        original = Event(
            id="doc-1",
            type="news.article",
            schema_version=3,
            time=T0,
            key="rule-a|KURSK",
            payload={
                "title": "Ünïcode ✓ 北朝鮮",
                "nested": {"list": [1, 2.5, None, True, {"deep": ["x"]}], "empty": {}},
                "big": 2**53 + 1,
            },
        )
        store.append([original, ev(2)])
        got = store.read()
        assert got[0].event == original
        assert got[0].event.model_dump() == original.model_dump()
        assert got[1].event.key is None
        assert got[1].event.origin is None and got[1].event.received_at is None

    def test_origin_and_received_at_round_trip(self, store: Store) -> None:
        """The producer's stamps (source as configured, its clock) come back as written, offset included."""
        received = datetime(2024, 11, 12, 9, 30, 1, 250000, tzinfo=timezone(timedelta(hours=9)))
        stamped = ev(1, type="news.article", origin="https://example.org/feed.xml?a=1&b=ü", received_at=received)
        store.append([stamped])
        (got,) = store.read()
        assert got.event == stamped
        assert got.event.origin == "https://example.org/feed.xml?a=1&b=ü"
        assert got.event.received_at == received and got.event.received_at.utcoffset() == timedelta(hours=9)

    # -- what every store refuses, and what it keeps: the same on all of them ---------------------------------

    @pytest.mark.parametrize(
        ("bad", "field"),
        [
            (Event(id="doc\x00-1", type="news.article", time=T0, payload={}), "id"),
            (Event(id="k", type="detection", time=T0, key="rule\x00", payload={}), "key"),
            (Event(id="o", type="news.article", time=T0, origin="feed\x00.xml", payload={}), "origin"),
            (Event(id="x" * (MAX_EVENT_ID_BYTES + 1), type="signal", time=T0, payload={}), "id"),
            (Event(id="deep", type="signal", time=T0, payload=_nested(300)), "payload"),
            (Event(id="deeper", type="signal", time=T0, payload=_nested(1000)), "payload"),
        ],
        ids=["nul-in-id", "nul-in-key", "nul-in-origin", "id-too-long", "payload-300-deep", "payload-1000-deep"],
    )
    def test_an_event_no_store_can_keep_is_refused_and_nothing_of_its_batch_is_written(
        self, store: Store, bad: Event, field: str
    ) -> None:
        store.append([ev(0)])
        with pytest.raises(RecordRejected) as info:
            store.append([ev(1), bad, ev(2)])
        assert info.value.index == 1
        assert info.value.field == field
        with pytest.raises(RecordRejected):
            store.commit("p", Checkpoint(9, {"x": 1}), [ev(3), bad])
        assert ids(store.read()) == ["e0"]
        assert store.load_checkpoint("p") == Checkpoint(0, None)
        assert store.append([ev(1), ev(2)]) == 2  # the batch without it goes in

    def test_nul_inside_payload_text_round_trips(self, store: Store) -> None:
        original = Event(id="n", type="news.article", time=T0, payload={"title": "a\x00b", "m": {"k\x00": "v"}})
        store.append([original])
        assert store.read()[0].event == original

    def test_find_conflicts_names_ids_held_with_other_content(self, store: Store) -> None:
        assert isinstance(store, ConflictCheck)
        store.append([ev(1, payload={"v": "a"}), ev(2, payload={"v": "b"}), ev(3, "alert")])
        again = [ev(1, payload={"v": "a"}), ev(2, payload={"v": "B"}), ev(3, "signal"), ev(4)]
        assert store.find_conflicts(again) == ["e2", "e3"]
        assert store.find_conflicts([]) == []
        assert store.find_conflicts([ev(5)]) == []
        # A key only one side has (a field a later release adds) is no conflict; a nested value that differs is.
        store.append([ev(6, payload={"v": "a", "src": {"name": "W"}})])
        assert store.find_conflicts([ev(6, payload={"v": "a", "src": {"name": "W", "kind": "feed"}, "new": 1})]) == []
        assert store.find_conflicts([ev(6, payload={"v": "a", "src": {"name": "X"}})]) == ["e6"]

    # -- retention (watchfloor/retention.py) -----------------------------------------------------------------

    def test_strip_documents_removes_old_documents_text_only_and_keeps_each_event(self, store: Store) -> None:
        assert isinstance(store, DocumentRetention)
        old, new = T0 - timedelta(days=40), T0
        # An old document at +09:00 whose instant is before the cutoff though its text sorts after it (the time
        # column keeps each time's own offset), one old at the cutoff (kept), a new one, an old signal.
        tokyo = (T0 - timedelta(days=30, hours=1)).astimezone(timezone(timedelta(hours=9)))
        docs = [
            doc(1, old),
            ev("s", "signal", time=old, payload={"title": "kept", "body": "kept"}),
            doc(2, tokyo),
            doc(3, T0 - timedelta(days=30)),
            doc(4, new),
            doc(5, old, kind="official.statement"),
            doc(6, old),
        ]
        store.append(docs)
        before = T0 - timedelta(days=30)
        # Up to position 6 only: the document at 7 (e6) has not been read by every reader (the caller's bound).
        step = store.strip_documents(before, 0, 6, limit=100)
        assert (step.to, step.stripped) == (6, 3) and step.freed > 0
        got = {se.event.id: se for se in read_all(store)}
        assert positions(read_all(store)) == list(range(1, 8))
        for i in ("e1", "e2", "e5"):
            assert "title" not in got[i].event.payload and "body" not in got[i].event.payload, i
            assert got[i].event.payload["source"] == {"name": "Wire"} and got[i].event.payload["url"]
        assert got["e1"].event.time == old and got["e1"].event.type == "news.article"
        for i, d in (("es", docs[1]), ("e3", docs[3]), ("e4", docs[4]), ("e6", docs[6])):
            assert got[i].event.payload == d.payload, i  # a signal, a document at the cutoff, new, past the bound
        # Idempotent: again, nothing more; dedup by id holds and the stub reads as its re-ingested document.
        assert store.strip_documents(before, 0, 6).stripped == 0
        assert store.append(docs) == 0
        assert isinstance(store, ConflictCheck)
        assert store.find_conflicts(docs) == []
        assert store.find_conflicts([doc(1, old, title="Another story")]) == []  # (its text is gone: a duplicate)
        assert store.find_conflicts([doc(1, new)]) == ["e1"]  # a published_at the stub keeps still differs

    def test_strip_documents_goes_a_batch_at_a_time(self, store: Store) -> None:
        assert isinstance(store, DocumentRetention)
        store.append([doc(i, T0 - timedelta(days=40)) for i in range(1, 8)] + [ev("x", "detection")])
        seen, after = [], 0
        while after < 8:
            step = store.strip_documents(T0, after, 8, limit=3)
            seen.append((step.to, step.stripped))
            after = step.to
        assert seen == [(3, 3), (6, 3), (8, 1)]
        assert store.strip_documents(T0, 8, 8).to == 8

    def test_reclaim_space_after_a_prune_and_between_its_batches(self, store: Store) -> None:
        assert isinstance(store, DocumentRetention)
        store.append([doc(i, T0 - timedelta(days=40)) for i in range(1, 50)])
        assert store.strip_documents(T0, 0, 49, limit=20).stripped == 20
        assert isinstance(store.reclaim_space(during_prune=True), str)  # outside any transaction, between batches
        assert store.strip_documents(T0, 20, 49).stripped == 29
        assert store.reclaim_space()
        store.append([doc(60, T0)])  # the store goes on as before
        assert store.count() == 50 and store.read(49)[0].event.payload["body"]

    def test_checkpoint_positions_names_every_checkpoint(self, store: Store) -> None:
        assert isinstance(store, DocumentRetention)
        assert store.checkpoint_positions() == {}
        store.commit("engine", Checkpoint(5, {"big": "state"}), [])
        store.commit("source:feed", Checkpoint(0, {"at": "x"}), [])
        assert store.checkpoint_positions() == {"engine": 5, "source:feed": 0}

    def test_forget_checkpoint_deletes_only_a_checkpoint_still_where_it_was_read(self, store: Store) -> None:
        assert isinstance(store, DocumentRetention)
        store.commit("kafka-relay:gone", Checkpoint(7, {"wm": 1}), [])
        store.commit("engine", Checkpoint(9, None), [])
        # Moved since it was read (its relay still running): nothing is deleted, and the error says where it is.
        with pytest.raises(CheckpointMoved) as moved:
            store.forget_checkpoint("kafka-relay:gone", at=6)
        assert (moved.value.expected, moved.value.found) == (6, 7)
        assert store.checkpoint_positions() == {"kafka-relay:gone": 7, "engine": 9}
        assert store.forget_checkpoint("kafka-relay:gone", at=7, record=("gone", "kafka-relay:gone", {"p": 7})) is True
        assert store.checkpoint_positions() == {"engine": 9, "gone": 0}
        # Noted with it (one transaction), as a key of the record's state.
        assert store.load_checkpoint("gone") == Checkpoint(0, {"kafka-relay:gone": {"p": 7}})
        assert store.load_checkpoint("kafka-relay:gone") == Checkpoint(0, None)
        # None left: nothing to do, and nothing written.
        assert store.forget_checkpoint("kafka-relay:gone", at=7, record=("gone", "kafka-relay:gone", {"p": 1})) is False
        assert store.load_checkpoint("gone") == Checkpoint(0, {"kafka-relay:gone": {"p": 7}})
        # Another one forgotten: its entry joins the record, the first one's stays.
        store.commit("kafka-relay:other", Checkpoint(4, None), [])
        assert store.forget_checkpoint("kafka-relay:other", at=4, record=("gone", "kafka-relay:other", {"p": 4}))
        assert store.load_checkpoint("gone") == Checkpoint(
            0, {"kafka-relay:gone": {"p": 7}, "kafka-relay:other": {"p": 4}}
        )
        # A relay to it again starts afresh: its first commit (since 0) finds no checkpoint, as a new target's.
        store.commit("kafka-relay:gone", Checkpoint(3, None), [], since=0)
        assert store.checkpoint_position("kafka-relay:gone") == 3

    def test_count_editions_counts_the_ids_of_an_items_editions_only(self, store: Store) -> None:
        assert isinstance(store, EditionCount)
        item = "https://wire.example/a/1"
        h = "0123456789abcdef"
        editions = [f"{item}#edition-{h}", f"{item}#edition-{'f' * 16}", f"{item}#edition-{'0' * 16}"]
        near = [
            item,  # the item itself
            f"{item}#edition-{h[:-1]}",  # too short
            f"{item}#edition-{h}0",  # too long
            f"{item}#edition-{h[:-1]}Z",  # not hexadecimal, though in the range's bounds
            f"{item}x#edition-{h}",  # another item whose id starts with this one's
            f"{item[:-1]}#edition-{h}",  # an item whose id this one's starts with
            f"{item}#edition-{h}#edition-{h}",  # an edition of an id that looks like an edition
            f"{item}#EDITION-{h}",
        ]
        store.append([ev(i, type="news.article") for i in ["x", "y"]])
        store.append([Event(id=i, type="news.article", time=T0, payload={}) for i in near + editions])
        # Non-ASCII ids sort by code point (byte order): an item in Hangul, one after it in every collation.
        store.append([Event(id=f"기사-7#edition-{h}", type="news.article", time=T0, payload={})])
        assert store.count_editions([item, "기사-7", f"{item[:-1]}", "nothing", "a\x00b"]) == {
            item: 3,
            "기사-7": 1,
            item[:-1]: 1,
            "nothing": 0,
            "a\x00b": 0,
        }
        assert store.count_editions([]) == {}

    def test_enqueue_appends_its_events_in_the_same_transaction(self, store: Store) -> None:
        row = DeliveryRecord("a1", "desk", payload={"k": 1})
        assert store.enqueue([row], [ev(1, "alert")]) == 1
        assert ids(store.read()) == ["e1"] and store.delivery_status("a1", "desk") == "outstanding"
        # A refused event: neither it nor the row goes in.
        with pytest.raises(RecordRejected):
            store.enqueue([DeliveryRecord("a2", "desk")], [ev(2), Event(id="x\x00", type="alert", time=T0, payload={})])
        assert ids(store.read()) == ["e1"] and store.delivery_status("a2", "desk") is None
        assert store.enqueue([row], [ev(1, "alert")]) == 0  # again: nothing new

    def test_latest_editions_names_each_items_last_edition_appended(self, store: Store) -> None:
        assert isinstance(store, EditionLatest)
        item, other = "https://wire.example/a/4", "기사-8"
        # Appended in an order their ids do not sort in: the last appended is the latest, whatever its hash.
        late = [f"{item}#edition-{'f' * 16}", f"{item}#edition-{'0' * 16}", f"{item}#edition-{'7' * 16}"]
        store.append([Event(id=item, type="news.article", time=T0, payload={"v": 0})])
        for n, i in enumerate(late[:2], 1):
            store.append([Event(id=i, type="news.article", time=T0, payload={"v": n})])
        store.append([Event(id=f"{item}x#edition-{'1' * 16}", type="news.article", time=T0, payload={})])
        store.append([Event(id=f"{other}#edition-{'a' * 16}", type="news.article", time=T0, payload={"v": 9})])
        store.append([Event(id=late[2], type="news.article", time=T0, payload={"v": 3}), ev("plain")])
        got = store.latest_editions([item, other, "nothing", item[:-1], "a\x00b"])
        assert {k: (v.id, v.payload) for k, v in got.items()} == {
            item: (late[2], {"v": 3}),
            other: (f"{other}#edition-{'a' * 16}", {"v": 9}),
        }
        assert store.latest_editions([]) == {}

    def test_append_bounded_leaves_out_editions_past_the_bound_at_the_write(self, store: Store) -> None:
        assert isinstance(store, EditionBound)
        item, other = "https://wire.example/a/2", "https://wire.example/a/3"

        def edition(of: str, n: int) -> Event:
            return Event(id=f"{of}#edition-{n:016x}", type="news.article", time=T0, payload={"n": n})

        store.append([Event(id=item, type="news.article", time=T0, payload={}), edition(item, 1)])
        # One more of `item` fits (bound 2): the first new one in the batch; the one already in the log is no new
        # edition (dedup by id), another item's and events of no edition are not bounded.
        batch = [edition(item, 1), edition(item, 2), edition(item, 3), edition(other, 1), ev("plain")]
        added, left_out = store.append_bounded(batch, 2, ("feed", Checkpoint(0, {"held": {}})))
        assert (added, left_out) == (3, [edition(item, 3).id])
        assert store.count_editions([item, other]) == {item: 2, other: 1}
        assert store.load_checkpoint("feed") == Checkpoint(0, {"held": {}})
        assert store.append_bounded([edition(item, 4)], 2) == (0, [edition(item, 4).id])
        assert store.append_bounded([edition(item, 2)], 2) == (0, [])  # in the log already: a duplicate

    # -- checkpoints -----------------------------------------------------------------------------------------

    def test_load_checkpoint_default(self, store: Store) -> None:
        assert store.load_checkpoint("nobody") == Checkpoint(0, None)

    def test_checkpoint_position_alone(self, store: Store) -> None:
        assert store.checkpoint_position("nobody") == 0
        store.commit("p", Checkpoint(4, {"big": list(range(100))}), [])
        assert store.checkpoint_position("p") == 4
        store.commit("p", Checkpoint(6, None), [])
        assert store.checkpoint_position("p") == 6 and store.checkpoint_position("other") == 0

    def test_commit_saves_outputs_and_checkpoint_together(self, store: Store) -> None:
        store.append([ev(1), ev(2)])
        outs = [ev("out-1", "detection"), ev("out-2", "detection")]
        assert store.commit("correlator", Checkpoint(2, {"open": ["g1"]}), outs) == 2
        assert store.load_checkpoint("correlator") == Checkpoint(2, {"open": ["g1"]})
        assert ids(store.read(2)) == ["eout-1", "eout-2"]
        assert positions(store.read(2)) == [3, 4]
        assert store.load_checkpoint("other") == Checkpoint(0, None)

    def test_commit_with_duplicate_outputs_still_saves_the_checkpoint(self, store: Store) -> None:
        out = ev("out", "detection")
        assert store.commit("p", Checkpoint(1, {"k": 1}), [out]) == 1
        # Replaying after a crash: the same output again, a later position.
        assert store.commit("p", Checkpoint(5, {"k": 2}), [out]) == 0
        assert store.load_checkpoint("p") == Checkpoint(5, {"k": 2})
        assert store.count() == 1

    def test_commit_without_outputs(self, store: Store) -> None:
        assert store.commit("p", Checkpoint(7, None), []) == 0
        assert store.load_checkpoint("p") == Checkpoint(7, None)
        assert store.commit("p", Checkpoint(8, {"a": 1}), []) == 0
        assert store.load_checkpoint("p") == Checkpoint(8, {"a": 1})
        assert store.commit("p", Checkpoint(9, None), []) == 0
        assert store.load_checkpoint("p") == Checkpoint(9, None)

    def test_commit_since_is_a_compare_and_set(self, store: Store) -> None:
        # No checkpoint yet counts as position 0.
        assert store.commit("p", Checkpoint(3, {"k": 1}), [ev("o1", "detection")], since=0) == 1
        assert store.commit("p", Checkpoint(5, {"k": 2}), [ev("o2", "detection")], since=3) == 1
        # A slower follower that read position 3 must not write its outputs nor move the checkpoint back.
        with pytest.raises(CheckpointMoved) as moved:
            store.commit("p", Checkpoint(4, {"k": "stale"}), [ev("o3", "detection")], since=3)
        assert (moved.value.processor, moved.value.expected, moved.value.found) == ("p", 3, 5)
        assert store.load_checkpoint("p") == Checkpoint(5, {"k": 2})
        assert ids(read_all(store)) == ["eo1", "eo2"]
        # A follower that expects a fresh start finds someone else's checkpoint.
        with pytest.raises(CheckpointMoved):
            store.commit("p", Checkpoint(9, None), [], since=0)
        # A follower that read a position finds no checkpoint at all (reset by hand): not its to recreate.
        with pytest.raises(CheckpointMoved) as gone:
            store.commit("never", Checkpoint(9, None), [ev("o4", "detection")], since=5)
        assert (gone.value.expected, gone.value.found) == (5, 0) and store.checkpoint_position("never") == 0
        # Without `since` a commit is unconditional, as before, and other processors are independent.
        assert store.commit("q", Checkpoint(2, None), [], since=0) == 0
        assert store.commit("p", Checkpoint(1, None), []) == 0
        assert store.checkpoint_position("p") == 1 and store.checkpoint_position("q") == 2

    def test_state_round_trip(self, store: Store) -> None:
        state: dict[str, Any] = {
            "windows": {"g|KURSK": [{"id": "s1", "at": "2024-03-01T12:00:00+00:00"}, {"id": "s2"}]},
            "counts": [1, 2, [3, [4, {"five": 5}]]],
            "flags": {"on": True, "off": False, "none": None},
            "ratio": 0.25,
            "text": "ü→北",
            "empty": {"d": {}, "l": []},
        }
        expected = copy.deepcopy(state)
        store.commit("p", Checkpoint(3, state), [])
        got = store.load_checkpoint("p")
        assert got == Checkpoint(3, state)
        # The store hands back its own copy: mutating what was saved or loaded changes nothing stored.
        state["windows"]["g|KURSK"].clear()
        assert got.state is not None
        got.state["counts"].append(99)
        assert store.load_checkpoint("p") == Checkpoint(3, expected)

    def test_checkpoint_and_outputs_are_seen_together(self, store: Store) -> None:
        """Atomicity as a reader sees it: never a checkpoint without its outputs, nor outputs without it."""
        n = 60
        errors: list[str] = []
        done = threading.Event()

        def reader() -> None:
            while not done.is_set():
                cp = store.load_checkpoint("p").position
                outs = store.count(types=["detection"])
                if outs < cp:  # checkpoint visible before its outputs
                    errors.append(f"checkpoint {cp} but only {outs} outputs")
                outs = store.count(types=["detection"])
                cp = store.load_checkpoint("p").position
                if cp < outs:  # outputs visible before their checkpoint
                    errors.append(f"{outs} outputs but checkpoint {cp}")

        t = threading.Thread(target=reader)
        t.start()
        try:
            for i in range(1, n + 1):
                store.commit("p", Checkpoint(i, {"i": i}), [ev(f"d{i}", "detection")])
        finally:
            done.set()
            t.join()
        assert errors == []
        assert store.load_checkpoint("p") == Checkpoint(n, {"i": n})

    def test_concurrent_appends_from_two_threads(self, store: Store) -> None:
        self._concurrent_appends([store, store], store)

    def test_ten_thousand_event_batch(self, store: Store) -> None:
        batch = [ev(i, "signal" if i % 2 else "alert", payload={"i": i, "text": "x" * 100}) for i in range(10_000)]
        assert store.append(batch) == 10_000
        assert store.head() == 10_000
        assert store.count() == 10_000
        assert store.count(types=["alert"]) == 5_000
        assert store.append(batch) == 0
        tail = store.read(9_990)
        assert positions(tail) == list(range(9_991, 10_001))
        assert [se.event for se in tail] == batch[9_990:]
        got = read_all(store)
        assert len(got) == 10_000 and positions(got) == list(range(1, 10_001))

    @staticmethod
    def _concurrent_appends(writers: list[Store], reader_store: Store) -> None:
        """Writers append overlapping batches at once; a reader tails the log meanwhile.

        Checks: no lost or doubled event, positions unique and gap-free, and the tailing reader never
        meets a position at or below one it has already passed.
        """
        per_thread, batch_size, overlap = 30, 20, 5
        errors: list[BaseException] = []
        reader_errors: list[str] = []
        done = threading.Event()
        start = threading.Barrier(len(writers) + 1)

        def write(w: int, s: Store) -> None:
            try:
                start.wait()
                for b in range(per_thread):
                    batch = [ev(f"w{w}-b{b}-{i}") for i in range(batch_size)]
                    batch += [ev(f"shared-b{b}-{i}") for i in range(overlap)]  # both writers send these
                    s.append(batch)
            except BaseException as exc:
                errors.append(exc)

        seen: list[int] = []

        def tail() -> None:
            start.wait()
            after = 0
            while True:
                finished = done.is_set()
                page = reader_store.read(after)
                if page:
                    got = positions(page)
                    if got != list(range(after + 1, after + 1 + len(got))):
                        reader_errors.append(f"after {after} read positions {got[:5]}...")
                    seen.extend(got)
                    after = got[-1]
                elif finished:
                    return

        threads = [threading.Thread(target=write, args=(w, s)) for w, s in enumerate(writers)]
        reader = threading.Thread(target=tail)
        for t in [*threads, reader]:
            t.start()
        for t in threads:
            t.join()
        done.set()
        reader.join()

        assert errors == []
        assert reader_errors == []
        expected = len(writers) * per_thread * batch_size + per_thread * overlap
        everything = read_all(reader_store)
        assert len(everything) == expected == reader_store.count() == reader_store.head()
        assert len(set(ids(everything))) == expected
        assert positions(everything) == list(range(1, expected + 1))
        assert seen == positions(everything)


class PersistentStoreContract(PersistentLedgerContract, StoreContract):
    """Stores whose data outlives the store object: reopen, and several store objects on the same data."""

    def test_reopen_sees_the_same_events_checkpoints_and_deliveries(self, open_store: Callable[[], Store]) -> None:
        t = datetime(2024, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=9)))
        first = open_store()
        first.append([ev(1, time=t), ev(2, "alert")])
        first.commit("p", Checkpoint(2, {"nested": {"a": [1, 2]}}), [ev(3, "detection")])
        settle_row(first, "a1", "slack", "sent", "ts")  # its delivery event is the log's 4th
        before = first.read()
        first.close()

        again = open_store()
        assert again.read() == before
        assert again.read()[0].event.time == t
        assert again.head() == 4
        assert again.load_checkpoint("p") == Checkpoint(2, {"nested": {"a": [1, 2]}})
        assert again.delivery_status("a1", "slack") == "sent"
        assert again.append([ev(1), ev(4)]) == 1
        assert positions(again.read(4)) == [5]

    def test_second_store_object_sees_committed_writes(self, open_store: Callable[[], Store]) -> None:
        a, b = open_store(), open_store()
        a.append([ev(1)])
        assert ids(b.read()) == ["e1"]
        assert b.append([ev(1), ev(2)]) == 1
        assert positions(a.read()) == [1, 2]
        b.commit("p", Checkpoint(2, {"x": 1}), [])
        assert a.load_checkpoint("p") == Checkpoint(2, {"x": 1})

    def test_two_store_objects_cannot_both_commit_from_one_position(self, open_store: Callable[[], Store]) -> None:
        """Like two processes that read the same checkpoint: the second commit is refused, whatever it holds."""
        a, b = open_store(), open_store()
        a.commit("engine", Checkpoint(10, {"by": "a"}), [], since=0)
        seen_by_both = a.checkpoint_position("engine")
        assert b.checkpoint_position("engine") == seen_by_both == 10
        a.commit("engine", Checkpoint(20, {"by": "a"}), [ev("from-a", "detection")], since=seen_by_both)
        with pytest.raises(CheckpointMoved):
            b.commit("engine", Checkpoint(15, {"by": "b"}), [ev("from-b", "detection")], since=seen_by_both)
        assert b.load_checkpoint("engine") == Checkpoint(20, {"by": "a"})
        assert ids(read_all(b)) == ["efrom-a"]

    def test_concurrent_appends_from_two_store_objects(self, open_store: Callable[[], Store]) -> None:
        """Like two processes: only the database's own locking can keep positions in order."""
        self._concurrent_appends([open_store(), open_store()], open_store())

    def test_a_prune_beside_a_writer_loses_nothing_and_keeps_positions(self, open_store: Callable[[], Store]) -> None:
        """`store prune` beside a live `run` (two store objects, as two processes): the writer's events all go in at
        gap-free positions while the prune's batches commit between them, and the prune strips only what it may."""
        writer, pruner = open_store(), open_store()
        assert isinstance(pruner, DocumentRetention)
        old = T0 - timedelta(days=40)
        writer.append([doc(i, old) for i in range(1, 301)])
        errors: list[BaseException] = []

        def write() -> None:
            try:
                for k in range(30):
                    writer.append([doc(1000 + 10 * k + j, T0 - timedelta(days=40 * (j % 2))) for j in range(10)])
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        thread = threading.Thread(target=write)
        thread.start()
        after, stripped = 0, 0
        while after < 300:
            step = pruner.strip_documents(T0 - timedelta(days=30), after, 300, limit=25)
            after, stripped = step.to, stripped + step.stripped
        thread.join()
        assert not errors and stripped == 300
        everything = read_all(pruner)
        assert positions(everything) == list(range(1, 601))
        # Above the bound (300) nothing was touched, however old: those the writer added keep their text.
        assert all("body" in se.event.payload for se in everything[300:])
        assert not any("body" in se.event.payload for se in everything[:300])
