"""`notify` and `serve` keep a presence record as `run` does, so that `status` lists them with their release (outside
trial 78, F6: the README's upgrade steps said to wait until `status` lists each process again; it listed `run`s
only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.web.activity import HeartbeatRecorder, PresenceRecorder, heartbeat
from watchfloor.web.health import processes_gone, processes_line, processes_seen

T0 = datetime(2026, 12, 7, 17, 38, 53, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_serve_beside_a_run_is_listed_with_its_release_and_their_releases_differ() -> None:
    store = MemoryStore()
    run = HeartbeatRecorder(store, every=0.0, process="vm:17395:a:b", interval=5.0, command="run", release="0.1.0")
    run.start(T0)
    run.cycle(T0, 0.5, {})
    clock = Clock()
    serve = PresenceRecorder(
        store, "vm:17420:c:b", command="serve", release="0.1.0+d01d22718d", interval=10.0, clock=clock
    )
    serve.seen(T0)
    seen = processes_seen(heartbeat(store), T0 + timedelta(seconds=5), may_live=lambda _: True)
    assert [(p.pid, p.command, p.release) for p in seen] == [
        ("17395", "run", "0.1.0"),
        ("17420", "serve", "0.1.0+d01d22718d"),
    ]
    line = processes_line(seen) or ""
    assert "pid 17420 on vm (`watchfloor serve`, started" in line, line
    assert "their releases differ (0.1.0, 0.1.0+d01d22718d)" in line, line


def test_the_record_is_saved_at_most_once_per_interval_kept_fresh_and_removed_at_a_clean_stop() -> None:
    store = MemoryStore()
    clock = Clock()
    notify = PresenceRecorder(store, "vm:9001:c:b", command="notify", release="0.1.0", interval=10.0, clock=clock)
    notify.seen(T0)
    clock.now = 3.0
    notify.seen(T0 + timedelta(seconds=3))  # not due: no commit
    assert heartbeat(store).processes["vm:9001:c:b"]["last_seen"] == T0.isoformat()
    clock.now = 11.0
    notify.seen(T0 + timedelta(seconds=11))
    record = heartbeat(store).processes["vm:9001:c:b"]
    assert record["last_seen"] == (T0 + timedelta(seconds=11)).isoformat() and record["started_at"] == T0.isoformat()
    # listed while seen within its interval's allowance, as a `run`'s record is
    later = T0 + timedelta(seconds=40)
    assert [p.command for p in processes_seen(heartbeat(store), later, may_live=lambda _: True)] == ["notify"]
    notify.stop()
    assert heartbeat(store).processes == {}
    assert processes_gone(heartbeat(store), later, may_live=lambda _: False) == []


def test_a_killed_notify_is_named_as_a_killed_run_is() -> None:
    store = MemoryStore()
    notify = PresenceRecorder(store, "vm:9002:c:b", command="notify", release="0.1.0", interval=10.0)
    notify.seen(T0)
    gone = processes_gone(heartbeat(store), T0 + timedelta(seconds=20), may_live=lambda _: False)
    assert [g.describe() for g in gone] and "`watchfloor notify`" in gone[0].describe(), gone
