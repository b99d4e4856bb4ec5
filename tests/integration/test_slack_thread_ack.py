"""The thread's first message acts on what it shows (outside trial 29, F1), end to end: `watchfloor run --once`
posting the sample news to the local Slack-compatible server through the real slack-sdk, the Slack app as `serve`
builds it (served from this process), Slack's signed clicks, and `watchfloor alerts ack` on the command line.

The troops-in-combat story: a MEDIUM unconfirmed alert, then a second source's HIGH follow-up, a reply in its
thread, after which the first message reads HIGH. Its Acknowledge button acknowledged the MEDIUM alert, and an
acknowledgement of the HIGH alert never showed on it: the channel and the record disagreed about whether the HIGH
alert was taken. Now its button acknowledges the HIGH alert it shows, and the thread's earlier MEDIUM one with it
(docs/slack.md, "The thread's first message"), and a HIGH alert acknowledged elsewhere shows there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from tests.fixtures.slack_server import FakeSlack, SlackRequests
from tests.integration import test_slack_app as base
from tests.integration.test_slack_app import DESK, SECRET, Env
from watchfloor.alerts.slackapp.app import build_app
from watchfloor.alerts.slackapp.buttons import ACK_ACTION, ButtonValue, parse_button_value
from watchfloor.config import load_config
from watchfloor.schemas.events import EventType
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.stores import open_store
from watchfloor.web.build import build_services
from watchfloor.web.server import WebServer, create_app
from watchfloor.wiring import open_control
from watchfloor.wiring import open_store as open_config_store

pytestmark = pytest.mark.integration

RULE = "troop-engagement"
SAMPLES = base.SAMPLES


@pytest.fixture
def env(tmp_path: Path, slack_server: FakeSlack) -> Env:
    """test_slack_app's environment, its config given the wire feed too (the second source that confirms the
    troops-in-combat alert) and every alert routed to #desk."""
    store_url = f"sqlite:///{tmp_path / 'var' / 'watchfloor.db'}"
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("", encoding="utf-8")
    cfg = base.write_config(tmp_path, slack_server, store_url, inbox, subs="[{channel: desk}]")
    wire = base.REPO / "watchfloor" / "samples" / "wire_feed.xml"
    line = f"  - {{kind: jsonl, path: {inbox}}}\n"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(line, line + f"  - {{kind: rss, url: {wire}}}\n"))
    slack_server.channels = {"#desk"}
    run_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WATCHFLOOR_STORE"))},
        "WF_TEST_BOT": slack_server.token,
        "WF_TEST_SECRET": SECRET,
        "COLUMNS": "200",
        "PYTHONPATH": str(base.REPO),
    }
    return Env(tmp_path, cfg, store_url, inbox, slack_server, run_env)


@pytest.fixture
def app(env: Env) -> Iterator[SlackRequests]:
    """The Slack app of `watchfloor serve --config` (its services as serve builds them), served from this process."""
    cfg = load_config(env.config)
    _, rules = load_rules(cfg.rules)
    store = open_config_store(cfg.store)
    services = build_services(cfg, store, open_control(store, cfg), rules, env=env.env)
    slack_app = build_app(services.context, token=env.slack.token, signing_secret=SECRET, base_url=env.slack.base_url)
    server = WebServer(create_app(replace(services, slack_app=slack_app)), "127.0.0.1", 0).start()
    try:
        yield SlackRequests(f"{server.url}/slack/events", SECRET, env.slack)
    finally:
        server.stop()
        store.close()


def run_once(env: Env) -> None:
    ran = env.cli("run", "--once", "--config", str(env.config))
    assert ran.returncode == 0, ran.stderr


def story(env: Env) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """(MEDIUM alert id, HIGH alert id, the thread's first message, the HIGH reply) as Slack has them now."""
    st = open_store(env.store_url)
    try:
        alerts = [se.event.payload for se in st.read(0, types={EventType.ALERT.value})]
    finally:
        st.close()
    mine = [a for a in alerts if a["detection"]["rule"] == RULE]
    [medium] = [a["id"] for a in mine if a["detection"]["severity"] == "medium"]
    [high] = [a["id"] for a in mine if a["detection"]["severity"] == "high"]
    [first] = env.slack.messages_for(medium)
    [reply] = env.slack.messages_for(high)
    assert reply["thread_ts"] == first["ts"]
    return medium, high, first, reply


def ack_values(message: dict[str, Any]) -> list[ButtonValue]:
    return [
        parse_button_value(e["value"])
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ACK_ACTION
    ]


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def acked(env: Env, alert_id: str) -> list[str]:
    """Who acknowledged `alert_id`, and where (the record)."""
    return [f"{a.by.name} via {a.by.via} in {a.channel}" for a in env.control().acknowledgements(alert_id)]


def fresh(env: Env, message: dict[str, Any]) -> dict[str, Any]:
    return env.slack.message(DESK, message["ts"])


def test_the_first_message_reading_high_acknowledges_the_high_alert_and_the_thread_with_it(
    env: Env, app: SlackRequests
) -> None:
    env.inbox.write_text(SAMPLES.read_text(encoding="utf-8"), encoding="utf-8")
    run_once(env)
    medium, high, first, reply = story(env)
    assert '"*Severity*\\n:large_orange_circle: HIGH"' in text_of(first) and "*Updated*" in text_of(first)
    # What it shows is what its button names: the HIGH alert, the thread's earlier MEDIUM one with it.
    [value] = ack_values(first)
    assert value.alert_id == high  # (it named the MEDIUM alert)
    assert getattr(value, "standing", None) == (medium,)
    [own] = ack_values(reply)
    assert (own.alert_id, getattr(own, "standing", None)) == (high, ())

    # The analyst presses Acknowledge on the message that reads HIGH.
    button = next(e["value"] for b in first["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert app.block_action(ACK_ACTION, button, message=first, channel_id=DESK).status == 200
    assert acked(env, high) == ["alice via slack in desk"]
    assert acked(env, medium) == ["alice via slack in desk"]  # the thread's standing alerts are taken together
    top = fresh(env, first)
    assert "Acknowledged by <@U0ALICE001>" in text_of(top) and ack_values(top) == []
    said = env.slack.responses[-1]
    assert said["response_type"] == "ephemeral"
    assert said["text"] == (
        f":white_check_mark: Acknowledged: alert `{high}` (HIGH), which this message shows, and the thread's earlier "
        f"alert `{medium}` (MEDIUM unconfirmed) with it."
    )

    # The dispatcher's next cycle shows the HIGH acknowledgement on the reply too; the first message is not
    # rewritten again (it offers no button), and a second click says who was first.
    updates = len(env.slack.requests_for("chat.update"))
    run_once(env)
    assert "Acknowledged by <@U0ALICE001>" in text_of(fresh(env, reply)) and ack_values(fresh(env, reply)) == []
    assert [u.body["ts"] for u in env.slack.requests_for("chat.update")[updates:]] == [reply["ts"]]
    app.block_action(ACK_ACTION, button, message=first, channel_id=DESK, user_id="U0BOB0001", user_name="bob")
    assert "Already acknowledged by <@U0ALICE001>" in env.slack.responses[-1]["text"]
    assert acked(env, high) == acked(env, medium) == ["alice via slack in desk"]


def test_the_high_alert_acknowledged_on_the_command_line_shows_on_the_first_message(env: Env) -> None:
    env.inbox.write_text(SAMPLES.read_text(encoding="utf-8"), encoding="utf-8")
    run_once(env)
    medium, high, first, reply = story(env)
    said = env.cli("alerts", "ack", high, "--by", "kim", "--config", str(env.config))
    assert said.returncode == 0, said.stderr
    run_once(env)
    for message in (first, reply):
        now = fresh(env, message)
        assert "Acknowledged by kim" in text_of(now) and ack_values(now) == [], message["ts"]
    assert acked(env, high) == ["kim via cli in None"] and acked(env, medium) == []


def old_value(alert_id: str) -> str:
    """A button's value as drawn before buttons said what the message stands for (no `s`)."""
    return json.dumps({"a": alert_id, "r": RULE, "c": "desk", "g": {}}, separators=(",", ":"))


def legacy(env: Env, message: dict[str, Any], value: str) -> dict[str, Any]:
    """The message as it was written before its buttons named what it shows: every button carrying `value`."""
    blocks = [
        {**b, "elements": [{**e, "value": value} for e in b["elements"]]} if b["type"] == "actions" else b
        for b in message["blocks"]
    ]
    client = WebClient(token=env.slack.token, base_url=env.slack.base_url)
    client.chat_update(channel=DESK, ts=message["ts"], text=message["text"], blocks=blocks)
    return fresh(env, message)


def test_an_old_first_message_acts_on_what_it_shows(env: Env, app: SlackRequests) -> None:
    """A first message written before the fix carries the first (MEDIUM) alert's button under a HIGH state. An
    acknowledgement of that MEDIUM alert elsewhere leaves it as it is (it shows HIGH); one of the HIGH alert shows on
    it; and a click on it acknowledges what it shows, and says the button was drawn for the first alert."""
    env.inbox.write_text(SAMPLES.read_text(encoding="utf-8"), encoding="utf-8")
    run_once(env)
    medium, high, first, _ = story(env)
    old = old_value(medium)
    first = legacy(env, first, old)
    assert [(v.alert_id, getattr(v, "standing", None)) for v in ack_values(first)] == [(medium, None)]

    assert app.block_action(ACK_ACTION, old, message=first, channel_id=DESK).status == 200
    assert acked(env, high) == acked(env, medium) == ["alice via slack in desk"]
    said = env.slack.responses[-1]["text"]
    assert said.startswith(f":white_check_mark: Acknowledged: alert `{high}` (HIGH), which this message shows, and")
    assert f"This message's button was drawn for alert `{medium}` (MEDIUM unconfirmed), the thread's first" in said
    assert "Acknowledged by <@U0ALICE001>" in text_of(fresh(env, first))


def test_an_old_first_message_shows_the_high_acknowledgement_not_the_medium_one(env: Env) -> None:
    env.inbox.write_text(SAMPLES.read_text(encoding="utf-8"), encoding="utf-8")
    run_once(env)
    medium, high, first, _ = story(env)
    first = legacy(env, first, old_value(medium))
    cfg = ("--config", str(env.config))
    assert env.cli("alerts", "ack", medium, "--by", "kim", *cfg).returncode == 0
    run_once(env)
    assert fresh(env, first)["blocks"] == first["blocks"]  # it reads HIGH: the MEDIUM acknowledgement is not its
    assert env.cli("alerts", "ack", high, "--by", "lee", *cfg).returncode == 0
    run_once(env)
    now = fresh(env, first)
    assert "Acknowledged by lee" in text_of(now) and ack_values(now) == []


def test_a_click_on_a_message_drawn_before_the_high_alert_leaves_the_high_alert_to_its_button(
    env: Env, app: SlackRequests
) -> None:
    """A click racing the update: the first message as the analyst's client had it before the HIGH follow-up (its
    button: the MEDIUM alert alone). The click acknowledges that, says the HIGH alert came since and is not
    acknowledged, and does not write the old message back over the one that shows HIGH."""
    env.inbox.write_text(SAMPLES.read_text(encoding="utf-8"), encoding="utf-8")
    run_once(env)
    medium, high, first, _ = story(env)
    [posted] = [r.body for r in env.slack.requests_for("chat.postMessage") if r.response.get("ts") == first["ts"]]
    seen = {**first, "blocks": posted["blocks"], "text": posted["text"]}  # the message as first posted
    [value] = ack_values(seen)
    assert (value.alert_id, getattr(value, "standing", ())) == (medium, ())
    button = next(e["value"] for b in seen["blocks"] if b["type"] == "actions" for e in b["elements"])
    shown = fresh(env, first)

    assert app.block_action(ACK_ACTION, button, message=seen, channel_id=DESK).status == 200
    assert acked(env, medium) == ["alice via slack in desk"] and acked(env, high) == []
    said = env.slack.responses[-1]["text"]
    assert f"Alert `{high}` (HIGH) came in this thread after this message was drawn and is *not* acknowledged" in said
    assert fresh(env, first)["blocks"] == shown["blocks"]  # still HIGH, with the HIGH alert's button
    assert [v.alert_id for v in ack_values(fresh(env, first))] == [high]
