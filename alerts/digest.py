"""Digests: a subscription with `digest: daily 08:00 Europe/London` gets one message per scheduled time listing
the matching detections raised since its previous digest, instead of one message per alert.

A digest is a delivery like any other. When its slot has come, the dispatcher's cycle (`run`, `notify` and
`worker --dispatch` alike) fixes its contents and enqueues it in the delivery ledger (kind `digest`) under a
deterministic key (subscription + slot), insert-if-absent: whichever process gets there first decides it, and
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
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from watchfloor.schemas.control import DigestSchedule, SubscriptionCreated
from watchfloor.schemas.events import SEVERITY_RANK, Detection, EventType, stable_id
from watchfloor.stream_processors.ports import DeliveryRecord, Store

from .control import ControlLog, as_subscription
from .notice import DIGEST_KIND, Digest, as_listed, thread_key
from .routing import Spellings, matches, silenced_by

log = logging.getLogger(__name__)


def digest_id(subscription_id: str, slot: datetime) -> str:
    """The delivery key of a subscription's digest for one slot (the same in every process)."""
    return "dig-" + stable_id("digest", subscription_id, slot.isoformat(), length=16)


def digest_thread(subscription_id: str) -> str:
    """The ledger's thread key of a subscription's digests: how the previous one is found."""
    return f"{DIGEST_KIND}\x1f{subscription_id}"


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
    ) -> None:
        self.store = store
        self.control = control
        # The story of the detection at a log position (the dispatcher's StoryBook: the one its channels' threads
        # follow); without it, a rule and group is one story.
        self.story_of = story_of
        self.entity_names = dict(entity_names or {})
        self.spellings = Spellings(self.entity_names, entity_aliases)

    def plan(self, now: datetime, created_at: float) -> list[DeliveryRecord]:
        """Ledger rows for the digests whose slot has come and that no process has planned yet."""
        rows = []
        for sub in self.control.subscriptions():
            if sub.digest is None:
                continue
            try:
                row = self._plan(sub, now, created_at)
            except ValueError as e:  # a digest spec this version cannot read: the others go on
                log.warning("digest: subscription %s: %s", sub.id, e)
                continue
            if row is not None:
                rows.append(row)
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

    def _plan(self, sub: SubscriptionCreated, now: datetime, created_at: float) -> DeliveryRecord | None:
        sched = DigestSchedule.parse(sub.digest or "")
        slot = sched.last_slot(now)
        if slot < sub.at:
            return None  # the first slot after subscribing has not come yet
        key = digest_id(sub.id, slot)
        if self.store.delivery_status(key, sub.channel) is not None:
            return None  # planned already (by us or another process): its row decides
        state = self.control.refresh()
        earlier = self._previous(sub, slot)
        legacy = state.digests.get(sub.id)  # digests recorded by versions that kept them outside the ledger
        if legacy is not None and legacy.slot >= slot:
            return None
        after = state.created_at_position.get(sub.id, 0)
        since = None
        if earlier is not None:
            after, since = earlier.through_position, earlier.slot
        if legacy is not None and legacy.through_position > after:
            after, since = legacy.through_position, legacy.slot
        through = self.store.head()
        detections, silenced, folded, withdrawn, earlier_gone = self._detections(sub, after, through, now)
        zone = ZoneInfo(sched.zone)
        digest = Digest(
            id=key,
            subscription_id=sub.id,
            channel=sub.channel,
            slot=slot,
            since=since.astimezone(zone) if since else None,
            after_position=after,
            through_position=through,
            detections=tuple(detections),
            silenced=silenced,
            folded=folded,
            withdrawn=withdrawn,
            withdrawn_earlier=earlier_gone,
        )
        log.info("digest %s -> %s due: %d alert(s)", key, sub.channel, len(detections))
        return DeliveryRecord(
            key,
            sub.channel,
            kind=DIGEST_KIND,
            payload=digest.to_payload(),
            thread_key=digest_thread(sub.id),
            seq=through,
            created_at=created_at,
        )

    def _previous(self, sub: SubscriptionCreated, slot: datetime) -> Digest | None:
        """The latest digest of `sub` before `slot` in the ledger, whatever its delivery status."""
        best: Digest | None = None
        for row in self.store.deliveries(channel=sub.channel, thread_key=digest_thread(sub.id)):
            try:
                d = Digest.from_payload(row.payload)
            except ValueError:
                continue
            if d is not None and d.slot < slot and (best is None or d.slot > best.slot):
                best = d
        return best

    def _detections(
        self, sub: SubscriptionCreated, after: int, through: int, now: datetime
    ) -> tuple[list[Detection], int, dict[str, tuple[str, ...]], int, tuple[tuple[str, str, str], ...]]:
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
        withdrawn since (id, what its line said, why)."""
        routing = as_subscription(sub).model_copy(update={"digest": None})
        silences = self.control.silences(include_ended=True)  # (each with its early end, if it was ended early)
        stories: dict[str, list[Detection]] = {}  # story -> its alerts that stand, in log order
        told: dict[str, list[str]] = {}  # story -> the ids of its alerts, in log order
        story_of_id: dict[str, str] = {}  # alert id -> its story, while it stands
        gone_ids: set[str] = set()
        gone_before: dict[str, str] = {}  # alert id -> why: withdrawn now, raised before `after`
        silenced = withdrawn = 0
        position = after
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
                if not matches(routing, det, self.spellings):
                    continue
                if silenced_by(det, sub.channel, silences, se.event.received_at or now) is not None:
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
                story_of_id[det.id] = story
            position = got[-1].position
        # A story's state: its newest alert that stands, in event time (a late report's revision of an earlier alert
        # does not stand for a later follow-up), the later in the log on a tie.
        latest = {story: max(reversed(standing), key=_fired) for story, standing in stories.items() if standing}
        out = sorted(latest.values(), key=lambda d: (-SEVERITY_RANK.get(d.severity, 0), d.fired_at))
        folded: dict[str, tuple[str, ...]] = {}
        for story, shown in latest.items():
            kept = tuple(dict.fromkeys(i for i in told.get(story, ()) if i != shown.id and i not in gone_ids))
            if kept:
                folded[shown.id] = kept
        said = self._told_before(sub, set(gone_before)) if gone_before else {}
        earlier = tuple((i, said[i], gone_before[i]) for i in gone_before if i in said)
        return out, silenced, folded, withdrawn, earlier

    def _told_before(self, sub: SubscriptionCreated, ids: set[str]) -> dict[str, str]:
        """Of `ids`, those an earlier digest of `sub` sent to its channel told of -> what its line said of them."""
        told: dict[str, str] = {}
        for row in self.store.deliveries(channel=sub.channel, thread_key=digest_thread(sub.id)):
            if row.status != "sent":
                continue
            try:
                d = Digest.from_payload(row.payload)
            except ValueError:
                continue
            if d is None:
                continue
            for det in d.detections:
                what = f"{det.title or det.rule} ({det.rule})"
                for i in (det.id, *d.folded.get(det.id, ())):
                    if i in ids:
                        told[i] = what
        return told


def _fired(det: Detection) -> datetime:
    return det.fired_at
