"""A `run --once` during a Slack outage says once per channel that it cannot look at what was posted there after
its newest delivery in the ledger (trial 54, LOW-3: the line came three times per channel, once per pass). The real
slack-sdk against the local Slack server for the first run; the second run, a process of its own, has its Slack
at a port nothing listens on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.cli import app

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[2]
STORY = REPO / "tests" / "data" / "events" / "treaty_story.jsonl"
runner = CliRunner()
SAID = "cannot look now at what was posted there after its newest delivery in the ledger"


def _config(tmp_path: Path, base_url: str) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
poll_settle: 0s
sources:
  - {{kind: jsonl, path: {tmp_path / "feed.jsonl"}}}
channels:
  - {{type: slack, name: desk-a, channel: "#desk", token_env: WF_TEST_SLACK, base_url: "{base_url}", timeout: 2}}
  - {{type: slack, name: desk-b, channel: "#desk", token_env: WF_TEST_SLACK, base_url: "{base_url}", timeout: 2}}
subscriptions:
  - {{channel: desk-a}}
  - {{channel: desk-b}}
""",
        encoding="utf-8",
    )
    return cfg


def test_run_once_in_a_slack_outage_says_once_per_channel_that_it_cannot_look_in_it(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    lines = STORY.read_text(encoding="utf-8").splitlines(keepends=True)
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(lines[:4]), encoding="utf-8")
    env = {"WF_TEST_SLACK": slack_server.token}
    cfg = _config(tmp_path, slack_server.base_url)
    first = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    assert first.exit_code == 0, first.output  # delivered: each channel has a newest delivery to look from
    feed.write_text("".join(lines), encoding="utf-8")
    cfg = _config(tmp_path, "http://127.0.0.1:9/api/")  # Slack down (nothing listens on the discard port)
    res = subprocess.run(  # a process of its own: its log is what it writes to stderr
        [sys.executable, "-m", "watchfloor", "run", "--once", "--config", str(cfg)],
        env={**os.environ, **env, "PYTHONPATH": str(REPO), "WATCHFLOOR_STORE": ""},
        capture_output=True,
        text=True,
        timeout=300,
    )
    said = " ".join(res.stderr.split())
    assert res.returncode == 3, said  # its deliveries wait until the channel can be looked in
    for channel in ("desk-a", "desk-b"):
        assert said.count(f"channel {channel}: {SAID}") == 1, said
