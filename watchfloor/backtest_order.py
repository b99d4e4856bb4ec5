"""The order a backtest replays its inputs in: event time or random through an external sort (bounded
memory), log order streamed straight through; iterable once per replay (the rule set and its baseline)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from watchfloor.stream_processors.external_sort import (
    DEFAULT_RUN_SIZE,
    ExternalSorter,
    Input,
    Shuffler,
    arrival_spool,
    event_time_sorter,
)

from .backtest import ORDERS, bulk_load

__all__ = ["OrderedInputs"]


class OrderedInputs:
    """The inputs in the order to replay them, iterable once per replay (`passes`). Event-time and random
    orders go through an external sort; log order streams straight through when replayed once."""

    def __init__(
        self,
        order: str,
        *,
        passes: int = 1,
        seed: int = 0,
        run_size: int = DEFAULT_RUN_SIZE,
        spill_dir: str | None = None,
    ) -> None:
        if order not in ORDERS:
            raise ValueError(f"unknown order {order!r} ({', '.join(ORDERS)})")
        self.order = order
        self._stream: Iterator[Input] | None = None
        self._store: ExternalSorter[Input] | Shuffler | None = None
        if order == "event-time":
            self._store = event_time_sorter(run_size=run_size, spill_dir=spill_dir)
        elif order == "random":
            self._store = Shuffler(seed, run_size=run_size, spill_dir=spill_dir)
        elif passes > 1:
            self._store = arrival_spool(run_size=run_size, spill_dir=spill_dir)

    @property
    def streams_while_reading(self) -> bool:
        """True when reading happens during the (single) replay: log order, one pass."""
        return self._store is None

    def feed(self, blocks: Iterable[list[Input]]) -> None:
        """Take the inputs, a block (list) at a time: all of them now, or (log order, one pass) as the
        replay pulls them."""
        if self._store is None:
            self._stream = chain.from_iterable(blocks)
        else:
            with bulk_load():
                for block in blocks:
                    self._store.extend(block)

    @property
    def count(self) -> int | None:
        return None if self._store is None else self._store.count

    @property
    def sorter(self) -> ExternalSorter[Any] | None:
        if isinstance(self._store, Shuffler):
            return self._store.sorter
        return self._store

    def stats(self) -> dict[str, Any] | None:
        """How the ordering used memory and disk (ask before close)."""
        s = self.sorter
        if s is None:
            return None
        return {"runs_spilled": len(s.runs), "peak_in_memory": s.peak_buffered, "run_size": s.run_size}

    def __iter__(self) -> Iterator[Input]:
        if self._store is not None:
            return iter(self._store)
        if self._stream is None:
            raise RuntimeError("nothing fed")
        stream, self._stream = self._stream, None
        return stream

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
