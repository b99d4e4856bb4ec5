"""Intake: what a detection or a retraction puts into the delivery ledger for one channel (pure).

Given the rows already in the ledger for the same rule and group in that channel, a detection becomes:
- a `revision` of the alert it `revises`, when that alert has a row there (reply under it, update it);
- else a `followup` of a thread's first alert that is open: its fired_at within the rule's open period (window
  or realert) of this one's, in event time, and it was not silenced or given up; of several, the latest at or
  before this one (else the earliest after it), so a late report joins the thread of the story it is part of;
- else an `alert` of its own, which starts a thread.
A retraction becomes a `retraction` row under each alert it withdraws. Nothing here sends or reads a clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from watchfloor.schemas.events import Alert, Detection, Retraction
from watchfloor.stream_processors.ports import DeliveryRecord

from .notice import AlertCatalog, alert_of, escalation, payload, replaced_unsent, thread_key, thread_of, told_row

OPEN_STATUSES = frozenset({"outstanding", "sent"})  # a thread's first alert that can still take replies


def _fired(row: DeliveryRecord) -> datetime | None:
    alert = alert_of(row.payload)
    return alert.detection.fired_at if alert is not None else None


def _alert_id(row: DeliveryRecord) -> str | None:
    alert = alert_of(row.payload)
    return alert.id if alert is not None else None


def plan_detection(
    key: str,
    alert: Alert,
    channel: str,
    thread_rows: Sequence[DeliveryRecord],
    catalog: AlertCatalog,
    seq: int,
) -> DeliveryRecord:
    """The ledger row for `alert` (delivery key `key`) in `channel`; `thread_rows` are that channel's rows of
    the same rule and group, in seq order."""
    det = alert.detection
    tk = thread_key(det.rule, det.group)
    rows = [r for r in thread_rows if r.alert_id != key and r.kind != "retraction"]
    common = {"group_label": catalog.group_label(det.group)}
    if det.revises is not None:
        revised = [r for r in rows if _alert_id(r) == det.revises and r.status != "suppressed"]
        if revised:
            parent = revised[-1]
            before = _severities(thread_of(rows, parent.alert_id))
            data = payload(alert, parent_alert=det.revises, escalated_from=escalation(before, det.severity), **common)
            return DeliveryRecord(
                key, channel, kind="revision", payload=data, thread_key=tk, parent_id=parent.alert_id, seq=seq
            )
    root = _open_thread(rows, det.fired_at, catalog.open_period(det.rule))
    if root is not None:
        before = _severities(thread_of(rows, root.alert_id))
        data = payload(alert, parent_alert=_alert_id(root), escalated_from=escalation(before, det.severity), **common)
        return DeliveryRecord(
            key, channel, kind="followup", payload=data, thread_key=tk, parent_id=root.alert_id, seq=seq
        )
    return DeliveryRecord(key, channel, kind="alert", payload=payload(alert, **common), thread_key=tk, seq=seq)


def continues_thread(key: str, det: Detection, thread_rows: Sequence[DeliveryRecord], catalog: AlertCatalog) -> bool:
    """Whether `det` would be a follow-up or a revision in a channel whose rows of its rule and group are
    `thread_rows`, rather than an alert of its own that starts a thread."""
    probe = Alert(id=det.id, detection=det, channels=())
    return plan_detection(key, probe, "", thread_rows, catalog, 0).kind != "alert"


def standing_copy(det: Detection, key: str, rows: Sequence[DeliveryRecord]) -> DeliveryRecord | None:
    """An earlier row of this very alert (same id: rule, group and every report) that still stands in the channel:
    not withdrawn since, not suppressed or given up. A detection that is none of its revisions raises it again only
    when its reports came again (a document re-sent to Kafka after its group's state was let go): telling the
    channel twice would break "never twice"."""
    if det.revises is not None:
        return None
    withdrawn = {r.parent_id for r in rows if r.kind == "retraction"}
    for r in rows:
        if r.alert_id == key or r.kind == "retraction" or r.status not in OPEN_STATUSES or r.alert_id in withdrawn:
            continue
        if _alert_id(r) == det.id:
            return r
    return None


def _open_thread(rows: Sequence[DeliveryRecord], fired_at: datetime, period: timedelta) -> DeliveryRecord | None:
    """The first alert of the thread a detection fired at `fired_at` belongs to: of the open first alerts within
    `period` of it in event time, the latest at or before it (the story it follows up), else the earliest after
    it (a late report just before an alert already sent). By event time, not by arrival: a late corroboration of
    an earlier report replies under that report's alert, not under whichever thread was started last."""
    near: list[tuple[datetime, int, DeliveryRecord]] = []
    starts = _stands_for_alert(rows)
    for r in rows:
        if r.status not in OPEN_STATUSES or not (r.kind == "alert" or r.alert_id in starts):
            continue
        fired = _fired(r)
        if fired is not None and abs(fired_at - fired) <= period:
            near.append((fired, r.seq, r))
    if not near:
        return None
    before = [n for n in near if n[0] <= fired_at]
    if before:
        return max(before, key=lambda n: (n[0], n[1]))[2]
    return min(near, key=lambda n: (n[0], n[1]))[2]


def _stands_for_alert(rows: Sequence[DeliveryRecord]) -> set[str]:
    """The revisions that start a thread: sent (or to be sent) in place of an alert replaced before it was sent,
    up their chain of revisions past those replaced too."""
    by_key = {r.alert_id: r for r in rows}
    out: set[str] = set()
    for r in rows:
        if r.kind != "revision" or replaced_unsent(r) or r.parent_id is None:
            continue
        up = told_row(by_key.get, r.parent_id)
        if up is not None and up.kind == "alert" and replaced_unsent(up):
            out.add(r.alert_id)
    return out


def _severities(rows: Sequence[DeliveryRecord]) -> list[str]:
    return [a.detection.severity for r in rows if (a := alert_of(r.payload)) is not None]


def plan_retraction(
    key: str, retraction: Retraction, rows: Sequence[DeliveryRecord], catalog: AlertCatalog, seq: int
) -> list[DeliveryRecord]:
    """One `retraction` row per channel where the withdrawn alert has a row (`rows`: the ledger rows of its
    rule and group, every channel). Channels that never got the alert are told nothing."""
    out: dict[str, DeliveryRecord] = {}
    for r in rows:
        alert = alert_of(r.payload)
        if alert is None or alert.id != retraction.alert_id or r.kind == "retraction" or r.status == "suppressed":
            continue
        data = payload(
            alert,
            parent_alert=retraction.alert_id,
            reason=retraction.reason,
            superseded_by=retraction.superseded_by,
            group_label=catalog.group_label(retraction.group),
        )
        out[r.channel] = DeliveryRecord(
            key, r.channel, kind="retraction", payload=data, thread_key=r.thread_key, parent_id=r.alert_id, seq=seq
        )
    return list(out.values())


def retraction_thread(retraction: Retraction) -> str:
    return thread_key(retraction.rule, retraction.group)


def detection_thread(det: Detection) -> str:
    return thread_key(det.rule, det.group)
