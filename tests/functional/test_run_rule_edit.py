"""A live `run` reads its rules at start; a pack edited under it is said, not silently ignored (outside trial 13, M1,
which found it for the Kafka workers; the embedded pipeline behaves the same)."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from watchfloor.stream_processors.rulefile import builtin_dir

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "tests" / "data" / "events"


def test_a_live_run_says_its_pack_was_edited_and_still_runs_what_it_started_with(tmp_path: Path) -> None:
    pack = tmp_path / "desk.yaml"
    shutil.copy(builtin_dir() / "dprk_russia.yaml", pack)
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{pack}]\n"
        f"sources:\n  - {{kind: jsonl, path: {EVENTS / 'treaty_story.jsonl'}}}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")}
    env |= {"PYTHONPATH": str(REPO), "COLUMNS": "400"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "watchfloor", "run", "--config", str(cfg), "--interval", "0.2"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stderr is not None
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr or []], daemon=True).start()

    def wait_for(text: str) -> str:
        deadline = time.monotonic() + 120  # a bound on a slow machine, not a measurement
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert proc.poll() is None, f"run exited {proc.returncode}"
                continue
            if text in line:
                return line
        raise AssertionError(f"run never said {text!r}")

    try:
        wait_for("polled 1 source")  # the first cycle is done: the rules were read
        pack.write_text(pack.read_text(encoding="utf-8").replace("ratified", "RATIFIED"), encoding="utf-8")
        said = wait_for("rule files changed")
        assert f"{pack}: edited" in said and "still runs the rules it started with" in said, said
        assert "stop `watchfloor run` and start it again" in said, said
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
