"""The Slack app end to end: `watchfloor serve` in a subprocess, Slack's signed requests (tests/fixtures
slack_server.SlackRequests), and the real slack-sdk answering through the local Slack-compatible server.

Every command, every button, and forged, unsigned and stale requests; then the pipeline (`watchfloor run`)
routing by what was typed in Slack, beside `serve` on the same store, and in one process with `run --serve`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.slack_server import FakeSlack, SlackRequests
from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.slackapp.buttons import ACK_ACTION, SILENCE_ACTION, UNSUBSCRIBE_ACTION, button_value
from watchfloor.schemas.control import CONTROL_TYPES
from watchfloor.schemas.events import EventType
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # a made-up signing secret
DESK = FakeSlack.channel_id("#desk")  # Slack's id for #desk, the configured channel "desk"
OTHER = "C0OTHER001"  # a channel the config does not name


@dataclass
class Served:
    url: str
    proc: subprocess.Popen[str]
    banner: str = ""  # what it logged up to its 'serving URL' line


@dataclass
class Env:
    tmp: Path
    config: Path
    store_url: str
    inbox: Path
    slack: FakeSlack
    env: dict[str, str]

    def control(self) -> ControlLog:
        return ControlLog(open_store(self.store_url))

    def control_events(self) -> int:
        st = open_store(self.store_url)
        try:
            return st.count(types=CONTROL_TYPES)
        finally:
            st.close()

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "watchfloor", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.tmp,
        )

    def start(self, *args: str) -> Served:
        """A long-running watchfloor command that serves HTTP; waits for its 'serving URL' line."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "watchfloor", *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.tmp,
        )
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            m = re.search(r"serving (http://\S+)", line)
            if m:
                os.set_blocking(proc.stderr.fileno(), False)  # keep reading from blocking us; drained at stop
                return Served(m.group(1), proc, "".join(lines))
        proc.kill()
        raise AssertionError("watchfloor did not start serving:\n" + "".join(lines))


def stop(served: Served) -> None:
    served.proc.terminate()
    try:
        served.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        served.proc.kill()
        served.proc.wait(timeout=5)


def stderr_of(served: Served) -> str:
    """What the server logged, once it has stopped."""
    stop(served)
    assert served.proc.stderr is not None
    return served.proc.stderr.read() or ""


def write_config(tmp: Path, slack: FakeSlack, store_url: str, inbox: Path, subs: str = "[]") -> Path:
    cfg = tmp / "watchfloor.yaml"
    cfg.write_text(
        f"""
store: {store_url}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {inbox}}}
slack:
  token_env: WF_TEST_BOT
  signing_secret_env: WF_TEST_SECRET
  base_url: {slack.base_url}
channels:
  - {{type: slack, name: desk, channel: "#desk"}}
subscriptions: {subs}
""",
        encoding="utf-8",
    )
    return cfg


@pytest.fixture
def env(tmp_path: Path, slack_server: FakeSlack) -> Env:
    store_url = f"sqlite:///{tmp_path / 'var' / 'watchfloor.db'}"
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("", encoding="utf-8")
    cfg = write_config(tmp_path, slack_server, store_url, inbox)
    # the workspace's channels, the bot in each: a subscription typed in a channel the config does not name is
    # refused unless conversations.info says the bot is in it (the fake knows only listed or posted-to channels)
    slack_server.channels = {"#desk", OTHER}
    run_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WATCHFLOOR_STORE"))},
        "WF_TEST_BOT": slack_server.token,
        "WF_TEST_SECRET": SECRET,
        "COLUMNS": "200",
        "PYTHONPATH": str(REPO),
    }
    return Env(tmp_path, cfg, store_url, inbox, slack_server, run_env)


@pytest.fixture
def served(env: Env) -> Iterator[Served]:
    s = env.start("serve", "--config", str(env.config), "--port", "0")
    try:
        yield s
    finally:
        stop(s)


def slack(env: Env, served: Served) -> SlackRequests:
    return SlackRequests(f"{served.url}/slack/events", SECRET, env.slack)


def ephemeral(reply: Any) -> str:
    assert reply.status == 200, reply
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    return str(body["text"])


# --- requests that are not Slack's --------------------------------------------------------------------------


def forged(kind: str) -> dict[str, Any]:
    """How SlackRequests signs a request that is not Slack's."""
    return {
        "forged": {"secret": "not-the-secret"},  # signed, but not with the app's secret
        "forged-digest": {"signature": "v0=" + "0" * 64},
        "missing": {"unsigned": True},  # no X-Slack-Signature, no X-Slack-Request-Timestamp
        "stale": {"timestamp": int(time.time()) - 301},  # correctly signed over 5 minutes ago (a replay)
    }[kind]


@pytest.mark.parametrize("forgery", ["forged", "forged-digest", "missing", "stale"])
def test_forged_unsigned_and_stale_requests_get_401_and_change_nothing(env: Env, served: Served, forgery: str) -> None:
    app = slack(env, served)
    # what a forged request could change: a subscription, a silence
    got = ephemeral(app.slash_command("subscribe treaty-ratified", channel_id=DESK, channel_name="desk"))
    sub_id = re.search(r"`(sub-[0-9a-f]+)`", got).group(1)  # type: ignore[union-attr]
    got = ephemeral(app.slash_command("silence treaty-signed for 1h", channel_id=DESK))
    sil_id = re.search(r"`(sil-[0-9a-f]+)`", got).group(1)  # type: ignore[union-attr]
    before = env.control_events()
    responses = len(env.slack.responses)
    posts = len(env.slack.requests_for("chat.postMessage"))  # the silence above, said in #desk
    sign = forged(forgery)
    commands = [
        "help",
        "subscribe *",
        f"unsubscribe {sub_id}",
        "list",
        "silence * for 1d",
        "silences",
        f"unsilence {sil_id}",
        "rules",
    ]
    for text in commands:
        reply = app.slash_command(text, channel_id=DESK, channel_name="desk", **sign)
        assert reply.status == 401, (text, reply)
        assert "watchfloor" not in reply.body  # no listener answered
    click = button_value("a1", "treaty-ratified", "desk", {"party": "RUS"})
    msg = {"ts": "1.000001", "text": "x", "blocks": []}
    for action in (ACK_ACTION, SILENCE_ACTION, UNSUBSCRIBE_ACTION):
        assert app.block_action(action, click, message=msg, channel_id=DESK, **sign).status == 401, action
    assert app.event({"type": "app_mention", "channel": DESK, "ts": "1.1", "text": "hi"}, **sign).status == 401
    assert env.control_events() == before
    assert [s.id for s in env.control().subscriptions()] == [sub_id]
    assert [s.id for s in env.control().silences()] == [sil_id]
    assert len(env.slack.responses) == responses
    assert len(env.slack.messages) == posts == 1 and env.slack.updates == []
    assert env.slack.requests_for("chat.update") == [] and len(env.slack.requests_for("chat.postMessage")) == posts
    # ...while a request signed within the 5 minutes is served
    assert app.slash_command("help", timestamp=int(time.time()) - 240).status == 200


# --- the commands -------------------------------------------------------------------------------------------


def test_each_command(env: Env, served: Served) -> None:
    app = slack(env, served)
    assert "/watchfloor subscribe RULE|tag:TAG|*" in ephemeral(app.slash_command(""))
    assert "/watchfloor silence RULE" in ephemeral(app.slash_command("help"))

    rules = ephemeral(app.slash_command("rules"))
    for rule in ("treaty-signed", "treaty-ratified", "treaty-ratified-by-both", "ratification-exchange"):
        assert f"`{rule}`" in rules
    assert "North Korea" in rules  # titles
    assert "One party ratified the treaty (a parliament vote" in rules  # descriptions (the detection's own)
    assert "*[party] ratified the DPRK–Russia treaty*" in rules and "{place_suffix}" not in rules  # titles' fields

    got = ephemeral(app.slash_command("subscribe treaty-ratified min=high", channel_id=DESK, channel_name="desk"))
    assert "now gets `treaty-ratified` alerts of severity high and above" in got
    sub_id = re.search(r"`(sub-[0-9a-f]+)`", got).group(1)  # type: ignore[union-attr]
    again = ephemeral(app.slash_command("subscribe treaty-ratified min=high", channel_id=DESK, channel_name="desk"))
    assert "already gets" in again and sub_id in again
    (sub,) = env.control().subscriptions()
    # typed in #desk, which the config names as channel "desk": routed there, not to a second poster
    assert (sub.id, sub.channel, sub.rules, sub.min_severity, sub.managed_by) == (
        sub_id,
        "desk",
        ("treaty-ratified",),
        "high",
        "slack",
    )
    assert (sub.by.user, sub.by.name) == ("U0ALICE001", "alice")

    got = ephemeral(
        app.slash_command(
            "subscribe tag:troops digest daily 08:00 Europe/London", channel_id=OTHER, channel_name="elsewhere"
        )
    )
    assert "alerts tagged `troops`, as a digest (daily 08:00 Europe/London)" in got
    listed = ephemeral(app.slash_command("list", channel_id=DESK, channel_name="desk"))
    assert sub_id in listed and "tagged" not in listed  # only this channel's
    other = {s.channel: s for s in env.control().subscriptions()}["slack:" + OTHER]
    assert (other.tags, other.digest) == (("troops",), "daily 08:00 Europe/London")

    got = ephemeral(app.slash_command("silence treaty-ratified group=Russia for 2h Duma vote noise", channel_id=DESK))
    sil_id = re.search(r"`(sil-[0-9a-f]+)`", got).group(1)  # type: ignore[union-attr]
    assert "Silenced `treaty-ratified` (Russia) in this channel for 2h" in got
    (sil,) = env.control().silences()
    assert (sil.id, sil.rule, sil.group, sil.channel, sil.reason) == (
        sil_id,
        "treaty-ratified",
        {"*": "RUS"},  # the entity's name typed, its id kept
        "desk",
        "Duma vote noise",
    )
    assert round((sil.ends_at - sil.starts_at).total_seconds()) == 7200
    listed = ephemeral(app.slash_command("silences", channel_id=DESK))
    assert sil_id in listed and "Duma vote noise" in listed
    assert "No silences" in ephemeral(app.slash_command("silences", channel_id=OTHER, channel_name="elsewhere"))
    assert "Ended silence" in ephemeral(app.slash_command(f"unsilence {sil_id}", channel_id=DESK))
    assert env.control().silences() == []
    assert "already ended" in ephemeral(app.slash_command(f"unsilence {sil_id}", channel_id=DESK))

    got = ephemeral(app.slash_command("unsubscribe treaty-ratified", channel_id=DESK, channel_name="desk"))
    assert "Unsubscribed from `treaty-ratified`" in got and sub_id in got
    assert [s.channel for s in env.control().subscriptions()] == ["slack:" + OTHER]
    assert "no subscription" in ephemeral(app.slash_command("unsubscribe treaty-ratified", channel_id=DESK))
    assert "has no subscriptions" in ephemeral(app.slash_command("list", channel_id=DESK))

    events = [se.event.type for se in open_store(env.store_url).read(0, types=CONTROL_TYPES)]
    assert events == [
        "subscription.created",
        "subscription.created",
        "silence.created",
        "silence.expired",
        "subscription.removed",
    ]


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("subscribe", "/watchfloor subscribe RULE|tag:TAG|*"),
        ("subscribe treaty-signed min=urgent", "/watchfloor subscribe"),
        ("subscribe treaty-signed digest weekly", "/watchfloor subscribe"),
        ("unsubscribe", "/watchfloor unsubscribe"),
        ("silence treaty-signed", "/watchfloor silence RULE"),
        ("silence treaty-signed for ever", "/watchfloor silence RULE"),
        ("silence treaty-signed group=RUS 2h", "/watchfloor silence RULE"),
        ("unsilence", "/watchfloor unsilence"),
        ("list everything", "/watchfloor list"),
        ("frobnicate", "/watchfloor help"),
    ],
)
def test_bad_input_gets_a_one_line_usage_reply(env: Env, served: Served, text: str, usage: str) -> None:
    reply = ephemeral(slack(env, served).slash_command(text))
    assert usage in reply
    assert "\n" not in reply
    assert env.control_events() == 0


def test_unknown_rules_and_config_managed_subscriptions_are_explained(env: Env, served: Served) -> None:
    app = slack(env, served)
    assert "unknown rule 'no-such-rule'" in ephemeral(app.slash_command("subscribe no-such-rule"))
    # the config file's subscriptions are in the log, marked as the config's, and only the file changes them
    env.config = write_config(env.tmp, env.slack, env.store_url, env.inbox, subs="[{channel: desk}]")
    assert env.cli("subscriptions", "list", "--config", str(env.config)).returncode == 0
    (sub,) = env.control().subscriptions()
    assert (sub.channel, sub.managed_by) == ("desk", "config")
    got = ephemeral(app.slash_command("unsubscribe *", channel_id=DESK, channel_name="desk"))
    assert "set in watchfloor's config file" in got
    assert "wider subscription" in ephemeral(app.slash_command("unsubscribe treaty-signed", channel_id=DESK))
    assert len(env.control().subscriptions()) == 1


def test_serve_with_slack_bot_token_set_logs_no_bolt_warning(env: Env) -> None:
    """A docs walk: with $SLACK_BOT_TOKEN set (the README's token_env), every `serve` printed slack-bolt's "As you
    gave `client` as well, `token` will be unused." before its banner. The app still reaches the configured Slack
    (base_url): Bolt's token check, and a subscription in a channel the config does not name, which asks it whether
    the bot is there."""
    env.env = {**env.env, "SLACK_BOT_TOKEN": env.slack.token}
    served = env.start("serve", "--config", str(env.config), "--port", "0")
    try:
        command = "subscribe treaty-signed"
        got = ephemeral(slack(env, served).slash_command(command, channel_id=OTHER, channel_name="elsewhere"))
        assert "now gets `treaty-signed` alerts" in got, got
        # Bolt's own client (auth.test) and each request's (conversations.info) both went to the local server
        assert env.slack.requests_for("auth.test") and env.slack.requests_for("conversations.info")
    finally:
        logged = served.banner + stderr_of(served)
    assert "will be unused" not in logged and "`client`" not in logged, logged


def test_serve_records_when_a_silence_lapses(env: Env, served: Served) -> None:
    """No pipeline runs: the server alone records `silence.expired` once the silence's end has passed."""
    added = env.cli("silences", "add", "treaty-signed", "--start", "2020-01-01T00:00:00+00:00", "-d", "1h", "-a", "kim")
    assert added.returncode == 0, added.stderr
    sil_id = added.stdout.strip()

    def expired() -> list[dict[str, Any]]:
        st = open_store(env.store_url)
        try:
            return [se.event.payload for se in st.read(0, types={"silence.expired"})]
        finally:
            st.close()

    wait_for(lambda: len(expired()) == 1)
    (event,) = expired()
    assert (event["id"], event["at"], event["by"]["via"]) == (sil_id, "2020-01-01T01:00:00Z", "system")
    assert "No silences" in ephemeral(slack(env, served).slash_command("silences", channel_id=DESK))
    time.sleep(1.5)  # the server's loop runs again: still the one event
    assert len(expired()) == 1


def test_serve_reconciles_the_config_subscriptions_at_start(env: Env) -> None:
    """Each start makes the log's config-managed subscriptions the file's: added, marked, and removed."""
    env.config = write_config(
        env.tmp, env.slack, env.store_url, env.inbox, subs="[{channel: desk, min_severity: high}]"
    )
    first = env.start("serve", "--config", str(env.config), "--port", "0")
    try:
        (sub,) = env.control().subscriptions()
        assert (sub.channel, sub.min_severity, sub.managed_by, sub.by.via) == ("desk", "high", "config", "config")
        listed = ephemeral(slack(env, first).slash_command("list", channel_id=DESK, channel_name="desk"))
        assert sub.id in listed and "config file" in listed
    finally:
        stop(first)
    env.config = write_config(env.tmp, env.slack, env.store_url, env.inbox, subs="[{channel: desk}]")
    second = env.start("serve", "--config", str(env.config), "--port", "0")
    try:
        (now,) = env.control().subscriptions()
        assert (now.min_severity, now.managed_by) == ("low", "config") and now.id != sub.id
    finally:
        stop(second)
    events = [se.event.type for se in open_store(env.store_url).read(0, types=CONTROL_TYPES)]
    assert events == ["subscription.created", "subscription.created", "subscription.removed"]


# --- the buttons --------------------------------------------------------------------------------------------


def run_pipeline(env: Env) -> None:
    """The sample news into the inbox, and one `run --once` over it (alerts posted to the local Slack)."""
    env.inbox.write_text(SAMPLES.read_text(encoding="utf-8"), encoding="utf-8")
    ran = env.cli("run", "--once", "--config", str(env.config))
    assert ran.returncode == 0, ran.stderr


def control_types(env: Env) -> list[str]:
    """The types of the control events in the store, in order."""
    st = open_store(env.store_url)
    try:
        return [se.event.type for se in st.read(0, types=CONTROL_TYPES)]
    finally:
        st.close()


def first_alert_buttons(env: Env) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The first alert posted: its message, its event payload, and the value its buttons carry (channel desk)."""
    (message, alert), *_ = posted_alerts(env)
    det = alert["detection"]
    return message, alert, button_value(alert["id"], det["rule"], "desk", det["group"])


def posted_alerts(env: Env) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(message, alert event payload) for each alert the pipeline posted."""
    st = open_store(env.store_url)
    alerts = {se.event.payload["id"]: se.event.payload for se in st.read(0, types={EventType.ALERT.value})}
    st.close()
    out = []
    for m in env.slack.messages:
        alert_id = ((m.get("metadata") or {}).get("event_payload") or {}).get("alert_id")
        if alert_id in alerts:
            out.append((m, alerts[alert_id]))
    return out


def test_each_button(env: Env, served: Served) -> None:
    app = slack(env, served)
    ephemeral(app.slash_command("subscribe treaty-ratified", channel_id=DESK, channel_name="desk"))
    run_pipeline(env)
    assert len(posted_alerts(env)) == 3  # Russia twice (Duma, Federation Council), North Korea once
    message, alert, value = first_alert_buttons(env)
    det = alert["detection"]

    # Acknowledge: recorded with who and when; the message now says so (chat.update), the button is gone
    reply = app.block_action(ACK_ACTION, value, message=message, channel_id=DESK)
    assert reply.status == 200
    (ack,) = env.control().acknowledgements(alert["id"])
    assert (ack.by.user, ack.by.name, ack.channel, ack.slack_channel, ack.message_ts) == (
        "U0ALICE001",
        "alice",
        "desk",
        DESK,
        message["ts"],
    )
    assert abs((datetime.now(UTC) - ack.at).total_seconds()) < 60
    (update,) = env.slack.requests_for("chat.update")
    assert (update.body["channel"], update.body["ts"]) == (DESK, message["ts"])
    updated = env.slack.message(DESK, message["ts"])
    texts = json.dumps(updated["blocks"])
    assert "Acknowledged by <@U0ALICE001>" in texts
    ids = [e.get("action_id") for b in updated["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ACK_ACTION not in ids
    assert updated["blocks"][0] == message["blocks"][0]  # the alert itself is unchanged
    # a second click (someone else, on the old message) changes nothing and says who was first
    reply = app.block_action(ACK_ACTION, value, message=message, channel_id=DESK, user_id="U0BOB0001", user_name="bob")
    assert reply.status == 200
    assert len(env.control().acknowledgements(alert["id"])) == 1
    assert "Already acknowledged by <@U0ALICE001>" in env.slack.responses[-1]["text"]
    assert env.slack.responses[-1]["response_type"] == "ephemeral"

    # Silence this rule and group for 24h, in this channel
    reply = app.block_action(SILENCE_ACTION, value, message=message, channel_id=DESK)
    assert reply.status == 200
    (sil,) = env.control().silences()
    assert (sil.rule, sil.group, sil.channel) == (det["rule"], det["group"], "desk")
    assert round((sil.ends_at - sil.starts_at).total_seconds()) == 24 * 3600
    said = env.slack.responses[-1]
    assert said["response_type"] == "ephemeral" and sil.id in said["text"] and "Russia" in said["text"]

    # Unsubscribe this channel from the rule
    reply = app.block_action(UNSUBSCRIBE_ACTION, value, message=message, channel_id=DESK)
    assert reply.status == 200
    assert env.control().subscriptions() == []
    assert "Unsubscribed from `treaty-ratified`" in env.slack.responses[-1]["text"]
    assert env.slack.responses[-1]["response_type"] == "ephemeral"
    assert all(r["response_type"] == "ephemeral" for r in env.slack.responses)  # every reply: only the clicker

    # A button value that is not ours is refused politely
    app.block_action(ACK_ACTION, "{not ours", message=message, channel_id=DESK)
    assert "not one of watchfloor's" in env.slack.responses[-1]["text"]


def test_app_mention_answers_in_thread(env: Env, served: Served) -> None:
    reply = slack(env, served).event({"type": "app_mention", "channel": DESK, "user": "U0ALICE001", "ts": "5.5"})
    assert reply.status == 200
    (post,) = env.slack.requests_for("chat.postMessage")
    assert post.body["thread_ts"] == "5.5" and "/watchfloor subscribe" in post.body["text"]


def test_a_mention_that_starts_with_a_command_names_the_slash_command(env: Env, served: Served) -> None:
    # Outside trial 13 (L5): "@watchfloor subscribe …" got the generic help; it is pointed to the slash command.
    before = [s.id for s in env.control().subscriptions()]
    mention = {"type": "app_mention", "channel": DESK, "user": "U0ALICE001", "ts": "7.5"}
    reply = slack(env, served).event({**mention, "text": "<@U00000000> subscribe treaty-ratified"})
    assert reply.status == 200
    (post,) = env.slack.requests_for("chat.postMessage")
    assert post.body["thread_ts"] == "7.5"
    assert "use `/watchfloor subscribe treaty-ratified` in this channel" in post.body["text"]
    assert [s.id for s in env.control().subscriptions()] == before  # pointed to, not run


def test_a_mention_whose_answer_fails_is_one_warning_line(env: Env, served: Served) -> None:
    env.slack.fail_next("chat.postMessage", 200, {"ok": False, "error": "not_in_channel"})
    reply = slack(env, served).event({"type": "app_mention", "channel": DESK, "user": "U0ALICE001", "ts": "6.5"})
    assert reply.status == 200
    wait_for(lambda: len(env.slack.requests_for("chat.postMessage")) == 1)
    time.sleep(0.5)  # the warning is written after the call returns
    stop(served)
    assert served.proc.stderr is not None
    err = served.proc.stderr.read() or ""
    assert "could not answer a mention in" in err and "not_in_channel" in err, err
    assert "Traceback" not in err and "Failed to run listener" not in err, err


# --- the pipeline routes by what was typed, without a restart -----------------------------------------------


def wait_for(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def _live_routing(env: Env, app: SlackRequests) -> None:
    """Subscribe and silence from Slack while the pipeline runs; new documents are then routed by it."""
    ephemeral(app.slash_command("subscribe treaty-ratified", channel_id=DESK, channel_name="desk"))
    ephemeral(app.slash_command("subscribe treaty-signed", channel_id=OTHER, channel_name="elsewhere"))
    ephemeral(app.slash_command("silence treaty-ratified group=RUS for 1d", channel_id=DESK))
    bad = '{"type": "news.article", "title": "a report with no date"}\n'
    env.inbox.write_text(SAMPLES.read_text(encoding="utf-8") + bad, encoding="utf-8")
    wait_for(lambda: len(posted_alerts(env)) >= 2)  # the silence is said in #desk too: alerts are counted

    def deliveries() -> dict[tuple[str, str], str]:
        st = open_store(env.store_url)
        try:
            got = st.read(0, types={EventType.DELIVERY.value}, limit=10_000)
            return {(se.event.payload["alert_id"], se.event.payload["channel"]): se.event.payload for se in got}
        finally:
            st.close()

    wait_for(lambda: len(deliveries()) == 4)
    by_channel = sorted((k[1], v["status"], v["detail"]) for k, v in deliveries().items())
    silenced = [d for d in by_channel if d[1] == "suppressed"]
    assert [d[0] for d in silenced] == ["desk", "desk"]  # both Russian ratifications
    assert all(d[2].startswith("silenced by sil-") for d in silenced)
    assert sorted(d[:2] for d in by_channel if d[1] != "suppressed") == [("desk", "sent"), ("slack:" + OTHER, "sent")]
    posted = sorted(env.slack.channel_id(m["channel"]) for m, _ in posted_alerts(env))
    assert posted == sorted([env.slack.channel_id("#desk"), OTHER])
    # and `alerts list` shows the suppressed alerts
    listed = env.cli("alerts", "list", "--config", str(env.config), "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert sum(1 for r in rows if r["deliveries"].get("desk") == "suppressed") == 2


def metrics(url: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """/metrics parsed with prometheus-client's own parser: sample name -> labels -> value."""
    with urllib.request.urlopen(url + "/metrics", timeout=30) as resp:
        text = resp.read().decode()
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for fam in text_string_to_metric_families(text):
        for sample in fam.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def _metrics_are_fed(env: Env, url: str) -> None:
    """Every metric the issue asks for has what the pipeline did, scraped from this server."""
    src = (("source", "Harbor Ledger"),)
    wait_for(lambda: metrics(url).get("watchfloor_poll_duration_seconds_count"))  # the heartbeat is saved ≤ 1/s
    m = metrics(url)
    assert m["watchfloor_documents_ingested_total"][src] == 6
    assert sum(m["watchfloor_documents_ingested_total"].values()) == 12
    ((labels, n),) = m["watchfloor_dead_letters_total"].items()
    assert n == 1 and dict(labels)["stage"] == "ingest" and dict(labels)["reason"]
    assert m["watchfloor_signals_total"][(("signal", "troop_deployment"),)] == 4
    assert m["watchfloor_detections_total"][(("rule", "treaty-ratified"),)] == 3
    assert m["watchfloor_detections_total"][(("rule", "treaty-signed"),)] == 1
    deliveries = {(dict(k)["channel"], dict(k)["status"]): v for k, v in m["watchfloor_deliveries_total"].items()}
    # (a channel's failed series exists at 0 from its first outcome: increase() cannot see a first sample)
    assert deliveries == {
        ("desk", "suppressed"): 2,
        ("desk", "sent"): 1,
        ("desk", "failed"): 0,
        ("slack:" + OTHER, "sent"): 1,
        ("slack:" + OTHER, "failed"): 0,
    }
    assert m["watchfloor_detection_to_delivery_seconds_count"][()] == 2  # the sent ones
    assert m["watchfloor_detection_to_delivery_seconds_sum"][()] > 0
    polls = m["watchfloor_poll_duration_seconds_count"]
    assert list(polls) == [(("source", str(env.inbox)),)] and polls[(("source", str(env.inbox)),)] >= 1
    assert m["watchfloor_pipeline_cycles_total"][()] >= 1
    with urllib.request.urlopen(url + "/healthz", timeout=30) as resp:
        health = json.loads(resp.read())
    assert (resp.status, health["store"], health["pipeline"]) == (200, "ok", "running")
    assert health["last_cycle_age_seconds"] is not None and health["slack_app"] == "configured"


def test_serve_beside_a_separate_run_on_the_same_store(env: Env, served: Served) -> None:
    pipeline = subprocess.Popen(
        [sys.executable, "-m", "watchfloor", "run", "--config", str(env.config), "--interval", "0.5"],
        env=env.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=env.tmp,
    )
    try:
        _live_routing(env, slack(env, served))
        _metrics_are_fed(env, served.url)
    finally:
        pipeline.terminate()
        pipeline.wait(timeout=30)


def test_run_with_serve_in_one_process(env: Env) -> None:
    both = env.start("run", "--config", str(env.config), "--interval", "0.5", "--serve", "127.0.0.1:0")
    try:
        _live_routing(env, SlackRequests(f"{both.url}/slack/events", SECRET, env.slack))
        _metrics_are_fed(env, both.url)
    finally:
        stop(both)
