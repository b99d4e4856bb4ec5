"""The start-up channel check says when the Slack app cannot read a channel's history (trial 33, M2): without
channels:history a post whose answer was lost cannot be looked for before it is sent again, so a flaky Slack turns
into duplicates, and the check had said "can post" and nothing more. Real slack-sdk against the local Slack server;
`run --once` on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.alerts.notifiers.base import PermanentError
from watchfloor.alerts.notifiers.slack import SlackNotifier
from watchfloor.cli import app

pytestmark = pytest.mark.functional

EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"
NO_HISTORY = {"ok": False, "error": "missing_scope", "needed": "channels:history", "provided": "chat:write"}


def test_the_check_says_a_missing_history_scope_and_what_it_costs(slack_server: FakeSlack) -> None:
    slack_server.channels = {"#desk"}
    notifier = SlackNotifier("desk", "#desk", slack_server.token, base_url=slack_server.base_url)
    slack_server.fail_next("conversations.history", body=NO_HISTORY)
    with pytest.raises(PermanentError) as raised:
        notifier.check()
    said = raised.value.message
    assert "can post to #desk" in said and "not read its history" in said, said
    assert "Add channels:history under OAuth & Permissions" in said and "may arrive twice" in said, said
    assert raised.value.channel_wide
    # with the scope, the check passes as before
    assert notifier.check().startswith("bot ")


def test_a_busy_history_does_not_fail_the_check(slack_server: FakeSlack) -> None:
    slack_server.channels = {"#desk"}
    notifier = SlackNotifier("desk", "#desk", slack_server.token, base_url=slack_server.base_url)
    slack_server.fail_next("conversations.history", status=500)
    assert "can post to #desk" in notifier.check()


def test_run_says_it_at_start(tmp_path: Path, slack_server: FakeSlack) -> None:
    slack_server.channels = {"#desk"}
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {EVENTS / "treaty_story.jsonl"}}}
channels:
  - {{type: slack, name: desk, channel: "#desk", token_env: WF_TEST_SLACK, base_url: "{slack_server.base_url}"}}
subscriptions:
  - {{channel: desk}}
""",
        encoding="utf-8",
    )
    slack_server.fail_next("conversations.history", body=NO_HISTORY)
    env = {"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": ""}
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    assert res.exit_code in (0, 3), res.output
    said = " ".join(res.output.split())
    assert "channel desk: check failed" in said and "Add channels:history" in said, said
    assert any(m["channel"] == "#desk" for m in slack_server.messages)  # its alerts are posted anyway
