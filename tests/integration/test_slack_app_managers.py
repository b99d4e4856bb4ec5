"""`slack.managers`: who may change what a channel gets from Slack (audit8, finding 8), end to end as
tests/integration/test_slack_app.py runs it: `watchfloor serve` in a subprocess, Slack's signed requests, the real
slack-sdk asking the local Slack-compatible server who is in a user group (usergroups.users.list).

With `managers:` set, only those users and the members of those user groups may subscribe, unsubscribe, silence and
unsilence, by command or button; a refusal says who may, and records and posts nothing. Reading and Acknowledge stay
open to everyone. Without `managers:` nothing changes: test_slack_app.py's tests run without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration import test_slack_app as base
from tests.integration.test_slack_app import (
    DESK,
    OTHER,
    Env,
    Served,
    control_types,
    ephemeral,
    first_alert_buttons,
    run_pipeline,
    slack,
    stop,
)
from watchfloor.alerts.slackapp.buttons import ACK_ACTION, SILENCE_ACTION, UNSUBSCRIBE_ACTION

pytestmark = pytest.mark.integration

env = base.env  # the fixtures of test_slack_app: a config, a store, the local Slack

BOSS = "U0BOSS0001"  # a manager by user id
LEADS = "S0DESKLEADS"  # a manager user group
CAROL = "U0CAROL001"  # in LEADS
ALICE = "U0ALICE001"  # in no list: SlackRequests' default user
REFUSED = f"Only <@{BOSS}>, <!subteam^{LEADS}> (members of that group) may"


def with_managers(env: Env, managers: str) -> None:
    """The test config, with `managers:` in its `slack:` section."""
    text = env.config.read_text(encoding="utf-8")
    env.config.write_text(text.replace("slack:\n", f"slack:\n  managers: {managers}\n", 1), encoding="utf-8")


@pytest.fixture
def managed(env: Env) -> Iterator[Served]:
    """`serve` with managers BOSS and the user group LEADS (CAROL)."""
    env.slack.usergroups = {LEADS: [CAROL]}
    with_managers(env, f"[{BOSS}, {LEADS}]")
    s = env.start("serve", "--config", str(env.config), "--port", "0")
    try:
        yield s
    finally:
        stop(s)


def as_user(user: str) -> dict[str, str]:
    return {"user_id": user, "user_name": user.lower()}


def test_a_non_manager_cannot_subscribe_unsubscribe_silence_or_unsilence_by_command(env: Env, managed: Served) -> None:
    app = slack(env, managed)
    # what there is to change: a subscription and a silence, by the manager
    got = ephemeral(app.slash_command("subscribe treaty-ratified", channel_id=DESK, **as_user(BOSS)))
    sub_id = re.search(r"`(sub-[0-9a-f]+)`", got).group(1)  # type: ignore[union-attr]
    got = ephemeral(app.slash_command("silence treaty-signed for 2h noise", channel_id=DESK, **as_user(BOSS)))
    sil_id = re.search(r"`(sil-[0-9a-f]+)`", got).group(1)  # type: ignore[union-attr]
    before = control_types(env)
    assert before == ["subscription.created", "silence.created"]
    posts = len(env.slack.requests_for("chat.postMessage"))  # the silence, said in #desk

    for text, action in [
        ("subscribe *", "subscribe this channel"),
        ("sub treaty-signed min=high", "subscribe this channel"),
        ("subscribe * digest daily 08:00 Europe/London", "subscribe this channel"),
        (f"unsubscribe {sub_id}", "unsubscribe this channel"),
        ("unsub treaty-ratified", "unsubscribe this channel"),
        ("silence * for 90d lol", "silence alerts"),
        ("silence treaty-ratified group=Russia for 1h <!channel> <@U0BOSS0001>", "silence alerts"),
        (f"unsilence {sil_id}", "end a silence"),
        ("subscribe", "subscribe this channel"),  # refused before its usage: no hint at what would parse
    ]:
        reply = ephemeral(app.slash_command(text, channel_id=DESK, **as_user(ALICE)))
        assert reply.startswith(f":no_entry: {REFUSED} {action} from Slack here; nothing was recorded."), (text, reply)
        assert "<!channel>" not in reply and "lol" not in reply  # nothing typed is echoed, let alone as a mention
    # in a DM, or a channel the config does not name, the same
    reply = ephemeral(app.slash_command("subscribe *", channel_id="D0ALICE001", channel_name="directmessage"))
    assert REFUSED in reply
    assert control_types(env) == before
    assert len(env.slack.requests_for("chat.postMessage")) == posts  # no "alice silenced…" in the channel
    assert env.slack.requests_for("conversations.info") == []  # refused before anything was asked of Slack

    # reading stays open to everyone
    assert sub_id in ephemeral(app.slash_command("list", channel_id=DESK, **as_user(ALICE)))
    assert sil_id in ephemeral(app.slash_command("silences", channel_id=DESK, **as_user(ALICE)))
    assert "`treaty-ratified`" in ephemeral(app.slash_command("rules", channel_id=DESK, **as_user(ALICE)))
    assert "/watchfloor subscribe" in ephemeral(app.slash_command("help", channel_id=DESK, **as_user(ALICE)))

    # and the manager may do all of it
    ended = ephemeral(app.slash_command(f"unsilence {sil_id}", channel_id=DESK, **as_user(BOSS)))
    assert "Ended silence" in ended
    assert "Unsubscribed" in ephemeral(app.slash_command(f"unsubscribe {sub_id}", channel_id=DESK, **as_user(BOSS)))
    assert control_types(env) == [*before, "silence.expired", "subscription.removed"]


def test_buttons_silence_and_unsubscribe_only_for_managers_acknowledge_for_everyone(env: Env, managed: Served) -> None:
    app = slack(env, managed)
    ephemeral(app.slash_command("subscribe treaty-ratified", channel_id=DESK, channel_name="desk", **as_user(BOSS)))
    run_pipeline(env)
    message, alert, value = first_alert_buttons(env)
    det = alert["detection"]
    before = control_types(env)
    posts = len(env.slack.requests_for("chat.postMessage"))

    for action, words in ((SILENCE_ACTION, "silence alerts"), (UNSUBSCRIBE_ACTION, "unsubscribe this channel")):
        reply = app.block_action(action, value, message=message, channel_id=DESK, **as_user(ALICE))
        assert reply.status == 200
        said = env.slack.responses[-1]
        assert said["response_type"] == "ephemeral", said
        assert said["text"].startswith(f":no_entry: {REFUSED} {words} from Slack here"), said["text"]
    assert control_types(env) == before
    assert len(env.slack.requests_for("chat.postMessage")) == posts and env.slack.requests_for("chat.update") == []

    # an on-call analyst who manages nothing still acknowledges
    assert app.block_action(ACK_ACTION, value, message=message, channel_id=DESK, **as_user(ALICE)).status == 200
    (ack,) = env.control().acknowledgements(alert["id"])
    assert ack.by.user == ALICE

    # a member of the managers' user group silences with the button
    assert app.block_action(SILENCE_ACTION, value, message=message, channel_id=DESK, **as_user(CAROL)).status == 200
    (sil,) = env.control().silences()
    assert (sil.rule, sil.channel, sil.by.user) == (det["rule"], "desk", CAROL)
    assert control_types(env) == [*before, "alert.acknowledged", "silence.created"]


def test_a_user_group_member_may_manage_and_the_group_is_asked_once(env: Env, managed: Served) -> None:
    app = slack(env, managed)
    got = ephemeral(app.slash_command("silence treaty-signed for 1h", channel_id=DESK, **as_user(CAROL)))
    assert got.startswith(":mute: Silenced `treaty-signed`"), got
    got = ephemeral(app.slash_command("subscribe treaty-signed", channel_id=OTHER, **as_user(CAROL)))
    assert "now gets `treaty-signed` alerts" in got, got
    assert [s.by.user for s in env.control().subscriptions()] == [CAROL]
    # someone not in the group is refused, from the same cached membership
    assert REFUSED in ephemeral(app.slash_command("silence * for 1d", channel_id=DESK, **as_user("U0DAVE0001")))
    asked = env.slack.requests_for("usergroups.users.list")
    assert [r.body["usergroup"] for r in asked] == [LEADS]  # kept for minutes, not asked on every request
    # a manager named by id is never looked up in a group
    ephemeral(app.slash_command("silences", channel_id=DESK, **as_user(BOSS)))
    assert len(env.slack.requests_for("usergroups.users.list")) == 1


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (200, {"ok": False, "error": "missing_scope", "needed": "usergroups:read"}, "missing_scope"),
        (500, None, "Internal Server Error"),  # slack-sdk: "Received a response in a non-JSON format: …"
    ],
)
def test_when_slack_cannot_say_who_is_in_the_group_the_action_is_refused(
    env: Env, managed: Served, status: int, body: Any, said: str
) -> None:
    """Fail closed: a look-up that fails refuses even a real member, says why, and is asked again next time."""
    app = slack(env, managed)
    env.slack.fail_next("usergroups.users.list", status, body)
    reply = ephemeral(app.slash_command("silence treaty-signed for 1h", channel_id=DESK, **as_user(CAROL)))
    assert reply.startswith(
        f":no_entry: Could not check that you may silence alerts: Slack did not say who is in <!subteam^{LEADS}>"
    ), reply
    assert said in reply and "Nothing was recorded" in reply and f"<@{BOSS}>" in reply
    assert control_types(env) == [] and env.slack.requests_for("chat.postMessage") == []
    # the failure was not kept: once Slack answers, the member may
    got = ephemeral(app.slash_command("silence treaty-signed for 1h", channel_id=DESK, **as_user(CAROL)))
    assert got.startswith(":mute: Silenced"), got
    assert len(env.slack.requests_for("usergroups.users.list")) == 2


def test_a_manager_list_of_user_ids_only_needs_no_user_group_look_up(env: Env) -> None:
    with_managers(env, f"[{BOSS}]")
    served = env.start("serve", "--config", str(env.config), "--port", "0")
    try:
        app = slack(env, served)
        reply = ephemeral(app.slash_command("silence * for 1d", channel_id=DESK, **as_user(ALICE)))
        assert reply.startswith(f":no_entry: Only <@{BOSS}> may silence alerts"), reply
        assert ephemeral(app.slash_command("silence * for 1d", channel_id=DESK, **as_user(BOSS))).startswith(":mute:")
    finally:
        stop(served)
    assert control_types(env) == ["silence.created"]
    assert env.slack.requests_for("usergroups.users.list") == []


def test_a_user_group_slack_does_not_know_is_said_to_be_the_configs_to_correct(env: Env) -> None:
    """Trial L8: with `slack.managers` naming a user group that does not exist (usergroups.users.list:
    no_such_subteam), the refusal said "try again in a few minutes", which could never help."""
    env.slack.usergroups = {}
    with_managers(env, f"[{BOSS}, {LEADS}]")
    served = env.start("serve", "--config", str(env.config), "--port", "0")
    try:
        reply = ephemeral(slack(env, served).slash_command("silence * for 1d", channel_id=DESK, **as_user(CAROL)))
    finally:
        stop(served)
    assert f"Slack did not say who is in <!subteam^{LEADS}> (usergroups.users.list: no_such_subteam)" in reply, reply
    assert "named in `slack.managers` of watchfloor's config, was not found in this workspace" in reply, reply
    assert "try again" not in reply
    assert control_types(env) == []
