"""`worker`, `produce` and `archive` keep a presence record as `notify` and `serve` do, so `status` and /healthz list
them with their release and name a SIGKILLed one (outside trial 78: these were shown nowhere)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from watchfloor.cli.distributed import PresenceBeat, command_presence
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.web.activity import heartbeat
from watchfloor.web.health import processes_gone, processes_seen


class Kept(MemoryStore):
    """A memory store whose close leaves its contents for the test to read (a worker's thread closes its own)."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_produce_and_archive_are_listed_with_command_host_pid_and_release() -> None:
    store = MemoryStore()
    now = datetime.now(UTC)
    for command in ("produce", "archive"):
        command_presence(store, command).seen(now)
    seen = processes_seen(heartbeat(store), now + timedelta(seconds=5), may_live=lambda _: True)
    assert sorted(p.command for p in seen) == ["archive", "produce"]
    assert all(p.host and p.pid and p.release for p in seen), seen


def test_a_killed_produce_is_named_not_forgotten() -> None:
    store = MemoryStore()
    now = datetime.now(UTC)
    command_presence(store, "produce", "vm:4242:a:b").seen(now)
    gone = processes_gone(heartbeat(store), now + timedelta(seconds=60), may_live=lambda _: False)
    assert [g.describe() for g in gone] and "`watchfloor produce`" in gone[0].describe(), gone


def test_a_workers_record_is_kept_by_its_own_thread_and_removed_at_a_clean_stop() -> None:
    store = Kept()
    beat = PresenceBeat(lambda: store, "worker", every=3600.0)
    beat.start()  # the first save before the worker's work starts
    records = heartbeat(store).processes
    assert [r["command"] for r in records.values()] == ["worker"], records
    beat.stop()
    assert heartbeat(store).processes == {} and store.closed == 1


def test_a_store_that_cannot_be_opened_leaves_the_worker_running() -> None:
    def away() -> MemoryStore:
        raise OSError("store away")

    beat = PresenceBeat(away, "worker", every=3600.0)
    beat.start()
    beat.stop()


def test_status_broker_reads_the_records_from_the_store_on_disk(tmp_path: Path) -> None:
    from watchfloor.cli.status import read_processes
    from watchfloor.stream_processors.stores.sql import SqlStore

    url = f"sqlite:///{tmp_path / 'wf.db'}"
    store = SqlStore(url)
    try:
        command_presence(store, "worker").seen(datetime.now(UTC))
        command_presence(store, "archive", "vm:4243:a:b").seen(datetime.now(UTC) - timedelta(seconds=120))
    finally:
        store.close()
    seen, gone = read_processes(url)
    assert [p.command for p in seen] == ["worker"] and [g.command for g in gone] == ["archive"], (seen, gone)
    assert read_processes(f"sqlite:///{tmp_path / 'none.db'}") == ([], [])
