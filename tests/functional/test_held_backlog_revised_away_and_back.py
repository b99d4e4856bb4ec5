"""An alert revised away and then raised again, while a backlog's alerts are held, is still delivered, once (outside
trial 45, HIGH-1).

What happened: reading a newest-first file, the engine raised alert A, a late report revised it into B (a revision
of A), and a later change raised A again with its own id, while B stood too: two alerts standing, A and B. The
dispatcher held all of it until the backlog was read. A's raising again was recorded as "the same alert as …,
already outstanding here (its reports arrived again)", because A's first row was still outstanding, held; at the
release that first row was suppressed as "replaced before it was sent" by B, which went in its place. So A went to
no channel: `alerts list --undelivered` was empty, `status` said caught up. A row a revision replaced no longer
tells its alert (intake.standing_copy), so A's raising again is news, and goes.

The timeline, in event time, of one rule and group (the dispatcher's clock and delivery held meanwhile):
  T0+60m  A raised (its first report)                                  held
  T0+30m  B revises A (a late, earlier report moved the alert)          held
  T0+60m  A raised again, not a revision (its reports came again)       held
  backlog read: the channel gets B (in A's place) and A, once each.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, detection, feed, ledger, lines, make
from watchfloor.schemas.events import Detection, detection_event
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional

CHANNELS = ("slack-ops", "archive")


def raisings() -> tuple[Detection, Detection, Detection]:
    a = detection(1, minutes=60)
    b = detection(2, minutes=30, revises=a.id, revision=1)  # a late report moved A earlier: B replaces it
    back = a.model_copy(update={"revision": 2})  # A's id again, revising nothing: B stands, and A again beside it
    return a, b, back


def told(archive: Path) -> list[tuple[str, str]]:
    """(kind, alert id) of each line the file channel got."""
    return [(line["kind"], line["id"]) for line in lines(archive)]


def test_an_alert_revised_away_and_raised_again_while_the_backlog_is_held_is_delivered_once(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    store, clock, archive = MemoryStore(), Clock(), tmp_path / "alerts.jsonl"
    dispatcher = make(store, slack_server, archive, clock)
    a, b, back = raisings()
    for det in (a, b, back):  # each read in its own slice of the backlog, held
        feed(store, det)
        assert dispatcher.cycle(deliver=False).held_back
    assert not lines(archive) and not slack_server.messages
    rows = ledger(store)
    for channel in CHANNELS:  # while held, A's raising again is no copy of a row the revision replaces
        row = rows[(detection_event(back).id, channel)]
        assert row.status == "outstanding", (channel, row.status, row.detail)
    report = dispatcher.cycle()  # the backlog is read: what was held goes
    assert report.ok, report
    got = told(archive)
    assert sorted(alert for _, alert in got) == sorted([b.id, a.id]), got  # each standing alert once
    assert got.count(("followup", a.id)) == 1, got  # A again, in its story's thread
    rows = ledger(store)
    for channel in CHANNELS:
        first = rows[(detection_event(a).id, channel)]
        assert first.status == "suppressed" and first.detail.startswith("replaced before it was sent"), first.detail
        assert rows[(detection_event(b).id, channel)].status == "sent"
        assert rows[(detection_event(back).id, channel)].status == "sent"
    # Slack: B's message (in A's place) and A's under it; nothing else, and nothing owed.
    posted = [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.messages]
    assert sorted(posted) == sorted([detection_event(b).id, detection_event(back).id]), posted
    assert dispatcher.cycle().counts.get("outstanding", 0) == 0


def test_an_alert_revised_away_after_it_was_sent_and_raised_again_is_told_again(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """Not held: A sent, then revised into B (A's message now shows B), then A raised again beside B. The channel no
    longer shows A, so A is told, once, in its thread; a raising again of an alert the channel still shows is not
    (test_dispatcher: the same alert raised again is not sent twice)."""
    store, clock, archive = MemoryStore(), Clock(), tmp_path / "alerts.jsonl"
    dispatcher = make(store, slack_server, archive, clock)
    a, b, back = raisings()
    for det in (a, b, back):
        feed(store, det)
        assert dispatcher.cycle().ok
    assert told(archive) == [("alert", a.id), ("revision", b.id), ("followup", a.id)]
    again = back.model_copy(update={"revision": 3})  # and once more while A's raising again stands: not twice
    feed(store, again)
    dispatcher.cycle()
    row = ledger(store)[(detection_event(again).id, "archive")]
    assert row.status == "suppressed" and row.detail.startswith("the same alert as"), row.detail
    assert len(lines(archive)) == 3
