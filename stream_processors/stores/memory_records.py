"""Kafka records kept as read (the RecordArchive port) in the in-memory store: the SQL store's behaviour."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping, Sequence

from ..ports import RecordConflict, RecordedPartition, TopicRecord


class MemoryRecordArchive:
    """The RecordArchive methods of MemoryStore (mixed in; one lock guards them with the rest of the store)."""

    _lock: threading.Lock
    _records: dict[tuple[str, int], dict[int, TopicRecord]]  # (topic, partition) -> offset -> record
    _record_marks: dict[tuple[str, int], tuple[int, int | None]]  # (topic, partition) -> (position, seen end)

    def record(self, topic: str, records: Sequence[TopicRecord], seen_end: Mapping[int, int] | None = None) -> int:
        with self._lock:
            for r in records:  # (checked before anything is kept, as the SQL store's transaction does)
                had = self._records.get((topic, r.partition), {}).get(r.offset)
                if had is not None and (had.value, had.headers) != (r.value, tuple(r.headers)):
                    raise RecordConflict(topic, r.partition, r.offset)
            added = 0
            last: dict[int, int] = {}
            for r in records:
                kept = self._records.setdefault((topic, r.partition), {})
                if r.offset not in kept:
                    kept[r.offset] = r
                    added += 1
                last[r.partition] = max(last.get(r.partition, -1), r.offset)
            ends = dict(seen_end or {})
            for part in set(last) | set(ends):
                position, end = self._record_marks.get((topic, part), (0, None))
                if part in last:
                    position = max(position, last[part] + 1)
                if part in ends:
                    end = ends[part] if end is None else max(end, ends[part])
                self._record_marks[(topic, part)] = (position, end)
            return added

    def record_positions(self, topic: str) -> dict[int, int]:
        with self._lock:
            return {part: mark[0] for (t, part), mark in self._record_marks.items() if t == topic}

    def recorded_partitions(self, topic: str) -> dict[int, RecordedPartition]:
        with self._lock:
            out: dict[int, RecordedPartition] = {}
            for (t, part), kept in self._records.items():
                if t == topic and kept:
                    first, last = min(kept), max(kept)
                    position, end = self._record_marks.get((t, part), (last + 1, None))
                    out[part] = RecordedPartition(len(kept), first, last, max(position, last + 1), end)
            for (t, part), (position, end) in self._record_marks.items():
                if t == topic and part not in out:
                    out[part] = RecordedPartition(0, position, position - 1, position, end)
            return out

    def read_records(self, topic: str, partition: int, after: int = -1, *, limit: int = 1000) -> list[TopicRecord]:
        with self._lock:
            kept = self._records.get((topic, partition), {})
            offsets = sorted(kept)
            start = bisect.bisect_right(offsets, after)
            return [kept[o] for o in offsets[start : start + max(0, limit)]]
