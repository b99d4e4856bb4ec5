"""The stall clock of the Faust worker's recovery watch: when a recovery that reads nothing is restarted; and a
crashed worker whose stop hangs is handed to its restart, not to an exit."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from watchfloor.stream_processors.kafka.compat import StallClock, WorkerStalled, exit_if_stuck


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
