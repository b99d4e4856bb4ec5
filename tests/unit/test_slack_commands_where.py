"""`/watchfloor subscribe … where …` without Slack: the grammar, what is recorded, what the replies say."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.slackapp.commands import AppContext, ChannelMap, RuleInfo, SlackChannelRef, run_command
from watchfloor.schemas.control import Actor
from watchfloor.stream_processors.stores.memory import MemoryStore

T0 = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)
ALICE = Actor(via="slack", user="U0ALICE", name="alice")
DESK = SlackChannelRef("C0DESK", "desk")


@pytest.fixture
def ctx() -> AppContext:
    keys = ("place", "party")  # what the rules carry: rule_where_keys of the pack
    rules = {
        "troops-deployed": RuleInfo("troops-deployed", "Troops", "", "medium", ("troops",), (), keys),
        "treaty-ratified": RuleInfo("treaty-ratified", "Ratified", "", "high", (), ("party",), keys),
    }
    return AppContext(
        control=ControlLog(MemoryStore(), now=lambda: T0),
        rules=rules,
        channels=ChannelMap({"desk": "#desk"}),
        entity_names={"RUS": "Russia", "PRK": "North Korea", "KURSK": "Kursk Oblast", "DONBAS": "Donbas"},
    )


def cmd(ctx: AppContext, text: str) -> str:
    return run_command(ctx, text, DESK, ALICE)


def test_where_words_up_to_the_next_option(ctx: AppContext) -> None:
    got = cmd(ctx, 'subscribe troops-deployed where place="Kursk Oblast" place=Donbas min=high max_age=3d')
    assert 'alerts of severity high and above where `place="Kursk Oblast" place=Donbas`' in got, got
    (sub,) = ctx.control.subscriptions()
    assert (sub.where, sub.min_severity) == ({"place": ("Kursk Oblast", "Donbas")}, "high")


def test_a_value_of_several_words_without_quotes_is_one_value_when_only_that_reads(ctx: AppContext) -> None:
    """trial 35, L3: Slack's words split `place=Kursk Oblast` in two ('Kursk' named no entity), where a silence's
    `group=North Korea` is read whole. The words are one value when together they name an entity and apart they
    would be refused; a bare value after them stays one of its own."""
    got = cmd(ctx, "subscribe troops-deployed where place=kursk oblast party=North Korea RUS max_age=3d")
    assert 'where `place="kursk oblast" party="North Korea" RUS`' in got, got
    (sub,) = ctx.control.subscriptions()
    assert sub.where == {"place": ("kursk oblast",), "party": ("North Korea",), "*": ("RUS",)}


def test_a_bare_value_is_under_any_key_and_a_digest_may_follow(ctx: AppContext) -> None:
    got = cmd(ctx, "subscribe * where RUS digest daily 08:00 Europe/London")
    assert "all alerts where `RUS`, as a digest (daily 08:00 Europe/London)" in got, got
    (sub,) = ctx.control.subscriptions()
    assert (sub.where, sub.digest) == ({"*": ("RUS",)}, "daily 08:00 Europe/London")


def test_the_same_filter_spelt_otherwise_is_the_same_subscription(ctx: AppContext) -> None:
    cmd(ctx, "subscribe treaty-ratified where party=PRK party=RUS")
    assert "already gets" in cmd(ctx, "subscribe treaty-ratified where PARTY=rus party=prk")
    assert "now gets" in cmd(ctx, "subscribe treaty-ratified")  # without the filter: another subscription


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("subscribe * where", "`where` needs KEY=VALUE after it"),
        ("subscribe * where min=high", "`where` needs KEY=VALUE after it"),
        ("subscribe * where place=", "where 'place=': give KEY=VALUE"),
        ("subscribe treaty-ratified where country=PRK", "no alert of the rule carries 'country'"),
        ("subscribe treaty-ratified where party=Rusia", "'Rusia' names no entity of the rule packs (did you mean"),
        # words that name no entity together either (trial 35, L3): how to write one value of several words
        (
            "subscribe troops-deployed where place=Kursk Obl min=high",
            """where 'Obl': 'Obl' names no entity of the rule packs (a value of several words is quoted: where """
            """place="Kursk Obl")""",
        ),
    ],
)
def test_a_where_that_cannot_match_is_refused(ctx: AppContext, text: str, reply: str) -> None:
    assert reply in cmd(ctx, text)
    assert ctx.control.subscriptions() == []


def test_unsubscribing_one_rule_of_several_keeps_the_where(ctx: AppContext) -> None:
    ctx.control.subscribe("desk", rules=["troops-deployed", "treaty-ratified"], where={"party": ["PRK"]}, by=ALICE)
    got = cmd(ctx, "unsubscribe treaty-ratified")
    assert "Unsubscribed from `treaty-ratified`" in got
    (left,) = ctx.control.subscriptions()
    assert (left.rules, left.where) == (("troops-deployed",), {"party": ("PRK",)})


def test_unsubscribing_a_rule_names_a_filtered_subscription_that_still_delivers_some(ctx: AppContext) -> None:
    cmd(ctx, "subscribe troops-deployed")
    cmd(ctx, 'subscribe * where place="Kursk Oblast"')
    got = cmd(ctx, "unsubscribe troops-deployed")
    assert "This channel still gets `troops-deployed` through" in got and 'where `place="Kursk Oblast"`' in got, got


def test_the_docs_examples(ctx: AppContext) -> None:
    assert "where `place=Kursk`" in cmd(ctx, "subscribe troops-deployed where place=Kursk")
    got = cmd(ctx, 'subscribe tag:troops min=high where place="Kursk Oblast"')
    assert 'alerts tagged `troops` of severity high and above where `place="Kursk Oblast"`' in got, got
    got = cmd(ctx, 'subscribe tag:treaty where "North Korea"')
    assert 'alerts tagged `treaty` where `"North Korea"`' in got, got
    got = cmd(ctx, "subscribe treaty-ratified where party=PRK party=RUS digest daily 08:00 Europe/London")
    assert "where `party=PRK party=RUS`, as a digest (daily 08:00 Europe/London)" in got, got
