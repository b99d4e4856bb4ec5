"""Embedded `watchfloor status` says that the live `run` that wrote the last cycle is gone, or hung, as /healthz does
(trial 42, LOW-1: after a kill -9 of the only `run`, `status` said `behind (9 deliveries outstanding)`, which reads
like a slow pipeline, while /healthz said "stopped"). A real `run` process killed, SQLite on disk; the hung `run` is
a runner record naming this (live) process with a cycle older than three of its intervals and a minute."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.alerts.dispatcher import dispatcher_id
from watchfloor.cli import app
from watchfloor.web.activity import record_cycle
from watchfloor.wiring import open_store

from .live_run import start_run, wait_for_heartbeat
from .test_healthz_run_gone import _config

pytestmark = pytest.mark.functional
runner = CliRunner()


def _status(cfg: Path, *args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["status", "--config", str(cfg), *args], env={"WATCHFLOOR_STORE": ""})
    return res.exit_code, res.output


def test_embedded_status_says_the_live_run_is_gone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHFLOOR_KAFKA", raising=False)
    cfg = _config(tmp_path)
    live = start_run(cfg)
    try:
        wait_for_heartbeat(tmp_path / "wf.db")
        code, out = _status(cfg, "--wait", "60", "--json")
        got = json.loads(out)
        assert code == 0 and got["pipeline"] is None and got["pipeline_problem"] is None, out  # it runs: as before
    finally:
        live.kill()
        live.wait()
    code, out = _status(cfg)
    said = " ".join(out.split())
    assert code == 3, out
    assert (
        f"caught up; the `watchfloor run` that wrote the last cycle (pid {live.pid} on {os.uname().nodename}) is no "
        "longer running: start it again" in said
    ), said
    code, out = _status(cfg, "--json")
    got = json.loads(out)
    assert code == 3 and got["pipeline"] == "stopped" and got["caught_up"] is True and got["ok"] is False, got


def test_embedded_status_says_a_live_run_that_finishes_no_cycle_is_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WATCHFLOOR_KAFKA", raising=False)
    cfg = _config(tmp_path)
    st = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:  # a live `run` (this process: alive) polling every 5 s, whose last cycle ended 110 s ago (the trial's)
        record_cycle(
            st,
            datetime.now(UTC) - timedelta(seconds=110),
            0.1,
            {},
            runner={"process": dispatcher_id(), "live": True, "interval": 5.0},
        )
    finally:
        st.close()
    code, out = _status(cfg)
    said = " ".join(out.split())
    assert code == 3, out
    assert (
        f"the `watchfloor run` that wrote the last cycle (pid {os.getpid()} on {os.uname().nodename}) has finished no "
        "cycle for 110s, more than three of its 5s poll intervals: it is hung or cannot write the store (its log says "
        "which)" in said
    ), said
    code, out = _status(cfg, "--json")
    assert json.loads(out)["pipeline"] == "stale", out
