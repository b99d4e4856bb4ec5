"""The SQL store's schema, as one ordered list of migrations applied once each under the store's write lock.

Any number of processes may open a store at once, fresh or old (four `watchfloor` processes on a new SQLite
file used to fail with "database is locked"). Opening reads the schema version without a lock; only when it
is behind does the opener take the write lock (SQLite ``BEGIN IMMEDIATE``, which waits its turn; PostgreSQL
``pg_advisory_xact_lock``), read the version again, and apply what is still missing in that one
transaction. Both databases run DDL inside transactions, so a crash mid-way leaves the old version.

To change the schema, append a `Migration` to `MIGRATIONS`, never edit or reorder one. Each must be
idempotent, because migration 1 creates the tables as the code defines them *now*: on a fresh store a later
migration finds its column already there. `add_column` does that check for the common case:

    Migration(2, "events: origin, received_at", lambda conn: add_column(conn, events_table, "origin"))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Column, Connection, Engine, Integer, MetaData, Table, func, inspect, select, text, update

from .errors import StoreError
from .notices import SchemaMigrated

WRITE_OPTION = "watchfloor_write"
"""Execution option that makes a SQLite transaction BEGIN IMMEDIATE (see sqlite_setup.sqlite_on_begin)."""

_PG_MIGRATE_LOCK_KEY = 0x7766_6D69_6772_6174  # "wfmigrat": serialises migrations (and nothing else)

schema_meta = MetaData()
version_table = Table("watchfloor_schema", schema_meta, Column("version", Integer, nullable=False))


@dataclass(frozen=True)
class Migration:
    """One step of the schema. `apply` runs inside the migration transaction and must be idempotent."""

    version: int
    what: str
    apply: Callable[[Connection], None]


def _create_tables(conn: Connection) -> None:
    from .sql import metadata  # the tables as the code defines them

    metadata.create_all(conn, checkfirst=True)


def _event_origin_columns(conn: Connection) -> None:
    from .sql import events_table

    for name in ("origin", "received_at"):
        add_column(conn, events_table, name)


def _delivery_ledger(conn: Connection) -> None:
    from .sql_ledger import create_ledger  # creates the table, or brings a first-version one up to date

    create_ledger(conn, conn.dialect.name == "sqlite")


def _channel_pauses(conn: Connection) -> None:
    from .sql_ledger import create_channel_pauses

    create_channel_pauses(conn)


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
    Migration(8, "deliveries: an index of each channel's rows by log position (the throttle's reads)", _ledger_indexes),
    Migration(9, "events: an index of detections by alert id (alerts list ID)", _alert_id_index),
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
def _migration_transaction(engine: Engine, sqlite: bool) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            if not sqlite:
                conn.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATE_LOCK_KEY)))
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
    with _migration_transaction(engine, sqlite) as conn:
        found = _read_version(conn)  # again, under the lock: another process may have done it meanwhile
        if found > latest:
            raise _newer(url, found, latest)
        if found < latest:
            schema_meta.create_all(conn, checkfirst=True)
            for m in MIGRATIONS:
                if m.version > found:
                    m.apply(conn)
            if conn.execute(select(func.count()).select_from(version_table)).scalar_one():
                conn.execute(update(version_table).values(version=latest))
            else:
                conn.execute(version_table.insert().values(version=latest))
    return found


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
    "add_column",
    "current_version",
    "latest_version",
    "migrate",
    "migrated",
    "version_table",
]
