"""An escalation to high or critical is broadcast to the channel as well as the thread; a Slack channel's
`broadcast_escalations: false` in the config keeps it in the thread. Through the config and wiring, against the
local Slack-compatible server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import detection
from watchfloor.alerts.notice import AlertCatalog
from watchfloor.schemas.config import AppConfig, SlackApp, SlackChannel, Subscription
from watchfloor.schemas.events import detection_event
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.wiring import build_dispatcher

pytestmark = pytest.mark.functional

RUS = {"party": "RUS"}
CATALOG = AlertCatalog(entity_names={"RUS": "Russia"}, open_periods={"troops": timedelta(days=2)})


def thread_of_an_escalation(server: FakeSlack, channel: SlackChannel) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    cfg = AppConfig(
        slack=SlackApp(token_env="WF_BOT", base_url=server.base_url),
        channels=[channel],
        subscriptions=[Subscription(channel=channel.name)],
    )
    store = MemoryStore()
    dispatcher = build_dispatcher(cfg, store, env={"WF_BOT": server.token}, catalog=CATALOG)
    severities = ["medium", "medium", "high", "critical"]  # the second is no escalation; high and critical are
    for n, severity in enumerate(severities, start=1):
        det = detection(n, rule="troops", group=RUS, severity=severity, minutes=n * 10, confidence="unconfirmed")
        store.append([detection_event(det)])
        assert dispatcher.cycle().ok
    (first,) = [m for m in server.messages if m.get("thread_ts") in (None, m["ts"])]
    return first, server.thread(first["ts"])


def test_escalations_to_high_and_critical_are_broadcast(slack_server: FakeSlack) -> None:
    _, replies = thread_of_an_escalation(slack_server, SlackChannel(name="ops", channel="#ops"))
    assert [r.get("subtype") for r in replies] == [None, "thread_broadcast", "thread_broadcast"]


def test_broadcast_can_be_turned_off_per_channel(slack_server: FakeSlack) -> None:
    channel = SlackChannel(name="ops", channel="#ops", broadcast_escalations=False)
    _, replies = thread_of_an_escalation(slack_server, channel)
    assert len(replies) == 3 and all(r.get("subtype") is None for r in replies)
    posts = slack_server.requests_for("chat.postMessage")
    assert len(posts) == 4 and not any(str(p.body.get("reply_broadcast", "")).lower() == "true" for p in posts)
