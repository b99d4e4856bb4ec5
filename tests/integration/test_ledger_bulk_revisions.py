"""A bulk write of a SQLite ledger (a redelivery, a channel's deferral and its resumption) writes each row once: it
gives the rows their revisions itself, so the row trigger does not write each row again and the counter per row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from tests.ledger_contract import NOW, rec
from watchfloor.stream_processors.stores.sql import SqlStore


def _rows_written(store: SqlStore, call: Callable[[], Any]) -> tuple[Any, int]:
    """What `call` returned, and the rows SQLite wrote while it ran, its statements' and their triggers' alike
    (`total_changes` counts both), on every connection it used."""
    start: dict[Any, int] = {}

    def before(conn: Any, cursor: Any, *_: Any) -> None:
        start.setdefault(cursor.connection, cursor.connection.total_changes)

    event.listen(store.engine, "before_cursor_execute", before)
    try:
        got = call()
    finally:
        event.remove(store.engine, "before_cursor_execute", before)
    return got, sum(raw.total_changes - n for raw, n in start.items())


def test_a_bulk_write_writes_each_row_once_and_moves_every_revision_past_all_before(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        n = 40
        store.enqueue([rec(f"a{i}", "x", seq=i, thread_key="t") for i in range(n)] + [rec("b", "y", thread_key="t")])
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE deliveries SET status = 'expired'"))
        known = store.thread_rows("x", "t", {}).revisions
        # Each row written once, and the counter once per statement (it was 3 writes per row: the row, the counter,
        # the row again); a deferral writes the channel's backoff too, and its resumption deletes it (2 statements).
        writes: list[tuple[str, Callable[[], Any], int]] = [
            ("redeliver", lambda: store.redeliver(NOW, channel="x"), n + 1),
            ("defer", lambda: store.defer_channel("x", NOW + 100, NOW), n + 1 + 1),
            ("resume", lambda: store.resume_channel("x", NOW + 1), n + 2 + 1),
        ]
        for name, call, expected in writes:
            with store.engine.connect() as conn:
                given = int(conn.execute(text("SELECT max(rev) FROM deliveries")).scalar_one())
            got, written = _rows_written(store, call)
            assert (got, written) == (n, expected), name
            read = store.thread_rows("x", "t", known)
            assert sorted(read.rows) == sorted(f"a{i}" for i in range(n)), name  # every row read again
            moved = [v for a, v in read.revisions.items() if a != "b"]
            assert min(moved) > given and len(set(moved)) == n, name  # past every revision before, none twice
            known = read.revisions
        # a write after them, by the trigger, still goes past them
        r = store.claim_deliveries("p", NOW + 200, 30.0, limit=1)[0]
        after = store.thread_rows(r.channel, "t", known)
        assert list(after.rows) == [r.alert_id] and after.revisions[r.alert_id] > max(known.values())
    finally:
        store.close()
