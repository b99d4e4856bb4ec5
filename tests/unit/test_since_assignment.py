"""Faust's "… since start" slow-processing errors about a partition just taken over are not logged (outside trial
22, M3): the new owner of a failover logged five ERROR blocks 2 s after the assignment, "started 5.48 minutes ago"
being the age of its consumer thread. Records made as faust-streaming's consumer thread makes them."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from faust.transport.drivers import aiokafka as driver
from faust.types import TP

from watchfloor.schemas.config import KafkaConfig
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.kafka.app import build_app
from watchfloor.stream_processors.kafka.compat import SinceAssignment
from watchfloor.stream_processors.rulefile import load_rules


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(template: str, tp: TP, ago: str = "5.48 minutes ago") -> logging.LogRecord:
    # Faust's thread logs "[^---AIOKafkaConsumerThread]: " + the template + its explanation, the args after.
    msg = f"[^---AIOKafkaConsumerThread]: {template} There are multiple possible explanations …"
    return logging.LogRecord("faust.transport.drivers.aiokafka", logging.ERROR, __file__, 1, msg, (tp, ago), None)


def test_a_since_start_error_about_a_partition_just_assigned_is_dropped_and_kept_after_the_timeout() -> None:
    clock = Clock()
    quiet = SinceAssignment(lambda: 300.0, clock)
    docs = TP("t.documents", 2)
    quiet.assigned([docs, TP("t.correlate", 1)])
    clock.now += 2.0  # two seconds after the takeover
    for name in (
        "SLOW_PROCESSING_STREAM_IDLE_SINCE_START",
        "SLOW_PROCESSING_NO_COMMIT_SINCE_START",
        "SLOW_PROCESSING_NO_HIGHWATER_SINCE_START",
        "SLOW_PROCESSING_NO_FETCH_SINCE_START",
    ):
        assert not quiet.filter(record(getattr(driver, name), docs)), name
    # a partition it was not (or not recently) assigned, another message: kept
    assert quiet.filter(record(driver.SLOW_PROCESSING_STREAM_IDLE_SINCE_START, TP("t.documents", 0)))
    assert quiet.filter(record(driver.SLOW_PROCESSING_STREAM_IDLE, docs))
    plain = logging.LogRecord("x", logging.ERROR, __file__, 1, "something else %s", ("a",), None)
    assert quiet.filter(plain)
    clock.now += 300.0  # the timeout since the assignment: the error may be true now
    assert quiet.filter(record(driver.SLOW_PROCESSING_STREAM_IDLE_SINCE_START, docs))
    quiet.assigned([docs])  # assigned again (a later rebalance): quiet again
    assert not quiet.filter(record(driver.SLOW_PROCESSING_STREAM_IDLE_SINCE_START, docs))


def test_the_worker_app_installs_it_on_faust_s_consumer_logger_and_feeds_it_the_assignments(tmp_path: Path) -> None:
    logger = logging.getLogger("faust.transport.drivers.aiokafka")
    before = set(map(id, logger.filters))
    engine = Engine(load_rules(["builtin:dprk_russia"])[1])
    app = build_app(engine, KafkaConfig(bootstrap="127.0.0.1:9", prefix="t", datadir=str(tmp_path)))
    added = [f for f in logger.filters if id(f) not in before]
    try:
        assert len(added) == 1 and isinstance(added[0], SinceAssignment)
        docs = TP("t.documents", 0)
        asyncio.run(app.on_partitions_assigned.send(assigned={docs}))
        assert not added[0].filter(record(driver.SLOW_PROCESSING_STREAM_IDLE_SINCE_START, docs))
    finally:
        for f in added:
            logger.removeFilter(f)


def test_a_rebalance_of_the_worker_app_logs_no_missing_sensor_state_warning(tmp_path: Path) -> None:
    """The worker leaves Faust's monitor sensor out (compat.App.on_init_dependencies), so a rebalance's sensor state
    was {} and Faust warned "Missing sensor state for rebalance #1" at every rebalance (outside trial 22, L4)."""
    engine = Engine(load_rules(["builtin:dprk_russia"])[1])
    app = build_app(engine, KafkaConfig(bootstrap="127.0.0.1:9", prefix="t", datadir=str(tmp_path)))
    app.on_init_dependencies()  # as the worker's start does: the monitor is left out
    assert list(app.sensors) == []
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    keep = Keep(logging.WARNING)
    app.log.logger.addHandler(keep)
    try:
        app.on_rebalance_start()
        app.on_rebalance_return()
        app.on_rebalance_end()
    finally:
        app.log.logger.removeHandler(keep)
    assert [r.getMessage() for r in seen if "sensor state" in r.getMessage()] == []
    assert app.rebalancing is False and app._rebalancing_sensor_state is None
