"""Findings of the Slack app's second audit, end to end as tests/integration/test_slack_app.py runs it:
`watchfloor serve` in a subprocess, Slack's signed requests, the real slack-sdk answering through the local
Slack-compatible server.

F2: a subscription typed in a channel the bot is not in is refused (with how to invite it), since every alert
would fail there; accepted with a warning when Slack cannot say. These two serve the app in this process (as
`serve` builds it), so that it can be given a clock that a loaded machine cannot move.
F6a: a line that does not parse names the wrong word and what is accepted there, as the CLI says it.
F6b: a click whose reply cannot be posted to its response_url still gets Slack's 200: the action stands, and the
failure is one warning in the log.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest

from tests.fixtures.slack_server import SlackRequests
from tests.integration import test_slack_app as base
from tests.integration.test_slack_app import (
    DESK,
    OTHER,
    SECRET,
    Env,
    Served,
    ephemeral,
    first_alert_buttons,
    run_pipeline,
    slack,
    stop,
)
from watchfloor.alerts.slackapp.app import LookupTiming, build_app
from watchfloor.alerts.slackapp.buttons import ACK_ACTION, SILENCE_ACTION, UNSUBSCRIBE_ACTION
from watchfloor.config import load_config
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.web.build import build_services
from watchfloor.web.server import WebServer, create_app
from watchfloor.wiring import open_control, open_store

pytestmark = pytest.mark.integration

env = base.env  # the fixtures of test_slack_app: a config, a store, the local Slack, `watchfloor serve`
served = base.served


# --- F2: the bot must be in the channel a subscription is typed in ------------------------------------------


@pytest.fixture
def served_here(env: Env) -> Iterator[SlackRequests]:
    """The Slack app of `watchfloor serve --config` (its services as serve builds them), served from this process
    with a LookupTiming of its own. Whether a refusal names the bot (`/invite @watchfloor`) is decided by how long
    conversations.info took: in `serve`'s subprocess that was real time against a 1 s budget, and one local round
    trip on a loaded CI machine can take that long. Here the budget is read on the local Slack's injected delays
    (none in these tests) and the socket timeouts are beyond any load, so the reply cannot change with it."""
    cfg = load_config(env.config)
    _, rules = load_rules(cfg.rules)
    store = open_store(cfg.store)
    services = build_services(cfg, store, open_control(store, cfg), rules, env=env.env)
    timing = LookupTiming(lookup_timeout=120, name_timeout=120, stopwatch=env.slack.answer_delays)
    app = build_app(
        services.context,
        token=env.slack.token,
        signing_secret=SECRET,
        base_url=env.slack.base_url,
        lookup_timing=timing,
    )
    server = WebServer(create_app(replace(services, slack_app=app)), "127.0.0.1", 0).start()
    try:
        yield SlackRequests(f"{server.url}/slack/events", SECRET, env.slack)
    finally:
        server.stop()
        store.close()


def test_subscribing_where_the_bot_is_not_a_member_is_refused(env: Env, served_here: SlackRequests) -> None:
    app = served_here
    env.slack.not_member = {OTHER}
    got = ephemeral(app.slash_command("subscribe tag:troops", channel_id=OTHER, channel_name="elsewhere"))
    # the bot as auth.test names it (user_id U00000000, user "watchfloor")
    assert got == (
        ":no_entry: Not subscribed: <@U00000000> is not a member of this channel, so its alerts could not be posted "
        "here. Invite <@U00000000> to this channel first: `/invite @watchfloor`, then subscribe again."
    )
    assert env.control_events() == 0
    (info,) = env.slack.requests_for("conversations.info")
    assert info.body["channel"] == OTHER
    # a private channel the bot was not invited to, or a direct message between others: channel_not_found
    got = ephemeral(app.slash_command("subscribe *", channel_id="C0PRIVATE1", channel_name="private"))
    assert "cannot see this conversation (Slack: channel_not_found)" in got and "`/invite @watchfloor`" in got
    assert env.control_events() == 0
    # once invited, the same line subscribes
    env.slack.not_member = set()
    got = ephemeral(app.slash_command("subscribe tag:troops", channel_id=OTHER, channel_name="elsewhere"))
    assert got.startswith(":white_check_mark: This channel now gets alerts tagged `troops`") and "\n" not in got
    assert [s.channel for s in env.control().subscriptions()] == [f"slack:{OTHER}"]


def test_subscribing_where_membership_cannot_be_checked_is_accepted_with_a_warning(
    env: Env, served_here: SlackRequests
) -> None:
    app = served_here
    env.slack.fail_next("conversations.info", body={"ok": False, "error": "missing_scope", "needed": "channels:read"})
    got = ephemeral(app.slash_command("subscribe tag:troops", channel_id=OTHER, channel_name="elsewhere"))
    assert got.startswith(":white_check_mark: This channel now gets alerts tagged `troops`"), got
    assert got.endswith(
        "\n:warning: Could not check that <@U00000000> is a member of this channel (Slack: missing_scope). "
        "If it is not, alerts here will fail: `/invite @watchfloor`."
    )
    assert [s.channel for s in env.control().subscriptions()] == [f"slack:{OTHER}"]


# --- F6a: the wrong word named, in the CLI's words ----------------------------------------------------------


def test_bad_words_are_named_as_the_cli_names_them(env: Env, served: Served) -> None:
    app = slack(env, served)
    cfg = ("--config", str(env.config))
    said = ephemeral(app.slash_command("silence treaty-ratified for 5y", channel_id=DESK))
    cli = env.cli("silences", "add", "treaty-ratified", "--duration", "5y", *cfg)
    words = "bad duration '5y': write a number and a unit, e.g. 90s, 30m, 72h, 180d, 2w"
    assert cli.returncode != 0 and words in cli.stderr, cli.stderr
    assert said.startswith(f":warning: {words}. Usage: `/watchfloor silence"), said
    said = ephemeral(app.slash_command("subscribe treaty-ratified min=bogus", channel_id=DESK))
    cli = env.cli("subscriptions", "add", "desk", "--rule", "treaty-ratified", "--min", "bogus", *cfg)
    assert cli.returncode != 0 and "--min must be one of low, medium, high, critical" in cli.stderr, cli.stderr
    assert said.startswith(":warning: `min=bogus`: min must be one of low, medium, high, critical. Usage: "), said
    said = ephemeral(app.slash_command("subscribe * digest daily 25:00 Mars/Olympus", channel_id=DESK))
    cli = env.cli("subscriptions", "add", "desk", "--digest", "daily 25:00 Mars/Olympus", *cfg)
    # the CLI names each wrong word as Slack does (it said only "unknown time zone" or the format before)
    words = (
        "bad digest 'daily 25:00 Mars/Olympus': '25:00': a time HH:MM, from 00:00 to 23:59; "
        "unknown time zone 'Mars/Olympus': an IANA time zone such as Europe/London"
    )
    assert cli.returncode != 0 and words in cli.stderr, cli.stderr
    assert said.startswith(
        ":warning: bad digest `daily 25:00 Mars/Olympus`: `25:00`: a time HH:MM, from 00:00 to 23:59; "
        "unknown time zone `Mars/Olympus`: an IANA time zone such as Europe/London. Usage: `/watchfloor subscribe"
    ), said
    assert env.control_events() == 0


# --- F6b: the reply to a click cannot be posted --------------------------------------------------------------


@dataclass
class RepliesTo(SlackRequests):
    """Slack's requests, with every response_url pointing at `reply_url`."""

    reply_url: str = ""

    def _response_url(self) -> str:
        return self.reply_url


def closed_port() -> int:
    """A local port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_click_whose_reply_cannot_be_posted_still_gets_200_and_its_action_stands(env: Env, served: Served) -> None:
    app = slack(env, served)
    ephemeral(app.slash_command("subscribe treaty-ratified", channel_id=DESK, channel_name="desk"))
    run_pipeline(env)
    message, alert, value = first_alert_buttons(env)
    det = alert["detection"]
    unreachable = RepliesTo(app.url, SECRET, env.slack, reply_url=f"http://127.0.0.1:{closed_port()}/response/x")
    refusing = RepliesTo(app.url, SECRET, env.slack, reply_url=env.slack.base_url.removesuffix("/api/") + "/gone")

    # Silence 24h: recorded, 200, though its reply went nowhere
    assert unreachable.block_action(SILENCE_ACTION, value, message=message, channel_id=DESK).status == 200
    (sil,) = env.control().silences()
    assert (sil.rule, sil.channel) == (det["rule"], "desk")
    # Acknowledge on a message Slack sent without its blocks: the reply is the only answer, and it fails (HTTP 404)
    bare = {"ts": message["ts"], "text": message["text"]}
    assert refusing.block_action(ACK_ACTION, value, message=bare, channel_id=DESK).status == 200
    assert len(env.control().acknowledgements(alert["id"])) == 1
    # Unsubscribe: done, 200
    assert unreachable.block_action(UNSUBSCRIBE_ACTION, value, message=message, channel_id=DESK).status == 200
    assert env.control().subscriptions() == []
    assert env.slack.responses == []  # none of the replies arrived

    stop(served)
    assert served.proc.stderr is not None
    log = served.proc.stderr.read() or ""
    assert "Traceback" not in log and "500" not in log and "Failed to send" not in log, log
    warnings = [line for line in log.splitlines() if "could not be posted to Slack's response_url" in line]
    assert len(warnings) == 3, log
    silenced, acked, unsubscribed = warnings
    assert f"Silence 24h click on alert {alert['id']} ({det['rule']}) handled" in silenced
    assert "Connection refused" in silenced
    assert f"Acknowledge click on alert {alert['id']} recorded" in acked and "HTTP 404" in acked
    assert f"Unsubscribe click on alert {alert['id']} ({det['rule']}) handled" in unsubscribed
