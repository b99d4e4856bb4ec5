"""An alert sent after later alerts of its rule and group (re-sent once given up) says so, in every channel kind."""

from __future__ import annotations

import dataclasses

from tests.functional.delivery_helpers import detection
from watchfloor.alerts.notice import Notice, later_alerts, later_text, payload
from watchfloor.alerts.notifiers.file import record
from watchfloor.schemas.events import Alert
from watchfloor.stream_processors.ports import DeliveryRecord


def row(n: int, seq: int, *, status: str = "sent", kind: str = "alert", **kw: object) -> DeliveryRecord:
    alert = Alert(id=f"det{n:04d}", detection=detection(n, **kw), channels=("ops",))  # type: ignore[arg-type]
    return DeliveryRecord(alert.id, "ops", status=status, kind=kind, payload=payload(alert), seq=seq)


def test_only_later_alerts_sent_count_and_the_newest_in_event_time_is_named() -> None:
    first = row(1, 10, status="outstanding", severity="medium", confidence="unconfirmed")
    rows = [
        row(0, 5),  # fired before it
        first,
        row(2, 11, kind="followup", severity="high", minutes=90),
        row(3, 12, kind="revision", severity="medium", confidence="unconfirmed", minutes=30),
        row(4, 13, status="outstanding", minutes=200),  # not sent
        row(5, 14, kind="retraction", minutes=300),  # a withdrawal is not an alert the channel has
    ]
    later = later_alerts(rows, first)
    assert later is not None and (later.alert_id, later.severity, later.count) == ("det0002", "high", 2)
    assert later_text(later) == (
        "Sent late: 2 later alerts of this rule and group reached this channel first; "
        "the newest, det0002, is HIGH, fired 2024-11-04 10:30 UTC"
    )
    assert later_alerts(rows[:2], first) is None  # the usual: sent in the ledger's order


def test_the_file_and_webhook_record_carries_it() -> None:
    first = row(1, 10, status="outstanding", severity="medium", confidence="unconfirmed")
    later = later_alerts([first, row(2, 11, confidence="unconfirmed")], first)
    alert = Alert(id="det0001", detection=detection(1), channels=("ops",))
    out = record(Notice(key="det0001", kind="alert", alert=alert, channel="ops", later=later))
    assert out["later"] == {
        "alert": "det0002",
        "severity": "high",
        "confidence": "unconfirmed",
        "fired_at": "2024-11-04T09:02:00+00:00",
        "count": 1,
    }
    assert "later" not in record(Notice(key="det0001", kind="alert", alert=alert, channel="ops"))


def test_a_later_alert_withdrawn_or_revised_since_is_not_named_nor_one_fired_before_it() -> None:
    # Review of 260549a, findings 4 and 5: the mark named a HIGH the channel had since been told was withdrawn, and
    # called an alert fired days before it (an earlier story's, which "Again: …" names) "a later alert".
    first = row(1, 10, status="outstanding", minutes=60, severity="medium", confidence="unconfirmed")
    high = row(2, 11, minutes=120)
    withdrawn = DeliveryRecord("ret-2", "ops", status="sent", kind="retraction", parent_id="det0002", seq=12)
    assert later_alerts([first, high, withdrawn], first) is None
    revised = DeliveryRecord(
        "det0002-r1",
        "ops",
        status="sent",
        kind="revision",
        parent_id="det0002",
        seq=12,
        payload=row(3, 12, minutes=150).payload,
    )
    later = later_alerts([first, high, revised], first)
    assert later is not None and (later.alert_id, later.count) == ("det0003", 1)  # the revision, not what it revised
    earlier_story = row(4, 13, minutes=-5 * 24 * 60)  # raised after it, fired five days before
    assert later_alerts([first, earlier_story], first) is None


def test_the_notification_text_and_the_email_subject_say_it_is_late() -> None:
    from watchfloor.alerts.notifiers.email import subject
    from watchfloor.alerts.notifiers.slack_blocks import notice_text

    first = row(1, 10, status="outstanding", severity="medium", confidence="unconfirmed")
    later = later_alerts([first, row(2, 11)], first)
    alert = Alert(id="det0001", detection=detection(1, severity="medium", confidence="unconfirmed"), channels=("ops",))
    late = Notice(key="det0001", kind="alert", alert=alert, channel="ops", later=later)
    assert notice_text(late).startswith("Sent late: [MEDIUM (unconfirmed)]")
    assert subject(late).startswith("Sent late: ")
    on_time = Notice(key="det0001", kind="alert", alert=alert, channel="ops")
    assert not notice_text(on_time).startswith("Sent late") and not subject(on_time).startswith("Sent late")


def test_an_alert_raised_after_a_newer_one_was_sent_says_so_too() -> None:
    # Trial 24, F3: in one poll, the feed read first raised a newer story's HIGH alert (sent first); an older
    # story's alert, raised next from another feed, was posted below it with no word.
    newer = row(2, 10, minutes=24 * 60)
    older = row(1, 11, status="outstanding", severity="medium", confidence="unconfirmed")
    later = later_alerts([newer, older], older)
    assert later is not None and (later.alert_id, later.severity) == ("det0002", "high")
    assert later_alerts([dataclasses.replace(newer, status="outstanding"), older], older) is None  # not sent: no


def test_again_names_what_the_earlier_story_s_message_shows_now() -> None:
    # Trial 24, F5: "Again: the last alert … was det0001" named an alert a late report had revised since: the
    # channel's message showed det0002 (and its time). A revision not sent (yet) changed nothing the channel shows.
    from watchfloor.alerts.notice import earlier_story

    first = row(1, 10)
    revised = dataclasses.replace(row(2, 11, minutes=-30), kind="revision", parent_id="det0001")
    again = dataclasses.replace(row(3, 12, minutes=-40), kind="revision", parent_id="det0002")
    new = Alert(id="det0009", detection=detection(9, minutes=5 * 24 * 60), channels=("ops",))
    got = earlier_story([first, revised, again], new)
    assert got is not None and (got.alert_id, got.fired_at, got.count) == ("det0003", again_fired(again), 1)
    unsent = dataclasses.replace(revised, status="outstanding")
    got = earlier_story([first, unsent], new)
    assert got is not None and got.alert_id == "det0001"


def again_fired(r: DeliveryRecord) -> object:
    return Alert.model_validate((r.payload or {})["alert"]).detection.fired_at


def test_a_revision_back_to_an_earlier_alerts_content_stands_though_it_has_that_alerts_id() -> None:
    # Trial 25, F1: one poll raised A (one outlet), then revised it into B (a second outlet, read later, confirms;
    # A never sent: B went in its place); a correction then withdrew the second report, and the group's history went
    # back to A's content: a revision of B with A's id again. Keyed by id alone, the chain ran A -> B -> A -> B: the
    # restored alert looked replaced by B, none of the thread stood, and its first message kept B's withdrawn HIGH.
    from watchfloor.alerts.notice import revision_chain, standing_alerts, standing_for

    a = Alert(id="det0001", detection=detection(1, severity="medium", confidence="unconfirmed"), channels=("ops",))
    b_det = detection(2, severity="high", revises="det0001", revision=1)
    b = Alert(id="det0002", detection=b_det, channels=("ops",))
    back_det = detection(1, severity="medium", confidence="unconfirmed", revises="det0002", revision=2)
    back = Alert(id="det0001", detection=back_det, channels=("ops",))
    assert [x.detection.revision for x in revision_chain(back, [b, back])] == [2]  # nothing replaced it
    assert revision_chain(a, [b, back]) == [a, b, back]
    told = [(11, b), (12, back)]  # what the channel has: B (in place of A), then the revision back
    assert standing_alerts(told, passed=[a]) == [(12, back)]
    assert standing_for(b, [b, back], [a]) == back


def test_again_names_a_story_whose_first_message_is_a_revision_sent_in_place_of_its_alert() -> None:
    # Trial 25, F2: the story of Nov 2 went to the channel as a revision (its alert, raised first in one poll, was
    # replaced before it was sent); "Again:" skipped it and named the story before, without "(2 earlier …)".
    from watchfloor.alerts.notice import REPLACED, earlier_story

    older = row(1, 10, minutes=-3 * 24 * 60)
    unsent = row(2, 11, status="suppressed")
    unsent = dataclasses.replace(unsent, detail=f"{REPLACED}: det0003 revises it (a late report) and goes instead")
    went = dataclasses.replace(row(3, 12, minutes=-60), kind="revision", parent_id="det0002")
    new = Alert(id="det0009", detection=detection(9, minutes=5 * 24 * 60), channels=("ops",))
    got = earlier_story([older, unsent, went], new)
    assert got is not None and (got.alert_id, got.count) == ("det0003", 2)
    not_yet = dataclasses.replace(went, status="outstanding")  # not in the channel (yet): not a story it was told
    got = earlier_story([older, unsent, not_yet], new)
    assert got is not None and (got.alert_id, got.count) == ("det0001", 1)


def test_an_alert_within_the_open_period_of_the_last_story_is_not_called_a_new_story() -> None:
    # Outside trial 29, F2: a report far behind the newest alerts, 24 minutes after the last story's first alert, was
    # posted as "Again: …; a new story". Within the rule's open period (written into the row's payload at intake) it
    # is the same story, posted apart: said so, in every channel kind, and in the file and webhook record.
    from datetime import timedelta

    from watchfloor.alerts.notice import earlier_story, earlier_text, story_period

    first = row(1, 10, severity="medium", confidence="unconfirmed")
    near = Alert(id="det0009", detection=detection(9, minutes=25), channels=("ops",))  # 24 minutes after det0001
    far = Alert(id="det0008", detection=detection(8, minutes=2 * 24 * 60), channels=("ops",))
    day = story_period({"open_period": 86_400.0})
    assert day == timedelta(days=1) and story_period({}) is None and story_period(None) is None

    got = earlier_story([first], near, day)
    assert got is not None and got.within == timedelta(minutes=24)
    assert earlier_text(got) == (
        "Same story as det0001, fired 2024-11-04 09:01 UTC (24m before this one); posted apart, not in its thread: "
        "that story is too far behind the newest alerts for its thread to be kept"
    )
    out = record(Notice(key="det0009", kind="alert", alert=near, channel="ops", earlier=got))
    assert out["earlier"] == {
        "alert": "det0001",
        "fired_at": "2024-11-04T09:01:00+00:00",
        "count": 1,
        "same_story": True,
    }

    # past the open period, or with no period known (a row of before), or that story withdrawn here: a new story
    for got in (
        earlier_story([first], far, day),
        earlier_story([first], near),
        earlier_story(
            [first, DeliveryRecord("ret-1", "ops", status="sent", kind="retraction", parent_id="det0001")], near, day
        ),
    ):
        assert got is not None and got.within is None
        assert earlier_text(got).endswith("; a new story")
        assert (
            "same_story" not in record(Notice(key="k", kind="alert", alert=near, channel="ops", earlier=got))["earlier"]
        )


def test_again_names_the_last_alert_of_the_earlier_story_not_its_first() -> None:
    # Outside trial 30, F5: after a MEDIUM → HIGH story, the next story's "Again: the last alert … was X" named the
    # MEDIUM in a channel that got both, and the HIGH in a `min=high` channel that got only the HIGH.
    from watchfloor.alerts.notice import earlier_story

    first = row(1, 10, severity="medium", confidence="unconfirmed")
    followup = dataclasses.replace(row(2, 11), kind="followup", parent_id="det0001")
    new = Alert(id="det0009", detection=detection(9, minutes=5 * 24 * 60), channels=("ops",))
    got = earlier_story([first, followup], new)
    assert got is not None and (got.alert_id, got.fired_at, got.count) == ("det0002", again_fired(followup), 1)
    only_high = earlier_story([dataclasses.replace(followup, kind="alert", parent_id=None)], new)
    assert only_high is not None and only_high.alert_id == got.alert_id  # both channels name the same alert
