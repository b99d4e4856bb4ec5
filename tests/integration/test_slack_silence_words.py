"""`/watchfloor silence` with a subscription's filter, end to end as tests/integration/test_slack_app.py runs it
(`watchfloor serve` in a subprocess, Slack's signed requests, the local Slack-compatible server): a silence's only
filter is its group, so `where KEY=VALUE` or a `KEY=VALUE` word is refused with the usage and nothing silenced
(it used to silence the whole rule and keep the filter as the reason: outside trial 15, M4); the reason a silence
does keep is said back to whoever set it; a misspelt rule gets the closest rule ids (L3)."""

from __future__ import annotations

import pytest

from tests.integration import test_slack_app as base
from tests.integration.test_slack_app import DESK, Env, Served, ephemeral, slack

pytestmark = pytest.mark.integration

env = base.env  # the fixtures of test_slack_app: a config, a store, the local Slack, `watchfloor serve`
served = base.served

USAGE = "Usage: `/watchfloor silence RULE [group=VALUE] for DURATION [reason…]`"


def test_a_where_or_key_value_in_a_silence_is_refused_and_a_reason_is_said_back(env: Env, served: Served) -> None:
    app = slack(env, served)
    for line in (
        "silence treaty-ratified for 2h where party=Russia",
        "silence treaty-ratified where party=Russia for 2h",
        "silence treaty-ratified for 2h party=RUS",
        "silence treaty-ratified for 2h group=RUS",
    ):
        got = ephemeral(app.slash_command(line, channel_id=DESK))
        assert got.startswith(":warning: ") and "nothing was silenced" in got and USAGE in got, (line, got)
        assert "Silenced" not in got
    assert "has no `where` filter" in ephemeral(
        app.slash_command("silence treaty-ratified for 2h where party=Russia", channel_id=DESK)
    )
    assert env.control().silences() == []
    assert env.control_events() == 0
    # an entity the rule's group never takes (outside trial 26, F6: accepted, announced, and never matched)
    got = ephemeral(app.slash_command("silence treaty-ratified group=Kursk for 1h", channel_id=DESK))
    assert "treaty-ratified's party is one of PRK (North Korea), RUS (Russia)" in got and "Silenced" not in got, got
    assert env.control().silences() == [] and env.control_events() == 0

    got = ephemeral(
        app.slash_command("silence treaty-ratified group=RUS for 2h the feed repeats itself", channel_id=DESK)
    )
    assert "Silenced `treaty-ratified` (Russia) in this channel for 2h" in got, got
    assert ": “the feed repeats itself”." in got  # the reason, said back to whoever set it
    (sil,) = env.control().silences()
    assert (sil.group, sil.reason) == ({"*": "RUS"}, "the feed repeats itself")


def test_a_misspelt_rule_gets_the_closest_rule_ids(env: Env, served: Served) -> None:
    app = slack(env, served)
    got = ephemeral(app.slash_command("subscribe troop-engagment", channel_id=DESK))
    assert "unknown rule 'troop-engagment' (did you mean troop-engagement?)" in got, got
    # up to three, in the order `where` values and entity names list theirs
    got = ephemeral(app.slash_command("silence treaty-ratifed for 2h", channel_id=DESK))
    hint = "(did you mean treaty-ratified, treaty-ratified-by-both, treaty-signed?)"
    assert f":warning: unknown rule 'treaty-ratifed' {hint}: `/watchfloor rules` lists them" in got, got
    assert env.control_events() == 0
