"""Messages that behave well in a channel: follow-ups of an open alert are thread replies that update the first
message; revisions and withdrawals reply under the alert they change and update it; escalations are also
broadcast; groups by entity name; the rule description once. Against the local Slack-compatible server (threads,
chat.update), with the file and webhook channels' equivalents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.fixtures.smtp_server import LocalSMTP
from tests.functional.delivery_helpers import RETRY, Clock, Hook, detection, ledger, lines, make, slack, webhook_server
from watchfloor.alerts.notice import AlertCatalog
from watchfloor.alerts.notifiers.base import Notifier
from watchfloor.alerts.notifiers.webhook import WebhookNotifier
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import (
    Detection,
    Retraction,
    detection_event,
    detection_event_id,
    retraction_event,
    stable_id,
)
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional

RUS = {"party": "RUS"}
NOW_AT = datetime(2024, 11, 4, 10, tzinfo=UTC)
CATALOG = AlertCatalog(entity_names={"RUS": "Russia", "PRK": "North Korea"}, open_periods={"troops": timedelta(days=2)})
SUBS = [Subscription(channel="slack-ops"), Subscription(channel="archive"), Subscription(channel="hook")]


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return tmp_path / "alerts.jsonl"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def webhook() -> Iterator[Hook]:
    yield from webhook_server()


def troops(
    n: int, *, severity: str = "medium", hours: float = 0, sources: tuple[str, ...] = ("Daily A",), **kw: Any
) -> Detection:
    return detection(
        n,
        rule="troops",
        group=kw.pop("group", RUS),
        severity=severity,
        minutes=int(hours * 60),
        sources=sources,
        confidence=kw.pop("confidence", "unconfirmed" if len(sources) < 2 else "confirmed"),
        **kw,
    )


def texts(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        return "\n".join(texts(v) for v in obj.values())
    if isinstance(obj, list):
        return "\n".join(texts(v) for v in obj)
    return ""


def dispatcher(store: MemoryStore, server: FakeSlack, archive: Path, clock: Clock, webhook: Hook) -> Any:
    extra: dict[str, Notifier] = {"hook": WebhookNotifier("hook", webhook.url, timeout=5)}
    return make(store, server, archive, clock, extra=extra, subs=SUBS, catalog=CATALOG)


def top_level(server: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in server.messages if m.get("thread_ts") in (None, m["ts"])]


def test_a_follow_up_replies_in_the_thread_and_updates_the_first_message(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    d = dispatcher(store, slack_server, archive, clock, webhook)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    store.append([detection_event(troops(2, severity="high", hours=1, sources=("Daily A", "Wire B")))])
    assert d.cycle().ok

    [first] = top_level(slack_server)
    [reply] = slack_server.thread(first["ts"])
    assert reply["metadata"]["event_payload"] == {"alert_id": "det0002", "rule": "troops", "kind": "followup"}
    assert reply["subtype"] == "thread_broadcast"  # medium -> high: an escalation is news for the channel too
    said = texts(reply["blocks"])
    # the alert is confirmed: said with what it was (outside trial 64, LOW-1: "HIGH (was MEDIUM)" did not say why)
    assert "*Update*" in said and "HIGH (confirmed, was MEDIUM)" in said and "2 independent sources" in said
    assert "Shipments of munitions" not in said  # the rule description is not repeated on follow-ups
    assert any(b["type"] == "actions" for b in reply["blocks"])  # buttons on every alert, replies too

    # The first message now tells the thread's state, and names the group by entity.
    [update] = slack_server.updates
    assert update["ts"] == first["ts"]
    now = texts(first["blocks"])
    assert "HIGH" in now and "(unconfirmed)" not in now.split("*Updated*")[1].split("\n")[0]
    assert "2 independent sources" in now and "1 update in the thread" in now
    shown = texts([b for b in first["blocks"] if b["type"] != "actions"])  # what people read (not button values)
    assert "Russia" in shown and "RUS" not in shown.replace("Russia", "")
    assert "Shipments of munitions" in now  # the description stays on the first message
    assert first["metadata"]["event_payload"]["alert_id"] == "det0001"  # still found as the first alert

    # file and webhook: a record that names the alert it updates
    [_, second] = lines(archive)
    assert (second["kind"], second["updates"], second["thread"]["sources"]) == ("followup", "det0001", 2)
    assert second["group_label"] == "Russia"
    [_, (_, _, hooked)] = webhook.received
    assert (hooked["kind"], hooked["updates"], hooked["key"]) == ("followup", "det0001", "det0002")


def test_the_console_names_the_alert_a_follow_up_updates(store: MemoryStore, clock: Clock) -> None:
    import io

    from watchfloor.alerts.dispatcher import AlertDispatcher
    from watchfloor.alerts.notifiers.console import ConsoleNotifier

    out = io.StringIO()
    notifiers: dict[str, Notifier] = {"console": ConsoleNotifier("console", stream=out)}
    d = AlertDispatcher(store, notifiers, [Subscription(channel="console")], RETRY, now=clock, catalog=CATALOG)
    store.append([detection_event(troops(1)), detection_event(troops(2, severity="high", hours=1))])
    assert d.cycle().ok
    printed = out.getvalue()
    assert "Update: Rail cars" in printed and "update of alert det0001" in printed and "(was MEDIUM)" in printed
    assert printed.count("Shipments of munitions") == 1  # the description once, on the first alert
    assert "group Russia" in printed


def test_no_thread_outside_the_open_period_or_for_another_group(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    d = dispatcher(store, slack_server, archive, clock, webhook)
    store.append(
        [
            detection_event(troops(1)),
            detection_event(troops(2, hours=49)),  # past the rule's 2 days: a new alert, a new thread
            detection_event(troops(3, hours=50, group={"party": "PRK"})),
            detection_event(troops(4, hours=51)),  # follows det0002, the open one
        ]
    )
    assert d.cycle().ok
    assert [m["metadata"]["event_payload"]["alert_id"] for m in top_level(slack_server)] == [
        "det0001",
        "det0002",
        "det0003",
    ]
    second = top_level(slack_server)[1]
    assert [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.thread(second["ts"])] == ["det0004"]
    assert "North Korea" in texts(top_level(slack_server)[2]["blocks"])


def test_an_alert_that_starts_a_new_story_names_the_last_one_of_its_rule_and_group(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    """Outside trial 13, L6: the Duma's vote and, 13 days later, the Federation Council's posted two identical
    top-level "Russia ratified the treaty" messages (two stories: past the rule's realert). The second now says it
    is again, naming the first; another group's alert says nothing of it."""
    d = dispatcher(store, slack_server, archive, clock, webhook)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    store.append(
        [
            detection_event(troops(2, hours=49)),  # past the rule's 2 days: a new story
            detection_event(troops(3, hours=50, group={"party": "PRK"})),  # another group: no earlier story
        ]
    )
    assert d.cycle().ok
    store.append([detection_event(troops(4, hours=120))])  # a third story of Russia
    assert d.cycle().ok

    first, second, other, third = (texts(m["blocks"]) for m in top_level(slack_server))
    assert "Again" not in first and "Again" not in other
    assert "Again: the last alert of this rule and group was det0001, fired <!date^" in second  # (reader's timezone)
    assert "new story" in second and "earlier in this channel" not in second
    assert "was det0002" in third and "(2 earlier in this channel)" in third
    # ... and links it to the message that tells that story (chat.getPermalink; trial 29, F7: a bare id to search for)
    posted = top_level(slack_server)
    link = f"https://watchfloor-test.slack.com/archives/{FakeSlack.channel_id(posted[0]['channel'])}/p"
    assert f"(<{link}{posted[0]['ts'].replace('.', '')}|its message>)" in second, second
    assert f"(<{link}{posted[1]['ts'].replace('.', '')}|its message>)" in third, third

    records = {r["key"]: r for r in lines(archive)}
    assert "earlier" not in records["det0001"] and "earlier" not in records["det0003"]
    assert records["det0002"]["earlier"]["alert"] == "det0001" and records["det0002"]["earlier"]["count"] == 1
    assert records["det0004"]["earlier"] == {
        "alert": "det0002",
        "fired_at": records["det0002"]["detection"]["fired_at"].replace("Z", "+00:00"),
        "count": 2,
    }
    hooked = {body["key"]: body for (_, _, body) in webhook.received}
    assert hooked["det0004"]["earlier"]["alert"] == "det0002"


def test_the_console_and_email_say_an_alert_is_again(store: MemoryStore, clock: Clock, smtp_server: LocalSMTP) -> None:
    import io

    from watchfloor.alerts.dispatcher import AlertDispatcher
    from watchfloor.alerts.notifiers.console import ConsoleNotifier
    from watchfloor.alerts.notifiers.email import EmailNotifier

    out = io.StringIO()
    mail = EmailNotifier(
        "mail", to=["desk@example.org"], sender="alerts@example.org", host=smtp_server.host, port=smtp_server.port,
        tls="none", timeout=5,
    )  # fmt: skip
    notifiers: dict[str, Notifier] = {"console": ConsoleNotifier("console", stream=out), "mail": mail}
    subs = [Subscription(channel="console"), Subscription(channel="mail")]
    d = AlertDispatcher(store, notifiers, subs, RETRY, now=clock, catalog=CATALOG)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    assert "Again" not in out.getvalue()
    store.append([detection_event(troops(2, hours=49))])
    assert d.cycle().ok
    said = "Again: the last alert of this rule and group was det0001"
    assert said in " ".join(out.getvalue().split())
    first, second = (r.part("plain") for r in smtp_server.received)
    assert "Again" not in first and said in " ".join(second.split())


def test_a_revision_and_a_withdrawal_reply_under_the_alert_they_change_and_update_it(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    d = dispatcher(store, slack_server, archive, clock, webhook)
    store.append([detection_event(troops(1)), detection_event(troops(2, hours=1))])
    assert d.cycle().ok
    [first] = top_level(slack_server)
    [followup] = slack_server.thread(first["ts"])

    revised = troops(3, hours=1, sources=("Daily A", "Wire B", "Radio C"), revises="det0002", revision=1)
    store.append([detection_event(revised)])
    assert d.cycle().ok
    replies = slack_server.thread(first["ts"])
    assert [m["metadata"]["event_payload"]["kind"] for m in replies] == ["followup", "revision"]
    assert "*Revised*" in texts(replies[1]["blocks"])
    # Outside trial 6 (L2): its sources are said to be the thread's, and it is named by the alert id `alerts list`
    # shows (det0003), not by the revision's delivery key.
    assert "3 independent sources in the thread" in texts(replies[1]["blocks"])
    assert "alert det0003 · fired" in texts(replies[1]["blocks"]), texts(replies[1]["blocks"])
    changed = slack_server.message("#dprk-russia", followup["ts"])  # the revised alert's own message
    assert "*Revised* by a late report" in texts(changed["blocks"]) and "Radio C" in texts(changed["blocks"])

    gone = Retraction(
        alert_id="det0001",
        rule="troops",
        group=RUS,
        reason="the first report was about an exercise",
        revision=2,
        at=datetime(2024, 11, 4, 10, tzinfo=UTC),
    )
    store.append([retraction_event(gone)])
    assert d.cycle().ok
    last = slack_server.thread(first["ts"])[-1]
    assert last["metadata"]["event_payload"]["kind"] == "retraction"
    assert "*Withdrawn*: the first report was about an exercise" in texts(last["blocks"])
    now = slack_server.message("#dprk-russia", first["ts"])
    assert now["blocks"][0]["text"]["text"].startswith("Withdrawn: ")
    assert not any(b["type"] == "actions" for b in now["blocks"])  # nothing left to acknowledge
    assert [line["kind"] for line in lines(archive)] == ["alert", "followup", "revision", "retraction"]
    assert lines(archive)[-1]["reason"] == "the first report was about an exercise"


def test_a_follow_up_waits_for_its_first_message_and_stands_alone_if_that_one_expires(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    d = dispatcher(store, slack_server, archive, clock, webhook)
    slack_server.fail_next("chat.postMessage", status=503)
    store.append([detection_event(troops(1)), detection_event(troops(2, hours=1))])
    d.cycle()
    assert ledger(store)[("det0002", "slack-ops")].attempts == 0  # it waits for det0001, no attempt spent
    clock.advance(d.next_due() or 0)
    assert d.cycle().ok
    [first] = top_level(slack_server)
    assert [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.thread(first["ts"])] == ["det0002"]

    # A thread whose first alert was given up: the follow-up becomes a message of its own.
    slack_server.reset()
    slack_server.fail_next("chat.postMessage", status=200, body={"ok": False, "error": "invalid_auth"}, times=1000)
    store.append([detection_event(troops(3, hours=100)), detection_event(troops(4, hours=101))])
    short = make(
        store,
        slack_server,
        archive,
        clock,
        subs=SUBS[:1],
        catalog=CATALOG,
        retry=RETRY.model_copy(update={"max_age": timedelta(minutes=5)}),
    )
    for _ in range(20):
        short.cycle()
        if ledger(store)[("det0003", "slack-ops")].status == "expired":
            break
        clock.advance(short.next_due() or 1)
    slack_server.reset()
    clock.advance(short.next_due() or 0)
    store.redeliver(clock().timestamp(), alert_ids={"det0004"}, statuses=("expired", "outstanding"))
    short.cycle()
    [alone] = top_level(slack_server)
    assert alone["metadata"]["event_payload"] == {"alert_id": "det0004", "rule": "troops", "kind": "followup"}
    assert "Follows alert det0003" in texts(alone["blocks"])


def test_an_alert_revised_before_it_could_be_sent_is_sent_once_as_it_stands_and_takes_its_replies(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    d = dispatcher(store, slack_server, archive, clock, webhook)
    slack_server.fail_next("chat.postMessage", status=429, headers={"Retry-After": "1"})  # refused: not posted
    store.append([detection_event(troops(1))])
    d.cycle()
    assert ledger(store)[("det0001", "slack-ops")].attempts == 1 and not slack_server.messages
    # While it waits, a late report revises it, and a later report of the story follows it up.
    revision = detection_event(troops(2, revises="det0001", revision=1))
    store.append([revision, detection_event(troops(3, hours=1))])
    clock.advance(d.next_due() or 1)
    report = d.cycle()
    assert report.ok and report.tally.replaced == 1
    [first] = top_level(slack_server)  # the alert that stands, as an alert: no "Revised", nothing rewritten
    assert first["metadata"]["event_payload"] == {"alert_id": revision.id, "rule": "troops", "kind": "alert"}
    assert "Revise" not in texts(first["blocks"])
    replies = slack_server.thread(first["ts"])  # the follow-up of the alert replaced goes under it
    assert [m["metadata"]["event_payload"]["alert_id"] for m in replies] == ["det0003"]
    row = ledger(store)[("det0001", "slack-ops")]
    assert (row.status, row.detail.split(":")[0]) == ("suppressed", "replaced before it was sent")
    # The file channel never failed: it had the alert at once, so there the revision replies as a revision.
    kinds = [(x["kind"], x["key"]) for x in lines(archive)]
    assert kinds == [("alert", "det0001"), ("revision", revision.id), ("followup", "det0003")]


def test_a_failed_update_is_retried_without_a_second_reply(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    d = dispatcher(store, slack_server, archive, clock, webhook)
    store.append([detection_event(troops(1))])
    d.cycle()
    slack_server.fail_next("chat.update", status=500)
    store.append([detection_event(troops(2, severity="high", hours=1))])
    assert not d.cycle().ok
    row = ledger(store)[("det0002", "slack-ops")]
    assert row.status == "outstanding" and row.ref and "updating the thread's first message failed" in row.detail
    clock.advance(d.next_due() or 0)
    assert d.cycle().ok
    assert len(slack_server.messages_for("det0002")) == 1
    assert len(slack_server.updates) == 1 and "HIGH" in texts(slack_server.updates[0]["blocks"])


def acking_dispatcher(store: MemoryStore, slack_server: FakeSlack, clock: Clock) -> tuple[Any, Any]:
    """A dispatcher routing by a control log (so acknowledgements are read), one Slack channel subscribed."""
    from watchfloor.alerts.control import ControlLog
    from watchfloor.alerts.dispatcher import AlertDispatcher

    control = ControlLog(store)
    control.reconcile_config([Subscription(channel="slack-ops")])
    notifiers: dict[str, Notifier] = {"slack-ops": slack(slack_server)}
    return AlertDispatcher(store, notifiers, [], RETRY, now=clock, routing=control, catalog=CATALOG), control


def test_the_first_message_offers_the_newer_alert_to_acknowledge_when_the_thread_updates_it(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """The first alert was acknowledged; a HIGH follow-up makes the first message show the thread's state, the HIGH
    alert's, which nobody took: its Acknowledge button is back, for that alert (outside trial 29, F1: the message read
    HIGH and "Acknowledged", the HIGH alert unacknowledged), and the earlier acknowledgement is said above it."""
    from watchfloor.alerts.slackapp.buttons import parse_button_value
    from watchfloor.schemas.control import Actor

    d, control = acking_dispatcher(store, slack_server, clock)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    control.acknowledge("det0001", by=Actor(via="slack", user="U0ALICE001", name="alice"), channel="slack-ops")
    store.append([detection_event(troops(2, severity="high", hours=1))])
    assert d.cycle().ok
    [first] = top_level(slack_server)
    now = texts(first["blocks"])
    assert "*Updated*" in now and "Acknowledged by" not in now
    assert "Earlier in this thread: alert det0001 acknowledged by <@U0ALICE001>" in now
    [ack] = [e for b in first["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == "wf_ack"]
    value = parse_button_value(ack["value"])
    assert (value.alert_id, value.standing) == ("det0002", ("det0001",))
    # Once the HIGH alert is acknowledged too, the first message says so and loses the button.
    control.acknowledge("det0002", by=Actor(via="cli", name="kim"))
    assert d.cycle().ok
    [first] = top_level(slack_server)
    buttons = [e["action_id"] for b in first["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert "Acknowledged by kim" in texts(first["blocks"]) and "wf_ack" not in buttons and "wf_silence" in buttons


def test_an_acknowledged_alert_revised_since_says_what_was_acknowledged_and_offers_the_revision(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """Outside trial 30, F1: an acknowledged alert that a late report revised into another alert was shown as "now
    alert det0003 … Acknowledged by kim" with no button, while the record had det0003 unacknowledged. The message
    says which alert was acknowledged, before the revision, and offers the revision's Acknowledge."""
    from watchfloor.alerts.slackapp.buttons import parse_button_value
    from watchfloor.schemas.control import Actor

    d, control = acking_dispatcher(store, slack_server, clock)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    control.acknowledge("det0001", by=Actor(via="cli", name="kim"))
    assert d.cycle().ok
    [first] = top_level(slack_server)
    assert "Acknowledged by kim" in texts(first["blocks"])
    store.append([detection_event(troops(3, hours=-2, revises="det0001", revision=1))])  # a late, earlier report
    assert d.cycle().ok
    [first] = top_level(slack_server)
    now = texts(first["blocks"])
    assert "Alert det0001 acknowledged by kim" in now and "revised it into det0003, which is not acknowledged" in now
    [ack] = [e for b in first["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == "wf_ack"]
    assert parse_button_value(ack["value"]).alert_id == "det0003"


def test_a_withdrawn_alert_keeps_saying_who_acknowledged_it(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """Outside trial 30, F6: the "Withdrawn: …" rewrite of an acknowledged alert's message dropped who had taken it."""
    from watchfloor.schemas.control import Actor

    d, control = acking_dispatcher(store, slack_server, clock)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    control.acknowledge("det0001", by=Actor(via="cli", name="kim"))
    assert d.cycle().ok
    gone = Retraction(
        alert_id="det0001",
        rule="troops",
        group=RUS,
        reason="an exercise",
        revision=1,
        at=datetime(2024, 11, 4, tzinfo=UTC),
    )
    store.append([retraction_event(gone)])
    assert d.cycle().ok
    [first] = top_level(slack_server)
    now = texts(first["blocks"])
    assert "*Withdrawn*: an exercise" in now and "Acknowledged by kim" in now and "before it was withdrawn" in now
    assert not any(b["type"] == "actions" for b in first["blocks"])


def test_a_follow_up_revised_before_it_could_be_sent_is_sent_once_as_it_stands(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    d = dispatcher(store, slack_server, archive, clock, webhook)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    [first] = top_level(slack_server)
    slack_server.fail_next("chat.postMessage", status=429, headers={"Retry-After": "1"})  # refused: not posted
    store.append([detection_event(troops(2, hours=1))])
    d.cycle()
    assert ledger(store)[("det0002", "slack-ops")].attempts == 1 and slack_server.thread(first["ts"]) == []
    # While the follow-up waits, a late report revises it.
    revised = detection_event(troops(3, hours=1, sources=("Daily A", "Wire B"), revises="det0002", revision=1))
    store.append([revised])
    clock.advance(d.next_due() or 1)
    report = d.cycle()
    assert report.ok and report.tally.replaced == 1
    # The thread gets the follow-up that stands, as a follow-up: one reply, no "Revised" reply after it.
    [reply] = slack_server.thread(first["ts"])
    assert reply["metadata"]["event_payload"] == {"alert_id": revised.id, "rule": "troops", "kind": "followup"}
    said = texts(reply["blocks"])
    assert "*Update*" in said and "Revise" not in said and "2 independent sources" in said
    now = texts(slack_server.message("#dprk-russia", first["ts"])["blocks"])
    assert "1 update in the thread" in now and "2 independent sources" in now
    row = ledger(store)[("det0002", "slack-ops")]
    assert (row.status, row.detail.split(":")[0]) == ("suppressed", "replaced before it was sent")

    # A later revision of it revises that reply, in the thread (not under the reply), and rewrites the reply.
    again = detection_event(troops(4, hours=1, sources=("Daily A", "Wire B", "Radio C"), revises="det0003", revision=2))
    store.append([again])
    assert d.cycle().ok
    replies = slack_server.thread(first["ts"])
    assert [m["metadata"]["event_payload"]["kind"] for m in replies] == ["followup", "revision"]
    assert all(m["thread_ts"] == first["ts"] for m in replies)
    rewritten = texts(slack_server.message("#dprk-russia", reply["ts"])["blocks"])
    assert "*Revised* by a late report" in rewritten and "Radio C" in rewritten
    # The file channel never failed: it had the follow-up at once, so there the revision replies as a revision.
    assert [x["kind"] for x in lines(archive)][:4] == ["alert", "followup", "revision", "revision"]


def test_the_first_message_shows_the_threads_newest_standing_alert_through_late_reports(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    """Outside trial 7 (H1), as it happened: an alert, a late report revising it, a HIGH follow-up, a later late
    report revising the revision (MEDIUM, unconfirmed: earlier in event time than the follow-up), then one revising
    the follow-up. The thread's newest standing alert in event time is HIGH throughout the last three steps: the
    first message (all the channel shows) says so, with the independent sources of its standing alerts."""
    d = dispatcher(store, slack_server, archive, clock, webhook)

    def first_now() -> str:
        [first] = top_level(slack_server)
        return texts(slack_server.message("#dprk-russia", first["ts"])["blocks"])

    def severity_field(said: str) -> str:
        return said.split("*Severity*\n")[1].split("\n")[0]

    store.append([detection_event(troops(1, hours=10, sources=("Moscow Daily",)))])
    assert d.cycle().ok
    store.append([detection_event(troops(2, hours=4, sources=("Meridian Wire",), revises="det0001", revision=1))])
    assert d.cycle().ok
    # (raised out of event-time order, like the trial's: its delivery key is not its alert id)
    follow = troops(3, severity="high", hours=10, sources=("Moscow Daily", "Meridian Wire"), revision=2)
    store.append([detection_event(follow)])
    assert d.cycle().ok
    assert "HIGH" in severity_field(first_now())

    # A late report from the day before revises the first alert's revision: that alert is MEDIUM (unconfirmed),
    # but it is older in event time than the HIGH follow-up, which still stands: the thread is HIGH.
    store.append([detection_event(troops(4, hours=-20, sources=("Harbor Ledger",), revises="det0002", revision=3))])
    assert d.cycle().ok
    now = first_now()
    assert severity_field(now).endswith("HIGH"), now
    assert "3 independent in the thread" in now and "Harbor Ledger" in now  # the revised alert's content
    [*_, revised_reply] = slack_server.thread(top_level(slack_server)[0]["ts"])
    said = texts(revised_reply["blocks"])
    assert "*Revised* · :large_yellow_circle: MEDIUM (unconfirmed)" in said  # the reply: its own alert
    assert "3 independent sources in the thread" in said and "thread now :large_orange_circle: HIGH" in said

    # A late report revises the follow-up (a reply): the reply shows its own revised alert, and the first message
    # is updated too, with the thread's state.
    updates_before = len(slack_server.updates)
    again = troops(5, severity="high", hours=4, sources=("Meridian Wire", "Harbor Ledger"), revises="det0003")
    store.append([detection_event(again.model_copy(update={"revision": 4}))])
    assert d.cycle().ok
    [first] = top_level(slack_server)
    rewritten = slack_server.updates[updates_before:]
    assert [u["ts"] for u in rewritten][-1] == first["ts"], rewritten  # the first message, after the reply
    followup_msg = next(
        m for m in slack_server.thread(first["ts"]) if m["metadata"]["event_payload"]["kind"] == "followup"
    )
    assert followup_msg["ts"] in [u["ts"] for u in rewritten]
    mine = texts(slack_server.message("#dprk-russia", followup_msg["ts"])["blocks"])
    assert "*Revised* by a late report" in mine and severity_field(mine).endswith("HIGH")
    now = first_now()
    assert severity_field(now).endswith("HIGH") and "(unconfirmed)" not in severity_field(now), now
    # Moscow Daily's reports were in det0001 and det0003, both replaced by late reports' revisions: the standing
    # alerts (det0004, det0005) rest on Harbor Ledger and Meridian Wire, and Moscow Daily's report, held back as a
    # repeat, still stands, as the message keeps it (outside trial 30, F3; tests/functional/test_thread_standing.py)
    assert "3 independent in the thread" in now and "*Told before* (2)" in now, now
    assert first["metadata"]["event_payload"] == {"alert_id": "det0001", "rule": "troops", "kind": "alert"}

    # file channel: the thread's state is the same, and `thread.target` is an alert id `alerts list` shows
    records = [x for x in lines(archive) if "thread" in x]
    assert [(x["thread"]["severity"], x["thread"]["confidence"]) for x in records][-3:] == [("high", "confirmed")] * 3
    assert [x["key"] != x["id"] for x in records] == [True] * 4  # (delivery keys: not what `alerts list` shows)
    assert [x["thread"]["target"] for x in records] == ["det0001", "det0001", "det0001", "det0003"]
    assert {x["thread"]["first_alert"] for x in records} == {"det0001"}

    # Nothing left to send: a second cycle changes nothing.
    count = (len(slack_server.messages), len(slack_server.updates))
    assert d.cycle().ok and (len(slack_server.messages), len(slack_server.updates)) == count


def test_a_revised_reply_updates_the_first_message_too_and_a_failed_second_update_is_retried(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    d = dispatcher(store, slack_server, archive, clock, webhook)
    store.append([detection_event(troops(1)), detection_event(troops(2, severity="high", hours=2, sources=SRC2))])
    assert d.cycle().ok
    [first] = top_level(slack_server)
    [reply] = slack_server.thread(first["ts"])
    # A late report revises the follow-up; Slack takes the reply's update, then fails the first message's.
    slack_server.fail_next("chat.update", status=500, after=1)
    revised = troops(3, severity="high", hours=1, sources=(*SRC2, "Radio C"), revises="det0002", revision=1)
    store.append([detection_event(revised)])
    assert not d.cycle().ok
    row = ledger(store)[(detection_event(revised).id, "slack-ops")]
    assert row.status == "outstanding" and row.ref and "updating the thread's first message failed" in row.detail
    clock.advance(d.next_due() or 0)
    assert d.cycle().ok
    assert [m["metadata"]["event_payload"]["kind"] for m in slack_server.thread(first["ts"])] == [
        "followup",
        "revision",
    ]
    mine = texts(slack_server.message("#dprk-russia", reply["ts"])["blocks"])
    assert "*Revised* by a late report" in mine and "Radio C" in mine and "*Sources*\n3 independent" in mine
    now = slack_server.message("#dprk-russia", first["ts"])
    said = texts(now["blocks"])
    assert "*Updated* · now :large_orange_circle: HIGH · 3 independent sources and 2 updates in the thread" in said
    assert "Shipments of munitions" in said  # still the first alert's message, whole
    assert now["metadata"]["event_payload"] == {"alert_id": "det0001", "rule": "troops", "kind": "alert"}
    assert slack_server.updates[-1]["ts"] == first["ts"]


SRC2 = ("Daily A", "Wire B")


def test_the_console_says_what_a_revision_and_a_withdrawal_do_to_the_alert_they_name(
    store: MemoryStore, clock: Clock
) -> None:
    """Outside trial 7 (L2): "revises alert …" and "withdraws alert …", not "revised of alert …"; and the thread's
    state is its newest standing alert's, also after a late report revised an older one."""
    import io

    from watchfloor.alerts.dispatcher import AlertDispatcher
    from watchfloor.alerts.notifiers.console import ConsoleNotifier

    out = io.StringIO()
    notifiers: dict[str, Notifier] = {"console": ConsoleNotifier("console", stream=out)}
    d = AlertDispatcher(store, notifiers, [Subscription(channel="console")], RETRY, now=clock, catalog=CATALOG)
    store.append([detection_event(troops(1)), detection_event(troops(2, severity="high", hours=1, sources=SRC2))])
    assert d.cycle().ok
    store.append([detection_event(troops(3, hours=-5, sources=("Radio C",), revises="det0001", revision=1))])
    assert d.cycle().ok
    gone = Retraction(alert_id="det0003", rule="troops", group=RUS, reason="an exercise", revision=2, at=T_GONE)
    store.append([retraction_event(gone)])
    assert d.cycle().ok
    printed = " ".join(out.getvalue().split())
    assert "revised of" not in printed and "withdrawn of" not in printed
    assert "revises alert det0001" in printed and "withdraws alert det0003" in printed, printed
    # the revision of the older MEDIUM alert: the thread stays HIGH (its newest standing alert, det0002)
    revision = printed.split("Revised: ")[1].split("Withdrawn: ")[0]
    assert "thread now HIGH · 3 independent sources · 2 updates" in revision, revision


T_GONE = datetime(2024, 11, 4, 10, tzinfo=UTC)


def test_the_consoles_revised_box_says_why_the_alert_changed(store: MemoryStore, clock: Clock) -> None:
    """Outside trial 12 (L3): the console's "Revised:" box says what changed the alert, as Slack, email and the file
    record do: the publisher's correction (`Detection.cause`), or a late report when the engine names none."""
    import io

    from rich.console import Console

    from watchfloor.alerts.dispatcher import AlertDispatcher
    from watchfloor.alerts.notifiers.console import ConsoleNotifier

    out = io.StringIO()  # wide enough that no line of the box wraps
    notifiers: dict[str, Notifier] = {"console": ConsoleNotifier("console", console=Console(file=out, width=240))}
    d = AlertDispatcher(store, notifiers, [Subscription(channel="console")], RETRY, now=clock, catalog=CATALOG)
    store.append([detection_event(troops(1)), detection_event(troops(5, group={"country": "BLR"}))])
    assert d.cycle().ok
    edited = "corrected by the publisher: Daily A edited item 7 at 2024-11-04 09:00 UTC, now asserted, no longer hedged"
    store.append(
        [
            detection_event(troops(2, revises="det0001", revision=1, cause=edited)),
            detection_event(troops(6, group={"country": "BLR"}, hours=-2, revises="det0005", revision=1)),
        ]
    )
    assert d.cycle().ok
    boxes = " ".join(out.getvalue().split()).split("Revised: ")[1:]
    assert len(boxes) == 2, out.getvalue()
    by_parent = {("det0001" if "revises alert det0001" in b else "det0005"): b for b in boxes}
    assert "This alert changed: corrected by the publisher: Daily A edited item 7" in by_parent["det0001"]
    assert "no longer hedged" in by_parent["det0001"]
    assert "A late report changed this alert" in by_parent["det0005"], by_parent["det0005"]


def test_an_alert_re_sent_after_its_story_went_on_says_it_is_late(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    # Outside trial 23, M2-2: the story's first alert was given up, its confirmation was sent as a message of its
    # own, and `alerts redeliver` then sent the first one: "MEDIUM (unconfirmed)" below the HIGH, with no word.
    subs = [Subscription(channel="slack-ops"), SUBS[1]]
    once = RETRY.model_copy(update={"attempts": 1})
    d = make(store, slack_server, archive, clock, subs=subs, catalog=CATALOG, retry=once)
    slack_server.fail_next("chat.postMessage", status=200, body={"ok": False, "error": "channel_not_found"})
    store.append([detection_event(troops(1))])
    d.cycle()
    assert ledger(store)[("det0001", "slack-ops")].status == "expired"
    store.append([detection_event(troops(2, severity="high", hours=1, sources=("Daily A", "Wire B")))])
    assert d.cycle().ok
    [high] = top_level(slack_server)
    assert "Sent late" not in texts(high["blocks"])  # sent in order: nothing to say
    store.redeliver(clock().timestamp(), alert_ids={"det0001"}, statuses=("expired",))
    assert d.cycle().ok
    [_, late] = top_level(slack_server)
    assert late["metadata"]["event_payload"]["alert_id"] == "det0001"
    said = texts(late["blocks"])
    lead, header = late["blocks"][:2]  # said first, above the header and the severity it qualifies (trial 24, F6)
    assert lead["type"] == "context" and lead["elements"][0]["text"].startswith("Sent late")
    assert header["type"] == "header"
    assert "MEDIUM" in said  # what it was when raised, and why it comes now:
    assert (
        "Sent late: a later alert of this rule and group reached this channel first; the newest, det0002, is HIGH"
        in said
    )
    # The file channel got both in order: its record says nothing; a record sent late carries `later`.
    assert all("later" not in r for r in lines(archive))


def test_an_alert_withdrawn_before_it_could_be_sent_is_not_sent_nor_its_withdrawal_but_a_revision_is(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    # A correction (or a late report) withdrew an alert before a delivery cycle ran (one poll, an outage): no
    # channel is told of either. A revision withdrawn so is still sent, then withdrawn: the message of the alert it
    # revises must not go on showing that alert as standing.
    d = dispatcher(store, slack_server, archive, clock, webhook)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok

    def withdrawn(alert: str, revision: int, group: dict[str, str] = RUS) -> Any:
        at = datetime(2024, 11, 4, 10, tzinfo=UTC)
        why = "the report was corrected"
        return retraction_event(
            Retraction(alert_id=alert, rule="troops", group=group, reason=why, revision=revision, at=at)
        )

    other = troops(5, hours=100, group={"party": "PRK"})  # another group: a story of its own
    revised = troops(3, hours=0, sources=("Daily A", "Wire B"), revises="det0001", revision=1)
    store.append(
        [
            detection_event(other),
            withdrawn("det0005", 1, other.group),
            detection_event(revised),
            withdrawn("det0003", 2),
        ]
    )
    report = d.cycle()
    assert report.ok and report.tally.withdrawn == 3  # det0005 in its three channels
    kinds = [
        (m["metadata"]["event_payload"]["alert_id"], m["metadata"]["event_payload"]["kind"])
        for m in slack_server.messages
    ]
    assert ("det0005", "alert") not in kinds and not any(k == "retraction" and "det0005" in a for a, k in kinds)
    [first] = top_level(slack_server)
    replies = [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.thread(first["ts"])]
    assert replies == [detection_event_id(revised), stable_id("retraction", "det0003", "2")]
    assert [r["kind"] for r in lines(archive)] == ["alert", "revision", "retraction"]
    said = ledger(store)[("det0005", "archive")]
    assert (said.status, said.detail.split(":")[0]) == ("suppressed", "withdrawn before it was sent")


def test_a_revision_sent_in_place_of_an_unsent_alert_and_withdrawn_before_it_could_be_sent_is_not_sent(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    # Trial 24, F2: during an outage an alert was revised (the revision to go in its place) and the revision then
    # withdrawn; the revision was posted as a message of its own, then withdrawn. Nothing was ever told: nothing is.
    d = dispatcher(store, slack_server, archive, clock, webhook)
    revised = troops(3, severity="high", sources=("Daily A", "Wire B"), revises="det0001", revision=1)
    gone = Retraction(alert_id="det0003", rule="troops", group=RUS, reason="a late report", revision=2, at=NOW_AT)
    store.append([detection_event(troops(1)), detection_event(revised), retraction_event(gone)])
    report = d.cycle()
    assert report.ok and report.tally.withdrawn == 3 and report.tally.suppressed == 0
    assert slack_server.messages == [] and lines(archive) == [] and webhook.received == []


def test_stories_raised_out_of_time_order_in_one_pass_reach_the_channel_in_event_time(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    # Trial 24, F3/F4: in one poll the feed read first raised a newer story (four days on), the next feed an older
    # story and its confirmation. They were posted in log order: the newer story first, the older one below it
    # marked "Sent late", and the newer one without the "Again: …" line it has when the older one is there first.
    d = dispatcher(store, slack_server, archive, clock, webhook)
    store.append(
        [
            detection_event(troops(3, hours=100)),
            detection_event(troops(1)),
            detection_event(troops(2, severity="high", hours=1, sources=("Daily A", "Wire B"))),
        ]
    )
    assert d.cycle().ok
    order = [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.messages]
    assert order == ["det0001", "det0002", "det0003"]  # event time, each reply after its thread's first message
    older, newer = top_level(slack_server)
    assert [r["metadata"]["event_payload"]["alert_id"] for r in slack_server.thread(older["ts"])] == ["det0002"]
    assert "Sent late" not in texts(older["blocks"]) + texts(newer["blocks"])
    assert "Again: the last alert of this rule and group was det0002" in texts(newer["blocks"])
    got = lines(archive)  # every channel alike
    assert [r["key"] for r in got] == ["det0001", "det0002", "det0003"]
    assert got[2]["earlier"]["alert"] == "det0002" and not any("later" in r for r in got)


def test_a_revision_back_to_the_content_of_an_alert_never_sent_leaves_the_thread_as_in_event_time(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    # Trial 25, F1 (HIGH) and F5: one poll raised det0001 (one outlet) and revised it into det0002 (a second outlet
    # confirms: HIGH), so det0001 was never sent and det0002 went as the thread's first message. A correction then
    # withdrew the second report: the group's history went back to det0001's content, a revision of det0002 with
    # det0001's id again. The first message kept "now HIGH · 0 independent sources" (the chain of revisions ran back
    # into itself, no alert stood), and counted the revision it went as among its replies.
    d = dispatcher(store, slack_server, archive, clock, webhook)
    confirmed = troops(2, severity="high", sources=("Daily A", "Wire B"), revises="det0001", revision=1)
    store.append([detection_event(troops(1)), detection_event(confirmed)])
    assert d.cycle().ok
    [first] = top_level(slack_server)
    assert first["metadata"]["event_payload"]["alert_id"] == detection_event_id(confirmed)  # in det0001's place
    corrected = "corrected by the publisher: Wire B edited item w-1, and the new text no longer reports it"
    store.append([detection_event(troops(1, revises="det0002", revision=2, cause=corrected))])
    assert d.cycle().ok
    [reply] = slack_server.thread(first["ts"])
    assert "MEDIUM (unconfirmed)" in texts(reply["blocks"]) and "1 independent source" in texts(reply["blocks"])
    now = texts(slack_server.updates[-1]["blocks"])
    assert slack_server.updates[-1]["ts"] == first["ts"]
    assert "now :large_yellow_circle: MEDIUM (unconfirmed) · 1 independent source and 1 update in the thread" in now
    assert "HIGH" not in now and "now alert det0001" in now


def test_was_medium_is_said_of_what_the_channel_was_told_before_in_the_order_it_was_sent(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    # Review 21, F6: "(was MEDIUM)" (and the channel broadcast of an escalation) was decided at intake, in log order.
    # One poll read a follow-up an hour on (HIGH) and then a late report that revises the thread's MEDIUM alert to
    # HIGH; sent in event time, the revision went first without "(was MEDIUM)", and the follow-up after it was
    # broadcast as an escalation of a thread the channel had just been told is HIGH.
    d = dispatcher(store, slack_server, archive, clock, webhook)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    follow_up = troops(2, severity="high", hours=1, sources=("Daily A", "Wire B"))
    late = troops(1, severity="high", sources=("Daily A", "Wire C"), revises="det0001", revision=1)
    store.append([detection_event(follow_up), detection_event(late)])
    assert d.cycle().ok
    [first] = top_level(slack_server)
    revision, reply = slack_server.thread(first["ts"])
    assert revision["metadata"]["event_payload"]["alert_id"] == detection_event_id(late)
    assert reply["metadata"]["event_payload"]["alert_id"] == "det0002"
    assert revision.get("subtype") == "thread_broadcast" and "was MEDIUM)" in texts(revision["blocks"])
    assert reply.get("subtype") is None and "(was " not in texts(reply["blocks"])
    got = {r["key"]: r for r in lines(archive)}  # the file channel says the same
    assert got[detection_event_id(late)]["escalated_from"] == "medium" and "escalated_from" not in got["det0002"]


def test_a_revision_sent_in_place_of_an_unsent_alert_goes_at_its_own_time_before_later_alerts_of_other_rules(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock, webhook: Hook
) -> None:
    # Trial 25, F4: one poll raised a troops alert (ten hours on), an alert of another rule (five hours on), and a late
    # report revising the troops alert to the first hour. The revision went as the troops story's first message, in
    # place of the alert never sent, but was claimed at that alert's time: below the other rule's later alert.
    d = dispatcher(store, slack_server, archive, clock, webhook)
    late = troops(1, hours=1, sources=("Daily A", "Wire C"), severity="high", revises="det0001", revision=1)
    other = detection(7, rule="shells-shipped", minutes=5 * 60)
    store.append([detection_event(troops(1, hours=10)), detection_event(other), detection_event(late)])
    assert d.cycle().ok
    order = [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.messages]
    assert order == [detection_event_id(late), "det0007"]  # event time; det0001 replaced before it was sent
    assert len(top_level(slack_server)) == 2
    got = ledger(store)
    assert got[("det0001", "slack-ops")].status == "suppressed" and got[("det0001", "slack-ops")].detail.startswith(
        "replaced"
    )
    assert [r["key"] for r in lines(archive)] == [detection_event_id(late), "det0007"]  # every channel alike


def test_a_channel_whose_alerts_of_a_story_were_all_withdrawn_gets_the_next_one_as_a_message_of_its_own(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    # Outside trial 26, F5: a channel subscribed for HIGH only got a story's confirmation (HIGH) as its first message;
    # the confirmation was withdrawn; a third outlet's report then made a new HIGH, which the story (still standing on
    # its MEDIUM first report elsewhere) made a follow-up: a reply under "Withdrawn", never shown in that channel.
    subs = [Subscription(channel="slack-ops", min_severity="high"), Subscription(channel="archive")]
    d = make(store, slack_server, archive, clock, subs=subs, catalog=CATALOG)
    store.append([detection_event(troops(1))])
    store.append([detection_event(troops(2, severity="high", hours=1, sources=("Daily A", "Wire B")))])
    assert d.cycle().ok
    [first] = top_level(slack_server)
    assert first["metadata"]["event_payload"]["alert_id"] == "det0002"
    gone = Retraction(alert_id="det0002", rule="troops", group=RUS, reason="corrected by the publisher", revision=1,
                      at=datetime(2024, 11, 4, 10, tzinfo=UTC))  # fmt: skip
    store.append([retraction_event(gone)])
    assert d.cycle().ok
    store.append([detection_event(troops(3, severity="high", hours=2, sources=("Daily A", "Radio D")))])
    assert d.cycle().ok
    tops = top_level(slack_server)
    assert [m["metadata"]["event_payload"]["alert_id"] for m in tops] == ["det0002", "det0003"]
    assert [m["metadata"]["event_payload"]["kind"] for m in slack_server.thread(first["ts"])] == ["retraction"]
    # where the story still stands (the MEDIUM first report), the new HIGH goes on in its thread
    assert [line["kind"] for line in lines(archive)] == ["alert", "followup", "retraction", "followup"]


def test_the_first_messages_update_keeps_its_again_and_sent_late_lines(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """Trial 46, MED-3: a follow-up's chat.update of the thread's first message ("Updated · now HIGH") dropped the
    "Again: … a new story" line and the "Sent late: …" mark the message was posted with. The update keeps them, as
    it keeps the evidence."""
    subs = [Subscription(channel="slack-ops")]
    d = make(store, slack_server, archive, clock, subs=subs, catalog=CATALOG)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    clock.advance(10)
    store.append([detection_event(troops(2, hours=49))])  # past the rule's 2 days: a new story, "Again: …"
    assert d.cycle().ok
    clock.advance(10)
    store.append([detection_event(troops(4, hours=200))])  # a third story, sent before the one below it in time
    assert d.cycle().ok
    clock.advance(10)
    store.append([detection_event(troops(3, hours=120))])  # read late: its own story, "Sent late: …"
    assert d.cycle().ok
    posted = {m["metadata"]["event_payload"]["alert_id"]: m for m in top_level(slack_server)}
    again, late = texts(posted["det0002"]["blocks"]), texts(posted["det0003"]["blocks"])
    assert "Again: the last alert of this rule and group was det0001" in again and "its message>)" in again
    assert posted["det0003"]["text"].startswith("Sent late: ")
    late_line = posted["det0003"]["blocks"][0]["elements"][0]["text"]
    assert late_line.startswith("Sent late") and late_line in late

    # Confirmations in both threads: each first message is rewritten to "Updated · now HIGH"
    clock.advance(10)
    two = ("Daily A", "Wire B")
    store.append(
        [
            detection_event(troops(5, severity="high", hours=50, sources=two)),
            detection_event(troops(6, severity="high", hours=121, sources=two)),
        ]
    )
    assert d.cycle().ok
    rewrites = {u["ts"]: u for u in slack_server.updates}
    again_now = rewrites[posted["det0002"]["ts"]]
    said = texts(again_now["blocks"])
    assert "*Updated* · now" in said and "HIGH" in said, said
    assert "Again: the last alert of this rule and group was det0001" in said and "its message>)" in said, said
    late_now = rewrites[posted["det0003"]["ts"]]
    said = texts(late_now["blocks"])
    assert "*Updated* · now" in said and "HIGH" in said, said
    assert late_now["blocks"][0]["elements"][0]["text"] == late_line, said  # still first, above the header
    assert late_now["text"].startswith("Sent late: "), late_now["text"]
    assert "Again" not in texts(rewrites[posted["det0002"]["ts"]]["blocks"][0])  # (no lead on the other)


def test_a_story_sent_late_becomes_the_earlier_story_the_next_ones_message_names(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """Outside trial 64, LOW-3: a late report's story (21 Oct) was posted after the story of 23 Oct, whose "Again: …"
    line went on naming the story of 18 Oct as the last one. That message is rewritten to name the late story (with
    a link to its message), and its thread's later update keeps saying so."""
    d = make(store, slack_server, archive, clock, subs=[Subscription(channel="slack-ops")], catalog=CATALOG)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    clock.advance(10)
    store.append([detection_event(troops(2, hours=120))])  # past the rule's 2 days: a new story, "Again: … det0001"
    assert d.cycle().ok
    posted = {m["metadata"]["event_payload"]["alert_id"]: m for m in top_level(slack_server)}
    assert "Again: the last alert of this rule and group was det0001" in texts(posted["det0002"]["blocks"])

    clock.advance(10)
    store.append([detection_event(troops(3, hours=60))])  # read late: a story of its own between the two
    assert d.cycle().ok
    posted = {m["metadata"]["event_payload"]["alert_id"]: m for m in top_level(slack_server)}
    late = texts(posted["det0003"]["blocks"])
    assert posted["det0003"]["text"].startswith("Sent late: ") and "Again: the last alert of this rule and " in late
    assert "was det0001" in late
    link = f"https://watchfloor-test.slack.com/archives/{FakeSlack.channel_id(posted['det0003']['channel'])}/p"
    late_link = f"(<{link}{posted['det0003']['ts'].replace('.', '')}|its message>)"
    (rewrite,) = [u for u in slack_server.updates if u["ts"] == posted["det0002"]["ts"]]
    for shown in (texts(rewrite["blocks"]), texts(posted["det0002"]["blocks"])):  # (the channel's copy, rewritten)
        assert "Again: the last alert of this rule and group was det0003, fired <!date^" in shown, shown
        assert "(2 earlier in this channel); a new story " + late_link in shown, shown
        assert "det0001" not in shown and shown.count("its message>)") == 1, shown
    # (its metadata kept: a restarted dispatcher finds it by it, as `posted` above did)

    # A confirmation in the 23 Oct story's thread: its first message's update names the late story, as rewritten
    clock.advance(10)
    store.append([detection_event(troops(4, severity="high", hours=121, sources=("Daily A", "Wire B")))])
    assert d.cycle().ok
    updated = [u for u in slack_server.updates if u["ts"] == posted["det0002"]["ts"]][-1]
    said = texts(updated["blocks"])
    assert "*Updated* · now" in said and "HIGH" in said, said
    assert "was det0003" in said and "(2 earlier in this channel)" in said and late_link in said, said


def test_a_story_sent_late_before_the_first_story_leaves_its_message_as_it_is(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """The rewrite changes a line that named another story; a first story's message names none, says nothing false,
    and is not rewritten (the late story's own message says "Sent late")."""
    d = make(store, slack_server, archive, clock, subs=[Subscription(channel="slack-ops")], catalog=CATALOG)
    store.append([detection_event(troops(1, hours=120))])
    assert d.cycle().ok
    clock.advance(10)
    store.append([detection_event(troops(2))])  # read late: a story of its own, days before the first one
    assert d.cycle().ok
    posted = {m["metadata"]["event_payload"]["alert_id"]: m for m in top_level(slack_server)}
    assert posted["det0002"]["text"].startswith("Sent late: ")
    assert "Again" not in texts(posted["det0001"]["blocks"]) and slack_server.updates == []


def test_a_story_sent_late_is_recorded_sent_when_the_message_to_rewrite_was_deleted(
    store: MemoryStore, slack_server: FakeSlack, archive: Path, clock: Clock
) -> None:
    """The rewrite is a courtesy to a message sent already: when that message is gone from the channel, the late
    story is still posted and recorded sent, once (the rewrite is not retried as a failed delivery)."""
    d = make(store, slack_server, archive, clock, subs=[Subscription(channel="slack-ops")], catalog=CATALOG)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    clock.advance(10)
    store.append([detection_event(troops(2, hours=120))])
    assert d.cycle().ok
    (second,) = [m for m in top_level(slack_server) if m["metadata"]["event_payload"]["alert_id"] == "det0002"]
    slack_server.delete_message(second["channel"], second["ts"])
    clock.advance(10)
    store.append([detection_event(troops(3, hours=60))])
    assert d.cycle().ok
    row = ledger(store)[("det0003", "slack-ops")]
    assert row.status == "sent" and row.attempts == 1, row
    assert [m["metadata"]["event_payload"]["alert_id"] for m in top_level(slack_server)] == ["det0001", "det0003"]
    assert slack_server.updates == []
