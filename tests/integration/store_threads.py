"""Opening a SQL store in a thread, for tests of what a migrating or waiting opener does meanwhile."""

from __future__ import annotations

import threading

from watchfloor.stream_processors.stores.sql import SqlStore


def open_in_thread(url: str, out: list[SqlStore], errors: list[BaseException]) -> threading.Thread:
    """Start opening the store at `url` in a daemon thread: the store goes to `out`, what it raised to `errors`."""

    def run() -> None:
        try:
            out.append(SqlStore(url))
        except BaseException as e:  # reported by the test
            errors.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t
