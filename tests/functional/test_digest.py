"""Digests on an injected clock: due at the scheduled local time, once per slot, listing what is new since the
previous one; delivered once under a deterministic digest id; through the real slack-sdk to the local server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.fixtures.slack_server import FakeSlack
from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.digest import Digest, DigestRunner, SlackDigestSender
from watchfloor.schemas.control import Actor, ControlType, DigestSent
from watchfloor.schemas.events import Detection, detection_event, stable_id
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional

ALICE = Actor(via="slack", user="U0ALICE", name="alice")
MONDAY_7 = datetime(2024, 11, 4, 7, 0, tzinfo=UTC)  # London is on GMT: 08:00 London = 08:00 UTC


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Inbox:
    """A channel that keeps what it receives."""

    def __init__(self) -> None:
        self.got: list[Digest] = []

    def send_digest(self, digest: Digest) -> str:
        self.got.append(digest)
        return f"kept {len(self.got)}"


def det(n: int, rule: str = "treaty-ratified", severity: str = "high", party: str = "RUS") -> Detection:
    return Detection(
        id=f"d{n}",
        rule=rule,
        title=f"Parliament approved the pact (#{n})",
        severity=severity,
        group={"party": party},
        fired_at=datetime(2024, 11, 1, tzinfo=UTC) + timedelta(hours=n),
    )


def setup() -> tuple[MemoryStore, Clock, ControlLog, Inbox, DigestRunner]:
    store, clock, inbox = MemoryStore(), Clock(MONDAY_7), Inbox()
    control = ControlLog(store, now=clock)
    control.subscribe(
        "desk", rules=["treaty-ratified"], min_severity="high", digest="daily 08:00 Europe/London", by=ALICE
    )
    runner = DigestRunner(store, control, {"desk": inbox}.get, now=clock, entity_names={"RUS": "Russia"})
    return store, clock, control, inbox, runner


def test_digest_schedule_and_contents() -> None:
    store, clock, control, inbox, runner = setup()
    store.append([detection_event(det(1)), detection_event(det(2, rule="treaty-signed"))])
    store.append([detection_event(det(3, severity="low")), detection_event(det(4, party="PRK"))])
    clock.now = MONDAY_7 + timedelta(minutes=59)
    assert runner.run_once() == 0  # 07:59 London: not yet
    clock.now = MONDAY_7 + timedelta(hours=1)
    assert runner.run_once() == 1
    (first,) = inbox.got
    assert [d.id for d in first.detections] == ["d1", "d4"]  # the rule, at or above high; by severity, then time
    assert first.detections[0].group == {"party": "Russia"}  # entity names
    assert first.slot == datetime(2024, 11, 4, 8, 0, tzinfo=first.slot.tzinfo)
    assert str(first.slot.tzinfo) == "Europe/London" and first.since is None
    clock.now += timedelta(minutes=30)
    assert runner.run_once() == 0  # once per slot
    again = DigestRunner(store, ControlLog(store, now=clock), {"desk": inbox}.get, now=clock)
    assert again.run_once() == 0  # another process, fresh projection: still once

    store.append([detection_event(det(5))])
    control.silence("treaty-ratified", duration=timedelta(days=2), by=ALICE, group={"party": "PRK"}, channel="desk")
    store.append([detection_event(det(6, party="PRK"))])
    clock.now = datetime(2024, 11, 5, 7, 59, tzinfo=UTC)
    assert runner.run_once() == 0
    clock.now = datetime(2024, 11, 5, 8, 0, tzinfo=UTC)
    assert runner.run_once() == 1
    second = inbox.got[1]
    assert [d.id for d in second.detections] == ["d5"]  # only what is new; d6 is silenced here
    assert second.silenced == 1
    assert second.since == first.slot
    sent = [DigestSent.model_validate(se.event.payload) for se in store.read(0, types={ControlType.DIGEST_SENT.value})]
    assert [(d.alert_ids, d.detail) for d in sent] == [(("d1", "d4"), "kept 1"), (("d5",), "kept 2")]
    assert store.delivery_status(sent[0].id, "desk") == "sent"


def test_a_digest_already_sent_is_not_sent_again() -> None:
    """The channel got it but the run died before the log said so: the ledger, under the deterministic
    digest id, keeps the next run from sending it again."""
    store, clock, control, inbox, runner = setup()
    (sub,) = control.subscriptions()
    clock.now = MONDAY_7 + timedelta(hours=2)
    slot = datetime(2024, 11, 4, 8, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/London"))
    digest_id = "dig-" + stable_id("digest", sub.id, slot.isoformat(), length=16)
    store.mark_delivery(digest_id, "desk", "sent", "ts 1")
    assert runner.run_once() == 1
    assert inbox.got == []
    (rec,) = [DigestSent.model_validate(se.event.payload) for se in store.read(0, types={"digest.sent"})]
    assert (rec.id, rec.detail) == (digest_id, "already sent")


def test_subscribing_after_todays_slot_waits_for_tomorrow() -> None:
    _store, clock, control, inbox, runner = setup()
    clock.now = MONDAY_7 + timedelta(hours=3)
    control.subscribe("desk", rules=["*"], digest="daily 09:00 UTC", by=ALICE)
    runner.run_once()
    first_sub = [s.id for s in control.subscriptions() if "08:00" in (s.digest or "")]
    assert [d.subscription_id for d in inbox.got] == first_sub  # the 09:00 one subscribed at 10:00


def test_failed_digest_is_tried_again_next_cycle(slack_server: FakeSlack) -> None:
    store, clock, control, _, _ = setup()
    sender = SlackDigestSender("#desk", slack_server.token, slack_server.base_url)
    runner = DigestRunner(store, control, {"desk": sender}.get, now=clock)
    store.append([detection_event(det(1).model_copy(update={"title": "<!channel> ratified"}))])
    clock.now = MONDAY_7 + timedelta(hours=1)
    slack_server.fail_next("chat.postMessage", status=500)
    assert runner.run_once() == 0
    assert runner.run_once() == 1
    (msg,) = slack_server.messages
    assert msg["metadata"]["event_payload"]["digest_id"].startswith("dig-")
    text = json.dumps(msg["blocks"])
    assert "&lt;!channel&gt; ratified" in text and "<!channel>" not in text
    assert msg["blocks"][0]["text"]["text"].startswith("watchfloor digest · 1 alert(s)")
