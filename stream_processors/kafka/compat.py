"""Everything that depends on faust-streaming's internals, in one place, behind a version guard.

faust-streaming is pinned (pyproject.toml) because this module replaces or reaches into parts of it that
are not public API: two methods of its consumer (``_drain_messages``: speed; ``perform_seek``: records lost
at the end of a rebalance), a stream's processor list (``take_batches``) and the context variable of the
current event (``as_current_event``). :func:`app_class` refuses any other release. An import-linter
contract keeps every other module of watchfloor from importing faust at all: the app builder and the
agents use the app object they are given.

What faust-streaming costs, and the two places it is bypassed (BENCHMARKS.md has the measurements).
Fetched records reach the streams through ``_drain_messages`` below, Faust's loop with one change: delivery
runs inline, and only a delivery that has to wait (a rebalance suspended the flow, a full buffer) goes
through Faust's ``wait_first`` (four tasks and an ``asyncio.wait``, formerly per record), so a suspended
flow abandons it as before. (Outputs are handed to the app's producer directly: see ``agents.Outputs``.)

faust-streaming 0.15.3 can lose records when a rebalance ends (seen after a SIGKILL or a failover on a
loaded machine: a detection never stored, a worker that stops producing detections). ``_perform_seek``
below, which replaces its consumer's ``perform_seek``, closes both ways it happens; see its docstring.

Faust's Kafka client, aiokafka, is reached into twice: ``tolerate_closed_transport`` (a connection reset
under a write, on uvloop, ended the consumer's fetch loop) and ``FetchLoopWatch`` (a fetch loop that ended
anyway restarts the worker). Both are tested against a real broker with the fault injected.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .security import KafkaSecurity
from .unreachable import UNREACHABLE

log = logging.getLogger(__name__)

PATCHED_FAUST = "0.15.3"  # the faust-streaming release _drain_messages and _perform_seek replace methods of
SETTLE_ROUNDS = 2  # event-loop rounds without a new record after which a batch is taken as complete
# How long a stop may take before the worker exits anyway: under the 30 s a container runtime (Kubernetes'
# default terminationGracePeriodSeconds, `docker stop`'s 10 s is configurable) waits before SIGKILL.
STOP_GRACE_S = float(os.environ.get("WATCHFLOOR_STOP_GRACE_S", "25"))
# The same when the broker is known to be away: the stop's waits are all for the broker (commits, a last fetch,
# leaving the group), which cannot answer, and nothing is lost by leaving now (outside trial 60, LOW-3: a SIGTERM
# during an outage took the full 25 s and read like a hang).
STOP_GRACE_BROKER_AWAY_S = min(STOP_GRACE_S, 3.0)


async def take_batches(stream: Any, max_: int, within: float) -> AsyncIterator[list[Any]]:
    """Faust's ``Stream.take_events`` with natural batching: the batch is yielded as soon as the records
    that have arrived stop coming, not when a fixed timer runs out.

    ``take_events(max_, within)`` waits until `max_` records or `within` seconds after the previous batch,
    even for one record on an idle stream: every hop adds up to `within` of latency. Here the wait starts
    with the first record; the batch grows while records keep arriving (checked every SETTLE_ROUNDS
    event-loop rounds, enough for the fetcher to hand over what it has fetched) and is yielded when they
    stop, at `max_` records, or `within` seconds after its first record. Under load, a batch is what one
    fetch brought (the fetcher hands records over 100 at a time, then asks the consumer thread for more);
    when it is quiet, a record goes on at once. The events of a batch are acked after the consumer of this
    generator has finished with it (its ``async for`` body), and only then: unlike ``take_events``, a body that
    raised acks nothing of its batch (the agents restart the worker instead of raising: ``agents.batch_failed``)."""
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
            finished = False
            try:
                yield events
                finished = True
            finally:
                buffer.clear()
                arrived.clear()
                # Acked only when the body finished with the batch: a body that raised (a send that failed, a
                # cancel) leaves its records unacked, so their offsets are never committed without their outputs.
                # That alone does not get them read again: Faust restarts an agent that raised in place, and its
                # stream goes on past them. So the agents let no failure out of the body (agents.batch_failed:
                # the worker starts afresh from the last commit). Outputs are deduplicated by id downstream.
                if finished:
                    for event in events:
                        await stream.ack(event)
                if consuming is not None and not consuming.done():
                    consuming.set_result(None)
                room.set()
    finally:
        stream.enable_acks = acks_enabled
        stream._processors.remove(add_to_buffer)


def rebalancing(app: Any) -> bool:
    """Whether the app's consumer group is rebalancing now (Faust sets ``App.rebalancing`` from the moment it is
    told until the new assignment is taken). False for anything that is not a Faust app."""
    return getattr(app, "rebalancing", False) is True


@contextmanager
def as_current_event(event: Any) -> Iterator[None]:
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
                        # Faust logs this only at its "dev" level; the recovery watch below reports it.
                        dropped = self.__dict__.setdefault("_wf_dropped", {})
                        dropped[tp] = dropped.get(tp, 0) + 1
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


class StallClock:
    """When to restart a recovery that stopped making progress, and when to give up (pure: RecoveryWatch
    feeds it what the recovery has read, at monotonic times)."""

    def __init__(self, stall_s: float, restarts: int) -> None:
        self.stall_s = stall_s
        self.restarts = restarts
        self._seen: Mapping[Any, Any] | None = None  # what had been read at `_since`
        self._since = 0.0
        self.restarted = 0  # restarts since the last progress

    def observe(self, now: float, behind: bool, read: Mapping[Any, Any]) -> str | None:
        """None (wait), "restart", or "give up"."""
        if not behind:  # caught up, or no recovery in progress
            self._seen, self.restarted = None, 0
            return None
        if read != self._seen:  # progress (or a new recovery): the clock starts again
            if self._seen is not None:
                self.restarted = 0
            self._seen, self._since = dict(read), now
            return None
        if now - self._since < self.stall_s:
            return None
        self._since = now
        if self.restarted >= self.restarts:
            return "give up"
        self.restarted += 1
        return "restart"


class RecoveryWatch:
    """Restarts a table recovery that stopped making progress, and says what the consumer was doing.

    A worker that takes over partitions (a failover, a rebalance) reads their changelog before its agents
    resume. faust-streaming 0.15.3 can sit in that recovery for ever, warning "No event received for active
    tp ... since recovery start" every 5 s, while the partitions' alerts wait: seen in CI, on a loaded
    machine, right after the other worker was killed (tests/functional/test_distributed_failover.py), and
    in the rebalance after a broker outage (tests/integration/test_broker_outage.py), with the flow active,
    the fetcher running and nothing dropped: the records never came from the fetcher. A fresh start of the
    recovery ended it there within 4 s; it is what Faust does itself when a rebalance interrupts one: seek
    the changelogs to what has been read (which resets the client's fetch of them), resume them and the
    flow. So: when the active changelogs are behind and none of them was read further for `stall_s`, the
    watch logs the consumer's state (flow, paused partitions, read offsets, records its fetch loop dropped)
    as a warning and restarts the recovery; after `restarts` restarts in a row without progress the worker
    crashes with `WorkerStalled`, and `run_worker` starts it afresh in the same process (nothing is lost: the
    state is in the changelog, the inputs are uncommitted)."""

    def __init__(self, app: Any, stall_s: float = 10.0, restarts: int = 3) -> None:
        self.app = app
        self.clock = StallClock(stall_s, restarts)

    async def check(self, now: float) -> str | None:
        """Look at the recovery at monotonic time `now`; returns what the clock decided."""
        recovery = self.app.tables.recovery
        behind = bool(recovery.in_recovery and recovery.need_recovery())
        action = self.clock.observe(now, behind, recovery.active_offsets if behind else {})
        if action == "restart":
            log.warning(
                "table recovery: no changelog record read for %.0f s while behind; restarting it (%d of %d): %s",
                self.clock.stall_s,
                self.clock.restarted,
                self.clock.restarts,
                self.describe(recovery),
            )
            recovery.signal_recovery_start.set()  # what a rebalance does: _restart_recovery begins again
        elif action == "give up":
            log.error(
                "table recovery: no progress after %d restarts (%s)", self.clock.restarted, self.describe(recovery)
            )
            stalled = WorkerStalled(f"table recovery made no progress after {self.clock.restarted} restarts")
            await self.app.crash(stalled)
        return action

    def describe(self, recovery: Any) -> str:
        """One line: per active changelog partition what was read of what there is, and the consumer's flow."""
        consumer = self.app.consumer
        paused = consumer._paused_partitions
        read = consumer._read_offset
        dropped = consumer.__dict__.get("_wf_dropped", {})
        parts = [
            f"{tp.topic}[{tp.partition}] read {recovery.active_offsets.get(tp)} of {high}"
            f"{' paused' if tp in paused else ''} next>={read.get(tp)} dropped {dropped.get(tp, 0)}"
            for tp, high in sorted(recovery.active_highwaters.items())
        ]
        flow = "active" if consumer.flow_active else "stopped"
        fetcher = getattr(self.app, "_fetcher", None)
        return (
            f"flow {flow}, fetcher {getattr(fetcher, 'state', '?')}, "
            f"changelog queue {self.app.tables.changelog_queue.qsize()}; " + "; ".join(parts)
        )


def exit_if_stuck(app: Any, grace_s: float, *, broker_away: bool = False) -> threading.Timer:
    """Exit the process if the app's stop has not finished within `grace_s` seconds (a daemon thread's timer).

    Faust's stop first waits for every record its streams took to be acknowledged, committing offsets as it
    goes, with no time limit. After a broker outage, on a loaded machine, a worker whose group coordinator
    had not been found again sat in that wait for over a minute after SIGTERM (tests/integration/
    test_broker_outage.py, once). Exiting then loses nothing: outputs are flushed before their inputs'
    offsets are committed, so what was not committed is read again by the next worker, and every step
    downstream is idempotent. The exit code is 1 if the app had crashed, else 0 (a stop was asked for). A
    crashed app's ``after_stuck_stop(reason)``, when set, is called first: the worker restarts itself there
    after a crash a fresh start cures (it does not return then). `broker_away`: the broker was unreachable when
    the stop began, which the line says instead of a stop that hung."""

    def give_up() -> None:
        crashed = bool(getattr(app, "crashed", False))
        if broker_away:
            log.warning(
                "the broker is unreachable, so the worker stops without waiting for it; exiting now (records not "
                "yet committed are read again by the next worker)"
            )
        else:
            log.warning(
                "the worker did not stop within %.0f s; exiting now (records not yet committed are read again by "
                "the next worker)",
                grace_s,
            )
        after = getattr(app, "after_stuck_stop", None)
        if crashed and after is not None:
            after(getattr(app, "crash_reason", None))
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        logging.shutdown()
        os._exit(1 if crashed else 0)

    timer = threading.Timer(grace_s, give_up)
    timer.daemon = True  # a stop that finishes exits the process, and the timer with it
    timer.start()
    return timer


def quiet_stop_errors(app: Any, fallback: Callable[[Any], object]) -> Callable[[Any], None]:
    """A `threading.excepthook` for the worker: once its stop has begun, the consumer thread that ends by a
    cancellation or an unreachable broker (aiokafka's fetcher, closed while a fetch waited to retry: NodeNotReadyError,
    then CancelledError) leaves one line, not two tracebacks a newcomer reads as a crash (outside trial 60, LOW-3).
    Anything else, or before the stop, goes to `fallback` (Python's own hook: the traceback)."""

    def hook(args: Any) -> None:
        chain: list[BaseException] = []
        e: BaseException | None = args.exc_value
        while e is not None and len(chain) < 5:
            chain.append(e)
            e = e.__context__
        expected = any(isinstance(x, asyncio.CancelledError) or type(x).__name__ in UNREACHABLE for x in chain)
        if getattr(app, "stopping", False) and expected:
            names = " after ".join(f"{type(x).__name__}" for x in chain)
            log.info("%s ended while the worker stopped (%s)", getattr(args.thread, "name", "a thread"), names)
            return
        fallback(args)

    return hook


class WorkerStalled(RuntimeError):
    """The worker stopped making progress in a way that only a fresh start cures (a table recovery that reads
    nothing, a consumer whose fetch loop died). `run_worker` starts the worker again in the same process."""


def tolerate_closed_transport() -> bool:
    """Make aiokafka take a write to a connection that has just closed as a broken connection, on any event loop.

    aiokafka's ``AIOKafkaConnection.send`` writes to the connection's transport and takes an ``OSError`` as a
    broken connection (it closes the connection and raises ``KafkaConnectionError``, which every caller
    retries). When the broker closes the connection between its last read and this write, asyncio's
    transport ignores the write, but uvloop's raises ``RuntimeError: unable to perform operation on
    <TCPTransport closed=True ...>`` (aio-libs/aiokafka#1038, open). In the consumer's fetch loop that error
    is unexpected: the loop ends and the consumer never fetches again, silently (seen in CI after a broker
    outage: the worker's detections stopped while the archive caught up). Here the same ``RuntimeError``
    from a transport that is closing is turned into what an ``OSError`` becomes. Returns False if it was in
    place already."""
    from aiokafka import conn
    from aiokafka.errors import KafkaConnectionError

    cls = conn.AIOKafkaConnection
    if getattr(cls.send, "_wf_tolerates_closed_transport", False):
        return False
    send = cls.send

    def send_or_broken(self: Any, request: Any, expect_response: bool = True) -> Any:
        try:
            return send(self, request, expect_response)
        except RuntimeError as err:
            writer = self._writer
            if writer is None or not writer.transport.is_closing():
                raise
            self.close(reason=conn.CloseReason.CONNECTION_BROKEN)
            raise KafkaConnectionError(f"Connection at {self._host}:{self._port} broken: {err}") from err

    send_or_broken._wf_tolerates_closed_transport = True  # type: ignore[attr-defined]
    cls.send = send_or_broken
    return True


def dead_fetch_loop(app: Any) -> BaseException | None:
    """What ended the fetch loop of the app's consumer, if it ended with an error; None while it runs.

    aiokafka's consumer fetches in one task (``Fetcher._fetch_requests_routine``). When that task ends on an
    error it does not expect, it logs it and nothing else happens: the consumer stays up, in its group, and
    never fetches again (its ``error_future`` is watched by nobody). The worker's watch timer asks here."""
    task = getattr(_fetcher_of(app), "_fetch_task", None)
    if task is None or not task.done() or task.cancelled():
        return None
    exc: BaseException | None = task.exception()
    return exc


def _fetcher_of(app: Any) -> Any:
    """The aiokafka Fetcher of the app's consumer (it runs in the consumer's thread), or None before it exists."""
    thread = getattr(app.consumer, "_thread", None)
    consumer = getattr(thread, "_consumer", None)
    return getattr(consumer, "_fetcher", None)


class FetchLoopWatch:
    """Crashes the worker (`WorkerStalled`, which `run_worker` restarts) when its consumer's fetch loop died.

    Nothing is lost by the restart: inputs are committed only after their outputs, and the state is in the
    changelog."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def check(self) -> bool:
        """Look once; True if the fetch loop was found dead (the app has then been crashed)."""
        if self.app.should_stop:
            return False
        exc = dead_fetch_loop(self.app)
        if exc is None:
            return False
        cause = exc.__cause__ or exc
        log.error("the consumer's fetch loop ended (%s: %s); restarting the worker", type(cause).__name__, cause)
        # The consumer's stop awaits the fetch task, which raises its error again there: the consumer thread
        # died in its stop and the worker's stop waited for it until the stop grace, then exited 1 instead of
        # restarting. The error has been read; the stop is given a fetch loop that ended cleanly.
        ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        ended.set_result(None)
        _fetcher_of(self.app)._fetch_task = ended
        # Nor does the stop wait for the records the streams hold to be acknowledged (no time limit: once it sat
        # there until the stop grace): what was not committed is read again after the restart.
        self.app.conf.stream_wait_empty = False
        await self.app.crash(WorkerStalled(f"the consumer's fetch loop ended: {type(cause).__name__}: {cause}"))
        return True


def broker_credentials(security: KafkaSecurity) -> Any:
    """Faust's ``broker_credentials`` for `security` (None for PLAINTEXT): SASL user, password and mechanism,
    with the TLS context under SASL_SSL; the TLS context alone for SSL. Faust hands them to every aiokafka
    client it makes (consumer, producer, the admin client that creates topics)."""
    import faust

    context = security.ssl_context()
    if security.sasl:
        return faust.SASLCredentials(
            username=security.username, password=security.password, mechanism=security.mechanism, ssl_context=context
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def app_class() -> Any:
    """faust.App whose consumer seeks with `_perform_seek` and delivers records with `_drain_messages` above.

    Both replace methods of faust-streaming 0.15.3 (pinned in pyproject.toml). On any other release the
    worker refuses to start rather than run with the record losses `_perform_seek` closes."""
    import faust

    if faust.__version__ != PATCHED_FAUST:
        raise RuntimeError(
            f"faust-streaming {faust.__version__} is installed; the worker is built on {PATCHED_FAUST} "
            f"(watchfloor/stream_processors/kafka/compat.py replaces two of its consumer's methods): "
            f"pip install 'faust-streaming=={PATCHED_FAUST}'"
        )
    overrides = {"_drain_messages": _drain_messages, "perform_seek": _perform_seek}
    tolerate_closed_transport()  # Faust's client is aiokafka, and the worker's loop uvloop

    class App(faust.App):
        after_stuck_stop: Callable[[BaseException | None], None] | None = None  # see exit_if_stuck
        broker_available: Callable[[], bool] | None = None  # the worker's view of the broker (Availability)
        stopping = False

        async def on_stop(self) -> None:
            self.stopping = True
            away = self.broker_available is not None and not self.broker_available()
            # run_app cancels it once the worker has stopped (it may then wait for the broker, and restart)
            self.stop_timer = exit_if_stuck(self, STOP_GRACE_BROKER_AWAY_S if away else STOP_GRACE_S, broker_away=away)
            await super().on_stop()

        def on_init_dependencies(self) -> Any:
            deps = super().on_init_dependencies()
            # Faust's Monitor sensor keeps statistics of every record, event and send for its web views and
            # metrics exporters, none of which a watchfloor worker runs (web_enabled=False): 3-5 µs per record
            # of the worker's ~150-200 (BENCHMARKS.md). Its consumer still calls the monitor object directly
            # for end offsets and commits; it is only left out of the per-record sensor calls.
            self.sensors.remove(self.monitor)
            return deps

        def on_rebalance_start(self) -> None:
            super().on_rebalance_start()
            # With no sensor left (the monitor above), Faust's state of a rebalance is {}, which it reads as
            # "missing" and warns of at every rebalance's return and end ("Missing sensor state for rebalance
            # #1", outside trial 22, L4): a state that is there, for no sensor, says what is true.
            if not self._rebalancing_sensor_state and not any(True for _ in self.sensors):
                self._rebalancing_sensor_state = _NoSensors()

        def _new_transport(self) -> Any:
            transport: Any = super()._new_transport()
            base = transport.Consumer
            transport.Consumer = type(base.__name__, (base,), overrides)
            return transport

    return App


class _NoSensors(dict[Any, Any]):
    """The state of a rebalance for an app with no Faust sensors: empty, and there (see App.on_rebalance_start)."""

    def __bool__(self) -> bool:
        return True


class _QuietCrash(logging.Filter):
    """Drops the traceback Faust's worker logs for a crash that `expected(exc)` says the caller handles."""

    def __init__(self, expected: Callable[[BaseException | None], bool]) -> None:
        super().__init__()
        self.expected = expected

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return exc is None or not self.expected(exc)


class SinceAssignment(logging.Filter):
    """Drops faust-streaming's "… since start" slow-processing errors about a partition this worker was assigned
    less than their timeout ago (outside trial 22, M3: after a failover the new owner logged five ERROR blocks,
    "Stream has not started processing TP(…) (started 5.48 minutes ago)", 2 s after taking the partitions over,
    with nothing wrong). Faust measures those from the start of its consumer thread, not from the assignment: a
    worker up for longer than `stream_processing_timeout` (300 s) takes a partition over and is at once "late" on
    it. The same error after the timeout since the assignment is kept: then it may be true. `assigned` is called
    from the app's on_partitions_assigned with the partitions it got."""

    def __init__(self, timeout_s: Callable[[], float], clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        from faust.transport.drivers import aiokafka as driver

        # Faust's own templates (each formatted with the partition, then the time since the thread started).
        self.templates = tuple(
            getattr(driver, name).split("%r")[0]
            for name in (
                "SLOW_PROCESSING_NO_FETCH_SINCE_START",
                "SLOW_PROCESSING_NO_RESPONSE_SINCE_START",
                "SLOW_PROCESSING_NO_HIGHWATER_SINCE_START",
                "SLOW_PROCESSING_STREAM_IDLE_SINCE_START",
                "SLOW_PROCESSING_NO_COMMIT_SINCE_START",
            )
        )
        self.timeout_s = timeout_s
        self.clock = clock
        self.at: dict[tuple[str, int], float] = {}  # (topic, partition) -> when this worker was assigned it

    def assigned(self, partitions: Any) -> None:
        now = self.clock()
        for tp in partitions:
            self.at[(tp.topic, tp.partition)] = now

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.msg if isinstance(record.msg, str) else ""
        if not record.args or not isinstance(record.args, tuple) or not any(t in msg for t in self.templates):
            return True
        tp = record.args[0]
        when = self.at.get((getattr(tp, "topic", None), getattr(tp, "partition", None)))  # type: ignore[arg-type]
        return when is None or self.clock() - when >= self.timeout_s()


def use_event_loop(choice: str) -> str:
    """Make `choice` ("auto", "uvloop", "asyncio") the event loop Faust's worker will create, before anything
    created one; returns the loop used. faust-streaming supports uvloop (its `uvloop` extra: mode's
    ``mode.loop.use("uvloop")`` does the same as here): Faust's streams take a loop round per record, and
    uvloop's rounds, transports and thread wake-ups are in C."""
    if choice == "asyncio":
        return "asyncio"
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise ImportError("event loop uvloop is not installed: pip install 'watchfloor[kafka]'") from None
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


def run_app(
    app: Any, loglevel: str, *, expected_crash: Callable[[BaseException | None], bool] | None = None
) -> tuple[int, BaseException | None]:
    """Run `app` as a Faust worker in this process until SIGTERM/SIGINT or a crash. Returns the exit code and,
    after a crash, what crashed it (Faust's worker exits through SystemExit, the error as its context).
    Crashes `expected_crash` accepts are not logged with their traceback here (the caller says what happened)."""
    import faust

    if expected_crash is not None:
        quiet = _QuietCrash(expected_crash)
        for name in ("mode.worker", "faust.worker"):
            logging.getLogger(name).addFilter(quiet)

    class Worker(faust.Worker):
        stopped_by: str | None = None  # the signal that asked for the stop

        def _schedule_shutdown(self, signal: Any) -> None:
            self.stopped_by = self.stopped_by or getattr(signal, "name", str(signal))
            super()._schedule_shutdown(signal)

    worker = Worker(app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    try:
        worker.execute_from_commandline()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if not code and worker.stopped_by:
            # the last line of a clean stop, so that one can be told from a crash or a kill (outside trial 14, L4)
            log.warning("worker stopped (%s)", worker.stopped_by)
        return code, (worker.crash_reason or e.__context__) if code else None
    finally:
        timer = getattr(app, "stop_timer", None)
        if timer is not None:
            timer.cancel()  # the stop is over
    return 0, None  # pragma: no cover - execute_from_commandline always exits
