"""A held alert that a throttle summary listed, then withdrawn: the channel was told of it (in the summary), so it
is told of its withdrawal, as a message of its own naming the alert, after the summary (review 13, F2: the
withdrawal was recorded `suppressed` and never sent). One withdrawn before any summary listed it stays unsent (the
summary leaves it out: test_channel_throttle's timeline, alert 6).

Real SQLite on disk, the real slack-sdk against the local Slack-compatible server, a real file channel.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import RETRY, Clock, lines
from tests.functional.test_channel_throttle import SPEC, T0, raised, run_timeline, top_level, withdrawn
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.alerts.throttle import HELD, summary_id
from watchfloor.schemas.config import Subscription
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional


def test_a_withdrawal_of_an_alert_a_sent_summary_listed_is_sent(tmp_path: Path, slack_server: FakeSlack) -> None:
    slack_server.channels = {"#dprk-russia"}
    store, archive, clock, ds = run_timeline(tmp_path, slack_server, 1)
    (summary,) = slack_server.messages_for(summary_id("desk", 0))
    assert "#5" in json.dumps(summary["blocks"])  # alert 5 was told, in the summary
    before = len(top_level(slack_server))
    store.append([withdrawn(5, 70)])
    clock.at = T0 + timedelta(hours=1, minutes=11)
    ds[0].cycle()
    rows = {r.channel: r for r in store.deliveries() if r.kind == "retraction" and r.parent_id == "det0005"}
    assert {c: r.status for c, r in rows.items()} == {"desk": "sent", "archive": "sent"}, rows
    (told,) = slack_server.messages_for(rows["desk"].alert_id)
    assert "thread_ts" not in told and len(top_level(slack_server)) == before + 1  # a message of its own
    shown = json.dumps(told["blocks"])
    assert "Withdrawn" in shown and "det0005" in shown and "throttle summary" in shown, shown
    # the story's title first, then why: a phone's push shows the start (trial 38, LOW-5)
    title = told["text"].removeprefix("Withdrawn: ").split(" — ")[0]
    assert title and title in shown and " — the report was corrected" in told["text"], told["text"]
    last = lines(archive)[-1]
    assert (last["kind"], last["id"]) == ("retraction", "det0005")
    ds[0].cycle()  # nothing twice
    assert len(slack_server.messages_for(rows["desk"].alert_id)) == 1 and len(lines(archive)) == 5


def test_a_withdrawal_of_an_alert_a_planned_summary_lists_goes_after_that_summary(tmp_path: Path) -> None:
    """The summary is planned (its list fixed, alert 3 in it) but not sent when alert 3 is withdrawn: the withdrawal
    waits for it, then goes."""
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    archive = tmp_path / "a.jsonl"
    clock = Clock(T0 + timedelta(minutes=10))
    notifiers = {"archive": FileNotifier("archive", archive)}
    subs = [Subscription(channel="archive")]
    d = AlertDispatcher(store, notifiers, subs, RETRY, now=clock, throttles={"archive": SPEC})
    store.append([raised(1, 1), raised(2, 2), raised(3, 3)])
    d.cycle()
    assert store.delivery_status("det0003", "archive") == HELD
    clock.at = T0 + timedelta(hours=1)
    d.intake()
    assert d.plan_summaries() == 1
    key = summary_id("archive", 0)
    # another dispatcher is sending the summary (its claim), while the withdrawal comes in
    (other,) = store.claim_deliveries("other", clock().timestamp(), 30.0)
    assert other.alert_id == key
    store.append([withdrawn(3, 61)])
    d.cycle()
    (row,) = [r for r in store.deliveries() if r.kind == "retraction"]
    # it waits: no dispatcher claims a channel's row while an earlier row of that channel is held by another
    # (trial 46, MED-2), so it is not even taken up while the summary is being sent
    assert row.status == "outstanding" and row.lease_owner is None, row
    assert [g["kind"] for g in lines(archive)] == ["alert", "alert"]
    clock.advance(31)  # the other dispatcher's claim runs out: the summary is sent, then the withdrawal
    d.cycle()
    clock.advance(RETRY.backoff.total_seconds())
    d.cycle()
    got = lines(archive)
    assert [g["kind"] for g in got] == ["alert", "alert", "digest", "retraction"]
    assert [a["id"] for a in got[2]["digest"]["alerts"]] == ["det0003"] and got[3]["id"] == "det0003"
    assert store.delivery_status(row.alert_id, "archive") == "sent"
