"""SQL-only ledger checks: stores written by older versions (the first one's status-only deliveries, version 4's
ledger without channel pauses, version 7's without the index of a channel's rows by position) migrate in place."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, inspect, text

from watchfloor.stream_processors.ports import DeliveryRecord
from watchfloor.stream_processors.stores.migrations import current_version, latest_version
from watchfloor.stream_processors.stores.sql import SqlStore, metadata, normalize_url

FIRST_VERSION_DDL = """
CREATE TABLE deliveries (
    alert_id VARCHAR NOT NULL, channel VARCHAR NOT NULL, status VARCHAR NOT NULL, detail TEXT NOT NULL,
    updated_at VARCHAR NOT NULL, PRIMARY KEY (alert_id, channel)
)
"""
ROWS = [
    ("a-sent", "slack", "sent", "1700000000.000100", "2024-11-04T09:00:00+00:00"),
    ("a-pending", "slack", "pending", "", "2024-11-04T09:01:00+00:00"),
    ("a-failed", "slack", "failed", "gave up after 5 attempt(s): HTTP 500", "2024-11-04T09:02:00+00:00"),
]


def _first_version(url: str) -> None:
    """A whole first-version store (its event tables, in WAL mode), so that the openers below race on the
    ledger migration only."""
    engine = create_engine(normalize_url(url))
    if url.startswith("sqlite"):
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text(FIRST_VERSION_DDL))
        for row in ROWS:
            conn.execute(
                text("INSERT INTO deliveries VALUES (:a, :c, :s, :d, :u)"),
                {"a": row[0], "c": row[1], "s": row[2], "d": row[3], "u": row[4]},
            )
    engine.dispose()


def _check_migrated(open_store: Callable[[], SqlStore]) -> None:
    stores: list[SqlStore] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def open_one() -> None:
        try:
            st = open_store()
            with lock:
                stores.append(st)
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=open_one) for _ in range(4)]  # four openers migrate at once
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert not errors, errors
        rows = {r.alert_id: r for r in stores[0].deliveries()}
        assert rows["a-sent"].status == "sent" and rows["a-sent"].detail == "1700000000.000100"
        for key in ("a-pending", "a-failed"):  # never known to be delivered: outstanding, look in the channel first
            assert rows[key].status == "outstanding" and rows[key].unsure
        assert rows["a-failed"].created_at == pytest.approx(1730710920.0)  # ages from its last update
        assert stores[0].delivery_counts() == {"sent": 1, "outstanding": 2}
        [claimed] = stores[1].claim_deliveries("p", 1730710920.0 + 10, 60, backoff_set_before=1730710920.0 + 10)
        assert claimed.alert_id == "a-failed" and claimed.payload is None  # seq 0 for all: by id
    finally:
        for st in stores:
            st.close()


def test_sqlite_first_version_ledger_migrates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _first_version(url)
    _check_migrated(lambda: SqlStore(url))


@pytest.mark.integration
def test_postgres_first_version_ledger_migrates(pg_url: str) -> None:
    _first_version(pg_url)
    _check_migrated(lambda: SqlStore(pg_url))


def _version_4(url: str) -> None:
    """A store as the release before channel pauses wrote it: schema version 4, no channel_pauses table, a row
    outstanding under a Retry-After."""
    store = SqlStore(url)
    store.enqueue([DeliveryRecord("a-old", "desk", created_at=1730000000.0, not_before=1730000100.0)])
    store.close()
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE channel_pauses"))
        conn.execute(text("UPDATE watchfloor_schema SET version = 4"))
    engine.dispose()


def _check_pauses_added(url: str) -> None:
    store = SqlStore(url)
    try:
        assert current_version(store.engine) == latest_version() >= 5
        [old] = store.deliveries()
        assert (old.alert_id, old.not_before) == ("a-old", 1730000100.0)
        assert store.channel_pauses(1730000000.0) == {}
        store.defer_channel("desk", 1730000200.0, 1730000000.0, server_asked=True)
        store.enqueue([DeliveryRecord("a-new", "desk", seq=1, created_at=1730000010.0)])
        assert store.claim_deliveries("p", 1730000150.0, 60, limit=5) == []
        assert [r.alert_id for r in store.claim_deliveries("p", 1730000200.0, 60, limit=5)] == ["a-old", "a-new"]
    finally:
        store.close()


def test_sqlite_version_4_store_gains_channel_pauses(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v4.db'}"
    _version_4(url)
    _check_pauses_added(url)


@pytest.mark.integration
def test_postgres_version_4_store_gains_channel_pauses(pg_url: str) -> None:
    _version_4(pg_url)
    _check_pauses_added(pg_url)


def _version_13(url: str) -> None:
    """A store as the release before channel backoffs wrote it: schema version 13, no channel_backoffs table, a row
    backing off after a failure of its channel."""
    store = SqlStore(url)
    store.enqueue([DeliveryRecord("a-old", "desk", created_at=1730000000.0, next_attempt_at=1730000100.0)])
    store.close()
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE channel_backoffs"))
        conn.execute(text("UPDATE watchfloor_schema SET version = 13"))
    engine.dispose()


def _check_backoffs_added(url: str) -> None:
    store = SqlStore(url)
    try:
        assert current_version(store.engine) == latest_version() >= 14
        assert "channel_backoffs" in inspect(store.engine).get_table_names()
        [old] = store.deliveries()
        assert (old.alert_id, old.next_attempt_at) == ("a-old", 1730000100.0)
        assert store.channel_backoffs(1730000000.0) == {}
        store.defer_channel("desk", 1730000200.0, 1730000000.0)  # its next failure: the channel backs off
        store.enqueue([DeliveryRecord("a-new", "desk", seq=1, created_at=1730000010.0)])
        assert store.claim_deliveries("p", 1730000150.0, 60, limit=5) == []
        assert [r.alert_id for r in store.claim_deliveries("p", 1730000200.0, 60, limit=5)] == ["a-old", "a-new"]
    finally:
        store.close()


def test_sqlite_version_13_store_gains_channel_backoffs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v13.db'}"
    _version_13(url)
    _check_backoffs_added(url)


@pytest.mark.integration
def test_postgres_version_13_store_gains_channel_backoffs(pg_url: str) -> None:
    _version_13(pg_url)
    _check_backoffs_added(pg_url)


def _version_7(url: str) -> None:
    """A store as the release before the (channel, seq) index wrote it: schema version 7, a throttled channel's rows
    (admitted and held) beside another channel's."""
    store = SqlStore(url)
    rows = [
        DeliveryRecord(f"a-{i}", "desk" if i % 2 else "wire", seq=i, created_at=1730000000.0 + i) for i in range(1, 41)
    ]
    store.enqueue(rows)
    store.close()
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_deliveries_channel_seq"))
        conn.execute(text("UPDATE watchfloor_schema SET version = 7"))
    engine.dispose()


def _statements_of(store: SqlStore, call: Callable[[], object]) -> list[tuple[str, object]]:
    """The SQL statements (with their parameters) that `call` runs on `store`."""
    seen: list[tuple[str, object]] = []

    def heard(conn: object, cursor: object, statement: str, parameters: object, context: object, many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", heard)
    try:
        call()
    finally:
        event.remove(store.engine, "before_cursor_execute", heard)
    return seen


def _check_channel_index(url: str) -> None:
    store = SqlStore(url)
    try:
        assert current_version(store.engine) == latest_version() >= 8
        indexes = {ix["name"]: ix["column_names"] for ix in inspect(store.engine).get_indexes("deliveries")}
        assert indexes["ix_deliveries_channel_seq"] == ["channel", "seq"]
        # what the throttle reads at each intake: a channel's rows after a position, a page at a time
        read = lambda: store.deliveries(channel="desk", after_seq=30, limit=500)  # noqa: E731
        assert [r.alert_id for r in read()] == ["a-31", "a-33", "a-35", "a-37", "a-39"]
        plan = _plan(store, read)
        assert "ix_deliveries_channel_seq" in plan, plan
    finally:
        store.close()


def _plan(store: SqlStore, call: Callable[[], object]) -> str:
    """The query plan of the one ledger statement `call` runs."""
    [(sql, params)] = [s for s in _statements_of(store, call) if "FROM deliveries" in s[0]]
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            return " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
        # (a few rows: PostgreSQL would read the table whole, as it may, unless told not to)
        conn.exec_driver_sql("SET enable_seqscan = off")
        return " ".join(str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {sql}", params))


def _check_open_states_by_index(url: str) -> None:
    """What /metrics, /healthz, `status` and each dispatcher cycle count of the ledger (its open states) is read by the
    status index, not by a pass over every row: the sent rows, the ledger's bulk, are not read."""
    store = SqlStore(url)
    try:
        store.enqueue([DeliveryRecord(f"a-{i}", "desk", status="sent", seq=i) for i in range(20)])
        store.enqueue([DeliveryRecord("b-1", "desk", seq=21, created_at=1730000000.0)])
        assert store.delivery_counts(("outstanding", "expired")) == {"outstanding": 1}
        assert store.delivery_stats(("outstanding", "expired")) == {("desk", "outstanding"): (1, 1730000000.0)}
        for call in (
            lambda: store.delivery_counts(("outstanding", "expired")),
            lambda: store.delivery_stats(("outstanding", "expired")),
        ):
            plan = _plan(store, call)
            # Either index that leads with the status: the claim index (status, order_at, …) serves as well, and the
            # planner's pick between the two depends on the order the store created them in (a set's order).
            assert "ix_deliveries_due" in plan or "ix_deliveries_claim" in plan, plan
    finally:
        store.close()


def test_sqlite_open_states_are_counted_by_the_status_index(tmp_path: Path) -> None:
    _check_open_states_by_index(f"sqlite:///{tmp_path / 'wf.db'}")


@pytest.mark.integration
def test_postgres_open_states_are_counted_by_the_status_index(pg_url: str) -> None:
    _check_open_states_by_index(pg_url)


def test_sqlite_version_7_store_gains_the_channel_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v7.db'}"
    _version_7(url)
    _check_channel_index(url)


@pytest.mark.integration
def test_postgres_version_7_store_gains_the_channel_index(pg_url: str) -> None:
    _version_7(pg_url)
    _check_channel_index(pg_url)
