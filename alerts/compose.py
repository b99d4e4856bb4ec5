"""What a ledger row is to tell its channel, or why it waits or is skipped: pure functions of its rows and the time."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from watchfloor.schemas.control import AlertAcknowledged
from watchfloor.schemas.events import Alert, Evidence, edition_of, fired_first_seen
from watchfloor.stream_processors.ports import DeliveryRecord

from .notice import (
    KINDS,
    REPLACEABLE,
    REPLACED,
    WITHDRAWN_UNSENT,
    EarlierStory,
    Notice,
    Restored,
    Revisions,
    Setback,
    StoryLink,
    ThreadView,
    alert_of,
    earlier_story,
    escalation,
    group_rows,
    independent_sources,
    later_alerts,
    quiet_revision,
    replaced_unsent,
    replacement_of,
    revised_again,
    revision_chain,
    standing_alerts,
    standing_for,
    state_rank,
    story_before,
    story_before_key,
    story_before_keys,
    story_period,
    story_root_of,
    thread_key,
    thread_of,
    thread_reports,
    told_row,
    withdrawn_unsent,
)
from .throttle import HELD

# The detail of a reply posted as a message of its own because its thread's first message was deleted in the
# channel: the thread goes on under it (later replies, updates of the thread's first message).
RESTARTED = "the thread starts again here"
# How the detail of a revision told quietly begins (ThreadView.quiet: a report of the alert's very time, read later,
# now leads it): no reply was posted; the row's ref is the message it rewrote, which shows the revised alert now, so
# acknowledgements, buttons, redelivery and `alerts list` go on from it, and the thread does not count it an update.
QUIET = "told quietly: its alert's message rewritten, no reply"


@dataclass(frozen=True)
class Wait:
    """Not yet: the row waits (for another row of its channel to be delivered first) until `until` at the latest."""

    until: float
    why: str
    waits_for: str | None = None  # the key of the row of its channel it waits for: woken when that one is settled


@dataclass(frozen=True)
class Skip:
    """Never sent: settled as suppressed, `why` said."""

    why: str
    replaced_by: DeliveryRecord | None = None  # the revision sent in its place
    withdrawn_by: DeliveryRecord | None = None  # the retraction that withdrew it before it was sent
    counted: bool = True  # in the pass's `suppressed`


@dataclass(frozen=True)
class Reads:
    """Rows of the row's channel outside its thread's rows (a store of an older thread key; a throttle summary) that
    the decision needs: read them (`store.deliveries(alert_ids={key}, channel=)`, the first row or None) into `read`
    and ask again."""

    keys: frozenset[str]


@dataclass(frozen=True)
class AckAsks:
    """The acknowledgements a threaded notice shows, as questions: for each, the first of the alert ids that has one
    (asked in this order, and no further once one has), from the control log. `Deliverer._answer` asks them."""

    target: tuple[str, ...]  # the message it updates: the alert it shows, and those it showed before a revision
    target_before: str  # when none of `target` has one: an earlier raising of this one (reinstated since)
    first: tuple[str, ...] | None  # the thread's first message, when it is updated too (else None)
    newest: tuple[str, ...] | None  # the thread's newest standing alert and those it revised; None: none stands
    earlier: tuple[str, ...]  # each of the thread's other standing alerts (every one asked)


@dataclass(frozen=True)
class AckAnswers:
    target: AlertAcknowledged | None = None
    target_before: AlertAcknowledged | None = None  # asked only when `target` is None
    first: AlertAcknowledged | None = None
    newest: AlertAcknowledged | None = None
    earlier: tuple[AlertAcknowledged, ...] = ()
    newest_before: AlertAcknowledged | None = None  # asked only when `newest` is None


@dataclass(frozen=True)
class Tell:
    """Send `notice`: post it (a message of its own, or a reply under `notice.thread.thread_ref`; a retraction says the
    alert is withdrawn) and update the messages its thread view names; told quietly (ThreadView.quiet), only update.
    `asks`: the acknowledgements its thread view still needs (`with_acks`); None: none."""

    notice: Notice
    asks: AckAsks | None = None


Decision = Tell | Wait | Skip | Reads


class _Missing(Exception):
    """Rows the decision needs are neither in the thread's rows nor read yet: the decision stops where the old inline
    read was, and the deliverer reads them (the chain of links it follows is known only as it goes)."""

    def __init__(self, *keys: str) -> None:
        self.keys = frozenset(keys)


def _has_row(row_of: RowOf | None, key: str) -> bool:
    """Whether `row_of` has read the row keyed `key` (or knows there is none) without asking for it."""
    if row_of is None:
        return True
    try:
        row_of(key)
    except _Missing:
        return False
    return True


def base_notice(rec: DeliveryRecord, alert: Alert) -> Notice:
    """The notice `rec` tells before its thread is placed; ValueError for a kind this version does not know."""
    if rec.kind not in KINDS:
        raise ValueError(f"unknown kind {rec.kind!r}")
    data = rec.payload or {}
    return Notice(
        key=rec.alert_id,
        kind=rec.kind,  # checked against KINDS above
        alert=alert,
        channel=rec.channel,
        group_label=str(data.get("group_label", "")),
        parent_id=data.get("parent_alert"),
        escalated_from=data.get("escalated_from"),
        reason=str(data.get("reason", "")),
        superseded_by=data.get("superseded_by"),
    )


def decide(
    rec: DeliveryRecord,
    base: Notice,
    thread: Sequence[DeliveryRecord],
    read: Mapping[str, DeliveryRecord | None],
    now: float,
    *,
    backoff: float,
    owner: str,
    updating: bool,
) -> Decision:
    """What `rec` (`base`, from `base_notice`) is to tell, from `thread` (the rows of its channel and thread key, as
    `ThreadRows.read` has them) and `read` (rows of its channel read by key, as `Reads` asked): send, wait, skip, or
    first read more rows. `backoff`: the least a wait for a row still outstanding lasts; `owner`: this dispatcher (rows
    another one is sending now are told first); `updating`: the channel can rewrite its messages."""
    try:
        return _decide(rec, base, thread, read, now, backoff, owner, updating)
    except _Missing as e:
        return Reads(e.keys)


def _decide(
    rec: DeliveryRecord,
    base: Notice,
    thread: Sequence[DeliveryRecord],
    read: Mapping[str, DeliveryRecord | None],
    now: float,
    backoff: float,
    owner: str,
    updating: bool,
) -> Decision:
    alert = base.alert
    by_key = {r.alert_id: r for r in thread}

    def row_of(key: str) -> DeliveryRecord | None:
        if key in by_key:
            return by_key[key]
        if key not in read:  # (a store of an older thread key)
            raise _Missing(key)
        return read[key]

    # Only what cannot be in the channel: never posted (no ref), and no attempt that may have got through.
    if rec.kind in REPLACEABLE and not rec.unsure and not rec.ref:
        later = revised_again(thread, rec)
        if later is not None:
            # Named by its alert id, as `alerts list` shows it (its delivery key alone matched no row there)
            told = alert_of(later.payload)
            by = f"alert {told.id} (delivery {later.alert_id})" if told is not None else later.alert_id
            return Skip(f"{REPLACED}: {by} revises it and goes instead", later)
        gone = withdrawn_unsent(thread, rec)
        if gone is not None:
            return Skip(f"{WITHDRAWN_UNSENT}: {gone.alert_id} withdraws it", withdrawn_by=gone)
    if rec.kind == "alert":
        held = (rec.payload or {}).get("revises_held")
        own = group_rows(thread, rec, alert)
        story = _story_link(rec, thread, now, backoff)
        if isinstance(story, Wait):
            return story
        return Tell(
            dataclasses.replace(
                base,
                earlier=earlier_of(own, rec, alert, row_of),
                later=later_alerts(own, rec),
                revises_held=held if isinstance(held, str) else None,
                story=story,
            )
        )
    if rec.parent_id is None:
        return Tell(base)

    def standing(row: DeliveryRecord | None) -> DeliveryRecord | None:
        """What the channel has for `row`: for an alert or follow-up replaced unsent, the revision sent in its
        place (a reply or withdrawal goes to that one)."""
        return replacement_of(thread, row) if row is not None and replaced_unsent(row) else row

    parent = told_row(row_of, rec.parent_id)
    if rec.kind == "retraction" and parent is not None and parent.status == HELD:
        return _withdraw_held(rec, base, read, now, backoff)
    if parent is not None and replaced_unsent(parent) and rec.kind == "revision":
        if parent.kind == "alert":  # this revision stands for an alert never sent: the alert of its own thread
            story = _story_link(parent, thread, now, backoff)  # (and of the story that alert was a new alert of)
            if isinstance(story, Wait):
                return story
            return Tell(
                dataclasses.replace(
                    base,
                    kind="alert",
                    parent_id=None,
                    escalated_from=None,  # (a message of its own: no "was" the channel was told; review 22, F4)
                    earlier=earlier_story(group_rows(thread, rec, alert), alert, story_period(rec.payload)),
                    later=later_alerts(group_rows(thread, rec, alert), rec),
                    story=story,
                )
            )
        # ... for a follow-up never sent: this is that follow-up, under the thread's first message
        base = dataclasses.replace(
            base,
            kind="followup",
            parent_id=(parent.payload or {}).get("parent_alert"),
            escalated_from=(parent.payload or {}).get("escalated_from"),
        )
        parent = standing(told_row(row_of, parent.parent_id) if parent.parent_id is not None else None)
    else:
        parent = standing(parent)
    if parent is not None and parent.alert_id != rec.parent_id and (told := alert_of(parent.payload)):
        base = dataclasses.replace(base, parent_id=told.id)  # it revises what the channel was told
    if parent is None or parent.status in ("expired", "suppressed") or (parent.status != "sent" and not parent.ref):
        if parent is not None and parent.status == "outstanding":
            until = max(parent.next_attempt_at, parent.not_before, now + backoff)
            return Wait(until, f"waiting for {parent.alert_id} to be delivered first", parent.alert_id)
        if rec.kind == "retraction":
            # (the withdrawal of one withdrawn before it was sent is counted with it: "withdrawn before sending")
            unsent = parent is not None and parent.detail.startswith(WITHDRAWN_UNSENT)
            return Skip("nothing to withdraw: the alert never reached this channel", counted=not unsent)
        # its thread never reached the channel: a message of its own, with no "was" it was never told
        return Tell(dataclasses.replace(base, escalated_from=None))
    root = parent
    for _ in range(10_000):  # a revision of a follow-up replies under the thread's first message (no cycles)
        if root.kind == "alert" or root.parent_id is None:
            break
        up = told_row(row_of, root.parent_id)
        if up is not None and up.kind == "followup" and replaced_unsent(up) and up.parent_id is not None:
            up = told_row(row_of, up.parent_id)  # a follow-up never sent: its revision stood for it, go past
        up = standing(up)
        if up is None or not up.ref:
            break
        root = up
    # The message to rewrite: the one that shows the alert revised. A revision rewrites the message of the alert
    # it revises, so after a chain of revisions that is still the chain's first message (the thread's first,
    # or a follow-up), not the reply of the last revision (which left the first message showing a replaced one).
    shown, chain = parent, [parent]
    for _ in range(10_000):
        if base.kind != "revision" or shown.kind != "revision" or shown.parent_id is None:
            break
        up = told_row(row_of, shown.parent_id)
        if up is None or not up.ref:
            break
        shown = up
        chain.append(shown)
    # Its own thread's rows: one rule and group can hold several threads, each with its own state.
    rows = thread_of(thread, root.alert_id)
    # A thread whose first message was deleted goes on under the reply posted again in its place.
    again = [r for r in rows if r.status == "sent" and r.ref and r.detail.startswith(RESTARTED)]
    if again and again[-1].alert_id != base.key:
        if shown.alert_id == root.alert_id:
            shown = again[-1]
        root = again[-1]
    # Replies of the thread another dispatcher is sending right now, claimed before this one: told first (review
    # 22, F2: two processes sending two HIGH follow-ups at once both said "(was MEDIUM)" and both broadcast)
    flying = {
        r.alert_id
        for r in rows
        if r.status == "outstanding"
        and r.lease_owner not in (None, owner)
        and r.lease_until is not None
        and r.lease_until > now
        and (r.order_at, r.seq) < (rec.order_at, rec.seq)
    }
    # A channel that can rewrite its messages is told a revision by a report of the alert's very time by
    # rewriting the message that shows the alert, with no reply (QUIET); the others as any revision.
    quiet = quiet_revision(base.kind, alert.detection) and updating
    notice = with_thread(base, shown, root, rows, flying, quiet)
    # Told quietly, it is never in the channel on its own, whatever an earlier attempt did (its ref is the message
    # it rewrites): a later revision of its alert, sent already or still to be, goes in its place, and a retry
    # never writes this older alert back over the message that shows that one.
    later = revised_again(thread, rec, sent=True) if quiet else None
    if later is not None:
        told = alert_of(later.payload)
        by = f"alert {told.id} (delivery {later.alert_id})" if told is not None else later.alert_id
        return Skip(f"{REPLACED}: {by} revises it and goes instead", later)
    view = notice.thread
    if view is None:
        return Tell(notice)
    joined = story_root_of(root) if not root.detail.startswith(RESTARTED) else None
    if joined is not None and (first_of_story := by_key.get(joined)) is not None and first_of_story.ref:
        # a reply in the thread of a story of several groups (thread_by), under the story's first message: Slack
        # threads one level deep, so the replies of a group's alert told in that thread go under it too
        view = dataclasses.replace(view, thread_ref=first_of_story.ref)
        notice = dataclasses.replace(notice, thread=view)
    # acknowledged on the message, under any alert it showed before a late report revised it
    ids = [view.target.id, *(al.id for r in chain if (al := alert_of(r.payload)) is not None)]
    first_ids: tuple[str, ...] | None = None
    if view.first is not None:  # the first message is updated too: it keeps its acknowledgement
        first_alert = alert_of(root.payload)
        known = [a for r in rows if (a := alert_of(r.payload)) is not None]
        revisions = revision_chain(first_alert, known) if first_alert is not None else []
        first_ids = tuple(dict.fromkeys([view.first.id, *(a.id for a in reversed(revisions))]))
    newest, earlier = _standing_ids(view, [base.alert, *(a for r in rows if (a := alert_of(r.payload)))])
    asks = AckAsks(
        target=tuple(dict.fromkeys(ids)),
        target_before=view.revised_by or view.target.id,
        first=first_ids,
        newest=newest,
        earlier=earlier,
    )
    return Tell(dataclasses.replace(notice, thread=first_place(view, root, thread, by_key, row_of)), asks)


def _story_link(
    rec: DeliveryRecord, thread: Sequence[DeliveryRecord], now: float, backoff: float
) -> StoryLink | Wait | None:
    """The story a new alert of another group is told in (`story_root`): its first message's, once that is sent (it
    waits while it is not); None when it starts its thread, or that message never reached the channel (given up,
    suppressed: it is then a message of its own)."""
    key = story_root_of(rec)
    if key is None:
        return None
    root = next((r for r in thread if r.alert_id == key), None)
    if root is None or root.status in ("expired", "suppressed"):
        return None
    if root.status == "outstanding" and not root.ref:
        until = max(root.next_attempt_at, root.not_before, now + backoff)
        return Wait(
            until, f"waiting for {root.alert_id}, its story's first alert, to be delivered first", root.alert_id
        )
    data = rec.payload or {}
    first, own = alert_of(root.payload), alert_of(rec.payload)
    return StoryLink(
        alert_id=str(data.get("story_alert") or (first.id if first is not None else root.alert_id)),
        group_label=str(data.get("story_group_label") or ""),
        ref=root.ref if root.status == "sent" else "",
        same_group=first is not None and own is not None and first.detection.group == own.detection.group,
    )


def _standing_ids(view: ThreadView, known: Sequence[Alert]) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """Whose acknowledgements the thread's first message shows once it shows the thread's state: (its newest standing
    alert and the alerts that one revised, the desk took that story; its earlier standing ones). (None, ()): none
    stands."""
    if view.newest_id is None:
        return None, ()
    by_id = {a.id: a for a in known}
    ids = [view.newest_id]
    up = by_id.get(view.newest_id)
    while up is not None and up.detection.revises is not None and up.detection.revises not in ids:
        ids.append(up.detection.revises)
        up = by_id.get(up.detection.revises)
    return tuple(ids), tuple(i for i in view.standing_ids if i not in ids)


def with_acks(tell: Tell, answers: AckAnswers) -> Notice:
    """`tell`'s notice with the acknowledgements its thread view shows, `answers` to its `asks`."""
    notice, asks = tell.notice, tell.asks
    view = notice.thread
    if asks is None or view is None:
        return notice
    if answers.target is not None:
        view = dataclasses.replace(view, acknowledged=answers.target)
    elif answers.target_before is not None:
        view = dataclasses.replace(view, acknowledged_before=answers.target_before)  # (the alert it shows, reinstated)
    if asks.first is not None and answers.first is not None:
        view = dataclasses.replace(view, first_acknowledged=answers.first)
    if asks.newest is not None:
        view = dataclasses.replace(
            view,
            newest_acknowledged=answers.newest,
            earlier_acknowledged=answers.earlier,
            newest_acknowledged_before=answers.newest_before,
        )
    return dataclasses.replace(notice, thread=view)


def _withdraw_held(
    rec: DeliveryRecord, base: Notice, read: Mapping[str, DeliveryRecord | None], now: float, backoff: float
) -> Decision:
    """The withdrawal of an alert the channel's throttle held and a summary listed (intake.plan_retraction): a
    message of its own, naming the alert, after that summary (review 13, F2). Not a reply under the summary:
    that is one message for many alerts, which no notifier threads (an email's In-Reply-To, a file line)."""
    summary = str((rec.payload or {}).get("summary") or "")
    if summary and summary not in read:
        raise _Missing(summary)
    told = read[summary] if summary else None
    if told is None or told.status in ("expired", "suppressed"):
        return Skip("nothing to withdraw: the throttle summary that listed it did not reach this channel")
    if told.status != "sent":
        until = max(told.next_attempt_at, told.not_before, now + backoff)
        why = f"waiting for the throttle summary {told.alert_id} that listed it to be delivered first"
        return Wait(until, why, told.alert_id)
    why = base.reason or "a later report changed this alert"
    return Tell(dataclasses.replace(base, reason=f"{why} (it was listed in this channel's throttle summary)"))


def may_hold_reply(rec: DeliveryRecord, notice: Notice, wait: float, hold_replies: bool) -> bool:
    """Whether `rec`'s notice is a reply its channel's `update_wait` (`wait`) may hold: a follow-up or revision in a
    thread the channel has, never posted. A thread's first message, a withdrawal, and a reply that may already be in
    the channel are never held."""
    if wait <= 0 or not hold_replies or notice.kind not in ("followup", "revision") or notice.thread is None:
        return False
    return not (rec.unsure or rec.ref)


def reply_held_until(rec: DeliveryRecord, thread: Sequence[DeliveryRecord], wait: float, now: float) -> float | None:
    """When a reply `may_hold_reply` may go (`wait` after the OLDEST reply of its thread still pending was raised, so
    a stream of newer ones cannot starve it), from its thread's rows read now; None: now."""
    # The replies of its thread still pending when it was raised: the ones still outstanding, and the ones sent
    # since (the oldest of a burst goes first, in the same cycle as the rest: they share its bound).
    pending = [
        r.created_at
        for r in thread
        if r.kind in ("followup", "revision")
        and r.created_at <= rec.created_at
        and (r.status == "outstanding" or r.updated_at >= rec.created_at)
    ]
    until = min([rec.created_at, *pending]) + wait
    return until if now < until else None


# Reads a row of the channel by its delivery key, whatever its thread key (a row not read yet: _Missing, for Reads).
RowOf = Callable[[str], DeliveryRecord | None]


def first_place(
    view: ThreadView,
    root: DeliveryRecord,
    rows: Sequence[DeliveryRecord],
    by_key: Mapping[str, DeliveryRecord],
    row_of: RowOf | None = None,
) -> ThreadView:
    """`view` with what the thread's first message (`root`) said of its story's place when it was posted: its "Again:
    …" (EarlierStory) and "Sent late: …" (LaterAlerts) lines, worked out again from the rows of its channel and
    thread key as they stood then (those sent no later than it), so that its update keeps them (trial 46, MED-3). A
    first message that is a reply posted on its own (RESTARTED) said neither."""
    if root.status != "sent" or root.detail.startswith(RESTARTED):
        return view
    first = root.kind == "alert"
    if root.kind == "revision" and root.parent_id is not None:  # a revision sent in place of an alert never sent
        up = by_key.get(root.parent_id)
        first = up is not None and up.kind == "alert" and replaced_unsent(up)
    alert = alert_of(root.payload)
    if not first or alert is None:
        return view
    rows = group_rows(rows, root, alert)
    then = [r for r in rows if r.alert_id == root.alert_id or (r.status == "sent" and r.updated_at <= root.updated_at)]
    # "Again: …" names the earlier story as the channel has them now: an older story sent after this message (a late
    # report) sits between it and the one its post named, and its line was rewritten to say so (retold_story); the
    # update keeps that, not the line as posted (outside trial 64, LOW-3). "Sent late: …" stays as posted: those
    # alerts did reach the channel first.
    now = [r for r in rows if r.alert_id == root.alert_id or r.status == "sent"]
    return dataclasses.replace(
        view, first_earlier=earlier_of(now, root, alert, row_of), first_later=later_alerts(then, root)
    )


@dataclass(frozen=True)
class Retold:
    """The first message of a later story whose "Again: …" line a story sent after it changes: the row of that
    message, the line it shows (`was`) and the line that is true now (`now`)."""

    row: DeliveryRecord
    was: EarlierStory
    now: EarlierStory


def retold_story(rows: Sequence[DeliveryRecord], key: str) -> Retold | None:
    """After the new alert keyed `key` went to the channel (`rows`: its channel's and thread key's, as they are now),
    the first message of the next story of its rule and group in event time that the channel was sent before it,
    when that message's "Again: …" line named an earlier story: it now names this one (outside trial 64, LOW-3: a late
    report's story of 21 Oct was posted after the one of 23 Oct, whose line still named 18 Oct's as the last). None
    when there is none (the usual: stories reach a channel in the order they fired) or its line stays true."""
    rec = next((r for r in rows if r.alert_id == key), None)
    alert = alert_of(rec.payload) if rec is not None else None
    if rec is None or alert is None or rec.kind != "alert":
        return None
    rows = group_rows(rows, rec, alert)
    since = alert.detection.fired_at
    later: list[tuple[datetime, int, DeliveryRecord, Alert]] = []
    for r in rows:
        if r.kind != "alert" or r.status != "sent" or not r.ref or r.alert_id == key or r.detail.startswith(RESTARTED):
            continue
        told = alert_of(r.payload)
        if told is not None and told.detection.fired_at > since:
            later.append((told.detection.fired_at, r.seq, r, told))
    if not later:
        return None
    _, _, root, told = min(later, key=lambda x: (x[0], x[1]))
    before = [r for r in rows if r.alert_id != key]
    was, now = earlier_of(before, root, told), earlier_of(rows, root, told)
    if was is None or now is None or (was.alert_id, was.count, was.within) == (now.alert_id, now.count, now.within):
        return None  # (a message with no such line says nothing false: none is added)
    return Retold(root, was, now)


def earlier_of(
    rows: Sequence[DeliveryRecord], rec: DeliveryRecord, alert: Alert, row_of: RowOf | None = None
) -> EarlierStory | None:
    """What the message of `rec`, a new alert's row, says of its rule and group's earlier story: the one its channel
    was told (earlier_story, from the channel's `rows`), else the one intake decided for every channel (story_before:
    a channel that holds no message of it, outside trial 62, L3). That one's line links the story's first message
    when the channel has it under another thread key (`row_of`: the rule's `thread_by` changed since that story was
    posted, session 42's leftover of outside trial 74, F3: the line had lost its "(its message)" link)."""
    period = story_period(rec.payload)
    # The group's earlier stories whose first messages this channel has under another thread key (`thread_by` changed
    # since they were posted: outside trial 79, F2, the count restarted and the line lost its link): read by key.
    keys = [k for k in story_before_keys(rec.payload) if k != rec.alert_id]
    have = {r.alert_id for r in rows}
    elsewhere = [k for k in keys if k not in have] if row_of is not None else []
    unread = [k for k in elsewhere if not _has_row(row_of, k)]
    if unread:
        raise _Missing(*unread)
    moved = [r for k in elsewhere if row_of is not None and (r := row_of(k)) is not None and r.kind == "alert"]
    earlier = earlier_story([*moved, *rows], alert, period) if moved else earlier_story(rows, alert, period)
    named = story_before(rec.payload, alert, period)
    last = story_before_key(rec.payload)
    if earlier is not None and named is not None and last is not None:
        # (the last story's first message is under another key: its newest alert is intake's, not that row's alert)
        row = next((r for r in moved if r.alert_id == last), None)
        if row is not None and row.ref and row.ref == earlier.ref:
            earlier = dataclasses.replace(
                earlier, alert_id=named.alert_id, fired_at=named.fired_at, within=named.within
            )
    if earlier is None:
        earlier = story_before(rec.payload, alert, period)
        key = story_before_key(rec.payload) if earlier is not None and row_of is not None else None
        first = row_of(key) if row_of is not None and key is not None else None
        if earlier is not None and first is not None and first.status == "sent" and first.ref:
            earlier = dataclasses.replace(earlier, ref=first.ref)
    if earlier is not None and story_root_of(rec) is not None:
        # (told in the thread of a story of several groups: not "a new story" there, outside trial 74, F1)
        return dataclasses.replace(earlier, in_story=True)
    return earlier


def with_thread(
    base: Notice,
    parent: DeliveryRecord,
    root: DeliveryRecord,
    rows: list[DeliveryRecord],
    flying: Collection[str] = (),
    quiet: bool = False,
) -> Notice:
    """`base` placed in its thread: replies under `root`, updates `parent` (and `root` too, when that is another
    message) with the thread's state: its newest standing alert in event time (ThreadView). `quiet`: told by that
    update alone, no reply (ThreadView.quiet)."""
    shown = alert_of(parent.payload)
    if shown is None:
        return base
    sent = [r for r in rows if r.status == "sent" and r.alert_id != base.key]
    own_seq = next((r.seq for r in rows if r.alert_id == base.key), max((r.seq for r in rows), default=0) + 1)
    told = [(r.seq, a) for r in sent if r.kind != "retraction" and (a := alert_of(r.payload)) is not None]
    withdrawn: dict[str, str] = {}  # alert id -> why it was withdrawn
    # (seq, the alert withdrawn or the revision, the reason of a withdrawal, a revision): what may have taken the
    # thread down (Setback)
    changes: list[tuple[int, Alert, str, bool]] = []
    for r in sent:
        if r.kind == "revision" and (a := alert_of(r.payload)) is not None:
            changes.append((r.seq, a, "", True))
        if r.kind == "retraction":
            why = str((r.payload or {}).get("reason") or "withdrawn")
            gone = alert_of(r.payload)
            if gone is not None:
                changes.append((r.seq, gone, why, False))
            for i in (r.parent_id, gone.id if gone is not None else None):
                if i:
                    withdrawn.setdefault(i, why)
    before = [a for _, a in told]  # what the channel was told before this notice
    # What the reader has in the channel before this notice, for "(was MEDIUM)": decided here, at sending, not at
    # intake, because rows are sent in event time, not in the log order intake saw them in (review 21, F6: a
    # follow-up broadcast as an escalation of a thread a revision sent before it had already made HIGH).
    also = [(r.seq, a) for r in rows if r.alert_id in flying and r.kind != "retraction" and (a := alert_of(r.payload))]
    shown_before = (sorted(told + also, key=lambda x: x[0]), dict(withdrawn))
    # The rest of this notice's change, still to be told (one correction revising two alerts of the thread, or
    # revising one and withdrawing another, is one change of the group's history, told a reply at a time): counted
    # as told, so that no reply states a thread the change has already left (outside trial 10, F2: the first of two
    # revisions said "MEDIUM (unconfirmed) · 3 independent sources", the withdrawn report counted in the other alert).
    change = next((_change(r) for r in rows if r.alert_id == base.key), 0)
    for r in rows if change else ():
        if r.status != "outstanding" or r.alert_id == base.key or _change(r) != change:
            continue
        if r.kind == "retraction":
            gone = alert_of(r.payload)
            why = str((r.payload or {}).get("reason") or "withdrawn")
            for i in (r.parent_id, gone.id if gone is not None else None):
                if i:
                    withdrawn.setdefault(i, why)
            if gone is not None:
                changes.append((r.seq, gone, why, False))
        elif r.kind in ("revision", "followup") and (a := alert_of(r.payload)) is not None:
            told.append((r.seq, a))
            if r.kind == "revision":
                changes.append((r.seq, a, "", True))
    # revisions replaced before they were sent: a revision of one of them replaces what it stood for
    passed = [a for r in rows if replaced_unsent(r) and (a := alert_of(r.payload)) is not None]
    if base.kind in ("followup", "revision"):
        was = [a.detection.severity for _, a in standing_alerts(*shown_before, passed)]
        base = dataclasses.replace(base, escalated_from=escalation(was, base.alert.detection.severity))
    if base.kind == "retraction":
        for i in (base.parent_id, base.alert.id):
            if i:
                withdrawn[i] = base.reason or "withdrawn"
        changes.append((own_seq, base.alert, base.reason or "withdrawn", False))
    else:
        told.append((own_seq, base.alert))
        if base.kind == "revision":
            changes.append((own_seq, base.alert, "", True))
    target = shown
    if base.kind in ("followup", "revision"):
        target = standing_for(shown, before, passed)  # what the message shows now: the alert's last revision sent
    standing = standing_alerts(told, withdrawn, passed)  # the alerts the thread rests on now
    # The reports of alerts late reports revised since they were told: they still stand, held back as repeats of the
    # revisions (reports_told_before): the thread counts them, and a message that showed them keeps them.
    revisions = Revisions([a for _, a in told], passed)  # (indexed once: a long thread asks for many chains)
    standing_keys = {(a.id, a.detection.revision) for _, a in standing}
    held = []
    for _, a in told:
        if (a.id, a.detection.revision) not in standing_keys:
            now = revisions.standing_for(a)
            if (now.id, now.detection.revision) in standing_keys:
                held.append(revisions.told_before(a, now))
    newest_now = max(standing, key=lambda x: (x[1].detection.fired_at, x[0]))[1] if standing else None
    newest = newest_now or (base.alert if base.kind != "retraction" else target)
    first_alert = alert_of(root.payload)
    first: Alert | None = None
    first_withdrawn: str | None = None
    first_told: tuple[Evidence, ...] = ()
    if first_alert is not None:
        first_now = revisions.standing_for(first_alert)  # what the first message shows
        first_told = revisions.told_before(first_alert, first_now)
        first_withdrawn = withdrawn.get(first_now.id)
        if first_withdrawn is None and first_now.id == first_alert.id:
            first_withdrawn = withdrawn.get(root.alert_id)  # (withdrawn by its delivery key)
        if parent.alert_id != root.alert_id:  # a reply changes: the first message too
            first = first_now
    # The thread's replies: not a revision that went as its first message, in place of an alert never sent (trial 25,
    # F5: counted, "2 updates" under a thread of one reply)
    by_key = {r.alert_id: r for r in rows}

    def first_message(r: DeliveryRecord) -> bool:
        up = told_row(by_key.get, r.parent_id) if r.kind == "revision" and r.parent_id is not None else None
        return up is not None and up.kind == "alert" and replaced_unsent(up)

    # (nor a revision told quietly: it rewrote a message, and posted none)
    replies = sum(1 for r in sent if r.kind != "alert" and not first_message(r) and not r.detail.startswith(QUIET))
    replies += 0 if quiet else 1
    view = ThreadView(
        thread_ref=root.ref,
        target_key=parent.alert_id,
        target_ref=parent.ref,
        target=target,
        severity=newest.detection.severity,
        confidence=newest.detection.confidence,
        sources=independent_sources((a.detection for _, a in standing), held),
        reports=thread_reports((a.detection for _, a in standing), held),
        updates=replies,
        withdrawn=(base.reason or "withdrawn") if base.kind == "retraction" else None,
        revised_by=base.alert.id if base.kind == "revision" else None,
        target_id=shown.id,
        first_key=root.alert_id,
        first_id=first_alert.id if first_alert is not None else root.alert_id,
        first=first,
        first_withdrawn=first_withdrawn,
        newest_id=newest_now.id if newest_now is not None else None,
        newest_fired_at=newest_now.detection.fired_at if newest_now is not None else None,
        newest_first_seen=newest_now is not None
        and fired_first_seen(newest_now.detection.evidence, newest_now.detection.fired_at),
        standing_ids=tuple(
            dict.fromkeys(a.id for _, a in sorted(standing, key=lambda x: (x[1].detection.fired_at, x[0])))
        ),
        told_reports=revisions.told_before(shown, base.alert if base.kind == "revision" else target),
        first_told_reports=first_told,
        quiet=quiet,
        setback=_setback(changes, told, newest) if newest_now is not None else None,
        restored=_restored(base.alert, changes) if base.kind in ("followup", "revision") else (),
        of_group=first_alert is not None
        and bool(root.thread_key)
        and root.thread_key != thread_key(first_alert.detection.rule, first_alert.detection.group),
    )
    return dataclasses.replace(base, thread=view)


CORRECTED_PREFIX = "corrected by the publisher: "


def _restored(alert: Alert, changes: Sequence[tuple[int, Alert, str, bool]]) -> tuple[Restored, ...]:
    """The reports of `alert` that are a later edition of an item whose earlier text an alert of the thread rested on
    until a publisher's correction withdrew it (`changes`, as _setback takes them): the item made the claim again
    (ThreadView.restored). Editions of one item share its id before `#edition-…` (schemas.events.edition_of)."""
    withdrawn: dict[str, tuple[str, str]] = {}  # item id -> (alert withdrawn, the withdrawal's reason)
    for _, gone, reason, revision in sorted(changes, key=lambda c: c[0]):
        # (the engine's reason of a correction, engine/corrections.py; a restatement revises: nothing taken back)
        if revision or not reason.startswith(CORRECTED_PREFIX):
            continue
        for ev in gone.detection.evidence:
            withdrawn[edition_of(ev.event_id) or ev.event_id] = (gone.id, reason)
    gone_ids = {ev.event_id for _, gone, _, revision in changes if not revision for ev in gone.detection.evidence}
    restored = [
        Restored(*withdrawn[item])
        for ev in alert.detection.evidence
        if ev.event_id not in gone_ids and (item := edition_of(ev.event_id)) is not None and item in withdrawn
    ]
    return tuple(dict.fromkeys(restored))


def _setback(
    changes: Sequence[tuple[int, Alert, str, bool]], told: Sequence[tuple[int, Alert]], now: Alert
) -> Setback | None:
    """The latest of a thread's `changes` (seq, the alert withdrawn or the revision, a withdrawal's reason, whether a
    revision) that took down an alert standing above the state of `now`, its newest standing alert: a withdrawal, or
    a revision to a lower state (ThreadView.setback). `told`: (seq, alert) of what the channel was told, where the
    alert a revision replaced is found."""
    floor = state_rank(now.detection.severity, now.detection.confidence)
    for seq, alert, reason, revision in sorted(changes, key=lambda c: c[0], reverse=True):
        det = alert.detection
        if not revision:
            if state_rank(det.severity, det.confidence) > floor:
                return Setback(alert.id, det.severity, det.confidence, reason=reason)
            continue
        replaced = [(s, a) for s, a in told if a.id == det.revises and s < seq]
        if not replaced:
            continue
        old = max(replaced, key=lambda x: x[0])[1].detection
        was = state_rank(old.severity, old.confidence)
        if was > floor and was > state_rank(det.severity, det.confidence):
            return Setback(det.revises or "", old.severity, old.confidence, revision=det)
    return None


def _change(row: DeliveryRecord) -> int:
    """The change of its group's history a revision, follow-up or withdrawal row tells of (Detection.revision,
    Retraction.revision), or 0: an alert raised in order, a row of another kind, a withdrawal enqueued before the
    ledger kept its change."""
    data = row.payload or {}
    if row.kind == "retraction":
        change = data.get("change")
        return change if isinstance(change, int) else 0
    if row.kind not in ("revision", "followup"):
        return 0
    alert = alert_of(data)
    return alert.detection.revision if alert is not None else 0
