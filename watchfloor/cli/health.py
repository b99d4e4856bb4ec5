"""The `watchfloor health` command and the heartbeat file the long-running commands keep (container checks).

`run`, `produce`, `worker`, `archive` and `notify` touch the file named by $WATCHFLOOR_HEARTBEAT (when set)
every cycle (the worker: every few seconds, from its event loop), so a process that hangs or stops going
round shows as unhealthy; `watchfloor health` exits 0 while the file is fresh.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from ._common import app, fail, out

HEARTBEAT_ENV = "WATCHFLOOR_HEARTBEAT"


class Heartbeat:
    """Touches $WATCHFLOOR_HEARTBEAT (if set): call `beat()` whenever the process has gone round once."""

    def __init__(self, path: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        p = path if path is not None else os.environ.get(HEARTBEAT_ENV)
        self.path = Path(p) if p else None
        self.clock = clock
        self._beaten = float("-inf")
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def beat(self) -> None:
        if self.path is not None:
            self.path.touch()
        self._beaten = self.clock()

    def alive(self, every: float = 5.0) -> None:
        """Within a long round (a cycle of slow deliveries): beat, at most once per `every` seconds (a touch is a
        metadata write; a round of fast deliveries makes hundreds of calls a second)."""
        if self.path is not None and self.clock() - self._beaten >= every:
            self.beat()


def between_deliveries(heart: Heartbeat, store_watch: Any, store: object) -> Callable[[], None]:
    """What a dispatcher does after each attempt (Deliverer.between) in a long-running `run` or `notify`: keep the
    liveness file fresh, and end a store outage at the first write seen going through (the attempt's settle), not
    when the cycle ends: a cycle of slow posts said "reachable again after 120.2s" of a 13 s PostgreSQL restart
    (trial 50, LOW-1). `store_watch`: the process's Availability of the store."""
    from watchfloor.web.metrics import write_problem

    def between() -> None:
        heart.alive()
        if not store_watch.available and write_problem(store) is None:
            store_watch.up()

    return between


@app.command()
def health(
    heartbeat: Annotated[
        Path, typer.Option(help="The heartbeat file of the process to check.", envvar=HEARTBEAT_ENV)
    ] = Path("var/heartbeat"),
    max_age: Annotated[
        float, typer.Option(help="Seconds since the last beat for the process to count as alive.")
    ] = 120,
) -> None:
    """Exit 0 if the process keeping `--heartbeat` has gone round within `--max-age` seconds (a container check)."""
    try:
        age = time.time() - heartbeat.stat().st_mtime
    except FileNotFoundError:
        raise fail(f"no heartbeat at {heartbeat} (not started yet, or WATCHFLOOR_HEARTBEAT not set)") from None
    if age > max_age:
        raise fail(f"last heartbeat {age:.0f}s ago (more than {max_age:g}s): the process is stuck or gone")
    out.print(f"alive: last heartbeat {age:.1f}s ago", highlight=False)
