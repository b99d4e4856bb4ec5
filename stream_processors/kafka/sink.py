"""The worker's detection sink: detections into an event store (deduplicated by id), then the alert dispatcher;
and, between detections, the dispatcher's due work (retries, digests), asked for by the worker's delivery timer."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from watchfloor.schemas.events import Event

from ..ports import Store


class Dispatcher(Protocol):
    """What the sink drives after each write: watchfloor.alerts.dispatcher.AlertDispatcher fits."""

    def run_once(self, limit: int = 500) -> int: ...

    def next_due(self) -> float | None: ...


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

    @property
    def dispatches(self) -> bool:
        """True when this sink delivers alerts (the worker then runs its delivery timer)."""
        return self._make_dispatcher is not None

    def write(self, events: Sequence[Event]) -> int:
        with self._lock:
            store = self._opened()
            added = int(store.append(list(events)))
            self._dispatch()
            return added

    def deliver_due(self) -> float | None:
        """One dispatcher pass with no new detection: what other processes enqueued, the digests whose time has
        come, and every delivery that is due (a retry on its backoff). Returns the seconds until the next one
        falls due, None when nothing is scheduled (or this sink does not dispatch). Opens the store at the
        first call, so a restarted worker tries what is outstanding at once."""
        if self._make_dispatcher is None:
            return None
        with self._lock:
            self._opened()
            self._dispatch()
            assert self._dispatcher is not None
            return self._dispatcher.next_due()

    def _opened(self) -> Store:
        if self._store is None:
            self._store = self._open()
            self._dispatcher = self._make_dispatcher(self._store) if self._make_dispatcher else None
        return self._store

    def _dispatch(self) -> None:
        if self._dispatcher is not None:
            while self._dispatcher.run_once() > 0:
                pass

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
                self._dispatcher = None
