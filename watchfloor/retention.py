"""Store retention: remove the text of documents older than N days that every reader of documents has consumed.

A store keeps every event for ever (README "Store size": ~1.05 KB an event, the articles' text ~80 % of it), and a
new store is no way out: its delivery ledger would be empty, and every alert sent would be sent again. A prune
keeps every event and its place: a document older than the cutoff keeps its id, type, event time, position,
source, url and metadata, and loses its title and body (stream_processors.stores.pruning). So dedup by id holds (a
re-ingested old article is a duplicate of its stub: errors.payload_differs compares only the keys both have), log
positions and checkpoints hold, and detections, signals, retractions, dead letters, control events and the ledger
are not touched: `alerts list`, the dispatcher's stories (read from detections and retractions only) and the
ledger read as before.

What may go is bounded by the log's readers of documents, never only by age (`plan`):

* the embedded engine (`engine`) and the Kafka relay (`kafka-relay`, one `kafka-relay:PREFIX` per target) read
  documents after their checkpoint: a prune goes no further than the lowest of their positions, so nothing is
  pruned that one of them has not read (a relay target gone for good would hold it back for ever: `watchfloor
  store forget-relay` forgets it, producers.relay.forget_target);
* a store neither has read (a fresh ingest, an archive) is not pruned at all;
* every other checkpoint is known not to read documents (the dispatcher's `alerts` reads detections and
  retractions; `web:activity`, /metrics' counts, reads only a document's source, which stays; `rules`, the
  sources' `source:...`, `pipeline:cycle` and `forgotten-relays` hold no log position of documents), and an
  unknown one with a position is taken as a reader (a follower of a later release must not lose what it has not
  read).

Each prune is recorded in the store, in a checkpoint of its own (`retention`: its position is the highest position
a prune has claimed, its state the runs), before it strips anything and again after each batch, so a prune that
is interrupted is recorded too and its re-run starts where it stopped (a batch is one short transaction;
stripping a stub again is a no-op). `backtest --from-store` refuses a pruned store unless asked (its stubs would
replay as documents without text) and `status` shows the record (`pruned_range`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from watchfloor.alerts.dispatcher import PROCESSOR as DISPATCHER
from watchfloor.producers.relay import FORGOTTEN_RELAYS, RELAY_PROCESSOR, forgotten, is_relay_checkpoint
from watchfloor.schemas.events import DOCUMENT_TYPES
from watchfloor.stream_processors.kafka.late import LATE_CHECKPOINT_PREFIX
from watchfloor.stream_processors.kafka.repeats import REPEATS_CHECKPOINT_PREFIX
from watchfloor.stream_processors.ports import Checkpoint, CheckpointMoved, DocumentRetention, EventLog
from watchfloor.stream_processors.runner import ENGINE_PROCESSOR, RULES_IN_USE
from watchfloor.stream_processors.stores.pruning import stripped

RETENTION = "retention"
"""The checkpoint that records prunes (module docstring)."""
DOCUMENT_READERS = (ENGINE_PROCESSOR, RELAY_PROCESSOR)
HEARTBEAT = "pipeline:cycle"  # watchfloor.web.activity.HEARTBEAT: a cycle counter, not a log position
# watchfloor.web.activity.ACTIVITY_CHECKPOINT: /metrics' counts read a document's source, which a prune keeps, so a
# server that has not scraped for a while must not hold retention back.
ACTIVITY = "web:activity"
# (the producer's copy of its dead letters to the health store reads no document: cli/distributed.copy_dead_letters)
DEAD_LETTERS_COPIED = "dead-letters-copied"
NOT_READERS = frozenset(
    {DISPATCHER, RULES_IN_USE, HEARTBEAT, RETENTION, ACTIVITY, FORGOTTEN_RELAYS, DEAD_LETTERS_COPIED}
)
SOURCE_PREFIX = "source:"  # producers.poller.checkpoint_name: a source's own progress (position 0)
# and the Kafka workers' late documents per group (kafka.late.late_checkpoint), and the archive's count of a topic's
# repeated records (kafka.repeats): save counters, reading no document
NOT_READER_PREFIXES = (SOURCE_PREFIX, LATE_CHECKPOINT_PREFIX, REPEATS_CHECKPOINT_PREFIX)
VACUUM_EVERY = 10  # batches between a PostgreSQL prune's VACUUMs, with --vacuum (reclaim_space(during_prune=True))
BATCH = 2000  # documents per transaction: a few tens of ms of the write lock, so `run` appends between batches
RUNS_KEPT = 20  # prune runs the record keeps (the range they cover is kept whole)


class RetentionError(RuntimeError):
    """Nothing can be pruned, or not now: the message says why, in one line."""


@dataclass(frozen=True)
class PrunePlan:
    """What a prune may strip: documents dated before `before` at positions up to `up_to`, `held_by` naming the
    checkpoint that bounds it; `after`: where a re-run starts (what earlier runs finished of this range)."""

    before: datetime
    up_to: int
    held_by: str
    after: int = 0
    hint: str = ""  # what to do when the checkpoint that holds it is a reader gone for good (a relay target's)


@dataclass
class PruneResult:
    """What a prune did (or, dry, would do): documents whose text went, and its bytes (JSON payload text)."""

    documents: int = 0
    freed: int = 0
    looked_at_to: int = 0
    finished: bool = True


@dataclass(frozen=True)
class PrunedRange:
    """What prunes have claimed of the log: documents dated before `before` at positions up to `up_to` may have no
    text; `documents` of them lost it (in the runs recorded); `finished`: the last run ended."""

    up_to: int
    before: datetime
    documents: int
    finished: bool
    last_run: str

    def describe(self) -> str:
        state = "" if self.finished else " (the last prune was interrupted; run it again)"
        return (
            f"documents dated before {self.before.isoformat(timespec='seconds')} at log positions 1–{self.up_to:,} "
            "were pruned "
            f"(their text removed: {self.documents:,} documents, last prune {self.last_run[:19]}){state}"
        )


def readers(checkpoints: dict[str, int]) -> dict[str, int]:
    """The checkpoints that bound a prune: the readers of documents that have read something, and any checkpoint
    with a position this module does not know (module docstring)."""
    out: dict[str, int] = {}
    for name, position in checkpoints.items():
        if name in DOCUMENT_READERS or is_relay_checkpoint(name):  # the relay to each target reads documents
            if position > 0:
                out[name] = position
        elif name not in NOT_READERS and not name.startswith(NOT_READER_PREFIXES) and position > 0:
            out[name] = position
    return out


def plan(store: DocumentRetention, older_than_days: float, now: datetime) -> PrunePlan:
    """The documents a prune of what is older than `older_than_days` before `now` may strip; RetentionError when
    no reader of documents has read any."""
    if older_than_days <= 0:
        raise RetentionError(f"--older-than {older_than_days:g}: give a number of days above 0")
    before = now - timedelta(days=older_than_days)
    checkpoints = store.checkpoint_positions()
    bound = readers(checkpoints)
    hint = True
    if not bound and (gone := forgotten(store)):
        # Its only readers were relays to pipelines forgotten since (review of 4fefd2c: "no reader has read this
        # store's documents yet", false): what they sent may go, what came after it was read by no one and stays.
        name = max(gone, key=lambda n: (gone[n], n))
        bound, hint = {f"{name} (forgotten)": gone[name]}, False
    if not bound:
        raise RetentionError(
            "nothing can be pruned: no reader of documents (`watchfloor run`'s engine, `watchfloor produce`'s relay) "
            "has read this store's documents yet"
        )
    held_by = min(bound, key=lambda name: (bound[name], name))
    up_to = bound[held_by]
    after = 0
    for run in _runs(checkpoints_state(store)):
        # A run with this cutoff or a later one stripped everything this one would, up to where it got.
        if (done_before := _parse(run.get("before"))) is not None and done_before >= before:
            after = max(after, int(run.get("done_to", 0)))
    return PrunePlan(before, up_to, f"{held_by} at {up_to:,}", min(after, up_to), forget_hint(held_by) if hint else "")


def forget_hint(checkpoint: str) -> str:
    """For a prune held by a relay target's checkpoint: the command that forgets a target gone for good (its
    checkpoint would hold every prune back at its position for ever)."""
    if not is_relay_checkpoint(checkpoint):
        return ""
    return (
        f"{checkpoint} is `watchfloor produce`'s relay to a Kafka pipeline; if that pipeline is gone for good, "
        f"`watchfloor store forget-relay {checkpoint}` lets prunes pass it"
    )


def checkpoints_state(store: Any) -> dict[str, Any]:
    """The retention record's state ({} when the store was never pruned)."""
    return dict(store.load_checkpoint(RETENTION).state or {})


def pruned_range(store: Any) -> PrunedRange | None:
    """What prunes have claimed of the store's log, or None when it was never pruned."""
    cp = store.load_checkpoint(RETENTION)
    state = cp.state or {}
    before = _parse(state.get("before"))
    if cp.position <= 0 or before is None:
        return None
    runs = _runs(state)
    last = runs[-1] if runs else {}
    return PrunedRange(
        up_to=cp.position,
        before=before,
        documents=int(state.get("documents", 0)),
        finished=bool(last.get("finished_at")),
        last_run=str(last.get("started_at", "?")),
    )


def count(store: EventLog, chosen: PrunePlan, on_batch: Callable[[int], None] | None = None) -> PruneResult:
    """What `prune` would strip (a dry run: read, nothing written)."""
    result = PruneResult()
    position = chosen.after
    while position < chosen.up_to:
        page = store.read(position, types=DOCUMENT_TYPES, limit=BATCH)
        page = [se for se in page if se.position <= chosen.up_to]
        if not page:
            break
        for se in page:
            if se.event.time < chosen.before and (new := stripped(se.event.payload)) is not None:
                result.documents += 1
                result.freed += _size(se.event.payload) - _size(new)
        position = page[-1].position
        if on_batch is not None:
            on_batch(position)
    result.looked_at_to = chosen.up_to
    return result


def prune(
    store: Any,
    chosen: PrunePlan,
    *,
    started_at: datetime,
    batch: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
    clock: Callable[[], datetime] | None = None,
    max_batches: int | None = None,
    resume: bool = False,
    vacuum_every: int | None = None,
    stopping: Callable[[], bool] | None = None,
    result: PruneResult | None = None,
) -> PruneResult:
    """Strip what `chosen` allows, a batch per transaction, recording the run first and after each batch (module
    docstring). `on_batch` is told the position done to. With `max_batches`, stop after that many (`finished` then
    False; `resume` carries the record's last run on from `chosen.after`: `scheduled`). With `vacuum_every`, the
    store reclaims space between batches that often (`reclaim_space(during_prune=True)`). `stopping` (SIGTERM) is
    asked before each batch: true, it stops there (`finished` False; the record says where). `result`, when given, is
    filled as batches commit, so a caller interrupted (Ctrl-C) knows what was done. Raises RetentionError when another
    prune moved the record meanwhile."""
    result = result if result is not None else PruneResult()
    result.finished = False  # until the range is done
    runs = _runs(checkpoints_state(store)) if resume else []
    run: dict[str, Any] = (
        runs[-1]
        if runs
        else {
            "before": chosen.before.isoformat(),
            "up_to": chosen.up_to,
            "done_to": chosen.after,
            "started_at": started_at.isoformat(),
            "finished_at": None,
            "documents": 0,
            "freed": 0,
        }
    )
    if not runs:
        _record(store, run, new=True)
    position = chosen.after
    batches = 0
    while position < chosen.up_to:
        if (max_batches is not None and batches >= max_batches) or (stopping is not None and stopping()):
            result.looked_at_to = position
            return result
        step = store.strip_documents(chosen.before, position, chosen.up_to, limit=batch)
        batches += 1
        result.documents += step.stripped
        result.freed += step.freed
        position = max(step.to, position + 1) if step.to < chosen.up_to else chosen.up_to
        run.update(
            done_to=position,
            documents=int(run.get("documents", 0)) + step.stripped,
            freed=int(run.get("freed", 0)) + step.freed,
        )
        _record(store, run, new=False, documents=step.stripped)
        if vacuum_every is not None and batches % vacuum_every == 0 and position < chosen.up_to:
            store.reclaim_space(during_prune=True)
        if on_batch is not None:
            on_batch(position)
    run["finished_at"] = (clock() if clock is not None else started_at).isoformat()
    run["done_to"] = chosen.up_to
    _record(store, run, new=False)
    result.looked_at_to = chosen.up_to
    result.finished = True
    return result


DAY = timedelta(days=1)
SCHEDULED_BATCHES = 25  # batches a `run` cycle prunes at most (~50k documents): a cycle's alerts do not wait long


def scheduled(store: Any, days: float, now: datetime, *, max_batches: int = SCHEDULED_BATCHES) -> PruneResult | None:
    """`run`'s `retention_days`: carry on a prune under way (the record's last run, unfinished, with its own cutoff),
    else start one when the last started a day or more ago (or never), else nothing (None). At most `max_batches`
    batches per call, so a long first prune is spread over cycles. None too when nothing can be pruned yet."""
    runs = _runs(checkpoints_state(store))
    last = runs[-1] if runs else None
    if last is not None and not last.get("finished_at"):
        before = _parse(last.get("before"))
        if before is None:
            return None
        up_to = int(last.get("up_to", 0))
        chosen = PrunePlan(before, up_to, "the prune under way", min(int(last.get("done_to", 0)), up_to))
        return prune(store, chosen, started_at=now, max_batches=max_batches, resume=True, clock=lambda: now)
    started = _parse(last.get("started_at")) if last is not None else None
    if started is not None and now - started < DAY:
        return None
    try:
        chosen = plan(store, days, now)
    except RetentionError:
        return None  # no reader has read anything yet: nothing to prune
    return prune(store, chosen, started_at=now, max_batches=max_batches, clock=lambda: now)


def _record(store: Any, run: dict[str, Any], *, new: bool, documents: int = 0) -> None:
    """Save `run` as the record's last run (a new one when `new`), by compare-and-set: a second prune at once fails."""
    cp = store.load_checkpoint(RETENTION)
    state = dict(cp.state or {})
    runs = _runs(state)
    if new:
        runs.append(dict(run))
    else:
        runs[-1] = dict(run)
    claimed = _parse(state.get("before"))
    ours = _parse(run["before"])
    assert ours is not None
    state["before"] = (ours if claimed is None or ours > claimed else claimed).isoformat()
    state["documents"] = int(state.get("documents", 0)) + documents
    state["runs"] = runs[-RUNS_KEPT:]
    try:
        store.commit(RETENTION, Checkpoint(max(cp.position, int(run["up_to"])), state), [], since=cp.position)
    except CheckpointMoved:
        raise RetentionError(
            "another prune of this store moved its record meanwhile: let it finish, then run again"
        ) from None


def _runs(state: dict[str, Any]) -> list[dict[str, Any]]:
    runs = state.get("runs")
    return [dict(r) for r in runs if isinstance(r, dict)] if isinstance(runs, list) else []


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _size(payload: Any) -> int:
    import orjson

    return len(orjson.dumps(payload))


__all__ = [
    "RETENTION",
    "PrunePlan",
    "PruneResult",
    "PrunedRange",
    "RetentionError",
    "count",
    "plan",
    "prune",
    "pruned_range",
    "readers",
    "scheduled",
]
