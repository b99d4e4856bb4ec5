"""The `slack:` section: Slack channels take their token variable and API root from it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.fixtures.slack_server import FakeSlack
from watchfloor.alerts.notice import Notice, notice_of
from watchfloor.schemas.config import AppConfig, SlackApp, SlackChannel
from watchfloor.schemas.events import Alert, Detection
from watchfloor.wiring import WiringError, build_notifier, build_notifiers

pytestmark = pytest.mark.integration


def alert() -> Notice:
    det = Detection(id="a1", rule="r", title="t", severity="low", fired_at=datetime(2024, 1, 1, tzinfo=UTC))
    return notice_of(Alert(id="a1", detection=det, channels=("desk",)), "desk")


def test_slack_channel_takes_token_and_base_url_from_the_slack_section(slack_server: FakeSlack) -> None:
    cfg = AppConfig(
        slack=SlackApp(token_env="WF_BOT", base_url=slack_server.base_url),
        channels=[SlackChannel(name="desk", channel="#desk")],
        subscriptions=[],
    )
    notifier = build_notifiers(cfg, env={"WF_BOT": slack_server.token})["desk"]
    assert notifier.send(alert())
    assert slack_server.messages[0]["channel"] == "#desk"


def test_channel_settings_win_over_the_slack_section(slack_server: FakeSlack) -> None:
    ch = SlackChannel(name="desk", channel="#desk", token_env="OWN", base_url=slack_server.base_url)
    section = SlackApp(token_env="WF_BOT", base_url="http://127.0.0.1:9/api/")
    notifier = build_notifier(ch, {"OWN": slack_server.token}, section)
    assert notifier.send(alert())
    with pytest.raises(WiringError, match="WF_BOT"):
        build_notifier(SlackChannel(name="d", channel="#d"), {}, section)
    with pytest.raises(WiringError, match="SLACK_BOT_TOKEN"):
        build_notifier(SlackChannel(name="d", channel="#d"), {})
