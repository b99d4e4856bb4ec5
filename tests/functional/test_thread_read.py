"""What a delivery of a long thread reads from the ledger: the rows written since the thread's last read, not the
thread (each delivery of a thread of 600 alerts read all of it: outside trial, 17 s of a 54 s run)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from tests.functional.delivery_helpers import RETRY, Clock, detection
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import AlertCatalog
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import detection_event
from watchfloor.stream_processors.ports import DeliveryRecord, Store, ThreadRead
from watchfloor.stream_processors.stores import open_store


class CountingStore:
    """A real store, with the ledger rows it hands out counted (whole rows: `deliveries()`, and the rows
    `thread_rows()` reads again; `thread_rows()`'s revisions are an id and a number each, counted apart)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.rows = 0
        self.revisions = 0

    def deliveries(self, **kw: Any) -> list[DeliveryRecord]:
        got = self._store.deliveries(**kw)
        self.rows += len(got)
        return got

    def thread_rows(self, channel: str, thread_key: str, known: Mapping[str, int]) -> ThreadRead:
        got = self._store.thread_rows(channel, thread_key, known)
        self.rows += len(got.rows)
        self.revisions += len(got.revisions)
        return got

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_rows_read_per_delivery_do_not_grow_with_the_thread(tmp_path: Path) -> None:
    store = CountingStore(open_store(f"sqlite:///{tmp_path / 'wf.db'}"))
    clock = Clock()
    d = AlertDispatcher(
        cast(Store, store),
        {"desk": FileNotifier("desk", tmp_path / "desk.jsonl")},
        [Subscription(channel="desk")],
        RETRY,
        now=clock,
        catalog=AlertCatalog(),
    )
    read: list[int] = []
    listed: list[int] = []
    for i in range(1, 81):  # one noisy rule without a group: one thread, each alert a follow-up of the first
        det = detection(i, rule="noisy", group={}, minutes=i, sources=(f"Outlet {i}",), severity="medium")
        store.append([detection_event(det)])
        rows, revisions = store.rows, store.revisions
        d.cycle()
        read.append(store.rows - rows)
        listed.append(store.revisions - revisions)
        clock.advance(1)
    records = [json.loads(line) for line in (tmp_path / "desk.jsonl").read_text().splitlines()]
    assert len(records) == 80 and {r.get("kind") for r in records[1:]} == {"followup"}
    # Whole rows read by a cycle: the same at the 20th alert as at the 80th (read whole, they were 4x as many),
    # while the revisions listed are the thread's, as it grows.
    assert max(read[60:]) <= max(read[10:20]) <= 6, read
    assert listed[-1] > listed[19] >= 20, listed
    store.close()
