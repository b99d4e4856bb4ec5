"""An agent batch that fails again and again: its attempts counted across worker restarts, the backoff, the poison.

A failed batch restarts the worker (``agents.batch_failed``), which reads it again from the last commit. This module
keeps what must outlive that restart (an ``os.execv``, or a supervisor's start after exit status 4): per agent, how
many batches in a row have failed, in a small JSON file in the worker's data directory (``FailureCounts``; written
atomically, reset by the next batch that goes through). From the count come the wait before the restart
(``RetryPolicy.wait``: doubling, capped) and, from ``RetryPolicy.isolate_after`` failures on, the way forward: the
batch's records are processed one at a time and those that fail alone are dead-lettered (``split_poison``), unless
the failure is not the records' own (``transient``: the broker or a connection; or more than one record of a
partition failing alone): then the batch is retried, with backoff, for as long as it takes. Imports neither faust nor
kafka.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .unreachable import OWN, UNREACHABLE

log = logging.getLogger(__name__)

FILE_NAME = "failed-batches.json"  # in the worker's data directory
# Names of the errors that mean "the broker or the network, not this record": the Kafka client's own (the one list
# `clients` reads too, by name so that this module imports no client) and a few more.
TRANSIENT_NAMES = frozenset(
    {
        *UNREACHABLE,
        *OWN,  # clients.KafkaNotABroker, clients.KafkaNoSuchHost
        "ProducerClosed",  # aiokafka (Faust's producer): closed under a send while the worker stops
        "OperationalError",  # SQLAlchemy: the database went away
    }
)


@dataclass(frozen=True)
class RetryPolicy:
    """How a worker treats a batch that keeps failing (config ``kafka.failed_batch_*``)."""

    isolate_after: int = 5  # failures in a row before the batch's records are tried one at a time
    backoff: float = 1.0  # seconds before the restart after the 2nd failure in a row (then doubling)
    backoff_max: float = 60.0

    def wait(self, attempt: int) -> float:
        """Seconds to wait before restarting after failure number `attempt` (1-based) in a row: none after the
        first (a one-off failure is retried at once, as before), then backoff, 2x, 4x ... up to backoff_max."""
        if attempt <= 1:
            return 0.0
        return min(self.backoff * 2.0 ** min(attempt - 2, 60), self.backoff_max)


class FailureCounts:
    """Per agent, the batches that failed in a row: ``{agent: {"attempts": n, "at": [...], "error": "..."}}``.

    Kept in `path` (None: in memory only, for tests and a worker without a data directory), so that the count
    survives the restart a failure causes. A file that cannot be read counts as none (a warning): the worst it
    costs is a few restarts without backoff."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.counts: dict[str, dict[str, Any]] = {}
        if path is not None and path.exists():
            try:
                loaded = orjson.loads(path.read_bytes())
                if not isinstance(loaded, dict):
                    raise ValueError("not a JSON object")
                self.counts = {
                    str(k): v for k, v in loaded.items() if isinstance(v, dict) and isinstance(v.get("attempts"), int)
                }
            except (OSError, ValueError) as e:
                log.warning("%s: cannot read the failed batches' count (%s); starting from none", path, e)

    def attempts(self, agent: str) -> int:
        """How many batches of `agent` have failed in a row (0: the last one went through)."""
        entry = self.counts.get(agent)
        return int(entry["attempts"]) if entry else 0

    def failed(self, agent: str, at: Sequence[str], error: str) -> int:
        """A batch of `agent` failed (`at`: where it starts, `error`: why): the attempt number, written down."""
        n = self.attempts(agent) + 1
        self.counts[agent] = {"attempts": n, "at": list(at), "error": error}
        self._save()
        return n

    def succeeded(self, agent: str) -> dict[str, Any] | None:
        """A batch of `agent` went through: its count is reset; what it was, when there was one."""
        entry = self.counts.pop(agent, None)
        if entry is not None:
            self._save()
        return entry

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_bytes(orjson.dumps(self.counts))
            os.replace(tmp, self.path)  # a crash mid-write leaves the old count, never half a file
        except OSError as e:
            log.warning("%s: cannot write the failed batches' count (%s)", self.path, e)


def causes(exc: BaseException | None) -> Iterator[BaseException]:
    """`exc` and what caused it, each once."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def transient(exc: BaseException) -> bool:
    """Whether a failure is the broker's or the network's (or the database's connection), not a record's: a
    retriable Kafka error, a connection error or timeout, anywhere in its chain. Such a batch is never
    dead-lettered, however often it fails: good records must not be dropped because a dependency is down."""
    return any(
        getattr(e, "retriable", False) is True
        or isinstance(e, ConnectionError | TimeoutError)
        or type(e).__name__ in TRANSIENT_NAMES
        for e in causes(exc)
    )


class NotAttributable(RuntimeError):
    """Tried one at a time, the records of a batch did not single out a culprit: the batch is retried."""


async def split_poison(
    events: Sequence[Any],
    process: Callable[[list[Any]], Awaitable[None]],
    place: Callable[[Any], Any],
    fatal: tuple[type[BaseException], ...] = (),
) -> list[tuple[Any, Exception]]:
    """Process `events` one at a time (each a batch of its own, `process([event])`, in order); the records that
    failed alone, with their errors, for the caller to dead-letter.

    Raises (the batch is retried, nothing dead-lettered) when the failure is not the records': a transient one
    (``transient``: raised as it is), or two or more records of one place (`place(event)`: its topic and
    partition) failing alone (``NotAttributable``: poison is rare, and several records failing on their own
    points at what they share, a dependency or a state that refuses them, e.g. a downstream topic refusing
    every send while the records that send nothing go through). One record of a place failing alone cannot be
    told apart from that: it is dead-lettered (kept with the reason and its place; nothing skipped without a
    record). Errors of a `fatal` type are raised as they are."""
    failed: list[tuple[Any, Exception]] = []
    bad: dict[Any, int] = {}
    for event in events:
        try:
            await process([event])
        except Exception as e:
            if isinstance(e, fatal) or transient(e):
                raise
            where = place(event)
            bad[where] = bad.get(where, 0) + 1
            failed.append((event, e))
    for where, n in bad.items():
        if n >= 2:
            first = next(e for ev, e in failed if place(ev) == where)
            raise NotAttributable(
                f"{n} records of {where} failed one at a time too ({type(first).__name__}: {first}): not one "
                "record's fault; retrying"
            ) from first
    return failed
