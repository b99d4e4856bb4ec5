"""`/watchfloor` commands without Slack: parsing, what they record, what they answer."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.slackapp.commands import (
    USAGE,
    AppContext,
    ChannelMap,
    Membership,
    RuleInfo,
    SlackChannelRef,
    help_text,
    mention_reply,
    run_command,
)
from watchfloor.schemas.control import Actor
from watchfloor.stream_processors.stores.memory import MemoryStore

T0 = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)
ALICE = Actor(via="slack", user="U0ALICE", name="alice")
DESK = SlackChannelRef("C0DESK", "desk")
ELSEWHERE = SlackChannelRef("C0ELSE", "elsewhere")


@pytest.fixture
def ctx() -> AppContext:
    rules = {
        "treaty-ratified": RuleInfo("treaty-ratified", "A party ratified the treaty", "Per party.", "high"),
        "troops-deployed": RuleInfo("troops-deployed", "Troops <b>deployed</b>", "", "medium", ("troops",)),
    }
    return AppContext(
        control=ControlLog(MemoryStore(), now=lambda: T0),
        rules=rules,
        channels=ChannelMap({"desk": "#desk", "ops": "C0OPS"}),
        entity_names={"RUS": "Russia", "PRK": "North Korea"},
    )


def cmd(ctx: AppContext, text: str, channel: SlackChannelRef = DESK) -> str:
    return run_command(ctx, text, channel, ALICE)


def test_channel_map_prefers_the_configured_channel() -> None:
    m = ChannelMap({"desk": "#desk", "ops": "C0OPS", "ops-copy": "C0OPS"})
    assert m.routing_names(SlackChannelRef("C123", "desk")) == ["desk", "slack:C123"]
    assert m.primary(SlackChannelRef("C0OPS", "operations")) == "ops"
    assert m.primary(SlackChannelRef("C999", "random")) == "slack:C999"
    assert m.display("slack:C999") == "<#C999>"


def test_subscribe_variants(ctx: AppContext) -> None:
    assert "now gets all alerts" in cmd(ctx, "subscribe *", ELSEWHERE)
    assert "alerts tagged `troops` of severity medium and above" in cmd(ctx, "subscribe tag:troops min=MEDIUM")
    assert "unknown rule 'nope'" in cmd(ctx, "subscribe nope")
    got = {(s.channel, s.rules, s.tags, s.min_severity) for s in ctx.control.subscriptions()}
    assert got == {("slack:C0ELSE", ("*",), (), "low"), ("desk", ("*",), ("troops",), "medium")}


def test_subscribe_with_max_age_as_the_config_and_the_cli_take_it(ctx: AppContext) -> None:
    got = cmd(ctx, "subscribe treaty-ratified max_age=3d min=high")
    assert "except those about reports older than 3d when raised" in got, got
    (sub,) = ctx.control.subscriptions()
    assert (sub.max_age, sub.min_severity) == (timedelta(days=3), "high")
    # the subscription `watchfloor subscriptions add desk --rule treaty-ratified --min high --max-age 3d` makes
    same, new = ctx.control.subscribe(
        "desk", rules=["treaty-ratified"], min_severity="high", max_age=timedelta(days=3), by=ALICE
    )
    assert (same.id, new) == (sub.id, False)
    assert "already gets" in cmd(ctx, "subscribe treaty-ratified min=high max-age=72h")  # the CLI's spelling too
    assert "older than 3d" in cmd(ctx, "list")
    # a bad duration, and a max_age with a digest (before or after it), are refused as the CLI refuses them
    assert cmd(ctx, "subscribe * max_age=soon") == (
        ":warning: max_age: bad duration 'soon': write a number and a unit, e.g. 90s, 30m, 72h, 180d, 2w"
    )
    refused = (
        ":warning: max_age applies to alerts sent one by one, not to a digest (which lists every alert since the last)"
    )
    assert cmd(ctx, "subscribe * max_age=3d digest daily 08:00 Europe/London") == refused
    assert cmd(ctx, "subscribe * digest daily 08:00 Europe/London max_age=3d") == refused
    assert ctx.control.subscriptions() == [sub]
    assert "max_age=DURATION" in cmd(ctx, "help") and "max_age=DURATION" in cmd(ctx, "subscribe")


def test_unsubscribe_one_rule_of_several_keeps_the_others(ctx: AppContext) -> None:
    ctx.control.subscribe("desk", rules=["treaty-ratified", "troops-deployed"], by=ALICE)
    got = cmd(ctx, "unsubscribe troops-deployed")
    assert "Unsubscribed from `troops-deployed`" in got
    (left,) = ctx.control.subscriptions()
    assert left.rules == ("treaty-ratified",)
    assert "Unsubscribed" in cmd(ctx, f"unsubscribe {left.id}")
    # what the subscription was, but for the rule, is kept: its max_age too
    ctx.control.subscribe("desk", rules=["treaty-ratified", "troops-deployed"], max_age=timedelta(days=3), by=ALICE)
    assert "Unsubscribed from `troops-deployed`" in cmd(ctx, "unsubscribe troops-deployed")
    (left,) = ctx.control.subscriptions()
    assert (left.rules, left.max_age) == (("treaty-ratified",), timedelta(days=3))
    assert "Unsubscribed" in cmd(ctx, f"unsubscribe {left.id}")
    assert ctx.control.subscriptions() == []


def test_silence_groups_by_key_id_or_name(ctx: AppContext) -> None:
    cmd(ctx, "silence treaty-ratified group=party=RUS for 1h")
    cmd(ctx, "silence treaty-ratified group=North Korea for 30m")
    cmd(ctx, "silence * for 1w maintenance")
    groups = [(s.rule, s.group) for s in ctx.control.silences()]
    assert sorted(groups, key=str) == sorted(
        [("treaty-ratified", {"party": "RUS"}), ("treaty-ratified", {"*": "PRK"}), ("*", {})], key=str
    )
    assert "at most 90d" in cmd(ctx, "silence * for 91d")
    assert "unknown rule" in cmd(ctx, "silence nope for 1h")


def test_user_text_is_escaped_in_replies(ctx: AppContext) -> None:
    cmd(ctx, "silence treaty-ratified for 1h <!channel> <https://evil.example|click>")
    listed = cmd(ctx, "silences")
    assert "<!channel>" not in listed and "&lt;!channel&gt;" in listed
    assert "<https://evil" not in listed
    assert "Troops &lt;b&gt;deployed&lt;/b&gt;" in cmd(ctx, "rules")
    got = cmd(ctx, "unsubscribe <x>")  # (no such rule: said as unknown, its name as typed, escaped)
    assert "<x>" not in got and "'&lt;x&gt;'" in got, got


def test_quotes_and_smart_quotes_do_not_break_parsing(ctx: AppContext) -> None:
    assert "Silenced" in cmd(ctx, "silence treaty-ratified for 2h “it's noisy”")
    assert "Silenced" in cmd(ctx, "silence treaty-ratified for 2h it's noisy")


# --- F2: a subscription typed in a channel the bot is not in --------------------------------------------------


def _member(member: bool | None, error: str = "") -> Membership:
    return Membership(member, error, bot_id="U0BOT", bot_name="watchfloor")


def test_subscribe_is_refused_where_the_bot_is_not_a_member(ctx: AppContext) -> None:
    asked: list[str] = []

    def not_member(ch: SlackChannelRef) -> Membership:
        asked.append(ch.id)
        return _member(False, "not_in_channel")

    got = run_command(ctx, "subscribe tag:troops", ELSEWHERE, ALICE, membership=not_member)
    assert got.startswith(":no_entry: Not subscribed: <@U0BOT> is not a member of this channel"), got
    assert "Invite <@U0BOT> to this channel first: `/invite @watchfloor`, then subscribe again." in got
    assert "now gets" not in got and ctx.control.subscriptions() == [] and asked == ["C0ELSE"]
    # a private channel or someone else's direct message: Slack answers channel_not_found
    hidden = run_command(
        ctx, "subscribe *", ELSEWHERE, ALICE, membership=lambda ch: _member(False, "channel_not_found")
    )
    assert "cannot see this conversation (Slack: channel_not_found)" in hidden and "`/invite @watchfloor`" in hidden
    assert ctx.control.subscriptions() == []
    # a line that does not parse is answered without asking Slack
    assert "unknown rule" in run_command(ctx, "subscribe nope", ELSEWHERE, ALICE, membership=not_member)
    assert asked == ["C0ELSE"]


def test_subscribe_where_membership_cannot_be_checked_is_accepted_with_a_warning(ctx: AppContext) -> None:
    got = run_command(
        ctx, "subscribe tag:troops", ELSEWHERE, ALICE, membership=lambda ch: _member(None, "missing_scope")
    )
    first, warning = got.split("\n")
    assert first.startswith(":white_check_mark: This channel now gets alerts tagged `troops`"), got
    assert warning == (
        ":warning: Could not check that <@U0BOT> is a member of this channel (Slack: missing_scope). "
        "If it is not, alerts here will fail: `/invite @watchfloor`."
    )
    (sub,) = ctx.control.subscriptions()
    assert sub.channel == "slack:C0ELSE"
    # a member: the usual reply, nothing more
    got = run_command(ctx, "subscribe *", ELSEWHERE, ALICE, membership=lambda ch: _member(True))
    assert got.startswith(":white_check_mark: This channel now gets all alerts") and "\n" not in got


def test_configured_channels_are_not_looked_up(ctx: AppContext) -> None:
    """#desk is the config's channel "desk", posted to with its own entry's token (checked when `run` starts)."""

    def never(ch: SlackChannelRef) -> Membership:
        raise AssertionError("looked up")

    assert "now gets" in run_command(ctx, "subscribe tag:troops", DESK, ALICE, membership=never)


# --- F6a: a line that does not parse names the wrong word and what is accepted there ------------------------

SUBSCRIBE_USAGE = USAGE["subscribe"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # the CLI: `--min must be one of low, medium, high, critical`
        ("subscribe treaty-ratified min=bogus", "`min=bogus`: min must be one of low, medium, high, critical"),
        (
            "subscribe * digest daily 25:00 Mars/Olympus",
            "bad digest `daily 25:00 Mars/Olympus`: `25:00`: a time HH:MM, from 00:00 to 23:59; "
            "unknown time zone `Mars/Olympus`: an IANA time zone such as Europe/London",
        ),
        (
            "subscribe * digest daily 08:00 Mars/Olympus",
            "bad digest `daily 08:00 Mars/Olympus`: unknown time zone `Mars/Olympus`: an IANA time zone such as "
            "Europe/London",
        ),
        (
            "subscribe * digest daily 8:60",
            "bad digest `daily 8:60`: `8:60`: a time HH:MM, from 00:00 to 23:59",
        ),
        (
            "subscribe * digest weekly",
            "bad digest: `weekly`: only daily digests: write `daily HH:MM [Area/City]`, "
            "e.g. `daily 08:00 Europe/London`",
        ),
        ("subscribe * digest Daily 08:00", "bad digest `Daily 08:00`: `Daily`: write it `daily`, in lower case"),
        (
            "subscribe * digest daily",
            "bad digest: no time: write `daily HH:MM [Area/City]`, e.g. `daily 08:00 Europe/London`",
        ),
        (
            "subscribe * digest daily 08:00 Europe/London weekdays",
            "bad digest `daily 08:00 Europe/London weekdays`: `weekdays`: nothing comes after the time zone",
        ),
        ("subscribe * sometimes", "`sometimes` is not a subscribe option (min=, max_age=, where, digest)"),
        ("subscribe tag:", "`tag:`: a tag after `tag:`, e.g. `tag:troops`"),
        (
            "subscribe * digest daily 08:00 <!here>",
            "bad digest `daily 08:00 &lt;!here&gt;`: unknown time zone `&lt;!here&gt;`",
        ),
    ],
)
def test_a_bad_subscribe_word_is_named_with_what_is_accepted(ctx: AppContext, text: str, problem: str) -> None:
    got = cmd(ctx, text, ELSEWHERE)
    assert got.startswith(f":warning: {problem}"), got
    assert got.endswith(f". {SUBSCRIBE_USAGE}") and "\n" not in got
    assert ctx.control.subscriptions() == []


def test_a_bad_silence_duration_is_named_in_the_clis_words(ctx: AppContext) -> None:
    got = cmd(ctx, "silence treaty-ratified for 5y")
    # `watchfloor silences add treaty-ratified --duration 5y` says: bad duration '5y': write a number and a unit, …
    assert got == (
        ":warning: bad duration '5y': write a number and a unit, e.g. 90s, 30m, 72h, 180d, 2w. " + USAGE["silence"]
    )
    assert ctx.control.silences() == []
    # a line that is not a silence at all still gets the usage alone
    assert cmd(ctx, "silence treaty-ratified 2h") == USAGE["silence"]


def test_a_mention_that_starts_with_a_command_word_names_the_slash_command(ctx: AppContext) -> None:
    # Outside trial 13 (L5): "@watchfloor subscribe troop-engagement" got the generic help.
    got = mention_reply(ctx, "<@U0BOT> subscribe troops-deployed")
    assert got.startswith("Commands are typed as the slash command, not as a mention: use ")
    assert "`/watchfloor subscribe troops-deployed` in this channel" in got
    assert ctx.control.subscriptions() == []  # pointed to, not run
    # Slack's escapes are read back and written again; a mention or a backtick typed stays text
    got = mention_reply(ctx, "<@U0BOT|watchfloor>  SILENCE  troops-deployed for 1d &lt;!channel&gt; `x` a&amp;b")
    assert "`/watchfloor SILENCE troops-deployed for 1d &lt;!channel&gt; 'x' a&amp;b` in this channel" in got
    # no command word, or help: the help, as before
    for text in ("<@U0BOT>", "<@U0BOT> hello there", "<@U0BOT> help", "subscribe * <@U0BOT>", ""):
        assert mention_reply(ctx, text) == help_text(ctx), text


def test_a_misspelt_rule_gets_did_you_mean_and_a_silence_takes_no_where(ctx: AppContext) -> None:
    ctx.rules["wagner-mutiny"] = RuleInfo("wagner-mutiny", "Wagner mutiny reported", "", "medium")
    ctx.rules["prigozhin-killed"] = RuleInfo("prigozhin-killed", "Prigozhin reported dead", "", "high")
    assert cmd(ctx, "subscribe wagner-mutney") == (
        ":warning: unknown rule 'wagner-mutney' (did you mean wagner-mutiny?): `/watchfloor rules` lists them"
    )
    got = cmd(ctx, "silence prigozhin-killed for 2h where place=Moscow")
    assert got.endswith(USAGE["silence"]) and "has no `where` filter" in got, got
    assert ctx.control.silences() == []
    got = cmd(ctx, "silence prigozhin-killed for 2h duplicates from one wire")
    until = "<!date^1730728800^{date_num} {time}|2024-11-04 14:00 UTC>"  # in the reader's timezone; UTC its fallback
    assert f"for 2h, until {until}: “duplicates from one wire”." in got, got


def test_a_min_severity_no_rule_can_reach_is_taken_with_a_warning(ctx: AppContext) -> None:
    # Outside trial 30, F9: `min=critical` for a rule whose alerts are at most high was taken without a word.
    ctx.rules = {**ctx.rules, "troops-deployed": dataclasses.replace(ctx.rules["troops-deployed"], max_severity="high")}
    got = cmd(ctx, "subscribe troops-deployed min=critical")
    assert got.startswith(":white_check_mark:") and "No alert of `troops-deployed` can be critical: at most high" in got
    assert "can be" not in cmd(ctx, "subscribe troops-deployed min=high")
    assert "can be" not in cmd(ctx, "subscribe treaty-ratified min=critical")  # not known: nothing said


def test_the_rule_catalogue_knows_how_severe_each_rules_alerts_can_be() -> None:
    from watchfloor.stream_processors.rulefile import load_rules
    from watchfloor.web.build import rule_catalogue

    _, rules = load_rules(["builtin:dprk_russia"])
    got = rule_catalogue(rules)
    assert got["troop-engagement"].max_severity == "high"  # medium, high once corroborated
    assert got["treaty-signed"].max_severity == "medium"


def test_list_marks_a_subscription_whose_rule_is_no_longer_loaded(ctx: AppContext) -> None:
    # Outside trial 69, M1: after a rule rename the channel's subscription got nothing and `list` showed it as normal.
    assert "now gets `treaty-ratified` alerts" in cmd(ctx, "subscribe treaty-ratified")
    assert ":warning:" not in cmd(ctx, "list")
    ctx.offer({"troops-deployed": ctx.rules["troops-deployed"]}, ctx.entity_names, ctx.entity_aliases)
    listed = cmd(ctx, "list")
    assert "`treaty-ratified` alerts — :warning: no rule `treaty-ratified` is loaded now: it gets nothing" in listed, (
        listed
    )


def test_a_wider_subscription_names_the_narrower_ones_it_covers(ctx: AppContext) -> None:
    # Outside trial 69, L3: `subscribe troop-engagement` beside `… min=high` was added unsaid.
    narrow = cmd(ctx, "subscribe treaty-ratified min=high")
    [old] = [s.id for s in ctx.control.subscriptions()]
    assert "It covers what" not in narrow
    wide = cmd(ctx, "subscribe treaty-ratified")
    assert wide.startswith(":white_check_mark: This channel now gets `treaty-ratified` alerts."), wide
    assert (
        f"It covers what `{old}` asked for, which sends nothing more now (no alert is posted twice): "
        f"`/watchfloor unsubscribe {old}` removes it." in wide
    ), wide


def test_a_silence_names_each_key_of_a_group_of_several(ctx: AppContext) -> None:
    """Outside trial 74, F5: a group of two keys (country and imposer) could not be silenced from Slack: a second
    `group=` word was refused as "goes right after the rule" (it was right after the rule). One `group=` per key, as
    the CLI takes --group twice; a key named twice is refused, and a `group=` after `for` still is."""
    got = cmd(ctx, "silence treaty-ratified group=party=RUS group=ally=North Korea for 1h one imposer")
    assert "Silenced" in got, got
    (sil,) = ctx.control.silences()
    assert (sil.group, sil.reason) == ({"party": "RUS", "ally": "PRK"}, "one imposer")
    got = cmd(ctx, "silence treaty-ratified group=party=RUS group=party=PRK for 1h")
    assert "'party' is named twice" in got and "Silenced" not in got, got
    got = cmd(ctx, "silence treaty-ratified group=party=RUS for 1h group=ally=PRK")
    assert "goes right after the rule" in got and "nothing was silenced" in got, got
    assert len(ctx.control.silences()) == 1
