"""Index builds that do not stall a live store, and the ledger reads they serve.

PostgreSQL builds the indexes of migrations 8, 9 and 10 with CREATE INDEX CONCURRENTLY (stores/migrations.py): a
store at version 7 is upgraded while another process keeps writing it, an INVALID index left by an interrupted build
is built again by the next opener, and two openers at once migrate once. The ledger's reads by thread key alone (a
retraction's) and of a channel's last sent row (`sent_ref`) are seeks of an index, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from tests.integration.store_threads import open_in_thread
from watchfloor.schemas.events import Event
from watchfloor.stream_processors.ports import DeliveryRecord, Settlement
from watchfloor.stream_processors.stores.migrations import current_version, latest_version
from watchfloor.stream_processors.stores.sql import ALERT_ID_SQL, ALERT_ID_WHERE, SqlStore, normalize_url

WAIT_S = 60.0  # how long a test waits for a state it needs to reach (a bound on a hang, not a timing assertion)
NEW_INDEXES = ("ix_deliveries_channel_seq", "ix_events_alert_id", "ix_deliveries_thread_key", "ix_deliveries_sent")


def _engine(url: str, **kw: Any) -> Engine:
    return create_engine(normalize_url(url), **kw)


def _with_options(url: str, option: str) -> str:
    """`url` with a server setting added to its `options` (pg_url keeps its search_path there)."""
    u = make_url(url)
    options = u.query.get("options", "")
    if isinstance(options, tuple):
        options = " ".join(options)
    return u.update_query_dict({"options": f"{options} {option}".strip()}).render_as_string(hide_password=False)


def _to_version(url: str, version: int) -> None:
    """Make the store at `url` (migrated to the latest) look as the release of schema `version` left it: the indexes
    of the later migrations dropped, version 9's thread index on (channel, thread_key) back, its version set."""
    drops = {8: ["ix_deliveries_channel_seq"], 9: ["ix_events_alert_id"], 10: ["ix_deliveries_thread_key"]}
    engine = _engine(url)
    with engine.begin() as conn:
        for v in range(version + 1, latest_version() + 1):
            for name in drops.get(v, []):
                conn.execute(text(f"DROP INDEX {name}"))
        conn.execute(text("DROP INDEX ix_deliveries_sent"))
        conn.execute(text("CREATE INDEX ix_deliveries_thread ON deliveries (channel, thread_key)"))
        conn.execute(text(f"UPDATE watchfloor_schema SET version = {version}"))
    engine.dispose()


def _detection(n: int) -> Event:
    payload = {"id": f"alert-{n}", "rule": "r", "group": {}, "title": f"t{n}"}
    return Event.model_validate(
        {"id": f"det-{n}", "type": "detection", "time": "2026-12-01T10:00:00+00:00", "payload": payload}
    )


def _fill(store: SqlStore, n: int) -> None:
    store.append([_detection(i) for i in range(n)])
    rows = [
        DeliveryRecord(
            f"a-{i}",
            f"ch-{i % 7}",
            thread_key=f"th-{i % 50}",
            seq=i,
            status="sent",
            ref=f"C{i % 7}:{i}",
            created_at=1730000000.0 + i,
        )
        for i in range(1, n + 1)
    ]
    store.enqueue(rows)


def _valid(engine: Engine) -> dict[str, bool]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relnamespace = current_schema()::regnamespace"
            )
        ).all()
    return {str(name): bool(ok) for name, ok in rows}


def _wait_for(engine: Engine, sql: str, what: str) -> None:
    """Wait until `sql` (on pg_stat_activity) counts a row: a backend in the state the test needs."""
    done = threading.Event()
    for _ in range(int(WAIT_S / 0.05)):
        with engine.connect() as conn:
            if conn.execute(text(sql)).scalar_one():
                return
        done.wait(0.05)
    raise AssertionError(f"never saw {what}")


def _building(table: str) -> str:
    """A build of an index on `table` waiting for a lock (for an older transaction to end)."""
    return (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
        f"AND query LIKE 'CREATE INDEX %ON {table} %' AND wait_event_type = 'Lock'"
    )


@pytest.fixture
def blocker(pg_url: str) -> Iterator[Callable[[str], None]]:
    """An open write transaction on a table (as a long write of another process): a build waits for it to end.
    Call it with the table's name; it ends (rolled back) when the test calls `release`, or at teardown."""
    engine = _engine(pg_url)
    conn = engine.connect()
    tx = conn.begin()

    def hold(table: str) -> None:
        if table == "deliveries":
            conn.execute(
                text(
                    "INSERT INTO deliveries (alert_id, channel, status, detail, updated_at) "
                    "VALUES ('blocker', 'x', 'sent', '', '2026-01-01')"
                )
            )
        else:
            conn.execute(text(f"UPDATE {table} SET key = key WHERE position = 1"))

    hold.release = lambda: tx.rollback() if tx.is_active else None  # type: ignore[attr-defined]
    try:
        yield hold
    finally:
        if tx.is_active:
            tx.rollback()
        conn.close()
        engine.dispose()


@pytest.mark.integration
def test_postgres_upgrade_from_7_builds_indexes_while_another_process_writes(
    pg_url: str, blocker: Callable[[str], None]
) -> None:
    """The build waits for a write transaction that was open before it (the blocker); meanwhile a running store
    (another process, its writes bounded by a lock_timeout so that a blocked write fails rather than waits) appends
    events and enqueues and settles ledger rows, and every write completes while the build is still under way. A
    plain CREATE INDEX takes a SHARE lock of the table and queues every later write behind it: they time out."""
    writer = SqlStore(_with_options(pg_url, "-clock_timeout=3000"))
    _fill(writer, 300)
    _to_version(pg_url, 7)
    admin = _engine(pg_url, isolation_level="AUTOCOMMIT")
    blocker("deliveries")
    opened: list[SqlStore] = []
    errors: list[BaseException] = []
    migrating = open_in_thread(pg_url, opened, errors)
    try:
        _wait_for(admin, _building("deliveries"), "the build of an index of deliveries waiting")
        for i in range(40):  # the running process's writes, during the build
            rec = DeliveryRecord(f"during-{i}", "desk", seq=1000 + i, thread_key="th-during", created_at=1740000000.0)
            assert writer.enqueue([rec], [_detection(1000 + i)]) == 1
        [claimed] = writer.claim_deliveries("w", 1740000001.0, 60.0, limit=1)
        assert writer.settle_delivery(claimed.alert_id, claimed.channel, "w", Settlement("sent", "", ref="C9:1"), 2e9)
        assert migrating.is_alive() and current_version(admin) == 7  # the writes completed while it builds
        blocker.release()  # type: ignore[attr-defined]
        migrating.join(WAIT_S)
        assert not migrating.is_alive() and not errors, errors
        [store] = opened
        assert store.migrated is not None and (store.migrated.found, store.migrated.to) == (7, latest_version())
        assert current_version(admin) == latest_version()
        valid = _valid(admin)
        assert all(valid[name] for name in NEW_INDEXES), valid
        assert "ix_deliveries_thread" not in valid  # replaced by ix_deliveries_thread_key
        # every row is found through the new indexes, those written during the build too
        assert len(store.deliveries(channel="desk", after_seq=999)) == 40
        assert len(store.deliveries(thread_key="th-during")) == 40
        assert [se.event.id for se in store.detections_of(["alert-1039"])] == ["det-1039"]
        assert store.sent_ref("desk") == "C9:1"
        store.close()
    finally:
        writer.close()
        admin.dispose()


@pytest.mark.integration
def test_postgres_invalid_index_of_an_interrupted_build_is_built_again(
    pg_url: str, blocker: Callable[[str], None]
) -> None:
    """A concurrent build cancelled mid-way (as a killed or failed upgrade leaves it) leaves an INVALID index, which
    no query uses and `CREATE INDEX IF NOT EXISTS` takes for done: the next opener drops and builds it again, and
    moves the version past it only then."""
    store = SqlStore(pg_url)
    _fill(store, 200)
    store.close()
    _to_version(pg_url, 8)
    admin = _engine(pg_url, isolation_level="AUTOCOMMIT")
    blocker("events")
    build = f"CREATE INDEX CONCURRENTLY ix_events_alert_id ON events ({ALERT_ID_SQL['postgresql']}) "
    build += f"WHERE {ALERT_ID_WHERE}"
    failed: list[BaseException] = []
    pid: list[int] = []

    def interrupted() -> None:
        with admin.connect() as conn:
            pid.append(int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one()))
            try:
                conn.exec_driver_sql(build)
            except Exception as e:  # the cancel, expected
                failed.append(e)

    t = threading.Thread(target=interrupted, daemon=True)
    t.start()
    try:
        _wait_for(admin, _building("events"), "the build of ix_events_alert_id waiting")
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_cancel_backend(:pid)"), {"pid": pid[0]})
        t.join(WAIT_S)
        assert failed and "cancel" in str(failed[0]).lower()
        assert _valid(admin)["ix_events_alert_id"] is False
        blocker.release()  # type: ignore[attr-defined]
        store = SqlStore(pg_url)
        assert store.migrated is not None and store.migrated.found == 8
        assert current_version(admin) == latest_version()
        assert _valid(admin)["ix_events_alert_id"] is True
        assert [se.event.id for se in store.detections_of(["alert-7"])] == ["det-7"]
        with admin.connect() as conn:
            conn.exec_driver_sql("ANALYZE events")
            plan = " ".join(
                str(r[0])
                for r in conn.exec_driver_sql(
                    f"EXPLAIN SELECT * FROM events WHERE {ALERT_ID_WHERE} AND {ALERT_ID_SQL['postgresql']} = 'x'"
                )
            )
        assert "ix_events_alert_id" in plan, plan
        store.close()
    finally:
        admin.dispose()


@pytest.mark.integration
def test_postgres_two_openers_at_once_migrate_once(pg_url: str, blocker: Callable[[str], None]) -> None:
    """Two processes open a version-7 store at once: the first builds, the second waits for the migration lock (by
    polling: a statement blocked on the lock would hold a snapshot that the concurrent build waits for, and the two
    would deadlock) and finds the store migrated. Neither fails; one reports the migration."""
    store = SqlStore(pg_url)
    _fill(store, 100)
    store.close()
    _to_version(pg_url, 7)
    admin = _engine(pg_url, isolation_level="AUTOCOMMIT")
    blocker("deliveries")
    opened: list[SqlStore] = []
    errors: list[BaseException] = []
    try:
        first = open_in_thread(pg_url, opened, errors)
        _wait_for(admin, _building("deliveries"), "the first opener's build waiting")
        second = open_in_thread(pg_url, opened, errors)
        _wait_for(
            admin,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND query LIKE '%pg_try_advisory_lock%' AND state = 'idle'",
            "the second opener trying the migration lock",
        )
        blocker.release()  # type: ignore[attr-defined]
        first.join(WAIT_S)
        second.join(WAIT_S)
        assert not errors, errors
        assert len(opened) == 2
        assert sorted(s.migrated is not None for s in opened) == [False, True]
        assert current_version(admin) == latest_version()
        assert all(_valid(admin)[name] for name in NEW_INDEXES)
    finally:
        for s in opened:
            s.close()
        admin.dispose()


# -- the reads the indexes serve (SQLite and PostgreSQL) -------------------------------------------------------------


def _statements_of(store: SqlStore, call: Callable[[], object]) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def heard(conn: object, cursor: object, statement: str, parameters: Any, context: object, many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", heard)
    try:
        call()
    finally:
        event.remove(store.engine, "before_cursor_execute", heard)
    return seen


def _plan(store: SqlStore, call: Callable[[], object]) -> str:
    """The plan of the one ledger statement `call` runs, the table analysed (as a store of that size would be)."""
    [(sql, params)] = [s for s in _statements_of(store, call) if "FROM deliveries" in s[0]]
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
            return " | ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
        conn.exec_driver_sql("ANALYZE deliveries")
        return " | ".join(str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {sql}", params))


def _check_reads(url: str) -> None:
    store = SqlStore(url)
    try:
        _fill(store, 3000)
        sqlite = store.engine.dialect.name == "sqlite"
        # a retraction's read: its thread in every channel
        thread = lambda: store.deliveries(thread_key="th-7")  # noqa: E731
        assert len(thread()) == 60
        plan = _plan(store, thread)
        if sqlite:
            assert "USING INDEX ix_deliveries_thread_key (thread_key=?)" in plan and "SCAN" not in plan, plan
        else:
            assert "ix_deliveries_thread_key" in plan and "Index Cond: ((thread_key)" in plan, plan
            assert "Seq Scan" not in plan, plan
        # intake's read of a thread in one channel: the same index, both columns
        one = lambda: store.deliveries(channel="ch-0", thread_key="th-7")  # noqa: E731
        assert len(one()) == sum(1 for i in range(1, 3001) if i % 7 == 0 and i % 50 == 7)
        plan = _plan(store, one)
        assert "ix_deliveries_thread_key" in plan, plan
        # sent_ref: a channel's sent row settled last, the first entry of the partial index read backwards
        assert store.sent_ref("ch-3") == "C3:2999"
        plan = _plan(store, lambda: store.sent_ref("ch-3"))
        if sqlite:
            assert "USING INDEX ix_deliveries_sent (channel=?)" in plan and "TEMP B-TREE" not in plan, plan
        else:
            assert "ix_deliveries_sent" in plan and "Sort" not in plan, plan
    finally:
        store.close()


def test_sqlite_thread_and_sent_reads_are_index_seeks(tmp_path: Path) -> None:
    _check_reads(f"sqlite:///{tmp_path / 'wf.db'}")


@pytest.mark.integration
def test_postgres_thread_and_sent_reads_are_index_seeks(pg_url: str) -> None:
    _check_reads(pg_url)


def _check_sent_ref_is_the_last_settled(url: str) -> None:
    """The last row settled sent wins, not the one of the greatest seq: a row redelivered (or retried) after later
    rows were sent was sent last, and its reference names the channel as it is now (a Slack channel made again has a
    new ID). So sent_ref keeps ordering by updated_at, which its partial index serves."""
    store = SqlStore(url)
    try:
        store.enqueue(
            [
                DeliveryRecord("old", "desk", seq=5, status="sent", ref="CNEW:5", created_at=1740000300.0),
                DeliveryRecord("new", "desk", seq=9, status="sent", ref="COLD:9", created_at=1740000100.0),
                DeliveryRecord("unsent", "desk", seq=12, status="outstanding", created_at=1740000900.0),
                DeliveryRecord("noref", "desk", seq=13, status="sent", created_at=1740000900.0),
                DeliveryRecord("other", "wire", seq=14, status="sent", ref="CW:1", created_at=1740000900.0),
            ]
        )
        assert store.sent_ref("desk") == "CNEW:5"
        assert store.sent_ref("nowhere") == ""
    finally:
        store.close()


def test_sqlite_sent_ref_is_the_last_settled(tmp_path: Path) -> None:
    _check_sent_ref_is_the_last_settled(f"sqlite:///{tmp_path / 'wf.db'}")


@pytest.mark.integration
def test_postgres_sent_ref_is_the_last_settled(pg_url: str) -> None:
    _check_sent_ref_is_the_last_settled(pg_url)


def test_sqlite_version_9_store_gets_the_thread_key_index(tmp_path: Path) -> None:
    """SQLite builds migration 10's indexes in its migration transaction (no concurrent build there) and drops the
    (channel, thread_key) index they replace."""
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    store = SqlStore(url)
    _fill(store, 100)
    store.close()
    _to_version(url, 9)
    store = SqlStore(url)
    try:
        assert store.migrated is not None and (store.migrated.found, store.migrated.to) == (9, latest_version())
        with store.engine.connect() as conn:
            names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"ix_deliveries_thread_key", "ix_deliveries_sent"} <= names and "ix_deliveries_thread" not in names
        assert len(store.deliveries(thread_key="th-7")) == 2
    finally:
        store.close()


@pytest.mark.integration
def test_postgres_new_store_opens_beside_an_open_snapshot(pg_url: str) -> None:
    """A new store's indexes are built in its migration's transactions, not concurrently: a concurrent build waits
    for every transaction on the database that holds a snapshot (a pg_dump's REPEATABLE READ one, here), so a new
    store would not open until the backup ended."""
    engine = _engine(pg_url, isolation_level="REPEATABLE READ")
    opened: list[SqlStore] = []
    errors: list[BaseException] = []
    with engine.connect() as backup:
        backup.execute(text("SELECT count(*) FROM pg_class"))  # its snapshot, held to the end of the transaction
        t = open_in_thread(pg_url, opened, errors)
        t.join(WAIT_S)
        done = not t.is_alive()
        backup.rollback()
    t.join(WAIT_S)
    engine.dispose()
    for s in opened:
        assert current_version(s.engine) == latest_version()
        s.close()
    assert done and not errors, errors
