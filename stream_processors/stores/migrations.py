"""The SQL store's schema, as one ordered list of migrations applied once each under the store's migration lock.

Any number of processes may open a store at once, fresh or old (four `watchfloor` processes on a new SQLite
file used to fail with "database is locked"). Opening reads the schema version without a lock; only when it
is behind does the opener take the lock, read the version again, and apply what is still missing.

* SQLite: the lock is the write lock (``BEGIN IMMEDIATE``, which waits its turn), and every missing migration runs in
  that one transaction, so a crash mid-way leaves the old version. SQLite has no index build that lets writers on:
  any build holds the write lock until it ends (BENCHMARKS.md, "The delivery ledger at scale").
* PostgreSQL: the lock is a session advisory lock, taken by polling ``pg_try_advisory_lock`` on a connection in
  autocommit, and each migration runs in a transaction of its own that also sets the version to its number. A
  migration that adds an index to a table that may be big (`Migration.pg_indexes`) builds it with
  ``CREATE INDEX CONCURRENTLY``, which lets the running processes write the table meanwhile (a plain ``CREATE
  INDEX`` blocks every insert and update of it until the build ends). Such a build cannot run in a transaction, so it
  runs on the lock's autocommit connection, and the version moves past it only once the index is valid. A build
  that fails or is interrupted leaves an INVALID index behind (PostgreSQL commits the index's entry before it
  fills it): the next opener finds the version still before it, drops the invalid index and builds it again.
  A new store (version 0) builds them in its steps' transactions instead: its tables are empty and no one else
  writes them yet, and a concurrent build waits for every transaction on the database that holds a snapshot (a
  backup's), which would hold up the making of a new store.
  A waiting opener polls rather than blocks, because a concurrent build waits for every transaction holding a
  snapshot, which a statement blocked on the lock would hold: the two would deadlock. It says that it waits, naming
  the holder: the migrating process names its lock's session (application_name `watchfloor migrate 14->16 pid N
  since T`), which a read command names too instead of "run `store migrate`".
  A step's DDL (ALTER TABLE, DROP TRIGGER) waits for an ACCESS EXCLUSIVE lock of its table behind any transaction
  that reads it (a backup's), and every later read and write of that table queues behind the waiting statement. So
  each step runs with a short lock_timeout: when it times out, the step rolls back, says who holds the table, pauses
  (the queued writers go through) and tries again, still under the migration lock, until $WATCHFLOOR_MIGRATE_WAIT_S
  (an hour) is spent; then a StoreError (kind "locked") names the holder, and the store stays at the last step done.

To change the schema, append a `Migration` to `MIGRATIONS`, never edit or reorder one. Each must be
idempotent, because migration 1 creates the tables as the code defines them *now*: on a fresh store a later
migration finds its column already there. `add_column` does that check for the common case:

    Migration(2, "events: origin, received_at", lambda conn: add_column(conn, events_table, "origin"))
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Engine, Integer, MetaData, Table, func, inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from watchfloor.schemas.redact import redact_url

from .errors import StoreError
from .notices import SchemaMigrated

log = logging.getLogger(__name__)

WRITE_OPTION = "watchfloor_write"
"""Execution option that makes a SQLite transaction BEGIN IMMEDIATE (see sqlite_setup.sqlite_on_begin)."""

_PG_MIGRATE_LOCK_KEY = 0x7766_6D69_6772_6174  # "wfmigrat": serialises migrations (and nothing else)
_PG_LOCK_POLL = 0.2  # seconds between tries of the migration lock (see the module docstring: why a poll)
# How long one attempt of a migration step waits for a table lock (lock_timeout), and the pause before the next: the
# running processes' reads and writes of that table queue behind a waiting attempt, so at most this long (_step).
_PG_DDL_LOCK_TIMEOUT = 2.0
_PG_DDL_RETRY = 3.0
_PG_REMIND = 60.0  # a wait that goes on is said again this often
_PG_MIGRATE_WAIT_DEFAULT = 3600.0
MIGRATE_WAIT_ENV = "WATCHFLOOR_MIGRATE_WAIT_S"
"""How long a migration tries, in all, for the locks of the tables it changes before it gives up (seconds)."""
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE of a lock_timeout

schema_meta = MetaData()
version_table = Table("watchfloor_schema", schema_meta, Column("version", Integer, nullable=False))


@dataclass(frozen=True)
class PgIndex:
    """An index that PostgreSQL builds with CREATE INDEX CONCURRENTLY: `definition` follows ``ON table``."""

    name: str
    table: str
    definition: str


@dataclass(frozen=True)
class Migration:
    """One step of the schema. `apply` runs inside a migration transaction and must be idempotent. On PostgreSQL a
    migration with `pg_indexes` builds those concurrently, then drops `pg_drop` (concurrently too), instead of
    `apply`."""

    version: int
    what: str
    apply: Callable[[Connection], None]
    pg_indexes: Callable[[], tuple[PgIndex, ...]] | None = None  # (a function: sql.py imports this module)
    pg_drop: tuple[str, ...] = ()


def _create_tables(conn: Connection) -> None:
    from .sql import metadata  # the tables as the code defines them

    metadata.create_all(conn, checkfirst=True)


def _event_origin_columns(conn: Connection) -> None:
    from .sql import events_table

    for name in ("origin", "received_at"):
        add_column(conn, events_table, name)


def _event_line_column(conn: Connection) -> None:
    from .sql import events_table

    add_column(conn, events_table, "line")


def _delivery_ledger(conn: Connection) -> None:
    from .sql_ledger import create_ledger  # creates the table, or brings a first-version one up to date

    create_ledger(conn, conn.dialect.name == "sqlite")


def _channel_pauses(conn: Connection) -> None:
    from .sql_ledger import create_channel_pauses

    create_channel_pauses(conn)


def _channel_backoffs(conn: Connection) -> None:
    from .sql_ledger import create_channel_backoffs

    create_channel_backoffs(conn)


def _revisions(conn: Connection) -> None:
    from .sql_ledger import create_revisions

    create_revisions(conn)


def _revisions_by_bulk_writers(conn: Connection) -> None:
    from .sql_ledger import create_revisions_by_bulk_writers

    create_revisions_by_bulk_writers(conn)


def _ledger_indexes(conn: Connection) -> None:
    from .sql_ledger import create_ledger_indexes

    create_ledger_indexes(conn)


def _editions_index(conn: Connection) -> None:
    """PostgreSQL: an index of feed editions' ids in byte order, for SqlStore.count_editions. The id's own unique
    index follows the database's collation, which may not be byte order (en_US.UTF-8), and a range of it would then
    be wrong; partial, as editions are a sliver of the log (the build reads the table once). SQLite compares ids in
    byte order already: its unique index serves."""
    if conn.dialect.name == "sqlite":
        return
    from .sql import EDITIONS_LIKE

    # (text(): a % of the pattern is the driver's placeholder mark unless SQLAlchemy escapes it)
    index = 'CREATE INDEX IF NOT EXISTS ix_events_editions ON events ((id COLLATE "C"))'
    conn.execute(text(f"{index} WHERE id LIKE {EDITIONS_LIKE}"))


def _record_tables(conn: Connection) -> None:
    from .sql_records import create_record_tables

    create_record_tables(conn)


def _alert_id_index(conn: Connection) -> None:
    """An index of detection events by their alert id (the payload's `id`), for `alerts list ID` and `ack`: a
    revision's event has an id of its own, so every raising of an alert was found by reading every detection
    (9.7 s at 221k events, trial 18). Partial (detections only) and on an expression of the JSON payload, so no
    column is added and no row rewritten; building it reads the detections once."""
    from .sql import ALERT_ID_SQL, ALERT_ID_WHERE

    expression = ALERT_ID_SQL[conn.dialect.name]
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS ix_events_alert_id ON events ({expression}) WHERE {ALERT_ID_WHERE}"
    )


def _claim_order(conn: Connection) -> None:
    from .sql_ledger import add_claim_order

    add_claim_order(conn)


def _claim_index(conn: Connection) -> None:
    from .sql_ledger import create_claim_index

    create_claim_index(conn)


def _thread_and_sent_indexes(conn: Connection) -> None:
    from .sql_ledger import create_thread_and_sent_indexes

    create_thread_and_sent_indexes(conn)


def _alert_id_pg_index() -> tuple[PgIndex, ...]:
    from .sql import ALERT_ID_SQL, ALERT_ID_WHERE

    return (PgIndex("ix_events_alert_id", "events", f"({ALERT_ID_SQL['postgresql']}) WHERE {ALERT_ID_WHERE}"),)


def add_column(conn: Connection, table: Table, name: str) -> None:
    """ALTER TABLE ... ADD COLUMN for `table.c[name]` unless the table has it already (fresh stores do)."""
    if name in {c["name"] for c in inspect(conn).get_columns(table.name)}:
        return
    column = table.c[name]
    ddl_type = column.type.compile(dialect=conn.dialect)
    null = "" if column.nullable else " NOT NULL"
    conn.exec_driver_sql(f'ALTER TABLE {table.name} ADD COLUMN "{name}" {ddl_type}{null}')


MIGRATIONS: list[Migration] = [
    Migration(1, "events and checkpoints tables", _create_tables),
    Migration(2, "events: origin and received_at columns", _event_origin_columns),
    Migration(3, "deliveries: the ledger of outstanding deliveries, with claims and leases", _delivery_ledger),
    Migration(4, "deliveries: scheduled_at (when a retry's backoff was set)", _delivery_ledger),
    Migration(5, "channel_pauses: a channel's Retry-After, for rows enqueued after it too", _channel_pauses),
    Migration(6, "events: an index of feed editions' ids in byte order (PostgreSQL)", _editions_index),
    Migration(7, "topic_records, record_positions: Kafka records kept as read (the correlate topic)", _record_tables),
    Migration(
        8,
        "deliveries: an index of each channel's rows by log position (the throttle's reads)",
        _ledger_indexes,
        lambda: (PgIndex("ix_deliveries_channel_seq", "deliveries", "(channel, seq)"),),
    ),
    Migration(
        9,
        "events: an index of detections by alert id (alerts list ID)",
        _alert_id_index,
        _alert_id_pg_index,
    ),
    Migration(
        10,
        "deliveries: a thread's rows by its key in every channel (a retraction's read), a channel's sent rows by time",
        _thread_and_sent_indexes,
        lambda: (
            PgIndex("ix_deliveries_thread_key", "deliveries", "(thread_key, channel)"),
            PgIndex("ix_deliveries_sent", "deliveries", "(channel, updated_at, seq) WHERE status = 'sent'"),
        ),
        ("ix_deliveries_thread",),
    ),
    Migration(11, "deliveries: order_at (a pass delivers in event time, then log order)", _claim_order),
    Migration(
        12,
        "deliveries: an index of due rows in that order (a claim reads the first)",
        _claim_index,
        lambda: (PgIndex("ix_deliveries_claim", "deliveries", "(status, order_at, seq, alert_id, channel)"),),
    ),
    Migration(
        13, "events: line (a document's line in its file, which its event-time reports name)", _event_line_column
    ),
    Migration(
        14, "channel_backoffs: a channel's backoff after a failure, for rows enqueued after it too", _channel_backoffs
    ),
    Migration(
        15, "deliveries: rev (each row's revision, moved by each write: what a thread's reader reads again)", _revisions
    ),
    Migration(
        16,
        "deliveries: a write that moves rev itself (a bulk update) is left to it by the revision trigger",
        _revisions_by_bulk_writers,
    ),
]


def latest_version() -> int:
    return MIGRATIONS[-1].version


def _read_version(conn: Connection) -> int:
    if not inspect(conn).has_table(version_table.name):  # a fresh store, or one from before versioning
        return 0
    got = conn.execute(select(func.max(version_table.c.version))).scalar_one_or_none()
    return int(got) if got is not None else 0


def current_version(engine: Engine) -> int:
    """The store's schema version, read without taking any lock (0: never migrated)."""
    with engine.connect() as conn:
        return _read_version(conn)


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """SQLite: a write transaction (BEGIN IMMEDIATE), which is the migration lock too."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


def migrate(engine: Engine, *, sqlite: bool, url: str) -> int:
    """Bring the store's schema to the latest version; safe to call from many processes at once.
    Returns the version it found (under the lock when it migrated: another process may have done it). Raises
    StoreError for a store made by a newer watchfloor."""
    latest = latest_version()
    found = current_version(engine)
    if found == latest:
        return found
    if found > latest:
        raise _newer(url, found, latest)
    if not sqlite:
        return _migrate_postgres(engine, url, latest)
    with _migration_transaction(engine) as conn:
        found = _read_version(conn)  # again, under the lock: another process may have done it meanwhile
        if found > latest:
            raise _newer(url, found, latest)
        if found < latest:
            schema_meta.create_all(conn, checkfirst=True)
            for m in MIGRATIONS:
                if m.version > found:
                    m.apply(conn)
            _set_version(conn, latest)
    return found


def check_made(engine: Engine, *, url: str, where: str) -> None:
    """For a command that must not create a store (`create=False`): StoreError, kind "missing", when the database
    holds no watchfloor store (no schema version, no events table): a PostgreSQL database that exists but was never
    one, or an empty SQLite file. As a SQLite path that does not exist is refused (outside trial 43, M2: `status` on
    a mistyped PostgreSQL database made watchfloor's tables in it and said "caught up")."""
    if current_version(engine) == 0 and not inspect(engine).has_table("events"):
        raise StoreError(
            url,
            f"no watchfloor store in {where} (it holds no watchfloor tables: check the URL; nothing was created)",
            "missing",
        )


def planned(engine: Engine) -> tuple[str, tuple[str, ...]]:
    """The store's schema version as said ("14", or "from before schema versions") and what `migrate` would do to it,
    in order, read without any lock and changing nothing: the answer to an upgrade's "is there a schema change?"
    before it is made (outside trial 83, F4). A newer store's version with nothing to do."""
    found = current_version(engine)
    said = str(found)
    if found == 0 and inspect(engine).has_table("events"):
        found, said = 1, "from before schema versions"
    return said, tuple(f"{m.version}: {m.what}" for m in MIGRATIONS if m.version > found)


def check_current(engine: Engine, *, url: str) -> int:
    """For a command that only reads: the store's schema version, if this watchfloor reads it as it is (the latest,
    or 0: a store not made yet, which the caller makes); StoreError otherwise, a newer one's or an older one's. An
    older store is not upgraded by a read: a watchfloor of the version before may still run on it, and would refuse
    it after (outside trial 25: `alerts list` of a new install upgraded the store under a running `run`)."""
    latest = latest_version()
    found = current_version(engine)
    if found > latest:
        raise _newer(url, found, latest)
    said = str(found)
    if found == 0 and inspect(engine).has_table("events"):
        # a store of a version from before the schema was numbered: older still (review 22, F3)
        found, said = 1, "from before schema versions"
    if 0 < found < latest:
        older = f"its schema is version {said}, older than this watchfloor's {latest}"
        holder = _holder_of(engine)
        if holder is not None:  # (not "run `store migrate`" while one is at it: outside trial 58, MED-1)
            raise StoreError(
                url,
                f"{older}, and a schema migration is in progress, by {holder}: read it once that has ended, or "
                "with the watchfloor that wrote it",
                "older",
            )
        raise StoreError(
            url,
            f"{older}, and a command that only reads does not upgrade it (a watchfloor of the version before may "
            "still run on it); upgrade it with `watchfloor store migrate` (or by starting `watchfloor run`), or "
            "read it with the watchfloor that wrote it",
            "older",
        )
    return found


def _holder_of(engine: Engine) -> str | None:
    """Who migrates the store now (PostgreSQL: the holder of the migration lock), or None."""
    if engine.dialect.name != "postgresql":
        return None  # (SQLite migrates in one write transaction: a reader sees the old version or the new)
    with engine.connect() as conn:
        return migration_holder(conn)


def _set_version(conn: Connection, version: int) -> None:
    if conn.execute(select(func.count()).select_from(version_table)).scalar_one():
        conn.execute(update(version_table).values(version=version))
    else:
        conn.execute(version_table.insert().values(version=version))


def _migrate_postgres(engine: Engine, url: str, latest: int) -> int:
    """PostgreSQL: under the session advisory lock, each missing migration in a transaction of its own with its
    version, an index build of `pg_indexes` concurrently on the lock's autocommit connection (module docstring)."""
    with engine.connect() as conn:
        lock = conn.execution_options(isolation_level="AUTOCOMMIT")
        _take_lock(lock, url)
        try:
            found = _read_version(lock)  # again, under the lock: another process may have done it meanwhile
            if found > latest:
                raise _newer(url, found, latest)
            if found < latest:  # who migrates, and since when: what a waiting process and `status` say
                since = time.strftime("%H:%M:%SZ", time.gmtime())
                name = f"watchfloor migrate {found}->{latest} pid {os.getpid()} since {since}"
                lock.execute(text("SELECT set_config('application_name', :name, false)"), {"name": name})
            # A new store's tables were made by this run, empty and unseen: its indexes are built in the step's
            # transaction, as a concurrent build would wait for every older transaction on the database (a backup's)
            concurrent = found > 0
            waits = _LockWaits(url, _total_wait(url))
            for m in MIGRATIONS:
                if m.version <= found:
                    continue
                if m.pg_indexes is not None and concurrent:
                    for index in m.pg_indexes():
                        _build_concurrently(lock, index)
                    for name in m.pg_drop:
                        lock.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
                while not _step(engine, m, plain=m.pg_indexes is None or not concurrent):
                    waits.timed_out(lock, m)  # raises once the total wait is spent
            return found
        finally:
            lock.exec_driver_sql("RESET application_name")
            lock.execute(select(func.pg_advisory_unlock(_PG_MIGRATE_LOCK_KEY)))


def _step(engine: Engine, m: Migration, *, plain: bool) -> bool:
    """Migration `m` in a transaction of its own that sets its version; False when a statement of it waited
    `_PG_DDL_LOCK_TIMEOUT` for a lock (rolled back: nothing of it done). The timeout is what keeps a migration from
    stopping the running processes: an ALTER TABLE or DROP TRIGGER waits for an ACCESS EXCLUSIVE lock of its table
    behind any transaction that reads it (a backup's), and every later read and write of the table queues behind
    that waiting statement, for as long as the transaction runs (outside trial 58, HIGH-1). With it they wait at
    most the timeout per attempt. It also bounds what a killed migrator's statement holds up: the server gives it
    up at the timeout, its client gone or not."""
    try:
        with engine.begin() as step:
            step.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(_PG_DDL_LOCK_TIMEOUT * 1000)}ms'")
            schema_meta.create_all(step, checkfirst=True)
            if plain:
                m.apply(step)
            _set_version(step, m.version)  # after the step's indexes are valid, in its transaction
    except DBAPIError as e:
        if getattr(e.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            return False
        raise
    return True


def _total_wait(url: str) -> float:
    """How long a migration tries for the locks of its tables in all: $WATCHFLOOR_MIGRATE_WAIT_S, else an hour."""
    raw = os.environ.get(MIGRATE_WAIT_ENV, "").strip()
    try:
        return max(float(raw), 0.0) if raw else _PG_MIGRATE_WAIT_DEFAULT
    except ValueError:
        raise StoreError(url, f"${MIGRATE_WAIT_ENV} is {raw!r}: give a number of seconds") from None


class _LockWaits:
    """A migration's attempts that timed out waiting for a table lock: said when the first one does (naming the
    session holding the table), again every `_PG_REMIND` s, and a StoreError when the next attempt would end past
    `total` seconds of waiting."""

    def __init__(self, url: str, total: float) -> None:
        self.url = url
        self.total = total
        self.first: float | None = None
        self.said_at = 0.0

    def timed_out(self, lock: Connection, m: Migration) -> None:
        now = time.monotonic()
        if self.first is None:
            self.first = now - _PG_DDL_LOCK_TIMEOUT
        waited = now - self.first
        holders = table_lock_holders(lock)
        if waited + _PG_DDL_RETRY + _PG_DDL_LOCK_TIMEOUT > self.total:  # (the next attempt would end past it)
            raise StoreError(
                self.url,
                f"schema migration {m.version} ({m.what}) did not get the lock of its table in {waited:.0f} s, held "
                f"by {holders}; the store stays at version {m.version - 1} and the processes on it went on; run "
                f"`watchfloor store migrate` again once that transaction has ended (${MIGRATE_WAIT_ENV} sets how "
                "long to wait)",
                "locked",
            )
        if self.said_at == 0.0 or now - self.said_at >= _PG_REMIND:
            self.said_at = now
            log.warning(
                "store %s: schema migration %d waits for a lock of its table, held by %s (waited %.0f s); the "
                "processes running on the store go on meanwhile (each waits at most %.0f s per attempt); trying "
                "again every %.0f s, for up to %.0f s in all",
                redact_url(self.url),
                m.version,
                holders,
                waited,
                _PG_DDL_LOCK_TIMEOUT,
                _PG_DDL_LOCK_TIMEOUT + _PG_DDL_RETRY,
                self.total,
            )
        time.sleep(_PG_DDL_RETRY)  # the writers queued behind the attempt go through meanwhile


def _session(row: Any) -> str:
    """One PostgreSQL session of pg_stat_activity, said: its pid, application, state and how long its
    transaction has been open."""
    app = f"application_name {row.application_name!r}" if row.application_name else "no application_name"
    state = f"state {row.state}" if row.state else "state unknown"
    held = f", in a transaction for {row.open_s:.0f} s" if row.open_s is not None else ""
    return f"PostgreSQL pid {row.pid} ({app}, {state}{held})"


def table_lock_holders(conn: Connection) -> str:
    """The sessions holding a lock of a table of this store (its schema), the longest-open transaction first: who
    keeps a migration's DDL waiting (a backup's transaction, a long write); "no session now" when none does."""
    rows = conn.execute(
        text(
            "SELECT a.pid, a.application_name, a.state, extract(epoch FROM now() - a.xact_start) AS open_s, "
            "string_agg(DISTINCT c.relname || ' (' || l.mode || ')', ', ') AS tables "
            "FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.granted AND l.locktype = 'relation' AND c.relkind IN ('r', 'p') "
            "AND c.relnamespace = current_schema()::regnamespace AND l.pid <> pg_backend_pid() "
            "GROUP BY a.pid, a.application_name, a.state, a.xact_start ORDER BY a.xact_start NULLS LAST LIMIT 3"
        )
    ).all()
    if not rows:
        return "no session now (it ended meanwhile)"
    return "; ".join(f"{_session(r)} on {r.tables}" for r in rows)


def migration_holder(conn: Connection) -> str | None:
    """Who holds the migration lock on this database (PostgreSQL), said; None when no one does."""
    row = conn.execute(
        text(
            "SELECT a.pid, a.application_name, a.client_addr "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid::bigint = :high AND l.objid::bigint = :low AND l.objsubid = 1 LIMIT 1"
        ),
        {"high": _PG_MIGRATE_LOCK_KEY >> 32, "low": _PG_MIGRATE_LOCK_KEY & 0xFFFF_FFFF},
    ).first()
    if row is None:
        return None
    where = f" from {row.client_addr}" if row.client_addr else ""
    app = repr(row.application_name) if row.application_name else "a session with no application_name"
    return f"{app} (PostgreSQL pid {row.pid}{where})"


def _take_lock(conn: Connection, url: str) -> None:
    """The migration lock, polled for (a blocked statement would hold a snapshot that a concurrent build waits for).
    A wait is said (a warning: the info it was went nowhere, outside trial 58, MED-1), naming who holds it, and again
    every `_PG_REMIND` s."""
    started = said = 0.0
    while not conn.execute(select(func.pg_try_advisory_lock(_PG_MIGRATE_LOCK_KEY))).scalar_one():
        now = time.monotonic()
        if not started:
            started = now
        if not said or now - said >= _PG_REMIND:
            said = now
            holder = migration_holder(conn) or "a process that has just let it go"
            log.warning(
                "store %s: waiting for another process's schema migration, by %s%s",
                redact_url(url),
                holder,
                f" (waited {now - started:.0f} s)" if now > started else "",
            )
        time.sleep(_PG_LOCK_POLL)


def _index_valid(conn: Connection, name: str) -> bool | None:
    """Whether the index `name` (on the search path) is valid; None when there is none."""
    got = conn.execute(
        text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"), {"name": name}
    ).scalar_one_or_none()
    return None if got is None else bool(got)


def _build_concurrently(conn: Connection, index: PgIndex) -> None:
    """CREATE INDEX CONCURRENTLY unless a valid one is there; an INVALID one (a build that failed or was interrupted)
    is dropped first and built again. `conn` is in autocommit: neither statement can run in a transaction."""
    valid = _index_valid(conn, index.name)
    if valid:
        return
    if valid is False:
        log.warning("store: index %s was left invalid by an interrupted build; building it again", index.name)
        conn.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {index.name}")
    older = _open_transactions(conn)
    if older is None:
        log.info("store: building index %s on %s (concurrently: writes go on meanwhile)", index.name, index.table)
    else:  # the build will wait for them, maybe long (a backup's): said, as a silent wait looks like a hang
        log.warning(
            "store: building index %s on %s concurrently (the running processes go on writing meanwhile); it waits "
            "first for the transactions open before it to end: %s",
            index.name,
            index.table,
            older,
        )
    conn.exec_driver_sql(f"CREATE INDEX CONCURRENTLY {index.name} ON {index.table} {index.definition}")


def _open_transactions(conn: Connection) -> str | None:
    """The sessions of this database in a transaction that a concurrent index build waits for (one holding a
    snapshot or a transaction id), open for over a second (a running process's writes take less), the oldest first;
    None when there is none."""
    rows = conn.execute(
        text(
            "SELECT a.pid, a.application_name, a.state, extract(epoch FROM now() - a.xact_start) AS open_s "
            "FROM pg_stat_activity a WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() "
            "AND (a.backend_xmin IS NOT NULL OR a.backend_xid IS NOT NULL) "
            "AND a.xact_start < now() - interval '1 second' ORDER BY a.xact_start LIMIT 3"
        )
    ).all()
    return "; ".join(_session(r) for r in rows) if rows else None


def migrated(found: int, url: str) -> SchemaMigrated | None:
    """What `migrate` did, having found version `found`: None when it did nothing, or made a new store (version 0:
    a store opened for the first time is made, not migrated)."""
    latest = latest_version()
    if found == 0 or found >= latest:
        return None
    return SchemaMigrated(url, found, latest, tuple(m.what for m in MIGRATIONS if m.version > found))


def _newer(url: str, found: int, latest: int) -> StoreError:
    return StoreError(
        url,
        f"its schema is version {found}, made by a newer watchfloor; this one knows up to version {latest}",
        "newer",
    )


__all__ = [
    "MIGRATE_WAIT_ENV",
    "MIGRATIONS",
    "Migration",
    "PgIndex",
    "add_column",
    "check_current",
    "current_version",
    "latest_version",
    "migrate",
    "migrated",
    "migration_holder",
    "planned",
    "table_lock_holders",
    "version_table",
]
