"""What a thread says once some of its alerts no longer stand: timelines of detections, late revisions and
withdrawals through the real dispatcher, a SQLite store on disk, and every channel kind that threads (the local
Slack-compatible server, a local SMTP server, the console, a file and a local webhook receiver).

- "independent sources in the thread" counts the sources of the alerts that stand, each as its latest revision:
  a withdrawn alert's reports no longer support the story, and a replaced alert's sources count only as its
  revision's (they counted every alert ever told in the thread).
- A follow-up told after the thread's first alert was withdrawn leaves the first message saying that alert was
  withdrawn, and says which alert the thread now stands on and its state (it rewrote it as "Updated", as if the
  withdrawn alert stood, with its Acknowledge button back).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.fixtures.smtp_server import LocalSMTP
from tests.functional.delivery_helpers import RETRY, Clock, Hook, detection, lines, slack, webhook_server
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import AlertCatalog
from watchfloor.alerts.notifiers.base import Notifier
from watchfloor.alerts.notifiers.console import ConsoleNotifier
from watchfloor.alerts.notifiers.email import EmailNotifier
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.alerts.notifiers.webhook import WebhookNotifier
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import Detection, Retraction, detection_event, retraction_event
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional

RUS = {"party": "RUS"}
CATALOG = AlertCatalog(entity_names={"RUS": "Russia"}, open_periods={"troops": timedelta(days=2)})
CHANNELS = ("slack-ops", "mail", "console", "archive", "hook")
EXERCISE = "the first report was about an exercise"


@dataclass
class Desk:
    """One dispatcher over a SQLite store, with a channel of each kind that threads."""

    store: Store
    slack: FakeSlack
    smtp: LocalSMTP
    console: io.StringIO
    archive: Path
    hook: Hook
    dispatcher: AlertDispatcher

    def tell(self, *events: Any) -> None:
        self.store.append(list(events))
        assert self.dispatcher.cycle().ok

    def first_message(self) -> dict[str, Any]:
        [first] = [m for m in self.slack.messages if m.get("thread_ts") in (None, m["ts"])]
        return self.slack.message("#dprk-russia", first["ts"])  # as it reads now, after every chat.update

    def records(self) -> list[dict[str, Any]]:
        return lines(self.archive)

    def hooked(self) -> list[dict[str, Any]]:
        return [body for _, _, body in self.hook.received]

    def mails(self) -> list[str]:
        return [r.part("plain") for r in self.smtp.received]


@pytest.fixture
def hook() -> Iterator[Hook]:
    yield from webhook_server()


@pytest.fixture
def desk(tmp_path: Path, slack_server: FakeSlack, smtp_server: LocalSMTP, hook: Hook) -> Iterator[Desk]:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    console = io.StringIO()
    archive = tmp_path / "alerts.jsonl"
    mail = EmailNotifier(
        "mail", to=["desk@example.org"], sender="alerts@example.org", host=smtp_server.host, port=smtp_server.port,
        tls="none", timeout=5,
    )  # fmt: skip
    notifiers: dict[str, Notifier] = {
        "slack-ops": slack(slack_server),
        "mail": mail,
        "console": ConsoleNotifier("console", console=_wide(console)),
        "archive": FileNotifier("archive", archive),
        "hook": WebhookNotifier("hook", hook.url, timeout=5),
    }
    subs = [Subscription(channel=c) for c in CHANNELS]
    d = AlertDispatcher(store, notifiers, subs, RETRY, now=Clock(), catalog=CATALOG)
    try:
        yield Desk(store, slack_server, smtp_server, console, archive, hook, d)
    finally:
        store.close()


def _wide(stream: io.StringIO) -> Any:
    from rich.console import Console

    return Console(file=stream, width=400, highlight=False)  # one thread line per line: nothing wrapped


def troops(n: int, *, hours: float, sources: tuple[str, ...], severity: str = "medium", **kw: Any) -> Detection:
    return detection(
        n,
        rule="troops",
        group=RUS,
        severity=severity,
        minutes=int(hours * 60),
        sources=sources,
        confidence="confirmed" if len(sources) > 1 else "unconfirmed",
        **kw,
    )


def withdraw(alert_id: str, reason: str, revision: int) -> Any:
    gone = Retraction(
        alert_id=alert_id,
        rule="troops",
        group=RUS,
        reason=reason,
        revision=revision,
        at=datetime(2024, 11, 4, 10, tzinfo=UTC),
    )
    return retraction_event(gone)


def texts(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        return "\n".join(texts(v) for v in obj.values())
    if isinstance(obj, list):
        return "\n".join(texts(v) for v in obj)
    return ""


def status_of(message: dict[str, Any]) -> str:
    """The first message's status line (the context block under its facts)."""
    contexts = [b["elements"][0]["text"] for b in message["blocks"] if b["type"] == "context"]
    return next(text for text in contexts if text.startswith("*"))


def thread_lines(console: io.StringIO) -> list[str]:
    return [" ".join(line.strip(" │").split()) for line in console.getvalue().splitlines() if "thread" in line]


def test_independent_sources_count_only_the_alerts_that_stand(desk: Desk) -> None:
    """An alert (Moscow Daily), a follow-up (Meridian Wire, Harbor Ledger), a late report that moves the first alert
    to Meridian Wire's earlier report, then the follow-up withdrawn: the thread rests on 3, 3, then 2 independent
    sources (it said 3 throughout, before withdrawals counted). Moscow Daily's report, which the late report made a
    repeat of the revised alert, still stands: the message keeps it as told before, and the thread counts it (outside
    trial 30, F3: it vanished, and the thread said one source fewer). A source named twice, in another case, is one
    source."""
    desk.tell(detection_event(troops(1, hours=0, sources=("Moscow Daily",))))
    desk.tell(detection_event(troops(2, hours=1, severity="high", sources=("MERIDIAN WIRE", "Harbor Ledger"))))
    assert "3 independent sources and 1 update in the thread" in status_of(desk.first_message())

    # A late report: the first alert now rests on Meridian Wire's report; Moscow Daily's is held as a repeat.
    desk.tell(detection_event(troops(3, hours=0, sources=("Meridian Wire",), revises="det0001", revision=1)))
    first = desk.first_message()
    shown = texts(first["blocks"])
    evidence, told = shown.split("*Told before* (1)")
    assert "Meridian Wire" in evidence and "Moscow Daily" not in evidence  # the message shows the revised alert ...
    assert "Moscow Daily" in told and "still stand" in told  # ... and keeps what it told
    assert "3 independent sources and 2 updates in the thread" in status_of(first)

    # The follow-up is withdrawn: the revised first alert stands, with the report held back beside it.
    desk.tell(withdraw("det0002", "the wire retracted its report", revision=2))
    first = desk.first_message()
    assert "now :large_yellow_circle: MEDIUM (unconfirmed) · 2 independent sources and 3 updates" in status_of(first)

    # Every channel kind counts the same.
    assert [r["thread"]["sources"] for r in desk.records() if "thread" in r] == [3, 3, 2]
    assert [b["thread"]["sources"] for b in desk.hooked() if "thread" in b] == [3, 3, 2]
    said = thread_lines(desk.console)
    assert [line.split(" · ")[1] for line in said] == [
        "3 independent sources",
        "3 independent sources",
        "2 independent sources",
    ], said
    mails = desk.mails()
    assert "Sources: 3 independent in this thread" in mails[1]
    assert "Sources: 3 independent in this thread" in mails[2]
    assert "Sources: 2 independent in this thread" in mails[3]  # (the withdrawal says what stands after it)


def test_a_correction_drops_the_reports_told_before_it(desk: Desk) -> None:
    """A revision for a publisher's correction may have dropped a report because it changed: the message does not
    keep what it showed before it, and the thread does not count it."""
    desk.tell(detection_event(troops(1, hours=0, sources=("Moscow Daily",))))
    fixed = troops(3, hours=0, sources=("Meridian Wire",), revises="det0001", revision=1, cause="a report corrected")
    desk.tell(detection_event(fixed))
    first = desk.first_message()
    assert "Moscow Daily" not in texts(first["blocks"]) and "Told before" not in texts(first["blocks"])
    assert "1 independent source and 1 update in the thread" in status_of(first)


def test_a_follow_up_after_the_first_alert_was_withdrawn_leaves_the_first_message_withdrawn(desk: Desk) -> None:
    """The thread's first alert is withdrawn while a follow-up of it stands, then another follow-up of the story
    comes: the first message keeps saying the first alert was withdrawn, and now says which alert the thread stands
    on and its state; a revision of the follow-up later rewrites it the same way. Nothing reads as if the withdrawn
    alert stood again. (With no alert of the thread standing, the story would be over: the next alert a new message,
    test_thread_stories.)"""
    desk.tell(detection_event(troops(1, hours=0, sources=("Daily A",))))
    desk.tell(detection_event(troops(2, hours=1, severity="high", sources=("Wire B", "Radio C"))))
    desk.tell(withdraw("det0001", EXERCISE, revision=1))
    first = desk.first_message()
    assert first["blocks"][0]["text"]["text"].startswith("Withdrawn: ")

    desk.tell(detection_event(troops(3, hours=2, severity="high", sources=("Wire B", "Radio C", "Coast D"))))
    first = desk.first_message()
    said = texts(first["blocks"])
    assert "*Updated*" not in said, said
    assert first["blocks"][0]["text"]["text"].startswith("Withdrawn: ")
    assert first["text"].startswith("Withdrawn: ")
    assert status_of(first) == (
        f"*Withdrawn*: {EXERCISE} · the thread stands on alert det0003: now :large_orange_circle: HIGH · "
        "3 independent sources and 3 updates in the thread"
    )
    assert not any(b["type"] == "actions" for b in first["blocks"])  # nothing to acknowledge on a withdrawn alert
    assert first["metadata"]["event_payload"] == {"alert_id": "det0001", "rule": "troops", "kind": "alert"}
    [_, _, reply] = desk.slack.thread(first["ts"])
    assert "*Update* · :large_orange_circle: HIGH" in texts(reply["blocks"])  # the reply itself is as before

    # A late report revises the follow-up (a reply): the reply shows its revised alert, and the first message,
    # updated too, stays withdrawn and stands on the revision.
    sources = ("Wire B", "Radio C", "Coast D", "Port E")
    desk.tell(detection_event(troops(4, hours=2, severity="high", sources=sources, revises="det0003", revision=2)))
    assert status_of(desk.first_message()) == (
        f"*Withdrawn*: {EXERCISE} · the thread stands on alert det0004: now :large_orange_circle: HIGH · "
        "4 independent sources and 4 updates in the thread"
    )

    # file and webhook: the thread's first alert is withdrawn, and its state is the alert it stands on
    records = [r for r in desk.records() if "thread" in r]
    assert [(r["kind"], r["thread"]["first_withdrawn"], r["thread"]["newest_alert"]) for r in records] == [
        ("followup", None, "det0002"),
        ("retraction", EXERCISE, "det0002"),
        ("followup", EXERCISE, "det0003"),
        ("revision", EXERCISE, "det0004"),
    ]
    assert [r["thread"]["withdrawn"] for r in records] == [None, EXERCISE, None, None]  # a withdrawal's own reason
    hooked = [b["thread"] for b in desk.hooked() if "thread" in b]
    assert [(t["first_withdrawn"], t["newest_alert"]) for t in hooked] == [
        (None, "det0002"),
        (EXERCISE, "det0002"),
        (EXERCISE, "det0003"),
        (EXERCISE, "det0004"),
    ]

    # console: the thread line says what stands, and that the first alert was withdrawn
    said = thread_lines(desk.console)
    assert said[2] == (
        f"thread now HIGH · 3 independent sources · 3 updates · its first alert det0001 was withdrawn: {EXERCISE}"
    ), said

    # email: the reply cannot rewrite the first mail, so it says the first alert was withdrawn
    mails = desk.mails()
    assert f"First alert: det0001, withdrawn: {EXERCISE}" in mails[3], mails[3]
    assert "Severity: HIGH (confirmed)" in mails[3] and "was MEDIUM" not in mails[3]
    assert f"First alert: det0001, withdrawn: {EXERCISE}" in mails[4]


def test_the_first_alert_withdrawn_after_a_follow_up_leaves_the_thread_standing_on_it(desk: Desk) -> None:
    """The withdrawal of the first alert, when a later alert of the thread stands, says so on the first message
    and in the withdrawal mail: the thread is not over."""
    desk.tell(detection_event(troops(1, hours=0, sources=("Daily A",))))
    desk.tell(detection_event(troops(2, hours=1, severity="high", sources=("Wire B", "Radio C"))))
    desk.tell(withdraw("det0001", EXERCISE, revision=1))
    assert status_of(desk.first_message()) == (
        f"*Withdrawn*: {EXERCISE} · the thread stands on alert det0002: now :large_orange_circle: HIGH · "
        "2 independent sources and 2 updates in the thread"
    )
    withdrawal = desk.mails()[2]
    assert "Thread now: HIGH (confirmed), on alert det0002" in withdrawal, withdrawal
    assert "Sources: 2 independent in this thread" in withdrawal
    [*_, last] = [r for r in desk.records() if "thread" in r]
    assert (last["thread"]["sources"], last["thread"]["newest_alert"]) == (2, "det0002")
    assert (last["thread"]["severity"], last["thread"]["confidence"]) == ("high", "confirmed")


def test_a_late_reports_revision_keeps_the_report_the_channel_was_shown(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """The whole path, as outside trial 30 (F3) found it: `run --once` posts Outlet A's report; Outlet B's report,
    dated the evening before, comes next and revises the alert. The message now shows B's report as the alert's
    evidence, keeps A's as told before, and the thread counts both outlets (it said "1 independent source", and A's
    report, the only one the channel had been shown, was gone from Slack)."""
    from typer.testing import CliRunner

    from watchfloor.cli import app

    feed = tmp_path / "in.jsonl"
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {feed}}}
channels:
  - {{type: slack, name: desk, channel: "#desk", token_env: WF_TEST_SLACK, base_url: "{slack_server.base_url}"}}
subscriptions:
  - {{channel: desk}}
""",
        encoding="utf-8",
    )
    env = {"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": "", "COLUMNS": "400"}
    first = (
        '{"type": "news.article", "id": "a", "published_at": "2024-10-18T14:42:00+00:00", "source": "Outlet A", '
        '"url": "https://a.example/1", "title": "North Korea sends large troop deployments to Russia, Seoul says"}\n'
    )
    late = (
        '{"type": "news.article", "id": "b", "published_at": "2024-10-17T20:00:00+00:00", "source": "Outlet B", '
        '"url": "https://b.example/1", "title": "North Korea has sent troops to Russia, Seoul spy agency says"}\n'
    )
    feed.write_text(first, encoding="utf-8")
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    assert res.exit_code == 0, res.output
    [posted] = [m for m in slack_server.messages if not m.get("thread_ts")]
    assert "Outlet A" in texts(posted["blocks"])
    feed.write_text(first + late, encoding="utf-8")
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    assert res.exit_code == 0, res.output
    now = texts(slack_server.message("#desk", posted["ts"])["blocks"])
    assert "*Revised* by a late report" in now, now
    evidence, told = now.split("*Told before* (1)")
    assert "Outlet B" in evidence and "Outlet A" not in evidence, now
    assert "Outlet A" in told and "still stand" in told, now
    assert "*Sources*\n2 independent in the thread" in now, now
    [reply] = slack_server.thread(posted["ts"])
    assert "2 independent sources in the thread" in texts(reply["blocks"])


def test_the_first_messages_footer_names_the_alert_its_buttons_act_on(desk: Desk) -> None:
    """Trial MED-3: a corroboration raised the thread from MEDIUM to HIGH; the first message, updated to show HIGH,
    kept the MEDIUM alert's id in its footer while its Acknowledge button carried the HIGH alert's. The footer names
    the alert the buttons act on, and the one the message first showed."""
    from watchfloor.alerts.slackapp.buttons import ACK_ACTION, parse_button_value

    desk.tell(detection_event(troops(1, hours=0, sources=("Moscow Daily",))))
    first = desk.first_message()
    footer = [b["elements"][0]["text"] for b in first["blocks"] if b["type"] == "context"][-1]
    assert footer.startswith("alert det0001 · "), footer  # a thread of one: as before
    desk.tell(detection_event(troops(2, hours=1, severity="high", sources=("Meridian Wire", "Harbor Ledger"))))
    first = desk.first_message()
    assert "HIGH" in status_of(first)
    [ack] = [
        e for b in first["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == ACK_ACTION
    ]
    assert parse_button_value(ack["value"]).alert_id == "det0002"
    footer = [b["elements"][0]["text"] for b in first["blocks"] if b["type"] == "context"][-1]
    # each id with its own time: det0002 fired at 10:00, the first alert at 09:00 (trial 46, LOW-4)
    newest, first_alert = footer.split(" · ")
    assert newest.startswith("alert det0002, fired <!date^") and newest.endswith("|2024-11-04 10:00 UTC>"), footer
    assert first_alert.startswith("first: det0001, fired <!date^"), footer
    assert first_alert.endswith("|2024-11-04 09:00 UTC>"), footer
