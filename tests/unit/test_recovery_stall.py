"""The stall clock of the Faust worker's recovery watch: when a recovery that reads nothing is restarted; and a
crashed worker whose stop hangs is handed to its restart, not to an exit."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace
from typing import Any

from watchfloor.stream_processors.kafka.compat import StallClock, WorkerStalled, exit_if_stuck, quiet_stop_errors


def test_a_recovery_that_reads_on_is_never_restarted() -> None:
    clock = StallClock(stall_s=20.0, restarts=3)
    actions = [clock.observe(t, True, {"p0": t // 10}) for t in range(0, 300, 5)]  # progress every 10 s
    assert set(actions) == {None}


def test_no_progress_for_the_stall_time_restarts_it_and_then_gives_up() -> None:
    clock = StallClock(stall_s=20.0, restarts=2)
    read = {"p0": -1, "p1": 4}
    timeline = {t: clock.observe(t, True, read) for t in range(0, 100, 5)}
    assert [t for t, a in timeline.items() if a] == [20, 40, 60, 80]
    assert [timeline[t] for t in (20, 40, 60, 80)] == ["restart", "restart", "give up", "give up"]


def test_progress_after_a_restart_starts_the_count_again() -> None:
    clock = StallClock(stall_s=20.0, restarts=1)
    assert clock.observe(0, True, {"p0": 1}) is None
    assert clock.observe(20, True, {"p0": 1}) == "restart"
    assert clock.observe(25, True, {"p0": 7}) is None  # the restart helped
    assert clock.restarted == 0
    assert clock.observe(45, True, {"p0": 7}) == "restart"  # a new stall gets its restart again


def test_caught_up_or_not_recovering_resets_the_clock() -> None:
    clock = StallClock(stall_s=20.0, restarts=1)
    assert clock.observe(0, True, {"p0": 1}) is None
    assert clock.observe(15, False, {}) is None
    assert clock.observe(30, True, {"p0": 1}) is None  # a new recovery: its clock starts now
    assert clock.observe(49, True, {"p0": 1}) is None
    assert clock.observe(50, True, {"p0": 1}) == "restart"


def test_a_crashed_worker_whose_stop_hangs_goes_to_its_restart_with_the_reason() -> None:
    """The stop grace used to end every hung stop with exit code 1: a worker that crashed to be restarted (its
    fetch loop ended) exited instead, and stayed down without a supervisor. The restart never returns; here it
    blocks (the timer's daemon thread), so the process is not exited."""
    handed: list[BaseException | None] = []
    called = threading.Event()

    def restart(reason: BaseException | None) -> None:
        handed.append(reason)
        called.set()
        threading.Event().wait()  # what an exec looks like from here: no return

    reason = WorkerStalled("the consumer's fetch loop ended")
    app = SimpleNamespace(crashed=True, crash_reason=reason, after_stuck_stop=restart)
    exit_if_stuck(app, 0.05)
    assert called.wait(10)
    assert handed == [reason]


def test_a_consumer_thread_cancelled_during_the_stop_leaves_a_line_not_a_traceback(caplog: Any) -> None:
    """Outside trial 60, LOW-3: a SIGTERM while the broker was away left two tracebacks ("Exception in thread
    Thread-1: … NodeNotReadyError … CancelledError") that read as a crash. Once the stop has begun, a thread that
    ends so leaves one line; before it, or for any other error, Python's own hook prints the traceback."""

    class NodeNotReadyError(Exception):  # aiokafka's, by name, as clients.funnel_client_logs matches it
        pass

    cancelled = asyncio.CancelledError()
    cancelled.__context__ = NodeNotReadyError("Attempt to send a request to node which is not ready (node id 1).")
    passed: list[Any] = []
    app = SimpleNamespace(stopping=False)
    hook = quiet_stop_errors(app, passed.append)
    args = SimpleNamespace(
        exc_type=asyncio.CancelledError, exc_value=cancelled, thread=SimpleNamespace(name="Thread-1")
    )
    hook(args)
    assert passed == [args]  # not stopping: the traceback, as before
    app.stopping = True
    caplog.set_level("INFO")
    hook(args)
    assert passed == [args]
    assert "Thread-1 ended while the worker stopped (CancelledError after NodeNotReadyError)" in caplog.text
    other = SimpleNamespace(exc_type=KeyError, exc_value=KeyError("x"), thread=None)
    hook(other)
    assert passed == [args, other]  # a bug during the stop is still shown whole
