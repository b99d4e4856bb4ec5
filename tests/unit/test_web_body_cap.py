"""The server's body cap in Flask itself (MAX_CONTENT_LENGTH), for when the app runs under another WSGI server than
waitress, whose own cap answers first under `watchfloor serve` (tests/integration/test_slack_app_security.py)."""

from __future__ import annotations

import io
import time

from tests.fixtures.slack_server import slack_signature
from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.slackapp.commands import AppContext
from watchfloor.alerts.slackapp.http import WatchfloorApp
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.web.server import MAX_BODY_BYTES, Services, create_app

SECRET = "unit-test-secret"


def test_flask_refuses_a_signed_looking_body_over_the_cap_with_413() -> None:
    store = MemoryStore()
    control = ControlLog(store)
    slack_app = WatchfloorApp(signing_secret=SECRET, token="xoxb-unused", token_verification_enabled=False)
    services = Services(
        store=store, control=control, context=AppContext(control=control, rules={}), slack_app=slack_app
    )
    client = create_app(services).test_client()
    for size, status in ((MAX_BODY_BYTES + 1, 413), (MAX_BODY_BYTES, 401)):  # at the cap: read, and a wrong signature
        ts = str(int(time.time()))
        headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slack_signature(SECRET, ts, "other")}
        got = client.post("/slack/events", input_stream=io.BytesIO(b"x" * size), content_length=size, headers=headers)
        assert got.status_code == status, (size, got.json)
    got = client.post("/slack/events", input_stream=io.BytesIO(b"x" * (MAX_BODY_BYTES + 1)), headers=headers)
    assert got.json == {"error": f"request body over {MAX_BODY_BYTES} bytes"}
