"""A separate `watchfloor serve` says `stale` when the live `run` that wrote the last cycle still runs but has finished
no cycle for three of its poll intervals and a minute (trial 42, MED-2: /healthz answered 200 `ok`, `"pipeline":
"running"` of a `run` stopped with SIGSTOP for 280 s, and of one that could not write its read-only store for 110 s,
at poll intervals of 60 s and 5 s). The `run` records its interval with each cycle; /healthz, /metrics and the status
page read it. A real `run` process stopped with SIGSTOP, SQLite on disk, a real HTTP server."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from watchfloor.web.activity import heartbeat
from watchfloor.wiring import open_store

from .live_run import start_run, wait_for_heartbeat
from .test_healthz_run_gone import _config
from .test_stuck_deliveries import get, serve

pytestmark = pytest.mark.functional


def _metric(text: str, name: str) -> float | None:
    got = [s.value for fam in text_string_to_metric_families(text) for s in fam.samples if s.name == name]
    return got[0] if got else None


def test_a_live_run_that_finishes_no_cycle_for_three_intervals_is_stale(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    live = start_run(cfg, 2)
    try:
        hb = wait_for_heartbeat(tmp_path / "wf.db")
        assert hb is not None and hb.interval == 2.0, hb
        # Stopped between cycles (not holding the store's write lock, which would be said as a lock instead): just
        # after a cycle was recorded.
        first = heartbeat_finished(tmp_path)
        deadline = time.monotonic() + 60
        while heartbeat_finished(tmp_path) == first and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        os.kill(live.pid, signal.SIGSTOP)  # hung: alive, going round no more
        finished = heartbeat_finished(tmp_path)
        # Within three intervals and a minute (66 s) of the last cycle: running, as before.
        clock = [finished + timedelta(seconds=60)]
        with serve(cfg, clock) as url:
            status, body = get(url + "/healthz")
            health = json.loads(body)
            assert status == 200 and health["pipeline"] == "running", health
            assert health["stale_after_seconds"] == 66.0, health
            # Past it (the serve's clock moved on, as the 110 s and 280 s of the trial): stale, 503, and why.
            clock[0] = finished + timedelta(seconds=110)
            status, body = get(url + "/healthz")
            health = json.loads(body)
            _, metrics = get(url + "/metrics")
            _, page = get(url + "/")
    finally:
        os.kill(live.pid, signal.SIGCONT)
        live.kill()
        live.wait()
    assert status == 503 and health["status"] == "stale" and health["pipeline"] == "stale", health
    assert health["problems"] == [
        f"the `watchfloor run` that wrote the last cycle (pid {live.pid} on {os.uname().nodename}) has finished no "
        "cycle for 110s, more than three of its 2s poll intervals: it is hung or cannot write the store (its log "
        "says which)"
    ], health
    # /metrics: the age and the threshold it is past, for an alerting rule; the status page says the same.
    assert _metric(metrics, "watchfloor_pipeline_stale_after_seconds") == 66.0
    age = _metric(metrics, "watchfloor_last_cycle_age_seconds")
    assert age is not None and age > 66.0
    assert "has finished no cycle for 110s" in page, page


def heartbeat_finished(tmp_path: Path) -> datetime:
    st = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        at = heartbeat(st).finished_at
    finally:
        st.close()
    assert at is not None
    return at.astimezone(UTC)
