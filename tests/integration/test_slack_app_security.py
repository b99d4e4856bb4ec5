"""The security review's findings about the Slack app (audit8: 2, 3 and 8), end to end as
tests/integration/test_slack_app.py runs it: `watchfloor serve` in a subprocess, Slack's signed requests, the real
slack-sdk posting to the local Slack-compatible server.

Request bodies are capped before anyone reads them; `/watchfloor unsilence` ends only the silences of the channel
it is typed in; silencing and unsilencing a channel from Slack is said in the channel, not only to whoever did it.
"""

from __future__ import annotations

import io
import json
import re
import socket
import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask, request

from tests.fixtures.blockkit import readable
from tests.fixtures.slack_server import slack_signature
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
    stderr_of,
    stop,
)
from watchfloor.alerts.slackapp.buttons import SILENCE_ACTION
from watchfloor.alerts.slackapp.http import SlackHttpHandler, WatchfloorApp
from watchfloor.schemas.control import Actor
from watchfloor.stream_processors.stores import open_store
from watchfloor.web.server import MAX_BODY_BYTES

pytestmark = pytest.mark.integration

env = base.env  # the fixtures of test_slack_app: a config, a store, the local Slack, `watchfloor serve`
served = base.served


def head_only(url: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST `path` with `headers` (a Content-Length among them) and no body at all: the answer the server gives on
    the headers alone. (A server that waits for the body never answers: the socket's timeout fails the test.)"""
    parts = urlsplit(url)
    lines = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall("\r\n".join(lines).encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            got = sock.recv(65536)
            if not got:
                break
            answer += got
    status_line = answer.split(b"\r\n", 1)[0]
    return int(status_line.split()[1]), answer


# --- finding 2: request bodies are capped, and an unsigned body is never read --------------------------------


def test_bodies_over_the_cap_get_413_on_their_headers_and_signed_commands_still_work(env: Env) -> None:
    served = env.start("serve", "--config", str(env.config), "--port", "0")
    app = slack(env, served)
    ts = str(int(time.time()))
    declared = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": str(400 * 1024 * 1024),  # the review's 400 MB, declared and never sent
    }
    signed_looking = {**declared, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + "0" * 64}
    for path, headers in (("/slack/events", declared), ("/slack/events", signed_looking), ("/", declared)):
        status, answer = head_only(served.url, path, headers)
        assert status == 413, (path, answer[:300])
    # one byte over the cap is refused the same way
    status, _ = head_only(served.url, "/slack/events", {**declared, "Content-Length": str(MAX_BODY_BYTES + 1)})
    assert status == 413

    # the server still answers, and a body of exactly the cap, signed, is a command like any other
    assert ephemeral(app.slash_command("help")).startswith("*watchfloor*")
    form = urlencode({"command": "/watchfloor", "text": "help", "channel_id": DESK, "user_id": "U0ALICE001"})
    body = form + "&pad=" + "x" * (MAX_BODY_BYTES - len(form) - len("&pad="))
    assert len(body.encode()) == MAX_BODY_BYTES
    reply = app.post(body, "application/x-www-form-urlencoded")
    assert reply.status == 200 and json.loads(reply.body)["text"].startswith("*watchfloor*"), reply.body[:300]

    # the app's handler never saw the refused requests: it logs every request it refuses, and logged none
    log = stderr_of(served)
    assert "refused a request" not in log, log[-2000:]
    assert "Traceback" not in log


def test_a_request_without_slacks_signature_headers_is_refused_before_its_body_is_read() -> None:
    """The handler itself, on a Flask request over a real input stream: without the two headers (or with a stale
    timestamp) the stream is never read; a request that may be signed is read, to check its signature."""

    bolt = WatchfloorApp(signing_secret=SECRET, token="xoxb-unused", token_verification_enabled=False)
    handler = SlackHttpHandler(bolt)
    flask_app = Flask(__name__)
    body = b"payload={{{"  # signed, it gets as far as parsing (400): not a body Slack sends
    now = int(time.time())
    cases = [
        ({}, 401, 0),  # neither header
        ({"X-Slack-Signature": slack_signature(SECRET, str(now), body.decode())}, 401, 0),  # no timestamp
        (
            {
                "X-Slack-Request-Timestamp": str(now - 600),
                "X-Slack-Signature": slack_signature(SECRET, str(now - 600), body.decode()),
            },
            401,
            0,
        ),
        ({"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v0=" + "0" * 64}, 401, len(body)),  # wrong
        (
            {
                "X-Slack-Request-Timestamp": str(now),
                "X-Slack-Signature": slack_signature(SECRET, str(now), "payload={{{"),
            },
            400,
            len(body),
        ),
    ]
    for headers, status, read in cases:
        stream = io.BytesIO(body)
        with flask_app.test_request_context(
            "/slack/events",
            method="POST",
            input_stream=stream,
            content_length=len(body),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        ):
            resp = handler.handle(request)
        assert (resp.status_code, stream.tell()) == (status, read), headers


# --- finding 3: unsilence ends only this channel's silences; finding 8: silencing is said in the channel -------

ONCALL = Actor(via="cli", user=None, name="oncall")
MALLORY = {"channel_id": OTHER, "channel_name": "elsewhere", "user_id": "U0MALLORY1", "user_name": "mallory"}


def said_in(env: Env, channel: str) -> list[str]:
    """The text of what was posted in `channel` (a Slack id), oldest first."""
    return [str(m["text"]) for m in env.slack.messages if env.slack.channel_id(m["channel"]) == channel]


def sil_id(text: str) -> str:
    found = re.search(r"`(sil-[0-9a-f]+)`", text)
    assert found is not None, text
    return found.group(1)


def test_unsilence_from_slack_ends_only_the_silences_of_the_channel_it_is_typed_in(env: Env, served: Served) -> None:
    app = slack(env, served)
    control = env.control()
    # an operator's silence for every channel, and one of #desk only, both from the CLI
    everywhere = control.silence("*", duration=timedelta(weeks=1), by=ONCALL, reason="ops: global maintenance hold")
    desk_only = control.silence(
        "treaty-signed", duration=timedelta(weeks=1), by=ONCALL, channel="desk", reason="desk-only hold"
    )
    # and one typed in #elsewhere
    mine = sil_id(ephemeral(app.slash_command("silence treaty-ratified for 2h quiet please", **MALLORY)))

    listed = ephemeral(app.slash_command("silences", **MALLORY))
    # the operator's silence holds #elsewhere's alerts back too: listed, marked, and how it ends said
    line = next(line for line in listed.splitlines() if everywhere.id in line)
    assert "*all channels*" in line and f"`watchfloor silences remove {everywhere.id}`" in line and "not Slack" in line
    assert mine in listed and desk_only.id not in listed
    before = len(env.slack.messages)

    refused = ephemeral(app.slash_command(f"unsilence {everywhere.id}", **MALLORY))
    assert refused.startswith(":no_entry:") and "set for all channels" in refused, refused
    assert f"`watchfloor silences remove {everywhere.id}`" in refused
    refused = ephemeral(app.slash_command(f"unsilence {desk_only.id}", **MALLORY))
    assert refused.startswith(":no_entry:") and "a silence of another channel" in refused, refused
    assert "only from that channel" in refused and f"`watchfloor silences remove {desk_only.id}`" in refused
    assert "desk-only hold" not in refused and "treaty-signed" not in refused  # nothing said of the other channel's
    # neither ended, nothing recorded, nothing said in any channel
    assert {s.id for s in env.control().silences()} == {everywhere.id, desk_only.id, mine}
    assert len(env.slack.messages) == before

    # from #desk, #desk's own silence ends, and #desk is told; the operator's still cannot be ended there
    refused = ephemeral(app.slash_command(f"unsilence {everywhere.id}", channel_id=DESK, channel_name="desk"))
    assert "set for all channels" in refused
    ended = ephemeral(app.slash_command(f"unsilence {desk_only.id}", channel_id=DESK, channel_name="desk"))
    assert ended.startswith(":loud_sound: Ended silence") and ":warning:" not in ended, ended
    assert said_in(env, DESK) == [
        f":loud_sound: <@U0ALICE001> ended silence `{desk_only.id}` (`treaty-signed`) in this channel: its alerts are "
        "sent here again."
    ]
    # #elsewhere ends its own
    assert ephemeral(app.slash_command(f"unsilence {mine}", **MALLORY)).startswith(":loud_sound: Ended silence")
    assert {s.id for s in env.control().silences()} == {everywhere.id}
    expired = [se.event.payload["id"] for se in open_store(env.store_url).read(0, types={"silence.expired"})]
    assert expired == [desk_only.id, mine]


def test_a_silence_from_slack_is_said_in_the_channel_for_everyone(env: Env, served: Served) -> None:
    app = slack(env, served)
    reply = ephemeral(app.slash_command("silence treaty-ratified group=Russia for 2h Duma <noise>", **MALLORY))
    sid = sil_id(reply)
    (sil,) = env.control().silences()
    until = f"{sil.ends_at:%Y-%m-%d %H:%M} UTC"
    (post,) = env.slack.requests_for("chat.postMessage")
    assert post.body["channel"] == OTHER and post.body["parse"] == "none"
    assert [readable(t) for t in said_in(env, OTHER)] == [  # (the time's date token read as its fallback)
        f":mute: <@U0MALLORY1> silenced `treaty-ratified` (Russia) in this channel for 2h, until {until}: "
        f"“Duma &lt;noise&gt;”. (`{sid}`; `/watchfloor unsilence {sid}` ends it)"
    ]
    # without a reason, it says so
    ephemeral(app.slash_command("silence treaty-signed for 30m", **MALLORY))
    assert said_in(env, OTHER)[-1].startswith(":mute: <@U0MALLORY1> silenced `treaty-signed` in this channel for 30m")
    assert "(no reason given)" in said_in(env, OTHER)[-1]

    # a channel the bot cannot post in: the silence holds, and whoever set it is told nobody else was
    env.slack.not_member.add(DESK)
    reply = ephemeral(app.slash_command("silence treaty-signed for 1h", channel_id=DESK, channel_name="desk"))
    assert reply.startswith(":mute: Silenced `treaty-signed` in this channel for 1h"), reply
    assert "could not be posted in the channel for everyone (Slack: not_in_channel)" in reply
    assert len(env.control().silences()) == 3 and said_in(env, DESK) == []


def test_the_silence_button_is_said_in_the_channel(env: Env, served: Served) -> None:
    app = slack(env, served)
    ephemeral(app.slash_command("subscribe treaty-ratified", channel_id=DESK, channel_name="desk"))
    run_pipeline(env)
    message, alert, value = first_alert_buttons(env)
    det = alert["detection"]
    alerts = len(env.slack.messages)

    assert app.block_action(SILENCE_ACTION, value, message=message, channel_id=DESK, user_id="U0BOB00001").status == 200
    (sil,) = env.control().silences()
    assert sil.id in env.slack.responses[-1]["text"]  # the clicker's own reply, as before
    (said,) = [str(m["text"]) for m in env.slack.messages[alerts:]]
    assert said.startswith(f":mute: <@U0BOB00001> silenced `{det['rule']}` (")
    assert "in this channel for 24h" in said and "*Silence 24h* button" in said and sil.id in said
    # clicked again while it holds: nothing new to say in the channel
    assert app.block_action(SILENCE_ACTION, value, message=message, channel_id=DESK).status == 200
    assert "already silenced" in env.slack.responses[-1]["text"]
    assert len(env.slack.messages) == alerts + 1


# --- finding 5: an optional admin token for the status page and /metrics --------------------------------------

ADMIN = "made-up-admin-token-0123456789"


def get(url: str, token: str | None = None) -> tuple[int, str, str]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers.get("WWW-Authenticate", ""), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("WWW-Authenticate", ""), e.read().decode()


def test_with_an_admin_token_the_page_and_metrics_need_it_and_healthz_says_only_its_verdict(env: Env) -> None:
    env.config.write_text(
        env.config.read_text(encoding="utf-8") + "serve: {admin_token_env: WF_TEST_ADMIN}\n", encoding="utf-8"
    )
    # named but not set: serve refuses to start rather than leave the pages open
    refused = env.cli("serve", "--config", str(env.config), "--port", "0")
    assert refused.returncode != 0 and "WF_TEST_ADMIN, which is not set" in refused.stderr, refused.stderr
    env.env["WF_TEST_ADMIN"] = ADMIN
    served = env.start("serve", "--config", str(env.config), "--port", "0")
    try:
        for path in ("/", "/metrics"):
            for token in (None, "wrong", ADMIN[:-1]):
                status, challenge, body = get(served.url + path, token)
                assert (status, challenge) == (401, 'Bearer realm="watchfloor"'), (path, token, status)
                assert "watchfloor_" not in body and "<html" not in body.lower()
        status, _, page = get(served.url + "/", ADMIN)
        assert status == 200 and "<html" in page.lower()
        status, _, metrics = get(served.url + "/metrics", ADMIN)
        assert status == 200 and "watchfloor_log_head" in metrics

        # /healthz answers probes without a header, with its verdict and nothing else
        status, _, bare = get(served.url + "/healthz")
        assert status == 200 and json.loads(bare) == {"status": "ok"}
        status, _, full = get(served.url + "/healthz", ADMIN)
        assert status == 200 and {"status", "store", "slack_app", "sources_failing"} <= set(json.loads(full))

        # Slack's requests need no admin token: they are signed
        assert ephemeral(slack(env, served).slash_command("help")).startswith("*watchfloor*")
    finally:
        stop(served)


# --- trial 16, L1: a signed request is taken once -------------------------------------------------------------


def test_a_signed_command_sent_again_within_its_five_minutes_is_refused_as_a_replay(env: Env, served: Served) -> None:
    """The same signed bytes again (a replay by whoever saw them) would silence the rule a second time: refused
    with 401 by the app, while the same command typed again (new bytes, new signature) is served."""
    app = slack(env, served)  # the fixture's server: stopped even when an assertion fails
    form = urlencode(
        {"command": "/watchfloor", "text": "silence treaty-signed for 1h", "channel_id": DESK, "user_id": "U0ALICE001"}
    )
    ts = int(time.time())
    first = app.post(form, "application/x-www-form-urlencoded", timestamp=ts)
    assert first.status == 200 and "Silenced" in json.loads(first.body)["text"], first.body[:300]
    assert len(env.control().silences()) == 1
    replay = app.post(form, "application/x-www-form-urlencoded", timestamp=ts)
    assert replay.status == 401, replay.body[:300]
    assert len(env.control().silences()) == 1
    # typed again: other bytes (Slack's timestamp and trigger id differ), so it is served
    again = app.post(form, "application/x-www-form-urlencoded", timestamp=ts - 1)
    assert again.status == 200, again.body[:300]
    assert len(env.control().silences()) == 2
    log = stderr_of(served)
    assert "a replay of one taken before" in log, log[-2000:]
    assert "Traceback" not in log


def test_a_replay_is_refused_after_serve_restarts_and_by_another_serve_on_the_store(env: Env) -> None:
    """Trial MED-1: the signatures taken were kept in the process only, so the same signed command sent again after
    `serve` restarted (still within its 5 minutes) made a second silence and a second notice in the channel. The
    request taken is now claimed in the store: a restarted `serve`, and a second `serve` on the store, refuse it."""
    form = urlencode(
        {"command": "/watchfloor", "text": "silence treaty-signed for 1h", "channel_id": DESK, "user_id": "U0ALICE001"}
    )
    ts = int(time.time())
    first = env.start("serve", "--config", str(env.config), "--port", "0")
    other = env.start("serve", "--config", str(env.config), "--port", "0")
    try:
        taken = slack(env, first).post(form, "application/x-www-form-urlencoded", timestamp=ts)
        assert taken.status == 200 and "Silenced" in json.loads(taken.body)["text"], taken.body[:300]
        notices = len(said_in(env, DESK))
        # another `serve` process behind the same URL, on the same store
        elsewhere = slack(env, other).post(form, "application/x-www-form-urlencoded", timestamp=ts)
        assert elsewhere.status == 401, elsewhere.body[:300]
    finally:
        log = stderr_of(first)
        other_log = stderr_of(other)
    assert "a replay of one taken before" in other_log, other_log[-2000:]
    restarted = env.start("serve", "--config", str(env.config), "--port", "0")
    try:
        replay = slack(env, restarted).post(form, "application/x-www-form-urlencoded", timestamp=ts)
        assert replay.status == 401, replay.body[:300]
        # typed again (other bytes): served as ever
        again = slack(env, restarted).post(form, "application/x-www-form-urlencoded", timestamp=ts - 1)
        assert again.status == 200, again.body[:300]
    finally:
        restarted_log = stderr_of(restarted)
    assert len(env.control().silences()) == 2
    assert len(said_in(env, DESK)) == notices + 1  # the replays posted no notice; the command again did
    assert "a replay of one taken before" in restarted_log, restarted_log[-2000:]
    assert "Traceback" not in log + other_log + restarted_log


def test_a_replayed_command_is_refused_even_when_it_claims_to_be_a_slack_retry(env: Env, served: Served) -> None:
    """X-Slack-Retry-Num is not signed: whoever replays a command can add it. Slack retries only Events API events
    (whose event id the app answers once); a command or a click carrying it is checked for a replay as any other."""
    slack(env, served)  # the fixture's server: stopped even when an assertion fails
    form = urlencode(
        {"command": "/watchfloor", "text": "silence treaty-signed for 1h", "channel_id": DESK, "user_id": "U0ALICE001"}
    )
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack_signature(SECRET, ts, form),
    }
    url = f"{served.url}/slack/events"
    first = urllib.request.Request(url, data=form.encode(), headers=headers, method="POST")
    with urllib.request.urlopen(first, timeout=30) as resp:
        assert resp.status == 200
    assert len(env.control().silences()) == 1
    retry = {**headers, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    replay = urllib.request.Request(url, data=form.encode(), headers=retry, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(replay, timeout=30)
    assert refused.value.code == 401
    assert len(env.control().silences()) == 1
    assert "a replay of one taken before" in stderr_of(served)


def test_a_request_the_store_cannot_take_is_503_and_may_come_again() -> None:
    """The replay guard is the store's (trial MED-1): when the store cannot take the request, nothing it asks could
    be kept, so it is refused with 503 before Bolt sees it; the same bytes again, once the store answers, are taken
    (not refused as a replay of a request that was never taken)."""
    bolt = WatchfloorApp(signing_secret=SECRET, token="xoxb-unused", token_verification_enabled=False)
    claims: list[str] = []

    def claim(digest: str) -> bool:
        claims.append(digest)
        if len(claims) == 1:
            raise OSError("database is locked")
        return True

    handler = SlackHttpHandler(bolt, claim=claim)
    flask_app = Flask(__name__)
    body = "payload={{{"  # taken, it gets as far as parsing (400)
    ts = str(int(time.time()))
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slack_signature(SECRET, ts, body)}
    statuses = []
    for _ in range(2):
        with flask_app.test_request_context(
            "/slack/events", method="POST", data=body, content_type="application/x-www-form-urlencoded", headers=headers
        ):
            statuses.append(handler.handle(request).status_code)
    assert statuses == [503, 400]
    assert len(set(claims)) == 1 and headers["X-Slack-Signature"] not in claims  # a digest, not the signature
