"""A long-running command stopped with SIGTERM says so in its last line, so that a clean stop can be told from a
crash or a kill in its log (outside trial 14, L4: `run` ended with the previous cycle's summary line)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.log_lines import stamped
from tests.fixtures.trickle import Trickle
from tests.fixtures.watchfloor_process import WatchfloorProcess, command_env

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "tests" / "data" / "events"


def stop_after(tmp_path: Path, args: list[str], ready: str) -> tuple[int, list[str]]:
    """Start `watchfloor ARGS`, wait until its stderr says `ready`, SIGTERM it: its exit code and stderr lines.
    Every line carries its UTC time: the stopped line said last (trial 50: it had none, written after the times were
    switched off) and the start's banner and channel checks (trial 54, LOW-2)."""
    with WatchfloorProcess(args, tmp_path) as proc:
        proc.wait_for(ready)
        code = proc.stop()
    said = proc.rest()
    assert proc.raw and all(stamped(line) for line in proc.raw), [line for line in proc.raw if not stamped(line)]
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
    ingest = [sys.executable, "-m", "watchfloor", "ingest", "--config", str(cfg), str(EVENTS / "treaty_story.jsonl")]
    subprocess.run(ingest, env=command_env(), check=True, timeout=120, capture_output=True)
    code, said = stop_after(tmp_path, ["notify", "--config", str(cfg), "--interval", "0.2"], "warning:")
    assert code == 0, said
    assert re.fullmatch(r"notify stopped \(SIGTERM\) after \d+ cycles?", said[-1]), said[-3:]


def test_run_stops_on_sigterm_while_a_webhook_trickles_its_answer(tmp_path: Path) -> None:
    """Outside trial 16, M2: a receiver answering a byte a second held `run` for 11 minutes, through two SIGTERMs.
    The call under way is given up at the stop (at the channel's timeout, 3 s here, at the latest), and run exits."""
    receiver = Trickle(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\n"
        f"sources:\n  - {{kind: jsonl, path: {EVENTS / 'treaty_story.jsonl'}}}\n"
        f"channels:\n  - {{type: webhook, name: pager, url: '{receiver.url}', timeout: 3}}\n"
        "subscriptions:\n  - {channel: pager}\n",
        encoding="utf-8",
    )
    with WatchfloorProcess(["run", "--config", str(cfg), "--interval", "600"], tmp_path) as proc:
        try:
            deadline = time.monotonic() + 120  # a bound on a slow machine, not a measurement
            while receiver.posts == 0:
                assert proc.proc.poll() is None, f"exited {proc.proc.returncode} before posting: {proc.rest()}"
                assert time.monotonic() < deadline, "run never posted to the webhook"
                time.sleep(0.2)
            # fails when run is still going 60 s after SIGTERM, held by a webhook that trickles its answer
            code = proc.stop(timeout=60)
        finally:
            receiver.close()
    said = proc.rest()
    stderr = "\n".join(said)
    assert code == 0, said
    assert re.search(r"deliveries to pager: 0 sent, \d+ outstanding", stderr), said  # given up, to be tried again
    assert re.fullmatch(r"run stopped \(SIGTERM\) after 1 cycle", said[-1]), said[-3:]
