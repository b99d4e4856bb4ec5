"""Trying the Slack side locally (docs/slack.md): the local Slack server run on its own, the signed slash
command sent to an app, a base_url without /api/ named as such, and the start-up check that warns without
holding anything back."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from typer.testing import CliRunner

from tests.fixtures.http_server import QuietHandler, serving
from tests.fixtures.slack_server import DEFAULT_TOKEN, FakeSlack, main
from watchfloor.alerts.notifiers.base import PermanentError
from watchfloor.alerts.notifiers.slack import SlackNotifier
from watchfloor.cli import app

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "tests" / "data" / "events"
HINT = "base_url must be the Web API root, e.g. https://slack.com/api/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def read_until(proc: subprocess.Popen[str], needle: str, timeout: float = 60) -> list[str]:
    """Lines of `proc`'s stdout up to the first containing `needle` (fails when it ends or time runs out)."""
    lines: list[str] = []
    found = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if needle in line:
                found.set()
                return

    threading.Thread(target=reader, daemon=True).start()
    assert found.wait(timeout), f"no {needle!r} from the server: {lines} (exit {proc.poll()})"
    return lines


@contextmanager
def standalone_server() -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """The server as a shell starts it (`python -m tests.fixtures.slack_server`), on a free port, for channel #desk;
    terminated on leaving."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fixtures.slack_server", "--port", str(port), "--channel", "#desk"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_server_runs_standalone_for_slack_sdk_and_prints_what_is_posted() -> None:
    with standalone_server() as (port, proc):
        said = "".join(read_until(proc, "Ctrl-C"))
        base_url = f"http://127.0.0.1:{port}/api/"
        assert f"base_url: {base_url}" in said and DEFAULT_TOKEN in said
        client = WebClient(token=DEFAULT_TOKEN, base_url=base_url, retry_handlers=[])
        assert client.auth_test()["ok"] is True
        assert [c["name"] for c in client.conversations_list()["channels"]] == ["desk"]
        client.chat_postMessage(channel="#desk", text="hello from the test")
        posted = read_until(proc, "hello from the test")[-1]
        assert posted.startswith("chat.postMessage #desk ts=")
    assert proc.returncode is not None


def control(port: int, action: str, query: str = "", verb: str = "POST") -> tuple[int, dict[str, Any]]:
    """What a shell's `curl -X POST 'http://127.0.0.1:PORT/_control/ACTION?QUERY'` gets: (status, JSON body)."""
    url = f"http://127.0.0.1:{port}/_control/{action}" + (f"?{query}" if query else "")
    req = urllib.request.Request(url, method=verb, data=b"" if verb == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_standalone_server_is_made_to_fail_from_outside_through_its_control_endpoint() -> None:
    # Outside trial 69, M4: an operator running the server for a trial could not make it fail (only the in-process
    # tests could, with fail_next / slow_next), so a Slack outage could not be rehearsed against it.
    with standalone_server() as (port, proc):
        read_until(proc, "Ctrl-C")
        client = WebClient(token=DEFAULT_TOKEN, base_url=f"http://127.0.0.1:{port}/api/", retry_handlers=[])
        status, said = control(port, "fail_next", "method=chat.postMessage&status=500&times=2")
        assert status == 200 and said["pending"] == {"chat.postMessage": {"fail": 2}}
        for _ in range(2):
            with pytest.raises(SlackApiError) as failed:
                client.chat_postMessage(channel="#desk", text="into the outage")
            assert failed.value.response.status_code == 500
        assert client.chat_postMessage(channel="#desk", text="after the outage")["ok"] is True
        status, said = control(port, "fail_next", "method=chat.postMessage&status=429&retry_after=7")
        with pytest.raises(SlackApiError) as limited:
            client.chat_postMessage(channel="#desk", text="rate limited")
        assert limited.value.response.status_code == 429 and limited.value.response.headers["Retry-After"] == "7"
        control(port, "fail_next", "method=chat.postMessage&status=200&error=channel_not_found")
        with pytest.raises(SlackApiError, match="channel_not_found"):
            client.chat_postMessage(channel="#desk", text="gone")
        # A bad parameter is refused naming it, and nothing is queued.
        status, said = control(port, "fail_next", "method=chat.postMessage&times=two")
        assert (status, said["error"]) == (400, "times: a whole number, not 'two'")
        status, said = control(port, "fail_next", "status=500")
        assert status == 400 and said["error"].startswith("method: ")
        status, said = control(port, "fail_now", "method=chat.postMessage")
        assert status == 404 and "/_control/fail_next" in said["error"]
        control(port, "slow_next", "method=chat.postMessage&seconds=30")
        assert control(port, "", verb="GET") == (200, {"ok": True, "pending": {"chat.postMessage": {"slow": 1}}})
        assert control(port, "clear") == (200, {"ok": True, "pending": {}})
        assert client.chat_postMessage(channel="#desk", text="at once")["ok"] is True


def test_send_command_signs_a_slash_command_as_slack_does() -> None:
    got: list[tuple[str, dict[str, str], str]] = []

    class App(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            got.append((self.path, dict(self.headers.items()), body))
            payload = b'{"response_type": "ephemeral", "text": "ok"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    with serving(App) as url:
        args = ["send-command", "--url", url, "--secret", "s3cret", "--channel", "#desk", "/watchfloor list"]
        assert main(args) == 0
    [(path, headers, body)] = got
    assert path == "/slack/events"
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    form = {k: v[0] for k, v in parse_qs(body).items()}
    assert (form["command"], form["text"]) == ("/watchfloor", "list")
    assert (form["channel_id"], form["channel_name"]) == (FakeSlack.channel_id("#desk"), "desk")


def test_send_command_in_a_direct_message_keeps_its_id() -> None:
    # Trial 34, M4: docs/slack.md's `send-command --channel D0ALICE01` sent a made-up C… ID, which the app asked
    # Slack about and was told channel_not_found ("Not subscribed: … cannot see this conversation").
    got: list[str] = []

    class App(QuietHandler):
        def do_POST(self) -> None:
            got.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(App) as url:
        assert (
            main(["send-command", "--url", url, "--secret", "s", "--channel", "D0ALICE01", "/watchfloor subscribe *"])
            == 0
        )
    [body] = got
    form = {k: v[0] for k, v in parse_qs(body).items()}
    assert (form["channel_id"], form["channel_name"]) == ("D0ALICE01", "directmessage")


def test_send_mention_signs_an_app_mention_as_slack_does(capsys: pytest.CaptureFixture[str]) -> None:
    # Outside trial 13 (L5): a mention could only be tried by signing an event by hand.
    got: list[tuple[dict[str, str], str]] = []

    class App(QuietHandler):
        def do_POST(self) -> None:
            got.append((dict(self.headers.items()), self.rfile.read(int(self.headers["Content-Length"])).decode()))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(App) as url:
        args = ["send-mention", "--url", url, "--secret", "s3cret", "--channel", "#desk", "subscribe *"]
        assert main(args) == 0
    [(headers, body)] = got
    assert SignatureVerifier("s3cret").is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    callback = json.loads(body)
    assert callback["type"] == "event_callback"
    event = callback["event"]
    assert (event["type"], event["channel"], event["text"]) == (
        "app_mention",
        FakeSlack.channel_id("#desk"),
        "<@U00000000> subscribe *",
    )
    assert "HTTP 200" in capsys.readouterr().out


def test_a_404_from_a_custom_base_url_names_the_url_and_what_base_url_must_be(slack_server: FakeSlack) -> None:
    root = slack_server.base_url.removesuffix("api/")  # the server's root, not its Web API root
    notifier = SlackNotifier("desk", "#desk", slack_server.token, base_url=root)
    with pytest.raises(PermanentError) as raised:
        notifier.check()
    message = raised.value.message
    assert "HTTP 404" in message and HINT in message, message
    assert f"{root}auth.test" in message and repr(root) in message


def test_a_channel_the_check_cannot_find_is_warned_about_and_still_posted_to(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """A channel conversations.list does not show (here a fresh one; in Slack, a private channel without
    groups:read) fails the start-up check, and the same run posts to it: the line says so, and promises no
    holding back."""
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {EVENTS / "treaty_story.jsonl"}}}
channels:
  - {{type: slack, name: desk, channel: "#fresh", token_env: WF_TEST_SLACK, base_url: "{slack_server.base_url}"}}
subscriptions:
  - {{channel: desk, min_severity: high}}
""",
        encoding="utf-8",
    )
    env = {"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": "", "COLUMNS": "400"}
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    said = " ".join(res.output.split())
    assert res.exit_code == 0, said
    assert "channel desk: check failed (its alerts are tried anyway)" in said, said
    assert "not found by conversations.list" in said and "groups:read" in said
    assert "wait in the delivery ledger" not in said and "cannot deliver" not in said
    assert slack_server.messages and {m["channel"] for m in slack_server.messages} == {"#fresh"}
    assert re.search(r"deliveries to desk: [1-9]\d* sent, 0 outstanding", said), said


def test_the_server_subprocess_stops_on_sigterm() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fixtures.slack_server", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        read_until(proc, "Ctrl-C")
        proc.terminate()
        # 0, not -15: its own handler stopped it (without one, SIGTERM kills it; a handler that did not end the loop
        # would leave it running past the timeout). No bound on how long it took: a loaded machine sets that.
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_click_with_no_slack_server_where_it_looks_says_where(capsys: pytest.CaptureFixture[str]) -> None:
    """Outside trial 9, F7: `click` against a local Slack server on another port ended in a bare URLError
    traceback; it says where it looked and that --slack-url sets it."""
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    slack_url = f"http://127.0.0.1:{port}"
    args = ["click", "--url", "http://127.0.0.1:9", "--secret", "s", "--slack-url", slack_url, "ack"]
    assert main(args) == 1
    said = capsys.readouterr().err
    assert said.startswith(f"the local Slack server at {slack_url} cannot be read (") and "--slack-url" in said


def test_click_takes_the_slack_server_as_the_config_names_it(
    slack_server: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    """Outside trial 14, L1: `--slack-url` given the config's base_url form (`…/api/`) said the server "cannot be
    read (Not Found)"; it is read as the root is."""
    args = ["click", "--url", "http://127.0.0.1:9", "--secret", "s", "--slack-url", slack_server.base_url, "ack"]
    assert slack_server.base_url.endswith("/api/")
    slack_server.channels = {"#desk"}
    assert main(args) == 1  # nothing posted yet: no message to click
    said = capsys.readouterr().err
    assert said.startswith("no message in #desk with a ack button"), said


def test_click_presses_a_threads_reply_button_as_the_user_given(
    slack_server: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    """Outside trial 30, F8: `click` read the channel's top-level messages only, so a reply's button (a follow-up, a
    revision) could not be pressed; and `--user U0BOB0001` clicked as "alice"."""
    got: list[dict[str, object]] = []

    class App(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            got.append(json.loads(parse_qs(body)["payload"][0]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def buttons(value: str) -> list[dict[str, object]]:
        ack = {"type": "button", "action_id": "wf_ack", "value": value, "text": {"type": "plain_text", "text": "Ack"}}
        return [{"type": "actions", "block_id": "wf_actions", "elements": [ack]}]

    client = WebClient(token=slack_server.token, base_url=slack_server.base_url)
    first = client.chat_postMessage(channel="#desk", text="alert", blocks=buttons("first"))
    client.chat_postMessage(channel="#desk", text="update", thread_ts=first["ts"], blocks=buttons("reply"))
    with serving(App) as url:
        common = ["--url", url, "--secret", "s", "--slack-url", slack_server.base_url, "--user", "U0BOB0001", "ack"]
        assert main(["click", *common]) == 0
        assert "(a reply in the thread of" in capsys.readouterr().out
        assert main(["click", *common[:-1], "--ts", first["ts"], "ack"]) == 0
        # the thread's own first message is no reply in its thread (outside trial 64, LOW-4)
        said = capsys.readouterr().out
        assert f"ts={first['ts']}" in said and "a reply in the thread" not in said, said
    assert [p["actions"][0]["value"] for p in got] == ["reply", "first"]  # type: ignore[index]
    assert {(p["user"]["id"], p["user"]["name"]) for p in got} == {("U0BOB0001", "bob")}  # type: ignore[index]
