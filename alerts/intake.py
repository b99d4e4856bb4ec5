"""Intake: what a detection or a retraction puts into the delivery ledger for one channel (pure).

First, once for every channel, the story a detection is part of (`Stories`): a story is a run of detections of
one rule and group, decided from every detection of that rule and group that came before it in the log, whichever
channels they were routed to and whether they were routed at all. A detection
- that `revises` an earlier one is part of that one's story;
- else continues the story whose first detection fired within the rule's open period (window or realert) of its
  own, in event time; of several, the latest at or before it (else the earliest after it), so a late report joins
  the story it is part of, not the one started last;
- else starts a story of its own.
Then, in each channel, given the rows already in its ledger for the same rule and group, the detection becomes:
- a `revision` of the alert it `revises`, when that alert has a row there (reply under it, update it);
- else a `followup` under the channel's thread of its story: the thread its first row of the story is in, while
  that thread's first message may still be sent (not silenced, not given up, not suppressed);
- else an `alert` of its own, which starts the channel's thread of the story.
A retraction becomes a `retraction` row under each alert it withdraws. Nothing here sends or reads a clock.

Why stories (outside trial, finding M5): threads used to be decided from one channel's own rows, so a channel
whose `where` or `min_severity` kept a story's first alert out threaded differently from one that got it: its
thread started mid-story, and the next story's first alert, within the open period of that mid-story alert but
not of the story's start, replied under it ("Re: [HIGH] …", "was HIGH"), while the unfiltered channel started a
new thread with it. The story is now decided once from the log, so every channel agrees on which alerts start
one; a channel only decides whether it already has a message of that story. The rules of event time, of the
latest at or before, and of silenced or given-up first messages are those threads had: the first two decide the
story, the last decides whether a channel's thread of it is still open. Stories are not stored: the dispatcher
rebuilds them from the detections in the log (a pure function of what came before each one, so a replay or a
second dispatcher decides the same), and rows written before stories keep their threads (a new detection replies
in whichever thread holds a row of its story).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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
    story: Story,
    catalog: AlertCatalog,
    seq: int,
) -> DeliveryRecord:
    """The ledger row for `alert` (delivery key `key`) in `channel`; `thread_rows` are that channel's rows of
    the same rule and group, in seq order; `story` is the alert's (`Stories.take`)."""
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
    root = _story_thread(rows, story, det.fired_at)
    if root is not None:
        before = _severities(thread_of(rows, root.alert_id))
        data = payload(alert, parent_alert=_alert_id(root), escalated_from=escalation(before, det.severity), **common)
        return DeliveryRecord(
            key, channel, kind="followup", payload=data, thread_key=tk, parent_id=root.alert_id, seq=seq
        )
    return DeliveryRecord(key, channel, kind="alert", payload=payload(alert, **common), thread_key=tk, seq=seq)


def continues_thread(
    key: str, det: Detection, story: Story, thread_rows: Sequence[DeliveryRecord], catalog: AlertCatalog
) -> bool:
    """Whether `det` (of `story`) would be a follow-up or a revision in a channel whose rows of its rule and group
    are `thread_rows`, rather than an alert of its own that starts a thread: whether the channel has a message of
    its story (or of the alert it revises) to reply under."""
    probe = Alert(id=det.id, detection=det, channels=())
    return plan_detection(key, probe, "", thread_rows, story, catalog, 0).kind != "alert"


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


def _story_thread(rows: Sequence[DeliveryRecord], story: Story, fired_at: datetime) -> DeliveryRecord | None:
    """The first message of the channel's thread of `story` that a detection fired at `fired_at` replies under:
    a thread's first alert (or the revision sent in its place) that may still be sent, of a thread holding a row
    of the story. Normally one; rows written before stories may hold the story in several threads: then, as
    threads were chosen then, the one whose first alert is the latest at or before it, else the earliest after."""
    if not story.members:
        return None
    top = _tops(rows)
    told = {top[r.alert_id] for r in rows if r.alert_id in story.members}
    starts = _stands_for_alert(rows)
    near: list[tuple[datetime, int, DeliveryRecord]] = []
    for r in rows:
        if r.status not in OPEN_STATUSES or not (r.kind == "alert" or r.alert_id in starts):
            continue
        fired = _fired(r)
        if fired is not None and top[r.alert_id] in told:
            near.append((fired, r.seq, r))
    if not near:
        return None
    before = [n for n in near if n[0] <= fired_at]
    if before:
        return max(before, key=lambda n: (n[0], n[1]))[2]
    return min(near, key=lambda n: (n[0], n[1]))[2]


def _tops(rows: Sequence[DeliveryRecord]) -> dict[str, str]:
    """Each row's key -> the key of the row its thread starts at (up its parent links: a follow-up's is its
    thread's first alert, a revision's the alert it revised)."""
    parent = {r.alert_id: r.parent_id for r in rows}
    out: dict[str, str] = {}
    for key in parent:
        path: list[str] = []
        k = key
        while k not in out:
            path.append(k)
            up = parent[k]
            if up is None or up not in parent or up in path:  # the top (parent links never cycle; checked anyway)
                root = k
                break
            k = up
        else:
            root = out[k]
        for p in path:
            out[p] = root
    return out


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


@dataclass(frozen=True)
class Story:
    """The story a detection is part of, decided once for every channel (`Stories.take`)."""

    root: str  # delivery key of its first detection
    members: frozenset[str]  # delivery keys of its detections before this one in the log (empty: it starts one)


@dataclass(frozen=True, slots=True)
class _Told:
    position: int  # in the log
    key: str  # delivery key (the detection event's id)
    id: str  # alert id (what a revision's `revises` names)
    fired_at: datetime
    root: str  # its story's first detection's key
    thread: str  # its rule and group's thread key


class _Thread:
    """The detections of one rule and group taken so far."""

    __slots__ = ("by_id", "key", "roots", "stories")

    def __init__(self, key: str) -> None:
        self.key = key
        self.roots: list[_Told] = []  # the first detections of its stories, by (fired_at, position)
        self.stories: dict[str, list[_Told]] = {}  # a story's first detection's key -> its detections
        self.by_id: dict[str, _Told] = {}  # alert id -> its latest detection (what a revision names)


class Stories:
    """Every detection taken so far, by rule and group, each with its story. Pure: the story of a detection is a
    function of the detections taken before it (lower log positions) and the open period, nothing else."""

    def __init__(self) -> None:
        self._threads: dict[str, _Thread] = {}
        self._known: dict[str, _Told] = {}  # delivery key -> its detection (one object each: a store's worth)

    def __len__(self) -> int:
        return len(self._known)

    def take(self, position: int, key: str, det: Detection, period: timedelta) -> Story:
        """The story of `det` (delivery key `key`, at `position` in the log), remembered for those after it. Taken
        again (a replay of the same event), it is the story decided the first time."""
        told = self._known.get(key)
        if told is not None:
            thread = self._threads[told.thread]
        else:
            tk = thread_key(det.rule, det.group)
            found = self._threads.get(tk)
            if found is None:
                thread = self._threads[tk] = _Thread(tk)
            else:
                thread, tk = found, found.key  # one string per thread, shared by its detections
            root = _story_root(key, det, position, thread, period)
            told = _Told(position, key, det.id, det.fired_at, root, tk)
            thread.stories.setdefault(root, []).append(told)
            if root == key:
                insort(thread.roots, told, key=_when)
            last = thread.by_id.get(det.id)
            if last is None or last.position < position:
                thread.by_id[det.id] = told
            self._known[key] = told
        members = frozenset(t.key for t in thread.stories[told.root] if t.position < told.position)
        return Story(told.root, members)


def _story_root(key: str, det: Detection, position: int, thread: _Thread, period: timedelta) -> str:
    """The first detection of the story `det` is part of: the revised alert's, else that of the story started
    within `period` of it in event time (the latest at or before it, else the earliest after it), else its own.
    Only detections before `position` count."""
    if det.revises is not None:
        revised = thread.by_id.get(det.revises)
        if revised is not None and revised.position < position:
            return revised.root
    roots = thread.roots  # those within `period` of it: a slice of the roots by fired_at, not all of them
    lo = bisect_left(roots, _shifted(det.fired_at, -period), key=_fired_at)
    hi = bisect_right(roots, _shifted(det.fired_at, period), lo=lo, key=_fired_at)
    near = [t for t in roots[lo:hi] if t.position < position]
    before = [t for t in near if t.fired_at <= det.fired_at]
    if before:
        return max(before, key=lambda t: (t.fired_at, t.position)).key
    if near:
        return min(near, key=lambda t: (t.fired_at, t.position)).key
    return key


def _when(t: _Told) -> tuple[datetime, int]:
    return t.fired_at, t.position


def _fired_at(t: _Told) -> datetime:
    return t.fired_at


def _shifted(at: datetime, by: timedelta) -> datetime:
    """`at + by`, or the end of the calendar that way (a year-1 or year-9999 date is far from every other)."""
    try:
        return at + by
    except OverflowError:
        return (datetime.max if by > timedelta(0) else datetime.min).replace(tzinfo=UTC)
