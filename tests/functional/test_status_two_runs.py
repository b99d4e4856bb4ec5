"""Two live `run`s on one store are both listed by `status` (outside trials 69, L6 and 73, F4: the single heartbeat
named only the last writer): each keeps a presence record of its own, and a clean stop (SIGTERM) removes its own.
/healthz and the status page warn of them too. Two real `run` processes on one SQLite store on disk, a real HTTP
server."""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.fingerprint import release as installed_version

from .live_run import start_run, wait_for_heartbeat
from .test_healthz_run_gone import _config
from .test_stuck_deliveries import get, serve

pytestmark = pytest.mark.functional
HOST = os.uname().nodename


def _status(cfg: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["status", "--config", str(cfg), *args], env={"WATCHFLOOR_STORE": ""})
    return res.exit_code, res.output


def test_two_live_runs_are_both_listed_and_a_stopped_one_no_longer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WATCHFLOOR_KAFKA", raising=False)
    cfg = _config(tmp_path)
    first, second = start_run(cfg, 2), start_run(cfg, 2)
    started = [first, second]
    try:
        hb = wait_for_heartbeat(tmp_path / "wf.db", lambda hb: len(hb.processes) == 2)
        assert hb is not None and len(hb.processes) == 2, hb
        _, out = _status(cfg, "--json")
        got = json.loads(out)
        assert sorted(int(p["pid"]) for p in got["processes"]) == sorted([first.pid, second.pid]), got
        assert {p["release"] for p in got["processes"]} == {installed_version()}, got
        assert {p["command"] for p in got["processes"]} == {"run"}, got
        assert got["processes_note"].startswith("2 processes run on this store: pid "), got
        _, text = _status(cfg)
        said = " ".join(text.split())
        assert "2 processes run on this store:" in said, text
        assert f"pid {first.pid} on {HOST}" in said and f"pid {second.pid} on {HOST}" in said, text
        assert f"release {installed_version()}" in said and "releases differ" not in said, text
        with serve(cfg, [datetime.now(UTC)]) as url:  # /healthz and the status page say it too
            _, body = get(url + "/healthz")
            _, page = get(url + "/")
        health = json.loads(body)
        assert len(health["processes"]) == 2, health
        assert any(w.startswith("2 processes run on this store: ") for w in health["warnings"]), health
        assert "2 processes run on this store: " in page, page
        second.send_signal(signal.SIGTERM)  # a clean stop: its record removed
        second.wait(timeout=60)
        hb = wait_for_heartbeat(tmp_path / "wf.db", lambda hb: len(hb.processes) == 1, timeout=30)
        assert hb is not None and list(hb.processes) and str(first.pid) in next(iter(hb.processes)), hb
        _, out = _status(cfg, "--json")
        got = json.loads(out)
        assert [int(p["pid"]) for p in got["processes"]] == [first.pid] and got["processes_note"] is None, got
        _, text = _status(cfg)
        assert "processes run on this store" not in text, text
        said = " ".join(text.split())  # one process is listed too, on one line (trial 76, F6)
        assert f"1 process runs on this store: pid {first.pid} on {HOST} (`watchfloor run`" in said, text
        assert "stopped without a clean stop" not in said, text  # a clean stop is not a kill
        # A SIGKILLed run leaves its record: named as stopped without a clean stop (trial 76, F3), not silently gone
        third = start_run(cfg, 2)
        started.append(third)
        hb = wait_for_heartbeat(tmp_path / "wf.db", lambda hb: len(hb.processes) == 2)
        assert hb is not None and len(hb.processes) == 2, hb
        third.kill()
        third.wait(timeout=60)
        _, out = _status(cfg, "--json")
        got = json.loads(out)
        assert [int(p["pid"]) for p in got["processes"]] == [first.pid], got
        assert [(int(g["pid"]), g["pid_gone"]) for g in got["processes_gone"]] == [(third.pid, True)], got
        killed = (
            f"pid {third.pid} on {HOST} (`watchfloor run`, release {installed_version()}) stopped without a clean stop"
        )
        assert got["processes_gone"][0]["note"].startswith(killed), got
        _, text = _status(cfg)
        assert killed in " ".join(text.split()), text
        with serve(cfg, [datetime.now(UTC)]) as url:
            _, body = get(url + "/healthz")
            _, page = get(url + "/")
        health = json.loads(body)
        assert any(w.startswith(killed) for w in health["warnings"]), health
        assert killed in page.replace("&#96;", "`"), page
    finally:
        for p in started:
            if p.poll() is None:
                p.kill()
                p.wait()
