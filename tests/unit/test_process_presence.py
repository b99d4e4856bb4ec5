"""Each `run` keeps a presence record of its own beside the heartbeat, and `status` lists the processes seen lately:
two on one store, or two releases in a rolling upgrade, are told (outside trials 69, L6 and 73, F4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.web.activity import HEARTBEAT, PROCESSES, HeartbeatRecorder, heartbeat, record_cycle
from watchfloor.web.health import GONE_SHOWN, ONCE_SEEN, processes_gone, processes_line, processes_seen

T0 = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)
A = "hosta:101:aaaa1111:boot.1"
B = "hostb:202:bbbb2222:boot.2"


def alive(_: str) -> bool:
    return True


def recorder(store: MemoryStore, process: str, release: str, *, interval: float | None = 10.0) -> HeartbeatRecorder:
    return HeartbeatRecorder(
        store,
        every=0.0,
        process=process,
        live=interval is not None,
        interval=interval,
        command="run" if interval is not None else "run --once",
        release=release,
    )


def test_two_processes_each_keep_their_record_and_are_both_listed() -> None:
    store = MemoryStore()
    a, b = recorder(store, A, "0.9.0"), recorder(store, B, "0.9.0")
    a.start(T0)
    b.start(T0 + timedelta(seconds=5))
    a.cycle(T0 + timedelta(seconds=10), 1.0, {})
    b.cycle(T0 + timedelta(seconds=12), 1.0, {})
    hb = heartbeat(store)
    assert hb.process == B  # the single heartbeat names the last writer only, as before
    seen = processes_seen(hb, T0 + timedelta(seconds=20), may_live=alive)
    assert [(p.host, p.pid, p.command, p.release) for p in seen] == [
        ("hosta", "101", "run", "0.9.0"),
        ("hostb", "202", "run", "0.9.0"),
    ]
    assert seen[0].started_at == T0.isoformat()
    assert seen[0].last_seen == (T0 + timedelta(seconds=10)).isoformat()
    line = processes_line(seen)
    assert line is not None
    assert line.startswith("2 processes run on this store: pid 101 on hosta (`watchfloor run`, started ")
    assert "and pid 202 on hostb" in line
    assert "releases differ" not in line


def test_differing_releases_are_said_plainly() -> None:
    store = MemoryStore()
    recorder(store, A, "0.9.0").cycle(T0, 1.0, {})
    recorder(store, B, "1.0.0").cycle(T0 + timedelta(seconds=1), 1.0, {})
    line = processes_line(processes_seen(heartbeat(store), T0 + timedelta(seconds=2), may_live=alive))
    assert line is not None
    assert "(`watchfloor run`, started 2024-11-04T12:00:00+00:00, release 0.9.0)" in line
    assert "release 1.0.0)" in line
    assert "their releases differ (0.9.0, 1.0.0)" in line


def test_one_process_says_nothing_more() -> None:
    store = MemoryStore()
    recorder(store, A, "0.9.0").cycle(T0, 1.0, {})
    seen = processes_seen(heartbeat(store), T0 + timedelta(seconds=1), may_live=alive)
    assert len(seen) == 1
    assert processes_line(seen) is None


def test_a_clean_stop_removes_the_record_and_keeps_the_heartbeat() -> None:
    store = MemoryStore()
    a, b = recorder(store, A, "0.9.0"), recorder(store, B, "0.9.0")
    a.cycle(T0, 1.0, {})
    b.cycle(T0 + timedelta(seconds=1), 1.0, {})
    b.stop()
    hb = heartbeat(store)
    assert set(hb.processes) == {A}
    assert hb.process == B and hb.finished_at == T0 + timedelta(seconds=1)


def test_records_not_seen_lately_or_of_a_gone_process_are_not_listed() -> None:
    store = MemoryStore()
    recorder(store, A, "0.9.0", interval=10.0).cycle(T0, 1.0, {})  # seen within 3 * 10 + 60 s
    recorder(store, B, "0.9.0", interval=None).cycle(T0, 1.0, {})  # a `--once`: within ONCE_SEEN
    hb = heartbeat(store)
    assert len(processes_seen(hb, T0 + timedelta(seconds=90), may_live=alive)) == 2
    assert [p.pid for p in processes_seen(hb, T0 + timedelta(seconds=91), may_live=alive)] == ["202"]
    assert processes_seen(hb, T0 + timedelta(seconds=ONCE_SEEN + 1), may_live=alive) == []
    assert [p.pid for p in processes_seen(hb, T0, may_live=lambda p: p != A)] == ["202"]


def test_a_record_not_seen_for_a_day_is_dropped_at_a_save() -> None:
    store = MemoryStore()
    recorder(store, A, "0.9.0").cycle(T0, 1.0, {})
    recorder(store, B, "0.9.0").cycle(T0 + timedelta(days=1, seconds=1), 1.0, {})
    assert set(heartbeat(store).processes) == {B}


def test_a_run_of_a_release_before_presence_records_is_listed_from_the_last_cycle() -> None:
    store = MemoryStore()
    recorder(store, B, "1.0.0").cycle(T0, 1.0, {})
    # the release before writes the cycle record as it always did: a runner with no release, no presence record
    record_cycle(store, T0 + timedelta(seconds=2), 1.0, {}, runner={"process": A, "live": True, "interval": 10.0})
    assert PROCESSES in (store.load_checkpoint(HEARTBEAT).state or {})  # (its save keeps the others' records)
    seen = processes_seen(heartbeat(store), T0 + timedelta(seconds=3), may_live=alive)
    assert [(p.pid, p.release) for p in seen] == [("101", None), ("202", "1.0.0")]
    line = processes_line(seen)
    assert line is not None
    assert "pid 101 on hosta (`watchfloor run`, a release that keeps no presence record)" in line
    assert "their releases differ" in line


def test_the_last_cycle_of_this_release_with_its_record_removed_is_not_listed() -> None:
    store = MemoryStore()
    r = recorder(store, A, "1.0.0")
    r.cycle(T0, 1.0, {})
    r.stop()
    assert processes_seen(heartbeat(store), T0 + timedelta(seconds=1), may_live=alive) == []


def test_a_killed_process_of_this_host_is_named_for_an_hour_then_dropped() -> None:
    # outside trial 76, F3: a SIGKILLed `run` vanished from every surface at once; its record left behind (a clean
    # stop removes it) is exactly what tells the kill
    store = MemoryStore()
    recorder(store, A, "1.0.0").cycle(T0, 1.0, {})
    recorder(store, B, "1.0.0").cycle(T0 + timedelta(seconds=5), 1.0, {})
    hb, gone_pid = heartbeat(store), lambda p: p != A
    later = T0 + timedelta(seconds=6)
    assert [p.pid for p in processes_seen(hb, later, may_live=gone_pid)] == ["202"]
    (gone,) = processes_gone(hb, later, may_live=gone_pid)
    assert gone.pid_gone and gone.release == "1.0.0"
    assert gone.describe() == (
        "pid 101 on hosta (`watchfloor run`, release 1.0.0) stopped without a clean stop at or after "
        "2024-11-04T12:00:00+00:00 (its last save)"
    )
    assert gone.as_dict()["note"] == gone.describe() and gone.as_dict()["pid"] == "101"
    # (B, not seen for an hour either by then, is named as gone too: longest gone last)
    assert [g.pid for g in processes_gone(hb, T0 + timedelta(seconds=GONE_SHOWN), may_live=gone_pid)] == ["202", "101"]
    assert [g.pid for g in processes_gone(hb, T0 + timedelta(seconds=GONE_SHOWN + 1), may_live=gone_pid)] == ["202"]


def test_a_clean_stop_leaves_nothing_to_name() -> None:
    store = MemoryStore()
    r = recorder(store, A, "1.0.0")
    r.cycle(T0, 1.0, {})
    r.stop()
    assert processes_gone(heartbeat(store), T0 + timedelta(seconds=1), may_live=lambda _: False) == []


def test_another_hosts_process_not_seen_for_a_while_is_not_listed_as_if_alive() -> None:
    store = MemoryStore()
    recorder(store, A, "1.0.0", interval=10.0).cycle(T0, 1.0, {})
    hb = heartbeat(store)
    (seen,) = processes_seen(hb, T0 + timedelta(seconds=20), may_live=alive)  # within two intervals: as it was
    assert seen.quiet_for is None and "not seen" not in seen.describe()
    (seen,) = processes_seen(hb, T0 + timedelta(seconds=25), may_live=alive)
    assert seen.quiet_for == 25.0 and seen.describe().endswith(", release 1.0.0, not seen for 25s)")
    assert seen.as_dict()["not_seen_for"] == 25
    assert processes_gone(hb, T0 + timedelta(seconds=90), may_live=alive) == []
    # past the time it is listed (3 intervals and a minute): named as gone, for its pid cannot be looked at
    assert processes_seen(hb, T0 + timedelta(seconds=91), may_live=alive) == []
    (gone,) = processes_gone(hb, T0 + timedelta(seconds=91), may_live=alive)
    assert not gone.pid_gone
    assert gone.describe() == (
        "pid 101 on hosta (`watchfloor run`, release 1.0.0) not seen since 2024-11-04T12:00:00+00:00 (91s): "
        "stopped without a clean stop, hung, or cut off from the store"
    )
    assert processes_gone(hb, T0 + timedelta(seconds=GONE_SHOWN + 1), may_live=alive) == []


def test_healthz_warns_of_a_killed_process_and_stays_ok() -> None:
    from watchfloor.alerts.control import ControlLog
    from watchfloor.alerts.slackapp.commands import AppContext
    from watchfloor.web.server import Services, create_app

    store = MemoryStore()
    recorder(store, A, "1.0.0").cycle(T0, 1.0, {})
    recorder(store, B, "1.0.0").cycle(T0 + timedelta(seconds=5), 1.0, {})
    control = ControlLog(store)

    def healthz(may_live: Callable[[str], bool]) -> tuple[int, dict[str, Any]]:
        services = Services(
            store=store,
            control=control,
            context=AppContext(control=control, rules={}),
            now=lambda: T0 + timedelta(seconds=6),
            may_live=may_live,
        )
        got = create_app(services).test_client().get("/healthz")
        return got.status_code, got.get_json()

    code, body = healthz(alive)
    assert body["processes_gone"] == [] and len(body["processes"]) == 2
    killed_code, killed = healthz(lambda p: p != A)
    assert (killed_code, killed["status"]) == (code, body["status"])  # a warning: the verdict is unchanged
    assert [p["pid"] for p in killed["processes"]] == ["202"]
    assert [g["pid"] for g in killed["processes_gone"]] == ["101"]
    assert any(
        "pid 101 on hosta (`watchfloor run`, release 1.0.0) stopped without a clean stop" in w
        for w in killed["warnings"]
    )


def test_metrics_count_the_processes_per_release_and_the_gone_ones() -> None:
    # outside trial 76, F5: nothing to alert on for "fewer than 2 runs"
    from prometheus_client import generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from watchfloor.alerts.control import ControlLog
    from watchfloor.web.activity import ActivityView
    from watchfloor.web.metrics import LogCollector, registry_for

    store = MemoryStore()
    recorder(store, A, "1.0.0").cycle(T0, 1.0, {})
    recorder(store, B, "1.0.0+1a2b3c4d5e").cycle(T0 + timedelta(seconds=1), 1.0, {})
    recorder(store, "hostc:303:cccc:boot.3", "1.0.0+1a2b3c4d5e").cycle(T0 + timedelta(seconds=2), 1.0, {})

    def scrape(may_live: Callable[[str], bool]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        collector = LogCollector(
            store, ActivityView(store), ControlLog(store), now=lambda: T0 + timedelta(seconds=3), may_live=may_live
        )
        text = generate_latest(registry_for(collector)).decode()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text)
            if f.name in ("watchfloor_processes", "watchfloor_processes_gone")
            for s in f.samples
        }

    assert scrape(alive) == {
        ("watchfloor_processes", (("release", "1.0.0"),)): 1.0,
        ("watchfloor_processes", (("release", "1.0.0+1a2b3c4d5e"),)): 2.0,
        ("watchfloor_processes_gone", ()): 0.0,
    }
    assert scrape(lambda p: p != A) == {  # A killed: no run of 1.0.0 left, one gone
        ("watchfloor_processes", (("release", "1.0.0+1a2b3c4d5e"),)): 2.0,
        ("watchfloor_processes_gone", ()): 1.0,
    }
