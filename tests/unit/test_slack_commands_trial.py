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


def test_a_digest_under_another_name_of_its_zone_is_the_digest_the_channel_has(ctx: AppContext) -> None:
    """Trial L4: `daily 23:53 UTC` and `daily 23:53 Etc/UTC` were two digests, two identical messages a day."""
    assert "now gets" in cmd(ctx, "subscribe * digest daily 23:53 UTC")
    for same in ("daily 23:53 Etc/UTC", "daily 23:53 GMT", "daily 23:53 Zulu", "daily 23:53"):
        got = cmd(ctx, f"subscribe * digest {same}")
        assert got.startswith("This channel already gets all alerts, as a digest (daily 23:53 UTC)"), (same, got)
    assert "now gets" in cmd(ctx, "subscribe * digest daily 23:53 Europe/London")  # another zone: another digest
    cmd(ctx, "subscribe * digest daily 08:00 Asia/Kolkata")
    assert "already gets" in cmd(ctx, "subscribe * digest daily 8:00 Asia/Calcutta")  # tzdata's link to it
    assert len(ctx.control.subscriptions()) == 3


def test_a_rule_the_channels_tag_subscription_takes_is_said_to_come_through_it(ctx: AppContext) -> None:
    """Trial L5: with `tag:troops` in place, `subscribe troop-engagement` (a rule carrying the tag) added a second
    subscription, and its unsubscribe seemed to stop alerts that kept coming through the tag one."""
    cmd(ctx, "subscribe tag:troops")
    got = cmd(ctx, "subscribe troop-engagement")
    assert got.startswith("This channel already gets alerts tagged `troops`"), got
    assert "covers what you asked for; nothing was added" in got, got
    assert len(ctx.control.subscriptions()) == 1
    # one made before (or with a minimum the tag's does not have): unsubscribing it says the tag's still delivers
    cmd(ctx, "subscribe troop-engagement min=high")  # narrower: covered too
    assert len(ctx.control.subscriptions()) == 1
    ctx.control.subscribe("desk", rules=["troop-engagement"], by=ALICE)  # as an older watchfloor let it be made
    got = cmd(ctx, "unsubscribe troop-engagement")
    assert ":white_check_mark: Unsubscribed from `troop-engagement`" in got, got
    assert "This channel still gets `troop-engagement` through" in got and "alerts tagged `troops`" in got, got
    # and a rule that does not carry the tag is a subscription of its own
    assert "now gets `treaty-ratified` alerts" in cmd(ctx, "subscribe treaty-ratified")


def test_an_option_given_twice_is_refused(ctx: AppContext) -> None:
    """Trial L6: `min=high min=low` was taken (the last one won, and the reply showed no minimum)."""
    got = cmd(ctx, "subscribe treaty-ratified min=high min=low")
    assert "`min=high` and `min=low`: give `min=` once" in got, got
    got = cmd(ctx, "subscribe treaty-ratified max_age=3d max-age=1d")
    assert "`max_age=3d` and `max-age=1d`: give `max_age=` once" in got, got
    assert ctx.control.subscriptions() == []
    assert "of severity high and above" in cmd(ctx, "subscribe treaty-ratified min=high max_age=3d")


def test_the_unsubscribe_of_a_rule_a_config_subscription_delivers_says_where_to_change_it(ctx: AppContext) -> None:
    """Trial L7: the Unsubscribe button, under an alert a config-defined subscription delivers, said to unsubscribe
    `sub-…`, which Slack then refused as the config file's. (The button calls `unsubscribe` with the channel's
    routing name and the alert's rule, as the command does.)"""
    from watchfloor.alerts.slackapp.commands import unsubscribe
    from watchfloor.schemas.control import CONFIG_ACTOR

    (sub, _) = ctx.control.subscribe("desk", rules=["*"], by=CONFIG_ACTOR, managed_by="config")
    got = unsubscribe(ctx, ["desk"], "treaty-ratified", ALICE)
    assert f"through a wider subscription: `{sub.id}` (all alerts, set in the config file for channel `desk`)" in got
    assert "Change it in watchfloor's config file (its `subscriptions:`), or `/watchfloor silence" in got, got
    assert "Unsubscribe that" not in got
    # one of the channel's own, beside it: that one can be unsubscribed here
    (mine, _) = ctx.control.subscribe("desk", rules=["*"], min_severity="high", by=ALICE)
    got = unsubscribe(ctx, ["desk"], "treaty-ratified", ALICE)
    assert f"Unsubscribe `{mine.id}` (the others: in the config file), or" in got, got
    # a config subscription to the rule itself: where it is changed
    ctx.control.subscribe("desk", rules=["troop-engagement"], by=CONFIG_ACTOR, managed_by="config")
    got = cmd(ctx, "unsubscribe troop-engagement")
    assert "set in watchfloor's config file and can only be changed there (its `subscriptions:`, channel `desk`)" in got


def test_a_refusal_without_the_bots_name_says_whom_to_invite_without_a_blank(ctx: AppContext) -> None:
    """Trial L8: the reply said "`/invite @` and the app's name", the name left blank, when Slack did not say it."""
    from watchfloor.alerts.slackapp.commands import Membership

    elsewhere = SlackChannelRef("C0ELSE", "elsewhere")
    for found, invite in (
        (Membership(False, "not_in_channel", "U0BOT"), "type `/invite` followed by <@U0BOT>"),
        (Membership(False, "not_in_channel"), "type `/invite` followed by the app's name, as the sidebar's Apps"),
        (Membership(False, "not_in_channel", "U0BOT", "watchfloor"), "`/invite @watchfloor`"),
    ):
        got = run_command(ctx, "subscribe *", elsewhere, ALICE, membership=lambda _ch, f=found: f)
        assert f"to this channel first: {invite}" in got, got
        assert "`/invite @`" not in got
    unknown = Membership(None, "ratelimited", "U0BOT")
    got = run_command(ctx, "subscribe *", elsewhere, ALICE, membership=lambda _ch: unknown)
    assert "If it is not, alerts here will fail: type `/invite` followed by <@U0BOT>." in got, got


def test_a_rule_id_in_another_case_is_the_rule(ctx: AppContext) -> None:
    """Trial L9: `TROOP-ENGAGEMENT` was an unknown rule, while `min=HIGH` was taken."""
    assert "now gets `troop-engagement` alerts" in cmd(ctx, "subscribe TROOP-ENGAGEMENT min=HIGH"), cmd(ctx, "list")
    assert ctx.control.subscriptions()[0].rules == ("troop-engagement",)
    assert "already gets" in cmd(ctx, "subscribe Troop-Engagement min=high")
    got = cmd(ctx, "silence TROOP-ENGAGEMENT for 1h")
    assert got.startswith(":mute: Silenced `troop-engagement`"), got
    assert ":white_check_mark: Unsubscribed from `troop-engagement`" in cmd(ctx, "unsubscribe TROOP-ENGAGEMENT")
    assert "unknown rule 'TROOP-ENGAGEMNT' (did you mean troop-engagement?)" in cmd(ctx, "subscribe TROOP-ENGAGEMNT")


def test_a_rule_id_spelt_in_two_cases_by_two_rules_is_not_guessed(ctx: AppContext) -> None:
    from watchfloor.alerts.slackapp.commands import rule_id

    ctx.rules = {**ctx.rules, "Troop-Engagement": RuleInfo("Troop-Engagement", "Another", "", "low")}
    assert rule_id(ctx, "TROOP-ENGAGEMENT") is None
    assert rule_id(ctx, "Troop-Engagement") == "Troop-Engagement"
    assert "unknown rule 'TROOP-ENGAGEMENT'" in cmd(ctx, "subscribe TROOP-ENGAGEMENT")


def test_an_unsubscribe_by_id_says_what_the_subscription_was(ctx: AppContext) -> None:
    """Trial 46, LOW-1: `unsubscribe sub-…` answered with the id twice, and not what the subscription was."""
    cmd(ctx, "subscribe tag:troops")
    sub = ctx.control.subscriptions()[0]
    got = cmd(ctx, f"unsubscribe {sub.id}")
    assert got.startswith(f":white_check_mark: Unsubscribed from `{sub.id}` (alerts tagged `troops`"), got
    assert got.count(sub.id) == 1, got
