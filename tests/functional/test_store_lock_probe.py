"""Another writer holding the store's write lock, seen before any write of the pipeline fails: /healthz and /metrics
said "ok" and watchfloor_store_up 1 for the busy timeout's 30 s, until a write gave up. A look that never waits
(SqlStore.write_locked_for) makes the store `degraded` (locked by another writer) at once, `down` only past the write
timeout; the look holds nothing after it. Real locks from a second connection: SQLite BEGIN IMMEDIATE, PostgreSQL a
table lock that conflicts with appends."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Connection, create_engine

from watchfloor.alerts.control import ControlLog
from watchfloor.cli.run import LockWatch
from watchfloor.schemas.config import AppConfig
from watchfloor.stream_processors.ports import Checkpoint
from watchfloor.stream_processors.stores.sql import SqlStore
from watchfloor.web.activity import ActivityView
from watchfloor.web.build import build_services
from watchfloor.web.health import health_report
from watchfloor.web.metrics import LogCollector, lock_verdict, registry_for
from watchfloor.wiring import EmbeddedPipeline

pytestmark = pytest.mark.functional


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wf.db'}"
    else:
        yield request.getfixturevalue("pg_url")


def hold_write_lock(store: SqlStore, other: Connection) -> None:
    """Another connection takes what an append needs and keeps it."""
    if store.url.get_backend_name() == "sqlite":
        other.exec_driver_sql("BEGIN IMMEDIATE")
    else:  # (not the append's advisory lock: that one is the whole server's, other tests' appends would wait)
        other.begin()
        other.exec_driver_sql("LOCK TABLE events IN EXCLUSIVE MODE")


def release(other: Connection) -> None:
    other.rollback() if other.in_transaction() else other.exec_driver_sql("ROLLBACK")


def metric(collector: LogCollector, name: str) -> float:
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(registry_for(collector)).decode())}
    return families[name].samples[0].value


def test_a_lock_held_elsewhere_is_degraded_at_once_and_down_past_the_write_timeout(url: str) -> None:
    cfg = AppConfig(store=url)
    pipeline = EmbeddedPipeline(cfg, env={})
    store = pipeline.store
    assert isinstance(store, SqlStore)
    services = build_services(pipeline.cfg, store, pipeline.control, pipeline.rules, env={})
    services.store_probe_every = 0.0  # every request looks (the default: at most once a second)
    services.store_locked_after = 0.0  # degraded at the first look that finds it held (the default: held 2 s)
    collector = LogCollector(
        store,
        ActivityView(store),
        ControlLog(store),
        probe_every=0.0,
        locked_after=0.0,
        store_watch=services.store_watch,
    )
    other = create_engine(url).connect()
    try:
        body, code = health_report(services)
        assert code == 200 and body["store"] == "ok", body
        assert metric(collector, "watchfloor_store_write_locked_seconds") == 0
        hold_write_lock(store, other)
        try:
            body, code = health_report(services)
            assert code == 503 and body["status"] == "degraded", body
            assert body["store"].startswith("locked by another writer for"), body
            assert "writes wait for it (up to 30s)" in body["store"]
            assert any(p.startswith("store locked by another writer") for p in body["problems"]), body
            assert metric(collector, "watchfloor_store_up") == 1  # nothing failed yet: not down
            assert store.write_problem is None
            # Past the write timeout the pipeline's writes fail: down (as the sighting's start is moved back).
            assert store._locked_since is not None
            store._locked_since -= 31.0
            body, code = health_report(services)
            assert code == 503 and body["status"] == "down", body
            assert "past the 30s write timeout, writes fail" in body["store"], body
            assert metric(collector, "watchfloor_store_up") == 0
            assert metric(collector, "watchfloor_store_write_locked_seconds") >= 31
        finally:
            release(other)
        body, code = health_report(services)
        assert code == 200 and body["store"] == "ok", body
        assert metric(collector, "watchfloor_store_up") == 1
        assert metric(collector, "watchfloor_store_write_locked_seconds") == 0
        # The look held nothing: a write goes through at once.
        store.commit("probe-test", Checkpoint(1, None), [])
        assert json.dumps(body)
    finally:
        other.close()
        pipeline.close()


def test_the_look_waits_for_nothing_and_holds_nothing(url: str) -> None:
    """Looks while the lock is held answer (no busy wait), are rate-limited (the answer of the last look stands in
    between), and leave the other connection's lock, and then the store, as they were."""
    store = SqlStore(url)
    other = create_engine(url).connect()
    try:
        assert store.write_locked_for(0.0) is None
        hold_write_lock(store, other)
        try:
            assert store.write_locked_for(3600.0) is None  # free at the last look, within `every`: not looked again
            assert store.write_locked_for(0.0) is not None
            assert store.write_locked_for(3600.0) is not None  # still held: the sighting goes on
        finally:
            release(other)
        assert store.write_locked_for(3600.0) is None  # while held every call looks: free again at once
        store.commit("probe-test", Checkpoint(1, None), [])
        assert store.write_problem is None
    finally:
        other.close()
        store.close()


def test_lock_verdict_states() -> None:
    assert lock_verdict(None, 2.0) is None
    assert lock_verdict(1.0, 2.0) is None  # a busy writer's moment
    assert lock_verdict(5.0, 2.0) == ("degraded", "locked by another writer for 5s: writes wait for it (up to 30s)")
    verdict = lock_verdict(45.0, 2.0)
    assert verdict is not None and verdict[0] == "down"


def test_this_process_waiting_for_the_lock_is_a_sighting(tmp_path: Path) -> None:
    """`run --serve`: the pipeline's own write is waiting in BEGIN IMMEDIATE for another process's lock (it holds the
    in-process write lock meanwhile, so the look cannot be made): that wait is the sighting. Once the lock is let go
    the write goes through, and the store is free again."""
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    store = SqlStore(url)
    other = create_engine(url).connect()
    try:
        hold_write_lock(store, other)
        writer = threading.Thread(target=store.commit, args=("probe-test", Checkpoint(1, None), []))
        writer.start()
        try:
            while store._waiting_since is None:  # the writer is in BEGIN IMMEDIATE (no duration asserted)
                assert writer.is_alive()
                threading.Event().wait(0.01)
            assert store.write_locked_for(0.0) is not None
        finally:
            release(other)
            writer.join()
        assert store.write_locked_for(0.0) is None
        assert store.load_checkpoint("probe-test").position == 1
    finally:
        other.close()
        store.close()


def test_run_says_the_lock_held_elsewhere_while_its_write_waits(tmp_path: Path) -> None:
    """`run`: a cycle whose write waits for another writer's lock printed nothing for the busy timeout's 30 s. Its lock
    watch says, once each, that the store is locked by another writer, that it passed the write timeout, and that the
    lock is free again; its thread does it while the run's own write waits (held by the test's lock, not by a time)."""
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    store = SqlStore(url)
    other = create_engine(url).connect()
    lines: list[str] = []
    watch = LockWatch(store, lines.append, every=0.0, locked_after=0.0)
    try:
        watch.check()
        assert lines == []
        hold_write_lock(store, other)
        try:
            watch.check()
            watch.check()
            assert len(lines) == 1 and lines[0].startswith("the store is locked by another writer for "), lines
            assert store._locked_since is not None
            store._locked_since -= 31.0  # held past the write timeout
            watch.check()
            assert len(lines) == 2 and "past the 30s write timeout, writes fail" in lines[1], lines
        finally:
            release(other)
        watch.check()
        assert len(lines) == 3 and lines[2].startswith("the store's write lock is free again (held by another"), lines
    finally:
        other.close()
        store.close()

    # The thread, while the run's own write waits in BEGIN IMMEDIATE.
    store = SqlStore(url)
    other = create_engine(url).connect()
    said = threading.Event()
    lines.clear()

    def say(line: str) -> None:
        lines.append(line)
        said.set()

    watch = LockWatch(store, say, every=0.01, locked_after=0.0).start()
    try:
        hold_write_lock(store, other)
        writer = threading.Thread(target=store.commit, args=("probe-test", Checkpoint(2, None), []))
        writer.start()
        try:
            assert said.wait(60), lines
            assert lines[0].startswith("the store is locked by another writer"), lines
        finally:
            release(other)
            writer.join()
    finally:
        watch.stop()
        other.close()
        store.close()
