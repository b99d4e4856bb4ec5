"""The worker's detection sink: detections into an event store (deduplicated by id), then the alert dispatcher."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from watchfloor.schemas.events import Event

from ..ports import Store


class Dispatcher(Protocol):
    """What the sink drives after each write: watchfloor.alerts.dispatcher.AlertDispatcher fits."""

    def run_once(self, limit: int = 500) -> int: ...


class StoreSink:
    """``write(detection events)`` appends them to a store and, with a dispatcher, delivers their alerts.

    The store is opened on first use, by the thread that writes (the notify agent's), so a worker that
    never owns the detections partition never opens it. `dispatcher(store)` builds the dispatcher then."""

    def __init__(
        self, open_store: Callable[[], Store], dispatcher: Callable[[Store], Dispatcher] | None = None
    ) -> None:
        self._open = open_store
        self._make_dispatcher = dispatcher
        self._store: Store | None = None
        self._dispatcher: Dispatcher | None = None
        self._lock = threading.Lock()

    def write(self, events: Sequence[Event]) -> int:
        with self._lock:
            if self._store is None:
                self._store = self._open()
                self._dispatcher = self._make_dispatcher(self._store) if self._make_dispatcher else None
            added = int(self._store.append(list(events)))
            if self._dispatcher is not None:
                while self._dispatcher.run_once() > 0:
                    pass
            return added

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
