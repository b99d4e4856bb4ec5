"""A post that got through although Slack answered 5xx (trial 46, MED-1): the next start finds it in the channel,
past the ledger's newest delivery, and does not post it again. That is the ordinary "found already posted, not posted
again" of an attempt the ledger holds as unsettled, not a store restored from a backup: no restore warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.cli import app

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"


def _config(tmp_path: Path, slack: FakeSlack, inbox: Path) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: "sqlite:///{tmp_path / "wf.db"}"
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {inbox}}}
channels:
  - {{type: slack, name: desk, channel: "#desk", token_env: WF_TEST_SLACK, base_url: "{slack.base_url}",
      broadcast_escalations: false}}
subscriptions:
  - {{channel: desk}}
""",
        encoding="utf-8",
    )
    return cfg


def test_a_5xx_that_got_through_is_found_at_the_next_start_without_a_restore_warning(
    tmp_path: Path, slack_server: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    lines = SAMPLES.read_text(encoding="utf-8").splitlines(keepends=True)
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("".join(lines[:6]), encoding="utf-8")
    cfg = _config(tmp_path, slack_server, inbox)
    env = {"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": "", "COLUMNS": "400"}

    def run() -> str:
        res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
        said = " ".join(res.output.split())
        assert res.exit_code in (0, 3), said
        return said

    run()
    before = len(slack_server.messages)
    assert before, "the first items raise alerts"
    with inbox.open("a", encoding="utf-8") as f:
        f.write("".join(lines[6:]))
    slack_server.fail_after_next("chat.postMessage", 500)  # posted, then answered 500: it may have got through
    said = run()
    assert "6 outstanding" in said, said
    assert len(slack_server.messages) == before + 1  # the post got through; the rest wait for the next start

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="watchfloor.alerts"):
        said = run()
    posted = [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.messages]
    assert len(posted) == len(set(posted)), posted  # nothing posted twice
    assert "found already posted, not posted again" in said, said
    said_all = [r.getMessage() for r in caplog.records]
    assert not [m for m in said_all if "restored from a backup" in m], said_all
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "found posted there" in r.getMessage()]
    told = [m for m in said_all if m.startswith("alerts: channel desk: 1 deliveries found posted there")]
    assert told and "by an attempt the ledger holds as unsettled" in told[0], said_all
