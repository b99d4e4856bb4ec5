"""`run --once` right after a `run` was killed mid-post delivers what the killed one held, once (trial 36, H1's cost:
the take-over waits until a post the killed process had on its way has landed, and a `--once` ended before that, with
the row outstanding and exit 3). It now waits that out (the channel's longest attempt: Slack's look and post, 2 × its
timeout), looks in the channel, finds the post that landed, and posts the rest. A real process killed with SIGKILL
while the local Slack server holds its post; real slack-sdk; SQLite on disk."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.cli import app
from watchfloor.wiring import open_store

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "tests" / "data" / "events"
runner = CliRunner()


def _config(tmp_path: Path, server: FakeSlack) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
poll_settle: 0s
sources:
  - {{kind: jsonl, path: {EVENTS / "treaty_story.jsonl"}}}
channels:
  - {{type: slack, name: desk, channel: "#desk", token_env: WF_TEST_SLACK, base_url: "{server.base_url}", timeout: 2}}
subscriptions:
  - {{channel: desk}}
""",
        encoding="utf-8",
    )
    return cfg


def test_run_once_after_a_kill_mid_post_waits_for_the_post_to_land_and_delivers_the_rest_once(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    slack_server.channels = {"#desk"}
    cfg = _config(tmp_path, slack_server)
    release, arrived = slack_server.hold_next("chat.postMessage")
    env = {**os.environ, "PYTHONPATH": str(REPO), "WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": ""}
    first = subprocess.Popen(
        [sys.executable, "-m", "watchfloor", "run", "--once", "--config", str(cfg)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert arrived.wait(120), "the first run's first post reached Slack"
    finally:
        first.kill()  # SIGKILL while Slack holds its post
        first.wait()
    release.set()  # and Slack carries that post out after all
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env={"WF_TEST_SLACK": slack_server.token})
    said = " ".join(res.output.split())
    assert res.exit_code == 0, said  # not 3 with the taken-over row outstanding
    # (4 s from the take-over, less the time the run took to get there: 3 s on a loaded machine)
    assert re.search(r"waiting [1-4]s for the deliveries taken over from a process stopped mid-send", said), said
    _each_sent_and_posted_once(tmp_path, slack_server)


class _ReleaseOn(logging.Handler):
    """Lets Slack carry out the held post once the log says its attempt failed (timed out)."""

    def __init__(self, release: threading.Event, text: str) -> None:
        super().__init__(logging.WARNING)
        self.gate, self.text = release, text

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.gate.set()


def test_run_once_after_its_own_post_timed_out_waits_for_it_to_land_finds_it_and_delivers_the_rest_once(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """Trial 54, HIGH-1 with `--once`: the first post is held by Slack past the channel's `timeout` (3 s) and carried
    out after the timeout. The retry is not made before the post's landing window (2 × timeout from its start) is
    over, later than the backoff (1 s), which the `--once` waits out (it used to end at once, the row outstanding,
    exit 3): then it looks, finds the post and sends the rest, each once."""
    slack_server.channels = {"#desk"}
    cfg = _config(tmp_path, slack_server)
    text = cfg.read_text(encoding="utf-8").replace("timeout: 2}", "timeout: 3}") + "retry: {backoff: 1s}\n"
    cfg.write_text(text, encoding="utf-8")
    release, arrived = slack_server.hold_next("chat.postMessage")
    handler = _ReleaseOn(release, "attempt 1 failed")
    logging.getLogger("watchfloor.alerts.delivery").addHandler(handler)
    try:
        res = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env={"WF_TEST_SLACK": slack_server.token})
    finally:
        logging.getLogger("watchfloor.alerts.delivery").removeHandler(handler)
        release.set()
    said = " ".join(res.output.split())
    assert arrived.is_set() and res.exit_code == 0, said  # not 3 with the timed-out row outstanding
    assert "for the deliveries whose attempt timed out here (a post the channel may still carry out)" in said, said
    assert "found already posted, not posted again" in said, said
    _each_sent_and_posted_once(tmp_path, slack_server)


def _each_sent_and_posted_once(tmp_path: Path, slack_server: FakeSlack) -> None:
    """Every delivery of the store sent, each posted once: the post that landed late was found, not repeated."""
    st = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        rows = st.deliveries()
    finally:
        st.close()
    assert rows and all(r.status == "sent" for r in rows), [(r.alert_id, r.status, r.detail) for r in rows]
    for r in rows:
        assert len(slack_server.messages_for(r.alert_id)) == 1, r.alert_id  # the landed post was found, not repeated
    assert len(slack_server.requests_for("chat.postMessage")) == len(rows)


def test_run_once_does_not_wait_a_landing_window_over_a_minute_and_leaves_the_row_outstanding_to_be_looked_for(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """A channel `timeout` over 30 s makes a landing window over a minute, more than a `--once` waits (60 s): Slack
    carries the first post out and the connection is cut before its answer; the run says it does not wait, exits 3,
    and leaves the row outstanding and unsure (its next attempt, after the window, looks in the channel first), and
    the channel's other rows outstanding behind it: nothing given up, nothing posted twice."""
    slack_server.channels = {"#desk"}
    cfg = _config(tmp_path, slack_server)
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("timeout: 2}", "timeout: 40}"), encoding="utf-8")
    slack_server.cut_next("chat.postMessage")
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env={"WF_TEST_SLACK": slack_server.token})
    said = " ".join(res.output.split())
    assert res.exit_code == 3, said
    assert "not waiting " in said, said
    assert "for the deliveries whose attempt timed out here (a post the channel may still carry out) to land" in said
    assert "(a `--once` waits up to 60s): they stay outstanding, and the next run looks for each in its channel" in said
    assert "not everything was delivered" in said and "outstanding" in said, said
    st = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        rows = st.deliveries()
    finally:
        st.close()
    assert rows and all(r.status == "outstanding" for r in rows), [(r.alert_id, r.status, r.detail) for r in rows]
    (cut,) = [r for r in rows if r.attempts]  # the one attempt made: its post is in the channel, unanswered
    assert cut.unsure and cut.not_before >= cut.created_at + 60, cut
    assert [len(slack_server.messages_for(r.alert_id)) for r in rows] == [int(r is cut) for r in rows]
    assert len(slack_server.requests_for("chat.postMessage")) == 1
