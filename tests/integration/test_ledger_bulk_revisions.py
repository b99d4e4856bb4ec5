"""A bulk write of the ledger (a redelivery, a channel's deferral and its resumption) gives its rows their revisions
itself: on SQLite each row is written once (the row trigger does not write it again, and the counter per row); on
PostgreSQL, from migration 16, the revision trigger of an update leaves a write that moved `rev` to it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text

from tests.ledger_contract import NOW, rec
from watchfloor.stream_processors.stores.migrations import current_version, latest_version
from watchfloor.stream_processors.stores.sql import SqlStore, normalize_url


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


def _store_of_schema_15(url: str) -> None:
    """A PostgreSQL store as migration 15 left it: one revision trigger of inserts and updates alike, whatever the
    write set; a row in its ledger; its version 15."""
    assert latest_version() == 16  # (a later migration: make this the store of the release before it)
    store = SqlStore(url)
    store.enqueue([rec("a1", "x", thread_key="t"), rec("a2", "x", seq=1, thread_key="t")])
    store.close()
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER deliveries_rev_update ON deliveries"))
        conn.execute(text("DROP TRIGGER deliveries_rev ON deliveries"))
        conn.execute(
            text(
                "CREATE TRIGGER deliveries_rev BEFORE INSERT OR UPDATE ON deliveries "
                "FOR EACH ROW EXECUTE FUNCTION deliveries_rev()"
            )
        )
        conn.execute(text("UPDATE watchfloor_schema SET version = 15"))
    engine.dispose()


def test_migration_16_on_postgres_leaves_a_write_that_moved_the_revision_to_it(pg_url: str) -> None:
    _store_of_schema_15(pg_url)
    store = SqlStore(pg_url)  # migrates 15 -> 16
    try:
        assert current_version(store.engine) == 16
        known = store.thread_rows("x", "t", {}).revisions
        with store.engine.begin() as conn:
            # a writer that sets the revision keeps it (migration 15's trigger took the sequence's next instead)
            own = conn.execute(text("UPDATE deliveries SET rev = 1000000000 WHERE alert_id = 'a1' RETURNING rev"))
            assert own.scalar_one() == 1_000_000_000
            # one that does not (any version's claim or settlement) still has it moved by the trigger
            moved = conn.execute(text("UPDATE deliveries SET detail = 'x' WHERE alert_id = 'a2' RETURNING rev"))
            assert moved.scalar_one() > known["a2"]
        # a bulk write of this version: each row's next value of the sequence, none twice
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE deliveries SET status = 'expired'"))
        before = store.thread_rows("x", "t", {}).revisions
        assert store.redeliver(NOW, channel="x") == 2
        after = store.thread_rows("x", "t", before)
        assert sorted(after.rows) == ["a1", "a2"] and after.rows["a1"].status == "outstanding"
        assert len(set(after.revisions.values())) == 2
        assert after.revisions["a2"] > before["a2"] and after.revisions["a1"] != before["a1"]
    finally:
        store.close()


def test_bulk_writes_move_every_revision_on_postgres(pg_url: str) -> None:
    store = SqlStore(pg_url)
    try:
        store.enqueue([rec(f"a{i}", "x", seq=i, thread_key="t") for i in range(20)])
        known = store.thread_rows("x", "t", {}).revisions
        for name, call in (
            ("defer", lambda: store.defer_channel("x", NOW + 100, NOW)),
            ("resume", lambda: store.resume_channel("x", NOW + 1)),
        ):
            top = max(known.values())
            assert call() == 20, name
            read = store.thread_rows("x", "t", known)
            assert len(read.rows) == 20 and min(read.revisions.values()) > top, name
            assert len(set(read.revisions.values())) == 20, name
            known = read.revisions
    finally:
        store.close()
