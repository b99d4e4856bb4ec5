"""Intake: what a detection or a retraction puts into the delivery ledger for one channel (pure).

First, once for every channel, the story a detection is part of (`Stories`): a story is a run of detections of
one rule and group, decided from every detection of that rule and group that came before it in the log, whichever
channels they were routed to and whether they were routed at all. A detection
- that `revises` an earlier one is part of that one's story;
- else continues the story whose first detection fired within the rule's open period (window or realert) of its
  own, in event time; of several, the latest at or before it (else the earliest after it), so a late report joins
  the story it is part of, not the one started last; a confirmed detection also looks further back, to a story
  begun at or after its earliest report, within its rule's `corroborate.within` (outside trial 62, M1: a MEDIUM's
  confirmation by another outlet past `realert` was a second message, "a new story"); a story none of whose alerts
  stands any more (each withdrawn
  by a retraction earlier in the log, or replaced by a revision that was) is over, and is not continued: a claim
  restored after a publisher's denial, or another outlet's report after the withdrawal, starts a story of its own
  (a new message, not an "Update" under a thread that says "Withdrawn");
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

What is kept (`Stories(keep=...)`): a story is continued by a detection that fires within its rule's open period of
its first one (a confirmation: within `corroborate.within`, when longer; that is the period below), or by a revision
of one of its alerts, and the engine raises those for reports within its allowed lateness of its watermark. So a story
is *over for good* once its newest alert fired more than its open period +
`keep` (the lateness and a margin: the dispatcher sees no watermark, only the newest `fired_at` of the detections
before, which a source lagging behind the others can be ahead of) before the newest detection taken before it:
from there on no detection joins it (a time join or a revision), and it is forgotten. That is decided by log order
alone (the newest `fired_at` before each position), so a replay or a second dispatcher forgets the same stories at
the same point. A story begun or joined by a detection already that far behind (a backfill of older news) would be over
at once, and the next report of it (a second outlet's confirmation, minutes later) would begin another: such a story
is kept on a lease (`_over`: until the newest moves its open period + `keep` past what was newest then, and for at
most BACKFILL_TAKES detections taken after; outside trial 29, F2). What changes at that edge: a detection that fires
that far behind the newest, near a story no such detection began or joined (a report beyond the lateness, which the
engine itself reports as late) starts a story of its own rather than joining the old one (its message says it is the
same story posted apart: notice.EarlierStory.within), and a
revision of a forgotten story's alert is a story's first detection: in a channel with a row of the alert it revises
it is still a revision in that row's thread (the ledger's rows decide threads), elsewhere an alert of its own. A
retraction of a forgotten alert withdraws its rows as ever (plan_retraction reads the ledger).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

import orjson
from pydantic_core import TzInfo

from watchfloor.schemas.detection_fields import dated_ahead, reports_from
from watchfloor.schemas.events import Alert, Detection, Retraction
from watchfloor.stream_processors.ports import ORDER_LAST, DeliveryRecord

from .notice import (
    AlertCatalog,
    alert_of,
    escalation,
    payload,
    replaced_unsent,
    revised_again,
    story_root_of,
    thread_key,
    thread_of,
    told_row,
)
from .throttle import HELD

OPEN_STATUSES = frozenset({"outstanding", "sent"})  # a thread's first alert that can still take replies
WITHDRAWN_HELD = "withdrawn while held by the channel's throttle: it had no message of its own to withdraw"


def _fired(row: DeliveryRecord) -> datetime | None:
    alert = alert_of(row.payload)
    return alert.detection.fired_at if alert is not None else None


def told_at(row: DeliveryRecord) -> float:
    """When what `row` tells happened, as its claim order (`DeliveryRecord.order_at`): the row's own, else (a row of
    an older version, kept at 0) its alert's `fired_at`; 0 when it has neither."""
    if 0.0 < row.order_at < ORDER_LAST:
        return row.order_at
    fired = _fired(row)
    return fired.timestamp() if fired is not None else 0.0


def _alert_id(row: DeliveryRecord) -> str | None:
    alert = alert_of(row.payload)
    return alert.id if alert is not None else None


def revises_told(det: Detection, thread_rows: Sequence[DeliveryRecord]) -> bool:
    """Whether `det` revises an alert told, or to be told, in the channel of `thread_rows` (its rows of the same rule
    and group): that revision keeps the channel's message true, so a silence does not hold it back, as it does not
    hold back a withdrawal (trial 34, M5: held back, the message went on showing the superseded alert for good)."""
    return det.revises is not None and bool(_told(thread_rows, det.revises))


def _told(rows: Sequence[DeliveryRecord], alert_id: str) -> list[DeliveryRecord]:
    """The rows of `rows` that tell alert `alert_id` in their channel, or will: not suppressed, not held by the throttle
    (an alert held has no message to reply under), not a withdrawal."""
    return [
        r for r in rows if r.kind != "retraction" and _alert_id(r) == alert_id and r.status not in ("suppressed", HELD)
    ]


def plan_detection(
    key: str,
    alert: Alert,
    channel: str,
    thread_rows: Sequence[DeliveryRecord],
    story: Story,
    catalog: AlertCatalog,
    seq: int,
    ledger_key: str | None = None,
) -> DeliveryRecord:
    """The ledger row for `alert` (delivery key `key`) in `channel`; `thread_rows` are that channel's rows of
    the same rule and group, in seq order; `story` is the alert's (`Stories.take`). `ledger_key`: the thread key
    the rows are of and the row takes, when not its rule's now (its story's rows are under the key of a `thread_by`
    changed since: the dispatcher's `_story_key`)."""
    det = alert.detection
    tk = ledger_key or catalog.ledger_thread(det.rule, det.group)
    at = det.fired_at.timestamp()  # a reply goes no earlier than what it replies under (max below)
    rows = [r for r in thread_rows if r.alert_id != key and r.kind != "retraction"]
    # what "was MEDIUM" compares against: the alerts that stand (a withdrawn one, or one a revision replaced, no
    # longer says what the thread was)
    gone = {r.parent_id for r in thread_rows if r.alert_id != key and r.kind in ("retraction", "revision")}
    # (the open period: what says, when it is sent, whether the rule and group's last story began within it)
    common = {
        "group_label": catalog.group_label(det.group),
        "open_period": catalog.open_period(det.rule).total_seconds(),
    }
    if det.revises is not None:
        # (an alert held by the channel's throttle has no message to reply under: its revision is told on its own)
        revised = _told(rows, det.revises)
        if revised:
            parent = revised[-1]
            before = _severities(thread_of(rows, parent.alert_id), gone - {parent.alert_id})
            data = payload(alert, parent_alert=det.revises, escalated_from=escalation(before, det.severity), **common)
            under: DeliveryRecord | None = parent
            by_key = {r.alert_id: r for r in rows}
            for _ in range(len(rows) + 1):
                if under is None or not _unsent(under):
                    break
                # Not sent yet: this revision goes in its place (Deliverer._replaced_first), at its own time, under
                # what the row it replaces goes under (trial 25, F4: at the replaced alert's later time, it went
                # after alerts of other rules raised in between); past revisions not sent either, to what they
                # revise (review 22, F1), which this one replaces too.
                kind, up = under.kind, under.parent_id
                under = by_key.get(up) if up is not None else None
                if kind != "revision":
                    break
            return DeliveryRecord(
                key,
                channel,
                kind="revision",
                payload=data,
                thread_key=tk,
                parent_id=parent.alert_id,
                seq=seq,
                order_at=max(at, told_at(under)) if under is not None else at,
            )
    root = _story_thread(rows, story, det.fired_at, thread_rows)
    if root is not None:
        before = _severities(thread_of(rows, root.alert_id), gone)
        data = payload(alert, parent_alert=_alert_id(root), escalated_from=escalation(before, det.severity), **common)
        return DeliveryRecord(
            key,
            channel,
            kind="followup",
            payload=data,
            thread_key=tk,
            parent_id=root.alert_id,
            seq=seq,
            order_at=max(at, told_at(_in_place_of(rows, root))),
        )
    if story.before is not None:  # (named where the channel holds no message of it: compose.earlier_of)
        common["story_before"] = story.before.payload()
    joined = _joins_story(rows, det, catalog, thread_rows) if catalog.threads_groups(det.rule) else None
    if joined is not None and det.revises is None:
        # Another group of the story its thread_by values make (another imposer's sanctions on the same country): an
        # alert of its own, told as a new alert in that story's thread, not as an update of the thread's first alert.
        common["story_root"] = joined.alert_id
        first = alert_of(joined.payload)
        if first is not None:
            common["story_alert"] = first.id
            common["story_group_label"] = catalog.group_label(first.detection.group)
        return DeliveryRecord(
            key,
            channel,
            kind="alert",
            payload=payload(alert, **common),
            thread_key=tk,
            seq=seq,
            order_at=max(at, told_at(joined)),
        )
    if det.revises is not None and any(r.status == HELD and _alert_id(r) == det.revises for r in rows):
        # a revision of an alert the channel's throttle held, told on its own: its message says what it revises
        # (outside trial 62, L7: a top-level MEDIUM with no line, where the other channels had a revision reply)
        common["revises_held"] = det.revises
    return DeliveryRecord(
        key, channel, kind="alert", payload=payload(alert, **common), thread_key=tk, seq=seq, order_at=at
    )


def plan_retold(
    key: str,
    alert: Alert,
    channel: str,
    thread_rows: Sequence[DeliveryRecord],
    story: Story,
    catalog: AlertCatalog,
    seq: int,
    ledger_key: str | None = None,
) -> tuple[DeliveryRecord, list[DeliveryRecord]] | None:
    """The channel's thread of `alert`'s story told again in event time, when `alert` (planned a follow-up,
    `plan_detection`) fired before what goes as that thread's first message and nothing of the thread has been sent
    or tried (a backlog's alerts, held; the reports read out of event time, the later one first): `alert`'s row as
    the thread's first message, and each row of the thread planned again under it, to be written in place of theirs
    (`DeliveryLedger.enqueue(replacing=)`). None when it does not apply, or the thread holds what this leaves alone
    (a withdrawal, another group's story, a row the throttle held). Outside trial 75, F5: the 11:30 HIGH was the
    story's first message and the 10:00 MEDIUM an "Update" under it, a downgrade to the eye; in event time (a
    backtest) the MEDIUM starts the story and the HIGH is its update."""
    det = alert.detection
    if det.revises is not None or any(r.alert_id == key for r in thread_rows):
        return None  # (a revision keeps its place; a replay keeps the rows it wrote)
    rows = [r for r in thread_rows if r.kind != "retraction"]
    root = _story_thread(rows, story, det.fired_at, thread_rows)
    if root is None or root.kind != "alert" or story_root_of(root) is not None:
        return None
    # The story began when its first alert fired, even when a revision fired later goes in that alert's place: a
    # follow-up fired between the two is after the story's start, and stays a reply under it.
    began = [t for t in (_fired(root), _fired(_in_place_of(rows, root))) if t is not None]
    if not began or det.fired_at >= min(began):
        return None
    thread = thread_of(rows, root.alert_id)
    keys = {r.alert_id for r in thread}
    if any(r.kind == "retraction" and r.parent_id in keys for r in thread_rows):
        return None
    if any(not _unsent(r) or r.attempts or r.lease_owner is not None or story_root_of(r) is not None for r in thread):
        return None
    common: dict[str, object] = {
        "group_label": catalog.group_label(det.group),
        "open_period": catalog.open_period(det.rule).total_seconds(),
    }
    before = (root.payload or {}).get("story_before")  # ("Again: …": the story's first message says it)
    if before is not None:
        common["story_before"] = before
    tk = ledger_key or catalog.ledger_thread(det.rule, det.group)  # (the thread's key: plan_detection's ledger_key)
    at = det.fired_at.timestamp()
    first_row = DeliveryRecord(
        key, channel, kind="alert", payload=payload(alert, **common), thread_key=tk, seq=seq, order_at=at
    )
    planned = [r for r in rows if r.alert_id not in keys] + [first_row]
    members = {key}
    again: list[DeliveryRecord] = []
    for r in thread:  # (in seq order: each planned as intake planned it, given the rows planned before it)
        told = alert_of(r.payload)
        if told is None:
            return None
        members.add(r.alert_id)
        new = plan_detection(
            r.alert_id, told, channel, planned, Story(key, frozenset(members)), catalog, r.seq, ledger_key
        )
        if new.kind == "alert":
            return None  # (it would start a thread of its own: left as it was)
        row = replace(r, kind=new.kind, payload=new.payload, parent_id=new.parent_id, order_at=new.order_at)
        planned.append(row)
        again.append(row)
    return first_row, again


def continues_thread(
    key: str,
    det: Detection,
    story: Story,
    thread_rows: Sequence[DeliveryRecord],
    catalog: AlertCatalog,
    ledger_key: str | None = None,
) -> bool:
    """Whether `det` (of `story`) would be a follow-up or a revision in a channel whose rows of its rule and group
    are `thread_rows`, rather than an alert of its own that starts a thread: whether the channel has a message of
    its story (or of the alert it revises) to reply under."""
    probe = Alert(id=det.id, detection=det, channels=())
    return plan_detection(key, probe, "", thread_rows, story, catalog, 0, ledger_key).kind != "alert"


def standing_copy(det: Detection, key: str, rows: Sequence[DeliveryRecord]) -> DeliveryRecord | None:
    """An earlier row of this very alert (same id: rule, group and every report) that still stands in the channel:
    not withdrawn since, not replaced by a revision, not suppressed or given up. A detection that is none of its
    revisions raises it again only when its reports came again (a document re-sent to Kafka after its group's state
    was let go): telling the channel twice would break "never twice".

    A row a revision replaced no longer tells its alert (outside trial 45, HIGH-1): the channel's message shows the
    revision, or, while the row is not sent yet (held with a backlog being read), the revision goes in its place and
    the row is never sent. The alert raised again after that (revised away, then given back its reports, while the
    revision stands too) is news, as a withdrawn one raised again is: suppressed as a copy of that row, it was told
    nowhere. (A revision in place, under the alert's own id, tells it: its row is found instead.)"""
    if det.revises is not None:
        return None
    gone = {r.parent_id for r in rows if r.kind in ("retraction", "revision") and r.alert_id != key}
    for r in rows:
        # (held by the channel's throttle stands too: it is told in the throttle's summary)
        standing = r.status in OPEN_STATUSES or r.status == HELD
        if r.alert_id == key or r.kind == "retraction" or not standing or r.alert_id in gone:
            continue
        if _alert_id(r) == det.id:
            return r
    return None


def _story_thread(
    rows: Sequence[DeliveryRecord], story: Story, fired_at: datetime, thread_rows: Sequence[DeliveryRecord] = ()
) -> DeliveryRecord | None:
    """The first message of the channel's thread of `story` that a detection fired at `fired_at` replies under:
    a thread's first alert (or the revision sent in its place) that may still be sent, of a thread holding a row
    of the story, and not one whose every alert was withdrawn in this channel (`thread_rows`, its withdrawals among
    them): the story goes on elsewhere, but here it is over, and the next alert is a message of its own, not a reply
    under "Withdrawn" (outside trial 26, F5: a channel subscribed for HIGH only, whose one alert was withdrawn, got the
    next HIGH as a reply in that thread, never shown in the channel). Normally one; rows written before stories may
    hold the story in several threads: then, as threads were chosen then, the one whose first alert is the latest at
    or before it, else the earliest after."""
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
        if fired is not None and top[r.alert_id] in told and not _withdrawn_here(thread_rows, r.alert_id):
            near.append((fired, r.seq, r))
    if not near:
        return None
    before = [n for n in near if n[0] <= fired_at]
    if before:
        return max(before, key=lambda n: (n[0], n[1]))[2]
    return min(near, key=lambda n: (n[0], n[1]))[2]


def _joins_story(
    rows: Sequence[DeliveryRecord], det: Detection, catalog: AlertCatalog, thread_rows: Sequence[DeliveryRecord]
) -> DeliveryRecord | None:
    """The first message of the channel's thread that `det`, the first alert of its group's story, is a new alert of:
    the thread of the latest alert of another group of its thread_by values (`rows`: the channel's rows of that thread
    key) fired within its rule's open period before it (else the earliest within it after), that may still be sent and
    is not withdrawn here. So the story of a country goes on while any of its groups' alerts keep coming, each group
    with its own realert. None: no such alert, it starts the thread."""
    period = catalog.open_period(det.rule)
    by_key = {r.alert_id: r for r in rows}
    near: list[tuple[datetime, int, DeliveryRecord]] = []
    for r in rows:
        if r.kind != "alert" or r.status not in OPEN_STATUSES:
            continue
        alert = alert_of(r.payload)
        if alert is None or alert.detection.group == det.group or _withdrawn_here(thread_rows, r.alert_id):
            continue
        fired = alert.detection.fired_at
        if abs(fired - det.fired_at) > period:
            continue
        root_key = story_root_of(r)
        root = by_key.get(root_key) if root_key is not None else r
        if root is None or root.status not in OPEN_STATUSES:
            continue
        near.append((fired, r.seq, root))
    if not near:
        return None
    before = [n for n in near if n[0] <= det.fired_at]
    if before:
        return max(before, key=lambda n: (n[0], n[1]))[2]
    return min(near, key=lambda n: (n[0], n[1]))[2]


def _in_place_of(rows: Sequence[DeliveryRecord], root: DeliveryRecord) -> DeliveryRecord:
    """What goes to the channel as the thread's first message: `root`, or, while it is not sent and a revision of it
    waits to go in its place (at its own, earlier time: Deliverer._replaced_first), that revision (review 22, F5: a
    follow-up ordered at the replaced alert's later time went after other rules' alerts raised in between)."""
    return (revised_again(rows, root) or root) if _unsent(root) else root


def _unsent(row: DeliveryRecord) -> bool:
    """Outstanding with no attempt that may have reached the channel: what a revision may still replace."""
    return row.status == "outstanding" and not row.ref and not row.unsure


def _withdrawn_here(thread_rows: Sequence[DeliveryRecord], root: str) -> bool:
    """Whether every alert the channel's thread first told by `root` tells, or is to tell, was withdrawn there: each
    alert or follow-up, as its last revision, has a withdrawal in the thread."""
    if not any(r.kind == "retraction" for r in thread_rows):
        return False
    thread = thread_of(thread_rows, root)
    withdrawn = {r.parent_id for r in thread if r.kind == "retraction"}
    revised = {r.parent_id for r in thread if r.kind == "revision"}
    told = [
        r
        for r in thread
        if r.kind in ("alert", "followup", "revision") and r.status in OPEN_STATUSES and r.alert_id not in revised
    ]
    return bool(told) and all(r.alert_id in withdrawn for r in told)


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


def _severities(rows: Sequence[DeliveryRecord], gone: set[str | None]) -> list[str]:
    """The severities of the alerts of `rows` that still stand: not withdrawn, not replaced (keys in `gone`)."""
    return [a.detection.severity for r in rows if r.alert_id not in gone and (a := alert_of(r.payload)) is not None]


def plan_retraction(
    key: str,
    retraction: Retraction,
    rows: Sequence[DeliveryRecord],
    catalog: AlertCatalog,
    seq: int,
    summarised: Mapping[tuple[str, str], str] | None = None,
) -> list[DeliveryRecord]:
    """One `retraction` row per channel where the withdrawn alert has a row (`rows`: the ledger rows of its
    rule and group, every channel). Channels that never got the alert are told nothing. `summarised`: (held row's
    key, channel) -> the throttle summary planned already that lists it."""
    out: dict[str, DeliveryRecord] = {}
    after: dict[str, float] = {}  # per channel: after every message of the alert it withdraws (a revision's too)
    for r in rows:
        alert = alert_of(r.payload)
        if alert is None or alert.id != retraction.alert_id or r.kind == "retraction" or r.status == "suppressed":
            continue
        after[r.channel] = max(after.get(r.channel, 0.0), told_at(r))
        data = payload(
            alert,
            parent_alert=retraction.alert_id,
            reason=retraction.reason,
            superseded_by=retraction.superseded_by,
            group_label=catalog.group_label(retraction.group),
            change=retraction.revision,  # the change that withdrew it: the rest of that change is told with it
        )
        # An alert the channel's throttle held has no message of its own to withdraw. Not listed by a summary yet:
        # the withdrawal is recorded, not sent (the summary, planned later, leaves it out). Listed by one (planned,
        # maybe sent): the channel was told of it, so it is told of its withdrawal too, as a message of its own
        # once that summary is delivered (the summary is one message for many alerts, not a thread of this one;
        # review 13, F2: it was recorded `suppressed` and never sent).
        summary = (summarised or {}).get((r.alert_id, r.channel)) if r.status == HELD else None
        if summary is not None:
            data["summary"] = summary
        held = r.status == HELD and summary is None
        out[r.channel] = DeliveryRecord(
            key,
            r.channel,
            status="suppressed" if held else "outstanding",
            kind="retraction",
            payload=data,
            thread_key=r.thread_key,
            parent_id=r.alert_id,
            seq=seq,
            detail=WITHDRAWN_HELD if held else "",
            # after the throttle summary that listed it (a row with no event time: ORDER_LAST), which it waits for
            order_at=ORDER_LAST if summary is not None else after[r.channel],
        )
    return list(out.values())


def retraction_thread(retraction: Retraction) -> str:
    return thread_key(retraction.rule, retraction.group)


def detection_thread(det: Detection, catalog: AlertCatalog) -> str:
    """The ledger's thread key of `det`'s rows (AlertCatalog.ledger_thread: its rule and group, or its thread_by)."""
    return catalog.ledger_thread(det.rule, det.group)


@dataclass(frozen=True)
class Story:
    """The story a detection is part of, decided once for every channel (`Stories.take`)."""

    root: str  # delivery key of its first detection
    members: frozenset[str]  # delivery keys of its detections before this one in the log (empty: it starts one)
    # Of a detection that starts a story: the story of its rule and group begun last before it (Stories.before), which
    # its message names ("Again: …") in a channel that holds no message of it (outside trial 62, L3: a DM subscribed
    # since got no line, though the story is decided once for all channels). None: none, or it starts no story.
    before: StoryBefore | None = None


# How many of a group's earlier stories a new story's row names (StoryBefore.earlier): a channel's "(N earlier …)"
# count reaches no further back across a `thread_by` change.
EARLIER_KEYS = 100


@dataclass(frozen=True)
class StoryBefore:
    """The story of a rule and group begun last before a detection that starts another (in event time)."""

    alert_id: str  # its newest alert standing then (else its first), as `alerts list` names it
    fired_at: datetime  # when that alert fired
    began: datetime  # when the story's first alert fired
    stands: bool  # whether one of its alerts stood then
    # the delivery key of its first detection: its first message's row in a channel, under whatever thread key it was
    # written (a rule's `thread_by` changed since: the "Again: …" line still links that message)
    key: str = ""
    # the delivery keys of the first detections of the group's earlier stories (the last EARLIER_KEYS, oldest first,
    # `key` last): a channel counts those it was told under another thread key too (outside trial 79, F2: after a
    # `thread_by` change the "(N earlier in this channel)" count restarted)
    earlier: tuple[str, ...] = ()

    def payload(self) -> dict[str, object]:
        out: dict[str, object] = {
            "alert_id": self.alert_id,
            "fired_at": self.fired_at.isoformat(),
            "began": self.began.isoformat(),
            "stands": self.stands,
        }
        if self.key:
            out["key"] = self.key
        if self.earlier:
            out["earlier"] = list(self.earlier)
        return out


class _Thread:
    """The detections of one rule and group taken so far (numbers: the order Stories took them in)."""

    __slots__ = ("by_id", "number", "roots", "span")

    def __init__(self, number: int) -> None:
        self.number = number
        self.span = 0  # the longest open period its detections were taken with, in microseconds (what keeps a story)
        self.roots: list[int] = []  # the first detections of its stories, by (fired_at, position)
        # Alert id -> its latest detection, of those whose delivery key is not their alert id (a revision's event
        # has a key of its own): the others are found by their key, in Stories._number, with no entry here.
        self.by_id: dict[str, int] = {}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OPEN = 2**63 - 1  # Stories._ended of an alert that stands
_US = timedelta(microseconds=1)
_FIXED_OFFSETS = (timezone, TzInfo)  # tzinfo types whose `at + by` is `by` later whatever the date


def _micros(at: datetime) -> int:
    """An aware time as microseconds since 1970 UTC: compared as the instants are, exactly."""
    d = at - _EPOCH
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


# Within these bounds a shift by a period is plain arithmetic on microseconds; nearer the calendar's ends `at + by`
# may leave it (a UTC offset is under a day), and `_shifted`'s clamp decides, as it always has.
_SAFE_LOW = _micros(datetime.min.replace(tzinfo=UTC)) + 2 * 86_400_000_000
_SAFE_HIGH = _micros(datetime.max.replace(tzinfo=UTC)) - 2 * 86_400_000_000
_NEVER = -(2**63)  # Stories._newest before any detection
COMPACT_MIN: Final = 4096  # Stories drops its forgotten stories when it holds this many detections, or twice as many
# as after the last drop (amortised: each detection is copied a bounded number of times)
# A story begun or joined by a detection already that far behind the newest (a backfill of older news) is kept on a
# lease: until the newest moves its open period + `keep` past what was newest then, and at most while this many
# detections are taken after its last one (what bounds the memory of a backfill read while the newest stands still).
BACKFILL_TAKES: Final = 100_000


class Stories:
    """Every detection taken so far, by rule and group, each with its story. Pure: the story of a detection is a
    function of the detections taken before it (lower log positions) and the open period, nothing else.

    A dispatcher keeps the detections of its store's stories that can still be continued here (with `keep`; None:
    every one, forever), so each is a row of columns rather than an object: its number (the order taken, renumbered
    when forgotten stories are dropped) in arrays of machine integers, and of Python objects only its key (and the
    number the key maps to). Forgotten: a story whose newest alert fired more than its open period + `keep` before the
    newest detection taken (the module docstring); such a story is passed by at once, and dropped at the next
    compaction, so when it is dropped changes no answer."""

    def __init__(
        self, keep: timedelta | None = None, *, compact_min: int = COMPACT_MIN, backfill_takes: int = BACKFILL_TAKES
    ) -> None:
        self._keep = None if keep is None else keep // _US
        self._compact_min = compact_min  # (COMPACT_MIN; a test compacts sooner)
        self._backfill_takes = backfill_takes  # (BACKFILL_TAKES; a test ends leases sooner)
        self._newest = _NEVER  # the latest fired_at taken, microseconds
        self.taken = 0  # detections taken in all (len(): those held)
        self._compact_at = compact_min
        self._threads: dict[str, _Thread] = {}
        self._number: dict[str, int] = {}  # delivery key -> the detection's number
        self._keys: list[str] = []  # by number: delivery key
        self._position = array("q")  # by number: position in the log
        self._fired = array("q")  # by number: fired_at, in microseconds since 1970 UTC (_micros)
        self._thread = array("q")  # by number: its _Thread's number
        self._root = array("q")  # by number: the number of its story's first detection
        self._next = array("q")  # by number: the next detection of its story in a chain from its root (-1: none)
        # by number: the log position of the retraction or revision that ended its alert (_OPEN: it stands)
        self._ended = array("q")
        self._last = array("q")  # by number, of a story's first detection: the latest fired_at of the story's
        # by number, of a story's first detection: the newest fired_at taken when a detection far behind it (a
        # backfill's) last began or joined the story, and `taken` then (its lease: _over); _NEVER: no such detection
        self._lease = array("q")
        self._lease_taken = array("q")
        self._alert_ids: dict[int, str] = {}  # number -> alert id, where that is not its key (a revision's event)
        self._by_number: list[_Thread] = []

    def __len__(self) -> int:
        return len(self._keys)

    def take(
        self, position: int, key: str, det: Detection, period: timedelta, reach: timedelta = timedelta(0)
    ) -> Story:
        """The story of `det` (delivery key `key`, at `position` in the log), remembered for those after it. Taken
        again (a replay of the same event), it is the story decided the first time. `reach`: its rule's
        confirmation reach (AlertCatalog.confirmation_reach)."""
        n = self._number.get(key)
        if n is None:
            tk = thread_key(det.rule, det.group)
            n = self.add(
                position,
                key,
                det.id,
                tk,
                det.fired_at,
                det.revises,
                period,
                ahead=dated_ahead(det),
                reach=reach,
                reports_from=reports_from(det),
            )
        story = self._story(n)
        if not story.members:
            story = Story(story.root, story.members, self.before(n))
        return story

    def near_groups(
        self, rule: str, group: Mapping[str, str], keys: Sequence[str], fired_at: datetime, period: timedelta
    ) -> list[str]:
        """The delivery keys of the detections taken of `rule`'s other groups that share `group`'s values of `keys`
        (its thread_by keys) and fired within `period` of `fired_at`: the alerts a new alert of `group` may be a new
        alert of the story of (intake._joins_story), wherever a channel's rows of them are. Of each group, its two
        latest stories are looked at (the open one and the one before, as a late report may fall between)."""
        prefix = rule + "\x1f"
        at, span = _micros(fired_at), period // _US
        wanted = {k: group.get(k) for k in keys}
        out: list[str] = []
        for tk, t in self._threads.items():
            if not tk.startswith(prefix):
                continue
            try:
                other = orjson.loads(tk[len(prefix) :])
            except orjson.JSONDecodeError:
                continue
            if not isinstance(other, dict) or other == dict(group) or any(other.get(k) != v for k, v in wanted.items()):
                continue
            for root in t.roots[-2:]:
                j = root
                while j >= 0:
                    if abs(self._fired[j] - at) <= span:
                        out.append(self._keys[j])
                    j = self._next[j]
        return out

    def before(self, n: int) -> StoryBefore | None:
        """Of detection number `n`, which starts a story, the story of its rule and group begun last before it: the
        latest first detection fired at or before it and taken before it (one of its very time too: a story over, or
        withdrawn, that a late report's alert of that time does not join; outside trial 72, HIGH-1, named the one
        before that). Its alert named is the newest standing just before
        `n` (a confirmation's HIGH, not the MEDIUM it followed; a revision, not what it replaced), else its first."""
        if self._root[n] != n:
            return None
        t = self._by_number[self._thread[n]]
        position, fired = self._position[n], self._fired[n]
        roots = t.roots
        root, earlier = -1, []
        for i in range(bisect_right(roots, fired, key=self._fired.__getitem__) - 1, -1, -1):
            if self._position[roots[i]] < position:
                root = roots[i] if root < 0 else root
                earlier.append(self._keys[roots[i]])
                if len(earlier) == EARLIER_KEYS:
                    break
        if root < 0:
            return None
        newest, j = -1, root
        while j >= 0:
            if self._position[j] < position < self._ended[j] and (newest < 0 or self._when(j) > self._when(newest)):
                newest = j
            j = self._next[j]
        shown = newest if newest >= 0 else root
        try:
            fired_at = _EPOCH + timedelta(microseconds=self._fired[shown])
            began = _EPOCH + timedelta(microseconds=self._fired[root])
        except OverflowError:  # (a time at the calendar's edge: the line is left out, as a time it cannot carry)
            return None
        alert_id = self._alert_ids.get(shown, self._keys[shown])
        return StoryBefore(
            alert_id=alert_id,
            fired_at=fired_at,
            began=began,
            stands=newest >= 0,
            key=self._keys[root],
            earlier=tuple(reversed(earlier)),
        )

    def add(
        self,
        position: int,
        key: str,
        alert_id: str,
        thread: str,
        fired_at: datetime,
        revises: str | None,
        period: timedelta,
        *,
        ahead: bool = False,
        reach: timedelta = timedelta(0),
        reports_from: datetime | None = None,
    ) -> int:
        """`take` without the Story (what a read of the log's earlier detections needs): a detection with delivery
        key `key`, alert id `alert_id`, of the rule and group whose thread key is `thread`. Returns its number.
        `ahead`: it shows a report dated after it fired (detection_fields.dated_ahead), so its time is a receive time,
        not event time: it does not move the newest event time (what decides which stories are over).
        `reports_from`: a confirmed detection's earliest report (DetectionFields.reports_from); it also continues a
        story begun at or after that report, up to `reach` (its rule's `corroborate.within`) before it fired."""
        n = self._number.get(key)
        if n is not None:
            return n
        t = self._threads.get(thread)
        if t is None:
            t = self._threads[thread] = _Thread(len(self._by_number))
            self._by_number.append(t)
        fired = _micros(fired_at)
        # (a story is kept while a confirmation may still reach back to it: `reach`, when longer than the period)
        t.span = max(t.span, period // _US, reach // _US)
        back = None
        if reports_from is not None and reach > period:
            back = max(_micros(reports_from), fired - reach // _US)
        root = self._story_root(position, fired_at, fired, revises, t, period, back)
        # Far behind the newest (a report beyond the lateness, as a backfill of older news brings): the story it begins
        # or joins would be over at once, and its next report (a second outlet's, minutes later) would begin another.
        behind = self._keep is not None and fired + t.span + self._keep < self._newest
        if revises is not None:
            # the alert it replaces no longer stands (from here on in the log)
            self._end(self._latest(t, revises), position)
        n = len(self._keys)
        self._number[key] = n
        self._keys.append(key)
        self._position.append(position)
        self._fired.append(fired)
        self._ended.append(_OPEN)
        self._last.append(fired)
        self._lease.append(_NEVER)
        self._lease_taken.append(0)
        self._thread.append(t.number)
        if root < 0:  # it starts a story
            self._root.append(n)
            self._next.append(-1)
            roots = t.roots
            if not roots or self._when(roots[-1]) <= (fired, position):
                roots.append(n)  # the usual: the log mostly comes in event time
            else:
                insort(roots, n, key=self._when)
        else:  # second in its story's chain, before the others (members are a set: their order is no matter)
            self._root.append(root)
            self._next.append(self._next[root])
            self._next[root] = n
            if fired > self._last[root]:
                self._last[root] = fired
        if behind:
            first = n if root < 0 else root
            self._lease[first] = self._newest
            self._lease_taken[first] = self.taken
        if alert_id != key:
            self._alert_ids[n] = alert_id
            last = t.by_id.get(alert_id)
            if last is None or self._position[last] < position:
                t.by_id[alert_id] = n
        self.taken += 1
        if fired > self._newest and not ahead:
            self._newest = fired
        if self._keep is not None and len(self._keys) >= self._compact_at:
            n = self._compact(n)
        return n

    def _over(self, root: int) -> bool:
        """Whether the story starting at `root` is over for good: its newest alert fired more than its open period +
        `keep` before the newest detection taken (then no detection can join it any more: the class docstring)."""
        keep = self._keep
        if keep is None:
            return False
        edge = self._newest - self._by_number[self._thread[root]].span - keep
        if self._last[root] >= edge:
            return False
        # A backfill's story (begun or joined far behind the newest): kept on its lease. Both only grow, as `edge`
        # does, so a story over stays over, and when it is dropped changes no answer.
        return self._lease[root] < edge or self.taken - self._lease_taken[root] > self._backfill_takes

    def _compact(self, n: int) -> int:
        """Drop the detections of the stories that are over; returns detection `n`'s new number. The order of those
        kept is kept (ties are decided by it), and every number held is mapped to the new one."""
        old_root = self._root
        # (`n`'s own story is kept even when over, a detection far behind the newest: its Story is asked for next)
        own = old_root[n]
        kept = [j for j in range(len(self._keys)) if old_root[j] == own or not self._over(old_root[j])]
        new = {j: i for i, j in enumerate(kept)}
        threads = sorted({self._thread[j] for j in kept})
        new_thread = {old: i for i, old in enumerate(threads)}
        self._threads = {k: t for k, t in self._threads.items() if t.number in new_thread}
        self._by_number = [self._by_number[old] for old in threads]
        for t in self._by_number:
            t.number = new_thread[t.number]
            t.roots = [new[r] for r in t.roots if r in new]
            t.by_id = {a: new[j] for a, j in t.by_id.items() if j in new}
        self._keys = [self._keys[j] for j in kept]
        self._number = {k: i for i, k in enumerate(self._keys)}
        self._position = array("q", (self._position[j] for j in kept))
        self._fired = array("q", (self._fired[j] for j in kept))
        self._ended = array("q", (self._ended[j] for j in kept))
        self._last = array("q", (self._last[j] for j in kept))
        self._lease = array("q", (self._lease[j] for j in kept))
        self._lease_taken = array("q", (self._lease_taken[j] for j in kept))
        self._thread = array("q", (new_thread[self._thread[j]] for j in kept))
        self._root = array("q", (new[old_root[j]] for j in kept))
        self._next = array("q", (-1 if (x := self._next[j]) < 0 else new[x] for j in kept))
        self._alert_ids = {new[j]: a for j, a in self._alert_ids.items() if j in new}
        self._compact_at = max(self._compact_min, 2 * len(kept))
        return new[n]

    def withdraw(self, position: int, thread: str, alert_id: str) -> None:
        """A retraction at `position` withdrew alert `alert_id` of the rule and group whose thread key is `thread`:
        from there on it no longer keeps its story going (a story with no alert standing is over)."""
        t = self._threads.get(thread)
        if t is not None:
            self._end(self._latest(t, alert_id), position)

    def _end(self, n: int, position: int) -> None:
        if n >= 0 and self._position[n] < position and position < self._ended[n]:
            self._ended[n] = position

    def _standing(self, root: int, position: int) -> bool:
        """Whether an alert of the story starting at `root` stands just before `position` in the log: one of its
        detections before it, neither withdrawn nor replaced by then."""
        at, ended = self._position, self._ended
        j = root
        while j >= 0:
            if at[j] < position and ended[j] > position:
                return True
            j = self._next[j]
        return False

    def _story(self, n: int) -> Story:
        position, keys, at = self._position[n], self._keys, self._position
        root = self._root[n]
        members: list[str] = []
        j = root
        while j >= 0:
            if at[j] < position:
                members.append(keys[j])
            j = self._next[j]
        return Story(keys[root], frozenset(members))

    def _latest(self, t: _Thread, alert_id: str) -> int:
        """The latest detection (by position; of two at one, the first taken) of `t` whose alert id is `alert_id`,
        or -1."""
        found = t.by_id.get(alert_id, -1)
        own = self._number.get(alert_id)  # the detection whose key is that id: its id, unless it has another
        if own is not None and own not in self._alert_ids and self._thread[own] == t.number:
            if found < 0 or self._position[own] > self._position[found]:
                return own
            if self._position[own] == self._position[found] and own < found:
                return own
        return found

    def _story_root(
        self,
        position: int,
        fired_at: datetime,
        fired: int,
        revises: str | None,
        t: _Thread,
        period: timedelta,
        back: int | None = None,
    ) -> int:
        """The first detection of the story a detection is part of: the revised alert's, else that of the story
        started within `period` of it in event time (the latest at or before it, else the earliest after it), else
        -1 (its own). Only detections before `position` count. `back` (microseconds): a confirmation's reach back, the
        earliest a story it continues may have begun when that is before its open period (Stories.add)."""
        if revises is not None:
            revised = self._latest(t, revises)
            if revised >= 0 and self._position[revised] < position and not self._over(self._root[revised]):
                return self._root[revised]
        # `fired_at` -/+ `period`, in microseconds. Near the calendar's ends, or in a time zone whose offset changes
        # (not from JSON: only a model made in Python has one), `at + by` is not `by` later: `_shifted` decides.
        # Strictly within: a detection exactly `period` after a story's first starts a story of its own, as the engine
        # fires it again exactly `realert` after (it holds back only what is nearer): a broadcaster that dates every
        # item 12:00 had the next day's alert as an "Update" of the day before's (outside trial 71, M1).
        span = period // _US
        if _SAFE_LOW <= fired - span and fired + span <= _SAFE_HIGH and isinstance(fired_at.tzinfo, _FIXED_OFFSETS):
            low, high = fired - span + 1, fired + span - 1
        else:
            low, high = _micros(_shifted(fired_at, -period)) + 1, _micros(_shifted(fired_at, period)) - 1
        # A confirmation whose reports began before its open period: back to the story its earliest report began (a
        # MEDIUM unconfirmed report, corroborated by another outlet past `realert` but within `corroborate.within`, is
        # one story told twice otherwise: outside trial 62, M1). Only backwards: a later story is no confirmation's.
        if back is not None:
            low = min(low, back)
        # Those within `period` of it: a slice of the roots by fired_at, not all of them. The roots are in
        # (fired_at, position) order, so the latest at or before it is the first before `position` going back from
        # its fired_at, and the earliest after it the first going forward.
        roots, positions = t.roots, self._position
        at = self._fired.__getitem__
        lo = bisect_left(roots, low, key=at)
        hi = bisect_right(roots, high, lo=lo, key=at)
        mid = bisect_right(roots, fired, lo=lo, hi=hi, key=at)  # (the bounds may exclude it, at the calendar's end)
        # A story whose alerts were all withdrawn before `position` is over: passed by, as if it were not there.
        for i in range(mid - 1, lo - 1, -1):
            r = roots[i]
            if positions[r] < position:
                # Of roots alike in fired_at and position (only ever the same event taken under two keys), the
                # first taken, as it was chosen before.
                while i > lo and self._when(roots[i - 1]) == self._when(r):
                    i -= 1
                    r = roots[i]
                if self._standing(r, position) and not self._over(r):
                    return r
        for i in range(mid, hi):
            r = roots[i]
            if positions[r] < position and self._standing(r, position) and not self._over(r):
                return r
        return -1

    def _when(self, n: int) -> tuple[int, int]:
        return self._fired[n], self._position[n]


def _shifted(at: datetime, by: timedelta) -> datetime:
    """`at + by`, or the end of the calendar that way (a year-1 or year-9999 date is far from every other)."""
    try:
        return at + by
    except OverflowError:
        return (datetime.max if by > timedelta(0) else datetime.min).replace(tzinfo=UTC)
