"""While a backlog is being read, its alerts are held and then delivered together, in event time (`backlog_settle`).

A backlog read in pieces (a slice of each source per cycle in `run`; the workers' partitions at their own pace in
distributed mode) raises alerts piece by piece; delivered after each piece, a sparse source's piece ran weeks ahead
of a dense one's and the channel read them out of time order (outside trial 26, F3). Pure policy, no clock of its own:
the caller says when it saw the pipeline behind and asks whether to hold, with a monotonic time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BacklogHold:
    """Hold deliveries from the first look that finds the pipeline behind until a look finds it caught up, for at most
    `settle` seconds (then deliver piece by piece again: a backlog of hours must not hold the alerts that long)."""

    settle: float
    since: float | None = None  # when the backlog being read was first seen (monotonic), or None

    def observe(self, behind: bool, now: float) -> None:
        """The pipeline was seen behind (or caught up) at `now`."""
        if not behind:
            self.since = None  # caught up: what the backlog raised goes now, in event time
        elif self.since is None and self.settle > 0:
            self.since = now  # a backlog begins: held from now

    def begin(self, now: float) -> None:
        """A backlog seen at `now` (a no-op while one is already held, or when holding is off)."""
        self.observe(True, now)

    def holding(self, now: float) -> bool:
        return self.since is not None and now - self.since < self.settle

    def held_for(self, now: float) -> float:
        """Seconds the current hold has lasted (0 when none)."""
        return 0.0 if self.since is None else max(0.0, now - self.since)
