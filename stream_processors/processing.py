"""Pull and process: the one loop of every follower of the log (embedded runner, alert intake, Kafka relay),
and the one tally of what an engine pass did (the embedded runner's and the backtest replayer's).

The loop is eventsourcing's ``ProcessApplication.pull_and_process``: load the follower's checkpoint, read the
events after its position, process them, and commit the new position -- with the follower's state and the
events its processing produced -- in one transaction; repeat until nothing new is left. A crash between a
read and its commit repeats at most the events in hand, and the outputs' deterministic ids make the repeat
append nothing new. What differs between followers is only the step (and whether each event is committed on
its own: the alert intake puts an event's rows in the ledger before its checkpoint may move past it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from watchfloor.schemas.events import DeadLetter, Detection, Event, PassedOver, Retraction, Signal

from .current import current_alerts
from .ports import Checkpoint, CheckpointMoved, CheckpointStore, EventLog, StoredEvent

log = logging.getLogger(__name__)


class FollowedLog(EventLog, CheckpointStore, Protocol):
    """An event log that keeps its followers' checkpoints (every store: memory, SQLite, PostgreSQL)."""


Step = Callable[[Sequence[StoredEvent], Any], tuple[Any, Sequence[Event]]]
"""(events read, the follower's state) -> (its new state, the events to append with the checkpoint)."""


def pull_and_process(
    store: FollowedLog,
    name: str,
    types: Collection[str],
    step: Step,
    *,
    batch_size: int = 500,
    initial_state: Callable[[], Any] = lambda: None,
    restore: Callable[[Any], Any] | None = None,
    each: bool = False,
    limit: int | None = None,
    on_batch: Callable[[int], None] | None = None,
    committed: Callable[[], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> int:
    """Process every event of `types` after follower `name`'s checkpoint; returns how many were processed.

    Batches of `batch_size` events go through `step`; its outputs and the new position and state are
    committed together. With `each`, every event is a step and a commit of its own (reading stays batched).
    `limit` stops after about that many events (the batch in hand is finished). `on_batch(n)` is told as each
    batch of n events is committed (progress bars). The state starts as `initial_state()` when the
    checkpoint has none, else as `restore(saved state)` (the engine brings an older state up to date).
    `committed()` is called after each commit, so a caller counts only work that reached the store. `stop()` is
    asked before each batch is read: when it says so (SIGTERM), the pass ends there, everything before committed.

    Every commit is a compare-and-set on the position this pass last saw: when another process following
    the same store commits first, this pass stops (logged) and leaves the rest to it, instead of doing the
    same work twice and perhaps moving the checkpoint back."""
    first = batch_size if limit is None else min(batch_size, limit)
    if first <= 0 or not store.read(store.checkpoint_position(name), types=types, limit=1):
        # Nothing new (an idle loop's usual pass): the state is not read back, which costs most with a large one.
        return 0
    cp = store.load_checkpoint(name)
    position = cp.position
    if cp.state is None:
        state = initial_state()
    else:
        state = restore(cp.state) if restore is not None else cp.state
    done = 0
    while limit is None or done < limit:
        if stop is not None and stop():
            break
        want = batch_size if limit is None else min(batch_size, limit - done)
        batch = store.read(position, types=types, limit=want)
        if not batch:
            break
        for part in ([s] for s in batch) if each else (batch,):
            state, outputs = step(part, state)
            try:
                store.commit(name, Checkpoint(part[-1].position, state), list(outputs), since=position)
            except CheckpointMoved as moved:
                mine = done + sum(1 for s in batch if s.position <= position)
                # INFO, not a warning: with several `run` or dispatching processes on one store this is routine.
                log.info(
                    "%s: another process is following this store (its checkpoint moved to %d); this pass stops "
                    "after %d event(s) and leaves the rest to it",
                    name,
                    moved.found,
                    mine,
                )
                return mine
            position = part[-1].position
            if committed is not None:
                committed()
        done += len(batch)
        if on_batch is not None:
            on_batch(len(batch))
    return done


@dataclass
class EngineTally:
    """What one pass of the engine did, live (EmbeddedRunner.run_once) or in a backtest (replay)."""

    documents: int = 0
    signals: int = 0
    signals_by_name: dict[str, int] = field(default_factory=dict)
    history: list[Detection | Retraction] = field(default_factory=list)  # everything raised, in order
    retractions: list[Retraction] = field(default_factory=list)
    late: list[DeadLetter] = field(default_factory=list)  # event-time reports: late, dated in the future
    # late documents no detection reads (engine.PassedOver), per origin ("" for none): counted, not dead-lettered
    passed_over: dict[str, int] = field(default_factory=dict)
    unprocessable: list[DeadLetter] = field(default_factory=list)  # events the engine raised on (skipped)
    detections: list[Detection] = field(default_factory=list)  # the alerts that stand at the end (finish())
    behind: bool = False  # the pass stopped at its limit with more in the log (EmbeddedRunner.run_once)

    def count(self, outputs: Iterable[object]) -> None:
        """Add one engine call's outputs (signals, detections, retractions, dead letters)."""
        for o in outputs:
            if isinstance(o, Signal):
                self.signals += 1
                self.signals_by_name[o.name] = self.signals_by_name.get(o.name, 0) + 1
            elif isinstance(o, Detection):
                self.history.append(o)
            elif isinstance(o, Retraction):
                self.retractions.append(o)
                self.history.append(o)
            elif isinstance(o, DeadLetter):
                self.late.append(o)
            elif isinstance(o, PassedOver):
                key = o.origin or ""
                self.passed_over[key] = self.passed_over.get(key, 0) + 1

    def absorb(self, other: EngineTally) -> None:
        """Add another tally's counts and lists to this one (a batch's, once it is committed)."""
        self.documents += other.documents
        self.signals += other.signals
        for name, n in other.signals_by_name.items():
            self.signals_by_name[name] = self.signals_by_name.get(name, 0) + n
        self.history.extend(other.history)
        self.retractions.extend(other.retractions)
        self.late.extend(other.late)
        for origin, n in other.passed_over.items():
            self.passed_over[origin] = self.passed_over.get(origin, 0) + n
        self.unprocessable.extend(other.unprocessable)

    @property
    def late_passed_over(self) -> int:
        """Late documents no detection reads: counted here, not dead-lettered (engine.PassedOver)."""
        return sum(self.passed_over.values())

    def finish(self) -> EngineTally:
        """Settle `detections`: the alerts that stand after the pass."""
        self.detections = self.alerts
        return self

    @property
    def alerts(self) -> list[Detection]:
        """The alerts that stand (detections minus those revised or retracted), in the order raised. In
        canonical event-time order nothing is ever revised: these are all the detections."""
        return list(current_alerts(self.history).values())

    @property
    def revisions(self) -> int:
        """Detections raised by a change of their group's history (log order only)."""
        return sum(1 for d in self.history if isinstance(d, Detection) and d.revision)
