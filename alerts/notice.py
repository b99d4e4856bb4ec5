"""What a channel is told: a `Notice` (a new alert, a follow-up, a revision or a withdrawal) and the thread it
belongs to. Pure data and pure functions; the dispatcher builds notices, the notifiers render them.

A thread is one story's alerts in one channel (a story: the alerts of one rule and group while the first of them is
open, within its rule's window or realert period in event time, and one of them stands (once all are withdrawn the
story is over: the next alert starts another), decided for all channels at once by alerts.intake). Its first alert in
the channel is a message of its own; every later one replies under it and updates it with the thread's current state:
the severity and confirmation of its newest standing alert in event time, and the independent sources of its standing
alerts (ThreadView). An alert stands until a revision replaces it (then its latest revision stands for it) or a
retraction withdraws it; a withdrawn first alert's message keeps saying it was withdrawn, and names the alert the
thread now stands on. A revision (a detection that `revises` an earlier one) and a retraction reply under the alert
they change and update it; when that is a reply, the first message is updated too. Channels without threads (console,
file, webhook) get a line, record or payload that names the alert it updates.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import orjson

from watchfloor.schemas.control import AlertAcknowledged
from watchfloor.schemas.events import (
    INPUT_ALERT,
    SEVERITY_RANK,
    Alert,
    Detection,
    Evidence,
    dated_ahead,
    fired_first_seen,
    fired_time_text,
)
from watchfloor.schemas.rules import format_elapsed
from watchfloor.schemas.timefmt import utc_text
from watchfloor.stream_processors.ports import DeliveryRecord

Kind = Literal["alert", "followup", "revision", "retraction"]
KINDS: tuple[Kind, ...] = ("alert", "followup", "revision", "retraction")
DIGEST_KIND = "digest"  # a ledger row that is a digest message (alerts.digest), not a notice of one alert
# A ledger row that makes a channel's messages of an alert show its acknowledgement (recorded by `alerts ack`, another
# channel's button): one per `alert.acknowledged` event and channel holding the alert's message (alerts.delivery).
ACK_KIND = "ack"
# The detail of such a row not shown because the alert was raised again after the acknowledgement (reinstated: a later
# change of its group's history raised its id again): its messages show that raising, which the desk acknowledges anew.
ACK_NOT_SHOWN_REINSTATED = "not shown: the alert was reinstated after it"
DEFAULT_OPEN = timedelta(days=1)  # how long an alert of a rule unknown to the catalog takes follow-ups
DEFAULT_LATENESS = timedelta(days=7)  # the engine's lateness for packs that do not say (engine.eventtime)
ESCALATION = SEVERITY_RANK["high"]  # a follow-up reaching this rank (or above) for the first time escalates


@dataclass(frozen=True)
class AlertCatalog:
    """What the rules say about presenting their alerts: entity names for groups, how long an alert stays open.

    Built by the wiring from the loaded rule packs; empty means ids as they are and a one-day open period."""

    entity_names: Mapping[str, str] = field(default_factory=dict)
    open_periods: Mapping[str, timedelta] = field(default_factory=dict)
    entity_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # id -> aliases, spellings of `where`
    # the rule packs' allowed lateness: how far behind the newest a report is still on time (what stories keep)
    lateness: timedelta = DEFAULT_LATENESS
    # rule -> its `corroborate.within`, of rules that corroborate: how far back a confirmation's reports may reach
    corroboration_windows: Mapping[str, timedelta] = field(default_factory=dict)
    # The rule ids and tags of the loaded packs (empty: not known), which stored subscriptions are checked against.
    rules: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    # rule -> its `thread_by` keys, of rules that thread by fewer keys than they group by (docs/rules.md): the groups
    # that share those keys' values are one story in a channel, one thread (ledger_thread).
    thread_by: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def ledger_thread(self, rule: str, group: Mapping[str, str]) -> str:
        """The delivery ledger's thread key of an alert of `rule` and `group`: its rule and group's (thread_key), or,
        for a rule with `thread_by`, its rule and those keys' values, shared by every group of that story."""
        keys = self.thread_by.get(rule)
        if keys is None:
            return thread_key(rule, group)
        return thread_key(rule, {k: v for k, v in group.items() if k in keys})

    def threads_groups(self, rule: str) -> bool:
        """Whether a thread of `rule` may hold alerts of several groups (it has `thread_by`)."""
        return rule in self.thread_by

    def open_period(self, rule: str) -> timedelta:
        return self.open_periods.get(rule, DEFAULT_OPEN)

    def confirmation_reach(self, rule: str) -> timedelta:
        """How far back a confirmed alert of `rule` may continue the story its earliest report began (intake.Stories):
        its `corroborate.within`; nothing for a rule that does not corroborate."""
        return self.corroboration_windows.get(rule, timedelta(0))

    def group_label(self, group: Mapping[str, str]) -> str:
        """The group by entity names ("Russia, North Korea"), not as `party=RUS`; ids without a name stay."""
        return ", ".join(self.entity_names.get(v, v) for v in group.values())


@dataclass(frozen=True)
class Setback:
    """What last took a thread down (outside trial 62, L6): the withdrawal, or the revision to a lower state, of an
    alert that stood above the state the thread is at now. The thread's first message says it beside the new state,
    so "Updated · now MEDIUM (unconfirmed)" does not hide why a HIGH story fell back."""

    alert_id: str  # the alert withdrawn or revised, as `alerts list` names it
    severity: str  # ... and its severity and confirmation then
    confidence: str | None
    reason: str = ""  # a withdrawal's reason (the engine's English; notifiers word it)
    revision: Detection | None = None  # a revision's new alert (its `cause` says why): None for a withdrawal


@dataclass(frozen=True)
class Restored:
    """A report a publisher took back and then made again (outside trial 64, LOW-5): the item an alert of the thread
    rested on was edited to deny it (the alert withdrawn, "corrected by the publisher: SOURCE edited item ITEM …"), and
    a later edition of the same item, which the notice's alert rests on, says it again."""

    alert_id: str  # the alert the correction withdrew
    reason: str  # ... and its withdrawal's reason, which names the publisher and the item (notifiers/reasons.py)


def state_rank(severity: str, confidence: str | None) -> tuple[int, int]:
    """How high a severity and confirmation stand: by severity, then confirmed above unconfirmed."""
    return SEVERITY_RANK.get(severity, -1), 0 if confidence == "unconfirmed" else 1


@dataclass(frozen=True)
class ThreadView:
    """The message a notice replies under and updates, and what that message should say now.

    The thread's state (`severity`, `confidence`) is that of its newest standing alert in event time (fired_at, then
    ledger seq): of the alerts sent in the thread and the notice's own, each replaced by its latest revision, the
    withdrawn ones left out. A late report that revises an older alert (a MEDIUM one, say) leaves a thread whose
    newest alert is HIGH at HIGH. Its `sources` are those of the same standing alerts: a withdrawn alert's reports
    no longer support the story, and a replaced alert's count as its latest revision's, with the reports told before
    a late report's revision (reports_told_before: held back as repeats, they still stand)."""

    thread_ref: str  # channel reference of the thread's first message (replies go under it)
    target_key: str  # ledger key of the message to update: the thread's first alert, or the alert revised
    target_ref: str
    target: Alert  # what that message shows (its alert's latest revision sent), re-rendered from the state below
    severity: str  # the thread's current severity: its newest standing alert's
    confidence: str | None  # ... and that alert's confirmation
    sources: int  # independent sources of the thread's standing alerts (this one's too, unless it is withdrawn)
    updates: int  # replies in the thread, this one included
    # Reports (documents) the same standing alerts rest on (thread_reports): several of one source when corroboration
    # counted documents of one outlet (`distinct: document`) or copies of one story, which Slack then says ("2 reports
    # from 1 source", not "1 independent source" beside a confirmation: outside trial 57, MED-3).
    # 0: not known (a view built without it), the sources alone are said.
    reports: int = 0
    withdrawn: str | None = None  # for a withdrawal: why the target alert was withdrawn
    revised_by: str | None = None  # the alert that replaced the target, when it was revised
    acknowledged: AlertAcknowledged | None = None  # who acknowledged the target: its message keeps saying so
    target_id: str = ""  # the alert id of the message to update, as `alerts list` shows it (its key may be another)
    first_key: str = ""  # ledger key of the thread's first message
    first_id: str = ""  # the alert id of the thread's first alert, as `alerts list` shows it
    # When the message to update is a reply (a revision or withdrawal of a follow-up), the thread's first message is
    # updated too, with the thread's state: what it shows (its alert's latest revision sent), whether that alert was
    # withdrawn and who acknowledged it. None when the message to update is the first message itself.
    first: Alert | None = None
    # Why the thread's first alert (its latest revision told) was withdrawn, by this notice or before it; None while it
    # stands. Set whichever message is updated: a follow-up told after the first alert was withdrawn leaves the first
    # message withdrawn (it says which alert the thread stands on now), never "Updated" as if that alert stood.
    first_withdrawn: str | None = None
    first_acknowledged: AlertAcknowledged | None = None
    # The alert the thread's state is of (its newest standing alert), as `alerts list` shows it; None when none of the
    # thread's alerts stands (a withdrawal of the last one): `severity` and `confidence` are then the withdrawn alert's.
    newest_id: str | None = None
    # The message is in the thread of a story of several groups (thread_by): its sources and updates are those of its
    # own group's alerts, said so ("of this alert's group"), not "in the thread" (outside trial 74, F4).
    of_group: bool = False
    # When that alert fired, and whether that is an undated report's first-seen time (fired_first_seen): the first
    # message's footer dates each alert it names (trial 46, LOW-4: one time beside two ids read as the newest's).
    newest_fired_at: datetime | None = None
    newest_first_seen: bool = False
    # The thread's standing alerts (ids, oldest first in event time, the newest last): what the thread's first message
    # stands for once it shows the thread's state, and what its Acknowledge button takes together (docs/slack.md).
    standing_ids: tuple[str, ...] = ()
    # Who acknowledged the thread's newest standing alert (or an alert it revised) in the first place: the first
    # message, showing the thread's state, says so (and loses its button) only then.
    newest_acknowledged: AlertAcknowledged | None = None
    # Reports the message to update showed that what it shows now no longer carries, still standing (late reports
    # revised its alert: reports_told_before); `first_told_reports`, the same of the thread's first message.
    told_reports: tuple[Evidence, ...] = ()
    first_told_reports: tuple[Evidence, ...] = ()
    # Acknowledgements of the thread's other standing alerts: the first message says them when the newest is not.
    earlier_acknowledged: tuple[AlertAcknowledged, ...] = ()
    # An acknowledgement of an earlier raising of the alert the message shows (the target's, its revision's; the first
    # message: the newest's), which a later change raised again with its id (reinstated): said, not taken, its button
    # stays (outside trial 30, F2: one made while a revision stood in its place, no desk shown it, was carried on).
    acknowledged_before: AlertAcknowledged | None = None
    newest_acknowledged_before: AlertAcknowledged | None = None
    # The notice is told by rewriting the message to update alone, no reply under the thread (`quiet`: a revision
    # by a report of the alert's very time, on a channel that can rewrite its messages): what that message says is
    # all the channel is told, so it says why, not "see the thread", and `updates` does not count it.
    quiet: bool = False
    # What the thread's first message said of its story's place when it was posted ("Again: …" for an earlier story
    # of its rule and group, "Sent late: …" for one sent after newer alerts): an update of that message keeps it, as
    # it keeps the evidence (trial 46, MED-3: "Updated · now HIGH" dropped both lines).
    first_earlier: EarlierStory | None = None
    first_later: LaterAlerts | None = None
    # The latest withdrawal or downward revision of an alert that stood above the thread's state now: the first
    # message says why the story fell back (Setback). None when nothing stood above it, or the thread rose again.
    setback: Setback | None = None
    # Reports of the notice's alert that an item's later edition made again after a correction had withdrawn an alert
    # of the thread resting on the item's earlier text (Restored): the reply says it is that item, restored.
    restored: tuple[Restored, ...] = ()

    @property
    def target_is_first(self) -> bool:
        """Whether the message to update is the thread's first message (else a reply: it shows its own alert)."""
        return self.first is None


# The detail of an alert, follow-up or revision never sent because a later revision of it waited behind it in the
# channel (late reports revising one alert, maybe again and again, before a delivery cycle ran): the later one is
# sent in its place, and the channel is told the alert that stands once (alerts/delivery.py).
REPLACED = "replaced before it was sent"
REPLACEABLE = ("alert", "followup", "revision")  # the kinds a later revision can stand for


# The detail of an alert or follow-up never sent because a retraction withdrew it first (a late report or a
# correction before a delivery cycle ran, or during an outage): the channel is told neither (outside trial 23, M2-1:
# an alert withdrawn in the same poll was posted, then marked "Withdrawn", once its story's confirmation no longer
# replaced it). So is a revision that stands for one never sent (replaced by it: trial 24, F2). Any other revision
# withdrawn before it was sent is still sent, then withdrawn: skipped, the message of the alert it revises would go
# on showing that alert as standing.
WITHDRAWN_UNSENT = "withdrawn before it was sent"


def withdrawn_unsent(rows: Sequence[DeliveryRecord], rec: DeliveryRecord) -> DeliveryRecord | None:
    """The retraction among `rows` (its channel's and thread key's) that withdraws `rec`, an alert or follow-up not
    sent yet, or a revision sent in place of one: then neither goes. None for any other row, or when there is none."""
    if rec.kind == "revision":
        parent = next((r for r in rows if r.alert_id == rec.parent_id), None)
        if parent is None or not replaced_unsent(parent):
            return None
    elif rec.kind not in ("alert", "followup"):
        return None
    for r in rows:
        if r.kind == "retraction" and r.parent_id == rec.alert_id and r.status in ("outstanding", "suppressed"):
            return r
    return None


def replaced_unsent(row: DeliveryRecord) -> bool:
    """An alert, follow-up or revision that was never sent because a later revision of it was sent in its place."""
    return row.kind in REPLACEABLE and row.status == "suppressed" and row.detail.startswith(REPLACED)


def told_row(row_of: Callable[[str], DeliveryRecord | None], key: str) -> DeliveryRecord | None:
    """The row keyed `key` (`row_of` finds a row of one channel by key), or, when that is a revision replaced before
    it was sent, the row it revised, and so on: the message the channel has in its place (it shows the alert that
    stands), or an alert or follow-up replaced before it was sent. None when there is no row."""
    row = row_of(key)
    for _ in range(10_000):  # bounded: parent links never form a cycle
        # only a revision's parent is what it revised (a follow-up's is its thread's first alert)
        if row is None or row.kind != "revision" or not replaced_unsent(row) or row.parent_id is None:
            break
        row = row_of(row.parent_id)
    return row


def replacement_of(rows: Sequence[DeliveryRecord], alert_row: DeliveryRecord) -> DeliveryRecord | None:
    """The revision that went (or goes) to the channel in place of an alert or follow-up replaced before it was sent:
    down its chain of revisions in `rows` (its channel's and thread key's), past those replaced too; None when there is
    none."""
    current: DeliveryRecord | None = alert_row
    for _ in range(len(rows) + 1):
        if current is None or not replaced_unsent(current):
            return current
        key = current.alert_id
        current = max(
            (r for r in rows if r.kind == "revision" and r.parent_id == key),
            key=lambda r: (r.seq, r.alert_id),
            default=None,
        )
    return None


def revised_again(rows: Sequence[DeliveryRecord], rec: DeliveryRecord, *, sent: bool = False) -> DeliveryRecord | None:
    """A later revision of `rec`'s alert still outstanding among `rows` (its channel's and thread key's), directly or
    down a chain of revisions replaced before they were sent: `rec` would be out of date the moment it was read, so
    that one goes in its place (review 22, F1: a revision of a revision, the first claimed and replaced before the
    alert's turn, left the alert with no outstanding revision of its own: the outdated alert was sent). `sent`: or one
    sent already (a revision told quietly, retried after it: its rewrite would put the older alert back)."""
    key = rec.alert_id
    seen = {key}
    for _ in range(len(rows) + 1):
        below: DeliveryRecord | None = None
        for r in rows:
            if r.kind != "revision" or r.parent_id != key or r.alert_id in seen:
                continue
            if r.status == "outstanding" or (sent and r.status == "sent"):
                return r
            if replaced_unsent(r):
                below = r
        if below is None:
            return None
        key = below.alert_id
        seen.add(key)
    return None


@dataclass(frozen=True)
class EarlierStory:
    """What a new alert's message says of the stories of its rule and group the channel was told before: an alert
    that starts a story after another one ended (past its rule's window or `realert`, or withdrawn) would otherwise
    read as a duplicate of it ("Russia ratified the treaty" for the lower house's vote, then the upper house's)."""

    # the last earlier story's newest standing alert (what its first message shows the state of; its first alert, or
    # that alert's revision, when nothing followed it), as `alerts list` names it
    alert_id: str
    fired_at: datetime  # when that alert fired (event time)
    count: int  # earlier stories of this rule and group sent to the channel
    # How long before this alert that story began, when that is within the rule's open period and it still stands
    # here: by event time the same story, posted apart only because the dispatcher no longer keeps it (a report far
    # behind the newest alerts: intake.Stories). None: a new story (past the open period, or withdrawn).
    within: timedelta | None = None
    # The ledger's reference ("CHANNELID:ts") of the message that tells that story (its first message, or the
    # revision sent in its place), and a link to it a notifier may fill in (Slack: chat.getPermalink): the line then
    # links the alert it names (trial 29, F7: "Again: …" named a bare id the desk had to search for).
    ref: str = ""
    link: str = ""
    # This alert is told in the thread of a story of several groups (thread_by: `story_root`), not as a story of its
    # own: its line says so instead of "a new story" (outside trial 74, F1).
    in_story: bool = False


@dataclass(frozen=True)
class LaterAlerts:
    """What an alert's message says when alerts of its rule and group that fired after it reached the channel first:
    an alert given up and re-sent (`alerts redeliver`), or an older story read after a newer one. Its own severity is
    what it was when raised ("MEDIUM (unconfirmed)"), so without this it reads as news below a confirmation the
    channel already has (outside trial 23, M2-2)."""

    alert_id: str  # the newest of them in event time, as `alerts list` shows it
    severity: str
    confidence: str
    fired_at: datetime
    count: int  # alerts of the rule and group fired after it and sent to the channel before it


@dataclass(frozen=True)
class StoryLink:
    """Of a new alert of a rule with `thread_by`: the story it is a new alert of, whose thread it is told in (another
    group of the same country: another imposer's sanctions), so that it is not read as an update of that thread's first
    alert (outside trial 68, MED-2)."""

    alert_id: str  # the thread's first alert, as `alerts list` names it
    group_label: str  # ... and its group, as the alerts' Group field shows it
    ref: str = ""  # the channel's reference of the thread's first message ("" in a channel without threads)
    # The thread's first alert is of this alert's own group (raised again past its open period while the story of
    # its thread_by values was open): not "another group" (outside trial 74, F1).
    same_group: bool = False


@dataclass(frozen=True)
class Notice:
    """One message for one channel. `key` is its delivery key (unique per channel, the ledger's alert_id)."""

    key: str
    kind: Kind
    alert: Alert  # the alert told about; for a retraction, the alert withdrawn
    channel: str  # the routing channel (buttons carry it back)
    group_label: str = ""
    parent_id: str | None = None  # the alert this one follows up, revises or withdraws
    thread: ThreadView | None = None  # None: a message of its own
    escalated_from: str | None = None  # the thread's highest severity before this alert raised it
    reason: str = ""  # a retraction's reason
    superseded_by: str | None = None  # a retraction's replacement alert, when there is one
    earlier: EarlierStory | None = None  # a new alert (a message of its own): the rule and group's earlier stories
    later: LaterAlerts | None = None  # a new alert sent after alerts of its rule and group that fired after it
    revises_held: str | None = None  # a new alert that revises one this channel's throttle held (no message of it)
    story: StoryLink | None = None  # a new alert of another group in a story's thread (thread_by): that story

    @property
    def threaded(self) -> bool:
        return self.thread is not None


def story_period(data: Mapping[str, Any] | None) -> timedelta | None:
    """The open period of its rule (window or realert) that intake wrote into a row's payload (`open_period`,
    seconds); None in rows written before it."""
    seconds = (data or {}).get("open_period")
    return timedelta(seconds=seconds) if isinstance(seconds, int | float) and seconds >= 0 else None


def earlier_story(rows: Iterable[DeliveryRecord], alert: Alert, period: timedelta | None = None) -> EarlierStory | None:
    """The stories of `alert`'s rule and group told before it, from the rows of its channel and thread key: the first
    alerts sent (a story's first alert is the only row of kind "alert"; a follow-up is "followup"), or the revision
    sent in place of one never sent, that fired before it in event time. None when there is none. `period`: the
    rule's open period (`story_period`), which says whether the last of them began within it before this alert and
    still stands here (`EarlierStory.within`: not a new story, posted apart). Pure: the dispatcher passes the rows it
    has read anyway."""
    rows = list(rows)
    # A story's first message that a revision (a late report) changed since shows the revised alert: that one is
    # named (trial 24, F5: "Again:" named an alert id the channel no longer showed). Rows are in seq order: the
    # last sent revision of a row is what its message shows.
    revised: dict[str, DeliveryRecord] = {
        r.parent_id: r for r in rows if r.kind == "revision" and r.status == "sent" and r.parent_id is not None
    }
    withdrawn = {r.parent_id for r in rows if r.kind == "retraction" and r.status == "sent"}
    before: list[tuple[datetime, datetime, str, bool, int, str]] = []
    for i, r in enumerate(rows):
        if r.kind != "alert" or r.alert_id == alert.id:
            continue
        if r.status != "sent":
            # A story whose first alert was never sent, a revision having gone in its place (one poll raised it and
            # a later-read report revised it): that revision is the story's first message (trial 25, F2).
            went = replacement_of(rows, r) if replaced_unsent(r) else None
            if went is None or went.status != "sent":
                continue
            r = went
        shown = r
        for _ in range(100):  # (revision links never form a cycle; bounded all the same)
            nxt = revised.get(shown.alert_id)
            if nxt is None:
                break
            shown = nxt
        # Read from the payload's JSON as kept (not validated into an Alert: a rule and group that alerts daily
        # holds a row a day, read for every new alert of it).
        told, now = (r.payload or {}).get("alert"), (shown.payload or {}).get("alert")
        try:
            fired = datetime.fromisoformat(told["detection"]["fired_at"])  # type: ignore[index]
            shown_at = datetime.fromisoformat(now["detection"]["fired_at"])  # type: ignore[index]
            shown_id = str(now["id"])  # type: ignore[index]
        except (TypeError, KeyError, ValueError):  # rows of the first version carry no alert
            continue
        if fired < alert.detection.fired_at:  # (the story's start decides which came first)
            before.append((fired, shown_at, shown_id, shown.alert_id not in withdrawn, i, r.ref or ""))
    if not before:
        return None
    began, fired, told_id, stands, at, ref = max(before)
    # The last alert of that story, as its first message shows the thread's state: its newest standing alert (a
    # corroboration's HIGH follow-up, not the MEDIUM it followed: outside trial 30, F5, where a channel that got both
    # named the MEDIUM and a `min=high` channel the HIGH). Only for the story named.
    state = thread_state(rows, rows[at].alert_id)
    newest = state.newest if state is not None else None
    if (
        newest is not None
        and newest.id != rows[at].alert_id  # (else the first message's own alert, or its revision, as above)
        and newest.id not in revised
        and newest.detection.fired_at < alert.detection.fired_at
    ):
        told_id, fired = newest.id, newest.detection.fired_at
    gap = alert.detection.fired_at - began
    within = gap if period is not None and stands and gap < period else None  # (strictly: Stories._story_root)
    return EarlierStory(alert_id=told_id, fired_at=fired, count=len(before), within=within, ref=ref)


def story_before(data: Mapping[str, Any] | None, alert: Alert, period: timedelta | None = None) -> EarlierStory | None:
    """The earlier story intake wrote into a new alert's row (`story_before`: intake.StoryBefore, decided once for all
    channels), for a channel that holds no message of it (earlier_story finds none there: a DM subscribed since, a
    channel whose filters kept that story out): its line names the alert without a link, and no count of this
    channel's (outside trial 62, L3). None in rows written before it."""
    raw: Any = (data or {}).get("story_before")
    try:
        alert_id = str(raw["alert_id"])
        fired, began = datetime.fromisoformat(raw["fired_at"]), datetime.fromisoformat(raw["began"])
        stands = bool(raw["stands"])
    except (TypeError, KeyError, ValueError):
        return None
    if not began < alert.detection.fired_at:
        return None
    gap = alert.detection.fired_at - began
    within = gap if period is not None and stands and gap < period else None  # (strictly: Stories._story_root)
    return EarlierStory(alert_id=alert_id, fired_at=fired, count=1, within=within)


def story_before_key(data: Mapping[str, Any] | None) -> str | None:
    """The delivery key of the first detection of the earlier story intake wrote into a new alert's row
    (`story_before`), whose row in a channel is that story's first message there, whatever thread key it is under;
    None in rows written before it said."""
    raw: Any = (data or {}).get("story_before")
    key = raw.get("key") if isinstance(raw, Mapping) else None
    return key if isinstance(key, str) and key else None


def story_before_keys(data: Mapping[str, Any] | None) -> list[str]:
    """The delivery keys of the first detections of the group's earlier stories that intake wrote into a new alert's
    row (`story_before.earlier`, oldest first): their rows in a channel are those stories' first messages there,
    whatever thread key they are under; empty in rows written before it said."""
    raw: Any = (data or {}).get("story_before")
    keys = raw.get("earlier") if isinstance(raw, Mapping) else None
    return [k for k in keys if isinstance(k, str) and k] if isinstance(keys, list) else []


def later_alerts(rows: Iterable[DeliveryRecord], rec: DeliveryRecord) -> LaterAlerts | None:
    """The alerts of `rec`'s rule and group that fired after it and that its channel was sent first, of those that
    still stand there (not withdrawn, not revised since: review of 260549a, finding 4), from the rows of its channel
    and thread key; None when there are none (the usual: alerts reach a channel in the order they fired). Raised
    before it or after (trial 24, F3: in one poll, a feed read first raised a newer story's alert, and an older
    story's, raised next, was posted below it, unmarked); one fired before it is an earlier story's ("Again: …"
    says that one: finding 5)."""
    rows = list(rows)
    own = alert_of(rec.payload)
    if own is None:
        return None
    since = own.detection.fired_at
    # what no longer stands in the channel: withdrawn by a retraction, or revised by a revision, sent there
    gone = {r.parent_id for r in rows if r.kind in ("retraction", "revision") and r.status == "sent"}
    later: list[tuple[datetime, str, str, str]] = []
    for r in rows:
        if r.status != "sent" or r.alert_id == rec.alert_id or r.kind not in ("alert", "followup", "revision"):
            continue
        if r.alert_id in gone:
            continue
        told: Any = (r.payload or {}).get("alert")  # (read as kept, as earlier_story does)
        try:
            d = told["detection"]
            fired = datetime.fromisoformat(d["fired_at"])
            if fired > since:
                later.append((fired, str(told["id"]), str(d["severity"]), str(d.get("confidence", ""))))
        except (TypeError, KeyError, ValueError):
            continue
    if not later:
        return None
    fired, alert_id, severity, confidence = max(later)
    return LaterAlerts(alert_id=alert_id, severity=severity, confidence=confidence, fired_at=fired, count=len(later))


def _as_is(text: str) -> str:
    return text


# How the texts below show a time (`when`) and quote what they did not write (`quote`): plain channels take the UTC
# text as is; Slack's mrkdwn escapes the quoted parts and shows the time as its date token (slack_blocks.when_text),
# which escaping the finished line would break.
TimeText = Callable[[datetime], str]


def later_text(later: LaterAlerts, when: TimeText = utc_text, quote: Callable[[str], str] = _as_is) -> str:
    """One line for an alert sent after later-fired ones of its rule and group: "Sent late: …"."""
    state = later.severity.upper() + (" (unconfirmed)" if later.confidence == "unconfirmed" else "")
    what = "a later alert" if later.count == 1 else f"{later.count} later alerts"
    return (
        f"Sent late: {what} of this rule and group reached this channel first; "
        f"the newest, {quote(later.alert_id)}, is {quote(state)}, fired {when(later.fired_at)}"
    )


def earlier_text(earlier: EarlierStory, when: TimeText = utc_text, quote: Callable[[str], str] = _as_is) -> str:
    """One line for a new alert's message: "Again: this rule and group's last alert was …"; of an alert within the
    open period of that story (`EarlierStory.within`), why it is a message of its own: "Same story as …"."""
    fired = when(earlier.fired_at)
    alert_id = quote(earlier.alert_id)
    if earlier.within is not None:
        return (
            f"Same story as {alert_id}, fired {fired} ({format_elapsed(earlier.within.total_seconds())} "
            "before this one); posted apart, not in its thread: that story is too far behind the newest alerts "
            "for its thread to be kept"
        )
    more = f" ({earlier.count} earlier in this channel)" if earlier.count > 1 else ""
    told = "a new alert of this group, told in this story" if earlier.in_story else "a new story"
    return f"Again: the last alert of this rule and group was {alert_id}, fired {fired}{more}; {told}"


def ack_key(event_id: str) -> str:
    """The ledger key of the rows showing the acknowledgement of `alert.acknowledged` event `event_id`."""
    return f"{ACK_KIND}-{event_id}"


def thread_key(rule: str, group: Mapping[str, str]) -> str:
    """Alerts of one rule and group share a thread key (stable, whatever the group's key order)."""
    return rule + "\x1f" + orjson.dumps(dict(sorted(group.items()))).decode()


def story_root_of(row: DeliveryRecord) -> str | None:
    """The delivery key of the first alert of the story (`thread_by`) whose thread `row`, a new alert of another
    group, is told in (intake writes it); None for an alert that starts its thread (every alert without thread_by)."""
    root = (row.payload or {}).get("story_root")
    return root if isinstance(root, str) and root else None


def group_rows(rows: Sequence[DeliveryRecord], rec: DeliveryRecord, alert: Alert) -> Sequence[DeliveryRecord]:
    """Of `rows` (the channel's rows of `rec`'s thread key), those of `alert`'s rule and group: all of them, unless the
    rule threads several groups as one story (`thread_by`: the key is its rule and fewer values), where what says a
    group's own earlier or later stories ("Again: …", "Sent late: …") must not take another group's alerts for them."""
    det = alert.detection
    if not rec.thread_key or rec.thread_key == thread_key(det.rule, det.group):
        return rows
    return [r for r in rows if (a := alert_of(r.payload)) is None or a.detection.group == det.group]


def thread_of(rows: Iterable[DeliveryRecord], key: str) -> list[DeliveryRecord]:
    """The rows (delivery records, in seq order) of the thread that the row keyed `key` is in: its first alert
    and every reply under it. One rule and group can hold several threads (an alert after the last one closed
    starts a new one); what a thread says (its severity before, its sources, its replies) is its own rows'."""
    rows = list(rows)
    parent = {r.alert_id: r.parent_id for r in rows}
    root = key
    for _ in range(len(rows)):  # up to the thread's first alert (ids never form a cycle; bounded anyway)
        up = parent.get(root)
        if up is None or up == root:
            break
        root = up
    members = {root}
    for _ in range(len(rows)):
        grown = {r.alert_id for r in rows if r.parent_id in members} - members
        if not grown:
            break
        members |= grown
    return [r for r in rows if r.alert_id in members]


@dataclass(frozen=True)
class ThreadState:
    """What a thread of one channel stands on now, from its ledger rows: its first message's row, and its standing
    alerts as the channel was told them (sent; each replaced by its latest revision sent, the withdrawn ones left out),
    oldest first in event time (fired_at, then ledger seq): the last is the one the first message shows the state of."""

    first: DeliveryRecord
    standing: tuple[Alert, ...]

    @property
    def newest(self) -> Alert | None:
        return self.standing[-1] if self.standing else None

    @property
    def first_id(self) -> str:
        """The alert id of the thread's first message as it was posted (what a button drawn then names)."""
        first = alert_of(self.first.payload)
        return first.id if first is not None else self.first.alert_id


def thread_state(rows: Iterable[DeliveryRecord], key: str) -> ThreadState | None:
    """The state of the thread (thread_of) that the row keyed `key` is in, among `rows` (its channel's and thread
    key's); None when the thread's first row is not among them."""
    members = [r for r in thread_of(rows, key) if r.kind in (*REPLACEABLE, "retraction")]
    keys = {r.alert_id for r in members}
    first = next((r for r in members if r.parent_id is None or r.parent_id not in keys), None)
    if first is None:
        return None
    sent = [r for r in members if r.status == "sent"]
    told = [(r.seq, a) for r in sent if r.kind != "retraction" and (a := alert_of(r.payload)) is not None]
    withdrawn: set[str] = set()
    for r in sent:
        if r.kind == "retraction":
            gone = alert_of(r.payload)
            withdrawn |= {i for i in (r.parent_id, gone.id if gone is not None else None) if i}
    passed = [a for r in members if replaced_unsent(r) and (a := alert_of(r.payload)) is not None]
    standing = sorted(standing_alerts(told, withdrawn, passed), key=lambda x: (x[1].detection.fired_at, x[0]))
    by_id = {a.id: a for _, a in reversed(standing)}  # (one alert told twice: once, at its first place)
    return ThreadState(first, tuple(by_id[i] for i in dict.fromkeys(a.id for _, a in standing)))


def standing_alerts(
    told: Sequence[tuple[int, Alert]], withdrawn: Iterable[str] = (), passed: Iterable[Alert] = ()
) -> list[tuple[int, Alert]]:
    """The alerts that stand among `told` ((ledger seq, alert): the alerts sent in a thread and the one being sent):
    those not replaced by a later revision among them (also through revisions `passed`, replaced before they were
    sent) and not `withdrawn`. Each replaced alert is there as its latest revision, once."""
    revisions = Revisions([a for _, a in told], passed)
    gone = set(withdrawn)
    # (Compared whole: a revision back to an earlier report's content has that alert's id again, trial 25, F1.)
    return [(seq, a) for seq, a in told if a.id not in gone and revisions.standing_for(a) == a]


def newest_standing(
    told: Sequence[tuple[int, Alert]], withdrawn: Iterable[str] = (), passed: Iterable[Alert] = ()
) -> Alert | None:
    """The newest standing alert among `told` (standing_alerts): the latest in event time (fired_at, then seq). None
    when none stands."""
    standing = standing_alerts(told, withdrawn, passed)
    return max(standing, key=lambda x: (x[1].detection.fired_at, x[0]))[1] if standing else None


def stands(alert: Alert, told: Sequence[Alert], passed: Iterable[Alert] = ()) -> bool:
    """Whether no revision among `told` replaced `alert` (directly, or through revisions `passed`)."""
    # (Compared whole: a revision back to an earlier report's content has that alert's id again, trial 25, F1.)
    return standing_for(alert, told, passed) == alert


def standing_for(alert: Alert, told: Sequence[Alert], passed: Iterable[Alert] = ()) -> Alert:
    """The alert that stands for `alert` in a channel: its latest revision among `told` (the alerts the channel was
    told), down its chain of revisions, also through those `passed` (replaced before they were sent); else itself."""
    return Revisions(told, passed).standing_for(alert)


def revision_chain(alert: Alert, known: Iterable[Alert]) -> list[Alert]:
    """`alert` and the revisions of it among `known`, oldest first (a late report changed its group's history,
    maybe more than once)."""
    return Revisions((), known).chain(alert)


def quiet_revision(kind: str, det: Detection) -> bool:
    """Whether a notice of `kind` for the detection `det`, to a channel that can rewrite its messages (Slack), is told
    by rewriting the message that shows the alert it revises, with no reply: a revision made by a report of the
    alert's very time, read after it with a smaller id (`Detection.same_time`). Nothing about the story changed, only
    which of two reports of one time leads it, and a reply for that was noise to the desk (trial 32, L4)."""
    return kind == "revision" and det.same_time and det.cause is None


def revision_cause(
    det: Detection, changed: str | None = None, when: TimeText = utc_text, quote: Callable[[str], str] = _as_is
) -> str:
    """What changed the alert a revision `det` replaces (`changed`, else "this alert"), as a reader is told it: a
    late report (the engine's default change), or the correction or withdrawn input `Detection.cause` names."""
    alert = "this alert" if changed is None else f"alert {quote(changed)}"
    if det.cause is None and det.same_time:  # trial 32, L4: not late, only read after reports of its own time
        # (utc_text: a time at the calendar's edge is shown as given, not an OverflowError)
        return (
            f"A report of the same time ({when(det.fired_at)}), read after {alert} was raised, now leads it: reports "
            "of one time are taken in the order of their ids, as a backtest takes them"
        )
    if det.cause is None:
        return f"A late report changed {alert}"
    return f"{alert[0].upper()}{alert[1:]} changed: {quote(det.cause)}"


def reports_told_before(
    shown: Alert, now: Alert, told: Sequence[Alert], passed: Iterable[Alert] = ()
) -> tuple[Evidence, ...]:
    """Revisions.told_before, for one pair."""
    return Revisions(told, passed).told_before(shown, now)


def _key(a: Alert) -> tuple[str, int]:
    return (a.id, a.detection.revision)  # (an id alone may be raised again: Revisions.chain)


class Revisions:
    """The chains of revisions among the alerts a channel was told in a thread (`told`) and the revisions `passed`
    (replaced before they were sent), indexed once: a thread's state asks for many chains (one per alert told), and
    building the index per chain made each delivery of a long thread quadratic in it."""

    def __init__(self, told: Iterable[Alert], passed: Iterable[Alert] = ()) -> None:
        told = list(told)
        self.told_keys = {_key(a) for a in told}
        self.replaced_by: dict[str, list[Alert]] = {}
        for a in [*told, *passed]:
            if a.detection.revises is not None:
                self.replaced_by.setdefault(a.detection.revises, []).append(a)
        self._bound = sum(len(v) for v in self.replaced_by.values())

    def chain(self, alert: Alert) -> list[Alert]:
        """`alert` and the revisions of it, oldest first (a late report changed its group's history, maybe more than
        once)."""
        # A revision replaces the alert it names that an earlier change of the group's history raised (a lower
        # `revision`): ids are content-derived, so a change that restores an earlier report's content raises that
        # alert's id again, and keyed by id alone the chain ran back into itself (trial 25, F1: the restored alert
        # looked replaced by the one it replaced, no alert of the thread stood, and its first message kept a
        # withdrawn HIGH). Of several, the last given (as before).
        chain = [alert]
        for _ in range(self._bound):
            last = chain[-1]
            newer = next(
                (
                    a
                    for a in reversed(self.replaced_by.get(last.id, ()))
                    if a.detection.revision > last.detection.revision and a not in chain
                ),
                None,
            )
            if newer is None:
                break
            chain.append(newer)
        return chain

    def standing_for(self, alert: Alert) -> Alert:
        """`alert`'s latest revision told, down its chain (also through those passed); else itself."""
        return next((a for a in reversed(self.chain(alert)) if _key(a) in self.told_keys), alert)

    def told_before(self, shown: Alert, now: Alert) -> tuple[Evidence, ...]:
        """The reports a message showed that `now`, the revision of `shown` it shows now, no longer carries: the
        evidence of `shown` and of its revisions told before `now`, down its chain. Only what late reports revised:
        such a revision moves the alert to an earlier report, and the reports it drops still stand (held back as
        repeats of the revised alert), so the desk keeps what it was told (outside trial 30, F3: Outlet A's report,
        the only one the channel had been shown, vanished from the message, which then said "1 independent
        source"). A revision for a publisher's correction (`Detection.cause`) may have dropped a report because it
        changed: what was told before it is left out. So are input alerts of a composed rule (their own revisions
        stand for them)."""
        if _key(shown) == _key(now):
            return ()
        chain = self.chain(shown)
        at = next((i for i, a in enumerate(chain) if _key(a) == _key(now)), None)
        if not at:
            return ()
        since = max((i for i in range(1, at + 1) if chain[i].detection.cause is not None), default=0)
        carried = {ev.event_id for ev in now.detection.evidence}
        out: dict[str, Evidence] = {}
        for a in chain[since:at]:
            if _key(a) not in self.told_keys:
                continue
            for ev in a.detection.evidence:
                # (an input alert of a composed rule is not a report: a revision of it stands in its place)
                if ev.event_id not in carried and not ev.signal.startswith(INPUT_ALERT):
                    out.setdefault(ev.event_id, ev)
        return tuple(out.values())


def independent_sources(detections: Iterable[Detection], held: Iterable[Sequence[Evidence]] = ()) -> int:
    """Independent reports over `detections`, as the engine's corroboration counts them: a report counts as the
    configured source it came through (Evidence.feed), else as its outlet's name (whatever its case), so a feed
    that renamed itself is one source (review 13, F6: names were counted, "2 independent" beside "unconfirmed");
    a report counted by its name and a feed's report showing that name are one source, as the engine links them
    (stories.ReportGroups.add). Reports that share a story key (Evidence.story: copies of one wire story, as the
    engine grouped each detection's reports) count for the outlet of the story's first report (by its date, then
    its id), as the engine counts a copy with its original: an outlet counts once for the stories it originated, so
    one that carried another's copy still counts for its own report (outside trial 64, HIGH-1). A thread passes its
    standing alerts (standing_alerts). Evidence without a key (rules that count no sources, detections stored before
    keys) counts by source alone; copies that no one detection cites together are not linked (the engine compares
    reports only within a window, and the key is all the evidence carries of the text). `held`: reports told before
    that still stand beside them (reports_told_before), each group as one detection's."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x: tuple[str, str]) -> tuple[str, str]:
        root = parent.setdefault(x, x)
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    outlets: set[tuple[str, str]] = set()
    originators: set[tuple[str, str]] = set()  # the outlets of reports without a story key
    first: dict[str, tuple[datetime, str, tuple[str, str]]] = {}  # story key -> its first report's (date, id, outlet)
    fed_names: list[tuple[tuple[str, str], tuple[str, str]]] = []  # (a feed, the name one of its reports shows)
    for evidence in [*(d.evidence for d in detections), *held]:
        for ev in evidence:
            name = ("source", ev.source.strip().casefold())
            outlet = ("feed", ev.feed) if ev.feed else name
            outlets.add(outlet)
            if ev.feed:
                fed_names.append((outlet, name))
            if ev.story:
                was = first.get(ev.story)
                if was is None or (ev.published_at, ev.event_id) < was[:2]:
                    first[ev.story] = (ev.published_at, ev.event_id, outlet)
            else:
                originators.add(outlet)
    for feed, name in fed_names:
        if name in outlets:  # a report counted by that name: the same source (the engine's link)
            a, b = find(feed), find(name)
            if a != b:
                parent[a] = b
    originators.update(f[2] for f in first.values())
    return len({find(o) for o in originators})


def thread_reports(detections: Iterable[Detection], held: Iterable[Sequence[Evidence]] = ()) -> int:
    """Reports over `detections` and the reports `held` beside them (as independent_sources takes them): each report
    once (by its event id), and at least as many as any one detection rests on (its evidence shows ten at most)."""
    ids: set[str] = set()
    most = 0
    for det in detections:
        ids.update(ev.event_id for ev in det.evidence)
        most = max(most, det.reports)
    for evidence in held:
        ids.update(ev.event_id for ev in evidence)
    return max(len(ids), most)


def escalation(previous: Iterable[str], severity: str) -> str | None:
    """The previous highest severity when `severity` is the first to reach high or critical above it, else None."""
    ranks = [(SEVERITY_RANK.get(s, -1), s) for s in previous]
    if not ranks:
        return None
    top_rank, top = max(ranks)
    rank = SEVERITY_RANK.get(severity, -1)
    return top if rank >= ESCALATION and rank > top_rank else None


def payload(alert: Alert, **extra: Any) -> dict[str, Any]:
    """What the ledger keeps to send a notice again later: the alert and the notice's own fields."""
    return {"alert": alert.model_dump(mode="json"), **{k: v for k, v in extra.items() if v not in (None, "")}}


def alert_of(data: Mapping[str, Any] | None) -> Alert | None:
    """The alert inside a ledger payload, or None (rows of the first version carry none)."""
    if not data or not isinstance(raw := data.get("alert"), dict):
        return None
    # A thread's rows are kept between reads (threads.ThreadRows), payloads and all, and each delivery of the thread
    # reads the alert of every row, several times: each kept payload's alert is validated once. (The dict is held
    # with it, so its id is not reused while it is here; payloads read are never written to.)
    hit = _ALERTS.get(id(raw))  # (one call into the dict: atomic, no lock; a hit is most calls)
    if hit is not None and hit[0] is raw:
        return hit[1]
    alert = Alert.model_validate(raw)
    with _ALERTS_LOCK:
        _ALERTS[id(raw)] = (raw, alert)
        if len(_ALERTS) > _ALERTS_KEPT:
            _ALERTS.popitem(last=False)  # the first kept (a hit does not move it: it costs no lock)
    return alert


_ALERTS: OrderedDict[int, tuple[dict[str, Any], Alert]] = OrderedDict()
_ALERTS_KEPT = 4096  # the alerts of a few long threads (the rows of the threads kept are held anyway)
_ALERTS_LOCK = threading.Lock()


def cited(det: Detection) -> Evidence | None:
    """The report a listed alert names (its source and link): the one it fired at (of several of that time, the
    last in the evidence's order), else its newest; None when it holds no evidence (a digest planned before
    digests kept it)."""
    if not det.evidence:
        return None
    at = [e for e in det.evidence if e.published_at == det.fired_at]
    return at[-1] if at else max(det.evidence, key=lambda e: e.published_at)


def as_listed(det: Detection, entity_names: Mapping[str, str]) -> Detection:
    """A detection as a digest or throttle summary keeps it in the ledger: its group by entity name, and of its
    evidence only the report it names (`cited`), without the sentence: which report each line is, after an
    outage lists many alike (outside trial 19, L4), not the evidence behind it."""
    report = cited(det)
    return det.model_copy(
        update={
            "group": {k: entity_names.get(v, v) for k, v in det.group.items()},
            "evidence": () if report is None else (report.model_copy(update={"sentence": ""}),),
        }
    )


@dataclass(frozen=True)
class DigestLine:
    """What one line of a digest says of an alert, in parts, for each channel to render (plain or mrkdwn)."""

    severity: str
    unconfirmed: bool
    title: str
    rule: str
    group: str
    when: str  # the fired time, in UTC text (marked when an undated report's first-seen time, or a receive time)
    source: str  # the report's source name ("" when the digest kept no report)
    url: str | None
    alert_id: str  # as `alerts list` shows it, and takes
    earlier: int  # earlier alerts of its story it stands for
    # The fired time itself, and whether it is an undated report's first-seen time: for a channel that shows the
    # time its own way (Slack's date token, in each reader's timezone); None: only `when` is known.
    fired_at: datetime | None = None
    first_seen: bool = False
    # A report it rests on is dated after it fired (dated in the future, counted at its receive time): the time is
    # marked as `alerts list` marks it (outside trial 64, LOW-4: the summary's line showed the time unmarked, where the
    # alert's message said "(dated in the future: counted when received)").
    ahead: bool = False
    # A digest merging several of the channel's subscriptions: the ones this alert came under (their labels).
    via: tuple[str, ...] = ()
    # Who acknowledged the alert (in Slack, before the digest went out): the line says so, as its own message does.
    acknowledged: AlertAcknowledged | None = None
    acknowledged_when: str = ""  # its time, in the text the line's time is in (a channel's zone)
    # The story of several groups (thread_by) it is listed in: that story's first alert and group ("": its own story)
    story: str = ""
    story_group: str = ""

    def text(self) -> str:
        """The plain line (console, file, email): not escaped."""
        unconfirmed = ", unconfirmed" if self.unconfirmed else ""
        return (
            f"[{self.severity.upper()}{unconfirmed}] {self.title} ({self.rule})"
            + (f" · {self.group}" if self.group else "")
            + f" · {self.when}"
            + self.source_text()
            + f" · alert {self.alert_id}"
            + self.earlier_text()
            + self.story_text()
            + self.via_text()
            + self.acknowledged_text()
        )

    def story_text(self) -> str:
        """ " · in the story of alert ID (GROUP)" of a line of a story of several groups ("" otherwise); the story's
        first alert's own line: " · the story's first alert (GROUP)" (outside trial 79, F3: it named itself)."""
        if not self.story:
            return ""
        if self.story == self.alert_id:
            return f" · the story's first alert ({_one_line(self.story_group)})"
        return f" · in the story of alert {self.story} ({_one_line(self.story_group)})"

    def via_text(self) -> str:
        return f" · via {' + '.join(_one_line(x) for x in self.via)}" if self.via else ""

    def acknowledged_text(self) -> str:
        """ " · acknowledged by WHO at WHEN" ("" when not acknowledged)."""
        ack = self.acknowledged
        if ack is None:
            return ""
        return f" · acknowledged by {_one_line(ack.by.label())} at {self.acknowledged_when or utc_text(ack.at)}"

    def source_text(self) -> str:
        """ " · SOURCE URL" ("" when there is neither)."""
        said = " ".join(x for x in (_one_line(self.source), self.url or "") if x)
        return f" · {said}" if said else ""

    def earlier_text(self) -> str:
        return f" · after {_counted(self.earlier, 'earlier alert')} of this story" if self.earlier else ""


def _ack_json(ack: AlertAcknowledged | None) -> dict[str, Any]:
    """A digest line's acknowledgement for the file and webhook channels ({} when none)."""
    if ack is None:
        return {}
    return {"acknowledged": {"by": ack.by.label(), "user": ack.by.user, "at": ack.at.isoformat()}}


def _one_line(text: str) -> str:
    """`text` with every run of whitespace (newlines among them) made one space."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Digest:
    """One digest message for a channel and slot (its digest subscriptions of that slot merged): the alerts raised
    in log positions (after, through], fixed when its slot came and kept in the delivery ledger (kind `digest`), so
    every attempt, every process and a redelivery send the same list. `id` is its delivery key: deterministic
    (channel + slot)."""

    id: str
    subscription_id: str
    channel: str
    slot: datetime  # aware, in the schedule's zone
    since: datetime | None  # the previous digest's slot, when there was one
    after_position: int
    through_position: int
    detections: tuple[Detection, ...]  # by severity, then time; groups by entity name; without evidence
    silenced: int = 0  # matching detections held back by a silence in force
    # Listed alert id -> the ids of the earlier alerts of its story (same rule and group) it stands for in the list.
    folded: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # A channel's throttle summary (alerts.throttle) rather than a subscription's digest: the throttle (`10 per 1h`),
    # and the alerts it held that were withdrawn or revised before it was planned (left out of the list).
    throttle: str = ""
    withdrawn: int = 0
    revised: int = 0
    # Of those revised, the ones whose revision the summary lists itself (held too): not "told on its own" (outside
    # trial 62, M4: the footer said so of a revision listed two lines above it, and nothing else was posted)
    revised_listed: int = 0
    # A digest's: alerts an earlier digest of its subscription told of, withdrawn since, as (alert id, what it said,
    # why it was withdrawn), so the desk reading digests alone hears of it (outside trial 26, F1).
    withdrawn_earlier: tuple[tuple[str, str, str], ...] = ()
    # A channel's digest of one slot lists the alerts of all its digest subscriptions of that slot once: their ids
    # (empty in digests planned before: `subscription_id` alone), and per listed alert the labels of those it came
    # under (only when it merges several).
    subscriptions: tuple[str, ...] = ()
    via: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Listed alert id -> its acknowledgement, filled in as the digest is sent (not planned: the ledger keeps the plan).
    acks: Mapping[str, AlertAcknowledged] = field(default_factory=dict)
    # Listed alert id -> (the first alert, its group label) of the story of several groups (a rule's thread_by) it is
    # listed in, with that story's other lines next to it (digest.thread_stories); absent: a story of its own.
    stories: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def story_count(self) -> int:
        """The stories the digest lists, as Slack threads them: a story of several groups counts once."""
        return len(self.detections) - len(self.stories) + len(set(self.stories.values()))

    @property
    def subscription_ids(self) -> tuple[str, ...]:
        """The subscriptions whose alerts the digest lists."""
        return self.subscriptions or (self.subscription_id,)

    def alert_ids(self) -> tuple[str, ...]:
        """Every alert the digest tells of: those it lists and the earlier ones of their stories."""
        return tuple(i for d in self.detections for i in (*self.folded.get(d.id, ()), d.id))

    @property
    def key(self) -> str:
        return self.id

    def title(self, time_text: TimeText = utc_text) -> str:
        """The digest's title; a throttle summary's window in `time_text` (a channel's zone; a digest's slot is in
        its schedule's own zone)."""
        try:
            when = self.slot.strftime("%a %d %b %Y %H:%M %Z")
        except (OverflowError, ValueError):
            when = self.slot.isoformat()
        told = len(self.alert_ids())
        if self.throttle:
            since = f"{time_text(self.since)} – " if self.since else ""
            return (
                f"{_counted(told, 'more alert')} held by this channel's throttle ({self.throttle}) · "
                f"{since}{time_text(self.slot)}"
            )
        count = self.story_count
        stories = f" in {_counted(count, 'story', 'stories')}" if told > count else ""
        return f"watchfloor digest · {_counted(told, 'alert')}{stories} · {when}"

    def left_out(self) -> str:
        """A throttle summary's note of the held alerts it does not list, a digest's of the alerts withdrawn before it
        was made ("" when none)."""
        if not self.throttle:
            return f"{self.withdrawn} withdrawn before this digest: not listed" if self.withdrawn else ""
        parts = []
        if self.withdrawn:
            parts.append(f"{self.withdrawn} withdrawn")
        apart = self.revised - self.revised_listed
        if apart:
            parts.append(f"{apart} revised (the revision is told on its own)")
        if self.revised_listed == 1:
            parts.append("1 revised (its revision is listed above)")
        elif self.revised_listed:
            parts.append(f"{self.revised_listed} revised (their revisions are listed above)")
        return ("held, then " + " and ".join(parts) + ": not listed") if parts else ""

    def withdrawals(self) -> list[str]:
        """A plain line (not escaped) per alert of an earlier digest withdrawn since."""
        return [
            f"Withdrawn since an earlier digest: {_one_line(what)} · alert {alert_id} · {_one_line(why)}"
            for alert_id, what, why in self.withdrawn_earlier
        ]

    def entries(self, time_text: TimeText = utc_text) -> list[DigestLine]:
        """What each line says, in the digest's order: after an outage a summary may list many alerts of one
        title, so each names its report (source, link) and its alert id."""
        out = []
        for d in self.detections:
            report = cited(d)
            first_seen = fired_first_seen(d.evidence, d.fired_at)
            ahead = any(dated_ahead(e.published_at, d.fired_at) for e in d.evidence)
            out.append(
                DigestLine(
                    severity=d.severity,
                    unconfirmed=d.confidence == "unconfirmed",
                    title=d.title or d.rule,
                    rule=d.rule,
                    group=", ".join(d.group.values()),
                    # never raises, even at the calendar's edges; an undated report's first-seen time is marked so,
                    # and a receive time (a report dated in the future)
                    when=fired_time_text(time_text(d.fired_at), first_seen, ahead),
                    source=report.source if report else "",
                    url=report.url if report else None,
                    alert_id=d.id,
                    earlier=len(self.folded.get(d.id, ())),
                    fired_at=d.fired_at,
                    first_seen=first_seen,
                    ahead=ahead,
                    via=tuple(self.via.get(d.id, ())),
                    acknowledged=(ack := self.acks.get(d.id)),
                    acknowledged_when=time_text(ack.at) if ack else "",
                    story=self.stories.get(d.id, ("", ""))[0],
                    story_group=self.stories.get(d.id, ("", ""))[1],
                )
            )
        return out

    def lines(self, time_text: TimeText = utc_text) -> list[str]:
        """One plain line per alert (not escaped), its time in `time_text` (a channel's zone)."""
        return [e.text() for e in self.entries(time_text)]

    def to_json(self) -> dict[str, Any]:
        """What the file and webhook channels get."""
        return {
            "id": self.id,
            "subscription": self.subscription_id,
            **({"subscriptions": list(self.subscriptions)} if len(self.subscriptions) > 1 else {}),
            "channel": self.channel,
            "slot": self.slot.isoformat(),
            "since": self.since.isoformat() if self.since else None,
            "alerts": [
                {
                    "id": d.id,
                    "rule": d.rule,
                    "title": d.title,
                    "severity": d.severity,
                    "earlier": list(self.folded.get(d.id, ())),
                    **_report_json(cited(d)),
                    **({"via": list(self.via[d.id])} if self.via.get(d.id) else {}),
                    **_ack_json(self.acks.get(d.id)),
                    **(
                        {"story": {"alert": self.stories[d.id][0], "group_label": self.stories[d.id][1]}}
                        if d.id in self.stories
                        else {}
                    ),
                }
                for d in self.detections
            ],
            "silenced": self.silenced,
            **self._throttle_json(),
        }

    def _throttle_json(self) -> dict[str, Any]:
        if not self.throttle:  # a digest's: what was withdrawn before it was made, when anything was
            out: dict[str, Any] = {"withdrawn": self.withdrawn} if self.withdrawn else {}
            if self.withdrawn_earlier:
                out["withdrawn_earlier"] = [
                    {"id": i, "title": what, "reason": why} for i, what, why in self.withdrawn_earlier
                ]
            return out
        out = {"throttle": self.throttle, "withdrawn": self.withdrawn, "revised": self.revised}
        return {**out, "revised_listed": self.revised_listed} if self.revised_listed else out

    def to_payload(self) -> dict[str, Any]:
        """The ledger row's payload: everything a later attempt needs."""
        return {
            "digest": {
                "id": self.id,
                "subscription": self.subscription_id,
                "channel": self.channel,
                "slot": self.slot.isoformat(),
                "zone": str(self.slot.tzinfo),
                "since": self.since.isoformat() if self.since else None,
                "after_position": self.after_position,
                "through_position": self.through_position,
                "detections": [d.model_dump(mode="json") for d in self.detections],
                "silenced": self.silenced,
                "folded": {k: list(v) for k, v in self.folded.items()},
                **({"subscriptions": list(self.subscriptions)} if self.subscriptions else {}),
                **({"via": {k: list(v) for k, v in self.via.items()}} if self.via else {}),
                **({"stories": {k: list(v) for k, v in self.stories.items()}} if self.stories else {}),
                **self._throttle_json(),
            }
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any] | None) -> Digest | None:
        """The digest of a ledger payload, or None when it holds none. Raises ValueError when unreadable."""
        d = (data or {}).get("digest")
        if not isinstance(d, dict):
            return None
        try:
            zone = ZoneInfo(str(d.get("zone") or "UTC"))
            since = d.get("since")
            return cls(
                id=str(d["id"]),
                subscription_id=str(d["subscription"]),
                channel=str(d["channel"]),
                slot=datetime.fromisoformat(d["slot"]).astimezone(zone),
                since=datetime.fromisoformat(since).astimezone(zone) if since else None,
                after_position=int(d["after_position"]),
                through_position=int(d["through_position"]),
                detections=tuple(Detection.model_validate(x) for x in d.get("detections") or ()),
                silenced=int(d.get("silenced") or 0),
                # (absent from digests planned before stories were folded)
                folded={str(k): tuple(map(str, v)) for k, v in (d.get("folded") or {}).items()},
                throttle=str(d.get("throttle") or ""),
                withdrawn=int(d.get("withdrawn") or 0),
                revised=int(d.get("revised") or 0),
                revised_listed=int(d.get("revised_listed") or 0),
                withdrawn_earlier=tuple(
                    (str(x["id"]), str(x.get("title") or ""), str(x.get("reason") or ""))
                    for x in d.get("withdrawn_earlier") or ()
                ),
                subscriptions=tuple(map(str, d.get("subscriptions") or ())),
                via={str(k): tuple(map(str, v)) for k, v in (d.get("via") or {}).items()},
                stories={str(k): (str(v[0]), str(v[1])) for k, v in (d.get("stories") or {}).items()},
            )
        except (KeyError, TypeError, ValueError) as e:  # pydantic's ValidationError is a ValueError
            raise ValueError(f"unreadable digest payload: {e}") from None


__all__ = [
    "KINDS",
    "AlertCatalog",
    "Digest",
    "DigestLine",
    "EarlierStory",
    "Kind",
    "LaterAlerts",
    "Notice",
    "Revisions",
    "ThreadView",
    "alert_of",
    "as_listed",
    "as_notice",
    "cited",
    "earlier_story",
    "earlier_text",
    "escalation",
    "independent_sources",
    "later_alerts",
    "later_text",
    "newest_standing",
    "payload",
    "revision_chain",
    "standing_alerts",
    "standing_for",
    "stands",
    "story_period",
    "thread_key",
    "thread_of",
    "withdrawn_unsent",
]


def _report_json(report: Evidence | None) -> dict[str, Any]:
    """A listed alert's report in the file and webhook channels' JSON (nothing when the digest kept none)."""
    return {} if report is None else {"source": report.source, "url": report.url}


def _counted(n: int, one: str, many: str | None = None) -> str:
    """`n` and its noun as said ("1 alert", "2 alerts"): cli._common.counted, which alerts/ may not import."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def notice_of(alert: Alert, channel: str = "", group_label: str = "") -> Notice:
    """The notice of a new alert of its own (no thread), e.g. for a one-off send."""
    return Notice(key=alert.id, kind="alert", alert=alert, channel=channel, group_label=group_label)


def as_notice(what: Notice | Alert) -> Notice:
    """Notifiers also take a bare alert (callers from before notices): it is a new alert of its own."""
    return what if isinstance(what, Notice) else notice_of(what, what.channels[0] if what.channels else "")
