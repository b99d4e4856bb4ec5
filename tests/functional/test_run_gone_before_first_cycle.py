"""A live `run` killed before its first cycle ended is told as one killed later is (trial 50, MED-3: it recorded no
cycle, so `status` said only `behind`, /healthz 200 "no cycle recorded yet", and /metrics had no series the stalled
rule could fire on). Its start is recorded beside the cycle record: `status`, /healthz and /metrics read it. SQLite
on disk, a real `run` process, a real HTTP server with an injected clock; a gone run is a start record naming a
process of this host that has exited."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from watchfloor.alerts.dispatcher import dispatcher_id
from watchfloor.cli import app
from watchfloor.web.activity import record_cycle, record_start
from watchfloor.wiring import open_store

from .live_run import start_run, wait_for_heartbeat
from .test_healthz_run_gone import _config
from .test_stuck_deliveries import get, serve

pytestmark = pytest.mark.functional
HOST = os.uname().nodename
STARTED = datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC)


def _gone_process() -> tuple[str, int]:
    """A lease owner id of this host naming a process that has exited (as a `run` killed with kill -9)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    host, _, token, space = dispatcher_id().split(":")
    return f"{host}:{child.pid}:{token}:{space}", child.pid


def _record_start(db: Path, process: str, at: datetime = STARTED) -> None:
    st = open_store(f"sqlite:///{db}")
    try:
        record_start(st, at, {"process": process, "live": True, "interval": 5.0})
    finally:
        st.close()


def _status(cfg: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["status", "--config", str(cfg), *args], env={"WATCHFLOOR_STORE": ""})
    return res.exit_code, res.output


def _series(text: str) -> dict[str, float]:
    return {s.name: s.value for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_a_live_run_gone_before_its_first_cycle_is_told_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WATCHFLOOR_KAFKA", raising=False)
    cfg = _config(tmp_path)
    process, pid = _gone_process()
    _record_start(tmp_path / "wf.db", process)
    who = f"the `watchfloor run` started at 2026-12-06T10:00:00+00:00 (pid {pid} on {HOST})"
    code, out = _status(cfg, "--json")
    got = json.loads(out)
    assert code == 3 and got["pipeline"] == "stopped" and got["ok"] is False, got
    assert got["pipeline_problem"] == f"{who} is no longer running and never finished a cycle: start it again", got
    code, out = _status(cfg)
    assert code == 3 and f"{who} is no longer running and never finished a cycle" in " ".join(out.split()), out
    clock = [STARTED + timedelta(seconds=88)]
    with serve(cfg, clock) as url:
        status, body = get(url + "/healthz")
        health = json.loads(body)
        assert status == 503 and health["status"] == "stale" and health["pipeline"] == "stopped", health
        assert f"{who} is no longer running and never finished a cycle: start it again" in health["problems"], health
        assert health["run_started_at"] == STARTED.isoformat() and health["last_cycle_age_seconds"] is None, health
        status, text = get(url + "/metrics")
    series = _series(text)
    # The stalled rule's second part: 88 s since the start, past three 5 s intervals and a minute (75 s).
    assert series["watchfloor_run_first_cycle_pending_seconds"] == 88.0, series
    assert series["watchfloor_pipeline_stale_after_seconds"] == 75.0, series
    assert "watchfloor_last_cycle_age_seconds" not in series  # (its meaning kept: no cycle, no age)


def test_a_live_run_in_its_first_cycle_is_running_then_stale_and_a_cycle_ends_the_start_series(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WATCHFLOOR_KAFKA", raising=False)
    cfg = _config(tmp_path)
    db = tmp_path / "wf.db"
    _record_start(db, dispatcher_id())  # this process: alive, in a long first cycle
    clock = [STARTED + timedelta(seconds=30)]
    with serve(cfg, clock) as url:
        status, body = get(url + "/healthz")
        health = json.loads(body)
        assert status == 200 and health["pipeline"] == "the live `run` started last is in its first cycle", health
        clock[0] = STARTED + timedelta(seconds=100)  # past 75 s: hung, or a very long first backlog
        status, body = get(url + "/healthz")
        health = json.loads(body)
        assert status == 503 and health["pipeline"] == "stale", health
        assert "has finished no cycle in the 100s since its start" in " ".join(health["problems"]), health
        st = open_store(f"sqlite:///{db}")
        try:  # its first cycle recorded: told by the cycle record again, and the start series is gone
            record_cycle(
                st, STARTED + timedelta(seconds=99), 99.0, {}, runner={"process": dispatcher_id(), "live": True}
            )
        finally:
            st.close()
        status, text = get(url + "/metrics")
        series = _series(text)
        assert "watchfloor_run_first_cycle_pending_seconds" not in series, series
        assert series["watchfloor_last_cycle_age_seconds"] == 1.0, series


def test_a_store_no_run_was_started_on_exports_nothing_the_stalled_rule_reads(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    st = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    st.close()
    with serve(cfg, [STARTED]) as url:
        status, body = get(url + "/healthz")
        assert status == 200 and json.loads(body)["pipeline"] == "no cycle recorded yet", body
        _, text = get(url + "/metrics")
    series = _series(text)
    assert "watchfloor_run_first_cycle_pending_seconds" not in series
    assert "watchfloor_pipeline_stale_after_seconds" not in series


def test_a_live_run_records_its_start_and_a_run_once_does_not(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)], env={"WATCHFLOOR_STORE": ""})
    assert res.exit_code == 0, res.output
    hb = wait_for_heartbeat(tmp_path / "wf.db", timeout=5)
    assert hb is not None and hb.started_process is None, hb  # a cron job is idle between its runs
    live = start_run(cfg)
    try:
        hb = wait_for_heartbeat(tmp_path / "wf.db", lambda h: h.started_process is not None)
    finally:
        live.kill()
        live.wait()
    assert hb is not None and hb.started_process is not None and hb.started_at is not None, hb
    assert hb.started_process.split(":")[:2] == [HOST, str(live.pid)] and hb.started_interval == 1.0, hb
