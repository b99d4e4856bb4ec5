"""AlertDispatcher end to end: detection events in a MemoryStore -> Slack (local fake), file, console, webhook."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.slack_server import FakeSlack
from watchfloor.alerts.dispatcher import PROCESSOR, AlertDispatcher
from watchfloor.alerts.notifiers.base import Notifier, PermanentError, TransientError
from watchfloor.alerts.notifiers.console import ConsoleNotifier
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.alerts.notifiers.slack import SlackNotifier
from watchfloor.alerts.notifiers.webhook import WebhookNotifier
from watchfloor.schemas.config import RetryPolicy, Subscription
from watchfloor.schemas.events import Alert, Delivery, Detection, Event, Evidence, detection_event
from watchfloor.stream_processors.ports import Checkpoint
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional

T0 = datetime(2024, 11, 4, 9, 0, tzinfo=UTC)
NOW = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)


def detection(n: int, *, severity: str = "high", rule: str = "shells-shipped") -> Detection:
    return Detection(
        id=f"det{n:04d}",
        rule=rule,
        title=f"Rail cars said to carry artillery shells westward (#{n})",
        severity=severity,
        tags=("dprk", "russia"),
        group={"route": "RAJIN-TUMANGANG"},
        fired_at=T0 + timedelta(minutes=n),
        confidence="confirmed",
        attributes={"place": ["RAJIN"]},
        evidence=(
            Evidence(
                event_id=f"story-{n}",
                signal="munitions_moved",
                source="Coastal Observer",
                url=f"https://observer.example.net/{n}",
                published_at=T0,
                sentence="Satellite images appear to show containers stacked at the port.",
                modality="hedged",
            ),
        ),
    )


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return tmp_path / "out" / "alerts.jsonl"


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


SUBS = [
    Subscription(channel="slack-ops", tags=["dprk"], min_severity="high"),
    Subscription(channel="archive"),
]
RETRY = RetryPolicy(attempts=3, backoff=timedelta(milliseconds=250), max_backoff=timedelta(seconds=2))


def make(
    store: MemoryStore,
    slack_server: FakeSlack,
    archive: Path,
    sleeps: Sleeps,
    *,
    extra: dict[str, Notifier] | None = None,
    subs: list[Subscription] | None = None,
) -> AlertDispatcher:
    notifiers: dict[str, Notifier] = {
        "slack-ops": SlackNotifier("slack-ops", "#dprk-russia", slack_server.token, base_url=slack_server.base_url),
        "archive": FileNotifier("archive", archive),
        **(extra or {}),
    }
    return AlertDispatcher(store, notifiers, subs or SUBS, RETRY, sleep=sleeps, now=lambda: NOW)


def feed(store: MemoryStore, *dets: Detection) -> None:
    noise = Event(id="doc-x", type="news.article", time=T0, payload={"title": "unrelated"})
    store.append([noise, *(detection_event(d) for d in dets)])


def deliveries(store: MemoryStore) -> list[Delivery]:
    return [Delivery.model_validate(se.event.payload) for se in store.read(0, types={"delivery"})]


def by_channel(store: MemoryStore) -> dict[tuple[str, str], Delivery]:
    return {(d.alert_id, d.channel): d for d in deliveries(store)}


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_routes_and_delivers_each_detection(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, sleeps: Sleeps
) -> None:
    feed(store, detection(1), detection(2, severity="medium"), detection(3, severity="critical"))
    dispatcher = make(store, slack_server, archive, sleeps)

    assert dispatcher.run_once() == 3

    # slack only gets high and above; the archive gets everything
    assert [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.messages] == ["det0001", "det0003"]
    assert [line["id"] for line in lines(archive)] == ["det0001", "det0002", "det0003"]
    assert lines(archive)[0]["channels"] == ["slack-ops", "archive"]

    alerts = [Alert.model_validate(se.event.payload) for se in store.read(0, types={"alert"})]
    assert [(a.id, a.channels) for a in alerts] == [
        ("det0001", ("slack-ops", "archive")),
        ("det0002", ("archive",)),
        ("det0003", ("slack-ops", "archive")),
    ]
    got = by_channel(store)
    assert len(got) == 5
    assert all(d.status == "sent" and d.attempts == 1 and d.at == NOW for d in got.values())
    assert got[("det0001", "slack-ops")].detail == slack_server.messages[0]["ts"]
    assert store.delivery_status("det0003", "slack-ops") == "sent"
    assert store.delivery_status("det0002", "slack-ops") is None
    last_detection = store.read(0, types={"detection"})[-1].position
    assert store.load_checkpoint(PROCESSOR).position == last_detection
    assert sleeps == []


def test_rate_limited_then_delivered_exactly_once(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, sleeps: Sleeps
) -> None:
    slack_server.fail_next("chat.postMessage", status=429, headers={"Retry-After": "1"})
    feed(store, detection(1))

    make(store, slack_server, archive, sleeps).run_once()

    assert len(slack_server.requests_for("chat.postMessage")) == 2
    assert len(slack_server.messages) == 1
    assert sleeps == [1.0]  # Retry-After (1s) wins over the 0.25s backoff
    d = by_channel(store)[("det0001", "slack-ops")]
    assert (d.status, d.attempts) == ("sent", 2)
    assert store.delivery_status("det0001", "slack-ops") == "sent"


def test_second_run_fresh_dispatcher_and_replay_send_nothing_new(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, sleeps: Sleeps
) -> None:
    feed(store, detection(1), detection(2))
    assert make(store, slack_server, archive, sleeps).run_once() == 2
    sent, archived, events = len(slack_server.messages), len(lines(archive)), store.head()
    assert (sent, archived) == (2, 2)

    assert make(store, slack_server, archive, sleeps).run_once() == 0  # a restart resumes at the checkpoint

    # even replaying from the start, the ledger keeps every channel from being told twice
    store.commit(PROCESSOR, Checkpoint(0, None), [])
    again = make(store, slack_server, archive, sleeps)
    assert again.run_once() == 2
    assert again.run_once() == 0
    assert len(slack_server.messages) == sent
    assert len(lines(archive)) == archived
    assert store.head() == events  # the re-emitted alert/delivery events have the same ids: not added again


def test_sent_in_ledger_but_not_recorded_is_recorded_without_sending(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, sleeps: Sleeps
) -> None:
    """A crash after the ledger said "sent" but before the commit: the restart records, and does not resend."""
    feed(store, detection(1))
    store.mark_delivery("det0001", "slack-ops", "sent", "1700000001.000001")

    make(store, slack_server, archive, sleeps).run_once()

    assert slack_server.messages == []
    d = by_channel(store)[("det0001", "slack-ops")]
    assert (d.status, d.attempts) == ("sent", 0)
    assert by_channel(store)[("det0001", "archive")].status == "sent"


def test_pending_in_ledger_and_not_in_slack_is_sent(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, sleeps: Sleeps
) -> None:
    """A crash mid-send leaves "pending"; the message never reached Slack: the restart sends it."""
    slack_server.channels = {"#dprk-russia"}  # the workspace's channels (listed by conversations.list)
    feed(store, detection(1))
    store.mark_delivery("det0001", "slack-ops", "pending")
    make(store, slack_server, archive, sleeps).run_once()
    assert len(slack_server.messages) == 1
    assert slack_server.requests_for("conversations.history"), "the restart should have looked first"
    d = by_channel(store)[("det0001", "slack-ops")]
    assert (d.status, d.attempts) == ("sent", 1)


def test_pending_in_ledger_but_already_in_slack_is_not_sent_again(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, sleeps: Sleeps
) -> None:
    """The crash came after Slack accepted the message and before the ledger said "sent" (the window
    of at-least-once delivery): the restart finds the alert id in the channel's message metadata."""
    feed(store, detection(1), detection(3))
    slack = SlackNotifier("slack-ops", "#dprk-russia", slack_server.token, base_url=slack_server.base_url)
    store.mark_delivery("det0001", "slack-ops", "pending")
    ts = slack.send(Alert(id="det0001", detection=detection(1), channels=("slack-ops",)))  # the crashed process
    slack_server.send_unrelated("#dprk-russia", count=250)  # newer chatter: the lookup pages back

    make(store, slack_server, archive, sleeps).run_once()  # a fresh process, channel known only by name

    ids = [m.get("metadata", {}).get("event_payload", {}).get("alert_id") for m in slack_server.messages]
    assert ids.count("det0001") == 1 and ids.count("det0003") == 1
    d = by_channel(store)[("det0001", "slack-ops")]
    assert (d.status, d.attempts) == ("sent", 0) and ts in d.detail
    assert store.delivery_status("det0001", "slack-ops") == "sent"
    assert slack_server.requests_for("conversations.list"), "a channel name is resolved to its ID first"


def test_pending_and_slack_history_unavailable_sends_again(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    """When Slack cannot say (here: history fails), a duplicate beats a lost alert: send, and say why."""
    feed(store, detection(1))
    store.mark_delivery("det0001", "slack-ops", "pending")
    slack_server.fail_next("conversations.history", status=200, body={"ok": False, "error": "missing_scope"})
    with caplog.at_level("WARNING"):
        make(store, slack_server, archive, sleeps).run_once()
    assert len(slack_server.messages) == 1
    assert "cannot tell whether det0001 reached slack-ops" in caplog.text
    assert slack_server.token not in caplog.text


def test_permanent_failure_on_one_channel_still_delivers_the_other(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, sleeps: Sleeps
) -> None:
    slack_server.fail_next("chat.postMessage", body={"ok": False, "error": "channel_not_found"})
    feed(store, detection(1), detection(2))

    assert make(store, slack_server, archive, sleeps).run_once() == 2

    got = by_channel(store)
    failed = got[("det0001", "slack-ops")]
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "channel_not_found" in failed.detail
    assert store.delivery_status("det0001", "slack-ops") == "failed"
    assert sleeps == []  # no retry for a permanent error
    assert got[("det0001", "archive")].status == "sent"
    assert got[("det0002", "slack-ops")].status == "sent"  # the batch went on
    assert [line["id"] for line in lines(archive)] == ["det0001", "det0002"]
    assert len(slack_server.messages) == 1


def test_transient_failures_give_up_after_the_attempts_with_capped_backoff(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, sleeps: Sleeps
) -> None:
    slack_server.fail_next("chat.postMessage", status=500, times=3)
    feed(store, detection(1), detection(2))

    make(store, slack_server, archive, sleeps).run_once()

    d = by_channel(store)[("det0001", "slack-ops")]
    assert (d.status, d.attempts) == ("failed", 3)
    assert "500" in d.detail
    assert sleeps == [0.25, 0.5]  # no sleep after the last attempt
    assert by_channel(store)[("det0002", "slack-ops")].status == "sent"
    assert slack_server.token not in json.dumps([se.event.payload for se in store.read(0)])


def test_backoff_schedule() -> None:
    policy = RetryPolicy(attempts=10, backoff=timedelta(seconds=1), max_backoff=timedelta(seconds=5))
    d = AlertDispatcher(MemoryStore(), {}, [], policy, sleep=lambda _: None)
    assert [d.backoff(n) for n in range(1, 6)] == [1, 2, 4, 5, 5]
    assert d.backoff(1, retry_after=3) == 3
    assert d.backoff(4, retry_after=1) == 5
    assert d.backoff(1, retry_after=30) == 30  # the server's word beats our cap


class Flaky:
    """A notifier that fails as told, then succeeds."""

    def __init__(self, name: str, *errors: Exception) -> None:
        self.name = name
        self.errors = list(errors)
        self.sent: list[str] = []

    def send(self, alert: Alert) -> str:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(alert.id)
        return "ok"


def test_a_broken_notifier_or_missing_channel_does_not_stop_the_batch(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, sleeps: Sleeps
) -> None:
    buggy = Flaky("buggy", KeyError("oops"))
    subs = [Subscription(channel="buggy"), Subscription(channel="ghost"), Subscription(channel="archive")]
    feed(store, detection(1), detection(2))

    make(store, slack_server, archive, sleeps, extra={"buggy": buggy}, subs=subs).run_once()

    got = by_channel(store)
    assert got[("det0001", "buggy")].status == "failed" and "KeyError" in got[("det0001", "buggy")].detail
    assert got[("det0002", "buggy")].status == "sent"
    assert got[("det0001", "ghost")].status == "failed" and "no notifier" in got[("det0001", "ghost")].detail
    assert [line["id"] for line in lines(archive)] == ["det0001", "det0002"]


def test_transient_error_then_success_with_custom_notifier(store: MemoryStore, sleeps: Sleeps) -> None:
    flaky = Flaky("flaky", TransientError("busy"), TransientError("busy", retry_after=0.1))
    feed(store, detection(1))
    AlertDispatcher(store, {"flaky": flaky}, [Subscription(channel="flaky")], RETRY, sleep=sleeps).run_once()
    assert flaky.sent == ["det0001"]
    assert sleeps == [0.25, 0.5]
    assert by_channel(store)[("det0001", "flaky")].attempts == 3


def test_permanent_error_from_custom_notifier(store: MemoryStore, sleeps: Sleeps) -> None:
    flaky = Flaky("flaky", PermanentError("no such room"))
    feed(store, detection(1))
    AlertDispatcher(store, {"flaky": flaky}, [Subscription(channel="flaky")], RETRY, sleep=sleeps).run_once()
    assert flaky.sent == []
    assert by_channel(store)[("det0001", "flaky")].detail == "permanent: no such room"


def test_unreadable_detection_goes_to_dead_letters(store: MemoryStore, sleeps: Sleeps) -> None:
    flaky = Flaky("flaky")
    bad = Event(id="broken", type="detection", time=T0, payload={"rule": "x"})
    store.append([bad, detection_event(detection(1))])
    dispatcher = AlertDispatcher(store, {"flaky": flaky}, [Subscription(channel="flaky")], RETRY, sleep=sleeps)
    assert dispatcher.run_once() == 2
    assert flaky.sent == ["det0001"]
    [dead] = store.read(0, types={"dead_letter"})
    assert dead.event.payload["stage"] == "notify" and dead.event.payload["origin"] == "event:broken"


def test_limit_and_no_match(store: MemoryStore, sleeps: Sleeps) -> None:
    flaky = Flaky("flaky")
    subs = [Subscription(channel="flaky", rules=["other-rule"])]
    feed(store, *(detection(n) for n in range(5)))
    dispatcher = AlertDispatcher(store, {"flaky": flaky}, subs, RETRY, sleep=sleeps)
    assert dispatcher.run_once(limit=2) == 2
    assert dispatcher.run_once(limit=10) == 3
    assert dispatcher.run_once() == 0
    assert flaky.sent == []
    assert store.count(types={"alert", "delivery"}) == 0  # routed nowhere: nothing to record


# --- console and webhook channels ------------------------------------------------------------------------


class _Hook:
    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []


@pytest.fixture
def webhook() -> Iterator[tuple[str, _Hook]]:
    hook = _Hook()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = hook.statuses.pop(0) if hook.statuses else 200
            if status == 200:
                hook.received.append((dict(self.headers.items()), json.loads(body)))
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "2")
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/hooks/s3cr3t-path", hook
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_console_and_webhook_channels(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, sleeps: Sleeps, webhook: tuple[str, _Hook]
) -> None:
    url, hook = webhook
    hook.statuses = [429, 503]
    out = io.StringIO()
    extra: dict[str, Notifier] = {
        "console": ConsoleNotifier("console", stream=out),
        "hook": WebhookNotifier("hook", url, timeout=5),
    }
    subs = [*SUBS, Subscription(channel="console"), Subscription(channel="hook")]
    det = detection(1).model_copy(update={"title": "Shells [bold]moved[/bold] <!channel>"})
    feed(store, det)

    make(store, slack_server, archive, sleeps, extra=extra, subs=subs).run_once()

    got = by_channel(store)
    assert all(d.status == "sent" for d in got.values()), got
    assert got[("det0001", "hook")].attempts == 3
    assert sleeps == [2.0, 0.5]  # Retry-After: 2, then plain backoff
    [(headers, body)] = hook.received
    assert headers["Idempotency-Key"] == "det0001"
    assert body["alert"]["detection"]["rule"] == "shells-shipped"
    printed = out.getvalue()
    assert "[bold]moved[/bold]" in printed  # article text is not rich markup
    assert "Coastal Observer" in printed and "HIGH" in printed


def test_webhook_errors_hide_the_secret_path(webhook: tuple[str, _Hook]) -> None:
    url, hook = webhook
    notifier = WebhookNotifier("hook", url)
    alert = Alert(id="det0001", detection=detection(1), channels=("hook",))
    hook.statuses = [404, 429]
    with pytest.raises(PermanentError) as perm:
        notifier.send(alert)
    with pytest.raises(TransientError) as trans:
        notifier.send(alert)
    assert trans.value.retry_after == 2
    for err in (perm.value, trans.value):
        assert "s3cr3t" not in str(err)
    assert "s3cr3t" not in repr(notifier)
