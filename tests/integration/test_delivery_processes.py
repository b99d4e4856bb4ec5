"""Never twice across processes: any number of dispatchers (`run --once` and `notify --once` processes) on one
store, SQLite or PostgreSQL, deliver each (alert, channel) once, while Slack fails, answers past the client
timeout and the processes race for the same deliveries; and `notify` processes SIGKILLed at random moments
neither lose nor repeat an alert. Messages are counted at the local Slack-compatible server, lines in the file.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import detection
from watchfloor.schemas.events import detection_event
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.integration

WATCHFLOOR = Path(sys.executable).parent / "watchfloor"
PROCESSES = 4
ROUNDS = 3
PER_ROUND = 8  # detections: 4 groups x (an alert and a follow-up in its thread)


def write_config(tmp_path: Path, store_url: str, server: FakeSlack) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: "{store_url}"
rules: [builtin:dprk_russia]
sources: []
channels:
  - {{type: slack, name: desk, channel: "#desk", token_env: WF_TEST_SLACK, base_url: "{server.base_url}", timeout: 1}}
  - {{type: file, name: archive, path: "{tmp_path / "alerts.jsonl"}"}}
subscriptions:
  - {{channel: desk}}
  - {{channel: archive}}
retry: {{backoff: 1s, max_backoff: 2s, lease: 20s}}
""",
        encoding="utf-8",
    )
    return cfg


def add_round(store_url: str, r: int) -> list[str]:
    dets = [
        detection(r * PER_ROUND + i, group={"route": f"r{r}-g{i // 2}"}, minutes=r * 100 + i) for i in range(PER_ROUND)
    ]
    st = open_store(store_url)
    try:
        st.append([detection_event(d) for d in dets])
    finally:
        st.close()
    return [d.id for d in dets]


def spawn(cfg: Path, server: FakeSlack, command: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WF_TEST_SLACK": server.token}
    env.pop("WATCHFLOOR_STORE", None)
    return subprocess.Popen(
        [str(WATCHFLOOR), command, "--once", "--config", str(cfg)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=cfg.parent,
    )


def finish(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        _, stderr = p.communicate(timeout=180)
        # 0: all delivered; 3: some still outstanding (a later process takes them); anything else is a crash
        assert p.returncode in (0, 3), stderr.decode(errors="replace")[-3000:]


def flush(cfg: Path, server: FakeSlack) -> None:
    for _ in range(8):
        p = spawn(cfg, server, "notify")
        _, stderr = p.communicate(timeout=180)
        if p.returncode == 0:
            return
        assert p.returncode == 3, stderr.decode(errors="replace")[-3000:]
        time.sleep(1)  # the backoff of what is left (1-2s); the next process start tries at once anyway
    raise AssertionError("deliveries still outstanding after 8 notify runs")


def check_once(keys: list[str], server: FakeSlack, archive: Path) -> None:
    at_slack = Counter(k for k in keys for _ in server.messages_for(k))
    assert {k: n for k, n in at_slack.items() if n != 1} == {}, "posted twice"
    assert set(at_slack) == set(keys), f"missing at Slack: {sorted(set(keys) - set(at_slack))}"
    lines = Counter(json.loads(x)["key"] for x in archive.read_text().splitlines())
    assert {k: n for k, n in lines.items() if n != 1} == {}, "written twice"
    assert set(lines) == set(keys)
    # Follow-ups are replies in their thread; the thread's first message was updated in place.
    replies = [m for m in server.messages if m.get("thread_ts") and m["ts"] != m["thread_ts"]]
    assert len(replies) == len(keys) // 2


def _race(tmp_path: Path, store_url: str, server: FakeSlack) -> None:
    server.channels = {"#desk"}
    cfg = write_config(tmp_path, store_url, server)
    keys: list[str] = []
    for r in range(ROUNDS):
        keys += add_round(store_url, r)
        server.fail_next("chat.postMessage", status=500, times=2)  # may have posted: a look before any resend
        server.slow_next("chat.postMessage", 1.6, times=2)  # posted, answered after the 1s client timeout
        procs = [spawn(cfg, server, "run" if i % 2 else "notify") for i in range(PROCESSES)]
        finish(procs)
    flush(cfg, server)
    check_once(keys, server, tmp_path / "alerts.jsonl")


def test_four_processes_three_rounds_sqlite(tmp_path: Path, slack_server: FakeSlack) -> None:
    _race(tmp_path, f"sqlite:///{tmp_path / 'wf.db'}", slack_server)


def test_four_processes_three_rounds_postgres(tmp_path: Path, slack_server: FakeSlack, pg_url: str) -> None:
    _race(tmp_path, pg_url, slack_server)


def test_notify_killed_at_random_moments_loses_and_repeats_nothing(tmp_path: Path, slack_server: FakeSlack) -> None:
    """SIGKILL `notify` while it writes and posts (slow answers widen the window between a send and its
    record): the next process looks in Slack and in the file before sending anything again."""
    slack_server.channels = {"#desk"}
    store_url = f"sqlite:///{tmp_path / 'wf.db'}"
    cfg = write_config(tmp_path, store_url, slack_server)
    cfg.write_text(cfg.read_text().replace("lease: 20s", "lease: 3s"), encoding="utf-8")
    rng = random.Random(9)
    keys: list[str] = []
    for r in range(4):
        keys += add_round(store_url, r)
        slack_server.slow_next("chat.postMessage", 0.4, times=PER_ROUND)
        p = spawn(cfg, slack_server, "notify")
        time.sleep(rng.uniform(1.0, 3.0))
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=30)
        time.sleep(3.1)  # the killed process's lease runs out
    flush(cfg, slack_server)
    check_once(keys, slack_server, tmp_path / "alerts.jsonl")
