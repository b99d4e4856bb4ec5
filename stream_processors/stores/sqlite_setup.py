"""SQLite connection set-up for the SQL store: WAL, full fsync, busy waits, immediate writes, WAL checkpoints.

Checkpoints (copying the write-ahead log back into the database file, with an fsync of the file) run on a
thread of the store's own, about once a second, instead of inside whichever commit pushed the log past 1,000
pages: that commit used to take 0.1-0.8 s instead of ~1 ms on a busy machine (BENCHMARKS.md).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Any

from sqlalchemy import Connection, Engine

from .migrations import WRITE_OPTION

log = logging.getLogger(__name__)


class WalCheckpointer:
    """Checkpoints a file SQLite database's write-ahead log from a daemon thread, every `interval` seconds.

    PASSIVE: it copies what no reader still needs and never blocks writers or readers; a log that a reader
    pins is copied on a later round. Connections of the store have auto-checkpointing off (see
    ``sqlite_on_connect``), so no commit does this work. Another process's store checkpoints too; two at
    once are harmless (one finds the checkpoint lock taken and skips the round)."""

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self.engine = engine
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.checkpoint()

    def checkpoint(self) -> None:
        try:
            raw = self.engine.raw_connection()
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            finally:
                raw.close()
        except Exception:  # a busy or closing database: the next round tries again
            log.debug("WAL checkpoint skipped", exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.checkpoint()  # leave a short log behind


BUSY_TIMEOUT_MS = 30_000  # how long a statement waits for another process's lock before "database is locked"


def sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event (below) issue BEGIN itself instead of pysqlite's implicit, deferred one.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # first: everything below may wait for another process
        # WAL: readers do not block the writer and the writer does not block readers. WAL is a property of the
        # file, so only its first opener switches (which needs an exclusive lock); later ones only read it.
        _switch_to_wal(cur)
        # FULL, not NORMAL: in WAL mode NORMAL does not fsync the WAL at each commit, so a power loss or OS
        # crash can drop transactions that append()/commit() already reported as committed. The contract is
        # "durable before acknowledged", and callers batch their writes, so one fsync per commit is affordable.
        cur.execute("PRAGMA synchronous=FULL")
        # Checkpoints run on the store's WalCheckpointer thread, not inside a commit (module docstring).
        cur.execute("PRAGMA wal_autocheckpoint=0")
    finally:
        cur.close()


def _switch_to_wal(cur: Any, wait: float = 30.0) -> None:
    """PRAGMA journal_mode=WAL, waiting for other openers of a fresh file. SQLite does not call its busy
    handler for this switch when another connection holds the file open, so "database is locked" comes back
    at once; four processes opening one new store at once met it (issue 9). Retried here up to `wait`."""
    deadline = time.monotonic() + wait
    delay = 0.005
    while True:
        try:
            if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return  # WAL is a property of the file: only its first opener switches
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def sqlite_on_begin(conn: Connection) -> None:
    # Writers take SQLite's write lock up front (BEGIN IMMEDIATE), so two writers never both read the head and
    # then race to upgrade (a deferred transaction that read first would fail with SQLITE_BUSY, not wait).
    if conn.get_execution_options().get(WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")
