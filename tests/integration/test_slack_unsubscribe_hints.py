"""`/watchfloor unsubscribe` and `silence` of what the channel does not get, end to end as
tests/integration/test_slack_app.py runs them (`watchfloor serve` in a subprocess, Slack's signed requests, the
local Slack-compatible server; outside trial 54, LOW-4): an unsubscribe naming no rule of the loaded packs says so with
the closest rule ids, nothing unsubscribed; one of a real rule the channel has no subscription to lists what it has;
a silence of a rule the channel gets nothing of is kept (it may be set ahead) and the answer says so."""

from __future__ import annotations

import pytest

from tests.integration import test_slack_app as base
from tests.integration.test_slack_app import DESK, Env, Served, ephemeral, slack

pytestmark = pytest.mark.integration

env = base.env  # the fixtures of test_slack_app: a config, a store, the local Slack, `watchfloor serve`
served = base.served


def test_unsubscribe_of_an_unknown_rule_or_one_not_subscribed_says_what_there_is(env: Env, served: Served) -> None:
    app = slack(env, served)
    got = ephemeral(app.slash_command("unsubscribe treaty-ratifed", channel_id=DESK))
    hint = "(did you mean treaty-ratified, treaty-ratified-by-both, treaty-signed?)"
    assert (
        got
        == f":warning: Nothing was unsubscribed: unknown rule 'treaty-ratifed' {hint}: `/watchfloor rules` lists them."
    ), got
    got = ephemeral(app.slash_command("unsubscribe nonsense-rule", channel_id=DESK))
    assert "unknown rule 'nonsense-rule'" in got and "Nothing was unsubscribed" in got, got

    # a real rule, no subscription to it here: the answer lists the channel's subscriptions
    got = ephemeral(app.slash_command("unsubscribe treaty-signed", channel_id=DESK))
    assert got == (
        "This channel has no subscription to `treaty-signed`. It has no subscriptions: "
        "`/watchfloor subscribe RULE` adds one."
    ), got
    sub = ephemeral(app.slash_command("subscribe troop-engagement min=high", channel_id=DESK, channel_name="desk"))
    assert "This channel now gets" in sub, sub
    (created,) = env.control().subscriptions()
    got = ephemeral(app.slash_command("unsubscribe treaty-signed", channel_id=DESK))
    assert got.startswith("This channel has no subscription to `treaty-signed`. Its subscriptions: "), got
    assert f"`{created.id}` (`troop-engagement` alerts of severity high and above)" in got, got
    assert [s.id for s in env.control().subscriptions()] == [created.id]  # nothing unsubscribed


def test_a_silence_of_a_rule_the_channel_gets_nothing_of_is_kept_with_a_note(env: Env, served: Served) -> None:
    app = slack(env, served)
    sub = ephemeral(app.slash_command("subscribe troop-engagement", channel_id=DESK, channel_name="desk"))
    assert "This channel now gets" in sub, sub
    (created,) = env.control().subscriptions()
    got = ephemeral(app.slash_command("silence treaty-signed for 2h test mute", channel_id=DESK))
    assert got.startswith(":mute: Silenced `treaty-signed` in this channel for 2h"), got
    assert (
        "\n:information_source: This channel gets no alerts of `treaty-signed` now. Its subscriptions: "
        f"`{created.id}` (`troop-engagement` alerts)." in got
    ), got
    assert [s.rule for s in env.control().silences()] == ["treaty-signed"]  # kept: a silence may be set ahead

    # a rule the channel gets (its own subscription, whatever its min=): no note
    got = ephemeral(app.slash_command("silence troop-engagement for 1h", channel_id=DESK))
    assert got.startswith(":mute: Silenced `troop-engagement`") and "gets no" not in got, got
    ephemeral(app.slash_command("subscribe * min=critical", channel_id=DESK, channel_name="desk"))
    got = ephemeral(app.slash_command("silence treaty-ratified for 1h", channel_id=DESK))
    assert "gets no" not in got, got  # `*` delivers it (an alert's severity can rise above its rule's)
