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


def subscribe_from_slack(config_path: Path, *channels: tuple[str, str]) -> None:
    """`/watchfloor subscribe *` typed in each (channel id, name Slack gives it), as the app runs it."""
    config = load_config(config_path)
    st = open_store(config.store)
    try:
        ctx = app_context(config, ControlLog(st), load_rules(config.rules)[1])
        for cid, name in channels:
            run_command(ctx, "subscribe *", SlackChannelRef(cid, name), Actor(via="slack", name="kim"))
    finally:
        st.close()


def test_the_start_checks_the_channels_subscribed_from_slack(tmp_path: Path, slack_server: FakeSlack) -> None:
    """`run` checked only the config's channels (`channel desk: bot … can post`): a channel subscribed from Slack
    that the bot was removed from since was said nowhere until its deliveries failed (trial 29, F6)."""
    slack_server.channels = {"#kursk-desk", "#left-desk"}
    desk, left = slack_server.channel_id("#kursk-desk"), slack_server.channel_id("#left-desk")
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
    subscribe_from_slack(cfg, (desk, "kursk-desk"), (left, "left-desk"), ("D0KIM", "directmessage"))
    slack_server.not_member = {"#left-desk"}  # removed from it after the subscription was made
    c = ["--config", str(cfg)]

    ran = runner.invoke(app, ["run", "--once", *c], env={"WATCHFLOOR_STORE": "", "SLACK_BOT_TOKEN": slack_server.token})
    said = " ".join(ran.output.split())
    assert f"channel slack:{desk} (#kursk-desk): bot " in said and f"can post to #kursk-desk ({desk})" in said, said
    assert f"channel slack:{left} (#left-desk): check failed (its alerts are tried anyway)" in said, said
    assert f"is not in #left-desk ({left}): /invite it there" in said, said
    assert "channel slack:D0KIM: bot " in said and "can post to a direct message (D0KIM)" in said, said

    # Without the token to post with, each says so at start (its deliveries fail the same way, and are retried).
    ran = runner.invoke(app, ["run", "--once", *c], env={"WATCHFLOOR_STORE": "", "SLACK_BOT_TOKEN": ""})
    said = " ".join(ran.output.split())
    unset = "cannot post there: the Slack token is read from the environment variable SLACK_BOT_TOKEN, which"
    assert f"channel slack:{desk} (#kursk-desk): check failed (its alerts are tried anyway): {unset}" in said, said


def test_past_a_few_channels_subscribed_from_slack_the_rest_are_counted_not_checked(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """Each check costs two Slack calls before the first cycle: the first SUBSCRIBED_CHECKED, then one line."""
    from watchfloor.alerts.dispatcher import SUBSCRIBED_CHECKED, check_channels
    from watchfloor.wiring import build_channel_notifiers

    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f'store: sqlite:///{tmp_path / "wf.db"}\nslack: {{token_env: T, base_url: "{slack_server.base_url}"}}\n',
        encoding="utf-8",
    )
    subscribed = [f"slack:{slack_server.channel_id(f'#desk-{i}')}" for i in range(SUBSCRIBED_CHECKED + 2)]
    checks = check_channels(build_channel_notifiers(load_config(cfg), {"T": slack_server.token}), subscribed)
    assert [c.channel for c in checks] == [*sorted(subscribed)[:SUBSCRIBED_CHECKED], ""]
    assert all(c.ok for c in checks), checks
    assert checks[-1].message.startswith("2 more Slack channels subscribed from Slack not checked at start")
