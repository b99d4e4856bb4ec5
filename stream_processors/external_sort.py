"""Bounded-memory ordering for backtests: an external sort (sorted runs spilled to disk, then a k-way merge)
and the canonical event-time order of backtest inputs.

Event-time order is (effective time, document id): the effective time is published_at, or the receive time
for a report dated too far after it (watchfloor.backtest.at_effective_time turns those into Received
triples first). Documents of the same instant are ordered by id, never by where they sat in the input, so
the same events give the same alerts however they are split into files or runs. A gated-out input (an
EventTime: a float) has no id and needs none: all it does in the engine is move event time forward, which
is the same wherever it sits among the documents of its instant (the correlator's sweeps depend only on
the newest time, never on which event brought it).

`ExternalSorter` holds at most `run_size` items in memory while it is fed; a full run is sorted and
pickled to a temporary file in chunks of `chunk_size`. Iterating merges the runs with heapq.merge,
holding one chunk per run. It can be iterated more than once (a baseline replays the same order again).
"""

from __future__ import annotations

import heapq
import os
import pickle
import random
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from itertools import compress, islice, repeat
from operator import is_not
from typing import IO, Any, Generic, TypeVar

from watchfloor.schemas.events import Document
from watchfloor.schemas.inputs import CheckedInput, EventTime

T = TypeVar("T")
Input = Document | CheckedInput | EventTime | tuple[Document, float | None, float]

DEFAULT_RUN_SIZE = 1_000_000
DEFAULT_CHUNK_SIZE = 8192


def event_time(item: Input) -> float:
    """published_at as a POSIX timestamp (what sorting compares: cheaper than aware datetimes); for a log
    document (stream_processors.replay.Received: document, receive time, effective time), its effective time
    (a document dated too far after it was received counts at its receive time)."""
    cls = item.__class__
    if cls is float:
        return item  # type: ignore[return-value]
    if cls is tuple:
        return item[2]  # type: ignore[index]
    return item.ts if cls is CheckedInput else item.published_at.timestamp()  # type: ignore[union-attr]


def input_id(item: Input) -> str:
    """The document id ("" for an EventTime, which needs no tie-break: see the module docstring)."""
    cls = item.__class__
    if cls is float:
        return ""
    if cls is tuple:
        return item[0].id  # type: ignore[index]
    if cls is CheckedInput:
        return item.build().id  # type: ignore[union-attr]  # only for ties: building is not free
    return item.id  # type: ignore[union-attr]


def event_order_key(item: Input) -> tuple[float, str]:
    """The canonical event-time order: (published_at, document id)."""
    return event_time(item), input_id(item)


def _order_tie(group: list[Input]) -> list[Input]:
    return sorted(group, key=input_id)


def sort_by_event_time(items: list[Input]) -> None:
    """Sort in place into (published_at, id) order. Sorting on the float time alone is several times faster
    than on (time, id) tuples; documents that tie are then put in id order among themselves (ids are only
    computed for them)."""
    items.sort(key=event_time)
    # Positions of the documents (not gated-out times), found without a Python loop over every item.
    docs = list(compress(range(len(items)), map(is_not, map(type, items), repeat(float))))
    k, n = 0, len(docs)
    while k < n:
        t = event_time(items[docs[k]])
        j = k + 1
        while j < n and event_time(items[docs[j]]) == t:
            j += 1
        if j - k > 1:
            where = docs[k:j]
            for pos, item in zip(where, _order_tie([items[p] for p in where]), strict=True):
                items[pos] = item
        k = j


def fix_ties(stream: Iterable[Input]) -> Iterator[Input]:
    """A stream sorted by event time alone -> (published_at, id) order: documents of one instant by id.
    Holds one instant's items at a time."""
    it = iter(stream)
    pending: list[Input] = []
    t_pending = 0.0
    for item in it:
        t = event_time(item)
        if pending and t != t_pending:
            yield from _flush(pending)
            pending = []
        pending.append(item)
        t_pending = t
    yield from _flush(pending)


def _flush(pending: list[Input]) -> list[Input]:
    if len(pending) < 2:
        return pending
    docs = [x for x in pending if x.__class__ is not float]
    if len(docs) < 2:
        return pending
    return [x for x in pending if x.__class__ is float] + _order_tie(docs)


class _RunReader:
    """Reads one spilled run back, a chunk at a time."""

    def __init__(self, path: str, counter: list[int]) -> None:
        self.path = path
        self.counter = counter  # [items currently loaded across readers]

    def __iter__(self) -> Iterator[Any]:
        with open(self.path, "rb") as f:
            while True:
                try:
                    chunk: list[Any] = pickle.load(f)
                except EOFError:
                    return
                self.counter[0] += len(chunk)
                try:
                    yield from chunk
                finally:
                    self.counter[0] -= len(chunk)


class ExternalSorter(Generic[T]):
    """Sort more items than fit in memory.

    `sort_run(list)` sorts a run in place; `merge_key(item)` must order items the same way (it is what the
    k-way merge compares). With `concatenate`, runs are already in order one after the other (a spool
    of a stream in arrival order): iterating reads them back in turn, without a merge.
    `peak_buffered` (the most items ever held before a spill) and `loaded` (items of chunks being
    merged right now) say how much is in memory, for tests and benchmarks."""

    def __init__(
        self,
        sort_run: Callable[[list[T]], None],
        merge_key: Callable[[T], Any],
        *,
        run_size: int = DEFAULT_RUN_SIZE,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        spill_dir: str | None = None,
        concatenate: bool = False,
        finish: Callable[[Iterator[T]], Iterator[T]] | None = None,
    ) -> None:
        if run_size < 1 or chunk_size < 1:
            raise ValueError("run_size and chunk_size must be positive")
        self._sort_run = sort_run
        self._merge_key = merge_key
        self._finish = finish
        self.run_size = run_size
        self.chunk_size = min(chunk_size, run_size)
        self._spill_dir = spill_dir
        self._concatenate = concatenate
        self._buffer: list[T] = []
        self._sorted = False
        self._dir: str | None = None
        self.runs: list[str] = []
        self.count = 0
        self.peak_buffered = 0
        self._loaded = [0]

    # -- feeding ---------------------------------------------------------------------------------
    def add(self, item: T) -> None:
        self._buffer.append(item)
        self.count += 1
        if len(self._buffer) >= self.run_size:
            self._spill()

    def extend(self, items: Iterable[T]) -> None:
        if isinstance(items, list) and len(self._buffer) + len(items) < self.run_size:
            self._buffer.extend(items)  # the common case, a block that fits: no per-item Python work
            self.count += len(items)
            self.peak_buffered = max(self.peak_buffered, len(self._buffer))
            return
        it = iter(items)
        buf = self._buffer
        while True:
            room = self.run_size - len(buf)
            before = len(buf)
            buf.extend(islice(it, room))
            got = len(buf) - before
            self.count += got
            if len(buf) >= self.run_size:
                self._spill()
                buf = self._buffer
            elif got < room:
                self.peak_buffered = max(self.peak_buffered, len(buf))
                return

    def _spill(self) -> None:
        buf = self._buffer
        self.peak_buffered = max(self.peak_buffered, len(buf))
        if not self._concatenate:
            self._sort_run(buf)
        if self._dir is None:
            self._dir = tempfile.mkdtemp(prefix="watchfloor-sort-", dir=self._spill_dir)
        path = os.path.join(self._dir, f"run-{len(self.runs):05d}.pickle")
        with open(path, "wb") as f:
            self._write(f, buf)
        self.runs.append(path)
        self._buffer = []
        self._sorted = False

    def _write(self, f: IO[bytes], items: list[T]) -> None:
        step = self.chunk_size
        for k in range(0, len(items), step):
            pickle.dump(items[k : k + step], f, protocol=pickle.HIGHEST_PROTOCOL)

    # -- reading ---------------------------------------------------------------------------------
    @property
    def spilled(self) -> bool:
        return bool(self.runs)

    @property
    def loaded(self) -> int:
        """Items in memory right now: the unspilled tail plus the chunks the merge holds."""
        return len(self._buffer) + self._loaded[0]

    def __iter__(self) -> Iterator[T]:
        if not self._sorted and not self._concatenate:
            self._sort_run(self._buffer)
        self._sorted = True
        self.peak_buffered = max(self.peak_buffered, len(self._buffer))
        tail: Iterable[T] = self._buffer
        if not self.runs:
            return iter(self._buffer)
        readers: list[Iterable[T]] = [_RunReader(p, self._loaded) for p in self.runs]
        if self._concatenate:
            merged: Iterator[T] = (x for r in [*readers, tail] for x in r)
        else:
            merged = heapq.merge(*readers, tail, key=self._merge_key)
        return self._finish(merged) if self._finish is not None else merged

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self.runs = []
        self._buffer = []

    def __enter__(self) -> ExternalSorter[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def event_time_sorter(
    *, run_size: int = DEFAULT_RUN_SIZE, chunk_size: int = DEFAULT_CHUNK_SIZE, spill_dir: str | None = None
) -> ExternalSorter[Input]:
    """Backtest inputs in (published_at, id) order, in bounded memory: runs are merged on the time and the
    merged stream's ties are put in id order as it goes."""
    return ExternalSorter(
        sort_by_event_time,
        event_time,
        run_size=run_size,
        chunk_size=chunk_size,
        spill_dir=spill_dir,
        finish=fix_ties,
    )


def arrival_spool(
    *, run_size: int = DEFAULT_RUN_SIZE, chunk_size: int = DEFAULT_CHUNK_SIZE, spill_dir: str | None = None
) -> ExternalSorter[Input]:
    """Inputs kept in arrival order (log order) so that they can be replayed more than once."""

    def keep(items: list[Input]) -> None:
        return None

    return ExternalSorter(
        keep, event_time, run_size=run_size, chunk_size=chunk_size, spill_dir=spill_dir, concatenate=True
    )


class Shuffler:
    """Inputs in a random order fixed by `seed` (how rules behave when reports arrive out of order), in
    bounded memory: each input is tagged with a random number and the tags are sorted externally."""

    def __init__(
        self,
        seed: int,
        *,
        run_size: int = DEFAULT_RUN_SIZE,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        spill_dir: str | None = None,
    ) -> None:
        self._rng = random.Random(seed)
        self._sorter: ExternalSorter[tuple[float, int, Input]] = ExternalSorter(
            _sort_tagged, _tag, run_size=run_size, chunk_size=chunk_size, spill_dir=spill_dir
        )

    def extend(self, items: Iterable[Input]) -> None:
        rand = self._rng.random
        start = self._sorter.count
        self._sorter.extend((rand(), start + k, x) for k, x in enumerate(items))

    def add(self, item: Input) -> None:
        self.extend((item,))

    @property
    def count(self) -> int:
        return self._sorter.count

    @property
    def sorter(self) -> ExternalSorter[tuple[float, int, Input]]:
        return self._sorter

    def __iter__(self) -> Iterator[Input]:
        return (x for _r, _k, x in self._sorter)

    def close(self) -> None:
        self._sorter.close()


def _tag(x: tuple[float, int, Input]) -> tuple[float, int]:
    return x[0], x[1]


def _sort_tagged(items: list[tuple[float, int, Input]]) -> None:
    items.sort(key=_tag)
