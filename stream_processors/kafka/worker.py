"""Running one worker process: wait for the topics, build the app, run it until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import NoReturn

from watchfloor.schemas.config import KafkaConfig

from ..engine import Engine
from .agents import DetectionSink
from .app import build_app
from .clients import Availability, unreachable_errors
from .compat import run_app
from .topics import MissingTopics, check_topics

log = logging.getLogger(__name__)
PACKAGE_LOG = "watchfloor.stream_processors.kafka"  # every module of the runtime logs below this one


def wait_for_topics(settings: KafkaConfig) -> None:
    """Return once the broker answers and the topics exist with the expected layout. While the broker is away
    it waits (one log line when it goes, one when it is back); missing topics are waited for up to
    `settings.wait_for_topics` seconds (one line naming the command that creates them), then MissingTopics."""
    deadline = time.monotonic() + settings.wait_for_topics
    broker = Availability(f"Kafka broker {settings.bootstrap}", log, meanwhile="the worker waits for it")
    unreachable = unreachable_errors()
    warned = False
    while True:
        try:
            check_topics(settings.bootstrap, settings.prefix, settings.partitions, timeout_s=10.0)
            broker.up()
            return
        except MissingTopics as e:
            broker.up()
            if time.monotonic() >= deadline:
                raise
            if not warned:  # one line, not one every two seconds
                log.warning("%s; waiting up to %.0fs for them", e, settings.wait_for_topics)
                warned = True
        except unreachable as e:
            broker.down(e)
        time.sleep(2.0)


def trace_to_stderr() -> None:
    """Log watchfloor's per-batch lines (offsets, watermarks, detections) at debug; Faust stays at its level.

    Faust's log handler filters at the worker's loglevel, so these lines get a handler of their own."""
    pkg = logging.getLogger(PACKAGE_LOG)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s"))
    pkg.addHandler(handler)
    pkg.setLevel(logging.DEBUG)
    pkg.propagate = False


def run_worker(
    engine: Engine,
    settings: KafkaConfig,
    sink: DetectionSink | None = None,
    *,
    loglevel: str = "info",
    trace: bool = False,
    heartbeat: Callable[[], None] | None = None,
) -> NoReturn:
    """Run one worker until SIGTERM/SIGINT, then exit (SystemExit). Start several with the same group to
    share the partitions. The topics must exist (`watchfloor topics create`; `watchfloor produce` creates
    them too): a worker started first waits up to `settings.wait_for_topics` seconds for them."""
    wait_for_topics(settings)
    app = build_app(engine, settings, sink, heartbeat=heartbeat)
    if trace:
        trace_to_stderr()
    run_app(app, loglevel)
    raise SystemExit(0)  # pragma: no cover - run_app exits
