"""What a ledger row tells its channel (alerts.compose), decided from rows alone: a thread's rows and the time in, a
decision out (send a notice placed in its thread, wait, skip, or read a row first), no store, no notifier, no clock.
The same cases the functional tests drive through a whole Deliverer: a thread's first alert, a reply, a revision of a
sent message, a withdrawal, a reply waiting for its thread's first message, the withdrawal of a held alert, acks."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.functional.delivery_helpers import detection
from watchfloor.alerts.compose import (
    RESTARTED,
    AckAnswers,
    AckAsks,
    Reads,
    Skip,
    Tell,
    Wait,
    base_notice,
    decide,
    may_hold_reply,
    reply_held_until,
    with_acks,
)
from watchfloor.alerts.notice import REPLACED, WITHDRAWN_UNSENT, Notice, ThreadView, payload
from watchfloor.alerts.throttle import HELD
from watchfloor.schemas.control import Actor, AlertAcknowledged
from watchfloor.schemas.events import Alert, Detection, detection_event_id
from watchfloor.stream_processors.ports import DeliveryRecord

NOW = 1_000.0
BACKOFF = 30.0
TK = "shells-shipped\x1froute=RAJIN"


def alert(det: Detection) -> Alert:
    return Alert(id=det.id, detection=det, channels=("desk",))


def row(det: Detection, seq: int, kind: str = "alert", parent: str | None = None, **kw: Any) -> DeliveryRecord:
    """The desk's row of `det`: its key is the detection's, its parent the row it replies under or revises."""
    data = payload(alert(det), parent_alert=kw.pop("parent_alert", None), escalated_from=kw.pop("was", None))
    return DeliveryRecord(
        detection_event_id(det), "desk", kind=kind, payload=data, thread_key=TK, parent_id=parent, seq=seq, **kw
    )


def withdrawal(det: Detection, parent: DeliveryRecord, seq: int, **kw: Any) -> DeliveryRecord:
    data = payload(alert(det), parent_alert=det.id, reason="the report was retracted", **kw.pop("data", {}))
    return DeliveryRecord(
        f"ret-{det.id}",
        "desk",
        kind="retraction",
        payload=data,
        thread_key=TK,
        parent_id=parent.alert_id,
        seq=seq,
        **kw,
    )


def sent(r: DeliveryRecord, ref: str) -> DeliveryRecord:
    return dataclasses.replace(r, status="sent", ref=ref, detail=ref, updated_at=r.seq)


def told(
    rec: DeliveryRecord,
    thread: list[DeliveryRecord],
    read: dict[str, DeliveryRecord | None] | None = None,
    *,
    updating: bool = False,
) -> Tell | Wait | Skip | Reads:
    a = Alert.model_validate((rec.payload or {})["alert"])
    return decide(rec, base_notice(rec, a), thread, read or {}, NOW, backoff=BACKOFF, owner="me", updating=updating)


def view_of(decision: object) -> ThreadView:
    assert isinstance(decision, Tell) and decision.notice.thread is not None, decision
    return decision.notice.thread


FIRST = detection(1, severity="medium")
FIRST_ROW = row(FIRST, 1)
FIRST_SENT = sent(FIRST_ROW, "C1:1")
FOLLOW = detection(2, severity="high")
FOLLOW_ROW = row(FOLLOW, 2, "followup", FIRST_ROW.alert_id, parent_alert=FIRST.id, was="medium")
REVISION = detection(3, severity="low", revises=FIRST.id, revision=1)
REVISION_ROW = row(REVISION, 3, "revision", FIRST_ROW.alert_id, parent_alert=FIRST.id)


# -- a thread's first alert -------------------------------------------------------------------------------------


def test_a_threads_first_alert_is_a_message_of_its_own() -> None:
    got = told(FIRST_ROW, [FIRST_ROW])
    assert isinstance(got, Tell) and got.asks is None
    assert (got.notice.kind, got.notice.key, got.notice.thread, got.notice.parent_id) == (
        "alert",
        FIRST_ROW.alert_id,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("thread", "why", "by"),
    [
        # a revision still to be sent goes in its place
        ([FIRST_ROW, REVISION_ROW], REPLACED, "replaced_by"),
        # a withdrawal enqueued before it was sent: neither goes
        ([FIRST_ROW, withdrawal(FIRST, FIRST_ROW, 4)], WITHDRAWN_UNSENT, "withdrawn_by"),
    ],
)
def test_an_alert_not_sent_yet_is_skipped_for_what_changed_it(thread: list[DeliveryRecord], why: str, by: str) -> None:
    got = told(FIRST_ROW, thread)
    assert isinstance(got, Skip) and got.why.startswith(why)
    assert getattr(got, by) is thread[1]


def test_an_alert_that_may_be_in_the_channel_is_sent_whatever_changed_it() -> None:
    for maybe in (dataclasses.replace(FIRST_ROW, unsure=True), dataclasses.replace(FIRST_ROW, ref="C1:1")):
        got = told(maybe, [maybe, REVISION_ROW])
        assert isinstance(got, Tell) and got.notice.kind == "alert"


# -- a reply in a thread ----------------------------------------------------------------------------------------


def test_a_follow_up_replies_under_the_first_message_and_updates_it() -> None:
    got = told(FOLLOW_ROW, [FIRST_SENT, FOLLOW_ROW])
    view = view_of(got)
    assert (view.thread_ref, view.target_ref, view.target_key, view.updates) == ("C1:1", "C1:1", FIRST_ROW.alert_id, 1)
    assert (view.severity, view.newest_id, view.standing_ids) == ("high", FOLLOW.id, (FIRST.id, FOLLOW.id))
    assert isinstance(got, Tell) and got.notice.escalated_from == "medium"  # (was MEDIUM): the thread's first
    # the acknowledgements it shows, asked of the control log by the deliverer
    assert got.asks == AckAsks(
        target=(FIRST.id,), target_before=FIRST.id, first=None, newest=(FOLLOW.id,), earlier=(FIRST.id,)
    )


@pytest.mark.parametrize(
    ("parent", "expected"),
    [
        # its thread's first message still to be sent: it waits for it (woken when that one is settled)
        (
            dataclasses.replace(FIRST_ROW, next_attempt_at=NOW + 500, not_before=NOW + 10),
            Wait(NOW + 500, f"waiting for {FIRST_ROW.alert_id} to be delivered first", FIRST_ROW.alert_id),
        ),
        (FIRST_ROW, Wait(NOW + BACKOFF, f"waiting for {FIRST_ROW.alert_id} to be delivered first", FIRST_ROW.alert_id)),
        # it never reached the channel: the reply is a message of its own, with no "was"
        (dataclasses.replace(FIRST_ROW, status="expired"), "alone"),
        (dataclasses.replace(FIRST_ROW, status="suppressed", detail="silenced"), "alone"),
    ],
)
def test_a_reply_whose_first_message_is_not_in_the_channel(parent: DeliveryRecord, expected: object) -> None:
    got = told(FOLLOW_ROW, [parent, FOLLOW_ROW])
    if expected == "alone":
        assert isinstance(got, Tell) and got.notice.thread is None and got.notice.escalated_from is None
        assert got.notice.kind == "followup"
    else:
        assert got == expected


def test_a_reply_goes_under_the_message_posted_again_in_place_of_a_deleted_first_message() -> None:
    again = dataclasses.replace(sent(FOLLOW_ROW, "C1:9"), detail=f"{RESTARTED}: the thread's first message (C1:1) …")
    later = detection(4)
    rec = row(later, 5, "followup", FIRST_ROW.alert_id, parent_alert=FIRST.id)
    view = view_of(told(rec, [FIRST_SENT, again, rec]))
    assert (view.thread_ref, view.first_key) == ("C1:9", FOLLOW_ROW.alert_id)


def test_a_reply_whose_parent_is_outside_its_thread_rows_asks_for_it_first() -> None:
    """A row of an older thread key: the decision names the row to read, and decides once it is given."""
    assert told(FOLLOW_ROW, [FOLLOW_ROW]) == Reads(frozenset({FIRST_ROW.alert_id}))
    assert isinstance(told(FOLLOW_ROW, [FOLLOW_ROW], {FIRST_ROW.alert_id: None}), Tell)  # (none: a message of its own)
    view = view_of(told(FOLLOW_ROW, [FOLLOW_ROW], {FIRST_ROW.alert_id: FIRST_SENT}))
    assert view.thread_ref == "C1:1"


def test_a_reply_another_dispatcher_is_sending_now_counts_as_told() -> None:
    """Claimed before this one by another owner: its severity is what the reader has (no second "was MEDIUM")."""
    other = dataclasses.replace(FOLLOW_ROW, lease_owner="them", lease_until=NOW + 60, order_at=1.0)
    also = detection(4, severity="high")
    rec = row(also, 5, "followup", FIRST_ROW.alert_id, parent_alert=FIRST.id, order_at=2.0)
    got = told(rec, [FIRST_SENT, other, rec])
    assert isinstance(got, Tell) and got.notice.escalated_from is None
    mine = dataclasses.replace(other, lease_owner="me")  # (this dispatcher's own claim is not in flight elsewhere)
    got = told(rec, [FIRST_SENT, mine, rec])
    assert isinstance(got, Tell) and got.notice.escalated_from == "medium"


# -- a revision of a sent message -------------------------------------------------------------------------------


def test_a_revision_replies_under_and_rewrites_the_message_it_revises() -> None:
    got = told(REVISION_ROW, [FIRST_SENT, REVISION_ROW])
    view = view_of(got)
    assert isinstance(got, Tell) and got.notice.kind == "revision"
    assert (view.thread_ref, view.target_ref, view.revised_by, view.severity) == ("C1:1", "C1:1", REVISION.id, "low")
    assert not view.quiet and view.updates == 1


def test_a_same_time_revision_is_told_quietly_only_where_messages_can_be_rewritten() -> None:
    same = detection(3, severity="low", revises=FIRST.id, revision=1, same_time=True)
    rec = row(same, 3, "revision", FIRST_ROW.alert_id, parent_alert=FIRST.id)
    assert view_of(told(rec, [FIRST_SENT, rec], updating=True)).quiet
    assert not view_of(told(rec, [FIRST_SENT, rec], updating=False)).quiet
    # told quietly, a later revision already sent goes in its place (a retry never writes this one back)
    newer = detection(5, revises=same.id, revision=2)
    again = sent(row(newer, 6, "revision", rec.alert_id, parent_alert=same.id), "C1:1")
    got = told(rec, [FIRST_SENT, rec, again], updating=True)
    assert isinstance(got, Skip) and got.replaced_by == again and got.why.startswith(REPLACED)


def test_a_revision_of_an_alert_never_sent_is_that_alert() -> None:
    replaced = dataclasses.replace(FIRST_ROW, status="suppressed", detail=f"{REPLACED}: …")
    got = told(REVISION_ROW, [replaced, REVISION_ROW])
    assert isinstance(got, Tell) and got.notice.thread is None
    assert (got.notice.kind, got.notice.parent_id, got.notice.escalated_from) == ("alert", None, None)


# -- a withdrawal -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parent", "expected"),
    [
        (FIRST_SENT, "withdrawn"),
        (
            dataclasses.replace(FIRST_ROW, status="expired"),
            Skip("nothing to withdraw: the alert never reached this channel"),
        ),
        # withdrawn before it was sent: its withdrawal is counted with it
        (
            dataclasses.replace(FIRST_ROW, status="suppressed", detail=f"{WITHDRAWN_UNSENT}: …"),
            Skip("nothing to withdraw: the alert never reached this channel", counted=False),
        ),
    ],
)
def test_a_withdrawal(parent: DeliveryRecord, expected: object) -> None:
    rec = withdrawal(FIRST, parent, 4)
    got = told(rec, [parent, rec])
    if expected != "withdrawn":
        assert got == expected
        return
    view = view_of(got)
    assert isinstance(got, Tell) and got.notice.kind == "retraction"
    assert (view.thread_ref, view.target_ref, view.withdrawn, view.newest_id) == (
        "C1:1",
        "C1:1",
        "the report was retracted",
        None,
    )
    assert got.asks is not None and got.asks.newest is None  # (nothing stands: no newest to show acknowledged)


SUMMARY = DeliveryRecord("digest-1", "desk", kind="digest", thread_key="summary\x1fdesk", seq=3)


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        (None, Skip("nothing to withdraw: the throttle summary that listed it did not reach this channel")),
        (
            dataclasses.replace(SUMMARY, status="expired"),
            Skip("nothing to withdraw: the throttle summary that listed it did not reach this channel"),
        ),
        (
            dataclasses.replace(SUMMARY, next_attempt_at=NOW + 90),
            Wait(
                NOW + 90, "waiting for the throttle summary digest-1 that listed it to be delivered first", "digest-1"
            ),
        ),
        (sent(SUMMARY, "C1:7"), "told"),
    ],
)
def test_the_withdrawal_of_a_held_alert_follows_the_summary_that_listed_it(
    summary: DeliveryRecord | None, expected: object
) -> None:
    held = dataclasses.replace(FIRST_ROW, status=HELD)
    rec = withdrawal(FIRST, held, 4, data={"summary": "digest-1"})
    assert told(rec, [held, rec]) == Reads(frozenset({"digest-1"}))  # (another thread's row: read by key first)
    got = told(rec, [held, rec], {"digest-1": summary})
    if expected != "told":
        assert got == expected
        return
    assert isinstance(got, Tell) and got.notice.thread is None and got.asks is None
    assert got.notice.reason == "the report was retracted (it was listed in this channel's throttle summary)"


# -- a reply held for a newer one (update_wait) ----------------------------------------------------------------


def test_only_a_reply_never_posted_may_be_held() -> None:
    reply = view_of(told(FOLLOW_ROW, [FIRST_SENT, FOLLOW_ROW]))
    threaded = Notice(key="k", kind="followup", alert=alert(FOLLOW), channel="desk", thread=reply)
    assert may_hold_reply(FOLLOW_ROW, threaded, 60.0, True)
    for rec, notice, wait, hold in [
        (FOLLOW_ROW, threaded, 0.0, True),  # no update_wait
        (FOLLOW_ROW, threaded, 60.0, False),  # `run --once`
        (FOLLOW_ROW, dataclasses.replace(threaded, thread=None), 60.0, True),  # a message of its own
        (FOLLOW_ROW, dataclasses.replace(threaded, kind="retraction"), 60.0, True),
        (dataclasses.replace(FOLLOW_ROW, unsure=True), threaded, 60.0, True),  # may be in the channel
        (dataclasses.replace(FOLLOW_ROW, ref="C1:2"), threaded, 60.0, True),
    ]:
        assert not may_hold_reply(rec, notice, wait, hold), (rec, notice.kind, wait, hold)


def test_a_held_reply_goes_after_the_oldest_pending_reply_of_its_thread_plus_the_wait() -> None:
    older = dataclasses.replace(FOLLOW_ROW, created_at=100.0)
    rec = dataclasses.replace(row(detection(4), 5, "followup", FIRST_ROW.alert_id), created_at=400.0)
    thread = [FIRST_SENT, older, rec]
    # (columns: now -> held until)
    for now, until in [(150.0, 160.0), (159.9, 160.0), (160.0, None), (900.0, None)]:
        assert reply_held_until(rec, thread, 60.0, now) == until
    # the older one sent before this one was raised no longer bounds it
    done = dataclasses.replace(older, status="sent", updated_at=300.0)
    assert reply_held_until(rec, [FIRST_SENT, done, rec], 60.0, 420.0) == 460.0


# -- acknowledgements ------------------------------------------------------------------------------------------


def ack(alert_id: str, by: str = "ana") -> AlertAcknowledged:
    return AlertAcknowledged(alert_id=alert_id, by=Actor(via="cli", user=by), at=FIRST.fired_at)


def test_acknowledgements_asked_for_a_revision_of_a_follow_up() -> None:
    """A revision of a follow-up rewrites that reply and the first message: the reply's acks (its own alert, then the
    one it showed before), the first message's, and the thread's newest standing alert's and the earlier ones'."""
    follow = sent(FOLLOW_ROW, "C1:2")
    rev = detection(3, severity="high", revises=FOLLOW.id, revision=1)
    rec = row(rev, 3, "revision", follow.alert_id, parent_alert=FOLLOW.id)
    got = told(rec, [FIRST_SENT, follow, rec])
    assert isinstance(got, Tell)
    assert got.asks == AckAsks(
        target=(FOLLOW.id,),
        target_before=rev.id,
        first=(FIRST.id,),
        newest=(rev.id, FOLLOW.id),
        earlier=(FIRST.id,),
    )
    answers = AckAnswers(target=ack(FOLLOW.id), first=ack(FIRST.id, "bo"), newest=ack(FOLLOW.id), earlier=())
    view = with_acks(got, answers).thread
    assert view is not None
    assert (view.acknowledged, view.acknowledged_before, view.first_acknowledged) == (
        ack(FOLLOW.id),
        None,
        ack(FIRST.id, "bo"),
    )
    assert (view.newest_acknowledged, view.earlier_acknowledged, view.newest_acknowledged_before) == (
        ack(FOLLOW.id),
        (),
        None,
    )
    # none taking it: an acknowledgement of an earlier raising is said, and the rest of the view is as placed
    view = with_acks(got, AckAnswers(target_before=ack(rev.id), newest_before=ack(rev.id))).thread
    assert view is not None and view.acknowledged is None and view.acknowledged_before == ack(rev.id)
    assert view.newest_acknowledged_before == ack(rev.id)
    assert dataclasses.replace(view, acknowledged_before=None, newest_acknowledged_before=None) == view_of(got)


def test_a_notice_with_nothing_to_ask_is_as_decided() -> None:
    got = told(FIRST_ROW, [FIRST_ROW])
    assert isinstance(got, Tell) and with_acks(got, AckAnswers(target=ack(FIRST.id))) is got.notice


def test_the_decision_is_a_function_of_its_inputs() -> None:
    """Asked twice, the same decision; its inputs are left as they were (rows are shared with ThreadRows' cache)."""
    thread = [FIRST_SENT, FOLLOW_ROW]
    kept = [dataclasses.replace(r) for r in thread]
    assert told(FOLLOW_ROW, thread) == told(FOLLOW_ROW, thread)
    assert thread == kept


def test_an_unknown_kind_is_unreadable() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        base_notice(dataclasses.replace(FIRST_ROW, kind="telegram"), alert(FIRST))
