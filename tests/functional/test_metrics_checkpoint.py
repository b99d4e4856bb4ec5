"""/metrics of a new process reads only what came after its activity checkpoint (the counts, saved with the log
position they cover), and counts exactly what a full read of the log counts, across restarts with events appended
between (operator trial: the first scrape after each start read the whole log, ~40 s at 221k events, past
Prometheus's 10 s scrape timeout). Real stores (SQLite on disk, PostgreSQL), real HTTP scrapes."""

from __future__ import annotations

import logging
import sqlite3
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.notice import DIGEST_KIND
from watchfloor.alerts.slackapp.commands import AppContext
from watchfloor.schemas.events import (
    Alert,
    CaughtUp,
    DeadLetter,
    Delivery,
    Detection,
    Document,
    Event,
    Retraction,
    Signal,
    SourceRef,
    alert_event,
    caught_up_event,
    dead_letter_event,
    delivery_event,
    detection_event,
    document_event,
    retraction_event,
    signal_event,
)
from watchfloor.stream_processors.ports import Checkpoint, DeliveryRecord, StoredEvent
from watchfloor.stream_processors.stores.errors import StoreError
from watchfloor.stream_processors.stores.sql import SqlStore
from watchfloor.web.activity import ACTIVITY_CHECKPOINT, ACTIVITY_VERSION, RECENT_ALERTS, Activity, ActivityView
from watchfloor.web.metrics import LogCollector, created_at, registry_for
from watchfloor.web.server import Services, WebServer, create_app

pytestmark = pytest.mark.functional

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=2)
CHANNELS = ("desk", "wire")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wf.db'}"
    else:
        yield request.getfixturevalue("pg_url")


class Counting:
    """A real store that counts the events its `read` returns: what a scrape reads of the log."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.read_events = 0
        self.ids_asked = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def read(self, after: int = 0, **kw: Any) -> list[StoredEvent]:
        got = self.store.read(after, **kw)
        self.read_events += len(got)
        return got

    def read_ids(self, ids: Any) -> list[StoredEvent]:
        self.ids_asked += len(ids)
        return self.store.read_ids(ids)


def grow(store: SqlStore, lo: int, hi: int) -> int:
    """Append steps lo..hi-1 of a pipeline's log: per step a document (a new source name each: past 500 of them
    they count together, so the names' order matters), a signal, and every other step a detection with its alert
    (raised on receipt), deliveries of the alert raised 30 steps before (sent: timed from a raise time that may be
    before a checkpoint; failed), now and then a digest sent (timed from its ledger row), a retraction, a dead letter
    and a `caught_up` (a type the counts do not read). Returns the log's head."""
    events: list[Event] = []
    for i in range(lo, hi):
        at = T0 + timedelta(minutes=i)
        doc = Document(
            id=f"doc-{i}",
            type="official.statement" if i % 5 == 0 else "news.article",
            published_at=at,
            source=SourceRef(name=f"Source {i}"),
            title=f"Report {i}",
            body="A long article body that the counts need not read. " * 20,
        )
        events.append(document_event(doc, origin="inbox.jsonl", received_at=at))
        sig = Signal(
            id=f"sig-{i}",
            name=f"signal-{i % 7}",
            document_id=doc.id,
            source=doc.source.name,
            published_at=at,
            sentence="A sentence.",
            sentence_index=0,
            modality="asserted",
        )
        events.append(signal_event(sig))
        if i % 2 == 0:
            det = Detection(
                id=f"det-{i}",
                rule=f"rule-{i % 5}",
                title=f"Story {i}",
                severity="high",
                group={"g": str(i)},
                fired_at=at,
            )
            events.append(detection_event(det).model_copy(update={"received_at": at}))
            events.append(alert_event(Alert(id=det.id, detection=det, channels=CHANNELS)))
            if i >= 30:
                old = f"det-{i - 30}"
                sent = at + timedelta(seconds=i % 11)
                events.append(delivery_event(Delivery(alert_id=old, channel="desk", status="sent", at=sent)))
                events.append(
                    delivery_event(Delivery(alert_id=old, channel="wire", status="failed", detail="503", at=sent))
                )
        if i % 9 == 0:
            key = f"thr-desk-{i}"
            store.enqueue(
                [DeliveryRecord(key, "desk", status="sent", kind=DIGEST_KIND, seq=i, created_at=at.timestamp())]
            )
            later = at + timedelta(seconds=5)
            events.append(delivery_event(Delivery(alert_id=key, channel="desk", status="sent", at=later)))
        if i % 13 == 0:
            r = Retraction(alert_id=f"det-{i - i % 2}", rule="rule-0", reason="withdrawn", revision=1, at=at)
            events.append(retraction_event(r).model_copy(update={"received_at": at}))
        if i % 17 == 0:
            dl = DeadLetter(origin="inbox.jsonl", line=i, reason=f"malformed JSON: line {i}", stage="ingest")
            events.append(dead_letter_event(dl, at))
        if i % 50 == 0:
            events.append(caught_up_event(CaughtUp(at=at, origins=("inbox.jsonl",))))
    store.append(events)
    return store.head()


def serve(store: Any) -> WebServer:
    control = ControlLog(store)
    services = Services(
        store=store,
        control=control,
        context=AppContext(control=control, rules={}),
        now=lambda: NOW,
        channels=CHANNELS,
    )
    return WebServer(create_app(services), "127.0.0.1", 0).start()


def scrape(server: WebServer) -> dict[str, list[Any]]:
    with urllib.request.urlopen(server.url + "/metrics", timeout=60) as resp:
        text = resp.read().decode()
    return families(text)


def families(text: str) -> dict[str, list[Any]]:
    """Our families' samples (not the process's, which differ from one process to the next)."""
    return {
        f.name: sorted((s.name, sorted(s.labels.items()), s.value) for s in f.samples)
        for f in text_string_to_metric_families(text)
        if f.name.startswith("watchfloor_")
    }


def full_read(store: SqlStore) -> tuple[dict[str, list[Any]], Activity]:
    """What a view that reads the whole log (no checkpoint) reports."""
    view = ActivityView(store)
    collector = LogCollector(store, view, ControlLog(store), now=lambda: NOW, channels=CHANNELS)
    return families(generate_latest(registry_for(collector)).decode()), view.activity


def settled(view: ActivityView, store: SqlStore) -> Activity:
    """The view brought up to date as a scrape does (the unraised sends timed from their ledger rows)."""
    view.refresh()
    view.latencies(lambda keys: created_at(store, keys))
    return view.activity


def same_counts(a: Activity, b: Activity) -> None:
    """Everything but the raise times (a view from a checkpoint has only those its deliveries needed)."""
    sa, sb = a.to_state(), b.to_state()
    assert sa == sb


def test_a_restarted_server_reads_only_what_came_after_its_checkpoint_and_counts_as_a_full_read(url: str) -> None:
    store = SqlStore(url)
    try:
        head = grow(store, 0, 300)
        counting = Counting(store)
        server = serve(counting)
        try:
            first = scrape(server)
            assert counting.read_events == head  # no checkpoint yet: the whole log, once
            counting.read_events = 0
            assert scrape(server) == first and counting.read_events == 0  # nothing new: nothing read
        finally:
            server.stop()
        assert first == full_read(store)[0]
        assert store.checkpoint_position(ACTIVITY_CHECKPOINT) == head
    finally:
        store.close()

    # Events appended while no server runs: sources past the 500 kept as labels, more alerts than the status page
    # keeps (RECENT_ALERTS), sends of alerts raised before the checkpoint (their raise times looked up by id).
    store = SqlStore(url)
    try:
        new_head = grow(store, 300, 720)
        assert (720 - 300) // 2 + 300 // 2 > RECENT_ALERTS
        counting = Counting(store)
        server = serve(counting)  # a new server: another store connection, another view
        try:
            second = scrape(server)
        finally:
            server.stop()
        assert counting.read_events == new_head - head  # only the tail
        expected, whole = full_read(store)
        assert second == expected
        assert counting.ids_asked > 0  # sends of alerts raised before the checkpoint: looked up, not read again
        assert second["watchfloor_detection_to_delivery_seconds"] != first["watchfloor_detection_to_delivery_seconds"]
        assert ["(other sources)"] == [
            dict(labels)["source"]
            for _, labels, _ in second["watchfloor_documents_ingested"]
            if dict(labels)["source"].startswith("(")
        ]

        # The same through the view itself (what the status page shows: the recent alerts and their deliveries).
        again = ActivityView(store, store)
        same_counts(settled(again, store), whole)
        assert [r.deliveries for r in again.activity.recent] == [r.deliveries for r in whole.recent]
        assert len(again.activity.raised) < len(whole.raised)  # raise times before the checkpoint are not kept
    finally:
        store.close()


def test_a_checkpoint_of_another_version_or_log_is_not_used(url: str, caplog: pytest.LogCaptureFixture) -> None:
    store = SqlStore(url)
    try:
        head = grow(store, 0, 60)
        ActivityView(store, store).refresh()
        saved = store.load_checkpoint(ACTIVITY_CHECKPOINT)
        assert saved.position == head and saved.state is not None and saved.state["version"] == ACTIVITY_VERSION
        expected = full_read(store)[1]

        # an older version's checkpoint (counted by other rules): read whole, and replaced
        older = {"version": ACTIVITY_VERSION - 1, "activity": {"position": head}}
        store.commit(ACTIVITY_CHECKPOINT, Checkpoint(head, older), [], since=head)
        counting = Counting(store)
        view = ActivityView(counting, counting)
        same_counts(settled(view, store), expected)
        assert counting.read_events == head
        assert f"not used (version {ACTIVITY_VERSION - 1}" in caplog.text
        assert store.load_checkpoint(ACTIVITY_CHECKPOINT).state["version"] == ACTIVITY_VERSION  # type: ignore[index]

        # one that covers more than the log holds (another store's): read whole, and replaced
        bogus = {"version": ACTIVITY_VERSION, "activity": {**saved.state["activity"], "position": head + 500}}
        store.commit(ACTIVITY_CHECKPOINT, Checkpoint(head + 500, bogus), [], since=head)
        counting = Counting(store)
        same_counts(settled(ActivityView(counting, counting), store), expected)
        assert counting.read_events == head
        assert store.checkpoint_position(ACTIVITY_CHECKPOINT) == head

        # a newer watchfloor's (another server still running it): read whole, and left to it
        newer = {"version": ACTIVITY_VERSION + 1, "activity": {}}
        store.commit(ACTIVITY_CHECKPOINT, Checkpoint(head, newer), [], since=head)
        same_counts(settled(ActivityView(store, store), store), expected)
        assert store.load_checkpoint(ACTIVITY_CHECKPOINT).state == newer
    finally:
        store.close()


def test_saves_are_spaced_and_never_move_the_checkpoint_back(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        head = grow(store, 0, 40)
        clock = [0.0]
        view = ActivityView(store, store, save_after=1000, save_every=60.0, clock=lambda: clock[0])
        view.refresh()
        assert store.checkpoint_position(ACTIVITY_CHECKPOINT) == head  # the first refresh that read anything
        head2 = grow(store, 40, 50)
        view.refresh()
        assert store.checkpoint_position(ACTIVITY_CHECKPOINT) == head  # a few events, a minute not past: not yet
        clock[0] = 61.0
        view.refresh()
        assert store.checkpoint_position(ACTIVITY_CHECKPOINT) == head2
        # another server, further on, saved a later one: this view's next save does not move it back
        other = ActivityView(store, store)
        head3 = grow(store, 50, 60)
        other.refresh()
        assert store.checkpoint_position(ACTIVITY_CHECKPOINT) == head3
        view._saved_at = None  # (due at once)
        view._saved = 0
        view.refresh()
        assert store.checkpoint_position(ACTIVITY_CHECKPOINT) == head3
    finally:
        store.close()


class ReadOnly(Counting):
    """A real store this process may not write (a read-only grant): every commit is refused."""

    def commit(self, *args: Any, **kw: Any) -> int:
        raise StoreError(str(self.store.url), "permission denied for table checkpoints")

    def commit_now(self, *args: Any, **kw: Any) -> bool:
        return bool(self.commit())


def test_a_store_the_server_may_not_write_still_gets_its_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        head = grow(store, 0, 40)
        clock = [0.0]
        view = ActivityView(ReadOnly(store), ReadOnly(store), save_every=60.0, clock=lambda: clock[0])
        same_counts(settled(view, store), full_read(store)[1])
        grow(store, 40, 50)
        clock[0] = 120.0
        same_counts(settled(view, store), full_read(store)[1])
        assert store.checkpoint_position(ACTIVITY_CHECKPOINT) == 0
        said = [r.getMessage() for r in caplog.records if "not saved" in r.getMessage()]
        assert len(said) == 1 and "permission denied" in said[0] and "from position 0" in said[0], said
        assert view.activity.position > head
    finally:
        store.close()


def test_a_scrape_while_another_process_holds_the_write_lock_answers_without_saving(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A scrape's checkpoint save waited out SQLite's 30 s busy timeout while another process held the write lock
    (past Prometheus's 10 s scrape timeout, during the very outage the operator scrapes for), and its failure then
    marked the whole store down. Now the save is skipped while the store is busy (said once), the scrape answers
    with exact counts and watchfloor_store_up 1, and the next scrape after the lock is released saves. The lock is
    released only once the scrapes have answered: they did not wait for it."""
    db = tmp_path / "wf.db"
    store = SqlStore(f"sqlite:///{db}")
    other = sqlite3.connect(db, isolation_level=None)
    try:
        head = grow(store, 0, 120)
        expected = full_read(store)[0]
        server = serve(store)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process takes the write lock and keeps it
            try:
                with caplog.at_level(logging.INFO):
                    for _ in range(2):
                        assert scrape(server) == expected  # store_up 1 and every count, from reads alone
                    assert store.checkpoint_position(ACTIVITY_CHECKPOINT) == 0  # not saved: the store was busy
                    assert store.write_problem is None  # a skipped save is not a failed write of the pipeline
                    said = [r.getMessage() for r in caplog.records if "not saved" in r.getMessage()]
                    assert len(said) == 1 and "the store is busy" in said[0], said  # once, not per scrape
            finally:
                other.execute("COMMIT")  # released only now, after the scrapes answered
            caplog.clear()
            assert scrape(server) == expected
            assert store.checkpoint_position(ACTIVITY_CHECKPOINT) == head  # tried again, and saved
            assert not [r for r in caplog.records if "not saved" in r.getMessage()]

            # This process's own pipeline writing (its in-process writer lock held, as a commit waiting for SQLite's
            # lock holds it): a save due is skipped the same way, without waiting for it.
            grow(store, 120, 130)
            held, done = threading.Event(), threading.Event()

            def pipeline_writing() -> None:
                with store._write_lock:
                    held.set()
                    done.wait(120)

            writer = threading.Thread(target=pipeline_writing)
            writer.start()
            try:
                assert held.wait(60)
                view = ActivityView(store, store)
                same_counts(settled(view, store), full_read(store)[1])
                assert store.checkpoint_position(ACTIVITY_CHECKPOINT) == head
            finally:
                done.set()
                writer.join()
        finally:
            server.stop()
    finally:
        other.close()
        store.close()


def test_commit_now_gives_up_on_a_lock_held_elsewhere_and_leaves_the_store_up(url: str) -> None:
    """SqlStore.commit_now, the activity save's write: with the write lock (SQLite) or the checkpoint's row
    (PostgreSQL: another server's save) held by another connection, it writes nothing and answers False instead of
    waiting, and the store is not marked down; once released it saves."""
    store = SqlStore(url)
    other = create_engine(url).connect()
    try:
        store.commit(ACTIVITY_CHECKPOINT, Checkpoint(1, {"n": 1}), [])
        if store.url.get_backend_name() == "sqlite":
            other.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            other.begin()
            other.execute(
                text("SELECT position FROM checkpoints WHERE processor = :p FOR UPDATE"), {"p": ACTIVITY_CHECKPOINT}
            )
        try:
            assert store.commit_now(ACTIVITY_CHECKPOINT, Checkpoint(2, {"n": 2}), since=1, wait=0.05) is False
            assert store.write_problem is None
        finally:
            other.rollback() if other.in_transaction() else other.exec_driver_sql("ROLLBACK")
        assert store.load_checkpoint(ACTIVITY_CHECKPOINT) == Checkpoint(1, {"n": 1})
        assert store.commit_now(ACTIVITY_CHECKPOINT, Checkpoint(2, {"n": 2}), since=1, wait=0.05) is True
        assert store.load_checkpoint(ACTIVITY_CHECKPOINT) == Checkpoint(2, {"n": 2})
    finally:
        other.close()
        store.close()


def test_a_long_stretch_read_type_by_type_counts_as_page_by_page(url: str) -> None:
    """The first read of a big log (and a restart long after the last save) reads each type by its index and the
    documents' payload text alone (no `Event` per article), merged back into log order: the same counts, the
    source names' order included (both document types, past the 500 names kept)."""
    store = SqlStore(url)
    try:
        head = grow(store, 0, 300)
        by_pages = ActivityView(store, by_type_after=10**9)
        by_type = ActivityView(store, by_type_after=1)
        same_counts(settled(by_type, store), settled(by_pages, store))
        assert by_type.activity.position == head
        checkpointed = ActivityView(store, store, by_type_after=1)
        checkpointed.refresh()
        grow(store, 300, 720)
        restarted = ActivityView(store, store, by_type_after=1)  # the tail read type by type, from the checkpoint
        expected = settled(ActivityView(store, by_type_after=10**9), store)
        same_counts(settled(restarted, store), expected)
        assert [r.deliveries for r in restarted.activity.recent] == [r.deliveries for r in expected.recent]
        assert len(restarted.activity.raised) < len(expected.raised)
    finally:
        store.close()


class Gated(Counting):
    """A real store whose log reads wait for `gate` (the test's), saying when the first one is waiting (`entered`)."""

    def __init__(self, store: SqlStore) -> None:
        super().__init__(store)
        self.gate, self.entered = threading.Event(), threading.Event()

    def _wait(self) -> None:
        self.entered.set()
        assert self.gate.wait(120)

    def read(self, after: int = 0, **kw: Any) -> list[StoredEvent]:
        self._wait()
        return super().read(after, **kw)

    def read_payloads(self, after: int = 0, **kw: Any) -> Any:
        self._wait()
        return self.store.read_payloads(after, **kw)


def test_a_scrape_during_the_warm_up_answers_at_once_and_the_counts_after_it_are_a_full_reads(url: str) -> None:
    """The first start after an upgrade (no web:activity checkpoint) read the whole log before its first scrape
    answered (~4.4 s on a small store). The view now reads it on a thread of its own (warm_up): a scrape while that
    read is held (by a gate the test opens) answers with watchfloor_metrics_warming 1, the store's state and no
    log counts, and once it is done the counts are those of a full read, and the checkpoint is saved."""
    store = SqlStore(url)
    try:
        head = grow(store, 0, 120)
        expected = full_read(store)[0]
        gated = Gated(store)
        view = ActivityView(gated, store, warm_after=100)  # type: ignore[arg-type]
        collector = LogCollector(store, view, ControlLog(store), now=lambda: NOW, channels=CHANNELS)
        warming = view.warm_up()
        assert warming is not None
        try:
            assert gated.entered.wait(60)  # the warm-up is reading, and held there
            during = families(generate_latest(registry_for(collector)).decode())  # returns while the read is held
            assert during["watchfloor_metrics_warming"] == [("watchfloor_metrics_warming", [], 1.0)]
            assert during["watchfloor_store_up"][0][2] == 1.0
            assert during["watchfloor_log_head"][0][2] == head
            for counted in ("watchfloor_documents_ingested", "watchfloor_detections", "watchfloor_deliveries"):
                assert counted not in during  # left out, not partial
            assert "watchfloor_detection_to_delivery_seconds" not in during
            assert during["watchfloor_deliveries_outstanding"] == expected["watchfloor_deliveries_outstanding"]
        finally:
            gated.gate.set()
            warming.join()
        assert not view.warming
        assert families(generate_latest(registry_for(collector)).decode()) == expected
        assert store.checkpoint_position(ACTIVITY_CHECKPOINT) == head
        # Little to read (a checkpoint near the head): no warm-up thread, the first scrape reads it as before.
        assert ActivityView(store, store, warm_after=100).warm_up() is None
    finally:
        store.close()
