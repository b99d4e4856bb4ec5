"""A delivery that waits for another one of its channel (a reply for the message it goes under, a withdrawal for the
throttle summary that listed its alert) is sent in the same pass once that one is, and never stalls a pass, whatever
`retry.backoff` says (review 21, F1/F5: claimed in event time, such a row can come first; deferred, it went a cycle
late, and with `backoff: 0s` it was due again at once, claimed twice in one pass, which ended every pass)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.functional.delivery_helpers import RETRY, Clock, Recorder, lines
from tests.functional.test_channel_throttle import SPEC, T0, raised, withdrawn
from tests.functional.test_threads import CATALOG, troops
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.alerts.throttle import HELD
from watchfloor.schemas.config import RetryPolicy, Subscription
from watchfloor.schemas.events import detection_event
from watchfloor.stream_processors.stores import open_store
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional

BACKOFFS = [RETRY, RETRY.model_copy(update={"backoff": timedelta(0)})]


@pytest.mark.parametrize("retry", BACKOFFS, ids=["backoff-default", "backoff-0s"])
def test_a_withdrawal_waiting_for_the_summary_that_listed_its_alert_goes_in_the_same_pass(
    tmp_path: Path, retry: RetryPolicy
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    archive = tmp_path / "archive.jsonl"
    clock = Clock(T0 + timedelta(minutes=10))
    notifiers = {"archive": FileNotifier("archive", archive)}
    d = AlertDispatcher(
        store, notifiers, [Subscription(channel="archive")], retry, now=clock, throttles={"archive": SPEC}
    )
    store.append([raised(1, 1), raised(2, 2), raised(3, 3)])
    d.cycle()
    assert store.delivery_status("det0003", "archive") == HELD  # the throttle's third: told in its summary
    clock.at = T0 + timedelta(hours=1)
    d.intake()
    assert d.plan_summaries() == 1  # planned, not sent yet
    store.append([withdrawn(3, 61)])
    assert d.cycle().ok  # one pass: the summary, then the withdrawal of an alert it listed
    assert [g["kind"] for g in lines(archive)] == ["alert", "alert", "digest", "retraction"]


@pytest.mark.parametrize("retry", BACKOFFS, ids=["backoff-default", "backoff-0s"])
def test_a_follow_up_under_a_revision_that_fired_later_goes_right_after_it(retry: RetryPolicy) -> None:
    # The story's first alert (minute 1) was replaced before it was sent by a revision that fires 2 h in; the
    # follow-up (1 h in) goes under the revision, so it is claimed first, and waits for it.
    store, ops = MemoryStore(), Recorder("ops")
    d = AlertDispatcher(store, {"ops": ops}, [Subscription(channel="ops")], retry, now=Clock(), catalog=CATALOG)
    first = troops(1)
    revised = troops(3, hours=2, sources=("Daily A", "Wire B"), revises="det0001", revision=1)
    follow = troops(2, hours=1, severity="high", sources=("Daily A", "Wire C"))
    store.append([detection_event(first), detection_event(revised), detection_event(follow)])
    report = d.cycle()
    assert [(n.key, n.kind) for n in ops.sent] == [(detection_event(revised).id, "alert"), ("det0002", "followup")]
    assert report.ok and report.outstanding == 0
