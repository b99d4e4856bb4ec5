"""Kafka records kept as read (the RecordArchive port) in the SQL store: tables `topic_records` and `record_positions`.

`watchfloor archive` keeps the correlate topic here, record by record, so that `replay-workers` can replay what the
workers raised once the broker has let the records go (the topic is kept a week). A record is kept once per
(topic, partition, offset): archiving twice, or again after a crash, adds nothing; each partition's position moves
in the same transaction as its rows, and never back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    func,
    select,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from ..ports import RecordConflict, RecordedPartition, TopicRecord

records_metadata = MetaData()

topic_records_table = Table(
    "topic_records",
    records_metadata,
    Column("topic", String, primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, primary_key=True),
    Column("value", LargeBinary, nullable=True),  # the record's bytes as written (the envelope's JSON)
    # JSON [[key, value]], each header value's bytes as Latin-1 text (one character per byte: exact); NULL: none.
    Column("headers", Text, nullable=True),
)

record_positions_table = Table(
    "record_positions",
    records_metadata,
    Column("topic", String, primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),  # the offset after the last record kept
    Column("seen_end", BigInteger, nullable=True),  # the partition's end offset as the archive last knew it
)

_PG_RECORDS_LOCK_KEY = 0x7766_7265_636F_7264  # "wfrecord": serialises record() so its count of new rows is exact
_OFFSET_CHUNK = 900  # offsets per "offset IN (...)": below the databases' bound-parameter limits

T = TypeVar("T")


def create_record_tables(conn: Connection) -> None:
    """Create the tables unless the store has them (migration 7; a fresh store gets them then too)."""
    records_metadata.create_all(conn, checkfirst=True)


def encode_headers(headers: Sequence[tuple[str, bytes]]) -> str | None:
    if not headers:
        return None
    return orjson.dumps([[k, bytes(v).decode("latin-1")] for k, v in headers]).decode()


def decode_headers(text: str | None) -> tuple[tuple[str, bytes], ...]:
    if not text:
        return ()
    return tuple((str(k), str(v).encode("latin-1")) for k, v in orjson.loads(text))


class SqlRecordArchive:
    """The RecordArchive methods of SqlStore (mixed in; uses its transactions)."""

    _sqlite: bool

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def record(self, topic: str, records: Sequence[TopicRecord], seen_end: Mapping[int, int] | None = None) -> int:
        t = topic_records_table

        def work(conn: Connection) -> int:
            by_partition: dict[int, dict[int, TopicRecord]] = {}  # (consumed below: a run again makes it afresh)
            for r in records:
                by_partition.setdefault(r.partition, {}).setdefault(r.offset, r)  # the first of a batch's repeats
            if not self._sqlite:  # SQLite's BEGIN IMMEDIATE already orders writers
                conn.execute(select(func.pg_advisory_xact_lock(_PG_RECORDS_LOCK_KEY)))
            added = 0
            for part, got in by_partition.items():
                offsets = sorted(got)
                for i in range(0, len(offsets), _OFFSET_CHUNK):
                    chunk = offsets[i : i + _OFFSET_CHUNK]
                    where = and_(t.c.topic == topic, t.c.partition == part, t.c.offset.in_(chunk))
                    for kept, value, headers in conn.execute(select(t.c.offset, t.c.value, t.c.headers).where(where)):
                        r = got.pop(int(kept))
                        if (None if value is None else bytes(value), headers) != (r.value, encode_headers(r.headers)):
                            raise RecordConflict(topic, part, int(kept))  # (rolls the transaction back)
                rows = [
                    {
                        "topic": topic,
                        "partition": part,
                        "offset": r.offset,
                        "value": r.value,
                        "headers": encode_headers(r.headers),
                    }
                    for r in got.values()
                ]
                if rows:
                    insert = sqlite_dialect.insert if self._sqlite else pg_dialect.insert
                    conn.execute(insert(t).on_conflict_do_nothing(), rows)  # (the look-up above made it unneeded)
                    added += len(rows)
                self._move(conn, topic, part, offsets[-1] + 1 if offsets else None, (seen_end or {}).get(part))
            for part, end in (seen_end or {}).items():
                if part not in by_partition:
                    self._move(conn, topic, part, None, end)
            return added

        return self._transaction(work)

    def _move(self, conn: Connection, topic: str, part: int, position: int | None, end: int | None) -> None:
        """The partition's position to at least `position`, and its seen end to at least `end` (never back)."""
        if position is None and end is None:
            return
        p = record_positions_table
        values = {"topic": topic, "partition": part, "position": position or 0, "seen_end": end}
        bigger = func.max if self._sqlite else func.greatest  # (SQLite's two-argument max is a scalar)
        if self._sqlite:
            s_ins = sqlite_dialect.insert(p).values(values)
            stmt: Any = s_ins.on_conflict_do_update(
                index_elements=[p.c.topic, p.c.partition],
                set_={
                    "position": bigger(p.c.position, s_ins.excluded.position),
                    "seen_end": func.coalesce(
                        bigger(p.c.seen_end, s_ins.excluded.seen_end), p.c.seen_end, s_ins.excluded.seen_end
                    ),
                },
            )
        else:
            p_ins = pg_dialect.insert(p).values(values)
            stmt = p_ins.on_conflict_do_update(
                index_elements=[p.c.topic, p.c.partition],
                # (greatest() ignores NULLs on PostgreSQL)
                set_={
                    "position": bigger(p.c.position, p_ins.excluded.position),
                    "seen_end": bigger(p.c.seen_end, p_ins.excluded.seen_end),
                },
            )
        conn.execute(stmt)

    def record_positions(self, topic: str) -> dict[int, int]:
        p = record_positions_table
        stmt = select(p.c.partition, p.c.position).where(p.c.topic == topic)
        with self._read() as conn:
            return {int(part): int(pos) for part, pos in conn.execute(stmt)}

    def recorded_partitions(self, topic: str) -> dict[int, RecordedPartition]:
        t, p = topic_records_table, record_positions_table
        counts = (
            select(t.c.partition, func.count(), func.min(t.c.offset), func.max(t.c.offset))
            .where(t.c.topic == topic)
            .group_by(t.c.partition)
        )
        marks = select(p.c.partition, p.c.position, p.c.seen_end).where(p.c.topic == topic)
        with self._read() as conn:
            kept = {int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in conn.execute(counts)}
            moved = {int(r[0]): (int(r[1]), None if r[2] is None else int(r[2])) for r in conn.execute(marks)}
        out: dict[int, RecordedPartition] = {}
        for part, (n, first, last) in kept.items():
            position, end = moved.get(part, (last + 1, None))
            out[part] = RecordedPartition(n, first, last, max(position, last + 1), end)
        for part, (position, end) in moved.items():
            if part not in kept:  # seen, nothing kept (its records went before the archive read them)
                out[part] = RecordedPartition(0, position, position - 1, position, end)
        return out

    def read_records(self, topic: str, partition: int, after: int = -1, *, limit: int = 1000) -> list[TopicRecord]:
        t = topic_records_table
        stmt = (
            select(t.c.offset, t.c.value, t.c.headers)
            .where(t.c.topic == topic, t.c.partition == partition, t.c.offset > after)
            .order_by(t.c.offset)
            .limit(limit)
        )
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [TopicRecord(partition, int(o), None if v is None else bytes(v), decode_headers(h)) for o, v, h in rows]


__all__ = [
    "SqlRecordArchive",
    "create_record_tables",
    "decode_headers",
    "encode_headers",
    "record_positions_table",
    "records_metadata",
    "topic_records_table",
]
