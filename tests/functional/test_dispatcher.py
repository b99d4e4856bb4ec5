"""AlertDispatcher end to end: detection events in a store -> the delivery ledger -> Slack (local fake), file,
console, webhook. The clock is the test's; nothing sleeps. Faults are in test_delivery_faults.py, threads in
test_threads.py."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import (
    NOW,
    RETRY,
    SUBS,
    T0,
    Clock,
    Hook,
    Recorder,
    deliveries,
    detection,
    feed,
    ledger,
    lines,
    make,
    slack,
    webhook_server,
)
from watchfloor.alerts.dispatcher import PROCESSOR, AlertDispatcher, dispatcher_id
from watchfloor.alerts.notice import notice_of
from watchfloor.alerts.notifiers.base import Notifier, PermanentError, TransientError
from watchfloor.alerts.notifiers.console import ConsoleNotifier
from watchfloor.alerts.notifiers.slack import SlackNotifier
from watchfloor.alerts.notifiers.webhook import WebhookNotifier
from watchfloor.cli.alerts import delivery_summary
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import Alert, Event, Retraction, alert_event, detection_event, retraction_event
from watchfloor.stream_processors.ports import Checkpoint, DeliveryRecord
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


def test_routes_and_delivers_each_detection(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    feed(
        store,
        detection(1),
        detection(2, severity="medium", group={"route": "B"}),
        detection(3, severity="critical", group={"route": "C"}),
    )
    report = make(store, slack_server, archive, clock).cycle()

    assert (report.taken, report.enqueued, report.tally.sent, report.outstanding, report.ok) == (3, 5, 5, 0, True)
    # slack only gets high and above; the archive gets everything
    assert [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.messages] == ["det0001", "det0003"]
    assert [line["id"] for line in lines(archive)] == ["det0001", "det0002", "det0003"]
    assert lines(archive)[0]["channels"] == ["slack-ops", "archive"] and lines(archive)[0]["kind"] == "alert"

    alerts = [Alert.model_validate(se.event.payload) for se in store.read(0, types={"alert"})]
    assert [(a.id, a.channels) for a in alerts] == [
        ("det0001", ("slack-ops", "archive")),
        ("det0002", ("archive",)),
        ("det0003", ("slack-ops", "archive")),
    ]
    got = {(d.alert_id, d.channel): d for d in deliveries(store)}
    assert len(got) == 5
    assert all(d.status == "sent" and d.attempts == 1 and d.at == NOW for d in got.values())
    ref = ledger(store)[("det0001", "slack-ops")].ref
    assert ref.endswith(slack_server.messages[0]["ts"]) and got[("det0001", "slack-ops")].detail == ref
    assert store.delivery_status("det0003", "slack-ops") == "sent"
    assert store.delivery_status("det0002", "slack-ops") is None
    last_detection = store.read(0, types={"detection"})[-1].position
    assert store.load_checkpoint(PROCESSOR).position == last_detection


def test_second_run_fresh_dispatcher_and_replay_send_nothing_new(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    feed(store, detection(1), detection(2, group={"route": "B"}))
    assert make(store, slack_server, archive, clock).run_once() == 2
    sent, archived, events = len(slack_server.messages), len(lines(archive)), store.head()
    assert (sent, archived) == (2, 2)

    assert make(store, slack_server, archive, clock).run_once() == 0  # a restart resumes at the checkpoint

    # even replaying from the start, the ledger keeps every channel from being told twice
    store.commit(PROCESSOR, Checkpoint(0, None), [])
    again = make(store, slack_server, archive, clock)
    assert again.run_once() == 2
    assert again.run_once() == 0
    assert len(slack_server.messages) == sent
    assert len(lines(archive)) == archived
    assert store.head() == events  # the re-emitted alert events have the same ids: not added again


def test_an_interrupted_attempt_not_in_slack_is_sent(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """A dispatcher claimed the delivery and died before sending: once its lease runs out, the next one looks
    in the channel (nothing there) and sends."""
    slack_server.channels = {"#dprk-russia"}  # the workspace's channels (listed by conversations.list)
    feed(store, detection(1))
    first = make(store, slack_server, archive, clock)
    first.intake()
    assert store.claim_deliveries("crashed", clock().timestamp(), 30, limit=10)  # ...and never settles
    clock.advance(31)
    make(store, slack_server, archive, clock).cycle()
    assert len(slack_server.messages) == 1
    assert slack_server.requests_for("conversations.history"), "the next dispatcher should have looked first"
    assert ledger(store)[("det0001", "slack-ops")].status == "sent"
    assert len(lines(archive)) == 1  # the file channel looked too (for the alert's key) before appending


def test_a_delivery_another_dispatcher_is_sending_does_not_fail_this_one(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """Two `--once` runs on one store: a row the other holds a live lease on is in flight, not left undelivered
    (outside audit: each run exited 3 for what the other was sending). Once the lease runs out unsettled, it is."""
    feed(store, detection(1))
    make(store, slack_server, archive, clock).intake()
    assert store.claim_deliveries("other-process", clock().timestamp(), 30, skip_channels={"archive"})
    this = make(store, slack_server, archive, clock)
    report = this.cycle()
    assert (report.outstanding, report.elsewhere, report.ok) == (1, 1, True)
    said = delivery_summary(report, this)
    assert "1 being sent by another process, 0 outstanding," in said, said  # in flight, not outstanding (M3-4)
    assert slack_server.messages == []  # not sent twice: it is the other's
    clock.advance(31)  # the other died: its lease ran out, the row is this dispatcher's to send
    report = make(store, slack_server, archive, clock).cycle()
    assert (report.outstanding, report.elsewhere, report.ok, len(slack_server.messages)) == (0, 0, True, 1)


def test_a_delivery_held_by_a_killed_process_of_this_host_is_taken_over_once_its_post_could_have_landed(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Outside audit: `run --once` right after a `kill -9` of another one mid-send said "1 being sent by another
    process" and exited 0, while nobody was sending it. Outside trial 11, LOW 4: the killed process's deliveries
    then waited out its lease (2 min). A lease of a process of this host that is gone is taken over at once, and
    sent once a post it had on its way has landed (outside trial 36, H1: Slack slow to post, the look came first and
    found nothing, and the alert was posted twice): the channel is looked in first (it may have got through)."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    slack_server.channels = {"#dprk-russia"}
    feed(store, detection(1))
    make(store, slack_server, archive, clock).intake()
    here = dispatcher_id().rsplit(":", 1)[1]  # this boot and pid namespace
    dead_owner = f"{socket.gethostname()}:{gone.pid}:0badf00d:{here}"
    assert store.claim_deliveries(dead_owner, clock().timestamp(), 30, skip_channels={"archive"})
    with caplog.at_level("WARNING"):
        report = make(store, slack_server, archive, clock).cycle()  # the lease has 30 s to run: not waited for
    # ... but the look and the post of the killed one (5 s each here) may still land: not yet, and not "elsewhere"
    assert (report.outstanding, report.elsewhere) == (1, 0)
    assert not slack_server.requests_for("chat.postMessage")
    # Outside trial 20, L2: a holder stopped at SIGTERM leaves its claim too; nothing durable tells it from a kill.
    assert "no longer running (stopped or killed mid-send): taken over from " in caplog.text, caplog.text
    assert "when an attempt it had on its way has landed" in caplog.text
    clock.advance(10)
    report = make(store, slack_server, archive, clock).cycle()  # the lease (30 s) still runs: not waited for
    assert (report.outstanding, report.elsewhere, report.ok) == (0, 0, True)
    assert slack_server.requests_for("conversations.history"), "it may have got through: looked in the channel first"
    assert len(slack_server.messages_for("det0001")) == 1

    feed(store, detection(2, group={"route": "B"}))
    make(store, slack_server, archive, clock).intake()
    live_owner = f"{socket.gethostname()}:{os.getpid()}:0badf00d:{here}"  # this very process: alive
    store.claim_deliveries(live_owner, clock().timestamp(), 30, skip_channels={"archive"})
    report = make(store, slack_server, archive, clock).cycle()
    assert (report.outstanding, report.elsewhere, report.ok) == (1, 1, True)
    # The same pid in another pid namespace (a container with this host name): not ours to judge, in flight.
    other_space = f"{socket.gethostname()}:{gone.pid}:0badf00d:{here}x"
    clock.advance(31)
    store.claim_deliveries(other_space, clock().timestamp(), 30, skip_channels={"archive"})
    report = make(store, slack_server, archive, clock).cycle()
    assert (report.outstanding, report.elsewhere, report.ok) == (1, 1, True)
    assert slack_server.messages_for("det0002") == []


def test_a_delivery_taken_over_from_a_stopped_process_still_goes_before_the_channels_later_ones(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """Outside trial 69, M2: a SIGTERM mid-send, a restart, and while the taken-over row waited for a post the stopped
    process may have had on its way, the channel's later alerts were posted; the held one then went last, as "Sent
    late". The channel's other rows wait with it: the earlier alert still goes first."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    slack_server.channels = {"#dprk-russia"}
    feed(store, detection(1))
    make(store, slack_server, archive, clock).intake()
    here = dispatcher_id().rsplit(":", 1)[1]
    dead_owner = f"{socket.gethostname()}:{gone.pid}:0badf00d:{here}"
    assert store.claim_deliveries(dead_owner, clock().timestamp(), 30, skip_channels={"archive"})
    clock.advance(1)
    feed(store, detection(2, group={"route": "B"}))  # a later alert of the channel, fired after the first
    report = make(store, slack_server, archive, clock).cycle()
    assert report.outstanding == 2 and not slack_server.requests_for("chat.postMessage"), "none before the first"
    clock.advance(10)
    report = make(store, slack_server, archive, clock).cycle()
    assert report.outstanding == 0, report
    posted = [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.messages]
    assert posted == ["det0001", "det0002"], posted


def test_a_webhook_taken_over_from_a_killed_process_is_said_to_be_sent_again_not_looked_for(
    store: MemoryStore,
    slack_server: FakeSlack,
    archive: Path,
    clock: Clock,
    webhook: Hook,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Trial 42, MED-1: the take-over of a webhook's delivery said "looking in the channel before sending", and posted
    it again (a webhook cannot be looked in): the line says what happens, the same Idempotency-Key again."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    extra: dict[str, Notifier] = {"hook": WebhookNotifier("hook", webhook.url, timeout=5)}
    subs = [*SUBS, Subscription(channel="hook")]
    feed(store, detection(1))
    make(store, slack_server, archive, clock, extra=extra, subs=subs).intake()
    here = dispatcher_id().rsplit(":", 1)[1]
    dead_owner = f"{socket.gethostname()}:{gone.pid}:0badf00d:{here}"
    assert store.claim_deliveries(dead_owner, clock().timestamp(), 30, skip_channels={"archive", "slack-ops"})
    with caplog.at_level("WARNING"):
        make(store, slack_server, archive, clock, extra=extra, subs=subs).cycle()
    said = [r.getMessage() for r in caplog.records if "no longer running" in r.getMessage()]
    assert len(said) == 1 and " -> hook " in said[0], caplog.text
    assert said[0].endswith(
        "it cannot be looked in: sending again with the same Idempotency-Key; the receiver de-duplicates"
    ), said
    assert "looking in the channel" not in said[0]


def _child(script: str, *args: str) -> subprocess.Popen[str]:
    """A Python process of this checkout running `script` with `args`, its stdout read by the test."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, env=env)


CLAIMER = """
import sys, time
from watchfloor.alerts.dispatcher import dispatcher_id
from watchfloor.wiring import open_store
st = open_store(sys.argv[1])
[claimed] = st.claim_deliveries(dispatcher_id(), float(sys.argv[2]), 120.0, skip_channels={"archive"})
print(claimed.alert_id, flush=True)
time.sleep(600)  # "sending": killed here
"""


def test_a_dispatcher_killed_mid_send_has_its_claim_taken_over_by_the_next(
    slack_server: FakeSlack, archive: Path, clock: Clock, tmp_path: Path
) -> None:
    """A real process claims a delivery in a SQLite store with its own lease owner (host, pid, boot and pid
    namespace) and is killed with SIGKILL: the next dispatcher on this host takes the claim over in its first
    cycle, with 2 minutes of lease still to run, and sends it once a post of the killed one has landed (10 s: the
    look and the post, 5 s each), and the message reaches Slack once."""
    from watchfloor.wiring import open_store

    url = f"sqlite:///{tmp_path / 'wf.db'}"
    st = open_store(url)
    try:
        slack_server.channels = {"#dprk-russia"}
        feed(st, detection(1))
        make(st, slack_server, archive, clock).intake()
        claimer = _child(CLAIMER, url, str(clock().timestamp()))
        try:
            assert claimer.stdout is not None and claimer.stdout.readline().strip() == "det0001"
        finally:
            claimer.kill()
            claimer.wait()
        [row] = st.deliveries(alert_ids={"det0001"}, channel="slack-ops")
        assert row.lease_owner is not None and row.lease_owner.split(":")[1] == str(claimer.pid)
        d = make(st, slack_server, archive, clock)
        assert d.cycle().outstanding == 1 and not slack_server.requests_for("chat.postMessage")
        assert d.next_due() == 10
        clock.advance(10)
        report = d.cycle()
        assert (report.outstanding, report.ok) == (0, True)
        assert len(slack_server.messages_for("det0001")) == 1
        [row] = st.deliveries(alert_ids={"det0001"}, channel="slack-ops")
        assert row.status == "sent" and row.lease_owner is None
    finally:
        st.close()


SENDER = """
import sys
from watchfloor.alerts.dispatcher import dispatcher_id
from watchfloor.alerts.notice import notice_of
from watchfloor.alerts.notifiers.slack import SlackNotifier
from watchfloor.schemas.events import Alert
from watchfloor.wiring import open_store
st = open_store(sys.argv[1])
[claimed] = st.claim_deliveries(dispatcher_id(), float(sys.argv[2]), 120.0, skip_channels={"archive"})
print(claimed.alert_id, flush=True)
notifier = SlackNotifier("slack-ops", "#dprk-russia", sys.argv[4], base_url=sys.argv[3], timeout=5)
notifier.send(notice_of(Alert.model_validate(claimed.payload["alert"]), "slack-ops"))  # held by Slack: killed here
"""


def test_a_post_on_its_way_when_its_process_was_killed_is_not_posted_again(
    slack_server: FakeSlack, archive: Path, clock: Clock, tmp_path: Path
) -> None:
    """Outside trial 36, H1: Slack slow to carry out a post (2-4 s), its process killed with SIGKILL meanwhile and
    a dispatcher started at once: the take-over looked in the channel before the post had landed, found nothing
    and posted a copy. The take-over now waits out the killed process's longest attempt (10 s here) before its look,
    which finds the post that landed meanwhile."""
    from watchfloor.wiring import open_store

    url = f"sqlite:///{tmp_path / 'wf.db'}"
    st = open_store(url)
    try:
        slack_server.channels = {"#dprk-russia"}
        feed(st, detection(1))
        make(st, slack_server, archive, clock).intake()
        release, arrived = slack_server.hold_next("chat.postMessage")
        sender = _child(SENDER, url, str(clock().timestamp()), slack_server.base_url, slack_server.token)
        try:
            assert sender.stdout is not None and sender.stdout.readline().strip() == "det0001"
            assert arrived.wait(30), "the post reached Slack"
        finally:
            sender.kill()
            sender.wait()
        d = make(st, slack_server, archive, clock)
        d.cycle()  # taken over: not looked for nor sent yet
        assert not slack_server.requests_for("conversations.history")
        release.set()  # Slack carries the killed process's post out now
        for _ in range(100):
            if slack_server.messages_for("det0001"):
                break
            arrived.wait(0.05)
        clock.advance(10)
        report = d.cycle()
        assert (report.outstanding, report.ok) == (0, True)
        assert len(slack_server.messages_for("det0001")) == 1, "posted once: found by the look, not sent again"
        assert len(slack_server.requests_for("chat.postMessage")) == 1
    finally:
        st.close()


def test_a_post_of_a_killed_process_found_at_the_next_start_is_not_taken_for_a_restore(
    slack_server: FakeSlack, archive: Path, clock: Clock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Trial 46, MED-1: a `run` killed mid-post, the post landing, and the next start's look in the channel (from
    the ledger's newest delivery there) finds it: the ledger's own claim, of a process gone, not a store restored
    from a backup. Found and not posted again, with no restore warning."""
    import logging

    from watchfloor.wiring import open_store

    url = f"sqlite:///{tmp_path / 'wf.db'}"
    st = open_store(url)
    try:
        slack_server.channels = {"#dprk-russia"}
        feed(st, detection(1))
        assert make(st, slack_server, archive, clock).cycle().ok  # a delivery there: the look starts from it
        feed(st, detection(2, group={"route": "KHASAN"}))  # a story of its own: a message of its own, as SENDER posts
        make(st, slack_server, archive, clock).intake()
        release, arrived = slack_server.hold_next("chat.postMessage")
        sender = _child(SENDER, url, str(clock().timestamp()), slack_server.base_url, slack_server.token)
        try:
            assert sender.stdout is not None and sender.stdout.readline().strip() == "det0002"
            assert arrived.wait(30), "the post reached Slack"
        finally:
            sender.kill()
            sender.wait()
        release.set()  # the killed process's post lands
        for _ in range(100):
            if slack_server.messages_for("det0002"):
                break
            arrived.wait(0.05)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="watchfloor.alerts"):
            d = make(st, slack_server, archive, clock)  # the next start
            d.cycle()
            clock.advance(10)
            report = d.cycle()
        assert (report.outstanding, report.ok) == (0, True)
        assert len(slack_server.messages_for("det0002")) == 1, "posted once: found, not sent again"
        said = [r.getMessage() for r in caplog.records]
        assert not [m for m in said if "restored from a backup?" in m], said
        assert [m for m in said if "by an attempt the ledger holds as unsettled" in m], said
    finally:
        st.close()


def test_an_interrupted_attempt_already_in_slack_is_not_sent_again(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """The crash came after Slack accepted the message and before the ledger said "sent": the next dispatcher
    finds the key in the channel's message metadata and records it."""
    feed(store, detection(1), detection(3, group={"route": "C"}))
    make(store, slack_server, archive, clock).intake()
    [claimed] = store.claim_deliveries("crashed", clock().timestamp(), 30, skip_channels={"archive"})
    posted = slack(slack_server).send(notice_of(Alert.model_validate(claimed.payload["alert"]), "slack-ops"))  # type: ignore[index]
    slack_server.send_unrelated("#dprk-russia", count=250)  # newer chatter: the lookup pages back
    clock.advance(31)

    make(store, slack_server, archive, clock).cycle()  # a fresh process, channel known only by name

    assert len(slack_server.messages_for("det0001")) == 1 and len(slack_server.messages_for("det0003")) == 1
    row = ledger(store)[("det0001", "slack-ops")]
    assert (row.status, row.ref, row.attempts) == ("sent", posted, 1)
    assert slack_server.requests_for("conversations.list"), "a channel name is resolved to its ID first"


def test_an_interrupted_attempt_far_back_in_a_busy_channel_is_found_or_said_not_silently_posted_twice(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Outside trial 23, M1-1: the look read the channel's newest 1,000 messages only, and a message 1,200 back
    (a process back hours after its crash, in a busy channel) was posted again, with no warning. It reads back
    10,000 now; past its limit it says it cannot tell, and the dispatcher's "may arrive twice" warning is given."""
    feed(store, detection(1))
    make(store, slack_server, archive, clock).intake()
    [claimed] = store.claim_deliveries("crashed", clock().timestamp(), 30, skip_channels={"archive"})
    notice = notice_of(Alert.model_validate(claimed.payload["alert"]), "slack-ops")  # type: ignore[index]
    posted = slack(slack_server).send(notice)
    slack_server.send_unrelated("#dprk-russia", count=1200)
    clock.advance(31)
    make(store, slack_server, archive, clock).cycle()
    assert len(slack_server.messages_for("det0001")) == 1
    assert ledger(store)[("det0001", "slack-ops")].ref == posted

    # A look limited below the chatter cannot tell: an error that says so, not "not there".
    short = SlackNotifier("slack-ops", "#dprk-russia", slack_server.token, base_url=slack_server.base_url,
                          history_limit=400)  # fmt: skip
    with pytest.raises(PermanentError, match=r"not among the channel's newest 400 messages, and it holds more"):
        short.find_delivered(notice)
    assert (
        SlackNotifier(
            "slack-ops", "#dprk-russia", slack_server.token, base_url=slack_server.base_url, history_limit=1400
        ).find_delivered(notice)
        == posted
    )


def test_interrupted_and_history_refused_sends_again_and_says_why(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """When Slack can never say (a missing scope), a duplicate beats a lost alert: send, and say why."""
    feed(store, detection(1))
    make(store, slack_server, archive, clock).intake()
    store.claim_deliveries("crashed", clock().timestamp(), 30, skip_channels={"archive"})
    clock.advance(31)
    slack_server.fail_next("conversations.list", status=200, body={"ok": False, "error": "missing_scope"})
    with caplog.at_level("WARNING"):
        make(store, slack_server, archive, clock).cycle()
    assert len(slack_server.messages) == 1
    assert "cannot tell whether det0001 reached slack-ops" in caplog.text
    assert slack_server.token not in caplog.text


def test_first_version_rows_without_payload_are_sent_from_the_logged_alert(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """A store written by the first version: a 'pending' row (migrated to outstanding + unsure) with no payload;
    the alert comes from its alert event in the log."""
    det = detection(1)
    feed(store, det)
    make(store, slack_server, archive, clock).intake()
    legacy = DeliveryRecord("det0009", "archive", unsure=True, created_at=clock().timestamp())
    store.append(
        [alert_event(Alert(id="det0009", detection=detection(9, group={"route": "Z"}), channels=("archive",)))]
    )
    store.enqueue([legacy])
    make(store, slack_server, archive, clock).cycle()
    assert sorted(line["id"] for line in lines(archive)) == ["det0001", "det0009"]


def test_a_broken_notifier_or_missing_channel_does_not_stop_the_others(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    buggy = Recorder("buggy", KeyError("oops"))
    subs = [Subscription(channel="buggy"), Subscription(channel="ghost"), Subscription(channel="archive")]
    feed(store, detection(1), detection(2, group={"route": "B"}))

    report = make(store, slack_server, archive, clock, extra={"buggy": buggy}, subs=subs).cycle()

    rows = ledger(store)
    assert rows[("det0001", "buggy")].status == "outstanding" and "KeyError" in rows[("det0001", "buggy")].detail
    assert rows[("det0001", "buggy")].unsure  # a bug mid-send: it may have got through
    assert rows[("det0002", "buggy")].status == "sent"
    assert rows[("det0001", "ghost")].status == "outstanding" and "no notifier" in rows[("det0001", "ghost")].detail
    # No notifier here is no attempt (a process whose config names it sends it: outside trial 23, M1/M2-3); the
    # channel waits for the next cycle.
    assert rows[("det0001", "ghost")].attempts == rows[("det0002", "ghost")].attempts == 0
    assert [line["id"] for line in lines(archive)] == ["det0001", "det0002"]
    assert (report.tally.sent, report.tally.failed, report.outstanding, report.ok) == (3, 1, 3, False)


def test_custom_notifier_transient_then_sent_on_later_cycles(store: MemoryStore, clock: Clock) -> None:
    flaky = Recorder("flaky", TransientError("busy"), TransientError("busy", retry_after=7))
    feed(store, detection(1))
    d = AlertDispatcher(store, {"flaky": flaky}, [Subscription(channel="flaky")], RETRY, now=clock)
    d.cycle()
    row = ledger(store)[("det0001", "flaky")]
    assert (row.attempts, row.next_attempt_at - clock().timestamp()) == (1, 2)  # backoff 2s
    clock.advance(2)
    d.cycle()
    row = ledger(store)[("det0001", "flaky")]
    assert (row.attempts, row.not_before - clock().timestamp()) == (2, 7)  # Retry-After 7s beats 4s backoff
    clock.advance(6)
    assert d.cycle().tally.sent == 0
    clock.advance(1)
    assert d.cycle().tally.sent == 1 and flaky.keys == ["det0001"]
    assert [x.status for x in deliveries(store)] == ["failed", "failed", "sent"]


def test_permanent_error_stays_outstanding_until_fixed(store: MemoryStore, clock: Clock) -> None:
    flaky = Recorder("flaky", PermanentError("no such room"))
    feed(store, detection(1))
    d = AlertDispatcher(store, {"flaky": flaky}, [Subscription(channel="flaky")], RETRY, now=clock)
    assert not d.cycle().ok
    assert ledger(store)[("det0001", "flaky")].detail == "no such room"
    clock.advance(2)
    assert d.cycle().ok and flaky.keys == ["det0001"]


def test_unreadable_detection_goes_to_dead_letters(store: MemoryStore, clock: Clock) -> None:
    rec = Recorder("rec")
    bad = Event(id="broken", type="detection", time=T0, payload={"rule": "x"})
    store.append([bad, detection_event(detection(1))])
    dispatcher = AlertDispatcher(store, {"rec": rec}, [Subscription(channel="rec")], RETRY, now=clock)
    assert dispatcher.run_once() == 2
    assert rec.keys == ["det0001"]
    [dead] = store.read(0, types={"dead_letter"})
    assert dead.event.payload["stage"] == "notify" and dead.event.payload["origin"] == "event:broken"


def test_limit_and_no_match(store: MemoryStore, clock: Clock) -> None:
    rec = Recorder("rec")
    subs = [Subscription(channel="rec", rules=["other-rule"])]
    feed(store, *(detection(n) for n in range(5)))
    dispatcher = AlertDispatcher(store, {"rec": rec}, subs, RETRY, now=clock)
    assert dispatcher.run_once(limit=2) == 2
    assert dispatcher.run_once(limit=10) == 3
    assert dispatcher.run_once() == 0
    assert rec.sent == []
    assert store.count(types={"alert", "delivery"}) == 0  # routed nowhere: nothing to record
    assert dispatcher.cycle().ok


def test_console_and_webhook_channels(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    webhook.statuses = [429, 503]
    webhook.headers = {429: {"Retry-After": "9"}}
    out = io.StringIO()
    extra: dict[str, Notifier] = {
        "console": ConsoleNotifier("console", stream=out),
        "hook": WebhookNotifier("hook", webhook.url, timeout=5),
    }
    subs = [*SUBS, Subscription(channel="console"), Subscription(channel="hook")]
    det = detection(1).model_copy(update={"title": "Shells [bold]moved[/bold] <!channel>"})
    feed(store, det)

    d = make(store, slack_server, archive, clock, extra=extra, subs=subs)
    d.cycle()
    assert ledger(store)[("det0001", "hook")].not_before == clock().timestamp() + 9  # Retry-After, scheduled
    assert ledger(store)[("det0001", "console")].status == "sent"  # the 429 held up nothing else
    clock.advance(9)
    d.cycle()  # 503
    assert ledger(store)[("det0001", "hook")].unsure  # a 5xx: the receiver may have taken it
    clock.advance(4)
    d.cycle()

    assert ledger(store)[("det0001", "hook")].status == "sent" and ledger(store)[("det0001", "hook")].attempts == 3
    [(method, headers, body)] = webhook.received
    assert method == "POST" and headers["Idempotency-Key"] == "det0001"
    assert (
        body["alert"]["detection"]["rule"] == "shells-shipped" and body["kind"] == "alert" and body["key"] == "det0001"
    )
    printed = out.getvalue()
    assert "[bold]moved[/bold]" in printed  # article text is not rich markup
    assert "Coastal Observer" in printed and "HIGH" in printed


def test_webhook_errors_hide_the_secret_path(webhook: Hook) -> None:
    notifier = WebhookNotifier("hook", webhook.url)
    n = notice_of(Alert(id="det0001", detection=detection(1), channels=("hook",)))
    webhook.statuses = [404, 429]
    webhook.headers = {429: {"Retry-After": "2"}}
    with pytest.raises(PermanentError) as perm:
        notifier.send(n)
    with pytest.raises(TransientError) as trans:
        notifier.send(n)
    assert trans.value.retry_after == 2
    for err in (perm.value, trans.value):
        assert "s3cr3t" not in str(err)
    assert "s3cr3t" not in repr(notifier)


def test_old_news_starts_no_thread_where_a_subscription_sets_max_age(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """Outside audit: a first run over a feed's archive paged the desk for reports of months before. With max_age,
    an alert about reports older than that when raised is recorded as suppressed, with why; the archive channel
    (no max_age) still gets it; a follow-up of an alert the channel was sent still goes, however old."""
    subs = [Subscription(channel="slack-ops", max_age=timedelta(days=3)), Subscription(channel="archive")]
    feed(store, detection(1))  # fired 3h before the clock: news
    dispatcher = make(store, slack_server, archive, clock, subs=subs)
    dispatcher.cycle()
    assert len(slack_server.messages) == 1
    clock.advance(10 * 86_400)
    # A follow-up of that thread (same rule and group, fired an hour after it): old by now, but it updates what
    # the channel was told. And an alert of another group, as old: a new thread of old news, not sent.
    feed(store, detection(2, minutes=60), detection(3, minutes=61, group={"route": "TUMEN"}))
    report = dispatcher.cycle()
    rows = ledger(store)
    assert (rows[("det0002", "slack-ops")].kind, rows[("det0002", "slack-ops")].status) == ("followup", "sent")
    old = rows[("det0003", "slack-ops")]
    assert old.status == "suppressed" and old.detail.startswith("older than 3d when raised")
    assert rows[("det0003", "archive")].status == "sent"
    assert len(slack_server.messages) == 2 and report.ok


def test_the_same_alert_raised_again_is_not_sent_twice(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """Outside Kafka audit: a document re-sent to the documents topic after its group's state was let go raised
    the very alert again (same id, a new event: revision 1), and it went out a second time, as a follow-up of
    itself. Once withdrawn, the same alert raised again is news, and goes."""
    first = detection(1)
    feed(store, first)
    dispatcher = make(store, slack_server, archive, clock)
    dispatcher.cycle()
    assert len(slack_server.messages) == 1 and len(lines(archive)) == 1
    again = first.model_copy(update={"revision": 1})  # the same id, raised by a change of history
    store.append([detection_event(again)])
    dispatcher.cycle()
    assert len(slack_server.messages) == 1 and len(lines(archive)) == 1  # not told twice
    key = detection_event(again).id
    row = ledger(store)[(key, "slack-ops")]
    assert row.status == "suppressed" and row.detail.startswith("the same alert as det0001, already sent")
    # Withdrawn, then raised again: the channel is told both.
    gone = Retraction(alert_id=first.id, rule=first.rule, group=dict(first.group), reason="late report", revision=2,
                      at=first.fired_at)  # fmt: skip
    back = first.model_copy(update={"revision": 3})
    store.append([retraction_event(gone), detection_event(back)])
    dispatcher.cycle()
    assert ledger(store)[(retraction_event(gone).id, "slack-ops")].status == "sent"
    assert ledger(store)[(detection_event(back).id, "slack-ops")].status == "sent"


def test_a_fast_channel_with_many_deliveries_due_is_not_called_slow(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Outside trial 18, L1: a catch-up's volume used a local file channel's 5 s budget, and `channel archive is slow`
    was logged 57 times. Fast attempts that fill the budget are volume: the other channels still go first, nothing is
    called slow, and everything is sent in the cycle."""
    feed(store, *(detection(n, group={"route": str(n)}) for n in range(1, 31)))
    d = make(store, slack_server, archive, clock)
    d.deliverer.channel_budget = 0.01
    ticks = iter(range(1_000_000))
    d.deliverer.stopwatch = lambda: next(ticks) / 2000  # each attempt 1 ms (two looks), whatever the machine's load
    with caplog.at_level("INFO", logger="watchfloor.alerts.delivery"):
        report = d.cycle()
    assert report.ok and report.tally.sent == 60
    assert report.tally.slow_channels == set() and report.tally.busy_channels == {"slack-ops", "archive"}
    assert not [r for r in caplog.records if "is slow" in r.getMessage()]
    assert [r for r in caplog.records if "more due" in r.getMessage() and r.levelname == "INFO"]


def test_a_slow_channel_lets_the_others_go_first_and_still_delivers_in_the_cycle(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Outside operator audit F4: Slack answering each post after 8 s held the file channel, one line per Slack
    answer (16 archive lines took 2m10s). Now a channel whose attempts took its budget in a cycle waits until the
    others have nothing due, then sends the rest in the same cycle."""
    feed(store, *(detection(n, group={"route": str(n)}) for n in range(1, 5)))
    slack_server.slow_next("chat.postMessage", 0.4, times=4)  # slow, not failing: each post lands
    d = make(store, slack_server, archive, clock)
    d.deliverer.channel_budget = 0.3  # (5 s in production)
    d.deliverer.stopwatch = slack_server.answer_delays  # the server's delays, not a loaded machine's disk
    report = d.cycle()
    assert report.ok and report.tally.sent == 8 and report.tally.slow_channels == {"slack-ops"}
    order = [(x.channel, x.alert_id) for x in deliveries(store) if x.status == "sent"]
    # Seq order would interleave them (archive 1, slack 1, archive 2, slack 2, ...): after Slack's first slow
    # post, the archive got the other three, then Slack the rest, in the same cycle.
    assert order == [
        ("archive", "det0001"),
        ("slack-ops", "det0001"),
        *(("archive", f"det000{n}") for n in range(2, 5)),
        *(("slack-ops", f"det000{n}") for n in range(2, 5)),
    ]
    assert any("channel slack-ops is slow" in r.getMessage() for r in caplog.records)


def test_between_batches_a_slow_channel_leaves_its_rest_to_the_closing_cycle(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """`run` delivers after each batch of a poll (`finish_slow=False`) and closes the poll with a full cycle: a
    later source's alerts to the other channels do not wait for a slow Slack's backlog (outside re-check of F4)."""
    feed(store, *(detection(n, group={"route": str(n)}) for n in range(1, 4)))
    slack_server.slow_next("chat.postMessage", 0.4, times=3)
    d = make(store, slack_server, archive, clock)
    d.deliverer.channel_budget = 0.3
    d.deliverer.stopwatch = slack_server.answer_delays
    first = d.cycle(finish_slow=False)  # after a batch: Slack used its budget on one post
    assert (first.tally.sent, first.outstanding) == (4, 2) and len(lines(archive)) == 3
    feed(store, detection(4, group={"route": "4"}))  # the next source's alert
    second = d.cycle(finish_slow=False)
    assert len(lines(archive)) == 4  # the archive got it after one more slow post, not after all of Slack's
    closing = d.cycle()
    assert closing.ok and second.tally.sent + closing.tally.sent == 4 and len(slack_server.messages) == 4


def test_the_follow_up_of_a_killed_process_s_claim_goes_in_the_same_cycle(
    slack_server: FakeSlack, archive: Path, clock: Clock, tmp_path: Path
) -> None:
    """Outside trial 12, L2: after a dispatcher took over the claim of a killed one, the claimed alert went out but
    its follow-up stayed outstanding, "waiting for … to be delivered first", until the next cycle (`run --once`
    exit 3). The claim is taken over before the cycle's pass; once a post of the killed one has landed (10 s), the
    alert, then its follow-up in its thread, in one cycle."""
    from watchfloor.wiring import open_store

    url = f"sqlite:///{tmp_path / 'wf.db'}"
    st = open_store(url)
    try:
        slack_server.channels = {"#dprk-russia"}
        feed(st, detection(1), detection(2))  # same rule and group: det0002 follows det0001 up
        make(st, slack_server, archive, clock).intake()
        assert ledger(st)[("det0002", "slack-ops")].kind == "followup"
        claimer = _child(CLAIMER, url, str(clock().timestamp()))
        try:
            assert claimer.stdout is not None and claimer.stdout.readline().strip() == "det0001"
        finally:
            claimer.kill()
            claimer.wait()
        d = make(st, slack_server, archive, clock)
        assert d.cycle().outstanding == 2  # taken over, the follow-up waiting for it
        clock.advance(10)
        report = d.cycle()
        assert (report.outstanding, report.ok) == (0, True), ledger(st)
        [first] = slack_server.messages_for("det0001")
        [reply] = slack_server.messages_for("det0002")
        assert reply.get("thread_ts") == first["ts"]
    finally:
        st.close()
