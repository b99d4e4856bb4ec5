"""Two dispatchers on one store (SQLite on disk, PostgreSQL) and a Slack post still on its way when its dispatcher
gave it up: posted once (review 13, F3). The calls of one claim share one deadline, the claim's lease less a margin,
and a call given up at it keeps its row claimed until it ends; what it did is recorded and logged (F8).

The real slack-sdk against the local Slack-compatible server, whose `hold_next` keeps a post unhandled (not in the
channel yet) until the test lets it go. The clock is the real one: the leases are 2 s.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import detection, feed, slack
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.schemas.config import RetryPolicy, Subscription
from watchfloor.stream_processors.ports import Store

pytestmark = pytest.mark.integration

LEASE = 2.0
RETRY = RetryPolicy(
    backoff=timedelta(seconds=1),
    max_backoff=timedelta(seconds=1),
    max_age=timedelta(hours=1),
    max_retry_after=timedelta(minutes=1),
    lease=timedelta(seconds=LEASE),
)


@pytest.fixture
def store(sql_store: Store) -> Store:
    return sql_store


def dispatcher(store: Store, server: FakeSlack) -> AlertDispatcher:
    """One process's dispatcher: its own notifier (slack-sdk client), the real clock."""
    subs = [Subscription(channel="desk")]
    return AlertDispatcher(store, {"desk": slack(server, name="desk")}, subs, RETRY, now=lambda: datetime.now(UTC))


def settle_late(d: AlertDispatcher) -> None:
    """Wait for the call `d` gave up to end and its outcome to be recorded."""
    for keeper in list(d.deliverer.stuck.values()):
        keeper.join(timeout=60)
        assert not keeper.is_alive()


def sleep_until(t: float) -> None:
    time.sleep(max(0.0, t - time.monotonic()))


def test_a_post_given_up_at_the_lease_keeps_its_row_claimed_and_is_posted_once(
    store: Store, slack_server: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """Case A: A's post does not reach the channel within the claim; A gives it up and goes on. B, past A's lease
    and backoff, used to claim the row, look (nothing there yet) and post; then A's post landed: twice."""
    feed(store, detection(1))
    a, b = dispatcher(store, slack_server), dispatcher(store, slack_server)
    release, arrived = slack_server.hold_next("chat.postMessage")
    claimed = time.monotonic()
    with caplog.at_level(logging.INFO, logger="watchfloor.alerts.delivery"):
        report = a.cycle()
        assert arrived.is_set() and report.tally.failed == 1 and report.tally.sent == 0
        (row,) = store.deliveries(channel="desk")
        assert row.status == "outstanding" and row.unsure and row.lease_owner == a.owner, row
        sleep_until(claimed + LEASE + 1.5)  # A's lease in the store, and its backoff, are over
        assert b.cycle().tally.sent == 0  # the row is still A's: its post may yet land
        release.set()
        settle_late(a)
        (row,) = store.deliveries(channel="desk")
        assert row.status == "outstanding" and row.ref and row.lease_owner is None, row  # posted: kept, due now
        assert b.cycle().tally.sent == 1  # B finishes it: nothing posted again
    (row,) = store.deliveries(channel="desk")
    assert row.status == "sent"
    assert len(slack_server.messages_for("det0001")) == 1
    assert len(slack_server.requests_for("chat.postMessage")) == 1
    assert row.ref.endswith(slack_server.messages_for("det0001")[0]["ts"])
    late = [r.getMessage() for r in caplog.records if "ended" in r.getMessage() and "given up" in r.getMessage()]
    assert len(late) == 1 and "posted" in late[0], late  # F8: what the given-up call did, one line


def test_a_look_and_a_post_share_the_claim_s_deadline(store: Store, slack_server: FakeSlack) -> None:
    """Case B: an unsure row: A looks in the channel (slow) and then posts, each within a lease of its own, 3 s in
    all under a 2 s claim. B took the claim over mid-post, looked (nothing yet) and posted too."""
    slack_server.channels = {"#dprk-russia"}  # listed: looked in by conversations.history
    feed(store, detection(1))
    a, b = dispatcher(store, slack_server), dispatcher(store, slack_server)
    a.intake()
    store.claim_deliveries("gone", time.time(), 0.01)  # an attempt interrupted: the row comes back unsure
    time.sleep(0.05)
    slack_server.slow_next("conversations.history", 1.2)
    release, arrived = slack_server.hold_next("chat.postMessage")
    claimed = time.monotonic()
    cycle = threading.Thread(target=a.cycle)
    cycle.start()
    try:
        assert arrived.wait(30)  # A looked, found nothing, and its post is on its way
        sleep_until(claimed + LEASE + 0.3)  # A's claim has run out in the store
        assert b.cycle().tally.sent == 0
        assert len(slack_server.requests_for("conversations.history")) == 1  # only A has looked
    finally:
        release.set()
        cycle.join(timeout=60)
    settle_late(a)
    b.cycle()
    a.cycle()
    (row,) = store.deliveries(channel="desk")
    assert row.status == "sent", row
    assert len(slack_server.messages_for("det0001")) == 1
    assert len(slack_server.requests_for("chat.postMessage")) == 1


def test_a_given_up_post_that_fails_later_is_logged_and_retried(
    store: Store, slack_server: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """F8: a call given up that then fails (Slack answers 500) is logged, one line, and the row is retried after the
    backoff, looked for first (a 500 may have posted)."""
    feed(store, detection(1))
    a = dispatcher(store, slack_server)
    release, _ = slack_server.hold_next("chat.postMessage")
    slack_server.fail_next("chat.postMessage", status=500)
    with caplog.at_level(logging.INFO, logger="watchfloor.alerts.delivery"):
        a.cycle()
        release.set()
        settle_late(a)
    (row,) = store.deliveries(channel="desk")
    assert (row.status, row.unsure, row.attempts, row.lease_owner) == ("outstanding", True, 1, None), row
    assert "no answer within the claim's lease" in row.detail and "failed" in row.detail, row.detail
    # the channel backs off with it, as after any failure of the whole channel: a row raised meanwhile waits too
    assert store.channel_backoffs(row.scheduled_at) == {"desk": row.next_attempt_at}
    late = [r for r in caplog.records if "given up at its claim's deadline ended" in r.getMessage()]
    assert len(late) == 1 and "failed" in late[0].getMessage() and late[0].levelno == logging.WARNING
    time.sleep(1.2)  # the backoff
    assert a.cycle().ok
    assert len(slack_server.messages_for("det0001")) == 1
