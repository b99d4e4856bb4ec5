"""The Faust app of one worker: the topics, the state table and the three agents, wired from what it is given.

``build_app(engine, settings, sink)`` takes a ready engine (rules compiled by the caller), the typed
``kafka:`` settings and a detection sink (``sink.StoreSink``, or None to leave detections in Kafka). It
loads no rules, opens no store and reads no command line: ``watchfloor.wiring`` does that.

Delivery guarantees. At least once everywhere, made idempotent: Faust commits source offsets only after
flushing the producer (changelog included); the correlate agent waits for the broker to ack its detections
before it writes the table; records re-sent upstream are dropped by their origin (the ``wf-origin`` header)
and re-published documents by the set of applied (signal, detection) ids; detection ids are deterministic,
the store keeps one copy of each and the dispatcher's delivery ledger sends each (alert, channel) once.

Where time comes from. The publisher (``publisher.KafkaPublisher``) appends, after each publish, a
watermark record (the newest publication time of the batch) to EVERY documents partition, behind that
batch's documents. A partition that got no documents thus still moves on, and the last signals of a burst
are applied as soon as the markers are through: no timers, no guessing. With documents whose times are in
log order, detections then equal those of ``replay(order="event-time")`` and of the embedded runner,
whatever the partitioning, interleaving, number of workers or restarts. For producers that write no
markers there is ``idle_after`` (off by default; it costs determinism: see ``agents.Extract``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import orjson

from watchfloor.schemas.config import KafkaConfig
from watchfloor.schemas.topics import TopicNames

from ..engine import Engine
from ..fingerprint import release
from . import security
from .agents import Correlate, DetectionSink, Extract, Notify, Outputs
from .compat import FetchLoopWatch, RecoveryWatch, SinceAssignment, app_class, broker_credentials
from .failed_batches import FILE_NAME as FAILURES_FILE
from .failed_batches import FailureCounts, RetryPolicy
from .late import LateLog
from .partition import PartitionCorrelator
from .reader import watermarks_before
from .rules_guard import MixedGroup, MixedGroupWatch, RulesGuard, client_id, rules_fingerprint
from .topics import STATE_RECORD_MAX_BYTES, STATE_TABLE, faust_broker_url

log = logging.getLogger(__name__)

ASSIGNMENT_LOG = "watchfloor-assignment"  # log marker, followed by {topic: [partitions]} as JSON
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


HEARTBEAT_S = 5.0
RECOVERY_WATCH_S = 2.0  # how often the watches look at the consumer: its fetch loop, a table recovery in progress


def build_app(
    engine: Engine,
    settings: KafkaConfig,
    sink: DetectionSink | None = None,
    *,
    heartbeat: Callable[[], None] | None = None,
    fingerprint: str | None = None,
    restart: Callable[[], NoReturn] | None = None,
    late_log: LateLog | None = None,
) -> Any:
    """A faust.App running extract, correlate and notify for `engine`.

    `settings.partitions` is the partition count of the documents, signals and correlate topics (they are
    co-partitioned). Workers with the same group (`settings.group`) share the partitions. `sink` keeps the
    detections (and delivers their alerts); without it detections stay in Kafka.

    `table_store` is Faust's local store for the state table: ``memory://`` (the state is rebuilt from the
    changelog topic at start, which is quick at these sizes) or ``rocksdb://`` (the ``rocksdb`` extra),
    kept under the data directory, which must then be this worker's own and the same across its restarts:
    a restarted worker reads only the changelog written since its last write.

    `batch_within` is how long each agent waits to fill a batch: each hop may add that much latency, and
    longer batches share each batch's fixed costs (watermarks, state writes, acknowledgement waits) over
    more records (BENCHMARKS.md measures the trade).

    `heartbeat`, when given, is called every HEARTBEAT_S seconds from the worker's event loop (a container
    health check watches it: a worker whose loop is stuck stops beating).

    `restart` starts the worker again in this process: what an agent does after a batch that failed
    (``agents.batch_failed``; without it the process exits).

    `late_log` counts the late documents the extract agent takes, per source (``late.StoreLateLog``: the row in the
    store `status --broker` and /metrics read; in memory without it)."""
    check_table_store(settings.table_store)
    if fingerprint is None:  # the worker passes the one it checked the group with
        fingerprint = rules_fingerprint(engine)
    names = TopicNames(settings.prefix)
    group = settings.group
    if not settings.datadir:
        raise ValueError("the worker's data directory is not set (watchfloor.wiring.worker_settings decides it)")
    datadir = Path(settings.datadir)
    datadir.mkdir(parents=True, exist_ok=True)  # Faust creates only the last level
    partitions = settings.partitions
    session_timeout = settings.session_timeout
    app = app_class()(
        group,
        broker=faust_broker_url(settings.bootstrap),
        # SASL / TLS as every other client of this process (the security the command installed from `kafka:`)
        broker_credentials=broker_credentials(security.current()),
        store=settings.table_store,
        topic_partitions=partitions,
        topic_disable_leader=True,  # no extra internal topic: nothing here needs a leader
        web_enabled=False,  # several workers on one host must not fight over port 6066
        datadir=str(datadir),
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=session_timeout,
        broker_heartbeat_interval=min(3.0, session_timeout / 3),
        producer_acks=-1,
        producer_linger_ms=1,
        # A correlate partition's state is one changelog record: aiokafka's 1 MB default refused it at a few
        # hundred rules ("MessageSizeTooLargeError", and the worker died). The changelog topic allows as much
        # (topics.changelog_spec); over STATE_MAX_BYTES the correlate agent stops with a clear message instead.
        # Consumers need no change: the broker hands a record over the fetch size to them whole (KIP-74).
        producer_max_request_size=STATE_RECORD_MAX_BYTES,
        autodiscover=False,
        # Which worker is which member, and which rules it runs (rules_guard: a stranger is refused at start).
        broker_client_id=client_id(group, socket.gethostname(), os.getpid(), fingerprint),
    )

    def raw_topic(name: str) -> Any:
        return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")

    # Failed batches in a row, per agent, counted across the restarts they cause (failed_batches).
    counts = FailureCounts(datadir / FAILURES_FILE)
    policy = RetryPolicy(
        isolate_after=settings.failed_batch_isolate_after,
        backoff=settings.failed_batch_backoff,
        backoff_max=settings.failed_batch_backoff_max,
    )
    table = app.Table(STATE_TABLE, default=None, partitions=partitions, key_type=bytes, value_type=bytes)
    idle_after = settings.idle_after
    outputs = Outputs(app, names)

    async def recall(first: dict[int, int]) -> dict[int, float]:
        # kafka-python, off the event loop: a few requests per documents partition taken over
        return await asyncio.to_thread(watermarks_before, settings.bootstrap, names.documents, first)

    extract = Extract(
        app,
        engine,
        outputs,
        partitions=partitions,
        batch_within=settings.batch_within,
        idle_after=idle_after,
        rules=fingerprint,
        restart=restart,
        counts=counts,
        policy=policy,
        recall=recall,
        late_log=late_log,
    )
    # Every correlate partition may hold a derived detection's group (detections over detections): partition.py
    pc = PartitionCorrelator(
        engine, partitions, correlate_partitions=partitions, lease=idle_after * 2 if idle_after else None
    )

    async def members() -> list[str] | None:
        from .status import group_members  # kafka-python's admin, off the event loop

        return await asyncio.to_thread(group_members, settings.bootstrap, group)

    async def stop_mixed(message: str) -> None:
        await app.crash(MixedGroup(message))  # run_worker exits with MIXED_GROUP_EXIT, never restarts

    # Two workers started together into an empty group both pass the check at start (outside trial 86, F5): the
    # group is looked at again after each assignment and on a record routed under another fingerprint.
    watch = MixedGroupWatch(fingerprint, group, members, stop_mixed, allowed_s=2 * session_timeout)
    guard = RulesGuard(fingerprint, group=group, on_foreign=lambda: watch.trigger("record"))
    correlate = Correlate(
        table,
        pc,
        outputs,
        batch_within=settings.batch_within,
        guard=guard,
        restart=restart,
        counts=counts,
        policy=policy,
    )
    notify = Notify(sink, outputs, batch_within=settings.batch_within, restart=restart, counts=counts, policy=policy)

    # Faust registers agents and timers by function; these name them.
    async def extract_agent(stream: Any) -> None:
        await extract.run(stream)

    async def correlate_agent(stream: Any) -> None:
        await correlate.run(stream)

    async def notify_agent(stream: Any) -> None:
        await notify.run(stream)

    async def mark_idle() -> None:
        await extract.mark_idle()

    async def deliver_on_time() -> None:
        await notify.deliver_on_time()

    recovery = RecoveryWatch(app)
    fetching = FetchLoopWatch(app)

    async def watch_consumer() -> None:
        if not await fetching.check():
            await recovery.check(time.monotonic())

    async def announce() -> None:
        log.info(
            "watchfloor worker %s: %d detection(s), rules %s, topics %s · watchfloor %s",
            group,
            len(engine.rules.detections),
            fingerprint,
            ", ".join(names.all()),
            release(),  # the release this process runs (outside trial 86, F3)
        )

    # Faust's "… since start" slow-processing errors, about partitions just taken over, are not said (compat.py).
    since_assignment = SinceAssignment(
        lambda: max(app.conf.stream_processing_timeout, app.conf.broker_commit_livelock_soft_timeout)
    )
    faust_consumer_log = logging.getLogger("faust.transport.drivers.aiokafka")
    for earlier in [f for f in faust_consumer_log.filters if isinstance(f, SinceAssignment)]:
        faust_consumer_log.removeFilter(earlier)  # a worker restarted in this process: one filter, the new app's
    faust_consumer_log.addFilter(since_assignment)

    async def log_assignment(app_: Any, assigned: Any, **kwargs: Any) -> None:
        since_assignment.assigned(assigned)
        by_topic: dict[str, list[int]] = {}
        for tp in assigned:
            by_topic.setdefault(tp.topic, []).append(tp.partition)
        # One parseable line per rebalance: which partitions this worker now owns (tests read it too).
        log.info("%s %s", ASSIGNMENT_LOG, orjson.dumps({k: sorted(v) for k, v in sorted(by_topic.items())}).decode())
        watch.trigger("assignment")

    async def forget_revoked(app_: Any, revoked: Any, **kwargs: Any) -> None:
        extract.forget([tp.partition for tp in revoked if tp.topic == names.documents])

    app.agent(raw_topic(names.documents), name="extract")(extract_agent)
    app.agent(raw_topic(names.correlate), name="correlate")(correlate_agent)
    app.agent(raw_topic(names.detections), name="notify")(notify_agent)
    app.timer(max((idle_after or 60.0) / 4, 0.25))(mark_idle)
    app.timer(RECOVERY_WATCH_S)(watch_consumer)
    app.task(announce)
    if notify.delivers:  # retries and digests fall due with no detection coming in
        app.task(deliver_on_time)
    if heartbeat is not None:

        async def beat() -> None:
            heartbeat()

        app.timer(HEARTBEAT_S)(beat)
    app.on_partitions_assigned.connect(log_assignment)
    app.on_partitions_revoked.connect(forget_revoked)
    return app
