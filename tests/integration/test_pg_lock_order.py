"""PostgreSQL lock order: a write transaction that appends events takes the append lock before any row lock, so it
cannot deadlock with a holder of the append lock that writes the same row. Each case holds the append lock in a
connection of its own (as an enqueue with events, or a retention forget, holds it), lets the store's write wait for
it, then writes the row the store's write is about to write; before the fix the store's write held that row's lock
while it waited, and PostgreSQL aborted one of the two with "deadlock detected" (the fresh-clone CI of session 40,
four dispatchers racing on one store)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.dialects import postgresql as pg_dialect

from tests.ledger_contract import NOW, delivery_ev, rec
from watchfloor.stream_processors.ports import Checkpoint, Settlement
from watchfloor.stream_processors.stores.sql import _PG_APPEND_LOCK_KEY as APPEND_LOCK
from watchfloor.stream_processors.stores.sql import SqlStore, normalize_url
from watchfloor.stream_processors.stores.sql_ledger import _row, deliveries_table

pytestmark = pytest.mark.integration


def _race(pg_url: str, write: Callable[[], Any], then: str | Any, first: str | Any | None = None) -> Any:
    """Run `write` in a thread while another connection holds the append lock (or has run `first`); once `write`
    waits for a lock, that connection runs `then` (a statement) and commits. Returns what `write` returned; raises
    what either raised."""
    engine = create_engine(normalize_url(pg_url))
    got: list[Any] = []
    failed: list[BaseException] = []
    try:
        with engine.connect() as holder:
            tx = holder.begin()
            holder.execute(text("SET LOCAL lock_timeout = '30s'"))  # (a wait that never ends fails instead)
            holder.execute(select(func.pg_advisory_xact_lock(APPEND_LOCK)) if first is None else _stmt(first))

            def run() -> None:
                try:
                    got.append(write())
                except BaseException as e:  # reported below
                    failed.append(e)

            worker = threading.Thread(target=run)
            worker.start()
            waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted"
            deadline = time.monotonic() + 30
            with engine.connect() as probe:
                while not probe.execute(text(waiting)).scalar_one():
                    assert time.monotonic() < deadline and worker.is_alive(), failed
                    time.sleep(0.05)
                    probe.rollback()
            time.sleep(0.3)  # (the write's statements before its wait, if any, have run)
            holder.execute(_stmt(then))
            tx.commit()
            worker.join(60)
    finally:
        engine.dispose()
    assert not failed, failed
    return got[0]


def _stmt(statement: str | Any) -> Any:
    return text(statement) if isinstance(statement, str) else statement


def test_a_settlement_with_events_waits_for_the_append_lock_before_its_row(pg_url: str) -> None:
    store = SqlStore(pg_url)
    try:
        store.enqueue([rec("a1", "slack")])
        store.claim_deliveries("p", NOW, 60.0)
        # the holder: an enqueue of the same row by another dispatcher (append lock, then INSERT ... ON CONFLICT)
        again = pg_dialect.insert(deliveries_table).values(_row(rec("a1", "slack"), NOW)).on_conflict_do_nothing()
        settle = Settlement("sent", ref="ts=1", attempts=1)
        kept = _race(pg_url, lambda: store.settle_delivery("a1", "slack", "p", settle, NOW, [delivery_ev(1)]), again)
        assert kept is True
        assert store.delivery_status("a1", "slack") == "sent"
    finally:
        store.close()


def test_a_commit_with_outputs_waits_for_the_append_lock_before_its_checkpoint(pg_url: str) -> None:
    store = SqlStore(pg_url)
    try:
        store.commit("proc", Checkpoint(1, None), [delivery_ev(1)])
        # the holder: a retention forget of the processor's checkpoint (append lock, then its row)
        forget = "UPDATE checkpoints SET position = position WHERE processor = 'proc'"
        added = _race(pg_url, lambda: store.commit("proc", Checkpoint(2, None), [delivery_ev(2)]), forget)
        assert added == 1
        assert store.checkpoint_position("proc") == 2
    finally:
        store.close()


def test_enqueues_of_the_same_rows_in_other_orders_insert_them_in_one_order(pg_url: str) -> None:
    store = SqlStore(pg_url)
    try:
        rows = {k: pg_dialect.insert(deliveries_table).values(_row(rec(k, "slack"), NOW)) for k in ("a", "b")}
        # the holder: another dispatcher's enqueue of the two rows, no events (no append lock), "a" then "b"; this
        # one is given them as "b", "a"
        added = _race(
            pg_url,
            lambda: store.enqueue([rec("b", "slack"), rec("a", "slack")]),
            rows["b"].on_conflict_do_nothing(),
            first=rows["a"].on_conflict_do_nothing(),
        )
        assert added == 0  # (both went in with the holder's commit)
        assert store.delivery_status("a", "slack") == store.delivery_status("b", "slack") == "outstanding"
    finally:
        store.close()
