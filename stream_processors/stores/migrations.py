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
  snapshot, which a statement blocked on the lock would hold: the two would deadlock.

To change the schema, append a `Migration` to `MIGRATIONS`, never edit or reorder one. Each must be
idempotent, because migration 1 creates the tables as the code defines them *now*: on a fresh store a later
migration finds its column already there. `add_column` does that check for the common case:

    Migration(2, "events: origin, received_at", lambda conn: add_column(conn, events_table, "origin"))
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Column, Connection, Engine, Integer, MetaData, Table, func, inspect, select, text, update

from .errors import StoreError
from .notices import SchemaMigrated

log = logging.getLogger(__name__)

WRITE_OPTION = "watchfloor_write"
"""Execution option that makes a SQLite transaction BEGIN IMMEDIATE (see sqlite_setup.sqlite_on_begin)."""

_PG_MIGRATE_LOCK_KEY = 0x7766_6D69_6772_6174  # "wfmigrat": serialises migrations (and nothing else)
_PG_LOCK_POLL = 0.2  # seconds between tries of the migration lock (see the module docstring: why a poll)

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
        raise StoreError(
            url,
            f"its schema is version {said}, older than this watchfloor's {latest}, and a command that only reads "
            "does not upgrade it (a watchfloor of the version before may still run on it); upgrade it with "
            "`watchfloor store migrate` (or by starting `watchfloor run`), or read it with the watchfloor that "
            "wrote it",
            "older",
        )
    return found


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
        _take_lock(lock)
        try:
            found = _read_version(lock)  # again, under the lock: another process may have done it meanwhile
            if found > latest:
                raise _newer(url, found, latest)
            # A new store's tables were made by this run, empty and unseen: its indexes are built in the step's
            # transaction, as a concurrent build would wait for every older transaction on the database (a backup's)
            concurrent = found > 0
            for m in MIGRATIONS:
                if m.version <= found:
                    continue
                if m.pg_indexes is not None and concurrent:
                    for index in m.pg_indexes():
                        _build_concurrently(lock, index)
                    for name in m.pg_drop:
                        lock.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
                with engine.begin() as step:
                    schema_meta.create_all(step, checkfirst=True)
                    if m.pg_indexes is None or not concurrent:
                        m.apply(step)
                    _set_version(step, m.version)  # after the step's indexes are valid, in its transaction
            return found
        finally:
            lock.execute(select(func.pg_advisory_unlock(_PG_MIGRATE_LOCK_KEY)))


def _take_lock(conn: Connection) -> None:
    """The migration lock, polled for (a blocked statement would hold a snapshot that a concurrent build waits for)."""
    said = False
    while not conn.execute(select(func.pg_try_advisory_lock(_PG_MIGRATE_LOCK_KEY))).scalar_one():
        if not said:
            log.info("store: waiting for another process's schema migration")
            said = True
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
    log.info("store: building index %s on %s (concurrently: writes go on meanwhile)", index.name, index.table)
    conn.exec_driver_sql(f"CREATE INDEX CONCURRENTLY {index.name} ON {index.table} {index.definition}")


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
    "MIGRATIONS",
    "Migration",
    "PgIndex",
    "add_column",
    "check_current",
    "current_version",
    "latest_version",
    "migrate",
    "migrated",
    "version_table",
]
