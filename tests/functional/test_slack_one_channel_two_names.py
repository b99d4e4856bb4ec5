"""One Slack channel reached under two routing names (outside trial 9, F1): `#desk` in the config and `slack:C…`
(the CLI, or the Slack app for a private channel) post each alert once, under the configured name.
Real slack-sdk against the local Slack server, SQLite
on disk, `run --once`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock
from tests.functional.test_threads import CATALOG, troops
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notifiers.slack import SlackNotifier
from watchfloor.cli import app
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import detection_event
from watchfloor.stream_processors import stores

pytestmark = pytest.mark.functional

SAMPLES = Path(__file__).resolve().parents[2] / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"
runner = CliRunner()


def desk_config(tmp_path: Path, server: FakeSlack, extra: str = "", subscriptions: str = "[{channel: desk}]") -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources: [{{kind: jsonl, path: {SAMPLES}}}]
slack: {{token_env: SLACK_BOT_TOKEN, base_url: "{server.base_url}"}}
channels: [{{type: slack, name: desk, channel: "#desk"}}{extra}]
subscriptions: {subscriptions}
""",
        encoding="utf-8",
    )
    return cfg


def wf(server: FakeSlack, *args: str, code: int = 0) -> str:
    env = {"WATCHFLOOR_STORE": "", "SLACK_BOT_TOKEN": server.token}
    res = runner.invoke(app, list(args), env=env)
    assert res.exit_code == code, res.output
    return res.output


def posts(server: FakeSlack) -> list[str]:
    """The delivery keys of the messages posted, one per message."""
    return [str(m["metadata"]["event_payload"]["alert_id"]) for m in server.messages if m.get("metadata")]


def test_a_channel_named_and_given_by_id_gets_each_alert_once(tmp_path: Path, slack_server: FakeSlack) -> None:
    """Two routing names for one Slack channel (here both in the config; `slack:C…` from the Slack app is the
    same): each alert is posted once, under the configured name, the other recorded suppressed."""
    slack_server.channels = {"#desk"}
    desk_id = slack_server.channel_id("#desk")
    extra = f", {{type: slack, name: desk-id, channel: {desk_id}}}"
    cfg = desk_config(tmp_path, slack_server, extra, "[{channel: desk}, {channel: desk-id}]")
    wf(slack_server, "run", "--once", "--config", str(cfg))
    keys = posts(slack_server)
    assert keys and len(keys) == len(set(keys)), keys  # one message per alert in the one real channel
    assert {slack_server.channel_id(m["channel"]) for m in slack_server.messages} == {desk_id}
    store = stores.open_store(f"sqlite:///{tmp_path / 'wf.db'}", create=False)
    try:
        rows = store.deliveries()
        by_id = [r for r in rows if r.channel == "desk-id"]
        assert by_id and all(r.status == "suppressed" and "the same channel as desk" in r.detail for r in by_id)
        assert {r.status for r in rows if r.channel == "desk"} == {"sent"}
    finally:
        store.close()


def test_subscriptions_add_by_id_of_a_configured_channel_subscribes_its_name(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    slack_server.channels = {"#desk"}
    cfg = desk_config(tmp_path, slack_server, subscriptions="[]")
    said = wf(slack_server, "subscriptions", "add", f"slack:{slack_server.channel_id('#desk')}", "--config", str(cfg))
    assert "is the config's channel 'desk' (#desk): subscribed as 'desk'" in said
    listed = wf(slack_server, "subscriptions", "list", "--config", str(cfg))
    assert "desk" in listed and "slack:" not in listed


def test_a_story_goes_on_in_the_thread_it_has_under_the_other_name(tmp_path: Path, slack_server: FakeSlack) -> None:
    """The story's first alert went out under `slack:C…` (subscribed from Slack); then the config names the channel
    too: the follow-up replies in that thread, under the name that has it, not as a new thread under `desk`."""
    slack_server.channels = {"#desk"}
    desk_id = slack_server.channel_id("#desk")
    store = stores.open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    clock = Clock()
    by_id = SlackNotifier(f"slack:{desk_id}", desk_id, slack_server.token, base_url=slack_server.base_url)
    named = SlackNotifier("desk", "#desk", slack_server.token, base_url=slack_server.base_url)
    before = AlertDispatcher(store, {f"slack:{desk_id}": by_id}, [Subscription(channel=f"slack:{desk_id}")], now=clock)
    store.append([detection_event(troops(1))])
    assert before.cycle().ok
    subs = [Subscription(channel="desk"), Subscription(channel=f"slack:{desk_id}")]
    after = AlertDispatcher(store, {"desk": named, f"slack:{desk_id}": by_id}, subs, now=clock, catalog=CATALOG)
    store.append([detection_event(troops(2, severity="high", hours=1, sources=("Daily A", "Wire B")))])
    assert after.cycle().ok
    [first] = [m for m in slack_server.messages if "thread_ts" not in m or m["thread_ts"] == m["ts"]]
    assert [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.thread(first["ts"])] == ["det0002"]
    rows = {(r.alert_id, r.channel): r for r in store.deliveries()}
    assert rows[("det0002", f"slack:{desk_id}")].status == "sent"
    assert "the same channel as slack:" in rows[("det0002", "desk")].detail
    store.close()
