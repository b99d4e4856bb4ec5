"""F6b: a click's reply that cannot be posted to its response_url is one warning, not an exception (the click's
action is recorded by then, and Slack must still get its 200)."""

from __future__ import annotations

import contextlib
import logging
import socket

import pytest
from slack_bolt import Respond

from tests.fixtures.connects import connect_timeouts
from tests.fixtures.slack_server import FakeSlack
from watchfloor.alerts.slackapp.app import REPLY_TIMEOUT, _say

DONE = "Silence 24h click on alert a1 (treaty-ratified) handled"


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_reply_is_posted_as_respond_posts_it(slack_server: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    _say(Respond(response_url=slack_server.response_url()), DONE, "Silenced")
    (said,) = slack_server.responses
    assert (said["text"], said["response_type"], said["replace_original"]) == ("Silenced", "ephemeral", False)
    assert warnings(caplog) == []


def test_an_unreachable_response_url_is_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _say(Respond(response_url=f"http://127.0.0.1:{port}/response/x"), DONE, "Silenced")
    (line,) = warnings(caplog)  # slack-sdk's own ERROR lines are not added
    assert line.startswith(f"slack app: {DONE}, but its reply could not be posted to Slack's response_url: URLError")
    assert "Connection refused" in line and "\n" not in line


def test_an_http_error_is_one_warning(slack_server: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    _say(Respond(response_url=slack_server.base_url.removesuffix("/api/") + "/gone"), DONE, "Silenced")
    (line,) = warnings(caplog)
    assert "response_url: HTTP 404" in line and "not_found" in line


def test_a_response_url_that_never_answers_is_given_up_after_reply_timeout(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        with connect_timeouts(port) as timeouts:
            _say(Respond(response_url=f"http://127.0.0.1:{port}/response/x"), DONE, "Silenced")
        # No retry: one connection in the listener's backlog (counted, not timed: `took < REPLY_TIMEOUT + 0.9`
        # fails once a loaded machine adds a second to the one attempt).
        silent.setblocking(False)
        tried = 0
        with contextlib.suppress(BlockingIOError):
            while True:
                silent.accept()[0].close()
                tried += 1
    assert tried == 1, tried
    # Given up after REPLY_TIMEOUT, not slack-sdk's own 30 s: the one socket was made with that timeout (read off
    # the socket as it connected, not timed: `took < 15` failed on a loaded machine), and the timeout ended it.
    assert timeouts == [REPLY_TIMEOUT], timeouts
    (line,) = warnings(caplog)
    assert "timed out" in line.lower(), line


def test_no_response_url(caplog: pytest.LogCaptureFixture) -> None:
    _say(Respond(response_url=None), DONE, "Silenced")
    (line,) = warnings(caplog)
    assert line.endswith("response_url: the click came without a response_url")
