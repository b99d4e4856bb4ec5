"""`/watchfloor subscribe … where …` end to end, as tests/integration/test_slack_app.py runs the app: `watchfloor
serve` in a subprocess, Slack's signed requests, the local Slack-compatible server; then `run --once` routes the
sample news by the filters typed in Slack."""

from __future__ import annotations

import re

import pytest

from tests.integration import test_slack_app as base
from tests.integration.test_slack_app import (
    DESK,
    OTHER,
    Env,
    Served,
    control_types,
    ephemeral,
    posted_alerts,
    run_pipeline,
    slack,
)

pytestmark = pytest.mark.integration

env = base.env  # the fixtures of test_slack_app: a config, a store, the local Slack, `watchfloor serve`
served = base.served


def test_subscribe_with_where_lists_it_and_routes_by_it(env: Env, served: Served) -> None:
    app = slack(env, served)
    # the Kursk desk by the place's id; another channel by a country's name, quoted as it has a space
    got = ephemeral(app.slash_command("subscribe troops-deployed where place=KURSK", channel_id=DESK))
    assert got.startswith(":white_check_mark: This channel now gets `troops-deployed` alerts where `place=KURSK`.")
    korea = ephemeral(
        app.slash_command('subscribe * where party="North Korea" min=high', channel_id=OTHER, channel_name="korea")
    )
    assert 'now gets all alerts of severity high and above where `party="North Korea"`' in korea
    listed = ephemeral(app.slash_command("list", channel_id=DESK, channel_name="desk"))
    assert "`troops-deployed` alerts where `place=KURSK`" in listed and "North Korea" not in listed
    # the control events carry the filter as typed
    subs = {s.channel: s for s in env.control().subscriptions()}
    assert subs["desk"].where == {"place": ("KURSK",)}
    assert (subs["slack:" + OTHER].where, subs["slack:" + OTHER].min_severity) == ({"party": ("North Korea",)}, "high")
    assert control_types(env) == ["subscription.created", "subscription.created"]

    # a filter that could never match is refused, as a silence's group is, and nothing is recorded
    typo = ephemeral(app.slash_command("subscribe troops-deployed where plce=Kursk", channel_id=DESK))
    assert "no alert of the rule carries 'plce'; it can carry" in typo and "place" in typo
    near = ephemeral(app.slash_command("subscribe troops-deployed where place=Kurks", channel_id=DESK))
    assert "'Kurks' names no entity of the rule packs (did you mean Kursk?)" in near
    assert "`where` needs KEY=VALUE" in ephemeral(app.slash_command("subscribe * where min=high", channel_id=DESK))
    assert len(control_types(env)) == 2

    run_pipeline(env)
    by_channel: dict[str, list[tuple[str, object, object]]] = {}
    for message, alert in posted_alerts(env):
        d = alert["detection"]
        by_channel.setdefault(env.slack.channel_id(message["channel"]), []).append(
            (d["rule"], d["group"], d["attributes"])
        )
    # of the samples' two troops-deployed alerts, the one naming Kursk; the unplaced one is not sent here
    assert by_channel[DESK] == [("troops-deployed", {}, {"place": ["Kursk"]})]
    # the ratification grouped by party PRK (the id the name stands for) and the one with both parties by name
    assert by_channel[OTHER] == [
        ("treaty-ratified", {"party": "PRK"}, {}),
        ("treaty-ratified-by-both", {}, {"party": ["North Korea", "Russia"]}),
    ]

    # unsubscribing the rule removes the filtered subscription too
    gone = ephemeral(app.slash_command("unsubscribe troops-deployed", channel_id=DESK, channel_name="desk"))
    assert re.search(r"Unsubscribed from `troops-deployed` \(`sub-[0-9a-f]+`\)", gone)
    assert [s.channel for s in env.control().subscriptions()] == ["slack:" + OTHER]


def test_a_where_no_alert_of_the_rules_can_carry_is_refused_and_an_alias_is_taken(env: Env, served: Served) -> None:
    """trial5 H1 through `watchfloor serve`: a closed capture's value, a key the tag's rules do not carry, a bare
    value no key of the rule holds are refused, saying what the rules carry; M1: the docs' quoted alias is taken."""
    app = slack(env, served)
    closed = ephemeral(app.slash_command("subscribe treaty-ratified where party=Kursk", channel_id=DESK))
    assert closed == (
        ":warning: where 'party=Kursk': treaty-ratified's party is one of PRK (North Korea), RUS (Russia), not 'Kursk'"
    ), closed
    tagged = ephemeral(app.slash_command("subscribe tag:troops where party=RUS", channel_id=DESK))
    assert "no alert of the rules tagged troops (troop-engagement, troops-deployed) carries" in tagged, tagged
    assert "they can carry place" in tagged
    bare = ephemeral(app.slash_command("subscribe troops-deployed where RUS", channel_id=DESK))
    assert "under any key; it carries place (one of DONBAS (Donbas), KURSK (Kursk))" in bare, bare
    assert control_types(env) == []  # nothing recorded
    alias = ephemeral(app.slash_command('subscribe troop-engagement where place="Kursk Oblast"', channel_id=DESK))
    assert alias.startswith(":white_check_mark:") and 'where `place="Kursk Oblast"`' in alias, alias
    assert control_types(env) == ["subscription.created"]
