"""Fault injection: every delivery that failed is delivered once the fault is gone, and never twice.

Real parts: the local Slack-compatible server (tests/fixtures/slack_server.py: fail_next for HTTP errors and
Slack error codes, slow_next for answers past the client timeout, Block Kit validation), a real HTTP webhook
receiver, a real file on a full tmpfs. The clock is the test's: a retry is a later cycle, never a sleep.
To add a fault: script it on the fake server (or the receiver), run cycles, assert the ledger and what arrived.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import (
    RETRY,
    SUBS,
    Clock,
    Hook,
    Trickle,
    deliveries,
    detection,
    feed,
    ledger,
    lines,
    make,
    slack,
    webhook_server,
)
from watchfloor.alerts.dispatcher import AlertDispatcher, CycleReport
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.alerts.notifiers.slack import SlackNotifier
from watchfloor.alerts.notifiers.webhook import WebhookNotifier
from watchfloor.schemas.config import Subscription
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return tmp_path / "out" / "alerts.jsonl"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def webhook() -> Iterator[Hook]:
    yield from webhook_server()


def until_due(d: AlertDispatcher, clock: Clock) -> None:
    """Move the clock to the next due delivery (what a live loop would wait for)."""
    wait = d.next_due()
    assert wait is not None
    clock.advance(wait)


# --- Slack --------------------------------------------------------------------------------------------------


def test_ten_500s_in_a_row_then_delivered_once_with_capped_backoff(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    slack_server.channels = {"#dprk-russia"}
    slack_server.fail_next("chat.postMessage", status=500, times=10)
    feed(store, detection(1))
    d = make(store, slack_server, archive, clock)
    waits = []
    report = d.cycle()
    while not report.ok:
        waits.append(d.next_due())
        until_due(d, clock)
        report = d.cycle()
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60, 60, 60]  # doubling from 2s, capped at 60s
    assert len(slack_server.messages_for("det0001")) == 1
    row = ledger(store)[("det0001", "slack-ops")]
    assert (row.status, row.attempts) == ("sent", 11)
    # A 500 may have been posted: every retry looked in the channel first.
    assert len(slack_server.requests_for("conversations.history")) == 10


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"ok": False, "error": "internal_error"}),
        (200, {"ok": False, "error": "fatal_error"}),
        (200, "<html><body>Gateway says hello</body></html>"),  # a proxy's page, not Slack's JSON
    ],
    ids=["internal_error", "fatal_error", "non-json-200"],
)
def test_an_error_after_slack_posted_is_looked_up_before_sending_again(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, status: int, body: object
) -> None:
    """Slack can post the message and still answer internal_error or fatal_error ("some aspect of the
    operation succeeded"), and a proxy can answer 200 with its own page: the retry finds the message in the
    channel and records it sent, instead of posting it again (an outside audit got 2-3 copies)."""
    slack_server.channels = {"#dprk-russia"}
    slack_server.fail_after_next("chat.postMessage", status=status, body=body)
    feed(store, detection(1))
    d = make(store, slack_server, archive, clock)
    report = d.cycle()
    assert not report.ok and len(slack_server.messages_for("det0001")) == 1  # posted, then the error
    until_due(d, clock)
    assert d.cycle().ok
    assert len(slack_server.messages_for("det0001")) == 1
    assert ledger(store)[("det0001", "slack-ops")].status == "sent"
    assert len(slack_server.requests_for("conversations.history")) >= 1


def test_429_retry_after_is_scheduled_capped_and_holds_up_no_other_channel(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    slack_server.fail_next("chat.postMessage", status=429, headers={"Retry-After": "86400"})
    feed(store, detection(1), detection(2, group={"route": "B"}))
    d = make(store, slack_server, archive, clock)
    start = clock()

    report = d.cycle()

    assert clock() == start  # scheduled, not slept
    assert [line["id"] for line in lines(archive)] == ["det0001", "det0002"]  # the other channel went on
    rows = ledger(store)
    assert rows[("det0001", "slack-ops")].not_before == start.timestamp() + 300  # capped at max_retry_after
    assert rows[("det0002", "slack-ops")].attempts == 0  # the channel rests: one request, not one per alert
    assert (report.tally.sent, report.outstanding) == (2, 2)
    clock.advance(299)
    d.cycle()
    assert len(slack_server.requests_for("chat.postMessage")) == 1  # honoured, also by a process start:
    assert make(store, slack_server, archive, clock).cycle().tally.sent == 0
    clock.advance(1)
    assert d.cycle().ok
    assert [len(slack_server.messages_for(k)) for k in ("det0001", "det0002")] == [1, 1]


@pytest.mark.parametrize("fault", ["invalid_auth", "channel_not_found", "not_in_channel"])
def test_a_wrong_token_or_channel_is_delivered_once_fixed(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, fault: str
) -> None:
    right = slack_server.token
    d = make(store, slack_server, archive, clock)  # its notifier has the token as configured
    if fault == "invalid_auth":
        slack_server.token = "xoxb-the-one-in-the-workspace"
    elif fault == "channel_not_found":
        slack_server.channels = {"#elsewhere"}
    else:
        slack_server.not_member = {"#dprk-russia"}
    feed(store, *(detection(n, group={"route": str(n)}) for n in range(1, 10)))
    for _ in range(3):
        report = d.cycle()
        until_due(d, clock)
    assert slack_server.messages == [] and report.outstanding == 9
    assert fault in ledger(store)[("det0001", "slack-ops")].detail
    assert ledger(store)[("det0009", "slack-ops")].attempts == 0  # one try per cycle for the whole channel
    assert [c.ok for c in d.check_channels() if c.channel == "slack-ops"] == [False]

    slack_server.token, slack_server.channels, slack_server.not_member = right, None, set()
    report = d.cycle()
    assert report.ok and report.tally.sent == 9
    assert all(len(slack_server.messages_for(f"det{n:04d}")) == 1 for n in range(1, 10))


def test_our_own_payload_is_never_refused(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """The fake server refuses what breaks Block Kit's limits (invalid_blocks), as Slack does."""
    long_url = "https://news.example.org/" + "a" * 3500
    det = detection(1, url=long_url, sources=("Observer\nWeekly", "x" * 5000, "javascript:alert(1)"))
    det = det.model_copy(
        update={"title": "T" * 400, "description": "D" * 9000, "attributes": {f"k{i}": ["v" * 3000] for i in range(30)}}
    )
    feed(store, det)
    report = make(store, slack_server, archive, clock).cycle()
    assert report.ok, ledger(store)[("det0001", "slack-ops")].detail
    [req] = slack_server.requests_for("chat.postMessage")
    assert req.response["ok"] is True
    body = str(req.body["blocks"])
    assert long_url not in body and "Observer Weekly" in body


def test_a_slow_answer_past_the_client_timeout_posts_once(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    slack_server.slow_next("chat.postMessage", 6)  # Slack posts it, then answers after the client gave up
    feed(store, detection(1))
    # A 3 s client timeout, not 1 s: the look before the resend (and every other call) must beat it, which a loaded
    # machine's scheduler need not in 1 s; only the one slow answer has to outlast it.
    d = make(store, slack_server, archive, clock, slack_notifier=slack(slack_server, timeout=3))
    d.cycle()
    row = ledger(store)[("det0001", "slack-ops")]
    assert (row.status, row.unsure) == ("outstanding", True)
    until_due(d, clock)
    assert d.cycle().ok
    assert len(slack_server.messages_for("det0001")) == 1
    assert len(slack_server.requests_for("chat.postMessage")) == 1  # found by its metadata, not posted again


def test_no_blind_resend_while_the_channel_cannot_be_looked_at(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    slack_server.fail_next("chat.postMessage", status=502)  # may have posted
    slack_server.fail_next("conversations.list", status=503)  # and then the look-up fails too
    feed(store, detection(1))
    d = make(store, slack_server, archive, clock)
    d.cycle()
    until_due(d, clock)
    d.cycle()
    assert len(slack_server.requests_for("chat.postMessage")) == 1 and not d.cycle().ok
    until_due(d, clock)
    assert d.cycle().ok and len(slack_server.messages_for("det0001")) == 1


def test_expired_after_the_maximum_age_then_redelivered(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    slack_server.fail_next("chat.postMessage", status=200, body={"ok": False, "error": "invalid_auth"}, times=10_000)
    feed(store, detection(1))
    d = make(store, slack_server, archive, clock, retry=RETRY.model_copy(update={"max_backoff": timedelta(hours=1)}))
    expired = 0
    for _ in range(200):
        report = d.cycle()
        expired += report.tally.expired
        if report.outstanding == 0:
            break
        until_due(d, clock)
    assert expired == 1 and not report.ok  # an expiry in a cycle fails `--once`
    row = ledger(store)[("det0001", "slack-ops")]
    assert row.status == "expired" and clock().timestamp() - row.created_at >= 24 * 3600
    assert 30 < row.attempts < 40  # 2s doubling to the 1h cap: ~12 attempts in the first hour, then hourly
    assert [e.status for e in deliveries(store)][-1] == "expired"

    slack_server.reset()  # fixed
    assert store.redeliver(clock().timestamp(), alert_ids={"det0001"}, channel="slack-ops") == 1
    assert d.cycle().ok
    assert len(slack_server.messages_for("det0001")) == 1


def test_retry_attempts_caps_the_attempts_then_expired_and_redelivered(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """`retry.attempts: 3`: the third failed attempt gives the delivery up as expired (well before max_age)."""
    slack_server.channels = {"#dprk-russia"}
    slack_server.fail_next("chat.postMessage", status=503, times=3)
    feed(store, detection(1))
    d = make(store, slack_server, archive, clock, retry=RETRY.model_copy(update={"attempts": 3}))
    reports = [d.cycle()]
    while reports[-1].outstanding:
        until_due(d, clock)
        reports.append(d.cycle())
    assert [r.tally.failed for r in reports] == [1, 1, 1] and reports[-1].tally.expired == 1
    row = ledger(store)[("det0001", "slack-ops")]
    assert (row.status, row.attempts) == ("expired", 3) and "retry.attempts" in row.detail
    assert [e.status for e in deliveries(store) if e.channel == "slack-ops"] == ["failed", "failed", "expired"]
    assert slack_server.messages_for("det0001") == []

    assert store.redeliver(clock().timestamp(), alert_ids={"det0001"}) == 1  # a fresh count of attempts
    assert d.cycle().ok and len(slack_server.messages_for("det0001")) == 1


def test_every_process_start_tries_at_once_what_waits_on_our_backoff(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    slack_server.fail_next("chat.postMessage", status=503, times=6)
    feed(store, detection(1))
    d = make(store, slack_server, archive, clock)
    for _ in range(6):
        d.cycle()
        until_due(d, clock)
    slack_server.fail_next("chat.postMessage", status=503)
    d.cycle()  # 7th failure: next attempt in 60s
    clock.advance(1)
    assert d.cycle().tally.sent == 0  # this process keeps to its backoff
    assert make(store, slack_server, archive, clock).cycle().ok  # a new process (a restart, a cron run) tries now


# --- webhooks -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_webhook_redirect_is_not_a_delivery(store: MemoryStore, clock: Clock, webhook: Hook, status: int) -> None:
    webhook.statuses = [status]
    webhook.headers = {status: {"Location": "/moved/elsewhere"}}
    hook = WebhookNotifier("hook", webhook.url, timeout=5)
    feed(store, detection(1))
    d = AlertDispatcher(store, {"hook": hook}, [Subscription(channel="hook")], RETRY, now=clock)
    assert not d.cycle().ok
    row = ledger(store)[("det0001", "hook")]
    assert row.status == "outstanding" and f"HTTP {status} redirect" in row.detail and "/moved" not in row.detail
    assert webhook.received == []  # no body-less GET followed it
    until_due(d, clock)
    assert d.cycle().ok
    [(method, _headers, body)] = webhook.received
    assert method == "POST" and body["key"] == "det0001"


def test_only_a_2xx_answer_counts(store: MemoryStore, clock: Clock, webhook: Hook) -> None:
    webhook.statuses = [404, 204]
    hook = WebhookNotifier("hook", webhook.url, timeout=5)
    feed(store, detection(1))
    d = AlertDispatcher(store, {"hook": hook}, [Subscription(channel="hook")], RETRY, now=clock)
    assert not d.cycle().ok and "HTTP 404" in ledger(store)[("det0001", "hook")].detail
    until_due(d, clock)
    assert d.cycle().ok and ledger(store)[("det0001", "hook")].detail == "HTTP 204"


def test_a_webhook_digest_counts_only_on_a_2xx_to_its_post(webhook: Hook) -> None:
    from datetime import UTC, datetime

    from watchfloor.alerts.notice import Digest
    from watchfloor.alerts.notifiers.base import PermanentError

    digest = Digest("dig-1", "sub-1", "hook", datetime(2024, 11, 4, 8, tzinfo=UTC), None, 0, 3, (detection(1),))
    webhook.statuses = [302, 204]
    webhook.headers = {302: {"Location": "/moved"}}
    hook = WebhookNotifier("hook", webhook.url, timeout=5)
    with pytest.raises(PermanentError, match="HTTP 302 redirect"):
        hook.send_digest(digest)
    assert webhook.received == []
    assert hook.send_digest(digest) == "HTTP 204"
    [(method, headers, body)] = webhook.received
    assert (method, headers["Idempotency-Key"], body["key"], body["kind"]) == ("POST", "dig-1", "dig-1", "digest")
    assert [a["id"] for a in body["digest"]["alerts"]] == ["det0001"]


def _cycle_within(d: AlertDispatcher, limit: float = 60.0) -> CycleReport:
    """One cycle, failed with a clear message when it has not ended after `limit` seconds (a hang guard, not a
    timing assertion: the attempt's deadline is 2 s)."""
    done: list[CycleReport] = []
    worker = threading.Thread(target=lambda: done.append(d.cycle()), daemon=True)
    worker.start()
    worker.join(limit)
    assert done, f"the dispatcher cycle was still running after {limit:g}s: a trickling receiver holds it up"
    return done[0]


@pytest.mark.parametrize(
    ("head", "status", "outcome"),
    [
        # headers never complete: no answer within the deadline, may have got through (resent, same key)
        (b"HTTP/1.1 200 OK\r\nX-Slow: ", "outstanding", "no complete answer within the timeout (2s)"),
        # a 200 whose body never ends: the status is the answer, and the body is not waited for
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n", "sent", "HTTP 200"),
    ],
)
def test_a_trickling_webhook_ends_at_its_deadline_and_the_other_channels_are_delivered(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, head: bytes, status: str, outcome: str
) -> None:
    slack_server.channels = {"#dprk-russia"}
    receiver = Trickle(head)
    try:
        hook = WebhookNotifier("pager", receiver.url, timeout=2)
        feed(store, detection(1))
        subs = [Subscription(channel="pager"), *SUBS]
        d = make(store, slack_server, archive, clock, extra={"pager": hook}, subs=subs)
        report = _cycle_within(d)
    finally:
        receiver.close()
    rows = ledger(store)
    assert receiver.posts == 1
    assert rows[("det0001", "pager")].status == status and rows[("det0001", "pager")].detail.endswith(outcome)
    assert rows[("det0001", "pager")].unsure == (status == "outstanding")
    # the other channels of the same cycle got it
    assert rows[("det0001", "slack-ops")].status == rows[("det0001", "archive")].status == "sent"
    assert len(lines(archive)) == 1 and len(slack_server.messages) == 1
    assert report.tally.sent == (3 if status == "sent" else 2)


# --- file channel -------------------------------------------------------------------------------------------


def test_a_full_disk_under_the_file_channel(store: MemoryStore, clock: Clock, full_disk: Path) -> None:
    filler = full_disk / "filler"
    with open(filler, "wb") as f:  # leave ~1.5 KiB: room for the start of a line, not all of it
        try:
            f.write(b"x" * (64 * 1024 - 1536))
        except OSError:
            pass
    out = full_disk / "alerts.jsonl"
    archive = FileNotifier("archive", out)
    feed(store, *(detection(n, group={"route": str(n)}) for n in range(1, 4)))
    d = AlertDispatcher(store, {"archive": archive}, [Subscription(channel="archive")], RETRY, now=clock)

    report = d.cycle()
    assert report.outstanding >= 2
    assert "No space left" in next(r.detail for r in store.deliveries(statuses={"outstanding"}))
    assert all(isinstance(line, dict) for line in lines(out))  # whole lines only: a cut write was cut back

    filler.unlink()  # the operator makes room
    until_due(d, clock)
    assert d.cycle().ok
    assert sorted(line["id"] for line in lines(out)) == ["det0001", "det0002", "det0003"]


def test_the_file_channel_looks_for_the_alert_before_writing_it_again(
    store: MemoryStore, archive: Path, clock: Clock
) -> None:
    """notify killed between writing a line and recording it: the next dispatcher finds the line."""
    feed(store, detection(1))
    file = FileNotifier("archive", archive)
    d = AlertDispatcher(store, {"archive": file}, [Subscription(channel="archive")], RETRY, now=clock)
    d.intake()
    [claimed] = store.claim_deliveries("killed", clock().timestamp(), 30)
    from watchfloor.alerts.delivery import Deliverer  # the killed process's attempt, up to the write

    notice = Deliverer(store, {}, d.schedule, d._clock, "killed", 0)._notice(claimed, clock().timestamp())
    file.send(notice)  # type: ignore[arg-type]
    clock.advance(31)
    assert AlertDispatcher(store, {"archive": file}, [Subscription(channel="archive")], RETRY, now=clock).cycle().ok
    assert [line["id"] for line in lines(archive)] == ["det0001"]


def test_a_dispatcher_asked_to_stop_claims_nothing_more(store: MemoryStore, clock: Clock, archive: Path) -> None:
    """`run` on SIGTERM: the attempt under way ends (at its deadline at worst), and no other is started."""
    feed(store, detection(1), detection(2))
    d = AlertDispatcher(
        store, {"archive": FileNotifier("archive", archive)}, [Subscription(channel="archive")], RETRY, now=clock
    )
    d.deliverer.stopping = lambda: True
    assert d.cycle().tally.sent == 0
    assert {r.status for r in ledger(store).values()} == {"outstanding"} and lines(archive) == []
    d.deliverer.stopping = lambda: False
    assert d.cycle().tally.sent == 2


def _trickling_slack(receiver: Trickle) -> SlackNotifier:
    # slack-sdk's timeout is per socket read, as urllib's: a server answering a byte a second is never timed out
    return SlackNotifier("slack-ops", "#dprk-russia", "xoxb-test", base_url=f"{receiver.url}/api/", timeout=3)


def test_a_notifier_call_past_its_lease_is_given_up_and_the_other_channels_are_delivered(
    store: MemoryStore, archive: Path, clock: Clock
) -> None:
    """The delivery stage bounds the notifier calls of a claim by its lease (3 s here), whatever the notifier's own
    timeouts do: Slack (slack-sdk) trickled a byte a second, and the file channel of the same cycle is delivered."""
    receiver = Trickle(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    try:
        retry = RETRY.model_copy(update={"lease": timedelta(seconds=3)})
        notifiers = {"slack-ops": _trickling_slack(receiver), "archive": FileNotifier("archive", archive)}
        d = AlertDispatcher(store, notifiers, SUBS, retry, now=clock)
        feed(store, detection(1))
        report = _cycle_within(d)
    finally:
        receiver.close()
    rows = ledger(store)
    slack_row = rows[("det0001", "slack-ops")]
    assert slack_row.status == "outstanding" and slack_row.unsure, slack_row
    assert "no answer within the claim's lease (3s)" in slack_row.detail, slack_row.detail
    assert rows[("det0001", "archive")].status == "sent" and len(lines(archive)) == 1
    assert report.tally.sent == 1 and report.tally.failed == 1


def test_a_stop_ends_a_stalled_notifier_call_at_once(store: MemoryStore, archive: Path, clock: Clock) -> None:
    """SIGTERM (`stopping`) while a call is stalled: the pass ends without waiting for the call or its lease."""
    receiver = Trickle(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    try:
        retry = RETRY.model_copy(update={"lease": timedelta(hours=1)})
        notifiers = {"slack-ops": _trickling_slack(receiver), "archive": FileNotifier("archive", archive)}
        d = AlertDispatcher(store, notifiers, [SUBS[0]], retry, now=clock)
        feed(store, detection(1))
        d.deliverer.stopping = lambda: receiver.posts > 0  # asked to stop once the call is under way
        _cycle_within(d)
    finally:
        receiver.close()
    slack_row = ledger(store)[("det0001", "slack-ops")]
    assert slack_row.status == "outstanding" and slack_row.unsure and "stopping" in slack_row.detail, slack_row
