"""The Slack app without a `slack:` section takes its Web API root (and token variable) from the Slack channels
when they all name the same one (outside trial 14, L1: it asked slack.com, and every click answered HTTP 500)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.integration import test_slack_app as base
from tests.integration.test_slack_app import (
    DESK,
    SECRET,
    Env,
    first_alert_buttons,
    posted_alerts,
    run_pipeline,
    slack,
    stderr_of,
)
from watchfloor.alerts.slackapp.buttons import ACK_ACTION
from watchfloor.schemas.config import AppConfig, SlackApp, SlackChannel
from watchfloor.web.build import slack_app_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def env(tmp_path: Path, slack_server: FakeSlack) -> Env:
    """test_slack_app's setup, with the Slack server named only by the channel (no `slack:` section)."""
    e = base.env.__wrapped__(tmp_path, slack_server)  # type: ignore[attr-defined]
    e.config.write_text(
        f"""
store: {e.store_url}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {e.inbox}}}
channels:
  - {{type: slack, name: desk, channel: "#desk", base_url: "{slack_server.base_url}"}}
subscriptions: [{{channel: desk}}]
""",
        encoding="utf-8",
    )
    # the section's default variables, as the trial had them
    e.env |= {"SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": slack_server.token}
    return e


def test_a_click_reaches_the_channels_slack_server_without_a_slack_section(env: Env) -> None:
    served = env.start("serve", "--config", str(env.config), "--port", "0")
    try:
        assert "the base_url of Slack channel(s) desk" in served.banner, served.banner
        assert env.slack.base_url in served.banner
        run_pipeline(env)
        assert posted_alerts(env)
        message, alert, value = first_alert_buttons(env)
        reply = slack(env, served).block_action(ACK_ACTION, value, message=message, channel_id=DESK)
        assert reply.status == 200, reply
        (ack,) = env.control().acknowledgements(alert["id"])
        assert ack.by.user == "U0ALICE001"
        assert env.slack.requests_for("chat.update")  # the app itself answered through the local server
    finally:
        log = stderr_of(served)
    assert "Traceback" not in log, log[-3000:]


def test_channels_that_name_different_servers_leave_slack_itself_and_say_so() -> None:
    channels = [
        SlackChannel(name="a", channel="#a", base_url="http://127.0.0.1:1/api/"),
        SlackChannel(name="b", channel="#b", base_url="http://127.0.0.1:2/api/"),
    ]
    token_env, base_url, note = slack_app_settings(AppConfig(store="memory://", channels=channels, subscriptions=[]))
    assert (token_env, base_url) == ("SLACK_BOT_TOKEN", None)
    assert "different base_url" in note and "set slack.base_url" in note
    # the section's own settings win over the channels'
    cfg = AppConfig(
        store="memory://",
        slack=SlackApp(base_url="http://127.0.0.1:3/api/", token_env="MY_BOT"),
        channels=[SlackChannel(name="a", channel="#a", base_url="http://127.0.0.1:1/api/", token_env="OTHER")],
        subscriptions=[],
    )
    # (and the start line names it: outside trial 69, L4)
    assert slack_app_settings(cfg) == (
        "MY_BOT",
        "http://127.0.0.1:3/api/",
        "Web API http://127.0.0.1:3/api/, the slack: section's base_url",
    )
    # without the section, the channels' one token variable too (the app posts as the channels do)
    cfg = AppConfig(store="memory://", channels=[SlackChannel(name="a", channel="#a", token_env="DESK_BOT")])
    assert slack_app_settings(cfg) == ("DESK_BOT", None, "")
