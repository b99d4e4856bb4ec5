"""Outbox relay: documents already durable in the local store are forwarded to Kafka, position by position.

The producer side of distributed mode. Sources are polled into a SQL store first (so a document is
durable, deduplicated and dead-lettered exactly as in embedded mode), then this relay publishes the new
documents to the documents topic and saves its position only after the broker acknowledged them (or the
publisher spooled them locally). A crash between the two re-publishes at most one batch; consumers
deduplicate by event id, so nothing is lost and nothing is alerted twice.

Event time travels with the documents: the relay follows the log's CaughtUp marks with the engine's
per-origin rule (stream_processors/engine/eventtime.py) and hands the publisher the watermark after each
batch, which it writes to every documents partition. The rule's state is saved in the relay's checkpoint, so
a restarted relay goes on with the same watermark.

The position is kept per target, the topic prefix (`target_checkpoint`): one store can feed several pipelines,
and what it sent to one was never sent to another. Not per broker too: the spool that holds what a broker away did
not take is per prefix and goes to whichever broker answers next (keyed by broker, a spool filled against a wrong
address and drained to the right one re-sent the store too); a pipeline moved to another broker keeps its
position, and one whose topics there are new and empty is seen as such (`restart`, DistributedProducer.check_topics).
A target this store has not sent to starts from the start of its log (consumers dedup by id). A checkpoint
written before targets were recorded (`kafka-relay`, alone) is the position of the first target relayed to after
the upgrade: it is moved there, not re-sent (`adopt_legacy`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from watchfloor.schemas.events import DOCUMENT_TYPES, CaughtUp, Event, EventType, watermark_event
from watchfloor.stream_processors.engine import eventtime as et
from watchfloor.stream_processors.engine.engine import epoch_dated_reason, future_dated_reason
from watchfloor.stream_processors.ports import Checkpoint, CheckpointMoved, CheckpointStore, EventLog, StoredEvent
from watchfloor.stream_processors.processing import pull_and_process

from .poller import MARK_EVERY

log = logging.getLogger(__name__)

LAST_MARK = "m"  # the relay state's key of its newest CaughtUp mark's time (Unix seconds)
RELAY_PROCESSOR = "kafka-relay"
"""The relay's checkpoint before targets were recorded (one per store), and the start of every target's name."""
TARGET_SEPARATOR = ":"


def target_checkpoint(bootstrap: str, prefix: str) -> str:
    """The checkpoint of the relay to one target, `kafka-relay:<prefix>`: the prefix names the pipeline (its topics
    and groups); `bootstrap` is not part of it (module docstring: the spool is per prefix)."""
    del bootstrap
    return f"{RELAY_PROCESSOR}{TARGET_SEPARATOR}{prefix}"


@dataclass(frozen=True)
class WatermarkHolder:
    """The source that holds a pipeline's published watermark back (eventtime.holder), from the relay's state, as of
    a look at `now` (watermark_holder)."""

    origin: str
    watermark: datetime  # its newest on-time report: the watermark
    received: datetime | None  # when its newest document was received: it holds W until idle_after after that
    idle_after: timedelta
    # Whether it had been silent for idle_after at the look: it lets go at the relay's next CaughtUp mark, which moves W
    silent: bool = False
    # The relay's newest CaughtUp mark (None: a state saved before it was kept): a live `produce` records one per poll
    # that reads a new document, else one every MARK_EVERY, so W moves by release_by at the latest
    last_mark: datetime | None = None

    @property
    def until(self) -> datetime | None:
        """When it has been silent for idle_after: from then, the next CaughtUp mark moves W past it."""
        return None if self.received is None else self.received + self.idle_after

    @property
    def release_by(self) -> datetime | None:
        """When, at the latest, a live `produce` records the CaughtUp mark that lets it go: its first quiet mark at
        or after `until` (W moves only at marks, and a poll that reads nothing new records one only every
        MARK_EVERY after the last; outside trial 77, F7: W moved 5 minutes after the time `status` gave). Sooner
        if a poll reads a new document; never if no `produce` runs."""
        if self.until is None or self.last_mark is None:
            return None
        every = timedelta(seconds=MARK_EVERY)
        k = max(1, -(-(self.until - self.last_mark) // every))  # the first quiet mark after the last at/after until
        return self.last_mark + k * every

    def text(self) -> str:
        received = "" if self.received is None else f" (received {self.received.isoformat(timespec='seconds')})"
        head = (
            f"watermark held by source {self.origin}: its newest report is dated "
            f"{self.watermark.isoformat(timespec='seconds')}{received}"
        )
        if self.until is None:
            return head
        silent = (
            f"; it has been silent for event_time.idle_after ({self.idle_after}) since "
            f"{self.until.isoformat(timespec='seconds')}"
            if self.silent
            else f", and holds it until it has been silent for event_time.idle_after ({self.idle_after}) after that: "
            f"from {self.until.isoformat(timespec='seconds')}"
        )
        by = "" if self.release_by is None else f", by {self.release_by.isoformat(timespec='seconds')} at the latest"
        return (
            f"{head}{silent}; it lets go at the first CaughtUp mark a live `produce` records after that (a poll that "
            f"reads a new document, else its quiet mark every {MARK_EVERY / 60:.0f} minutes{by}), when the "
            "watermark moves"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "watermark": self.watermark.isoformat(),
            "received": None if self.received is None else self.received.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
            "silent": self.silent,
            "release_by": None if self.release_by is None else self.release_by.isoformat(),
        }


def watermark_holder(
    store: CheckpointStore, checkpoint: str, idle_after: timedelta, now: datetime | None = None
) -> WatermarkHolder | None:
    """The source holding the watermark the relay to `checkpoint` (target_checkpoint) publishes, from its saved
    state (outside trial 67, MED-3: a finished `produce --once`'s feeds held it for an hour, and nothing said which);
    None when none holds it or the relay has no state. As of `now` (a look's clock): a source silent for idle_after
    by then whose report is the newest of all holds nothing (every source is idle and W is as far as any reached:
    outside trial 77, F7 named one, with a release time in the past); one silent with newer reports elsewhere holds
    W until the relay's next CaughtUp mark (`silent`)."""
    state = store.load_checkpoint(checkpoint).state or {}
    tracker, w = state.get("et"), state.get("w")
    if not isinstance(tracker, dict) or "o" not in tracker:
        return None
    found = et.holder(tracker, w, idle_after.total_seconds())
    if found is None:
        return None
    origin, mark, received = found
    silent = now is not None and received is not None and now.timestamp() >= received + idle_after.total_seconds()
    newest = max((float(entry[0]) for entry in tracker["o"].values() if entry[0] is not None), default=mark)
    if silent and mark >= newest:
        return None
    last_mark = state.get(LAST_MARK)
    return WatermarkHolder(
        origin,
        datetime.fromtimestamp(mark, UTC),
        None if received is None else datetime.fromtimestamp(received, UTC),
        idle_after,
        silent=silent,
        last_mark=None if last_mark is None else datetime.fromtimestamp(float(last_mark), UTC),
    )


def is_relay_checkpoint(name: str) -> bool:
    """Whether a checkpoint is a relay's: the old single one or a target's."""
    return name == RELAY_PROCESSOR or name.startswith(RELAY_PROCESSOR + TARGET_SEPARATOR)


def relay_positions(store: Any) -> dict[str, int]:
    """Every relay checkpoint of the store with its position (the old single one included while it holds one)."""
    listing = getattr(store, "checkpoint_positions", None)
    if listing is None:  # a store that cannot list its checkpoints: the old one only
        return {RELAY_PROCESSOR: store.checkpoint_position(RELAY_PROCESSOR)}
    return {name: position for name, position in listing().items() if is_relay_checkpoint(name)}


FORGOTTEN_RELAYS = "forgotten-relays"
"""A record, at position 0 (no reader: prunes pass it), of the targets `forget_target` forgot: prefix -> the
position it had and when it was forgotten. A store that fed only workers now gone still reads as one that fed
workers (`relayed_position`): its documents are not waiting for an embedded `run`, and a backtest says so."""


class ForgetError(RuntimeError):
    """A relay target cannot be forgotten: the message says why, and what to do, in one line."""


class RelayForgotten(RuntimeError):
    """A running relay's target was forgotten (`store forget-relay`) under it: it stops rather than send the whole
    log again from the start (a produce left running while its pipeline was forgotten)."""


def forget_target(store: Any, name: str, *, now: datetime, dry_run: bool = False) -> tuple[str, int]:
    """Forget the relay to a pipeline that is gone for good: delete its checkpoint (`name`: the prefix, or the
    checkpoint's name as `store prune` shows it), which would otherwise hold every prune back at its position; what
    it had is kept in FORGOTTEN_RELAYS in the same transaction. Returns the checkpoint and its position. A relay to
    it again starts from the start of the log (as a new target's: consumers dedup by id). Refuses any other
    checkpoint, a target this store does not hold (naming those it holds), and one whose relay moved it meanwhile
    (still running). With `dry_run`, only checks."""
    checkpoint = name if is_relay_checkpoint(name) else target_checkpoint("", name)
    positions = relay_positions(store)
    if checkpoint not in positions:
        held = ", ".join(f"{n} at {p:,}" for n, p in sorted(positions.items())) or "none"
        raise ForgetError(f"this store has no relay checkpoint {checkpoint!r}; the relay checkpoints it has: {held}")
    at = positions[checkpoint]
    if dry_run:
        return checkpoint, at
    entry = {"position": at, "at": now.isoformat(timespec="seconds")}
    try:
        # (the entry is merged into the record in the delete's transaction: two forgets at once keep both)
        store.forget_checkpoint(checkpoint, at=at, record=(FORGOTTEN_RELAYS, checkpoint, entry))
    except CheckpointMoved as e:
        raise ForgetError(
            f"{checkpoint} moved from {at:,} to {e.found:,} meanwhile: a `watchfloor produce` still relays to it; "
            "stop it first (a target still relayed to must not be forgotten)"
        ) from None
    log.info("relay checkpoint %s (position %d) forgotten", checkpoint, at)
    return checkpoint, at


def _forgotten_record(store: Any) -> dict[str, Any]:
    """FORGOTTEN_RELAYS' state, a copy: checkpoint name -> {"position", "at"}."""
    return dict(store.load_checkpoint(FORGOTTEN_RELAYS).state or {})


def forgotten(store: Any) -> dict[str, int]:
    """The relay targets forgotten (FORGOTTEN_RELAYS): checkpoint name -> the position it had."""
    return {k: int(v.get("position", 0)) for k, v in _forgotten_record(store).items() if isinstance(v, dict)}


def forgotten_position(store: Any) -> int:
    """The furthest position of the relay targets forgotten (0: none)."""
    return max(forgotten(store).values(), default=0)


def relayed_position(store: Any, target: str | None = None) -> int:
    """How far the relay to `target` has sent this store's log; without a target (a reader that does not know the
    pipeline), the furthest any relay has: whether this store feeds workers at all."""
    positions = relay_positions(store)
    if target is not None:
        # Not yet relayed to since the upgrade: the old checkpoint is what `adopt_legacy` will give it.
        adoptable = _legacy_adoptable(positions) and not forgotten_position(store)
        return positions.get(target) or (positions.get(RELAY_PROCESSOR, 0) if adoptable else 0)
    # A store whose only targets were forgotten still fed workers (FORGOTTEN_RELAYS).
    return max(positions.values(), default=0) or forgotten_position(store)


def _legacy_adoptable(positions: dict[str, int]) -> bool:
    """The old checkpoint holds a position and no target has one yet (once adopted it is set to 0)."""
    return positions.get(RELAY_PROCESSOR, 0) > 0 and not any(
        p > 0 for name, p in positions.items() if name != RELAY_PROCESSOR
    )


def adopt_legacy(store: CheckpointStore, target: str) -> int:
    """Move a checkpoint written before targets were recorded to `target` (the pipeline this store relays to now:
    the common case is one pipeline, which must not get everything again on upgrade); its position, 0 when there
    was none to adopt. The old checkpoint is then set to 0, so a second target does not take it too; should that
    second commit not happen, the target's own position keeps the old one from being adopted again."""
    positions = relay_positions(store)
    # A target forgotten had a position too: what kept the old checkpoint from being adopted again (review of
    # 4fefd2c: forgetting it made the next new target adopt it and skip the documents before it).
    if not _legacy_adoptable(positions) or forgotten_position(store):
        return 0
    old = store.load_checkpoint(RELAY_PROCESSOR)
    try:
        store.commit(target, Checkpoint(old.position, old.state), [], since=positions.get(target, 0))
        store.commit(RELAY_PROCESSOR, Checkpoint(0, {"moved_to": target}), [], since=old.position)
    except CheckpointMoved:  # another producer on this store adopted it first
        return 0
    log.info("relay checkpoint %s (position %d) adopted as %s", RELAY_PROCESSOR, old.position, target)
    return old.position


RESEND_UPTO = "resend_upto"
"""In the relay's checkpoint state after `produce --resend`: the position this target had, up to which the documents
sent go as re-sent (codec.RESENT)."""

RELAYED_TYPES = DOCUMENT_TYPES | {EventType.CAUGHT_UP.value}  # documents, and the marks event time moves at


class Publisher(Protocol):
    def append(self, events: Sequence[Event], resent: Collection[str] = ...) -> int:
        """Send `events`; `resent`: the ids of the documents among them sent to this target again (`produce --resend`:
        KafkaPublisher.append), given only when there are any."""
        ...


class RelayStore(EventLog, CheckpointStore, Protocol):
    """An event log that also keeps checkpoints."""


FutureDated = tuple[str | None, int | None, str]
"""(origin, line, reason) of a document the workers count at its receive time: its source, its line there when known
(Event.line), and the engine's report (future_dated_reason)."""


@dataclass
class RelayStats:
    relayed: int = 0
    batches: int = 0
    # (origin, line, reason) of each document relayed that is dated beyond the workers' skew into the future: they
    # count it at its receive time, and `produce` says so when it sends it (outside trial 27, F3: only the workers'
    # dead-letter topic said it, and a report dated 2099 became the newest alert of its group unannounced); and of
    # each dated at the Unix epoch (eventtime.epoch_dated), which the workers report as well.
    future_dated: list[FutureDated] = field(default_factory=list)


class KafkaRelay:
    """Forwards documents from the store's log to a publisher (e.g. KafkaPublisher), after a checkpoint."""

    def __init__(
        self,
        store: RelayStore,
        publisher: Publisher,
        *,
        batch_size: int = 500,
        skew: timedelta = et.DEFAULT_SKEW,
        idle_after: timedelta = et.DEFAULT_IDLE_AFTER,
        target: str | None = None,
    ) -> None:
        """`target` (target_checkpoint) names the checkpoint; without one, the old single `kafka-relay`."""
        self.store = store
        self.checkpoint = target or RELAY_PROCESSOR
        self.publisher = publisher
        self.batch_size = batch_size
        self.skew = skew.total_seconds()  # the workers' (config): a future date must not move the watermark
        self.idle_after = idle_after.total_seconds()
        self._had_position = False  # this relay saw its target at a position: one back at 0 was forgotten or reset

    def run_once(self) -> RelayStats:
        """Relay what is new in the log (the one pull-and-process loop; the relay's state is its event clock)."""
        stats = RelayStats()
        pending = [0]  # the batch in hand, counted once its checkpoint commit went through
        pending_future: list[FutureDated] = []  # its future-dated documents, said once it is committed
        self._check_not_forgotten()

        def relay(batch: Sequence[StoredEvent], clock: dict[str, Any]) -> tuple[dict[str, Any], list[Event]]:
            events = [se.event for se in batch if se.event.type in DOCUMENT_TYPES]
            # `produce --resend`: the documents up to where this target was are sent to it again, marked so
            # (codec.RESENT: the workers drop those they hold); a batch past that point ends the resend.
            upto = clock.get(RESEND_UPTO)
            resent = (
                [se.event.id for se in batch if se.position <= upto and se.event.type in DOCUMENT_TYPES]
                if upto is not None
                else []
            )
            if upto is not None and batch[-1].position >= upto:
                del clock[RESEND_UPTO]
            moved = self._follow(clock, [se.event for se in batch])
            # After every batch of documents too, moved or not (the publisher writes it to every partition): so the
            # last record of a partition is normally one, and `status` and /metrics, which read a partition's tail,
            # keep the watermark (and its growing age) while documents that do not move it keep coming (outside
            # trial 31, M2: after 16 such documents the series vanished, exactly when its age should have alarmed).
            if moved or (events and clock["w"] is not None):
                events.append(watermark_event(0, clock["w"]))
            if events:
                # Returns once the broker acknowledged every event, or they sit in the fsync'd spool.
                if resent:
                    self.publisher.append(events, resent=frozenset(resent))
                else:
                    self.publisher.append(events)
            pending[0] = sum(1 for se in batch if se.event.type in DOCUMENT_TYPES)
            pending_future[:] = self._future_dated(events)
            return clock, []

        def committed() -> None:
            stats.relayed += pending[0]
            stats.batches += 1
            stats.future_dated.extend(pending_future)

        pull_and_process(
            self.store,
            self.checkpoint,
            RELAYED_TYPES,
            relay,
            batch_size=self.batch_size,
            initial_state=lambda: {"et": et.new_tracker(), "w": None},
            committed=committed,
        )
        self._had_position = self._had_position or self.store.checkpoint_position(self.checkpoint) > 0
        return stats

    def _check_not_forgotten(self) -> None:
        """RelayForgotten when this relay's target, at a position when it last looked, was forgotten since (review of
        4fefd2c: an idle `produce` left running sent the whole log again, and its checkpoint came back)."""
        if not self._had_position or self.store.checkpoint_position(self.checkpoint) > 0:
            return
        if self.checkpoint in forgotten(self.store):
            raise RelayForgotten(
                f"the store's relay checkpoint {self.checkpoint} was forgotten (`watchfloor store forget-relay`) "
                "while this produce relayed to it: stopped rather than send the whole log again; start `watchfloor "
                "produce` again to relay to it from the start"
            )

    def prepare(self, *, resend: bool = False) -> int | None:
        """Before the first pass: adopt an old checkpoint for this target, or with `resend` set this target's back to
        the start. The number of documents the relay will send from the start (this target has no position: it
        was never sent to, or `resend`), else None."""
        if self.checkpoint == RELAY_PROCESSOR:
            return None
        adopt_legacy(self.store, self.checkpoint)  # first, so that a resend leaves no old position to adopt later
        if resend:
            return self.restart(resend=True)
        if self.store.checkpoint_position(self.checkpoint) > 0:
            self._had_position = True
            return None
        record = _forgotten_record(self.store)
        if record.pop(self.checkpoint, None) is not None:  # relayed to again after it was forgotten: no longer so
            self.store.commit(FORGOTTEN_RELAYS, Checkpoint(0, record), [])
        return self.store.count(types=DOCUMENT_TYPES)

    def restart(self, *, resend: bool = False) -> int:
        """Set this target's position back to the start of the log (its topics were made again); the number of
        documents the relay will send. With `resend` (`produce --resend`: to the same topics), the documents up to
        where it was are marked re-sent as they go (RESEND_UPTO, kept in the checkpoint until passed, so a produce
        stopped midway marks the rest when it goes on)."""
        cp = self.store.load_checkpoint(self.checkpoint)
        found = cp.position
        # a resend stopped midway and asked again: up to where the target was before the first
        upto = max(found, int((cp.state or {}).get(RESEND_UPTO) or 0))
        if found > 0:
            state = {"et": et.new_tracker(), "w": None, RESEND_UPTO: upto} if resend else None
            self.store.commit(self.checkpoint, Checkpoint(0, state), [], since=found)
        return self.store.count(types=DOCUMENT_TYPES)

    def _future_dated(self, events: Sequence[Event]) -> list[FutureDated]:
        """(origin, line, reason) of the documents among `events` that the workers will count at their receive time, as
        the engine words it (future_dated_reason)."""
        found: list[FutureDated] = []
        for ev in events:
            if ev.type not in DOCUMENT_TYPES or ev.received_at is None:
                continue
            received = ev.received_at.timestamp()
            t, clamped = et.effective_time(ev.time.timestamp(), received, self.skew)
            if clamped:
                reason = future_dated_reason(ev.id, ev.time, t, timedelta(seconds=self.skew))
                found.append((ev.origin, ev.line, reason))
            elif et.epoch_dated(t):
                # Dated at the Unix epoch (a feed's missing date read as 0): the workers report it too, and it sorts
                # before everything; `produce` says so as it sends it, as `run` does (trial 33, a leftover)
                found.append((ev.origin, ev.line, epoch_dated_reason(ev.id, ev.time)))
        return found

    def _follow(self, clock: dict[str, Any], events: list[Event]) -> bool:
        """Run the per-origin rule over a batch; whether the watermark moved."""
        moved = False
        tracker = clock["et"]
        for ev in events:
            if ev.type == EventType.CAUGHT_UP.value:
                mark = CaughtUp.model_validate(ev.payload)
                clock[LAST_MARK] = mark.at.timestamp()  # when W can move next, for status (WatermarkHolder.release_by)
                candidate = et.caught_up(tracker, mark.origins, mark.at.timestamp(), self.idle_after, clock["w"])
                if candidate is not None and (clock["w"] is None or candidate > clock["w"]):
                    clock["w"] = candidate
                    moved = True
            elif ev.origin is not None:
                # As the engine does, but without lateness: a late document gives its origin at most a watermark
                # behind W, and an origin behind W holds nothing (eventtime.caught_up), so counting it changes nothing.
                received = ev.received_at.timestamp() if ev.received_at is not None else None
                t, clamped = et.effective_time(ev.time.timestamp(), received, self.skew)
                et.note_document(tracker, ev.origin, None if clamped else t, received)
        return moved
