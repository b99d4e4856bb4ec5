"""A real `watchfloor run` process on a config's SQLite store, and its heartbeat as `status` and /healthz read it:
for the tests of what they say of a live, hung or gone run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from watchfloor.web.activity import Heartbeat, heartbeat
from watchfloor.wiring import open_store

REPO = Path(__file__).resolve().parents[2]


def start_run(cfg: Path, interval: int = 1) -> subprocess.Popen[bytes]:
    """`watchfloor run --config CFG --interval N` in a process of its own (the config's store, not WATCHFLOOR_STORE)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "WATCHFLOOR_STORE": ""}
    return subprocess.Popen(
        [sys.executable, "-m", "watchfloor", "run", "--config", str(cfg), "--interval", str(interval)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for_heartbeat(
    db: Path, ready: Callable[[Heartbeat], bool] = lambda hb: hb.process is not None, timeout: float = 120
) -> Heartbeat | None:
    """The heartbeat of the store at `db` once `ready` says so (by default: a live run recorded a cycle), else the
    last one read (None: the store was never made) when `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    hb = None
    while time.monotonic() < deadline:
        if db.exists():
            st = open_store(f"sqlite:///{db}")
            try:
                hb = heartbeat(st)
            finally:
                st.close()
            if ready(hb):
                return hb
        time.sleep(0.5)
    return hb
