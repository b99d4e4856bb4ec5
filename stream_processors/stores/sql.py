"""SQL store: the event log, checkpoints and delivery ledger in SQLite or PostgreSQL (SQLAlchemy 2 Core).

Positions are assigned by this store, not by an identity column: every write transaction first takes the
store's write lock (``BEGIN IMMEDIATE`` on SQLite, ``pg_advisory_xact_lock`` on PostgreSQL), reads the
current head, drops events whose id is already in the log, and inserts the rest at head+1, head+2, ...
That makes positions gap-free and strictly increasing in commit order on both databases:

* On PostgreSQL an identity/sequence column is not enough. Two transactions can take values 7 and 8 from
  the sequence and commit in the order 8, 7; a reader that saw 8 and checkpointed at 8 would then never
  read 7. The advisory lock is held until commit, so the next writer computes its head only after the
  previous writer's rows are visible (READ COMMITTED takes a fresh snapshot per statement).
* ``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL still burns a sequence value for every skipped row,
  so re-ingesting a batch would leave holes; computing positions ourselves avoids that.

Readers never take the lock: they only read committed rows, whose positions can no longer change.

Opening a store migrates its schema (stores/migrations.py: safe with many processes opening at once), and
every failure of the database as a whole leaves the store as a `StoreError` with a one-line, password-free
message (stores/sql_errors.py). Events are checked before the write transaction (`check_event`): one that
no store could keep raises `RecordRejected` naming it, and nothing of its batch is written.

SQLite set-up (WAL, busy waits, BEGIN IMMEDIATE for writers) and the WAL checkpointer thread are in
stores/sqlite_setup.py. Commits fsync the log (``synchronous=FULL``).

A SQLite file store remembers the file it opened (its device and inode), and every read and write compares it
with what the path names now (`check_file`): a file deleted or replaced under a live process is a
StoreError of kind "replaced" instead of writes going on into an unlinked inode, which a restart would never see
(trial 19, H1: the new, empty store read the inbox again and sent every alert again).
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    Row,
    Select,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from watchfloor.schemas.events import (
    DOCUMENT_TYPES,
    EDITION_HASH_CHARS,
    EDITION_MARK,
    Event,
    edition_of,
    edition_range,
)

from ..ports import Checkpoint, CheckpointMoved, PruneStep, StoredEvent
from .errors import StoreError, check_event, payload_differs
from .migrations import WRITE_OPTION, check_current, check_made, migrate, migrated, planned
from .notices import announce
from .pruning import PRUNED_FIELDS, stripped
from .retry import RETRYABLE_SQLSTATES, TransactionRetry, conflict_of
from .sql_errors import classify, sqlite_path
from .sql_ledger import SqlDeliveryLedger, deliveries_table
from .sql_records import SqlRecordArchive
from .sqlite_setup import BUSY_TIMEOUT_MS, WalCheckpointer, sqlite_on_begin, sqlite_on_connect

log = logging.getLogger(__name__)

T = TypeVar("T")

WRITE_PROBE_EVERY = 1.0  # seconds between two looks at the write lock (write_locked_for), whoever asks
WRITE_TIMEOUT = BUSY_TIMEOUT_MS / 1000  # seconds a write waits for another writer's lock before it fails (SQLite)

metadata = MetaData()

events_table = Table(
    "events",
    metadata,
    # Assigned by SqlStore under the write lock (see the module docstring), hence no identity/autoincrement.
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("id", String, nullable=False, unique=True),
    Column("type", String, nullable=False),
    Column("schema_version", Integer, nullable=False),
    # ISO 8601 text with the event's own UTC offset: round-trips to an aware datetime, same instant and offset.
    Column("time", String, nullable=False),
    Column("key", String, nullable=True),
    Column("payload", Text, nullable=False),  # JSON
    # Where a document came from (source path or feed URL) and when the producer took it (UTC ISO 8601).
    # Added after the first release: migration 2 (stores/migrations.py) puts them into older databases.
    Column("origin", String, nullable=True),
    Column("received_at", String, nullable=True),
    # A document's line in its origin, when that is a file read by lines (Event.line): migration 13.
    Column("line", Integer, nullable=True),
)
Index("ix_events_type_position", events_table.c.type, events_table.c.position)

checkpoints_table = Table(
    "checkpoints",
    metadata,
    Column("processor", String, primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("state", Text, nullable=True),  # JSON, or NULL for "no state"
)

# The predicate of PostgreSQL's partial index of feed editions' ids (migration 6), as SQL text: a query that uses
# the index must carry it word for word.
EDITIONS_LIKE = f"'%{EDITION_MARK}%'"
# ix_events_alert_id (migration 9): detections by their alert id, an expression of the payload (a JSON text). The
# SQL of the expression per dialect and the partial index's predicate, shared by the migration and the query.
# PostgreSQL's ->> refuses a payload holding the escape \u0000 (it has no NUL in text), which would refuse the
# event's insert: such a payload is left out of the index (NULL), and its alert is found by its event id alone.
ALERT_ID_SQL = {
    "sqlite": "json_extract(payload, '$.id')",
    "postgresql": "(CASE WHEN strpos(payload, '\\u0000') = 0 THEN (payload::json) ->> 'id' END)",
}
ALERT_ID_WHERE = "type = 'detection'"
_PG_APPEND_LOCK_KEY = 0x7761_7463_6866_6C72  # "watchflr": the advisory lock key serialising appends
_ID_CHUNK = 900  # ids per "id IN (...)" look-up: below SQLite's and PostgreSQL's bound-parameter limits
_WRITE_OPTION = WRITE_OPTION
_PRUNED_KEYS = tuple(f'"{name}":' for name in PRUNED_FIELDS)  # as the payload's JSON text (check_event's) holds them


def normalize_url(url: str) -> URL:
    """SQLAlchemy URL for a store URL; plain postgres:// and postgresql:// use psycopg 3 (the installed driver)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    return u


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _event_row(position: int, ev: Event, payload: str) -> dict[str, Any]:
    return {
        "position": position,
        "id": ev.id,
        "type": ev.type,
        "schema_version": ev.schema_version,
        "time": ev.time.isoformat(),
        "key": ev.key,
        "payload": payload,
        "origin": ev.origin,
        "received_at": ev.received_at.isoformat() if ev.received_at is not None else None,
        "line": ev.line,
    }


def _stored_event(row: Row[Any]) -> StoredEvent:
    m = row._mapping
    ev = Event.model_construct(
        id=m["id"],
        type=m["type"],
        schema_version=m["schema_version"],
        time=datetime.fromisoformat(m["time"]),
        key=m["key"],
        payload=orjson.loads(m["payload"]),
        origin=m["origin"],
        received_at=datetime.fromisoformat(m["received_at"]) if m["received_at"] is not None else None,
        line=m["line"],
    )
    return StoredEvent(int(m["position"]), ev)


class SqlStore(SqlDeliveryLedger, SqlRecordArchive):
    """Event log, checkpoints, delivery ledger and kept Kafka records in one SQL database (sqlite:///FILE or
    postgresql://...)."""

    def __init__(
        self, url: str, *, create: bool = True, upgrade: bool = True, retry: TransactionRetry | None = None
    ) -> None:
        """Open (and migrate) the store. With `create=False`, as read commands open it, a SQLite file that
        does not exist is a StoreError instead of a new, empty store. With `upgrade=False` (commands that only read),
        a store of an older schema is a StoreError instead of migrated (migrations.check_current). `retry`: how a
        write transaction PostgreSQL aborts for a conflict is run again (`_transaction`; stores/retry.py)."""
        self.retry = retry if retry is not None else TransactionRetry()
        try:
            self.url = normalize_url(url)
        except Exception as e:  # sqlalchemy.exc.ArgumentError: not a URL at all
            raise StoreError(url, f"not a store URL ({e}): use sqlite:///FILE or postgresql://...") from None
        backend = self.url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported SQL backend {backend!r}: use sqlite:///FILE or postgresql://...")
        self._sqlite = backend == "sqlite"
        self._memory = self._sqlite and self.url.database in (None, "", ":memory:")
        path = sqlite_path(self.url) if self._sqlite else None
        if path is not None and not create and not path.exists():
            raise StoreError(str(self.url), f"no store at {path} (check the path; nothing was created)", "missing")
        # Why this process's last write failed (a StoreError's line), None once one went through: what /healthz and
        # /metrics report while reads still work (a write lock held elsewhere, a full disk).
        self.write_problem: str | None = None
        # Another writer seen holding the database's write lock (write_locked_for): since when (monotonic), unbroken,
        # and when it was last looked at; this process's writer waiting for that lock, since when (SQLite's BEGIN).
        self._locked_since: float | None = None
        self._probed_at: float | None = None
        self._probe_lock = threading.Lock()
        self._waiting_since: float | None = None
        # One writer at a time inside this process (the database lock orders writers across processes).
        self._write_lock = threading.RLock()
        # An in-memory SQLite database is a single connection shared by every thread: serialise everything.
        self._read_lock: AbstractContextManager[Any] = self._write_lock if self._memory else nullcontext()
        with self._guard():
            self.engine = self._make_engine()
        try:
            with self._guard():
                if not create and not self._memory:
                    check_made(self.engine, url=str(self.url), where=str(path) if path else "this database")
                if not upgrade:
                    check_current(self.engine, url=str(self.url))
                found = migrate(self.engine, sqlite=self._sqlite, url=str(self.url))
        except BaseException:
            self.engine.dispose()
            raise
        # What opening did to the schema (None: nothing), for the caller to say: the store prints nothing.
        self.migrated = migrated(found, url)
        if self.migrated is not None:
            announce(self.migrated)
        self._checkpointer = None if self._memory or not self._sqlite else WalCheckpointer(self.engine)
        # The file as opened (migrate made it if it was new): what check_file compares the path with. No descriptor of
        # our own is held on it: closing any descriptor of a file drops every POSIX lock the process holds on it, so
        # one of ours closed (or collected) beside SQLite's connections would release their locks (SQLite's "how to
        # corrupt" §2.2; a second `serve` start lost its writes that way in a test).
        self._path = None if self._memory else path
        self._file_id: tuple[int, int] | None = None if self._path is None else file_identity(self._path)

    def check_file(self) -> None:
        """StoreError when the SQLite file this store opened is no longer at its path; one stat, nothing for other
        stores. Replaced by another file (mv, a restored copy): kind "replaced", for good: this process's connections
        would write to a file no later process reads, so a live caller must stop. Gone from its path: deleted when
        SQLite's own descriptors show it deleted (Linux names them "PATH (deleted)"), kind "replaced" too; else moved
        away (the file, or its directory), kind "missing", an outage, which ends if it comes back (the same file);
        nothing is read or written meanwhile."""
        if self._file_id is None or self._path is None:
            return
        now = file_identity(self._path)
        if now == self._file_id:
            return
        if now is not None:
            what = "was replaced while this process had it open (another file is at that path now)"
        elif _open_deleted(self._path):
            what = "was deleted while this process had it open"
        elif self._path.parent.is_dir():
            raise StoreError(str(self.url), f"the store file {self._path} is no longer there (moved away?)", "missing")
        else:
            raise StoreError(str(self.url), f"directory {self._path.parent} does not exist (moved away?)", "missing")
        raise StoreError(str(self.url), f"the store file {self._path} {what}", "replaced")

    # -- engine set-up ---------------------------------------------------------------------------------------

    def _make_engine(self) -> Engine:
        if not self._sqlite:
            # READ COMMITTED is what the position scheme relies on (a fresh snapshot after taking the lock).
            return create_engine(self.url, isolation_level="READ COMMITTED", pool_pre_ping=True)
        if self._memory:
            engine = create_engine(
                self.url, poolclass=StaticPool, connect_args={"check_same_thread": False, "timeout": 30}
            )
        else:
            engine = create_engine(self.url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", sqlite_on_connect)
        event.listen(engine, "begin", sqlite_on_begin)
        return engine

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Database failures of the store as a whole leave as StoreError; one statement's data errors do not."""
        try:
            yield
        except Exception as e:
            problem = classify(e, self.url)
            if problem is None or problem is e:
                raise
            raise problem from e

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction: in-process lock, then BEGIN IMMEDIATE (SQLite) or a plain BEGIN (PostgreSQL).
        Its outcome is kept in `write_problem`: reads go on while another process holds the write lock, or the disk is
        full, so only a write says that the store can take this process's work (trial 19, M1)."""
        try:
            with self._guard(), self._write_lock, self.engine.connect() as conn:
                conn.execution_options(**{_WRITE_OPTION: True})
                # While BEGIN IMMEDIATE waits, another process holds the lock: what write_locked_for says meanwhile.
                self._waiting_since = time.monotonic()
                try:
                    begun = conn.begin()
                finally:
                    self._waiting_since = None
                with begun:
                    yield conn
                    # Before the commit, so a file deleted under us gets nothing more (raising rolls back).
                    self.check_file()
        except StoreError as e:
            self.write_problem = str(e)
            raise
        self.write_problem = None

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        """`work` in one write transaction (`_write`), run again as a whole when PostgreSQL aborts the transaction for
        a conflict ("deadlock detected", "could not serialize access": stores/retry.py), up to `retry.attempts` runs
        with a short jittered wait between: the abort rolled everything back and the other transaction goes on, so
        this is no store outage. Every write of the store goes through here, so `work` must be safe to run again:
        it keeps nothing but its writes in `conn` and its return value (counters, lists and a batch it consumes are
        made inside it). One log line per transaction that met a conflict, not one per run."""
        attempt = 1
        seen: str | None = None
        while True:
            try:
                with self._write() as conn:
                    result = work(conn)
            except StoreError as e:
                state = conflict_of(e)
                wait = None if state is None else self.retry.wait_before(attempt, random.random())
                if wait is None:
                    if state is not None:
                        log.warning(
                            "store write: PostgreSQL aborted the transaction %d times (%s, SQLSTATE %s); gave up",
                            attempt,
                            RETRYABLE_SQLSTATES[state],
                            state,
                        )
                    raise
                seen = seen or state
                time.sleep(wait)
                attempt += 1
                continue
            if seen is not None:
                log.warning(
                    "store write: PostgreSQL aborted the transaction (%s, SQLSTATE %s); run again, it went through "
                    "on attempt %d",
                    RETRYABLE_SQLSTATES[seen],
                    seen,
                    attempt,
                )
            return result

    def write_locked_for(self, every: float = WRITE_PROBE_EVERY) -> float | None:
        """Seconds another writer has been seen holding the store's write lock, unbroken (from the first look that
        found it held to now), or None while the lock is free (or cannot be told). For /healthz, /metrics and `run`'s
        cycle line, which would otherwise say nothing until a write of the pipeline fails after the busy timeout.

        While free, looks at most once per `every` seconds (callers in between get the last look's answer); while
        held, at each call, so that the sighting ends at the first free look. A caller that finds another thread
        looking does not wait for it: it gets the last answer. A look never waits: SQLite `BEGIN IMMEDIATE` with a busy
        timeout of 0, rolled back at once; PostgreSQL `pg_try_advisory_xact_lock` on the append lock and `LOCK TABLE
        events IN ROW EXCLUSIVE MODE NOWAIT` (what an append needs), rolled back. While this process's own writer is
        in a transaction the look is not made: under SQLite a writer still waiting for BEGIN IMMEDIATE is waiting for
        another process (a sighting since it started waiting), one past it holds the lock (free); under PostgreSQL the
        last answer stands. Any other failure of the look (the store away) leaves the answer as it was: the reads and
        writes say that."""
        if self._memory:
            return None
        now = time.monotonic()
        if self._probe_lock.acquire(blocking=False):
            try:
                # While it is held, every call looks: the first free look ends the sighting at once.
                if self._probed_at is None or now - self._probed_at >= every or self._locked_since is not None:
                    self._probed_at = now
                    self._look(now)
            finally:
                self._probe_lock.release()
        since = self._locked_since
        return None if since is None else max(now - since, 0.0)

    def _look(self, now: float) -> None:
        """One look at the write lock (write_locked_for), recorded in `_locked_since`."""
        if not self._write_lock.acquire(blocking=False):  # this process is writing
            if self._sqlite:
                waiting = self._waiting_since
                self._sighted(now if waiting is None else waiting, held=waiting is not None)
            return
        try:
            held = self._lock_held_elsewhere()
        except Exception:  # the store away, a read-only file, ...: not this look's to say
            log.debug("write lock look failed", exc_info=True)
            return
        finally:
            self._write_lock.release()
        self._sighted(now, held=held)

    def _sighted(self, at: float, *, held: bool) -> None:
        if not held:
            self._locked_since = None
        elif self._locked_since is None or at < self._locked_since:
            self._locked_since = at

    def _lock_held_elsewhere(self) -> bool:
        """Whether the write lock is held by another connection now; never waits, holds nothing after."""
        self.check_file()  # before connecting, as _read (a new connection would make an empty file)
        with self._guard(), self.engine.connect() as conn:
            if self._sqlite:
                raw: Any = conn.connection.driver_connection
                raw.execute("PRAGMA busy_timeout=0")
                try:
                    try:
                        raw.execute("BEGIN IMMEDIATE")
                    except sqlite3.OperationalError as e:
                        if "locked" in str(e) or "busy" in str(e):
                            return True
                        raise
                    raw.execute("ROLLBACK")
                    return False
                finally:
                    try:
                        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                    except Exception:  # never back in the pool with no wait: the pipeline's writes need 30 s
                        conn.invalidate()
            with conn.begin() as tx:
                try:
                    if not conn.execute(select(func.pg_try_advisory_xact_lock(_PG_APPEND_LOCK_KEY))).scalar_one():
                        return True
                    try:
                        conn.exec_driver_sql("LOCK TABLE events IN ROW EXCLUSIVE MODE NOWAIT")
                    except Exception as e:
                        if _lock_waited(e):
                            return True
                        raise
                    return False
                finally:
                    tx.rollback()  # the advisory and table locks go with it

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        self.check_file()  # before connecting: a pool's new connection would make a new, empty file at the path
        with self._guard(), self._read_lock, self.engine.connect() as conn:
            yield conn

    # -- event log -------------------------------------------------------------------------------------------

    @staticmethod
    def _checked(events: Sequence[Event]) -> dict[str, tuple[Event, str]]:
        """The batch by id, each event with its payload's JSON, checked before any transaction starts."""
        batch: dict[str, tuple[Event, str]] = {}
        for i, ev in enumerate(events):
            if ev.id not in batch:  # the first of the same id in a batch wins, as in the memory store
                batch[ev.id] = (ev, check_event(ev, i))
        return batch

    def _append_in(
        self,
        conn: Connection,
        events: Sequence[Event] | dict[str, tuple[Event, str]],
        max_editions: int | None = None,
        left_out: list[str] | None = None,
    ) -> int:
        """Append in the caller's write transaction. `events` may come already `_checked` (append and commit
        check before they open the transaction, so a rejected record costs no lock). With `max_editions`, new
        editions past it are left out and their ids added to `left_out` (append_bounded)."""
        batch = dict(events) if isinstance(events, dict) else self._checked(events)
        if not batch:
            return 0
        self._lock_appends(conn)
        ids = list(batch)
        for i in range(0, len(ids), _ID_CHUNK):
            chunk = ids[i : i + _ID_CHUNK]
            for (existing,) in conn.execute(select(events_table.c.id).where(events_table.c.id.in_(chunk))):
                batch.pop(existing, None)
        if max_editions is not None:
            self._past_bound(conn, batch, max_editions, left_out if left_out is not None else [])
        if not batch:
            return 0
        head = int(conn.execute(select(func.coalesce(func.max(events_table.c.position), 0))).scalar_one())
        rows = [_event_row(head + n, ev, payload) for n, (ev, payload) in enumerate(batch.values(), start=1)]
        insert = sqlite_dialect.insert if self._sqlite else pg_dialect.insert
        # DO NOTHING is only a safety net (e.g. a writer that bypasses the lock); the lock makes it unneeded.
        conn.execute(insert(events_table).on_conflict_do_nothing(), rows)
        # Count what really went in (range scan on the primary key) rather than trusting executemany rowcount.
        added = conn.execute(
            select(func.count()).select_from(events_table).where(events_table.c.position > head)
        ).scalar_one()
        return int(added)

    def _lock_appends(self, conn: Connection) -> None:
        """Take the append lock (PostgreSQL; SQLite's BEGIN IMMEDIATE holds its one write lock already), held until
        this transaction ends; taking it again in the transaction is a no-op. A transaction that appends takes it
        before any row lock: one that locked a row first and then waited here would deadlock with a holder of this
        lock that writes the same row (a ledger enqueue's INSERT ... ON CONFLICT waits for the row's settlement:
        the fresh-clone CI of session 40 saw "deadlock detected" with four dispatchers on one PostgreSQL store)."""
        if not self._sqlite:
            # Held until this transaction commits or rolls back; see the module docstring for why.
            conn.execute(select(func.pg_advisory_xact_lock(_PG_APPEND_LOCK_KEY)))

    def _past_bound(self, conn: Connection, batch: dict[str, tuple[Event, str]], bound: int, out: list[str]) -> None:
        """Drop from `batch` (new events only) each edition whose item has `bound` editions: counted here, under the
        write lock (BEGIN IMMEDIATE, or the advisory lock under READ COMMITTED, whose next statement sees every
        commit before it), so no other writer can add one between the count and the insert."""
        items: dict[str, list[str]] = {}
        for ev_id in batch:
            if (item := edition_of(ev_id)) is not None:
                items.setdefault(item, []).append(ev_id)
        if not items:
            return
        stmt = self.editions_query()
        for item, ids in items.items():
            low, high, length = edition_range(item)
            have = int(conn.execute(stmt, {"lo": low, "hi": high, "n": length}).scalar_one())
            for ev_id in ids[max(0, bound - have) :]:
                del batch[ev_id]
                out.append(ev_id)

    def append(self, events: Sequence[Event]) -> int:
        if not events:
            return 0
        batch = self._checked(events)
        return self._transaction(lambda conn: self._append_in(conn, batch))  # (_append_in copies the batch)

    def append_bounded(
        self, events: Sequence[Event], max_editions: int, checkpoint: tuple[str, Checkpoint] | None = None
    ) -> tuple[int, list[str]]:
        batch = self._checked(events)

        def work(conn: Connection) -> tuple[int, list[str]]:
            left_out: list[str] = []  # (a run again starts with none)
            if checkpoint is not None:
                if batch:  # (the append lock before the checkpoint's row lock: `_lock_appends`)
                    self._lock_appends(conn)
                self._save_checkpoint(conn, checkpoint[0], checkpoint[1], None)
            return self._append_in(conn, batch, max_editions, left_out), left_out

        return self._transaction(work)

    def find_conflicts(self, events: Sequence[Event]) -> list[str]:
        """Ids of `events` that the log already holds with another type or payload (same id, other content;
        see errors.payload_differs)."""
        wanted: dict[str, Event] = {}
        for ev in events:
            if "\x00" not in ev.id:  # never stored (check_event), and PostgreSQL cannot even look it up
                wanted.setdefault(ev.id, ev)
        ids = list(wanted)
        out: set[str] = set()
        stmt = select(events_table.c.id, events_table.c.type, events_table.c.payload)
        with self._read() as conn:
            for i in range(0, len(ids), _ID_CHUNK):
                chunk = ids[i : i + _ID_CHUNK]
                for got_id, got_type, got_payload in conn.execute(stmt.where(events_table.c.id.in_(chunk))):
                    ev = wanted[got_id]
                    if got_type != ev.type or payload_differs(orjson.loads(got_payload), ev.payload):
                        out.add(got_id)
        return [i for i in ids if i in out]

    def count_editions(self, doc_ids: Sequence[str]) -> dict[str, int]:
        """For each item id, its editions in the log: a range of an index of ids, one look-up per item (the
        producers ask only for items edited in the poll at hand, which are few: publish.py)."""
        out = dict.fromkeys(doc_ids, 0)
        wanted = [d for d in out if "\x00" not in d]  # never stored (check_event)
        if not wanted:
            return out
        stmt = self.editions_query()
        with self._read() as conn:
            for doc_id in wanted:
                low, high, length = edition_range(doc_id)
                out[doc_id] = int(conn.execute(stmt, {"lo": low, "hi": high, "n": length}).scalar_one())
        return out

    def latest_editions(self, doc_ids: Sequence[str]) -> dict[str, Event]:
        """For each item id that has editions in the log, the last appended: count_editions' range of the index,
        one look-up per item (asked only for an edited item its feed's checkpoint no longer names: publish.py)."""
        wanted = [d for d in dict.fromkeys(doc_ids) if "\x00" not in d]  # never stored (check_event)
        out: dict[str, Event] = {}
        if not wanted:
            return out
        # Every edition of the item (a few: max_editions), the last picked here: an ORDER BY position LIMIT 1 could
        # be planned as a backward scan of the whole log by position instead of the seek count_editions makes.
        stmt = select(events_table).where(*self._edition_range_where())
        with self._read() as conn:
            for doc_id in wanted:
                low, high, length = edition_range(doc_id)
                rows = conn.execute(stmt, {"lo": low, "hi": high, "n": length}).all()
                if rows:
                    out[doc_id] = _stored_event(max(rows, key=lambda r: int(r._mapping["position"]))).event
        return out

    def editions_query(self) -> Select[Any]:
        """count_editions' query of one item, with the parameters `lo`, `hi` and `n` (edition_range)."""
        return select(func.count()).select_from(events_table).where(*self._edition_range_where())

    def _edition_range_where(self) -> list[Any]:
        """The conditions of an item's editions' ids, with the parameters `lo`, `hi` and `n` (edition_range)."""
        lo, hi, n = bindparam("lo", type_=String), bindparam("hi", type_=String), bindparam("n", type_=Integer)
        if self._sqlite:
            # The id's unique index is in byte order (BINARY), which is code point order: a range seek.
            key: Any = events_table.c.id
            hexadecimal = func.substr(key, -EDITION_HASH_CHARS).op("NOT GLOB")(literal_column("'*[^0-9a-f]*'"))
            where = [key >= lo, key <= hi, func.length(key) == n, hexadecimal]
        else:
            # The database's collation may not be byte order (en_US.UTF-8 is not): compare in "C", which the
            # partial index of editions' ids (migration 6) is built in. Its predicate, a literal here too, is what
            # lets the planner use it.
            key = events_table.c.id.collate("C")
            where = [
                key >= lo,
                key <= hi,
                func.length(events_table.c.id) == n,
                func.right(events_table.c.id, EDITION_HASH_CHARS).op("~")(literal_column("'^[0-9a-f]+$'")),
                events_table.c.id.like(literal_column(EDITIONS_LIKE)),
            ]
        return where

    def read(self, after: int = 0, *, types: Collection[str] | None = None, limit: int = 1000) -> list[StoredEvent]:
        if limit <= 0 or (types is not None and not types):
            return []
        stmt = select(events_table).where(events_table.c.position > after)
        stmt = _filter_types(stmt, types).order_by(events_table.c.position).limit(limit)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [_stored_event(r) for r in rows]

    def read_payloads(
        self, after: int = 0, *, types: Collection[str] | None = None, limit: int = 1000
    ) -> list[tuple[int, str]]:
        if limit <= 0 or (types is not None and not types):
            return []
        stmt = select(events_table.c.position, events_table.c.payload).where(events_table.c.position > after)
        stmt = _filter_types(stmt, types).order_by(events_table.c.position).limit(limit)
        with self._read() as conn:
            rows = conn.execute(stmt).all()  # one fetchall (iterating the result fetches row by row)
        return [(int(row[0]), str(row[1])) for row in rows]

    def read_latest(
        self,
        before: int | None = None,
        *,
        types: Collection[str] | None = None,
        key: str | None = None,
        limit: int = 1000,
    ) -> list[StoredEvent]:
        if limit <= 0 or (types is not None and not types):
            return []
        stmt = _filter_types(select(events_table), types)
        if before is not None:
            stmt = stmt.where(events_table.c.position < before)
        if key is not None:
            stmt = stmt.where(events_table.c.key == key)
        # One type: ix_events_type_position read backwards from the head, so the cost is the page asked for.
        stmt = stmt.order_by(events_table.c.position.desc()).limit(limit)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [_stored_event(r) for r in rows]

    def read_ids(self, ids: Collection[str]) -> list[StoredEvent]:
        wanted = [i for i in dict.fromkeys(ids) if "\x00" not in i]  # never stored (check_event)
        out: list[StoredEvent] = []
        with self._read() as conn:
            for i in range(0, len(wanted), _ID_CHUNK):
                stmt = select(events_table).where(events_table.c.id.in_(wanted[i : i + _ID_CHUNK]))
                out.extend(_stored_event(r) for r in conn.execute(stmt).all())
        return sorted(out, key=lambda se: se.position)

    def detections_of(self, alert_ids: Collection[str]) -> list[StoredEvent]:
        wanted = [i for i in dict.fromkeys(alert_ids) if "\x00" not in i]
        # The expression and the predicate of ix_events_alert_id (migration 9), word for word: the planners use an
        # expression index only for the same expression, and a partial one only under its own WHERE.
        alert_id: Any = literal_column(ALERT_ID_SQL["sqlite" if self._sqlite else "postgresql"])
        # One seek per id (the callers name a few): SQLite plans `IN (...)` on the expression as a walk of the type
        # index instead, and an equality as a seek of this one.
        stmt = select(events_table).where(
            literal_column(ALERT_ID_WHERE), alert_id == bindparam("alert_id", type_=String)
        )
        out: list[StoredEvent] = []
        with self._read() as conn:
            for one in wanted:
                out.extend(_stored_event(r) for r in conn.execute(stmt, {"alert_id": one}).all())
        return sorted(out, key=lambda se: se.position)

    def alert_ids_starting(self, prefix: str, limit: int = 10) -> list[str]:
        if not prefix or "\x00" in prefix or limit <= 0:
            return []
        alert_id: Any = literal_column(ALERT_ID_SQL["sqlite" if self._sqlite else "postgresql"])
        # A range of ix_events_alert_id (the expression and predicate of `detections_of`): an id that starts with the
        # prefix sorts from it to the prefix followed by "z" whenever its rest is letters and digits, as alert ids
        # (hex) are, in SQLite's binary order and a PostgreSQL collation alike; a LIKE would not use the index under
        # a locale collation. An id in the range not of that form, and not starting with the prefix, is left out.
        stmt = (
            select(alert_id)
            .select_from(events_table)
            .where(
                literal_column(ALERT_ID_WHERE),
                alert_id >= bindparam("low", type_=String),
                alert_id < bindparam("high", type_=String),
            )
            .distinct()
            .order_by(alert_id)
            .limit(bindparam("cap"))
        )
        with self._read() as conn:
            got = conn.execute(stmt, {"low": prefix, "high": prefix + "z", "cap": limit}).all()
        return [str(r[0]) for r in got if str(r[0]).startswith(prefix)]

    def head(self) -> int:
        with self._read() as conn:
            got = conn.execute(select(func.max(events_table.c.position))).scalar_one_or_none()
        return int(got) if got is not None else 0

    def count(
        self, *, types: Collection[str] | None = None, after: int = 0, key: str | None = None, up_to: int | None = None
    ) -> int:
        if types is not None and not types:
            return 0
        stmt = _filter_types(select(func.count()).select_from(events_table), types)
        if key is not None:
            stmt = stmt.where(events_table.c.key == key)
        if after > 0:  # with types: a range of ix_events_type_position per type; without: of the primary key
            stmt = stmt.where(events_table.c.position > after)
        if up_to is not None:
            stmt = stmt.where(events_table.c.position <= up_to)
        with self._read() as conn:
            return int(conn.execute(stmt).scalar_one())

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()

    # -- checkpoints -----------------------------------------------------------------------------------------

    def load_checkpoint(self, processor: str) -> Checkpoint:
        stmt = select(checkpoints_table.c.position, checkpoints_table.c.state).where(
            checkpoints_table.c.processor == processor
        )
        with self._read() as conn:
            row = conn.execute(stmt).one_or_none()
        if row is None:
            return Checkpoint(0, None)
        state = orjson.loads(row.state) if row.state is not None else None
        return Checkpoint(int(row.position), state)

    def checkpoint_position(self, processor: str) -> int:
        stmt = select(checkpoints_table.c.position).where(checkpoints_table.c.processor == processor)
        with self._read() as conn:
            position = conn.execute(stmt).scalar_one_or_none()
        return 0 if position is None else int(position)

    def checkpoint_positions(self) -> dict[str, int]:
        with self._read() as conn:
            rows = conn.execute(select(checkpoints_table.c.processor, checkpoints_table.c.position)).all()
        return {str(name): int(position) for name, position in rows}

    # -- retention (watchfloor/retention.py) -----------------------------------------------------------------

    def forget_checkpoint(self, processor: str, *, at: int, record: tuple[str, str, Any] | None = None) -> bool:
        def work(conn: Connection) -> int | None:
            """None when the checkpoint was forgotten, else the position it is at (-1: none)."""
            if not self._sqlite:
                # Two forgets at once read and write the record one after the other (SQLite's BEGIN IMMEDIATE does
                # it there): read before the other committed, one entry would be lost (review of 4fefd2c, 5).
                conn.execute(select(func.pg_advisory_xact_lock(_PG_APPEND_LOCK_KEY)))
            gone = conn.execute(
                delete(checkpoints_table).where(
                    checkpoints_table.c.processor == processor, checkpoints_table.c.position == at
                )
            )
            if gone.rowcount:
                if record is not None:
                    name, key, value = record
                    row = conn.execute(
                        select(checkpoints_table.c.position, checkpoints_table.c.state).where(
                            checkpoints_table.c.processor == name
                        )
                    ).one_or_none()
                    old = orjson.loads(row.state) if row is not None and row.state is not None else None
                    state = dict(old) if isinstance(old, dict) else {}
                    state[key] = value
                    self._save_checkpoint(conn, name, Checkpoint(int(row.position) if row else 0, state), None)
                return None
            found = conn.execute(
                select(checkpoints_table.c.position).where(checkpoints_table.c.processor == processor)
            ).scalar_one_or_none()
            return -1 if found is None else int(found)

        found = self._transaction(work)
        if found is None:
            return True
        if found < 0:
            return False
        raise CheckpointMoved(processor, at, found)

    def strip_documents(self, before: datetime, after: int, up_to: int, *, limit: int = 2000) -> PruneStep:
        """One short write transaction per call (the write lock is held for one batch only, so `run` appends
        between batches): the documents by ix_events_type_position, their event time compared here as an instant
        (the column keeps each time's own offset, so its text does not sort as time), the payload rewritten
        without its text (stores.pruning). The row keeps its id, type, time and position."""
        stmt = (
            select(events_table.c.position, events_table.c.time, events_table.c.payload)
            .where(
                events_table.c.type.in_(sorted(DOCUMENT_TYPES)),
                events_table.c.position > after,
                events_table.c.position <= up_to,
            )
            .order_by(events_table.c.position)
            .limit(limit)
        )
        change = (
            update(events_table).where(events_table.c.position == bindparam("at")).values(payload=bindparam("stub"))
        )

        def work(conn: Connection) -> PruneStep:
            freed = 0
            stubs: list[dict[str, Any]] = []
            rows = conn.execute(stmt).all()
            for position, at, payload in rows:
                if datetime.fromisoformat(at) >= before or not any(f in payload for f in _PRUNED_KEYS):
                    continue  # new enough, or pruned already (a re-run passes over stubs without parsing them)
                new = stripped(orjson.loads(payload))
                if new is None:
                    continue  # pruned already
                stub = _dumps(new)
                freed += len(payload.encode()) - len(stub.encode())
                stubs.append({"at": int(position), "stub": stub})
            if stubs:
                conn.execute(change, stubs)
            to = int(rows[-1].position) if len(rows) >= limit else max(up_to, after)
            return PruneStep(to, len(stubs), freed)

        return self._transaction(work)

    def reclaim_space(self, *, during_prune: bool = False) -> str:
        """SQLite: VACUUM (the file rewritten without its free pages; it needs as much free disk as the store, and
        holds the write lock meanwhile), then the WAL truncated, since VACUUM in WAL mode writes the whole file
        through it; between a prune's batches nothing (SQLite reuses a page freed by an update at once).
        PostgreSQL: VACUUM of the events table, which makes the old row versions' space reusable (the table stops
        growing until new rows fill it) without the exclusive lock VACUUM FULL would take; between a prune's
        batches too, since an update writes a new version of each row: without it, a prune of the whole log
        doubles the table before any space can be reused (BENCHMARKS.md, "Store retention")."""
        if self._memory or (during_prune and self._sqlite):
            return "" if during_prune else "nothing to reclaim in memory"
        with self._guard(), self._write_lock:
            if self._sqlite:
                raw = self.engine.raw_connection()
                try:
                    raw.driver_connection.execute("VACUUM")  # type: ignore[union-attr]
                    raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
                finally:
                    raw.close()
                return "VACUUM (file rewritten) and WAL truncated"
            with self.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM (ANALYZE) events")
            return "VACUUM (ANALYZE) events: the space is reusable by new rows"

    def commit(
        self, processor: str, checkpoint: Checkpoint, outputs: Sequence[Event], *, since: int | None = None
    ) -> int:
        batch = self._checked(outputs)

        def work(conn: Connection) -> int:
            if batch:  # (the append lock before the checkpoint's row lock: `_lock_appends`)
                self._lock_appends(conn)
            self._save_checkpoint(conn, processor, checkpoint, since)
            return self._append_in(conn, batch)  # (which copies the batch: a run again has all of it)

        return self._transaction(work)

    def commit_now(
        self, processor: str, checkpoint: Checkpoint, *, since: int | None = None, wait: float = 0.0
    ) -> bool:
        """Save a checkpoint alone (no events) if the store takes the write within `wait` seconds, else False: for a
        save that may be skipped and tried again later (the web's activity counts), which must not hold a /metrics
        scrape for the busy timeout (30 s) while another writer, of this process or another, holds the lock. Its
        outcome is not `write_problem`, which says whether the pipeline's own writes go through. CheckpointMoved as
        commit's; any other failure raises (a StoreError, a read-only store's refusal)."""
        got = self._write_lock.acquire(timeout=wait) if wait > 0 else self._write_lock.acquire(blocking=False)
        if not got:
            return False  # this process's pipeline is writing
        millis = max(int(wait * 1000), 1)
        try:
            self.check_file()  # before connecting, as _read (a new connection would make an empty file)
            with self._guard(), self.engine.connect() as conn:
                conn.execution_options(**{_WRITE_OPTION: True})
                raw: Any = conn.connection.driver_connection if self._sqlite else None
                if raw is not None:  # the pool's connection waits `wait`, not 30 s, for BEGIN IMMEDIATE's lock
                    raw.execute(f"PRAGMA busy_timeout={millis}")
                try:
                    with conn.begin():
                        if not self._sqlite:  # the row lock of another server's save of the same checkpoint
                            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{millis}ms'")
                        self._save_checkpoint(conn, processor, checkpoint, since)
                        self.check_file()
                finally:
                    if raw is not None:
                        try:
                            raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                        except Exception:  # never back in the pool with the short wait: the pipeline's writes need 30 s
                            conn.invalidate()
        except Exception as e:
            if _lock_waited(e):
                return False
            raise
        finally:
            self._write_lock.release()
        return True

    def _save_checkpoint(self, conn: Connection, processor: str, checkpoint: Checkpoint, since: int | None) -> None:
        """commit's checkpoint, in the caller's write transaction; CheckpointMoved when `since` no longer holds."""
        values = {
            "processor": processor,
            "position": checkpoint.position,
            "state": _dumps(checkpoint.state) if checkpoint.state is not None else None,
        }
        # The checkpoint first: under PostgreSQL its row lock then orders two followers' commits, and a
        # compare-and-set that fails writes nothing (raising rolls the transaction back).
        cas: Any
        if since:  # a position > 0 was read: the row must still hold it (an absent row is a reset, not ours)
            cas = (
                update(checkpoints_table)
                .where(checkpoints_table.c.processor == processor, checkpoints_table.c.position == since)
                .values(position=values["position"], state=values["state"])
            )
        else:  # no checkpoint was read (since 0), or none is asked for (since None)
            where = None if since is None else checkpoints_table.c.position == 0
            if self._sqlite:
                s_ins = sqlite_dialect.insert(checkpoints_table).values(values)
                cas = s_ins.on_conflict_do_update(
                    index_elements=[checkpoints_table.c.processor],
                    set_={"position": s_ins.excluded.position, "state": s_ins.excluded.state},
                    where=where,
                )
            else:
                p_ins = pg_dialect.insert(checkpoints_table).values(values)
                cas = p_ins.on_conflict_do_update(
                    index_elements=[checkpoints_table.c.processor],
                    set_={"position": p_ins.excluded.position, "state": p_ins.excluded.state},
                    where=where,
                )
        # RETURNING: a row comes back only when the insert or the update was made.
        if conn.execute(cas.returning(checkpoints_table.c.position)).first() is None:
            found = conn.execute(
                select(checkpoints_table.c.position).where(checkpoints_table.c.processor == processor)
            ).scalar_one_or_none()
            raise CheckpointMoved(processor, since or 0, 0 if found is None else int(found))


def migration_plan(url: str) -> tuple[str, tuple[str, ...]]:
    """The schema version of the store at `url` and the migrations this release would run on it (migrations.planned),
    read without any lock, creating and changing nothing (`store migrate --dry-run`). StoreError when there is no
    store there, or it cannot be reached."""
    try:
        u = normalize_url(url)
    except Exception as e:  # sqlalchemy.exc.ArgumentError: not a URL at all
        raise StoreError(url, f"not a store URL ({e}): use sqlite:///FILE or postgresql://...") from None
    path = sqlite_path(u) if u.get_backend_name() == "sqlite" else None
    if path is not None and not path.exists():
        raise StoreError(str(u), f"no store at {path} (check the path; nothing was created)", "missing")
    engine = create_engine(u)
    try:
        try:
            check_made(engine, url=str(u), where=str(path) if path else "this database")
            return planned(engine)
        except Exception as e:
            problem = classify(e, u)
            raise e if problem is None else problem from e
    finally:
        engine.dispose()


def _lock_waited(e: BaseException) -> bool:
    """Whether a write failed only for a lock held elsewhere: SQLite's "database is locked" (StoreError "locked"), or
    PostgreSQL's lock_timeout (SQLSTATE 55P03, however it is wrapped)."""
    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, StoreError) and seen.kind == "locked":
            return True
        if (
            getattr(seen, "sqlstate", None) == "55P03"
            or getattr(getattr(seen, "orig", None), "sqlstate", None) == "55P03"
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _open_deleted(path: os.PathLike[str] | str) -> bool:
    """Whether this process holds the file once at `path` open and it was deleted (Linux's /proc/self/fd names such
    a descriptor "PATH (deleted)"); False where /proc is not there (the file is then taken as moved away)."""
    gone = f"{os.path.abspath(path)} (deleted)"
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return False
    for name in names:
        try:
            if os.readlink(f"/proc/self/fd/{name}") == gone:
                return True
        except OSError:
            continue
    return False


def file_identity(path: os.PathLike[str] | str) -> tuple[int, int] | None:
    """(st_dev, st_ino) of the file at `path`, or None when there is none (deleted, or its directory gone)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_dev, st.st_ino)


def _filter_types(stmt: Select[Any], types: Collection[str] | None) -> Select[Any]:
    if types is None:
        return stmt
    return stmt.where(events_table.c.type.in_(list(types)))


__all__ = [
    "SqlStore",
    "StoreError",
    "checkpoints_table",
    "deliveries_table",
    "events_table",
    "metadata",
    "migration_plan",
    "normalize_url",
]
