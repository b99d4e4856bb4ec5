"""The Store contract on SqlStore: SQLite file, SQLite in memory, PostgreSQL; plus SQL-only checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.store_contract import PersistentStoreContract, StoreContract, doc, ev, ids
from watchfloor.schemas.events import Event
from watchfloor.stream_processors.ports import Checkpoint, Store
from watchfloor.stream_processors.stores import open_store
from watchfloor.stream_processors.stores.sql import SqlStore, normalize_url


class SqlOnlyChecks:
    """Behaviour the contract cannot provoke on every store: a commit that fails half-way."""

    def test_failed_commit_rolls_back_outputs_and_checkpoint(self, store: Store) -> None:
        store.commit("p", Checkpoint(1, {"v": 1}), [ev(1)])
        with pytest.raises(Exception):  # noqa: B017 - the driver's overflow error differs per database
            # The outputs go in first; the checkpoint's position then overflows BIGINT: all must roll back.
            store.commit("p", Checkpoint(2**70, {"v": 2}), [ev(2), ev(3)])
        assert ids(store.read()) == ["e1"]
        assert store.load_checkpoint("p") == Checkpoint(1, {"v": 1})
        assert store.commit("p", Checkpoint(3, {"v": 3}), [ev(2)]) == 1
        assert [se.position for se in store.read()] == [1, 2]


class TestSqliteFileStore(SqlOnlyChecks, PersistentStoreContract):
    @pytest.fixture
    def make_store(self, tmp_path: Path) -> Callable[[], Store]:
        return lambda: SqlStore(f"sqlite:///{tmp_path / 'store.db'}")

    def test_vacuum_after_a_prune_shrinks_the_file(self, tmp_path: Path, store: Store) -> None:
        """What `store prune --vacuum` measures (BENCHMARKS.md, "Store retention"): the file keeps its size after the
        prune (SQLite reuses the freed pages), and VACUUM gives them back, the WAL truncated with it."""
        assert isinstance(store, SqlStore)
        store.append([doc(i, datetime(2024, 1, 1, tzinfo=UTC)) for i in range(1, 400)])

        def on_disk() -> int:
            wal = tmp_path / "store.db-wal"
            return (tmp_path / "store.db").stat().st_size + (wal.stat().st_size if wal.exists() else 0)

        store.reclaim_space()
        full = on_disk()
        step = store.strip_documents(datetime(2025, 1, 1, tzinfo=UTC), 0, 399, limit=1000)
        assert step.stripped == 399
        assert store.reclaim_space(during_prune=True) == ""  # SQLite: nothing between batches
        assert "VACUUM" in store.reclaim_space()
        assert on_disk() < full * 0.7, (full, on_disk())
        assert not (tmp_path / "store.db-wal").exists() or (tmp_path / "store.db-wal").stat().st_size == 0

    def test_wal_and_synchronous_full(self, store: Store) -> None:
        assert isinstance(store, SqlStore)
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000


class TestSqliteMemoryStore(SqlOnlyChecks, StoreContract):
    @pytest.fixture
    def make_store(self) -> Callable[[], Store]:
        return lambda: SqlStore("sqlite:///:memory:")


@pytest.mark.integration
class TestPostgresStore(SqlOnlyChecks, PersistentStoreContract):
    @pytest.fixture
    def make_store(self, pg_url: str) -> Callable[[], Store]:
        return lambda: SqlStore(pg_url)


OLD_EVENTS_TABLE = """CREATE TABLE events (position INTEGER PRIMARY KEY, id VARCHAR NOT NULL UNIQUE,
    type VARCHAR NOT NULL, schema_version INTEGER NOT NULL, time VARCHAR NOT NULL, key VARCHAR,
    payload TEXT NOT NULL)"""


def test_a_database_of_the_first_release_gains_the_event_columns_on_open(tmp_path: Path) -> None:
    """An events table without origin/received_at (databases written before they existed) is migrated when the
    store opens it: old rows read with None, new rows keep their stamps, and opening it again changes nothing."""
    import sqlite3
    from datetime import UTC, datetime

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute(OLD_EVENTS_TABLE)
        conn.execute(
            "INSERT INTO events VALUES (1, 'old-1', 'news.article', 1, '2024-06-19T12:00:00+00:00', NULL, '{}')"
        )
    received = datetime(2024, 6, 20, tzinfo=UTC)
    for _ in range(2):  # the second open finds the columns already there
        store = SqlStore(f"sqlite:///{path}")
        try:
            store.append([ev("new-1", type="news.article", origin="inbox/a.jsonl", received_at=received)])
            old, new = store.read()
            assert (old.event.id, old.event.origin, old.event.received_at) == ("old-1", None, None)
            assert (new.event.origin, new.event.received_at) == ("inbox/a.jsonl", received)
        finally:
            store.close()


@pytest.mark.integration
def test_a_postgres_database_of_the_first_release_gains_the_event_columns_on_open(pg_url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(normalize_url(pg_url))
    with engine.begin() as conn:
        conn.execute(text(OLD_EVENTS_TABLE.replace("INTEGER PRIMARY KEY", "BIGINT PRIMARY KEY")))
        conn.execute(
            text("INSERT INTO events VALUES (1, 'old-1', 'news.article', 1, '2024-06-19T12:00:00+00:00', NULL, '{}')")
        )
    engine.dispose()
    for _ in range(2):
        store = SqlStore(pg_url)
        try:
            store.append([ev("new-1", type="news.article", origin="inbox/a.jsonl")])
            old, new = store.read()
            assert (old.event.origin, new.event.origin) == (None, "inbox/a.jsonl")
        finally:
            store.close()


def test_open_store_picks_sql_by_url(tmp_path: Path) -> None:
    s = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        assert isinstance(s, SqlStore)
    finally:
        s.close()


def test_postgres_urls_use_psycopg3() -> None:
    assert normalize_url("postgres://u@h:1/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"


def test_sqlite_commits_leave_checkpoints_to_the_store_thread(tmp_path: Path) -> None:
    """No commit checkpoints the WAL (that made single appends take 0.3 s on a busy machine); the store's
    checkpointer thread copies it into the database file within about a second."""
    import time

    path = tmp_path / "wal.db"
    store = SqlStore(f"sqlite:///{path}")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 0
        empty = path.stat().st_size
        for i in range(60):  # ~2.5 MB: past the 1,000 pages at which SQLite would checkpoint inside a commit
            store.append([ev(f"wal-{i}-{j}", payload={"body": "x" * 2000}) for j in range(20)])
        deadline = time.monotonic() + 60  # a bound on a hang: the thread runs every second, a loaded machine later
        while path.stat().st_size < empty + 2_000_000:  # pages reach the database file only by a checkpoint
            assert time.monotonic() < deadline, f"no checkpoint: database file {path.stat().st_size} bytes"
            time.sleep(0.1)
        assert store.count() == 1200
    finally:
        store.close()


def _plan(store: SqlStore, item: str) -> str:
    from watchfloor.schemas.events import edition_range

    low, high, length = edition_range(item)
    compiled = store.editions_query().compile(dialect=store.engine.dialect)
    params = compiled.construct_params({"lo": low, "hi": high, "n": length})
    sqlite = store.engine.dialect.name == "sqlite"
    with store.engine.connect() as conn:
        if not sqlite:
            conn.exec_driver_sql("SET enable_seqscan = off")  # a small table: say whether the index can serve
        prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
        # As the driver is given it: positional (SQLite) or named (psycopg) parameters, the SQL as compiled.
        args = tuple(params[k] for k in compiled.positiontup or ()) if sqlite else params
        rows = conn.exec_driver_sql(prefix + str(compiled), args).all()
    return "\n".join(" ".join(map(str, r)) for r in rows)


def test_sqlite_counts_an_items_editions_by_a_range_of_the_id_index(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        plan = _plan(store, "https://wire.example/a/1")
        assert "USING COVERING INDEX sqlite_autoindex_events_1 (id>? AND id<?)" in plan, plan
    finally:
        store.close()


@pytest.mark.integration
def test_postgres_counts_editions_in_byte_order_whatever_the_collation(pg_url: str) -> None:
    """A database in en_US.UTF-8 (the official image's default) orders ids by language rules, where a range of the
    id index is not the ids that start with an item's: count_editions compares in "C", with an index of its own."""
    store = SqlStore(pg_url)
    try:
        with store.engine.begin() as conn:  # as if the database's collation were not "C" (the test server's is)
            conn.exec_driver_sql('ALTER TABLE events ALTER COLUMN id TYPE varchar COLLATE "en-US-x-icu"')
        item, h = "https://wire.example/a/1", "0123456789abcdef"
        store.append(
            [
                Event(id=i, type="news.article", time=ev(0).time, payload={})
                for i in (
                    f"{item}#edition-{h}",
                    f"{item}#Edition-{h}",  # equal to an edition's id but for case, which ICU weighs last
                    f"{item}-#edition-{h}",  # ICU ignores punctuation at first: this sorts among the editions
                    f"{item}#edition-{'a' * 16}",
                )
            ]
        )
        assert store.count_editions([item]) == {item: 2}
        plan = _plan(store, item)
        assert "ix_events_editions" in plan, plan
    finally:
        store.close()


def test_sqlite_ledger_reads_every_row_unless_a_limit_is_given(tmp_path: Path) -> None:
    """A default cap of 100,000 rows once cut `alerts list` and the delivery latency metric off silently on a big
    ledger. The rows go in by one plain INSERT (the ledger's own enqueue would take a minute for 100,001)."""
    from watchfloor.stream_processors.stores.sql import deliveries_table

    store = SqlStore(f"sqlite:///{tmp_path / 'big.db'}")
    try:
        n = 100_001
        rows = [
            {"alert_id": f"a{i:06d}", "channel": "c", "status": "sent", "detail": "", "updated_at": "", "seq": i}
            for i in range(n)
        ]
        with store.engine.begin() as conn:
            conn.execute(deliveries_table.insert(), rows)
        got = store.deliveries()
        assert len(got) == n and got[-1].alert_id == f"a{n - 1:06d}"
        assert len(store.deliveries(statuses={"sent"})) == n
        assert len(store.deliveries(limit=3)) == 3
    finally:
        store.close()
