"""Alerts raised while no subscription routed them (outside trial 10, F6): `alerts redeliver` says why they have
no delivery, and `--route` sends them through today's subscriptions, once (SQLite on disk, the local Slack server)."""

from __future__ import annotations

import json
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
