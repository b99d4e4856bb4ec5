"""What a thread counts as its independent sources, and what a follow-up says it escalated from: timelines through
the real engine (a rule pack whose alerts cite syndicated copies), an SQLite store on disk, the real dispatcher and
every channel kind that threads (the local Slack-compatible server with slack-sdk, a local SMTP server, the console,
a file and a local webhook receiver).

- "independent sources in the thread" counts the engine's independent reports: copies of one wire story printed by
  several outlets count once, as the engine's corroboration counts them (it counted each outlet). The engine marks
  each report of a detection with its story (Evidence.story); the thread links outlets through it.
- An alert after the thread's MEDIUM first alert was withdrawn does not say "(was MEDIUM)": nothing of that alert
  stands to be escalated from (intake compared against every alert ever told in the thread). With no alert of the
  thread standing, the story is over, and that alert starts a new one in every channel (outside trial 10, F1).
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
from watchfloor.alerts.notice import AlertCatalog, independent_sources
from watchfloor.alerts.notifiers.base import Notifier
from watchfloor.alerts.notifiers.console import ConsoleNotifier
from watchfloor.alerts.notifiers.email import EmailNotifier
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.alerts.notifiers.webhook import WebhookNotifier
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import (
    Detection,
    Document,
    EventType,
    Retraction,
    SourceRef,
    detection_event,
    document_event,
    retraction_event,
)
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.stories import independent, similarity, story_signature
from watchfloor.stream_processors.engine.text import tokens
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.runner import EmbeddedRunner
from watchfloor.stream_processors.stores import open_store
from watchfloor.wiring import build_catalog

pytestmark = pytest.mark.functional

PACK = Path(__file__).resolve().parents[1] / "data" / "rules" / "syndication.yaml"
CHANNELS = ("slack-ops", "mail", "console", "archive", "hook")
T0 = datetime(2024, 3, 4, 6, tzinfo=UTC)
ALERT_EVENTS = {EventType.DETECTION.value, EventType.RETRACTION.value}

# One wire story (our own words), a lightly edited copy of it as a second paper prints it, and a third paper's own
# report of the same event.
WIRE = (
    "Alphaland closed its border crossings with its eastern neighbour on Monday night, the interior ministry said, "
    "after a week of rising tension along the frontier. Trucks carrying grain and fuel were turned back at three "
    "checkpoints, and drivers said they had been told to wait for further instructions. The ministry gave no date "
    "for reopening and said the measure was temporary. Traders in the border towns warned that food prices would "
    "climb within days if the crossings stayed shut, and aid groups asked for a corridor for medical supplies."
)
COPY = WIRE.replace("on Monday night, the interior ministry said,", "late on Monday, the interior ministry said,")
OWN = (
    "Our correspondent at the northern crossing saw soldiers lower the barrier as Alphan authorities closed the "
    "border before dawn. A queue of cars stretched back several kilometres and families with children slept in "
    "their vehicles, unsure whether the frontier would open again this week."
)


# Short feed items (a headline and one sentence, our own words): a wire item, a lightly edited copy of it (a verb of
# the headline and the sentence's attribution reworded: the 3-shingle estimate falls below 0.7), and another
# outlet's own short report of the same closure (outside trial 10, F3: the copy counted as a second source and the
# story went HIGH and confirmed on its own).
SHORT_WIRE = (
    "Alphaland shuts border with its eastern neighbour, officials say.\n"
    "Alphaland closed all border crossings with its eastern neighbour on Tuesday after clashes near the river, "
    "a government spokesman told reporters."
)
SHORT_COPY = SHORT_WIRE.replace("shuts border", "seals border").replace(
    "a government spokesman told reporters", "a spokesman for the government said"
)
SHORT_OWN = (
    "Border shut as Alphan troops move in.\n"
    "Soldiers lowered the barriers at every crossing overnight and hundreds of lorries were left stranded, "
    "our correspondent in the capital reports."
)


def sig(text: str) -> str:
    return story_signature(tokens(text))


@dataclass
class Desk:
    """The engine over a SQLite store, and one dispatcher with a channel of each kind that threads."""

    store: Store
    runner: EmbeddedRunner
    slack: FakeSlack
    smtp: LocalSMTP
    console: io.StringIO
    archive: Path
    hook: Hook
    dispatcher: AlertDispatcher

    def tell(self, *events: Any) -> None:
        self.store.append(list(events))
        self.runner.run_once()
        assert self.dispatcher.cycle().ok

    def first_message(self) -> dict[str, Any]:
        [first] = [m for m in self.slack.messages if m.get("thread_ts") in (None, m["ts"])]
        return self.slack.message("#dprk-russia", first["ts"])  # as it reads now, after every chat.update

    def detections(self) -> list[Detection]:
        return [Detection.model_validate(se.event.payload) for se in self.store.read(types={"detection"}, limit=100)]


def news(n: int, source: str, hours: float, text: str) -> Any:
    doc = Document(
        id=f"doc-{n}",
        type="news.article",
        published_at=T0 + timedelta(hours=hours),
        source=SourceRef(name=source),
        url=f"https://{source.lower().replace(' ', '-')}.example.org/{n}",
        title="",
        body=text,
    )
    return document_event(doc, origin="test", received_at=doc.published_at + timedelta(minutes=5))


@pytest.fixture
def hook() -> Iterator[Hook]:
    yield from webhook_server()


def _desk(
    tmp_path: Path,
    slack_server: FakeSlack,
    smtp_server: LocalSMTP,
    hook: Hook,
    catalog: AlertCatalog,
    pack: Path = PACK,
) -> Desk:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    _, rules = load_rules([str(pack)])
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
    dispatcher = AlertDispatcher(store, notifiers, subs, RETRY, now=Clock(), catalog=catalog)
    runner = EmbeddedRunner(store, Engine(rules))
    return Desk(store, runner, slack_server, smtp_server, console, archive, hook, dispatcher)


@pytest.fixture
def desk(tmp_path: Path, slack_server: FakeSlack, smtp_server: LocalSMTP, hook: Hook) -> Iterator[Desk]:
    d = _desk(tmp_path, slack_server, smtp_server, hook, build_catalog(load_rules([str(PACK)])[1]))
    try:
        yield d
    finally:
        d.store.close()


def _wide(stream: io.StringIO) -> Any:
    from rich.console import Console

    return Console(file=stream, width=400, highlight=False)  # one thread line per line: nothing wrapped


def status_of(message: dict[str, Any]) -> str:
    """The first message's status line (the context block under its facts)."""
    contexts = [b["elements"][0]["text"] for b in message["blocks"] if b["type"] == "context"]
    return next(text for text in contexts if text.startswith("*"))


def thread_lines(console: io.StringIO) -> list[str]:
    return [" ".join(line.strip(" │").split()) for line in console.getvalue().splitlines() if "thread" in line]


def test_the_fixture_texts_are_what_the_timeline_needs() -> None:
    """The copy is one story with the wire's (above the threshold, edited), the paper's own report another."""
    assert 0.7 <= similarity(sig(WIRE), sig(COPY)) < 1.0
    assert similarity(sig(WIRE), sig(OWN)) < 0.2


def test_syndicated_copies_count_once_in_the_thread_as_the_engine_counts_them(desk: Desk) -> None:
    """A wire story (Harbor Ledger) and its copy in Valley Tribune make a count of two documents: an alert, MEDIUM
    and unconfirmed (the engine sees one independent report). Coastal Times's own report then corroborates it: a
    HIGH follow-up citing all three. The thread rests on 2 independent sources, the engine's count of the very
    reports it cites; every channel kind says 2 (they said 3, one per outlet)."""
    desk.tell(news(1, "Harbor Ledger", 0, WIRE), news(2, "Valley Tribune", 1, COPY))
    [first] = desk.detections()
    assert (first.severity, first.confidence) == ("medium", "unconfirmed")
    desk.tell(news(3, "Coastal Times", 3, OWN))
    [_, follow] = desk.detections()
    assert (follow.severity, follow.confidence) == ("high", "confirmed")
    by_source = {e.source: e for e in follow.evidence}
    assert set(by_source) == {"Harbor Ledger", "Valley Tribune", "Coastal Times"}
    # the engine's story keys: the copy shares the wire's, the paper's own report has its own
    assert by_source["Harbor Ledger"].story == by_source["Valley Tribune"].story != by_source["Coastal Times"].story
    assert all(e.story is not None and len(e.story) == 12 for e in follow.evidence)
    engine_count = independent(
        [("Harbor Ledger", sig(WIRE)), ("Valley Tribune", sig(COPY)), ("Coastal Times", sig(OWN))]
    )
    assert engine_count == 2

    [record] = [r for r in lines(desk.archive) if "thread" in r]
    assert [e["story"] for e in record["detection"]["evidence"]] == [e.story for e in follow.evidence]
    [hooked] = [body for _, _, body in desk.hook.received if "thread" in body]
    [said] = thread_lines(desk.console)
    mails = [r.part("plain") for r in desk.smtp.received]
    [reply] = [m for m in desk.slack.messages if m.get("thread_ts") not in (None, m["ts"])]  # the follow-up's reply
    told = {
        "slack first message": status_of(desk.first_message()).split(" · ")[-1],
        "slack reply": reply["blocks"][0]["text"]["text"].split(" · ")[-1],
        "file": record["thread"]["sources"],
        "webhook": hooked["thread"]["sources"],
        "console": said.split(" · ")[1],
        "email": next(line for line in mails[1].splitlines() if line.startswith("Sources:")),
    }
    assert told == {
        "slack first message": "2 independent sources and 1 update in the thread",
        "slack reply": "2 independent sources in the thread",
        "file": 2,
        "webhook": 2,
        "console": "2 independent sources",
        "email": "Sources: 2 independent in this thread",
    }


@pytest.mark.parametrize("texts", [(WIRE, COPY, OWN), (SHORT_WIRE, SHORT_COPY, SHORT_OWN)], ids=["long", "short"])
def test_story_keys_are_the_same_whatever_order_the_reports_arrive_in(
    tmp_path: Path, slack_server: FakeSlack, smtp_server: LocalSMTP, hook: Hook, texts: tuple[str, str, str]
) -> None:
    """The keys depend on the detection's reports only: the alerts that stand after the reports arrive in reverse
    order (late reports revising what was raised) carry the keys of an event-time run, for long copies and for
    short lightly edited ones alike."""
    stands: list[list[tuple[str, tuple[tuple[str, str | None], ...]]]] = []
    wire, copy, own = texts
    reports = [news(1, "Harbor Ledger", 0, wire), news(2, "Valley Tribune", 1, copy), news(3, "Coastal Times", 3, own)]
    for i, order in enumerate((reports, list(reversed(reports)))):
        (tmp_path / str(i)).mkdir()
        d = _desk(tmp_path / str(i), slack_server, smtp_server, hook, AlertCatalog())
        try:
            for event in order:
                d.tell(event)
            alerts = current_alerts(se.event for se in d.store.read(types=ALERT_EVENTS, limit=100))
            stands.append(sorted((a.id, tuple((e.event_id, e.story) for e in a.evidence)) for a in alerts.values()))
        finally:
            d.store.close()
    assert stands[0] == stands[1]
    assert any(len({s for _, s in ev}) < len(ev) for _, ev in stands[0])  # some alert cites a copy beside its wire


# A thread of hand-made detections (like tests/functional/test_thread_standing.py) for the escalation wording.
RUS = {"party": "RUS"}
TROOPS = AlertCatalog(entity_names={"RUS": "Russia"}, open_periods={"troops": timedelta(days=2)})


def troops(n: int, *, hours: float, sources: tuple[str, ...], severity: str = "medium") -> Detection:
    return detection(
        n,
        rule="troops",
        group=RUS,
        severity=severity,
        minutes=int(hours * 60),
        sources=sources,
        confidence="confirmed" if len(sources) > 1 else "unconfirmed",
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


@pytest.mark.parametrize("withdrawn", [True, False])
def test_a_follow_up_after_a_withdrawn_medium_alert_does_not_say_it_was_medium(
    tmp_path: Path, slack_server: FakeSlack, smtp_server: LocalSMTP, hook: Hook, withdrawn: bool
) -> None:
    """MEDIUM first alert, withdrawn, then a HIGH alert of the same rule and group within its open period: no channel
    says "(was MEDIUM)". Its story's only alert withdrawn, the story is over (outside trial 10, F1): the HIGH alert
    starts one of its own in every channel (kind `alert`: a new Slack message and mail, a new alert line, record and
    payload), not an "Update" under the withdrawn message. Without the withdrawal it is a follow-up that every channel
    says escalated from MEDIUM (the control)."""
    d = _desk(tmp_path, slack_server, smtp_server, hook, TROOPS)
    try:
        d.tell(detection_event(troops(1, hours=0, sources=("Daily A",))))
        if withdrawn:
            d.tell(withdraw("det0001", "the first report was about an exercise", revision=1))
        d.tell(detection_event(troops(2, hours=1, severity="high", sources=("Wire B", "Radio C"))))
        mail = [r.part("plain") for r in d.smtp.received][-1]
        said = d.console.getvalue()
        if withdrawn:
            [record] = [r for r in lines(d.archive) if r["id"] == "det0002"]
            [hooked] = [b for _, _, b in d.hook.received if b["alert"]["id"] == "det0002"]
            assert record["kind"] == hooked["kind"] == "alert"
            assert "escalated_from" not in record and "escalated_from" not in hooked
            assert "Severity: HIGH (confirmed)" in mail and "was MEDIUM" not in mail
            [first, new] = [m for m in d.slack.messages if m.get("thread_ts") in (None, m["ts"])]
            assert "HIGH" in new["text"] and "was MEDIUM" not in str(new["blocks"])
            assert [m for m in d.slack.messages if m.get("thread_ts") == first["ts"] != m["ts"]] == [
                m for m in d.slack.messages if "Withdrawn" in m["text"] and m["ts"] != first["ts"]
            ]  # the withdrawn thread holds the withdrawal alone
            assert "(was MEDIUM)" not in said and "Update" not in said
            store = d.store
            assert {r.kind for r in store.deliveries(alert_ids={"det0002"})} == {"alert"}
        else:
            [followup] = [r for r in lines(d.archive) if r["kind"] == "followup"]
            [hooked] = [b for _, _, b in d.hook.received if b.get("kind") == "followup"]
            [reply] = [m for m in d.slack.messages if m.get("thread_ts") not in (None, m["ts"]) and "HIGH" in m["text"]]
            assert followup["escalated_from"] == "medium" and hooked["escalated_from"] == "medium"
            assert "Severity: HIGH (confirmed, was MEDIUM)" in mail
            assert "was MEDIUM" in str(reply["blocks"]) and reply.get("subtype") == "thread_broadcast"
            assert "(was MEDIUM)" in said
    finally:
        d.store.close()


def test_short_fixture_texts_are_what_the_timeline_needs() -> None:
    """The short copy is below the 3-shingle threshold (the rule before F3 counted it apart); the own report shares
    no phrasing with the wire."""
    assert similarity(sig(SHORT_WIRE), sig(SHORT_COPY)) < 0.7
    assert similarity(sig(SHORT_WIRE), sig(SHORT_OWN)) < 0.2


def test_a_short_lightly_edited_copy_counts_once_and_an_own_report_corroborates(desk: Desk) -> None:
    """Harbor Ledger's short wire item and Valley Tribune's lightly edited copy: one independent report, so the
    count's alert is MEDIUM and unconfirmed, its thread resting on 1 independent source. Coastal Times's own short
    report of the closure then corroborates it: HIGH and confirmed, 2 independent sources."""
    desk.tell(news(1, "Harbor Ledger", 0, SHORT_WIRE), news(2, "Valley Tribune", 1, SHORT_COPY))
    [first] = desk.detections()
    assert (first.severity, first.confidence) == ("medium", "unconfirmed")
    assert len({e.story for e in first.evidence}) == 1
    assert independent_sources([first]) == 1  # what the thread counts
    desk.tell(news(3, "Coastal Times", 3, SHORT_OWN))
    [_, follow] = desk.detections()
    assert (follow.severity, follow.confidence) == ("high", "confirmed")
    by_source = {e.source: e for e in follow.evidence}
    assert by_source["Harbor Ledger"].story == by_source["Valley Tribune"].story != by_source["Coastal Times"].story
    [record] = [r for r in lines(desk.archive) if "thread" in r]
    assert record["thread"]["sources"] == 2
    assert status_of(desk.first_message()).endswith("2 independent sources and 1 update in the thread")
    [said] = thread_lines(desk.console)
    assert said.split(" · ")[1] == "2 independent sources"


def test_a_feed_that_renamed_itself_is_one_source_in_the_thread(desk: Desk) -> None:
    """Review 13, F6: one feed's two reports under two names (its <title> changed between polls) make the count of
    two documents: MEDIUM and unconfirmed, as corroboration counts the feed once. The thread said "2 independent
    sources" beside it (it counted the names); it counts what corroboration counts: 1. A report of that name
    without a feed (stored before feeds were kept) is the same source too, as the engine counts it."""
    feed = "rss:https://harbor.example.org/feed"

    def fed(event: Any, name: str, with_feed: str | None) -> Any:
        doc = Document.model_validate(event.payload)
        doc = doc.model_copy(update={"source": SourceRef(name=name, feed=with_feed)})
        return document_event(doc, origin="test", received_at=doc.published_at + timedelta(minutes=5))

    desk.tell(
        fed(news(1, "Harbor Ledger", 0, WIRE), "Harbor Ledger", feed),
        fed(news(2, "Harbor Ledger", 1, OWN), "Harbor Ledger Daily", feed),  # renamed since
    )
    [first] = desk.detections()
    assert (first.severity, first.confidence) == ("medium", "unconfirmed")
    assert [e.source for e in first.evidence] == ["Harbor Ledger", "Harbor Ledger Daily"]
    feeds = {e.feed for e in first.evidence}
    # one hash of the configured source, not the source itself (a feed URL may hold a credential)
    assert len(feeds) == 1 and None not in feeds and not any(feed in f for f in feeds if f)
    assert independent_sources([first]) == 1
    # the feed again a day and more on (past the realert): a follow-up in the thread, still one source
    desk.tell(fed(news(3, "Harbor Ledger", 30, SHORT_OWN), "Harbor Ledger", feed))
    [_, follow] = desk.detections()
    assert (follow.severity, follow.confidence) == ("medium", "unconfirmed")
    [reply] = [m for m in desk.slack.messages if m.get("thread_ts") not in (None, m["ts"])]
    # (its three reports said with the one source: "1 independent source" beside several reports read as a story
    # resting on a single report, outside trial 57, MED-3)
    assert status_of(desk.first_message()).split(" · ")[-1] == "3 reports from 1 source and 1 update in the thread"
    assert reply["blocks"][0]["text"]["text"].split(" · ")[-1] == "3 reports from 1 source in the thread"
    old = first.evidence[0].model_copy(update={"feed": None, "event_id": "doc-0", "story": None})  # no feed: old
    assert independent_sources([first.model_copy(update={"evidence": (old, *first.evidence)})]) == 1
    other = old.model_copy(update={"source": "Coastal Times", "story": None})
    assert independent_sources([first.model_copy(update={"evidence": (other, *first.evidence)})]) == 2


def test_a_confirmation_within_the_corroboration_window_but_past_realert_continues_the_story(
    tmp_path: Path, slack_server: FakeSlack, smtp_server: LocalSMTP, hook: Hook
) -> None:
    """Outside trial 62, M1: an `any` rule with `realert: 1d` and `corroborate: {within: 72h}`. A second source 33 hours
    after the first report raised the HIGH confirmed alert as a new story: a second top-level message ("Again: … a
    new story") while the first stayed MEDIUM, unconfirmed, for good. A confirmation continues the story its earliest
    report began, within `corroborate.within`: it follows up in the first report's thread and its first message shows
    HIGH."""
    pack = tmp_path / "any.yaml"
    pack.write_text(
        PACK.read_text(encoding="utf-8")
        .replace("pattern: {count: {signal: border_closed, at_least: 2}}", "pattern: {any: border_closed}")
        .replace("    within: 2d\n    realert: 1d", "    realert: 1d")
        .replace("within: 2d, severity: high", "within: 72h, severity: high"),
        encoding="utf-8",
    )
    _, rules = load_rules([str(pack)])
    assert rules.detections[0].within is None and rules.detections[0].realert == timedelta(days=1)
    d = _desk(tmp_path, slack_server, smtp_server, hook, build_catalog(rules), pack)
    try:
        d.tell(news(1, "Harbor Ledger", 0, WIRE))
        d.tell(news(3, "Coastal Times", 33, OWN))
        first, follow = d.detections()
        assert (first.severity, first.confidence) == ("medium", "unconfirmed")
        assert (follow.severity, follow.confidence) == ("high", "confirmed")
        top = [m for m in d.slack.messages if m.get("thread_ts") in (None, m["ts"])]
        replies = [m for m in d.slack.messages if m.get("thread_ts") not in (None, m["ts"])]
        assert len(top) == 1 and len(replies) == 1, d.slack.messages
        assert replies[0]["thread_ts"] == top[0]["ts"]
        assert "HIGH" in status_of(d.first_message()), d.first_message()
        assert "a new story" not in str(d.slack.messages)
        # A report past both windows is a new story: its "Again" line names that story's HIGH confirmation, the
        # last alert of it, not the MEDIUM it confirmed (M1's second point: it named the MEDIUM).
        d.tell(news(4, "Harbor Ledger", 200, SHORT_OWN))
        later = [m for m in d.slack.messages if m.get("thread_ts") in (None, m["ts"])][1:]
        assert len(later) == 1 and f"last alert of this rule and group was {follow.id}," in str(later[0]), later
    finally:
        d.store.close()
