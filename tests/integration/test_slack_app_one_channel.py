"""The Slack app and a channel the config names (`#desk`), subscribed from Slack under a name the config cannot
match (outside trial 9, F1): Slack sends `channel_name=privategroup` for a private channel, and a renamed channel
keeps its ID only. `watchfloor serve` (slack-bolt) finds the configured channel by its ID (conversations.list
through the local Slack server) and says the channel already gets those alerts; then `run --once` posts each alert
once. SQLite on disk, the real slack-sdk."""

from __future__ import annotations

import pytest

from tests.integration import test_slack_app as base
from tests.integration.test_slack_app import DESK, Env, Served, control_types, ephemeral, posted_alerts, slack

pytestmark = pytest.mark.integration

served = base.served


@pytest.fixture
def env(tmp_path: object, slack_server: object) -> Env:
    made: Env = base.env.__wrapped__(tmp_path, slack_server)  # type: ignore[attr-defined]
    base.write_config(made.tmp, made.slack, made.store_url, made.inbox, subs="[{channel: desk}]")
    return made


def test_subscribing_a_configured_channel_by_its_id_says_it_already_gets_them(env: Env, served: Served) -> None:
    app = slack(env, served)
    for name in ("privategroup", "desk-renamed"):
        got = ephemeral(app.slash_command("subscribe troops-deployed", channel_id=DESK, channel_name=name))
        # (outside trial 69, L3: it said "through <#C…>", naming the channel itself as if another)
        assert got.startswith("This channel already gets all alerts through its subscription `sub-"), got
        assert "under the config's channel `desk`" in got, got
        assert "nothing was added" in got
    assert control_types(env) == ["subscription.created"]  # the config's, reconciled: nothing from Slack
    listed = ephemeral(app.slash_command("list", channel_id=DESK, channel_name="privategroup"))
    assert "all alerts" in listed

    base.run_pipeline(env)
    keys = [m["metadata"]["event_payload"]["alert_id"] for m, _ in posted_alerts(env)]
    assert keys and len(keys) == len(set(keys))
