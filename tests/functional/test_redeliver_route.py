"""Alerts raised while no subscription routed them (outside trial 10, F6): `alerts redeliver` says why they have
no delivery, and `--route` sends them through today's subscriptions, once (SQLite on disk, the local Slack server)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.cli import app

pytestmark = pytest.mark.functional

EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"
runner = CliRunner()


def config(tmp_path: Path, server: FakeSlack) -> Path:
    path = tmp_path / "watchfloor.yaml"
    path.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {EVENTS / "treaty_story.jsonl"}}}
channels:
  - {{type: slack, name: desk, channel: "#desk", token_env: WF_TEST_SLACK, base_url: "{server.base_url}"}}
""",
        encoding="utf-8",
    )
    return path


def wf(server: FakeSlack, *args: str) -> str:
    res = runner.invoke(app, list(args), env={"WF_TEST_SLACK": server.token, "WATCHFLOOR_STORE": ""})
    assert res.exit_code == 0, res.output
    return str(res.output)


def test_an_alert_raised_before_any_subscription_is_explained_and_routed_on_purpose_once(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    slack_server.channels = {"#desk"}
    c = ("--config", str(config(tmp_path, slack_server)))
    assert "no subscriptions" in wf(slack_server, "run", "--once", *c)
    alerts = [json.loads(x) for x in wf(slack_server, "alerts", "list", "--json", *c).splitlines() if x[:1] == "{"]
    assert alerts and all(a["deliveries"] == {} for a in alerts)
    first = str(alerts[0]["id"])

    wf(slack_server, "subscriptions", "add", "desk", *c)
    wf(slack_server, "notify", "--once", *c)
    assert slack_server.messages == []  # a subscription routes the alerts raised from then on

    said = wf(slack_server, "alerts", "redeliver", first, *c)
    assert "0 deliveries will be sent again" in said
    assert f"alert {first} (" in said and "raised when no subscription routed it (no delivery recorded)" in said
    assert "subscriptions route alerts raised after they are added" in said
    assert f"alerts redeliver {first} --route" in said

    said = wf(slack_server, "alerts", "redeliver", first, "--route", "--send", *c)
    assert f"alert {first} routed through today's subscriptions: desk (alert)" in said, said
    [sent] = slack_server.messages
    assert first in json.dumps(sent)
    [row] = [
        a
        for a in (json.loads(x) for x in wf(slack_server, "alerts", "list", "--json", *c).splitlines() if x[:1] == "{")
        if a["id"] == first
    ]
    assert list(row["deliveries"]) == ["desk"], row

    # Again: its delivery is under the alert's own key, so nothing is routed or sent a second time.
    said = wf(slack_server, "alerts", "redeliver", first, "--route", "--send", *c)
    assert "no named alert is waiting for a route" in said and "already sent" in said, said
    wf(slack_server, "notify", "--once", *c)
    assert len(slack_server.messages) == 1
    now = [json.loads(x) for x in wf(slack_server, "alerts", "list", "--json", *c).splitlines() if x[:1] == "{"]
    assert [a["id"] for a in now if a["deliveries"]] == [first]  # only the one named was sent


def two_channels(tmp_path: Path, server: FakeSlack) -> tuple[str, ...]:
    path = config(tmp_path, server)
    text = path.read_text(encoding="utf-8")
    wire = (
        f'  - {{type: slack, name: wire, channel: "#wire", token_env: WF_TEST_SLACK, base_url: "{server.base_url}"}}\n'
    )
    path.write_text(text + wire, encoding="utf-8")
    server.channels = {"#desk", "#wire"}
    return ("--config", str(path))


def raised_unrouted(server: FakeSlack, c: tuple[str, ...]) -> str:
    """Alerts raised with no subscription, then subscriptions of both channels added: the first alert's id."""
    wf(server, "run", "--once", *c)
    alerts = [json.loads(x) for x in wf(server, "alerts", "list", "--json", *c).splitlines() if x[:1] == "{"]
    wf(server, "subscriptions", "add", "desk", *c)
    wf(server, "subscriptions", "add", "wire", *c)
    return str(alerts[0]["id"])


def deliveries(server: FakeSlack, c: tuple[str, ...], alert: str) -> list[str]:
    listed = (json.loads(x) for x in wf(server, "alerts", "list", "--json", *c).splitlines() if x[:1] == "{")
    [row] = [a for a in listed if a["id"] == alert]
    return sorted(row["deliveries"])


def test_route_with_a_channel_sends_to_that_channel_only_and_says_it_is_a_first_time(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    c = two_channels(tmp_path, slack_server)
    first = raised_unrouted(slack_server, c)

    said = wf(slack_server, "alerts", "redeliver", first, "--route", "--channel", "wire", "--send", *c)
    assert f"alert {first} routed through today's subscriptions of wire: wire (alert)" in said, said
    assert "1 delivery queued for the first time, 0 deliveries will be sent again" in said, said
    assert "will be sent again" not in said.replace("0 deliveries will be sent again", ""), said
    assert [m["channel"] for m in slack_server.messages] == ["#wire"]
    assert deliveries(slack_server, c, first) == ["wire"]

    # The other channel is still waiting for its route: routed on its own, once.
    said = wf(slack_server, "alerts", "redeliver", first, "--route", "--channel", "desk", "--send", *c)
    assert "1 delivery queued for the first time" in said, said
    assert sorted(m["channel"] for m in slack_server.messages) == ["#desk", "#wire"]
    said = wf(slack_server, "alerts", "redeliver", first, "--route", "--channel", "desk", *c)
    assert "no named alert is waiting for a route to desk" in said, said
    assert "0 deliveries queued for the first time, 0 deliveries will be sent again" in said, said
    assert len(slack_server.messages) == 2


def test_an_interrupted_route_leaves_nothing_and_running_it_again_routes_the_alert(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """The alert event and the rows of one alert are one transaction: the rows' insert failing (a trigger of the
    SQLite file refuses it) leaves no `alert` event either."""
    c = two_channels(tmp_path, slack_server)
    first = raised_unrouted(slack_server, c)
    db = sqlite3.connect(tmp_path / "wf.db")
    try:
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON deliveries BEGIN SELECT RAISE(ABORT, 'disk gone'); END")
        db.commit()
        res = runner.invoke(
            app,
            ["alerts", "redeliver", first, "--route", *c],
            env={"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": ""},
        )
        assert res.exit_code != 0
        assert db.execute("SELECT count(*) FROM events WHERE id = ?", (f"alert-{first}",)).fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM deliveries").fetchone() == (0,)
        db.execute("DROP TRIGGER refuse")
        db.commit()
    finally:
        db.close()
    said = wf(slack_server, "alerts", "redeliver", first, "--route", "--send", *c)
    assert "2 deliveries queued for the first time" in said, said
    assert sorted(m["channel"] for m in slack_server.messages) == ["#desk", "#wire"]


# A story of two reports in our own words: one outlet's report (MEDIUM, unconfirmed), then another outlet's own
# account of it (the HIGH, confirmed follow-up of the same rule and group).
STORY = [
    {
        "type": "news.article",
        "published_at": "2024-12-17T09:00:00+00:00",
        "source": "Lakeside Courier",
        "id": "lc-1",
        "url": "https://lakeside.example/lc-1",
        "title": "North Korean troops killed in Kursk clashes, Ukraine says",
        "body": "Ukraine's military intelligence said that 25 North Korean soldiers were killed in fighting in "
        "Russia's Kursk region this week.",
    },
    {
        "type": "news.article",
        "published_at": "2024-12-17T13:00:00+00:00",
        "source": "Valley Gazette",
        "id": "vg-1",
        "url": "https://valley.example/vg-1",
        "title": "Heavy losses for Pyongyang's soldiers around Kursk",
        "body": "North Korean troops deployed to aid Moscow have suffered casualties in combat with Ukrainian forces "
        "in the Kursk area, a Ukrainian intelligence agency reported.",
    },
]


def test_routing_a_follow_up_alone_routes_its_story_s_first_alert_before_it_in_one_thread(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """Outside trial 12, M2: `--route` of the HIGH follow-up alone posted it as an alert of its own, and routing its
    first alert afterwards posted that as a second top-level message: one story, two threads. The earlier alert of
    the story, unrouted too, is routed first (said so), so the follow-up is a reply in its thread."""
    slack_server.channels = {"#desk"}
    source = tmp_path / "story.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in STORY), encoding="utf-8")
    path = config(tmp_path, slack_server)
    path.write_text(path.read_text(encoding="utf-8").replace(str(EVENTS / "treaty_story.jsonl"), str(source)))
    c = ("--config", str(path))
    wf(slack_server, "run", "--once", *c)
    alerts = [json.loads(x) for x in wf(slack_server, "alerts", "list", "--json", *c).splitlines() if x[:1] == "{"]
    engagement = [a for a in alerts if a["rule"] == "troop-engagement"]
    assert [a["severity"] for a in engagement] == ["medium", "high"], alerts
    first, follow_up = (str(a["id"]) for a in engagement)
    wf(slack_server, "subscriptions", "add", "desk", *c)

    said = " ".join(wf(slack_server, "alerts", "redeliver", follow_up, "--route", "--send", *c).split())
    assert f"alert {first} (routed before {follow_up}, which continues its story) routed through" in said, said
    assert f"alert {follow_up} routed through today's subscriptions: desk (followup)" in said, said
    assert "2 deliveries queued for the first time" in said, said
    [top] = [m for m in slack_server.messages if m.get("thread_ts") in (None, m["ts"])]
    assert slack_server.messages_for(first) == [top], slack_server.messages
    [reply] = slack_server.messages_for(follow_up)
    assert slack_server.thread(top["ts"]) == [reply]

    # Routing the first alert afterwards finds it routed: nothing more is posted.
    said = " ".join(wf(slack_server, "alerts", "redeliver", first, "--route", "--send", *c).split())
    assert "no named alert is waiting for a route" in said and "will be sent again" in said, said
    assert len([m for m in slack_server.messages if m.get("thread_ts") in (None, m["ts"])]) == 1


def test_a_second_route_of_a_queued_alert_says_it_was_never_sent(tmp_path: Path, slack_server: FakeSlack) -> None:
    """Outside trial 12, L4: a second `--route` said "1 delivery will be sent again" of a row the first one queued
    and nothing ever sent."""
    slack_server.channels = {"#desk"}
    c = ("--config", str(config(tmp_path, slack_server)))
    wf(slack_server, "run", "--once", *c)
    alerts = [json.loads(x) for x in wf(slack_server, "alerts", "list", "--json", *c).splitlines() if x[:1] == "{"]
    first = str(alerts[0]["id"])
    wf(slack_server, "subscriptions", "add", "desk", *c)
    assert "1 delivery queued for the first time" in wf(slack_server, "alerts", "redeliver", first, "--route", *c)
    said = " ".join(wf(slack_server, "alerts", "redeliver", first, "--route", *c).split())
    assert "0 deliveries will be sent again, 1 delivery queued earlier and never sent: due now" in said, said
