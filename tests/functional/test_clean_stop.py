"""A long-running command stopped with SIGTERM says so in its last line, so that a clean stop can be told from a
crash or a kill in its log (outside trial 14, L4: `run` ended with the previous cycle's summary line)."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "tests" / "data" / "events"


def stop_after(tmp_path: Path, args: list[str], ready: str) -> tuple[int, list[str]]:
    """Start `watchfloor ARGS`, wait until its stderr says `ready`, SIGTERM it: its exit code and stderr lines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")}
    env |= {"PYTHONPATH": str(REPO), "COLUMNS": "400"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "watchfloor", *args],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in proc.stderr or []:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    said: list[str] = []
    try:
        deadline = time.monotonic() + 120  # a bound on a slow machine, not a measurement
        while not any(ready in x for x in said):
            assert time.monotonic() < deadline, f"never said {ready!r}: {said}"
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert proc.poll() is None, f"exited {proc.returncode}: {said}"
                continue
            assert line is not None, f"exited {proc.poll()}: {said}"
            said.append(line)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    while (line := lines.get(timeout=30)) is not None:
        said.append(line)
    return code, said


def config(tmp_path: Path) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\n"
        f"sources:\n  - {{kind: jsonl, path: {EVENTS / 'treaty_story.jsonl'}}}\n"
        "channels:\n  - {type: console, name: desk}\nsubscriptions:\n  - {channel: desk}\n",
        encoding="utf-8",
    )
    return cfg


def test_run_says_it_stopped_on_sigterm_after_its_cycles(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    code, said = stop_after(tmp_path, ["run", "--config", str(cfg), "--interval", "0.2"], "polled 1 source")
    assert code == 0, said
    assert re.fullmatch(r"run stopped \(SIGTERM\) after \d+ cycles?", said[-1]), said[-3:]


def test_serve_and_notify_say_they_stopped_on_sigterm(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    with socket.socket() as s:  # a free port (serve takes no port 0 and says where it listens)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, said = stop_after(tmp_path, ["serve", "--config", str(cfg), "--port", str(port)], "/healthz")
    assert code == 0 and said[-1] == "serve stopped (SIGTERM)", said[-3:]
    # documents nothing detected: notify warns so at its first cycle, which tells us it runs
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")} | {"PYTHONPATH": str(REPO)}
    ingest = [sys.executable, "-m", "watchfloor", "ingest", "--config", str(cfg), str(EVENTS / "treaty_story.jsonl")]
    subprocess.run(ingest, env=env, check=True, timeout=120, capture_output=True)
    code, said = stop_after(tmp_path, ["notify", "--config", str(cfg), "--interval", "0.2"], "warning:")
    assert code == 0, said
    assert re.fullmatch(r"notify stopped \(SIGTERM\) after \d+ cycles?", said[-1]), said[-3:]


def test_run_stops_on_sigterm_while_a_webhook_trickles_its_answer(tmp_path: Path) -> None:
    """Outside trial 16, M2: a receiver answering a byte a second held `run` for 11 minutes, through two SIGTERMs.
    The call under way is given up at the stop (at the channel's timeout, 3 s here, at the latest), and run exits."""
    from tests.functional.delivery_helpers import Trickle

    receiver = Trickle(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\n"
        f"sources:\n  - {{kind: jsonl, path: {EVENTS / 'treaty_story.jsonl'}}}\n"
        f"channels:\n  - {{type: webhook, name: pager, url: '{receiver.url}', timeout: 3}}\n"
        "subscriptions:\n  - {channel: pager}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")}
    env |= {"PYTHONPATH": str(REPO), "COLUMNS": "400"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "watchfloor", "run", "--config", str(cfg), "--interval", "600"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120  # a bound on a slow machine, not a measurement
        while receiver.posts == 0:
            assert proc.poll() is None, f"exited {proc.returncode} before posting: {proc.communicate()[1]}"
            assert time.monotonic() < deadline, "run never posted to the webhook"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        try:
            _, stderr = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("run was still going 60 s after SIGTERM, held by a webhook that trickles its answer")
    finally:
        receiver.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    said = stderr.strip().splitlines()
    assert proc.returncode == 0, said
    assert re.search(r"deliveries: 0 sent, \d+ outstanding", stderr), said  # given up, to be tried again
    assert re.fullmatch(r"run stopped \(SIGTERM\) after 1 cycle", said[-1]), said[-3:]
