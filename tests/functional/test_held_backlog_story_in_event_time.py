"""A held backlog's story is told in event time, whatever order the workers read its reports in (outside trial 75,
F5).

What happened: `notify --broker` held a backfill's alerts. The workers read a story's 11:30 report before its 10:00
one (another partition), raising, in the log's order: M1 MEDIUM 11:30; M0 MEDIUM 10:00 (revising nothing); H HIGH
11:30, revising M1. All three were held, then delivered in one pass, yet the channel got H as the story's first
message (in M1's place), then "Update: [MEDIUM (unconfirmed)] … · thread now HIGH" (M0, fired 10:00) under it: a
downgrade to the eye. A backtest in event time tells M0 first, then the HIGH as its update. While nothing of a
channel's thread of the story has been sent (nor is being), an alert of the story that fired before the thread's
first message starts the thread instead, and the rows already there are planned again under it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, detection, feed, ledger, lines, make
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import Detection, Event, detection_event
from watchfloor.stream_processors.ports import DeliveryRecord, ReplanRefused
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional

SUBS = [Subscription(channel="slack-ops"), Subscription(channel="archive")]


def raisings() -> tuple[Detection, Detection, Detection]:
    m1 = detection(1, severity="medium", confidence="unconfirmed", minutes=150)  # 11:30, read first
    m0 = detection(2, severity="medium", confidence="unconfirmed", minutes=60)  # 10:00, read second
    h = detection(3, minutes=150, revises=m1.id, revision=1, sources=("Coastal Observer", "Harbour Post"))
    return m1, m0, h


@pytest.mark.parametrize("order", ["m1 m0 h", "m1 h m0"])
def test_a_held_story_read_out_of_event_time_starts_with_its_earliest_alert(
    tmp_path: Path, slack_server: FakeSlack, order: str
) -> None:
    store, clock, archive = MemoryStore(), Clock(), tmp_path / "alerts.jsonl"
    dispatcher = make(store, slack_server, archive, clock, subs=SUBS)
    m1, m0, h = raisings()
    by_name = {"m1": m1, "m0": m0, "h": h}
    for name in order.split():  # each read in its own slice of the backlog, held
        feed(store, by_name[name])
        assert dispatcher.cycle(deliver=False).held_back
    assert not lines(archive) and not slack_server.messages
    report = dispatcher.cycle()  # the backlog is read: what was held goes, in event time
    assert report.ok, report
    # the file channel: M0 starts the story, H is its update (in M1's place, which never goes)
    got = [(line["kind"], line["id"]) for line in lines(archive)]
    assert got[0] == ("alert", m0.id), got
    assert [alert for _, alert in got] == [m0.id, h.id], got
    assert got[1][0] in ("followup", "revision"), got
    # Slack: M0's message first, H a reply under it that says it is HIGH now; the root updated to HIGH
    posted = slack_server.messages
    assert [m["metadata"]["event_payload"]["alert_id"] for m in posted] == [
        detection_event(m0).id,
        detection_event(h).id,
    ], posted
    root, reply = posted
    assert "thread_ts" not in root or root["thread_ts"] == root["ts"], root
    assert reply.get("thread_ts") == root["ts"], reply
    assert "Update: [HIGH" in reply["text"], reply["text"]
    assert "HIGH (confirmed, was MEDIUM)" in json.dumps(reply["blocks"]), reply["blocks"]
    assert [u["ts"] for u in slack_server.updates] == [root["ts"]]  # (the story's message, now HIGH)
    rows = ledger(store)
    for channel in ("slack-ops", "archive"):
        first = rows[(detection_event(m1).id, channel)]
        assert first.status == "suppressed" and first.detail.startswith("replaced before it was sent"), first.detail
    assert dispatcher.cycle().counts.get("outstanding", 0) == 0


def test_the_held_story_reads_as_the_same_story_delivered_live_in_event_time(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """What the channels get from the held backlog read out of event time is what they get live, in event time (M0,
    then H; M1, which H revises, is never raised there): the same lines in the file channel."""
    m1, m0, h = raisings()
    told: dict[str, list[tuple[str, str]]] = {}
    for name, slices, held in (("held", (m1, m0, h), True), ("live", (m0, h), False)):
        store, archive = MemoryStore(), tmp_path / f"{name}.jsonl"
        dispatcher = make(store, slack_server, archive, Clock(), subs=SUBS)
        for det in slices:
            feed(store, det)
            dispatcher.cycle(deliver=not held)
        assert dispatcher.cycle().ok
        told[name] = [(line["kind"], line["id"]) for line in lines(archive)]
    assert told["held"] == told["live"] == [("alert", m0.id), ("followup", h.id)], told


class ClaimedMeanwhile(MemoryStore):
    """A store where another dispatcher claims a row of the thread between intake's read and its write: every
    `enqueue(replacing=)` is refused, as the ledger refuses a row no longer untouched."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    def enqueue(
        self,
        records: Sequence[DeliveryRecord],
        events: Sequence[Event] = (),
        *,
        replacing: Sequence[DeliveryRecord] = (),
    ) -> int:
        if replacing:
            self.refused += 1
            raise ReplanRefused(replacing[0].alert_id, replacing[0].channel)
        return super().enqueue(records, events)


def test_a_thread_taken_meanwhile_goes_on_as_it_began_nothing_lost(tmp_path: Path, slack_server: FakeSlack) -> None:
    store, archive = ClaimedMeanwhile(), tmp_path / "alerts.jsonl"
    dispatcher = make(store, slack_server, archive, Clock(), subs=SUBS)
    for det in raisings():
        feed(store, det)
        assert dispatcher.cycle(deliver=False).held_back
    assert store.refused == 1  # (M0's intake: planned again as a follow-up, in the thread as it stands)
    assert dispatcher.cycle().ok
    _, m0, h = raisings()
    assert sorted(line["id"] for line in lines(archive)) == sorted([m0.id, h.id])  # each standing alert, once
    assert dispatcher.cycle().counts.get("outstanding", 0) == 0
