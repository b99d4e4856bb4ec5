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
