"""A Slack channel name conversations.list does not find is not looked up again at every alert: the answer is kept for
NOT_FOUND_RECHECK seconds (on the notifier's clock, injected here), after which a channel created since is found. An
app without groups:read, which Slack may answer `missing_scope` when asked for private channels, still finds a public
channel, and the errors name the scope to add. Real slack-sdk against the local Slack server; `run --once` on SQLite.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.alerts.notifiers.base import PermanentError
from watchfloor.alerts.notifiers.slack import NOT_FOUND_RECHECK, SlackNotifier
from watchfloor.cli import app

pytestmark = pytest.mark.functional

EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"
NO_GROUPS_READ = {
    "ok": False,
    "error": "missing_scope",
    "needed": "groups:read",
    "provided": "chat:write,channels:read",
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lists(server: FakeSlack) -> list[str]:
    """The `types` of each conversations.list the server received, in order."""
    return [str(r.body.get("types")) for r in server.requests if r.method == "conversations.list"]


def test_a_channel_not_found_is_asked_again_only_after_a_while(
    slack_server: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack_server.channels = {"#desk"}
    clock = Clock()
    notifier = SlackNotifier("ghost", "#ghost", slack_server.token, base_url=slack_server.base_url, clock=clock)
    assert [notifier.target() for _ in range(5)] == [None] * 5
    assert len(lists(slack_server)) == 1
    said = [r for r in caplog.records if "cannot tell the ID of #ghost" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in said]  # the same reason is logged once, not at every intake
    with pytest.raises(PermanentError) as raised:
        notifier.check()  # the same error, at once
    assert "'#ghost' not found by conversations.list" in raised.value.message and "groups:read" in raised.value.message
    assert raised.value.channel_wide and len(lists(slack_server)) == 1

    slack_server.channels.add("#ghost")  # created in Slack meanwhile
    clock.now += NOT_FOUND_RECHECK - 1
    assert notifier.target() is None and len(lists(slack_server)) == 1
    clock.now += 1
    assert notifier.target() == f"slack:{FakeSlack.channel_id('#ghost')}"
    assert notifier.target() == f"slack:{FakeSlack.channel_id('#ghost')}"  # found: kept, as before
    assert len(lists(slack_server)) == 2


def test_a_run_asks_for_a_missing_channel_once_not_at_every_alert(tmp_path: Path, slack_server: FakeSlack) -> None:
    """Two Slack channels take each alert (so the dispatcher asks each for its ID, to post once per real channel):
    the one that is not there is looked up once in the run, not once per alert."""
    slack_server.channels = {"#desk"}
    cfg = tmp_path / "watchfloor.yaml"
    slack = f'token_env: WF_TEST_SLACK, base_url: "{slack_server.base_url}"'
    cfg.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {EVENTS / "treaty_story.jsonl"}}}
channels:
  - {{type: slack, name: desk, channel: "#desk", {slack}}}
  - {{type: slack, name: ghost, channel: "#ghost", {slack}}}
subscriptions:
  - {{channel: desk}}
  - {{channel: ghost}}
""",
        encoding="utf-8",
    )
    env = {"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": ""}
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    assert res.exit_code in (0, 3), res.output
    posted = [m for m in slack_server.messages if m["channel"] == "#desk" and "thread_ts" not in m]
    assert len(posted) >= 2, res.output  # more than one alert asked for both channels' IDs
    # One look-up for #desk (then kept) and one for #ghost (then kept as not found): the start-up check's.
    assert len(lists(slack_server)) == 2, lists(slack_server)


def test_without_groups_read_a_public_channel_is_still_found(slack_server: FakeSlack) -> None:
    slack_server.channels = {"#desk"}
    slack_server.fail_next("conversations.list", body=NO_GROUPS_READ)
    notifier = SlackNotifier("desk", "#desk", slack_server.token, base_url=slack_server.base_url)
    assert notifier.target() == f"slack:{FakeSlack.channel_id('#desk')}"
    assert lists(slack_server) == ["public_channel,private_channel", "public_channel"]

    ghost = SlackNotifier("ghost", "#ghost", slack_server.token, base_url=slack_server.base_url)
    slack_server.fail_next("conversations.list", body=NO_GROUPS_READ)
    with pytest.raises(PermanentError) as raised:
        ghost.check()
    said = raised.value.message
    assert "not found by conversations.list among public channels" in said, said
    assert "lacks the groups:read scope" in said and "/invite" in said, said
    ghost.target()  # the public channels only, and the answer kept: nothing asked
    assert lists(slack_server)[2:] == ["public_channel,private_channel", "public_channel"]


def test_missing_scope_names_the_scope_slack_says_is_needed(slack_server: FakeSlack) -> None:
    """No channels:read either: the retry among public channels is refused too, and the error says which scope."""
    slack_server.channels = {"#desk"}
    body = {**NO_GROUPS_READ, "needed": "channels:read", "provided": "chat:write"}
    slack_server.fail_next("conversations.list", body=body, times=2)
    notifier = SlackNotifier("desk", "#desk", slack_server.token, base_url=slack_server.base_url)
    with pytest.raises(PermanentError) as raised:
        notifier.check()
    said = raised.value.message
    assert "missing_scope (the app lacks the channels:read scope: add it under OAuth & Permissions" in said, said
    # Not taken as "not found": asked again at the next look-up, with both types again.
    assert notifier.target() == f"slack:{FakeSlack.channel_id('#desk')}"
    assert lists(slack_server) == ["public_channel,private_channel", "public_channel", "public_channel,private_channel"]
