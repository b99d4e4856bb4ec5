"""The security review's findings about the Slack app (audit8: 2, 3 and 8), end to end as
tests/integration/test_slack_app.py runs it: `watchfloor serve` in a subprocess, Slack's signed requests, the real
slack-sdk posting to the local Slack-compatible server.

Request bodies are capped before anyone reads them; `/watchfloor unsilence` ends only the silences of the channel
it is typed in; silencing and unsilencing a channel from Slack is said in the channel, not only to whoever did it.
"""

from __future__ import annotations

import io
import json
import socket
import time
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask, request

from tests.fixtures.slack_server import slack_signature
from tests.integration import test_slack_app as base
from tests.integration.test_slack_app import DESK, SECRET, Env, Served, ephemeral, slack, stop
from watchfloor.alerts.slackapp.http import SlackHttpHandler, WatchfloorApp
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


def stderr_of(served: Served) -> str:
    stop(served)
    assert served.proc.stderr is not None
    return served.proc.stderr.read() or ""


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
