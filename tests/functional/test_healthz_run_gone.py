"""A separate `watchfloor serve` tells whether the live `run` that wrote the last cycle still runs (trial 38, MED-4:
/healthz said "pipeline": "running", 200, of a `run` killed long before, as only the heartbeat's time was read and
a probe had to judge its age). A live run of this host that is gone is "stopped" (503 stale, with the problem);
a `run --once` (cron) is idle between its runs, not a problem. Real processes, SQLite on disk, a real HTTP server."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

from .live_run import start_run, wait_for_heartbeat
from .test_stuck_deliveries import get, serve

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\n"
        "rules: [builtin:dprk_russia]\n"
        f"sources: [{{kind: jsonl, path: {SAMPLES}}}]\n"
        f"channels: [{{type: file, name: archive, path: {tmp_path / 'alerts.jsonl'}}}]\n"
        "subscriptions: [{channel: archive}]\n",
        encoding="utf-8",
    )
    return cfg


def _health(cfg: Path) -> tuple[int, dict[str, object]]:
    with serve(cfg, [datetime.now(UTC)]) as url:
        status, body = get(url + "/healthz")
    return status, json.loads(body)


def test_a_live_run_killed_is_told_stopped_and_a_run_once_idle(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    live = start_run(cfg)
    try:
        wait_for_heartbeat(tmp_path / "wf.db")
        status, body = _health(cfg)
        assert status == 200 and body["pipeline"] == "running", body  # alive: as before
    finally:
        live.kill()
        live.wait()
    status, body = _health(cfg)
    assert status == 503 and body["status"] == "stale" and body["pipeline"] == "stopped", body
    assert body["problems"] == [
        f"the `watchfloor run` that wrote the last cycle (pid {live.pid} on {os.uname().nodename}) is no longer "
        "running: start it again"
    ], body
    # A `run --once` (a cron job) then: idle between its runs, and healthy.
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)], env={"WATCHFLOOR_STORE": ""})
    assert res.exit_code == 0, res.output
    status, body = _health(cfg)
    assert status == 200 and body["pipeline"] == "idle (the last cycle was a `watchfloor run --once`)", body
