"""The delivery ledger of the SQL store: the `deliveries` table, its migration, claims with leases.

Claims are what keep several dispatchers on one store (two `run`s, `run` + `notify`, any number of processes)
from sending a delivery twice: a dispatcher leases a due row in a write transaction before it sends, and
records the outcome only while it still holds the lease.

* SQLite: every write transaction is ``BEGIN IMMEDIATE``, so claims are serialised by the database's write
  lock: the second claimer sees the first one's lease.
* PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` picks rows no other transaction is claiming right now,
  and the lease written in the same transaction keeps them out of later claims until it runs out.

A row whose lease ran out without an outcome (its dispatcher crashed or hung mid-send) comes back `unsure`,
and the dispatcher looks in the channel before sending it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    inspect,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from watchfloor.schemas.events import Event

from ..ports import ORDER_LAST, DeliveryRecord, ReplanRefused, Settlement, ThreadRead

log = logging.getLogger(__name__)

ledger_metadata = MetaData()

deliveries_table = Table(
    "deliveries",
    ledger_metadata,
    Column("alert_id", String, primary_key=True),
    Column("channel", String, primary_key=True),
    Column("status", String, nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("updated_at", String, nullable=False),  # UTC ISO 8601 (the first version's column)
    # Added by the retrying ledger; older stores get them from _migrate (hence the server defaults).
    Column("kind", String, nullable=False, server_default="alert"),
    Column("payload", Text, nullable=True),  # JSON
    Column("thread_key", String, nullable=False, server_default=""),
    Column("parent_id", String, nullable=True),
    Column("seq", BigInteger, nullable=False, server_default="0"),
    Column("created_at", Float, nullable=True),  # epoch seconds
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Float, nullable=False, server_default="0"),
    Column("scheduled_at", Float, nullable=False, server_default="0"),
    Column("not_before", Float, nullable=False, server_default="0"),
    Column("unsure", Integer, nullable=False, server_default="0"),
    Column("ref", Text, nullable=False, server_default=""),
    Column("lease_owner", String, nullable=True),
    Column("lease_until", Float, nullable=True),
    # Claim order (DeliveryRecord.order_at; migration 11): rows of older versions keep 0, so they go first, by seq.
    Column("order_at", Float, nullable=False, server_default="0"),
    # The row's revision (migration 15): a number the store's triggers give a row at each insert and update (a bulk
    # update gives it itself: `_bulk_revisions`), never given twice, so a reader that keeps a thread's rows reads
    # again only those whose revision moved (`thread_rows`).
    Column("rev", BigInteger, nullable=False, server_default="0"),
)
# A channel's own Retry-After, for every dispatcher on the store: no row of the channel is claimed before
# `paused_until`, whenever it was enqueued (migration 5 adds the table to older stores).
channel_pauses_table = Table(
    "channel_pauses",
    ledger_metadata,
    Column("channel", String, primary_key=True),
    Column("paused_until", Float, nullable=False),  # epoch seconds, the dispatcher's clock
)
# A channel's backoff after a failure of the whole channel (a 5xx, a timeout), for every dispatcher on the store: no
# row of the channel is claimed before `until`, whenever it was enqueued, so that a row raised during the backoff
# cannot go before the failed one (trial 46, MED-2). `until` is the failed row's next attempt; `set_at` is when it
# was set, which a process started since ignores, as it ignores the rows' own backoffs (`backoff_set_before`). A
# success in the channel ends it (migration 14 adds the table to older stores).
channel_backoffs_table = Table(
    "channel_backoffs",
    ledger_metadata,
    Column("channel", String, primary_key=True),
    Column("until", Float, nullable=False),  # epoch seconds, the dispatcher's clock
    Column("set_at", Float, nullable=False),
)
_INDEXES = (
    Index("ix_deliveries_due", deliveries_table.c.status, deliveries_table.c.seq),
    # A claim's order (event time, then log order; migration 12): the first due row is the index's first, however
    # many are outstanding. Ordered by `order_at` over the index above, every claim of a pass sorted all of them:
    # 4 ms a claim at 2,000 outstanding rows, 13 ms at 20,000 (an outage's backlog), against 3 ms with it.
    Index(
        "ix_deliveries_claim",
        deliveries_table.c.status,
        deliveries_table.c.order_at,
        deliveries_table.c.seq,
        deliveries_table.c.alert_id,
        deliveries_table.c.channel,
    ),
    # A thread's rows by its key, in every channel or in one: a retraction reads its alert's thread in every channel
    # (`deliveries(thread_key=)`), intake and the summaries in one. Keyed on the thread first so that both are seeks;
    # it replaces (migration 10) the index of (channel, thread_key), which a read without a channel could only scan.
    Index("ix_deliveries_thread_key", deliveries_table.c.thread_key, deliveries_table.c.channel),
    # A channel's rows in log order, from a position on (`deliveries(channel=, after_seq=)`): what a throttled
    # channel's dispatcher reads at each intake (its admitted count) and summary plan (its held rows). Without it
    # both read every row of the channel (migration 8 adds it to older stores).
    Index("ix_deliveries_channel_seq", deliveries_table.c.channel, deliveries_table.c.seq),
    # A channel's sent rows, the last settled first (`sent_ref`, an unsure Slack retry's look-up): partial, so a row
    # enters it once, when it is settled sent. Its predicate is SENT_WHERE, which sent_ref's query carries word for
    # word (a planner uses a partial index only under its own WHERE). Migration 10 adds it to older stores.
    Index(
        "ix_deliveries_sent",
        deliveries_table.c.channel,
        deliveries_table.c.updated_at,
        deliveries_table.c.seq,
        sqlite_where=text("status = 'sent'"),
        postgresql_where=text("status = 'sent'"),
    ),
)
SENT_WHERE = "status = 'sent'"

_PG_MIGRATE_LOCK_KEY = 0x7766_6C65_6467_6572  # "wfledger": serialises ledger migrations across processes
# "wfclaims": serialises claims on PostgreSQL, so a claim sees every lease committed before it (SKIP LOCKED alone let
# a claim pass over a row another claim was taking at that moment and take the channel's next one: trial 46, MED-2)
_PG_CLAIM_LOCK_KEY = 0x7766_636C_6169_6D73
_LEGACY_OPEN = ("pending", "failed")  # first-version states that meant "not delivered (for sure)"
_KEY_CHUNK = 900

T = TypeVar("T")


def _iso(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).isoformat()


def _epoch(iso: str) -> float:
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return 0.0


def _record(row: Row[Any]) -> DeliveryRecord:
    m = row._mapping
    payload = m["payload"]
    return DeliveryRecord(
        alert_id=m["alert_id"],
        channel=m["channel"],
        status=m["status"],
        kind=m["kind"],
        payload=orjson.loads(payload) if payload is not None else None,
        thread_key=m["thread_key"],
        parent_id=m["parent_id"],
        seq=int(m["seq"]),
        created_at=float(m["created_at"] or 0.0),
        attempts=int(m["attempts"]),
        next_attempt_at=float(m["next_attempt_at"]),
        scheduled_at=float(m["scheduled_at"]),
        not_before=float(m["not_before"]),
        unsure=bool(m["unsure"]),
        ref=m["ref"],
        detail=m["detail"],
        lease_owner=m["lease_owner"],
        lease_until=float(m["lease_until"]) if m["lease_until"] is not None else None,
        updated_at=_epoch(m["updated_at"]),
        order_at=float(m["order_at"]),
    )


def _row(r: DeliveryRecord, now: float) -> dict[str, Any]:
    return {
        "alert_id": r.alert_id,
        "channel": r.channel,
        "status": r.status,
        "detail": r.detail,
        "updated_at": _iso(now),
        "kind": r.kind,
        "payload": orjson.dumps(r.payload).decode() if r.payload is not None else None,
        "thread_key": r.thread_key,
        "parent_id": r.parent_id,
        "seq": r.seq,
        "created_at": r.created_at or now,
        "attempts": r.attempts,
        "next_attempt_at": r.next_attempt_at,
        "scheduled_at": r.scheduled_at or r.created_at or now,
        "not_before": r.not_before,
        "unsure": int(r.unsure),
        "ref": r.ref,
        "lease_owner": None,
        "lease_until": None,
        "order_at": r.order_at,
    }


def _bulk_revisions(conn: Connection, sqlite: bool) -> dict[str, Any]:
    """What a bulk UPDATE of the ledger (a redelivery, a channel's deferral or resumption: thousands of rows in one
    statement) sets besides its own values: each row's next revision, so that the row trigger, which moves `rev`
    only when a write leaves it as it was (`NEW.rev = OLD.rev`), does not fire for each row (BENCHMARKS.md
    "Session 36": on SQLite it writes the row a second time and the counter once per row, +16 % CPU on a
    redelivery of 14,000 rows). On SQLite the revisions are a block taken from the counter in the statement's write
    transaction (BEGIN IMMEDIATE: no other writer between): the counter moves past every rowid, and a row gets the
    counter's value before plus its rowid, so each row's is greater than every revision given before and none is
    given twice, as the trigger's are. On PostgreSQL each row's `nextval` of the revisions' sequence, in the
    statement, evaluated as the row is written (after any wait for its lock), which the trigger (migration 16) then
    leaves alone: with the PL/pgSQL call per row a 10,000-row UPDATE took +18 % over no trigger, without it +7 %
    (EXPLAIN ANALYZE)."""
    if not sqlite:
        return {"rev": literal_column("nextval('deliveries_rev')", BigInteger)}
    rowids = literal_column("rowid", BigInteger)
    block = int(conn.execute(select(func.coalesce(func.max(rowids), 0)).select_from(deliveries_table)).scalar_one())
    base = conn.exec_driver_sql(f"UPDATE ledger_revision SET n = n + {block} RETURNING n - {block}").scalar_one()
    return {"rev": literal_column(f"{int(base)} + deliveries.rowid")}


def create_ledger(conn: Connection, sqlite: bool) -> None:
    """Create the deliveries table, or bring an older one up to date, in the caller's write transaction
    (SQLite's BEGIN IMMEDIATE, or an advisory lock here on PostgreSQL): safe with several processes at once."""
    if not sqlite:
        conn.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATE_LOCK_KEY)))
    if not inspect(conn).has_table("deliveries"):
        ledger_metadata.create_all(conn, checkfirst=True)
        return
    _migrate(conn)


def create_revisions(conn: Connection) -> None:
    """Migration 15: the column `rev` and what gives it: on SQLite a counter table and triggers after each insert
    and update of a row, on PostgreSQL a sequence and a trigger before them. Any writer of the table, of any version
    that knows the column or not, moves it. Idempotent (a fresh store has the column from its table's creation)."""
    if "rev" not in {c["name"] for c in inspect(conn).get_columns("deliveries")}:
        conn.exec_driver_sql("ALTER TABLE deliveries ADD COLUMN rev BIGINT NOT NULL DEFAULT 0")
    if conn.dialect.name == "sqlite":
        # (its revision counter, one row; PostgreSQL has the sequence `deliveries_rev` instead)
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS ledger_revision (n BIGINT NOT NULL)")
        conn.exec_driver_sql(
            "INSERT INTO ledger_revision (n) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM ledger_revision)"
        )
        # (the trigger's own UPDATE fires no trigger: SQLite's recursive_triggers is off, and its WHEN would stop it)
        body = (
            "BEGIN UPDATE ledger_revision SET n = n + 1; "
            "UPDATE deliveries SET rev = (SELECT n FROM ledger_revision) WHERE rowid = NEW.rowid; END"
        )
        conn.exec_driver_sql(f"CREATE TRIGGER IF NOT EXISTS deliveries_rev_insert AFTER INSERT ON deliveries {body}")
        conn.exec_driver_sql(
            "CREATE TRIGGER IF NOT EXISTS deliveries_rev_update AFTER UPDATE ON deliveries "
            f"WHEN NEW.rev = OLD.rev {body}"
        )
        return
    conn.exec_driver_sql("CREATE SEQUENCE IF NOT EXISTS deliveries_rev")
    conn.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION deliveries_rev() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN NEW.rev := nextval('deliveries_rev'); RETURN NEW; END $$"
    )
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS deliveries_rev ON deliveries")
    conn.exec_driver_sql(
        "CREATE TRIGGER deliveries_rev BEFORE INSERT OR UPDATE ON deliveries "
        "FOR EACH ROW EXECUTE FUNCTION deliveries_rev()"
    )


def create_revisions_by_bulk_writers(conn: Connection) -> None:
    """Migration 16: on PostgreSQL the revision trigger of an update fires only when the write left `rev` as it
    was (`NEW.rev = OLD.rev`, as SQLite's has from migration 15), so a bulk update that gives its rows their
    revisions itself (`nextval` per row, in the statement: `_bulk_revisions`) skips the PL/pgSQL call per row; a
    writer that does not (any version's claim, settlement, insert) still has its rows' revisions moved by it.
    Nothing on SQLite. Idempotent."""
    if conn.dialect.name == "sqlite":
        return
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS deliveries_rev ON deliveries")
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS deliveries_rev_update ON deliveries")
    conn.exec_driver_sql(
        "CREATE TRIGGER deliveries_rev BEFORE INSERT ON deliveries FOR EACH ROW EXECUTE FUNCTION deliveries_rev()"
    )
    conn.exec_driver_sql(
        "CREATE TRIGGER deliveries_rev_update BEFORE UPDATE ON deliveries FOR EACH ROW "
        "WHEN (NEW.rev = OLD.rev) EXECUTE FUNCTION deliveries_rev()"
    )


def create_ledger_indexes(conn: Connection) -> None:
    """Create the ledger's indexes that the store lacks (a fresh store got them with the table)."""
    for index in _INDEXES:
        index.create(conn, checkfirst=True)


def create_thread_and_sent_indexes(conn: Connection) -> None:
    """Migration 10 (SQLite; PostgreSQL builds them concurrently): the thread index keyed on the thread first and
    the partial index of sent rows, then the old (channel, thread_key) index dropped: the new one serves its reads."""
    for index in _INDEXES:
        if index.name in ("ix_deliveries_thread_key", "ix_deliveries_sent"):
            index.create(conn, checkfirst=True)
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_deliveries_thread")


def add_claim_order(conn: Connection) -> int:
    """Migration 11: the column `order_at` (only it: its index is migration 12's, which PostgreSQL builds concurrently;
    review 21, F2), then the claim order of the rows a pass may still claim (outstanding, or given up and
    re-sendable), which the column's default left at 0 (claimed first, in log order). An outage's backlog left by
    the version before is so delivered in event time too (trial 25, F3), as `intake` orders new rows: an alert's
    `fired_at`; a reply no earlier than the row it goes under, down its chain (`parent_id`, in its channel); a
    withdrawal after what it withdraws, or, for an alert a throttle summary listed, after the summaries; a row with
    no alert in its payload (a digest, a summary, an acknowledgement) after the alerts. Read and written a page at
    a time, the writes as one statement each. Returns how many rows it ordered."""
    have = {c["name"] for c in inspect(conn).get_columns("deliveries")}
    if "order_at" not in have:
        kind = deliveries_table.c.order_at.type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE deliveries ADD COLUMN order_at {kind} NOT NULL DEFAULT 0"))
    t = deliveries_table
    known: dict[tuple[str, str], _Facts] = {}
    orders: dict[tuple[str, str], float] = {}
    done, after = 0, -1
    while True:
        page = conn.execute(
            select(t.c.alert_id, t.c.channel, t.c.kind, t.c.parent_id, t.c.payload, t.c.seq)
            .where(t.c.status.in_(("outstanding", "expired")), t.c.seq > after)
            .order_by(t.c.seq)
            .limit(_BACKFILL_PAGE)
        ).all()
        if not page:
            return done
        after = int(page[-1].seq)
        _write_claim_order(conn, [(a, c, k, parent, payload) for a, c, k, parent, payload, _ in page], known, orders)
        done += len(page)


_Facts = tuple[str, str | None, float | None, bool]  # a row's (kind, parent, fired, listed): _order_facts


def _write_claim_order(
    conn: Connection,
    rows: Sequence[tuple[str, str, str, str | None, str | None]],
    known: dict[tuple[str, str], _Facts],
    orders: dict[tuple[str, str], float],
    *,
    floor: float = 0.0,
) -> None:
    """Give `rows` ((alert_id, channel, kind, parent_id, payload)) the claim order `intake` would have given them,
    reading the rows they reply under as far as their chains go (`known`, `orders`: what is read and ordered so far),
    in one statement."""
    t = deliveries_table
    frontier: set[tuple[str, str]] = set()
    for a, c, k, parent, payload in rows:
        known[(a, c)] = _order_facts(k, parent, payload)
        frontier.add((a, c))
    # the rows they reply under, and theirs, as far as the chains go (settled rows mostly: read, not changed)
    for _ in range(100):
        missing = {(p, c) for a, c in frontier if (p := known[(a, c)][1]) is not None and (p, c) not in known}
        if not missing:
            break
        for chunk in _chunks(sorted({a for a, _ in missing})):
            got = conn.execute(
                select(t.c.alert_id, t.c.channel, t.c.kind, t.c.parent_id, t.c.payload).where(t.c.alert_id.in_(chunk))
            ).all()
            for a, c, k, parent, payload in got:
                if (a, c) in missing:
                    known[(a, c)] = _order_facts(k, parent, payload)
        for key in missing - known.keys():  # (gone: pruned, or never there)
            known[key] = ("gone", None, None, False)
        frontier = missing
    values = [{"k": a, "c": c, "o": max(_claim_order(known, orders, (a, c)), floor)} for a, c, *_ in rows]
    if values:
        stmt = update(t).where(t.c.alert_id == bindparam("k"), t.c.channel == bindparam("c"))
        conn.execute(stmt.values(order_at=bindparam("o")), values)


_BACKFILL_PAGE = 2000


def _order_facts(kind: str, parent: str | None, payload: str | None) -> _Facts:
    """What a row's claim order is made of: its kind, the row it goes under, its alert's `fired_at` (None: no alert
    in its payload), and whether it withdraws an alert a throttle summary listed (it goes after the summary)."""
    listed = False
    if kind == "retraction" and payload is not None:
        try:
            listed = bool((orjson.loads(payload) or {}).get("summary"))
        except (orjson.JSONDecodeError, AttributeError):
            listed = False
    return kind, parent, _fired_at(payload), listed


def _claim_order(
    known: Mapping[tuple[str, str], _Facts],
    orders: dict[tuple[str, str], float],
    key: tuple[str, str],
) -> float:
    """The claim order of the row `key` (alert_id, channel), as `intake` gives it (add_claim_order), memoised."""
    chain: list[tuple[str, str]] = []
    at = key
    while at not in orders and at in known and len(chain) < 100:  # up to a row ordered already, or the top
        chain.append(at)
        parent = known[at][1]
        if parent is None:
            break
        at = (parent, key[1])
    for row in reversed(chain):
        kind, parent, fired, listed = known[row]
        under = orders.get((parent, key[1]), 0.0) if parent is not None else 0.0
        if listed or (fired is None and kind not in ("alert", "followup", "revision", "retraction", "gone")):
            orders[row] = ORDER_LAST  # after the summaries / no event time of its own
        elif fired is None:
            orders[row] = under  # (a first version's row: no payload)
        else:
            orders[row] = max(fired, under)
    return orders.get(key, 0.0)


def _fired_at(payload: str | None) -> float | None:
    """The `fired_at` (epoch seconds) of the alert in a ledger row's payload JSON; None when it has none."""
    try:
        data: Any = orjson.loads(payload) if payload is not None else None
        return datetime.fromisoformat(data["alert"]["detection"]["fired_at"]).timestamp()
    except (orjson.JSONDecodeError, TypeError, KeyError, ValueError):
        return None


def create_claim_index(conn: Connection) -> None:
    """Migration 12 (SQLite; PostgreSQL builds it concurrently): the index of claims in their order."""
    for index in _INDEXES:
        if index.name == "ix_deliveries_claim":
            index.create(conn, checkfirst=True)


def create_channel_pauses(conn: Connection) -> None:
    """Create the channel_pauses table unless the store has it (a fresh store got it with the ledger)."""
    channel_pauses_table.create(conn, checkfirst=True)


def create_channel_backoffs(conn: Connection) -> None:
    """Create the channel_backoffs table unless the store has it (a fresh store got it with the ledger)."""
    channel_backoffs_table.create(conn, checkfirst=True)


def _migrate(conn: Connection) -> None:
    have = {c["name"] for c in inspect(conn).get_columns("deliveries")}
    missing = [c for c in deliveries_table.columns if c.name not in have]
    if not missing:
        return
    log.info("delivery ledger: adding columns %s", ", ".join(c.name for c in missing))
    for col in missing:
        ddl = f"ALTER TABLE deliveries ADD COLUMN {col.name} {col.type.compile(dialect=conn.dialect)}"
        if col.server_default is not None:
            ddl += f" NOT NULL DEFAULT '{col.server_default.arg}'"  # type: ignore[attr-defined]
        conn.execute(text(ddl))
    for index in _INDEXES:
        index.create(conn, checkfirst=True)
    if "kind" not in {c.name for c in missing}:
        return  # a later column only: the rows are this version's already (and digests keep their states)
    # Rows of the first version: 'pending' (interrupted mid-send) and 'failed' (given up) were never known
    # to be delivered. They become outstanding, to be looked up in the channel first, and age from their
    # last update, so old ones expire at once instead of reaching a channel days late.
    t = deliveries_table
    for alert_id, channel, updated in conn.execute(
        select(t.c.alert_id, t.c.channel, t.c.updated_at).where(t.c.created_at.is_(None))
    ).all():
        conn.execute(
            update(t).where(t.c.alert_id == alert_id, t.c.channel == channel).values(created_at=_epoch(updated))
        )
    conn.execute(update(t).where(t.c.status.in_(_LEGACY_OPEN)).values(status="outstanding", unsure=1))


class SqlDeliveryLedger:
    """The DeliveryLedger methods of SqlStore (mixed in; uses its transactions and its event append)."""

    _sqlite: bool

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _append_in(self, conn: Connection, events: Sequence[Event]) -> int:
        raise NotImplementedError

    def _lock_appends(self, conn: Connection) -> None:
        raise NotImplementedError

    def delivery_status(self, alert_id: str, channel: str) -> str | None:
        t = deliveries_table
        stmt = select(t.c.status).where(t.c.alert_id == alert_id, t.c.channel == channel)
        with self._read() as conn:
            got = conn.execute(stmt).scalar_one_or_none()
        return str(got) if got is not None else None

    def enqueue(
        self,
        records: Sequence[DeliveryRecord],
        events: Sequence[Event] = (),
        *,
        replacing: Sequence[DeliveryRecord] = (),
    ) -> int:
        if not records and not events and not replacing:
            return 0
        now = datetime.now(UTC).timestamp()
        rows = {(r.alert_id, r.channel): _row(r, r.created_at or now) for r in records}
        insert = sqlite_dialect.insert if self._sqlite else pg_dialect.insert
        t = deliveries_table

        def work(conn: Connection) -> int:
            added = 0  # (a run again counts afresh)
            # Each row planned again only while untouched (the same test as a claim's, in the statement): a claim by
            # another dispatcher in between leaves it as it was, and the whole transaction is rolled back.
            for r in sorted(replacing, key=lambda r: (r.alert_id, r.channel)):
                change = (
                    update(t)
                    .where(
                        t.c.alert_id == r.alert_id,
                        t.c.channel == r.channel,
                        t.c.status == "outstanding",
                        t.c.ref == "",
                        t.c.attempts == 0,
                        t.c.unsure == 0,
                        t.c.lease_owner.is_(None),
                    )
                    .values(
                        kind=r.kind,
                        payload=orjson.dumps(r.payload).decode() if r.payload is not None else None,
                        parent_id=r.parent_id,
                        order_at=r.order_at,
                        updated_at=_iso(now),
                    )
                )
                if conn.execute(change).rowcount != 1:
                    raise ReplanRefused(r.alert_id, r.channel)
            self._append_in(conn, events)
            # In key order on PostgreSQL: an INSERT that meets another transaction's uncommitted row of its key waits
            # for it, so two enqueues of the same rows in other orders (with no events, no append lock orders them)
            # would deadlock. One by one, counting what RETURNING says went in (psycopg's rowcount is -1 for
            # INSERT ... ON CONFLICT DO NOTHING).
            for _, row in rows.items() if self._sqlite else sorted(rows.items()):
                stmt = insert(deliveries_table).values(row).on_conflict_do_nothing()
                added += len(conn.execute(stmt.returning(deliveries_table.c.alert_id)).all())
            return added

        return self._transaction(work)

    def claim_deliveries(
        self,
        owner: str,
        now: float,
        lease_seconds: float,
        *,
        limit: int = 1,
        skip_channels: Collection[str] = (),
        backoff_set_before: float | None = None,
        channel_leases: Mapping[str, float] | None = None,
    ) -> list[DeliveryRecord]:
        if limit <= 0:
            return []
        t = deliveries_table
        due = and_(
            t.c.status == "outstanding",
            or_(t.c.lease_until.is_(None), t.c.lease_until <= now),
            t.c.not_before <= now,
        )
        if backoff_set_before is None:
            due = and_(due, t.c.next_attempt_at <= now)
        else:
            due = and_(due, or_(t.c.next_attempt_at <= now, t.c.scheduled_at < backoff_set_before))
        if skip_channels:
            due = and_(due, t.c.channel.not_in(list(skip_channels)))
        p, b = channel_pauses_table, channel_backoffs_table
        due = and_(due, ~exists().where(p.c.channel == t.c.channel, p.c.paused_until > now))
        backing_off = and_(b.c.channel == t.c.channel, b.c.until > now)
        if backoff_set_before is not None:
            backing_off = and_(backing_off, b.c.set_at >= backoff_set_before)
        due = and_(due, ~exists().where(backing_off))
        leased = select(t.c.channel, t.c.order_at, t.c.seq).where(
            t.c.status == "outstanding", t.c.lease_until > now, t.c.lease_owner != owner
        )

        def work(conn: Connection) -> list[DeliveryRecord]:
            if not self._sqlite:  # (SQLite's BEGIN IMMEDIATE serialises them already)
                conn.execute(select(func.pg_advisory_xact_lock(_PG_CLAIM_LOCK_KEY)))
            # A channel's rows go in event time whatever the number of dispatchers (trial 46, MED-2): none is
            # claimed past an earlier row of its channel leased by another dispatcher (being sent there; it may fail
            # and back off, and the rows after it then wait with it: `defer_channel`). The leased rows are few: read
            # first, each channel's earliest, rather than asked of every candidate row.
            held: dict[str, tuple[float, int]] = {}
            for channel, order_at, seq in conn.execute(leased).all():
                held[channel] = min(held.get(channel, (order_at, seq)), (order_at, seq))
            past = [
                and_(t.c.channel == c, or_(t.c.order_at > o, and_(t.c.order_at == o, t.c.seq > q)))
                for c, (o, q) in sorted(held.items())
            ]
            where = and_(due, ~or_(*past)) if past else due
            stmt = select(t.c.alert_id, t.c.channel, t.c.lease_owner, t.c.order_at).where(where)
            stmt = stmt.order_by(t.c.order_at, t.c.seq, t.c.alert_id, t.c.channel).limit(limit)
            if not self._sqlite:
                stmt = stmt.with_for_update(skip_locked=True)
            picked = conn.execute(stmt).all()
            if any(order == 0 for *_, order in picked):  # (first in the order: no look at all otherwise)
                self._order_unordered(conn)
                picked = conn.execute(stmt).all()
            for alert_id, channel, previous, _order in picked:
                lease = (channel_leases or {}).get(channel, lease_seconds)
                values: dict[str, Any] = {"lease_owner": owner, "lease_until": now + lease}
                if previous is not None:  # its lease ran out with no outcome: the attempt was interrupted
                    values["unsure"] = 1
                conn.execute(update(t).where(t.c.alert_id == alert_id, t.c.channel == channel).values(**values))
            if not picked:
                return []
            got = conn.execute(
                select(t).where(
                    t.c.lease_owner == owner,
                    or_(*(and_(t.c.alert_id == a, t.c.channel == c) for a, c, *_ in picked)),
                )
            ).all()
            return sorted((_record(r) for r in got), key=lambda r: (r.order_at, r.seq, r.alert_id, r.channel))

        return self._transaction(work)

    def claim_delivery(
        self, alert_id: str, channel: str, owner: str, now: float, lease_seconds: float
    ) -> DeliveryRecord | None:
        t = deliveries_table
        free = and_(
            t.c.alert_id == alert_id,
            t.c.channel == channel,
            t.c.status == "outstanding",
            or_(t.c.lease_until.is_(None), t.c.lease_until <= now),
        )
        # (compare-and-set in one statement: of two dispatchers claiming it at once, one gets it)
        values = {
            "lease_owner": owner,
            "lease_until": now + lease_seconds,
            "unsure": case((t.c.lease_owner.is_not(None), 1), else_=t.c.unsure),
        }

        def work(conn: Connection) -> DeliveryRecord | None:
            got = conn.execute(update(t).where(free).values(**values).returning(*t.c)).first()
            return _record(got) if got is not None else None

        return self._transaction(work)

    def _order_unordered(self, conn: Connection) -> None:
        """Give the outstanding rows with no claim order (0) the order `intake` gives: rows that a process of the
        version before migration 11 wrote after another process migrated the store (during an upgrade, it runs on until
        it is restarted), which would otherwise be claimed before everything due, out of time order (outside trial 26,
        F4). Called when a claim picks such a row (they come first in the claim order), then the claim is made again.
        One seek of the claim index, which finds none once there are none. A row whose order comes out 0 (a first
        version's row, with no alert in it) takes 1 s past the epoch: still first, and not looked at again."""
        t = deliveries_table
        rows = conn.execute(
            select(t.c.alert_id, t.c.channel, t.c.kind, t.c.parent_id, t.c.payload)
            .where(t.c.status == "outstanding", t.c.order_at == 0)
            .limit(_BACKFILL_PAGE)
        ).all()
        if rows:
            _write_claim_order(conn, [(a, c, k, p, payload) for a, c, k, p, payload in rows], {}, {}, floor=1.0)

    def settle_delivery(
        self,
        alert_id: str,
        channel: str,
        owner: str,
        outcome: Settlement,
        now: float,
        events: Sequence[Event] = (),
    ) -> bool:
        t = deliveries_table
        values: dict[str, Any] = {
            "status": outcome.status,
            "detail": outcome.detail,
            "attempts": outcome.attempts,
            "next_attempt_at": outcome.next_attempt_at,
            "scheduled_at": now,
            "not_before": outcome.not_before,
            "unsure": int(outcome.unsure),
            "lease_owner": None,
            "lease_until": None,
            "updated_at": _iso(now),
        }
        if outcome.ref:
            values["ref"] = outcome.ref
        mine = and_(t.c.alert_id == alert_id, t.c.channel == channel, t.c.lease_owner == owner)

        def work(conn: Connection) -> bool:
            if events:  # the append lock before the row's (SqlStore._lock_appends: else a deadlock with an enqueue)
                self._lock_appends(conn)
            if outcome.status == "sent":  # the channel works again: its backoff, if any, is over
                # (before the row's update: the channel's backoff, then its rows, is defer_channel's order of locks
                # too, so that the two cannot deadlock on PostgreSQL)
                b = channel_backoffs_table
                conn.execute(delete(b).where(b.c.channel == channel, exists().where(mine)))
            res = conn.execute(update(t).where(mine).values(**values))
            if res.rowcount != 1:
                return False
            self._append_in(conn, events)
            return True

        return self._transaction(work)

    def hold_delivery(self, alert_id: str, channel: str, owner: str, until: float, detail: str | None = None) -> bool:
        t = deliveries_table
        values: dict[str, Any] = {"lease_until": until, "unsure": 1}
        if detail is not None:
            values["detail"] = detail

        def work(conn: Connection) -> bool:
            res = conn.execute(
                update(t)
                .where(t.c.alert_id == alert_id, t.c.channel == channel, t.c.lease_owner == owner)
                .values(**values)
            )
            return res.rowcount == 1

        return self._transaction(work)

    def deliveries(
        self,
        *,
        statuses: Collection[str] | None = None,
        alert_ids: Collection[str] | None = None,
        channel: str | None = None,
        thread_key: str | None = None,
        limit: int | None = None,
        after_seq: int | None = None,
    ) -> list[DeliveryRecord]:
        t = deliveries_table
        if (statuses is not None and not statuses) or (alert_ids is not None and not alert_ids):
            return []
        conds: list[Any] = []
        if statuses is not None:
            conds.append(t.c.status.in_(list(statuses)))
        if channel is not None:
            conds.append(t.c.channel == channel)
        if thread_key is not None:
            conds.append(t.c.thread_key == thread_key)
        if after_seq is not None:
            conds.append(t.c.seq > after_seq)
        out: list[DeliveryRecord] = []
        chunks = [None] if alert_ids is None else list(_chunks(sorted(set(alert_ids))))
        with self._read() as conn:
            for chunk in chunks:
                where = [*conds, t.c.alert_id.in_(chunk)] if chunk is not None else conds
                stmt = select(t).where(*where).order_by(t.c.seq, t.c.alert_id, t.c.channel).limit(limit)
                out.extend(_record(r) for r in conn.execute(stmt).all())
        out.sort(key=lambda r: (r.seq, r.alert_id, r.channel))
        return out[:limit]

    def thread_rows(self, channel: str, thread_key: str, known: Mapping[str, int]) -> ThreadRead:
        t = deliveries_table
        in_thread = (t.c.channel == channel, t.c.thread_key == thread_key)
        with self._read() as conn:
            if not self._sqlite:  # both reads of one snapshot, as SQLite's read transaction is (one statement's was)
                conn.execution_options(isolation_level="REPEATABLE READ")
            revisions = {a: int(v) for a, v in conn.execute(select(t.c.alert_id, t.c.rev).where(*in_thread)).all()}
            moved = sorted(a for a, v in revisions.items() if known.get(a) != v)
            rows: dict[str, DeliveryRecord] = {}
            for chunk in _chunks(moved):
                for row in conn.execute(select(t).where(*in_thread, t.c.alert_id.in_(chunk))).all():
                    rows[row.alert_id] = _record(row)
        return ThreadRead(revisions, rows)

    def sent_ref(self, channel: str) -> str:
        t = deliveries_table
        stmt = (
            select(t.c.ref)
            .where(t.c.channel == channel, literal_column(SENT_WHERE), t.c.ref != "")
            .order_by(t.c.updated_at.desc(), t.c.seq.desc())  # updated_at: UTC ISO 8601, ordered as text
            .limit(1)
        )
        with self._read() as conn:
            found = conn.execute(stmt).scalar()
        return str(found or "")

    def last_sent(self, channels: Collection[str]) -> dict[str, float]:
        t = deliveries_table
        out: dict[str, float] = {}
        with self._read() as conn:
            for channel in sorted(set(channels)):  # one seek each (ix_deliveries_sent, under its own WHERE)
                stmt = (
                    select(t.c.updated_at)
                    .where(t.c.channel == channel, literal_column(SENT_WHERE))
                    .order_by(t.c.updated_at.desc(), t.c.seq.desc())  # updated_at: UTC ISO 8601, ordered as text
                    .limit(1)
                )
                found = conn.execute(stmt).scalar()
                if found:
                    out[channel] = _epoch(str(found))
        return out

    def thread_end(self, channel: str, thread_key: str) -> int:
        t = deliveries_table
        stmt = select(func.max(t.c.seq)).where(t.c.channel == channel, t.c.thread_key == thread_key)
        with self._read() as conn:
            found = conn.execute(stmt).scalar()
        return int(found or 0)

    def redeliver(
        self,
        now: float,
        *,
        alert_ids: Collection[str] | None = None,
        channel: str | None = None,
        statuses: Collection[str] = ("expired",),
        skip_unconfirmed: bool = False,
    ) -> int:
        t = deliveries_table
        if not statuses or (alert_ids is not None and not alert_ids):
            return 0
        conds: list[Any] = [t.c.status.in_(list(statuses)), or_(t.c.lease_until.is_(None), t.c.lease_until <= now)]
        if channel is not None:
            conds.append(t.c.channel == channel)
        if skip_unconfirmed:
            conds.append(or_(t.c.status != "expired", t.c.unsure == 0))
        values = {
            "status": "outstanding",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": 0.0,
            "scheduled_at": now,
            "not_before": 0.0,
            "detail": "redelivery requested",
            "updated_at": _iso(now),
        }
        chunks = [None] if alert_ids is None else list(_chunks(sorted(set(alert_ids))))
        back = (t.c.alert_id, t.c.channel, t.c.kind, t.c.parent_id, t.c.payload, t.c.order_at)

        def work(conn: Connection) -> int:
            changed = 0  # (a run again counts afresh)
            unordered: list[tuple[str, str, str, str | None, str | None]] = []
            for chunk in chunks:
                where = [*conds, t.c.alert_id.in_(chunk)] if chunk is not None else conds
                moved = _bulk_revisions(conn, self._sqlite)
                got = conn.execute(update(t).where(*where).values(**values, **moved).returning(*back)).all()
                changed += len(got)
                unordered.extend((a, c, k, p, payload) for a, c, k, p, payload, order in got if not order)
            if unordered:
                # Settled rows of a store the version before made keep order 0 (migration 11 orders only the rows a
                # pass may claim): sent again, such a row would go before everything due (review 21, F7).
                _write_claim_order(conn, unordered, {}, {})
            return changed

        return self._transaction(work)

    def defer_channel(
        self, channel: str, until: float, now: float, *, server_asked: bool = False, hold_channel: bool = True
    ) -> int:
        t = deliveries_table
        col = t.c.not_before if server_asked else t.c.next_attempt_at
        values: dict[str, Any] = {col.name: until} if server_asked else {col.name: until, "scheduled_at": now}
        where = and_(t.c.channel == channel, t.c.status == "outstanding", col < until)

        def work(conn: Connection) -> int:
            if server_asked:  # the channel's pause, for rows enqueued later too; a later one recorded stands
                p = channel_pauses_table
                insert = sqlite_dialect.insert if self._sqlite else pg_dialect.insert
                ins = insert(p).values(channel=channel, paused_until=until)
                conn.execute(
                    ins.on_conflict_do_update(
                        index_elements=[p.c.channel],
                        set_={"paused_until": ins.excluded.paused_until},
                        where=p.c.paused_until < ins.excluded.paused_until,
                    )
                )
            elif hold_channel:  # the channel's backoff, for rows enqueued later too: this failure's replaces one before
                b = channel_backoffs_table
                insert = sqlite_dialect.insert if self._sqlite else pg_dialect.insert
                ins = insert(b).values(channel=channel, until=until, set_at=now)
                conn.execute(
                    ins.on_conflict_do_update(
                        index_elements=[b.c.channel],
                        set_={"until": ins.excluded.until, "set_at": ins.excluded.set_at},
                    )
                )
            moved = _bulk_revisions(conn, self._sqlite)
            return len(conn.execute(update(t).where(where).values(**values, **moved).returning(t.c.alert_id)).all())

        return self._transaction(work)

    def channel_backoffs(self, now: float, *, backoff_set_before: float | None = None) -> dict[str, float]:
        b = channel_backoffs_table
        where = b.c.until > now
        if backoff_set_before is not None:
            where = and_(where, b.c.set_at >= backoff_set_before)
        with self._read() as conn:
            rows = conn.execute(select(b.c.channel, b.c.until).where(where)).all()
        return {str(channel): float(until) for channel, until in rows}

    def channel_pauses(self, now: float) -> dict[str, float]:
        p = channel_pauses_table
        with self._read() as conn:
            rows = conn.execute(select(p.c.channel, p.c.paused_until).where(p.c.paused_until > now)).all()
        return {str(channel): float(until) for channel, until in rows}

    def resume_channel(self, channel: str, now: float) -> int:
        t, p, b = deliveries_table, channel_pauses_table, channel_backoffs_table
        mine = and_(t.c.channel == channel, t.c.status == "outstanding")

        def work(conn: Connection) -> int:  # (pause and backoff before the rows: defer_channel's lock order)
            conn.execute(delete(p).where(p.c.channel == channel))
            held = conn.execute(delete(b).where(b.c.channel == channel).returning(b.c.until)).scalar_one_or_none()
            stamp = _iso(now)
            changed = {
                str(a)
                for (a,) in conn.execute(
                    update(t)
                    .where(mine, t.c.not_before > now)
                    .values(not_before=0.0, updated_at=stamp, **_bulk_revisions(conn, self._sqlite))
                    .returning(t.c.alert_id)
                ).all()
            }
            if held is not None:  # the rows the channel's backoff deferred: due now
                backed_off = and_(mine, t.c.next_attempt_at > now, t.c.next_attempt_at <= float(held))
                got = conn.execute(
                    update(t)
                    .where(backed_off)
                    .values(next_attempt_at=now, updated_at=stamp, **_bulk_revisions(conn, self._sqlite))
                    .returning(t.c.alert_id)
                ).all()
                changed |= {str(a) for (a,) in got}
            return len(changed)

        return self._transaction(work)

    def delivery_counts(self, statuses: Collection[str] | None = None) -> dict[str, int]:
        t = deliveries_table
        if statuses is not None and not statuses:
            return {}
        stmt = select(t.c.status, func.count()).group_by(t.c.status)
        if statuses is not None:  # (ix_deliveries_due: the rows of those states alone, not the whole table)
            stmt = stmt.where(t.c.status.in_(sorted(statuses)))
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return {str(status): int(n) for status, n in rows}

    def delivery_stats(self, statuses: Collection[str] | None = None) -> dict[tuple[str, str], tuple[int, float]]:
        t = deliveries_table
        if statuses is not None and not statuses:
            return {}
        stmt = select(t.c.channel, t.c.status, func.count(), func.min(t.c.created_at)).group_by(t.c.channel, t.c.status)
        if statuses is not None:
            stmt = stmt.where(t.c.status.in_(sorted(statuses)))
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return {(str(ch), str(status)): (int(n), float(oldest or 0.0)) for ch, status, n, oldest in rows}


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _KEY_CHUNK):
        yield items[i : i + _KEY_CHUNK]


__all__ = [
    "SqlDeliveryLedger",
    "channel_backoffs_table",
    "channel_pauses_table",
    "create_channel_backoffs",
    "create_channel_pauses",
    "create_ledger",
    "create_ledger_indexes",
    "create_thread_and_sent_indexes",
    "deliveries_table",
    "ledger_metadata",
]
