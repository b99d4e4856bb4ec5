"""A store outage that begins at a read the test names, given to a live command through its `opened` parameter.

`StoreOutage` is a real SqlStore (every read and write goes to the database) whose calls fail as an unreachable
store's do (StoreError of kind "unreachable", as stores/sql_errors.py makes of a refused connection) from the first
read made inside a named function (`begins_in`: "undetected_documents", the read `notify` makes right after its first
cycle's last write) for the next `lasting` calls, reads and writes alike; then it works again. No clock, no race: the
outage begins at that read whatever the machine's speed, which the TCP relay of
tests/integration/test_notify_store_outage.py can only hope to hit."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Connection

from watchfloor.stream_processors.stores.errors import StoreError
from watchfloor.stream_processors.stores.sql import SqlStore

T = TypeVar("T")


def _called_from(name: str) -> bool:
    """Whether a function of that name is on the calling thread's stack."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == name:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


class StoreOutage(SqlStore):
    """A SqlStore that goes away at the first read made inside `begins_in`, for `lasting` calls. `began` is called as
    it goes (the test writes what other processes would meanwhile); `failed` lists each failed call: "read" or
    "write", and whether it was made inside `begins_in`."""

    def __init__(self, url: str, *, begins_in: str, lasting: int, began: Callable[[], None] | None = None) -> None:
        super().__init__(url)
        self.begins_in = begins_in
        self.lasting = lasting
        self.began = began
        self.failed: list[tuple[str, bool]] = []
        self._left: int | None = None  # calls still to fail; None before the outage began
        self._lock = threading.Lock()

    def _fault(self, what: str) -> None:
        inside = _called_from(self.begins_in)
        with self._lock:
            if self._left is None:
                if what != "read" or not inside:
                    return
                self._left = self.lasting
                if self.began is not None:
                    self.began()
            if self._left <= 0:
                return
            self._left -= 1
            self.failed.append((what, inside))
        raise StoreError(str(self.url), "cannot connect: connection refused (the test's outage)", "unreachable")

    @property
    def over(self) -> bool:
        """Whether the outage began and ended."""
        return self._left == 0

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        self._fault("read")
        with super()._read() as conn:
            yield conn

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        self._fault("write")
        return super()._transaction(work)
