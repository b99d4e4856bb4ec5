"""The RecordArchive contract (stream_processors/ports.py), once, for every implementation.

Subclass `RecordArchiveContract` (name the subclass Test...) and override the `make_archive` fixture with a callable
that opens the archive under test; each call must open the same backing data. Archives whose data outlives the object
(SQLite file, PostgreSQL) subclass `PersistentRecordArchiveContract`, which adds a reopen test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from watchfloor.stream_processors.ports import RecordArchive, RecordConflict, RecordedPartition, TopicRecord

TOPIC = "p.correlate"


def rec(part: int, offset: int, value: bytes | None = None, headers: tuple[tuple[str, bytes], ...] = ()) -> TopicRecord:
    return TopicRecord(part, offset, b'{"n": %d}' % offset if value is None else value, headers)


def everything(archive: RecordArchive, topic: str, part: int) -> list[TopicRecord]:
    out: list[TopicRecord] = []
    after = -1
    while got := archive.read_records(topic, part, after, limit=3):  # small pages: the paging is tested too
        out += got
        after = got[-1].offset
    return out


class RecordArchiveContract:
    """Behaviour every RecordArchive must have. Not collected itself (no Test prefix)."""

    @pytest.fixture
    def make_archive(self) -> Callable[[], Any]:
        raise NotImplementedError("subclasses provide make_archive")

    @pytest.fixture
    def archive(self, make_archive: Callable[[], Any]) -> Iterator[Any]:
        got = make_archive()
        yield got
        got.close()

    def test_is_a_record_archive(self, archive: Any) -> None:
        assert isinstance(archive, RecordArchive)

    def test_an_empty_archive(self, archive: RecordArchive) -> None:
        assert archive.record_positions(TOPIC) == {}
        assert archive.recorded_partitions(TOPIC) == {}
        assert archive.read_records(TOPIC, 0) == []

    def test_records_come_back_byte_for_byte_in_offset_order(self, archive: RecordArchive) -> None:
        odd = bytes(range(256))  # any bytes: a value or header that is not UTF-8 comes back as it was
        batch = [
            rec(0, 1, headers=(("wf-origin", b"0:7:0:1"), ("wf-rules", b"abc"))),
            rec(0, 0),
            rec(1, 0, value=None, headers=(("k", odd), ("k", b""))),
            TopicRecord(1, 1, None),  # a tombstone: no value
            rec(0, 2, value=odd),
        ]
        assert archive.record(TOPIC, batch) == 5
        assert everything(archive, TOPIC, 0) == [batch[1], batch[0], batch[4]]
        assert everything(archive, TOPIC, 1) == [batch[2], batch[3]]
        assert archive.read_records(TOPIC, 0, 0, limit=1) == [batch[0]]
        assert archive.read_records(TOPIC, 0, 2) == []
        assert archive.read_records("other.correlate", 0) == []  # topics apart

    def test_each_partition_and_offset_is_kept_once(self, archive: RecordArchive) -> None:
        first = [rec(0, o) for o in range(4)]
        assert archive.record(TOPIC, first) == 4
        # archived again (a second archive, or a crash before the consumer's commit): nothing new, nothing changed
        again = [rec(0, 2), rec(0, 3), rec(0, 4), rec(0, 4)]
        assert archive.record(TOPIC, again) == 1
        assert [r.offset for r in everything(archive, TOPIC, 0)] == [0, 1, 2, 3, 4]
        assert archive.record(TOPIC, first) == 0
        assert archive.recorded_partitions(TOPIC) == {0: RecordedPartition(5, 0, 4, 5)}

    def test_other_bytes_at_a_kept_offset_are_refused_and_nothing_of_the_batch_is_kept(
        self, archive: RecordArchive
    ) -> None:
        """The topic was deleted and made again under its name: its offsets start at 0 again. Keeping its records
        as "already kept" would lose them silently, and a replay would mix two topics."""
        archive.record(TOPIC, [rec(0, 0), rec(0, 1, headers=(("wf-origin", b"0:1:0:0"),))])
        for clash in (rec(0, 1, value=b"other"), rec(0, 1, headers=(("wf-origin", b"2:9:0:0"),)), rec(0, 1)):
            with pytest.raises(RecordConflict) as e:
                archive.record(TOPIC, [rec(0, 2), rec(1, 0), clash], seen_end={0: 9})
            assert (e.value.topic, e.value.partition, e.value.offset) == (TOPIC, 0, 1)
            assert "deleted and made again" in str(e.value)
        assert archive.recorded_partitions(TOPIC) == {0: RecordedPartition(2, 0, 1, 2)}  # nothing moved
        assert archive.read_records(TOPIC, 1) == []

    def test_the_position_moves_with_the_rows_and_never_back(self, archive: RecordArchive) -> None:
        archive.record(TOPIC, [rec(0, 0), rec(0, 1), rec(2, 5)])
        assert archive.record_positions(TOPIC) == {0: 2, 2: 6}
        archive.record(TOPIC, [rec(0, 0)])  # an older record read again
        assert archive.record_positions(TOPIC) == {0: 2, 2: 6}
        archive.record(TOPIC, [rec(0, 9)])
        assert archive.record_positions(TOPIC) == {0: 10, 2: 6}
        assert archive.record_positions("other.correlate") == {}

    def test_the_seen_end_is_kept_and_never_goes_back(self, archive: RecordArchive) -> None:
        archive.record(TOPIC, [rec(0, 0)], seen_end={0: 3, 1: 2})
        got = archive.recorded_partitions(TOPIC)
        assert got[0] == RecordedPartition(1, 0, 0, 1, 3)
        assert got[1] == RecordedPartition(0, 0, -1, 0, 2)  # seen, nothing of it kept
        archive.record(TOPIC, [rec(0, 1)], seen_end={0: 2})
        assert archive.recorded_partitions(TOPIC)[0] == RecordedPartition(2, 0, 1, 2, 3)
        archive.record(TOPIC, [rec(0, 2)])
        assert archive.recorded_partitions(TOPIC)[0] == RecordedPartition(3, 0, 2, 3, 3)

    def test_a_gap_shows_in_the_counts(self, archive: RecordArchive) -> None:
        archive.record(TOPIC, [rec(0, o) for o in (3, 4, 7)])
        assert archive.recorded_partitions(TOPIC) == {0: RecordedPartition(3, 3, 7, 8)}


class PersistentRecordArchiveContract(RecordArchiveContract):
    def test_kept_records_and_positions_survive_a_reopen(self, make_archive: Callable[[], Any]) -> None:
        a = make_archive()
        a.record(TOPIC, [rec(0, 0, headers=(("wf-origin", b"1:2:3:4"),)), rec(0, 1)], seen_end={0: 5})
        a.close()
        b = make_archive()
        try:
            assert b.record_positions(TOPIC) == {0: 2}
            assert b.recorded_partitions(TOPIC) == {0: RecordedPartition(2, 0, 1, 2, 5)}
            assert everything(b, TOPIC, 0) == [rec(0, 0, headers=(("wf-origin", b"1:2:3:4"),)), rec(0, 1)]
            assert b.record(TOPIC, [rec(0, 1), rec(0, 2)]) == 1
        finally:
            b.close()
