"""A revision by a report of the alert's very time (Detection.same_time) is told quietly to a channel that can rewrite
its messages: the message that shows the alert is rewritten, no reply is posted, and the ledger's row refers to that
message. The thread does not count it as an update, the message does not send the reader to a thread with nothing in
it, and a retry after a failed or interrupted attempt rewrites again, never posts. A channel that cannot rewrite its
messages is sent it as before."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from tests.functional.delivery_helpers import RETRY, Clock, Recorder, detection, ledger
from watchfloor.alerts.compose import QUIET, with_thread
from watchfloor.alerts.delivery import QUIET_FAILED
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import AlertCatalog, Notice, payload, quiet_revision
from watchfloor.alerts.notifiers.base import Notifier, TransientError
from watchfloor.alerts.notifiers.slack_blocks import build_update
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import Alert, Detection, detection_event, detection_event_id
from watchfloor.stream_processors.ports import DeliveryRecord
from watchfloor.stream_processors.stores.memory import MemoryStore

CATALOG = AlertCatalog(open_periods={"troops": timedelta(days=2)})


def troops(n: int, minutes: int = 60, **kw: object) -> Detection:
    return detection(n, rule="troops", group={"party": "RUS"}, minutes=minutes, **kw)  # type: ignore[arg-type]


FIRST = troops(1)
SAME_TIME = troops(2, revises="det0001", revision=1, same_time=True)  # a report of 10:00 too, read later
LATE = troops(3, revises="det0001", revision=1)  # a report dated before it


def row(det: Detection, seq: int, **kw: object) -> DeliveryRecord:
    alert = Alert(id=det.id, detection=det, channels=("desk",))
    kind = "revision" if det.revises else "alert"
    return DeliveryRecord(
        detection_event_id(det), "desk", kind=kind, payload=payload(alert), parent_id=det.revises, seq=seq, **kw
    )  # type: ignore[arg-type]


def notice(det: Detection, kind: str = "revision") -> Notice:
    alert = Alert(id=det.id, detection=det, channels=("desk",))
    return Notice(key=detection_event_id(det), kind=kind, alert=alert, channel="desk")  # type: ignore[arg-type]


def test_only_a_same_time_revision_is_quiet() -> None:
    assert quiet_revision("revision", SAME_TIME)
    assert not quiet_revision("revision", LATE)
    assert not quiet_revision("followup", SAME_TIME)  # (one standing for a follow-up never sent is that reply)
    assert not quiet_revision("revision", SAME_TIME.model_copy(update={"cause": "corrected by the publisher"}))


def test_a_quiet_revision_is_no_update_of_the_thread_and_sends_no_one_to_it() -> None:
    first = row(FIRST, 1, status="sent", ref="C1:1", detail="C1:1")
    rows = [first, row(SAME_TIME, 2)]
    quiet = with_thread(notice(SAME_TIME), first, first, rows, quiet=True)
    assert quiet.thread is not None and quiet.thread.quiet
    assert (quiet.thread.target_ref, quiet.thread.updates) == ("C1:1", 0)
    _, blocks = build_update(quiet)
    said = str(blocks)
    at = "<!date^1730714400^{date_num} {time}|2024-11-04 10:00 UTC>"  # (Slack's date token: the reader's timezone)
    assert f"A report of the same time ({at}), read after this alert was raised, now leads it" in said
    assert "see the thread" not in said and "late report" not in said
    # Told as any revision (a channel that cannot rewrite its messages: a reply), it says so, and counts it.
    loud = with_thread(notice(SAME_TIME), first, first, rows)
    assert loud.thread is not None and not loud.thread.quiet and loud.thread.updates == 1
    assert "(see the thread)" in str(build_update(loud)[1])
    # Once told quietly, the next reply of the thread is its first update.
    told = dataclasses.replace(rows[1], status="sent", ref="C1:1", detail=f"{QUIET}: C1:1")
    follow = troops(4, minutes=120)
    after = with_thread(notice(follow, "followup"), told, first, [first, told, row(follow, 3)])
    assert after.thread is not None and after.thread.updates == 1


class Rewriting:
    """A notifier that can rewrite its messages (as Slack) and look in its channel; it records its calls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[tuple[str, str]] = []
        self.update_errors: list[Exception] = []

    def send(self, notice: Notice) -> str:
        self.calls.append(("send", notice.key))
        return f"C1:{len(self.calls)}"

    def update(self, notice: Notice) -> None:
        assert notice.thread is not None
        self.calls.append(("update", notice.thread.target_ref))
        if self.update_errors:
            raise self.update_errors.pop(0)

    def find_delivered(self, notice: Notice) -> str | None:
        self.calls.append(("look", notice.key))
        return None


def dispatcher(store: MemoryStore, notifier: Notifier, clock: Clock) -> AlertDispatcher:
    return AlertDispatcher(store, {"desk": notifier}, [Subscription(channel="desk")], RETRY, now=clock, catalog=CATALOG)


def test_a_retry_after_a_failed_or_interrupted_rewrite_rewrites_again_and_never_posts() -> None:
    store, clock, desk = MemoryStore(), Clock(), Rewriting("desk")
    d = dispatcher(store, desk, clock)
    store.append([detection_event(FIRST)])
    d.cycle()
    assert desk.calls == [("send", detection_event_id(FIRST))]
    key = (detection_event_id(SAME_TIME), "desk")

    # The rewrite fails: the row stays outstanding, and refers to the message it is to rewrite.
    desk.update_errors.append(TransientError("internal_error", maybe_delivered=True))
    store.append([detection_event(SAME_TIME)])
    d.cycle()
    assert desk.calls[1:] == [("update", "C1:1")]
    failed = ledger(store)[key]
    assert (failed.status, failed.ref) == ("outstanding", "C1:1") and failed.detail.startswith(QUIET_FAILED)

    # A dispatcher claims it and dies mid-rewrite: taken over once its lease ran out, it is rewritten again.
    clock.advance(600)
    assert [r.alert_id for r in store.claim_deliveries("dead", clock().timestamp(), 30)] == [key[0]]
    clock.advance(60)
    d.cycle()
    assert desk.calls[2:] == [("update", "C1:1")]  # no look, no post
    done = ledger(store)[key]
    assert (done.status, done.ref) == ("sent", "C1:1") and done.detail.startswith(QUIET), done


def test_an_interrupted_quiet_revision_without_a_ref_is_not_looked_for_nor_posted() -> None:
    store, clock, desk = MemoryStore(), Clock(), Rewriting("desk")
    d = dispatcher(store, desk, clock)
    store.append([detection_event(FIRST)])
    d.cycle()
    store.append([detection_event(SAME_TIME)])
    d.intake()
    key = detection_event_id(SAME_TIME)
    assert [r.alert_id for r in store.claim_deliveries("dead", clock().timestamp(), 30)] == [key]  # then it dies
    clock.advance(60)
    d.cycle()
    assert desk.calls[1:] == [("update", "C1:1")]
    done = ledger(store)[(key, "desk")]
    assert (done.status, done.ref, done.attempts) == ("sent", "C1:1", 1) and done.detail.startswith(QUIET)


def test_a_channel_that_cannot_rewrite_its_messages_is_sent_it_as_before() -> None:
    store, clock, archive = MemoryStore(), Clock(), Recorder("desk")
    d = dispatcher(store, archive, clock)
    store.append([detection_event(FIRST)])
    d.cycle()
    store.append([detection_event(SAME_TIME)])
    d.cycle()
    sent = archive.sent[-1]
    assert (sent.key, sent.kind) == (detection_event_id(SAME_TIME), "revision")
    assert sent.thread is not None and not sent.thread.quiet and sent.thread.updates == 1


def test_a_retry_after_a_later_revision_was_sent_does_not_put_the_older_alert_back() -> None:
    store, clock, desk = MemoryStore(), Clock(), Rewriting("desk")
    d = dispatcher(store, desk, clock)
    store.append([detection_event(FIRST)])
    d.cycle()
    desk.update_errors.append(TransientError("internal_error", maybe_delivered=True))
    store.append([detection_event(SAME_TIME)])
    d.cycle()  # the rewrite failed: outstanding, due after its backoff
    # A report dated before them revises the alert again: a reply, and the message rewritten to show it. Raised
    # while the channel backs off, it waits for the backoff too (trial 46, MED-2), and then goes in the older
    # revision's place: the same-time revision's retry is replaced by it, not written back over it.
    later = troops(5, revises=SAME_TIME.id, revision=2)
    store.append([detection_event(later)])
    d.cycle()
    assert desk.calls[2:] == []
    clock.advance(600)
    d.cycle()
    assert desk.calls[2:] == [("send", detection_event_id(later)), ("update", "C1:1")]
    d.cycle()
    assert desk.calls[4:] == []
    quiet = ledger(store)[(detection_event_id(SAME_TIME), "desk")]
    assert quiet.status == "suppressed" and quiet.detail.startswith("replaced before it was sent"), quiet
