"""Digests: a subscription with `digest: daily 08:00 Europe/London` gets one message per scheduled time listing
the matching detections raised since its previous digest, instead of one message per alert.

A channel's digest subscriptions due at one instant are one digest: it lists each alert once, whichever of them
match it (and says which, `via`), each subscription's part taken up after its own previous digest. Subscriptions
due at different instants are different slots, each listing what is new since its own previous one.

A digest is a delivery like any other. When its slot has come, the dispatcher's cycle (`run`, `notify` and
`worker --dispatch` alike) fixes its contents and enqueues it in the delivery ledger (kind `digest`) under a
deterministic key (channel + slot), insert-if-absent: whichever process gets there first decides it, and
from then on it is claimed with a lease, sent, looked for in the channel after an attempt that may have got
through, retried on the backoff, expired after the maximum age and redelivered exactly as alerts are
(alerts.delivery). "Since the previous digest" is by log position: a digest covers the detections appended
after the previous digest's last position (or after the subscription was made) up to the log's head when its
slot was planned, so none is listed twice or skipped, whatever became of the previous one's delivery. The
clock is injected; the schedule is tested with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
from pydantic import ValidationError

from watchfloor.schemas.control import DigestSchedule, SubscriptionCreated
from watchfloor.schemas.events import SEVERITY_RANK, Detection, EventType, stable_id
from watchfloor.stream_processors.ports import DeliveryRecord, Store

from .control import ControlLog, as_subscription
from .notice import DIGEST_KIND, AlertCatalog, Digest, alert_of, as_listed, story_root_of, thread_key
from .routing import Spellings, matches, silenced_by

log = logging.getLogger(__name__)


def digest_id(channel: str, slot: datetime) -> str:
    """The delivery key of a channel's digest for one slot (the same in every process, whichever of the channel's
    subscriptions it lists: one message per channel and slot)."""
    return "dig-" + stable_id("digest", "channel", channel, slot.astimezone(UTC).isoformat(), length=16)


def subscription_digest_id(subscription_id: str, slot: datetime) -> str:
    """The key a subscription's digest for one slot had before a channel's digests of one slot were merged: looked
    for so a slot an older version planned is not planned again."""
    return "dig-" + stable_id("digest", subscription_id, slot.isoformat(), length=16)


MERGED_MARK_KIND = "digest-merged"  # a ledger row's kind: the mark a merged digest leaves under a pre-merge key


def _merged_marks(row: DeliveryRecord, subscriptions: list[tuple[str, datetime]]) -> list[DeliveryRecord]:
    """For a channel's digest of one slot, a row settled `suppressed` under each listed subscription's key of that
    slot from before digests were merged (`subscription_digest_id`, its thread and the same payload), enqueued with
    it: a process of a release before, still running on the store during a rolling upgrade (or started again for a
    rollback), plans a subscription's digest only when that key is absent, so it finds the slot planned and posts
    nothing (outside trial 73, F2: the old release's two digests and the new one's, three messages for one slot).
    Its `_previous` reads the mark's payload: its next digest takes up after this one."""
    return [
        DeliveryRecord(
            subscription_digest_id(sid, slot),
            row.channel,
            status="suppressed",
            kind=MERGED_MARK_KIND,  # (not a digest: never listed, claimed or counted as one)
            payload=row.payload,
            thread_key=digest_thread(sid),
            seq=row.seq,
            created_at=row.created_at,
            detail=f"merged into the channel's digest {row.alert_id} of this slot (one per channel and slot)",
        )
        for sid, slot in subscriptions
    ]


def digest_thread(subscription_id: str) -> str:
    """The ledger's thread key of a subscription's digests before they were merged per channel (still read)."""
    return f"{DIGEST_KIND}\x1f{subscription_id}"


def channel_digest_thread(channel: str) -> str:
    """The ledger's thread key of a channel's digests: how the previous one of each subscription is found."""
    return f"{DIGEST_KIND}\x1fchannel\x1f{channel}"


def subscription_label(sub: SubscriptionCreated) -> str:
    """A short plain name of what a subscription asks for (`tag sanctions`, `high and above`), for a merged digest's
    line to say under which of the channel's subscriptions the alert came."""
    parts = []
    if sub.rules and tuple(sub.rules) != ("*",):
        parts.append(("rule " if len(sub.rules) == 1 else "rules ") + ", ".join(sub.rules))
    if sub.tags:
        parts.append(("tag " if len(sub.tags) == 1 else "tags ") + ", ".join(sub.tags))
    if sub.min_severity != "low":
        parts.append(f"{sub.min_severity} and above")
    parts += [f"{k}={'|'.join(v)}" for k, v in sorted(sub.where.items())]
    return " ".join(parts) or "all alerts"


@dataclass(frozen=True)
class _Span:
    """One subscription's part of a channel's digest: what it matches, and the log position it takes up after."""

    sub: SubscriptionCreated
    after: int
    since: datetime | None


def next_slot(schedule: DigestSchedule, now: datetime) -> datetime:
    """The first scheduled time after `now` (aware)."""
    last = schedule.last_slot(now)
    day = (last + timedelta(days=1)).date()  # the next calendar day in local time, whatever its length
    return datetime(day.year, day.month, day.day, schedule.hour, schedule.minute, tzinfo=ZoneInfo(schedule.zone))


class DigestPlanner:
    """Works out which digests are due and what they list; the dispatcher enqueues them in the ledger."""

    def __init__(
        self,
        store: Store,
        control: ControlLog,
        *,
        entity_names: Mapping[str, str] | None = None,
        entity_aliases: Mapping[str, tuple[str, ...]] | None = None,
        story_of: Callable[[int, Detection], str] | None = None,
        catalog: AlertCatalog | None = None,
    ) -> None:
        self.store = store
        self.control = control
        # The rules' `thread_by` and open periods: a story of several groups is listed together, as Slack threads it.
        self.catalog = catalog if catalog is not None else AlertCatalog()
        # The story of the detection at a log position (the dispatcher's StoryBook: the one its channels' threads
        # follow); without it, a rule and group is one story.
        self.story_of = story_of
        self.entity_names = dict(entity_names or {})
        self.spellings = Spellings(self.entity_names, entity_aliases)

    def plan(self, now: datetime, created_at: float) -> list[DeliveryRecord]:
        """Ledger rows for the digests whose slot has come and that no process has planned yet: one per channel and
        slot, listing once each alert any of the channel's digest subscriptions of that slot matches."""
        slots: dict[tuple[str, datetime], list[tuple[SubscriptionCreated, datetime]]] = {}
        for sub in self.control.subscriptions():
            if sub.digest is None:
                continue
            try:
                slot = DigestSchedule.parse(sub.digest).last_slot(now)
            except ValueError as e:  # a digest spec this version cannot read: the others go on
                log.warning("digest: subscription %s: %s", sub.id, e)
                continue
            if slot < sub.at:
                continue  # the first slot after subscribing has not come yet
            # One slot is one instant: `daily 08:00 Europe/London` and `daily 08:00 UTC` share it in winter only.
            slots.setdefault((sub.channel, slot.astimezone(UTC)), []).append((sub, slot))
        rows = []
        for (channel, _), members in slots.items():
            rows.extend(self._plan(channel, members, now, created_at))
        return rows

    def next_at(self, now: datetime) -> datetime | None:
        """When the next digest slot of any subscription comes (for the live loops' timers)."""
        times = []
        for sub in self.control.subscriptions():
            if sub.digest is not None:
                try:
                    times.append(next_slot(DigestSchedule.parse(sub.digest), now))
                except ValueError:
                    continue
        return min(times) if times else None

    def _plan(
        self, channel: str, members: list[tuple[SubscriptionCreated, datetime]], now: datetime, created_at: float
    ) -> list[DeliveryRecord]:
        """The channel's digest of one slot, and a settled row under each of its subscriptions' keys from before
        digests were merged (`_merged_marks`); nothing when it is planned already or lists no subscription."""
        slot = members[0][1]  # (in the zone of the channel's first such subscription)
        key = digest_id(channel, slot)
        if self.store.delivery_status(key, channel) is not None:
            return []  # planned already (by us or another process): its row decides
        state = self.control.refresh()
        spans = []
        for sub, _ in members:
            if self.store.delivery_status(subscription_digest_id(sub.id, slot), channel) is not None:
                continue  # this slot of it was planned on its own by a version before merged digests
            legacy = state.digests.get(sub.id)  # digests recorded by versions that kept them outside the ledger
            if legacy is not None and legacy.slot >= slot:
                continue
            earlier = self._previous(sub, slot)
            after = state.created_at_position.get(sub.id, 0)
            since = None
            if earlier is not None:
                after, since = earlier.through_position, earlier.slot
            if legacy is not None and legacy.through_position > after:
                after, since = legacy.through_position, legacy.slot
            spans.append(_Span(sub, after, since))
        if not spans:
            return []
        through = self.store.head()
        detections, silenced, folded, withdrawn, earlier_gone, via, stories = self._detections(spans, through, now)
        zone = ZoneInfo(str(slot.tzinfo))
        sinces = [s.since for s in spans]
        since = None if None in sinces else min(x for x in sinces if x is not None)
        digest = Digest(
            id=key,
            subscription_id=spans[0].sub.id,
            subscriptions=tuple(s.sub.id for s in spans),
            channel=channel,
            slot=slot,
            since=since.astimezone(zone) if since else None,
            after_position=min(s.after for s in spans),
            through_position=through,
            detections=tuple(detections),
            silenced=silenced,
            folded=folded,
            withdrawn=withdrawn,
            withdrawn_earlier=earlier_gone,
            via=via if len(spans) > 1 else {},
            stories=stories,
        )
        log.info("digest %s -> %s due: %d alert(s)", key, channel, len(detections))
        payload = digest.to_payload()
        row = DeliveryRecord(
            key,
            channel,
            kind=DIGEST_KIND,
            payload=payload,
            thread_key=channel_digest_thread(channel),
            seq=through,
            created_at=created_at,
        )
        slots = {sub.id: at for sub, at in members}
        return [row, *_merged_marks(row, [(s.sub.id, slots[s.sub.id]) for s in spans])]

    def _digests_of(self, channel: str, subscription_ids: set[str]) -> list[tuple[DeliveryRecord, Digest]]:
        """The channel's digests in the ledger that listed any of `subscription_ids` (merged or, from versions
        before, a subscription's own)."""
        rows = [*self.store.deliveries(channel=channel, thread_key=channel_digest_thread(channel))]
        for sid in sorted(subscription_ids):
            rows += self.store.deliveries(channel=channel, thread_key=digest_thread(sid))
        out = []
        for row in rows:
            try:
                d = Digest.from_payload(row.payload)
            except ValueError:
                continue
            if d is not None and subscription_ids & set(d.subscription_ids):
                out.append((row, d))
        return out

    def _previous(self, sub: SubscriptionCreated, slot: datetime) -> Digest | None:
        """The latest digest listing `sub` before `slot` in the ledger, whatever its delivery status."""
        best: Digest | None = None
        for _, d in self._digests_of(sub.channel, {sub.id}):
            if d.slot < slot and (best is None or d.slot > best.slot):
                best = d
        return best

    def _detections(
        self, spans: list[_Span], through: int, now: datetime
    ) -> tuple[
        list[Detection],
        int,
        dict[str, tuple[str, ...]],
        int,
        tuple[tuple[str, str, str], ...],
        dict[str, tuple[str, ...]],
        dict[str, tuple[str, str]],
    ]:
        """The matching detections not silenced, one per story (`story_of`: the story its channels' threads
        follow): the newest that still stands stands for the earlier ones of its story (a follow-up after its first
        alert, a revision after what it revised), whose ids it lists in `folded`, so a digest never lists one story
        twice at two severities, nor two stories of a rule and group as one. An alert withdrawn before the digest is
        not listed, nor counted as stood for: it is counted apart (outside trial 26, F1: a withdrawn HIGH was listed as
        the story's state). A silence holds an alert back when it was in force as the alert was raised (its
        `received_at`: when what raised it was received, which every runtime stamps; else, for a detection recorded
        before that, now), as it does for a channel that takes each alert as it comes, not when the digest is made
        (outside trial 26, F2). Sorted by severity, then time;
        also returns how many were silenced, how many withdrawn, and the alerts an earlier digest told of that were
        withdrawn since (id, what its line said, why), and, per listed alert, the labels of the subscriptions
        (`spans`: each matches what follows its own previous digest) it came under, the folded ones' too, and the
        story of several groups (thread_by) it is listed in (`thread_stories`)."""
        channel = spans[0].sub.channel
        routings = [(s, as_subscription(s.sub).model_copy(update={"digest": None})) for s in spans]
        came_under: dict[str, list[str]] = {}  # alert id -> the subscriptions it matched
        silences = self.control.silences(include_ended=True)  # (each with its early end, if it was ended early)
        stories: dict[str, list[Detection]] = {}  # story -> its alerts that stand, in log order
        told: dict[str, list[str]] = {}  # story -> the ids of its alerts, in log order
        story_of_id: dict[str, str] = {}  # alert id -> its story, while it stands
        gone_ids: set[str] = set()
        gone_before: dict[str, str] = {}  # alert id -> why: withdrawn now, raised before `after`
        silenced = withdrawn = 0
        position = min(s.after for s in spans)
        types = {EventType.DETECTION.value, EventType.RETRACTION.value}
        while position < through:
            got = self.store.read(position, types=types, limit=1000)
            got = [se for se in got if se.position <= through]
            if not got:
                break
            for se in got:
                if se.event.type == EventType.RETRACTION.value:
                    gone = str(se.event.payload.get("alert_id") or "")
                    story = story_of_id.pop(gone, None)
                    if story is not None:  # listed so far: withdrawn before the digest was made
                        stories[story] = [d for d in stories[story] if d.id != gone]
                        gone_ids.add(gone)
                        withdrawn += 1
                    else:  # raised before this digest's span: an earlier digest may have told of it
                        gone_before.setdefault(gone, str(se.event.payload.get("reason") or "withdrawn"))
                    continue
                try:
                    det = Detection.model_validate(se.event.payload)
                except ValidationError:
                    continue  # the dispatcher's intake dead-letters these
                under = [
                    subscription_label(s.sub)
                    for s, routing in routings
                    if se.position > s.after and matches(routing, det, self.spellings)
                ]
                if not under:
                    continue
                if silenced_by(det, channel, silences, se.event.received_at or now) is not None:
                    silenced += 1
                    continue
                story = self.story_of(se.position, det) if self.story_of else thread_key(det.rule, det.group)
                standing = stories.setdefault(story, [])
                listed = as_listed(det, self.entity_names)  # (the ledger keeps what the message lists)
                at = next((i for i, d in enumerate(standing) if d.id == det.revises), None)
                if at is not None:  # a revision: in the place of what it revises
                    story_of_id.pop(standing[at].id, None)
                    standing[at] = listed
                else:
                    standing.append(listed)
                told.setdefault(story, []).append(det.id)
                came_under[det.id] = under
                story_of_id[det.id] = story
            position = got[-1].position
        # A story's state: its newest alert that stands, in event time (a late report's revision of an earlier alert
        # does not stand for a later follow-up), the later in the log on a tie.
        latest = {story: max(reversed(standing), key=_fired) for story, standing in stories.items() if standing}
        out = sorted(latest.values(), key=lambda d: (-SEVERITY_RANK.get(d.severity, 0), d.fired_at))
        spans_of = {
            shown.id: (min(map(_fired, stories[story])), shown.fired_at, told.get(story, [shown.id])[0])
            for story, shown in latest.items()
        }
        told_in = self._threads(channel, set(latest))
        threads = {shown.id: told_in[story] for story, shown in latest.items() if story in told_in}
        out, in_story = thread_stories(out, spans_of, self.catalog, threads)
        folded: dict[str, tuple[str, ...]] = {}
        for story, shown in latest.items():
            kept = tuple(dict.fromkeys(i for i in told.get(story, ()) if i != shown.id and i not in gone_ids))
            if kept:
                folded[shown.id] = kept
        via = {
            shown.id: tuple(dict.fromkeys(x for i in told.get(story, ()) for x in came_under.get(i, ())))
            for story, shown in latest.items()
        }
        said = self._told_before(channel, {s.sub.id for s in spans}, set(gone_before)) if gone_before else {}
        earlier = tuple((i, said[i], gone_before[i]) for i in gone_before if i in said)
        return out, silenced, folded, withdrawn, earlier, via, in_story

    def _threads(self, channel: str, firsts: set[str]) -> dict[str, tuple[str, str, str]]:
        """Of the stories `firsts` (the delivery keys of their first detections, as `story_of` names them), those whose
        first alert `channel` was sent -> that alert's id, and the id and group label of the first alert of the thread
        its message is in, from the channel's rows (outside trial 79, F6: a digest made after `thread_by` changed
        re-cut the stories the channel had threaded under the old setting)."""
        if not firsts:
            return {}
        rows = {r.alert_id: r for r in self.store.deliveries(alert_ids=firsts, channel=channel) if r.kind == "alert"}
        roots = {k: story_root_of(r) or k for k, r in rows.items() if r.status == "sent"}
        missing = set(roots.values()) - set(rows)
        if missing:
            rows.update({r.alert_id: r for r in self.store.deliveries(alert_ids=missing, channel=channel)})
        out: dict[str, tuple[str, str, str]] = {}
        for first, root in roots.items():
            own = alert_of(rows[first].payload)
            told = alert_of(rows[root].payload) if root in rows else None
            if own is not None and told is not None:
                names = (self.entity_names.get(v, v) for v in told.detection.group.values())
                out[first] = (own.id, told.id, ", ".join(names))
        return out

    def _told_before(self, channel: str, subscription_ids: set[str], ids: set[str]) -> dict[str, str]:
        """Of `ids`, those an earlier digest of the subscriptions sent to `channel` told of -> what its line said."""
        told: dict[str, str] = {}
        for row, d in self._digests_of(channel, subscription_ids):
            if row.status != "sent":
                continue
            for det in d.detections:
                what = f"{det.title or det.rule} ({det.rule})"
                for i in (det.id, *d.folded.get(det.id, ())):
                    if i in ids:
                        told[i] = what
        return told


def _fired(det: Detection) -> datetime:
    return det.fired_at


def thread_stories(
    listed: list[Detection],
    spans: Mapping[str, tuple[datetime, datetime, str]],
    catalog: AlertCatalog,
    threads: Mapping[str, tuple[str, str, str]] | None = None,
) -> tuple[list[Detection], dict[str, tuple[str, str]]]:
    """A digest's lines (`listed`, one per story of a rule and group, by severity) with those of one story of several
    groups (a rule's `thread_by`: the groups sharing its values, each within its rule's open period of the story's
    alerts before it) together, as Slack threads them (outside trial 74, F2: the Niger sanctions thread was seven
    "stories" scattered by severity): at the place of its most severe line, in event time, the story's first alert
    first. `spans`: listed id -> (its story's first fired time, its own, its story's first alert id). Also returns,
    per line of such a story, the story's first alert and group label (what the line names it by). `threads`: a
    listed id -> its story's first alert id and the first alert (id, group label) of the thread its channel told it
    in: those are grouped as the channel threads them, whatever the rule's `thread_by` is now
    (DigestPlanner._threads)."""
    threads = threads or {}
    clusters: dict[str, list[Detection]] = {}  # the first listed id of a cluster -> its lines
    cluster_of: dict[str, str] = {}
    by_values: dict[tuple[str, str], list[Detection]] = {}
    by_thread: dict[str, list[Detection]] = {}
    for d in listed:
        thread = threads.get(d.id)
        if thread is not None:
            by_thread.setdefault(thread[1], []).append(d)
            continue
        keys = catalog.thread_by.get(d.rule)
        if keys is not None:
            values = orjson.dumps({k: d.group.get(k) for k in sorted(keys)}).decode()
            by_values.setdefault((d.rule, values), []).append(d)
    for (rule, _), members in by_values.items():
        period = catalog.open_period(rule)
        members.sort(key=lambda d: (spans[d.id][0], d.fired_at))
        lead: str | None = None
        end: datetime | None = None
        for d in members:
            start, last, _ = spans[d.id]
            if lead is None or end is None or start > end + period:
                lead, end = d.id, last
                clusters[lead] = []
            clusters[lead].append(d)
            cluster_of[d.id] = lead
            end = max(end, last)
    for members in by_thread.values():
        members.sort(key=lambda d: (spans[d.id][0], d.fired_at))
        clusters[members[0].id] = members
        cluster_of.update((d.id, members[0].id) for d in members)
    out: list[Detection] = []
    named: dict[str, tuple[str, str]] = {}
    done: set[str] = set()
    for d in listed:
        lead = cluster_of.get(d.id)
        if lead is None:
            out.append(d)
            continue
        if lead in done:
            continue
        done.add(lead)
        lines = clusters[lead]
        out.extend(lines)
        first = lines[0]
        thread = threads.get(first.id)
        name = (thread[1], thread[2]) if thread else (spans[first.id][2], ", ".join(first.group.values()))
        # (one line alone: named when the channel told it in another group's thread, outside trial 79, F3: a
        # follow-up replying in that story's thread was listed as a story of its own)
        if len(lines) > 1 or (thread is not None and thread[0] != thread[1]):
            for x in lines:
                named[x.id] = name
    return out, named
