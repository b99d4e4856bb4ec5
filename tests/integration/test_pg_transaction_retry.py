"""A write transaction PostgreSQL aborts with "deadlock detected" is run again as a whole (SqlStore._transaction):
the write goes through, with no row lost or written twice, instead of a StoreError (a store outage to a live loop,
exit 1 to `--once`). Each case makes a real deadlock: a second connection takes a lock, lets the store's write
wait for it, then takes a lock the store's write holds; with its own deadlock_timeout long, PostgreSQL's check in
the store's session finds the cycle and aborts the store's transaction (the holder's goes on, then ends)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.dialects import postgresql as pg_dialect

from tests.ledger_contract import NOW, delivery_ev, rec
from watchfloor.stream_processors.ports import Checkpoint
from watchfloor.stream_processors.stores.errors import StoreError
from watchfloor.stream_processors.stores.retry import TransactionRetry
from watchfloor.stream_processors.stores.sql import _PG_APPEND_LOCK_KEY as APPEND_LOCK
from watchfloor.stream_processors.stores.sql import SqlStore, events_table, normalize_url
from watchfloor.stream_processors.stores.sql_ledger import _row, deliveries_table

pytestmark = pytest.mark.integration


def _deadlock(pg_url: str, write: Callable[[], Any], first: Any, then: Any, *, commit: bool) -> list[Any]:
    """Run `write` in a thread while another connection holds what `first` locks; once `write` waits for that
    connection, it runs `then` (a lock `write` holds by then), which closes the cycle, and commits (or rolls back).
    Returns [what write returned] or [what it raised]."""
    engine = create_engine(normalize_url(pg_url))
    out: list[Any] = []
    try:
        with engine.connect() as holder:
            tx = holder.begin()
            holder.execute(text("SET LOCAL lock_timeout = '30s'"))  # (a wait that never ends fails instead)
            holder.execute(text("SET LOCAL deadlock_timeout = '60s'"))  # the store's session is the one to check
            me = holder.execute(select(func.pg_backend_pid())).scalar_one()
            holder.execute(first)

            def run() -> None:
                try:
                    out.append(write())
                except BaseException as e:  # returned to the test
                    out.append(e)

            worker = threading.Thread(target=run)
            worker.start()
            blocked = text("SELECT count(*) FROM pg_stat_activity WHERE :me = ANY(pg_blocking_pids(pid))")
            deadline = time.monotonic() + 30
            with engine.connect() as probe:
                while not probe.execute(blocked, {"me": me}).scalar_one():
                    assert time.monotonic() < deadline and worker.is_alive(), out
                    time.sleep(0.05)
                    probe.rollback()
            holder.execute(then)  # waits for the store's transaction: PostgreSQL aborts that one
            if commit:
                tx.commit()
            else:
                tx.rollback()
            worker.join(60)
    finally:
        engine.dispose()
    assert len(out) == 1, out
    return out


def _aborted_once(caplog: pytest.LogCaptureFixture) -> None:
    said = [r.getMessage() for r in caplog.records if r.name.endswith("stores.sql")]
    assert len(said) == 1, said  # one line for the transaction, not one per run
    assert "deadlock detected" in said[0] and "40P01" in said[0] and "attempt 2" in said[0], said


def test_a_commit_aborted_by_a_deadlock_is_run_again_and_goes_through_once(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = SqlStore(pg_url)
    try:
        store.commit("proc", Checkpoint(1, None), [delivery_ev(1)])
        caplog.set_level(logging.WARNING)
        # the holder: the processor's checkpoint row, then the append lock (which the store's commit took first)
        row = text("UPDATE checkpoints SET position = position WHERE processor = 'proc'")
        append_lock = select(func.pg_advisory_xact_lock(APPEND_LOCK))
        (added,) = _deadlock(
            pg_url,
            lambda: store.commit("proc", Checkpoint(2, None), [delivery_ev(2)]),
            row,
            append_lock,
            commit=True,
        )
        assert added == 1, added
        assert store.checkpoint_position("proc") == 2
        ids = [se.event.id for se in store.read()]
        assert len(ids) == len(set(ids)) == 2, ids  # the first run's event is not there twice, nor lost
        assert [se.position for se in store.read()] == [1, 2]
        assert store.write_problem is None
        _aborted_once(caplog)
    finally:
        store.close()


def test_an_enqueue_aborted_by_a_deadlock_is_run_again_and_counts_its_rows_once(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = SqlStore(pg_url)
    try:
        caplog.set_level(logging.WARNING)
        rows = {k: pg_dialect.insert(deliveries_table).values(_row(rec(k, "slack"), NOW)) for k in ("a", "b")}
        # the holder: "b", then "a" (the store inserts them in key order: "a", then waits for "b"); then it rolls
        # back, so the store's run again inserts both: the count is 2, not the first run's 1 added to it
        (added,) = _deadlock(
            pg_url,
            lambda: store.enqueue([rec("b", "slack"), rec("a", "slack")]),
            rows["b"].on_conflict_do_nothing(),
            rows["a"].on_conflict_do_nothing(),
            commit=False,
        )
        assert added == 2, added
        assert store.delivery_status("a", "slack") == store.delivery_status("b", "slack") == "outstanding"
        assert store.delivery_counts() == {"outstanding": 2}
        _aborted_once(caplog)
    finally:
        store.close()


def test_a_store_told_to_run_a_transaction_once_reports_the_deadlock(pg_url: str) -> None:
    store = SqlStore(pg_url, retry=TransactionRetry(attempts=1))
    try:
        store.commit("proc", Checkpoint(1, None), [delivery_ev(1)])
        row = text("UPDATE checkpoints SET position = position WHERE processor = 'proc'")
        append_lock = select(func.pg_advisory_xact_lock(APPEND_LOCK))
        (got,) = _deadlock(
            pg_url,
            lambda: store.commit("proc", Checkpoint(2, None), [delivery_ev(2)]),
            row,
            append_lock,
            commit=True,
        )
        assert isinstance(got, StoreError) and "deadlock detected" in str(got), got
        assert store.checkpoint_position("proc") == 1  # nothing of the aborted transaction was written
        with store.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(events_table)).scalar_one() == 1
    finally:
        store.close()
