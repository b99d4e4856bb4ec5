"""Embedded runner: drive the engine over the event log, committing outputs and position together."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from watchfloor.schemas.events import (
    DOCUMENT_TYPES,
    DeadLetter,
    Detection,
    Event,
    EventType,
    Retraction,
    Signal,
    dead_letter_event,
    detection_event,
    retraction_event,
    signal_event,
)
from watchfloor.schemas.redact import redact_url

from .engine import Engine, Output
from .ports import Checkpoint, CheckpointMoved, Store, StoredEvent
from .processing import EngineTally, pull_and_process

log = logging.getLogger(__name__)

ENGINE_PROCESSOR = "engine"
# What the engine reads from the log: documents, and the marks producers record when they caught up (event
# time moves at those, so replaying the log moves it exactly as the live run did).
ENGINE_INPUT_TYPES = DOCUMENT_TYPES | {EventType.CAUGHT_UP.value}


def raised_at(event: Event) -> datetime | None:
    """When a detection or retraction that `event` caused was raised, on watchfloor's clock: when the document
    was received, or when the producer that recorded a caught-up mark had caught up. Taken from the log, not
    read from a clock, so a replay stamps the same time; None for documents recorded before receive times."""
    if event.type == EventType.CAUGHT_UP.value:
        return event.time
    return event.received_at


def outputs_to_events(outputs: Sequence[Output], event: Event) -> list[Event]:
    """Engine outputs as log events. Ids are deterministic, so a replayed batch appends nothing new.

    Detections and retractions carry `raised_at(event)` as their receive time (the log got them then): the
    detection -> delivered latency on /metrics counts from it, so the wait before the dispatcher counts too."""
    out: list[Event] = []
    raised = raised_at(event)
    for o in outputs:
        if isinstance(o, Signal):
            out.append(signal_event(o))
        elif isinstance(o, Detection):
            out.append(detection_event(o).model_copy(update={"received_at": raised}))
        elif isinstance(o, Retraction):
            out.append(retraction_event(o).model_copy(update={"received_at": raised}))
        elif isinstance(o, DeadLetter):
            out.append(dead_letter_event(o, event.time))
    return out


class _Unprocessable(Exception):
    """The engine raised on the event at `index` of the batch in hand."""

    def __init__(self, index: int, letter: DeadLetter) -> None:
        super().__init__(letter.reason)
        self.index = index
        self.letter = letter


def engine_failure_letter(stored: StoredEvent, e: Exception) -> DeadLetter:
    """The dead letter of an event the engine raised on: where it is (its origin, its id and log position)
    and why (the exception, on one line)."""
    ev = stored.event
    if isinstance(e, ValidationError) and e.errors():
        first = e.errors()[0]
        why = f"invalid {ev.type} payload: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    else:
        why = f"{type(e).__name__}: {e}"
    why = " ".join(why.split())[:500]
    title = ev.payload.get("title") if isinstance(ev.payload, dict) else None
    return DeadLetter(
        origin=ev.origin or "event log",
        reason=f"the engine failed on {ev.type} {ev.id!r} (log position {stored.position}), skipped: {why}",
        raw=str(title)[:500] if title else "",
        stage="engine",
    )


class EmbeddedRunner:
    """Reads documents after its checkpoint; one transaction per batch holds outputs, position and state.

    A crash between batches loses nothing (the next run resumes at the saved position with the saved
    state) and repeats nothing (outputs of a re-processed batch have the same ids, so they are skipped)."""

    def __init__(self, store: Store, engine: Engine, *, batch_size: int = 500, name: str = ENGINE_PROCESSOR) -> None:
        self.store = store
        self.engine = engine
        self.batch_size = batch_size
        self.name = name
        # Whether the process was asked to stop (SIGTERM): asked between batches, so a stop waits for one batch.
        self.stopping: Callable[[], bool] = lambda: False

    def run_once(self, on_batch: Callable[[int], None] | None = None, limit: int | None = None) -> EngineTally:
        """Process what is new in the log (the one pull-and-process loop); the tally of this pass.

        An event the engine raises on (a document from outside the input contract, written by an older
        release or archived from a topic other producers write to) is dead-lettered with its place and the
        reason, and the batch is processed again without it from the state committed before the batch: the
        engine may have changed its state in place before it raised. Every other event goes on, and the
        cycle is not stopped (it would stop at the same event on every later cycle).

        `limit`: about that many events at most (whole batches); `tally.behind` says whether more were left. A stop
        (`stopping()`) ends the pass between batches."""
        tally = EngineTally()
        pending = EngineTally()  # the batch in hand: counted in `tally` once its commit went through

        def process(batch: Sequence[StoredEvent], state: dict[str, Any]) -> tuple[dict[str, Any], list[Event]]:
            nonlocal pending
            skipped: dict[int, DeadLetter] = {}
            pending = EngineTally()
            while True:
                try:
                    return self._process(batch, state, skipped, pending)
                except _Unprocessable as bad:
                    log.error("%s: %s", redact_url(bad.letter.origin), bad.letter.reason)  # a feed URL's password
                    skipped[bad.index] = bad.letter
                    state = self._state_before_batch()

        done = pull_and_process(
            self.store,
            self.name,
            ENGINE_INPUT_TYPES,
            process,
            batch_size=self.batch_size,
            restore=self.engine.restore,
            initial_state=self.engine.initial_state,
            on_batch=on_batch,
            committed=lambda: tally.absorb(pending),
            stop=self.stopping,
            limit=limit,
        )
        if limit is not None and done >= limit:
            tally.behind = (
                self.store.read(self.store.checkpoint_position(self.name), types=ENGINE_INPUT_TYPES, limit=1) != []
            )
        return tally.finish()

    def _process(
        self,
        batch: Sequence[StoredEvent],
        state: dict[str, Any],
        skipped: dict[int, DeadLetter],
        tally: EngineTally,
    ) -> tuple[dict[str, Any], list[Event]]:
        """One batch through the engine, the events at the `skipped` indices as their dead letters; raises
        _Unprocessable for a new event the engine raises on. The tally is added to only once all went through."""
        engine = self.engine
        events: list[Event] = []
        counted: list[Output] = []
        documents = 0
        for index, stored in enumerate(batch):
            letter = skipped.get(index)
            if letter is not None:
                events.append(dead_letter_event(letter, stored.event.time))
                continue
            try:
                state, outputs = engine.process(state, stored.event)
            except Exception as e:  # whatever the engine raised on: this event's fault, not the batch's
                raise _Unprocessable(index, engine_failure_letter(stored, e)) from e
            if stored.event.type in DOCUMENT_TYPES:
                documents += 1
            if outputs:
                counted.extend(outputs)
                events.extend(outputs_to_events(outputs, stored.event))
        tally.documents += documents
        tally.count(counted)
        tally.unprocessable.extend(skipped.values())
        return state, events

    def _state_before_batch(self) -> dict[str, Any]:
        """The engine state committed with the checkpoint: the state the batch in hand started from."""
        cp = self.store.load_checkpoint(self.name)
        return self.engine.initial_state() if cp.state is None else self.engine.restore(cp.state)

    def backlog(self, limit: int | None = None) -> int:
        """Documents not yet processed (for progress bars), up to `limit` when given, counted by the store. `run`
        asks before each pass: reading them to count them held every event of a catch-up's backlog in memory at
        once (~4 KB each), and the process kept that peak as its size (outside trial 18, M3)."""
        count = self.store.count(types=ENGINE_INPUT_TYPES, after=self.store.checkpoint_position(self.name))
        return count if limit is None else min(count, limit)


RULES_IN_USE = "rules"  # a checkpoint of its own: the fingerprint of the rules the runner reads with, and since when


@dataclass(frozen=True)
class RulesChange:
    """The rules changed since the runner last started: the documents up to `position` were read by the earlier
    ones (`before`), and are not read again."""

    before: str
    now: str
    position: int
    # Only the detections' `thread_by` changed (the digest of the rules without it, `alerts`, is the one recorded
    # at the last start, on the same release): the alerts are the same, only their threads are not.
    threads_only: bool = False


def note_rules(store: Store, fingerprint: str, alerts: str | None = None) -> RulesChange | None:
    """Record the rules the runner reads with (fingerprint.rules_fingerprint), next to its checkpoint; the change
    when they differ from those of its last start and it has read documents with those. A change of rules applies
    to the documents read after it: the log's earlier ones are not read again (a backtest shows what the new rules
    would have raised over them)."""
    seen = store.load_checkpoint(RULES_IN_USE)
    before = (seen.state or {}).get("fingerprint")
    if before == fingerprint:
        return None
    position = store.checkpoint_position(ENGINE_PROCESSOR)
    state = {"fingerprint": fingerprint, **({"alerts": alerts} if alerts is not None else {})}
    try:
        store.commit(RULES_IN_USE, Checkpoint(position, state), [], since=seen.position)
    except CheckpointMoved:  # another process recorded its rules meanwhile: it says what changed
        return None
    if before is None or position == 0:
        return None
    from .fingerprint import parse_fingerprint

    same_release = parse_fingerprint(str(before)).version == parse_fingerprint(fingerprint).version
    threads_only = alerts is not None and (seen.state or {}).get("alerts") == alerts and same_release
    return RulesChange(str(before), fingerprint, position, threads_only)


@dataclass(frozen=True)
class OtherStart:
    """What another process recorded when it started on this store (note_rules): its fingerprint, and the watchfloor
    version that fingerprint names when it differs from this process's by the release alone, the same rules
    (fingerprint.other_release; None: other rules, or a fingerprint that cannot say)."""

    fingerprint: str
    release: str | None = None
    # Only the detections' `thread_by` differs (the same release, and the digest of the rules without it, `alerts`,
    # is the one this process reads with): the alerts are the same whichever process reads a document, only the
    # threads of new stories depend on which process delivers them (outside trial 79, left of F4).
    threads_only: bool = False


def other_start_line(other: OtherStart, fingerprint: str, legacy: str | None = None) -> str:
    """What a running `run` says (rich markup) when another process started on its store with another fingerprint.
    The same rules on another release is a rolling upgrade in progress as the README's "Upgrading a running desk"
    does it, one process at a time, so it is told as normal, naming both releases; it said "stop every `watchfloor
    run` on the store, then start the new one" to an operator doing just what the README says (outside trial 78,
    F7). Other rules are still told to stop one: which rules judge a document would depend on which process takes
    it."""
    from .fingerprint import difference, parse_fingerprint

    theirs = f"(fingerprint {other.fingerprint}: {difference(other.fingerprint, fingerprint, legacy)}"
    if other.threads_only:
        return (
            f"[yellow]another process started on this store with other threading[/yellow] (fingerprint "
            f"{other.fingerprint}: only the rules' thread_by differs; this one reads with {fingerprint}). The alerts "
            "are the same whichever process reads a document (thread_by changes no alert and no alert id); while "
            "both run, which thread a new story starts in depends on which process delivers it (each open story "
            "goes on where its messages are): stop the one whose thread_by you no longer want"
        )
    if other.release is not None:
        ours = parse_fingerprint(fingerprint).version or "unknown"
        return (
            f"[yellow]another process started on this store with another watchfloor version[/yellow] {theirs}; this "
            f"one reads with {fingerprint}, release {ours}). A rolling upgrade or rollback in progress, one process "
            f"at a time, is normal: each alert is still delivered once, and until it ends which release judges a "
            f"document depends on which process takes it (`watchfloor status` lists the processes and their "
            f"releases). If it is not an upgrade, stop the process of the release you no longer want "
            f"({other.release} or {ours})"
        )
    return (
        f"[yellow]another process started on this store with other rules[/yellow] {theirs}; this one reads with "
        f"{fingerprint}). If it still runs, which rules judge a document depends on which process takes it: stop "
        "the one you no longer want (to change rules: stop every `watchfloor run` on the store, then start the new "
        "one)"
    )


class OtherRulesWatch:
    """Another process started on this store with other rules (or another release of watchfloor): the fingerprint
    it recorded (note_rules) differs from the one this process reads with. It tells only that the other one started:
    it may have stopped since (a `run --once`). Looked at once per cycle (one checkpoint read); each other fingerprint
    is told once while it stays recorded, and again after this process's own was recorded in its place (a second
    change). While both run, which rules judge a document depends on which process takes it (trial 33, L4: a rolling
    restart during a rules change, and neither `run` said a word; Kafka workers wait for such a member to leave).
    `legacy`: these rules' fingerprint as a release of before the release mark wrote it (legacy_fingerprint), so that
    one is told as another release, as `run`'s start-up line tells it."""

    def __init__(self, store: Store, fingerprint: str, legacy: str | None = None, alerts: str | None = None) -> None:
        self.store = store
        self.fingerprint = fingerprint
        self.legacy = legacy
        self.alerts = alerts  # the digest of these rules without thread_by (note_rules' `alerts`)
        self._told: set[str] = set()

    def other(self) -> OtherStart | None:
        """The other process's fingerprint (and release), the first time it is seen; None otherwise."""
        from .fingerprint import other_release

        seen = self.store.load_checkpoint(RULES_IN_USE).state or {}
        recorded = seen.get("fingerprint")
        if recorded is None:
            return None
        recorded = str(recorded)
        if recorded == self.fingerprint:
            self._told.clear()  # ours again: a later start with other rules is a change of its own, told again
            return None
        if recorded in self._told:
            return None
        self._told.add(recorded)
        release = other_release(recorded, self.fingerprint, self.legacy)
        if release is None and self.alerts is not None and seen.get("alerts") == self.alerts:
            from .fingerprint import parse_fingerprint

            if parse_fingerprint(recorded).version == parse_fingerprint(self.fingerprint).version:
                return OtherStart(recorded, None, threads_only=True)
        return OtherStart(recorded, release)
