"""`/watchfloor` commands as an outside trial's Slack operator found them (trial MED-2 and the LOWs): what the
reply says, and what is recorded, without Slack."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watchfloor.alerts.control import ControlLog, uncarried_tags
from watchfloor.alerts.slackapp.commands import AppContext, ChannelMap, RuleInfo, SlackChannelRef, run_command
from watchfloor.schemas.control import Actor
from watchfloor.stream_processors.stores.memory import MemoryStore

T0 = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)
ALICE = Actor(via="slack", user="U0ALICE", name="alice")
DESK = SlackChannelRef("C0DESK", "desk")


@pytest.fixture
def ctx() -> AppContext:
    rules = {
        "treaty-ratified": RuleInfo("treaty-ratified", "A party ratified the treaty", "Per party.", "high"),
        "troop-engagement": RuleInfo("troop-engagement", "Troops engaged", "", "medium", ("troops",)),
    }
    return AppContext(
        control=ControlLog(MemoryStore(), now=lambda: T0), rules=rules, channels=ChannelMap({"desk": "#desk"})
    )


def cmd(ctx: AppContext, text: str) -> str:
    return run_command(ctx, text, DESK, ALICE)


def test_a_tag_no_rule_carries_is_subscribed_with_the_clis_warning_and_a_did_you_mean(ctx: AppContext) -> None:
    got = cmd(ctx, "subscribe tag:trops")
    assert "now gets alerts tagged `trops`" in got, got
    assert ":warning: No rule carries the tag 'trops' (did you mean troops?; tags: troops)" in got, got
    # the CLI's words come from the same function
    assert uncarried_tags(["trops", "troops"], {"troops"}) == [
        "no rule carries the tag 'trops' (did you mean troops?; tags: troops)"
    ]
    assert "No rule carries" not in cmd(ctx, "subscribe tag:troops")
