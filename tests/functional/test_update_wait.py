"""A channel's `update_wait` as a timeline, on a real SQLite store, through the real slack-sdk to the local
Slack-compatible server: a thread's first message goes at once; a reply in it is held `update_wait`, bounded by the
OLDEST reply of the thread still pending (no starvation); 0, or `run --once` (hold_replies off), sends at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import RETRY, Clock, slack
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.schemas.config import AppConfig, Subscription
from watchfloor.schemas.events import Detection, Event, Retraction, detection_event, retraction_event
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional

T0 = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
SUBS = [Subscription(channel="desk")]
W = {"desk": 30.0}


def raised(n: int, at: timedelta) -> Event:
    """Detection `n` of the one story (group R1), raised at T0 + `at`."""
    det = Detection(
        id=f"det{n:04d}",
        rule="troops-in-combat",
        title=f"Troops said to be in combat (#{n})",
        severity="high",
        tags=("dprk",),
        group={"front": "R1"},
        fired_at=T0 + at,
    )
    return detection_event(det).model_copy(update={"received_at": T0 + at})


def run(tmp_path: Path, server: FakeSlack, waits: dict[str, float], *, hold: bool = True) -> list[int]:
    """The timeline; how many messages the channel has after each step."""
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    clock = Clock(T0)
    d = AlertDispatcher(store, {"desk": slack(server, name="desk")}, SUBS, RETRY, now=clock, update_waits=waits)
    d.deliverer.hold_replies = hold
    counts: list[int] = []

    def at(when: timedelta, *events: Event) -> None:
        clock.at = T0 + when
        if events:
            store.append(list(events))
        d.cycle()
        counts.append(len(server.messages))

    at(timedelta(minutes=1), raised(1, timedelta(minutes=1)))  # the first message: never held
    at(timedelta(minutes=20), raised(2, timedelta(minutes=20)))  # a reply: held 30 s
    at(timedelta(minutes=20, seconds=20), raised(3, timedelta(minutes=20, seconds=20)))  # another, still held
    at(timedelta(minutes=20, seconds=29))  # 29 s after the oldest: both still held
    at(timedelta(minutes=20, seconds=31))  # 30 s after the OLDEST: out, though the newest is 11 s old
    if waits:
        row = store.deliveries(alert_ids={"det0003"}, channel="desk")[0]
        assert row.status == "sent", (row, counts)
    store.close()
    return counts


def test_replies_wait_for_the_oldest_pending_reply_of_their_thread(tmp_path: Path, slack_server: FakeSlack) -> None:
    counts = run(tmp_path, slack_server, {"desk": 30.0})
    assert counts[0] == 1  # the first message at once
    assert counts[1:4] == [1, 1, 1]  # replies held
    assert counts[4] == 3  # both replies out at the oldest one's 30 s (no starvation)
    assert all(m.get("thread_ts") for m in slack_server.messages[1:])


def test_update_wait_zero_sends_replies_at_once(tmp_path: Path, slack_server: FakeSlack) -> None:
    assert run(tmp_path, slack_server, {}) == [1, 2, 3, 3, 3]


def test_once_does_not_hold_replies(tmp_path: Path, slack_server: FakeSlack) -> None:
    assert run(tmp_path, slack_server, {"desk": 30.0}, hold=False) == [1, 2, 3, 3, 3]


def test_update_wait_is_typed_and_bounded() -> None:
    base = {"store": "sqlite:///x.db", "rules": []}
    cfg = AppConfig.model_validate({**base, "channels": [{"type": "slack", "name": "d", "channel": "#d"}]})
    assert cfg.channels[0].update_wait == timedelta(0)  # opt-in: today's behaviour unless set
    cfg = AppConfig.model_validate({**base, "channels": [{"type": "file", "name": "a", "path": "a.jsonl"}]})
    assert cfg.channels[0].update_wait == timedelta(0)  # a log: at once
    with pytest.raises(ValueError, match="update_wait"):
        AppConfig.model_validate({**base, "channels": [{"type": "console", "name": "c", "update_wait": "1h"}]})


def test_two_dispatchers_on_one_store_post_each_reply_once(tmp_path: Path, slack_server: FakeSlack) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    clock = Clock(T0)
    ds = [
        AlertDispatcher(store, {"desk": slack(slack_server, name="desk")}, SUBS, RETRY, now=clock, update_waits=W)
        for _ in range(2)
    ]
    steps = [
        (timedelta(minutes=1), [raised(1, timedelta(minutes=1))]),
        (timedelta(minutes=20), [raised(2, timedelta(minutes=20))]),
        (timedelta(minutes=20, seconds=20), [raised(3, timedelta(minutes=20, seconds=20))]),
        (timedelta(minutes=20, seconds=31), []),
        (timedelta(minutes=21), []),
    ]
    for i, (when, events) in enumerate(steps):
        clock.at = T0 + when
        if events:
            store.append(events)
        ds[i % 2].cycle()
        ds[(i + 1) % 2].cycle()
    assert len(slack_server.messages) == 3  # the first message and two replies, each once
    store.close()


def test_a_withdrawal_is_not_held_and_not_lost_behind_a_held_reply(tmp_path: Path, slack_server: FakeSlack) -> None:
    """The story's follow-up is held; its withdrawal comes meanwhile: the follow-up was never sent, so neither it nor
    its withdrawal is (recorded "withdrawn before it was sent", counted in the cycle line); the withdrawal itself is
    never held, and nothing waits behind it."""
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    clock = Clock(T0)
    d = AlertDispatcher(store, {"desk": slack(slack_server, name="desk")}, SUBS, RETRY, now=clock, update_waits=W)
    clock.at = T0 + timedelta(minutes=1)
    store.append([raised(1, timedelta(minutes=1))])
    d.cycle()
    clock.at = T0 + timedelta(minutes=20)
    store.append([raised(2, timedelta(minutes=20))])
    d.cycle()
    assert len(slack_server.messages) == 1  # held
    clock.at = T0 + timedelta(minutes=20, seconds=10)
    gone = Retraction(
        alert_id="det0002",
        rule="troops-in-combat",
        group={"front": "R1"},
        reason="report corrected",
        revision=1,
        at=T0 + timedelta(minutes=20, seconds=10),
    )
    store.append([retraction_event(gone)])
    d.cycle()
    clock.at = T0 + timedelta(minutes=20, seconds=31)
    d.cycle()
    clock.at = T0 + timedelta(minutes=25)
    d.cycle()
    rows = {r.alert_id: r for r in store.deliveries(channel="desk")}
    statuses = sorted((r.kind, r.status) for r in rows.values())
    assert statuses == [("alert", "sent"), ("followup", "suppressed"), ("retraction", "suppressed")], statuses
    assert rows["det0002"].detail.startswith("withdrawn before it was sent")
    assert len(slack_server.messages) == 1  # the first message only: the withdrawn follow-up was never told
    store.close()
