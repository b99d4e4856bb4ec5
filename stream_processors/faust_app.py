"""Distributed runtime: the same engine on Kafka, as faust-streaming agents.

    documents --extract--> correlate --correlate--> detections --notify--> store + alerts
        (doc id)            (group key)   (Faust table)      (1 partition)
            \\--> signals (an output for observers)   \\--> dead-letters

* extract: one Document per record -> ``Engine.extract`` -> signals, each routed with
  ``Correlator.routes(sig)`` to one record per (detection, group) on the correlate topic, keyed by the group
  key (so everything one detection groups on lands in one partition); each signal is also written to the
  signals topic, on the document's partition, for observers. Then a watermark for the documents partition
  goes to every correlate partition. Poison records (not JSON, not an envelope, unknown ``schema_version``,
  not a document, invalid payload, extractor failure) go to the dead-letter topic with the reason; the
  agent never crashes on input. (Routing used to be an agent of its own reading the signals topic back:
  one more Kafka hop and batch wait per signal and watermark, for no gain.)
* correlate: ``Correlator.on_signal(state, sig, only=detection_id)`` with the state in a Faust table
  (changelog topic), so a restarted or rebalanced worker recovers it.
* notify: detections -> the SQL store (deduplicated by id) -> ``dispatcher.run_once()`` (the alerts
  dispatcher with its delivery ledger), on a one-partition topic so exactly one worker dispatches.

Batches. Every agent takes its records in batches (``take_batches``: the records that have arrived, up to
BATCH_MAX, yielded as soon as no more are coming or ``batch_within`` seconds after the first; Faust's
``take_events`` would hold even a lone record for ``batch_within``) and acknowledges them only after the
batch's outputs and state writes were sent.
A batch sends each documents partition's watermark once (the newest), and writes each correlate
partition's state once. Order is kept: a late document's signals (not newer than the partition's newest
time) are sent after the watermark they are late for, as with one watermark per record; an in-order
document's signals are held downstream until a newer watermark anyway, so sending the batch's watermark
after them changes nothing.

What faust-streaming costs, and the two places it is bypassed (BENCHMARKS.md has the measurements).
Fetched records reach the streams through ``_drain_messages`` below, Faust's loop with one change: delivery
runs inline, and only a delivery that has to wait (a rebalance suspended the flow, a full buffer) goes
through Faust's ``wait_first`` (four tasks and an ``asyncio.wait``, formerly per record), so a suspended
flow abandons it as before. Outputs are handed to the app's producer directly (``send`` in ``make_app``):
``Topic.send`` awaits a ``stampede``-wrapped ``maybe_start_producer`` that yields to the event loop three
times per record, and every yield let the producer send a request of its own. Faust still flushes that
producer before it commits source offsets, so the guarantees below are unchanged.

State layout (the table ``correlate-state``): ONE value per correlate partition, keyed by the partition
number. Why not one value per group key: the correlator's state is more than its groups. Its event-time
watermark (used for the lateness check and for closing windows, which is how absences fire and old groups
are dropped) belongs to the stream, not to a group; and to be deterministic the partition must buffer
signals until every upstream partition has passed their event time (below), and that buffer and the
per-source watermarks are per partition too. Keeping them in one value makes every update of a partition
one atomic changelog record (state, buffer, watermarks and dedup set always agree after recovery). The
cost is write amplification: each update rewrites the partition's whole state, which ``_expire`` keeps
small (groups whose windows closed are dropped). For news volumes that is kilobytes per record.

Event-time order. Documents are spread over partitions by id, so two signals for one group can reach the
correlate partition in either order; the correlator's results (throttling, evidence choice) depend on
order. Each correlate partition therefore buffers signals and applies them in event-time order
(published_at, document id, signal name, sentence) once the low watermark -- the minimum over upstream
partitions of the newest time each has seen -- has reached them.

Where time comes from. ``watchfloor.producers.kafka_log.KafkaPublisher`` appends, after each publish, a watermark
record (type ``watermark``, the newest publication time of the batch) to EVERY documents partition, behind
that batch's documents. A partition that got no documents thus still moves on, and the last signals of a
burst are applied as soon as the markers are through: no timers, no guessing. With documents whose times
are in log order, detections then equal those of ``replay(order="event-time")`` and of the embedded runner,
whatever the partitioning, interleaving, number of workers or restarts; a document older than what its
partition has already passed is applied on arrival (late), as in any watermark-based stream processor.

For producers that do not write markers there is ``idle_after`` (off by default): a documents partition
caught up and silent for that long is marked idle and stops holding the watermark back, for as long as its
owner renews the mark (heartbeats every ``idle_after / 2``, lease ``2 * idle_after``, so the partitions
of a worker that died hold it back again). Idleness costs determinism: when an idle partition receives
data again, other partitions may have moved the watermark past it in the meantime.

Delivery guarantees. At least once everywhere, made idempotent: Faust commits source offsets only after
flushing the producer (changelog included); the correlate agent waits for the broker to ack its
detections before it writes the table; records re-sent upstream are dropped by their origin (the
``wf-origin`` header) and re-published documents by the set of applied (signal, detection) ids; detection
ids are deterministic, the store keeps one copy of each and the dispatcher's delivery ledger sends each
(alert, channel) once (its one window: a crash between Slack's answer and the ledger write).

faust-streaming 0.15.3 can lose records when a rebalance ends (seen after a SIGKILL or a failover on a
loaded machine: a detection never stored, a worker that stops producing detections). ``_perform_seek``
below, which replaces its consumer's ``perform_seek``, closes both ways it happens; see its docstring.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import socket
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import orjson
from pydantic import ValidationError

from watchfloor.schemas.events import (
    DOCUMENT_TYPES,
    SCHEMA_VERSION,
    DeadLetter,
    Detection,
    Document,
    Event,
    EventType,
    Signal,
    dead_letter_event,
    detection_event,
    signal_event,
    watermark_event,
)
from watchfloor.schemas.topics import DEFAULT_PREFIX, TopicNames

from .engine import Engine
from .ports import Store
from .rulefile import load_rules

if TYPE_CHECKING:
    import faust  # the optional "kafka" extra: imported where a worker is made

log = logging.getLogger(__name__)

WATERMARK = EventType.WATERMARK.value  # watchfloor.schemas.events.Watermark: a partition's event-time progress

STATE_TABLE = "correlate-state"
ASSIGNMENT_LOG = "watchfloor-assignment"  # log marker, followed by {topic: [partitions]} as JSON
DEFAULT_PARTITIONS = 3
DONE_MARGIN_S = 86400.0  # keep applied-signal ids this long past the allowed lateness (dedup of re-sends)
RAW_LIMIT = 2000
BATCH_MAX = 1000  # records an agent takes at once (one state write, one watermark per partition)
DEFAULT_BATCH_WITHIN = 0.02  # seconds an agent waits to fill a batch: the latency each hop may add


class Dispatcher(Protocol):
    """What the notify agent drives: watchfloor.alerts.dispatcher.AlertDispatcher fits."""

    def run_once(self, limit: int = 500) -> int: ...


DispatcherFactory = Callable[[Store], Dispatcher]


# ---- pure helpers (unit-testable without Kafka) ------------------------------------------------------------------


class Rejected(Exception):
    """A record that cannot be processed; the message is the dead-letter reason."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


def parse_envelope(raw: bytes | None) -> Event:
    """The Event envelope of a record value, or Rejected with a reason a human can act on."""
    if raw is None:
        raise Rejected("empty record (no value)")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise Rejected(f"not JSON: {e}") from None
    if not isinstance(obj, dict):
        raise Rejected(f"not an event envelope: a JSON {type(obj).__name__}")
    version = obj.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise Rejected(f"unknown schema_version {version!r} (this worker reads {SCHEMA_VERSION})", "schema_version")
    try:
        return Event.model_validate(obj)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or None
        raise Rejected(f"invalid event envelope: {err['msg']}", loc) from None


def parse_document(ev: Event) -> Document:
    if ev.type not in DOCUMENT_TYPES:
        raise Rejected(f"event type {ev.type!r} is not a document ({', '.join(sorted(DOCUMENT_TYPES))})", "type")
    try:
        return Document.model_validate(ev.payload)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or None
        raise Rejected(f"invalid document payload: {err['msg']}", f"payload.{loc}" if loc else "payload") from None


def parse_signal(ev: Event) -> Signal:
    try:
        return Signal.model_validate(ev.payload)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or None
        raise Rejected(f"invalid signal payload: {err['msg']}", f"payload.{loc}" if loc else "payload") from None


ORIGIN_HEADER = "wf-origin"


def parse_origin(headers: Any) -> list[int] | None:
    """The wf-origin header ("partition:offset:signal[:route]") as ints; None when absent or unreadable."""
    if not headers:
        return None
    raw = headers.get(ORIGIN_HEADER) if hasattr(headers, "get") else dict(headers).get(ORIGIN_HEADER)
    if raw is None:
        return None
    try:
        text = raw.decode() if isinstance(raw, bytes | bytearray) else str(raw)
        return [int(x) for x in text.split(":")]
    except ValueError:
        return None


def encode(ev: Event) -> bytes:
    return orjson.dumps(ev.model_dump(mode="json"))


def detection_of_group_key(group_key: str) -> str:
    return group_key.split("\x1f", 1)[0]


class PartitionCorrelator:
    """The correlate step for one partition, as a pure function of (state, record) -> outputs.

    State (plain JSON, the Faust table value): {"cs": correlator state, "buf": buffered signals,
    "src": {upstream partition: [watermark, idle]}, "low": low watermark, "seen": {upstream partition:
    origin of the newest record taken}, "done": {signal id|detection id: t}}.

    Duplicates are dropped twice over. Records re-sent by an upstream agent that crashed or lost its
    partition (at least once) repeat an upstream partition's sequence from an earlier point; their origin
    (documents partition, offset, signal index, route index: the ``wf-origin`` header) is then not after
    ``seen`` for that partition, which is exact and costs one entry per upstream partition. A document
    published twice has new offsets: its signals are caught by ``done`` (applied signal ids, kept for the
    allowed lateness plus a day; an older repeat is reported as a late signal, which it is).

    Idleness is a lease. An upstream partition marked idle keeps counting as idle only while its idle
    markers keep coming (the owner re-sends them as heartbeats); `lease` seconds after the last one it holds
    the watermark back again. So a partition whose worker died is waited for (its documents are applied in
    order once a new owner catches up) instead of being skipped for good. Lease times live in this object's
    memory, not in the state: a restarted worker trusts no idle marker until it has seen a fresh one.
    `lease=None` (the default, for tests) never expires them."""

    def __init__(
        self,
        engine: Engine,
        upstream_partitions: int,
        *,
        lease: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.correlator = engine.correlator
        self.upstream = upstream_partitions
        self.lateness = self.correlator.lateness
        self.lease = lease
        self.clock = clock
        self._idle_seen: dict[tuple[int, str], float] = {}  # (partition, upstream partition) -> clock()

    @staticmethod
    def new_state() -> dict[str, Any]:
        return {"cs": Engine.initial_state(), "buf": [], "src": {}, "low": None, "seen": {}, "done": {}}

    def on_signal(
        self, st: dict[str, Any], ev: Event, origin: Sequence[int] | None = None
    ) -> list[Detection | DeadLetter]:
        """A signal routed to (detection, group) `ev.key`; `origin` = (documents partition, offset, ...)."""
        sig = parse_signal(ev)
        if origin is not None and len(origin) >= 2:
            src, pos = str(origin[0]), [int(x) for x in origin[1:]]
            last = st.setdefault("seen", {}).get(src)
            if last is not None and pos <= last:
                return []  # upstream replayed this record (at-least-once): taken already
            st["seen"][src] = pos
        det_id = detection_of_group_key(ev.key or "")
        key = f"{sig.id}|{det_id}"
        if key in st["done"] or any(b[6] == key for b in st["buf"]):
            return []  # a re-sent signal (at-least-once upstream): already applied or waiting
        t = sig.published_at.timestamp()
        item = [t, sig.document_id, sig.name, sig.sentence_index, det_id, ev.payload, key]
        if st["low"] is not None and t <= st["low"]:
            return self._apply(st, item)
        st["buf"].append(item)
        return []

    def on_watermark(self, st: dict[str, Any], ev: Event, partition: int = 0) -> list[Detection | DeadLetter]:
        """A watermark from upstream partition ev.payload["partition"], received on `partition`."""
        p = str(int(ev.payload["partition"]))
        t = ev.payload.get("time")
        idle = bool(ev.payload.get("idle"))
        if idle:
            self._idle_seen[(partition, p)] = self.clock()
        prev = st["src"].get(p)
        if prev is not None and prev[0] is not None and (t is None or t < prev[0]):
            t = prev[0]  # a source's watermark never goes back (re-sent or re-started upstream)
        st["src"][p] = [t, idle]
        return self.advance(st, partition)

    def _idle(self, partition: int, p: str, flagged: bool) -> bool:
        if not flagged:
            return False
        if self.lease is None:
            return True
        seen = self._idle_seen.get((partition, p))
        return seen is not None and self.clock() - seen <= self.lease

    def low_watermark(self, st: dict[str, Any], partition: int = 0) -> float | None:
        """Min over active upstream partitions of their watermark; the max when all are idle. Never goes back."""
        srcs: dict[str, list[Any]] = st["src"]
        low: float | None = st["low"]
        if len(srcs) < self.upstream:
            return low  # some upstream partition has not reported yet: wait for it
        active: list[float | None] = [v[0] for p, v in srcs.items() if not self._idle(partition, p, v[1])]
        cand: float | None
        if active:
            cand = None if any(t is None for t in active) else min(t for t in active if t is not None)
        else:
            known = [float(v[0]) for v in srcs.values() if v[0] is not None]
            cand = max(known) if known else None
        if cand is None:
            return low
        return cand if low is None else max(low, cand)

    def advance(self, st: dict[str, Any], partition: int = 0) -> list[Detection | DeadLetter]:
        out: list[Detection | DeadLetter] = []
        low = self.low_watermark(st, partition)
        if low is None:
            return out
        st["low"] = low
        ready = [b for b in st["buf"] if b[0] <= low]
        if ready:
            st["buf"] = [b for b in st["buf"] if b[0] > low]
            for item in sorted(ready, key=lambda b: (b[0], b[1], b[2], b[3], b[4])):
                out.extend(self._apply(st, item))
        out.extend(self.correlator.note_time(st["cs"], datetime.fromtimestamp(low, UTC)))
        horizon = low - self.lateness - DONE_MARGIN_S
        if any(v < horizon for v in st["done"].values()):
            st["done"] = {k: v for k, v in st["done"].items() if v >= horizon}
        return out

    def _apply(self, st: dict[str, Any], item: list[Any]) -> list[Detection | DeadLetter]:
        t, _doc, _name, _idx, det_id, payload, key = item
        sig = Signal.model_validate(payload)
        st["done"][key] = t
        return list(self.correlator.on_signal(st["cs"], sig, only=det_id))


# ---- the Faust app -------------------------------------------------------------------------------------------------


SETTLE_ROUNDS = 2  # event-loop rounds without a new record after which a batch is taken as complete


async def take_batches(stream: Any, max_: int, within: float) -> AsyncIterator[list[Any]]:
    """Faust's ``Stream.take_events`` with natural batching: the batch is yielded as soon as the records
    that have arrived stop coming, not when a fixed timer runs out.

    ``take_events(max_, within)`` waits until `max_` records or `within` seconds after the previous batch,
    even for one record on an idle stream: every hop adds up to `within` of latency. Here the wait starts
    with the first record; the batch grows while records keep arriving (checked every SETTLE_ROUNDS
    event-loop rounds, enough for the fetcher to hand over what it has fetched) and is yielded when they
    stop, at `max_` records, or `within` seconds after its first record. Under load, a batch is what one
    fetch brought (the fetcher hands records over 100 at a time, then asks the consumer thread for more);
    when it is quiet, a record goes on at once. Acknowledgement is as in ``take_events``: the events of a
    batch are acked after the consumer of this generator has finished with it (its ``async for`` body)."""
    loop = asyncio.get_running_loop()
    buffer: list[Any] = []
    arrived = asyncio.Event()
    room = asyncio.Event()
    room.set()
    consuming: asyncio.Future[None] | None = None

    async def add_to_buffer(value: Any) -> Any:  # a stream processor: runs for every record delivered
        nonlocal consuming
        try:
            if consuming is not None:  # the batch before is being processed: wait until it is acked
                try:
                    await consuming
                finally:
                    consuming = None
            event = stream.current_event
            if event is None:
                raise RuntimeError("take_batches found no current event")
            buffer.append(event)
            arrived.set()
            if len(buffer) >= max_:
                room.clear()
                await stream.wait(room)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("take_batches: could not buffer a record: %r", exc)
            await stream.crash(exc)
        return value

    acks_enabled = stream.enable_acks
    stream.enable_acks = False  # acked below, after the batch was processed
    stream.add_processor(add_to_buffer)
    stream._enable_passive(aiter(stream.channel))
    try:
        while not stream.should_stop:
            if await stream.wait_for_stopped(arrived):
                break
            deadline = loop.time() + within
            seen = -1
            while seen != len(buffer) < max_ and loop.time() < deadline:
                seen = len(buffer)
                for _ in range(SETTLE_ROUNDS):
                    await asyncio.sleep(0)
            if not buffer:  # pragma: no cover - arrived is only set with a record
                arrived.clear()
                continue
            consuming = loop.create_future()
            events = list(buffer)
            try:
                yield events
            finally:
                buffer.clear()
                arrived.clear()
                for event in events:
                    await stream.ack(event)
                if consuming is not None and not consuming.done():
                    consuming.set_result(None)
                room.set()
    finally:
        stream.enable_acks = acks_enabled
        stream._processors.remove(add_to_buffer)


@contextmanager
def _as_current_event(event: Any) -> Iterator[None]:
    """Make `event` Faust's current event while a table is written after a batch (take_batches leaves
    none set in the agent's task). Faust sends the changelog record to that event's partition, which is
    the table partition of the state written, and tracks its offset. Uses Faust's own context variable
    (faust.streams._current_event, what Stream sets per record): no public setter exists."""
    from faust import streams

    token = streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        streams._current_event.reset(token)


class _Resumed:
    """Await the rest of a coroutine that was stepped by hand and suspended on `blocked_on`.

    The awaiting task sees exactly what the coroutine yields (futures, bare yields) and forwards
    what it sends or throws (results, cancellation), as if it had run the coroutine from the start."""

    __slots__ = ("blocked_on", "coro")

    def __init__(self, coro: Any, blocked_on: Any) -> None:
        self.coro = coro
        self.blocked_on = blocked_on

    def __await__(self) -> Any:
        coro, yielded = self.coro, self.blocked_on
        while True:
            try:
                sent = yield yielded
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # thrown in by the awaiting task (cancellation)
                try:
                    yielded = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    yielded = coro.send(sent)
                except StopIteration as stop:
                    return stop.value

    async def run(self) -> Any:
        return await self


async def _drain_messages(self: Any, fetcher: Any) -> None:  # pragma: no cover - Faust's fetcher loop
    """faust.transport.consumer.Consumer._drain_messages (faust-streaming 0.15.3) with cheap delivery.

    Faust hands every fetched record to its streams through ``Service.wait_first(callback(message),
    suspend_flow.wait())``: four new tasks and an ``asyncio.wait`` per record, so that delivery can be
    abandoned when a rebalance suspends the flow while it waits. Delivery almost never waits (it puts the
    event in a stream's buffer), and that per-record machinery was the largest single cost of the worker
    (BENCHMARKS.md: 2.1x the pipeline's throughput without it). Here delivery is first run inline, one
    step: if it completes without waiting, that is all; if it has to wait (flow suspended for a rebalance,
    a full stream buffer, the producer buffer, the subscription lock) the suspended delivery is finished
    under the same ``wait_first`` as in Faust, so a suspended flow abandons it exactly as before. The rest
    of the loop (read offsets, gaps, commits, yielding every 100 records) is Faust's, unchanged."""
    from faust.transport.consumer import CONSUMER_FETCHING

    callback = self.callback
    getmany = self.getmany
    consumer_should_stop = self._stopped.is_set
    fetcher_should_stop = fetcher._stopped.is_set
    get_read_offset = self._read_offset.__getitem__
    set_read_offset = self._read_offset.__setitem__
    set_flag = self.diag.set_flag
    unset_flag = self.diag.unset_flag
    commit_every = self._commit_every
    acks_enabled_for = self.app.topics.acks_enabled_for
    suspend_flow = self.suspend_flow
    yield_every = 100
    num_since_yield = 0
    sleep = asyncio.sleep
    try:
        while not (consumer_should_stop() or fetcher_should_stop()):
            set_flag(CONSUMER_FETCHING)
            ait = getmany(timeout=1.0)
            await self.sleep(0)  # getmany can return at once, again and again: let the loop run
            if not self.should_stop:
                async for tp, message in ait:
                    num_since_yield += 1
                    if num_since_yield > yield_every:
                        await sleep(0)
                        num_since_yield = 0
                    offset = message.offset
                    r_offset = get_read_offset(tp)
                    if r_offset is None or offset >= r_offset:
                        gap = offset - (r_offset or 0)
                        if gap > 1 and r_offset and acks_enabled_for(message.topic):
                            await self._add_gap(tp, r_offset + 1, offset)
                        if commit_every is not None and self._n_acked >= commit_every:
                            self._n_acked = 0
                            await self.commit()
                        delivery = callback(message)
                        try:
                            blocked_on = delivery.send(None)
                        except StopIteration:
                            pass  # delivered without waiting
                        else:
                            await self.wait_first(_Resumed(delivery, blocked_on).run(), suspend_flow.wait())
                        set_read_offset(tp, offset)
                    else:
                        self.log.dev("DROPPED MESSAGE ROFF %r: k=%r v=%r", offset, message.key, message.value)
                unset_flag(CONSUMER_FETCHING)
    except self.consumer_stopped_errors:
        if self.transport.app.should_stop:
            self.log.info("Broker stopped consumer, shutting down...")
            return
        raise
    except asyncio.CancelledError:
        if self.transport.app.should_stop:
            self.log.info("Consumer shutting down for user cancel.")
            return
        raise
    except Exception as exc:
        self.log.exception("Drain messages raised: %r", exc)
        raise
    finally:
        unset_flag(CONSUMER_FETCHING)


async def _perform_seek(self: Any) -> None:  # pragma: no cover - exercised by the distributed tests
    """faust.transport.consumer.Consumer.perform_seek (faust-streaming 0.15.3), without its two record losses.

    Faust calls it at the end of every rebalance, right after resuming the stream partitions and right
    before ``app.flow_control.resume()``, which empties every stream's queue; and from ``getmany`` when
    records arrive while the flow is stopped. It seeks every partition back to its committed offset, so
    that records fetched but dropped meanwhile are read again. Two holes:

    * aiokafka's ``seek_to_committed`` leaves a partition alone when its committed offset is missing or 0
      (a previous owner that died within its first 2.8 s commit interval). Its position is then wherever
      the fetcher got to, past the dropped records: they are never read (nor, from then on, committed).
      Such partitions are sought to their earliest offset instead, what ``auto_offset_reset=earliest``
      means. (Changelog partitions are never committed; Faust's recovery positions them itself.)
    * The flow is still running while this seeks (recovery resumed it for the changelogs), so the fetcher
      delivers records of the just-resumed stream partitions into the streams' queues, and
      ``flow_control.resume()`` then empties those queues: the records are gone, but the consumer's
      position is past them. The flow is stopped first here; every caller resumes it afterwards (the
      rebalance, after clearing the queues) or was called with it stopped (``getmany``). A record
      delivered before the stop is read again after the seek: at least once, and every step downstream
      is idempotent."""
    self.stop_flow()
    committed = await self.seek_to_committed()
    changelogs = set(self.app.tables.changelog_topics)
    fresh = [tp for tp, offset in committed.items() if not offset and tp.topic not in changelogs]
    if fresh:
        earliest = await self.earliest_offsets(*fresh)
        target = {tp: earliest.get(tp) or 0 for tp in fresh}
        await self.seek_wait(target)
        log.info(
            "rewinding partition(s) with no committed offset to their beginning: %s",
            ", ".join(f"{tp.topic}[{tp.partition}]@{target[tp]}" for tp in sorted(fresh)),
        )
    self._read_offset.update(
        {tp: offset if offset is not None and offset >= 0 else None for tp, offset in committed.items()}
    )
    self._committed_offset.update(
        {tp: offset if offset else None for tp, offset in committed.items() if offset is not None}
    )


PATCHED_FAUST = "0.15.3"  # the faust-streaming release _drain_messages and _perform_seek replace methods of


def _app_class() -> type[faust.App]:
    """faust.App whose consumer seeks with `_perform_seek` and delivers records with `_drain_messages` above.

    Both replace methods of faust-streaming 0.15.3 (pinned in pyproject.toml). On any other release the
    worker refuses to start rather than run with the record losses `_perform_seek` closes."""
    import faust

    if faust.__version__ != PATCHED_FAUST:
        raise RuntimeError(
            f"faust-streaming {faust.__version__} is installed; the worker is built on {PATCHED_FAUST} "
            f"(stream_processors/faust_app.py replaces two of its consumer's methods): "
            f"pip install 'faust-streaming=={PATCHED_FAUST}'"
        )
    overrides = {"_drain_messages": _drain_messages, "perform_seek": _perform_seek}

    class App(faust.App):
        def _new_transport(self) -> Any:
            transport: Any = super()._new_transport()
            base = transport.Consumer
            transport.Consumer = type(base.__name__, (base,), overrides)
            return transport

    return App


TABLE_STORES = ("memory://", "rocksdb://")


def check_table_store(url: str) -> None:
    """A table store this worker can open, or a ValueError/ImportError saying what to do instead."""
    if url not in TABLE_STORES:
        raise ValueError(f"table store {url!r}: expected one of {', '.join(TABLE_STORES)}")
    if url == "rocksdb://":
        try:
            import rocksdict  # noqa: F401  (Faust's RocksDB driver)
        except ImportError:
            raise ImportError("table store rocksdb:// needs rocksdict: pip install 'watchfloor[rocksdb]'") from None


def _broker_url(broker: str) -> str:
    return ",".join(b if "://" in b else f"kafka://{b}" for b in broker.split(","))


def _raw_preview(raw: bytes | None) -> str:
    if raw is None:
        return ""
    return raw[:RAW_LIMIT].decode("utf-8", errors="replace")


def _rejected_letter(r: Rejected, origin: str, raw: bytes | None, stage: str) -> DeadLetter:
    """A record some stage cannot take (bad input), with the reason and field it was rejected for."""
    return DeadLetter(origin=origin, field=r.field, reason=r.reason, raw=_raw_preview(raw), stage=stage)


def _failure_letter(what: str, e: Exception, origin: str, raw: bytes | None, stage: str) -> DeadLetter:
    """A record on which our own code failed (`what`: "extractor", "correlator"): kept, not retried forever."""
    return DeadLetter(
        origin=origin, reason=f"{what} failed: {type(e).__name__}: {e}", raw=_raw_preview(raw), stage=stage
    )


def make_app(
    broker: str,
    rules_specs: Sequence[str],
    store_url: str | None = None,
    *,
    topic_prefix: str = DEFAULT_PREFIX,
    app_id: str | None = None,
    partitions: int = DEFAULT_PARTITIONS,
    dispatcher_factory: DispatcherFactory | None = None,
    idle_after: float | None = None,
    session_timeout: float = 30.0,
    datadir: str | os.PathLike[str] | None = None,
    table_store: str = "memory://",
    batch_within: float = DEFAULT_BATCH_WITHIN,
) -> Any:
    """A faust.App running extract, route, correlate and notify for one rule set.

    `partitions` is the partition count of the documents, signals and correlate topics (they are
    co-partitioned). Workers started with the same `app_id` form one consumer group and share partitions.
    `store_url` is where detections (and the dispatcher's alert and delivery events) are kept; without it
    detections stay in Kafka. `dispatcher_factory(store)` builds the alerts dispatcher (the CLI passes one
    built from the config's channels and subscriptions).

    `table_store` is Faust's local store for the state table: ``memory://`` (the default: the state is
    rebuilt from the changelog topic at start, which is quick at these sizes) or ``rocksdb://`` (the
    ``rocksdb`` extra: rocksdict), kept under `datadir`, which must then be this worker's own and the same
    across its restarts: a restarted worker reads only the changelog written since its last write.

    `batch_within` is how long each agent waits to fill a batch: each hop may add that much latency,
    and longer batches share each batch's fixed costs (watermarks, state writes, acknowledgement
    waits) over more records (BENCHMARKS.md measures the trade)."""
    if dispatcher_factory is not None and store_url is None:
        raise ValueError("a dispatcher needs a store: pass store_url")
    check_table_store(table_store)
    _loaded, compiled = load_rules(list(rules_specs))
    engine = Engine(compiled)
    names = TopicNames(topic_prefix)
    app_id = app_id or f"{topic_prefix}-worker"
    if datadir is None:
        datadir = Path(os.environ.get("WATCHFLOOR_FAUST_DATADIR", ".watchfloor-faust")) / app_id
    Path(datadir).mkdir(parents=True, exist_ok=True)  # Faust creates only the last level
    app = _app_class()(
        app_id,
        broker=_broker_url(broker),
        store=table_store,
        topic_partitions=partitions,
        topic_disable_leader=True,  # no extra internal topic: nothing here needs a leader
        web_enabled=False,  # several workers on one host must not fight over port 6066
        datadir=str(datadir),
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=session_timeout,
        broker_heartbeat_interval=min(3.0, session_timeout / 3),
        producer_acks=-1,
        producer_linger_ms=1,
        autodiscover=False,
        broker_client_id=f"{app_id}-{socket.gethostname()}-{os.getpid()}",  # which worker is which member
    )

    def raw_topic(name: str) -> Any:
        return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")

    documents = raw_topic(names.documents)
    correlate = raw_topic(names.correlate)
    detections = raw_topic(names.detections)
    table = app.Table(STATE_TABLE, default=None, partitions=partitions, key_type=bytes, value_type=bytes)
    heartbeat = idle_after / 2 if idle_after else 0.0
    pc = PartitionCorrelator(engine, partitions, lease=idle_after * 2 if idle_after else None)

    async def send(
        topic: str, key: bytes | None, value: bytes, partition: int | None = None, headers: Any = None
    ) -> Awaitable[Any]:
        """Hand a record to the app's producer; the result is a future of the broker's acknowledgement.

        Straight to the producer, not through ``Topic.send``: that path awaits ``App.maybe_start_producer``,
        a mode ``stampede`` wrapper that yields to the event loop three times per record (each yield lets
        the producer's sender run and send a request of its own: ~900 extra produce requests per 20,000
        documents, BENCHMARKS.md). Same producer, same default partitioner, and Faust still flushes it
        before committing source offsets. Agents start it (``_producer``) before their first send."""
        return await app.producer.send(topic, key, value, partition, None, headers)

    async def _producer() -> None:
        await app.maybe_start_producer()

    async def dead_letter(dl: DeadLetter, at: datetime) -> Awaitable[Any]:
        ev = dead_letter_event(dl, at)
        return await send(names.dead_letters, ev.id.encode(), encode(ev))

    # -- extract --------------------------------------------------------------------------------------------------
    progress: dict[int, dict[str, Any]] = {}  # documents partition -> {offset, at, t, idle}

    def _progress(p: int) -> dict[str, Any]:
        return progress.setdefault(p, {"offset": None, "at": time.monotonic(), "t": None, "idle": False, "hb": 0.0})

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def _log_assignment(app_: Any, assigned: Any, **kwargs: Any) -> None:
        by_topic: dict[str, list[int]] = {}
        for tp in assigned:
            by_topic.setdefault(tp.topic, []).append(tp.partition)
        # One parseable line per rebalance: which partitions this worker now owns (tests read it too).
        log.info("%s %s", ASSIGNMENT_LOG, orjson.dumps({k: sorted(v) for k, v in sorted(by_topic.items())}).decode())

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def _forget_revoked(app_: Any, revoked: Any, **kwargs: Any) -> None:
        # Whoever gets these partitions next starts their idle clock afresh; so do we if they come back.
        for tp in revoked:
            if tp.topic == names.documents:
                progress.pop(tp.partition, None)

    @app.agent(documents, name="extract")
    async def extract(stream: Any) -> None:
        await _producer()
        # Records come in batches (acked after the batch). A partition's watermark is sent once per batch,
        # or sooner when a signal of that partition must follow it: the order of signals and watermark
        # values on each signals partition is the one per-record sending gives, minus the watermarks
        # that a later one overtakes before any signal (which tell downstream nothing more).
        async for events in take_batches(stream, BATCH_MAX, batch_within):
            dirty: set[int] = set()
            for event in events:
                msg = event.message
                p, offset = msg.partition, msg.offset
                origin = f"kafka:{msg.topic}[{p}]@{offset}"
                at = datetime.fromtimestamp(msg.timestamp, UTC) if msg.timestamp else datetime.now(UTC)
                pr = _progress(p)
                pr["offset"], pr["at"] = offset, time.monotonic()
                try:
                    ev = parse_envelope(event.value)
                    if ev.type == WATERMARK:  # a publisher's marker: this partition has seen time `time`
                        t_mark = ev.payload.get("time")
                        if not isinstance(t_mark, int | float):
                            raise Rejected("watermark without a numeric time", "payload.time")
                        if _advance(float(t_mark), pr):
                            dirty.add(p)
                        continue
                    doc = parse_document(ev)
                except Rejected as r:
                    log.warning("extract: %s rejected: %s", origin, r.reason)
                    await dead_letter(_rejected_letter(r, origin, event.value, "ingest"), at)
                    continue
                try:
                    sigs = engine.extract(doc)
                except Exception as e:  # an extractor bug must not stop the stream
                    log.exception("extract: extractor failed on %s (%s)", doc.id, origin)
                    await dead_letter(_failure_letter("extractor", e, origin, event.value, "extract"), doc.published_at)
                    continue
                if sigs and p in dirty and doc.published_at.timestamp() <= pr["t"]:
                    # A late document: its signals must follow the watermark it is late for, as they
                    # would with one watermark per record. (An in-order document's signals are held
                    # downstream until a later watermark anyway: sending this one after them is the same.)
                    await _send_watermark(p, pr)
                    dirty.discard(p)
                for i, sig in enumerate(sigs):
                    sev = signal_event(sig)
                    value = encode(sev)
                    # The signal as an output for observers (nothing in the pipeline reads it back) ...
                    await send(names.signals, doc.id.encode(), value, p)
                    # ... and routed: one record per (detection, group), keyed by the group.
                    for j, (_det_id, gkey) in enumerate(engine.correlator.routes(sig)):
                        routed = Event(id=sev.id, type=sev.type, time=sev.time, key=gkey, payload=sev.payload)
                        hdr = {ORIGIN_HEADER: f"{p}:{offset}:{i}:{j}".encode()}
                        await send(names.correlate, gkey.encode(), encode(routed), None, hdr)
                if _advance(doc.published_at.timestamp(), pr):
                    dirty.add(p)
            for p in sorted(dirty):
                await _send_watermark(p, _progress(p))
            if log.isEnabledFor(logging.DEBUG):
                seen: dict[int, list[int]] = {}
                for event in events:
                    seen.setdefault(event.message.partition, []).append(event.message.offset)
                log.debug(
                    "extract: batch %s; watermarks %s",
                    {p: f"{min(o)}..{max(o)}" for p, o in sorted(seen.items())},
                    {p: _progress(p)["t"] for p in sorted(seen)},
                )

    def _advance(t: float, pr: dict[str, Any]) -> bool:
        """A documents partition has seen time t: whether its watermark moved (or it stopped being idle)."""
        if pr["t"] is None or t > pr["t"] or pr["idle"]:
            pr["t"] = t if pr["t"] is None else max(t, pr["t"])
            pr["idle"] = False
            return True
        return False

    async def _send_watermark(p: int, pr: dict[str, Any], *, idle: bool = False) -> None:
        """Documents partition p has passed time pr["t"]: tell every correlate partition."""
        value = encode(watermark_event(p, pr["t"], idle=idle))
        for c in range(partitions):
            await send(names.correlate, b"", value, c)

    @app.timer(max((idle_after or 60.0) / 4, 0.25))  # type: ignore[untyped-decorator]
    async def mark_idle() -> None:
        """Tell downstream that a caught-up, silent documents partition holds nothing back."""
        if not idle_after:
            return
        await _producer()
        try:
            assigned = [tp for tp in app.consumer.assignment() if tp.topic == names.documents]
        except Exception:  # not started / rebalancing
            return
        now = time.monotonic()
        for tp in assigned:  # heartbeats: an idle marker lasts only as long as it is renewed
            pr = _progress(tp.partition)
            if pr["idle"] and now - pr["hb"] >= heartbeat:
                pr["hb"] = now
                await _send_watermark(tp.partition, pr, idle=True)
        quiet = [
            tp
            for tp in assigned
            if not _progress(tp.partition)["idle"] and now - _progress(tp.partition)["at"] >= idle_after
        ]
        if not quiet:
            return
        for tp in quiet:
            pr = _progress(tp.partition)
            try:
                # The highwater of the last fetch response: known without a request (an idle partition is
                # still fetched, so it stays current). Asking the broker instead goes through the consumer
                # thread and waits behind its long-poll fetch (about a second here).
                hw = app.consumer.highwater(tp)
                if hw is None:
                    hw = (await app.consumer.highwaters(tp)).get(tp)
                pos = pr["offset"] + 1 if pr["offset"] is not None else await app.consumer.position(tp)
            except Exception:
                log.debug("idle check of %s failed", tp, exc_info=True)
                continue
            if hw is None or pos is None or pos < hw or pr["idle"] or time.monotonic() - pr["at"] < idle_after:
                continue  # behind, or a record arrived while we asked
            pr["idle"] = True
            pr["hb"] = time.monotonic()
            log.info("extract: %s idle at watermark %s", tp, pr["t"])
            await _send_watermark(tp.partition, pr, idle=True)

    # -- correlate ------------------------------------------------------------------------------------------------
    @app.agent(correlate, name="correlate")
    async def correlate_agent(stream: Any) -> None:
        await _producer()
        # A batch at a time: each partition's state is read once, updated record by record, and written
        # once, after the broker has acknowledged the detections it produced (a worker that dies in
        # between processes the batch again and re-sends the same deterministic outputs).
        async for events in take_batches(stream, BATCH_MAX, batch_within):
            states: dict[int, dict[str, Any]] = {}
            last: dict[int, Any] = {}  # partition -> its last event in the batch
            before: dict[int, bytes | None] = {}
            applied: dict[int, list[tuple[Event, int, Any]]] = {}  # for a rebuild after a correlator bug
            pending = []
            for event in events:
                msg = event.message
                part = msg.partition
                origin = f"kafka:{msg.topic}[{part}]@{msg.offset}"
                if part not in states:
                    raw_state = table.get(str(part).encode())
                    before[part] = raw_state
                    states[part] = orjson.loads(raw_state) if raw_state else pc.new_state()
                    applied[part] = []
                st = states[part]
                last[part] = event
                at = datetime.fromtimestamp(msg.timestamp, UTC) if msg.timestamp else datetime.now(UTC)
                try:
                    ev = parse_envelope(event.value)
                    headers = parse_origin(event.headers)
                    if ev.type not in (WATERMARK, EventType.SIGNAL.value):
                        raise Rejected(f"event type {ev.type!r} does not belong on the correlate topic", "type")
                    if ev.type == EventType.SIGNAL.value:
                        at = ev.time
                    outputs = _correlate_one(st, ev, part, headers)
                except Rejected as r:
                    pending.append(await dead_letter(_rejected_letter(r, origin, event.value, "correlate"), at))
                    continue
                except Exception as e:  # a correlator bug: this record leaves no trace in the state
                    log.exception("correlate: failed on %s", origin)
                    pending.append(
                        await dead_letter(_failure_letter("correlator", e, origin, event.value, "correlate"), at)
                    )
                    raw_state = before[part]
                    st = states[part] = orjson.loads(raw_state) if raw_state else pc.new_state()
                    for ev_ok, p_ok, h_ok in applied[part]:
                        _correlate_one(st, ev_ok, p_ok, h_ok)  # outputs already sent: rebuild state only
                    continue
                applied[part].append((ev, part, headers))
                for o in outputs:
                    if isinstance(o, Detection):
                        dev = detection_event(o)
                        log.debug("correlate: detection %s %s %s", o.id, o.rule, o.group)
                        pending.append(await send(names.detections, dev.id.encode(), encode(dev)))
                    else:
                        pending.append(await dead_letter(o, at))
            if pending:
                # Outputs acknowledged before the state that produced them is written.
                await asyncio.gather(*pending)
            for part, st in states.items():
                new_raw = orjson.dumps(st)
                if new_raw != before[part]:
                    with _as_current_event(last[part]):
                        table[str(part).encode()] = new_raw
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("correlate [%d] low=%s src=%s buffered=%d", part, st["low"], st["src"], len(st["buf"]))

    def _correlate_one(st: dict[str, Any], ev: Event, part: int, origin: Any) -> list[Detection | DeadLetter]:
        if ev.type == WATERMARK:
            return pc.on_watermark(st, ev, part)
        return pc.on_signal(st, ev, origin)

    # -- notify ---------------------------------------------------------------------------------------------------
    sql: dict[str, Any] = {}

    def _store_and_dispatch(events: list[Event]) -> int:
        if "store" not in sql:
            from .stores import open_store

            assert store_url is not None
            sql["store"] = open_store(store_url)
            sql["dispatcher"] = dispatcher_factory(sql["store"]) if dispatcher_factory is not None else None
        added = int(sql["store"].append(events))
        dispatcher = sql["dispatcher"]
        if dispatcher is not None:
            while dispatcher.run_once() > 0:
                pass
        return added

    @app.agent(detections, name="notify")
    async def notify(stream: Any) -> None:
        await _producer()
        async for batch_events in take_batches(stream, BATCH_MAX, batch_within):
            events: list[Event] = []
            if log.isEnabledFor(logging.DEBUG):
                log.debug("notify: batch offsets %s", [e.message.offset for e in batch_events])
            for raw in (e.value for e in batch_events):
                try:
                    ev = parse_envelope(raw)
                    if ev.type != EventType.DETECTION.value:
                        raise Rejected(f"event type {ev.type!r} does not belong on the detections topic", "type")
                    events.append(ev)
                except Rejected as r:
                    await dead_letter(_rejected_letter(r, names.detections, raw, "notify"), datetime.now(UTC))
            if not events or store_url is None:
                continue
            delay = 0.5
            while True:  # the store must take them before the offsets move on: retry, never drop
                try:
                    added = await asyncio.to_thread(_store_and_dispatch, events)
                    log.info("notify: %d detection(s), %d new", len(events), added)
                    break
                except Exception:
                    log.exception("notify: store/dispatch failed; retrying in %.1fs", delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)

    @app.task  # type: ignore[untyped-decorator]
    async def _announce() -> None:
        log.info(
            "watchfloor worker %s: %d detection(s), topics %s", app_id, len(compiled.detections), ", ".join(names.all())
        )

    del extract, correlate_agent, notify, mark_idle, _announce  # registered on the app
    del _forget_revoked, _log_assignment
    return app


# ---- running -------------------------------------------------------------------------------------------------------


class MissingTopics(RuntimeError):
    """The watchfloor topics do not exist (yet): auto-creation is off; the producer creates them."""


def check_topics(broker: str, topic_prefix: str = DEFAULT_PREFIX, partitions: int = DEFAULT_PARTITIONS) -> None:
    """Fail early, with the fix, when the topics are missing (MissingTopics) or laid out differently."""
    import kafka

    admin = kafka.KafkaAdminClient(bootstrap_servers=broker.replace("kafka://", ""), client_id=f"{topic_prefix}-check")
    try:
        names = TopicNames(topic_prefix)
        existing = set(admin.list_topics())
        missing = [n for n in names.all() if n not in existing]
        if missing:
            raise MissingTopics(
                f"missing Kafka topics: {', '.join(missing)} (create them with "
                f"watchfloor.producers.kafka_log.ensure_topics({broker!r}, {topic_prefix!r}, {partitions}))"
            )
        described = {
            d.get("name", d.get("topic")): len(d["partitions"])
            for d in admin.describe_topics([names.documents, names.signals, names.correlate, names.detections])
        }
        wrong = [n for n in (names.documents, names.signals, names.correlate) if described.get(n) != partitions]
        if wrong:
            raise RuntimeError(f"topics {', '.join(wrong)} must have {partitions} partitions: {described}")
        if described.get(names.detections) != 1:
            raise RuntimeError(f"{names.detections} must have 1 partition (one dispatcher at a time)")
    finally:
        admin.close()


def run_worker(
    broker: str,
    rules: Sequence[str],
    store_url: str | None = None,
    *,
    dispatcher_factory: DispatcherFactory | None = None,
    topic_prefix: str = DEFAULT_PREFIX,
    app_id: str | None = None,
    partitions: int = DEFAULT_PARTITIONS,
    idle_after: float | None = None,
    session_timeout: float = 30.0,
    datadir: str | os.PathLike[str] | None = None,
    table_store: str = "memory://",
    loglevel: str = "info",
    wait_for_topics: float = 120.0,
    batch_within: float = DEFAULT_BATCH_WITHIN,
    trace: bool = False,
) -> NoReturn:
    """Run one worker until SIGTERM/SIGINT, then exit (SystemExit). Start several with the same app_id to
    share the partitions. The topics must exist (watchfloor.producers.kafka_log.ensure_topics; `watchfloor produce`
    creates them): a worker started first waits up to `wait_for_topics` seconds for them."""
    import faust

    deadline = time.monotonic() + wait_for_topics
    while True:
        try:
            check_topics(broker, topic_prefix, partitions)
            break
        except MissingTopics as e:
            if time.monotonic() >= deadline:
                raise
            log.warning("%s; waiting for them", e)
            time.sleep(2.0)
    app = make_app(
        broker,
        rules,
        store_url,
        topic_prefix=topic_prefix,
        app_id=app_id,
        partitions=partitions,
        dispatcher_factory=dispatcher_factory,
        idle_after=idle_after,
        session_timeout=session_timeout,
        datadir=datadir,
        table_store=table_store,
        batch_within=batch_within,
    )
    worker = faust.Worker(app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    if trace:  # watchfloor's own per-batch lines (offsets, watermarks, detections); Faust stays at `loglevel`
        # (Faust's log handler filters at `loglevel`, so these lines get a handler of their own.)
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
        log.propagate = False
    worker.execute_from_commandline()


def _load_factory(spec: str) -> DispatcherFactory:
    """'package.module:function' -> the function (a plugin hook: the alerts layer is wired in by the caller)."""
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise SystemExit(f"--dispatcher wants module:function, got {spec!r}")
    factory: DispatcherFactory = getattr(importlib.import_module(module), attr)
    return factory


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stream_processors.faust_app", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("worker", help="run a distributed worker")
    w.add_argument("--broker", default=os.environ.get("WATCHFLOOR_KAFKA", "127.0.0.1:9092"))
    w.add_argument("--rules", action="append", default=None, help="rule spec (repeatable); default builtin:dprk_russia")
    w.add_argument("--store", default=None, help="store URL for detections (sqlite:///FILE, postgresql://...)")
    w.add_argument("--prefix", default=DEFAULT_PREFIX)
    w.add_argument("--app-id", default=None)
    w.add_argument("--partitions", type=int, default=DEFAULT_PARTITIONS)
    w.add_argument(
        "--idle-after",
        type=float,
        default=None,
        help="seconds; only for producers that write no watermark markers (see the module docstring)",
    )
    w.add_argument("--session-timeout", type=float, default=30.0)
    w.add_argument("--datadir", default=None)
    w.add_argument("--table-store", default="memory://", choices=TABLE_STORES, help="Faust table store")
    w.add_argument("--dispatcher", default=None, help="module:function(store) -> dispatcher with run_once()")
    w.add_argument("--loglevel", default="info")
    w.add_argument("--trace", action="store_true", help="log every batch's offsets, watermarks and detections")
    w.add_argument(
        "--batch-within",
        type=float,
        default=DEFAULT_BATCH_WITHIN,
        help="seconds each agent waits to fill a batch (latency per hop vs throughput)",
    )
    args = parser.parse_args(argv)
    run_worker(
        args.broker,
        args.rules or ["builtin:dprk_russia"],
        args.store,
        dispatcher_factory=_load_factory(args.dispatcher) if args.dispatcher else None,
        topic_prefix=args.prefix,
        app_id=args.app_id,
        partitions=args.partitions,
        idle_after=args.idle_after,
        session_timeout=args.session_timeout,
        datadir=args.datadir,
        table_store=args.table_store,
        loglevel=args.loglevel,
        batch_within=args.batch_within,
        trace=args.trace,
    )


if __name__ == "__main__":
    main()
