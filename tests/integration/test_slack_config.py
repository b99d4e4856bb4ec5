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


def test_the_app_reads_its_secrets_from_the_variables_the_section_names() -> None:
    from watchfloor.alerts.control import ControlLog
    from watchfloor.stream_processors.rulefile import load_rules
    from watchfloor.stream_processors.stores.memory import MemoryStore
    from watchfloor.web.build import build_services

    assert (SlackApp().token_env, SlackApp().signing_secret_env) == ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    store = MemoryStore()
    cfg = AppConfig(slack=SlackApp(), channels=[], subscriptions=[])
    _, rules = load_rules(cfg.rules)
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s3cret"}
    on = build_services(cfg, store, ControlLog(store), rules, env=env)
    assert on.slack_app is not None and on.slack_problem == ""
    off = build_services(cfg, store, ControlLog(store), rules, env={"SLACK_BOT_TOKEN": "xoxb-test"})
    assert off.slack_app is None and "SLACK_SIGNING_SECRET" in off.slack_problem
