"""The worker's three agents as small classes: extract, correlate, notify; and where their records go.

    documents --extract--> correlate --correlate--> detections --notify--> detection sink (store + alerts)
        (doc id)            (group key)   (state table)     (1 partition)
            \\--> signals (an output for observers)   \\--> dead-letters

Every agent takes its records in batches (``compat.take_batches``: the records that have arrived, up to
BATCH_MAX, yielded as soon as no more are coming or ``batch_within`` seconds after the first) and
acknowledges them only after the batch's outputs and state writes were sent. Poison records go to the
dead-letter topic with the reason; no agent crashes on input.

A batch that fails all the same (a send the producer refused or timed out, a table value no layout reads) restarts
the worker at once, crash-only (``batch_failed``): nothing of it is acked, nothing after it is taken, and the fresh
process reads it again from the last commit on the state in the changelog. Faust would restart the agent in place,
on the same stream, and it would go on with the next records: the failed batch's records skipped, commits stuck
before them, and at the next worker start those records read again after later ones had moved the correlate
partitions' ``seen`` past them, so dropped as replays (docs/architecture.md, "nothing lost at a rebalance").

A batch that fails every time does not loop the worker for ever (``BatchRetry``, ``failed_batches``): the failures in a
row are counted across the restarts, each restart after the first waits longer (doubling, capped), and from
``isolate_after`` failures on the batch's records are tried one at a time, those that fail alone dead-lettered with
the reason and their place, unless the failure is not theirs (the broker, a connection; more than one record of a
partition failing alone): that batch is retried, with the backoff, until it goes through.

The agents use only the Faust objects they are given (the app's producer and consumer, streams, the
table); what reaches into faust-streaming's internals is in ``compat``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn, Protocol, runtime_checkable

import orjson

from watchfloor.schemas.events import (
    Correction,
    DeadLetter,
    Detection,
    Event,
    EventType,
    PassedOver,
    Retraction,
    Said,
    correction_event,
    dead_letter_event,
    detection_event,
    edition_of,
    retraction_event,
    signal_event,
    watermark_event,
)
from watchfloor.schemas.topics import TopicNames

from ..engine import Engine
from . import statecodec
from .clients import Availability
from .codec import (
    RESENT,
    WATERMARK,
    Rejected,
    decode_document,
    decode_event,
    encode_event,
    failure_letter,
    is_resent,
    origin_header,
    parse_origin,
    raw_preview,
    record_origin,
    rejected_letter,
)
from .compat import as_current_event, rebalancing, take_batches
from .failed_batches import FailureCounts, RetryPolicy, split_poison
from .late import DEAD_LETTERED, LateDocument, LateLog, MemoryLateLog, late_outcomes
from .partition import ALERT_CHANGES, PartitionCorrelator, forwarded_watermark
from .rules_guard import RULES_HEADER, RulesGuard, parse_rules
from .topics import STATE_MAX_BYTES

log = logging.getLogger(__name__)

CORRECTION = EventType.CORRECTION.value

BATCH_MAX = 1000  # records an agent takes at once (one state write, one watermark per partition)
DELIVERY_LOOK_S = 30.0  # the delivery timer looks at the ledger at least this often (others' rows, redeliveries)
DELIVERY_MIN_S = 0.05  # and never more often than this (a row due now that another process holds)

# How an agent takes its stream's records in batches: compat.take_batches (a test gives one that acks as it likes).
TakeBatches = Callable[[Any, int, float], AsyncIterator[list[Any]]]


class DetectionSink(Protocol):
    """Where the notify agent puts detections (run in a thread): e.g. a store, then the alert dispatcher."""

    def write(self, events: Sequence[Event]) -> int:
        """Keep `events` (detection events) durably; how many were new. Raise to have the batch retried."""
        ...


@runtime_checkable
class DispatchingSink(DetectionSink, Protocol):
    """A sink that also delivers: the worker's delivery timer asks it for the due work between detections."""

    dispatches: bool

    def deliver_due(self) -> float | None:
        """Deliver what is due now; seconds until the next delivery falls due, or None when none is scheduled."""
        ...


class Outputs:
    """The agents' records, handed to the app's producer; each send returns a future of the broker's ack.

    Straight to the producer, not through ``Topic.send``: that path awaits ``App.maybe_start_producer``, a
    mode ``stampede`` wrapper that yields to the event loop three times per record (each yield lets the
    producer's sender run and send a request of its own: ~900 extra produce requests per 20,000 documents,
    BENCHMARKS.md). Same producer, same default partitioner, and Faust still flushes it before committing
    source offsets. Agents call ``start`` before their first send."""

    def __init__(self, app: Any, names: TopicNames) -> None:
        self.app = app
        self.names = names

    async def start(self) -> None:
        await self.app.maybe_start_producer()

    async def send(
        self, topic: str, key: bytes | None, value: bytes, partition: int | None = None, headers: Any = None
    ) -> Awaitable[Any]:
        fut: Awaitable[Any] = await self.app.producer.send(topic, key, value, partition, None, headers)
        return fut

    async def dead_letter(self, dl: DeadLetter, at: datetime) -> Awaitable[Any]:
        ev = dead_letter_event(dl, at)
        return await self.send(self.names.dead_letters, ev.id.encode(), encode_event(ev))


BATCH_FAILED_EXIT = 4  # the worker's exit status when a batch failed and no restart in place was given


def batch_failed(agent: str, exc: BaseException, restart: Callable[[], NoReturn] | None) -> NoReturn:
    """A batch of `agent` raised `exc`: start the worker again now (`restart`: the same command in this process),
    or exit (status BATCH_FAILED_EXIT) when there is none. Neither acks, commits or takes another record: the
    batch and what follows are read again from the last commit, on the state the changelog holds. Letting the
    error out of the agent instead, Faust restarts the agent in place on the same stream, which goes on past the
    failed batch (its records then come back only at a later worker start, behind records that moved on)."""
    log.critical(
        "%s: a batch failed (%s: %s); restarting the worker without committing it (its records are read again)",
        agent,
        type(exc).__name__,
        exc,
        exc_info=exc,
    )
    restart_now(restart)


def restart_now(restart: Callable[[], NoReturn] | None) -> NoReturn:
    """The worker starts again (`restart`), or exits with BATCH_FAILED_EXIT: its logs flushed first."""
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    if restart is not None:
        restart()
    os._exit(BATCH_FAILED_EXIT)


POISON_REASON = "poison record"  # how a dead letter's reason starts when BatchRetry wrote it
REBALANCE_LOOK_S = 0.5  # how often a failed batch's backoff looks whether a rebalance began


def _place(event: Any) -> str:
    return f"{event.message.topic}[{event.message.partition}]"


def _starts(events: Sequence[Any]) -> list[str]:
    """Where a batch starts: the first offset it has of each partition (what the restarted worker reads first)."""
    first: dict[tuple[str, int], int] = {}
    for e in events:
        m = e.message
        first[(m.topic, m.partition)] = min(m.offset, first.get((m.topic, m.partition), m.offset))
    return [record_origin(t, p, o) for (t, p), o in sorted(first.items())]


class BatchRetry:
    """What an agent does with its batches when they fail (``failed_batches``): a batch that raised restarts the
    worker (``batch_failed``), the first time at once with the traceback, then after a wait that doubles each
    failure in a row (one line each: the attempt and the wait); from `policy.isolate_after` failures in a row on,
    the records are processed one at a time and those that fail alone are dead-lettered (stage `stage`, with the
    reason and their topic, partition and offset), unless the failure is not theirs (``split_poison``). The count
    survives the restart (`counts`: a file in the worker's data directory) and is reset by a batch that goes
    through. Errors of `fatal` types are let out as they are (the correlate agent's StateTooLarge)."""

    def __init__(
        self,
        agent: str,
        stage: str,
        outputs: Outputs,
        restart: Callable[[], NoReturn] | None,
        counts: FailureCounts | None = None,
        policy: RetryPolicy | None = None,
        fatal: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.agent = agent
        self.stage = stage
        self.out = outputs
        self.restart = restart
        self.counts = counts if counts is not None else FailureCounts(None)
        self.policy = policy or RetryPolicy()
        self.fatal = fatal
        self.dead_lettered = 0  # records this process dead-lettered after they failed alone

    async def run(self, events: Sequence[Any], process: Callable[[list[Any]], Awaitable[None]]) -> None:
        """`process(events)` as one batch, or (after `isolate_after` failures in a row) one record at a time with
        the poison dead-lettered; on failure the worker restarts (this does not return)."""
        attempts = self.counts.attempts(self.agent)
        try:
            if attempts >= self.policy.isolate_after:
                poison = await split_poison(events, process, _place, self.fatal)
                if poison:
                    await self._dead_letter(poison, attempts)
            else:
                await process(list(events))
        except self.fatal:
            raise
        except Exception as e:
            await self.failed(e, events)
        cleared = self.counts.succeeded(self.agent)
        if cleared is not None:
            log.warning(
                "%s: the batch at %s went through after %d failed attempt(s) in a row",
                self.agent,
                ", ".join(_starts(events)),
                cleared["attempts"],
            )

    async def _dead_letter(self, poison: list[tuple[Any, Exception]], attempts: int) -> None:
        pending = []
        for event, e in poison:
            msg = event.message
            where = record_origin(msg.topic, msg.partition, msg.offset)
            # "poison record" first: what /metrics labels the dead letter with (web.activity.reason_class).
            reason = (
                f"{POISON_REASON}: the {self.agent} batch failed {attempts} times in a row, and this record failed "
                f"alone: {type(e).__name__}: {e}"
            )
            log.error("%s: %s dead-lettered (%s)", self.agent, where, reason)
            letter = DeadLetter(origin=where, reason=reason, raw=raw_preview(event.value), stage=self.stage)
            pending.append(await self.out.dead_letter(letter, _record_time(msg)))
        await asyncio.gather(*pending)  # acknowledged before the batch is: nothing skipped without a record
        self.dead_lettered += len(poison)
        log.error(
            "%s: %d record(s) dead-lettered after %d failed attempts of their batch (%d by this worker process)",
            self.agent,
            len(poison),
            attempts,
            self.dead_lettered,
        )

    async def failed(self, exc: Exception, events: Sequence[Any]) -> NoReturn:
        """The batch raised `exc`: counted, then the worker restarts, after the backoff's wait."""
        at = _starts(events)
        n = self.counts.failed(self.agent, at, f"{type(exc).__name__}: {exc}")
        if n == 1:
            batch_failed(self.agent, exc, self.restart)
        wait = self.policy.wait(n)
        then = "one record at a time" if n >= self.policy.isolate_after else "as one batch"
        log.error(
            "%s: the batch at %s failed again, attempt %d (%s: %s); restarting the worker in %.1fs, to read it %s",
            self.agent,
            ", ".join(at),
            n,
            type(exc).__name__,
            exc,
            wait,
            then,
        )
        await self._wait(wait)
        restart_now(self.restart)

    async def _wait(self, seconds: float) -> None:
        """The backoff, waited in the agent's body: the worker stays in its group (heartbeats go on), nothing of
        this batch is acked and nothing after it taken, and the other agents keep working. Cut short by a
        rebalance: Faust's revocation waits for every record taken to be acked (``Consumer.wait_empty``), so
        waiting on would hold the whole group up for as long."""
        app = getattr(self.out, "app", None)
        left = seconds
        while left > 0:
            if rebalancing(app):
                log.warning("%s: a rebalance began; restarting the worker now rather than holding it up", self.agent)
                return
            step = min(left, REBALANCE_LOOK_S)
            await asyncio.sleep(step)
            left -= step


def _record_time(msg: Any) -> datetime:
    return datetime.fromtimestamp(msg.timestamp, UTC) if msg.timestamp else datetime.now(UTC)


@dataclass
class _Progress:
    """A documents partition as the extract agent has seen it: for watermarks and idleness."""

    offset: int | None = None
    at: float = field(default_factory=time.monotonic)  # monotonic time of its last record
    t: float | None = None  # its watermark: the newest event time seen
    idle: bool = False
    hb: float = 0.0  # when its idle mark was last renewed
    recalled: bool = False  # its watermark before our first record was read back (Extract.recall)


class Extract:
    """documents -> signals (for observers) + signals routed by (detection, group) + watermarks, to correlate.

    One Document per record -> ``Engine.extract`` -> signals, each routed with ``Correlator.routes(sig)`` to
    one record per (detection, group) on the correlate topic, keyed by the group key (everything one
    detection groups on lands in one partition) and carrying its origin header; each signal is also written
    to the signals topic, on the document's partition. Then the partition's watermark goes to every
    correlate partition, once per batch, or sooner when a late signal must follow it.

    With `idle_after` (off by default; for producers that write no watermark records), a documents
    partition caught up and silent for that long is marked idle, and the mark is renewed every
    `idle_after / 2` while it stays so (see PartitionCorrelator for the lease).

    With `recall`, a partition's watermark before the first record this agent takes of it (after a restart or a
    rebalance) is read back from the documents partition (the last watermark record before that offset), so
    lateness is judged as by the worker that had it before, as by one that never stopped and as by a backtest
    of the log; without it the watermark would be unknown, and nothing late, until the publisher's next one."""

    def __init__(
        self,
        app: Any,
        engine: Engine,
        outputs: Outputs,
        *,
        partitions: int,
        batch_within: float,
        idle_after: float | None = None,
        rules: str | None = None,
        restart: Callable[[], NoReturn] | None = None,
        counts: FailureCounts | None = None,
        policy: RetryPolicy | None = None,
        recall: Callable[[dict[int, int]], Awaitable[dict[int, float]]] | None = None,
        batches: TakeBatches = take_batches,
        late_log: LateLog | None = None,
        retry_s: float = 0.5,
    ) -> None:
        self.app = app
        self.batches = batches
        # Where the late documents are counted, per source, once per record (late.py): a worker's store row, read by
        # `status --broker` and /metrics; in memory by default.
        self.late_log: LateLog = late_log if late_log is not None else MemoryLateLog()
        self.retry_s = retry_s  # the first wait before counting a batch's late documents again (doubling, to 30 s)
        # A store that is away fails every try alike: one line when it goes, one when it is back (notify's words).
        self.store = Availability("extract: the store", log, meanwhile="late documents are counted once it is back")
        self.restart = restart  # after a failed batch (batch_failed)
        self.recall = recall  # {partition: first offset} -> {partition: its last watermark record's time before it}
        self.retry = BatchRetry("extract", "extract", outputs, restart, counts, policy)
        self.engine = engine
        # Every routed signal says which rules made it (rules_guard), for the correlator that reads it.
        self.stamp: dict[str, bytes] = {RULES_HEADER: rules.encode()} if rules else {}
        self.out = outputs
        self.names = outputs.names
        self.partitions = partitions
        self.batch_within = batch_within
        self.idle_after = idle_after
        self.heartbeat = idle_after / 2 if idle_after else 0.0
        self.progress: dict[int, _Progress] = {}
        self.resent_read = 0  # documents `produce --resend` sent again that this agent found read before (_one)
        self.passed_over = 0  # late documents no detection reads: counted and logged, not dead-lettered (_one)
        self.late_lettered = 0  # late documents a detection reads: dead-lettered ("late: …") and logged (_one)

    def _progress(self, p: int) -> _Progress:
        pr = self.progress.get(p)
        if pr is None:
            pr = self.progress[p] = _Progress()
        return pr

    def forget(self, partitions: Sequence[int]) -> None:
        """Revoked: whoever gets these partitions next starts their idle clock afresh (so do we, if they return)."""
        for p in partitions:
            self.progress.pop(p, None)

    async def run(self, stream: Any) -> None:
        await self.out.start()
        # Records come in batches (acked after the batch). A partition's watermark is sent once per batch,
        # or sooner when a signal of that partition must follow it: the order of signals and watermark
        # values on each signals partition is the one per-record sending gives, minus the watermarks
        # that a later one overtakes before any signal (which tell downstream nothing more).
        async for events in self.batches(stream, BATCH_MAX, self.batch_within):
            await self.retry.run(events, self._batch)
            if log.isEnabledFor(logging.DEBUG):
                seen: dict[int, list[int]] = {}
                for event in events:
                    seen.setdefault(event.message.partition, []).append(event.message.offset)
                log.debug(
                    "extract: batch %s; watermarks %s",
                    {p: f"{min(o)}..{max(o)}" for p, o in sorted(seen.items())},
                    {p: self._progress(p).t for p in sorted(seen)},
                )

    async def _batch(self, events: list[Any]) -> None:
        await self._recall(events)
        dirty: set[int] = set()
        late: list[LateDocument] = []
        before, passed_before, lettered_before = self.resent_read, self.passed_over, self.late_lettered
        for event in events:
            await self._one(event, dirty, late)
        if late:
            await self._count_late(late)
        passed, lettered = self.passed_over - passed_before, self.late_lettered - lettered_before
        if passed or lettered:
            # Both in one line: the dead-lettered ones are the late reports that can change an alert (outside trial
            # 77, F3: only the passed-over ones were logged). "So far" is this process's: a record read again after
            # a restart counts again here, once in the store (`status --broker`).
            log.info(
                "extract: %d late document(s): %d passed over (no detection reads them), %d dead-lettered (a "
                "detection reads them: 'late: …' reports) (this process so far: %d passed over, %d dead-lettered)",
                passed + lettered,
                passed,
                lettered,
                self.passed_over,
                self.late_lettered,
            )
        if self.resent_read > before:
            log.info(
                "extract: %d re-sent document(s) (produce --resend) already read: older than the watermark minus the "
                "lateness, not reported late (%d so far)",
                self.resent_read - before,
                self.resent_read,
            )
        for p in sorted(dirty):
            await self._send_watermark(p, self._progress(p))

    async def _count_late(self, late: list[LateDocument]) -> None:
        """A batch's late documents into the late log before the batch is acknowledged, retried until it takes them
        (a store that is away holds this agent up, as it holds notify's): a count lost there is lost for good, and
        one saved twice is not (the log leaves out what it counted before, by offset)."""
        delay = self.retry_s
        while True:
            try:
                await asyncio.to_thread(self.late_log.add, late)
            except Exception as e:
                log.debug("extract: counting late documents failed; retrying in %.1fs", delay, exc_info=True)
                self.store.down(e)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            self.store.up()
            return

    async def _recall(self, events: list[Any]) -> None:
        """The watermark of each partition first seen here, as it stood before its first record (the committed
        offset): the publisher's watermark records are not read again, and only a new one would set it."""
        if self.recall is None:
            return
        first: dict[int, int] = {}
        for event in events:
            p = event.message.partition
            if p not in first and not self._progress(p).recalled:
                first[p] = event.message.offset
        if not first:
            return
        marks = await self.recall(first)  # a failure fails the batch: retried, never judged without it
        for p in first:
            pr = self._progress(p)
            pr.recalled = True
            t = marks.get(p)
            if t is not None and (pr.t is None or t > pr.t):
                pr.t = t  # already passed on to the correlate partitions by whoever read it first
            log.info("extract: documents partition %s from offset %s, watermark %s", p, first[p], pr.t)

    async def _one(self, event: Any, dirty: set[int], late: list[LateDocument] | None = None) -> None:
        """One documents record: its signals sent, its partition marked `dirty` when its watermark moved, and its late
        outcomes added to `late` (the batch's, counted once it ends: _count_late)."""
        msg = event.message
        p, offset = msg.partition, msg.offset
        origin = record_origin(msg.topic, p, offset)
        pr = self._progress(p)
        pr.offset, pr.at = offset, time.monotonic()
        try:
            ev = decode_event(event.value)
            if ev.type == WATERMARK:  # a publisher's marker: this partition has seen time `time`
                t_mark = ev.payload.get("time")
                if not isinstance(t_mark, int | float):
                    raise Rejected("watermark without a numeric time", "payload.time")
                if self._advance(float(t_mark), pr):
                    dirty.add(p)
                return
            doc = decode_document(ev)
        except Rejected as r:
            log.warning("extract: %s rejected: %s", origin, r.reason)
            await self.out.dead_letter(rejected_letter(r, origin, event.value, "ingest"), _record_time(msg))
            return
        try:
            sigs = self.engine.extract(doc)
        except Exception as e:  # an extractor bug must not stop the stream
            log.exception("extract: extractor failed on %s (%s)", doc.id, origin)
            await self.out.dead_letter(failure_letter("extractor", e, origin, event.value, "extract"), doc.published_at)
            return
        # Its effective time (a future date clamped to when it was received) and the reports of a clamp or of
        # lateness for this partition's watermark (the publisher's): the document is processed either way.
        t, on_time, reports = self.engine.arrival(doc, ev.origin, ev.received_at, pr.t, ev.line)
        # Sent again by `produce --resend` (codec.RESENT) and older than this partition's watermark minus the
        # lateness: read here when it was first sent, so not reported again (late, as it is not). Its signals go on,
        # marked: a correlate partition drops those it applied and takes them as new if it lost its state.
        resent = is_resent(event.headers)
        read_before = resent and pr.t is not None and t < pr.t - self.engine.lateness
        if read_before:
            self.resent_read += 1
        names = self.names
        when = datetime.fromtimestamp(t, UTC)
        item = edition_of(doc.id)
        # An edition beyond the lateness changes no alert (engine/corrections.py): no Correction, and its signals go
        # to observers only, routed to no group.
        late_edit = item is not None and self.engine.late_edit(doc, t)
        if not on_time and reports:
            # A late document no detection reads is passed over (counted), not dead-lettered: as `run` and a backtest
            # decide it (Engine.late_reports), so a backfill's letters do not drown those that can change an alert.
            reports = self.engine.late_reports(reports, doc.id, sigs, observed=not late_edit, origin=ev.origin)
        for report in reports if not read_before else ():
            if isinstance(report, DeadLetter):
                await self.out.dead_letter(report, doc.published_at)
            elif isinstance(report, PassedOver):
                self.passed_over += 1
        outcomes = late_outcomes(p, offset, reports) if not read_before else []
        self.late_lettered += sum(1 for d in outcomes if d.outcome == DEAD_LETTERED)
        if late is not None:
            late.extend(outcomes)
        if late_edit and not read_before:
            await self.out.dead_letter(self.engine.late_edit_report(doc, t, ev.origin, ev.line), doc.published_at)
        if item is not None and not late_edit:
            # A feed item edited in place: every correlate partition may hold what its earlier versions said
            # (their signals went where their groups are), so each is told, before the edition's own signals
            # (engine/corrections.py). Editions are rare: a record per partition costs nothing.
            said = tuple(Said(name=s.name, modality=s.modality, captures=s.captures) for s in sigs)
            value = encode_event(
                correction_event(Correction(document_id=doc.id, item=item, source=doc.source.name, at=when, said=said))
            )
            for c in range(self.partitions):
                await self.out.send(names.correlate, b"", value, c)
        for i, sig in enumerate(sigs):
            sev = signal_event(sig)
            # The signal as an output for observers (nothing in the pipeline reads it back) ...
            await self.out.send(names.signals, doc.id.encode(), encode_event(sev), p)
            if late_edit:
                continue
            # ... and routed: one record per (detection, group), keyed by the group, at its effective time.
            for j, (_det_id, gkey) in enumerate(self.engine.correlator.routes(sig)):
                routed = Event(id=sev.id, type=sev.type, time=when, key=gkey, payload=sev.payload)
                hdr = origin_header(p, offset, i, j) | self.stamp | (RESENT if resent else {})
                await self.out.send(names.correlate, gkey.encode(), encode_event(routed), None, hdr)
        # A document with an origin moves no watermark itself: the publisher's records carry the per-origin
        # watermark. One without (a producer that writes none) is its partition's in-order clock, as before.
        if ev.origin is None and on_time and self._advance(t, pr):
            dirty.add(p)

    @staticmethod
    def _advance(t: float, pr: _Progress) -> bool:
        """A documents partition has seen time t: whether its watermark moved (or it stopped being idle)."""
        if pr.t is None or t > pr.t or pr.idle:
            pr.t = t if pr.t is None else max(t, pr.t)
            pr.idle = False
            return True
        return False

    async def _send_watermark(self, p: int, pr: _Progress, *, idle: bool = False) -> None:
        """Documents partition p has passed time pr.t: tell every correlate partition."""
        value = encode_event(watermark_event(p, pr.t, idle=idle))
        for c in range(self.partitions):
            await self.out.send(self.names.correlate, b"", value, c)

    async def mark_idle(self) -> None:
        """Tell downstream that a caught-up, silent documents partition holds nothing back (a timer)."""
        idle_after = self.idle_after
        if not idle_after:
            return
        await self.out.start()
        consumer = self.app.consumer
        try:
            assigned = [tp for tp in consumer.assignment() if tp.topic == self.names.documents]
        except Exception:  # not started / rebalancing
            return
        now = time.monotonic()
        for tp in assigned:  # heartbeats: an idle marker lasts only as long as it is renewed
            pr = self._progress(tp.partition)
            if pr.idle and now - pr.hb >= self.heartbeat:
                pr.hb = now
                await self._send_watermark(tp.partition, pr, idle=True)
        quiet = [
            tp
            for tp in assigned
            if not self._progress(tp.partition).idle and now - self._progress(tp.partition).at >= idle_after
        ]
        for tp in quiet:
            pr = self._progress(tp.partition)
            try:
                # The highwater of the last fetch response: known without a request (an idle partition is
                # still fetched, so it stays current). Asking the broker instead goes through the consumer
                # thread and waits behind its long-poll fetch (about a second here).
                hw = consumer.highwater(tp)
                if hw is None:
                    hw = (await consumer.highwaters(tp)).get(tp)
                pos = pr.offset + 1 if pr.offset is not None else await consumer.position(tp)
            except Exception:
                log.debug("idle check of %s failed", tp, exc_info=True)
                continue
            if hw is None or pos is None or pos < hw or pr.idle or time.monotonic() - pr.at < idle_after:
                continue  # behind, or a record arrived while we asked
            pr.idle = True
            pr.hb = time.monotonic()
            log.info("extract: %s idle at watermark %s", tp, pr.t)
            await self._send_watermark(tp.partition, pr, idle=True)


# The old layout of a correlate partition's state: ONE table value, the whole state (plain JSON passed the
# producer's and the broker's 1 MB defaults at a few hundred rules, so it was written zlib-compressed behind this
# marker; values that start with "{" are older still). Still read (statecodec.decode_head), written out in the
# per-group layout at the partition's next write; encode_state stays as that format's writer (tests, benchmark).
STATE_ZLIB = statecodec.OLD_ZLIB
STATE_ZLIB_LEVEL = statecodec.ZLIB_LEVEL


STATE_TOO_LARGE_EXIT = 3  # the worker's exit status when a record of a partition's state is over STATE_MAX_BYTES


class StateTooLarge(RuntimeError):
    """A record of a correlate partition's state is over STATE_MAX_BYTES: the worker stops rather than lose it."""


def encode_state(state: dict[str, Any], part: int) -> bytes:
    """The OLD layout's table value of partition `part`'s state (the whole state): the marker, then its JSON
    compressed; StateTooLarge past STATE_MAX_BYTES."""
    plain = orjson.dumps(state)
    packed = STATE_ZLIB + zlib.compress(plain, STATE_ZLIB_LEVEL)
    if len(packed) > STATE_MAX_BYTES:
        raise StateTooLarge(f"correlate partition {part}: its state is {len(packed):,} bytes compressed")
    return packed


def decode_state(raw: bytes, part: int) -> Any:
    """The JSON of an OLD layout table value, compressed (STATE_ZLIB) or plain (written before compression)."""
    _head, whole = statecodec.decode_head(raw, part)
    if whole is None:
        raise ValueError(f"correlate partition {part}: its table value is a head of the per-group layout")
    return whole


def _too_large(part: int, e: statecodec.RecordTooLarge, limit: int) -> StateTooLarge:
    what = (
        f"its head record (the partition-wide state and the {e.records:,} records the batch changed)"
        if e.what == str(part)
        else f"record {e.what!r}"
    )
    return StateTooLarge(
        f"correlate partition {part}: {what} is {e.packed:,} bytes compressed ({e.raw:,} raw), over "
        f"the {limit:,}-byte limit of one changelog record; not written, and the worker exits "
        f"(status {STATE_TOO_LARGE_EXIT}) before committing the batch. Spread the groups over more correlate "
        "partitions (a new prefix with more --partitions) or load fewer or narrower rules (shorter "
        "within/lateness, fewer groups)"
    )


@dataclass
class _Touched:
    """What a batch may have changed in a partition's state: the candidates ``statecodec.encode`` compares
    (None: all of them). Over-inclusive is harmless (an unchanged record is not written); missing one would
    lose it, so anything not known exactly (a correction, a rebuild) makes it all."""

    groups: set[str] | None = field(default_factory=set)
    hours: set[int] | None = field(default_factory=set)
    ids: set[str] = field(default_factory=set)  # applied ids added by the batch


class Correlate:
    """correlate -> detections: ``PartitionCorrelator`` per correlate partition, its state in the table.

    A batch at a time: each partition's state is read once, updated record by record, and written once,
    after the broker has acknowledged the detections it produced (a worker that dies in between processes
    the batch again and re-sends the same deterministic outputs). The table holds a partition's state as a
    head, one record per detection group and one per hour of applied ids (``statecodec``); a batch writes the
    head and the records it changed. `audit` (tests): every record is compared, and a change the batch's
    candidates missed raises; so does a table that, read back after the batch, gives another state than the
    one in memory."""

    def __init__(
        self,
        table: Any,
        correlator: PartitionCorrelator,
        outputs: Outputs,
        *,
        batch_within: float,
        guard: RulesGuard | None = None,
        audit: bool = False,
        restart: Callable[[], NoReturn] | None = None,
        counts: FailureCounts | None = None,
        policy: RetryPolicy | None = None,
        batches: TakeBatches = take_batches,
        state_max_bytes: int = STATE_MAX_BYTES,
        encode: Callable[..., tuple[statecodec.Write, statecodec.Layout] | None] = statecodec.encode,
    ) -> None:
        self.table = table
        self.batches = batches
        self.state_max_bytes = state_max_bytes  # a record of a partition's state is at most this (StateTooLarge)
        # the records a batch writes (statecodec.encode; the audit's test gives a writer that loses one)
        self.encode = encode
        self.restart = restart  # after a failed batch (batch_failed)
        self.retry = BatchRetry("correlate", "correlate", outputs, restart, counts, policy, fatal=(StateTooLarge,))
        self.guard = guard  # signals routed by a worker with other rules: logged (the state takes them all the same)
        self.pc = correlator
        self.out = outputs
        self.batch_within = batch_within
        self.audit = audit
        # partition -> (the head this agent last wrote or read, the partition's pointer then, the state it holds, its
        # records' layout): the next batch takes the state as it is instead of decoding it again, as long as the
        # table still holds that head and that pointer (a rebalance or a recovery that changed either restores
        # from the table; every write has a new head and a new pointer).
        self._written: dict[int, tuple[bytes | None, bytes | None, dict[str, Any], statecodec.Layout]] = {}

    def _load(self, part: int) -> tuple[dict[str, Any], statecodec.Layout]:
        """The state of `part` as the table holds it: a head and its records, or a whole state of the old layout."""
        pre, own = statecodec.prefix(part), statecodec.pointer_key(part)
        keys = [k for k in self.table.keys() if isinstance(k, bytes) and (k.startswith(pre) or k == own)]
        got = statecodec.read(part, [(k, self.table.get(k)) for k in keys])
        if got is None:
            return self.pc.new_state(), statecodec.Layout()
        st, lay = got
        return self.pc.restore(st), lay

    def _current(self, part: int) -> tuple[dict[str, Any], statecodec.Layout]:
        """The state of `part`: the one in memory if the table still holds the head and the pointer it was last
        written or read with (taken out of the cache: the batch changes it in place, and a batch that fails leaves
        no trace); else read from the table."""
        kept = self._written.pop(part, None)
        if kept is not None and kept[3].key is not None:
            head, ptr, st, lay = kept
            if self.table.get(lay.key) == head and self.table.get(statecodec.pointer_key(part)) == ptr:
                return st, lay
        return self._load(part)

    def _keep(self, part: int, st: dict[str, Any], lay: statecodec.Layout) -> None:
        """The state the table now holds for `part`, kept for the next batch (``_current``)."""
        if lay.key is not None:
            ptr = self.table.get(statecodec.pointer_key(part))
            self._written[part] = (self.table.get(lay.key), ptr, st, lay)

    def _one(
        self,
        st: dict[str, Any],
        ev: Event,
        part: int,
        origin: Any,
        groups: set[str] | None = None,
        resent: bool = False,
    ) -> list[Detection | Retraction | DeadLetter]:
        if ev.type == WATERMARK:
            return self.pc.on_watermark(st, ev, part)
        if ev.type == CORRECTION:
            return self.pc.on_correction(st, ev)
        if ev.type in ALERT_CHANGES:
            return self.pc.on_alert(st, ev, origin, groups)
        if resent:
            return self.pc.on_signal(st, ev, origin, groups, resent=True)
        return self.pc.on_signal(st, ev, origin, groups)

    def _tracked(
        self,
        st: dict[str, Any],
        ev: Event,
        part: int,
        origin: Any,
        touched: _Touched,
        known_hours: Iterable[int],
        resent: bool = False,
    ) -> list[Detection | Retraction | DeadLetter]:
        """``_one``, noting in `touched` what it may have changed: a signal the group the correlator files it
        under (``PartitionCorrelator.on_signal``'s `groups`: not the record's key, which a worker with other rules
        may have routed to another group) and the hour of the id it applied; a watermark the groups its
        sweep visits (those due before the new sweep bound, looked up in the heap as it was), the dormant groups it
        forgot (sweep.MAX_DORMANT) and, when it pruned applied ids, the hours up to the oldest one left; a
        correction anything."""
        cs = st["cs"]
        done = st["done"]
        n_done = len(done)
        if ev.type == WATERMARK:
            heap = list(cs.get("q", ()))  # the entries only (no copy of what they hold)
            dormant = list(cs.get("dq", ()))  # those a sweep may forget (sweep.MAX_DORMANT)
            xc = cs.get("xc")
            out = self._one(st, ev, part, origin)
            if cs.get("xc") != xc and touched.groups is not None:
                touched.groups |= statecodec.due_before(heap, cs["xc"])
                groups = cs["g"]
                touched.groups |= {gkey for _lf, gkey in dormant if gkey not in groups}
            if st["done"] is not done and touched.hours is not None:
                oldest = min(st["done"].values(), default=None)
                top = statecodec.bucket_of(oldest) if oldest is not None else None
                touched.hours |= {b for b in known_hours if top is None or b <= top}
            return out
        if ev.type == CORRECTION:
            touched.groups = None
            return self._one(st, ev, part, origin)
        if ev.type in ALERT_CHANGES:  # a derived group (its key in touched.groups) and the head's "seen"
            return self._one(st, ev, part, origin, touched.groups)
        out = self._one(st, ev, part, origin, touched.groups, resent)
        if len(done) > n_done and st["done"] is done and touched.hours is not None:
            new = next(reversed(done))  # a signal applies at most one id, appended
            touched.ids.add(new)
            touched.hours.add(statecodec.bucket_of(done[new]))
        return out

    async def run(self, stream: Any) -> None:
        await self.out.start()
        async for events in self.batches(stream, BATCH_MAX, self.batch_within):
            try:
                await self.retry.run(events, self.process)
            except StateTooLarge as e:
                # Exited on, not raised: nothing of the batch is acked or committed (take_batches acks only a body
                # that finished; exiting holds even if an ack path changed), and the next owner of the partition
                # stops the same way, loudly, until the state fits (never a silent loss).
                log.critical("correlate: %s", e)
                for handler in logging.getLogger().handlers:
                    handler.flush()
                sys.stderr.flush()
                os._exit(STATE_TOO_LARGE_EXIT)

    async def process(self, events: Sequence[Any]) -> None:
        """One batch of correlate records (Faust events: `.message`, `.value`, `.headers`): outputs sent and
        acknowledged, then each partition's changed records written once."""
        names = self.out.names
        states: dict[int, dict[str, Any]] = {}
        layouts: dict[int, statecodec.Layout] = {}
        touched: dict[int, _Touched] = {}
        last: dict[int, Any] = {}  # partition -> its last event in the batch
        upto: dict[int, int] = {}  # partition -> the highest offset of the batch: its head's position (statecodec)
        applied: dict[int, list[tuple[Event, int, Any, bool]]] = {}  # for a rebuild after a correlator bug
        pending = []
        dropped = self.pc.resent_dropped
        for event in events:
            msg = event.message
            part = msg.partition
            origin = record_origin(msg.topic, part, msg.offset)
            if part not in states:
                states[part], layouts[part] = self._current(part)
                touched[part] = _Touched()
                applied[part] = []
            st = states[part]
            last[part] = event
            upto[part] = max(upto.get(part, -1), msg.offset)
            at = _record_time(msg)
            resent = is_resent(event.headers)
            try:
                ev = decode_event(event.value)
                headers = parse_origin(event.headers)
                if ev.type not in (WATERMARK, CORRECTION, EventType.SIGNAL.value) and not (
                    self.pc.composes and ev.type in ALERT_CHANGES
                ):
                    raise Rejected(f"event type {ev.type!r} does not belong on the correlate topic", "type")
                if ev.type == EventType.SIGNAL.value:
                    at = ev.time
                    if self.guard is not None:
                        self.guard.check(parse_rules(event.headers), origin)
                outputs = self._tracked(st, ev, part, headers, touched[part], layouts[part].hour_ids, resent)
            except Rejected as r:
                log.warning("correlate: %s rejected: %s", origin, r.reason)
                pending.append(await self.out.dead_letter(rejected_letter(r, origin, event.value, "correlate"), at))
                continue
            except Exception as e:  # a correlator bug: this record leaves no trace in the state
                log.exception("correlate: failed on %s", origin)
                letter = failure_letter("correlator", e, origin, event.value, "correlate")
                pending.append(await self.out.dead_letter(letter, at))
                # The table still holds the state before the batch (it is written at the end): from there.
                st, layouts[part] = self._load(part)
                states[part] = st
                touched[part] = _Touched(groups=None, hours=None)  # compared whole: rare
                for ev_ok, p_ok, h_ok, r_ok in applied[part]:
                    self._one(st, ev_ok, p_ok, h_ok, None, r_ok)  # outputs already sent: rebuild state only
                continue
            applied[part].append((ev, part, headers, resent))
            for n, o in enumerate(outputs):
                if isinstance(o, Detection | Retraction):
                    # Revisions and retractions go the same way as detections: to the one notify partition,
                    # in the order raised, so the store's log (and the alerts that stand) follow them.
                    dev = detection_event(o) if isinstance(o, Detection) else retraction_event(o)
                    log.debug("correlate: %s %s %s", dev.type, dev.id, o.group)
                    value = encode_event(dev)
                    pending.append(await self.out.send(names.detections, dev.id.encode(), value))
                    # An input detection's alert change, to the partition of each derived group it feeds (its
                    # origin: this record and the output's place, the same when the batch is processed again).
                    for j, (_det_id, gkey) in enumerate(self.pc.alert_routes(o)):
                        hdr = origin_header(part, msg.offset, n, j, self.pc.stamp_of(o))
                        routed = encode_event(
                            Event(id=dev.id, type=dev.type, time=dev.time, key=gkey, payload=dev.payload)
                        )
                        pending.append(await self.out.send(names.correlate, gkey.encode(), routed, None, hdr))
                else:
                    pending.append(await self.out.dead_letter(o, at))
        for part, st in states.items():
            # How far this partition has applied the documents' watermarks, told to every correlate partition after
            # the batch's alert changes (PartitionCorrelator.to_forward): a derived group sweeps no further.
            told = self.pc.to_forward(st, part)
            if told is not None:
                value = encode_event(forwarded_watermark(part, told))
                for c in range(self.pc.correlate_partitions):
                    pending.append(await self.out.send(names.correlate, b"", value, c))
            for level, low in self.pc.to_forward_levels(st):  # (one per level below the top: partition.py, LEVELS)
                value = encode_event(forwarded_watermark(part, low, level))
                for c in range(self.pc.correlate_partitions):
                    pending.append(await self.out.send(names.correlate, b"", value, c))
        if self.pc.resent_dropped > dropped:
            log.info(
                "correlate: %d re-sent signal(s) (produce --resend) dropped: older than what the partition still tells "
                "apart, applied when their documents were first sent (%d so far)",
                self.pc.resent_dropped - dropped,
                self.pc.resent_dropped,
            )
        if pending:
            # Outputs acknowledged before the state that produced them is written.
            await asyncio.gather(*pending)
        for part, st in states.items():
            lay, t = layouts[part], touched[part]
            try:
                if self.audit:
                    self._audit(part, st, lay, t)
                got = self.encode(part, st, lay, t.groups, t.hours, self.state_max_bytes, t.ids, at=upto[part])
            except statecodec.RecordTooLarge as e:
                raise _too_large(part, e, self.state_max_bytes) from None
            if got is None:
                self._keep(part, st, lay)
                if self.audit:
                    self._audit_restore(part, st)
                continue
            w, new_lay = got
            # The head first: it carries the batch's changes, so any prefix of these records that reaches the
            # changelog restores this batch's state; under its position, so that a zombie's late head cannot
            # replace it (statecodec).
            with as_current_event(last[part]):
                self.table[w.key] = w.head
                for k, v in w.puts:
                    self.table[k] = v
                for k in w.deletes:
                    if k in self.table:
                        del self.table[k]  # a tombstone in the changelog
                if w.pointer is not None:
                    self.table[statecodec.pointer_key(part)] = w.pointer
            self._keep(part, st, new_lay)
            if self.audit:
                self._audit_restore(part, st)
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "correlate [%d] low=%s src=%s: %d record(s) written, %d deleted",
                    part,
                    st["low"],
                    st["src"],
                    len(w.puts) + 1,
                    len(w.deletes),
                )

    def _audit_restore(self, part: int, st: dict[str, Any]) -> None:
        """What a restore would read from the table now is the state in memory (the sweep heap aside: the live
        one keeps stale entries that the sweep skips, the rebuilt one has none); else the batch lost a change."""

        def plain(s: dict[str, Any]) -> dict[str, Any]:
            # (the dormant groups' heap aside too, for the same reason, and their count where it is 0: a restore
            # gives a state without dormant groups neither key, as one that never had any)
            cs = {k: v for k, v in s["cs"].items() if k not in ("q", "dq") and (k != "dn" or v)}
            out: dict[str, Any] = orjson.loads(orjson.dumps({**s, "cs": cs}))
            return out

        kept, restored = plain(st), plain(self._load(part)[0])
        if kept != restored:
            g1, g2 = kept["cs"].pop("g"), restored["cs"].pop("g")
            groups = sorted(k for k in set(g1) | set(g2) if g1.get(k) != g2.get(k))
            rest = sorted(k for k in set(kept) | set(restored) if kept.get(k) != restored.get(k))
            raise AssertionError(
                f"correlate partition {part}: the table restores another state than the one in memory: "
                f"groups {groups!r}, and {rest!r}"
            )

    @staticmethod
    def _audit(part: int, st: dict[str, Any], lay: statecodec.Layout, t: _Touched) -> None:
        """Every record compared: a change outside the batch's candidates is a bug in ``_tracked``."""
        full = statecodec.encode(part, st, lay, None, None, 1 << 62)
        if full is None or t.groups is None or lay.whole:  # all compared anyway
            return
        w, _ = full
        keys = set(w.changed)  # logical keys (a record's own key carries its position)
        want = {statecodec.group_key(part, g) for g in t.groups} | lay.rewrite
        want |= {statecodec.done_key(part, b) for b in (t.hours or ())}
        missed = {k for k in keys if k not in want and not (t.hours is None and b"/d/" in k)}
        if missed:
            raise AssertionError(f"correlate partition {part}: changed but not among the candidates: {sorted(missed)}")


class Notify:
    """detections -> the detection sink (store, then the alert dispatcher), on a one-partition topic so that
    exactly one worker dispatches. A batch is retried until the sink takes it: offsets never move past
    detections that are not kept."""

    def __init__(
        self,
        sink: DetectionSink | None,
        outputs: Outputs,
        *,
        batch_within: float,
        retry_s: float = 0.5,
        restart: Callable[[], NoReturn] | None = None,
        counts: FailureCounts | None = None,
        policy: RetryPolicy | None = None,
        batches: TakeBatches = take_batches,
    ) -> None:
        self.sink = sink
        self.batches = batches
        self.restart = restart  # after a failed batch (batch_failed)
        self.retry = BatchRetry("notify", "notify", outputs, restart, counts, policy)
        self.out = outputs
        self.batch_within = batch_within
        self.retry_s = retry_s  # the first wait before writing a batch again (doubling, capped at 30 s)
        self._wake: asyncio.Event | None = None  # set after each write: the delivery timer recomputes its wait
        # A store that is away (PostgreSQL restarting, a full disk) fails every retry alike: one line when it
        # goes, one when it is back, as for the broker (the tracebacks at debug level).
        self.store = Availability("notify: the store", log, meanwhile="detections are kept on the topic and retried")

    @property
    def delivers(self) -> bool:
        return isinstance(self.sink, DispatchingSink) and self.sink.dispatches

    async def deliver_on_time(self) -> None:
        """The delivery timer (a task of every worker whose sink dispatches): runs the dispatcher when the
        ledger's next delivery or digest falls due, so a failed delivery is retried on its backoff, and a
        digest sent at its time, while no new detection arrives; and at start, what is outstanding. It waits
        on the event loop (never a sleep in the dispatcher), woken early by each write, which may have
        scheduled something sooner."""
        sink = self.sink
        assert isinstance(sink, DispatchingSink)
        self._wake = asyncio.Event()
        while True:
            self._wake.clear()  # before looking: a write from now on wakes the wait below
            try:
                due = await asyncio.to_thread(sink.deliver_due)
                self.store.up()
            except Exception as e:
                log.debug("notify: delivering what is due failed", exc_info=True)
                self.store.down(e, meanwhile=f"deliveries wait; looking again in {DELIVERY_LOOK_S:.0f}s")
                due = None
            wait = DELIVERY_LOOK_S if due is None else min(max(due, DELIVERY_MIN_S), DELIVERY_LOOK_S)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except TimeoutError:
                pass

    async def run(self, stream: Any) -> None:
        await self.out.start()
        topic = self.out.names.detections
        async for batch in self.batches(stream, BATCH_MAX, self.batch_within):
            await self.retry.run(batch, lambda events: self._batch(events, topic))

    async def _batch(self, batch: list[Any], topic: str) -> None:
        """One batch of detection records: into the sink (retried until it takes them), bad ones dead-lettered."""
        events: list[Event] = []
        if log.isEnabledFor(logging.DEBUG):
            log.debug("notify: batch offsets %s", [e.message.offset for e in batch])
        for e in batch:
            raw = e.value
            try:
                ev = decode_event(raw)
                if ev.type not in (EventType.DETECTION.value, EventType.RETRACTION.value):
                    raise Rejected(f"event type {ev.type!r} does not belong on the detections topic", "type")
                if ev.received_at is None:
                    # When the correlate worker raised it (its record's timestamp): /metrics's detection ->
                    # delivered latency counts from there, as it does from the embedded runner's stamp.
                    ev = ev.model_copy(update={"received_at": _record_time(e.message)})
                events.append(ev)
            except Rejected as r:
                # Named by partition and offset, as every other stage's dead letters are (outside trial 60, LOW-1).
                origin = record_origin(topic, e.message.partition, e.message.offset)
                log.warning("notify: %s rejected: %s", origin, r.reason)
                await self.out.dead_letter(rejected_letter(r, origin, raw, "notify"), datetime.now(UTC))
        if not events or self.sink is None:
            return
        await self._keep(events)

    async def _keep(self, events: list[Event]) -> None:
        delay = self.retry_s
        while True:  # the sink must take them before the offsets move on: retry, never drop
            try:
                assert self.sink is not None
                added = await asyncio.to_thread(self.sink.write, events)
            except Exception as e:
                log.debug("notify: store/dispatch failed; retrying in %.1fs", delay, exc_info=True)
                self.store.down(e)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            self.store.up()
            log.info("notify: %d detection(s), %d new", len(events), added)
            if self._wake is not None:
                self._wake.set()
            return
