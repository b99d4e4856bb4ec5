"""`worker`, `produce` and `archive` keep a presence record as `notify` and `serve` do, so `status` and /healthz list
them with their release and name a SIGKILLed one (outside trial 78: these were shown nowhere)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from watchfloor.cli.distributed import PresenceBeat, command_presence
from watchfloor.schemas.events import Event
from watchfloor.stream_processors.ports import Checkpoint, CheckpointMoved
from watchfloor.stream_processors.stores.errors import StoreError
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.web.activity import PRESENCE_FORGET, PRESENCE_WARN_AFTER, heartbeat
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


class Failing(Kept):
    """A store whose next `fail` commits raise as a lock held elsewhere would (or lose the compare-and-set, `moved`),
    then go through."""

    def __init__(self, fail: int, *, moved: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.moved = moved
        self.saved = threading.Event()

    def commit(
        self, processor: str, checkpoint: Checkpoint, outputs: Sequence[Event], *, since: int | None = None
    ) -> int:
        if self.fail > 0:
            self.fail -= 1
            if self.moved:
                raise CheckpointMoved(processor, since or 0, (since or 0) + 1)
            raise StoreError("sqlite:///wf.db", "database is locked", "locked")
        done = super().commit(processor, checkpoint, outputs, since=since)
        if heartbeat(self).processes:
            self.saved.set()
        return done


def test_a_failed_save_is_tried_again_and_said_at_warning_when_it_keeps_failing(caplog: Any) -> None:
    store = Failing(PRESENCE_WARN_AFTER)
    recorder = command_presence(store, "produce")  # (its every: a save is due at each try below only if none held)
    now = datetime.now(UTC)
    with caplog.at_level(logging.DEBUG, logger="watchfloor.web.activity"):
        tries = [recorder.seen(now) for _ in range(PRESENCE_WARN_AFTER)]
        assert tries == [False] * PRESENCE_WARN_AFTER and heartbeat(store).processes == {}
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warned) == 1 and "`watchfloor produce` not saved 3 times in a row" in warned[0], warned
        assert "database is locked" in warned[0], warned
        assert recorder.seen(now) is True  # tried again at once (no `every` held after a failure), and saved
    assert [r["command"] for r in heartbeat(store).processes.values()] == ["produce"]
    assert "saved again after 3 failed tries" in caplog.records[-1].getMessage()


def test_a_save_that_lost_every_compare_and_set_is_not_taken_for_saved() -> None:
    store = Failing(10, moved=True)  # (_save tries 10 times before it gives up)
    recorder = command_presence(store, "produce")
    now = datetime.now(UTC)
    assert recorder.seen(now) is False and heartbeat(store).processes == {}
    assert recorder.seen(now) is True, "the next beat saves it, not one `every` later"
    assert [r["command"] for r in heartbeat(store).processes.values()] == ["produce"]


def test_the_beat_tries_a_failed_save_again_before_its_interval() -> None:
    store = Failing(2)
    beat = PresenceBeat(lambda: store, "produce", every=3600.0, retry=0.01)
    beat.start()
    try:
        assert store.saved.wait(timeout=60), "saved at the third try, not an hour later"
    finally:
        beat.stop()


def test_one_process_save_keeps_the_records_of_others_until_they_are_forgotten() -> None:
    store = MemoryStore()
    now = datetime.now(UTC)
    command_presence(store, "produce", "vm:4242:a:b").seen(now - timedelta(hours=2))  # killed, still named as gone
    command_presence(store, "archive", "vm:4243:a:b").seen(now - timedelta(seconds=PRESENCE_FORGET + 60))
    command_presence(store, "worker", "vm:4244:a:b").seen(now)
    assert sorted(r["command"] for r in heartbeat(store).processes.values()) == ["produce", "worker"]
