"""Digests on an injected clock, delivered by the dispatcher like any delivery: due at the scheduled local time,
one ledger row per slot under a deterministic key, listing what is new since the previous one; retried on the
backoff while the channel fails, looked for in the channel after an interrupted attempt, expired after the
maximum age and redelivered; through the real slack-sdk to the local Slack-compatible server and a real file."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import RETRY, lines, slack
from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.digest import digest_id, digest_thread, subscription_digest_id
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import AlertCatalog, Digest, Notice
from watchfloor.alerts.notifiers.base import Notifier
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.alerts.notifiers.slack_blocks import digest_blocks
from watchfloor.schemas.control import Actor, ControlType, DigestSchedule, DigestSent
from watchfloor.schemas.events import Detection, Event, Retraction, detection_event, retraction_event
from watchfloor.stream_processors.ports import DeliveryRecord
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional

ALICE = Actor(via="slack", user="U0ALICE", name="alice")
MONDAY_7 = datetime(2024, 11, 4, 7, 0, tzinfo=UTC)  # London is on GMT: 08:00 London = 08:00 UTC
CATALOG = AlertCatalog(entity_names={"RUS": "Russia"})


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Inbox:
    """A channel that keeps what it receives (alerts and digests)."""

    def __init__(self, name: str = "desk") -> None:
        self.name = name
        self.got: list[Digest] = []
        self.alerts: list[Notice] = []

    def send(self, notice: Notice) -> str:
        self.alerts.append(notice)
        return f"alert {len(self.alerts)}"

    def send_digest(self, digest: Digest) -> str:
        self.got.append(digest)
        return f"kept {len(self.got)}"


def det(n: int, rule: str = "treaty-ratified", severity: str = "high", party: str = "RUS") -> Detection:
    return Detection(
        id=f"d{n}",
        rule=rule,
        title=f"Parliament approved the pact (#{n})",
        severity=severity,  # type: ignore[arg-type]
        group={"party": party},
        fired_at=datetime(2024, 11, 1, tzinfo=UTC) + timedelta(hours=n),
    )


def setup(
    notifiers: dict[str, Notifier] | None = None,
) -> tuple[MemoryStore, Clock, ControlLog, Inbox, AlertDispatcher]:
    store, clock, inbox = MemoryStore(), Clock(MONDAY_7), Inbox()
    control = ControlLog(store, now=clock)
    control.subscribe(
        "desk", rules=["treaty-ratified"], min_severity="high", digest="daily 08:00 Europe/London", by=ALICE
    )
    d = dispatcher(store, clock, notifiers or {"desk": inbox})
    return store, clock, control, inbox, d


def dispatcher(store: MemoryStore, clock: Clock, notifiers: dict[str, Notifier]) -> AlertDispatcher:
    """A dispatcher (a process) over the store, with the control log as its routing, as every command has."""
    return AlertDispatcher(
        store, notifiers, retry=RETRY, now=clock, routing=ControlLog(store, now=clock), catalog=CATALOG
    )


def digest_rows(store: MemoryStore) -> list[str]:
    return [r.alert_id for r in store.deliveries() if r.kind == "digest"]


def test_digest_schedule_and_contents() -> None:
    store, clock, control, inbox, d = setup()
    store.append([detection_event(det(1)), detection_event(det(2, rule="treaty-signed"))])
    store.append([detection_event(det(3, severity="low")), detection_event(det(4, party="PRK"))])
    clock.now = MONDAY_7 + timedelta(minutes=59)
    assert d.cycle().tally.digests == 0  # 07:59 London: not yet
    assert d.next_due() == 60  # the live loops wake for the slot
    assert d.next_due(digests=False) is None  # nothing outstanding: what `next attempt in` reports
    assert inbox.alerts == []  # a digest subscription gets no message per alert
    clock.now = MONDAY_7 + timedelta(hours=1)
    report = d.cycle()
    assert (report.tally.digests, report.tally.sent, report.ok) == (1, 1, True)
    (first,) = inbox.got
    assert [x.id for x in first.detections] == ["d1", "d4"]  # the rule, at or above high; by severity, then time
    assert first.detections[0].group == {"party": "Russia"}  # entity names
    assert first.slot == datetime(2024, 11, 4, 8, 0, tzinfo=first.slot.tzinfo)
    assert str(first.slot.tzinfo) == "Europe/London" and first.since is None
    clock.advance(30 * 60)
    assert d.cycle().tally.digests == 0  # once per slot
    assert dispatcher(store, clock, {"desk": inbox}).cycle().tally.digests == 0  # another process: still once

    store.append([detection_event(det(5))])
    control.silence("treaty-ratified", duration=timedelta(days=2), by=ALICE, group={"party": "PRK"}, channel="desk")
    store.append([detection_event(det(6, party="PRK"))])
    clock.now = datetime(2024, 11, 5, 7, 59, tzinfo=UTC)
    assert d.cycle().tally.digests == 0
    clock.now = datetime(2024, 11, 5, 8, 0, tzinfo=UTC)
    assert d.cycle().tally.digests == 1
    second = inbox.got[1]
    assert [x.id for x in second.detections] == ["d5"]  # only what is new; d6 is silenced here
    assert second.silenced == 1
    assert second.since == first.slot
    sent = [DigestSent.model_validate(se.event.payload) for se in store.read(0, types={ControlType.DIGEST_SENT.value})]
    assert [(x.alert_ids, x.detail) for x in sent] == [(("d1", "d4"), "kept 1"), (("d5",), "kept 2")]
    assert [store.delivery_status(x.id, "desk") for x in sent] == ["sent", "sent"]
    assert sent[0].id == digest_id("desk", first.slot)  # channel + slot


def test_subscribing_after_todays_slot_waits_for_tomorrow() -> None:
    _store, clock, control, inbox, d = setup()
    clock.now = MONDAY_7 + timedelta(hours=3)
    control.subscribe("desk", rules=["*"], digest="daily 09:00 UTC", by=ALICE)
    d.cycle()
    first_sub = [s.id for s in control.subscriptions() if "08:00" in (s.digest or "")]
    assert [x.subscription_id for x in inbox.got] == first_sub  # the 09:00 one subscribed at 10:00


def test_a_failing_channel_gets_the_digest_on_the_backoff_once(slack_server: FakeSlack) -> None:
    """No new input: the digest stays outstanding and later cycles retry it when it is due, then it is sent
    once. Article text in it is escaped."""
    slack_server.channels = {"#dprk-russia"}
    slack_server.fail_next("chat.postMessage", status=503, times=3)
    store, clock, _, _, d = setup({"desk": slack(slack_server, name="desk")})
    store.append([detection_event(det(1).model_copy(update={"title": "<!channel> ratified"}))])
    clock.now = MONDAY_7 + timedelta(hours=1)
    waits = []
    report = d.cycle()
    while not report.ok:
        assert report.outstanding == 1
        wait = d.next_due()
        assert wait is not None
        waits.append(wait)
        clock.advance(wait)
        report = d.cycle()
    assert waits == [2, 4, 8]
    (msg,) = slack_server.messages
    key = msg["metadata"]["event_payload"]["alert_id"]
    assert key.startswith("dig-") and len(slack_server.messages_for(key)) == 1
    text = json.dumps(msg["blocks"])
    assert "&lt;!channel&gt; ratified" in text and "<!channel>" not in text
    assert msg["blocks"][0]["text"]["text"].startswith("watchfloor digest · 1 alert ·")
    # Each 503 may have posted: the retries looked in the channel first.
    assert len(slack_server.requests_for("conversations.history")) == 3
    assert store.deliveries(alert_ids={key})[0].attempts == 4


@pytest.mark.parametrize("channel", ["slack", "file"])
def test_an_interrupted_digest_is_found_in_the_channel_not_sent_again(
    slack_server: FakeSlack, tmp_path: Path, channel: str
) -> None:
    """A process posted the digest and died before recording it: the next one finds it by its key."""
    slack_server.channels = {"#dprk-russia"}
    notifier: Notifier = (
        slack(slack_server, name="desk") if channel == "slack" else FileNotifier("desk", tmp_path / "f")
    )
    store, clock, _, _, d = setup({"desk": notifier})
    store.append([detection_event(det(1))])
    clock.now = MONDAY_7 + timedelta(hours=1)
    assert d.plan_digests() == 1
    [claimed] = store.claim_deliveries("killed", clock().timestamp(), 30)
    digest = Digest.from_payload(claimed.payload)
    assert digest is not None
    notifier.send_digest(digest)  # type: ignore[attr-defined]  # ... and the process is killed here
    clock.advance(31)  # its lease runs out
    assert dispatcher(store, clock, {"desk": notifier}).cycle().ok
    if channel == "slack":
        assert len(slack_server.messages_for(digest.id)) == 1
        assert len(slack_server.requests_for("chat.postMessage")) == 1
    else:
        assert [line["key"] for line in lines(tmp_path / "f")] == [digest.id]
    assert store.delivery_status(digest.id, "desk") == "sent"


def test_a_digest_expires_after_the_maximum_age_and_is_redelivered(tmp_path: Path) -> None:
    # A path under a plain file cannot be written, even by root (CI), until the operator fixes it.
    blocked = FileNotifier("desk", tmp_path / "a-file" / "digests.jsonl")
    (tmp_path / "a-file").write_text("not a directory")
    store, clock, _, _, d = setup({"desk": blocked})
    store.append([detection_event(det(1))])
    clock.now = MONDAY_7 + timedelta(hours=1)
    first = d.cycle()
    assert (first.outstanding, first.tally.failed) == (1, 1)
    (key,) = digest_rows(store)
    clock.advance(24 * 3600)  # the maximum age (and the next day's slot, whose digest fails too)
    assert d.cycle().tally.expired == 1
    (row,) = store.deliveries(alert_ids={key})
    assert row.status == "expired" and "cannot write" in row.detail
    (tmp_path / "a-file").unlink()
    assert store.redeliver(clock().timestamp(), alert_ids={row.alert_id}) == 1
    clock.advance(60)  # the next day's digest waits on its backoff; the redelivered one is due at once
    assert d.cycle().tally.digests == 2
    assert sorted(line["key"] for line in lines(tmp_path / "a-file" / "digests.jsonl")) == sorted(digest_rows(store))


def test_the_next_digest_lists_what_came_after_an_expired_one(tmp_path: Path) -> None:
    """Contents are fixed when a slot is planned: a digest that was given up does not shift the next one."""
    inbox = Inbox()
    store, clock, _, _, d = setup({"desk": FileNotifier("desk", tmp_path / "a-file" / "x.jsonl")})
    (tmp_path / "a-file").write_text("")
    store.append([detection_event(det(1))])
    clock.now = MONDAY_7 + timedelta(hours=1)
    d.cycle()
    clock.now += timedelta(days=1, hours=1)  # past the maximum age: the first digest expires
    store.append([detection_event(det(2))])
    clock.now = datetime(2024, 11, 5, 8, 0, tzinfo=UTC) + timedelta(hours=1, minutes=1)
    later = dispatcher(store, clock, {"desk": inbox})
    assert later.cycle().tally.digests == 1
    assert [x.id for x in inbox.got[0].detections] == ["d2"]
    assert {r.status for r in store.deliveries() if r.kind == "digest"} == {"expired", "sent"}


def test_a_digest_planned_before_its_subscription_was_removed_is_not_sent() -> None:
    """Unsubscribed after the slot came (the row is in the ledger, the channel still failing or not yet
    reached): no digest reaches the channel, the row is settled as suppressed with the reason, and nothing is
    outstanding."""
    store, clock, control, inbox, d = setup()
    store.append([detection_event(det(1))])
    clock.now = MONDAY_7 + timedelta(hours=1)
    assert d.plan_digests() == 1
    [key] = digest_rows(store)
    [sub] = control.subscriptions("desk")
    control.unsubscribe(sub.id, by=ALICE, reason="moved to the morning call")
    report = d.cycle()
    assert inbox.got == [] and report.ok and report.tally.suppressed == 1
    assert store.delivery_status(key, "desk") == "suppressed"
    assert "subscription was removed" in (store.deliveries(alert_ids={key})[0].detail or "")
    clock.advance(24 * 3600)  # and no later slot is planned for it
    assert d.cycle().tally.digests == 0 and digest_rows(store) == [key]


def test_a_story_is_listed_once_at_its_newest_alert() -> None:
    # A follow-up (same rule and group) was a second line beside its first alert: one story told twice, at two
    # severities when it escalated. Now the newest stands for the story, and says how many alerts came before it.
    store, clock, _control, inbox, d = setup()
    store.append([detection_event(det(1)), detection_event(det(2, party="PRK")), detection_event(det(3))])
    clock.now = MONDAY_7 + timedelta(hours=1)
    assert d.cycle().tally.digests == 1
    (got,) = inbox.got
    assert [x.id for x in got.detections] == ["d2", "d3"] and got.folded == {"d3": ("d1",)}
    assert got.title().startswith("watchfloor digest · 3 alerts in 2 stories")
    lines = got.lines()
    assert "after 1 earlier alert of this story" in lines[1] and "earlier" not in lines[0]
    # counted as a reader says it (outside trial 14, L3: "3 alert(s)"): one story, not "1 stories"
    alone = dataclasses.replace(got, detections=got.detections[1:])
    assert alone.title().startswith("watchfloor digest · 2 alerts in 1 story ·")
    sent = [DigestSent.model_validate(se.event.payload) for se in store.read(0, types={ControlType.DIGEST_SENT.value})]
    assert sorted(sent[0].alert_ids) == ["d1", "d2", "d3"]  # the log still names every alert it told of
    # A digest planned by an earlier version (its payload has no `folded`) still reads, as it was.
    payload = got.to_payload()
    del payload["digest"]["folded"]
    old = Digest.from_payload(payload)
    assert old is not None and old.folded == {} and old.title().startswith("watchfloor digest · 2 alerts ·")


def test_two_stories_of_a_rule_and_group_are_two_lines_as_they_are_two_threads() -> None:
    # The digest folded every alert of a rule and group into its newest, while the channels' threads follow the
    # story (alerts.intake.Stories): d1 and d2 are one story (two hours apart), d30, a day and more after d1's
    # start (the rule's open period), starts another, a thread of its own in every channel.
    store, clock, _control, inbox, d = setup()
    store.append([detection_event(det(1)), detection_event(det(2)), detection_event(det(30))])
    clock.now = MONDAY_7 + timedelta(hours=1)
    assert d.cycle().tally.digests == 1
    (got,) = inbox.got
    assert sorted(x.id for x in got.detections) == ["d2", "d30"] and got.folded == {"d2": ("d1",)}
    assert got.title().startswith("watchfloor digest · 3 alerts in 2 stories")


def test_an_alert_withdrawn_before_the_digest_is_not_listed_and_its_story_is_told_as_it_stands() -> None:
    # Outside trial 26, F1 (HIGH): a MEDIUM report, a second outlet's confirmation (a HIGH follow-up), then the second
    # outlet's correction withdrew the HIGH; the digest still listed "[HIGH] … after 1 earlier alert", citing the
    # withdrawn report. A revision stands in the place of what it revises, and a story left with nothing is not listed.
    store, clock, control, inbox, d = setup()
    control.subscribe("desk", rules=["troops"], digest="daily 08:00 Europe/London", by=ALICE)
    first = det(1, rule="troops", severity="medium")
    confirmed = det(2, rule="troops")  # a follow-up of its story, an hour on
    other = det(3, severity="high", party="PRK")  # another story (another rule's subscription): revised, withdrawn
    revised = det(4, party="PRK").model_copy(update={"revises": "d3", "revision": 1, "fired_at": other.fired_at})
    withdraw = [
        Retraction(alert_id=x, rule=r, group=g, reason="corrected by the publisher", revision=2, at=other.fired_at)
        for x, r, g in (("d2", "troops", {"party": "RUS"}), ("d4", "treaty-ratified", {"party": "PRK"}))
    ]
    store.append([detection_event(first), detection_event(confirmed), detection_event(other)])
    store.append([detection_event(revised), *map(retraction_event, withdraw)])
    clock.now = MONDAY_7 + timedelta(hours=1)
    assert d.cycle().tally.digests == 1  # the channel's two subscriptions of one slot: one digest
    (troops,) = inbox.got
    # the treaty story was revised, then the revision withdrawn: nothing of it stands
    assert [(x.id, x.severity) for x in troops.detections] == [("d1", "medium")] and troops.folded == {}
    assert troops.withdrawn == 2 and troops.left_out() == "2 withdrawn before this digest: not listed"
    again = Digest.from_payload(troops.to_payload())  # what a later attempt sends
    assert again is not None and again.withdrawn == 2 and again.to_json()["withdrawn"] == 2


def test_a_silence_holds_back_what_was_raised_while_it_was_in_force_not_what_it_is_in_force_for_at_the_digest() -> None:
    # Outside trial 26, F2 (HIGH): silences were applied at the digest's time: one set just before it dropped the day's
    # alerts of its rule, and one over by then let through an alert raised while it held.
    store, clock, control, inbox, d = setup()

    def raised(n: int, at: datetime, **kw: str) -> Event:
        return detection_event(det(n, **kw)).model_copy(update={"received_at": at})

    store.append([raised(1, MONDAY_7 - timedelta(hours=5))])  # before any silence
    control.silence("treaty-ratified", duration=timedelta(minutes=10), by=ALICE, group={"party": "PRK"}, channel="desk")
    store.append([raised(2, MONDAY_7 + timedelta(minutes=1), party="PRK")])  # while that silence holds
    clock.advance(30 * 60)  # 07:30: it is over
    control.silence("treaty-ratified", duration=timedelta(hours=1), by=ALICE, channel="desk")
    clock.now = MONDAY_7 + timedelta(hours=1)  # 08:00, that one still in force
    assert d.cycle().tally.digests == 1
    (got,) = inbox.got
    assert [x.id for x in got.detections] == ["d1"] and got.silenced == 1


def test_an_alert_an_earlier_digest_listed_and_withdrawn_since_is_told_in_the_next() -> None:
    # Outside trial 26, F1: a desk that reads digests alone never heard that yesterday's HIGH was withdrawn.
    store, clock, _control, inbox, d = setup()
    store.append([detection_event(det(1)), detection_event(det(2, party="PRK"))])
    clock.now = MONDAY_7 + timedelta(hours=1)
    assert d.cycle().tally.digests == 1
    gone = Retraction(alert_id="d1", rule="treaty-ratified", group={"party": "RUS"}, reason="the vote was postponed",
                      revision=1, at=det(1).fired_at)  # fmt: skip
    store.append([retraction_event(gone)])
    clock.now = datetime(2024, 11, 5, 8, 0, tzinfo=UTC)
    assert d.cycle().tally.digests == 1
    second = inbox.got[1]
    assert second.detections == () and second.withdrawn == 0  # (not raised in its span: not "withdrawn before")
    assert second.withdrawn_earlier == (("d1", "Parliament approved the pact (#1) (treaty-ratified)", gone.reason),)
    line = "Withdrawn since an earlier digest: Parliament approved the pact (#1) (treaty-ratified) · alert d1"
    assert second.withdrawals() == [f"{line} · the vote was postponed"]
    # every channel kind says it: Slack, the file channel's JSON, a later attempt's payload
    blocks = texts(digest_blocks(second))
    assert "Withdrawn since an earlier digest" in blocks and "alert d1" in blocks
    assert second.to_json()["withdrawn_earlier"] == [{"id": "d1", "title": line.split(": ", 1)[1].split(" · ")[0],
                                                      "reason": "the vote was postponed"}]  # fmt: skip
    again = Digest.from_payload(second.to_payload())
    assert again is not None and again.withdrawn_earlier == second.withdrawn_earlier
    store.append([retraction_event(gone.model_copy(update={"alert_id": "d9", "revision": 2}))])  # never listed
    clock.now = datetime(2024, 11, 6, 8, 0, tzinfo=UTC)
    assert d.cycle().tally.digests == 1 and inbox.got[2].withdrawn_earlier == ()


def texts(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks)


def test_a_withdrawal_since_an_earlier_digest_is_said_in_russian_with_its_reason_worded() -> None:
    """Outside trial 62, H3: a digest line of an alert withdrawn since was English in a Russian channel, and the
    correction's reason in it too (its time bare UTC text)."""
    from watchfloor.alerts.notifiers.wording import wording
    from watchfloor.stream_processors.engine.corrections import correction_reason

    at = datetime(2026, 12, 6, 23, 58, 22, tzinfo=UTC)
    reason = correction_reason("РИА Пример", "https://ria.example/a10", at)
    digest = Digest(
        id="dig-1",
        subscription_id="sub-1",
        channel="desk",
        slot=at,
        since=None,
        after_position=0,
        through_position=1,
        detections=(),
        withdrawn_earlier=(("d1", "Удар по Судже (ru-strike)", reason),),
    )
    said = digest_blocks(digest, wording("ru"))[-2]["text"]["text"]
    token = f"<!date^{int(at.timestamp())}^{{date_num}} {{time}}|2026-12-06 23:58 UTC>"
    assert said.startswith(
        ":wastebasket: Отозвано после прошлой сводки: Удар по Судже (ru-strike) · оповещение d1 · исправлено "
        f"издателем: материал https://ria.example/a10 (РИА Пример) изменён {token}, и в новом тексте"
    ), said
    # English: as every channel kind says it
    english = digest_blocks(digest)[-2]["text"]["text"]
    assert english.startswith(":wastebasket: Withdrawn since an earlier digest") and "edited item https" in english
    assert "Отозвано" not in english


def test_two_digest_subscriptions_of_a_channel_and_slot_make_one_digest_listing_each_alert_once() -> None:
    # Outside trial 69, M3a: a daily digest of tag `sanctions` and a daily digest of every `high` alert, both to #desk
    # at one time, listed an alert both matched twice (in two messages of the slot). Now one digest per channel and
    # slot, under one key whoever plans it, each alert once, saying which subscriptions it came under.
    store, clock, control, inbox, d = setup()  # treaty-ratified at high and above, daily 08:00 Europe/London
    control.subscribe("desk", tags=["sanctions"], digest="daily 08:00 UTC", by=ALICE)  # the same instant in November
    both = det(1).model_copy(update={"tags": ("sanctions",)})
    store.append(
        [
            detection_event(both),
            detection_event(det(2, rule="oil-cap", severity="low").model_copy(update={"tags": ("sanctions",)})),
        ]
    )
    store.append([detection_event(det(3, party="PRK"))])
    clock.now = MONDAY_7 + timedelta(hours=1)
    assert d.cycle().tally.digests == 1
    assert dispatcher(store, clock, {"desk": inbox}).cycle().tally.digests == 0  # another process: still once
    (got,) = inbox.got
    assert got.id == digest_id("desk", got.slot) and len(got.subscription_ids) == 2
    assert [x.id for x in got.detections] == ["d1", "d3", "d2"]  # once each, by severity then time
    by_id = {e.alert_id: e for e in got.entries()}
    assert by_id["d1"].via == ("rule treaty-ratified high and above", "tag sanctions")
    assert by_id["d3"].via == ("rule treaty-ratified high and above",)
    assert got.lines()[2].endswith(" · via tag sanctions")
    assert "via tag sanctions" in json.dumps(digest_blocks(got))
    filed = got.to_json()  # the file and webhook channels' record
    assert filed["subscriptions"] == list(got.subscription_ids) and filed["alerts"][0]["via"] == list(by_id["d1"].via)
    # The next slot: each subscription takes up after this digest, not from its creation again.
    store.append([detection_event(det(4).model_copy(update={"tags": ("sanctions",)}))])
    clock.advance(24 * 3600)
    assert d.cycle().tally.digests == 1
    assert [x.id for x in inbox.got[1].detections] == ["d4"] and inbox.got[1].since == got.slot


def test_digest_subscriptions_of_a_channel_at_two_times_are_two_slots_each_listing_the_alert() -> None:
    # Different schedules are different messages the desk asked for (the morning and the evening read): each lists
    # what is new since its own previous one, so an alert matched by both is in both.
    store, clock, control, inbox, d = setup()  # daily 08:00 Europe/London
    control.subscribe("desk", rules=["*"], digest="daily 20:00 UTC", by=ALICE)
    store.append([detection_event(det(1))])
    clock.now = MONDAY_7 + timedelta(hours=1)
    assert d.cycle().tally.digests == 1
    clock.now = MONDAY_7 + timedelta(hours=13)
    assert d.cycle().tally.digests == 1
    assert [[x.id for x in g.detections] for g in inbox.got] == [["d1"], ["d1"]]
    assert len({g.id for g in inbox.got}) == 2 and all(not g.via for g in inbox.got)  # one subscription each


def test_a_subscription_added_after_a_digest_of_its_slot_takes_up_from_its_own_creation() -> None:
    store, clock, control, inbox, d = setup()
    store.append([detection_event(det(1))])
    clock.now = MONDAY_7 + timedelta(hours=1)
    assert d.cycle().tally.digests == 1
    clock.advance(3600)
    control.subscribe("desk", rules=["oil-cap"], digest="daily 08:00 Europe/London", by=ALICE)
    store.append([detection_event(det(2, rule="oil-cap")), detection_event(det(3))])
    clock.advance(23 * 3600)
    assert d.cycle().tally.digests == 1
    assert [x.id for x in inbox.got[1].detections] == ["d2", "d3"] and inbox.got[1].since is None


def test_an_alert_acknowledged_before_its_digest_goes_out_is_shown_acknowledged(
    slack_server: FakeSlack, tmp_path: Path
) -> None:
    # Outside trial 69, M3b: the digest line of an alert acknowledged in Slack did not say so, as its message does.
    slack_server.channels = {"#dprk-russia"}
    store, clock, control, inbox, _ = setup()
    archive = tmp_path / "digests.jsonl"
    notifiers: dict[str, Notifier] = {
        "desk": inbox,
        "slack": slack(slack_server, name="slack"),
        "file": FileNotifier("file", archive),
    }
    for channel in ("slack", "file"):
        control.subscribe(channel, rules=["*"], digest="daily 08:00 Europe/London", by=ALICE)
    d = dispatcher(store, clock, notifiers)
    store.append([detection_event(det(1)), detection_event(det(2, party="PRK"))])
    clock.now = MONDAY_7 + timedelta(minutes=30)
    control.acknowledge("d1", by=ALICE, channel="slack")
    clock.now = MONDAY_7 + timedelta(hours=1)
    assert d.cycle().tally.digests == 3
    (got,) = inbox.got
    acked, plain = got.lines()
    assert acked.endswith(" · acknowledged by alice (via slack) at 2024-11-04 07:30 UTC")
    assert "acknowledged" not in plain
    (msg,) = slack_server.messages
    lines = json.dumps(msg["blocks"])
    assert "Acknowledged by <@U0ALICE> at <!date^1730705400^" in lines and lines.count("Acknowledged") == 1
    (record,) = [json.loads(x)["digest"] for x in archive.read_text().splitlines()]
    assert [a.get("acknowledged", {}).get("by") for a in record["alerts"]] == ["alice (via slack)", None]


def test_a_first_digest_lists_what_came_after_its_subscription_not_the_stores_backlog() -> None:
    # docs/slack.md, "What the first digest covers": from the subscription's creation (by log position), not the store's
    # start; the first slot is the first scheduled time after subscribing.
    store, clock, control, inbox, d = setup()
    store.append([detection_event(det(1, rule="oil-cap"))])  # before the subscription: not listed
    clock.now = MONDAY_7 + timedelta(hours=1, minutes=30)  # 08:30: after today's slot
    control.subscribe("desk", rules=["oil-cap"], digest="daily 08:00 Europe/London", by=ALICE)
    store.append([detection_event(det(2, rule="oil-cap", party="PRK"))])
    assert d.cycle().tally.digests == 1  # today's 08:00 of the channel's other subscription (late, at 08:30) ...
    assert len(inbox.got[0].subscription_ids) == 1 and inbox.got[0].detections == ()  # ... without the new one
    clock.advance(24 * 3600)
    assert d.cycle().tally.digests == 1
    assert [x.id for x in inbox.got[-1].detections] == ["d2"]


def test_a_slot_an_older_version_planned_under_the_subscriptions_key_is_not_planned_again() -> None:
    # Before digests were merged per channel their key was subscription + slot: a store upgraded with such a row
    # outstanding sends it once, plans no second digest of that slot, and the next one takes up after it.
    store, clock, control, inbox, d = setup()
    [sub] = control.subscriptions("desk")
    store.append([detection_event(det(1))])
    clock.now = MONDAY_7 + timedelta(hours=1)
    slot = DigestSchedule.parse(sub.digest or "").last_slot(clock.now)
    old = Digest(
        id=subscription_digest_id(sub.id, slot),
        subscription_id=sub.id,
        channel="desk",
        slot=slot,
        since=None,
        after_position=0,
        through_position=store.head(),
        detections=(det(1),),
    )
    row = DeliveryRecord(
        old.id,
        "desk",
        kind="digest",
        payload=old.to_payload(),
        thread_key=digest_thread(sub.id),
        seq=store.head(),
        created_at=clock.now.timestamp(),
    )
    assert store.enqueue([row]) == 1
    assert d.cycle().tally.digests == 1 and [g.id for g in inbox.got] == [old.id]
    assert digest_rows(store) == [old.id]
    store.append([detection_event(det(2, party="PRK"))])
    clock.advance(24 * 3600)
    assert d.cycle().tally.digests == 1
    assert [x.id for x in inbox.got[1].detections] == ["d2"] and inbox.got[1].id == digest_id("desk", inbox.got[1].slot)


def test_a_merged_digest_leaves_its_subscriptions_pre_merge_keys_taken_so_an_older_release_plans_none() -> None:
    # Outside trial 73, F2: during a rolling upgrade (or after a rollback) a process of the release before merged
    # digests plans a subscription's digest of a slot when the key subscription + slot is absent: with the new
    # release planning first, the slot got three messages (its merged one and the old release's two). The merged
    # digest is enqueued with a settled mark under each of those keys: the older planner finds its key taken.
    store, clock, control, inbox, d = setup()
    control.subscribe("desk", min_severity="high", digest="daily 08:00 Europe/London", by=ALICE)
    subs = control.subscriptions("desk")
    assert len(subs) == 2
    store.append([detection_event(det(1))])
    clock.now = MONDAY_7 + timedelta(hours=1)
    assert d.cycle().tally.digests == 1 and len(inbox.got) == 1
    (merged,) = inbox.got
    assert digest_rows(store) == [merged.id]  # the marks are not digests: not listed, sent or counted as one
    for sub in subs:
        slot = DigestSchedule.parse(sub.digest or "").last_slot(clock.now)
        old_key = subscription_digest_id(sub.id, slot)
        # what the older planner asks before it plans: taken, so it plans nothing
        assert store.delivery_status(old_key, "desk") == "suppressed"
        (mark,) = store.deliveries(alert_ids={old_key})
        assert mark.thread_key == digest_thread(sub.id) and merged.id in mark.detail
        # ... and the digest its next one takes up after (it reads that thread's payloads) is the merged one
        read = Digest.from_payload(mark.payload)
        assert read is not None and read.through_position == merged.through_position
    # planned again (another new process, the next cycle): nothing more
    assert d.plan_digests() == 0 and d.cycle().tally.digests == 0 and len(inbox.got) == 1
