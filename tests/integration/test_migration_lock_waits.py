"""A schema migration that waits for a table lock does not stop the running processes, and every wait is said.

Outside trial 58: a backup (pg_dump holds ACCESS SHARE on every table it dumps) kept migration 15's ALTER TABLE of
`deliveries` waiting, and every running process's reads and writes of the table queued behind that waiting
statement until the backup ended, in silence (HIGH-1, MED-1). A migration step now waits at most its lock_timeout
per attempt, says who holds the table, tries again, and gives up after $WATCHFLOOR_MIGRATE_WAIT_S; a process waiting
for another's migration says so, and a read command says a migration is in progress. Against a real PostgreSQL."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, inspect, text
from typer.testing import CliRunner

from tests.integration.store_threads import open_in_thread
from watchfloor.cli import app
from watchfloor.stream_processors.stores.errors import StoreError
from watchfloor.stream_processors.stores.migrations import (
    _PG_MIGRATE_LOCK_KEY,
    MIGRATE_WAIT_ENV,
    current_version,
    latest_version,
    migration_holder,
)
from watchfloor.stream_processors.stores.sql import SqlStore, normalize_url

pytestmark = pytest.mark.integration

WAIT_S = 60.0  # how long a test waits for a state it needs to reach (a bound on a hang, not a timing assertion)
REPO = Path(__file__).resolve().parents[2]


def _engine(url: str) -> Engine:
    return create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")


def _store_of_schema_14(url: str) -> None:
    """A PostgreSQL store as the release of schema 14 left it: no `rev` column, sequence, function or trigger of
    migrations 15 and 16; a row in its ledger; its version 14."""
    assert latest_version() == 16  # (a later migration: see that this still makes the store of release 14)
    SqlStore(url).close()
    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER deliveries_rev_update ON deliveries"))
        conn.execute(text("DROP TRIGGER deliveries_rev ON deliveries"))
        conn.execute(text("DROP FUNCTION deliveries_rev()"))
        conn.execute(text("DROP SEQUENCE deliveries_rev"))
        conn.execute(text("ALTER TABLE deliveries DROP COLUMN rev"))
        conn.execute(_insert("before"))
        conn.execute(text("UPDATE watchfloor_schema SET version = 14"))
    engine.dispose()


def _insert(alert_id: str) -> Any:
    return text(
        "INSERT INTO deliveries (alert_id, channel, status, detail, updated_at) "
        f"VALUES ('{alert_id}', 'desk', 'outstanding', '', '2026-12-06')"
    )


@contextmanager
def _backup_of(url: str) -> Iterator[Connection]:
    """A session that holds ACCESS SHARE on `deliveries` in an open transaction, as pg_dump does while it dumps (and
    named so); rolled back on leaving."""
    engine = create_engine(normalize_url(url))
    conn = engine.connect()
    try:
        conn.execute(text("SET application_name = 'pg_dump'"))
        conn.commit()
        conn.execute(text("LOCK TABLE deliveries IN ACCESS SHARE MODE"))
        yield conn
    finally:
        conn.rollback()
        conn.close()
        engine.dispose()


def _pid(conn: Connection) -> int:
    return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _wait_for(engine: Engine, sql: str, what: str) -> None:
    done = threading.Event()
    for _ in range(int(WAIT_S / 0.05)):
        with engine.connect() as conn:
            if conn.execute(text(sql)).scalar_one():
                return
        done.wait(0.05)
    raise AssertionError(f"never saw {what}")


DDL_WAITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
    "AND query LIKE 'ALTER TABLE deliveries ADD COLUMN rev%'"
)


TRYING_THE_LOCK = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND query LIKE '%pg_try_advisory_lock%' AND state = 'idle'"
)


def _wait_for_warning(caplog: pytest.LogCaptureFixture, text: str) -> None:
    done = threading.Event()
    for _ in range(int(WAIT_S / 0.05)):
        if text in _warnings(caplog):
            return
        done.wait(0.05)
    raise AssertionError(f"never warned {text!r}")


def _warnings(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


def test_a_migration_behind_a_backup_lets_the_running_writers_go_on(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """While migration 15's ALTER TABLE waits for the backup's lock, an old-release process's insert, update and
    read of `deliveries` (each bounded by a statement_timeout far above the migration's lock_timeout) complete: they
    wait at most one attempt's lock_timeout. The migration says who holds the table, waits, and completes once the
    backup ends. Before, the writes queued behind the waiting ALTER TABLE until the backup ended."""
    _store_of_schema_14(pg_url)
    admin = _engine(pg_url)
    opened: list[SqlStore] = []
    errors: list[BaseException] = []
    with _backup_of(pg_url) as holder:
        blocker = _pid(holder)
        migrating = open_in_thread(pg_url, opened, errors)
        writer_engine = create_engine(normalize_url(pg_url))
        try:
            with writer_engine.connect() as writer:
                writer.execute(text("SET statement_timeout = '20s'"))  # an old process's write, bounded for the test
                writer.commit()
                for i in range(3):
                    _wait_for(admin, DDL_WAITING, "migration 15's ALTER TABLE waiting for the backup's lock")
                    writer.execute(_insert(f"during-{i}"))
                    writer.execute(text(f"UPDATE deliveries SET detail = 'tried {i}' WHERE alert_id = 'before'"))
                    writer.commit()
                    assert writer.execute(text("SELECT count(*) FROM deliveries")).scalar_one() == 2 + i
                    writer.commit()
        finally:
            writer_engine.dispose()
        assert migrating.is_alive() and current_version(admin) == 14  # it waits for the backup, not they for it
        said = _warnings(caplog)
        assert f"schema migration 15 waits for a lock of its table, held by PostgreSQL pid {blocker} " in said, said
        assert "application_name 'pg_dump'" in said and "deliveries (AccessShareLock)" in said, said
        # a second new process meanwhile waits for the first one's migration, and names it
        second = open_in_thread(pg_url, opened, errors)
        _wait_for(admin, TRYING_THE_LOCK, "the second opener trying the migration lock")
        _wait_for_warning(caplog, "waiting for another process's schema migration")
        said = _warnings(caplog)
        assert f"schema migration, by 'watchfloor migrate 14->16 pid {os.getpid()} since " in said, said
    migrating.join(WAIT_S)
    second.join(WAIT_S)
    try:
        assert not migrating.is_alive() and not second.is_alive() and not errors, errors
        assert len(opened) == 2 and sorted(s.migrated is not None for s in opened) == [False, True]
        [store] = [s for s in opened if s.migrated is not None]
        assert store.migrated is not None and (store.migrated.found, store.migrated.to) == (14, 16)
        [other] = [s for s in opened if s.migrated is None]
        other.close()
        assert current_version(admin) == 16
        assert "rev" in {c["name"] for c in inspect(admin).get_columns("deliveries")}
        with admin.connect() as conn:
            assert migration_holder(conn) is None
        store.close()
    finally:
        admin.dispose()


def test_a_migration_that_never_gets_its_lock_gives_up_saying_who_holds_it(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past $WATCHFLOOR_MIGRATE_WAIT_S the migration ends with a StoreError (kind "locked") that names the session
    holding the table; nothing of the step is left, and the migration lock is free for the next try."""
    _store_of_schema_14(pg_url)
    monkeypatch.setenv(MIGRATE_WAIT_ENV, "1")
    admin = _engine(pg_url)
    opened: list[SqlStore] = []
    errors: list[BaseException] = []
    try:
        with _backup_of(pg_url) as holder:
            blocker = _pid(holder)
            migrating = open_in_thread(pg_url, opened, errors)
            migrating.join(WAIT_S)
            assert not migrating.is_alive()
        assert not opened
        [e] = errors
        assert isinstance(e, StoreError) and e.kind == "locked", e
        said = str(e)
        assert "schema migration 15 (deliveries: rev" in said, said
        assert "did not get the lock of its table in " in said and f"PostgreSQL pid {blocker} " in said, said
        assert "application_name 'pg_dump'" in said and "the store stays at version 14" in said, said
        assert "run `watchfloor store migrate` again once that transaction has ended" in said, said
        assert current_version(admin) == 14
        assert "rev" not in {c["name"] for c in inspect(admin).get_columns("deliveries")}
        with admin.connect() as conn:
            assert migration_holder(conn) is None
        monkeypatch.delenv(MIGRATE_WAIT_ENV)
        SqlStore(pg_url).close()  # the backup over: the next try migrates
        assert current_version(admin) == 16
    finally:
        admin.dispose()


def test_store_migrate_says_the_wait_and_exits_1_when_it_gives_up(pg_url: str) -> None:
    """The command line itself (a process of its own, as an operator runs it): the wait is a line on stderr, not a
    log record that goes nowhere, and giving up is the error line with exit code 1."""
    _store_of_schema_14(pg_url)
    env = {**os.environ, MIGRATE_WAIT_ENV: "8", "PYTHONPATH": str(REPO), "WATCHFLOOR_NATIVE": "0"}
    with _backup_of(pg_url) as holder:
        blocker = _pid(holder)
        done = subprocess.run(
            [sys.executable, "-m", "watchfloor", "store", "migrate", "--store", pg_url],
            capture_output=True,
            text=True,
            env=env,
            timeout=WAIT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    said = " ".join(done.stderr.split())
    assert done.returncode == 1, said
    assert f"schema migration 15 waits for a lock of its table, held by PostgreSQL pid {blocker} " in said, said
    assert "the processes running on the store go on meanwhile" in said, said
    assert "error: store " in said and "did not get the lock of its table" in said, said


def test_a_waiting_opener_and_a_read_command_say_that_a_migration_is_in_progress(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holds the migration lock (named as a migrating watchfloor names its session): a read command
    says a migration is in progress, by whom, instead of sending the operator to `store migrate`; a process that
    would migrate says it waits for it (a warning, which reaches the terminal), and migrates once it is free."""
    _store_of_schema_14(pg_url)
    admin = _engine(pg_url)
    opened: list[SqlStore] = []
    errors: list[BaseException] = []
    try:
        with admin.connect() as other:
            other.execute(text("SET application_name = 'watchfloor migrate 14->16 pid 4242 since 21:08:33Z'"))
            other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATE_LOCK_KEY})
            migrator = _pid(other)
            with pytest.raises(StoreError) as read:
                SqlStore(pg_url, create=False, upgrade=False)
            said = " ".join(str(read.value).split())
            assert "its schema is version 14, older than this watchfloor's 16, and a schema migration is in " in said
            assert f"by 'watchfloor migrate 14->16 pid 4242 since 21:08:33Z' (PostgreSQL pid {migrator}" in said
            assert "store migrate" not in said, said
            status = CliRunner().invoke(app, ["status", "--store", pg_url])  # what the operator reads
            said = " ".join(status.output.split())
            assert status.exit_code == 1 and "a schema migration is in progress, by 'watchfloor migrate" in said, said
            waiting = open_in_thread(pg_url, opened, errors)
            _wait_for(admin, TRYING_THE_LOCK, "the opener trying the migration lock")
            _wait_for_warning(caplog, "waiting for another process's schema migration")
            said = _warnings(caplog)
            assert "waiting for another process's schema migration, by 'watchfloor migrate 14->16 pid 4242" in said
            assert f"(PostgreSQL pid {migrator}" in said, said
            assert waiting.is_alive()
            other.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATE_LOCK_KEY})
        waiting.join(WAIT_S)
        assert not waiting.is_alive() and not errors, errors
        [store] = opened
        assert store.migrated is not None and store.migrated.found == 14
        store.close()
        assert current_version(admin) == 16
    finally:
        admin.dispose()


def test_a_concurrent_index_build_says_which_open_transactions_it_waits_for(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Migration 12 builds its index of `deliveries` concurrently, which first waits for every transaction holding a
    snapshot (a backup's, REPEATABLE READ as pg_dump's): the wait is said, naming it, not left to look like a hang.
    The running processes are not held meanwhile (test_store_index_builds)."""
    SqlStore(pg_url).close()
    admin = _engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text("DROP INDEX ix_deliveries_claim"))
        conn.execute(text("UPDATE watchfloor_schema SET version = 11"))
    opened: list[SqlStore] = []
    errors: list[BaseException] = []
    snapshot = create_engine(normalize_url(pg_url), isolation_level="REPEATABLE READ")
    try:
        with snapshot.connect() as backup:
            backup.execute(text("SET application_name = 'pg_dump'"))
            backup.commit()
            backup.execute(text("SELECT count(*) FROM events"))  # its snapshot, held to the end of the transaction
            blocker = _pid(backup)
            _wait_for(  # (the warning names transactions open for over a second: not a running process's write)
                admin,
                f"SELECT count(*) FROM pg_stat_activity WHERE pid = {blocker} AND xact_start < now() - interval '2 s'",
                "the backup's transaction open for over a second",
            )
            migrating = open_in_thread(pg_url, opened, errors)
            _wait_for_warning(caplog, "store: building index ix_deliveries_claim on deliveries concurrently")
            said = _warnings(caplog)
            assert "it waits first for the transactions open before it to end: " in said, said
            assert f"PostgreSQL pid {blocker} (application_name 'pg_dump', state idle in transaction" in said, said
            backup.rollback()
        migrating.join(WAIT_S)
        assert not migrating.is_alive() and not errors, errors
        [store] = opened
        assert store.migrated is not None and store.migrated.found == 11
        store.close()
        assert current_version(admin) == 16
    finally:
        snapshot.dispose()
        admin.dispose()
