"""`status` lists a live `serve` and `notify` with their release, as it lists `run`s, and no longer once they stopped
cleanly (outside trial 78, F6). Real processes, SQLite on disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.fingerprint import release

from .live_run import REPO, wait_for_heartbeat
from .test_healthz_run_gone import _config

pytestmark = pytest.mark.functional
runner = CliRunner()


def _listed(cfg: Path) -> list[dict[str, object]]:
    res = runner.invoke(app, ["status", "--config", str(cfg), "--json"], env={"WATCHFLOOR_STORE": ""})
    return list(json.loads(res.output).get("processes") or [])


def test_status_lists_serve_and_notify_with_their_release_until_they_stop(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO), "WATCHFLOOR_STORE": ""}
    env.pop("WATCHFLOOR_KAFKA", None)
    commands = [["serve", "--port", "8901"], ["notify", "--interval", "1"]]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "watchfloor", *c, "--config", str(cfg)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for c in commands
    ]
    try:
        wait_for_heartbeat(tmp_path / "wf.db", lambda hb: len(hb.processes) == 2, timeout=120)
        listed = _listed(cfg)
        assert sorted((p["command"], p["pid"], p["release"]) for p in listed) == sorted(
            [("notify", str(procs[1].pid), release()), ("serve", str(procs[0].pid), release())]
        ), listed
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
    deadline = time.monotonic() + 10
    while _listed(cfg) and time.monotonic() < deadline:  # (removed at the clean stop: at once, not after a time)
        time.sleep(0.2)
    assert _listed(cfg) == []
