"""A Slack channel subscribed from Slack is shown with its name beside its id (trial 29, F6: `slack:C464E8F4112` in
`subscriptions list`, `run`'s summary and `alerts list` told an operator nothing). The real slack-sdk against the
local Slack server, SQLite on disk, `run --once`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.slackapp.commands import SlackChannelRef, run_command
from watchfloor.cli import app
from watchfloor.config import load_config
from watchfloor.schemas.control import Actor
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.stores import open_store
from watchfloor.web.build import app_context

pytestmark = pytest.mark.functional

SAMPLES = Path(__file__).resolve().parents[2] / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"
runner = CliRunner()


def wf(server: FakeSlack, *args: str) -> str:
    res = runner.invoke(
        app, list(args), env={"WATCHFLOOR_STORE": "", "SLACK_BOT_TOKEN": server.token, "COLUMNS": "250"}
    )
    assert res.exit_code == 0, res.output
    return " ".join(res.output.split())


def test_a_channel_subscribed_from_slack_is_shown_with_its_name(tmp_path: Path, slack_server: FakeSlack) -> None:
    slack_server.channels = {"#kursk-desk", "#secret"}
    desk, secret = slack_server.channel_id("#kursk-desk"), slack_server.channel_id("#secret")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources: [{{kind: jsonl, path: {SAMPLES}}}]
slack: {{token_env: SLACK_BOT_TOKEN, base_url: "{slack_server.base_url}"}}
channels: [{{type: file, name: archive, path: {tmp_path / "alerts.jsonl"}}}]
subscriptions: [{{channel: archive}}]
""",
        encoding="utf-8",
    )
    c = ["--config", str(cfg)]
    config = load_config(cfg)
    st = open_store(config.store)
    try:
        ctx = app_context(config, ControlLog(st), load_rules(config.rules)[1])
        reply = run_command(ctx, "subscribe *", SlackChannelRef(desk, "kursk-desk"), Actor(via="slack", name="kim"))
        assert ":white_check_mark:" in reply, reply
        # a direct message or a private channel Slack does not name keeps no name
        run_command(ctx, "subscribe treaty-signed", SlackChannelRef(secret, "privategroup"), Actor(via="slack"))
    finally:
        st.close()
    shown = f"slack:{desk} (#kursk-desk)"
    assert shown in wf(slack_server, "subscriptions", "list", *c)
    listed_json = runner.invoke(app, ["subscriptions", "list", "--json", *c], env={"WATCHFLOOR_STORE": ""})
    names = {r["channel"]: r["channel_name"] for r in map(json.loads, listed_json.output.strip().splitlines())}
    assert names == {"archive": None, f"slack:{desk}": "kursk-desk", f"slack:{secret}": None}

    ran = wf(slack_server, "run", "--once", *c)
    assert f"{shown} " in ran and "archive " in ran, ran  # "deliveries: N sent (archive n, slack:C… (#kursk-desk) n)"
    assert [m for m in slack_server.messages if slack_server.channel_id(m["channel"]) == desk]
    listed = wf(slack_server, "alerts", "list", *c)
    assert f"{shown}: sent" in listed, listed
