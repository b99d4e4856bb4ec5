"""`worker --dispatch`: the worker's delivery timer (the notify agent's `deliver_on_time` task, over the real
detection sink, a SQLite store, the alert dispatcher the worker builds and the local Slack-compatible server)
retries an outstanding delivery when it falls due with no new detection arriving, tries at once at start what
an earlier process left outstanding, and sends a digest whose time has come. The Faust app only schedules this
task (`app.task`); the Kafka path in front of it is tested in the distributed suites."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import detection
from watchfloor.alerts.control import ControlLog
from watchfloor.schemas.config import AppConfig
from watchfloor.schemas.control import Actor
from watchfloor.schemas.events import detection_event
from watchfloor.stream_processors.kafka.agents import Notify
from watchfloor.stream_processors.kafka.sink import StoreSink
from watchfloor.wiring import dispatcher_factory, open_store

pytestmark = pytest.mark.integration


def config(tmp_path: Path, server: FakeSlack, **retry: str) -> AppConfig:
    return AppConfig.model_validate(
        {
            "store": f"sqlite:///{tmp_path / 'wf.db'}",
            "rules": [],
            "channels": [
                {
                    "type": "slack",
                    "name": "desk",
                    "channel": "#desk",
                    "token_env": "WF_BOT",
                    "base_url": server.base_url,
                }
            ],
            "subscriptions": [{"channel": "desk"}],
            "retry": {"backoff": "1s", "max_backoff": "2s", **retry},
        }
    )


def sink_for(cfg: AppConfig, server: FakeSlack) -> StoreSink:
    return StoreSink(lambda: open_store(cfg.store), dispatcher_factory(cfg, env={"WF_BOT": server.token}))


async def until(done: Callable[[], bool], notify: Notify, seconds: float = 60.0) -> None:
    """Run the delivery timer until `done()` (a bound, not a timing assertion), then stop it."""
    task = asyncio.create_task(notify.deliver_on_time())
    try:
        for _ in range(int(seconds / 0.05)):
            if done():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the timer did not deliver it")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_an_outstanding_delivery_is_retried_with_no_new_detection(tmp_path: Path, slack_server: FakeSlack) -> None:
    slack_server.channels = {"#desk"}
    slack_server.fail_next("chat.postMessage", status=200, body={"ok": False, "error": "ratelimited"}, times=3)
    cfg = config(tmp_path, slack_server)
    sink = sink_for(cfg, slack_server)
    notify = Notify(sink, outputs=None, batch_within=0.0)  # type: ignore[arg-type]  # the timer sends nothing
    assert notify.delivers
    try:
        det = detection(1)
        sink.write([detection_event(det)])  # what the notify agent does with a batch: the first attempt fails
        assert slack_server.messages_for(det.id) == []
        asyncio.run(until(lambda: bool(slack_server.messages_for(det.id)), notify))
    finally:
        sink.close()
    assert len(slack_server.messages_for(det.id)) == 1
    assert len(slack_server.requests_for("chat.postMessage")) == 4  # 3 refused, then sent: on the backoff


def test_a_new_worker_tries_at_once_what_another_left_outstanding(tmp_path: Path, slack_server: FakeSlack) -> None:
    slack_server.channels = {"#desk"}
    slack_server.fail_next("chat.postMessage", status=503)
    cfg = config(tmp_path, slack_server, backoff="1h", max_backoff="1h")
    first = sink_for(cfg, slack_server)
    det = detection(1)
    try:
        first.write([detection_event(det)])  # fails; its next attempt is an hour away
        assert first.deliver_due() == pytest.approx(3600, abs=5)
    finally:
        first.close()
    restarted = sink_for(cfg, slack_server)
    try:
        notify = Notify(restarted, outputs=None, batch_within=0.0)  # type: ignore[arg-type]
        asyncio.run(until(lambda: bool(slack_server.messages_for(det.id)), notify))
    finally:
        restarted.close()
    assert len(slack_server.messages_for(det.id)) == 1


def test_the_timer_sends_a_digest_when_its_time_comes(tmp_path: Path, slack_server: FakeSlack) -> None:
    slack_server.channels = {"#desk"}
    cfg = config(tmp_path, slack_server)
    now = datetime.now(UTC)
    due = now - timedelta(hours=3)
    st = open_store(cfg.store)
    try:
        control = ControlLog(st, now=lambda: now - timedelta(days=2))
        control.subscribe("desk", digest=f"daily {due.hour:02d}:{due.minute:02d} UTC", by=Actor(via="cli"))
        st.append([detection_event(detection(1))])
    finally:
        st.close()
    sink = sink_for(cfg, slack_server)
    try:
        notify = Notify(sink, outputs=None, batch_within=0.0)  # type: ignore[arg-type]

        def digests() -> list[dict[str, object]]:
            return [
                m for m in slack_server.messages if (m.get("metadata") or {}).get("event_type") == "watchfloor_digest"
            ]

        asyncio.run(until(lambda: bool(digests()), notify))
    finally:
        sink.close()
    assert len(digests()) == 1
