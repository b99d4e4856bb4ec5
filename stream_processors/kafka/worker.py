"""Running one worker process: wait for the topics, build the app, run it until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn

from watchfloor.schemas.config import KafkaConfig

from ..engine import Engine
from .agents import DetectionSink
from .app import build_app
from .clients import Availability, funnel_client_logs, unreachable_errors
from .compat import WorkerStalled, quiet_stop_errors, run_app, use_event_loop
from .late import LateLog
from .rules_guard import MIXED_GROUP_EXIT, MixedGroup, RulesMismatch, mismatch_message, rules_fingerprint, strangers
from .topics import MissingTopics, check_topics, ensure_changelog
from .unreachable import BROKER_REMINDERS, UNREACHABLE

log = logging.getLogger(__name__)
PACKAGE_LOG = "watchfloor.stream_processors.kafka"  # every module of the runtime logs below this one


def wait_for_topics(settings: KafkaConfig, broker: Availability | None = None) -> None:
    """Return once the broker answers and the topics exist with the expected layout, the worker group's state
    changelog included (created here if missing: topics.ensure_changelog). While the broker is away it waits
    (one log line when it goes, one when it is back); missing topics are waited for up to
    `settings.wait_for_topics` seconds (one line naming the command that creates them), then MissingTopics."""
    deadline = time.monotonic() + settings.wait_for_topics
    if broker is None:
        broker = Availability(
            f"Kafka broker {settings.bootstrap}", log, meanwhile="the worker waits for it", confirm=True
        )
    unreachable = unreachable_errors()
    warned = False
    while True:
        try:
            check_topics(settings.bootstrap, settings.prefix, settings.partitions, timeout_s=10.0)
            if ensure_changelog(settings.bootstrap, settings.group, settings.partitions, timeout_s=10.0):
                log.info("created the state changelog topic of worker group %s", settings.group)
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
            broker.down(e, lasting=True)  # the check waited up to its timeout
        time.sleep(2.0)


def wait_for_one_rule_set(
    settings: KafkaConfig,
    fingerprint: str,
    members: Callable[[], list[str] | None] | None = None,
    *,
    broker: Availability | None = None,
    poll_s: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once no member of the worker group runs other rules than `fingerprint`; RulesMismatch if some
    still do after twice the session timeout (a worker killed a moment ago stays a member that long).

    `members()` lists the group (client id @ host), or None when the broker does not say (the check is then
    skipped, with a warning: the correlate agent's check of each record still runs); the broker is asked by
    default. While the broker is away it waits, as `wait_for_topics` does; that wait does not count against
    the deadline."""
    if members is None:
        from .status import group_members

        def members() -> list[str] | None:
            return group_members(settings.bootstrap, settings.group)

    unreachable = unreachable_errors()
    allowed = 2 * settings.session_timeout
    deadline: float | None = None
    said = False
    while True:
        try:
            listed = members()
        except unreachable as e:
            if broker is not None:
                broker.down(e, lasting=True)
            else:
                log.warning("rules check: Kafka broker %s unreachable (%s); waiting for it", settings.bootstrap, e)
            deadline = None  # the member that was leaving had time to go
            sleep(poll_s)
            continue
        if broker is not None:
            broker.up()
        if listed is None:
            # (not a failure: Faust's own assignor data, or a group still forming, is not described; the trial that
            # read it as one, outside trial 39, L, had nothing wrong)
            log.info(
                "rules check at start skipped: the broker did not describe group %s's members (usual while the group "
                "forms); the correlate agent still logs any record routed under other rules",
                settings.group,
            )
            return
        others = strangers(listed, fingerprint)
        if not others:
            return
        message = mismatch_message(settings.group, fingerprint, others)
        now = clock()
        if deadline is None:
            deadline = now + allowed
        if now >= deadline:
            raise RulesMismatch(message)
        if not said:
            log.error("%s Waiting up to %.0fs for them to leave.", message, allowed)
            said = True
        sleep(poll_s)


def trace_to_stderr() -> None:
    """Log watchfloor's per-batch lines (offsets, watermarks, detections) at debug; Faust stays at its level.

    Faust's log handler filters at the worker's loglevel, so these lines get a handler of their own."""
    pkg = logging.getLogger(PACKAGE_LOG)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s"))
    pkg.addHandler(handler)
    pkg.setLevel(logging.DEBUG)
    pkg.propagate = False


def causes(exc: BaseException | None) -> Iterator[BaseException]:
    """`exc` and what caused it, each once (a crash arrives wrapped: SystemExit, KafkaError from ...)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def broker_trouble(exc: BaseException | None) -> bool:
    """Whether a crash came from the broker being away: a retriable Kafka error or a connection error,
    anywhere in the exception's chain."""
    return any(
        getattr(e, "retriable", False)
        or isinstance(e, ConnectionError | TimeoutError)
        or type(e).__name__ in UNREACHABLE
        for e in causes(exc)
    )


def restartable(exc: BaseException | None) -> bool:
    """Whether a crash is one a fresh start of the worker cures: the broker was away (`broker_trouble`), or the
    worker stalled (`WorkerStalled`: a table recovery that reads nothing, a consumer whose fetch loop died)."""
    return any(isinstance(e, WorkerStalled) for e in causes(exc)) or broker_trouble(exc)


def mixed_group(exc: BaseException | None) -> bool:
    """Whether a crash is this worker stopping in a group of mixed rules or releases (rules_guard.MixedGroup)."""
    return any(isinstance(e, MixedGroup) for e in causes(exc))


def restart_process() -> NoReturn:
    """Start this command again in this process (same pid, same output): a Faust app cannot be restarted."""
    for h in logging.getLogger().handlers:
        h.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


@contextmanager
def stopped_by_signal_while_waiting() -> Iterator[None]:
    """While the worker waits for its broker outside Faust (before the app starts, after a crash), SIGTERM or
    Ctrl-C ends it as they end a running worker: `worker stopped (SIGTERM)` last, exit 0. Without this, a worker
    waiting for an unreachable broker died of the signal (143) with no line (outside trial 22, L1)."""

    def stop(signum: int, frame: FrameType | None) -> NoReturn:
        log.warning("worker stopped (%s)", signal.Signals(signum).name)  # the words compat.run_app logs
        raise SystemExit(0)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)  # (Faust installs its own for the run)


def run_worker(
    engine: Engine,
    settings: KafkaConfig,
    sink: DetectionSink | None = None,
    *,
    loglevel: str = "info",
    trace: bool = False,
    heartbeat: Callable[[], None] | None = None,
    restart: Callable[[], NoReturn] = restart_process,
    broker_hint: str | None = None,
    late_log: LateLog | None = None,
    fingerprint: str | None = None,
) -> NoReturn:
    """Run one worker until SIGTERM/SIGINT, then exit (SystemExit). Start several with the same group to
    share the partitions. The topics must exist (`watchfloor topics create`; `watchfloor produce` creates
    them too): a worker started first waits up to `settings.wait_for_topics` seconds for them.

    While the broker is away the worker keeps retrying, and logs one line when it goes and one when it is
    back (aiokafka's own lines, one per retry, are funnelled: clients.funnel_client_logs). When an outage
    crashes the Faust worker (it does when the broker drops while the worker starts: NodeNotReadyError),
    the worker waits for the broker and starts again (`restart`: the same command, in the same process). So
    does a worker that stalled (`WorkerStalled`: its consumer's fetch loop died, or a table recovery read
    nothing after three restarts), and one whose agent's batch failed (`agents.batch_failed`: without Faust's stop,
    so that nothing after the batch is committed; at once the first time, then backing off, and a record that
    keeps failing alone is dead-lettered: `agents.BatchRetry`): a supervisor is not needed for any. The line
    that says the broker is away ends with `broker_hint` (where its address comes from), and is said again while
    the outage lasts (BROKER_REMINDERS): a mistyped address must not look like a quiet worker. `late_log`: where
    the extract agent counts its late documents (build_app). `fingerprint`: the rules fingerprint this worker
    announces and checks its group with (default: its engine's on this release; tests give another release's).

    A worker that finds its group mixed while it runs (rules_guard.MixedGroupWatch: a member with other rules or
    another release, one its check at start could not see) and must give way exits with MIXED_GROUP_EXIT, never
    restarting itself (a restart would only wait for the other rule set to leave)."""
    loop = use_event_loop(settings.event_loop)  # before anything creates a loop
    log.info("worker event loop: %s", loop)
    broker = Availability(
        f"Kafka broker {settings.bootstrap}",
        log,
        meanwhile="the worker waits for it" + (f" ({broker_hint})" if broker_hint else ""),
        confirm=True,
        remind=BROKER_REMINDERS,
    )
    funnel_client_logs("aiokafka", broker)  # Faust's client
    funnel_client_logs("kafka", broker)  # kafka-python: the topic check before start and after a crash
    with stopped_by_signal_while_waiting():
        wait_for_topics(settings, broker)
        if fingerprint is None:
            fingerprint = rules_fingerprint(engine)  # once: at 100,000 rules it takes seconds
        wait_for_one_rule_set(settings, fingerprint, broker=broker)
    app = build_app(
        engine, settings, sink, heartbeat=heartbeat, fingerprint=fingerprint, restart=restart, late_log=late_log
    )

    def restart_after_stuck_stop(reason: BaseException | None) -> None:
        if restartable(reason):  # its stop hung after a crash a fresh start cures: start afresh now
            log.warning("restarting the worker (%s: %s)", type(reason).__name__, reason)
            restart()

    app.after_stuck_stop = restart_after_stuck_stop
    app.broker_available = lambda: broker.available
    threading.excepthook = quiet_stop_errors(app, threading.__excepthook__)
    if trace:
        trace_to_stderr()
    code, crash = run_app(app, loglevel, expected_crash=lambda e: restartable(e) or mixed_group(e))
    if code and mixed_group(crash):  # said already (rules_guard.MixedGroupWatch): no traceback, no restart
        raise SystemExit(MIXED_GROUP_EXIT)
    if code and restartable(crash):
        # Faust's loop (and its signal handlers) is gone: a stop asked for while we wait is a clean exit.
        with stopped_by_signal_while_waiting():
            log.warning(
                "the worker stopped (%s: %s); it starts again once the broker answers", type(crash).__name__, crash
            )
            wait_for_topics(settings, broker)
        log.warning("restarting the worker")
        restart()
    raise SystemExit(code)
